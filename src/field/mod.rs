//! ROOM 2: procedural fields, pure functions of (u, v) with no pixels until `raster` renders them
//! (DESIGN.md §1, §4 "Fields" and "Random"). Knows nothing of Rhai.
//!
//! - [`graph`]: [`Field`], the immutable expression graph scripts build;
//! - [`eval`]: compiles a graph into a tape and evaluates it a block of points at a time;
//! - [`noise`]: Perlin, simplex, value and Worley noise and their fractal sums, with their option
//!   sets ([`Perlin`] … [`Worley`], [`Fbm`] … [`Turbulence`]);
//! - [`pattern`]: checker, stripes, bricks, tiles, dots, Voronoi, gradients, SDF shapes, with the
//!   option sets of those that take options ([`Bricks`], [`Tiles`], [`Dots`], [`Voronoi`],
//!   [`GradientRadial`]);
//! - [`source`]: [`Source`], an option set that builds a field (what the script room registers
//!   with one line);
//! - [`rgb`]: [`RgbField`], colour fields and their channel-by-channel arithmetic;
//! - [`palette`]: colour ramps; [`raster`]: Field -> Image and back;
//! - [`random`]: the seeded [`Rng`] and random images ([`NoiseImage`] options); [`scatter`]:
//!   stamps on a canvas ([`Scatter`] options).
//!
//! Every option set of this room is declared with `crate::option_set!` next to its algorithm:
//! defaults, key list, doc line per key and ranges live here, never in a front end. A seed option
//! is `Option<u64>`: absent means the run's seed, which the front end resolves and hands in.
//!
//! Every generator returns values in [0, 1] (tests hold it); arithmetic on fields may leave it.

pub mod eval;
pub mod graph;
pub mod noise;
pub mod palette;
pub mod pattern;
pub mod random;
pub mod raster;
pub mod rgb;
pub mod scatter;
pub mod source;
pub mod tone;

pub use graph::Field;
pub use noise::{
    Billow, Fbm, Fractal, FractalKind, FractalOptions, Noise, NoiseKind, NoiseOptions, Perlin, Ridged, Simplex,
    Turbulence, ValueNoise, Worley, WorleyOutput,
};
pub use palette::Palette;
pub use pattern::{Bricks, CellOutput, Dots, GradientRadial, Pattern, Tiles, Voronoi, VoronoiOutput};
pub use random::{noise_image, Distribution, NoiseImage, NoiseImageKind, Rng};
pub use rgb::RgbField;
pub use scatter::{scatter, Count, Scatter, Turn};
pub use source::Source;

#[cfg(test)]
mod tests;
