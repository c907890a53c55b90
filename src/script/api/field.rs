//! Script bindings for fields (DESIGN.md §4 "Fields"): noise sources and fractals, patterns,
//! arithmetic (with `+ - * /` between fields and numbers in both orders, and between colour
//! fields), transforms, palettes, rendering, and the image bridges `img.field()`, `img.displace`,
//! `img.with_alpha(field)`, `img.mask(field)`. Translation only: every algorithm, option set
//! (defaults, keys, ranges) and colour-field operation lives in `crate::field`.
//!
//! A generator with options is one `source` line (its option set is a `field::Source`), a
//! fractal sum one `fractal` line. A number anywhere a field is expected is a constant field.
//! An absent `seed` is the run's `--seed` (`context::seed_or_run`). Graphs deeper than
//! `field::graph::MAX_DEPTH` are refused where they are built, so a runaway loop gets an error at
//! its line instead of a stack overflow.

use rhai::plugin::*;
use rhai::{Dynamic, FuncRegistration, Map, Module, INT};

use crate::field::{noise, pattern, Field, FractalOptions, Palette, RgbField, Source};
use crate::image::color::Color;
use crate::script::api::with_options;
use crate::script::context::seed_or_run;
use crate::script::convert::{array, color, fail, lift, num, options, RhaiResult};

/// The package of field functions.
pub fn module() -> Module {
    let mut m = exported_module!(field_api);
    m.set_custom_type::<Field>("Field");
    m.set_custom_type::<Palette>("Palette");
    m.set_custom_type::<RgbField>("RgbField");
    register_noise(&mut m);
    register_patterns(&mut m);
    register_operators(&mut m);
    m
}

/// Noise sources and fractal sums: one line each, the option sets live in `crate::field`.
fn register_noise(m: &mut Module) {
    source::<noise::Perlin>(
        m,
        "perlin",
        "Perlin gradient noise in [0, 1]; `octaves`, `lacunarity` or `gain` make it an fbm sum.",
        "let n = perlin(#{ scale: 8, seed: 3 });\nn.render(256, 256)",
    );
    source::<noise::Simplex>(
        m,
        "simplex",
        "Simplex noise in [0, 1]: like Perlin without its grid-aligned look.",
        "simplex(#{ scale: 6, seed: 1 }).render(256, 256)",
    );
    source::<noise::ValueNoise>(
        m,
        "value_noise",
        "Value noise in [0, 1]: smoothly interpolated random values on a grid (blockier than Perlin).",
        "value_noise(#{ scale: 16 }).render(256, 256)",
    );
    source::<noise::Worley>(
        m,
        "worley",
        "Worley (cellular) noise in [0, 1].",
        "worley(#{ scale: 10, output: \"f2_f1\" }).render(256, 256)",
    );
    fractal::<noise::Fbm>(
        m,
        "fbm",
        "Fractional Brownian motion: `octaves` copies of `source`, each at `lacunarity` times the \
         frequency and `gain` times the amplitude of the one before, in [0, 1].",
        "fbm(perlin(#{ scale: 8, seed: 1337 }), #{ octaves: 6 }).render(256, 256)",
    );
    fractal::<noise::Ridged>(
        m,
        "ridged",
        "Ridged multifractal: Σ gainⁱ·(1 − |nᵢ|)², sharp bright crests (mountains, veins).",
        "ridged(perlin(#{ scale: 3 }), #{ octaves: 5 }).render(256, 256)",
    );
    fractal::<noise::Billow>(
        m,
        "billow",
        "Billow: Σ gainⁱ·|nᵢ|(2 − |nᵢ|), puffy rounded lumps (clouds, cobbles).",
        "billow(perlin(#{ scale: 4 }), #{ octaves: 5 }).render(256, 256)",
    );
    fractal::<noise::Turbulence>(
        m,
        "turbulence",
        "Perlin's turbulence Σ gainⁱ·|nᵢ|: dark sharp creases (fire, smoke, marble).",
        "turbulence(perlin(#{ scale: 4 }), #{ octaves: 6 }).render(256, 256)",
    );
}

/// Patterns with options.
fn register_patterns(m: &mut Module) {
    source::<pattern::Bricks>(
        m,
        "bricks",
        "A brick wall in running bond; it tiles when `rows` is even.",
        "bricks(#{ rows: 10, cols: 5, mortar: 0.12 }).render(256, 256)",
    );
    source::<pattern::Bricks>(
        m,
        "brick_pattern",
        "`bricks`, under a name that does not clash with `std/materials`' `bricks`.",
        "brick_pattern(#{ rows: 6, cols: 3, output: \"id\" }).render(128, 128)",
    );
    source::<pattern::Tiles>(
        m,
        "tiles",
        "Square tiles: bricks without the offset.",
        "tiles(#{ n: 6, gap: 0.08 }).render(256, 256)",
    );
    source::<pattern::Dots>(
        m,
        "dots",
        "Round dots, 1 inside and 0 outside.",
        "dots(#{ n: 12, radius: 0.35, offset: 0.5 }).render(256, 256)",
    );
    source::<pattern::Voronoi>(
        m,
        "voronoi",
        "Voronoi cells.",
        "voronoi(#{ scale: 12, output: \"edge\", width: 0.08 }).render(256, 256)",
    );
    source::<pattern::GradientRadial>(
        m,
        "gradient_radial",
        "A radial ramp: 0 at the centre, 1 at `radius` and beyond.",
        "gradient_radial(#{ cx: 0.3, cy: 0.3, radius: 0.8 }).render(256, 256)",
    );
}

