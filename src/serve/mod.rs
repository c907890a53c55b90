//! ROOM 7 (beside `live`): `kiln serve`, a REST service that renders the scripts of one folder
//! (feature "serve").
//!
//! Routes (`openapi.rs` documents them): `POST /render/{script}` with JSON
//! `{ params, seed, format, width }` returns the image; `GET /scripts` lists each script's
//! `param()` declarations; `GET /models`, `GET /health`, `GET /openapi.json`.
//!
//! Owns the server's shape: [`ServeOptions`], [`serve`]. `api` is the HTTP face (auth,
//! admission, body limits, cancel on disconnect), `render` one render on a blocking thread,
//! `cache` the on-disk render cache. Must not know about the command line.
//!
//! How it holds under load:
//! - Each render runs on a blocking thread with its own script host (a host runs one script at
//!   a time), under the sandbox (reads in the served folder, writes in a per-request temp
//!   folder), the `--timeout` deadline and the process memory budget (each render reserves
//!   its working set with `memory::reserve_waiting`, so renders wait for memory rather than fail).
//! - At most `max_concurrent` renders run; `queue` more wait; past that a request gets 429 with
//!   `Retry-After`. Cache hits skip the queue.
//! - A client that disconnects drops its handler, which sets the render's cancel flag: the run
//!   stops at its next row or script-operation check (`kiln::cancel`).
//! - Bad input is a 4xx with `{ error, kind, location }`: unknown script 404, malformed body,
//!   unknown param, wrong type or a width over [`MAX_WIDTH`] 400, a body or image over a limit
//!   413, script error or timeout 422. The only 5xx are a cancelled run (503, its client is
//!   gone) and kiln bugs (500).
//!
//! Caching: the key is [`crate::recipe::cache_key`] of (script hash, params, seed, output); an
//! entry stores the files the run read with their hashes and a lookup re-hashes them, so an
//! edited import or texture is a miss. ETag = the full recipe's key; `If-None-Match` -> 304.
//!
//! Scaling out: the service is stateless apart from the cache folder. Run N copies (one per
//! machine or per few cores; each uses every core through rayon) behind any HTTP load balancer,
//! with `--cache` on a shared folder: entries are written by rename and verified on read, so
//! concurrent writers and readers never see half an entry. See `examples/serve/`.
//!
//! Measured on loopback (`examples/serve_load.rs`, 2 shared cores, `--max-concurrent 2`, 256²
//! material renders, each a new seed, kiln built optimised): 10 req/s for 120 s, p50 32 ms, p99
//! 69 ms, 0 errors, RSS 24 -> 25 MiB; with 10% bad requests (404, 400, timeouts) the good ones
//! still had 0 errors, p99 110 ms, RSS +2.5%; cache hits 100 req/s at p50 0.9 ms (debug build).
//! `benches/README.md` has the table and commands.

mod api;
mod cache;
mod openapi;
mod render;

use std::future::{Future, IntoFuture};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::limits::Limits;

pub use api::{MAX_BODY, MAX_WIDTH};
pub use cache::{DiskCache, Entry, Lookup};
pub use openapi::DOCUMENT as OPENAPI;

/// How the service runs.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The served folder (absolute, canonical): its `*.rhai` files are the scripts.
    pub dir: PathBuf,
    /// The render cache folder.
    pub cache_dir: PathBuf,
    /// The bearer token every request but `/health` must carry, if any.
    pub token: Option<String>,
    /// Renders running at once.
    pub max_concurrent: usize,
    /// Renders waiting for a slot before a 429.
    pub queue: usize,
    /// Wall-clock limit per render.
    pub timeout: Option<Duration>,
    /// Pixel, operation and memory limits of every run.
    pub limits: Limits,
}

impl ServeOptions {
    /// Options for serving `dir` (canonicalised) with the cache in `.kiln-cache/serve` beside it,
    /// as many renders at once as there are cores, a queue twice that, and a 30 s timeout.
    pub fn new(dir: impl Into<PathBuf>) -> std::io::Result<ServeOptions> {
        let dir = dir.into().canonicalize()?;
        let cache_dir = dir.parent().unwrap_or(&dir).join(".kiln-cache").join("serve");
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Ok(ServeOptions {
            dir,
            cache_dir,
            token: None,
            max_concurrent: cores,
            queue: 2 * cores,
            timeout: Some(Duration::from_secs(30)),
            limits: Limits::default(),
        })
    }
}

/// Serves `options.dir` on `listener` until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    options: ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    // Building a host sets the process-wide pixel ceiling and memory budget from the limits.
    drop(crate::script::Host::new(options.limits.clone()));
    let app = Arc::new(api::App::new(render::Renderer::new(options)));
    let server = axum::serve(listener, api::router(app)).with_graceful_shutdown(shutdown).into_future();
    server.await
}
