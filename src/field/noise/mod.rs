//! Gradient, value and cellular noise, and their fractal sums, evaluated a block of points at a
//! time.
//!
//! Owns: the lattice hash, [`NoiseOptions`] / [`Fractal`] validation, the per-block kernels (one
//! algorithm per file) and the option sets of the noise sources ([`Perlin`], [`Simplex`],
//! [`ValueNoise`], [`Worley`]) and of the fractal sums ([`Fbm`], [`Ridged`], [`Billow`],
//! [`Turbulence`]) with their defaults, key lists and ranges. Must not know about images or Rhai:
//! a kernel takes slices of (u, v) coordinates and fills a slice of values.
//!
//! A new noise is a kernel file, a [`NoiseKind`] variant with its arm in `signed`, and one
//! `noise_options!` line here; its script binding is one registration line.
//!
//! Why hand-written kernels instead of the `noise` crate: the crate evaluates one point per virtual
//! call in f64 through a permutation table; these kernels take a whole block, hash lattice corners
//! arithmetically (no table, so the loop vectorises) and run in f32. The W1 bench
//! (`benches/field.rs`, `bench/anchors/w1-kiln.sh`) measures the difference.
//!
//! Ranges: each base kernel writes a *signed* value in [-1, 1] (Worley writes [0, 1] and is mapped);
//! [`Noise::eval`] maps the final result into [0, 1] and clamps, so every generator honours the
//! [0, 1] contract of DESIGN.md §2 even at the rare extremes.
//!
//! Tileable noise uses a periodic lattice: corner indices are wrapped modulo the number of cells
//! across, so `scale` is rounded to a whole number of cells (and so is every octave's frequency).
//! Simplex noise has no square-periodic lattice, so its tileable form blends four shifted copies.

mod perlin;
mod simplex;
mod value;
pub(crate) mod worley;

use crate::error::{finite, Error, Result};
use crate::field::{Field, Source};

pub use worley::WorleyOutput;

/// Points per block: small enough that a dozen temporaries stay in L1/L2, big enough to amortise
/// the per-block dispatch.
pub const BLOCK: usize = 256;

/// Options every noise source takes (DESIGN.md §4): `seed`, `scale` (cells across the image) and
/// `tileable`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoiseOptions {
    pub seed: u64,
    pub scale: f64,
    pub tileable: bool,
}

impl Default for NoiseOptions {
    /// Seed 0 and the scale and tiling of [`Perlin`]'s defaults.
    fn default() -> NoiseOptions {
        let p = Perlin::default();
        NoiseOptions { seed: 0, scale: p.scale, tileable: p.tileable }
    }
}