/// `+ - * /` between fields, colour fields and numbers, in both orders.
fn register_operators(m: &mut Module) {
    macro_rules! op {
        ($name:literal, $f:expr) => {{
            let f = $f;
            m.set_native_fn($name, move |a: Field, b: Field| ok(f(&a, &b)));
            m.set_native_fn($name, move |a: Field, b: INT| ok(f(&a, &Field::constant(b as f64))));
            m.set_native_fn($name, move |a: Field, b: f64| ok(f(&a, &Field::constant(b))));
            m.set_native_fn($name, move |a: INT, b: Field| ok(f(&Field::constant(a as f64), &b)));
            m.set_native_fn($name, move |a: f64, b: Field| ok(f(&Field::constant(a), &b)));
        }};
    }
    op!("+", |a: &Field, b: &Field| a + b);
    op!("-", |a: &Field, b: &Field| a - b);
    op!("*", |a: &Field, b: &Field| a * b);
    op!("/", |a: &Field, b: &Field| a / b);
    m.set_native_fn("-", |a: Field| ok(0.0 - &a));
    macro_rules! rgb_op {
        ($name:literal, $f:expr) => {{
            let f = $f;
            let k = |x: f64| RgbField::gray(&Field::constant(x));
            m.set_native_fn($name, move |a: RgbField, b: RgbField| lift(a.zip(&b, f)));
            m.set_native_fn($name, move |a: RgbField, b: Field| lift(a.zip(&RgbField::gray(&b), f)));
            m.set_native_fn($name, move |a: Field, b: RgbField| lift(RgbField::gray(&a).zip(&b, f)));
            m.set_native_fn($name, move |a: RgbField, b: INT| lift(a.zip(&k(b as f64), f)));
            m.set_native_fn($name, move |a: RgbField, b: f64| lift(a.zip(&k(b), f)));
            m.set_native_fn($name, move |a: INT, b: RgbField| lift(k(a as f64).zip(&b, f)));
            m.set_native_fn($name, move |a: f64, b: RgbField| lift(k(a).zip(&b, f)));
        }};
    }
    rgb_op!("+", |a: &Field, b: &Field| a + b);
    rgb_op!("-", |a: &Field, b: &Field| a - b);
    rgb_op!("*", |a: &Field, b: &Field| a * b);
    rgb_op!("/", |a: &Field, b: &Field| a / b);
}

/// An op's doc: its summary and its ```rhai example.
fn doc(summary: &str, example: &str) -> String {
    format!("{summary}\n\n```rhai\n{example}\n```")
}

/// Registers a field source as `name()` and `name(#{ ... })`: the options read into `T`, an
/// absent seed resolved to the run's, the field built by `T` (`field::Source`).
fn source<T: Source + 'static>(m: &mut Module, name: &str, summary: &str, example: &str) {
    with_options(m, name, &doc(summary, example), |ctx, o: T| ok(lift(o.field(seed_or_run(ctx, o.seed())?))?));
}

/// Registers a fractal sum as `name(source)` and `name(source, #{ ... })`, its options read into
/// `T`; the `kiln doc` entry lists `T`'s keys, as `with_options` does.
fn fractal<T: FractalOptions + 'static>(m: &mut Module, name: &str, summary: &str, example: &str) {
    let doc = doc(summary, example);
    let mut lines: Vec<String> = doc.lines().map(|l| format!("/// {l}").trim_end().to_string()).collect();
    lines.extend(["///".to_string(), "/// Options:".to_string()]);
    lines.extend(T::doc_lines().into_iter().map(|l| format!("/// {l}")));
    FuncRegistration::new(name)
        .with_comments(&lines)
        .with_params_info(["source: Field", "opts: Map", "Field"])
        .set_into_module(m, |source: Field, opts: Map| ok(lift(options::<T>(opts)?.apply(&source))?));
    let defaults_doc = [
        format!("/// `{name}(source, #{{ ... }})` with every option at its default."),
        format!("///\n/// ```rhai\n/// {name}(perlin()).render(64, 64)\n/// ```"),
    ];
    FuncRegistration::new(name)
        .with_comments(&defaults_doc)
        .with_params_info(["source: Field", "Field"])
        .set_into_module(m, |source: Field| ok(lift(T::default().apply(&source))?));
}

/// Refuses graphs deeper than the evaluator takes.
fn ok(f: Field) -> RhaiResult<Field> {
    lift(f.checked())
}

/// A colour field from an RgbField, a Color or a colour string.
fn rgb_arg(op: &str, what: &str, v: &Dynamic) -> RhaiResult<Option<RgbField>> {
    if let Some(f) = v.clone().try_cast::<RgbField>() {
        return Ok(Some(f));
    }
    if v.is_string() || v.clone().try_cast::<Color>().is_some() {
        return Ok(Some(RgbField::solid(color(op, what, v)?)));
    }
    Ok(None)
}

/// A field, or a number as a constant field.
fn field_arg(op: &str, what: &str, v: &Dynamic) -> RhaiResult<Field> {
    if let Some(f) = v.clone().try_cast::<Field>() {
        return Ok(f);
    }
    if v.is_int() || v.is_float() {
        return Ok(Field::constant(num(op, what, v)?));
    }
    Err(fail(op, format!("{what} must be a Field or a number, got {}", v.type_name())))
}

/// A palette from a name, a Palette, an array of colours or an array of `[position, colour]`.
pub fn palette_arg(op: &str, v: &Dynamic) -> RhaiResult<Palette> {
    if let Some(p) = v.clone().try_cast::<Palette>() {
        return Ok(p);
    }
    if v.is_string() {
        return lift(Palette::named(&v.clone().into_string().unwrap_or_default()));
    }
    if v.is_array() {
        let items = array(op, "palette", v, |x| Ok(x.clone()))?;
        let is_stop = |x: &Dynamic| {
            x.clone().try_cast::<rhai::Array>().is_some_and(|a| {
                a.len() == 2 && (a[0].is_int() || a[0].is_float()) && !(a[1].is_int() || a[1].is_float())
            })
        };
        if !items.is_empty() && items.iter().all(is_stop) {
            let stops = items
                .iter()
                .map(|x| {
                    let a = x.clone().cast::<rhai::Array>();
                    Ok((num(op, "stop position", &a[0])? as f32, color(op, "stop colour", &a[1])?))
                })
                .collect::<RhaiResult<Vec<_>>>()?;
            return lift(Palette::from_stops(&stops));
        }
        let colors = items.iter().map(|x| color(op, "palette colour", x)).collect::<RhaiResult<Vec<Color>>>()?;
        return lift(Palette::from_colors(&colors));
    }
    Err(fail(op, format!("palette must be a name, a Palette or an array of colours, got {}", v.type_name())))
}

#[export_module]
mod field_api {
    use super::{field_arg, ok, palette_arg, rgb_arg};
    use crate::field::{raster, Field, Palette, Pattern, RgbField};
    use crate::image::ops::edge::EdgeOptions;
    use crate::image::Image;
    use crate::script::convert::{array, color, fail, int, lift, num, size, RhaiResult};
    use rhai::Dynamic;

    // ---- patterns ----------------------------------------------------------------------------

