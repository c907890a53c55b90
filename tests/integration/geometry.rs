//! Geometry against independent references: Pillow's resize and rotate (fixtures made by
//! `tests/fixtures/geometry/make_fixtures.py`), seamless on a real photo, and the script bindings.

use std::path::Path;

use kiln::ops::geometry::{self, Filter, Rotate, Seamless};
use kiln::script::{Host, RunConfig};
use kiln::{Color, Image};

use crate::util::{difference, repo};

fn load(rel: &str) -> Image {
    kiln::io::load(&repo().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn chelsea() -> Image {
    load("tests/data/chelsea.png")
}

/// `img` rounded to 8 bits, as Pillow stores it.
fn as_8bit(img: &Image) -> Image {
    let bytes = kiln::io::encode(img, kiln::Format::Png, &kiln::SaveOptions::default(), Path::new("a.png")).unwrap();
    kiln::io::decode(&bytes, Path::new("a.png")).unwrap()
}

/// Pillow resizes with 8-bit fixed-point weights and rounds each pass to 8 bits; kiln keeps
/// f32 between the passes. Allowed: max 2 levels on any channel, mean 0.5.
#[track_caller]
fn assert_close_to_pillow(ours: &Image, fixture: &str) {
    let theirs = load(&format!("tests/fixtures/geometry/{fixture}"));
    let (max, mean) = difference(&as_8bit(ours), &theirs);
    eprintln!("{fixture}: max {max:.2}, mean {mean:.4} (8-bit levels)");
    assert!(max <= 2.0 && mean <= 0.5, "{fixture}: max diff {max:.2} (allowed 2), mean {mean:.4} (allowed 0.5)");
}

#[test]
fn lanczos3_shrink_matches_pillow() {
    let ours = geometry::resize(&chelsea(), 113, 75, Filter::Lanczos3).unwrap();
    assert_close_to_pillow(&ours, "chelsea-113x75-lanczos.png");
}

#[test]
fn bicubic_shrink_matches_pillow() {
    let ours = geometry::resize(&chelsea(), 113, 75, Filter::Bicubic).unwrap();
    assert_close_to_pillow(&ours, "chelsea-113x75-bicubic.png");
}

#[test]
fn lanczos3_enlarge_matches_pillow() {
    let head = geometry::crop(&chelsea(), 180, 60, 60, 60).unwrap();
    let ours = geometry::resize(&head, 150, 150, Filter::Lanczos3).unwrap();
    assert_close_to_pillow(&ours, "chelsea-head-150-lanczos.png");
}

#[test]
fn bilinear_rotate_matches_pillow_inside_the_picture() {
    // Pillow's rotate(30) is anticlockwise; kiln's positive angles are clockwise.
    let opts = Rotate { background: Color::BLACK, ..Rotate::default() };
    let ours = as_8bit(&geometry::rotate(&chelsea(), -30.0, &opts).unwrap());
    let theirs = load("tests/fixtures/geometry/chelsea-rotate30-bilinear.png");
    assert_eq!(ours.dimensions(), theirs.dimensions(), "expanded canvas size");
    // Compare where the source position is at least 1.5 pixels inside the photo: at the edges
    // kiln blends with the background (antialiased) and Pillow does not.
    let (w, h) = (451.0f64, 300.0f64);
    let (ow, oh) = ours.dimensions();
    let (c, s) = (30f64.to_radians().cos(), 30f64.to_radians().sin());
    // Pillow's 8-bit bilinear transform truncates where kiln rounds, so ours − theirs must be 0 or
    // 1 level (anything else would be a wrong position or weight).
    let (mut n, mut off_by_one, mut worst) = (0usize, 0usize, 0.0f32);
    for y in 0..oh {
        for x in 0..ow {
            let (dx, dy) = (x as f64 + 0.5 - ow as f64 / 2.0, y as f64 + 0.5 - oh as f64 / 2.0);
            // Inverse of an anticlockwise (on screen) turn by 30°.
            let (sx, sy) = (c * dx - s * dy + w / 2.0, s * dx + c * dy + h / 2.0);
            if sx < 1.5 || sy < 1.5 || sx > w - 1.5 || sy > h - 1.5 {
                continue;
            }
            let (a, b) = (ours.get(x as i64, y as i64).unwrap(), theirs.get(x as i64, y as i64).unwrap());
            for (p, q) in [(a.r, b.r), (a.g, b.g), (a.b, b.b)] {
                let d = ((p - q) * 255.0).round();
                if !(0.0..=1.0).contains(&d) {
                    worst = if d.abs() > worst.abs() { d } else { worst };
                }
                off_by_one += (d == 1.0) as usize;
                n += 1;
            }
        }
    }
    eprintln!("rotate30: {n} channels compared, {off_by_one} one level above Pillow, worst other {worst}");
    assert!(n > 3 * 100_000, "compared too few pixels: {n}");
    assert_eq!(worst, 0.0, "rotate vs Pillow: a channel differs by {worst} levels (allowed: 0 or +1)");
}

/// Mean absolute RGB difference between column `a` and column `b`.
fn column_difference(img: &Image, a: u32, b: u32) -> f64 {
    let mut s = 0.0f64;
    for y in 0..img.height() as i64 {
        let (p, q) = (img.get(a as i64, y).unwrap(), img.get(b as i64, y).unwrap());
        s += ((p.r - q.r).abs() + (p.g - q.g).abs() + (p.b - q.b).abs()) as f64;
    }
    s / img.height() as f64
}

#[test]
fn seamless_photo_wraps_around_like_an_interior_seam() {
    // After `seamless`, the last and first columns are neighbouring columns from the middle of
    // the photo, so their difference is an ordinary interior one. On a photo it is compared with
    // the spread of interior neighbour differences (the middle of Chelsea is her detailed face,
    // busier than the mean column) and with the original's wrap-around jump.
    let photo = chelsea();
    let s = geometry::seamless(&photo, &Seamless::default()).unwrap();
    for (name, orig, img) in
        [("columns", photo.clone(), s.clone()), ("rows", geometry::rotate90(&photo), geometry::rotate90(&s))]
    {
        let w = img.width();
        let before = column_difference(&orig, w - 1, 0);
        let wrap = column_difference(&img, w - 1, 0);
        let mut interior: Vec<f64> = (0..w - 1).map(|x| column_difference(&img, x, x + 1)).collect();
        interior.sort_by(f64::total_cmp);
        let p90 = interior[interior.len() * 9 / 10];
        let mean = interior.iter().sum::<f64>() / interior.len() as f64;
        eprintln!("{name}: wrap {wrap:.4}, interior mean {mean:.4}, p90 {p90:.4}, original wrap {before:.4}");
        assert!(wrap <= p90, "{name}: wrap-around difference {wrap:.4} > 90th percentile of interior ones {p90:.4}");
        assert!(
            wrap * 4.0 < before,
            "{name}: wrap-around difference {wrap:.4} not well below the original's {before:.4}"
        );
    }
}

fn run(script: &str) -> Result<Vec<Image>, String> {
    let host = Host::default();
    let compiled = host.compile("geometry.rhai", script).map_err(|e| e.to_string())?;
    host.run(&compiled, RunConfig::default()).map(|o| o.images).map_err(|e| e.to_string())
}

#[test]
fn script_bindings_reach_the_ops() {
    let imgs = run(r#"
        let img = image(40, 30, "red");
        [
            img.crop(5, 5, 10, 8),
            img.rotate90(),
            img.resize(20, 15, #{ filter: "lanczos3", linear: true }),
            img.scale(0.5),
            img.rotate(30, #{ expand: false, background: "black", filter: "bicubic" }),
            img.translate(3, 2),
            img.affine(#{ rotate: 10, scale: [1.5, 1], shear: 5, origin: [0, 0], expand: true }),
            img.pad(1, 2, 3, 4, "white"),
            img.tile(2, 3),
            img.seamless(#{ blend: 0.5 }),
            img.flip_h().flip_v().rotate180().rotate270(),
        ]
    "#)
    .unwrap();
    let sizes: Vec<(u32, u32)> = imgs.iter().map(|i| i.dimensions()).collect();
    assert_eq!(
        sizes,
        [(10, 8), (30, 40), (20, 15), (20, 15), (40, 30), (40, 30), (62, 41), (44, 36), (80, 90), (40, 30), (30, 40)]
    );
    assert_eq!(imgs[5].get(0, 0), Some(Color::TRANSPARENT));
    assert_eq!(imgs[4].get(0, 0), Some(Color::BLACK));
}

#[test]
fn script_errors_name_the_problem() {
    for (script, needles) in [
        ("image(10, 10).crop(5, 5, 10, 10)", &["crop:", "x=5 y=5 w=10 h=10", "10x10"][..]),
        ("image(10, 10).resize(10, 10, #{ filtr: \"nearest\" })", &["unknown option 'filtr'", "filter, linear"][..]),
        ("image(10, 10).resize(0, 10)", &["resize:", "width must be at least 1"][..]),
        ("image(10, 10).rotate(30, #{ filter: \"sinc\" })", &["filter", "nearest, bilinear, bicubic, lanczos3"][..]),
        ("image(10, 10).rotate(30, #{ background: 7 })", &["background", "colour"][..]),
        ("image(10, 10).affine(#{ scale: 0 })", &["affine:", "flat"][..]),
        ("image(10, 10).affine(#{ shear: [1, 2, 3] })", &["shear", "[x, y]"][..]),
        ("image(10, 10).scale(-2)", &["scale:", "factor"][..]),
        ("image(10, 10).pad(-1, 0, 0, 0)", &["pad:", "left"][..]),
        ("image(10, 10).tile(0, 2)", &["tile:", "at least 1"][..]),
        ("image(10, 10).seamless(#{ blend: 2 })", &["seamless:", "blend"][..]),
        ("image(10, 10).translate(0.0 / 0.0, 1)", &["translate", "finite"][..]),
    ] {
        let err = run(script).expect_err(script);
        for needle in needles {
            assert!(err.contains(needle), "{script}: error should mention '{needle}':\n{err}");
        }
    }
}
