//! One asset's job on a worker: lookup, run on the worker's host, encode, write, store.
//!
//! Owns [`Worker`] (a host and the build's shared scripts) and [`encode_output`], the one place
//! an output image is encoded. Must not know about the command line or the pool.
//!
//! An output file that already holds the right bytes is left alone, so its mtime stays and the
//! steps after the build (Make, a game's asset importer) see nothing new.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use crate::build::cache::{lookup_key, BuildCache};
use crate::build::plan::Asset;
use crate::build::report::{AssetReport, ErrorReport, Status};
use crate::build::BuildOptions;
use crate::image::Image;
use crate::image::{io, pbr};
use crate::recipe::{cache_key, Recipe};
use crate::script::{Compiled, ErrorKind, Host, RunConfig, ScriptError};
use crate::store::Entry;

/// Bytes each job reserves from the memory budget while it runs, so that a job waits (rather
/// than starts and fails) while other jobs' images hold the budget: roughly one 2048² RGBA f32
/// image, as `kiln serve` reserves per render. The job's own images are budgeted on top of it,
/// so all workers' reservations together take at most half the budget (a small
/// `--max-memory` still leaves room for the images).
const JOB_RESERVE: u64 = 64 << 20;

fn job_reserve(workers: usize) -> u64 {
    JOB_RESERVE.min(crate::memory::budget() / (2 * workers.max(1) as u64))
}

/// A script read once per build and compiled once (by the first worker that needs it).
struct Script {
    text: Result<Arc<[u8]>, String>,
    compiled: OnceLock<Result<Arc<Compiled>, ScriptError>>,
}

/// What every worker shares: the options, the cache and the scripts.
pub struct Shared<'a> {
    pub options: &'a BuildOptions,
    pub cache: BuildCache,
    /// The manifest's folder, as the scripts see it (`save` and `load` start there).
    pub base: PathBuf,
    /// Workers in the pool (each holds one job's reservation).
    pub workers: usize,
    scripts: Mutex<HashMap<PathBuf, Arc<Script>>>,
}

impl<'a> Shared<'a> {
    pub fn new(options: &'a BuildOptions, cache: BuildCache, base: PathBuf, workers: usize) -> Shared<'a> {
        Shared { options, cache, base, workers, scripts: Mutex::default() }
    }

    fn script(&self, path: &Path) -> Arc<Script> {
        let mut scripts = self.scripts.lock().unwrap_or_else(|e| e.into_inner());
        scripts
            .entry(path.to_path_buf())
            .or_insert_with(|| {
                let text = std::fs::read(path)
                    .map(Arc::from)
                    .map_err(|e| format!("{}: cannot read script: {e}", path.display()));
                Arc::new(Script { text, compiled: OnceLock::new() })
            })
            .clone()
    }
}

/// A worker thread's own script host, made on its first cache miss (a no-op build makes none).
#[derive(Default)]
pub struct Worker {
    host: Option<Host>,
}

impl Worker {
    fn host(&mut self, shared: &Shared) -> &Host {
        self.host.get_or_insert_with(|| {
            let host = Host::new(shared.options.limits.clone());
            // A texture many assets load is decoded once per worker (kept by path and mtime).
            host.keep_decoded_images(true);
            host
        })
    }

    /// Builds (or finds in the cache) one asset.
    pub fn build(&mut self, shared: &Shared, asset: &Asset) -> AssetReport {
        let started = Instant::now();
        let mut report = AssetReport {
            key: asset.key.clone(),
            script: asset.script_name.clone(),
            outputs: Vec::new(),
            status: Status::Failed,
            time_ms: 0.0,
            bytes: 0,
            written: 0,
            error: None,
            warnings: Vec::new(),
        };
        if let Err(e) = self.job(shared, asset, &mut report, started) {
            report.status = Status::Failed;
            report.outputs.clear();
            report.error = Some(e);
        }
        report.time_ms = (started.elapsed().as_secs_f64() * 1e4).round() / 10.0;
        report
    }

