//! Geometry: the ops that move pixels without changing their colours (DESIGN.md §4, geometry).
//!
//! Owns: cropping, flips, exact quarter turns, padding and tiling (`exact`), resizing through
//! `fast_image_resize` (`resize`), the inverse-mapped affine sampler behind `rotate`, `translate`
//! and `affine` (`affine`, `sampler`), and `seamless` (`seamless`). Must not know about Rhai, files
//! or fields.
//!
//! Also owns the option sets of these ops (`ResizeOptions`, `Sampling`, `Rotate`, `Affine`,
//! `Seamless`, declared with `option_set!` next to each op, and [`Filter`] read from its name):
//! their defaults, ranges and doc lines are what scripts get and `kiln doc` prints.
//!
//! Conventions (DESIGN.md §2): pixel centres sit at +0.5, a positive angle turns clockwise on
//! screen, and every op that mixes neighbouring pixels (resize, the sampler, seamless) works on
//! premultiplied alpha, so transparent pixels never bleed a dark fringe into visible ones. Opaque
//! images skip the premultiplication. `linear: true` converts to linear light before mixing and
//! back after. Ops that only copy pixels (crop, flips, quarter turns, pad, tile) are exact.

mod affine;
mod exact;
mod resize;
mod sampler;
mod seamless;

pub use affine::{affine, rotate, translate, translate_with, Affine, Rotate, Sampling, Shear};
pub use exact::{crop, flip_h, flip_v, pad, rotate180, rotate270, rotate90, tile};
pub use resize::{resize, resize_with, scale, ResizeOptions};
pub use seamless::{seamless, Seamless};

use crate::error::{Error, Result};
use crate::image::buffer::{check_size, CHANNELS};
use crate::image::color::{linear_to_srgb, srgb_to_linear};
use crate::image::Image;

/// A reconstruction filter, shared by `resize` and the affine sampler.
///
/// - `Nearest`: the closest pixel (blocky, exact for pixel art).
/// - `Bilinear`: the triangle filter (support 1).
/// - `Bicubic`: Catmull-Rom, i.e. Keys' cubic with a = -0.5, which is what Pillow's `BICUBIC` and
///   libvips' `cubic` use (support 2).
/// - `Lanczos3`: windowed sinc with a = 3 (support 3), Pillow's `LANCZOS`.
///
/// When shrinking, `resize` widens the kernel by the scale factor (an antialiasing low-pass, as
/// Pillow, ImageMagick and libvips do); the affine sampler does not (it interpolates), so shrink
/// large amounts with `resize` first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    Nearest,
    Bilinear,
    Bicubic,
    Lanczos3,
}

impl Filter {
    /// Every filter name, in the order documented for scripts.
    pub const NAMES: [&'static str; 4] = ["nearest", "bilinear", "bicubic", "lanczos3"];

    /// Parses a filter name (`"nearest"`, `"bilinear"`, `"bicubic"`, `"lanczos3"`).
    pub fn parse(op: &str, name: &str) -> Result<Filter> {
        match name {
            "nearest" => Ok(Filter::Nearest),
            "bilinear" => Ok(Filter::Bilinear),
            "bicubic" => Ok(Filter::Bicubic),
            "lanczos3" => Ok(Filter::Lanczos3),
            other => Err(Error::param(
                op,
                format!("unknown filter '{other}'; valid filters are: {}", Filter::NAMES.join(", ")),
            )),
        }
    }

    /// The filter's script name.
    pub fn name(self) -> &'static str {
        match self {
            Filter::Nearest => "nearest",
            Filter::Bilinear => "bilinear",
            Filter::Bicubic => "bicubic",
            Filter::Lanczos3 => "lanczos3",
        }
    }
}

crate::option_choice!(Filter {
    Nearest = "nearest",
    Bilinear = "bilinear",
    Bicubic = "bicubic",
    Lanczos3 = "lanczos3",
});

/// A zeroed pixel buffer for a `w` × `h` result, checked against the limits before allocating.
/// `vec![0.0; n]` gets zeroed pages from the allocator, so callers that overwrite every pixel do
/// not pay for a fill pass.
fn blank(op: &str, w: i64, h: i64) -> Result<(u32, u32, Vec<f32>)> {
    let (w, h) = check_size(w, h).map_err(|e| match e {
        Error::Parameter { message, .. } => Error::param(op, message),
        other => other,
    })?;
    let n = w as usize * h as usize * CHANNELS;
    // Ask the budget first, so an image over it is the accountant's error before any work; the
    // image made from this buffer (`Image::from_rgba`) holds the reservation for as long as it lives.
    drop(crate::memory::reserve(n as u64 * 4, &format!("a {w}x{h} image"))?);
    // Ask first, so an allocation that cannot be satisfied is an error and not an abort.
    let mut probe: Vec<f32> = Vec::new();
    probe.try_reserve_exact(n).map_err(|_| Error::Limit(format!("{op}: out of memory for a {w}x{h} image")))?;
    drop(probe);
    Ok((w, h, vec![0.0; n]))
}

/// Converts the colour channels to linear light (alpha untouched).
fn to_linear(img: &Image) -> Image {
    img.map_pixels(|[r, g, b, a]| [srgb_to_linear(r), srgb_to_linear(g), srgb_to_linear(b), a])
}

/// Converts the colour channels from linear light back to sRGB (alpha untouched).
fn from_linear(img: &Image) -> Image {
    img.map_pixels(|[r, g, b, a]| [linear_to_srgb(r), linear_to_srgb(g), linear_to_srgb(b), a])
}

/// Checks that a number is finite, naming it.
fn finite(op: &str, what: &str, v: f64) -> Result<f64> {
    crate::error::finite(op, what, v)
}
