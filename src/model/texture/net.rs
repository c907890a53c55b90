//! The texture GAN's two networks, after SGAN/PSGAN (Jetchev, Bergmann, Vollgraf 2016, 2017):
//! a fully convolutional generator from a spatial noise tensor to an image 8× its size, and a
//! fully convolutional patch discriminator with one realness logit per cell of 1/8 of the
//! training patch (8×8 pixels at patch 64; it grows with the patch, see
//! [`TextureArch::critic_levels`]).
//!
//! The noise has PSGAN's three parts, one tensor of `local + global + periodic` channels at 1/8
//! of the image size:
//! - **local**: i.i.d. normal per cell, what varies from place to place;
//! - **global**: a learned code per exemplar (`g.embed`, one row per texture), the same in every
//!   cell unless a blend map mixes codes from place to place;
//! - **periodic**: `sin(kx·x + ky·y + φ)` with the wave vector `k = π·tanh(g.wave(global))`
//!   learned from the global code (so each texture has its own periods) and a random phase φ;
//! - **coarse** (kiln's, optional): smooth noise with cells of 16 to 128 pixels, for structure
//!   larger than the generator's reach ([`super::coarse`]).
//!
//! Each of the three 2× stages upsamples by nearest neighbour, or bilinearly with
//! `bilinear_upsample` ([`crate::model::bilinear`]), then convolves. Every generator convolution
//! pads circularly ([`Conv::forward_wrapped`]), and the bilinear upsampling wraps too: on a noise
//! tensor that wraps, the image tiles. Training crops and non-tileable samples never see the
//! wrap (the sampler draws a margin of noise and crops it away), so the same weights serve both.
//!
//! The discriminator is conditional by projection (Miyato & Koyama 2018): its logit map gets
//! the inner product of its last features with the exemplar's learned embedding `d.embed`, so a
//! generator that draws texture A when asked for B is caught.
//!
//! Tensor names and shapes (w = width, T = textures, C = local + global + periodic + coarse):
//! `g.embed` (T, global); `g.wave.w` (2·periodic, global), `g.wave.b` (2·periodic), only with
//! periodic > 0; `g.in` (4w, C, 3, 3); `g.mid`, then `g.mid1` ... `g.mid{depth − 1}`
//! (4w, 4w, 3, 3); `g.up0` (2w, 4w, 3, 3);
//! `g.up1` (w, 2w, 3, 3); `g.out` (3, w, 3, 3); each conv also `.b`. With `detail_noise`,
//! `g.up0.noise` (2w) and `g.up1.noise` (w); with `detail_gate` too, `g.up0.gate.w` (1, 2w, 1,
//! 1), `g.up1.gate.w` (1, w, 1, 1) and their `.b` (1). `d.c0` (w, 3, 4, 4),
//! `d.c1` (2w, w, 4, 4), `d.c2` (4w, 2w, 4, 4), then `d.down3` ... `d.down{levels − 1}`
//! (4w, 4w, 4, 4) for patches of 128 and more, all stride 2; `d.c3` (4w, 4w, 3, 3);
//! `d.out` (1, 4w, 3, 3); `d.embed` (T, 4w). (`d.c3` keeps its name from before the extra levels,
//! so patch-64 checkpoints still resume.) With several critic scales, critic i has the same
//! tensors under `d{i}.` (`d1.c0`, ...) and the levels of [`TextureArch::critic_levels_at`].
//!
//! Owns: [`Generator`], [`Discriminator`], [`Critics`], [`NoiseParts`]. Must not know about files
//! or images.

use std::f32::consts::PI;

use candle_core::{Device, Tensor};

use super::super::bilinear::upsample2_bilinear_wrapped;
use super::super::nn::{leaky, pixel_norm, Conv, Init, Linear, Params, Specs, LEAKY_GAIN};
use super::super::ops::{add_noise, channel_dot};
use super::arch::TextureArch;
use crate::rng::Rng;

type CResult<T> = candle_core::Result<T>;

/// The random inputs of one batch of generator passes, on a canvas of `h × w` noise cells.
pub struct NoiseParts {
    /// (n, local, h, w) standard normal.
    pub local: Tensor,
    /// (n, T, h, w): how much of each exemplar's global code each cell takes.
    pub mix: Tensor,
    /// (n, periodic, 1, 1) phases in [0, 2π).
    pub phase: Tensor,
    /// Snap wave vectors to whole periods across the canvas (tileable samples).
    pub snap: bool,
    /// With detail noise: (n, 1, 2h, 2w) and (n, 1, 4h, 4w) standard normal; else empty.
    pub detail: Vec<Tensor>,
    /// With coarse channels: (n, coarse, h, w) smooth noise ([`super::coarse`]); else none.
    pub coarse: Option<Tensor>,
}

