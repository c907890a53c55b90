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
//! - Channels (`SaveOptions::channels`, as Substance's and Material Maker's exports do): absent,
//!   a save writes the smallest layout that loses nothing at the file's bit depth: an image
//!   whose every pixel has red = green = blue (as stored) is 1 channel (L, L16 with `bits: 16`),
//!   grey with alpha 2 (LA), opaque colour (alpha stored as full) 3, else 4. A format that cannot
//!   hold that layout takes the nearest one it can: WebP, EXR, BMP and QOI write grey as RGB;
//!   JPEG, PPM and HDR drop alpha as before; PGM stays luma; GIF stays RGBA; TIFF writes grey
//!   with alpha as RGBA (the `tiff` crate has no such encoder). Asked for a layout the format
//!   cannot hold (`channels: 4` for JPEG) is an error. One channel from a colour image is its
//!   Pillow luma (`convert("L")`).
//! - Provenance ([`encode_with`], [`save_with`], [`read_provenance`]): the run's recipe
//!   (`crate::recipe::Recipe`, JSON) goes into PNG `iTXt` `kiln`, TIFF ImageDescription, EXR
//!   header attribute `kiln`, WebP XMP and a JPEG COM segment; BMP, QOI, PNM, HDR and GIF
//!   (animated GIF too) carry none. How and why per format: the `meta` submodule's docs. The
//!   recipe has no timestamp, so the same work gives the same bytes.
//! - Cancelling (`crate::cancel`): a save checks the run's token before it starts, while packing
//!   samples (per band of 4096 pixels), between bands of about 1 MiB of rows while PNG
//!   compresses, between TIFF strips, and once the encoder is done; a stopped save returns the
//!   cancel or timeout error and writes nothing. The other encoders (JPEG, WebP, EXR, ...) run in
//!   one piece between those checks.
//!
//! Reading, where files bend the rules (the aim: at least as lenient as Pillow wherever the
//! file's intent is clear):
//! - Memory: once the header's size is known, and before any pixel is allocated, the decode
//!   buffer plus the RGBA f32 image are checked against the process memory budget
//!   (`crate::memory`), so a 32 KB 1-bit PNG of 16384×16384 is refused at once, naming the file,
//!   the budget and `--max-memory`. The decode's reservation is given back just before the
//!   [`Image`] is built (the image holds its own).
//! - TIFF with associated (premultiplied) alpha, `ExtraSamples` = 1, is un-premultiplied on
//!   load: kiln's images hold straight alpha. Integer samples are clamped to 1 (as Pillow's
//!   `RGBa` → `RGBA` does); float samples are not clamped. Unassociated or unspecified alpha is
//!   taken as stored.
//! - YCbCr TIFF (PhotometricInterpretation 6) is converted to RGB by kiln itself (the `image`
//!   crate refuses it), from any compression the `tiff` crate decompresses, with the file's
//!   `YCbCrCoefficients` and `ReferenceBlackWhite` (defaults: Rec. 601 luma and full-range
//!   chroma, libtiff's). Chroma-subsampled YCbCr is read only where the `tiff` crate upsamples it
//!   (JPEG-compressed files); other subsampled files are refused with a message saying so
//!   (Pillow cannot read uncompressed subsampled YCbCr either). Only 8-bit YCbCr is read.
//! - BMP: the header's plane count means nothing in a file (it must be 1); any other value is
//!   ignored, as Pillow does. RLE4/RLE8 data the `image` crate refuses (runs that overflow a row,
//!   a missing end marker, top-down RLE, which the format does not allow) is read by kiln's own
//!   lenient RLE reader, which follows Pillow: runs are clipped at the row's end, pixels the data
//!   never reaches are palette index 0, an index past the palette is black. RLE data that stops
//!   before the image is filled and without an end-of-bitmap marker is refused as truncated
//!   (Pillow refuses it too).
//! - GIF whose first frame lies partly outside the logical screen (or whose screen is 0×0): the
//!   canvas grows to hold the whole frame, as Pillow does, rather than clipping it (clipping
//!   would silently lose pixels the file holds; growing keeps them and the frame's place).
//!   Canvas pixels no frame covers are transparent (the `image` crate's and browsers' choice;
//!   Pillow paints them with the background colour).

use std::io::{Cursor, Write};
use std::path::{Path, PathBuf};

use image::{DynamicImage, ImageEncoder, ImageFormat, ImageReader};
use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::buffer::{check_size, Image};
use crate::image::color::{linear_to_srgb, luma, srgb_to_linear};
use crate::limits;
use crate::memory::{Accountant, Reservation};
use crate::recipe::Recipe;

mod meta;

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
        /// Samples per pixel: 1 grey, 2 grey and alpha, 3 RGB, 4 RGBA. Absent: the smallest that
        /// loses nothing (grey images as 1, opaque ones without alpha) the format can hold.
        channels: Option<u8> = None, range(1, 4);
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

    /// The format's usual name, for messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Png => "PNG",
            Format::Jpeg => "JPEG",
            Format::Webp => "WebP",
            Format::Tiff => "TIFF",
            Format::Exr => "OpenEXR",
            Format::Hdr => "Radiance HDR",
            Format::Bmp => "BMP",
            Format::Qoi => "QOI",
            Format::Ppm => "PPM",
            Format::Pgm => "PGM",
            Format::Pam => "PAM",
            Format::Gif => "GIF",
        }
    }

    fn allowed_bits(self) -> &'static [u8] {
        match self {
            Format::Png | Format::Ppm | Format::Pgm | Format::Pam => &[8, 16],
            Format::Tiff => &[8, 16, 32],
            Format::Exr | Format::Hdr => &[32],
            Format::Jpeg | Format::Webp | Format::Bmp | Format::Qoi | Format::Gif => &[8],
        }
    }

    /// The samples per pixel kiln writes this format with (see [`SaveOptions::channels`]).
    fn channel_choices(self) -> &'static [u8] {
        match self {
            Format::Png | Format::Pam => &[1, 2, 3, 4],
            // The `tiff` crate has no grey-and-alpha encoder.
            Format::Tiff => &[1, 3, 4],
            Format::Jpeg => &[1, 3],
            // WebP (lossless) and EXR as kiln writes them, BMP and QOI hold colour only.
            Format::Webp | Format::Exr | Format::Bmp | Format::Qoi => &[3, 4],
            Format::Hdr | Format::Ppm => &[3],
            Format::Pgm => &[1],
            Format::Gif => &[4],
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
///
/// Every failure names the file and says what is wrong in words: the decoders' own messages
/// carry Rust `Debug` text (`ChunkType { .. }`, `Unknown(24)`) and advice for their API, so they
/// are mapped by [`decode_error`].
pub fn decode(bytes: &[u8], name: &Path) -> Result<Image> {
    decode_in(bytes, name, crate::memory::global())
}

/// [`decode`] with the decode buffers reserved from `budget` (tests pass their own accountant).
fn decode_in(bytes: &[u8], name: &Path, budget: &'static Accountant) -> Result<Image> {
    let mut reader = ImageReader::new(Cursor::new(bytes));
    if let Ok(fmt) = ImageFormat::from_path(name) {
        reader.set_format(fmt);
    }
    let reader = reader.with_guessed_format().map_err(|e| Error::Decode {
        path: name.to_path_buf(),
        message: format!("cannot read the file header ({})", plain(&e.to_string())),
    })?;
    let format = reader.format().ok_or_else(|| Error::Decode {
        path: name.to_path_buf(),
        message:
            "not a recognised image format (kiln reads png, jpg, webp, tif, exr, hdr, bmp, qoi, ppm, pgm, pam and gif)"
                .into(),
    })?;
    if format == ImageFormat::Png {
        if let Some(img) = png_rows::decode(bytes, name, budget)? {
            return Ok(img);
        }
    }
    // Header fields a lenient reader ignores are mended in a copy (see the module docs).
    let mended = match format {
        ImageFormat::Gif => lenient::gif_screen_grown(bytes),
        ImageFormat::Bmp => lenient::bmp_planes_mended(bytes),
        _ => None,
    };
    let bytes = mended.as_deref().unwrap_or(bytes);
    let tiff = if format == ImageFormat::Tiff { lenient::tiff_layout(bytes) } else { None };
    if tiff.is_some_and(|t| t.ycbcr) {
        return lenient::decode_ycbcr_tiff(bytes, name, budget);
    }
    let mut img = match decode_with_image_crate(bytes, name, format, budget) {
        Err(e) if format == ImageFormat::Bmp && !matches!(e, Error::Limit(_)) => {
            lenient::decode_bmp_rle(bytes, name, budget).unwrap_or(Err(e))?
        }
        other => other?,
    };
    if let Some(t) = tiff.filter(|t| t.associated_alpha) {
        unpremultiply(&mut img, !t.float);
    }
    Ok(img)
}

/// Decodes with the `image` crate, the header checked against kiln's limits and the memory
/// budget before the decoder allocates.
fn decode_with_image_crate(
    bytes: &[u8],
    name: &Path,
    format: ImageFormat,
    budget: &'static Accountant,
) -> Result<Image> {
    // Refuse oversized images before the decoder allocates (decompression bombs). The same
    // limits hold for the decode itself, so the `image` crate's smaller default allocation
    // ceiling does not refuse an image that kiln's limit allows.
    let mut lim = image::Limits::default();
    lim.max_image_width = Some(limits::MAX_DIMENSION);
    lim.max_image_height = Some(limits::MAX_DIMENSION);
    lim.max_alloc = Some(limits::max_pixels().saturating_mul(16));
    let mut reader = ImageReader::new(Cursor::new(bytes));
    reader.set_format(format);
    reader.limits(lim);
    let decoder = reader.into_decoder().map_err(|e| decode_error(e, name, format))?;
    let (w, h) = image::ImageDecoder::dimensions(&decoder);
    check_decoded_size(w, h, name, format)?;
    let hold = reserve_decode(budget, name, w, h, image::ImageDecoder::total_bytes(&decoder))?;
    let dynamic = DynamicImage::from_decoder(decoder).map_err(|e| decode_error(e, name, format))?;
    if dynamic.width() != w || dynamic.height() != h {
        return Err(Error::Decode {
            path: name.to_path_buf(),
            message: format!(
                "the {} header says {w}x{h} but the image data is {}x{}",
                format_name(format),
                dynamic.width(),
                dynamic.height()
            ),
        });
    }
    let scene_linear = matches!(format, ImageFormat::OpenExr | ImageFormat::Hdr);
    convert_dynamic(dynamic, scene_linear, Some(hold))
}

/// Reserves what decoding a `w`×`h` file needs before anything is allocated: the decoder's own
/// buffer of `buffer` bytes and the RGBA f32 image. The whole need is checked up front, so a file
/// that cannot fit is refused at once; the reservation is dropped just before the [`Image`] is
/// built, which holds its own bytes from then on.
fn reserve_decode(budget: &'static Accountant, name: &Path, w: u32, h: u32, buffer: u64) -> Result<Reservation> {
    let image = w as u64 * h as u64 * 16;
    budget.reserve(buffer.saturating_add(image), &format!("decoding {} ({w}×{h})", name.display()))
}

/// Turns premultiplied (associated) alpha into straight alpha; `clamp` for integer samples.
fn unpremultiply(img: &mut Image, clamp: bool) {
    img.rows_mut().for_each(|row| {
        for px in row.chunks_exact_mut(4) {
            let a = px[3];
            for c in &mut px[..3] {
                *c = if a > 0.0 { *c / a } else { 0.0 };
                if clamp {
                    *c = c.min(1.0);
                }
            }
        }
    });
}

/// The size a file's header gives, checked against kiln's limits with the file named.
fn check_decoded_size(w: u32, h: u32, name: &Path, format: ImageFormat) -> Result<()> {
    if (w == 0 || h == 0) && format == ImageFormat::WebP {
        // image-webp reads a lossless width or height of 16384 (stored as 16383) as 0.
        return Err(Error::Decode {
            path: name.to_path_buf(),
            message: "the WebP header gives a width or height of 0; a lossless WebP 16384 pixels wide or high \
                      reads as 0 in the WebP decoder kiln uses, so such a file cannot be loaded"
                .into(),
        });
    }
    if w == 0 || h == 0 {
        return Err(Error::Decode {
            path: name.to_path_buf(),
            message: format!("the {} header gives an empty size of {w}x{h}", format_name(format)),
        });
    }
    check_size(w as i64, h as i64).map(|_| ()).map_err(|_| too_large(name, Some((w, h))))
}

/// The error for an image over kiln's pixel limit.
fn too_large(name: &Path, size: Option<(u32, u32)>) -> Error {
    let size = size.map(|(w, h)| format!(" ({w}x{h})")).unwrap_or_default();
    Error::Limit(format!(
        "{}: the image{size} is larger than kiln's limit of {} pixels (--max-pixels)",
        name.display(),
        limits::max_pixels()
    ))
}

/// A format's name as users know it.
fn format_name(format: ImageFormat) -> &'static str {
    match format {
        ImageFormat::Png => "PNG",
        ImageFormat::Jpeg => "JPEG",
        ImageFormat::WebP => "WebP",
        ImageFormat::Tiff => "TIFF",
        ImageFormat::OpenExr => "OpenEXR",
        ImageFormat::Hdr => "Radiance HDR",
        ImageFormat::Bmp => "BMP",
        ImageFormat::Qoi => "QOI",
        ImageFormat::Pnm => "PNM",
        ImageFormat::Gif => "GIF",
        ImageFormat::Ico => "ICO",
        ImageFormat::Tga => "TGA",
        ImageFormat::Avif => "AVIF",
        ImageFormat::Dds => "DDS",
        ImageFormat::Farbfeld => "farbfeld",
        _ => "image",
    }
}

