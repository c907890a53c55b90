//! Training a texture GAN on random crops of its exemplars.
//!
//! Each step: one discriminator update on a batch of real crops and detached fakes (hinge loss,
//! DiffAugment as the 32² GAN uses it), then one generator update against the frozen
//! discriminator plus `style` × the random-filter sliced Wasserstein loss ([`super::style`])
//! against the same real crops, then the moving average of the generator that samples come
//! from. Adam with β1 = 0 and the discriminator at twice the learning rate, as the 32² GAN.
//! With a LeCam weight above 0 (the default while the adversarial loss is on) the
//! discriminator's loss also has the LeCam regulariser ([`super::super::gan::lecam`]); its two
//! anchors are training state, kept in the checkpoint's metadata (`lecam_real`, `lecam_fake`).
//! With several critic scales ([`super::net::Critics`]) each critic has its own hinge loss,
//! regulariser and anchors (`lecam_real1`, ...); the discriminator's loss and the generator's
//! adversarial loss are the means over the critics.
//!
//! Like the 32² trainers: every random number comes from a seeded stream per step, so a run is
//! the same at any thread count and a resumed run equals an uninterrupted one; Ctrl-C (the
//! cancel flag) and a script's deadline save a resumable checkpoint; the checkpoint is written
//! every `checkpoint_every` steps and the model file only at the end or on a stop, both
//! atomically. A loss that turns NaN stops the run *without* writing anything, so the last good
//! checkpoint is kept, and the error says which step and what to change.
//!
//! Owns: [`train_texture`]. Must not know about scripts or the command line.

use std::collections::{BTreeMap, HashMap};
use std::f32::consts::TAU;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use candle_core::{Device as CDevice, Tensor};

use super::super::enabled::Model;
use super::super::gan::{d_hinge, g_hinge, lecam, Augment, LeCamAnchors};
use super::super::io::{self, Checkpoint, File};
use super::super::ml_err;
use super::super::nn::{ema_update, Adam, Params, Specs};
use super::super::options::{Event, Metrics, Progress};
use super::super::stream::Stream;
use super::super::tensor::labelled_grid;
use super::super::texture_options::{TextureMix, TextureSample, TextureSettings};
use super::super::train::{candle_device, output_paths};
use super::arch::TextureArch;
use super::exemplars::{contrast, Exemplars};
use super::net::{coarse_noise, detail_noise, one_hot, Critics, Generator, NoiseParts};
use super::sample::draw;
use super::style::StyleNet;
use crate::error::{Error, Result};
use crate::image::io::save;
use crate::image::io::SaveOptions;
use crate::rng::Rng;

const BETAS: (f64, f64) = (0.0, 0.99);
const D_LR_FACTOR: f64 = 2.0;
const EMA_DECAY: f64 = 0.999;
/// Decay of the LeCam anchors (as Tseng et al.), reached after a short warm-up.
const LECAM_DECAY: f64 = 0.99;
const OP: &str = "train_texture";

