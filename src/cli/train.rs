//! `kiln train vae|gan --data DIR --out FILE.safetensors ...`: train a model with a progress bar.
//!
//! Flags → [`TrainSettings`] (the model room's defaults, ranges and doc lines, shared with
//! `train_vae(#{ ... })`) → [`TrainOptions`] → `kiln::train_vae`/`train_gan`. Progress goes to
//! stderr: at a terminal an indicatif bar shows epoch, step, losses, time per step and ETA;
//! elsewhere (a log file, CI) a plain line does, every `--log-every` steps (default 5 % of the
//! run) or every 30 s, whichever comes first. Both read the reports through
//! [`crate::model::progress`] (smoothed time per step of this process, warnings such as a
//! holdout too small for its metrics). The final metrics go to stdout. Ctrl-C sets
//! the run's cancel flag: training writes a resumable checkpoint and stops (exit 130); a second
//! Ctrl-C quits at once. Exit codes: 0 done, 1 training failed, 2 usage error, 130 cancelled.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{EXIT_SCRIPT, EXIT_USAGE};
use crate::error::Error;
use crate::model::progress::{epoch_text, losses_text, PlainLog};
use crate::model::{
    Data, Device, Event, GanTrainSettings, Kind, Progress, SpatialTrainOptions, SpatialTrainSettings, TextureSettings,
    TrainOptions, TrainSettings,
};
use crate::options::{show_number, KeySpec, OptionSet, OptionValue};

/// Which model to train.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindArg {
    /// Variational autoencoder: sample, encode, decode, reconstruct.
    Vae,
    /// Generative adversarial network: sample and decode.
    Gan,
    /// Texture GAN (kind texture_gan): learns one or more exemplars (--data is an image or a
    /// folder), samples any size, tileable.
    Texture,
    /// Spatial VAE: encode and decode images of any size through a latent map (flags: see
    /// "spatial-vae" below; --data may be one image).
    SpatialVae,
}

/// Where tensors live.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceArg {
    Cpu,
    Cuda,
}

/// `--help` text of a setting: its doc line and default from the model room's option set
/// ([`TrainSettings`]), so the flags cannot drift from `train_vae(#{ ... })`.
fn help(key: &str) -> String {
    let keys = TrainSettings::keys();
    let Some(k) = keys.iter().find(|k| k.name == key) else { return String::new() };
    let shown = |k: &KeySpec| k.default.trim_matches('"').to_string();
    let default = if key == "lr" {
        let of = |keys: Vec<KeySpec>| keys.iter().find(|k| k.name == key).map(shown).unwrap_or_default();
        let (gan, texture) = (of(GanTrainSettings::keys()), of(TextureSettings::keys()));
        let spatial = of(SpatialTrainSettings::keys());
        format!(
            " [default: {} for a VAE, {gan} for a GAN, {texture} for a texture model, {spatial} for a spatial VAE]",
            shown(k)
        )
    } else if k.default == "-" {
        String::new()
    } else {
        format!(" [default: {}]", shown(k))
    };
    format!("{}{default}{}", k.doc.trim(), range_text(k))
}

/// " [range: LO to HI]" of a key, or nothing.
fn range_text(k: &KeySpec) -> String {
    k.range.map(|(lo, hi)| format!(" [range: {} to {}]", show_number(lo), show_number(hi))).unwrap_or_default()
}

/// `--help` text of setting `key` of the option set `T` (the step-based kinds' flags): its doc
/// line, default (labelled `label`) and range, so the flags cannot drift from the script options.
pub(super) fn key_help<T: OptionSet>(key: &str, label: &str) -> String {
    let keys = T::keys();
    let Some(k) = keys.iter().find(|k| k.name == key) else { return String::new() };
    format!("{} [{label}default: {}]{}", k.doc.trim(), k.default.trim_matches('"'), range_text(k))
}