/// Declares the option set of one noise source: the keys every noise takes (`seed`, `scale`,
/// `tileable`, and `octaves` / `lacunarity` / `gain`, any of which makes it an fbm sum), then the
/// source's own keys, and its [`Source`] impl. `$kind` maps the options to the kernel.
macro_rules! noise_options {
    ($(#[$meta:meta])* $name:ident for $op:literal, $kind:expr, { $($extra:tt)* }) => {
        $crate::option_set! {
            $(#[$meta])*
            pub struct $name for $op {
                /// Seed; the run's `--seed` when absent.
                seed: Option<u64> = None;
                /// Cells across the image, over 0 and at most 100000 (whole cells when tileable).
                scale: f64 = 4.0;
                /// Wraps around at the image's edges.
                tileable: bool = false;
                /// Octaves of an fbm sum (6 when only `lacunarity` or `gain` is given); absent: one.
                octaves: Option<i64> = None, range(1, MAX_OCTAVES);
                /// Frequency factor from one fbm octave to the next, over 0 (2 when absent).
                lacunarity: Option<f64> = None;
                /// Amplitude factor from one fbm octave to the next, at least 0 (0.5 when absent).
                gain: Option<f64> = None;
                $($extra)*
            }
        }

        impl Source for $name {
            fn seed(&self) -> Option<u64> {
                self.seed
            }

            fn field(&self, seed: u64) -> Result<Field> {
                let kind: fn(&$name) -> NoiseKind = $kind;
                let options = NoiseOptions { seed, scale: self.scale, tileable: self.tileable };
                noise_field(kind(self), options, self.octaves, self.lacunarity, self.gain)
            }
        }
    };
}

noise_options!(
    /// Options of `perlin(#{ ... })`.
    Perlin for "perlin", |_| NoiseKind::Perlin, {}
);
noise_options!(
    /// Options of `simplex(#{ ... })`.
    Simplex for "simplex", |_| NoiseKind::Simplex, {}
);
noise_options!(
    /// Options of `value_noise(#{ ... })`.
    ValueNoise for "value_noise", |_| NoiseKind::Value, {}
);
noise_options!(
    /// Options of `worley(#{ ... })`.
    Worley for "worley", |o| NoiseKind::Worley(o.output), {
        /// What each point returns: the distance to the nearest feature point ("f1"), to the
        /// second nearest ("f2"), their difference ("f2_f1", 0 on cell borders) or a random
        /// value per cell ("cell").
        output: WorleyOutput = WorleyOutput::F1;
    }
);

/// A noise source, summed over octaves (fbm) when any octave setting is given; the ones not
/// given take the fractal defaults.
fn noise_field(
    kind: NoiseKind,
    options: NoiseOptions,
    octaves: Option<i64>,
    lacunarity: Option<f64>,
    gain: Option<f64>,
) -> Result<Field> {
    let noise = Noise::new(kind, options)?;
    if octaves.is_none() && lacunarity.is_none() && gain.is_none() {
        return Ok(Field::noise(noise));
    }
    let fractal = Fractal::new(
        FractalKind::Fbm,
        octaves.unwrap_or(OCTAVES),
        lacunarity.unwrap_or(LACUNARITY),
        gain.unwrap_or(GAIN),
    )?;
    Ok(Field::noise(noise.with_fractal(fractal)?))
}

/// Which base noise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoiseKind {
    Perlin,
    Simplex,
    Value,
    Worley(WorleyOutput),
}

impl NoiseKind {
    /// The script name of this kind.
    pub fn name(self) -> &'static str {
        match self {
            NoiseKind::Perlin => "perlin",
            NoiseKind::Simplex => "simplex",
            NoiseKind::Value => "value_noise",
            NoiseKind::Worley(_) => "worley",
        }
    }
}

/// How octaves are summed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FractalKind {
    /// Fractional Brownian motion: Σ gainⁱ·nᵢ, the classic cloudy sum.
    Fbm,
    /// Σ gainⁱ·(1 − |nᵢ|)²: sharp bright crests (mountain ridges, marble veins).
    Ridged,
    /// Σ gainⁱ·|nᵢ|·(2 − |nᵢ|): rounded puffy lumps with soft creases (clouds, cobbles).
    Billow,
    /// Perlin's turbulence Σ gainⁱ·|nᵢ|: dark sharp creases (fire, smoke, marble).
    Turbulence,
}

impl FractalKind {
    /// The script name of this kind.
    pub fn name(self) -> &'static str {
        match self {
            FractalKind::Fbm => "fbm",
            FractalKind::Ridged => "ridged",
            FractalKind::Billow => "billow",
            FractalKind::Turbulence => "turbulence",
        }
    }
}

/// Octave settings of a fractal sum, validated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fractal {
    pub kind: FractalKind,
    pub octaves: u32,
    pub lacunarity: f64,
    pub gain: f64,
}

/// Most octaves a fractal may have: beyond 16 the finest octave is far below a pixel at any size.
pub const MAX_OCTAVES: i64 = 16;

/// The fractal defaults (the W1 settings): 6 octaves, each at twice the frequency and half the
/// amplitude of the one before.
pub const OCTAVES: i64 = 6;
pub const LACUNARITY: f64 = 2.0;
pub const GAIN: f64 = 0.5;

