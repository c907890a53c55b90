//! Tone and colour adjustments: per-pixel maps of the RGB channels (DESIGN.md §4 "tone").
//!
//! Owns: brightness, contrast, saturation (Pillow `ImageEnhance` semantics), hue, gamma,
//! exposure, levels, curves, invert, grayscale, threshold, posterize and a stops-only colorize.
//! Must not know about Rhai, files or fields. Alpha is never changed by a tone op.
//!
//! Every op is one parallel pass that reads the source and writes a fresh buffer (contrast adds one
//! read-only reduction pass for the mean). The W5 workload (brightness, contrast, saturation) is
//! three separate script calls, so each op is kept memory-bound and cheap rather than fused.
//!
//! Pillow semantics in float: `ImageEnhance.X(im).enhance(f)` is `blend(degenerate, im, f)` =
//! `d + f * (x - d)`, with `d` black (brightness), a constant gray of the rounded mean of the `L`
//! image (contrast) or the pixel's own `L` value (saturation). Pillow truncates and clamps each
//! result to 8 bits; kiln keeps floats (no truncation) but clips these three ops to 0..1 as
//! Pillow does, because a chain depends on it (brightness 1.2 clips highlights that contrast then
//! pulls down). It agrees with Pillow within one 8-bit level per op and two levels over the W5
//! chain (see tests/integration/reference.rs). Use `exposure` or `levels` for HDR values: the
//! other ops here do not clip.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::buffer::{Image, CHANNELS};
use crate::image::color::{hsv_to_rgb, linear_to_srgb, luma, rgb_to_hsv, srgb_to_linear, Color};

/// A fresh image with `f` applied to every pixel's RGB; alpha is copied unchanged.
fn map_rgb<F>(img: &Image, f: F) -> Result<Image>
where
    F: Fn([f32; 3]) -> [f32; 3] + Sync,
{
    let src = img.pixels();
    let stride = img.stride();
    let mut out = vec![0f32; src.len()];
    out.par_chunks_mut(stride)
        .zip(src.par_chunks(stride))
        .for_each(|(o, s)| {
            for (o, s) in o.chunks_exact_mut(CHANNELS).zip(s.chunks_exact(CHANNELS)) {
                let [r, g, b] = f([s[0], s[1], s[2]]);
                o[0] = r;
                o[1] = g;
                o[2] = b;
                o[3] = s[3];
            }
        });
    Image::from_rgba(img.width(), img.height(), out)
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
        Err(Error::param(
            op,
            format!("{what} must be a finite number, got {v}"),
        ))
    }
}

fn check_non_negative(op: &str, what: &str, v: f32) -> Result<f32> {
    let v = check_finite(op, what, v)?;
    if v < 0.0 {
        return Err(Error::param(op, format!("{what} must be >= 0, got {v}")));
    }
    Ok(v)
}

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
        .map(|row| {
            row.chunks_exact(CHANNELS)
                .map(|p| luma([p[0], p[1], p[2], p[3]]) as f64)
                .sum::<f64>()
        })
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
    map_rgb(img, |[r, g, b]| {
        [clip(base + f * r), clip(base + f * g), clip(base + f * b)]
    })
}

/// [`contrast`] in place (see [`brightness_in_place`]).
pub fn contrast_in_place(img: &mut Image, factor: f32) -> Result<()> {
    let f = check_non_negative("contrast", "factor", factor)?;
    let base = luma_mean_pillow(img) * (1.0 - f);
    map_rgb_in_place(img, |[r, g, b]| {
        [clip(base + f * r), clip(base + f * g), clip(base + f * b)]
    });
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
        return Err(Error::param(
            "exposure",
            format!("ev must be in -64..64, got {ev}"),
        ));
    }
    let k = 2f32.powf(ev);
    let e = move |v: f32| linear_to_srgb(srgb_to_linear(v) * k);
    map_rgb(img, |[r, g, b]| [e(r), e(g), e(b)])
}

/// Levels: maps `in_lo..in_hi` linearly onto `out_lo..out_hi`; inputs outside `in_lo..in_hi`
/// are clipped to it first (Photoshop/GIMP levels). All values in 0..1 units.
pub fn levels(img: &Image, in_lo: f32, in_hi: f32, out_lo: f32, out_hi: f32) -> Result<Image> {
    for (what, v) in [
        ("in_lo", in_lo),
        ("in_hi", in_hi),
        ("out_lo", out_lo),
        ("out_hi", out_hi),
    ] {
        check_finite("levels", what, v)?;
    }
    if in_hi == in_lo {
        return Err(Error::param(
            "levels",
            format!("in_lo and in_hi must differ, both are {in_lo}"),
        ));
    }
    let (lo, hi) = (in_lo.min(in_hi), in_lo.max(in_hi));
    let scale = (out_hi - out_lo) / (in_hi - in_lo);
    let m = move |v: f32| out_lo + (v.clamp(lo, hi) - in_lo) * scale;
    map_rgb(img, |[r, g, b]| [m(r), m(g), m(b)])
}

