//! Every `scripts/*.rhai` runs, and its result is compared with its golden image
//! (`tests/golden/scripts/<name>.png`, tolerance [`Tolerance::GOLDEN`]: max 3/255 per channel,
//! mean 0.05/255, which absorbs 8-bit rounding and float differences between platforms).
//!
//! One named test per script (`scripts::golden::hello`), so `cargo test golden::hello` runs one
//! script and a failure names its script. A new script needs a line in `golden_tests!` below;
//! `every_script_has_a_golden_test` fails until it has one.

use std::path::PathBuf;

use kiln::script::{Host, RunConfig};

use crate::util::{assert_golden, repo, tempdir, Tolerance};

fn example_scripts() -> Vec<PathBuf> {
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(repo().join("scripts"))
        .expect("scripts/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rhai"))
        .collect();
    scripts.sort();
    scripts
}

/// Runs `scripts/<name>.rhai` and compares each result image with its golden
/// (`scripts/<name>.png`, then `scripts/<name>-1.png`, ... for an array of images).
fn check_script(name: &str) {
    let script = repo().join("scripts").join(format!("{name}.rhai"));
    assert!(script.is_file(), "{} is listed in golden_tests! but does not exist", script.display());
    let out = tempdir();
    let config = RunConfig {
        script,
        out_dir: Some(out.path().to_path_buf()),
        allow_read: vec![repo().join("tests/data")],
        ..RunConfig::default()
    };
    let outcome = Host::default().run_file(config).unwrap_or_else(|e| panic!("scripts/{name}.rhai: {e}"));
    assert!(
        !outcome.images.is_empty(),
        "scripts/{name}.rhai: the script's last expression is not an Image or array of Images"
    );
    for (i, img) in outcome.images.iter().enumerate() {
        let golden = if i == 0 { format!("scripts/{name}") } else { format!("scripts/{name}-{i}") };
        assert_golden(&golden, img, Tolerance::GOLDEN);
    }
}

/// One `#[test]` per script in `golden::<name>`, and the list of names for the completeness check.
macro_rules! golden_tests {
    ($($name:ident),* $(,)?) => {
        const LISTED: &[&str] = &[$(stringify!($name)),*];

        mod golden {
            $(
                #[test]
                fn $name() {
                    super::check_script(stringify!($name));
                }
            )*
        }
    };
}

golden_tests!(
    composite_modes,
    draw_poster,
    filter_sharpen_blur,
    geometry_seamless,
    geometry_transforms,
    hello,
    learned_textures,
    live_animation,
    live_params,
    logos,
    materials,
    materials_earth_fire,
    materials_masonry,
    materials_organic,
    materials_sky_water,
    materials_stone,
    model_variations,
    pbr_cobblestone,
    noise,
    random,
    showcase,
    sprites_atlas,
    tone_grade,
);

#[test]
fn every_script_has_a_golden_test() {
    let scripts: Vec<String> =
        example_scripts().iter().map(|p| p.file_stem().unwrap().to_string_lossy().to_string()).collect();
    let missing: Vec<&str> = scripts.iter().map(String::as_str).filter(|s| !LISTED.contains(s)).collect();
    assert!(
        missing.is_empty(),
        "add these scripts to golden_tests! in tests/integration/scripts.rs: {}",
        missing.join(", ")
    );
    assert!(scripts.len() >= 8, "expected at least 8 example scripts, found {}", scripts.len());
}