/// Spatial noise → image in [−1, 1], 8× the noise's size.
#[derive(Clone, Debug)]
pub struct Generator {
    arch: TextureArch,
    embed: String,
    wave: Option<Linear>,
    input: Conv,
    mid: Vec<Conv>,
    up: [Conv; 2],
    /// Per-channel scales of the detail noise after each of `up` (empty without it).
    detail_gain: Vec<String>,
    /// The detail noise's per-pixel gates after each of `up` (empty without `detail_gate`).
    detail_gate: Vec<NoiseGate>,
    out: Conv,
}

impl Generator {
    /// Declares the `g.*` tensors of `arch`.
    pub fn new(arch: &TextureArch, specs: &mut Specs) -> Generator {
        let [c8, c4, c2] = arch.generator_channels();
        let t = arch.textures.len();
        let embed = specs.add("g.embed".into(), vec![t, arch.global], Init::Normal(1.0));
        let wave = (arch.periodic > 0).then(|| Linear::new(specs, "g.wave", arch.global, 2 * arch.periodic, 1.0));
        let detail_gain = match arch.detail_noise {
            true => vec![
                specs.add("g.up0.noise".into(), vec![c4], Init::Zeros),
                specs.add("g.up1.noise".into(), vec![c2], Init::Zeros),
            ],
            false => vec![],
        };
        let detail_gate = match arch.detail_noise && arch.detail_gate {
            true => vec![NoiseGate::new(specs, "g.up0.gate", c4), NoiseGate::new(specs, "g.up1.gate", c2)],
            false => vec![],
        };
        Generator {
            arch: arch.clone(),
            embed,
            wave,
            input: Conv::new(specs, "g.in", arch.noise_channels(), c8, 3, 1, LEAKY_GAIN),
            mid: arch.mid_names().iter().map(|name| Conv::new(specs, name, c8, c8, 3, 1, LEAKY_GAIN)).collect(),
            up: [
                Conv::new(specs, "g.up0", c8, c4, 3, 1, LEAKY_GAIN),
                Conv::new(specs, "g.up1", c4, c2, 3, 1, LEAKY_GAIN),
            ],
            detail_gain,
            detail_gate,
            out: Conv::new(specs, "g.out", c2, 3, 3, 1, 1.0),
        }
    }

    /// The full noise tensor (n, local + global + periodic, h, w) from its random parts.
    pub fn noise(&self, p: &Params, parts: &NoiseParts) -> CResult<Tensor> {
        let (n, t, h, w) = parts.mix.dims4()?;
        let cells = parts.mix.permute((0, 2, 3, 1))?.reshape((n * h * w, t))?;
        let global = cells.matmul(&p.get(&self.embed))?; // (n·h·w, global)
        let to_map = |flat: &Tensor, c: usize| flat.reshape((n, h, w, c))?.permute((0, 3, 1, 2))?.contiguous();
        let mut parts_out = vec![parts.local.clone(), to_map(&global, self.arch.global)?];
        if let Some(wave) = &self.wave {
            let pc = self.arch.periodic;
            let k = to_map(&wave.forward(p, &global)?.tanh()?.affine(PI as f64, 0.0)?, 2 * pc)?;
            let (mut kx, mut ky) = (k.narrow(1, 0, pc)?, k.narrow(1, pc, pc)?);
            if parts.snap {
                kx = snap_to_periods(&kx, w)?;
                ky = snap_to_periods(&ky, h)?;
            }
            let dev = parts.local.device();
            let xs = Tensor::arange(0f32, w as f32, dev)?.reshape((1, 1, 1, w))?;
            let ys = Tensor::arange(0f32, h as f32, dev)?.reshape((1, 1, h, 1))?;
            let arg = kx.broadcast_mul(&xs)?.broadcast_add(&ky.broadcast_mul(&ys)?)?.broadcast_add(&parts.phase)?;
            parts_out.push(arg.sin()?);
        }
        if let Some(coarse) = &parts.coarse {
            parts_out.push(coarse.clone());
        }
        Tensor::cat(&parts_out, 1)
    }

    /// Images in [−1, 1] for the random inputs `parts`.
    pub fn render(&self, p: &Params, parts: &NoiseParts) -> CResult<Tensor> {
        self.forward(p, &self.noise(p, parts)?, &parts.detail)
    }

