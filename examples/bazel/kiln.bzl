"""`kiln_texture`: bake an image with a kiln script in a Bazel action (a genrule).

Bazel needs every input of an action before it runs it, so the script's imports and the files
it loads are listed in `srcs`; `kiln deps SCRIPT` prints them. The command copies exactly those
files into a fresh folder and runs kiln there, which does two things:

- A forgotten import or image fails the build ("no such file") instead of being read from the
  source tree behind Bazel's back, with or without the sandbox.
- kiln refuses to follow a symbolic link out of the script's folder (a script may read only its
  own folder, --out and --allow-read), and Bazel's execroot and sandbox are forests of links into
  the source tree: run in place, every `import` would be refused.
"""

def kiln_texture(name, script, out, srcs = [], params = {}, seed = 0, **kwargs):
    """Bakes `out` from `script`.

    Args:
      name: the target name.
      script: the .rhai script, in this package.
      out: the image to write; its extension picks the format.
      srcs: every other file the script reads: imported modules, loaded images, models, fonts.
      params: `param()` values, passed as `--set name=value`.
      seed: the run's seed.
      **kwargs: passed to the genrule (visibility, tags, ...).
    """
    sets = " ".join(["--set '%s=%s'" % (k, v) for k, v in sorted(params.items())])
    native.genrule(
        name = name,
        srcs = [script] + srcs,
        outs = [out],
        tools = ["//tools:kiln"],
        cmd = " ".join([
            "T=$$(mktemp -d) &&",
            "for f in $(SRCS); do mkdir -p \"$$T/$$(dirname $$f)\" && cp -L \"$$f\" \"$$T/$$f\" || exit 1; done &&",
            "{ $(execpath //tools:kiln) run \"$$T/$(execpath %s)\" --seed %d %s --out \"$$T\" -o $@; rc=$$?; } ;" % (script, seed, sets),
            "rm -rf \"$$T\"; exit $$rc",
        ]),
        **kwargs
    )
