//! kiln as a plain Rust imaging library, with no scripting: load a photo, edit it, save it.
//!
//! Run: `cargo run --example plain_api --no-default-features` (works without Rhai).

use std::path::Path;

use kiln::{Color, Image, SaveOptions};

fn main() -> kiln::Result<()> {
    let photo = kiln::io::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/chelsea.png")))?;
    // Vignette by hand through the pixel API: darken towards the corners.
    let (w, h) = photo.dimensions();
    let vignette = Image::from_fn(w, h, |x, y| {
        let dx = (x as f32 + 0.5) / w as f32 - 0.5;
        let dy = (y as f32 + 0.5) / h as f32 - 0.5;
        let k = 1.0 - (dx * dx + dy * dy) * 1.6;
        let p = photo.get(x as i64, y as i64).unwrap_or(Color::BLACK);
        [p.r * k, p.g * k, p.b * k, p.a]
    })?;
    let out = std::env::temp_dir().join("kiln-plain-api.png");
    kiln::io::save(&vignette, &out, &SaveOptions::default())?;
    println!("wrote {}", out.display());
    Ok(())
}
