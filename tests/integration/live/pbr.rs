//! PBR sets: recognised as a script's result and by `show(set, label)`, written by `kiln run -o`
//! as one file per map, served by `kiln watch` and drawn lit with WebGL in a real headless
//! Chromium (the canvas is not blank, the light follows a drag, and the normal map's axes point
//! where the OpenGL convention says).
//!
//! The fixture `tests/fixtures/live/pbr_set.rhai` builds its set from fields with a hand-made
//! normal map, so these tests need none of the surface ops.

use std::path::Path;
use std::time::Duration;

use kiln::script::{ErrorKind, Host, RunConfig};
use serde_json::json;

use super::browser::{self, poll, Browser, KilnWatch};
use super::{kiln_bin, run_kiln, LONG};
use crate::util::{tempdir, write};

const FIXTURE: &str = include_str!("../../fixtures/live/pbr_set.rhai");

/// Runs script text in a fresh host.
fn run_text(dir: &Path, text: &str) -> Result<kiln::script::Outcome, kiln::script::ScriptError> {
    let script = write(dir, "s.rhai", text);
    Host::default().run_file(RunConfig::new(&script))
}

#[test]
fn a_set_result_and_shown_sets_are_recognised() {
    let dir = tempdir();
    let text = format!(
        "show(#{{ albedo: image(8, 8, \"teal\"), normal: image(8, 8, rgb(0.5, 0.5, 1.0)) }}, \"flat\");\n{FIXTURE}"
    );
    let out = run_text(dir.path(), &text).expect("the fixture runs");
    let set = out.set.expect("the result is a set");
    let names: Vec<&str> = set.maps().iter().map(|(c, _)| *c).collect();
    assert_eq!(names, ["albedo", "normal", "height", "roughness", "metallic", "ao"]);
    assert_eq!(set.normal.dimensions(), (128, 128));
    assert!(out.images.is_empty(), "a set is not an image result");
    assert_eq!(out.shown_sets.len(), 1);
    assert_eq!(out.shown_sets[0].0, "flat");
    assert!(out.shown_sets[0].1.roughness.is_none());
}

#[test]
fn a_map_that_is_not_a_set_is_an_error_at_the_call() {
    let dir = tempdir();
    let e =
        run_text(dir.path(), "let a = image(4, 4, \"red\");\nshow(#{ albedo: a, normals: a }, \"x\");\n").unwrap_err();
    assert_eq!(e.kind, ErrorKind::Input, "{e}");
    assert_eq!(e.location.as_ref().map(|l| l.line), Some(2), "{e}");
    assert!(e.message.contains("a PBR set needs 'normal' (did you mean 'normals'?)"), "{e}");
    let e = run_text(dir.path(), "show(#{ width: 3 });\n").unwrap_err();
    assert!(e.message.contains("a map is shown only as a PBR set"), "{e}");
    // As the result, a map with a channel of the wrong type fails the run instead of showing nothing.
    let e = run_text(dir.path(), "let a = image(4, 4, \"red\");\n#{ albedo: a, normal: a, ao: 1.0 }\n").unwrap_err();
    assert!(e.message.contains("s.rhai: result: the PBR set's 'ao' must be an Image, not a FLOAT"), "{e}");
    assert_eq!(e.kind, ErrorKind::Input);
    // A map that names no channel is not a set: the run succeeds with no result, as before.
    let out = run_text(dir.path(), "#{ width: 3 }\n").unwrap();
    assert!(out.set.is_none() && out.images.is_empty());
}

