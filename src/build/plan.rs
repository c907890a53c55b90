//! From manifest entries to assets: matrix expansion, output patterns, output options, the
//! checks that need no run (scripts exist, no two assets write one path) and asset keys.
//!
//! Owns [`Asset`] and [`plan`]. Must not run scripts or touch the cache.
//!
//! Decisions (where the issue is silent, as Make/Bazel users would expect):
//! - `matrix` expands to the Cartesian product of its lists, keys in name order, the last key
//!   varying fastest; a `seed` key sets the run's seed, every other key is a param.
//!   A key in both `matrix` and `params` is an error (which would win is not obvious).
//! - `out` placeholders: `{name}` for any param or matrix key, `{seed}`, and `{index}` (the
//!   asset's position in its entry's expansion, from 0). An unknown name is an error with a
//!   did-you-mean.
//! - The format comes from `format` or from `out`'s extension; `out` without an extension gets
//!   `.<format>`; the two disagreeing is an error. `bits` is checked against the format here,
//!   not after a run, and so is `channels` (as `save()`'s: a layout the format cannot hold is an
//!   error). `pbr = "<preset>"` (as `save_pbr`'s presets) makes the asset a PBR set: the
//!   script's result must be a set, written as the preset's files beside `out`.
//! - The asset key is its first output's path relative to the manifest's folder (`/`
//!   separated): unique by the duplicate check, stable across machines, readable in reports.
//! - A script returning several images writes the first to `out` and the others beside it
//!   with `-1`, `-2`, ... before the extension (as `kiln run` does for a frame's extra images).

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use crate::build::manifest::{AssetSpec, Manifest, ManifestError};
use crate::image::io::{self, Format, SaveOptions};
use crate::image::pbr::PbrExport;
use crate::options::{OptionSet, OptionValue};

/// One asset to build: a script run and where its images go.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// The first output's path relative to the manifest's folder; unique in a build.
    pub key: String,
    /// The script, as a path usable from the current folder (manifest folder + script).
    pub script: PathBuf,
    /// The script as the manifest names it (relative to the manifest): what the recipe records.
    pub script_name: String,
    /// `--set` pairs, sorted by name.
    pub params: Vec<(String, String)>,
    pub seed: i64,
    /// The first output, usable from the current folder.
    pub out: PathBuf,
    pub format: Format,
    pub save: SaveOptions,
    /// Everything about the output the cache key must cover besides the recipe.
    pub output_options: String,
    /// `kiln.toml:12:1`: the `[[asset]]` it came from.
    pub declared_at: String,
    /// `pbr = "gltf"`: the script returns a PBR set, written as the preset's files
    /// (`out`'s stem + `_<suffix>`, in `out`'s folder and format) instead of one image.
    pub pbr: Option<PbrExport>,
}

impl Asset {
    /// Output `index` of this asset: `out`, then `out` with `-1`, `-2`... before the extension.
    pub fn output(&self, index: usize) -> PathBuf {
        with_suffix(&self.out, index)
    }

    /// An output key (relative to the manifest's folder) as a path usable from the current folder.
    /// Every output of an asset (`name-1.png`, a PBR set's `name_ORM.png`) sits beside `out`.
    pub fn under_base(&self, key: &str) -> PathBuf {
        self.out.with_file_name(Path::new(key).file_name().unwrap_or_default())
    }

    /// The key of a PBR set's file: `out/stone.png` → `out/stone_ORM.png` (the preset's names).
    pub fn pbr_output_key(&self, file: &crate::image::pbr::PbrFile) -> String {
        let key = Path::new(&self.key);
        let stem = key.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let format = self.pbr.as_ref().map_or(crate::image::pbr::PbrFormat::Png, |o| o.format);
        let name = crate::image::pbr::file_name(&stem, file, format);
        match key.parent().filter(|p| !p.as_os_str().is_empty()) {
            Some(dir) => format!("{}/{name}", dir.to_string_lossy()),
            None => name,
        }
    }

    /// The output's key form (relative to the manifest) for report lines.
    pub fn output_key(&self, index: usize) -> String {
        with_suffix(Path::new(&self.key), index).to_string_lossy().into_owned()
    }
}

fn with_suffix(path: &Path, index: usize) -> PathBuf {
    if index == 0 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!("{stem}-{index}{ext}"))
}

