//! Worley (cellular) noise: one jittered feature point per cell, distances to the nearest two.

use super::{corner, dispatch, floor_i, wrap, Lattice};

/// What a Worley source returns (DESIGN.md §4 `worley(#{ output })`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorleyOutput {
    /// Distance to the nearest feature point (in cells, clamped to 1): dark spots, bright rims.
    F1,
    /// Distance to the second nearest, divided by 1.5 and clamped.
    F2,
    /// F2 − F1 (clamped to 1): 0 on cell borders, cracks and crazing.
    F2F1,
    /// A random value in [0, 1) per cell: flat-shaded Voronoi cells.
    Cell,
}

crate::option_choice!(WorleyOutput { F1 = "f1", F2 = "f2", F2F1 = "f2_f1", Cell = "cell" });

/// The feature point offset of a cell from its hash, in [0, 1)² (fully jittered).
#[inline(always)]
pub(crate) fn feature(h: u32) -> (f32, f32) {
    ((h & 0xffff) as f32 * (1.0 / 65536.0), (h >> 16) as f32 * (1.0 / 65536.0))
}

/// Squared distances to the nearest two feature points and the nearest cell's hash, for a point
/// in lattice units. A 3×3 search: exact for F1, and for F2 except in rare far corners.
#[inline(always)]
pub(crate) fn nearest<const TILE: bool>(x: f32, y: f32, period: i32, seed: u32) -> (f32, f32, u32) {
    let ix = floor_i(x);
    let iy = floor_i(y);
    let fx = x - ix as f32;
    let fy = y - iy as f32;
    let mut d1 = f32::MAX;
    let mut d2 = f32::MAX;
    let mut id = 0u32;
    for dy in -1..=1 {
        for dx in -1..=1 {
            let (cx, cy) = if TILE {
                (wrap(ix + dx, period), wrap(iy + dy, period))
            } else {
                (ix.wrapping_add(dx), iy.wrapping_add(dy))
            };
            let h = corner(cx, cy, seed);
            let (ox, oy) = feature(h);
            let ex = dx as f32 + ox - fx;
            let ey = dy as f32 + oy - fy;
            let d = ex * ex + ey * ey;
            let closer = d < d1;
            d2 = if closer { d1 } else { d2.min(d) };
            id = if closer { h } else { id };
            d1 = if closer { d } else { d1 };
        }
    }
    (d1, d2, id)
}

#[inline(always)]
fn run<const TILE: bool>(us: &[f32], vs: &[f32], lat: Lattice, output: WorleyOutput, out: &mut [f32]) {
    let f = lat.freq;
    for ((o, &u), &v) in out.iter_mut().zip(us).zip(vs) {
        let (d1, d2, id) = nearest::<TILE>(u * f, v * f, lat.period, lat.seed);
        *o = match output {
            WorleyOutput::F1 => d1.sqrt().min(1.0),
            WorleyOutput::F2 => (d2.sqrt() * (1.0 / 1.5)).min(1.0),
            WorleyOutput::F2F1 => (d2.sqrt() - d1.sqrt()).min(1.0),
            WorleyOutput::Cell => (super::hash(id ^ 0x68e3_1da4) >> 8) as f32 * (1.0 / 16_777_216.0),
        };
    }
}

#[inline(always)]
fn generic_with(us: &[f32], vs: &[f32], lat: Lattice, output: WorleyOutput, out: &mut [f32]) {
    if lat.period > 0 {
        run::<true>(us, vs, lat, output, out)
    } else {
        run::<false>(us, vs, lat, output, out)
    }
}

macro_rules! per_output {
    ($name:ident, $o:expr) => {
        #[inline(always)]
        fn $name(us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
            generic_with(us, vs, lat, $o, out)
        }
    };
}
per_output!(f1, WorleyOutput::F1);
per_output!(f2, WorleyOutput::F2);
per_output!(f2f1, WorleyOutput::F2F1);
per_output!(cell, WorleyOutput::Cell);

/// Worley noise in [0, 1] (not signed).
pub(crate) fn block(us: &[f32], vs: &[f32], lat: Lattice, output: WorleyOutput, out: &mut [f32]) {
    match output {
        WorleyOutput::F1 => dispatch!(f1, us, vs, lat, out),
        WorleyOutput::F2 => dispatch!(f2, us, vs, lat, out),
        WorleyOutput::F2F1 => dispatch!(f2f1, us, vs, lat, out),
        WorleyOutput::Cell => dispatch!(cell, us, vs, lat, out),
    }
}
