//! One render, start to finish, on a blocking thread: name check, param check, cache lookup,
//! the sandboxed run, encoding, and the cache write.
//!
//! Owns [`Renderer`] (the pool of script hosts, the per-script param declarations, the disk
//! cache and the counters) and [`ApiError`], the `{ error, kind, location }` every failure
//! becomes. Must not know about HTTP framing: `api` turns results into responses.
//!
//! A `Host` holds one run at a time (its run slot), so the renderer keeps a pool of hosts, one
//! per render in flight, built on first need and reused.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::image::io::{self, Format, SaveOptions};
use crate::recipe::{cache_key, hash_bytes, Recipe};
use crate::script::context::ParamValue;
use crate::script::{ErrorKind, Host, ParamKind, ParamSpec, RunConfig, ScriptError};
use crate::serve::cache::{DiskCache, Entry, Lookup};
use crate::serve::ServeOptions;

/// A failure as the client sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub error: String,
    /// `not_found`, `bad_request`, `too_large`, `compile`, `runtime`, `input`, `limit`, ...
    pub kind: &'static str,
    /// `script.rhai:12:9` when the script is at fault.
    pub location: Option<String>,
}

impl ApiError {
    pub fn new(status: u16, kind: &'static str, error: impl Into<String>) -> ApiError {
        ApiError { status, error: error.into(), kind, location: None }
    }

    pub fn bad_request(error: impl Into<String>) -> ApiError {
        ApiError::new(400, "bad_request", error)
    }

    /// A script's failure: 422 for what the script did, 413 for a limit, 503 for a cancelled run.
    fn from_script(e: &ScriptError, dir: &Path) -> ApiError {
        let (status, kind) = match e.kind {
            ErrorKind::Compile => (422, "compile"),
            ErrorKind::Runtime => (422, "runtime"),
            ErrorKind::Input => (422, "input"),
            ErrorKind::Io => (422, "io"),
            ErrorKind::Model => (422, "model"),
            ErrorKind::Timeout => (422, "timeout"),
            ErrorKind::Limit => (413, "limit"),
            ErrorKind::Cancelled => (503, "cancelled"),
            ErrorKind::Internal => (500, "internal"),
        };
        // Paths in messages are the server's; the client knows only script names.
        let prefix = format!("{}/", dir.display());
        let location = e.location.as_ref().map(|l| l.to_string().replace(&prefix, ""));
        ApiError { status, error: e.message.replace(&prefix, ""), kind, location }
    }
}

/// What a render request asks for, validated.
#[derive(Debug, Clone)]
pub struct Request {
    /// The script's file name in the served folder.
    pub script: String,
    /// `--set` pairs, sorted by name.
    pub params: Vec<(String, String)>,
    pub seed: i64,
    /// The format's name as the client gave it, lower case.
    pub format: String,
    /// Resize the result to this width (height keeps the aspect ratio).
    pub width: Option<u32>,
}

/// A rendered (or cached) image.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub body: Vec<u8>,
    pub etag: String,
    pub content_type: &'static str,
    pub cached: bool,
}

/// What a script declares, read from a run with default params.
#[derive(Debug, Clone)]
pub struct ScriptInfo {
    pub hash: String,
    pub params: Vec<ParamSpec>,
    /// Why the defaults run failed, if it did (the params are then unknown).
    pub error: Option<ApiError>,
}

/// Counters shown by `GET /health`.
#[derive(Debug, Default)]
pub struct Stats {
    pub renders: AtomicU64,
    pub cache_hits: AtomicU64,
    pub cancelled: AtomicU64,
    pub timeouts: AtomicU64,
    pub failed: AtomicU64,
    pub corrupt_entries: AtomicU64,
}

/// The served folder's scripts, hosts, cache and counters.
pub struct Renderer {
    pub options: ServeOptions,
    hosts: Mutex<Vec<Host>>,
    infos: Mutex<HashMap<String, Arc<ScriptInfo>>>,
    /// Defaults runs (for [`Renderer::info`]) in progress.
    info_runs: AtomicUsize,
    pub cache: DiskCache,
    pub stats: Stats,
}

/// Bytes each render reserves from the memory budget before it starts, so that renders wait
/// (rather than fail) while others hold the budget: roughly one 2048² RGBA f32 image.
const RENDER_RESERVE: u64 = 64 << 20;

