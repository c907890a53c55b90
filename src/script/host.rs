//! The script host: one Rhai engine, built once, with kiln's packages, limits, resolver and
//! print/debug hooks; and the run loop that turns a script into images.
//!
//! Owns: [`Host`], [`Outcome`] and the mapping of a script's last value to its result: an
//! Image, an array of Images, or a PBR set (a map with `albedo` and `normal` Images, see
//! `script::pbr`).
//! Must not know about the command line or the preview server; `live` and `cli` drive it.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rhai::{Array, Dynamic, Engine, Scope, AST};

use crate::image::{Image, PbrSet};
use crate::limits::Limits;
use crate::recipe::Recipe;
use crate::script::api;
use crate::script::context::{ParamSpec, RunConfig, RunSlot, RunState, SlotTag};
use crate::script::diagnostic::{ErrorKind, FnSig, ScriptError, Stop};
use crate::script::pbr::SetValue;
use crate::script::resolver::Resolver;

/// What a successful run produced.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// The script's result: its last expression if that is an Image or an array of Images.
    pub images: Vec<Image>,
    /// `show(img, label)` panels in call order.
    pub shown: Vec<(String, Image)>,
    /// The script's result when its last expression is a PBR set (see `script::pbr`).
    pub set: Option<PbrSet>,
    /// `show(set, label)` PBR-set panels in call order.
    pub shown_sets: Vec<(String, PbrSet)>,
    /// Files the run read (the script's imports, images, models): what watch mode watches.
    pub inputs: Vec<PathBuf>,
    /// Files the run wrote with `save`.
    pub outputs: Vec<PathBuf>,
    /// Parameters the script declared with `param()`.
    pub params: Vec<ParamSpec>,
    /// What made the result (script, inputs read, params, seed, models): the provenance the
    /// command line writes into `-o` files, and what `kiln build` keys its cache with.
    pub recipe: Recipe,
    /// Time spent compiling.
    pub compile_time: Duration,
    /// Time spent running.
    pub run_time: Duration,
}

/// A compiled script and the name its diagnostics use.
#[derive(Clone)]
pub struct Compiled {
    pub ast: AST,
    pub source_name: String,
    pub text: Arc<str>,
    pub compile_time: Duration,
}

/// The Rhai engine with every kiln package registered. Build it once and run many scripts.
pub struct Host {
    engine: Engine,
    slot: Arc<RunSlot>,
    resolver: Arc<Resolver>,
    limits: Limits,
}

impl Default for Host {
    fn default() -> Host {
        Host::new(Limits::default())
    }
}

impl Host {
    /// Builds the engine with `limits`. The pixel ceiling is process-wide (see `limits.rs`), so
    /// building a host sets it.
    pub fn new(limits: Limits) -> Host {
        crate::limits::set_max_pixels(limits.max_pixels);
        crate::memory::set_budget(limits.max_memory);
        let slot = Arc::new(RunSlot::default());
        let resolver = Arc::new(Resolver::new(slot.clone()));
        let mut engine = Engine::new();
        engine
            .set_max_operations(limits.max_operations)
            .set_max_call_levels(limits.max_call_depth)
            .set_max_expr_depths(limits.max_expr_depth, limits.max_expr_depth)
            // No data-size limits in Rhai: with any of them set, Rhai re-measures a whole array
            // after every `push`, which makes collecting points quadratic (200k pushes took
            // 11 s). Containers are bounded by the memory budget instead (the progress hook).
            .set_max_string_size(0)
            .set_max_array_size(0)
            .set_max_map_size(0)
            .set_max_modules(256);
        // `eval` would run code that never went through the resolver's or the diagnostics' hands.
        engine.disable_symbol("eval");
        engine.set_default_tag(Dynamic::from(SlotTag(slot.clone())));
        engine.set_module_resolver(ResolverHandle(resolver.clone()));

        engine.on_progress(move |ops| {
            // Checking the clock on every operation would cost more than the script; every 1024
            // operations is well under a millisecond of script time. The token is the run's, the
            // same one the built-in ops check between rows (`crate::cancel`).
            if ops % 1024 != 0 {
                return None;
            }
            if ops % MEMORY_CHECK_OPS == 0 {
                if let Err(e) = script_memory_within_budget() {
                    return Some(Dynamic::from(Stop::OverBudget(e.to_string())));
                }
            }
            match crate::cancel::checkpoint() {
                Ok(()) => None,
                Err(crate::Error::TimedOut(limit)) => Some(Dynamic::from(Stop::Timeout(limit.as_secs_f64()))),
                Err(_) => Some(Dynamic::from(Stop::Cancelled)),
            }
        });
        // A closed stdout or stderr (`kiln run s.rhai | head -1`) must not stop the script: its
        // work is the images, so print and debug lines nobody can read are dropped
        // (`println!` would panic).
        engine.on_print(|text| {
            use std::io::Write;
            let _ = writeln!(std::io::stdout().lock(), "{text}");
        });
        engine.on_debug(|text, source, pos| {
            use std::io::Write;
            let mut err = std::io::stderr().lock();
            let _ = match (source, pos.line()) {
                (Some(src), Some(line)) => {
                    writeln!(err, "{src}:{line}:{}: debug: {text}", pos.position().unwrap_or(1))
                }
                _ => writeln!(err, "debug: {text}"),
            };
        });
        api::register_all(&mut engine);
        Host { engine, slot, resolver, limits }
    }

