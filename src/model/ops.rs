//! Fused CPU element-wise ops as candle custom ops: per-channel bias add, leaky ReLU and 2×
//! nearest upsampling, each with a backward that is one pass over memory.
//!
//! Why: with the convolutions on gemm (conv_gemm.rs), the generic candle versions of these became
//! the larger part of a train step: a broadcast bias add whose gradient is a reduction over three
//! dimensions, `maximum`-based leaky ReLU (four ops forward, more backward), and an upsample
//! whose gradient is a strided reduction. Each op here is parallel over (image, channel) planes
//! and sums in a fixed order, so results do not depend on the thread count. On other devices the
//! same functions fall back to candle's generic ops.
//!
//! Pixel norm (ProGAN's x / √(mean_c x² + ε)) is here for the same reason: as candle ops it is
//! five passes and five allocations forward and more backward, at every generator layer.
//!
//! [`add_noise`] (the texture generator's detail noise: a one-channel image times a per-channel
//! scale) is one pass instead of a broadcast product and a sum, each a full-size tensor.
//!
//! Owns: [`add_bias`], [`add_noise`], [`leaky`], [`upsample2`], [`pixel_norm`].

use candle_core::{bail, CpuStorage, CustomOp1, CustomOp2, CustomOp3, DType, Layout, Shape, Tensor};
use rayon::prelude::*;

type CResult<T> = candle_core::Result<T>;

/// Slope of the leaky ReLU on negative inputs.
pub const SLOPE: f32 = 0.2;

/// The f32 values of a contiguous CPU tensor (also used by `bilinear.rs`).
pub(super) fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout) -> CResult<&'a [f32]> {
    let CpuStorage::F32(v) = s else { bail!("kiln ops take f32 tensors") };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => bail!("kiln ops take contiguous tensors"),
    }
}

/// Whether the fused CPU kernels take `x` (f32 on the CPU); also used by `bilinear.rs`.
pub(super) fn fast(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32
}

/// x (n, c, h, w) + b (c) broadcast over n, h, w.
pub fn add_bias(x: &Tensor, b: &Tensor) -> CResult<Tensor> {
    if fast(x) {
        x.contiguous()?.apply_op2(&b.contiguous()?, AddBias)
    } else {
        x.broadcast_add(&b.reshape((1, b.dim(0)?, 1, 1))?)
    }
}

/// Σ over channels of x (n, c, h, w) × v (c): one (n, 1, h, w) map, a 1×1 convolution to one
/// channel. One (1, c) × (c, h·w) product per image, so gemm's thread-count-independent order.
pub fn channel_dot(x: &Tensor, v: &Tensor) -> CResult<Tensor> {
    let (n, c, h, w) = x.dims4()?;
    let v = v.reshape((1, 1, c))?.broadcast_as((n, 1, c))?.contiguous()?;
    v.matmul(&x.contiguous()?.reshape((n, c, h * w))?)?.reshape((n, 1, h, w))
}

/// x (n, c, h, w) + noise (n, 1, h, w) × gain (c): one noise image per sample, scaled per channel.
/// The noise gets a gradient only when it tracks one (the detail gate computes it).
pub fn add_noise(x: &Tensor, noise: &Tensor, gain: &Tensor) -> CResult<Tensor> {
    if fast(x) {
        x.contiguous()?.apply_op3(&noise.contiguous()?, &gain.contiguous()?, AddNoise)
    } else {
        x + noise.broadcast_mul(&gain.reshape((1, gain.dim(0)?, 1, 1))?)?
    }
}

/// max(x, 0.2 x).
pub fn leaky(x: &Tensor) -> CResult<Tensor> {
    if fast(x) {
        x.contiguous()?.apply_op1(Leaky)
    } else {
        x.maximum(&x.affine(SLOPE as f64, 0.0)?)
    }
}

/// ε under the square root of [`pixel_norm`].
const PIXEL_NORM_EPS: f32 = 1e-8;