    /// An `n` × `n` checkerboard of 0 and 1 (0 in the top-left square).
    ///
    /// ```rhai
    /// checker(8).render(256, 256)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn checker(n: Dynamic) -> RhaiResult<Field> {
        Ok(Field::pattern(lift(Pattern::checker(num("checker", "n", &n)?))?))
    }

    /// `n` pairs of 1/0 stripes across the image; `angle` 0 makes vertical stripes, positive angles
    /// turn them clockwise.
    ///
    /// ```rhai
    /// stripes(10, 45).render(256, 256)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stripes(n: Dynamic, angle: Dynamic) -> RhaiResult<Field> {
        let (n, a) = (num("stripes", "n", &n)?, num("stripes", "angle", &angle)?);
        Ok(Field::pattern(lift(Pattern::stripes(n, a))?))
    }

    /// Vertical stripes.
    ///
    /// ```rhai
    /// stripes(6).render(128, 128)
    /// ```
    #[rhai_fn(name = "stripes", return_raw)]
    pub fn stripes1(n: Dynamic) -> RhaiResult<Field> {
        stripes(n, Dynamic::from(0.0))
    }

    /// A linear ramp from 0 to 1 across the image along `angle` (0 = left to right, 90 = top to
    /// bottom).
    ///
    /// ```rhai
    /// gradient_linear(30).render(256, 128, "viridis")
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gradient_linear(angle: Dynamic) -> RhaiResult<Field> {
        Ok(Field::pattern(lift(Pattern::gradient_linear(num("gradient_linear", "angle", &angle)?))?))
    }

    /// The horizontal coordinate u = (x + 0.5) / width: 0 at the left, 1 at the right.
    ///
    /// ```rhai
    /// u().render(256, 32)
    /// ```
    pub fn u() -> Field {
        Field::u()
    }

    /// The vertical coordinate v = (y + 0.5) / height: 0 at the top, 1 at the bottom.
    ///
    /// ```rhai
    /// v().render(32, 256)
    /// ```
    pub fn v() -> Field {
        Field::v()
    }

    /// The same number everywhere.
    ///
    /// ```rhai
    /// constant(0.25).render(16, 16)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn constant(x: Dynamic) -> RhaiResult<Field> {
        Ok(Field::constant(num("constant", "x", &x)?))
    }

    /// A circle as a shape field: clamp(0.5 + signed distance, 0, 1), so the outline is at 0.5 and
    /// the inside is below it. Centre and radius in uv units.
    ///
    /// ```rhai
    /// let disc = circle_sdf(0.5, 0.5, 0.3).smoothstep(0.505, 0.495);   // 1 inside, antialiased
    /// disc.render(256, 256)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn circle_sdf(cx: Dynamic, cy: Dynamic, r: Dynamic) -> RhaiResult<Field> {
        let op = "circle_sdf";
        Ok(Field::pattern(lift(Pattern::circle(num(op, "cx", &cx)?, num(op, "cy", &cy)?, num(op, "radius", &r)?))?))
    }

    /// A `w` × `h` box centred at (cx, cy) as a shape field (see `circle_sdf`).
    ///
    /// ```rhai
    /// box_sdf(0.5, 0.5, 0.6, 0.3).step(0.5).invert().render(256, 256)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn box_sdf(cx: Dynamic, cy: Dynamic, w: Dynamic, h: Dynamic) -> RhaiResult<Field> {
        box_sdf_round(cx, cy, w, h, Dynamic::from(0.0))
    }

    /// A box with corners rounded by `round` (uv units).
    ///
    /// ```rhai
    /// box_sdf(0.5, 0.5, 0.6, 0.3, 0.05).step(0.5).invert().render(256, 256)
    /// ```
    #[rhai_fn(name = "box_sdf", return_raw)]
    pub fn box_sdf_round(cx: Dynamic, cy: Dynamic, w: Dynamic, h: Dynamic, round: Dynamic) -> RhaiResult<Field> {
        let op = "box_sdf";
        let p = Pattern::rect(
            num(op, "cx", &cx)?,
            num(op, "cy", &cy)?,
            num(op, "width", &w)?,
            num(op, "height", &h)?,
            num(op, "round", &round)?,
        );
        Ok(Field::pattern(lift(p)?))
    }

    /// A polygon through `[[u, v], ...]` (at least 3 points, any winding) as a shape field.
    ///
    /// ```rhai
    /// polygon_sdf([[0.5, 0.1], [0.9, 0.9], [0.1, 0.9]]).step(0.5).invert().render(256, 256)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn polygon_sdf(points: Dynamic) -> RhaiResult<Field> {
        let op = "polygon_sdf";
        let pts = array(op, "points", &points, |p| {
            let xy = array(op, "point", p, |x| num(op, "point coordinate", x))?;
            if xy.len() != 2 {
                return Err(fail(op, format!("each point must be [u, v], got {} numbers", xy.len())));
            }
            Ok([xy[0], xy[1]])
        })?;
        Ok(Field::pattern(lift(Pattern::polygon(&pts))?))
    }

    // ---- arithmetic --------------------------------------------------------------------------

    /// |x|.
    ///
    /// ```rhai
    /// (u() - 0.5).abs().render(64, 64)
    /// ```
    #[rhai_fn(name = "abs", return_raw, pure)]
    pub fn abs(f: &mut Field) -> RhaiResult<Field> {
        ok(f.abs())
    }

    /// sin(x), x in radians.
    ///
    /// ```rhai
    /// (u() * 20.0).sin().render(128, 32)
    /// ```
    #[rhai_fn(name = "sin", return_raw, pure)]
    pub fn sin(f: &mut Field) -> RhaiResult<Field> {
        ok(f.sin())
    }

    /// cos(x), x in radians.
    ///
    /// ```rhai
    /// (v() * 20.0).cos().render(32, 128)
    /// ```
    #[rhai_fn(name = "cos", return_raw, pure)]
    pub fn cos(f: &mut Field) -> RhaiResult<Field> {
        ok(f.cos())
    }

    /// 1 − x.
    ///
    /// ```rhai
    /// perlin().invert().render(64, 64)
    /// ```
    #[rhai_fn(name = "invert", return_raw, pure)]
    pub fn invert(f: &mut Field) -> RhaiResult<Field> {
        ok(f.invert())
    }

    /// The smaller of the field and `other` (a field or a number) at each point.
    ///
    /// ```rhai
    /// perlin().min(u()).render(64, 64)
    /// ```
    #[rhai_fn(name = "min", return_raw, pure)]
    pub fn min(f: &mut Field, other: Dynamic) -> RhaiResult<Field> {
        ok(f.min(&field_arg("min", "other", &other)?))
    }

    /// The larger of the field and `other` at each point.
    ///
    /// ```rhai
    /// perlin().max(0.4).render(64, 64)
    /// ```
    #[rhai_fn(name = "max", return_raw, pure)]
    pub fn max(f: &mut Field, other: Dynamic) -> RhaiResult<Field> {
        ok(f.max(&field_arg("max", "other", &other)?))
    }

    /// x raised to `e` (a field or a number); negative bases give 0.
    ///
    /// ```rhai
    /// perlin().pow(2.2).render(64, 64)
    /// ```
    #[rhai_fn(name = "pow", return_raw, pure)]
    pub fn pow(f: &mut Field, e: Dynamic) -> RhaiResult<Field> {
        ok(f.pow(&field_arg("pow", "exponent", &e)?))
    }

    /// Clamps to [lo, hi].
    ///
    /// ```rhai
    /// (perlin() * 2.0 - 0.5).clamp(0, 1).render(64, 64)
    /// ```
    #[rhai_fn(name = "clamp", return_raw, pure)]
    pub fn clamp(f: &mut Field, lo: Dynamic, hi: Dynamic) -> RhaiResult<Field> {
        ok(lift(f.clamp(num("clamp", "lo", &lo)?, num("clamp", "hi", &hi)?))?)
    }

    /// Clamps to [0, 1].
    ///
    /// ```rhai
    /// (perlin() * 3.0).clamp().render(64, 64)
    /// ```
    #[rhai_fn(name = "clamp", return_raw, pure)]
    pub fn clamp01(f: &mut Field) -> RhaiResult<Field> {
        ok(lift(f.clamp(0.0, 1.0))?)
    }

    /// Smooth Hermite step: 0 below `a`, 1 above `b` (a > b reverses it).
    ///
    /// ```rhai
    /// perlin(#{ scale: 6 }).smoothstep(0.45, 0.55).render(128, 128)
    /// ```
    #[rhai_fn(name = "smoothstep", return_raw, pure)]
    pub fn smoothstep(f: &mut Field, a: Dynamic, b: Dynamic) -> RhaiResult<Field> {
        ok(lift(f.smoothstep(num("smoothstep", "a", &a)?, num("smoothstep", "b", &b)?))?)
    }

    /// 1 where the field is >= `t`, else 0.
    ///
    /// ```rhai
    /// perlin().step(0.5).render(64, 64)
    /// ```
    #[rhai_fn(name = "step", return_raw, pure)]
    pub fn step(f: &mut Field, t: Dynamic) -> RhaiResult<Field> {
        ok(lift(f.step(num("step", "t", &t)?))?)
    }

    /// Maps [a, b] linearly onto [c, d] (not clamped).
    ///
    /// ```rhai
    /// perlin().remap(0.3, 0.7, 0, 1).clamp().render(64, 64)
    /// ```
    #[rhai_fn(name = "remap", return_raw, pure)]
    pub fn remap(f: &mut Field, a: Dynamic, b: Dynamic, c: Dynamic, d: Dynamic) -> RhaiResult<Field> {
        let op = "remap";
        ok(lift(f.remap(num(op, "a", &a)?, num(op, "b", &b)?, num(op, "c", &c)?, num(op, "d", &d)?))?)
    }

    /// a + (b − a)·t, each a field or a number.
    ///
    /// ```rhai
    /// mix(perlin(#{ seed: 1 }), checker(8), u()).render(128, 128)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn mix(a: Dynamic, b: Dynamic, t: Dynamic) -> RhaiResult<Dynamic> {
        let t = field_arg("mix", "t", &t)?;
        let (ca, cb) = (rgb_arg("mix", "a", &a)?, rgb_arg("mix", "b", &b)?);
        if ca.is_some() || cb.is_some() {
            let grey = |c: Option<RgbField>, v: &Dynamic, what| -> RhaiResult<RgbField> {
                match c {
                    Some(c) => Ok(c),
                    None => Ok(RgbField::gray(&field_arg("mix", what, v)?)),
                }
            };
            let (ca, cb) = (grey(ca, &a, "a")?, grey(cb, &b, "b")?);
            return Ok(Dynamic::from(lift(RgbField::mix(&ca, &cb, &t))?));
        }
        let (a, b) = (field_arg("mix", "a", &a)?, field_arg("mix", "b", &b)?);
        Ok(Dynamic::from(ok(Field::mix(&a, &b, &t))?))
    }

    /// The field's values through a palette, as a colour field (an RgbField) that can be shaded,
    /// mixed and rendered in one pass.
    ///
    /// ```rhai
    /// let wood = perlin(#{ scale: 3 }).colorize(["#6b3e1e", "#c8894a"]);
    /// (wood * (0.7 + 0.3 * v())).render(128, 128)
    /// ```
    #[rhai_fn(name = "colorize", return_raw, pure)]
    pub fn colorize(f: &mut Field, palette: Dynamic) -> RhaiResult<RgbField> {
        lift(RgbField::colorize(f, &palette_arg("colorize", &palette)?))
    }

    /// A colour field's luma (0.299 R + 0.587 G + 0.114 B) through colour stops, exactly as the
    /// image op `colorize` does (`["#000", "#f80"]` or `[[0.0, "#000"], ...]`), or through a named
    /// palette; alpha kept. Equal to rendering first and colorizing the image.
    ///
    /// ```rhai
    /// let duo = mix(color_field("navy"), color_field("orange"), perlin()).colorize(["#1b1f3a", "#fbe8c8"]);
    /// let hot = mix(color_field("navy"), color_field("orange"), perlin()).colorize("inferno");
    /// duo.render(64, 64)
    /// ```
    #[rhai_fn(name = "colorize", return_raw, pure)]
    pub fn colorize_rgb(c: &mut RgbField, palette: Dynamic) -> RhaiResult<RgbField> {
        if palette.is_array() {
            return lift(c.colorize_stops(&crate::script::api::tone::stops(&palette)?));
        }
        lift(c.colorize_luma(&palette_arg("colorize", &palette)?))
    }

    /// Levels on a field, lazily: clips to `in_lo..in_hi` and maps it linearly onto
    /// `out_lo..out_hi`, as the image op `levels` does.
    ///
    /// ```rhai
    /// perlin().levels(0.3, 0.7, 0.0, 1.0).render(64, 64)
    /// ```
    #[rhai_fn(name = "levels", return_raw, pure)]
    pub fn levels(
        f: &mut Field,
        in_lo: Dynamic,
        in_hi: Dynamic,
        out_lo: Dynamic,
        out_hi: Dynamic,
    ) -> RhaiResult<Field> {
        let n = |what, v: &Dynamic| num("levels", what, v);
        lift(f.levels(n("in_lo", &in_lo)?, n("in_hi", &in_hi)?, n("out_lo", &out_lo)?, n("out_hi", &out_hi)?))
    }

    /// Levels on a colour field's R, G and B, lazily (alpha kept), as the image op `levels` does.
    ///
    /// ```rhai
    /// perlin().colorize("magma").levels(0.1, 0.9, 0.0, 1.0).render(64, 64)
    /// ```
    #[rhai_fn(name = "levels", return_raw, pure)]
    pub fn levels_rgb(
        c: &mut RgbField,
        in_lo: Dynamic,
        in_hi: Dynamic,
        out_lo: Dynamic,
        out_hi: Dynamic,
    ) -> RhaiResult<RgbField> {
        let n = |what, v: &Dynamic| num("levels", what, v);
        lift(c.levels(n("in_lo", &in_lo)?, n("in_hi", &in_hi)?, n("out_lo", &out_lo)?, n("out_hi", &out_hi)?))
    }

    /// One colour everywhere, as a colour field.
    ///
    /// ```rhai
    /// let sky = color_field("skyblue");
    /// mix(sky, color_field("navy"), v()).render(64, 64)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn color_field(c: Dynamic) -> RhaiResult<RgbField> {
        Ok(RgbField::solid(color("color_field", "color", &c)?))
    }

    /// The red channel of a colour field.
    ///
    /// ```rhai
    /// let r = perlin().colorize("magma").red();
    /// ```
    #[rhai_fn(name = "red", pure)]
    pub fn red(c: &mut RgbField) -> Field {
        c.r.clone()
    }

    /// The green channel of a colour field.
    ///
    /// ```rhai
    /// let g = perlin().colorize("magma").green();
    /// ```
    #[rhai_fn(name = "green", pure)]
    pub fn green(c: &mut RgbField) -> Field {
        c.g.clone()
    }

    /// The blue channel of a colour field.
    ///
    /// ```rhai
    /// let b = perlin().colorize("magma").blue();
    /// ```
    #[rhai_fn(name = "blue", pure)]
    pub fn blue(c: &mut RgbField) -> Field {
        c.b.clone()
    }

    /// The colour field with an alpha channel from a field (or number).
    ///
    /// ```rhai
    /// color_field("orange").with_alpha(gradient_radial().invert()).render(64, 64)
    /// ```
    #[rhai_fn(name = "with_alpha", return_raw, pure)]
    pub fn rgb_with_alpha(c: &mut RgbField, a: Dynamic) -> RhaiResult<RgbField> {
        Ok(c.with_alpha(field_arg("with_alpha", "alpha", &a)?))
    }

    /// Luminance of a colour field (Pillow's `L` weights) as a field.
    ///
    /// ```rhai
    /// perlin().colorize("viridis").luma().render(64, 64)
    /// ```
    #[rhai_fn(name = "luma", return_raw, pure)]
    pub fn rgb_luma(c: &mut RgbField) -> RhaiResult<Field> {
        lift(c.luma())
    }

    // ---- transforms --------------------------------------------------------------------------

    /// Enlarges the picture `s` times about the centre (0.5 halves it).
    ///
    /// ```rhai
    /// checker(8).scale(2).render(128, 128)
    /// ```
    #[rhai_fn(name = "scale", return_raw, pure)]
    pub fn scale(f: &mut Field, s: Dynamic) -> RhaiResult<Field> {
        let s = num("scale", "factor", &s)?;
        ok(lift(f.scale(s, s))?)
    }

    /// Stretches the picture by `sx` horizontally and `sy` vertically about the centre.
    ///
    /// ```rhai
    /// checker(8).scale(2, 0.5).render(128, 128)
    /// ```
    #[rhai_fn(name = "scale", return_raw, pure)]
    pub fn scale_xy(f: &mut Field, sx: Dynamic, sy: Dynamic) -> RhaiResult<Field> {
        ok(lift(f.scale(num("scale", "sx", &sx)?, num("scale", "sy", &sy)?))?)
    }

    /// Moves the picture by (du, dv) in uv units (right and down).
    ///
    /// ```rhai
    /// gradient_radial().translate(0.25, 0).render(128, 128)
    /// ```
    #[rhai_fn(name = "translate", return_raw, pure)]
    pub fn translate(f: &mut Field, du: Dynamic, dv: Dynamic) -> RhaiResult<Field> {
        ok(lift(f.translate(num("translate", "du", &du)?, num("translate", "dv", &dv)?))?)
    }

    /// Turns the picture clockwise by `deg` degrees about the centre.
    ///
    /// ```rhai
    /// stripes(8).rotate(30).render(128, 128)
    /// ```
    #[rhai_fn(name = "rotate", return_raw, pure)]
    pub fn rotate(f: &mut Field, deg: Dynamic) -> RhaiResult<Field> {
        ok(lift(f.rotate(num("rotate", "angle", &deg)?))?)
    }

    /// Domain warp: samples the field at (u + amount·(fu − 0.5), v + amount·(fv − 0.5)), where `fu`
    /// and `fv` are fields (or numbers); `amount` is in uv units.
    ///
    /// ```rhai
    /// let w = fbm(perlin(#{ seed: 1 }));
    /// stripes(12).warp(w, fbm(perlin(#{ seed: 2 })), 0.3).render(256, 256)
    /// ```
    #[rhai_fn(name = "warp", return_raw, pure)]
    pub fn warp(f: &mut Field, fu: Dynamic, fv: Dynamic, amount: Dynamic) -> RhaiResult<Field> {
        let (fu, fv) = (field_arg("warp", "fu", &fu)?, field_arg("warp", "fv", &fv)?);
        ok(lift(f.warp(&fu, &fv, num("warp", "amount", &amount)?))?)
    }

    /// Repeats the whole picture `n` × `n` times.
    ///
    /// ```rhai
    /// circle_sdf(0.5, 0.5, 0.3).step(0.5).repeat(4).render(128, 128)
    /// ```
    #[rhai_fn(name = "repeat", return_raw, pure)]
    pub fn repeat(f: &mut Field, n: Dynamic) -> RhaiResult<Field> {
        let n = num("repeat", "n", &n)?;
        ok(lift(f.repeat(n, n))?)
    }

    /// Repeats the picture `nx` times across and `ny` times down.
    ///
    /// ```rhai
    /// gradient_radial().repeat(4, 2).render(128, 64)
    /// ```
    #[rhai_fn(name = "repeat", return_raw, pure)]
    pub fn repeat_xy(f: &mut Field, nx: Dynamic, ny: Dynamic) -> RhaiResult<Field> {
        ok(lift(f.repeat(num("repeat", "nx", &nx)?, num("repeat", "ny", &ny)?))?)
    }

    /// Left-right symmetry: the left half mirrored onto the right.
    ///
    /// ```rhai
    /// perlin(#{ scale: 6 }).mirror().render(128, 128)
    /// ```
    #[rhai_fn(name = "mirror", return_raw, pure)]
    pub fn mirror(f: &mut Field) -> RhaiResult<Field> {
        ok(f.mirror(true, false))
    }

    /// Mirror along `"x"` (left onto right), `"y"` (top onto bottom) or `"both"`.
    ///
    /// ```rhai
    /// perlin(#{ scale: 6 }).mirror("both").render(128, 128)
    /// ```
    #[rhai_fn(name = "mirror", return_raw, pure)]
    pub fn mirror_axis(f: &mut Field, axis: &str) -> RhaiResult<Field> {
        match axis {
            "x" => ok(f.mirror(true, false)),
            "y" => ok(f.mirror(false, true)),
            "both" => ok(f.mirror(true, true)),
            _ => Err(fail("mirror", format!("axis must be \"x\", \"y\" or \"both\", got \"{axis}\""))),
        }
    }

    /// `n`-fold kaleidoscope about the centre: the wedge clockwise of 12 o'clock, mirrored around.
    ///
    /// ```rhai
    /// perlin(#{ scale: 5 }).kaleido(6).render(256, 256)
    /// ```
    #[rhai_fn(name = "kaleido", return_raw, pure)]
    pub fn kaleido(f: &mut Field, n: Dynamic) -> RhaiResult<Field> {
        ok(lift(f.kaleido(int("kaleido", "segments", &n)?))?)
    }

    // ---- output ------------------------------------------------------------------------------

    /// Renders the field as an opaque grayscale image of `w` × `h`, in parallel.
    ///
    /// ```rhai
    /// fbm(perlin()).render(512, 512)
    /// ```
    #[rhai_fn(name = "render", return_raw, pure)]
    pub fn render(f: &mut Field, w: Dynamic, h: Dynamic) -> RhaiResult<Image> {
        let (w, h) = size("render", &w, &h)?;
        lift(f.render(w, h))
    }

    /// Renders through a palette: a name ("viridis", "magma", ...), a `palette(...)`, an array of
    /// colours, or an array of `[position, colour]` stops.
    ///
    /// ```rhai
    /// fbm(perlin()).render(256, 256, "magma");
    /// fbm(perlin()).render(256, 256, ["#002", "#08f", "#fff"])
    /// ```
    #[rhai_fn(name = "render", return_raw, pure)]
    pub fn render_palette(f: &mut Field, w: Dynamic, h: Dynamic, palette: Dynamic) -> RhaiResult<Image> {
        let (w, h) = size("render", &w, &h)?;
        let p = palette_arg("render", &palette)?;
        lift(f.render_palette(w, h, &p))
    }

    /// Three fields (or numbers) as the red, green and blue channels; render it with `render`.
    ///
    /// ```rhai
    /// rgb_field(u(), v(), perlin()).render(256, 256)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rgb_field(r: Dynamic, g: Dynamic, b: Dynamic) -> RhaiResult<RgbField> {
        let op = "rgb_field";
        Ok(RgbField::new(field_arg(op, "r", &r)?, field_arg(op, "g", &g)?, field_arg(op, "b", &b)?))
    }

    /// Four fields (or numbers) as the red, green, blue and alpha channels.
    ///
    /// ```rhai
    /// rgba_field(1, 0.5, 0, gradient_radial().invert()).render(128, 128)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rgba_field(r: Dynamic, g: Dynamic, b: Dynamic, a: Dynamic) -> RhaiResult<RgbField> {
        Ok(rgb_field(r, g, b)?.with_alpha(field_arg("rgba_field", "a", &a)?))
    }

    /// Renders the channels of an `rgb_field` as an image.
    ///
    /// ```rhai
    /// rgb_field(u(), 0.2, v()).render(64, 64)
    /// ```
    #[rhai_fn(name = "render", return_raw, pure)]
    pub fn render_rgb(f: &mut RgbField, w: Dynamic, h: Dynamic) -> RhaiResult<Image> {
        let (w, h) = size("render", &w, &h)?;
        lift(f.render(w, h))
    }

    /// A colour ramp: a name (viridis, magma, inferno, plasma, turbo, terrain, grayscale, fire, ice,
    /// ocean, sepia), an array of colours evenly spaced, or `[[position, colour], ...]` stops.
    ///
    /// ```rhai
    /// let p = palette([[0.0, "#000"], [0.6, "#f80"], [1.0, "#fff"]]);
    /// perlin().render(128, 128, p)
    /// ```
    #[rhai_fn(return_raw)]
    pub fn palette(spec: Dynamic) -> RhaiResult<Palette> {
        palette_arg("palette", &spec)
    }

    /// The palette's colour at `t` in [0, 1].
    ///
    /// ```rhai
    /// let c = palette("viridis").at(0.5);
    /// ```
    #[rhai_fn(name = "at", return_raw, pure)]
    pub fn palette_at(p: &mut Palette, t: Dynamic) -> RhaiResult<crate::image::Color> {
        Ok(p.color(num("at", "t", &t)? as f32))
    }

    /// The same palette running the other way.
    ///
    /// ```rhai
    /// perlin().render(64, 64, palette("magma").reversed())
    /// ```
    #[rhai_fn(name = "reversed", pure)]
    pub fn palette_reversed(p: &mut Palette) -> Palette {
        p.reversed()
    }

    // ---- image bridges -----------------------------------------------------------------------

    /// The image's luminance as a field (bilinear, clamped at the edges), to combine with other
    /// fields or to drive `displace`.
    ///
    /// ```rhai
    /// let img = checker(4).render(64, 64);
    /// (img.field() * perlin()).render(64, 64)
    /// ```
    #[rhai_fn(name = "field", pure)]
    pub fn image_field(img: &mut Image) -> Field {
        raster::image_field(img)
    }

    /// The image's luminance as a field with options `#{ edge }`: what the field is outside the
    /// image (`"clamp"`, `"wrap"`, `"mirror"`, or `"transparent"` for 0); default clamp, or wrap
    /// for a tileable image. A wrapped image gives a tileable field.
    ///
    /// ```rhai
    /// let img = perlin(#{ scale: 4, tileable: true }).render(64, 64);
    /// img.field(#{ edge: "wrap" }).warp(perlin(), perlin(#{ seed: 2 }), 0.2).render(64, 64)
    /// ```
    #[rhai_fn(name = "field", return_raw, pure)]
    pub fn image_field_with(img: &mut Image, opts: rhai::Map) -> RhaiResult<Field> {
        let o = crate::script::convert::options_for::<EdgeOptions>("field", opts)?;
        Ok(raster::image_field_with(img, o.edge))
    }

    /// Displaces each pixel by amount·(2f − 1) pixels along x and y, where f is the field there
    /// (0.5 leaves a pixel in place).
    ///
    /// ```rhai
    /// checker(8).render(256, 256).displace(perlin(#{ scale: 3 }), 12)
    /// ```
    #[rhai_fn(name = "displace", return_raw, pure)]
    pub fn displace(img: &mut Image, f: Field, amount: Dynamic) -> RhaiResult<Image> {
        lift(raster::displace(img, &f, num("displace", "amount", &amount)?))
    }

    /// Displaces with options `#{ edge }`: what samples past the border read (`"clamp"`,
    /// `"wrap"`, `"mirror"`, `"transparent"`); default clamp, or wrap for a tileable image.
    ///
    /// ```rhai
    /// let tex = perlin(#{ scale: 4, tileable: true }).render(128, 128);
    /// tex.displace(perlin(#{ scale: 2, tileable: true }), 12, #{ edge: "wrap" })
    /// ```
    #[rhai_fn(name = "displace", return_raw, pure)]
    pub fn displace_with(img: &mut Image, f: Field, amount: Dynamic, opts: rhai::Map) -> RhaiResult<Image> {
        let o = crate::script::convert::options_for::<EdgeOptions>("displace", opts)?;
        lift(raster::displace_with(img, &f, &f, num("displace", "amount", &amount)?, o.edge))
    }

    /// Displaces by separate fields for x and y, with options `#{ edge }`.
    ///
    /// ```rhai
    /// checker(8).render(64, 64).displace(perlin(#{ seed: 1 }), perlin(#{ seed: 2 }), 10, #{ edge: "mirror" })
    /// ```
    #[rhai_fn(name = "displace", return_raw, pure)]
    pub fn displace_xy_with(
        img: &mut Image,
        fx: Field,
        fy: Field,
        amount: Dynamic,
        opts: rhai::Map,
    ) -> RhaiResult<Image> {
        let o = crate::script::convert::options_for::<EdgeOptions>("displace", opts)?;
        lift(raster::displace_with(img, &fx, &fy, num("displace", "amount", &amount)?, o.edge))
    }

    /// Displaces by separate fields for x and y.
    ///
    /// ```rhai
    /// checker(8).render(256, 256).displace(perlin(#{ seed: 1 }), perlin(#{ seed: 2 }), 10)
    /// ```
    #[rhai_fn(name = "displace", return_raw, pure)]
    pub fn displace_xy(img: &mut Image, fx: Field, fy: Field, amount: Dynamic) -> RhaiResult<Image> {
        lift(raster::displace_xy(img, &fx, &fy, num("displace", "amount", &amount)?))
    }

    /// The image with its alpha replaced by the field (clamped to [0, 1]).
    ///
    /// ```rhai
    /// image(128, 128, "orange").with_alpha(gradient_radial().invert())
    /// ```
    #[rhai_fn(name = "with_alpha", return_raw, pure)]
    pub fn with_alpha(img: &mut Image, f: Field) -> RhaiResult<Image> {
        lift(raster::with_alpha(img, &f))
    }

    /// The image with its alpha multiplied by the field: a mask.
    ///
    /// ```rhai
    /// image(128, 128, "teal").mask(circle_sdf(0.5, 0.5, 0.4).step(0.5).invert())
    /// ```
    #[rhai_fn(name = "mask", return_raw, pure)]
    pub fn mask(img: &mut Image, f: Field) -> RhaiResult<Image> {
        lift(raster::mask(img, &f))
    }
}