#[test]
fn kiln_run_writes_one_file_per_map() {
    let dir = tempdir();
    write(dir.path(), "set.rhai", FIXTURE);
    let out = run_kiln(dir.path(), &["run", "set.rhai", "--set", "size=32", "-o", "out/brick.png"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for channel in ["albedo", "normal", "height", "roughness", "metallic", "ao"] {
        let p = dir.path().join(format!("out/brick_{channel}.png"));
        assert_eq!(kiln::io::load(&p).unwrap().dimensions(), (32, 32), "{channel}");
    }
    assert_eq!(std::fs::read_dir(dir.path().join("out")).unwrap().count(), 6, "six maps and nothing else");
    // `--show-dir` writes each shown set's maps, numbered after the shown images.
    write(
        dir.path(),
        "shows.rhai",
        &format!("fn mat() {{\n{FIXTURE}\n}}\nshow(image(2, 2, \"red\"), \"red\");\nshow(mat(), \"mat\");\n"),
    );
    let out = run_kiln(dir.path(), &["run", "shows.rhai", "--set", "size=32", "--show-dir", "panels"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut names: Vec<String> = std::fs::read_dir(dir.path().join("panels"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "00-red.png",
            "01-mat_albedo.png",
            "01-mat_ao.png",
            "01-mat_height.png",
            "01-mat_metallic.png",
            "01-mat_normal.png",
            "01-mat_roughness.png"
        ]
    );
    let gif = run_kiln(dir.path(), &["run", "set.rhai", "--set", "size=32", "-o", "a.gif"]);
    assert_eq!(gif.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&gif.stderr).contains("the result is a PBR set"));
    assert!(!dir.path().join("a_albedo.gif").exists());
}

/// The fixture, after a flat teal set and a set whose normal leans up and right, shown as panels.
fn page_script() -> String {
    let lean = "rgb(0.5 + 0.5 * 0.5, 0.5 + 0.5 * 0.5, 0.5 + 0.5 * 0.7071)";
    format!(
        "let flat = image(16, 16, rgb(0.5, 0.5, 1.0));\n\
         show(#{{ albedo: image(16, 16, gray(0.6)), normal: flat }}, \"flat\");\n\
         show(#{{ albedo: image(16, 16, gray(0.6)), normal: image(16, 16, {lean}) }}, \"lean\");\n\
         {FIXTURE}"
    )
}

#[test]
fn watch_serves_the_maps_of_a_set() {
    let dir = tempdir();
    write(dir.path(), "set.rhai", &page_script());
    let w = KilnWatch::start(&kiln_bin(), dir.path(), &["set.rhai", "--port", "0"]);
    let state = poll("the first run", LONG, || Some(w.state()).filter(|s| s["run"].as_u64() >= Some(1)));
    assert_eq!(state["ok"], json!(true), "{state}");
    let labels: Vec<&str> = state["sets"].as_array().unwrap().iter().map(|s| s["label"].as_str().unwrap()).collect();
    assert_eq!(labels, ["result", "flat", "lean"]);
    let result = &state["sets"][0];
    let channels: Vec<&str> =
        result["maps"].as_array().unwrap().iter().map(|m| m["channel"].as_str().unwrap()).collect();
    assert_eq!(channels, ["albedo", "normal", "height", "roughness", "metallic", "ao"]);
    // Each map is also a 2-D panel, and its URL serves the same pixels `kiln run` writes.
    let normal = &result["maps"][1];
    let panel = &state["panels"][normal["panel"].as_u64().unwrap() as usize];
    assert_eq!(panel["label"], json!("result: normal"));
    assert_eq!(panel["url"], normal["url"]);
    let base = w.url.trim_end_matches('/');
    let mut bytes = Vec::new();
    let url = format!("{base}{}", normal["url"].as_str().unwrap());
    std::io::Read::read_to_end(&mut ureq::get(&url).call().unwrap().into_reader(), &mut bytes).unwrap();
    let served = kiln::io::decode(&bytes, Path::new("n.png")).unwrap();
    write(dir.path(), "only.rhai", FIXTURE);
    let out = run_kiln(dir.path(), &["run", "only.rhai", "-o", "m.png"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let written = kiln::io::load(&dir.path().join("m_normal.png")).unwrap();
    assert_eq!(served.pixels(), written.pixels());
}

/// Waits until the page has drawn `n` lit views and returns the grey grid of view `i`.
fn lit_grid(b: &Browser, i: usize) -> Vec<f64> {
    let v = b.eval("return window.kiln.lit.grid(arguments[0], 48, 24);", json!([i]));
    v.as_array().expect("a lit grid").iter().map(|x| x.as_f64().unwrap()).collect()
}

fn at(b: &Browser, i: usize, fx: f64, fy: f64) -> f64 {
    b.eval("return window.kiln.lit.at(arguments[0], arguments[1], arguments[2]);", json!([i, fx, fy]))
        .as_f64()
        .expect("a lit pixel")
}

fn set_light(b: &Browser, l: [f64; 3]) {
    b.eval("window.kiln.lit.setLight(arguments[0], arguments[1], arguments[2]);", json!(l));
}

/// Cells that differ by more than 6 grey levels.
fn changed(a: &[f64], b: &[f64]) -> usize {
    a.iter().zip(b).filter(|(x, y)| (*x - *y).abs() > 6.0).count()
}

#[test]
fn the_lit_preview_in_headless_chromium() {
    let Some((chromium, driver)) = browser::chromium() else {
        eprintln!("!! SKIPPED the_lit_preview_in_headless_chromium: chromium and chromedriver are not installed");
        eprintln!("!! (apt-get install -y chromium chromium-driver). .ci/run installs them.");
        return;
    };
    let dir = tempdir();
    write(dir.path(), "set.rhai", &page_script());
    let watch = KilnWatch::start(&kiln_bin(), dir.path(), &["set.rhai", "--port", "0"]);
    // The page makes no request to another host: it names none.
    let page = ureq::get(&watch.url).call().unwrap().into_string().unwrap();
    assert!(!page.contains("http://") && !page.contains("https://") && !page.contains("//cdn"), "external reference");
    let b = Browser::start(&chromium, &driver);
    b.goto(&watch.url);
    b.wait_newer(0, LONG);
    poll("three lit views", LONG, || (b.eval("return window.kiln.lit.count();", json!([])) == json!(3)).then_some(()));
    let webgl = b.eval("return !!window.kiln.lit.grid(0, 1, 1);", json!([]));
    assert_eq!(webgl, json!(true), "WebGL runs in this Chromium (SwiftShader)");
    assert_eq!(b.eval("return window.kiln.lit.label(0);", json!([])), json!("result"));

    // Not blank: the plane and the sphere stand out from the background, with texture detail.
    let before = lit_grid(&b, 0);
    let mean = before.iter().sum::<f64>() / before.len() as f64;
    let var = before.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / before.len() as f64;
    let mut levels: Vec<i64> = before.iter().map(|&x| x as i64).collect();
    levels.sort();
    levels.dedup();
    assert!(
        var.sqrt() > 10.0 && levels.len() > 30,
        "a lit picture, not a flat one: sd {:.1}, {} levels",
        var.sqrt(),
        levels.len()
    );
    let background = at(&b, 0, 0.02, 0.03);
    let sphere = at(&b, 0, 0.75, 0.5);
    assert!((sphere - background).abs() > 8.0, "the sphere stands out: {sphere} vs background {background}");

    // Drag the light with pointer events over the sphere's half: it moves to where the pointer is.
    let drag = "const c = document.querySelectorAll('#lit canvas')[0], r = c.getBoundingClientRect();\
                const pt = (fx, fy) => ({ clientX: r.left + fx * r.width, clientY: r.top + fy * r.height, pointerId: 1, bubbles: true, isPrimary: true, buttons: 1 });\
                c.dispatchEvent(new PointerEvent('pointerdown', pt(arguments[0], arguments[1])));\
                c.dispatchEvent(new PointerEvent('pointermove', pt(arguments[2], arguments[3])));\
                c.dispatchEvent(new PointerEvent('pointerup', pt(arguments[2], arguments[3])));\
                return window.kiln.lit.light;";
    // 0.75 is the sphere's centre; a quarter of the width is its half's width, so x = ±0.8.
    let right = b.eval(drag, json!([0.75, 0.5, 0.75 + 0.8 * 0.25, 0.5]));
    let lx = right[0].as_f64().unwrap();
    assert!(lx > 0.6 && right[1].as_f64().unwrap().abs() < 0.05, "light to the right: {right}");
    let lit_right = lit_grid(&b, 0);
    let left = b.eval(drag, json!([0.75, 0.5, 0.75 - 0.8 * 0.25, 0.5]));
    assert!(left[0].as_f64().unwrap() < -0.6, "light to the left: {left}");
    let lit_left = lit_grid(&b, 0);
    let n = changed(&lit_right, &lit_left);
    assert!(n > lit_left.len() / 10, "moving the light changes the picture: {n} of {} cells", lit_left.len());
    // The side the light is on is the bright one (on the plain grey set, view 1).
    let side = |fx: f64| at(&b, 1, fx, 0.5);
    let (l, r) = (side(0.75 - 0.15), side(0.75 + 0.15));
    assert!(l > r + 10.0, "lit from the left: {l} vs {r}");
    set_light(&b, [1.0, 0.0, 0.6]);
    let (l, r) = (side(0.75 - 0.15), side(0.75 + 0.15));
    assert!(r > l + 10.0, "lit from the right: {r} vs {l}");
    if let Some(path) = std::env::var_os("KILN_LIT_DEBUG") {
        set_light(&b, [-0.45, 0.55, 0.7]);
        std::fs::write(path, b.screenshot_base64()).unwrap();
    }

    // The normal map's axes: at the sphere's centre the surface faces the camera, so a flat
    // normal map is lit the same from the left and the right (and from above and below), while
    // a normal leaning up-right (R = G = 0.75, OpenGL: green is up) is brighter lit from the
    // upper right. A DirectX-convention reader (green down) would fail the vertical check.
    let centre = |view: usize, l: [f64; 3]| {
        set_light(&b, l);
        at(&b, view, 0.75, 0.5)
    };
    let (flat_r, flat_l) = (centre(1, [0.6, 0.0, 0.8]), centre(1, [-0.6, 0.0, 0.8]));
    let (flat_u, flat_d) = (centre(1, [0.0, 0.6, 0.8]), centre(1, [0.0, -0.6, 0.8]));
    assert!(
        (flat_r - flat_l).abs() < 4.0 && (flat_u - flat_d).abs() < 4.0,
        "flat: {flat_r} {flat_l} {flat_u} {flat_d}"
    );
    let (lean_r, lean_l) = (centre(2, [0.6, 0.0, 0.8]), centre(2, [-0.6, 0.0, 0.8]));
    let (lean_u, lean_d) = (centre(2, [0.0, 0.6, 0.8]), centre(2, [0.0, -0.6, 0.8]));
    assert!(lean_r > lean_l + 20.0, "a normal leaning right is lit from the right: {lean_r} vs {lean_l}");
    assert!(lean_u > lean_d + 20.0, "a normal leaning up (green) is lit from above: {lean_u} vs {lean_d}");

    // A re-run with a changed map redraws: the same view, new pixels.
    set_light(&b, [-0.45, 0.55, 0.7]);
    let first = lit_grid(&b, 0);
    let run = b.shown_run().unwrap();
    std::fs::write(dir.path().join("set.rhai"), page_script().replace("\"#e8c48a\"", "\"#202020\"")).unwrap();
    b.wait_newer(run, LONG);
    let second = poll("the new maps drawn", Duration::from_secs(30), || {
        let g = lit_grid(&b, 0);
        (changed(&first, &g) > 0).then_some(g)
    });
    assert!(changed(&first, &second) > first.len() / 20, "a new albedo shows in the lit view");

    // A lost WebGL context (a GPU reset, too many tabs) is rebuilt from the maps the view kept.
    // Restoring is allowed only once the page has handled the loss event, so it is asked for there.
    b.eval(
        "const c = document.querySelectorAll('#lit canvas')[0], x = c.getContext('webgl').getExtension('WEBGL_lose_context');\
         c.addEventListener('webglcontextlost', () => setTimeout(() => x.restoreContext(), 0), { once: true });\
         x.loseContext();",
        json!([]),
    );
    let restored = poll("the context restored and redrawn", Duration::from_secs(30), || {
        let v = b.eval("return window.kiln.lit.grid(0, 48, 24);", json!([]));
        v.as_array()
            .map(|a| a.iter().map(|x| x.as_f64().unwrap()).collect::<Vec<f64>>())
            .filter(|g| changed(g, &second) == 0)
    });
    assert_eq!(restored.len(), second.len());

    if let Some(path) = std::env::var_os("KILN_LIT_SCREENSHOT") {
        std::fs::write(path, b.screenshot_base64()).unwrap();
    }
    drop(b);
    drop(watch);
}
