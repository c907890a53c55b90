//! Recursive (IIR) Gaussian blur for large σ: Deriche's 4th-order approximation, whose cost per
//! pixel does not depend on σ (W3, σ = 8: about 16 multiplies per value per pass instead of the
//! exact kernel's 25 multiplies and 48 adds).
//!
//! Owns: the filter coefficients and the two passes over a working buffer. Must not know about
//! Rhai or files; the caller (gaussian.rs) picks this path only where it agrees with the exact
//! sampled kernel within 1/255 (see the tests).
//!
//! The filter (R. Deriche, "Recursively implementing the Gaussian and its derivatives", INRIA
//! RR-1893, 1993) approximates the continuous Gaussian by two damped cosines,
//! `h(x) = Σ_k (a_k cos(ω_k x/σ) + b_k sin(ω_k |x|/σ)) e^{-λ_k |x|/σ}`, run as a causal plus an
//! anticausal recursion. Each damped cosine is kept as its own second-order section (parallel
//! form) rather than multiplied out into one 4th-order recursion: the sections' poles sit close
//! to 1 for large σ, and the expanded polynomial loses far more precision in f32. The discrete
//! kernel is renormalised to sum exactly 1 (Farnebäck & Westin's correction), so a constant image
//! stays constant.
//!
//! Edges are clamped like the FIR path. In the parallel form both recursions read the input, not
//! each other's output, so a clamped edge is exactly the steady state of a constant input: the
//! history before the first sample is `x[0]` times the section's DC gain, which makes the result
//! equal to filtering an infinitely extended edge (no Triggs–Sdika matrix is needed, as it would be
//! for the cascaded Young–van Vliet form).
//!
//! Layout: the horizontal pass gathers 4 rows into one buffer interleaved pixel by pixel
//! (16 floats per x), so the recursion along x runs 16 independent lanes in SIMD; the vertical
//! pass runs down bands of 64 floats (16 pixels) of every row at once. Each lane is one sequence
//! computed in a fixed order by one thread, so results are identical at any thread count; plain
//! mul and add (no FMA) keep them identical with and without AVX2.

use rayon::prelude::*;

use super::Space;
use crate::image::buffer::CHANNELS;

/// Deriche's coefficients for the Gaussian (RR-1893, eq. 19/38, 10 significant digits):
/// `(a, b, ω, λ)` of each damped cosine `(a cos(ωx) + b sin(ωx)) e^{-λx}` (x in units of σ).
const DERICHE: [(f64, f64, f64, f64); 2] = [
    (1.679_729_223_236_110_7, 3.734_829_826_910_358, 0.631_811_317_456_949_3, 1.783_190_654_451_510_4),
    (-0.680_278_350_180_689_7, -0.259_830_047_895_962_5, 1.996_927_683_248_777, 1.722_829_766_333_802_8),
];

/// One second-order section of both recursions, normalised so the whole kernel sums to 1.
///
/// Causal: `s[n] = r0 x[n] + r1 x[n-1] - e1 s[n-1] - e2 s[n-2]`;
/// anticausal: `u[n] = q1 x[n+1] + q2 x[n+2] - e1 u[n+1] - e2 u[n+2]`;
/// the blur is the sum of both sections of both recursions.
#[derive(Clone, Copy, Debug)]
struct Section {
    r0: f32,
    r1: f32,
    q1: f32,
    q2: f32,
    e1: f32,
    e2: f32,
    /// Steady-state output of the causal / anticausal recursion for a constant input of 1.
    dc_causal: f32,
    dc_anti: f32,
}

