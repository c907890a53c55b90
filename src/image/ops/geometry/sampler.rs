//! The inverse-mapped sampler behind `rotate`, `translate` and `affine`.
//!
//! Every output pixel centre is mapped back through the inverse transform to a continuous
//! position in the source and reconstructed there with the chosen filter. Taps that fall outside
//! the source read per the source's edge mode (`ops::edge`): with `transparent`, the default,
//! they read the background colour, so the image's edges are antialiased against the background
//! by the filter itself (a bilinear edge is a one-pixel ramp); with `clamp`, `wrap` or `mirror`
//! they read the source's own pixels and the background never shows. The edge rule is consulted
//! only for taps outside the source, so the inside fast paths are unchanged. Rows are independent
//! and run in parallel; nothing is allocated per pixel.
//!
//! Hand-written rather than taken from a crate: fir only scales, tiny-skia's pattern shader is
//! 8-bit premultiplied and `imageproc`'s warp has no float RGBA premultiplied path. The sampler
//! interpolates and does not low-pass, so a transform that shrinks a lot aliases; shrink with
//! `resize` first.

use rayon::prelude::*;

use super::Filter;
use crate::image::buffer::{unpremultiply, CHANNELS};
use crate::image::ops::edge::Edge;

/// An affine map from output positions to source positions, in pixel units with centres at
/// +0.5: `sx = a·x + b·y + tx`, `sy = c·x + d·y + ty`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Inverse {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
    pub tx: f64,
    pub ty: f64,
}

/// The source, already premultiplied (or opaque), as the sampler reads it.
pub(super) struct Source<'a> {
    pub pixels: &'a [f32],
    pub width: usize,
    pub height: usize,
    /// What taps outside the source read (`Transparent`: the background).
    pub edge: Edge,
}

/// Fills `out` (`ow` × rows, premultiplied unless `unpremultiply_out`) by sampling `src` through
/// `map`. `bg` is the premultiplied background.
pub(super) fn sample_into(
    src: &Source,
    out: &mut [f32],
    ow: usize,
    map: Inverse,
    filter: Filter,
    bg: [f32; 4],
    unpremultiply_out: bool,
) {
    // Axis-aligned maps (shifts, flips, quarter turns, integer zooms) land on or near pixel
    // centres: snap those coordinates so they reproduce pixels exactly. Other maps skip the cost.
    let aligned = (map.b == 0.0 && map.c == 0.0) || (map.a == 0.0 && map.d == 0.0);
    let k = Kernel { src, bg };
    let u = unpremultiply_out;
    match (filter, aligned) {
        (Filter::Nearest, true) => run(src, out, ow, map, bg, u, 0.5, |x, y| k.nearest::<true>(x, y)),
        (Filter::Nearest, false) => run(src, out, ow, map, bg, u, 0.5, |x, y| k.nearest::<false>(x, y)),
        (Filter::Bilinear, true) => run(src, out, ow, map, bg, u, 1.0, |x, y| k.bilinear::<true>(x, y)),
        (Filter::Bilinear, false) => run(src, out, ow, map, bg, u, 1.0, |x, y| k.bilinear::<false>(x, y)),
        (Filter::Bicubic, true) => run(src, out, ow, map, bg, u, 2.0, |x, y| k.taps::<4, true>(x, y, catmull_rom)),
        (Filter::Bicubic, false) => run(src, out, ow, map, bg, u, 2.0, |x, y| k.taps::<4, false>(x, y, catmull_rom)),
        (Filter::Lanczos3, true) => run(src, out, ow, map, bg, u, 3.0, |x, y| k.taps::<6, true>(x, y, lanczos3)),
        (Filter::Lanczos3, false) => run(src, out, ow, map, bg, u, 3.0, |x, y| k.taps::<6, false>(x, y, lanczos3)),
    }
}

/// The output columns `[lo, hi)` of one row whose source position `s(ox) = k·(ox + 0.5) + s0`
/// lies in `[lo_s, hi_s]`, widened by a pixel on each side against rounding.
fn span(k: f64, s0: f64, lo_s: f64, hi_s: f64, ow: usize) -> (usize, usize) {
    if k.abs() < 1e-12 {
        return if (lo_s..=hi_s).contains(&s0) { (0, ow) } else { (0, 0) };
    }
    let (t1, t2) = ((lo_s - s0) / k - 0.5, (hi_s - s0) / k - 0.5);
    let (lo, hi) = (t1.min(t2).floor() - 1.0, t1.max(t2).ceil() + 2.0);
    let clamp = |t: f64| t.clamp(0.0, ow as f64) as usize;
    (clamp(lo), clamp(hi))
}

