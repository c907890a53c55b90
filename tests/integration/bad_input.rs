//! Bad input never panics: each case exits 1 with a message naming the thing at fault, and no
//! output file (or temp file) is left behind.

use std::path::Path;

use image::ImageEncoder;

use crate::util::{expect_code, run_in, tempdir, write};

/// Runs `script` (written to a temp folder beside the given files) with `-o out.png`, expects
/// exit 1 and an error containing every `needles`, and checks no output was written.
#[track_caller]
fn fails_cleanly(script: &str, files: &[(&str, &[u8])], extra: &[&str], needles: &[&str]) -> String {
    let dir = tempdir();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    write(dir.path(), "s.rhai", script);
    let mut args = vec!["run", "s.rhai", "-o", "out.png", "--out", "o"];
    args.extend_from_slice(extra);
    let err = expect_code(&run_in(dir.path(), &args), 1);
    assert!(!err.contains("panicked"), "panic:\n{err}");
    assert_no_debug_text(&err);
    assert!(err.starts_with("s.rhai:"), "error must start with the script position:\n{err}");
    for n in needles {
        assert!(err.contains(n), "expected '{n}' in:\n{err}");
    }
    assert!(!dir.path().join("out.png").exists(), "a failed run left out.png");
    assert_no_leftovers(dir.path());
    err
}

/// Rust `Debug` text that must never reach a user (`{ ` is not here: the source line a
/// diagnostic quotes may hold an options map; `src/image/io.rs` tests decoder text for it).
const DEBUG_TEXT: [&str; 7] = ["Some(", "ChunkType {", "Unknown(", "None", "Ok(", "Err(", "set_limits"];

#[track_caller]
fn assert_no_debug_text(stderr: &str) {
    for bad in DEBUG_TEXT {
        assert!(!stderr.contains(bad), "Rust Debug text {bad:?} in a message:\n{stderr}");
    }
}

