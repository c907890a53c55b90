//! Reconstruction quality: PSNR and SSIM between two images of the same size.
//!
//! Owns: [`psnr`] and [`ssim`]. Plain numbers: compiles with or without the `ml` feature.
//!
//! SSIM is Wang, Bovik, Sheikh & Simoncelli (2004): an 11×11 Gaussian window with σ = 1.5,
//! K1 = 0.01, K2 = 0.03, data range 1, population (not sample) variances, computed **per RGB
//! channel** and averaged over the three channels, and over the positions where the whole window
//! lies inside the image (the image minus a 5-pixel border, as scikit-image's
//! `structural_similarity(..., gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
//! data_range=1, channel_axis=-1)` does). Alpha is ignored. Written by hand because the one
//! crate that has it (`image-compare`) uses a uniform 8×8 window, not the published one.
//! `tests/data/ssim_reference.py` computed the reference values of the tests with numpy.

use crate::error::{Error, Result};
use crate::image::Image;

/// Side of the SSIM window.
pub const SSIM_WINDOW: usize = 11;
const SSIM_SIGMA: f64 = 1.5;
const C1: f64 = 0.01 * 0.01;
const C2: f64 = 0.03 * 0.03;

fn same_size(op: &str, a: &Image, b: &Image) -> Result<()> {
    if a.dimensions() != b.dimensions() {
        return Err(Error::param(
            op,
            format!("images differ in size: {}x{} and {}x{}", a.width(), a.height(), b.width(), b.height()),
        ));
    }
    Ok(())
}

/// Peak signal-to-noise ratio in dB over the RGB values (alpha ignored), values clamped to
/// 0..1: 10 · log10(1 / MSE). Identical images give infinity.
pub fn psnr(a: &Image, b: &Image) -> Result<f64> {
    same_size("psnr", a, b)?;
    let mut sum = 0f64;
    for (p, q) in a.pixels().chunks_exact(4).zip(b.pixels().chunks_exact(4)) {
        for c in 0..3 {
            let d = p[c].clamp(0.0, 1.0) as f64 - q[c].clamp(0.0, 1.0) as f64;
            sum += d * d;
        }
    }
    let mse = sum / (3 * a.pixel_count()) as f64;
    Ok(if mse == 0.0 { f64::INFINITY } else { 10.0 * (1.0 / mse).log10() })
}

/// The normalised 1-D Gaussian of the SSIM window.
fn gaussian() -> [f64; SSIM_WINDOW] {
    let r = (SSIM_WINDOW / 2) as f64;
    let mut g = [0f64; SSIM_WINDOW];
    for (i, v) in g.iter_mut().enumerate() {
        let x = i as f64 - r;
        *v = (-x * x / (2.0 * SSIM_SIGMA * SSIM_SIGMA)).exp();
    }
    let total: f64 = g.iter().sum();
    g.iter_mut().for_each(|v| *v /= total);
    g
}

/// The Gaussian-weighted mean of `plane` (w × h) over every full window: (w − 10) × (h − 10).
fn filter_valid(plane: &[f64], w: usize, h: usize, g: &[f64; SSIM_WINDOW]) -> Vec<f64> {
    let (ow, oh) = (w + 1 - SSIM_WINDOW, h + 1 - SSIM_WINDOW);
    let mut rows = vec![0f64; ow * h];
    for y in 0..h {
        for x in 0..ow {
            rows[y * ow + x] = (0..SSIM_WINDOW).map(|k| g[k] * plane[y * w + x + k]).sum();
        }
    }
    let mut out = vec![0f64; ow * oh];
    for y in 0..oh {
        for x in 0..ow {
            out[y * ow + x] = (0..SSIM_WINDOW).map(|k| g[k] * rows[(y + k) * ow + x]).sum();
        }
    }
    out
}