#[allow(clippy::too_many_arguments)]
fn run<F>(
    src: &Source,
    out: &mut [f32],
    ow: usize,
    m: Inverse,
    bg: [f32; 4],
    unpremultiply_out: bool,
    support: f64,
    px: F,
) where
    F: Fn(f64, f64) -> [f32; 4] + Sync,
{
    let finish = |mut p: [f32; 4]| {
        if unpremultiply_out {
            // Divide by the unclamped alpha (ringing filters overshoot colour and alpha alike),
            // then keep alpha in range.
            p = unpremultiply(p);
            p[3] = p[3].min(1.0);
        }
        p
    };
    let bg_out = finish(bg);
    let (w, h) = (src.width as f64, src.height as f64);
    let stop = crate::cancel::current();
    out.par_chunks_mut(ow * CHANNELS).enumerate().for_each(|(oy, row)| {
        if stop.is_stopped() {
            return;
        }
        let y = oy as f64 + 0.5;
        let (bx, by) = (m.b * y + m.tx, m.d * y + m.ty);
        // Columns whose taps can reach the source; everything else is background. Pixel centres
        // sit at +0.5, so a tap reaches pixel 0 from `-support + 0.5` on.
        let (xl, xh) = span(m.a, bx, -support + 0.5, w + support - 0.5, ow);
        let (yl, yh) = span(m.c, by, -support + 0.5, h + support - 0.5, ow);
        let (lo, hi) = if src.edge == Edge::Transparent { (xl.max(yl), xh.min(yh).max(xl.max(yl))) } else { (0, ow) };
        let (left, rest) = row.split_at_mut(lo * CHANNELS);
        let (middle, right) = rest.split_at_mut((hi - lo) * CHANNELS);
        for dst in left.chunks_exact_mut(CHANNELS).chain(right.chunks_exact_mut(CHANNELS)) {
            dst.copy_from_slice(&bg_out);
        }
        for (ox, dst) in middle.chunks_exact_mut(CHANNELS).enumerate() {
            let x = (lo + ox) as f64 + 0.5;
            dst.copy_from_slice(&finish(px(m.a * x + bx, m.c * x + by)));
        }
    });
}

/// Snaps a coordinate within 1e-9 of an integer onto it, so pixel-aligned maps (integer shifts,
/// quarter turns) reproduce pixels exactly despite rounding in the matrix.
#[inline]
fn snap(u: f64) -> f64 {
    let r = u.round();
    if (u - r).abs() < 1e-9 {
        r
    } else {
        u
    }
}

/// `floor` through an integer conversion: the baseline x86-64 target has no SSE4.1 `roundsd`,
/// so `f64::floor` is a libm call, which dominated the sampler's profile. Saturates for huge
/// values (those land outside the image anyway).
#[inline]
fn floor(u: f64) -> (i64, f64) {
    // Clamped so that the integer arithmetic on tap indices cannot overflow.
    let u = u.clamp(-1e15, 1e15);
    let i = u as i64;
    let i = if (i as f64) > u { i - 1 } else { i };
    (i, u - i as f64)
}

/// The source and background, with one reconstruction method per filter.
struct Kernel<'a> {
    src: &'a Source<'a>,
    bg: [f32; 4],
}

impl Kernel<'_> {
    #[inline]
    fn nearest<const SNAP: bool>(&self, sx: f64, sy: f64) -> [f32; 4] {
        let (sx, sy) = if SNAP { (snap(sx), snap(sy)) } else { (sx, sy) };
        // Pixel i covers [i, i + 1).
        fetch(self.src, floor(sx).0, floor(sy).0, self.bg)
    }

    #[inline]
    fn bilinear<const SNAP: bool>(&self, sx: f64, sy: f64) -> [f32; 4] {
        let (u, v) = if SNAP { (snap(sx - 0.5), snap(sy - 0.5)) } else { (sx - 0.5, sy - 0.5) };
        bilinear_at(self.src, u, v, self.bg)
    }

    #[inline]
    fn taps<const N: usize, const SNAP: bool>(&self, sx: f64, sy: f64, k: fn(f64) -> f64) -> [f32; 4] {
        let (u, v) = if SNAP { (snap(sx - 0.5), snap(sy - 0.5)) } else { (sx - 0.5, sy - 0.5) };
        kernel::<N>(self.src, u, v, self.bg, k)
    }
}

