//! 2× bilinear upsampling that wraps round the edges, as a fused CPU op with its transpose as
//! the backward.
//!
//! The sampling grid is PyTorch's `interpolate(scale_factor=2, mode="bilinear",
//! align_corners=False)`: along each axis, output pixel 2i is ¾ x[i] + ¼ x[i − 1] and 2i + 1 is
//! ¾ x[i] + ¼ x[i + 1]. Indices wrap (PyTorch clamps at the border instead), so a periodic input
//! gives a periodic output and a shift by one input pixel shifts the output by two: the texture
//! generator's tiling and its noise-shift tests hold as with nearest upsampling. In PyTorch the
//! same values are `interpolate(pad(x, (1, 1, 1, 1), mode="circular"), ...)[..., 2:-2, 2:-2]`.
//!
//! Why a fused op: as candle ops it is two rolls, four scalings, two sums and an interleave per
//! axis, each a full-size tensor; at the texture generator's last stage (a 1024² sample) the
//! output alone is about 100 MB. Here each plane is one pass per axis, in parallel over planes.
//! Each output value is a fixed expression of its inputs, so results do not depend on the thread
//! count. Other devices use the candle version ([`upsample2_bilinear_wrapped_generic`]).
//!
//! Owns: [`upsample2_bilinear_wrapped`]. Must not know about models.

use candle_core::{bail, CpuStorage, CustomOp1, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

type CResult<T> = candle_core::Result<T>;

/// Weight of the nearer source pixel; the other gets 1 − NEAR.
const NEAR: f32 = 0.75;
const FAR: f32 = 1.0 - NEAR;

/// (n, c, h, w) → (n, c, 2h, 2w), bilinear with wrap-around edges (see the module docs).
pub fn upsample2_bilinear_wrapped(x: &Tensor) -> CResult<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 {
        x.contiguous()?.apply_op1(BilinearUp2)
    } else {
        upsample2_bilinear_wrapped_generic(x)
    }
}

/// The same with candle's generic ops: for other devices, and as the reference in tests.
pub fn upsample2_bilinear_wrapped_generic(x: &Tensor) -> CResult<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let wide = along_axis(x, 3)?.reshape((n, c, h, 2 * w))?;
    along_axis(&wide, 2)?.reshape((n, c, 2 * h, 2 * w))
}

/// Even and odd outputs along `dim`, stacked in a new axis after it.
fn along_axis(x: &Tensor, dim: usize) -> CResult<Tensor> {
    let len = x.dim(dim)?;
    let roll = |by: usize| -> CResult<Tensor> {
        // element i of the result is x[(i + by) mod len]
        if by == 0 {
            return Ok(x.clone());
        }
        Tensor::cat(&[x.narrow(dim, by, len - by)?, x.narrow(dim, 0, by)?], dim)
    };
    let (prev, next) = (roll(len - 1)?, roll(1 % len)?);
    let near = x.affine(NEAR as f64, 0.0)?;
    let even = (&near + prev.affine(FAR as f64, 0.0)?)?;
    let odd = (&near + next.affine(FAR as f64, 0.0)?)?;
    Tensor::stack(&[even, odd], dim + 1)
}

fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout) -> CResult<&'a [f32]> {
    let CpuStorage::F32(v) = s else { bail!("bilinear upsampling takes f32 tensors") };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => bail!("bilinear upsampling takes contiguous tensors"),
    }
}

/// Upsamples one row of `src.len()` values into `dst` (twice as long).
fn widen_row(src: &[f32], dst: &mut [f32]) {
    let w = src.len();
    // the two ends wrap; the loop between them reads its neighbours without a modulo
    let pair = |i: usize, prev: usize, next: usize| (NEAR * src[i] + FAR * src[prev], NEAR * src[i] + FAR * src[next]);
    (dst[0], dst[1]) = pair(0, w - 1, 1 % w);
    if w > 1 {
        (dst[2 * w - 2], dst[2 * w - 1]) = pair(w - 1, w - 2, 0);
    }
    for (out, near) in dst[2..].chunks_exact_mut(2).zip(src.windows(3)).take(w.saturating_sub(2)) {
        let centre = NEAR * near[1];
        out[0] = centre + FAR * near[0];
        out[1] = centre + FAR * near[2];
    }
}

