//! Loading and saving images: the only codec-aware file in kiln.
//!
//! Owns: format choice (content sniffing on read, the extension on write), bit depths, the
//! sRGB/linear conversion for scene-linear formats (OpenEXR, Radiance HDR) and atomic writes.
//! Must not know about scripts, fields or models.
//!
//! Decisions, where the design is silent:
//! - 8-bit and 16-bit files map to 0..1 (v/255, v/65535). 32-bit float TIFF is taken as stored
//!   (display-referred); EXR and HDR are scene-linear and go through the sRGB curve on load and
//!   back on save, so a float round trip is lossless to f32 rounding (< 1e-6 relative).
//! - JPEG, PPM and HDR have no alpha: it is dropped, as ImageMagick and Pillow do when the target
//!   cannot hold it. `.pgm` writes the Pillow luma (L) of the image.
//! - WebP is written lossless (the `image` crate's encoder); asking for a WebP `quality` below
//!   100 is an error rather than a silently ignored option.
//! - Every save encodes into memory first, then writes a temp file beside the target and renames
//!   it, so a failed or cancelled run never leaves a half-written file.

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use image::codecs::png::{CompressionType, FilterType, PngEncoder};
use image::{DynamicImage, ImageEncoder, ImageFormat, ImageReader};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::buffer::{check_size, Image};
use crate::image::color::{linear_to_srgb, luma, srgb_to_linear};
use crate::limits;

/// How hard PNG output is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    /// Fastest (live preview).
    Fast,
    /// zlib level 6 with adaptive filters, like libpng's default.
    #[default]
    Default,
    /// Smallest file.
    Best,
}

crate::option_choice!(Compression { Fast = "fast", Default = "default", Best = "best" });

crate::option_set! {
    /// Options for [`save`] (`save(path, #{ ... })`). An absent number means the format's default.
    #[derive(Copy)]
    pub struct SaveOptions for "save" {
        /// Bits per channel: 8 or 16 for PNG, PNM and TIFF, 32 for TIFF float, EXR and HDR.
        bits: Option<u8> = None;
        /// JPEG quality (90 when absent).
        quality: Option<u8> = None, range(1, 100);
        /// PNG compression effort.
        compression: Compression = Compression::Default;
    }
}

/// The output formats kiln writes, picked from a file extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Png,
    Jpeg,
    Webp,
    Tiff,
    Exr,
    Hdr,
    Bmp,
    Qoi,
    Ppm,
    Pgm,
    Pam,
    Gif,
}

impl Format {
    /// The format for a path's extension, or an `Unsupported` error that lists the known ones.
    pub fn from_path(path: &Path) -> Result<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        Ok(match ext.as_str() {
            "png" => Format::Png,
            "jpg" | "jpeg" => Format::Jpeg,
            "webp" => Format::Webp,
            "tif" | "tiff" => Format::Tiff,
            "exr" => Format::Exr,
            "hdr" => Format::Hdr,
            "bmp" => Format::Bmp,
            "qoi" => Format::Qoi,
            "ppm" | "pnm" => Format::Ppm,
            "pgm" => Format::Pgm,
            "pam" => Format::Pam,
            "gif" => Format::Gif,
            _ => {
                return Err(Error::Unsupported(format!(
                    "{}: unsupported image extension '.{ext}' (use png, jpg, webp, tif, exr, hdr, bmp, qoi, ppm, pgm, pam or gif)",
                    path.display()
                )))
            }
        })
    }

    fn allowed_bits(self) -> &'static [u8] {
        match self {
            Format::Png | Format::Ppm | Format::Pgm | Format::Pam => &[8, 16],
            Format::Tiff => &[8, 16, 32],
            Format::Exr | Format::Hdr => &[32],
            Format::Jpeg | Format::Webp | Format::Bmp | Format::Qoi | Format::Gif => &[8],
        }
    }

    fn default_bits(self) -> u8 {
        self.allowed_bits()[0]
    }
}

