//! Compositing, drawing, text and gradients through the script API: formulas, geometry and every
//! error path of those bindings.

use kiln::script::{Host, RunConfig};
use kiln::{Color, Image};

/// Runs `src` as a script in a temporary folder (with `files` written beside it); returns the
/// result images and the files it read, or the error message.
fn run_in(src: &str, files: &[(&str, &[u8])]) -> Result<(Vec<Image>, Vec<std::path::PathBuf>), String> {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.path().join(name), bytes).unwrap();
    }
    let script = dir.path().join("t.rhai");
    std::fs::write(&script, src).unwrap();
    let host = Host::default();
    let config = RunConfig { script, out_dir: Some(dir.path().to_path_buf()), ..RunConfig::default() };
    host.run_file(config).map(|o| (o.images, o.inputs)).map_err(|e| e.message)
}

fn run(src: &str) -> Result<Image, String> {
    run_in(src, &[]).map(|(mut imgs, _)| imgs.remove(0))
}

fn err(src: &str) -> String {
    match run(src) {
        Ok(_) => panic!("expected an error from: {src}"),
        Err(e) => e,
    }
}

fn px(img: &Image, x: i64, y: i64) -> [f32; 4] {
    img.get(x, y).unwrap().to_array()
}

fn alpha_sum(img: &Image) -> f64 {
    img.pixels().chunks_exact(4).map(|p| p[3] as f64).sum()
}

