//! Shared test helpers: running the binary, temp folders, and golden-image comparison.
//!
//! Golden images live in `tests/golden/`. `BLESS=1 cargo test` rewrites them. On a mismatch the
//! test writes `target/golden-diff/<name>.png` = expected | diff (×8) | actual, side by side.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use kiln::Image;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `kiln` binary built for this test run.
pub fn kiln() -> Command {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
}

/// A fresh temporary folder, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, text).unwrap();
    p
}

/// Runs `kiln` with `args` in `cwd`.
pub fn run_in(cwd: &Path, args: &[&str]) -> Output {
    kiln().current_dir(cwd).args(args).output().expect("run kiln")
}

/// stdout and stderr as text, for assertion messages.
pub fn text(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Asserts the exit code and returns stderr.
#[track_caller]
pub fn expect_code(out: &Output, code: i32) -> String {
    let (stdout, stderr) = text(out);
    assert_eq!(out.status.code(), Some(code), "exit code\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    stderr
}

/// How far two images may differ, in 8-bit steps.
#[derive(Debug, Clone, Copy)]
pub struct Tolerance {
    /// Largest difference of any channel of any pixel.
    pub max: f32,
    /// Largest mean absolute difference over all channels.
    pub mean: f32,
}

impl Tolerance {
    pub const EXACT: Tolerance = Tolerance { max: 0.0, mean: 0.0 };
    /// Golden images: 8-bit rounding plus small float differences between platforms.
    pub const GOLDEN: Tolerance = Tolerance { max: 3.0, mean: 0.05 };
}

/// (max, mean) absolute difference in 8-bit steps, over channels clamped to 0..1.
pub fn difference(a: &Image, b: &Image) -> (f32, f32) {
    assert_eq!(a.dimensions(), b.dimensions(), "image sizes differ");
    let mut max = 0.0f32;
    let mut sum = 0.0f64;
    for (x, y) in a.pixels().iter().zip(b.pixels()) {
        let d = (x.clamp(0.0, 1.0) - y.clamp(0.0, 1.0)).abs() * 255.0;
        max = max.max(d);
        sum += d as f64;
    }
    (max, (sum / a.pixels().len() as f64) as f32)
}

/// Compares `actual` with `tests/golden/<name>.png`, or writes it when `BLESS=1`.
#[track_caller]
pub fn assert_golden(name: &str, actual: &Image, tol: Tolerance) {
    let path = repo().join("tests/golden").join(format!("{name}.png"));
    if std::env::var_os("BLESS").is_some() || !path.exists() && std::env::var_os("CI").is_none() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        kiln::io::save(actual, &path, &kiln::SaveOptions::default()).unwrap();
        eprintln!("blessed {}", path.display());
        return;
    }
    let expected = kiln::io::load(&path).unwrap_or_else(|e| panic!("golden {name}: {e} (run with BLESS=1)"));
    // Goldens are stored as 8-bit PNG: compare against the 8-bit rounding of `actual`.
    let actual8 = kiln::io::decode(
        &kiln::io::encode(actual, kiln::Format::Png, &kiln::SaveOptions::default(), Path::new("a.png")).unwrap(),
        Path::new("a.png"),
    )
    .unwrap();
    if expected.dimensions() != actual8.dimensions() {
        panic!(
            "golden {name}: expected {:?}, got {:?} (BLESS=1 to accept)",
            expected.dimensions(),
            actual8.dimensions()
        );
    }
    let (max, mean) = difference(&expected, &actual8);
    if max > tol.max || mean > tol.mean {
        let diff_path = write_diff(name, &expected, &actual8);
        panic!(
            "golden {name}: max diff {max:.2} (allowed {}), mean {mean:.4} (allowed {}); see {} (BLESS=1 to accept)",
            tol.max,
            tol.mean,
            diff_path.display()
        );
    }
}

fn write_diff(name: &str, expected: &Image, actual: &Image) -> PathBuf {
    let (w, h) = expected.dimensions();
    let sheet = Image::from_fn(w * 3, h, |x, y| {
        let (panel, x) = (x / w, x % w);
        let e = expected.get(x as i64, y as i64).unwrap().to_array();
        let a = actual.get(x as i64, y as i64).unwrap().to_array();
        match panel {
            0 => e,
            2 => a,
            _ => {
                let d = |i: usize| ((e[i] - a[i]).abs() * 8.0).min(1.0);
                [d(0), d(1), d(2), 1.0]
            }
        }
    })
    .unwrap();
    let dir = repo().join("target/golden-diff");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{}.png", name.replace('/', "_")));
    kiln::io::save(&sheet, &path, &kiln::SaveOptions::default()).unwrap();
    path
}
