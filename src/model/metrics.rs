//! End-of-training figures: VAE reconstruction PSNR and ELBO on held-out images; for both
//! kinds, sample spread against data spread (detects collapse to a few images) and
//! precision/recall (detects dropped modes and samples unlike any data).
//!
//! Precision and recall follow Kynkäänniemi et al. 2019 ("Improved precision and recall"):
//! each set's manifold is the union of balls reaching every point's k-th nearest neighbour in
//! the same set; recall is the share of data images inside the samples' manifold, precision the
//! share of samples inside the data's. The paper measures in a classifier's feature space; kiln
//! ships no classifier, so the features are texture statistics that ignore where a pattern sits
//! in the tile: per channel the mean, the standard deviation and the mean absolute horizontal
//! and vertical differences, each scaled by its spread over the data. A generator that draws
//! five of twelve materials well has a pixel spread like the data's but a recall near 5/12.
//!
//! Owns: [`vae`], [`samples`], [`mean_pairwise_rms`], [`precision_recall`].

use candle_core::{Device, Tensor};

use super::arch::Arch;
use super::dataset::Dataset;
use super::enabled::Model;
use super::ml_err;
use super::nn::Params;
use super::options::{Metrics, MIN_COVERAGE_IMAGES};
use super::stream::Stream;
use super::tensor::fit_planar;
use super::vae::{bce_with_logits_sum, kl_sum, Vae};
use crate::error::Result;
use crate::rng::Rng;

/// PSNR of decode(μ) and the single-draw ELBO per image on `eval`.
pub fn vae(
    vae: &Vae,
    p: &Params,
    data: &Dataset,
    eval: &[usize],
    arch: &Arch,
    seed: u64,
    dev: &Device,
) -> Result<Metrics> {
    let mut se = 0f64;
    let mut elbo = 0f64;
    let mut values = 0usize;
    let mut rng = Rng::stream(seed, Stream::Fixed(1).id());
    for chunk in eval.chunks(64) {
        let x = data.batch(chunk, None, dev)?;
        let n = chunk.len();
        let (f, e) = (|| {
            let (mu, logvar) = vae.encode(p, &x)?;
            let recon = vae.decode(p, &mu)?;
            let se = (recon - &x)?.sqr()?.sum_all()?.to_scalar::<f32>()? as f64;
            let eps = Tensor::from_vec(rng.normals(n * arch.latent), (n, arch.latent), dev)?;
            let z = (&mu + (logvar.affine(0.5, 0.0)?.exp()? * eps)?)?;
            let nll = bce_with_logits_sum(&vae.decode_logits(p, &z)?, &x)?.to_scalar::<f32>()? as f64;
            let kl = kl_sum(&mu, &logvar)?.to_scalar::<f32>()? as f64;
            Ok::<_, candle_core::Error>((se, -(nll + kl)))
        })()
        .map_err(ml_err)?;
        se += f;
        elbo += e;
        values += x.elem_count();
    }
    let mse = se / values.max(1) as f64;
    Ok(Metrics {
        eval_images: eval.len(),
        psnr: Some(10.0 * (1.0 / mse.max(1e-12)).log10()),
        elbo: Some(elbo / eval.len().max(1) as f64),
        ..Metrics::default()
    })
}

/// Images the GAN's precision and recall are measured on, at most, from each side.
const COVERAGE_IMAGES: usize = 512;
/// The neighbour whose distance sets a point's ball (the paper's k = 3).
const COVERAGE_K: usize = 3;

/// Spread of 64 samples against that of up to 64 evaluation images, and precision/recall of
/// as many samples as evaluation images (up to 512; none below [`MIN_COVERAGE_IMAGES`]).
/// Samples come from the model's prior, so a VAE is measured the way `sample` draws.
pub fn samples(model: &Model, data: &Dataset, eval: &[usize], seed: u64) -> Result<Metrics> {
    let real: Vec<Vec<f32>> = eval.iter().take(COVERAGE_IMAGES).map(|&i| data.images[i].clone()).collect();
    let samples = model.sample(real.len().max(64), seed ^ 0x5eed)?;
    let planar: Vec<Vec<f32>> = samples.iter().map(|s| fit_planar(s, model.size())).collect();
    // too few images for a k-NN manifold that means anything: none rather than a noisy 0.00
    let (precision, recall) = (real.len() >= MIN_COVERAGE_IMAGES)
        .then(|| precision_recall(&real, &planar[..real.len()], model.size() as usize, COVERAGE_K))
        .flatten()
        .map_or((None, None), |(p, r)| (Some(p), Some(r)));
    Ok(Metrics {
        eval_images: real.len(),
        sample_spread: Some(mean_pairwise_rms(&planar[..64])),
        data_spread: Some(mean_pairwise_rms(&real[..real.len().min(64)])),
        precision,
        recall,
        ..Metrics::default()
    })
}

