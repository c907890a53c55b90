//! Field benchmarks (issue 3): kiln's block evaluator against hand-written Rust loops of the same
//! computation and against the raw `noise` crate (the W1 baseline of ../shared/bench/rust-noise).
//!
//!     cargo bench --bench field                    # everything
//!     cargo bench --bench field -- w1_             # only W1
//!
//! Groups (throughput in pixels, so criterion prints Mpixel/s as Melem/s):
//! - `w1_fbm_perlin_2048`: fbm(perlin), 6 octaves, lacunarity 2, gain 0.5, 8 cells across, 2048²:
//!   kiln on one thread and on all, a hand-written scalar loop of kiln's own algorithm, and the
//!   `noise` 0.9 `Fbm<Perlin>` loop of the shared baseline (one thread). Target: kiln ≥ 1.5× noise.
//! - `expr12_1024`: a 12-node graph (fbm, two perlins, warp, arithmetic, clamp, mix, palette)
//!   against the same computation hand-written per pixel. Target: kiln within 2× of the loop.
//!
//! The hand-written loops re-implement kiln's kernels (hash, gradients, fade, normalisation) so
//! that they compute the same numbers; `check_same_computation` asserts that before timing.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use kiln::{Field, Fractal, FractalKind, Noise, NoiseKind, NoiseOptions, Palette};
use noise::{Fbm, MultiFractal, NoiseFn, Perlin};

// ---- a scalar copy of kiln's Perlin kernel ----------------------------------------------------

