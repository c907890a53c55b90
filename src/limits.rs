//! Resource limits shared by every room.
//!
//! Owns: [`Limits`] (per run, set by the host or the CLI) and the process-wide pixel ceiling
//! that [`crate::Image`] constructors check. The ceiling is process-wide because an image can be
//! created anywhere (an op, a decoder, a field render) and threading a `&Limits` through every
//! op signature would make the plain API noisy; hosts that need different ceilings per run set it
//! before the run (`set_max_pixels`). Must not know about Rhai or the CLI.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Default largest image, in pixels: 16384 × 16384 (4 GiB of RGBA f32). Raise it with
/// `--max-pixels` or [`set_max_pixels`].
pub const DEFAULT_MAX_PIXELS: u64 = 16384 * 16384;
/// Largest width or height of any image.
pub const MAX_DIMENSION: u32 = 1 << 20;

static MAX_PIXELS: AtomicU64 = AtomicU64::new(DEFAULT_MAX_PIXELS);

/// The current process-wide pixel ceiling.
pub fn max_pixels() -> u64 {
    MAX_PIXELS.load(Ordering::Relaxed)
}

/// Sets the process-wide pixel ceiling checked by every image constructor.
pub fn set_max_pixels(pixels: u64) {
    MAX_PIXELS.store(pixels.max(1), Ordering::Relaxed);
}

/// Limits for one script run. Defaults suit interactive use and build steps alike.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Largest image in pixels.
    pub max_pixels: u64,
    /// Script operations (Rhai's operation counter) per run; 0 = unlimited.
    pub max_operations: u64,
    /// Nested function calls.
    pub max_call_depth: usize,
    /// Expression nesting depth.
    pub max_expr_depth: usize,
    /// Bytes of all live images, tensors and decode buffers of the process together
    /// (`--max-memory`); 0 = [`crate::memory::default_budget`]. A script's own arrays, maps and
    /// strings count too: they are checked against the same budget as they grow (`script::host`).
    pub max_memory: u64,
    /// Wall-clock time for a run; `None` = unlimited.
    pub deadline: Option<Duration>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_pixels: DEFAULT_MAX_PIXELS,
            max_operations: 2_000_000_000,
            max_call_depth: 64,
            max_expr_depth: 128,
            max_memory: 0,
            deadline: None,
        }
    }
}
