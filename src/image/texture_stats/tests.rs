//! Unit tests of the texture metrics on synthetic images with known answers. Material and field
//! renders are tested in tests/integration/texture_stats.rs.

use super::*;
use crate::image::Image;
use crate::rng::Rng;

/// Stationary random texture: white noise box-blurred with wrap-around (so it tiles), contrast
/// stretched, per channel.
fn noise(n: u32, seed: u64) -> Image {
    let n = n as usize;
    let mut rng = Rng::new(seed);
    let raw: Vec<f32> = rng.uniforms(n * n * 3, 0.0, 1.0);
    let r = 2usize;
    let blurred: Vec<f32> = (0..n * n * 3)
        .map(|i| {
            let (c, p) = (i % 3, i / 3);
            let (x, y) = (p % n, p / n);
            let mut s = 0.0;
            for dy in 0..=2 * r {
                for dx in 0..=2 * r {
                    let (sx, sy) = ((x + n + dx - r) % n, (y + n + dy - r) % n);
                    s += raw[(sy * n + sx) * 3 + c];
                }
            }
            0.5 + 3.0 * (s / 25.0 - 0.5)
        })
        .collect();
    Image::from_fn(n as u32, n as u32, |x, y| {
        let i = (y as usize * n + x as usize) * 3;
        [blurred[i], blurred[i + 1], blurred[i + 2], 1.0]
    })
    .unwrap()
}

fn crop(img: &Image, x0: u32, y0: u32, w: u32, h: u32) -> Image {
    Image::from_fn(w, h, |x, y| {
        let p = img.get((x + x0) as i64, (y + y0) as i64).unwrap();
        [p.r, p.g, p.b, p.a]
    })
    .unwrap()
}

fn roll(img: &Image, dx: u32, dy: u32) -> Image {
    let (w, h) = img.dimensions();
    Image::from_fn(w, h, |x, y| {
        let p = img.get(((x + dx) % w) as i64, ((y + dy) % h) as i64).unwrap();
        [p.r, p.g, p.b, p.a]
    })
    .unwrap()
}

#[test]
fn seam_of_a_ramp_is_computed_by_hand() {
    // v(x) = x / 4 on 5 columns, constant down the rows: interior column steps 0.25, the wrap
    // step |1 − 0| = 1, rows all equal (0): wrap 1, inner 0.25, ratio 4.
    let v: Vec<f32> = (0..15).map(|i| (i % 5) as f32 / 4.0).collect();
    let s = Seam::of_plane(&v, 5, 3);
    assert_eq!(s, Seam { wrap: 1.0, inner: 0.25 });
    assert_eq!(s.ratio(), 4.0);
    assert!(!s.tileable());
    // One full period of a sine: the wrap step equals the steepest interior ones.
    let n = 64;
    let v: Vec<f32> = (0..n * n).map(|i| (std::f32::consts::TAU * (i % n) as f32 / n as f32).sin()).collect();
    let s = Seam::of_plane(&v, n, n);
    assert!((s.ratio() - 1.0).abs() < 1e-3 && s.tileable(), "{s:?}");
    // A constant image tiles and scores 0; degenerate sizes do not panic.
    assert_eq!(Seam::of_plane(&[0.5; 16], 4, 4).ratio(), 0.0);
    assert_eq!(Seam::of_plane(&[0.5], 1, 1), Seam { wrap: 0.0, inner: 0.0 });
    assert_eq!(Seam::of_plane(&[], 0, 0).ratio(), 0.0);
}

#[test]
fn seam_score_separates_a_tiling_texture_from_a_cut() {
    let tex = noise(128, 1);
    let score = seam_score(&tex);
    assert!(score <= TILEABLE_RATIO, "wrap-blurred noise tiles: {score}");
    // The same texture with a quarter cut off no longer wraps onto itself.
    let cut = crop(&tex, 0, 0, 96, 96);
    let cut_score = seam_score(&cut);
    assert!(cut_score > 1.5, "a cut texture shows a seam: {cut_score}");
}

