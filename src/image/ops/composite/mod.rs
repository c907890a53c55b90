//! Compositing: layering one image on another (`over`, the 13 blend modes), alpha and channel
//! plumbing (`mask`, `alpha`, `with_alpha`, `channel`) and contact sheets (`grid`).
//!
//! Owns: placement of a top layer on a backdrop and the per-row parallel walk, and the option set
//! of `grid` ([`GridOptions`]); the blend formulas live in [`blend`]. Must not know about Rhai, files or drawing.
//!
//! Conventions (DESIGN.md §2, §4):
//! - In every two-image op, the receiver `a` is the **top** layer and `b` the **backdrop**:
//!   `a.over(b)`, `a.blend(b, "multiply", 0.5)`. The result has the backdrop's size; parts of the
//!   top layer outside it are cut off.
//! - Offsets are whole pixels: the top layer's (0, 0) pixel lands on backdrop pixel (x, y); a
//!   fractional offset is rounded by the script binding. For sub-pixel placement translate first.
//! - Straight alpha in and out; the arithmetic is the premultiplied W3C formula (no fringes).
//! - Masks use luminance times alpha (CSS `mask-type: luminance`), luminance being the Pillow
//!   `L` weights ([`crate::image::color::LUMA`]), clamped to 0..1.
//!
//! Speed: [`blend_at`] writes every output row once: copy the backdrop row (in cache), then blend the
//! top span onto it. No premultiplied temporaries; W6 (2048² over) is one pass over memory.

pub mod blend;

use rayon::prelude::*;

pub use blend::BlendMode;

use crate::error::{Error, Result};
use crate::image::buffer::{check_size, Image, CHANNELS};
use crate::image::color::{luma, Color};

/// `top` over `bottom` (Porter-Duff source-over), both at (0, 0); the result has `bottom`'s size.
pub fn over(top: &Image, bottom: &Image) -> Result<Image> {
    blend_at(top, bottom, 0, 0, BlendMode::Normal, 1.0)
}

/// `top` over `bottom` with the top's (0, 0) pixel at `bottom`'s pixel (x, y).
pub fn over_at(top: &Image, bottom: &Image, x: i64, y: i64) -> Result<Image> {
    blend_at(top, bottom, x, y, BlendMode::Normal, 1.0)
}

/// `top` blended onto `bottom` with `mode`; `opacity` in 0..1 scales the top's alpha.
pub fn blend(top: &Image, bottom: &Image, mode: BlendMode, opacity: f32) -> Result<Image> {
    blend_at(top, bottom, 0, 0, mode, opacity)
}

/// The general form: `top` at (x, y) on `bottom`, with `mode` and `opacity`.
pub fn blend_at(top: &Image, bottom: &Image, x: i64, y: i64, mode: BlendMode, opacity: f32) -> Result<Image> {
    check_opacity(opacity)?;
    let (w, h) = bottom.dimensions();
    let stride = bottom.stride();
    let n = bottom.pixels().len();
    let mut data: Vec<f32> = Vec::new();
    data.try_reserve_exact(n).map_err(|_| Error::Limit(format!("out of memory for a {w}x{h} image")))?;
    let span = Span::new(top, bottom, x, y);
    // One parallel pass straight into the new buffer: each row is initialised from the backdrop
    // and blended while it is in cache. Writing the spare capacity skips the zero-fill that
    // `vec![0.0; n]` or `resize` would add (measured: a full extra 64 MB pass on W6).
    data.spare_capacity_mut()[..n].par_chunks_mut(stride).zip(bottom.rows()).enumerate().for_each(
        |(row, (out, back))| {
            for (o, b) in out.iter_mut().zip(back) {
                o.write(*b);
            }
            // SAFETY: every element of `out` was initialised just above, and MaybeUninit<f32> has
            // the layout of f32.
            let out: &mut [f32] = unsafe { &mut *(out as *mut [std::mem::MaybeUninit<f32>] as *mut [f32]) };
            if let Some((dst, src)) = span.row(top, out, row as i64) {
                blend::mode_span(mode, dst, src, opacity);
            }
        },
    );
    // SAFETY: the loop above initialised all `n` elements (rows of `stride` cover `n` exactly).
    unsafe { data.set_len(n) };
    Ok(Image::from_rgba(w, h, data)?.with_tileable(tiles(top, bottom, x, y)))
}

