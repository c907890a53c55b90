//! The VAE's learned prior: a Gaussian mixture fitted, after training, to the latent means of
//! the training images ("ex-post density estimation", Ghosh et al. 2020, "From variational to
//! deterministic autoencoders", §4).
//!
//! Why: a VAE's encoder never fills N(0, I) evenly. Its training latents sit in clusters (here
//! one or more per material) with empty space between them, and decoding a standard-normal draw
//! that lands in the space between gives a blend of two materials' colours, not a material.
//! Drawing from a mixture fitted to where the latents really are gives samples that look like
//! the reconstructions of training images. The networks do not change; only where `sample` and
//! `latent` draw from.
//!
//! Owns: [`Mixture`] (fit by k-means++ and EM with full covariances, draw, read and write as
//! tensors). Must not know about networks, images or files beyond the tensor names.
//!
//! Written here rather than taken from linfa's `GaussianMixtureModel`: the fit must give
//! bit-identical results at any thread count (every sum below runs in a fixed order, in f64),
//! draw its initial centres from kiln's seeded RNG, and it is about 200 lines against linfa's
//! ndarray stack of crates.

use std::collections::BTreeMap;

use candle_core::{Device, Tensor};
use rayon::prelude::*;

use super::stream::Stream;
use crate::error::{Error, Result};
use crate::rng::Rng;

/// Lloyd iterations that place the initial components.
const KMEANS_ITERATIONS: usize = 10;
/// EM iterations at most; it usually stops well before, when the log-likelihood settles.
const EM_ITERATIONS: usize = 200;
/// EM stops when an iteration gains less than this (nats per point).
const EM_TOLERANCE: f64 = 1e-4;
/// Added to every covariance's diagonal, relative to the data's mean variance, so that a
/// component that shrinks onto a few points keeps a positive-definite covariance.
const REGULARISATION: f64 = 1e-3;
/// Times the Cholesky factorisation retries with ten times more on the diagonal.
const CHOLESKY_TRIES: usize = 12;

/// A Gaussian mixture over latents with full covariances.
#[derive(Clone, Debug, PartialEq)]
pub struct Mixture {
    dim: usize,
    /// Component weights, summing to 1.
    weights: Vec<f64>,
    /// Component means, `components × dim`.
    means: Vec<f64>,
    /// Lower-triangular Cholesky factors L of the covariances (Σ = L Lᵀ), `components × dim × dim`.
    scale_tril: Vec<f64>,
}

impl Mixture {
    /// Fits `components` Gaussians to `points` (each of the same length), reproducibly for `seed`.
    pub fn fit(points: &[Vec<f32>], components: usize, seed: u64) -> Result<Mixture> {
        let dim = points.first().map_or(0, Vec::len);
        check_enough_points(components, points.len())?;
        if dim == 0 || points.iter().any(|p| p.len() != dim || p.iter().any(|v| !v.is_finite())) {
            return Err(Error::Internal("prior: latents of unequal length or not finite".into()));
        }
        let x: Vec<f64> = points.iter().flat_map(|p| p.iter().map(|&v| v as f64)).collect();
        let n = points.len();
        let centre: Vec<f64> = (0..dim).map(|j| (0..n).map(|i| x[i * dim + j]).sum::<f64>() / n as f64).collect();
        let variance = (0..n * dim).map(|t| (x[t] - centre[t % dim]).powi(2)).sum::<f64>() / (n * dim) as f64;
        let reg = REGULARISATION * variance.max(1e-12);

        let labels = kmeans(&x, dim, components, seed);
        let mut resp = vec![0f64; n * components];
        for (i, &k) in labels.iter().enumerate() {
            resp[i * components + k] = 1.0;
        }
        let mut mixture = maximise(&x, dim, &resp, components, reg, None);
        let mut last = f64::NEG_INFINITY;
        for _ in 0..EM_ITERATIONS {
            let (r, mean_ll) = mixture.responsibilities(&x);
            mixture = maximise(&x, dim, &r, components, reg, Some(&mixture));
            if mean_ll - last < EM_TOLERANCE {
                break;
            }
            last = mean_ll;
        }
        // the values a file stores, so that a saved and reloaded model draws the same latents
        Mixture::from_parts(dim, &f32s(&mixture.weights), &f32s(&mixture.means), &f32s(&mixture.scale_tril))
            .map_err(|e| Error::Internal(format!("prior: {e}")))
    }