/// The two sections of Deriche's filter at `sigma` (computed in f64).
fn sections(sigma: f32) -> [Section; 2] {
    let s = sigma as f64;
    // For a damped cosine with complex pole p and weight α = a - ib, the causal half
    // Σ_{n≥0} Re(α pⁿ) z⁻ⁿ is (Re α - Re(α p̄) z⁻¹) / (1 - 2 Re p z⁻¹ + |p|² z⁻²).
    let raw = DERICHE.map(|(a, b, w, l)| {
        let (pr, pi) = ((-l / s).exp() * (w / s).cos(), (-l / s).exp() * (w / s).sin());
        let r0 = a;
        let r1 = -(a * pr - b * pi);
        let e1 = -2.0 * pr;
        let e2 = pr * pr + pi * pi;
        (r0, r1, e1, e2)
    });
    // The recursion runs on f32 coefficients. For large σ the poles near 1 amplify their rounding
    // (the DC gain divides by 1 + e1 + e2 ≈ (1 - |p|)²), so the normalisation and the edge steady
    // states are computed from the rounded coefficients, in f64: then the f32 filter's own gain is
    // 1 and a constant input is its exact fixed point (constant images stay constant).
    let f = |v: f64| v as f32 as f64;
    let raw = raw.map(|(r0, r1, e1, e2)| (r0, r1, f(e1), f(e2)));
    // Whole kernel sum: causal (n ≥ 0) plus anticausal (n ≥ 1) = 2 H(1) - h(0) per section.
    let gain = |raw: &[(f64, f64, f64, f64); 2]| -> f64 {
        raw.iter().map(|&(r0, r1, e1, e2)| 2.0 * (r0 + r1) / (1.0 + e1 + e2) - r0).sum()
    };
    let total = gain(&raw);
    let mut raw = raw.map(|(r0, r1, e1, e2)| (f(r0 / total), f(r1 / total), e1, e2));
    // Once more, to take up the rounding of r0 and r1.
    let total = gain(&raw);
    raw = raw.map(|(r0, r1, e1, e2)| (f(r0 / total), f(r1 / total), e1, e2));
    raw.map(|(r0, r1, e1, e2)| {
        // The anticausal half holds taps n ≥ 1: H(z) - h(0) = ((r1 - r0 e1) z⁻¹ - r0 e2 z⁻²) / D.
        let (q1, q2) = (f(r1 - r0 * e1), f(-r0 * e2));
        let d = 1.0 + e1 + e2;
        Section {
            r0: r0 as f32,
            r1: r1 as f32,
            q1: q1 as f32,
            q2: q2 as f32,
            e1: e1 as f32,
            e2: e2 as f32,
            dc_causal: ((r0 + r1) / d) as f32,
            dc_anti: ((q1 + q2) / d) as f32,
        }
    })
}

/// A sequence of `len` vectors of `L` independent lanes, read and written by index.
trait Lanes<const L: usize> {
    fn len(&self) -> usize;
    fn load(&self, i: usize) -> [f32; L];
    fn store(&mut self, i: usize, v: [f32; L]);
}

