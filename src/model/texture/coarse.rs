//! Coarse noise: smooth random fields with cells of 16 to 128 pixels, fed to the generator
//! beside its 8-pixel local noise.
//!
//! Why: the generator's only spatial randomness was one i.i.d. value per 8-pixel cell, and
//! what one output pixel sees is about 100 pixels. Structure much larger than that (continents
//! on a terrain map, clusters of clouds) has to come from correlated randomness, and no
//! convolution stack of that reach can make it. PSGAN gets it from noise at 1/32 through five
//! upsampling layers; kiln's generator has three, so instead it reads smooth noise directly:
//! i.i.d. normal knots on a coarse grid, interpolated with the cubic B-spline (smooth to the
//! second derivative, so no creases along the grid lines as bilinear interpolation leaves) and
//! divided by the interpolation's own standard deviation at each position, so every cell has
//! unit variance like the local noise and no trace of the grid remains in the variance.
//!
//! Channel `i` has cells of [`OCTAVES`]`[i % 4]` noise cells (16, 32, 64, 128 pixels). Each
//! channel gets its own random phase (a sub-cell offset of its grid), so training crops see the
//! grid at every alignment and the generator cannot learn it.
//!
//! Wrapping: a tileable sample's field must repeat across the canvas, so there the grid has a
//! whole number of knots per side (the canvas over the octave's cell, rounded, at least one)
//! and wraps. Elsewhere (training crops, other samples) the field is a window onto an unbounded
//! one, so a crop looks like a piece of a large sample. The generator's circular padding sees a
//! jump at a training crop's edge, as it already does for the periodic channels there.
//!
//! Written here rather than with a noise crate: this is a few dozen lines over kiln's own
//! [`Rng`] stream, which keeps samples byte-identical for a seed.
//!
//! Owns: [`coarse_noise`] and [`OCTAVES`]. Must not know about tensors or the generator.

use crate::rng::Rng;

/// Cell sides, in 8-pixel noise cells, of the coarse channels in turn (16, 32, 64, 128 px).
pub const OCTAVES: [usize; 4] = [2, 4, 8, 16];

/// `channels` coarse noise channels for each of `n` images of `h × w` noise cells, laid out
/// (n, channels, h, w); each value has unit variance. Drawn from `rng` image by image, channel
/// by channel: the x then y phase, then the knots row by row.
pub fn coarse_noise(channels: usize, n: usize, (h, w): (usize, usize), wrap: bool, rng: &mut Rng) -> Vec<f32> {
    let mut out = Vec::with_capacity(n * channels * h * w);
    for _ in 0..n {
        for c in 0..channels {
            let cell = OCTAVES[c % OCTAVES.len()];
            let (phase_x, phase_y) = (rng.float(), rng.float());
            let xs = Axis::new(w, cell, wrap, phase_x);
            let ys = Axis::new(h, cell, wrap, phase_y);
            let knots = rng.normals(xs.knots * ys.knots);
            for y_taps in &ys.taps {
                for x_taps in &xs.taps {
                    let mut v = 0f32;
                    for &(ky, wy) in y_taps {
                        let row = &knots[ky * xs.knots..(ky + 1) * xs.knots];
                        for &(kx, wx) in x_taps {
                            v += wy * wx * row[kx];
                        }
                    }
                    out.push(v);
                }
            }
        }
    }
    out
}

/// The interpolation along one side of the canvas: how many knots, and for each noise cell the
/// knots it reads with their weights (normalised so that the weights' squares sum to 1).
struct Axis {
    knots: usize,
    taps: Vec<Vec<(usize, f32)>>,
}

impl Axis {
    fn new(cells: usize, cell: usize, wrap: bool, phase: f64) -> Axis {
        // knots per noise cell, and the knot count
        let (scale, knots) = if wrap {
            let knots = ((cells as f64 / cell as f64).round() as usize).max(1);
            (knots as f64 / cells as f64, knots)
        } else {
            // the last cell's rightmost tap, plus one
            let last = ((cells as f64 - 0.5) / cell as f64 + phase + 1.0).floor() as usize;
            (1.0 / cell as f64, last + 3)
        };
        let taps = (0..cells)
            .map(|i| {
                // one knot of margin on the left when the grid does not wrap
                let u = (i as f64 + 0.5) * scale + phase + if wrap { 0.0 } else { 1.0 };
                let base = u.floor();
                let weights = bspline(u - base);
                let mut taps: Vec<(usize, f64)> = Vec::with_capacity(4);
                for (k, wk) in weights.into_iter().enumerate() {
                    let at = base as i64 - 1 + k as i64;
                    let at = if wrap { at.rem_euclid(knots as i64) as usize } else { at as usize };
                    // few knots wrap onto the same one: its weights add before normalising
                    match taps.iter_mut().find(|(j, _)| *j == at) {
                        Some((_, w)) => *w += wk,
                        None => taps.push((at, wk)),
                    }
                }
                let norm = taps.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
                taps.into_iter().map(|(j, w)| (j, (w / norm) as f32)).collect()
            })
            .collect();
        Axis { knots, taps }
    }
}

