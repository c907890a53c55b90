//! 2D convolution with any odd-sized kernel, and the fixed 3×3 filters built on it: sharpen,
//! Sobel edges and emboss.
//!
//! The kernel is applied as written on screen (correlation: `k[0][0]` weighs the up-left
//! neighbour), like GIMP's convolution matrix and ImageMagick `-morphology Correlate`; for the
//! symmetric kernels people usually pass this is the same as a convolution.
//! Each output row is a sum of `w * row` over the kernel taps (axpy over contiguous padded rows).

use rayon::prelude::*;

use super::{fill_padded, finish, Space};
use crate::error::{Error, Result};
use crate::image::buffer::{Image, CHANNELS};
use crate::image::ops::edge::{self, Edge};

/// Largest kernel side accepted.
pub const MAX_KERNEL: usize = 255;

/// Convolution parameters: the kernel and the options.
#[derive(Clone, Debug, PartialEq)]
pub struct Convolve {
    /// Rows of weights; every row the same length; both sides odd.
    pub kernel: Vec<Vec<f32>>,
    /// Divide by the sum of the weights (see [`ConvolveOptions`]).
    pub normalize: bool,
    /// What the kernel reads past the border (`None`: clamp, or wrap for a tileable image).
    pub edge: Option<Edge>,
}

impl Convolve {
    /// A convolution by `kernel` with the options a script gives in a map.
    pub fn with(kernel: Vec<Vec<f32>>, o: &ConvolveOptions) -> Convolve {
        Convolve { kernel, normalize: o.normalize, edge: o.edge }
    }
}

crate::option_set! {
    /// The options of `convolve(kernel, #{ ... })` beside its kernel.
    #[derive(Copy)]
    pub struct ConvolveOptions for "convolve" {
        /// Divide by the sum of the weights (kernels that sum to 0, like edge detectors, are left
        /// as they are).
        normalize: bool = false;
        /// What the kernel reads past the border; clamp, or wrap for a tileable image.
        edge: Option<Edge> = None;
    }
}

/// Convolves with `kernel` (rows of weights, odd width and height), edges clamped (wrapped for a
/// tileable image), premultiplied.
pub fn convolve(img: &Image, kernel: &[Vec<f32>]) -> Result<Image> {
    convolve_with(img, &Convolve::with(kernel.to_vec(), &ConvolveOptions::default()))
}

/// Convolution with options.
pub fn convolve_with(img: &Image, o: &Convolve) -> Result<Image> {
    let (k, kw, kh) = check_kernel("convolve", &o.kernel)?;
    let mut k = k;
    if o.normalize {
        let sum: f64 = k.iter().map(|&v| v as f64).sum();
        if sum.abs() > 1e-12 {
            k.iter_mut().for_each(|v| *v = (*v as f64 / sum) as f32);
        }
    }
    edge::apply(img, kw / 2, kh / 2, edge::resolve(o.edge, img, Edge::Clamp), |img| {
        let space = Space::of(img, false);
        let _work = crate::image::ops::working_buffers(img, 2, "convolve")?; // padded rows + result
        let data = correlate(img, &space, &k, kw, kh);
        finish(data, img.width(), img.height(), &space)
    })
}

/// Sharpens by `amount`: `x + amount * (x - mean of the 8 neighbours)`. At 1.0 this is exactly
/// Pillow's `ImageFilter.SHARPEN` kernel (centre 32/16, neighbours -2/16).
pub fn sharpen(img: &Image, amount: f32) -> Result<Image> {
    sharpen_with(img, amount, None)
}

/// [`sharpen`] with an edge mode (`None`: clamp, or wrap for a tileable image).
pub fn sharpen_with(img: &Image, amount: f32, edge: Option<Edge>) -> Result<Image> {
    if !amount.is_finite() || !(0.0..=1000.0).contains(&amount) {
        return Err(Error::param("sharpen", format!("amount must be in 0..1000, got {amount}")));
    }
    let n = -amount / 8.0;
    let kernel = vec![vec![n, n, n], vec![n, 1.0 + amount, n], vec![n, n, n]];
    convolve_with(img, &Convolve { kernel, normalize: false, edge })
}

/// Sobel edge magnitude per channel, `sqrt(gx² + gy²) / 4` (a hard step from 0 to 1 gives 1).
/// Computed on premultiplied colour, so the border of a transparent area is an edge; the result
/// keeps the input's alpha.
pub fn edges(img: &Image) -> Result<Image> {
    edges_with(img, None)
}

/// [`edges`] with an edge mode (`None`: clamp, or wrap for a tileable image).
pub fn edges_with(img: &Image, edge: Option<Edge>) -> Result<Image> {
    edge::apply(img, 1, 1, edge::resolve(edge, img, Edge::Clamp), edges_clamped)
}

