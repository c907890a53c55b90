//! Script errors as compiler-style diagnostics: `path:line:col: message`, the source line with a
//! caret under the column, then one frame per nested function or module call.
//!
//! Owns: [`ScriptError`] and the walk over Rhai's nested `EvalAltResult`. Must not know how
//! scripts are run; the host hands it the error and a way to find source text by name.

use std::fmt;

use std::sync::Arc;

use rhai::{EvalAltResult, ParseError, Position};

use crate::error::Error;
use crate::script::convert::fault_of;

/// Why a run failed: what kind of fault it was, read from the typed error, never from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The script (or an imported module) does not parse, or defines something it may not.
    Compile,
    /// The script's own logic failed: a `throw`, a wrong type, an unknown function.
    Runtime,
    /// A built-in was given a bad value: out of range, NaN, an unknown option or palette.
    Input,
    /// A size, count or budget over its limit.
    Limit,
    /// A file could not be read, decoded, written or encoded, or a path was not allowed.
    Io,
    /// A model file is broken, or a model call does not suit the model.
    Model,
    /// The run went past its wall-clock limit (`--timeout`).
    Timeout,
    /// The run was cancelled by its caller (a newer save in watch mode, Ctrl-C).
    Cancelled,
    /// kiln itself failed: a bug to report.
    Internal,
}

impl ErrorKind {
    /// The kind of a kiln error.
    pub fn of(e: &Error) -> ErrorKind {
        match e {
            Error::Parameter { .. } | Error::Unsupported(_) => ErrorKind::Input,
            Error::Limit(_) => ErrorKind::Limit,
            Error::PathDenied { .. } | Error::Decode { .. } | Error::Io { .. } | Error::Encode { .. } => ErrorKind::Io,
            Error::Model { .. } | Error::Disabled(_) => ErrorKind::Model,
            Error::Cancelled(_) => ErrorKind::Cancelled,
            Error::TimedOut(_) => ErrorKind::Timeout,
            _ => ErrorKind::Internal,
        }
    }
}

/// Why the host stopped a run from outside: the token its progress hook hands to Rhai.
#[derive(Debug, Clone, PartialEq)]
pub enum Stop {
    /// The caller set the run's cancel flag.
    Cancelled,
    /// The run passed its deadline; the limit in seconds.
    Timeout(f64),
    /// The run's memory grew past the budget; the message says by how much.
    OverBudget(String),
}

/// A place in a script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub source: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.source, self.line, self.column)
    }
}

/// One step of the call chain, innermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// "in call to function 'soften'" or "in module 'lib/util'".
    pub what: String,
    pub location: Option<Location>,
}

/// An error a script caused, ready to print.
#[derive(Debug, Clone)]
pub struct ScriptError {
    pub kind: ErrorKind,
    /// The typed kiln error behind the message, when a built-in raised it.
    pub error: Option<Arc<Error>>,
    pub message: String,
    pub location: Option<Location>,
    /// The source line at `location`, if known.
    pub line_text: Option<String>,
    /// The call chain, innermost first (boxed: it is set once, and a smaller error keeps every
    /// `Result` of the host small).
    pub frames: Box<[Frame]>,
}

impl std::error::Error for ScriptError {}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{loc}: {}", self.message)?,
            None => write!(f, "{}", self.message)?,
        }
        if let (Some(loc), Some(text)) = (&self.location, &self.line_text) {
            let gutter = loc.line.to_string().len();
            write!(f, "\n{:>gutter$} |\n{} | {}", "", loc.line, text.trim_end())?;
            // The caret sits under the column, counting characters (tabs kept so it lines up).
            let pad: String =
                text.chars().take(loc.column.saturating_sub(1)).map(|c| if c == '\t' { '\t' } else { ' ' }).collect();
            write!(f, "\n{:>gutter$} | {pad}^", "")?;
        }
        for frame in &self.frames {
            match &frame.location {
                Some(loc) => write!(f, "\n  {} at {loc}", frame.what)?,
                None => write!(f, "\n  {}", frame.what)?,
            }
        }
        Ok(())
    }
}

impl ScriptError {
    /// An error with no script position (e.g. writing the `-o` output failed).
    pub fn plain(kind: ErrorKind, message: impl Into<String>) -> ScriptError {
        ScriptError {
            kind,
            error: None,
            message: message.into(),
            location: None,
            line_text: None,
            frames: Box::default(),
        }
    }

    /// From a parse error in `source`.
    pub fn from_parse(err: &ParseError, source: &str, lookup: &dyn Fn(&str) -> Option<String>) -> ScriptError {
        let mut e = ScriptError::plain(ErrorKind::Compile, format!("syntax error: {}", err.0));
        e.set_location(source, err.1, lookup);
        e
    }