/// An option set of a fractal sum (`fbm(source, #{ ... })` and its kin).
pub trait FractalOptions: crate::options::OptionSet {
    /// The validated octave settings.
    fn fractal(&self) -> Result<Fractal>;

    /// The fractal sum of `source`.
    fn apply(&self, source: &Field) -> Result<Field> {
        source.fractal(self.fractal()?)
    }
}

/// Declares the option set of each fractal kind: the same keys and defaults, its own op name.
macro_rules! fractal_options {
    ($($(#[$meta:meta])* $name:ident for $op:literal = $kind:expr;)*) => {$(
        $crate::option_set! {
            $(#[$meta])*
            pub struct $name for $op {
                /// Octaves summed.
                octaves: i64 = OCTAVES, range(1, MAX_OCTAVES);
                /// Frequency factor from one octave to the next, over 0.
                lacunarity: f64 = LACUNARITY;
                /// Amplitude factor from one octave to the next, at least 0.
                gain: f64 = GAIN;
            }
        }

        impl FractalOptions for $name {
            fn fractal(&self) -> Result<Fractal> {
                Fractal::new($kind, self.octaves, self.lacunarity, self.gain)
            }
        }
    )*};
}

fractal_options! {
    /// Options of `fbm(source, #{ ... })`.
    Fbm for "fbm" = FractalKind::Fbm;
    /// Options of `ridged(source, #{ ... })`.
    Ridged for "ridged" = FractalKind::Ridged;
    /// Options of `billow(source, #{ ... })`.
    Billow for "billow" = FractalKind::Billow;
    /// Options of `turbulence(source, #{ ... })`.
    Turbulence for "turbulence" = FractalKind::Turbulence;
}

impl Fractal {
    /// Validates octave settings: `octaves` in 1..=16, `lacunarity` > 0, `gain` >= 0, all finite.
    pub fn new(kind: FractalKind, octaves: i64, lacunarity: f64, gain: f64) -> Result<Fractal> {
        let op = kind.name();
        if !(1..=MAX_OCTAVES).contains(&octaves) {
            return Err(Error::param(op, format!("octaves must be between 1 and {MAX_OCTAVES}, got {octaves}")));
        }
        let lacunarity = finite(op, "lacunarity", lacunarity)?;
        if lacunarity <= 0.0 {
            return Err(Error::param(op, format!("lacunarity must be > 0, got {lacunarity}")));
        }
        let gain = finite(op, "gain", gain)?;
        if gain < 0.0 {
            return Err(Error::param(op, format!("gain must be >= 0, got {gain}")));
        }
        Ok(Fractal { kind, octaves: octaves as u32, lacunarity, gain })
    }

    /// The fractal defaults ([`OCTAVES`], [`LACUNARITY`], [`GAIN`]: the W1 settings).
    pub fn default_for(kind: FractalKind) -> Fractal {
        Fractal { kind, octaves: OCTAVES as u32, lacunarity: LACUNARITY, gain: GAIN }
    }
}

/// A noise source, possibly summed over octaves. Evaluates blocks of (u, v) into [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct Noise {
    pub kind: NoiseKind,
    pub options: NoiseOptions,
    pub fractal: Option<Fractal>,
}

/// Largest accepted `scale`: beyond this f32 coordinates lose the fraction inside a cell.
pub const MAX_SCALE: f64 = 100_000.0;

impl Noise {
    /// A single-octave noise source; checks that `scale` is finite and in (0, 100000].
    pub fn new(kind: NoiseKind, options: NoiseOptions) -> Result<Noise> {
        let op = kind.name();
        let scale = finite(op, "scale", options.scale)?;
        if scale <= 0.0 || scale > MAX_SCALE {
            return Err(Error::param(op, format!("scale must be > 0 and <= {MAX_SCALE}, got {scale}")));
        }
        Ok(Noise { kind, options, fractal: None })
    }

    /// This noise summed over octaves. Each octave uses seed + i and `lacunarity` times the
    /// previous frequency (rounded to whole cells when tileable).
    pub fn with_fractal(&self, fractal: Fractal) -> Result<Noise> {
        let top = self.options.scale * fractal.lacunarity.powi(fractal.octaves as i32 - 1);
        if top.is_nan() || top > MAX_SCALE {
            return Err(Error::param(
                fractal.kind.name(),
                format!("the finest octave would have {top} cells across, over the limit of {MAX_SCALE}"),
            ));
        }
        Ok(Noise { fractal: Some(fractal), ..self.clone() })
    }

    /// Lattice of octave `i`.
    fn lattice(&self, octave: u32, lacunarity: f64) -> Lattice {
        let f = self.options.scale * lacunarity.powi(octave as i32);
        let seed = fold_seed(self.options.seed.wrapping_add(octave as u64));
        if self.options.tileable {
            let p = f.round().max(1.0);
            Lattice { freq: p as f32, period: p as i32, seed }
        } else {
            Lattice { freq: f as f32, period: 0, seed }
        }
    }

    /// Evaluates the noise at `us[i], vs[i]` into `out[i]`, each in [0, 1].
    /// All three slices have the same length, at most [`BLOCK`].
    pub fn eval(&self, us: &[f32], vs: &[f32], out: &mut [f32]) {
        let n = out.len();
        debug_assert!(us.len() == n && vs.len() == n && n <= BLOCK);
        let Some(fr) = self.fractal else {
            signed(self.kind, us, vs, self.lattice(0, 1.0), out);
            to_unit(out);
            return;
        };
        let mut tmp = [0f32; BLOCK];
        let tmp = &mut tmp[..n];
        out.fill(0.0);
        let mut amp = 1.0f32;
        let mut norm = 0.0f32;
        for i in 0..fr.octaves {
            signed(self.kind, us, vs, self.lattice(i, fr.lacunarity), tmp);
            accumulate(fr.kind, out, tmp, amp);
            norm += amp;
            amp *= fr.gain as f32;
        }
        finish(fr.kind, out, if norm > 0.0 { 1.0 / norm } else { 0.0 });
    }
}

/// Adds one octave `n` (signed, [-1, 1]) with weight `amp` into `acc`.
#[inline]
pub(crate) fn accumulate(kind: FractalKind, acc: &mut [f32], n: &[f32], amp: f32) {
    match kind {
        FractalKind::Fbm => acc.iter_mut().zip(n).for_each(|(a, &n)| *a += amp * n),
        FractalKind::Ridged => acc.iter_mut().zip(n).for_each(|(a, &n)| {
            let r = 1.0 - n.abs();
            *a += amp * r * r
        }),
        FractalKind::Billow => acc.iter_mut().zip(n).for_each(|(a, &n)| {
            let b = n.abs();
            *a += amp * b * (2.0 - b)
        }),
        FractalKind::Turbulence => acc.iter_mut().zip(n).for_each(|(a, &n)| *a += amp * n.abs()),
    }
}

/// Maps an accumulated sum to [0, 1]; `inv_norm` is 1 / Σ amplitudes.
///
/// The sums of independent octaves concentrate around their mean, so each kind is stretched by a
/// measured factor (`fractal_spread` test: fbm over 1024² must span at least 0.6) and clamped.
#[inline]
pub(crate) fn finish(kind: FractalKind, acc: &mut [f32], inv_norm: f32) {
    match kind {
        // fbm of [-1, 1] octaves: ±0.75 of the amplitude sum is already rare.
        FractalKind::Fbm => {
            let k = inv_norm * (0.5 / 0.75);
            acc.iter_mut().for_each(|a| *a = (0.5 + *a * k).clamp(0.0, 1.0))
        }
        // ridged, billow, turbulence: one-sided sums in [0, 1] of the amplitude sum.
        FractalKind::Ridged | FractalKind::Billow => acc.iter_mut().for_each(|a| *a = (*a * inv_norm).clamp(0.0, 1.0)),
        FractalKind::Turbulence => {
            let k = inv_norm * 1.6;
            acc.iter_mut().for_each(|a| *a = (*a * k).clamp(0.0, 1.0))
        }
    }
}

/// [-1, 1] -> [0, 1], clamped.
#[inline]
fn to_unit(out: &mut [f32]) {
    out.iter_mut().for_each(|a| *a = (0.5 + 0.5 * *a).clamp(0.0, 1.0));
}

/// One lattice: `freq` cells across [0, 1], wrapped every `period` cells when > 0.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Lattice {
    pub freq: f32,
    pub period: i32,
    pub seed: u32,
}

