//! A small W3C WebDriver client for chromedriver (JSON over HTTP with `ureq`) and a handle on a
//! running `kiln watch`: what the live preview's end-to-end test and `benches/live.rs` share.
//!
//! Chromium runs headless with a fresh profile and no network of its own: the page it loads is
//! the one `kiln watch` serves on 127.0.0.1.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// Milliseconds since the Unix epoch: the clock both this process and the page (`Date.now()`) read.
pub fn epoch_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64() * 1e3
}

/// Finds an executable on PATH (or at an absolute path).
pub fn which(names: &[&str]) -> Option<PathBuf> {
    for name in names {
        let p = Path::new(name);
        if p.is_absolute() && p.is_file() {
            return Some(p.to_path_buf());
        }
        if let Some(path) = std::env::var_os("PATH") {
            for dir in std::env::split_paths(&path) {
                let c = dir.join(name);
                if c.is_file() {
                    return Some(c);
                }
            }
        }
    }
    None
}

/// The Chromium and chromedriver binaries, if installed.
pub fn chromium() -> Option<(PathBuf, PathBuf)> {
    let browser = which(&["chromium", "chromium-browser", "/usr/bin/chromium"])?;
    let driver = which(&["chromedriver", "/usr/bin/chromedriver"])?;
    Some((browser, driver))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Polls `f` every 20 ms until it returns `Some`, or panics with `what` after `timeout`.
pub fn poll<T>(what: &str, timeout: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Kills and reaps a child process when dropped.
pub struct Guard(pub Child);

impl Drop for Guard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `kiln watch` whose stdout told us its URL.
pub struct KilnWatch {
    pub child: Guard,
    pub url: String,
    pub stderr: Arc<Mutex<String>>,
    pub stdout: Arc<Mutex<String>>,
}

impl KilnWatch {
    /// Starts `kiln watch --no-open ARGS` in `dir` and waits for the URL line.
    pub fn start(kiln: &Path, dir: &Path, args: &[&str]) -> KilnWatch {
        let mut child = Command::new(kiln)
            .current_dir(dir)
            .arg("watch")
            .arg("--no-open")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start kiln watch");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let out = child.stdout.take().expect("stdout");
        let out_log = stdout.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                out_log.lock().unwrap().push_str(&format!("{line}\n"));
                if let Some(pos) = line.find("http://127.0.0.1:") {
                    let url: String = line[pos..].chars().take_while(|c| !c.is_whitespace()).collect();
                    let _ = tx.send(url);
                }
            }
        });
        let err = child.stderr.take().expect("stderr");
        let err_log = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                err_log.lock().unwrap().push_str(&format!("{line}\n"));
            }
        });
        let child = Guard(child);
        let url = rx
            .recv_timeout(Duration::from_secs(60))
            .unwrap_or_else(|_| panic!("kiln watch printed no URL; stderr:\n{}", stderr.lock().unwrap()));
        KilnWatch { child, url, stderr, stdout }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// The page state JSON (`/state`).
    pub fn state(&self) -> Value {
        ureq::get(&format!("{}state", self.url)).call().expect("GET /state").into_json().expect("state JSON")
    }
}

