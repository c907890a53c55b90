//! `kiln serve`: every endpoint, the 4xx answers, auth off loopback, 429, cancel on disconnect,
//! and a cache that survives `kill -9`. Each test spawns the binary on an ephemeral 127.0.0.1
//! port serving `tests/serve/scripts/` with its own cache folder.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::util::{kiln, repo, tempdir};

/// A running `kiln serve`, killed when dropped.
struct Server {
    child: Child,
    url: String,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn scripts() -> PathBuf {
    repo().join("tests/serve/scripts")
}

fn start(cache: &Path, extra: &[&str]) -> Server {
    let mut child = kiln()
        .args(["serve", scripts().to_str().unwrap(), "--port", "0", "--cache", cache.to_str().unwrap()])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn kiln serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let addr = line.split("http://").nth(1).and_then(|r| r.split('/').next()).unwrap_or_else(|| panic!("{line}"));
    let port: u16 = addr.rsplit(':').next().unwrap().parse().unwrap();
    Server { child, url: format!("http://127.0.0.1:{port}"), port }
}

/// A response: status, the headers the tests read, body.
struct Resp {
    status: u16,
    etag: Option<String>,
    cache: Option<String>,
    content_type: Option<String>,
    retry_after: Option<String>,
    body: Vec<u8>,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

fn finish(r: Result<ureq::Response, ureq::Error>) -> Resp {
    let resp = match r {
        Ok(r) => r,
        Err(ureq::Error::Status(_, r)) => r,
        Err(e) => panic!("transport error: {e}"),
    };
    let h = |n: &str| resp.header(n).map(str::to_string);
    let (etag, cache, content_type, retry_after) = (h("etag"), h("x-kiln-cache"), h("content-type"), h("retry-after"));
    let status = resp.status();
    let mut body = Vec::new();
    resp.into_reader().read_to_end(&mut body).unwrap();
    Resp { status, etag, cache, content_type, retry_after, body }
}

fn post(s: &Server, path: &str, body: &str) -> Resp {
    finish(ureq::post(&format!("{}{path}", s.url)).set("Content-Type", "application/json").send_string(body))
}

fn get(s: &Server, path: &str) -> Resp {
    finish(ureq::get(&format!("{}{path}", s.url)).call())
}

/// Polls `/health` until `done` holds or `limit` passes.
fn wait_health(s: &Server, limit: Duration, done: impl Fn(&Value) -> bool) -> Value {
    let start = Instant::now();
    loop {
        let h = get(s, "/health").json();
        if done(&h) || start.elapsed() > limit {
            return h;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn every_endpoint_answers() {
    let cache = tempdir();
    // /scripts runs each script once with its defaults: slow.rhai until this timeout.
    let s = start(cache.path(), &["--timeout", "3"]);
    let h = get(&s, "/health");
    assert_eq!((h.status, h.json()["status"].as_str()), (200, Some("ok")));
    let list = get(&s, "/scripts").json();
    let material = list["scripts"].as_array().unwrap().iter().find(|x| x["name"] == "material.rhai").unwrap();
    let size = material["params"].as_array().unwrap().iter().find(|p| p["name"] == "size").unwrap();
    assert_eq!(
        (size["type"].as_str(), size["default"].as_str(), size["max"].as_f64()),
        (Some("int"), Some("256"), Some(1024.0))
    );
    let models = get(&s, "/models").json();
    assert!(models["models"].as_array().unwrap().iter().any(|m| m["name"] == "std/materials_gan"), "{models}");
    let doc = get(&s, "/openapi.json").json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert!(doc["paths"]["/render/{script}"]["post"].is_object());

    let first = post(&s, "/render/material", r#"{"seed": 4, "params": {"size": 32}}"#);
    assert_eq!(first.status, 200);
    assert_eq!(first.content_type.as_deref(), Some("image/png"));
    assert_eq!(first.cache.as_deref(), Some("miss"));
    let img = kiln::io::decode(&first.body, Path::new("r.png")).unwrap();
    assert_eq!((img.width(), img.height()), (32, 32));
    let again = post(&s, "/render/material.rhai", r#"{"seed": 4, "params": {"size": 32}}"#);
    assert_eq!((again.status, again.cache.as_deref()), (200, Some("hit")));
    assert_eq!((again.body == first.body, &again.etag), (true, &first.etag));
    let etag = first.etag.clone().unwrap();
    let not_modified = finish(
        ureq::post(&format!("{}/render/material", s.url))
            .set("If-None-Match", &etag)
            .send_string(r#"{"seed": 4, "params": {"size": 32}}"#),
    );
    assert_eq!(not_modified.status, 304);
    let jpg = post(&s, "/render/material", r#"{"seed": 4, "params": {"size": 32}, "format": "jpg", "width": 16}"#);
    assert_eq!((jpg.status, jpg.content_type.as_deref()), (200, Some("image/jpeg")));
    assert_ne!(jpg.etag, first.etag);
}

#[test]
fn bad_requests_are_4xx_with_a_json_error() {
    let cache = tempdir();
    let s = start(cache.path(), &[]);
    let cases: &[(&str, &str, u16, &str)] = &[
        ("/render/nope", "{}", 404, "no script 'nope'"),
        ("/render/materail", "{}", 404, "did you mean 'material.rhai'"),
        ("/render/..%2FCargo.toml", "{}", 404, "no script"),
        ("/render/material", "{not json", 400, "not valid JSON"),
        ("/render/material", r#"{"sead": 1}"#, 400, "did you mean 'seed'"),
        ("/render/material", r#"{"params": {"size": "big"}}"#, 400, "'size' expects a whole number"),
        ("/render/material", r#"{"params": {"sise": 64}}"#, 400, "did you mean 'size'"),
        ("/render/material", r#"{"params": {"size": 100000}}"#, 400, "outside its range"),
        ("/render/material", r#"{"width": 100000}"#, 400, "over the limit"),
        ("/render/material", r#"{"format": "pnj"}"#, 400, "did you mean 'png'"),
        ("/render/broken", "{}", 422, "sigma"),
        ("/nowhere", "{}", 404, "no such endpoint"),
    ];
    for (path, body, status, text) in cases {
        let r = post(&s, path, body);
        let j = r.json();
        assert_eq!(r.status, *status, "{path} {body}: {j}");
        assert!(j["error"].as_str().unwrap().contains(text), "{path} {body}: {j}");
        assert!(j["kind"].is_string() && j.get("location").is_some(), "{j}");
    }
    let broken = post(&s, "/render/broken", "{}").json();
    assert_eq!(broken["location"].as_str(), Some("broken.rhai:3:5"), "{broken}");
    let huge = post(&s, "/render/material", &format!(r#"{{"params": {{"material": "{}"}}}}"#, "x".repeat(70_000)));
    assert_eq!(huge.status, 413);
}

#[test]
fn a_token_is_required_off_loopback() {
    let cache = tempdir();
    let refused =
        kiln().args(["serve", scripts().to_str().unwrap(), "--bind", "0.0.0.0", "--port", "0"]).output().unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--token-file"));

    let token = cache.path().join("token");
    std::fs::write(&token, "s3cret\n").unwrap();
    let s = start(&cache.path().join("c"), &["--bind", "0.0.0.0", "--token-file", token.to_str().unwrap()]);
    assert_eq!(get(&s, "/health").status, 200, "health needs no token");
    let denied = get(&s, "/scripts");
    assert_eq!((denied.status, denied.json()["kind"].as_str()), (401, Some("unauthorized")));
    let wrong = finish(ureq::get(&format!("{}/scripts", s.url)).set("Authorization", "Bearer s3cre7").call());
    assert_eq!(wrong.status, 401);
    let ok = finish(ureq::get(&format!("{}/models", s.url)).set("Authorization", "Bearer s3cret").call());
    assert_eq!(ok.status, 200);
}

#[test]
fn a_full_queue_answers_429_with_retry_after() {
    let cache = tempdir();
    // One render at a time, two waiting: the fourth and later concurrent requests are refused.
    let s = start(cache.path(), &["--max-concurrent", "1", "--timeout", "1"]);
    let url = s.url.clone();
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let url = url.clone();
            std::thread::spawn(move || {
                finish(ureq::post(&format!("{url}/render/slow")).send_string(&format!(r#"{{"seed": {i}}}"#)))
            })
        })
        .collect();
    let answers: Vec<Resp> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    let busy: Vec<&Resp> = answers.iter().filter(|r| r.status == 429).collect();
    assert!(!busy.is_empty(), "statuses: {:?}", answers.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(busy[0].retry_after.as_deref(), Some("1"));
    assert!(answers.iter().all(|r| r.status == 429 || r.status == 422), "timeouts are 422");
    let timeout = answers.iter().find(|r| r.status == 422).unwrap().json();
    assert_eq!(timeout["kind"].as_str(), Some("timeout"), "{timeout}");
}

#[test]
fn a_client_that_disconnects_cancels_its_render() {
    let cache = tempdir();
    let s = start(cache.path(), &["--timeout", "60"]);
    let body = r#"{"seed": 1}"#;
    let mut conn = std::net::TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    write!(
        conn,
        "POST /render/slow HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let running = wait_health(&s, Duration::from_secs(20), |h| h["running"] == 1);
    assert_eq!(running["running"], 1, "{running}");
    let hung_up = Instant::now();
    drop(conn);
    // The render would run for 60 s; the cancel flag stops it at its next check.
    let h = wait_health(&s, Duration::from_secs(15), |h| h["cancelled"] == 1);
    assert_eq!(h["cancelled"], 1, "{h}");
    assert_eq!((h["timeouts"].as_u64(), h["running"].as_u64()), (Some(0), Some(0)), "{h}");
    assert!(hung_up.elapsed() < Duration::from_secs(15));
}

#[test]
fn kill_9_mid_load_leaves_the_cache_intact() {
    let cache = tempdir();
    let s = start(cache.path(), &["--max-concurrent", "2"]);
    let body = |seed: u32| format!(r#"{{"seed": {seed}, "params": {{"size": 64}}}}"#);
    let before: Vec<Vec<u8>> = (1..=3).map(|i| post(&s, "/render/material", &body(i)).body).collect();
    // Renders in flight when the process dies.
    let url = s.url.clone();
    let load: Vec<_> = (10..16)
        .map(|i| {
            let (url, b) = (url.clone(), body(i));
            std::thread::spawn(move || {
                let _ = ureq::post(&format!("{url}/render/material")).send_string(&b);
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    let mut s = s;
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    for t in load {
        t.join().unwrap();
    }

    let s = start(cache.path(), &[]);
    for (i, bytes) in (1..=3).zip(&before) {
        let r = post(&s, "/render/material", &body(i));
        assert_eq!((r.status, r.cache.as_deref()), (200, Some("hit")), "seed {i}");
        assert_eq!(&r.body, bytes, "seed {i}");
    }
    // Damage every entry: each is detected, re-rendered, and replaced.
    let mut entries = Vec::new();
    for shard in std::fs::read_dir(cache.path()).unwrap() {
        for e in std::fs::read_dir(shard.unwrap().path()).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "entry") {
                entries.push(p);
            }
        }
    }
    assert!(entries.len() >= 3, "{entries:?}");
    for p in &entries {
        let bytes = std::fs::read(p).unwrap();
        std::fs::write(p, &bytes[..bytes.len() / 2]).unwrap();
    }
    let r = post(&s, "/render/material", &body(1));
    assert_eq!((r.status, r.cache.as_deref()), (200, Some("miss")));
    assert_eq!(r.body, before[0], "re-rendered bytes are the same");
    let h = get(&s, "/health").json();
    assert!(h["corrupt_entries"].as_u64().unwrap() >= 1, "{h}");
    let r = post(&s, "/render/material", &body(1));
    assert_eq!(r.cache.as_deref(), Some("hit"), "the replacement entry is good");
}