/// Trains a texture model as `s` says; `cancel` set to true saves a checkpoint and stops.
pub fn train_texture(
    s: &TextureSettings,
    cancel: Option<&AtomicBool>,
    progress: &mut dyn FnMut(&Progress),
) -> Result<(Model, Metrics)> {
    let run = Run::new(s, s.out.as_deref().map(output_paths))?;
    let started = run.started;
    for w in &run.exemplars.warnings {
        run.report(progress, Event::Warning(w.clone()), 0, vec![], 0);
    }
    let (mut nets, mut step) = run.start()?;
    let loaded = Event::Loaded { train: run.exemplars.len(), holdout: 0 };
    run.report(progress, loaded, step, vec![], 0);
    let style = StyleNet::new(&run.dev, &run.arch).map_err(ml_err)?;
    let token = crate::cancel::current();
    let mut run_steps = 0u64;
    let mut losses = vec![];
    while step < s.steps as u64 {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) || token.is_stopped() {
            return Err(match (run.stop(&nets, step), token.check()) {
                (Error::Cancelled(_), Err(reason @ Error::TimedOut(_))) => reason,
                (e, _) => e,
            });
        }
        if s.minutes > 0.0 && started.elapsed().as_secs_f64() >= s.minutes * 60.0 {
            run.report(
                progress,
                Event::Warning(format!(
                    "stopped after {} minutes at step {step} of {} (option 'minutes')",
                    s.minutes, s.steps
                )),
                step,
                losses.clone(),
                run_steps,
            );
            break;
        }
        losses = run.step(&mut nets, &style, step)?;
        step += 1;
        run_steps += 1;
        run.report(progress, Event::Step, step, losses.clone(), run_steps);
        let due = |every: usize| every > 0 && step.is_multiple_of(every as u64);
        if due(s.sample_every) {
            for event in run.write_grid(&nets, step)? {
                run.report(progress, event, step, losses.clone(), run_steps);
            }
        }
        if due(s.checkpoint_every) {
            if let Some(p) = run.save_checkpoint(&nets, step)? {
                run.report(progress, Event::Checkpoint(p), step, losses.clone(), run_steps);
            }
        }
        if due(s.keep_every) {
            if let Some(out) = &s.out {
                run.model(&nets, step).save(&kept_path(out, step))?;
            }
        }
    }
    let model = run.model(&nets, step);
    if let Some(out) = &s.out {
        model.save(out)?;
        if let Some(p) = run.save_checkpoint(&nets, step)? {
            run.report(progress, Event::Checkpoint(p), step, losses.clone(), run_steps);
        }
        for event in run.write_grid(&nets, step)? {
            run.report(progress, event, step, losses.clone(), run_steps);
        }
    }
    let metrics = Metrics {
        steps: step,
        seconds: started.elapsed().as_secs_f64(),
        losses: losses.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
        ..Metrics::default()
    };
    Ok((model, metrics))
}

#[cfg(test)]
thread_local! {
    /// Tests: the step whose discriminator loss reads as NaN (a real NaN cannot be provoked
    /// reliably with tiny networks).
    pub static FORCE_NAN_AT: std::cell::Cell<Option<u64>> = const { std::cell::Cell::new(None) };
}

/// The checkpoint's metadata keys of critic `i`'s LeCam anchors: `lecam_real` and `lecam_fake`
/// for the full-size critic (as before there were several), `lecam_real1` ... for the others.
fn anchor_keys(i: usize) -> (String, String) {
    let suffix = if i == 0 { String::new() } else { i.to_string() };
    (format!("lecam_real{suffix}"), format!("lecam_fake{suffix}"))
}

/// `NAME.stepN.safetensors` beside `out`.
pub fn kept_path(out: &Path, step: u64) -> PathBuf {
    let stem = out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
    out.with_file_name(format!("{stem}.step{step}.safetensors"))
}

struct Nets {
    g: Generator,
    d: Critics,
    gp: Params,
    dp: Params,
    ema: Params,
    g_names: Vec<String>,
    d_names: Vec<String>,
    opt_g: Adam,
    opt_d: Adam,
    /// Per critic, moving averages of its mean output on real and fake crops (`lecam`).
    anchors: Vec<LeCamAnchors>,
}

struct Run<'a> {
    s: &'a TextureSettings,
    arch: TextureArch,
    exemplars: Exemplars,
    dev: CDevice,
    started: Instant,
    paths: Option<(PathBuf, PathBuf)>,
}

