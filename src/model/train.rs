//! Training loops for the VAE and the GAN: seeded batches, Adam, moving-average generator,
//! sample grids, resumable checkpoints, cancellation and final metrics.
//!
//! Owns: [`train_vae`], [`train_gan`]. Progress goes to a callback (the CLI draws it with
//! indicatif; scripts ignore it). Every random number of step `k` comes from the stream
//! `Stream::Step(k)` of the run's seed and the order of epoch `e` from `Stream::Epoch(e)`, so a
//! run resumed from a checkpoint continues exactly as if it had never stopped.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::time::Instant;

use candle_core::{Device as CDevice, Tensor};

use super::arch::Arch;
use super::dataset::Dataset;
use super::enabled::Model;
use super::gan::{d_hinge, deviation_group, g_hinge, Augment, Discriminator, Generator};
use super::io::{self, File};
use super::metrics;
use super::ml_err;
use super::nn::{ema_update, Adam, Params, Specs};
use super::options::{Device, Event, Kind, Metrics, Progress, TrainOptions};
use super::prior::{self, Mixture};
use super::stream::Stream;
use super::tensor::{grid, tensor_images};
use super::vae::Vae;
use crate::error::{Error, Result};
use crate::image::io::{save, SaveOptions};
use crate::image::Image;
use crate::rng::Rng;

/// Trains a VAE on `opts.data`; see [`TrainOptions`]. Returns the model and its metrics.
pub fn train_vae(opts: &TrainOptions, progress: &mut dyn FnMut(&Progress)) -> Result<(Model, Metrics)> {
    train(Kind::Vae, opts, progress)
}

/// Trains a GAN on `opts.data`; see [`TrainOptions`]. Returns the model (sampling from the
/// moving average of the generator) and its metrics.
pub fn train_gan(opts: &TrainOptions, progress: &mut dyn FnMut(&Progress)) -> Result<(Model, Metrics)> {
    train(Kind::Gan, opts, progress)
}

/// The candle device for `device`, or a clear error when this build lacks it.
pub fn candle_device(device: Device) -> Result<CDevice> {
    match device {
        Device::Cpu => Ok(CDevice::Cpu),
        #[cfg(feature = "cuda")]
        Device::Cuda => CDevice::new_cuda(0).map_err(|e| Error::Unsupported(format!("cannot open CUDA device 0: {e}"))),
        #[cfg(not(feature = "cuda"))]
        Device::Cuda => Err(Error::Disabled("cuda")),
    }
}

/// Where a run writes: the model, its resumable checkpoint and the sample grid.
pub fn output_paths(out: &Path) -> (PathBuf, PathBuf) {
    let stem = out.file_stem().and_then(|s| s.to_str()).unwrap_or("model");
    let dir = out.parent().unwrap_or(Path::new(""));
    (dir.join(format!("{stem}.ckpt.safetensors")), dir.join(format!("{stem}.samples.png")))
}

/// The networks and optimiser state of one run.
enum Nets {
    Vae {
        vae: Vae,
        p: Params,
        trainable: Vec<String>,
        opt: Adam,
    },
    Gan {
        g: Generator,
        d: Box<Discriminator>,
        gp: Params,
        dp: Params,
        ema: Params,
        g_names: Vec<String>,
        d_names: Vec<String>,
        opt_g: Adam,
        opt_d: Adam,
    },
}

/// Adam betas for the GAN (β1 = 0 as in SNGAN/StyleGAN) and the discriminator's learning-rate
/// multiplier (two time-scale update rule, Heusel et al. 2017).
const GAN_BETAS: (f64, f64) = (0.0, 0.99);
const D_LR_FACTOR: f64 = 2.0;
const VAE_BETAS: (f64, f64) = (0.9, 0.999);
const EMA_DECAY: f64 = 0.999;

