//! Surface ops on height maps (DESIGN.md §7 "Game materials"): normal map, ambient occlusion,
//! curvature, height blend, slope blur and histogram scan — the nodes a Substance Designer or
//! Material Maker user builds a PBR set from. One op per file; this file holds what they share.
//!
//! Owns: reading a height map out of an [`Image`] ([`Height`]), the edge-padded height buffer
//! every neighbourhood op reads ([`Padded`]), and the option sets of these ops (declared beside
//! each op with `option_set!`). Must not know about Rhai, files or fields (a field reaches these
//! ops through `render`).
//!
//! Conventions shared by every op here:
//! - **Height is grey.** A grey image (R = G = B everywhere) gives its R channel; any other image
//!   gives its luminance (Pillow's `L` weights 0.299, 0.587, 0.114 on the stored values), as
//!   Substance does when a colour map is plugged into a grey input. Alpha is ignored: a height map
//!   is a height everywhere. Values are not clamped, so 16-bit and HDR heights keep their range.
//! - **Height units.** One unit of height is as tall as one pixel is wide, times the op's
//!   `strength` (see each op): `normal_map(#{ strength: 1 })` turns a height step of 1.0 between
//!   neighbouring pixels into a 45° slope.
//! - **NaN heights are an error** naming the op and the first pixel (row-major) that holds one;
//!   infinite heights too. Nothing NaN reaches an output.
//! - **Edges.** Every neighbourhood op takes `edge` (`"clamp" | "wrap" | "mirror" |
//!   "transparent"`); absent, it is `wrap` for an image tagged tileable and `clamp` otherwise
//!   (the shared rule of `image::ops::edge`). `transparent` reads height 0 outside the image.
//!   The output keeps the tileable tag when the input had it and the op wrapped.
//! - **Determinism.** Every output value is computed by one thread from a fixed list of reads in a
//!   fixed order; rows are split among rayon's threads, so the bytes do not depend on the thread
//!   count. Long ops skip their remaining rows once the run's cancel token is set and return its
//!   error; scratch buffers are reserved from the memory budget before they are allocated.
//!
//! The ops are hand-written: no crate offers height-map surface ops on f32 images, and the inner
//! loops are plain slice loops over a padded buffer (no per-pixel edge branches).

mod blend;
mod curvature;
mod histogram;
mod normal;
mod occlusion;
mod slope_blur;

pub use crate::image::ops::edge::Edge;
pub use blend::{height_blend, HeightBlend};
pub use curvature::{curvature, Curvature};
pub use histogram::histogram_scan;
pub use normal::{normal_map, Convention, NormalMap};
pub use occlusion::{ambient_occlusion, AmbientOcclusion};
pub use slope_blur::{slope_blur, SlopeBlur};

use crate::error::{Error, Result};
use crate::image::buffer::{Image, CHANNELS};
use crate::image::color::luma;
use crate::memory::{self, Reservation};

/// A height map read from an image: one f32 per pixel, row-major, finite.
pub(crate) struct Height {
    pub w: usize,
    pub h: usize,
    pub values: Vec<f32>,
    _held: Reservation,
}

impl Height {
    /// The image's height (R of a grey image, else luminance), or an error naming `op` at the first
    /// non-finite value.
    pub(crate) fn of(op: &str, img: &Image) -> Result<Height> {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let held = reserve_floats(w * h, op)?;
        use rayon::prelude::*;
        let px = img.pixels();
        // Parallel but order-preserving (indexed collect, first position): same result at any
        // thread count.
        let grey = px.par_chunks_exact(CHANNELS).all(|p| p[0] == p[1] && p[1] == p[2]);
        let values: Vec<f32> =
            px.par_chunks_exact(CHANNELS).map(|p| if grey { p[0] } else { luma([p[0], p[1], p[2], 1.0]) }).collect();
        if let Some(i) = values.par_iter().position_first(|v| !v.is_finite()) {
            let what = if values[i].is_nan() { "NaN" } else { "an infinite value" };
            return Err(Error::param(
                op,
                format!("the height map holds {what} at pixel ({}, {}); heights must be finite numbers", i % w, i / w),
            ));
        }
        Ok(Height { w, h, values, _held: held })
    }

    /// This height padded by `pad` pixels on every side under `edge`.
    pub(crate) fn padded(&self, op: &str, pad: usize, edge: Edge) -> Result<Padded> {
        Padded::new(op, self, pad, edge)
    }
}

/// A height map with `pad` extra pixels on each side, filled by the edge mode: neighbourhood
/// reads at offsets up to `pad` need no bounds checks.
pub(crate) struct Padded {
    pub pad: usize,
    /// Row length (`w + 2·pad`).
    pub stride: usize,
    pub values: Vec<f32>,
    _held: Reservation,
}

