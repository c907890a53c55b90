//! `kiln train spatial-vae --data DIR_OR_IMAGE --patch 64 --steps N --out FILE`: the spatial
//! VAE's flags and run, beside the 32² models' (`train.rs`, which dispatches here).
//!
//! Flags → [`SpatialTrainSettings`] (the model room's defaults, ranges and doc lines, shared
//! with `train_spatial_vae(#{ ... })`) → `kiln::train_spatial_vae`. The 32²-only flags (`--size`,
//! `--latent`, `--epochs`, `--holdout`, `--beta`, `--prior`) and the texture model's are usage
//! errors here, not ignored.
//! Progress, Ctrl-C and exit codes are those of `train.rs`.

use clap::Args;

use super::train::{DeviceArg, TrainArgs};
use crate::model::{Data, Device, SpatialTrainSettings};
use crate::options::{OptionSet, OptionValue};

/// `--help` text of a spatial setting: its doc line, default and range from the option set.
fn help(key: &str) -> String {
    super::train::key_help::<SpatialTrainSettings>(key, "")
}

/// The flags only `kiln train spatial-vae` reads.
#[derive(Args, Debug, Default)]
pub struct SpatialFlags {
    #[arg(long, help = help("factor"))]
    pub factor: Option<u32>,
    #[arg(long, help = help("channels"))]
    pub channels: Option<usize>,
    #[arg(long, help = help("blocks"))]
    pub blocks: Option<usize>,
    #[arg(long, help = help("edge"))]
    pub edge: Option<f64>,
    #[arg(long, help = help("kl"))]
    pub kl: Option<f64>,
}

impl SpatialFlags {
    /// The first spatial-only flag given, if any (other kinds refuse them rather than ignore them).
    pub fn first_given(&self) -> Option<&'static str> {
        super::train::first_given(&[
            ("--factor", self.factor.is_some()),
            ("--channels", self.channels.is_some()),
            ("--blocks", self.blocks.is_some()),
            ("--edge", self.edge.is_some()),
            ("--kl", self.kl.is_some()),
        ])
    }
}

/// The flags over the spatial VAE's defaults, range-checked like a script's option map.
pub fn settings(args: &TrainArgs) -> crate::error::Result<SpatialTrainSettings> {
    let bad = |flag: &str| {
        Err(crate::error::Error::param(
            "train_spatial_vae",
            format!("--{flag} is for the 32x32 vae and gan; a spatial-vae trains on --patch crops for --steps steps"),
        ))
    };
    if let Some(flag) = args.texture.first_given() {
        return Err(crate::error::Error::param("train_spatial_vae", format!("{flag} is for texture models")));
    }
    for (flag, given) in [
        ("size", args.size.is_some()),
        ("latent", args.latent.is_some()),
        ("epochs", args.epochs.is_some()),
        ("holdout", args.holdout.is_some()),
        ("beta", args.beta.is_some()),
        ("prior", args.prior.is_some()),
    ] {
        if given {
            return bad(flag);
        }
    }
    let mut s = SpatialTrainSettings {
        data: Some(Data::Folder(args.data.clone())),
        out: Some(args.out.clone()),
        ..SpatialTrainSettings::default()
    };
    let f = &args.spatial;
    let whole = |v: Option<usize>| v.map(|n| OptionValue::Int(n as i64));
    let pairs = [
        ("patch", args.patch.map(|n| OptionValue::Int(n as i64))),
        ("steps", whole(args.steps)),
        ("factor", f.factor.map(|n| OptionValue::Int(n as i64))),
        ("channels", whole(f.channels)),
        ("blocks", whole(f.blocks)),
        ("edge", f.edge.map(OptionValue::Float)),
        ("kl", f.kl.map(OptionValue::Float)),
        ("width", whole(args.width)),
        ("batch", whole(args.batch)),
        ("lr", args.lr.map(OptionValue::Float)),
        ("seed", args.seed.map(|n| OptionValue::Int(n as i64))),
        ("sample_every", whole(args.sample_every)),
        ("checkpoint_every", whole(args.checkpoint_every)),
        ("resume", args.resume.then_some(OptionValue::Bool(true))),
        ("flip", args.no_flip.then_some(OptionValue::Bool(false))),
    ];
    for (key, value) in pairs {
        if let Some(v) = value {
            s.set(key, &v)?;
        }
    }
    if let Some(d) = args.device {
        s.device = match d {
            DeviceArg::Cpu => Device::Cpu,
            DeviceArg::Cuda => Device::Cuda,
        };
    }
    s.validate()?;
    Ok(s)
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

    fn read(flags: &[&str]) -> crate::error::Result<SpatialTrainSettings> {
        let argv =
            ["kiln-train", "spatial-vae"].iter().chain(flags).chain(&["--data", "d.png", "--out", "m.safetensors"]);
        settings(&Cli::try_parse_from(argv).unwrap().args)
    }

    #[test]
    fn flags_over_the_option_sets_defaults() {
        let s = read(&[]).unwrap();
        let expected = SpatialTrainSettings {
            data: Some(Data::Folder("d.png".into())),
            out: Some("m.safetensors".into()),
            ..SpatialTrainSettings::default()
        };
        assert_eq!(s, expected);
        let s = read(&["--patch", "32", "--steps", "10", "--factor", "8", "--width", "16", "--resume", "--no-flip"])
            .unwrap();
        assert_eq!((s.patch, s.steps, s.factor, s.width, s.resume, s.flip), (32, 10, 8, 16, true, false));
        let e = read(&["--epochs", "3"]).unwrap_err().to_string();
        assert!(e.starts_with("train_spatial_vae: --epochs is for the 32x32 vae and gan"), "{e}");
        // a texture model's flags are refused, not ignored
        let e = read(&["--lecam", "0.3"]).unwrap_err().to_string();
        assert_eq!(e, "train_spatial_vae: --lecam is for texture models");
        let e = read(&["--patch", "20"]).unwrap_err().to_string();
        assert_eq!(e, "train_spatial_vae: option 'patch' must be a multiple of 8, got 20");
        assert!(help("patch").ends_with("[default: 64] [range: 16 to 512]"), "{}", help("patch"));
    }
}
