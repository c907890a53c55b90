//! Self-checking cache entries on disk: one file per key, written atomically, verified on read,
//! with the inputs a result depended on so that a lookup can re-hash them.
//!
//! Owns the entry format, its validation, least-recently-used pruning and the folder's totals.
//! `kiln serve` (its render cache) and `kiln build` (its asset cache) both store through it.
//! An entry is a short text header and the bodies, one after another:
//!
//! ```text
//! kiln-cache 2
//! meta <name> <value>            (any number: what the caller wants back, e.g. the format)
//! input <blake3 hex> <path>      (a file the result was made from; relative to the caller's base)
//! body <length> <blake3 hex>     (one line per body, in order)
//!
//! <body 0 bytes><body 1 bytes>...
//! ```
//!
//! Why this shape: the key of a render (script, params, seed, output options) is known before
//! the run, but the files a run reads are known only after it, so the entry stores that list and
//! a lookup re-hashes each file: a changed import or texture is [`Lookup::Stale`], a file touched
//! but unchanged is still a hit (content, not mtime). Entries are written with temp file +
//! rename, so a `kill -9`, a full disk or two processes writing one key leave either an old
//! entry or a new one, never half of one; a truncated or damaged file fails its length or body
//! hash, is removed and reported as [`Lookup::Corrupt`] so the caller rebuilds it.
//!
//! Recency: a hit sets the entry's mtime to now, so [`Store::prune`] removes the entries used
//! longest ago first (the file's mtime is the recorded access time; atime is unreliable under
//! `noatime` mounts).
//!
//! Must not know about HTTP, Rhai, manifests or what the bodies hold.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

const MAGIC: &str = "kiln-cache 2";
const SUFFIX: &str = ".entry";

/// One stored result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Entry {
    /// Named values the caller stores beside the bodies (one line each: no newlines).
    pub meta: Vec<(String, String)>,
    /// Files the result was made from, with their BLAKE3 (hex), as the caller names them.
    pub inputs: Vec<(String, String)>,
    /// The stored bytes (encoded images), in order.
    pub bodies: Vec<Vec<u8>>,
}

impl Entry {
    /// The value of meta `name`, if stored.
    pub fn meta(&self, name: &str) -> Option<&str> {
        self.meta.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What a lookup found (`E`: the entry as the caller reads it).
#[derive(Debug)]
pub enum Lookup<E = Entry> {
    /// A valid entry whose inputs are unchanged.
    Hit(E),
    /// No entry.
    Miss,
    /// An intact entry, but one of its inputs changed or disappeared.
    Stale,
    /// A damaged entry (truncated, wrong hash); it has been removed.
    Corrupt,
}

/// The size of a cache folder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Totals {
    pub entries: u64,
    pub bytes: u64,
}

/// A cache folder.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// A cache in `dir` (created on first write).
    pub fn new(dir: PathBuf) -> Store {
        Store { dir }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, key: &str) -> PathBuf {
        self.dir.join(&key[..2.min(key.len())]).join(format!("{key}{SUFFIX}"))
    }

