//! The texture metrics (`kiln::texture_stats`) on kiln's own renders, with references that do not
//! come from the metric itself: a field made tileable by construction against the same field
//! without `tileable`; an image against itself, a rolled copy (the same pixels moved), a crop,
//! another seed and another material; a sample that is literally cut out of the exemplar. Then
//! the script bindings and `kiln texture-stats`.

use kiln::script::{Host, RunConfig};
use kiln::texture_stats::{diversity, gram_distance, seam_score, TextureGram, TILEABLE_RATIO};
use kiln::Image;

use crate::util::{expect_code, kiln, tempdir};

/// Runs `src` (with `std/materials` imported as `m`) and returns its result images.
fn run(src: &str) -> Vec<Image> {
    let host = Host::default();
    let compiled = host.compile("t.rhai", &format!("import \"std/materials\" as m;\n{src}")).unwrap();
    host.run(&compiled, RunConfig::default()).unwrap().images
}

/// The lit preview of material `name` at `n`², tileable.
fn material(name: &str, n: u32, seed: u64) -> Image {
    run(&format!("m::preview(m::{name}(#{{ size: {n}, seed: {seed}, tileable: true }}))")).remove(0)
}

fn crop(img: &Image, x0: u32, y0: u32, w: u32, h: u32) -> Image {
    kiln::ops::geometry::crop(img, x0 as i64, y0 as i64, w as i64, h as i64).unwrap()
}

/// The image shifted round by (dx, dy) with wrap-around.
fn roll(img: &Image, dx: u32, dy: u32) -> Image {
    let (w, h) = img.dimensions();
    Image::from_fn(w, h, |x, y| {
        let i = ((((y + dy) % h) * w + (x + dx) % w) * 4) as usize;
        let p = &img.pixels()[i..i + 4];
        [p[0], p[1], p[2], p[3]]
    })
    .unwrap()
}

#[test]
fn seam_score_passes_a_tileable_field_and_catches_the_same_field_without_tileable() {
    let [tiled, cut]: [Image; 2] = run("[fbm(perlin(#{ scale: 6, seed: 4, tileable: true })).render(200, 200), \
          fbm(perlin(#{ scale: 6, seed: 4 })).render(200, 200)]")
    .try_into()
    .unwrap();
    let (a, b) = (seam_score(&tiled), seam_score(&cut));
    eprintln!("tileable {a}, not tileable {b}");
    assert!(a <= TILEABLE_RATIO && a > 0.3, "tileable: {a}");
    assert!(b > 2.0 * TILEABLE_RATIO, "not tileable: {b}");
}

#[test]
fn gram_distance_on_materials() {
    let granite = material("granite", 512, 1);
    assert_eq!(gram_distance(&granite, &granite).unwrap(), 0.0);
    let g = TextureGram::of(&granite).unwrap();
    let d = |img: &Image| g.distance(&TextureGram::of(img).unwrap());
    // The same pixels moved round (the material tiles, so no edge is made): stationarity.
    let rolled = d(&roll(&granite, 173, 301));
    let seed = d(&material("granite", 512, 2));
    let sand = d(&material("sand", 512, 1));
    let lava = d(&material("lava", 512, 1));
    eprintln!("rolled {rolled}, other seed {seed}, sand {sand}, lava {lava}");
    assert!(rolled < 0.02, "rolled {rolled}");
    assert!(seed < 0.2, "another seed {seed}");
    assert!(sand > 10.0 * seed && lava > 10.0 * seed, "other materials: sand {sand}, lava {lava} vs {seed}");
}

#[test]
fn gram_distance_does_not_depend_on_the_image_size_for_a_stationary_texture() {
    let big = material("granite", 1024, 3);
    let half = crop(&big, 256, 128, 512, 512);
    let small = crop(&big, 100, 600, 256, 256);
    let g = TextureGram::of(&big).unwrap();
    let (dh, ds) = (g.distance(&TextureGram::of(&half).unwrap()), g.distance(&TextureGram::of(&small).unwrap()));
    let other = g.distance(&TextureGram::of(&material("marble", 512, 3)).unwrap());
    eprintln!("1024 vs 512 crop {dh}, vs 256 crop {ds}, vs marble {other}");
    assert!(dh < 0.05 && ds < 0.3, "crops: {dh}, {ds}");
    assert!(other > 20.0 * ds, "marble {other}");
}

#[test]
fn diversity_tells_a_copied_crop_from_a_new_render() {
    let ex = material("stone_tiles", 256, 1);
    let copied = crop(&ex, 37, 90, 128, 128);
    let fresh = material("stone_tiles", 256, 2);
    let d = diversity(&[copied, fresh], &ex, 32).unwrap();
    eprintln!("{d:?}");
    assert!(d.copy_ratios[0] < 0.01, "copied crop {:?}", d.copy_ratios);
    assert!((0.6..1.6).contains(&d.copy_ratios[1]), "another seed {:?}", d.copy_ratios);
}

