//! The small neural-network toolkit the models are built from: a parameter store filled from
//! kiln's seeded RNG, convolution and linear layers, activations and Adam.
//!
//! Why not candle-nn's `VarMap`/`VarBuilder`/`AdamW`: their initialisation draws from candle's
//! unseedable CPU RNG, and AdamW keeps its moments private, so a checkpoint could not resume it.
//!
//! Owns: [`Params`], [`Conv`], [`Linear`], activations, [`Adam`]. Must not know about images.

use std::collections::BTreeMap;

use candle_core::{backprop::GradStore, Device, Tensor, Var};

use super::conv_gemm;
use super::ops;
use super::stream::Stream;
use crate::rng::Rng;

type CResult<T> = candle_core::Result<T>;

/// How a parameter starts.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// Normal with this standard deviation.
    Normal(f32),
    /// Uniform in ±bound (PyTorch's default for biases: 1/√fan_in, which keeps units from
    /// starting identical; all-zero biases let a VAE decoder ignore z early on).
    Uniform(f32),
    /// All zero, drawing nothing from the stream: a tensor added to an architecture this way
    /// leaves every other tensor's start as it was.
    Zeros,
}

/// Name, shape and initialisation of one tensor.
#[derive(Clone, Debug)]
pub struct Spec {
    pub shape: Vec<usize>,
    pub init: Init,
}

/// The tensors a network declares, by name (sorted).
#[derive(Clone, Debug, Default)]
pub struct Specs(pub BTreeMap<String, Spec>);

impl Specs {
    pub(crate) fn add(&mut self, name: String, shape: Vec<usize>, init: Init) -> String {
        self.0.insert(name.clone(), Spec { shape, init });
        name
    }

