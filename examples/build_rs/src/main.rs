//! The "game": it ships the textures its build script baked, embedded in the binary.

/// The baked textures, as PNG bytes.
const TEXTURES: &[(&str, &[u8])] = &[
    ("wall", include_bytes!(concat!(env!("OUT_DIR"), "/wall.png"))),
    ("floor", include_bytes!(concat!(env!("OUT_DIR"), "/floor.png"))),
    ("rust", include_bytes!(concat!(env!("OUT_DIR"), "/rust.png"))),
];

/// Width and height from a PNG's IHDR chunk.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if bytes.len() < 24 || &bytes[..8] != b"\x89PNG\r\n\x1a\n" {
        return None;
    }
    let be = |i: usize| u32::from_be_bytes([bytes[i], bytes[i + 1], bytes[i + 2], bytes[i + 3]]);
    Some((be(16), be(20)))
}

fn main() {
    for (name, bytes) in TEXTURES {
        match png_size(bytes) {
            Some((w, h)) => println!("{name}: {w}x{h} PNG, {} bytes", bytes.len()),
            None => println!("{name}: not a PNG"),
        }
    }
}