#[inline(always)]
fn hash(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

fn fold_seed(seed: u64) -> u32 {
    hash((seed as u32) ^ hash((seed >> 32) as u32 ^ 0x5bd1_e995))
}

#[inline(always)]
fn grad(h: u32, x: f32, y: f32) -> f32 {
    let sx = if h & 1 != 0 { -x } else { x };
    let sy = if h & 2 != 0 { -y } else { y };
    if h & 4 != 0 {
        (sx + sy) * std::f32::consts::FRAC_1_SQRT_2
    } else if h & 8 != 0 {
        sy
    } else {
        sx
    }
}

#[inline(always)]
fn fade(t: f32) -> f32 {
    t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
}

#[inline(always)]
fn corner(x: i32, y: i32, seed: u32) -> u32 {
    hash(seed ^ (x as u32).wrapping_mul(0x9e37_79b1) ^ (y as u32).wrapping_mul(0x85eb_ca77))
}

/// Signed Perlin noise at (x, y) in lattice units.
#[inline(always)]
fn perlin(x: f32, y: f32, seed: u32) -> f32 {
    let ix = x.floor() as i32;
    let iy = y.floor() as i32;
    let (fx, fy) = (x - ix as f32, y - iy as f32);
    let n00 = grad(corner(ix, iy, seed), fx, fy);
    let n10 = grad(corner(ix + 1, iy, seed), fx - 1.0, fy);
    let n01 = grad(corner(ix, iy + 1, seed), fx, fy - 1.0);
    let n11 = grad(corner(ix + 1, iy + 1, seed), fx - 1.0, fy - 1.0);
    let (a, b) = (fade(fx), fade(fy));
    let nx0 = n00 + a * (n10 - n00);
    let nx1 = n01 + a * (n11 - n01);
    (nx0 + b * (nx1 - nx0)) * std::f32::consts::SQRT_2
}

/// kiln's fbm of Perlin at (u, v), in [0, 1].
#[inline(always)]
fn fbm(u: f32, v: f32, seed: u64, scale: f64, octaves: u32) -> f32 {
    let (mut acc, mut amp, mut norm) = (0f32, 1f32, 0f32);
    for i in 0..octaves {
        let f = (scale * 2f64.powi(i as i32)) as f32;
        acc += amp * perlin(u * f, v * f, fold_seed(seed + i as u64));
        norm += amp;
        amp *= 0.5;
    }
    (0.5 + acc * ((1.0 / norm) * (0.5 / 0.75))).clamp(0.0, 1.0)
}

/// kiln's single-octave Perlin at (u, v), in [0, 1].
#[inline(always)]
fn perlin01(u: f32, v: f32, seed: u64, scale: f32) -> f32 {
    (0.5 + 0.5 * perlin(u * scale, v * scale, fold_seed(seed))).clamp(0.0, 1.0)
}

fn uv(x: usize, y: usize, n: usize) -> (f32, f32) {
    ((x as f32 + 0.5) / n as f32, (y as f32 + 0.5) / n as f32)
}

// ---- W1 ---------------------------------------------------------------------------------------

fn w1_field() -> Field {
    let n = Noise::new(NoiseKind::Perlin, NoiseOptions { seed: 1337, scale: 8.0, tileable: false }).unwrap();
    Field::noise(n.with_fractal(Fractal::new(FractalKind::Fbm, 6, 2.0, 0.5).unwrap()).unwrap())
}

fn w1_handwritten(n: usize) -> Vec<f32> {
    let mut out = vec![0f32; n * n];
    for y in 0..n {
        for x in 0..n {
            let (u, v) = uv(x, y, n);
            out[y * n + x] = fbm(u, v, 1337, 8.0, 6);
        }
    }
    out
}

fn w1_noise_crate(n: usize) -> Vec<u8> {
    // exactly ../shared/bench/rust-noise/src/main.rs, one thread
    let fbm: Fbm<Perlin> =
        Fbm::<Perlin>::new(1337).set_octaves(6).set_frequency(1.0).set_lacunarity(2.0).set_persistence(0.5);
    let scale = 8.0 / n as f64;
    let mut buf = vec![0u8; n * n];
    for (y, line) in buf.chunks_mut(n).enumerate() {
        let fy = y as f64 * scale;
        for (x, px) in line.iter_mut().enumerate() {
            let v = fbm.get([x as f64 * scale, fy]);
            *px = ((v * 0.5 + 0.5) * 255.0).round().clamp(0.0, 255.0) as u8;
        }
    }
    buf
}

// ---- the 12-node expression ---------------------------------------------------------------------

/// perlin fbm (1), perlin (2), perlin (3), warp (4), 1.5 (5), * (6), 0.25 (7), - (8), clamp (9),
/// 0.3 (10), mix (11), palette (12).
fn expr12_field() -> (Field, Palette) {
    let p = |seed, scale| {
        Field::noise(Noise::new(NoiseKind::Perlin, NoiseOptions { seed, scale, tileable: false }).unwrap())
    };
    let n1 = p(1, 4.0).fractal(Fractal::new(FractalKind::Fbm, 4, 2.0, 0.5).unwrap()).unwrap();
    let (n2, n3) = (p(2, 3.0), p(3, 3.0));
    let w = n1.warp(&n2, &n3, 0.3).unwrap();
    let c = ((w * 1.5) - 0.25).clamp(0.0, 1.0).unwrap();
    (Field::mix(&c, &n2, &Field::constant(0.3)), Palette::named("viridis").unwrap())
}

fn expr12_handwritten(n: usize, pal: &Palette) -> Vec<f32> {
    let mut out = vec![0f32; n * n * 4];
    for y in 0..n {
        for x in 0..n {
            let (u, v) = uv(x, y, n);
            let n2 = perlin01(u, v, 2, 3.0);
            let n3 = perlin01(u, v, 3, 3.0);
            let (wu, wv) = (u + 0.3 * (n2 - 0.5), v + 0.3 * (n3 - 0.5));
            #[allow(clippy::manual_clamp)] // the same max-then-min as kiln's clamp node
            let c = (fbm(wu, wv, 1, 4.0, 4) * 1.5 - 0.25).max(0.0).min(1.0);
            let m = c + (n2 - c) * 0.3;
            let i = (y * n + x) * 4;
            out[i..i + 4].copy_from_slice(&pal.sample(m));
        }
    }
    out
}

fn check_same_computation() {
    let n = 256;
    let kiln = w1_field().render(n as u32, n as u32).unwrap();
    let hand = w1_handwritten(n);
    let worst = kiln.pixels().chunks(4).zip(&hand).map(|(p, h)| (p[0] - h).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-6, "W1: kiln and the hand-written loop differ by {worst}");
    let (f, pal) = expr12_field();
    let kiln = f.render_palette(n as u32, n as u32, &pal).unwrap();
    let hand = expr12_handwritten(n, &pal);
    let worst = kiln.pixels().iter().zip(&hand).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(worst < 1e-5, "expr12: kiln and the hand-written loop differ by {worst}");
}

fn benches(c: &mut Criterion) {
    check_same_computation();
    let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();

    let n = 2048;
    let mut g = c.benchmark_group("w1_fbm_perlin_2048");
    g.sample_size(10).throughput(Throughput::Elements((n * n) as u64));
    let f = w1_field();
    g.bench_function(BenchmarkId::new("kiln", "1 thread"), |b| {
        b.iter(|| one.install(|| f.render(n as u32, n as u32).unwrap()))
    });
    g.bench_function(BenchmarkId::new("kiln", "all threads"), |b| b.iter(|| f.render(n as u32, n as u32).unwrap()));
    g.bench_function(BenchmarkId::new("handwritten", "1 thread"), |b| b.iter(|| w1_handwritten(n)));
    g.bench_function(BenchmarkId::new("noise_crate", "1 thread"), |b| b.iter(|| w1_noise_crate(n)));
    g.finish();

    let n = 1024;
    let mut g = c.benchmark_group("expr12_1024");
    g.sample_size(10).throughput(Throughput::Elements((n * n) as u64));
    let (f, pal) = expr12_field();
    g.bench_function(BenchmarkId::new("kiln", "1 thread"), |b| {
        b.iter(|| one.install(|| f.render_palette(n as u32, n as u32, &pal).unwrap()))
    });
    g.bench_function(BenchmarkId::new("handwritten", "1 thread"), |b| b.iter(|| expr12_handwritten(n, &pal)));
    g.finish();
}

criterion_group!(field, benches);
criterion_main!(field);
