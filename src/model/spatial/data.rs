//! Training data of a spatial VAE: whole images of any sizes (a folder, one image file, or
//! images in memory), served as seeded random square crops.
//!
//! Owns: [`CropData`] (loading, the checks a user needs in words: no images, an image smaller
//! than the patch, grey or transparent images) and batch assembly. Images keep their own sizes:
//! mixed sizes are fine because every batch is crops of `patch`². Transparent images are read as
//! their straight RGB (alpha ignored) and grey ones as R = G = B; each is said once, as a note.

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::super::dataset::walk;
use super::super::ml_err;
use super::super::options::Data;
use crate::error::{Error, Result};
use crate::image::io::load;
use crate::image::Image;
use crate::rng::Rng;

/// One training image as planar RGB in [0, 1].
pub struct Planar {
    pub width: usize,
    pub height: usize,
    pub rgb: Vec<f32>,
}

impl Planar {
    /// Straight RGB of `img` (alpha ignored), planar.
    pub fn of(img: &Image) -> Planar {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let mut rgb = vec![0f32; 3 * w * h];
        for (i, p) in img.pixels().chunks_exact(4).enumerate() {
            for c in 0..3 {
                rgb[c * w * h + i] = if p[c].is_finite() { p[c].clamp(0.0, 1.0) } else { 0.0 };
            }
        }
        Planar { width: w, height: h, rgb }
    }
}

/// The training images and what the user should be told about them.
pub struct CropData {
    pub images: Vec<Planar>,
    /// Notes for the user (grey or transparent images), said once.
    pub notes: Vec<String>,
}

impl CropData {
    /// Loads `data` for crops of `patch`², naming `op` in errors.
    pub fn load(data: &Data, patch: usize, op: &str) -> Result<CropData> {
        let named: Vec<(String, Image)> = match data {
            Data::Images(images) => {
                images.iter().enumerate().map(|(i, img)| (format!("image {i} of the array"), img.clone())).collect()
            }
            Data::Folder(path) => {
                let mut files = Vec::new();
                if path.is_file() {
                    files.push(path.clone());
                } else {
                    walk(path, &mut files, 0)?;
                    files.sort();
                }
                files.par_iter().map(|f| Ok((f.display().to_string(), load(f)?))).collect::<Result<_>>()?
            }
        };
        if named.is_empty() {
            return Err(Error::param(
                op,
                match data {
                    Data::Folder(dir) => format!("no image files in {}", dir.display()),
                    Data::Images(_) => "the image array is empty".to_string(),
                },
            ));
        }
        if let Some((name, img)) =
            named.iter().find(|(_, img)| (img.width() as usize) < patch || (img.height() as usize) < patch)
        {
            return Err(Error::param(
                op,
                format!(
                    "{name} is {}x{}, smaller than the {patch}x{patch} patch; use a larger image or a smaller 'patch'",
                    img.width(),
                    img.height()
                ),
            ));
        }
        let mut notes = Vec::new();
        let transparent: Vec<&str> = named
            .iter()
            .filter(|(_, img)| img.pixels().chunks_exact(4).any(|p| p[3] < 1.0))
            .map(|(n, _)| n.as_str())
            .collect();
        if !transparent.is_empty() {
            notes.push(format!(
                "{} has transparency: its RGB is used and alpha ignored{}",
                transparent[0],
                others(transparent.len())
            ));
        }
        let grey: Vec<&str> = named
            .iter()
            .filter(|(_, img)| img.pixels().chunks_exact(4).all(|p| p[0] == p[1] && p[1] == p[2]))
            .map(|(n, _)| n.as_str())
            .collect();
        if !grey.is_empty() {
            notes.push(format!("{} is grey: it is used as RGB (R = G = B){}", grey[0], others(grey.len())));
        }
        let images = named.par_iter().map(|(_, img)| Planar::of(img)).collect();
        Ok(CropData { images, notes })
    }

    /// A (n, 3, patch, patch) batch of crops drawn from `rng`: for each, an image (uniform), a
    /// corner (uniform) and, with `flip`, a coin for a left–right flip. Always the same number of
    /// draws per crop, so a stream gives the same batch whatever the images' sizes.
    pub fn batch(&self, rng: &mut Rng, n: usize, patch: usize, flip: bool, device: &Device) -> Result<Tensor> {
        let mut data = Vec::with_capacity(n * 3 * patch * patch);
        for _ in 0..n {
            let img = &self.images[rng.below(self.images.len())];
            let x0 = rng.below(img.width - patch + 1);
            let y0 = rng.below(img.height - patch + 1);
            let flipped = rng.coin() && flip;
            for c in 0..3 {
                let plane = &img.rgb[c * img.width * img.height..];
                for y in y0..y0 + patch {
                    let row = &plane[y * img.width + x0..][..patch];
                    if flipped {
                        data.extend(row.iter().rev());
                    } else {
                        data.extend_from_slice(row);
                    }
                }
            }
        }
        Tensor::from_vec(data, (n, 3, patch, patch), device).map_err(ml_err)
    }
}

fn others(n: usize) -> String {
    match n {
        1 => String::new(),
        2 => " (and 1 other image)".into(),
        n => format!(" (and {} other images)", n - 1),
    }
}
