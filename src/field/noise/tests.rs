//! Noise contracts: ranges, spread, tileability, resolution independence, parameter errors.

use super::*;
use crate::field::raster::field_values;
use crate::field::Field;

fn opts(seed: u64, scale: f64, tileable: bool) -> NoiseOptions {
    NoiseOptions { seed, scale, tileable }
}

const KINDS: [NoiseKind; 7] = [
    NoiseKind::Perlin,
    NoiseKind::Simplex,
    NoiseKind::Value,
    NoiseKind::Worley(WorleyOutput::F1),
    NoiseKind::Worley(WorleyOutput::F2),
    NoiseKind::Worley(WorleyOutput::F2F1),
    NoiseKind::Worley(WorleyOutput::Cell),
];
const FRACTALS: [FractalKind; 4] =
    [FractalKind::Fbm, FractalKind::Ridged, FractalKind::Billow, FractalKind::Turbulence];

fn field(kind: NoiseKind, o: NoiseOptions, fr: Option<FractalKind>) -> Field {
    let n = Noise::new(kind, o).unwrap();
    match fr {
        None => Field::noise(n),
        Some(k) => Field::noise(n.with_fractal(Fractal::new(k, 5, 2.0, 0.5).unwrap()).unwrap()),
    }
}

fn min_max(v: &[f32]) -> (f32, f32) {
    v.iter().fold((f32::MAX, f32::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)))
}

#[test]
fn every_noise_and_fractal_stays_in_unit_range_and_spreads() {
    for kind in KINDS {
        for fr in std::iter::once(None).chain(FRACTALS.map(Some)) {
            let v = field_values(&field(kind, opts(3, 8.0, false), fr), 512, 512).unwrap();
            let (lo, hi) = min_max(&v);
            assert!(lo >= 0.0 && hi <= 1.0, "{kind:?} {fr:?}: [{lo}, {hi}]");
            assert!(hi - lo > 0.3, "{kind:?} {fr:?} is nearly flat: [{lo}, {hi}]");
        }
    }
}

#[test]
fn raw_kernels_never_exceed_their_bound_before_clamping() {
    // The normalisation constants are upper bounds, not clamps: check the unclamped kernels over
    // many cells so that a wrong constant shows up here, not as flat tops in images.
    let n = 200_000;
    let us: Vec<f32> = (0..n).map(|i| (i as f32 * 0.618_034).fract()).collect();
    let vs: Vec<f32> = (0..n).map(|i| (i as f32 * 0.754_877_7).fract()).collect();
    for (kind, period) in
        [(NoiseKind::Perlin, 0), (NoiseKind::Value, 0), (NoiseKind::Simplex, 0), (NoiseKind::Simplex, 98)]
    {
        let mut peak = 0f32;
        for (u, v) in us.chunks(BLOCK).zip(vs.chunks(BLOCK)) {
            let mut out = [0f32; BLOCK];
            signed(kind, u, v, Lattice { freq: 97.0, period, seed: 11 }, &mut out[..u.len()]);
            peak = out[..u.len()].iter().fold(peak, |p, x| p.max(x.abs()));
        }
        // simplex kernels clamp, so for them 1.0 itself means the constant is too large
        let limit = if kind == NoiseKind::Simplex { 0.999 } else { 1.0 + 1e-5 };
        assert!(peak <= limit, "{kind:?} (period {period}) reaches {peak}");
        assert!(peak > 0.6, "{kind:?} (period {period}) only reaches {peak}: normalisation too small");
    }
}

#[test]
fn fbm_over_1024_spans_at_least_0_6() {
    for kind in [NoiseKind::Perlin, NoiseKind::Simplex, NoiseKind::Value] {
        let n = Noise::new(kind, opts(1337, 8.0, false)).unwrap();
        let f = Field::noise(n.with_fractal(Fractal::default_for(FractalKind::Fbm)).unwrap());
        let v = field_values(&f, 1024, 1024).unwrap();
        let (lo, hi) = min_max(&v);
        assert!(hi - lo >= 0.6, "{kind:?} fbm spans only [{lo}, {hi}]");
        let mean = v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64;
        assert!((mean - 0.5).abs() < 0.05, "{kind:?} fbm mean {mean}");
    }
}

/// (difference across the wrap edge, largest difference between neighbouring columns or rows
/// inside the image) of a square raster: kiln's one seam metric, `image::texture_stats::Seam`.
pub(crate) fn seam(v: &[f32], n: usize) -> (f32, f32) {
    let s = crate::image::texture_stats::Seam::of_plane(v, n, n);
    (s.wrap as f32, s.inner as f32)
}

#[test]
fn tileable_noise_is_seamless_at_several_resolutions() {
    for kind in KINDS {
        for fr in [None, Some(FractalKind::Fbm), Some(FractalKind::Ridged)] {
            for n in [64usize, 200, 513] {
                let v = field_values(&field(kind, opts(5, 5.3, true), fr), n as u32, n as u32).unwrap();
                let (wrap, inner) = seam(&v, n);
                // The wrap edge is one more sample of the neighbour difference, so it may by chance
                // be the largest of the n; 1.25× the interior maximum leaves room for that while a
                // real seam (see the next test) is several times larger.
                assert!(wrap <= 1.25 * inner, "{kind:?} {fr:?} at {n}²: wrap edge {wrap} > interior {inner}");
            }
        }
    }
}

