//! The inverse-mapped sampler behind `rotate`, `translate` and `affine`.
//!
//! Every output pixel centre is mapped back through the inverse transform to a continuous
//! position in the source and reconstructed there with the chosen filter. Taps that fall outside
//! the source read the background colour, so the image's edges are antialiased against the
//! background by the filter itself (a bilinear edge is a one-pixel ramp). Rows are independent
//! and run in parallel; nothing is allocated per pixel.
//!
//! Hand-written rather than taken from a crate: fir only scales, tiny-skia's pattern shader is
//! 8-bit premultiplied and `imageproc`'s warp has no float RGBA premultiplied path. The sampler
//! interpolates and does not low-pass, so a transform that shrinks a lot aliases; shrink with
//! `resize` first.

use rayon::prelude::*;

use super::Filter;
use crate::image::buffer::{unpremultiply, CHANNELS};

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
    match filter {
        Filter::Nearest => run(src, out, ow, map, unpremultiply_out, |sx, sy| nearest(src, sx, sy, bg)),
        Filter::Bilinear => run(src, out, ow, map, unpremultiply_out, |sx, sy| bilinear(src, sx, sy, bg)),
        Filter::Bicubic => {
            run(src, out, ow, map, unpremultiply_out, |sx, sy| kernel::<4>(src, sx, sy, bg, catmull_rom))
        }
        Filter::Lanczos3 => run(src, out, ow, map, unpremultiply_out, |sx, sy| kernel::<6>(src, sx, sy, bg, lanczos3)),
    }
}

fn run<F>(_src: &Source, out: &mut [f32], ow: usize, m: Inverse, unpremultiply_out: bool, px: F)
where
    F: Fn(f64, f64) -> [f32; 4] + Sync,
{
    out.par_chunks_mut(ow * CHANNELS).enumerate().for_each(|(oy, row)| {
        let y = oy as f64 + 0.5;
        let (bx, by) = (m.b * y + m.tx, m.d * y + m.ty);
        for (ox, dst) in row.chunks_exact_mut(CHANNELS).enumerate() {
            let x = ox as f64 + 0.5;
            let mut p = px(m.a * x + bx, m.c * x + by);
            if unpremultiply_out {
                // Divide by the unclamped alpha (ringing filters overshoot colour and alpha alike),
                // then keep alpha in range.
                p = unpremultiply(p);
                p[3] = p[3].min(1.0);
            }
            dst.copy_from_slice(&p);
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

#[inline]
fn fetch(src: &Source, x: i64, y: i64, bg: [f32; 4]) -> [f32; 4] {
    if x < 0 || y < 0 || x >= src.width as i64 || y >= src.height as i64 {
        return bg;
    }
    let i = (y as usize * src.width + x as usize) * CHANNELS;
    let p = &src.pixels[i..i + CHANNELS];
    [p[0], p[1], p[2], p[3]]
}

#[inline]
fn nearest(src: &Source, sx: f64, sy: f64, bg: [f32; 4]) -> [f32; 4] {
    // Pixel i covers [i, i + 1); `as` saturates for huge or NaN positions, which land outside.
    fetch(src, snap(sx).floor() as i64, snap(sy).floor() as i64, bg)
}

#[inline]
fn bilinear(src: &Source, sx: f64, sy: f64, bg: [f32; 4]) -> [f32; 4] {
    let (u, v) = (snap(sx - 0.5), snap(sy - 0.5));
    let (uf, vf) = (u.floor(), v.floor());
    let (fx, fy) = ((u - uf) as f32, (v - vf) as f32);
    let (x0, y0) = (uf as i64, vf as i64);
    let (w, h) = (src.width as i64, src.height as i64);
    if x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h {
        // All four taps inside: index directly.
        let i = (y0 as usize * src.width + x0 as usize) * CHANNELS;
        let j = i + src.width * CHANNELS;
        let p = src.pixels;
        let mut o = [0.0f32; 4];
        for c in 0..CHANNELS {
            let top = p[i + c] + (p[i + CHANNELS + c] - p[i + c]) * fx;
            let bot = p[j + c] + (p[j + CHANNELS + c] - p[j + c]) * fx;
            o[c] = top + (bot - top) * fy;
        }
        return o;
    }
    if x0 < -1 || y0 < -1 || x0 >= w || y0 >= h {
        return bg;
    }
    let (p00, p10) = (fetch(src, x0, y0, bg), fetch(src, x0 + 1, y0, bg));
    let (p01, p11) = (fetch(src, x0, y0 + 1, bg), fetch(src, x0 + 1, y0 + 1, bg));
    let mut o = [0.0f32; 4];
    for c in 0..CHANNELS {
        let top = p00[c] + (p10[c] - p00[c]) * fx;
        let bot = p01[c] + (p11[c] - p01[c]) * fx;
        o[c] = top + (bot - top) * fy;
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
fn kernel<const N: usize>(src: &Source, sx: f64, sy: f64, bg: [f32; 4], k: fn(f64) -> f64) -> [f32; 4] {
    let (u, v) = (snap(sx - 0.5), snap(sy - 0.5));
    let (uf, vf) = (u.floor(), v.floor());
    let r = (N / 2) as i64;
    let (x0, y0) = (uf as i64 - (r - 1), vf as i64 - (r - 1));
    let (w, h) = (src.width as i64, src.height as i64);
    if x0 + N as i64 <= 0 || y0 + N as i64 <= 0 || x0 >= w || y0 >= h {
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
    fn bilinear_blends_with_the_background_at_the_edge() {
        let px = [1.0f32, 1.0, 1.0, 1.0];
        let src = Source { pixels: &px, width: 1, height: 1 };
        let bg = [0.0; 4];
        // Centre of the only pixel: exact.
        assert_eq!(bilinear(&src, 0.5, 0.5, bg), px);
        // On the left edge: half pixel, half background.
        assert_eq!(bilinear(&src, 0.0, 0.5, bg), [0.5; 4]);
        // Far away: background.
        assert_eq!(bilinear(&src, -7.0, 0.5, bg), bg);
    }
}