/// The export options of `pbr = "<preset>"` for an output in `format`.
fn pbr_export(value: &toml::Value, format: Format, bits: Option<u8>) -> Result<PbrExport, String> {
    let Some(preset) = value.as_str() else {
        return Err("pbr must be a preset name: \"gltf\", \"unreal\", \"unity_hdrp\" or \"godot\"".into());
    };
    let format = match format {
        Format::Png => "png",
        Format::Tiff => "tif",
        Format::Exr => "exr",
        other => return Err(format!("pbr: a PBR set is written as PNG, TIFF or EXR, not {}", other.name())),
    };
    let mut pairs =
        vec![("preset", OptionValue::Text(preset.to_string())), ("format", OptionValue::Text(format.into()))];
    if let Some(b) = bits {
        pairs.push(("bits", OptionValue::Int(b.into())));
    }
    PbrExport::from_pairs(pairs.iter().map(|(k, v)| (*k, v))).map_err(|e| format!("pbr: {e}"))
}

/// Every asset of `manifest`, in file order then expansion order, checked.
pub fn plan(manifest: &Manifest) -> Result<Vec<Asset>, ManifestError> {
    let base = manifest.base();
    let mut assets = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for spec in &manifest.assets {
        let table_at = manifest.location(spec.span().start);
        let spec = spec.get_ref();
        check_script(manifest, &base, spec)?;
        for (index, (params, seed)) in expand(manifest, spec)?.into_iter().enumerate() {
            let asset = build_asset(manifest, &base, spec, params, seed, index, &table_at)?;
            if let Some(&first) = seen.get(&asset.key) {
                let other: &Asset = &assets[first];
                return Err(manifest.error_at(
                    spec.out.span(),
                    &format!(
                        "two assets write '{}': this one and the one declared at {}",
                        asset.key, other.declared_at
                    ),
                ));
            }
            seen.insert(asset.key.clone(), assets.len());
            assets.push(asset);
        }
    }
    Ok(assets)
}

fn check_script(manifest: &Manifest, base: &Path, spec: &AssetSpec) -> Result<(), ManifestError> {
    let path = under(base, spec.script.get_ref());
    if path.is_file() {
        return Ok(());
    }
    let folder = path.parent().unwrap_or(base);
    let names: Vec<String> = std::fs::read_dir(folder)
        .map(|rd| rd.flatten().filter_map(|e| e.file_name().to_str().map(str::to_string)).collect())
        .unwrap_or_default();
    let file = path.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
    let hint = crate::suggest::did_you_mean(&file, &names);
    Err(manifest.error_at(
        spec.script.span(),
        &format!("no such script '{}' (looked for {}){hint}", spec.script.get_ref(), path.display()),
    ))
}

/// The (params, seed) of every combination of the entry's matrix.
#[allow(clippy::type_complexity)]
fn expand(manifest: &Manifest, spec: &AssetSpec) -> Result<Vec<(BTreeMap<String, String>, i64)>, ManifestError> {
    let mut params = BTreeMap::new();
    for (name, value) in &spec.params {
        params.insert(name.clone(), param_text(manifest, value.span(), name, value.get_ref())?);
    }
    let seed = spec.seed.as_ref().map_or(0, |s| *s.get_ref());
    let Some(matrix) = &spec.matrix else { return Ok(vec![(params, seed)]) };
    let span = matrix.span();
    let matrix = matrix.get_ref();
    let mut lists: Vec<(&String, Vec<String>)> = Vec::new();
    for (name, values) in matrix {
        if spec.params.contains_key(name) {
            return Err(manifest.error_at(span.clone(), &format!("'{name}' is in both matrix and params")));
        }
        if name == "seed" && spec.seed.is_some() {
            return Err(manifest.error_at(span.clone(), "'seed' is in both matrix and seed"));
        }
        if values.is_empty() {
            return Err(manifest.error_at(span.clone(), &format!("matrix '{name}' has no values")));
        }
        let mut texts = Vec::new();
        for v in values {
            if name == "seed" && v.as_integer().is_none() {
                return Err(manifest.error_at(span.clone(), &format!("matrix seeds must be integers, got {v}")));
            }
            texts.push(param_text(manifest, span.clone(), name, v)?);
        }
        lists.push((name, texts));
    }
    let total: usize = lists.iter().map(|l| l.1.len()).product();
    let mut out = Vec::with_capacity(total);
    for n in 0..total {
        let (mut params, mut seed) = (params.clone(), seed);
        let mut rest = n;
        for (name, values) in lists.iter().rev() {
            let value = &values[rest % values.len()];
            rest /= values.len();
            if name.as_str() == "seed" {
                seed = value.parse().unwrap_or(0);
            } else {
                params.insert((*name).clone(), value.clone());
            }
        }
        out.push((params, seed));
    }
    Ok(out)
}

