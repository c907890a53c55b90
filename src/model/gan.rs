//! The GAN: a generator of nearest-upsample + 3×3 conv stages with pixel normalisation (no
//! checkerboard artefacts, no batch statistics), and a discriminator of strided convolutions,
//! trained with the hinge loss, DiffAugment and a moving average of the generator.
//!
//! What was tried, at 32², width 16, batch 64: spectral normalisation on every discriminator
//! layer kept the hinge loss at chance (≈ 2) for 650 steps on an earlier tile set, the samples
//! coloured noise; without it the discriminator learns in tens of steps and the generator
//! follows. An R1 penalty needs a double backward that candle lacks; an estimate by finite
//! differences (E[(D(x + σv) − D(x))²] / σ²) with the logistic loss trained slower than plain
//! hinge in a 460-step comparison on the shipped material tiles, so neither is used. The two time-scale
//! learning rates, Adam β1 = 0 and the augmentation keep the unregularised discriminator stable.
//!
//! A generator trained that way for 1472 steps drew about five of the twelve shipped materials;
//! the discriminator judged each image alone, so nothing pushed G toward the missing ones. The
//! minibatch-deviation feature (ProGAN) lets D compare groups of images, and is the change made
//! against that mode dropping (see stdlib/models/README.md for what it gave).
//!
//! Owns: [`Generator`], [`Discriminator`], the losses and the differentiable augmentation.
//! Sampling uses an exponential moving average of the generator's weights (see train.rs).

use candle_core::{Device, Tensor};

use super::arch::{Arch, CHANNELS};
use super::nn::{leaky, pixel_norm, upsample2, Conv, Linear, Params, Specs, LEAKY_GAIN};
use crate::rng::Rng;

type CResult<T> = candle_core::Result<T>;

/// z → image in [−1, 1].
#[derive(Clone, Debug)]
pub struct Generator {
    from_z: Linear,
    up: Vec<Conv>,
    conv_out: Conv,
    top: usize,
}

impl Generator {
    /// Declares the `g.*` tensors of `arch`.
    pub fn new(arch: &Arch, specs: &mut Specs) -> Generator {
        let ch = arch.channels();
        let top = *ch.last().unwrap();
        let from_z = Linear::new(specs, "g.from_z", arch.latent, top * 16, LEAKY_GAIN);
        let up = (0..arch.stages())
            .rev()
            .map(|i| Conv::new(specs, &format!("g.up{i}"), ch[i + 1], ch[i], 3, 1, LEAKY_GAIN))
            .collect();
        let conv_out = Conv::new(specs, "g.out", ch[0], CHANNELS, 3, 1, 1.0);
        Generator { from_z, up, conv_out, top }
    }

    /// Images in [−1, 1] for latents `z` (n, latent).
    pub fn forward(&self, p: &Params, z: &Tensor) -> CResult<Tensor> {
        let n = z.dim(0)?;
        let h = self.from_z.forward(p, &pixel_norm(z)?)?.reshape((n, self.top, 4, 4))?;
        let mut h = leaky(&pixel_norm(&h)?)?;
        for conv in &self.up {
            h = leaky(&pixel_norm(&conv.forward(p, &upsample2(&h)?)?)?)?;
        }
        self.conv_out.forward(p, &h)?.tanh()
    }
}

/// image in [−1, 1] → realness logit.
///
/// At 4×4 it appends ProGAN's minibatch standard deviation as one more feature map (how much
/// the images of a small group differ, averaged over features and positions) and mixes it in
/// with a 3×3 conv before the head. A generator that draws the same few materials gives groups
/// of fakes a deviation unlike the real groups', which D can then see: the pressure against
/// mode dropping that a per-image critic lacks.
#[derive(Clone, Debug)]
pub struct Discriminator {
    conv_in: Conv,
    down: Vec<Conv>,
    mix: Conv,
    head: Linear,
    top: usize,
}

/// Largest images-per-group for the minibatch deviation: the groups of a batch of `n` must not
/// straddle the real/fake boundary of the discriminator's 2n batch, so the size divides `n`.
pub fn deviation_group(n: usize) -> usize {
    [4, 2, 1].into_iter().find(|&g| n.is_multiple_of(g)).unwrap_or(1)
}

