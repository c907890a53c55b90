//! [`RgbField`]: a colour field, three scalar fields (and an optional alpha) rendered as the
//! channels of one image in one pass.
//!
//! Owns: building colour fields (a solid colour, a gray field, a field through a palette), their
//! channel-by-channel arithmetic, luminance, alpha and rendering. Must not know about Rhai: the
//! script room only registers operators and methods that call these.

use crate::error::Result;
use crate::field::{raster, Field, Palette};
use crate::image::color::Color;
use crate::image::Image;

/// Three or four fields as the red, green, blue (and alpha) channels of one image.
#[derive(Debug, Clone)]
pub struct RgbField {
    pub r: Field,
    pub g: Field,
    pub b: Field,
    /// Opaque when absent.
    pub a: Option<Field>,
}

impl RgbField {
    /// Red, green and blue channels, opaque.
    pub fn new(r: Field, g: Field, b: Field) -> RgbField {
        RgbField { r, g, b, a: None }
    }

    /// The same colour everywhere (its alpha dropped: opaque).
    pub fn solid(c: Color) -> RgbField {
        let k = |x: f32| Field::constant(x as f64);
        RgbField::new(k(c.r), k(c.g), k(c.b))
    }

    /// The same scalar field in all three channels.
    pub fn gray(f: &Field) -> RgbField {
        RgbField::new(f.clone(), f.clone(), f.clone())
    }

    /// A field's values through a palette.
    pub fn colorize(f: &Field, palette: &Palette) -> Result<RgbField> {
        let channel = |c| f.lookup(palette, c).checked();
        Ok(RgbField::new(channel(0)?, channel(1)?, channel(2)?))
    }

    /// Applies `f` channel by channel (alpha kept from `self`); refuses graphs that grew too deep.
    pub fn zip(&self, o: &RgbField, f: impl Fn(&Field, &Field) -> Field) -> Result<RgbField> {
        Ok(RgbField {
            r: f(&self.r, &o.r).checked()?,
            g: f(&self.g, &o.g).checked()?,
            b: f(&self.b, &o.b).checked()?,
            a: self.a.clone(),
        })
    }

    /// a + (b − a)·t channel by channel.
    pub fn mix(a: &RgbField, b: &RgbField, t: &Field) -> Result<RgbField> {
        a.zip(b, |x, y| Field::mix(x, y, t))
    }

    /// The colour field with `alpha` as its alpha channel.
    pub fn with_alpha(&self, alpha: Field) -> RgbField {
        RgbField { a: Some(alpha), ..self.clone() }
    }

    /// Luminance (Pillow's `L` weights 0.299, 0.587, 0.114) as a field.
    pub fn luma(&self) -> Result<Field> {
        (&self.r * 0.299 + &self.g * 0.587 + &self.b * 0.114).checked()
    }

    /// Renders the channels as a `w` × `h` image, in parallel.
    pub fn render(&self, w: u32, h: u32) -> Result<Image> {
        raster::render_rgb(&self.r, &self.g, &self.b, self.a.as_ref(), w, h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn px(f: &RgbField) -> [f32; 4] {
        let c = f.render(4, 1).unwrap().get(0, 0).unwrap();
        [c.r, c.g, c.b, c.a]
    }

    #[test]
    fn channels_combine_one_by_one() {
        let orange = RgbField::solid(Color::rgb(1.0, 0.5, 0.0));
        assert_eq!(px(&orange), [1.0, 0.5, 0.0, 1.0]);
        let half = orange.zip(&RgbField::gray(&Field::constant(0.5)), |a, b| a * b).unwrap();
        assert_eq!(px(&half), [0.5, 0.25, 0.0, 1.0]);
        let blue = RgbField::solid(Color::rgb(0.0, 0.0, 1.0));
        let mixed = RgbField::mix(&orange, &blue, &Field::u()).unwrap();
        assert_eq!(px(&mixed), [0.875, 0.4375, 0.125, 1.0], "u is 0.125 at the first pixel");
        let see_through = orange.with_alpha(Field::constant(0.25));
        assert_eq!(px(&see_through)[3], 0.25);
        let luma = orange.luma().unwrap();
        let l = raster::field_values(&luma, 1, 1).unwrap()[0];
        assert!((l - (0.299 + 0.587 * 0.5)).abs() < 1e-6);
    }

    #[test]
    fn a_palette_colours_a_field() {
        let p = Palette::from_colors(&[Color::BLACK, Color::WHITE]).unwrap();
        let c = px(&RgbField::colorize(&Field::u(), &p).unwrap());
        assert!(c[..3].iter().all(|x| (x - 0.125).abs() < 2e-3), "{c:?}");
    }

    #[test]
    fn runaway_depth_is_refused() {
        let mut f = RgbField::gray(&Field::u());
        let one = RgbField::gray(&Field::constant(1.0));
        let e = loop {
            match f.zip(&one, |a, b| a + b) {
                Ok(next) => f = next,
                Err(e) => break e.to_string(),
            }
        };
        assert!(e.contains("deep"), "{e}");
    }
}
