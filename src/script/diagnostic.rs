//! Script errors as compiler-style diagnostics: `path:line:col: message`, the source line with a
//! caret under the column, then one frame per nested function or module call.
//!
//! Owns: [`ScriptError`] and the walk over Rhai's nested `EvalAltResult`. Must not know how
//! scripts are run; the host hands it the error and a way to find source text by name.

use std::fmt;

use rhai::{EvalAltResult, ParseError, Position};

/// Why a run failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The script (or an imported module) does not parse.
    Compile,
    /// An error while the script ran.
    Runtime,
    /// The run went past its wall-clock limit (`--timeout`).
    Timeout,
    /// The run was cancelled by its caller (a newer save in watch mode).
    Cancelled,
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
    pub message: String,
    pub location: Option<Location>,
    /// The source line at `location`, if known.
    pub line_text: Option<String>,
    pub frames: Vec<Frame>,
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
        ScriptError { kind, message: message.into(), location: None, line_text: None, frames: Vec::new() }
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

    /// From a runtime error raised while running `source`.
    pub fn from_eval(err: &EvalAltResult, source: &str, lookup: &dyn Fn(&str) -> Option<String>) -> ScriptError {
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
        frames.reverse();
        let (kind, message) = match e {
            EvalAltResult::ErrorRuntime(d, _) => (ErrorKind::Runtime, d.to_string()),
            EvalAltResult::ErrorTerminated(token, _) => match token.to_string().as_str() {
                "cancelled" => (ErrorKind::Cancelled, "run cancelled".to_string()),
                t => (ErrorKind::Timeout, format!("script stopped: it ran past its time limit ({t})")),
            },
            EvalAltResult::ErrorParsing(p, _) => (ErrorKind::Compile, format!("syntax error: {p}")),
            EvalAltResult::ErrorStackOverflow(_) => {
                (ErrorKind::Runtime, "stack overflow: too many nested calls (is the recursion unbounded?)".into())
            }
            EvalAltResult::ErrorTooManyOperations(_) => {
                (ErrorKind::Runtime, "too many operations: the script ran past its operation limit".into())
            }
            EvalAltResult::ErrorFunctionNotFound(sig, _) => {
                (ErrorKind::Runtime, format!("no function {sig} (wrong name, or wrong argument types?)"))
            }
            other => (ErrorKind::Runtime, lowercase_first(&other.to_string())),
        };
        let mut out = ScriptError { kind, message, location: None, line_text: None, frames };
        out.set_location(&current_source, e.position(), lookup);
        out
    }

    fn set_location(&mut self, source: &str, pos: Position, lookup: &dyn Fn(&str) -> Option<String>) {
        self.location = location(source, pos);
        if let Some(loc) = &self.location {
            self.line_text = lookup(&loc.source).and_then(|t| t.lines().nth(loc.line - 1).map(str::to_string));
        }
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
            message: "blur: sigma must be > 0".into(),
            location: Some(Location { source: "a.rhai".into(), line: 3, column: 9 }),
            line_text: Some("let b = a.blur(-1);".into()),
            frames: vec![Frame { what: "in call to function 'f'".into(), location: None }],
        };
        let text = e.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "a.rhai:3:9: blur: sigma must be > 0");
        assert_eq!(lines[2], "3 | let b = a.blur(-1);");
        assert_eq!(lines[3], "  |         ^");
        assert_eq!(lines[4], "  in call to function 'f'");
    }
}
