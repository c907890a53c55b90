//! The edges of reading and writing: files that bend their format's rules (tests/fixtures/io/,
//! made by `make_fixtures.py` there), the memory budget checked before a decode allocates, and
//! closed pipes, which must never make kiln panic.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use kiln::Image;

use crate::util::{kiln, repo, tempdir, write};

fn fixture(name: &str) -> PathBuf {
    repo().join("tests/fixtures/io").join(name)
}

fn load(name: &str) -> Image {
    kiln::io::load(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Every pixel as 8-bit RGBA, row by row.
fn rgba8(img: &Image) -> Vec<[u8; 4]> {
    img.pixels()
        .chunks_exact(4)
        .map(|p| p.iter().map(|v| (v * 255.0).round() as u8).collect::<Vec<_>>())
        .map(|v| [v[0], v[1], v[2], v[3]])
        .collect()
}

#[test]
fn premultiplied_tiff_reads_as_straight_alpha() {
    let img = load("premultiplied.tif");
    assert_eq!(img.dimensions(), (2, 2));
    // Stored [16, 16, 0, 16] with associated alpha: yellow at alpha 16.
    assert_eq!(rgba8(&img), [[255, 0, 0, 255], [0, 255, 0, 128], [0, 0, 0, 0], [255, 255, 0, 16]]);
    // The same bytes as unassociated alpha are taken as stored.
    let img = load("unassociated.tif");
    assert_eq!(rgba8(&img), [[255, 0, 0, 255], [0, 128, 0, 128], [0, 0, 0, 0], [16, 16, 0, 16]]);
}

#[test]
fn ycbcr_tiff_is_converted_to_rgb() {
    let img = load("ycbcr.tif");
    let want: [[u8; 4]; 4] = [[255, 0, 0, 255], [0, 255, 0, 255], [0, 0, 255, 255], [128, 128, 128, 255]];
    for (got, want) in rgba8(&img).iter().zip(want) {
        for c in 0..4 {
            // The file holds rounded 8-bit YCbCr: a step or two either way (Pillow reads
            // [254, 0, 0] for the red).
            assert!((got[c] as i32 - want[c] as i32).abs() <= 2, "{got:?} vs {want:?}");
        }
    }
}

#[test]
fn ycbcr_tiff_compressed_as_jpeg_is_converted_to_rgb() {
    // PhotometricInterpretation 6 with JPEG compression, as libtiff writes it.
    let img = load("ycbcr_jpeg.tif");
    assert_eq!(img.dimensions(), (16, 16));
    let px = rgba8(&img);
    let wants: [(usize, [u8; 4]); 2] = [(2 * 16 + 2, [200, 40, 40, 255]), (12 * 16 + 12, [30, 90, 220, 255])];
    for (at, want) in wants {
        for c in 0..4 {
            assert!((px[at][c] as i32 - want[c] as i32).abs() <= 3, "{:?} vs {want:?}", px[at]);
        }
    }
}

#[test]
fn ycbcr_tiff_subsampled_and_uncompressed_is_refused_in_words() {
    // Pillow cannot read it either.
    let err = kiln::io::load(&fixture("ycbcr_subsampled.tif")).unwrap_err().to_string();
    assert!(err.contains("ycbcr_subsampled.tif"), "{err}");
    assert!(err.contains("subsampled") && err.contains("convert it to RGB"), "{err}");
}

const RED: [u8; 4] = [255, 0, 0, 255];
const GREEN: [u8; 4] = [0, 255, 0, 255];
const BLUE: [u8; 4] = [0, 0, 255, 255];

#[test]
fn bmp_with_two_planes_reads_as_one() {
    // The field has no meaning in a file; Pillow ignores it.
    assert_eq!(rgba8(&load("planes2.bmp")), [RED, GREEN, BLUE, BLUE, GREEN, RED]);
}

#[test]
fn bmp_rle_stored_top_down_reads() {
    assert_eq!(rgba8(&load("rle8_topdown.bmp")), [RED, RED, GREEN, GREEN, BLUE, BLUE, BLUE, BLUE]);
}

#[test]
fn bmp_rle_with_an_overlong_run_and_no_end_marker_reads() {
    // The run is clipped at its row's end, as Pillow does.
    assert_eq!(rgba8(&load("rle8_bad.bmp")), [GREEN, GREEN, BLUE, BLUE, RED, RED, RED, RED]);
}

#[test]
fn gif_canvas_grows_to_hold_a_frame_outside_the_screen() {
    // A 4x4 frame (left half red, right half blue) at (2, 2) of a 4x4 screen: a 6x6 canvas.
    let img = load("frame_outside.gif");
    assert_eq!(img.dimensions(), (6, 6));
    let px = rgba8(&img);
    let at = |x: usize, y: usize| px[y * 6 + x];
    assert_eq!(at(0, 0), [0, 0, 0, 0], "no frame covers (0, 0)");
    assert_eq!(at(1, 4), [0, 0, 0, 0]);
    assert_eq!(at(2, 2), [255, 0, 0, 255]);
    assert_eq!(at(3, 5), [255, 0, 0, 255]);
    assert_eq!(at(4, 2), [0, 0, 255, 255]);
    assert_eq!(at(5, 5), [0, 0, 255, 255]);
}

#[test]
fn gif_with_a_zero_screen_takes_its_frame_size() {
    let img = load("zero_screen.gif");
    assert_eq!(img.dimensions(), (4, 4));
    assert_eq!(rgba8(&img)[..4], [RED, RED, BLUE, BLUE]);
}

/// A 16384×16384 1-bit greyscale PNG: about 32 KB of file, 4 GiB as an RGBA f32 image.
fn huge_one_bit_png(path: &Path) {
    let file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut enc = png::Encoder::new(file, 16384, 16384);
    enc.set_color(png::ColorType::Grayscale);
    enc.set_depth(png::BitDepth::One);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![0u8; 16384 / 8];
    for _ in 0..16384 {
        std::io::Write::write_all(&mut stream, &row).unwrap();
    }
    stream.finish().unwrap();
}

/// Set in the child process that [`a_decode_over_the_memory_budget_is_refused_at_once`] starts:
/// the budget is process-wide, so it is lowered only there, never in this shared test process.
const BUDGET_CHILD: &str = "KILN_TEST_IO_BUDGET_CHILD";

#[test]
fn a_decode_over_the_memory_budget_is_refused_at_once() {
    if let Some(path) = std::env::var_os(BUDGET_CHILD) {
        // The child: a 1 GiB budget, as `--max-memory 1G` sets it.
        kiln::memory::set_budget(1 << 30);
        let start = Instant::now();
        let err = kiln::io::load(Path::new(&path)).unwrap_err();
        let took = start.elapsed();
        let msg = err.to_string();
        assert!(matches!(err, kiln::Error::Limit(_)), "{msg}");
        assert!(msg.contains("huge.png (16384×16384) needs"), "{msg}");
        assert!(msg.contains("the memory budget is 1 GiB") && msg.contains("--max-memory"), "{msg}");
        assert!(took < Duration::from_secs(1), "refused only after {took:?}");
        assert_eq!(kiln::memory::in_use(), 0, "nothing stays reserved");
        return;
    }
    let dir = tempdir();
    let path = dir.path().join("huge.png");
    huge_one_bit_png(&path);
    let size = std::fs::metadata(&path).unwrap().len();
    assert!(size < 100_000, "{size} bytes");
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "io_edges::a_decode_over_the_memory_budget_is_refused_at_once", "--nocapture"])
        .env(BUDGET_CHILD, &path)
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{text}");
    assert!(text.contains("1 passed"), "the child ran no test:\n{text}");
}

