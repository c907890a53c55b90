//! Model room tests in tiny shapes (8², batch 4, a few steps): seconds each, no real training.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use super::*;
use crate::error::Error;
use crate::image::Image;

/// 16 images of 8×8: horizontal or vertical two-colour gradients.
fn toy_images() -> Vec<Image> {
    (0..16)
        .map(|i| {
            let (a, b) = ([0.9, 0.2, 0.1], [0.1, 0.3, 0.9]);
            Image::from_fn(8, 8, move |x, y| {
                let t = if i % 2 == 0 { x as f32 / 7.0 } else { y as f32 / 7.0 };
                let t = if i % 4 >= 2 { 1.0 - t } else { t };
                let k = 0.6 + 0.4 * (i as f32 / 15.0);
                [k * (a[0] + (b[0] - a[0]) * t), k * (a[1] + (b[1] - a[1]) * t), k * (a[2] + (b[2] - a[2]) * t), 1.0]
            })
            .unwrap()
        })
        .collect()
}

fn toy_options() -> TrainOptions {
    let mut o = TrainOptions::new(Data::Images(toy_images()));
    o.settings.size = 8;
    o.settings.latent = 4;
    o.settings.width = 4;
    o.settings.batch = 4;
    o.settings.epochs = 2;
    o.settings.holdout = 0.0;
    o.settings.sample_every = 0;
    o.settings.checkpoint_every = 0;
    o
}

fn pixels(images: &[Image]) -> Vec<f32> {
    images.iter().flat_map(|i| i.pixels().to_vec()).collect()
}

fn losses(kind: Kind, opts: &TrainOptions) -> Vec<f64> {
    let mut out = Vec::new();
    let mut cb = |p: &Progress| {
        if p.event == Event::Step {
            out.push(p.losses[0].1);
        }
    };
    match kind {
        Kind::Vae => train_vae(opts, &mut cb).unwrap(),
        Kind::Gan => train_gan(opts, &mut cb).unwrap(),
        other => panic!("no 32x32 training loop for {other}"),
    };
    out
}

#[test]
fn vae_loss_decreases() {
    let mut o = toy_options();
    o.settings.epochs = 10;
    o.settings.lr = 3e-3;
    let mut steps = Vec::new();
    let (model, metrics) = train_vae(&o, &mut |p| {
        if p.event == Event::Step && p.step % 4 == 0 {
            steps.push(p.losses[0].1) // running mean of the epoch
        }
    })
    .unwrap();
    assert!(steps.last().unwrap() < &(steps[0] * 0.9), "epoch losses {steps:?}");
    assert_eq!(model.steps(), 40);
    assert!(metrics.psnr.unwrap() > 5.0 && metrics.elbo.unwrap().is_finite(), "{metrics}");
}

#[test]
fn gan_trains_without_nan_and_reports_diversity() {
    let mut o = toy_options();
    o.settings.lr = 2e-4;
    let l = losses(Kind::Gan, &o);
    assert_eq!(l.len(), 8);
    assert!(l.iter().all(|v| v.is_finite()));
    let (model, metrics) = train_gan(&o, &mut |_| {}).unwrap();
    assert_eq!(model.kind(), Kind::Gan);
    assert!(metrics.diversity().unwrap() > 0.0, "{metrics}");
    assert!(model.encode(&toy_images()[0]).is_err(), "a GAN has no encoder");
}

#[test]
fn same_seed_same_bits_on_any_thread_count() {
    let run = |threads: usize| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| {
            let o = toy_options();
            let (vae, _) = train_vae(&o, &mut |_| {}).unwrap();
            let (gan, _) = train_gan(&o, &mut |_| {}).unwrap();
            (pixels(&vae.sample(3, 11).unwrap()), pixels(&gan.sample(3, 11).unwrap()))
        })
    };
    let (a, b) = (run(1), run(2));
    assert!(a.0 == b.0, "VAE samples differ between 1 and 2 threads");
    assert!(a.1 == b.1, "GAN samples differ between 1 and 2 threads");
    let mut o = toy_options();
    o.settings.seed = Some(1);
    let (other, _) = train_vae(&o, &mut |_| {}).unwrap();
    assert_ne!(pixels(&other.sample(3, 11).unwrap()), a.0, "another seed should give other weights");
}

