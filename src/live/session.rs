//! A live-coding session: one long-lived script host on a worker thread, the last good result,
//! and the rule that a new change cancels the run in flight.
//!
//! Owns: [`Session`], [`Change`], [`Report`] and [`Good`]. Must not know about files being
//! watched (that is `watch`) or about HTTP (that is `preview`): an embedder feeds changes in and
//! reads reports out, with or without either of them.
//!
//! Why one host for the whole session: the host keeps the caches that make the loop fast —
//! decoded images keyed by path and mtime, compiled stdlib modules, file modules by mtime — so a
//! re-run of a script that loads a 4096² photo does not decode it again.
//!
//! Why a worker thread and a cancel flag: Rhai runs on the calling thread and checks its progress
//! hook every 1024 operations. [`Session::change`] sets the in-flight run's flag, the run fails
//! with `ErrorKind::Cancelled` at its next check, and the worker picks up the newest request.
//! Requests that arrive while a run is in flight are merged, so a save storm costs at most one
//! cancelled run and one final run.
//!
//! Why fingerprints: editors write through temp files, touch the file twice, or write the same
//! text again. A `Change::Files` whose script text and input stamps equal those of the run in
//! flight (or of the last finished run) is dropped, so such a save triggers exactly one run.
//!
//! Why an empty script is an error here (and not a run with no result): an editor that saves in
//! place truncates the file before it writes the new text, and a change event can land between
//! the two. Run as is, the empty text would succeed with no image and blank the preview; as an
//! error it keeps the last good picture, and the write that follows runs the real text.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime};

use crate::image::{Image, PbrSet};
use crate::limits::Limits;
use crate::script::context::normalize;
use crate::script::diagnostic::{ErrorKind, ScriptError};
use crate::script::{Host, Outcome, ParamSpec, RunConfig};

/// Something that should lead to a new run.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// These files changed (the script, an import, a loaded file). Dropped when nothing the run
    /// depends on actually differs from the run in flight or the last finished one.
    Files(Vec<PathBuf>),
    /// A parameter control moved: run with `name = value` without touching the file.
    Param { name: String, value: String },
    /// Forget every control value and use the `--set` values and defaults again.
    ResetParams,
    /// Show this animation frame.
    Frame(i64),
    /// Run again unconditionally.
    Rerun,
}

/// What started a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Start,
    Files,
    Param,
    Frame,
    Rerun,
}

impl Trigger {
    pub fn as_str(self) -> &'static str {
        match self {
            Trigger::Start => "start",
            Trigger::Files => "files",
            Trigger::Param => "param",
            Trigger::Frame => "frame",
            Trigger::Rerun => "rerun",
        }
    }
}

/// The images of a run that succeeded.
#[derive(Debug, Clone)]
pub struct Good {
    /// The run number that produced it (see [`Report::run`]).
    pub run: u64,
    /// The script's result images.
    pub images: Vec<Image>,
    /// `show()` panels in call order.
    pub shown: Vec<(String, Image)>,
    /// PBR sets to show lit: the result's (labelled `result`) first, then `show(set)`'s.
    pub sets: Vec<(String, PbrSet)>,
    /// Parameters the run declared, with the values it used.
    pub params: Vec<ParamSpec>,
    pub compile_time: Duration,
    pub run_time: Duration,
    /// The animation frame it rendered.
    pub frame: i64,
}

impl Good {
    /// Every panel to display: the result images first, then the `show()` panels.
    pub fn panels(&self) -> Vec<(String, Image)> {
        let n = self.images.len();
        let results = self.images.iter().enumerate().map(|(i, img)| {
            let label = if n == 1 { "result".to_string() } else { format!("result {}", i + 1) };
            (label, img.clone())
        });
        results.chain(self.shown.iter().cloned()).collect()
    }
}

