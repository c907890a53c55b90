//! 2-D convolution forward and backward as candle custom ops: im2col/col2im + the `gemm` crate,
//! the way PyTorch's CPU backend does it.
//!
//! Why: candle 0.11's CPU conv2d backward computes the input gradient with `conv_transpose2d`, a
//! direct loop without gemm, which made a DCGAN-32 train step about 4× and the VAE step about 7×
//! slower than PyTorch (issue 4). Here all three products (forward, input gradient, weight
//! gradient) are single-precision gemms.
//!
//! How the work is cut: im2col rows are (channel, tap) × (image, pixel), so a tap's row is a run
//! of shifted copies; strided convolutions first split each input plane into column phases so
//! those runs stay contiguous. Deep layers with few output pixels put several images in one gemm
//! (as many as keep the columns within [`GROUP_CACHE_FLOATS`]), so weights are packed once per
//! group; an image whose columns alone exceed that is cut into bands of output rows. Groups run
//! in parallel, or one at a time with a multi-threaded gemm when there are too few. Scratch
//! buffers are per thread and reused between calls.
//!
//! The input gradient of a stride-1 convolution is computed as a forward convolution of dy with
//! the flipped kernel (one gemm reducing over o · kh · kw, nothing scattered); strided ones take
//! the im2col-shaped gemm wᵀ · dy and scatter it back (col2im). Splitting a 4×4 stride-2 input
//! gradient into four 2×2 stride-1 convolutions, one per pixel parity, was tried and was about
//! 1.4× slower on the discriminator's 32² and 16² layers: its gemms have as few rows as the layer
//! has input channels. The weight gradient accumulates short groups of images into a fixed number
//! of partial sums ([`WEIGHT_LANES`]).
//!
//! Determinism: every output element is computed by one gemm whose reduction is chunked by cache
//! size only (gemm-common splits m and n across threads, never k); group sizes, band heights and
//! lanes depend only on the shapes; weight-gradient lanes are added in lane order; col2im adds a
//! plane's taps in a fixed order. So results do not depend on the thread count.
//!
//! Owns: [`conv2d`], the three ops, and the switch back to candle's own kernels for comparison.
//! Must not know about models or images.

use std::cell::RefCell;
use std::ops::Range;
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
    if runs_here(x) {
        x.contiguous()?.apply_op2(&w.contiguous()?, Conv2dGemm { stride, pad, wrap: false, up: 1 })
    } else {
        x.conv2d(w, pad, stride, 1, 1)
    }
}

/// Stride-1 cross-correlation of `x` with a square kernel `w` of size 2·`pad` + 1, padded
/// circularly by `pad` (≤ the input's height and width): the input wraps round its
/// edges, so a periodic input gives a periodic output.
///
/// On the CPU the wrap is read in place by im2col, with no padded copy of the input: at the
/// texture generator's 1024² output layer those copies (two concatenations of a 100 MB tensor)
/// took about a third of a sample's time. Elsewhere it concatenates the wrapped edges and runs
/// candle's conv2d.
pub fn conv2d_wrapped(x: &Tensor, w: &Tensor, pad: usize) -> candle_core::Result<Tensor> {
    if runs_here(x) {
        x.contiguous()?.apply_op2(&w.contiguous()?, Conv2dGemm { stride: 1, pad, wrap: true, up: 1 })
    } else {
        wrap_pad(x, pad)?.conv2d(w, 0, 1, 1, 1)
    }
}

/// [`conv2d_wrapped`] of `x` upsampled 2× by nearest neighbour, without making the upsampled
/// tensor: im2col reads each source value for the four pixels it stands for. At the texture
/// generator's 1024² output the upsampled input alone is 100 MB, written once and read once.
pub fn conv2d_wrapped_up2(x: &Tensor, w: &Tensor, pad: usize) -> candle_core::Result<Tensor> {
    if runs_here(x) {
        x.contiguous()?.apply_op2(&w.contiguous()?, Conv2dGemm { stride: 1, pad, wrap: true, up: 2 })
    } else {
        let (_, _, h, wd) = x.dims4()?;
        wrap_pad(&x.upsample_nearest2d(2 * h, 2 * wd)?, pad)?.conv2d(w, 0, 1, 1, 1)
    }
}

/// Pads `x` (n, c, h, w) by `pad` on every side with the values from the opposite edge
/// (circular padding). `pad` may not exceed the height or width.
pub fn wrap_pad(x: &Tensor, pad: usize) -> candle_core::Result<Tensor> {
    if pad == 0 {
        return Ok(x.clone());
    }
    let (_, _, h, w) = x.dims4()?;
    if pad > h || pad > w {
        bail!("circular padding of {pad} on a {w}×{h} map")
    }
    let x = Tensor::cat(&[&x.narrow(3, w - pad, pad)?, x, &x.narrow(3, 0, pad)?], 3)?;
    Tensor::cat(&[&x.narrow(2, h - pad, pad)?, &x, &x.narrow(2, 0, pad)?], 2)
}

