//! Script bindings for the texture quality metrics (issue 14 §3): `texture_distance`,
//! `seam_score` and `texture_diversity`. Translation only: the metrics, their definitions and
//! the `crop` option live in `crate::image::texture_stats`.

use rhai::{Array, Dynamic, FuncRegistration, Map, Module, NativeCallContext};

use crate::image::texture_stats::{self as ts, Diversity, DiversityOptions};
use crate::image::Image;
use crate::options::OptionSet;
use crate::script::api::OptionDocs;
use crate::script::convert::{array, fail, lift, options, RhaiResult};

/// Option sets read by these bindings, for `kiln doc`.
pub const OPTION_SETS: &[(&str, OptionDocs)] = &[("texture_diversity", <DiversityOptions as OptionSet>::doc_lines)];

/// The package of texture metrics.
pub fn module() -> Module {
    let mut m = Module::new();
    FuncRegistration::new("texture_distance")
        .with_comments([
            "/// The texture-statistics distance from `exemplar` to `sample`: Gram matrices of a fixed",
            "/// random-filter network at four scales (0 = the same statistics, small for another piece of",
            "/// the same texture, ~1 and more for a different one). Sizes may differ; each at least 64².",
            "///",
            "/// ```rhai",
            "/// let ex = perlin(#{ scale: 4, tileable: true, seed: 1 }).render(128, 128);",
            "/// let d = texture_distance(ex, perlin(#{ scale: 4, tileable: true, seed: 2 }).render(128, 128));",
            "/// ```",
        ])
        .with_params_info(["exemplar: Image", "sample: Image", "f64"])
        .set_into_module(&mut m, |exemplar: Image, sample: Image| lift(ts::gram_distance(&exemplar, &sample)));
    FuncRegistration::new("seam_score")
        .with_comments([
            "/// How visible the wrap seam is when `img` is tiled: the wrap-edge difference over the largest",
            "/// interior neighbour difference, worst of R, G, B. At most 1.25 tiles (about 1 or below);",
            "/// well above 1.25 shows a seam.",
            "///",
            "/// ```rhai",
            "/// let s = seam_score(perlin(#{ scale: 4, tileable: true }).render(128, 128));",
            "/// ```",
        ])
        .with_params_info(["img: Image", "f64"])
        .set_into_module(&mut m, |img: Image| ts::seam_score(&img));
    let doc = |extra: &[&str]| -> Vec<String> {
        let mut d: Vec<String> = [
            "/// Novelty and diversity of texture `samples` (an array of images) against `exemplar`, as a",
            "/// map: `copy_ratio` (mean of `copy_ratios`: each sample's nearest-crop distance to the",
            "/// exemplar over the exemplar's own crop-to-nearest-crop distance; ~1 is new texture, near 0",
            "/// copies the exemplar), `nearest`, `exemplar_self`, `exemplar_spread`, `pairwise` (mean",
            "/// distance between samples; `()` with one sample) and `pairwise_ratio` (~1 independent, near",
            "/// 0 the seeds give the same picture). The exemplar must be at least twice `crop` per side.",
            "///",
            "/// ```rhai",
            "/// let ex = perlin(#{ scale: 4, tileable: true, seed: 1 }).render(128, 128);",
            "/// let s = [perlin(#{ scale: 4, tileable: true, seed: 2 }).render(96, 96)];",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        d.extend(extra.iter().map(|s| s.to_string()));
        d.push("/// ```".into());
        d
    };
    let mut with = doc(&["/// let d = texture_diversity(s, ex, #{ crop: 32 });", "/// print(d.copy_ratio);"]);
    with.push("///".into());
    with.push("/// Options:".into());
    with.extend(DiversityOptions::doc_lines().into_iter().map(|l| format!("/// {l}")));
    FuncRegistration::new("texture_diversity")
        .with_comments(&with)
        .with_params_info(["samples: Array", "exemplar: Image", "opts: Map", "Map"])
        .set_into_module(&mut m, |samples: Dynamic, exemplar: Image, opts: Map| {
            diversity(&samples, &exemplar, options::<DiversityOptions>(opts)?)
        });
    FuncRegistration::new("texture_diversity")
        .with_comments(doc(&["/// let d = texture_diversity(s, ex);"]))
        .with_params_info(["samples: Array", "exemplar: Image", "Map"])
        .set_into_module(&mut m, |_ctx: NativeCallContext, samples: Dynamic, exemplar: Image| {
            diversity(&samples, &exemplar, DiversityOptions::default())
        });
    m
}

fn diversity(samples: &Dynamic, exemplar: &Image, opts: DiversityOptions) -> RhaiResult<Map> {
    let op = "texture_diversity";
    let samples = array(op, "samples", samples, |x| {
        x.clone()
            .try_cast::<Image>()
            .ok_or_else(|| fail(op, format!("samples must be an array of Image, got a {}", x.type_name())))
    })?;
    Ok(to_map(&lift(ts::diversity_with(&samples, exemplar, &opts))?))
}

fn to_map(d: &Diversity) -> Map {
    let list = |v: &[f64]| Dynamic::from(v.iter().map(|&x| Dynamic::from(x)).collect::<Array>());
    let opt = |v: Option<f64>| v.map_or(Dynamic::UNIT, Dynamic::from);
    let mut m = Map::new();
    m.insert("crop".into(), Dynamic::from(d.crop as i64));
    m.insert("exemplar_self".into(), Dynamic::from(d.exemplar_self));
    m.insert("exemplar_spread".into(), Dynamic::from(d.exemplar_spread));
    m.insert("nearest".into(), list(&d.nearest));
    m.insert("copy_ratios".into(), list(&d.copy_ratios));
    m.insert("copy_ratio".into(), Dynamic::from(d.copy_ratio));
    m.insert("pairwise".into(), opt(d.pairwise));
    m.insert("pairwise_ratio".into(), opt(d.pairwise_ratio));
    m
}
