//! The asset cache: a local folder (`.kiln-cache/` beside the manifest by default) and an
//! optional shared one (`--shared-cache DIR`, any mounted folder), both in the shared entry
//! format of [`crate::store`].
//!
//! Owns the two keys and the lookup order. Must not run scripts.
//!
//! - The lookup key, known before a run: [`crate::recipe::cache_key`] of the recipe without its
//!   recorded inputs (kiln version and features, the script's path and BLAKE3, params, seed) and
//!   the output options. It is over the script's bytes, so a whitespace-only edit is a miss.
//! - The entry stores the files the run read (imports, transitively, loaded images, models),
//!   recorded by the run exactly as `kiln watch` records them, with their BLAKE3; a lookup
//!   re-hashes each, so an edited import or texture is a miss and a touched-but-unchanged one a
//!   hit. The full recipe's key (with the inputs) is stored as the entry's `recipe` meta.
//! - Lookup: local, then shared (read-through: a shared hit is copied into the local folder).
//!   A store writes both (write-back). Two builds writing one key both rename whole files: the
//!   last one wins, both are valid.
//! - A corrupt or truncated entry fails its hash, is removed, and the asset is rebuilt with a
//!   warning.
//! - A cache folder that cannot be written (read-only, full, deleted under us and not
//!   re-creatable) is not an error: the build goes on without storing there and warns once per
//!   folder. Decided so because the outputs are what the user asked for; the cache only saves
//!   time.
//!
//! Input hashes are memoised for the lookups of one build (a texture fifty assets load is hashed
//! once); the hashes recorded after a run are taken fresh.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

use crate::build::plan::Asset;
use crate::recipe::{cache_key, Recipe};
use crate::store::{Entry, Lookup, Store};

/// A build's caches.
pub struct BuildCache {
    local: Store,
    shared: Option<Store>,
    /// The folder entries' input paths are relative to (the manifest's, absolute).
    base: PathBuf,
    hashes: Mutex<HashMap<PathBuf, Option<String>>>,
    local_failed: AtomicBool,
    shared_failed: AtomicBool,
}

/// What a lookup found, and what the user should be told about it.
pub struct Found {
    pub entry: Option<Entry>,
    pub warnings: Vec<String>,
}

impl BuildCache {
    pub fn new(local: PathBuf, shared: Option<PathBuf>, base: PathBuf) -> BuildCache {
        BuildCache {
            local: Store::new(local),
            shared: shared.map(Store::new),
            base,
            hashes: Mutex::default(),
            local_failed: AtomicBool::new(false),
            shared_failed: AtomicBool::new(false),
        }
    }

    /// The folder relative input paths start from.
    pub fn base(&self) -> &Path {
        &self.base
    }

    fn memo_hash(&self, path: &Path) -> Option<String> {
        if let Some(h) = self.hashes.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
            return h.clone();
        }
        let h = crate::recipe::hash_file(path);
        self.hashes.lock().unwrap_or_else(|e| e.into_inner()).insert(path.to_path_buf(), h.clone());
        h
    }

    /// The valid entry for `key`, local first, then shared.
    pub fn lookup(&self, key: &str) -> Found {
        let mut warnings = Vec::new();
        let hash = |p: &Path| self.memo_hash(p);
        let mut corrupt = |store: &Store| {
            warnings.push(format!(
                "warning: the cache entry {key} in {} was damaged (truncated or changed); rebuilding it",
                store.dir().display()
            ))
        };
        match self.local.get(key, &self.base, &hash) {
            Lookup::Hit(entry) => return Found { entry: Some(entry), warnings },
            Lookup::Corrupt => corrupt(&self.local),
            Lookup::Miss | Lookup::Stale => {}
        }
        if let Some(shared) = &self.shared {
            match shared.get(key, &self.base, &hash) {
                Lookup::Hit(entry) => {
                    if let Some(w) = self.put_in(&self.local, &self.local_failed, key, &entry) {
                        warnings.push(w);
                    }
                    return Found { entry: Some(entry), warnings };
                }
                Lookup::Corrupt => corrupt(shared),
                Lookup::Miss | Lookup::Stale => {}
            }
        }
        Found { entry: None, warnings }
    }

    /// Stores `entry` under `key` locally and in the shared folder; a warning for each folder
    /// that could not be written the first time it fails.
    pub fn store(&self, key: &str, entry: &Entry) -> Vec<String> {
        let mut warnings = Vec::new();
        warnings.extend(self.put_in(&self.local, &self.local_failed, key, entry));
        if let Some(shared) = &self.shared {
            warnings.extend(self.put_in(shared, &self.shared_failed, key, entry));
        }
        warnings
    }

    fn put_in(&self, store: &Store, failed: &AtomicBool, key: &str, entry: &Entry) -> Option<String> {
        match store.put(key, entry) {
            Ok(()) => None,
            Err(e) if !failed.swap(true, Ordering::Relaxed) => Some(format!(
                "warning: cannot write the cache {} ({e}); building on without storing there",
                store.dir().display()
            )),
            Err(_) => None,
        }
    }
}

