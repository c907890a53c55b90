//! # kiln
//!
//! Rhai scripts that generate and edit images. This crate is both the library behind the `kiln`
//! command line and a plain Rust imaging library you can use without any scripting.
//!
//! The source tree is the architecture (DESIGN.md §1), with doors that point one way:
//! `image`, `field` and `model` know nothing of scripts; `script` translates them for Rhai;
//! `live` adds hot reload; `cli` is the command line.
//!
//! ```
//! use kiln::{Color, Image};
//! use kiln::ops::tone;
//!
//! let img = Image::filled(64, 32, Color::parse("orange")?)?;
//! let darker = tone::brightness(&img, 0.5)?;
//! assert_eq!(darker.width(), 64);
//! assert!(darker.get(0, 0).unwrap().r < img.get(0, 0).unwrap().r);
//! # Ok::<(), kiln::Error>(())
//! ```

/// The cancel flag and deadline that long ops check (`cancel::current`, `cancel::scope`).
pub mod cancel;
/// Printing that never panics on a closed pipe.
pub mod console;
mod error;
mod field;
mod image;
mod limits;
/// The process's memory budget: the accountant large buffers reserve their bytes from.
pub mod memory;
mod model;
/// Option sets: the typed `#{ ... }` maps of every op, with their defaults and key lists.
pub mod options;
/// What made an image (script, inputs, params, seed, models) and the cache key derived from it.
pub mod recipe;
mod rng;
/// Self-checking cache entries on disk (the store `kiln serve` and `kiln build` share).
pub mod store;
/// Did-you-mean suggestions for mistyped names.
pub mod suggest;

pub use crate::error::{finite, Error, Result};
/// Field -> Image bridges: `render_rgb`, `displace`, `with_alpha`, `mask` by a field.
pub use crate::field::raster;
pub use crate::field::{
    noise_image, scatter, Bricks, CellOutput, Field, Fractal, FractalKind, Noise, NoiseImageKind, NoiseKind,
    NoiseOptions, Palette, Pattern, Rng, Scatter, VoronoiOutput, WorleyOutput,
};
pub use crate::image::color;
pub use crate::image::io::{self, Compression, Format, SaveOptions};
pub use crate::image::ops;
pub use crate::image::pbr;
pub use crate::image::texture_stats;
pub use crate::image::{Color, Image, PbrSet};
pub use crate::limits::{max_pixels, set_max_pixels, Limits, DEFAULT_MAX_PIXELS, MAX_DIMENSION};
#[cfg(feature = "ml")]
#[doc(hidden)]
pub use crate::model::bench as __model_bench;
/// Time per step, ETA and plain progress lines from a training run's [`TrainProgress`] reports.
pub use crate::model::progress as train_progress;
pub use crate::model::{
    clear_model_cache, model_names, output_paths, train_gan, train_texture, train_vae, Data as TrainData,
    Device as ModelDevice, Event as TrainEvent, GanTrainSettings, Kind as ModelKind, Latent, Metrics as TrainMetrics,
    Model, Progress as TrainProgress, TextureMix, TextureSample, TextureSettings, TrainOptions, TrainSettings,
    DEFAULT_PRIOR_COMPONENTS,
};
/// The spatial VAE (issue 14): latent maps, training, and the quality measures it reports.
pub use crate::model::{psnr, ssim, train_spatial_vae, LatentMap, SpatialTrainOptions, SpatialTrainSettings};

/// The field room's option sets (what `perlin(#{ ... })` and its kin read) and colour fields.
pub use crate::field::{
    Billow, Count, Distribution, Dots, Fbm, FractalOptions, GradientRadial, NoiseImage, Perlin, RgbField, Ridged,
    Simplex, Source, Tiles, Turbulence, Turn, ValueNoise, Voronoi, Worley,
};

#[cfg(feature = "script")]
pub mod script;

#[cfg(feature = "watch")]
pub mod live;

/// `kiln serve`: the REST render service.
#[cfg(feature = "serve")]
pub mod serve;

/// `kiln build`: assets from a manifest, a content-hash cache, parallel jobs and shards.
#[cfg(feature = "build")]
pub mod build;

#[cfg(feature = "cli")]
pub mod cli;