impl Discriminator {
    /// Declares the `d.*` tensors of `arch`.
    pub fn new(arch: &Arch, specs: &mut Specs) -> Discriminator {
        let ch = arch.channels();
        let top = *ch.last().unwrap();
        let conv_in = Conv::new(specs, "d.in", CHANNELS, ch[0], 3, 1, LEAKY_GAIN);
        let down = (0..arch.stages())
            .map(|i| Conv::new(specs, &format!("d.down{i}"), ch[i], ch[i + 1], 4, 2, LEAKY_GAIN))
            .collect();
        let mix = Conv::new(specs, "d.mix", top + 1, top, 3, 1, LEAKY_GAIN);
        let head = Linear::new(specs, "d.head", top * 16, 1, 1.0);
        Discriminator { conv_in, down, mix, head, top }
    }

    /// One logit per image; the deviation feature is taken over consecutive groups of `group`
    /// images (see [`deviation_group`]).
    pub fn forward(&self, p: &Params, x: &Tensor, group: usize) -> CResult<Tensor> {
        let mut h = leaky(&self.conv_in.forward(p, x)?)?;
        for conv in &self.down {
            h = leaky(&conv.forward(p, &h)?)?;
        }
        let h = leaky(&self.mix.forward(p, &minibatch_deviation(&h, group)?)?)?;
        let n = h.dim(0)?;
        self.head.forward(p, &h.reshape((n, self.top * 16))?)
    }
}

/// (n, c, h, w) → (n, c + 1, h, w): the last map is, for each group of `group` consecutive
/// images, the standard deviation across the group averaged over channels and positions.
fn minibatch_deviation(x: &Tensor, group: usize) -> CResult<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    if group == 0 || n % group != 0 {
        candle_core::bail!("minibatch deviation: batch {n} is not a multiple of the group size {group}")
    }
    let g = x.reshape((n / group, group, c, h, w))?;
    let centred = g.broadcast_sub(&g.mean_keepdim(1)?)?;
    // the 1e-8 keeps the square root's gradient finite when a group is identical
    let sd = centred.sqr()?.mean_keepdim(1)?.affine(1.0, 1e-8)?.sqrt()?;
    let per_group = sd.flatten_from(2)?.mean_keepdim(2)?; // (n/group, 1, 1)
    let map = per_group.reshape((n / group, 1, 1, 1, 1))?.broadcast_as((n / group, group, 1, h, w))?;
    Tensor::cat(&[x, &map.reshape((n, 1, h, w))?], 1)
}

/// Hinge loss for the discriminator: mean relu(1 − real) + mean relu(1 + fake). No logs or
/// exponentials, so confident logits cannot overflow.
pub fn d_hinge(real: &Tensor, fake: &Tensor) -> CResult<Tensor> {
    real.neg()?.affine(1.0, 1.0)?.relu()?.mean_all()? + fake.affine(1.0, 1.0)?.relu()?.mean_all()?
}

/// LeCam regularisation of a critic (Tseng et al. 2021, "Regularizing Generative Adversarial
/// Networks under Limited Data"): mean(relu(real − anchor_fake)²) + mean(relu(anchor_real −
/// fake)²), where the anchors are moving averages of the critic's mean output on real and on fake
/// images. It keeps real and fake logits from drifting apart, which is how a critic that has
/// memorised a small training set overpowers the generator. First order only: no double
/// backward, which candle does not have (R1 would need one).
pub fn lecam(real: &Tensor, fake: &Tensor, anchors: &LeCamAnchors) -> CResult<Tensor> {
    let above = real.affine(1.0, -anchors.fake)?.relu()?.sqr()?.mean_all()?;
    let below = fake.affine(-1.0, anchors.real)?.relu()?.sqr()?.mean_all()?;
    above + below
}

/// The moving averages of the critic's mean output that [`lecam`] pulls towards.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct LeCamAnchors {
    pub real: f64,
    pub fake: f64,
}

impl LeCamAnchors {
    /// Moves the anchors towards this step's mean outputs, by `1 − decay`.
    pub fn update(&mut self, real: f64, fake: f64, decay: f64) {
        self.real = decay * self.real + (1.0 - decay) * real;
        self.fake = decay * self.fake + (1.0 - decay) * fake;
    }
}

