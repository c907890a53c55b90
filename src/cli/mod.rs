//! ROOM 6: the command line. clap and anyhow appear only here.
//!
//! Flow (ripgrep's shape): raw arguments → [`Cli`] (clap derive) → a validated `RunConfig` →
//! the host → an exit code. Exit codes: 0 success, 1 script error (compile, runtime, timeout,
//! or a bad input file), 2 usage error.

use std::ffi::OsString;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::script::RunConfig;
use crate::Limits;

#[cfg(feature = "build")]
mod build;
#[cfg(feature = "build")]
mod cache;
mod deps;
mod doc;
mod info;
mod run;
#[cfg(feature = "serve")]
mod serve;
mod texture_stats;
mod train;
mod train_spatial;
#[cfg(feature = "watch")]
mod watch;

/// Exit code for a script error.
pub const EXIT_SCRIPT: u8 = 1;
/// Exit code for a usage error.
pub const EXIT_USAGE: u8 = 2;

/// Rhai scripts that generate and edit images.
#[derive(Parser, Debug)]
#[command(name = "kiln", version = version(), about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per process; boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand, Debug)]
enum Command {
    /// Run a script and write its result.
    Run(run::RunArgs),
    /// Print the script API reference (Markdown).
    Doc(doc::DocArgs),
    /// Print the recipe an image kiln wrote carries (script, hashes, params, seed, models).
    Info(info::InfoArgs),
    /// Re-run the recipe an image carries and say whether the result is byte-identical.
    Regen(info::RegenArgs),
    /// Print every file a run of the script reads, one per line (runs the script to find out).
    Deps(deps::DepsArgs),
    /// Train a VAE or GAN on a folder of images.
    Train(train::TrainArgs),
    /// Texture quality of samples against their exemplar: Gram distance, seam, copy ratio, diversity.
    TextureStats(texture_stats::TextureStatsArgs),
    /// Re-run a script whenever it or its inputs change, with a live preview in the browser.
    #[cfg(feature = "watch")]
    Watch(watch::WatchArgs),
    /// Serve the scripts of a folder over HTTP: POST /render/{script} returns the image.
    #[cfg(feature = "serve")]
    Serve(serve::ServeArgs),
    /// Build the assets of a manifest (kiln.toml) in parallel, with a content-hash cache.
    #[cfg(feature = "build")]
    Build(build::BuildArgs),
    /// Inspect or prune a build cache folder.
    #[cfg(feature = "build")]
    Cache(cache::CacheArgs),
}

/// `--version` text: the crate version and the compiled features.
fn version() -> &'static str {
    let features: Vec<&str> = [
        ("script", cfg!(feature = "script")),
        ("cli", cfg!(feature = "cli")),
        ("watch", cfg!(feature = "watch")),
        ("serve", cfg!(feature = "serve")),
        ("build", cfg!(feature = "build")),
        ("ml", cfg!(feature = "ml")),
        ("cuda", cfg!(feature = "cuda")),
    ]
    .into_iter()
    .filter_map(|(n, on)| on.then_some(n))
    .collect();
    Box::leak(format!("{} (features: {})", env!("CARGO_PKG_VERSION"), features.join(", ")).into_boxed_str())
}

/// Flags `run`, `watch` and `deps` share: where the script reads and writes, its seed, params and size limit.
#[derive(clap::Args, Debug)]
pub struct ScriptArgs {
    /// Folder that `save()` writes into and the script may read from (default: current folder).
    #[arg(long)]
    pub out: Option<std::path::PathBuf>,
    /// The run's seed; generators without an explicit seed use it.
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub seed: i64,
    /// Set a script parameter: --set name=value (repeatable). In watch mode the page's controls
    /// override it.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Another folder the script may read (repeatable).
    #[arg(long = "allow-read", value_name = "DIR")]
    pub allow_read: Vec<std::path::PathBuf>,
    /// Largest image in pixels (default 268435456 = 16384²).
    #[arg(long)]
    pub max_pixels: Option<u64>,
    /// Memory budget for images and model batches, e.g. 512M or 2G (default: half of physical
    /// memory, at most 8G). Going over it is an error naming the budget, not a killed process.
    #[arg(long, value_name = "SIZE", value_parser = crate::memory::parse_size)]
    pub max_memory: Option<u64>,
    /// Accept --set names the script has no param() for (build scripts that pass one set of
    /// names to many scripts). Without it `run` refuses them and `watch` warns.
    #[arg(long)]
    pub allow_unused_set: bool,
    /// Leave the recipe (script, hashes, params, seed) out of the images written. By default
    /// every image carries it as metadata; `kiln info FILE` prints it.
    #[arg(long)]
    pub no_provenance: bool,
}

