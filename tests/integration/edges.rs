//! Edge modes and the tileable tag (issue 12 §1): neighbourhood ops on tileable inputs stay
//! tileable under the field tests' seam metric with wrap and fail it with clamp (the control);
//! every mode of every filter equals the same filter run with clamp on an independently built
//! 3×3 arrangement of the image (tiled for wrap, flipped for mirror, transparent-padded for
//! transparent), cropped back to the middle.

use kiln::ops::edge::Edge;
use kiln::ops::filter::{self, Blur, BoxBlur, Convolve};
use kiln::ops::geometry::{crop, flip_h, flip_v, pad, tile};

use kiln::script::{Host, RunConfig};
use kiln::texture_stats::Seam;
use kiln::{Color, Field, Image, Noise, NoiseKind, NoiseOptions};

/// A tileable Perlin texture, rendered at `n`² (tagged tileable by the render).
fn tileable_noise(n: u32, scale: f64) -> Image {
    let f = Field::noise(Noise::new(NoiseKind::Perlin, NoiseOptions { seed: 7, scale, tileable: true }).unwrap());
    f.render(n, n).unwrap()
}

/// kiln's seam metric (`texture_stats::Seam`, the field tests' one) on the red channel: the
/// mean difference across the wrap edge (last column to first, last row to first), and the
/// largest mean difference between neighbouring columns or rows inside the image.
fn seam(img: &Image) -> (f64, f64) {
    let s = Seam::of_channel(img, 0);
    (s.wrap, s.inner)
}

/// A tileable image has `wrap <= 1.25 × inner` (`texture_stats::TILEABLE_RATIO`).
fn seamless(img: &Image) -> bool {
    Seam::of_channel(img, 0).tileable()
}

type Op = Box<dyn Fn(&Image, Option<Edge>) -> kiln::Result<Image>>;

fn ops() -> Vec<(&'static str, Op)> {
    vec![
        ("blur fir", Box::new(|i, e| filter::blur_with(i, &Blur { edge: e, ..Blur::sigma(2.0) }))),
        ("blur recursive", Box::new(|i, e| filter::blur_with(i, &Blur { edge: e, ..Blur::sigma(6.0) }))),
        // A strong sharpen: a clamped border is under-sharpened by 3/8·amount·gradient on each side,
        // which at amount 12 makes the wrap edge 1.4× the largest inner step (wrap: 0.5×). At
        // small amounts the clamped seam is *flatter* than the interior (0.3× at amount 2), which
        // the one-sided metric of the field tests does not flag.
        ("sharpen", Box::new(|i, e| filter::sharpen_with(i, 12.0, e))),
        (
            "unsharp",
            Box::new(|i, e| filter::unsharp_with(i, &filter::Unsharp { edge: e, ..filter::Unsharp::new(3.0, 2.0) })),
        ),
        ("median", Box::new(|i, e| filter::median_with(i, 3, e))),
    ]
}

#[test]
fn blur_sharpen_and_median_keep_a_tileable_texture_tileable_with_wrap_and_break_it_with_clamp() {
    let tex = tileable_noise(128, 3.0);
    assert!(tex.tileable(), "a tileable field's render is tagged");
    assert!(seamless(&tex), "the input itself tiles: {:?}", seam(&tex));
    for (name, op) in ops() {
        // The tag makes wrap the default; an explicit wrap is the same.
        let by_tag = op(&tex, None).unwrap();
        let wrapped = op(&tex, Some(Edge::Wrap)).unwrap();
        assert_eq!(by_tag.pixels(), wrapped.pixels(), "{name}");
        assert!(seamless(&wrapped) && wrapped.tileable(), "{name} wrap: {:?}", seam(&wrapped));
        // The control: the same op with clamp leaves a seam, and the tag goes.
        let clamped = op(&tex, Some(Edge::Clamp)).unwrap();
        assert!(!seamless(&clamped) && !clamped.tileable(), "{name} clamp: {:?}", seam(&clamped));
    }
}

/// An opaque photo-like test image with all pixels different, tagged or not.
fn pattern(w: u32, h: u32) -> Image {
    Image::from_fn(w, h, |x, y| {
        let v = ((x * 37 + y * 91) % 101) as f32 / 100.0;
        [v, (x as f32 * 0.7).sin() * 0.5 + 0.5, (y as f32 / h as f32), 1.0]
    })
    .unwrap()
}

