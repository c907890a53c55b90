//! The library's one error type, sorted by who is at fault (image-rs `src/error.rs`).
//!
//! Owns: [`Error`] and [`Result`]. Every room returns these; the script room adds the script
//! position on top (`script::diagnostic`), the CLI maps them to exit codes. Must not know about
//! Rhai, clap or any other front end.

use std::path::PathBuf;

/// Result with kiln's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in kiln, grouped by who is at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // ---- the caller's fault --------------------------------------------------------------
    /// A parameter is out of range, NaN, of the wrong kind, or an option key is unknown.
    #[error("{op}: {message}")]
    Parameter { op: String, message: String },
    /// A size, count or time over the configured limits (see [`crate::Limits`]).
    #[error("limit exceeded: {0}")]
    Limit(String),
    /// A path outside the folders a run may read or write.
    #[error("{path}: {reason}")]
    PathDenied { path: PathBuf, reason: String },

    // ---- the file's fault ------------------------------------------------------------------
    /// A file could not be decoded (corrupt, truncated, not what its name says).
    #[error("{path}: cannot decode: {message}")]
    Decode { path: PathBuf, message: String },
    /// A format or feature kiln does not handle (an unknown extension, GIF output, ...).
    #[error("{0}")]
    Unsupported(String),
    /// A model file is missing fields, has the wrong shapes or metadata.
    #[error("{path}: bad model file: {message}")]
    Model { path: PathBuf, message: String },

    // ---- the environment's fault -----------------------------------------------------------
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    /// Encoding an image failed.
    #[error("{path}: cannot encode: {message}")]
    Encode { path: PathBuf, message: String },
    /// The run was cancelled (a newer save in watch mode, Ctrl-C, a client that went away).
    #[error("{0}")]
    Cancelled(String),
    /// The run went past its wall-clock limit (`--timeout`, a request's deadline).
    #[error("script stopped: it ran past its time limit (--timeout {:.3}s)", .0.as_secs_f64())]
    TimedOut(std::time::Duration),
    /// This build lacks a cargo feature the call needs.
    #[error("kiln was built without the `{0}` feature")]
    Disabled(&'static str),
    /// A computation failed in a way that is kiln's fault; the message says where.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// A parameter error for operation `op`: `Error::param("blur", "sigma must be > 0")`.
    pub fn param(op: impl Into<String>, message: impl Into<String>) -> Error {
        Error::Parameter { op: op.into(), message: message.into() }
    }

    /// An I/O error with the path it happened on.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }
}

/// Checks that `value` is finite, or returns a parameter error naming `what`.
pub fn finite(op: &str, what: &str, value: f64) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::param(op, format!("{what} must be a finite number, got {value}")))
    }
}
