//! Depfiles end to end: `kiln run --depfile` under real Ninja (`deps = gcc`), and `kiln deps`
//! printing the same list. The Ninja test is skipped, with a note, where `ninja` is not
//! installed (CI installs Debian's `ninja-build`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use kiln::{Color, Image};

use crate::util::{expect_code, run_in, tempdir, text, write};

fn has_ninja() -> bool {
    Command::new("ninja").arg("--version").output().is_ok_and(|o| o.status.success())
}

fn ninja(dir: &Path, args: &[&str]) -> Output {
    // A fixed status prefix, so the lines parse the same under any user's NINJA_STATUS.
    let out =
        Command::new("ninja").current_dir(dir).env("NINJA_STATUS", "[%f/%t] ").args(args).output().expect("run ninja");
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "ninja {args:?} failed\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    out
}

/// The outputs ninja ran (or, with `-n`, would run) the kiln rule for, from its status lines.
fn built(out: &Output) -> BTreeSet<String> {
    let (stdout, _) = text(out);
    stdout.lines().filter_map(|l| l.split_once("] KILN ").map(|(_, target)| target.trim().to_string())).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn save_png(path: &Path, color: &str) {
    kiln::io::save(&Image::filled(4, 4, Color::parse(color).unwrap()).unwrap(), path, &Default::default()).unwrap();
}

/// Gives `path` an mtime later than every file under `out/`, waiting for the clock where the
/// filesystem keeps coarse times: Ninja rebuilds only for an input strictly newer than the output.
fn bump(dir: &Path, path: &Path) {
    let newest = std::fs::read_dir(dir.join("out"))
        .unwrap()
        .filter_map(|e| e.ok()?.metadata().ok()?.modified().ok())
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH);
    while SystemTime::now() <= newest + Duration::from_millis(1) {
        std::thread::sleep(Duration::from_millis(20));
    }
    std::fs::File::options().write(true).open(path).unwrap().set_modified(SystemTime::now()).unwrap();
}

/// Three assets: two import `lib/shapes.rhai`, one loads `tex.png`.
fn project(dir: &Path) {
    write(dir, "lib/shapes.rhai", "fn tile(c) { image(8, 8, c) }\n");
    write(dir, "a.rhai", "import \"lib/shapes\" as s;\ns::tile(\"red\")\n");
    write(dir, "b.rhai", "import \"lib/shapes\" as s;\ns::tile(\"blue\").invert()\n");
    write(dir, "c.rhai", "load(\"tex.png\").invert()\n");
    write(dir, "notes.txt", "not an input\n");
    save_png(&dir.join("tex.png"), "green");
    let kiln = env!("CARGO_BIN_EXE_kiln");
    write(
        dir,
        "build.ninja",
        &format!(
            "rule kiln\n  command = \"{kiln}\" run $in -o $out --depfile $out.d\n  depfile = $out.d\n  deps = gcc\n  \
             description = KILN $out\n\nbuild out/a.png: kiln a.rhai\nbuild out/b.png: kiln b.rhai\n\
             build out/c.png: kiln c.rhai\n"
        ),
    );
}

#[test]
fn ninja_rebuilds_exactly_the_assets_whose_inputs_changed() {
    if !has_ninja() {
        eprintln!("note: ninja is not installed; skipping the Ninja depfile test (apt-get install ninja-build)");
        return;
    }
    let dir = tempdir();
    let d = dir.path();
    project(d);

    // 1. The first build runs every asset.
    assert_eq!(built(&ninja(d, &[])), set(&["out/a.png", "out/b.png", "out/c.png"]));
    // Ninja took the depfiles into its log (and removed them, as `deps = gcc` does).
    let (deps, _) = text(&ninja(d, &["-t", "deps"]));
    let section = |target: &str| -> Vec<String> {
        let start = deps.find(&format!("{target}: #deps")).unwrap_or_else(|| panic!("{target} in\n{deps}"));
        deps[start..].lines().skip(1).take_while(|l| !l.trim().is_empty()).map(|l| l.trim().to_string()).collect()
    };
    assert_eq!(section("out/a.png"), ["a.rhai", "lib/shapes.rhai"]);
    assert_eq!(section("out/c.png"), ["c.rhai", "tex.png"]);

    // 2. Nothing to do afterwards.
    let dry = ninja(d, &["-n"]);
    assert!(text(&dry).0.contains("no work to do"), "{}", text(&dry).0);
    assert!(built(&dry).is_empty());

    // 3. Editing the imported module rebuilds exactly the two assets that import it.
    write(d, "lib/shapes.rhai", "fn tile(c) { image(8, 8, c).invert() }\n");
    bump(d, &d.join("lib/shapes.rhai"));
    assert_eq!(built(&ninja(d, &[])), set(&["out/a.png", "out/b.png"]));

    // 4. Changing the loaded image rebuilds the one asset that loads it.
    save_png(&d.join("tex.png"), "yellow");
    bump(d, &d.join("tex.png"));
    assert_eq!(built(&ninja(d, &[])), set(&["out/c.png"]));

    // 5. Touching a file no run read rebuilds nothing.
    bump(d, &d.join("notes.txt"));
    let last = ninja(d, &[]);
    assert!(built(&last).is_empty(), "{}", text(&last).0);
    assert!(text(&last).0.contains("no work to do"), "{}", text(&last).0);
}