    /// Number of components.
    pub fn components(&self) -> usize {
        self.weights.len()
    }

    /// One latent: `dim` standard normals ε, then one uniform picks the component k, and the
    /// latent is μₖ + Lₖ ε (so the mixture reshapes the same ε a standard-normal draw would use).
    pub fn draw(&self, rng: &mut Rng) -> Vec<f32> {
        let eps = rng.normals(self.dim);
        let u = rng.float32() as f64;
        let mut k = 0;
        let mut acc = self.weights[0];
        while u >= acc && k + 1 < self.components() {
            k += 1;
            acc += self.weights[k];
        }
        let (mean, l) = (self.mean(k), self.tril(k));
        (0..self.dim)
            .map(|r| (mean[r] + (0..=r).map(|c| l[r * self.dim + c] * eps[c] as f64).sum::<f64>()) as f32)
            .collect()
    }

    /// Mean log-density of `points` under the mixture (nats per point).
    #[cfg(test)]
    fn mean_log_likelihood(&self, points: &[Vec<f32>]) -> f64 {
        let x: Vec<f64> = points.iter().flat_map(|p| p.iter().map(|&v| v as f64)).collect();
        self.responsibilities(&x).1
    }

    fn mean(&self, k: usize) -> &[f64] {
        &self.means[k * self.dim..(k + 1) * self.dim]
    }

    fn tril(&self, k: usize) -> &[f64] {
        &self.scale_tril[k * self.dim * self.dim..(k + 1) * self.dim * self.dim]
    }

    /// log(wₖ N(x | μₖ, Σₖ)) for one point and every component.
    fn log_joint(&self, point: &[f64]) -> Vec<f64> {
        let d = self.dim;
        let mut y = vec![0f64; d];
        (0..self.components())
            .map(|k| {
                let (mean, l) = (self.mean(k), self.tril(k));
                // solve L y = x − μ; |y|² is the Mahalanobis distance
                let mut log_det = 0.0;
                for r in 0..d {
                    let s: f64 = (0..r).map(|c| l[r * d + c] * y[c]).sum();
                    y[r] = (point[r] - mean[r] - s) / l[r * d + r];
                    log_det += l[r * d + r].ln();
                }
                let m2: f64 = y.iter().map(|v| v * v).sum();
                self.weights[k].max(f64::MIN_POSITIVE).ln()
                    - 0.5 * (d as f64 * (std::f64::consts::TAU).ln() + m2)
                    - log_det
            })
            .collect()
    }

    /// Posterior component probabilities of every point (row-major n × K) and the mean
    /// log-likelihood. Points run in parallel; each row is computed alone and the mean summed
    /// in point order, so the result does not depend on the thread count.
    fn responsibilities(&self, x: &[f64]) -> (Vec<f64>, f64) {
        let rows: Vec<(Vec<f64>, f64)> = x
            .par_chunks(self.dim)
            .map(|point| {
                let mut lj = self.log_joint(point);
                let top = lj.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let total: f64 = lj.iter().map(|v| (v - top).exp()).sum();
                let log_total = top + total.ln();
                lj.iter_mut().for_each(|v| *v = (*v - log_total).exp());
                (lj, log_total)
            })
            .collect();
        let n = rows.len().max(1) as f64;
        let mean_ll = rows.iter().map(|(_, ll)| ll).sum::<f64>() / n;
        (rows.into_iter().flat_map(|(r, _)| r).collect(), mean_ll)
    }

    /// The tensors a model file stores: `prior.weights` (K), `prior.means` (K, d) and
    /// `prior.scale_tril` (K, d, d).
    pub fn tensors(&self) -> candle_core::Result<BTreeMap<String, Tensor>> {
        let (k, d) = (self.components(), self.dim);
        Ok(BTreeMap::from([
            ("prior.weights".to_string(), Tensor::from_vec(f32s(&self.weights), k, &Device::Cpu)?),
            ("prior.means".to_string(), Tensor::from_vec(f32s(&self.means), (k, d), &Device::Cpu)?),
            ("prior.scale_tril".to_string(), Tensor::from_vec(f32s(&self.scale_tril), (k, d, d), &Device::Cpu)?),
        ]))
    }

