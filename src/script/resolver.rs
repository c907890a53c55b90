//! `import` resolution: `std/...` from the embedded stdlib, everything else relative to the
//! importing script and only inside the folders a run may read.
//!
//! Owns: the module resolver, the module caches (stdlib compiled once per host, file modules
//! per path and mtime) and the table of module sources used to print diagnostics.
//!
//! Why not Rhai's `FileModuleResolver`: it happily follows `../../etc/x` and absolute paths, and
//! it cannot serve modules embedded in the binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

type SharedModule = Shared<Module>;

use crate::script::context::{normalize, RunSlot};

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));
}

/// The embedded stdlib source of `std/<name>`.
pub fn stdlib_source(name: &str) -> Option<&'static str> {
    embedded::MODULES.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Names of the embedded stdlib modules.
pub fn stdlib_names() -> impl Iterator<Item = &'static str> {
    embedded::MODULES.iter().map(|(n, _)| *n)
}

/// kiln's module resolver.
pub struct Resolver {
    slot: Arc<RunSlot>,
    std_modules: Mutex<HashMap<String, SharedModule>>,
    file_modules: Mutex<HashMap<PathBuf, (SystemTime, SharedModule)>>,
    /// Source text by source name, for diagnostics inside modules.
    sources: Mutex<HashMap<String, String>>,
    /// File modules being compiled now, outermost first: an import of one of them is a cycle
    /// (which would otherwise recurse until the stack overflows).
    loading: Mutex<Vec<PathBuf>>,
}

impl Resolver {
    pub fn new(slot: Arc<RunSlot>) -> Resolver {
        Resolver {
            slot,
            std_modules: Mutex::default(),
            file_modules: Mutex::default(),
            sources: Mutex::default(),
            loading: Mutex::default(),
        }
    }

    /// The text of a module seen by this resolver, by its source name.
    pub fn source_text(&self, name: &str) -> Option<String> {
        if let Some(std) = name.strip_prefix("std/") {
            return stdlib_source(std).map(str::to_string);
        }
        self.sources.lock().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }

    fn compile(
        &self,
        engine: &Engine,
        name: &str,
        text: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        let in_module = |err: Box<EvalAltResult>| Box::new(EvalAltResult::ErrorInModule(name.to_string(), err, pos));
        let mut ast = engine.compile(text).map_err(|e| in_module(e.into()))?;
        ast.set_source(name);
        let user_module = !name.starts_with("std/");
        if let Some(c) = crate::script::shadowing::first_collision(&ast, text).filter(|_| user_module) {
            let pos = c.line_col.map_or(Position::NONE, |(l, col)| Position::new(l as u16, col as u16));
            return Err(in_module(Box::new(EvalAltResult::ErrorRuntime(c.message.into(), pos))));
        }
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine).map_err(in_module)?;
        Ok(module.into())
    }

    fn resolve_std(&self, engine: &Engine, name: &str, pos: Position) -> Result<SharedModule, Box<EvalAltResult>> {
        if let Some(m) = self.std_modules.lock().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Ok(m.clone());
        }
        let text = stdlib_source(name).ok_or_else(|| {
            let known: Vec<_> = stdlib_names().map(|n| format!("std/{n}")).collect();
            Box::new(EvalAltResult::ErrorRuntime(
                format!("import: no stdlib module 'std/{name}' (available: {})", known.join(", ")).into(),
                pos,
            ))
        })?;
        let module = self.compile(engine, &format!("std/{name}"), text, pos)?;
        self.std_modules.lock().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), module.clone());
        Ok(module)
    }

    fn resolve_file(
        &self,
        engine: &Engine,
        importer: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        let runtime = |msg: String| Box::new(EvalAltResult::ErrorRuntime(msg.into(), pos));
        let run = self.slot.current().ok_or_else(|| runtime("import: no script run in progress".into()))?;
        let base = importer
            .filter(|s| !s.starts_with("std/"))
            .and_then(|s| Path::new(s).parent().map(Path::to_path_buf))
            .unwrap_or_else(|| run.policy.script_dir.clone());
        let mut file = PathBuf::from(path);
        if file.extension().is_none() {
            file.set_extension("rhai");
        }
        let full = normalize(&base.join(&file));
        let allowed = std::iter::once(&run.policy.script_dir)
            .chain(std::iter::once(&run.policy.out_dir))
            .chain(&run.policy.allow_read)
            .any(|root| full.starts_with(root));
        if !allowed {
            return Err(runtime(format!(
                "import: '{path}' resolves to {} which is outside the folders this run may read (the script folder, --out and --allow-read)",
                full.display()
            )));
        }
        let mtime = std::fs::metadata(&full)
            .and_then(|m| m.modified())
            .map_err(|e| runtime(format!("import: cannot read module '{path}' ({}): {e}", full.display())))?;
        run.add_input(&full);
        if let Some((t, m)) = self.file_modules.lock().unwrap_or_else(|e| e.into_inner()).get(&full) {
            if *t == mtime {
                return Ok(m.clone());
            }
        }
        let bytes =
            std::fs::read(&full).map_err(|e| runtime(format!("import: cannot read {}: {e}", full.display())))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| runtime(format!("import: {} is not valid UTF-8 text", full.display())))?;
        // Diagnostics read better with a path relative to where kiln was started.
        let cwd = std::env::current_dir().map(|d| normalize(&d)).unwrap_or_default();
        let name = full.strip_prefix(&cwd).unwrap_or(&full).display().to_string();
        self.sources.lock().unwrap_or_else(|e| e.into_inner()).insert(name.clone(), text.clone());
        let _loading = self.enter(&full, &cwd).map_err(runtime)?;
        let module = self.compile(engine, &name, &text, pos)?;
        self.file_modules.lock().unwrap_or_else(|e| e.into_inner()).insert(full, (mtime, module.clone()));
        Ok(module)
    }
}

/// Pops a module off the loading stack when its compile ends, however it ends.
struct Loading<'a>(&'a Mutex<Vec<PathBuf>>);

impl Drop for Loading<'_> {
    fn drop(&mut self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).pop();
    }
}

impl Resolver {
    /// Marks `full` as being compiled, or names the cycle if it already is.
    fn enter(&self, full: &Path, cwd: &Path) -> Result<Loading<'_>, String> {
        let mut loading = self.loading.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(at) = loading.iter().position(|p| p == full) {
            let show = |p: &PathBuf| p.strip_prefix(cwd).unwrap_or(p).display().to_string();
            let chain: Vec<String> =
                loading[at..].iter().chain(std::iter::once(&full.to_path_buf())).map(show).collect();
            return Err(format!("import: a cycle of imports: {}", chain.join(" imports ")));
        }
        loading.push(full.to_path_buf());
        Ok(Loading(&self.loading))
    }
}

impl ModuleResolver for Resolver {
    fn resolve(
        &self,
        engine: &Engine,
        source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<SharedModule, Box<EvalAltResult>> {
        match path.strip_prefix("std/") {
            Some(name) => self.resolve_std(engine, name, pos),
            None => self.resolve_file(engine, source, path, pos),
        }
    }
}