impl<'a> Run<'a> {
    /// Checks the settings, opens the device and loads the exemplars.
    fn new(s: &'a TextureSettings, paths: Option<(PathBuf, PathBuf)>) -> Result<Run<'a>> {
        s.validate()?;
        let started = Instant::now();
        let dev = candle_device(s.device)?;
        let exemplars = Exemplars::load(s.data.as_ref().expect("validated: data is required"), s.patch)?;
        let arch = TextureArch {
            width: s.width,
            local: s.local,
            global: s.global,
            periodic: s.periodic,
            depth: s.depth,
            detail_noise: s.detail_noise,
            detail_gate: s.detail_gate,
            coarse: s.coarse,
            critic_scales: s.critic_scales,
            bilinear_upsample: s.bilinear_upsample,
            textures: exemplars.names.clone(),
            patch: s.patch,
        };
        Ok(Run { s, arch, exemplars, dev, started, paths })
    }

    fn report(
        &self,
        progress: &mut dyn FnMut(&Progress),
        event: Event,
        step: u64,
        losses: Vec<(&'static str, f64)>,
        run_steps: u64,
    ) {
        progress(&Progress {
            event,
            epoch: 0,
            epochs: 1,
            step,
            total_steps: self.s.steps as u64,
            losses,
            elapsed: self.started.elapsed(),
            steps_this_run: run_steps,
        })
    }

    fn specs(&self) -> (Generator, Critics, Specs, Specs) {
        let (mut gs, mut ds) = (Specs::default(), Specs::default());
        let g = Generator::new(&self.arch, &mut gs);
        let d = Critics::new(&self.arch, &mut ds);
        (g, d, gs, ds)
    }

    /// Fresh nets at step 0, or those of the checkpoint beside `out` when resuming.
    fn start(&self) -> Result<(Nets, u64)> {
        let (g, d, gs, ds) = self.specs();
        let adam = |factor: f64| Adam::new(self.s.lr * factor, BETAS.0, BETAS.1);
        if let (true, Some((ckpt, _))) = (self.s.resume, &self.paths) {
            if ckpt.exists() {
                let bytes = std::fs::read(ckpt).map_err(|e| Error::io(ckpt, e))?;
                let file = File::parse(&bytes, ckpt)?;
                let stored = TextureArch::from_file(&file)?;
                if stored != self.arch {
                    return Err(Error::param(
                        OP,
                        format!(
                            "{} was trained with other settings or exemplars ({}, from the checkpoint to this run); resume needs the same ones",
                            ckpt.display(),
                            stored.differences(&self.arch).join("; ")
                        ),
                    ));
                }
                if self.arch.critic_levels_at(0) > 3 && !file.has_tensor("d.down3") {
                    return Err(self.older_discriminator(ckpt));
                }
                let restore = |tag: &str, factor: f64| -> Result<Adam> {
                    let mut opt = adam(factor);
                    file.restore_adam(tag, &mut opt, &self.dev)?;
                    Ok(opt)
                };
                let nets = Nets {
                    ema: file.params(&gs, "", &self.dev)?,
                    gp: file.params(&gs, "train.", &self.dev)?,
                    dp: file.params(&ds, "", &self.dev)?,
                    opt_g: restore("adam_g", 1.0)?,
                    opt_d: restore("adam_d", D_LR_FACTOR)?,
                    g,
                    d,
                    g_names: gs.names(),
                    d_names: ds.names(),
                    // checkpoints from before the regulariser have none: it starts from 0 there
                    anchors: (0..self.arch.critic_scales)
                        .map(|i| {
                            let (real, fake) = anchor_keys(i);
                            Ok(LeCamAnchors { real: file.number_or(&real, 0.0)?, fake: file.number_or(&fake, 0.0)? })
                        })
                        .collect::<Result<_>>()?,
                };
                return Ok((nets, file.number("steps")?));
            }
        }
        // one spec table so that G and D draw from one sorted stream
        let mut all = gs.clone();
        all.0.extend(ds.0.clone());
        let p = Params::init(&all, self.s.seed(), &self.dev).map_err(ml_err)?;
        let (gv, dv): (BTreeMap<_, _>, BTreeMap<_, _>) = p.vars.into_iter().partition(|(k, _)| k.starts_with("g."));
        let gp = Params::new(gv);
        let ema = gp.deep_clone().map_err(ml_err)?;
        let nets = Nets {
            g,
            d,
            gp,
            dp: Params::new(dv),
            ema,
            g_names: gs.names(),
            d_names: ds.names(),
            opt_g: adam(1.0),
            opt_d: adam(D_LR_FACTOR),
            anchors: vec![LeCamAnchors::default(); self.arch.critic_scales],
        };
        Ok((nets, 0))
    }

    /// A patch-128-or-more checkpoint without `d.down3` was written before the critics' reach
    /// followed the patch ([`TextureArch::critic_levels`]); say so, instead of "tensor missing".
    fn older_discriminator(&self, ckpt: &Path) -> Error {
        Error::param(
            OP,
            format!(
                "{} has the discriminator of an older kiln (patch {} now gets {} levels, it has 3); train afresh without resume",
                ckpt.display(),
                self.arch.patch,
                self.arch.critic_levels_at(0)
            ),
        )
    }

    /// The noise of a training batch: local normals, one exemplar's code per crop, phases, detail.
    fn training_noise(&self, labels: &[usize], rng: &mut Rng) -> Result<NoiseParts> {
        let n = labels.len();
        let c = (self.s.patch / 8) as usize;
        let t = self.arch.textures.len();
        let local = rng.normals(n * self.arch.local * c * c);
        let phase = rng.uniforms(n * self.arch.periodic, 0.0, TAU);
        let mix = one_hot(labels, t, &self.dev)
            .and_then(|m| m.reshape((n, t, 1, 1)))
            .and_then(|m| m.broadcast_as((n, t, c, c)))
            .and_then(|m| m.contiguous())
            .map_err(ml_err)?;
        Ok(NoiseParts {
            local: Tensor::from_vec(local, (n, self.arch.local, c, c), &self.dev).map_err(ml_err)?,
            mix,
            phase: Tensor::from_vec(phase, (n, self.arch.periodic, 1, 1), &self.dev).map_err(ml_err)?,
            snap: false,
            detail: detail_noise(&self.arch, n, (c, c), rng, &self.dev).map_err(ml_err)?,
            // a window onto an unbounded field, as a crop of a large sample sees
            coarse: coarse_noise(&self.arch, n, (c, c), false, rng, &self.dev).map_err(ml_err)?,
        })
    }

    /// One discriminator and one generator update at `step`; the named losses.
    fn step(&self, nets: &mut Nets, style: &StyleNet, step: u64) -> Result<Vec<(&'static str, f64)>> {
        let mut rng = Rng::stream(self.s.seed(), Stream::Step(step).id());
        let (n, patch) = (self.s.batch, self.s.patch as usize);
        let _held = crate::memory::reserve(
            self.arch.activation_bytes(2 * n, self.s.patch, self.s.patch, true),
            "a training step",
        )?;
        let (real, labels) = self.exemplars.crops(n, patch, &mut rng, &self.dev)?;
        let t = self.arch.textures.len();
        let onehot = one_hot(&labels, t, &self.dev).map_err(ml_err)?;
        let both_labels = Tensor::cat(&[&onehot, &onehot], 0).map_err(ml_err)?;
        let noise = self.training_noise(&labels, &mut rng)?;
        let aug_d = Augment::draw(&mut rng, n, patch, &self.dev).map_err(ml_err)?;
        let aug_g = Augment::draw(&mut rng, n, patch, &self.dev).map_err(ml_err)?;
        let dirs = style.directions(&mut rng, &self.dev).map_err(ml_err)?;
        let mut nets_step = || -> candle_core::Result<Vec<(&'static str, f64)>> {
            let adversarial = self.s.adversarial > 0.0;
            let mut losses = vec![];
            if adversarial {
                // discriminator: real and detached fake in one batch
                let fake = nets.g.render(&nets.gp, &noise)?.detach();
                let both = Tensor::cat(&[aug_d.apply(&real)?, aug_d.apply(&fake)?], 0)?;
                // the mean over the critics, so the balance against the generator's style loss
                // is that of one critic
                let mean = |t: &Tensor| -> candle_core::Result<f64> { Ok(t.mean_all()?.to_scalar::<f32>()? as f64) };
                let (mut hinge, mut reg) = (vec![], vec![]);
                for (logits, anchors) in nets.d.forward(&nets.dp, &both, &both_labels)?.iter().zip(&mut nets.anchors) {
                    let (on_real, on_fake) = (logits.narrow(0, 0, n)?, logits.narrow(0, n, n)?);
                    hinge.push(d_hinge(&on_real, &on_fake)?);
                    if self.s.lecam_weight() > 0.0 {
                        reg.push(lecam(&on_real, &on_fake, anchors)?);
                        let decay = LECAM_DECAY.min(step as f64 / (10.0 + step as f64));
                        anchors.update(mean(&on_real)?, mean(&on_fake)?, decay);
                    }
                }
                let loss_d = Tensor::stack(&hinge, 0)?.mean_all()?;
                losses.push(("d", loss_d.to_scalar::<f32>()? as f64));
                let mut total_d = loss_d;
                if !reg.is_empty() {
                    let reg = Tensor::stack(&reg, 0)?.mean_all()?;
                    losses.push(("lecam", reg.to_scalar::<f32>()? as f64));
                    total_d = (total_d + reg.affine(self.s.lecam_weight(), 0.0)?)?;
                }
                nets.opt_d.step(&nets.dp, &nets.d_names, &total_d.backward()?)?;
            }
            // generator: adversarial against the frozen D, plus texture statistics
            let fake = nets.g.render(&nets.gp, &noise)?;
            let mut loss_g: Option<Tensor> = None;
            if adversarial {
                let logits = nets.d.forward(&nets.dp.frozen(), &aug_g.apply(&fake)?, &onehot)?;
                let per_critic = logits.iter().map(g_hinge).collect::<candle_core::Result<Vec<_>>>()?;
                let adv = Tensor::stack(&per_critic, 0)?.mean_all()?;
                losses.push(("g", adv.to_scalar::<f32>()? as f64));
                loss_g = Some(adv.affine(self.s.adversarial, 0.0)?);
            }
            if self.s.style > 0.0 {
                let real_sorted = style.sorted(&style.features(&real)?, &dirs)?;
                let st = style.loss(&fake, &real_sorted, &dirs)?;
                losses.push(("style", st.to_scalar::<f32>()? as f64));
                let weighted = st.affine(self.s.style, 0.0)?;
                loss_g = Some(match loss_g {
                    Some(l) => (l + weighted)?,
                    None => weighted,
                });
            }
            let loss_g = loss_g.ok_or_else(|| candle_core::Error::Msg("no generator loss".into()))?;
            nets.opt_g.step(&nets.gp, &nets.g_names, &loss_g.backward()?)?;
            let decay = EMA_DECAY.min((1.0 + step as f64) / (10.0 + step as f64));
            ema_update(&nets.ema, &nets.gp, decay)?;
            Ok(losses)
        };
        #[allow(unused_mut)]
        let mut losses = nets_step().map_err(ml_err)?;
        #[cfg(test)]
        if FORCE_NAN_AT.with(|f| f.get()) == Some(step) {
            losses[0].1 = f64::NAN;
        }
        if let Some((name, value)) = losses.iter().find(|(_, v)| !v.is_finite()) {
            let kept = match &self.paths {
                Some((ckpt, _)) if ckpt.exists() => format!("the last good checkpoint {} is kept", ckpt.display()),
                _ => "nothing was written".to_string(),
            };
            return Err(Error::Model {
                path: self.s.out.clone().unwrap_or_default(),
                message: format!(
                    "{OP}: the {name} loss became {value} at step {}; {kept}. Lower 'lr' (now {}) or 'style' (now {}), then resume",
                    step + 1,
                    self.s.lr,
                    self.s.style
                ),
            });
        }
        Ok(losses)
    }

    fn metadata(&self, step: u64) -> HashMap<String, String> {
        let mut meta = self.arch.metadata();
        meta.insert("steps".into(), step.to_string());
        meta.insert("seed".into(), self.s.seed().to_string());
        meta.insert("lr".into(), self.s.lr.to_string());
        meta.insert("batch".into(), self.s.batch.to_string());
        meta.insert("style".into(), self.s.style.to_string());
        meta.insert("adversarial".into(), self.s.adversarial.to_string());
        meta.insert("kiln_version".into(), env!("CARGO_PKG_VERSION").into());
        meta
    }

    /// The model of the generator's moving average at `step`.
    fn model(&self, nets: &Nets, step: u64) -> Model {
        Model::from_texture(self.arch.clone(), nets.ema.clone(), self.dev.clone(), step, self.metadata(step))
    }

    fn save_checkpoint(&self, nets: &Nets, step: u64) -> Result<Option<PathBuf>> {
        let Some((ckpt, _)) = &self.paths else { return Ok(None) };
        let mut c = Checkpoint::default();
        c.params("", &nets.ema).params("train.", &nets.gp).params("", &nets.dp);
        c.adam("adam_g", &nets.opt_g).adam("adam_d", &nets.opt_d);
        c.meta.extend(self.metadata(step));
        c.meta.insert("checkpoint".into(), "1".into());
        // f64 Display is exact both ways, so a resumed run continues the same anchors
        for (i, anchors) in nets.anchors.iter().enumerate() {
            let (real, fake) = anchor_keys(i);
            c.meta.insert(real, anchors.real.to_string());
            c.meta.insert(fake, anchors.fake.to_string());
        }
        io::write(ckpt, &c.tensors, c.meta)?;
        Ok(Some(ckpt.clone()))
    }

    /// Cancelled at `step`: saves the checkpoint and the model so far, and says how to go on.
    fn stop(&self, nets: &Nets, step: u64) -> Error {
        let saved = self.save_checkpoint(nets, step).and_then(|_| match &self.s.out {
            Some(out) => self.model(nets, step).save(out),
            None => Ok(()),
        });
        match saved {
            Err(e) => e,
            Ok(()) => Error::Cancelled(format!(
                "training cancelled at step {step} of {}{}",
                self.s.steps,
                if self.paths.is_some() { "; the checkpoint is saved, rerun with resume to continue" } else { "" }
            )),
        }
    }

    /// The sample grid: up to 8 textures, four seeds each, at twice the patch size, each row
    /// labelled with its texture's name and seed. The events to report: the grid written, then a
    /// warning for each texture whose samples have collapsed to a flat colour (see
    /// [`collapsed`]); none without an output path.
    fn write_grid(&self, nets: &Nets, step: u64) -> Result<Vec<Event>> {
        let Some((_, png)) = &self.paths else { return Ok(vec![]) };
        let side = (2 * self.s.patch).min(256);
        let opts = TextureSample { width: side, height: side, seed: None, tileable: false };
        let mut images = Vec::new();
        let mut labels = Vec::new();
        let mut events = Vec::new();
        for t in 0..self.arch.textures.len().min(8) {
            for seed in 0..4 {
                images.push(draw(&nets.g, &nets.ema, &self.arch, &opts, &TextureMix::One(t), seed, &self.dev)?);
                labels.push(format!("{} · seed {seed}", self.arch.textures[t]));
            }
            let sampled = images[images.len() - 4..].iter().map(contrast).fold(0f32, f32::max);
            let wanted = self.exemplars.contrast(t);
            if collapsed(sampled, wanted) {
                events.push(Event::Warning(format!(
                    "step {step}: the {} samples have collapsed to a flat colour (contrast {sampled:.3}, the exemplar's {wanted:.3}): the discriminator overpowered the generator. Lower 'lr' (now {}) or 'adversarial' (now {}) and train again",
                    self.arch.textures[t], self.s.lr, self.s.adversarial
                )));
            }
        }
        let title = format!("texture_gan · step {step} · train seed {}", self.s.seed());
        save(&labelled_grid(&images, 4, &title, &labels)?, png, &SaveOptions::default())?;
        events.insert(0, Event::SampleGrid(png.clone()));
        Ok(events)
    }
}

/// Whether samples whose highest contrast is `sampled` have collapsed, for an exemplar of
/// contrast `wanted` (both as [`contrast`] measures them): under a tenth of it. A rust run at a
/// learning rate of 5e-4 sampled at contrast 0.0002 by step 500 and 0 at its end, against the
/// exemplar's 0.076; the healthy runs of the same sweep (clouds, granite, marble, wood, and rust
/// at 2e-4) sampled at 0.5 to 1.0 times their exemplar's. Exemplars that are nearly flat
/// themselves never count.
pub(super) fn collapsed(sampled: f32, wanted: f32) -> bool {
    wanted > 0.01 && sampled < 0.1 * wanted
}

/// One texture training step on fixed exemplars, for `benches/model.rs` (not part of the API):
/// the same [`Run::step`] `train_texture` runs, without files or progress.
#[doc(hidden)]
pub struct TextureBenchStep {
    run: Run<'static>,
    nets: Nets,
    style: StyleNet,
    step: u64,
}

impl TextureBenchStep {
    /// Fresh nets for `s` (its `data` is required; `out` is ignored).
    pub fn new(s: TextureSettings) -> Result<TextureBenchStep> {
        s.validate()?;
        // made once per bench process; the run borrows its settings for as long as it lives
        let s: &'static TextureSettings = Box::leak(Box::new(TextureSettings { out: None, ..s }));
        let run = Run::new(s, None)?;
        let (nets, step) = run.start()?;
        let style = StyleNet::new(&run.dev, &run.arch).map_err(ml_err)?;
        Ok(TextureBenchStep { run, nets, style, step })
    }

    /// Runs one discriminator and one generator update; the named losses.
    pub fn run(&mut self) -> Result<Vec<(&'static str, f64)>> {
        let losses = self.run.step(&mut self.nets, &self.style, self.step)?;
        self.step += 1;
        Ok(losses)
    }

    /// The model of the current moving-average generator (for sampling benchmarks).
    pub fn model(&self) -> Model {
        self.run.model(&self.nets, self.step)
    }
}