/// Whether a decoder's message says the data stopped early.
fn says_truncated(text: &str) -> bool {
    let t = text.to_ascii_lowercase();
    [
        "eof",
        "end of file",
        "fill whole buffer",
        "no more data",
        "not enough data",
        "not enough bytes",
        "missing bytes",
        "truncated",
        "ends early",
    ]
    .iter()
    .any(|k| t.contains(k))
}

/// Maps an `image` crate error for file `name` to a kiln error whose message is plain words.
fn decode_error(err: image::ImageError, name: &Path, format: ImageFormat) -> Error {
    use image::error::{ImageError as E, LimitErrorKind, ParameterErrorKind, UnsupportedErrorKind};
    let fmt = format_name(format);
    let decode = |message: String| Error::Decode { path: name.to_path_buf(), message };
    match err {
        E::Limits(l) => match l.kind() {
            LimitErrorKind::DimensionError | LimitErrorKind::InsufficientMemory => too_large(name, None),
            _ => decode(format!("the {fmt} decoder cannot honour kiln's size limits for this file")),
        },
        E::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            decode(format!("the {fmt} data ends early (is the file truncated?)"))
        }
        E::IoError(e) => decode(format!("the {fmt} data cannot be read ({})", plain(&e.to_string()))),
        E::Unsupported(u) => match u.kind() {
            UnsupportedErrorKind::Color(image::ExtendedColorType::Unknown(bits)) => decode(format!(
                "{fmt} colour type {bits} ({bits} bits per pixel: YCbCr, palette or another layout kiln cannot read) is not supported"
            )),
            UnsupportedErrorKind::Color(c) | UnsupportedErrorKind::ColorLayout(c) => {
                decode(format!("{fmt} colour type {} is not supported", plain(&format!("{c:?}"))))
            }
            UnsupportedErrorKind::Format(_) => decode("not a recognised image format".into()),
            UnsupportedErrorKind::GenericFeature(m) => {
                decode(format!("this {fmt} file uses a feature kiln cannot read ({})", plain(&m)))
            }
            _ => decode(format!("this {fmt} file uses a feature kiln cannot read ({})", plain(&u.to_string()))),
        },
        E::Parameter(p) => match p.kind() {
            ParameterErrorKind::DimensionMismatch => {
                decode(format!("the {fmt} header's size does not match its image data"))
            }
            _ => decode(format!("the {fmt} data is corrupt ({})", plain(&p.to_string()))),
        },
        E::Decoding(d) => {
            let detail = std::error::Error::source(&d).map(|s| s.to_string()).unwrap_or_default();
            if says_truncated(&detail) {
                return decode(format!("the {fmt} data ends early (is the file truncated?)"));
            }
            match plain(&detail) {
                d if d.is_empty() => decode(format!("the {fmt} data is corrupt")),
                d => decode(format!("the {fmt} data is corrupt ({d})")),
            }
        }
        E::Encoding(e) => decode(format!("the {fmt} decoder failed ({})", plain(&e.to_string()))),
    }
}

/// Maps a `png` crate error for file `name` (the row-pipelined PNG path) to a kiln error.
fn png_error(err: png::DecodingError, name: &Path) -> Error {
    let decode = |message: String| Error::Decode { path: name.to_path_buf(), message };
    match err {
        png::DecodingError::LimitsExceeded => too_large(name, None),
        png::DecodingError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            decode("the PNG data ends early (is the file truncated?)".into())
        }
        png::DecodingError::IoError(e) => decode(format!("the PNG data cannot be read ({})", plain(&e.to_string()))),
        png::DecodingError::Format(f) => {
            let text = f.to_string();
            let chunk = chunk_name(&text);
            if text.starts_with("CRC error") {
                decode(format!("the PNG data is corrupt (bad {} chunk)", chunk.as_deref().unwrap_or("data")))
            } else if text.starts_with("Corrupt deflate stream") {
                // The rows inflate before the chunk's checksum is read, so a damaged IDAT
                // usually shows up here.
                decode("the PNG data is corrupt (bad IDAT chunk)".into())
            } else if says_truncated(&text) {
                decode("the PNG data ends early (is the file truncated?)".into())
            } else {
                decode(format!("the PNG data is corrupt ({})", plain(&text)))
            }
        }
        png::DecodingError::Parameter(p) => decode(format!("the PNG decoder failed ({})", plain(&p.to_string()))),
    }
}

/// The chunk name inside the `png` crate's `ChunkType { type: IDAT, .. }` Debug text.
fn chunk_name(text: &str) -> Option<String> {
    let at = text.find("ChunkType {")?;
    let rest = &text[at..];
    let start = rest.find("type: ")? + "type: ".len();
    let end = rest[start..].find([',', ' ', '}'])? + start;
    Some(rest[start..end].to_string())
}

