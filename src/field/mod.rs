//! ROOM 2: procedural fields, pure functions of (u, v) with no pixels until `raster` renders them
//! (DESIGN.md §1, §4 "Fields" and "Random"). Knows nothing of Rhai.
//!
//! - [`graph`]: [`Field`], the immutable expression graph scripts build;
//! - [`eval`]: compiles a graph into a tape and evaluates it a block of points at a time;
//! - [`noise`]: Perlin, simplex, value and Worley noise and their fractal sums;
//! - [`pattern`]: checker, stripes, bricks, tiles, dots, Voronoi, gradients, SDF shapes;
//! - [`palette`]: colour ramps; [`raster`]: Field -> Image and back;
//! - [`random`]: the seeded [`Rng`] and random images; [`scatter`]: stamps on a canvas.
//!
//! Every generator returns values in [0, 1] (tests hold it); arithmetic on fields may leave it.

pub mod eval;
pub mod graph;
pub mod noise;
pub mod palette;
pub mod pattern;
pub mod random;
pub mod raster;
pub mod scatter;

pub use graph::Field;
pub use noise::{Fractal, FractalKind, Noise, NoiseKind, NoiseOptions, WorleyOutput};
pub use palette::Palette;
pub use pattern::{Bricks, CellOutput, Pattern, VoronoiOutput};
pub use random::{noise_image, NoiseImageKind, Rng};
pub use scatter::{scatter, Scatter};

#[cfg(test)]
mod tests;
