//! Training data: a folder of image files or images in memory, fitted to the model's square size
//! once, then served in seeded batches with optional left–right flips.
//!
//! Owns: [`Dataset`], the hold-out split and batch assembly.

use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::ml_err;
use super::options::Data;
use super::stream::Stream;
use super::tensor::fit_planar;
use crate::error::{Error, Result};
use crate::image::io::{load, Format};
use crate::rng::Rng;

/// Images as planar RGB (3 × size × size), values in [0, 1].
pub struct Dataset {
    pub size: u32,
    pub images: Vec<Vec<f32>>,
}

impl Dataset {
    /// Loads and fits every image of `data`.
    pub fn load(data: &Data, size: u32) -> Result<Dataset> {
        let images: Vec<Vec<f32>> = match data {
            Data::Images(images) => images.par_iter().map(|img| fit_planar(img, size)).collect(),
            Data::Folder(dir) => {
                let mut files = Vec::new();
                walk(dir, &mut files, 0)?;
                files.sort();
                files.par_iter().map(|f| load(f).map(|img| fit_planar(&img, size))).collect::<Result<_>>()?
            }
        };
        if images.is_empty() {
            let what = match data {
                Data::Folder(dir) => format!("no image files in {}", dir.display()),
                Data::Images(_) => "the image array is empty".to_string(),
            };
            return Err(Error::param("train", what));
        }
        Ok(Dataset { size, images })
    }

    pub fn len(&self) -> usize {
        self.images.len()
    }

    /// (training indices, held-out indices): a seeded shuffle, the last `holdout` fraction held
    /// out (at least one image when holdout > 0 and there are two or more).
    pub fn split(&self, holdout: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
        let n = self.len();
        let mut order: Vec<usize> = (0..n).collect();
        Rng::stream(seed, Stream::Holdout.id()).shuffle_fast(&mut order);
        let mut held = (n as f64 * holdout).floor() as usize;
        if holdout > 0.0 && held == 0 && n >= 2 {
            held = 1;
        }
        let held = held.min(n - 1);
        let eval = order.split_off(n - held);
        order.sort_unstable();
        (order, eval)
    }

    /// A (n, 3, s, s) tensor of the images `indices`, each flipped left–right when `flips` says.
    pub fn batch(&self, indices: &[usize], flips: Option<&[bool]>, device: &Device) -> Result<Tensor> {
        let s = self.size as usize;
        let mut data = Vec::with_capacity(indices.len() * 3 * s * s);
        for (k, &i) in indices.iter().enumerate() {
            let img = &self.images[i];
            if flips.is_some_and(|f| f[k]) {
                for row in img.chunks_exact(s) {
                    data.extend(row.iter().rev());
                }
            } else {
                data.extend_from_slice(img);
            }
        }
        Tensor::from_vec(data, (indices.len(), 3, s, s), device).map_err(ml_err)
    }
}

/// Every image file under `dir`, recursively (model files and unknown extensions skipped).
pub(crate) fn walk(dir: &Path, out: &mut Vec<PathBuf>, depth: usize) -> Result<()> {
    if depth > 16 {
        return Ok(());
    }
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    for entry in entries {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        if path.is_dir() {
            walk(&path, out, depth + 1)?;
        } else if Format::from_path(&path).is_ok() {
            out.push(path);
        }
    }
    Ok(())
}
