//! Graph, evaluator, pattern and raster contracts: arithmetic, transforms, ranges, tiling,
//! determinism across thread counts, and limits.

use crate::field::noise::tests::seam;
use crate::field::pattern::{Bricks, CellOutput, Pattern, VoronoiOutput};
use crate::field::raster::{self, field_values};
use crate::field::*;
use crate::image::color::Color;
use crate::image::Image;
use crate::options::{OptionSet, OptionValue};

fn perlin(seed: u64, scale: f64, tileable: bool) -> Field {
    Field::noise(Noise::new(NoiseKind::Perlin, NoiseOptions { seed, scale, tileable }).unwrap())
}

fn at(f: &Field, w: u32, h: u32, x: usize, y: usize) -> f32 {
    field_values(f, w, h).unwrap()[y * w as usize + x]
}

#[test]
fn coordinates_are_pixel_centres() {
    assert_eq!(at(&Field::u(), 4, 2, 0, 0), 0.125);
    assert_eq!(at(&Field::u(), 4, 2, 3, 1), 0.875);
    assert_eq!(at(&Field::v(), 4, 2, 3, 1), 0.75);
}

#[test]
fn arithmetic_in_both_orders() {
    let u = Field::u();
    let cases: [(Field, f32); 8] = [
        (&u + 1.0, 1.125),
        (2.0 - &u, 1.875),
        (&u * 4.0, 0.5),
        (1.0 / &u, 8.0),
        (&u / 0.0, 0.0), // division by zero renders as 0, never NaN
        (Field::mix(&Field::constant(2.0), &Field::constant(4.0), &u), 2.25),
        (u.remap(0.0, 1.0, 10.0, 20.0).unwrap(), 11.25),
        (u.smoothstep(0.0, 0.25).unwrap(), 0.5),
    ];
    for (i, (f, want)) in cases.iter().enumerate() {
        assert!((at(f, 4, 1, 0, 0) - want).abs() < 1e-6, "case {i}: {} != {want}", at(f, 4, 1, 0, 0));
    }
    assert_eq!(at(&u.step(0.5).unwrap(), 4, 1, 1, 0), 0.0);
    assert_eq!(at(&u.step(0.5).unwrap(), 4, 1, 2, 0), 1.0);
    assert_eq!(at(&(&u - 1.0).pow(&Field::constant(0.5)), 4, 1, 0, 0), 0.0);
}

#[test]
fn transforms_move_the_picture() {
    // a dot at the centre, moved right by a quarter
    let dot = Field::pattern(Pattern::circle(0.5, 0.5, 0.1).unwrap());
    let moved = dot.translate(0.25, 0.0).unwrap();
    assert!(at(&moved, 100, 100, 75, 50) < 0.5 && at(&moved, 100, 100, 50, 50) > 0.5);
    // rotating a dot above the centre by 90° clockwise puts it right of the centre
    let top = Field::pattern(Pattern::circle(0.5, 0.2, 0.05).unwrap()).rotate(90.0).unwrap();
    assert!(at(&top, 100, 100, 80, 50) < 0.5, "rotation is clockwise on screen");
    // scale(2) about the centre doubles the radius
    let big = dot.scale(2.0, 2.0).unwrap();
    assert!(at(&big, 100, 100, 67, 50) < 0.5 && at(&dot, 100, 100, 67, 50) > 0.5);
    // mirror copies the left half onto the right
    let m = Field::u().mirror(true, false);
    assert!((at(&m, 10, 1, 1, 0) - at(&m, 10, 1, 8, 0)).abs() < 1e-6);
    // repeat tiles the picture
    let r = Field::u().repeat(2.0, 2.0).unwrap();
    assert!((at(&r, 8, 8, 0, 0) - at(&r, 8, 8, 4, 0)).abs() < 1e-6);
    // warp by constant 0.5 fields changes nothing
    let p = perlin(1, 4.0, false);
    let w = p.warp(&Field::constant(0.5), &Field::constant(0.5), 0.3).unwrap();
    assert_eq!(field_values(&p, 32, 32).unwrap(), field_values(&w, 32, 32).unwrap());
    assert!(Field::u().scale(0.0, 1.0).is_err());
    assert!(Field::u().rotate(f64::NAN).is_err());
    assert!(Field::u().kaleido(0).is_err());
}

