//! Unit tests of the shape painters: areas against formulas, edges, path = rect, bad input.

use super::*;

fn canvas() -> Image {
    Image::new(100, 100).unwrap()
}

fn alpha_sum(img: &Image) -> f64 {
    img.pixels().chunks_exact(4).map(|p| p[3] as f64).sum()
}

#[test]
fn fill_rect_covers_whole_pixels_exactly() {
    let img = fill_rect(&canvas(), 10.0, 10.0, 80.0, 80.0, Color::WHITE).unwrap();
    assert_eq!(img.get(10, 10), Some(Color::WHITE));
    assert_eq!(img.get(89, 89), Some(Color::WHITE));
    assert_eq!(img.get(9, 50), Some(Color::TRANSPARENT));
    assert_eq!(img.get(90, 50), Some(Color::TRANSPARENT));
    assert!((alpha_sum(&img) - 6400.0).abs() < 1e-3);
    // A half-pixel edge is half covered.
    let half = fill_rect(&canvas(), 10.5, 10.0, 10.0, 10.0, Color::WHITE).unwrap();
    let a = half.get(10, 15).unwrap().a;
    assert!((a - 0.5).abs() < 0.02, "{a}");
}

#[test]
fn circle_area_is_pi_r_squared_within_one_percent() {
    for r in [7.3f32, 20.0, 41.5] {
        let img = draw_circle(&canvas(), 50.0, 50.0, r, &Style::fill(Color::WHITE)).unwrap();
        let want = std::f64::consts::PI * (r as f64).powi(2);
        let got = alpha_sum(&img);
        assert!((got - want).abs() / want < 0.01, "r = {r}: area {got}, want {want}");
    }
}

#[test]
fn antialiased_edges_have_intermediate_coverage() {
    let img = draw_circle(&canvas(), 50.0, 50.0, 30.0, &Style::fill(Color::WHITE)).unwrap();
    let partial = img.pixels().chunks_exact(4).filter(|p| p[3] > 0.05 && p[3] < 0.95).count();
    // The rim is about 2πr pixels long; most of them are partly covered.
    assert!(partial > 100, "only {partial} partially covered pixels");
    assert_eq!(img.get(50, 50), Some(Color::WHITE));
    assert_eq!(img.get(2, 2), Some(Color::TRANSPARENT));
}

#[test]
fn stroke_area_and_fill_then_stroke_order() {
    let style = Style::stroke(Color::WHITE, 4.0);
    let img = draw_circle(&canvas(), 50.0, 50.0, 30.0, &style).unwrap();
    let want = std::f64::consts::PI * (32.0f64.powi(2) - 28.0f64.powi(2));
    assert!((alpha_sum(&img) - want).abs() / want < 0.02, "{} vs {want}", alpha_sum(&img));
    assert_eq!(img.get(50, 50), Some(Color::TRANSPARENT));
    let both = Style { fill: Some(Color::BLACK), stroke: Some(Color::WHITE), width: 4.0 };
    let img = draw_rect(&canvas(), 20.0, 20.0, 60.0, 60.0, &both).unwrap();
    assert_eq!(img.get(50, 50), Some(Color::BLACK));
    assert_eq!(img.get(20, 50), Some(Color::WHITE), "the stroke is painted over the fill");
    assert_eq!(img.get(18, 50), Some(Color::WHITE), "the stroke is centred on the outline");
}

#[test]
fn path_square_equals_fill_rect() {
    let path = draw_path(&canvas(), "M10 10 H 90 V 90 H 10 Z", &Style::fill(Color::rgb(0.2, 0.5, 0.9))).unwrap();
    let rect = fill_rect(&canvas(), 10.0, 10.0, 80.0, 80.0, Color::rgb(0.2, 0.5, 0.9)).unwrap();
    assert_eq!(path, rect);
}

#[test]
fn polygon_and_ellipse_and_line() {
    let tri = draw_polygon(&canvas(), &[[0.0, 0.0], [100.0, 0.0], [0.0, 100.0]], &Style::fill(Color::WHITE)).unwrap();
    assert!((alpha_sum(&tri) - 5000.0).abs() < 5000.0 * 0.01);
    let e = draw_ellipse(&canvas(), 50.0, 50.0, 40.0, 20.0, &Style::fill(Color::WHITE)).unwrap();
    let want = std::f64::consts::PI * 800.0;
    assert!((alpha_sum(&e) - want).abs() / want < 0.01);
    let l = draw_line(&canvas(), 10.0, 50.0, 90.0, 50.0, &Style { width: 2.0, ..Style::default() }).unwrap();
    assert!((alpha_sum(&l) - 160.0).abs() < 1.0, "{}", alpha_sum(&l));
    assert_eq!(l.get(50, 49), Some(Color::BLACK));
}

