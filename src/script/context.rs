//! The state of one script run, reachable from every binding.
//!
//! Owns: [`RunConfig`] (what the caller asks for: paths, seed, params, frame; the one config that
//! `kiln run`, `kiln watch` and an embedder's `live::Session` all build), [`RunState`] (what a
//! run collects: shown panels, files it read, params it declared), the `param()` rules
//! ([`ParamKind::parse`], [`ParamRange`], [`resolve_param`]), the [`PathPolicy`] of DESIGN.md §5,
//! and the caches that outlive a run (decoded images keyed by path and mtime).
//!
//! The engine is built once, so per-run state cannot be captured by the registered functions.
//! Instead the engine's default tag holds one [`RunSlot`] for the host's lifetime; each run
//! installs a fresh `Arc<RunState>` in it and bindings read it through [`run_state`].

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Instant, SystemTime};

use rhai::{Dynamic, NativeCallContext};

use crate::error::{Error, Result};
use crate::image::{Color, Image};
use crate::recipe::Recipe;
use crate::script::convert::{fail, RhaiResult};

/// What the caller of a run decides. The command line validates its flags into one of these
/// (`cli::ScriptArgs::validate`); a live session takes one and sets `frame`, `cancel` and the
/// control overrides per run.
#[derive(Debug, Clone, Default)]
pub struct RunConfig {
    /// The script file (its folder is where `load` and `import` resolve).
    pub script: PathBuf,
    /// Where `save` writes; defaults to the current folder.
    pub out_dir: Option<PathBuf>,
    /// Extra folders `load` may read.
    pub allow_read: Vec<PathBuf>,
    /// The run's seed (`--seed`), used by every generator without an explicit seed.
    pub seed: i64,
    /// `--set name=value` pairs.
    pub params: Vec<(String, String)>,
    /// The frame number for animations (`frame()`).
    pub frame: i64,
    /// Frames per second (`time() = frame / fps`).
    pub fps: f64,
    /// Wall-clock limit for this run.
    pub timeout: Option<std::time::Duration>,
    /// Set to true from another thread to stop the run (watch mode's next save, Ctrl-C).
    pub cancel: Option<Arc<AtomicBool>>,
    /// Leave the recipe out of the images the run's `save` writes (`--no-provenance`).
    pub no_provenance: bool,
    /// The folder the recipe's paths are relative to (a build manifest's folder); default the
    /// current folder.
    pub recipe_root: Option<PathBuf>,
}

impl RunConfig {
    /// A config for `script` with the command line's defaults: seed 0, frame 0, 30 fps, no
    /// timeout, no params.
    pub fn new(script: impl Into<PathBuf>) -> RunConfig {
        RunConfig { script: script.into(), fps: 30.0, ..RunConfig::default() }
    }

    /// The `--set` names that are not in `declared` (the params the script reads), in the order
    /// given, each once.
    pub fn unknown_params(&self, declared: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for (name, _) in &self.params {
            if !declared.contains(name) && !out.contains(name) {
                out.push(name.clone());
            }
        }
        out
    }
}

/// The kind of control a `param()` declares, for the preview page, and how its `--set` text is
/// read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamKind {
    Int,
    Float,
    Bool,
    Color,
    Text,
}

/// A param's value, typed like its default.
#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Color(Color),
    Text(String),
}

impl ParamKind {
    /// Reads `--set name=text` (or a preview control's value) as a value of this kind.
    pub fn parse(self, name: &str, text: &str) -> Result<ParamValue> {
        let bad = |what: &str| Error::param("param", format!("'{name}' expects {what}, --set gave '{text}'"));
        Ok(match self {
            ParamKind::Int => ParamValue::Int(text.trim().parse().map_err(|_| bad("a whole number"))?),
            ParamKind::Float => {
                let x: f64 = text.trim().parse().map_err(|_| bad("a number"))?;
                ParamValue::Float(Some(x).filter(|x| x.is_finite()).ok_or_else(|| bad("a number"))?)
            }
            ParamKind::Bool => ParamValue::Bool(match text.trim() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" => false,
                _ => return Err(bad("true or false")),
            }),
            ParamKind::Color => {
                ParamValue::Color(Color::parse(text).map_err(|e| Error::param("param", format!("'{name}': {e}")))?)
            }
            ParamKind::Text => ParamValue::Text(text.to_string()),
        })
    }
}