#[test]
fn save_load_round_trip_gives_identical_outputs() {
    let dir = tempfile::tempdir().unwrap();
    for kind in [Kind::Vae, Kind::Gan] {
        let o = toy_options();
        let (model, _) =
            if kind == Kind::Vae { train_vae(&o, &mut |_| {}) } else { train_gan(&o, &mut |_| {}) }.unwrap();
        let path = dir.path().join(format!("{kind}.safetensors"));
        model.save(&path).unwrap();
        let loaded = Model::load(&path).unwrap();
        assert_eq!((loaded.kind(), loaded.size(), loaded.latent_dim(), loaded.width()), (kind, 8, 4, 4));
        assert_eq!(loaded.steps(), 8);
        assert_eq!(loaded.metadata("kiln_version"), Some(env!("CARGO_PKG_VERSION")));
        assert_eq!(pixels(&loaded.sample(2, 5).unwrap()), pixels(&model.sample(2, 5).unwrap()));
        let z = model.latent(3);
        assert_eq!(pixels(&[loaded.decode(&z).unwrap()]), pixels(&[model.decode(&z).unwrap()]));
        assert_eq!(pixels(&[model.decode(&z).unwrap()]), pixels(&model.sample(1, 3).unwrap()));
        if kind == Kind::Vae {
            let img = &toy_images()[3];
            assert_eq!(loaded.encode(img).unwrap(), model.encode(img).unwrap());
            let r = loaded.reconstruct(img).unwrap();
            assert_eq!(r.dimensions(), (8, 8));
        }
    }
}

/// Mean of each coordinate over `latents`.
fn centroid(latents: &[Latent]) -> Vec<f32> {
    let n = latents.len() as f32;
    (0..latents[0].len()).map(|j| latents.iter().map(|z| z.values()[j]).sum::<f32>() / n).collect()
}

#[test]
fn a_vae_samples_from_the_mixture_fitted_to_its_training_latents() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = toy_options();
    o.settings.epochs = 4;
    o.settings.prior = Some(2);
    o.settings.out = Some(dir.path().join("m.safetensors"));
    let (model, _) = train_vae(&o, &mut |_| {}).unwrap();
    assert_eq!(model.prior_components(), 2);
    assert_eq!(pixels(&[model.decode(&model.latent(4)).unwrap()]), pixels(&model.sample(1, 4).unwrap()));
    // the draws sit where the training images encode (EM keeps the data's mean), not at 0
    let encoded = model.encode_batch(&toy_images()).unwrap();
    let draws: Vec<Latent> = (0..2000).map(|s| model.latent(s)).collect();
    let (want, got) = (centroid(&encoded), centroid(&draws));
    let spread = encoded.iter().map(|z| z.sub(&Latent::new(want.clone())).unwrap().norm()).sum::<f32>() / 16.0;
    let gap = Latent::new(want.clone()).sub(&Latent::new(got.clone())).unwrap().norm();
    assert!(gap < 0.2 * spread, "draws centre {got:?}, training latents centre {want:?} (spread {spread})");
    // the file keeps the prior
    let loaded = Model::load(&dir.path().join("m.safetensors")).unwrap();
    assert_eq!(loaded.prior_components(), 2);
    assert_eq!(loaded.latent(7), model.latent(7));
    // resuming the finished run with another prior refits it without training a step
    o.settings.resume = true;
    o.settings.prior = Some(0);
    let mut steps = 0;
    let (plain, _) = train_vae(&o, &mut |p| steps += (p.event == Event::Step) as usize).unwrap();
    assert_eq!((steps, plain.steps(), plain.prior_components()), (0, model.steps(), 0));
    assert_eq!(plain.encode_batch(&toy_images()).unwrap(), encoded, "same weights");
    assert_ne!(plain.latent(7), model.latent(7));
    // too many components for the images is refused before the first step
    let mut o = toy_options();
    o.settings.prior = Some(9);
    let mut steps = 0;
    let err = train_vae(&o, &mut |p| steps += (p.event == Event::Step) as usize).unwrap_err();
    assert!(matches!(err, Error::Parameter { .. }) && err.to_string().contains("18 training images"), "{err}");
    assert_eq!(steps, 0);
    // a GAN has no prior to fit
    let mut o = toy_options();
    o.settings.prior = Some(3);
    assert!(matches!(train_gan(&o, &mut |_| {}), Err(Error::Parameter { .. })));
    o.settings.prior = Some(0);
    assert_eq!(train_gan(&o, &mut |_| {}).unwrap().0.prior_components(), 0);
}

