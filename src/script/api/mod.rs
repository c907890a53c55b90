//! The script API, one package per family. Each file exposes `pub fn module() -> Module`: a
//! Rhai package of doc-commented one-line wrappers (each with a ```rhai example, so `kiln doc`
//! can render it). [`FAMILIES`] is the single list the host registers and `kiln doc` documents.
//!
//! Binding conventions (see `convert`): numbers arrive as `Dynamic` and go through
//! `convert::num`/`int` so INT and FLOAT both work; option maps are read into their room's
//! option set (`crate::options`) by `convert::options`; errors come from `convert::fail`/`lift`
//! without a position (Rhai fills in the call site).
//!
//! An op that takes only an option map is one [`with_options`] call: it registers both `X()` and
//! `X(#{ ... })`, and its `kiln doc` entry lists the option set's keys, defaults and ranges.

use rhai::{Engine, FuncRegistration, Map, Module, NativeCallContext};

use crate::options::OptionSet;
use crate::script::convert::{options, RhaiResult};

pub mod composite;
pub mod draw;
pub mod field;
pub mod filter;
pub mod geometry;
pub mod image;
pub mod model;
pub mod pack;
pub mod random;
pub mod run;
pub mod spatial;
pub mod surface;
pub mod texture;
pub mod texture_model;
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
    ("Surfaces (height maps)", surface::module),
    ("Drawing and text", draw::module),
    ("Fields", field::module),
    ("Random", random::module),
    ("Models", model::module),
    ("Texture metrics", texture::module),
    ("Packing and export", pack::module),
];

/// The doc lines of an option set (`<T as OptionSet>::doc_lines`).
pub type OptionDocs = fn() -> Vec<String>;

/// Every option set read inside an ordinary binding (ops registered with [`with_options`] list
/// their keys themselves), by function name: `kiln doc` prints their keys, defaults and ranges
/// from the types. Each family keeps its own list beside its bindings.
pub fn option_sets() -> impl Iterator<Item = (&'static str, OptionDocs)> {
    [
        image::OPTION_SETS,
        geometry::OPTION_SETS,
        filter::OPTION_SETS,
        composite::OPTION_SETS,
        draw::OPTION_SETS,
        pack::OPTION_SETS,
        surface::OPTION_SETS,
        texture::OPTION_SETS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

/// Registers every package into `engine`.
pub fn register_all(engine: &mut Engine) {
    for (_, build) in FAMILIES {
        engine.register_global_module(build().into());
    }
}

/// Registers `name()` (the defaults of `T`) and `name(#{ ... })` (read into `T` by the generic
/// reader) as one op. `doc` is the op's doc comment without `///`, with its ```rhai example; the
/// option list is appended from `T`, so the reference cannot drift from the code.
pub fn with_options<T, R>(
    m: &mut Module,
    name: &str,
    doc: &str,
    op: impl Fn(&NativeCallContext, T) -> RhaiResult<R> + Clone + Send + Sync + 'static,
) where
    T: OptionSet + 'static,
    R: Clone + Send + Sync + 'static,
{
    let ret = short_type_name::<R>();
    let mut lines: Vec<String> = doc.lines().map(|l| format!("/// {l}").trim_end().to_string()).collect();
    lines.push("///".into());
    lines.push("/// Options:".into());
    lines.extend(T::doc_lines().into_iter().map(|l| format!("/// {l}")));
    let with_map = op.clone();
    FuncRegistration::new(name)
        .with_comments(&lines)
        .with_params_info(["opts: Map", ret.as_str()])
        .set_into_module(m, move |ctx: NativeCallContext, opts: Map| with_map(&ctx, options::<T>(opts)?));
    let defaults_doc = [
        format!("/// `{name}(#{{ ... }})` with every option at its default."),
        format!("///\n/// ```rhai\n/// let x = {name}();\n/// ```"),
    ];
    FuncRegistration::new(name)
        .with_comments(&defaults_doc)
        .with_params_info([ret.as_str()])
        .set_into_module(m, move |ctx: NativeCallContext| op(&ctx, T::default()));
}

/// `kiln::field::Field` -> `Field`, for signatures in `kiln doc`.
fn short_type_name<T>() -> String {
    let full = std::any::type_name::<T>();
    full.rsplit("::").next().unwrap_or(full).to_string()
}