#[inline]
fn fetch(src: &Source, x: i64, y: i64, bg: [f32; 4]) -> [f32; 4] {
    if x < 0 || y < 0 || x >= src.width as i64 || y >= src.height as i64 {
        return match (src.edge.index(x, src.width), src.edge.index(y, src.height)) {
            (Some(x), Some(y)) => fetch(src, x as i64, y as i64, bg),
            _ => bg,
        };
    }
    let i = (y as usize * src.width + x as usize) * CHANNELS;
    let p = &src.pixels[i..i + CHANNELS];
    [p[0], p[1], p[2], p[3]]
}

/// Bilinear at `(u, v)` in pixel-index coordinates (pixel centres at integers).
#[inline]
fn bilinear_at(src: &Source, u: f64, v: f64, bg: [f32; 4]) -> [f32; 4] {
    let ((x0, fx), (y0, fy)) = (floor(u), floor(v));
    let (fx, fy) = (fx as f32, fy as f32);
    let (w, h) = (src.width as i64, src.height as i64);
    if x0 >= 0 && y0 >= 0 && x0 < w - 1 && y0 < h - 1 {
        // All four taps inside: index directly.
        let i = (y0 as usize * src.width + x0 as usize) * CHANNELS;
        let j = i + src.width * CHANNELS;
        let (top, bottom) = (&src.pixels[i..i + 2 * CHANNELS], &src.pixels[j..j + 2 * CHANNELS]);
        let mut o = [0.0f32; 4];
        for c in 0..CHANNELS {
            let t = top[c] + (top[CHANNELS + c] - top[c]) * fx;
            let b = bottom[c] + (bottom[CHANNELS + c] - bottom[c]) * fx;
            o[c] = t + (b - t) * fy;
        }
        return o;
    }
    if src.edge == Edge::Transparent && (x0 < -1 || y0 < -1 || x0 >= w || y0 >= h) {
        return bg;
    }
    let (p00, p10) = (fetch(src, x0, y0, bg), fetch(src, x0 + 1, y0, bg));
    let (p01, p11) = (fetch(src, x0, y0 + 1, bg), fetch(src, x0 + 1, y0 + 1, bg));
    let mut o = [0.0f32; 4];
    for c in 0..CHANNELS {
        let t = p00[c] + (p10[c] - p00[c]) * fx;
        let b = p01[c] + (p11[c] - p01[c]) * fx;
        o[c] = t + (b - t) * fy;
    }
    o
}

/// Keys' cubic with a = -0.5 (Catmull-Rom), support 2.
#[inline]
fn catmull_rom(t: f64) -> f64 {
    let t = t.abs();
    if t < 1.0 {
        (1.5 * t - 2.5) * t * t + 1.0
    } else if t < 2.0 {
        ((-0.5 * t + 2.5) * t - 4.0) * t + 2.0
    } else {
        0.0
    }
}

/// Lanczos with a = 3, support 3.
#[inline]
fn lanczos3(t: f64) -> f64 {
    let t = t.abs();
    if t < 1e-12 {
        return 1.0;
    }
    if t >= 3.0 {
        return 0.0;
    }
    let pt = std::f64::consts::PI * t;
    3.0 * pt.sin() * (pt / 3.0).sin() / (pt * pt)
}

