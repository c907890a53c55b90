//! The command line: exit codes, diagnostics, flags.

use crate::util::{expect_code, run_in, tempdir, text, write};

#[test]
fn run_writes_the_result_relative_to_the_current_folder() {
    let dir = tempdir();
    write(dir.path(), "s.rhai", "image(8, 4, \"orange\")");
    let out = run_in(dir.path(), &["run", "s.rhai", "-o", "sub/out.png"]);
    expect_code(&out, 0);
    let img = kiln::io::load(&dir.path().join("sub/out.png")).unwrap();
    assert_eq!(img.dimensions(), (8, 4));
    assert_eq!(img.get(0, 0).unwrap().to_rgba8(), [255, 165, 0, 255]);
}

#[test]
fn save_writes_into_the_out_folder() {
    let dir = tempdir();
    write(dir.path(), "s.rhai", "image(2, 2, \"red\").save(\"a/b.png\"); 1");
    expect_code(&run_in(dir.path(), &["run", "s.rhai", "--out", "outdir"]), 0);
    assert!(dir.path().join("outdir/a/b.png").is_file());
}

#[test]
fn script_errors_exit_1_with_file_line_col_and_a_caret() {
    let dir = tempdir();
    write(dir.path(), "bad.rhai", "let a = 1;\nlet img = image(10, 10);\nlet px = img.get(20, 3);\n");
    let err = expect_code(&run_in(dir.path(), &["run", "bad.rhai"]), 1);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "bad.rhai:3:14: get: pixel (20, 3) is outside the 10x10 image", "{err}");
    assert!(lines.iter().any(|l| l.ends_with("| let px = img.get(20, 3);")), "{err}");
    let caret = lines.iter().find(|l| l.trim_end().ends_with('^')).expect("caret line");
    assert_eq!(caret.find('^'), lines[2].find("get"), "caret under `get`:\n{err}");
}

#[test]
fn errors_inside_functions_show_the_call_chain() {
    let dir = tempdir();
    write(dir.path(), "chain.rhai", "fn inner(x) {\n    image(x, -1)\n}\nfn outer() { inner(3) }\nouter()\n");
    let err = expect_code(&run_in(dir.path(), &["run", "chain.rhai"]), 1);
    assert!(err.starts_with("chain.rhai:2:5: image: size must be at least 1x1"), "{err}");
    assert!(err.contains("in call to function 'inner' at chain.rhai:4:14"), "{err}");
    assert!(err.contains("in call to function 'outer' at chain.rhai:5:1"), "{err}");
}

#[test]
fn errors_inside_imported_modules_name_the_module_file() {
    let dir = tempdir();
    write(dir.path(), "lib/util.rhai", "fn make() {\n    image(0, 5)\n}\n");
    write(dir.path(), "main.rhai", "import \"lib/util\" as u;\nu::make()\n");
    let err = expect_code(&run_in(dir.path(), &["run", "main.rhai"]), 1);
    let first = err.lines().next().unwrap();
    assert!(first.contains("util.rhai:2:5: image: size must be at least 1x1"), "{err}");
    assert!(err.contains("|     image(0, 5)"), "{err}");
}

