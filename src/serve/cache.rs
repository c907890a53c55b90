//! The render cache on disk: one entry per request key, in the shared entry store
//! ([`crate::store`]: written atomically, checked on read, inputs re-hashed on lookup).
//!
//! Owns what a render entry holds: the ETag (the full recipe's key), the format and one body.
//! Several servers may share one cache folder: renames are atomic and every entry is
//! self-checking.
//!
//! Must not know about HTTP or Rhai.

use std::path::{Path, PathBuf};

use crate::store::{self, Store};

/// One stored render.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The full recipe's cache key: the response's ETag.
    pub etag: String,
    /// The output format's name (`png`, `jpg`, ...).
    pub format: String,
    /// Files the run read, relative to the served folder (or absolute outside it), with BLAKE3.
    pub inputs: Vec<(String, String)>,
    /// The encoded image.
    pub body: Vec<u8>,
}

/// What a lookup found.
pub type Lookup = store::Lookup<Entry>;

/// A cache folder and the folder its input paths are relative to.
#[derive(Debug, Clone)]
pub struct DiskCache {
    store: Store,
    base: PathBuf,
}

impl DiskCache {
    /// A cache in `dir` (created on first write) for scripts served from `base`.
    pub fn new(dir: PathBuf, base: PathBuf) -> DiskCache {
        DiskCache { store: Store::new(dir), base }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        self.store.dir()
    }

    /// The entry for `key`, validated.
    pub fn get(&self, key: &str) -> Lookup {
        match self.store.get(key, &self.base, &crate::recipe::hash_file) {
            store::Lookup::Hit(entry) => match from_store(entry) {
                Some(entry) => Lookup::Hit(entry),
                None => Lookup::Corrupt,
            },
            store::Lookup::Miss => Lookup::Miss,
            store::Lookup::Stale => Lookup::Stale,
            store::Lookup::Corrupt => Lookup::Corrupt,
        }
    }

    /// Stores `entry` under `key` atomically.
    pub fn put(&self, key: &str, entry: &Entry) -> crate::Result<()> {
        self.store.put(key, &to_store(entry))
    }
}

fn to_store(entry: &Entry) -> store::Entry {
    store::Entry {
        meta: vec![("etag".into(), entry.etag.clone()), ("format".into(), entry.format.clone())],
        inputs: entry.inputs.clone(),
        bodies: vec![entry.body.clone()],
    }
}

fn from_store(mut entry: store::Entry) -> Option<Entry> {
    let etag = entry.meta("etag").filter(|v| !v.is_empty())?.to_string();
    let format = entry.meta("format").filter(|v| !v.is_empty())?.to_string();
    if entry.bodies.len() != 1 {
        return None;
    }
    Some(Entry { etag, format, inputs: entry.inputs, body: entry.bodies.pop()? })
}

#[cfg(test)]
fn encode(entry: &Entry) -> Vec<u8> {
    store::encode(&to_store(entry))
}

#[cfg(test)]
fn decode(bytes: &[u8]) -> Option<Entry> {
    store::decode(bytes).and_then(from_store)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            etag: "ab".repeat(32),
            format: "png".into(),
            inputs: vec![("lib/util.rhai".into(), crate::recipe::hash_bytes(b"fn f() {}"))],
            body: vec![1, 2, 3, b'\n', b'\n', 4],
        }
    }

    #[test]
    fn an_entry_round_trips() {
        assert_eq!(decode(&encode(&entry())), Some(entry()));
    }

    #[test]
    fn a_truncated_or_damaged_entry_is_refused() {
        let bytes = encode(&entry());
        for cut in [0, 10, bytes.len() - 1] {
            assert_eq!(decode(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(decode(&flipped), None);
    }

    #[test]
    fn a_changed_input_is_stale() {
        let base = tempfile::tempdir().unwrap();
        let cache = DiskCache::new(base.path().join("cache"), base.path().to_path_buf());
        std::fs::create_dir_all(base.path().join("lib")).unwrap();
        std::fs::write(base.path().join("lib/util.rhai"), "fn f() {}").unwrap();
        let key = "cd".repeat(32);
        cache.put(&key, &entry()).unwrap();
        assert!(matches!(cache.get(&key), Lookup::Hit(e) if e == entry()));
        std::fs::write(base.path().join("lib/util.rhai"), "fn f() { 1 }").unwrap();
        assert!(matches!(cache.get(&key), Lookup::Stale));
        assert!(matches!(cache.get(&"ef".repeat(32)), Lookup::Miss));
    }
}