/// A WebDriver session on a headless Chromium.
pub struct Browser {
    base: String,
    session: String,
    _driver: Guard,
    _profile: tempfile::TempDir,
}

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn call(req: ureq::Request, body: Option<Value>) -> Result<Value, String> {
    let res = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    let resp = match res {
        Ok(r) => r,
        Err(ureq::Error::Status(code, r)) => {
            return Err(format!("HTTP {code}: {}", r.into_string().unwrap_or_default()));
        }
        Err(e) => return Err(e.to_string()),
    };
    let v: Value = resp.into_json().map_err(|e| e.to_string())?;
    Ok(v.get("value").cloned().unwrap_or(Value::Null))
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub fn start(browser: &Path, driver: &Path) -> Browser {
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let driver_guard = Guard(child);
        let base = format!("http://127.0.0.1:{port}");
        poll("chromedriver to be ready", Duration::from_secs(30), || {
            call(ureq::get(&format!("{base}/status")), None)
                .ok()
                .filter(|v| v.get("ready").and_then(Value::as_bool) == Some(true))
        });
        let profile = tempfile::tempdir().expect("profile dir");
        let args = vec![
            "--headless".to_string(),
            "--no-sandbox".into(),
            "--disable-gpu".into(),
            // WebGL for the lit PBR preview, on the CPU: SwiftShader through ANGLE. Chromium
            // 156 here gives WebGL without these too, but newer versions refuse the software
            // fallback unless it is asked for.
            "--use-angle=swiftshader".into(),
            "--enable-unsafe-swiftshader".into(),
            "--disable-dev-shm-usage".into(),
            "--disable-quic".into(),
            "--no-first-run".into(),
            "--disable-background-networking".into(),
            "--disable-component-update".into(),
            "--disable-sync".into(),
            "--window-size=1280,900".into(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let caps = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": browser.display().to_string(), "args": args }
        }}});
        let v = call(ureq::post(&format!("{base}/session")), Some(caps)).expect("new WebDriver session");
        let session = v.get("sessionId").and_then(Value::as_str).expect("sessionId").to_string();
        Browser { base, session, _driver: driver_guard, _profile: profile }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/session/{}{path}", self.base, self.session)
    }

    pub fn goto(&self, url: &str) {
        call(ureq::post(&self.url("/url")), Some(json!({ "url": url }))).expect("navigate");
    }

    /// Runs `script` (a function body; `arguments` holds `args`) in the page and returns its value.
    pub fn eval(&self, script: &str, args: Value) -> Value {
        call(ureq::post(&self.url("/execute/sync")), Some(json!({ "script": script, "args": args })))
            .unwrap_or_else(|e| panic!("execute script failed: {e}\n{script}"))
    }

    /// The WebDriver id of the first element matching a CSS selector.
    pub fn find(&self, css: &str) -> Option<String> {
        let v = call(ureq::post(&self.url("/element")), Some(json!({ "using": "css selector", "value": css }))).ok()?;
        v.get(ELEMENT).and_then(Value::as_str).map(str::to_string)
    }

    /// Types `text` into an element (WebDriver key codes allowed: `\u{E014}` is the right arrow).
    pub fn send_keys(&self, element: &str, text: &str) {
        call(ureq::post(&self.url(&format!("/element/{element}/value"))), Some(json!({ "text": text })))
            .expect("send keys");
    }

    /// The run shown in the page, if any.
    pub fn shown_run(&self) -> Option<u64> {
        self.eval("return window.kiln && window.kiln.shown ? window.kiln.shown.run : null;", json!([])).as_u64()
    }

    /// The epoch time (ms) at which the page displayed `run`.
    pub fn shown_at(&self, run: u64) -> Option<f64> {
        self.eval(
            "const e = (window.kiln ? window.kiln.log : []).find(x => x.run === arguments[0]); return e ? e.at : null;",
            json!([run]),
        )
        .as_f64()
    }

    /// Waits until the page displays a run newer than `after`; returns it.
    pub fn wait_newer(&self, after: u64, timeout: Duration) -> u64 {
        poll(&format!("the page to show a run after {after}"), timeout, || {
            self.shown_run().filter(|&r| r > after || (after == 0 && r >= 1))
        })
    }

    /// A PNG screenshot of the window, base64-encoded as WebDriver sends it.
    pub fn screenshot_base64(&self) -> String {
        call(ureq::get(&self.url("/screenshot")), None).expect("screenshot").as_str().unwrap_or_default().to_string()
    }

    /// The displayed RGBA (0..255) of panel `i` at display pixel (x, y).
    pub fn pixel(&self, i: usize, x: u32, y: u32) -> Vec<u8> {
        let v = self.eval("return window.kiln.pixel(arguments[0], arguments[1], arguments[2]);", json!([i, x, y]));
        v.as_array().map(|a| a.iter().map(|c| c.as_u64().unwrap_or(0) as u8).collect()).unwrap_or_default()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = call(ureq::delete(&format!("{}/session/{}", self.base, self.session)), None);
    }
}
