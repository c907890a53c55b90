//! `kiln run SCRIPT`: run a script once (or once per frame) and write its result.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Args;

use crate::cli::{EXIT_SCRIPT, EXIT_USAGE};
use crate::image::io::{self, SaveOptions};
use crate::image::Image;
use crate::recipe::Recipe;
use crate::script::{Host, Outcome, RunConfig};
use crate::Limits;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// The script to run.
    pub script: PathBuf,
    /// Write the script's result here (relative to the current folder). `####` numbers frames
    /// and multiple result images; a `.gif` with --frames writes an animation. A PBR-set result
    /// (a map with albedo and normal Images) writes one file per map: out_albedo.png, out_normal.png...
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
    /// Also write a Makefile-syntax depfile (for Ninja's `deps = gcc`, Make's `-include`) of
    /// every file the run read: the script, its imports, loaded images, models and fonts. Its
    /// target is the -o path as given (without -o, the files the script saved). Written only
    /// when the run succeeds.
    #[arg(long, value_name = "FILE")]
    pub depfile: Option<PathBuf>,
}

/// Why `kiln run` stops early, and so its exit code.
enum Fail {
    /// A usage error (exit 2): the flags, or a `--set` the script has no param for.
    Usage(String),
    /// A script error (exit 1): compile, runtime, or writing the result.
    Script(String),
}

impl Fail {
    fn script(e: impl std::fmt::Display) -> Fail {
        Fail::Script(e.to_string())
    }

    fn exit(self) -> ExitCode {
        match self {
            Fail::Usage(msg) => {
                crate::cli::write_err(format_args!("error: {msg}"));
                ExitCode::from(EXIT_USAGE)
            }
            Fail::Script(msg) => {
                crate::cli::write_err(msg);
                ExitCode::from(EXIT_SCRIPT)
            }
        }
    }
}

/// What a run collects across its frames.
#[derive(Default)]
struct Progress {
    run_time: Duration,
    encode_time: Duration,
    /// Frames of a `.gif` animation, written at the end.
    gif_frames: Vec<Image>,
    /// The sizes of the last frame's result images.
    sizes: Vec<(u32, u32)>,
    /// Every file the frames read, the script first (for `--depfile`).
    inputs: Vec<PathBuf>,
    /// Every file the frames saved (the depfile's targets when there is no -o).
    saved: Vec<PathBuf>,
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
    match validate(&args).and_then(|(config, limits)| execute(&args, config, limits)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(fail) => fail.exit(),
    }
}

/// Checks `kiln run`'s own flags, then the shared ones into the run's config: every usage error
/// is found here, before the script is compiled.
fn validate(args: &RunArgs) -> Result<(RunConfig, Limits), Fail> {
    if let Some(t) = args.timeout {
        if !(t.is_finite() && t > 0.0) {
            return Err(Fail::Usage(format!("--timeout must be a positive number of seconds, got {t}")));
        }
    }
    if !(args.fps.is_finite() && args.fps > 0.0) || args.frames == 0 {
        return Err(Fail::Usage("--fps must be positive and --frames at least 1".into()));
    }
    if let Some(out) = &args.output {
        io::Format::from_path(out).map_err(|e| Fail::Usage(e.to_string()))?;
    }
    let timeout = args.timeout.map(Duration::from_secs_f64);
    let validated = args.common.validate(&args.script, timeout, args.fps).map_err(Fail::Usage)?;
    if let Some(n) = args.threads {
        if n == 0 || rayon::ThreadPoolBuilder::new().num_threads(n).build_global().is_err() {
            return Err(Fail::Usage(format!("--threads {n}: cannot start that many worker threads")));
        }
    }
    Ok(validated)
}

