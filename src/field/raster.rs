//! Field -> Image: rendering a field to pixels; also the way back (`img.field()`) and the image
//! edits driven by a field (displace, alpha, mask). The other places where the field room
//! makes images are `random.rs` (noise images) and `scatter.rs` (stamps on a canvas).
//!
//! Owns: rendering (parallel over rows, one tape block at a time), [`Sampler`]. Must not know
//! about Rhai.
//!
//! Rendering computes every pixel from its own (u, v) only, so images are byte-identical at any
//! thread count. Non-finite values (a division by zero somewhere in the graph) render as 0.
//!
//! A render is tagged tileable (`Image::tileable`, see `image::ops::edge`) when the field is
//! periodic over the unit square by construction ([`is_tileable`]): its leaves tile (tileable
//! noise and voronoi, a checker of whole cells, constants, an image sampled with `wrap`) and
//! every node above them keeps a period of 1 (point-wise maths, mixes, warps by tileable
//! offsets, integer-matrix affine maps and whole repeats, mirrors, fractals of whole
//! lacunarity). The test is conservative: a field that happens to tile in some other way is not
//! tagged, and a script can still set `img.tileable = true` itself.

use std::sync::Arc;

use rayon::prelude::*;

use crate::cancel;
use crate::error::{finite, Result};
use crate::field::eval::Tape;
use crate::field::graph::Domain;
use crate::field::graph::{Field, Node};
use crate::field::noise::BLOCK;
use crate::field::palette::Palette;
use crate::field::pattern::Pattern;
use crate::image::buffer::CHANNELS;
use crate::image::color::luma;
use crate::image::ops::edge::{self, Edge};
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

/// True when `field` is periodic over the unit square by construction (see the module docs): its
/// render tiles seamlessly. Shared subgraphs are visited once.
pub fn is_tileable(field: &Field) -> bool {
    fn whole(x: f32) -> bool {
        x.fract() == 0.0
    }
    fn walk(f: &Field, seen: &mut std::collections::HashMap<*const Node, bool>) -> bool {
        let key = Arc::as_ptr(&f.0);
        if let Some(&t) = seen.get(&key) {
            return t;
        }
        let t = match &*f.0 {
            Node::Const(_) => true,
            Node::U | Node::V => false,
            Node::Noise(n) => n.options.tileable,
            Node::Pattern(Pattern::Voronoi { period, .. }) => *period != 0,
            Node::Pattern(Pattern::Checker { nx, ny }) => whole(*nx) && whole(*ny),
            Node::Pattern(_) => false,
            Node::Image(s) => s.edge == Edge::Wrap,
            Node::Unary(_, a) | Node::Lookup { source: a, .. } => walk(a, seen),
            Node::Binary(_, a, b) => walk(a, seen) && walk(b, seen),
            Node::Mix(a, b, c) | Node::Warp { source: a, du: b, dv: c, .. } => {
                walk(a, seen) && walk(b, seen) && walk(c, seen)
            }
            Node::Domain(d, a) => {
                let keeps = match d {
                    // u + 1 maps to A(u) + A·e1: a whole step when the matrix is whole.
                    Domain::Affine([a, b, _, d, e, _]) => [a, b, d, e].iter().all(|&&x| whole(x)),
                    Domain::Repeat(nx, ny) => whole(*nx) && whole(*ny),
                    Domain::Mirror(..) => true,
                    Domain::Kaleido(_) => false,
                };
                keeps && walk(a, seen)
            }
            Node::Fractal { source, fractal } => fractal.lacunarity.fract() == 0.0 && walk(source, seen),
        };
        seen.insert(key, t);
        t
    }
    walk(field, &mut Default::default())
}

/// Renders a field as an opaque grayscale image (values are not clamped), tagged tileable when the
/// field tiles ([`is_tileable`]).
pub fn render(field: &Field, w: u32, h: u32) -> Result<Image> {
    let img = evaluate(&[field], w, h, |v, px| {
        for (p, &x) in px.chunks_exact_mut(CHANNELS).zip(v[0]) {
            let x = clean(x);
            p.copy_from_slice(&[x, x, x, 1.0]);
        }
    })?;
    Ok(img.with_tileable(is_tileable(field)))
}

