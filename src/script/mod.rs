//! ROOM 4: the Rhai bindings. Translation only, no algorithms: every function here converts
//! script values, calls the plain Rust API of `image`, `field` or `model`, and converts back.
//!
//! [`Host`] builds the engine once; `api/` has one package per family of functions;
//! `convert` holds the conventions every binding follows; `diagnostic` prints errors like a
//! compiler; `resolver` serves `import`; `depfile` lists what a run read for build systems.

pub mod api;
pub mod context;
pub mod convert;
pub mod depfile;
pub mod diagnostic;
pub mod doc;
pub mod host;
pub mod pbr;
pub mod resolver;
pub mod scan;
pub mod shadowing;

pub use context::{ParamKind, ParamSpec, RunConfig};
pub use diagnostic::{ErrorKind, ScriptError};
pub use host::{Compiled, Host, Outcome};
