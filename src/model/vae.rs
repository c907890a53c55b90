//! The convolutional VAE: an encoder to (μ, log σ²), the reparameterisation, and a decoder of
//! nearest-upsample + 3×3 conv stages ending in a sigmoid.
//!
//! Owns: [`Vae`] and its loss. No normalisation layers, so there is no train/eval state to thread.

use candle_core::{Tensor, D};

use super::arch::{Arch, CHANNELS};
use super::nn::{leaky, softplus, upsample2, Conv, Linear, Params, Specs, LEAKY_GAIN};

type CResult<T> = candle_core::Result<T>;

/// The network (names only; weights live in [`Params`]).
#[derive(Clone, Debug)]
pub struct Vae {
    conv_in: Conv,
    down: Vec<Conv>,
    to_stats: Linear,
    from_z: Linear,
    up: Vec<Conv>,
    conv_out: Conv,
    top: usize,
    latent: usize,
}

/// The terms of one batch's loss, each averaged over the batch (per image, summed over pixels).
pub struct VaeLoss {
    pub total: Tensor,
    pub recon: Tensor,
    pub kl: Tensor,
}

impl Vae {
    /// Declares the tensors of `arch` into `specs`.
    pub fn new(arch: &Arch, specs: &mut Specs) -> Vae {
        let ch = arch.channels();
        let top = *ch.last().unwrap();
        let conv_in = Conv::new(specs, "enc.in", CHANNELS, ch[0], 3, 1, LEAKY_GAIN);
        let down = (0..arch.stages())
            .map(|i| Conv::new(specs, &format!("enc.down{i}"), ch[i], ch[i + 1], 4, 2, LEAKY_GAIN))
            .collect();
        // μ and log σ² heads start small so that the posterior starts near N(0, 1)
        let to_stats = Linear::new(specs, "enc.stats", top * 16, 2 * arch.latent, 0.5);
        let from_z = Linear::new(specs, "dec.from_z", arch.latent, top * 16, LEAKY_GAIN);
        let up = (0..arch.stages())
            .rev()
            .map(|i| Conv::new(specs, &format!("dec.up{i}"), ch[i + 1], ch[i], 3, 1, LEAKY_GAIN))
            .collect();
        let conv_out = Conv::new(specs, "dec.out", ch[0], CHANNELS, 3, 1, 1.0);
        Vae { conv_in, down, to_stats, from_z, up, conv_out, top, latent: arch.latent }
    }

    /// (μ, log σ²) for images `x` in [0, 1], shape (n, 3, s, s).
    pub fn encode(&self, p: &Params, x: &Tensor) -> CResult<(Tensor, Tensor)> {
        let mut h = leaky(&self.conv_in.forward(p, &x.affine(2.0, -1.0)?)?)?;
        for conv in &self.down {
            h = leaky(&conv.forward(p, &h)?)?;
        }
        let stats = self.to_stats.forward(p, &h.flatten_from(1)?)?;
        let mu = stats.narrow(1, 0, self.latent)?;
        // clamped so exp() stays finite whatever the weights do early in training
        let logvar = stats.narrow(1, self.latent, self.latent)?.clamp(-30f32, 20f32)?;
        Ok((mu, logvar))
    }

    /// Decoder logits for latents `z` (n, latent).
    pub fn decode_logits(&self, p: &Params, z: &Tensor) -> CResult<Tensor> {
        let n = z.dim(0)?;
        let mut h = leaky(&self.from_z.forward(p, z)?)?.reshape((n, self.top, 4, 4))?;
        for conv in &self.up {
            h = leaky(&conv.forward(p, &upsample2(&h)?)?)?;
        }
        self.conv_out.forward(p, &h)
    }

    /// Images in [0, 1] for latents `z`.
    pub fn decode(&self, p: &Params, z: &Tensor) -> CResult<Tensor> {
        candle_nn::ops::sigmoid(&self.decode_logits(p, z)?)
    }

    /// Reconstruction (Bernoulli cross-entropy, summed over pixels) + β·KL, per image, for images
    /// `x` and standard-normal noise `eps` (n, latent) from kiln's RNG.
    pub fn loss(&self, p: &Params, x: &Tensor, eps: &Tensor, beta: f64) -> CResult<VaeLoss> {
        let n = x.dim(0)? as f64;
        let (mu, logvar) = self.encode(p, x)?;
        let z = (&mu + (logvar.affine(0.5, 0.0)?.exp()? * eps)?)?;
        let logits = self.decode_logits(p, &z)?;
        let recon = bce_with_logits_sum(&logits, x)?.affine(1.0 / n, 0.0)?;
        let kl = kl_sum(&mu, &logvar)?.affine(1.0 / n, 0.0)?;
        let total = (&recon + kl.affine(beta, 0.0)?)?;
        Ok(VaeLoss { total, recon, kl })
    }
}

/// Σ softplus(l) − x·l: binary cross-entropy with logits, stable for any logit (candle's
/// `binary_cross_entropy_with_logit` goes through log(sigmoid) and returns NaN when confident).
pub fn bce_with_logits_sum(logits: &Tensor, x: &Tensor) -> CResult<Tensor> {
    (softplus(logits)? - (logits * x)?)?.sum_all()
}

/// Σ KL(N(μ, σ²) ‖ N(0, 1)) over the batch.
pub fn kl_sum(mu: &Tensor, logvar: &Tensor) -> CResult<Tensor> {
    let inner = (logvar.affine(1.0, 1.0)? - mu.sqr()? - logvar.exp()?)?;
    inner.sum(D::Minus1)?.sum_all()?.affine(-0.5, 0.0)
}
