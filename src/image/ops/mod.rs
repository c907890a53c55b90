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
