//! Texture-model tests: tiny networks, a few steps, no timing.

use std::path::PathBuf;

use candle_core::{Device, Tensor};

use super::super::enabled::Model;
use super::super::io::{self, File};
use super::super::nn::{Params, Specs};
use super::super::options::{Data, Event, Kind};
use super::super::texture_options::{TextureMix, TextureSample, TextureSettings, DEFAULT_LECAM};
use super::arch::TextureArch;
use super::net::{one_hot, snap_to_periods, Critics, Discriminator, Generator};
use super::style::StyleNet;
use super::torch_tests::max_abs_diff;
use super::train::{train_texture, FORCE_NAN_AT};
use crate::error::Error;
use crate::image::Image;

fn stripes(w: u32, h: u32, period: u32, tint: [f32; 3]) -> Image {
    Image::from_fn(w, h, |x, y| {
        let v = if (x + y / 3) % period < period / 2 { 0.8 } else { 0.2 };
        [v * tint[0], v * tint[1], v * tint[2], 1.0]
    })
    .unwrap()
}

fn tiny(data: Vec<Image>, steps: usize) -> TextureSettings {
    TextureSettings {
        data: Some(Data::Images(data)),
        patch: 16,
        steps,
        batch: 2,
        width: 4,
        local: 2,
        global: 2,
        periodic: 1,
        // two 1/8 convolutions after the input: `g.mid1` goes through save, load and resume
        depth: 2,
        sample_every: 0,
        checkpoint_every: 0,
        ..TextureSettings::default()
    }
}

/// A standard normal tensor of `shape` from `seed`.
fn normals(seed: u64, shape: (usize, usize, usize, usize)) -> Tensor {
    let n = shape.0 * shape.1 * shape.2 * shape.3;
    Tensor::from_vec(crate::rng::Rng::new(seed).normals(n), shape, &Device::Cpu).unwrap()
}

/// Sets every value of the parameter `name` to `value`.
fn fill(p: &Params, name: &str, value: f64) {
    let var = &p.vars[name];
    var.set(&var.ones_like().unwrap().affine(value, 0.0).unwrap()).unwrap();
}