    /// A compile error kiln itself finds (not Rhai's parser) at `pos` in `source`.
    pub fn compile_at(
        message: String,
        source: &str,
        pos: Position,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> ScriptError {
        let mut e = ScriptError::plain(ErrorKind::Compile, message);
        e.set_location(source, pos, lookup);
        e
    }

    /// From a runtime error raised while running `source`. `functions` lists the callable
    /// functions (asked for only when a call found none, for the did-you-mean).
    pub fn from_eval(
        err: &EvalAltResult,
        source: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
        functions: &dyn Fn() -> Vec<FnSig>,
    ) -> ScriptError {
        let mut frames = Vec::new();
        let mut current_source = source.to_string();
        let mut e = err;
        loop {
            match e {
                EvalAltResult::ErrorInFunctionCall(name, src, inner, pos) => {
                    let what = if name.starts_with("anon$") {
                        "in closure call".to_string()
                    } else {
                        format!("in call to function '{name}'")
                    };
                    frames.push(Frame { what, location: location(&current_source, *pos) });
                    if !src.is_empty() {
                        current_source = src.clone();
                    }
                    e = inner;
                }
                EvalAltResult::ErrorInModule(name, inner, pos) => {
                    frames
                        .push(Frame { what: format!("in module '{name}'"), location: location(&current_source, *pos) });
                    current_source = name.clone();
                    e = inner;
                }
                _ => break,
            }
        }
        let mut error = None;
        let (kind, message) = match e {
            EvalAltResult::ErrorRuntime(d, _) => match fault_of(d) {
                Some(fault) => {
                    let kind = ErrorKind::of(&fault);
                    let message = fault.to_string();
                    error = Some(fault);
                    (kind, message)
                }
                None => (ErrorKind::Runtime, d.to_string()),
            },
            EvalAltResult::ErrorTerminated(token, _) => match token.clone().try_cast::<Stop>() {
                Some(Stop::Timeout(secs)) => {
                    (ErrorKind::Timeout, Error::TimedOut(std::time::Duration::from_secs_f64(secs)).to_string())
                }
                Some(Stop::OverBudget(message)) => (ErrorKind::Limit, message),
                _ => (ErrorKind::Cancelled, "run cancelled".to_string()),
            },
            EvalAltResult::ErrorParsing(p, _) => (ErrorKind::Compile, format!("syntax error: {p}")),
            EvalAltResult::ErrorStackOverflow(_) => {
                (ErrorKind::Runtime, "stack overflow: too many nested calls (is the recursion unbounded?)".into())
            }
            EvalAltResult::ErrorTooManyOperations(_) => {
                (ErrorKind::Limit, "too many operations: the script ran past its operation limit".into())
            }
            EvalAltResult::ErrorFunctionNotFound(sig, _) => (ErrorKind::Runtime, no_function(sig, &functions())),
            other => (ErrorKind::Runtime, lowercase_first(&other.to_string())),
        };
        let mut out = ScriptError { kind, error, message, location: None, line_text: None, frames: Box::default() };
        out.set_location(&current_source, e.position(), lookup);
        // An error inside the embedded stdlib is the caller's to fix: the caret goes on the user's
        // own line that called into it, and the stdlib position follows in the chain.
        if current_source.starts_with("std/") {
            if let Some(user) = frames.iter().rposition(|f| f.location.as_ref().is_some_and(|l| !is_stdlib(&l.source)))
            {
                let inner = out.location.take();
                frames.push(Frame { what: "raised".to_string(), location: inner });
                let loc = frames[user].location.clone().expect("checked above");
                out.location = Some(loc.clone());
                out.line_text = lookup(&loc.source).and_then(|t| t.lines().nth(loc.line - 1).map(str::to_string));
            }
        }
        frames.reverse();
        out.frames = frames.into();
        out
    }

    fn set_location(&mut self, source: &str, pos: Position, lookup: &dyn Fn(&str) -> Option<String>) {
        self.location = location(source, pos);
        if let Some(loc) = &self.location {
            self.line_text = lookup(&loc.source).and_then(|t| t.lines().nth(loc.line - 1).map(str::to_string));
        }
    }
}

fn is_stdlib(source: &str) -> bool {
    source.starts_with("std/")
}

/// A function a script can call: its name and parameter names (for messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FnSig {
    pub name: String,
    /// `name: Type` for each parameter, as Rhai's metadata gives them.
    pub params: Vec<String>,
}

impl FnSig {
    fn first_type(&self) -> &str {
        self.params
            .first()
            .and_then(|p| p.split_once(':'))
            .map(|(_, t)| t.trim().trim_start_matches("&mut "))
            .unwrap_or("")
    }

    fn shown(&self) -> String {
        let names: Vec<&str> = self.params.iter().map(|p| p.split(':').next().unwrap_or(p).trim()).collect();
        format!("{}({})", self.name, names.join(", "))
    }
}

