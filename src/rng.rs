//! kiln's one seeded random number generator: [`Rng`] (ChaCha8, identical on every platform and
//! thread count), used by every room (field noise and scatter, script `rng()`, model weights,
//! data order and noise).
//!
//! Owns: [`Rng`] and the rule that makes its numbers reproducible: only integer outputs of
//! ChaCha8 are used and every float is derived from them with exact arithmetic (24- or 53-bit
//! mantissas, our own Box–Muller), so sequences depend neither on the platform's libm nor on
//! `rand`'s distribution code. Independent sequences come from streams of one seed
//! ([`Rng::stream`]): the field room numbers them by row, the model room by purpose
//! (`model::stream::Stream`). Must not know about Rhai, images or tensors.

use rand_chacha::rand_core::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::error::{finite, Error, Result};

/// A seeded random number generator (ChaCha8).
#[derive(Clone, Debug)]
pub struct Rng(ChaCha8Rng);

impl PartialEq for Rng {
    fn eq(&self, other: &Rng) -> bool {
        self.0 == other.0
    }
}

impl Rng {
    /// A generator from a seed; the same seed gives the same sequence everywhere. The same as
    /// stream 0 of `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(ChaCha8Rng::seed_from_u64(seed))
    }

    /// Stream `stream` of `seed`: independent sequences for rows, instances or purposes.
    pub fn stream(seed: u64, stream: u64) -> Rng {
        let mut r = ChaCha8Rng::seed_from_u64(seed);
        r.set_stream(stream);
        Rng(r)
    }

    /// The next raw 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// The next raw 32 bits.
    pub fn next_u32(&mut self) -> u32 {
        self.0.next_u32()
    }

    /// Uniform in [0, 1) with 53 random bits (one 64-bit draw).
    pub fn float(&mut self) -> f64 {
        (self.0.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [0, 1) as an `f32` with 24 random bits (one 32-bit draw).
    pub fn float32(&mut self) -> f32 {
        (self.0.next_u32() >> 8) as f32 * (1.0 / (1u32 << 24) as f32)
    }

    /// Uniform in [lo, hi) (or (hi, lo] when hi < lo).
    pub fn range(&mut self, lo: f64, hi: f64) -> Result<f64> {
        let (lo, hi) = (finite("range", "lo", lo)?, finite("range", "hi", hi)?);
        Ok(lo + (hi - lo) * self.float())
    }

    /// `n` numbers uniform in [lo, hi), as `f32` ([`Rng::float32`] each).
    pub fn uniforms(&mut self, n: usize, lo: f32, hi: f32) -> Vec<f32> {
        (0..n).map(|_| lo + (hi - lo) * self.float32()).collect()
    }

    /// Uniform integer in [lo, hi], both ends included (like a die: `int(1, 6)`), without bias.
    pub fn int(&mut self, lo: i64, hi: i64) -> Result<i64> {
        if hi < lo {
            return Err(Error::param("int", format!("hi must be >= lo, got {lo}..{hi}")));
        }
        let span = (hi as i128 - lo as i128 + 1) as u128;
        if span > u64::MAX as u128 {
            return Ok(self.0.next_u64() as i64);
        }
        let span = span as u64;
        // Lemire's nearly-divisionless method with rejection: unbiased.
        let zone = span.wrapping_neg() % span;
        loop {
            let m = (self.0.next_u64() as u128) * span as u128;
            if (m as u64) >= zone {
                return Ok((lo as i128 + (m >> 64) as i128) as i64);
            }
        }
    }

    /// Uniform index in [0, n) without bias ([`Rng::int`]); n must be > 0.
    pub fn index(&mut self, n: usize) -> usize {
        debug_assert!(n > 0);
        self.int(0, n as i64 - 1).unwrap_or(0) as usize
    }

    /// An integer in 0..n (n > 0) from exactly one 64-bit draw (multiply-shift, no rejection):
    /// a bias of at most n / 2⁶⁴, and a fixed number of draws, which the model room's streams
    /// rely on.
    pub fn below(&mut self, n: usize) -> usize {
        ((self.0.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// True with probability `p` (clamped to [0, 1]).
    pub fn chance(&mut self, p: f64) -> Result<bool> {
        let p = finite("chance", "p", p)?;
        Ok(self.float() < p)
    }

    /// True with probability 1/2, from one 32-bit draw.
    pub fn coin(&mut self) -> bool {
        self.0.next_u32() & 1 == 1
    }

    /// A normally distributed number (Box–Muller on two uniform draws).
    pub fn normal(&mut self, mean: f64, sd: f64) -> Result<f64> {
        let (mean, sd) = (finite("normal", "mean", mean)?, finite("normal", "sd", sd)?);
        if sd < 0.0 {
            return Err(Error::param("normal", format!("sd must be >= 0, got {sd}")));
        }
        Ok(mean + sd * self.gaussian())
    }

    /// A standard normal draw (Box–Muller, one number per two 64-bit draws, which keeps a
    /// stream's position simple).
    pub fn gaussian(&mut self) -> f64 {
        let u1 = 1.0 - self.float(); // (0, 1]
        let u2 = self.float();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// `n` standard normal numbers as `f32` ([`Rng::gaussian`] each).
    pub fn normals(&mut self, n: usize) -> Vec<f32> {
        (0..n).map(|_| self.gaussian() as f32).collect()
    }

    /// A uniformly chosen element; errors on an empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Result<&'a T> {
        if items.is_empty() {
            return Err(Error::param("pick", "cannot pick from an empty array"));
        }
        Ok(&items[self.index(items.len())])
    }

    /// Shuffles in place (Fisher–Yates with the unbiased [`Rng::index`]).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }

    /// Shuffles in place (Fisher–Yates with [`Rng::below`]: one draw per item). A different
    /// permutation from [`Rng::shuffle`] for the same stream; the model room's data order uses
    /// it, and every trained model depends on it.
    pub fn shuffle_fast<T>(&mut self, items: &mut [T]) {
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
    fn sequences_are_fixed() {
        // Pinned values: a change here changes every script's output and every trained model.
        let mut r = Rng::new(42);
        let a: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        let mut r2 = Rng::new(42);
        let b: Vec<u64> = (0..3).map(|_| r2.next_u64()).collect();
        assert_eq!(a, b);
        assert_ne!(Rng::new(43).next_u64(), a[0]);
        assert_eq!(Rng::new(5), Rng::stream(5, 0), "new(seed) is stream 0");
    }

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a = Rng::stream(7, 3).normals(8);
        let b = Rng::stream(7, 3).normals(8);
        let c = Rng::stream(7, 4).normals(8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let mean = Rng::stream(1, 9).normals(20_000).iter().sum::<f32>() / 20_000.0;
        assert!(mean.abs() < 0.05, "mean {mean}");
    }

    #[test]
    fn ranges_hold() {
        let mut r = Rng::new(7);
        let mut seen = [false; 6];
        for _ in 0..10_000 {
            let f = r.float();
            assert!((0.0..1.0).contains(&f));
            assert!((0.0..1.0).contains(&r.float32()));
            assert!(r.below(5) < 5);
            let x = r.range(-2.0, 3.0).unwrap();
            assert!((-2.0..3.0).contains(&x));
            let d = r.int(1, 6).unwrap();
            assert!((1..=6).contains(&d));
            seen[d as usize - 1] = true;
        }
        assert!(seen.iter().all(|&s| s), "int(1, 6) must reach both ends");
        assert_eq!(r.int(5, 5).unwrap(), 5);
        assert!(r.int(6, 1).is_err());
        assert!(r.range(f64::NAN, 1.0).is_err());
        assert!(r.normal(0.0, -1.0).is_err());
        assert!(r.pick::<i32>(&[]).is_err());
    }

    #[test]
    fn normal_has_the_right_moments() {
        let mut r = Rng::new(1);
        let n = 100_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal(3.0, 2.0).unwrap()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        assert!((mean - 3.0).abs() < 0.03, "mean {mean}");
        assert!((var.sqrt() - 2.0).abs() < 0.03, "sd {}", var.sqrt());
    }

    #[test]
    fn shuffles_are_permutations() {
        for fast in [false, true] {
            let mut v: Vec<i32> = (0..50).collect();
            if fast {
                Rng::new(3).shuffle_fast(&mut v);
            } else {
                Rng::new(3).shuffle(&mut v);
            }
            assert_ne!(v, (0..50).collect::<Vec<_>>());
            v.sort();
            assert_eq!(v, (0..50).collect::<Vec<_>>());
        }
    }
}
