//! std/materials as PBR sets: every material returns the six maps, tileable sets pass the seam
//! metric on every map, heights and the other data maps are grey, normals follow the OpenGL
//! convention (checked against the height map's own differences, not against kiln's normal op),
//! and `mat::preview` lights from the direction it is given.

use kiln::script::{Host, RunConfig};
use kiln::Image;

/// The maps of a set, in this order.
const MAPS: [&str; 6] = ["albedo", "height", "normal", "roughness", "metallic", "ao"];

/// Runs `src` (with `std/materials` imported as `m`) and returns its result images.
fn run(src: &str) -> Result<Vec<Image>, String> {
    let host = Host::default();
    let compiled =
        host.compile("t.rhai", &format!("import \"std/materials\" as m;\n{src}")).map_err(|e| e.to_string())?;
    host.run(&compiled, RunConfig::default()).map(|o| o.images).map_err(|e| e.to_string())
}

/// The six maps of `m::<name>(opts)`, after checking in the script that the set has exactly
/// the six keys.
fn set(name: &str, opts: &str) -> Vec<Image> {
    let src = format!(
        "let s = m::{name}({opts});\n\
         let k = s.keys(); k.sort();\n\
         if k != [\"albedo\", \"ao\", \"height\", \"metallic\", \"normal\", \"roughness\"] {{ throw `keys: ${{k}}`; }}\n\
         [s.albedo, s.height, s.normal, s.roughness, s.metallic, s.ao]"
    );
    let imgs = run(&src).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(imgs.len(), 6, "{name}");
    imgs
}

fn names() -> Vec<String> {
    Host::default()
        .engine()
        .eval::<rhai::Array>(r#"import "std/materials" as m; m::names()"#)
        .unwrap()
        .into_iter()
        .map(|n| n.into_string().unwrap())
        .collect()
}

/// Channel `c` of every pixel, row-major.
fn channel(img: &Image, c: usize) -> Vec<f32> {
    img.pixels().chunks(4).map(|p| p[c]).collect()
}

/// (difference across the wrap edge, largest difference between neighbouring columns or rows
/// inside): kiln's one seam metric (`texture_stats::Seam`, the field tests' one), per channel.
fn seam(v: &[f32], n: usize) -> (f64, f64) {
    let s = kiln::texture_stats::Seam::of_plane(v, n, n);
    (s.wrap, s.inner)
}

fn is_grey(img: &Image) -> bool {
    img.pixels().chunks(4).all(|p| p[0] == p[1] && p[1] == p[2] && p[3] == 1.0)
}

#[test]
fn every_material_returns_a_full_grey_and_opengl_pbr_set() {
    let names = names();
    assert!(names.len() >= 16, "{names:?}");
    for new in ["cobblestone", "planks", "metal_plate", "fabric"] {
        assert!(names.iter().any(|n| n == new), "{new} missing from names()");
    }
    for name in &names {
        let maps = set(name, "#{ size: 64, seed: 3 }");
        for (img, map) in maps.iter().zip(MAPS) {
            assert_eq!(img.dimensions(), (64, 64), "{name}.{map}");
            assert!(img.pixels().iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)), "{name}.{map} out of 0..1");
            if map != "albedo" && map != "normal" {
                assert!(is_grey(img), "{name}.{map} is not grey");
            }
        }
        let (h, n) = (&maps[1], &maps[2]);
        let spread = |v: &[f32]| v.iter().fold(f32::MAX, |a, &b| a.min(b)) < v.iter().fold(f32::MIN, |a, &b| a.max(b));
        assert!(spread(&channel(h, 0)), "{name}: the height is flat");
        // unit normals pointing out of the surface
        for p in n.pixels().chunks(4) {
            let v = [p[0] * 2.0 - 1.0, p[1] * 2.0 - 1.0, p[2] * 2.0 - 1.0];
            let len = (v[0] * v[0] + v[1] * v[1] + v[2] * v[2]).sqrt();
            assert!((len - 1.0).abs() < 0.03 && v[2] > 0.0, "{name}: normal {v:?}");
        }
        // OpenGL: red grows where the height falls to the right, green where it rises downwards
        // (the surface faces up the image); checked by correlation with central differences
        let hv = channel(h, 0);
        let (r, g) = (channel(n, 0), channel(n, 1));
        let (mut cx, mut cy) = (0f64, 0f64);
        for y in 1..63 {
            for x in 1..63 {
                let i = y * 64 + x;
                cx += ((hv[i + 1] - hv[i - 1]) * (r[i] - 0.5)) as f64;
                cy += ((hv[i + 64] - hv[i - 64]) * (g[i] - 0.5)) as f64;
            }
        }
        assert!(cx < 0.0 && cy > 0.0, "{name}: normal map is not OpenGL ({cx}, {cy})");
    }
}