#[test]
fn deps_prints_the_depfiles_list() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "lib/inner.rhai", "fn size() { 6 }\n");
    write(d, "lib/shapes.rhai", "import \"inner\" as i;\nfn tile() { image(i::size(), 4, \"red\") }\n");
    save_png(&d.join("my tex.png"), "green");
    let script =
        "import \"lib/shapes\" as s;\nprint(\"chatter\");\nlet t = load(\"my tex.png\");\nt.save(\"copy.png\");\n\
                  s::tile()\n";
    write(d, "wall.rhai", script);

    expect_code(&run_in(d, &["run", "wall.rhai", "-o", "out/wall.png", "--depfile", "out/wall.d"]), 0);
    let dep = std::fs::read_to_string(d.join("out/wall.d")).unwrap();
    // Transitive imports, the loaded image (its space escaped), relative to the current folder.
    assert_eq!(dep, "out/wall.png: \\\n  wall.rhai \\\n  lib/shapes.rhai \\\n  lib/inner.rhai \\\n  my\\ tex.png\n");

    let listed = run_in(d, &["deps", "wall.rhai"]);
    expect_code(&listed, 0);
    // The script's print() goes to stderr; stdout is only the list.
    assert_eq!(text(&listed).0, "wall.rhai\nlib/shapes.rhai\nlib/inner.rhai\nmy tex.png\n");
    assert!(text(&listed).1.contains("chatter"));

    // `deps` runs the script but writes none of its saves into the project.
    std::fs::remove_file(d.join("copy.png")).unwrap();
    expect_code(&run_in(d, &["deps", "wall.rhai"]), 0);
    assert!(!d.join("copy.png").exists());
}

#[test]
fn a_depfile_target_is_the_o_path_as_given_and_a_failed_run_keeps_the_old_one() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "s.rhai", "let n = param(\"n\", 4);\nif n < 0 { throw \"negative\" }\nimage(n, n, \"red\")\n");
    expect_code(&run_in(d, &["run", "./s.rhai", "-o", "./x/../out.png", "--depfile", "deps/out.d"]), 0);
    let before = std::fs::read_to_string(d.join("deps/out.d")).unwrap();
    assert_eq!(before, "./x/../out.png: \\\n  s.rhai\n");

    expect_code(&run_in(d, &["run", "s.rhai", "--set", "n=-1", "-o", "out.png", "--depfile", "deps/out.d"]), 1);
    assert_eq!(std::fs::read_to_string(d.join("deps/out.d")).unwrap(), before);

    // Without -o the files the script saved are the targets; with neither it is a usage error.
    write(d, "saves.rhai", "image(2, 2, \"red\").save(\"a b.png\");\nimage(2, 2, \"red\").save(\"sub/c.png\");\n");
    expect_code(&run_in(d, &["run", "saves.rhai", "--depfile", "saves.d"]), 0);
    assert_eq!(std::fs::read_to_string(d.join("saves.d")).unwrap(), "a\\ b.png sub/c.png: \\\n  saves.rhai\n");
    let err = expect_code(&run_in(d, &["run", "s.rhai", "--depfile", "none.d"]), 2);
    assert!(err.contains("--depfile none.d: the run wrote no file to name as its target"), "{err}");
    assert!(!d.join("none.d").exists());
}

#[test]
fn deps_reports_script_and_usage_errors_like_run() {
    let dir = tempdir();
    let d = dir.path();
    write(d, "s.rhai", "image(2, 2, \"red\")\n");
    let err = expect_code(&run_in(d, &["deps", "s.rhai", "--set", "size=3"]), 2);
    assert!(err.contains("--set size: the script has no param 'size'"), "{err}");
    write(d, "bad.rhai", "load(\"missing.png\")\n");
    let err = expect_code(&run_in(d, &["deps", "bad.rhai"]), 1);
    assert!(err.contains("bad.rhai:1:"), "{err}");
    expect_code(&run_in(d, &["deps", "nope.rhai"]), 2);
}

#[test]
fn the_list_of_an_animation_is_the_union_of_its_frames() {
    let dir = tempdir();
    let d = dir.path();
    save_png(&d.join("a.png"), "red");
    save_png(&d.join("b.png"), "blue");
    write(d, "anim.rhai", "load(if frame() == 0 { \"a.png\" } else { \"b.png\" })\n");
    let args = ["run", "anim.rhai", "--frames", "2", "-o", "f_##.png", "--depfile", "f.d"];
    expect_code(&run_in(d, &args), 0);
    // The pattern is the target as given, its `#` escaped for Make.
    assert_eq!(
        std::fs::read_to_string(d.join("f.d")).unwrap(),
        "f_\\#\\#.png: \\\n  anim.rhai \\\n  a.png \\\n  b.png\n"
    );
    let one = run_in(d, &["deps", "anim.rhai"]);
    assert_eq!(text(&one).0, "anim.rhai\na.png\n");
    let both = run_in(d, &["deps", "anim.rhai", "--frames", "2"]);
    assert_eq!(text(&both).0, "anim.rhai\na.png\nb.png\n");
}