#[cfg(test)]
mod tests {
    use crate::image::Image;
    use crate::script::{Host, RunConfig};

    fn run(src: &str) -> Result<Vec<Image>, String> {
        let host = Host::default();
        let c = host.compile("t.rhai", src).map_err(|e| e.to_string())?;
        host.run(&c, RunConfig::default()).map(|o| o.images).map_err(|e| e.to_string())
    }

    #[track_caller]
    fn fails(src: &str, at: &str, needle: &str) {
        let e = run(src).err().unwrap_or_else(|| panic!("no error from {src}"));
        assert!(e.starts_with(at), "expected the error at {at}, got: {e}");
        assert!(e.contains(needle), "expected '{needle}' in: {e}");
    }

    #[test]
    fn bad_parameters_fail_at_the_script_position() {
        fails(
            "let a = 1;\nlet f = fbm(perlin(), #{ octaves: -1 });",
            "t.rhai:2:9",
            "fbm: option 'octaves' must be between 1 and 16, got -1",
        );
        fails("perlin(#{ scale: 0 })", "t.rhai:1:1", "perlin: scale must be > 0");
        fails("let nan = 0.0 / 0.0;\nsimplex(#{ scale: nan })", "t.rhai:2:1", "must be a finite number");
        fails("perlin().render(8, 8, [\"#000\"])", "t.rhai:1:", "a palette needs at least 2 colours, got 1");
        fails(
            "perlin().render(8, 8, \"viridiss\")",
            "t.rhai:1:",
            "unknown palette \"viridiss\" (did you mean 'viridis'?)",
        );
        fails("palette([])", "t.rhai:1:1", "at least 2");
        fails("perlin(#{ octave: 3 })", "t.rhai:1:1", "perlin: unknown option 'octave' (did you mean 'octaves'?)");
        fails("simplex(#{ octaves: 17 })", "t.rhai:1:1", "simplex: option 'octaves' must be between 1 and 16, got 17");
        fails("worley(#{ output: \"f3\" })", "t.rhai:1:1", "option 'output' must be one of f1, f2, f2_f1, cell");
        fails("tiles(#{ output: \"ids\" })", "t.rhai:1:1", "tiles: option 'output' must be one of height, mask, id");
        fails("voronoi(#{ output: \"edges\" })", "t.rhai:1:1", "(did you mean 'edge'?)");
        fails("dots(#{ radius: -1 })", "t.rhai:1:1", "dots: radius must be >= 0");
        fails("ridged(perlin(), #{ gain: -1 })", "t.rhai:1:1", "gain must be >= 0");
        fails("checker(0)", "t.rhai:1:1", "n must be > 0");
        fails("perlin().warp(\"x\", 0.5, 1)", "t.rhai:1:", "fu must be a Field or a number");
        fails("let f = u();\nfor i in 0..3000 { f = f + 1; }", "t.rhai:2:", "deep");
        fails("noise_image(8, 8, #{ kind: \"pink\" })", "t.rhai:1:1", "option 'kind' must be one of");
        fails("noise_image(8, 8, #{ density: 2 })", "t.rhai:1:1", "option 'density' must be between 0 and 1, got 2");
        fails("scatter(image(8, 8), image(2, 2), #{ count: -1 })", "t.rhai:1:1", "scatter: count must be >= 0, got -1");
        fails(
            "scatter(image(8, 8), image(2, 2), #{ jitter: 2 })",
            "t.rhai:1:1",
            "option 'jitter' must be between 0 and 1",
        );
        fails("rng(1).int(6, 1)", "t.rhai:1:", "hi must be >= lo");
    }