/// Precision and recall of planar RGB `samples` against `real` images (side `size`), or `None`
/// when either set has no more than `k` images.
pub fn precision_recall(real: &[Vec<f32>], samples: &[Vec<f32>], size: usize, k: usize) -> Option<(f64, f64)> {
    if real.len() <= k || samples.len() <= k {
        return None;
    }
    let mut real: Vec<[f64; FEATURES]> = real.iter().map(|i| texture_features(i, size)).collect();
    let mut fake: Vec<[f64; FEATURES]> = samples.iter().map(|i| texture_features(i, size)).collect();
    // scale every feature by its spread over the data, so no statistic dominates the distance
    for f in 0..FEATURES {
        let n = real.len() as f64;
        let mean = real.iter().map(|v| v[f]).sum::<f64>() / n;
        let sd = (real.iter().map(|v| (v[f] - mean).powi(2)).sum::<f64>() / n).sqrt().max(1e-9);
        real.iter_mut().chain(fake.iter_mut()).for_each(|v| v[f] = (v[f] - mean) / sd);
    }
    let precision = share_inside(&fake, &real, k);
    let recall = share_inside(&real, &fake, k);
    Some((precision, recall))
}

const FEATURES: usize = 12;

/// Per channel: mean, standard deviation, mean |horizontal difference|, mean |vertical difference|.
fn texture_features(planar: &[f32], size: usize) -> [f64; FEATURES] {
    let mut out = [0f64; FEATURES];
    let plane = size * size;
    for (c, p) in planar.chunks_exact(plane).take(3).enumerate() {
        let n = plane as f64;
        let mean = p.iter().map(|&v| v as f64).sum::<f64>() / n;
        let var = p.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n;
        let (mut dx, mut dy) = (0f64, 0f64);
        for y in 0..size {
            for x in 0..size {
                let v = p[y * size + x] as f64;
                if x + 1 < size {
                    dx += (p[y * size + x + 1] as f64 - v).abs();
                }
                if y + 1 < size {
                    dy += (p[(y + 1) * size + x] as f64 - v).abs();
                }
            }
        }
        let pairs = (size * size.saturating_sub(1)).max(1) as f64;
        out[c * 4..c * 4 + 4].copy_from_slice(&[mean, var.sqrt(), dx / pairs, dy / pairs]);
    }
    out
}

/// Share of `points` inside the union of balls around each of `set` with radius its distance
/// to its k-th nearest neighbour in `set`.
fn share_inside(points: &[[f64; FEATURES]], set: &[[f64; FEATURES]], k: usize) -> f64 {
    let dist =
        |a: &[f64; FEATURES], b: &[f64; FEATURES]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>().sqrt();
    let radii: Vec<f64> = set
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let mut d: Vec<f64> = set.iter().enumerate().filter(|&(j, _)| j != i).map(|(_, b)| dist(a, b)).collect();
            d.sort_by(f64::total_cmp);
            d[k - 1]
        })
        .collect();
    let inside = points.iter().filter(|p| set.iter().zip(&radii).any(|(s, &r)| dist(p, s) <= r)).count();
    inside as f64 / points.len() as f64
}

/// Mean over pairs of the RMS difference of two images (0 when all are identical).
pub fn mean_pairwise_rms(images: &[Vec<f32>]) -> f64 {
    let mut total = 0f64;
    let mut pairs = 0usize;
    for i in 0..images.len() {
        for j in i + 1..images.len() {
            let ss: f64 = images[i].iter().zip(&images[j]).map(|(a, b)| ((a - b) as f64).powi(2)).sum();
            total += (ss / images[i].len().max(1) as f64).sqrt();
            pairs += 1;
        }
    }
    if pairs == 0 {
        0.0
    } else {
        total / pairs as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Planar 8² tiles of two families: smooth reddish and noisy bluish.
    fn family(red: bool, n: usize, rng: &mut Rng) -> Vec<Vec<f32>> {
        (0..n)
            .map(|_| {
                let base = rng.uniforms(3, 0.0, 0.2);
                let noise = if red { 0.05 } else { 0.4 };
                let tint = if red { [0.8, 0.2, 0.1] } else { [0.1, 0.3, 0.8] };
                (0..3 * 64)
                    .map(|i| (tint[i / 64] + base[i / 64] + rng.uniforms(1, -noise, noise)[0]).clamp(0.0, 1.0))
                    .collect()
            })
            .collect()
    }

    #[test]
    fn recall_sees_a_dropped_mode_and_precision_sees_junk() {
        let mut rng = Rng::stream(7, Stream::Fixed(0).id());
        let real = [family(true, 40, &mut rng), family(false, 40, &mut rng)].concat();
        let both = [family(true, 40, &mut rng), family(false, 40, &mut rng)].concat();
        let reds = family(true, 80, &mut rng);
        let grey: Vec<Vec<f32>> = (0..80).map(|i| vec![0.5 + i as f32 * 1e-3; 3 * 64]).collect();

        let (p, r) = precision_recall(&real, &both, 8, 3).unwrap();
        assert!(p > 0.9 && r > 0.9, "both families: precision {p}, recall {r}");
        let (p, r) = precision_recall(&real, &reds, 8, 3).unwrap();
        assert!(p > 0.9 && (0.4..0.6).contains(&r), "one family: precision {p}, recall {r}");
        let (p, _) = precision_recall(&real, &grey, 8, 3).unwrap();
        assert!(p < 0.1, "flat grey is not in the data: precision {p}");
        assert_eq!(precision_recall(&real[..3], &both, 8, 3), None);
    }
}