    fn job(
        &mut self,
        shared: &Shared,
        asset: &Asset,
        report: &mut AssetReport,
        started: Instant,
    ) -> Result<(), ErrorReport> {
        let opts = shared.options;
        let script = shared.script(&asset.script);
        let text = script.text.clone().map_err(|m| plain(Some(&asset.script_name), m))?;
        let key = lookup_key(asset, &text, &opts.version);
        if !opts.force {
            let found = shared.cache.lookup(&key);
            report.warnings.extend(found.warnings);
            if let Some(entry) = found.entry {
                report.status = Status::Cached;
                // Entries name their outputs (a PBR set's files are known only after a run).
                let names: Vec<&str> =
                    entry.meta.iter().filter(|(k, _)| k == "output").map(|(_, v)| v.as_str()).collect();
                for (i, body) in entry.bodies.iter().enumerate() {
                    let key = names.get(i).map_or_else(|| asset.output_key(i), |n| n.to_string());
                    report.bytes += body.len() as u64;
                    if !opts.dry_run && place(&asset.under_base(&key), body).map_err(|e| plain(None, e.to_string()))? {
                        report.written += 1;
                    }
                    report.outputs.push(key);
                }
                return Ok(());
            }
        }
        if opts.dry_run {
            report.status = Status::Pending;
            report.outputs.push(asset.output_key(0));
            return Ok(());
        }

        let stopper = crate::cancel::Stopper::new(Default::default(), started, opts.timeout);
        let _reserved =
            crate::memory::reserve_waiting(job_reserve(shared.workers), "a build job", &stopper).map_err(|e| {
                let wait = if matches!(e, crate::Error::TimedOut(_)) { " (waiting for memory)" } else { "" };
                plain(Some(&asset.script_name), format!("{e}{wait}"))
            })?;
        let host = self.host(shared);
        let compiled = script
            .compiled
            .get_or_init(|| {
                let name = asset.script.display().to_string();
                match std::str::from_utf8(&text) {
                    Ok(text) => host.compile(&name, text).map(Arc::new),
                    Err(e) => Err(ScriptError::plain(
                        ErrorKind::Compile,
                        format!(
                            "{name}: the script is not valid UTF-8 text (invalid byte at offset {})",
                            e.valid_up_to()
                        ),
                    )),
                }
            })
            .clone()
            .map_err(|e| script_error(&e))?;
        let config = RunConfig {
            out_dir: Some(shared.base.clone()),
            allow_read: vec![shared.base.clone()],
            seed: asset.seed,
            params: asset.params.clone(),
            timeout: opts.timeout.map(|t| t.saturating_sub(started.elapsed())),
            // The recipe's paths are relative to the manifest's folder, as the cache's are.
            recipe_root: Some(shared.base.clone()),
            ..RunConfig::new(&asset.script)
        };
        let outcome = host.run(&compiled, config.clone()).map_err(|e| script_error(&e))?;
        let mut declared: Vec<String> = outcome.params.iter().map(|p| p.name.clone()).collect();
        declared.sort();
        declared.dedup();
        if let Some(name) = config.unknown_params(&declared).first() {
            let hint = crate::suggest::did_you_mean(name, &declared);
            let known = if declared.is_empty() {
                "it reads none".into()
            } else {
                format!("its params: {}", declared.join(", "))
            };
            let message = format!("params: {} has no param '{name}'{hint}; {known}", asset.script_name);
            // Located at the manifest's [[asset]] table, where the param was given.
            let mut at = asset.declared_at.rsplitn(3, ':');
            let (col, line, file) = (at.next(), at.next(), at.next());
            return Err(ErrorReport {
                file: file.map(str::to_string),
                line: line.and_then(|l| l.parse().ok()),
                col: col.and_then(|c| c.parse().ok()),
                text: format!("{}: {message}", asset.declared_at),
                message,
            });
        }
        if asset.pbr.is_none() && outcome.images.is_empty() {
            return Err(plain(
                Some(&asset.script_name),
                format!("{}: the script's last value is not an Image or an array of Images", asset.script.display()),
            ));
        }

        // The run's own recipe: its inputs were hashed once, as they were read.
        let mut full = outcome.recipe.clone();
        full.kiln_version.clone_from(&opts.version);
        full.script.clone_from(&asset.script_name);
        let provenance = (!opts.no_provenance).then_some(&full);
        let fail = |e: crate::Error| plain(None, e.to_string());
        let mut bodies = Vec::new();
        let mut names = Vec::new();
        if let Some(export) = &asset.pbr {
            let Some(set) = &outcome.set else {
                return Err(plain(
                    Some(&asset.script_name),
                    format!(
                        "{}: pbr = \"{}\" needs the script's last value to be a PBR set (#{{ albedo, normal, height, roughness, metallic, ao }})",
                        asset.script.display(),
                        export.preset.name()
                    ),
                ));
            };
            for file in pbr::pack_pbr(set, export.preset).map_err(fail)? {
                let key = asset.pbr_output_key(&file);
                let bytes = pbr::encode_file(&asset.under_base(&key), &file, export, provenance).map_err(fail)?;
                bodies.push(bytes);
                names.push(key);
            }
        } else {
            for (i, img) in outcome.images.iter().enumerate() {
                bodies.push(encode_output(img, asset, i, provenance).map_err(fail)?);
                names.push(asset.output_key(i));
            }
        }
        for (key, bytes) in names.iter().zip(&bodies) {
            report.outputs.push(key.clone());
            report.bytes += bytes.len() as u64;
            report.written += place(&asset.under_base(key), bytes).map_err(fail)? as usize;
        }
        let mut meta =
            vec![("recipe".into(), cache_key(&full, &asset.output_options)), ("asset".into(), asset.key.clone())];
        meta.extend(names.into_iter().map(|n| ("output".to_string(), n)));
        let entry = Entry { meta, inputs: full.inputs, bodies };
        report.warnings.extend(shared.cache.store(&key, &entry));
        report.status = Status::Built;
        Ok(())
    }
}

/// Encodes output `index` of `asset`, with the asset's recipe as provenance (so cached bytes,
/// stored from the same bytes, carry it too). The one place a built image is encoded.
pub fn encode_output(img: &Image, asset: &Asset, index: usize, provenance: Option<&Recipe>) -> crate::Result<Vec<u8>> {
    io::encode_with(img, asset.format, &asset.save, &asset.output(index), provenance)
}

/// Writes `bytes` to `path` (atomically, creating folders) unless it already holds them; true
/// when it wrote.
pub fn place(path: &Path, bytes: &[u8]) -> crate::Result<bool> {
    let same_len = std::fs::metadata(path).is_ok_and(|m| m.len() == bytes.len() as u64);
    if same_len && std::fs::read(path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| crate::Error::io(parent, e))?;
    }
    io::write_atomic(path, bytes)?;
    Ok(true)
}

fn plain(file: Option<&str>, message: String) -> ErrorReport {
    ErrorReport { file: file.map(str::to_string), line: None, col: None, text: message.clone(), message }
}

fn script_error(e: &ScriptError) -> ErrorReport {
    ErrorReport {
        file: e.location.as_ref().map(|l| l.source.clone()),
        line: e.location.as_ref().map(|l| l.line),
        col: e.location.as_ref().map(|l| l.column),
        message: e.message.clone(),
        text: e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_leaves_a_file_with_the_right_bytes_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/a.bin");
        assert!(place(&path, b"abc").unwrap());
        let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
        std::fs::File::options().append(true).open(&path).unwrap().set_modified(old).unwrap();
        assert!(!place(&path, b"abc").unwrap());
        assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), old);
        assert!(place(&path, b"abd").unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"abd");
    }
}