#[test]
fn over_with_opaque_top_is_the_top_and_with_transparent_top_is_the_bottom() {
    let top = run(r#"image(16, 16, "orange").over(image(16, 16, rgba(0.1, 0.2, 0.3, 0.4)))"#).unwrap();
    assert_eq!(top, Image::filled(16, 16, kiln::Color::parse("orange").unwrap()).unwrap());
    let bottom = run(r#"image(16, 16).over(image(16, 16, rgba(0.1, 0.2, 0.3, 0.4)))"#).unwrap();
    assert_eq!(bottom, Image::filled(16, 16, Color::new(0.1, 0.2, 0.3, 0.4)).unwrap());
    // Offsets place the top's corner; fractional offsets round.
    let placed = run(r#"image(2, 2, "white").over(image(8, 8, "black"), 3.4, 5)"#).unwrap();
    assert_eq!(px(&placed, 3, 5), [1.0; 4]);
    assert_eq!(px(&placed, 5, 5), [0.0, 0.0, 0.0, 1.0]);
}

#[test]
fn every_blend_mode_matches_the_w3c_formula_with_partial_alpha() {
    // Top Cs = 0.3, αs = 0.5; backdrop Cb = 0.6, αb = 0.8; opacity 1.
    // αo = 0.9, Co = (0.5·0.2·0.3 + 0.5·0.8·B(0.6, 0.3) + 0.5·0.8·0.6) / 0.9.
    let b_values = [
        ("normal", 0.3),
        ("multiply", 0.18),
        ("screen", 0.72),
        ("overlay", 0.44),
        ("soft_light", 0.504),
        ("hard_light", 0.36),
        ("add", 0.9),
        ("subtract", 0.3),
        ("difference", 0.3),
        ("darken", 0.3),
        ("lighten", 0.6),
        ("color_dodge", 0.6 / 0.7),
        ("color_burn", 0.0),
    ];
    for (mode, b) in b_values {
        let out = run(&format!(
            r#"image(2, 2, rgba(0.3, 0.3, 0.3, 0.5)).blend(image(2, 2, rgba(0.6, 0.6, 0.6, 0.8)), "{mode}", 1.0)"#
        ))
        .unwrap();
        let want = (0.03 + 0.4 * b + 0.24) / 0.9;
        let got = px(&out, 1, 1);
        assert!((got[0] - want).abs() < 1e-5 && (got[3] - 0.9).abs() < 1e-6, "{mode}: got {got:?}, want {want}");
    }
    // Opacity scales the top's alpha: half opacity of an opaque top equals αs = 0.5.
    let a = run(r#"image(1, 1, gray(0.3)).blend(image(1, 1, rgba(0.6, 0.6, 0.6, 0.8)), "screen", 0.5)"#).unwrap();
    let b =
        run(r#"image(1, 1, rgba(0.3, 0.3, 0.3, 0.5)).blend(image(1, 1, rgba(0.6, 0.6, 0.6, 0.8)), "screen")"#).unwrap();
    assert!((px(&a, 0, 0)[0] - px(&b, 0, 0)[0]).abs() < 1e-6);
}

#[test]
fn mask_alpha_with_alpha_channel() {
    let img = run(r#"image(4, 4, rgba(0.2, 0.4, 0.6, 1.0)).mask(image(4, 4, gray(0.25)))"#).unwrap();
    assert!((px(&img, 0, 0)[3] - 0.25).abs() < 1e-6);
    let a = run(r#"image(4, 4, rgba(0.2, 0.4, 0.6, 0.7)).alpha()"#).unwrap();
    assert!((px(&a, 0, 0)[0] - 0.7).abs() < 1e-6 && px(&a, 0, 0)[3] == 1.0);
    let w = run(r#"image(4, 4, "red").with_alpha(image(4, 4, gray(0.5)))"#).unwrap();
    assert_eq!(px(&w, 2, 2), [1.0, 0.0, 0.0, 0.5]);
    let b = run(r#"image(4, 4, rgb(0.1, 0.2, 0.9)).channel("b")"#).unwrap();
    assert!((px(&b, 0, 0)[1] - 0.9).abs() < 1e-6);
}

#[test]
fn grid_sizes_cells_to_the_largest_image() {
    let sheet = run(
        r#"grid([image(10, 6, "red"), image(4, 8, "blue"), image(3, 3, "lime")], 2, #{ gap: 2, background: "white" })"#,
    )
    .unwrap();
    assert_eq!(sheet.dimensions(), (22, 18));
    assert_eq!(px(&sheet, 11, 0), [1.0; 4], "gap is background");
    let plain = run(r#"grid([image(10, 6, "red"), image(4, 8, "blue")], 5)"#).unwrap();
    assert_eq!(plain.dimensions(), (24, 8));
    assert_eq!(px(&plain, 0, 0), [0.0; 4], "transparent by default");
}

#[test]
fn circle_area_and_antialiased_edges() {
    let img = run(r#"image(100, 100).draw_circle(50, 50, 30, #{ fill: "white" })"#).unwrap();
    let want = std::f64::consts::PI * 900.0;
    assert!((alpha_sum(&img) - want).abs() / want < 0.01, "area {} vs {want}", alpha_sum(&img));
    assert!(img.pixels().chunks_exact(4).filter(|p| p[3] > 0.05 && p[3] < 0.95).count() > 100);
}

#[test]
fn path_square_equals_fill_rect() {
    let a = run(r#"image(100, 100).draw_path("M10 10 H 90 V 90 H 10 Z", #{ fill: "teal" })"#).unwrap();
    let b = run(r#"image(100, 100).fill_rect(10, 10, 80, 80, "teal")"#).unwrap();
    assert_eq!(a, b);
    let rel = run(r#"image(100, 100).draw_path("m10 10 h80 v80 h-80 z", "teal")"#).unwrap();
    assert_eq!(a, rel);
}

#[test]
fn shapes_lines_polygons_and_strokes_paint() {
    let img = run(r#"image(64, 64, "white")
            .draw_rect(4, 4, 20, 20, #{ stroke: "black", width: 2 })
            .draw_ellipse(40, 40, 20, 10, #{ fill: "red" })
            .draw_line(0, 63, 63, 0, #{ stroke: "blue", width: 3 })
            .draw_polygon([[30, 2], [60, 2], [45, 20]], #{ fill: "lime", stroke: "black" })"#)
    .unwrap();
    assert_eq!(px(&img, 4, 10), [0.0, 0.0, 0.0, 1.0], "rect stroke");
    assert_eq!(px(&img, 14, 14), [1.0; 4], "rect not filled");
    assert_eq!(px(&img, 45, 8), [0.0, 1.0, 0.0, 1.0], "polygon fill");
    assert_eq!(px(&img, 40, 40)[0], 1.0);
}

#[test]
fn text_renders_inside_its_reported_box() {
    let size = 24.0;
    let img = run(&format!(r#"image(200, 80).draw_text("Kiln\nglyphs", 10, 5, #{{ size: {size}, color: "white" }})"#))
        .unwrap();
    let wh = run_in(r#"let wh = text_size("Kiln\nglyphs", #{ size: 24 }); image(wh[0].ceiling().to_int(), wh[1].ceiling().to_int())"#, &[])
        .unwrap()
        .0
        .remove(0);
    let (tw, th) = (wh.width() as i64, wh.height() as i64);
    let mut painted = 0;
    for y in 0..80 {
        for x in 0..200 {
            if px(&img, x, y)[3] > 0.0 {
                painted += 1;
                assert!(x >= 9 && x <= 10 + tw && y >= 4 && y <= 5 + th, "({x}, {y}) outside the {tw}x{th} box");
            }
        }
    }
    assert!(painted > 200);
}

#[test]
fn font_paths_go_through_the_read_policy_and_are_inputs() {
    let font = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/assets/fonts/DejaVuSans-Bold.ttf")).unwrap();
    let (imgs, inputs) =
        run_in(r#"image(60, 30).draw_text("Hi", 2, 2, #{ font: "my.ttf", color: "white" })"#, &[("my.ttf", &font)])
            .unwrap();
    assert!(alpha_sum(&imgs[0]) > 10.0);
    assert!(inputs.iter().any(|p| p.ends_with("my.ttf")), "{inputs:?}");
    let e = err(r#"image(60, 30).draw_text("Hi", 2, 2, #{ font: "/etc/passwd" })"#);
    assert!(e.contains("outside the folders"), "{e}");
    let e = run_in(r#"image(60, 30).draw_text("Hi", 2, 2, #{ font: "bad.ttf" })"#, &[("bad.ttf", b"not a font")])
        .unwrap_err();
    assert!(e.contains("not a TrueType"), "{e}");
}

#[test]
fn gradients_from_scripts() {
    let g = run(r#"linear_gradient(10, 2, 0, ["black", "white"])"#).unwrap();
    assert!((px(&g, 9, 1)[0] - 0.95).abs() < 1e-5);
    let p = run(r#"linear_gradient(4, 1, 0, [[0.0, "black"], [0.5, "white"], [1.0, "black"]], #{ space: "linear" })"#)
        .unwrap();
    assert!(px(&p, 1, 0)[0] > 0.75, "linear-light midpoints are brighter");
    let r = run(r##"radial_gradient(9, 9, ["#fff", "#000"], #{ space: "oklab" })"##).unwrap();
    assert!((px(&r, 4, 4)[0] - 1.0).abs() < 1e-3);
}

#[test]
fn bad_inputs_are_clear_errors_not_panics() {
    let cases: &[(&str, &[&str])] = &[
        (
            r#"image(4, 4).blend(image(4, 4), "burn", 1.0)"#,
            &["unknown blend mode 'burn'", "color_burn", "soft_light", "multiply"],
        ),
        (r#"image(4, 4).blend(image(4, 4), "multiply", 2.0)"#, &["opacity must be in 0..1"]),
        (r#"image(4, 4).channel("x")"#, &["unknown channel 'x'", "r, g, b, a"]),
        (r#"image(4, 4).mask(image(3, 4))"#, &["3x4"]),
        (r#"image(40, 40).draw_path("M 10 10 L 20", #{ fill: "red" })"#, &["draw_path", "malformed path data"]),
        (r#"image(40, 40).draw_path("", "red")"#, &["path data is empty"]),
        (r#"image(40, 40).draw_circle(20, 20, -5, #{ fill: "red" })"#, &["radius must be >= 0"]),
        (r#"image(40, 40).draw_circle(0.0 / 0.0, 20, 5, #{ fill: "red" })"#, &["draw_circle", "finite"]),
        (r#"image(40, 40).draw_line(0, 0, 1.0 / 0.0, 5, "red")"#, &["draw_line", "finite"]),
        (r#"image(40, 40).draw_polygon([], #{ fill: "red" })"#, &["at least 3 points, got 0"]),
        (r#"image(40, 40).draw_polygon([[1, 2], [3]], #{ fill: "red" })"#, &["[x, y]"]),
        (
            r#"image(40, 40).draw_rect(1, 2, 3, 4, #{ fill: "red", colour: "blue" })"#,
            &["draw_rect: unknown option 'colour'", "fill, stroke, width"],
        ),
        (r#"image(40, 40).draw_rect(1, 2, 3, 4, #{ stroke: "red", width: 0 })"#, &["stroke width"]),
        (r#"image(40, 40).draw_text("x", 0, 0, #{ size: -1 })"#, &["option 'size' must be between 0 and 4096"]),
        (r#"image(40, 40).draw_text("x", 0, 0, #{ align: "middle" })"#, &["align", "left, center"]),
        (r#"linear_gradient(4, 4, 0, [])"#, &["at least one colour stop"]),
        (r#"linear_gradient(4, 4, 0, ["red", [0.5, "blue"]])"#, &["all colours or all [position, colour] pairs"]),
        (r#"linear_gradient(4, 4, 0, [[0.9, "red"], [0.1, "blue"]])"#, &["must not decrease"]),
        (r#"radial_gradient(4, 4, ["red"], #{ space: "hsv" })"#, &["space", "srgb, linear, oklab"]),
        (r#"grid([], 2)"#, &["at least one image"]),
        (r#"grid([image(2, 2)], 0)"#, &["cols must be at least 1"]),
        (r#"grid([1, 2], 2)"#, &["array of Image"]),
    ];
    for (src, needles) in cases {
        let e = err(src);
        for n in *needles {
            assert!(e.contains(n), "{src}\n  error: {e}\n  missing: {n}");
        }
    }
}
