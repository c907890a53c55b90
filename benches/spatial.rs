//! Spatial VAE benchmarks (issue 14): encode + decode of a 1024² image with the default
//! architecture (factor 4, 8 latent channels, width 24, 1 residual block; weights from one
//! training step, since the speed does not depend on their values), and one training step at
//! the default batch and patch (8 crops of 64²).
//!
//!     cargo bench --bench spatial
//!
//! Measured 2026-12-07 on the shared 2-core machine at load 9–13 (other builds and trainings;
//! the bench under `nice -n 5`), criterion medians: encode_decode_1024 6.52 s, decode_1024
//! 3.29 s, train_2_steps_b8_64px 1.70 s. An idle machine gives several times less; compare
//! figures only within one run. See also stdlib/models/README.md ("materials_spatial_vae").

use criterion::{criterion_group, criterion_main, Criterion};
use kiln::{train_spatial_vae, Image, SpatialTrainOptions, SpatialTrainSettings, TrainData};

fn texture(side: u32) -> Image {
    Image::from_fn(side, side, |x, y| {
        let (x, y) = (x as f32, y as f32);
        [0.5 + 0.4 * (0.3 * x + 0.1 * y).sin(), 0.5 + 0.4 * (0.2 * y).cos(), 0.5 + 0.3 * (0.11 * (x + y)).sin(), 1.0]
    })
    .unwrap()
}

fn model(steps: usize) -> kiln::Model {
    let settings = SpatialTrainSettings {
        data: Some(TrainData::Images(vec![texture(128)])),
        steps,
        seed: Some(1),
        ..SpatialTrainSettings::default()
    };
    train_spatial_vae(&SpatialTrainOptions { settings, cancel: None }, &mut |_| {}).unwrap().0
}

fn coding(c: &mut Criterion) {
    let m = model(1);
    let img = texture(1024);
    let mut group = c.benchmark_group("spatial");
    group.sample_size(10);
    group.bench_function("encode_decode_1024", |b| b.iter(|| m.decode_map(&m.encode_map(&img).unwrap()).unwrap()));
    let map = m.encode_map(&img).unwrap();
    group.bench_function("decode_1024", |b| b.iter(|| m.decode_map(&map).unwrap()));
    // one step = the model of a 1-step run minus loading; timed as two short runs' difference
    // is noisy, so whole 2-step runs are timed instead (loading a 128² image is negligible)
    group.bench_function("train_2_steps_b8_64px", |b| b.iter(|| model(2)));
    group.finish();
}

criterion_group!(benches, coding);
criterion_main!(benches);
