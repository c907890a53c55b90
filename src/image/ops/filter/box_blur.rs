//! Box blur: the mean of a (2r+1)² square, in O(1) per pixel whatever the radius.
//!
//! Each pass keeps a running sum along a padded row (in f64, so thousands of add/subtract steps
//! do not drift). The vertical pass reuses the row code on a transposed copy: running sums down a
//! column would walk memory with a stride, and the blocked transpose is cheaper than that.

use super::{check_range, finish, row_pass, transpose, Space};
use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};
use crate::image::ops::edge::{self, Edge};

/// The largest radius accepted.
pub const MAX_RADIUS: f32 = 10_000.0;

crate::option_set! {
    /// Box blur options (`box_blur(#{ ... })`; `box_blur(radius)` is the short form).
    #[derive(Copy)]
    pub struct BoxBlur for "box_blur" {
        /// Radius in whole pixels: the box is 2r+1 pixels wide; 0 returns the image unchanged.
        radius: u32 = 1, range(0, MAX_RADIUS);
        /// Average in linear light.
        linear: bool = false;
        /// What the blur reads past the border; clamp, or wrap for a tileable image.
        edge: Option<Edge> = None;
    }
}

/// Mean over a (2r+1)² box, edges clamped.
pub fn box_blur(img: &Image, radius: u32) -> Result<Image> {
    box_blur_with(img, &BoxBlur { radius, linear: false, edge: None })
}

/// Box blur with options.
pub fn box_blur_with(img: &Image, o: &BoxBlur) -> Result<Image> {
    let r = check_range("box_blur", "radius", o.radius as f32, MAX_RADIUS)? as usize;
    if r == 0 {
        return Ok(img.clone());
    }
    edge::apply(img, r, r, edge::resolve(o.edge, img, Edge::Clamp), |img| box_clamped(img, r, o.linear))
}

/// [`box_blur_with`] of a checked radius, edges clamped.
fn box_clamped(img: &Image, r: usize, linear: bool) -> Result<Image> {
    let space = Space::of(img, linear);
    let (w, h) = (img.width() as usize, img.height() as usize);
    let along = |padded: &[f32], out: &mut [f32]| running_mean(padded, out, r);
    // Both row passes and the transpose between them.
    let _work = crate::image::ops::working_buffers(img, 3, "box_blur")?;
    let pass1 = row_pass(img.pixels(), w, r + 1, &space, along);
    let t = transpose(&pass1, w, h);
    drop(pass1);
    let pass2 = row_pass(&t, h, r + 1, &Space::IDENTITY, along);
    drop(t);
    finish(transpose(&pass2, h, w), img.width(), img.height(), &space)
}

/// `out[x]` = mean of the padded row's pixels `x - r ..= x + r` (the row is padded by r + 1).
fn running_mean(padded: &[f32], out: &mut [f32], r: usize) {
    let pad = r + 1;
    let px = |i: usize| &padded[i * CHANNELS..i * CHANNELS + CHANNELS];
    let mut sum = [0f64; 4];
    for i in pad - r..=pad + r {
        for (s, v) in sum.iter_mut().zip(px(i)) {
            *s += *v as f64;
        }
    }
    let inv = 1.0 / (2 * r + 1) as f64;
    for (x, o) in out.chunks_exact_mut(CHANNELS).enumerate() {
        for c in 0..CHANNELS {
            o[c] = (sum[c] * inv) as f32;
        }
        let (add, sub) = (px(pad + x + r + 1), px(pad + x - r));
        for c in 0..CHANNELS {
            sum[c] += add[c] as f64 - sub[c] as f64;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::color::Color;

    #[test]
    fn radius_zero_is_identity() {
        let img = Image::from_fn(5, 3, |x, y| [x as f32 / 5.0, y as f32 / 3.0, 0.5, 1.0]).unwrap();
        assert_eq!(box_blur(&img, 0).unwrap(), img);
    }

    #[test]
    fn mean_of_a_box_with_clamped_edges() {
        // A 1-pixel-high ramp: vertical clamping repeats the row, so only the horizontal mean counts.
        let img = Image::from_fn(5, 1, |x, _| [x as f32, 0.0, 0.0, 1.0]).unwrap();
        let out = box_blur(&img, 1).unwrap();
        let r: Vec<f32> = (0..5).map(|x| out.get(x, 0).unwrap().r).collect();
        let want = [1.0 / 3.0, 1.0, 2.0, 3.0, 11.0 / 3.0];
        for (a, b) in r.iter().zip(want) {
            assert!((a - b).abs() < 1e-5, "{r:?}");
        }
    }

    #[test]
    fn non_square_images_and_constant_preserved() {
        let img = Image::filled(13, 7, Color::new(0.25, 0.5, 0.75, 0.5)).unwrap();
        let out = box_blur(&img, 4).unwrap();
        for p in out.pixels().chunks_exact(4) {
            assert!((p[0] - 0.25).abs() < 1e-5 && (p[3] - 0.5).abs() < 1e-5);
        }
        assert!(box_blur(&img, 20_000).is_err());
    }
}