fn edges_clamped(img: &Image) -> Result<Image> {
    let space = Space { premultiply: !img.is_opaque(), linear: false, opaque: false };
    let gx = [-1.0, 0.0, 1.0, -2.0, 0.0, 2.0, -1.0, 0.0, 1.0];
    let gy = [-1.0, -2.0, -1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 1.0];
    let _work = crate::image::ops::working_buffers(img, 3, "edges")?; // padded rows + both gradients
    let x = correlate(img, &space, &gx, 3, 3);
    crate::cancel::checkpoint()?;
    let y = correlate(img, &space, &gy, 3, 3);
    crate::cancel::checkpoint()?;
    let mut out = x;
    out.par_chunks_mut(img.stride())
        .zip(y.par_chunks(img.stride()))
        .zip(img.pixels().par_chunks(img.stride()))
        .for_each(|((o, y), s)| {
            for ((op, yp), sp) in
                o.chunks_exact_mut(CHANNELS).zip(y.chunks_exact(CHANNELS)).zip(s.chunks_exact(CHANNELS))
            {
                for c in 0..3 {
                    op[c] = (op[c] * op[c] + yp[c] * yp[c]).sqrt() * 0.25;
                }
                op[3] = sp[3];
            }
        });
    Image::from_rgba(img.width(), img.height(), out)
}

/// Emboss like Pillow's `ImageFilter.EMBOSS`: `x - up_left + 0.5` per channel (flat areas turn
/// mid-gray). Computed on premultiplied colour; the result keeps the input's alpha.
pub fn emboss(img: &Image) -> Result<Image> {
    emboss_with(img, None)
}

/// [`emboss`] with an edge mode (`None`: clamp, or wrap for a tileable image).
pub fn emboss_with(img: &Image, edge: Option<Edge>) -> Result<Image> {
    edge::apply(img, 1, 1, edge::resolve(edge, img, Edge::Clamp), emboss_clamped)
}