    /// Every tensor's name, sorted.
    pub fn names(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

/// Named variables. A network keeps only names and looks them up here at every forward pass,
/// so the same architecture runs on the trained weights and on their moving average.
#[derive(Clone, Debug)]
pub struct Params {
    pub vars: BTreeMap<String, Var>,
    /// Hands out detached views (same storage), so a backward pass through the network computes
    /// the gradient for its input but none for its weights: the GAN's generator step needs the
    /// discriminator's input gradient only.
    frozen: bool,
}

impl Params {
    /// Fresh parameters for `specs`, drawn in sorted name order from one seeded stream.
    pub fn init(specs: &Specs, seed: u64, device: &Device) -> CResult<Params> {
        let mut rng = Rng::stream(seed, Stream::Init.id());
        let mut vars = BTreeMap::new();
        for (name, spec) in &specs.0 {
            let n: usize = spec.shape.iter().product();
            let data = match spec.init {
                Init::Normal(std) => rng.normals(n).into_iter().map(|v| v * std).collect(),
                Init::Uniform(b) => rng.uniforms(n, -b, b),
                Init::Zeros => vec![0.0; n],
            };
            let t = Tensor::from_vec(data, spec.shape.as_slice(), device)?;
            vars.insert(name.clone(), Var::from_tensor(&t)?);
        }
        Ok(Params::new(vars))
    }

    pub fn new(vars: BTreeMap<String, Var>) -> Params {
        Params { vars, frozen: false }
    }

    /// The same variables, seen as constants: a view for passes whose weight gradients would be
    /// thrown away. Updates to the variables show through, as the storage is shared.
    pub fn frozen(&self) -> Params {
        Params { vars: self.vars.clone(), frozen: true }
    }

    /// The tensor called `name` (panics only on a kiln bug: names come from the same specs).
    pub fn get(&self, name: &str) -> Tensor {
        let var = self.vars.get(name).unwrap_or_else(|| panic!("kiln bug: no parameter `{name}`"));
        if self.frozen {
            var.as_tensor().detach()
        } else {
            var.as_tensor().clone()
        }
    }

    /// A detached deep copy (for the generator's moving average).
    pub fn deep_clone(&self) -> CResult<Params> {
        let vars = self
            .vars
            .iter()
            .map(|(k, v)| Ok((k.clone(), Var::from_tensor(&v.as_tensor().copy()?.detach())?)))
            .collect::<CResult<_>>()?;
        Ok(Params::new(vars))
    }

    /// Number of scalars.
    pub fn count(&self) -> usize {
        self.vars.values().map(|v| v.elem_count()).sum()
    }
}

fn kaiming(fan_in: usize, gain: f32) -> Init {
    Init::Normal(gain / (fan_in as f32).sqrt())
}

/// √2 / √(1 + 0.2²): He gain for leaky ReLU with slope 0.2.
pub const LEAKY_GAIN: f32 = 1.386_750_5;

/// A 2-D convolution with bias.
#[derive(Clone, Debug)]
pub struct Conv {
    w: String,
    b: String,
    stride: usize,
    pad: usize,
}

impl Conv {
    /// Declares `name.w` (o, c, k, k) and `name.b` (o); padding keeps the size for odd `k`,
    /// halves it for k = 4, stride 2.
    pub fn new(specs: &mut Specs, name: &str, c: usize, o: usize, k: usize, stride: usize, gain: f32) -> Conv {
        let fan_in = c * k * k;
        let w = specs.add(format!("{name}.w"), vec![o, c, k, k], kaiming(fan_in, gain));
        let b = specs.add(format!("{name}.b"), vec![o], Init::Uniform(1.0 / (fan_in as f32).sqrt()));
        let pad = if k % 2 == 1 { k / 2 } else { (k - stride) / 2 };
        Conv { w, b, stride, pad }
    }

    pub fn forward(&self, p: &Params, x: &Tensor) -> CResult<Tensor> {
        let y = conv_gemm::conv2d(x, &p.get(&self.w), self.stride, self.pad)?;
        ops::add_bias(&y, &p.get(&self.b))
    }

    /// The same convolution with circular padding: the input wraps round its edges, so a
    /// periodic input gives a periodic output (tileable textures).
    pub fn forward_wrapped(&self, p: &Params, x: &Tensor) -> CResult<Tensor> {
        self.wrapped(p, x, false)
    }

    /// [`Conv::forward_wrapped`] of `x` upsampled 2× by nearest neighbour, without making the
    /// upsampled tensor (the same values as `forward_wrapped(p, &upsample2(x))`).
    pub fn forward_wrapped_up2(&self, p: &Params, x: &Tensor) -> CResult<Tensor> {
        self.wrapped(p, x, true)
    }

    fn wrapped(&self, p: &Params, x: &Tensor, up2: bool) -> CResult<Tensor> {
        if self.stride != 1 {
            candle_core::bail!("circular padding is for stride-1 convolutions")
        }
        let w = p.get(&self.w);
        let y = if up2 {
            conv_gemm::conv2d_wrapped_up2(x, &w, self.pad)?
        } else {
            conv_gemm::conv2d_wrapped(x, &w, self.pad)?
        };
        ops::add_bias(&y, &p.get(&self.b))
    }
}

/// A fully connected layer.
#[derive(Clone, Debug)]
pub struct Linear {
    w: String,
    b: String,
}

impl Linear {
    /// Declares `name.w` (out, in) and `name.b` (out).
    pub fn new(specs: &mut Specs, name: &str, input: usize, output: usize, gain: f32) -> Linear {
        let w = specs.add(format!("{name}.w"), vec![output, input], kaiming(input, gain));
        let b = specs.add(format!("{name}.b"), vec![output], Init::Uniform(1.0 / (input as f32).sqrt()));
        Linear { w, b }
    }

    pub fn forward(&self, p: &Params, x: &Tensor) -> CResult<Tensor> {
        x.matmul(&p.get(&self.w).t()?)?.broadcast_add(&p.get(&self.b))
    }
}

/// max(x, 0.2 x).
pub fn leaky(x: &Tensor) -> CResult<Tensor> {
    ops::leaky(x)
}

/// Nearest-neighbour 2× upsampling.
pub fn upsample2(x: &Tensor) -> CResult<Tensor> {
    ops::upsample2(x)
}

/// Pixel-wise feature normalisation (ProGAN): stateless, so there is no train/eval difference.
pub fn pixel_norm(x: &Tensor) -> CResult<Tensor> {
    ops::pixel_norm(x)
}

/// softplus(x) = max(x, 0) + log(1 + exp(−|x|)), which never overflows.
pub fn softplus(x: &Tensor) -> CResult<Tensor> {
    x.relu()? + x.abs()?.neg()?.exp()?.affine(1.0, 1.0)?.log()?
}

/// Adam (Kingma & Ba) with state that checkpoints can hold.
#[derive(Clone, Debug)]
pub struct Adam {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub t: u64,
    pub m: BTreeMap<String, Tensor>,
    pub v: BTreeMap<String, Tensor>,
}

impl Adam {
    pub fn new(lr: f64, beta1: f64, beta2: f64) -> Adam {
        Adam { lr, beta1, beta2, eps: 1e-8, t: 0, m: BTreeMap::new(), v: BTreeMap::new() }
    }

    /// One update of the trainable `names` in `params` from `grads`.
    pub fn step(&mut self, params: &Params, names: &[String], grads: &GradStore) -> CResult<()> {
        self.t += 1;
        let c1 = 1.0 - self.beta1.powi(self.t as i32);
        let c2 = 1.0 - self.beta2.powi(self.t as i32);
        for name in names {
            let var = &params.vars[name];
            let Some(g) = grads.get(var.as_tensor()) else { continue };
            let m = match self.m.get(name) {
                Some(m) => (m.affine(self.beta1, 0.0)? + g.affine(1.0 - self.beta1, 0.0)?)?,
                None => g.affine(1.0 - self.beta1, 0.0)?,
            };
            let v = match self.v.get(name) {
                Some(v) => (v.affine(self.beta2, 0.0)? + g.sqr()?.affine(1.0 - self.beta2, 0.0)?)?,
                None => g.sqr()?.affine(1.0 - self.beta2, 0.0)?,
            };
            let denom = v.affine(1.0 / c2, 0.0)?.sqrt()?.affine(1.0, self.eps)?;
            let update = m.affine(self.lr / c1, 0.0)?.div(&denom)?;
            var.set(&var.as_tensor().sub(&update)?)?;
            self.m.insert(name.clone(), m);
            self.v.insert(name.clone(), v);
        }
        Ok(())
    }
}

/// Moves every tensor of `ema` toward `params`: ema ← decay·ema + (1 − decay)·params.
pub fn ema_update(ema: &Params, params: &Params, decay: f64) -> CResult<()> {
    for (name, var) in &ema.vars {
        let src = params.get(name);
        var.set(&(var.as_tensor().affine(decay, 0.0)? + src.affine(1.0 - decay, 0.0)?)?)?;
    }
    Ok(())
}
