//! `resize` and `scale` through `fast_image_resize` (fir), on f32 RGBA pixels.
//!
//! fir is a port of Pillow's convolution resampler: separable, the kernel widened by the scale
//! factor when shrinking, weights renormalised at the borders. Its Lanczos3 therefore matches
//! Pillow's `LANCZOS` (checked by `tests/integration/geometry.rs` against a Pillow fixture). It
//! accumulates in f64 and uses SSE4/AVX2 where the CPU has them, and with its `rayon` feature it
//! splits rows over the worker threads; each output pixel is computed the same way whatever the
//! split, so results do not depend on the thread count.
//!
//! Alpha: fir's `mul_div_alpha` premultiplies into a scratch buffer, resizes and divides back,
//! which is what DESIGN.md §2 asks for (no dark fringes). Opaque images skip it.
//!
//! The default filter for scripts is `bicubic` (Catmull-Rom), Pillow's default for
//! `Image.resize` since Pillow 7; W2-style downscales ask for `lanczos3` explicitly.

use fast_image_resize as fir;

use super::{blank, from_linear, to_linear, Filter};
use crate::error::{Error, Result};
use crate::image::Image;

crate::option_set! {
    /// Options for [`resize_with`] and [`scale`] (`resize(w, h, #{ ... })`, `scale(f, #{ ... })`).
    #[derive(Copy)]
    pub struct ResizeOptions for "resize" {
        /// Reconstruction filter (bicubic like Pillow; the kernel widens when shrinking).
        filter: Filter = Filter::Bicubic;
        /// Resample in linear light instead of the stored sRGB values (off like Pillow and
        /// ImageMagick's `-resize`).
        linear: bool = false;
    }
}

impl ResizeOptions {
    /// The defaults with another filter.
    pub fn filter(filter: Filter) -> ResizeOptions {
        ResizeOptions { filter, ..ResizeOptions::default() }
    }
}

/// Resizes to exactly `w` × `h` pixels with `filter` (aspect ratio not kept).
///
/// ```
/// use kiln::ops::geometry::{resize, Filter};
/// let img = kiln::Image::new(400, 300)?;
/// let small = resize(&img, 100, 75, Filter::Lanczos3)?;
/// assert_eq!(small.dimensions(), (100, 75));
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn resize(img: &Image, w: u32, h: u32, filter: Filter) -> Result<Image> {
    resize_with(img, w, h, ResizeOptions::filter(filter))
}

/// Resizes to exactly `w` × `h` pixels with options (filter, linear light).
pub fn resize_with(img: &Image, w: u32, h: u32, opts: ResizeOptions) -> Result<Image> {
    if (w, h) == img.dimensions() {
        return Ok(img.clone());
    }
    let (w, h, mut out) = blank("resize", w as i64, h as i64)?;
    let src = if opts.linear { to_linear(img) } else { img.clone() };
    // The resampling itself is one call into fast_image_resize, which has no place to stop in
    // between: the run's token is checked around it.
    crate::cancel::checkpoint()?;
    let alg = match opts.filter {
        Filter::Nearest => fir::ResizeAlg::Nearest,
        Filter::Bilinear => fir::ResizeAlg::Convolution(fir::FilterType::Bilinear),
        Filter::Bicubic => fir::ResizeAlg::Convolution(fir::FilterType::CatmullRom),
        Filter::Lanczos3 => fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3),
    };
    let internal = |e: &dyn std::fmt::Display| Error::Internal(format!("resize: {e}"));
    let src_view = fir::images::ImageRef::new(
        src.width(),
        src.height(),
        bytemuck::cast_slice(src.pixels()),
        fir::PixelType::F32x4,
    )
    .map_err(|e| internal(&e))?;
    {
        let mut dst_view =
            fir::images::Image::from_slice_u8(w, h, bytemuck::cast_slice_mut(&mut out), fir::PixelType::F32x4)
                .map_err(|e| internal(&e))?;
        let options = fir::ResizeOptions::new().resize_alg(alg).use_alpha(!src.is_opaque());
        fir::Resizer::new().resize(&src_view, &mut dst_view, &options).map_err(|e| internal(&e))?;
    }
    crate::cancel::checkpoint()?;
    let out = Image::from_rgba(w, h, out)?;
    Ok(if opts.linear { from_linear(&out) } else { out })
}

