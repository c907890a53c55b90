//! Criterion benchmarks for the image room, one module per family of ops.
//! Run: `cargo bench --bench image` (add `-- resize` to filter). See benches/README.md.

use criterion::{criterion_group, criterion_main};

mod common;
mod composite;
mod filter;
mod geometry;
mod io;
mod pack;
mod tone;

criterion_group!(
    benches,
    geometry::benches,
    tone::benches,
    filter::benches,
    composite::benches,
    io::benches,
    pack::benches
);
criterion_main!(benches);
