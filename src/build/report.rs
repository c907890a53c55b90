//! What a build did: per asset and in total, as JSON (`--json FILE|-`) and as text lines.
//!
//! Owns [`Report`], [`AssetReport`] and the schema below. Must not print: the CLI decides where
//! lines and JSON go.
//!
//! JSON schema (version 1); assets in manifest order, whatever order they finished in:
//!
//! ```text
//! {
//!   "version": 1,
//!   "manifest": "kiln.toml",
//!   "shard": "0/4" | null,
//!   "dry_run": false,
//!   "assets": [
//!     {
//!       "key": "out/moss-1.png",          // the first output, relative to the manifest
//!       "script": "tiles/stone.rhai",
//!       "outputs": ["out/moss-1.png"],    // relative to the manifest; empty when it failed
//!       "status": "built" | "cached" | "failed" | "skipped" | "pending",
//!       "time_ms": 12.5,                  // wall time of this asset's job (lookup, run, writes)
//!       "bytes": 40123,                   // bytes of its outputs
//!       "written": 1,                     // outputs whose file changed (0: all already right)
//!       "error": null | { "file": "tiles/stone.rhai" | null, "line": 3 | null,
//!                         "col": 9 | null, "message": "blur: sigma must be > 0" },
//!       "warnings": ["..."]               // omitted when empty
//!     }
//!   ],
//!   "totals": { "assets": 6, "built": 2, "cached": 4, "failed": 0, "skipped": 0,
//!               "pending": 0, "bytes": 240738, "time_ms": 812.0 }
//! }
//! ```
//!
//! `skipped`: not started because an earlier asset failed and `--keep-going` was not given.
//! `pending`: a `--dry-run` asset that would be built (a dry run reports hits as `cached`).
//! `totals.time_ms` is the build's wall time, not the sum of the assets'.

use serde::Serialize;

/// What happened to one asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Built,
    Cached,
    Failed,
    Skipped,
    Pending,
}

/// A failure: where (when the script is at fault) and what.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorReport {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub col: Option<usize>,
    pub message: String,
    /// The full diagnostic (location, source line, caret, call frames) for the terminal.
    #[serde(skip)]
    pub text: String,
}

/// One asset's line of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AssetReport {
    pub key: String,
    pub script: String,
    pub outputs: Vec<String>,
    pub status: Status,
    pub time_ms: f64,
    pub bytes: u64,
    pub written: usize,
    pub error: Option<ErrorReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl AssetReport {
    /// The text line for this asset, if it gets one: built and failed assets do (one line per
    /// asset that did work), cached ones do not.
    pub fn line(&self) -> Option<String> {
        match self.status {
            Status::Built => {
                let extra =
                    if self.outputs.len() > 1 { format!(" (+{} more)", self.outputs.len() - 1) } else { String::new() };
                Some(format!("built   {}{extra}  {:.0} ms", self.key, self.time_ms))
            }
            Status::Failed => Some(format!("FAILED  {}", self.key)),
            Status::Pending => Some(format!("would build  {}", self.key)),
            Status::Cached | Status::Skipped => None,
        }
    }
}

/// Counts over all assets.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub assets: usize,
    pub built: usize,
    pub cached: usize,
    pub failed: usize,
    pub skipped: usize,
    pub pending: usize,
    pub bytes: u64,
    pub time_ms: f64,
}

/// The whole build.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub version: u32,
    pub manifest: String,
    pub shard: Option<String>,
    pub dry_run: bool,
    pub assets: Vec<AssetReport>,
    pub totals: Totals,
}

impl Report {
    /// A report over `assets` that took `time_ms` in all.
    pub fn new(
        manifest: String,
        shard: Option<String>,
        dry_run: bool,
        assets: Vec<AssetReport>,
        time_ms: f64,
    ) -> Report {
        let mut totals = Totals { assets: assets.len(), time_ms, ..Totals::default() };
        for a in &assets {
            totals.bytes += a.bytes;
            match a.status {
                Status::Built => totals.built += 1,
                Status::Cached => totals.cached += 1,
                Status::Failed => totals.failed += 1,
                Status::Skipped => totals.skipped += 1,
                Status::Pending => totals.pending += 1,
            }
        }
        Report { version: 1, manifest, shard, dry_run, assets, totals }
    }

    /// True when any asset failed.
    pub fn failed(&self) -> bool {
        self.totals.failed > 0
    }

    /// The report as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    /// `kiln build: 3 built, 197 cached, 0 failed (200 assets) in 1.52 s`.
    pub fn summary(&self) -> String {
        let t = &self.totals;
        let mut parts =
            vec![format!("{} built", t.built), format!("{} cached", t.cached), format!("{} failed", t.failed)];
        if t.skipped > 0 {
            parts.push(format!("{} skipped", t.skipped));
        }
        if t.pending > 0 {
            parts.push(format!("{} to build", t.pending));
        }
        let shard = self.shard.as_ref().map(|s| format!(", shard {s}")).unwrap_or_default();
        format!("kiln build: {} ({} assets{shard}) in {:.2} s", parts.join(", "), t.assets, t.time_ms / 1e3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(status: Status, bytes: u64) -> AssetReport {
        AssetReport {
            key: "out/a.png".into(),
            script: "a.rhai".into(),
            outputs: vec!["out/a.png".into()],
            status,
            time_ms: 1.0,
            bytes,
            written: 1,
            error: None,
            warnings: vec![],
        }
    }

    #[test]
    fn totals_count_each_status() {
        let r = Report::new(
            "kiln.toml".into(),
            Some("1/2".into()),
            false,
            vec![asset(Status::Built, 10), asset(Status::Cached, 5), asset(Status::Failed, 0)],
            1500.0,
        );
        assert_eq!((r.totals.built, r.totals.cached, r.totals.failed, r.totals.bytes), (1, 1, 1, 15));
        assert!(r.failed());
        assert_eq!(r.summary(), "kiln build: 1 built, 1 cached, 1 failed (3 assets, shard 1/2) in 1.50 s");
        let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
        assert_eq!(json["assets"][1]["status"], "cached");
        assert_eq!(json["totals"]["assets"], 3);
        assert!(json["assets"][0].get("warnings").is_none());
    }
}