#[test]
fn script_bindings_return_the_library_numbers() {
    let host = Host::default();
    let src = "let a = fbm(perlin(#{ scale: 6, seed: 1, tileable: true })).render(128, 128);\n\
               let b = fbm(perlin(#{ scale: 6, seed: 2, tileable: true })).render(128, 128);\n\
               let d = texture_diversity([b], a, #{ crop: 32 });\n\
               let e = texture_diversity([a, b], a);\n\
               [texture_distance(a, b), seam_score(b), d.copy_ratio, d.copy_ratios[0], d.pairwise, e.pairwise_ratio, d.crop, e.crop]";
    let v: rhai::Array = host.engine().eval(src).unwrap();
    let imgs = run("[fbm(perlin(#{ scale: 6, seed: 1, tileable: true })).render(128, 128), \
          fbm(perlin(#{ scale: 6, seed: 2, tileable: true })).render(128, 128)]");
    let (a, b) = (&imgs[0], &imgs[1]);
    let f = |i: usize| v[i].as_float().unwrap();
    assert_eq!(f(0), gram_distance(a, b).unwrap());
    assert_eq!(f(1), seam_score(b));
    let d = diversity(std::slice::from_ref(b), a, 32).unwrap();
    assert_eq!((f(2), f(3)), (d.copy_ratio, d.copy_ratios[0]));
    assert!(v[4].is_unit(), "one sample has no pairwise distance");
    assert!(f(5) > 0.0);
    assert_eq!((v[6].as_int().unwrap(), v[7].as_int().unwrap()), (32, 64));
}

#[test]
fn script_errors_point_at_the_call() {
    let host = Host::default();
    for (src, want) in [
        ("let a = image(32, 32);\ntexture_distance(a, a)", "at least 64×64"),
        ("let a = image(128, 128);\ntexture_diversity([1], a)", "samples must be an array of Image"),
        ("let a = image(128, 128);\ntexture_diversity([a], a, #{ crop: 100 })", "twice the crop"),
        ("let a = image(128, 128);\ntexture_diversity([a], a, #{ crp: 10 })", "crop"),
    ] {
        let compiled = host.compile("t.rhai", src).unwrap();
        let e = host.run(&compiled, RunConfig::default()).unwrap_err().to_string();
        assert!(e.contains("t.rhai:2:") && e.contains(want), "{src}: {e}");
    }
}

#[test]
fn cli_prints_a_row_per_sample_and_json() {
    let dir = tempdir();
    let imgs = run("[fbm(perlin(#{ scale: 6, seed: 1, tileable: true })).render(192, 192), \
          fbm(perlin(#{ scale: 6, seed: 2, tileable: true })).render(128, 128), \
          fbm(perlin(#{ scale: 6, seed: 3 })).render(128, 128)]");
    let paths: Vec<_> = ["ex.png", "a.png", "b.png"].iter().map(|n| dir.path().join(n)).collect();
    for (img, p) in imgs.iter().zip(&paths) {
        kiln::io::save(img, p, &Default::default()).unwrap();
    }
    let s = |p: &std::path::PathBuf| p.to_str().unwrap().to_string();
    let out = kiln().args(["texture-stats", &s(&paths[0]), &s(&paths[1]), &s(&paths[2]), "--json"]).output().unwrap();
    expect_code(&out, 0);
    let j: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let samples = j["samples"].as_array().unwrap();
    assert_eq!(samples.len(), 2);
    // The saved 8-bit files are what the command reads: compare with the library on them.
    let load = |p: &std::path::PathBuf| kiln::io::load(p).unwrap();
    let want = gram_distance(&load(&paths[0]), &load(&paths[1])).unwrap();
    assert_eq!(samples[0]["gram_distance"].as_f64().unwrap(), want);
    assert!(samples[0]["seam_score"].as_f64().unwrap() <= TILEABLE_RATIO);
    assert!(samples[1]["seam_score"].as_f64().unwrap() > TILEABLE_RATIO);
    assert!(j["pairwise_ratio"].as_f64().unwrap() > 0.0);
    let out = kiln().args(["texture-stats", &s(&paths[0]), &s(&paths[1])]).output().unwrap();
    expect_code(&out, 0);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(text.contains("a.png") && text.contains("128×128") && text.contains("needs two or more"), "{text}");
    // A missing file and a crop too large are exit 1 with the reason.
    let out = kiln().args(["texture-stats", &s(&paths[0]), "missing.png"]).output().unwrap();
    assert!(expect_code(&out, 1).contains("missing.png"));
    let out = kiln().args(["texture-stats", &s(&paths[0]), &s(&paths[1]), "--crop", "100"]).output().unwrap();
    assert!(expect_code(&out, 1).contains("twice the crop"));
}

#[test]
fn every_example_in_the_texture_metrics_section_of_kiln_doc_runs() {
    let doc = kiln::script::doc::markdown();
    let start = doc.find("## Texture metrics").expect("kiln doc has the texture metrics section");
    let section = &doc[start..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let examples: Vec<&str> =
        section.split("```rhai\n").skip(1).map(|rest| &rest[..rest.find("```").unwrap()]).collect();
    assert!(examples.len() >= 4, "{} examples", examples.len());
    let host = Host::default();
    for ex in examples {
        let compiled = host.compile("doc.rhai", ex).unwrap_or_else(|e| panic!("example failed: {e}\n{ex}"));
        host.run(&compiled, RunConfig::default()).unwrap_or_else(|e| panic!("example failed: {e}\n{ex}"));
    }
}
