//! Texture models (`kind = "texture_gan"`): a fully convolutional GAN after SGAN/PSGAN that
//! learns one or several exemplars from random crops and draws textures of any size (a multiple
//! of 8), tileable on request, blending exemplars through a learned global code.
//!
//! Tour: `arch.rs` the hyper-parameters a file records; `net.rs` the generator, the patch
//! discriminator and the noise; `coarse.rs` the smooth coarse noise; `style.rs` the
//! random-filter Gram loss; `exemplars.rs` the training crops; `train.rs` the training loop;
//! `sample.rs` drawing a texture. The options are plain data in `../texture_options.rs`.

mod arch;
mod coarse;
mod exemplars;
mod net;
mod sample;
mod style;
mod train;

pub use arch::TextureArch;
pub use net::Generator;
pub use sample::draw;
pub use train::train_texture;
#[doc(hidden)]
pub use train::TextureBenchStep;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod torch_tests;