/// x / √(mean over dim 1 of x² + 1e-8), for (n, c, ...) tensors: every pixel's feature vector
/// scaled to unit root mean square.
pub fn pixel_norm(x: &Tensor) -> CResult<Tensor> {
    if fast(x) {
        x.contiguous()?.apply_op1(PixelNorm)
    } else {
        let ms = x.sqr()?.mean_keepdim(1)?.affine(1.0, PIXEL_NORM_EPS as f64)?;
        x.broadcast_div(&ms.sqrt()?)
    }
}

/// Nearest-neighbour 2× upsampling of (n, c, h, w).
pub fn upsample2(x: &Tensor) -> CResult<Tensor> {
    if fast(x) {
        x.contiguous()?.apply_op1(Upsample2)
    } else {
        let (n, c, h, w) = x.dims4()?;
        x.reshape((n, c, h, 1, w, 1))?.broadcast_as((n, c, h, 2, w, 2))?.reshape((n, c, 2 * h, 2 * w))
    }
}

struct AddBias;

impl CustomOp2 for AddBias {
    fn name(&self) -> &'static str {
        "kiln-add-bias"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h, w) = l1.shape().dims4()?;
        let b = f32_slice(s2, l2)?;
        if b.len() != c {
            bail!("add_bias: {} biases for {c} channels", b.len())
        }
        let mut y = f32_slice(s1, l1)?.to_vec();
        y.par_chunks_mut(h * w).enumerate().for_each(|(i, plane)| {
            let bias = b[i % c];
            plane.iter_mut().for_each(|v| *v += bias);
        });
        Ok((CpuStorage::F32(y), Shape::from((n, c, h, w))))
    }

    fn bwd(&self, x: &Tensor, b: &Tensor, _y: &Tensor, dy: &Tensor) -> CResult<(Option<Tensor>, Option<Tensor>)> {
        let db = if b.track_op() { Some(dy.contiguous()?.apply_op1_no_bwd(&ChannelSum)?) } else { None };
        Ok((x.track_op().then(|| dy.clone()), db))
    }
}

struct AddNoise;

impl CustomOp3 for AddNoise {
    fn name(&self) -> &'static str {
        "kiln-add-noise"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h, w) = l1.shape().dims4()?;
        if l2.shape().dims4()? != (n, 1, h, w) || l3.shape().dims() != [c] {
            bail!("add_noise: noise {:?} and gain {:?} for x {:?}", l2.dims(), l3.dims(), l1.dims())
        }
        let (noise, gain) = (f32_slice(s2, l2)?, f32_slice(s3, l3)?);
        let hw = h * w;
        let mut y = f32_slice(s1, l1)?.to_vec();
        y.par_chunks_mut(hw).enumerate().for_each(|(i, plane)| {
            let (g, src) = (gain[i % c], &noise[(i / c) * hw..][..hw]);
            plane.iter_mut().zip(src).for_each(|(v, z)| *v += g * z);
        });
        Ok((CpuStorage::F32(y), Shape::from((n, c, h, w))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        noise: &Tensor,
        gain: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> CResult<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dgain = match gain.track_op() {
            // Σ over n, h, w of dy × noise, per channel
            true => Some(dy.contiguous()?.apply_op2_no_bwd(&noise.contiguous()?, &NoiseDot)?),
            false => None,
        };
        // Σ over channels of dy × gain, per pixel
        let dnoise = match noise.track_op() {
            true => Some(channel_dot(dy, gain)?),
            false => None,
        };
        Ok((x.track_op().then(|| dy.clone()), dnoise, dgain))
    }
}

/// Σ over n, h, w of dy (n, c, h, w) × noise (n, 1, h, w) → (c), in a fixed order.
struct NoiseDot;

impl CustomOp2 for NoiseDot {
    fn name(&self) -> &'static str {
        "kiln-noise-dot"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h, w) = l1.shape().dims4()?;
        let (dy, noise) = (f32_slice(s1, l1)?, f32_slice(s2, l2)?);
        let hw = h * w;
        let sums = channel_totals(n, c, |i, ch| {
            let plane = &dy[(i * c + ch) * hw..][..hw];
            plane.iter().zip(&noise[i * hw..][..hw]).map(|(a, b)| (a * b) as f64).sum()
        });
        Ok((CpuStorage::F32(sums), Shape::from(c)))
    }
}

