//! What made an image: the script, its inputs, params, seed and models, and the one cache key
//! derived from them.
//!
//! Owns [`Recipe`] and [`cache_key`]: `kiln serve` keys its render cache with it, `kiln build`
//! uses the same key, and the provenance metadata is written from the same value. The key is the
//! BLAKE3 hash of a canonical encoding (every field tagged and length-prefixed, lists in the
//! order given), so two recipes have the same key exactly when every field is equal.
//!
//! Paths in a recipe are relative (to the manifest's folder, the served folder or the current
//! folder), never absolute, so the same work in two checkouts gives the same key.
//!
//! The same value is the provenance metadata every written image carries
//! ([`Recipe::to_json`], read back with [`Recipe::from_json`]): an object with `kiln_version`,
//! `features` (left out when empty), `script`, `script_hash`, `inputs` (`[{path, hash}]`),
//! `params` (an object of name to the `--set` text), `seed` and `models` (`[{name, hash}]`).
//! Decisions:
//! - The JSON is ASCII only (anything else is written as a `\uXXXX` escape): TIFF's
//!   ImageDescription and EXR's text attributes hold only ASCII or Latin-1, and one encoding for
//!   every format keeps the files byte-identical between platforms.
//! - Compact, in a fixed key order, with no timestamp and no absolute path, so two runs of the
//!   same work give the same bytes.
//! - Params are an object keyed by name (sorted, one value each: the last `--set` of a name wins,
//!   as in the run). Reading ignores keys it does not know (a newer kiln's recipe still reads)
//!   and refuses a recipe without `kiln_version`, `script` or `script_hash`.
//!
//! Must not know about Rhai or any front end: the script room fills a recipe in.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// The inputs of one render, enough to tell whether a stored result is still valid.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Recipe {
    /// The kiln version that rendered it (`CARGO_PKG_VERSION`).
    pub kiln_version: String,
    /// The compiled features that can change pixels (`ml`, `cuda`).
    pub features: Vec<String>,
    /// The script's path, relative.
    pub script: String,
    /// BLAKE3 of the script's text, hex.
    pub script_hash: String,
    /// Every file the run read (imports, images, models) with its BLAKE3, hex; relative paths.
    pub inputs: Vec<(String, String)>,
    /// The params given (`--set` pairs), sorted by name.
    pub params: Vec<(String, String)>,
    /// The run's seed.
    pub seed: i64,
    /// The models the run loaded (`std/<name>` or a path) with their hashes.
    pub models: Vec<(String, String)>,
}

impl Recipe {
    /// A recipe for `script` with this build's version and features; the rest empty.
    pub fn new(script: impl Into<String>, script_text: &[u8]) -> Recipe {
        Recipe {
            kiln_version: env!("CARGO_PKG_VERSION").to_string(),
            features: pixel_features(),
            script: script.into(),
            script_hash: hash_bytes(script_text),
            ..Recipe::default()
        }
    }

    /// The canonical encoding the key is the hash of: one tagged, length-prefixed field a line.
    pub fn canonical(&self, output_options: &str) -> String {
        let mut out = String::new();
        let mut field = |tag: &str, value: &str| {
            out.push_str(&format!("{tag} {}:{value}\n", value.len()));
        };
        field("kiln_version", &self.kiln_version);
        for f in &self.features {
            field("feature", f);
        }
        field("script", &self.script);
        field("script_hash", &self.script_hash);
        for (path, hash) in &self.inputs {
            field("input", path);
            field("input_hash", hash);
        }
        for (name, value) in &self.params {
            field("param", name);
            field("param_value", value);
        }
        field("seed", &self.seed.to_string());
        for (name, hash) in &self.models {
            field("model", name);
            field("model_hash", hash);
        }
        field("output", output_options);
        out
    }
}

/// The JSON form of a [`Recipe`]: field names and order are the file format.
#[derive(Serialize, Deserialize)]
struct RecipeJson {
    kiln_version: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    features: Vec<String>,
    script: String,
    script_hash: String,
    #[serde(default)]
    inputs: Vec<InputJson>,
    #[serde(default)]
    params: BTreeMap<String, String>,
    #[serde(default)]
    seed: i64,
    #[serde(default)]
    models: Vec<ModelJson>,
}

#[derive(Serialize, Deserialize)]
struct InputJson {
    path: String,
    hash: String,
}

#[derive(Serialize, Deserialize)]
struct ModelJson {
    name: String,
    hash: String,
}

impl Recipe {
    /// The recipe as compact, ASCII-only JSON (see the module docs for the shape).
    pub fn to_json(&self) -> String {
        let json = RecipeJson {
            kiln_version: self.kiln_version.clone(),
            features: self.features.clone(),
            script: self.script.clone(),
            script_hash: self.script_hash.clone(),
            inputs: self
                .inputs
                .iter()
                .map(|(path, hash)| InputJson { path: path.clone(), hash: hash.clone() })
                .collect(),
            params: self.params.iter().cloned().collect(),
            seed: self.seed,
            models: self
                .models
                .iter()
                .map(|(name, hash)| ModelJson { name: name.clone(), hash: hash.clone() })
                .collect(),
        };
        // Serialising plain strings and numbers cannot fail.
        ascii_only(&serde_json::to_string(&json).unwrap_or_default())
    }

    /// The recipe as indented JSON, for people (`kiln info --json`).
    pub fn to_json_pretty(&self) -> String {
        let value: serde_json::Value = serde_json::from_str(&self.to_json()).unwrap_or_default();
        serde_json::to_string_pretty(&value).unwrap_or_default()
    }

