//! `kiln info FILE [--json]` and `kiln regen FILE --out DIR`: the provenance recipe an image
//! carries (see `image::io` for where each format keeps it), printed, and re-run.
//!
//! Decisions, where the issue is silent (the model: ComfyUI's workflow in every PNG, which can
//! be dropped back in to make the image again):
//! - `info` exits 1 for a file without a recipe (as `grep` does for no match), so a build step can
//!   test for one; a file it cannot read is exit 1 too, with the reason.
//! - `regen` runs from the current folder, where the recipe's relative paths point (run it from
//!   the folder the original `kiln run` ran in). A script or input whose hash no longer matches
//!   is reported, and the run goes ahead with what is there now: knowing that a changed script
//!   still gives the same bytes is useful too.
//! - The recipe's inputs' folders may be read by the re-run (the original run read them), and
//!   `save` writes into `--out`. The regenerated file is the script's own `save` of the same file
//!   name if it made one, else its result image written as `kiln run -o` writes it (default save
//!   options; `name-N.ext` picks result image N). An animation frame is re-run as frame 0: the
//!   recipe does not record frames.
//! - `--out` may not be FILE's own folder: regen never overwrites the file it checks.
//! - Exit 0 when the bytes match; 1 when they differ (saying whether the pixels still match,
//!   so a metadata-only change is told apart) or the re-run failed; 2 for usage errors.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::Args;

use crate::cli::{EXIT_SCRIPT, EXIT_USAGE};
use crate::image::io;
use crate::recipe::{hash_file, Recipe};
use crate::script::{Host, RunConfig};
use crate::Limits;

#[derive(Args, Debug)]
pub struct InfoArgs {
    /// The image file (PNG, JPEG, WebP, TIFF or EXR written by kiln).
    pub file: PathBuf,
    /// Print the recipe as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Args, Debug)]
pub struct RegenArgs {
    /// The image file whose recipe to re-run.
    pub file: PathBuf,
    /// Folder to write the regenerated file into (same file name); not FILE's own folder.
    #[arg(long)]
    pub out: PathBuf,
}

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    crate::console::err(msg);
    ExitCode::from(code)
}

/// The recipe in `file`, or the exit for a file without one.
fn recipe_of(file: &Path) -> Result<Recipe, ExitCode> {
    match io::read_provenance(file) {
        Ok(Some(r)) => Ok(r),
        Ok(None) => Err(fail(
            EXIT_SCRIPT,
            format!(
                "{}: no kiln recipe in this file (written with --no-provenance, by another program, or as BMP, \
                 QOI, PNM, HDR or GIF, which hold none)",
                file.display()
            ),
        )),
        Err(e) => Err(fail(EXIT_SCRIPT, e)),
    }
}

pub fn info(args: InfoArgs) -> ExitCode {
    let recipe = match recipe_of(&args.file) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let text = if args.json { recipe.to_json_pretty() } else { describe(&recipe) };
    let _ = crate::console::out(&format!("{text}\n"));
    ExitCode::SUCCESS
}

/// The recipe for people: one field a line, lists indented below their name.
fn describe(r: &Recipe) -> String {
    let mut out = String::new();
    let mut line = |name: &str, value: &str| out.push_str(&format!("{name:<12} {value}\n"));
    line("script", &r.script);
    line("script hash", &r.script_hash);
    line("seed", &r.seed.to_string());
    let list = |items: &[(String, String)], sep: &str| -> String {
        if items.is_empty() {
            return "(none)".into();
        }
        items.iter().map(|(a, b)| format!("\n  {a}{sep}{b}")).collect()
    };
    line("params", &list(&r.params, " = "));
    line("inputs", &list(&r.inputs, "  "));
    line("models", &list(&r.models, "  "));
    let features =
        if r.features.is_empty() { String::new() } else { format!(" (features: {})", r.features.join(", ")) };
    line("kiln", &format!("{}{features}", r.kiln_version));
    out.trim_end().to_string()
}

