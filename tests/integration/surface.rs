//! Surface ops on height (issue 12 §2) through the script API: the bindings and their errors at
//! the script position, an independent normal map from numpy, and `levels`/`colorize` on fields
//! against the image ops.

use std::process::Command;

use kiln::ops::surface::{self, Edge, NormalMap};
use kiln::script::{Host, RunConfig};
use kiln::Image;

/// Runs `src` as a script in a temporary folder; its result image or the error as printed
/// (`t.rhai:LINE:COL: message`) with its kind.
fn run(src: &str) -> Result<Image, String> {
    run_beside(src, |_| ())
}

/// [`run`], after `prepare` has written its input files into the script's folder.
fn run_beside(src: &str, prepare: impl FnOnce(&std::path::Path)) -> Result<Image, String> {
    let dir = tempfile::tempdir().unwrap();
    prepare(dir.path());
    let script = dir.path().join("t.rhai");
    std::fs::write(&script, src).unwrap();
    let config = RunConfig { script, out_dir: Some(dir.path().to_path_buf()), ..RunConfig::default() };
    Host::default().run_file(config).map(|mut o| o.images.remove(0)).map_err(|e| format!("{e} [{:?}]", e.kind))
}

fn err(src: &str) -> String {
    match run(src) {
        Ok(_) => panic!("expected an error from: {src}"),
        Err(e) => e,
    }
}

