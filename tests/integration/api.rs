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
