//! A point in a model's latent space, with the arithmetic scripts use to move through it.
//!
//! Owns: [`Latent`]. Plain numbers only: this file compiles with or without the `ml` feature.

use crate::error::{Error, Result};

/// A latent vector: what [`crate::Model::encode`] returns and [`crate::Model::decode`] takes.
///
/// ```
/// use kiln::Latent;
/// let a = Latent::new(vec![1.0, 0.0]);
/// let b = Latent::new(vec![0.0, 1.0]);
/// let mid = a.lerp(&b, 0.5)?;
/// assert_eq!(mid.values(), &[0.5, 0.5]);
/// let arc = a.slerp(&b, 0.5)?;
/// assert!((arc.norm() - 1.0).abs() < 1e-6);
/// # Ok::<(), kiln::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Latent(Vec<f32>);

impl Latent {
    /// A latent with these values.
    pub fn new(values: Vec<f32>) -> Latent {
        Latent(values)
    }

    /// The values.
    pub fn values(&self) -> &[f32] {
        &self.0
    }

    /// The values, owned.
    pub fn into_values(self) -> Vec<f32> {
        self.0
    }

    /// The number of dimensions.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True for a latent with no dimensions.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The Euclidean length.
    pub fn norm(&self) -> f32 {
        self.0.iter().map(|v| (*v as f64) * (*v as f64)).sum::<f64>().sqrt() as f32
    }

    fn zip(&self, other: &Latent, op: &str, f: impl Fn(f32, f32) -> f32) -> Result<Latent> {
        if self.len() != other.len() {
            return Err(Error::param(op, format!("latents differ in size: {} and {}", self.len(), other.len())));
        }
        Ok(Latent(self.0.iter().zip(&other.0).map(|(a, b)| f(*a, *b)).collect()))
    }

    /// `self + other`, element by element.
    pub fn add(&self, other: &Latent) -> Result<Latent> {
        self.zip(other, "latent +", |a, b| a + b)
    }

    /// `self - other`, element by element.
    pub fn sub(&self, other: &Latent) -> Result<Latent> {
        self.zip(other, "latent -", |a, b| a - b)
    }

    /// `self * other`, element by element.
    pub fn mul(&self, other: &Latent) -> Result<Latent> {
        self.zip(other, "latent *", |a, b| a * b)
    }

    /// Every value times `factor`.
    pub fn scale(&self, factor: f32) -> Latent {
        Latent(self.0.iter().map(|v| v * factor).collect())
    }

    /// Every value plus `offset`.
    pub fn offset(&self, offset: f32) -> Latent {
        Latent(self.0.iter().map(|v| v + offset).collect())
    }

    /// Straight-line interpolation: `self` at t = 0, `other` at t = 1.
    pub fn lerp(&self, other: &Latent, t: f32) -> Result<Latent> {
        self.zip(other, "lerp", |a, b| a + (b - a) * t)
    }

    /// Spherical interpolation (Shoemake), which keeps the length a Gaussian latent expects;
    /// falls back to `lerp` when the two are (anti)parallel.
    pub fn slerp(&self, other: &Latent, t: f32) -> Result<Latent> {
        self.zip(other, "slerp", |_, _| 0.0)?; // size check
        let (na, nb) = (self.norm() as f64, other.norm() as f64);
        if na == 0.0 || nb == 0.0 {
            return self.lerp(other, t);
        }
        let dot: f64 = self.0.iter().zip(&other.0).map(|(a, b)| *a as f64 * *b as f64).sum();
        let cos = (dot / (na * nb)).clamp(-1.0, 1.0);
        let omega = cos.acos();
        let sin = omega.sin();
        if sin.abs() < 1e-6 {
            return self.lerp(other, t);
        }
        let t = t as f64;
        let (wa, wb) = (((1.0 - t) * omega).sin() / sin, (t * omega).sin() / sin);
        Ok(Latent(self.0.iter().zip(&other.0).map(|(a, b)| (wa * *a as f64 + wb * *b as f64) as f32).collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arithmetic_and_interpolation() {
        let a = Latent::new(vec![1.0, 2.0]);
        let b = Latent::new(vec![3.0, 5.0]);
        assert_eq!(a.add(&b).unwrap().values(), &[4.0, 7.0]);
        assert_eq!(b.sub(&a).unwrap().values(), &[2.0, 3.0]);
        assert_eq!(a.scale(2.0).values(), &[2.0, 4.0]);
        assert_eq!(a.lerp(&b, 0.0).unwrap(), a);
        let s = a.slerp(&b, 1.0).unwrap();
        assert!(s.values().iter().zip(b.values()).all(|(x, y)| (x - y).abs() < 1e-5));
        assert!(a.add(&Latent::new(vec![1.0])).is_err());
    }
}
