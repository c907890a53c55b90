//! `--shard I/N`: a deterministic partition of a build's assets by asset key.
//!
//! Owns [`Shard`]. Shard `I` of `N` holds the assets whose key's BLAKE3, read as a
//! little-endian u64 from its first 8 bytes, is `I` modulo `N`. Why a hash and not "every Nth
//! asset": adding or removing one asset moves only that asset between shards, so a CI matrix
//! keeps its caches warm; the cost is shards of unequal size for small builds.
//!
//! Must not know about the command line or the environment (`KILN_SHARD` is read by the CLI).

/// One part of a build: `index` of `count`, `0 <= index < count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// Parses `I/N`.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let bad = || format!("shard '{text}' must be I/N with 0 <= I < N, e.g. 0/4");
        let (i, n) = text.trim().split_once('/').ok_or_else(bad)?;
        let index: u64 = i.trim().parse().map_err(|_| bad())?;
        let count: u64 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 {
            return Err(format!("shard '{text}': the shard count must be at least 1"));
        }
        if index >= count {
            return Err(format!("shard '{text}': the index must be below the count (shards are 0..{})", count - 1));
        }
        Ok(Shard { index, count })
    }

    /// Whether the asset with `key` belongs to this shard.
    pub fn contains(&self, key: &str) -> bool {
        let hash = blake3::hash(key.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&hash.as_bytes()[..8]);
        u64::from_le_bytes(first) % self.count == self.index
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_specs_are_refused() {
        assert_eq!(Shard::parse("1/3"), Ok(Shard { index: 1, count: 3 }));
        for bad in ["3/2", "0/0", "2/2", "-1/2", "1", "a/b", ""] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        assert!(Shard::parse("0/0").unwrap_err().contains("at least 1"));
    }

    #[test]
    fn shards_partition_the_keys() {
        let keys: Vec<String> = (0..300).map(|i| format!("out/tile-{i}.png")).collect();
        let shards: Vec<Shard> = (0..4).map(|i| Shard { index: i, count: 4 }).collect();
        for k in &keys {
            assert_eq!(shards.iter().filter(|s| s.contains(k)).count(), 1, "{k}");
        }
        // Every shard gets some of 300 keys (the hash spreads them).
        for s in &shards {
            assert!(keys.iter().filter(|k| s.contains(k)).count() > 30, "{s}");
        }
    }
}
