//! Live-loop latency, measured end to end in headless Chromium (not asserted anywhere):
//!
//! - file write → the new image displayed in the page, for a trivial script (target ≤ 100 ms);
//! - the same for a 1024² script with a noisy (hard to compress) result and a second 1024²
//!   `show()` panel (target: render time + ≤ 60 ms);
//! - slider move (a key press on the range input) → the updated image displayed.
//!
//! "Displayed" is the page's own clock at the animation frame after every panel of the run has
//! loaded and been swapped in; the write time is this process's clock (the same system clock).
//!
//!     cargo bench --bench live                 # 20 samples per case
//!     KILN_LIVE_SAMPLES=50 cargo bench --bench live
//!     KILN_LIVE_SCRIPT=my_material.rhai cargo bench --bench live   # time your own script too
//!
//! Needs `chromium` and `chromedriver` (Debian: apt-get install chromium chromium-driver); without
//! them it says so and exits 0, so `cargo bench --no-run` and CI stay green.

#[path = "../tests/integration/live/browser.rs"]
mod browser;

use std::path::{Path, PathBuf};
use std::time::Duration;

use browser::{epoch_ms, Browser, KilnWatch};

const LONG: Duration = Duration::from_secs(120);

fn save_via_rename(path: &Path, text: &str) {
    let tmp = path.with_extension("rhai.tmp~");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

struct Stats {
    samples: Vec<f64>,
}

impl Stats {
    fn summary(mut self) -> String {
        self.samples.sort_by(f64::total_cmp);
        let n = self.samples.len();
        let at = |q: f64| self.samples[((n as f64 - 1.0) * q).round() as usize];
        format!(
            "median {:6.1} ms   p90 {:6.1} ms   min {:6.1} ms   max {:6.1} ms   (n={n})",
            at(0.5),
            at(0.9),
            at(0.0),
            at(1.0)
        )
    }
}

/// The first run after `last` that the page displayed at or after `t0` (epoch ms): its number and
/// display time. A run displayed before `t0` cannot be this write's.
fn displayed_after(b: &Browser, last: u64, t0: f64) -> (u64, f64) {
    browser::poll("the page to show the new run", LONG, || {
        let v = b.eval(
            "const e = (window.kiln ? window.kiln.log : []).find(x => x.run > arguments[0] && x.at >= arguments[1]); return e ? [e.run, e.at] : null;",
            serde_json::json!([last, t0]),
        );
        Some((v.get(0)?.as_u64()?, v.get(1)?.as_f64()?))
    })
}

/// Edits `script` `n` times with `text(i)` and measures write → displayed. Returns the latencies
/// and the script's median run time (from the page state).
fn edits(w: &KilnWatch, b: &Browser, script: &Path, n: usize, text: impl Fn(usize) -> String) -> (Stats, f64) {
    let first = b.wait_newer(0, LONG);
    let mut last = first;
    let mut samples = Vec::new();
    let mut runs = Vec::new();
    for i in 0..n {
        let t0 = epoch_ms();
        save_via_rename(script, &text(i));
        let (run, at) = displayed_after(b, last, t0);
        samples.push(at - t0);
        runs.push(w.state()["timings"]["good_run_ms"].as_f64().unwrap_or(0.0));
        last = run;
        // Let the watcher and the page settle so samples do not overlap.
        std::thread::sleep(Duration::from_millis(150));
    }
    let finished = w.state()["run"].as_u64().unwrap_or(0);
    if finished != first + n as u64 {
        println!("  note: {n} saves led to {} runs", finished - first);
    }
    runs.sort_by(f64::total_cmp);
    (Stats { samples }, runs[runs.len() / 2])
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not supported, everything runs.
    let Some((chromium, driver)) = browser::chromium() else {
        println!("live bench: SKIPPED — chromium and chromedriver are not installed");
        return;
    };
    let n: usize = std::env::var("KILN_LIVE_SAMPLES").ok().and_then(|s| s.parse().ok()).unwrap_or(20);
    // KILN_LIVE_BIN: time another build of kiln (a shared target folder's binary may be someone
    // else's checkout).
    let kiln = std::env::var_os("KILN_LIVE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_kiln")));
    let dir = tempfile::tempdir().unwrap();
    let b = Browser::start(&chromium, &driver);
    // The page's clock and ours should agree; show by how much they do.
    let mut skew: Vec<f64> = (0..5)
        .map(|_| {
            let a = epoch_ms();
            let page = b.eval("return Date.now();", serde_json::json!([])).as_f64().unwrap_or(0.0);
            let z = epoch_ms();
            page - (a + z) / 2.0
        })
        .collect();
    skew.sort_by(f64::total_cmp);
    println!("page clock minus bench clock: {:+.1} ms (WebDriver round trip included)", skew[2]);

    // 1. A trivial script.
    let trivial = dir.path().join("trivial.rhai");
    let trivial_text = |i: usize| format!("image(64, 64, rgb({}, 0.3, 0.3))\n", (i % 10) as f64 / 10.0);
    std::fs::write(&trivial, trivial_text(99)).unwrap();
    {
        let w = KilnWatch::start(&kiln, dir.path(), &["trivial.rhai", "--port", "0"]);
        b.goto(&w.url);
        let (stats, run_ms) = edits(&w, &b, &trivial, n, trivial_text);
        println!("file write -> displayed, trivial 64² script (run {run_ms:.1} ms):  {}", stats.summary());
    }

    // 2. A 1024² result that compresses badly (noise), plus a second 1024² panel.
    let noise = kiln::Image::from_fn(1024, 1024, |x, y| {
        let mut h = (x as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (y as u64).wrapping_mul(0xC2B2_AE3D_27D4_EB4F);
        h ^= h >> 29;
        h = h.wrapping_mul(0xBF58_476D_1CE4_E5B9);
        let v = |s: u32| ((h >> s) & 0xff) as f32 / 255.0;
        [v(0) * 0.5 + x as f32 / 2048.0, v(8) * 0.5 + y as f32 / 2048.0, v(16), 1.0]
    })
    .unwrap();
    kiln::io::save(&noise, &dir.path().join("noise.png"), &Default::default()).unwrap();
    let big = dir.path().join("big.rhai");
    let big_text = |i: usize| {
        format!(
            "let img = load(\"noise.png\").set(0, 0, gray({}));\nshow(image(1024, 1024, hsv({}, 0.6, 0.8)), \"flat\");\nimg\n",
            (i % 10) as f64 / 10.0,
            i * 30 % 360
        )
    };
    std::fs::write(&big, big_text(99)).unwrap();
    {
        let w = KilnWatch::start(&kiln, dir.path(), &["big.rhai", "--port", "0"]);
        b.goto(&w.url);
        let (stats, run_ms) = edits(&w, &b, &big, n, big_text);
        let encode = w.state()["timings"]["encode_ms"].as_f64().unwrap_or(0.0);
        println!(
            "file write -> displayed, 1024² noise + 1024² panel (run {run_ms:.1} ms, encode {encode:.1} ms): {}",
            stats.summary()
        );
    }

    // 3. Slider moves.
    let slider = dir.path().join("slider.rhai");
    std::fs::write(
        &slider,
        "let v = param(\"level\", 0.5, #{ min: 0.0, max: 1.0, step: 0.01 });\nimage(256, 256, rgb(v, 0.2, 0.6))\n",
    )
    .unwrap();
    {
        let w = KilnWatch::start(&kiln, dir.path(), &["slider.rhai", "--port", "0"]);
        b.goto(&w.url);
        let mut last = b.wait_newer(0, LONG);
        let el = b.find("input[type=range][data-name=level]").expect("slider");
        let mut samples = Vec::new();
        for i in 0..n {
            let t0 = epoch_ms();
            b.send_keys(&el, if i % 2 == 0 { "\u{E014}" } else { "\u{E012}" });
            let (run, at) = displayed_after(&b, last, t0);
            samples.push(at - t0);
            last = run;
            std::thread::sleep(Duration::from_millis(100));
        }
        println!("slider key press -> displayed, 256² script:            {}", Stats { samples }.summary());
    }

    // 4. Optionally, the user's own script (edited by appending a comment).
    if let Some(user) = std::env::var_os("KILN_LIVE_SCRIPT").map(PathBuf::from) {
        let text = std::fs::read_to_string(&user).expect("KILN_LIVE_SCRIPT");
        let copy = user.with_file_name(".kiln-live-bench.rhai");
        std::fs::write(&copy, &text).unwrap();
        let folder = copy.parent().unwrap().to_path_buf();
        let w = KilnWatch::start(&kiln, &folder, &[".kiln-live-bench.rhai", "--port", "0"]);
        b.goto(&w.url);
        let (stats, run_ms) = edits(&w, &b, &copy, n, |i| format!("{text}\n// edit {i}\n"));
        println!("file write -> displayed, {} (run {run_ms:.1} ms): {}", user.display(), stats.summary());
        let _ = std::fs::remove_file(&copy);
    }
}
