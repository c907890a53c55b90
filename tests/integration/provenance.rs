//! Provenance: every image `kiln run` writes carries its recipe (script, hashes, params, seed,
//! models) in every format with a metadata slot; the files stay byte-identical between runs and
//! checkouts; independent readers (Pillow, the `image` crate) still open them; `kiln info`
//! prints the recipe and `kiln regen` re-runs it. And `save`'s channel layouts.

use std::path::Path;
use std::process::Command;

use kiln::recipe::{hash_file, Recipe};

use crate::util::{expect_code, run_in, tempdir, text, write};

/// A project folder: `scripts/tex.rhai` loads `scripts/tex.png` and mixes it with seeded noise.
const SCRIPT: &str = r#"let k = param("k", "a");
let tex = load("tex.png");
let n = perlin(#{ scale: 4 }).render(32, 16);
n.blend(tex, "multiply", 0.5)
"#;

fn project() -> tempfile::TempDir {
    let dir = tempdir();
    write(dir.path(), "scripts/tex.rhai", SCRIPT);
    let tex = kiln::Image::from_fn(32, 16, |x, y| [x as f32 / 31.0, y as f32 / 15.0, 0.5, 1.0]).unwrap();
    kiln::io::save(&tex, &dir.path().join("scripts/tex.png"), &kiln::SaveOptions::default()).unwrap();
    dir
}

const FORMATS: [&str; 5] = ["png", "jpg", "webp", "tif", "exr"];

/// Runs the project's script in `dir` with seed 3 and `--set k=v`, writing `out`.
fn render(dir: &Path, out: &str, extra: &[&str]) {
    let mut args = vec!["run", "scripts/tex.rhai", "-o", out, "--seed", "3", "--set", "k=v"];
    args.extend_from_slice(extra);
    expect_code(&run_in(dir, &args), 0);
}

#[test]
fn every_format_carries_the_recipe_of_the_run() {
    let dir = project();
    let root = dir.path();
    for ext in FORMATS {
        let out = format!("out/a.{ext}");
        render(root, &out, &[]);
        let recipe = kiln::io::read_provenance(&root.join(&out)).unwrap().unwrap_or_else(|| panic!("{out}: no recipe"));
        assert_eq!(recipe.kiln_version, env!("CARGO_PKG_VERSION"));
        assert_eq!(recipe.script, "scripts/tex.rhai", "relative to the folder kiln ran in");
        assert_eq!(recipe.script_hash, hash_file(&root.join("scripts/tex.rhai")).unwrap());
        assert_eq!(
            recipe.inputs,
            vec![("scripts/tex.png".to_string(), hash_file(&root.join("scripts/tex.png")).unwrap())]
        );
        assert_eq!(recipe.params, vec![("k".to_string(), "v".to_string())]);
        assert_eq!(recipe.seed, 3);
        assert!(recipe.models.is_empty());
        // No absolute path anywhere in the file's recipe.
        let json = recipe.to_json();
        assert!(!json.contains(&root.display().to_string()), "{json}");
    }
    // --no-provenance leaves it out.
    render(root, "out/plain.png", &["--no-provenance"]);
    assert_eq!(kiln::io::read_provenance(&root.join("out/plain.png")).unwrap(), None);
}

#[test]
fn outputs_are_byte_identical_between_runs_and_checkouts() {
    let a = project();
    let b = project();
    for ext in FORMATS {
        let out = format!("x.{ext}");
        render(a.path(), &out, &[]);
        let first = std::fs::read(a.path().join(&out)).unwrap();
        render(a.path(), &out, &["--threads", "1"]);
        assert_eq!(first, std::fs::read(a.path().join(&out)).unwrap(), "{out}: a second run differs");
        // Another checkout at another absolute path.
        render(b.path(), &out, &[]);
        assert_eq!(first, std::fs::read(b.path().join(&out)).unwrap(), "{out}: another checkout differs");
    }
}

#[test]
fn in_script_saves_carry_the_recipe_with_the_inputs_read_so_far() {
    let dir = project();
    write(
        dir.path(),
        "scripts/saves.rhai",
        r#"let early = image(8, 8, "red").save("early.png");
let tex = load("tex.png");
tex.save("late.tif");
load_model("std/materials_vae");
tex.save("model.webp");
tex
"#,
    );
    expect_code(&run_in(dir.path(), &["run", "scripts/saves.rhai", "--out", "out", "--seed", "5"]), 0);
    let read = |name: &str| kiln::io::read_provenance(&dir.path().join("out").join(name)).unwrap().unwrap();
    let early = read("early.png");
    assert_eq!((early.script.as_str(), early.seed), ("scripts/saves.rhai", 5));
    assert!(early.inputs.is_empty(), "{:?}", early.inputs);
    let late = read("late.tif");
    assert_eq!(late.inputs.len(), 1);
    assert_eq!(late.inputs[0].0, "scripts/tex.png");
    if cfg!(feature = "ml") {
        let with_model = read("model.webp");
        assert_eq!(with_model.models.len(), 1);
        assert_eq!(with_model.models[0].0, "std/materials_vae");
        assert_eq!(with_model.models[0].1.len(), 64);
    }
    // --no-provenance reaches the script's own saves too.
    expect_code(&run_in(dir.path(), &["run", "scripts/saves.rhai", "--out", "bare", "--no-provenance"]), 0);
    assert_eq!(kiln::io::read_provenance(&dir.path().join("bare/late.tif")).unwrap(), None);
}

/// `python3` with Pillow, or `None` (with a note) when this machine has none.
fn pillow() -> Option<Command> {
    let ok = Command::new("python3").args(["-c", "import PIL"]).output().map(|o| o.status.success()).unwrap_or(false);
    if !ok {
        eprintln!("note: python3 with Pillow is not installed; skipping the independent-reader check");
        return None;
    }
    Some(Command::new("python3"))
}

#[test]
fn pillow_opens_every_file_and_sees_the_png_text_and_jpeg_comment() {
    let Some(mut python) = pillow() else { return };
    let dir = project();
    for ext in ["png", "jpg", "webp", "tif"] {
        render(dir.path(), &format!("p.{ext}"), &[]);
    }
    let code = r#"
import json, sys
from PIL import Image
for ext in ["png", "jpg", "webp", "tif"]:
    im = Image.open("p." + ext)
    im.load()
    print(ext, im.size[0], im.size[1], im.mode)
png = Image.open("p.png")
print("png-text", json.loads(png.text["kiln"])["script"])
jpg = Image.open("p.jpg")
print("jpg-comment", json.loads(jpg.info["comment"])["seed"])
webp = Image.open("p.webp")
print("webp-xmp", b"kiln:recipe" in webp.info.get("xmp", b""))
tif = Image.open("p.tif")
print("tif-description", json.loads(tif.tag_v2[270])["params"]["k"])
"#;
    let out = python.arg("-c").arg(code).current_dir(dir.path()).output().unwrap();
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    for ext in ["png", "jpg", "webp", "tif"] {
        assert!(stdout.contains(&format!("{ext} 32 16 ")), "{ext}: {stdout}");
    }
    assert!(stdout.contains("png-text scripts/tex.rhai"), "{stdout}");
    assert!(stdout.contains("jpg-comment 3"), "{stdout}");
    assert!(stdout.contains("webp-xmp True"), "{stdout}");
    assert!(stdout.contains("tif-description v"), "{stdout}");
}

#[test]
fn the_image_crate_opens_the_exr_and_the_exr_crate_sees_the_attribute() {
    let dir = project();
    render(dir.path(), "e.exr", &[]);
    let bytes = std::fs::read(dir.path().join("e.exr")).unwrap();
    let img = image::load_from_memory_with_format(&bytes, image::ImageFormat::OpenExr).unwrap();
    assert_eq!((img.width(), img.height()), (32, 16));
    let meta = exr::meta::MetaData::read_from_buffered(std::io::Cursor::new(&bytes), false).unwrap();
    let key = exr::prelude::Text::new_or_panic("kiln");
    // exr reads attributes it does not know into the layer's own attributes.
    let header = &meta.headers[0];
    let attr =
        header.own_attributes.other.get(&key).or(header.shared_attributes.other.get(&key)).expect("kiln attribute");
    match attr {
        exr::prelude::AttributeValue::Text(t) => assert!(Recipe::from_json(&t.to_string()).is_ok()),
        other => panic!("kiln attribute is not text: {other:?}"),
    }
}

#[test]
fn kiln_info_prints_the_recipe_and_says_when_there_is_none() {
    let dir = project();
    render(dir.path(), "i.png", &[]);
    let out = run_in(dir.path(), &["info", "i.png"]);
    expect_code(&out, 0);
    let (stdout, _) = text(&out);
    assert!(stdout.starts_with("script       scripts/tex.rhai\n"), "{stdout}");
    assert!(stdout.contains("\nseed         3\n"), "{stdout}");
    assert!(stdout.contains("\n  k = v\n"), "{stdout}");
    assert!(stdout.contains("\n  scripts/tex.png  "), "{stdout}");
    assert!(stdout.contains("models       (none)"), "{stdout}");

    let out = run_in(dir.path(), &["info", "i.png", "--json"]);
    expect_code(&out, 0);
    let json = text(&out).0;
    let recipe = Recipe::from_json(&json).unwrap();
    assert_eq!(Some(recipe), kiln::io::read_provenance(&dir.path().join("i.png")).unwrap());

    render(dir.path(), "bare.png", &["--no-provenance"]);
    let stderr = expect_code(&run_in(dir.path(), &["info", "bare.png"]), 1);
    assert!(stderr.contains("bare.png: no kiln recipe in this file"), "{stderr}");
    let stderr = expect_code(&run_in(dir.path(), &["info", "missing.png"]), 1);
    assert!(stderr.contains("missing.png"), "{stderr}");
}

#[test]
fn kiln_regen_reruns_the_recipe_and_compares_the_bytes() {
    let dir = project();
    let root = dir.path();
    render(root, "r.png", &[]);
    let out = run_in(root, &["regen", "r.png", "--out", "again"]);
    expect_code(&out, 0);
    assert!(text(&out).0.contains("r.png: regenerated as again/r.png: the bytes match"), "{:?}", text(&out));
    assert_eq!(std::fs::read(root.join("r.png")).unwrap(), std::fs::read(root.join("again/r.png")).unwrap());

    // Regen never overwrites the file it checks.
    expect_code(&run_in(root, &["regen", "r.png", "--out", "."]), 2);

    // A changed script is reported and still re-run: a comment changes the hash, not the pixels.
    write(root, "scripts/tex.rhai", &format!("// tweaked\n{SCRIPT}"));
    let out = run_in(root, &["regen", "r.png", "--out", "changed"]);
    let stderr = expect_code(&out, 1);
    assert!(stderr.contains("note: the script scripts/tex.rhai changed since r.png was made"), "{stderr}");
    assert!(stderr.contains("the bytes differ (the pixels match, the metadata differs)"), "{stderr}");

    // A different seed in the script's own generator changes the pixels.
    write(root, "scripts/tex.rhai", &SCRIPT.replace("scale: 4", "scale: 4, seed: 99"));
    let stderr = expect_code(&run_in(root, &["regen", "r.png", "--out", "seeded"]), 1);
    assert!(stderr.contains("(the pixels differ)"), "{stderr}");

    // A missing script is a clear error.
    std::fs::remove_file(root.join("scripts/tex.rhai")).unwrap();
    let stderr = expect_code(&run_in(root, &["regen", "r.png", "--out", "gone"]), 1);
    assert!(stderr.contains("r.png: its script scripts/tex.rhai is not here"), "{stderr}");
}

/// PNG colour type and bit depth from the IHDR chunk.
fn png_layout(path: &Path) -> (u8, u8) {
    let bytes = std::fs::read(path).unwrap();
    (bytes[25], bytes[24])
}

#[test]
fn save_writes_grey_as_one_channel_unless_told() {
    let dir = tempdir();
    write(
        dir.path(),
        "h.rhai",
        r##"let h = perlin(#{ seed: 1, scale: 4 }).render(128, 128);
h.save("h16.png", #{ bits: 16 });
h.save("h16_rgba.png", #{ bits: 16, channels: 4 });
h.save("h8.png");
image(16, 16, "teal").save("opaque.png");
image(16, 16, "#ff000080").save("alpha.png");
h
"##,
    );
    expect_code(&run_in(dir.path(), &["run", "h.rhai", "--out", "o"]), 0);
    let o = |n: &str| dir.path().join("o").join(n);
    assert_eq!(png_layout(&o("h16.png")), (0, 16), "grey 16-bit is L16");
    assert_eq!(png_layout(&o("h16_rgba.png")), (6, 16), "channels: 4 forces RGBA");
    assert_eq!(png_layout(&o("h8.png")), (0, 8));
    assert_eq!(png_layout(&o("opaque.png")), (2, 8));
    assert_eq!(png_layout(&o("alpha.png")), (6, 8));
    let small = std::fs::metadata(o("h16.png")).unwrap().len();
    let big = std::fs::metadata(o("h16_rgba.png")).unwrap().len();
    assert!(small * 3 < big * 2, "L16 {small} bytes vs RGBA16 {big} bytes");
    // Both load to the same pixels.
    assert_eq!(kiln::io::load(&o("h16.png")).unwrap(), kiln::io::load(&o("h16_rgba.png")).unwrap());
    // A layout the format cannot hold is a script error at the call.
    write(dir.path(), "bad.rhai", "image(4, 4).save(\"x.jpg\", #{ channels: 2 })\n");
    let stderr = expect_code(&run_in(dir.path(), &["run", "bad.rhai", "--out", "o"]), 1);
    assert!(stderr.contains("bad.rhai:1:"), "{stderr}");
    assert!(stderr.contains("JPEG cannot be written with 2 channels (it holds 1 or 3)"), "{stderr}");
}

/// `kiln watch`'s session: the script's saves carry the recipe, with the page's param overrides
/// (the value the run used), and none with `no_provenance` (`--no-provenance`).
#[cfg(feature = "watch")]
#[test]
fn watch_sessions_write_the_recipe_of_each_run() {
    use kiln::live::{Change, Session};
    use kiln::script::RunConfig;
    use std::time::Duration;
    let dir = tempdir();
    let script = write(
        dir.path(),
        "w.rhai",
        "let v = param(\"level\", 0.2, #{ min: 0.0, max: 1.0 });\nimage(4, 4, gray(v)).save(\"w.png\")\n",
    );
    let config = RunConfig { out_dir: Some(dir.path().join("out")), seed: 7, ..RunConfig::new(&script) };
    let session = Session::start(config.clone(), kiln::Limits::default());
    let long = Duration::from_secs(60);
    session.wait(1, long).expect("the first run finishes");
    let saved = dir.path().join("out/w.png");
    let recipe = kiln::io::read_provenance(&saved).unwrap().expect("a recipe");
    assert_eq!((recipe.seed, recipe.params.len()), (7, 0));
    assert!(recipe.script.ends_with("w.rhai"), "{}", recipe.script);
    let report = session.apply(Change::Param { name: "level".into(), value: "0.6".into() }, long).unwrap();
    assert!(report.ok(), "{:?}", report.error);
    let recipe = kiln::io::read_provenance(&saved).unwrap().expect("a recipe");
    assert_eq!(recipe.params, vec![("level".to_string(), "0.6".to_string())]);
    drop(session);

    let bare = RunConfig { out_dir: Some(dir.path().join("bare")), no_provenance: true, ..config };
    let session = Session::start(bare, kiln::Limits::default());
    session.wait(1, long).expect("the first run finishes");
    assert_eq!(kiln::io::read_provenance(&dir.path().join("bare/w.png")).unwrap(), None);
}
