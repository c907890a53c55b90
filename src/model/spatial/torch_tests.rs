//! PyTorch interop for the spatial VAE (issue 14 §6): a tiny `SpatialVae` made by PyTorch
//! (`scripts/train/torch_models.py`), converted by `scripts/train/from_torch.py` and committed
//! with torch's outputs (`tests/fixtures/torch/spatial_tiny*`, remade by `make_fixture.py`
//! there) must load with [`Model::load`], encode torch's image to torch's latent mean and decode
//! that mean to torch's image, each to 1e-4. The test needs no torch.

use std::path::{Path, PathBuf};

use serde_json::Value;

use super::super::enabled::Model;
use super::super::latent_map::LatentMap;
use crate::image::Image;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/torch").join(name)
}

fn values(v: &Value) -> (Vec<usize>, Vec<f32>) {
    let shape = v["shape"].as_array().unwrap().iter().map(|d| d.as_u64().unwrap() as usize).collect();
    let data = v["data"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
    (shape, data)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    // NaN counts as the largest difference (f32::max would skip it)
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).map(|d| if d.is_nan() { f32::INFINITY } else { d }).fold(0.0, f32::max)
}

#[test]
fn torch_converted_spatial_vae_matches_torch() {
    let model = Model::load(&fixture("spatial_tiny.safetensors")).unwrap();
    assert_eq!(model.factor(), Some(8));
    let io: Value = serde_json::from_str(&std::fs::read_to_string(fixture("spatial_tiny_io.json")).unwrap()).unwrap();
    let (shape, x) = values(&io["image"]); // (1, 3, 24, 32), planar
    let (h, w) = (shape[2], shape[3]);
    let img = Image::from_fn(w as u32, h as u32, |px, py| {
        let at = |c: usize| x[c * h * w + py as usize * w + px as usize];
        [at(0), at(1), at(2), 1.0]
    })
    .unwrap();
    let (mu_shape, mu) = values(&io["mu"]);
    let map = model.encode_map(&img).unwrap();
    assert_eq!((map.channels(), map.height(), map.width()), (mu_shape[1], mu_shape[2], mu_shape[3]));
    let d = max_abs_diff(map.values(), &mu);
    assert!(d <= 1e-4, "encode: max |kiln − torch| = {d}");
    // decode torch's own mean, so the decoder is compared on exactly torch's input
    let (_, want) = values(&io["decoded"]);
    let out = model.decode_map(&LatentMap::new(mu_shape[1], mu_shape[2], mu_shape[3], mu).unwrap()).unwrap();
    assert_eq!((out.width() as usize, out.height() as usize), (w, h));
    let rgba = out.pixels();
    let got: Vec<f32> = (0..3).flat_map(|c| (0..h * w).map(move |i| (c, i))).map(|(c, i)| rgba[i * 4 + c]).collect();
    let d = max_abs_diff(&got, &want);
    // (measured when written: encode 3.6e-7, decode 0: the decoder's sums come out bit-equal)
    assert!(d <= 1e-4, "decode: max |kiln − torch| = {d}");
}
