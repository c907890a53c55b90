//! `kiln build`: the cache's hit or miss for each kind of change (through the library, one test
//! per case), and through the binary: exit codes, shards, two builds on one cache, a corrupt
//! entry, an unwritable cache, a timeout, the JSON report and manifest errors.

use std::path::{Path, PathBuf};

use kiln::build::{build, BuildOptions, Quiet, Report, Status};

use crate::util::{expect_code, run_in, tempdir, text, write};

/// A project: `tile.rhai` imports `lib/util.rhai` (which imports `lib/deep.rhai`) and loads
/// `tex.png`; the manifest builds two seeds of it.
fn project(dir: &Path) {
    write(dir, "lib/deep.rhai", "fn gain() { 1.0 }\n");
    write(dir, "lib/util.rhai", "import \"deep\" as d;\nfn tint(img) { img.brightness(d::gain()) }\n");
    write(
        dir,
        "tile.rhai",
        "import \"lib/util\" as u;\nlet size = param(\"size\", 16);\nlet tex = load(\"tex.png\");\n\
         let n = noise_image(size, size, #{ kind: \"uniform\" });\nu::tint(n.blend(tex.resize(size, size), \"multiply\"))\n",
    );
    texture(dir, [200, 100, 50]);
    write(
        dir,
        "kiln.toml",
        "[[asset]]\nscript = \"tile.rhai\"\nout = \"out/tile-{seed}.png\"\nparams = { size = 16 }\nmatrix = { seed = [1, 2] }\n",
    );
}

fn texture(dir: &Path, rgb: [u8; 3]) {
    let img = image::RgbImage::from_pixel(4, 4, image::Rgb(rgb));
    img.save(dir.join("tex.png")).unwrap();
}

fn options(dir: &Path) -> BuildOptions {
    let mut o = BuildOptions::new(dir.join("kiln.toml"));
    o.jobs = 2;
    o
}

fn build_ok(o: &BuildOptions) -> Report {
    let report = build(o, &mut Quiet).expect("the manifest is valid");
    for a in &report.assets {
        assert_ne!(a.status, Status::Failed, "{}: {:?}", a.key, a.error);
    }
    report
}

fn statuses(report: &Report) -> Vec<Status> {
    report.assets.iter().map(|a| a.status).collect()
}

/// Builds once (all built), applies `change`, builds again and returns the second statuses.
fn after_change(change: impl FnOnce(&Path, &mut BuildOptions)) -> Vec<Status> {
    let dir = tempdir();
    project(dir.path());
    let mut o = options(dir.path());
    assert_eq!(statuses(&build_ok(&o)), [Status::Built, Status::Built]);
    assert_eq!(statuses(&build_ok(&o)), [Status::Cached, Status::Cached], "an unchanged rebuild hits");
    change(dir.path(), &mut o);
    statuses(&build_ok(&o))
}

const MISS: [Status; 2] = [Status::Built, Status::Built];
const HIT: [Status; 2] = [Status::Cached, Status::Cached];

fn edit(dir: &Path, name: &str, f: impl FnOnce(String) -> String) {
    let path = dir.join(name);
    let old = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, f(old)).unwrap();
}

#[test]
fn cache_script_edit_misses() {
    assert_eq!(after_change(|d, _| edit(d, "tile.rhai", |s| s.replace("16", "12"))), MISS);
}

#[test]
fn cache_whitespace_only_edit_misses() {
    // The key is over the script's bytes, not its meaning (documented in build::cache).
    assert_eq!(after_change(|d, _| edit(d, "tile.rhai", |s| s + "\n")), MISS);
}

#[test]
fn cache_imported_module_edit_misses() {
    // `lib/deep.rhai` is imported by `lib/util.rhai`, which the script imports: transitive.
    assert_eq!(after_change(|d, _| edit(d, "lib/deep.rhai", |s| s.replace("1.0", "0.5"))), MISS);
}

#[test]
fn cache_loaded_image_changed_misses() {
    assert_eq!(after_change(|d, _| texture(d, [10, 100, 50])), MISS);
}

#[test]
fn cache_loaded_image_touched_but_unchanged_hits() {
    let touched = after_change(|d, _| {
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(60);
        std::fs::File::options().append(true).open(d.join("tex.png")).unwrap().set_modified(later).unwrap();
    });
    assert_eq!(touched, HIT);
}

