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

impl NoiseImageKind {
    /// Parses `"uniform" | "gaussian" | "salt_pepper"` with its parameter.
    pub fn parse(kind: &str, sigma: f64, density: f64) -> Result<NoiseImageKind> {
        Ok(match kind {
            "uniform" => NoiseImageKind::Uniform,
            "gaussian" => {
                let sigma = finite("noise_image", "sigma", sigma)?;
                if sigma < 0.0 {
                    return Err(Error::param("noise_image", format!("sigma must be >= 0, got {sigma}")));
                }
                NoiseImageKind::Gaussian { sigma }
            }
            "salt_pepper" => {
                let density = finite("noise_image", "density", density)?;
                if !(0.0..=1.0).contains(&density) {
                    return Err(Error::param("noise_image", format!("density must be in [0, 1], got {density}")));
                }
                NoiseImageKind::SaltPepper { density }
            }
            _ => {
                return Err(Error::param(
                    "noise_image",
                    format!("unknown kind \"{kind}\"; expected uniform, gaussian or salt_pepper"),
                ))
            }
        })
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
        assert!(NoiseImageKind::parse("pink", 0.1, 0.1).is_err());
        assert!(NoiseImageKind::parse("salt_pepper", 0.1, 1.5).is_err());
    }
}