impl Renderer {
    pub fn new(options: ServeOptions) -> Renderer {
        let cache = DiskCache::new(options.cache_dir.clone(), options.dir.clone());
        Renderer {
            options,
            hosts: Mutex::default(),
            infos: Mutex::default(),
            info_runs: AtomicUsize::new(0),
            cache,
            stats: Stats::default(),
        }
    }

    /// The `*.rhai` files directly in the served folder, sorted.
    pub fn script_names(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.options.dir)
            .map(|rd| {
                rd.filter_map(|e| e.ok())
                    .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                    .filter_map(|e| e.file_name().to_str().map(str::to_string))
                    .filter(|n| n.ends_with(".rhai") && !n.starts_with('.'))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }

    /// The path of script `name` (`wood` or `wood.rhai`), which must be a `*.rhai` file directly
    /// in the served folder: the one way a request reaches the filesystem.
    pub fn script_path(&self, name: &str) -> Result<(String, PathBuf), ApiError> {
        let file = if name.ends_with(".rhai") { name.to_string() } else { format!("{name}.rhai") };
        let plain = file.len() > 5
            && !file.starts_with('.')
            && file.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        let names = self.script_names();
        if plain && names.contains(&file) {
            let path = self.options.dir.join(&file);
            // A symlink out of the folder is not a script of the folder.
            let inside = path.canonicalize().is_ok_and(|p| p.parent() == Some(self.options.dir.as_path()));
            if inside {
                return Ok((file, path));
            }
        }
        let shown: String = name.chars().take(80).collect();
        let hint = crate::suggest::did_you_mean(&file, &names);
        Err(ApiError::new(404, "not_found", format!("no script '{shown}'{hint}; GET /scripts lists them")))
    }

    fn host(&self) -> Host {
        let pooled = self.hosts.lock().unwrap_or_else(|e| e.into_inner()).pop();
        pooled.unwrap_or_else(|| Host::new(self.options.limits.clone()))
    }

    fn give_back(&self, host: Host) {
        self.hosts.lock().unwrap_or_else(|e| e.into_inner()).push(host);
    }

    /// What script `name` declares, from a run with default params, cached by the script's hash.
    /// `cancel` stops the run (its client went away); a cancelled run is not remembered.
    pub fn info(&self, name: &str, path: &Path, cancel: Option<Arc<AtomicBool>>) -> Result<Arc<ScriptInfo>, ApiError> {
        let text = std::fs::read(path).map_err(|e| ApiError::new(404, "not_found", format!("{name}: {e}")))?;
        let hash = hash_bytes(&text);
        let key = format!("{name}\0{hash}");
        if let Some(info) = self.infos.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return Ok(info.clone());
        }
        // These runs happen before admission, so they are bounded on their own: at most
        // `max_concurrent` at once, past that the request is told to retry.
        let limit = self.options.max_concurrent.max(1);
        if self.info_runs.fetch_add(1, Ordering::AcqRel) >= limit {
            self.info_runs.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::new(429, "busy", "too many scripts being inspected; retry later"));
        }
        struct Release<'a>(&'a AtomicUsize);
        impl Drop for Release<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Ordering::AcqRel);
            }
        }
        let _release = Release(&self.info_runs);
        let scratch = self.scratch()?;
        let config = RunConfig {
            out_dir: Some(scratch.0.path().to_path_buf()),
            timeout: self.options.timeout,
            cancel,
            ..RunConfig::new(path)
        };
        let host = self.host();
        let run = host.run_file(config);
        self.give_back(host);
        drop(scratch);
        let info = match run {
            Err(e) if e.kind == ErrorKind::Cancelled => return Err(ApiError::from_script(&e, &self.options.dir)),
            Ok(outcome) => ScriptInfo { hash, params: outcome.params, error: None },
            Err(e) => {
                ScriptInfo { hash, params: Vec::new(), error: Some(ApiError::from_script(&e, &self.options.dir)) }
            }
        };
        let info = Arc::new(info);
        self.infos.lock().unwrap_or_else(|e| e.into_inner()).insert(key, info.clone());
        Ok(info)
    }

    fn scratch(&self) -> Result<Scratch, ApiError> {
        tempfile::Builder::new()
            .prefix("kiln-serve-")
            .tempdir()
            .map(Scratch)
            .map_err(|e| ApiError::new(500, "internal", format!("cannot make a temp folder: {e}")))
    }

    /// The request key and the cached entry, if a valid one exists.
    pub fn lookup(&self, req: &Request, path: &Path) -> Result<(String, Option<Rendered>), ApiError> {
        let text = std::fs::read(path).map_err(|e| ApiError::new(404, "not_found", format!("{}: {e}", req.script)))?;
        let key = request_key(req, &text);
        let content_type = content_type(parse_format(&req.format)?);
        match self.cache.get(&key) {
            Lookup::Hit(entry) => {
                self.stats.cache_hits.fetch_add(1, Ordering::Relaxed);
                Ok((key, Some(Rendered { body: entry.body, etag: entry.etag, content_type, cached: true })))
            }
            Lookup::Corrupt => {
                self.stats.corrupt_entries.fetch_add(1, Ordering::Relaxed);
                Ok((key, None))
            }
            Lookup::Miss | Lookup::Stale => Ok((key, None)),
        }
    }

    /// Checks the request's params against what the script declares: unknown names, values of
    /// the wrong type and values out of range are the client's mistake (400), not the script's.
    pub fn check_params(&self, req: &Request, info: &ScriptInfo) -> Result<(), ApiError> {
        if info.error.is_some() {
            // The defaults run failed: the script will report its own error.
            return Ok(());
        }
        let declared: Vec<String> = info.params.iter().map(|p| p.name.clone()).collect();
        for (name, value) in &req.params {
            let Some(spec) = info.params.iter().find(|p| &p.name == name) else {
                let hint = crate::suggest::did_you_mean(name, &declared);
                let known = if declared.is_empty() { "it reads none".to_string() } else { declared.join(", ") };
                return Err(ApiError::bad_request(format!(
                    "{}: no param '{name}'{hint}; its params: {known}",
                    req.script
                )));
            };
            let kind = match spec.kind {
                // A string default that looks like a colour still takes any text.
                ParamKind::Color if spec.default.starts_with('#') => ParamKind::Text,
                k => k,
            };
            let parsed: ParamValue = kind.parse(name, value).map_err(|e| ApiError::bad_request(param_message(&e)))?;
            let range = crate::script::context::ParamRange { min: spec.min, max: spec.max, step: spec.step };
            range.check(name, &parsed).map_err(|e| ApiError::bad_request(param_message(&e)))?;
        }
        Ok(())
    }

    /// Runs the script for `req` (a cache miss) under the sandbox, the deadline, the cancel flag
    /// and the memory budget, encodes the result and stores it.
    pub fn render(&self, req: &Request, path: &Path, key: &str, cancel: Arc<AtomicBool>) -> Result<Rendered, ApiError> {
        let format = parse_format(&req.format)?;
        let started = Instant::now();
        let stopper = crate::cancel::Stopper::new(cancel.clone(), started, self.options.timeout);
        let _reserved = crate::memory::reserve_waiting(RENDER_RESERVE, "a render", &stopper)
            .map_err(|e| self.stopped(&e, &req.script))?;
        let scratch = self.scratch()?;
        let config = RunConfig {
            out_dir: Some(scratch.0.path().to_path_buf()),
            seed: req.seed,
            params: req.params.clone(),
            timeout: self.options.timeout,
            cancel: Some(cancel),
            // The recipe's paths are relative to the served folder, as the cache's are.
            recipe_root: Some(self.options.dir.clone()),
            ..RunConfig::new(path)
        };
        let host = self.host();
        let run = host.run_file(config);
        self.give_back(host);
        let outcome = run.map_err(|e| {
            let err = ApiError::from_script(&e, &self.options.dir);
            match e.kind {
                ErrorKind::Cancelled => self.stats.cancelled.fetch_add(1, Ordering::Relaxed),
                ErrorKind::Timeout => self.stats.timeouts.fetch_add(1, Ordering::Relaxed),
                _ => self.stats.failed.fetch_add(1, Ordering::Relaxed),
            };
            err
        })?;
        let Some(mut img) = outcome.images.into_iter().next() else {
            self.stats.failed.fetch_add(1, Ordering::Relaxed);
            return Err(ApiError::new(
                422,
                "runtime",
                format!("{}: the script's last value is not an image", req.script),
            ));
        };
        if let Some(w) = req.width.filter(|&w| w != img.width()) {
            let h = ((img.height() as f64 * w as f64 / img.width() as f64).round() as u32).max(1);
            img = crate::ops::geometry::resize(&img, w, h, crate::ops::geometry::Filter::Lanczos3)
                .map_err(|e| ApiError::new(413, "limit", e.to_string()))?;
        }
        // The run's own recipe: its inputs were hashed once, as they were read.
        let mut recipe = outcome.recipe.clone();
        recipe.script.clone_from(&req.script);
        // The response carries its recipe like every file kiln writes (provenance).
        let name = format!("render.{}", req.format);
        let body = io::encode_with(&img, format, &SaveOptions::default(), Path::new(&name), Some(&recipe))
            .map_err(|e| ApiError::new(422, "input", e.to_string()))?;
        let etag = cache_key(&recipe, &output_options(req));
        let entry = Entry { etag: etag.clone(), format: req.format.clone(), inputs: recipe.inputs, body };
        // A cache that cannot be written costs speed, not correctness.
        if let Err(e) = self.cache.put(key, &entry) {
            eprintln!("kiln serve: cannot write the cache: {e}");
        }
        self.stats.renders.fetch_add(1, Ordering::Relaxed);
        Ok(Rendered { body: entry.body, etag, content_type: content_type(format), cached: false })
    }

    fn stopped(&self, e: &crate::Error, script: &str) -> ApiError {
        match e {
            crate::Error::Cancelled(_) => {
                self.stats.cancelled.fetch_add(1, Ordering::Relaxed);
                ApiError::new(503, "cancelled", "the render was cancelled")
            }
            crate::Error::TimedOut(_) => {
                self.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                ApiError::new(422, "timeout", format!("{script}: {e} (waiting for memory)"))
            }
            _ => ApiError::new(413, "limit", e.to_string()),
        }
    }
}

