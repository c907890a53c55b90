//! `kiln build [MANIFEST]`: flags → [`BuildOptions`] → [`kiln::build::build`] → lines, a JSON
//! report and an exit code.
//!
//! Exit codes: 0 when every asset was built or cached, 1 when any failed, 2 for a usage or
//! manifest error (nothing built). Text: one line per built or failed asset (a failure's
//! diagnostic follows it on stderr), warnings on stderr, a summary line; on a terminal an
//! indicatif progress bar, plain lines otherwise. With `--json -` the JSON goes to stdout and
//! every text line to stderr.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};

use crate::build::{AssetReport, BuildOptions, Progress, Shard, Status};
use crate::cli::{EXIT_SCRIPT, EXIT_USAGE};
use crate::Limits;

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The manifest, or a folder holding a kiln.toml.
    #[arg(default_value = "kiln.toml")]
    pub manifest: PathBuf,
    /// Assets built at once (default: one per core). The ops inside each share one pool of
    /// one thread per core, so more jobs do not mean more compute threads.
    #[arg(short = 'j', long)]
    pub jobs: Option<usize>,
    /// Build only part I of N (0 <= I < N), partitioned by asset key. Also read from the
    /// environment as KILN_SHARD=I/N; the flag wins.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// Run every asset even when the cache has it.
    #[arg(long)]
    pub force: bool,
    /// Look every asset up and say what would be built; run and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write the JSON report to FILE (`-`: stdout).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// The local cache folder (default: .kiln-cache beside the manifest).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
    /// A shared cache folder (NFS, SMB, a CI cache): read through and written back.
    #[arg(long, value_name = "DIR")]
    pub shared_cache: Option<PathBuf>,
    /// Go on building the other assets after one fails.
    #[arg(short = 'k', long)]
    pub keep_going: bool,
    /// Leave the recipe (script, inputs, params, seed) out of the written files.
    #[arg(long)]
    pub no_provenance: bool,
    /// Stop an asset after this many seconds (waiting for memory included).
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Memory budget for images and model batches, e.g. 512M or 2G (default: half of physical
    /// memory, at most 8G). Jobs wait for it rather than fail.
    #[arg(long, value_name = "SIZE", value_parser = crate::memory::parse_size)]
    pub max_memory: Option<u64>,
    /// Largest image in pixels (default 268435456 = 16384²).
    #[arg(long)]
    pub max_pixels: Option<u64>,
}

pub fn run(args: BuildArgs) -> ExitCode {
    let options = match validate(&args, std::env::var("KILN_SHARD").ok()) {
        Ok(o) => o,
        Err(msg) => {
            crate::cli::write_err(format_args!("error: {msg}"));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let json_to_stdout = args.json.as_deref().is_some_and(|p| p.as_os_str() == "-");
    let mut lines = Lines::new(json_to_stdout);
    let report = match crate::build::build(&options, &mut lines) {
        Ok(r) => r,
        Err(e) => {
            crate::cli::write_err(format_args!("error: {e}"));
            return ExitCode::from(EXIT_USAGE);
        }
    };
    lines.finish();
    lines.say(&report.summary());
    if let Some(path) = &args.json {
        let json = report.to_json() + "\n";
        if json_to_stdout {
            crate::console::out_line(json.trim_end());
        } else if let Err(e) = crate::io::write_atomic(path, json.as_bytes()) {
            crate::cli::write_err(format_args!("error: --json: {e}"));
            return ExitCode::from(EXIT_SCRIPT);
        }
    }
    if report.failed() {
        ExitCode::from(EXIT_SCRIPT)
    } else {
        ExitCode::SUCCESS
    }
}

/// Every usage error, found before the manifest is read. `env_shard` is `KILN_SHARD`.
fn validate(args: &BuildArgs, env_shard: Option<String>) -> Result<BuildOptions, String> {
    // A folder means its kiln.toml, as `make -C DIR` / `ninja -C DIR` users expect.
    let manifest = if args.manifest.is_dir() { args.manifest.join("kiln.toml") } else { args.manifest.clone() };
    let mut options = BuildOptions::new(&manifest);
    if !manifest.is_file() {
        return Err(format!("{}: no such manifest (kiln build reads kiln.toml by default)", manifest.display()));
    }
    match args.jobs {
        Some(0) => return Err("--jobs must be at least 1".into()),
        Some(n) => options.jobs = n,
        None => {}
    }
    options.shard = match (&args.shard, env_shard.filter(|s| !s.trim().is_empty())) {
        (Some(s), _) => Some(Shard::parse(s).map_err(|e| format!("--shard: {e}"))?),
        (None, Some(s)) => Some(Shard::parse(&s).map_err(|e| format!("KILN_SHARD: {e}"))?),
        (None, None) => None,
    };
    if let Some(t) = args.timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(format!("--timeout must be a positive number of seconds, got {t}"));
        }
        options.timeout = Some(Duration::from_secs_f64(t));
    }
    let mut limits = Limits::default();
    if let Some(p) = args.max_pixels {
        limits.max_pixels = p;
    }
    limits.max_memory = args.max_memory.unwrap_or(0);
    limits.deadline = options.timeout;
    options.limits = limits;
    options.force = args.force;
    options.dry_run = args.dry_run;
    options.keep_going = args.keep_going;
    options.no_provenance = args.no_provenance;
    options.cache_dir = args.cache.clone();
    options.shared_cache = args.shared_cache.clone();
    Ok(options)
}

