//! The plain-data side of texture models (`kind = "texture_gan"`): training settings and
//! sampling options. Compiles with or without the `ml` feature, like `options.rs`.
//!
//! Owns: [`TextureSettings`] (every option of `train_texture` / `kiln train texture`, with its
//! default, range and doc), [`TextureSample`] (the options of `m.sample(#{ ... })` for a texture
//! model) and [`TextureMix`] (which exemplar, or which blend of exemplars, a sample draws).
//!
//! Why steps and not epochs: a texture model trains on random crops of one or a few large
//! exemplars, so there is no natural epoch; `steps` (and optionally `minutes`, a wall-clock cap
//! for "give me the best you can in ten minutes") say how long to train.

use std::path::PathBuf;

use super::options::{Data, Device};
use crate::error::{Error, Result};

/// The generator's stride: noise cells per output pixel side. Sample sizes and the training
/// patch are multiples of it.
pub const STRIDE: u32 = 8;

/// The LeCam weight of a run that does not set `lecam` and has a discriminator: measured on the
/// anchor bench's exemplars at `lr` 5e-4 (see the option's doc).
pub const DEFAULT_LECAM: f64 = 0.3;

crate::option_set! {
    /// Every option of a texture-model training run (`train_texture(#{ ... })`,
    /// `kiln train texture`).
    pub struct TextureSettings for "train_texture" {
        /// The exemplars: an image file, a folder of images (searched recursively; each image is
        /// one texture of the model), or an array of images. Required.
        data: Option<Data> = None;
        /// The model file to write (`.safetensors`); `NAME.ckpt.safetensors` (the resumable
        /// checkpoint) and `NAME.samples.png` (a labelled sample grid) go next to it.
        out: Option<PathBuf> = None;
        /// Side of the square crops the networks train on, a multiple of 8. The critics' reach
        /// follows it: what one discriminator logit judges is about 54 pixels at 64, 110 at
        /// 128 and 222 at 256. Use 128 for structure larger than about 50 pixels (bricks, tiles,
        /// planks): at 64 a brick wall came out as disordered mortar, at 128 as courses of
        /// bricks. A step costs about patch² × batch, so pair 128 with `batch` 2 to keep the
        /// step time.
        patch: u32 = 64, range(16, 512);
        /// Optimisation steps (each one discriminator and one generator update).
        steps: usize = 4000, range(1, 1e8);
        /// Stop after this many minutes of wall time even if `steps` are not done (0: no limit).
        /// The model is saved as at any other stop; resume continues the step count.
        minutes: f64 = 0.0, range(0, 1e6);
        /// Crops per step.
        batch: usize = 8, range(1, 1024);
        /// Adam learning rate of the generator (the discriminator's is twice this). 5e-4 learns
        /// faster than 2e-4 (grass, the shipped four-texture model, rust); without `lecam` the
        /// discriminator overpowered the generator on rust and sand at 5e-4 and the samples
        /// collapsed to flat colour within 900 steps, with it (the default) they did not.
        lr: f64 = 5e-4, range(0, 1);
        /// Channels of the generator's finest stage; coarser stages have 2× and 4×. Sampling time
        /// grows with its square.
        width: usize = 24, range(4, 256);
        /// Local noise channels (PSGAN's z_l): what varies from place to place.
        local: usize = 16, range(1, 256);
        /// Global code channels (PSGAN's z_g): one learned code per exemplar; blends mix them.
        global: usize = 8, range(1, 256);
        /// Periodic channels (PSGAN's z_p): sine waves whose direction and period are learned
        /// from the global code, for regular textures (bricks, tiles, planks): 2 is a good start
        /// there. Off by default: on textures with no period (rust, grass, stone) they lay the
        /// texture out in bands across a large sample.
        periodic: usize = 0, range(0, 64);
        /// 3×3 convolutions at 1/8 resolution after the first. Each widens what one output pixel
        /// sees by 16 pixels (8 on each side). With 1, what one pixel sees is about 50 pixels
        /// across and cobblestones came out as small blobs; 4 (about 100 pixels) drew stones of
        /// the exemplar's scale in the same number of steps. Each one adds about 0.05 s to a
        /// 1024² sample and little to a training step (the full-size layers dominate).
        depth: usize = 4, range(1, 16);
        /// Add per-pixel noise at 1/4 and 1/2 resolution, scaled per channel by learned weights
        /// that start at zero (StyleGAN's noise inputs). With noise only at 1/8, all fine
        /// randomness comes through the generator's 8× upsampling, and speckled stone (granite)
        /// came out as blocks on an 8-pixel grid; with it, the same 2,300 steps drew mottled
        /// stone without the grid (texture distance 0.47 → 0.27), and grass was unchanged. It
        /// adds under a tenth to a sample's time. Off by default until more textures are measured.
        detail_noise: bool = false;
        /// With `detail_noise`, let the generator decide per pixel how much of it to take: a
        /// learned 1×1 convolution of each stage's features scales the noise by 0 to 2 (1 at the
        /// start, so it starts as the ungated generator). The noise's own gains are per channel,
        /// the same everywhere, so textures with both grain and flat regions (terrain's rock and
        /// sea, clouds and sky, marble's veins and white) got grain everywhere. Measured with the
        /// large-layout recipe (`patch` 256, `batch` 1, `coarse` 8, `critic_scales` 3,
        /// `bilinear_upsample`, `detail_noise`), 1,150 steps (about ten minutes), against the
        /// same run without the gate: the flat regions do come out cleaner (terrain's sea,
        /// clouds' sky, marble's white), but none of the three got closer to usable. Texture
        /// distance at 805, 1,035 and 1,150 steps: terrain 0.19, 0.20, 0.30 (ungated 0.14, 0.15,
        /// 0.14: the same blobby land, with snow smeared along coasts), clouds 0.18, 0.25, 0.26
        /// (ungated 0.18, 0.24, 0.32: fuzzy elongated blobs either way), marble 0.000 either way;
        /// with nearest-neighbour upsampling, clouds 0.33 (ungated 0.31). So it is off by
        /// default. It adds two 1×1 convolutions: a patch-64 training step takes 1.00× to 1.11×
        /// the ungated one (three runs, 177/177, 191/213 and 173/191 ms), a 1024² sample the
        /// same (746/767 and 778/779 ms; `cargo bench --bench model -- texture/.*_detail`).
        /// Needs `detail_noise`.
        detail_gate: bool = false;
        /// Channels of smooth coarse noise, with cells of 16, 32, 64 and 128 pixels in turn, read
        /// beside the local noise: randomness for structure larger than what one output pixel
        /// sees (about 100 pixels), such as veins, continents or cloud clusters. Measured with 8
        /// at patch 64 (2,300 steps, against the same run without): marble drew long connected
        /// veins where without it drew short dashes; stone tiles (patch 128) came out as
        /// irregular flagstones (texture distance 0.59) instead of slanted slabs (1.76); terrain
        /// drew larger islands at 1,100 steps (0.35 against 0.43) and was alike at 2,300; clouds
        /// gathered into chains of puffs, same distance. With the deeper patch-128 recipe
        /// (`depth` 8) terrain got worse (1.41 against 0.24: a few smooth islands). None of
        /// these is asset quality at ten minutes, so it is off by default. It adds no measurable
        /// time to a sample. 0: none.
        coarse: usize = 0, range(0, 64);
        /// Patch critics, each judging the crop at half the size of the one before (pix2pixHD's
        /// multi-scale discriminator): the first at full size with a reach of about 54 pixels,
        /// the next on the crop pooled by 2, and the last with enough levels to judge the whole
        /// patch. With 1 (the default) one critic judges regions that grow with `patch` (222
        /// pixels at 256), so at large patches none judges fine detail. Meant for `patch` 256
        /// (`batch` 1) and layout larger than 100 pixels: there, with `coarse` 8 and 1,150 steps
        /// (about ten minutes), one critic drew terrain's land and sea at the exemplar's scale
        /// but blurred, and its clouds run collapsed to flat colour by step 500; with 3, clouds
        /// trained stably (texture distance 0.09, against 0.48 for the patch-64 recipe at twice
        /// the steps) and marble drew long connected veins. A step costs about 7% more with 3.
        /// Not measured at patch 64 or 128, where the crop, not the critic, limits what is seen.
        critic_scales: usize = 1, range(1, 4);
        /// Upsample bilinearly (PyTorch's `mode="bilinear"`, StyleGAN's `[1, 3, 3, 1]` filter)
        /// between the generator's stages instead of by nearest neighbour. Nearest neighbour starts
        /// every stage from 2×2 blocks that the convolutions must learn to smooth, and after a
        /// short training the 1/8 noise grid still shows as 8-pixel stair steps and stripes (clouds
        /// and terrain at patch 256). Bilinear removes the grid but smooths everything, so pair it
        /// with `detail_noise` for the fine grain. Measured with the large-layout recipe (`patch`
        /// 256, `batch` 1, `coarse` 8, `critic_scales` 3) against the same run with nearest
        /// neighbour, texture distance at 1,150 and 2,300 steps (about 10 and 20 minutes): terrain
        /// with `detail_noise` 0.136 and 0.122 (nearest, with or without it: 0.25 to 0.36),
        /// continents with beaches, rock and snow and no grid, the closest terrain yet; clouds with
        /// `detail_noise` 0.32 and 0.36 (nearest 0.092 and 0.057), fuzzy grainy blobs; bilinear
        /// alone smooth, glossy shapes without detail (clouds 0.14, terrain 0.22 at 1,150). Stone
        /// tiles (the same without `coarse`, `periodic` 2, with `detail_noise`, 1,150 steps) drew
        /// square tiles on a straight grid with grainy stone, where nearest neighbour drew a basket
        /// weave of joint bars. At patch 64, speckled granite with `detail_noise` got worse (0.32
        /// against 0.26 at 1,100 steps, regular blobs with hatching). So it is off by default and
        /// meant for terrain and tiles. Sampling takes the same time; a 1024² sample holds about
        /// 170 MB more (the upsampled maps are tensors of their own). A plain sample's margin grows
        /// by one noise cell.
        bilinear_upsample: bool = false;
        /// Weight of the texture-statistics loss (sliced Wasserstein distance between the feature
        /// distributions of a fixed random-filter network) beside the adversarial loss. It gets a
        /// recognisable texture within minutes; the adversarial loss sharpens it. 0 trains a
        /// plain PSGAN.
        style: f64 = 1.0, range(0, 1e4);
        /// Weight of the adversarial loss (the patch discriminator). 0 trains by texture
        /// statistics alone, a feed-forward texture network (Ulyanov et al. 2016): smooth and
        /// fast to learn, but softer edges. At 1 the discriminator pulled colours away from the
        /// exemplar's within a few minutes; 0.2 keeps them and still sharpens edges.
        adversarial: f64 = 0.2, range(0, 1e4);
        /// Weight of the LeCam regulariser on the discriminator (Tseng et al. 2021): it pulls the
        /// discriminator's outputs on real crops towards the moving average of its outputs on
        /// fakes and back, so that with one exemplar it cannot memorise the crops and overpower
        /// the generator (its loss near 0, the samples collapsing). Measured on rust at `lr`
        /// 5e-4, where without it the samples turned to flat grey by step 900: with 0.3 the
        /// discriminator's loss stayed between 1.2 and 1.7 and the texture distance between
        /// 0.014 and 0.067 from step 300 to 2,300 (without: 46 at step 400), and at 2,300 steps
        /// it drew the exemplar's share of bare metal better than the plain run at 2e-4 (0.050
        /// against 0.62). Sand at 5e-4 collapsed by step 500 without it (6.7) and not with it
        /// (0.066). On the anchor bench's other exemplars (`bench/texture/`), at the same step:
        /// as good or better on grass, lava, marble, clouds, photo fur and patch-128 bricks
        /// (0.020 against 0.027, more regular courses); water caustics a little worse by the
        /// metric (0.051 against 0.037 at 1,100 steps, smaller cells); patch-128 stone tiles
        /// worse (slanted slabs, 1.76 against 0.63). Absent: 0.3 while the adversarial loss is
        /// on, 0 without it (there is no discriminator then).
        lecam: Option<f64> = None, range(0, 1e4);
        /// Seed for weights, crops and noise: the same seed gives the same model. Absent: the
        /// run's seed in a script, 0 from `kiln train`.
        seed: Option<u64> = None;
        /// Write the labelled sample grid every this many steps (0: only at the end).
        sample_every: usize = 500;
        /// Write the resumable checkpoint every this many steps (0: only at the end or on stop).
        checkpoint_every: usize = 500;
        /// Also keep a copy of the model every this many steps as `NAME.stepN.safetensors`
        /// (0: none): for comparing a run at several lengths.
        keep_every: usize = 0;
        /// Continue from the checkpoint next to `out`, if there is one.
        resume: bool = false;
        /// Where tensors live (`"cuda"` needs a build with the `cuda` feature).
        device: Device = Device::Cpu;
    }
}