/// Σ over n, h, w of (n, c, h, w) → (c), in a fixed order.
struct ChannelSum;

impl CustomOp1 for ChannelSum {
    fn name(&self) -> &'static str {
        "kiln-channel-sum"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h, w) = l.shape().dims4()?;
        let x = f32_slice(s, l)?;
        let hw = h * w;
        let sums = channel_totals(n, c, |i, ch| x[(i * c + ch) * hw..][..hw].iter().map(|v| *v as f64).sum());
        Ok((CpuStorage::F32(sums), Shape::from(c)))
    }
}

/// For each of `c` channels, Σ over the `n` images of `plane_total(image, channel)`: parallel
/// over channels, each summed in image order, so the result does not depend on the thread count.
fn channel_totals(n: usize, c: usize, plane_total: impl Fn(usize, usize) -> f64 + Sync) -> Vec<f32> {
    (0..c).into_par_iter().map(|ch| (0..n).map(|i| plane_total(i, ch)).sum::<f64>() as f32).collect()
}

/// (images, channels, pixels per channel) of an (n, c, ...) layout.
fn ncm(l: &Layout) -> CResult<(usize, usize, usize)> {
    let dims = l.dims();
    if dims.len() < 2 {
        bail!("pixel_norm needs (n, c, ...), got {dims:?}")
    }
    Ok((dims[0], dims[1], dims[2..].iter().product()))
}

/// 1 / √(mean_c x² + ε) for every pixel of one image (c × m values).
fn inverse_rms(x: &[f32], c: usize, m: usize) -> Vec<f32> {
    let mut ss = vec![0f32; m];
    for plane in x.chunks_exact(m) {
        for (s, v) in ss.iter_mut().zip(plane) {
            *s += v * v;
        }
    }
    ss.iter().map(|s| 1.0 / (s / c as f32 + PIXEL_NORM_EPS).sqrt()).collect()
}

struct PixelNorm;

impl CustomOp1 for PixelNorm {
    fn name(&self) -> &'static str {
        "kiln-pixel-norm"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (_, c, m) = ncm(l)?;
        let mut y = f32_slice(s, l)?.to_vec();
        y.par_chunks_mut((c * m).max(1)).for_each(|img| {
            let r = inverse_rms(img, c, m);
            for plane in img.chunks_exact_mut(m) {
                for (v, r) in plane.iter_mut().zip(&r) {
                    *v *= r;
                }
            }
        });
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, dy: &Tensor) -> CResult<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(&dy.contiguous()?, &PixelNormGrad)?))
    }
}

/// dx = r·dy − x·r³·(Σ_c dy·x) / c, with r = 1 / √(mean_c x² + ε).
struct PixelNormGrad;

impl CustomOp2 for PixelNormGrad {
    fn name(&self) -> &'static str {
        "kiln-pixel-norm-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (_, c, m) = ncm(l1)?;
        if l1.dims() != l2.dims() {
            bail!("pixel_norm backward: gradient shape {:?} is not the input's {:?}", l2.dims(), l1.dims())
        }
        let x = f32_slice(s1, l1)?;
        let mut dx = f32_slice(s2, l2)?.to_vec();
        let per = (c * m).max(1);
        dx.par_chunks_mut(per).zip(x.par_chunks(per)).for_each(|(g, xi)| {
            let r = inverse_rms(xi, c, m);
            let mut dot = vec![0f32; m];
            for (gp, xp) in g.chunks_exact(m).zip(xi.chunks_exact(m)) {
                for ((d, gv), xv) in dot.iter_mut().zip(gp).zip(xp) {
                    *d += gv * xv;
                }
            }
            let k: Vec<f32> = r.iter().zip(&dot).map(|(r, d)| r * r * r * d / c as f32).collect();
            for (gp, xp) in g.chunks_exact_mut(m).zip(xi.chunks_exact(m)) {
                for (((gv, xv), r), k) in gp.iter_mut().zip(xp).zip(&r).zip(&k) {
                    *gv = *gv * r - xv * k;
                }
            }
        });
        Ok((CpuStorage::F32(dx), l1.shape().clone()))
    }
}