/// A manifest value as `--set` text.
fn param_text(manifest: &Manifest, span: Range<usize>, name: &str, v: &toml::Value) -> Result<String, ManifestError> {
    Ok(match v {
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        other => {
            return Err(manifest.error_at(
                span,
                &format!("'{name}': a param is a string, number or boolean, not a {}", other.type_str()),
            ))
        }
    })
}

fn build_asset(
    manifest: &Manifest,
    base: &Path,
    spec: &AssetSpec,
    params: BTreeMap<String, String>,
    seed: i64,
    index: usize,
    table_at: &str,
) -> Result<Asset, ManifestError> {
    let out_span = spec.out.span();
    let mut key =
        substitute(spec.out.get_ref(), &params, seed, index).map_err(|m| manifest.error_at(out_span.clone(), &m))?;
    let ext_format = Path::new(&key).extension().map(|_| io::Format::from_path(Path::new(&key)));
    let format = match (&spec.format, ext_format) {
        (Some(f), ext) => {
            let named = Format::from_path(Path::new(&format!("x.{}", f.get_ref()))).map_err(|_| {
                manifest.error_at(f.span(), &format!("format '{}' is not one kiln writes", f.get_ref()))
            })?;
            match ext {
                None => key.push_str(&format!(".{}", f.get_ref())),
                Some(Ok(e)) if e == named => {}
                Some(_) => {
                    return Err(manifest
                        .error_at(f.span(), &format!("format '{}' disagrees with the output '{key}'", f.get_ref())))
                }
            }
            named
        }
        (None, Some(Ok(f))) => f,
        (None, Some(Err(e))) => return Err(manifest.error_at(out_span, &e.to_string())),
        (None, None) => {
            return Err(manifest.error_at(out_span, &format!("'{key}' has no extension; add one or set format")))
        }
    };
    let key = normalise(&key).ok_or_else(|| {
        manifest.error_at(out_span.clone(), &format!("'{key}' must stay inside the manifest's folder"))
    })?;
    let save = SaveOptions {
        bits: spec.bits.as_ref().map(|b| *b.get_ref()),
        channels: spec.channels.as_ref().map(|c| *c.get_ref()),
        ..SaveOptions::default()
    };
    // Encoding a 1×1 image checks the bits and channels against what the format can hold.
    let probe = crate::Image::new(1, 1).and_then(|img| io::encode(&img, format, &save, Path::new(&key)));
    if let Err(e) = probe {
        let span = spec.channels.as_ref().map(|c| c.span()).or(spec.bits.as_ref().map(|b| b.span()));
        return Err(manifest.error_at(span.unwrap_or(out_span.clone()), &e.to_string()));
    }
    let output_options = format!(
        "format={} bits={} channels={}",
        format.name(),
        save.bits.map_or("default".into(), |b| b.to_string()),
        save.channels.map_or("auto".into(), |c| c.to_string())
    );
    let pbr = match &spec.pbr {
        None => None,
        Some(value) => {
            Some(pbr_export(value.get_ref(), format, save.bits).map_err(|m| manifest.error_at(value.span(), &m))?)
        }
    };
    let output_options = match &pbr {
        Some(o) => format!("{output_options} pbr={}", o.preset.name()),
        None => output_options,
    };
    Ok(Asset {
        pbr,
        out: under(base, &key),
        key,
        script: under(base, spec.script.get_ref()),
        script_name: spec.script.get_ref().clone(),
        params: params.into_iter().collect(),
        seed,
        format,
        save,
        output_options,
        declared_at: table_at.to_string(),
    })
}

/// `rel` under `base`, without a leading `./` when the base is the current folder (paths in
/// messages then read as the user wrote them).
fn under(base: &Path, rel: &str) -> PathBuf {
    if base == Path::new(".") {
        PathBuf::from(rel)
    } else {
        base.join(rel)
    }
}

