//! ROOM 3: learned models with candle (feature `ml`): a convolutional VAE and a GAN for small
//! RGB images, trained, sampled, encoded, decoded and interpolated (DESIGN.md §4 "Models").
//!
//! The room never sees Rhai; `script/api/model.rs` translates it. Without the `ml` feature,
//! `disabled.rs` keeps the same API and every call returns `Error::Disabled("ml")`
//! (ripgrep's enabled/disabled pattern).
//!
//! Tour: `options.rs` and `latent.rs` are plain data and `progress.rs` reads a run's progress
//! reports for a person (all three always compiled); `enabled.rs` is the [`Model`] handle;
//! `vae.rs` and `gan.rs` the architectures built from `nn.rs`; `conv_gemm.rs` the im2col + gemm
//! convolution kernels, `ops.rs` and `bilinear.rs` fused element-wise ops; `train.rs`,
//! `dataset.rs` and `metrics.rs` training; `prior.rs` the Gaussian mixture a VAE samples from; `io.rs` the safetensors files;
//! `tensor.rs` turns images into tensors and back (`dataset.rs` and `train.rs` also read and
//! write image files through `image::io`); `stream.rs` numbers the streams of the crate's seeded
//! `Rng` that make every run reproducible (candle's CPU RNG cannot be seeded).

mod latent;
mod latent_map;
mod options;
pub mod progress;
mod quality;
mod spatial;
mod texture_options;

#[cfg(feature = "ml")]
mod arch;
#[cfg(feature = "ml")]
mod bilinear;
#[cfg(feature = "ml")]
mod conv_gemm;
#[cfg(feature = "ml")]
mod dataset;
#[cfg(feature = "ml")]
mod enabled;
#[cfg(feature = "ml")]
mod gan;
#[cfg(feature = "ml")]
mod io;
#[cfg(feature = "ml")]
mod metrics;
#[cfg(feature = "ml")]
mod nn;
#[cfg(feature = "ml")]
mod ops;
#[cfg(feature = "ml")]
mod prior;
#[cfg(feature = "ml")]
mod stdlib;
#[cfg(feature = "ml")]
mod stream;
#[cfg(feature = "ml")]
mod tensor;
#[cfg(feature = "ml")]
mod texture;
#[cfg(feature = "ml")]
mod train;
#[cfg(feature = "ml")]
mod vae;

#[cfg(not(feature = "ml"))]
mod disabled;

#[cfg(all(test, feature = "ml"))]
mod tests;

pub use latent::Latent;
pub use latent_map::LatentMap;
pub use options::{
    Data, Device, Event, GanTrainSettings, Kind, Metrics, Progress, TrainOptions, TrainSettings,
    DEFAULT_PRIOR_COMPONENTS,
};
pub use quality::{psnr, ssim};
pub use spatial::settings::{SpatialTrainOptions, SpatialTrainSettings};
pub use texture_options::{TextureMix, TextureSample, TextureSettings};

#[cfg(feature = "ml")]
pub use enabled::{clear_model_cache, Model};
#[cfg(feature = "ml")]
pub use spatial::train::train_spatial_vae;
#[cfg(feature = "ml")]
pub use stdlib::{model_bytes as shipped_model_bytes, model_names};
#[cfg(feature = "ml")]
pub use texture::train_texture;
#[cfg(feature = "ml")]
pub use train::{output_paths, train_gan, train_vae};

#[cfg(not(feature = "ml"))]
pub use disabled::{
    clear_model_cache, model_names, output_paths, train_gan, train_spatial_vae, train_texture, train_vae, Model,
};

/// Hooks for `benches/model.rs`: not part of the API.
#[cfg(feature = "ml")]
#[doc(hidden)]
pub mod bench {
    pub use super::conv_gemm::{conv2d, use_candle_conv};
    pub use super::texture::TextureBenchStep;
    pub use super::train::BenchStep;
}

/// candle errors are kiln's fault once inputs are validated.
#[cfg(feature = "ml")]
pub(crate) fn ml_err(e: candle_core::Error) -> crate::error::Error {
    crate::error::Error::Internal(format!("model: {e}"))
}