    /// The entry for `key`, validated; its inputs are re-hashed with `hash` (a path made by
    /// joining `base` and the stored name; `None` = unreadable).
    pub fn get(&self, key: &str, base: &Path, hash: &dyn Fn(&Path) -> Option<String>) -> Lookup {
        let path = self.path(key);
        let Ok(bytes) = std::fs::read(&path) else { return Lookup::Miss };
        let Some(entry) = decode(&bytes) else {
            let _ = std::fs::remove_file(&path);
            return Lookup::Corrupt;
        };
        for (file, stored) in &entry.inputs {
            if hash(&base.join(file)).as_deref() != Some(stored.as_str()) {
                return Lookup::Stale;
            }
        }
        // The access time prune goes by; a read-only cache simply keeps the old one.
        if let Ok(file) = std::fs::File::options().append(true).open(&path) {
            let _ = file.set_modified(SystemTime::now());
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

    /// Every entry file with its size and last access, oldest first.
    fn entries(&self) -> Vec<(PathBuf, u64, SystemTime)> {
        let mut out = Vec::new();
        let Ok(shards) = std::fs::read_dir(&self.dir) else { return out };
        for shard in shards.flatten().filter(|e| e.file_type().is_ok_and(|t| t.is_dir())) {
            let Ok(files) = std::fs::read_dir(shard.path()) else { continue };
            for file in files.flatten() {
                let name = file.file_name();
                if !name.to_string_lossy().ends_with(SUFFIX) {
                    continue;
                }
                let Ok(meta) = file.metadata() else { continue };
                out.push((file.path(), meta.len(), meta.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
            }
        }
        out.sort_by(|a, b| a.2.cmp(&b.2).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// How many entries the folder holds and their bytes.
    pub fn totals(&self) -> Totals {
        let entries = self.entries();
        Totals { entries: entries.len() as u64, bytes: entries.iter().map(|e| e.1).sum() }
    }

    /// Removes the least recently used entries until the folder holds at most `max_bytes`;
    /// returns what was removed.
    pub fn prune(&self, max_bytes: u64) -> crate::Result<Totals> {
        let entries = self.entries();
        let mut total: u64 = entries.iter().map(|e| e.1).sum();
        let mut removed = Totals::default();
        for (path, len, _) in entries {
            if total <= max_bytes {
                break;
            }
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                // Another process pruned it first.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(crate::Error::io(&path, e)),
            }
            total -= len;
            removed.entries += 1;
            removed.bytes += len;
        }
        Ok(removed)
    }
}

/// The bytes of `entry` as stored.
pub fn encode(entry: &Entry) -> Vec<u8> {
    let mut head = format!("{MAGIC}\n");
    for (name, value) in &entry.meta {
        head.push_str(&format!("meta {name} {value}\n"));
    }
    for (path, hash) in &entry.inputs {
        head.push_str(&format!("input {hash} {path}\n"));
    }
    for body in &entry.bodies {
        head.push_str(&format!("body {} {}\n", body.len(), crate::recipe::hash_bytes(body)));
    }
    head.push('\n');
    let mut out = head.into_bytes();
    for body in &entry.bodies {
        out.extend_from_slice(body);
    }
    out
}

/// The entry in `bytes`, or `None` when anything is missing, malformed or fails its hash.
pub fn decode(bytes: &[u8]) -> Option<Entry> {
    let split = bytes.windows(2).position(|w| w == b"\n\n")?;
    let head = std::str::from_utf8(&bytes[..split]).ok()?;
    let mut rest = &bytes[split + 2..];
    let mut lines = head.lines();
    if lines.next()? != MAGIC {
        return None;
    }
    let mut entry = Entry::default();
    let mut bodies = Vec::new();
    for line in lines {
        let (tag, line) = line.split_once(' ')?;
        let (a, b) = line.split_once(' ')?;
        match tag {
            "meta" => entry.meta.push((a.to_string(), b.to_string())),
            "input" => entry.inputs.push((b.to_string(), a.to_string())),
            "body" => bodies.push((a.parse::<usize>().ok()?, b)),
            _ => return None,
        }
    }
    if bodies.is_empty() || bodies.iter().map(|b| b.0).sum::<usize>() != rest.len() {
        return None;
    }
    for (len, hash) in bodies {
        let (body, tail) = rest.split_at(len);
        if crate::recipe::hash_bytes(body) != hash {
            return None;
        }
        entry.bodies.push(body.to_vec());
        rest = tail;
    }
    Some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry() -> Entry {
        Entry {
            meta: vec![("format".into(), "png".into())],
            inputs: vec![("lib/util.rhai".into(), crate::recipe::hash_bytes(b"fn f() {}"))],
            bodies: vec![vec![1, 2, 3, b'\n', b'\n', 4], vec![], vec![9; 70]],
        }
    }

    #[test]
    fn an_entry_round_trips() {
        assert_eq!(decode(&encode(&entry())), Some(entry()));
        assert_eq!(entry().meta("format"), Some("png"));
    }

    #[test]
    fn a_truncated_or_damaged_entry_is_refused() {
        let bytes = encode(&entry());
        for cut in [0, 10, bytes.len() - 71, bytes.len() - 1] {
            assert_eq!(decode(&bytes[..cut]), None, "cut at {cut}");
        }
        let mut flipped = bytes.clone();
        *flipped.last_mut().unwrap() ^= 1;
        assert_eq!(decode(&flipped), None);
    }

    #[test]
    fn prune_removes_the_least_recently_used_first() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("c"));
        let old = SystemTime::now() - std::time::Duration::from_secs(3600);
        for key in ["aa01", "bb02", "cc03"] {
            store.put(key, &entry()).unwrap();
        }
        // "aa01" was used last (a hit touches it); "bb02" and "cc03" are an hour old.
        for key in ["bb02", "cc03", "aa01"] {
            let f = std::fs::File::options().append(true).open(store.path(key)).unwrap();
            f.set_modified(if key == "aa01" { SystemTime::now() } else { old }).unwrap();
        }
        let one = encode(&entry()).len() as u64;
        assert_eq!(store.totals(), Totals { entries: 3, bytes: 3 * one });
        let removed = store.prune(one).unwrap();
        assert_eq!(removed, Totals { entries: 2, bytes: 2 * one });
        assert!(matches!(store.get("aa01", dir.path(), &|_| None), Lookup::Stale));
        assert!(matches!(store.get("bb02", dir.path(), &|_| None), Lookup::Miss));
    }
}
