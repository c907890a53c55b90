//! `kiln run SCRIPT`: run a script once (or once per frame) and write its result.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;

use crate::cli::{EXIT_SCRIPT, EXIT_USAGE};
use crate::image::io::{self, SaveOptions};
use crate::image::Image;
use crate::script::{Host, RunConfig};

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The script to run.
    pub script: PathBuf,
    /// Write the script's result here (relative to the current folder). `####` numbers frames
    /// and multiple result images; a `.gif` with --frames writes an animation.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub common: crate::cli::ScriptArgs,
    /// Worker threads (default: all cores). Output is identical at any count.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Stop the script after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<f64>,
    /// Print the time spent in each phase to stderr.
    #[arg(long)]
    pub time: bool,
    /// Also write every `show()` panel into this folder.
    #[arg(long, value_name = "DIR")]
    pub show_dir: Option<PathBuf>,
    /// Render an animation of N frames (`frame()` runs 0..N).
    #[arg(long, default_value_t = 1)]
    pub frames: u32,
    /// Frames per second for `time()` and GIF output.
    #[arg(long, default_value_t = 30.0)]
    pub fps: f64,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_USAGE)
}

fn script_error(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("{msg}");
    ExitCode::from(EXIT_SCRIPT)
}

/// Validated `--set` pairs.
pub(crate) fn parse_sets(sets: &[String]) -> Result<Vec<(String, String)>, String> {
    sets.iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(format!("--set expects NAME=VALUE, got '{s}'")),
        })
        .collect()
}

/// The path for result image `index` of `count` at `frame`.
fn numbered(path: &Path, index: usize, count: usize) -> PathBuf {
    let text = path.to_string_lossy();
    if let Some(pos) = text.find('#') {
        let width = text[pos..].chars().take_while(|&c| c == '#').count();
        let rest = &text[pos + width..];
        return PathBuf::from(format!("{}{:0width$}{}", &text[..pos], index, rest));
    }
    if count <= 1 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!("{stem}-{index}{ext}"))
}

/// `path` with `-index` before the extension, for index > 0.
fn with_suffix(path: &Path, index: usize) -> PathBuf {
    if index == 0 {
        return path.to_path_buf();
    }
    let stem = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
    let ext = path.extension().map(|e| format!(".{}", e.to_string_lossy())).unwrap_or_default();
    path.with_file_name(format!("{stem}-{index}{ext}"))
}

