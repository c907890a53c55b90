//! Perlin gradient noise (Perlin 2002: quintic fade), 2D, eight unit gradients, f32.

use super::{corner, dispatch, fade, floor_i, wrap, Lattice};

/// √2: the largest value of 2D gradient noise with unit gradients is √½, so this maps it to ±1.
const NORM: f32 = std::f32::consts::SQRT_2;

/// Dot product of the gradient picked by `h` (one of eight unit vectors, 45° apart) with (x, y).
/// Written as selects so the block loop vectorises.
#[inline(always)]
pub(crate) fn grad(h: u32, x: f32, y: f32) -> f32 {
    let sx = if h & 1 != 0 { -x } else { x };
    let sy = if h & 2 != 0 { -y } else { y };
    let axis = if h & 8 != 0 { sy } else { sx };
    let diag = (sx + sy) * std::f32::consts::FRAC_1_SQRT_2;
    if h & 4 != 0 {
        diag
    } else {
        axis
    }
}

/// Signed Perlin noise of one point in lattice units (used by tests and the generic path).
#[inline(always)]
pub(crate) fn point<const TILE: bool>(x: f32, y: f32, period: i32, seed: u32) -> f32 {
    let ix = floor_i(x);
    let iy = floor_i(y);
    let fx = x - ix as f32;
    let fy = y - iy as f32;
    let (x0, x1, y0, y1) = if TILE {
        let x0 = wrap(ix, period);
        let y0 = wrap(iy, period);
        let x1 = if x0 + 1 == period { 0 } else { x0 + 1 };
        let y1 = if y0 + 1 == period { 0 } else { y0 + 1 };
        (x0, x1, y0, y1)
    } else {
        (ix, ix.wrapping_add(1), iy, iy.wrapping_add(1))
    };
    let n00 = grad(corner(x0, y0, seed), fx, fy);
    let n10 = grad(corner(x1, y0, seed), fx - 1.0, fy);
    let n01 = grad(corner(x0, y1, seed), fx, fy - 1.0);
    let n11 = grad(corner(x1, y1, seed), fx - 1.0, fy - 1.0);
    let a = fade(fx);
    let b = fade(fy);
    let nx0 = n00 + a * (n10 - n00);
    let nx1 = n01 + a * (n11 - n01);
    (nx0 + b * (nx1 - nx0)) * NORM
}

#[inline(always)]
fn run<const TILE: bool>(us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
    let f = lat.freq;
    for ((o, &u), &v) in out.iter_mut().zip(us).zip(vs) {
        *o = point::<TILE>(u * f, v * f, lat.period, lat.seed);
    }
}

#[inline(always)]
fn generic(us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
    if lat.period > 0 {
        run::<true>(us, vs, lat, out)
    } else {
        run::<false>(us, vs, lat, out)
    }
}

/// Signed Perlin noise in [-1, 1] at `(us[i], vs[i]) · freq` into `out[i]`.
pub(crate) fn block(us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
    dispatch!(generic, us, vs, lat, out)
}
