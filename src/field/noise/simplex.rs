//! 2D simplex noise (Perlin 2001, as explained by Gustavson): three corners per point instead of
//! four, no square-grid artefacts.
//!
//! The equilateral simplex lattice has no square period, so the tileable form uses the lattice of
//! Gustavson and McEwan's psrdnoise (JCGT 2022): rows of points one unit apart, every row shifted
//! by half a unit, which repeats after any whole number of columns and any even number of rows.
//! Corners are wrapped before hashing, so the noise repeats exactly; the period is the scale
//! rounded to an even number of cells.

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
    let t = i.wrapping_add(j) as f32 * G2;
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

/// Maps the largest value of the stretched lattice (falloff radius² 0.8) to about ±1.
const PERIODIC_NORM: f32 = 10.9;

/// Simplex noise on psrdnoise's half-shifted row lattice, corners wrapped every `p` columns and
/// `p` rows (p even).
#[inline(always)]
fn periodic(x: f32, y: f32, p: i32, seed: u32) -> f32 {
    // skewed (lattice) coordinates: rows are whole y, each row shifted by half a column
    let su = x + y * 0.5;
    let i0u = floor_i(su);
    let i0v = floor_i(y);
    let fu = su - i0u as f32;
    let fv = y - i0v as f32;
    let upper = fu > fv;
    let (o1u, o1v) = if upper { (1, 0) } else { (0, 1) };
    // corners back in input space
    let v0x = i0u as f32 - i0v as f32 * 0.5;
    let v0y = i0v as f32;
    let v1x = v0x + o1u as f32 - o1v as f32 * 0.5;
    let v1y = v0y + o1v as f32;
    let v2x = v0x + 0.5;
    let v2y = v0y + 1.0;
    let c = |vx: f32, vy: f32| {
        let (dx, dy) = (x - vx, y - vy);
        // wrap the corner into the period, then back to lattice indices (exact: half-integers)
        let pf = p as f32;
        let wy = vy - pf * floor_i(vy / pf) as f32;
        let wx = vx - pf * floor_i(vx / pf) as f32;
        let iu = floor_i(wx + 0.5 * wy + 0.5);
        let iv = floor_i(wy + 0.5);
        let t = (0.8 - dx * dx - dy * dy).max(0.0);
        let t2 = t * t;
        t2 * t2 * grad(corner(iu, iv, seed), dx, dy)
    };
    (c(v0x, v0y) + c(v1x, v1y) + c(v2x, v2y)) * PERIODIC_NORM
}

#[inline(always)]
fn generic(us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
    let f = lat.freq;
    if lat.period > 0 {
        // an even period (the lattice repeats every two rows); the frequency follows it so that
        // the noise repeats once across [0, 1]
        let p = (lat.period + 1) & !1;
        let fp = p as f32;
        for ((o, &u), &v) in out.iter_mut().zip(us).zip(vs) {
            *o = periodic(u * fp, v * fp, p, lat.seed).clamp(-1.0, 1.0);
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