/// The flags of `kiln train`. Every setting is optional: an absent one keeps the default of
/// [`TrainSettings::for_kind`].
#[derive(Args, Debug)]
pub struct TrainArgs {
    /// vae, gan, texture or spatial-vae.
    #[arg(value_enum)]
    pub kind: KindArg,
    /// Folder of training images (searched recursively; any format kiln reads; each is
    /// centre-cropped and resized to --size). texture: an exemplar image or a folder of
    /// exemplars (one texture each); spatial-vae: a folder or one image, of any sizes; both
    /// train on random --patch crops.
    #[arg(long)]
    pub data: PathBuf,
    /// The model file to write (.safetensors); NAME.ckpt.safetensors and NAME.samples.png go
    /// next to it.
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, help = help("size"))]
    pub size: Option<u32>,
    #[arg(long, help = help("latent"))]
    pub latent: Option<usize>,
    #[arg(long, help = help("width"))]
    pub width: Option<usize>,
    #[arg(long, help = help("epochs"))]
    pub epochs: Option<usize>,
    #[arg(long, help = help("batch"))]
    pub batch: Option<usize>,
    #[arg(long, help = help("lr"))]
    pub lr: Option<f64>,
    #[arg(long, help = help("seed"))]
    pub seed: Option<u64>,
    /// Continue from the checkpoint next to --out.
    #[arg(long)]
    pub resume: bool,
    #[arg(long, help = help("holdout"))]
    pub holdout: Option<f64>,
    #[arg(long, help = help("beta"))]
    pub beta: Option<f64>,
    #[arg(long, help = help("prior"))]
    pub prior: Option<usize>,
    #[arg(long, help = help("sample_every"))]
    pub sample_every: Option<usize>,
    #[arg(long, help = help("checkpoint_every"))]
    pub checkpoint_every: Option<usize>,
    /// Do not flip training images left-right.
    #[arg(long)]
    pub no_flip: bool,
    #[arg(long, value_enum, help = help("device"))]
    pub device: Option<DeviceArg>,
    /// texture and spatial-vae: side of the square crops trained on, a multiple of 8. texture:
    /// default 64; use 128 with `--batch 2` for structure over about 50 px (bricks, tiles,
    /// planks). spatial-vae: the default is in `kiln doc`, under `train_spatial_vae`.
    #[arg(long)]
    pub patch: Option<u32>,
    /// texture and spatial-vae: optimisation steps.
    #[arg(long)]
    pub steps: Option<usize>,
    #[command(flatten, next_help_heading = "texture")]
    pub texture: TextureArgs,
    /// Outside a terminal, print a progress line every this many steps (default: every 5% of
    /// the run), and at least every 30 s. At a terminal a progress bar is drawn instead.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub log_every: Option<u64>,
    /// Worker threads (default: all cores). The result does not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Memory budget for images and training batches, e.g. 512M or 2G (default: half of
    /// physical memory, at most 8G).
    #[arg(long, value_name = "SIZE", value_parser = crate::memory::parse_size)]
    pub max_memory: Option<u64>,
    // ---- spatial-vae only (train_spatial.rs) ----
    #[command(flatten, next_help_heading = "spatial-vae")]
    pub spatial: super::train_spatial::SpatialFlags,
}

/// `--help` text of a texture setting, from [`TextureSettings`].
fn texture_help(key: &str) -> String {
    key_help::<TextureSettings>(key, "texture; ")
}

/// The flags only `kiln train texture` takes.
#[derive(Args, Debug, Default)]
pub struct TextureArgs {
    #[arg(long, help = texture_help("minutes"))]
    pub minutes: Option<f64>,
    #[arg(long, help = texture_help("local"))]
    pub local: Option<usize>,
    #[arg(long, help = texture_help("global"))]
    pub global: Option<usize>,
    #[arg(long, help = texture_help("periodic"))]
    pub periodic: Option<usize>,
    #[arg(long, help = texture_help("depth"))]
    pub depth: Option<usize>,
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help = texture_help("detail_noise"))]
    pub detail_noise: Option<bool>,
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help = texture_help("detail_gate"))]
    pub detail_gate: Option<bool>,
    #[arg(long, help = texture_help("coarse"))]
    pub coarse: Option<usize>,
    #[arg(long, help = texture_help("critic_scales"))]
    pub critic_scales: Option<usize>,
    #[arg(long, value_name = "BOOL", num_args = 0..=1, default_missing_value = "true", help = texture_help("bilinear_upsample"))]
    pub bilinear_upsample: Option<bool>,
    #[arg(long, help = texture_help("lecam"))]
    pub lecam: Option<f64>,
    #[arg(long, help = texture_help("style"))]
    pub style: Option<f64>,
    #[arg(long, help = texture_help("adversarial"))]
    pub adversarial: Option<f64>,
    #[arg(long, help = texture_help("keep_every"))]
    pub keep_every: Option<usize>,
}