pub fn regen(args: RegenArgs) -> ExitCode {
    let recipe = match recipe_of(&args.file) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let Some(name) = args.file.file_name().map(PathBuf::from) else {
        return fail(EXIT_USAGE, format!("error: {}: not a file name", args.file.display()));
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return fail(EXIT_USAGE, format!("error: --out {}: {e}", args.out.display()));
    }
    let target = args.out.join(&name);
    let same_file = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if same_file(&target, &args.file) {
        return fail(
            EXIT_USAGE,
            format!(
                "error: --out {}: that is where {} is; regen does not overwrite the file it checks",
                args.out.display(),
                args.file.display()
            ),
        );
    }
    let script = PathBuf::from(&recipe.script);
    if !script.is_file() {
        return fail(
            EXIT_SCRIPT,
            format!(
                "{}: its script {} is not here (a recipe's paths are relative to the folder kiln ran in; run regen from there)",
                args.file.display(),
                recipe.script
            ),
        );
    }
    report_changes(&args.file, &recipe);
    let config = RunConfig {
        seed: recipe.seed,
        params: recipe.params.clone(),
        out_dir: Some(args.out.clone()),
        allow_read: input_folders(&recipe),
        ..RunConfig::new(&script)
    };
    let host = Host::new(Limits::default());
    let outcome = match host.run_file(config) {
        Ok(o) => o,
        Err(e) => return fail(EXIT_SCRIPT, format!("{e}\n{}: the re-run failed", args.file.display())),
    };
    let produced = match outcome.outputs.iter().find(|p| p.file_name() == Some(name.as_os_str())) {
        Some(saved) => saved.clone(),
        None => {
            let Some(img) = result_for(&name, &outcome.images) else {
                return fail(
                    EXIT_SCRIPT,
                    format!("{}: the re-run made no image named {}", args.file.display(), name.display()),
                );
            };
            if let Err(e) = crate::cli::run::write_output(&target, img, Some(&outcome.recipe)) {
                return fail(EXIT_SCRIPT, e);
            }
            target
        }
    };
    compare(&args.file, &produced)
}

/// Notes what differs between the recipe and the files here now; the re-run goes ahead.
fn report_changes(file: &Path, recipe: &Recipe) {
    let file = file.display();
    if hash_file(Path::new(&recipe.script)).as_deref() != Some(recipe.script_hash.as_str()) {
        crate::console::err(format!(
            "note: the script {} changed since {file} was made (its hash differs); re-running the current version",
            recipe.script
        ));
    }
    for (path, hash) in &recipe.inputs {
        match hash_file(Path::new(path)) {
            None => crate::console::err(format!("note: input {path} of {file} is missing")),
            Some(h) if &h != hash => crate::console::err(format!("note: input {path} changed since {file} was made")),
            _ => {}
        }
    }
    let version = env!("CARGO_PKG_VERSION");
    if recipe.kiln_version != version {
        crate::console::err(format!("note: {file} was made by kiln {}; this is kiln {version}", recipe.kiln_version));
    }
}

/// The folders of the recipe's inputs: the original run read them, so the re-run may.
fn input_folders(recipe: &Recipe) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    for (path, _) in &recipe.inputs {
        let parent = Path::new(path).parent().map(Path::to_path_buf).unwrap_or_default();
        let parent = if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent };
        if !out.contains(&parent) {
            out.push(parent);
        }
    }
    out
}

/// The result image `kiln run -o` wrote as `name`: image N for `stem-N.ext` when the run made
/// more than one, else the first.
fn result_for<'a>(name: &Path, images: &'a [crate::Image]) -> Option<&'a crate::Image> {
    if images.len() > 1 {
        let stem = name.file_stem()?.to_string_lossy();
        if let Some(n) = stem.rsplit_once('-').and_then(|(_, n)| n.parse::<usize>().ok()) {
            return images.get(n);
        }
    }
    images.first()
}

/// Compares the original with the regenerated file: exit 0 when the bytes match.
fn compare(original: &Path, produced: &Path) -> ExitCode {
    let (a, b) = match (std::fs::read(original), std::fs::read(produced)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) => return fail(EXIT_SCRIPT, format!("{}: {e}", original.display())),
        (_, Err(e)) => return fail(EXIT_SCRIPT, format!("{}: {e}", produced.display())),
    };
    if a == b {
        crate::console::out_line(format!(
            "{}: regenerated as {}: the bytes match",
            original.display(),
            produced.display()
        ));
        return ExitCode::SUCCESS;
    }
    let pixels = match (io::decode(&a, original), io::decode(&b, produced)) {
        (Ok(x), Ok(y)) if x == y => "the pixels match, the metadata differs",
        (Ok(x), Ok(y)) if x.dimensions() != y.dimensions() => "the sizes differ",
        (Ok(_), Ok(_)) => "the pixels differ",
        _ => "one of them cannot be decoded",
    };
    fail(
        EXIT_SCRIPT,
        format!("{}: regenerated as {}: the bytes differ ({pixels})", original.display(), produced.display()),
    )
}
