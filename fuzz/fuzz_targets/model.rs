//! A model file's bytes through kiln's loader (safetensors header, tensor shapes, metadata).
#![no_main]

use std::path::Path;
use std::sync::Once;

use libfuzzer_sys::fuzz_target;

static LIMIT: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    LIMIT.call_once(|| kiln::memory::set_budget(1 << 30));
    let result = kiln::Model::from_bytes(data, Path::new("fuzz.safetensors"));
    if std::env::var_os("KILN_FUZZ_PRINT").is_some() {
        eprintln!("{:?}", result.map(|_| "loaded"));
    }
});
