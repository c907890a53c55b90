//! The browser preview: a local HTTP server (127.0.0.1 only) with one embedded page that shows a
//! [`Session`]'s result and `show()` panels, its errors, timings and parameter controls, and
//! updates itself through Server-Sent Events.
//!
//! Owns: the routes, the PNG encoding of panels for the page, the JSON the page reads, the port
//! search and the animation ticker. Must not know how files are watched or scripts run: it feeds
//! [`Change`]s to the session and turns its [`Report`]s into page state.
//!
//! A PBR set (the result or a `show(set)` panel) is sent as one panel per map, labelled
//! `LABEL: channel`, and listed in the state's `sets` with the panel index of each map; the page
//! draws it lit with WebGL from those same PNGs (see `page/index.html`).
//!
//! Routes: `/` the page; `/events` SSE, one `state` event per report (the newest state at once on
//! connect); `/state` the same JSON once; `/img/{run}/{i}` panel `i` of good run `run` at display
//! size; `/full/{run}/{i}` the full-size PNG, encoded on demand; `POST /param {name, value}`,
//! `POST /reset`, `POST /rerun`, `POST /animate {playing}`.
//!
//! Panels are PNG at fast compression (the `image` crate's fastest zlib level): lossless, so the
//! pixel readout is exact for 8-bit content, and a 1024² RGBA image encodes in ~10 ms. Images
//! larger than [`PreviewOptions::display_max`] on a side are box-downscaled here for the page —
//! a preview-only thumbnail, not an editing op, so it does not go through `ops::geometry`.

use std::convert::Infallible;
use std::future::{Future, IntoFuture};
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures_util::Stream;
use rayon::prelude::*;
use serde::Serialize;
use serde_json::{json, Value};
use tokio::sync::{mpsc, watch};

use crate::image::io::{self, Compression, Format, SaveOptions};
use crate::image::Image;
use crate::live::session::{Change, Report, Session};
use crate::script::context::ParamSpec;
use crate::script::{ErrorKind, ParamKind, ScriptError};

const PAGE: &str = include_str!("page/index.html");

/// How the preview behaves.
#[derive(Debug, Clone)]
pub struct PreviewOptions {
    /// Play `frame()` forward at this many frames per second (`kiln watch --animate FPS`).
    pub animate: Option<f64>,
    /// Longest side sent to the page; larger images are downscaled (full size on demand).
    pub display_max: u32,
}

impl Default for PreviewOptions {
    fn default() -> PreviewOptions {
        PreviewOptions { animate: None, display_max: 2048 }
    }
}

/// Binds 127.0.0.1:`port`, or the next free port up to `tries` ports on (port 0: any free port).
/// Returns the listener and the ports that were busy.
pub fn bind(port: u16, tries: u16) -> std::io::Result<(TcpListener, Vec<u16>)> {
    let mut busy = Vec::new();
    let mut last_err = None;
    for i in 0..tries.max(1) {
        let Some(p) = port.checked_add(if port == 0 { 0 } else { i }) else {
            break;
        };
        match TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, p))) {
            Ok(l) => return Ok((l, busy)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {
                busy.push(p);
                last_err = Some(e);
            }
            Err(e) => return Err(e),
        }
        if port == 0 {
            break;
        }
    }
    Err(last_err.unwrap_or_else(|| std::io::Error::other("no port to try")))
}

/// One panel encoded for the page.
struct Panel {
    label: String,
    image: Image,
    png: Bytes,
    display: (u32, u32),
}

