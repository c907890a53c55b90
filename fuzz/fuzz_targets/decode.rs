//! Every decoder through kiln's loader. The first byte picks the file name's extension (which
//! decides the decoder before content sniffing); the rest is the file.
#![no_main]

use std::path::Path;
use std::sync::Once;

use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 10] = ["a.png", "a.jpg", "a.webp", "a.tif", "a.exr", "a.hdr", "a.bmp", "a.qoi", "a.ppm", "a.gif"];

static LIMIT: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    // Huge headers must be refused, not allocated.
    LIMIT.call_once(|| kiln::set_max_pixels(1 << 22));
    let Some((&first, bytes)) = data.split_first() else { return };
    let name = NAMES[first as usize % NAMES.len()];
    if let Ok(img) = kiln::io::decode(bytes, Path::new(name)) {
        assert!(img.width() > 0 && img.height() > 0);
        assert!(u64::from(img.width()) * u64::from(img.height()) <= 1 << 22);
    }
});
