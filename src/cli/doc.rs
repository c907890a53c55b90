//! `kiln doc`: prints the script API reference generated from the registered functions.

use std::process::ExitCode;

use clap::Args;

use crate::script::Host;

#[derive(Args, Debug)]
pub struct DocArgs {}

pub fn run(_args: DocArgs) -> ExitCode {
    let host = Host::default();
    // A reader that stops early (`kiln doc | head -1`) is not an error: the rest is not printed.
    let _ = crate::cli::write_out(&host.api_reference());
    ExitCode::SUCCESS
}
