//! `curvature`: convexity of a height map as a grey picture, 0.5 where flat, brighter on ridges
//! and bumps (convex), darker in creases and pits (concave) — Substance's Curvature convention.
//!
//! The measure is the difference between a pixel's height and the mean height of the
//! (2·radius+1)² box around it (a discrete Laplacian at the scale of the radius, which is what
//! "curvature smooth" nodes blur towards): `c = 0.5 + strength · (h − mean)`, clamped to 0..1.
//! A larger radius finds larger forms. The box mean is separable: a running sum along each padded
//! row (f64, one thread per row), then each output row adds its 2·radius+1 row sums in order, so
//! the result does not depend on the thread split.

use rayon::prelude::*;

use super::{build_rows, reserve_floats, Height};
use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};
use crate::image::ops::edge::{keeps_tileable, resolve, Edge};

crate::option_set! {
    /// Options of `curvature(#{ ... })`.
    #[derive(Copy)]
    pub struct Curvature for "curvature" {
        /// Size of the forms measured, in pixels: the box compared against is 2r+1 wide.
        radius: u32 = 4, range(1, 128);
        /// Contrast: the output is 0.5 + strength × (height − the box mean), clamped to 0..1.
        strength: f32 = 4.0, range(0.0, 1.0e4);
        /// Edge mode; "wrap" for tileable images, else "clamp".
        edge: Option<Edge> = None;
    }
}

/// Curvature of `img`'s height: 0.5 flat, convex brighter (see the module docs).
pub fn curvature(img: &Image, o: &Curvature) -> Result<Image> {
    let op = "curvature";
    let height = Height::of(op, img)?;
    let r = o.radius as usize;
    let edge = resolve(o.edge, img, Edge::Clamp);
    let padded = height.padded(op, r, edge)?;
    let (w, h) = (height.w, height.h);
    let ph = h + 2 * r;
    // Horizontal box sums of every padded row, for the w output columns.
    let _held = reserve_floats(2 * w * ph, op)?;
    let mut sums = vec![0f64; w * ph];
    let stop = crate::cancel::current();
    sums.par_chunks_mut(w).enumerate().for_each(|(py, out)| {
        if stop.is_stopped() {
            return;
        }
        let row = &padded.values[py * padded.stride..(py + 1) * padded.stride];
        let mut s: f64 = row[..2 * r + 1].iter().map(|&v| v as f64).sum();
        for (x, o) in out.iter_mut().enumerate() {
            *o = s;
            if x + 1 < w {
                s += row[x + 2 * r + 1] as f64 - row[x] as f64;
            }
        }
    });
    stop.check()?;
    drop(padded);
    let inv = 1.0 / ((2 * r + 1) * (2 * r + 1)) as f64;
    let k = o.strength as f64;
    let out = build_rows(w, h, |y, row| {
        let mut acc = vec![0f64; w];
        for band in sums[y * w..(y + 2 * r + 1) * w].chunks_exact(w) {
            for (a, s) in acc.iter_mut().zip(band) {
                *a += s;
            }
        }
        let hs = &height.values[y * w..(y + 1) * w];
        for ((p, a), &h0) in row.chunks_exact_mut(CHANNELS).zip(&acc).zip(hs) {
            let v = (0.5 + k * (h0 as f64 - a * inv)).clamp(0.0, 1.0) as f32;
            p.copy_from_slice(&[v, v, v, 1.0]);
        }
    })?;
    Ok(out.with_tileable(keeps_tileable(edge, img)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{height_image, roll, seam};
    use super::*;

    #[test]
    fn flat_is_one_half() {
        let out = curvature(&height_image(20, 30, |_, _| 0.8), &Curvature::default()).unwrap();
        assert!(out.pixels().chunks_exact(4).all(|p| (p[0] - 0.5).abs() < 1e-6 && p[3] == 1.0));
    }

    #[test]
    fn a_bump_top_is_bright_and_a_pit_bottom_dark() {
        let bump = |sign: f32| {
            move |x: f32, y: f32| 0.5 + sign * 0.3 * (-((x - 16.0).powi(2) + (y - 16.0).powi(2)) / 20.0).exp()
        };
        let o = Curvature::default();
        let top = curvature(&height_image(32, 32, bump(1.0)), &o).unwrap().get(16, 16).unwrap().r;
        let pit = curvature(&height_image(32, 32, bump(-1.0)), &o).unwrap().get(16, 16).unwrap().r;
        assert!(top > 0.6 && pit < 0.4, "top {top}, pit {pit}");
        assert!((top - 0.5 - (0.5 - pit)).abs() < 1e-5, "symmetric: {top} {pit}");
    }

    #[test]
    fn matches_a_direct_box_mean() {
        // Reference computed the obvious way, with wrap indices.
        let f = |x: f32, y: f32| ((x * 0.7).sin() + (y * 0.3).cos()) * 0.25 + 0.5;
        let (w, h, r) = (23usize, 17usize, 3i64);
        let img = height_image(w as u32, h as u32, f);
        let o = Curvature { radius: r as u32, strength: 2.0, edge: Some(Edge::Wrap) };
        let out = curvature(&img, &o).unwrap();
        for (x, y) in [(0usize, 0usize), (5, 7), (22, 16), (11, 0)] {
            let mut sum = 0.0f64;
            for dy in -r..=r {
                for dx in -r..=r {
                    let (sx, sy) = ((x as i64 + dx).rem_euclid(w as i64), (y as i64 + dy).rem_euclid(h as i64));
                    sum += f(sx as f32, sy as f32) as f64;
                }
            }
            let mean = sum / ((2 * r + 1) * (2 * r + 1)) as f64;
            let want = (0.5 + 2.0 * (f(x as f32, y as f32) as f64 - mean)).clamp(0.0, 1.0);
            let got = out.get(x as i64, y as i64).unwrap().r as f64;
            assert!((got - want).abs() < 1e-5, "({x}, {y}): {got} vs {want}");
        }
    }

    #[test]
    fn wrap_keeps_a_tileable_height_tileable() {
        let k = std::f32::consts::TAU / 64.0;
        let img = height_image(64, 64, |x, y| 0.5 + 0.25 * (k * x).sin() * (2.0 * k * y).cos());
        let wrap = curvature(&img, &Curvature { edge: Some(Edge::Wrap), ..Curvature::default() }).unwrap();
        let (seam_w, inner) = seam(&wrap);
        assert!(seam_w <= 1.25 * inner, "wrap: seam {seam_w} vs interior {inner}");
        let o = Curvature { edge: Some(Edge::Wrap), ..Curvature::default() };
        assert_eq!(roll(&curvature(&roll(&img, 9, 20), &o).unwrap(), 64 - 9, 64 - 20), wrap);
    }
}
