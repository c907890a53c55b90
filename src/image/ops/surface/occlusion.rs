//! `ambient_occlusion`: horizon-based ambient occlusion of a height map (HBAO, Bavoil & Sainz
//! 2008, on a height field instead of a depth buffer: the method of Substance Designer's
//! "Ambient Occlusion (HBAO)" node).
//!
//! For each pixel and each of `samples` directions (evenly spaced angles, the same for every
//! pixel: no noise, so the result is deterministic and smooth), the ray is marched out to `radius`
//! pixels with HBAO's horizon accumulation: each time a step raises the horizon, the direction's
//! occlusion grows by `falloff(t) · (sin(new elevation) − sin(old elevation))`, with
//! `falloff(t) = 1 − (t/(radius+1))²` so far occluders count less. The baseline is the horizontal
//! (a height map is lit from above), so flat ground and peaks are open. Occlusion is the mean over
//! directions; the output is `1 − strength · occlusion`, clamped to 0..1, grey and opaque:
//! 1 = unoccluded, as in Substance. The square root is taken only when the horizon rises.
//!
//! Height scale: a height of 1.0 is `radius` pixels tall, so an occluder that rises by 1.0 at
//! the edge of the radius stands at 45°. Tying the scale to the radius keeps the look of a map
//! the same when radius and resolution are doubled together.
//!
//! Steps along a ray are spaced quadratically (denser near the pixel, where small creases are)
//! and rounded to whole pixels, at most 32 per ray; the offset list is computed once.

use super::{build_rows, Height};
use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};
use crate::image::ops::edge::{keeps_tileable, resolve, Edge};

crate::option_set! {
    /// Options of `ambient_occlusion(#{ ... })`.
    #[derive(Copy)]
    pub struct AmbientOcclusion for "ambient_occlusion" {
        /// How far occluders are searched, in pixels; a height of 1.0 is this many pixels tall.
        radius: u32 = 16, range(1, 512);
        /// Directions searched around each pixel.
        samples: u32 = 16, range(1, 64);
        /// 0 = no occlusion, 1 = full HBAO, above 1 darkens further.
        strength: f32 = 1.0, range(0.0, 16.0);
        /// Edge mode; "wrap" for tileable images, else "clamp".
        edge: Option<Edge> = None;
    }
}

/// Most steps along one ray.
const MAX_STEPS: u32 = 32;

/// One step along a ray: the pixel offset, 1/distance, the falloff weight, and (once the
/// padded buffer is known) the offset as a flat index delta.
struct Step {
    dx: isize,
    dy: isize,
    inv_t: f32,
    falloff: f32,
    delta: isize,
}

/// The steps of every direction, nearest first; whole-pixel offsets, no repeats within a ray.
fn rays(radius: u32, samples: u32) -> Vec<Vec<Step>> {
    let n = radius.min(MAX_STEPS);
    let r = radius as f64;
    (0..samples)
        .map(|d| {
            let a = std::f64::consts::TAU * (d as f64 + 0.5) / samples as f64;
            let (s, c) = a.sin_cos();
            let mut out: Vec<Step> = Vec::new();
            for k in 1..=n {
                let f = k as f64 / n as f64;
                let t = (r * f * f).max(1.0);
                let (dx, dy) = ((c * t).round() as isize, (s * t).round() as isize);
                if (dx, dy) == (0, 0) || out.iter().any(|p| (p.dx, p.dy) == (dx, dy)) {
                    continue;
                }
                let dist = ((dx * dx + dy * dy) as f64).sqrt();
                let falloff = (1.0 - (dist / (r + 1.0)).powi(2)).max(0.0);
                out.push(Step { dx, dy, inv_t: (1.0 / dist) as f32, falloff: falloff as f32, delta: 0 });
            }
            out
        })
        .collect()
}

/// One step of one ray across a row: heights at the step's offset (`src`) against the row's own.
struct Horizon<'a> {
    src: &'a [f32],
    h0: &'a [f32],
    scale: f32,
    inv_t: f32,
    falloff: f32,
}

