//! The model API in a build without the `ml` feature: same names and signatures, and every call
//! that would need candle returns `Error::Disabled("ml")`.

use std::convert::Infallible;
use std::path::{Path, PathBuf};

use super::latent::Latent;
use std::sync::atomic::AtomicBool;

use super::latent_map::LatentMap;
use super::options::{Kind, Metrics, Progress, TrainOptions};
use super::spatial::settings::SpatialTrainOptions;
use super::texture_options::{TextureMix, TextureSample, TextureSettings};
use crate::error::{Error, Result};
use crate::image::Image;

/// A trained model; cannot exist in this build.
#[derive(Clone, Debug)]
pub struct Model {
    never: Infallible,
}

impl Model {
    pub fn load(_path: &Path) -> Result<Model> {
        Err(Error::Disabled("ml"))
    }
    pub fn from_bytes(_bytes: &[u8], _name: &Path) -> Result<Model> {
        Err(Error::Disabled("ml"))
    }
    pub fn save(&self, _path: &Path) -> Result<()> {
        match self.never {}
    }
    pub fn kind(&self) -> Kind {
        match self.never {}
    }
    pub fn size(&self) -> u32 {
        match self.never {}
    }
    pub fn latent_dim(&self) -> usize {
        match self.never {}
    }
    pub fn width(&self) -> usize {
        match self.never {}
    }
    pub fn steps(&self) -> u64 {
        match self.never {}
    }
    pub fn parameter_count(&self) -> usize {
        match self.never {}
    }
    pub fn metadata(&self, _key: &str) -> Option<&str> {
        match self.never {}
    }
    pub fn prior_components(&self) -> usize {
        match self.never {}
    }
    pub fn latent(&self, _seed: u64) -> Latent {
        match self.never {}
    }
    pub fn sample(&self, _n: usize, _seed: u64) -> Result<Vec<Image>> {
        match self.never {}
    }
    pub fn decode(&self, _z: &Latent) -> Result<Image> {
        match self.never {}
    }
    pub fn decode_batch(&self, _latents: &[Latent]) -> Result<Vec<Image>> {
        match self.never {}
    }
    pub fn encode(&self, _img: &Image) -> Result<Latent> {
        match self.never {}
    }
    pub fn encode_batch(&self, _images: &[Image]) -> Result<Vec<Latent>> {
        match self.never {}
    }
    pub fn factor(&self) -> Option<u32> {
        match self.never {}
    }
    pub fn encode_map(&self, _img: &Image) -> Result<LatentMap> {
        match self.never {}
    }
    pub fn decode_map(&self, _map: &LatentMap) -> Result<Image> {
        match self.never {}
    }
    pub fn reconstruct(&self, _img: &Image) -> Result<Image> {
        match self.never {}
    }
    pub fn textures(&self) -> &[String] {
        match self.never {}
    }
    pub fn sample_texture(&self, _opts: &TextureSample, _mix: &TextureMix) -> Result<Image> {
        match self.never {}
    }
}

pub fn clear_model_cache() {}

pub fn model_names() -> Vec<&'static str> {
    Vec::new()
}

pub fn output_paths(out: &Path) -> (PathBuf, PathBuf) {
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let dir = out.parent().unwrap_or(Path::new(""));
    (dir.join(format!("{stem}.ckpt.safetensors")), dir.join(format!("{stem}.samples.png")))
}

pub fn train_vae(_opts: &TrainOptions, _progress: &mut dyn FnMut(&Progress)) -> Result<(Model, Metrics)> {
    Err(Error::Disabled("ml"))
}

pub fn train_gan(_opts: &TrainOptions, _progress: &mut dyn FnMut(&Progress)) -> Result<(Model, Metrics)> {
    Err(Error::Disabled("ml"))
}

pub fn train_texture(
    _s: &TextureSettings,
    _cancel: Option<&AtomicBool>,
    _progress: &mut dyn FnMut(&Progress),
) -> Result<(Model, Metrics)> {
    Err(Error::Disabled("ml"))
}

pub fn train_spatial_vae(
    _opts: &SpatialTrainOptions,
    _progress: &mut dyn FnMut(&Progress),
) -> Result<(Model, Metrics)> {
    Err(Error::Disabled("ml"))
}