    /// Reads a recipe written by [`Recipe::to_json`] (or by a newer kiln: unknown keys are
    /// ignored). The error says what is wrong in words.
    pub fn from_json(text: &str) -> std::result::Result<Recipe, String> {
        let json: RecipeJson = serde_json::from_str(text).map_err(|e| format!("the kiln recipe is not valid: {e}"))?;
        Ok(Recipe {
            kiln_version: json.kiln_version,
            features: json.features,
            script: json.script,
            script_hash: json.script_hash,
            inputs: json.inputs.into_iter().map(|i| (i.path, i.hash)).collect(),
            params: json.params.into_iter().collect(),
            seed: json.seed,
            models: json.models.into_iter().map(|m| (m.name, m.hash)).collect(),
        })
    }

    /// Whether `text` looks like a recipe [`Recipe::to_json`] wrote (by its first key): for
    /// metadata slots other tools use too (a TIFF description, a JPEG comment).
    pub fn is_recipe_json(text: &str) -> bool {
        text.starts_with("{\"kiln_version\":")
    }
}

/// `json` with every non-ASCII character written as a JSON `\uXXXX` escape (a surrogate pair
/// beyond the BMP). Outside strings JSON is ASCII already, so this only touches string content.
fn ascii_only(json: &str) -> String {
    if json.is_ascii() {
        return json.to_string();
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

/// The cache key of `recipe` rendered with `output_options` (format, size, bits: whatever the
/// caller's output depends on), as 64 hex digits.
pub fn cache_key(recipe: &Recipe, output_options: &str) -> String {
    hash_bytes(recipe.canonical(output_options).as_bytes())
}

/// BLAKE3 of `bytes`, hex.
pub fn hash_bytes(bytes: &[u8]) -> String {
    blake3::hash(bytes).to_hex().to_string()
}

/// BLAKE3 of a file's contents, hex; `None` if it cannot be read.
pub fn hash_file(path: &Path) -> Option<String> {
    let mut hasher = blake3::Hasher::new();
    let mut file = std::fs::File::open(path).ok()?;
    std::io::copy(&mut file, &mut hasher).ok()?;
    Some(hasher.finalize().to_hex().to_string())
}

/// The compiled features that can change the pixels a script makes.
fn pixel_features() -> Vec<String> {
    [("ml", cfg!(feature = "ml")), ("cuda", cfg!(feature = "cuda"))]
        .into_iter()
        .filter(|&(_, on)| on)
        .map(|(n, _)| n.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recipe() -> Recipe {
        let mut r = Recipe::new("wood.rhai", b"image(4, 4)");
        r.params = vec![("size".into(), "256".into())];
        r.seed = 3;
        r
    }

    #[test]
    fn equal_recipes_have_equal_keys() {
        assert_eq!(cache_key(&recipe(), "png"), cache_key(&recipe(), "png"));
        assert_eq!(cache_key(&recipe(), "png").len(), 64);
    }

    #[test]
    fn every_field_changes_the_key() {
        let base = cache_key(&recipe(), "png");
        assert_ne!(base, cache_key(&recipe(), "jpg"));
        let mut r = recipe();
        r.seed = 4;
        assert_ne!(base, cache_key(&r, "png"));
        let mut r = recipe();
        r.inputs.push(("tex.png".into(), hash_bytes(b"x")));
        assert_ne!(base, cache_key(&r, "png"));
        let mut r = recipe();
        r.script_hash = hash_bytes(b"image(4, 5)");
        assert_ne!(base, cache_key(&r, "png"));
    }

    #[test]
    fn json_round_trips_and_is_ascii() {
        let mut r = recipe();
        r.script = "dossier/h\u{e9}lice \u{1f525}.rhai".into();
        r.inputs = vec![("tex/a.png".into(), hash_bytes(b"a")), ("lib/m.rhai".into(), hash_bytes(b"m"))];
        r.params = vec![("name".into(), "say \"hi\"\n".into()), ("size".into(), "256".into())];
        r.models = vec![("std/materials_vae".into(), hash_bytes(b"v"))];
        r.seed = -7;
        let json = r.to_json();
        assert!(json.is_ascii(), "{json}");
        assert!(json.contains(r#""script":"dossier/h\u00e9lice \ud83d\udd25.rhai""#), "{json}");
        assert!(Recipe::is_recipe_json(&json));
        assert_eq!(Recipe::from_json(&json).unwrap(), r);
        assert_eq!(Recipe::from_json(&r.to_json_pretty()).unwrap(), r);
        // The shape other tools read: fixed keys, objects for inputs and models, params by name.
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["inputs"][1]["path"], "lib/m.rhai");
        assert_eq!(v["params"]["size"], "256");
        assert_eq!(v["seed"], -7);
        assert_eq!(v["models"][0]["name"], "std/materials_vae");
        assert_eq!(v["kiln_version"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn bad_json_is_an_error_in_words() {
        assert!(Recipe::from_json("{}").unwrap_err().contains("kiln_version"));
        assert!(Recipe::from_json("not json").unwrap_err().starts_with("the kiln recipe is not valid"));
    }

    #[test]
    fn fields_cannot_run_into_each_other() {
        // "a" = "bc" and "ab" = "c" must not encode alike.
        let mut a = recipe();
        a.params = vec![("a".into(), "bc".into())];
        let mut b = recipe();
        b.params = vec![("ab".into(), "c".into())];
        assert_ne!(cache_key(&a, "png"), cache_key(&b, "png"));
    }
}