impl ParamValue {
    /// How `--set` text for a param with this default is read.
    pub fn kind(&self) -> ParamKind {
        match self {
            ParamValue::Int(_) => ParamKind::Int,
            ParamValue::Float(_) => ParamKind::Float,
            ParamValue::Bool(_) => ParamKind::Bool,
            ParamValue::Color(_) => ParamKind::Color,
            ParamValue::Text(_) => ParamKind::Text,
        }
    }

    /// The control the preview shows: a string default that is a hex colour gets a colour
    /// picker (its value stays a string).
    pub fn control(&self) -> ParamKind {
        match self {
            ParamValue::Text(s) if s.starts_with('#') && Color::parse(s).is_ok() => ParamKind::Color,
            other => other.kind(),
        }
    }

    /// The value as a number, for the range check.
    pub fn as_number(&self) -> Option<f64> {
        match self {
            ParamValue::Int(i) => Some(*i as f64),
            ParamValue::Float(x) => Some(*x),
            _ => None,
        }
    }

    /// The value in the form `--set` takes.
    pub fn to_text(&self) -> String {
        match self {
            ParamValue::Int(i) => i.to_string(),
            ParamValue::Float(x) => x.to_string(),
            ParamValue::Bool(b) => b.to_string(),
            ParamValue::Color(c) => c.to_hex(),
            ParamValue::Text(s) => s.clone(),
        }
    }
}

crate::option_set! {
    /// The range of `param(name, default, #{ min, max, step })`, for the preview's slider; a
    /// value outside it is an error.
    pub struct ParamRange for "param" {
        /// Smallest allowed value.
        min: Option<f64> = None;
        /// Largest allowed value.
        max: Option<f64> = None;
        /// The slider's step.
        step: Option<f64> = None;
    }
}

impl ParamRange {
    /// Checks a numeric value against the range: `'radius' = 60 is outside its range 1 to 50`.
    pub fn check(&self, name: &str, value: &ParamValue) -> Result<()> {
        let Some(x) = value.as_number() else { return Ok(()) };
        let show = crate::options::show_number;
        let message = match (self.min, self.max) {
            (Some(lo), Some(hi)) if x < lo || x > hi => {
                format!("'{name}' = {} is outside its range {} to {}", show(x), show(lo), show(hi))
            }
            (Some(lo), None) if x < lo => format!("'{name}' = {} is below its minimum {}", show(x), show(lo)),
            (None, Some(hi)) if x > hi => format!("'{name}' = {} is above its maximum {}", show(x), show(hi)),
            _ => return Ok(()),
        };
        Err(Error::param("param", message))
    }
}

/// The value a `param()` call yields: the `given` text (`--set` or a preview control) read like
/// `default`, else `default`; checked against `range`. Returns the value and its [`ParamSpec`].
pub fn resolve_param(
    name: &str,
    default: &ParamValue,
    given: Option<&str>,
    range: &ParamRange,
) -> Result<(ParamValue, ParamSpec)> {
    let value = match given {
        Some(text) => default.kind().parse(name, text)?,
        None => default.clone(),
    };
    range.check(name, &value)?;
    let spec = ParamSpec {
        name: name.to_string(),
        kind: default.control(),
        default: default.to_text(),
        value: value.to_text(),
        min: range.min,
        max: range.max,
        step: range.step,
    };
    Ok((value, spec))
}

/// A parameter a script declared with `param(name, default, #{ min, max, step })`.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    pub name: String,
    pub kind: ParamKind,
    /// The default as text, in the form `--set` takes.
    pub default: String,
    /// The value this run used, as text.
    pub value: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub step: Option<f64>,
}