/// The recipe of `asset` without recorded inputs, as `version` of kiln would render it.
pub fn recipe(asset: &Asset, script_text: &[u8], version: &str) -> Recipe {
    let mut recipe = Recipe::new(asset.script_name.clone(), script_text);
    recipe.kiln_version = version.to_string();
    recipe.params = asset.params.clone();
    recipe.seed = asset.seed;
    recipe
}

/// The key an asset is looked up by before it runs.
pub fn lookup_key(asset: &Asset, script_text: &[u8], version: &str) -> String {
    cache_key(&recipe(asset, script_text, version), &asset.output_options)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(inputs: Vec<(String, String)>) -> Entry {
        Entry { meta: vec![("recipe".into(), "ab".repeat(32))], inputs, bodies: vec![b"png".to_vec()] }
    }

    #[test]
    fn shared_hits_are_copied_into_the_local_cache() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let only_shared = BuildCache::new(d.join("other"), Some(d.join("shared")), d.to_path_buf());
        assert!(only_shared.store("k1", &entry(vec![])).is_empty());
        let cache = BuildCache::new(d.join("local"), Some(d.join("shared")), d.to_path_buf());
        assert_eq!(cache.lookup("k1").entry, Some(entry(vec![])));
        let local_only = BuildCache::new(d.join("local"), None, d.to_path_buf());
        assert_eq!(local_only.lookup("k1").entry, Some(entry(vec![])));
        assert!(local_only.lookup("k2").entry.is_none());
    }

    #[test]
    fn a_corrupt_entry_warns_and_misses() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BuildCache::new(dir.path().join("c"), None, dir.path().to_path_buf());
        cache.store("k1", &entry(vec![]));
        let file = dir.path().join("c/k1/k1.entry");
        let bytes = std::fs::read(&file).unwrap();
        std::fs::write(&file, &bytes[..bytes.len() - 1]).unwrap();
        let found = cache.lookup("k1");
        assert!(found.entry.is_none());
        assert!(found.warnings[0].contains("damaged"), "{:?}", found.warnings);
        assert!(!file.exists());
    }

    #[test]
    fn a_cache_folder_deleted_mid_build_is_made_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BuildCache::new(dir.path().join("c"), None, dir.path().to_path_buf());
        assert!(cache.store("k1", &entry(vec![])).is_empty());
        std::fs::remove_dir_all(dir.path().join("c")).unwrap();
        assert!(cache.lookup("k1").entry.is_none());
        assert!(cache.store("k2", &entry(vec![])).is_empty());
        assert_eq!(cache.lookup("k2").entry, Some(entry(vec![])));
    }

    #[test]
    fn an_unwritable_cache_warns_once() {
        let dir = tempfile::tempdir().unwrap();
        // A file where the folder should be: no permission games needed (tests may run as root).
        std::fs::write(dir.path().join("c"), "not a folder").unwrap();
        let cache = BuildCache::new(dir.path().join("c"), None, dir.path().to_path_buf());
        assert_eq!(cache.store("k1", &entry(vec![])).len(), 1);
        assert!(cache.store("k2", &entry(vec![])).is_empty());
    }
}