#[test]
fn hdr_pixels_outside_the_shape_are_untouched_and_partial_alpha_composites() {
    let hdr = Image::filled(20, 20, Color::new(4.0, -1.0, 0.5, 0.5)).unwrap();
    let out = draw_circle(&hdr, 10.0, 10.0, 3.0, &Style::fill(Color::new(0.0, 1.0, 0.0, 0.5))).unwrap();
    assert_eq!(out.get(0, 0), hdr.get(0, 0));
    // Centre: αo = 0.5 + 0.5 * 0.5 = 0.75; r = 0.25 * 4 / 0.75.
    let c = out.get(10, 10).unwrap();
    assert!(
        (c.a - 0.75).abs() < 1e-6 && (c.r - 4.0 / 3.0).abs() < 1e-5 && (c.g - (0.5 - 0.25) / 0.75).abs() < 1e-5,
        "{c}"
    );
    let filled = fill(&hdr, Color::new(1.0, 1.0, 1.0, 1.0)).unwrap();
    assert_eq!(filled.get(3, 3), Some(Color::WHITE));
}

#[test]
fn shapes_off_the_canvas_or_empty_draw_nothing() {
    let c = canvas();
    assert_eq!(draw_circle(&c, -500.0, 50.0, 10.0, &Style::default()).unwrap(), c);
    assert_eq!(draw_circle(&c, 50.0, 50.0, 0.0, &Style::default()).unwrap(), c);
    assert_eq!(fill_rect(&c, 10.0, 10.0, 0.0, 5.0, Color::WHITE).unwrap(), c);
    assert_eq!(draw_circle(&c, 1e30, 1e30, 1e30, &Style::default()).unwrap().dimensions(), (100, 100));
}

#[test]
fn bad_inputs_are_clear_errors() {
    let c = canvas();
    let s = Style::default();
    let msg = |r: Result<Image>| r.unwrap_err().to_string();
    assert!(msg(draw_circle(&c, 50.0, 50.0, -1.0, &s)).contains("radius must be >= 0"));
    assert!(msg(draw_circle(&c, f32::NAN, 50.0, 1.0, &s)).contains("cx must be a finite number"));
    assert!(msg(draw_line(&c, 0.0, 0.0, f32::INFINITY, 1.0, &s)).contains("x1"));
    assert!(msg(draw_polygon(&c, &[], &s)).contains("at least 3 points, got 0"));
    assert!(msg(draw_polygon(&c, &[[0.0, 0.0], [1.0, f32::NAN], [2.0, 2.0]], &s)).contains("point 1 y"));
    assert!(msg(draw_rect(&c, 0.0, 0.0, -3.0, 4.0, &s)).contains("width must be >= 0"));
    assert!(msg(draw_rect(&c, 0.0, 0.0, 3.0, 4.0, &Style { width: 0.0, ..s })).contains("stroke width"));
    assert!(msg(draw_path(&c, "M 10 10 L", &s)).contains("malformed path data"));
    assert!(msg(fill(&c, Color::new(f32::NAN, 0.0, 0.0, 1.0))).contains("finite"));
}

#[test]
fn flattening_keeps_curves_within_tolerance() {
    // A unit-radius-scaled quarter circle as one cubic: every flattened vertex stays on the curve.
    let mut pb = PathBuilder::new();
    pb.move_to(0.0, 0.0);
    pb.cubic_to(0.0, 55.23, 44.77, 100.0, 100.0, 100.0);
    let flat = flatten(&pb.finish().unwrap()).unwrap();
    let n = flat.points().len();
    assert!(n > 20 && n < 200, "{n} points");
    assert!(flat
        .segments()
        .all(|s| !matches!(s, tiny_skia::PathSegment::CubicTo(..) | tiny_skia::PathSegment::QuadTo(..))));
}

#[test]
fn in_place_circle_equals_the_copying_one() {
    let style = Style { fill: Some(Color::rgb(0.9, 0.3, 0.1)), stroke: Some(Color::BLACK), width: 1.5 };
    let a = draw_circle(&canvas(), 40.3, 60.7, 17.2, &style).unwrap();
    let mut b = canvas();
    draw_circle_in_place(&mut b, 40.3, 60.7, 17.2, &style).unwrap();
    assert_eq!(a, b);
    assert!(draw_circle_in_place(&mut b, 1.0, 1.0, -2.0, &style).is_err());
}