/// Reads and writes a run may do (DESIGN.md §5).
#[derive(Debug, Clone)]
pub struct PathPolicy {
    pub script_dir: PathBuf,
    pub out_dir: PathBuf,
    pub allow_read: Vec<PathBuf>,
}

impl PathPolicy {
    /// Resolves a script-relative path for reading and checks it is inside an allowed folder.
    pub fn readable(&self, path: &str) -> Result<PathBuf> {
        let p = normalize(&self.script_dir.join(path));
        let roots = std::iter::once(&self.script_dir).chain(std::iter::once(&self.out_dir)).chain(&self.allow_read);
        if roots.map(|r| normalize(r)).any(|r| p.starts_with(&r)) {
            Ok(p)
        } else {
            Err(Error::PathDenied {
                path: p,
                reason: "reading outside the script folder, the out folder and --allow-read folders is not allowed"
                    .into(),
            })
        }
    }

    /// [`PathPolicy::writable`], with the file's folder created: the one step every op that
    /// writes a file (`save`, `train_*`'s `out`) takes first.
    pub fn prepare_write(&self, path: &str) -> Result<PathBuf> {
        let full = self.writable(path)?;
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        Ok(full)
    }

    /// Resolves an out-folder-relative path for writing and checks it stays inside the out folder.
    pub fn writable(&self, path: &str) -> Result<PathBuf> {
        let out = normalize(&self.out_dir);
        let p = normalize(&out.join(path));
        if p.starts_with(&out) && p != out {
            Ok(p)
        } else {
            Err(Error::PathDenied { path: p, reason: "writes are allowed only inside the out folder (--out)".into() })
        }
    }
}

/// Makes a path absolute and removes `.` and `..` lexically (the file may not exist yet).
/// Symbolic links are resolved for the part of the path that exists, so a link cannot smuggle a
/// path out of an allowed folder.
pub fn normalize(path: &Path) -> PathBuf {
    let abs =
        if path.is_absolute() { path.to_path_buf() } else { std::env::current_dir().unwrap_or_default().join(path) };
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    // Resolve links in the longest existing prefix.
    let mut existing = out.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match existing.file_name() {
            Some(name) => {
                rest.push(name.to_owned());
                existing.pop();
            }
            None => break,
        }
    }
    let mut resolved = existing.canonicalize().unwrap_or(existing);
    for name in rest.into_iter().rev() {
        resolved.push(name);
    }
    resolved
}

/// What one run collects while it executes.
pub struct RunState {
    pub config: RunConfig,
    pub policy: PathPolicy,
    pub started: Instant,
    pub deadline: Option<Instant>,
    pub cancel: Arc<AtomicBool>,
    /// `show(img, label)` panels in call order.
    pub shown: Mutex<Vec<(String, Image)>>,
    /// `show(set, label)` PBR-set panels in call order.
    pub shown_sets: Mutex<Vec<(String, crate::image::PbrSet)>>,
    /// Every file the run read (images, models, fonts) — watch mode watches them.
    pub inputs: Mutex<Vec<PathBuf>>,
    /// Every file the run wrote.
    pub outputs: Mutex<Vec<PathBuf>>,
    /// Params the script declared.
    pub params: Mutex<Vec<ParamSpec>>,
    /// BLAKE3 of the script's text, hex (the host sets it).
    pub script_hash: String,
    /// The models the run loaded, in load order.
    pub models: Mutex<Vec<ModelRef>>,
    /// Content hashes of the files read, kept across the runs of one host.
    pub hashes: Arc<FileHashes>,
}

/// A model a run loaded, for its recipe.
#[derive(Debug, Clone, PartialEq)]
pub enum ModelRef {
    /// A shipped model, `std/<name>`, and the hash of its bytes.
    Shipped { name: String, hash: String },
    /// A model file (its full path; the recipe names it relative to its root).
    File(PathBuf),
}

