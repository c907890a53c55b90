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
//! Must not know about Rhai or any front end: the script room fills a recipe in.

use std::path::Path;

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

/// Adds the files a run read to `recipe` with their hashes, named by `relative` (a path
/// relative to the caller's base); `.safetensors` files are also listed as models. A file that
/// can no longer be read is left out (the next lookup then misses on its absence).
pub fn record_inputs(recipe: &mut Recipe, inputs: &[std::path::PathBuf], relative: impl Fn(&Path) -> String) {
    for input in inputs {
        let Some(hash) = hash_file(input) else { continue };
        let rel = relative(input);
        if input.extension().is_some_and(|e| e == "safetensors") {
            recipe.models.push((rel.clone(), hash.clone()));
        }
        recipe.inputs.push((rel, hash));
    }
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
    fn fields_cannot_run_into_each_other() {
        // "a" = "bc" and "ab" = "c" must not encode alike.
        let mut a = recipe();
        a.params = vec![("a".into(), "bc".into())];
        let mut b = recipe();
        b.params = vec![("ab".into(), "c".into())];
        assert_ne!(cache_key(&a, "png"), cache_key(&b, "png"));
    }
}