#[test]
fn bad_files_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (model, _) = train_vae(&toy_options(), &mut |_| {}).unwrap();
    let good = dir.path().join("good.safetensors");
    model.save(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();
    model.save(&dir.path().join("again.safetensors")).unwrap();
    assert_eq!(bytes, std::fs::read(dir.path().join("again.safetensors")).unwrap(), "files are byte-identical");
    let expect_model_err = |name: &str, data: &[u8], needle: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, data).unwrap();
        match Model::load(&p) {
            Err(Error::Model { message, .. }) => assert!(message.contains(needle), "{name}: {message}"),
            other => panic!("{name}: expected a model error, got {other:?}"),
        }
    };
    expect_model_err("truncated.safetensors", &bytes[..bytes.len() - 10], "truncated");
    expect_model_err("garbage.safetensors", b"this is not a model", "");
    expect_model_err("empty.safetensors", b"", "");
    // edit the header: wrong kind, wrong size, missing key, foreign format
    let header_len = u64::from_le_bytes(bytes[..8].try_into().unwrap()) as usize;
    let text = std::str::from_utf8(&bytes[8..8 + header_len]).unwrap().to_string();
    let swap = |from: &str, to: &str| -> Vec<u8> {
        assert_eq!(from.len(), to.len(), "keep the header length");
        let at = 8 + text.find(from).unwrap_or_else(|| panic!("{from} not in header"));
        let mut b = bytes.clone();
        b[at..at + from.len()].copy_from_slice(to.as_bytes());
        b
    };
    expect_model_err("kind.safetensors", &swap("\"kind\":\"vae\"", "\"kind\":\"gan\""), "tensor `g.");
    expect_model_err("size.safetensors", &swap("\"size\":\"8\"", "\"size\":\"9\""), "size 9");
    expect_model_err("width.safetensors", &swap("\"width\":\"4\"", "\"width\":\"5\""), "channel_plan");
    expect_model_err("format.safetensors", &swap("\"kiln-model\"", "\"kiln-other\""), "format");
    expect_model_err("latent.safetensors", &swap("\"latent_dim\":\"4\"", "\"latent_dim\":\"x\""), "not a number");
    // the learned prior: a count the tensors do not match, a tensor that is missing
    expect_model_err("prior.safetensors", &swap("\"prior_components\":\"1\"", "\"prior_components\":\"2\""), "shape");
    expect_model_err("means.safetensors", &swap("\"prior.means\"", "\"prior.meanz\""), "prior.means");
    // a plain safetensors file without metadata
    let plain = safetensors::serialize(Vec::<(String, safetensors::tensor::TensorView)>::new(), None).unwrap();
    expect_model_err("plain.safetensors", &plain, "__metadata__");
    assert!(matches!(Model::load("missing.safetensors".as_ref()), Err(Error::Io { .. })));
    assert!(matches!(Model::load("std/nope".as_ref()), Err(Error::Parameter { .. })));
}

#[test]
fn cancel_then_resume_matches_an_uninterrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let mut o = toy_options();
    o.settings.out = Some(dir.path().join("full.safetensors"));
    let (full, _) = train_gan(&o, &mut |_| {}).unwrap();

    let cancel = Arc::new(AtomicBool::new(false));
    o.settings.out = Some(dir.path().join("part.safetensors"));
    o.cancel = Some(cancel.clone());
    let err = train_gan(&o, &mut |p| {
        if p.step == 5 {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        }
    })
    .unwrap_err();
    assert!(matches!(err, Error::Cancelled(_)), "{err}");
    assert!(dir.path().join("part.ckpt.safetensors").exists());
    o.cancel = None;
    o.settings.resume = true;
    let mut resumed_steps = 0;
    let (resumed, _) = train_gan(&o, &mut |p| {
        if p.event == Event::Step {
            resumed_steps += 1
        }
    })
    .unwrap();
    assert_eq!(resumed_steps, 3);
    assert_eq!(resumed.steps(), full.steps());
    assert_eq!(pixels(&resumed.sample(2, 1).unwrap()), pixels(&full.sample(2, 1).unwrap()));
    // a mismatched resume is refused
    o.settings.latent = 5;
    assert!(matches!(train_gan(&o, &mut |_| {}), Err(Error::Model { .. })));
}