/// A pipe whose read end is already closed: every write to it fails with `BrokenPipe`.
fn closed_pipe() -> Stdio {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    writer.into()
}

/// Runs `cmd` with stdout or stderr (`which`) on a closed pipe; returns the exit code and what
/// the other stream said.
fn run_closed(mut cmd: Command, which: &str) -> (Option<i32>, String) {
    let cmd = match which {
        "stdout" => cmd.stdout(closed_pipe()).stderr(Stdio::piped()),
        _ => cmd.stderr(closed_pipe()).stdout(Stdio::piped()),
    };
    let out = cmd.output().unwrap();
    let other = if which == "stdout" { &out.stderr } else { &out.stdout };
    (out.status.code(), String::from_utf8_lossy(other).into_owned())
}

#[test]
fn kiln_doc_into_a_closed_pipe_exits_0_quietly() {
    let mut cmd = kiln();
    cmd.arg("doc");
    let (code, stderr) = run_closed(cmd, "stdout");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(stderr.is_empty(), "not quiet:\n{stderr}");
}

/// A folder with `ok.rhai` (prints, debugs, makes an image) and `bad.rhai` (prints, throws),
/// and the command that runs one of them with `-o out.png`.
fn scripts() -> (tempfile::TempDir, impl Fn(&str) -> Command) {
    let dir = tempdir();
    write(dir.path(), "ok.rhai", "print(\"hello\");\ndebug(\"there\");\nimage(4, 4)\n");
    write(dir.path(), "bad.rhai", "print(\"hello\");\nthrow \"boom\";\n");
    let path = dir.path().to_path_buf();
    let run = move |script: &str| {
        let mut cmd = kiln();
        cmd.current_dir(&path).args(["run", script, "-o", "out.png"]);
        cmd
    };
    (dir, run)
}

#[test]
fn script_print_into_a_closed_stdout_does_not_panic() {
    let (dir, run) = scripts();
    // print() with stdout closed: the script goes on; its result is still written.
    let (code, stderr) = run_closed(run("ok.rhai"), "stdout");
    assert_eq!(code, Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(dir.path().join("out.png").exists());
    let (code, stderr) = run_closed(run("bad.rhai"), "stdout");
    assert_eq!(code, Some(1), "{stderr}");
    assert!(!stderr.contains("panicked") && stderr.contains("boom"), "{stderr}");
}

#[test]
fn script_debug_and_errors_into_a_closed_stderr_do_not_panic() {
    let (dir, run) = scripts();
    // debug() and the error message with stderr closed: exit codes as usual, no panic (101).
    let (code, stdout) = run_closed(run("ok.rhai"), "stderr");
    assert_eq!(code, Some(0), "{stdout}");
    assert_eq!(stdout, "hello\n");
    assert!(dir.path().join("out.png").exists());
    let (code, stdout) = run_closed(run("bad.rhai"), "stderr");
    assert_eq!(code, Some(1), "{stdout}");
    assert!(!stdout.contains("panicked"), "{stdout}");
}
