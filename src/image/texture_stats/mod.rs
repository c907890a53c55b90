//! Texture quality metrics that need no download (issue 14 §3): how close a sample's texture
//! statistics are to its exemplar's ([`gram_distance`]), whether it tiles ([`seam_score`]), and
//! whether it is new rather than a copy, and different per seed ([`diversity`]).
//!
//! Owns: the fixed random-filter network and its Gram statistics (`gram`), kiln's one
//! definition of the wrap-seam metric (`seam`, used by the tileability tests everywhere), and
//! the crop-distance novelty measures (`diversity`). Plain Rust: works without `ml`, knows
//! nothing of fields, models or Rhai (the Rhai bindings are in `script::api::texture`, the
//! command in `cli::texture_stats`).

pub mod diversity;
pub mod gram;
pub mod seam;

#[cfg(test)]
mod tests;

pub use diversity::{diversity, diversity_with, Diversity, DiversityOptions};
pub use gram::{gram_distance, TextureGram};
pub use seam::{seam_score, Seam, TILEABLE_RATIO};