pub fn run(args: RunArgs) -> ExitCode {
    let params = match parse_sets(&args.common.set) {
        Ok(p) => p,
        Err(e) => return usage(e),
    };
    if !args.script.is_file() {
        return usage(format!("{}: no such script file", args.script.display()));
    }
    if let Some(t) = args.timeout {
        if !(t.is_finite() && t > 0.0) {
            return usage(format!("--timeout must be a positive number of seconds, got {t}"));
        }
    }
    if !(args.fps.is_finite() && args.fps > 0.0) || args.frames == 0 {
        return usage("--fps must be positive and --frames at least 1");
    }
    if let Some(n) = args.threads {
        if n == 0 || rayon::ThreadPoolBuilder::new().num_threads(n).build_global().is_err() {
            return usage(format!("--threads {n}: cannot start that many worker threads"));
        }
    }
    let mut limits = match crate::cli::prepare_run(args.common.out.as_deref(), args.common.max_pixels) {
        Ok(l) => l,
        Err(e) => return usage(e),
    };
    limits.deadline = args.timeout.map(Duration::from_secs_f64);

    let total = Instant::now();
    let host = Host::new(limits.clone());
    let compiled = match host.compile_file(&args.script) {
        Ok(c) => c,
        Err(e) => return script_error(e),
    };
    let gif = args.output.as_ref().is_some_and(|o| o.extension().is_some_and(|e| e.eq_ignore_ascii_case("gif")));
    let mut gif_frames = Vec::new();
    let (mut run_time, mut encode_time) = (Duration::ZERO, Duration::ZERO);
    for frame in 0..args.frames {
        let config = RunConfig {
            script: args.script.clone(),
            out_dir: args.common.out.clone(),
            allow_read: args.common.allow_read.clone(),
            seed: args.common.seed,
            params: params.clone(),
            frame: frame as i64,
            fps: args.fps,
            timeout: limits.deadline,
            cancel: None,
        };
        let outcome = match host.run(&compiled, config) {
            Ok(o) => o,
            Err(e) => return script_error(e),
        };
        run_time += outcome.run_time;
        let encode_start = Instant::now();
        if let Some(dir) = &args.show_dir {
            if let Err(e) = write_panels(dir, &outcome.shown, frame, args.frames) {
                return script_error(e);
            }
        }
        if let Some(out) = &args.output {
            if outcome.images.is_empty() {
                return script_error(format!(
                    "{}: the script produced no image to write to {} (its last expression must be an Image or an array of Images)",
                    args.script.display(),
                    out.display()
                ));
            }
            if gif && args.frames > 1 {
                gif_frames.push(outcome.images[0].clone());
            } else {
                let count = outcome.images.len();
                for (i, img) in outcome.images.iter().enumerate() {
                    // One file per frame; a frame's extra result images get `-1`, `-2`... so
                    // they do not overwrite the first.
                    let path = if args.frames > 1 {
                        with_suffix(&numbered(out, frame as usize, args.frames as usize), i)
                    } else {
                        numbered(out, i, count)
                    };
                    if let Err(e) = write_output(&path, img) {
                        return script_error(e);
                    }
                }
            }
        }
        encode_time += encode_start.elapsed();
    }
    if let (Some(out), false) = (&args.output, gif_frames.is_empty()) {
        let start = Instant::now();
        if let Err(e) = io::save_gif_animation(&gif_frames, args.fps, out) {
            return script_error(e);
        }
        encode_time += start.elapsed();
    }
    if args.time {
        eprintln!(
            "compile {:.1} ms, run {:.1} ms, encode {:.1} ms, total {:.1} ms",
            compiled.compile_time.as_secs_f64() * 1e3,
            run_time.as_secs_f64() * 1e3,
            encode_time.as_secs_f64() * 1e3,
            total.elapsed().as_secs_f64() * 1e3
        );
    }
    ExitCode::SUCCESS
}

fn write_output(path: &Path, img: &Image) -> crate::error::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| crate::error::Error::io(parent, e))?;
    }
    io::save(img, path, &SaveOptions::default())
}

fn write_panels(dir: &Path, shown: &[(String, Image)], frame: u32, frames: u32) -> crate::error::Result<()> {
    for (i, (label, img)) in shown.iter().enumerate() {
        let safe: String = label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let name = if frames > 1 { format!("{i:02}-{safe}-{frame:04}.png") } else { format!("{i:02}-{safe}.png") };
        write_output(&dir.join(name), img)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_number_outputs() {
        assert_eq!(numbered(Path::new("out/f_####.png"), 7, 10), PathBuf::from("out/f_0007.png"));
        assert_eq!(numbered(Path::new("a.png"), 1, 3), PathBuf::from("a-1.png"));
        assert_eq!(numbered(Path::new("a.png"), 0, 1), PathBuf::from("a.png"));
    }

    #[test]
    fn extra_images_of_a_frame_get_a_suffix() {
        let p = numbered(Path::new("out/f_####.png"), 3, 10);
        assert_eq!(with_suffix(&p, 0), PathBuf::from("out/f_0003.png"));
        assert_eq!(with_suffix(&p, 2), PathBuf::from("out/f_0003-2.png"));
    }

    #[test]
    fn set_needs_a_name() {
        assert!(parse_sets(&["=3".into()]).is_err());
        assert_eq!(parse_sets(&["a=b=c".into()]).unwrap(), vec![("a".into(), "b=c".into())]);
    }
}
