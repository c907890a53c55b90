//! The manifest file (`kiln.toml`) as written: serde types read with `toml`, and errors that
//! point at a line and column of it.
//!
//! Owns the file's shape and [`ManifestError`]. Must not know what the keys mean beyond their
//! types: `plan` expands and checks them.
//!
//! ```toml
//! [[asset]]
//! script = "tiles/stone.rhai"        # relative to the manifest's folder
//! out = "out/stone-{variant}-{seed}.png"
//! params = { size = 256 }
//! seed = 7                           # default 0, like `kiln run`
//! matrix = { variant = ["moss", "dry"], seed = [1, 2, 3] }
//! format = "png"                     # else from out's extension
//! bits = 16
//! ```
//!
//! Every table refuses keys it does not know (`deny_unknown_fields`), so a typo is an error at
//! its line, not a silently ignored option.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    asset: Vec<Spanned<AssetSpec>>,
}

/// One `[[asset]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetSpec {
    /// The script, relative to the manifest's folder.
    pub script: Spanned<String>,
    /// The output path pattern, relative to the manifest's folder.
    pub out: Spanned<String>,
    /// `--set` values for the script's `param()`s.
    #[serde(default)]
    pub params: BTreeMap<String, Spanned<toml::Value>>,
    /// The run's seed (default 0).
    #[serde(default)]
    pub seed: Option<Spanned<i64>>,
    /// Each key's list of values; the Cartesian product of all lists is one asset each.
    #[serde(default)]
    pub matrix: Option<Spanned<BTreeMap<String, Vec<toml::Value>>>>,
    /// Output format name (`png`, `exr`, ...); default from `out`'s extension.
    #[serde(default)]
    pub format: Option<Spanned<String>>,
    /// Bits per channel (as `save`'s `bits`).
    #[serde(default)]
    pub bits: Option<Spanned<u8>>,
    /// Channels written; only the format's own layout is accepted.
    #[serde(default)]
    pub channels: Option<Spanned<u8>>,
    /// A PBR map preset; reserved.
    #[serde(default)]
    pub pbr: Option<Spanned<toml::Value>>,
}

/// A parsed manifest and its text (kept for error positions).
#[derive(Debug)]
pub struct Manifest {
    /// The manifest's path as given.
    pub path: PathBuf,
    text: String,
    /// The `[[asset]]` entries in file order, with their spans.
    pub assets: Vec<Spanned<AssetSpec>>,
}

/// A manifest mistake: the message already carries `file:line:col`, the line and a caret.
#[derive(Debug, Clone, PartialEq)]
pub struct ManifestError(pub String);

impl std::fmt::Display for ManifestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ManifestError {}

impl Manifest {
    /// Reads and parses `path`.
    pub fn load(path: &Path) -> Result<Manifest, ManifestError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ManifestError(format!("{}: cannot read the manifest: {e}", path.display())))?;
        Manifest::parse(path, text)
    }

    /// Parses `text` as the manifest at `path`.
    pub fn parse(path: &Path, text: String) -> Result<Manifest, ManifestError> {
        let mut manifest = Manifest { path: path.to_path_buf(), text, assets: Vec::new() };
        match toml::from_str::<File>(&manifest.text) {
            Ok(file) => manifest.assets = file.asset,
            Err(e) => {
                let span = e.span().unwrap_or(0..0);
                return Err(manifest.error_at(span, e.message().trim_end()));
            }
        }
        if manifest.assets.is_empty() {
            return Err(ManifestError(format!("{}: the manifest has no [[asset]] entries", manifest.path.display())));
        }
        Ok(manifest)
    }

    /// The folder the manifest's relative paths start from.
    pub fn base(&self) -> PathBuf {
        match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        }
    }

    /// `file:line:col` of byte `offset`.
    pub fn location(&self, offset: usize) -> String {
        let (line, col) = line_col(&self.text, offset);
        format!("{}:{line}:{col}", self.path.display())
    }

    /// An error at `span`: `file:line:col: message`, then the line and a caret under the span.
    pub fn error_at(&self, span: Range<usize>, message: &str) -> ManifestError {
        let offset = span.start.min(self.text.len());
        let (line, col) = line_col(&self.text, offset);
        let source = self.text.lines().nth(line - 1).unwrap_or("");
        let width = source.chars().count().saturating_sub(col - 1);
        let carets = span.end.saturating_sub(span.start).clamp(1, width.max(1));
        let first = message.lines().next().unwrap_or("");
        ManifestError(format!(
            "{}: {first}\n{line:>5} | {source}\n      | {}{}",
            self.location(offset),
            " ".repeat(col - 1),
            "^".repeat(carets)
        ))
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `text`.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(Path::new("kiln.toml"), text.to_string())
    }

    #[test]
    fn an_unknown_key_is_an_error_at_its_line() {
        let e = parse("[[asset]]\nscript = \"a.rhai\"\nout = \"a.png\"\nsede = 3\n").unwrap_err();
        assert!(e.0.starts_with("kiln.toml:4:1: unknown field `sede`"), "{}", e.0);
        assert!(e.0.contains("    4 | sede = 3\n      | ^^^^"), "{}", e.0);
    }

    #[test]
    fn a_wrong_type_and_a_missing_key_are_errors() {
        let e = parse("[[asset]]\nscript = \"a.rhai\"\nout = 3\n").unwrap_err();
        assert!(e.0.starts_with("kiln.toml:3:7: "), "{}", e.0);
        let e = parse("[[asset]]\nscript = \"a.rhai\"\n").unwrap_err();
        assert!(e.0.contains("missing field `out`"), "{}", e.0);
        let e = parse("# nothing\n").unwrap_err();
        assert_eq!(e.0, "kiln.toml: the manifest has no [[asset]] entries");
    }

    #[test]
    fn spans_give_line_and_column() {
        let m = parse("[[asset]]\nscript = \"a.rhai\"\nout = \"a.png\"\n").unwrap();
        let out = m.assets[0].get_ref().out.span();
        assert_eq!(m.location(out.start), "kiln.toml:3:7");
        // Columns count characters; an offset inside 'é' counts from its start.
        assert_eq!(line_col("ab\ncdé!", 7), (2, 4));
        assert_eq!(line_col("ab\ncdé!", 6), (2, 3));
    }
}
