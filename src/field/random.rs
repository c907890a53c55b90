//! Seeded randomness for fields and images: random colours ([`Rng::color`]) and random images
//! ([`noise_image`]), on the crate's one generator [`Rng`] (`src/rng.rs`).
//!
//! Owns: [`noise_image`] and [`Rng::color`]. Must not know about Rhai. Random images seed one
//! stream per row, so they are identical whatever the thread count.

use crate::error::{finite, Error, Result};
use crate::image::buffer::CHANNELS;
use crate::image::color::Color;
use crate::image::Image;
use rayon::prelude::*;

/// The crate's one seeded generator (`src/rng.rs`), re-exported where the field room's users
/// (and `kiln::Rng`) have always found it.
pub use crate::rng::Rng;

impl Rng {
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
