//! kiln's seeded random numbers for models: every random tensor (initial weights, ε, z, data
//! order, flips, augmentation) comes from here, never from candle, whose CPU RNG cannot be seeded.
//!
//! Owns: [`Rng`] (ChaCha8 with a stream per purpose) and the stream numbering. Must not know about
//! tensors or images.

use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};

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
    fn id(self) -> u64 {
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

/// A seeded random number generator (ChaCha8), identical on every platform and thread count.
pub struct Rng(ChaCha8Rng);

impl Rng {
    /// The generator for `seed` and `stream`.
    pub fn new(seed: u64, stream: Stream) -> Rng {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream.id());
        Rng(rng)
    }

    /// Uniform in [0, 1) with 24 bits of precision.
    pub fn uniform(&mut self) -> f32 {
        (self.0.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// Uniform in [0, 1) with 53 bits.
    fn uniform_f64(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal number (Box–Muller; one draw per call keeps the stream position simple).
    pub fn normal(&mut self) -> f32 {
        let u1 = 1.0 - self.uniform_f64(); // (0, 1]
        let u2 = self.uniform_f64();
        ((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()) as f32
    }

    /// `n` standard normal numbers.
    pub fn normals(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.normal()).collect()
    }

    /// `n` numbers uniform in [lo, hi).
    pub fn uniforms(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| lo + (hi - lo) * self.uniform()).collect()
    }

    /// An integer in 0..n (n > 0), without modulo bias worth caring about at these sizes.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.0.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// True with probability 1/2.
    pub fn coin(&mut self) -> bool {
        self.0.next_u32() & 1 == 1
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<f32> = Rng::new(7, Stream::Step(3)).normals(8);
        let b: Vec<f32> = Rng::new(7, Stream::Step(3)).normals(8);
        let c: Vec<f32> = Rng::new(7, Stream::Step(4)).normals(8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mean = Rng::new(1, Stream::Init).normals(20_000).iter().sum::<f32>() / 20_000.0;
        assert!(mean.abs() < 0.05, "mean {mean}");
    }
}
