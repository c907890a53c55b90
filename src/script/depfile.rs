//! What a run read, as a list of files and as a Makefile-syntax depfile for Make and Ninja.
//!
//! Owns: the list of a run's inputs in the form a build system wants ([`inputs`],
//! [`relative_to_cwd`]) and the depfile text ([`depfile`]). `kiln run --depfile`, `kiln deps` and
//! a `build.rs` that bakes textures (examples/build_rs/) all take the list from here, so the three
//! agree. Must not know about the command line or about writing files.
//!
//! The list is recorded while the script runs (`Outcome::inputs`, the same record `kiln watch`
//! watches), never guessed from the script's text: a `load()` whose path is computed, or an
//! `import` inside a function, is listed exactly when the run reached it. It holds the script
//! first, then every file module it imported (transitively), every image, model and font it
//! loaded, each once, in the order first read. The embedded `std/` modules are part of the kiln
//! binary, not files, and are not listed. A file the run also wrote (`save()` over something it
//! had loaded) is left out, as `kiln watch` leaves it out: a target cannot depend on itself.
//!
//! The text is what GCC's `-MD` writes and Ninja's `deps = gcc` reads: one rule, `target: dep
//! dep ...`, with a backslash-newline between dependencies so diffs stay readable. Escaping
//! follows GCC and Ninja's depfile parser: a space is `\ ` (with the backslashes before it
//! doubled), `#` is `\#`, `$` is `$$`, and the colon of a Windows drive letter (`C:/x`) is `\:`
//! so Make does not read it as the end of the target. A newline or a tab cannot be written in a
//! depfile that both Make and Ninja read back, so a path holding one is an error rather than a
//! depfile that names other files.
//! Hand-written: a depfile writer is a dozen lines and no maintained crate covers these rules.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::script::context::normalize;
use crate::script::Outcome;

/// Every file a run of `script` read: the script itself first, then `outcome.inputs` (imports,
/// loaded images, models, fonts) in the order first read, minus the files the run wrote. Paths
/// are absolute and normalized (links resolved), as the run recorded them.
pub fn inputs(script: &Path, outcome: &Outcome) -> Vec<PathBuf> {
    let mut all = vec![normalize(script)];
    append(&mut all, outcome);
    all
}

/// Adds `outcome`'s inputs to `list` (each once), for a run of several frames whose list is the
/// union of every frame's.
pub fn append(list: &mut Vec<PathBuf>, outcome: &Outcome) {
    let written: Vec<PathBuf> = outcome.outputs.iter().map(|p| normalize(p)).collect();
    for p in outcome.inputs.iter().map(|p| normalize(p)) {
        if !list.contains(&p) && !written.contains(&p) {
            list.push(p);
        }
    }
}

/// `paths` relative to `cwd` where they lie under it, else unchanged: the form a build file in
/// the current folder names them by (Ninja matches depfile entries to its nodes by text).
pub fn relative_to_cwd(paths: &[PathBuf], cwd: &Path) -> Vec<PathBuf> {
    let cwd = normalize(cwd);
    paths
        .iter()
        .map(|p| match p.strip_prefix(&cwd) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
            _ => p.clone(),
        })
        .collect()
}

/// The depfile text: `target: input input ...` in Makefile syntax (see the module docs for the
/// escaping). Several targets share one rule (`a.png b.png: ...`), which Make and Ninja (1.10
/// and later) read as every target depending on every input. An error when a path holds a line
/// break or a tab or is not valid Unicode, which a depfile cannot carry.
pub fn depfile(targets: &[&str], inputs: &[PathBuf]) -> Result<String> {
    let mut out = String::new();
    for (i, t) in targets.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        out.push_str(&escape(t)?);
    }
    out.push(':');
    for p in inputs {
        let text = p.to_str().ok_or_else(|| {
            Error::Unsupported(format!("{}: a depfile cannot name a path that is not valid Unicode", p.display()))
        })?;
        out.push_str(" \\\n  ");
        out.push_str(&escape(text)?);
    }
    out.push('\n');
    Ok(out)
}