fn emboss_clamped(img: &Image) -> Result<Image> {
    let space = Space { premultiply: !img.is_opaque(), linear: false, opaque: false };
    let k = [-1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let _work = crate::image::ops::working_buffers(img, 2, "emboss")?; // padded rows + result
    let mut out = correlate(img, &space, &k, 3, 3);
    crate::cancel::checkpoint()?;
    out.par_chunks_mut(img.stride()).zip(img.pixels().par_chunks(img.stride())).for_each(|(o, s)| {
        for (op, sp) in o.chunks_exact_mut(CHANNELS).zip(s.chunks_exact(CHANNELS)) {
            for v in &mut op[..3] {
                *v += 0.5;
            }
            op[3] = sp[3];
        }
    });
    Image::from_rgba(img.width(), img.height(), out)
}

/// Validates a kernel and flattens it row-major: `(weights, width, height)`.
pub(crate) fn check_kernel(op: &str, kernel: &[Vec<f32>]) -> Result<(Vec<f32>, usize, usize)> {
    let kh = kernel.len();
    let kw = kernel.first().map_or(0, |r| r.len());
    if kh == 0 || kw == 0 {
        return Err(Error::param(op, "kernel must have at least one row and one column"));
    }
    if kernel.iter().any(|r| r.len() != kw) {
        return Err(Error::param(op, "kernel rows must all have the same length"));
    }
    if kw.is_multiple_of(2) || kh.is_multiple_of(2) {
        return Err(Error::param(op, format!("kernel sides must be odd, got {kw}x{kh}")));
    }
    if kw > MAX_KERNEL || kh > MAX_KERNEL {
        return Err(Error::param(op, format!("kernel is at most {MAX_KERNEL}x{MAX_KERNEL}, got {kw}x{kh}")));
    }
    let flat: Vec<f32> = kernel.iter().flatten().copied().collect();
    if flat.iter().any(|v| !v.is_finite()) {
        return Err(Error::param(op, "kernel weights must be finite numbers"));
    }
    Ok((flat, kw, kh))
}

/// Correlates the image (entered into `space`) with a `kw` × `kh` kernel; returns the working
/// buffer, not yet left (and unfinished if the run's cancel token stopped it: callers check
/// `cancel::checkpoint`, as [`finish`] does).
pub(crate) fn correlate(img: &Image, space: &Space, k: &[f32], kw: usize, kh: usize) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let (rx, ry) = (kw / 2, kh / 2);
    let pstride = (w + 2 * rx) * CHANNELS;
    // Every row padded once (clamped left/right); clamping up/down picks the row index.
    let mut padded = vec![0f32; pstride * h];
    padded
        .par_chunks_mut(pstride)
        .zip(img.pixels().par_chunks(img.stride()))
        .for_each(|(p, s)| fill_padded(p, s, rx, space));
    let stride = img.stride();
    let mut out = vec![0f32; w * h * CHANNELS];
    let stop = crate::cancel::current();
    out.par_chunks_mut(stride).enumerate().for_each(|(y, o)| {
        if stop.is_stopped() {
            return;
        }
        for j in 0..kh {
            let sy = (y as isize + j as isize - ry as isize).clamp(0, h as isize - 1) as usize;
            let row = &padded[sy * pstride..(sy + 1) * pstride];
            for i in 0..kw {
                let wk = k[j * kw + i];
                if wk == 0.0 {
                    continue;
                }
                let src = &row[i * CHANNELS..i * CHANNELS + stride];
                for (o, s) in o.iter_mut().zip(src) {
                    *o += wk * s;
                }
            }
        }
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::color::Color;

    fn ramp() -> Image {
        Image::from_fn(6, 5, |x, y| [x as f32 * 0.1, y as f32 * 0.1, 0.5, 1.0]).unwrap()
    }

    #[test]
    fn identity_and_shift_kernels() {
        let img = ramp();
        let id = convolve(&img, &[vec![0.0, 0.0, 0.0], vec![0.0, 1.0, 0.0], vec![0.0, 0.0, 0.0]]).unwrap();
        assert_eq!(id.pixels(), img.pixels());
        // Weight on the right neighbour: out(x) = in(x + 1), clamped at the right edge.
        let shift = convolve(&img, &[vec![0.0, 0.0, 1.0]]).unwrap();
        assert!((shift.get(2, 0).unwrap().r - 0.3).abs() < 1e-6);
        assert!((shift.get(5, 0).unwrap().r - 0.5).abs() < 1e-6);
    }

    /// A 5-pixel row `1 2 3 4 5` (red; opaque) under a 5-tap mean, worked by hand per mode:
    /// clamp `1 1 |1 2 3 4 5| 5 5`, wrap `4 5 |…| 1 2`, mirror `2 1 |…| 5 4`, transparent `0 0 |…| 0 0`
    /// with alpha 0 there (mixed premultiplied, so the colour is divided by the covered share).
    #[test]
    fn each_edge_mode_on_a_five_pixel_row_by_hand() {
        let img = Image::from_fn(5, 1, |x, _| [x as f32 + 1.0, 0.0, 0.0, 1.0]).unwrap();
        let mean = vec![vec![0.2; 5]];
        let run = |edge| {
            let out =
                convolve_with(&img, &Convolve { kernel: mean.clone(), normalize: false, edge: Some(edge) }).unwrap();
            out.pixels().chunks_exact(4).map(|p| (p[0], p[3])).collect::<Vec<_>>()
        };
        let close = |got: Vec<(f32, f32)>, want: [(f32, f32); 5], name: &str| {
            for (g, w) in got.iter().zip(want) {
                assert!((g.0 - w.0).abs() < 1e-5 && (g.1 - w.1).abs() < 1e-6, "{name}: {got:?} vs {want:?}");
            }
        };
        close(run(Edge::Clamp), [(1.6, 1.0), (2.2, 1.0), (3.0, 1.0), (3.8, 1.0), (4.4, 1.0)], "clamp");
        close(run(Edge::Wrap), [(3.0, 1.0); 5], "wrap");
        close(run(Edge::Mirror), [(1.8, 1.0), (2.2, 1.0), (3.0, 1.0), (3.8, 1.0), (4.2, 1.0)], "mirror");
        // (0+0+1+2+3)/5 = 1.2 over alpha 0.6 -> 2; (0+1+2+3+4)/5 = 2 over 0.8 -> 2.5; ...
        close(run(Edge::Transparent), [(2.0, 0.6), (2.5, 0.8), (3.0, 1.0), (3.5, 0.8), (4.0, 0.6)], "transparent");
    }

    #[test]
    fn normalize_divides_by_the_sum() {
        let img = Image::filled(4, 4, Color::gray(0.4)).unwrap();
        let k = vec![vec![1.0, 2.0, 1.0]; 3];
        let out = convolve_with(&img, &Convolve { kernel: k, normalize: true, edge: None }).unwrap();
        assert!((out.get(1, 1).unwrap().r - 0.4).abs() < 1e-6);
    }

    #[test]
    fn bad_kernels_are_errors() {
        let img = ramp();
        assert!(convolve(&img, &[]).is_err());
        assert!(convolve(&img, &[vec![1.0, 1.0]]).is_err());
        assert!(convolve(&img, &[vec![1.0, 1.0, 1.0], vec![1.0]]).is_err());
        assert!(convolve(&img, &[vec![f32::NAN]]).is_err());
        assert!(sharpen(&img, f32::NAN).is_err());
        assert!(sharpen(&img, -1.0).is_err());
    }

    #[test]
    fn sharpen_keeps_flat_areas_and_edges_find_steps() {
        let flat = Image::filled(5, 5, Color::gray(0.3)).unwrap();
        assert!((sharpen(&flat, 2.0).unwrap().get(2, 2).unwrap().r - 0.3).abs() < 1e-6);
        let step = Image::from_fn(8, 8, |x, _| if x < 4 { [0.0, 0.0, 0.0, 1.0] } else { [1.0; 4] }).unwrap();
        let e = edges(&step).unwrap();
        assert!((e.get(4, 4).unwrap().r - 1.0).abs() < 1e-6);
        assert_eq!(e.get(1, 4).unwrap().r, 0.0);
        let em = emboss(&flat).unwrap();
        assert!((em.get(2, 2).unwrap().r - 0.5).abs() < 1e-6);
    }
}