/// A run's out folder (a script may `save`), removed when dropped.
struct Scratch(tempfile::TempDir);

/// The message of a param error without the op name prefix.
fn param_message(e: &crate::Error) -> String {
    match e {
        // `ParamKind::parse` words its message for the command line.
        crate::Error::Parameter { message, .. } => message.replace("--set gave", "the request gave"),
        other => other.to_string(),
    }
}

/// What the output depends on besides the recipe.
fn output_options(req: &Request) -> String {
    match req.width {
        Some(w) => format!("{} width={w}", canonical_format(&req.format)),
        None => canonical_format(&req.format).to_string(),
    }
}

fn canonical_format(f: &str) -> &str {
    match f {
        "jpeg" => "jpg",
        "tif" => "tiff",
        other => other,
    }
}

/// The key a request is looked up by: the recipe without its recorded inputs (known only after
/// a run; the entry stores them and the lookup re-checks them).
fn request_key(req: &Request, script_text: &[u8]) -> String {
    let mut recipe = Recipe::new(req.script.clone(), script_text);
    recipe.params = req.params.clone();
    recipe.seed = req.seed;
    cache_key(&recipe, &output_options(req))
}

/// The formats a render may ask for.
pub const FORMATS: &[&str] = &["png", "jpg", "jpeg", "webp", "tiff", "tif", "exr", "qoi", "bmp"];