/// A PBR set of a rendered run: its maps are panels, named by channel.
struct RenderedSet {
    label: String,
    /// `(channel, index into Rendered::panels)` in `CHANNELS` order.
    maps: Vec<(&'static str, usize)>,
}

/// The page's copy of one good run.
struct Rendered {
    run: u64,
    /// The result and `show()` images, then every set's maps.
    panels: Vec<Panel>,
    sets: Vec<RenderedSet>,
    encode_time: Duration,
}

struct App {
    session: Arc<Session>,
    script: String,
    options: PreviewOptions,
    /// The previous and the newest rendered good run (a page may still fetch the previous one).
    rendered: Mutex<Vec<Arc<Rendered>>>,
    state: watch::Sender<Arc<String>>,
    playing: AtomicBool,
    /// The newest report, to publish the state again when only the page's controls changed.
    last: Mutex<Option<Arc<Report>>>,
}

impl App {
    fn find(&self, run: u64) -> Option<Arc<Rendered>> {
        self.rendered.lock().unwrap_or_else(|e| e.into_inner()).iter().find(|x| x.run == run).cloned()
    }
}

/// Serves the preview of `session` on `listener` until `shutdown` completes.
pub async fn serve(
    session: Arc<Session>,
    listener: TcpListener,
    options: PreviewOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let port = listener.local_addr()?.port();
    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let script = session.config().script.display().to_string();
    let (state, _) = watch::channel(Arc::new(to_json(&PageWaiting { script: &script, run: 0, waiting: true })));
    let app = Arc::new(App {
        session: session.clone(),
        script,
        playing: AtomicBool::new(options.animate.is_some()),
        options,
        rendered: Mutex::new(Vec::new()),
        state,
        last: Mutex::new(None),
    });

    // Reports arrive on the session's worker thread; encoding happens on a blocking thread here.
    let (tx, mut rx) = mpsc::unbounded_channel::<Arc<Report>>();
    let report_tx = Mutex::new(tx);
    session.on_report(move |r| {
        let _ = report_tx.lock().map(|t| t.send(r.clone()));
    });
    let publisher = app.clone();
    tokio::spawn(async move {
        while let Some(mut report) = rx.recv().await {
            // Only the newest report matters; skip the ones a save storm queued up.
            while let Ok(r) = rx.try_recv() {
                report = r;
            }
            let app = publisher.clone();
            let _ = tokio::task::spawn_blocking(move || publish(&app, &report)).await;
        }
    });
    if let Some(fps) = app.options.animate {
        spawn_ticker(Arc::downgrade(&app), fps);
    }

    let router = Router::new()
        .route("/", get(page))
        .route("/events", get(events))
        .route("/state", get(current_state))
        .route("/img/{run}/{index}", get(panel_image))
        .route("/full/{run}/{index}", get(full_image))
        .route("/param", post(set_param))
        .route("/reset", post(reset_params))
        .route("/rerun", post(rerun))
        .route("/animate", post(animate))
        .layer(axum::middleware::from_fn_with_state(port, local_only))
        .with_state(app);
    let server = axum::serve(listener, router).into_future();
    // Dropping the server future closes every connection, SSE streams included (a graceful
    // shutdown would wait for the page to hang up, which it never does).
    tokio::select! {
        r = server => r,
        _ = shutdown => Ok(()),
    }
}

/// Plays frames forward: each tick requests the next frame if the session is idle, so a slow
/// frame drops ticks instead of cancelling itself over and over.
fn spawn_ticker(app: std::sync::Weak<App>, fps: f64) {
    let period = Duration::from_secs_f64(1.0 / fps.clamp(0.1, 240.0));
    std::thread::spawn(move || {
        let mut next = Instant::now() + period;
        loop {
            std::thread::sleep(next.saturating_duration_since(Instant::now()));
            next += period;
            let Some(app) = app.upgrade() else { return };
            if app.playing.load(Ordering::Relaxed) && app.session.is_idle() {
                let f = app.session.frame();
                app.session.change(Change::Frame(f + 1));
            }
        }
    });
}

/// Box-downscales `img` so its longer side is at most `max` (a preview thumbnail).
fn thumbnail(img: &Image, max: u32) -> Image {
    let (w, h) = img.dimensions();
    let f = w.max(h).div_ceil(max.max(1));
    if f <= 1 {
        return img.clone();
    }
    let (ow, oh) = (w.div_ceil(f), h.div_ceil(f));
    let f = f as usize;
    let (w, h) = (w as usize, h as usize);
    let src = img.pixels();
    let mut out = vec![0f32; ow as usize * oh as usize * 4];
    out.par_chunks_mut(ow as usize * 4).enumerate().for_each(|(oy, row)| {
        for ox in 0..ow as usize {
            let mut acc = [0f32; 4];
            let mut n = 0f32;
            for y in oy * f..((oy + 1) * f).min(h) {
                for x in ox * f..((ox + 1) * f).min(w) {
                    let p = &src[(y * w + x) * 4..(y * w + x) * 4 + 4];
                    // Average premultiplied so transparent pixels do not darken the edges.
                    acc[0] += p[0] * p[3];
                    acc[1] += p[1] * p[3];
                    acc[2] += p[2] * p[3];
                    acc[3] += p[3];
                    n += 1.0;
                }
            }
            let a = acc[3];
            let px = if a > 0.0 { [acc[0] / a, acc[1] / a, acc[2] / a, a / n] } else { [0.0; 4] };
            row[ox * 4..ox * 4 + 4].copy_from_slice(&px);
        }
    });
    Image::from_rgba(ow, oh, out).unwrap_or_else(|_| img.clone())
}

fn encode_png(img: &Image) -> Result<Vec<u8>, String> {
    let opts = SaveOptions { compression: Compression::Fast, ..Default::default() };
    io::encode(img, Format::Png, &opts, Path::new("preview.png")).map_err(|e| e.to_string())
}

/// Encodes the report's good run if it is new, then publishes the page state.
fn publish(app: &App, report: &Arc<Report>) {
    // Held to the end: publishes never interleave, and an older report never replaces a newer one.
    let mut last = app.last.lock().unwrap_or_else(|e| e.into_inner());
    if last.as_ref().is_some_and(|l| l.run > report.run) {
        return;
    }
    *last = Some(report.clone());
    let current = app.rendered.lock().unwrap_or_else(|e| e.into_inner()).last().cloned();
    let rendered = match (&report.good, current) {
        (Some(good), Some(cur)) if cur.run == good.run => Some(cur),
        (Some(good), _) => {
            let start = Instant::now();
            let mut todo = good.panels();
            let mut sets = Vec::new();
            for (label, set) in &good.sets {
                let mut maps = Vec::new();
                for (channel, img) in set.maps() {
                    maps.push((channel, todo.len()));
                    todo.push((format!("{label}: {channel}"), img.clone()));
                }
                sets.push(RenderedSet { label: label.clone(), maps });
            }
            let panels: Vec<Panel> = todo
                .into_par_iter()
                .map(|(label, image)| {
                    let thumb = thumbnail(&image, app.options.display_max);
                    let png = encode_png(&thumb).unwrap_or_default();
                    Panel { label, display: thumb.dimensions(), image, png: Bytes::from(png) }
                })
                .collect();
            let r = Arc::new(Rendered { run: good.run, panels, sets, encode_time: start.elapsed() });
            let mut slot = app.rendered.lock().unwrap_or_else(|e| e.into_inner());
            slot.push(r.clone());
            if slot.len() > 2 {
                slot.remove(0);
            }
            Some(r)
        }
        (None, _) => None,
    };
    let state = to_json(&page_state(app, report, rendered.as_deref()));
    app.state.send_replace(Arc::new(state));
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// Quotes a `--set` value for a POSIX shell when it needs it.
fn shell_quote(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "-_.,:/+#=@%".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

fn kind_name(k: &ParamKind) -> &'static str {
    match k {
        ParamKind::Int => "int",
        ParamKind::Float => "float",
        ParamKind::Bool => "bool",
        ParamKind::Color => "color",
        ParamKind::Text => "text",
    }
}

/// The JSON the page renders (`state` events and `/state`). Serialised from these structs, so
/// the names the page reads are spelled out here rather than taken from Rust `Debug` output.
#[derive(Serialize)]
struct PageState<'a> {
    script: &'a str,
    run: u64,
    request: u64,
    trigger: &'static str,
    ok: bool,
    error: Option<PageError>,
    good_run: Option<u64>,
    panels: Vec<PagePanel>,
    /// PBR sets to show lit; their maps are also in `panels`.
    sets: Vec<PageSet>,
    timings: PageTimings,
    params: Vec<PageParam<'a>>,
    /// The `--set` flags that reproduce the current controls on the command line.
    set_flags: String,
    frame: i64,
    animate: Option<f64>,
    playing: bool,
    watched: Vec<String>,
}

/// The state before the first run has finished.
#[derive(Serialize)]
struct PageWaiting<'a> {
    script: &'a str,
    run: u64,
    waiting: bool,
}