/// A decoder message made fit for users: `ChunkType { type: IDAT, .. }` becomes `IDAT`, other
/// `Name { .. }` blocks are dropped, `Some(x)`, `Unknown(x)` and `Name(x)` lose their
/// brackets, advice for the decoder's API (`set_limits`) is dropped, and the first letter is
/// lower-cased and a final full stop removed so it reads inside a sentence.
fn plain(text: &str) -> String {
    let mut s = text.replace('\n', " ");
    // ChunkType { type: IDAT, critical: true, .. } -> IDAT
    while let Some(at) = s.find("ChunkType {") {
        let name = chunk_name(&s[at..]).unwrap_or_else(|| "a".into());
        let end = s[at..].find('}').map_or(s.len(), |e| at + e + 1);
        s.replace_range(at..end, &name);
    }
    // Other `Name { .. }` struct dumps.
    while let Some(open) = s.find(" { ") {
        let end = s[open..].find('}').map_or(s.len(), |e| open + e + 1);
        s.replace_range(open..end, "");
    }
    // `Some(x)`, `Ok(x)`, `Unknown(x)` -> x; `YCbCr(8)` -> `YCbCr 8`.
    let mut out = String::with_capacity(s.len());
    let mut rest = s.as_str();
    while let Some(open) = rest.find('(') {
        let head = &rest[..open];
        // Past the last character that is not part of an identifier (which may be several bytes).
        let ident_start = head
            .char_indices()
            .rev()
            .find(|&(_, c)| !c.is_ascii_alphanumeric() && c != '_')
            .map_or(0, |(i, c)| i + c.len_utf8());
        let ident = &head[ident_start..];
        let close = rest[open..].find(')').map(|c| open + c);
        match close {
            Some(close) if ident.starts_with(|c: char| c.is_ascii_uppercase()) || ident == "Some" => {
                out.push_str(&head[..ident_start]);
                if !matches!(ident, "Some" | "Ok" | "Err" | "Unknown") {
                    out.push_str(ident);
                    out.push(' ');
                }
                out.push_str(&rest[open + 1..close]);
                rest = &rest[close + 1..];
            }
            _ => {
                out.push_str(&rest[..=open]);
                rest = &rest[open + 1..];
            }
        }
    }
    out.push_str(rest);
    // Advice about the decoder crate's own API means nothing to a kiln user.
    let sentences: Vec<&str> = out.split(". ").filter(|p| !p.contains("set_limits") && !p.trim().is_empty()).collect();
    let mut s = sentences.join(". ").replace("None", "none").trim().trim_end_matches('.').trim().to_string();
    let mut chars = s.chars();
    if let (Some(a), Some(b)) = (chars.next(), chars.next()) {
        if a.is_ascii_uppercase() && b.is_ascii_lowercase() {
            s.replace_range(..1, &a.to_ascii_lowercase().to_string());
        }
    }
    s
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

    pub fn decode(bytes: &[u8], name: &Path, budget: &'static Accountant) -> Result<Option<Image>> {
        let mut decoder = png::Decoder::new(Cursor::new(bytes));
        decoder.set_transformations(png::Transformations::EXPAND);
        let mut reader = decoder.read_info().map_err(|e| png_error(e, name))?;
        let info = reader.info();
        if info.interlaced {
            return Ok(None);
        }
        let (w, h) = (info.width, info.height);
        check_decoded_size(w, h, name, ImageFormat::Png)?;
        let (color, depth) = reader.output_color_type();
        let channels = color.samples();
        let wide = depth == png::BitDepth::Sixteen;
        let line = reader.output_line_size(w).ok_or_else(|| too_large(name, Some((w, h))))?;
        // The bands are freed as they are converted, but the reader may run ahead of the
        // workers: the bound is every packed row at once.
        let hold = reserve_decode(budget, name, w, h, line as u64 * h as u64)?;
        // `vec!` of zeros is a calloc: fresh pages nobody touches until the converting workers
        // write them, so the page faults are spread over the workers instead of this thread.
        let mut out = vec![0.0f32; w as usize * h as usize * 4];
        let mut failure = None;
        // A big PNG takes seconds to inflate: the run's cancel token is checked between bands.
        let stop = crate::cancel::current();
        rayon::scope(|s| {
            let mut rest: &mut [f32] = &mut out;
            let mut y = 0usize;
            while y < h as usize {
                if stop.is_stopped() {
                    return;
                }
                let rows = BAND.min(h as usize - y);
                let mut band = vec![0u8; rows * line];
                for r in 0..rows {
                    if let Err(e) = reader.read_row(&mut band[r * line..(r + 1) * line]) {
                        failure = Some(e);
                        return;
                    }
                }
                let (dst, tail) = std::mem::take(&mut rest).split_at_mut(rows * w as usize * 4);
                rest = tail;
                s.spawn(move |_| convert(&band, line, dst, w as usize, channels, wide));
                y += rows;
            }
        });
        stop.check()?;
        if let Some(e) = failure {
            return Err(png_error(e, name));
        }
        // Reads to the end of the image data and checks its CRC and the trailing chunks, so a
        // truncated file is an error even when every row happened to inflate.
        reader.finish().map_err(|e| png_error(e, name))?;
        drop(hold);
        Image::from_rgba(w, h, out).map(Some)
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

/// Readers for files that bend their format's rules (see the module docs for each decision).
mod lenient {
    use tiff::decoder::{Decoder, DecodingResult};
    use tiff::tags::Tag;
    use tiff::{ColorType, TiffError, TiffUnsupportedError};

    use super::*;

    fn u16_at(b: &[u8], at: usize) -> Option<u16> {
        Some(u16::from_le_bytes(b.get(at..at + 2)?.try_into().ok()?))
    }

    fn u32_at(b: &[u8], at: usize) -> Option<u32> {
        Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
    }

    /// A GIF whose logical screen is grown to hold its first frame; `None` when it already does
    /// (or the file is not one this can read: the decoder then reports it).
    pub fn gif_screen_grown(bytes: &[u8]) -> Option<Vec<u8>> {
        if !bytes.starts_with(b"GIF") {
            return None;
        }
        let (sw, sh) = (u16_at(bytes, 6)?, u16_at(bytes, 8)?);
        let flags = *bytes.get(10)?;
        let mut at = 13;
        if flags & 0x80 != 0 {
            at += 3 << ((flags & 7) + 1);
        }
        // Skip extension blocks up to the first image descriptor.
        loop {
            match *bytes.get(at)? {
                0x21 => {
                    at += 2;
                    loop {
                        let n = *bytes.get(at)? as usize;
                        at += 1 + n;
                        if n == 0 {
                            break;
                        }
                    }
                }
                0x2c => break,
                _ => return None,
            }
        }
        let [left, top, w, h] = [1, 3, 5, 7].map(|o| u16_at(bytes, at + o).map(u32::from));
        let (right, bottom) = (left? + w?, top? + h?);
        let (gw, gh) = (right.max(sw as u32), bottom.max(sh as u32));
        if (gw, gh) == (sw as u32, sh as u32) || gw > u16::MAX as u32 || gh > u16::MAX as u32 {
            return None;
        }
        let mut out = bytes.to_vec();
        out[6..8].copy_from_slice(&(gw as u16).to_le_bytes());
        out[8..10].copy_from_slice(&(gh as u16).to_le_bytes());
        Some(out)
    }

    /// A BMP whose plane count (meaningless in a file, specified as 1) is set to 1; `None` when
    /// it already is.
    pub fn bmp_planes_mended(bytes: &[u8]) -> Option<Vec<u8>> {
        if !bytes.starts_with(b"BM") {
            return None;
        }
        let at = match u32_at(bytes, 14)? {
            12 => 22,
            n if n >= 40 => 26,
            _ => return None,
        };
        if u16_at(bytes, at)? == 1 {
            return None;
        }
        let mut out = bytes.to_vec();
        out[at..at + 2].copy_from_slice(&1u16.to_le_bytes());
        Some(out)
    }

    /// An RLE4 or RLE8 BMP read as Pillow reads it; `None` when the file is not RLE (the
    /// `image` crate's error stands).
    pub fn decode_bmp_rle(bytes: &[u8], name: &Path, budget: &'static Accountant) -> Option<Result<Image>> {
        let offset = u32_at(bytes, 10)? as usize;
        let header = u32_at(bytes, 14)? as usize;
        if header < 40 {
            return None;
        }
        let (width, height) = (u32_at(bytes, 18)? as i32, u32_at(bytes, 22)? as i32);
        let (bpp, compression) = (u16_at(bytes, 28)?, u32_at(bytes, 30)?);
        let rle4 = match (compression, bpp) {
            (1, 8) => false,
            (2, 4) => true,
            _ => return None,
        };
        if width <= 0 || height == 0 {
            return None;
        }
        let (w, h) = (width as u32, height.unsigned_abs());
        Some(bmp_rle(bytes, name, budget, offset, header, (w, h, height < 0), rle4))
    }

    fn bmp_rle(
        bytes: &[u8],
        name: &Path,
        budget: &'static Accountant,
        offset: usize,
        header: usize,
        (w, h, top_down): (u32, u32, bool),
        rle4: bool,
    ) -> Result<Image> {
        let corrupt = |what: &str| Error::Decode { path: name.to_path_buf(), message: format!("the BMP data {what}") };
        check_decoded_size(w, h, name, ImageFormat::Bmp)?;
        let colours = match u32_at(bytes, 46).unwrap_or(0) {
            0 => 1usize << if rle4 { 4 } else { 8 },
            n => (n as usize).min(256),
        };
        let palette: Vec<[f32; 4]> = (0..colours)
            .map_while(|i| bytes.get(14 + header + 4 * i..14 + header + 4 * i + 3))
            .map(|p| [p[2] as f32 / 255.0, p[1] as f32 / 255.0, p[0] as f32 / 255.0, 1.0])
            .collect();
        let data = bytes.get(offset..).ok_or_else(|| corrupt("ends early (is the file truncated?)"))?;
        let hold = reserve_decode(budget, name, w, h, w as u64 * h as u64)?;
        let indices = rle_expand(data, w as usize, h as usize, rle4)
            .ok_or_else(|| corrupt("ends early (is the file truncated?)"))?;
        let mut out = vec![0.0f32; w as usize * h as usize * 4];
        for (r, row) in indices.chunks_exact(w as usize).enumerate() {
            let y = if top_down { r } else { h as usize - 1 - r };
            let dst = &mut out[y * w as usize * 4..(y + 1) * w as usize * 4];
            for (d, &i) in dst.chunks_exact_mut(4).zip(row) {
                d.copy_from_slice(palette.get(i as usize).unwrap_or(&[0.0, 0.0, 0.0, 1.0]));
            }
        }
        drop(hold);
        Image::from_rgba(w, h, out)
    }

    /// Expands RLE4/RLE8 data to `w * h` palette indices in file row order, as Pillow's
    /// `BmpRleDecoder` does: runs are clipped at the row's end, a delta or an early end leaves
    /// index 0. `None` when the data runs out before the image is full and without an
    /// end-of-bitmap marker.
    pub(super) fn rle_expand(data: &[u8], w: usize, h: usize, rle4: bool) -> Option<Vec<u8>> {
        let total = w * h;
        let mut out = Vec::with_capacity(total);
        let mut x = 0usize;
        let mut at = 0usize;
        while out.len() < total {
            let (Some(&count), Some(&byte)) = (data.get(at), data.get(at + 1)) else {
                return None;
            };
            at += 2;
            if count > 0 {
                let n = (count as usize).min(w.saturating_sub(x)).min(total - out.len());
                if rle4 {
                    out.extend((0..n).map(|i| if i % 2 == 0 { byte >> 4 } else { byte & 0x0f }));
                } else {
                    out.extend(std::iter::repeat_n(byte, n));
                }
                x += n;
                continue;
            }
            match byte {
                0 => {
                    // End of row.
                    let pad = (w - out.len() % w) % w;
                    out.resize((out.len() + pad).min(total), 0);
                    x = 0;
                }
                1 => break,
                2 => {
                    let (Some(&right), Some(&up)) = (data.get(at), data.get(at + 1)) else {
                        return None;
                    };
                    at += 2;
                    let skip = (right as usize + up as usize * w).min(total - out.len());
                    out.resize(out.len() + skip, 0);
                    x = out.len() % w;
                }
                n => {
                    // Absolute mode: `n` literal indices, padded to a 16-bit boundary.
                    let n = (n as usize).min(total - out.len());
                    let stored = if rle4 { n.div_ceil(2) } else { n };
                    let literal = data.get(at..at + stored)?;
                    at += stored;
                    if rle4 {
                        out.extend(literal.iter().flat_map(|b| [b >> 4, b & 0x0f]).take(n));
                    } else {
                        out.extend_from_slice(literal);
                    }
                    x += n;
                    at += at % 2;
                }
            }
        }
        out.resize(total, 0);
        Some(out)
    }

    /// What kiln must know about a TIFF before the `image` crate decodes it.
    #[derive(Debug, Clone, Copy)]
    pub struct TiffLayout {
        /// PhotometricInterpretation 6.
        pub ycbcr: bool,
        /// ExtraSamples starts with 1: premultiplied alpha.
        pub associated_alpha: bool,
        /// SampleFormat 3 (IEEE float).
        pub float: bool,
    }

    /// The layout of a TIFF's first image; `None` when the `tiff` crate cannot read its header
    /// (the `image` crate then reports why).
    pub fn tiff_layout(bytes: &[u8]) -> Option<TiffLayout> {
        let mut d = Decoder::new(Cursor::new(bytes)).ok()?;
        let photometric = d.find_tag_unsigned::<u16>(Tag::PhotometricInterpretation).ok()??;
        let extra = d.find_tag_unsigned_vec::<u16>(Tag::ExtraSamples).ok().flatten().unwrap_or_default();
        let format = d.find_tag_unsigned_vec::<u16>(Tag::SampleFormat).ok().flatten().unwrap_or_default();
        Some(TiffLayout {
            ycbcr: photometric == 6,
            associated_alpha: extra.first() == Some(&1),
            float: format.first() == Some(&3),
        })
    }

    /// A tag's rational (or plain number) values.
    fn numbers(d: &mut Decoder<Cursor<&[u8]>>, tag: u16) -> Option<Vec<f32>> {
        use tiff::decoder::ifd::Value;
        fn one(v: &Value) -> Option<f32> {
            Some(match *v {
                Value::Rational(n, d) if d != 0 => n as f32 / d as f32,
                Value::SRational(n, d) if d != 0 => n as f32 / d as f32,
                Value::Short(n) => n as f32,
                Value::Unsigned(n) => n as f32,
                Value::Float(f) => f,
                Value::Double(f) => f as f32,
                _ => return None,
            })
        }
        match d.find_tag(Tag::Unknown(tag)).ok()?? {
            Value::List(vs) => vs.iter().map(one).collect(),
            v => one(&v).map(|x| vec![x]),
        }
    }

    /// An 8-bit YCbCr TIFF converted to RGB as libtiff's `TIFFYCbCrToRGB` does.
    pub fn decode_ycbcr_tiff(bytes: &[u8], name: &Path, budget: &'static Accountant) -> Result<Image> {
        let decode = |message: String| Error::Decode { path: name.to_path_buf(), message };
        let tiff_err = |e: TiffError| match e {
            TiffError::UnsupportedError(TiffUnsupportedError::ChromaSubsampling) => decode(
                "this YCbCr TIFF stores its colour subsampled, which kiln reads only from JPEG-compressed \
                 TIFFs; convert it to RGB (e.g. `magick in.tif -colorspace sRGB out.tif`)"
                    .into(),
            ),
            TiffError::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                decode("the TIFF data ends early (is the file truncated?)".into())
            }
            TiffError::LimitsExceeded => too_large(name, None),
            e => decode(format!("the TIFF data cannot be read ({})", plain(&e.to_string()))),
        };
        let mut d = Decoder::new(Cursor::new(bytes)).map_err(tiff_err)?.with_limits(tiff::decoder::Limits::unlimited());
        let (w, h) = d.dimensions().map_err(tiff_err)?;
        check_decoded_size(w, h, name, ImageFormat::Tiff)?;
        match d.colortype().map_err(tiff_err)? {
            ColorType::YCbCr(8) => {}
            ColorType::YCbCr(bits) => {
                return Err(decode(format!("{bits}-bit YCbCr TIFF is not supported (kiln reads 8-bit YCbCr)")))
            }
            _ => return Err(decode("this YCbCr TIFF has extra channels kiln cannot read".into())),
        }
        let luma = numbers(&mut d, 529).filter(|v| v.len() == 3).unwrap_or(vec![0.299, 0.587, 0.114]);
        let refbw =
            numbers(&mut d, 532).filter(|v| v.len() == 6).unwrap_or(vec![0.0, 255.0, 128.0, 255.0, 128.0, 255.0]);
        let hold = reserve_decode(budget, name, w, h, w as u64 * h as u64 * 3)?;
        let samples = match d.read_image().map_err(tiff_err)? {
            DecodingResult::U8(v) => v,
            _ => return Err(decode("this YCbCr TIFF's samples are not 8-bit".into())),
        };
        if samples.len() < w as usize * h as usize * 3 {
            return Err(decode("the TIFF data ends early (is the file truncated?)".into()));
        }
        let out = ycbcr_to_rgba(&samples[..w as usize * h as usize * 3], [luma[0], luma[1], luma[2]], &refbw);
        drop(hold);
        Image::from_rgba(w, h, out)
    }

    /// YCbCr samples to RGBA f32 with luma coefficients `[R, G, B]` and ReferenceBlackWhite
    /// `refbw` (libtiff's arithmetic, in f32).
    pub(super) fn ycbcr_to_rgba(samples: &[u8], [lr, lg, lb]: [f32; 3], refbw: &[f32]) -> Vec<f32> {
        let code = |v: u8, black: f32, white: f32, range: f32| {
            let span = white - black;
            if span == 0.0 {
                0.0
            } else {
                (v as f32 - black) * range / span
            }
        };
        let mut out = vec![0.0f32; samples.len() / 3 * 4];
        out.par_chunks_mut(4 * 4096).zip(samples.par_chunks(3 * 4096)).for_each(|(dst, src)| {
            for (d, s) in dst.chunks_exact_mut(4).zip(src.chunks_exact(3)) {
                let y = code(s[0], refbw[0], refbw[1], 255.0);
                let cb = code(s[1], refbw[2], refbw[3], 127.0);
                let cr = code(s[2], refbw[4], refbw[5], 127.0);
                let r = y + cr * (2.0 - 2.0 * lr);
                let b = y + cb * (2.0 - 2.0 * lb);
                let g = if lg == 0.0 { y } else { (y - lb * b - lr * r) / lg };
                let v = |c: f32| (c / 255.0).clamp(0.0, 1.0);
                d.copy_from_slice(&[v(r), v(g), v(b), 1.0]);
            }
        });
        out
    }
}

/// Converts a decoded `image` crate buffer to an [`Image`].
pub fn from_dynamic(dynamic: DynamicImage, scene_linear: bool) -> Result<Image> {
    convert_dynamic(dynamic, scene_linear, None)
}

/// [`from_dynamic`], giving back the decode's reservation `hold` once the decoder's buffer is
/// freed and before the [`Image`] (which reserves its own bytes) is built.
fn convert_dynamic(dynamic: DynamicImage, scene_linear: bool, hold: Option<Reservation>) -> Result<Image> {
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
    drop(hold);
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

/// Pixels per band of packing work: one rayon task, and one check of the run's cancel token.
const PACK_BAND: usize = 4096;

/// One pixel `s` (RGBA) written as `d.len()` samples quantised by `q`: 1 = grey, 2 = grey and
/// alpha, 3 = RGB, 4 = RGBA. Grey is the red sample where red, green and blue quantise alike,
/// else the Pillow luma (`convert("L")`), so a grey image loses nothing and a colour one asked
/// for one channel turns to luminance.
#[inline]
fn pack_px<T: Copy + PartialEq>(s: &[f32], d: &mut [T], q: impl Fn(f32) -> T) {
    let grey = |s: &[f32]| {
        let r = q(s[0]);
        if r == q(s[1]) && r == q(s[2]) {
            r
        } else {
            q(luma([s[0], s[1], s[2], s[3]]))
        }
    };
    match d.len() {
        1 => d[0] = grey(s),
        2 => {
            d[0] = grey(s);
            d[1] = q(s[3]);
        }
        n => {
            for c in 0..n {
                d[c] = q(s[c]);
            }
        }
    }
}

/// Pixels packed to 8 bits with `channels` samples each (see [`pack_px`]).
fn pack_u8(img: &Image, channels: usize) -> Vec<u8> {
    let mut out = vec![0u8; img.pixel_count() * channels];
    pack_u8_into(img, channels, &mut out);
    out
}

/// [`pack_u8`] into a caller's buffer of exactly `pixels * channels` bytes. A stopped run skips
/// the remaining bands; the encoder's next checkpoint reports it.
fn pack_u8_into(img: &Image, channels: usize, out: &mut [u8]) {
    let stop = crate::cancel::current();
    out.par_chunks_mut(channels * PACK_BAND).zip(img.pixels().par_chunks(4 * PACK_BAND)).for_each(|(d, s)| {
        if stop.is_stopped() {
            return;
        }
        for (d, s) in d.chunks_exact_mut(channels).zip(s.chunks_exact(4)) {
            pack_px(s, d, to_u8);
        }
    });
}

fn pack_u16(img: &Image, channels: usize) -> Vec<u16> {
    let stop = crate::cancel::current();
    let mut out = vec![0u16; img.pixel_count() * channels];
    out.par_chunks_mut(channels * PACK_BAND).zip(img.pixels().par_chunks(4 * PACK_BAND)).for_each(|(d, s)| {
        if stop.is_stopped() {
            return;
        }
        for (d, s) in d.chunks_exact_mut(channels).zip(s.chunks_exact(4)) {
            pack_px(s, d, to_u16);
        }
    });
    out
}

/// Float samples; `linear` takes the colour samples (not alpha) through the sRGB curve's inverse.
fn pack_f32(img: &Image, channels: usize, linear: bool) -> Vec<f32> {
    let stop = crate::cancel::current();
    let mut out = vec![0f32; img.pixel_count() * channels];
    out.par_chunks_mut(channels * PACK_BAND).zip(img.pixels().par_chunks(4 * PACK_BAND)).for_each(|(d, s)| {
        if stop.is_stopped() {
            return;
        }
        for (d, s) in d.chunks_exact_mut(channels).zip(s.chunks_exact(4)) {
            if linear {
                let px = [srgb_to_linear(s[0]), srgb_to_linear(s[1]), srgb_to_linear(s[2]), s[3]];
                pack_px(&px, d, |v| v);
            } else {
                pack_px(s, d, |v| v);
            }
        }
    });
    out
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

/// The bit depth `opts` ask of `format`, once bits and quality are checked against what it can write.
fn check_save_options(format: Format, opts: &SaveOptions) -> Result<u8> {
    let bits = opts.bits.unwrap_or(format.default_bits());
    if !format.allowed_bits().contains(&bits) {
        return Err(Error::param(
            "save",
            format!(
                "{} cannot be written with {bits} bits per channel (allowed: {})",
                format.name(),
                format.allowed_bits().iter().map(u8::to_string).collect::<Vec<_>>().join(" or ")
            ),
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
            _ => return Err(Error::param("save", format!("quality applies to JPEG only, not {}", format.name()))),
        }
    }
    Ok(bits)
}

/// Whether every pixel is grey (red, green and blue equal) and whether every pixel is opaque,
/// both judged at the depth the file stores (`bits`), so what the file cannot tell apart counts
/// as equal. An AND over bands does not depend on how the bands are split.
fn grey_and_opaque(img: &Image, bits: u8) -> (bool, bool) {
    let same = |a: f32, b: f32| match bits {
        8 => to_u8(a) == to_u8(b),
        16 => to_u16(a) == to_u16(b),
        _ => a.to_bits() == b.to_bits() || a == b,
    };
    let opaque = |a: f32| match bits {
        8 => to_u8(a) == 255,
        16 => to_u16(a) == 65535,
        _ => a == 1.0,
    };
    img.pixels()
        .par_chunks(4 * PACK_BAND)
        .map(|band| {
            let (mut grey, mut solid) = (true, true);
            for p in band.chunks_exact(4) {
                grey &= same(p[0], p[1]) && same(p[1], p[2]);
                solid &= opaque(p[3]);
                if !grey && !solid {
                    break;
                }
            }
            (grey, solid)
        })
        .reduce(|| (true, true), |a, b| (a.0 && b.0, a.1 && b.1))
}

/// The samples per pixel a save writes: `opts.channels` if the format can hold it (else an
/// error), or else the smallest layout that loses nothing: grey → 1, grey with alpha → 2,
/// opaque colour → 3, else 4, falling back to the nearest layout the format holds (dropping
/// alpha only where the format has none, as before).
fn pick_channels(img: &Image, format: Format, opts: &SaveOptions, bits: u8) -> Result<usize> {
    let choices = format.channel_choices();
    if let Some(n) = opts.channels {
        if choices.contains(&n) {
            return Ok(n as usize);
        }
        let list: Vec<String> = choices.iter().map(u8::to_string).collect();
        return Err(Error::param(
            "save",
            format!(
                "{} cannot be written with {n} channel{} (it holds {})",
                format.name(),
                if n == 1 { "" } else { "s" },
                list.join(" or ")
            ),
        ));
    }
    if let [only] = choices {
        return Ok(*only as usize);
    }
    let order: [u8; 4] = match grey_and_opaque(img, bits) {
        (true, true) => [1, 3, 2, 4],
        (true, false) => [2, 4, 1, 3],
        (false, true) => [3, 4, 1, 2],
        (false, false) => [4, 3, 2, 1],
    };
    Ok(order.into_iter().find(|c| choices.contains(c)).unwrap_or(4) as usize)
}

/// Encodes `img` as `format` into memory, without provenance metadata.
pub fn encode(img: &Image, format: Format, opts: &SaveOptions, name: &Path) -> Result<Vec<u8>> {
    encode_with(img, format, opts, name, None)
}

/// Encodes `img` as `format` into memory, with `provenance` in the format's metadata slot (see
/// the module docs; formats without one drop it). `name` is used in error messages.
///
/// Long encodes check the current cancel token (`crate::cancel`) between bands of rows, so a
/// timed-out or cancelled run stops a big save and returns its error.
pub fn encode_with(
    img: &Image,
    format: Format,
    opts: &SaveOptions,
    name: &Path,
    provenance: Option<&Recipe>,
) -> Result<Vec<u8>> {
    let bits = check_save_options(format, opts)?;
    let channels = pick_channels(img, format, opts, bits)?;
    crate::cancel::checkpoint()?;
    let json = provenance.map(Recipe::to_json);
    let text = json.as_deref();
    let bytes = match format {
        Format::Png => {
            let data = if bits == 8 { pack_u8(img, channels) } else { u16_bytes_be(&pack_u16(img, channels)) };
            crate::cancel::checkpoint()?;
            meta::encode_png(&data, img.dimensions(), channels, bits, opts.compression, text, name)?
        }
        Format::Tiff => meta::encode_tiff(img, channels, bits, text, name)?,
        Format::Exr => meta::encode_exr(img, channels, text, name)?,
        Format::Jpeg => {
            let data = pack_u8(img, channels);
            crate::cancel::checkpoint()?;
            let color = if channels == 1 { image::ExtendedColorType::L8 } else { image::ExtendedColorType::Rgb8 };
            let mut buf = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, opts.quality.unwrap_or(90))
                .write_image(&data, img.width(), img.height(), color)
                .map_err(|e| Error::Encode { path: name.to_path_buf(), message: e.to_string() })?;
            match text {
                Some(t) => meta::jpeg_with_comment(&buf, t),
                None => buf,
            }
        }
        Format::Webp => {
            let data = pack_u8(img, channels);
            crate::cancel::checkpoint()?;
            meta::encode_webp(&data, img.dimensions(), channels, text, name)?
        }
        _ => encode_plain(img, format, channels, bits, name)?,
    };
    crate::cancel::checkpoint()?;
    Ok(bytes)
}

/// The formats without a metadata slot kiln writes, through the `image` crate's encoders.
fn encode_plain(img: &Image, format: Format, channels: usize, bits: u8, name: &Path) -> Result<Vec<u8>> {
    let (w, h) = img.dimensions();
    let enc_err = |e: image::ImageError| Error::Encode { path: name.to_path_buf(), message: e.to_string() };
    use image::ExtendedColorType as C;
    let color8 = [C::L8, C::La8, C::Rgb8, C::Rgba8][channels - 1];
    let color16 = [C::L16, C::La16, C::Rgb16, C::Rgba16][channels - 1];
    let mut buf = Vec::new();
    let cursor = &mut Cursor::new(&mut buf);
    match (format, bits) {
        (Format::Hdr, _) => {
            let rgb = pack_f32(img, 3, true);
            crate::cancel::checkpoint()?;
            let pixels: Vec<image::Rgb<f32>> = rgb.chunks_exact(3).map(|p| image::Rgb([p[0], p[1], p[2]])).collect();
            image::codecs::hdr::HdrEncoder::new(cursor).encode(&pixels, w as usize, h as usize)
        }
        (Format::Bmp, _) => {
            image::codecs::bmp::BmpEncoder::new(cursor).write_image(&pack_u8(img, channels), w, h, color8)
        }
        (Format::Qoi, _) => {
            image::codecs::qoi::QoiEncoder::new(cursor).write_image(&pack_u8(img, channels), w, h, color8)
        }
        (Format::Ppm, 8) => return Ok(encode_pnm8(img, 3)),
        (Format::Pgm, 8) => return Ok(encode_pnm8(img, 1)),
        (Format::Ppm, _) => return Ok(encode_pnm16(img, 3)),
        (Format::Pgm, _) => return Ok(encode_pnm16(img, 1)),
        (Format::Pam, _) => {
            use image::codecs::pnm::{PnmEncoder, PnmSubtype};
            let enc = PnmEncoder::new(cursor).with_subtype(PnmSubtype::ArbitraryMap);
            if bits == 8 {
                enc.write_image(&pack_u8(img, channels), w, h, color8)
            } else {
                enc.write_image(&u16_bytes_ne(&pack_u16(img, channels)), w, h, color16)
            }
        }
        (Format::Gif, _) => {
            let mut enc = image::codecs::gif::GifEncoder::new(cursor);
            let frame = image::RgbaImage::from_raw(w, h, pack_u8(img, 4))
                .ok_or_else(|| Error::Internal("gif frame size".into()))?;
            enc.encode_frame(image::Frame::new(frame))
        }
        (Format::Png | Format::Tiff | Format::Exr | Format::Jpeg | Format::Webp, _) => {
            return Err(Error::Internal(format!("{} has its own encoder", format.name())))
        }
    }
    .map_err(enc_err)?;
    Ok(buf)
}

// The `image` crate's encoders take 16-bit samples in native byte order; PNG stores big-endian.
fn u16_bytes_ne(v: &[u16]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_ne_bytes()).collect()
}

fn u16_bytes_be(v: &[u16]) -> Vec<u8> {
    let mut out = vec![0u8; v.len() * 2];
    out.par_chunks_mut(2 * PACK_BAND).zip(v.par_chunks(PACK_BAND)).for_each(|(d, s)| {
        for (d, s) in d.chunks_exact_mut(2).zip(s) {
            d.copy_from_slice(&s.to_be_bytes());
        }
    });
    out
}

/// Saves `img` to `path` atomically, without provenance metadata; the extension picks the format.
pub fn save(img: &Image, path: &Path, opts: &SaveOptions) -> Result<()> {
    save_with(img, path, opts, None)
}

/// Saves `img` to `path` atomically with `provenance` in the file's metadata (see
/// [`encode_with`]); the extension picks the format. A failed or cancelled encode writes nothing.
pub fn save_with(img: &Image, path: &Path, opts: &SaveOptions, provenance: Option<&Recipe>) -> Result<()> {
    let format = Format::from_path(path)?;
    let bytes = encode_with(img, format, opts, path, provenance)?;
    write_atomic(path, &bytes)
}

/// The recipe stored in the image file at `path` by [`save_with`] (any format kiln writes
/// metadata into), `None` when the file holds none. A file that cannot be read, is no image, or
/// holds a damaged recipe is an error.
pub fn read_provenance(path: &Path) -> Result<Option<Recipe>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    provenance_of(&bytes, path)
}

/// [`read_provenance`] of an in-memory file; `name` is used in messages and as a format hint.
pub fn provenance_of(bytes: &[u8], name: &Path) -> Result<Option<Recipe>> {
    meta::read(bytes, name)
}

/// Writes `bytes` to a temp file beside `path`, then renames it over `path`.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = stage(path, bytes)?;
    tmp.persist(path).map_err(|e| Error::io(path, e.error))?;
    Ok(())
}

