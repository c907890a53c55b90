//! Novelty and diversity of texture samples against their exemplar, so that a model which copies
//! its exemplar (or draws the same picture for every seed) does not score well on the Gram
//! distance alone.
//!
//! All distances are RMS differences of the stored RGB values over a `crop × crop` square.
//! - **Nearest-crop distance of a sample**: a few crops of the sample (a grid of up to 3 × 3,
//!   spread over it) are each matched against every exemplar crop position; the mean of their
//!   nearest distances. The search visits a stride grid (`crop / 8`) and then refines the 16
//!   best positions pixel by pixel, so a crop copied from any offset is found exactly (on
//!   repetitive textures such as tiles, other tiles can rank above the true place on the coarse
//!   grid, hence 16 rather than one).
//! - **Exemplar self distance**: the same for crops of the exemplar itself, matched only against
//!   exemplar crops that do not overlap them. This is how far a genuinely new piece of this
//!   texture typically is from its nearest look-alike in the exemplar.
//! - **copy ratio** = nearest-crop distance / exemplar self distance: about 1 is healthy
//!   novelty (the sample is as far from the exemplar as the exemplar is from itself), well
//!   below 1 (towards 0) means the sample copies pieces of the exemplar. Well above 1 means the
//!   sample is unlike every part of the exemplar. A different texture of similar colours can
//!   also score about 1 (sand against granite: 0.85), so read it together with the Gram
//!   distance: that one says "the same texture", this one "not a copy".
//! - **pairwise**: the mean RMS difference between every two samples (over their common
//!   top-left region), and **pairwise ratio** = pairwise / the exemplar's mean distance between
//!   its own non-overlapping crops (what two independent pieces of the texture differ by): about
//!   1 for independent samples, towards 0 when the seeds give the same picture.
//!
//! Crops of the sample and of the exemplar sit on the same kind of grid and are compared at the
//! same positions whatever the thread count; minima are exact, so results are reproducible.
//!
//! Must not know about fields, models or Rhai.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::Image;

crate::option_set! {
    /// Options for [`diversity_with`] (`texture_diversity(samples, exemplar, #{ ... })`).
    #[derive(Copy)]
    pub struct DiversityOptions for "texture_diversity" {
        /// Side of the square crops compared, in pixels. Choose it about the size of the
        /// texture's largest repeating feature; the exemplar must be at least twice as large.
        crop: u32 = 64, range(8, 4096);
    }
}

/// What [`diversity`] measured (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Diversity {
    /// The crop side used.
    pub crop: u32,
    /// The exemplar's own crop-to-nearest-non-overlapping-crop distance.
    pub exemplar_self: f64,
    /// The exemplar's mean distance between its own non-overlapping crops.
    pub exemplar_spread: f64,
    /// Per sample: the mean nearest-crop distance to the exemplar.
    pub nearest: Vec<f64>,
    /// Per sample: `nearest / exemplar_self`.
    pub copy_ratios: Vec<f64>,
    /// The mean of `copy_ratios`.
    pub copy_ratio: f64,
    /// The mean RMS difference between two samples; `None` with fewer than two samples.
    pub pairwise: Option<f64>,
    /// `pairwise / exemplar_spread`.
    pub pairwise_ratio: Option<f64>,
}

/// [`diversity_with`] with crop side `crop`.
pub fn diversity(samples: &[Image], exemplar: &Image, crop: u32) -> Result<Diversity> {
    diversity_with(samples, exemplar, &DiversityOptions { crop })
}

/// Novelty of each sample against `exemplar` and the diversity between samples (module docs).
pub fn diversity_with(samples: &[Image], exemplar: &Image, opts: &DiversityOptions) -> Result<Diversity> {
    let op = "texture_diversity";
    let crop = opts.crop as usize;
    if crop < 8 {
        return Err(Error::param(op, format!("crop must be at least 8 pixels, got {crop}")));
    }
    if samples.is_empty() {
        return Err(Error::param(op, "needs at least one sample"));
    }
    let ex = Rgb::of(exemplar);
    if ex.w < 2 * crop || ex.h < 2 * crop {
        return Err(Error::param(
            op,
            format!("the exemplar ({}×{}) must be at least twice the crop ({crop}) on each side", ex.w, ex.h),
        ));
    }
    for (i, s) in samples.iter().enumerate() {
        if (s.width() as usize) < crop || (s.height() as usize) < crop {
            return Err(Error::param(
                op,
                format!("sample {i} ({}×{}) is smaller than the crop ({crop})", s.width(), s.height()),
            ));
        }
    }

    let own = grid(ex.w, ex.h, crop);
    let mut self_nearest = Vec::with_capacity(own.len());
    for &(x, y) in &own {
        let q = ex.crop(x, y, crop);
        let apart = |px: usize, py: usize| px.abs_diff(x) >= crop || py.abs_diff(y) >= crop;
        self_nearest.push(nearest(&ex, &q, crop, &apart));
        crate::cancel::checkpoint()?;
    }
    let exemplar_self = mean(&self_nearest);
    let mut spread = Vec::new();
    for (i, &(ax, ay)) in own.iter().enumerate() {
        for &(bx, by) in &own[i + 1..] {
            spread.push(ex.rms(ax, ay, &ex.crop(bx, by, crop), crop));
        }
    }
    let exemplar_spread = mean(&spread);

    let mut near = Vec::with_capacity(samples.len());
    for s in samples {
        let s = Rgb::of(s);
        let mut d = Vec::new();
        for (x, y) in grid(s.w, s.h, crop) {
            d.push(nearest(&ex, &s.crop(x, y, crop), crop, &|_, _| true));
            crate::cancel::checkpoint()?;
        }
        near.push(mean(&d));
    }
    let copy_ratios: Vec<f64> = near.iter().map(|d| d / exemplar_self.max(1e-9)).collect();
    let copy_ratio = mean(&copy_ratios);

    let pairwise = (samples.len() >= 2).then(|| {
        let mut d = Vec::new();
        for (i, a) in samples.iter().enumerate() {
            for b in &samples[i + 1..] {
                d.push(whole_rms(a, b));
            }
        }
        mean(&d)
    });
    let pairwise_ratio = pairwise.map(|p| p / exemplar_spread.max(1e-9));
    Ok(Diversity {
        crop: crop as u32,
        exemplar_self,
        exemplar_spread,
        nearest: near,
        copy_ratios,
        copy_ratio,
        pairwise,
        pairwise_ratio,
    })
}