impl Nets {
    fn fresh(arch: &Arch, opts: &TrainOptions, dev: &CDevice) -> Result<Nets> {
        match arch.kind {
            Kind::Vae => {
                let mut specs = Specs::default();
                let vae = Vae::new(arch, &mut specs);
                let p = Params::init(&specs, opts.seed, dev).map_err(ml_err)?;
                let opt = Adam::new(opts.lr, VAE_BETAS.0, VAE_BETAS.1);
                Ok(Nets::Vae { vae, p, trainable: specs.names(), opt })
            }
            Kind::Gan => {
                // one spec table so that G and D draw from one sorted stream
                let mut specs = Specs::default();
                let g = Generator::new(arch, &mut specs);
                let d = Box::new(Discriminator::new(arch, &mut specs));
                let all = Params::init(&specs, opts.seed, dev).map_err(ml_err)?;
                let (gp, dp) = split_params(all);
                let ema = gp.deep_clone().map_err(ml_err)?;
                let names = specs.names();
                let (g_names, d_names) = names.into_iter().partition(|n| n.starts_with("g."));
                let opt_g = Adam::new(opts.lr, GAN_BETAS.0, GAN_BETAS.1);
                let opt_d = Adam::new(opts.lr * D_LR_FACTOR, GAN_BETAS.0, GAN_BETAS.1);
                Ok(Nets::Gan { g, d, gp, dp, ema, g_names, d_names, opt_g, opt_d })
            }
        }
    }

    fn resume(arch: &Arch, opts: &TrainOptions, file: &File<'_>, dev: &CDevice) -> Result<Nets> {
        let restore = |opt: &mut Adam, tag: &str| -> Result<()> {
            opt.t = file.number(&format!("{tag}_t"))?;
            opt.m = file.tensors_with_prefix(&format!("{tag}.m."), dev)?;
            opt.v = file.tensors_with_prefix(&format!("{tag}.v."), dev)?;
            Ok(())
        };
        match arch.kind {
            Kind::Vae => {
                let mut specs = Specs::default();
                let vae = Vae::new(arch, &mut specs);
                let p = file.params(&specs, "", dev)?;
                let mut opt = Adam::new(opts.lr, VAE_BETAS.0, VAE_BETAS.1);
                restore(&mut opt, "adam")?;
                Ok(Nets::Vae { vae, p, trainable: specs.names(), opt })
            }
            Kind::Gan => {
                let (mut gs, mut ds) = (Specs::default(), Specs::default());
                let g = Generator::new(arch, &mut gs);
                let d = Box::new(Discriminator::new(arch, &mut ds));
                let ema = file.params(&gs, "", dev)?;
                let gp = file.params(&gs, "train.", dev)?;
                let dp = file.params(&ds, "", dev)?;
                let (mut opt_g, mut opt_d) = (
                    Adam::new(opts.lr, GAN_BETAS.0, GAN_BETAS.1),
                    Adam::new(opts.lr * D_LR_FACTOR, GAN_BETAS.0, GAN_BETAS.1),
                );
                restore(&mut opt_g, "adam_g")?;
                restore(&mut opt_d, "adam_d")?;
                Ok(Nets::Gan { g, d, gp, dp, ema, g_names: gs.names(), d_names: ds.names(), opt_g, opt_d })
            }
        }
    }

    /// The parameters a model file holds (VAE weights, or the generator's moving average).
    fn model_params(&self) -> &Params {
        match self {
            Nets::Vae { p, .. } => p,
            Nets::Gan { ema, .. } => ema,
        }
    }

    /// Everything a checkpoint holds, by stored name.
    fn checkpoint_tensors(&self) -> (BTreeMap<String, Tensor>, HashMap<String, String>) {
        let mut t = BTreeMap::new();
        let mut meta = HashMap::new();
        let put = |prefix: &str, p: &Params, t: &mut BTreeMap<String, Tensor>| {
            for (k, v) in &p.vars {
                t.insert(format!("{prefix}{k}"), v.as_tensor().clone());
            }
        };
        let put_opt = |tag: &str, o: &Adam, t: &mut BTreeMap<String, Tensor>, meta: &mut HashMap<String, String>| {
            for (k, v) in &o.m {
                t.insert(format!("{tag}.m.{k}"), v.clone());
            }
            for (k, v) in &o.v {
                t.insert(format!("{tag}.v.{k}"), v.clone());
            }
            meta.insert(format!("{tag}_t"), o.t.to_string());
        };
        match self {
            Nets::Vae { p, opt, .. } => {
                put("", p, &mut t);
                put_opt("adam", opt, &mut t, &mut meta);
            }
            Nets::Gan { gp, dp, ema, opt_g, opt_d, .. } => {
                put("", ema, &mut t);
                put("train.", gp, &mut t);
                put("", dp, &mut t);
                put_opt("adam_g", opt_g, &mut t, &mut meta);
                put_opt("adam_d", opt_d, &mut t, &mut meta);
            }
        }
        (t, meta)
    }