/// Mean structural similarity of two images of the same size, at least 11×11 (see the module
/// docs): 1 for identical images, lower the more their local structure differs.
pub fn ssim(a: &Image, b: &Image) -> Result<f64> {
    same_size("ssim", a, b)?;
    let (w, h) = (a.width() as usize, a.height() as usize);
    if w < SSIM_WINDOW || h < SSIM_WINDOW {
        return Err(Error::param("ssim", format!("images must be at least 11x11, got {w}x{h}")));
    }
    let g = gaussian();
    let plane = |img: &Image, c: usize| -> Vec<f64> {
        img.pixels().chunks_exact(4).map(|p| p[c].clamp(0.0, 1.0) as f64).collect()
    };
    let mut total = 0f64;
    for c in 0..3 {
        let (x, y) = (plane(a, c), plane(b, c));
        let xx: Vec<f64> = x.iter().map(|v| v * v).collect();
        let yy: Vec<f64> = y.iter().map(|v| v * v).collect();
        let xy: Vec<f64> = x.iter().zip(&y).map(|(p, q)| p * q).collect();
        let [mx, my, sxx, syy, sxy] = [&x, &y, &xx, &yy, &xy].map(|p| filter_valid(p, w, h, &g));
        let mut sum = 0f64;
        for i in 0..mx.len() {
            let (ux, uy) = (mx[i], my[i]);
            let vx = sxx[i] - ux * ux;
            let vy = syy[i] - uy * uy;
            let cov = sxy[i] - ux * uy;
            sum += ((2.0 * ux * uy + C1) * (2.0 * cov + C2)) / ((ux * ux + uy * uy + C1) * (vx + vy + C2));
        }
        total += sum / mx.len() as f64;
    }
    Ok(total / 3.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(w: u32, h: u32, v: f32) -> Image {
        Image::from_fn(w, h, |_, _| [v, v, v, 1.0]).unwrap()
    }

    /// The reference images of tests/data/ssim_reference.py, from the same formulas.
    fn pattern(w: u32, h: u32, shifted: bool) -> Image {
        Image::from_fn(w, h, |x, y| {
            let (x, y) = (x as f64, y as f64);
            let mut p = [1f32; 4];
            for (c, v) in p.iter_mut().take(3).enumerate() {
                let c = c as f64;
                let base = 0.5 + 0.3 * (0.31 * x + 0.17 * y + c).sin() + 0.15 * (0.05 * x * y + 2.0 * c).cos();
                let value = if shifted { base + 0.1 * (0.9 * x - 0.4 * y + c).sin() - 0.02 } else { base };
                *v = value.clamp(0.0, 1.0) as f32;
            }
            p
        })
        .unwrap()
    }

    #[test]
    fn hand_checkable_cases() {
        // identical images: SSIM 1, PSNR infinite
        let a = pattern(20, 16, false);
        assert!((ssim(&a, &a).unwrap() - 1.0).abs() < 1e-12);
        assert_eq!(psnr(&a, &a).unwrap(), f64::INFINITY);
        // two flat images 0.2 and 0.6: no variance, so SSIM = (2·0.2·0.6 + C1) / (0.2² + 0.6² + C1)
        let (p, q) = (flat(16, 12, 0.2), flat(16, 12, 0.6));
        let expected = (2.0 * 0.2 * 0.6 + C1) / (0.04 + 0.36 + C1);
        assert!((ssim(&p, &q).unwrap() - expected).abs() < 1e-6, "{}", ssim(&p, &q).unwrap());
        // PSNR of a difference of 0.1 everywhere: 10 log10(1 / 0.01) = 20 dB
        let r = flat(16, 12, 0.3);
        assert!((psnr(&p, &r).unwrap() - 20.0).abs() < 1e-5);
        assert!(ssim(&p, &flat(10, 12, 0.2)).is_err());
        assert!(ssim(&flat(10, 10, 0.2), &flat(10, 10, 0.2)).is_err());
    }

    /// Against numpy (tests/data/ssim_reference.py, run once; its output is pasted here).
    #[test]
    fn matches_the_numpy_reference() {
        let (a, b) = (pattern(48, 40, false), pattern(48, 40, true));
        let (s, p) = (ssim(&a, &b).unwrap(), psnr(&a, &b).unwrap());
        assert!((s - SSIM_REFERENCE).abs() < 1e-5, "ssim {s} vs numpy {SSIM_REFERENCE}");
        assert!((p - PSNR_REFERENCE).abs() < 1e-4, "psnr {p} vs numpy {PSNR_REFERENCE}");
    }

    const SSIM_REFERENCE: f64 = 0.888770143040876;
    const PSNR_REFERENCE: f64 = 22.741101984201727;
}
