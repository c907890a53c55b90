//! `normal_map`: a tangent-space normal map from a height map.
//!
//! The gradient is Scharr's 3×3 (weights 3, 10, 3 over 32), not Sobel's (1, 2, 1 over 8): both
//! are exact on a linear ramp, but Scharr's is close to rotation invariant, so a slope pointing
//! diagonally gets the same normal as one pointing along an axis (Sobel's error there is up to a
//! few degrees, which would eat the 2° budget of the analytic tests by itself).
//!
//! Scale convention (`strength`): heights are in pixel widths times `strength`, so the normal is
//! `normalize(-strength·∂h/∂x, -strength·∂h/∂y_up, 1)` with the derivatives in height per pixel.
//! `strength: 1` makes a height step of 1.0 between neighbouring pixels a 45° slope. Why per
//! pixel: it is what the gradient filter measures, so the scale is exact and testable, and it is
//! the scale a Substance or Material Maker user turns with the node's intensity. The same height
//! rendered at twice the size therefore looks half as steep: scale `strength` with the size for a
//! resolution-independent look (e.g. `strength: 8 * size / 1024`). The default, 8, suits noise
//! heights in 0..1 at 512–1024².
//!
//! Encoding: `rgb = n·0.5 + 0.5`, opaque. OpenGL convention (glTF, Blender, Unity, Godot): +Y is
//! up the image, so a bump's upper slope is green. DirectX (Unreal): green flipped.

use super::{build_rows, Height};
use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};
use crate::image::ops::edge::{keeps_tileable, resolve, Edge};

/// Which way the green channel points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Convention {
    /// +Y up (green up): glTF, Blender, Unity, Godot, Material Maker.
    OpenGl,
    /// +Y down (green flipped): Unreal, Substance's DirectX output.
    DirectX,
}

crate::option_choice!(Convention { OpenGl = "opengl", DirectX = "directx" });

crate::option_set! {
    /// Options of `normal_map(#{ ... })`.
    #[derive(Copy)]
    pub struct NormalMap for "normal_map" {
        /// Height scale: 1 makes a height step of 1.0 between neighbouring pixels a 45° slope.
        strength: f32 = 8.0, range(0.0, 1.0e6);
        /// "opengl" (green up: glTF, Blender, Unity, Godot) or "directx" (green down: Unreal).
        convention: Convention = Convention::OpenGl;
        /// Edge mode; "wrap" for tileable images, else "clamp".
        edge: Option<Edge> = None;
    }
}

