//! kiln as a plain Rust imaging library, with no scripting: load a photo, grade, blur, rotate,
//! title and save it — the same operations the Rhai API wraps, called directly.
//!
//! Run: `cargo run --example plain_api --no-default-features` (builds without Rhai).

use std::path::Path;

use kiln::ops::{composite, draw, filter, geometry, text, tone};
use kiln::{Color, SaveOptions};

fn main() -> kiln::Result<()> {
    let photo = kiln::io::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/chelsea.png")))?;
    let small = geometry::resize(&photo, 320, 216, geometry::Filter::Lanczos3)?;
    let graded = tone::contrast(&tone::brightness(&small, 1.1)?, 1.2)?;
    let soft = filter::blur(&graded, 1.5)?;
    let tilted = geometry::rotate(&soft, 8.0, &geometry::Rotate::default())?;

    let (w, h) = tilted.dimensions();
    let stops = [(0.0, Color::parse("#1d1b26")?), (1.0, Color::parse("#4a2c6d")?)];
    let backdrop = draw::gradient::linear_gradient(w, h, 90.0, &stops, draw::gradient::Space::Oklab)?;
    let framed = composite::over(&tilted, &backdrop)?;
    let style = text::TextStyle { size: 24.0, color: Color::WHITE, ..Default::default() };
    let titled = text::draw_text(&framed, "plain Rust", 16.0, 12.0, &style, &text::read_font_file)?;

    let out = std::env::temp_dir().join("kiln-plain-api.png");
    kiln::io::save(&titled, &out, &SaveOptions::default())?;
    println!("wrote {} ({}x{})", out.display(), titled.width(), titled.height());
    Ok(())
}
