//! Texture-statistics distance from Gram matrices of a fixed random-weight conv net
//! (Ustyuzhaninov, Brendel, Gatys, Bethge 2016: random shallow networks capture texture
//! statistics well enough to synthesise from). No pretrained network can be fetched, so kiln
//! carries its own: the weights come from kiln's seeded [`Rng`] with the fixed seed [`SEED`], so
//! every build and every machine computes the same numbers.
//!
//! The network, applied alike at four scales of the image (itself and its 2×, 4×, 8× box
//! downsamples, so 3×3 filters see structure from 3 to about 40 pixels across):
//! - input: the stored RGB values minus 0.5 (alpha is ignored, non-finite values count as 0.5).
//!   Stored values, not linear light: kiln images hold sRGB-encoded values, which are closer to
//!   perceived differences, and the pretrained-VGG Gram losses this metric stands in for are fed
//!   sRGB too.
//! - layer 1: 3×3 convolution 3 → 12 channels, leaky ReLU (slope 0.2);
//! - layer 2: 3×3 convolution with stride 2, 12 → 24 channels, leaky ReLU.
//!
//! Convolutions are "valid" (no padding), so borders add nothing that a shifted or tiled copy
//! of the texture would not have. Each layer's Gram matrix is `Fᵀ F / P` (F the P × C feature
//! map), which does not depend on the image size: two images of different sizes compare directly.
//!
//! The distance from an exemplar `a` to a sample `b` is the sum over the 8 layers (4 scales × 2)
//! of `‖G_a − G_b‖²_F / ‖G_a‖²_F`: each term is scale-free (relative to the exemplar's own
//! statistics), 0 for identical statistics, small (about 0.01–0.2) for another piece of the same
//! stationary texture, and ~1 up to hundreds for a different texture. Smaller images have fewer
//! pixels at the coarse scales, so the noise floor grows as they shrink (about 0.2 between two
//! 192² pieces of one noise texture, mostly from the 8× scale). It is not symmetric (the
//! exemplar is the reference).
//!
//! Known weakness: the terms are relative to the exemplar's own feature energy, and with inputs
//! centred on mid-grey a low-contrast texture close to grey has little of it, so a small shift in
//! brightness counts heavily. kiln's `stone_tiles` drawn with another seed (slightly darker,
//! more even tiles) scores 1.6 against seed 1, where the other materials' second seeds score
//! 0.001–0.2 and different materials 20–1000. Compare a sample with such a reference (another
//! seed of the same generator) before calling 1–2 "another texture".
//!
//! Speed: the convolutions and Gram products are im2col + `gemm` (the crate kiln's model kernels
//! already use) on bands of rows in parallel; each band's Gram part is added in band order, so
//! the result is the same at any thread count.
//!
//! Must not know about fields, models or Rhai.

use std::sync::OnceLock;

use gemm::Parallelism;
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::Image;
use crate::memory::{self, Reservation};
use crate::rng::Rng;

/// The seed of the fixed random weights ("kilngram"). Changing it changes every distance.
pub const SEED: u64 = 0x6b69_6c6e_6772_616d;
/// Channels of layer 1 and layer 2.
const C1: usize = 12;
const C2: usize = 24;
/// The image and its 2×, 4× and 8× downsamples.
const SCALES: usize = 4;
/// Leaky ReLU slope: keeps the sign information a plain ReLU throws away.
const SLOPE: f32 = 0.2;
/// Output rows per parallel band: the unit of work and of the ordered Gram sum.
const BAND: usize = 16;
/// Smallest width and height: the 8× downsample must still give layer 2 a few pixels.
pub const MIN_SIZE: u32 = 64;

/// The fixed network: 3×3 weights, laid out (ky, kx, c_in) × c_out for the im2col product.
struct Net {
    w1: Vec<f32>,
    w2: Vec<f32>,
}

fn net() -> &'static Net {
    static NET: OnceLock<Net> = OnceLock::new();
    NET.get_or_init(|| {
        let mut rng = Rng::new(SEED);
        // He initialisation: unit-ish variance through the leaky ReLU.
        let mut weights = |fan_in: usize, n: usize| {
            let sd = (2.0 / fan_in as f32).sqrt();
            rng.normals(n).into_iter().map(|v| v * sd).collect::<Vec<f32>>()
        };
        let w1 = weights(9 * 3, 9 * 3 * C1);
        let w2 = weights(9 * C1, 9 * C1 * C2);
        Net { w1, w2 }
    })
}