/// Coarse candidates refined pixel by pixel.
const REFINE: usize = 16;

fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Crop corners on a grid of up to 3 × 3 spread evenly over a `w × h` image, no two of them
/// overlapping when the image has room (k crops per side need k · crop pixels).
fn grid(w: usize, h: usize, crop: usize) -> Vec<(usize, usize)> {
    let along = |n: usize| -> Vec<usize> {
        let k = (n / crop).clamp(1, 3);
        if k == 1 {
            return vec![(n - crop) / 2];
        }
        (0..k).map(|i| i * (n - crop) / (k - 1)).collect()
    };
    let (xs, ys) = (along(w), along(h));
    ys.iter().flat_map(|&y| xs.iter().map(move |&x| (x, y))).collect()
}

/// The smallest RMS distance between `q` and an exemplar crop whose corner passes `allowed`:
/// a stride grid first, then every position around the [`REFINE`] best grid points.
fn nearest(ex: &Rgb, q: &[f32], crop: usize, allowed: &(dyn Fn(usize, usize) -> bool + Sync)) -> f64 {
    let stride = (crop / 8).max(1);
    let (mx, my) = (ex.w - crop, ex.h - crop);
    let coarse: Vec<(usize, usize)> = (0..=my)
        .step_by(stride)
        .flat_map(|y| (0..=mx).step_by(stride).map(move |x| (x, y)))
        .filter(|&(x, y)| allowed(x, y))
        .collect();
    let mut scored: Vec<(f64, usize, usize)> = coarse.par_iter().map(|&(x, y)| (ex.sq(x, y, q, crop), x, y)).collect();
    // Ties by position, so the pick does not depend on anything but the values.
    scored.sort_by(|a, b| a.0.total_cmp(&b.0).then((a.2, a.1).cmp(&(b.2, b.1))));
    let mut fine: Vec<(usize, usize)> = Vec::new();
    for &(_, cx, cy) in scored.iter().take(REFINE) {
        for y in cy.saturating_sub(stride)..=(cy + stride).min(my) {
            for x in cx.saturating_sub(stride)..=(cx + stride).min(mx) {
                if allowed(x, y) {
                    fine.push((x, y));
                }
            }
        }
    }
    let best_fine = fine.par_iter().map(|&(x, y)| ex.sq(x, y, q, crop)).reduce(|| f64::INFINITY, f64::min);
    let best = scored.first().map_or(f64::INFINITY, |s| s.0).min(best_fine);
    (best / (crop * crop * 3) as f64).sqrt()
}

/// RMS over RGB between `a` and `b` on their common top-left region.
fn whole_rms(a: &Image, b: &Image) -> f64 {
    let (w, h) = (a.width().min(b.width()), a.height().min(b.height()));
    let sum: f64 = (0..h)
        .into_par_iter()
        .map(|y| {
            let (ra, rb) = (a.row(y), b.row(y));
            (0..w as usize)
                .map(|x| (0..3).map(|c| ((ra[x * 4 + c] - rb[x * 4 + c]) as f64).powi(2)).sum::<f64>())
                .sum::<f64>()
        })
        .collect::<Vec<f64>>()
        .iter()
        .sum();
    (sum / (w as f64 * h as f64 * 3.0)).sqrt()
}

/// The RGB values of an image, pixel-major (alpha dropped, non-finite values as 0).
struct Rgb {
    w: usize,
    h: usize,
    v: Vec<f32>,
}

impl Rgb {
    fn of(img: &Image) -> Rgb {
        let v = img
            .pixels()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .map(|x| if x.is_finite() { x } else { 0.0 })
            .collect();
        Rgb { w: img.width() as usize, h: img.height() as usize, v }
    }

    /// The crop at (x, y), rows of `crop × 3` values.
    fn crop(&self, x: usize, y: usize, crop: usize) -> Vec<f32> {
        (y..y + crop).flat_map(|r| &self.v[(r * self.w + x) * 3..(r * self.w + x + crop) * 3]).copied().collect()
    }

    /// Sum of squared differences between `q` and the crop at (x, y).
    fn sq(&self, x: usize, y: usize, q: &[f32], crop: usize) -> f64 {
        let n = crop * 3;
        let mut total = 0f64;
        for r in 0..crop {
            let row = &self.v[((y + r) * self.w + x) * 3..][..n];
            let s: f32 = row.iter().zip(&q[r * n..(r + 1) * n]).map(|(a, b)| (a - b) * (a - b)).sum();
            total += s as f64;
        }
        total
    }

    /// RMS between `q` and the crop at (x, y).
    fn rms(&self, x: usize, y: usize, q: &[f32], crop: usize) -> f64 {
        (self.sq(x, y, q, crop) / (crop * crop * 3) as f64).sqrt()
    }
}
