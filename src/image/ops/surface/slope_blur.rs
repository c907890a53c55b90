//! `slope_blur`: blurs an image along the slopes of another (Substance's Slope Blur, blur mode),
//! the node that drags colour and height down the sides of stones and into cracks.
//!
//! Each output pixel averages `samples` taps of the image on the segment from the pixel to
//! `p + amount · ∇slope · width`, at `t = k / samples` for k = 0 .. samples − 1 (the pixel itself
//! included, the far end not), read bilinearly under the edge mode. `∇slope` is the Scharr
//! gradient of `slope`'s height (grey, or luminance) in height per pixel, so the segment runs
//! uphill and a slope that rises by 1.0 across the image's width moves a pixel by `amount`
//! pixels: the look does not change with the resolution. A negative `amount` blurs downhill.
//! Flat areas are left as they are. Colours average premultiplied by alpha unless the image is
//! opaque, so transparent areas never fringe.

use super::{build_rows, check_finite, same_size, Height};
use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};
use crate::image::ops::edge::{keeps_tileable, resolve, Edge};

crate::option_set! {
    /// Options of `slope_blur(slope, #{ ... })`.
    #[derive(Copy)]
    pub struct SlopeBlur for "slope_blur" {
        /// Pixels moved by a slope that rises 1.0 across the image's width; negative = downhill.
        amount: f32 = 4.0, range(-1.0e4, 1.0e4);
        /// Taps along each pixel's segment.
        samples: u32 = 8, range(1, 128);
        /// Edge mode; "wrap" for tileable images, else "clamp".
        edge: Option<Edge> = None;
    }
}

/// Blurs `img` along the gradient of `slope` (see the module docs).
pub fn slope_blur(img: &Image, slope: &Image, o: &SlopeBlur) -> Result<Image> {
    let op = "slope_blur";
    same_size(op, "slope", img, slope)?;
    check_finite(op, "the image", img)?;
    let edge = resolve(o.edge, img, Edge::Clamp);
    let grad = Height::of(op, slope)?.padded(op, 1, resolve(o.edge, slope, Edge::Clamp))?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let premultiply = !img.is_opaque();
    let src = img.pixels();
    // Pixel (ix, iy) under the edge mode, premultiplied when needed; zero outside for transparent.
    let read = |ix: i64, iy: i64| -> [f32; 4] {
        match (edge.index(ix, w), edge.index(iy, h)) {
            (Some(x), Some(y)) => {
                let i = (y * w + x) * CHANNELS;
                let p = [src[i], src[i + 1], src[i + 2], src[i + 3]];
                if premultiply {
                    [p[0] * p[3], p[1] * p[3], p[2] * p[3], p[3]]
                } else {
                    p
                }
            }
            _ => [0.0; 4],
        }
    };
    let scale = o.amount * w as f32;
    let n = o.samples;
    let out = build_rows(w, h, |y, row| {
        for (x, p) in row.chunks_exact_mut(CHANNELS).enumerate() {
            let (gx, gy) = grad.gradient(x, y);
            let (vx, vy) = (gx * scale, gy * scale);
            if vx == 0.0 && vy == 0.0 {
                // Flat: every tap is the pixel itself; copy it exactly.
                p.copy_from_slice(&src[(y * w + x) * CHANNELS..(y * w + x + 1) * CHANNELS]);
                continue;
            }
            let mut acc = [0f32; 4];
            for k in 0..n {
                let t = k as f32 / n as f32;
                let (sx, sy) = (x as f32 + vx * t, y as f32 + vy * t);
                let (fx, fy) = (sx.floor(), sy.floor());
                let (ax, ay) = (sx - fx, sy - fy);
                let (ix, iy) = (fx as i64, fy as i64);
                let (p00, p10, p01, p11) = (read(ix, iy), read(ix + 1, iy), read(ix, iy + 1), read(ix + 1, iy + 1));
                for c in 0..CHANNELS {
                    let top = p00[c] + (p10[c] - p00[c]) * ax;
                    let bottom = p01[c] + (p11[c] - p01[c]) * ax;
                    acc[c] += top + (bottom - top) * ay;
                }
            }
            let inv = 1.0 / n as f32;
            let mut out = acc.map(|v| v * inv);
            if premultiply {
                let a = out[3];
                if a > 1e-7 {
                    for v in &mut out[..3] {
                        *v /= a;
                    }
                } else {
                    out = [0.0; 4];
                }
            } else {
                out[3] = 1.0;
            }
            p.copy_from_slice(&out);
        }
    })?;
    Ok(out.with_tileable(keeps_tileable(edge, img)))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::height_image;
    use super::*;

    #[test]
    fn flat_slope_leaves_the_image_unchanged() {
        let img = Image::from_fn(16, 9, |x, y| [x as f32 / 16.0, y as f32 / 9.0, 0.3, 1.0]).unwrap();
        let flat = height_image(16, 9, |_, _| 0.4);
        let out = slope_blur(&img, &flat, &SlopeBlur::default()).unwrap();
        assert_eq!(out, img);
    }

    #[test]
    fn blurs_along_the_slope_only() {
        // The slope rises to the right: the blur runs along x and leaves a horizontal stripe
        // pattern (constant along x) untouched, while vertical stripes get averaged.
        let (w, h) = (64u32, 32u32);
        let slope = height_image(w, h, |x, _| x / w as f32); // rises 1.0 across the width
        let o = SlopeBlur { amount: 4.0, samples: 4, edge: Some(Edge::Wrap) };
        let rows = Image::from_fn(w, h, |_, y| {
            let v = (y % 2) as f32;
            [v, v, v, 1.0]
        })
        .unwrap();
        assert_eq!(slope_blur(&rows, &slope, &o).unwrap(), rows);
        let cols = Image::from_fn(w, h, |x, _| {
            let v = (x % 2) as f32;
            [v, v, v, 1.0]
        })
        .unwrap();
        let out = slope_blur(&cols, &slope, &o).unwrap();
        // Taps at x, x+1, x+2, x+3 (amount 4 pixels, 4 samples): two of each colour.
        let v = out.get(20, 10).unwrap().r;
        assert!((v - 0.5).abs() < 1e-5, "{v}");
    }

    #[test]
    fn sizes_must_match() {
        let a = height_image(4, 4, |_, _| 0.0);
        let b = height_image(5, 4, |_, _| 0.0);
        assert!(slope_blur(&a, &b, &SlopeBlur::default()).unwrap_err().to_string().contains("slope_blur"));
    }
}
