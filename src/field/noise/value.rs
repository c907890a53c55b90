//! Value noise: a random value per lattice corner, smoothly (quintic) interpolated.

use super::{corner, dispatch, fade, floor_i, wrap, Lattice};

/// The corner hash as a value in [-1, 1].
#[inline(always)]
fn val(h: u32) -> f32 {
    (h >> 8) as f32 * (2.0 / 16_777_215.0) - 1.0
}

#[inline(always)]
fn run<const TILE: bool>(us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
    let f = lat.freq;
    let (p, seed) = (lat.period, lat.seed);
    for ((o, &u), &v) in out.iter_mut().zip(us).zip(vs) {
        let (x, y) = (u * f, v * f);
        let ix = floor_i(x);
        let iy = floor_i(y);
        let a = fade(x - ix as f32);
        let b = fade(y - iy as f32);
        let (x0, x1, y0, y1) = if TILE {
            let x0 = wrap(ix, p);
            let y0 = wrap(iy, p);
            (x0, if x0 + 1 == p { 0 } else { x0 + 1 }, y0, if y0 + 1 == p { 0 } else { y0 + 1 })
        } else {
            (ix, ix.wrapping_add(1), iy, iy.wrapping_add(1))
        };
        let v00 = val(corner(x0, y0, seed));
        let v10 = val(corner(x1, y0, seed));
        let v01 = val(corner(x0, y1, seed));
        let v11 = val(corner(x1, y1, seed));
        let top = v00 + a * (v10 - v00);
        let bot = v01 + a * (v11 - v01);
        *o = top + b * (bot - top);
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

/// Signed value noise in [-1, 1].
pub(crate) fn block(us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
    dispatch!(generic, us, vs, lat, out)
}