    /// Images in [−1, 1] for the noise tensor `z` and the detail noise `detail` (see
    /// [`NoiseParts::detail`]; empty for a generator without detail noise).
    pub fn forward(&self, p: &Params, z: &Tensor, detail: &[Tensor]) -> CResult<Tensor> {
        if detail.len() != self.detail_gain.len() {
            candle_core::bail!(
                "{} detail noise images for a generator that reads {}",
                detail.len(),
                self.detail_gain.len()
            )
        }
        let mut h = leaky(&pixel_norm(&self.input.forward_wrapped(p, z)?)?)?;
        for conv in &self.mid {
            h = leaky(&pixel_norm(&conv.forward_wrapped(p, &h)?)?)?;
        }
        for (i, conv) in self.up.iter().enumerate() {
            h = self.conv_up2(conv, p, &h)?;
            if let (Some(gain), Some(noise)) = (self.detail_gain.get(i), detail.get(i)) {
                let noise = match self.detail_gate.get(i) {
                    Some(gate) => gate.apply(p, &h, noise)?,
                    None => noise.clone(),
                };
                h = add_noise(&h, &noise, &p.get(gain))?;
            }
            h = leaky(&pixel_norm(&h)?)?;
        }
        self.conv_up2(&self.out, p, &h)?.tanh()
    }

    /// `conv` (circular padding) of `x` upsampled 2×, by nearest neighbour (fused into the
    /// convolution) or bilinearly, as the architecture says.
    fn conv_up2(&self, conv: &Conv, p: &Params, x: &Tensor) -> CResult<Tensor> {
        match self.arch.bilinear_upsample {
            true => conv.forward_wrapped(p, &upsample2_bilinear_wrapped(x)?),
            false => conv.forward_wrapped_up2(p, x),
        }
    }
}

/// A learned per-pixel gate on one stage's detail noise: a 1×1 convolution of the stage's
/// features `h` to one map `g`, and the noise scaled by `1 + tanh(g)`. Zero weights at the start,
/// so a gated generator starts as the ungated one. Why: the noise's gains are per channel, the
/// same everywhere, so a texture with both grain and flat regions (terrain's rock and sea,
/// clouds and sky, marble's veins and white) got grain everywhere; the gate lets the features
/// decide where it goes (StyleGAN's noise inputs have no such gate; they rely on the modulated
/// convolutions that follow).
#[derive(Clone, Debug)]
struct NoiseGate {
    /// (1, c, 1, 1): a 1×1 convolution's weight, so a PyTorch `Conv2d(c, 1, 1)` maps onto it.
    weight: String,
    /// (1).
    bias: String,
}

impl NoiseGate {
    fn new(specs: &mut Specs, name: &str, channels: usize) -> NoiseGate {
        NoiseGate {
            weight: specs.add(format!("{name}.w"), vec![1, channels, 1, 1], Init::Zeros),
            bias: specs.add(format!("{name}.b"), vec![1], Init::Zeros),
        }
    }

    /// `noise` (n, 1, H, W) times `1 + tanh(w · h + b)` for features `h` (n, c, H, W).
    fn apply(&self, p: &Params, h: &Tensor, noise: &Tensor) -> CResult<Tensor> {
        let g = channel_dot(h, &p.get(&self.weight).flatten_all()?)?;
        let g = g.broadcast_add(&p.get(&self.bias).reshape((1, 1, 1, 1))?)?;
        noise.mul(&(g.tanh()? + 1.0)?)
    }
}

/// The detail noise of `n` generator passes on a canvas of `h × w` noise cells, drawn from `rng`
/// after the other noise (so a generator without it draws the same stream as before it
/// existed): one (n, 1, 2h, 2w) and one (n, 1, 4h, 4w) standard normal image, or none.
pub fn detail_noise(
    arch: &TextureArch,
    n: usize,
    (h, w): (usize, usize),
    rng: &mut Rng,
    device: &Device,
) -> CResult<Vec<Tensor>> {
    if !arch.detail_noise {
        return Ok(vec![]);
    }
    [2, 4].iter().map(|&f| Tensor::from_vec(rng.normals(n * f * h * f * w), (n, 1, f * h, f * w), device)).collect()
}

/// The coarse noise of `n` generator passes on a canvas of `h × w` noise cells, drawn from `rng`
/// after the detail noise (so a generator without it draws the same stream as before it
/// existed), wrapping for tileable samples; none without coarse channels.
pub fn coarse_noise(
    arch: &TextureArch,
    n: usize,
    (h, w): (usize, usize),
    wrap: bool,
    rng: &mut Rng,
    device: &Device,
) -> CResult<Option<Tensor>> {
    if arch.coarse == 0 {
        return Ok(None);
    }
    let values = super::coarse::coarse_noise(arch.coarse, n, (h, w), wrap, rng);
    Tensor::from_vec(values, (n, arch.coarse, h, w), device).map(Some)
}

