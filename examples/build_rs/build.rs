//! Bakes the game's textures with kiln at build time.
//!
//! Each script in `textures/` runs through kiln's script host and its image lands in `OUT_DIR`,
//! where `src/main.rs` embeds it with `include_bytes!`. The build script then tells Cargo to
//! re-run it when exactly the files that run read change: the script, the modules it imported
//! (transitively) and the images it loaded, as kiln recorded them while it ran
//! (`kiln::script::depfile::inputs`, the same list as `kiln deps` and `kiln run --depfile`).
//! Nothing else in the crate makes Cargo bake again.

use std::path::{Path, PathBuf};

use kiln::script::{depfile, Host, RunConfig};

/// (script under `textures/`, image written to `OUT_DIR`, `--set` params).
const TEXTURES: &[(&str, &str, &[(&str, &str)])] =
    &[("wall.rhai", "wall.png", &[("rows", "6")]), ("floor.rhai", "floor.png", &[]), ("rust.rhai", "rust.png", &[])];

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let host = Host::default();
    for (script, image, params) in TEXTURES {
        let script = manifest.join("textures").join(script);
        if let Err(message) = bake(&host, &script, &out_dir.join(image), params) {
            // A script error is `file:line:col: message` with the source line and a caret.
            eprintln!("{message}");
            std::process::exit(1);
        }
    }
}

/// Runs `script`, writes its image to `out` and prints a `rerun-if-changed` line per input.
fn bake(host: &Host, script: &Path, out: &Path, params: &[(&str, &str)]) -> Result<(), String> {
    let config = RunConfig {
        // `save()` calls, if a script makes any, stay inside OUT_DIR.
        out_dir: out.parent().map(Path::to_path_buf),
        params: params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        seed: 1,
        ..RunConfig::new(script)
    };
    let outcome = host.run_file(config).map_err(|e| e.to_string())?;
    let image = outcome.images.first().ok_or_else(|| format!("{}: the script returned no image", script.display()))?;
    kiln::io::save(image, out, &kiln::SaveOptions::default()).map_err(|e| e.to_string())?;
    for input in depfile::inputs(script, &outcome) {
        println!("cargo:rerun-if-changed={}", input.display());
    }
    Ok(())
}