/// The uniform cubic B-spline's four weights at `t` in [0, 1) (knots −1, 0, 1, 2).
fn bspline(t: f64) -> [f64; 4] {
    let (t2, t3) = (t * t, t * t * t);
    let s = 1.0 - t;
    [s * s * s / 6.0, (3.0 * t3 - 6.0 * t2 + 4.0) / 6.0, (-3.0 * t3 + 3.0 * t2 + 3.0 * t + 1.0) / 6.0, t3 / 6.0]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(channels: usize, side: usize, wrap: bool, seed: u64) -> Vec<f32> {
        coarse_noise(channels, 1, (side, side), wrap, &mut Rng::new(seed))
    }

    #[test]
    fn bspline_weights_sum_to_one_and_continue_across_knots() {
        for i in 0..=10 {
            let t = i as f64 / 10.0;
            let w = bspline(t.min(0.999_999));
            assert!((w.iter().sum::<f64>() - 1.0).abs() < 1e-6, "{t}: {w:?}");
        }
        // C0 across a knot: the weights at t → 1 equal the next cell's at t = 0, shifted by one
        let (end, start) = (bspline(1.0 - 1e-9), bspline(0.0));
        for k in 0..3 {
            assert!((end[k + 1] - start[k]).abs() < 1e-6);
        }
    }

    #[test]
    fn every_octave_has_unit_variance() {
        // 4 channels, one per octave, over many seeds: mean 0 and variance 1 within sampling error
        let (side, seeds) = (64, 200);
        let mut sums = [(0f64, 0f64, 0usize); 4];
        for seed in 0..seeds {
            let f = field(4, side, false, seed);
            for (c, plane) in f.chunks(side * side).enumerate() {
                // one value per knot spacing, so the samples are near independent
                let step = OCTAVES[c];
                for y in (0..side).step_by(step) {
                    for x in (0..side).step_by(step) {
                        let v = plane[y * side + x] as f64;
                        sums[c].0 += v;
                        sums[c].1 += v * v;
                        sums[c].2 += 1;
                    }
                }
            }
        }
        for (c, (s, s2, k)) in sums.iter().enumerate() {
            let (mean, var) = (s / *k as f64, s2 / *k as f64 - (s / *k as f64).powi(2));
            assert!(mean.abs() < 0.1 && (var - 1.0).abs() < 0.12, "octave {c}: mean {mean}, variance {var} over {k}");
        }
    }

    #[test]
    fn larger_octaves_are_smoother() {
        // the mean squared step between neighbouring cells falls as the cells grow
        let side = 64;
        let f = field(4, side, false, 3);
        let roughness: Vec<f64> = f
            .chunks(side * side)
            .map(|p| {
                let mut s = 0.0;
                for y in 0..side {
                    for x in 1..side {
                        s += ((p[y * side + x] - p[y * side + x - 1]) as f64).powi(2);
                    }
                }
                s / (side * (side - 1)) as f64
            })
            .collect();
        assert!(roughness.windows(2).all(|w| w[1] < w[0] * 0.6), "{roughness:?}");
        // at 16 px cells (2 noise cells) neighbours still differ; the 1/8 local noise differs by 2
        assert!(roughness[0] < 0.8, "{roughness:?}");
    }

    #[test]
    fn wrapped_fields_continue_across_the_edge() {
        // a tileable canvas: the step across the wrap is like the steps inside
        let side = 48; // 3 knots at 128 px, rounded from 48 / 16
        let f = field(4, side, true, 9);
        for (c, p) in f.chunks(side * side).enumerate() {
            let (mut inside, mut across) = (0f64, 0f64);
            for y in 0..side {
                for x in 1..side {
                    inside = inside.max((p[y * side + x] - p[y * side + x - 1]).abs() as f64);
                }
                across = across.max((p[y * side] - p[y * side + side - 1]).abs() as f64);
            }
            assert!(across <= inside * 1.05 + 1e-6, "octave {c}: step across the wrap {across}, inside {inside}");
        }
        // an unwrapped field of the same size does not repeat
        let g = field(1, side, false, 9);
        let jump = (0..side).map(|y| (g[y * side] - g[y * side + side - 1]).abs()).fold(0f32, f32::max);
        assert!(jump > 0.1, "{jump}");
    }

    #[test]
    fn few_knots_keep_unit_variance_when_wrapping() {
        // a 16-cell canvas at 128 px cells is one knot: constant at ±1σ, not ±1.4σ
        for seed in 0..50 {
            let f = field(4, 16, true, seed);
            let plane = &f[3 * 256..4 * 256];
            assert!(plane.iter().all(|&v| (v - plane[0]).abs() < 1e-5), "one knot gives a constant field");
        }
        let mut s2 = 0f64;
        for seed in 0..400 {
            let f = field(4, 16, true, seed);
            s2 += (f[3 * 256] as f64).powi(2);
        }
        let var = s2 / 400.0;
        assert!((var - 1.0).abs() < 0.2, "{var}");
    }

    #[test]
    fn the_same_stream_gives_the_same_field() {
        assert_eq!(field(3, 20, false, 5), field(3, 20, false, 5));
        assert_ne!(field(3, 20, false, 5), field(3, 20, false, 6));
    }
}
