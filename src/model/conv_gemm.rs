//! 2-D convolution forward and backward as candle custom ops: im2col/col2im + the `gemm` crate,
//! the way PyTorch's CPU backend does it.
//!
//! Why: candle 0.11's CPU conv2d backward computes the input gradient with `conv_transpose2d`, a
//! direct loop without gemm, which made a DCGAN-32 train step about 4× and the VAE step about 7×
//! slower than PyTorch (issue 4). Here all three products (forward, input gradient, weight
//! gradient) are single-precision gemms.
//!
//! Determinism: every output element is computed by one gemm whose reduction is chunked by cache
//! size only (gemm-common splits m and n across threads, never k), and the per-image scatter of
//! col2im runs sequentially inside its image, so results do not depend on the thread count.
//!
//! Owns: [`conv2d`], the three ops, and the switch back to candle's own kernels for comparison.
//! Must not know about models or images.

use std::sync::atomic::{AtomicBool, Ordering};

use candle_core::{bail, CpuStorage, CustomOp2, DType, Layout, Shape, Tensor};
use gemm::Parallelism;
use rayon::prelude::*;

static USE_CANDLE: AtomicBool = AtomicBool::new(false);

/// Use candle's own conv2d (true) or kiln's gemm kernels (false, the default) on the CPU.
/// For benchmarks and reference checks.
pub fn use_candle_conv(yes: bool) {
    USE_CANDLE.store(yes, Ordering::Relaxed);
}

/// Cross-correlation of `x` (n, c, h, w) with `w` (o, c, kh, kw), zero padding `pad`, `stride`.
/// On the CPU in f32 it runs kiln's gemm kernels, elsewhere candle's conv2d.
pub fn conv2d(x: &Tensor, w: &Tensor, stride: usize, pad: usize) -> candle_core::Result<Tensor> {
    if x.device().is_cpu() && x.dtype() == DType::F32 && !USE_CANDLE.load(Ordering::Relaxed) {
        x.contiguous()?.apply_op2(&w.contiguous()?, Conv2dGemm { stride, pad })
    } else {
        x.conv2d(w, pad, stride, 1, 1)
    }
}

/// Shapes of one convolution.
#[derive(Clone, Copy, Debug)]
struct Geom {
    n: usize,
    c: usize,
    h: usize,
    w: usize,
    o: usize,
    kh: usize,
    kw: usize,
    stride: usize,
    pad: usize,
    ho: usize,
    wo: usize,
}

impl Geom {
    fn new(
        x: (usize, usize, usize, usize),
        k: (usize, usize, usize, usize),
        stride: usize,
        pad: usize,
    ) -> candle_core::Result<Geom> {
        let (n, c, h, w) = x;
        let (o, c2, kh, kw) = k;
        if c != c2 {
            bail!("conv2d: input has {c} channels, kernel expects {c2}")
        }
        if stride == 0 || h + 2 * pad < kh || w + 2 * pad < kw {
            bail!("conv2d: kernel {kh}x{kw} does not fit {h}x{w} with padding {pad}, stride {stride}")
        }
        let ho = (h + 2 * pad - kh) / stride + 1;
        let wo = (w + 2 * pad - kw) / stride + 1;
        Ok(Geom { n, c, h, w, o, kh, kw, stride, pad, ho, wo })
    }

    fn ck(&self) -> usize {
        self.c * self.kh * self.kw
    }

    fn out_hw(&self) -> usize {
        self.ho * self.wo
    }

    fn in_chw(&self) -> usize {
        self.c * self.h * self.w
    }

    fn is_pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == 1 && self.pad == 0
    }
}

fn dims4(l: &Layout) -> candle_core::Result<(usize, usize, usize, usize)> {
    l.shape().dims4()
}

fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(v) = s else { bail!("conv2d kernels take f32 tensors") };
    match l.contiguous_offsets() {
        Some((a, b)) => Ok(&v[a..b]),
        None => bail!("conv2d kernels take contiguous tensors"),
    }
}

/// im2col of one image into `cols`, laid out (out_h · out_w) × (c · kh · kw), row-major.
fn im2col(g: &Geom, x: &[f32], cols: &mut [f32]) {
    let ck = g.ck();
    for oy in 0..g.ho {
        for ox in 0..g.wo {
            let row = &mut cols[(oy * g.wo + ox) * ck..][..ck];
            let mut r = 0;
            for c in 0..g.c {
                for ki in 0..g.kh {
                    let iy = (oy * g.stride + ki) as isize - g.pad as isize;
                    if iy < 0 || iy >= g.h as isize {
                        row[r..r + g.kw].fill(0.0);
                        r += g.kw;
                        continue;
                    }
                    let xrow = &x[c * g.h * g.w + iy as usize * g.w..][..g.w];
                    for kj in 0..g.kw {
                        let ix = (ox * g.stride + kj) as isize - g.pad as isize;
                        row[r] = if ix >= 0 && ix < g.w as isize { xrow[ix as usize] } else { 0.0 };
                        r += 1;
                    }
                }
            }
        }
    }
}

