//! Seeded randomness: [`Rng`] (ChaCha8, identical on every platform) and random images.
//!
//! Owns: the random number generator every room uses for scripts and [`noise_image`]. Must not
//! know about Rhai.
//!
//! Only integer outputs of ChaCha8 are used and every float is derived from them with exact
//! arithmetic (53-bit mantissas, our own Box–Muller), so sequences do not depend on the platform's
//! libm or on `rand`'s distribution code. Random images seed one stream per row, so they are
//! identical whatever the thread count.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{finite, Error, Result};
use crate::image::buffer::CHANNELS;
use crate::image::color::Color;
use crate::image::Image;
use rayon::prelude::*;

/// A seeded random number generator (ChaCha8).
#[derive(Clone, Debug)]
pub struct Rng(ChaCha8Rng);

impl PartialEq for Rng {
    fn eq(&self, other: &Rng) -> bool {
        self.0 == other.0
    }
}

impl Rng {
    /// A generator from a seed; the same seed gives the same sequence everywhere.
    pub fn new(seed: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Stream `stream` of `seed`: independent sequences for rows or instances.
    pub fn stream(seed: u64, stream: u64) -> Rng {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        Rng(r)
    }

    /// The next raw 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1) with 53 random bits.
    pub fn float(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi) (or (hi, lo] when hi < lo).
    pub fn range(&mut self, lo: f64, hi: f64) -> Result<f64> {
        let (lo, hi) = (finite("range", "lo", lo)?, finite("range", "hi", hi)?);
        Ok(lo + (hi - lo) * self.float())
    }

    /// Uniform integer in [lo, hi], both ends included (like a die: `int(1, 6)`), without bias.
    pub fn int(&mut self, lo: i64, hi: i64) -> Result<i64> {
        if hi < lo {
            return Err(Error::param("int", format!("hi must be >= lo, got {lo}..{hi}")));
        }
        let span = (hi as i128 - lo as i128 + 1) as u128;
        if span > u64::MAX as u128 {
            return Ok(self.0.next_u64() as i64);
        }
        let span = span as u64;
        // Lemire's nearly-divisionless method with rejection: unbiased.
        let zone = span.wrapping_neg() % span;
        loop {
            let m = (self.0.next_u64() as u128) * span as u128;
            if (m as u64) >= zone {
                return Ok((lo as i128 + (m >> 64) as i128) as i64);
            }
        }
    }

    /// Uniform index in [0, n); n must be > 0.
    pub fn index(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        self.int(0, n as i64 - 1).unwrap_or(0) as usize
    }

    /// True with probability `p` (clamped to [0, 1]).
    pub fn chance(&mut self, p: f64) -> Result<bool> {
        let p = finite("chance", "p", p)?;
        Ok(self.float() < p)
    }

    /// A normally distributed number (Box–Muller on two uniform draws).
    pub fn normal(&mut self, mean: f64, sd: f64) -> Result<f64> {
        let (mean, sd) = (finite("normal", "mean", mean)?, finite("normal", "sd", sd)?);
        if sd < 0.0 {
            return Err(Error::param("normal", format!("sd must be >= 0, got {sd}")));
        }
        Ok(mean + sd * self.gaussian())
    }

    /// A standard normal draw.
    pub fn gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.float(); // (0, 1]
        let u2 = self.float();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// A uniformly chosen element; errors on an empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Result<&'a T> {
        if items.is_empty() {
            return Err(Error::param("pick", "cannot pick from an empty array"));
        }
        Ok(&items[self.index(items.len())])
    }

    /// Shuffles in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// A random pleasant colour: hue uniform, saturation 0.45–0.9, value 0.55–1, opaque.
    pub fn color(&mut self) -> Color {
        let h = self.float() * 360.0;
        let s = 0.45 + 0.45 * self.float();
        let v = 0.55 + 0.45 * self.float();
        Color::hsv(h as f32, s as f32, v as f32)
    }
}

/// What [`noise_image`] draws.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoiseImageKind {
    /// Uniform in [0, 1).
    Uniform,
    /// Normal with mean 0.5 and standard deviation `sigma`, clamped to [0, 1].
    Gaussian { sigma: f64 },
    /// Black or white with probability `density` / 2 each, else mid gray.
    SaltPepper { density: f64 },
}

/// The distribution `noise_image(#{ kind })` names; [`NoiseImage::kind`] adds its parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    Uniform,
    Gaussian,
    SaltPepper,
}

crate::option_choice!(Distribution { Uniform = "uniform", Gaussian = "gaussian", SaltPepper = "salt_pepper" });

crate::option_set! {
    /// Options of `noise_image(w, h, #{ ... })`.
    pub struct NoiseImage for "noise_image" {
        /// "uniform" in [0, 1), "gaussian" around 0.5 with `sigma`, or "salt_pepper": black or
        /// white with probability `density` / 2 each, else mid gray.
        kind: Distribution = Distribution::Uniform;
        /// Seed; the run's `--seed` when absent.
        seed: Option<u64> = None;
        /// true: gray; false: each channel drawn separately.
        mono: bool = true;
        /// Standard deviation of "gaussian", at least 0.
        sigma: f64 = 0.15;
        /// Share of black and white pixels of "salt_pepper".
        density: f64 = 0.1, range(0, 1);
    }
}

