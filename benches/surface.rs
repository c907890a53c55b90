//! Surface-op benchmarks (issue 12 §2): every op of `image::ops::surface` on a noise height map,
//! through the plain Rust API, all threads.
//!
//!     cargo bench --bench surface                      # everything
//!     cargo bench --bench surface -- normal_map        # one group
//!
//! Groups (throughput in pixels, so criterion prints Mpixel/s as Melem/s):
//! - `normal_map_4096`: Scharr normal map of a 4096² height (the figure; the whole-process
//!   comparison with numpy is `bench/surface-vs-numpy.sh`);
//! - `ambient_occlusion_2048`: HBAO at the defaults (radius 16, 16 directions) on 2048²;
//! - `curvature_2048`, `slope_blur_2048`, `height_blend_2048`, `histogram_scan_2048`: the rest at
//!   their defaults on 2048².
//!
//! Figures of 2026-12-07 on the shared 2-core development machine while it was quiet (load ~1),
//! release build, both threads: normal_map 4096² 316 ms (53 Mpixel/s); ambient_occlusion 2048²
//! 261 ms (16 Mpixel/s); curvature 2048² 81 ms; slope_blur 2048² 452 ms; height_blend 2048²
//! 125 ms; histogram_scan 2048² 59 ms. Whole process against numpy (`bench/surface-vs-numpy.sh`,
//! normal_map 4096², PGM in, PPM out, best of 3): kiln 0.57 s, numpy 1.86 s, ratio 0.31.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiln::ops::surface::{self, AmbientOcclusion, Curvature, HeightBlend, NormalMap, SlopeBlur};
use kiln::{Field, Fractal, FractalKind, Image, Noise, NoiseKind, NoiseOptions};

/// A 6-octave fBm height, rendered once.
fn height(n: u32) -> Image {
    let noise = Noise::new(NoiseKind::Perlin, NoiseOptions { scale: 8.0, ..NoiseOptions::default() }).unwrap();
    let f = Field::noise(noise.with_fractal(Fractal::default_for(FractalKind::Fbm)).unwrap());
    kiln::raster::render(&f, n, n).unwrap()
}

fn bench(c: &mut Criterion) {
    let h4 = height(4096);
    let mut g = c.benchmark_group("normal_map_4096");
    g.sample_size(10).throughput(Throughput::Elements(4096 * 4096));
    g.bench_function("kiln", |b| b.iter(|| surface::normal_map(&h4, &NormalMap::default()).unwrap()));
    g.finish();
    drop(h4);

    let h2 = height(2048);
    let px = Throughput::Elements(2048 * 2048);
    let mut g = c.benchmark_group("ambient_occlusion_2048");
    g.sample_size(10).throughput(px.clone());
    g.bench_function("kiln", |b| b.iter(|| surface::ambient_occlusion(&h2, &AmbientOcclusion::default()).unwrap()));
    g.finish();

    let mut g = c.benchmark_group("curvature_2048");
    g.sample_size(10).throughput(px.clone());
    g.bench_function("kiln", |b| b.iter(|| surface::curvature(&h2, &Curvature::default()).unwrap()));
    g.finish();

    let colour = Image::from_fn(2048, 2048, |x, y| [x as f32 / 2048.0, y as f32 / 2048.0, 0.5, 1.0]).unwrap();
    let mut g = c.benchmark_group("slope_blur_2048");
    g.sample_size(10).throughput(px.clone());
    g.bench_function("kiln", |b| b.iter(|| surface::slope_blur(&colour, &h2, &SlopeBlur::default()).unwrap()));
    g.finish();

    let other = surface::histogram_scan(&h2, 0.3, 0.2).unwrap();
    let mut g = c.benchmark_group("height_blend_2048");
    g.sample_size(10).throughput(px.clone());
    g.bench_function("kiln", |b| {
        b.iter(|| surface::height_blend(&colour, &h2, &h2, &other, &HeightBlend::default()).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("histogram_scan_2048");
    g.sample_size(10).throughput(px);
    g.bench_function("kiln", |b| b.iter(|| surface::histogram_scan(&h2, 0.4, 0.8).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
