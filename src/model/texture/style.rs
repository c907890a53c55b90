//! The texture-statistics loss the generator trains with beside the adversarial one: Gram
//! matrices of a fixed random-filter network (Ustyuzhaninov, Brendel, Gatys, Bethge 2016 showed
//! random filters carry enough texture statistics for synthesis; no pretrained network can be
//! downloaded here).
//!
//! Why it is there: on two CPU cores a texture GAN gets a few thousand steps. The adversarial
//! loss alone spends the first of them on colour blobs; matching feature correlations gives the
//! generator the exemplar's colours, contrasts and grain within a few hundred steps, and the
//! patch discriminator then sharpens edges and shapes that second-order statistics miss.
//!
//! Three 3×3 layers of 32 random filters (the second and third with stride 2, so the Gram
//! matrices see three scales), leaky ReLU; weights drawn once from a fixed seed, never trained,
//! never saved. The loss per layer is ‖G(fake) − G(real)‖² / ‖G(real)‖²: scale-free, so the
//! `style` weight means the same at every layer.
//!
//! This network's seed differs from the one `image::texture_stats` (the quality metric) uses, so
//! the reported texture distance is not the quantity the generator optimised.
//!
//! Owns: [`StyleNet`]. Must not know about generators or files.

use candle_core::{Device, Tensor};

use super::super::conv_gemm::conv2d;
use super::super::nn::leaky;
use crate::rng::Rng;

type CResult<T> = candle_core::Result<T>;

/// Seed of the fixed filters ("kiln tex").
const FILTER_SEED: u64 = 0x6b69_6c6e_2074_6578;
const FILTERS: usize = 32;

/// The fixed random-filter network.
pub struct StyleNet {
    layers: Vec<(Tensor, usize)>,
}

impl StyleNet {
    pub fn new(device: &Device) -> CResult<StyleNet> {
        let mut rng = Rng::new(FILTER_SEED);
        let mut layers = Vec::new();
        let mut c = 3;
        for stride in [1, 2, 2] {
            let fan_in = c * 9;
            let w: Vec<f32> =
                rng.normals(FILTERS * fan_in).into_iter().map(|v| v * (2.0 / fan_in as f32).sqrt()).collect();
            layers.push((Tensor::from_vec(w, (FILTERS, c, 3, 3), device)?, stride));
            c = FILTERS;
        }
        Ok(StyleNet { layers })
    }

    /// Gram matrices (n, F, F) of every layer for images `x` (n, 3, h, w) in [−1, 1].
    pub fn grams(&self, x: &Tensor) -> CResult<Vec<Tensor>> {
        let mut h = x.clone();
        let mut out = Vec::with_capacity(self.layers.len());
        for (w, stride) in &self.layers {
            h = leaky(&conv2d(&h, w, *stride, 1)?)?;
            let (n, c, hh, ww) = h.dims4()?;
            let f = h.reshape((n, c, hh * ww))?;
            out.push(f.matmul(&f.t()?)?.affine(1.0 / (hh * ww) as f64, 0.0)?);
        }
        Ok(out)
    }

    /// Mean over the batch and sum over layers of ‖G(fake) − G(real)‖² / ‖G(real)‖², image i of
    /// `fake` against image i of `real` (same exemplar).
    pub fn loss(&self, fake: &Tensor, real_grams: &[Tensor]) -> CResult<Tensor> {
        let mut total: Option<Tensor> = None;
        for (gf, gr) in self.grams(fake)?.iter().zip(real_grams) {
            let num = (gf - gr)?.sqr()?.sum((1, 2))?;
            let den = gr.sqr()?.sum((1, 2))?.affine(1.0, 1e-8)?;
            let l = num.div(&den)?.mean_all()?;
            total = Some(match total {
                Some(t) => (t + l)?,
                None => l,
            });
        }
        total.ok_or_else(|| candle_core::Error::Msg("style net has no layers".into()))
    }
}
