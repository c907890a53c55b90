//! `kiln train` off a terminal (the test's pipes): plain progress lines with time per step and
//! ETA, the small-holdout warning, and "n/a" metrics instead of 0.00.
#![cfg(feature = "ml")]

use crate::util::{run_in, tempdir};

#[test]
fn off_a_terminal_train_prints_plain_progress_lines_and_warns_of_a_small_holdout() {
    let dir = tempdir();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    for i in 0..10 {
        let img = kiln::Image::from_fn(8, 8, |x, y| [x as f32 / 7.0, y as f32 / 7.0, i as f32 / 9.0, 1.0]).unwrap();
        kiln::io::save(&img, &data.join(format!("{i}.png")), &kiln::SaveOptions::default()).unwrap();
    }
    let args = ["train", "gan", "--data", "data", "--out", "m.safetensors", "--size", "8", "--latent", "4"];
    let small = ["--width", "4", "--epochs", "3", "--batch", "4", "--holdout", "0.2", "--log-every", "2"];
    let out = run_in(dir.path(), &[&args[..], &small[..]].concat());
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[0], "8 training images, 2 held out", "{stderr}");
    assert_eq!(
        lines[1],
        "warning: holdout has 2 images; precision/recall need at least 32 - use more data (at least 64 images \
         with holdout 0.5)"
    );
    // 8 images in batches of 4: 2 steps an epoch, 6 in all; a line every 2 steps
    let steps: Vec<&str> = lines.iter().filter(|l| l.starts_with("step ") && l.contains('%')).copied().collect();
    assert_eq!(steps.len(), 3, "{stderr}");
    assert!(steps[0].starts_with("step 2/6 (33%)  epoch 1/3  d "), "{}", steps[0]);
    assert!(steps[1].contains("/step  ETA "), "time per step and ETA once a step is measured: {}", steps[1]);
    assert!(steps[2].starts_with("step 6/6 (100%)  epoch 3/3"), "{}", steps[2]);
    assert!(stdout.contains("precision/recall n/a (holdout 2 < 32) on 2 images"), "{stdout}");
    assert!(!stdout.contains("precision 0.00"), "{stdout}");

    let bad = run_in(dir.path(), &[&args[..], &["--log-every", "0"][..]].concat());
    assert_eq!(bad.status.code(), Some(2), "{}", String::from_utf8_lossy(&bad.stderr));
}
