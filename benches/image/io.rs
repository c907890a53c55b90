//! I/O benchmarks: decode and encode a 1024² photo as PNG and PPM through `kiln::io` (in memory,
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
    g.finish();
}