/// The first flag of `flags` (name, given) that was given.
pub(super) fn first_given(flags: &[(&'static str, bool)]) -> Option<&'static str> {
    flags.iter().find(|(_, given)| *given).map(|(flag, _)| *flag)
}

impl TextureArgs {
    /// The first texture-only flag given, if any (other kinds refuse them rather than ignore them).
    pub fn first_given(&self) -> Option<&'static str> {
        first_given(&[
            ("--minutes", self.minutes.is_some()),
            ("--local", self.local.is_some()),
            ("--global", self.global.is_some()),
            ("--periodic", self.periodic.is_some()),
            ("--depth", self.depth.is_some()),
            ("--detail-noise", self.detail_noise.is_some()),
            ("--detail-gate", self.detail_gate.is_some()),
            ("--coarse", self.coarse.is_some()),
            ("--critic-scales", self.critic_scales.is_some()),
            ("--bilinear-upsample", self.bilinear_upsample.is_some()),
            ("--lecam", self.lecam.is_some()),
            ("--style", self.style.is_some()),
            ("--adversarial", self.adversarial.is_some()),
            ("--keep-every", self.keep_every.is_some()),
        ])
    }
}

impl TrainArgs {
    /// The model kind.
    fn kind(&self) -> Kind {
        match self.kind {
            KindArg::Vae => Kind::Vae,
            KindArg::Gan => Kind::Gan,
            KindArg::Texture => Kind::TextureGan,
            KindArg::SpatialVae => Kind::SpatialVae,
        }
    }

    /// The flags over a texture model's defaults; flags of the 32² models are refused.
    fn texture_settings(&self) -> crate::error::Result<TextureSettings> {
        let refused = [
            ("--size", self.size.is_some()),
            ("--latent", self.latent.is_some()),
            ("--epochs", self.epochs.is_some()),
            ("--holdout", self.holdout.is_some()),
            ("--beta", self.beta.is_some()),
            ("--prior", self.prior.is_some()),
            ("--no-flip", self.no_flip),
        ];
        if let Some(flag) = first_given(&refused) {
            return Err(Error::param(
                "train_texture",
                format!("{flag} is for vae and gan models; texture models train on --patch crops for --steps"),
            ));
        }
        if let Some(flag) = self.spatial.first_given() {
            return Err(Error::param("train_texture", format!("{flag} is for spatial-vae models")));
        }
        let mut s = TextureSettings {
            data: Some(Data::Folder(self.data.clone())),
            out: Some(self.out.clone()),
            ..TextureSettings::default()
        };
        let t = &self.texture;
        let whole = |v: Option<usize>| v.map(|n| OptionValue::Int(n as i64));
        let pairs = [
            ("patch", self.patch.map(|n| OptionValue::Int(n as i64))),
            ("steps", whole(self.steps)),
            ("minutes", t.minutes.map(OptionValue::Float)),
            ("local", whole(t.local)),
            ("global", whole(t.global)),
            ("periodic", whole(t.periodic)),
            ("depth", whole(t.depth)),
            ("detail_noise", t.detail_noise.map(OptionValue::Bool)),
            ("detail_gate", t.detail_gate.map(OptionValue::Bool)),
            ("coarse", whole(t.coarse)),
            ("critic_scales", whole(t.critic_scales)),
            ("bilinear_upsample", t.bilinear_upsample.map(OptionValue::Bool)),
            ("lecam", t.lecam.map(OptionValue::Float)),
            ("style", t.style.map(OptionValue::Float)),
            ("adversarial", t.adversarial.map(OptionValue::Float)),
            ("keep_every", whole(t.keep_every)),
            ("width", whole(self.width)),
            ("batch", whole(self.batch)),
            ("lr", self.lr.map(OptionValue::Float)),
            ("seed", self.seed.map(|n| OptionValue::Int(n as i64))),
            ("sample_every", whole(self.sample_every)),
            ("checkpoint_every", whole(self.checkpoint_every)),
            ("resume", self.resume.then_some(OptionValue::Bool(true))),
        ];
        for (key, value) in pairs {
            if let Some(v) = value {
                s.set(key, &v)?;
            }
        }
        if let Some(DeviceArg::Cuda) = self.device {
            s.device = Device::Cuda;
        }
        Ok(s)
    }

    /// The flags over the kind's defaults, range-checked like a script's option map.
    fn settings(&self) -> crate::error::Result<TrainSettings> {
        let refuse = |flag: &str, kinds: &str| {
            Err(Error::param(self.kind().train_op(), format!("{flag} is for {kinds} models")))
        };
        let cropped = [("--patch", self.patch.is_some()), ("--steps", self.steps.is_some())];
        if let Some(flag) = first_given(&cropped) {
            return refuse(flag, "texture and spatial-vae");
        }
        if let Some(flag) = self.texture.first_given() {
            return refuse(flag, "texture");
        }
        if let Some(flag) = self.spatial.first_given() {
            return refuse(flag, "spatial-vae");
        }
        let mut s = TrainSettings::for_kind(self.kind());
        s.data = Some(Data::Folder(self.data.clone()));
        s.out = Some(self.out.clone());
        let kind = self.kind();
        let mut set = |key: &str, value: Option<OptionValue>| match value {
            Some(v) => s.set_for(kind, key, &v),
            None => Ok(()),
        };
        let whole = |v: Option<usize>| v.map(|n| OptionValue::Int(n as i64));
        set("size", self.size.map(|n| OptionValue::Int(n as i64)))?;
        set("latent", whole(self.latent))?;
        set("width", whole(self.width))?;
        set("epochs", whole(self.epochs))?;
        set("batch", whole(self.batch))?;
        set("lr", self.lr.map(OptionValue::Float))?;
        set("seed", self.seed.map(|n| OptionValue::Int(n as i64)))?;
        set("holdout", self.holdout.map(OptionValue::Float))?;
        set("beta", self.beta.map(OptionValue::Float))?;
        set("prior", whole(self.prior))?;
        set("sample_every", whole(self.sample_every))?;
        set("checkpoint_every", whole(self.checkpoint_every))?;
        set("resume", self.resume.then_some(OptionValue::Bool(true)))?;
        set("flip", self.no_flip.then_some(OptionValue::Bool(false)))?;
        let device = self.device.map(|d| match d {
            DeviceArg::Cpu => Device::Cpu,
            DeviceArg::Cuda => Device::Cuda,
        });
        if let Some(device) = device {
            s.device = device;
        }
        Ok(s)
    }
}

/// Runs `kiln train`.
pub fn run(args: TrainArgs) -> ExitCode {
    crate::memory::set_budget(args.max_memory.unwrap_or(0));
    match train(args) {
        Ok(code) => code,
        Err(e) => {
            crate::console::err(format_args!("kiln train: {e:#}"));
            let code = match e.downcast_ref::<Error>() {
                Some(Error::Parameter { .. }) | Some(Error::Disabled(_)) => EXIT_USAGE,
                Some(Error::Cancelled(_)) => 130,
                _ => EXIT_SCRIPT,
            };
            ExitCode::from(code)
        }
    }
}

/// One run of `kiln train`, with the settings of its kind.
enum Job {
    Texture(TextureSettings),
    Spatial(SpatialTrainOptions),
    /// The 32² VAE or GAN.
    Small(Kind, TrainOptions),
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
            crate::console::err(format_args!("kiln train: --threads must be at least 1"));
            return Ok(ExitCode::from(EXIT_USAGE));
        }
        // a second call fails harmlessly when a pool already exists
        let _ = rayon::ThreadPoolBuilder::new().num_threads(threads).build_global();
    }
    let one_image_ok = matches!(args.kind, KindArg::Texture | KindArg::SpatialVae);
    let usable = args.data.is_dir() || (one_image_ok && args.data.is_file());
    if !usable {
        let wanted = if one_image_ok { "an image file or a folder" } else { "a folder" };
        crate::console::err(format_args!("kiln train: --data {} is not {wanted}", args.data.display()));
        return Ok(ExitCode::from(EXIT_USAGE));
    }
    let cancel = Arc::new(AtomicBool::new(false));
    // every kind's settings are read (and refused) before anything runs
    let job = match args.kind {
        KindArg::Texture => Job::Texture(args.texture_settings()?),
        KindArg::SpatialVae => Job::Spatial(SpatialTrainOptions {
            settings: super::train_spatial::settings(&args)?,
            cancel: Some(cancel.clone()),
        }),
        KindArg::Vae | KindArg::Gan => {
            Job::Small(args.kind(), TrainOptions { settings: args.settings()?, cancel: Some(cancel.clone()) })
        }
    };
    watch_ctrl_c(cancel.clone());
    if let Some(parent) = args.out.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }

    // the bar and the plain lines both go to stderr; indicatif would hide the bar off a terminal
    let plain = !std::io::stderr().is_terminal();
    let bar = if plain { ProgressBar::hidden() } else { ProgressBar::new(0) };
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30.cyan/blue}] {pos}/{len} {msg}")?.progress_chars("=> "),
    );
    let mut log = PlainLog::new(args.log_every);
    let mut on_progress = |p: &Progress| {
        let line = log.line(p);
        if plain {
            if let Some(line) = line {
                crate::console::err(line);
            }
            return;
        }
        if let Event::Loaded { .. } = p.event {
            bar.set_length(p.total_steps);
            bar.set_position(p.step);
        }
        if p.event == Event::Step {
            bar.set_position(p.step);
            bar.set_prefix(epoch_text(p));
            let timing = log.timer().describe(p.total_steps.saturating_sub(p.step));
            bar.set_message(format!("{}  {timing}", losses_text(p)).trim().to_string());
        } else if let Some(line) = line {
            bar.println(line);
        }
    };
    let result = match &job {
        Job::Texture(s) => crate::model::train_texture(s, Some(&cancel), &mut on_progress),
        Job::Spatial(spatial) => crate::model::train_spatial_vae(spatial, &mut on_progress),
        Job::Small(Kind::Vae, opts) => crate::model::train_vae(opts, &mut on_progress),
        Job::Small(_, opts) => crate::model::train_gan(opts, &mut on_progress),
    };
    bar.finish_and_clear();
    let (model, metrics) = result?;
    crate::console::out_line(format_args!("{}", metrics));
    crate::console::out_line(format_args!(
        "wrote {} ({:?}, {} weights)",
        args.out.display(),
        model,
        model.parameter_count()
    ));
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: TrainArgs,
    }

    fn settings(flags: &[&str]) -> crate::error::Result<TrainSettings> {
        let argv = ["kiln-train"].iter().chain(flags).chain(&["--data", "d", "--out", "m.safetensors"]);
        Cli::try_parse_from(argv).unwrap().args.settings()
    }

    #[test]
    fn absent_flags_keep_the_model_rooms_defaults() {
        let with_paths = |kind| TrainSettings {
            data: Some(Data::Folder("d".into())),
            out: Some("m.safetensors".into()),
            ..TrainSettings::for_kind(kind)
        };
        assert_eq!(settings(&["vae"]).unwrap(), with_paths(Kind::Vae));
        assert_eq!(settings(&["gan"]).unwrap(), with_paths(Kind::Gan));
        let s =
            settings(&["gan", "--epochs", "3", "--no-flip", "--resume", "--seed", "7", "--device", "cuda"]).unwrap();
        assert_eq!((s.epochs, s.flip, s.resume, s.seed, s.device), (3, false, true, Some(7), Device::Cuda));
        let e = settings(&["gan", "--size", "256"]).unwrap_err().to_string();
        assert_eq!(e, "train_gan: option 'size' must be between 8 and 128, got 256");
    }

    #[test]
    fn detail_noise_alone_turns_it_on_and_takes_a_value() {
        let texture = |flags: &[&str]| {
            let argv = ["kiln-train", "texture"].iter().chain(flags).chain(&["--data", "d", "--out", "m.safetensors"]);
            Cli::try_parse_from(argv).unwrap().args.texture_settings().unwrap().detail_noise
        };
        assert!(!texture(&[]));
        assert!(texture(&["--detail-noise"]));
        assert!(texture(&["--detail-noise", "true"]));
        assert!(!texture(&["--detail-noise=false"]));
        let e = settings(&["vae", "--detail-noise"]).unwrap_err().to_string();
        assert!(e.ends_with("--detail-noise is for texture models"), "{e}");
        let argv = ["kiln-train", "texture", "--coarse", "8", "--data", "d", "--out", "m.safetensors"];
        assert_eq!(Cli::try_parse_from(argv).unwrap().args.texture_settings().unwrap().coarse, 8);
        let e = settings(&["spatial-vae", "--coarse", "8"]).unwrap_err().to_string();
        assert!(e.ends_with("--coarse is for texture models"), "{e}");
        let argv = ["kiln-train", "texture", "--critic-scales", "2", "--data", "d", "--out", "m.safetensors"];
        assert_eq!(Cli::try_parse_from(argv).unwrap().args.texture_settings().unwrap().critic_scales, 2);
        let e = settings(&["vae", "--critic-scales", "2"]).unwrap_err().to_string();
        assert!(e.ends_with("--critic-scales is for texture models"), "{e}");
        let argv = ["kiln-train", "texture", "--bilinear-upsample", "--data", "d", "--out", "m.safetensors"];
        assert!(Cli::try_parse_from(argv).unwrap().args.texture_settings().unwrap().bilinear_upsample);
        let e = settings(&["gan", "--bilinear-upsample"]).unwrap_err().to_string();
        assert!(e.ends_with("--bilinear-upsample is for texture models"), "{e}");
        let argv =
            ["kiln-train", "texture", "--detail-noise", "--detail-gate", "--data", "d", "--out", "m.safetensors"];
        assert!(Cli::try_parse_from(argv).unwrap().args.texture_settings().unwrap().detail_gate);
        let e = settings(&["vae", "--detail-gate"]).unwrap_err().to_string();
        assert!(e.ends_with("--detail-gate is for texture models"), "{e}");
        // each kind refuses the flags of the others instead of ignoring them
        let e = settings(&["gan", "--kl", "0.1"]).unwrap_err().to_string();
        assert!(e.ends_with("--kl is for spatial-vae models"), "{e}");
        let argv = ["kiln-train", "texture", "--factor", "8", "--data", "d", "--out", "m.safetensors"];
        let e = Cli::try_parse_from(argv).unwrap().args.texture_settings().unwrap_err().to_string();
        assert_eq!(e, "train_texture: --factor is for spatial-vae models");
    }

    #[test]
    fn help_shows_the_defaults_of_the_option_set() {
        assert!(help("size").ends_with("[default: 32] [range: 8 to 128]"), "{}", help("size"));
        assert!(help("device").ends_with("[default: cpu]"), "{}", help("device"));
        let lr = help("lr");
        assert!(
            lr.contains("0.001 for a VAE, 0.0002 for a GAN, 0.0005 for a texture model, 0.0015 for a spatial VAE]"),
            "{lr}"
        );
        assert!(!help("seed").contains("[default"), "{}", help("seed"));
    }
}