/// A failed run's error.
#[derive(Serialize)]
struct PageError {
    /// One of `compile`, `runtime`, `input`, `limit`, `io`, `model`, `timeout`, `cancelled`,
    /// `internal` ([`error_kind_name`]).
    kind: &'static str,
    /// The whole diagnostic as the terminal prints it.
    text: String,
    message: String,
    location: Option<String>,
    line: Option<usize>,
    column: Option<usize>,
    line_text: Option<String>,
    frames: Vec<String>,
}

#[derive(Serialize)]
struct PagePanel {
    label: String,
    url: String,
    full_url: String,
    width: u32,
    height: u32,
    display_width: u32,
    display_height: u32,
    scaled: bool,
}

/// A PBR set: the page draws it lit with WebGL from its maps' panel URLs.
#[derive(Serialize)]
struct PageSet {
    label: String,
    maps: Vec<PageSetMap>,
}

#[derive(Serialize)]
struct PageSetMap {
    /// `albedo`, `normal`, `height`, `roughness`, `metallic` or `ao`.
    channel: &'static str,
    /// The map's index in `panels`.
    panel: usize,
    url: String,
}

#[derive(Serialize)]
struct PageTimings {
    compile_ms: f64,
    run_ms: f64,
    encode_ms: Option<f64>,
    good_compile_ms: Option<f64>,
    good_run_ms: Option<f64>,
}

