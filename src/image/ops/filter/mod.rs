//! Neighbourhood filters (DESIGN.md §4 "filters"): Gaussian and box blur, sharpen and unsharp
//! mask, arbitrary convolution, Sobel edges, emboss and median. One algorithm per file; this file
//! holds the plumbing they share.
//!
//! Owns: the working colour space of a filter (premultiplied alpha unless the image is opaque,
//! optionally linear light), clamped edge padding, the row-parallel passes and a blocked transpose,
//! and the option sets of the filters that take a map (`Blur`, `BoxBlur`, `UnsharpOptions`,
//! `ConvolveOptions`, declared with `option_set!` beside each filter: their defaults and ranges
//! are what scripts get and `kiln doc` prints).
//! Must not know about Rhai, files or fields.
//!
//! Conventions shared by every filter here:
//! - Edges are clamped (the border pixel extends outwards), like ImageMagick's default
//!   `-virtual-pixel edge`, unless the op's `edge` option says otherwise or the image is tagged
//!   tileable (then they wrap): `ops::edge` holds the rule. Every filter is written for clamped
//!   edges only; `edge::apply` gives it the other modes by extending the image by the filter's
//!   reach first, so the clamp path is untouched.
//! - Colours are mixed premultiplied by alpha, so transparent pixels never bleed a dark fringe;
//!   an opaque image skips the premultiplication (checked once with [`Image::is_opaque`]) and its
//!   alpha stays exactly 1.
//! - Every pass is parallel over rows with rayon; each output value is computed by one thread in
//!   a fixed order, so results are identical at any thread count.
//!
//! The filters are hand-written rather than taken from `image::imageops` because that crate blurs
//! single-threaded on straight alpha (fringes) and cannot do linear light; the inner loops are
//! plain slice loops over contiguous rows that the compiler vectorises.

// Shared by the gaussian and recursive passes; defined before their `mod` lines so both see it.
/// Runs `$body` compiled for AVX2 when the CPU has it (8 floats per instruction instead of 4),
/// else as plain code. Both compute identical results: the same operations in the same order.
macro_rules! with_avx2 {
    ($name:ident, ($($arg:ident: $ty:ty),*), $body:expr) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            fn $name($($arg: $ty),*) {
                $body
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU supports AVX2, checked just above.
                return unsafe { $name($($arg),*) };
            }
        }
        #[allow(clippy::redundant_closure_call)]
        (|$($arg: $ty),*| $body)($($arg),*)
    }};
}

mod box_blur;
mod convolve;
mod gaussian;
mod median;
mod recursive;

pub use box_blur::{box_blur, box_blur_with, BoxBlur};
pub use convolve::{
    convolve, convolve_with, edges, edges_with, emboss, emboss_with, sharpen, sharpen_with, Convolve, ConvolveOptions,
};
pub use gaussian::{blur, blur_with, gaussian_weights, unsharp, unsharp_with, Blur, Unsharp, UnsharpOptions};
pub use median::{median, median_with};

pub use crate::image::ops::edge::EdgeOptions;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::buffer::{Image, CHANNELS};
use crate::image::color::{linear_to_srgb, srgb_to_linear};

/// How a filter's working buffer relates to the image: premultiplied and/or linear light.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Space {
    premultiply: bool,
    linear: bool,
    opaque: bool,
}

impl Space {
    /// The working space equal to the image's own (nothing to convert).
    pub(crate) const IDENTITY: Space = Space { premultiply: false, linear: false, opaque: false };

    /// True when entering this space changes nothing.
    pub(crate) fn is_identity(&self) -> bool {
        !self.premultiply && !self.linear
    }

    /// The space for filtering `img`: premultiplied unless opaque, linear when asked.
    pub(crate) fn of(img: &Image, linear: bool) -> Space {
        let opaque = img.is_opaque();
        Space { premultiply: !opaque, linear, opaque }
    }

    /// Converts a row of image pixels into the working space, in place.
    #[inline]
    pub(crate) fn enter(&self, row: &mut [f32]) {
        if !self.premultiply && !self.linear {
            return;
        }
        for p in row.chunks_exact_mut(CHANNELS) {
            if self.linear {
                for v in &mut p[..3] {
                    *v = srgb_to_linear(*v);
                }
            }
            if self.premultiply {
                let a = p[3];
                p[0] *= a;
                p[1] *= a;
                p[2] *= a;
            }
        }
    }

