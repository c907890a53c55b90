//! The spatial VAE's training loop: seeded random crops, Adam with a cosine learning rate,
//! sample grids, resumable checkpoints, cancellation, a stop on a non-finite loss, and final
//! PSNR/SSIM.
//!
//! Owns: [`train_spatial_vae`]. Every random number of step k (crops, flips, ε) comes from the
//! stream `Stream::Step(k)` of the run's seed, and the learning rate is a function of k, so a run
//! resumed from a checkpoint continues exactly as if it had never stopped (a test checks it).
//! Progress goes to the same callback type as the 32² models ([`Progress`]), with one "epoch".

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::Instant;

use candle_core::{Device as CDevice, Tensor};

use super::super::enabled::Model;
use super::super::io::{self, Checkpoint, File};
use super::super::ml_err;
use super::super::nn::{Adam, Params, Specs};
use super::super::options::{Event, Metrics, Progress};
use super::super::quality::{psnr, ssim};
use super::super::stream::Stream;
use super::super::tensor::{labelled_grid, tensor_images};
use super::super::train::{candle_device, output_paths};
use super::arch::SpatialArch;
use super::data::CropData;
use super::net::{LossWeights, SpatialNet};
use super::settings::{SpatialTrainOptions, SpatialTrainSettings, OP};
use crate::error::{Error, Result};
use crate::image::io::{save, SaveOptions};
use crate::image::Image;
use crate::rng::Rng;

const BETAS: (f64, f64) = (0.9, 0.99);
/// Crops the sample grid and the final metrics use, and their side (at most).
const EVAL_CROPS: usize = 8;
const EVAL_SIDE: usize = 256;
const GRID_CROPS: usize = 4;
const GRID_SIDE: usize = 128;

/// Trains a spatial VAE on `opts.settings.data`; returns the model and its metrics (PSNR and
/// SSIM of reconstructions of fixed crops of the training images).
pub fn train_spatial_vae(opts: &SpatialTrainOptions, progress: &mut dyn FnMut(&Progress)) -> Result<(Model, Metrics)> {
    let s = &opts.settings;
    s.validate()?;
    let started = Instant::now();
    let arch = SpatialArch { factor: s.factor, latent: s.channels, width: s.width, blocks: s.blocks };
    arch.check().map_err(|m| Error::param(OP, m))?;
    let dev = candle_device(s.device)?;
    let data = CropData::load(s.data.as_ref().expect("validated: data is required"), s.patch, OP)?;
    let run = Run {
        s,
        arch,
        net: SpatialNet::new(&arch, &mut Specs::default()),
        dev,
        paths: s.out.as_deref().map(output_paths),
        n_images: data.images.len(),
    };
    let mut report = |event: Event, step: u64, losses: Vec<(&'static str, f64)>, run_steps: u64| {
        progress(&Progress {
            event,
            epoch: 0,
            epochs: 1,
            step,
            total_steps: s.steps as u64,
            losses,
            elapsed: started.elapsed(),
            steps_this_run: run_steps,
        })
    };
    let mut state = run.start()?;
    report(Event::Loaded { train: data.images.len(), holdout: 0 }, state.step, vec![], 0);
    for note in &data.notes {
        report(Event::Warning(note.clone()), state.step, vec![], 0);
    }
    let token = crate::cancel::current();
    let mut run_steps = 0u64;
    let mut running: Vec<(&'static str, f64)> = Vec::new();
    while state.step < s.steps as u64 {
        if opts.cancel.as_deref().is_some_and(|c| c.load(Ordering::Relaxed)) || token.is_stopped() {
            let saved = run.save_checkpoint(&state).and_then(|_| match &s.out {
                Some(out) => run.model(&state).save(out),
                None => Ok(()),
            });
            saved?;
            let stopped = Error::Cancelled(format!(
                "training cancelled at step {} of {}{}",
                state.step,
                s.steps,
                if run.paths.is_some() { "; the checkpoint is saved, rerun with resume to continue" } else { "" }
            ));
            return Err(match token.check() {
                Err(reason @ Error::TimedOut(_)) => reason,
                _ => stopped,
            });
        }
        let losses = run.step(&mut state, &data)?;
        run_steps += 1;
        // an exponential moving average: steady numbers from noisy crop batches
        if running.is_empty() {
            running = losses;
        } else {
            for (r, (_, v)) in running.iter_mut().zip(&losses) {
                r.1 = 0.95 * r.1 + 0.05 * v;
            }
        }
        report(Event::Step, state.step, running.clone(), run_steps);
        let due = |every: usize| every > 0 && state.step.is_multiple_of(every as u64);
        if due(s.sample_every) {
            if let Some(p) = run.write_grid(&state, &data)? {
                report(Event::SampleGrid(p), state.step, running.clone(), run_steps);
            }
        }
        if due(s.checkpoint_every) {
            if let Some(p) = run.save_checkpoint(&state)? {
                report(Event::Checkpoint(p), state.step, running.clone(), run_steps);
            }
        }
    }
    let model = run.model(&state);
    if let Some(out) = &s.out {
        model.save(out)?;
        if let Some(p) = run.save_checkpoint(&state)? {
            report(Event::Checkpoint(p), state.step, running.clone(), run_steps);
        }
        if let Some(p) = run.write_grid(&state, &data)? {
            report(Event::SampleGrid(p), state.step, running.clone(), run_steps);
        }
    }
    let mut metrics = run.metrics(&model, &data)?;
    metrics.steps = state.step;
    metrics.seconds = started.elapsed().as_secs_f64();
    metrics.losses = running.into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    Ok((model, metrics))
}

/// What stays fixed through a run.
struct Run<'a> {
    s: &'a SpatialTrainSettings,
    arch: SpatialArch,
    net: SpatialNet,
    dev: CDevice,
    /// The checkpoint and the sample grid, when the run writes files.
    paths: Option<(PathBuf, PathBuf)>,
    n_images: usize,
}