struct Leaky;

impl CustomOp1 for Leaky {
    fn name(&self) -> &'static str {
        "kiln-leaky-relu"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let mut y = f32_slice(s, l)?.to_vec();
        y.par_chunks_mut(4096).for_each(|c| c.iter_mut().for_each(|v| *v = if *v > 0.0 { *v } else { *v * SLOPE }));
        Ok((CpuStorage::F32(y), l.shape().clone()))
    }

    fn bwd(&self, x: &Tensor, _y: &Tensor, dy: &Tensor) -> CResult<Option<Tensor>> {
        Ok(Some(x.apply_op2_no_bwd(&dy.contiguous()?, &LeakyGrad)?))
    }
}

/// dy where x > 0, 0.2 dy elsewhere.
struct LeakyGrad;

impl CustomOp2 for LeakyGrad {
    fn name(&self) -> &'static str {
        "kiln-leaky-relu-grad"
    }

    fn cpu_fwd(&self, s1: &CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> CResult<(CpuStorage, Shape)> {
        let x = f32_slice(s1, l1)?;
        let mut g = f32_slice(s2, l2)?.to_vec();
        if g.len() != x.len() {
            bail!("leaky backward: shapes differ")
        }
        g.par_chunks_mut(4096).zip(x.par_chunks(4096)).for_each(|(g, x)| {
            g.iter_mut().zip(x).for_each(|(g, x)| {
                if *x <= 0.0 {
                    *g *= SLOPE
                }
            })
        });
        Ok((CpuStorage::F32(g), l1.shape().clone()))
    }
}

struct Upsample2;

impl CustomOp1 for Upsample2 {
    fn name(&self) -> &'static str {
        "kiln-upsample2"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h, w) = l.shape().dims4()?;
        let x = f32_slice(s, l)?;
        let mut y = vec![0f32; n * c * 4 * h * w];
        y.par_chunks_mut(4 * h * w).zip(x.par_chunks(h * w)).for_each(|(out, src)| {
            for r in 0..h {
                let row = &src[r * w..][..w];
                let (top, bottom) = out[2 * r * 2 * w..][..4 * w].split_at_mut(2 * w);
                for (k, v) in row.iter().enumerate() {
                    top[2 * k] = *v;
                    top[2 * k + 1] = *v;
                }
                bottom.copy_from_slice(top);
            }
        });
        Ok((CpuStorage::F32(y), Shape::from((n, c, 2 * h, 2 * w))))
    }

    fn bwd(&self, _x: &Tensor, _y: &Tensor, dy: &Tensor) -> CResult<Option<Tensor>> {
        Ok(Some(dy.contiguous()?.apply_op1_no_bwd(&SumPool2)?))
    }
}

/// Sums 2×2 blocks: (n, c, 2h, 2w) → (n, c, h, w).
struct SumPool2;