/// Compiles the script, checks its `--set` names, runs every frame and writes the results.
fn execute(args: &RunArgs, config: RunConfig, limits: Limits) -> Result<(), Fail> {
    let total = Instant::now();
    let host = Host::new(limits);
    let compiled = host.compile_file(&args.script).map_err(Fail::script)?;
    // The names the script reads, if a scan can tell before it runs; else frame 0's run tells.
    let known = host.param_names(&compiled, &args.script);
    if let Some(names) = &known {
        check_sets(args, &config, names)?;
    }
    let mut progress = Progress::default();
    for frame in 0..args.frames {
        let outcome = host.run(&compiled, RunConfig { frame: frame as i64, ..config.clone() }).map_err(Fail::script)?;
        if known.is_none() && frame == 0 {
            let names: Vec<String> = outcome.params.iter().map(|p| p.name.clone()).collect();
            check_sets(args, &config, &names)?;
        }
        progress.run_time += outcome.run_time;
        note_files(&args.script, &outcome, &mut progress);
        let encode_start = Instant::now();
        write_frame(args, frame, &outcome, &mut progress)?;
        progress.encode_time += encode_start.elapsed();
    }
    if let (Some(out), false) = (&args.output, progress.gif_frames.is_empty()) {
        let start = Instant::now();
        io::save_gif_animation(&progress.gif_frames, args.fps, out).map_err(Fail::script)?;
        progress.encode_time += start.elapsed();
    }
    write_depfile(args, &progress)?;
    if args.output.is_none() && !progress.sizes.is_empty() {
        crate::cli::write_err(unsaved_note(&progress.sizes, args.frames));
    }
    if args.time {
        crate::cli::write_err(format_args!(
            "compile {:.1} ms, run {:.1} ms, encode {:.1} ms, total {:.1} ms",
            compiled.compile_time.as_secs_f64() * 1e3,
            progress.run_time.as_secs_f64() * 1e3,
            progress.encode_time.as_secs_f64() * 1e3,
            total.elapsed().as_secs_f64() * 1e3
        ));
    }
    Ok(())
}

/// Keeps what a frame read and saved, for `--depfile`.
fn note_files(script: &Path, outcome: &Outcome, progress: &mut Progress) {
    if progress.inputs.is_empty() {
        progress.inputs = crate::script::depfile::inputs(script, outcome);
    } else {
        crate::script::depfile::append(&mut progress.inputs, outcome);
    }
    for p in &outcome.outputs {
        if !progress.saved.contains(p) {
            progress.saved.push(p.clone());
        }
    }
}

/// Writes `--depfile` after every output is written, atomically: a failed run never reaches
/// here, so the previous depfile stays (it still describes the previous output, which a failed
/// run does not replace either). Ninja reads a depfile only after its command succeeds, and
/// Make's `-include` reads whatever is there, so both see a depfile that matches the output.
/// Paths are relative to the current folder when under it, which is how a build file there
/// names them.
fn write_depfile(args: &RunArgs, progress: &Progress) -> Result<(), Fail> {
    use crate::script::depfile;
    let Some(file) = &args.depfile else { return Ok(()) };
    let cwd = std::env::current_dir().map_err(|e| Fail::script(format!("cannot read the current folder: {e}")))?;
    let targets: Vec<PathBuf> = match &args.output {
        Some(out) => vec![out.clone()],
        None => depfile::relative_to_cwd(&progress.saved, &cwd),
    };
    if targets.is_empty() {
        return Err(Fail::Usage(format!(
            "--depfile {}: the run wrote no file to name as its target; add -o out.png",
            file.display()
        )));
    }
    let targets: Vec<&str> = targets
        .iter()
        .map(|t| {
            t.to_str().ok_or_else(|| Fail::Usage(format!("--depfile: the target {} is not valid Unicode", t.display())))
        })
        .collect::<Result<_, _>>()?;
    let text = depfile::depfile(&targets, &depfile::relative_to_cwd(&progress.inputs, &cwd))
        .map_err(|e| Fail::script(format!("--depfile {}: {e}", file.display())))?;
    if let Some(parent) = file.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| Fail::script(crate::error::Error::io(parent, e)))?;
    }
    crate::io::write_atomic(file, text.as_bytes()).map_err(Fail::script)
}

/// Refuses a `--set` name the script reads no param for (unless `--allow-unused-set`).
fn check_sets(args: &RunArgs, config: &RunConfig, declared: &[String]) -> Result<(), Fail> {
    if args.common.allow_unused_set {
        return Ok(());
    }
    let mut declared = declared.to_vec();
    declared.sort();
    declared.dedup();
    match config.unknown_params(&declared).first() {
        Some(name) => Err(Fail::Usage(crate::cli::unknown_set(name, &declared))),
        None => Ok(()),
    }
}

/// Writes one frame's `show()` panels and result images (or keeps a GIF frame for the end).
fn write_frame(args: &RunArgs, frame: u32, outcome: &Outcome, progress: &mut Progress) -> Result<(), Fail> {
    progress.sizes = outcome.images.iter().map(Image::dimensions).collect();
    if let Some(dir) = &args.show_dir {
        write_panels(dir, &outcome.shown, frame, args.frames, provenance(args, outcome)).map_err(Fail::script)?;
        write_set_panels(dir, outcome, frame, args.frames, provenance(args, outcome)).map_err(Fail::script)?;
    }
    let Some(out) = &args.output else { return Ok(()) };
    if let (true, Some(set)) = (outcome.images.is_empty(), &outcome.set) {
        return write_set(args, frame, out, outcome, set);
    }
    let recipe = provenance(args, outcome);
    if outcome.images.is_empty() {
        return Err(Fail::Script(format!(
            "{}: the script produced no image to write to {} (its last expression must be an Image or an array of Images)",
            args.script.display(),
            out.display()
        )));
    }
    let gif = out.extension().is_some_and(|e| e.eq_ignore_ascii_case("gif"));
    if gif && args.frames > 1 {
        progress.gif_frames.push(outcome.images[0].clone());
        return Ok(());
    }
    let count = outcome.images.len();
    for (i, img) in outcome.images.iter().enumerate() {
        // One file per frame; a frame's extra result images get `-1`, `-2`... so they do not
        // overwrite the first.
        let path = if args.frames > 1 {
            with_suffix(&numbered(out, frame as usize, args.frames as usize), i)
        } else {
            numbered(out, i, count)
        };
        write_output(&path, img, recipe).map_err(Fail::script)?;
    }
    Ok(())
}

