//! The debounced file watcher: turns file-system events on the script, its imports and the files
//! it loaded into [`Change::Files`] for a [`Session`].
//!
//! Owns: [`Watcher`], [`WatchOptions`], [`WatchEnd`] and the script-deleted grace period. Must not
//! know how scripts run or how results are shown.
//!
//! Why folders and not files: an editor that saves through a temp file and a rename replaces the
//! file's inode, and a watch on the old inode goes quiet. So the watcher watches the *folders*
//! holding the watched files (not recursively) and keeps the events whose path is watched.
//! `notify-debouncer-full` merges the burst of events of one save (create, write, rename, chmod)
//! into one; the session then drops a change whose files are byte-for-byte what the last run
//! read, so a save that does nothing new does not run at all.
//!
//! The watched set is recomputed after every run from [`Report::watched`], so a new `import` or
//! `load` is watched from the next save on.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify_debouncer_full::notify::{EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{new_debouncer, DebounceEventResult, RecommendedCache};

use crate::live::session::{Change, Report, Session};
use crate::script::context::normalize;

/// How the watcher behaves.
#[derive(Debug, Clone)]
pub struct WatchOptions {
    /// Quiet time after the last event of a burst before the change is passed on.
    pub debounce: Duration,
    /// How long a deleted script may stay missing before the watcher gives up.
    pub grace: Duration,
}

impl Default for WatchOptions {
    fn default() -> WatchOptions {
        // 15 ms merges an editor's save burst (temp file, write, rename, chmod: microseconds to a
        // few ms) and spends little of the 100 ms file-write-to-picture budget. A burst that
        // straddles it costs one extra, cancelled or identical, run at worst.
        WatchOptions { debounce: Duration::from_millis(15), grace: Duration::from_secs(3) }
    }
}

/// Why a watcher stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WatchEnd {
    /// The script was deleted and not recreated within the grace period.
    ScriptDeleted(PathBuf),
    /// The watcher could not be set up or the OS watch failed for good.
    Failed(String),
    /// [`Watcher::stop`] or drop.
    Stopped,
}

impl std::fmt::Display for WatchEnd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WatchEnd::ScriptDeleted(p) => {
                write!(f, "{} was deleted and not recreated in time; stopping", p.display())
            }
            WatchEnd::Failed(e) => write!(f, "cannot watch files: {e}"),
            WatchEnd::Stopped => write!(f, "stopped"),
        }
    }
}

enum Msg {
    Fs(DebounceEventResult),
    Report,
    Stop,
}

/// A running watcher. Dropping it stops it.
pub struct Watcher {
    tx: mpsc::Sender<Msg>,
    thread: Option<JoinHandle<WatchEnd>>,
    finished: Arc<AtomicBool>,
}

impl Watcher {
    /// Starts watching `session`'s files; `on_end` is called once when the watcher stops by itself
    /// (script deleted, watch failure), not when it is stopped.
    pub fn start(
        session: Arc<Session>,
        options: WatchOptions,
        on_end: impl FnOnce(&WatchEnd) + Send + 'static,
    ) -> Result<Watcher, String> {
        let (tx, rx) = mpsc::channel();
        let fs_tx = tx.clone();
        // Check for due events every third of the debounce time (the default is a quarter).
        let tick = (options.debounce / 3).max(Duration::from_millis(1));
        let debouncer = new_debouncer(options.debounce, Some(tick), move |res: DebounceEventResult| {
            let _ = fs_tx.send(Msg::Fs(res));
        })
        .map_err(|e| e.to_string())?;
        let report_tx = std::sync::Mutex::new(tx.clone());
        session.on_report(move |_: &Arc<Report>| {
            let _ = report_tx.lock().map(|t| t.send(Msg::Report));
        });
        // Watch before returning, so that a change made right after `start` is seen.
        let mut watches =
            Watches { debouncer, script: session.script().to_path_buf(), files: Vec::new(), folders: BTreeSet::new() };
        watches.refresh(&session)?;
        let finished = Arc::new(AtomicBool::new(false));
        let done = finished.clone();
        let thread = std::thread::Builder::new()
            .name("kiln-live-watch".into())
            .spawn(move || {
                let end = run(session, options, watches, rx);
                done.store(true, Ordering::SeqCst);
                if end != WatchEnd::Stopped {
                    on_end(&end);
                }
                end
            })
            .map_err(|e| e.to_string())?;
        Ok(Watcher { tx, thread: Some(thread), finished })
    }

    /// True once the watcher has stopped by itself.
    pub fn is_finished(&self) -> bool {
        self.finished.load(Ordering::SeqCst)
    }

    /// Stops the watcher and returns why it ended.
    pub fn stop(mut self) -> WatchEnd {
        self.stop_inner()
    }

