//! Option-map conversion, two ways: `OptionSet::from_pairs` on several option types with values
//! built from the bytes, and a Rhai `#{...}` literal passed to ops through a script (which also
//! covers the Rhai map -> `OptionValue` translation in `script::convert`).
#![no_main]

use std::time::Duration;

use arbitrary::{Arbitrary, Unstructured};
use kiln::options::{OptionSet, OptionValue};
use kiln::script::RunConfig;
use libfuzzer_sys::fuzz_target;

mod common;
use common::host;

/// Keys the ops know, plus near misses, so most maps get past the unknown-key check.
const KEYS: &[&str] = &[
    "seed",
    "scale",
    "sigma",
    "radius",
    "angle",
    "filter",
    "expand",
    "fill",
    "octaves",
    "lacunarity",
    "gain",
    "output",
    "width",
    "jitter",
    "metric",
    "rows",
    "cols",
    "gap",
    "offset",
    "shape",
    "kind",
    "mode",
    "amount",
    "threshold",
    "frequency",
    "period",
    "center",
    "colors",
    "background",
    "sclae",
    "",
    "x",
];
const WORDS: &[&str] = &[
    "bicubic",
    "bilinear",
    "nearest",
    "lanczos3",
    "f1",
    "f2",
    "f2_f1",
    "edge",
    "cell",
    "euclidean",
    "manhattan",
    "red",
    "#ff000080",
    "round",
    "square",
    "",
    "nope",
];

#[derive(Debug, Arbitrary)]
enum Val {
    Int(i64),
    SmallInt(i8),
    Float(f64),
    SmallFloat(i8, u8),
    Bool(bool),
    Word(u8),
    Text(String),
    List(Vec<Val>),
    Nan,
    Inf(bool),
}

impl Val {
    fn option(&self, depth: usize) -> OptionValue {
        match self {
            Val::Int(i) => OptionValue::Int(*i),
            Val::SmallInt(i) => OptionValue::Int(*i as i64),
            Val::Float(f) => OptionValue::Float(*f),
            Val::SmallFloat(i, f) => OptionValue::Float(*i as f64 + *f as f64 / 256.0),
            Val::Bool(b) => OptionValue::Bool(*b),
            Val::Word(w) => OptionValue::Text(WORDS[*w as usize % WORDS.len()].into()),
            Val::Text(t) => OptionValue::Text(t.clone()),
            Val::List(l) if depth < 3 => OptionValue::List(l.iter().take(8).map(|v| v.option(depth + 1)).collect()),
            Val::List(_) => OptionValue::List(vec![]),
            Val::Nan => OptionValue::Float(f64::NAN),
            Val::Inf(neg) => OptionValue::Float(if *neg { f64::NEG_INFINITY } else { f64::INFINITY }),
        }
    }

    fn rhai(&self, out: &mut String, depth: usize) {
        match self {
            Val::Int(i) => out.push_str(&format!("{i}")),
            Val::SmallInt(i) => out.push_str(&format!("{i}")),
            Val::Float(f) if f.is_finite() => out.push_str(&format!("{f:?}")),
            Val::Float(_) | Val::Nan => out.push_str("(0.0 / 0.0)"),
            Val::SmallFloat(i, f) => out.push_str(&format!("{:?}", *i as f64 + *f as f64 / 256.0)),
            Val::Bool(b) => out.push_str(&format!("{b}")),
            Val::Word(w) => out.push_str(&format!("{:?}", WORDS[*w as usize % WORDS.len()])),
            Val::Text(t) => out.push_str(&format!("{t:?}")),
            Val::List(l) => {
                out.push('[');
                if depth < 3 {
                    for v in l.iter().take(8) {
                        v.rhai(out, depth + 1);
                        out.push_str(", ");
                    }
                }
                out.push(']');
            }
            Val::Inf(neg) => out.push_str(if *neg { "(-1.0 / 0.0)" } else { "(1.0 / 0.0)" }),
        }
    }
}

#[derive(Debug, Arbitrary)]
struct Input {
    via_script: bool,
    op: u8,
    pairs: Vec<(u8, Val)>,
}

fn key(k: u8) -> &'static str {
    KEYS[k as usize % KEYS.len()]
}

fn from_pairs<T: OptionSet>(pairs: &[(&str, OptionValue)]) {
    let _ = T::from_pairs(pairs.iter().map(|(k, v)| (*k, v)));
}

fuzz_target!(|data: &[u8]| {
    let Ok(input) = Input::arbitrary(&mut Unstructured::new(data)) else { return };
    let pairs: Vec<(u8, Val)> = input.pairs.into_iter().take(12).collect();
    if !input.via_script {
        let values: Vec<(&str, OptionValue)> = pairs.iter().map(|(k, v)| (key(*k), v.option(0))).collect();
        match input.op % 10 {
            0 => from_pairs::<kiln::ops::filter::Blur>(&values),
            1 => from_pairs::<kiln::ops::geometry::Rotate>(&values),
            2 => from_pairs::<kiln::ops::geometry::ResizeOptions>(&values),
            3 => from_pairs::<kiln::ops::geometry::Affine>(&values),
            4 => from_pairs::<kiln::Perlin>(&values),
            5 => from_pairs::<kiln::Tiles>(&values),
            6 => from_pairs::<kiln::Worley>(&values),
            7 => from_pairs::<kiln::Fbm>(&values),
            8 => from_pairs::<kiln::Voronoi>(&values),
            _ => from_pairs::<kiln::Bricks>(&values),
        }
        return;
    }
    let mut map = String::from("#{");
    for (k, v) in &pairs {
        let k = key(*k);
        if k.is_empty() {
            map.push_str("\"\"");
        } else {
            map.push_str(k);
        }
        map.push_str(": ");
        v.rhai(&mut map, 0);
        map.push_str(", ");
    }
    map.push('}');
    let script = match input.op % 6 {
        0 => format!("image(16, 16, \"red\").blur({map})"),
        1 => format!("perlin({map}).render(16, 16)"),
        2 => format!("tiles({map}).render(16, 16)"),
        3 => format!("image(16, 12, \"red\").rotate(30, {map})"),
        4 => format!("fbm(perlin(), {map}).render(16, 16)"),
        _ => format!("worley({map}).render(16, 16)"),
    };
    let host = host();
    let Ok(compiled) = host.compile("fuzz.rhai", &script) else { return };
    let config = RunConfig { timeout: Some(Duration::from_secs(1)), ..RunConfig::new("fuzz.rhai") };
    let _ = host.run(&compiled, config);
});