#[test]
fn syntax_errors_exit_1() {
    let dir = tempdir();
    write(dir.path(), "syn.rhai", "let x = (1 + ;\n");
    let err = expect_code(&run_in(dir.path(), &["run", "syn.rhai"]), 1);
    assert!(err.starts_with("syn.rhai:1:"), "{err}");
    assert!(err.contains("syntax error"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempdir();
    expect_code(&run_in(dir.path(), &["run"]), 2);
    expect_code(&run_in(dir.path(), &["run", "missing.rhai"]), 2);
    expect_code(&run_in(dir.path(), &["frobnicate"]), 2);
    write(dir.path(), "s.rhai", "1");
    expect_code(&run_in(dir.path(), &["run", "s.rhai", "--set", "novalue"]), 2);
    expect_code(&run_in(dir.path(), &["run", "s.rhai", "--timeout", "-1"]), 2);
}

#[test]
fn version_lists_compiled_features() {
    let out = run_in(&std::env::temp_dir(), &["--version"]);
    let (stdout, _) = text(&out);
    expect_code(&out, 0);
    assert!(stdout.contains("features:") && stdout.contains("script") && stdout.contains("cli"), "{stdout}");
}

#[test]
fn doc_prints_a_markdown_reference_with_examples() {
    let out = run_in(&std::env::temp_dir(), &["doc"]);
    expect_code(&out, 0);
    let (doc, _) = text(&out);
    assert!(doc.starts_with("# kiln script API"), "{}", &doc[..doc.len().min(200)]);
    for needle in ["## Images and colours", "### `image(", "```rhai", "### `param("] {
        assert!(doc.contains(needle), "kiln doc lacks {needle}");
    }
    // Rhai hands functions over in hash order; the reference must not follow it.
    let again = run_in(&std::env::temp_dir(), &["doc"]);
    assert!(text(&again).0 == doc, "kiln doc printed a different reference the second time");
}

#[test]
fn every_registered_function_has_a_doc_comment_with_an_example() {
    let missing = kiln::script::doc::undocumented();
    assert!(missing.is_empty(), "functions without a ```rhai example:\n{}", missing.join("\n"));
}

#[test]
fn params_are_typed_like_their_default() {
    let dir = tempdir();
    write(
        dir.path(),
        "p.rhai",
        "let n = param(\"n\", 3);\nlet f = param(\"f\", 0.5);\nlet b = param(\"b\", false);\nlet c = param(\"c\", \"hi\");\nprint(`${type_of(n)} ${n} ${type_of(f)} ${f} ${b} ${c}`);\n",
    );
    let out =
        run_in(dir.path(), &["run", "p.rhai", "--set", "n=7", "--set", "f=2", "--set", "b=true", "--set", "c=yo"]);
    expect_code(&out, 0);
    assert_eq!(text(&out).0.trim(), "i64 7 f64 2.0 true yo");
    let out = run_in(dir.path(), &["run", "p.rhai", "--set", "n=7.5"]);
    assert!(expect_code(&out, 1).contains("'n' expects a whole number"));
}

#[test]
fn seed_and_print_and_debug() {
    let dir = tempdir();
    write(dir.path(), "s.rhai", "print(seed());\ndebug(\"here\");\n");
    let out = run_in(dir.path(), &["run", "s.rhai", "--seed", "42"]);
    let err = expect_code(&out, 0);
    assert_eq!(text(&out).0.trim(), "42");
    assert!(err.contains("s.rhai:2:1: debug: \"here\""), "{err}");
}

#[test]
fn time_flag_prints_phases() {
    let dir = tempdir();
    write(dir.path(), "s.rhai", "image(4, 4)");
    let err = expect_code(&run_in(dir.path(), &["run", "s.rhai", "-o", "o.png", "--time"]), 0);
    for phase in ["compile", "run", "encode", "total"] {
        assert!(err.contains(phase), "{err}");
    }
}

#[test]
fn show_dir_writes_panels_and_arrays_write_numbered_files() {
    let dir = tempdir();
    write(dir.path(), "s.rhai", "show(image(2, 2, \"red\"), \"red one\");\n[image(2, 2), image(3, 3)]\n");
    expect_code(&run_in(dir.path(), &["run", "s.rhai", "--show-dir", "panels", "-o", "r_##.png"]), 0);
    assert!(dir.path().join("panels/00-red_one.png").is_file());
    assert!(dir.path().join("r_00.png").is_file() && dir.path().join("r_01.png").is_file());
}

#[test]
fn frames_render_numbered_files_and_gif_animations() {
    let dir = tempdir();
    write(dir.path(), "a.rhai", "image(4 + frame(), 4, \"blue\")");
    expect_code(&run_in(dir.path(), &["run", "a.rhai", "--frames", "3", "-o", "f_####.png"]), 0);
    let sizes: Vec<u32> =
        (0..3).map(|i| kiln::io::load(&dir.path().join(format!("f_{i:04}.png"))).unwrap().width()).collect();
    assert_eq!(sizes, vec![4, 5, 6]);
    write(dir.path(), "g.rhai", "image(8, 8, hsv(frame() * 90, 1, 1))");
    expect_code(&run_in(dir.path(), &["run", "g.rhai", "--frames", "4", "-o", "anim.gif"]), 0);
    let bytes = std::fs::read(dir.path().join("anim.gif")).unwrap();
    assert!(bytes.starts_with(b"GIF89a"));
}

#[test]
fn output_is_identical_at_any_thread_count() {
    let dir = tempdir();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/showcase.rhai");
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data");
    let a = run_in(dir.path(), &["run", script, "--allow-read", data, "--threads", "1", "-o", "t1.png"]);
    expect_code(&a, 0);
    let b = run_in(dir.path(), &["run", script, "--allow-read", data, "--threads", "4", "-o", "t4.png"]);
    expect_code(&b, 0);
    let (x, y) = (std::fs::read(dir.path().join("t1.png")).unwrap(), std::fs::read(dir.path().join("t4.png")).unwrap());
    assert!(x == y, "showcase output differs between --threads 1 and --threads 4");
}

#[cfg(unix)]
#[test]
fn written_files_are_world_readable() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempdir();
    write(dir.path(), "s.rhai", "image(2, 2)");
    expect_code(&run_in(dir.path(), &["run", "s.rhai", "-o", "o.png"]), 0);
    let mode = std::fs::metadata(dir.path().join("o.png")).unwrap().permissions().mode();
    assert_eq!(mode & 0o644, 0o644, "mode {mode:o}");
}

// ---- --set names, unsaved results, output extensions, param ranges (issue 11) ----------------

const PARAMS: &str =
    "let r = param(\"radius\", 3.0);\nlet n = param(\"seed_count\", 2);\nimage(4, 4, gray(r / 10.0))\n";

#[test]
fn a_set_name_no_param_reads_exits_2_before_the_run() {
    let dir = tempdir();
    write(dir.path(), "p.rhai", &format!("print(\"ran\");\n{PARAMS}"));
    let out = run_in(dir.path(), &["run", "p.rhai", "--set", "radus=5", "-o", "o.png"]);
    let err = expect_code(&out, 2);
    assert_eq!(
        err.trim(),
        "error: --set radus: the script has no param 'radus' (did you mean 'radius'?); its params are: radius, seed_count"
    );
    assert_eq!(text(&out).0, "", "the script did not run");
    assert!(!dir.path().join("o.png").exists());
    // --allow-unused-set lets a build pass names some scripts do not read.
    let out = run_in(dir.path(), &["run", "p.rhai", "--set", "radus=5", "--allow-unused-set", "-o", "o.png"]);
    expect_code(&out, 0);
    assert!(dir.path().join("o.png").is_file());
}

#[test]
fn set_names_are_found_in_imported_modules_too() {
    let dir = tempdir();
    write(dir.path(), "lib/knobs.rhai", "fn level() { param(\"level\", 0.5) }\n");
    write(dir.path(), "m.rhai", "import \"lib/knobs\" as k;\nimage(2, 2, gray(k::level()))\n");
    expect_code(&run_in(dir.path(), &["run", "m.rhai", "--set", "level=0.2", "-o", "o.png"]), 0);
    let err = expect_code(&run_in(dir.path(), &["run", "m.rhai", "--set", "levle=0.2", "-o", "o.png"]), 2);
    assert!(err.contains("no param 'levle' (did you mean 'level'?); its params are: level"), "{err}");
}

#[test]
fn a_computed_param_name_is_checked_after_the_run_and_nothing_is_written() {
    let dir = tempdir();
    write(
        dir.path(),
        "d.rhai",
        "let name = \"rad\" + \"ius\";\nlet r = param(name, 3.0);\nimage(4, 4, gray(r / 10.0))\n",
    );
    let err = expect_code(&run_in(dir.path(), &["run", "d.rhai", "--set", "radus=1", "-o", "o.png"]), 2);
    assert!(err.contains("--set radus: the script has no param 'radus' (did you mean 'radius'?)"), "{err}");
    assert!(!dir.path().join("o.png").exists(), "no output after a refused --set");
    expect_code(&run_in(dir.path(), &["run", "d.rhai", "--set", "radius=1", "-o", "o.png"]), 0);
}

#[test]
fn an_image_result_without_o_prints_how_to_save_it() {
    let dir = tempdir();
    write(dir.path(), "s.rhai", "image(256, 128)");
    let err = expect_code(&run_in(dir.path(), &["run", "s.rhai"]), 0);
    assert_eq!(err.trim(), "note: the result (1 image, 256×128) was not saved; add -o out.png");
    // Nothing to say when the result is written, or is not an image.
    assert_eq!(expect_code(&run_in(dir.path(), &["run", "s.rhai", "-o", "o.png"]), 0), "");
    write(dir.path(), "n.rhai", "1 + 1");
    assert_eq!(expect_code(&run_in(dir.path(), &["run", "n.rhai"]), 0), "");
}

#[test]
fn an_unknown_output_extension_exits_2_before_the_run() {
    let dir = tempdir();
    write(dir.path(), "s.rhai", "print(\"ran\");\nimage(2, 2)");
    let out = run_in(dir.path(), &["run", "s.rhai", "-o", "x.xyz"]);
    let err = expect_code(&out, 2);
    assert!(err.starts_with("error: x.xyz: unsupported image extension '.xyz'"), "{err}");
    assert!(err.contains("png, jpg, webp"), "the supported extensions are listed: {err}");
    assert_eq!(text(&out).0, "", "the script did not run");
}

#[test]
fn a_param_outside_its_range_says_so_in_words() {
    let dir = tempdir();
    write(dir.path(), "r.rhai", "let r = param(\"radius\", 3.0, #{ min: 1, max: 50 });\nimage(2, 2, gray(r / 50.0))\n");
    let err = expect_code(&run_in(dir.path(), &["run", "r.rhai", "--set", "radius=60"]), 1);
    assert!(err.contains("param: 'radius' = 60 is outside its range 1 to 50"), "{err}");
    assert!(!err.contains("Some("), "{err}");
    write(dir.path(), "k.rhai", "param(\"k\", 1, #{ mn: 0 })");
    let err = expect_code(&run_in(dir.path(), &["run", "k.rhai"]), 1);
    assert!(err.contains("unknown option 'mn'") && err.contains("did you mean 'min'?"), "{err}");
}