#[test]
fn training_writes_model_checkpoint_and_grid_from_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for (i, img) in toy_images().iter().take(6).enumerate() {
        crate::image::io::save(img, &data.join(format!("{i}.png")), &Default::default()).unwrap();
    }
    let mut o = toy_options();
    o.settings.data = Some(Data::Folder(data));
    o.settings.holdout = 0.2;
    o.settings.sample_every = 2;
    o.settings.out = Some(dir.path().join("m.safetensors"));
    let mut loaded = None;
    let mut warnings = Vec::new();
    let (_, metrics) = train_vae(&o, &mut |p| match &p.event {
        Event::Loaded { train, holdout } => loaded = Some((*train, *holdout)),
        Event::Warning(text) => warnings.push(text.clone()),
        _ => {}
    })
    .unwrap();
    assert_eq!(loaded, Some((5, 1)));
    assert_eq!(metrics.eval_images, 1);
    assert_eq!(
        warnings,
        ["holdout has 1 image; precision/recall need at least 32 - use more data (at least 64 images with holdout 0.5)"]
    );
    assert_eq!((metrics.precision, metrics.recall), (None, None));
    assert!(metrics.to_string().contains("precision/recall n/a (holdout 1 < 32)"), "{metrics}");
    for f in ["m.safetensors", "m.ckpt.safetensors", "m.samples.png"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
    // the grid of 64 8² samples, 8 wide, under a header strip naming the run
    let grid = crate::image::io::load(&dir.path().join("m.samples.png")).unwrap();
    assert_eq!(grid.width(), 8 * 10 + 2);
    assert!(grid.height() > 8 * 10 + 2 + 10, "header strip: {}", grid.height());
    assert!(Model::load(&dir.path().join("m.ckpt.safetensors")).is_ok(), "a checkpoint loads as a model too");
}

#[test]
fn options_are_validated() {
    let mut o = toy_options();
    o.settings.size = 12;
    assert!(matches!(train_vae(&o, &mut |_| {}), Err(Error::Parameter { .. })));
    let mut o = toy_options();
    o.settings.data = Some(Data::Images(vec![]));
    assert!(matches!(train_gan(&o, &mut |_| {}), Err(Error::Parameter { .. })));
    let mut o = toy_options();
    o.settings.device = Device::Cuda;
    #[cfg(not(feature = "cuda"))]
    assert!(matches!(train_vae(&o, &mut |_| {}), Err(Error::Disabled("cuda"))));
}

#[test]
fn latent_ops_and_decode_checks() {
    let (model, _) = train_vae(&toy_options(), &mut |_| {}).unwrap();
    let a = model.latent(1);
    let b = model.latent(2);
    let strip: Vec<Image> = (0..5).map(|i| model.decode(&a.slerp(&b, i as f32 / 4.0).unwrap()).unwrap()).collect();
    assert_eq!(pixels(&strip[..1]), pixels(&[model.decode(&a).unwrap()]));
    assert!(model.decode(&Latent::new(vec![0.0; 3])).is_err());
    assert!(model.decode(&Latent::new(vec![f32::NAN; 4])).is_err());
    // variations of an image: encode, perturb, decode; a bigger photo is cropped and resized
    let photo = Image::from_fn(40, 30, |x, y| [x as f32 / 40.0, y as f32 / 30.0, 0.5, 1.0]).unwrap();
    let z = model.encode(&photo).unwrap();
    let v = model.decode(&z.add(&model.latent(9).scale(0.3)).unwrap()).unwrap();
    assert_eq!(v.dimensions(), (8, 8));
}

#[test]
fn shipped_models_load_and_sample() {
    assert!(!model_names().is_empty());
    for name in model_names() {
        let m = Model::load(format!("std/{name}").as_ref()).unwrap();
        if m.kind() == Kind::SpatialVae {
            // the spatial VAE codes images of any size (spatial/tests.rs has its own checks)
            let img = Image::from_fn(20, 12, |x, y| [x as f32 / 20.0, y as f32 / 12.0, 0.5, 1.0]).unwrap();
            assert_eq!(m.reconstruct(&img).unwrap().dimensions(), (20, 12), "{name}");
            continue;
        }
        if m.kind() == Kind::TextureGan {
            // any size that is a multiple of 8, one texture per exemplar (texture/tests.rs has more)
            assert!(m.textures().len() >= 4, "{name}: {:?}", m.textures());
            let opts = crate::model::TextureSample { width: 48, height: 16, seed: Some(1), tileable: true };
            let img = m.sample_texture(&opts, &crate::model::TextureMix::One(0)).unwrap();
            assert_eq!(img.dimensions(), (48, 16), "{name}");
            assert!(m.metadata("kiln_version").is_some());
            continue;
        }
        assert_eq!(m.size(), 32, "{name}");
        let s = m.sample(2, 0).unwrap();
        assert_eq!(s[1].dimensions(), (32, 32));
        assert!(m.metadata("kiln_version").is_some());
    }
}

