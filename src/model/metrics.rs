//! End-of-training figures: VAE reconstruction PSNR and ELBO on held-out images; GAN sample
//! spread against data spread (a mode-collapse detector).
//!
//! Owns: [`vae`], [`gan`], [`mean_pairwise_rms`].

use candle_core::{Device, Tensor};

use super::arch::Arch;
use super::dataset::Dataset;
use super::enabled::Model;
use super::ml_err;
use super::nn::Params;
use super::options::Metrics;
use super::rng::{Rng, Stream};
use super::tensor::fit_planar;
use super::vae::{bce_with_logits_sum, kl_sum, Vae};
use crate::error::Result;

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
    let mut rng = Rng::new(seed, Stream::Fixed(1));
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

/// Spread of 64 samples against the spread of up to 64 evaluation images.
pub fn gan(model: &Model, data: &Dataset, eval: &[usize], seed: u64) -> Result<Metrics> {
    let samples = model.sample(64, seed ^ 0x5eed)?;
    let planar: Vec<Vec<f32>> = samples.iter().map(|s| fit_planar(s, model.size())).collect();
    let real: Vec<Vec<f32>> = eval.iter().take(64).map(|&i| data.images[i].clone()).collect();
    Ok(Metrics {
        eval_images: real.len(),
        sample_spread: Some(mean_pairwise_rms(&planar)),
        data_spread: Some(mean_pairwise_rms(&real)),
        ..Metrics::default()
    })
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
