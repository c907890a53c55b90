//! Hardening (issue 15 §1–§2): a deadline reaches inside long ops, and one memory budget turns
//! an image too large for it into a clear error instead of a process the kernel kills.
//!
//! Bounds on time are loose on purpose: these run beside other tests on small, loaded machines.

use std::time::{Duration, Instant};

use crate::util::{expect_code, run_in, tempdir, write};

/// `--timeout 1` stops a render and a wide blur of an 8192² image inside the ops: the run ends
/// about a second in with the timeout message, not after the blur's many seconds.
#[test]
fn a_deadline_stops_a_long_render_and_blur_inside_the_ops() {
    let dir = tempdir();
    write(
        dir.path(),
        "long.rhai",
        "fbm(perlin(#{ seed: 1, scale: 4 }), #{ octaves: 8 }).render(8192, 8192).blur(60)\n",
    );
    let t = Instant::now();
    let out = run_in(dir.path(), &["run", "long.rhai", "--timeout", "1", "--max-memory", "6G", "-o", "out.png"]);
    let took = t.elapsed();
    let err = expect_code(&out, 1);
    assert!(err.contains("ran past its time limit (--timeout 1.000s)"), "{err}");
    assert!(took < Duration::from_secs(6), "stopped after {took:?}");
    assert!(!dir.path().join("out.png").exists(), "a stopped run writes nothing");
}

/// Twelve 16384² images (4 GiB each) kept alive: the default budget (half of physical memory,
/// at most 8 GiB) refuses one of them with the accountant's message, quickly.
#[test]
fn images_over_the_default_budget_fail_with_the_budget_message() {
    let dir = tempdir();
    write(
        dir.path(),
        "many.rhai",
        "let all = [];\nfor i in 0..12 { all.push(image(16384, 16384, \"red\")); }\nall.len()\n",
    );
    let t = Instant::now();
    let err = expect_code(&run_in(dir.path(), &["run", "many.rhai"]), 1);
    assert!(err.contains("a 16384x16384 image needs 4 GiB but the memory budget is"), "{err}");
    assert!(err.contains("raise it with --max-memory"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(60), "took {:?}", t.elapsed());
}

/// `--max-memory 100M`: a 4096² image (256 MiB) fails at once, before anything is allocated;
/// a small one still works; a bad size is a usage error.
#[test]
fn max_memory_sets_the_budget() {
    let dir = tempdir();
    write(dir.path(), "big.rhai", "image(4096, 4096, \"red\").blur(2)\n");
    let t = Instant::now();
    let err = expect_code(&run_in(dir.path(), &["run", "big.rhai", "--max-memory", "100M"]), 1);
    assert!(err.contains("a 4096x4096 image needs 256 MiB but the memory budget is 100 MiB"), "{err}");
    assert!(err.contains("--max-memory"), "{err}");
    assert!(t.elapsed() < Duration::from_secs(5), "took {:?}", t.elapsed());

    write(dir.path(), "small.rhai", "image(512, 512, \"red\").blur(2)\n");
    expect_code(&run_in(dir.path(), &["run", "small.rhai", "--max-memory", "100M", "-o", "s.png"]), 0);

    // An op's working buffers count too: a 1024² image (16 MiB) and its blur's result fit in
    // 48 MiB, the blur's two working buffers on top of them do not.
    for op in ["blur(2)", "box_blur(2)", "convolve([[0.0, 1.0, 0.0]])"] {
        write(dir.path(), "work.rhai", &format!("image(1024, 1024, \"red\").{op}\n"));
        let err = expect_code(&run_in(dir.path(), &["run", "work.rhai", "--max-memory", "48M"]), 1);
        assert!(err.contains("limit exceeded") && err.contains("--max-memory"), "{op}: {err}");
        expect_code(&run_in(dir.path(), &["run", "work.rhai", "--max-memory", "100M", "-o", "w.png"]), 0);
    }

    let err = expect_code(&run_in(dir.path(), &["run", "small.rhai", "--max-memory", "lots"]), 2);
    assert!(err.contains("not a size"), "{err}");
}

/// A save during a long render starts the new run at once: the render stops at its next row
/// instead of finishing first.
#[cfg(feature = "watch")]
#[test]
fn a_save_during_a_long_render_starts_the_new_run_quickly() {
    use kiln::live::{Change, Session};
    use kiln::script::RunConfig;

    let dir = tempdir();
    let script = write(
        dir.path(),
        "a.rhai",
        "fbm(perlin(#{ seed: 1, scale: 4 }), #{ octaves: 8 }).render(4096, 4096).blur(60)\n",
    );
    let s = Session::start(RunConfig::new(&script), kiln::Limits::default());
    let start = Instant::now();
    while s.is_idle() {
        assert!(start.elapsed() < Duration::from_secs(30), "the first run never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    // Well inside the render (seconds long on any machine).
    std::thread::sleep(Duration::from_millis(300));
    write(dir.path(), "a.rhai", "image(4, 4, gray(0.5))\n");
    let saved = Instant::now();
    let r = s.apply(Change::Files(vec![script]), Duration::from_secs(60)).expect("the new version runs");
    let took = saved.elapsed();
    assert!(r.ok(), "{:?}", r.error);
    assert_eq!(r.run, 1, "the cancelled run is not reported");
    // Within 1 s on an idle machine; the bound is loose for a loaded one.
    assert!(took < Duration::from_secs(4), "the new run finished {took:?} after the save");
    eprintln!("save -> new result: {took:?}");
}
