//! A spatial VAE's latent: a map of `channels` planes at 1/factor of the image's resolution, with
//! the arithmetic scripts use to edit it (add, subtract, scale, blend through a mask).
//!
//! Owns: [`LatentMap`]. Plain numbers only: this file compiles with or without the `ml` feature
//! and knows nothing of networks. Masks are given at the map's own resolution; the script
//! bindings resize images and render fields to it.
//!
//! Decisions: every operation checks shapes and refuses NaN or infinite operands with an error
//! that names the operation; a map remembers the size of the image it was encoded from (an
//! image whose sides are not multiples of 8 is padded by reflection before encoding), and the
//! results of arithmetic keep the left operand's remembered size, so `decode` crops back to it.

use crate::error::{Error, Result};

/// A latent map: `channels × height × width` values, planar (channel-major, then rows).
///
/// ```
/// use kiln::LatentMap;
/// let a = LatentMap::new(2, 1, 2, vec![0.0, 1.0, 2.0, 3.0])?;
/// let b = a.scale(2.0)?;
/// // blend through a mask at the map's resolution: left pixel from a, right pixel from b
/// let mixed = a.lerp_mask(&b, &[0.0, 1.0])?;
/// assert_eq!(mixed.values(), &[0.0, 2.0, 2.0, 6.0]);
/// # Ok::<(), kiln::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LatentMap {
    channels: usize,
    height: usize,
    width: usize,
    values: Vec<f32>,
    /// The size of the image this map was encoded from, when that is not `factor ×` the map's
    /// size (the image was padded to a multiple of 8): decoding crops back to it.
    image_size: Option<(u32, u32)>,
}

impl LatentMap {
    /// A map of `channels × height × width` planar values; errors when the count does not match,
    /// a side is 0, or a value is NaN or infinite.
    pub fn new(channels: usize, height: usize, width: usize, values: Vec<f32>) -> Result<LatentMap> {
        if channels == 0 || height == 0 || width == 0 {
            return Err(Error::param(
                "latent map",
                format!("size must be at least 1, got {channels}x{height}x{width}"),
            ));
        }
        if values.len() != channels * height * width {
            return Err(Error::param(
                "latent map",
                format!("{} values do not make a {channels}x{height}x{width} map", values.len()),
            ));
        }
        check_finite("latent map", &values)?;
        Ok(LatentMap { channels, height, width, values, image_size: None })
    }

    /// The same map, remembering that it came from an image of `width × height` (decoding crops
    /// back to it).
    pub fn with_image_size(mut self, size: Option<(u32, u32)>) -> LatentMap {
        self.image_size = size;
        self
    }

    /// The size of the image the map was encoded from, if it was padded to encode.
    pub fn image_size(&self) -> Option<(u32, u32)> {
        self.image_size
    }

    /// Latent channels.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Rows of the map.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Columns of the map.
    pub fn width(&self) -> usize {
        self.width
    }

    /// The values, planar.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The values, owned.
    pub fn into_values(self) -> Vec<f32> {
        self.values
    }

    fn same_shape(&self, other: &LatentMap, op: &str) -> Result<()> {
        if (self.channels, self.height, self.width) != (other.channels, other.height, other.width) {
            return Err(Error::param(
                op,
                format!(
                    "latent maps differ in shape: {}x{}x{} and {}x{}x{} (channels x height x width)",
                    self.channels, self.height, self.width, other.channels, other.height, other.width
                ),
            ));
        }
        Ok(())
    }

    fn zip(&self, other: &LatentMap, op: &str, f: impl Fn(f32, f32) -> f32) -> Result<LatentMap> {
        self.same_shape(other, op)?;
        let values: Vec<f32> = self.values.iter().zip(&other.values).map(|(a, b)| f(*a, *b)).collect();
        self.with_values(op, values)
    }

    fn map_values(&self, op: &str, f: impl Fn(f32) -> f32) -> Result<LatentMap> {
        self.with_values(op, self.values.iter().map(|v| f(*v)).collect())
    }

    /// A map of the same shape and remembered size with `values`; refuses a result that
    /// overflowed to infinity.
    fn with_values(&self, op: &str, values: Vec<f32>) -> Result<LatentMap> {
        check_finite(op, &values)?;
        Ok(LatentMap { values, ..self.clone() })
    }

    /// `self + other`, element by element.
    pub fn add(&self, other: &LatentMap) -> Result<LatentMap> {
        self.zip(other, "latent map +", |a, b| a + b)
    }

    /// `self - other`, element by element.
    pub fn sub(&self, other: &LatentMap) -> Result<LatentMap> {
        self.zip(other, "latent map -", |a, b| a - b)
    }

    /// `self * other`, element by element.
    pub fn mul(&self, other: &LatentMap) -> Result<LatentMap> {
        self.zip(other, "latent map *", |a, b| a * b)
    }

    /// Every value plus `offset`.
    pub fn offset(&self, offset: f32) -> Result<LatentMap> {
        check_finite("latent map +", &[offset])?;
        self.map_values("latent map +", |v| v + offset)
    }

    /// Every value times `factor`.
    pub fn scale(&self, factor: f32) -> Result<LatentMap> {
        check_finite("latent map *", &[factor])?;
        self.map_values("latent map *", |v| v * factor)
    }