impl TextureSettings {
    /// The seed the run uses: the given one, else 0.
    pub fn seed(&self) -> u64 {
        self.seed.unwrap_or(0)
    }

    /// The LeCam weight the run uses: the given one, else 0.3 with a discriminator and 0
    /// without one.
    pub fn lecam_weight(&self) -> f64 {
        self.lecam.unwrap_or(if self.adversarial > 0.0 { DEFAULT_LECAM } else { 0.0 })
    }

    /// Checks what the option set cannot: `data` is given, `patch` is a multiple of 8, `lr` is
    /// above 0, `lecam` has a discriminator to act on, `detail_gate` has detail noise to gate,
    /// `resume` has an `out`.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(Error::param("train_texture", msg));
        if self.data.is_none() {
            return bad("option 'data' is required: an image, a folder of images or an array of images".into());
        }
        if !self.patch.is_multiple_of(STRIDE) || !(16..=512).contains(&self.patch) {
            return bad(format!("option 'patch' must be a multiple of {STRIDE} from 16 to 512, got {}", self.patch));
        }
        if !(self.lr > 0.0 && self.lr < 1.0) {
            return bad(format!("option 'lr' must be above 0 and below 1, got {}", self.lr));
        }
        let weights = [self.style, self.adversarial, self.minutes, self.lecam_weight()];
        if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
            return bad(
                "options 'style', 'adversarial', 'minutes' and 'lecam' must be finite numbers, 0 or more".into()
            );
        }
        if self.style == 0.0 && self.adversarial == 0.0 {
            return bad("options 'style' and 'adversarial' are both 0: nothing to train for".into());
        }
        if self.lecam.is_some_and(|l| l > 0.0) && self.adversarial == 0.0 {
            // with no adversarial loss there is no discriminator for it to regularise
            return bad("option 'lecam' regularises the discriminator, which 'adversarial' 0 turns off".into());
        }
        if self.detail_gate && !self.detail_noise {
            return bad("option 'detail_gate' gates the detail noise: it needs 'detail_noise' too".into());
        }
        if self.resume && self.out.is_none() {
            return bad("option 'resume' needs 'out': the checkpoint is read from next to it".into());
        }
        Ok(())
    }
}