impl Padded {
    fn new(op: &str, src: &Height, pad: usize, edge: Edge) -> Result<Padded> {
        let (pw, ph) = (src.w + 2 * pad, src.h + 2 * pad);
        let held = reserve_floats(pw * ph, op)?;
        let mut values = vec![0f32; pw * ph];
        let cols = edge.table(-(pad as i64), (src.w + pad) as i64, src.w);
        use rayon::prelude::*;
        values.par_chunks_mut(pw).enumerate().for_each(|(py, row)| {
            let Some(sy) = edge.index(py as i64 - pad as i64, src.h) else {
                return; // transparent: zeros
            };
            let srow = &src.values[sy * src.w..(sy + 1) * src.w];
            row[pad..pad + src.w].copy_from_slice(srow);
            for (i, c) in cols.iter().enumerate() {
                if i < pad || i >= pad + src.w {
                    row[i] = c.map_or(0.0, |x| srow[x]);
                }
            }
        });
        Ok(Padded { pad, stride: pw, values, _held: held })
    }

    /// The Scharr gradient (d/dx, d/dy with y down) at `(x, y)` in height per pixel: exact for a
    /// linear ramp. Needs `pad >= 1`.
    #[inline]
    pub(crate) fn gradient(&self, x: usize, y: usize) -> (f32, f32) {
        let s = self.stride;
        let c = (y + self.pad) * s + x + self.pad;
        let v = &self.values;
        let (tl, t, tr) = (v[c - s - 1], v[c - s], v[c - s + 1]);
        let (l, r) = (v[c - 1], v[c + 1]);
        let (bl, b, br) = (v[c + s - 1], v[c + s], v[c + s + 1]);
        let gx = (3.0 * (tr - tl) + 10.0 * (r - l) + 3.0 * (br - bl)) / 32.0;
        let gy = (3.0 * (bl - tl) + 10.0 * (b - t) + 3.0 * (br - tr)) / 32.0;
        (gx, gy)
    }
}

/// Reserves `n` f32 of scratch from the memory budget.
pub(crate) fn reserve_floats(n: usize, op: &str) -> Result<Reservation> {
    memory::reserve(n as u64 * 4, &format!("{op}'s working buffer"))
}

/// Refuses an image holding NaN or an infinity (a colour input blurred or blended here would
/// carry it into the output), naming `op`, the input and the first such pixel.
pub(crate) fn check_finite(op: &str, what: &str, img: &Image) -> Result<()> {
    match img.pixels().iter().position(|v| !v.is_finite()) {
        None => Ok(()),
        Some(i) => {
            let (p, w) = (i / CHANNELS, img.width() as usize);
            Err(Error::param(
                op,
                format!("{what} holds a non-finite value (NaN or infinity) at pixel ({}, {})", p % w, p / w),
            ))
        }
    }
}

/// Checks two images have the same size.
pub(crate) fn same_size(op: &str, what: &str, a: &Image, b: &Image) -> Result<()> {
    if a.dimensions() != b.dimensions() {
        return Err(Error::param(
            op,
            format!(
                "{what} must be the same size as the image: {}x{} vs {}x{}",
                b.width(),
                b.height(),
                a.width(),
                a.height()
            ),
        ));
    }
    Ok(())
}

/// Builds an opaque or alpha-carrying image row by row in parallel: `f(y, row)` fills one output
/// row. Rows are skipped once the run's cancel token is set, and its error is returned.
pub(crate) fn build_rows<F>(w: usize, h: usize, f: F) -> Result<Image>
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    let mut out = Image::new(w as u32, h as u32)?;
    let stop = crate::cancel::current();
    use rayon::prelude::*;
    out.rows_mut().enumerate().for_each(|(y, row)| {
        if !stop.is_stopped() {
            f(y, row);
        }
    });
    stop.check()?;
    Ok(out)
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::image::buffer::Image;

    /// A grey image from a height function.
    pub fn height_image(w: u32, h: u32, f: impl Fn(f32, f32) -> f32 + Sync) -> Image {
        Image::from_fn(w, h, |x, y| {
            let v = f(x as f32, y as f32);
            [v, v, v, 1.0]
        })
        .unwrap()
    }

    /// The image shifted round by (dx, dy): pixel (x, y) moves to (x + dx, y + dy) mod size.
    pub fn roll(img: &Image, dx: u32, dy: u32) -> Image {
        let (w, h) = img.dimensions();
        Image::from_fn(w, h, |x, y| {
            let (sx, sy) = ((x + w - dx % w) % w, (y + h - dy % h) % h);
            let p = img.get(sx as i64, sy as i64).unwrap();
            [p.r, p.g, p.b, p.a]
        })
        .unwrap()
    }

    /// kiln's seam metric (`image::texture_stats::Seam`) on the red channel: (difference across
    /// the wrap edge, largest interior neighbour difference).
    pub fn seam(img: &Image) -> (f32, f32) {
        let s = crate::image::texture_stats::Seam::of_channel(img, 0);
        (s.wrap as f32, s.inner as f32)
    }
}
