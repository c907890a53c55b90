//! Editing operations, one family per file. Every op takes `&Image` and returns a new
//! `Result<Image>`; parameters come in small structs with named constructors where there are
//! more than two. Ops validate their parameters (finite, in range) and never panic.

pub mod composite;
pub mod draw;
pub mod edge;
pub mod filter;
pub mod geometry;
pub mod pack;
pub mod surface;
pub mod text;
pub mod tone;

use crate::error::Result;
use crate::image::Image;
use crate::memory::Reservation;

/// Holds `copies` working buffers the size of `img` (f32 RGBA) against the memory budget while
/// an op runs. The filters' passes work on plain `Vec<f32>`s (a row pass, a transpose, a padded
/// copy) that only become budgeted once wrapped in an [`Image`]; reserving them up front keeps
/// `--max-memory` a bound on what an op really holds at its peak, and fails before allocating.
pub(crate) fn working_buffers(img: &Image, copies: u64, op: &str) -> Result<Reservation> {
    let bytes = img.pixels().len() as u64 * std::mem::size_of::<f32>() as u64 * copies;
    crate::memory::reserve(bytes, &format!("{op}'s working buffers"))
}