/// The weights, the optimiser and the step they are at.
struct State {
    p: Params,
    names: Vec<String>,
    opt: Adam,
    step: u64,
}

impl Run<'_> {
    fn specs(&self) -> Specs {
        let mut specs = Specs::default();
        SpatialNet::new(&self.arch, &mut specs);
        specs
    }

    /// Fresh weights at step 0, or the checkpoint next to `out` when resuming.
    fn start(&self) -> Result<State> {
        let specs = self.specs();
        let mut opt = Adam::new(self.s.lr, BETAS.0, BETAS.1);
        if let (true, Some((ckpt, _))) = (self.s.resume, &self.paths) {
            if ckpt.exists() {
                let bytes = std::fs::read(ckpt).map_err(|e| Error::io(ckpt, e))?;
                let file = File::parse(&bytes, ckpt)?;
                self.check_resumable(&file, ckpt)?;
                let p = file.params(&specs, "", &self.dev)?;
                file.restore_adam("adam", &mut opt, &self.dev)?;
                return Ok(State { p, names: specs.names(), opt, step: file.number("steps")? });
            }
        }
        let p = Params::init(&specs, self.s.seed(), &self.dev).map_err(ml_err)?;
        Ok(State { p, names: specs.names(), opt, step: 0 })
    }

    /// A checkpoint resumes only the same architecture, seed, batch, patch and data size.
    fn check_resumable(&self, file: &File<'_>, path: &std::path::Path) -> Result<()> {
        let bad =
            |what: String| Err(Error::Model { path: path.to_path_buf(), message: format!("cannot resume: {what}") });
        if file.key("checkpoint")? != "1" || file.key("kind")? != "spatial_vae" {
            return bad("not a spatial VAE checkpoint".into());
        }
        let stored = SpatialArch::from_metadata(&file.meta, path)?;
        if stored != self.arch {
            return bad(format!(
                "the checkpoint is factor {} channels {} width {} blocks {}, the options ask for factor {} channels {} width {} blocks {}",
                stored.factor, stored.latent, stored.width, stored.blocks, self.arch.factor, self.arch.latent, self.arch.width, self.arch.blocks
            ));
        }
        for (key, want) in [
            ("seed", self.s.seed().to_string()),
            ("batch", self.s.batch.to_string()),
            ("patch", self.s.patch.to_string()),
            ("train_images", self.n_images.to_string()),
        ] {
            let got = file.key(key)?;
            if got != want {
                return bad(format!("it was trained with {key} {got}, this run has {want}"));
            }
        }
        Ok(())
    }

    /// One optimisation step. The loss is checked before the update, so on a non-finite loss
    /// the weights are still those of the last good step: they are saved as the checkpoint and
    /// the error says what to change.
    fn step(&self, state: &mut State, data: &CropData) -> Result<Vec<(&'static str, f64)>> {
        let s = self.s;
        let mut rng = Rng::stream(s.seed(), Stream::Step(state.step).id());
        let x = data.batch(&mut rng, s.batch, s.patch, s.flip, &self.dev)?;
        let side = s.patch / s.factor as usize;
        let eps = rng.normals(s.batch * self.arch.latent * side * side);
        let eps = Tensor::from_vec(eps, (s.batch, self.arch.latent, side, side), &self.dev).map_err(ml_err)?;
        let pixels = (s.batch * s.patch * s.patch) as f64;
        let bytes = (self.arch.floats_per_pixel(true) * pixels * 4.0) as u64;
        let _held = crate::memory::reserve(bytes, "a training step")?;
        let weights = LossWeights { edge: s.edge, kl: s.kl };
        let loss = self.net.loss(&state.p, &x, &eps, weights).map_err(ml_err)?;
        let scalar = |t: &Tensor| t.to_scalar::<f32>().map(|v| v as f64).map_err(ml_err);
        let losses = vec![
            ("loss", scalar(&loss.total)?),
            ("pixel", scalar(&loss.pixel)?),
            ("edge", scalar(&loss.edge)?),
            ("kl", scalar(&loss.kl)?),
        ];
        if losses.iter().any(|(_, v)| !v.is_finite()) {
            return Err(self.non_finite(state, &losses));
        }
        let grads = loss.total.backward().map_err(ml_err)?;
        state.opt.lr = s.lr_at(state.step);
        state.opt.step(&state.p, &state.names, &grads).map_err(ml_err)?;
        state.step += 1;
        Ok(losses)
    }

    /// The error for a loss that turned NaN or infinite. Nothing is written: the weights that
    /// gave it may already be diverging, so the last checkpoint on disk is the last good state,
    /// and the message says where it is and what to change.
    fn non_finite(&self, state: &State, losses: &[(&'static str, f64)]) -> Error {
        let shown: Vec<String> = losses.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let kept = self
            .paths
            .as_ref()
            .and_then(|(ckpt, _)| {
                let bytes = std::fs::read(ckpt).ok()?;
                let steps: u64 = File::parse(&bytes, ckpt).ok()?.number("steps").ok()?;
                Some(format!("; the last good checkpoint (step {steps}) is kept in {}", ckpt.display()))
            })
            .unwrap_or_default();
        let resume = if kept.is_empty() { "" } else { ", then rerun with resume" };
        Error::param(
            OP,
            format!(
                "the loss became {} at step {}{kept}; lower 'lr' (now {}) or 'kl' (now {}){resume}",
                shown.join(", "),
                state.step,
                self.s.lr,
                self.s.kl
            ),
        )
    }

    fn run_metadata(&self, step: u64) -> HashMap<String, String> {
        let s = self.s;
        let mut meta = self.arch.metadata();
        for (k, v) in [
            ("steps", step.to_string()),
            ("total_steps", s.steps.to_string()),
            ("seed", s.seed().to_string()),
            ("batch", s.batch.to_string()),
            ("patch", s.patch.to_string()),
            ("lr", s.lr.to_string()),
            ("edge", s.edge.to_string()),
            ("kl", s.kl.to_string()),
            ("flip", s.flip.to_string()),
            ("train_images", self.n_images.to_string()),
        ] {
            meta.insert(k.into(), v);
        }
        meta
    }

    fn model(&self, state: &State) -> Model {
        let meta = self.run_metadata(state.step);
        Model::from_spatial(self.arch, state.p.clone(), self.dev.clone(), state.step, meta)
    }

    /// Writes the resumable checkpoint, if the run writes files.
    fn save_checkpoint(&self, state: &State) -> Result<Option<PathBuf>> {
        let Some((ckpt, _)) = &self.paths else { return Ok(None) };
        let mut c = Checkpoint::default();
        c.params("", &state.p).adam("adam", &state.opt);
        c.meta.extend(self.run_metadata(state.step));
        c.meta.insert("checkpoint".into(), "1".into());
        io::write(ckpt, &c.tensors, c.meta)?;
        Ok(Some(ckpt.clone()))
    }

    /// `n` fixed crops of at most `side`² (the same all run long, from `Stream::Fixed(3)`).
    fn fixed_crops(&self, data: &CropData, n: usize, side: usize) -> Result<Vec<Image>> {
        let side = data.images.iter().map(|i| i.width.min(i.height)).min().unwrap_or(side).min(side) / 8 * 8;
        let mut rng = Rng::stream(self.s.seed(), Stream::Fixed(3).id());
        let x = data.batch(&mut rng, n, side, false, &CDevice::Cpu)?;
        tensor_images(&x)
    }

    /// Writes crops above their reconstructions, if the run writes files.
    fn write_grid(&self, state: &State, data: &CropData) -> Result<Option<PathBuf>> {
        let Some((_, png)) = &self.paths else { return Ok(None) };
        let crops = self.fixed_crops(data, GRID_CROPS, GRID_SIDE)?;
        let model = self.model(state);
        let mut cells = crops.clone();
        for c in &crops {
            cells.push(model.decode_map(&model.encode_map(c)?)?);
        }
        let labels: Vec<String> =
            (0..cells.len()).map(|i| if i < crops.len() { "crop" } else { "decoded" }.to_string()).collect();
        let title = format!("spatial_vae · step {} · seed {}", state.step, self.s.seed());
        save(&labelled_grid(&cells, GRID_CROPS, &title, &labels)?, png, &SaveOptions::default())?;
        Ok(Some(png.clone()))
    }

    /// PSNR and SSIM of the reconstructions of fixed crops of the training images.
    fn metrics(&self, model: &Model, data: &CropData) -> Result<Metrics> {
        let crops = self.fixed_crops(data, EVAL_CROPS, EVAL_SIDE)?;
        let (mut p, mut q) = (0.0, 0.0);
        for c in &crops {
            let back = model.decode_map(&model.encode_map(c)?)?;
            p += psnr(c, &back)?.min(100.0);
            q += ssim(c, &back)?;
        }
        let n = crops.len() as f64;
        Ok(Metrics { psnr: Some(p / n), ssim: Some(q / n), eval_images: crops.len(), ..Metrics::default() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::options::Data;

    /// A loss that turns NaN stops the run before the update, writes nothing, keeps the last
    /// checkpoint and says what to change.
    #[test]
    fn a_non_finite_loss_stops_and_keeps_the_last_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("m.safetensors");
        let img = Image::from_fn(24, 24, |x, y| [x as f32 / 24.0, y as f32 / 24.0, 0.5, 1.0]).unwrap();
        let s = SpatialTrainSettings {
            data: Some(Data::Images(vec![img])),
            out: Some(out.clone()),
            patch: 16,
            batch: 2,
            width: 4,
            channels: 2,
            ..SpatialTrainSettings::default()
        };
        let arch = SpatialArch { factor: 4, latent: 2, width: 4, blocks: 1 };
        let run = Run {
            s: &s,
            arch,
            net: SpatialNet::new(&arch, &mut Specs::default()),
            dev: CDevice::Cpu,
            paths: Some(output_paths(&out)),
            n_images: 1,
        };
        let data = CropData::load(s.data.as_ref().unwrap(), 16, OP).unwrap();
        let mut state = run.start().unwrap();
        run.step(&mut state, &data).unwrap();
        let ckpt = run.save_checkpoint(&state).unwrap().unwrap();
        let before = std::fs::read(&ckpt).unwrap();
        // poison the output bias: the next loss is NaN
        let bias = &state.p.vars["dec.out.b"];
        bias.set(&Tensor::from_vec(vec![f32::NAN, 0.0, 0.0], 3, &CDevice::Cpu).unwrap()).unwrap();
        let e = run.step(&mut state, &data).unwrap_err().to_string();
        assert!(e.starts_with("train_spatial_vae: the loss became loss NaN, pixel NaN"), "{e}");
        assert!(
            e.ends_with(&format!(
                "at step 1; the last good checkpoint (step 1) is kept in {}; lower 'lr' (now 0.0015) or 'kl' (now 0.0001), then rerun with resume",
                ckpt.display()
            )),
            "{e}"
        );
        assert_eq!(state.step, 1, "no update after a NaN loss");
        assert_eq!(std::fs::read(&ckpt).unwrap(), before, "the checkpoint is kept as it was");
        assert!(!out.exists(), "no model file");
    }
}