impl ScriptArgs {
    /// The one validating step for the flags `run` and `watch` share (ripgrep's LowArgs →
    /// HiArgs): `--set` pairs are well formed, the script exists, the out folder is created and
    /// the pixel ceiling set. `timeout` and `fps` come validated from the subcommand, whose
    /// flags for them differ. Errors are usage errors.
    pub(crate) fn validate(
        &self,
        script: &Path,
        timeout: Option<Duration>,
        fps: f64,
    ) -> Result<(RunConfig, Limits), String> {
        let params = parse_sets(&self.set)?;
        if !script.is_file() {
            return Err(format!("{}: no such script file", script.display()));
        }
        if let Some(dir) = &self.out {
            std::fs::create_dir_all(dir).map_err(|e| format!("--out {}: {e}", dir.display()))?;
        }
        let mut limits = Limits::default();
        if let Some(p) = self.max_pixels {
            limits.max_pixels = p;
            crate::limits::set_max_pixels(p);
        }
        limits.deadline = timeout;
        limits.max_memory = self.max_memory.unwrap_or(0);
        let config = RunConfig {
            out_dir: self.out.clone(),
            allow_read: self.allow_read.clone(),
            seed: self.seed,
            params,
            fps,
            timeout,
            no_provenance: self.no_provenance,
            ..RunConfig::new(script)
        };
        Ok((config, limits))
    }
}

/// Validated `--set` pairs.
fn parse_sets(sets: &[String]) -> Result<Vec<(String, String)>, String> {
    sets.iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(format!("--set expects NAME=VALUE, got '{s}'")),
        })
        .collect()
}

/// The message for a `--set` name no `param()` of the script reads, with a did-you-mean and the
/// names it does read.
pub(crate) fn unknown_set(name: &str, declared: &[String]) -> String {
    let hint = crate::suggest::did_you_mean(name, declared);
    let known = if declared.is_empty() {
        "it reads no params".to_string()
    } else {
        format!("its params are: {}", declared.join(", "))
    };
    format!("--set {name}: the script has no param '{name}'{hint}; {known}")
}

pub(crate) use crate::console::{err as write_err, out as write_out};

/// Runs the command line and returns the process exit code.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Doc(args) => doc::run(args),
        Command::Info(args) => info::info(args),
        Command::Regen(args) => info::regen(args),
        Command::Deps(args) => deps::run(args),
        Command::Train(args) => train::run(args),
        Command::TextureStats(args) => texture_stats::run(args),
        #[cfg(feature = "watch")]
        Command::Watch(args) => watch::run(args),
        #[cfg(feature = "serve")]
        Command::Serve(args) => serve::run(args),
        #[cfg(feature = "build")]
        Command::Build(args) => build::run(args),
        #[cfg(feature = "build")]
        Command::Cache(args) => cache::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_needs_a_name() {
        assert!(parse_sets(&["=3".into()]).is_err());
        assert_eq!(parse_sets(&["a=b=c".into()]).unwrap(), vec![("a".into(), "b=c".into())]);
    }

    #[test]
    fn an_unknown_set_names_the_params() {
        let declared = vec!["radius".to_string(), "seed_count".to_string()];
        assert_eq!(
            unknown_set("radus", &declared),
            "--set radus: the script has no param 'radus' (did you mean 'radius'?); its params are: radius, seed_count"
        );
        assert_eq!(unknown_set("x", &[]), "--set x: the script has no param 'x'; it reads no params");
    }
}
