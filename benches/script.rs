//! Script-host hot paths: Rhai container growth under kiln's limits.
//!
//! `push_200k`: a script that pushes 200,000 integers into an array. With Rhai's data-size limits
//! set, Rhai re-measured the whole array after every push (quadratic: 11 s); kiln bounds
//! containers by the memory budget instead, so this is linear (target ≤ 0.1 s).

use criterion::{criterion_group, criterion_main, Criterion};
use kiln::script::{Host, RunConfig};

fn push_200k(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = dir.path().join("push.rhai");
    std::fs::write(&script, "let a = [];\nfor i in 0..200000 { a.push(i); }\na.len()").expect("write script");
    let host = Host::default();
    let compiled = host.compile_file(&script).expect("compiles");
    c.bench_function("script/push_200k", |b| {
        b.iter(|| host.run(&compiled, RunConfig { script: script.clone(), ..Default::default() }).expect("runs"))
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = push_200k
}
criterion_main!(benches);