impl NoiseImage {
    /// The distribution with its parameter, validated.
    pub fn kind(&self) -> Result<NoiseImageKind> {
        Ok(match self.kind {
            Distribution::Uniform => NoiseImageKind::Uniform,
            Distribution::Gaussian => {
                let sigma = finite("noise_image", "sigma", self.sigma)?;
                if sigma < 0.0 {
                    return Err(Error::param("noise_image", format!("sigma must be >= 0, got {sigma}")));
                }
                NoiseImageKind::Gaussian { sigma }
            }
            Distribution::SaltPepper => {
                let density = finite("noise_image", "density", self.density)?;
                if !(0.0..=1.0).contains(&density) {
                    return Err(Error::param("noise_image", format!("density must be in [0, 1], got {density}")));
                }
                NoiseImageKind::SaltPepper { density }
            }
        })
    }

    /// The `w` × `h` noise image these options describe, with `seed` the resolved seed.
    pub fn render(&self, w: u32, h: u32, seed: u64) -> Result<Image> {
        noise_image(w, h, self.kind()?, seed, self.mono)
    }
}

/// A `w` × `h` opaque image of random noise; `mono` draws one value per pixel for all channels.
/// Row y uses stream y of `seed`, so the result does not depend on the thread count.
pub fn noise_image(w: u32, h: u32, kind: NoiseImageKind, seed: u64, mono: bool) -> Result<Image> {
    let mut img = Image::new(w, h)?;
    img.rows_mut().enumerate().for_each(|(y, row)| {
        let mut rng = Rng::stream(seed, y as u64);
        let mut draw = || match kind {
            NoiseImageKind::Uniform => rng.float() as f32,
            NoiseImageKind::Gaussian { sigma } => (0.5 + sigma * rng.gaussian()).clamp(0.0, 1.0) as f32,
            NoiseImageKind::SaltPepper { density } => {
                let r = rng.float();
                if r < density * 0.5 {
                    0.0
                } else if r < density {
                    1.0
                } else {
                    0.5
                }
            }
        };
        for p in row.chunks_exact_mut(CHANNELS) {
            if mono {
                let v = draw();
                p.copy_from_slice(&[v, v, v, 1.0]);
            } else {
                let (r, g, b) = (draw(), draw(), draw());
                p.copy_from_slice(&[r, g, b, 1.0]);
            }
        }
    });
    Ok(img)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{OptionSet, OptionValue};

    #[test]
    fn sequences_are_fixed() {
        // Pinned values: a change here changes every script's output.
        let mut r = Rng::new(42);
        let a: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut r2 = Rng::new(42);
        let b: Vec<u64> = (0..3).map(|_| r2.next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(Rng::new(43).next_u64(), a[0]);
    }

    #[test]
    fn ranges_hold() {
        let mut r = Rng::new(7);
        let mut seen = [false; 6];
        for _ in 0..10_000 {
            let f = r.float();
            assert!((0.0..1.0).contains(&f));
            let x = r.range(-2.0, 3.0).unwrap();
            assert!((-2.0..3.0).contains(&x));
            let d = r.int(1, 6).unwrap();
            assert!((1..=6).contains(&d));
            seen[d as usize - 1] = true;
        }
        assert!(seen.iter().all(|&s| s), "int(1, 6) must reach both ends");
        assert_eq!(r.int(5, 5).unwrap(), 5);
        assert!(r.int(6, 1).is_err());
        assert!(r.range(f64::NAN, 1.0).is_err());
        assert!(r.normal(0.0, -1.0).is_err());
        assert!(r.pick::<i32>(&[]).is_err());
    }

    #[test]
    fn normal_has_the_right_moments() {
        let mut r = Rng::new(1);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal(3.0, 2.0).unwrap()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!((mean - 3.0).abs() < 0.03, "mean {mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.03, "sd {}", var.sqrt());
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut v: Vec<i32> = (0..50).collect();
        Rng::new(3).shuffle(&mut v);
        assert_ne!(v, (0..50).collect::<Vec<_>>());
        v.sort();
        assert_eq!(v, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn noise_images_are_thread_count_independent() {
        let kinds = [
            NoiseImageKind::Uniform,
            NoiseImageKind::Gaussian { sigma: 0.2 },
            NoiseImageKind::SaltPepper { density: 0.1 },
        ];
        for kind in kinds {
            let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
            let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
            let a = one.install(|| noise_image(97, 61, kind, 9, false)).unwrap();
            let b = four.install(|| noise_image(97, 61, kind, 9, false)).unwrap();
            assert_eq!(a.pixels(), b.pixels(), "{kind:?}");
            assert!(a.pixels().iter().all(|x| (0.0..=1.0).contains(x)));
        }
        let e = |pairs: &[(&str, OptionValue)]| {
            NoiseImage::from_pairs(pairs.iter().map(|(k, v)| (*k, v))).and_then(|o| o.kind()).unwrap_err().to_string()
        };
        let text = |s: &str| OptionValue::Text(s.into());
        assert_eq!(
            e(&[("kind", text("gausian"))]),
            "noise_image: option 'kind' must be one of uniform, gaussian, salt_pepper, got \"gausian\" \
             (did you mean 'gaussian'?)"
        );
        assert_eq!(
            e(&[("kind", text("salt_pepper")), ("density", OptionValue::Float(1.5))]),
            "noise_image: option 'density' must be between 0 and 1, got 1.5"
        );
        assert_eq!(
            e(&[("kind", text("gaussian")), ("sigma", OptionValue::Int(-1))]),
            "noise_image: sigma must be >= 0, got -1"
        );
        assert!(e(&[("mon", OptionValue::Bool(true))]).contains("unknown option 'mon' (did you mean 'mono'?)"));
        let d = NoiseImage::default();
        assert_eq!((d.kind().unwrap(), d.seed, d.mono), (NoiseImageKind::Uniform, None, true));
    }
}
