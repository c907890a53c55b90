//! Script bindings for randomness (DESIGN.md §4 "Random"): `rng(seed)` and its methods,
//! `noise_image` and `scatter`. Translation only: the algorithms and option sets (`NoiseImage`,
//! `Scatter`: defaults, keys, ranges, which random stream draws what) live in
//! `crate::field::random` and `crate::field::scatter`. Without a `seed`, everything uses the run's
//! `--seed` (`context::seed_or_run`).

use rhai::plugin::*;
use rhai::{Dynamic, FuncRegistration, Map, Module, NativeCallContext};

use crate::field::{scatter as place, NoiseImage, Rng, Scatter};
use crate::image::Image;
use crate::options::OptionSet;
use crate::script::context::seed_or_run;
use crate::script::convert::{lift, options, size, RhaiResult};

/// The package of random functions.
pub fn module() -> Module {
    let mut m = exported_module!(random_api);
    m.set_custom_type::<Rng>("Rng");
    noise_image(&mut m);
    scatter(&mut m);
    m
}

/// Doc comment lines: `text` (with its ```rhai example), then the keys of the option set `T`.
fn doc_with_options<T: OptionSet>(text: &[&str]) -> Vec<String> {
    let mut doc: Vec<String> = text.iter().map(|l| format!("/// {l}").trim_end().to_string()).collect();
    doc.extend(["///".to_string(), "/// Options:".to_string()]);
    doc.extend(T::doc_lines().into_iter().map(|l| format!("/// {l}")));
    doc
}

/// `noise_image(w, h)` and `noise_image(w, h, #{ ... })`, documented with `NoiseImage`'s keys.
fn noise_image(m: &mut Module) {
    fn make(ctx: &NativeCallContext, w: &Dynamic, h: &Dynamic, o: NoiseImage) -> RhaiResult<Image> {
        let (w, h) = size("noise_image", w, h)?;
        lift(o.render(w, h, seed_or_run(ctx, o.seed)?))
    }
    let doc = doc_with_options::<NoiseImage>(&[
        "A `w` × `h` image of random noise.",
        "",
        "```rhai",
        "noise_image(256, 256, #{ kind: \"gaussian\", sigma: 0.2, mono: false, seed: 3 })",
        "```",
    ]);
    FuncRegistration::new("noise_image")
        .with_comments(&doc)
        .with_params_info(["w: Dynamic", "h: Dynamic", "opts: Map", "Image"])
        .set_into_module(m, |ctx: NativeCallContext, w: Dynamic, h: Dynamic, opts: Map| {
            make(&ctx, &w, &h, options::<NoiseImage>(opts)?)
        });
    let short = [
        "/// `noise_image(w, h, #{ ... })` with every option at its default: uniform gray noise with",
        "/// the run's seed.",
        "///",
        "/// ```rhai",
        "/// noise_image(128, 128)",
        "/// ```",
    ];
    FuncRegistration::new("noise_image")
        .with_comments(short)
        .with_params_info(["w: Dynamic", "h: Dynamic", "Image"])
        .set_into_module(m, |ctx: NativeCallContext, w: Dynamic, h: Dynamic| make(&ctx, &w, &h, NoiseImage::default()));
}

/// `scatter(canvas, stamp, #{ ... })`, documented with `Scatter`'s keys.
fn scatter(m: &mut Module) {
    let doc = doc_with_options::<Scatter>(&[
        "Places copies of `stamp` on `canvas` (a new image; the canvas is unchanged).",
        "",
        "```rhai",
        "let leaf = image(24, 24, \"seagreen\").mask(circle_sdf(0.5, 0.5, 0.45).step(0.5).invert());",
        "scatter(image(256, 256, \"white\"), leaf, #{ count: 60, scale: [0.5, 1.5], rotate: 180, poisson: true })",
        "```",
    ]);
    FuncRegistration::new("scatter")
        .with_comments(&doc)
        .with_params_info(["canvas: Image", "stamp: Image", "opts: Map", "Image"])
        .set_into_module(m, |ctx: NativeCallContext, canvas: Image, stamp: Image, opts: Map| {
            let o = options::<Scatter>(opts)?;
            lift(place(&canvas, &stamp, &o, seed_or_run(&ctx, o.seed)?))
        });
}

#[export_module]
mod random_api {
    use crate::field::Rng;
    use crate::image::Color;
    use crate::script::context::run_seed;
    use crate::script::convert::{int, lift, num, RhaiResult};
    use rhai::{Array, Dynamic, NativeCallContext, INT};

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
}