    /// The mixture from stored values (shapes already checked by the caller), or why they are
    /// not one: weights must be non-negative with a positive sum (they are renormalised), and
    /// the factors' diagonals positive; the upper triangles are ignored.
    pub fn from_parts(
        dim: usize,
        weights: &[f32],
        means: &[f32],
        scale_tril: &[f32],
    ) -> std::result::Result<Mixture, String> {
        let k = weights.len();
        if k == 0 || means.len() != k * dim || scale_tril.len() != k * dim * dim {
            return Err("prior tensors disagree in size".into());
        }
        let total: f64 = weights.iter().map(|&w| w as f64).sum();
        if weights.iter().any(|&w| w < 0.0) || total <= 0.0 {
            return Err("prior weights must be non-negative with a positive sum".into());
        }
        let mut tril: Vec<f64> = scale_tril.iter().map(|&v| v as f64).collect();
        for (t, v) in tril.iter_mut().enumerate() {
            let (r, c) = ((t / dim) % dim, t % dim);
            if c > r {
                *v = 0.0;
            } else if c == r && *v <= 0.0 {
                return Err("prior covariance factor has a diagonal entry that is not positive".into());
            }
        }
        Ok(Mixture {
            dim,
            weights: weights.iter().map(|&w| w as f64 / total).collect(),
            means: means.iter().map(|&v| v as f64).collect(),
            scale_tril: tril,
        })
    }
}

/// Whether `points` latents can carry a `components`-component mixture (two per component at
/// least). Training calls it before the first step, so a run does not fail only at its end.
pub fn check_enough_points(components: usize, points: usize) -> Result<()> {
    if components == 0 || points < 2 * components {
        return Err(Error::param(
            "prior",
            format!(
                "a {components}-component prior needs at least {} training images, got {points}",
                2 * components.max(1)
            ),
        ));
    }
    Ok(())
}

/// The values as f32, as files store them.
fn f32s(values: &[f64]) -> Vec<f32> {
    values.iter().map(|&x| x as f32).collect()
}

/// k-means++ seeding and a few Lloyd iterations; returns each point's cluster.
fn kmeans(x: &[f64], dim: usize, k: usize, seed: u64) -> Vec<usize> {
    let n = x.len() / dim;
    let point = |i: usize| &x[i * dim..(i + 1) * dim];
    let dist2 = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(p, q)| (p - q).powi(2)).sum::<f64>();
    let mut rng = Rng::stream(seed, Stream::Fixed(3).id());
    let mut centres: Vec<Vec<f64>> = vec![point(rng.below(n)).to_vec()];
    let mut nearest: Vec<f64> = (0..n).map(|i| dist2(point(i), &centres[0])).collect();
    while centres.len() < k {
        // the next centre is drawn with probability proportional to the squared distance
        let total: f64 = nearest.iter().sum();
        let target = rng.float32() as f64 * total;
        let mut acc = 0.0;
        let chosen = (0..n).find(|&i| {
            acc += nearest[i];
            acc > target
        });
        let c = point(chosen.unwrap_or(n - 1)).to_vec();
        nearest.iter_mut().enumerate().for_each(|(i, d)| *d = d.min(dist2(point(i), &c)));
        centres.push(c);
    }
    let mut labels = vec![0usize; n];
    for _ in 0..KMEANS_ITERATIONS {
        labels = (0..n)
            .into_par_iter()
            .map(|i| {
                let d: Vec<f64> = centres.iter().map(|c| dist2(point(i), c)).collect();
                (0..k).min_by(|&a, &b| d[a].total_cmp(&d[b])).unwrap_or(0)
            })
            .collect();
        for (j, c) in centres.iter_mut().enumerate() {
            let members: Vec<usize> = (0..n).filter(|&i| labels[i] == j).collect();
            if !members.is_empty() {
                for (t, v) in c.iter_mut().enumerate() {
                    *v = members.iter().map(|&i| x[i * dim + t]).sum::<f64>() / members.len() as f64;
                }
            }
        }
    }
    labels
}