/// BLAKE3 hashes of files, kept while a file's mtime and length are unchanged, so a watch
/// session does not hash an unchanged 4096² photo again on every run.
#[derive(Default)]
pub struct FileHashes {
    entries: Mutex<HashMap<PathBuf, (SystemTime, u64, String)>>,
}

impl FileHashes {
    /// The hash of `path`'s contents, hex; empty if it cannot be read.
    pub fn hash(&self, path: &Path) -> String {
        let stamp = std::fs::metadata(path).ok().map(|m| (m.modified().unwrap_or(SystemTime::UNIX_EPOCH), m.len()));
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let (Some(stamp), Some((t, len, hash))) = (stamp, entries.get(path)) {
            if (*t, *len) == stamp {
                return hash.clone();
            }
        }
        let hash = crate::recipe::hash_file(path).unwrap_or_default();
        if let Some((t, len)) = stamp {
            if entries.len() >= 4096 {
                entries.clear();
            }
            entries.insert(path.to_path_buf(), (t, len, hash.clone()));
        }
        hash
    }
}

/// `path` relative to `root` (both absolute and normalised), with `/` separators and `..` where
/// `path` is outside `root`: a recipe holds no absolute path, so two checkouts agree.
pub fn relative_path(path: &Path, root: &Path) -> String {
    let p: Vec<Component> = path.components().collect();
    let r: Vec<Component> = root.components().collect();
    let common = p.iter().zip(&r).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_string(), r.len() - common).collect();
    parts.extend(p[common..].iter().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

impl RunState {
    pub fn new(config: RunConfig) -> RunState {
        let script_dir = normalize(config.script.parent().unwrap_or(Path::new(".")));
        let out_dir = normalize(config.out_dir.as_deref().unwrap_or(Path::new(".")));
        let allow_read = config.allow_read.iter().map(|p| normalize(p)).collect();
        let started = Instant::now();
        RunState {
            policy: PathPolicy { script_dir, out_dir, allow_read },
            deadline: config.timeout.map(|t| started + t),
            cancel: config.cancel.clone().unwrap_or_default(),
            started,
            config,
            shown: Mutex::default(),
            shown_sets: Mutex::default(),
            inputs: Mutex::default(),
            outputs: Mutex::default(),
            params: Mutex::default(),
            script_hash: String::new(),
            models: Mutex::default(),
            hashes: Arc::default(),
        }
    }

    /// Records a model the run loaded.
    pub fn add_model(&self, model: ModelRef) {
        let mut models = self.models.lock().unwrap_or_else(|e| e.into_inner());
        if !models.contains(&model) {
            models.push(model);
        }
    }

    /// What made this run's images so far: the script (relative to the recipe root) and its
    /// hash, the files read with their hashes, the params given (sorted by name, the last
    /// `--set` of a name winning, as `param()` reads them), the seed and the models loaded.
    pub fn recipe(&self) -> Recipe {
        let root = normalize(self.config.recipe_root.as_deref().unwrap_or(Path::new(".")));
        let mut recipe = Recipe::new(relative_path(&normalize(&self.config.script), &root), b"");
        recipe.script_hash = self.script_hash.clone();
        let inputs = self.inputs.lock().unwrap_or_else(|e| e.into_inner()).clone();
        recipe.inputs = inputs.iter().map(|p| (relative_path(p, &root), self.hashes.hash(p))).collect();
        let mut params: Vec<(String, String)> = Vec::new();
        for (name, value) in self.config.params.iter().rev() {
            if !params.iter().any(|(n, _)| n == name) {
                params.push((name.clone(), value.clone()));
            }
        }
        params.sort();
        recipe.params = params;
        recipe.seed = self.config.seed;
        let models = self.models.lock().unwrap_or_else(|e| e.into_inner()).clone();
        recipe.models = models
            .into_iter()
            .map(|m| match m {
                ModelRef::Shipped { name, hash } => (name, hash),
                ModelRef::File(path) => (relative_path(&path, &root), self.hashes.hash(&path)),
            })
            .collect();
        recipe
    }

    /// True once the run should stop (cancelled by the caller).
    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Records a file the run read.
    pub fn add_input(&self, path: &Path) {
        let mut inputs = self.inputs.lock().unwrap_or_else(|e| e.into_inner());
        if !inputs.iter().any(|p| p == path) {
            inputs.push(path.to_path_buf());
        }
    }
}

/// Decoded images keyed by path, kept while the file's mtime and length are unchanged.
///
/// Off by default: in a one-shot `kiln run` a cached copy only holds memory and stops ops from
/// editing a loaded image in place (the cache's clone makes it shared). Watch mode turns it on,
/// where not decoding a 4096² photo again on every save is the point.
#[derive(Default)]
pub struct ImageCache {
    enabled: AtomicBool,
    entries: Mutex<HashMap<PathBuf, (SystemTime, u64, Image)>>,
}

impl ImageCache {
    /// Turns caching on or off (off drops what is cached).
    pub fn set_enabled(&self, on: bool) {
        self.enabled.store(on, Ordering::Relaxed);
        if !on {
            self.entries.lock().unwrap_or_else(|e| e.into_inner()).clear();
        }
    }

    /// Number of cached images.
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// True when nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Loads `path`, or returns the cached decode if the file has not changed.
    pub fn load(&self, path: &Path) -> Result<Image> {
        if !self.enabled.load(Ordering::Relaxed) {
            return crate::image::io::load(path);
        }
        let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let stamp = (meta.modified().unwrap_or(SystemTime::UNIX_EPOCH), meta.len());
        if let Some((t, len, img)) = self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
            if (*t, *len) == stamp {
                return Ok(img.clone());
            }
        }
        let img = crate::image::io::load(path)?;
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Bound the cache: a long watch session must not hold every version ever loaded.
        if entries.len() >= 64 {
            entries.clear();
        }
        entries.insert(path.to_path_buf(), (stamp.0, stamp.1, img.clone()));
        Ok(img)
    }
}

