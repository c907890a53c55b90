//! Every option of a spatial VAE training run (`train_spatial_vae(#{ ... })` and
//! `kiln train spatial-vae`), with its default, range and doc line. Plain data: compiles with or
//! without the `ml` feature.
//!
//! Owns: [`SpatialTrainSettings`], its checks and the learning-rate schedule, and
//! [`SpatialTrainOptions`].

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::super::options::{Data, Device};
use crate::error::{Error, Result};
use crate::options::{check_range, At};

/// The op errors name.
pub const OP: &str = "train_spatial_vae";

const PATCH: (f64, f64) = (16.0, 512.0);
const STEPS: (f64, f64) = (1.0, 1e7);
const BATCH: (f64, f64) = (1.0, 1024.0);
const LR: (f64, f64) = (0.0, 1.0);
const FACTOR: (f64, f64) = (4.0, 8.0);
const CHANNELS: (f64, f64) = (1.0, 64.0);
const WIDTH: (f64, f64) = (1.0, 128.0);
const BLOCKS: (f64, f64) = (0.0, 8.0);
const WEIGHT: (f64, f64) = (0.0, 100.0);

crate::option_set! {
    /// A spatial VAE's training run: random `patch`² crops of the training images, `steps`
    /// Adam steps of `batch` crops, the learning rate decayed along a cosine to 1/20 of `lr`.
    pub struct SpatialTrainSettings for "train_spatial_vae" {
        /// The training images: a folder (searched recursively; images of any size, each at
        /// least `patch`² pixels), one image file, or an array of images. Required.
        data: Option<Data> = None;
        /// The model file to write (`.safetensors`); `NAME.ckpt.safetensors` (the resumable
        /// checkpoint) and `NAME.samples.png` (crops above their reconstructions) go next to it.
        out: Option<PathBuf> = None;
        /// Side of the square training crops, a multiple of 8.
        patch: usize = 64, range(PATCH.0, PATCH.1);
        /// Optimisation steps.
        steps: usize = 2400, range(STEPS.0, STEPS.1);
        /// Crops per step.
        batch: usize = 8, range(BATCH.0, BATCH.1);
        /// Adam learning rate at the start, above 0 and below 1.
        lr: f64 = 1.5e-3, range(LR.0, LR.1);
        /// Seed for weights, crops and noise: the same seed gives the same model. Absent: the
        /// run's seed in a script, 0 from Rust and `kiln train`.
        seed: Option<u64> = None;
        /// Image pixels per latent pixel along each side: 4 or 8.
        factor: u32 = 4, range(FACTOR.0, FACTOR.1);
        /// Channels of the latent map.
        channels: usize = 8, range(CHANNELS.0, CHANNELS.1);
        /// Channels of the full-resolution convolutions (doubled per stage down, up to 4×).
        width: usize = 24, range(WIDTH.0, WIDTH.1);
        /// Residual blocks at latent resolution in the encoder and in the decoder.
        blocks: usize = 1, range(BLOCKS.0, BLOCKS.1);
        /// Weight of the edge term (L1 distance of neighbour differences), which keeps detail
        /// sharp.
        edge: f64 = 0.5, range(WEIGHT.0, WEIGHT.1);
        /// Weight of the KL term per latent value; small, so the latent keeps detail.
        kl: f64 = 1e-4, range(WEIGHT.0, WEIGHT.1);
        /// Write the sample grid every this many steps (0: only at the end).
        sample_every: usize = 500;
        /// Write the resumable checkpoint every this many steps (0: only at the end or on cancel).
        checkpoint_every: usize = 250;
        /// Continue from the checkpoint next to `out`, if there is one.
        resume: bool = false;
        /// Flip crops left–right at random.
        flip: bool = true;
        /// Where tensors live (`"cuda"` needs a build with the `cuda` feature).
        device: Device = Device::Cpu;
    }
}

/// Options for [`crate::train_spatial_vae`]: the settings and a cancel flag.
#[derive(Clone, Debug, Default)]
pub struct SpatialTrainOptions {
    /// Every plain option, with its default (see [`SpatialTrainSettings`]).
    pub settings: SpatialTrainSettings,
    /// Set it to true (for example from a Ctrl-C handler) to save a resumable checkpoint and stop.
    pub cancel: Option<Arc<AtomicBool>>,
}