/// `pattern` with its `{name}` placeholders filled in.
fn substitute(pattern: &str, params: &BTreeMap<String, String>, seed: i64, index: usize) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(open) = rest.find(['{', '}']) {
        if rest.as_bytes()[open] == b'}' {
            return Err(format!("'{pattern}': a '}}' without its '{{'"));
        }
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            return Err(format!("'{pattern}': a '{{' without its '}}'"));
        };
        let name = &rest[open + 1..open + close];
        let value = match name {
            "seed" => seed.to_string(),
            "index" => index.to_string(),
            _ => match params.get(name) {
                Some(v) => v.clone(),
                None => {
                    let mut known: Vec<&str> = params.keys().map(String::as_str).collect();
                    known.extend(["seed", "index"]);
                    let hint = crate::suggest::did_you_mean(name, &known);
                    return Err(format!(
                        "no param or matrix key '{name}' for '{{{name}}}'{hint}; known: {}",
                        known.join(", ")
                    ));
                }
            },
        };
        out.push_str(&value);
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// `key` with `.` parts removed and `/` separators, or `None` when it leaves the folder.
fn normalise(key: &str) -> Option<String> {
    let mut parts: Vec<String> = Vec::new();
    for c in Path::new(key).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan_text(dir: &Path, text: &str) -> Result<Vec<Asset>, ManifestError> {
        std::fs::write(dir.join("a.rhai"), "image(4, 4)").unwrap();
        let m = Manifest::parse(&dir.join("kiln.toml"), text.to_string())?;
        plan(&m)
    }

    #[test]
    fn a_matrix_is_the_cartesian_product() {
        let dir = tempfile::tempdir().unwrap();
        let assets = plan_text(
            dir.path(),
            "[[asset]]\nscript = \"a.rhai\"\nout = \"out/{variant}-{seed}-{index}\"\nformat = \"png\"\n\
             params = { size = 8 }\nmatrix = { variant = [\"moss\", \"dry\"], seed = [1, 2, 3] }\n",
        )
        .unwrap();
        let keys: Vec<&str> = assets.iter().map(|a| a.key.as_str()).collect();
        // Keys in name order ("seed" before "variant"), the last one varying fastest.
        assert_eq!(
            keys,
            [
                "out/moss-1-0.png",
                "out/dry-1-1.png",
                "out/moss-2-2.png",
                "out/dry-2-3.png",
                "out/moss-3-4.png",
                "out/dry-3-5.png"
            ]
        );
        assert_eq!(assets[3].seed, 2);
        assert_eq!(assets[3].params, vec![("size".to_string(), "8".to_string()), ("variant".into(), "dry".into())]);
        assert_eq!(assets[0].output_key(2), "out/moss-1-0-2.png");
    }

    #[test]
    fn two_assets_writing_one_path_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let e = plan_text(
            dir.path(),
            "[[asset]]\nscript = \"a.rhai\"\nout = \"x.png\"\n\n[[asset]]\nscript = \"a.rhai\"\nout = \"./x.png\"\n",
        )
        .unwrap_err();
        assert!(e.0.contains("kiln.toml:7:7: two assets write 'x.png': this one and the one declared at"), "{}", e.0);
        let e = plan_text(dir.path(), "[[asset]]\nscript = \"a.rhai\"\nout = \"x.png\"\nmatrix = { v = [1, 1] }\n")
            .unwrap_err();
        assert!(e.0.contains("two assets write 'x.png'"), "{}", e.0);
    }

    #[test]
    fn bad_entries_are_errors_at_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let cases = [
            ("script = \"b.rhai\"\nout = \"x.png\"", "kiln.toml:2:10: no such script 'b.rhai'"),
            ("script = \"a.rhai\"\nout = \"{varaint}.png\"\nmatrix = { variant = [1] }", "(did you mean 'variant'?)"),
            ("script = \"a.rhai\"\nout = \"x.png\"\nbits = 12", "kiln.toml:4:8: "),
            ("script = \"a.rhai\"\nout = \"x.jpg\"\nformat = \"png\"", "disagrees with the output 'x.jpg'"),
            ("script = \"a.rhai\"\nout = \"x\"", "'x' has no extension"),
            ("script = \"a.rhai\"\nout = \"../x.png\"", "must stay inside"),
            ("script = \"a.rhai\"\nout = \"x.jpg\"\nchannels = 4", "JPEG"),
            ("script = \"a.rhai\"\nout = \"x.png\"\npbr = \"unrael\"", "did you mean 'unreal'"),
            ("script = \"a.rhai\"\nout = \"x.jpg\"\npbr = \"gltf\"", "PNG, TIFF or EXR"),
            (
                "script = \"a.rhai\"\nout = \"x.png\"\nparams = { v = 1 }\nmatrix = { v = [2] }",
                "both matrix and params",
            ),
        ];
        for (body, want) in cases {
            let e = plan_text(dir.path(), &format!("[[asset]]\n{body}\n")).unwrap_err();
            assert!(e.0.contains(want), "{body}: {}", e.0);
        }
        let ok = plan_text(dir.path(), "[[asset]]\nscript = \"a.rhai\"\nout = \"x.jpg\"\nchannels = 3\n").unwrap();
        assert_eq!(ok[0].format, Format::Jpeg);
    }
}
