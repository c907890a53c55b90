//! Criterion benchmarks for the image room, one module per family of ops.
//! Run: `cargo bench --bench image` (add `-- resize` to filter). See benches/README.md.

use criterion::{criterion_group, criterion_main};

// The family modules live in benches/image/; a bench root resolves `mod x` next to itself, hence
// the explicit paths.

#[path = "image/common.rs"]
mod common;
#[path = "image/composite.rs"]
mod composite;
#[path = "image/filter.rs"]
mod filter;
#[path = "image/geometry.rs"]
mod geometry;
#[path = "image/io.rs"]
mod io;
#[path = "image/tone.rs"]
mod tone;

criterion_group!(benches, geometry::benches, tone::benches, filter::benches, composite::benches, io::benches);
criterion_main!(benches);