    /// Straight-line interpolation: `self` at t = 0, `other` at t = 1 (t outside 0..1
    /// extrapolates).
    pub fn lerp(&self, other: &LatentMap, t: f32) -> Result<LatentMap> {
        check_finite("lerp", &[t])?;
        self.zip(other, "lerp", |a, b| a + (b - a) * t)
    }

    /// Interpolation through a mask of `height × width` weights (row-major, one per map pixel,
    /// the same for every channel): `self` where the mask is 0, `other` where it is 1. Weights
    /// are clamped to 0..1. This is inpainting or texture transfer across a region.
    pub fn lerp_mask(&self, other: &LatentMap, mask: &[f32]) -> Result<LatentMap> {
        self.same_shape(other, "lerp")?;
        let plane = self.height * self.width;
        if mask.len() != plane {
            return Err(Error::param(
                "lerp",
                format!(
                    "the mask has {} values, the latent maps are {}x{} ({plane} values)",
                    mask.len(),
                    self.width,
                    self.height
                ),
            ));
        }
        check_finite("lerp", mask)?;
        let values = self
            .values
            .iter()
            .zip(&other.values)
            .enumerate()
            .map(|(i, (a, b))| a + (b - a) * mask[i % plane].clamp(0.0, 1.0))
            .collect();
        self.with_values("lerp", values)
    }
}

/// Refuses NaN and infinities, naming `op`.
fn check_finite(op: &str, values: &[f32]) -> Result<()> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(Error::param(op, format!("value {i} is {} (latent maps must be finite)", values[i]))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(values: &[f32]) -> LatentMap {
        LatentMap::new(2, 1, 2, values.to_vec()).unwrap()
    }

    /// Every operation against the same sums done by hand.
    #[test]
    fn arithmetic_matches_hand_computation() {
        let a = map(&[1.0, 2.0, 3.0, 4.0]);
        let b = map(&[0.5, -1.0, 2.0, 0.0]);
        assert_eq!(a.add(&b).unwrap().values(), &[1.5, 1.0, 5.0, 4.0]);
        assert_eq!(a.sub(&b).unwrap().values(), &[0.5, 3.0, 1.0, 4.0]);
        assert_eq!(a.mul(&b).unwrap().values(), &[0.5, -2.0, 6.0, 0.0]);
        assert_eq!(a.scale(-2.0).unwrap().values(), &[-2.0, -4.0, -6.0, -8.0]);
        assert_eq!(a.offset(0.25).unwrap().values(), &[1.25, 2.25, 3.25, 4.25]);
        // 1 + (0.5 - 1) * 0.25 = 0.875; 2 + (-1 - 2) * 0.25 = 1.25; 3 + (2 - 3) / 4; 4 - 1
        assert_eq!(a.lerp(&b, 0.25).unwrap().values(), &[0.875, 1.25, 2.75, 3.0]);
        // mask [0, 0.5]: pixel 0 from a; pixel 1 halfway, in both channels
        assert_eq!(a.lerp_mask(&b, &[0.0, 0.5]).unwrap().values(), &[1.0, 0.5, 3.0, 2.0]);
        // weights outside 0..1 are clamped
        assert_eq!(a.lerp_mask(&b, &[-3.0, 7.0]).unwrap().values(), &[1.0, -1.0, 3.0, 0.0]);
    }

    #[test]
    fn mismatched_shapes_and_non_finite_values_are_errors() {
        let a = map(&[1.0, 2.0, 3.0, 4.0]);
        let c = LatentMap::new(1, 2, 2, vec![0.0; 4]).unwrap();
        let e = a.add(&c).unwrap_err().to_string();
        assert_eq!(e, "latent map +: latent maps differ in shape: 2x1x2 and 1x2x2 (channels x height x width)");
        assert!(a.lerp(&c, 0.5).unwrap_err().to_string().starts_with("lerp: latent maps differ"));
        let e = a.lerp_mask(&a, &[0.5]).unwrap_err().to_string();
        assert_eq!(e, "lerp: the mask has 1 values, the latent maps are 2x1 (2 values)");
        let e = LatentMap::new(1, 1, 2, vec![0.0, f32::NAN]).unwrap_err().to_string();
        assert_eq!(e, "latent map: value 1 is NaN (latent maps must be finite)");
        assert!(a.scale(f32::INFINITY).is_err());
        assert!(a.lerp(&a, f32::NAN).is_err());
        assert!(a.lerp_mask(&a, &[0.0, f32::NAN]).is_err());
        // overflow to infinity is refused too
        assert!(map(&[3e38, 0.0, 0.0, 0.0]).scale(10.0).unwrap_err().to_string().contains("inf"));
        assert!(LatentMap::new(2, 2, 2, vec![0.0; 7]).is_err());
        assert!(LatentMap::new(0, 2, 2, vec![]).is_err());
    }

    #[test]
    fn results_keep_the_left_operands_image_size() {
        let a = map(&[1.0, 2.0, 3.0, 4.0]).with_image_size(Some((7, 3)));
        let b = map(&[0.0; 4]);
        assert_eq!(a.add(&b).unwrap().image_size(), Some((7, 3)));
        assert_eq!(b.add(&a).unwrap().image_size(), None);
    }
}