/// The message for a call that matched no function: `sig` is Rhai's "name (Type, Type)".
fn no_function(sig: &str, functions: &[FnSig]) -> String {
    let (name, args) = match sig.split_once(" (") {
        Some((n, rest)) => (n.trim(), rest.trim_end_matches(')')),
        None => (sig.trim(), ""),
    };
    let args: Vec<&str> =
        if args.trim().is_empty() { Vec::new() } else { args.split(", ").map(|a| script_type(a.trim())).collect() };
    let same_name: Vec<&FnSig> = functions.iter().filter(|f| f.name == name).collect();
    let receiver = args.first().copied().unwrap_or("");
    let methods_of = |ty: &str| same_name.iter().any(|f| f.first_type().ends_with(ty));
    if receiver == "Field" && methods_of("Image") && !methods_of("Field") {
        return format!(
            "`{name}` is a method of Image, not of Field; render the field first: `f.render(w, h).{name}(…)`"
        );
    }
    if receiver == "Image" && methods_of("Field") && !methods_of("Image") {
        return format!(
            "`{name}` is a method of Field, not of Image; turn the image into a field first: `img.field().{name}(…)`"
        );
    }
    let call = format!("no function {name} ({})", args.join(", "));
    if !same_name.is_empty() {
        let mut forms: Vec<String> = same_name.iter().map(|f| f.shown()).collect();
        forms.sort();
        forms.dedup();
        forms.truncate(6);
        return format!("{call}: wrong argument types or count; `{name}` takes {}", forms.join(" or "));
    }
    let names: Vec<&str> = functions.iter().filter(|f| f.params.len() == args.len()).map(|f| f.name.as_str()).collect();
    match crate::suggest::closest(name, &names).or_else(|| {
        let any: Vec<&str> = functions.iter().map(|f| f.name.as_str()).collect();
        crate::suggest::closest(name, &any)
    }) {
        Some(c) => format!("{call}: did you mean `{c}`?"),
        None => format!("{call} (wrong name, or wrong argument types?)"),
    }
}

/// A type as a script author knows it: Rhai names its own types after the Rust ones.
fn script_type(rust: &str) -> &str {
    match rust {
        "i64" | "i32" => "INT",
        "f64" | "f32" => "FLOAT",
        "&str | ImmutableString | String" | "ImmutableString" | "String" | "string" => "string",
        "map" | "Map" => "map",
        "array" | "Array" => "array",
        "()" => "()",
        other => other.rsplit("::").next().unwrap_or(other),
    }
}

fn location(source: &str, pos: Position) -> Option<Location> {
    let line = pos.line()?;
    Some(Location { source: source.to_string(), line, column: pos.position().unwrap_or(1).max(1) })
}

fn lowercase_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_lowercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caret_sits_under_the_column() {
        let e = ScriptError {
            kind: ErrorKind::Runtime,
            error: None,
            message: "blur: sigma must be > 0".into(),
            location: Some(Location { source: "a.rhai".into(), line: 3, column: 9 }),
            line_text: Some("let b = a.blur(-1);".into()),
            frames: vec![Frame { what: "in call to function 'f'".into(), location: None }].into(),
        };
        let text = e.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a.rhai:3:9: blur: sigma must be > 0");
        assert_eq!(lines[2], "3 | let b = a.blur(-1);");
        assert_eq!(lines[3], "  |         ^");
        assert_eq!(lines[4], "  in call to function 'f'");
    }

    fn sig(name: &str, params: &[&str]) -> FnSig {
        FnSig { name: name.into(), params: params.iter().map(|p| p.to_string()).collect() }
    }

    #[test]
    fn unknown_functions_get_a_did_you_mean_or_a_method_hint() {
        let fns = [
            sig("perlin", &["opts: Map"]),
            sig("perlin", &[]),
            sig("blur", &["img: &mut Image", "sigma: Dynamic"]),
            sig("warp", &["f: &mut Field", "u: Dynamic", "v: Dynamic", "amount: Dynamic"]),
        ];
        assert_eq!(no_function("perlln (map)", &fns), "no function perlln (map): did you mean `perlin`?");
        assert_eq!(
            no_function("perlln (&str | ImmutableString | String, f64)", &fns),
            "no function perlln (string, FLOAT): did you mean `perlin`?"
        );
        assert_eq!(
            no_function("blur (Field, f64)", &fns),
            "`blur` is a method of Image, not of Field; render the field first: `f.render(w, h).blur(…)`"
        );
        assert!(no_function("warp (Image, Field, Field, f64)", &fns).contains("img.field().warp"));
        assert_eq!(
            no_function("perlin (string)", &fns),
            "no function perlin (string): wrong argument types or count; `perlin` takes perlin() or perlin(opts)"
        );
        assert_eq!(
            no_function("zebra ()", &fns),
            "no function zebra (): (wrong name, or wrong argument types?)".replace(": (", " (")
        );
    }
}