/// Filters every lane of `seq` in place with the two sections: the causal pass loads each input
/// once, keeping it in `xs` and its own output in `ys` (both contiguous, so the anticausal pass
/// reads cache-friendly memory instead of strided rows); the anticausal pass adds its part and
/// stores. `xs` and `ys` hold at least `seq.len()` vectors.
#[inline(always)]
fn filter_lanes<const L: usize, S: Lanes<L>>(
    seq: &mut S,
    sec: &[Section; 2],
    xs: &mut [[f32; L]],
    ys: &mut [[f32; L]],
) {
    let n = seq.len();
    if n == 0 {
        return;
    }
    let (xs, ys) = (&mut xs[..n], &mut ys[..n]);
    let [a, b] = sec;
    // Causal: the history before x[0] is x[0] forever (clamped edge), i.e. the steady state.
    let first = seq.load(0);
    let mut xp = first;
    let (mut a1, mut b1) = ([0f32; L], [0f32; L]);
    for l in 0..L {
        a1[l] = first[l] * a.dc_causal;
        b1[l] = first[l] * b.dc_causal;
    }
    let (mut a2, mut b2) = (a1, b1);
    for (i, (xi, t)) in xs.iter_mut().zip(ys.iter_mut()).enumerate() {
        let x = seq.load(i);
        for l in 0..L {
            let sa = a.r0 * x[l] + a.r1 * xp[l] - a.e2 * a2[l] - a.e1 * a1[l];
            let sb = b.r0 * x[l] + b.r1 * xp[l] - b.e2 * b2[l] - b.e1 * b1[l];
            a2[l] = a1[l];
            a1[l] = sa;
            b2[l] = b1[l];
            b1[l] = sb;
            t[l] = sa + sb;
        }
        *xi = x;
        xp = x;
    }
    // Anticausal: the history after x[n-1] is x[n-1] forever.
    let last = xs[n - 1];
    let (mut x1, mut x2) = (last, last);
    for l in 0..L {
        a1[l] = last[l] * a.dc_anti;
        b1[l] = last[l] * b.dc_anti;
    }
    let (mut a2, mut b2) = (a1, b1);
    for i in (0..n).rev() {
        let mut y = ys[i];
        for l in 0..L {
            let ua = a.q1 * x1[l] + a.q2 * x2[l] - a.e2 * a2[l] - a.e1 * a1[l];
            let ub = b.q1 * x1[l] + b.q2 * x2[l] - b.e2 * b2[l] - b.e1 * b1[l];
            a2[l] = a1[l];
            a1[l] = ua;
            b2[l] = b1[l];
            b1[l] = ub;
            y[l] += ua + ub;
        }
        x2 = x1;
        x1 = xs[i];
        seq.store(i, y);
    }
}

/// Rows per horizontal task: 4 RGBA rows interleaved are 16 lanes (two AVX2 vectors).
const ROWS: usize = 4;
const HL: usize = ROWS * CHANNELS;
/// Floats per vertical band: 16 pixels, eight AVX2 vectors of independent columns.
const VL: usize = 64;

/// 4 rows gathered pixel by pixel (`buf[x][row][channel]`), written out to `out` rows.
struct RowGroup<'a> {
    buf: &'a [[f32; HL]],
    out: &'a mut [f32],
    stride: usize,
}

impl Lanes<HL> for RowGroup<'_> {
    fn len(&self) -> usize {
        self.stride / CHANNELS
    }
    #[inline(always)]
    fn load(&self, i: usize) -> [f32; HL] {
        self.buf[i]
    }
    #[inline(always)]
    fn store(&mut self, i: usize, v: [f32; HL]) {
        for (r, row) in self.out.chunks_exact_mut(self.stride).enumerate() {
            row[i * CHANNELS..(i + 1) * CHANNELS].copy_from_slice(&v[r * CHANNELS..(r + 1) * CHANNELS]);
        }
    }
}

/// One band of columns: the same `VL` floats (or fewer, at the right edge) of every row.
struct Band<'a, 'b> {
    pieces: &'a mut [&'b mut [f32]],
    space: &'a Space,
    leave: bool,
}

impl Lanes<VL> for Band<'_, '_> {
    fn len(&self) -> usize {
        self.pieces.len()
    }
    #[inline(always)]
    fn load(&self, i: usize) -> [f32; VL] {
        let p: &[f32] = self.pieces[i];
        // A whole band is a fixed-size copy (vector moves, no memcpy call); the last may be short.
        if let Ok(a) = <&[f32; VL]>::try_from(p) {
            return *a;
        }
        let mut v = [0f32; VL];
        v[..p.len()].copy_from_slice(p);
        v
    }
    #[inline(always)]
    fn store(&mut self, i: usize, mut v: [f32; VL]) {
        let p: &mut [f32] = self.pieces[i];
        let n = p.len();
        if self.leave {
            self.space.leave(&mut v[..n]);
        }
        match <&mut [f32; VL]>::try_from(&mut *p) {
            Ok(a) => *a = v,
            Err(_) => p.copy_from_slice(&v[..n]),
        }
    }
}

