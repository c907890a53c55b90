//! The spatial VAE network: a fully convolutional encoder to a latent map (μ, log σ²) at
//! 1/factor resolution and a decoder of nearest-upsample + 3×3 convolution stages, with
//! residual blocks at latent resolution; and its training loss.
//!
//! Owns: [`SpatialNet`] and [`SpatialLoss`]. No normalisation layers (no train/eval state, and a
//! tile of a large image sees exactly what the whole image would), leaky ReLU (slope 0.2)
//! everywhere. Must not know about images or files.
//!
//! Tensor names and shapes (o, c, kh, kw for weights, o for biases; `ch` = the channel plan of
//! [`SpatialArch::channels`], `top` = its last entry, `c` = latent channels, `s` = stages =
//! log2(factor)):
//! - `enc.in.w` (ch0, 3, 3, 3), `enc.in.b` (ch0): image (scaled to −1..1) to features;
//! - `enc.down{i}.w` (ch[i+1], ch[i], 4, 4), `.b` for i in 0..s: stride-2 4×4 convolutions;
//! - `enc.res{j}.conv1.w`, `enc.res{j}.conv2.w` (top, top, 3, 3) and their `.b`, j in 0..blocks:
//!   pre-activation residual blocks, h + conv2(lrelu(conv1(lrelu(h))));
//! - `enc.out.w` (2c, top, 3, 3), `enc.out.b` (2c): channels 0..c are μ, c..2c log σ²;
//! - `dec.in.w` (top, c, 3, 3), `dec.in.b` (top);
//! - `dec.res{j}.conv1.w`, `dec.res{j}.conv2.w` (top, top, 3, 3) and their `.b`;
//! - `dec.up{i}.w` (ch[i], ch[i+1], 3, 3), `.b`, for i from s−1 down to 0, each after
//!   lrelu and a nearest 2× upsample;
//! - `dec.out.w` (3, ch0, 3, 3), `dec.out.b` (3), after lrelu: the image in −1..1 (not clamped;
//!   the image is 0.5 · out + 0.5).
//!
//! Every convolution pads by zeros: k/2 for 3×3, 1 for the 4×4 stride-2 ones (PyTorch
//! `padding=1`), so a PyTorch model of the same layers maps name for name (`enc.in.w` is
//! `enc.in.weight`).

use candle_core::Tensor;

use super::super::nn::{leaky, upsample2, Conv, Params, Specs, LEAKY_GAIN};
use super::arch::SpatialArch;

type CResult<T> = candle_core::Result<T>;

/// ε of the Charbonnier penalty √(d² + ε²), a smooth L1.
const CHARBONNIER_EPS: f64 = 1e-3;

/// The network (names only; weights live in [`Params`]).
#[derive(Clone, Debug)]
pub struct SpatialNet {
    pub arch: SpatialArch,
    enc_in: Conv,
    enc_down: Vec<Conv>,
    enc_res: Vec<(Conv, Conv)>,
    enc_out: Conv,
    dec_in: Conv,
    dec_res: Vec<(Conv, Conv)>,
    /// Applied in order: the deepest stage first.
    dec_up: Vec<Conv>,
    dec_out: Conv,
}

/// The terms of one batch's loss (each a mean over its elements).
pub struct SpatialLoss {
    pub total: Tensor,
    /// Charbonnier distance per pixel value.
    pub pixel: Tensor,
    /// L1 distance of horizontal and vertical differences (edges), per value.
    pub edge: Tensor,
    /// KL(N(μ, σ²) ‖ N(0, 1)) per latent value.
    pub kl: Tensor,
}

/// Weights of the loss terms.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LossWeights {
    pub edge: f64,
    pub kl: f64,
}

fn res_block(specs: &mut Specs, name: &str, c: usize) -> (Conv, Conv) {
    // the second convolution starts small so that every block starts near the identity
    (
        Conv::new(specs, &format!("{name}.conv1"), c, c, 3, 1, LEAKY_GAIN),
        Conv::new(specs, &format!("{name}.conv2"), c, c, 3, 1, 0.2),
    )
}

fn run_res(p: &Params, blocks: &[(Conv, Conv)], mut h: Tensor) -> CResult<Tensor> {
    for (a, b) in blocks {
        let r = b.forward(p, &leaky(&a.forward(p, &leaky(&h)?)?)?)?;
        h = (h + r)?;
    }
    Ok(h)
}