/// A blend tiles when both layers tile and lie on each other exactly (see `ops::edge`).
fn tiles(top: &Image, bottom: &Image, x: i64, y: i64) -> bool {
    top.tileable() && bottom.tileable() && (x, y) == (0, 0) && top.dimensions() == bottom.dimensions()
}

/// In place: blends `top` at (x, y) onto `dst`, touching only the rows it covers.
pub fn blend_in_place(dst: &mut Image, top: &Image, x: i64, y: i64, mode: BlendMode, opacity: f32) -> Result<()> {
    check_opacity(opacity)?;
    let span = Span::new(top, dst, x, y);
    if span.w == 0 {
        return Ok(());
    }
    let keep = tiles(top, dst, x, y);
    dst.set_tileable(keep);
    let stride = dst.stride();
    let rows = span.y0 as usize..(span.y0 + span.h) as usize;
    dst.pixels_mut()[rows.start * stride..rows.end * stride].par_chunks_mut(stride).enumerate().for_each(|(i, out)| {
        if let Some((d, s)) = span.row(top, out, span.y0 + i as i64) {
            blend::mode_span(mode, d, s, opacity);
        }
    });
    Ok(())
}

fn check_opacity(opacity: f32) -> Result<()> {
    if !(0.0..=1.0).contains(&opacity) {
        return Err(Error::param("blend", format!("opacity must be in 0..1, got {opacity}")));
    }
    Ok(())
}

/// The overlap of a top layer placed at (x, y) with the backdrop, in backdrop pixels.
struct Span {
    x: i64,
    y: i64,
    x0: i64,
    y0: i64,
    w: i64,
    h: i64,
}

impl Span {
    fn new(top: &Image, bottom: &Image, x: i64, y: i64) -> Span {
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = (x.saturating_add(top.width() as i64)).min(bottom.width() as i64);
        let y1 = (y.saturating_add(top.height() as i64)).min(bottom.height() as i64);
        let (w, h) = if x1 > x0 && y1 > y0 { (x1 - x0, y1 - y0) } else { (0, 0) };
        Span { x, y, x0, y0, w, h }
    }

    /// For backdrop row `row`, the destination span in `out` and the top layer's source span.
    fn row<'a, 'b>(&self, top: &'a Image, out: &'b mut [f32], row: i64) -> Option<(&'b mut [f32], &'a [f32])> {
        if self.w == 0 || row < self.y0 || row >= self.y0 + self.h {
            return None;
        }
        let src_row = top.row((row - self.y) as u32);
        let sx = (self.x0 - self.x) as usize * CHANNELS;
        let dx = self.x0 as usize * CHANNELS;
        let n = self.w as usize * CHANNELS;
        Some((&mut out[dx..dx + n], &src_row[sx..sx + n]))
    }
}

fn same_size(op: &str, a: &Image, m: &Image) -> Result<()> {
    if a.dimensions() != m.dimensions() {
        return Err(Error::param(
            op,
            format!(
                "the mask is {}x{} but the image is {}x{}; resize it first",
                m.width(),
                m.height(),
                a.width(),
                a.height()
            ),
        ));
    }
    Ok(())
}

/// Mask value of one pixel: luminance × alpha, clamped to 0..1.
#[inline]
fn mask_value(p: &[f32]) -> f32 {
    (luma([p[0], p[1], p[2], p[3]]) * p[3].clamp(0.0, 1.0)).clamp(0.0, 1.0)
}

/// Multiplies `img`'s alpha by `m`'s luminance (× its alpha). `m` must have the same size.
pub fn mask(img: &Image, m: &Image) -> Result<Image> {
    same_size("mask", img, m)?;
    Ok(zip_pixels(img, m, |p, q| p[3] *= mask_value(q)))
}

/// Replaces `img`'s alpha by `m`'s luminance (× its alpha). `m` must have the same size.
pub fn with_alpha(img: &Image, m: &Image) -> Result<Image> {
    same_size("with_alpha", img, m)?;
    Ok(zip_pixels(img, m, |p, q| p[3] = mask_value(q)))
}

fn zip_pixels(img: &Image, m: &Image, f: impl Fn(&mut [f32], &[f32]) + Sync) -> Image {
    let mut out = img.clone();
    out.rows_mut().zip(m.rows()).for_each(|(row, mrow)| {
        for (p, q) in row.chunks_exact_mut(CHANNELS).zip(mrow.chunks_exact(CHANNELS)) {
            f(p, q);
        }
    });
    out
}

/// One channel of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    R,
    G,
    B,
    A,
}

impl std::str::FromStr for Channel {
    type Err = Error;

