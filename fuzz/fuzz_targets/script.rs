//! Compile and run generated scripts under tight limits. The bytes drive a small grammar: a
//! source image (a field render, a flat image, noise), then a chain of method calls whose names
//! come from kiln's API and whose arguments are numbers, strings, colours and option maps. Wrong
//! arities and out-of-range values are the point: every one must end in a script error, never a
//! panic, a hang past the deadline or an allocation past the pixel limit.
#![no_main]

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use kiln::script::RunConfig;
use libfuzzer_sys::fuzz_target;

mod common;
use common::host;

const FIELDS: &[&str] = &[
    "perlin()",
    "simplex()",
    "value_noise()",
    "worley()",
    "voronoi()",
    "checker(4)",
    "stripes(6, 30)",
    "gradient_radial()",
    "tiles()",
    "bricks()",
    "fbm(perlin())",
    "ridged(simplex())",
    "billow(perlin())",
    "turbulence(perlin())",
    "u()",
    "v()",
    "dots()",
];
const FIELD_METHODS: &[&str] = &[
    "rotate",
    "scale",
    "translate",
    "invert",
    "warp",
    "kaleido",
    "abs",
    "clamp",
    "pow",
    "mix",
    "threshold",
    "quantize",
    "repeat",
    "mirror",
    "twist",
    "offset",
];
const IMAGE_METHODS: &[&str] = &[
    "blur",
    "box_blur",
    "sharpen",
    "unsharp",
    "median",
    "edges",
    "emboss",
    "convolve",
    "rotate",
    "rotate90",
    "rotate180",
    "rotate270",
    "flip_h",
    "flip_v",
    "crop",
    "pad",
    "resize",
    "scale",
    "translate",
    "affine",
    "tile",
    "seamless",
    "brightness",
    "contrast",
    "gamma",
    "exposure",
    "saturation",
    "hue",
    "levels",
    "curves",
    "posterize",
    "threshold",
    "invert",
    "grayscale",
    "colorize",
    "blend",
    "over",
    "multiply",
    "screen",
    "mask",
    "with_alpha",
    "get",
    "set",
    "fill",
    "draw_rect",
    "draw_circle",
    "draw_line",
    "text",
    "width",
    "height",
];
const PALETTES: &[&str] = &["viridis", "magma", "fire", "gray", "ocean", "nope"];
const WORDS: &[&str] =
    &["red", "#00ff0080", "bicubic", "nearest", "lanczos3", "f2_f1", "edge", "multiply", "screen", "hsv", ""];
const KEYS: &[&str] = &[
    "seed",
    "scale",
    "sigma",
    "radius",
    "angle",
    "filter",
    "expand",
    "octaves",
    "output",
    "width",
    "amount",
    "threshold",
    "fill",
    "shear",
    "color",
    "mode",
    "x",
    "y",
];

#[derive(Debug, Arbitrary)]
enum Arg {
    Int(i8),
    Wide(i32),
    Float(i8, u8),
    Word(u8),
    Palette(u8),
    Image(u8, u8),
    Field(u8),
    Map(Vec<(u8, i8)>),
    List(Vec<i8>),
    Bool(bool),
    Nan,
}

#[derive(Debug, Arbitrary)]
enum Source {
    Render { field: u8, methods: Vec<(u8, Vec<Arg>)>, w: u8, h: u8, palette: Option<u8> },
    Flat { w: u8, h: u8, color: u8 },
    Noise { w: u8, h: u8, seed: u8 },
    Big { w: u32, h: u16 },
}

#[derive(Debug, Arbitrary)]
struct Program {
    source: Source,
    chain: Vec<(u8, Vec<Arg>)>,
    tail: u8,
}

fn pick<'a>(list: &[&'a str], i: u8) -> &'a str {
    list[i as usize % list.len()]
}

fn arg(a: &Arg, out: &mut String) {
    match a {
        Arg::Int(i) => out.push_str(&i.to_string()),
        Arg::Wide(i) => out.push_str(&i.to_string()),
        Arg::Float(i, f) => out.push_str(&format!("{:?}", *i as f64 + *f as f64 / 256.0)),
        Arg::Word(w) => out.push_str(&format!("{:?}", pick(WORDS, *w))),
        Arg::Palette(p) => out.push_str(&format!("{:?}", pick(PALETTES, *p))),
        Arg::Image(w, h) => out.push_str(&format!("image({}, {}, \"blue\")", w % 40, h % 40)),
        Arg::Field(f) => out.push_str(pick(FIELDS, *f)),
        Arg::Map(pairs) => {
            out.push_str("#{");
            for (k, v) in pairs.iter().take(6) {
                out.push_str(&format!("{}: {v}, ", pick(KEYS, *k)));
            }
            out.push('}');
        }
        Arg::List(l) => out.push_str(&format!("{:?}", l.iter().take(12).collect::<Vec<_>>())),
        Arg::Bool(b) => out.push_str(&b.to_string()),
        Arg::Nan => out.push_str("(0.0 / 0.0)"),
    }
}

fn call(name: &str, args: &[Arg], out: &mut String) {
    out.push('.');
    out.push_str(name);
    out.push('(');
    for (i, a) in args.iter().take(5).enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        arg(a, out);
    }
    out.push(')');
}

fn script(p: &Program) -> String {
    let mut s = String::from("let img = ");
    match &p.source {
        Source::Render { field, methods, w, h, palette } => {
            s.push_str(pick(FIELDS, *field));
            for (m, args) in methods.iter().take(4) {
                call(pick(FIELD_METHODS, *m), args, &mut s);
            }
            s.push_str(&format!(".render({}, {}", w % 64, h % 64));
            if let Some(p) = palette {
                s.push_str(&format!(", {:?}", pick(PALETTES, *p)));
            }
            s.push(')');
        }
        Source::Flat { w, h, color } => s.push_str(&format!("image({w}, {h}, {:?})", pick(WORDS, *color))),
        Source::Noise { w, h, seed } => {
            s.push_str(&format!("noise_image({}, {}, #{{ seed: {seed} }})", w % 64, h % 64))
        }
        Source::Big { w, h } => s.push_str(&format!("image({w}, {h}, \"red\")")),
    }
    s.push_str(";\nimg");
    for (m, args) in p.chain.iter().take(8) {
        call(pick(IMAGE_METHODS, *m), args, &mut s);
    }
    match p.tail % 3 {
        0 => s.push('\n'),
        1 => s.push_str("\n; [img, img.flip_h()]\n"),
        _ => s.push_str("\n; img.to_string()\n"),
    }
    s
}

fuzz_target!(|data: &[u8]| {
    let Ok(program) = Program::arbitrary(&mut Unstructured::new(data)) else { return };
    let text = script(&program);
    if std::env::var_os("KILN_FUZZ_PRINT").is_some() {
        eprintln!("{text}");
    }
    let host = host();
    let Ok(compiled) = host.compile("fuzz.rhai", &text) else { return };
    let config = RunConfig { timeout: Some(Duration::from_secs(1)), ..RunConfig::new("fuzz.rhai") };
    let _ = host.run(&compiled, config);
});