impl Horizon<'_> {
    /// Raises each pixel's horizon where this step rises above it, adding the falloff-weighted
    /// growth of `sin(elevation)` to its occlusion. Branch-free so it vectorises; compiled for AVX2
    /// when the CPU has it (the same operations, so the same results: no FMA is enabled).
    fn run(&self, tan_max: &mut [f32], sin_max: &mut [f32], occ: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            unsafe fn avx2(h: &Horizon, t: &mut [f32], s: &mut [f32], o: &mut [f32]) {
                h.kernel(t, s, o)
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                return unsafe { avx2(self, tan_max, sin_max, occ) };
            }
        }
        self.kernel(tan_max, sin_max, occ)
    }

    #[inline(always)]
    fn kernel(&self, tan_max: &mut [f32], sin_max: &mut [f32], occ: &mut [f32]) {
        let n = self.src.len();
        let (src, h0) = (&self.src[..n], &self.h0[..n]);
        let (tan_max, sin_max, occ) = (&mut tan_max[..n], &mut sin_max[..n], &mut occ[..n]);
        for i in 0..n {
            let tan = (src[i] - h0[i]) * self.scale * self.inv_t;
            // sin(atan(tan)) = tan / sqrt(1 + tan²)
            let sin = tan / (1.0 + tan * tan).sqrt();
            let rise = tan > tan_max[i];
            occ[i] += if rise { self.falloff * (sin - sin_max[i]) } else { 0.0 };
            tan_max[i] = if rise { tan } else { tan_max[i] };
            sin_max[i] = if rise { sin } else { sin_max[i] };
        }
    }
}

