//! `seamless`: makes a photo tileable by cross-fading it with its half-offset copy.
//!
//! The copy shifted by half the width (and height) wraps around without a jump: its left and
//! right edges are neighbouring columns from the middle of the original. Its own seam sits in the
//! middle, where the original is used instead. A smooth mask per axis picks the shifted copy at
//! the borders and the original inside; the two axes are applied one after the other (written as
//! one pass over the four quadrant-swapped copies), and since each mask depends on one axis only,
//! each step keeps the other's wrap-around intact. This is the "offset and blend" of G'MIC's
//! `make seamless` and GIMP's Tile Seamless, with a smoothstep mask whose width is `blend`.
//!
//! Works on premultiplied alpha like every op that mixes pixels.

use rayon::prelude::*;

use super::blank;
use crate::error::{Error, Result};
use crate::image::buffer::{unpremultiply, CHANNELS};
use crate::image::Image;

crate::option_set! {
    /// Options for [`seamless`] (`seamless(#{ ... })`).
    #[derive(Copy)]
    pub struct Seamless for "seamless" {
        /// Width of the cross-fade as a fraction of each side, above 0. Small values keep more of
        /// the original untouched; large ones hide the blend better.
        blend: f64 = 0.25, range(0, 0.5);
    }
}

/// Weight of the original at index `i` of `n`: 0 at both ends, 1 once `blend · n` in.
fn mask(n: usize, blend: f64) -> Vec<f32> {
    (0..n)
        .map(|i| {
            let t = (i as f64 + 0.5) / n as f64;
            let d = (t.min(1.0 - t) / blend).min(1.0);
            (d * d * (3.0 - 2.0 * d)) as f32
        })
        .collect()
}

/// A tileable version of the image, the same size.
pub fn seamless(img: &Image, opts: &Seamless) -> Result<Image> {
    let b = opts.blend;
    if !(b.is_finite() && b > 0.0 && b <= 0.5) {
        return Err(Error::param("seamless", format!("blend must be in (0, 0.5], got {b}")));
    }
    let (w, h) = (img.width() as usize, img.height() as usize);
    let opaque = img.is_opaque();
    let src = if opaque { img.clone() } else { img.premultiplied() };
    let (fx, fy) = (mask(w, b), mask(h, b));
    let (ow, oh, mut out) = blank("seamless", w as i64, h as i64)?;
    let p = src.pixels();
    let px = |x: usize, y: usize| &p[(y * w + x) * CHANNELS..(y * w + x + 1) * CHANNELS];
    out.par_chunks_mut(w * CHANNELS).enumerate().for_each(|(y, row)| {
        let y2 = (y + h / 2) % h;
        let gy = fy[y];
        for (x, dst) in row.chunks_exact_mut(CHANNELS).enumerate() {
            let x2 = (x + w / 2) % w;
            let gx = fx[x];
            let (a, bq, c, d) = (px(x, y), px(x2, y), px(x, y2), px(x2, y2));
            let mut o = [0.0f32; 4];
            for k in 0..CHANNELS {
                let top = gx * a[k] + (1.0 - gx) * bq[k];
                let bottom = gx * c[k] + (1.0 - gx) * d[k];
                o[k] = gy * top + (1.0 - gy) * bottom;
            }
            dst.copy_from_slice(&if opaque { o } else { unpremultiply(o) });
        }
    });
    // The result tiles: tag it, so its neighbourhood ops wrap by default (`ops::edge`).
    Ok(Image::from_rgba(ow, oh, out)?.with_tileable(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Mean absolute difference between columns x0 and x1 (all channels).
    fn col_diff(img: &Image, x0: u32, x1: u32) -> f32 {
        let mut s = 0.0;
        for y in 0..img.height() as i64 {
            let (a, b) = (img.get(x0 as i64, y).unwrap(), img.get(x1 as i64, y).unwrap());
            s += (a.r - b.r).abs() + (a.g - b.g).abs() + (a.b - b.b).abs() + (a.a - b.a).abs();
        }
        s / img.height() as f32
    }

    #[test]
    fn edges_wrap_around_smoothly() {
        // Gradients that jump from 1 back to 0 when tiled (the worst case for a seam) and a
        // smooth wave that does not repeat across the image.
        for (w, h) in [(40, 30), (41, 31)] {
            let img = Image::from_fn(w, h, |x, y| {
                let wave = 0.5 + 0.5 * (0.3 * x as f32 + 0.2 * y as f32).sin();
                [x as f32 / (w - 1) as f32, y as f32 / (h - 1) as f32, wave, 1.0]
            })
            .unwrap();
            let before = col_diff(&img, 0, w - 1);
            let s = seamless(&img, &Seamless::default()).unwrap();
            let wrap_x = col_diff(&s, w - 1, 0);
            let interior_x = (0..w - 1).map(|x| col_diff(&s, x, x + 1)).sum::<f32>() / (w - 1) as f32;
            assert!(wrap_x <= interior_x, "{w}x{h}: wrap {wrap_x} > interior {interior_x} (before {before})");
            // Rows: transpose by rotating.
            let t = crate::ops::geometry::rotate90(&s);
            let wrap_y = col_diff(&t, t.width() - 1, 0);
            let interior_y = (0..t.width() - 1).map(|x| col_diff(&t, x, x + 1)).sum::<f32>() / (t.width() - 1) as f32;
            assert!(wrap_y <= interior_y, "{w}x{h}: wrap {wrap_y} > interior {interior_y}");
            // The centre is the original.
            assert_eq!(s.get(w as i64 / 2, h as i64 / 2), img.get(w as i64 / 2, h as i64 / 2));
        }
    }

    #[test]
    fn blend_is_validated() {
        let img = Image::new(4, 4).unwrap();
        for blend in [0.0, -0.1, 0.6, f64::NAN] {
            assert!(seamless(&img, &Seamless { blend }).unwrap_err().to_string().contains("blend"));
        }
        assert_eq!(seamless(&img, &Seamless { blend: 0.5 }).unwrap().dimensions(), (4, 4));
    }
}
