//! The render cache on disk: one file per request key, written atomically, checked on read.
//!
//! Owns the entry format and its validation. An entry is a short text header and the image
//! bytes:
//!
//! ```text
//! kiln-serve-cache 1
//! etag <the full recipe's cache key>
//! format <png | jpg | ...>
//! input <blake3 hex> <path, relative to the served folder>
//! body <length> <blake3 hex of the body>
//!
//! <body bytes>
//! ```
//!
//! Why this shape: the request key (script, params, seed, output) is known before the run, but
//! the files a run reads are known only after it (`Outcome.inputs`), so the entry stores that
//! list and a lookup re-hashes each file: a changed import or texture is a miss. Entries are
//! written with temp file + rename, so a `kill -9` leaves either the old entry or the new one,
//! never half of one; a truncated or damaged file (a full disk, a copy gone wrong) fails its
//! body hash and is re-rendered. Several servers may share one cache folder: renames are
//! atomic and every entry is self-checking.
//!
//! Must not know about HTTP or Rhai.

use std::path::{Path, PathBuf};

const MAGIC: &str = "kiln-serve-cache 1";

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
#[derive(Debug)]
pub enum Lookup {
    /// A valid entry whose inputs are unchanged.
    Hit(Entry),
    /// No entry.
    Miss,
    /// An intact entry, but one of its inputs changed or disappeared.
    Stale,
    /// A damaged entry (truncated, wrong hash); it has been removed.
    Corrupt,
}

/// A cache folder and the folder its input paths are relative to.
#[derive(Debug, Clone)]
pub struct DiskCache {
    dir: PathBuf,
    base: PathBuf,
}

impl DiskCache {
    /// A cache in `dir` (created on first write) for scripts served from `base`.
    pub fn new(dir: PathBuf, base: PathBuf) -> DiskCache {
        DiskCache { dir, base }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2.min(key.len())]).join(format!("{key}.entry"))
    }

    /// The entry for `key`, validated.
    pub fn get(&self, key: &str) -> Lookup {
        let path = self.path(key);
        let Ok(bytes) = std::fs::read(&path) else { return Lookup::Miss };
        let Some(entry) = decode(&bytes) else {
            let _ = std::fs::remove_file(&path);
            return Lookup::Corrupt;
        };
        for (file, hash) in &entry.inputs {
            if crate::recipe::hash_file(&self.base.join(file)).as_deref() != Some(hash.as_str()) {
                return Lookup::Stale;
            }
        }
        Lookup::Hit(entry)
    }

    /// Stores `entry` under `key` atomically.
    pub fn put(&self, key: &str, entry: &Entry) -> crate::Result<()> {
        let path = self.path(key);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| crate::Error::io(parent, e))?;
        }
        crate::io::write_atomic(&path, &encode(entry))
    }

    /// The path of `file` as an entry stores it: relative to the served folder when inside it.
    pub fn relative(&self, file: &Path) -> String {
        file.strip_prefix(&self.base).unwrap_or(file).to_string_lossy().into_owned()
    }
}

fn encode(entry: &Entry) -> Vec<u8> {
    let mut head = format!("{MAGIC}\netag {}\nformat {}\n", entry.etag, entry.format);
    for (path, hash) in &entry.inputs {
        head.push_str(&format!("input {hash} {path}\n"));
    }
    head.push_str(&format!("body {} {}\n\n", entry.body.len(), crate::recipe::hash_bytes(&entry.body)));
    let mut out = head.into_bytes();
    out.extend_from_slice(&entry.body);
    out
}

fn decode(bytes: &[u8]) -> Option<Entry> {
    let split = bytes.windows(2).position(|w| w == b"\n\n")?;
    let head = std::str::from_utf8(&bytes[..split]).ok()?;
    let body = &bytes[split + 2..];
    let mut lines = head.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let mut entry = Entry { etag: String::new(), format: String::new(), inputs: Vec::new(), body: Vec::new() };
    let mut checked = false;
    for line in lines {
        let (tag, rest) = line.split_once(' ')?;
        match tag {
            "etag" => entry.etag = rest.to_string(),
            "format" => entry.format = rest.to_string(),
            "input" => {
                let (hash, path) = rest.split_once(' ')?;
                entry.inputs.push((path.to_string(), hash.to_string()));
            }
            "body" => {
                let (len, hash) = rest.split_once(' ')?;
                if len.parse::<usize>().ok()? != body.len() || crate::recipe::hash_bytes(body) != hash {
                    return None;
                }
                checked = true;
            }
            _ => return None,
        }
    }
    if !checked || entry.etag.is_empty() || entry.format.is_empty() {
        return None;
    }
    entry.body = body.to_vec();
    Some(entry)
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