    /// Converts a row of working-space pixels back to image pixels, in place.
    #[inline]
    pub(crate) fn leave(&self, row: &mut [f32]) {
        if self.opaque {
            for p in row.chunks_exact_mut(CHANNELS) {
                p[3] = 1.0;
            }
        }
        if !self.premultiply && !self.linear {
            return;
        }
        for p in row.chunks_exact_mut(CHANNELS) {
            if self.premultiply {
                // Kernels with negative lobes (sharpen) can push alpha out of 0..1.
                let a = p[3].clamp(0.0, 1.0);
                if a > 1e-7 {
                    p[0] /= a;
                    p[1] /= a;
                    p[2] /= a;
                    p[3] = a;
                } else {
                    p.copy_from_slice(&[0.0; 4]);
                }
            }
            if self.linear {
                for v in &mut p[..3] {
                    *v = linear_to_srgb(*v);
                }
            }
        }
    }
}

/// Checks a blur-like radius parameter: finite, 0..=max.
pub(crate) fn check_range(op: &str, what: &str, v: f32, max: f32) -> Result<f32> {
    if !v.is_finite() {
        return Err(Error::param(op, format!("{what} must be a finite number, got {v}")));
    }
    if v < 0.0 || v > max {
        return Err(Error::param(op, format!("{what} must be in 0..{max}, got {v}")));
    }
    Ok(v)
}

/// Copies `row` (one image row) into the middle of `buf`, converts it into the working space and
/// fills `pad` pixels on each side with the clamped edge pixels.
#[inline]
pub(crate) fn fill_padded(buf: &mut [f32], row: &[f32], pad: usize, space: &Space) {
    let mid = pad * CHANNELS;
    let n = row.len();
    buf[mid..mid + n].copy_from_slice(row);
    space.enter(&mut buf[mid..mid + n]);
    let first: [f32; 4] = [buf[mid], buf[mid + 1], buf[mid + 2], buf[mid + 3]];
    let last: [f32; 4] = [buf[mid + n - 4], buf[mid + n - 3], buf[mid + n - 2], buf[mid + n - 1]];
    for p in buf[..mid].chunks_exact_mut(CHANNELS) {
        p.copy_from_slice(&first);
    }
    for p in buf[mid + n..].chunks_exact_mut(CHANNELS) {
        p.copy_from_slice(&last);
    }
}

/// One row-parallel pass: each row of `src` (`w` pixels wide) is padded by `pad` clamped pixels,
/// converted into `space`, and handed to `f(padded_row, out_row)`. Skips the remaining rows once
/// the run's cancel token is set; [`finish`] then returns its error.
pub(crate) fn row_pass<F>(src: &[f32], w: usize, pad: usize, space: &Space, f: F) -> Vec<f32>
where
    F: Fn(&[f32], &mut [f32]) + Sync,
{
    let stride = w * CHANNELS;
    let mut out = vec![0f32; src.len()];
    let stop = crate::cancel::current();
    out.par_chunks_mut(stride).zip(src.par_chunks(stride)).for_each_init(
        || vec![0f32; (w + 2 * pad) * CHANNELS],
        |buf, (o, s)| {
            if stop.is_stopped() {
                return;
            }
            fill_padded(buf, s, pad, space);
            f(buf, o);
        },
    );
    out
}

/// Transposes a `w` × `h` RGBA buffer into `h` × `w`, in bands of 16 output rows so that the
/// reads of each band are short contiguous runs (cache friendly) and the bands run in parallel.
pub(crate) fn transpose(src: &[f32], w: usize, h: usize) -> Vec<f32> {
    const BAND: usize = 16;
    let out_stride = h * CHANNELS;
    let mut out = vec![0f32; src.len()];
    out.par_chunks_mut(out_stride * BAND).enumerate().for_each(|(b, band)| {
        let x0 = b * BAND;
        let n = band.len() / out_stride;
        for y in 0..h {
            let s = &src[(y * w + x0) * CHANNELS..(y * w + x0 + n) * CHANNELS];
            for (dx, p) in s.chunks_exact(CHANNELS).enumerate() {
                let o = dx * out_stride + y * CHANNELS;
                band[o..o + CHANNELS].copy_from_slice(p);
            }
        }
    });
    out
}