impl SpatialTrainSettings {
    /// The seed the run uses: the given one, else 0.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(0)
    }

    /// Checks every setting (the training function calls it before any work): the ranges the
    /// option set checks on reading, and on top: `data` is required, `patch` is a multiple of 8,
    /// `factor` is 4 or 8, `lr` is above 0 and below 1, and `resume` needs `out`.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::param(OP, msg));
        if self.data.is_none() {
            return bad("option 'data' is required: a folder, an image file or an array of images".into());
        }
        let range = |key: &str, value: f64, (lo, hi): (f64, f64)| check_range(At { op: OP, key }, &value, lo, hi);
        range("patch", self.patch as f64, PATCH)?;
        range("steps", self.steps as f64, STEPS)?;
        range("batch", self.batch as f64, BATCH)?;
        range("factor", self.factor as f64, FACTOR)?;
        range("channels", self.channels as f64, CHANNELS)?;
        range("width", self.width as f64, WIDTH)?;
        range("blocks", self.blocks as f64, BLOCKS)?;
        range("edge", self.edge, WEIGHT)?;
        range("kl", self.kl, WEIGHT)?;
        if !self.patch.is_multiple_of(8) {
            return bad(format!("option 'patch' must be a multiple of 8, got {}", self.patch));
        }
        if self.factor != 4 && self.factor != 8 {
            return bad(format!("option 'factor' must be 4 or 8, got {}", self.factor));
        }
        if !(self.lr > LR.0 && self.lr < LR.1) {
            return bad(format!("option 'lr' must be above 0 and below 1, got {}", self.lr));
        }
        for (key, x) in [("edge", self.edge), ("kl", self.kl)] {
            if !x.is_finite() {
                return bad(format!("option '{key}' must be a finite number, got {x}"));
            }
        }
        if self.resume && self.out.is_none() {
            return bad("option 'resume' needs 'out': the checkpoint is read from next to it".into());
        }
        Ok(())
    }

    /// The learning rate of step `step` (0-based): a cosine from `lr` down to `lr` / 20 at the
    /// last step, so the last steps fine-tune (what most of the PSNR of a short run comes from).
    pub fn lr_at(&self, step: u64) -> f64 {
        let t = (step as f64 / self.steps.max(1) as f64).min(1.0);
        self.lr * (0.05 + 0.95 * 0.5 * (1.0 + (std::f64::consts::PI * t).cos()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{OptionSet, OptionValue};

    #[test]
    fn settings_are_read_and_checked() {
        let s = SpatialTrainSettings::from_pairs([
            ("patch", &OptionValue::Int(32)),
            ("data", &OptionValue::Text("d".into())),
        ])
        .unwrap();
        assert_eq!((s.patch, s.steps, s.factor, s.width), (32, 2400, 4, 24));
        assert!(s.validate().is_ok());
        let e = SpatialTrainSettings::from_pairs([("pach", &OptionValue::Int(32))]).unwrap_err().to_string();
        assert!(e.starts_with("train_spatial_vae: unknown option 'pach' (did you mean 'patch'?)"), "{e}");
        let err = |s: SpatialTrainSettings| s.validate().unwrap_err().to_string();
        assert_eq!(
            err(SpatialTrainSettings { patch: 36, ..s.clone() }),
            "train_spatial_vae: option 'patch' must be a multiple of 8, got 36"
        );
        assert_eq!(
            err(SpatialTrainSettings { factor: 5, ..s.clone() }),
            "train_spatial_vae: option 'factor' must be 4 or 8, got 5"
        );
        assert!(err(SpatialTrainSettings::default()).contains("'data' is required"));
        assert!(err(SpatialTrainSettings { resume: true, ..s.clone() }).contains("needs 'out'"));
        assert!(err(SpatialTrainSettings { kl: f64::NAN, ..s.clone() }).contains("kl"));
        // the schedule: lr at the start, lr / 20 at the end, half-way in between at the middle
        let s = SpatialTrainSettings { steps: 100, lr: 0.02, ..s };
        assert!((s.lr_at(0) - 0.02).abs() < 1e-12 && (s.lr_at(100) - 0.001).abs() < 1e-12);
        assert!((s.lr_at(50) - 0.0105).abs() < 1e-12);
    }
}