/// The transpose of [`widen_row`]: each source value collects from the four outputs it feeds.
fn narrow_row(grad: &[f32], dst: &mut [f32]) {
    let w = dst.len();
    let w2 = 2 * w;
    // output 2i + 2 reads i as its previous pixel, output 2i − 1 reads it as its next
    let collect = |i: usize| {
        NEAR * (grad[2 * i] + grad[2 * i + 1]) + FAR * (grad[(2 * i + 2) % w2] + grad[(2 * i + w2 - 1) % w2])
    };
    dst[0] = collect(0);
    if w > 1 {
        dst[w - 1] = collect(w - 1);
    }
    for (v, g) in dst[1..].iter_mut().zip(grad[1..].windows(4).step_by(2)).take(w.saturating_sub(2)) {
        // g = grad[2i − 1 ..= 2i + 2]
        *v = NEAR * (g[1] + g[2]) + FAR * (g[0] + g[3]);
    }
}

struct BilinearUp2;

impl CustomOp1 for BilinearUp2 {
    fn name(&self) -> &'static str {
        "kiln-bilinear-up2-wrapped"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h, w) = l.shape().dims4()?;
        let x = f32_slice(s, l)?;
        let (h2, w2) = (2 * h, 2 * w);
        let mut y = vec![0f32; n * c * h2 * w2];
        y.par_chunks_mut(h2 * w2).zip(x.par_chunks(h * w)).for_each(|(out, src)| {
            // rows widened first, then each output row mixes two widened rows
            let mut wide = vec![0f32; h * w2];
            for (row, dst) in src.chunks_exact(w).zip(wide.chunks_exact_mut(w2)) {
                widen_row(row, dst);
            }
            for r in 0..h {
                let here = &wide[r * w2..][..w2];
                let above = &wide[(r + h - 1) % h * w2..][..w2];
                let below = &wide[(r + 1) % h * w2..][..w2];
                let (top, bottom) = out[2 * r * w2..][..2 * w2].split_at_mut(w2);
                for k in 0..w2 {
                    let near = NEAR * here[k];
                    top[k] = near + FAR * above[k];
                    bottom[k] = near + FAR * below[k];
                }
            }
        });
        Ok((CpuStorage::F32(y), Shape::from((n, c, h2, w2))))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, dy: &Tensor) -> CResult<Option<Tensor>> {
        Ok(Some(dy.contiguous()?.apply_op1_no_bwd(&BilinearUp2Transpose)?))
    }
}

/// (n, c, 2h, 2w) → (n, c, h, w): the gradient of [`BilinearUp2`].
struct BilinearUp2Transpose;