/// The M step: weights, means and regularised covariances from responsibilities `resp`
/// (n × K). A component with (almost) no weight keeps its previous mean and covariance.
/// Components run in parallel, each summing over points in order.
fn maximise(x: &[f64], dim: usize, resp: &[f64], k: usize, reg: f64, previous: Option<&Mixture>) -> Mixture {
    let n = x.len() / dim;
    let parts: Vec<(f64, Vec<f64>, Vec<f64>)> = (0..k)
        .into_par_iter()
        .map(|j| {
            let nk: f64 = (0..n).map(|i| resp[i * k + j]).sum();
            if nk < 1e-8 {
                if let Some(prev) = previous {
                    return (0.0, prev.mean(j).to_vec(), prev.tril(j).to_vec());
                }
            }
            let nk_safe = nk.max(1e-12);
            let mut mean = vec![0f64; dim];
            for i in 0..n {
                let r = resp[i * k + j];
                if r != 0.0 {
                    mean.iter_mut().zip(&x[i * dim..(i + 1) * dim]).for_each(|(m, v)| *m += r * v);
                }
            }
            mean.iter_mut().for_each(|m| *m /= nk_safe);
            let mut cov = vec![0f64; dim * dim];
            let mut diff = vec![0f64; dim];
            for i in 0..n {
                let r = resp[i * k + j];
                if r == 0.0 {
                    continue;
                }
                diff.iter_mut().zip(&x[i * dim..(i + 1) * dim]).zip(&mean).for_each(|((d, v), m)| *d = v - m);
                for a in 0..dim {
                    let ra = r * diff[a];
                    for b in 0..=a {
                        cov[a * dim + b] += ra * diff[b];
                    }
                }
            }
            for a in 0..dim {
                for b in 0..=a {
                    cov[a * dim + b] /= nk_safe;
                }
                cov[a * dim + a] += reg;
            }
            (nk, mean, cholesky(&cov, dim, reg))
        })
        .collect();
    let total: f64 = parts.iter().map(|p| p.0).sum::<f64>().max(1e-12);
    Mixture {
        dim,
        weights: parts.iter().map(|p| p.0 / total).collect(),
        means: parts.iter().flat_map(|p| p.1.iter().copied()).collect(),
        scale_tril: parts.into_iter().flat_map(|p| p.2).collect(),
    }
}