/// Loads an image file; the format is sniffed from the content, then the extension.
pub fn load(path: &Path) -> Result<Image> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    decode(&bytes, path)
}

/// Decodes an in-memory file. `name` is used in error messages and as a format hint.
pub fn decode(bytes: &[u8], name: &Path) -> Result<Image> {
    let decode_err = |message: String| Error::Decode { path: name.to_path_buf(), message };
    let mut reader = ImageReader::new(Cursor::new(bytes));
    if let Ok(fmt) = ImageFormat::from_path(name) {
        reader.set_format(fmt);
    }
    let mut reader = reader.with_guessed_format().map_err(|e| decode_err(e.to_string()))?;
    let format = reader.format().ok_or_else(|| decode_err("not a recognised image format".into()))?;
    if format == ImageFormat::Png {
        if let Some(img) = png_rows::decode(bytes).map_err(|e| decode_err(e.to_string()))? {
            return Ok(img);
        }
    }
    // Refuse oversized images before the decoder allocates (decompression bombs).
    let mut lim = image::Limits::default();
    lim.max_image_width = Some(limits::MAX_DIMENSION);
    lim.max_image_height = Some(limits::MAX_DIMENSION);
    lim.max_alloc = Some(limits::max_pixels().saturating_mul(16));
    reader.limits(lim);
    let (w, h) = reader.into_dimensions().map_err(|e| decode_err(e.to_string()))?;
    check_size(w as i64, h as i64)?;
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(format);
    let dynamic = reader.decode().map_err(|e| decode_err(e.to_string()))?;
    let scene_linear = matches!(format, ImageFormat::OpenExr | ImageFormat::Hdr);
    from_dynamic(dynamic, scene_linear)
}

/// PNG decoding that overlaps inflating with the f32 conversion.
///
/// Why not `image`'s PNG path: it inflates the whole picture into a `u8` buffer on one thread, and
/// only then can kiln convert it to RGBA f32 — a second pass over 256 MiB at 4096² that measured
/// as a fifth of a whole `kiln run` of the peer workloads. Here the same `png` decoder hands over
/// bands of rows, and each band is converted on another worker while the next one inflates.
/// Interlaced files are left to the `image` crate (`Ok(None)`).
mod png_rows {
    use super::*;

    /// Rows per band handed to a worker.
    const BAND: usize = 32;

