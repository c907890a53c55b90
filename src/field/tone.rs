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
//! - `colorize`: a scalar field through a palette (`Field::colorize`, the existing op) or a colour
//!   field's luma through one ([`RgbField::colorize_luma`]). A palette's table has its entries
//!   at multiples of 1/1024 and interpolates between them exactly as the image op's table does,
//!   so for colour stops (`["#000", "#f80", "#fff"]`, `[[0.2, "red"], ...]`) the field and the
//!   rendered image agree to float rounding. Fields also take named palettes; the image op does
//!   not. Stops on fields must be in order inside 0..1 (the palette's rule); the image op sorts.

use crate::error::{Error, Result};
use crate::field::{Field, Palette, RgbField};

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

    /// The colour's luma (Pillow weights) through `palette`, as `image::ops::tone::colorize`
    /// does; alpha kept.
    pub fn colorize_luma(&self, palette: &Palette) -> Result<RgbField> {
        Ok(RgbField { a: self.a.clone(), ..RgbField::colorize(&self.luma()?, palette)? })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::color::Color;
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
            tone::colorize_stops(&[hex("red"), hex("lime"), hex("blue"), hex("#ff0"), hex("#0ff"), hex("#123")]),
            vec![(0.0, hex("#000")), (0.3, hex("#400")), (0.7, hex("#fff")), (1.0, hex("teal"))],
            vec![(0.0, hex("#000")), (0.5, hex("#000")), (0.5, hex("#fff")), (1.0, hex("#fff"))], // hard edge
        ];
        let scalar = &Field::u() * 1.4 - 0.2;
        for stops in sets {
            let palette = Palette::from_stops(&stops).unwrap();
            let want = tone::colorize(&colours().render(41, 29).unwrap(), &stops).unwrap();
            let got = colours().colorize_luma(&palette).unwrap().render(41, 29).unwrap();
            assert!(max_diff(&got, &want) <= 1e-6, "colour field {stops:?}: {}", max_diff(&got, &want));
            let want = tone::colorize(&crate::field::raster::render(&scalar, 41, 3).unwrap(), &stops).unwrap();
            let got = RgbField::colorize(&scalar, &palette).unwrap().render(41, 3).unwrap();
            assert!(max_diff(&got, &want) <= 1e-6, "scalar field {stops:?}: {}", max_diff(&got, &want));
        }
    }
}