    #[test]
    fn generators_without_a_seed_use_the_run_seed() {
        let host = Host::default();
        let c = host.compile("t.rhai", "[perlin().render(32, 32), perlin(#{ seed: 7 }).render(32, 32), \
             noise_image(8, 8), noise_image(8, 8, #{ seed: 7 }), voronoi().render(16, 16), voronoi(#{ seed: 7 }).render(16, 16)]").unwrap();
        let imgs = host.run(&c, RunConfig { seed: 7, ..RunConfig::default() }).unwrap().images;
        for pair in imgs.chunks(2) {
            assert_eq!(pair[0].pixels(), pair[1].pixels());
        }
        let other = host.run(&c, RunConfig { seed: 8, ..RunConfig::default() }).unwrap().images;
        assert_ne!(other[0].pixels(), imgs[0].pixels(), "--seed must change unseeded generators");
    }

    fn px(img: &Image, x: i64) -> f32 {
        img.get(x, 0).unwrap().r
    }

    #[test]
    fn operators_take_fields_ints_and_floats_in_both_orders() {
        let imgs = run("let f = u();\n[(f + 1).render(4, 1), (1 + f).render(4, 1), (2.0 * f).render(4, 1), \
                        (f / 2).render(4, 1), (1 - f).render(4, 1), (-f).render(4, 1), (f * f - f / 2.0).render(4, 1), \
                        mix(0, 1, f).render(4, 1), (f.colorize([\"#000\", \"#fff\"]) * 0.5).render(4, 1)]")
        .unwrap();
        let want = [1.125, 1.125, 0.25, 0.0625, 0.875, -0.125, 0.125 * 0.125 - 0.0625, 0.125, 0.0625];
        for (i, (img, w)) in imgs.iter().zip(want).enumerate() {
            assert!((px(img, 0) - w).abs() < 1e-3, "case {i}: {} != {w}", px(img, 0));
        }
    }

