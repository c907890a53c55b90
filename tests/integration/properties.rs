//! Property tests (proptest, small case counts so the suite stays fast) and the fuzz regression
//! files: every input under `tests/regression/<target>/` goes through the entry point of the fuzz
//! target that found it (fuzz/fuzz_targets/<target>.rs) and must not panic.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kiln::color::{linear_to_oklab, linear_to_srgb, oklab_to_linear, srgb_to_linear};
use kiln::ops::geometry::{crop, flip_h, flip_v, pad, rotate90};
use kiln::options::{OptionSet, OptionValue};
use kiln::script::{Host, RunConfig};
use kiln::{Color, Field, FractalOptions, Image, Limits, Source};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

use crate::util::repo;

/// A fixed seed: the suite checks the same cases on every run (no flaky CI); change the seed
/// locally to explore more.
fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, rng_seed: RngSeed::Fixed(0x6b696c6e), ..Config::default() }
}

/// A small image with arbitrary RGBA values.
fn any_image() -> impl Strategy<Value = Image> {
    (1u32..20, 1u32..20).prop_flat_map(|(w, h)| {
        proptest::collection::vec(-0.5f32..1.5, (w * h * 4) as usize)
            .prop_map(move |data| Image::from_rgba(w, h, data).expect("small image"))
    })
}

fn same(a: &Image, b: &Image) -> bool {
    a.width() == b.width()
        && a.height() == b.height()
        && a.pixels().iter().zip(b.pixels()).all(|(x, y)| x.to_bits() == y.to_bits())
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn rotate90_four_times_is_identity(img in any_image()) {
        let back = rotate90(&rotate90(&rotate90(&rotate90(&img))));
        prop_assert!(same(&img, &back));
    }

    #[test]
    fn flips_twice_are_identity(img in any_image()) {
        prop_assert!(same(&img, &flip_h(&flip_h(&img))));
        prop_assert!(same(&img, &flip_v(&flip_v(&img))));
    }

    #[test]
    fn crop_then_pad_recovers_the_inside(img in any_image(), r in (0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0, 0.0f64..1.0)) {
        let (w, h) = (img.width() as i64, img.height() as i64);
        let x = (r.0 * w as f64) as i64 % w;
        let y = (r.1 * h as f64) as i64 % h;
        let cw = 1 + ((r.2 * (w - x) as f64) as i64).min(w - x - 1);
        let ch = 1 + ((r.3 * (h - y) as f64) as i64).min(h - y - 1);
        let inner = crop(&img, x, y, cw, ch).unwrap();
        let back = pad(&inner, x, y, w - x - cw, h - y - ch, Color::TRANSPARENT).unwrap();
        prop_assert_eq!((back.width(), back.height()), (img.width(), img.height()));
        for py in 0..h {
            for px in 0..w {
                let inside = px >= x && px < x + cw && py >= y && py < y + ch;
                let want = if inside { img.get(px, py).unwrap() } else { Color::TRANSPARENT };
                prop_assert_eq!(back.get(px, py).unwrap().to_array(), want.to_array(), "pixel ({}, {})", px, py);
            }
        }
    }

    #[test]
    fn colour_round_trips_within_1e5(rgb in (0.0f32..=1.0, 0.0f32..=1.0, 0.0f32..=1.0)) {
        let srgb = [rgb.0, rgb.1, rgb.2];
        let linear = srgb.map(srgb_to_linear);
        let back = linear.map(linear_to_srgb);
        let lab = linear_to_oklab(linear);
        let linear2 = oklab_to_linear(lab);
        let back2 = linear2.map(linear_to_srgb);
        for i in 0..3 {
            prop_assert!((back[i] - srgb[i]).abs() <= 1e-5, "sRGB -> linear -> sRGB {:?} -> {:?}", srgb, back);
            prop_assert!((linear2[i] - linear[i]).abs() <= 1e-5, "linear -> Oklab -> linear {:?} -> {:?}", linear, linear2);
            prop_assert!((back2[i] - srgb[i]).abs() <= 1e-5, "sRGB -> linear -> Oklab -> sRGB {:?} -> {:?}", srgb, back2);
        }
    }
}