/// The image in a 3×3 arrangement that shows, around the middle copy, what `edge` reads there.
fn surround(img: &Image, edge: Edge) -> Image {
    let (w, h) = (img.width() as i64, img.height() as i64);
    match edge {
        Edge::Wrap => tile(img, 3, 3).unwrap(),
        Edge::Mirror => {
            let (fh, fv, fhv) = (flip_h(img), flip_v(img), flip_v(&flip_h(img)));
            let row = |a: &Image, b: &Image, c: &Image| {
                let mut out = Image::new(3 * w as u32, h as u32).unwrap();
                for (i, part) in [a, b, c].into_iter().enumerate() {
                    out = kiln::ops::composite::over_at(part, &out, i as i64 * w, 0).unwrap();
                }
                out
            };
            let (top, mid) = (row(&fhv, &fv, &fhv), row(&fh, img, &fh));
            let mut out = Image::new(3 * w as u32, 3 * h as u32).unwrap();
            for (i, part) in [&top, &mid, &top].into_iter().enumerate() {
                out = kiln::ops::composite::over_at(part, &out, 0, i as i64 * h).unwrap();
            }
            out
        }
        Edge::Transparent => pad(img, w, h, w, h, Color::TRANSPARENT).unwrap(),
        Edge::Clamp => unreachable!(),
    }
}

