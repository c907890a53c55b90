//! Geometry benchmarks: the two peer workloads in-process (W2 resize, W4 rotate) plus the exact
//! ops. Whole-process timings against libvips are in `bench/anchors/w2-kiln.sh` / `w4-kiln.sh`.

use std::hint::black_box;

use criterion::Criterion;
use kiln::ops::geometry::{self, Filter, Rotate};
use kiln::Color;

use crate::common::photo;

pub fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("geometry");
    g.sample_size(10);

    // W2: 4096² → 1024² Lanczos3 (opaque, so no premultiplication).
    let big = photo(4096);
    g.bench_function("resize 4096->1024 lanczos3", |b| {
        b.iter(|| geometry::resize(black_box(&big), 1024, 1024, Filter::Lanczos3).unwrap())
    });
    drop(big);

    // W4: rotate 2048² by 30° (anticlockwise like the peers), bilinear, expanded, black fill.
    let mid = photo(2048);
    let w4 = Rotate { expand: true, filter: Filter::Bilinear, background: Color::BLACK, linear: false, edge: None };
    g.bench_function("rotate 2048 30deg bilinear", |b| {
        b.iter(|| geometry::rotate(black_box(&mid), -30.0, &w4).unwrap())
    });
    let transparent = Rotate::default();
    g.bench_function("rotate 2048 30deg bilinear transparent", |b| {
        b.iter(|| geometry::rotate(black_box(&mid), -30.0, &transparent).unwrap())
    });
    g.bench_function("rotate90 2048", |b| b.iter(|| geometry::rotate90(black_box(&mid))));
    g.bench_function("seamless 2048", |b| {
        b.iter(|| geometry::seamless(black_box(&mid), &geometry::Seamless::default()).unwrap())
    });
    g.finish();
}
