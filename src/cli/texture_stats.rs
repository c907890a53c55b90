//! `kiln texture-stats EXEMPLAR SAMPLE... [--json] [--crop N]`: the texture quality metrics of
//! `image::texture_stats` for samples against their exemplar, one line (or JSON object) per
//! sample: Gram distance, seam score, copy ratio; then the diversity between the samples.
//!
//! Decisions: the exemplar's statistics are computed once; a file that cannot be read, or an
//! image too small for the metrics, is exit 1 with the reason (like a script error); usage
//! errors are clap's exit 2. Numbers are printed with 4 decimals (JSON: full precision).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use serde_json::json;

use crate::cli::EXIT_SCRIPT;
use crate::image::io;
use crate::image::texture_stats::{diversity, seam_score, TextureGram};

#[derive(Args, Debug)]
pub struct TextureStatsArgs {
    /// The exemplar image the samples should look like.
    pub exemplar: PathBuf,
    /// Sample images (any size, at least 64² and at least the crop).
    #[arg(required = true)]
    pub samples: Vec<PathBuf>,
    /// Side of the crops the copy and diversity measures compare, in pixels (the exemplar must be
    /// at least twice as large).
    #[arg(long, default_value_t = 64)]
    pub crop: u32,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: TextureStatsArgs) -> ExitCode {
    match stats(&args) {
        Ok(text) => {
            let _ = crate::console::out(&text);
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::console::err(e);
            ExitCode::from(EXIT_SCRIPT)
        }
    }
}

fn stats(args: &TextureStatsArgs) -> crate::Result<String> {
    let exemplar = io::load(&args.exemplar)?;
    let ex_gram = TextureGram::of(&exemplar)?;
    let mut samples = Vec::with_capacity(args.samples.len());
    let mut rows = Vec::with_capacity(args.samples.len());
    for path in &args.samples {
        let img = io::load(path)?;
        let gram = ex_gram.distance(&TextureGram::of(&img)?);
        rows.push((path, img.dimensions(), gram, seam_score(&img)));
        samples.push(img);
    }
    let d = diversity(&samples, &exemplar, args.crop)?;
    if args.json {
        let list: Vec<_> = rows
            .iter()
            .zip(&d.copy_ratios)
            .zip(&d.nearest)
            .map(|(((path, (w, h), gram, seam), copy), near)| {
                json!({ "path": path.display().to_string(), "width": w, "height": h, "gram_distance": gram,
                        "seam_score": seam, "copy_ratio": copy, "nearest": near })
            })
            .collect();
        let out = json!({
            "exemplar": args.exemplar.display().to_string(),
            "exemplar_seam_score": seam_score(&exemplar),
            "crop": d.crop,
            "exemplar_self": d.exemplar_self,
            "exemplar_spread": d.exemplar_spread,
            "samples": list,
            "copy_ratio": d.copy_ratio,
            "pairwise": d.pairwise,
            "pairwise_ratio": d.pairwise_ratio,
        });
        return Ok(format!("{}\n", serde_json::to_string_pretty(&out).unwrap_or_default()));
    }
    let (w, h) = exemplar.dimensions();
    let mut text = format!(
        "exemplar {} ({w}×{h}): seam {:.4}, own nearest-crop distance {:.4} (crop {})\n",
        args.exemplar.display(),
        seam_score(&exemplar),
        d.exemplar_self,
        d.crop
    );
    text += &format!("{:<40} {:>11} {:>10} {:>8} {:>8}\n", "sample", "size", "gram", "seam", "copy");
    for ((path, (w, h), gram, seam), copy) in rows.iter().zip(&d.copy_ratios) {
        let size = format!("{w}×{h}");
        text += &format!("{:<40} {size:>11} {gram:>10.4} {seam:>8.4} {copy:>8.4}\n", path.display());
    }
    match (d.pairwise, d.pairwise_ratio) {
        (Some(p), Some(r)) => {
            text += &format!("pairwise distance {p:.4}: {r:.4} × the exemplar's own crop-to-crop spread\n")
        }
        _ => text += "pairwise distance: needs two or more samples\n",
    }
    Ok(text)
}
