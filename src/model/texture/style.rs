//! The texture-statistics loss the generator trains with beside the adversarial one: the
//! sliced Wasserstein distance between the feature distributions of a fake and a real crop
//! (Heitz, Vanhoey, Chambon, Belcour 2021, "A Sliced Wasserstein Loss for Neural Texture
//! Synthesis"), on a fixed random-filter network (Ustyuzhaninov, Brendel, Gatys, Bethge 2016
//! showed random filters carry enough texture statistics for synthesis; no pretrained network
//! can be downloaded here).
//!
//! Why it is there: on two CPU cores a texture GAN gets a few thousand steps. The adversarial
//! loss alone spends the first of them on colour blobs; matching feature distributions gives the
//! generator the exemplar's colours, contrasts and grain within a few hundred steps, and the
//! patch discriminator then sharpens edges and shapes that marginal statistics miss.
//!
//! Why sliced Wasserstein and not Gram or covariance matrices: both were tried first. Their
//! gradient vanishes at a flat image (they are quadratic in the centred features), and a
//! generator that overshot while shrinking its initial contrast stayed flat grey for hundreds of
//! steps. Sorting projected features compares whole distributions: every fake value is pulled
//! toward the real value of the same rank, so a flat image gets the full pull toward the
//! exemplar's contrast.
//!
//! Layers: the pixels themselves (colour distribution), then 3×3 layers of 32 random filters,
//! the first at full size and each next one with stride 2 (five layers at patch 64, whose
//! deepest feature map is 4×4 and sees 33 pixels; one more per doubling of the patch, so the
//! deepest map stays 4×4 and sees 65 pixels at patch 128), leaky ReLU; weights drawn once
//! from a fixed seed, never trained, never saved. Each step projects every layer's features on
//! as many random unit directions as it has channels (drawn from the step's stream), sorts each
//! projection over the pixels and takes the mean squared difference of the sorted values.
//!
//! This network's seed differs from the one the quality metric (`image::texture_stats`) uses, and
//! the metric compares Gram matrices, so the reported texture distance is not the quantity the
//! generator optimised.
//!
//! Owns: [`StyleNet`]. Must not know about generators or files.

use candle_core::{Device, Tensor};

use super::super::conv_gemm::conv2d;
use super::super::nn::leaky;
use super::arch::TextureArch;
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
    /// The network for a model's training patch: [`TextureArch::critic_levels`] + 1 halvings.
    /// The filters of the layers both sizes share are the same (drawn in order from one seed).
    pub fn new(device: &Device, arch: &TextureArch) -> CResult<StyleNet> {
        let halvings = arch.critic_levels() + 1;
        let mut rng = Rng::new(FILTER_SEED);
        let mut layers = Vec::new();
        let mut c = 3;
        let strides = std::iter::once(1).chain(std::iter::repeat_n(2, halvings));
        for stride in strides {
            let fan_in = c * 9;
            let w: Vec<f32> =
                rng.normals(FILTERS * fan_in).into_iter().map(|v| v * (2.0 / fan_in as f32).sqrt()).collect();
            layers.push((Tensor::from_vec(w, (FILTERS, c, 3, 3), device)?, stride));
            c = FILTERS;
        }
        Ok(StyleNet { layers })
    }

    /// Every layer's features (n, c, h·w) for images `x` (n, 3, h, w) in [−1, 1], the pixels first.
    pub fn features(&self, x: &Tensor) -> CResult<Vec<Tensor>> {
        let flat = |h: &Tensor| -> CResult<Tensor> {
            let (n, c, hh, ww) = h.dims4()?;
            h.reshape((n, c, hh * ww))
        };
        let mut h = x.clone();
        let mut out = vec![flat(&h)?];
        for (w, stride) in &self.layers {
            h = leaky(&conv2d(&h, w, *stride, 1)?)?;
            out.push(flat(&h)?);
        }
        Ok(out)
    }

    /// Random unit directions for one step: one (c, c) matrix per layer, rows of unit length.
    pub fn directions(&self, rng: &mut Rng, device: &Device) -> CResult<Vec<Tensor>> {
        let mut channels = vec![3];
        channels.extend(std::iter::repeat_n(FILTERS, self.layers.len()));
        channels
            .into_iter()
            .map(|c| {
                let mut v = rng.normals(c * c);
                for row in v.chunks_exact_mut(c) {
                    let norm = row.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
                    row.iter_mut().for_each(|x| *x /= norm);
                }
                Tensor::from_vec(v, (1, c, c), device)
            })
            .collect()
    }

    /// The sorted projections of `features` on `dirs`: what [`StyleNet::loss`] compares.
    pub fn sorted(&self, features: &[Tensor], dirs: &[Tensor]) -> CResult<Vec<Tensor>> {
        features
            .iter()
            .zip(dirs)
            .map(|(f, d)| Ok(d.broadcast_matmul(f)?.contiguous()?.sort_last_dim(true)?.0))
            .collect()
    }

    /// Sum over layers of the mean squared difference between the sorted projections of `fake`
    /// and `real_sorted` (image i against image i: the same exemplar).
    pub fn loss(&self, fake: &Tensor, real_sorted: &[Tensor], dirs: &[Tensor]) -> CResult<Tensor> {
        let fake_sorted = self.sorted(&self.features(fake)?, dirs)?;
        let mut total: Option<Tensor> = None;
        for (f, r) in fake_sorted.iter().zip(real_sorted) {
            let l = (f - r)?.sqr()?.mean_all()?;
            total = Some(match total {
                Some(t) => (t + l)?,
                None => l,
            });
        }
        total.ok_or_else(|| candle_core::Error::Msg("style net has no layers".into()))
    }
}