impl CustomOp1 for SumPool2 {
    fn name(&self) -> &'static str {
        "kiln-sum-pool2"
    }

    fn cpu_fwd(&self, s: &CpuStorage, l: &Layout) -> CResult<(CpuStorage, Shape)> {
        let (n, c, h2, w2) = l.shape().dims4()?;
        let (h, w) = (h2 / 2, w2 / 2);
        let x = f32_slice(s, l)?;
        let mut y = vec![0f32; n * c * h * w];
        y.par_chunks_mut(h * w).zip(x.par_chunks(h2 * w2)).for_each(|(out, src)| {
            for r in 0..h {
                let (a, b) = (&src[2 * r * w2..][..w2], &src[(2 * r + 1) * w2..][..w2]);
                for k in 0..w {
                    out[r * w + k] = (a[2 * k] + a[2 * k + 1]) + (b[2 * k] + b[2 * k + 1]);
                }
            }
        });
        Ok((CpuStorage::F32(y), Shape::from((n, c, h, w))))
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

    fn close(a: &Tensor, b: &Tensor) -> bool {
        let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
        a.len() == b.len() && a.iter().zip(&b).all(|(x, y)| (x - y).abs() <= 1e-5 * (1.0 + y.abs()))
    }

    /// Each fused op and its gradient against candle's generic ops.
    #[test]
    fn fused_ops_match_candle() {
        let x = Var::from_tensor(&randn((2, 3, 4, 5), 1)).unwrap();
        let b = Var::from_tensor(&Tensor::new(&[0.5f32, -1.0, 2.0], &Device::Cpu).unwrap()).unwrap();
        let probe = randn((2, 3, 4, 5), 2);
        let probe_up = randn((2, 3, 8, 10), 3);
        type Pair = (Tensor, Tensor, Tensor);
        let cases: Vec<(&str, Pair)> = vec![
            (
                "add_bias",
                (add_bias(&x, &b).unwrap(), x.broadcast_add(&b.reshape((1, 3, 1, 1)).unwrap()).unwrap(), probe.clone()),
            ),
            ("leaky", (leaky(&x).unwrap(), x.maximum(&x.affine(0.2, 0.0).unwrap()).unwrap(), probe.clone())),
            ("upsample2", (upsample2(&x).unwrap(), x.upsample_nearest2d(8, 10).unwrap(), probe_up)),
            ("pixel_norm", {
                let ms = x.sqr().unwrap().mean_keepdim(1).unwrap().affine(1.0, 1e-8).unwrap();
                (pixel_norm(&x).unwrap(), x.broadcast_div(&ms.sqrt().unwrap()).unwrap(), probe.clone())
            }),
        ];
        // pixel norm of a (n, c) batch of latents, as the generator's first layer uses it
        let z = Var::from_tensor(&randn((3, 7, 1, 1), 4).reshape((3, 7)).unwrap()).unwrap();
        let ms = z.sqr().unwrap().mean_keepdim(1).unwrap().affine(1.0, 1e-8).unwrap();
        let (ours, theirs) = (pixel_norm(&z).unwrap(), z.broadcast_div(&ms.sqrt().unwrap()).unwrap());
        assert!(close(&ours, &theirs), "pixel_norm 2-D forward");
        let probe_z = randn((3, 7, 1, 1), 5).reshape((3, 7)).unwrap();
        let g1 = (ours * &probe_z).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (theirs * &probe_z).unwrap().sum_all().unwrap().backward().unwrap();
        assert!(close(g1.get(&z).unwrap(), g2.get(&z).unwrap()), "pixel_norm 2-D dz");
        for (name, (ours, theirs, p)) in cases {
            assert!(close(&ours, &theirs), "{name} forward");
            let g1 = (ours * &p).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (theirs * &p).unwrap().sum_all().unwrap().backward().unwrap();
            assert!(close(g1.get(&x).unwrap(), g2.get(&x).unwrap()), "{name} dx");
            if name == "add_bias" {
                assert!(close(g1.get(&b).unwrap(), g2.get(&b).unwrap()), "{name} db");
            }
        }
        // detail noise: one noise image per sample, a scale per channel; the noise gets a
        // gradient too when it is computed (the detail gate scales it per pixel)
        let noise = Var::from_tensor(&randn((2, 1, 4, 5), 6)).unwrap();
        let ours = add_noise(&x, &noise, &b).unwrap();
        let theirs = (x.as_tensor() + noise.broadcast_mul(&b.reshape((1, 3, 1, 1)).unwrap()).unwrap()).unwrap();
        assert!(close(&ours, &theirs), "add_noise forward");
        let g1 = (ours * &probe).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (theirs * &probe).unwrap().sum_all().unwrap().backward().unwrap();
        assert!(close(g1.get(&x).unwrap(), g2.get(&x).unwrap()), "add_noise dx");
        assert!(close(g1.get(&b).unwrap(), g2.get(&b).unwrap()), "add_noise dgain");
        assert!(close(g1.get(&noise).unwrap(), g2.get(&noise).unwrap()), "add_noise dnoise");
        assert!(add_noise(&x, &randn((2, 1, 4, 4), 7), &b).is_err(), "a noise image of the wrong size");
    }
}
