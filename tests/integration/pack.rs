//! Packing and game-asset export from scripts (issue 12 §4): `save_pbr`, `mipmaps`, `atlas`,
//! `save_json`, and their bad input (a set missing a map for a preset, an atlas over
//! `max_size`, values JSON cannot hold) with the script position and no files left behind.
//! The pixel-level checks of each preset's layout are unit tests in `src/image/pbr.rs`.

use std::path::Path;

use kiln::script::{Host, RunConfig};
use kiln::Image;

use crate::util::{expect_code, run_in, tempdir, write};

/// Runs `source` as `s.rhai` in `dir` (out folder `dir/out`); the outcome or the error's text.
fn run(dir: &Path, source: &str) -> Result<kiln::script::Outcome, String> {
    let script = write(dir, "s.rhai", source);
    let config = RunConfig { script, out_dir: Some(dir.join("out")), ..RunConfig::default() };
    Host::default().run_file(config).map_err(|e| e.to_string())
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(entries) => entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => vec![],
    };
    names.sort();
    names
}

const SET: &str = r##"
let g = |v| image(8, 8, rgb(v, v, v));
let set = #{ albedo: image(8, 8, "#c08040"), normal: image(8, 8, rgb(0.25, 0.75, 0.9)),
             roughness: g.call(0.6), metallic: g.call(0.2), ao: g.call(0.9), height: g.call(0.4) };
"##;

#[test]
fn save_pbr_writes_each_presets_files_and_returns_their_paths() {
    let dir = tempdir();
    let source = format!(
        "{SET}\nlet all = [];\nfor p in [\"gltf\", \"unreal\", \"unity_hdrp\", \"godot\"] {{\n    \
         all += save_pbr(set, `tex/${{p}}/stone`, #{{ preset: p }});\n}}\n\
         if all.len() != 16 || all[2] != \"tex/gltf/stone_OcclusionRoughnessMetallic.png\" {{ throw `paths: ${{all}}`; }}\n\
         set.albedo"
    );
    let out = run(dir.path(), &source).unwrap();
    let tex = dir.path().join("out/tex");
    assert_eq!(
        files_in(&tex.join("unreal")),
        ["stone_BaseColor.png", "stone_Height.png", "stone_Normal.png", "stone_ORM.png"]
    );
    assert_eq!(
        files_in(&tex.join("unity_hdrp")),
        ["stone_BaseColor.png", "stone_Height.png", "stone_MaskMap.png", "stone_Normal.png"]
    );
    assert_eq!(
        files_in(&tex.join("godot")),
        ["stone_Albedo.png", "stone_Height.png", "stone_Normal.png", "stone_ORM.png"]
    );
    let px = |p: &str| kiln::io::load(&tex.join(p)).unwrap().get(3, 3).unwrap().to_array();
    let near = |a: [f32; 4], b: [f32; 4]| a.iter().zip(b).all(|(x, y)| (x - y).abs() <= 0.6 / 255.0);
    assert!(near(px("unreal/stone_ORM.png"), [0.9, 0.6, 0.2, 1.0]), "{:?}", px("unreal/stone_ORM.png"));
    assert!(near(px("unreal/stone_Normal.png"), [0.25, 0.25, 0.9, 1.0]), "DirectX flips green");
    assert!(near(px("godot/stone_Normal.png"), [0.25, 0.75, 0.9, 1.0]), "Godot is OpenGL");
    assert!(near(px("unity_hdrp/stone_MaskMap.png"), [0.2, 0.9, 1.0, 0.4]), "{:?}", px("unity_hdrp/stone_MaskMap.png"));
    assert!(near(px("gltf/stone_OcclusionRoughnessMetallic.png"), [0.9, 0.6, 0.2, 1.0]));
    assert!(near(px("gltf/stone_BaseColor.png"), [0xc0 as f32 / 255.0, 0x80 as f32 / 255.0, 0x40 as f32 / 255.0, 1.0]));
    assert_eq!(out.outputs.len(), 16, "every file is reported as an output of the run");
}

/// Bad input: a set without `roughness` for Unreal stops at the call with the missing map and
/// the preset named, and leaves no file (the other maps were fine and are not written either).
#[test]
fn a_set_missing_a_map_for_its_preset_fails_at_the_call_and_writes_nothing() {
    let dir = tempdir();
    write(
        dir.path(),
        "pbr.rhai",
        &format!("{SET}\nset.remove(\"roughness\");\nsave_pbr(set, \"stone\", #{{ preset: \"unreal\" }});\n"),
    );
    let err = expect_code(&run_in(dir.path(), &["run", "pbr.rhai", "--out", "out"]), 1);
    let first = err.lines().next().unwrap();
    assert_eq!(
        first,
        "pbr.rhai:7:1: save_pbr: the unreal preset needs 'roughness' (for _ORM), which the set does not \
         have; it has: albedo, height, normal, metallic, ao"
    );
    assert!(err.contains("^"), "a caret under the call:\n{err}");
    assert_eq!(files_in(&dir.path().join("out")), Vec::<String>::new(), "no partial set");
}

#[test]
fn a_map_of_the_wrong_type_in_a_set_is_named() {
    let dir = tempdir();
    let err = run(dir.path(), &format!("{SET}\nset.ao = 0.5;\nsave_pbr(set, \"m\")")).unwrap_err();
    assert!(err.contains("s.rhai:7:1: save_pbr: the PBR set's 'ao' must be an Image, not a FLOAT"), "{err}");
}

