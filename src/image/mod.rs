//! ROOM 1: raster images. Knows nothing of fields, models or Rhai.
//!
//! [`Image`] is RGBA f32 with straight alpha (DESIGN.md §2); [`Color`] parses and converts
//! colours; `io` is the only codec-aware file; `ops/` holds one family of edits per file.

pub mod buffer;
pub mod color;
pub mod io;
pub mod ops;
pub mod pbr;
pub mod pbr_set;
pub mod texture_stats;

pub use buffer::Image;
pub use color::Color;
pub use pbr_set::PbrSet;