/// Renders a field through a palette (tagged tileable when the field tiles).
pub fn render_palette(field: &Field, w: u32, h: u32, palette: &Palette) -> Result<Image> {
    let img = evaluate(&[field], w, h, |v, px| {
        for (p, &x) in px.chunks_exact_mut(CHANNELS).zip(v[0]) {
            p.copy_from_slice(&palette.sample(x));
        }
    })?;
    Ok(img.with_tileable(is_tileable(field)))
}

/// Renders three (or four, with alpha) fields as the channels of one image.
pub fn render_rgb(r: &Field, g: &Field, b: &Field, a: Option<&Field>, w: u32, h: u32) -> Result<Image> {
    let mut roots = vec![r, g, b];
    roots.extend(a);
    let tileable = roots.iter().all(|f| is_tileable(f));
    let img = evaluate(&roots, w, h, |v, px| {
        for (i, p) in px.chunks_exact_mut(CHANNELS).enumerate() {
            let alpha = if v.len() == 4 { clean(v[3][i]) } else { 1.0 };
            p.copy_from_slice(&[clean(v[0][i]), clean(v[1][i]), clean(v[2][i]), alpha]);
        }
    })?;
    Ok(img.with_tileable(tileable))
}

/// A single-channel raster sampled bilinearly at (u, v); past the border per its edge mode.
pub struct Sampler {
    w: usize,
    h: usize,
    data: Vec<f32>,
    pub(crate) edge: Edge,
}

