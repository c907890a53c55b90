//! The HTTP face of the service: routes, the bearer-token check, admission (429), the request
//! body's parsing and limits, and the cancel-on-disconnect guard.
//!
//! Owns the JSON shapes of every endpoint. Must not know how a render runs: it hands a
//! validated [`Request`] to the [`Renderer`] on a blocking thread and turns the result into a
//! response.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde_json::{json, Map, Value};
use tokio::sync::Semaphore;

use crate::serve::render::{kind_name, ApiError, Rendered, Renderer, Request};

/// The largest request body (a render request is a few hundred bytes of JSON).
pub const MAX_BODY: usize = 64 << 10;
/// Oversized bodies up to this size are read before the 413 (see `render_inner`).
const DRAIN_LIMIT: usize = 1 << 20;
/// The widest `width` a render may ask for.
pub const MAX_WIDTH: u32 = 2048;

/// The server's shared state.
pub struct App {
    pub renderer: Arc<Renderer>,
    /// One permit per render allowed to run at once (`--max-concurrent`).
    permits: Semaphore,
    /// Renders running or waiting for a permit.
    admitted: AtomicUsize,
    /// Running plus waiting renders allowed before a 429.
    capacity: usize,
    token: Option<String>,
}

impl App {
    pub fn new(renderer: Renderer) -> App {
        let max = renderer.options.max_concurrent.max(1);
        let capacity = max + renderer.options.queue;
        let token = renderer.options.token.clone();
        App {
            renderer: Arc::new(renderer),
            permits: Semaphore::new(max),
            admitted: AtomicUsize::new(0),
            capacity,
            token,
        }
    }
}

/// The routes, with the token check in front of all but `/health`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/render/{script}", post(render))
        .route("/scripts", get(scripts))
        .route("/models", get(models))
        .route("/health", get(health))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(app.clone(), auth))
        .with_state(app)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({ "error": self.error, "kind": self.kind, "location": self.location });
        let mut resp = (status, axum::Json(body)).into_response();
        if self.status == 429 {
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if self.status == 401 {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

async fn auth(State(app): State<Arc<App>>, req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    if let Some(token) = &app.token {
        let given = req.headers().get(header::AUTHORIZATION).and_then(|h| h.to_str().ok()).unwrap_or("");
        let ok = given.strip_prefix("Bearer ").is_some_and(|g| same(g.trim().as_bytes(), token.as_bytes()));
        if !ok && req.uri().path() != "/health" {
            return ApiError::new(401, "unauthorized", "this server needs 'Authorization: Bearer <token>'")
                .into_response();
        }
    }
    next.run(req).await
}

/// Compares without stopping at the first difference (the token's bytes do not leak by timing).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn not_found() -> Response {
    ApiError::new(404, "not_found", "no such endpoint; GET /openapi.json lists them").into_response()
}

/// Runs `work` on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(ApiError::new(500, "internal", format!("the render thread failed: {e}"))))
}

/// A place among the running and waiting renders; given back when dropped.
struct Admission<'a>(&'a AtomicUsize);

impl Drop for Admission<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Sets the render's cancel flag when dropped unarmed: the handler's future is dropped when the
/// client goes away, and the render thread stops at its next check.
struct CancelOnDrop(Arc<AtomicBool>, bool);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if self.1 {
            self.0.store(true, Ordering::Relaxed);
        }
    }
}

async fn render(
    State(app): State<Arc<App>>,
    script: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match render_inner(app, script, headers, body).await {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

async fn render_inner(
    app: Arc<App>,
    script: Result<UrlPath<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let Ok(UrlPath(name)) = script else {
        return Err(ApiError::new(404, "not_found", "no such script; GET /scripts lists them"));
    };
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    if declared.is_some_and(|n: usize| n > MAX_BODY) {
        // Read (and drop) a moderately oversized body first: closing a socket with unread data
        // resets it, and the client would see a broken pipe instead of this 413.
        if declared.is_some_and(|n| n <= DRAIN_LIMIT) {
            let _ = axum::body::to_bytes(body, DRAIN_LIMIT).await;
        }
        return Err(too_large_body());
    }
    let bytes = axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| too_large_body())?;
    let renderer = app.renderer.clone();
    let (script, path) = {
        let r = renderer.clone();
        blocking(move || r.script_path(&name)).await?
    };
    let req = parse_request(script, &bytes)?;
    let etag_wanted = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).map(str::to_string);

    // From here on, a client that goes away stops the work done for it.
    let cancel = Arc::new(AtomicBool::new(false));
    let mut guard = CancelOnDrop(cancel.clone(), true);
    let (req, path, key, hit) = {
        let (r, cancel) = (renderer.clone(), cancel.clone());
        blocking(move || {
            // Params are checked against the script's declarations, read from one run with the
            // defaults (cached by script hash); a request without params needs no such run.
            if !req.params.is_empty() {
                let info = r.info(&req.script, &path, Some(cancel))?;
                r.check_params(&req, &info)?;
            }
            let (key, hit) = r.lookup(&req, &path)?;
            Ok((req, path, key, hit))
        })
        .await?
    };
    if let Some(rendered) = hit {
        guard.1 = false;
        return Ok(respond(rendered, etag_wanted.as_deref()));
    }

    // Admission: a bounded number of renders run or wait; past that the client retries later.
    if app.admitted.fetch_add(1, Ordering::AcqRel) >= app.capacity {
        app.admitted.fetch_sub(1, Ordering::AcqRel);
        return Err(ApiError::new(429, "busy", "too many renders in flight; retry later"));
    }
    let _admission = Admission(&app.admitted);
    let _permit = app.permits.acquire().await.map_err(|_| ApiError::new(503, "cancelled", "the server is stopping"))?;
    let result = blocking(move || renderer.render(&req, &path, &key, cancel)).await;
    guard.1 = false;
    Ok(respond(result?, etag_wanted.as_deref()))
}

