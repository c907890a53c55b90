//! Tone and colour adjustments: per-pixel maps of the RGB channels (DESIGN.md §4 "tone").
//!
//! Owns: brightness, contrast, saturation (Pillow `ImageEnhance` semantics), hue, gamma,
//! exposure, levels, curves, invert, grayscale, threshold, posterize and a stops-only colorize.
//! Must not know about Rhai, files or fields. Alpha is never changed by a tone op.
//!
//! Every op is one parallel pass that reads the source and writes a fresh buffer (contrast adds one
//! read-only reduction pass for the mean). The W5 workload (brightness, contrast, saturation) is
//! three separate script calls, so each op is kept memory-bound and cheap rather than fused; the
//! `_in_place` variants skip the allocation when the image is not shared.
//!
//! Files: `enhance.rs` (the three Pillow `ImageEnhance` ops), `curves.rs` (monotone cubic tone
//! curve), `colorize.rs` (luma through colour stops); the one-line per-pixel maps live here.
//! Only brightness, contrast and saturation clip to 0..1 (as Pillow does); the others keep HDR values.

mod colorize;
mod curves;
mod enhance;

pub use colorize::{colorize, colorize_stops};
pub use curves::{curves, Curve};
pub use enhance::{
    brightness, brightness_in_place, contrast, contrast_in_place, luma_mean_pillow, saturation, saturation_in_place,
};

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::buffer::{Image, CHANNELS};
use crate::image::color::{hsv_to_rgb, linear_to_srgb, luma, rgb_to_hsv, srgb_to_linear};

/// A fresh image with `f` applied to every pixel's RGB; alpha is copied unchanged.
fn map_rgb<F>(img: &Image, f: F) -> Result<Image>
where
    F: Fn([f32; 3]) -> [f32; 3] + Sync,
{
    let src = img.pixels();
    let stride = img.stride();
    let mut out = vec![0f32; src.len()];
    out.par_chunks_mut(stride).zip(src.par_chunks(stride)).for_each(|(o, s)| {
        for (o, s) in o.chunks_exact_mut(CHANNELS).zip(s.chunks_exact(CHANNELS)) {
            let [r, g, b] = f([s[0], s[1], s[2]]);
            o[0] = r;
            o[1] = g;
            o[2] = b;
            o[3] = s[3];
        }
    });
    // A per-pixel map keeps a tiling image tiling (see `ops::edge`).
    Ok(Image::from_rgba(img.width(), img.height(), out)?.with_tileable(img.tileable()))
}

/// Applies `f` to every pixel's RGB in place (copy-on-write: copies first only if shared).
fn map_rgb_in_place<F>(img: &mut Image, f: F)
where
    F: Fn([f32; 3]) -> [f32; 3] + Sync,
{
    img.rows_mut().for_each(|row| {
        for p in row.chunks_exact_mut(CHANNELS) {
            let [r, g, b] = f([p[0], p[1], p[2]]);
            p[0] = r;
            p[1] = g;
            p[2] = b;
        }
    });
}

fn check_finite(op: &str, what: &str, v: f32) -> Result<f32> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(Error::param(op, format!("{what} must be a finite number, got {v}")))
    }
}

fn check_non_negative(op: &str, what: &str, v: f32) -> Result<f32> {
    let v = check_finite(op, what, v)?;
    if v < 0.0 {
        return Err(Error::param(op, format!("{what} must be >= 0, got {v}")));
    }
    Ok(v)
}

/// Rotates every pixel's hue by `degrees` in HSV (saturation and value kept); 120 turns red green.
pub fn hue(img: &Image, degrees: f32) -> Result<Image> {
    let d = check_finite("hue", "degrees", degrees)?.rem_euclid(360.0);
    map_rgb(img, |rgb| {
        let [h, s, v] = rgb_to_hsv(rgb);
        hsv_to_rgb([(h + d).rem_euclid(360.0), s, v])
    })
}

/// Gamma correction like ImageMagick `-gamma g`: `x^(1/g)`, so g > 1 brightens the midtones.
/// Negative values keep their sign. `g` must be > 0.
pub fn gamma(img: &Image, g: f32) -> Result<Image> {
    let g = check_finite("gamma", "gamma", g)?;
    if g <= 0.0 {
        return Err(Error::param("gamma", format!("gamma must be > 0, got {g}")));
    }
    let e = 1.0 / g;
    let p = move |v: f32| v.abs().powf(e).copysign(v);
    map_rgb(img, |[r, gg, b]| [p(r), p(gg), p(b)])
}

/// Photographic exposure: multiplies linear light by `2^ev` (sRGB decoded, scaled, re-encoded).
pub fn exposure(img: &Image, ev: f32) -> Result<Image> {
    let ev = check_finite("exposure", "ev", ev)?;
    if ev.abs() > 64.0 {
        return Err(Error::param("exposure", format!("ev must be in -64..64, got {ev}")));
    }
    let k = 2f32.powf(ev);
    let e = move |v: f32| linear_to_srgb(srgb_to_linear(v) * k);
    map_rgb(img, |[r, g, b]| [e(r), e(g), e(b)])
}