    /// One optimisation step on batch `x` (images in [0, 1]); returns the named losses.
    fn step(
        &mut self,
        arch: &Arch,
        x: &Tensor,
        rng: &mut Rng,
        step: u64,
        beta: f64,
    ) -> candle_core::Result<Vec<(&'static str, f64)>> {
        let n = x.dim(0)?;
        let dev = x.device();
        match self {
            Nets::Vae { vae, p, trainable, opt } => {
                let eps = Tensor::from_vec(rng.normals(n * arch.latent), (n, arch.latent), dev)?;
                let loss = vae.loss(p, x, &eps, beta)?;
                let grads = loss.total.backward()?;
                opt.step(p, trainable, &grads)?;
                Ok(vec![
                    ("loss", loss.total.to_scalar::<f32>()? as f64),
                    ("recon", loss.recon.to_scalar::<f32>()? as f64),
                    ("kl", loss.kl.to_scalar::<f32>()? as f64),
                ])
            }
            Nets::Gan { g, d, gp, dp, ema, g_names, d_names, opt_g, opt_d } => {
                let real = x.affine(2.0, -1.0)?;
                // discriminator: real and fake in one batch, fake detached from G
                let z = Tensor::from_vec(rng.normals(n * arch.latent), (n, arch.latent), dev)?;
                let fake = g.forward(gp, &z)?.detach();
                let aug = Augment::draw(rng, n, arch.size as usize, dev)?;
                let both = Tensor::cat(&[aug.apply(&real)?, aug.apply(&fake)?], 0)?;
                let logits = d.forward(dp, &both, deviation_group(n))?;
                let loss_d = d_hinge(&logits.narrow(0, 0, n)?, &logits.narrow(0, n, n)?)?;
                opt_d.step(dp, d_names, &loss_d.backward()?)?;
                // generator
                let z = Tensor::from_vec(rng.normals(n * arch.latent), (n, arch.latent), dev)?;
                let aug = Augment::draw(rng, n, arch.size as usize, dev)?;
                let fake = g.forward(gp, &z)?;
                // D's weights as constants: their gradients would be discarded
                let loss_g = g_hinge(&d.forward(&dp.frozen(), &aug.apply(&fake)?, deviation_group(n))?)?;
                opt_g.step(gp, g_names, &loss_g.backward()?)?;
                // moving average, with a warm-up so early samples are not stuck at the init
                let decay = EMA_DECAY.min((1.0 + step as f64) / (10.0 + step as f64));
                ema_update(ema, gp, decay)?;
                Ok(vec![("d", loss_d.to_scalar::<f32>()? as f64), ("g", loss_g.to_scalar::<f32>()? as f64)])
            }
        }
    }
}

/// Splits G+D parameters by prefix.
fn split_params(all: Params) -> (Params, Params) {
    let (g, d) = all.vars.into_iter().partition(|(k, _)| k.starts_with("g."));
    (Params::new(g), Params::new(d))
}

/// Where a run is.
#[derive(Clone, Copy, Debug, Default)]
struct Position {
    epoch: usize,
    epoch_step: usize,
    step: u64,
}

fn run_metadata(arch: &Arch, opts: &TrainOptions, pos: Position, n_train: usize) -> HashMap<String, String> {
    let mut meta = arch.metadata();
    for (k, v) in [
        ("steps", pos.step.to_string()),
        ("seed", opts.seed.to_string()),
        ("batch", opts.batch.to_string()),
        ("lr", opts.lr.to_string()),
        ("beta", opts.beta.to_string()),
        ("epochs", opts.epochs.to_string()),
        ("holdout", opts.holdout.to_string()),
        ("flip", opts.flip.to_string()),
        ("train_images", n_train.to_string()),
        ("epoch", pos.epoch.to_string()),
        ("epoch_step", pos.epoch_step.to_string()),
    ] {
        meta.insert(k.into(), v);
    }
    meta
}