    /// The engine, to inspect registered functions.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The engine, to register a host's own functions and types before running scripts.
    pub fn engine_mut(&mut self) -> &mut Engine {
        &mut self.engine
    }

    /// Keeps decoded images across runs, keyed by path and mtime (watch mode turns this on).
    pub fn keep_decoded_images(&self, on: bool) {
        self.slot.images.set_enabled(on);
    }

    /// Number of decoded images kept across runs.
    pub fn kept_images(&self) -> usize {
        self.slot.images.len()
    }

    /// The limits this host was built with.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    fn lookup(&self, main_name: &str, main_text: &str) -> impl Fn(&str) -> Option<String> + '_ {
        let (main_name, main_text) = (main_name.to_string(), main_text.to_string());
        move |name: &str| if name == main_name { Some(main_text.clone()) } else { self.resolver.source_text(name) }
    }

    /// Compiles script text; `source_name` is the path shown in diagnostics.
    pub fn compile(&self, source_name: &str, text: &str) -> Result<Compiled, ScriptError> {
        let start = Instant::now();
        let mut ast = self
            .engine
            .compile(text)
            .map_err(|e| ScriptError::from_parse(&e, source_name, &self.lookup(source_name, text)))?;
        ast.set_source(source_name);
        if let Some(c) = crate::script::shadowing::first_collision(&ast, text) {
            let pos = c.line_col.map_or(rhai::Position::NONE, |(l, col)| rhai::Position::new(l as u16, col as u16));
            return Err(ScriptError::compile_at(c.message, source_name, pos, &self.lookup(source_name, text)));
        }
        Ok(Compiled { ast, source_name: source_name.to_string(), text: text.into(), compile_time: start.elapsed() })
    }

    /// The params the compiled script at `script` reads, found without running it (see
    /// `script::scan`); `None` when that cannot be told before the run (a computed name).
    pub fn param_names(&self, compiled: &Compiled, script: &Path) -> Option<Vec<String>> {
        crate::script::scan::param_names(&self.engine, &compiled.ast, script)
    }

    /// Reads and compiles a script file.
    pub fn compile_file(&self, path: &Path) -> Result<Compiled, ScriptError> {
        let name = path.display().to_string();
        let bytes = std::fs::read(path)
            .map_err(|e| ScriptError::plain(ErrorKind::Compile, format!("{name}: cannot read script: {e}")))?;
        let text = String::from_utf8(bytes).map_err(|e| {
            ScriptError::plain(
                ErrorKind::Compile,
                format!(
                    "{name}: the script is not valid UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })?;
        self.compile(&name, &text)
    }

    /// Compiles and runs the script file named in `config`.
    pub fn run_file(&self, config: RunConfig) -> Result<Outcome, ScriptError> {
        let compiled = self.compile_file(&config.script)?;
        self.run(&compiled, config)
    }

    /// Runs a compiled script.
    pub fn run(&self, compiled: &Compiled, config: RunConfig) -> Result<Outcome, ScriptError> {
        let start = Instant::now();
        let mut state = RunState::new(config);
        state.script_hash = crate::recipe::hash_bytes(compiled.text.as_bytes());
        state.hashes = self.slot.hashes.clone();
        let state = Arc::new(state);
        self.slot.install(state.clone());
        let mut scope = Scope::new();
        let stopper = crate::cancel::Stopper::new(state.cancel.clone(), state.started, state.config.timeout);
        let result =
            crate::cancel::scope(stopper, || self.engine.eval_ast_with_scope::<Dynamic>(&mut scope, &compiled.ast));
        self.slot.clear();
        let run_time = start.elapsed();
        let value = result.map_err(|e| {
            ScriptError::from_eval(
                &e,
                &compiled.source_name,
                &self.lookup(&compiled.source_name, &compiled.text),
                &|| self.functions(&compiled.ast),
            )
        })?;
        // Before the inputs are taken out of the state.
        let recipe = state.recipe();
        let set = match crate::script::pbr::set_value(&value) {
            SetValue::Set(set) => Some(*set),
            SetValue::NotASet => None,
            SetValue::Bad(message) => {
                // The result has no call site to point at; the message names the script.
                let error = crate::Error::param("result", message);
                let mut e = ScriptError::plain(ErrorKind::of(&error), format!("{}: {error}", compiled.source_name));
                e.error = Some(Arc::new(error));
                return Err(e);
            }
        };
        Ok(Outcome {
            images: result_images(value),
            set,
            shown_sets: take(&state.shown_sets),
            shown: take(&state.shown),
            inputs: take(&state.inputs),
            outputs: take(&state.outputs),
            params: take(&state.params),
            recipe,
            compile_time: compiled.compile_time,
            run_time,
        })
    }

    /// Every function a script can call: the registered built-ins and the script's own.
    fn functions(&self, ast: &AST) -> Vec<FnSig> {
        let mut out: Vec<FnSig> =
            self.engine.gen_fn_signatures(false).iter().filter_map(|s| parse_signature(s)).collect();
        out.extend(
            ast.iter_functions()
                .map(|f| FnSig { name: f.name.to_string(), params: f.params.iter().map(|p| p.to_string()).collect() }),
        );
        out
    }

    /// The script API reference in Markdown, from the registered functions' doc comments.
    pub fn api_reference(&self) -> String {
        crate::script::doc::markdown()
    }
}

/// How often (in script operations) the progress hook measures the process's memory: reading
/// `/proc/self/statm` costs a few microseconds, about 1% of 65536 operations.
const MEMORY_CHECK_OPS: u64 = 1 << 16;

/// Slack over the budget before a script's own data is blamed: the budget counts images and
/// tensors exactly, while resident memory also holds the binary, the thread stacks and the
/// allocator's spare pages.
const RESIDENT_SLACK: u64 = 512 << 20;

/// The bound on a script's arrays, maps and strings: the process may not grow past the memory
/// budget (plus slack) while the script runs.
fn script_memory_within_budget() -> crate::Result<()> {
    let budget = crate::memory::budget();
    match crate::memory::resident_bytes() {
        Some(rss) if rss > budget.saturating_add(RESIDENT_SLACK) => Err(crate::Error::Limit(format!(
            "the run uses {} of memory, over the memory budget of {} (arrays, maps and strings count too); \
             raise it with --max-memory",
            crate::memory::show_bytes(rss),
            crate::memory::show_bytes(budget)
        ))),
        _ => Ok(()),
    }
}

/// `name(a: A, b: B) -> R` as Rhai's metadata prints a signature.
fn parse_signature(sig: &str) -> Option<FnSig> {
    let (name, rest) = sig.split_once('(')?;
    let params = rest.rsplit_once(')')?.0;
    let params = if params.trim().is_empty() {
        Vec::new()
    } else {
        // Generic types (`Result<A, B>`) do not appear in parameter lists, so a comma splits.
        params.split(", ").map(|p| p.trim().to_string()).collect()
    };
    Some(FnSig { name: name.trim().to_string(), params })
}

fn take<T>(m: &std::sync::Mutex<Vec<T>>) -> Vec<T> {
    std::mem::take(&mut *m.lock().unwrap_or_else(|e| e.into_inner()))
}

/// The images in a script's last value: an Image, or an array whose Images are kept in order.
fn result_images(value: Dynamic) -> Vec<Image> {
    if let Some(img) = value.clone().try_cast::<Image>() {
        return vec![img];
    }
    if let Some(arr) = value.try_cast::<Array>() {
        return arr.into_iter().filter_map(|v| v.try_cast::<Image>()).collect();
    }
    Vec::new()
}

/// Rhai wants to own its resolver; the host keeps a handle to read module sources.
struct ResolverHandle(Arc<Resolver>);

impl rhai::ModuleResolver for ResolverHandle {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: rhai::Position,
    ) -> Result<rhai::Shared<rhai::Module>, Box<rhai::EvalAltResult>> {
        self.0.resolve(engine, source, path, pos)
    }
}