/// `m::names()` of `std/materials`, the one list of materials.
fn material_names() -> Vec<String> {
    let names: rhai::Array = Host::default()
        .engine()
        .eval(r#"import "std/materials" as m; m::names()"#)
        .unwrap_or_else(|e| panic!("m::names(): {e}"));
    names.into_iter().map(|n| n.into_string().expect("names() returns strings")).collect()
}

/// `m::names()` lists every material `std/materials` defines, and the stdlib README names each.
#[test]
fn the_materials_list_is_complete() {
    let names = material_names();
    let source = std::fs::read_to_string(repo().join("stdlib/materials.rhai")).unwrap();
    let defined: Vec<&str> = source
        .lines()
        .filter_map(|l| l.strip_prefix("fn "))
        .filter_map(|l| l.split_once('(').map(|(n, _)| n))
        .filter(|n| !["names", "make", "preview"].contains(n))
        .collect();
    assert_eq!(names, defined, "m::names() in stdlib/materials.rhai must list every material, in file order");
    let readme = std::fs::read_to_string(repo().join("stdlib/README.md")).unwrap();
    for n in &names {
        assert!(readme.contains(&format!("`{n}`")), "stdlib/README.md does not name `{n}`");
    }
}

#[test]
fn every_example_script_is_listed_in_the_scripts_readme() {
    let readme = std::fs::read_to_string(repo().join("scripts/README.md")).expect("scripts/README.md");
    for script in example_scripts() {
        let name = script.file_name().unwrap().to_string_lossy().to_string();
        assert!(readme.contains(&name), "scripts/README.md has no row for {name}");
    }
}

/// Every `scripts/train/*.rhai` runs end to end at toy settings (a dozen tiles, one epoch), and
/// each writes what its header promises: the training scripts a model file, checkpoint and sample
/// grid; the tile writers their PNGs; the preview script both README pictures.
#[test]
fn every_training_script_runs_at_toy_settings() {
    let dir = repo().join("scripts/train");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scripts/train/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "rhai") && p.file_stem().is_some_and(|s| s != "tiles"))
        .collect();
    scripts.sort();
    assert!(scripts.len() >= 5, "expected the training scripts, found {scripts:?}");
    for script in scripts {
        let name = script.file_stem().unwrap().to_string_lossy().to_string();
        let out = tempdir();
        let params: &[(&str, &str)] = match name.as_str() {
            // the spatial VAE's scripts: one seed per material at 32², one step, 16² crops
            "materials_spatial_vae" => {
                &[("per", "1"), ("size", "32"), ("steps", "1"), ("patch", "16"), ("name", "toy")]
            }
            "spatial_data" => &[("per", "1"), ("size", "16")],
            "spatial_eval" => &[("size", "16"), ("photo_crop", "16"), ("preview", "16")],
            "texture_exemplars" => &[("size", "16")],
            _ => &[("tiles", "12"), ("epochs", "1"), ("name", "toy")],
        };
        let config = RunConfig {
            script: script.clone(),
            out_dir: Some(out.path().to_path_buf()),
            params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            allow_read: vec![repo().join("tests/data")],
            ..RunConfig::default()
        };
        let outcome = Host::default().run_file(config).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(!outcome.images.is_empty(), "{name}: no result image");
        let written = |file: &str| out.path().join(file).is_file();
        match name.as_str() {
            "materials_vae" | "materials_gan" | "materials_spatial_vae" => {
                for file in ["toy.safetensors", "toy.ckpt.safetensors", "toy.samples.png"] {
                    assert!(written(file), "{name}: no {file}");
                }
            }
            "make_tiles" => assert!(written("tile0.png") && written("tile11.png") && !written("tile12.png"), "{name}"),
            "preview_tiles" => assert!(written("tile0.png"), "{name}"),
            "write_reconstructions" => {
                assert!(written("tile0.png") && written("tile11.png") && !written("tile12.png"), "{name}")
            }
            "write_samples" => assert!(written("s0.png") && written("s383.png") && !written("s384.png"), "{name}"),
            "preview_models" => {
                assert!(written("materials_vae.preview.png") && written("materials_gan.preview.png"), "{name}")
            }
            "spatial_data" => {
                let files = ["bricks_1_albedo.png", "wood_1_lit.png", "wood_101_lit.png"];
                assert!(files.iter().all(|f| written(f)) && !written("wood_2_lit.png"), "{name}")
            }
            "spatial_eval" => assert_eq!(outcome.images[0].dimensions(), (32, 16), "{name}"),
            "texture_exemplars" => {
                let files = ["granite.png", "grass.png", "marble.png", "rust.png"];
                assert!(files.iter().all(|f| written(f)), "{name}")
            }
            other => panic!("scripts/train/{other}.rhai has no check here: add one"),
        }
    }
}
