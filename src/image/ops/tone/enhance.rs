//! Pillow `ImageEnhance` semantics in float: brightness, contrast, saturation.
//!
//! `ImageEnhance.X(im).enhance(f)` is `blend(degenerate, im, f)` = `d + f * (x - d)`, with `d`
//! black (brightness), a constant gray of the rounded mean of the `L` image (contrast) or the
//! pixel's own `L` value (saturation). Pillow truncates and clamps each result to 8 bits; kiln
//! keeps floats (no truncation) but clips these three ops to 0..1 as Pillow does, because a chain
//! depends on it (brightness 1.2 clips highlights that contrast then pulls down). It agrees with
//! Pillow within one 8-bit level per op and three levels over the W5 chain
//! (tests/integration/reference.rs). Use `exposure` or `levels` for HDR values.

use rayon::prelude::*;

use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};
use crate::image::color::luma;

use super::{check_non_negative, map_rgb, map_rgb_in_place};

/// Clips to 0..1 like Pillow's 8-bit blends (NaN becomes 0).
#[inline]
fn clip(v: f32) -> f32 {
    if v > 0.0 {
        v.min(1.0)
    } else {
        0.0
    }
}

/// Pillow `ImageEnhance.Brightness`: blends with black, `x * factor` (1.0 = unchanged), clipped to 0..1.
pub fn brightness(img: &Image, factor: f32) -> Result<Image> {
    let f = check_non_negative("brightness", "factor", factor)?;
    map_rgb(img, |[r, g, b]| [clip(r * f), clip(g * f), clip(b * f)])
}

/// [`brightness`] in place: one read-modify-write pass and no allocation when `img` is not
/// shared (script chains like `load(p).brightness(1.2).contrast(1.3)` hit this case).
pub fn brightness_in_place(img: &mut Image, factor: f32) -> Result<()> {
    let f = check_non_negative("brightness", "factor", factor)?;
    map_rgb_in_place(img, |[r, g, b]| [clip(r * f), clip(g * f), clip(b * f)]);
    Ok(())
}

/// The mean of the luma (`L`) image as Pillow's `ImageEnhance.Contrast` uses it: the mean of the
/// 8-bit `L` values, rounded to a whole level (`int(mean + 0.5)`), returned in 0..1 units.
///
/// Deterministic at any thread count: each row is summed in order in f64, then the row sums in order.
pub fn luma_mean_pillow(img: &Image) -> f32 {
    let row_sums: Vec<f64> = img
        .rows()
        .map(|row| row.chunks_exact(CHANNELS).map(|p| luma([p[0], p[1], p[2], p[3]]) as f64).sum::<f64>())
        .collect();
    let mean = row_sums.iter().sum::<f64>() / img.pixel_count() as f64;
    ((mean * 255.0 + 0.5).floor() / 255.0) as f32
}

/// Pillow `ImageEnhance.Contrast`: blends with a constant gray of the rounded mean luma,
/// `m + factor * (x - m)` (1.0 = unchanged, 0.0 = flat gray), clipped to 0..1.
pub fn contrast(img: &Image, factor: f32) -> Result<Image> {
    let f = check_non_negative("contrast", "factor", factor)?;
    let m = luma_mean_pillow(img);
    let base = m * (1.0 - f);
    map_rgb(img, |[r, g, b]| [clip(base + f * r), clip(base + f * g), clip(base + f * b)])
}

/// [`contrast`] in place (see [`brightness_in_place`]).
pub fn contrast_in_place(img: &mut Image, factor: f32) -> Result<()> {
    let f = check_non_negative("contrast", "factor", factor)?;
    let base = luma_mean_pillow(img) * (1.0 - f);
    map_rgb_in_place(img, |[r, g, b]| [clip(base + f * r), clip(base + f * g), clip(base + f * b)]);
    Ok(())
}

/// Pillow `ImageEnhance.Color`: blends with the pixel's own luma, `l + factor * (x - l)`
/// (1.0 = unchanged, 0.0 = grayscale, > 1 more saturated), clipped to 0..1.
pub fn saturation(img: &Image, factor: f32) -> Result<Image> {
    let f = check_non_negative("saturation", "factor", factor)?;
    map_rgb(img, |[r, g, b]| {
        let l = luma([r, g, b, 1.0]) * (1.0 - f);
        [clip(l + f * r), clip(l + f * g), clip(l + f * b)]
    })
}

/// [`saturation`] in place (see [`brightness_in_place`]).
pub fn saturation_in_place(img: &mut Image, factor: f32) -> Result<()> {
    let f = check_non_negative("saturation", "factor", factor)?;
    map_rgb_in_place(img, |[r, g, b]| {
        let l = luma([r, g, b, 1.0]) * (1.0 - f);
        [clip(l + f * r), clip(l + f * g), clip(l + f * b)]
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ops::tone::test_util::{close, px, two_px};

    #[test]
    fn brightness_scales_rgb_and_keeps_alpha() {
        let out = brightness(&two_px(), 1.5).unwrap();
        let p = px(&out, 0, 0);
        assert!(close(p[0], 0.3) && close(p[1], 0.6) && close(p[2], 0.9) && p[3] == 0.5);
    }

    #[test]
    fn contrast_blends_with_rounded_mean_luma() {
        let img = two_px();
        // luma: 0.2*0.299+0.4*0.587+0.6*0.114 = 0.3631; 0.8*.299+.6*.587+.4*.114 = 0.6370
        let mean = (0.3631 + 0.6370) / 2.0;
        let m = ((mean * 255.0f32 + 0.5).floor()) / 255.0;
        assert!(close(luma_mean_pillow(&img), m));
        let out = contrast(&img, 2.0).unwrap();
        assert!(close(px(&out, 0, 0)[1], m + 2.0 * (0.4 - m)));
        let flat = contrast(&img, 0.0).unwrap();
        assert!(close(px(&flat, 1, 0)[2], m));
    }

    #[test]
    fn saturation_zero_is_grayscale_and_one_is_identity() {
        let img = two_px();
        let g = saturation(&img, 0.0).unwrap();
        let gs = crate::image::ops::tone::grayscale(&img).unwrap();
        for i in 0..3 {
            assert!(close(px(&g, 0, 0)[i], px(&gs, 0, 0)[i]));
        }
        assert_eq!(saturation(&img, 1.0).unwrap().pixels(), img.pixels());
    }

    #[test]
    fn in_place_variants_match_and_keep_clones_intact() {
        let img = two_px();
        let mut a = img.clone();
        brightness_in_place(&mut a, 1.3).unwrap();
        contrast_in_place(&mut a, 1.2).unwrap();
        saturation_in_place(&mut a, 0.7).unwrap();
        let b = saturation(&contrast(&brightness(&img, 1.3).unwrap(), 1.2).unwrap(), 0.7).unwrap();
        assert_eq!(a.pixels(), b.pixels());
        assert_eq!(img, two_px());
        assert!(brightness_in_place(&mut a, f32::NAN).is_err());
    }

    #[test]
    fn enhance_ops_clip_like_pillow() {
        let img = two_px();
        assert_eq!(px(&brightness(&img, 2.0).unwrap(), 1, 0)[0], 1.0);
        assert_eq!(px(&contrast(&img, 10.0).unwrap(), 0, 0)[0], 0.0);
        assert_eq!(px(&saturation(&img, 10.0).unwrap(), 1, 0)[2], 0.0);
    }
}