/// An image's texture statistics: one normalised Gram matrix per layer and scale (row-major
/// C × C, f64), finest scale first.
#[derive(Clone, Debug, PartialEq)]
pub struct TextureGram {
    layers: Vec<Vec<f64>>,
}

impl TextureGram {
    /// The statistics of `img` (at least [`MIN_SIZE`] on each side).
    pub fn of(img: &Image) -> Result<TextureGram> {
        let (w, h) = img.dimensions();
        if w < MIN_SIZE || h < MIN_SIZE {
            return Err(Error::param(
                "texture_distance",
                format!("texture statistics need an image of at least {MIN_SIZE}×{MIN_SIZE}, got {w}×{h}"),
            ));
        }
        let net = net();
        let mut input = Plane::from_image(img)?;
        let mut layers = Vec::with_capacity(SCALES * 2);
        for scale in 0..SCALES {
            if scale > 0 {
                input = input.half()?;
            }
            let (f1, g1) = conv_gram(&input, &net.w1, C1, 1)?;
            let (_, g2) = conv_gram(&f1, &net.w2, C2, 2)?;
            layers.push(g1);
            layers.push(g2);
            crate::cancel::checkpoint()?;
        }
        Ok(TextureGram { layers })
    }

    /// The distance from these (exemplar) statistics to `sample`'s: the sum over layers of
    /// `‖G_self − G_sample‖²_F / ‖G_self‖²_F` (see the module docs).
    pub fn distance(&self, sample: &TextureGram) -> f64 {
        self.layer_distances(sample).iter().sum()
    }

    /// The terms of [`TextureGram::distance`], one per layer (layer 1 and 2 of the full scale,
    /// then of each downsample).
    pub fn layer_distances(&self, sample: &TextureGram) -> Vec<f64> {
        self.layers
            .iter()
            .zip(&sample.layers)
            .map(|(a, b)| {
                let diff: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
                let norm: f64 = a.iter().map(|x| x * x).sum();
                diff / norm.max(1e-30)
            })
            .collect()
    }
}

/// The texture-statistics distance from `exemplar` to `sample` (see the module docs): 0 for the
/// same statistics, small for another piece of the same texture, about 1 or more for another
/// texture. The images may differ in size; each needs at least [`MIN_SIZE`] on each side.
pub fn gram_distance(exemplar: &Image, sample: &Image) -> Result<f64> {
    Ok(TextureGram::of(exemplar)?.distance(&TextureGram::of(sample)?))
}

/// A feature map: `h` rows of `w` pixels of `c` channels (pixel-major), with its memory receipt.
struct Plane {
    w: usize,
    h: usize,
    c: usize,
    data: Vec<f32>,
    _held: Reservation,
}

impl Plane {
    fn zeros(w: usize, h: usize, c: usize) -> Result<Plane> {
        let held = memory::reserve((w * h * c * 4) as u64, "texture statistics features")?;
        Ok(Plane { w, h, c, data: vec![0.0; w * h * c], _held: held })
    }

    fn from_image(img: &Image) -> Result<Plane> {
        let (w, h) = (img.width() as usize, img.height() as usize);
        let mut p = Plane::zeros(w, h, 3)?;
        p.data.par_chunks_mut(w * 3).zip(img.rows()).for_each(|(out, row)| {
            for (o, px) in out.chunks_exact_mut(3).zip(row.chunks_exact(4)) {
                for k in 0..3 {
                    o[k] = if px[k].is_finite() { px[k] - 0.5 } else { 0.0 };
                }
            }
        });
        Ok(p)
    }

    /// The 2× box downsample (an odd last row or column is dropped).
    fn half(&self) -> Result<Plane> {
        let (w, h, c) = (self.w / 2, self.h / 2, self.c);
        let mut p = Plane::zeros(w, h, c)?;
        let src = &self.data;
        let sw = self.w * c;
        p.data.par_chunks_mut(w * c).enumerate().for_each(|(y, out)| {
            let (a, b) = (&src[2 * y * sw..], &src[(2 * y + 1) * sw..]);
            for x in 0..w {
                for k in 0..c {
                    let i = 2 * x * c + k;
                    out[x * c + k] = 0.25 * (a[i] + a[i + c] + b[i] + b[i + c]);
                }
            }
        });
        Ok(p)
    }
}