/// Scales both sides by `factor` (rounded, at least 1 pixel).
pub fn scale(img: &Image, factor: f64, opts: ResizeOptions) -> Result<Image> {
    if !(factor.is_finite() && factor > 0.0) {
        return Err(Error::param("scale", format!("factor must be a finite number > 0, got {factor}")));
    }
    let side = |n: u32| -> Result<u32> {
        let v = (n as f64 * factor).round().max(1.0);
        if v > u32::MAX as f64 {
            return Err(Error::Limit(format!("scale: a factor of {factor} makes an image over the size limit")));
        }
        Ok(v as u32)
    };
    resize_with(img, side(img.width())?, side(img.height())?, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Color;

    #[test]
    fn a_constant_image_stays_constant() {
        let c = Color::new(0.2, 0.5, 0.9, 1.0);
        let img = Image::filled(37, 23, c).unwrap();
        for filter in [Filter::Nearest, Filter::Bilinear, Filter::Bicubic, Filter::Lanczos3] {
            for (w, h) in [(10, 7), (80, 51), (37, 5)] {
                let r = resize(&img, w, h, filter).unwrap();
                assert_eq!(r.dimensions(), (w, h));
                for px in r.pixels().chunks_exact(4) {
                    for (got, want) in px.iter().zip(c.to_array()) {
                        assert!((got - want).abs() < 1e-5, "{filter:?} {w}x{h}: {px:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn no_dark_fringe_around_transparency() {
        // A red square on transparent black: without premultiplication the black would bleed in.
        let img = Image::from_fn(40, 40, |x, y| {
            if (10..30).contains(&x) && (10..30).contains(&y) {
                [1.0, 0.0, 0.0, 1.0]
            } else {
                [0.0, 0.0, 0.0, 0.0]
            }
        })
        .unwrap();
        for filter in [Filter::Bilinear, Filter::Bicubic, Filter::Lanczos3] {
            for linear in [false, true] {
                for (w, h) in [(13, 13), (97, 97)] {
                    let r = resize_with(&img, w, h, ResizeOptions { filter, linear }).unwrap();
                    let mut visible = 0;
                    for px in r.pixels().chunks_exact(4) {
                        if px[3] > 0.05 {
                            visible += 1;
                            assert!(
                                (px[0] - 1.0).abs() < 1e-3 && px[1].abs() < 1e-3 && px[2].abs() < 1e-3,
                                "{filter:?}: {px:?}"
                            );
                        }
                    }
                    assert!(visible > 0);
                }
            }
        }
    }

    #[test]
    fn linear_light_differs_from_srgb() {
        // A black/white checker shrunk 2x: in sRGB it averages to 0.5, in linear light to ~0.735.
        let img = Image::from_fn(8, 8, |x, y| if (x + y) % 2 == 0 { [1.0; 4] } else { [0.0, 0.0, 0.0, 1.0] }).unwrap();
        let opts = |linear| ResizeOptions { filter: Filter::Bilinear, linear };
        let plain = resize_with(&img, 4, 4, opts(false)).unwrap();
        let lin = resize_with(&img, 4, 4, opts(true)).unwrap();
        let c = |i: &Image| i.get(1, 1).unwrap().r;
        assert!((c(&plain) - 0.5).abs() < 1e-4, "{}", c(&plain));
        assert!((c(&lin) - 0.7354).abs() < 1e-3, "{}", c(&lin));
    }

    #[test]
    fn scale_rounds_and_validates() {
        let img = Image::new(10, 7).unwrap();
        assert_eq!(scale(&img, 0.5, ResizeOptions::default()).unwrap().dimensions(), (5, 4));
        assert_eq!(scale(&img, 0.01, ResizeOptions::default()).unwrap().dimensions(), (1, 1));
        for bad in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(scale(&img, bad, ResizeOptions::default()).unwrap_err().to_string().contains("factor"));
        }
        assert!(matches!(scale(&img, 1e12, ResizeOptions::default()), Err(Error::Limit(_))));
    }

    #[test]
    fn zero_size_is_an_error() {
        let img = Image::new(10, 7).unwrap();
        let e = resize(&img, 0, 5, Filter::Bicubic).unwrap_err().to_string();
        assert!(e.starts_with("resize:"), "{e}");
    }

    #[test]
    fn same_result_at_any_thread_count() {
        let img = Image::from_fn(300, 200, |x, y| {
            let v = ((x * 7 + y * 13) % 17) as f32 / 16.0;
            [v, 1.0 - v, (x % 5) as f32 / 4.0, if x % 9 == 0 { 0.5 } else { 1.0 }]
        })
        .unwrap();
        let run = |threads| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| resize(&img, 97, 61, Filter::Lanczos3).unwrap())
        };
        assert_eq!(run(1), run(3));
    }
}
