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
//! Resizing runs in bands with the run's cancel token checked between them (so `--timeout`
//! stops a big resize), and is byte-identical to one whole-image fir call; see [`convolution`].
//!
//! The default filter for scripts is `bicubic` (Catmull-Rom), Pillow's default for
//! `Image.resize` since Pillow 7; W2-style downscales ask for `lanczos3` explicitly.

use fast_image_resize as fir;
use rayon::prelude::*;

use super::{blank, from_linear, to_linear, Filter};
use crate::error::{Error, Result};
use crate::image::buffer::CHANNELS;
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
    // The output buffer is a plain Vec until it becomes an Image (untouched calloc pages so far).
    let _work = crate::memory::reserve(out.len() as u64 * 4, "resize's output buffer")?;
    let src = if opts.linear { to_linear(img) } else { img.clone() };
    crate::cancel::checkpoint()?;
    match opts.filter {
        Filter::Nearest => nearest(&src, w, h, &mut out, BAND_PIXELS)?,
        Filter::Bilinear => convolution(&src, w, h, fir::FilterType::Bilinear, &mut out, BAND_PIXELS)?,
        Filter::Bicubic => convolution(&src, w, h, fir::FilterType::CatmullRom, &mut out, BAND_PIXELS)?,
        Filter::Lanczos3 => convolution(&src, w, h, fir::FilterType::Lanczos3, &mut out, BAND_PIXELS)?,
    }
    crate::cancel::checkpoint()?;
    let out = Image::from_rgba(w, h, out)?;
    let out = if opts.linear { from_linear(&out) } else { out };
    // A whole-number zoom or shrink keeps the period of a tiling image (up to the edge handling
    // of the filter, which is within a pixel of the border); any other factor breaks it.
    let whole = |a: u32, b: u32| a.max(b).is_multiple_of(a.min(b));
    let keeps = img.tileable() && whole(img.width(), w) && whole(img.height(), h);
    Ok(out.with_tileable(keeps))
}

/// Pixels per band of work (about 4 MiB of f32 RGBA): the run's cancel token is checked between
/// bands.
const BAND_PIXELS: usize = 1 << 18;
/// Column bands of the vertical pass are a multiple of this many pixels wide, so that fir's SIMD
/// chunks along a row start at the same places as in a whole-row call (identical results).
const COLUMN_ALIGN: usize = 64;

fn internal(e: &dyn std::fmt::Display) -> Error {
    Error::Internal(format!("resize: {e}"))
}

/// Nearest neighbour, in bands of output rows. The same positions as fir's nearest resampler,
/// computed here because it is a copy: columns at `(scale/2 + scale·i) as usize`, rows at a
/// running sum `y += scale` from `scale/2` (fir's `iter_rows_with_step`), clamped.
fn nearest(src: &Image, w: u32, h: u32, out: &mut [f32], band_pixels: usize) -> Result<()> {
    let (sw, sh) = (src.width() as usize, src.height() as usize);
    let x_scale = sw as f64 / w as f64;
    let xs: Vec<usize> = (0..w).map(|i| ((x_scale * 0.5 + x_scale * i as f64) as usize).min(sw - 1)).collect();
    let y_scale = sh as f64 / h as f64;
    let mut y = y_scale * 0.5;
    let ys: Vec<usize> = (0..h)
        .map(|_| {
            let i = (y as usize).min(sh - 1);
            y += y_scale;
            i
        })
        .collect();
    let stride = w as usize * CHANNELS;
    let rows = (band_pixels / w as usize).max(1);
    for (b, band) in out.chunks_mut(stride * rows).enumerate() {
        crate::cancel::checkpoint()?;
        band.par_chunks_mut(stride).enumerate().for_each(|(i, row)| {
            let s = src.row(ys[b * rows + i] as u32);
            for (o, &x) in row.chunks_exact_mut(CHANNELS).zip(&xs) {
                o.copy_from_slice(&s[x * CHANNELS..(x + 1) * CHANNELS]);
            }
        });
    }
    Ok(())
}