fn patterns() -> Vec<(&'static str, Field)> {
    let mut b = Bricks::default();
    let mut v = vec![
        ("checker", Field::pattern(Pattern::checker(8.0).unwrap())),
        ("stripes", Field::pattern(Pattern::stripes(6.0, 0.0).unwrap())),
        ("bricks", Field::pattern(Pattern::bricks(b.clone(), 0).unwrap())),
        ("dots", Field::pattern(Pattern::dots(8.0, 0.3, 0.05, 0.0).unwrap())),
        ("gradient_radial", Field::pattern(Pattern::gradient_radial(0.5, 0.5, 0.5).unwrap())),
        ("gradient_linear", Field::pattern(Pattern::gradient_linear(0.0).unwrap())),
    ];
    b.output = CellOutput::Id;
    v.push(("bricks id", Field::pattern(Pattern::bricks(b, 0).unwrap())));
    for (name, out) in [("voronoi cell", VoronoiOutput::Cell), ("voronoi edge", VoronoiOutput::Edge)] {
        let o = NoiseOptions { seed: 2, scale: 6.0, tileable: true };
        v.push((name, Field::pattern(Pattern::voronoi(o, out, 0.05).unwrap())));
    }
    v
}

#[test]
fn patterns_and_shapes_stay_in_unit_range() {
    let mut all = patterns();
    all.push(("circle", Field::pattern(Pattern::circle(0.5, 0.5, 0.3).unwrap())));
    all.push(("box", Field::pattern(Pattern::rect(0.5, 0.5, 0.4, 0.2, 0.02).unwrap())));
    all.push(("polygon", Field::pattern(Pattern::polygon(&[[0.5, 0.1], [0.9, 0.9], [0.1, 0.9]]).unwrap())));
    for (name, f) in all {
        let v = field_values(&f, 300, 300).unwrap();
        let (lo, hi) = v.iter().fold((f32::MAX, f32::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        assert!(lo >= 0.0 && hi <= 1.0 && hi > lo, "{name}: [{lo}, {hi}]");
    }
}

#[test]
fn shapes_put_the_outline_at_one_half() {
    let c = Field::pattern(Pattern::circle(0.5, 0.5, 0.25).unwrap());
    assert!((at(&c, 1000, 1000, 500, 500) - 0.25).abs() < 0.01, "inside is below 0.5");
    assert!((at(&c, 1000, 1000, 750, 500) - 0.5).abs() < 0.01);
    let tri = Field::pattern(Pattern::polygon(&[[0.5, 0.1], [0.9, 0.9], [0.1, 0.9]]).unwrap());
    assert!(at(&tri, 100, 100, 50, 60) < 0.5 && at(&tri, 100, 100, 5, 5) > 0.5);
    assert!(Pattern::polygon(&[[0.0, 0.0], [1.0, 1.0]]).is_err());
}

#[test]
fn patterns_tile() {
    for (name, f) in patterns() {
        if name.starts_with("gradient") {
            continue;
        }
        // whole counts: the wrap edge is as smooth as the inside (here, hard edges line up)
        let n = 256;
        let v = field_values(&f, n as u32, n as u32).unwrap();
        let (wrap, inner) = seam(&v, n);
        assert!(wrap <= 1.25 * inner + 1e-6, "{name}: wrap {wrap} > inner {inner}");
    }
}

/// A graph that uses every kind of node.
fn everything() -> Field {
    let p = perlin(3, 4.0, false);
    let s = Field::noise(Noise::new(NoiseKind::Simplex, NoiseOptions { seed: 4, scale: 3.0, tileable: true }).unwrap());
    let w = Field::noise(
        Noise::new(NoiseKind::Worley(WorleyOutput::F2F1), NoiseOptions { seed: 5, scale: 6.0, tileable: false })
            .unwrap(),
    );
    let fr = p.fractal(Fractal::new(FractalKind::Ridged, 4, 2.0, 0.5).unwrap()).unwrap();
    let generic =
        Field::pattern(Pattern::checker(3.0).unwrap()).fractal(Fractal::default_for(FractalKind::Fbm)).unwrap();
    let img = Image::from_fn(16, 16, |x, y| [x as f32 / 16.0, y as f32 / 16.0, 0.5, 1.0]).unwrap();
    let warped = fr.warp(&s, &w, 0.2).unwrap().rotate(17.0).unwrap().kaleido(5).unwrap();
    let mixed = Field::mix(&warped, &generic, &Field::from_image(&img));
    ((mixed * 1.5 - &s.sin()) / (&w + 0.1)).abs().min(&Field::u().repeat(3.0, 2.0).unwrap().mirror(true, true))
}

#[test]
fn byte_identical_at_any_thread_count() {
    let f = everything();
    let pal = Palette::named("turbo").unwrap();
    let render = |n: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
        pool.install(|| (f.render(301, 203).unwrap(), f.render_palette(301, 203, &pal).unwrap()))
    };
    let (a1, b1) = render(1);
    for n in [2, 3, 4] {
        let (a, b) = render(n);
        assert!(a.pixels() == a1.pixels() && b.pixels() == b1.pixels(), "{n} threads differ from 1");
    }
}

#[test]
fn shared_subgraphs_are_evaluated_once_and_agree() {
    let p = perlin(1, 5.0, false);
    let twice = &p + &p;
    let a = field_values(&twice, 64, 64).unwrap();
    let b = field_values(&p, 64, 64).unwrap();
    assert!(a.iter().zip(&b).all(|(x, y)| *x == 2.0 * y));
}

#[test]
fn deep_graphs_are_refused_not_overflowed() {
    let mut f = Field::u();
    for _ in 0..(graph::MAX_DEPTH + 5) {
        f = f + 1.0;
    }
    let e = f.render(4, 4).unwrap_err().to_string();
    assert!(e.contains("deep"), "{e}");
}

#[test]
fn image_bridges() {
    let img = Image::from_fn(64, 32, |x, _| {
        let g = x as f32 / 63.0;
        [g, g, g, 1.0]
    })
    .unwrap();
    let f = Field::from_image(&img);
    let back = f.render(64, 32).unwrap();
    let diff = img.pixels().iter().zip(back.pixels()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
    assert!(diff < 1e-5, "img.field().render() round trip differs by {diff}");
    // displacement by a constant 0.5 field is the identity
    let same = raster::displace(&img, &Field::constant(0.5), 10.0).unwrap();
    assert!(same.pixels().iter().zip(img.pixels()).all(|(a, b)| (a - b).abs() < 1e-6));
    // 1.0 shifts by +amount: pixel x samples x + 4
    let shifted = raster::displace(&img, &Field::constant(1.0), 4.0).unwrap();
    assert!((shifted.get(10, 5).unwrap().r - img.get(14, 5).unwrap().r).abs() < 1e-5);
    // alpha from a field
    let a = raster::with_alpha(&Image::filled(8, 8, Color::WHITE).unwrap(), &Field::u()).unwrap();
    assert_eq!(a.get(0, 0).unwrap().a, 1.0 / 16.0);
    let m = raster::mask(&a, &Field::constant(0.5)).unwrap();
    assert_eq!(m.get(0, 0).unwrap().a, 0.5 / 16.0);
}

#[test]
fn rgb_field_renders_channels() {
    let img = raster::render_rgb(&Field::u(), &Field::constant(0.25), &Field::v(), None, 4, 4).unwrap();
    let c = img.get(3, 0).unwrap();
    assert_eq!((c.r, c.g, c.b, c.a), (0.875, 0.25, 0.125, 1.0));
}

#[test]
fn bad_pattern_parameters_are_errors() {
    assert!(Pattern::checker(0.0).is_err());
    assert!(Pattern::stripes(f64::NAN, 0.0).is_err());
    assert!(Pattern::bricks(Bricks { rows: -1.0, ..Bricks::default() }, 0).is_err());
    assert!(Pattern::voronoi(NoiseOptions { seed: 0, scale: 0.0, tileable: false }, VoronoiOutput::Cell, 0.1).is_err());
    assert!(Field::u().clamp(1.0, 0.0).is_err());
    assert!(Field::u().smoothstep(0.3, 0.3).is_err());
}

// ---- option sets ---------------------------------------------------------------------------

fn read<T: OptionSet>(pairs: &[(&str, OptionValue)]) -> crate::error::Result<T> {
    T::from_pairs(pairs.iter().map(|(k, v)| (*k, v)))
}

fn message<T: OptionSet + std::fmt::Debug>(pairs: &[(&str, OptionValue)]) -> String {
    read::<T>(pairs).unwrap_err().to_string()
}

fn text(s: &str) -> OptionValue {
    OptionValue::Text(s.into())
}

#[test]
fn option_sets_keep_the_documented_defaults() {
    let p = Perlin::default();
    assert_eq!((p.seed, p.scale, p.tileable, p.octaves, p.lacunarity, p.gain), (None, 4.0, false, None, None, None));
    assert_eq!(Worley::default().output, WorleyOutput::F1);
    assert_eq!(NoiseOptions::default(), NoiseOptions { seed: 0, scale: 4.0, tileable: false });
    let f = Fbm::default().fractal().unwrap();
    assert_eq!(f, Fractal::default_for(FractalKind::Fbm));
    assert_eq!((f.octaves, f.lacunarity, f.gain), (6, 2.0, 0.5));
    assert_eq!(Turbulence::default().fractal().unwrap().kind, FractalKind::Turbulence);
    let b = Bricks::default();
    assert_eq!((b.rows, b.cols, b.mortar, b.bevel, b.offset, b.seed), (8.0, 4.0, 0.1, 0.15, 0.5, None));
    assert_eq!(b.output, CellOutput::Height);
    let t = Tiles::default();
    assert_eq!((t.n, t.rows, t.cols, t.gap, t.bevel, t.output), (8.0, None, None, 0.06, 0.1, CellOutput::Height));
    let d = Dots::default();
    assert_eq!((d.n, d.radius, d.softness, d.offset), (8.0, 0.3, 0.05, 0.0));
    let v = Voronoi::default();
    assert_eq!((v.scale, v.seed, v.tileable, v.output, v.width), (8.0, None, false, VoronoiOutput::Cell, 0.05));
    let g = GradientRadial::default();
    assert_eq!((g.cx, g.cy, g.radius), (0.5, 0.5, 0.5));
    // the doc lines come from the same declarations
    let keys: Vec<_> = Worley::keys().iter().map(|k| k.name).collect();
    assert_eq!(keys, ["seed", "scale", "tileable", "octaves", "lacunarity", "gain", "output"]);
    assert_eq!(Fbm::keys()[0].describe(), "`octaves` (whole number, default 6, 1 to 16): Octaves summed.");
    assert!(Voronoi::doc_lines()
        .iter()
        .any(|l| l.starts_with("- `output` (\"cell\" | \"edge\" | \"distance\", default \"cell\")")));
}

#[test]
fn option_sets_name_their_op_in_errors() {
    assert_eq!(
        message::<Simplex>(&[("octave", OptionValue::Int(3))]),
        "simplex: unknown option 'octave' (did you mean 'octaves'?); valid options are: gain, lacunarity, octaves, \
         scale, seed, tileable"
    );
    assert!(message::<Tiles>(&[("gapp", OptionValue::Int(0))])
        .starts_with("tiles: unknown option 'gapp' (did you mean 'gap'?)"));
    assert_eq!(
        message::<Ridged>(&[("octaves", OptionValue::Int(17))]),
        "ridged: option 'octaves' must be between 1 and 16, got 17"
    );
    assert_eq!(
        message::<Perlin>(&[("octaves", OptionValue::Int(0))]),
        "perlin: option 'octaves' must be between 1 and 16, got 0"
    );
    assert_eq!(
        message::<Worley>(&[("output", text("f3"))]),
        "worley: option 'output' must be one of f1, f2, f2_f1, cell, got \"f3\" (did you mean 'f1'?)"
    );
    assert_eq!(
        message::<Bricks>(&[("output", text("mask "))]),
        "bricks: option 'output' must be one of height, mask, id, got \"mask \" (did you mean 'mask'?)"
    );
    assert!(message::<Voronoi>(&[("output", text("edges"))]).ends_with("(did you mean 'edge'?)"));
    // values the ranges cannot express are checked where the field is built
    let e = |r: crate::error::Result<Field>| r.unwrap_err().to_string();
    assert_eq!(
        e(read::<Perlin>(&[("scale", OptionValue::Int(0))]).unwrap().field(0)),
        "perlin: scale must be > 0 and <= 100000, got 0"
    );
    assert_eq!(
        e(read::<Perlin>(&[("gain", OptionValue::Int(-1))]).unwrap().field(0)),
        "fbm: gain must be >= 0, got -1"
    );
    assert_eq!(e(read::<Dots>(&[("n", OptionValue::Int(0))]).unwrap().field(0)), "dots: n must be > 0, got 0");
}

#[test]
fn sources_build_the_fields_their_options_describe() {
    let same = |a: &Field, b: &Field| assert_eq!(field_values(a, 24, 24).unwrap(), field_values(b, 24, 24).unwrap());
    // an octave option makes a noise an fbm sum, the others at their defaults
    let o: Perlin = read(&[("octaves", OptionValue::Int(3)), ("scale", OptionValue::Int(5))]).unwrap();
    let n = Noise::new(NoiseKind::Perlin, NoiseOptions { seed: 9, scale: 5.0, tileable: false }).unwrap();
    let fbm = Fractal::new(FractalKind::Fbm, 3, 2.0, 0.5).unwrap();
    same(&o.field(9).unwrap(), &Field::noise(n.with_fractal(fbm).unwrap()));
    assert_eq!(o.seed(), None, "no seed given: the front end hands in the run's");
    let w: Worley = read(&[("seed", OptionValue::Int(4)), ("output", text("cell"))]).unwrap();
    assert_eq!(w.seed(), Some(4));
    let n = Noise::new(NoiseKind::Worley(WorleyOutput::Cell), NoiseOptions { seed: 4, ..NoiseOptions::default() });
    same(&w.field(4).unwrap(), &Field::noise(n.unwrap()));
    // tiles are bricks without the offset, `n` per side unless rows/cols say otherwise
    let t: Tiles = read(&[("cols", OptionValue::Int(3)), ("gap", OptionValue::Float(0.1))]).unwrap();
    let b = Bricks { rows: 8.0, cols: 3.0, mortar: 0.1, bevel: 0.1, offset: 0.0, ..Bricks::default() };
    same(&t.field(1).unwrap(), &Field::pattern(Pattern::bricks(b, 1).unwrap()));
    let r: Ridged = read(&[("octaves", OptionValue::Int(4))]).unwrap();
    let src = perlin(2, 3.0, false);
    same(&r.apply(&src).unwrap(), &src.fractal(Fractal::new(FractalKind::Ridged, 4, 2.0, 0.5).unwrap()).unwrap());
}