/// Ambient occlusion of `img`'s height: 1 = open, darker = occluded (see the module docs).
pub fn ambient_occlusion(img: &Image, o: &AmbientOcclusion) -> Result<Image> {
    let op = "ambient_occlusion";
    let height = Height::of(op, img)?;
    let pad = o.radius as usize + 1;
    let edge = resolve(o.edge, img, Edge::Clamp);
    let padded = height.padded(op, pad, edge)?;
    drop(height);
    let mut rays = rays(o.radius, o.samples);
    for s in rays.iter_mut().flatten() {
        s.delta = s.dy * padded.stride as isize + s.dx;
    }
    // Heights in pixels: 1.0 is `radius` pixels tall.
    let scale = o.radius as f32;
    let k = o.strength / o.samples as f32;
    let (w, h) = (img.width() as usize, img.height() as usize);
    // A whole row at a time, one step of one ray across all its pixels: contiguous loads that
    // vectorise. Per pixel the operations and their order are those of a scalar loop over rays
    // and steps, so the bytes do not depend on the layout or the thread count.
    let out = build_rows(w, h, |y, row| {
        let v = &padded.values;
        let base = (y + pad) * padded.stride + pad;
        let h0 = &v[base..base + w];
        let mut occ = vec![0f32; w];
        let (mut tan_max, mut sin_max) = (vec![0f32; w], vec![0f32; w]);
        for ray in &rays {
            tan_max.fill(0.0);
            sin_max.fill(0.0);
            for s in ray {
                let start = base.wrapping_add_signed(s.delta);
                let st = Horizon { src: &v[start..start + w], h0, scale, inv_t: s.inv_t, falloff: s.falloff };
                st.run(&mut tan_max, &mut sin_max, &mut occ);
            }
        }
        for (p, o) in row.chunks_exact_mut(CHANNELS).zip(&occ) {
            let v = (1.0 - k * o).clamp(0.0, 1.0);
            p.copy_from_slice(&[v, v, v, 1.0]);
        }
    })?;
    Ok(out.with_tileable(keeps_tileable(edge, img)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::{height_image, roll, seam};
    use super::*;

    #[test]
    fn flat_height_is_unoccluded_everywhere() {
        let out = ambient_occlusion(&height_image(32, 20, |_, _| 0.37), &AmbientOcclusion::default()).unwrap();
        assert!(out.pixels().iter().all(|&v| v == 1.0));
    }

    #[test]
    fn a_pit_is_darker_than_a_peak_and_a_peak_is_open() {
        let bump = |sign: f32| {
            move |x: f32, y: f32| 0.5 + sign * 0.4 * (-((x - 32.0).powi(2) + (y - 32.0).powi(2)) / 60.0).exp()
        };
        let o = AmbientOcclusion::default();
        let pit = ambient_occlusion(&height_image(64, 64, bump(-1.0)), &o).unwrap();
        let peak = ambient_occlusion(&height_image(64, 64, bump(1.0)), &o).unwrap();
        let (p, q) = (pit.get(32, 32).unwrap().r, peak.get(32, 32).unwrap().r);
        assert_eq!(q, 1.0, "nothing rises above a peak's top");
        assert!(p < 0.7, "the bottom of a pit is occluded: {p}");
        // Strength scales the occlusion; 0 turns it off.
        let none =
            ambient_occlusion(&height_image(64, 64, bump(-1.0)), &AmbientOcclusion { strength: 0.0, ..o }).unwrap();
        assert!(none.pixels().iter().all(|&v| v == 1.0));
    }

    #[test]
    fn wrap_keeps_a_tileable_height_tileable_and_clamp_does_not() {
        let k = std::f32::consts::TAU / 64.0;
        let img = height_image(64, 64, |x, y| 0.5 + 0.25 * (k * x).sin() * (2.0 * k * y).cos());
        let o = AmbientOcclusion { radius: 8, ..AmbientOcclusion::default() };
        let wrap = ambient_occlusion(&img, &AmbientOcclusion { edge: Some(Edge::Wrap), ..o }).unwrap();
        let (seam_w, inner) = seam(&wrap);
        assert!(seam_w <= 1.25 * inner, "wrap: seam {seam_w} vs interior {inner}");
        let clamp = ambient_occlusion(&img, &AmbientOcclusion { edge: Some(Edge::Clamp), ..o }).unwrap();
        let (seam_c, inner_c) = seam(&clamp);
        assert!(seam_c > 1.25 * inner_c, "clamp (the control): seam {seam_c} vs interior {inner_c}");
        // With wrap no pixel knows where the border is: shifting the input round shifts the output.
        let o = AmbientOcclusion { edge: Some(Edge::Wrap), ..o };
        assert_eq!(roll(&ambient_occlusion(&roll(&img, 9, 20), &o).unwrap(), 64 - 9, 64 - 20), wrap);
    }

    #[test]
    fn the_row_kernel_equals_a_plain_loop_over_rays_and_steps() {
        // The straightforward HBAO loop, pixel by pixel with an edge lookup per tap: the row
        // kernel must give the same bits.
        let (w, h) = (37usize, 23usize);
        let f = |x: f32, y: f32| ((x * 0.43).sin() * (y * 0.29).cos()) * 0.5 + 0.5;
        let img = height_image(w as u32, h as u32, f);
        let o = AmbientOcclusion { radius: 7, samples: 9, strength: 1.3, edge: Some(Edge::Mirror) };
        let out = ambient_occlusion(&img, &o).unwrap();
        let height = |x: i64, y: i64| {
            let (sx, sy) = (Edge::Mirror.index(x, w).unwrap(), Edge::Mirror.index(y, h).unwrap());
            f(sx as f32, sy as f32)
        };
        for y in 0..h as i64 {
            for x in 0..w as i64 {
                let mut occ = 0f32;
                for ray in rays(o.radius, o.samples) {
                    let (mut tan_max, mut sin_max) = (0f32, 0f32);
                    for s in ray {
                        let tan = (height(x + s.dx as i64, y + s.dy as i64) - height(x, y)) * 7.0 * s.inv_t;
                        if tan > tan_max {
                            let sin = tan / (1.0 + tan * tan).sqrt();
                            occ += s.falloff * (sin - sin_max);
                            (tan_max, sin_max) = (tan, sin);
                        }
                    }
                }
                let want = (1.0 - (1.3f32 / 9.0) * occ).clamp(0.0, 1.0);
                assert_eq!(out.get(x, y).unwrap().r.to_bits(), want.to_bits(), "({x}, {y})");
            }
        }
    }

    #[test]
    fn same_bytes_at_any_thread_count() {
        let img = height_image(70, 50, |x, y| ((x * 0.37).sin() * (y * 0.21).cos()) * 0.5 + 0.5);
        let o = AmbientOcclusion::default();
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let a = one.install(|| ambient_occlusion(&img, &o)).unwrap();
        let b = four.install(|| ambient_occlusion(&img, &o)).unwrap();
        assert_eq!(a, b);
    }

    #[test]
    fn a_cancelled_run_stops_with_its_error_and_no_image() {
        let token = crate::cancel::Stopper::never();
        token.cancel();
        let img = height_image(64, 64, |x, y| (x * y).sin());
        let r = crate::cancel::scope(token, || ambient_occlusion(&img, &AmbientOcclusion::default()));
        assert!(matches!(r, Err(crate::error::Error::Cancelled(_))), "{r:?}");
    }

    #[test]
    fn nan_height_is_an_error() {
        let img = height_image(4, 4, |x, _| if x == 3.0 { f32::NAN } else { 0.5 });
        let e = ambient_occlusion(&img, &AmbientOcclusion::default()).unwrap_err().to_string();
        assert!(e.contains("ambient_occlusion") && e.contains("NaN"), "{e}");
    }
}