#[test]
fn tileable_noise_repeats_exactly_one_period_away() {
    for kind in KINDS {
        for fr in [None, Some(FractalKind::Turbulence)] {
            let f = field(kind, opts(8, 3.7, true), fr);
            let a = field_values(&f, 128, 96).unwrap();
            for (du, dv) in [(1.0, 0.0), (0.0, 1.0), (-2.0, 1.0)] {
                let b = field_values(&f.translate(du, dv).unwrap(), 128, 96).unwrap();
                let worst = a.iter().zip(&b).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
                assert!(worst < 2e-3, "{kind:?} {fr:?} shifted by ({du}, {dv}): differs by {worst}");
            }
        }
    }
}

#[test]
fn non_tileable_noise_shows_a_seam() {
    // The seam test must be able to fail: without `tileable` the wrap edge jumps.
    for kind in [NoiseKind::Perlin, NoiseKind::Simplex, NoiseKind::Worley(WorleyOutput::F1)] {
        let n = 256;
        let v = field_values(&field(kind, opts(5, 5.3, false), Some(FractalKind::Fbm)), n as u32, n as u32).unwrap();
        let (wrap, inner) = seam(&v, n);
        assert!(wrap > 1.25 * inner, "{kind:?}: wrap {wrap} <= 1.25 × inner {inner}");
    }
}

/// Box-reduces an n×n raster by `k`.
pub(crate) fn reduce(v: &[f32], n: usize, k: usize) -> Vec<f32> {
    let m = n / k;
    (0..m * m)
        .map(|i| {
            let (x, y) = (i % m, i / m);
            let mut s = 0.0;
            for dy in 0..k {
                for dx in 0..k {
                    s += v[(y * k + dy) * n + x * k + dx];
                }
            }
            s / (k * k) as f32
        })
        .collect()
}

#[test]
fn resolution_independent() {
    // Metric: mean absolute difference between the 256² render and the 1024² render box-reduced
    // to 256², on [0, 1] values. Threshold 0.01 (2.5 levels of 8 bits) on average and 0.1 at worst:
    // the reduction averages detail that a 256² pixel centre samples, so small local differences
    // are expected where the finest octave is near the pixel size.
    for kind in [NoiseKind::Perlin, NoiseKind::Simplex, NoiseKind::Value, NoiseKind::Worley(WorleyOutput::F1)] {
        let f = field(kind, opts(9, 4.0, false), Some(FractalKind::Fbm));
        let small = field_values(&f, 256, 256).unwrap();
        let big = reduce(&field_values(&f, 1024, 1024).unwrap(), 1024, 4);
        let diffs: Vec<f32> = small.iter().zip(&big).map(|(a, b)| (a - b).abs()).collect();
        let mean = diffs.iter().sum::<f32>() / diffs.len() as f32;
        let max = diffs.iter().fold(0f32, |m, &d| m.max(d));
        assert!(mean < 0.01 && max < 0.1, "{kind:?}: mean {mean}, max {max}");
    }
}

#[test]
fn seeds_change_the_picture_and_same_seed_repeats() {
    let a = field_values(&field(NoiseKind::Perlin, opts(1, 4.0, false), None), 64, 64).unwrap();
    let b = field_values(&field(NoiseKind::Perlin, opts(1, 4.0, false), None), 64, 64).unwrap();
    let c = field_values(&field(NoiseKind::Perlin, opts(2, 4.0, false), None), 64, 64).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[test]
fn bad_parameters_are_errors() {
    let e = |r: Result<Fractal>| r.unwrap_err().to_string();
    assert!(e(Fractal::new(FractalKind::Fbm, -1, 2.0, 0.5)).contains("octaves must be between 1 and 16, got -1"));
    assert!(e(Fractal::new(FractalKind::Fbm, 0, 2.0, 0.5)).contains("octaves"));
    assert!(e(Fractal::new(FractalKind::Ridged, 17, 2.0, 0.5)).starts_with("ridged: octaves"));
    assert!(e(Fractal::new(FractalKind::Fbm, 4, f64::NAN, 0.5)).contains("lacunarity must be a finite number"));
    assert!(e(Fractal::new(FractalKind::Fbm, 4, 2.0, -0.5)).contains("gain must be >= 0"));
    let n = |s: f64| Noise::new(NoiseKind::Perlin, opts(0, s, false)).unwrap_err().to_string();
    assert!(n(0.0).contains("perlin: scale must be > 0"), "{}", n(0.0));
    assert!(n(-3.0).contains("scale must be > 0"));
    assert!(n(f64::NAN).contains("scale must be a finite number"));
    assert!(n(f64::INFINITY).contains("finite"));
    let base = Noise::new(NoiseKind::Perlin, opts(0, 50_000.0, false)).unwrap();
    assert!(base.with_fractal(Fractal::new(FractalKind::Fbm, 8, 2.0, 0.5).unwrap()).is_err());
}