#[test]
fn mipmaps_from_a_script_go_down_to_one_pixel() {
    let dir = tempdir();
    let out = run(dir.path(), "image(20, 6, \"orange\").mipmaps(#{ filter: \"tent\", tileable: true })").unwrap();
    let sizes: Vec<(u32, u32)> = out.images.iter().map(Image::dimensions).collect();
    assert_eq!(sizes, [(20, 6), (10, 3), (5, 1), (2, 1), (1, 1)]);
    let c = out.images[4].get(0, 0).unwrap();
    assert!((c.r - 1.0).abs() < 1e-5 && (c.g - 165.0 / 255.0).abs() < 1e-4, "a flat image keeps its colour: {c:?}");
}

#[test]
fn an_atlas_of_named_sprites_and_its_json() {
    let dir = tempdir();
    let source = r#"
let a = atlas(#{ coin: image(16, 16, "gold"), key: image(8, 24, "gray"), gem: image(10, 10, "red") },
              #{ padding: 2, extrude: 1, power_of_two: true });
save_json(#{ size: [a.image.width, a.image.height], frames: a.rects }, "sprites.json");
a.image
"#;
    let out = run(dir.path(), source).unwrap();
    let img = &out.images[0];
    assert!(img.width().is_power_of_two() && img.height().is_power_of_two());
    let text = std::fs::read_to_string(dir.path().join("out/sprites.json")).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["size"], serde_json::json!([img.width(), img.height()]));
    let frames = json["frames"].as_array().unwrap();
    // Map input is packed in name order: coin, gem, key.
    let names: Vec<&str> = frames.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["coin", "gem", "key"]);
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f["index"], i);
        let (x, y) = (f["x"].as_i64().unwrap(), f["y"].as_i64().unwrap());
        let expected = match names[i] {
            "coin" => kiln::Color::parse("gold").unwrap(),
            "gem" => kiln::Color::parse("red").unwrap(),
            _ => kiln::Color::parse("gray").unwrap(),
        };
        assert_eq!(img.get(x, y), Some(expected), "{} at its rect", names[i]);
        assert_eq!(img.get(x - 1, y - 1), Some(expected), "{} extruded by 1", names[i]);
        assert_eq!(img.get(x - 2, y), Some(kiln::Color::TRANSPARENT), "{} padding", names[i]);
    }
    // Pretty-printed with sorted keys.
    assert!(text.starts_with("{\n  \"frames\": [\n    {\n      \"h\": "), "{text}");
    assert!(text.ends_with("}\n"));
}

/// Bad input: sprites that cannot fit `max_size` fail at the call, naming the sizes.
#[test]
fn an_atlas_over_max_size_fails_at_the_call_naming_the_sizes() {
    let dir = tempdir();
    write(
        dir.path(),
        "a.rhai",
        "let s = [];\nfor i in 0..10 { s.push(image(30, 30, \"red\")); }\nlet a = atlas(s, #{ max_size: 64 });\n",
    );
    let err = expect_code(&run_in(dir.path(), &["run", "a.rhai"]), 1);
    assert!(
        err.starts_with(
            "a.rhai:3:9: atlas: 10 images (10240 pixels with padding 2 and extrude 0) do not fit in max_size 64x64"
        ),
        "{err}"
    );
    let err = run(dir.path(), "atlas([image(100, 4)], #{ max_size: 64 })").unwrap_err();
    assert!(
        err.contains("s.rhai:1:1: atlas: image 0 (100x4) does not fit in max_size 64x64 with padding 2 and extrude 0"),
        "{err}"
    );
    let err = run(dir.path(), "atlas([image(4, 4), 3])").unwrap_err();
    assert!(err.contains("s.rhai:1:1: atlas: images[1] must be an Image, got INT"), "{err}");
}

#[test]
fn save_json_refuses_what_json_cannot_hold_and_writes_nothing() {
    let dir = tempdir();
    let err = run(dir.path(), "save_json(#{ a: [1, #{ img: image(2, 2) }] }, \"x.json\")").unwrap_err();
    assert!(err.contains("s.rhai:1:1: save_json: value.a[1].img is an Image, which JSON cannot hold"), "{err}");
    let err = run(dir.path(), "save_json([0.0 / 0.0], \"x.json\")").unwrap_err();
    assert!(err.contains("save_json: value[0] must be a finite number, got NaN"), "{err}");
    let err = run(dir.path(), "save_json(3, \"x.json\")").unwrap_err();
    assert!(err.contains("save_json: the value must be a map or an array, got INT"), "{err}");
    let err = run(dir.path(), "save_json([], \"../x.json\")").unwrap_err();
    assert!(err.contains("writes are allowed only inside the out folder"), "{err}");
    assert_eq!(files_in(&dir.path().join("out")), Vec::<String>::new());
    assert!(!dir.path().join("x.json").exists());

    run(dir.path(), "save_json(#{ b: (), a: true, c: 'x', d: [1, 2.5, \"s\"] }, \"ok.json\")").unwrap();
    let text = std::fs::read_to_string(dir.path().join("out/ok.json")).unwrap();
    assert_eq!(
        text,
        "{\n  \"a\": true,\n  \"b\": null,\n  \"c\": \"x\",\n  \"d\": [\n    1,\n    2.5,\n    \"s\"\n  ]\n}\n"
    );
}
