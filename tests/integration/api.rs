//! The library API used from Rust: embedding the host, in-memory results.

use kiln::script::{Host, RunConfig};
use kiln::Color;

#[test]
fn a_host_can_register_its_own_function_and_get_an_image_back() {
    let mut host = Host::default();
    host.engine_mut().register_fn("studio_red", || Color::rgb(0.8, 0.1, 0.1));
    let compiled = host.compile("inline.rhai", "let img = image(6, 4, studio_red());\nimg").unwrap();
    let outcome = host.run(&compiled, RunConfig::default()).unwrap();
    assert_eq!(outcome.images.len(), 1);
    let img = &outcome.images[0];
    assert_eq!(img.dimensions(), (6, 4));
    assert_eq!(img.get(5, 3), Some(Color::rgb(0.8, 0.1, 0.1)));
}

#[test]
fn one_host_runs_many_scripts_and_keeps_no_state_between_runs() {
    let host = Host::default();
    let a = host.compile("a.rhai", "show(image(2, 2), \"a\"); param(\"k\", 1); image(3, 3)").unwrap();
    let first = host.run(&a, RunConfig { params: vec![("k".into(), "5".into())], ..Default::default() }).unwrap();
    assert_eq!(first.shown.len(), 1);
    assert_eq!(first.params[0].value, "5");
    let second = host.run(&a, RunConfig::default()).unwrap();
    assert_eq!(second.shown.len(), 1, "panels of the previous run must not leak");
    assert_eq!(second.params[0].value, "1");
}

#[test]
fn values_are_immutable() {
    let host = Host::default();
    let c = host.compile("i.rhai", "let a = image(2, 2, \"black\");\nlet b = a.set(0, 0, \"white\");\n[a, b]").unwrap();
    let out = host.run(&c, RunConfig::default()).unwrap();
    assert_eq!(out.images[0].get(0, 0), Some(Color::BLACK));
    assert_eq!(out.images[1].get(0, 0), Some(Color::WHITE));
}

#[test]
fn decoded_images_are_kept_across_runs_only_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let photo = dir.path().join("p.png");
    kiln::io::save(&kiln::Image::filled(8, 8, Color::WHITE).unwrap(), &photo, &Default::default()).unwrap();
    let script = dir.path().join("s.rhai");
    std::fs::write(&script, "load(\"p.png\")").unwrap();
    let host = Host::default();
    let config = || RunConfig { script: script.clone(), ..Default::default() };
    host.run_file(config()).unwrap();
    assert_eq!(host.kept_images(), 0, "a one-shot host keeps nothing");
    host.keep_decoded_images(true);
    let first = host.run_file(config()).unwrap();
    let second = host.run_file(config()).unwrap();
    assert_eq!(host.kept_images(), 1);
    assert_eq!(first.images[0], second.images[0]);
    assert_eq!(first.inputs, vec![kiln::script::context::normalize(&photo)]);
}

#[test]
fn compositing_onto_a_variable_leaves_it_untouched() {
    let host = Host::default();
    let c = host
        .compile("o.rhai", "let back = image(4, 4, \"black\");\nlet top = image(2, 2, \"white\");\nlet out = top.over(back, 1, 1);\n[back, out, top.blend(back, \"screen\", 0.5), back]")
        .unwrap();
    let out = host.run(&c, RunConfig::default()).unwrap();
    assert_eq!(out.images[0].get(1, 1), Some(Color::BLACK), "backdrop variable changed by over");
    assert_eq!(out.images[1].get(1, 1), Some(Color::WHITE));
    assert_eq!(out.images[3].get(0, 0), Some(Color::BLACK), "backdrop variable changed by blend");
}

/// Collecting points with `push` is linear: 200k pushes finish well inside the default limits
/// (they took 11 s when Rhai re-measured the array after every push). The speed itself is
/// measured in `benches/script.rs`; this only checks that the run completes and is correct.
#[test]
fn two_hundred_thousand_pushes_run_inside_the_default_limits() {
    let dir = crate::util::tempdir();
    let script = dir.path().join("push.rhai");
    std::fs::write(&script, "let a = [];\nfor i in 0..200000 { a.push(i); }\nprint(a.len());\nimage(2, 2, \"red\")")
        .unwrap();
    let host = kiln::script::Host::default();
    let config = kiln::script::RunConfig {
        script: script.clone(),
        timeout: Some(std::time::Duration::from_secs(60)),
        ..Default::default()
    };
    let outcome = host.run_file(config).expect("200k pushes run");
    assert_eq!(outcome.images.len(), 1);
}

/// `train_texture` with the generator's options from a script (detail noise, coarse noise):
/// each option reaches the model (the same seed gives the same sample, and another from the
/// same model without it), the sample tiles, and a wrong value is an error that names the
/// option.
#[test]
fn a_script_trains_texture_models_with_generator_options() {
    let host = Host::default();
    let script = |option: &str| {
        format!(
            "let ex = fbm(perlin(#{{ scale: 16.0 }})).render(48, 48);
             let m = train_texture(#{{ data: [ex], patch: 32, steps: 3, batch: 2, width: 4, seed: 5, {option} }});
             m.sample(#{{ width: 64, height: 64, seed: 2, tileable: true }})"
        )
    };
    let run = |text: &str| {
        let compiled = host.compile("options.rhai", text).unwrap();
        host.run(&compiled, RunConfig::default()).map(|outcome| outcome.images[0].clone())
    };
    // key, on, off, a wrong value
    for (key, on, off, wrong) in [("detail_noise", "true", "false", "3"), ("coarse", "4", "0", "-1")] {
        let with = run(&script(&format!("{key}: {on}"))).unwrap();
        let seam = kiln::texture_stats::seam_score(&with);
        assert!(seam < kiln::texture_stats::TILEABLE_RATIO, "{key}: seam {seam}");
        assert_eq!(run(&script(&format!("{key}: {on}"))).unwrap(), with, "{key}: same seed, same sample");
        assert_ne!(run(&script(&format!("{key}: {off}"))).unwrap(), with, "{key} changes the sample");
        let e = run(&script(&format!("{key}: {wrong}"))).unwrap_err().to_string();
        assert!(e.contains(key), "{e}");
    }
}