fn too_large_body() -> ApiError {
    ApiError::new(413, "too_large", format!("the request body is over {} KiB", MAX_BODY >> 10))
}

fn respond(r: Rendered, if_none_match: Option<&str>) -> Response {
    let etag = format!("\"{}\"", r.etag);
    let matches = if_none_match
        .is_some_and(|v| v.split(',').map(|t| t.trim().trim_start_matches("W/")).any(|t| t == "*" || t == etag));
    let cache = if r.cached { "hit" } else { "miss" };
    let mut headers = HeaderMap::new();
    headers.insert(header::ETAG, HeaderValue::from_str(&etag).expect("hex is a valid header"));
    headers.insert("x-kiln-cache", HeaderValue::from_static(cache));
    if matches {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(r.content_type));
    (StatusCode::OK, headers, r.body).into_response()
}

/// `{ params, seed, format, width }` -> [`Request`]; an empty body takes every default. A body of
/// whitespace alone is not a JSON text and is refused like any other invalid JSON: taking it as
/// "no body" would let a broken client's request through as a different one.
fn parse_request(script: String, bytes: &[u8]) -> Result<Request, ApiError> {
    let value: Value = if bytes.is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(bytes).map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?
    };
    let Value::Object(map) = value else {
        return Err(ApiError::bad_request("the body must be a JSON object { params, seed, format, width }"));
    };
    const KEYS: [&str; 4] = ["params", "seed", "format", "width"];
    if let Some(k) = map.keys().find(|k| !KEYS.contains(&k.as_str())) {
        let shown: String = k.chars().take(40).collect();
        let hint = crate::suggest::did_you_mean(&shown, &KEYS);
        return Err(ApiError::bad_request(format!("unknown key '{shown}'{hint}; the keys are: {}", KEYS.join(", "))));
    }
    let mut params = Vec::new();
    match map.get("params") {
        None | Some(Value::Null) => {}
        Some(Value::Object(p)) => {
            for (name, v) in p {
                let text = match v {
                    Value::String(s) => s.clone(),
                    Value::Bool(b) => b.to_string(),
                    Value::Number(n) => match (n.as_i64(), n.as_f64()) {
                        (Some(i), _) => i.to_string(),
                        (None, Some(x)) => x.to_string(),
                        _ => {
                            return Err(ApiError::bad_request(format!(
                                "param '{name}': {n} is not a number kiln reads"
                            )))
                        }
                    },
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "param '{name}' must be a number, a string or a boolean"
                        )))
                    }
                };
                params.push((name.clone(), text));
            }
        }
        Some(_) => return Err(ApiError::bad_request("'params' must be an object of name: value")),
    }
    params.sort();
    let seed = match map.get("seed") {
        None | Some(Value::Null) => 0,
        Some(v) => v.as_i64().ok_or_else(|| ApiError::bad_request("'seed' must be a whole number (64-bit)"))?,
    };
    let format = match map.get("format") {
        None | Some(Value::Null) => "png".to_string(),
        Some(Value::String(s)) => s.to_ascii_lowercase(),
        Some(_) => return Err(ApiError::bad_request("'format' must be a string such as \"png\"")),
    };
    crate::serve::render::parse_format(&format)?;
    let width = match map.get("width") {
        None | Some(Value::Null) => None,
        Some(v) => match v.as_u64() {
            Some(w) if w > MAX_WIDTH as u64 => {
                // 400, not 413: the schema states the maximum, so this is a malformed request.
                return Err(ApiError::new(400, "too_large", format!("'width' {w} is over the limit of {MAX_WIDTH}")));
            }
            Some(w) if w >= 1 => Some(w as u32),
            _ => return Err(ApiError::bad_request("'width' must be a whole number from 1")),
        },
    };
    Ok(Request { script, params, seed, format, width })
}