impl SpatialNet {
    /// Declares the tensors of `arch` into `specs`.
    pub fn new(arch: &SpatialArch, specs: &mut Specs) -> SpatialNet {
        let ch = arch.channels();
        let top = arch.top();
        let s = arch.stages();
        let enc_in = Conv::new(specs, "enc.in", 3, ch[0], 3, 1, LEAKY_GAIN);
        let enc_down =
            (0..s).map(|i| Conv::new(specs, &format!("enc.down{i}"), ch[i], ch[i + 1], 4, 2, LEAKY_GAIN)).collect();
        let enc_res = (0..arch.blocks).map(|j| res_block(specs, &format!("enc.res{j}"), top)).collect();
        // μ and log σ² start small, so the posterior starts near N(0, 1)
        let enc_out = Conv::new(specs, "enc.out", top, 2 * arch.latent, 3, 1, 0.5);
        let dec_in = Conv::new(specs, "dec.in", arch.latent, top, 3, 1, 1.0);
        let dec_res = (0..arch.blocks).map(|j| res_block(specs, &format!("dec.res{j}"), top)).collect();
        let dec_up =
            (0..s).rev().map(|i| Conv::new(specs, &format!("dec.up{i}"), ch[i + 1], ch[i], 3, 1, LEAKY_GAIN)).collect();
        let dec_out = Conv::new(specs, "dec.out", ch[0], 3, 3, 1, 1.0);
        SpatialNet { arch: *arch, enc_in, enc_down, enc_res, enc_out, dec_in, dec_res, dec_up, dec_out }
    }

    /// (μ, log σ²), each (n, c, h/factor, w/factor), for images `x` in [0, 1] of shape
    /// (n, 3, h, w) with h and w multiples of the factor.
    pub fn encode(&self, p: &Params, x: &Tensor) -> CResult<(Tensor, Tensor)> {
        let mut h = leaky(&self.enc_in.forward(p, &x.affine(2.0, -1.0)?)?)?;
        for conv in &self.enc_down {
            h = leaky(&conv.forward(p, &h)?)?;
        }
        h = run_res(p, &self.enc_res, h)?;
        let stats = self.enc_out.forward(p, &leaky(&h)?)?;
        let c = self.arch.latent;
        let mu = stats.narrow(1, 0, c)?;
        // clamped so exp() stays finite whatever the weights do early in training
        let logvar = stats.narrow(1, c, c)?.clamp(-30f32, 20f32)?;
        Ok((mu, logvar))
    }

    /// The decoder's output (n, 3, h·factor, w·factor) in −1..1 (unclamped) for latent maps
    /// `z` (n, c, h, w).
    pub fn decode_raw(&self, p: &Params, z: &Tensor) -> CResult<Tensor> {
        let mut h = self.dec_in.forward(p, z)?;
        h = run_res(p, &self.dec_res, h)?;
        for conv in &self.dec_up {
            h = conv.forward(p, &upsample2(&leaky(&h)?)?)?;
        }
        self.dec_out.forward(p, &leaky(&h)?)
    }

    /// Images in [0, 1] (clamped) for latent maps `z`.
    pub fn decode(&self, p: &Params, z: &Tensor) -> CResult<Tensor> {
        self.decode_raw(p, z)?.affine(0.5, 0.5)?.clamp(0f32, 1f32)
    }

    /// The loss of images `x` in [0, 1] with standard-normal noise `eps` (shaped like μ, from
    /// kiln's RNG): Charbonnier pixel distance + `w.edge` · edge distance + `w.kl` · KL.
    pub fn loss(&self, p: &Params, x: &Tensor, eps: &Tensor, w: LossWeights) -> CResult<SpatialLoss> {
        let (mu, logvar) = self.encode(p, x)?;
        let z = (&mu + (logvar.affine(0.5, 0.0)?.exp()? * eps)?)?;
        let y = self.decode_raw(p, &z)?.affine(0.5, 0.5)?;
        let d = (&y - x)?;
        let pixel = d.sqr()?.affine(1.0, CHARBONNIER_EPS * CHARBONNIER_EPS)?.sqrt()?.mean_all()?;
        let edge = edge_l1(&y, x)?;
        let kl = (mu.sqr()? + logvar.exp()? - logvar.affine(1.0, 1.0)?)?.affine(0.5, 0.0)?.mean_all()?;
        let total = ((&pixel + edge.affine(w.edge, 0.0)?)? + kl.affine(w.kl, 0.0)?)?;
        Ok(SpatialLoss { total, pixel, edge, kl })
    }
}

/// Mean |∂y − ∂x| over horizontal and vertical neighbour differences: penalises blur, which
/// plain pixel distance forgives.
fn edge_l1(y: &Tensor, x: &Tensor) -> CResult<Tensor> {
    let (_, _, h, w) = x.dims4()?;
    let dx = |t: &Tensor| -> CResult<Tensor> { t.narrow(3, 1, w - 1)? - t.narrow(3, 0, w - 1)? };
    let dy = |t: &Tensor| -> CResult<Tensor> { t.narrow(2, 1, h - 1)? - t.narrow(2, 0, h - 1)? };
    let gx = (dx(y)? - dx(x)?)?.abs()?.mean_all()?;
    let gy = (dy(y)? - dy(x)?)?.abs()?.mean_all()?;
    (gx + gy)?.affine(0.5, 0.0)
}
