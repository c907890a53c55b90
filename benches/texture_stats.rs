//! Texture-metric benchmarks (issue 14 §3): the random-filter Gram distance between two 1024²
//! textures, the seam score and the crop diversity, through the plain Rust API, all threads.
//!
//!     cargo bench --bench texture_stats
//!
//! Groups (throughput in pixels of the images compared):
//! - `gram_distance_1024`: two 1024² fBm textures, both networks' passes and the distance;
//! - `gram_of_1024`: the statistics of one 1024² image (what `kiln texture-stats` pays per sample
//!   once the exemplar's are known);
//! - `seam_score_1024`, `diversity_1024_vs_512`: one 1024² sample against a 512² exemplar, crop 64.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use kiln::texture_stats::{diversity, gram_distance, seam_score, TextureGram};
use kiln::{Field, Fractal, FractalKind, Image, Noise, NoiseKind, NoiseOptions};

/// A 6-octave tileable fBm texture in colour (three seeds), rendered once.
fn texture(n: u32, seed: u64) -> Image {
    let channel = |s: u64| {
        let opts = NoiseOptions { seed: s, scale: 8.0, tileable: true };
        let noise = Noise::new(NoiseKind::Perlin, opts).unwrap();
        kiln::raster::render(&Field::noise(noise.with_fractal(Fractal::default_for(FractalKind::Fbm)).unwrap()), n, n)
            .unwrap()
    };
    let (r, g, b) = (channel(seed), channel(seed + 1), channel(seed + 2));
    Image::from_fn(n, n, |x, y| {
        let i = (y * n + x) as usize * 4;
        [r.pixels()[i], g.pixels()[i], b.pixels()[i], 1.0]
    })
    .unwrap()
}

fn bench(c: &mut Criterion) {
    let (a, b) = (texture(1024, 1), texture(1024, 10));
    let ex = texture(512, 20);
    let mut g = c.benchmark_group("texture_stats");
    g.sample_size(10);
    g.throughput(Throughput::Elements(2 * 1024 * 1024));
    g.bench_function("gram_distance_1024", |bch| bch.iter(|| gram_distance(&a, &b).unwrap()));
    g.throughput(Throughput::Elements(1024 * 1024));
    g.bench_function("gram_of_1024", |bch| bch.iter(|| TextureGram::of(&a).unwrap()));
    g.bench_function("seam_score_1024", |bch| bch.iter(|| seam_score(&a)));
    g.bench_function("diversity_1024_vs_512", |bch| bch.iter(|| diversity(std::slice::from_ref(&a), &ex, 64).unwrap()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
