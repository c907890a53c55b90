//! The models shipped in `stdlib/models/`, embedded in the binary and loaded as `"std/<name>"`.
//!
//! Owns: the table of shipped model files. They are trained by kiln itself on close-ups of the
//! procedural materials of `std/materials` (see `stdlib/models/README.md` and `scripts/train/`);
//! `materials_spatial_vae` on whole renders of them (`scripts/train/spatial_data.rhai`);
//! `materials_texture` on 512² renders of four of them (`scripts/train/texture_exemplars.rhai`).

use crate::error::{Error, Result};

/// (name, bytes) of every shipped model.
const MODELS: &[(&str, &[u8])] = &[
    ("materials_gan", include_bytes!("../../stdlib/models/materials_gan.safetensors")),
    ("materials_spatial_vae", include_bytes!("../../stdlib/models/materials_spatial_vae.safetensors")),
    ("materials_texture", include_bytes!("../../stdlib/models/materials_texture.safetensors")),
    ("materials_vae", include_bytes!("../../stdlib/models/materials_vae.safetensors")),
];

/// The bytes of shipped model `name`.
pub fn model_bytes(name: &str) -> Result<&'static [u8]> {
    MODELS.iter().find(|(n, _)| *n == name).map(|(_, b)| *b).ok_or_else(|| {
        let names: Vec<&str> = MODELS.iter().map(|(n, _)| *n).collect();
        Error::param(
            "load_model",
            format!(
                "no shipped model `std/{name}` (shipped: {})",
                if names.is_empty() { "none".to_string() } else { names.join(", ") }
            ),
        )
    })
}

/// Names of the shipped models.
pub fn model_names() -> Vec<&'static str> {
    MODELS.iter().map(|(n, _)| *n).collect()
}