/// fir's convolution resampler run in bands, with a cancel checkpoint between them; the result is
/// byte-identical to one whole-image fir call (tests below).
///
/// fir runs one call to the end, so a whole-image call cannot be stopped by `--timeout`. A
/// vertical crop of the source for a band of output rows would not do: fir derives the band's
/// sample positions from the crop box, whose arithmetic rounds differently from the whole
/// image's. Instead each pass is banded where fir's own arithmetic does not change: the
/// horizontal pass over bands of source rows (a crop of whole rows at an integer offset and the
/// same width, which fir resizes along x only), and the vertical pass over bands of columns (a
/// crop of whole columns, resized along y only) — the coefficients of each pass depend only on
/// the full sizes. Premultiplication (`c·a`, one multiply, exact either way) is done once here,
/// and fir's own divide runs on bands of whole rows, as it does in a whole-image call.
fn convolution(
    src: &Image,
    w: u32,
    h: u32,
    filter: fir::FilterType,
    out: &mut [f32],
    band_pixels: usize,
) -> Result<()> {
    let (sw, sh) = (src.width(), src.height());
    let alpha = !src.is_opaque();
    let alg = fir::ResizeAlg::Convolution(filter);
    let options = fir::ResizeOptions::new().resize_alg(alg).use_alpha(false);
    let scratch = |n: usize, what: &str| -> Result<(Vec<f32>, crate::memory::Reservation)> {
        let held = crate::memory::reserve(n as u64 * 4, what)?;
        let mut v: Vec<f32> = Vec::new();
        v.try_reserve_exact(n).map_err(|_| Error::Limit(format!("resize: out of memory for {what}")))?;
        v.resize(n, 0.0);
        Ok((v, held))
    };
    // Premultiplied source (fir's `use_alpha` does the same multiply, over the whole image).
    let pre_buf;
    let pre: &[f32] = if alpha {
        let (mut v, held) = scratch(src.pixels().len(), "a premultiplied copy to resize")?;
        v.par_chunks_mut(CHANNELS).zip(src.pixels().par_chunks(CHANNELS)).for_each(|(d, p)| {
            d.copy_from_slice(&[p[0] * p[3], p[1] * p[3], p[2] * p[3], p[3]]);
        });
        pre_buf = (v, held);
        &pre_buf.0
    } else {
        src.pixels()
    };
    crate::cancel::checkpoint()?;
    let mut resizer = fir::Resizer::new();
    // Horizontal pass: sw × sh -> w × sh, in bands of rows.
    let mid_buf;
    let mid: &[f32] = if w != sw {
        let (mut mid, held) = scratch(w as usize * sh as usize * CHANNELS, "a resize pass")?;
        let view = fir::images::ImageRef::new(sw, sh, bytemuck::cast_slice(pre), fir::PixelType::F32x4)
            .map_err(|e| internal(&e))?;
        let rows = (band_pixels / w.max(sw) as usize).max(1);
        for (b, band) in mid.chunks_mut(w as usize * CHANNELS * rows).enumerate() {
            crate::cancel::checkpoint()?;
            let n = (band.len() / (w as usize * CHANNELS)) as u32;
            let mut dst =
                fir::images::Image::from_slice_u8(w, n, bytemuck::cast_slice_mut(band), fir::PixelType::F32x4)
                    .map_err(|e| internal(&e))?;
            let crop = options.crop(0.0, (b * rows) as f64, sw as f64, n as f64);
            resizer.resize(&view, &mut dst, &crop).map_err(|e| internal(&e))?;
        }
        mid_buf = (mid, held);
        &mid_buf.0
    } else {
        pre
    };
    // Vertical pass: w × sh -> w × h, in bands of columns written into `out`.
    if h != sh {
        let view = fir::images::ImageRef::new(w, sh, bytemuck::cast_slice(mid), fir::PixelType::F32x4)
            .map_err(|e| internal(&e))?;
        let cols = (band_pixels / h.max(sh) as usize).next_multiple_of(COLUMN_ALIGN).min(w as usize);
        let (mut band, _held) = scratch(cols * h as usize * CHANNELS, "a resize pass")?;
        for c0 in (0..w as usize).step_by(cols) {
            crate::cancel::checkpoint()?;
            let n = cols.min(w as usize - c0);
            let band = &mut band[..n * h as usize * CHANNELS];
            let mut dst =
                fir::images::Image::from_slice_u8(n as u32, h, bytemuck::cast_slice_mut(band), fir::PixelType::F32x4)
                    .map_err(|e| internal(&e))?;
            let crop = options.crop(c0 as f64, 0.0, n as f64, sh as f64);
            resizer.resize(&view, &mut dst, &crop).map_err(|e| internal(&e))?;
            out.par_chunks_mut(w as usize * CHANNELS).zip(band.par_chunks(n * CHANNELS)).for_each(|(o, b)| {
                o[c0 * CHANNELS..(c0 + n) * CHANNELS].copy_from_slice(b);
            });
        }
    } else {
        out.copy_from_slice(mid);
    }
    // Back to straight alpha with fir's divide, on bands of whole rows.
    if alpha {
        let mul_div = fir::MulDiv::default();
        let rows = (band_pixels / w as usize).max(1);
        for band in out.chunks_mut(w as usize * CHANNELS * rows) {
            crate::cancel::checkpoint()?;
            let n = (band.len() / (w as usize * CHANNELS)) as u32;
            let mut view =
                fir::images::Image::from_slice_u8(w, n, bytemuck::cast_slice_mut(band), fir::PixelType::F32x4)
                    .map_err(|e| internal(&e))?;
            mul_div.divide_alpha_inplace(&mut view).map_err(|e| internal(&e))?;
        }
    }
    Ok(())
}

