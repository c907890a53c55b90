//! Script bindings for randomness (DESIGN.md §4 "Random"): `rng(seed)` and its methods,
//! `noise_image` and `scatter`. Translation only: the algorithms live in `crate::field::random`
//! and `crate::field::scatter`. Without a `seed`, everything uses the run's `--seed`.

use rhai::plugin::*;
use rhai::Module;

use crate::field::Rng;

/// The package of random functions.
pub fn module() -> Module {
    let mut m = exported_module!(random_api);
    m.set_custom_type::<Rng>("Rng");
    m
}

/// The run's seed, for generators given none.
fn run_seed(ctx: &rhai::NativeCallContext) -> crate::script::convert::RhaiResult<u64> {
    Ok(crate::script::context::run_state(ctx)?.config.seed as u64)
}

#[export_module]
mod random_api {
    use super::run_seed;
    use crate::field::{noise_image as make_noise, scatter as place, NoiseImageKind, Rng, Scatter};
    use crate::image::{Color, Image};
    use crate::script::convert::{fail, int, lift, num, Options, RhaiResult};
    use rhai::{Array, Dynamic, Map, NativeCallContext, INT};

    /// A seeded random number generator (ChaCha8): the same seed gives the same numbers on every
    /// platform. Its methods advance it, so keep it in a variable.
    ///
    /// ```rhai
    /// let r = rng(42);
    /// let x = r.float();
    /// ```
    #[rhai_fn(name = "rng", return_raw)]
    pub fn rng_seeded(seed: Dynamic) -> RhaiResult<Rng> {
        Ok(Rng::new(int("rng", "seed", &seed)? as u64))
    }

