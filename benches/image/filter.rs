//! Filter benchmarks: Gaussian blur σ = 8 on 2048² (W3's op at a quarter of the size, the
//! recursive path; peer: libvips gaussblur, bench/anchors/w3-*), σ = 2 on 2048² (the exact-kernel
//! path), median r = 2 on 1024², box blur r = 8 on 2048²; the two blurs again with `edge: "wrap"`
//! (the image extended by the blur's reach, then the clamp path, then cropped: the price of
//! wrap against clamp).

use criterion::Criterion;
use kiln::ops::filter;

use crate::common::photo;

pub fn benches(c: &mut Criterion) {
    let big = photo(2048);
    let small = photo(1024);
    let mut g = c.benchmark_group("filter");
    g.sample_size(10);
    g.bench_function("blur_sigma8_2048", |b| b.iter(|| filter::blur(&big, 8.0).unwrap()));
    g.bench_function("blur_sigma2_2048", |b| b.iter(|| filter::blur(&big, 2.0).unwrap()));
    let wrap = |sigma| filter::Blur::sigma(sigma).edge(kiln::ops::edge::Edge::Wrap);
    g.bench_function("blur_sigma8_2048_wrap", |b| b.iter(|| filter::blur_with(&big, &wrap(8.0)).unwrap()));
    g.bench_function("blur_sigma2_2048_wrap", |b| b.iter(|| filter::blur_with(&big, &wrap(2.0)).unwrap()));
    g.bench_function("box_blur_r8_2048", |b| b.iter(|| filter::box_blur(&big, 8).unwrap()));
    g.bench_function("median_r2_1024", |b| b.iter(|| filter::median(&small, 2).unwrap()));
    g.finish();
}