    fn stop_inner(&mut self) -> WatchEnd {
        let _ = self.tx.send(Msg::Stop);
        self.thread.take().and_then(|t| t.join().ok()).unwrap_or(WatchEnd::Stopped)
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        self.stop_inner();
    }
}

/// The folders to watch for `files`.
fn folders(files: &[PathBuf]) -> BTreeSet<PathBuf> {
    files.iter().filter_map(|f| f.parent().map(Path::to_path_buf)).filter(|d| d.is_dir()).collect()
}

type Debouncer = notify_debouncer_full::Debouncer<RecommendedWatcher, RecommendedCache>;

/// The OS watches: the folders of the watched files.
struct Watches {
    debouncer: Debouncer,
    script: PathBuf,
    files: Vec<PathBuf>,
    folders: BTreeSet<PathBuf>,
}

impl Watches {
    /// Re-reads the session's watched files and watches their folders. Failing to watch the
    /// script's own folder is fatal; another folder only loses its updates (with a message).
    fn refresh(&mut self, session: &Session) -> Result<(), String> {
        self.files = session.watched();
        if !self.files.contains(&self.script) {
            self.files.push(self.script.clone());
        }
        let want = folders(&self.files);
        for gone in self.folders.difference(&want) {
            let _ = self.debouncer.unwatch(gone);
        }
        let mut fatal = None;
        for new in want.difference(&self.folders) {
            if let Err(e) = self.debouncer.watch(new, RecursiveMode::NonRecursive) {
                if self.script.parent() == Some(new.as_path()) {
                    fatal = Some(format!("{}: {e}", new.display()));
                } else {
                    crate::console::err(format_args!("kiln watch: cannot watch {}: {e}", new.display()));
                }
            }
        }
        self.folders = want;
        fatal.map_or(Ok(()), Err)
    }
}

fn run(session: Arc<Session>, options: WatchOptions, mut w: Watches, rx: mpsc::Receiver<Msg>) -> WatchEnd {
    let script = w.script.clone();
    // KILN_WATCH_TRACE=1 prints every debounced event: "why did it run again?"
    let trace = std::env::var_os("KILN_WATCH_TRACE").is_some();
    let start = Instant::now();
    loop {
        let msg = match rx.recv() {
            Ok(m) => m,
            Err(_) => return WatchEnd::Stopped,
        };
        match msg {
            Msg::Stop => return WatchEnd::Stopped,
            Msg::Report => {
                if let Err(e) = w.refresh(&session) {
                    return WatchEnd::Failed(e);
                }
            }
            Msg::Fs(Err(errors)) => {
                for e in errors {
                    crate::console::err(format_args!("kiln watch: file watch error: {e}"));
                }
            }
            Msg::Fs(Ok(events)) => {
                if trace {
                    for e in &events {
                        crate::console::err(format_args!(
                            "kiln watch: [{:?}] {:?} {:?}",
                            start.elapsed(),
                            e.kind,
                            e.paths
                        ));
                    }
                }
                // Opening or reading a file is not a change. This matters: kiln itself reads the
                // script on every run, and a watcher that reacted to that would loop.
                let changed: Vec<PathBuf> = events
                    .into_iter()
                    .filter(|e| !matches!(e.kind, EventKind::Access(_)))
                    .flat_map(|e| e.event.paths)
                    .map(|p| normalize(&p))
                    .filter(|p| w.files.contains(p))
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                if changed.is_empty() {
                    continue;
                }
                if !script.exists() {
                    crate::console::err(format_args!(
                        "kiln watch: {} was deleted; waiting {:.1} s for it to come back",
                        script.display(),
                        options.grace.as_secs_f64()
                    ));
                    match wait_for(&script, options.grace, &rx) {
                        Some(true) => {}
                        Some(false) => return WatchEnd::ScriptDeleted(script),
                        None => return WatchEnd::Stopped,
                    }
                    crate::console::err(format_args!("kiln watch: {} is back", script.display()));
                    // The folder may have been deleted and recreated too: watch it afresh.
                    for f in std::mem::take(&mut w.folders) {
                        let _ = w.debouncer.unwatch(&f);
                    }
                    if let Err(e) = w.refresh(&session) {
                        return WatchEnd::Failed(e);
                    }
                }
                session.change(Change::Files(changed));
            }
        }
    }
}

/// Polls for `path` to exist again for up to `grace`: `Some(found)`, or `None` on a stop request.
fn wait_for(path: &Path, grace: Duration, rx: &mpsc::Receiver<Msg>) -> Option<bool> {
    let deadline = Instant::now() + grace;
    loop {
        if path.exists() {
            return Some(true);
        }
        let now = Instant::now();
        if now >= deadline {
            return Some(false);
        }
        match rx.recv_timeout((deadline - now).min(Duration::from_millis(50))) {
            Ok(Msg::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return None,
            _ => {}
        }
    }
}