/// Applies `space.leave` to every row of a working buffer and wraps it as an image; the run's
/// cancel error instead if it was stopped, so a half-made buffer never becomes an image.
pub(crate) fn finish(data: Vec<f32>, w: u32, h: u32, space: &Space) -> Result<Image> {
    crate::cancel::checkpoint()?;
    let mut data = data;
    let stride = w as usize * CHANNELS;
    data.par_chunks_mut(stride).for_each(|row| space.leave(row));
    Image::from_rgba(w, h, data)
}

#[cfg(test)]
mod cancel_tests {
    use std::time::{Duration, Instant};

    use crate::cancel::{self, Stopper};
    use crate::error::Error;
    use crate::image::ops::filter::{blur, box_blur, convolve, edges, emboss, median, unsharp};
    use crate::image::Image;

    fn photo(w: u32, h: u32) -> Image {
        Image::from_fn(w, h, |x, y| {
            let (u, v) = (x as f32 / w as f32, y as f32 / h as f32);
            [u, v, (u * 7.0 + v * 3.0).sin() * 0.5 + 0.5, if (x ^ y) & 8 == 0 { 1.0 } else { 0.5 }]
        })
        .unwrap()
    }

    /// Every filter pass checks the run's token: under a cancelled scope each op returns
    /// `Error::Cancelled` (never a half-made image), and does so well before finishing a 2048² pass.
    #[test]
    fn a_cancelled_token_stops_every_filter_early() {
        let img = photo(2048, 2048);
        let stop = Stopper::never();
        stop.cancel();
        type Op = Box<dyn Fn(&Image) -> crate::Result<Image>>;
        let ops: Vec<(&str, Op)> = vec![
            ("blur fir", Box::new(|i| blur(i, 60.0))),
            ("blur fir small", Box::new(|i| blur(i, 2.0))),
            ("blur recursive", Box::new(|i| blur(i, 8.0))),
            ("unsharp", Box::new(|i| unsharp(i, 4.0, 1.0))),
            ("box blur", Box::new(|i| box_blur(i, 5))),
            ("convolve", Box::new(|i| convolve(i, &vec![vec![1.0; 9]; 9]))),
            ("edges", Box::new(edges)),
            ("emboss", Box::new(emboss)),
            ("median", Box::new(|i| median(i, 3))),
        ];
        for (name, op) in ops {
            let t = Instant::now();
            let r = cancel::scope(stop.clone(), || op(&img));
            assert!(matches!(r, Err(Error::Cancelled(_))), "{name}: {r:?}");
            assert!(t.elapsed() < Duration::from_secs(5), "{name} took {:?}", t.elapsed());
        }
        // A passed deadline says so.
        let late =
            Stopper::new(Default::default(), Instant::now() - Duration::from_secs(2), Some(Duration::from_secs(1)));
        let r = cancel::scope(late, || blur(&img, 60.0));
        assert!(matches!(r, Err(Error::TimedOut(_))), "{r:?}");
    }

    /// With a token installed that never stops, the output is byte-identical to the plain call,
    /// at one thread and at many.
    #[test]
    fn an_unstopped_token_changes_nothing_at_any_thread_count() {
        let img = photo(193, 131);
        let bits = |i: &Image| i.pixels().iter().map(|v| v.to_bits()).collect::<Vec<u32>>();
        type Op = fn(&Image) -> crate::Result<Image>;
        let ops: [Op; 6] = [
            |i| blur(i, 40.0),
            |i| blur(i, 5.0),
            |i| unsharp(i, 2.0, 0.7),
            |i| box_blur(i, 3),
            |i| median(i, 2),
            edges,
        ];
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        for op in ops {
            let plain = bits(&op(&img).unwrap());
            let scoped = bits(&cancel::scope(Stopper::never(), || op(&img)).unwrap());
            let single = bits(&one.install(|| cancel::scope(Stopper::never(), || op(&img))).unwrap());
            assert!(plain == scoped && plain == single);
        }
    }
}