/// A valid 3×3 convolution of `x` with `weights` ((ky, kx, c_in) × `cout`) at `stride`, leaky
/// ReLU, and the Gram matrix `Fᵀ F / P` of the result.
fn conv_gram(x: &Plane, weights: &[f32], cout: usize, stride: usize) -> Result<(Plane, Vec<f64>)> {
    let (wo, ho) = ((x.w - 3) / stride + 1, (x.h - 3) / stride + 1);
    let k = 9 * x.c;
    let mut out = Plane::zeros(wo, ho, cout)?;
    let stop = crate::cancel::current();
    let parts: Vec<Vec<f64>> = out
        .data
        .par_chunks_mut(BAND * wo * cout)
        .enumerate()
        .map(|(band, f)| {
            let mut gram = vec![0f64; cout * cout];
            if stop.is_stopped() {
                return gram;
            }
            let rows = f.len() / (wo * cout);
            let px = rows * wo;
            // im2col: one row of 9 × c_in inputs per output pixel.
            let mut cols = vec![0f32; px * k];
            for r in 0..rows {
                let iy = (band * BAND + r) * stride;
                for ox in 0..wo {
                    let dst = &mut cols[(r * wo + ox) * k..(r * wo + ox + 1) * k];
                    for ky in 0..3 {
                        let src = ((iy + ky) * x.w + ox * stride) * x.c;
                        dst[ky * 3 * x.c..(ky + 1) * 3 * x.c].copy_from_slice(&x.data[src..src + 3 * x.c]);
                    }
                }
            }
            // F (px × cout) = cols (px × k) · W (k × cout)
            matmul(px, cout, k, f, (cout, 1), &cols, (k, 1), weights, (cout, 1));
            for v in f.iter_mut() {
                if *v < 0.0 {
                    *v *= SLOPE;
                }
            }
            // G (cout × cout) = Fᵀ · F
            let mut g = vec![0f32; cout * cout];
            matmul(cout, cout, px, &mut g, (cout, 1), f, (1, cout), f, (cout, 1));
            for (a, b) in gram.iter_mut().zip(&g) {
                *a = *b as f64;
            }
            gram
        })
        .collect();
    stop.check()?;
    // The bands' parts are added in band order, so the sum does not depend on the thread split.
    let mut gram = vec![0f64; cout * cout];
    for part in &parts {
        for (a, b) in gram.iter_mut().zip(part) {
            *a += b;
        }
    }
    let n = (wo * ho) as f64;
    gram.iter_mut().for_each(|v| *v /= n);
    Ok((out, gram))
}

/// `dst (m × n) = lhs (m × k) · rhs (k × n)`, each matrix given as (slice, (row stride, column
/// stride)), single-threaded (the bands are the parallelism, and a fixed split keeps results
/// reproducible). The bounds are checked here so the `gemm` call cannot read or write outside
/// the slices.
#[allow(clippy::too_many_arguments)]
fn matmul(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    (d_rs, d_cs): (usize, usize),
    lhs: &[f32],
    (l_rs, l_cs): (usize, usize),
    rhs: &[f32],
    (r_rs, r_cs): (usize, usize),
) {
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    if m == 0 || n == 0 || k == 0 {
        dst.iter_mut().for_each(|v| *v = 0.0);
        return;
    }
    assert!(
        last(m, n, d_rs, d_cs) < dst.len() && last(m, k, l_rs, l_cs) < lhs.len() && last(k, n, r_rs, r_cs) < rhs.len()
    );
    // SAFETY: every index the product touches is inside its slice (checked just above), `dst`
    // is borrowed mutably and does not alias `lhs` or `rhs`.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            d_cs as isize,
            d_rs as isize,
            false,
            lhs.as_ptr(),
            l_cs as isize,
            l_rs as isize,
            rhs.as_ptr(),
            r_cs as isize,
            r_rs as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}