/// `png` -> [`Format::Png`]; anything not in [`FORMATS`] is a 400.
pub fn parse_format(name: &str) -> Result<Format, ApiError> {
    if !FORMATS.contains(&name) {
        let shown: String = name.chars().take(40).collect();
        let hint = crate::suggest::did_you_mean(&shown, FORMATS);
        return Err(ApiError::bad_request(format!(
            "format '{shown}' is not supported{hint} (use {})",
            FORMATS.join(", ")
        )));
    }
    Format::from_path(Path::new(&format!("x.{name}"))).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// The Content-Type of a format.
pub fn content_type(format: Format) -> &'static str {
    match format {
        Format::Png => "image/png",
        Format::Jpeg => "image/jpeg",
        Format::Webp => "image/webp",
        Format::Tiff => "image/tiff",
        Format::Exr => "image/x-exr",
        Format::Hdr => "image/vnd.radiance",
        Format::Bmp => "image/bmp",
        Format::Qoi => "image/qoi",
        Format::Gif => "image/gif",
        _ => "application/octet-stream",
    }
}

/// A param's kind as `GET /scripts` names it.
pub fn kind_name(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Int => "int",
        ParamKind::Float => "float",
        ParamKind::Bool => "bool",
        ParamKind::Color => "color",
        ParamKind::Text => "text",
    }
}