fn max_diff(a: &Image, b: &Image) -> f32 {
    assert_eq!(a.dimensions(), b.dimensions());
    a.pixels().iter().zip(b.pixels()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
}

#[test]
fn every_filter_in_every_mode_equals_clamp_on_the_surrounded_image() {
    let img = pattern(23, 17);
    type Run = fn(&Image, Option<Edge>) -> kiln::Result<Image>;
    let runs: [(&str, Run, f32); 10] = [
        ("blur fir", |i, e| filter::blur_with(i, &Blur { edge: e, ..Blur::sigma(1.5) }), 1e-6),
        // Recursive: the extension is 5σ wide (the rest of the tail weighs < 3e-7); what remains is
        // the f32 rounding of a recursion started at another place (measured 1.7e-5): 5e-5 is
        // 1/80 of an 8-bit level.
        ("blur recursive", |i, e| filter::blur_with(i, &Blur { edge: e, ..Blur::sigma(3.0) }), 5e-5),
        ("box blur", |i, e| filter::box_blur_with(i, &BoxBlur { radius: 3, linear: false, edge: e }), 1e-6),
        (
            "unsharp",
            |i, e| filter::unsharp_with(i, &filter::Unsharp { edge: e, ..filter::Unsharp::new(1.0, 0.8) }),
            1e-6,
        ),
        ("sharpen", |i, e| filter::sharpen_with(i, 1.0, e), 1e-6),
        (
            "convolve",
            |i, e| {
                let kernel =
                    vec![vec![0.0, 1.0, 0.0, 0.5, 0.0], vec![0.2, 0.0, 0.3, 0.0, 0.1], vec![0.0, 0.0, 1.0, 0.0, -0.4]];
                filter::convolve_with(i, &Convolve { kernel, normalize: false, edge: e })
            },
            1e-6,
        ),
        ("median", |i, e| filter::median_with(i, 2, e), 1e-6),
        ("edges", |i, e| filter::edges_with(i, e), 1e-6),
        ("emboss", |i, e| filter::emboss_with(i, e), 1e-6),
        ("blur linear", |i, e| filter::blur_with(i, &Blur { edge: e, ..Blur::sigma(1.0).linear(true) }), 1e-5),
    ];
    let (w, h) = (img.width() as i64, img.height() as i64);
    for (name, run, tol) in runs {
        for edge in [Edge::Wrap, Edge::Mirror, Edge::Transparent] {
            let got = run(&img, Some(edge)).unwrap();
            let big = run(&surround(&img, edge), Some(Edge::Clamp)).unwrap();
            let want = crop(&big, w, h, w, h).unwrap();
            let d = max_diff(&got, &want);
            assert!(d <= tol, "{name} {edge:?}: differs by {d}");
        }
        // Clamp is the old default, untouched: no option, no tag.
        assert_eq!(run(&img, None).unwrap().pixels(), run(&img, Some(Edge::Clamp)).unwrap().pixels(), "{name}");
    }
}

#[test]
fn translate_with_wrap_scrolls_a_texture_round() {
    use kiln::ops::geometry::{translate_with, Sampling};
    let img = pattern(20, 12).with_tileable(true);
    // The tag makes wrap the default: a whole-pixel shift is a cyclic roll, exactly.
    let rolled = translate_with(&img, 5.0, -3.0, &Sampling::default()).unwrap();
    for y in 0..12i64 {
        for x in 0..20i64 {
            assert_eq!(rolled.get(x, y), img.get((x - 5).rem_euclid(20), (y + 3).rem_euclid(12)));
        }
    }
    assert!(rolled.tileable());
    // A fractional shift with wrap: bilinear between the two wrapped neighbours, at the border too.
    let half = translate_with(&img, 0.5, 0.0, &Sampling { edge: Some(Edge::Wrap), ..Sampling::default() }).unwrap();
    let (a, b) = (img.get(19, 4).unwrap().r, img.get(0, 4).unwrap().r);
    assert!((half.get(0, 4).unwrap().r - (a + b) / 2.0).abs() < 1e-6);
    // Without the tag, translate still uncovers the background.
    let plain = translate_with(&pattern(20, 12), 5.0, 0.0, &Sampling::default()).unwrap();
    assert_eq!(plain.get(0, 0), Some(Color::TRANSPARENT));
}

fn run(script: &str) -> Vec<Image> {
    let host = Host::default();
    let c = host.compile("edges.rhai", script).unwrap();
    host.run(&c, RunConfig::default()).unwrap().images
}

fn run_err(script: &str) -> String {
    let host = Host::default();
    let c = host.compile("edges.rhai", script).unwrap();
    host.run(&c, RunConfig::default()).unwrap_err().to_string()
}

#[test]
fn scripts_read_and_set_the_tag_and_pass_edge_to_every_op() {
    let imgs = run(r#"
        let tex = perlin(#{ scale: 3, tileable: true }).render(64, 64);
        if !tex.tileable { throw "render of a tileable field is not tagged"; }
        if perlin(#{ scale: 3 }).render(8, 8).tileable { throw "a plain field is tagged"; }
        if tex.crop(0, 0, 32, 32).tileable { throw "crop kept the tag"; }
        if !tex.levels(0.1, 0.9, 0.0, 1.0).tileable { throw "levels dropped the tag"; }
        let plain = image(8, 8, "red");
        plain.tileable = true;
        if !plain.tileable { throw "setter"; }
        [
            tex.blur(#{ sigma: 2, edge: "wrap" }),
            tex.blur(#{ sigma: 2, edge: "clamp" }),
            tex.box_blur(#{ radius: 2, edge: "mirror" }),
            tex.sharpen(1.0, #{ edge: "transparent" }),
            tex.unsharp(2.0, 1.0, #{ edge: "wrap" }),
            tex.convolve([[1, 2, 1]], #{ normalize: true, edge: "wrap" }),
            tex.median(1, #{ edge: "wrap" }),
            tex.edges(#{ edge: "wrap" }),
            tex.emboss(#{ edge: "wrap" }),
            tex.displace(perlin(#{ scale: 2, tileable: true }), 6, #{ edge: "wrap" }),
            tex.rotate(90, #{ edge: "wrap" }),
            tex.translate(3.5, 2, #{ edge: "wrap" }),
            tex.affine(#{ rotate: 30, edge: "mirror" }),
            scatter(tex, image(9, 9, "white"), #{ count: 30, seed: 3, edge: "wrap" }),
            tex.field(#{ edge: "wrap" }).render(64, 64),
        ]
    "#);
    let kept = [true, false, false, false, true, true, true, true, true, true, true, true, false, true, true];
    for (i, (img, want)) in imgs.iter().zip(kept).enumerate() {
        assert_eq!(img.tileable(), want, "result {i}");
    }
    // Wrapped results tile (the ones a seam could show on: blur, median, displace, scatter, field).
    for i in [0, 6, 9, 13, 14] {
        assert!(seamless(&imgs[i]), "result {i}: {:?}", seam(&imgs[i]));
    }
    let e = run_err("image(8, 8).blur(#{ sigma: 1, edge: \"wrapp\" })");
    assert!(e.contains("did you mean 'wrap'"), "{e}");
    let e = run_err("scatter(image(8, 8), image(2, 2), #{ edge: \"mirror\" })");
    assert!(e.contains("edge must be \"transparent\" or \"wrap\""), "{e}");
    let e = run_err("image(8, 8).median(1, #{ egde: \"wrap\" })");
    assert!(e.contains("median: unknown option 'egde' (did you mean 'edge'?)"), "{e}");
}

#[test]
fn scatter_with_wrap_draws_a_crossing_stamp_on_both_sides() {
    use kiln::{scatter, Count, Scatter};
    let canvas = Image::new(40, 30).unwrap();
    let stamp = Image::filled(12, 12, Color::WHITE).unwrap();
    let opts = |edge| Scatter { count: Count::Exactly(25), edge: Some(edge), ..Scatter::default() };
    let clip = scatter(&canvas, &stamp, &opts(Edge::Transparent), 5).unwrap();
    let wrap = scatter(&canvas, &stamp, &opts(Edge::Wrap), 5).unwrap();
    // Every pixel of the wrapped result is the clipped result's pixel, or a stamp copy shifted by
    // a canvas size: so it covers at least as much, and the wrapped result tiles.
    let cover = |i: &Image| i.pixels().chunks_exact(4).filter(|p| p[3] > 0.0).count();
    assert!(cover(&wrap) > cover(&clip));
    let (wrap_seam, inner) = seam(&wrap);
    assert!(wrap_seam <= 1.25 * inner, "{wrap_seam} vs {inner}");
    // Where the clipped result has a stamp touching the right border, the wrapped one continues it
    // at the left: every covered pixel of the last column has a covered pixel in the first.
    let a = |i: &Image, x: i64, y: i64| i.get(x, y).unwrap().a;
    let crossing: Vec<i64> = (0..30).filter(|&y| a(&clip, 39, y) > 0.99 && a(&clip, 0, y) == 0.0).collect();
    assert!(!crossing.is_empty(), "the seed places a stamp across the right border");
    for y in crossing {
        assert!(a(&wrap, 0, y) > 0.99, "row {y}: the stamp does not continue on the left");
    }
}
