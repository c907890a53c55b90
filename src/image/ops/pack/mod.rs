//! Packing (DESIGN.md §7): several images into one, or one image into several.
//!
//! - [`channels`]: grey maps into the R, G, B, A channels of one image (ORM, mask maps);
//! - [`mipmaps`]: a gamma-correct mip chain down to 1×1;
//! - [`atlas`]: many sprites into one image with padding and edge extrusion, and their rects.
//!
//! Owns the pixel work only. Which engine wants which channel where, and the files a PBR set is
//! written to, are `crate::image::pbr`'s; the script bindings are in `script/api/pack.rs`.
//! Must not know about Rhai or files.

pub mod atlas;
pub mod channels;
pub mod mipmaps;

pub use atlas::{atlas, Atlas, AtlasOptions, Placed};
pub use channels::{grey_value, pack_channels, Pick, Source};
pub use mipmaps::{mipmaps, MipFilter, Mipmaps};