/// The text output: a progress bar on a terminal, plain lines otherwise.
struct Lines {
    bar: Option<ProgressBar>,
    /// Lines go to stderr (stdout carries the JSON).
    to_stderr: bool,
}

impl Lines {
    fn new(to_stderr: bool) -> Lines {
        let terminal = if to_stderr { std::io::stderr().is_terminal() } else { std::io::stdout().is_terminal() };
        let bar = terminal.then(|| {
            let bar = ProgressBar::new(0);
            if let Ok(style) = ProgressStyle::with_template("{bar:30} {pos}/{len} assets  {elapsed}  {msg}") {
                bar.set_style(style);
            }
            bar
        });
        Lines { bar, to_stderr }
    }

    fn say(&self, line: &str) {
        match &self.bar {
            Some(bar) if !bar.is_finished() => bar.println(line),
            _ if self.to_stderr => crate::cli::write_err(line),
            _ => crate::console::out_line(line),
        }
    }

    fn warn(&self, line: &str) {
        match &self.bar {
            Some(bar) if !bar.is_finished() => bar.suspend(|| crate::cli::write_err(line)),
            _ => crate::cli::write_err(line),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Lines {
    fn start(&mut self, assets: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(assets as u64);
        }
    }

    fn done(&mut self, asset: &AssetReport) {
        for w in &asset.warnings {
            self.warn(w);
        }
        if let Some(line) = asset.line() {
            self.say(&line);
        }
        if let (Status::Failed, Some(e)) = (asset.status, &asset.error) {
            self.warn(&e.text);
        }
        if let Some(bar) = &self.bar {
            bar.inc(1);
            bar.set_message(asset.key.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Wrap {
        #[command(flatten)]
        args: BuildArgs,
    }

    fn validate_with(flags: &[&str], env: Option<&str>) -> Result<BuildOptions, String> {
        let dir = tempfile::tempdir().unwrap();
        let manifest = dir.path().join("kiln.toml");
        std::fs::write(&manifest, "").unwrap();
        let mut argv = vec!["kiln", manifest.to_str().unwrap()];
        argv.extend(flags);
        validate(&Wrap::try_parse_from(argv).map_err(|e| e.to_string())?.args, env.map(str::to_string))
    }

    #[test]
    fn shards_come_from_the_flag_or_the_environment() {
        assert_eq!(validate_with(&[], Some("1/3")).unwrap().shard, Some(Shard { index: 1, count: 3 }));
        assert_eq!(validate_with(&["--shard", "0/2"], Some("1/3")).unwrap().shard, Some(Shard { index: 0, count: 2 }));
        assert!(validate_with(&[], Some("3/2")).unwrap_err().starts_with("KILN_SHARD: "));
        assert!(validate_with(&["--shard", "0/0"], None).unwrap_err().starts_with("--shard: "));
        assert!(validate_with(&["--jobs", "0"], None).is_err());
        assert!(validate_with(&["--timeout=-1"], None).is_err());
    }
}
