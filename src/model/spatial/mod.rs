//! The spatial VAE (`kind = "spatial_vae"`): a fully convolutional autoencoder whose latent is
//! a map at 1/4 (or 1/8) of the image's resolution with c channels, so it encodes and decodes
//! images of any size with far more detail than a global latent vector (the VAE half of
//! latent-diffusion models; issue 14 §2).
//!
//! Tour: `settings.rs` is plain data (always compiled): the training options. With `ml`:
//! `arch.rs` the hyper-parameters and their metadata; `net.rs` the network, its tensor names
//! (listed there, for PyTorch `state_dict` mappings) and the loss; `infer.rs` encoding and
//! decoding of any size in tiles; `data.rs` the crops training draws; `train.rs` the loop. The
//! [`crate::Model`] handle (`enabled.rs`) and the latent map type (`latent_map.rs`) are shared
//! with the other kinds. Must not know about Rhai.

pub mod settings;

#[cfg(feature = "ml")]
pub mod arch;
#[cfg(feature = "ml")]
pub mod data;
#[cfg(feature = "ml")]
pub mod infer;
#[cfg(feature = "ml")]
pub mod net;
#[cfg(feature = "ml")]
pub mod train;

#[cfg(all(test, feature = "ml"))]
mod tests;
#[cfg(all(test, feature = "ml"))]
mod torch_tests;