#[derive(Serialize)]
struct PageParam<'a> {
    name: &'a str,
    kind: &'static str,
    default: &'a str,
    value: &'a str,
    min: Option<f64>,
    max: Option<f64>,
    step: Option<f64>,
}

/// The page's name for an error kind.
fn error_kind_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Compile => "compile",
        ErrorKind::Runtime => "runtime",
        ErrorKind::Input => "input",
        ErrorKind::Limit => "limit",
        ErrorKind::Io => "io",
        ErrorKind::Model => "model",
        ErrorKind::Timeout => "timeout",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::Internal => "internal",
    }
}

/// The page state of `report`.
fn page_state<'a>(app: &'a App, report: &'a Report, rendered: Option<&Rendered>) -> PageState<'a> {
    let set_flags = report
        .params
        .iter()
        .map(|p| format!("--set {}", shell_quote(&format!("{}={}", p.name, p.value))))
        .collect::<Vec<_>>()
        .join(" ");
    let good = report.good.as_ref();
    PageState {
        script: &app.script,
        run: report.run,
        request: report.request,
        trigger: report.trigger.as_str(),
        ok: report.ok(),
        error: report.error.as_ref().map(page_error),
        good_run: good.map(|g| g.run),
        panels: rendered.map(page_panels).unwrap_or_default(),
        sets: rendered.map(page_sets).unwrap_or_default(),
        timings: PageTimings {
            compile_ms: ms(report.compile_time),
            run_ms: ms(report.run_time),
            encode_ms: rendered.map(|r| ms(r.encode_time)),
            good_compile_ms: good.map(|g| ms(g.compile_time)),
            good_run_ms: good.map(|g| ms(g.run_time)),
        },
        params: report.params.iter().map(page_param).collect(),
        set_flags,
        frame: report.frame,
        animate: app.options.animate,
        playing: app.playing.load(Ordering::Relaxed),
        watched: report.watched.iter().map(|p| p.display().to_string()).collect(),
    }
}

