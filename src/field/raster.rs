//! Field -> Image: rendering a field to pixels; also the way back (`img.field()`) and the image
//! edits driven by a field (displace, alpha, mask). The other places where the field room
//! makes images are `random.rs` (noise images) and `scatter.rs` (stamps on a canvas).
//!
//! Owns: rendering (parallel over rows, one tape block at a time), [`Sampler`]. Must not know
//! about Rhai.
//!
//! Rendering computes every pixel from its own (u, v) only, so images are byte-identical at any
//! thread count. Non-finite values (a division by zero somewhere in the graph) render as 0.

use std::sync::Arc;

use rayon::prelude::*;

use crate::cancel;
use crate::error::{finite, Result};
use crate::field::eval::Tape;
use crate::field::graph::{Field, Node};
use crate::field::noise::BLOCK;
use crate::field::palette::Palette;
use crate::image::buffer::CHANNELS;
use crate::image::color::luma;
use crate::image::Image;

/// Runs `tape` over a `wu` × `hu` raster, row by row in parallel and one block of pixels at a
/// time; `emit(mem, x0, n, row)` reads the block's outputs from `mem` and writes its part of `row`.
/// The one loop every render shares, so the block size and pixel-centre convention live here.
/// Skips the remaining rows once the run's cancel token is set and then returns its error, so a
/// stopped render never becomes an image.
fn for_each_block<'a, R, E>(tape: &Tape, wu: usize, hu: usize, rows: R, emit: E) -> Result<()>
where
    R: IndexedParallelIterator<Item = &'a mut [f32]>,
    E: Fn(&[f32], usize, usize, &mut [f32]) + Sync,
{
    let stop = cancel::current();
    rows.enumerate().for_each_init(
        || vec![0f32; tape.scratch_len()],
        |mem, (y, row)| {
            if stop.is_stopped() {
                return;
            }
            for x0 in (0..wu).step_by(BLOCK) {
                let n = BLOCK.min(wu - x0);
                Tape::set_row(mem, x0, n, y, wu, hu);
                tape.run(mem, n);
                emit(mem, x0, n, row);
            }
        },
    );
    stop.check()
}

/// Evaluates `roots` over a `w` × `h` raster and lets `write` turn each block of values into
/// pixels. `write(values, px)` gets one slice per root and the block's RGBA pixels.
fn evaluate<F>(roots: &[&Field], w: u32, h: u32, write: F) -> Result<Image>
where
    F: Fn(&[&[f32]], &mut [f32]) + Sync,
{
    debug_assert!(roots.len() <= 4);
    let tape = Tape::compile(roots)?;
    let mut img = Image::new(w, h)?;
    let (wu, hu) = (w as usize, h as usize);
    for_each_block(&tape, wu, hu, img.rows_mut(), |mem, x0, n, row| {
        let mut outs: [&[f32]; 4] = [&[]; 4];
        for (i, o) in outs.iter_mut().enumerate().take(roots.len()) {
            *o = tape.output(mem, i, n);
        }
        write(&outs[..roots.len()], &mut row[x0 * CHANNELS..(x0 + n) * CHANNELS]);
    })?;
    Ok(img)
}

