//! Packing (DESIGN.md §7): several images into one, or one image into several.
//!
//! - [`channels`]: grey maps into the R, G, B, A channels of one image (ORM, mask maps);
//! - [`mipmaps`]: a gamma-correct mip chain down to 1×1;
//! - [`atlas`]: many sprites into one image with padding and edge extrusion, and their rects.
//!
//! Owns the pixel work only. Which engine wants which channel where, and the files a PBR set is
//! written to, are `crate::image::pbr`'s; the script bindings are in `script/api/pack.rs`.
//! Must not know about Rhai or files.

use rayon::prelude::*;

use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};

pub mod atlas;
pub mod channels;
pub mod mipmaps;

pub use atlas::{atlas, Atlas, AtlasOptions, Placed};
pub use channels::{grey_value, pack_channels, Pick, Source};
pub use mipmaps::{mipmaps, MipFilter, Mipmaps};

/// A new image with `f` applied to every pixel, allocated through the memory budget
/// (`Image::map_pixels` copies on write, which cannot fail and so is not budgeted).
pub(crate) fn mapped<F>(img: &Image, f: F) -> Result<Image>
where
    F: Fn([f32; 4]) -> [f32; 4] + Sync,
{
    let mut out = Image::new(img.width(), img.height())?;
    out.rows_mut().zip(img.rows()).for_each(|(o, s)| {
        for (o, s) in o.chunks_exact_mut(CHANNELS).zip(s.chunks_exact(CHANNELS)) {
            o.copy_from_slice(&f([s[0], s[1], s[2], s[3]]));
        }
    });
    Ok(out)
}