/// Separable `N`-tap kernel (N = 2 × support), weights normalised to sum 1.
#[inline]
fn kernel<const N: usize>(src: &Source, u: f64, v: f64, bg: [f32; 4], k: fn(f64) -> f64) -> [f32; 4] {
    let r = (N / 2) as i64;
    let (x0, y0) = (floor(u).0 - (r - 1), floor(v).0 - (r - 1));
    let (w, h) = (src.width as i64, src.height as i64);
    if src.edge == Edge::Transparent && (x0 + N as i64 <= 0 || y0 + N as i64 <= 0 || x0 >= w || y0 >= h) {
        return bg;
    }
    let weights = |f: f64, first: i64| {
        let mut ws = [0.0f32; N];
        let mut sum = 0.0;
        for (i, wt) in ws.iter_mut().enumerate() {
            let d = f - (first + i as i64) as f64;
            let kv = k(d);
            sum += kv;
            *wt = kv as f32;
        }
        if sum != 0.0 {
            for wt in &mut ws {
                *wt /= sum as f32;
            }
        }
        ws
    };
    let (wx, wy) = (weights(u, x0), weights(v, y0));
    let inside = x0 >= 0 && y0 >= 0 && x0 + N as i64 <= w && y0 + N as i64 <= h;
    let mut o = [0.0f32; 4];
    for (j, &wyj) in wy.iter().enumerate() {
        let mut row = [0.0f32; 4];
        for (i, &wxi) in wx.iter().enumerate() {
            let p = if inside {
                let idx = ((y0 as usize + j) * src.width + x0 as usize + i) * CHANNELS;
                let s = &src.pixels[idx..idx + CHANNELS];
                [s[0], s[1], s[2], s[3]]
            } else {
                fetch(src, x0 + i as i64, y0 + j as i64, bg)
            };
            for c in 0..CHANNELS {
                row[c] += p[c] * wxi;
            }
        }
        for c in 0..CHANNELS {
            o[c] += row[c] * wyj;
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernels_interpolate() {
        for k in [catmull_rom as fn(f64) -> f64, lanczos3] {
            assert!((k(0.0) - 1.0).abs() < 1e-12);
            for n in 1..4 {
                assert!(k(n as f64).abs() < 1e-12, "k({n}) = {}", k(n as f64));
            }
        }
        // Catmull-Rom at 0.5: (1.5·0.5 − 2.5)·0.25 + 1 = 0.5625.
        assert!((catmull_rom(0.5) - 0.5625).abs() < 1e-12);
        assert!((catmull_rom(1.5) + 0.0625).abs() < 1e-12);
    }

    #[test]
    fn skipping_background_columns_changes_nothing() {
        // Every filter and a few maps (rotations, a shear, an enlargement, a shift far away):
        // the row spans must only skip pixels that are pure background.
        let (w, h) = (13usize, 9usize);
        let pixels: Vec<f32> = (0..w * h * 4).map(|i| ((i * 37) % 101) as f32 / 100.0 + 0.01).collect();
        let src = Source { pixels: &pixels, width: w, height: h, edge: Edge::Transparent };
        let bg = [0.1, 0.2, 0.3, 0.4];
        let maps = [
            Inverse { a: 0.866, b: 0.5, c: -0.5, d: 0.866, tx: -3.0, ty: 4.0 },
            Inverse { a: 0.0, b: 1.0, c: -1.0, d: 0.0, tx: 0.0, ty: 20.0 },
            Inverse { a: 0.25, b: 0.3, c: 0.0, d: 0.25, tx: 1.0, ty: 1.0 },
            Inverse { a: -1.0, b: 0.0, c: 0.0, d: 1.0, tx: 18.0, ty: -2.0 },
            Inverse { a: 1.0, b: 0.0, c: 0.0, d: 1.0, tx: 500.0, ty: 0.0 },
        ];
        let k = Kernel { src: &src, bg };
        let ow = 31;
        for filter in [Filter::Nearest, Filter::Bilinear, Filter::Bicubic, Filter::Lanczos3] {
            for m in maps {
                let mut out = vec![0.0; ow * 17 * 4];
                sample_into(&src, &mut out, ow, m, filter, bg, false);
                for (i, got) in out.chunks_exact(4).enumerate() {
                    let (x, y) = ((i % ow) as f64 + 0.5, (i / ow) as f64 + 0.5);
                    let (sx, sy) = (m.a * x + m.b * y + m.tx, m.c * x + m.d * y + m.ty);
                    let want = match filter {
                        Filter::Nearest => k.nearest::<false>(sx, sy),
                        Filter::Bilinear => k.bilinear::<false>(sx, sy),
                        Filter::Bicubic => k.taps::<4, false>(sx, sy, catmull_rom),
                        Filter::Lanczos3 => k.taps::<6, false>(sx, sy, lanczos3),
                    };
                    for c in 0..4 {
                        assert!((got[c] - want[c]).abs() < 1e-5, "{filter:?} {m:?} pixel {i}: {got:?} vs {want:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn fast_floor_is_floor() {
        for u in [-2.5, -2.0, -0.25, 0.0, 0.75, 1.0, 3.999, 1e15, -1e15] {
            assert_eq!(floor(u), (u.floor() as i64, u - u.floor()), "{u}");
        }
    }

    #[test]
    fn bilinear_blends_with_the_background_at_the_edge() {
        let px = [1.0f32, 1.0, 1.0, 1.0];
        let src = Source { pixels: &px, width: 1, height: 1, edge: Edge::Transparent };
        let bg = [0.0; 4];
        // Centre of the only pixel: exact.
        assert_eq!(bilinear_at(&src, 0.0, 0.0, bg), px);
        // On the left edge: half pixel, half background.
        assert_eq!(bilinear_at(&src, -0.5, 0.0, bg), [0.5; 4]);
        // Far away: background.
        assert_eq!(bilinear_at(&src, -7.5, 0.0, bg), bg);
    }
}