fn train(kind: Kind, opts: &TrainOptions, progress: &mut dyn FnMut(&Progress)) -> Result<(Model, Metrics)> {
    let op = if kind == Kind::Vae { "train_vae" } else { "train_gan" };
    opts.validate(op)?;
    let started = Instant::now();
    let dev = candle_device(opts.device)?;
    let arch = Arch { kind, size: opts.size, latent: opts.latent, width: opts.width };
    let data = Dataset::load(&opts.data, opts.size)?;
    let (train_idx, eval_idx) = data.split(opts.holdout, opts.seed);
    let prior_components = opts.prior_components(kind, train_idx.len());
    if prior_components > 0 {
        prior::check_enough_points(prior_components, train_idx.len())?;
    }
    let batch = opts.batch.min(train_idx.len());
    let steps_per_epoch = train_idx.len().div_ceil(batch);
    let total_steps = (opts.epochs * steps_per_epoch) as u64;
    let paths = opts.out.as_deref().map(output_paths);

    let mut pos = Position::default();
    let mut nets = None;
    if opts.resume {
        let (ckpt, _) = paths.as_ref().expect("validated: resume needs out");
        if ckpt.exists() {
            let bytes = std::fs::read(ckpt).map_err(|e| Error::io(ckpt, e))?;
            let file = File::parse(&bytes, ckpt)?;
            check_resumable(&file, &arch, opts, train_idx.len(), ckpt)?;
            pos = Position {
                epoch: file.number("epoch")?,
                epoch_step: file.number("epoch_step")?,
                step: file.number("steps")?,
            };
            nets = Some(Nets::resume(&arch, opts, &file, &dev)?);
        }
    }
    let mut nets = match nets {
        Some(n) => n,
        None => Nets::fresh(&arch, opts, &dev)?,
    };

    let report = |progress: &mut dyn FnMut(&Progress),
                  event: Event,
                  pos: Position,
                  losses: Vec<(&'static str, f64)>,
                  run_steps: u64| {
        progress(&Progress {
            event,
            epoch: pos.epoch,
            epochs: opts.epochs,
            step: pos.step,
            total_steps,
            losses,
            elapsed: started.elapsed(),
            steps_this_run: run_steps,
        })
    };
    report(progress, Event::Loaded { train: train_idx.len(), holdout: eval_idx.len() }, pos, vec![], 0);

    let save_checkpoint = |nets: &Nets, pos: Position| -> Result<Option<PathBuf>> {
        let Some((ckpt, _)) = &paths else { return Ok(None) };
        let (tensors, mut meta) = nets.checkpoint_tensors();
        meta.extend(run_metadata(&arch, opts, pos, train_idx.len()));
        meta.insert("checkpoint".into(), "1".into());
        io::write(ckpt, &tensors, meta)?;
        Ok(Some(ckpt.clone()))
    };
    let grid_latents: Vec<f32> = Rng::stream(opts.seed, Stream::Fixed(2).id()).normals(64 * arch.latent);
    let save_grid = |images: &[Image]| -> Result<Option<PathBuf>> {
        let Some((_, png)) = &paths else { return Ok(None) };
        save(&grid(images, 8)?, png, &SaveOptions::default())?;
        Ok(Some(png.clone()))
    };
    let write_grid = |nets: &Nets| -> Result<Option<PathBuf>> {
        if paths.is_none() {
            return Ok(None);
        }
        let z = Tensor::from_vec(grid_latents.clone(), (64, arch.latent), &dev).map_err(ml_err)?;
        save_grid(&tensor_images(&decode(nets, &z)?)?)
    };

    let mut run_steps = 0u64;
    let mut sums: Vec<(&'static str, f64)> = Vec::new();
    let mut counted = 0usize;
    let mut last_epoch_losses: Vec<(&'static str, f64)> = Vec::new();
    while pos.epoch < opts.epochs {
        let mut order = train_idx.clone();
        Rng::stream(opts.seed, Stream::Epoch(pos.epoch as u64).id()).shuffle_fast(&mut order);
        while pos.epoch_step < steps_per_epoch {
            if opts.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)) {
                save_checkpoint(&nets, pos)?;
                if let Some((_, _)) = &paths {
                    let model = Model::from_params(
                        arch,
                        nets.model_params().clone(),
                        dev.clone(),
                        pos.step,
                        run_metadata(&arch, opts, pos, train_idx.len()),
                        None,
                    );
                    model.save(opts.out.as_deref().unwrap())?;
                }
                return Err(Error::Cancelled(format!(
                    "training cancelled at step {} of {total_steps}{}",
                    pos.step,
                    if paths.is_some() { "; the checkpoint is saved, rerun with resume to continue" } else { "" }
                )));
            }
            let idx = &order[pos.epoch_step * batch..((pos.epoch_step + 1) * batch).min(order.len())];
            let mut rng = Rng::stream(opts.seed, Stream::Step(pos.step).id());
            let flips: Vec<bool> = idx.iter().map(|_| opts.flip && rng.coin()).collect();
            let x = data.batch(idx, Some(&flips), &dev)?;
            let losses = nets.step(&arch, &x, &mut rng, pos.step, opts.beta).map_err(ml_err)?;
            if losses.iter().any(|(_, v)| !v.is_finite()) {
                return Err(Error::Internal(format!(
                    "{op}: loss became {losses:?} at step {}; try a lower lr",
                    pos.step
                )));
            }
            if sums.is_empty() {
                sums = losses.iter().map(|(k, _)| (*k, 0.0)).collect();
            }
            for (s, (_, v)) in sums.iter_mut().zip(&losses) {
                s.1 += v;
            }
            counted += 1;
            pos.step += 1;
            pos.epoch_step += 1;
            run_steps += 1;
            let running: Vec<(&'static str, f64)> = sums.iter().map(|(k, v)| (*k, v / counted as f64)).collect();
            report(progress, Event::Step, pos, running.clone(), run_steps);
            if opts.sample_every > 0 && pos.step % opts.sample_every as u64 == 0 {
                if let Some(p) = write_grid(&nets)? {
                    report(progress, Event::SampleGrid(p), pos, running.clone(), run_steps);
                }
            }
            if opts.checkpoint_every > 0 && pos.step % opts.checkpoint_every as u64 == 0 {
                if let Some(p) = save_checkpoint(&nets, pos)? {
                    report(progress, Event::Checkpoint(p), pos, running, run_steps);
                }
            }
        }
        last_epoch_losses = sums.iter().map(|(k, v)| (*k, v / counted.max(1) as f64)).collect();
        sums.clear();
        counted = 0;
        pos.epoch += 1;
        pos.epoch_step = 0;
    }

    // a VAE's learned prior is fitted here, after the last step, so resuming a finished run
    // with another `prior` refits it without training further
    let prior = match &nets {
        Nets::Vae { vae, p, .. } => match prior_components {
            0 => None,
            k => Some(Mixture::fit(&latent_means(vae, p, &data, &train_idx, &dev)?, k, opts.seed)?),
        },
        Nets::Gan { .. } => None,
    };
    let meta = run_metadata(&arch, opts, pos, train_idx.len());
    let model = Model::from_params(arch, nets.model_params().clone(), dev.clone(), pos.step, meta, prior);
    if let Some(out) = &opts.out {
        model.save(out)?;
        if let Some(p) = save_checkpoint(&nets, pos)? {
            report(progress, Event::Checkpoint(p), pos, last_epoch_losses.clone(), run_steps);
        }
        // the last grid shows what `sample` gives, so it draws from the learned prior if any
        let written =
            if model.prior_components() > 0 { save_grid(&model.sample(64, opts.seed)?)? } else { write_grid(&nets)? };
        if let Some(p) = written {
            report(progress, Event::SampleGrid(p), pos, last_epoch_losses.clone(), run_steps);
        }
    }
    let eval = if eval_idx.is_empty() { &train_idx[..train_idx.len().min(256)] } else { &eval_idx[..] };
    let mut m = metrics::samples(&model, &data, eval, opts.seed)?;
    if let Nets::Vae { vae, p, .. } = &nets {
        let recon = metrics::vae(vae, p, &data, eval, &arch, opts.seed, &dev)?;
        (m.psnr, m.elbo) = (recon.psnr, recon.elbo);
    }
    m.steps = pos.step;
    m.seconds = started.elapsed().as_secs_f64();
    m.losses = last_epoch_losses.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Ok((model, m))
}

/// The encoder means of images `idx` (unflipped), in order.
fn latent_means(vae: &Vae, p: &Params, data: &Dataset, idx: &[usize], dev: &CDevice) -> Result<Vec<Vec<f32>>> {
    let mut out = Vec::with_capacity(idx.len());
    for chunk in idx.chunks(64) {
        let x = data.batch(chunk, None, dev)?;
        let (mu, _) = vae.encode(p, &x).map_err(ml_err)?;
        out.extend(mu.to_vec2::<f32>().map_err(ml_err)?);
    }
    Ok(out)
}

/// Images in [0, 1] for latents `z` from the nets being trained.
fn decode(nets: &Nets, z: &Tensor) -> Result<Tensor> {
    match nets {
        Nets::Vae { vae, p, .. } => vae.decode(p, z),
        Nets::Gan { g, ema, .. } => g.forward(ema, z).and_then(|y| y.affine(0.5, 0.5)),
    }
    .map_err(ml_err)
}

/// A checkpoint resumes only the same architecture, seed, batch and data size.
fn check_resumable(file: &File<'_>, arch: &Arch, opts: &TrainOptions, n_train: usize, path: &Path) -> Result<()> {
    let bad = |what: String| Err(Error::Model { path: path.to_path_buf(), message: format!("cannot resume: {what}") });
    if file.key("checkpoint")? != "1" {
        return bad("not a checkpoint".into());
    }
    let stored = file.arch()?;
    if stored != *arch {
        return bad(format!(
            "the checkpoint is a {} {}² latent {} width {}, the options ask for a {} {}² latent {} width {}",
            stored.kind, stored.size, stored.latent, stored.width, arch.kind, arch.size, arch.latent, arch.width
        ));
    }
    for (key, want) in
        [("seed", opts.seed.to_string()), ("batch", opts.batch.to_string()), ("train_images", n_train.to_string())]
    {
        let got = file.key(key)?;
        if got != want {
            return bad(format!("it was trained with {key} {got}, this run has {want}"));
        }
    }
    Ok(())
}

/// One training step on a fixed random batch, for `benches/model.rs` (not part of the API).
#[doc(hidden)]
pub struct BenchStep {
    nets: Nets,
    arch: Arch,
    x: Tensor,
    step: u64,
}

impl BenchStep {
    /// Fresh nets of `kind` at `size`² with `latent` and `width`, and a batch of `batch` images.
    pub fn new(kind: Kind, size: u32, latent: usize, width: usize, batch: usize) -> Result<BenchStep> {
        let arch = Arch { kind, size, latent, width };
        let mut opts = TrainOptions::new(super::options::Data::Images(Vec::new()));
        opts.lr = if kind == Kind::Vae { 1e-3 } else { 2e-4 };
        let nets = Nets::fresh(&arch, &opts, &CDevice::Cpu)?;
        let s = size as usize;
        let values = Rng::stream(0, Stream::Fixed(9).id()).uniforms(batch * 3 * s * s, 0.0, 1.0);
        let x = Tensor::from_vec(values, (batch, 3, s, s), &CDevice::Cpu).map_err(ml_err)?;
        Ok(BenchStep { nets, arch, x, step: 0 })
    }

    /// Runs one optimisation step and returns its losses.
    pub fn run(&mut self) -> Result<Vec<(&'static str, f64)>> {
        let mut rng = Rng::stream(0, Stream::Step(self.step).id());
        self.step += 1;
        self.nets.step(&self.arch, &self.x, &mut rng, self.step, 1.0).map_err(ml_err)
    }

    /// The model of the current weights (for sampling benchmarks).
    pub fn model(&self) -> Model {
        Model::from_params(self.arch, self.nets.model_params().clone(), CDevice::Cpu, self.step, HashMap::new(), None)
    }
}
