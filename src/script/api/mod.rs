//! The script API, one package per family. Each file exposes `pub fn module() -> Module`: a
//! Rhai package of doc-commented one-line wrappers (each with a ```rhai example, so `kiln doc`
//! can render it). [`FAMILIES`] is the single list the host registers and `kiln doc` documents.
//!
//! Binding conventions (see `convert`): numbers arrive as `Dynamic` and go through
//! `convert::num`/`int` so INT and FLOAT both work; option maps go through `convert::Options`;
//! errors come from `convert::fail`/`lift` without a position (Rhai fills in the call site).

use rhai::{Engine, Module};

pub mod composite;
pub mod draw;
pub mod field;
pub mod filter;
pub mod geometry;
pub mod image;
pub mod model;
pub mod random;
pub mod run;
pub mod tone;

/// Builds one family's package.
pub type PackageBuilder = fn() -> Module;

/// (section title in `kiln doc`, package builder), in documentation order.
pub const FAMILIES: &[(&str, PackageBuilder)] = &[
    ("Images and colours", image::module),
    ("Run context", run::module),
    ("Geometry", geometry::module),
    ("Tone", tone::module),
    ("Filters", filter::module),
    ("Compositing", composite::module),
    ("Drawing and text", draw::module),
    ("Fields", field::module),
    ("Random", random::module),
    ("Models", model::module),
];

/// Registers every package into `engine`.
pub fn register_all(engine: &mut Engine) {
    for (_, build) in FAMILIES {
        engine.register_global_module(build().into());
    }
}