crate::option_set! {
    /// The options of `m.sample(#{ ... })` for a texture model.
    pub struct TextureSample for "sample" {
        /// Width in pixels, a multiple of 8.
        width: u32 = 512, range(8, 32768);
        /// Height in pixels, a multiple of 8.
        height: u32 = 512, range(8, 32768);
        /// Seed of the noise: the same seed gives the same image at any thread count. Absent: the
        /// run's seed.
        seed: Option<u64> = None;
        /// Wrap the noise and every convolution round the edges so the image tiles seamlessly
        /// (periodic waves snap to a whole number of periods across the image).
        tileable: bool = false;
    }
}

impl TextureSample {
    /// Checks the sizes: multiples of [`STRIDE`].
    pub fn validate(&self) -> Result<()> {
        for (key, v) in [("width", self.width), ("height", self.height)] {
            if !v.is_multiple_of(STRIDE) || v == 0 {
                return Err(Error::param(
                    "sample",
                    format!(
                        "option '{key}' must be a multiple of {STRIDE} (the generator's stride), got {v}; try {}",
                        (v / STRIDE).max(1) * STRIDE
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Which texture a sample draws: one exemplar, a weighted mix of the exemplars' global codes, or
/// a spatial blend between two mixes driven by a map.
#[derive(Clone, Debug, PartialEq)]
pub enum TextureMix {
    /// Exemplar `i` (0 for a one-exemplar model).
    One(usize),
    /// Weights over the exemplars (one per exemplar; they are used as given, not normalised, so
    /// latent arithmetic such as `[1, -0.5, 0.5]` is possible).
    Weights(Vec<f32>),
    /// `a` where `t` is 0, `b` where it is 1, linear between. `t` is a `width × height` map
    /// (row-major, one value per pixel; averaged over each 8×8 cell of the noise).
    Blend { a: Vec<f32>, b: Vec<f32>, t: Vec<f32> },
}

impl Default for TextureMix {
    fn default() -> TextureMix {
        TextureMix::One(0)
    }
}