/// A monotone cubic (Fritsch–Carlson) through control points, so the curve never overshoots
/// between points (what GIMP/Photoshop users expect of a tone curve).
#[derive(Clone, Debug)]
pub struct Curve {
    xs: Vec<f32>,
    ys: Vec<f32>,
    tangents: Vec<f32>,
}

impl Curve {
    /// Builds the curve; needs at least 2 points with distinct, finite x (any order).
    pub fn new(points: &[[f32; 2]]) -> Result<Curve> {
        if points.len() < 2 {
            return Err(Error::param(
                "curves",
                format!("need at least 2 points, got {}", points.len()),
            ));
        }
        if points.len() > 4096 {
            return Err(Error::param(
                "curves",
                format!("at most 4096 points, got {}", points.len()),
            ));
        }
        let mut pts = points.to_vec();
        for p in &pts {
            if !p[0].is_finite() || !p[1].is_finite() {
                return Err(Error::param(
                    "curves",
                    format!("points must be finite, got [{}, {}]", p[0], p[1]),
                ));
            }
        }
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        if pts.windows(2).any(|w| w[0][0] == w[1][0]) {
            return Err(Error::param("curves", "two points have the same x"));
        }
        let xs: Vec<f32> = pts.iter().map(|p| p[0]).collect();
        let ys: Vec<f32> = pts.iter().map(|p| p[1]).collect();
        let n = xs.len();
        let d: Vec<f32> = (0..n - 1)
            .map(|i| (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i]))
            .collect();
        let mut t = vec![0f32; n];
        t[0] = d[0];
        t[n - 1] = d[n - 2];
        for i in 1..n - 1 {
            t[i] = if d[i - 1] * d[i] <= 0.0 {
                0.0
            } else {
                (d[i - 1] + d[i]) / 2.0
            };
        }
        // Fritsch–Carlson: limit the tangents so each segment stays monotone.
        for i in 0..n - 1 {
            if d[i] == 0.0 {
                t[i] = 0.0;
                t[i + 1] = 0.0;
                continue;
            }
            let (a, b) = (t[i] / d[i], t[i + 1] / d[i]);
            let s = a * a + b * b;
            if s > 9.0 {
                let k = 3.0 / s.sqrt();
                t[i] = k * a * d[i];
                t[i + 1] = k * b * d[i];
            }
        }
        Ok(Curve {
            xs,
            ys,
            tangents: t,
        })
    }

    /// The curve at `x`; flat beyond the first and last points.
    pub fn eval(&self, x: f32) -> f32 {
        let n = self.xs.len();
        if x.is_nan() || x <= self.xs[0] {
            return self.ys[0];
        }
        if x >= self.xs[n - 1] {
            return self.ys[n - 1];
        }
        let i = self.xs.partition_point(|&v| v <= x) - 1;
        let h = self.xs[i + 1] - self.xs[i];
        let t = (x - self.xs[i]) / h;
        let (t2, t3) = (t * t, t * t * t);
        let h00 = 2.0 * t3 - 3.0 * t2 + 1.0;
        let h10 = t3 - 2.0 * t2 + t;
        let h01 = -2.0 * t3 + 3.0 * t2;
        let h11 = t3 - t2;
        h00 * self.ys[i]
            + h10 * h * self.tangents[i]
            + h01 * self.ys[i + 1]
            + h11 * h * self.tangents[i + 1]
    }
}

/// Tone curve through `points` (`[x, y]` in 0..1), applied to R, G and B.
pub fn curves(img: &Image, points: &[[f32; 2]]) -> Result<Image> {
    let curve = Curve::new(points)?;
    // A 4096-entry table with linear interpolation: the cubic is smooth, so the table error is
    // far below one 8-bit level, and a table lookup is much cheaper than a binary search per value.
    const N: usize = 4096;
    let (x0, x1) = (curve.xs[0], curve.xs[curve.xs.len() - 1]);
    let lut: Vec<f32> = (0..=N)
        .map(|i| curve.eval(x0 + (x1 - x0) * i as f32 / N as f32))
        .collect();
    let scale = N as f32 / (x1 - x0);
    let (first, last) = (lut[0], lut[N]);
    let m = |v: f32| {
        let p = (v - x0) * scale;
        if p.is_nan() || p <= 0.0 {
            first
        } else if p >= N as f32 {
            last
        } else {
            let i = p as usize;
            let f = p - i as f32;
            lut[i] + (lut[i + 1] - lut[i]) * f
        }
    };
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
        return Err(Error::param(
            "posterize",
            format!("levels must be 2..256, got {levels}"),
        ));
    }
    let k = (levels - 1) as f32;
    let p = move |v: f32| (v.clamp(0.0, 1.0) * k).round() / k;
    map_rgb(img, |[r, g, b]| [p(r), p(g), p(b)])
}