/// Generator loss against the hinge critic: −mean fake.
pub fn g_hinge(fake: &Tensor) -> CResult<Tensor> {
    fake.mean_all()?.neg()
}

/// One draw of DiffAugment (Zhao et al. 2020) for a batch: a per-image brightness shift and a
/// whole-batch translation by up to 1/8 of the side with zero fill. The same draw is applied to
/// real and fake images; both are differentiable, so G learns through them.
pub struct Augment {
    brightness: Tensor,
    dx: isize,
    dy: isize,
}

impl Augment {
    pub fn draw(rng: &mut Rng, n: usize, size: usize, device: &Device) -> CResult<Augment> {
        let brightness = Tensor::from_vec(rng.uniforms(n, -0.25, 0.25), (n, 1, 1, 1), device)?;
        let max = (size / 8).max(1) as isize;
        let dx = rng.below(2 * max as usize + 1) as isize - max;
        let dy = rng.below(2 * max as usize + 1) as isize - max;
        Ok(Augment { brightness, dx, dy })
    }

    pub fn apply(&self, x: &Tensor) -> CResult<Tensor> {
        let x = x.broadcast_add(&self.brightness)?;
        let x = shift(&x, 3, self.dx)?;
        shift(&x, 2, self.dy)
    }
}

/// Moves `x` by `by` along `dim`, filling with zeros.
fn shift(x: &Tensor, dim: usize, by: isize) -> CResult<Tensor> {
    let len = x.dim(dim)?;
    let k = by.unsigned_abs().min(len);
    if k == 0 {
        return Ok(x.clone());
    }
    if by > 0 {
        x.narrow(dim, 0, len - k)?.pad_with_zeros(dim, k, 0)
    } else {
        x.narrow(dim, k, len - k)?.pad_with_zeros(dim, 0, k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Worked by hand: real logits [1, 3] against a fake anchor of 2 exceed it by [0, 1], mean
    /// square 0.5; fake logits [0, 1] fall short of a real anchor of 0.5 by [0.5, 0], mean square
    /// 0.125.
    #[test]
    fn lecam_penalises_logits_past_the_other_anchor() {
        let t = |v: &[f32]| Tensor::new(v, &Device::Cpu).unwrap();
        let anchors = LeCamAnchors { real: 0.5, fake: 2.0 };
        let reg = lecam(&t(&[1.0, 3.0]), &t(&[0.0, 1.0]), &anchors).unwrap().to_scalar::<f32>().unwrap();
        assert!((reg - 0.625).abs() < 1e-6, "{reg}");
        // inside the anchors, nothing to pay
        let calm = lecam(&t(&[1.0, 2.0]), &t(&[0.5, 1.0]), &anchors).unwrap().to_scalar::<f32>().unwrap();
        assert_eq!(calm, 0.0);
        let mut a = LeCamAnchors::default();
        a.update(1.0, -1.0, 0.75);
        assert_eq!(a, LeCamAnchors { real: 0.25, fake: -0.25 });
    }

    /// Images of constant value: group (1, 3) deviates by 1 everywhere, group (5, 5) by 0 (plus
    /// the 1e-8 guard); groups never mix, and the input channels pass through unchanged.
    #[test]
    fn minibatch_deviation_is_per_group() {
        let values = [1f32, 3.0, 5.0, 5.0];
        let data: Vec<f32> = values.iter().flat_map(|&v| vec![v; 2 * 2 * 2]).collect();
        let x = Tensor::from_vec(data, (4, 2, 2, 2), &Device::Cpu).unwrap();
        let y = minibatch_deviation(&x, 2).unwrap();
        assert_eq!(y.dims4().unwrap(), (4, 3, 2, 2));
        let dev: Vec<f32> = y.narrow(1, 2, 1).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        assert!(dev[..8].iter().all(|&d| (d - 1.0).abs() < 1e-6), "{dev:?}");
        assert!(dev[8..].iter().all(|&d| d < 1e-3), "{dev:?}");
        assert_eq!(
            y.narrow(1, 0, 2).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap(),
            x.flatten_all().unwrap().to_vec1::<f32>().unwrap()
        );
        assert!(minibatch_deviation(&x, 3).is_err());
        assert_eq!((deviation_group(64), deviation_group(6), deviation_group(3)), (4, 2, 1));
    }
}
