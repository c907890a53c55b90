//! Script bindings for this family (being written).

use rhai::Module;

/// The package of this family's functions.
pub fn module() -> Module {
    Module::new()
}
