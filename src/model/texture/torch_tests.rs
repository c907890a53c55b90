//! PyTorch interop (issue 14 §6): a tiny texture generator made by PyTorch
//! (`scripts/train/torch_models.py`), converted by `scripts/train/from_torch.py` and committed
//! with torch's own outputs (`tests/fixtures/torch/`, remade by the `make_fixture.py` there),
//! must load with [`Model::load`] and give torch's images for torch's noise to 1e-4. The noise
//! parts go through [`Generator::noise`], so the global code from the embedding (a spatial
//! blend included) and the learned, optionally snapped, waves are compared as well as the
//! convolutions. The test needs no torch.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use candle_core::{Device, Tensor, Var};
use serde_json::Value;

use super::super::enabled::Model;
use super::super::io::File;
use super::super::nn::{Params, Specs};
use super::super::texture_options::{TextureMix, TextureSample};
use super::arch::TextureArch;
use super::net::{Generator, NoiseParts};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch").join(name)
}

/// A `{"shape": [...], "data": [...]}` entry of the fixture as a tensor.
fn tensor(v: &Value) -> Tensor {
    let shape: Vec<usize> = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let data: Vec<f32> = v["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
    Tensor::from_vec(data, shape, &Device::Cpu).unwrap()
}

/// The cases of the fixture `name` (a `*_io.json`).
fn cases(name: &str) -> Vec<Value> {
    let io: Value = serde_json::from_str(&std::fs::read_to_string(fixture(name)).unwrap()).unwrap();
    io["cases"].as_array().unwrap().clone()
}

/// The noise parts of one fixture case: local, mix, phase and snap, and the detail and coarse
/// noise where the case has them.
fn parts_of(case: &Value) -> NoiseParts {
    NoiseParts {
        local: tensor(&case["local"]),
        mix: tensor(&case["mix"]),
        phase: tensor(&case["phase"]),
        snap: case["snap"].as_bool().unwrap(),
        detail: case["detail"].as_array().map_or(vec![], |d| d.iter().map(tensor).collect()),
        coarse: case.get("coarse").map(tensor),
    }
}

/// Renders `parts` and checks the image against the case's torch image to 1e-4; torch's image.
fn assert_matches_torch(g: &Generator, p: &Params, parts: &NoiseParts, case: &Value) -> Tensor {
    let expected = tensor(&case["image"]);
    let diff = max_abs_diff(&g.render(p, parts).unwrap(), &expected);
    assert!(diff <= 1e-4, "case {}: max |kiln − torch| = {diff}", case["name"]);
    expected
}

/// The largest |a − b| (shapes must match); NaN counts as infinity. Also used by `tests.rs`.
pub(super) fn max_abs_diff(a: &Tensor, b: &Tensor) -> f32 {
    assert_eq!(a.dims(), b.dims());
    let d: Vec<f32> = (a - b).unwrap().abs().unwrap().flatten_all().unwrap().to_vec1().unwrap();
    // NaN counts as the largest difference (f32::max would skip it)
    d.into_iter().map(|d| if d.is_nan() { f32::INFINITY } else { d }).fold(0.0, f32::max)
}

/// The converted file as kiln loads it: its architecture, generator and (loaded) parameters.
fn load() -> (Model, TextureArch, Generator, Params) {
    load_fixture("texture_tiny.safetensors")
}

fn load_fixture(name: &str) -> (Model, TextureArch, Generator, Params) {
    let path = fixture(name);
    let model = Model::load(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    let arch = TextureArch::from_file(&File::parse(&bytes, &path).unwrap()).unwrap();
    let g = Generator::new(&arch, &mut Specs::default());
    let vars: BTreeMap<String, Var> =
        model.tensors().unwrap().into_iter().map(|(k, t)| (k, Var::from_tensor(&t).unwrap())).collect();
    (model, arch, g, Params::new(vars))
}

#[test]
fn torch_converted_generator_loads_with_its_architecture() {
    let (model, arch, _, p) = load();
    assert_eq!(model.kind().name(), "texture_gan");
    assert_eq!(model.textures(), ["red", "blue"]);
    let expected = TextureArch {
        width: 4,
        local: 3,
        global: 2,
        periodic: 2,
        depth: 1,
        detail_noise: false,
        detail_gate: false,
        coarse: 0,
        critic_scales: 1,
        bilinear_upsample: false,
        textures: vec!["red".into(), "blue".into()],
        patch: 16,
    };
    assert_eq!(arch, expected);
    assert_eq!(p.get("g.in.w").dims(), [16, 7, 3, 3]);
    assert_eq!(p.get("g.wave.w").dims(), [4, 2]);
    // and it samples like any kiln texture model
    let img = model
        .sample_texture(&TextureSample { width: 32, height: 24, seed: Some(1), tileable: true }, &TextureMix::One(1))
        .unwrap();
    assert_eq!((img.width(), img.height()), (32, 24));
}

#[test]
fn torch_converted_generator_matches_torch_output() {
    let (_, _, g, p) = load();
    let cases = cases("texture_tiny_io.json");
    assert_eq!(cases.len(), 2);
    for case in &cases {
        let parts = parts_of(case);
        assert!(parts.detail.is_empty() && parts.coarse.is_none());
        let expected = assert_matches_torch(&g, &p, &parts, case);
        // the control: the same noise without the snap (or with it) gives another image, so
        // the comparison sees the waves
        let other = NoiseParts { snap: !parts.snap, ..parts };
        let moved = g.render(&p, &other).unwrap();
        assert!(max_abs_diff(&moved, &expected) > 1e-2, "case {}: the waves do not reach the image", case["name"]);
    }
}

/// A generator with detail noise (`g.up0.noise`, `g.up1.noise`, torch's `up0_noise`,
/// `up1_noise`) converted from torch gives torch's image for torch's noise, detail images
/// included; without them the image differs, so the comparison sees the detail noise.
#[test]
fn torch_converted_detail_noise_matches_torch_output() {
    let (_, arch, g, p) = load_fixture("texture_detail_tiny.safetensors");
    assert!(arch.detail_noise);
    assert_eq!(p.get("g.up0.noise").dims(), [8]);
    assert_eq!(p.get("g.up1.noise").dims(), [4]);
    let case = &cases("texture_detail_tiny_io.json")[0];
    let parts = parts_of(case);
    assert!(!parts.snap && parts.detail.len() == 2 && parts.coarse.is_none());
    let expected = assert_matches_torch(&g, &p, &parts, case);
    let quiet = NoiseParts { detail: parts.detail.iter().map(|d| d.zeros_like().unwrap()).collect(), ..parts };
    assert!(
        max_abs_diff(&g.render(&p, &quiet).unwrap(), &expected) > 1e-2,
        "the detail noise does not reach the image"
    );
}

/// A generator with coarse noise channels converted from torch (the count comes from its
/// `coarse_channels` buffer) reads them after the periodic ones, as torch does: torch's image
/// for torch's noise; with the coarse channels zeroed the image differs, so the comparison sees
/// them.
#[test]
fn torch_converted_coarse_noise_matches_torch_output() {
    let (_, arch, g, p) = load_fixture("texture_coarse_tiny.safetensors");
    assert_eq!((arch.local, arch.coarse), (3, 2));
    assert_eq!(p.get("g.in.w").dims(), [16, 7, 3, 3]);
    let case = &cases("texture_coarse_tiny_io.json")[0];
    let parts = parts_of(case);
    assert!(parts.snap && parts.detail.is_empty() && parts.coarse.is_some());
    let expected = assert_matches_torch(&g, &p, &parts, case);
    let quiet = NoiseParts { coarse: parts.coarse.as_ref().map(|c| c.zeros_like().unwrap()), ..parts };
    assert!(
        max_abs_diff(&g.render(&p, &quiet).unwrap(), &expected) > 1e-2,
        "the coarse noise does not reach the image"
    );
}

/// A generator with bilinear upsampling converted from torch (the flag comes from its
/// `bilinear_upsample_on` buffer) gives torch's image for torch's noise, torch's bilinear
/// interpolation of a circularly padded map included; the same weights upsampling by nearest
/// neighbour give another image, so the comparison sees the upsampling.
#[test]
fn torch_converted_bilinear_upsampling_matches_torch_output() {
    let (_, arch, g, p) = load_fixture("texture_bilinear_tiny.safetensors");
    assert!(arch.bilinear_upsample && arch.depth == 2, "{arch:?}");
    let case = &cases("texture_bilinear_tiny_io.json")[0];
    let parts = parts_of(case);
    let expected = assert_matches_torch(&g, &p, &parts, case);
    let nearest = Generator::new(&TextureArch { bilinear_upsample: false, ..arch }, &mut Specs::default());
    assert!(
        max_abs_diff(&nearest.render(&p, &parts).unwrap(), &expected) > 1e-2,
        "the upsampling does not reach the image"
    );
}

/// A generator with gated detail noise converted from torch (`up0_gate`, `up1_gate`, 1×1
/// convolutions, as kiln's `g.up0.gate.w` ...) gives torch's image for torch's noise; the same
/// weights with the gates zeroed (a constant ×1) give another image, so the comparison sees them.
#[test]
fn torch_converted_detail_gate_matches_torch_output() {
    let (_, arch, g, p) = load_fixture("texture_gate_tiny.safetensors");
    assert!(arch.detail_noise && arch.detail_gate, "{arch:?}");
    assert_eq!(p.get("g.up0.gate.w").dims(), [1, 8, 1, 1]);
    assert_eq!(p.get("g.up1.gate.w").dims(), [1, 4, 1, 1]);
    let case = &cases("texture_gate_tiny_io.json")[0];
    let parts = parts_of(case);
    assert!(parts.detail.len() == 2);
    let expected = assert_matches_torch(&g, &p, &parts, case);
    for name in ["g.up0.gate.w", "g.up0.gate.b", "g.up1.gate.w", "g.up1.gate.b"] {
        p.vars[name].set(&p.vars[name].zeros_like().unwrap()).unwrap();
    }
    assert!(max_abs_diff(&g.render(&p, &parts).unwrap(), &expected) > 1e-2, "the gates do not reach the image");
}