/// col2im of one image: adds `cols` ((out_h · out_w) × (c · kh · kw)) into `dx` (c × h × w).
fn col2im(g: &Geom, cols: &[f32], dx: &mut [f32]) {
    let ck = g.ck();
    for oy in 0..g.ho {
        for ox in 0..g.wo {
            let row = &cols[(oy * g.wo + ox) * ck..][..ck];
            let mut r = 0;
            for c in 0..g.c {
                for ki in 0..g.kh {
                    let iy = (oy * g.stride + ki) as isize - g.pad as isize;
                    if iy < 0 || iy >= g.h as isize {
                        r += g.kw;
                        continue;
                    }
                    let drow = &mut dx[c * g.h * g.w + iy as usize * g.w..][..g.w];
                    for kj in 0..g.kw {
                        let ix = (ox * g.stride + kj) as isize - g.pad as isize;
                        if ix >= 0 && ix < g.w as isize {
                            drow[ix as usize] += row[r];
                        }
                        r += 1;
                    }
                }
            }
        }
    }
}

/// dst (m × n) = lhs (m × k) · rhs (k × n), every matrix given by pointer, row stride and column
/// stride. With `accumulate`, dst += instead.
///
/// # Safety
/// Every pointer must cover the elements its strides and sizes reach.
#[allow(clippy::too_many_arguments)]
unsafe fn matmul(
    (m, n, k): (usize, usize, usize),
    dst: (*mut f32, usize, usize),
    lhs: (*const f32, usize, usize),
    rhs: (*const f32, usize, usize),
    accumulate: bool,
    par: Parallelism,
) {
    gemm::gemm(
        m,
        n,
        k,
        dst.0,
        dst.2 as isize,
        dst.1 as isize,
        accumulate,
        lhs.0,
        lhs.2 as isize,
        lhs.1 as isize,
        rhs.0,
        rhs.2 as isize,
        rhs.1 as isize,
        if accumulate { 1.0 } else { 0.0 },
        1.0,
        false,
        false,
        false,
        par,
    )
}

/// Runs `f(image_index, chunk)` over the `per`-sized chunks of `out`: in parallel over images
/// when there are enough of them (each gemm single-threaded), otherwise image by image with a
/// multi-threaded gemm.
fn per_image<F>(out: &mut [f32], per: usize, scratch: usize, f: F)
where
    F: Fn(usize, &mut [f32], &mut [f32], Parallelism) + Sync,
{
    let n = out.len() / per.max(1);
    let threads = rayon::current_num_threads();
    if n >= threads && threads > 1 {
        out.par_chunks_mut(per)
            .enumerate()
            .for_each_init(|| vec![0f32; scratch], |buf, (i, chunk)| f(i, chunk, buf, Parallelism::None));
    } else {
        let mut buf = vec![0f32; scratch];
        let par = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
        for (i, chunk) in out.chunks_mut(per).enumerate() {
            f(i, chunk, &mut buf, par);
        }
    }
}

/// y = conv(x, w).
fn forward(g: &Geom, x: &[f32], w: &[f32]) -> Vec<f32> {
    let (ck, ohw) = (g.ck(), g.out_hw());
    let mut out = vec![0f32; g.n * g.o * ohw];
    let scratch = if g.is_pointwise() { 0 } else { ohw * ck };
    per_image(&mut out, g.o * ohw, scratch, |i, dst, cols, par| {
        let xi = &x[i * g.in_chw()..][..g.in_chw()];
        // rhs is cols viewed as (ck × ohw): element (r, j) at j·ck + r; for a 1×1 conv, x itself
        let rhs = if g.is_pointwise() {
            (xi.as_ptr(), ohw, 1)
        } else {
            im2col(g, xi, cols);
            (cols.as_ptr(), 1, ck)
        };
        // SAFETY: dst is o × ohw, w is o × ck, rhs covers ck × ohw with the strides above.
        unsafe { matmul((g.o, ohw, ck), (dst.as_mut_ptr(), ohw, 1), (w.as_ptr(), ck, 1), rhs, false, par) }
    });
    out
}

