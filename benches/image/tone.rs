//! Tone benchmarks: the W5 chain (brightness 1.2, contrast 1.3, saturation 0.8, Pillow semantics)
//! on a 2048² photo, as the script runs it (first op copies, the others work in place) and as three
//! out-of-place calls. Peer: Pillow ImageEnhance (bench/anchors/w5-*).

use criterion::Criterion;
use kiln::ops::tone;

use crate::common::photo;

pub fn benches(c: &mut Criterion) {
    let img = photo(2048);
    let mut g = c.benchmark_group("tone");
    g.sample_size(10);
    g.bench_function("w5_chain_in_place_2048", |b| {
        b.iter(|| {
            let mut x = img.clone();
            tone::brightness_in_place(&mut x, 1.2).unwrap();
            tone::contrast_in_place(&mut x, 1.3).unwrap();
            tone::saturation_in_place(&mut x, 0.8).unwrap();
            x
        })
    });
    g.bench_function("w5_chain_out_of_place_2048", |b| {
        b.iter(|| {
            let x = tone::brightness(&img, 1.2).unwrap();
            let x = tone::contrast(&x, 1.3).unwrap();
            tone::saturation(&x, 0.8).unwrap()
        })
    });
    g.bench_function("curves_2048", |b| {
        b.iter(|| tone::curves(&img, &[[0.0, 0.0], [0.3, 0.2], [0.7, 0.85], [1.0, 1.0]]).unwrap())
    });
    g.finish();
}