/// Options of `T` from `draws` (one number in [0, 1) per key): a number key with a range gets a
/// value inside it, one without a range a value in (0, 16]; a choice key one of its words; a
/// seed a whole number. Keys of other kinds keep their defaults.
fn random_options<T: OptionSet>(draws: &[f64], seed: u64) -> Option<T> {
    let mut pairs: Vec<(&'static str, OptionValue)> = Vec::new();
    for (key, &d) in T::keys().iter().zip(draws.iter().cycle()) {
        let value = if key.name == "seed" {
            OptionValue::Int((seed % 1_000_000) as i64)
        } else if key.kind.starts_with('"') {
            let words: Vec<&str> = key.kind.split(" | ").map(|w| w.trim_matches('"')).collect();
            OptionValue::Text(words[(d * words.len() as f64) as usize % words.len()].into())
        } else if key.kind == "whole number" {
            let (lo, hi) = key.range.unwrap_or((1.0, 12.0));
            OptionValue::Int((lo + d * (hi.min(lo + 12.0) - lo)).round() as i64)
        } else if key.kind == "number" {
            let (lo, hi) = key.range.unwrap_or((0.0, 16.0));
            let v = lo + d * (hi - lo);
            OptionValue::Float(if key.range.is_none() { v.max(0.05) } else { v })
        } else if key.kind == "true/false" {
            OptionValue::Bool(d < 0.5)
        } else {
            continue;
        };
        pairs.push((key.name, value));
    }
    T::from_pairs(pairs.iter().map(|(k, v)| (*k, v))).ok()
}

fn source<T: Source>(draws: &[f64], seed: u64) -> Option<Field> {
    random_options::<T>(draws, seed)?.field(seed).ok()
}

fn fractal<T: FractalOptions>(field: &Field, draws: &[f64]) -> Option<Field> {
    random_options::<T>(draws, 0)?.apply(field).ok()
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn every_field_generator_stays_inside_0_1(
        which in 0usize..9,
        fractal_kind in 0usize..5,
        draws in proptest::collection::vec(0.0f64..1.0, 12),
        seed in any::<u64>(),
    ) {
        let field = match which {
            0 => source::<kiln::Perlin>(&draws, seed),
            1 => source::<kiln::Simplex>(&draws, seed),
            2 => source::<kiln::ValueNoise>(&draws, seed),
            3 => source::<kiln::Worley>(&draws, seed),
            4 => source::<kiln::Bricks>(&draws, seed),
            5 => source::<kiln::Tiles>(&draws, seed),
            6 => source::<kiln::Dots>(&draws, seed),
            7 => source::<kiln::Voronoi>(&draws, seed),
            _ => source::<kiln::GradientRadial>(&draws, seed),
        };
        // Options the generator refuses (an error, not a panic) are not this property's concern.
        let Some(field) = field else { return Ok(()) };
        let field = if which < 4 {
            let rev: Vec<f64> = draws.iter().rev().copied().collect();
            match fractal_kind {
                0 => fractal::<kiln::Fbm>(&field, &rev),
                1 => fractal::<kiln::Ridged>(&field, &rev),
                2 => fractal::<kiln::Billow>(&field, &rev),
                3 => fractal::<kiln::Turbulence>(&field, &rev),
                _ => Some(field),
            }
        } else {
            Some(field)
        };
        let Some(field) = field else { return Ok(()) };
        let values = kiln::raster::field_values(&field, 32, 32).unwrap();
        for (i, v) in values.iter().enumerate() {
            prop_assert!((0.0..=1.0).contains(v), "generator {} value {} at pixel {}", which, v, i);
        }
    }
}

/// Found by `every_field_generator_stays_inside_0_1`: a fractal sum over a noise that has its
/// own octaves multiplies the frequencies, so far from the origin the lattice index saturated and
/// adding to it overflowed.
#[test]
fn nested_fractals_far_from_the_origin_do_not_overflow() {
    let inner = [
        ("seed", OptionValue::Int(0)),
        ("scale", OptionValue::Float(50000.0)),
        ("octaves", OptionValue::Int(2)),
        ("lacunarity", OptionValue::Float(2.0)),
    ];
    let outer = [("octaves", OptionValue::Int(8)), ("lacunarity", OptionValue::Float(16.0))];
    let fractal = kiln::Fbm::from_pairs(outer.iter().map(|(k, v)| (*k, v))).unwrap();
    let pairs = || inner.iter().map(|(k, v)| (*k, v));
    for base in [
        kiln::Simplex::from_pairs(pairs()).unwrap().field(0).unwrap(),
        kiln::Perlin::from_pairs(pairs()).unwrap().field(0).unwrap(),
        kiln::ValueNoise::from_pairs(pairs()).unwrap().field(0).unwrap(),
        kiln::Worley::from_pairs(pairs()).unwrap().field(0).unwrap(),
    ] {
        let field = fractal.apply(&base).unwrap();
        let values = kiln::raster::field_values(&field, 16, 16).unwrap();
        assert!(values.iter().all(|v| (0.0..=1.0).contains(v)));
    }
}

/// Sources and image ops the determinism property chains; every combination must run.
const SOURCES: &[&str] = &[
    "fbm(perlin(#{ seed: S, scale: 5 }), #{ octaves: 4 }).render(W, H, \"viridis\")",
    "worley(#{ seed: S, scale: 6 }).render(W, H)",
    "noise_image(W, H, #{ seed: S })",
    "ridged(simplex(#{ seed: S, scale: 3 })).render(W, H, \"fire\")",
];
const OPS: &[&str] = &[
    ".blur(1.5)",
    ".blur(#{ sigma: 4 })",
    ".rotate(17)",
    ".rotate(-33, #{ filter: \"bicubic\", expand: true })",
    ".resize(41, 23)",
    ".resize(77, 50, #{ filter: \"lanczos3\" })",
    ".flip_h()",
    ".rotate90()",
    ".sharpen(1.0)",
    ".median(1)",
    ".contrast(1.3)",
    ".pad(2, 3, 4, 5, \"red\")",
    ".seamless()",
    ".unsharp(2.0, 0.8)",
    ".brightness(0.8)",
];

fn host() -> &'static Host {
    static HOST: std::sync::OnceLock<Host> = std::sync::OnceLock::new();
    HOST.get_or_init(Host::default)
}