async fn scripts(State(app): State<Arc<App>>) -> Response {
    let r = app.renderer.clone();
    let list = blocking(move || {
        let mut out = Vec::new();
        for name in r.script_names() {
            let Ok((name, path)) = r.script_path(&name) else { continue };
            let info = match r.info(&name, &path, None) {
                Ok(info) => info,
                Err(e) => {
                    // Busy inspecting, or the file went away: listed, with the reason.
                    let error = json!({ "error": e.error, "kind": e.kind, "location": e.location });
                    out.push(json!({ "name": name, "hash": "", "params": [], "error": error }));
                    continue;
                }
            };
            let params: Vec<Value> = info
                .params
                .iter()
                .map(|p| {
                    json!({ "name": p.name, "type": kind_name(p.kind), "default": p.default,
                            "min": p.min, "max": p.max, "step": p.step })
                })
                .collect();
            let error =
                info.error.as_ref().map(|e| json!({ "error": e.error, "kind": e.kind, "location": e.location }));
            out.push(json!({ "name": name, "hash": info.hash, "params": params, "error": error }));
        }
        Ok(out)
    })
    .await;
    match list {
        Ok(list) => axum::Json(json!({ "scripts": list })).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn models(State(app): State<Arc<App>>) -> Response {
    let mut list: Vec<Value> =
        crate::model_names().into_iter().map(|n| json!({ "name": format!("std/{n}"), "source": "std" })).collect();
    let dir = app.renderer.options.dir.clone();
    let mut own: Vec<String> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .filter(|n| n.ends_with(".safetensors") && !n.starts_with('.'))
                .collect()
        })
        .unwrap_or_default();
    own.sort();
    list.extend(own.into_iter().map(|n| json!({ "name": n, "source": "dir" })));
    axum::Json(json!({ "models": list })).into_response()
}

async fn health(State(app): State<Arc<App>>) -> Response {
    let s = &app.renderer.stats;
    let n = |c: &std::sync::atomic::AtomicU64| c.load(Ordering::Relaxed);
    let admitted = app.admitted.load(Ordering::Relaxed);
    let running = app.renderer.options.max_concurrent.max(1) - app.permits.available_permits();
    axum::Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "running": running,
        "queued": admitted.saturating_sub(running),
        "renders": n(&s.renders),
        "cache_hits": n(&s.cache_hits),
        "cancelled": n(&s.cancelled),
        "timeouts": n(&s.timeouts),
        "failed": n(&s.failed),
        "corrupt_entries": n(&s.corrupt_entries),
        "memory_budget": crate::memory::budget(),
        "memory_in_use": crate::memory::in_use(),
        "resident_bytes": crate::memory::resident_bytes(),
    }))
    .into_response()
}

/// The document, with the served scripts' names as the `script` parameter's `enum` (so a client
/// generator or a fuzzer knows them).
async fn openapi(State(app): State<Arc<App>>) -> Response {
    let mut doc: Value = serde_json::from_str(crate::serve::openapi::DOCUMENT).expect("the OpenAPI document is JSON");
    let mut names = Vec::new();
    for file in app.renderer.script_names() {
        names.push(Value::String(file.trim_end_matches(".rhai").to_string()));
        names.push(Value::String(file));
    }
    doc["paths"]["/render/{script}"]["post"]["parameters"][0]["schema"]["enum"] = Value::Array(names);
    axum::Json(doc).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_reads_its_keys_and_refuses_others() {
        let r = parse_request("a.rhai".into(), br#"{"params": {"n": 2, "x": 0.5, "on": true}, "seed": 3}"#).unwrap();
        assert_eq!(r.params, vec![("n".into(), "2".into()), ("on".into(), "true".into()), ("x".into(), "0.5".into())]);
        assert_eq!((r.seed, r.format.as_str(), r.width), (3, "png", None));
        let e = parse_request("a.rhai".into(), br#"{"sead": 3}"#).unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.error.contains("did you mean 'seed'"), "{}", e.error);
        assert_eq!(parse_request("a.rhai".into(), br#"{"width": 100000}"#).unwrap_err().status, 400);
        assert_eq!(parse_request("a.rhai".into(), br#"{"format": "gif2"}"#).unwrap_err().status, 400);
        assert_eq!(parse_request("a.rhai".into(), br#"{"params": {"n": [1]}}"#).unwrap_err().status, 400);
        assert_eq!(parse_request("a.rhai".into(), b"").unwrap().seed, 0);
        assert_eq!(parse_request("a.rhai".into(), b"\n").unwrap_err().status, 400);
    }
}
