//! ROOM (beside `serve`): `kiln build`, many assets from one manifest (feature "build").
//!
//! A game's textures are a list of script runs. `kiln build` reads them from `kiln.toml`
//! ([`manifest`]), expands matrices into assets ([`plan`]), keeps the assets of one shard
//! ([`shard`]), looks each up in a content-hash cache ([`cache`]), runs the misses on a pool of
//! workers ([`jobs`], one asset's job in [`run`]) and reports what happened ([`report`]).
//!
//! Owns [`BuildOptions`] and [`build`]. Must not know about the command line: `cli::build` maps
//! flags to options and the report to an exit code.
//!
//! How the pieces hold:
//! - **Parallel across assets, not oversubscribed.** `jobs` workers (default: one per core) each
//!   own a script host; the ops they call do their parallel work on rayon's one global pool, so
//!   a build uses at most `jobs` interpreter threads plus one rayon thread per core (see
//!   [`jobs`]). Scripts are read and compiled once per build and shared; each worker keeps
//!   the images it decoded (by path and mtime), so a texture fifty assets load is decoded once
//!   per worker.
//! - **Memory stays bounded.** Each job reserves a share of the process budget
//!   (`--max-memory`, default half of physical memory) with `memory::reserve_waiting` before it
//!   runs (64 MiB, or less so that all workers' shares take at most half the budget), and every
//!   image allocation is budgeted on top; so a job waits while other jobs' images hold the
//!   budget rather than starting and failing, and a job that waits past its `--timeout` fails
//!   with that message.
//! - **Cached by content.** See [`cache`]: the key covers kiln's version and features, the
//!   script's bytes, every file the run read (recorded at run time, as `kiln watch` does),
//!   params, seed and output options. A hit writes nothing when the output file already holds
//!   the right bytes, so mtimes stay and downstream steps see no change.
//! - **Deterministic.** Output bytes do not depend on `--jobs`, the shard split or the thread
//!   count (every op is deterministic at any thread count; jobs never share an image).
//! - **Assets are independent.** There is no ordering between assets: a script that loads
//!   another asset's output may see the old or the new file. Chain such steps in the calling
//!   build system (Make, Ninja, Bazel; see `kiln deps`).
//! - `save()` inside a build script writes under the manifest's folder on a miss only; such files
//!   are neither cached nor restored on a hit. Return images from the script instead.

pub mod cache;
pub mod jobs;
pub mod manifest;
pub mod plan;
pub mod report;
pub mod run;
pub mod shard;

use std::path::PathBuf;
use std::time::{Duration, Instant};

pub use manifest::{Manifest, ManifestError};
pub use plan::Asset;
pub use report::{AssetReport, Report, Status};
pub use shard::Shard;

use crate::Limits;

/// Everything a build needs besides the manifest's contents.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The manifest (`kiln.toml`).
    pub manifest: PathBuf,
    /// Assets built at once (0: one per core).
    pub jobs: usize,
    /// Only this part of the assets.
    pub shard: Option<Shard>,
    /// Run every asset, ignoring cache hits (results are still stored).
    pub force: bool,
    /// Look up every asset but run and write nothing.
    pub dry_run: bool,
    /// Go on after a failed asset (otherwise no further asset starts).
    pub keep_going: bool,
    /// Leave the recipe out of the files written (`--no-provenance`). It is part of the output
    /// options, so files with and without it are cached apart.
    pub no_provenance: bool,
    /// The local cache folder (default `.kiln-cache` beside the manifest).
    pub cache_dir: Option<PathBuf>,
    /// A shared cache folder, read through and written back.
    pub shared_cache: Option<PathBuf>,
    /// Per-asset wall-clock limit (waiting for memory included).
    pub timeout: Option<Duration>,
    /// The scripts' limits (pixels, memory budget, operations).
    pub limits: Limits,
    /// The kiln version the cache key records. Always `CARGO_PKG_VERSION`, except in tests that
    /// show a new version misses the cache.
    pub version: String,
}

impl BuildOptions {
    /// Defaults for building `manifest`.
    pub fn new(manifest: impl Into<PathBuf>) -> BuildOptions {
        BuildOptions {
            manifest: manifest.into(),
            jobs: 0,
            shard: None,
            force: false,
            dry_run: false,
            keep_going: false,
            no_provenance: false,
            cache_dir: None,
            shared_cache: None,
            timeout: None,
            limits: Limits::default(),
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    /// The local cache folder these options use.
    pub fn cache_dir(&self, manifest: &Manifest) -> PathBuf {
        self.cache_dir.clone().unwrap_or_else(|| manifest.base().join(".kiln-cache"))
    }
}

/// What a build reports as it goes.
pub trait Progress {
    /// The build will look at `assets` assets.
    fn start(&mut self, assets: usize) {
        let _ = assets;
    }
    /// One asset finished (any status), in completion order.
    fn done(&mut self, asset: &AssetReport) {
        let _ = asset;
    }
}

/// A build that reports nothing as it goes.
pub struct Quiet;

impl Progress for Quiet {}

/// Builds the assets of `options.manifest`. A manifest mistake is an `Err` (nothing is built);
/// failed assets are in the report.
pub fn build(options: &BuildOptions, progress: &mut dyn Progress) -> Result<Report, ManifestError> {
    let started = Instant::now();
    let manifest = Manifest::load(&options.manifest)?;
    let mut assets = plan::plan(&manifest)?;
    if options.no_provenance {
        // The bytes differ with and without the recipe, so the key must too.
        for asset in &mut assets {
            asset.output_options.push_str(" provenance=off");
        }
    }
    if let Some(shard) = options.shard {
        assets.retain(|a| shard.contains(&a.key));
    }
    let base = manifest.base();
    let absolute = crate::script::context::normalize(&base);
    let cache = cache::BuildCache::new(options.cache_dir(&manifest), options.shared_cache.clone(), absolute);
    let workers = match options.jobs {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(assets.len().max(1));
    let shared = run::Shared::new(options, cache, base, workers);
    // Before any job reserves its share: hosts set these too, but only on a worker's first miss.
    crate::memory::set_budget(options.limits.max_memory);
    crate::limits::set_max_pixels(options.limits.max_pixels);
    progress.start(assets.len());
    let results = jobs::run(
        &assets,
        workers,
        run::Worker::default,
        |worker, asset| worker.build(&shared, asset),
        |report| options.keep_going || report.status != Status::Failed,
        |_, report| progress.done(report),
    );
    let reports = results.into_iter().zip(&assets).map(|(r, asset)| r.unwrap_or_else(|| skipped(asset))).collect();
    let elapsed = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0;
    Ok(Report::new(
        options.manifest.display().to_string(),
        options.shard.map(|s| s.to_string()),
        options.dry_run,
        reports,
        elapsed,
    ))
}

fn skipped(asset: &Asset) -> AssetReport {
    AssetReport {
        key: asset.key.clone(),
        script: asset.script_name.clone(),
        outputs: Vec::new(),
        status: Status::Skipped,
        time_ms: 0.0,
        bytes: 0,
        written: 0,
        error: None,
        warnings: Vec::new(),
    }
}