#[test]
fn tileable_sets_are_seamless_on_every_map() {
    for name in names() {
        let n = 96;
        let maps = set(&name, &format!("#{{ size: {n}, seed: 5, tileable: true }}"));
        for (img, map) in maps.iter().zip(MAPS) {
            for c in 0..3 {
                let (wrap, inner) = seam(&channel(img, c), n);
                assert!(wrap <= 1.25 * inner + 1e-4, "{name}.{map} channel {c}: wrap edge {wrap} > interior {inner}");
            }
        }
    }
}

#[test]
fn the_seam_metric_catches_a_material_that_does_not_tile() {
    // the control: the same material without `tileable` has a seam in its height
    let n = 96;
    let maps = set("cobblestone", &format!("#{{ size: {n}, seed: 5 }}"));
    let (wrap, inner) = seam(&channel(&maps[1], 0), n);
    assert!(wrap > 1.25 * inner, "cobblestone without tileable: wrap {wrap} <= interior {inner}");
}

#[test]
fn preview_lights_slopes_that_face_the_light() {
    let imgs = run("let s = m::cobblestone(#{ size: 96, seed: 2 });\n\
         [s.normal, m::preview(s, #{ light: [-1, 0, 0.5] }), m::preview(s, #{ light: [1, 0, 0.5] }), m::preview(s)]")
    .unwrap();
    let (n, left, right) = (&imgs[0], &imgs[1], &imgs[2]);
    assert_eq!(imgs[3].dimensions(), (96, 96));
    // mean brightness of the pixels whose normal leans left (red < 0.4) and right (red > 0.6)
    let mean = |img: &Image, lean: &dyn Fn(f32) -> bool| {
        let (mut s, mut k) = (0f32, 0);
        for (p, q) in n.pixels().chunks(4).zip(img.pixels().chunks(4)) {
            if lean(p[0]) {
                s += q[0] + q[1] + q[2];
                k += 1;
            }
        }
        assert!(k > 50, "too few sloped pixels");
        s / k as f32
    };
    let (l_on_l, l_on_r) = (mean(left, &|r| r < 0.4), mean(left, &|r| r > 0.6));
    let (r_on_l, r_on_r) = (mean(right, &|r| r < 0.4), mean(right, &|r| r > 0.6));
    assert!(l_on_l > l_on_r * 1.3, "light from the left: {l_on_l} vs {l_on_r}");
    assert!(r_on_r > r_on_l * 1.3, "light from the right: {r_on_r} vs {r_on_l}");
}

#[test]
fn preview_and_materials_reject_bad_input() {
    let cases = [
        ("m::preview(image(8, 8))", "preview: expected a PBR set"),
        ("m::preview(#{ albedo: image(8, 8) })", "preview: the set has no 'normal' map"),
        ("m::preview(m::fabric(#{ size: 16 }), #{ lihgt: [1, 1, 1] })", "unknown option 'lihgt'"),
        ("m::preview(m::fabric(#{ size: 16 }), #{ light: [0, 0, 0] })", "preview: light"),
        ("m::cobblestone(#{ size: 16, mos: 1 })", "cobblestone: unknown option 'mos'"),
        ("m::make(\"cobble\", #{})", "make: no material 'cobble'"),
    ];
    for (src, want) in cases {
        let e = run(src).expect_err(src);
        assert!(e.contains(want), "{src}: {e}");
    }
}
