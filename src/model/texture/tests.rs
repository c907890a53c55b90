//! Texture-model tests: tiny models, a few steps.

use super::*;
