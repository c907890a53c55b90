//! [`Source`]: an option set that describes a field, a noise or a pattern.
//!
//! Owns the one contract between a generator's options and its front ends: the option set
//! (declared with `crate::option_set!` next to its algorithm) names its seed, if it takes one,
//! and builds its field once the seed is resolved. The script room registers any `Source` with
//! one line (`X()` and `X(#{ ... })`), resolving an absent seed to the run's seed, so a new
//! pattern or noise needs no binding code of its own. Must not know about Rhai.

use crate::error::Result;
use crate::field::Field;
use crate::options::OptionSet;

/// Options that build a field.
pub trait Source: OptionSet {
    /// The seed the options give; `None` means the run's seed (and is what an unseeded
    /// generator returns: it ignores the seed it is handed).
    fn seed(&self) -> Option<u64> {
        None
    }

    /// The field these options describe, with `seed` the resolved seed (validated here: a bad
    /// value is an error naming the op and the option).
    fn field(&self, seed: u64) -> Result<Field>;
}