/// The normal map of `img`'s height (see the module docs for the scale and encoding).
pub fn normal_map(img: &Image, o: &NormalMap) -> Result<Image> {
    let height = Height::of("normal_map", img)?;
    let edge = resolve(o.edge, img, Edge::Clamp);
    let padded = height.padded("normal_map", 1, edge)?;
    drop(height);
    let s = o.strength;
    // Image y grows downwards; the tangent frame's +Y is up (OpenGL) or down (DirectX).
    let flip = if o.convention == Convention::OpenGl { 1.0 } else { -1.0 };
    let (w, h) = (img.width() as usize, img.height() as usize);
    let out = build_rows(w, h, |y, row| {
        for (x, p) in row.chunks_exact_mut(CHANNELS).enumerate() {
            let (gx, gy) = padded.gradient(x, y);
            let n = [-s * gx, flip * s * gy, 1.0];
            let inv = 1.0 / (n[0] * n[0] + n[1] * n[1] + 1.0).sqrt();
            p.copy_from_slice(&[n[0] * inv * 0.5 + 0.5, n[1] * inv * 0.5 + 0.5, inv * 0.5 + 0.5, 1.0]);
        }
    })?;
    Ok(out.with_tileable(keeps_tileable(edge, img)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{height_image, roll, seam};
    use super::*;

    /// The unit normal a pixel encodes.
    fn decode(p: &[f32]) -> [f64; 3] {
        let v = [p[0] as f64 * 2.0 - 1.0, p[1] as f64 * 2.0 - 1.0, p[2] as f64 * 2.0 - 1.0];
        let l = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        [v[0] / l, v[1] / l, v[2] / l]
    }

    fn angle_deg(a: [f64; 3], b: [f64; 3]) -> f64 {
        let l = |v: [f64; 3]| (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
        let d = (a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) / (l(a) * l(b));
        d.clamp(-1.0, 1.0).acos().to_degrees()
    }

    /// Mean angle between the normal map and `truth(x, y)` over the pixels `inside` selects.
    fn mean_error(img: &Image, truth: impl Fn(f64, f64) -> [f64; 3], inside: impl Fn(f64, f64) -> bool) -> f64 {
        let (mut sum, mut n) = (0.0, 0usize);
        for (i, p) in img.pixels().chunks_exact(4).enumerate() {
            let (x, y) = ((i % img.width() as usize) as f64, (i / img.width() as usize) as f64);
            if inside(x, y) {
                sum += angle_deg(decode(p), truth(x, y));
                n += 1;
            }
        }
        assert!(n > 100);
        sum / n as f64
    }

    #[test]
    fn sphere_cap_matches_its_analytic_normals() {
        // h = sqrt(R² − r²)/R with strength R: the height in pixels is the sphere itself, whose
        // normal (OpenGL, y up) is ((x − c), −(y − c), h·R) / R.
        let (n, r) = (256u32, 100.0f64);
        let c = 127.5;
        let img = height_image(n, n, |x, y| {
            let d2 = (x as f64 - c).powi(2) + (y as f64 - c).powi(2);
            ((r * r - d2).max(0.0).sqrt() / r) as f32
        });
        let out = normal_map(&img, &NormalMap { strength: r as f32, ..NormalMap::default() }).unwrap();
        let truth = |x: f64, y: f64| {
            let (dx, dy) = (x - c, y - c);
            [dx, -dy, (r * r - dx * dx - dy * dy).max(0.0).sqrt()]
        };
        // The rim (slope → 90°) is not a height field a 3×3 gradient can follow; judge the cap
        // up to 60° of slope (r <= 0.866 R), and the flat outside.
        let err = mean_error(&out, truth, |x, y| ((x - c).powi(2) + (y - c).powi(2)).sqrt() <= 0.866 * r);
        assert!(err <= 2.0, "sphere cap: mean angular error {err}°");
        let flat =
            mean_error(&out, |_, _| [0.0, 0.0, 1.0], |x, y| ((x - c).powi(2) + (y - c).powi(2)).sqrt() > r + 2.0);
        assert!(flat < 1e-3, "flat outside: {flat}°");
    }

    #[test]
    fn sine_ridges_match_their_analytic_normals_in_both_conventions() {
        // h = A sin(2π(x cos θ + y sin θ)/P): ridges at an angle, so both axes carry slope.
        let (a, p, th) = (0.5f64, 24.0f64, 0.6f64);
        let k = std::f64::consts::TAU / p;
        let img = height_image(128, 96, |x, y| (a * (k * (x as f64 * th.cos() + y as f64 * th.sin())).sin()) as f32);
        for (conv, sy) in [(Convention::OpenGl, 1.0), (Convention::DirectX, -1.0)] {
            let o = NormalMap { strength: 3.0, convention: conv, edge: None };
            let out = normal_map(&img, &o).unwrap();
            let truth = |x: f64, y: f64| {
                let g = 3.0 * a * k * (k * (x * th.cos() + y * th.sin())).cos();
                [-g * th.cos(), sy * g * th.sin(), 1.0]
            };
            let err = mean_error(&out, truth, |x, y| x > 0.0 && y > 0.0 && x < 127.0 && y < 95.0);
            assert!(err <= 2.0, "{conv:?}: mean angular error {err}°");
        }
    }

    #[test]
    fn green_points_up_the_slope_in_opengl() {
        // Height grows down the image (y): the slope faces up the image, +Y in OpenGL, so its
        // green is above 0.5.
        let img = height_image(8, 8, |_, y| y * 0.1);
        let out = normal_map(&img, &NormalMap::default()).unwrap();
        let g = out.get(4, 4).unwrap().g;
        assert!(g > 0.55, "{g}");
        let dx = normal_map(&img, &NormalMap { convention: Convention::DirectX, ..NormalMap::default() }).unwrap();
        assert!((dx.get(4, 4).unwrap().g - (1.0 - g)).abs() < 1e-6);
        assert!(out.is_opaque());
    }

    #[test]
    fn wrap_commutes_with_a_circular_shift_and_clamp_does_not() {
        // A tileable height: with wrap, shifting the input round shifts the output round exactly
        // (no pixel knows where the image's border is); with clamp (the control) the border
        // pixels differ.
        let k = std::f32::consts::TAU / 32.0;
        let img = height_image(32, 32, |x, y| 0.5 + 0.25 * (k * x).sin() * (2.0 * k * y).cos());
        for (edge, commutes) in [(Edge::Wrap, true), (Edge::Clamp, false)] {
            let o = NormalMap { edge: Some(edge), ..NormalMap::default() };
            let a = roll(&normal_map(&roll(&img, 7, 5), &o).unwrap(), 32 - 7, 32 - 5);
            let b = normal_map(&img, &o).unwrap();
            assert_eq!(a == b, commutes, "{edge:?}");
        }
        let wrap = normal_map(&img, &NormalMap { edge: Some(Edge::Wrap), ..NormalMap::default() }).unwrap();
        let (seam_w, inner) = seam(&wrap);
        assert!(seam_w <= 1.25 * inner, "wrap: seam {seam_w} vs interior {inner}");
    }

    #[test]
    fn a_tileable_image_wraps_by_default_and_keeps_its_tag() {
        let k = std::f32::consts::TAU / 16.0;
        let img = height_image(16, 16, |x, y| 0.5 + 0.4 * (k * x).sin() * (k * y).cos()).with_tileable(true);
        let default = normal_map(&img, &NormalMap::default()).unwrap();
        let wrap = normal_map(&img, &NormalMap { edge: Some(Edge::Wrap), ..NormalMap::default() }).unwrap();
        let clamp = normal_map(&img, &NormalMap { edge: Some(Edge::Clamp), ..NormalMap::default() }).unwrap();
        assert_eq!(default, wrap);
        assert_ne!(default, clamp);
        assert!(default.tileable() && !clamp.tileable());
    }

    #[test]
    fn nan_height_is_an_error_naming_the_op_and_pixel() {
        let img = height_image(4, 4, |x, y| if x == 2.0 && y == 1.0 { f32::NAN } else { 0.5 });
        let e = normal_map(&img, &NormalMap::default()).unwrap_err().to_string();
        assert!(e.contains("normal_map") && e.contains("NaN") && e.contains("(2, 1)"), "{e}");
    }

    #[test]
    fn colour_height_uses_luminance() {
        let img = Image::from_fn(8, 8, |x, _| [x as f32 * 0.1, 0.0, 0.0, 1.0]).unwrap();
        let grey = height_image(8, 8, |x, _| x * 0.1 * 0.299);
        let a = normal_map(&img, &NormalMap::default()).unwrap();
        let b = normal_map(&grey, &NormalMap::default()).unwrap();
        assert_eq!(a.get(4, 4), b.get(4, 4));
    }
}