impl CustomOp1 for BilinearUp2Transpose {
    fn name(&self) -> &'static str {
        "kiln-bilinear-up2-wrapped-transpose"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h2, w2) = l.shape().dims4()?;
        if h2 % 2 != 0 || w2 % 2 != 0 {
            bail!("bilinear upsampling's gradient has odd size {w2}×{h2}")
        }
        let (h, w) = (h2 / 2, w2 / 2);
        let g = f32_slice(s, l)?;
        let mut dx = vec![0f32; n * c * h * w];
        dx.par_chunks_mut(h * w).zip(g.par_chunks(h2 * w2)).for_each(|(out, grad)| {
            // the transpose of the vertical pass first: each widened row collects from four rows
            let row = |r: usize| &grad[r % h2 * w2..][..w2];
            let mut tall = vec![0f32; w2];
            for (i, dst) in out.chunks_exact_mut(w).enumerate() {
                let (a, b, c, d) = (row(2 * i), row(2 * i + 1), row(2 * i + 2), row(2 * i + h2 - 1));
                for k in 0..w2 {
                    tall[k] = NEAR * (a[k] + b[k]) + FAR * (c[k] + d[k]);
                }
                narrow_row(&tall, dst);
            }
        });
        Ok((CpuStorage::F32(dx), Shape::from((n, c, h, w))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::stream::Stream;
    use crate::rng::Rng;
    use candle_core::{Device, Var};

    fn randn(shape: (usize, usize, usize, usize), seed: u64) -> Tensor {
        let n = shape.0 * shape.1 * shape.2 * shape.3;
        Tensor::from_vec(Rng::stream(seed, Stream::Fixed(0).id()).normals(n), shape, &Device::Cpu).unwrap()
    }

    fn values(t: &Tensor) -> Vec<f32> {
        t.flatten_all().unwrap().to_vec1().unwrap()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        values(a).iter().zip(values(b)).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    /// Values worked by hand from the formula: a row [0, 4, 8] gives
    /// [¾·0 + ¼·8, ¾·0 + ¼·4, ¾·4 + ¼·0, ¾·4 + ¼·8, ¾·8 + ¼·4, ¾·8 + ¼·0].
    #[test]
    fn a_row_upsamples_as_worked_by_hand() {
        let x = Tensor::new(&[0f32, 4.0, 8.0], &Device::Cpu).unwrap().reshape((1, 1, 1, 3)).unwrap();
        let y = upsample2_bilinear_wrapped(&x).unwrap();
        assert_eq!(y.dims(), [1, 1, 2, 6]);
        let want = [2.0, 1.0, 3.0, 5.0, 7.0, 6.0];
        for row in values(&y).chunks(6) {
            assert_eq!(row, want, "one input row: both output rows equal it widened");
        }
    }

    #[test]
    fn fused_op_and_its_gradient_match_candle_ops() {
        for shape in [(2, 3, 4, 5), (1, 2, 1, 3), (1, 1, 3, 1), (1, 1, 2, 2)] {
            let x = Var::from_tensor(&randn(shape, 1)).unwrap();
            let (ours, theirs) =
                (upsample2_bilinear_wrapped(&x).unwrap(), upsample2_bilinear_wrapped_generic(&x).unwrap());
            assert!(max_diff(&ours, &theirs) < 1e-6, "{shape:?} forward");
            let (n, c, h, w) = shape;
            let probe = randn((n, c, 2 * h, 2 * w), 2);
            let g1 = (ours * &probe).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (theirs * &probe).unwrap().sum_all().unwrap().backward().unwrap();
            let d = max_diff(g1.get(&x).unwrap(), g2.get(&x).unwrap());
            assert!(d < 1e-5, "{shape:?} gradient: max difference {d}");
        }
    }

    /// Shifting the input by one pixel (wrapping) shifts the output by two, and a constant stays
    /// constant: what tiling needs.
    #[test]
    fn wraps_round_the_edges() {
        let x = randn((1, 2, 4, 6), 3);
        let roll = |t: &Tensor, dim: usize, by: usize| {
            let len = t.dim(dim).unwrap();
            Tensor::cat(&[t.narrow(dim, len - by, by).unwrap(), t.narrow(dim, 0, len - by).unwrap()], dim).unwrap()
        };
        let shifted = upsample2_bilinear_wrapped(&roll(&roll(&x, 3, 1), 2, 1)).unwrap();
        let expected = roll(&roll(&upsample2_bilinear_wrapped(&x).unwrap(), 3, 2), 2, 2);
        assert!(max_diff(&shifted, &expected) < 1e-6);
        let flat = upsample2_bilinear_wrapped(&Tensor::full(1.5f32, (1, 1, 3, 3), &Device::Cpu).unwrap()).unwrap();
        assert!(values(&flat).iter().all(|v| (v - 1.5).abs() < 1e-6));
    }
}