/// Writes a PBR-set result as one file per map: `-o out.png` gives `out_albedo.png`,
/// `out_normal.png`, ... (all or none; see `image::pbr_set`).
fn write_set(
    args: &RunArgs,
    frame: u32,
    out: &Path,
    outcome: &Outcome,
    set: &crate::image::PbrSet,
) -> Result<(), Fail> {
    if out.extension().is_some_and(|e| e.eq_ignore_ascii_case("gif")) {
        return Err(Fail::Script(format!(
            "{}: the result is a PBR set, written as one file per map; a GIF cannot hold its data maps (use -o out.png)",
            args.script.display()
        )));
    }
    let base = if args.frames > 1 { numbered(out, frame as usize, args.frames as usize) } else { out.to_path_buf() };
    set.save_maps(&base, &SaveOptions::default(), provenance(args, outcome)).map(|_| ()).map_err(Fail::script)
}

/// Writes `show(set)` panels into `--show-dir`, after the image panels: `NN-label_albedo.png`...
fn write_set_panels(
    dir: &Path,
    outcome: &Outcome,
    frame: u32,
    frames: u32,
    recipe: Option<&Recipe>,
) -> crate::error::Result<()> {
    for (i, (label, set)) in outcome.shown_sets.iter().enumerate() {
        let i = i + outcome.shown.len();
        let safe: String = label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let name = if frames > 1 { format!("{i:02}-{safe}-{frame:04}.png") } else { format!("{i:02}-{safe}.png") };
        set.save_maps(&dir.join(name), &SaveOptions::default(), recipe)?;
    }
    Ok(())
}

/// The line that tells how to save a result the run did not write:
/// `note: the result (1 image, 256×256) was not saved; add -o out.png`.
fn unsaved_note(sizes: &[(u32, u32)], frames: u32) -> String {
    let (w, h) = sizes[0];
    let what = match sizes.len() {
        1 => format!("1 image, {w}×{h}"),
        n => format!("{n} images, the first {w}×{h}"),
    };
    let (what, example) =
        if frames > 1 { (format!("{frames} frames of {what}"), "out_####.png") } else { (what, "out.png") };
    format!("note: the result ({what}) was not saved; add -o {example}")
}

/// The recipe the run's files carry, unless `--no-provenance`. The frames of an animation carry
/// the same recipe (it does not name the frame: the file name does); an animated GIF carries
/// none (GIF has no slot kiln writes, see `image::io`).
fn provenance<'a>(args: &RunArgs, outcome: &'a Outcome) -> Option<&'a Recipe> {
    (!args.common.no_provenance).then_some(&outcome.recipe)
}

/// Writes one result image with the default save options (what `kiln regen` repeats).
pub(crate) fn write_output(path: &Path, img: &Image, recipe: Option<&Recipe>) -> crate::error::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| crate::error::Error::io(parent, e))?;
    }
    io::save_with(img, path, &SaveOptions::default(), recipe)
}

fn write_panels(
    dir: &Path,
    shown: &[(String, Image)],
    frame: u32,
    frames: u32,
    recipe: Option<&Recipe>,
) -> crate::error::Result<()> {
    for (i, (label, img)) in shown.iter().enumerate() {
        let safe: String = label.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        let name = if frames > 1 { format!("{i:02}-{safe}-{frame:04}.png") } else { format!("{i:02}-{safe}.png") };
        write_output(&dir.join(name), img, recipe)?;
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
    fn the_unsaved_note_tells_how_to_save() {
        assert_eq!(unsaved_note(&[(256, 256)], 1), "note: the result (1 image, 256×256) was not saved; add -o out.png");
        assert_eq!(
            unsaved_note(&[(4, 4), (2, 2)], 3),
            "note: the result (3 frames of 2 images, the first 4×4) was not saved; add -o out_####.png"
        );
    }
}
