//! `kiln train vae|gan --data DIR --out FILE.safetensors ...`: train a model with a progress bar.
//!
//! Flags → [`TrainOptions`] → `kiln::train_vae`/`train_gan`. The bar (indicatif) shows epoch,
//! step, losses, steps/s and ETA, and draws nothing when stderr is not a terminal. Ctrl-C sets
//! the run's cancel flag: training writes a resumable checkpoint and stops (exit 130); a second
//! Ctrl-C quits at once. Exit codes: 0 done, 1 training failed, 2 usage error, 130 cancelled.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{EXIT_SCRIPT, EXIT_USAGE};
use crate::error::Error;
use crate::model::{Data, Device, Event, Progress, TrainOptions};

/// Which model to train.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindArg {
    /// Variational autoencoder: sample, encode, decode, reconstruct.
    Vae,
    /// Generative adversarial network: sample and decode.
    Gan,
}

/// Where tensors live.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceArg {
    Cpu,
    Cuda,
}

#[derive(Args, Debug)]
pub struct TrainArgs {
    /// vae or gan.
    #[arg(value_enum)]
    pub kind: KindArg,
    /// Folder of training images (searched recursively; any format kiln reads; each is
    /// centre-cropped and resized to --size).
    #[arg(long)]
    pub data: PathBuf,
    /// Image side: a power of two from 8 to 128.
    #[arg(long, default_value_t = 32)]
    pub size: u32,
    /// Latent dimensions.
    #[arg(long, default_value_t = 64)]
    pub latent: usize,
    /// Channels of the outermost convolution (deeper layers double it, up to 8×).
    #[arg(long, default_value_t = 32)]
    pub width: usize,
    /// Passes over the training images.
    #[arg(long, default_value_t = 20)]
    pub epochs: usize,
    /// Images per step.
    #[arg(long, default_value_t = 64)]
    pub batch: usize,
    /// Adam learning rate (default 0.001 for a VAE, 0.0002 for a GAN).
    #[arg(long)]
    pub lr: Option<f64>,
    /// Seed for weights, data order and noise: the same seed gives the same model.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// The model file to write (.safetensors); NAME.ckpt.safetensors and NAME.samples.png go
    /// next to it.
    #[arg(long)]
    pub out: PathBuf,
    /// Continue from the checkpoint next to --out.
    #[arg(long)]
    pub resume: bool,
    /// Fraction of the images held out for the final metrics.
    #[arg(long, default_value_t = 0.1)]
    pub holdout: f64,
    /// Weight of the KL term (VAE).
    #[arg(long, default_value_t = 1.0)]
    pub beta: f64,
    /// VAE: components of the Gaussian mixture fitted to the training latents after training,
    /// which sampling draws from; 0 samples the standard normal [default: 16, fewer for small
    /// data sets].
    #[arg(long)]
    pub prior: Option<usize>,
    /// Write a sample grid every N steps (0: only at the end).
    #[arg(long, default_value_t = 500)]
    pub sample_every: usize,
    /// Write a resumable checkpoint every N steps (0: only at the end or on Ctrl-C).
    #[arg(long, default_value_t = 1000)]
    pub checkpoint_every: usize,
    /// Do not flip training images left-right.
    #[arg(long)]
    pub no_flip: bool,
    /// cpu, or cuda (needs a build with the `cuda` feature).
    #[arg(long, value_enum, default_value_t = DeviceArg::Cpu)]
    pub device: DeviceArg,
    /// Worker threads (default: all cores). The result does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
}

/// Runs `kiln train`.
pub fn run(args: TrainArgs) -> ExitCode {
    match train(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("kiln train: {e:#}");
            let code = match e.downcast_ref::<Error>() {
                Some(Error::Parameter { .. }) | Some(Error::Disabled(_)) => EXIT_USAGE,
                Some(Error::Cancelled(_)) => 130,
                _ => EXIT_SCRIPT,
            };
            ExitCode::from(code)
        }
    }
}

static CANCEL: AtomicBool = AtomicBool::new(false);

#[cfg(unix)]
extern "C" fn on_sigint(_: libc::c_int) {
    if CANCEL.swap(true, Ordering::SeqCst) {
        // second Ctrl-C: leave now (the checkpoint files are written atomically)
        unsafe { libc::_exit(130) };
    }
}

/// Routes Ctrl-C to `flag` for the rest of the process.
fn watch_ctrl_c(flag: Arc<AtomicBool>) {
    #[cfg(unix)]
    // SAFETY: the handler only touches an atomic and calls the async-signal-safe `_exit`.
    unsafe {
        libc::signal(libc::SIGINT, on_sigint as extern "C" fn(libc::c_int) as libc::sighandler_t);
    }
    std::thread::spawn(move || loop {
        if CANCEL.load(Ordering::Relaxed) {
            flag.store(true, Ordering::Relaxed);
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    });
}

fn train(args: TrainArgs) -> anyhow::Result<ExitCode> {
    if let Some(threads) = args.threads {
        if threads == 0 {
            eprintln!("kiln train: --threads must be at least 1");
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        // a second call fails harmlessly when a pool already exists
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    }
    if !args.data.is_dir() {
        eprintln!("kiln train: --data {} is not a folder", args.data.display());
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let mut opts = TrainOptions::new(Data::Folder(args.data.clone()));
    opts.size = args.size;
    opts.latent = args.latent;
    opts.width = args.width;
    opts.epochs = args.epochs;
    opts.batch = args.batch;
    opts.lr = args.lr.unwrap_or(if args.kind == KindArg::Gan { 2e-4 } else { 1e-3 });
    opts.seed = args.seed;
    opts.out = Some(args.out.clone());
    opts.resume = args.resume;
    opts.holdout = args.holdout;
    opts.beta = args.beta;
    opts.prior = args.prior;
    opts.sample_every = args.sample_every;
    opts.checkpoint_every = args.checkpoint_every;
    opts.flip = !args.no_flip;
    opts.device = match args.device {
        DeviceArg::Cpu => Device::Cpu,
        DeviceArg::Cuda => Device::Cuda,
    };
    let cancel = Arc::new(AtomicBool::new(false));
    opts.cancel = Some(cancel.clone());
    watch_ctrl_c(cancel);
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }

    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30.cyan/blue}] {pos}/{len} {msg} {per_sec} ETA {eta}")?
            .progress_chars("=> "),
    );
    let mut on_progress = |p: &Progress| match &p.event {
        Event::Loaded { train, holdout } => {
            bar.println(format!("{train} training images, {holdout} held out"));
            bar.set_length(p.total_steps);
            bar.set_position(p.step);
            bar.reset_eta();
        }
        Event::Step => {
            bar.set_position(p.step);
            bar.set_prefix(format!("epoch {}/{}", (p.epoch + 1).min(p.epochs), p.epochs));
            let losses: Vec<String> = p.losses.iter().map(|(k, v)| format!("{k} {v:.4}")).collect();
            bar.set_message(losses.join(" "));
        }
        Event::SampleGrid(path) | Event::Checkpoint(path) => {
            if !bar.is_hidden() {
                bar.println(format!("step {}: wrote {}", p.step, path.display()));
            }
        }
    };
    let result = match args.kind {
        KindArg::Vae => crate::model::train_vae(&opts, &mut on_progress),
        KindArg::Gan => crate::model::train_gan(&opts, &mut on_progress),
    };
    bar.finish_and_clear();
    let (model, metrics) = result?;
    println!("{}", metrics);
    println!("wrote {} ({:?}, {} weights)", args.out.display(), model, model.parameter_count());
    Ok(ExitCode::SUCCESS)
}
