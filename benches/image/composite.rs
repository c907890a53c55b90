//! Compositing, drawing and text benchmarks: W6-sized over and multiply (2048²), 1000
//! antialiased circles, and a paragraph of text. Compare `over_2048` with the raw `image` crate's
//! `imageops::overlay` (../shared/bench/rust-noise, `rust-image over`), which works on u8.

use criterion::{black_box, Criterion};
use kiln::ops::composite::{self, BlendMode};
use kiln::ops::draw::{self, Style};
use kiln::ops::text::{self, TextStyle};
use kiln::{Color, Image};

use crate::common;

/// The W6 pair: a photo with a radial alpha (opaque centre, transparent corners) and a backdrop.
fn w6_pair(size: u32) -> (Image, Image) {
    let photo = common::photo(size);
    let (w, h) = photo.dimensions();
    let fade = draw::gradient::radial_gradient(
        w,
        h,
        &[(0.0, Color::WHITE), (std::f32::consts::FRAC_1_SQRT_2, Color::BLACK)],
        draw::gradient::Space::Srgb,
    )
    .expect("gradient");
    let top = composite::with_alpha(&photo, &fade).expect("with_alpha");
    let back = draw::gradient::linear_gradient(
        w,
        h,
        30.0,
        &draw::gradient::even_stops(&[Color::rgb(0.8, 0.6, 0.4), Color::rgb(0.1, 0.2, 0.3)]),
        draw::gradient::Space::Srgb,
    )
    .expect("gradient");
    (top, back)
}

pub fn benches(c: &mut Criterion) {
    let (top, back) = w6_pair(2048);
    c.bench_function("composite/over_2048", |b| b.iter(|| composite::over(black_box(&top), black_box(&back)).unwrap()));
    c.bench_function("composite/blend_multiply_2048", |b| {
        b.iter(|| composite::blend(black_box(&top), black_box(&back), BlendMode::Multiply, 0.8).unwrap())
    });

    let canvas = Image::filled(1024, 1024, Color::WHITE).expect("canvas");
    c.bench_function("draw/1000_circles_1024", |b| {
        b.iter(|| {
            // In place: a script pays one canvas copy per shape on top (values are immutable).
            let mut img = canvas.clone();
            // A fixed, spread-out pattern (golden-angle spiral) of radii 2..22.
            for i in 0..1000u32 {
                let t = i as f32 * 2.399_963;
                let r = 500.0 * (i as f32 / 1000.0).sqrt();
                let style =
                    Style { fill: Some(Color::new(0.2, 0.4, 0.8, 0.6)), stroke: Some(Color::BLACK), width: 1.0 };
                draw::draw_circle_in_place(
                    &mut img,
                    512.0 + r * t.cos(),
                    512.0 + r * t.sin(),
                    2.0 + (i % 21) as f32,
                    &style,
                )
                .unwrap();
            }
            img
        })
    });

    let paragraph = "kiln is a Rust library and command-line tool in which Rhai scripts generate\n\
                     and edit images: procedural fields, patterns, shapes and text, seeded noise,\n\
                     small learned models, and a full editing library, all in one language,\n\
                     with hot reload for live coding and deterministic headless runs.";
    let page = Image::filled(1024, 256, Color::WHITE).expect("page");
    let style = TextStyle { size: 18.0, ..TextStyle::default() };
    c.bench_function("text/paragraph_18px", |b| {
        b.iter(|| text::draw_text(&page, black_box(paragraph), 16.0, 16.0, &style, &text::read_font_file).unwrap())
    });
}
