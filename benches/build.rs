//! `kiln build` hot path: a no-op rebuild of 1,000 assets (every asset a cache hit whose output
//! file already holds the right bytes), the step a game's build runs on every change.
//!
//! Target (issue 13): ≤ 0.5 s on the 2-core reference machine. Setup builds the 1,000 assets
//! (64² noise tiles, one `[[asset]]` with a 1,000-value matrix) once; each iteration is a whole
//! `kiln::build::build` call: read and plan the manifest, hash the script, look up and verify
//! 1,000 entries (body hashes), compare 1,000 output files. The time is printed as well as
//! measured by criterion, so one run gives the figure.

use std::time::Instant;

use criterion::{criterion_group, criterion_main, Criterion};
use kiln::build::{build, BuildOptions, Quiet, Status};

const ASSETS: usize = 1000;

fn noop_rebuild(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("t.rhai"),
        "let v = param(\"v\", 0);\nnoise_image(64, 64, #{ kind: \"uniform\" }).brightness(1.0 + v / 1000.0)\n",
    )
    .expect("write script");
    let values: Vec<String> = (0..ASSETS).map(|i| i.to_string()).collect();
    std::fs::write(
        dir.path().join("kiln.toml"),
        format!(
            "[[asset]]\nscript = \"t.rhai\"\nout = \"out/t-{{v}}.png\"\nmatrix = {{ v = [{}] }}\n",
            values.join(", ")
        ),
    )
    .expect("write manifest");
    let options = BuildOptions::new(dir.path().join("kiln.toml"));
    let first = build(&options, &mut Quiet).expect("valid manifest");
    assert_eq!(first.totals.built, ASSETS);

    let start = Instant::now();
    let again = build(&options, &mut Quiet).expect("valid manifest");
    let once = start.elapsed();
    assert!(again.assets.iter().all(|a| a.status == Status::Cached && a.written == 0));
    println!(
        "build/noop_1000: one no-op rebuild of {ASSETS} assets took {:.0} ms (target <= 500 ms)",
        once.as_secs_f64() * 1e3
    );

    c.bench_function("build/noop_1000", |b| b.iter(|| build(&options, &mut Quiet).expect("valid manifest")));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = noop_rebuild
}
criterion_main!(benches);