fn assert_no_leftovers(dir: &Path) {
    for entry in walk(dir) {
        let name = entry.file_name().unwrap().to_string_lossy().to_string();
        assert!(!name.ends_with(".tmp"), "temp file left behind: {}", entry.display());
    }
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn png_bytes() -> Vec<u8> {
    let img = kiln::Image::filled(16, 16, kiln::Color::WHITE).unwrap();
    kiln::io::encode(&img, kiln::Format::Png, &kiln::SaveOptions::default(), Path::new("x.png")).unwrap()
}

#[test]
fn corrupt_image_file() {
    fails_cleanly(
        "load(\"bad.png\")",
        &[("bad.png", b"\x89PNG\r\n\x1a\nthis is not a png")],
        &[],
        &["bad.png", "cannot decode"],
    );
}

#[test]
fn truncated_image_file() {
    let png = png_bytes();
    fails_cleanly("load(\"cut.png\")", &[("cut.png", &png[..png.len() - 20])], &[], &["cut.png", "cannot decode"]);
}

#[test]
fn missing_image_file() {
    fails_cleanly("load(\"nowhere.png\")", &[], &[], &["nowhere.png"]);
}

#[test]
fn unsupported_extensions() {
    fails_cleanly("image(4, 4).save(\"x.xyz\")", &[], &[], &["unsupported image extension '.xyz'"]);
    fails_cleanly("load(\"data.xyz\")", &[("data.xyz", b"hello")], &[], &["data.xyz"]);
}

#[test]
fn zero_negative_and_huge_sizes() {
    fails_cleanly("image(0, 10)", &[], &[], &["size must be at least 1x1"]);
    fails_cleanly("image(-4, 10)", &[], &[], &["size must be at least 1x1"]);
    fails_cleanly("image(100000, 100000)", &[], &[], &["limit exceeded", "100000x100000"]);
    fails_cleanly("image(64, 64).resize(200000, 200000)", &[], &[], &["limit"]);
}

#[test]
fn nan_and_infinite_parameters() {
    fails_cleanly("image(8, 8).blur(0.0 / 0.0)", &[], &[], &["blur", "finite"]);
    fails_cleanly("rgb(1.0 / 0.0, 0, 0)", &[], &[], &["rgb", "finite"]);
    fails_cleanly("image(8, 8).rotate(1.0 / 0.0)", &[], &[], &["rotate"]);
}

#[test]
fn wrong_argument_types() {
    fails_cleanly("image(\"wide\", 10)", &[], &[], &["width must be a number, got string"]);
    fails_cleanly("image(8, 8, 42)", &[], &[], &["must be a colour"]);
}

#[test]
fn unknown_option_keys_list_the_valid_ones() {
    fails_cleanly(
        "image(8, 8).save(\"a.png\", #{ bitz: 16 })",
        &[],
        &[],
        &["unknown option 'bitz'", "bits, channels, compression, quality"],
    );
}

#[test]
fn crop_outside_the_image() {
    fails_cleanly("image(10, 10).crop(5, 5, 10, 10)", &[], &[], &["crop:", "outside"]);
}

#[test]
fn infinite_loop_is_stopped_by_timeout() {
    let err = fails_cleanly("let i = 0;\nloop { i += 1; }\nimage(4, 4)", &[], &["--timeout", "0.3"], &["time limit"]);
    assert!(err.starts_with("s.rhai:2:"), "{err}");
}

#[test]
fn deep_recursion() {
    fails_cleanly("fn f(n) { f(n + 1) }\nf(0)", &[], &[], &["stack overflow"]);
}

#[test]
fn writes_outside_the_out_folder() {
    fails_cleanly("image(4, 4).save(\"../escape.png\")", &[], &[], &["escape.png", "only inside the out folder"]);
    fails_cleanly("image(4, 4).save(\"/tmp/kiln-escape.png\")", &[], &[], &["only inside the out folder"]);
}

#[test]
fn imports_that_leave_the_allowed_folders() {
    fails_cleanly("import \"../../etc/x\" as x;\n1", &[], &[], &["outside the folders this run may read"]);
    fails_cleanly("import \"/etc/passwd\" as x;\n1", &[], &[], &["outside the folders this run may read"]);
}

#[test]
fn reads_outside_the_allowed_folders() {
    fails_cleanly("load(\"/etc/hostname.png\")", &[], &[], &["outside the folders this run may read"]);
}

#[test]
fn eval_is_disabled() {
    let dir = tempdir();
    write(dir.path(), "s.rhai", "eval(\"1 + 1\")");
    let err = expect_code(&run_in(dir.path(), &["run", "s.rhai"]), 1);
    assert!(err.starts_with("s.rhai:1:"), "{err}");
}

#[test]
fn non_utf8_script() {
    let dir = tempdir();
    std::fs::write(dir.path().join("s.rhai"), b"let x = \"\xff\xfe\";").unwrap();
    let err = expect_code(&run_in(dir.path(), &["run", "s.rhai"]), 1);
    assert!(err.contains("not valid UTF-8"), "{err}");
}

#[test]
fn failed_save_keeps_the_previous_file() {
    let dir = tempdir();
    std::fs::create_dir_all(dir.path().join("o")).unwrap();
    std::fs::write(dir.path().join("o/keep.png"), png_bytes()).unwrap();
    write(dir.path(), "s.rhai", "image(4, 4).save(\"keep.png\", #{ bits: 12 })");
    expect_code(&run_in(dir.path(), &["run", "s.rhai", "--out", "o"]), 1);
    assert_eq!(std::fs::read(dir.path().join("o/keep.png")).unwrap(), png_bytes());
    assert_no_leftovers(dir.path());
}

#[test]
fn affine_translate_with_expand_is_refused_not_ignored() {
    fails_cleanly(
        "image(8, 8).affine(#{ translate: [3, 0], rotate: 10, expand: true })",
        &[],
        &[],
        &["affine:", "'translate' has no effect with expand: true"],
    );
}

/// A script function named like a built-in would take over the built-in's calls inside the
/// stdlib too (`std/materials` calls `field.render(w, h)`); it is refused at its definition,
/// in the main script and in an imported file module.
#[test]
fn functions_that_would_hide_a_builtin() {
    let err = fails_cleanly(
        "import \"std/materials\" as m;\nfn render(a, b) { a + b }\nm::bricks(#{ size: 32 })",
        &[],
        &[],
        &["s.rhai:2:1: fn render(a, b) has the name of a kiln built-in", "rename it", "^"],
    );
    assert!(err.contains("2 | fn render(a, b)"), "{err}");
    let dir = tempdir();
    write(dir.path(), "helpers.rhai", "fn one() { image(4, 4) }\nfn fill(a, b) { a }\n");
    write(dir.path(), "s.rhai", "import \"helpers\" as h;\nh::one()");
    let err = expect_code(&run_in(dir.path(), &["run", "s.rhai", "-o", "out.png"]), 1);
    assert!(err.starts_with("helpers.rhai:2:1: fn fill(a, b)"), "{err}");
    assert!(err.contains("in module 'helpers.rhai' at s.rhai:1:8"), "{err}");
    assert!(!dir.path().join("out.png").exists());
}

/// Damaged files written at test time from real ones, each with the name a user met it under.
fn damaged_files() -> Vec<(&'static str, Vec<u8>)> {
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle).unwrap();
    let img = kiln::Image::from_fn(17, 9, |x, y| [x as f32 / 16.0, y as f32 / 8.0, 0.5, 1.0]).unwrap();
    let encode = |name: &str| {
        let path = Path::new(name);
        kiln::io::encode(&img, kiln::Format::from_path(path).unwrap(), &kiln::SaveOptions::default(), path).unwrap()
    };
    // A flipped byte inside the PNG image data.
    let mut png = encode("x.png");
    let idat = find(&png, b"IDAT") + 8;
    png[idat] ^= 0x55;
    // An RGB TIFF whose PhotometricInterpretation says YCbCr, without a SampleFormat tag.
    let mut tif = Vec::new();
    image::codecs::tiff::TiffEncoder::new(std::io::Cursor::new(&mut tif))
        .write_image(&[128u8; 17 * 9 * 3], 17, 9, image::ExtendedColorType::Rgb8)
        .unwrap();
    let ifd = u32::from_le_bytes(tif[4..8].try_into().unwrap()) as usize;
    let count = u16::from_le_bytes([tif[ifd], tif[ifd + 1]]) as usize;
    for e in (0..count).map(|i| ifd + 2 + 12 * i) {
        match u16::from_le_bytes([tif[e], tif[e + 1]]) {
            262 => tif[e + 8..e + 10].copy_from_slice(&6u16.to_le_bytes()),
            339 => tif[e..e + 2].copy_from_slice(&65000u16.to_le_bytes()),
            _ => {}
        }
    }
    // A GIF whose screen and first frame claim 65535 x 65535.
    let mut gif = encode("x.gif");
    gif[6..10].copy_from_slice(&[0xff; 4]);
    let desc = find(&gif, &[0x2c, 0, 0, 0, 0]);
    gif[desc + 5..desc + 9].copy_from_slice(&[0xff; 4]);
    // A lossless WebP whose header claims 16384 x 16384.
    let mut webp = encode("x.webp");
    let vp8l = find(&webp, b"VP8L") + 9;
    let bits = u32::from_le_bytes(webp[vp8l..vp8l + 4].try_into().unwrap());
    webp[vp8l..vp8l + 4].copy_from_slice(&((bits & !0x0fff_ffff) | 16383 | (16383 << 14)).to_le_bytes());
    let jpg = encode("x.jpg");
    let exr = encode("x.exr");
    vec![
        ("chelsea.png", png),
        ("x.tif", tif),
        ("big.gif", gif),
        ("big.webp", webp),
        ("cut.jpg", jpg[..jpg.len() / 2].to_vec()),
        ("cut.exr", exr[..exr.len() / 2].to_vec()),
        ("big.ppm", b"P6\n40000 40000\n255\n\x00\x00\x00".to_vec()),
        ("big.hdr", b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 40000 +X 40000\n\x00\x00\x00\x00".to_vec()),
        ("text.png", b"plain text, not an image".to_vec()),
        ("bad.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{\"a\":1}".to_vec()),
    ]
}

/// Every message a run of bad input prints is free of Rust `Debug` text: damaged image files,
/// and scripts and command lines that fail in many different ways.
#[test]
fn no_message_shows_rust_debug_text() {
    let dir = tempdir();
    let files = damaged_files();
    for (name, bytes) in &files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let mut scripts: Vec<String> =
        files.iter().filter(|(n, _)| !n.ends_with(".safetensors")).map(|(n, _)| format!("load(\"{n}\")")).collect();
    scripts.extend(
        [
            "load_model(\"bad.safetensors\")",
            "load_model(\"std/nope\")",
            "let a = [1, 2];\na[5].blur(1)",
            "image(8, 8).blur(#{ sigma: \"x\" })",
            "image(8, 8).blur(#{ sigmaa: 1 })",
            "image(8, 8).resize()",
            "undefined_function(1)",
            "image(8, 8).save(\"a.png\", #{ bits: 12 })",
            "image(8, 8).save(\"a.webp\", #{ quality: 50 })",
            "rng(1).int(5, 1)",
            "import \"nope\" as n;\n1",
            "import \"std/nope\" as n;\n1",
            "image(8, 8).blend(3)",
            "perlin(#{ octaves: -1 }).render(8, 8)",
            "colormap(\"nope\")",
            "let m = #{};\nm.a.b",
            "1 +",
            "fn f( { }",
            "throw \"plain\"",
            "image(8, 8).composite(image(8, 8), #{ mode: \"nope\" })",
            "image(8, 8).grade(#{ exposure: 1.0 / 0.0 })",
            "grid([], 2)",
            "image(8, 8).noise(#{ kind: \"purple\" })",
        ]
        .map(String::from),
    );
    let mut seen = Vec::new();
    for (i, script) in scripts.iter().enumerate() {
        let name = format!("s{i}.rhai");
        write(dir.path(), &name, script);
        let out = run_in(dir.path(), &["run", &name, "-o", "out.png", "--out", "o"]);
        let (_, stderr) = crate::util::text(&out);
        assert!(!out.status.success(), "{script} succeeded");
        assert!(!stderr.contains("panicked"), "panic:\n{stderr}");
        assert_no_debug_text(&stderr);
        seen.push(stderr);
    }
    for args in [
        &["run", "missing.rhai"][..],
        &["run", "s0.rhai", "--set", "nope=1"],
        &["run", "s0.rhai", "--max-pixels", "lots"],
        &["run", "s0.rhai", "-o", "out.xyz"],
        &["frobnicate"],
    ] {
        let out = run_in(dir.path(), args);
        let (_, stderr) = crate::util::text(&out);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert_no_debug_text(&stderr);
    }
    // The decoder messages name their file.
    for (name, _) in files.iter().filter(|(n, _)| !n.ends_with(".safetensors")) {
        assert!(seen.iter().any(|e| e.contains(&format!("{name}: "))), "no message names {name}:\n{}", seen.join("\n"));
    }
}
