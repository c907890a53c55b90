//! Median filter over a (2r+1)² square, per channel, with a sliding-window histogram (Huang).
//!
//! Values are quantised to 16 bits over each channel's own min..max (so HDR values work; the
//! error is at most 1/131070 of the range, and 8-bit data in 0..1 maps to exact bins: k/255 ×
//! 65535 = 257k). Moving the window one pixel right removes one column and adds one, 2r+1 values
//! each; the median is found with a two-level histogram (256 coarse bins of 256 fine bins), so
//! the cost per pixel is O(r) plus a short bin scan, not a sort of (2r+1)² values.
//! Opaque images are filtered on R, G, B; others on premultiplied R, G, B, A.

use rayon::prelude::*;

use super::{check_range, finish, Space};
use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};
use crate::image::ops::edge::{self, Edge};

/// Largest radius accepted.
pub const MAX_RADIUS: f32 = 1000.0;

const LEVELS: usize = 65536;

/// Median over a (2r+1)² box; r = 0 returns the image unchanged.
pub fn median(img: &Image, radius: u32) -> Result<Image> {
    median_with(img, radius, None)
}

/// [`median`] with an edge mode (`None`: clamp, or wrap for a tileable image).
pub fn median_with(img: &Image, radius: u32, edge: Option<Edge>) -> Result<Image> {
    let r = check_range("median", "radius", radius as f32, MAX_RADIUS)? as usize;
    if r == 0 {
        return Ok(img.clone());
    }
    edge::apply(img, r, r, edge::resolve(edge, img, Edge::Clamp), |img| median_clamped(img, r))
}

/// [`median_with`] of a checked radius, edges clamped.
fn median_clamped(img: &Image, r: usize) -> Result<Image> {
    let space = Space::of(img, false);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut work = img.pixels().to_vec();
    work.par_chunks_mut(img.stride()).for_each(|row| space.enter(row));
    let channels = if space.opaque { 3 } else { 4 };
    let mut out = work.clone();
    let stop = crate::cancel::current();
    for c in 0..channels {
        stop.check()?;
        let plane: Vec<f32> = work.iter().skip(c).step_by(CHANNELS).copied().collect();
        let (lo, hi) = plane
            .iter()
            .filter(|v| v.is_finite())
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        if hi <= lo {
            continue; // constant (or empty of finite values): the median is the value itself
        }
        let scale = (LEVELS - 1) as f32 / (hi - lo);
        let q: Vec<u16> = plane
            .par_iter()
            .map(|&v| if v >= lo { ((v - lo) * scale + 0.5).min((LEVELS - 1) as f32) as u16 } else { 0 })
            .collect();
        let step = (hi - lo) / (LEVELS - 1) as f32;
        out.par_chunks_mut(img.stride()).enumerate().for_each_init(Histogram::new, |hist, (y, orow)| {
            if stop.is_stopped() {
                return;
            }
            median_row(&q, w, h, y, r, hist, |x, bin| orow[x * CHANNELS + c] = lo + bin as f32 * step);
        });
    }
    finish(out, img.width(), img.height(), &space)
}

/// Counts of 16-bit values in a two-level layout.
struct Histogram {
    fine: Vec<u32>,
    coarse: Vec<u32>,
}

impl Histogram {
    fn new() -> Histogram {
        Histogram { fine: vec![0; LEVELS], coarse: vec![0; 256] }
    }

    #[inline]
    fn add(&mut self, v: u16) {
        self.fine[v as usize] += 1;
        self.coarse[(v >> 8) as usize] += 1;
    }

    #[inline]
    fn remove(&mut self, v: u16) {
        self.fine[v as usize] -= 1;
        self.coarse[(v >> 8) as usize] -= 1;
    }

    /// The value of 0-based rank `k` among the counted values.
    #[inline]
    fn nth(&self, mut k: u32) -> u16 {
        let mut c = 0;
        while self.coarse[c] <= k {
            k -= self.coarse[c];
            c += 1;
        }
        let mut f = c << 8;
        while self.fine[f] <= k {
            k -= self.fine[f];
            f += 1;
        }
        f as u16
    }
}

/// Slides the window along row `y` of plane `q`; calls `put(x, median_bin)` for every x.
/// Leaves the histogram empty again for the next row.
fn median_row(
    q: &[u16],
    w: usize,
    h: usize,
    y: usize,
    r: usize,
    hist: &mut Histogram,
    mut put: impl FnMut(usize, u16),
) {
    let clamp = |v: isize, n: usize| v.clamp(0, n as isize - 1) as usize;
    let rows: Vec<usize> = (-(r as isize)..=r as isize).map(|d| clamp(y as isize + d, h)).collect();
    let column = |x: isize| clamp(x, w);
    let rank = ((2 * r + 1) * (2 * r + 1) / 2) as u32;
    for dx in -(r as isize)..=r as isize {
        let x = column(dx);
        for &yy in &rows {
            hist.add(q[yy * w + x]);
        }
    }
    for x in 0..w {
        put(x, hist.nth(rank));
        let (gone, next) = (column(x as isize - r as isize), column(x as isize + r as isize + 1));
        for &yy in &rows {
            hist.remove(q[yy * w + gone]);
            hist.add(q[yy * w + next]);
        }
    }
    // Empty the histogram by removing the last window (cheaper than zeroing 65536 bins).
    for dx in (w as isize - r as isize)..=(w as isize + r as isize) {
        let x = column(dx);
        for &yy in &rows {
            hist.remove(q[yy * w + x]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::color::Color;

    #[test]
    fn removes_salt_noise() {
        let base = 128.0 / 255.0;
        let img = Image::from_fn(20, 20, |x, y| {
            if (x * 7 + y * 3) % 11 == 0 {
                [1.0, 1.0, 1.0, 1.0]
            } else {
                [base, base, base, 1.0]
            }
        })
        .unwrap();
        let out = median(&img, 1).unwrap();
        for p in out.pixels().chunks_exact(4) {
            assert!((p[0] - base).abs() < 1e-5, "{p:?}");
            assert_eq!(p[3], 1.0);
        }
    }

    #[test]
    fn matches_a_brute_force_median() {
        let img = Image::from_fn(9, 7, |x, y| {
            let v = ((x * 37 + y * 91) % 17) as f32 / 16.0;
            [v, 1.0 - v, (x as f32) / 8.0, 1.0]
        })
        .unwrap();
        let out = median(&img, 2).unwrap();
        for y in 0..7i64 {
            for x in 0..9i64 {
                let mut vals: Vec<f32> = Vec::new();
                for dy in -2..=2 {
                    for dx in -2..=2 {
                        vals.push(img.pixel_clamped(x + dx, y + dy)[0]);
                    }
                }
                vals.sort_by(f32::total_cmp);
                assert!((out.get(x, y).unwrap().r - vals[12]).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn radius_zero_is_identity_and_constant_stays() {
        let img = Image::filled(3, 3, Color::new(0.2, 0.4, 0.6, 0.5)).unwrap();
        assert_eq!(median(&img, 0).unwrap(), img);
        let out = median(&img, 1).unwrap();
        assert!((out.get(1, 1).unwrap().g - 0.4).abs() < 1e-6);
        assert!(median(&img, 5000).is_err());
    }
}