impl Sampler {
    /// Bilinear sample at each (u, v), pixel centres at (x + 0.5) / w as in DESIGN.md §2.
    pub fn sample(&self, us: &[f32], vs: &[f32], out: &mut [f32]) {
        if self.edge != Edge::Clamp {
            return self.sample_edge(us, vs, out);
        }
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

    /// [`Sampler::sample`] for wrap, mirror and transparent (0 outside): the four taps' indices
    /// go through the edge rule. Kept apart so the clamp loop above stays as it was.
    fn sample_edge(&self, us: &[f32], vs: &[f32], out: &mut [f32]) {
        let (w, h) = (self.w as f32, self.h as f32);
        let at = |x: i64, y: i64| match (self.edge.index(x, self.w), self.edge.index(y, self.h)) {
            (Some(x), Some(y)) => self.data[y * self.w + x],
            _ => 0.0,
        };
        for ((o, &u), &v) in out.iter_mut().zip(us).zip(vs) {
            let (x, y) = (u * w - 0.5, v * h - 0.5);
            if !(x.is_finite() && y.is_finite()) || x.abs() > 1e9 || y.abs() > 1e9 {
                *o = 0.0;
                continue;
            }
            let (xf, yf) = (x.floor(), y.floor());
            let (x0, y0) = (xf as i64, yf as i64);
            let (fx, fy) = (x - xf, y - yf);
            let top = at(x0, y0) + (at(x0 + 1, y0) - at(x0, y0)) * fx;
            let bot = at(x0, y0 + 1) + (at(x0 + 1, y0 + 1) - at(x0, y0 + 1)) * fx;
            let r = top + (bot - top) * fy;
            *o = if r.is_finite() { r } else { 0.0 };
        }
    }
}

/// The image's luminance (Pillow's `L` weights on the encoded values) as a field, sampled
/// bilinearly and clamped at the edges (wrapped for a tileable image). Alpha is ignored.
pub fn image_field(img: &Image) -> Field {
    image_field_with(img, None)
}

/// [`image_field`] with an edge mode: what the field is past the image's border (`None`: clamp,
/// or wrap for a tileable image; transparent reads 0). A wrapped image makes a tileable field.
pub fn image_field_with(img: &Image, edge: Option<Edge>) -> Field {
    let edge = edge::resolve(edge, img, Edge::Clamp);
    let data: Vec<f32> = img.pixels().par_chunks(CHANNELS).map(|p| luma([p[0], p[1], p[2], p[3]])).collect();
    let s = Sampler { w: img.width() as usize, h: img.height() as usize, data, edge };
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
/// 0.5 leaves a pixel in place. Bilinear on premultiplied alpha, clamped at the edges (wrapped
/// for a tileable image).
pub fn displace(img: &Image, field: &Field, amount: f64) -> Result<Image> {
    displace_xy(img, field, field, amount)
}

/// Like [`displace`] with separate fields for the x and y offsets.
pub fn displace_xy(img: &Image, fx: &Field, fy: &Field, amount: f64) -> Result<Image> {
    displace_with(img, fx, fy, amount, None)
}

/// [`displace_xy`] with an edge mode for the samples that land outside the image (`None`: clamp,
/// or wrap for a tileable image). The result stays tileable when the image wraps and both
/// offset fields tile.
pub fn displace_with(img: &Image, fx: &Field, fy: &Field, amount: f64, edge: Option<Edge>) -> Result<Image> {
    let amount = finite("displace", "amount", amount)? as f32;
    let edge = edge::resolve(edge, img, Edge::Clamp);
    let (w, h) = img.dimensions();
    let dx = field_values(fx, w, h)?;
    let dy = if std::ptr::eq(fx, fy) { dx.clone() } else { field_values(fy, w, h)? };
    let src = img.premultiplied();
    let (wi, hi) = (w as i64, h as i64);
    let mut out = Image::new(w, h)?;
    let stop = cancel::current();
    // Taps past the border for the non-clamp modes: through the edge rule, transparent as 0.
    let (wu, hu) = (w as usize, h as usize);
    let tap = |x: i64, y: i64| match (edge.index(x, wu), edge.index(y, hu)) {
        (Some(x), Some(y)) => src.pixel_clamped(x as i64, y as i64),
        _ => [0.0; 4],
    };
    out.rows_mut().enumerate().for_each(|(y, row)| {
        if stop.is_stopped() {
            return;
        }
        for (x, p) in row.chunks_exact_mut(CHANNELS).enumerate() {
            let i = y * w as usize + x;
            let sx = x as f32 + amount * (2.0 * dx[i] - 1.0);
            let sy = y as f32 + amount * (2.0 * dy[i] - 1.0);
            let (a, b, c, d, fx, fy): ([f32; 4], [f32; 4], [f32; 4], [f32; 4], f32, f32);
            if edge == Edge::Clamp {
                let sx = sx.clamp(0.0, (wi - 1) as f32);
                let sy = sy.clamp(0.0, (hi - 1) as f32);
                let (x0, y0) = (sx.floor() as i64, sy.floor() as i64);
                (fx, fy) = (sx - x0 as f32, sy - y0 as f32);
                a = src.pixel_clamped(x0, y0);
                b = src.pixel_clamped(x0 + 1, y0);
                c = src.pixel_clamped(x0, y0 + 1);
                d = src.pixel_clamped(x0 + 1, y0 + 1);
            } else {
                // Field values are finite (field_values cleans them) and amount is finite, but a
                // huge amount can still overflow i64: keep the position in a sane range first.
                let lim = 4.0 * (wi.max(hi) as f32) + 1e6;
                let (sx, sy) = (sx.clamp(-lim, lim), sy.clamp(-lim, lim));
                let (xf, yf) = (sx.floor(), sy.floor());
                let (x0, y0) = (xf as i64, yf as i64);
                (fx, fy) = (sx - xf, sy - yf);
                a = tap(x0, y0);
                b = tap(x0 + 1, y0);
                c = tap(x0, y0 + 1);
                d = tap(x0 + 1, y0 + 1);
            }
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
    Ok(out.with_tileable(edge::keeps_tileable(edge, img) && is_tileable(fx) && is_tileable(fy)))
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
