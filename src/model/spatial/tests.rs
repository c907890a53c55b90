//! Tests of the spatial VAE end to end: shapes, tiling, errors, determinism, resume.

use super::settings::{SpatialTrainOptions, SpatialTrainSettings};
use super::train::train_spatial_vae;
use crate::model::{Data, Kind};
use crate::Image;

fn texture(w: u32, h: u32, seed: u32) -> Image {
    Image::from_fn(w, h, |x, y| {
        let (x, y, s) = (x as f32, y as f32, seed as f32);
        [
            0.5 + 0.4 * (0.3 * x + 0.1 * y + s).sin(),
            0.5 + 0.4 * (0.2 * y - 0.05 * x + 2.0 * s).cos(),
            0.5 + 0.3 * (0.11 * (x + y) + s).sin(),
            1.0,
        ]
    })
    .unwrap()
}

fn tiny(data: Data) -> SpatialTrainSettings {
    SpatialTrainSettings {
        data: Some(data),
        patch: 16,
        steps: 3,
        batch: 2,
        width: 4,
        channels: 2,
        blocks: 1,
        seed: Some(1),
        ..SpatialTrainSettings::default()
    }
}

#[test]
fn trains_and_codes_any_size() {
    let data = Data::Images(vec![texture(40, 24, 1), texture(16, 16, 2)]);
    let opts = SpatialTrainOptions { settings: tiny(data), cancel: None };
    let (m, metrics) = train_spatial_vae(&opts, &mut |_| {}).unwrap();
    assert_eq!(m.kind(), Kind::SpatialVae);
    assert_eq!(metrics.steps, 3);
    assert!(metrics.psnr.is_some() && metrics.ssim.is_some());
    for (w, h) in [(8, 8), (16, 24), (13, 7), (1, 1), (33, 40)] {
        let map = m.encode_map(&texture(w, h, 3)).unwrap();
        let (pw, ph) = (w.div_ceil(8) * 8, h.div_ceil(8) * 8);
        assert_eq!((map.channels(), map.width(), map.height()), (2, pw as usize / 4, ph as usize / 4), "{w}x{h}");
        let back = m.decode_map(&map).unwrap();
        assert_eq!(back.dimensions(), (w, h));
        assert!(back.pixels().iter().all(|v| (0.0..=1.0).contains(v)));
    }
}

/// A fresh tiny network and its weights, without training.
fn fresh(factor: u32, blocks: usize) -> (super::net::SpatialNet, crate::model::nn::Params) {
    let arch = super::arch::SpatialArch { factor, latent: 3, width: 4, blocks };
    let mut specs = crate::model::nn::Specs::default();
    let net = super::net::SpatialNet::new(&arch, &mut specs);
    let p = crate::model::nn::Params::init(&specs, 5, &candle_core::Device::Cpu).unwrap();
    (net, p)
}

/// Tiles with a margin at least the receptive field give what the whole image gives.
#[test]
fn tiled_coding_equals_whole_image_coding() {
    use super::infer::{decode_tiled, encode_tiled};
    let dev = candle_core::Device::Cpu;
    for (factor, blocks) in [(4, 1), (8, 2)] {
        let (net, p) = fresh(factor, blocks);
        let img = texture(200, 136, 4);
        let whole = encode_tiled(&net, &p, &dev, &img, 1024).unwrap();
        let tiled = encode_tiled(&net, &p, &dev, &img, 64).unwrap();
        let worst = whole.values().iter().zip(tiled.values()).map(|(a, b)| (a - b).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-4, "factor {factor}: encode differs by {worst}");
        let a = decode_tiled(&net, &p, &dev, &whole, 1024).unwrap();
        let b = decode_tiled(&net, &p, &dev, &whole, 64).unwrap();
        assert_eq!(a.dimensions(), (200, 136));
        let worst = a.pixels().iter().zip(b.pixels()).map(|(x, y)| (x - y).abs()).fold(0f32, f32::max);
        assert!(worst < 1e-4, "factor {factor}: decode differs by {worst}");
    }
}

#[test]
fn a_1024_image_encodes_and_decodes() {
    let (net, p) = fresh(4, 1);
    let dev = candle_core::Device::Cpu;
    let img = texture(1024, 1024, 6);
    let map = super::infer::encode_map(&net, &p, &dev, &img).unwrap();
    assert_eq!((map.channels(), map.width(), map.height()), (3, 256, 256));
    let back = super::infer::decode_map(&net, &p, &dev, &map).unwrap();
    assert_eq!(back.dimensions(), (1024, 1024));
}

