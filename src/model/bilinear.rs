//! 2× bilinear upsampling with circular edges, as a fused candle op with a one-pass backward.
//!
//! The texture generator's default upsampling is nearest neighbour fused into its convolutions
//! (`conv_gemm::conv2d_wrapped_up2`), so every stage starts from 2×2 blocks that its 3×3 kernel
//! must learn to smooth. Three such stages turn the 1/8 noise grid into 8-pixel stair steps on
//! edges that a short training has not yet learnt away (clouds at patch 256). Bilinear
//! upsampling (PyTorch's `interpolate(scale_factor=2, mode="bilinear", align_corners=False)`,
//! the `[1, 3, 3, 1] / 4` filter of StyleGAN's upsampler) starts from smooth ramps instead.
//!
//! Each output pixel at `2i` is `¾ x[i] + ¼ x[i − 1]` and at `2i + 1` is `¾ x[i] + ¼ x[i + 1]`,
//! along rows and then columns, with indices taken modulo the size: the edges wrap, as the
//! generator's circular padding does, so a wrapping input still gives an image that tiles.
//!
//! Why not candle's generic ops: written as shifts, products and an interleave it is a dozen
//! full-size tensors forward and as many backward, at the generator's largest stages. Here it
//! is one pass each way, parallel over (image, channel) planes in a fixed order, so the result
//! does not depend on the thread count. Other devices get the generic version, which the tests
//! also use as the reference.
//!
//! Owns: [`upsample2_bilinear_wrapped`]. Must not know about models.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};
use rayon::prelude::*;

use super::ops::{f32_slice, fast};

type CResult<T> = candle_core::Result<T>;

/// `x` (n, c, h, w) → (n, c, 2h, 2w), bilinear, edges wrapping.
pub fn upsample2_bilinear_wrapped(x: &Tensor) -> CResult<Tensor> {
    if fast(x) {
        x.contiguous()?.apply_op1(Up2Bilinear)
    } else {
        generic(x)
    }
}

/// The same with candle's ops: one axis at a time, even and odd outputs interleaved.
fn generic(x: &Tensor) -> CResult<Tensor> {
    let along = |x: &Tensor, dim: usize| -> CResult<Tensor> {
        let n = x.dim(dim)?;
        // element i of `shifted(by)` is x[(i + by) mod n]
        let shifted = |by: usize| match by % n {
            0 => Ok(x.clone()),
            by => Tensor::cat(&[&x.narrow(dim, by, n - by)?, &x.narrow(dim, 0, by)?], dim),
        };
        let (prev, next) = (shifted(n - 1)?, shifted(1)?);
        let even = (x.affine(0.75, 0.0)? + prev.affine(0.25, 0.0)?)?;
        let odd = (x.affine(0.75, 0.0)? + next.affine(0.25, 0.0)?)?;
        let mut dims = x.dims().to_vec();
        dims[dim] *= 2;
        Tensor::stack(&[even, odd], dim + 1)?.reshape(dims)
    };
    along(&along(x, 3)?, 2)
}

struct Up2Bilinear;

impl CustomOp1 for Up2Bilinear {
    fn name(&self) -> &'static str {
        "kiln-upsample2-bilinear-wrapped"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h, w) = l.shape().dims4()?;
        let x = f32_slice(s, l)?;
        let mut y = vec![0f32; n * c * 4 * h * w];
        y.par_chunks_mut(4 * h * w).zip(x.par_chunks(h * w)).for_each(|(out, src)| up_plane(src, h, w, out));
        Ok((CpuStorage::F32(y), Shape::from((n, c, 2 * h, 2 * w))))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, dy: &Tensor) -> CResult<Option<Tensor>> {
        Ok(Some(dy.contiguous()?.apply_op1_no_bwd(&Up2BilinearAdjoint)?))
    }
}

/// One plane `src` (h × w) upsampled into `out` (2h × 2w).
fn up_plane(src: &[f32], h: usize, w: usize, out: &mut [f32]) {
    let w2 = 2 * w;
    let mut rows = vec![0f32; h * w2];
    for (row, wide) in src.chunks_exact(w).zip(rows.chunks_exact_mut(w2)) {
        for k in 0..w {
            // the neighbours, wrapping at the edges (a branch, not a division per pixel)
            let (left, right) = (if k == 0 { w - 1 } else { k - 1 }, if k + 1 == w { 0 } else { k + 1 });
            let centre = 0.75 * row[k];
            wide[2 * k] = centre + 0.25 * row[left];
            wide[2 * k + 1] = centre + 0.25 * row[right];
        }
    }
    for r in 0..h {
        let (prev, centre, next) =
            (&rows[(r + h - 1) % h * w2..][..w2], &rows[r * w2..][..w2], &rows[(r + 1) % h * w2..][..w2]);
        let (top, bottom) = out[2 * r * w2..][..2 * w2].split_at_mut(w2);
        for j in 0..w2 {
            top[j] = 0.75 * centre[j] + 0.25 * prev[j];
            bottom[j] = 0.75 * centre[j] + 0.25 * next[j];
        }
    }
}

/// The transpose of [`Up2Bilinear`]: (n, c, 2h, 2w) → (n, c, h, w), the gradient of its input.
struct Up2BilinearAdjoint;

impl CustomOp1 for Up2BilinearAdjoint {
    fn name(&self) -> &'static str {
        "kiln-upsample2-bilinear-wrapped-adjoint"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h2, w2) = l.shape().dims4()?;
        let (h, w) = (h2 / 2, w2 / 2);
        let dy = f32_slice(s, l)?;
        let mut dx = vec![0f32; n * c * h * w];
        dx.par_chunks_mut(h * w).zip(dy.par_chunks(h2 * w2)).for_each(|(out, src)| adjoint_plane(src, h, w, out));
        Ok((CpuStorage::F32(dx), Shape::from((n, c, h, w))))
    }
}

