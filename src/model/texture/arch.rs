//! The hyper-parameters a texture model file records, and what they imply.
//!
//! Owns: [`TextureArch`] and its metadata round trip. Must not know about training.

use std::collections::HashMap;

use super::super::io::{model_err, File};
use super::super::options::Kind;
use super::super::texture_options::STRIDE;
use crate::error::Result;

/// What a texture model file must say for its tensors to make sense.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextureArch {
    /// Channels of the generator's finest stage (the coarser ones have 2× and 4×).
    pub width: usize,
    /// Local noise channels.
    pub local: usize,
    /// Global code channels.
    pub global: usize,
    /// Periodic channels.
    pub periodic: usize,
    /// 3×3 convolutions at 1/8 after the input one (`g.mid`, `g.mid1`, ...): each widens the
    /// generator's reach by 8 pixels on every side.
    pub depth: usize,
    /// Per-pixel noise added at 1/4 and 1/2 resolution (StyleGAN's noise inputs), scaled per
    /// channel by `g.up0.noise` and `g.up1.noise`. Files from before it existed have none.
    pub detail_noise: bool,
    /// With detail noise, a learned per-pixel gate on it: at each of the two stages a 1×1
    /// convolution of the stage's features (`g.up0.gate`, `g.up1.gate`) gives a map `g`, and
    /// the noise is scaled by `1 + tanh(g)` (0 to 2, 1 at the start) before its per-channel
    /// gains, so the generator can put grain on rock and keep it off sky and sea. Files from
    /// before it existed have none.
    pub detail_gate: bool,
    /// Channels of smooth coarse noise with cells of 16 to 128 pixels ([`super::coarse`]),
    /// read beside the local noise. Files from before it existed have none.
    pub coarse: usize,
    /// Patch critics during training, each judging the crop at half the size of the one before
    /// ([`TextureArch::critic_levels_at`]). Training state, not part of the generator: recorded
    /// so that a resumed run has the same critics. Files from before it existed have one.
    pub critic_scales: usize,
    /// Bilinear (rather than nearest-neighbour) 2× upsampling between the generator's stages
    /// ([`crate::model::bilinear`]). Files from before it existed upsample by nearest neighbour.
    pub bilinear_upsample: bool,
    /// The exemplars' names, in label order (at least one).
    pub textures: Vec<String>,
    /// The side of the training crops.
    pub patch: u32,
}

impl TextureArch {
    /// Channels of the noise tensor the generator reads.
    pub fn noise_channels(&self) -> usize {
        self.local + self.global + self.periodic + self.coarse
    }

    /// Noise cells the generator reads on each side of a cell: one per 1/8 convolution, plus
    /// one for the finer stages (half a cell at 1/4, a quarter at 1/2, an eighth at full size),
    /// plus one for bilinear upsampling (each upsampling writes one pixel beyond its source
    /// block: 4 + 2 + 1 pixels, ⅞ of a cell).
    pub fn reach_cells(&self) -> usize {
        self.depth + 2 + usize::from(self.bilinear_upsample)
    }

    /// Names of the 1/8 convolutions after the input one: `g.mid` (as in files from before
    /// `depth` existed), then `g.mid1`, `g.mid2`, ...
    pub fn mid_names(&self) -> Vec<String> {
        (0..self.depth).map(|i| if i == 0 { "g.mid".to_string() } else { format!("g.mid{i}") }).collect()
    }

    /// Stride-2 levels of the patch discriminator: 3 up to a 127-pixel patch, one more per
    /// doubling after that, so its logit map stays 8×8 cells of a patch while what one logit
    /// judges grows from about 54 pixels (patch 64) to 110 (128) and 222 (256). The style loss's
    /// network halves as often plus once ([`super::style::StyleNet::new`]). Why: both critics
    /// saw about 50 pixels whatever the patch, and at patch 128 a brick wall still came out as
    /// disordered mortar; with the reach that follows the patch, the same run (2,300 steps,
    /// batch 2) drew brick courses with joints. Derived from `patch`, so no file records it.
    pub fn critic_levels(&self) -> usize {
        (self.patch.max(64).ilog2() as usize).saturating_sub(3)
    }

    /// Stride-2 levels of critic `i` of [`TextureArch::critic_scales`], which sees the crop
    /// average-pooled `i` times by 2. One critic: [`TextureArch::critic_levels`], as before there
    /// were several. Several: 3 each (about 54 pixels of what it sees, so 54, 108, 216 ... of
    /// the crop), except the coarsest, which gets enough to judge the whole patch as the single
    /// critic does (at patch 256 with 2 critics: 54 and 220 pixels). Why: the single critic of a
    /// 256 patch judges only 222-pixel regions, so no critic looks at fine detail there; the
    /// full-size 3-level critic does, while the pooled one judges the layout at a quarter of
    /// the cost of doing it at full size.
    pub fn critic_levels_at(&self, i: usize) -> usize {
        let coarsest = self.critic_scales.max(1) - 1;
        match i == coarsest {
            true => self.critic_levels().saturating_sub(coarsest).max(3),
            false => 3,
        }
    }