fn run_script(text: &str) -> Vec<Image> {
    let host = host();
    let compiled = host.compile("prop.rhai", text).unwrap_or_else(|e| panic!("{text}\n{e}"));
    host.run(&compiled, RunConfig::new("prop.rhai")).unwrap_or_else(|e| panic!("{text}\n{e}")).images
}

proptest! {
    #![proptest_config(config(32))]

    #[test]
    fn scripts_are_byte_identical_at_1_and_4_threads(
        source in 0usize..SOURCES.len(),
        ops in proptest::collection::vec(0usize..OPS.len(), 1..5),
        seed in 0u32..1000,
        w in 8u32..96,
        h in 8u32..96,
    ) {
        let mut text = SOURCES[source]
            .replace('S', &seed.to_string())
            .replace('W', &w.to_string())
            .replace('H', &h.to_string());
        for &op in &ops {
            text.push_str(OPS[op]);
        }
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let a = one.install(|| run_script(&text));
        let b = four.install(|| run_script(&text));
        prop_assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            prop_assert!(same(x, y), "{} differs between 1 and 4 threads", text);
        }
    }
}

/// The regression inputs of one fuzz target.
fn regression_files(target: &str) -> Vec<PathBuf> {
    let dir = repo().join("tests/regression").join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

/// `fuzz/fuzz_targets/decode.rs`: the first byte picks the extension.
fn fuzz_decode(data: &[u8]) {
    const NAMES: [&str; 10] =
        ["a.png", "a.jpg", "a.webp", "a.tif", "a.exr", "a.hdr", "a.bmp", "a.qoi", "a.ppm", "a.gif"];
    let Some((&first, bytes)) = data.split_first() else { return };
    if let Ok(img) = kiln::io::decode(bytes, Path::new(NAMES[first as usize % NAMES.len()])) {
        assert!(img.width() > 0 && img.height() > 0);
    }
}

/// `fuzz/fuzz_targets/color.rs`.
fn fuzz_color(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(c) = Color::parse(text) {
        assert!(c.to_array().iter().all(|v| v.is_finite()));
        assert!(Color::parse(&c.to_hex()).is_ok());
    }
}

/// The script and options targets' regression files hold the generated script text
/// (`KILN_FUZZ_PRINT=1` makes the target print it), run under the targets' limits.
fn fuzz_script(data: &[u8]) {
    static HOST: std::sync::OnceLock<Host> = std::sync::OnceLock::new();
    let host = HOST.get_or_init(|| {
        Host::new(Limits {
            max_pixels: 1 << 20,
            max_operations: 100_000,
            deadline: Some(Duration::from_secs(1)),
            ..Limits::default()
        })
    });
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(compiled) = host.compile("fuzz.rhai", text) else { return };
    let config = RunConfig { timeout: Some(Duration::from_secs(1)), ..RunConfig::new("fuzz.rhai") };
    let _ = host.run(&compiled, config);
}

#[test]
fn fuzz_regressions_do_not_panic() {
    type EntryPoint = fn(&[u8]);
    let targets: [(&str, EntryPoint); 5] = [
        ("decode", fuzz_decode),
        ("color", fuzz_color),
        ("model", |d| {
            let _ = kiln::Model::from_bytes(d, Path::new("fuzz.safetensors"));
        }),
        ("options", fuzz_script),
        ("script", fuzz_script),
    ];
    for (target, run) in targets {
        for file in regression_files(target) {
            let data = std::fs::read(&file).unwrap();
            let result = std::panic::catch_unwind(|| run(&data));
            assert!(result.is_ok(), "{} panics", file.display());
        }
    }
}