#[inline]
fn clean(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

/// Renders a field as an opaque grayscale image (values are not clamped).
pub fn render(field: &Field, w: u32, h: u32) -> Result<Image> {
    evaluate(&[field], w, h, |v, px| {
        for (p, &x) in px.chunks_exact_mut(CHANNELS).zip(v[0]) {
            let x = clean(x);
            p.copy_from_slice(&[x, x, x, 1.0]);
        }
    })
}

/// Renders a field through a palette.
pub fn render_palette(field: &Field, w: u32, h: u32, palette: &Palette) -> Result<Image> {
    evaluate(&[field], w, h, |v, px| {
        for (p, &x) in px.chunks_exact_mut(CHANNELS).zip(v[0]) {
            p.copy_from_slice(&palette.sample(x));
        }
    })
}

/// Renders three (or four, with alpha) fields as the channels of one image.
pub fn render_rgb(r: &Field, g: &Field, b: &Field, a: Option<&Field>, w: u32, h: u32) -> Result<Image> {
    let mut roots = vec![r, g, b];
    roots.extend(a);
    evaluate(&roots, w, h, |v, px| {
        for (i, p) in px.chunks_exact_mut(CHANNELS).enumerate() {
            let alpha = if v.len() == 4 { clean(v[3][i]) } else { 1.0 };
            p.copy_from_slice(&[clean(v[0][i]), clean(v[1][i]), clean(v[2][i]), alpha]);
        }
    })
}

/// A single-channel raster sampled bilinearly at (u, v), clamped at the edges.
pub struct Sampler {
    w: usize,
    h: usize,
    data: Vec<f32>,
}

impl Sampler {
    /// Bilinear sample at each (u, v), pixel centres at (x + 0.5) / w as in DESIGN.md §2.
    pub fn sample(&self, us: &[f32], vs: &[f32], out: &mut [f32]) {
        let (w, h) = (self.w as f32, self.h as f32);
        for ((o, &u), &v) in out.iter_mut().zip(us).zip(vs) {
            let x = (u * w - 0.5).clamp(0.0, w - 1.0);
            let y = (v * h - 0.5).clamp(0.0, h - 1.0);
            let (x0, y0) = (x as usize, y as usize);
            let (x1, y1) = ((x0 + 1).min(self.w - 1), (y0 + 1).min(self.h - 1));
            let (fx, fy) = (x - x0 as f32, y - y0 as f32);
            let at = |x: usize, y: usize| self.data[y * self.w + x];
            let top = at(x0, y0) + (at(x1, y0) - at(x0, y0)) * fx;
            let bot = at(x0, y1) + (at(x1, y1) - at(x0, y1)) * fx;
            *o = if (top + (bot - top) * fy).is_finite() { top + (bot - top) * fy } else { 0.0 };
        }
    }
}

/// The image's luminance (Pillow's `L` weights on the encoded values) as a field, sampled
/// bilinearly and clamped at the edges. Alpha is ignored.
pub fn image_field(img: &Image) -> Field {
    let data: Vec<f32> = img.pixels().par_chunks(CHANNELS).map(|p| luma([p[0], p[1], p[2], p[3]])).collect();
    let s = Sampler { w: img.width() as usize, h: img.height() as usize, data };
    Field::from_node(Node::Image(Arc::new(s)))
}

/// Evaluates `field` at the centres of a `w` × `h` raster's pixels, row by row: one value per
/// pixel (non-finite values as 0).
pub fn field_values(field: &Field, w: u32, h: u32) -> Result<Vec<f32>> {
    let (wu, hu) = crate::image::buffer::check_size(w as i64, h as i64)?;
    let (wu, hu) = (wu as usize, hu as usize);
    let tape = Tape::compile(&[field])?;
    let mut out = vec![0f32; wu * hu];
    for_each_block(&tape, wu, hu, out.par_chunks_mut(wu), |mem, x0, n, row| {
        for (o, &v) in row[x0..x0 + n].iter_mut().zip(tape.output(mem, 0, n)) {
            *o = clean(v);
        }
    })?;
    Ok(out)
}

/// Displacement mapping (Photoshop's convention): each pixel samples `img` at
/// (x, y) + amount·(2f − 1) pixels along both axes, where f is the field at the pixel;
/// 0.5 leaves a pixel in place. Bilinear on premultiplied alpha, clamped at the edges.
pub fn displace(img: &Image, field: &Field, amount: f64) -> Result<Image> {
    displace_xy(img, field, field, amount)
}

/// Like [`displace`] with separate fields for the x and y offsets.
pub fn displace_xy(img: &Image, fx: &Field, fy: &Field, amount: f64) -> Result<Image> {
    let amount = finite("displace", "amount", amount)? as f32;
    let (w, h) = img.dimensions();
    let dx = field_values(fx, w, h)?;
    let dy = if std::ptr::eq(fx, fy) { dx.clone() } else { field_values(fy, w, h)? };
    let src = img.premultiplied();
    let (wi, hi) = (w as i64, h as i64);
    let mut out = Image::new(w, h)?;
    let stop = cancel::current();
    out.rows_mut().enumerate().for_each(|(y, row)| {
        if stop.is_stopped() {
            return;
        }
        for (x, p) in row.chunks_exact_mut(CHANNELS).enumerate() {
            let i = y * w as usize + x;
            let sx = (x as f32 + amount * (2.0 * dx[i] - 1.0)).clamp(0.0, (wi - 1) as f32);
            let sy = (y as f32 + amount * (2.0 * dy[i] - 1.0)).clamp(0.0, (hi - 1) as f32);
            let (x0, y0) = (sx.floor() as i64, sy.floor() as i64);
            let (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
            let a = src.pixel_clamped(x0, y0);
            let b = src.pixel_clamped(x0 + 1, y0);
            let c = src.pixel_clamped(x0, y0 + 1);
            let d = src.pixel_clamped(x0 + 1, y0 + 1);
            let mut px = [0f32; 4];
            for k in 0..4 {
                let top = a[k] + (b[k] - a[k]) * fx;
                let bot = c[k] + (d[k] - c[k]) * fx;
                px[k] = top + (bot - top) * fy;
            }
            p.copy_from_slice(&crate::image::buffer::unpremultiply(px));
        }
    });
    stop.check()?;
    Ok(out)
}

/// The image with its alpha replaced by the field (clamped to [0, 1]).
pub fn with_alpha(img: &Image, field: &Field) -> Result<Image> {
    alpha_op(img, field, |_, m| m)
}

/// The image with its alpha multiplied by the field (clamped to [0, 1]): a mask.
pub fn mask(img: &Image, field: &Field) -> Result<Image> {
    alpha_op(img, field, |a, m| a * m)
}

fn alpha_op(img: &Image, field: &Field, f: impl Fn(f32, f32) -> f32 + Sync) -> Result<Image> {
    let (w, h) = img.dimensions();
    let m = field_values(field, w, h)?;
    let mut out = img.clone();
    let wu = w as usize;
    out.rows_mut().enumerate().for_each(|(y, row)| {
        for (x, p) in row.chunks_exact_mut(CHANNELS).enumerate() {
            p[3] = f(p[3], m[y * wu + x].clamp(0.0, 1.0));
        }
    });
    Ok(out)
}

impl Field {
    /// Renders as an opaque grayscale image; see [`render`].
    pub fn render(&self, w: u32, h: u32) -> Result<Image> {
        render(self, w, h)
    }

    /// Renders through a palette; see [`render_palette`].
    pub fn render_palette(&self, w: u32, h: u32, palette: &Palette) -> Result<Image> {
        render_palette(self, w, h, palette)
    }

    /// The luminance of an image as a field; see [`image_field`].
    pub fn from_image(img: &Image) -> Field {
        image_field(img)
    }
}

#[cfg(test)]
mod cancel_tests {
    use crate::cancel::{self, Stopper};
    use crate::error::Error;
    use crate::field::graph::Field;

    #[test]
    fn a_cancelled_render_is_an_error_and_an_unstopped_one_is_unchanged() {
        let f = Field::u();
        let stop = Stopper::never();
        stop.cancel();
        assert!(matches!(cancel::scope(stop, || f.render(1024, 1024)), Err(Error::Cancelled(_))));
        let plain = f.render(64, 32).unwrap();
        assert_eq!(cancel::scope(Stopper::never(), || f.render(64, 32)).unwrap(), plain);
    }
}
