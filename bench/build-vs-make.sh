#!/usr/bin/env bash
# Full build of 200 assets of 256²: `kiln build --jobs 2` against `make -j2` of 200 separate
# `kiln run` processes (issue 13's second number; goal: kiln build >= 1.5x faster).
#
#   bench/build-vs-make.sh                  builds kiln in release mode, prints a Markdown table
#   KILN=path/to/kiln bench/build-vs-make.sh   uses that binary instead (no build)
#   ASSETS=50 bench/build-vs-make.sh        fewer assets
#
# Both sides start from nothing (no cache, no outputs) and write the same 200 PNGs; the script
# checks that the outputs are byte-identical. Needs GNU make.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/.." && pwd)"
assets="${ASSETS:-200}"
if [[ -z "${KILN:-}" ]]; then
    (cd "$repo" && cargo build --release --quiet)
    KILN="${CARGO_TARGET_DIR:-$repo/target}/release/kiln"
fi
command -v make >/dev/null || { echo "bench/build-vs-make.sh needs GNU make" >&2; exit 2; }
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

write_project() {
    mkdir -p "$1"
    cat > "$1/tile.rhai" <<'RHAI'
let v = param("v", 0);
let n = noise_image(256, 256, #{ kind: "gaussian", sigma: 0.2 });
n.blur(1.5).brightness(0.8 + v / 1000.0)
RHAI
    {
        printf '[[asset]]\nscript = "tile.rhai"\nout = "out/tile-{v}.png"\nmatrix = { v = ['
        seq -s ', ' 0 $((assets - 1))
        printf '] }\n'
    } > "$1/kiln.toml"
    {
        printf 'KILN := %s\nall:' "$KILN"
        for i in $(seq 0 $((assets - 1))); do printf ' out/tile-%d.png' "$i"; done
        printf '\nout/tile-%%.png: tile.rhai\n\t@mkdir -p out\n\t@$(KILN) run tile.rhai --set v=$* -o $@\n'
    } > "$1/Makefile"
}

seconds() { local start end; start=$(date +%s.%N); "$@" >/dev/null; end=$(date +%s.%N); echo "$end - $start" | bc; }

write_project "$scratch/build"
write_project "$scratch/make"
t_build=$(cd "$scratch/build" && seconds "$KILN" build --jobs 2)
t_make=$(cd "$scratch/make" && seconds make -j2)
t_noop=$(cd "$scratch/build" && seconds "$KILN" build --jobs 2)
t_make_noop=$(cd "$scratch/make" && seconds make -j2)
if ! diff -rq "$scratch/build/out" "$scratch/make/out" >/dev/null; then
    echo "outputs differ between kiln build and make + kiln run" >&2
    exit 1
fi
ratio=$(echo "scale=2; $t_make / $t_build" | bc)
echo "| $assets assets of 256² | seconds |"
echo "|---|---|"
echo "| make -j2 of kiln run | $t_make |"
echo "| kiln build --jobs 2 | $t_build |"
echo "| speed-up | ${ratio}x (goal >= 1.5x) |"
echo "| no-op: make -j2 / kiln build | $t_make_noop / $t_noop |"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
