//! The model room's random streams: every random tensor (initial weights, ε, z, data order,
//! flips, augmentation) comes from the crate's [`Rng`] on one of these streams, never from
//! candle, whose CPU RNG cannot be seeded.
//!
//! Owns: [`Stream`], the numbering of the streams by purpose:
//! `Rng::stream(seed, Stream::Step(k).id())`.
//! Must not know about tensors or images.

#[cfg(doc)]
use crate::rng::Rng;

/// What a random stream is for; each purpose (and each step, sample or epoch within it) gets its
/// own ChaCha8 stream so that resuming at any step replays exactly the same numbers.
#[derive(Clone, Copy, Debug)]
pub enum Stream {
    /// Initial weights, drawn in sorted parameter-name order.
    Init,
    /// Which images are held out.
    Holdout,
    /// The order of the training images in epoch `n`.
    Epoch(u64),
    /// Noise used by training step `n` (ε, z, flips, augmentation).
    Step(u64),
    /// The latent of sample `n` in `Model::sample(_, seed)`.
    Sample(u64),
    /// Anything else fixed (metrics, sample grids).
    Fixed(u64),
}

impl Stream {
    /// The ChaCha8 stream number: `Rng::stream(seed, Stream::Step(k).id())`.
    pub fn id(self) -> u64 {
        // The top byte tells the purpose, the rest the index.
        let (tag, index) = match self {
            Stream::Init => (1, 0),
            Stream::Holdout => (2, 0),
            Stream::Epoch(n) => (3, n),
            Stream::Step(n) => (4, n),
            Stream::Sample(n) => (5, n),
            Stream::Fixed(n) => (6, n),
        };
        (tag << 56) | (index & ((1 << 56) - 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<f32> = Rng::stream(7, Stream::Step(3).id()).normals(8);
        let b: Vec<f32> = Rng::stream(7, Stream::Step(3).id()).normals(8);
        let c: Vec<f32> = Rng::stream(7, Stream::Step(4).id()).normals(8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mean = Rng::stream(1, Stream::Init.id()).normals(20_000).iter().sum::<f32>() / 20_000.0;
        assert!(mean.abs() < 0.05, "mean {mean}");
    }
}
