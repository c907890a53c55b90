//! `kiln serve DIR`: flags -> validated `ServeOptions` -> the server in `serve/`, until Ctrl-C.

use std::io::Write;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use crate::cli::EXIT_USAGE;
use crate::serve::ServeOptions;

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// The folder whose *.rhai scripts are served (nothing else in it is reachable).
    pub dir: PathBuf,
    /// The port to listen on (0: any free port; the chosen one is printed).
    #[arg(long, default_value_t = 7880)]
    pub port: u16,
    /// The address to bind. Anything but a loopback address needs --token-file.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// A file holding the bearer token clients must send (`Authorization: Bearer TOKEN`).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// Renders running at once (default: the number of cores); twice as many may wait.
    #[arg(long, value_name = "N")]
    pub max_concurrent: Option<usize>,
    /// Stop a render after this many seconds (0: no limit).
    #[arg(long, value_name = "SECONDS", default_value_t = 30.0)]
    pub timeout: f64,
    /// Memory budget for all renders together: images, tensors and decode buffers (e.g. 2G).
    #[arg(long, value_name = "BYTES")]
    pub max_memory: Option<String>,
    /// The render cache folder (default: .kiln-cache/serve beside DIR).
    #[arg(long, value_name = "DIR")]
    pub cache: Option<PathBuf>,
}

fn usage(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(EXIT_USAGE)
}

impl ServeArgs {
    fn validate(&self) -> Result<ServeOptions, String> {
        if !self.dir.is_dir() {
            return Err(format!("{}: no such folder", self.dir.display()));
        }
        let mut options = ServeOptions::new(&self.dir).map_err(|e| format!("{}: {e}", self.dir.display()))?;
        if let Some(file) = &self.token_file {
            let text = std::fs::read_to_string(file).map_err(|e| format!("--token-file {}: {e}", file.display()))?;
            let token = text.trim();
            if token.is_empty() || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("--token-file {}: the token must be one word, not empty", file.display()));
            }
            options.token = Some(token.to_string());
        }
        if !self.bind.is_loopback() && options.token.is_none() {
            return Err(format!("--bind {}: serving beyond this machine needs --token-file", self.bind));
        }
        if let Some(n) = self.max_concurrent {
            if n == 0 {
                return Err("--max-concurrent must be at least 1".into());
            }
            options.max_concurrent = n;
            options.queue = 2 * n;
        }
        if !(self.timeout.is_finite() && self.timeout >= 0.0) {
            return Err(format!("--timeout must be a number of seconds, got {}", self.timeout));
        }
        options.timeout = (self.timeout > 0.0).then(|| Duration::from_secs_f64(self.timeout));
        options.limits.deadline = options.timeout;
        if let Some(m) = &self.max_memory {
            options.limits.max_memory = crate::memory::parse_size(m).map_err(|e| format!("--max-memory: {e}"))?;
        }
        if let Some(c) = &self.cache {
            std::fs::create_dir_all(c).map_err(|e| format!("--cache {}: {e}", c.display()))?;
            options.cache_dir = c.canonicalize().map_err(|e| format!("--cache {}: {e}", c.display()))?;
        }
        Ok(options)
    }
}

pub fn run(args: ServeArgs) -> ExitCode {
    let options = match args.validate() {
        Ok(o) => o,
        Err(e) => return usage(e),
    };
    let listener = match TcpListener::bind(SocketAddr::new(args.bind, args.port)) {
        Ok(l) => l,
        Err(e) => return usage(format!("cannot listen on {}:{}: {e}", args.bind, args.port)),
    };
    let addr = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    // Tests and scripts read this line for the port.
    println!("kiln serve: {} on http://{addr}/ (cache {})", options.dir.display(), options.cache_dir.display());
    let _ = std::io::stdout().flush();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the server: {e}");
            return ExitCode::FAILURE;
        }
    };
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    match runtime.block_on(crate::serve::serve(listener, options, shutdown)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
