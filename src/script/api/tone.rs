//! Script bindings: tone and colour adjustments (`crate::image::ops::tone`). Translation only.
//!
//! `colorize` takes colour stops only (`["#000", "#f80", "#fff"]` or `[[0.0, "#000"], ...]`);
//! named palettes are the field room's business (`palette(...)`), not parsed here.

use rhai::plugin::*;
use rhai::{Array, Dynamic, Module};

use crate::image::Color;
use crate::script::convert::{array, color, fail, num, RhaiResult};

/// The package of tone functions.
pub fn module() -> Module {
    exported_module!(tone_api)
}

fn f32_of(op: &str, what: &str, v: &Dynamic) -> RhaiResult<f32> {
    Ok(num(op, what, v)? as f32)
}

/// `[[x, y], ...]` -> points.
fn points(v: &Dynamic) -> RhaiResult<Vec<[f32; 2]>> {
    array("curves", "points", v, |p| {
        let xy = array("curves", "a point", p, |n| f32_of("curves", "a coordinate", n))?;
        match xy.as_slice() {
            [x, y] => Ok([*x, *y]),
            _ => Err(fail("curves", format!("each point must be [x, y], got {} numbers", xy.len()))),
        }
    })
}

/// `["#000", "#fff"]` (evenly spaced) or `[[0.0, "#000"], [1.0, "#fff"]]` -> stops.
pub(crate) fn stops(v: &Dynamic) -> RhaiResult<Vec<(f32, Color)>> {
    let items = v
        .clone()
        .try_cast::<Array>()
        .ok_or_else(|| fail("colorize", "palette must be an array of colours or of [position, colour] pairs"))?;
    let positioned =
        items.iter().any(|s| s.clone().try_cast::<Array>().is_some_and(|a| a.len() == 2 && a[1].is_string()));
    if positioned {
        items
            .iter()
            .map(|s| {
                let pair = s
                    .clone()
                    .try_cast::<Array>()
                    .filter(|a| a.len() == 2)
                    .ok_or_else(|| fail("colorize", "mixing colours and [position, colour] pairs; use one form"))?;
                Ok((f32_of("colorize", "stop position", &pair[0])?, color("colorize", "stop colour", &pair[1])?))
            })
            .collect()
    } else {
        let colors = items.iter().map(|c| color("colorize", "palette colour", c)).collect::<RhaiResult<Vec<_>>>()?;
        Ok(crate::image::ops::tone::colorize_stops(&colors))
    }
}

#[export_module]
mod tone_api {
    use super::{f32_of, points, stops};
    use crate::image::ops::tone;
    use crate::image::Image;
    use crate::script::convert::{fail, int, lift, RhaiResult};
    use rhai::Dynamic;

