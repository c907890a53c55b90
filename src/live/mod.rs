//! ROOM 5: live coding — hot reload and the browser preview (feature "watch").
//!
//! Three parts, each usable alone:
//! - [`Session`] runs a script on a worker thread with one long-lived host (its caches make
//!   re-runs fast), keeps the last good result, and cancels the run in flight on a new change.
//!   Embedders drive it directly: start it with the same `script::RunConfig` and `Limits`
//!   that `kiln run` builds, feed a [`Change`], read the [`Report`].
//! - [`Watcher`] turns debounced file-system events on the script, its imports and the files it
//!   loaded into changes, and stops when the script is deleted for good.
//! - [`preview`] serves the page on 127.0.0.1 with push updates, the error overlay and a control
//!   per `param()`.
//!
//! Doors: `live` uses `script` and `image`; only `cli` uses `live`.

pub mod preview;
pub mod session;
pub mod watch;

pub use preview::PreviewOptions;
pub use session::{Change, Good, Report, Session, Trigger};
pub use watch::{WatchEnd, WatchOptions, Watcher};
