//! `kiln cache stats` and `kiln cache prune --max-size SIZE`: the size of a build cache, and
//! least-recently-used pruning (a hit records its time on the entry; see `kiln::store`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::cli::{EXIT_SCRIPT, EXIT_USAGE};
use crate::memory::show_bytes;
use crate::store::Store;

#[derive(Args, Debug)]
pub struct CacheArgs {
    #[command(subcommand)]
    pub command: CacheCommand,
}

#[derive(Subcommand, Debug)]
pub enum CacheCommand {
    /// Print the number of entries and their bytes.
    Stats(Folder),
    /// Remove the least recently used entries until the cache holds at most --max-size.
    Prune {
        #[command(flatten)]
        folder: Folder,
        /// The size to prune down to, e.g. 500M or 2G.
        #[arg(long, value_name = "SIZE", value_parser = crate::memory::parse_size)]
        max_size: u64,
    },
}

#[derive(Args, Debug)]
pub struct Folder {
    /// The cache folder.
    #[arg(long, value_name = "DIR", default_value = ".kiln-cache")]
    pub cache: PathBuf,
}

pub fn run(args: CacheArgs) -> ExitCode {
    let dir = match &args.command {
        CacheCommand::Stats(f) | CacheCommand::Prune { folder: f, .. } => f.cache.clone(),
    };
    if dir.exists() && !dir.is_dir() {
        crate::cli::write_err(format_args!("error: {}: not a folder", dir.display()));
        return ExitCode::from(EXIT_USAGE);
    }
    let store = Store::new(dir.clone());
    match args.command {
        CacheCommand::Stats(_) => {
            let t = store.totals();
            crate::console::out_line(format_args!("{}: {} entries, {}", dir.display(), t.entries, show_bytes(t.bytes)));
            ExitCode::SUCCESS
        }
        CacheCommand::Prune { max_size, .. } => match store.prune(max_size) {
            Ok(removed) => {
                let left = store.totals();
                crate::console::out_line(format_args!(
                    "{}: removed {} entries ({}); {} entries, {} left",
                    dir.display(),
                    removed.entries,
                    show_bytes(removed.bytes),
                    left.entries,
                    show_bytes(left.bytes)
                ));
                ExitCode::SUCCESS
            }
            Err(e) => {
                crate::cli::write_err(format_args!("error: {e}"));
                ExitCode::from(EXIT_SCRIPT)
            }
        },
    }
}
