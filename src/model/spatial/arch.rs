//! The hyper-parameters a spatial VAE file records, and the channel plan they imply.
//!
//! Owns: [`SpatialArch`], its metadata keys and their checks. Must not know about tensors.

use std::collections::HashMap;

use super::super::arch::Arch;
use super::super::options::Kind;
use crate::error::{Error, Result};

/// What a spatial VAE file must say for its tensors to make sense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpatialArch {
    /// Image pixels per latent pixel along each side: 4 or 8.
    pub factor: u32,
    /// Latent channels (c).
    pub latent: usize,
    /// Channels of the full-resolution convolutions; each ×2 stage down doubles them, up to 4×.
    pub width: usize,
    /// Residual blocks at latent resolution, in the encoder and again in the decoder.
    pub blocks: usize,
}

/// Image sides must be multiples of this for `decode` (and are padded to it for `encode`).
pub const MULTIPLE: u32 = 8;

impl SpatialArch {
    /// ×2 stages between the image and the latent map.
    pub fn stages(&self) -> usize {
        self.factor.trailing_zeros() as usize
    }

    /// Channels at each resolution, full size first, latent resolution last: `stages + 1`.
    pub fn channels(&self) -> Vec<usize> {
        (0..=self.stages()).map(|i| self.width << i.min(2)).collect()
    }

    /// Channels of the residual blocks (the deepest stage).
    pub fn top(&self) -> usize {
        *self.channels().last().expect("at least one stage")
    }

    /// Checks the ranges every file and every training run must respect.
    pub fn check(&self) -> std::result::Result<(), String> {
        if self.factor != 4 && self.factor != 8 {
            return Err(format!("factor must be 4 or 8, got {}", self.factor));
        }
        if !(1..=64).contains(&self.latent) {
            return Err(format!("latent channels must be 1 to 64, got {}", self.latent));
        }
        if !(1..=128).contains(&self.width) {
            return Err(format!("width must be 1 to 128, got {}", self.width));
        }
        if self.blocks > 8 {
            return Err(format!("blocks must be 0 to 8, got {}", self.blocks));
        }
        Ok(())
    }

    /// The 32²-model [`Arch`] the shared model handle keeps beside it: the kind, `size` =
    /// [`MULTIPLE`] (the granularity of sizes), `latent` = latent channels, `width`.
    pub fn handle_arch(&self) -> Arch {
        Arch { kind: Kind::SpatialVae, size: MULTIPLE, latent: self.latent, width: self.width }
    }

    /// The metadata entries describing this architecture.
    pub fn metadata(&self) -> HashMap<String, String> {
        HashMap::from([
            ("kind".into(), Kind::SpatialVae.name().into()),
            ("channels".into(), "3".into()),
            ("factor".into(), self.factor.to_string()),
            ("latent_channels".into(), self.latent.to_string()),
            ("width".into(), self.width.to_string()),
            ("blocks".into(), self.blocks.to_string()),
            ("channel_plan".into(), self.channels().iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")),
        ])
    }

    /// Reads and checks the architecture from a file's metadata (`path` names it in errors).
    pub fn from_metadata(meta: &HashMap<String, String>, path: &std::path::Path) -> Result<SpatialArch> {
        let bad = |m: String| Error::Model { path: path.to_path_buf(), message: m };
        let num = |key: &str| -> Result<u64> {
            let text = meta.get(key).ok_or_else(|| bad(format!("metadata lacks `{key}`")))?;
            text.parse().map_err(|_| bad(format!("metadata `{key}` is `{text}`, not a number")))
        };
        if num("channels")? != 3 {
            return Err(bad("kiln models are RGB (3 channels)".into()));
        }
        let arch = SpatialArch {
            factor: num("factor")?.min(u32::MAX as u64) as u32,
            latent: num("latent_channels")? as usize,
            width: num("width")? as usize,
            blocks: num("blocks")? as usize,
        };
        arch.check().map_err(bad)?;
        let plan = meta.get("channel_plan").ok_or_else(|| bad("metadata lacks `channel_plan`".into()))?;
        let want = &arch.metadata()["channel_plan"];
        if plan != want {
            return Err(bad(format!(
                "`channel_plan` is {plan}, but factor {} and width {} mean {want}",
                arch.factor, arch.width
            )));
        }
        Ok(arch)
    }

    /// Floats a forward pass holds at its peak per image pixel (`training`: also what the
    /// backward pass keeps): every layer's output counted a few times over (convolution output,
    /// bias, activation), for the memory budget (`crate::memory`).
    pub fn floats_per_pixel(&self, training: bool) -> f64 {
        let ch = self.channels();
        let mut per_pixel = 3.0 * 2.0; // input and output images
        for (i, c) in ch.iter().enumerate() {
            let area = 1.0 / (1u64 << (2 * i)) as f64;
            // encoder and decoder stage outputs; the deepest stage also has the residual blocks
            let layers = if i == ch.len() - 1 { 2.0 + 4.0 * self.blocks as f64 } else { 2.0 };
            per_pixel += *c as f64 * area * layers;
        }
        per_pixel * if training { 6.0 } else { 2.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_round_trips_and_is_checked() {
        let a = SpatialArch { factor: 4, latent: 8, width: 32, blocks: 1 };
        assert_eq!(a.channels(), vec![32, 64, 128]);
        assert_eq!(SpatialArch { factor: 8, ..a }.channels(), vec![32, 64, 128, 128]);
        let p = std::path::Path::new("m.safetensors");
        assert_eq!(SpatialArch::from_metadata(&a.metadata(), p).unwrap(), a);
        let mut meta = a.metadata();
        meta.insert("factor".into(), "2".into());
        let e = SpatialArch::from_metadata(&meta, p).unwrap_err().to_string();
        assert_eq!(e, "m.safetensors: bad model file: factor must be 4 or 8, got 2");
        meta.insert("factor".into(), "8".into());
        let e = SpatialArch::from_metadata(&meta, p).unwrap_err().to_string();
        assert!(e.contains("`channel_plan` is 32,64,128, but factor 8 and width 32 mean 32,64,128,128"), "{e}");
        meta.remove("blocks");
        assert!(SpatialArch::from_metadata(&meta, p).unwrap_err().to_string().contains("lacks `blocks`"));
    }
}