#[test]
fn gram_distance_is_zero_to_itself_and_small_to_a_rolled_copy() {
    let a = noise(192, 2);
    assert_eq!(gram_distance(&a, &a).unwrap(), 0.0);
    let rolled = gram_distance(&a, &roll(&a, 37, 81)).unwrap();
    let other_seed = gram_distance(&a, &noise(192, 3)).unwrap();
    // A different texture: the same noise squashed to half its contrast and tinted.
    let other = a.map_pixels(|p| [0.25 + 0.5 * p[0], 0.5 * p[1], 0.5 + 0.4 * p[2], 1.0]);
    let different = gram_distance(&a, &other).unwrap();
    eprintln!("rolled {rolled}, other seed {other_seed}, different {different}");
    // At 192² the 8× scale has only 10 × 10 layer-2 pixels, so a roll that moves the
    // downsampling grid already changes its statistics a little (0.1 here, mostly that layer).
    assert!(rolled < 0.15, "{rolled}");
    assert!(other_seed < 0.3, "{other_seed}");
    assert!(different > 100.0 * other_seed, "{different} vs {other_seed}");
}

#[test]
fn gram_distance_compares_images_of_different_sizes() {
    let big = noise(256, 4);
    let small = crop(&big, 64, 32, 128, 128);
    let d = gram_distance(&big, &small).unwrap();
    let stripes = Image::from_fn(128, 128, |x, _| {
        let v = if (x / 4) % 2 == 0 { 0.2 } else { 0.8 };
        [v, v, v, 1.0]
    })
    .unwrap();
    let far = gram_distance(&big, &stripes).unwrap();
    eprintln!("crop {d}, stripes {far}");
    // Sampling noise of a 128² piece (0.2) against a different texture (hundreds).
    assert!(d < 0.4 && far > 100.0 * d, "crop {d}, stripes {far}");
}

#[test]
fn gram_distance_is_the_same_at_any_thread_count() {
    let (a, b) = (noise(160, 5), noise(200, 6));
    let at = |threads| {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap().install(|| gram_distance(&a, &b).unwrap())
    };
    let one = at(1);
    assert_eq!(one.to_bits(), at(3).to_bits());
    assert_eq!(one.to_bits(), at(4).to_bits());
}

#[test]
fn gram_distance_rejects_tiny_images_with_a_clear_error() {
    let small = Image::new(32, 200).unwrap();
    let err = gram_distance(&noise(64, 1), &small).unwrap_err().to_string();
    assert!(err.contains("at least 64×64") && err.contains("32×200"), "{err}");
    // NaN pixels do not poison the result.
    let nan = noise(64, 1).map_pixels(|p| [f32::NAN, p[1], p[2], 1.0]);
    assert!(gram_distance(&noise(64, 1), &nan).unwrap().is_finite());
}

#[test]
fn diversity_catches_a_copy_and_passes_an_independent_sample() {
    let ex = noise(160, 7);
    let copy = crop(&ex, 23, 41, 96, 96);
    let fresh = noise(96, 8);
    let d = diversity(&[copy.clone(), fresh.clone()], &ex, 24).unwrap();
    eprintln!("{d:?}");
    assert!(d.copy_ratios[0] < 0.01, "a copied crop: {:?}", d.copy_ratios);
    assert!((0.8..1.25).contains(&d.copy_ratios[1]), "an independent sample: {:?}", d.copy_ratios);
    assert!((d.copy_ratio - (d.copy_ratios[0] + d.copy_ratios[1]) / 2.0).abs() < 1e-12);
    // Two independent samples differ like two pieces of the exemplar; two copies of one do not.
    assert!((0.8..1.25).contains(&d.pairwise_ratio.unwrap()), "{d:?}");
    let same = diversity(&[fresh.clone(), fresh], &ex, 24).unwrap();
    assert_eq!(same.pairwise, Some(0.0));
    assert_eq!(diversity(&[copy], &ex, 24).unwrap().pairwise, None);
}

#[test]
fn diversity_reports_bad_sizes() {
    let ex = noise(64, 1);
    let e = diversity(std::slice::from_ref(&ex), &ex, 40).unwrap_err().to_string();
    assert!(e.contains("twice the crop"), "{e}");
    let e = diversity(&[Image::new(16, 16).unwrap()], &ex, 24).unwrap_err().to_string();
    assert!(e.contains("sample 0 (16×16) is smaller than the crop (24)"), "{e}");
    assert!(diversity(&[], &ex, 24).is_err());
    assert!(diversity(std::slice::from_ref(&ex), &ex, 4).is_err());
}