/// Writes a set of files all or none: each to a temp file beside its target first, then all
/// renamed; a rename that fails (a folder in the way, a full disk) removes the files already
/// renamed, and dropping the temp files not yet renamed removes them. (Files a rename replaced
/// cannot be restored.) Used for PBR sets, whose maps are only useful together.
pub fn write_all_or_none(files: &[(PathBuf, Vec<u8>)]) -> Result<()> {
    let mut staged = Vec::with_capacity(files.len());
    for (path, bytes) in files {
        staged.push((path, stage(path, bytes)?));
    }
    crate::cancel::checkpoint()?;
    let mut done: Vec<&PathBuf> = Vec::with_capacity(staged.len());
    for (path, tmp) in staged {
        if let Err(e) = tmp.persist(path) {
            for p in done {
                let _ = std::fs::remove_file(p);
            }
            return Err(Error::io(path.as_path(), e.error));
        }
        done.push(path);
    }
    Ok(())
}

/// Writes `bytes` to a temp file beside `path`, to be renamed over it with `persist` (a file
/// set is staged whole, then renamed; a temp file dropped unrenamed is removed).
fn stage(path: &Path, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
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
    Ok(tmp)
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
    use image::codecs::png::PngEncoder;

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
    fn a_cancelled_run_stops_a_png_decode() {
        let bytes = encode(&gradient(), Format::Png, &SaveOptions::default(), Path::new("t.png")).unwrap();
        let stop = crate::cancel::Stopper::never();
        stop.cancel();
        let result = crate::cancel::scope(stop, || decode(&bytes, Path::new("t.png")));
        assert!(matches!(result, Err(Error::Cancelled(_))), "{:?}", result.map(|i| i.dimensions()));
        assert!(decode(&bytes, Path::new("t.png")).is_ok(), "outside the run it decodes");
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

    /// A real file of `ext` written by kiln's encoder.
    fn file(ext: &str) -> Vec<u8> {
        let name = format!("t.{ext}");
        let path = Path::new(&name);
        encode(&gradient(), Format::from_path(path).unwrap(), &SaveOptions::default(), path).unwrap()
    }

    /// Offset of the first occurrence of `needle`.
    fn find(hay: &[u8], needle: &[u8]) -> usize {
        hay.windows(needle.len()).position(|w| w == needle).unwrap()
    }

    /// A baseline RGB TIFF whose PhotometricInterpretation tag says YCbCr; without its
    /// SampleFormat tag (`keep_sample_format` false) the decoder reports the colour type as a
    /// bit count.
    fn ycbcr_tiff(keep_sample_format: bool) -> Vec<u8> {
        let img = pack_u8(&gradient(), 3);
        let mut bytes = Vec::new();
        image::codecs::tiff::TiffEncoder::new(Cursor::new(&mut bytes))
            .write_image(&img, 17, 9, image::ExtendedColorType::Rgb8)
            .unwrap();
        assert_eq!(&bytes[..2], b"II");
        let ifd = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        let count = u16::from_le_bytes([bytes[ifd], bytes[ifd + 1]]) as usize;
        let entry = |bytes: &[u8], tag: u16| {
            (0..count).map(|i| ifd + 2 + 12 * i).find(|&e| bytes[e..e + 2] == tag.to_le_bytes())
        };
        let photometric = entry(&bytes, 262).unwrap();
        bytes[photometric + 8..photometric + 10].copy_from_slice(&6u16.to_le_bytes());
        if !keep_sample_format {
            // Renamed to a private tag nobody reads.
            let sample_format = entry(&bytes, 339).unwrap();
            bytes[sample_format..sample_format + 2].copy_from_slice(&65000u16.to_le_bytes());
        }
        bytes
    }

    /// CRC-32 as PNG chunks use it.
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }

    /// The message of decoding `bytes` as `name`.
    fn message(bytes: &[u8], name: &str) -> (String, Error) {
        let err = decode(bytes, Path::new(name)).expect_err(name);
        (err.to_string(), err)
    }

    fn assert_plain(msg: &str, name: &str) {
        assert!(msg.contains(name), "{msg}");
        for bad in ["Some(", "ChunkType {", "Unknown(", "{ ", "None", "Ok(", "Err(", "set_limits"] {
            assert!(!msg.contains(bad), "{bad:?} in {msg}");
        }
    }

    #[test]
    fn decoder_errors_name_the_file_in_plain_words() {
        // A flipped byte inside the image data: the chunk's checksum no longer matches.
        let mut png = file("png");
        let idat = find(&png, b"IDAT") + 8;
        png[idat] ^= 0x55;
        let (msg, _) = message(&png, "chelsea.png");
        assert_plain(&msg, "chelsea.png");
        assert!(msg.contains("the PNG data is corrupt (bad IDAT chunk)"), "{msg}");

        let png = file("png");
        let (msg, _) = message(&png[..png.len() * 2 / 3], "cut.png");
        assert_plain(&msg, "cut.png");

        // No YCbCrSubSampling tag means 2x2 subsampling, which kiln reads only from JPEG TIFFs.
        for (keep, name) in [(false, "x.tif"), (true, "y.tif")] {
            let (msg, _) = message(&ycbcr_tiff(keep), name);
            assert_plain(&msg, name);
            assert!(
                msg.contains(&format!("{name}: cannot decode: this YCbCr TIFF stores its colour subsampled")),
                "{msg}"
            );
        }

        for ext in ["jpg", "webp", "tif", "bmp", "qoi", "gif", "exr", "hdr", "ppm", "pam"] {
            let bytes = file(ext);
            let name = format!("cut.{ext}");
            let (msg, err) = message(&bytes[..bytes.len() / 2], &name);
            assert_plain(&msg, &name);
            assert!(matches!(err, Error::Decode { .. }), "{msg}");
        }
        assert_plain(&message(b"not an image at all", "x.png").0, "x.png");
        assert_plain(&message(b"not an image at all", "x.dat").0, "x.dat");
    }

    #[test]
    fn decoder_text_loses_its_debug_dumps() {
        let cases = [
            (
                "CRC error: expected 0x1 have 0x2 while decoding ChunkType { type: IDAT, critical: true, private: false, reserved: false, safecopy: false } chunk.",
                "CRC error: expected 0x1 have 0x2 while decoding IDAT chunk",
            ),
            ("The decoder for Tiff does not support the color type `Unknown(24)`", "the decoder for Tiff does not support the color type `24`"),
            (
                "Image width 20000 greater than width limit 16384. If use `set_limits` if you want to support huge images",
                "image width 20000 greater than width limit 16384",
            ),
            ("value Some(3), found None", "value 3, found none"),
            ("Invalid color type YCbCr(8)", "invalid color type YCbCr 8"),
        ];
        for (raw, want) in cases {
            assert_eq!(plain(raw), want);
        }
    }

    #[test]
    fn oversized_headers_are_limit_errors_naming_the_file() {
        let over = limits::max_pixels();
        // GIF: the logical screen is 65535 x 65535.
        let mut gif = file("gif");
        gif[6..10].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        // and so is its first frame
        let desc = find(&gif, &[0x2c, 0, 0, 0, 0]);
        gif[desc + 5..desc + 9].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        let ppm = b"P6\n40000 40000\n255\n\x00\x00\x00".to_vec();
        let hdr = b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 40000 +X 40000\n\x00\x00\x00\x00".to_vec();
        let mut jpg = file("jpg");
        let sof = find(&jpg, &[0xff, 0xc0]);
        jpg[sof + 5..sof + 9].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
        // WebP (lossless): 14-bit width-1 and height-1 right after the 0x2f signature.
        let mut webp = file("webp");
        let vp8l = find(&webp, b"VP8L") + 8;
        assert_eq!(webp[vp8l], 0x2f);
        let bits = u32::from_le_bytes(webp[vp8l + 1..vp8l + 5].try_into().unwrap());
        let bits = (bits & !0x0fff_ffff) | 16383 | (16383 << 14);
        webp[vp8l + 1..vp8l + 5].copy_from_slice(&bits.to_le_bytes());
        let mut png = file("png");
        png[16..24].copy_from_slice(&[0, 0, 0xff, 0xff, 0, 0, 0xff, 0xff]);
        let crc = crc32(&png[12..29]);
        png[29..33].copy_from_slice(&crc.to_be_bytes());
        for (name, bytes) in [("big.gif", gif), ("big.ppm", ppm), ("big.hdr", hdr), ("big.jpg", jpg), ("big.png", png)]
        {
            let (msg, err) = message(&bytes, name);
            assert_plain(&msg, name);
            assert!(matches!(err, Error::Limit(_)), "{msg}");
            assert!(msg.contains(&format!("{name}: the image")), "{msg}");
            assert!(msg.contains(&format!("larger than kiln's limit of {over} pixels (--max-pixels)")), "{msg}");
        }
        // 16384 x 16384 is within the limit, but the data behind the header is not there.
        let (msg, _) = message(&webp, "big.webp");
        assert_plain(&msg, "big.webp");
        assert!(msg.contains("16384"), "{msg}");
    }

    /// A 1-bit greyscale PNG of `w`×`h`, all black.
    fn one_bit_png(w: u32, h: u32) -> Vec<u8> {
        let mut bytes = Vec::new();
        let mut enc = png::Encoder::new(&mut bytes, w, h);
        enc.set_color(png::ColorType::Grayscale);
        enc.set_depth(png::BitDepth::One);
        let mut writer = enc.write_header().unwrap();
        let mut stream = writer.stream_writer().unwrap();
        let row = vec![0u8; w.div_ceil(8) as usize];
        for _ in 0..h {
            stream.write_all(&row).unwrap();
        }
        stream.finish().unwrap();
        drop(writer);
        bytes
    }

    #[test]
    fn decodes_are_checked_against_the_memory_budget_before_they_allocate() {
        let budget: &'static Accountant = Box::leak(Box::new(Accountant::new()));
        budget.set_budget(1 << 30);
        let huge = one_bit_png(16384, 16384);
        assert!(huge.len() < 100_000, "{} bytes", huge.len());
        let start = std::time::Instant::now();
        let err = decode_in(&huge, Path::new("huge.png"), budget).unwrap_err();
        assert!(start.elapsed() < std::time::Duration::from_secs(1), "refused late: {:?}", start.elapsed());
        assert!(matches!(err, Error::Limit(_)), "{err}");
        // 4 GiB of RGBA f32 and 256 MiB of rows expanded to 8 bits.
        assert!(
            err.to_string().ends_with(
                "decoding huge.png (16384×16384) needs 4.2 GiB but the memory budget is 1 GiB; raise it with --max-memory"
            ),
            "{err}"
        );
        // The image crate's path (BMP here) checks the same way.
        let mut bmp = file("bmp");
        bmp[18..26].copy_from_slice(&[0, 0x40, 0, 0, 0, 0x40, 0, 0]); // 16384 x 16384
        let err = decode_in(&bmp, Path::new("huge.bmp"), budget).unwrap_err().to_string();
        assert!(err.contains("decoding huge.bmp (16384×16384) needs 5 GiB but"), "{err}");
        // What fits decodes, and every byte reserved for it is given back.
        for ext in ["png", "bmp", "tif", "gif", "jpg"] {
            let name = format!("t.{ext}");
            let img = decode_in(&file(ext), Path::new(&name), budget).unwrap();
            assert_eq!(img.dimensions(), (17, 9));
            assert_eq!(budget.in_use(), 0, "{name}");
        }
        assert_eq!(budget.in_use(), 0);
    }

    #[test]
    fn rle_expansion_follows_pillow() {
        use lenient::rle_expand;
        // RLE8: a run, end of row, a delta (right 1, up 0), absolute mode with padding, end.
        let data = [3, 7, 0, 0, 0, 2, 1, 0, 0, 3, 4, 5, 6, 0, 0, 1];
        assert_eq!(rle_expand(&data, 4, 2, false).unwrap(), [7, 7, 7, 0, 0, 4, 5, 6]);
        // RLE4: a run alternates the two nibbles; absolute mode packs two per byte.
        let data = [5, 0x12, 0, 3, 0xab, 0xc0, 0, 1];
        // (The run of 5 is clipped at the row's end.)
        assert_eq!(rle_expand(&data, 4, 2, true).unwrap(), [1, 2, 1, 2, 0xa, 0xb, 0xc, 0]);
        // An early end leaves index 0; running out of data without an end marker is truncation.
        assert_eq!(rle_expand(&[2, 9, 0, 1], 2, 2, false).unwrap(), [9, 9, 0, 0]);
        assert_eq!(rle_expand(&[2, 9], 2, 2, false), None);
    }

    #[test]
    fn ycbcr_converts_like_libtiff() {
        let full = [0.0, 255.0, 128.0, 255.0, 128.0, 255.0];
        let out = lenient::ycbcr_to_rgba(&[255, 128, 128, 0, 128, 128, 76, 85, 255], [0.299, 0.587, 0.114], &full);
        let px: Vec<[u8; 4]> = out.chunks(4).map(|p| [0, 1, 2, 3].map(|c| (p[c] * 255.0).round() as u8)).collect();
        assert_eq!(px[0], [255, 255, 255, 255]);
        assert_eq!(px[1], [0, 0, 0, 255]);
        assert!(px[2][0] >= 253 && px[2][1] <= 1 && px[2][2] <= 1, "{:?}", px[2]);
    }

    #[test]
    fn unknown_extension_and_bad_bits_are_errors() {
        assert!(matches!(Format::from_path(Path::new("a.xyz")), Err(Error::Unsupported(_))));
        let r =
            encode(&gradient(), Format::Jpeg, &SaveOptions { bits: Some(16), ..Default::default() }, Path::new("a"));
        assert!(matches!(r, Err(Error::Parameter { .. })));
    }

    fn sample_recipe() -> Recipe {
        let mut r = Recipe::new("scripts/wood.rhai", b"image(4, 4)");
        r.inputs = vec![("tex/bark.png".into(), crate::recipe::hash_bytes(b"bark"))];
        r.params = vec![("size".into(), "256".into())];
        r.models = vec![("std/materials_vae".into(), crate::recipe::hash_bytes(b"vae"))];
        r.seed = 42;
        r
    }

    fn opts(bits: Option<u8>, channels: Option<u8>) -> SaveOptions {
        SaveOptions { bits, channels, ..Default::default() }
    }

    #[test]
    fn provenance_round_trips_through_every_format_with_a_slot() {
        let recipe = sample_recipe();
        let cases: [(&str, Option<u8>); 8] = [
            ("png", None),
            ("png", Some(16)),
            ("jpg", None),
            ("webp", None),
            ("tif", None),
            ("tif", Some(16)),
            ("tif", Some(32)),
            ("exr", None),
        ];
        for (ext, bits) in cases {
            let name = format!("t.{ext}");
            let path = Path::new(&name);
            let format = Format::from_path(path).unwrap();
            let bytes = encode_with(&gradient(), format, &opts(bits, None), path, Some(&recipe)).unwrap();
            assert_eq!(provenance_of(&bytes, path).unwrap().as_ref(), Some(&recipe), "{name} {bits:?}");
            // The image still decodes, to the same size, through kiln's reader (the `image` crate
            // for all but PNG).
            assert_eq!(decode(&bytes, path).unwrap().dimensions(), (17, 9), "{name}");
            let plain = encode(&gradient(), format, &opts(bits, None), path).unwrap();
            assert_eq!(provenance_of(&plain, path).unwrap(), None, "{name} without a recipe");
            assert!(bytes.len() > plain.len(), "{name}");
        }
        // The `image` crate reads the EXR with the attribute, and the pixels are the same.
        let exr = encode_with(&gradient(), Format::Exr, &SaveOptions::default(), Path::new("t.exr"), Some(&recipe));
        let back = image::load_from_memory_with_format(&exr.unwrap(), ImageFormat::OpenExr).unwrap();
        assert_eq!((back.width(), back.height()), (17, 9));
        // Formats without a slot write the same bytes with or without a recipe.
        for ext in ["bmp", "qoi", "ppm", "hdr", "gif", "pam"] {
            let name = format!("t.{ext}");
            let path = Path::new(&name);
            let format = Format::from_path(path).unwrap();
            let with = encode_with(&gradient(), format, &SaveOptions::default(), path, Some(&recipe)).unwrap();
            assert_eq!(with, encode(&gradient(), format, &SaveOptions::default(), path).unwrap(), "{name}");
            assert_eq!(provenance_of(&with, path).unwrap(), None, "{name}");
        }
    }

    #[test]
    fn a_damaged_recipe_is_an_error_naming_the_file() {
        let bytes =
            encode_with(&gradient(), Format::Png, &SaveOptions::default(), Path::new("t.png"), Some(&sample_recipe()))
                .unwrap();
        // Break the JSON inside the iTXt chunk (and mend the chunk's CRC so only the JSON is wrong).
        let at = find(&bytes, b"iTXt");
        let len = u32::from_be_bytes(bytes[at - 4..at].try_into().unwrap()) as usize;
        let mut bad = bytes.clone();
        let json = find(&bad, b"{\"kiln_version\"");
        bad[json] = b'[';
        let crc = crc32(&bad[at..at + 4 + len]);
        bad[at + 4 + len..at + 8 + len].copy_from_slice(&crc.to_be_bytes());
        let err = provenance_of(&bad, Path::new("broken.png")).unwrap_err().to_string();
        assert!(err.starts_with("broken.png") && err.contains("the kiln recipe is not valid"), "{err}");
        assert!(provenance_of(b"not an image", Path::new("x.dat")).is_err());
    }

    /// PNG colour type and bit depth from the IHDR chunk.
    fn png_layout(png: &[u8]) -> (u8, u8) {
        (png[25], png[24])
    }

    #[test]
    fn save_picks_the_smallest_layout_that_loses_nothing() {
        // An opaque 16-bit grey height map: L16, and far smaller than the RGBA of before.
        // (Noisy, as a real height map is: a smooth ramp compresses well in any layout.)
        let height = Image::from_fn(256, 256, |x, y| {
            let noise = ((x * 7919 + y * 104_729) % 1021) as f32 / 1021.0;
            let v = ((x as f32 * 0.05).sin() * (y as f32 * 0.07).cos() + 1.0) / 2.0 * 0.9 + noise * 0.1;
            [v, v, v, 1.0]
        })
        .unwrap();
        let path = Path::new("h.png");
        let l16 = encode(&height, Format::Png, &opts(Some(16), None), path).unwrap();
        let rgba16 = encode(&height, Format::Png, &opts(Some(16), Some(4)), path).unwrap();
        assert_eq!(png_layout(&l16), (0, 16));
        assert_eq!(png_layout(&rgba16), (6, 16));
        // A quarter of the samples; deflate already squeezes repeated samples, so the file is
        // about 40% smaller (measured 117 KB against 186 KB here).
        assert!(l16.len() * 3 < rgba16.len() * 2, "{} vs {}", l16.len(), rgba16.len());
        // An independent decoder sees one 16-bit channel, and the values come back.
        match image::load_from_memory(&l16).unwrap() {
            DynamicImage::ImageLuma16(_) => {}
            other => panic!("expected L16, got {:?}", other.color()),
        }
        let back = decode(&l16, path).unwrap();
        for (a, b) in height.pixels().iter().zip(back.pixels()) {
            assert!((a - b).abs() <= 0.5 / 65535.0 + 1e-7, "{a} vs {b}");
        }
        assert_eq!(decode(&rgba16, path).unwrap(), back);

        // Grey with alpha is LA, opaque colour RGB, the rest RGBA.
        let grey_alpha = Image::from_fn(8, 8, |x, _| [0.5, 0.5, 0.5, x as f32 / 7.0]).unwrap();
        let colour = Image::from_fn(8, 8, |x, y| [x as f32 / 7.0, y as f32 / 7.0, 0.2, 1.0]).unwrap();
        let png = |img: &Image, o: SaveOptions| png_layout(&encode(img, Format::Png, &o, path).unwrap());
        assert_eq!(png(&grey_alpha, opts(None, None)), (4, 8));
        assert_eq!(png(&colour, opts(None, None)), (2, 8));
        assert_eq!(png(&gradient(), opts(None, None)), (6, 8));
        assert_eq!(png(&colour, opts(None, Some(1))), (0, 8));
        // Values the file cannot tell apart count as equal: 1e-4 off grey is still grey at 8 bits.
        let nearly = Image::from_fn(8, 8, |x, _| [x as f32 / 7.0, x as f32 / 7.0 + 1e-4, x as f32 / 7.0, 1.0]).unwrap();
        assert_eq!(png(&nearly, opts(None, None)), (0, 8));
        assert_eq!(png(&nearly, opts(Some(16), None)), (2, 16));

        // Asked for one channel, colour becomes the Pillow luma.
        let one = decode(&encode(&colour, Format::Png, &opts(None, Some(1)), path).unwrap(), path).unwrap();
        for (a, b) in colour.pixels().chunks(4).zip(one.pixels().chunks(4)) {
            let l = luma([a[0], a[1], a[2], a[3]]);
            assert!((l - b[0]).abs() <= 0.5 / 255.0 + 1e-6 && b[0] == b[1] && b[1] == b[2]);
        }

        // Grey JPEG is one component; grey WebP and EXR stay RGB, which they hold.
        let jpg = encode(&height, Format::Jpeg, &SaveOptions::default(), Path::new("h.jpg")).unwrap();
        assert_eq!(image::load_from_memory(&jpg).unwrap().color(), image::ColorType::L8);
        let webp = encode(&height, Format::Webp, &SaveOptions::default(), Path::new("h.webp")).unwrap();
        assert_eq!(image::load_from_memory(&webp).unwrap().color(), image::ColorType::Rgb8);
        let tif = encode(&height, Format::Tiff, &opts(Some(16), None), Path::new("h.tif")).unwrap();
        assert_eq!(image::load_from_memory(&tif).unwrap().color(), image::ColorType::L16);
        let exr = encode(&colour, Format::Exr, &SaveOptions::default(), Path::new("c.exr")).unwrap();
        assert_eq!(image::load_from_memory(&exr).unwrap().color(), image::ColorType::Rgb32F);

        // A layout the format cannot hold, asked for, is an error that lists what it holds.
        let err = encode(&colour, Format::Jpeg, &opts(None, Some(4)), Path::new("c.jpg")).unwrap_err().to_string();
        assert_eq!(err, "save: JPEG cannot be written with 4 channels (it holds 1 or 3)");
        let err = encode(&colour, Format::Webp, &opts(None, Some(1)), Path::new("c.webp")).unwrap_err().to_string();
        assert_eq!(err, "save: WebP cannot be written with 1 channel (it holds 3 or 4)");
    }

    #[test]
    fn a_cancelled_run_stops_every_encoder_and_writes_no_file() {
        let img = gradient();
        let stop = crate::cancel::Stopper::never();
        stop.cancel();
        for ext in ["png", "jpg", "webp", "tif", "exr", "bmp", "qoi", "ppm", "pgm", "pam", "hdr", "gif"] {
            let name = format!("t.{ext}");
            let path = Path::new(&name);
            let format = Format::from_path(path).unwrap();
            let result = crate::cancel::scope(stop.clone(), || {
                encode_with(&img, format, &SaveOptions::default(), path, Some(&sample_recipe()))
            });
            assert!(matches!(result, Err(Error::Cancelled(_))), "{name}: {:?}", result.map(|b| b.len()));
        }
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("big.png");
        let result = crate::cancel::scope(stop, || save_with(&img, &target, &SaveOptions::default(), None));
        assert!(matches!(result, Err(Error::Cancelled(_))));
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "no file and no temp file left");
        // The PNG compressor itself checks between its bands of rows (not only the steps around
        // it): handed packed rows under a stopped token, it stops.
        let big = Image::filled(512, 512, crate::image::Color::rgb(0.3, 0.6, 0.9)).unwrap();
        let rows = pack_u8(&big, 3);
        let done = crate::cancel::scope(crate::cancel::Stopper::never(), || {
            meta::encode_png(&rows, (512, 512), 3, 8, Compression::Fast, None, Path::new("t.png"))
        });
        assert!(done.is_ok());
        let stopped = crate::cancel::Stopper::new(
            std::sync::Arc::default(),
            std::time::Instant::now() - std::time::Duration::from_secs(2),
            Some(std::time::Duration::from_secs(1)),
        );
        let result = crate::cancel::scope(stopped, || {
            meta::encode_png(&rows, (512, 512), 3, 8, Compression::Fast, None, Path::new("t.png"))
        });
        assert!(matches!(result, Err(Error::TimedOut(_))), "{:?}", result.map(|b| b.len()));
    }

    #[test]
    fn save_options_read_from_pairs() {
        use crate::options::{OptionSet, OptionValue};
        let read = |pairs: &[(&str, OptionValue)]| SaveOptions::from_pairs(pairs.iter().map(|(k, v)| (*k, v)));
        assert_eq!(
            read(&[]).unwrap(),
            SaveOptions { bits: None, quality: None, compression: Compression::Default, channels: None }
        );
        let o = read(&[("bits", OptionValue::Float(16.0)), ("compression", OptionValue::Text("best".into()))]).unwrap();
        assert_eq!((o.bits, o.compression), (Some(16), Compression::Best));
        let msg = |pairs: &[(&str, OptionValue)]| read(pairs).unwrap_err().to_string();
        assert_eq!(msg(&[("quality", OptionValue::Int(0))]), "save: option 'quality' must be between 1 and 100, got 0");
        assert_eq!(
            msg(&[("bitz", OptionValue::Int(8))]),
            "save: unknown option 'bitz' (did you mean 'bits'?); valid options are: bits, channels, compression, quality"
        );
    }
}