/// Rounds wave numbers (radians per cell) to whole periods over `cells` (no gradient: sampling
/// only), so `sin(k·x)` repeats exactly across the canvas.
pub(super) fn snap_to_periods(k: &Tensor, cells: usize) -> CResult<Tensor> {
    let step = 2.0 * std::f64::consts::PI / cells as f64;
    k.detach().affine(1.0 / step, 0.0)?.round()?.affine(step, 0.0)
}

/// Image in [−1, 1] and its exemplar labels → realness logits, one per 2^levels-pixel cell.
#[derive(Clone, Debug)]
pub struct Discriminator {
    down: Vec<Conv>,
    c3: Conv,
    out: Conv,
    embed: String,
}

impl Discriminator {
    /// Declares the tensors of a critic of `levels` stride-2 levels, named `{prefix}.c0` ...
    /// (`d` for the first critic, whose names are those of files from before several critics).
    pub fn new(arch: &TextureArch, prefix: &str, levels: usize, specs: &mut Specs) -> Discriminator {
        let w = arch.width;
        let t = arch.textures.len();
        let mut down = vec![
            Conv::new(specs, &format!("{prefix}.c0"), 3, w, 4, 2, LEAKY_GAIN),
            Conv::new(specs, &format!("{prefix}.c1"), w, 2 * w, 4, 2, LEAKY_GAIN),
            Conv::new(specs, &format!("{prefix}.c2"), 2 * w, 4 * w, 4, 2, LEAKY_GAIN),
        ];
        // 128² and larger patches: more halvings at 4w channels, cheap at 1/16 and below
        for level in 3..levels {
            down.push(Conv::new(specs, &format!("{prefix}.down{level}"), 4 * w, 4 * w, 4, 2, LEAKY_GAIN));
        }
        Discriminator {
            down,
            c3: Conv::new(specs, &format!("{prefix}.c3"), 4 * w, 4 * w, 3, 1, LEAKY_GAIN),
            out: Conv::new(specs, &format!("{prefix}.out"), 4 * w, 1, 3, 1, 1.0),
            embed: specs.add(format!("{prefix}.embed"), vec![t, 4 * w], Init::Normal(1.0 / (4.0 * w as f32).sqrt())),
        }
    }

    /// (n, 1, h/2^levels, w/2^levels) logits for images `x` whose exemplars are the one-hot rows
    /// `labels` (n, T).
    pub fn forward(&self, p: &Params, x: &Tensor, labels: &Tensor) -> CResult<Tensor> {
        let mut h = x.clone();
        for conv in &self.down {
            h = leaky(&conv.forward(p, &h)?)?;
        }
        h = leaky(&self.c3.forward(p, &h)?)?;
        let (n, c, _, _) = h.dims4()?;
        let e = labels.matmul(&p.get(&self.embed))?.reshape((n, c, 1, 1))?;
        self.out.forward(p, &h)? + h.broadcast_mul(&e)?.sum_keepdim(1)?
    }
}

/// The patch critics of a run ([`TextureArch::critic_scales`]): critic i judges the crop
/// average-pooled i times by 2 (pix2pixHD's multi-scale discriminator, Wang et al. 2018).
#[derive(Clone, Debug)]
pub struct Critics {
    critics: Vec<Discriminator>,
}

impl Critics {
    /// Declares every critic's tensors: `d.*` for the full-size one, `d1.*`, `d2.*` ... for
    /// the pooled ones, with the levels [`TextureArch::critic_levels_at`] gives.
    pub fn new(arch: &TextureArch, specs: &mut Specs) -> Critics {
        let critics = (0..arch.critic_scales)
            .map(|i| {
                let prefix = if i == 0 { "d".to_string() } else { format!("d{i}") };
                Discriminator::new(arch, &prefix, arch.critic_levels_at(i), specs)
            })
            .collect();
        Critics { critics }
    }

    /// Each critic's logit map for images `x` (n, 3, h, w) of the exemplars `labels` (n, T),
    /// the full-size critic first.
    pub fn forward(&self, p: &Params, x: &Tensor, labels: &Tensor) -> CResult<Vec<Tensor>> {
        let mut pooled = x.clone();
        let mut out = Vec::with_capacity(self.critics.len());
        for (i, critic) in self.critics.iter().enumerate() {
            if i > 0 {
                pooled = pooled.avg_pool2d(2)?;
            }
            out.push(critic.forward(p, &pooled, labels)?);
        }
        Ok(out)
    }
}

/// One-hot rows (n, T) for `labels`.
pub fn one_hot(labels: &[usize], textures: usize, device: &Device) -> CResult<Tensor> {
    let mut data = vec![0f32; labels.len() * textures];
    for (i, &l) in labels.iter().enumerate() {
        data[i * textures + l] = 1.0;
    }
    Tensor::from_vec(data, (labels.len(), textures), device)
}