    /// What differs from `other`, one `key: self's → other's` entry per metadata key that
    /// differs, in key order (empty when equal). Read from [`TextureArch::metadata`], so a field
    /// added there is compared here too.
    pub fn differences(&self, other: &TextureArch) -> Vec<String> {
        let (mine, theirs) = (self.metadata(), other.metadata());
        let mut keys: Vec<&String> = mine.keys().collect();
        keys.sort();
        keys.into_iter()
            .filter(|k| mine.get(*k) != theirs.get(*k))
            .map(|k| format!("{k}: {} → {}", mine[k], theirs.get(k).map_or("none", String::as_str)))
            .collect()
    }

    /// Generator channels at 1/8, 1/4 and 1/2 resolution.
    pub fn generator_channels(&self) -> [usize; 3] {
        [4 * self.width, 2 * self.width, self.width]
    }

    /// Bytes a generator pass over `n` images of `w × h` holds at its peak, f32 (the largest
    /// stage's input, its im2col-free output and the next upsample, counted a few times over).
    pub fn activation_bytes(&self, n: usize, w: u32, h: u32, training: bool) -> u64 {
        let [c8, c4, c2] = self.generator_channels();
        let px = w as u64 * h as u64;
        let mut per_image =
            (c8 as u64 * px / 64) * 2 + c4 as u64 * px / 16 + c2 as u64 * px / 4 + 3 * px + c2 as u64 * px;
        if self.detail_noise {
            // the noise images and their scaled copies at 1/4 and 1/2
            per_image += (1 + c4 as u64) * px / 16 + (1 + c2 as u64) * px / 4;
            if self.detail_gate {
                // the gate maps and the gated noise
                per_image += 2 * (px / 16 + px / 4);
            }
        }
        per_image += self.coarse as u64 * px / 64;
        if self.bilinear_upsample {
            // each stage's upsampled input is a tensor of its own, the largest at full size
            per_image += c4 as u64 * px / 16 + c2 as u64 * px;
        }
        let copies = if training { 10 } else { 3 };
        per_image * n as u64 * copies * 4
    }

    /// The metadata entries describing this architecture.
    pub fn metadata(&self) -> HashMap<String, String> {
        HashMap::from([
            ("kind".into(), Kind::TextureGan.name().into()),
            ("channels".into(), "3".into()),
            ("stride".into(), STRIDE.to_string()),
            ("width".into(), self.width.to_string()),
            ("local".into(), self.local.to_string()),
            ("global".into(), self.global.to_string()),
            ("periodic".into(), self.periodic.to_string()),
            ("depth".into(), self.depth.to_string()),
            ("detail_noise".into(), self.detail_noise.to_string()),
            ("detail_gate".into(), self.detail_gate.to_string()),
            ("coarse".into(), self.coarse.to_string()),
            ("critic_scales".into(), self.critic_scales.to_string()),
            ("bilinear_upsample".into(), self.bilinear_upsample.to_string()),
            ("patch".into(), self.patch.to_string()),
            ("textures".into(), serde_json::to_string(&self.textures).unwrap_or_else(|_| "[]".into())),
        ])
    }

    /// Reads and checks the architecture of a `texture_gan` file.
    pub fn from_file(file: &File<'_>) -> Result<TextureArch> {
        let err = |m: String| model_err(file.path(), m);
        let stride: u32 = file.number("stride")?;
        if stride != STRIDE {
            return Err(err(format!("stride {stride}; this kiln's texture generator has stride {STRIDE}")));
        }
        let count = |key: &str, lo: usize, hi: usize| -> Result<usize> {
            let v: usize = file.number(key)?;
            if !(lo..=hi).contains(&v) {
                return Err(err(format!("`{key}` is {v}, out of range {lo}..={hi}")));
            }
            Ok(v)
        };
        let textures: Vec<String> = serde_json::from_str(file.key("textures")?)
            .map_err(|e| err(format!("`textures` is not a JSON array of names ({e})")))?;
        if textures.is_empty() || textures.len() > 4096 {
            return Err(err(format!("{} textures; a texture model has 1 to 4096", textures.len())));
        }
        let patch = count("patch", 16, 512)? as u32;
        let (detail_noise, detail_gate) = (file.flag_or("detail_noise", false)?, file.flag_or("detail_gate", false)?);
        if detail_gate && !detail_noise {
            return Err(err("`detail_gate` is true without `detail_noise`: nothing to gate".into()));
        }
        Ok(TextureArch {
            width: count("width", 4, 256)?,
            local: count("local", 1, 256)?,
            global: count("global", 1, 256)?,
            periodic: count("periodic", 0, 64)?,
            // files from before `depth` existed have the one `g.mid`
            depth: match file.number_or("depth", 1usize)? {
                d @ 1..=16 => d,
                d => return Err(err(format!("`depth` is {d}, out of range 1..=16"))),
            },
            detail_noise,
            detail_gate,
            coarse: match file.number_or("coarse", 0usize)? {
                c @ 0..=64 => c,
                c => return Err(err(format!("`coarse` is {c}, out of range 0..=64"))),
            },
            critic_scales: match file.number_or("critic_scales", 1usize)? {
                c @ 1..=4 => c,
                c => return Err(err(format!("`critic_scales` is {c}, out of range 1..=4"))),
            },
            bilinear_upsample: file.flag_or("bilinear_upsample", false)?,
            textures,
            patch,
        })
    }
}