/// A tiny one-texture architecture (width 4, depth 1, no periodic channels) for `patch`.
fn small_arch(patch: u32) -> TextureArch {
    TextureArch {
        width: 4,
        local: 2,
        global: 2,
        periodic: 0,
        depth: 1,
        detail_noise: false,
        detail_gate: false,
        coarse: 0,
        critic_scales: 1,
        bilinear_upsample: false,
        textures: vec!["a".into()],
        patch,
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kiln-texture-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn train(s: &TextureSettings) -> Model {
    train_texture(s, None, &mut |_| {}).unwrap().0
}

fn sample(m: &Model, w: u32, h: u32, seed: u64, tileable: bool, mix: TextureMix) -> Image {
    m.sample_texture(&TextureSample { width: w, height: h, seed: Some(seed), tileable }, &mix).unwrap()
}

/// Rolls (n, c, h, w) by `dx` along the width, wrapping.
fn roll_x(t: &Tensor, dx: usize) -> Tensor {
    let w = t.dim(3).unwrap();
    Tensor::cat(&[&t.narrow(3, w - dx, dx).unwrap(), &t.narrow(3, 0, w - dx).unwrap()], 3).unwrap()
}

/// The property that makes tileable samples tile: the generator is a function on a torus. Rolling
/// the noise by one cell (and the detail noise by the same 8 pixels: 2 cells at 1/4, 4 at 1/2)
/// rolls the image by exactly 8 pixels, wrap included (zero padding, or bilinear upsampling that
/// clamped at the edges, would break this there).
#[test]
fn generator_commutes_with_wrapping_shifts() {
    for (detail_noise, detail_gate, bilinear_upsample) in
        [(false, false, false), (true, false, false), (true, true, false), (false, false, true)]
    {
        // depth 2: the wrap holds through every 1/8 convolution
        let arch = TextureArch { depth: 2, detail_noise, detail_gate, bilinear_upsample, ..small_arch(16) };
        let mut specs = Specs::default();
        let g = Generator::new(&arch, &mut specs);
        let p = Params::init(&specs, 3, &Device::Cpu).unwrap();
        let z = normals(5, (1, 4, 5, 6));
        let detail = match detail_noise {
            true => {
                // the scales start at zero; give them weight so the noise shows
                fill(&p, "g.up0.noise", 0.5);
                fill(&p, "g.up1.noise", 0.5);
                if detail_gate {
                    // and the gates, so that they vary from pixel to pixel
                    fill(&p, "g.up0.gate.w", 1.0);
                    fill(&p, "g.up1.gate.w", 1.0);
                }
                vec![normals(6, (1, 1, 10, 12)), normals(7, (1, 1, 20, 24))]
            }
            false => vec![],
        };
        let rolled: Vec<Tensor> = detail.iter().zip([2, 4]).map(|(d, dx)| roll_x(d, dx)).collect();
        let a = g.forward(&p, &z, &detail).unwrap();
        let b = g.forward(&p, &roll_x(&z, 1), &rolled).unwrap();
        let diff = max_abs_diff(&roll_x(&a, 8), &b);
        assert!(diff < 1e-5, "detail noise {detail_noise}: max difference {diff}");
        // the control: a non-wrapping shift (zero fill) of the noise does not shift the image
        let shifted = z.narrow(3, 0, 5).unwrap().pad_with_zeros(3, 1, 0).unwrap();
        let c = g.forward(&p, &shifted, &rolled).unwrap();
        let off = max_abs_diff(&roll_x(&a, 8), &c);
        assert!(off > 1e-3, "zero-filled shift matched too: {off}");
        if detail_noise {
            // the detail noise reaches the image, and the generator wants both images of it
            let quiet: Vec<Tensor> = detail.iter().map(|d| d.zeros_like().unwrap()).collect();
            let without = max_abs_diff(&a, &g.forward(&p, &z, &quiet).unwrap());
            assert!(without > 1e-3, "detail noise changed nothing: {without}");
            assert!(g.forward(&p, &z, &detail[..1]).is_err());
        }
    }
}

/// How far one noise cell reaches in the image, measured: a changed cell changes pixels up to
/// (1 + depth) cells plus 7 pixels away (half a cell at 1/4, a quarter at 1/2, an eighth at full
/// size, less one pixel), with bilinear upsampling 7 more (each upsampling also writes the
/// pixel beyond its source block: one pixel at 1/4, 1/2 and full size, 4 + 2 + 1), and
/// [`TextureArch::reach_cells`] (the margin a non-tileable sample draws and crops away) covers
/// that.
#[test]
fn reach_cells_covers_what_a_noise_cell_changes() {
    for (bilinear_upsample, reach) in [(false, 2 * 8 + 7), (true, 2 * 8 + 14)] {
        let arch = TextureArch { bilinear_upsample, ..small_arch(16) };
        assert_eq!(measured_reach(&arch), reach, "bilinear {bilinear_upsample}");
        assert!(reach <= arch.reach_cells() * 8, "reaches {reach} px, margin {} cells", arch.reach_cells());
    }
}

/// The detail gate scales the noise by `1 + tanh(w · h + b)` per pixel: at its start (zeros) the
/// generator is the ungated one (the gate draws nothing from the seed's stream either); a gate
/// shut everywhere (b = −20) draws as if the noise were zero; one open everywhere (b = +20) as if
/// it were doubled; a gate that reads the features draws neither.
#[test]
fn detail_gate_scales_the_noise_per_pixel() {
    let arch = TextureArch { detail_noise: true, ..small_arch(16) };
    let gated_arch = TextureArch { detail_gate: true, ..arch.clone() };
    let (mut specs, mut gated_specs) = (Specs::default(), Specs::default());
    let (g, gated) = (Generator::new(&arch, &mut specs), Generator::new(&gated_arch, &mut gated_specs));
    let (p, gp) =
        (Params::init(&specs, 3, &Device::Cpu).unwrap(), Params::init(&gated_specs, 3, &Device::Cpu).unwrap());
    for params in [&p, &gp] {
        fill(params, "g.up0.noise", 0.5);
        fill(params, "g.up1.noise", 0.5);
    }
    let z = normals(5, (1, 4, 3, 4));
    let detail = vec![normals(6, (1, 1, 6, 8)), normals(7, (1, 1, 12, 16))];
    let scaled = |f: f64| detail.iter().map(|d| d.affine(f, 0.0).unwrap()).collect::<Vec<_>>();
    let ungated = |noise: &[Tensor]| g.forward(&p, &z, noise).unwrap();
    let drawn = || gated.forward(&gp, &z, &detail).unwrap();
    assert!(max_abs_diff(&drawn(), &ungated(&detail)) < 1e-6, "a closed-at-zero gate changed the start");
    for bias in ["g.up0.gate.b", "g.up1.gate.b"] {
        fill(&gp, bias, -20.0);
    }
    assert!(max_abs_diff(&drawn(), &ungated(&scaled(0.0))) < 1e-5, "a shut gate let noise through");
    for bias in ["g.up0.gate.b", "g.up1.gate.b"] {
        fill(&gp, bias, 20.0);
    }
    assert!(max_abs_diff(&drawn(), &ungated(&scaled(2.0))) < 1e-5, "an open gate is not ×2");
    for (name, value) in [("g.up0.gate.b", 0.0), ("g.up1.gate.b", 0.0), ("g.up0.gate.w", 1.0), ("g.up1.gate.w", 1.0)] {
        fill(&gp, name, value);
    }
    let varying = drawn();
    for f in [0.0, 1.0, 2.0] {
        assert!(max_abs_diff(&varying, &ungated(&scaled(f))) > 1e-3, "a feature-driven gate is a constant ×{f}");
    }
}

/// Pixels from a bumped noise cell's own 8 to the farthest pixel the bump changes (one texture,
/// local + global = 4 channels, a 24-cell row).
fn measured_reach(arch: &TextureArch) -> usize {
    let mut specs = Specs::default();
    let g = Generator::new(arch, &mut specs);
    let p = Params::init(&specs, 3, &Device::Cpu).unwrap();
    let cells = 24;
    let z = normals(5, (1, 4, 1, cells));
    let bump: Vec<f32> = (0..cells).map(|i| f32::from(i == 12)).collect();
    let bump = Tensor::from_vec(bump, (1, 1, 1, cells), &Device::Cpu).unwrap();
    let (a, b) = (g.forward(&p, &z, &[]).unwrap(), g.forward(&p, &z.broadcast_add(&bump).unwrap(), &[]).unwrap());
    // the largest change in each pixel column
    let changed: Vec<f32> =
        (a - b).unwrap().abs().unwrap().max(1).unwrap().max(1).unwrap().flatten_all().unwrap().to_vec1().unwrap();
    // pixels from the bumped cell's own 8 (96..=103) to the farthest changed one
    (0..changed.len())
        .filter(|&x| changed[x] > 1e-6)
        .map(|x| if x < 96 { 96 - x } else { x.saturating_sub(103) })
        .max()
        .unwrap()
}

/// Periodic channels snap to whole periods on a tileable canvas, so they wrap too: after
/// snapping, k · cells / 2π is a whole number for every wave.
#[test]
fn snapped_waves_have_whole_periods() {
    let k = Tensor::from_vec(vec![0.1f32, -0.7, 1.3, 3.1], (1, 4, 1, 1), &Device::Cpu).unwrap();
    for cells in [5, 7, 128] {
        let snapped: Vec<f32> = snap_to_periods(&k, cells).unwrap().flatten_all().unwrap().to_vec1().unwrap();
        for (v, orig) in snapped.iter().zip([0.1f32, -0.7, 1.3, 3.1]) {
            let periods = v * cells as f32 / std::f32::consts::TAU;
            assert!((periods - periods.round()).abs() < 1e-4, "{cells} cells: {periods}");
            assert!((v - orig).abs() <= std::f32::consts::PI / cells as f32 + 1e-6, "moved too far: {orig} -> {v}");
        }
    }
}

#[test]
fn trains_samples_any_size_and_is_deterministic() {
    let s = tiny(vec![stripes(40, 40, 8, [1.0, 0.6, 0.3])], 3);
    let a = train(&s);
    let b = train(&s);
    assert_eq!(a.kind(), Kind::TextureGan);
    assert_eq!(a.textures(), ["texture 0".to_string()]);
    let ia = sample(&a, 48, 24, 7, true, TextureMix::One(0));
    assert_eq!(ia.dimensions(), (48, 24));
    assert!(ia.tileable());
    assert_eq!(ia, sample(&b, 48, 24, 7, true, TextureMix::One(0)), "same seed and settings, same model");
    assert_ne!(ia, sample(&a, 48, 24, 8, true, TextureMix::One(0)), "another seed, another texture");
    let plain = sample(&a, 48, 24, 7, false, TextureMix::One(0));
    assert!(!plain.tileable());
    // thread count does not change a sample
    let pool = |n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
    let one = pool(1).install(|| sample(&a, 64, 64, 3, true, TextureMix::One(0)));
    let three = pool(3).install(|| sample(&a, 64, 64, 3, true, TextureMix::One(0)));
    assert_eq!(one.pixels(), three.pixels());
    // sizes must be multiples of 8
    let bad = a.sample_texture(&TextureSample { width: 50, ..TextureSample::default() }, &TextureMix::One(0));
    assert!(bad.unwrap_err().to_string().contains("multiple of 8"));
}

#[test]
fn blends_are_mixes_of_the_global_codes() {
    let data = vec![stripes(32, 32, 8, [1.0, 0.2, 0.2]), stripes(32, 32, 4, [0.2, 0.2, 1.0])];
    let m = train(&tiny(data, 2));
    assert_eq!(m.textures().len(), 2);
    let one = |i| sample(&m, 32, 32, 1, false, TextureMix::One(i));
    let weights = |w: Vec<f32>| sample(&m, 32, 32, 1, false, TextureMix::Weights(w));
    let blend = |t: f32| {
        let mix = TextureMix::Blend { a: vec![1.0, 0.0], b: vec![0.0, 1.0], t: vec![t; 32 * 32] };
        sample(&m, 32, 32, 1, false, mix)
    };
    assert_eq!(one(0), weights(vec![1.0, 0.0]));
    assert_eq!(one(1), weights(vec![0.0, 1.0]));
    assert_eq!(one(0), blend(0.0));
    assert_eq!(one(1), blend(1.0));
    assert_ne!(one(0), one(1));
    let half = blend(0.5);
    assert_eq!(half, weights(vec![0.5, 0.5]));
    let err = m.sample_texture(&TextureSample::default(), &TextureMix::Weights(vec![1.0])).unwrap_err();
    assert!(err.to_string().contains("2 textures"), "{err}");
    let err = m.sample_texture(&TextureSample::default(), &TextureMix::One(5)).unwrap_err();
    assert!(err.to_string().contains("texture 5 does not exist"), "{err}");
}

#[test]
fn saved_models_load_and_resume_equals_an_uninterrupted_run() {
    let dir = temp_dir("resume");
    let data = vec![stripes(32, 32, 8, [0.9, 0.7, 0.4])];
    let straight = TextureSettings { out: Some(dir.join("a.safetensors")), ..tiny(data.clone(), 4) };
    let a = train(&straight);
    let loaded = Model::load(&dir.join("a.safetensors")).unwrap();
    assert_eq!(loaded.kind(), Kind::TextureGan);
    assert_eq!(loaded.steps(), 4);
    let want = sample(&a, 32, 32, 2, true, TextureMix::One(0));
    assert_eq!(sample(&loaded, 32, 32, 2, true, TextureMix::One(0)), want);
    assert!(dir.join("a.samples.png").exists() && dir.join("a.ckpt.safetensors").exists());
    // two steps, then two more with resume
    let part = TextureSettings { out: Some(dir.join("b.safetensors")), ..tiny(data.clone(), 2) };
    train(&part);
    let rest = TextureSettings { resume: true, steps: 4, ..part };
    let b = train(&rest);
    assert_eq!(b.steps(), 4);
    assert_eq!(sample(&b, 32, 32, 2, true, TextureMix::One(0)), want);
    // resuming with another architecture names what differs
    let other = TextureSettings { detail_noise: true, steps: 6, ..rest };
    let e = train_texture(&other, None, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("detail_noise: false → true") && e.contains("resume needs the same"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The LeCam regulariser reaches training (another model than without it), reports its value,
/// and a run resumed half-way equals an uninterrupted one: its anchors live in the checkpoint.
#[test]
fn lecam_changes_training_and_resumes_exactly() {
    let dir = temp_dir("lecam");
    let data = vec![stripes(32, 32, 8, [0.3, 0.6, 0.9])];
    let with = |steps: usize, name: &str| TextureSettings {
        out: Some(dir.join(name)),
        lecam: Some(0.5),
        ..tiny(data.clone(), steps)
    };
    let mut seen = vec![];
    let straight = train_texture(&with(4, "a.safetensors"), None, &mut |p| seen.extend(p.losses.clone())).unwrap().0;
    assert!(seen.iter().any(|(k, v)| *k == "lecam" && v.is_finite()), "no lecam loss reported");
    let want = sample(&straight, 32, 32, 2, true, TextureMix::One(0));
    let plain = train(&TextureSettings { lecam: Some(0.0), ..with(4, "c.safetensors") });
    assert_ne!(sample(&plain, 32, 32, 2, true, TextureMix::One(0)), want, "lecam changed nothing");
    train(&with(2, "b.safetensors"));
    let resumed = train(&TextureSettings { resume: true, ..with(4, "b.safetensors") });
    assert_eq!(sample(&resumed, 32, 32, 2, true, TextureMix::One(0)), want);
    // without the adversarial loss there is no discriminator: refused, not ignored
    let e = train_texture(&TextureSettings { adversarial: 0.0, ..with(4, "d.safetensors") }, None, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("'lecam' regularises the discriminator"), "{e}");
    // the default weight (0.3 with a discriminator) is simply 0 without one
    let defaults = TextureSettings { lecam: None, ..with(4, "e.safetensors") };
    assert_eq!(defaults.lecam_weight(), DEFAULT_LECAM);
    let statistics_only = TextureSettings { adversarial: 0.0, ..defaults };
    assert_eq!(statistics_only.lecam_weight(), 0.0);
    train(&statistics_only);
    std::fs::remove_dir_all(&dir).ok();
}

/// Coarse noise reaches the generator (another model and another sample than without it), is
/// recorded in the file (a loaded model draws the same sample), tileable samples with it tile at
/// even and odd sizes, and resuming with another count names the difference. (After three
/// steps the coarse channels weigh too little for a broken wrap to show in the seam score:
/// `sample::tests::tileable_samples_wrap_the_coarse_noise` checks the wrap on the noise itself.)
#[test]
fn coarse_noise_is_read_recorded_and_tiles() {
    let dir = temp_dir("coarse");
    let data = vec![stripes(48, 48, 8, [0.8, 0.5, 0.2])];
    let with =
        |coarse: usize, name: &str| TextureSettings { out: Some(dir.join(name)), coarse, ..tiny(data.clone(), 3) };
    let a = train(&with(4, "a.safetensors"));
    let plain = train(&with(0, "b.safetensors"));
    let tile = sample(&a, 128, 128, 5, true, TextureMix::One(0));
    assert_ne!(tile, sample(&plain, 128, 128, 5, true, TextureMix::One(0)), "coarse noise changed nothing");
    let loaded = Model::load(&dir.join("a.safetensors")).unwrap();
    assert_eq!(sample(&loaded, 128, 128, 5, true, TextureMix::One(0)), tile);
    let seam = crate::image::texture_stats::seam_score(&tile);
    assert!(seam < 1.25, "a tileable sample with coarse noise has a seam: {seam}");
    // odd sizes too: the grid rounds to whole knots and still wraps
    let odd = sample(&a, 200, 72, 5, true, TextureMix::One(0));
    assert!(crate::image::texture_stats::seam_score(&odd) < 1.25);
    let e = train_texture(&TextureSettings { resume: true, steps: 4, ..with(2, "a.safetensors") }, None, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("coarse: 4 → 2"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// Bilinear upsampling draws another model than nearest neighbour from the same seed, is
/// recorded in the file (a loaded model draws the same sample), gives plain samples of any
/// size (their margin covers its wider reach), and resuming without it names the difference.
#[test]
fn bilinear_upsampling_is_used_recorded_and_resumed_only_with_it() {
    let dir = temp_dir("bilinear");
    let data = vec![stripes(48, 48, 8, [0.3, 0.6, 0.8])];
    let with = |bilinear_upsample: bool, name: &str| TextureSettings {
        out: Some(dir.join(name)),
        bilinear_upsample,
        ..tiny(data.clone(), 3)
    };
    let smooth = train(&with(true, "a.safetensors"));
    let blocky = train(&with(false, "b.safetensors"));
    let tile = sample(&smooth, 64, 64, 4, true, TextureMix::One(0));
    assert_ne!(tile, sample(&blocky, 64, 64, 4, true, TextureMix::One(0)), "bilinear changed nothing");
    let loaded = Model::load(&dir.join("a.safetensors")).unwrap();
    assert_eq!(sample(&loaded, 64, 64, 4, true, TextureMix::One(0)), tile);
    let plain = sample(&loaded, 40, 24, 4, false, TextureMix::One(0));
    assert_eq!(plain.dimensions(), (40, 24));
    let e =
        train_texture(&TextureSettings { resume: true, steps: 4, ..with(false, "a.safetensors") }, None, &mut |_| {})
            .unwrap_err()
            .to_string();
    assert!(e.contains("bilinear_upsample: true → false"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// The detail gate trains (its weights leave zero), is recorded and loads, and resuming without
/// it names the difference; asking for it without detail noise is an error that says so.
#[test]
fn detail_gate_trains_is_recorded_and_resumed_only_with_it() {
    let dir = temp_dir("gate");
    let out = dir.join("g.safetensors");
    let s = TextureSettings {
        out: Some(out.clone()),
        detail_noise: true,
        detail_gate: true,
        ..tiny(vec![stripes(48, 48, 8, [0.3, 0.6, 0.8])], 4)
    };
    let model = train(&s);
    let bytes = std::fs::read(&out).unwrap();
    let file = File::parse(&bytes, &out).unwrap();
    assert_eq!(file.key("detail_gate").unwrap(), "true");
    let tensors = file.tensors_with_prefix("g.", &Device::Cpu).unwrap();
    for name in ["up0.gate.w", "up1.gate.w"] {
        let w: Vec<f32> = tensors[name].flatten_all().unwrap().to_vec1().unwrap();
        assert!(w.iter().any(|v| *v != 0.0), "{name} never left zero");
    }
    let loaded = Model::load(&out).unwrap();
    let tile = sample(&model, 64, 64, 4, true, TextureMix::One(0));
    assert_eq!(sample(&loaded, 64, 64, 4, true, TextureMix::One(0)), tile);
    // the gates' products do not depend on the thread count
    let pool = |n| rayon::ThreadPoolBuilder::new().num_threads(n).build().unwrap();
    for threads in [1, 3] {
        let again = pool(threads).install(|| sample(&model, 64, 64, 4, true, TextureMix::One(0)));
        assert_eq!(again.pixels(), tile.pixels(), "{threads} threads");
    }
    let e =
        train_texture(&TextureSettings { resume: true, steps: 6, detail_gate: false, ..s.clone() }, None, &mut |_| {})
            .unwrap_err()
            .to_string();
    assert!(e.contains("detail_gate: true → false"), "{e}");
    let e = train_texture(&TextureSettings { detail_noise: false, ..s }, None, &mut |_| {}).unwrap_err().to_string();
    assert!(e.contains("'detail_gate'") && e.contains("'detail_noise'"), "{e}");
    // a file that claims a gate without detail noise is refused by name
    let meta = TextureArch { detail_gate: true, ..small_arch(16) }.metadata();
    let bytes = io::encode(&Default::default(), meta, &out).unwrap();
    let e = TextureArch::from_file(&File::parse(&bytes, &out).unwrap()).unwrap_err().to_string();
    assert!(e.contains("`detail_gate` is true without `detail_noise`"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn a_nan_loss_stops_and_keeps_the_last_good_checkpoint() {
    let dir = temp_dir("nan");
    let out = dir.join("m.safetensors");
    let s = TextureSettings {
        out: Some(out.clone()),
        checkpoint_every: 2,
        ..tiny(vec![stripes(32, 32, 8, [0.5, 0.5, 0.9])], 6)
    };
    FORCE_NAN_AT.with(|f| f.set(Some(4)));
    let err = train_texture(&s, None, &mut |_| {}).unwrap_err();
    FORCE_NAN_AT.with(|f| f.set(None));
    let text = err.to_string();
    assert!(text.contains("became NaN at step 5") && text.contains("last good checkpoint"), "{text}");
    assert!(text.contains("lr"), "says what to change: {text}");
    assert!(!out.exists(), "no model file for a failed run");
    let ckpt = std::fs::read(dir.join("m.ckpt.safetensors")).unwrap();
    let file = super::super::io::File::parse(&ckpt, &out).unwrap();
    assert_eq!(file.key("steps").unwrap(), "4");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn bad_exemplars_are_clear_errors_or_warnings() {
    let small = tiny(vec![stripes(12, 40, 4, [1.0; 3])], 1);
    let err = train_texture(&small, None, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("12×40") && err.contains("16×16 patch"), "{err}");
    let dir = temp_dir("empty");
    let empty = TextureSettings { data: Some(Data::Folder(dir.clone())), ..tiny(vec![], 1) };
    let err = train_texture(&empty, None, &mut |_| {}).unwrap_err().to_string();
    assert!(err.contains("no image files"), "{err}");
    let grey = Image::from_fn(24, 24, |x, _| [x as f32 / 24.0, x as f32 / 24.0, x as f32 / 24.0, 0.5]).unwrap();
    let mut warnings = Vec::new();
    train_texture(&tiny(vec![grey], 1), None, &mut |p| {
        if let Event::Warning(w) = &p.event {
            warnings.push(w.clone());
        }
    })
    .unwrap();
    assert!(warnings.iter().any(|w| w.contains("transparency")), "{warnings:?}");
    assert!(warnings.iter().any(|w| w.contains("grey")), "{warnings:?}");
    let odd = TextureSettings { patch: 20, ..tiny(vec![stripes(32, 32, 4, [1.0; 3])], 1) };
    assert!(matches!(train_texture(&odd, None, &mut |_| {}), Err(Error::Parameter { .. })));
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn calls_that_do_not_fit_the_kind_name_it() {
    let m = train(&tiny(vec![stripes(24, 24, 4, [1.0; 3])], 1));
    let err = m.decode(&m.latent(1)).unwrap_err().to_string();
    assert!(err.contains("\"texture_gan\"") && err.contains("m.sample(#{"), "{err}");
    let err = m.sample(2, 1).unwrap_err().to_string();
    assert!(err.contains("\"texture_gan\"") && err.contains("sample(n, seed)"), "{err}");
    let err = m.encode(&stripes(16, 16, 4, [1.0; 3])).unwrap_err().to_string();
    assert!(err.contains("\"texture_gan\""), "{err}");
    let vae = Model::load("std/materials_vae".as_ref()).unwrap();
    let err = vae.sample_texture(&TextureSample::default(), &TextureMix::One(0)).unwrap_err().to_string();
    assert!(err.contains("\"vae\"") && err.contains("texture_gan"), "{err}");
}

/// The collapse check: a flat colour is caught, a texture with half the exemplar's contrast is
/// not, and a flat exemplar never triggers it.
#[test]
fn flat_samples_are_noticed() {
    use super::exemplars::contrast;
    let flat = Image::from_fn(32, 32, |_, _| [0.4, 0.4, 0.4, 1.0]).unwrap();
    let lines = stripes(32, 32, 8, [1.0, 0.6, 0.3]);
    assert_eq!(contrast(&flat), 0.0);
    let c = contrast(&lines);
    assert!(c > 0.05, "stripes contrast {c}");
    assert!(super::train::collapsed(contrast(&flat), c));
    assert!(!super::train::collapsed(0.5 * c, c));
    assert!(!super::train::collapsed(0.0, 0.005), "a flat exemplar never counts");
}

/// Both critics' reach follows the patch: the discriminator's logit map stays 8×8 cells of a
/// patch from 64 up (with one more stride-2 level per doubling), and the style network's deepest
/// map stays 4×4. The fixed 3-level discriminator from before fails here: 16×16 logits on a 128²
/// patch, each judging 54 pixels.
#[test]
fn critics_reach_follows_the_patch() {
    let dev = Device::Cpu;
    // patch, discriminator levels, logit map side, style net's deepest map side
    for (patch, levels, logits, deepest) in [(16, 3, 2, 1), (64, 3, 8, 4), (128, 4, 8, 4), (256, 5, 8, 4)] {
        let arch = small_arch(patch);
        assert_eq!(arch.critic_levels(), levels, "patch {patch}");
        let mut specs = Specs::default();
        let d = Discriminator::new(&arch, "d", arch.critic_levels(), &mut specs);
        let names = specs.names();
        assert_eq!(names.iter().filter(|n| n.starts_with("d.down")).count(), 2 * (levels - 3), "{names:?}");
        let p = Params::init(&specs, 1, &dev).unwrap();
        let x = Tensor::zeros((1, 3, patch as usize, patch as usize), candle_core::DType::F32, &dev).unwrap();
        let onehot = one_hot(&[0], 1, &dev).unwrap();
        assert_eq!(d.forward(&p, &x, &onehot).unwrap().dims4().unwrap(), (1, 1, logits, logits), "patch {patch}");
        let features = StyleNet::new(&dev, &arch).unwrap().features(&x).unwrap();
        assert_eq!(features.len(), levels + 3, "pixels, one full-size layer, levels + 1 halvings");
        assert_eq!(features.last().unwrap().dim(2).unwrap(), deepest * deepest, "patch {patch}");
    }
}

/// Several critic scales: critic i sees the crop pooled i times by 2, the full-size ones judge
/// about 54 pixels (3 levels, a logit per 8 pixels) and the coarsest has the levels to judge the
/// whole patch as the single critic does (8×8 logits), under `d1.`, `d2.` ... names.
#[test]
fn critic_scales_pool_the_crop_and_the_coarsest_judges_the_patch() {
    let dev = Device::Cpu;
    // each critic's stride-2 levels and logit map side
    type Critic = (usize, usize);
    // patch, scales, the critics
    let cases: [(u32, usize, &[Critic]); 4] = [
        (256, 1, &[(5, 8)]),
        (256, 2, &[(3, 32), (4, 8)]),
        (256, 3, &[(3, 32), (3, 16), (3, 8)]),
        (64, 2, &[(3, 8), (3, 4)]),
    ];
    for (patch, scales, want) in cases {
        let arch = TextureArch { critic_scales: scales, ..small_arch(patch) };
        let mut specs = Specs::default();
        let critics = Critics::new(&arch, &mut specs);
        let names = specs.names();
        for (i, &(levels, _)) in want.iter().enumerate() {
            assert_eq!(arch.critic_levels_at(i), levels, "patch {patch}, {scales} scales, critic {i}");
            let prefix = if i == 0 { "d.".to_string() } else { format!("d{i}.") };
            assert!(names.contains(&format!("{prefix}embed")), "{names:?}");
            assert_eq!(
                names.iter().filter(|n| n.starts_with(&format!("{prefix}down"))).count(),
                2 * (levels - 3),
                "{names:?}"
            );
        }
        let p = Params::init(&specs, 1, &dev).unwrap();
        let x = Tensor::zeros((2, 3, patch as usize, patch as usize), candle_core::DType::F32, &dev).unwrap();
        let logits = critics.forward(&p, &x, &one_hot(&[0, 0], 1, &dev).unwrap()).unwrap();
        let sides: Vec<usize> = logits.iter().map(|l| l.dim(3).unwrap()).collect();
        assert_eq!(sides, want.iter().map(|w| w.1).collect::<Vec<_>>(), "patch {patch}, {scales} scales");
    }
}

/// Training with two critic scales: another model than with one, both critics' LeCam anchors
/// resume exactly (a run resumed half-way equals an uninterrupted one), the count is recorded,
/// and resuming with another count names the difference.
#[test]
fn critic_scales_train_resume_exactly_and_are_recorded() {
    let dir = temp_dir("scales");
    let data = vec![stripes(64, 64, 8, [0.7, 0.4, 0.2])];
    let with = |scales: usize, steps: usize, name: &str| TextureSettings {
        out: Some(dir.join(name)),
        patch: 32,
        critic_scales: scales,
        ..tiny(data.clone(), steps)
    };
    let straight = train(&with(2, 4, "a.safetensors"));
    let want = sample(&straight, 32, 32, 2, true, TextureMix::One(0));
    let one = train(&with(1, 4, "c.safetensors"));
    assert_ne!(sample(&one, 32, 32, 2, true, TextureMix::One(0)), want, "the second critic changed nothing");
    train(&with(2, 2, "b.safetensors"));
    let ckpt = dir.join("b.ckpt.safetensors");
    let bytes = std::fs::read(&ckpt).unwrap();
    let file = File::parse(&bytes, &ckpt).unwrap();
    assert!(file.has_tensor("d1.c0.w") && file.meta.contains_key("lecam_real1"), "{:?}", file.meta);
    let resumed = train(&TextureSettings { resume: true, ..with(2, 4, "b.safetensors") });
    assert_eq!(sample(&resumed, 32, 32, 2, true, TextureMix::One(0)), want);
    let e = train_texture(&TextureSettings { resume: true, ..with(3, 6, "b.safetensors") }, None, &mut |_| {})
        .unwrap_err()
        .to_string();
    assert!(e.contains("critic_scales: 2 → 3"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}

/// A patch-128 checkpoint from before the extra discriminator level is refused with the reason.
#[test]
fn an_older_discriminator_is_named_when_resuming() {
    let dir = temp_dir("old-critic");
    let data = vec![stripes(128, 128, 16, [0.8, 0.3, 0.2])];
    let s = TextureSettings { out: Some(dir.join("m.safetensors")), patch: 128, batch: 1, ..tiny(data, 1) };
    train(&s);
    let ckpt = dir.join("m.ckpt.safetensors");
    let bytes = std::fs::read(&ckpt).unwrap();
    let file = File::parse(&bytes, &ckpt).unwrap();
    let mut tensors = file.tensors_with_prefix("", &Device::Cpu).unwrap();
    let before = tensors.len();
    tensors.retain(|k, _| !k.contains("d.down"));
    assert!(tensors.len() < before, "the checkpoint had the extra level");
    io::write(&ckpt, &tensors, file.meta.clone()).unwrap();
    let e = train_texture(&TextureSettings { resume: true, steps: 2, ..s }, None, &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("discriminator of an older kiln"), "{e}");
    std::fs::remove_dir_all(&dir).ok();
}