/// dx = conv2d's input gradient for dy.
fn backward_input(g: &Geom, dy: &[f32], w: &[f32]) -> Vec<f32> {
    let (ck, ohw) = (g.ck(), g.out_hw());
    let mut dx = vec![0f32; g.n * g.in_chw()];
    let scratch = if g.is_pointwise() { 0 } else { ohw * ck };
    per_image(&mut dx, g.in_chw(), scratch, |i, dxi, cols, par| {
        let dyi = &dy[i * g.o * ohw..][..g.o * ohw];
        if g.is_pointwise() {
            // dx_i (c × hw) = wᵀ (c × o) · dy_i (o × hw)
            // SAFETY: sizes as stated; w is o × c row-major.
            unsafe {
                matmul(
                    (g.c, ohw, g.o),
                    (dxi.as_mut_ptr(), ohw, 1),
                    (w.as_ptr(), 1, g.c),
                    (dyi.as_ptr(), ohw, 1),
                    false,
                    par,
                )
            }
        } else {
            // colsᵀ (ohw × ck) = dy_iᵀ (ohw × o) · w (o × ck), then scatter-add
            // SAFETY: cols holds ohw × ck; dy_i is o × ohw; w is o × ck.
            unsafe {
                matmul(
                    (ohw, ck, g.o),
                    (cols.as_mut_ptr(), ck, 1),
                    (dyi.as_ptr(), 1, ohw),
                    (w.as_ptr(), ck, 1),
                    false,
                    par,
                )
            }
            col2im(g, cols, dxi);
        }
    });
    dx
}

/// dw = conv2d's weight gradient for dy, summed over the batch in one gemm.
fn backward_weight(g: &Geom, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (ck, ohw) = (g.ck(), g.out_hw());
    let k = g.n * ohw;
    // all images' columns stacked: (n · ohw) × ck
    let mut cols = vec![0f32; k * ck];
    cols.par_chunks_mut(ohw * ck).enumerate().for_each(|(i, c)| im2col(g, &x[i * g.in_chw()..][..g.in_chw()], c));
    // dy as o × (n · ohw)
    let mut dyt = vec![0f32; g.o * k];
    dyt.par_chunks_mut(k).enumerate().for_each(|(o, row)| {
        for i in 0..g.n {
            row[i * ohw..(i + 1) * ohw].copy_from_slice(&dy[(i * g.o + o) * ohw..][..ohw]);
        }
    });
    let mut dw = vec![0f32; g.o * ck];
    let threads = rayon::current_num_threads();
    let par = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
    // SAFETY: dw is o × ck, dyt is o × k, cols is k × ck, all row-major.
    unsafe { matmul((g.o, ck, k), (dw.as_mut_ptr(), ck, 1), (dyt.as_ptr(), k, 1), (cols.as_ptr(), ck, 1), false, par) }
    dw
}

/// The forward op: inputs x and w.
#[derive(Clone, Copy, Debug)]
struct Conv2dGemm {
    stride: usize,
    pad: usize,
}

impl CustomOp2 for Conv2dGemm {
    fn name(&self) -> &'static str {
        "kiln-conv2d-gemm"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let g = Geom::new(dims4(l1)?, dims4(l2)?, self.stride, self.pad)?;
        let y = forward(&g, f32_slice(s1, l1)?, f32_slice(s2, l2)?);
        Ok((CpuStorage::F32(y), Shape::from((g.n, g.o, g.ho, g.wo))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        _y: &Tensor,
        dy: &Tensor,
    ) -> candle_core::Result<(Option<Tensor>, Option<Tensor>)> {
        let dy = dy.contiguous()?;
        let (_, _, h, wd) = x.dims4()?;
        let dx = dy.apply_op2_no_bwd(w, &Conv2dBackInput { stride: self.stride, pad: self.pad, h, w: wd })?;
        let (_, _, kh, kw) = w.dims4()?;
        let dw = x.apply_op2_no_bwd(&dy, &Conv2dBackWeight { stride: self.stride, pad: self.pad, kh, kw })?;
        Ok((Some(dx), Some(dw)))
    }
}

/// Input gradient: inputs dy and w; the input's height and width are remembered.
#[derive(Clone, Copy, Debug)]
struct Conv2dBackInput {
    stride: usize,
    pad: usize,
    h: usize,
    w: usize,
}

impl CustomOp2 for Conv2dBackInput {
    fn name(&self) -> &'static str {
        "kiln-conv2d-gemm-back-input"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, o, ho, wo) = dims4(l1)?;
        let (o2, c, kh, kw) = dims4(l2)?;
        let g = Geom::new((n, c, self.h, self.w), (o2, c, kh, kw), self.stride, self.pad)?;
        if (g.o, g.ho, g.wo) != (o, ho, wo) {
            bail!("conv2d backward: gradient shape {:?} does not match the convolution", l1.dims())
        }
        let dx = backward_input(&g, f32_slice(s1, l1)?, f32_slice(s2, l2)?);
        Ok((CpuStorage::F32(dx), Shape::from((n, c, self.h, self.w))))
    }
}

