//! 2D simplex noise (Perlin 2001, as explained by Gustavson): three corners per point instead of
//! four, no square-grid artefacts.
//!
//! The simplex lattice has no square period, so the tileable form blends the four copies shifted
//! by one period with bilinear weights and divides by the weights' root sum of squares, which keeps
//! the variance (contrast) constant across the tile.

use super::perlin::grad;
use super::{corner, dispatch, floor_i, Lattice};

const F2: f32 = 0.366_025_42; // (√3 − 1) / 2
const G2: f32 = 0.211_324_87; // (3 − √3) / 6
/// Maps the largest value with unit gradients (about 1/99) to ±1.
const NORM: f32 = 99.0;

#[inline(always)]
fn point(x: f32, y: f32, seed: u32) -> f32 {
    let s = (x + y) * F2;
    let i = floor_i(x + s);
    let j = floor_i(y + s);
    let t = (i + j) as f32 * G2;
    let x0 = x - (i as f32 - t);
    let y0 = y - (j as f32 - t);
    let upper = x0 > y0;
    let (i1, j1) = if upper { (1, 0) } else { (0, 1) };
    let x1 = x0 - i1 as f32 + G2;
    let y1 = y0 - j1 as f32 + G2;
    let x2 = x0 - 1.0 + 2.0 * G2;
    let y2 = y0 - 1.0 + 2.0 * G2;
    let c = |h: u32, x: f32, y: f32| {
        let t = (0.5 - x * x - y * y).max(0.0);
        let t2 = t * t;
        t2 * t2 * grad(h, x, y)
    };
    let n0 = c(corner(i, j, seed), x0, y0);
    let n1 = c(corner(i.wrapping_add(i1), j.wrapping_add(j1), seed), x1, y1);
    let n2 = c(corner(i.wrapping_add(1), j.wrapping_add(1), seed), x2, y2);
    (n0 + n1 + n2) * NORM
}

#[inline(always)]
fn generic(us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
    let f = lat.freq;
    if lat.period > 0 {
        let p = lat.period as f32;
        for ((o, &u), &v) in out.iter_mut().zip(us).zip(vs) {
            // position inside the tile, in [0, p)
            let x = u * f - p * floor_i(u * f / p) as f32;
            let y = v * f - p * floor_i(v * f / p) as f32;
            let s = x / p;
            let t = y / p;
            let (w00, w10, w01, w11) = ((1.0 - s) * (1.0 - t), s * (1.0 - t), (1.0 - s) * t, s * t);
            let sum = w00 * point(x, y, lat.seed)
                + w10 * point(x - p, y, lat.seed)
                + w01 * point(x, y - p, lat.seed)
                + w11 * point(x - p, y - p, lat.seed);
            let rms = (w00 * w00 + w10 * w10 + w01 * w01 + w11 * w11).sqrt();
            *o = (sum / rms).clamp(-1.0, 1.0);
        }
    } else {
        for ((o, &u), &v) in out.iter_mut().zip(us).zip(vs) {
            *o = point(u * f, v * f, lat.seed).clamp(-1.0, 1.0);
        }
    }
}

/// Signed simplex noise in [-1, 1].
pub(crate) fn block(us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
    dispatch!(generic, us, vs, lat, out)
}
