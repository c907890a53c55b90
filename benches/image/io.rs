//! I/O benchmarks: decode and encode a 1024² photo as PNG and PPM, and its 16-bit grey as PNG
//! (with and without a provenance recipe), through `kiln::io` (in memory,
//! so the disk is not timed). Whole-process W7 timings are in `bench/anchors/w7-kiln.sh`.

use std::hint::black_box;
use std::path::Path;

use criterion::Criterion;
use kiln::{io, Format, SaveOptions};

use crate::common::photo;

pub fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("io");
    g.sample_size(10);
    let img = photo(1024);
    let opts = SaveOptions::default();
    for (format, name) in [(Format::Png, "a.png"), (Format::Ppm, "a.ppm")] {
        let path = Path::new(name);
        let bytes = io::encode(&img, format, &opts, path).expect("encode");
        g.bench_function(format!("encode {name} 1024"), |b| {
            b.iter(|| io::encode(black_box(&img), format, &opts, path).unwrap())
        });
        g.bench_function(format!("decode {name} 1024"), |b| b.iter(|| io::decode(black_box(&bytes), path).unwrap()));
    }
    // A 16-bit grey height map: the auto layout (L16) scans the pixels, then packs one channel.
    let grey = kiln::ops::tone::grayscale(&img).expect("grey");
    let wide = SaveOptions { bits: Some(16), ..SaveOptions::default() };
    let path = Path::new("h.png");
    g.bench_function("encode h.png grey16 1024", |b| {
        b.iter(|| io::encode(black_box(&grey), Format::Png, &wide, path).unwrap())
    });
    // The same file with a recipe in it (the cost of provenance is the JSON and one chunk).
    let recipe = kiln::recipe::Recipe::new("scripts/h.rhai", b"h");
    g.bench_function("encode h.png grey16 1024 with recipe", |b| {
        b.iter(|| io::encode_with(black_box(&grey), Format::Png, &wide, path, Some(&recipe)).unwrap())
    });
    g.finish();
}
