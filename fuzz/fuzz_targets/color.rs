//! Colour parsing: names, hex forms, rgb()/hsl()/... functions. A parsed colour must be finite and
//! its hex form must parse back.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = kiln::Color::parse(text) {
        assert!([c.r, c.g, c.b, c.a].iter().all(|v| v.is_finite()), "{text:?} parsed to a non-finite colour");
        let hex = c.to_hex();
        assert!(kiln::Color::parse(&hex).is_ok(), "{text:?} -> {hex:?} does not parse back");
    }
});