/// Whether kiln's kernels take this input: f32 on the CPU, unless switched off for comparison.
fn runs_here(x: &Tensor) -> bool {
    x.device().is_cpu() && x.dtype() == DType::F32 && !USE_CANDLE.load(Ordering::Relaxed)
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
    /// Circular padding (stride 1, square kernel only): out-of-range rows and columns read the
    /// opposite edge instead of zero.
    wrap: bool,
    /// Nearest-neighbour upsampling of the stored input (1 or 2, 2 only with `wrap`): `h` and
    /// `w` are the upsampled size the kernel slides over, the tensor holds `h / up × w / up`.
    up: usize,
    ho: usize,
    wo: usize,
}

impl Geom {
    fn new(
        x: (usize, usize, usize, usize),
        k: (usize, usize, usize, usize),
        stride: usize,
        pad: usize,
        wrap: bool,
        up: usize,
    ) -> candle_core::Result<Geom> {
        let (n, c, sh, sw) = x;
        if !(up == 1 || up == 2 && wrap) {
            bail!("conv2d: upsampling by {up} (1, or 2 with circular padding)")
        }
        let (h, w) = (sh * up, sw * up);
        let (o, c2, kh, kw) = k;
        if c != c2 {
            bail!("conv2d: input has {c} channels, kernel expects {c2}")
        }
        if stride == 0 || h + 2 * pad < kh || w + 2 * pad < kw {
            bail!("conv2d: kernel {kh}x{kw} does not fit {h}x{w} with padding {pad}, stride {stride}")
        }
        // Only "same" convolutions wrap: their output has the input's size, so the input
        // gradient is again a circular correlation (see `backward_input`).
        if wrap && (stride != 1 || kh != kw || 2 * pad + 1 != kh || pad > h || pad > w) {
            bail!("conv2d: circular padding needs stride 1, a square odd kernel of 2·pad + 1 and an input of at least pad×pad (pad {pad}, kernel {kh}x{kw}, stride {stride}, input {h}x{w})")
        }
        let ho = (h + 2 * pad - kh) / stride + 1;
        let wo = (w + 2 * pad - kw) / stride + 1;
        Ok(Geom { n, c, h, w, o, kh, kw, stride, pad, wrap, up, ho, wo })
    }

    fn ck(&self) -> usize {
        self.c * self.kh * self.kw
    }

    fn out_hw(&self) -> usize {
        self.ho * self.wo
    }

    /// Values per input plane as stored (before upsampling).
    fn src_hw(&self) -> usize {
        (self.h / self.up) * (self.w / self.up)
    }

