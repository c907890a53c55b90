//! The exemplars a texture model learns from, and the random crops it trains on.
//!
//! Each exemplar is one texture of the model (its label); a folder gives one per image file, in
//! sorted path order, named by file stem. Mixed sizes are fine: every crop is `patch` square and
//! taken anywhere inside its exemplar. An exemplar smaller than the patch is an error naming it.
//! Models are RGB: transparency is dropped (the colour is kept as stored) and grey images are
//! trained as three equal channels; both are said once as a warning, not silently.
//!
//! Owns: [`Exemplars`]. Must not know about networks.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};

use super::super::dataset::walk;
use super::super::ml_err;
use super::super::options::Data;
use crate::error::{Error, Result};
use crate::image::io::load;
use crate::image::Image;
use crate::rng::Rng;

/// The standard deviation of an image's grey values (the mean of R, G and B) over its pixels: 0
/// for a flat colour. What the trainer compares to notice samples that collapsed.
pub fn contrast(img: &Image) -> f32 {
    let grey = img.pixels().chunks_exact(4).map(|p| (p[0] + p[1] + p[2]) / 3.0);
    std_dev(grey, img.width() as usize * img.height() as usize)
}

fn std_dev(values: impl Iterator<Item = f32> + Clone, n: usize) -> f32 {
    if n == 0 {
        return 0.0;
    }
    let mean = values.clone().map(f64::from).sum::<f64>() / n as f64;
    let var = values.map(|v| (f64::from(v) - mean).powi(2)).sum::<f64>() / n as f64;
    var.sqrt() as f32
}

/// One exemplar as planar RGB in [−1, 1].
struct Exemplar {
    width: usize,
    height: usize,
    planar: Vec<f32>,
}

/// The exemplars, their names, and what was changed on loading.
pub struct Exemplars {
    images: Vec<Exemplar>,
    pub names: Vec<String>,
    /// Notes for the user (alpha dropped, grey used as RGB).
    pub warnings: Vec<String>,
}

impl Exemplars {
    /// Loads `data` (an image file, a folder, or images in memory), checking every exemplar is at
    /// least `patch` on each side.
    pub fn load(data: &Data, patch: u32) -> Result<Exemplars> {
        let named: Vec<(String, Image)> = match data {
            Data::Images(images) => {
                images.iter().enumerate().map(|(i, img)| (format!("texture {i}"), img.clone())).collect()
            }
            Data::Folder(path) if path.is_file() => vec![(stem(path), load(path)?)],
            Data::Folder(dir) => {
                if !dir.exists() {
                    return Err(Error::param("train_texture", format!("data `{}` does not exist", dir.display())));
                }
                let mut files: Vec<PathBuf> = Vec::new();
                walk(dir, &mut files, 0)?;
                files.sort();
                files.iter().map(|f| Ok((stem(f), load(f)?))).collect::<Result<_>>()?
            }
        };
        if named.is_empty() {
            let what = match data {
                Data::Folder(dir) => format!("no image files in {}", dir.display()),
                Data::Images(_) => "the image array is empty".to_string(),
            };
            return Err(Error::param("train_texture", what));
        }
        let mut out = Exemplars { images: Vec::new(), names: Vec::new(), warnings: Vec::new() };
        for (name, img) in named {
            let (w, h) = img.dimensions();
            if w < patch || h < patch {
                return Err(Error::param(
                    "train_texture",
                    format!("exemplar `{name}` is {w}×{h}, smaller than the {patch}×{patch} patch; use a smaller patch or a larger image"),
                ));
            }
            let px = img.pixels();
            if px.chunks_exact(4).any(|p| p[3] < 1.0) {
                out.warnings.push(format!(
                    "exemplar `{name}` has transparency: texture models are RGB, its colour is used and alpha ignored"
                ));
            }
            if px.chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2]) {
                out.warnings.push(format!("exemplar `{name}` is grey: trained as RGB with three equal channels"));
            }
            if px.iter().any(|v| !v.is_finite()) {
                return Err(Error::param("train_texture", format!("exemplar `{name}` holds NaN or infinite pixels")));
            }
            let (wu, hu) = (w as usize, h as usize);
            let mut planar = vec![0f32; 3 * wu * hu];
            for (i, p) in px.chunks_exact(4).enumerate() {
                for c in 0..3 {
                    planar[c * wu * hu + i] = p[c].clamp(0.0, 1.0) * 2.0 - 1.0;
                }
            }
            out.images.push(Exemplar { width: wu, height: hu, planar });
            out.names.push(name);
        }
        Ok(out)
    }

    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// Exemplar `i`'s contrast as [`contrast`] measures it, in [0, 1] units.
    pub fn contrast(&self, i: usize) -> f32 {
        let e = &self.images[i];
        let plane = e.width * e.height;
        let grey = (0..plane).map(|p| {
            let sum: f32 = (0..3).map(|c| e.planar[c * plane + p]).sum();
            sum / 3.0 * 0.5 + 0.5
        });
        std_dev(grey, plane)
    }

    /// A batch of `n` crops of side `patch` at random places, the exemplars taken in turn
    /// starting from a random one (so every texture is seen equally often): (crops, labels).
    pub fn crops(&self, n: usize, patch: usize, rng: &mut Rng, device: &Device) -> Result<(Tensor, Vec<usize>)> {
        let first = rng.below(self.len());
        let mut data = Vec::with_capacity(n * 3 * patch * patch);
        let mut labels = Vec::with_capacity(n);
        for i in 0..n {
            let t = (first + i) % self.len();
            let e = &self.images[t];
            let x0 = rng.below(e.width - patch + 1);
            let y0 = rng.below(e.height - patch + 1);
            for c in 0..3 {
                let plane = &e.planar[c * e.width * e.height..];
                for y in y0..y0 + patch {
                    data.extend_from_slice(&plane[y * e.width + x0..y * e.width + x0 + patch]);
                }
            }
            labels.push(t);
        }
        let t = Tensor::from_vec(data, (n, 3, patch, patch), device).map_err(ml_err)?;
        Ok((t, labels))
    }
}

fn stem(path: &Path) -> String {
    path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "texture".into())
}
