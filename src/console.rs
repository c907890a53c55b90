//! Lines for a person at a terminal, written without panicking when nobody is reading.
//!
//! Owns [`out`] and [`err`], the only way kiln prints: Rust's `println!`/`eprintln!` panic when
//! the stream is a closed pipe (`kiln doc | head -1`), which would turn a finished job into exit
//! 101. Must not know what is printed.

use std::fmt::Display;
use std::io::Write;

/// Writes `text` to stdout. False when it cannot be written (the reader closed the pipe), so a
/// command whose work is printing can stop early.
pub fn out(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()).is_ok()
}

/// Writes one line to stdout, ignoring failure.
pub fn out_line(line: impl Display) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

/// Writes one line to stderr, ignoring failure: with stderr closed there is nobody to tell, and
/// the exit code still says what happened.
pub fn err(line: impl Display) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}