    /// Values per input image as stored (before upsampling).
    fn in_chw(&self) -> usize {
        self.c * self.src_hw()
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

/// The output columns `ox` whose input column `ox · stride + kj − pad` lies inside the image.
fn valid_span(out: usize, size: usize, k: usize, stride: usize, pad: usize) -> (usize, usize) {
    let lo = pad.saturating_sub(k).div_ceil(stride).min(out);
    let hi = if size + pad > k { ((size - 1 + pad - k) / stride + 1).min(out) } else { 0 };
    (lo, hi.max(lo))
}

/// Fills one im2col row: the values that kernel tap (ki, kj) sees from one input plane at every
/// output position, zero outside the image. Rows are laid out (c · kh · kw) × (out_h · out_w), as
/// in Caffe and PyTorch, so that a tap's row is a run of shifted copies. `phases` holds the plane
/// split by column modulo the stride (`stride` planes of h × ⌈w / stride⌉; for stride 1 the
/// plane itself), so that every run is a contiguous copy whatever the stride.
///
/// `rows` picks a band of output rows; `row` then holds only those (band height × out_w).
fn im2col_row(g: &Geom, phases: &[f32], ki: usize, kj: usize, rows: Range<usize>, row: &mut [f32]) {
    if g.wrap {
        return im2col_row_wrapped(g, phases, ki, kj, rows, row);
    }
    let (lo, hi) = valid_span(g.wo, g.w, kj, g.stride, g.pad);
    let wq = g.w.div_ceil(g.stride);
    for oy in rows.clone() {
        let out = &mut row[(oy - rows.start) * g.wo..][..g.wo];
        let iy = (oy * g.stride + ki) as isize - g.pad as isize;
        if iy < 0 || iy >= g.h as isize || lo == hi {
            out.fill(0.0);
            continue;
        }
        out[..lo].fill(0.0);
        out[hi..].fill(0.0);
        let first = lo * g.stride + kj - g.pad;
        let src = &phases[((first % g.stride) * g.h + iy as usize) * wq..][..wq];
        let q = first / g.stride;
        out[lo..hi].copy_from_slice(&src[q..q + (hi - lo)]);
    }
}

/// [`im2col_row`] with circular padding (stride 1): row `oy + ki − pad` and column `ox + kj − pad`
/// taken modulo the plane's size, so every output row is at most two contiguous copies. With
/// `up` = 2, `plane` is the stored half-size plane and each value is read for two columns of
/// two rows.
fn im2col_row_wrapped(g: &Geom, plane: &[f32], ki: usize, kj: usize, rows: Range<usize>, row: &mut [f32]) {
    let wrap = |i: usize, size: usize| (i + size - g.pad % size) % size;
    let x0 = wrap(kj, g.w);
    let sw = g.w / g.up;
    for oy in rows.clone() {
        let src = &plane[wrap(oy + ki, g.h) / g.up * sw..][..sw];
        let mut out = &mut row[(oy - rows.start) * g.wo..][..g.wo];
        let mut x = x0;
        while !out.is_empty() {
            let run = (g.w - x).min(out.len());
            if g.up == 2 {
                fill_doubled(&mut out[..run], src, x);
            } else {
                out[..run].copy_from_slice(&src[x..x + run]);
            }
            out = &mut out[run..];
            x = 0;
        }
    }
}

/// `out[k] = src[(start + k) / 2]`: a run of a row upsampled 2× by nearest neighbour, written as
/// pairs so the copy vectorises (an index division per value took longer than the copy it saved).
fn fill_doubled(out: &mut [f32], src: &[f32], start: usize) {
    let (mut out, mut x) = (out, start);
    if x % 2 == 1 && !out.is_empty() {
        out[0] = src[x / 2];
        out = &mut out[1..];
        x += 1;
    }
    let pairs = out.len() / 2;
    for (pair, &v) in out.chunks_exact_mut(2).zip(&src[x / 2..x / 2 + pairs]) {
        pair[0] = v;
        pair[1] = v;
    }
    if out.len() % 2 == 1 {
        out[2 * pairs] = src[x / 2 + pairs];
    }
}

/// Splits plane `plane` (h × w) into `stride` column phases (see [`im2col_row`]).
fn split_phases(g: &Geom, plane: &[f32], phases: &mut [f32]) {
    let wq = g.w.div_ceil(g.stride);
    for (y, src) in plane.chunks_exact(g.w).enumerate() {
        for p in 0..g.stride {
            let dst = &mut phases[(p * g.h + y) * wq..][..wq];
            for (d, v) in dst.iter_mut().zip(src.iter().skip(p).step_by(g.stride)) {
                *d = *v;
            }
        }
    }
}

/// The inverse scatter of [`im2col_row`]: adds `row` into `phases` (the plane split by column
/// modulo the stride, merged back by [`merge_phases`]), so every run is a contiguous add.
fn col2im_row(g: &Geom, row: &[f32], ki: usize, kj: usize, phases: &mut [f32]) {
    let (lo, hi) = valid_span(g.wo, g.w, kj, g.stride, g.pad);
    if lo == hi {
        return;
    }
    let wq = g.w.div_ceil(g.stride);
    let first = lo * g.stride + kj - g.pad;
    let q = first / g.stride;
    for oy in 0..g.ho {
        let iy = (oy * g.stride + ki) as isize - g.pad as isize;
        if iy < 0 || iy >= g.h as isize {
            continue;
        }
        let src = &row[oy * g.wo..][lo..hi];
        let dst = &mut phases[((first % g.stride) * g.h + iy as usize) * wq..][q..q + (hi - lo)];
        for (d, v) in dst.iter_mut().zip(src) {
            *d += v;
        }
    }
}

/// Interleaves the column phases of one plane back into `plane` (h × w), the inverse of
/// [`split_phases`].
fn merge_phases(g: &Geom, phases: &[f32], plane: &mut [f32]) {
    let wq = g.w.div_ceil(g.stride);
    for (y, dst) in plane.chunks_exact_mut(g.w).enumerate() {
        for p in 0..g.stride {
            let src = &phases[(p * g.h + y) * wq..][..wq];
            for (d, v) in dst.iter_mut().skip(p).step_by(g.stride).zip(src) {
                *d = *v;
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

/// Output columns a weight-gradient gemm should get at least: layers with 4×4 or 8×8 outputs
/// put a few images in one gemm, larger ones take one image at a time. Short groups keep the
/// columns in cache, and each lane's gemm accumulates into its partial sum (see
/// [`WEIGHT_LANES`]) so short groups do not multiply the partial sums. Against groups of 4096
/// columns with one partial sum per group, the weight gradients of the GAN's nine convolutions
/// (batch 64 for the generator's, 128 for the discriminator's) took about 260 ms instead of
/// 330–400 ms in all on two threads; 64 columns measured the same as 128.
const GROUP_COLUMNS: usize = 128;

/// The most im2col values a forward or input-gradient group may hold (1 MiB of f32): past the
/// cache, writing the columns and packing them for the gemm both go to memory. Against groups of
/// 4096 columns this made sampling 64 VAE images 1.5× faster (185 → 120 ms) and the GAN train
/// step 1.2×.
///
/// Group sizes are part of the numerics: the gemm's cache blocking, hence its summation order,
/// follows the group's width, so changing them changes trained weights in the last bits (the
/// shipped models were trained at the commits stdlib/models/README.md names, whose kernels cut
/// the work differently).
const GROUP_CACHE_FLOATS: usize = 1 << 18;

/// Images per forward or input-gradient gemm: as many as fit [`GROUP_CACHE_FLOATS`], so that
/// deep layers with few pixels still pack their weights once per several images. Depends only
/// on the geometry, never on threads.
fn group_size(g: &Geom) -> usize {
    (GROUP_CACHE_FLOATS / (g.ck() * g.out_hw()).max(1)).clamp(1, g.n.max(1))
}

/// Images per weight-gradient gemm (see [`GROUP_COLUMNS`]).
fn weight_group_size(g: &Geom) -> usize {
    GROUP_COLUMNS.div_ceil(g.out_hw().max(1)).clamp(1, g.n.max(1))
}

thread_local! {
    /// Per-thread scratch for im2col columns and transposed gradients, kept between calls:
    /// fresh multi-megabyte buffers every layer cost more in page faults than the copies.
    static SCRATCH: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's scratch buffer of at least `len` floats (contents unspecified).
fn with_scratch<R>(len: usize, f: impl FnOnce(&mut [f32]) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < len {
                buf.resize(len, 0.0);
            }
            f(&mut buf[..len])
        }
        // only if a caller nests kernels on one thread; correctness over reuse
        Err(_) => f(&mut vec![0f32; len]),
    })
}

/// Runs `f(group_index, chunk, scratch, parallelism)` over the `chunk`-sized slices of `out`,
/// one per group of images: in parallel over groups when there are enough of them (each gemm
/// single-threaded), otherwise group by group with a multi-threaded gemm. Every output value
/// comes from the same gemm either way, so the thread count never changes a bit.
fn per_group<F>(out: &mut [f32], chunk: usize, scratch: usize, f: F)
where
    F: Fn(usize, &mut [f32], &mut [f32], Parallelism) + Sync,
{
    let groups = out.len().div_ceil(chunk.max(1));
    let threads = rayon::current_num_threads();
    if groups >= threads && threads > 1 {
        out.par_chunks_mut(chunk)
            .enumerate()
            .for_each(|(i, part)| with_scratch(scratch, |buf| f(i, part, buf, Parallelism::None)));
    } else {
        let par = if threads > 1 { Parallelism::Rayon(threads) } else { Parallelism::None };
        with_scratch(scratch, |buf| {
            for (i, part) in out.chunks_mut(chunk).enumerate() {
                f(i, part, buf, par);
            }
        });
    }
}

/// Copies the gradient of images `first..first + count` from (image, o, pixel) order to
/// (o, image · pixel): the o × m right-hand side of a strided input gradient's gemm (the weight
/// gradient reads dy transposed, see [`gather_dy_transposed`]).
fn gather_dy(g: &Geom, dy: &[f32], first: usize, count: usize, dyg: &mut [f32]) {
    let (ohw, m) = (g.out_hw(), count * g.out_hw());
    for (o, row) in dyg[..g.o * m].chunks_exact_mut(m).enumerate() {
        for (j, part) in row.chunks_exact_mut(ohw).enumerate() {
            part.copy_from_slice(&dy[((first + j) * g.o + o) * ohw..][..ohw]);
        }
    }
}

/// Copies the gradient of images `first..first + count` from (image, o, pixel) order to
/// (image · pixel, o): the m × o right-hand side of the weight-gradient gemm.
fn gather_dy_transposed(g: &Geom, dy: &[f32], first: usize, count: usize, dyt: &mut [f32]) {
    let ohw = g.out_hw();
    for j in 0..count {
        let src = &dy[(first + j) * g.o * ohw..][..g.o * ohw];
        let dst = &mut dyt[j * ohw * g.o..][..ohw * g.o];
        for (o, plane) in src.chunks_exact(ohw).enumerate() {
            for (p, v) in plane.iter().enumerate() {
                dst[p * g.o + o] = *v;
            }
        }
    }
}

/// im2col of images `first..first + count` of `x` into `cols`, (c · kh · kw) × (count · ohw):
/// image j's columns start at column j · ohw of every row.
fn im2col_group(g: &Geom, x: &[f32], first: usize, count: usize, cols: &mut [f32]) {
    let (hw, ohw, m) = (g.src_hw(), g.out_hw(), count * g.out_hw());
    let taps = g.kh * g.kw;
    let mut phases = if g.stride > 1 { vec![0f32; g.stride * g.h * g.w.div_ceil(g.stride)] } else { Vec::new() };
    for j in 0..count {
        for c in 0..g.c {
            let plane = &x[(first + j) * g.in_chw() + c * hw..][..hw];
            let src = if g.stride > 1 {
                split_phases(g, plane, &mut phases);
                &phases[..]
            } else {
                plane
            };
            for t in 0..taps {
                let row = &mut cols[(c * taps + t) * m + j * ohw..][..ohw];
                im2col_row(g, src, t / g.kw, t % g.kw, 0..g.ho, row);
            }
        }
    }
}

/// y = conv(x, w).
fn forward(g: &Geom, x: &[f32], w: &[f32]) -> Vec<f32> {
    if g.stride == 1 && g.ck() * g.out_hw() > GROUP_CACHE_FLOATS {
        return forward_in_bands(g, x, w);
    }
    let (ck, ohw, group) = (g.ck(), g.out_hw(), group_size(g));
    let mut out = vec![0f32; g.n * g.o * ohw];
    let scratch = (ck + g.o) * group * ohw;
    per_group(&mut out, group * g.o * ohw, scratch, |gi, dst, buf, par| {
        let (first, count) = (gi * group, dst.len() / (g.o * ohw));
        let m = count * ohw;
        let (cols, tmp) = buf.split_at_mut(ck * m);
        im2col_group(g, x, first, count, cols);
        // o × m = w (o × ck) · cols (ck × m); one image writes straight into its output
        let target = if count == 1 { dst.as_mut_ptr() } else { tmp.as_mut_ptr() };
        // SAFETY: target holds o × m; w is o × ck; cols is ck × m, all row-major.
        unsafe { matmul((g.o, m, ck), (target, m, 1), (w.as_ptr(), ck, 1), (cols.as_ptr(), m, 1), false, par) }
        if count > 1 {
            // (o, image, pixel) → (image, o, pixel)
            for (o, row) in tmp[..g.o * m].chunks_exact(m).enumerate() {
                for (j, part) in row.chunks_exact(ohw).enumerate() {
                    dst[(j * g.o + o) * ohw..][..ohw].copy_from_slice(part);
                }
            }
        }
    });
    out
}

/// y = conv(x, w) for stride-1 layers whose one image has more im2col values than
/// [`GROUP_CACHE_FLOATS`]: each image in bands of output rows whose columns fit, one gemm per
/// band writing straight into the image's output rows. Whole-image columns (2.3 MB for the
/// generator's 64-channel 32² layer) went to memory and back; this made that layer's forward
/// about 1.5× faster. Every output value is still one gemm's reduction over c · kh · kw, and
/// band heights depend only on the shapes.
fn forward_in_bands(g: &Geom, x: &[f32], w: &[f32]) -> Vec<f32> {
    let (ck, ohw) = (g.ck(), g.out_hw());
    let band = (GROUP_CACHE_FLOATS / (ck * g.wo)).clamp(1, g.ho);
    let mut out = vec![0f32; g.n * g.o * ohw];
    let (hw, taps) = (g.src_hw(), g.kh * g.kw);
    per_group(&mut out, g.o * ohw, ck * band * g.wo, |image, dst, cols, par| {
        for r0 in (0..g.ho).step_by(band) {
            let rows = r0..(r0 + band).min(g.ho);
            let m = rows.len() * g.wo;
            for c in 0..g.c {
                let plane = &x[image * g.in_chw() + c * hw..][..hw];
                for t in 0..taps {
                    im2col_row(g, plane, t / g.kw, t % g.kw, rows.clone(), &mut cols[(c * taps + t) * m..][..m]);
                }
            }
            // o × m = w (o × ck) · cols (ck × m), into rows r0.. of every output plane
            // SAFETY: dst holds o planes of ohw, and row r0 + m / wo ≤ ho; w is o × ck; cols is
            // ck × m, all row-major.
            unsafe {
                let target = (dst.as_mut_ptr().add(r0 * g.wo), ohw, 1);
                matmul((g.o, m, ck), target, (w.as_ptr(), ck, 1), (cols.as_ptr(), m, 1), false, par)
            }
        }
    });
    out
}

/// dx = conv2d's input gradient for dy.
///
/// A stride-1 convolution's input gradient is itself a stride-1 convolution: of dy with the
/// kernel turned 180° and its channel axes swapped, padded by k − 1 − pad. That gemm reduces over
/// o · kh · kw and writes dx directly, where the general route below reduces over o alone (a
/// short, write-bound gemm for the generator's 32- and 64-channel layers) and then scatters
/// kh · kw shifted copies back. Measured on the GAN's 3×3 layers it roughly halves the input
/// gradient's time.
fn backward_input(g: &Geom, dy: &[f32], w: &[f32]) -> Vec<f32> {
    if g.stride == 1 && g.kh == g.kw && g.pad < g.kh {
        // with circular padding too: a circular correlation's adjoint is the circular
        // correlation with the turned kernel, at the offset k − 1 − pad
        let flipped = Geom::new((g.n, g.o, g.ho, g.wo), (g.c, g.o, g.kh, g.kw), 1, g.kh - 1 - g.pad, g.wrap, 1)
            .expect("the transposed geometry of a valid convolution is valid");
        debug_assert_eq!((flipped.ho, flipped.wo), (g.h, g.w));
        let dx = forward(&flipped, dy, &rotate_and_transpose(g, w));
        // the gradient of the upsampled input, summed over the pixels each stored value fed
        return if g.up == 2 { sum_pool2(&dx, g.n * g.c, g.h, g.w) } else { dx };
    }
    let (ck, ohw, group) = (g.ck(), g.out_hw(), group_size(g));
    let mut dx = vec![0f32; g.n * g.in_chw()];
    let scratch = (ck + g.o) * group * ohw;
    per_group(&mut dx, group * g.in_chw(), scratch, |gi, dxg, buf, par| {
        let (first, count) = (gi * group, dxg.len() / g.in_chw());
        let m = count * ohw;
        let (cols, dyg) = buf.split_at_mut(ck * m);
        gather_dy(g, dy, first, count, dyg);
        // cols (ck × m) = wᵀ (ck × o) · dy (o × m), then scatter each image's columns back
        // SAFETY: cols holds ck × m; w is o × ck row-major, read transposed; dyg is o × m.
        unsafe {
            matmul((ck, m, g.o), (cols.as_mut_ptr(), m, 1), (w.as_ptr(), 1, ck), (dyg.as_ptr(), m, 1), false, par)
        }
        // each input plane gathers its kh · kw taps in a fixed order: no thread changes a sum
        let (hw, taps) = (g.h * g.w, g.kh * g.kw);
        let mut phases = vec![0f32; if g.stride > 1 { g.stride * g.h * g.w.div_ceil(g.stride) } else { 0 }];
        for (j, dxi) in dxg.chunks_exact_mut(g.in_chw()).enumerate() {
            for (c, plane) in dxi.chunks_exact_mut(hw).enumerate() {
                let acc = if g.stride > 1 {
                    phases.fill(0.0);
                    &mut phases[..]
                } else {
                    &mut *plane
                };
                for t in 0..taps {
                    let row = &cols[(c * taps + t) * m + j * ohw..][..ohw];
                    col2im_row(g, row, t / g.kw, t % g.kw, acc);
                }
                if g.stride > 1 {
                    merge_phases(g, &phases, plane);
                }
            }
        }
    });
    dx
}

/// Sums of the 2×2 blocks of `planes` planes of `h × w` (both even): the adjoint of nearest 2×
/// upsampling. Each sum adds its four values in one fixed order.
fn sum_pool2(x: &[f32], planes: usize, h: usize, w: usize) -> Vec<f32> {
    let (sh, sw) = (h / 2, w / 2);
    let mut out = vec![0f32; planes * sh * sw];
    out.par_chunks_mut(sh * sw).zip(x.par_chunks(h * w)).for_each(|(dst, src)| {
        for (y, row) in dst.chunks_exact_mut(sw).enumerate() {
            let (a, b) = (&src[2 * y * w..][..w], &src[(2 * y + 1) * w..][..w]);
            for (x, v) in row.iter_mut().enumerate() {
                *v = a[2 * x] + a[2 * x + 1] + b[2 * x] + b[2 * x + 1];
            }
        }
    });
    out
}

/// w (o, c, kh, kw) → (c, o, kh, kw) with each kernel turned 180°: the kernel of the input
/// gradient as a convolution.
fn rotate_and_transpose(g: &Geom, w: &[f32]) -> Vec<f32> {
    let taps = g.kh * g.kw;
    let mut out = vec![0f32; w.len()];
    for o in 0..g.o {
        for c in 0..g.c {
            let src = &w[(o * g.c + c) * taps..][..taps];
            let dst = &mut out[(c * g.o + o) * taps..][..taps];
            for (d, v) in dst.iter_mut().zip(src.iter().rev()) {
                *d = *v;
            }
        }
    }
    out
}

/// Partial weight-gradient sums: the groups of images are dealt, in order, to this many lanes;
/// each lane accumulates its groups into one o × ck buffer and the lanes are added in order. A
/// fixed count, not the thread count, so the sums do not depend on the machine.
const WEIGHT_LANES: usize = 8;

/// dw = conv2d's weight gradient for dy: one gemm per group of images accumulated into its
/// lane's partial sum (see [`WEIGHT_LANES`]), the lanes added in order.
fn backward_weight(g: &Geom, x: &[f32], dy: &[f32]) -> Vec<f32> {
    let (ck, ohw, group) = (g.ck(), g.out_hw(), weight_group_size(g));
    let groups = g.n.div_ceil(group);
    let lanes = WEIGHT_LANES.min(groups).max(1);
    let mut partials = vec![0f32; lanes * g.o * ck];
    let scratch = (ck + g.o) * group * ohw;
    per_group(&mut partials, g.o * ck, scratch, |lane, part, buf, par| {
        for gi in lane * groups / lanes..(lane + 1) * groups / lanes {
            let (first, count) = (gi * group, group.min(g.n - gi * group));
            let m = count * ohw;
            let (cols, dyg) = buf.split_at_mut(ck * m);
            im2col_group(g, x, first, count, cols);
            gather_dy_transposed(g, dy, first, count, dyg);
            // dwᵀ (ck × o) += cols (ck × m) · dyᵀ (m × o), written through transposed strides as
            // o × ck. Both operands are read along their rows: the gemm packs a row-major
            // right-hand side with contiguous loads, where colsᵀ read down its columns strode m
            // floats per value.
            // SAFETY: part is o × ck (written as ck × o with strides (1, ck)); cols is ck × m;
            // dyg is m × o, all row-major.
            unsafe {
                let (dst, lhs, rhs) = ((part.as_mut_ptr(), 1, ck), (cols.as_ptr(), m, 1), (dyg.as_ptr(), g.o, 1));
                matmul((ck, g.o, m), dst, lhs, rhs, gi != lane * groups / lanes, par)
            }
        }
    });
    let mut chunks = partials.chunks_exact(g.o * ck);
    let mut dw = chunks.next().map(<[f32]>::to_vec).unwrap_or_default();
    for part in chunks {
        for (d, p) in dw.iter_mut().zip(part) {
            *d += p;
        }
    }
    dw
}

/// The forward op: inputs x and w.
#[derive(Clone, Copy, Debug)]
struct Conv2dGemm {
    stride: usize,
    pad: usize,
    wrap: bool,
    up: usize,
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
        let g = Geom::new(dims4(l1)?, dims4(l2)?, self.stride, self.pad, self.wrap, self.up)?;
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
        // Only what the graph needs: no input gradient for data (the discriminator's first layer
        // on real and detached fake images), no weight gradient for frozen weights.
        let dy = dy.contiguous()?;
        let dx = if x.track_op() {
            let (_, _, h, wd) = x.dims4()?;
            let op = Conv2dBackInput { stride: self.stride, pad: self.pad, wrap: self.wrap, up: self.up, h, w: wd };
            Some(dy.apply_op2_no_bwd(w, &op)?)
        } else {
            None
        };
        let dw = if w.track_op() {
            let (_, _, kh, kw) = w.dims4()?;
            let op = Conv2dBackWeight { stride: self.stride, pad: self.pad, wrap: self.wrap, up: self.up, kh, kw };
            Some(x.apply_op2_no_bwd(&dy, &op)?)
        } else {
            None
        };
        Ok((dx, dw))
    }
}

/// Input gradient: inputs dy and w; the input's height and width are remembered.
#[derive(Clone, Copy, Debug)]
struct Conv2dBackInput {
    stride: usize,
    pad: usize,
    wrap: bool,
    up: usize,
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
        let g = Geom::new((n, c, self.h, self.w), (o2, c, kh, kw), self.stride, self.pad, self.wrap, self.up)?;
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
    wrap: bool,
    up: usize,
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
        let g = Geom::new((n, c, h, w), (o, c, self.kh, self.kw), self.stride, self.pad, self.wrap, self.up)?;
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
    use crate::model::stream::Stream;
    use crate::rng::Rng;
    use candle_core::{Device, Var};

    fn randn(shape: (usize, usize, usize, usize), seed: u64) -> Tensor {
        let n = shape.0 * shape.1 * shape.2 * shape.3;
        Tensor::from_vec(Rng::stream(seed, Stream::Fixed(0).id()).normals(n), shape, &Device::Cpu).unwrap()
    }

    fn max_rel(a: &Tensor, b: &Tensor) -> f32 {
        let a: Vec<f32> = a.flatten_all().unwrap().to_vec1().unwrap();
        let b: Vec<f32> = b.flatten_all().unwrap().to_vec1().unwrap();
        assert_eq!(a.len(), b.len());
        let scale = b.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-6);
        a.iter().zip(&b).map(|(x, y)| (x - y).abs() / scale).fold(0.0, f32::max)
    }

    /// `ours` and `theirs`, two computations of the same convolution of `x` by `wt`, agree to
    /// 1e-5 of the largest value, and so do their gradients against `probe`.
    fn assert_same_op((x, wt): (&Var, &Var), probe: &Tensor, ours: &Tensor, theirs: &Tensor, what: &str) {
        assert!(max_rel(ours, theirs) < 1e-5, "{what}: forward");
        let g1 = (ours * probe).unwrap().sum_all().unwrap().backward().unwrap();
        let g2 = (theirs * probe).unwrap().sum_all().unwrap().backward().unwrap();
        let dx = max_rel(g1.get(x).unwrap(), g2.get(x).unwrap());
        let dw = max_rel(g1.get(wt).unwrap(), g2.get(wt).unwrap());
        assert!(dx < 1e-5 && dw < 1e-5, "{what}: dx {dx}, dw {dw}");
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
            ((5, 3, 4, 4), (8, 4), 2, 1),    // 2×2 outputs: several images per gemm
            ((3, 2, 6, 5), (4, 5), 1, 3),    // padding wider than the kernel's reach
            ((2, 16, 48, 40), (4, 3), 1, 1), // an image's columns exceed the cache: row bands
        ];
        for (i, ((n, c, h, w), (o, k), stride, pad)) in cases.into_iter().enumerate() {
            let x = Var::from_tensor(&randn((n, c, h, w), i as u64)).unwrap();
            let wt = Var::from_tensor(&randn((o, c, k, k), 100 + i as u64)).unwrap();
            let probe = randn((n, o, (h + 2 * pad - k) / stride + 1, (w + 2 * pad - k) / stride + 1), 200 + i as u64);
            let ours = conv2d(&x, &wt, stride, pad).unwrap();
            let theirs = x.conv2d(&wt, pad, stride, 1, 1).unwrap();
            assert_same_op((&x, &wt), &probe, &ours, &theirs, &format!("case {i}"));
        }
    }

    /// Circular padding read in place equals zero-pad-free convolution of the explicitly wrapped
    /// input (candle's kernels, with autograd through the concatenation), gradients included.
    #[test]
    fn wrapped_matches_padded_copy() {
        let cases = [
            // (n, c, h, w), (o, k), pad
            ((2, 3, 8, 8), (5, 3), 1),
            ((1, 4, 5, 7), (3, 5), 2), // 5×5: reads two cells round the edge
            ((2, 2, 3, 3), (4, 3), 1), // the kernel as wide as the map
            ((2, 6, 6, 4), (3, 1), 0),
            ((2, 16, 48, 40), (4, 3), 1), // row bands
        ];
        for (i, ((n, c, h, w), (o, k), pad)) in cases.into_iter().enumerate() {
            let x = Var::from_tensor(&randn((n, c, h, w), 300 + i as u64)).unwrap();
            let wt = Var::from_tensor(&randn((o, c, k, k), 400 + i as u64)).unwrap();
            let probe = randn((n, o, h + 2 * pad + 1 - k, w + 2 * pad + 1 - k), 500 + i as u64);
            let ours = conv2d_wrapped(&x, &wt, pad).unwrap();
            let theirs = wrap_pad(&x, pad).unwrap().conv2d(&wt, 0, 1, 1, 1).unwrap();
            assert_same_op((&x, &wt), &probe, &ours, &theirs, &format!("wrapped case {i}"));
        }
        // with the 2× nearest upsampling read in place, against candle's upsample + the copy
        for (i, ((n, c, h, w), (o, k), pad)) in
            [((2, 3, 4, 5), (4, 3), 1), ((1, 16, 24, 20), (5, 3), 1)].into_iter().enumerate()
        {
            let x = Var::from_tensor(&randn((n, c, h, w), 600 + i as u64)).unwrap();
            let wt = Var::from_tensor(&randn((o, c, k, k), 700 + i as u64)).unwrap();
            let probe = randn((n, o, 2 * h, 2 * w), 800 + i as u64);
            let ours = conv2d_wrapped_up2(&x, &wt, pad).unwrap();
            let up = x.upsample_nearest2d(2 * h, 2 * w).unwrap();
            let theirs = wrap_pad(&up, pad).unwrap().conv2d(&wt, 0, 1, 1, 1).unwrap();
            assert_same_op((&x, &wt), &probe, &ours, &theirs, &format!("upsampled case {i}"));
        }
        // the zero-padded kernel differs on the border (the control)
        let x = randn((1, 2, 6, 6), 9);
        let wt = randn((2, 2, 3, 3), 10);
        let zero = conv2d(&x, &wt, 1, 1).unwrap();
        assert!(max_rel(&conv2d_wrapped(&x, &wt, 1).unwrap(), &zero) > 1e-2);
        // what cannot wrap is an error, not a wrong answer
        assert!(conv2d_wrapped(&x, &randn((2, 2, 3, 3), 11), 3).is_err());
        assert!(conv2d_wrapped(&randn((1, 2, 1, 6), 12), &randn((2, 2, 5, 5), 13), 2).is_err());
    }

    #[test]
    fn same_bits_on_one_and_two_threads() {
        // (x, w, stride): one group of images (a multi-threaded gemm on two threads), images
        // with more im2col values than a group holds (groups in parallel on two threads), and
        // images whose columns need row bands
        let cases = [
            ((4, 3, 8, 8), (4, 3, 3, 3), 1),
            ((4, 16, 32, 32), (8, 16, 3, 3), 1),
            ((4, 16, 32, 32), (8, 16, 4, 4), 2),
            ((3, 32, 48, 48), (4, 32, 3, 3), 1),
        ];
        for (i, (xs, ws, stride)) in cases.into_iter().enumerate() {
            let x = randn(xs, 1 + i as u64);
            let w = randn(ws, 10 + i as u64);
            let run = |threads| {
                rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
                    let (xv, wv) = (Var::from_tensor(&x).unwrap(), Var::from_tensor(&w).unwrap());
                    let y = conv2d(&xv, &wv, stride, 1).unwrap();
                    let g = y.sqr().unwrap().sum_all().unwrap().backward().unwrap();
                    let mut v: Vec<f32> = y.flatten_all().unwrap().to_vec1().unwrap();
                    v.extend(g.get(&xv).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap());
                    v.extend(g.get(&wv).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap());
                    v
                })
            };
            assert_eq!(run(1), run(2), "case {i}");
        }
    }
}
