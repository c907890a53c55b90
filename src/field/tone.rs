//! `levels` and `colorize` on fields: the image tone ops of the same names (`image::ops::tone`)
//! as lazy field graph nodes, so `f.levels(..).render(w, h)` equals
//! `f.render(w, h).levels(..)` (to float rounding) without a raster in between (issue 12 §2).
//!
//! Owns: [`Field::levels`], [`RgbField::levels`] and [`RgbField::colorize_luma`]. Must not know
//! about Rhai or pixels. Both are built from existing nodes (clamp, remap, luma, palette
//! lookup), so the evaluator needs nothing new.
//!
//! - `levels(in_lo, in_hi, out_lo, out_hi)`: clip to `in_lo..in_hi`, then map it linearly onto
//!   `out_lo..out_hi` (Photoshop/GIMP levels), on R, G and B; alpha kept.
//! - `colorize` on a colour field ([`RgbField::colorize_stops`]): the luma of the colour
//!   (Pillow weights, clipped to 0..1) through colour stops, linear in sRGB between stops, the end
//!   colours beyond them; alpha kept. Stops may come in any order; equal positions make a hard
//!   edge (the later stop wins at the position itself, and the edge rises over the 1/1024 below
//!   it, as in the image op's table). This is the exact ramp; the image op reads it from a
//!   1025-entry table, so the two agree to float rounding when stop positions are multiples of
//!   1/1024 (evenly spaced colours: 2, 3, 5, 9, … of them) and otherwise differ by at most a
//!   quarter of a table step times the change of slope at a stop (under 1/4096 of the colour
//!   step). Named palettes go through the palette's table ([`RgbField::colorize_luma`]).
//! - `colorize` on a scalar field is the existing `Field::colorize` (a palette lookup). Its table
//!   has 1024 entries at multiples of 1/1023, so it agrees with the image op to a quarter of a
//!   table step times the change of slope at a stop (under 1e-3 for any stops; exactly for two).
//!   Moving the palette's entries onto the image op's grid (1025 entries) would make the two
//!   equal, but shifts the golden material pictures by up to 24/255 where later steps amplify the
//!   difference, so it is left for a release that re-blesses them.

use crate::error::{Error, Result};
use crate::field::{Field, Palette, RgbField};
use crate::image::color::{Color, LUMA};

/// The checks of `image::ops::tone::levels`, with the same messages.
fn check_levels(in_lo: f64, in_hi: f64, out_lo: f64, out_hi: f64) -> Result<()> {
    for (what, v) in [("in_lo", in_lo), ("in_hi", in_hi), ("out_lo", out_lo), ("out_hi", out_hi)] {
        crate::error::finite("levels", what, v)?;
    }
    if in_hi == in_lo {
        return Err(Error::param("levels", format!("in_lo and in_hi must differ, both are {in_lo}")));
    }
    Ok(())
}

impl Field {
    /// Levels: clips to `in_lo..in_hi` and maps it linearly onto `out_lo..out_hi`.
    pub fn levels(&self, in_lo: f64, in_hi: f64, out_lo: f64, out_hi: f64) -> Result<Field> {
        check_levels(in_lo, in_hi, out_lo, out_hi)?;
        self.clamp(in_lo.min(in_hi), in_lo.max(in_hi))?.remap(in_lo, in_hi, out_lo, out_hi)?.checked()
    }
}

impl RgbField {
    /// [`Field::levels`] on R, G and B; alpha kept.
    pub fn levels(&self, in_lo: f64, in_hi: f64, out_lo: f64, out_hi: f64) -> Result<RgbField> {
        let l = |f: &Field| f.levels(in_lo, in_hi, out_lo, out_hi);
        Ok(RgbField { r: l(&self.r)?, g: l(&self.g)?, b: l(&self.b)?, a: self.a.clone() })
    }

    /// The colour's luma (clipped to 0..1) through colour `stops` `(position, colour)`, as
    /// `image::ops::tone::colorize` does; alpha kept. At least one stop.
    pub fn colorize_stops(&self, stops: &[(f32, Color)]) -> Result<RgbField> {
        if stops.is_empty() {
            return Err(Error::param("colorize", "need at least one colour stop"));
        }
        if stops.len() > 4096 {
            return Err(Error::param("colorize", format!("at most 4096 stops, got {}", stops.len())));
        }
        for (p, c) in stops {
            if !p.is_finite() {
                return Err(Error::param("colorize", format!("stop positions must be finite, got {p}")));
            }
            c.validate("colorize")?;
        }
        let mut s = stops.to_vec();
        s.sort_by(|a, b| a.0.total_cmp(&b.0));
        let luma = (&self.r * LUMA[0] as f64 + &self.g * LUMA[1] as f64 + &self.b * LUMA[2] as f64).clamp(0.0, 1.0)?;
        // c(t) = c₀ + Σ (cᵢ₊₁ − cᵢ)·rampᵢ(t), rampᵢ rising from 0 at pᵢ to 1 at pᵢ₊₁ (over the
        // 1/1024 below pᵢ₊₁ where they coincide). Each ramp is one node shared by the channels.
        let ramps: Vec<Field> = s
            .windows(2)
            .map(|w| {
                let (p0, p1) = (w[0].0 as f64, w[1].0 as f64);
                let p0 = if p1 > p0 { p0 } else { p1 - 1.0 / 1024.0 };
                luma.remap(p0, p1, 0.0, 1.0)?.clamp(0.0, 1.0)
            })
            .collect::<Result<_>>()?;
        let channel = |k: usize| -> Result<Field> {
            let c = |i: usize| s[i].1.to_array()[k] as f64;
            let mut f = Field::constant(c(0));
            for (i, ramp) in ramps.iter().enumerate() {
                let d = c(i + 1) - c(i);
                if d != 0.0 {
                    f = f + ramp * d;
                }
            }
            f.checked()
        };
        Ok(RgbField { r: channel(0)?, g: channel(1)?, b: channel(2)?, a: self.a.clone() })
    }