/// The error overlay: the diagnostic's text and its parts, for the caret view.
fn page_error(e: &ScriptError) -> PageError {
    PageError {
        kind: error_kind_name(e.kind),
        text: e.to_string(),
        message: e.message.clone(),
        location: e.location.as_ref().map(|l| l.to_string()),
        line: e.location.as_ref().map(|l| l.line),
        column: e.location.as_ref().map(|l| l.column),
        line_text: e.line_text.clone(),
        frames: e
            .frames
            .iter()
            .map(|f| match &f.location {
                Some(l) => format!("{} at {l}", f.what),
                None => f.what.clone(),
            })
            .collect(),
    }
}

/// The result and `show()` panels of a rendered run, with their thumbnail and full-size URLs.
fn page_panels(r: &Rendered) -> Vec<PagePanel> {
    r.panels
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (w, h) = p.image.dimensions();
            PagePanel {
                label: p.label.clone(),
                url: format!("/img/{}/{i}", r.run),
                full_url: format!("/full/{}/{i}", r.run),
                width: w,
                height: h,
                display_width: p.display.0,
                display_height: p.display.1,
                scaled: p.display != (w, h),
            }
        })
        .collect()
}

/// The PBR sets of a rendered run, with their maps' display-size URLs.
fn page_sets(r: &Rendered) -> Vec<PageSet> {
    r.sets
        .iter()
        .map(|s| PageSet {
            label: s.label.clone(),
            maps: s
                .maps
                .iter()
                .map(|&(channel, panel)| PageSetMap { channel, panel, url: format!("/img/{}/{panel}", r.run) })
                .collect(),
        })
        .collect()
}

/// A `param()` control.
fn page_param(p: &ParamSpec) -> PageParam<'_> {
    PageParam {
        name: &p.name,
        kind: kind_name(&p.kind),
        default: &p.default,
        value: &p.value,
        min: p.min,
        max: p.max,
        step: p.step,
    }
}

/// Serialises page state; these structs hold only strings, numbers and options, so it cannot fail.
fn to_json(state: &impl Serialize) -> String {
    serde_json::to_string(state).unwrap_or_else(|e| json!({ "error": e.to_string() }).to_string())
}

/// Answers only requests addressed to this server by a local name. A web page elsewhere that
/// points a DNS name at 127.0.0.1 (DNS rebinding) sends its own host name and is refused; POST
/// routes take JSON bodies, which a cross-site form cannot send without a CORS preflight.
async fn local_only(State(port): State<u16>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let host = req.headers().get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let ok = ["127.0.0.1", "localhost", "[::1]"].iter().any(|name| host == format!("{name}:{port}") || host == *name);
    if ok {
        next.run(req).await
    } else {
        (StatusCode::FORBIDDEN, "kiln watch answers only http://127.0.0.1:PORT/").into_response()
    }
}

async fn page() -> impl IntoResponse {
    ([(header::CACHE_CONTROL, "no-store")], Html(PAGE))
}

async fn events(State(app): State<Arc<App>>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let rx = app.state.subscribe();
    let stream = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let data = rx.borrow_and_update().clone();
        Some((Ok(Event::default().event("state").data(data.as_str())), (rx, false)))
    });
    Sse::new(stream).keep_alive(KeepAlive::default())
}

async fn current_state(State(app): State<Arc<App>>) -> Response {
    let body = app.state.borrow().clone();
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], body.to_string())
        .into_response()
}

fn png_response(bytes: Bytes) -> Response {
    // A run's panels never change, so the URL (which names the run) can be cached.
    ([(header::CONTENT_TYPE, "image/png"), (header::CACHE_CONTROL, "max-age=3600")], bytes).into_response()
}

async fn panel_image(State(app): State<Arc<App>>, UrlPath((run, index)): UrlPath<(u64, usize)>) -> Response {
    match app.find(run).and_then(|r| r.panels.get(index).map(|p| p.png.clone())) {
        Some(png) => png_response(png),
        None => (StatusCode::NOT_FOUND, "no such panel (a newer run replaced it)").into_response(),
    }
}