/// Weight gradient: inputs x and dy; the kernel size is remembered.
#[derive(Clone, Copy, Debug)]
struct Conv2dBackWeight {
    stride: usize,
    pad: usize,
    kh: usize,
    kw: usize,
}

impl CustomOp2 for Conv2dBackWeight {
    fn name(&self) -> &'static str {
        "kiln-conv2d-gemm-back-weight"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (n, c, h, w) = dims4(l1)?;
        let (n2, o, ho, wo) = dims4(l2)?;
        let g = Geom::new((n, c, h, w), (o, c, self.kh, self.kw), self.stride, self.pad)?;
        if (n2, g.ho, g.wo) != (n, ho, wo) {
            bail!("conv2d backward: gradient shape {:?} does not match the convolution", l2.dims())
        }
        let dw = backward_weight(&g, f32_slice(s1, l1)?, f32_slice(s2, l2)?);
        Ok((CpuStorage::F32(dw), Shape::from((o, c, self.kh, self.kw))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rng::{Rng, Stream};
    use candle_core::{Device, Var};

    fn randn(shape: (usize, usize, usize, usize), seed: u64) -> Tensor {
        let n = shape.0 * shape.1 * shape.2 * shape.3;
        Tensor::from_vec(Rng::new(seed, Stream::Fixed(0)).normals(n), shape, &Device::Cpu).unwrap()
    }

    fn max_rel(a: &Tensor, b: &Tensor) -> f32 {
        let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a.len(), b.len());
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        a.iter().zip(&b).map(|(x, y)| (x - y).abs() / scale).fold(0.0, f32::max)
    }

    /// Forward and both gradients against candle's conv2d, for every kernel shape the models use.
    #[test]
    fn matches_candle_forward_and_gradients() {
        let cases = [
            // (n, c, h, w), (o, kh), stride, pad
            ((2, 3, 8, 8), (5, 3), 1, 1),
            ((3, 4, 8, 8), (6, 4), 2, 1),
            ((2, 4, 7, 9), (3, 3), 2, 0),
            ((2, 6, 5, 5), (4, 1), 1, 0),
            ((1, 2, 6, 6), (3, 3), 1, 1),
        ];
        for (i, ((n, c, h, w), (o, k), stride, pad)) in cases.into_iter().enumerate() {
            let x = Var::from_tensor(&randn((n, c, h, w), i as u64)).unwrap();
            let wt = Var::from_tensor(&randn((o, c, k, k), 100 + i as u64)).unwrap();
            let probe = randn((n, o, (h + 2 * pad - k) / stride + 1, (w + 2 * pad - k) / stride + 1), 200 + i as u64);
            let ours = conv2d(&x, &wt, stride, pad).unwrap();
            let theirs = x.conv2d(&wt, pad, stride, 1, 1).unwrap();
            assert!(max_rel(&ours, &theirs) < 1e-5, "forward case {i}");
            let g1 = (ours * &probe).unwrap().sum_all().unwrap().backward().unwrap();
            let g2 = (theirs * &probe).unwrap().sum_all().unwrap().backward().unwrap();
            let dx = max_rel(g1.get(&x).unwrap(), g2.get(&x).unwrap());
            let dw = max_rel(g1.get(&wt).unwrap(), g2.get(&wt).unwrap());
            assert!(dx < 1e-5 && dw < 1e-5, "case {i}: dx {dx}, dw {dw}");
        }
    }

    #[test]
    fn same_bits_on_one_and_two_threads() {
        let x = randn((4, 3, 8, 8), 1);
        let w = randn((4, 3, 3, 3), 2);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
                let xv = Var::from_tensor(&x).unwrap();
                let y = conv2d(&xv, &w, 1, 1).unwrap();
                let g = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
                let mut v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
                v.extend(g.get(&xv).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap());
                v
            })
        };
        assert_eq!(run(1), run(2));
    }
}