/// The state after a finished run: its error if it failed, and the last good result either way.
#[derive(Debug, Clone)]
pub struct Report {
    /// Finished runs so far, this one included (cancelled runs are not counted).
    pub run: u64,
    /// The newest request this run served (compare with the ticket [`Session::change`] returns).
    pub request: u64,
    /// Why it ran.
    pub trigger: Trigger,
    /// The error of this run, if it failed. The last good images stay in `good`.
    pub error: Option<ScriptError>,
    /// The last good result (this run's if it succeeded).
    pub good: Option<Arc<Good>>,
    /// The params of the last good run (a failed run cannot say which it would have declared).
    pub params: Vec<ParamSpec>,
    /// The values set from controls (on top of `--set`).
    pub overrides: Vec<(String, String)>,
    /// Files a change of which triggers a run: the script, its imports and what it loaded.
    pub watched: Vec<PathBuf>,
    /// Compile and run time of this run.
    pub compile_time: Duration,
    pub run_time: Duration,
    /// The frame this run rendered.
    pub frame: i64,
    /// When the first change that this run served arrived, and when the run finished.
    pub requested_at: Instant,
    pub finished_at: Instant,
}

impl Report {
    /// True when this run succeeded.
    pub fn ok(&self) -> bool {
        self.error.is_none()
    }
}

type Listener = Box<dyn Fn(&Arc<Report>) + Send + Sync>;

/// Stamps of everything a run depends on.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint(u64);

struct State {
    /// The newest request id and the newest one a finished run served.
    requested: u64,
    served: u64,
    /// The request to serve next: merged since the last run started.
    force: bool,
    trigger: Trigger,
    first_request_at: Option<Instant>,
    overrides: Vec<(String, String)>,
    frame: i64,
    /// The run in flight: its cancel flag and the fingerprint of what it read.
    running: Option<(Arc<AtomicBool>, Fingerprint)>,
    /// The fingerprint of the last finished run.
    last_done: Option<Fingerprint>,
    latest: Option<Arc<Report>>,
    good: Option<Arc<Good>>,
    watched: Vec<PathBuf>,
    runs: u64,
    shutdown: bool,
}

struct Inner {
    /// What every run starts from; each run sets its frame, cancel flag and control overrides.
    config: RunConfig,
    limits: Limits,
    /// The script, normalised (what watchers compare event paths with).
    script: PathBuf,
    state: Mutex<State>,
    wake: Condvar,
    listeners: Mutex<Vec<Listener>>,
}

/// A live-coding session. Create it with [`Session::start`]: it runs the script at once on its
/// worker thread, then again for every [`Change`] fed to it.
///
/// ```no_run
/// use kiln::live::{Change, Session};
/// use kiln::script::RunConfig;
/// use kiln::Limits;
/// use std::time::Duration;
///
/// let config = RunConfig { timeout: Some(Duration::from_secs(60)), ..RunConfig::new("scripts/noise.rhai") };
/// let session = Session::start(config, Limits::default());
/// let first = session.wait(1, Duration::from_secs(30)).expect("first run");
/// let ticket = session.change(Change::Param { name: "scale".into(), value: "8".into() });
/// let report = session.wait(ticket, Duration::from_secs(30)).expect("re-run");
/// match &report.error {
///     None => println!("{} images", report.good.as_ref().unwrap().images.len()),
///     Some(e) => eprintln!("{e}"), // the last good images are still in report.good
/// }
/// # let _ = first;
/// ```
pub struct Session {
    inner: Arc<Inner>,
    worker: Option<JoinHandle<()>>,
}

fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Session {
    /// Starts the worker and requests the first run. `config.timeout` is the wall-clock limit
    /// per run (an infinite loop stops there even without a new save); its `frame` and `cancel`
    /// are the session's to set, and its `params` are the `--set` values that control moves
    /// override.
    pub fn start(config: RunConfig, limits: Limits) -> Session {
        let script = normalize(&config.script);
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                requested: 1,
                served: 0,
                force: true,
                trigger: Trigger::Start,
                first_request_at: Some(Instant::now()),
                overrides: Vec::new(),
                frame: 0,
                running: None,
                last_done: None,
                latest: None,
                good: None,
                watched: vec![script.clone()],
                runs: 0,
                shutdown: false,
            }),
            script,
            config,
            limits,
            wake: Condvar::new(),
            listeners: Mutex::new(Vec::new()),
        });
        let worker_inner = inner.clone();
        let worker =
            std::thread::Builder::new().name("kiln-live-session".into()).spawn(move || worker(worker_inner)).ok();
        if worker.is_none() {
            // Without a worker nothing would ever run; say so instead of hanging.
            crate::console::err(format_args!("kiln: cannot start the session worker thread"));
        }
        Session { inner, worker }
    }

    /// The config every run starts from.
    pub fn config(&self) -> &RunConfig {
        &self.inner.config
    }

    /// The engine limits of the session's host.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    /// The script, as an absolute normalised path.
    pub fn script(&self) -> &Path {
        &self.inner.script
    }

    /// Feeds a change in. Returns a ticket: the report with `request >= ticket` reflects it.
    /// A change that arrives while a run is in flight cancels that run.
    pub fn change(&self, change: Change) -> u64 {
        // Stamping files reads the script; do it before taking the lock.
        let files_fp = matches!(change, Change::Files(_)).then(|| {
            let watched = lock(&self.inner.state).watched.clone();
            fingerprint(&self.inner.script, &watched).1
        });
        let mut st = lock(&self.inner.state);
        let trigger = match change {
            Change::Files(_) => {
                let current = st.running.as_ref().map(|(_, fp)| fp).or(st.last_done.as_ref());
                if files_fp.as_ref() == current {
                    // Nothing the run depends on differs from what the run in flight (or the
                    // last run) read: a second save, a touch, a rename dance. The run in flight
                    // or the one pending serves this change.
                    return st.requested;
                }
                Trigger::Files
            }
            Change::Param { name, value } => {
                st.overrides.retain(|(k, _)| *k != name);
                st.overrides.push((name, value));
                st.force = true;
                Trigger::Param
            }
            Change::ResetParams => {
                st.overrides.clear();
                st.force = true;
                Trigger::Param
            }
            Change::Frame(f) => {
                st.frame = f;
                st.force = true;
                Trigger::Frame
            }
            Change::Rerun => {
                st.force = true;
                Trigger::Rerun
            }
        };
        st.requested += 1;
        st.trigger = trigger;
        st.first_request_at.get_or_insert_with(Instant::now);
        if let Some((cancel, _)) = &st.running {
            cancel.store(true, Ordering::Relaxed);
        }
        let ticket = st.requested;
        drop(st);
        self.inner.wake.notify_all();
        ticket
    }

    /// Waits until a finished run has served `ticket` (or a later request), up to `timeout`.
    pub fn wait(&self, ticket: u64, timeout: Duration) -> Option<Arc<Report>> {
        let deadline = Instant::now() + timeout;
        let mut st = lock(&self.inner.state);
        loop {
            if st.served >= ticket {
                if let Some(r) = &st.latest {
                    return Some(r.clone());
                }
            }
            let now = Instant::now();
            if now >= deadline || st.shutdown {
                return None;
            }
            st = self.inner.wake.wait_timeout(st, deadline - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }

    /// Feeds a change in and waits for its report.
    pub fn apply(&self, change: Change, timeout: Duration) -> Option<Arc<Report>> {
        let ticket = self.change(change);
        self.wait(ticket, timeout)
    }

    /// The newest report, if a run has finished.
    pub fn latest(&self) -> Option<Arc<Report>> {
        lock(&self.inner.state).latest.clone()
    }

    /// True when no run is in flight or waiting.
    pub fn is_idle(&self) -> bool {
        let st = lock(&self.inner.state);
        st.running.is_none() && st.requested == st.served
    }

    /// The files whose change should trigger a run.
    pub fn watched(&self) -> Vec<PathBuf> {
        lock(&self.inner.state).watched.clone()
    }

    /// The current animation frame.
    pub fn frame(&self) -> i64 {
        lock(&self.inner.state).frame
    }

    /// Calls `f` on the worker thread after every finished run, and at once with the newest
    /// report if a run has already finished, so no report is missed or seen twice. Keep `f`
    /// short (hand work off), and do not call `on_report` from inside it.
    pub fn on_report(&self, f: impl Fn(&Arc<Report>) + Send + Sync + 'static) {
        let mut listeners = self.inner.listeners.lock().unwrap_or_else(|e| e.into_inner());
        let latest = lock(&self.inner.state).latest.clone();
        if let Some(r) = latest {
            f(&r);
        }
        listeners.push(Box::new(f));
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        {
            let mut st = lock(&self.inner.state);
            st.shutdown = true;
            if let Some((cancel, _)) = &st.running {
                cancel.store(true, Ordering::Relaxed);
            }
        }
        self.inner.wake.notify_all();
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// Hashes the script's bytes and the stamps (mtime, length) of its other inputs. Returns the
/// script's bytes too, so the run compiles exactly what was fingerprinted.
fn fingerprint(script: &Path, watched: &[PathBuf]) -> (std::io::Result<Vec<u8>>, Fingerprint) {
    let mut h = DefaultHasher::new();
    let bytes = std::fs::read(script);
    match &bytes {
        Ok(b) => b.hash(&mut h),
        Err(e) => e.kind().hash(&mut h),
    }
    for p in watched.iter().filter(|p| p.as_path() != script) {
        p.hash(&mut h);
        if let Ok(m) = std::fs::metadata(p) {
            m.len().hash(&mut h);
            m.modified().unwrap_or(SystemTime::UNIX_EPOCH).hash(&mut h);
        }
    }
    (bytes, Fingerprint(h.finish()))
}

/// One run the worker took from the state: the newest request and what it reads.
struct Job {
    /// The newest request id it serves, and why it runs.
    request: u64,
    trigger: Trigger,
    requested_at: Instant,
    config: RunConfig,
    /// The script's bytes and the fingerprint they were read with.
    bytes: std::io::Result<Vec<u8>>,
    fp: Fingerprint,
    /// The files watched when it started (kept when it fails).
    watched: Vec<PathBuf>,
}

fn worker(inner: Arc<Inner>) {
    let host = Host::new(inner.limits.clone());
    // The point of one long-lived host: a re-run does not decode the photos it loads again.
    host.keep_decoded_images(true);
    let name = inner.config.script.display().to_string();
    while let Some(mut job) = next_job(&inner) {
        let bytes = std::mem::replace(&mut job.bytes, Ok(Vec::new()));
        let (result, compile_time) = match compile(&host, &name, bytes) {
            Ok(c) => (host.run(&c, job.config.clone()), c.compile_time),
            Err(e) => (Err(e), Duration::ZERO),
        };
        publish(&inner, job, result, compile_time);
    }
}

/// Waits for a request and takes the newest one; `None` once the session stops. A request whose
/// fingerprint equals the last finished run's is served without running.
fn next_job(inner: &Inner) -> Option<Job> {
    let mut st = lock(&inner.state);
    loop {
        while st.requested == st.served && !st.shutdown {
            st = inner.wake.wait(st).unwrap_or_else(|e| e.into_inner());
        }
        if st.shutdown {
            return None;
        }
        let watched = st.watched.clone();
        // Reading the script under the lock keeps "what this run read" and "what a change
        // compares with" consistent; it is one small file.
        let (bytes, fp) = fingerprint(&inner.script, &watched);
        if !st.force && st.last_done.as_ref() == Some(&fp) {
            st.served = st.requested;
            st.first_request_at = None;
            inner.wake.notify_all();
            continue;
        }
        st.force = false;
        let cancel = Arc::new(AtomicBool::new(false));
        st.running = Some((cancel.clone(), fp.clone()));
        let mut config = inner.config.clone();
        config.params.extend(st.overrides.iter().cloned());
        config.frame = st.frame;
        config.cancel = Some(cancel);
        let requested_at = st.first_request_at.take().unwrap_or_else(Instant::now);
        return Some(Job { request: st.requested, trigger: st.trigger, requested_at, config, bytes, fp, watched });
    }
}

/// Records a finished run and tells the listeners, unless it was cancelled: a cancelled run is
/// stale (a newer request waits), so it is neither counted nor reported.
fn publish(inner: &Inner, job: Job, result: Result<Outcome, ScriptError>, compile_time: Duration) {
    // Listeners before state, in this order everywhere: a listener added while this report is
    // published sees it exactly once (see `on_report`).
    let listeners = inner.listeners.lock().unwrap_or_else(|e| e.into_inner());
    let mut st = lock(&inner.state);
    st.running = None;
    // A run stopped by its cancel flag may fail with another kind of error than `Cancelled` (a
    // built-in that noticed the flag and gave up its own way); the flag decides.
    let flagged = job.config.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed));
    let cancelled = matches!(&result, Err(e) if e.kind == ErrorKind::Cancelled || flagged);
    if cancelled || st.shutdown {
        // A newer request is waiting (or we are stopping): this run's result is stale.
        if st.first_request_at.is_none() {
            st.first_request_at = Some(job.requested_at);
        }
        st.force = st.force || job.trigger != Trigger::Files;
        return;
    }
    st.runs += 1;
    st.last_done = Some(job.fp);
    let frame = job.config.frame;
    let (error, compile_time, run_time) = match result {
        Ok(outcome) => {
            st.watched = watched_after_success(&inner.script, &outcome);
            let times = (outcome.compile_time, outcome.run_time);
            st.good = Some(Arc::new(Good {
                run: st.runs,
                images: outcome.images,
                shown: outcome.shown,
                sets: outcome.set.map(|s| ("result".to_string(), s)).into_iter().chain(outcome.shown_sets).collect(),
                params: outcome.params,
                compile_time: times.0,
                run_time: times.1,
                frame,
            }));
            (None, times.0, times.1)
        }
        Err(e) => {
            st.watched = watched_after_error(&inner.script, job.watched, &e);
            (Some(e), compile_time, Duration::ZERO)
        }
    };
    let report = Arc::new(Report {
        run: st.runs,
        request: job.request,
        trigger: job.trigger,
        error,
        params: st.good.as_ref().map(|g| g.params.clone()).unwrap_or_default(),
        good: st.good.clone(),
        overrides: st.overrides.clone(),
        watched: st.watched.clone(),
        compile_time,
        run_time,
        frame,
        requested_at: job.requested_at,
        finished_at: Instant::now(),
    });
    st.latest = Some(report.clone());
    st.served = job.request;
    drop(st);
    inner.wake.notify_all();
    for f in listeners.iter() {
        f(&report);
    }
}

/// What to watch after a good run: the script and what it read, minus what it wrote (a script
/// that loads and saves the same file must not trigger itself).
fn watched_after_success(script: &Path, outcome: &Outcome) -> Vec<PathBuf> {
    let mut w = vec![script.to_path_buf()];
    for p in outcome.inputs.iter().map(|p| normalize(p)) {
        if !w.contains(&p) && !outcome.outputs.iter().any(|o| normalize(o) == p) {
            w.push(p);
        }
    }
    w
}

/// What to watch after a failed run: what the last good run read, plus any file the error points
/// into (a module that a new import brought in and that fails to parse).
fn watched_after_error(script: &Path, before: Vec<PathBuf>, e: &ScriptError) -> Vec<PathBuf> {
    let mut w = if before.is_empty() { vec![script.to_path_buf()] } else { before };
    let sources = e.location.iter().chain(e.frames.iter().filter_map(|f| f.location.as_ref()));
    for loc in sources {
        let p = Path::new(&loc.source);
        if !loc.source.starts_with("std/") && p.is_file() {
            let p = normalize(p);
            if !w.contains(&p) {
                w.push(p);
            }
        }
    }
    w
}

/// Compiles the bytes the fingerprint read, with `Host::compile_file`'s messages.
fn compile(host: &Host, name: &str, bytes: std::io::Result<Vec<u8>>) -> Result<crate::script::Compiled, ScriptError> {
    let fail = |msg: String| ScriptError::plain(ErrorKind::Compile, msg);
    let bytes = bytes.map_err(|e| fail(format!("{name}: cannot read script: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        fail(format!(
            "{name}: the script is not valid UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })?;
    if text.trim().is_empty() {
        return Err(fail(format!(
            "{name}: the script is empty (an editor may be mid-save); keeping the last good result"
        )));
    }
    host.compile(name, &text)
}