    /// Brightness like Pillow `ImageEnhance.Brightness`: 1.0 = unchanged, 0 = black, 1.5 = 50% brighter.
    ///
    /// ```rhai
    /// let img = image(64, 64, "gray").brightness(1.2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn brightness(mut img: Image, factor: Dynamic) -> RhaiResult<Image> {
        lift(tone::brightness_in_place(&mut img, f32_of("brightness", "factor", &factor)?).map(|_| img))
    }

    /// Contrast like Pillow `ImageEnhance.Contrast`: blends with the mean gray; 1.0 = unchanged, 0 = flat gray.
    ///
    /// ```rhai
    /// let img = image(64, 64, "orange").contrast(1.3);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn contrast(mut img: Image, factor: Dynamic) -> RhaiResult<Image> {
        lift(tone::contrast_in_place(&mut img, f32_of("contrast", "factor", &factor)?).map(|_| img))
    }

    /// Saturation like Pillow `ImageEnhance.Color`: 1.0 = unchanged, 0 = grayscale, 2 = twice as vivid.
    ///
    /// ```rhai
    /// let img = image(64, 64, "orange").saturation(0.8);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn saturation(mut img: Image, factor: Dynamic) -> RhaiResult<Image> {
        lift(tone::saturation_in_place(&mut img, f32_of("saturation", "factor", &factor)?).map(|_| img))
    }

    /// Rotates hues by `deg` degrees (HSV); 120 turns red into green.
    ///
    /// ```rhai
    /// let img = image(64, 64, "red").hue(120);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hue(img: Image, deg: Dynamic) -> RhaiResult<Image> {
        lift(tone::hue(&img, f32_of("hue", "degrees", &deg)?))
    }

    /// Gamma like ImageMagick `-gamma`: `x^(1/g)`; g > 1 brightens the midtones.
    ///
    /// ```rhai
    /// let img = image(64, 64, "gray").gamma(2.2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gamma(img: Image, g: Dynamic) -> RhaiResult<Image> {
        lift(tone::gamma(&img, f32_of("gamma", "gamma", &g)?))
    }

    /// Exposure in stops: multiplies linear light by 2^ev (+1 = twice the light).
    ///
    /// ```rhai
    /// let img = image(64, 64, "gray").exposure(-0.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn exposure(img: Image, ev: Dynamic) -> RhaiResult<Image> {
        lift(tone::exposure(&img, f32_of("exposure", "ev", &ev)?))
    }

    /// Levels: maps in_lo..in_hi (clipped) onto out_lo..out_hi, all in 0..1.
    ///
    /// ```rhai
    /// let img = image(64, 64, "gray").levels(0.1, 0.9, 0.0, 1.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn levels(img: Image, in_lo: Dynamic, in_hi: Dynamic, out_lo: Dynamic, out_hi: Dynamic) -> RhaiResult<Image> {
        let f = |what, v: &Dynamic| f32_of("levels", what, v);
        lift(tone::levels(&img, f("in_lo", &in_lo)?, f("in_hi", &in_hi)?, f("out_lo", &out_lo)?, f("out_hi", &out_hi)?))
    }

    /// Tone curve: a smooth monotone curve through `[x, y]` points (at least 2), applied to R, G, B.
    ///
    /// ```rhai
    /// let s_curve = image(64, 64, "gray").curves([[0, 0], [0.25, 0.18], [0.75, 0.85], [1, 1]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn curves(img: Image, pts: Dynamic) -> RhaiResult<Image> {
        lift(tone::curves(&img, &points(&pts)?))
    }

    /// Negative: 1 - x on R, G, B (alpha kept).
    ///
    /// ```rhai
    /// let neg = image(64, 64, "orange").invert();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn invert(img: Image) -> RhaiResult<Image> {
        lift(tone::invert(&img))
    }

    /// Grayscale with Pillow's `L` weights (0.299 R + 0.587 G + 0.114 B).
    ///
    /// ```rhai
    /// let bw = image(64, 64, "orange").grayscale();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn grayscale(img: Image) -> RhaiResult<Image> {
        lift(tone::grayscale(&img))
    }

    /// Black and white: white where the luma is at least `t` (0..1).
    ///
    /// ```rhai
    /// let mask = image(64, 64, "orange").threshold(0.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn threshold(img: Image, t: Dynamic) -> RhaiResult<Image> {
        lift(tone::threshold(&img, f32_of("threshold", "t", &t)?))
    }

    /// Reduces each channel to `n` evenly spaced levels (2..256), like ImageMagick `+dither -posterize n`.
    ///
    /// ```rhai
    /// let poster = image(64, 64, "orange").posterize(4);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn posterize(img: Image, n: Dynamic) -> RhaiResult<Image> {
        let n = int("posterize", "levels", &n)?;
        let n = u32::try_from(n).map_err(|_| fail("posterize", format!("levels must be 2..256, got {n}")))?;
        lift(tone::posterize(&img, n))
    }

    /// Maps luminance through colour stops: `["#000", "#f80", "#fff"]` (evenly spaced) or
    /// `[[0.0, "#000"], [0.6, "#f80"], [1.0, "#fff"]]`. Alpha is kept.
    ///
    /// ```rhai
    /// let duotone = image(64, 64, "gray").colorize(["#102040", "#f0e0c0"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn colorize(img: Image, palette: Dynamic) -> RhaiResult<Image> {
        lift(tone::colorize(&img, &stops(&palette)?))
    }
}