#[test]
fn bad_input_gets_clear_errors() {
    let run = |s: SpatialTrainSettings| {
        train_spatial_vae(&SpatialTrainOptions { settings: s, cancel: None }, &mut |_| {}).unwrap_err().to_string()
    };
    // an exemplar smaller than the patch names the image
    let e = run(tiny(Data::Images(vec![texture(40, 40, 1), texture(12, 40, 2)])));
    assert_eq!(
        e,
        "train_spatial_vae: image 1 of the array is 12x40, smaller than the 16x16 patch; use a larger image or a smaller 'patch'"
    );
    // a folder with no images
    let dir = tempfile::tempdir().unwrap();
    let e = run(tiny(Data::Folder(dir.path().to_path_buf())));
    assert_eq!(e, format!("train_spatial_vae: no image files in {}", dir.path().display()));
    assert!(run(tiny(Data::Images(vec![]))).contains("the image array is empty"));
    // a file too small, named by its path
    let small = dir.path().join("small.png");
    crate::image::io::save(&texture(8, 8, 1), &small, &Default::default()).unwrap();
    let e = run(tiny(Data::Folder(dir.path().to_path_buf())));
    assert!(e.contains("small.png is 8x8, smaller than the 16x16 patch"), "{e}");
}

#[test]
fn grey_and_transparent_images_are_used_as_rgb_and_said_once() {
    let grey = Image::from_fn(32, 32, |x, y| {
        let v = ((x * 7 + y * 3) % 16) as f32 / 16.0;
        [v, v, v, 1.0]
    })
    .unwrap();
    let clear = Image::from_fn(32, 32, |x, _| [0.2, 0.5, 0.9, x as f32 / 32.0]).unwrap();
    let mut notes = Vec::new();
    let opts = SpatialTrainOptions { settings: tiny(Data::Images(vec![grey, clear.clone(), clear])), cancel: None };
    train_spatial_vae(&opts, &mut |p| {
        if let crate::model::Event::Warning(n) = &p.event {
            notes.push(n.clone());
        }
    })
    .unwrap();
    assert_eq!(
        notes,
        vec![
            "image 1 of the array has transparency: its RGB is used and alpha ignored (and 1 other image)".to_string(),
            "image 0 of the array is grey: it is used as RGB (R = G = B)".to_string(),
        ]
    );
}

#[test]
fn calls_that_do_not_fit_the_kind_name_it() {
    let opts = SpatialTrainOptions { settings: tiny(Data::Images(vec![texture(32, 32, 1)])), cancel: None };
    let (m, _) = train_spatial_vae(&opts, &mut |_| {}).unwrap();
    let e = m.sample(1, 0).unwrap_err().to_string();
    assert!(e.starts_with("sample: this model's kind is \"spatial_vae\", which has no latent vector"), "{e}");
    assert!(m.encode(&texture(8, 8, 1)).unwrap_err().to_string().contains("\"spatial_vae\""));
    assert!(m.decode(&crate::Latent::new(vec![0.0; 2])).unwrap_err().to_string().contains("\"spatial_vae\""));
    // a latent map of the wrong channel count
    let map = crate::LatentMap::new(5, 2, 2, vec![0.0; 20]).unwrap();
    let e = m.decode_map(&map).unwrap_err().to_string();
    assert_eq!(e, "decode: the latent map has 5 channels, the model takes 2");
    // a 32² VAE asked for a latent map
    let vae = crate::Model::load("std/materials_vae".as_ref()).unwrap();
    let e = vae.encode_map(&texture(8, 8, 1)).unwrap_err().to_string();
    assert!(
        e.starts_with("encode: this model's kind is \"vae\"; encode of a latent map needs a \"spatial_vae\""),
        "{e}"
    );
    assert!(vae.decode_map(&map).unwrap_err().to_string().contains("kind is \"vae\""));
}

/// The same seed gives the same bytes, at any thread count; a run stopped and resumed gives
/// the same model as one that never stopped; the file loads back to the same coder.
#[test]
fn training_is_deterministic_and_resumes_exactly() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let images = vec![texture(48, 40, 1), texture(32, 32, 2)];
    let settings = |name: &str| SpatialTrainSettings {
        steps: 4,
        out: Some(dir.path().join(name)),
        ..tiny(Data::Images(images.clone()))
    };
    let train = |s: SpatialTrainSettings, threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        pool.install(|| train_spatial_vae(&SpatialTrainOptions { settings: s, cancel: None }, &mut |_| {})).unwrap()
    };
    train(settings("a.safetensors"), 1);
    train(settings("b.safetensors"), 3);
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    assert_eq!(read("a.safetensors"), read("b.safetensors"));
    // cancelled after step 2, then resumed
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let opts = SpatialTrainOptions { settings: settings("c.safetensors"), cancel: Some(cancel) };
    let e = train_spatial_vae(&opts, &mut |p| {
        if p.step == 2 {
            flag.store(true, Ordering::Relaxed);
        }
    })
    .unwrap_err();
    assert!(e.to_string().contains("cancelled at step 2 of 4"), "{e}");
    let resumed = SpatialTrainSettings { resume: true, ..settings("c.safetensors") };
    train(resumed, 2);
    assert_eq!(read("a.safetensors"), read("c.safetensors"));
    // the file loads back to the same coder
    let (m, _) = train(settings("d.safetensors"), 2);
    let loaded = crate::Model::from_bytes(&read("d.safetensors"), "d".as_ref()).unwrap();
    let img = texture(24, 16, 9);
    assert_eq!(m.encode_map(&img).unwrap(), loaded.encode_map(&img).unwrap());
    assert_eq!(loaded.kind(), Kind::SpatialVae);
    assert_eq!(loaded.factor(), Some(4));
}
