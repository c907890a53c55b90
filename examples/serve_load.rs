//! A small load client for `kiln serve`: a steady request rate for a fixed time, on loopback.
//!
//! ```text
//! kiln serve tests/serve/scripts --port 7880 --max-concurrent 2 --timeout 1 &
//! cargo run --release --example serve_load -- --url http://127.0.0.1:7880 --rate 8 --secs 120 \
//!     --pid $! [--bad 10] [--distinct 0]
//! ```
//!
//! Good requests render `material.rhai` (a `std/materials` material at 256²) with seed
//! `i % distinct` (`--distinct 0`: every seed new, so every request renders). With `--bad P`,
//! P% of requests are bad in four ways in turn: an unknown script (404), a param of the wrong
//! type (400), a huge width (400) and a script that runs past the server's `--timeout` (422).
//! Prints requests/s, p50/p99 latency of the good requests, every status seen, and the
//! server's resident memory (from `/proc/PID/status`) once warm (after the first tenth of the
//! requests) and at the end. Exits 1 if any
//! good request failed.

use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

struct Args {
    url: String,
    rate: f64,
    secs: f64,
    threads: usize,
    bad: u64,
    distinct: u64,
    pid: Option<u32>,
}

fn args() -> Args {
    let mut a = Args {
        url: "http://127.0.0.1:7880".into(),
        rate: 8.0,
        secs: 120.0,
        threads: 16,
        bad: 0,
        distinct: 0,
        pid: None,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    for pair in argv.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--url" => a.url = v,
            "--rate" => a.rate = v.parse().expect("--rate"),
            "--secs" => a.secs = v.parse().expect("--secs"),
            "--threads" => a.threads = v.parse().expect("--threads"),
            "--bad" => a.bad = v.parse().expect("--bad"),
            "--distinct" => a.distinct = v.parse().expect("--distinct"),
            "--pid" => a.pid = Some(v.parse().expect("--pid")),
            other => panic!("unknown flag {other}"),
        }
    }
    a
}

fn rss_kib(pid: Option<u32>) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{}/status", pid?)).ok()?;
    let line = text.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The request number `i`: its path, body and whether it is a good one.
fn request(i: u64, bad: u64, distinct: u64) -> (String, String, bool) {
    let seed = if distinct == 0 { i } else { i % distinct };
    let every = (100 / bad.max(1)).max(1);
    if bad > 0 && i % every == every - 1 {
        return match (i / every) % 4 {
            0 => ("/render/no_such_script".into(), "{}".into(), false),
            1 => ("/render/material".into(), r#"{"params": {"size": "big"}}"#.into(), false),
            2 => ("/render/material".into(), r#"{"width": 1000000}"#.into(), false),
            _ => ("/render/slow".into(), format!(r#"{{"seed": {seed}}}"#), false),
        };
    }
    ("/render/material".into(), format!(r#"{{"seed": {seed}}}"#), true)
}

fn main() {
    let a = args();
    let total = (a.rate * a.secs).round() as u64;
    let next = Arc::new(AtomicU64::new(0));
    let latencies = Arc::new(Mutex::new(Vec::new()));
    let statuses = Arc::new(Mutex::new(std::collections::BTreeMap::<(bool, u16), u64>::new()));
    let agent = ureq::AgentBuilder::new().timeout(Duration::from_secs(60)).build();
    // Resident memory is sampled once warm (after the first tenth of the requests: host pool,
    // allocator arenas and thread stacks are in place) and at the end.
    let rss_warm = Arc::new(Mutex::new(None));
    let start = Instant::now();
    let workers: Vec<_> = (0..a.threads)
        .map(|_| {
            let (next, latencies, statuses, agent) = (next.clone(), latencies.clone(), statuses.clone(), agent.clone());
            let (url, rate, bad, distinct, pid, rss_warm) =
                (a.url.clone(), a.rate, a.bad, a.distinct, a.pid, rss_warm.clone());
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= total {
                    break;
                }
                if i == total / 10 {
                    *rss_warm.lock().unwrap() = rss_kib(pid);
                }
                // A steady schedule: request i is due at i / rate seconds.
                let due = start + Duration::from_secs_f64(i as f64 / rate);
                if let Some(wait) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(wait);
                }
                let (path, body, good) = request(i, bad, distinct);
                let t = Instant::now();
                let status = match agent
                    .post(&format!("{url}{path}"))
                    .set("Content-Type", "application/json")
                    .send_string(&body)
                {
                    Ok(resp) => {
                        let mut bytes = Vec::new();
                        let _ = resp.into_reader().read_to_end(&mut bytes);
                        200
                    }
                    Err(ureq::Error::Status(code, resp)) => {
                        let _ = resp.into_string();
                        code
                    }
                    Err(_) => 0,
                };
                if good {
                    latencies.lock().unwrap().push(t.elapsed());
                }
                *statuses.lock().unwrap().entry((good, status)).or_default() += 1;
            })
        })
        .collect();
    for w in workers {
        w.join().unwrap();
    }
    let elapsed = start.elapsed().as_secs_f64();
    let rss_end = rss_kib(a.pid);
    let mut lat = latencies.lock().unwrap().clone();
    lat.sort();
    let pct = |p: f64| lat.get(((lat.len() as f64 * p).ceil() as usize).saturating_sub(1)).copied().unwrap_or_default();
    let statuses = statuses.lock().unwrap().clone();
    let good_errors: u64 = statuses.iter().filter(|((good, s), _)| *good && *s != 200).map(|(_, n)| n).sum();
    println!("requests: {total} in {elapsed:.1} s = {:.2} req/s", total as f64 / elapsed);
    println!("good: {} p50 {:.1} ms, p99 {:.1} ms, errors {good_errors}", lat.len(), ms(pct(0.5)), ms(pct(0.99)));
    for ((good, status), n) in &statuses {
        println!("  {} {status}: {n}", if *good { "good" } else { "bad " });
    }
    let rss_warm = *rss_warm.lock().unwrap();
    if let (Some(s), Some(e)) = (rss_warm, rss_end) {
        println!(
            "server RSS: warm {} MiB, end {} MiB ({:+.1}%)",
            s / 1024,
            e / 1024,
            (e as f64 / s as f64 - 1.0) * 100.0
        );
    }
    if good_errors > 0 {
        std::process::exit(1);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