type Tmp<const L: usize> = (Vec<[f32; L]>, Vec<[f32; L]>);

fn filter_rows(g: &mut RowGroup, sec: &[Section; 2], tmp: &mut Tmp<HL>) {
    with_avx2!(filter_rows_avx2, (g: &mut RowGroup, sec: &[Section; 2], tmp: &mut Tmp<HL>), {
        filter_lanes(g, sec, &mut tmp.0, &mut tmp.1)
    })
}

fn filter_band(b: &mut Band, sec: &[Section; 2], tmp: &mut Tmp<VL>) {
    with_avx2!(filter_band_avx2, (b: &mut Band, sec: &[Section; 2], tmp: &mut Tmp<VL>), {
        filter_lanes(b, sec, &mut tmp.0, &mut tmp.1)
    })
}

/// The recursive Gaussian of a `w` × `h` RGBA image: enters `space` on the way in and, if
/// `leave`, leaves it on the way out. Returns the new buffer, unfinished if the run's cancel token
/// stopped it (the caller checks `cancel::checkpoint`).
pub(crate) fn recursive_gaussian(src: &[f32], w: usize, h: usize, sigma: f32, space: &Space, leave: bool) -> Vec<f32> {
    let sec = sections(sigma);
    let stride = w * CHANNELS;
    let mut out = vec![0f32; src.len()];
    if src.is_empty() {
        return out;
    }
    // A few tasks per thread, each with one set of scratch buffers: rayon calls the `init` of
    // `for_each_init` once per task it splits off, and every fresh buffer is page faults.
    let tasks = 4 * rayon::current_num_threads();
    let stop = crate::cancel::current();
    // Horizontal pass, source -> out: 4 rows at a time, gathered (and converted) pixel-interleaved.
    let groups = h.div_ceil(ROWS);
    out.par_chunks_mut(stride * ROWS)
        .zip(src.par_chunks(stride * ROWS))
        .with_min_len(groups.div_ceil(tasks))
        .for_each_init(
            || (vec![[0f32; HL]; w], (vec![[0f32; HL]; w], vec![[0f32; HL]; w])),
            |(buf, tmp), (o, s)| {
                if stop.is_stopped() {
                    return;
                }
                let rows = s.len() / stride;
                for (r, row) in s.chunks_exact(stride).enumerate() {
                    for (px, p) in buf.iter_mut().zip(row.chunks_exact(CHANNELS)) {
                        px[r * CHANNELS..(r + 1) * CHANNELS].copy_from_slice(p);
                    }
                }
                // Lanes of missing rows (last group) repeat row 0 so they stay finite; never stored.
                for px in buf.iter_mut() {
                    for r in rows..ROWS {
                        px.copy_within(0..CHANNELS, r * CHANNELS);
                    }
                    space.enter(px);
                }
                filter_rows(&mut RowGroup { buf, out: o, stride }, &sec, tmp);
            },
        );
    // Vertical pass, in place: bands of VL floats down every row.
    let bands = stride.div_ceil(VL);
    let mut pieces: Vec<Vec<&mut [f32]>> = (0..bands).map(|_| Vec::with_capacity(h)).collect();
    for row in out.chunks_mut(stride) {
        for (band, piece) in pieces.iter_mut().zip(row.chunks_mut(VL)) {
            band.push(piece);
        }
    }
    pieces.into_par_iter().with_min_len(bands.div_ceil(tasks)).for_each_init(
        || (vec![[0f32; VL]; h], vec![[0f32; VL]; h]),
        |tmp, mut band| {
            if !stop.is_stopped() {
                filter_band(&mut Band { pieces: &mut band, space, leave }, &sec, tmp)
            }
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The recursion on one plain sequence (1 lane used).
    fn filter_1d(x: &[f32], sigma: f32) -> Vec<f32> {
        let mut out = vec![0f32; x.len() * CHANNELS];
        let src: Vec<f32> = x.iter().flat_map(|&v| [v, v, v, 1.0]).collect();
        let img = recursive_gaussian(&src, x.len(), 1, sigma, &Space::IDENTITY, true);
        out.copy_from_slice(&img);
        out.chunks_exact(CHANNELS).map(|p| p[0]).collect()
    }

    #[test]
    fn kernel_sums_to_one_and_is_closer_to_the_gaussian_than_the_sampled_kernel() {
        // The impulse response against the true (untruncated) Gaussian: L1 distance ≤ 0.001 and
        // every tap within 0.1% of the peak. The FIR path's kernel, cut at 3σ and renormalised,
        // is 0.003 (σ 3) to 0.005 (σ 16) away in L1, so most of any IIR/FIR difference is the FIR's.
        for sigma in [3.0f32, 5.0, 8.0, 16.0, 32.0] {
            let n = (24.0 * sigma) as usize + 1;
            let c = n / 2;
            let x: Vec<f32> = (0..n).map(|i| if i == c { 1.0 } else { 0.0 }).collect();
            let y = filter_1d(&x, sigma);
            let total: f32 = y.iter().sum();
            assert!((total - 1.0).abs() < 1e-5, "σ {sigma}: sum {total}");
            let s2 = 2.0 * (sigma as f64).powi(2);
            let norm: f64 = (-(n as i64)..=n as i64).map(|k| (-(k * k) as f64 / s2).exp()).sum();
            let fir = super::super::gaussian_weights(sigma);
            let (mut l1_iir, mut l1_fir) = (0.0, 0.0);
            for (i, &v) in y.iter().enumerate() {
                let k = i as i64 - c as i64;
                let g = (-(k * k) as f64 / s2).exp() / norm;
                assert!((v as f64 - g).abs() < 0.001 / norm, "σ {sigma}, tap {k}: {v} vs {g}");
                l1_iir += (v as f64 - g).abs();
                l1_fir += (fir.get(k.unsigned_abs() as usize).copied().unwrap_or(0.0) as f64 - g).abs();
            }
            assert!(l1_iir < 0.001 && l1_iir < l1_fir / 4.0, "σ {sigma}: L1 {l1_iir} (FIR {l1_fir})");
        }
    }

    #[test]
    fn constant_input_stays_constant() {
        for sigma in [3.0f32, 8.0, 32.0] {
            let (w, h) = (301, 77);
            let src: Vec<f32> = (0..w * h).flat_map(|_| [0.3f32, 0.6, 0.9, 1.0]).collect();
            let y = recursive_gaussian(&src, w, h, sigma, &Space::IDENTITY, true);
            let e = y.iter().zip(&src).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
            assert!(e < 2e-6, "σ {sigma}: {e}");
        }
    }

    #[test]
    fn clamped_edges_equal_an_extended_signal() {
        // Filtering a sequence must equal filtering it padded far out with its edge values.
        let sigma = 6.0;
        let x: Vec<f32> = (0..50).map(|i| ((i * 37 % 11) as f32) / 10.0).collect();
        let pad = 400;
        let mut ext = vec![x[0]; pad];
        ext.extend_from_slice(&x);
        ext.extend(std::iter::repeat_n(x[49], pad));
        let short = filter_1d(&x, sigma);
        let long = filter_1d(&ext, sigma);
        for (i, &v) in short.iter().enumerate() {
            assert!((v - long[pad + i]).abs() < 1e-5, "{i}: {v} vs {}", long[pad + i]);
        }
    }

    #[test]
    fn tiny_sequences_are_fine() {
        assert!((filter_1d(&[0.25], 10.0)[0] - 0.25).abs() < 1e-6);
        let y = filter_1d(&[0.0, 1.0], 10.0);
        assert!(y.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
    }
}