/// Colour stops for [`colorize`]: `(position 0..1, colour)`. Kept deliberately small (stops only,
/// linear interpolation in sRGB); named palettes live in the field room's palette module.
pub fn colorize_stops(colors: &[Color]) -> Vec<(f32, Color)> {
    let n = colors.len();
    colors
        .iter()
        .enumerate()
        .map(|(i, c)| {
            (
                if n > 1 {
                    i as f32 / (n - 1) as f32
                } else {
                    0.0
                },
                *c,
            )
        })
        .collect()
}

/// Maps each pixel's luma (clipped to 0..1) through colour `stops` (positions in 0..1, any order,
/// at least one). The pixel keeps its alpha; the stops' alpha is ignored.
pub fn colorize(img: &Image, stops: &[(f32, Color)]) -> Result<Image> {
    if stops.is_empty() {
        return Err(Error::param("colorize", "need at least one colour stop"));
    }
    if stops.len() > 4096 {
        return Err(Error::param(
            "colorize",
            format!("at most 4096 stops, got {}", stops.len()),
        ));
    }
    let mut s = stops.to_vec();
    for (p, c) in &s {
        if !p.is_finite() {
            return Err(Error::param(
                "colorize",
                format!("stop positions must be finite, got {p}"),
            ));
        }
        c.validate("colorize")?;
    }
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    // A 1024-entry table: luma is clipped to 0..1, so a table is exact to well under a level.
    const N: usize = 1024;
    let lut: Vec<[f32; 3]> = (0..=N)
        .map(|i| {
            let t = i as f32 / N as f32;
            let j = s.partition_point(|(p, _)| *p <= t);
            if j == 0 {
                let c = s[0].1;
                [c.r, c.g, c.b]
            } else if j == s.len() {
                let c = s[s.len() - 1].1;
                [c.r, c.g, c.b]
            } else {
                let ((p0, a), (p1, b)) = (s[j - 1], s[j]);
                let f = if p1 > p0 { (t - p0) / (p1 - p0) } else { 0.0 };
                [
                    a.r + (b.r - a.r) * f,
                    a.g + (b.g - a.g) * f,
                    a.b + (b.b - a.b) * f,
                ]
            }
        })
        .collect();
    map_rgb(img, |[r, g, b]| {
        let l = luma([r, g, b, 1.0]);
        let p = if l > 0.0 { l.min(1.0) * N as f32 } else { 0.0 };
        let i = (p as usize).min(N - 1);
        let f = p - i as f32;
        let (a, b) = (lut[i], lut[i + 1]);
        [
            a[0] + (b[0] - a[0]) * f,
            a[1] + (b[1] - a[1]) * f,
            a[2] + (b[2] - a[2]) * f,
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(img: &Image, x: i64, y: i64) -> [f32; 4] {
        img.get(x, y).unwrap().to_array()
    }

    fn close(a: f32, b: f32) -> bool {
        (a - b).abs() < 1e-5
    }

    fn two_px() -> Image {
        Image::from_rgba(2, 1, vec![0.2, 0.4, 0.6, 0.5, 0.8, 0.6, 0.4, 1.0]).unwrap()
    }

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
        let gs = grayscale(&img).unwrap();
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
        let b = saturation(
            &contrast(&brightness(&img, 1.3).unwrap(), 1.2).unwrap(),
            0.7,
        )
        .unwrap();
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
    fn curves_pass_through_points_and_stay_monotone() {
        let pts = [[0.0, 0.0], [0.25, 0.15], [0.75, 0.9], [1.0, 1.0]];
        let c = Curve::new(&pts).unwrap();
        for p in pts {
            assert!(close(c.eval(p[0]), p[1]));
        }
        let mut prev = -1.0;
        for i in 0..=1000 {
            let v = c.eval(i as f32 / 1000.0);
            assert!(v >= prev - 1e-6, "not monotone at {i}");
            prev = v;
        }
        let img = Image::filled(1, 1, Color::gray(0.25)).unwrap();
        assert!((px(&curves(&img, &pts).unwrap(), 0, 0)[0] - 0.15).abs() < 1e-4);
    }

    #[test]
    fn curves_need_two_distinct_points() {
        let img = two_px();
        assert!(curves(&img, &[[0.5, 0.5]]).is_err());
        assert!(curves(&img, &[]).is_err());
        assert!(curves(&img, &[[0.5, 0.1], [0.5, 0.9]]).is_err());
        assert!(curves(&img, &[[0.0, f32::NAN], [1.0, 1.0]]).is_err());
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

    #[test]
    fn colorize_maps_luma_through_stops() {
        let img = Image::filled(1, 1, Color::gray(0.5)).unwrap();
        let stops = colorize_stops(&[Color::BLACK, Color::rgb(1.0, 0.0, 0.0)]);
        let p = px(&colorize(&img, &stops).unwrap(), 0, 0);
        assert!((p[0] - 0.5).abs() < 1e-3 && p[1] == 0.0);
    }
}
