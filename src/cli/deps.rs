//! `kiln deps SCRIPT`: print every file a run of the script reads, one per line, the list
//! `kiln run --depfile` writes (`script::depfile`).
//!
//! The list is recorded at run time, so `kiln deps` RUNS the script, exactly as `kiln watch`
//! does to learn what to watch: a `load()` of a computed path or an `import` inside a branch is
//! listed when (and only when) the run reaches it, under the same `--set`, `--seed` and
//! `--frames` as the run it stands for. It costs one render. What the script saves goes to a
//! temporary folder that is removed afterwards (listing inputs must not touch the project's
//! outputs); the real out folder stays readable. The script's `print()` lines go to stderr so
//! stdout holds only the list. Paths are relative to the current folder when under it.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::cli::{EXIT_SCRIPT, EXIT_USAGE};
use crate::script::{depfile, Host, RunConfig};

#[derive(Args, Debug)]
pub struct DepsArgs {
    /// The script whose inputs to list (it is run once per frame to record them).
    pub script: PathBuf,
    #[command(flatten)]
    pub common: crate::cli::ScriptArgs,
    /// List the inputs of an animation of N frames (`frame()` runs 0..N), as `kiln run --frames`.
    #[arg(long, default_value_t = 1)]
    pub frames: u32,
    /// Stop the script after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    crate::cli::write_err(format_args!("error: {msg}"));
    ExitCode::from(EXIT_USAGE)
}

fn script_error(msg: impl std::fmt::Display) -> ExitCode {
    crate::cli::write_err(msg);
    ExitCode::from(EXIT_SCRIPT)
}

pub fn run(args: DepsArgs) -> ExitCode {
    if let Some(t) = args.timeout {
        if !(t.is_finite() && t > 0.0) {
            return usage(format!("--timeout must be a positive number of seconds, got {t}"));
        }
    }
    if args.frames == 0 {
        return usage("--frames must be at least 1");
    }
    let timeout = args.timeout.map(Duration::from_secs_f64);
    let (config, limits) = match args.common.validate(&args.script, timeout, 30.0) {
        Ok(v) => v,
        Err(e) => return usage(e),
    };
    let saves = match tempfile::Builder::new().prefix("kiln-deps-").tempdir() {
        Ok(d) => d,
        Err(e) => return script_error(format!("cannot create a temporary folder for the script's saves: {e}")),
    };
    // Reads keep the run's folders; only writes move to the temporary one.
    let mut allow_read = config.allow_read.clone();
    allow_read.push(config.out_dir.clone().unwrap_or_else(|| PathBuf::from(".")));
    let config = RunConfig { out_dir: Some(saves.path().to_path_buf()), allow_read, ..config };

    let mut host = Host::new(limits);
    host.engine_mut().on_print(|text| crate::cli::write_err(text));
    let compiled = match host.compile_file(&args.script) {
        Ok(c) => c,
        Err(e) => return script_error(e),
    };
    let mut inputs = Vec::new();
    for frame in 0..args.frames {
        let outcome = match host.run(&compiled, RunConfig { frame: frame as i64, ..config.clone() }) {
            Ok(o) => o,
            Err(e) => return script_error(e),
        };
        if frame == 0 {
            if let Some(msg) = unknown_set(&args, &config, &outcome) {
                return usage(msg);
            }
            inputs = depfile::inputs(&args.script, &outcome);
        } else {
            depfile::append(&mut inputs, &outcome);
        }
    }
    let cwd = match std::env::current_dir() {
        Ok(d) => d,
        Err(e) => return script_error(format!("cannot read the current folder: {e}")),
    };
    let mut text = String::new();
    for p in depfile::relative_to_cwd(&inputs, &cwd) {
        text.push_str(&p.to_string_lossy());
        text.push('\n');
    }
    crate::console::out(&text);
    ExitCode::SUCCESS
}

/// The message for a `--set` no `param()` of the run read (unless `--allow-unused-set`), as
/// `kiln run` refuses it.
fn unknown_set(args: &DepsArgs, config: &RunConfig, outcome: &crate::script::Outcome) -> Option<String> {
    if args.common.allow_unused_set {
        return None;
    }
    let mut declared: Vec<String> = outcome.params.iter().map(|p| p.name.clone()).collect();
    declared.sort();
    declared.dedup();
    let unknown = config.unknown_params(&declared);
    unknown.first().map(|name| crate::cli::unknown_set(name, &declared))
}