    /// A generator seeded from a text (its FNV-1a hash): the same text gives the same numbers, so
    /// a name can drive a logo.
    ///
    /// ```rhai
    /// let r = rng("ACME");
    /// let sides = r.int(3, 8);
    /// ```
    #[rhai_fn(name = "rng")]
    pub fn rng_text(text: &str) -> Rng {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h = (h ^ b as u64).wrapping_mul(0x0100_0000_01b3);
        }
        Rng::new(h)
    }

    /// A generator seeded with the run's `--seed`.
    ///
    /// ```rhai
    /// let r = rng();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rng(ctx: NativeCallContext) -> RhaiResult<Rng> {
        Ok(Rng::new(run_seed(&ctx)?))
    }

    /// Uniform in [0, 1).
    ///
    /// ```rhai
    /// let r = rng(1);
    /// let x = r.float();
    /// ```
    pub fn float(r: &mut Rng) -> f64 {
        r.float()
    }

    /// Uniform in [lo, hi).
    ///
    /// ```rhai
    /// let r = rng(1);
    /// let angle = r.range(-30, 30);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn range(r: &mut Rng, lo: Dynamic, hi: Dynamic) -> RhaiResult<f64> {
        lift(r.range(num("range", "lo", &lo)?, num("range", "hi", &hi)?))
    }

    /// A whole number in [lo, hi], both included.
    ///
    /// ```rhai
    /// let r = rng(1);
    /// let die = r.int(1, 6);
    /// ```
    #[rhai_fn(name = "int", return_raw)]
    pub fn int_range(r: &mut Rng, lo: Dynamic, hi: Dynamic) -> RhaiResult<INT> {
        lift(r.int(int("int", "lo", &lo)?, int("int", "hi", &hi)?))
    }

    /// True with probability `p`.
    ///
    /// ```rhai
    /// let r = rng(1);
    /// if r.chance(0.25) { print("lucky"); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn chance(r: &mut Rng, p: Dynamic) -> RhaiResult<bool> {
        lift(r.chance(num("chance", "p", &p)?))
    }

    /// A normally distributed number with `mean` and standard deviation `sd`.
    ///
    /// ```rhai
    /// let r = rng(1);
    /// let height = r.normal(170, 8);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn normal(r: &mut Rng, mean: Dynamic, sd: Dynamic) -> RhaiResult<f64> {
        lift(r.normal(num("normal", "mean", &mean)?, num("normal", "sd", &sd)?))
    }

    /// One element of `items`, uniformly.
    ///
    /// ```rhai
    /// let r = rng(1);
    /// let c = r.pick(["red", "green", "blue"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn pick(r: &mut Rng, items: Array) -> RhaiResult<Dynamic> {
        lift(r.pick(&items).cloned())
    }

    /// A shuffled copy of `items` (the array passed in is unchanged).
    ///
    /// ```rhai
    /// let r = rng(1);
    /// let order = r.shuffle([1, 2, 3, 4, 5]);
    /// ```
    pub fn shuffle(r: &mut Rng, items: Array) -> Array {
        let mut items = items;
        r.shuffle(&mut items);
        items
    }

    /// A random pleasant colour: any hue, saturation 0.45–0.9, value 0.55–1, opaque.
    ///
    /// ```rhai
    /// let r = rng(1);
    /// image(32, 32, r.color())
    /// ```
    pub fn color(r: &mut Rng) -> Color {
        r.color()
    }

    /// A `w` × `h` image of random noise. Options: `kind` ("uniform", the default, "gaussian" with
    /// `sigma` (0.15) around 0.5, or "salt_pepper" with `density` (0.1)), `seed` (default the run's
    /// seed) and `mono` (true: gray; false: each channel drawn separately).
    ///
    /// ```rhai
    /// noise_image(256, 256, #{ kind: "gaussian", sigma: 0.2, mono: false, seed: 3 })
    /// ```
    #[rhai_fn(name = "noise_image", return_raw)]
    pub fn noise_image_with(ctx: NativeCallContext, w: Dynamic, h: Dynamic, opts: Map) -> RhaiResult<Image> {
        let o = Options::new("noise_image", opts, &["kind", "seed", "mono", "sigma", "density"])?;
        let (w, h) = (int("noise_image", "width", &w)?, int("noise_image", "height", &h)?);
        let (w, h) = lift(crate::image::buffer::check_size(w, h))?;
        let kind = o.choice("kind", "uniform", &["uniform", "gaussian", "salt_pepper"])?;
        let kind = lift(NoiseImageKind::parse(&kind, o.num("sigma", 0.15)?, o.num("density", 0.1)?))?;
        let seed = match o.opt_int("seed")? {
            Some(s) => s as u64,
            None => run_seed(&ctx)?,
        };
        lift(make_noise(w, h, kind, seed, o.bool("mono", true)?))
    }

    /// Uniform gray noise with the run's seed.
    ///
    /// ```rhai
    /// noise_image(128, 128)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn noise_image(ctx: NativeCallContext, w: Dynamic, h: Dynamic) -> RhaiResult<Image> {
        noise_image_with(ctx, w, h, Map::new())
    }

    /// Places copies of `stamp` on `canvas` (a new image; the canvas is unchanged). Options:
    /// `count` (20, or `[lo, hi]` for a count drawn from the seed), `seed` (the run's seed), `scale` (a number or `[lo, hi]`, default 1), `rotate`
    /// (degrees: a number r for [-r, r], or `[lo, hi]`; default 0), `jitter` (0 = on a grid, 1 =
    /// anywhere in its grid cell, the default), `poisson` (true: keep centres at least
    /// `min_distance` pixels apart, derived from `count` when not given).
    ///
    /// ```rhai
    /// let dot = circle_sdf(0.5, 0.5, 0.4).step(0.5).invert().render(24, 24);
    /// let leaf = image(24, 24, "seagreen").mask(circle_sdf(0.5, 0.5, 0.45).step(0.5).invert());
    /// scatter(image(256, 256, "white"), leaf, #{ count: 60, scale: [0.5, 1.5], rotate: 180, poisson: true, seed: 2 })
    /// ```
    #[rhai_fn(return_raw)]
    pub fn scatter(ctx: NativeCallContext, canvas: Image, stamp: Image, opts: Map) -> RhaiResult<Image> {
        let o =
            Options::new("scatter", opts, &["count", "seed", "scale", "rotate", "jitter", "poisson", "min_distance"])?;
        let seed = match o.opt_int("seed")? {
            Some(s) => s as u64,
            None => run_seed(&ctx)?,
        };
        // `count: [lo, hi]` draws the count from the seed (its own stream, so the placements
        // do not shift with it)
        let count = match o.get("count") {
            Some(v) if v.is_array() => {
                let (lo, hi) = o.pair("count", (20.0, 20.0))?;
                let (lo, hi) = (lo.round() as i64, hi.round() as i64);
                lift(Rng::stream(seed, 1).int(lo, hi))?
            }
            _ => o.int("count", 20)?,
        };
        if count < 0 {
            return Err(fail("scatter", format!("count must be >= 0, got {count}")));
        }
        let scale = o.pair("scale", (1.0, 1.0))?;
        let rotate = match o.get("rotate") {
            Some(v) if v.is_int() || v.is_float() => {
                let r = num("scatter", "option 'rotate'", v)?;
                (-r, r)
            }
            _ => o.pair("rotate", (0.0, 0.0))?,
        };
        let poisson =
            if o.bool("poisson", false)? || o.has("min_distance") { Some(o.num("min_distance", 0.0)?) } else { None };
        let s = Scatter {
            count: count as usize,
            seed,
            scale: [scale.0, scale.1],
            rotate: [rotate.0, rotate.1],
            jitter: o.num("jitter", 1.0)?,
            poisson,
        };
        lift(place(&canvas, &stamp, &s))
    }
}
