//! (being written)

pub fn benches(_c: &mut criterion::Criterion) {}