/// The discriminator alone learns to tell the toy images from noise (the hinge loss falls from
/// about 2 towards 0): a check that gradients reach it through the augmentation.
#[test]
fn discriminator_learns_real_from_noise() {
    use super::arch::Arch;
    use super::gan::{d_hinge, Augment, Discriminator};
    use super::nn::{Adam, Params, Specs};
    use super::stream::Stream;
    use crate::rng::Rng;
    use candle_core::{Device as C, Tensor};
    let arch = Arch { kind: Kind::Gan, size: 8, latent: 4, width: 4 };
    let mut specs = Specs::default();
    let d = Discriminator::new(&arch, &mut specs);
    let p = Params::init(&specs, 0, &C::Cpu).unwrap();
    let names = specs.names();
    let mut opt = Adam::new(2e-3, 0.0, 0.99);
    let planar: Vec<Vec<f32>> = toy_images().iter().map(|i| super::tensor::fit_planar(i, 8)).collect();
    let refs: Vec<&[f32]> = planar.iter().map(Vec::as_slice).collect();
    let real = super::tensor::batch_tensor(&refs, 8, &C::Cpu).unwrap().affine(2.0, -1.0).unwrap();
    let mut first = None;
    let mut last = 0.0;
    for step in 0..60 {
        let mut rng = Rng::stream(0, Stream::Step(step).id());
        let fake = Tensor::from_vec(rng.uniforms(16 * 3 * 64, -1.0, 1.0), (16, 3, 8, 8), &C::Cpu).unwrap();
        let aug = Augment::draw(&mut rng, 16, 8, &C::Cpu).unwrap();
        let both = Tensor::cat(&[aug.apply(&real).unwrap(), aug.apply(&fake).unwrap()], 0).unwrap();
        let logits = d.forward(&p, &both, 4).unwrap();
        let loss = d_hinge(&logits.narrow(0, 0, 16).unwrap(), &logits.narrow(0, 16, 16).unwrap()).unwrap();
        last = loss.to_scalar::<f32>().unwrap();
        first.get_or_insert(last);
        opt.step(&p, &names, &loss.backward().unwrap()).unwrap();
    }
    assert!(last < first.unwrap() * 0.5, "hinge loss {} -> {last}", first.unwrap());
}

/// The generator step runs the discriminator on frozen weights: the input gradient must be the
/// one the live weights give, and no weight gradient may be computed at all.
#[test]
fn frozen_params_pass_input_gradients_but_get_none() {
    use super::arch::Arch;
    use super::gan::Discriminator;
    use super::nn::{Params, Specs};
    use super::stream::Stream;
    use crate::rng::Rng;
    use candle_core::{Device as C, Var};
    let arch = Arch { kind: Kind::Gan, size: 8, latent: 4, width: 4 };
    let mut specs = Specs::default();
    let d = Discriminator::new(&arch, &mut specs);
    let p = Params::init(&specs, 3, &C::Cpu).unwrap();
    let mut rng = Rng::stream(1, Stream::Step(0).id());
    let x = Var::from_vec(rng.uniforms(2 * 3 * 64, -1.0, 1.0), (2, 3, 8, 8), &C::Cpu).unwrap();
    let live = d.forward(&p, &x, 2).unwrap().sum_all().unwrap().backward().unwrap();
    let frozen = d.forward(&p.frozen(), &x, 2).unwrap().sum_all().unwrap().backward().unwrap();
    let flat = |t: &candle_core::Tensor| t.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    assert_eq!(flat(live.get(&x).unwrap()), flat(frozen.get(&x).unwrap()));
    for (name, var) in &p.vars {
        assert!(live.get(var.as_tensor()).is_some(), "{name}: live weights get a gradient");
        assert!(frozen.get(var.as_tensor()).is_none(), "{name}: frozen weights get none");
    }
}