/// Signed base noise into `out`.
pub(crate) fn signed(kind: NoiseKind, us: &[f32], vs: &[f32], lat: Lattice, out: &mut [f32]) {
    match kind {
        NoiseKind::Perlin => perlin::block(us, vs, lat, out),
        NoiseKind::Simplex => simplex::block(us, vs, lat, out),
        NoiseKind::Value => value::block(us, vs, lat, out),
        NoiseKind::Worley(o) => {
            worley::block(us, vs, lat, o, out);
            out.iter_mut().for_each(|a| *a = 2.0 * *a - 1.0);
        }
    }
}

/// A 64-bit script seed folded to the 32 bits the lattice hash uses.
pub(crate) fn fold_seed(seed: u64) -> u32 {
    hash((seed as u32) ^ hash((seed >> 32) as u32 ^ 0x5bd1_e995))
}

/// lowbias32 (Chris Wellons): a cheap full-avalanche 32-bit integer hash. Vectorises (two
/// multiplies), unlike a permutation-table lookup.
#[inline(always)]
pub(crate) fn hash(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x7feb_352d);
    h ^= h >> 15;
    h = h.wrapping_mul(0x846c_a68b);
    h ^= h >> 16;
    h
}

/// X and Y multipliers that spread lattice indices before [`hash`].
pub(crate) const PX: u32 = 0x9e37_79b1;
pub(crate) const PY: u32 = 0x85eb_ca77;