/// Levels: maps `in_lo..in_hi` linearly onto `out_lo..out_hi`; inputs outside `in_lo..in_hi`
/// are clipped to it first (Photoshop/GIMP levels). All values in 0..1 units.
pub fn levels(img: &Image, in_lo: f32, in_hi: f32, out_lo: f32, out_hi: f32) -> Result<Image> {
    for (what, v) in [("in_lo", in_lo), ("in_hi", in_hi), ("out_lo", out_lo), ("out_hi", out_hi)] {
        check_finite("levels", what, v)?;
    }
    if in_hi == in_lo {
        return Err(Error::param("levels", format!("in_lo and in_hi must differ, both are {in_lo}")));
    }
    let (lo, hi) = (in_lo.min(in_hi), in_lo.max(in_hi));
    let scale = (out_hi - out_lo) / (in_hi - in_lo);
    let m = move |v: f32| out_lo + (v.clamp(lo, hi) - in_lo) * scale;
    map_rgb(img, |[r, g, b]| [m(r), m(g), m(b)])
}

/// Negative: `1 - x` on R, G and B.
pub fn invert(img: &Image) -> Result<Image> {
    map_rgb(img, |[r, g, b]| [1.0 - r, 1.0 - g, 1.0 - b])
}

/// Grayscale with Pillow's `L` weights (0.299, 0.587, 0.114 on sRGB values), as RGB.
pub fn grayscale(img: &Image) -> Result<Image> {
    map_rgb(img, |[r, g, b]| {
        let l = luma([r, g, b, 1.0]);
        [l, l, l]
    })
}

/// Black and white: white where the luma is >= `t`, black elsewhere (Pillow `point(p >= t)` on `L`).
pub fn threshold(img: &Image, t: f32) -> Result<Image> {
    let t = check_finite("threshold", "t", t)?;
    map_rgb(img, |[r, g, b]| {
        let v = if luma([r, g, b, 1.0]) >= t { 1.0 } else { 0.0 };
        [v, v, v]
    })
}

/// `levels` values per channel, evenly spaced from 0 to 1, each value rounded to the nearest
/// (ImageMagick `+dither -posterize n`). `levels` must be 2..=256.
pub fn posterize(img: &Image, levels: u32) -> Result<Image> {
    if !(2..=256).contains(&levels) {
        return Err(Error::param("posterize", format!("levels must be 2..256, got {levels}")));
    }
    let k = (levels - 1) as f32;
    let p = move |v: f32| (v.clamp(0.0, 1.0) * k).round() / k;
    map_rgb(img, |[r, g, b]| [p(r), p(g), p(b)])
}

#[cfg(test)]
pub(super) mod test_util {
    use crate::image::buffer::Image;

    pub fn px(img: &Image, x: i64, y: i64) -> [f32; 4] {
        img.get(x, y).unwrap().to_array()
    }

    pub fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    pub fn two_px() -> Image {
        Image::from_rgba(2, 1, vec![0.2, 0.4, 0.6, 0.5, 0.8, 0.6, 0.4, 1.0]).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::color::Color;
    use crate::image::ops::tone::test_util::{close, px, two_px};

    #[test]
    fn bad_factors_are_errors() {
        let img = two_px();
        assert!(brightness(&img, f32::NAN).is_err());
        assert!(contrast(&img, -1.0).is_err());
        assert!(saturation(&img, f32::INFINITY).is_err());
        assert!(gamma(&img, 0.0).is_err());
        assert!(hue(&img, f32::NAN).is_err());
        assert!(exposure(&img, 1000.0).is_err());
        assert!(levels(&img, 0.5, 0.5, 0.0, 1.0).is_err());
        assert!(levels(&img, 0.0, f32::NAN, 0.0, 1.0).is_err());
        assert!(threshold(&img, f32::NAN).is_err());
        assert!(posterize(&img, 1).is_err());
        assert!(posterize(&img, 257).is_err());
        assert!(colorize(&img, &[]).is_err());
        assert!(colorize(&img, &[(f32::NAN, Color::BLACK)]).is_err());
    }

    #[test]
    fn hue_rotates_red_to_green() {
        let red = Image::filled(1, 1, Color::rgb(1.0, 0.0, 0.0)).unwrap();
        let p = px(&hue(&red, 120.0).unwrap(), 0, 0);
        assert!(close(p[0], 0.0) && close(p[1], 1.0) && close(p[2], 0.0));
        let p = px(&hue(&red, -120.0).unwrap(), 0, 0);
        assert!(close(p[2], 1.0));
    }

    #[test]
    fn gamma_exposure_levels_formulas() {
        let img = Image::filled(1, 1, Color::gray(0.25)).unwrap();
        assert!(close(px(&gamma(&img, 2.0).unwrap(), 0, 0)[0], 0.5));
        let e = px(&exposure(&img, 1.0).unwrap(), 0, 0)[0];
        assert!(close(e, linear_to_srgb(2.0 * srgb_to_linear(0.25))));
        assert!(close(px(&exposure(&img, 0.0).unwrap(), 0, 0)[0], 0.25));
        let l = px(&levels(&img, 0.0, 0.5, 0.2, 0.8).unwrap(), 0, 0)[0];
        assert!(close(l, 0.5));
        let clipped = px(&levels(&img, 0.5, 1.0, 0.0, 1.0).unwrap(), 0, 0)[0];
        assert!(close(clipped, 0.0));
    }

    #[test]
    fn invert_threshold_posterize() {
        let img = two_px();
        let inv = px(&invert(&img).unwrap(), 0, 0);
        assert!(close(inv[0], 0.8) && inv[3] == 0.5);
        let t = threshold(&img, 0.5).unwrap();
        assert_eq!(px(&t, 0, 0)[..3], [0.0; 3]);
        assert_eq!(px(&t, 1, 0)[..3], [1.0; 3]);
        let p = px(&posterize(&img, 2).unwrap(), 1, 0);
        assert_eq!(p[..3], [1.0, 1.0, 0.0]);
    }
}
