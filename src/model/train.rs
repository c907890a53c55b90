//! Training loops for the VAE and the GAN: seeded batches, Adam, moving-average generator,
//! sample grids, resumable checkpoints, cancellation and final metrics.
//!
//! Owns: [`train_vae`], [`train_gan`]. Progress goes to a callback (the CLI draws it with
//! indicatif or plain lines, scripts print plain lines; both through `progress.rs`), with a
//! [`Event::Warning`] at the start when the holdout is too small for precision/recall. Every
//! random number of step `k` comes from the stream `Stream::Step(k)` of the run's seed and the
//! order of epoch `e` from `Stream::Epoch(e)`, so a run resumed from a checkpoint continues
//! exactly as if it had never stopped.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{Device as CDevice, Tensor};

use super::arch::Arch;
use super::dataset::Dataset;
use super::enabled::Model;
use super::gan::{d_hinge, deviation_group, g_hinge, Augment, Discriminator, Generator};
use super::io::{self, Checkpoint, File};
use super::metrics;
use super::ml_err;
use super::nn::{ema_update, Adam, Params, Specs};
use super::options::{Device, Event, Kind, Metrics, Progress, TrainOptions, TrainSettings};
use super::prior::{self, Mixture};
use super::progress::coverage_warning;
use super::stream::Stream;
use super::tensor::{labelled_grid, tensor_images};
use super::vae::Vae;
use crate::error::{Error, Result};
use crate::image::io::{save, SaveOptions};
use crate::image::Image;
use crate::rng::Rng;

/// Trains a VAE on `opts.settings.data`; see [`TrainOptions`]. Returns the model and its metrics.
pub fn train_vae(opts: &TrainOptions, progress: &mut dyn FnMut(&Progress)) -> Result<(Model, Metrics)> {
    train(Kind::Vae, opts, progress)
}