/// One plane's gradient: `dy` (2h × 2w) → `out` (h × w). Source row `r` fed output rows `2r`
/// and `2r + 1` with ¾ each, `2r + 2` (as its upper neighbour) and `2r − 1` (as the lower) with
/// ¼ each; the same along columns.
fn adjoint_plane(dy: &[f32], h: usize, w: usize, out: &mut [f32]) {
    let (h2, w2) = (2 * h, 2 * w);
    let row = |i: usize| &dy[(i % h2) * w2..][..w2];
    let mut rows = vec![0f32; h * w2];
    for (r, acc) in rows.chunks_exact_mut(w2).enumerate() {
        let (a, b, up, down) = (row(2 * r), row(2 * r + 1), row(2 * r + 2), row(2 * r + h2 - 1));
        for j in 0..w2 {
            acc[j] = 0.75 * (a[j] + b[j]) + 0.25 * (up[j] + down[j]);
        }
    }
    for (wide, narrow) in rows.chunks_exact(w2).zip(out.chunks_exact_mut(w)) {
        for (k, v) in narrow.iter_mut().enumerate() {
            // output columns 2k + 2 and 2k − 1, wrapping at the edges
            let (next, prev) = (if k + 1 == w { 0 } else { 2 * k + 2 }, if k == 0 { w2 - 1 } else { 2 * k - 1 });
            *v = 0.75 * (wide[2 * k] + wide[2 * k + 1]) + 0.25 * (wide[next] + wide[prev]);
        }
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

    fn assert_close(a: &Tensor, b: &Tensor, what: &str) {
        let (a, b) = (values(a), values(b));
        assert_eq!(a.len(), b.len(), "{what}: sizes");
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!((x - y).abs() <= 1e-5 * (1.0 + y.abs()), "{what}: element {i}: {x} against {y}");
        }
    }

    /// Inside the plane it is PyTorch's bilinear ×2 (align_corners=False): output `j` samples
    /// the input at `(j + 0.5) / 2 − 0.5`, so a ramp `x[k] = k` gives `k − ¼` and `k + ¼`.
    /// At the edges it wraps: output 0 mixes the first and the last column.
    #[test]
    fn a_ramp_is_sampled_at_quarter_offsets_and_the_edges_wrap() {
        let w = 6;
        let ramp: Vec<f32> = (0..2 * w).map(|i| (i % w) as f32).collect();
        let x = Tensor::from_vec(ramp, (1, 1, 2, w), &Device::Cpu).unwrap();
        let y = values(&upsample2_bilinear_wrapped(&x).unwrap());
        let first_row = &y[..2 * w];
        for k in 1..w - 1 {
            assert!((first_row[2 * k] - (k as f32 - 0.25)).abs() < 1e-6, "column {}", 2 * k);
            assert!((first_row[2 * k + 1] - (k as f32 + 0.25)).abs() < 1e-6, "column {}", 2 * k + 1);
        }
        // ¾·0 + ¼·5 and ¾·5 + ¼·0
        assert!((first_row[0] - 1.25).abs() < 1e-6 && (first_row[2 * w - 1] - 3.75).abs() < 1e-6);
        // rows are all alike, so every output row is the same
        assert!(y.chunks(2 * w).all(|r| r == first_row));
    }

    /// The fused op and its gradient against candle's generic ops, on odd and tiny sizes too.
    #[test]
    fn fused_matches_generic_forward_and_backward() {
        for (i, shape) in [(2, 3, 4, 5), (1, 2, 1, 3), (1, 1, 7, 1)].into_iter().enumerate() {
            let x = Var::from_tensor(&randn(shape, 1 + i as u64)).unwrap();
            let (n, c, h, w) = shape;
            let probe = randn((n, c, 2 * h, 2 * w), 10 + i as u64);
            let (ours, theirs) = (upsample2_bilinear_wrapped(&x).unwrap(), generic(&x).unwrap());
            assert_close(&ours, &theirs, &format!("case {i} forward"));
            let g1 = (ours * &probe).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (theirs * &probe).unwrap().sum_all().unwrap().backward().unwrap();
            assert_close(g1.get(&x).unwrap(), g2.get(&x).unwrap(), &format!("case {i} dx"));
        }
    }

    /// A wrapping input gives a wrapping output: upsampling a rolled plane is rolling the
    /// upsampled one by twice as much.
    #[test]
    fn rolling_commutes_with_upsampling() {
        let x = randn((1, 2, 5, 6), 3);
        let roll = |t: &Tensor, dim: usize, by: usize| {
            let n = t.dim(dim).unwrap();
            Tensor::cat(&[&t.narrow(dim, n - by, by).unwrap(), &t.narrow(dim, 0, n - by).unwrap()], dim).unwrap()
        };
        let up_then_roll = roll(&roll(&upsample2_bilinear_wrapped(&x).unwrap(), 3, 4), 2, 2);
        let roll_then_up = upsample2_bilinear_wrapped(&roll(&roll(&x, 3, 2), 2, 1)).unwrap();
        assert_eq!(values(&up_then_roll), values(&roll_then_up));
    }

    #[test]
    fn same_bits_on_one_and_two_threads() {
        let x = Var::from_tensor(&randn((3, 4, 9, 11), 4)).unwrap();
        let probe = randn((3, 4, 18, 22), 5);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
                let y = upsample2_bilinear_wrapped(&x).unwrap();
                let g = (&y * &probe).unwrap().sum_all().unwrap().backward().unwrap();
                let mut v = values(&y);
                v.extend(values(g.get(&x).unwrap()));
                v
            })
        };
        assert_eq!(run(1), run(2));
    }
}