fn max_diff(a: &Image, b: &Image) -> f32 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.pixels().iter().zip(b.pixels()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn every_surface_op_runs_from_a_script_and_matches_the_rust_api() {
    let h = "let h = perlin(#{ scale: 4, seed: 3 }).render(48, 40);\n";
    let direct = run(&format!("{h}h")).unwrap();
    let nm = run(&format!("{h}h.normal_map(#{{ strength: 6, convention: \"directx\", edge: \"wrap\" }})")).unwrap();
    let want = surface::normal_map(
        &direct,
        &NormalMap { strength: 6.0, convention: surface::Convention::DirectX, edge: Some(Edge::Wrap) },
    )
    .unwrap();
    assert_eq!(nm, want);
    for src in [
        "h.normal_map()",
        "h.ambient_occlusion()",
        "h.ambient_occlusion(#{ radius: 6, samples: 8, strength: 1.2, edge: \"mirror\" })",
        "h.curvature()",
        "h.curvature(#{ radius: 2, strength: 8, edge: \"transparent\" })",
        "height_blend(image(48, 40, \"green\"), image(48, 40, \"gray\"), h, h.invert())",
        "height_blend(image(48, 40, \"green\"), image(48, 40, \"gray\"), h, h.invert(), #{ contrast: 0.5 })",
        "image(48, 40, \"orange\").slope_blur(h)",
        "checker(6).render(48, 40).slope_blur(h, #{ amount: 6, samples: 4, edge: \"wrap\" })",
        "h.histogram_scan(0.4, 0.8)",
    ] {
        let out = run(&format!("{h}{src}")).unwrap_or_else(|e| panic!("{src}: {e}"));
        assert_eq!(out.dimensions(), (48, 40), "{src}");
        assert!(out.pixels().iter().all(|v| v.is_finite()), "{src}");
    }
}

#[test]
fn bad_options_and_nan_heights_are_errors_at_the_script_position() {
    let e = err("let h = image(8, 8, \"gray\");\nh.normal_map(#{ strenght: 2 })");
    assert!(e.contains("t.rhai:2:") && e.contains("strength"), "{e}");
    let e = err("image(8, 8).normal_map(#{ convention: \"opengll\" })");
    assert!(e.contains("convention") && e.contains("opengl"), "{e}");
    let e = err("image(8, 8).ambient_occlusion(#{ radius: 0 })");
    assert!(e.contains("ambient_occlusion") && e.contains("radius"), "{e}");
    let e = err("image(8, 8).curvature(#{ edge: \"wrapp\" })");
    assert!(e.contains("wrap"), "{e}");
    let e = err("image(8, 8).histogram_scan(2, 0.5)");
    assert!(e.contains("histogram_scan") && e.contains("position"), "{e}");
    let e = err("image(8, 8).slope_blur(image(4, 8))");
    assert!(e.contains("slope_blur") && e.contains("same size"), "{e}");
    // A NaN height, as a float EXR file can hold one.
    let write_nan = |dir: &std::path::Path| {
        let mut v = vec![0.5f32; 8 * 8 * 4];
        v[(3 * 8 + 5) * 4..(3 * 8 + 5) * 4 + 3].fill(f32::NAN);
        image::Rgba32FImage::from_raw(8, 8, v).unwrap().save(dir.join("h.exr")).unwrap();
    };
    let nan = "let h = load(\"h.exr\");\nlet unused = 0;\n";
    for op in ["normal_map()", "ambient_occlusion()", "curvature()", "histogram_scan(0.5, 0.5)", "slope_blur(h)"] {
        let e = match run_beside(&format!("{nan}h.{op}"), write_nan) {
            Ok(_) => panic!("{op}: a NaN height must be an error"),
            Err(e) => e,
        };
        let name = op.split('(').next().unwrap();
        assert!(e.contains("t.rhai:3:") && e.contains(name) && e.contains("NaN"), "{op}: {e}");
        assert!(e.ends_with("[Input]"), "a NaN height is the user's input: {e}");
    }
    // A NaN in the colour image that slope_blur drags is refused too (no NaN reaches an output).
    let e = run_beside(
        "let h = load(\"h.exr\");\nimage(8, 8, \"gray\").slope_blur(image(8, 8));\nh.slope_blur(image(8, 8))",
        write_nan,
    )
    .unwrap_err();
    assert!(e.contains("t.rhai:3:") && e.contains("slope_blur") && e.contains("(5, 3)"), "{e}");
}

/// The normal a pixel encodes, as a unit vector.
fn decode(p: &[f32]) -> [f64; 3] {
    let v = [p[0] as f64 * 2.0 - 1.0, p[1] as f64 * 2.0 - 1.0, p[2] as f64 * 2.0 - 1.0];
    let l = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
    [v[0] / l, v[1] / l, v[2] / l]
}

#[test]
fn normal_map_agrees_with_numpy_central_differences() {
    let has_numpy = Command::new("python3").args(["-c", "import numpy"]).output().is_ok_and(|o| o.status.success());
    if !has_numpy {
        eprintln!("skipped: python3 with numpy is not available (the Rust analytic tests still ran)");
        return;
    }
    // A smooth periodic height (a sum of low-frequency waves): central differences and Scharr
    // then both approximate the true gradient closely, so they must agree.
    let (w, h, s) = (96u32, 64u32, 12.0f32);
    let tau = std::f32::consts::TAU;
    let img = Image::from_fn(w, h, |x, y| {
        let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
        let z = 0.5 + 0.2 * (tau * (2.0 * u + v)).sin() + 0.15 * (tau * (3.0 * v - u)).cos() * (tau * u).sin();
        [z, z, z, 1.0]
    })
    .unwrap();
    let ours =
        surface::normal_map(&img, &NormalMap { strength: s, edge: Some(Edge::Wrap), ..NormalMap::default() }).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (hin, nout) = (dir.path().join("h.f32"), dir.path().join("n.f32"));
    let bytes: Vec<u8> = img.pixels().chunks_exact(4).flat_map(|p| p[0].to_le_bytes()).collect();
    std::fs::write(&hin, bytes).unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/surface/numpy_normal.py");
    let status = Command::new("python3")
        .arg(script)
        .args([hin.to_str().unwrap(), &w.to_string(), &h.to_string(), &s.to_string(), nout.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(status.success());
    let theirs: Vec<f32> =
        std::fs::read(&nout).unwrap().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    assert_eq!(theirs.len(), (w * h * 3) as usize);
    let (mut sum, mut worst) = (0.0f64, 0.0f64);
    for (p, t) in ours.pixels().chunks_exact(4).zip(theirs.chunks_exact(3)) {
        let a = decode(p);
        let d = (a[0] * t[0] as f64 + a[1] * t[1] as f64 + a[2] * t[2] as f64).clamp(-1.0, 1.0).acos().to_degrees();
        sum += d;
        worst = worst.max(d);
    }
    let mean = sum / (w * h) as f64;
    assert!(mean < 0.5 && worst < 2.0, "vs numpy: mean {mean}°, worst {worst}°");
    // The control: a flipped green (the DirectX map) is far from numpy's OpenGL normals.
    let dx = surface::normal_map(
        &img,
        &NormalMap { strength: s, edge: Some(Edge::Wrap), convention: surface::Convention::DirectX },
    )
    .unwrap();
    let far = dx.pixels().chunks_exact(4).zip(theirs.chunks_exact(3)).filter(|(p, t)| {
        let a = decode(p);
        (a[0] * t[0] as f64 + a[1] * t[1] as f64 + a[2] * t[2] as f64).acos().to_degrees() > 2.0
    });
    assert!(far.count() > (w * h / 4) as usize);
}

#[test]
fn levels_and_colorize_on_fields_equal_render_then_op() {
    let f = "let f = perlin(#{ scale: 3, seed: 9 }) * 1.3 - 0.15;\n";
    let c = "let c = mix(color_field(\"navy\"), color_field(\"orange\"), perlin(#{ seed: 4 })).with_alpha(v());\n";
    let pairs = [
        (
            format!("{f}f.levels(0.2, 0.8, 0.1, 0.9).render(40, 30)"),
            format!("{f}f.render(40, 30).levels(0.2, 0.8, 0.1, 0.9)"),
        ),
        (
            format!("{c}c.levels(0.9, 0.1, 0.0, 1.0).render(40, 30)"),
            format!("{c}c.render(40, 30).levels(0.9, 0.1, 0.0, 1.0)"),
        ),
        (
            format!("{f}f.colorize([\"#102030\", \"#f80\", \"#fff\"]).render(40, 30)"),
            format!("{f}f.render(40, 30).colorize([\"#102030\", \"#f80\", \"#fff\"])"),
        ),
        (
            format!("{c}c.colorize([[0.0, \"black\"], [0.25, \"teal\"], [1.0, \"white\"]]).render(40, 30)"),
            format!("{c}c.render(40, 30).colorize([[0.0, \"black\"], [0.25, \"teal\"], [1.0, \"white\"]])"),
        ),
    ];
    for (i, (field, image)) in pairs.iter().enumerate() {
        let (a, b) = (run(field).unwrap(), run(image).unwrap());
        // A scalar field's `colorize` is a palette lookup (1024 entries at multiples of 1/1023):
        // equal to the image op within the bound `field::tone` documents; the rest exactly.
        let tol = if i == 2 { 1e-3 } else { 1e-6 };
        assert!(max_diff(&a, &b) <= tol, "{field}\n  vs {image}: {}", max_diff(&a, &b));
    }
}

#[test]
fn every_example_in_the_surfaces_section_of_kiln_doc_runs() {
    let doc = kiln::script::doc::markdown();
    let start = doc.find("## Surfaces (height maps)").expect("kiln doc has the surfaces section");
    let section = &doc[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let examples: Vec<&str> =
        section.split("```rhai\n").skip(1).map(|rest| &rest[..rest.find("```").unwrap()]).collect();
    assert!(examples.len() >= 11, "{} examples", examples.len());
    for ex in examples {
        // The examples end in a `let`; return the last image so the run has a result.
        let last = ex.lines().rev().find_map(|l| l.trim().strip_prefix("let ")).map(|l| l.split(' ').next().unwrap());
        let src = format!("{ex}{}", last.unwrap_or(""));
        run(&src).unwrap_or_else(|e| panic!("example failed: {e}\n{src}"));
    }
}

#[test]
fn surface_ops_are_byte_identical_at_1_and_4_threads() {
    let setup = "let h = fbm(perlin(#{ seed: 5, scale: 5 }), #{ octaves: 4 }).render(97, 61);\n\
                 let c = checker(7).render(97, 61);\n";
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
    for op in [
        "h.normal_map()",
        "h.ambient_occlusion(#{ radius: 9, edge: \"wrap\" })",
        "h.curvature(#{ radius: 3 })",
        "c.slope_blur(h, #{ amount: 5 })",
        "height_blend(c, h, h, c)",
        "h.histogram_scan(0.3, 0.6)",
    ] {
        let src = format!("{setup}{op}");
        let a = one.install(|| run(&src)).unwrap();
        let b = four.install(|| run(&src)).unwrap();
        assert!(a.pixels().iter().zip(b.pixels()).all(|(x, y)| x.to_bits() == y.to_bits()), "{op}");
    }
}