    pub fn decode(bytes: &[u8]) -> std::result::Result<Option<Image>, String> {
        let mut decoder = png::Decoder::new(Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
        let info = reader.info();
        if info.interlaced {
            return Ok(None);
        }
        let (w, h) = (info.width, info.height);
        check_size(w as i64, h as i64).map_err(|e| e.to_string())?;
        let (color, depth) = reader.output_color_type();
        let channels = color.samples();
        let wide = depth == png::BitDepth::Sixteen;
        let line = reader.output_line_size(w).ok_or("row size overflows")?;
        // `vec!` of zeros is a calloc: fresh pages nobody touches until the converting workers
        // write them, so the page faults are spread over the workers instead of this thread.
        let mut out = vec![0.0f32; w as usize * h as usize * 4];
        let mut failure = None;
        rayon::scope(|s| {
            let mut rest: &mut [f32] = &mut out;
            let mut y = 0usize;
            while y < h as usize {
                let rows = BAND.min(h as usize - y);
                let mut band = vec![0u8; rows * line];
                for r in 0..rows {
                    if let Err(e) = reader.read_row(&mut band[r * line..(r + 1) * line]) {
                        failure = Some(e.to_string());
                        return;
                    }
                }
                let (dst, tail) = std::mem::take(&mut rest).split_at_mut(rows * w as usize * 4);
                rest = tail;
                s.spawn(move |_| convert(&band, line, dst, w as usize, channels, wide));
                y += rows;
            }
        });
        if let Some(e) = failure {
            return Err(e);
        }
        // Reads to the end of the image data and checks its CRC and the trailing chunks, so a
        // truncated file is an error even when every row happened to inflate.
        reader.finish().map_err(|e| e.to_string())?;
        Image::from_rgba(w, h, out).map(Some).map_err(|e| e.to_string())
    }

    /// One band of packed PNG rows (1–4 samples of 8 or 16 bits, big-endian) to RGBA f32.
    fn convert(band: &[u8], line: usize, dst: &mut [f32], w: usize, channels: usize, wide: bool) {
        for (src, dst) in band.chunks_exact(line).zip(dst.chunks_exact_mut(w * 4)) {
            // The common photo case gets a branch-free loop.
            if !wide && channels == 3 {
                for (s, d) in src.chunks_exact(3).zip(dst.chunks_exact_mut(4)) {
                    d.copy_from_slice(&[s[0] as f32 / 255.0, s[1] as f32 / 255.0, s[2] as f32 / 255.0, 1.0]);
                }
                continue;
            }
            for (x, px) in dst.chunks_exact_mut(4).enumerate() {
                let sample = |c: usize| -> f32 {
                    if wide {
                        let i = (x * channels + c) * 2;
                        u16::from_be_bytes([src[i], src[i + 1]]) as f32 / 65535.0
                    } else {
                        src[x * channels + c] as f32 / 255.0
                    }
                };
                let p = match channels {
                    1 => {
                        let v = sample(0);
                        [v, v, v, 1.0]
                    }
                    2 => {
                        let v = sample(0);
                        [v, v, v, sample(1)]
                    }
                    3 => [sample(0), sample(1), sample(2), 1.0],
                    _ => [sample(0), sample(1), sample(2), sample(3)],
                };
                px.copy_from_slice(&p);
            }
        }
    }
}

/// Converts a decoded `image` crate buffer to an [`Image`].
pub fn from_dynamic(dynamic: DynamicImage, scene_linear: bool) -> Result<Image> {
    let (w, h) = (dynamic.width(), dynamic.height());
    let data: Vec<f32> = match dynamic {
        DynamicImage::ImageRgba8(b) => b.into_raw().par_iter().map(|&v| v as f32 / 255.0).collect(),
        DynamicImage::ImageRgb8(b) => expand(&b.into_raw(), 3, |v: u8| v as f32 / 255.0),
        DynamicImage::ImageLuma8(b) => expand(&b.into_raw(), 1, |v: u8| v as f32 / 255.0),
        DynamicImage::ImageLumaA8(b) => expand(&b.into_raw(), 2, |v: u8| v as f32 / 255.0),
        DynamicImage::ImageRgba16(b) => b.into_raw().par_iter().map(|&v| v as f32 / 65535.0).collect(),
        DynamicImage::ImageRgb16(b) => expand(&b.into_raw(), 3, |v: u16| v as f32 / 65535.0),
        DynamicImage::ImageLuma16(b) => expand(&b.into_raw(), 1, |v: u16| v as f32 / 65535.0),
        DynamicImage::ImageLumaA16(b) => expand(&b.into_raw(), 2, |v: u16| v as f32 / 65535.0),
        DynamicImage::ImageRgb32F(b) => expand(&b.into_raw(), 3, |v: f32| v),
        DynamicImage::ImageRgba32F(b) => b.into_raw(),
        other => other.to_rgba32f().into_raw(),
    };
    let mut img = Image::from_rgba(w, h, data)?;
    if scene_linear {
        img.rows_mut().for_each(|row| {
            for px in row.chunks_exact_mut(4) {
                for c in &mut px[..3] {
                    *c = linear_to_srgb(*c);
                }
            }
        });
    }
    Ok(img)
}

/// Expands 1 (L), 2 (LA) or 3 (RGB) channel data to RGBA f32.
fn expand<T: Copy + Sync>(src: &[T], channels: usize, conv: impl Fn(T) -> f32 + Sync) -> Vec<f32> {
    let mut out = vec![0.0f32; src.len() / channels * 4];
    out.par_chunks_mut(4 * 4096).zip(src.par_chunks(channels * 4096)).for_each(|(dst, src)| {
        for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(channels)) {
            match channels {
                1 => {
                    let v = conv(s[0]);
                    d.copy_from_slice(&[v, v, v, 1.0]);
                }
                2 => {
                    let v = conv(s[0]);
                    d.copy_from_slice(&[v, v, v, conv(s[1])]);
                }
                _ => d.copy_from_slice(&[conv(s[0]), conv(s[1]), conv(s[2]), 1.0]),
            }
        }
    });
    out
}

