//! `histogram_scan`: Substance Designer's Histogram Scan, a sliding, sharpening threshold.
//!
//! `position` in 0..1 slides a ramp across the value range: at 0 everything in 0..1 is black, at
//! 1 everything is white; `contrast` in 0..1 narrows the ramp from the whole range (0) to a hard
//! threshold (1). With `width = max(1 − contrast, 1/1024)` and
//! `lo = (1 − position)·(1 + width) − width`, the output is `clamp((v − lo) / width, 0, 1)`, so
//! position 0.5 with contrast 0 is the identity, and contrast 1 thresholds at `1 − position`
//! (more white as the position grows, as in Substance). `v` is the height (grey, or luminance);
//! the output is grey and keeps the input's alpha. NaN values are refused.

use super::{build_rows, Height};
use crate::error::{finite, Error, Result};
use crate::image::buffer::{Image, CHANNELS};

/// Narrowest ramp.
const MIN_WIDTH: f32 = 1.0 / 1024.0;

/// The scan of one value.
#[inline]
pub(crate) fn scan(v: f32, position: f32, contrast: f32) -> f32 {
    let width = (1.0 - contrast).max(MIN_WIDTH);
    let lo = (1.0 - position) * (1.0 + width) - width;
    ((v - lo) / width).clamp(0.0, 1.0)
}

/// Histogram Scan of `img`'s grey values (see the module docs).
pub fn histogram_scan(img: &Image, position: f32, contrast: f32) -> Result<Image> {
    let op = "histogram_scan";
    for (what, v) in [("position", position), ("contrast", contrast)] {
        let v = finite(op, what, v as f64)?;
        if !(0.0..=1.0).contains(&v) {
            return Err(Error::param(op, format!("{what} must be between 0 and 1, got {v}")));
        }
    }
    let height = Height::of(op, img)?;
    let w = height.w;
    let out = build_rows(w, height.h, |y, row| {
        let src = img.row(y as u32);
        for (x, p) in row.chunks_exact_mut(CHANNELS).enumerate() {
            let v = scan(height.values[y * w + x], position, contrast);
            p.copy_from_slice(&[v, v, v, src[x * CHANNELS + 3]]);
        }
    })?;
    Ok(out.with_tileable(img.tileable()))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::height_image;
    use super::*;

    #[test]
    fn substance_semantics_at_the_corners() {
        for v in [0.0, 0.2, 0.5, 0.9, 1.0] {
            assert!((scan(v, 0.5, 0.0) - v).abs() < 1e-6, "identity at 0.5/0 for {v}");
            assert_eq!(scan(v, 0.0, 0.3), 0.0, "all black at position 0");
            assert_eq!(scan(v, 1.0, 0.3), 1.0, "all white at position 1");
        }
        // Contrast 1 is a threshold at 1 − position.
        assert_eq!(scan(0.29, 0.7, 1.0), 0.0);
        assert_eq!(scan(0.31, 0.7, 1.0), 1.0);
        // Raising the position never darkens.
        for i in 0..=10 {
            let p = i as f32 / 10.0;
            assert!(scan(0.4, p, 0.5) <= scan(0.4, (p + 0.1).min(1.0), 0.5));
        }
    }

    #[test]
    fn applies_per_pixel_keeping_alpha_and_checks_its_arguments() {
        let img = Image::from_fn(4, 1, |x, _| [x as f32 / 3.0, x as f32 / 3.0, x as f32 / 3.0, 0.5]).unwrap();
        let out = histogram_scan(&img, 0.5, 0.0).unwrap();
        for x in 0..4 {
            let p = out.get(x, 0).unwrap();
            assert!((p.r - x as f32 / 3.0).abs() < 1e-6 && p.a == 0.5);
        }
        assert!(histogram_scan(&img, 1.5, 0.0).unwrap_err().to_string().contains("position"));
        assert!(histogram_scan(&img, 0.5, f32::NAN).is_err());
        assert!(histogram_scan(&height_image(2, 2, |_, _| f32::NAN), 0.5, 0.5).is_err());
    }
}