/// The host-lifetime holder of the current run, stored in the engine's default tag.
#[derive(Default)]
pub struct RunSlot {
    current: RwLock<Option<Arc<RunState>>>,
    /// Decoded images shared across runs (watch mode must not decode a 4096² photo again).
    pub images: ImageCache,
    /// File hashes for the runs' recipes, shared across runs like the decoded images.
    pub hashes: Arc<FileHashes>,
}

impl RunSlot {
    pub fn install(&self, state: Arc<RunState>) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = Some(state);
    }

    pub fn clear(&self) {
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = None;
    }

    pub fn current(&self) -> Option<Arc<RunState>> {
        self.current.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// The `Dynamic` wrapper that carries the slot in the engine tag.
#[derive(Clone)]
pub struct SlotTag(pub Arc<RunSlot>);

/// The slot of the engine this call runs in.
pub fn slot(ctx: &NativeCallContext) -> RhaiResult<Arc<RunSlot>> {
    ctx.tag()
        .and_then(|t: &Dynamic| t.clone().try_cast::<SlotTag>())
        .map(|t| t.0)
        .ok_or_else(|| fail("kiln", "this function needs a kiln script host"))
}

/// The state of the run this call belongs to.
pub fn run_state(ctx: &NativeCallContext) -> RhaiResult<Arc<RunState>> {
    slot(ctx)?.current().ok_or_else(|| fail("kiln", "no script run in progress"))
}

/// The run's seed (`--seed`), for a generator given none.
pub fn run_seed(ctx: &NativeCallContext) -> RhaiResult<u64> {
    Ok(run_state(ctx)?.config.seed as u64)
}

/// A generator's own seed if the script gave one, else the run's seed: the one rule every
/// seeded op follows.
pub fn seed_or_run(ctx: &NativeCallContext, seed: Option<u64>) -> RhaiResult<u64> {
    match seed {
        Some(s) => Ok(s),
        None => run_seed(ctx),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_text_is_read_like_the_default() {
        assert_eq!(ParamKind::Int.parse("n", " 7 ").unwrap(), ParamValue::Int(7));
        assert_eq!(ParamKind::Float.parse("f", "2").unwrap(), ParamValue::Float(2.0));
        assert_eq!(ParamKind::Bool.parse("b", "on").unwrap(), ParamValue::Bool(true));
        assert_eq!(ParamKind::Text.parse("t", "a b").unwrap(), ParamValue::Text("a b".into()));
        assert!(matches!(ParamKind::Color.parse("c", "red").unwrap(), ParamValue::Color(_)));
        let e = ParamKind::Int.parse("n", "7.5").unwrap_err().to_string();
        assert_eq!(e, "param: 'n' expects a whole number, --set gave '7.5'");
        assert!(ParamKind::Float.parse("f", "NaN").is_err());
        assert!(ParamKind::Bool.parse("b", "maybe").unwrap_err().to_string().contains("true or false"));
    }

    #[test]
    fn the_range_error_is_words() {
        let range = ParamRange { min: Some(1.0), max: Some(50.0), step: None };
        let e = resolve_param("radius", &ParamValue::Float(3.0), Some("60"), &range).unwrap_err();
        assert_eq!(e.to_string(), "param: 'radius' = 60 is outside its range 1 to 50");
        let below = ParamRange { min: Some(0.5), ..ParamRange::default() };
        let e = resolve_param("k", &ParamValue::Int(1), Some("0"), &below).unwrap_err();
        assert_eq!(e.to_string(), "param: 'k' = 0 is below its minimum 0.5");
        let (v, spec) = resolve_param("radius", &ParamValue::Float(3.0), Some("12.5"), &range).unwrap();
        assert_eq!(v, ParamValue::Float(12.5));
        assert_eq!((spec.default.as_str(), spec.value.as_str(), spec.max), ("3", "12.5", Some(50.0)));
    }

    #[test]
    fn a_hex_string_default_gets_a_colour_control_and_stays_a_string() {
        let (v, spec) =
            resolve_param("tint", &ParamValue::Text("#ff0000".into()), Some("#00ff00"), &ParamRange::default())
                .unwrap();
        assert_eq!(v, ParamValue::Text("#00ff00".into()));
        assert_eq!(spec.kind, ParamKind::Color);
    }

    #[test]
    fn recipe_paths_are_relative_to_the_root() {
        let root = Path::new("/work/game");
        assert_eq!(relative_path(Path::new("/work/game/scripts/wood.rhai"), root), "scripts/wood.rhai");
        assert_eq!(relative_path(Path::new("/work/lib/m.rhai"), root), "../lib/m.rhai");
        assert_eq!(relative_path(Path::new("/work/game"), root), ".");
    }

    #[test]
    fn a_recipe_holds_the_last_value_of_each_param_sorted() {
        let mut c = RunConfig::new("s.rhai");
        c.params = vec![("b".into(), "1".into()), ("a".into(), "2".into()), ("b".into(), "3".into())];
        c.seed = 9;
        let mut state = RunState::new(c);
        state.script_hash = "abc".into();
        state.add_model(ModelRef::Shipped { name: "std/m".into(), hash: "h".into() });
        state.add_model(ModelRef::Shipped { name: "std/m".into(), hash: "h".into() });
        let r = state.recipe();
        assert_eq!(r.params, vec![("a".to_string(), "2".to_string()), ("b".to_string(), "3".to_string())]);
        assert_eq!((r.script.as_str(), r.script_hash.as_str(), r.seed), ("s.rhai", "abc", 9));
        assert_eq!(r.models, vec![("std/m".to_string(), "h".to_string())]);
    }

    #[test]
    fn unknown_params_are_listed_once_in_order() {
        let mut c = RunConfig::new("s.rhai");
        c.params = vec![("b".into(), "1".into()), ("a".into(), "2".into()), ("b".into(), "3".into())];
        assert_eq!(c.unknown_params(&["a".to_string()]), vec!["b".to_string()]);
    }
}