#[inline]
fn to_u8(v: f32) -> u8 {
    // NaN maps to 0 through `as`; clamp first so HDR values saturate.
    (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8
}

#[inline]
fn to_u16(v: f32) -> u16 {
    (v.clamp(0.0, 1.0) * 65535.0 + 0.5) as u16
}

/// Pixels packed to 8 bits with `channels` of R, G, B, A (1 = Pillow luma).
fn pack_u8(img: &Image, channels: usize) -> Vec<u8> {
    let mut out = vec![0u8; img.pixel_count() * channels];
    pack_u8_into(img, channels, &mut out);
    out
}

/// [`pack_u8`] into a caller's buffer of exactly `pixels * channels` bytes.
fn pack_u8_into(img: &Image, channels: usize, out: &mut [u8]) {
    out.par_chunks_mut(channels * 4096).zip(img.pixels().par_chunks(4 * 4096)).for_each(|(d, s)| {
        for (d, s) in d.chunks_exact_mut(channels).zip(s.chunks_exact(4)) {
            if channels == 1 {
                d[0] = to_u8(luma([s[0], s[1], s[2], s[3]]));
            } else {
                for c in 0..channels {
                    d[c] = to_u8(s[c]);
                }
            }
        }
    });
}

/// Binary 16-bit PPM or PGM (maxval 65535, big-endian samples, as Netpbm specifies); the
/// `image` crate's PNM encoder refuses 16-bit RGB.
fn encode_pnm16(img: &Image, channels: usize) -> Vec<u8> {
    let magic = if channels == 1 { "P5" } else { "P6" };
    let mut out = format!("{magic}\n{} {}\n65535\n", img.width(), img.height()).into_bytes();
    out.extend(pack_u16(img, channels).iter().flat_map(|v| v.to_be_bytes()));
    out
}

/// Binary 8-bit PPM (3 channels) or PGM (1 channel), packed straight into the output buffer.
/// The `image` crate's PNM encoder takes a packed copy and copies it again; at 4096² that second
/// copy and its page faults were a measurable part of a whole `kiln run`.
fn encode_pnm8(img: &Image, channels: usize) -> Vec<u8> {
    let magic = if channels == 1 { "P5" } else { "P6" };
    let header = format!("{magic}\n{} {}\n255\n", img.width(), img.height());
    let mut out = vec![0u8; header.len() + img.pixel_count() * channels];
    out[..header.len()].copy_from_slice(header.as_bytes());
    pack_u8_into(img, channels, &mut out[header.len()..]);
    out
}

fn pack_u16(img: &Image, channels: usize) -> Vec<u16> {
    let mut out = vec![0u16; img.pixel_count() * channels];
    out.par_chunks_mut(channels * 4096).zip(img.pixels().par_chunks(4 * 4096)).for_each(|(d, s)| {
        for (d, s) in d.chunks_exact_mut(channels).zip(s.chunks_exact(4)) {
            if channels == 1 {
                d[0] = to_u16(luma([s[0], s[1], s[2], s[3]]));
            } else {
                for c in 0..channels {
                    d[c] = to_u16(s[c]);
                }
            }
        }
    });
    out
}

fn pack_f32(img: &Image, channels: usize, linear: bool) -> Vec<f32> {
    let mut out = vec![0f32; img.pixel_count() * channels];
    out.par_chunks_mut(channels * 4096).zip(img.pixels().par_chunks(4 * 4096)).for_each(|(d, s)| {
        for (d, s) in d.chunks_exact_mut(channels).zip(s.chunks_exact(4)) {
            for c in 0..channels {
                d[c] = if linear && c < 3 { srgb_to_linear(s[c]) } else { s[c] };
            }
        }
    });
    out
}

/// Encodes `img` as `format` into memory.
pub fn encode(img: &Image, format: Format, opts: &SaveOptions, name: &Path) -> Result<Vec<u8>> {
    let bits = opts.bits.unwrap_or(format.default_bits());
    if !format.allowed_bits().contains(&bits) {
        return Err(Error::param(
            "save",
            format!("{format:?} cannot be written with {bits} bits per channel (allowed: {:?})", format.allowed_bits()),
        ));
    }
    if let Some(q) = opts.quality {
        match format {
            Format::Jpeg if (1..=100).contains(&q) => {}
            Format::Jpeg => return Err(Error::param("save", format!("quality must be 1..=100, got {q}"))),
            Format::Webp if q == 100 => {}
            Format::Webp => {
                return Err(Error::param("save", "WebP is written lossless; quality below 100 is not supported"))
            }
            _ => return Err(Error::param("save", format!("quality applies to JPEG only, not {format:?}"))),
        }
    }
    let (w, h) = img.dimensions();
    let enc_err = |e: image::ImageError| Error::Encode { path: name.to_path_buf(), message: e.to_string() };
    let mut buf = Vec::new();
    let cursor = &mut Cursor::new(&mut buf);
    use image::ExtendedColorType as C;
    match (format, bits) {
        (Format::Png, 8) => png_encoder(cursor, opts.compression).write_image(&pack_u8(img, 4), w, h, C::Rgba8),
        (Format::Png, _) => {
            png_encoder(cursor, opts.compression).write_image(&u16_bytes_ne(&pack_u16(img, 4)), w, h, C::Rgba16)
        }
        (Format::Jpeg, _) => image::codecs::jpeg::JpegEncoder::new_with_quality(cursor, opts.quality.unwrap_or(90))
            .write_image(&pack_u8(img, 3), w, h, C::Rgb8),
        (Format::Webp, _) => {
            image::codecs::webp::WebPEncoder::new_lossless(cursor).write_image(&pack_u8(img, 4), w, h, C::Rgba8)
        }
        (Format::Tiff, 8) => {
            image::codecs::tiff::TiffEncoder::new(cursor).write_image(&pack_u8(img, 4), w, h, C::Rgba8)
        }
        (Format::Tiff, 16) => {
            image::codecs::tiff::TiffEncoder::new(cursor).write_image(&u16_bytes_ne(&pack_u16(img, 4)), w, h, C::Rgba16)
        }
        (Format::Tiff, _) => image::codecs::tiff::TiffEncoder::new(cursor).write_image(
            &f32_bytes_ne(&pack_f32(img, 4, false)),
            w,
            h,
            C::Rgba32F,
        ),
        (Format::Exr, _) => image::codecs::openexr::OpenExrEncoder::new(cursor).write_image(
            &f32_bytes_ne(&pack_f32(img, 4, true)),
            w,
            h,
            C::Rgba32F,
        ),
        (Format::Hdr, _) => {
            let rgb = pack_f32(img, 3, true);
            let pixels: Vec<image::Rgb<f32>> = rgb.chunks_exact(3).map(|p| image::Rgb([p[0], p[1], p[2]])).collect();
            image::codecs::hdr::HdrEncoder::new(cursor).encode(&pixels, w as usize, h as usize)
        }
        (Format::Bmp, _) => image::codecs::bmp::BmpEncoder::new(cursor).write_image(&pack_u8(img, 4), w, h, C::Rgba8),
        (Format::Qoi, _) => image::codecs::qoi::QoiEncoder::new(cursor).write_image(&pack_u8(img, 4), w, h, C::Rgba8),
        (Format::Ppm, 8) => return Ok(encode_pnm8(img, 3)),
        (Format::Pgm, 8) => return Ok(encode_pnm8(img, 1)),
        (Format::Ppm, _) => return Ok(encode_pnm16(img, 3)),
        (Format::Pgm, _) => return Ok(encode_pnm16(img, 1)),
        (Format::Pam, _) => {
            use image::codecs::pnm::{PnmEncoder, PnmSubtype};
            let enc = PnmEncoder::new(cursor).with_subtype(PnmSubtype::ArbitraryMap);
            if bits == 8 {
                enc.write_image(&pack_u8(img, 4), w, h, C::Rgba8)
            } else {
                enc.write_image(&u16_bytes_ne(&pack_u16(img, 4)), w, h, C::Rgba16)
            }
        }
        (Format::Gif, _) => {
            let mut enc = image::codecs::gif::GifEncoder::new(cursor);
            let frame = image::RgbaImage::from_raw(w, h, pack_u8(img, 4))
                .ok_or_else(|| Error::Internal("gif frame size".into()))?;
            enc.encode_frame(image::Frame::new(frame))
        }
    }
    .map_err(enc_err)?;
    Ok(buf)
}

fn png_encoder<W: Write>(w: W, c: Compression) -> PngEncoder<W> {
    let ct = match c {
        Compression::Fast => CompressionType::Fast,
        Compression::Default => CompressionType::Default,
        Compression::Best => CompressionType::Best,
    };
    PngEncoder::new_with_quality(w, ct, FilterType::Adaptive)
}

// The `image` crate's encoders take 16-bit and float samples in native byte order and convert
// to what the file format needs (big-endian for PNG).
fn u16_bytes_ne(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}

fn f32_bytes_ne(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}

/// Saves `img` to `path` atomically; the extension picks the format.
pub fn save(img: &Image, path: &Path, opts: &SaveOptions) -> Result<()> {
    let format = Format::from_path(path)?;
    let bytes = encode(img, format, opts, path)?;
    write_atomic(path, &bytes)
}

/// Writes `bytes` to a temp file beside `path`, then renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp =
        tempfile::Builder::new().prefix(".kiln-").suffix(".tmp").tempfile_in(&dir).map_err(|e| Error::io(&dir, e))?;
    tmp.write_all(bytes).map_err(|e| Error::io(path, e))?;
    // Temp files are created private (0600); an image kiln writes should be readable like any
    // other file the user creates.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o644)).map_err(|e| Error::io(path, e))?;
    }
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Writes `frames` as a looping animated GIF at `fps` (atomically).
pub fn save_gif_animation(frames: &[Image], fps: f64, path: &Path) -> Result<()> {
    let mut buf = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new_with_speed(&mut buf, 10);
        enc.set_repeat(image::codecs::gif::Repeat::Infinite)
            .map_err(|e| Error::Encode { path: path.to_path_buf(), message: e.to_string() })?;
        let delay = image::Delay::from_numer_denom_ms((1000.0 / fps.max(0.01)).round() as u32, 1);
        for img in frames {
            let (w, h) = img.dimensions();
            let rgba = image::RgbaImage::from_raw(w, h, pack_u8(img, 4))
                .ok_or_else(|| Error::Internal("gif frame size".into()))?;
            enc.encode_frame(image::Frame::from_parts(rgba, 0, 0, delay))
                .map_err(|e| Error::Encode { path: path.to_path_buf(), message: e.to_string() })?;
        }
    }
    write_atomic(path, &buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gradient() -> Image {
        Image::from_fn(17, 9, |x, y| [x as f32 / 16.0, y as f32 / 8.0, 0.25, if x % 2 == 0 { 1.0 } else { 0.5 }])
            .unwrap()
    }

    #[test]
    fn png8_and_png16_round_trip() {
        let img = gradient();
        for bits in [8u8, 16] {
            let bytes =
                encode(&img, Format::Png, &SaveOptions { bits: Some(bits), ..Default::default() }, Path::new("t.png"))
                    .unwrap();
            let back = decode(&bytes, Path::new("t.png")).unwrap();
            let tol = if bits == 8 { 0.5 / 255.0 + 1e-6 } else { 0.5 / 65535.0 + 1e-7 };
            for (a, b) in img.pixels().iter().zip(back.pixels()) {
                assert!((a - b).abs() <= tol, "{bits} bits: {a} vs {b}");
            }
        }
    }

    #[test]
    fn row_pipelined_png_decode_matches_the_image_crate() {
        use image::ExtendedColorType as C;
        let (w, h) = (37u32, 70u32); // more than two bands, odd width
        let n = (w * h) as usize;
        let bytes8: Vec<u8> = (0..n * 4).map(|i| (i * 37 % 251) as u8).collect();
        let bytes16: Vec<u8> = (0..n * 4 * 2).map(|i| (i * 91 % 253) as u8).collect();
        let cases: [(C, &[u8]); 6] = [
            (C::L8, &bytes8[..n]),
            (C::La8, &bytes8[..n * 2]),
            (C::Rgb8, &bytes8[..n * 3]),
            (C::Rgba8, &bytes8[..]),
            (C::Rgb16, &bytes16[..n * 6]),
            (C::La16, &bytes16[..n * 4]),
        ];
        for (color, data) in cases {
            let mut png = Vec::new();
            PngEncoder::new(&mut png).write_image(data, w, h, color).unwrap();
            let ours = decode(&png, Path::new("t.png")).unwrap();
            let reference = from_dynamic(image::load_from_memory(&png).unwrap(), false).unwrap();
            assert_eq!(ours, reference, "{color:?}");
        }
    }

    #[test]
    fn every_written_format_reads_back() {
        let img = gradient();
        // (extension, bits, largest error per channel; None = the format drops alpha)
        let cases: [(&str, u8, f32, bool); 11] = [
            ("tif", 8, 0.5 / 255.0, true),
            ("tif", 16, 0.5 / 65535.0, true),
            ("tif", 32, 0.0, true),
            ("webp", 8, 0.5 / 255.0, true),
            ("bmp", 8, 0.5 / 255.0, true),
            ("qoi", 8, 0.5 / 255.0, true),
            ("pam", 8, 0.5 / 255.0, true),
            ("pam", 16, 0.5 / 65535.0, true),
            ("ppm", 16, 0.5 / 65535.0, false),
            ("hdr", 32, 1.0 / 128.0, false),
            ("jpg", 8, 0.12, false),
        ];
        for (ext, bits, tol, alpha) in cases {
            let name = format!("t.{ext}");
            let path = Path::new(&name);
            let opts = SaveOptions { bits: Some(bits), ..Default::default() };
            let bytes = encode(&img, Format::from_path(path).unwrap(), &opts, path).unwrap();
            let back = decode(&bytes, path).unwrap_or_else(|e| panic!("{name} {bits}: {e}"));
            assert_eq!(back.dimensions(), img.dimensions(), "{name}");
            for (a, b) in img.pixels().chunks(4).zip(back.pixels().chunks(4)) {
                for c in 0..3 {
                    let err = if ext == "hdr" {
                        // RGBE shares one exponent: 8 mantissa bits relative to the largest
                        // channel, in linear light.
                        let peak = (0..3).map(|i| srgb_to_linear(a[i])).fold(0.0, f32::max);
                        (srgb_to_linear(a[c]) - srgb_to_linear(b[c])).abs() / peak.max(1e-6)
                    } else {
                        (a[c] - b[c]).abs()
                    };
                    assert!(err <= tol + 1e-6, "{name} {bits} bits: {a:?} vs {b:?}");
                }
                let want_alpha = if alpha { a[3] } else { 1.0 };
                assert!((want_alpha - b[3]).abs() <= tol.max(0.5 / 255.0) + 1e-6, "{name} alpha: {a:?} vs {b:?}");
            }
        }
        // GIF is palette-based: only check it decodes to the right size.
        let gif = encode(&img, Format::Gif, &SaveOptions::default(), Path::new("t.gif")).unwrap();
        assert_eq!(decode(&gif, Path::new("t.gif")).unwrap().dimensions(), img.dimensions());
    }

    #[test]
    fn ppm_and_pgm_round_trip() {
        let img = gradient();
        for (format, name) in [(Format::Ppm, "t.ppm"), (Format::Pgm, "t.pgm")] {
            let bytes = encode(&img, format, &SaveOptions::default(), Path::new(name)).unwrap();
            let back = decode(&bytes, Path::new(name)).unwrap();
            for (a, b) in img.pixels().chunks(4).zip(back.pixels().chunks(4)) {
                let expect =
                    if format == Format::Pgm { [luma([a[0], a[1], a[2], a[3]]); 3] } else { [a[0], a[1], a[2]] };
                for c in 0..3 {
                    assert!((expect[c] - b[c]).abs() <= 0.5 / 255.0 + 1e-6, "{name}: {expect:?} vs {b:?}");
                }
                assert_eq!(b[3], 1.0);
            }
        }
    }

    #[test]
    fn exr_round_trip_is_lossless_for_hdr_values() {
        let img = Image::from_fn(8, 4, |x, y| [x as f32 * 0.7, y as f32 * 2.5, 0.001, 0.5]).unwrap();
        let bytes = encode(&img, Format::Exr, &SaveOptions::default(), Path::new("t.exr")).unwrap();
        let back = decode(&bytes, Path::new("t.exr")).unwrap();
        for (a, b) in img.pixels().iter().zip(back.pixels()) {
            assert!((a - b).abs() <= 1e-5 * a.abs().max(1.0), "{a} vs {b}");
        }
    }

    #[test]
    fn truncated_file_is_a_decode_error() {
        let bytes = encode(&gradient(), Format::Png, &SaveOptions::default(), Path::new("t.png")).unwrap();
        let err = decode(&bytes[..bytes.len() / 2], Path::new("t.png")).unwrap_err();
        assert!(matches!(err, Error::Decode { .. }), "{err}");
    }

    #[test]
    fn unknown_extension_and_bad_bits_are_errors() {
        assert!(matches!(Format::from_path(Path::new("a.xyz")), Err(Error::Unsupported(_))));
        let r =
            encode(&gradient(), Format::Jpeg, &SaveOptions { bits: Some(16), ..Default::default() }, Path::new("a"));
        assert!(matches!(r, Err(Error::Parameter { .. })));
    }

    #[test]
    fn save_options_read_from_pairs() {
        use crate::options::{OptionSet, OptionValue};
        let read = |pairs: &[(&str, OptionValue)]| SaveOptions::from_pairs(pairs.iter().map(|(k, v)| (*k, v)));
        assert_eq!(read(&[]).unwrap(), SaveOptions { bits: None, quality: None, compression: Compression::Default });
        let o = read(&[("bits", OptionValue::Float(16.0)), ("compression", OptionValue::Text("best".into()))]).unwrap();
        assert_eq!((o.bits, o.compression), (Some(16), Compression::Best));
        let msg = |pairs: &[(&str, OptionValue)]| read(pairs).unwrap_err().to_string();
        assert_eq!(msg(&[("quality", OptionValue::Int(0))]), "save: option 'quality' must be between 1 and 100, got 0");
        assert_eq!(
            msg(&[("bitz", OptionValue::Int(8))]),
            "save: unknown option 'bitz' (did you mean 'bits'?); valid options are: bits, compression, quality"
        );
    }
}
