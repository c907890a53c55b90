//! Tone curves: a monotone cubic through control points, applied to R, G and B.

use crate::error::{Error, Result};
use crate::image::buffer::Image;

use super::map_rgb;

/// A monotone cubic (Fritsch–Carlson) through control points, so the curve never overshoots
/// between points (what GIMP/Photoshop users expect of a tone curve).
#[derive(Clone, Debug)]
pub struct Curve {
    xs: Vec<f32>,
    ys: Vec<f32>,
    tangents: Vec<f32>,
}

impl Curve {
    /// Builds the curve; needs at least 2 points with distinct, finite x (any order).
    pub fn new(points: &[[f32; 2]]) -> Result<Curve> {
        if points.len() < 2 {
            return Err(Error::param("curves", format!("need at least 2 points, got {}", points.len())));
        }
        if points.len() > 4096 {
            return Err(Error::param("curves", format!("at most 4096 points, got {}", points.len())));
        }
        let mut pts = points.to_vec();
        for p in &pts {
            if !p[0].is_finite() || !p[1].is_finite() {
                return Err(Error::param("curves", format!("points must be finite, got [{}, {}]", p[0], p[1])));
            }
        }
        pts.sort_by(|a, b| a[0].total_cmp(&b[0]));
        if pts.windows(2).any(|w| w[0][0] == w[1][0]) {
            return Err(Error::param("curves", "two points have the same x"));
        }
        let xs: Vec<f32> = pts.iter().map(|p| p[0]).collect();
        let ys: Vec<f32> = pts.iter().map(|p| p[1]).collect();
        let n = xs.len();
        let d: Vec<f32> = (0..n - 1).map(|i| (ys[i + 1] - ys[i]) / (xs[i + 1] - xs[i])).collect();
        let mut t = vec![0f32; n];
        t[0] = d[0];
        t[n - 1] = d[n - 2];
        for i in 1..n - 1 {
            t[i] = if d[i - 1] * d[i] <= 0.0 { 0.0 } else { (d[i - 1] + d[i]) / 2.0 };
        }
        // Fritsch–Carlson: limit the tangents so each segment stays monotone.
        for i in 0..n - 1 {
            if d[i] == 0.0 {
                t[i] = 0.0;
                t[i + 1] = 0.0;
                continue;
            }
            let (a, b) = (t[i] / d[i], t[i + 1] / d[i]);
            let s = a * a + b * b;
            if s > 9.0 {
                let k = 3.0 / s.sqrt();
                t[i] = k * a * d[i];
                t[i + 1] = k * b * d[i];
            }
        }
        Ok(Curve { xs, ys, tangents: t })
    }

    /// The curve at `x`; flat beyond the first and last points.
    pub fn eval(&self, x: f32) -> f32 {
        let n = self.xs.len();
        if x.is_nan() || x <= self.xs[0] {
            return self.ys[0];
        }
        if x >= self.xs[n - 1] {
            return self.ys[n - 1];
        }
        let i = self.xs.partition_point(|&v| v <= x) - 1;
        let h = self.xs[i + 1] - self.xs[i];
        let t = (x - self.xs[i]) / h;
        let (t2, t3) = (t * t, t * t * t);
        let h00 = 2.0 * t3 - 3.0 * t2 + 1.0;
        let h10 = t3 - 2.0 * t2 + t;
        let h01 = -2.0 * t3 + 3.0 * t2;
        let h11 = t3 - t2;
        h00 * self.ys[i] + h10 * h * self.tangents[i] + h01 * self.ys[i + 1] + h11 * h * self.tangents[i + 1]
    }
}

/// Tone curve through `points` (`[x, y]` in 0..1), applied to R, G and B.
pub fn curves(img: &Image, points: &[[f32; 2]]) -> Result<Image> {
    let curve = Curve::new(points)?;
    // A 4096-entry table with linear interpolation: the cubic is smooth, so the table error is
    // far below one 8-bit level, and a table lookup is much cheaper than a binary search per value.
    const N: usize = 4096;
    let (x0, x1) = (curve.xs[0], curve.xs[curve.xs.len() - 1]);
    let lut: Vec<f32> = (0..=N).map(|i| curve.eval(x0 + (x1 - x0) * i as f32 / N as f32)).collect();
    let scale = N as f32 / (x1 - x0);
    let (first, last) = (lut[0], lut[N]);
    let m = |v: f32| {
        let p = (v - x0) * scale;
        if p.is_nan() || p <= 0.0 {
            first
        } else if p >= N as f32 {
            last
        } else {
            let i = p as usize;
            let f = p - i as f32;
            lut[i] + (lut[i + 1] - lut[i]) * f
        }
    };
    map_rgb(img, |[r, g, b]| [m(r), m(g), m(b)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::color::Color;
    use crate::image::ops::tone::test_util::{close, px, two_px};

    #[test]
    fn curves_pass_through_points_and_stay_monotone() {
        let pts = [[0.0, 0.0], [0.25, 0.15], [0.75, 0.9], [1.0, 1.0]];
        let c = Curve::new(&pts).unwrap();
        for p in pts {
            assert!(close(c.eval(p[0]), p[1]));
        }
        let mut prev = -1.0;
        for i in 0..=1000 {
            let v = c.eval(i as f32 / 1000.0);
            assert!(v >= prev - 1e-6, "not monotone at {i}");
            prev = v;
        }
        let img = Image::filled(1, 1, Color::gray(0.25)).unwrap();
        assert!((px(&curves(&img, &pts).unwrap(), 0, 0)[0] - 0.15).abs() < 1e-4);
    }

    #[test]
    fn curves_need_two_distinct_points() {
        let img = two_px();
        assert!(curves(&img, &[[0.5, 0.5]]).is_err());
        assert!(curves(&img, &[]).is_err());
        assert!(curves(&img, &[[0.5, 0.1], [0.5, 0.9]]).is_err());
        assert!(curves(&img, &[[0.0, f32::NAN], [1.0, 1.0]]).is_err());
    }
}
