//! `kiln watch SCRIPT`: re-run a script whenever it or its inputs change and show the result in
//! a browser page that updates itself. Wires `live::Session`, `live::Watcher` and the preview
//! server together; the behaviour lives in `live/`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Args;

use crate::cli::{EXIT_SCRIPT, EXIT_USAGE};
use crate::live::{preview, PreviewOptions, Session, WatchEnd, WatchOptions, Watcher};
use crate::script::RunConfig;
use crate::Limits;

#[derive(Args, Debug)]
pub struct WatchArgs {
    /// The script to run and watch.
    pub script: PathBuf,
    #[command(flatten)]
    pub common: crate::cli::ScriptArgs,
    /// Serve the preview on this port of 127.0.0.1; if it is busy, the next free one.
    #[arg(long, default_value_t = 7878)]
    pub port: u16,
    /// Do not open a browser.
    #[arg(long)]
    pub no_open: bool,
    /// Play `frame()` / `time()` forward at this many frames per second.
    #[arg(long, value_name = "FPS")]
    pub animate: Option<f64>,
    /// Stop a run after this many seconds (0: no limit). A new save stops it sooner.
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// How long a deleted script may stay missing before kiln watch exits.
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    pub grace: f64,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    crate::console::err(format_args!("error: {msg}"));
    ExitCode::from(EXIT_USAGE)
}

/// Opens `url` in the desktop's browser, best effort: failing to is not an error.
fn open_browser(url: &str) {
    let mut cmd = if cfg!(target_os = "macos") {
        std::process::Command::new("open")
    } else if cfg!(windows) {
        let mut c = std::process::Command::new("cmd");
        c.args(["/C", "start", ""]);
        c
    } else {
        std::process::Command::new("xdg-open")
    };
    cmd.arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    if cmd.spawn().is_err() {
        crate::console::err(format_args!("kiln watch: could not open a browser; open {url} yourself"));
    }
}

pub fn run(args: WatchArgs) -> ExitCode {
    let (config, limits) = match validate(&args) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let (listener, busy) = match preview::bind(args.port, 20) {
        Ok(l) => l,
        Err(e) => return usage(format!("cannot listen on 127.0.0.1:{} or the next ports: {e}", args.port)),
    };
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(args.port);
    let url = format!("http://127.0.0.1:{port}/");

    let session = Arc::new(Session::start(config, limits));
    print_reports(&session, args.common.allow_unused_set);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => return usage(format!("cannot start the preview server: {e}")),
    };
    let ended: Arc<Mutex<Option<WatchEnd>>> = Arc::default();
    let stop = Arc::new(tokio::sync::Notify::new());
    let watch_options = WatchOptions { grace: Duration::from_secs_f64(args.grace), ..WatchOptions::default() };
    let watcher = {
        let (ended, stop) = (ended.clone(), stop.clone());
        Watcher::start(session.clone(), watch_options, move |end| {
            *ended.lock().unwrap_or_else(|e| e.into_inner()) = Some(end.clone());
            stop.notify_one();
        })
    };
    let watcher = match watcher {
        Ok(w) => w,
        Err(e) => return usage(format!("cannot watch files: {e}")),
    };
    // The URL line comes once the files are watched: whoever reads it may edit at once.
    if let Some(p) = busy.first() {
        crate::console::out_line(format_args!("kiln watch: port {p} is in use; using {port}"));
    }
    crate::console::out_line(format_args!("kiln watch: {} at {url} (Ctrl-C to stop)", args.script.display()));
    let _ = std::io::stdout().flush();
    if !args.no_open {
        open_browser(&url);
    }

    let options = PreviewOptions { animate: args.animate, ..PreviewOptions::default() };
    let shutdown = async move {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = stop.notified() => {}
        }
    };
    let served = runtime.block_on(preview::serve(session.clone(), listener, options, shutdown));
    // Every task is done or may be dropped: do not wait for idle blocking threads.
    runtime.shutdown_background();
    drop(watcher);
    let end = ended.lock().unwrap_or_else(|e| e.into_inner()).take();
    exit(served, end)
}

/// Checks `kiln watch`'s own flags, then the shared ones into the session's config.
fn validate(args: &WatchArgs) -> Result<(RunConfig, Limits), String> {
    if !(args.timeout.is_finite() && args.timeout >= 0.0) {
        return Err(format!("--timeout must be a number of seconds (0 for none), got {}", args.timeout));
    }
    if !(args.grace.is_finite() && args.grace >= 0.0) {
        return Err(format!("--grace must be a number of seconds, got {}", args.grace));
    }
    if let Some(fps) = args.animate {
        if !(fps.is_finite() && fps > 0.0 && fps <= 240.0) {
            return Err(format!("--animate expects frames per second in (0, 240], got {fps}"));
        }
    }
    let timeout = (args.timeout > 0.0).then(|| Duration::from_secs_f64(args.timeout));
    args.common.validate(&args.script, timeout, args.animate.unwrap_or(30.0))
}

/// Prints a line per finished run, and a warning for each `--set` name the runs read no param
/// for (once per set of such names: a save that adds the param silences it).
fn print_reports(session: &Session, allow_unused_set: bool) {
    let config = session.config().clone();
    let warned: Mutex<Vec<String>> = Mutex::default();
    session.on_report(move |r| {
        match &r.error {
            None => crate::console::err(format_args!(
                "kiln watch: run {} ok ({}): compile {:.1} ms, run {:.1} ms",
                r.run,
                r.trigger.as_str(),
                r.compile_time.as_secs_f64() * 1e3,
                r.run_time.as_secs_f64() * 1e3
            )),
            Some(e) => crate::console::err(format_args!(
                "kiln watch: run {} failed; the last good result stays on the page\n{e}",
                r.run
            )),
        }
        if allow_unused_set || !r.ok() {
            return;
        }
        let declared: Vec<String> = r.params.iter().map(|p| p.name.clone()).collect();
        let unknown = config.unknown_params(&declared);
        let mut warned = warned.lock().unwrap_or_else(|e| e.into_inner());
        if *warned != unknown {
            for name in &unknown {
                crate::console::err(format_args!("kiln watch: warning: {}", crate::cli::unknown_set(name, &declared)));
            }
            *warned = unknown;
        }
    });
}

/// The exit code once the preview server has stopped.
fn exit(served: std::io::Result<()>, end: Option<WatchEnd>) -> ExitCode {
    match (served, end) {
        (Err(e), _) => {
            crate::console::err(format_args!("kiln watch: the preview server failed: {e}"));
            ExitCode::from(EXIT_SCRIPT)
        }
        (Ok(()), Some(end)) => {
            crate::console::err(format_args!("kiln watch: {end}"));
            ExitCode::from(EXIT_SCRIPT)
        }
        (Ok(()), None) => {
            crate::console::err(format_args!("kiln watch: stopped (Ctrl-C)"));
            ExitCode::SUCCESS
        }
    }
}