/// Trains a GAN on `opts.settings.data`; see [`TrainOptions`]. Returns the model (sampling from the
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
    fn fresh(arch: &Arch, s: &TrainSettings, dev: &CDevice) -> Result<Nets> {
        match arch.kind {
            Kind::Vae => {
                let mut specs = Specs::default();
                let vae = Vae::new(arch, &mut specs);
                let p = Params::init(&specs, s.seed(), dev).map_err(ml_err)?;
                let opt = Adam::new(s.lr, VAE_BETAS.0, VAE_BETAS.1);
                Ok(Nets::Vae { vae, p, trainable: specs.names(), opt })
            }
            Kind::Gan | Kind::TextureGan => {
                // one spec table so that G and D draw from one sorted stream
                let mut specs = Specs::default();
                let g = Generator::new(arch, &mut specs);
                let d = Box::new(Discriminator::new(arch, &mut specs));
                let all = Params::init(&specs, s.seed(), dev).map_err(ml_err)?;
                let (gp, dp) = split_params(all);
                let ema = gp.deep_clone().map_err(ml_err)?;
                let names = specs.names();
                let (g_names, d_names) = names.into_iter().partition(|n| n.starts_with("g."));
                let opt_g = Adam::new(s.lr, GAN_BETAS.0, GAN_BETAS.1);
                let opt_d = Adam::new(s.lr * D_LR_FACTOR, GAN_BETAS.0, GAN_BETAS.1);
                Ok(Nets::Gan { g, d, gp, dp, ema, g_names, d_names, opt_g, opt_d })
            }
            Kind::SpatialVae => Err(spatial_here()),
        }
    }

    fn resume(arch: &Arch, s: &TrainSettings, file: &File<'_>, dev: &CDevice) -> Result<Nets> {
        let restore = |opt: &mut Adam, tag: &str| file.restore_adam(tag, opt, dev);
        match arch.kind {
            Kind::Vae => {
                let mut specs = Specs::default();
                let vae = Vae::new(arch, &mut specs);
                let p = file.params(&specs, "", dev)?;
                let mut opt = Adam::new(s.lr, VAE_BETAS.0, VAE_BETAS.1);
                restore(&mut opt, "adam")?;
                Ok(Nets::Vae { vae, p, trainable: specs.names(), opt })
            }
            Kind::Gan | Kind::TextureGan => {
                let (mut gs, mut ds) = (Specs::default(), Specs::default());
                let g = Generator::new(arch, &mut gs);
                let d = Box::new(Discriminator::new(arch, &mut ds));
                let ema = file.params(&gs, "", dev)?;
                let gp = file.params(&gs, "train.", dev)?;
                let dp = file.params(&ds, "", dev)?;
                let (mut opt_g, mut opt_d) = (
                    Adam::new(s.lr, GAN_BETAS.0, GAN_BETAS.1),
                    Adam::new(s.lr * D_LR_FACTOR, GAN_BETAS.0, GAN_BETAS.1),
                );
                restore(&mut opt_g, "adam_g")?;
                restore(&mut opt_d, "adam_d")?;
                Ok(Nets::Gan { g, d, gp, dp, ema, g_names: gs.names(), d_names: ds.names(), opt_g, opt_d })
            }
            Kind::SpatialVae => Err(spatial_here()),
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
        let mut c = Checkpoint::default();
        match self {
            Nets::Vae { p, opt, .. } => c.params("", p).adam("adam", opt),
            Nets::Gan { gp, dp, ema, opt_g, opt_d, .. } => {
                c.params("", ema).params("train.", gp).params("", dp).adam("adam_g", opt_g).adam("adam_d", opt_d)
            }
        };
        (c.tensors, c.meta)
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

/// A spatial VAE trains in `spatial/train.rs`, never through this loop.
fn spatial_here() -> Error {
    Error::Internal("a spatial VAE trains with train_spatial_vae".into())
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

/// Named losses of one step, or their running means.
type Losses = Vec<(&'static str, f64)>;

fn run_metadata(arch: &Arch, s: &TrainSettings, pos: Position, n_train: usize) -> HashMap<String, String> {
    let mut meta = arch.metadata();
    for (k, v) in [
        ("steps", pos.step.to_string()),
        ("seed", s.seed().to_string()),
        ("batch", s.batch.to_string()),
        ("lr", s.lr.to_string()),
        ("beta", s.beta.to_string()),
        ("epochs", s.epochs.to_string()),
        ("holdout", s.holdout.to_string()),
        ("flip", s.flip.to_string()),
        ("train_images", n_train.to_string()),
        ("epoch", pos.epoch.to_string()),
        ("epoch_step", pos.epoch_step.to_string()),
    ] {
        meta.insert(k.into(), v);
    }
    meta
}

fn train(kind: Kind, opts: &TrainOptions, progress: &mut dyn FnMut(&Progress)) -> Result<(Model, Metrics)> {
    let run = Run::setup(kind, opts)?;
    let (mut nets, mut pos) = run.start()?;
    let loaded = Event::Loaded { train: run.train_idx.len(), holdout: run.eval_idx.len() };
    run.report(progress, loaded, pos, vec![], 0);
    if let Some(text) = coverage_warning(run.eval().len(), !run.eval_idx.is_empty(), run.data.len()) {
        run.report(progress, Event::Warning(text), pos, vec![], 0);
    }
    let (last_epoch_losses, run_steps) = run.epochs(&mut nets, &mut pos, progress)?;
    let model = run.finish(&nets, pos, &last_epoch_losses, run_steps, progress)?;
    let metrics = run.metrics(&model, &nets, pos, last_epoch_losses)?;
    Ok((model, metrics))
}

/// What stays fixed through one training run: its settings, data, split, step counts and files.
struct Run<'a> {
    op: &'static str,
    s: &'a TrainSettings,
    cancel: Option<&'a AtomicBool>,
    seed: u64,
    started: Instant,
    dev: CDevice,
    arch: Arch,
    data: Dataset,
    train_idx: Vec<usize>,
    eval_idx: Vec<usize>,
    prior_components: usize,
    batch: usize,
    steps_per_epoch: usize,
    total_steps: u64,
    /// The checkpoint and the sample grid, when the run writes files.
    paths: Option<(PathBuf, PathBuf)>,
    /// The latents of the sample grids, the same all run long.
    grid_latents: Vec<f32>,
}

impl<'a> Run<'a> {
    /// Validates the options, opens the device, loads and splits the data.
    fn setup(kind: Kind, opts: &'a TrainOptions) -> Result<Run<'a>> {
        let s = &opts.settings;
        s.validate(kind)?;
        let started = Instant::now();
        let dev = candle_device(s.device)?;
        let arch = Arch { kind, size: s.size, latent: s.latent, width: s.width };
        let data = Dataset::load(s.data.as_ref().expect("validated: data is required"), s.size)?;
        let seed = s.seed();
        let (train_idx, eval_idx) = data.split(s.holdout, seed);
        let prior_components = s.prior_components(kind, train_idx.len());
        if prior_components > 0 {
            prior::check_enough_points(prior_components, train_idx.len())?;
        }
        let batch = s.batch.min(train_idx.len());
        let steps_per_epoch = train_idx.len().div_ceil(batch);
        Ok(Run {
            op: kind.train_op(),
            s,
            cancel: opts.cancel.as_deref(),
            seed,
            started,
            dev,
            data,
            prior_components,
            batch,
            steps_per_epoch,
            total_steps: (s.epochs * steps_per_epoch) as u64,
            paths: s.out.as_deref().map(output_paths),
            grid_latents: Rng::stream(seed, Stream::Fixed(2).id()).normals(64 * arch.latent),
            arch,
            train_idx,
            eval_idx,
        })
    }

    /// Fresh nets at step 0, or the nets and position of `out`'s checkpoint when resuming.
    fn start(&self) -> Result<(Nets, Position)> {
        if let (true, Some((ckpt, _))) = (self.s.resume, &self.paths) {
            if ckpt.exists() {
                let bytes = std::fs::read(ckpt).map_err(|e| Error::io(ckpt, e))?;
                let file = File::parse(&bytes, ckpt)?;
                check_resumable(&file, &self.arch, self.s, self.train_idx.len(), ckpt)?;
                let pos = Position {
                    epoch: file.number("epoch")?,
                    epoch_step: file.number("epoch_step")?,
                    step: file.number("steps")?,
                };
                return Ok((Nets::resume(&self.arch, self.s, &file, &self.dev)?, pos));
            }
        }
        Ok((Nets::fresh(&self.arch, self.s, &self.dev)?, Position::default()))
    }

    fn report(&self, progress: &mut dyn FnMut(&Progress), event: Event, pos: Position, losses: Losses, run_steps: u64) {
        progress(&Progress {
            event,
            epoch: pos.epoch,
            epochs: self.s.epochs,
            step: pos.step,
            total_steps: self.total_steps,
            losses,
            elapsed: self.started.elapsed(),
            steps_this_run: run_steps,
        })
    }

    /// Runs the remaining epochs from `pos`; returns the mean losses of the last epoch and the
    /// steps run in this process.
    fn epochs(
        &self,
        nets: &mut Nets,
        pos: &mut Position,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<(Losses, u64)> {
        let mut run_steps = 0u64;
        let mut last_epoch_losses = Losses::new();
        // The script run's token (its --timeout, a new save in watch mode), beside `cancel`.
        let token = crate::cancel::current();
        while pos.epoch < self.s.epochs {
            let mut order = self.train_idx.clone();
            Rng::stream(self.seed, Stream::Epoch(pos.epoch as u64).id()).shuffle_fast(&mut order);
            let mut sums = Losses::new();
            let mut counted = 0usize;
            while pos.epoch_step < self.steps_per_epoch {
                if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) || token.is_stopped() {
                    // The checkpoint is saved either way; a deadline says so in its own words.
                    return Err(match (self.stop(nets, *pos), token.check()) {
                        (Error::Cancelled(_), Err(reason @ Error::TimedOut(_))) => reason,
                        (e, _) => e,
                    });
                }
                let losses = self.step(nets, &order, *pos)?;
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
                let running: Losses = sums.iter().map(|(k, v)| (*k, v / counted as f64)).collect();
                self.after_step(nets, *pos, running, run_steps, progress)?;
            }
            last_epoch_losses = sums.iter().map(|(k, v)| (*k, v / counted.max(1) as f64)).collect();
            pos.epoch += 1;
            pos.epoch_step = 0;
        }
        Ok((last_epoch_losses, run_steps))
    }

    /// One optimisation step at `pos` on its slice of the epoch's `order`.
    fn step(&self, nets: &mut Nets, order: &[usize], pos: Position) -> Result<Losses> {
        let batch = self.batch;
        let idx = &order[pos.epoch_step * batch..((pos.epoch_step + 1) * batch).min(order.len())];
        let mut rng = Rng::stream(self.seed, Stream::Step(pos.step).id());
        let flips: Vec<bool> = idx.iter().map(|_| self.s.flip && rng.coin()).collect();
        let x = self.data.batch(idx, Some(&flips), &self.dev)?;
        let _held = crate::memory::reserve(self.arch.activation_bytes(idx.len(), true), "a training step")?;
        let losses = nets.step(&self.arch, &x, &mut rng, pos.step, self.s.beta).map_err(ml_err)?;
        if losses.iter().any(|(_, v)| !v.is_finite()) {
            let shown: Vec<String> = losses.iter().map(|(k, v)| format!("{k} {v}")).collect();
            return Err(Error::Internal(format!(
                "{}: loss became {} at step {}; try a lower lr",
                self.op,
                shown.join(", "),
                pos.step
            )));
        }
        Ok(losses)
    }

    /// Reports a step, and writes the sample grid and the checkpoint when they are due.
    fn after_step(
        &self,
        nets: &Nets,
        pos: Position,
        running: Losses,
        run_steps: u64,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<()> {
        self.report(progress, Event::Step, pos, running.clone(), run_steps);
        let due = |every: usize| every > 0 && pos.step.is_multiple_of(every as u64);
        if due(self.s.sample_every) {
            if let Some(p) = self.write_grid(nets, pos)? {
                self.report(progress, Event::SampleGrid(p), pos, running.clone(), run_steps);
            }
        }
        if due(self.s.checkpoint_every) {
            if let Some(p) = self.save_checkpoint(nets, pos)? {
                self.report(progress, Event::Checkpoint(p), pos, running, run_steps);
            }
        }
        Ok(())
    }

    /// Cancelled at `pos`: saves the checkpoint and the model so far, and says how to go on.
    fn stop(&self, nets: &Nets, pos: Position) -> Error {
        let saved = self.save_checkpoint(nets, pos).and_then(|_| match &self.s.out {
            Some(out) => self.model(nets, pos, None).save(out),
            None => Ok(()),
        });
        match saved {
            Err(e) => e,
            Ok(()) => Error::Cancelled(format!(
                "training cancelled at step {} of {}{}",
                pos.step,
                self.total_steps,
                if self.paths.is_some() { "; the checkpoint is saved, rerun with resume to continue" } else { "" }
            )),
        }
    }

    /// The model of the nets' current weights at `pos`.
    fn model(&self, nets: &Nets, pos: Position, prior: Option<Mixture>) -> Model {
        let meta = run_metadata(&self.arch, self.s, pos, self.train_idx.len());
        Model::from_params(self.arch, nets.model_params().clone(), self.dev.clone(), pos.step, meta, prior)
    }

    /// Writes the resumable checkpoint, if the run writes files.
    fn save_checkpoint(&self, nets: &Nets, pos: Position) -> Result<Option<PathBuf>> {
        let Some((ckpt, _)) = &self.paths else { return Ok(None) };
        let (tensors, mut meta) = nets.checkpoint_tensors();
        meta.extend(run_metadata(&self.arch, self.s, pos, self.train_idx.len()));
        meta.insert("checkpoint".into(), "1".into());
        io::write(ckpt, &tensors, meta)?;
        Ok(Some(ckpt.clone()))
    }

    /// Writes `images` as the 8-wide sample grid headed "gan · step 1200 · seed 1", if the run
    /// writes files.
    fn save_grid(&self, images: &[Image], pos: Position) -> Result<Option<PathBuf>> {
        let Some((_, png)) = &self.paths else { return Ok(None) };
        let title = format!("{} · step {} · seed {}", self.arch.kind, pos.step, self.seed);
        save(&labelled_grid(images, 8, &title, &[])?, png, &SaveOptions::default())?;
        Ok(Some(png.clone()))
    }

    /// Writes the sample grid of the nets being trained, if the run writes files.
    fn write_grid(&self, nets: &Nets, pos: Position) -> Result<Option<PathBuf>> {
        if self.paths.is_none() {
            return Ok(None);
        }
        let z = Tensor::from_vec(self.grid_latents.clone(), (64, self.arch.latent), &self.dev).map_err(ml_err)?;
        self.save_grid(&tensor_images(&decode(nets, &z)?)?, pos)
    }

    /// The trained model: fits a VAE's prior, and writes the model, the final checkpoint and
    /// the final sample grid.
    fn finish(
        &self,
        nets: &Nets,
        pos: Position,
        losses: &Losses,
        run_steps: u64,
        progress: &mut dyn FnMut(&Progress),
    ) -> Result<Model> {
        // a VAE's learned prior is fitted here, after the last step, so resuming a finished run
        // with another `prior` refits it without training further
        let prior = match nets {
            Nets::Vae { vae, p, .. } => match self.prior_components {
                0 => None,
                k => {
                    let means = latent_means(vae, p, &self.data, &self.train_idx, &self.dev)?;
                    Some(Mixture::fit(&means, k, self.seed)?)
                }
            },
            Nets::Gan { .. } => None,
        };
        let model = self.model(nets, pos, prior);
        if let Some(out) = &self.s.out {
            model.save(out)?;
            if let Some(p) = self.save_checkpoint(nets, pos)? {
                self.report(progress, Event::Checkpoint(p), pos, losses.clone(), run_steps);
            }
            // the last grid shows what `sample` gives, so it draws from the learned prior if any
            let written = if model.prior_components() > 0 {
                self.save_grid(&model.sample(64, self.seed)?, pos)?
            } else {
                self.write_grid(nets, pos)?
            };
            if let Some(p) = written {
                self.report(progress, Event::SampleGrid(p), pos, losses.clone(), run_steps);
            }
        }
        Ok(model)
    }

    /// The images the final metrics are measured on: the held-out ones, or up to 256 training
    /// images without any.
    fn eval(&self) -> &[usize] {
        if self.eval_idx.is_empty() {
            &self.train_idx[..self.train_idx.len().min(256)]
        } else {
            &self.eval_idx[..]
        }
    }

    /// The final metrics, on [`Run::eval`].
    fn metrics(&self, model: &Model, nets: &Nets, pos: Position, losses: Losses) -> Result<Metrics> {
        let eval = self.eval();
        let mut m = metrics::samples(model, &self.data, eval, self.seed)?;
        if let Nets::Vae { vae, p, .. } = nets {
            let recon = metrics::vae(vae, p, &self.data, eval, &self.arch, self.seed, &self.dev)?;
            (m.psnr, m.elbo) = (recon.psnr, recon.elbo);
        }
        m.steps = pos.step;
        m.held_out = !self.eval_idx.is_empty();
        m.seconds = self.started.elapsed().as_secs_f64();
        m.losses = losses.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        Ok(m)
    }
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
fn check_resumable(file: &File<'_>, arch: &Arch, s: &TrainSettings, n_train: usize, path: &Path) -> Result<()> {
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
        [("seed", s.seed().to_string()), ("batch", s.batch.to_string()), ("train_images", n_train.to_string())]
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
        let nets = Nets::fresh(&arch, &TrainSettings::for_kind(kind), &CDevice::Cpu)?;
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
