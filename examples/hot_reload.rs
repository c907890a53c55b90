//! Hot reload without the browser: a game tool embeds a `kiln::live::Session`, watches the script
//! and its inputs, and swaps the texture it displays whenever a run succeeds. A broken save keeps
//! the last good texture and prints the error like a compiler would.
//!
//!     cargo run --example hot_reload -- path/to/texture.rhai
//!
//! Without an argument it writes a small script to a temp folder, edits it three times (once
//! breaking it) and exits, so the example also runs unattended.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use kiln::live::{Change, Report, Session, WatchOptions, Watcher};
use kiln::script::RunConfig;
use kiln::Limits;

/// What the tool does with a finished run: upload the texture, or keep the old one.
fn on_report(r: &Report) {
    match (&r.error, &r.good) {
        (None, Some(good)) => {
            let img = &good.images[0];
            let c = img.get(0, 0).unwrap();
            println!(
                "run {}: new texture {}x{} (top-left {}) in {:.1} ms",
                r.run,
                img.width(),
                img.height(),
                c.to_hex(),
                good.run_time.as_secs_f64() * 1e3
            );
        }
        (Some(e), good) => {
            let kept = good.as_ref().map(|g| format!("keeping the texture of run {}", g.run));
            println!("run {} failed, {}:\n{e}", r.run, kept.unwrap_or_else(|| "no texture yet".into()));
        }
        (None, None) => {}
    }
}

fn main() {
    let given = std::env::args_os().nth(1).map(PathBuf::from);
    let demo = tempfile::tempdir().expect("temp dir");
    let script = given.clone().unwrap_or_else(|| demo.path().join("texture.rhai"));
    if given.is_none() {
        std::fs::write(&script, "let tint = param(\"tint\", 0.25);\nimage(32, 32, rgb(tint, 0.4, 0.8))\n").unwrap();
    }

    // The same config `kiln run` builds from its flags; a minute per run at most.
    let config = RunConfig { timeout: Some(Duration::from_secs(60)), ..RunConfig::new(&script) };
    let session = Arc::new(Session::start(config, Limits::default()));
    session.on_report(|r| on_report(r));
    let first = session.wait(1, Duration::from_secs(60)).expect("first run");
    let _watcher = Watcher::start(session.clone(), WatchOptions::default(), |end| eprintln!("watcher: {end}"))
        .expect("watch files");

    if given.is_some() {
        println!("watching {} (Ctrl-C to stop)", script.display());
        loop {
            std::thread::sleep(Duration::from_secs(3600));
        }
    }

    // The unattended demo: drive the same loop a person would with an editor.
    let edits = [
        "let tint = param(\"tint\", 0.25);\nimage(32, 32, rgb(tint, 0.9, 0.2))\n",
        "let tint = param(\"tint\", 0.25);\nimage(32, 32, rgb(tint, oops, 0.2))\n",
        "let tint = param(\"tint\", 0.25);\nimage(64, 16, rgb(tint, 0.1, 0.1))\n",
    ];
    let mut last = first.run;
    for text in edits {
        std::fs::write(&script, text).unwrap();
        // The watcher sees the save; wait for the run it causes.
        last = wait_after(&session, last);
    }
    // A parameter change from the tool's own UI, without touching the file.
    let r = session.apply(Change::Param { name: "tint".into(), value: "0.9".into() }, Duration::from_secs(60));
    assert!(r.is_some_and(|r| r.ok()));
}

fn wait_after(session: &Session, run: u64) -> u64 {
    for _ in 0..3000 {
        if let Some(r) = session.latest().filter(|r| r.run > run) {
            return r.run;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("no run after run {run} within 30 s");
}