/// Hash of lattice corner (x, y) under `seed`.
#[inline(always)]
pub(crate) fn corner(x: i32, y: i32, seed: u32) -> u32 {
    hash(seed ^ (x as u32).wrapping_mul(PX) ^ (y as u32).wrapping_mul(PY))
}

/// floor() that vectorises on plain SSE2 (f32::floor becomes a libm call without SSE4.1).
#[inline(always)]
pub(crate) fn floor_i(x: f32) -> i32 {
    // The cast saturates far from the origin (huge scales, deep octaves); wrap rather than
    // overflow there, as release builds always did.
    let i = x as i32;
    i.wrapping_sub((x < i as f32) as i32)
}

/// Wraps a lattice index into [0, period) when `period` > 0.
#[inline(always)]
pub(crate) fn wrap(i: i32, period: i32) -> i32 {
    if period > 0 {
        i.rem_euclid(period)
    } else {
        i
    }
}

/// Perlin's quintic fade 6t⁵ − 15t⁴ + 10t³.
#[inline(always)]
pub(crate) fn fade(t: f32) -> f32 {
    t * t * t * (t * (t * 6.0 - 15.0) + 10.0)
}

/// Runs a block kernel compiled for AVX2 when the CPU has it, else the baseline build. Only AVX2
/// (no FMA) is enabled, so both builds round identically: outputs are byte-identical on every
/// x86-64 CPU.
macro_rules! dispatch {
    ($generic:ident, $($arg:expr),*) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(us: &[f32], vs: &[f32], lat: $crate::field::noise::Lattice, out: &mut [f32]) {
                $generic(us, vs, lat, out)
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                unsafe { avx2($($arg),*) };
                return;
            }
        }
        $generic($($arg),*)
    }};
}
pub(crate) use dispatch;

#[cfg(test)]
pub(crate) mod tests;