/// The whole-image resize as one fir call (what `resize_with` did before it was banded): the
/// reference the banded result must equal bit for bit.
#[cfg(test)]
fn whole_image(src: &Image, w: u32, h: u32, alg: fir::ResizeAlg) -> Vec<f32> {
    let mut out = vec![0f32; w as usize * h as usize * CHANNELS];
    let view = fir::images::ImageRef::new(
        src.width(),
        src.height(),
        bytemuck::cast_slice(src.pixels()),
        fir::PixelType::F32x4,
    )
    .unwrap();
    let mut dst =
        fir::images::Image::from_slice_u8(w, h, bytemuck::cast_slice_mut(&mut out), fir::PixelType::F32x4).unwrap();
    let options = fir::ResizeOptions::new().resize_alg(alg).use_alpha(!src.is_opaque());
    fir::Resizer::new().resize(&view, &mut dst, &options).unwrap();
    out
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

    fn pattern(w: u32, h: u32, alpha: bool) -> Image {
        Image::from_fn(w, h, |x, y| {
            let v = ((x * 37 + y * 91) % 101) as f32 / 100.0;
            let a = if alpha { ((x * 13 + y * 7) % 11) as f32 / 10.0 } else { 1.0 };
            [v, (x as f32 * 0.37).sin() * 0.5 + 0.5, (y % 17) as f32 / 16.0, a]
        })
        .unwrap()
    }

    /// The banded resize equals one whole-image fir call bit for bit: up and down, one axis or
    /// both, odd sizes, every filter, with and without alpha, at one thread and several. The
    /// sizes are picked so that several bands (of rows and of columns) occur.
    #[test]
    fn banded_resize_is_byte_identical_to_the_whole_image_call() {
        // Small images in small bands (many of them), and one at the real band size.
        let cases = [
            (150, 70, 40, 33, 2000),
            (70, 150, 141, 161, 2000),
            (30, 120, 220, 20, 1500),
            (103, 51, 103, 9, 700),
            (51, 103, 9, 103, 700),
            (16, 16, 100, 100, 3000),
            (3, 100, 100, 3, 500),
            (257, 129, 1000, 31, 4000),
            (900, 700, 1201, 333, BAND_PIXELS),
        ];
        let filters = [
            (Filter::Nearest, fir::ResizeAlg::Nearest),
            (Filter::Bilinear, fir::ResizeAlg::Convolution(fir::FilterType::Bilinear)),
            (Filter::Bicubic, fir::ResizeAlg::Convolution(fir::FilterType::CatmullRom)),
            (Filter::Lanczos3, fir::ResizeAlg::Convolution(fir::FilterType::Lanczos3)),
        ];
        let pool = rayon::ThreadPoolBuilder::new().num_threads(3).build().unwrap();
        for (sw, sh, w, h, band) in cases {
            for alpha in [false, true] {
                let img = pattern(sw, sh, alpha);
                for (filter, alg) in filters {
                    let want: Vec<u32> = whole_image(&img, w, h, alg).iter().map(|v| v.to_bits()).collect();
                    let mut got = vec![0f32; want.len()];
                    pool.install(|| match filter {
                        Filter::Nearest => nearest(&img, w, h, &mut got, band),
                        _ => {
                            let fir::ResizeAlg::Convolution(f) = alg else { unreachable!() };
                            convolution(&img, w, h, f, &mut got, band)
                        }
                    })
                    .unwrap();
                    let got: Vec<u32> = got.iter().map(|v| v.to_bits()).collect();
                    let bad = got.iter().zip(&want).filter(|(a, b)| a != b).count();
                    assert_eq!(bad, 0, "{filter:?} {sw}x{sh} -> {w}x{h} alpha {alpha}: {bad} values differ");
                }
            }
        }
        // And through the public op.
        let img = pattern(150, 70, true);
        let alg = fir::ResizeAlg::Convolution(fir::FilterType::CatmullRom);
        assert_eq!(resize(&img, 40, 33, Filter::Bicubic).unwrap().pixels(), &whole_image(&img, 40, 33, alg)[..]);
    }

    /// A cancelled run stops a big resize between bands, with the cancel error and no image.
    #[test]
    fn a_cancelled_token_stops_a_big_resize() {
        use crate::cancel::{self, Stopper};
        let img = Image::filled(2048, 2048, Color::new(0.2, 0.4, 0.6, 0.5)).unwrap();
        let stop = Stopper::never();
        stop.cancel();
        for filter in [Filter::Nearest, Filter::Lanczos3] {
            let r = cancel::scope(stop.clone(), || resize(&img, 6000, 6000, filter));
            assert!(matches!(r, Err(Error::Cancelled(_))), "{filter:?}: {r:?}");
        }
        // And one cancelled while it runs, from another thread: stops with the cancel error.
        let stop = Stopper::never();
        let s2 = stop.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(50));
            s2.cancel();
        });
        let r = cancel::scope(stop, || resize(&img, 6000, 6000, Filter::Lanczos3));
        t.join().unwrap();
        assert!(matches!(r, Err(Error::Cancelled(_))), "{r:?}");
    }
}