/// The lower Cholesky factor of the symmetric matrix whose lower triangle is `a`; if rounding
/// leaves it not quite positive-definite, more of `reg` is added to the diagonal until it is.
/// Should even that fail (it cannot for the finite, regularised covariances EM makes), the
/// factor of the diagonal alone.
fn cholesky(a: &[f64], dim: usize, reg: f64) -> Vec<f64> {
    let mut jitter = 0.0;
    for _ in 0..CHOLESKY_TRIES {
        let mut l = vec![0f64; dim * dim];
        let mut ok = true;
        'rows: for r in 0..dim {
            for c in 0..=r {
                let s: f64 = (0..c).map(|t| l[r * dim + t] * l[c * dim + t]).sum();
                if r == c {
                    let v = a[r * dim + r] + jitter - s;
                    if v <= 0.0 || !v.is_finite() {
                        ok = false;
                        break 'rows;
                    }
                    l[r * dim + r] = v.sqrt();
                } else {
                    l[r * dim + c] = (a[r * dim + c] - s) / l[c * dim + c];
                }
            }
        }
        if ok {
            return l;
        }
        jitter = if jitter == 0.0 { reg.max(1e-12) } else { jitter * 10.0 };
    }
    let mut l = vec![0f64; dim * dim];
    for r in 0..dim {
        let v = a[r * dim + r].abs() + reg;
        l[r * dim + r] = if v.is_finite() && v > 0.0 { v.sqrt() } else { 1.0 };
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Points from two well-separated 2-D Gaussians with known means and covariances.
    fn two_blobs(n: usize) -> Vec<Vec<f32>> {
        let mut rng = Rng::stream(5, Stream::Fixed(0).id());
        (0..n)
            .map(|i| {
                let (e0, e1) = (rng.gaussian() as f32, rng.gaussian() as f32);
                if i % 4 == 0 {
                    // weight 1/4, mean (6, 6), covariance [[1, 0.8], [0.8, 1]]
                    vec![6.0 + e0, 6.0 + 0.8 * e0 + 0.6 * e1]
                } else {
                    // weight 3/4, mean (−2, 0), covariance diag(0.25, 4)
                    vec![-2.0 + 0.5 * e0, 2.0 * e1]
                }
            })
            .collect()
    }

    #[test]
    fn recovers_the_weights_means_and_covariances_of_a_known_mixture() {
        let points = two_blobs(8000);
        let m = Mixture::fit(&points, 2, 1).unwrap();
        let big = if m.weights[0] > m.weights[1] { 0 } else { 1 };
        let small = 1 - big;
        assert!((m.weights[small] - 0.25).abs() < 0.02, "weights {:?}", m.weights);
        let close = |got: &[f64], want: &[f64], tol: f64| got.iter().zip(want).all(|(g, w)| (g - w).abs() < tol);
        assert!(close(m.mean(small), &[6.0, 6.0], 0.1), "{:?}", m.mean(small));
        assert!(close(m.mean(big), &[-2.0, 0.0], 0.1), "{:?}", m.mean(big));
        // Σ = L Lᵀ against the covariances the points were drawn with
        let cov = |l: &[f64]| [l[0] * l[0], l[2] * l[0], l[2] * l[2] + l[3] * l[3]];
        assert!(close(&cov(m.tril(small)), &[1.0, 0.8, 1.0], 0.1), "{:?}", cov(m.tril(small)));
        assert!(close(&cov(m.tril(big)), &[0.25, 0.0, 4.0], 0.15), "{:?}", cov(m.tril(big)));
    }

    #[test]
    fn draws_follow_the_fitted_mixture_and_are_reproducible() {
        let m = Mixture::fit(&two_blobs(4000), 2, 1).unwrap();
        let draws: Vec<Vec<f32>> = (0..4000).map(|i| m.draw(&mut Rng::stream(9, Stream::Sample(i).id()))).collect();
        let upper = draws.iter().filter(|z| z[0] > 2.0).count() as f64 / draws.len() as f64;
        assert!((upper - 0.25).abs() < 0.03, "share in the small component {upper}");
        assert_eq!(m.draw(&mut Rng::stream(9, Stream::Sample(3).id())), draws[3]);
        // the fitted mixture explains its own draws about as well as the data
        let (ll_data, ll_draws) = (m.mean_log_likelihood(&two_blobs(4000)), m.mean_log_likelihood(&draws));
        assert!((ll_data - ll_draws).abs() < 0.1, "{ll_data} vs {ll_draws}");
    }

    #[test]
    fn the_fit_does_not_depend_on_the_thread_count() {
        let points = two_blobs(3000);
        let fit = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| Mixture::fit(&points, 3, 4).unwrap())
        };
        assert_eq!(fit(1), fit(4));
    }

    #[test]
    fn cholesky_factors_a_known_matrix_and_survives_one_that_is_not_positive_definite() {
        // [[4, 2], [2, 3]] = L Lᵀ with L = [[2, 0], [1, √2]]
        let l = cholesky(&[4.0, 0.0, 2.0, 3.0], 2, 1e-9);
        let want = [2.0, 0.0, 1.0, 2f64.sqrt()];
        assert!(l.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6), "{l:?}");
        let l = cholesky(&[1.0, 0.0, 5.0, 1.0], 2, 1e-3);
        assert!(l.iter().all(|v| v.is_finite()) && l[0] > 0.0 && l[3] > 0.0, "{l:?}");
        let l = cholesky(&[f64::NAN, 0.0, 0.0, 1.0], 2, 1e-3);
        assert!(l.iter().all(|v| v.is_finite()), "{l:?}");
    }

    #[test]
    fn too_few_points_and_bad_stored_values_are_errors() {
        assert!(Mixture::fit(&two_blobs(5), 3, 0).is_err());
        assert!(Mixture::from_parts(2, &[1.0], &[0.0, 0.0], &[1.0, 0.0, 0.0, -1.0]).is_err());
        assert!(Mixture::from_parts(2, &[-1.0], &[0.0, 0.0], &[1.0, 0.0, 0.0, 1.0]).is_err());
        assert!(Mixture::from_parts(2, &[1.0, 1.0], &[0.0, 0.0], &[1.0, 0.0, 0.0, 1.0]).is_err());
        let m = Mixture::from_parts(2, &[2.0], &[0.0, 0.0], &[1.0, 9.0, 0.0, 1.0]).unwrap();
        assert_eq!(m.weights, vec![1.0]);
        assert_eq!(m.tril(0), &[1.0, 0.0, 0.0, 1.0], "the upper triangle is ignored");
    }
}