/// One path in Makefile syntax.
pub fn escape(path: &str) -> Result<String> {
    if path.contains(['\n', '\r', '\t', '\0']) {
        return Err(Error::Unsupported(format!(
            "{}: a depfile cannot name a path that holds a line break or a tab",
            path.escape_debug()
        )));
    }
    let mut out = String::with_capacity(path.len() + 8);
    let mut backslashes = 0usize;
    for (i, c) in path.char_indices() {
        match c {
            ' ' | '#' => {
                // The backslashes just before a quoted character would quote each other; GCC
                // doubles them, and Make and Ninja read them back as the originals.
                out.extend(std::iter::repeat_n('\\', backslashes + 1));
                out.push(c);
            }
            '$' => out.push_str("$$"),
            ':' if i == 1 && is_drive_letter(path) => out.push_str("\\:"),
            _ => out.push(c),
        }
        backslashes = if c == '\\' { backslashes + 1 } else { 0 };
    }
    Ok(out)
}

/// `C:/...` or `C:\...`: a Windows drive letter, whose colon is not a rule's colon.
fn is_drive_letter(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && (b[2] == b'/' || b[2] == b'\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dep(target: &str, inputs: &[&str]) -> String {
        depfile(&[target], &inputs.iter().map(PathBuf::from).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn one_rule_with_a_line_per_input() {
        assert_eq!(
            dep("out/wall.png", &["wall.rhai", "lib/shapes.rhai"]),
            "out/wall.png: \\\n  wall.rhai \\\n  lib/shapes.rhai\n"
        );
        assert_eq!(dep("a.png", &[]), "a.png:\n");
        let two = depfile(&["a b.png", "c.png"], &[PathBuf::from("s.rhai")]).unwrap();
        assert_eq!(two, "a\\ b.png c.png: \\\n  s.rhai\n");
    }

    #[test]
    fn spaces_hashes_and_dollars_are_escaped_like_gcc() {
        assert_eq!(escape("my textures/a b.png").unwrap(), "my\\ textures/a\\ b.png");
        assert_eq!(escape("#1.png").unwrap(), "\\#1.png");
        assert_eq!(escape("$HOME.png").unwrap(), "$$HOME.png");
        // A backslash before a space is doubled, so `\\\ ` reads back as `\` + ` `.
        assert_eq!(escape("a\\ b").unwrap(), "a\\\\\\ b");
        // Other backslashes (Windows separators) pass through.
        assert_eq!(escape("dir\\file.png").unwrap(), "dir\\file.png");
    }

    #[test]
    fn only_a_drive_letters_colon_is_escaped() {
        assert_eq!(escape("C:/assets/a.png").unwrap(), "C\\:/assets/a.png");
        assert_eq!(escape("d:\\assets\\a.png").unwrap(), "d\\:\\assets\\a.png");
        assert_eq!(escape("a:b.png").unwrap(), "a:b.png");
        assert_eq!(escape("x/C:/a").unwrap(), "x/C:/a");
    }

    #[test]
    fn a_line_break_in_a_path_is_an_error() {
        let e = depfile(&["a.png"], &[PathBuf::from("bad\nname.png")]).unwrap_err();
        assert!(e.to_string().contains("line break"), "{e}");
        assert!(escape("x\r").is_err());
        assert!(escape("tab\there").is_err());
    }

    #[test]
    fn paths_under_the_cwd_become_relative() {
        let dir = tempfile::tempdir().unwrap();
        let cwd = normalize(dir.path());
        let paths = vec![cwd.join("a.rhai"), cwd.join("lib/b.rhai"), PathBuf::from("/elsewhere/c.png"), cwd.clone()];
        let rel = relative_to_cwd(&paths, dir.path());
        assert_eq!(
            rel,
            vec![PathBuf::from("a.rhai"), PathBuf::from("lib/b.rhai"), PathBuf::from("/elsewhere/c.png"), cwd]
        );
    }

    #[test]
    fn the_script_comes_first_and_written_files_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        let d = normalize(dir.path());
        let outcome = Outcome {
            inputs: vec![d.join("lib/m.rhai"), d.join("tex.png"), d.join("lib/m.rhai"), d.join("both.png")],
            outputs: vec![d.join("both.png")],
            ..Outcome::default()
        };
        assert_eq!(
            inputs(&d.join("s.rhai"), &outcome),
            vec![d.join("s.rhai"), d.join("lib/m.rhai"), d.join("tex.png")]
        );
    }
}