    fn from_str(s: &str) -> Result<Channel> {
        match s.trim().to_ascii_lowercase().as_str() {
            "r" | "red" => Ok(Channel::R),
            "g" | "green" => Ok(Channel::G),
            "b" | "blue" => Ok(Channel::B),
            "a" | "alpha" => Ok(Channel::A),
            _ => Err(Error::param("channel", format!("unknown channel '{s}'; valid channels are: r, g, b, a"))),
        }
    }
}

/// One channel as an opaque gray image.
pub fn channel(img: &Image, ch: Channel) -> Image {
    let i = match ch {
        Channel::R => 0,
        Channel::G => 1,
        Channel::B => 2,
        Channel::A => 3,
    };
    img.map_pixels(|p| [p[i], p[i], p[i], 1.0])
}

/// The alpha channel as an opaque gray image (`channel(img, Channel::A)`).
pub fn alpha(img: &Image) -> Image {
    channel(img, Channel::A)
}

crate::option_set! {
    /// Options of [`grid`] (`grid(images, cols, #{ ... })`).
    #[derive(Copy)]
    pub struct GridOptions for "grid" {
        /// Pixels between cells (nothing around the sheet).
        gap: u32 = 4;
        /// Colour under and between the cells.
        background: Color = Color::TRANSPARENT;
    }
}