#[test]
fn cache_param_change_misses() {
    assert_eq!(after_change(|d, _| edit(d, "kiln.toml", |s| s.replace("size = 16", "size = 8"))), MISS);
}

#[test]
fn cache_seed_change_misses_only_the_changed_asset() {
    let changed = after_change(|d, _| edit(d, "kiln.toml", |s| s.replace("seed = [1, 2]", "seed = [1, 3]")));
    assert_eq!(changed, [Status::Cached, Status::Built]);
}

#[test]
fn cache_kiln_version_change_misses() {
    assert_eq!(after_change(|_, o| o.version = "99.0.0-test".into()), MISS);
}

#[test]
fn cache_unrelated_file_change_hits() {
    assert_eq!(
        after_change(|d, _| {
            write(d, "notes.txt", "unrelated");
            write(d, "lib/other.rhai", "fn unused() { 2 }");
        }),
        HIT
    );
}

#[test]
fn cache_hit_leaves_identical_outputs_untouched_and_restores_missing_ones() {
    let dir = tempdir();
    project(dir.path());
    let o = options(dir.path());
    build_ok(&o);
    let first = dir.path().join("out/tile-1.png");
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    std::fs::File::options().append(true).open(&first).unwrap().set_modified(old).unwrap();
    let bytes = std::fs::read(&first).unwrap();
    std::fs::remove_file(dir.path().join("out/tile-2.png")).unwrap();
    let report = build_ok(&o);
    assert_eq!(statuses(&report), HIT);
    assert_eq!(std::fs::metadata(&first).unwrap().modified().unwrap(), old, "mtime kept");
    assert_eq!(report.assets.iter().map(|a| a.written).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(std::fs::read(&first).unwrap(), bytes);
    assert!(dir.path().join("out/tile-2.png").is_file());
}

#[test]
fn cache_output_equals_an_uncached_run() {
    // What a hit writes is byte for byte what `kiln run` makes of the same script.
    let dir = tempdir();
    project(dir.path());
    build_ok(&options(dir.path()));
    let out = run_in(dir.path(), &["run", "tile.rhai", "--seed", "2", "--set", "size=16", "-o", "ref.png"]);
    expect_code(&out, 0);
    assert_eq!(
        std::fs::read(dir.path().join("ref.png")).unwrap(),
        std::fs::read(dir.path().join("out/tile-2.png")).unwrap()
    );
}

#[test]
fn shared_cache_is_read_through() {
    let a = tempdir();
    let b = tempdir();
    let shared = tempdir();
    for d in [a.path(), b.path()] {
        project(d);
    }
    let mut o = options(a.path());
    o.shared_cache = Some(shared.path().to_path_buf());
    assert_eq!(statuses(&build_ok(&o)), MISS);
    // Another checkout with the same files: every asset comes from the shared folder.
    let mut o = options(b.path());
    o.shared_cache = Some(shared.path().to_path_buf());
    assert_eq!(statuses(&build_ok(&o)), HIT);
    assert_eq!(
        std::fs::read(a.path().join("out/tile-1.png")).unwrap(),
        std::fs::read(b.path().join("out/tile-1.png")).unwrap()
    );
    // ... and were copied into its local cache.
    o.shared_cache = None;
    assert_eq!(statuses(&build_ok(&o)), HIT);
}

/// Every file under `dir` (relative path, bytes), sorted.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(files(&p).into_iter().map(|(r, b)| (Path::new(&e.file_name()).join(r), b)));
            } else {
                out.push((PathBuf::from(e.file_name()), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn many(dir: &Path, n: usize) {
    write(
        dir,
        "t.rhai",
        "let v = param(\"v\", 0);\nnoise_image(8, 8, #{ kind: \"uniform\" }).brightness(1.0 + v / 100.0)\n",
    );
    let values: Vec<String> = (0..n).map(|i| i.to_string()).collect();
    write(
        dir,
        "kiln.toml",
        &format!(
            "[[asset]]\nscript = \"t.rhai\"\nout = \"out/t-{{v}}.png\"\nmatrix = {{ v = [{}] }}\n",
            values.join(", ")
        ),
    );
}

#[test]
fn shards_are_disjoint_and_their_union_is_the_full_build() {
    let full = tempdir();
    many(full.path(), 24);
    expect_code(&run_in(full.path(), &["build", "-j", "2"]), 0);
    let want = files(&full.path().join("out"));
    assert_eq!(want.len(), 24);
    let mut union = Vec::new();
    for i in 0..3 {
        let part = tempdir();
        many(part.path(), 24);
        let shard = format!("{i}/3");
        let out = if i == 1 {
            // The environment works as the flag does.
            crate::util::kiln().current_dir(part.path()).env("KILN_SHARD", &shard).arg("build").output().unwrap()
        } else {
            run_in(part.path(), &["build", "--shard", &shard])
        };
        expect_code(&out, 0);
        let got = files(&part.path().join("out"));
        assert!(!got.is_empty() && got.len() < 24, "shard {shard} has {} assets", got.len());
        union.extend(got);
    }
    union.sort();
    let names: Vec<&PathBuf> = union.iter().map(|f| &f.0).collect();
    let mut unique = names.clone();
    unique.dedup();
    assert_eq!(names.len(), unique.len(), "shards overlap");
    assert!(union == want, "the union of the shards differs from the full build");
}

#[test]
fn bad_shard_specs_are_usage_errors() {
    let dir = tempdir();
    many(dir.path(), 2);
    for spec in ["3/2", "0/0", "x"] {
        let err = expect_code(&run_in(dir.path(), &["build", "--shard", spec]), 2);
        assert!(err.contains("shard"), "{spec}: {err}");
    }
    let out = crate::util::kiln().current_dir(dir.path()).env("KILN_SHARD", "0/0").arg("build").output().unwrap();
    assert!(expect_code(&out, 2).contains("KILN_SHARD"));
    assert!(!dir.path().join("out").exists());
}

#[test]
fn two_builds_at_once_share_one_cache() {
    let a = tempdir();
    let b = tempdir();
    let cache = tempdir();
    many(a.path(), 20);
    many(b.path(), 20);
    let c = cache.path().to_str().unwrap();
    let spawn = |d: &Path| crate::util::kiln().current_dir(d).args(["build", "-j", "2", "--cache", c]).output();
    let (ra, rb) = std::thread::scope(|s| {
        let ta = s.spawn(|| spawn(a.path()).unwrap());
        let tb = s.spawn(|| spawn(b.path()).unwrap());
        (ta.join().unwrap(), tb.join().unwrap())
    });
    expect_code(&ra, 0);
    expect_code(&rb, 0);
    assert_eq!(files(&a.path().join("out")), files(&b.path().join("out")));
    // Whatever the interleaving, every entry is whole: a third build hits every asset.
    let out = run_in(a.path(), &["build", "--cache", c, "--json", "-"]);
    let (stdout, _) = text(&out);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["totals"]["cached"], 20, "{stdout}");
}

#[test]
fn a_corrupt_entry_is_rebuilt_with_a_warning() {
    let dir = tempdir();
    many(dir.path(), 3);
    expect_code(&run_in(dir.path(), &["build"]), 0);
    let mut entries: Vec<PathBuf> = files(&dir.path().join(".kiln-cache")).into_iter().map(|f| f.0).collect();
    assert_eq!(entries.len(), 3);
    let victim = dir.path().join(".kiln-cache").join(entries.remove(0));
    let bytes = std::fs::read(&victim).unwrap();
    std::fs::write(&victim, &bytes[..bytes.len() - 10]).unwrap();
    let out = run_in(dir.path(), &["build", "--json", "report.json"]);
    let err = expect_code(&out, 0);
    assert!(err.contains("warning: the cache entry") && err.contains("damaged"), "{err}");
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!((json["totals"]["built"].as_u64(), json["totals"]["cached"].as_u64()), (Some(1), Some(2)));
    // The rebuilt entry is whole again.
    expect_code(&run_in(dir.path(), &["build"]), 0);
    assert_eq!(std::fs::read(&victim).unwrap().len(), bytes.len());
}

#[test]
fn an_unwritable_cache_builds_without_caching_and_warns() {
    let dir = tempdir();
    many(dir.path(), 3);
    // A file where the cache folder should be (chmod would not stop a test running as root).
    write(dir.path(), "blocked", "not a folder");
    let out = run_in(dir.path(), &["build", "--cache", "blocked"]);
    let err = expect_code(&out, 0);
    assert_eq!(err.matches("warning: cannot write the cache").count(), 1, "{err}");
    assert_eq!(files(&dir.path().join("out")).len(), 3);
}

#[test]
fn a_timed_out_asset_fails_and_keep_going_builds_the_others() {
    let dir = tempdir();
    many(dir.path(), 3);
    write(dir.path(), "spin.rhai", "let x = 0;\nloop { x += 1; }\n");
    edit(dir.path(), "kiln.toml", |s| format!("[[asset]]\nscript = \"spin.rhai\"\nout = \"spin.png\"\n\n{s}"));
    let out = run_in(dir.path(), &["build", "-j", "1", "--keep-going", "--timeout", "0.5", "--json", "r.json"]);
    let err = expect_code(&out, 1);
    assert!(err.contains("ran past its time limit"), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(json["assets"][0]["status"], "failed");
    assert_eq!(json["assets"][0]["error"]["file"], "spin.rhai");
    assert!(json["assets"][0]["error"]["line"].as_u64().is_some());
    assert!(json["assets"][0]["error"]["message"].as_str().unwrap().contains("time limit"));
    assert_eq!(json["totals"]["built"], 3);
    assert!(!dir.path().join("spin.png").exists());

    // Without --keep-going the one worker starts nothing after the failure.
    let out = run_in(dir.path(), &["build", "-j", "1", "--force", "--timeout", "0.5", "--json", "r.json"]);
    expect_code(&out, 1);
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("r.json")).unwrap()).unwrap();
    assert_eq!(json["totals"]["skipped"], 3);
}

#[test]
fn the_report_names_a_script_error_by_file_line_and_column() {
    let dir = tempdir();
    write(dir.path(), "bad.rhai", "let a = 1;\nlet b = image(4, 4).blur(-1.0);\nb\n");
    write(dir.path(), "kiln.toml", "[[asset]]\nscript = \"bad.rhai\"\nout = \"bad.png\"\n");
    let out = run_in(dir.path(), &["build", "--json", "-"]);
    let err = expect_code(&out, 1);
    assert!(err.contains("bad.rhai:2:"), "{err}");
    let (stdout, _) = text(&out);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let e = &json["assets"][0]["error"];
    assert_eq!((e["file"].as_str(), e["line"].as_u64()), (Some("bad.rhai"), Some(2)), "{stdout}");
    assert!(e["col"].as_u64().is_some());
    assert_eq!(json["totals"]["failed"], 1);
}

#[test]
fn manifest_mistakes_are_usage_errors_with_a_position() {
    let dir = tempdir();
    write(dir.path(), "a.rhai", "image(4, 4)");
    let cases = [
        ("[[asset]]\nscript = \"a.rhai\"\nout = \"a.png\"\nsede = 1\n", "kiln.toml:4:1: unknown field `sede`"),
        ("[[asset]]\nscript = \"b.rhai\"\nout = \"a.png\"\n", "kiln.toml:2:10: no such script 'b.rhai'"),
        (
            "[[asset]]\nscript = \"a.rhai\"\nout = \"a.png\"\n[[asset]]\nscript = \"a.rhai\"\nout = \"a.png\"\n",
            "kiln.toml:6:7: two assets write 'a.png'",
        ),
    ];
    for (manifest, want) in cases {
        write(dir.path(), "kiln.toml", manifest);
        let err = expect_code(&run_in(dir.path(), &["build"]), 2);
        assert!(err.contains(want), "{want}\n{err}");
    }
    let err = expect_code(&run_in(dir.path(), &["build", "missing.toml"]), 2);
    assert!(err.contains("missing.toml: no such manifest"), "{err}");
    assert!(!dir.path().join("a.png").exists());
}

#[test]
fn an_import_cycle_fails_the_asset_not_the_build() {
    let dir = tempdir();
    write(dir.path(), "a.rhai", "import \"b\" as b;\nimage(4, 4)");
    write(dir.path(), "b.rhai", "import \"a\" as a;\n");
    write(dir.path(), "kiln.toml", "[[asset]]\nscript = \"a.rhai\"\nout = \"a.png\"\n");
    let err = expect_code(&run_in(dir.path(), &["build"]), 1);
    assert!(err.contains("import: a cycle of imports: b.rhai imports a.rhai imports b.rhai"), "{err}");
    assert!(!dir.path().join("a.png").exists());
}

#[test]
fn dry_run_writes_nothing_and_a_script_of_several_images_writes_each() {
    let dir = tempdir();
    write(dir.path(), "two.rhai", "[image(4, 4), image(2, 2)]");
    write(dir.path(), "kiln.toml", "[[asset]]\nscript = \"two.rhai\"\nout = \"out/two.png\"\n");
    let out = run_in(dir.path(), &["build", "--dry-run"]);
    let (stdout, _) = text(&out);
    expect_code(&out, 0);
    assert!(stdout.contains("would build  out/two.png"), "{stdout}");
    assert!(!dir.path().join("out").exists() && !dir.path().join(".kiln-cache").exists());
    let out = run_in(dir.path(), &["build", "--json", "-"]);
    expect_code(&out, 0);
    let json: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(json["assets"][0]["outputs"], serde_json::json!(["out/two.png", "out/two-1.png"]));
    assert_eq!(image::image_dimensions(dir.path().join("out/two-1.png")).unwrap(), (2, 2));
    // A cache hit restores both.
    std::fs::remove_dir_all(dir.path().join("out")).unwrap();
    expect_code(&run_in(dir.path(), &["build"]), 0);
    assert!(dir.path().join("out/two-1.png").is_file());
}

#[test]
fn cache_stats_and_prune() {
    let dir = tempdir();
    many(dir.path(), 4);
    expect_code(&run_in(dir.path(), &["build"]), 0);
    let out = run_in(dir.path(), &["cache", "stats"]);
    expect_code(&out, 0);
    assert!(text(&out).0.starts_with(".kiln-cache: 4 entries, "), "{}", text(&out).0);
    let out = run_in(dir.path(), &["cache", "prune", "--max-size", "1"]);
    expect_code(&out, 0);
    assert!(text(&out).0.contains("removed 4 entries"), "{}", text(&out).0);
    assert!(text(&run_in(dir.path(), &["cache", "stats"])).0.starts_with(".kiln-cache: 0 entries, 0 B"));
    expect_code(&run_in(dir.path(), &["cache", "prune", "--max-size", "lots"]), 2);
}

/// The most threads `pid` had at once, sampled from /proc until it exits.
#[cfg(target_os = "linux")]
fn peak_threads(child: &mut std::process::Child) -> usize {
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    while child.try_wait().unwrap().is_none() {
        let threads = std::fs::read_to_string(&status)
            .ok()
            .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Threads:").map(|n| n.trim().parse().unwrap_or(0))));
        peak = peak.max(threads.unwrap_or(0));
        std::thread::yield_now();
    }
    peak
}

#[test]
#[cfg(target_os = "linux")]
fn a_big_asset_beside_many_small_ones_does_not_oversubscribe() {
    // Workers drive scripts; the ops' parallel work goes to rayon's one global pool. So the
    // process never holds more than main + jobs + one rayon thread per core (+ slack for the
    // std runtime), where a rayon pool per job would hold jobs × cores more.
    let dir = tempdir();
    write(dir.path(), "big.rhai", "noise_image(1024, 1024, #{ kind: \"gaussian\" }).blur(2.0)\n");
    many(dir.path(), 30);
    edit(dir.path(), "kiln.toml", |s| format!("[[asset]]\nscript = \"big.rhai\"\nout = \"big.png\"\n\n{s}"));
    let jobs = 8;
    let mut child = crate::util::kiln()
        .current_dir(dir.path())
        .args(["build", "--jobs", &jobs.to_string()])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let peak = peak_threads(&mut child);
    assert!(child.wait().unwrap().success());
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    assert!(peak > jobs, "the sampling saw {peak} threads: too few for {jobs} workers");
    assert!(peak <= 1 + jobs + cores + 2, "{peak} threads with --jobs {jobs} on {cores} cores");
    assert!(dir.path().join("big.png").is_file());
}

#[test]
fn jobs_wait_for_a_small_memory_budget_instead_of_failing() {
    // 4 jobs and a 16 MiB budget: the jobs' reservations take at most half of it, their images
    // the rest; no job is refused for the budget its neighbours hold.
    let dir = tempdir();
    many(dir.path(), 8);
    let out = run_in(dir.path(), &["build", "--jobs", "4", "--max-memory", "16M", "--json", "-"]);
    expect_code(&out, 0);
    let json: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(json["totals"]["built"], 8);
    // A folder argument means its kiln.toml.
    let parent = dir.path().parent().unwrap();
    let name = dir.path().file_name().unwrap().to_str().unwrap();
    let out = run_in(parent, &["build", name, "--json", "-"]);
    expect_code(&out, 0);
    let json: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    assert_eq!(json["totals"]["cached"], 8);
}

#[test]
fn a_param_the_script_does_not_read_fails_the_asset_at_its_table() {
    let dir = tempdir();
    write(dir.path(), "a.rhai", "let size = param(\"size\", 4);\nimage(size, size)");
    write(dir.path(), "kiln.toml", "# tiles\n[[asset]]\nscript = \"a.rhai\"\nout = \"a.png\"\nparams = { szie = 8 }\n");
    let out = run_in(dir.path(), &["build", "--json", "-"]);
    let err = expect_code(&out, 1);
    assert!(
        err.contains("kiln.toml:2:1: params: a.rhai has no param 'szie' (did you mean 'size'?); its params: size"),
        "{err}"
    );
    let json: serde_json::Value = serde_json::from_str(&text(&out).0).unwrap();
    let e = &json["assets"][0]["error"];
    assert_eq!((e["line"].as_u64(), e["col"].as_u64()), (Some(2), Some(1)));
    assert!(!dir.path().join("a.png").exists());
}

#[test]
fn built_files_carry_their_recipe_unless_told_not_to() {
    let dir = tempdir();
    project(dir.path());
    let mut o = options(dir.path());
    build_ok(&o);
    let out = dir.path().join("out/tile-2.png");
    let recipe = kiln::io::read_provenance(&out).unwrap().expect("a built file carries its recipe");
    assert_eq!(recipe.script, "tile.rhai");
    assert_eq!(recipe.seed, 2);
    assert_eq!(recipe.params, [("size".to_string(), "16".to_string())]);
    let inputs: Vec<&str> = recipe.inputs.iter().map(|(p, _)| p.as_str()).collect();
    for wanted in ["lib/util.rhai", "lib/deep.rhai", "tex.png"] {
        assert!(inputs.contains(&wanted), "{wanted} missing from {inputs:?}");
    }

    o.no_provenance = true;
    let report = build_ok(&o);
    assert_eq!(statuses(&report), MISS, "files without the recipe are other bytes: a miss");
    assert_eq!(kiln::io::read_provenance(&out).unwrap(), None);
}

#[test]
fn a_pbr_asset_writes_the_presets_files_and_caches_them() {
    let dir = tempdir();
    write(
        dir.path(),
        "set.rhai",
        "let g = |v| image(8, 8, rgb(v, v, v));\n\
         #{ albedo: image(8, 8, \"#a06030\"), normal: image(8, 8, rgb(0.5, 0.6, 1.0)), height: g.call(0.3),\n\
            roughness: g.call(0.8), metallic: g.call(0.0), ao: g.call(1.0) }\n",
    );
    write(dir.path(), "kiln.toml", "[[asset]]\nscript = \"set.rhai\"\nout = \"out/stone.png\"\npbr = \"unreal\"\n");
    let o = options(dir.path());
    let first = build_ok(&o);
    assert_eq!(statuses(&first), [Status::Built]);
    let mut outputs = first.assets[0].outputs.clone();
    outputs.sort();
    assert_eq!(
        outputs,
        ["out/stone_BaseColor.png", "out/stone_Height.png", "out/stone_Normal.png", "out/stone_ORM.png"]
    );
    // Unreal's ORM: R = AO, G = roughness, B = metallic; its normal is DirectX (green flipped).
    let orm = image::open(dir.path().join("out/stone_ORM.png")).unwrap().to_rgb8();
    assert_eq!(orm.get_pixel(3, 3).0, [255, 204, 0]);
    let normal = image::open(dir.path().join("out/stone_Normal.png")).unwrap().to_rgb8();
    assert_eq!(normal.get_pixel(3, 3).0, [128, 102, 255], "green 0.6 flipped to 0.4");
    assert!(kiln::io::read_provenance(&dir.path().join("out/stone_ORM.png")).unwrap().is_some());

    std::fs::remove_file(dir.path().join("out/stone_ORM.png")).unwrap();
    let second = build_ok(&o);
    assert_eq!(statuses(&second), [Status::Cached]);
    assert_eq!(second.assets[0].written, 1, "the missing file is restored from the cache");
    assert!(dir.path().join("out/stone_ORM.png").exists());

    write(dir.path(), "set.rhai", "image(8, 8, \"red\")\n");
    let report = build(&o, &mut Quiet).unwrap();
    let err = report.assets[0].error.as_ref().expect("an image is not a set");
    assert!(err.message.contains("needs the script's last value to be a PBR set"), "{}", err.message);
}