    /// The colour's luma (Pillow weights) through `palette`, as `image::ops::tone::colorize`
    /// does; alpha kept.
    pub fn colorize_luma(&self, palette: &Palette) -> Result<RgbField> {
        Ok(RgbField { a: self.a.clone(), ..RgbField::colorize(&self.luma()?, palette)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ops::tone;

    fn max_diff(a: &crate::image::Image, b: &crate::image::Image) -> f32 {
        a.pixels().iter().zip(b.pixels()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    /// A colour field with values below 0, across 0..1 and above 1, and a varying alpha.
    fn colours() -> RgbField {
        let (u, v) = (Field::u(), Field::v());
        RgbField::new(&u * 1.4 - 0.2, &v * 0.8 + 0.1, (&u * &v).sin()).with_alpha(&v * 0.5 + 0.25)
    }

    #[test]
    fn levels_on_a_field_equals_render_then_levels() {
        for (a, b, c, d) in [(0.1, 0.9, 0.0, 1.0), (0.8, 0.2, 0.1, 0.7), (0.0, 1.0, 1.0, 0.0), (-0.5, 2.0, 0.2, 0.3)] {
            let rendered = colours().render(37, 23).unwrap();
            let want = tone::levels(&rendered, a as f32, b as f32, c as f32, d as f32).unwrap();
            let got = colours().levels(a, b, c, d).unwrap().render(37, 23).unwrap();
            assert!(max_diff(&got, &want) <= 1e-6, "levels({a}, {b}, {c}, {d}): {}", max_diff(&got, &want));
            let grey = Field::u().levels(a, b, c, d).unwrap();
            let want = tone::levels(
                &crate::field::raster::render(&Field::u(), 37, 5).unwrap(),
                a as f32,
                b as f32,
                c as f32,
                d as f32,
            )
            .unwrap();
            assert!(max_diff(&crate::field::raster::render(&grey, 37, 5).unwrap(), &want) <= 1e-6);
        }
        assert!(Field::u().levels(0.5, 0.5, 0.0, 1.0).unwrap_err().to_string().contains("must differ"));
        assert!(Field::u().levels(f64::NAN, 0.5, 0.0, 1.0).is_err());
    }

    #[test]
    fn colorize_on_a_field_equals_render_then_colorize() {
        let hex = |s: &str| Color::parse(s).unwrap();
        let sets: Vec<Vec<(f32, Color)>> = vec![
            tone::colorize_stops(&[hex("#000"), hex("#fff")]),
            tone::colorize_stops(&[hex("#102030"), hex("#f80"), hex("#fff")]),
            tone::colorize_stops(&[hex("red"), hex("lime"), hex("blue"), hex("#ff0"), hex("#0ff")]),
            vec![(0.75, hex("#fff")), (0.25, hex("#400"))], // any order, ends held
            vec![(0.5, hex("#000")), (0.5, hex("#fff"))],   // a hard edge
            vec![(0.3, hex("teal"))],                       // one stop: flat
        ];
        let scalar = &Field::u() * 1.4 - 0.2;
        for stops in sets {
            let want = tone::colorize(&colours().render(41, 29).unwrap(), &stops).unwrap();
            let got = colours().colorize_stops(&stops).unwrap().render(41, 29).unwrap();
            assert!(max_diff(&got, &want) <= 1e-6, "colour field {stops:?}: {}", max_diff(&got, &want));
            // A scalar field through a palette (the existing `Field::colorize`): within the
            // documented bound, a quarter of a 1/1023 step times the largest change of slope.
            if stops.len() < 2 || stops.windows(2).any(|w| w[0].0 >= w[1].0) {
                continue;
            }
            let slopes: Vec<f32> = stops
                .windows(2)
                .flat_map(|w| (0..3).map(move |k| (w[1].1.to_array()[k] - w[0].1.to_array()[k]) / (w[1].0 - w[0].0)))
                .collect();
            let bound = slopes.iter().fold(0f32, |m, s| m.max(s.abs())) * 2.0 / 1023.0 / 4.0 + 1e-6;
            let palette = Palette::from_stops(&stops).unwrap();
            let want = tone::colorize(&crate::field::raster::render(&scalar, 41, 3).unwrap(), &stops).unwrap();
            let got = RgbField::colorize(&scalar, &palette).unwrap().render(41, 3).unwrap();
            assert!(max_diff(&got, &want) <= bound, "scalar field {stops:?}: {} > {bound}", max_diff(&got, &want));
        }
        assert!(colours().colorize_stops(&[]).is_err());
    }
}