/// A contact sheet: `images` in rows of `cols` cells, each cell the size of the largest image,
/// each image centred in its cell and composited over the background. Fewer images than `cols`
/// make a single row just as wide as needed.
pub fn grid(images: &[Image], cols: usize, opts: GridOptions) -> Result<Image> {
    if images.is_empty() {
        return Err(Error::param("grid", "needs at least one image"));
    }
    if cols == 0 {
        return Err(Error::param("grid", "cols must be at least 1"));
    }
    opts.background.validate("grid")?;
    let cols = cols.min(images.len());
    let rows = images.len().div_ceil(cols);
    let cw = images.iter().map(|i| i.width() as i64).max().unwrap_or(1);
    let ch = images.iter().map(|i| i.height() as i64).max().unwrap_or(1);
    let gap = opts.gap as i64;
    let w = cols as i64 * cw + (cols as i64 - 1) * gap;
    let h = rows as i64 * ch + (rows as i64 - 1) * gap;
    let (w, h) = check_size(w, h)?;
    let mut sheet = Image::filled(w, h, opts.background)?;
    for (i, img) in images.iter().enumerate() {
        let (c, r) = ((i % cols) as i64, (i / cols) as i64);
        let x = c * (cw + gap) + (cw - img.width() as i64) / 2;
        let y = r * (ch + gap) + (ch - img.height() as i64) / 2;
        blend_in_place(&mut sheet, img, x, y, BlendMode::Normal, 1.0)?;
    }
    Ok(sheet)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(img: &Image, x: i64, y: i64) -> [f32; 4] {
        img.get(x, y).unwrap().to_array()
    }

    fn close(a: [f32; 4], b: [f32; 4]) -> bool {
        a.iter().zip(b.iter()).all(|(x, y)| (x - y).abs() < 1e-5)
    }

    #[test]
    fn opaque_top_wins_and_transparent_top_leaves_the_backdrop() {
        let back = Image::filled(6, 5, Color::new(0.2, 0.4, 0.6, 0.5)).unwrap();
        let top = Image::filled(6, 5, Color::new(0.9, 0.1, 0.3, 1.0)).unwrap();
        assert_eq!(over(&top, &back).unwrap(), top);
        let clear = Image::new(6, 5).unwrap();
        assert_eq!(over(&clear, &back).unwrap(), back);
    }

    #[test]
    fn offsets_clip_and_keep_the_backdrop_size() {
        let back = Image::filled(8, 8, Color::BLACK).unwrap();
        let top = Image::filled(4, 4, Color::WHITE).unwrap();
        let out = over_at(&top, &back, 6, -2).unwrap();
        assert_eq!(out.dimensions(), (8, 8));
        assert_eq!(px(&out, 6, 0), [1.0; 4]);
        assert_eq!(px(&out, 7, 1), [1.0; 4]);
        assert_eq!(px(&out, 5, 0), [0.0, 0.0, 0.0, 1.0]);
        assert_eq!(px(&out, 6, 2), [0.0, 0.0, 0.0, 1.0]);
        // Entirely outside: unchanged; huge offsets do not overflow.
        assert_eq!(over_at(&top, &back, 100, 0).unwrap(), back);
        assert_eq!(over_at(&top, &back, i64::MAX - 1, i64::MIN + 1).unwrap(), back);
    }

    #[test]
    fn blend_on_partial_alpha_matches_the_formula() {
        // screen, αs = 0.5 × opacity 0.5 = 0.25, αb = 0.8, Cs = 0.3, Cb = 0.6: B = 0.72
        // αo = 0.25 + 0.8 * 0.75 = 0.85; co = 0.25*0.2*0.3 + 0.25*0.8*0.72 + 0.75*0.8*0.6 = 0.015 + 0.144 + 0.36
        let back = Image::filled(2, 2, Color::new(0.6, 0.6, 0.6, 0.8)).unwrap();
        let top = Image::filled(2, 2, Color::new(0.3, 0.3, 0.3, 0.5)).unwrap();
        let out = blend(&top, &back, BlendMode::Screen, 0.5).unwrap();
        let want = 0.519 / 0.85;
        assert!(close(px(&out, 1, 1), [want, want, want, 0.85]), "{:?}", px(&out, 1, 1));
        assert!(blend(&top, &back, BlendMode::Screen, 1.5).is_err());
        assert!(blend(&top, &back, BlendMode::Screen, f32::NAN).is_err());
    }

    #[test]
    fn hdr_values_outside_the_top_are_untouched() {
        let back = Image::filled(4, 4, Color::new(3.0, -0.5, 1.5, 1.0)).unwrap();
        let top = Image::filled(2, 2, Color::new(0.0, 0.0, 0.0, 0.5)).unwrap();
        let out = over_at(&top, &back, 0, 0).unwrap();
        assert_eq!(px(&out, 3, 3), [3.0, -0.5, 1.5, 1.0]);
        assert!(close(px(&out, 0, 0), [1.5, -0.25, 0.75, 1.0]));
    }

    #[test]
    fn masks_and_channels() {
        let img = Image::filled(3, 3, Color::new(0.2, 0.4, 0.6, 0.8)).unwrap();
        let m = Image::filled(3, 3, Color::gray(0.5)).unwrap();
        assert!(close(px(&mask(&img, &m).unwrap(), 0, 0), [0.2, 0.4, 0.6, 0.4]));
        assert!(close(px(&with_alpha(&img, &m).unwrap(), 0, 0), [0.2, 0.4, 0.6, 0.5]));
        assert!(close(px(&alpha(&img), 1, 1), [0.8, 0.8, 0.8, 1.0]));
        assert!(close(px(&channel(&img, "g".parse().unwrap()), 1, 1), [0.4, 0.4, 0.4, 1.0]));
        // Round trip: with_alpha(alpha()) restores the alpha.
        let back = with_alpha(&img.map_pixels(|[r, g, b, _]| [r, g, b, 1.0]), &alpha(&img)).unwrap();
        assert!(close(px(&back, 2, 2), [0.2, 0.4, 0.6, 0.8]));
        let e = "x".parse::<Channel>().unwrap_err().to_string();
        assert!(e.contains("'x'") && e.contains("r, g, b, a"), "{e}");
        let small = Image::new(2, 3).unwrap();
        assert!(mask(&img, &small).unwrap_err().to_string().contains("2x3"));
    }

    #[test]
    fn grid_layout() {
        let a = Image::filled(4, 2, Color::WHITE).unwrap();
        let b = Image::filled(2, 4, Color::BLACK).unwrap();
        let sheet = grid(&[a.clone(), b.clone(), a], 2, GridOptions { gap: 1, background: Color::gray(0.5) }).unwrap();
        // Cells 4x4, 2 cols, 2 rows, gap 1: 9x9.
        assert_eq!(sheet.dimensions(), (9, 9));
        assert_eq!(px(&sheet, 0, 1), [1.0; 4]); // a centred vertically: rows 1..3
        assert_eq!(px(&sheet, 0, 0), Color::gray(0.5).to_array());
        assert_eq!(px(&sheet, 4, 0), Color::gray(0.5).to_array()); // the gap
        assert_eq!(px(&sheet, 6, 0), [0.0, 0.0, 0.0, 1.0]); // b centred horizontally: cols 6..8
        assert_eq!(grid(std::slice::from_ref(&b), 5, GridOptions::default()).unwrap().dimensions(), (2, 4));
        assert!(grid(&[], 2, GridOptions::default()).is_err());
        assert!(grid(&[b], 0, GridOptions::default()).is_err());
    }
}