    /// Every generator of the Fields and Random APIs in one script.
    const EVERYTHING: &str = r#"
        let n = [perlin(#{ seed: 1, scale: 5 }), simplex(#{ seed: 2, tileable: true }), value_noise(#{ seed: 3 }),
                 worley(#{ seed: 4, output: "f2_f1" }), worley(#{ output: "cell" }), perlin(#{ octaves: 3 })];
        let f = fbm(n[0]) * 0.3 + ridged(n[1], #{ octaves: 4 }) * 0.2 + billow(n[2]) * 0.2 + turbulence(n[3]) * 0.3;
        let p = checker(6) * stripes(5, 30) + bricks(#{ seed: 2 }) * tiles(#{ output: "id" }) - dots() + voronoi(#{ output: "edge" })
              + gradient_linear(15) + gradient_radial() + circle_sdf(0.5, 0.5, 0.2) + box_sdf(0.5, 0.5, 0.3, 0.2)
              + polygon_sdf([[0.1, 0.1], [0.9, 0.2], [0.5, 0.9]]);
        let g = mix(f, p.abs().sin().cos(), v()).warp(n[4], n[5], 0.2).rotate(12).scale(1.3).translate(0.1, 0)
              .repeat(2).mirror().kaleido(5).smoothstep(0.1, 0.9).pow(1.2).remap(0, 1, 0.1, 0.9).clamp().invert()
              .min(0.95).max(n[0]).step(0.2) + fbm(checker(3));
        let img = g.render(96, 64, "turbo");
        let r = rng(5);
        let stamp = color_field(r.color()).with_alpha(circle_sdf(0.5, 0.5, 0.4).step(0.5).invert()).render(9, 9);
        [img, rgb_field(f, p, g).render(96, 64), img.displace(f, 5), img.field().render(96, 64),
         noise_image(96, 64, #{ kind: "gaussian", mono: false }), noise_image(96, 64, #{ kind: "salt_pepper" }),
         scatter(img, stamp, #{ count: 30, rotate: 90, scale: [0.5, 2], poisson: true }),
         scatter(img, stamp, #{ count: [10, 40], jitter: 0.5 }), img.mask(f), img.with_alpha(p.clamp())]
    "#;

    #[test]
    fn a_script_using_every_generator_is_byte_identical_at_1_and_4_threads() {
        let at = |n: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
            pool.install(|| run(EVERYTHING)).unwrap()
        };
        let (one, four) = (at(1), at(4));
        assert_eq!(one.len(), 10);
        for (i, (a, b)) in one.iter().zip(&four).enumerate() {
            assert!(a.pixels() == b.pixels(), "image {i} differs between 1 and 4 threads");
        }
        assert_eq!(at(1)[6].pixels(), one[6].pixels(), "repeated runs differ");
    }

    /// std/materials, inlined (the resolver's `import` is tested by the host's own tests).
    /// Runs `calls` with `std/materials` imported as `m`.
    fn materials(calls: &str) -> Result<Vec<Image>, String> {
        run(&format!("import \"std/materials\" as m;\n{calls}"))
    }

    #[test]
    fn every_material_renders_at_any_size_and_rejects_unknown_options() {
        // The one list of materials: std/materials' own `names()`.
        let names: Vec<String> = crate::script::Host::default()
            .engine()
            .eval::<rhai::Array>(r#"import "std/materials" as m; m::names()"#)
            .unwrap()
            .into_iter()
            .map(|n| n.into_string().unwrap())
            .collect();
        let calls: Vec<String> =
            names.iter().map(|n| format!("m::preview(m::{n}(#{{ size: 48, seed: 5, tileable: true }}))")).collect();
        let imgs = materials(&format!("[{}]", calls.join(", "))).unwrap();
        assert_eq!(imgs.len(), names.len());
        for (n, img) in names.iter().zip(&imgs) {
            assert_eq!(img.dimensions(), (48, 48), "{n}");
            let spread = img
                .pixels()
                .chunks(4)
                .map(|p| p[0] + p[1] + p[2])
                .fold((f32::MAX, f32::MIN), |(a, b), x| (a.min(x), b.max(x)));
            assert!(spread.1 - spread.0 > 0.1, "{n} is flat");
        }
        let e = materials("m::bricks(#{ size: 32, colour: \"red\" })").unwrap_err();
        assert!(e.contains("bricks: unknown option 'colour'"), "{e}");
    }
}
