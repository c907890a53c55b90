//! Colorize: each pixel's luma mapped through colour stops.
//!
//! Kept deliberately small (stops only, linear interpolation in sRGB); named palettes live in the
//! field room's palette module.

use crate::error::{Error, Result};
use crate::image::buffer::Image;
use crate::image::color::{luma, Color};

use super::map_rgb;

/// Colour stops for [`colorize`]: `(position 0..1, colour)`. Kept deliberately small (stops only,
/// linear interpolation in sRGB); named palettes live in the field room's palette module.
pub fn colorize_stops(colors: &[Color]) -> Vec<(f32, Color)> {
    let n = colors.len();
    colors.iter().enumerate().map(|(i, c)| (if n > 1 { i as f32 / (n - 1) as f32 } else { 0.0 }, *c)).collect()
}

/// Maps each pixel's luma (clipped to 0..1) through colour `stops` (positions in 0..1, any order,
/// at least one). The pixel keeps its alpha; the stops' alpha is ignored.
pub fn colorize(img: &Image, stops: &[(f32, Color)]) -> Result<Image> {
    if stops.is_empty() {
        return Err(Error::param("colorize", "need at least one colour stop"));
    }
    if stops.len() > 4096 {
        return Err(Error::param("colorize", format!("at most 4096 stops, got {}", stops.len())));
    }
    let mut s = stops.to_vec();
    for (p, c) in &s {
        if !p.is_finite() {
            return Err(Error::param("colorize", format!("stop positions must be finite, got {p}")));
        }
        c.validate("colorize")?;
    }
    s.sort_by(|a, b| a.0.total_cmp(&b.0));
    // A 1024-entry table: luma is clipped to 0..1, so a table is exact to well under a level.
    const N: usize = 1024;
    let lut: Vec<[f32; 3]> = (0..=N)
        .map(|i| {
            let t = i as f32 / N as f32;
            let j = s.partition_point(|(p, _)| *p <= t);
            if j == 0 {
                let c = s[0].1;
                [c.r, c.g, c.b]
            } else if j == s.len() {
                let c = s[s.len() - 1].1;
                [c.r, c.g, c.b]
            } else {
                let ((p0, a), (p1, b)) = (s[j - 1], s[j]);
                let f = if p1 > p0 { (t - p0) / (p1 - p0) } else { 0.0 };
                [a.r + (b.r - a.r) * f, a.g + (b.g - a.g) * f, a.b + (b.b - a.b) * f]
            }
        })
        .collect();
    map_rgb(img, |[r, g, b]| {
        let l = luma([r, g, b, 1.0]);
        let p = if l > 0.0 { l.min(1.0) * N as f32 } else { 0.0 };
        let i = (p as usize).min(N - 1);
        let f = p - i as f32;
        let (a, b) = (lut[i], lut[i + 1]);
        [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::ops::tone::test_util::px;

    #[test]
    fn colorize_maps_luma_through_stops() {
        let img = Image::filled(1, 1, Color::gray(0.5)).unwrap();
        let stops = colorize_stops(&[Color::BLACK, Color::rgb(1.0, 0.0, 0.0)]);
        let p = px(&colorize(&img, &stops).unwrap(), 0, 0);
        assert!((p[0] - 0.5).abs() < 1e-3 && p[1] == 0.0);
    }
}
