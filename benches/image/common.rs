//! Shared inputs for the image benchmarks: the bundled photos, resized to bench sizes.
#![allow(dead_code)]

use kiln::Image;

/// A photo from tests/data scaled to `size`², RGBA, deterministic.
pub fn photo(size: u32) -> Image {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/astronaut.png");
    let img = kiln::io::load(std::path::Path::new(path)).expect("tests/data/astronaut.png");
    kiln::ops::geometry::resize(&img, size, size, kiln::ops::geometry::Filter::Bilinear).expect("resize")
}