async fn full_image(State(app): State<Arc<App>>, UrlPath((run, index)): UrlPath<(u64, usize)>) -> Response {
    let Some(img) = app.find(run).and_then(|r| r.panels.get(index).map(|p| p.image.clone())) else {
        return (StatusCode::NOT_FOUND, "no such panel (a newer run replaced it)").into_response();
    };
    match tokio::task::spawn_blocking(move || encode_png(&img)).await {
        Ok(Ok(png)) => png_response(Bytes::from(png)),
        Ok(Err(e)) => (StatusCode::INTERNAL_SERVER_ERROR, e).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// A JSON value as `--set` text.
fn as_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

async fn set_param(State(app): State<Arc<App>>, Json(body): Json<Value>) -> Response {
    let name = body.get("name").and_then(Value::as_str).filter(|n| !n.is_empty());
    let value = body.get("value").and_then(as_text);
    match (name, value) {
        (Some(name), Some(value)) => {
            let ticket = app.session.change(Change::Param { name: name.to_string(), value });
            (StatusCode::ACCEPTED, Json(json!({ "ticket": ticket }))).into_response()
        }
        _ => (StatusCode::BAD_REQUEST, "expected {\"name\": string, \"value\": string|number|bool}").into_response(),
    }
}

async fn reset_params(State(app): State<Arc<App>>, Json(_): Json<Value>) -> Response {
    let ticket = app.session.change(Change::ResetParams);
    (StatusCode::ACCEPTED, Json(json!({ "ticket": ticket }))).into_response()
}

async fn rerun(State(app): State<Arc<App>>, Json(_): Json<Value>) -> Response {
    let ticket = app.session.change(Change::Rerun);
    (StatusCode::ACCEPTED, Json(json!({ "ticket": ticket }))).into_response()
}

async fn animate(State(app): State<Arc<App>>, Json(body): Json<Value>) -> Response {
    if app.options.animate.is_none() {
        return (StatusCode::BAD_REQUEST, "not animating: start kiln watch with --animate FPS").into_response();
    }
    let playing = body.get("playing").and_then(Value::as_bool).unwrap_or(false);
    app.playing.store(playing, Ordering::Relaxed);
    let last = app.last.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(report) = last {
        let app = app.clone();
        let _ = tokio::task::spawn_blocking(move || publish(&app, &report)).await;
    }
    StatusCode::NO_CONTENT.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_fits_and_averages() {
        let img =
            Image::from_fn(10, 4, |x, _| if x % 2 == 0 { [1.0, 0.0, 0.0, 1.0] } else { [0.0, 0.0, 1.0, 1.0] }).unwrap();
        let t = thumbnail(&img, 5);
        assert_eq!(t.dimensions(), (5, 2));
        let p = t.get(0, 0).unwrap();
        assert!((p.r - 0.5).abs() < 1e-6 && (p.b - 0.5).abs() < 1e-6, "{p:?}");
        assert_eq!(thumbnail(&img, 10).dimensions(), (10, 4));
    }

    #[test]
    fn thumbnail_ignores_transparent_colour() {
        let img =
            Image::from_fn(2, 1, |x, _| if x == 0 { [1.0, 1.0, 1.0, 1.0] } else { [0.0, 0.0, 0.0, 0.0] }).unwrap();
        let p = thumbnail(&img, 1).get(0, 0).unwrap();
        assert_eq!((p.r, p.a), (1.0, 0.5));
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("a=1.5"), "a=1.5");
        assert_eq!(shell_quote("label=hello world"), "'label=hello world'");
        assert_eq!(shell_quote("t=it's"), "'t=it'\\''s'");
    }

    #[test]
    fn busy_port_moves_on() {
        let (first, _) = bind(0, 1).unwrap();
        let port = first.local_addr().unwrap().port();
        let (second, busy) = bind(port, 20).unwrap();
        assert_ne!(second.local_addr().unwrap().port(), port);
        assert_eq!(busy.first(), Some(&port));
        assert!(second.local_addr().unwrap().ip().is_loopback());
    }
}
