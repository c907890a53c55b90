//! The formats that carry kiln's provenance recipe, written and read back: part of `io`, the only
//! codec-aware room. Each file holds the recipe JSON (`crate::recipe`) in the slot its format
//! has for text:
//!
//! - PNG: an uncompressed `iTXt` chunk with the keyword `kiln`, before the image data (Pillow's
//!   `im.text["kiln"]`). Written with the `png` crate's encoder, which `image` wraps but without
//!   text chunks; rows go to its stream writer in bands, with a cancel check between bands.
//! - TIFF: the `ImageDescription` tag, written with the `tiff` crate's encoder (which `image`
//!   wraps without tags) strip by strip, with a cancel check between strips. RGBA files also get
//!   `ExtraSamples` = 2 (unassociated alpha), so every reader takes the alpha as straight.
//! - OpenEXR: a header attribute `kiln` of type text, written with the `exr` crate (which
//!   `image` wraps without attributes), as `image` writes: RGB or RGBA f32, its default
//!   compression.
//! - WebP: an XMP packet (`XMP ` chunk and the VP8X flag) with the element `kiln:recipe`, written
//!   by the `image-webp` encoder `image` wraps (`set_xmp_metadata`, which `image` does not pass
//!   on). The packet is hand-written: one element with XML-escaped text; no XML crate for that.
//! - JPEG: a comment (COM) segment holding the JSON, inserted into the `image` crate's output
//!   after the JFIF APP0 segment (JFIF wants APP0 first). Why a byte edit: `image`'s JPEG encoder
//!   writes no comments, and a COM segment is only a marker, a length and the bytes. A recipe
//!   over 65533 bytes is split over consecutive COM segments and joined on reading. Pillow shows
//!   it as `im.info["comment"]`.
//! - BMP, QOI, PNM, HDR and GIF (animated ones too) are written without it: kiln writes no
//!   metadata into them, and [`read`] finds none.
//!
//! Reading finds the recipe in the same slot. Slots other tools fill too (a TIFF description, a
//! JPEG comment) count only when they start like a recipe; a damaged recipe in a slot that is
//! kiln's own is an error naming the file.

use std::io::{Cursor, Write};
use std::path::Path;

use image::ImageFormat;

use super::{pack_f32, pack_u16, pack_u8, Compression};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::recipe::Recipe;

/// The PNG text keyword, EXR attribute name and XMP element that hold the recipe.
const KEY: &str = "kiln";

/// Bytes of packed rows handed to the PNG compressor between two cancel checks.
const PNG_BAND_BYTES: usize = 1 << 20;

fn encode_error(name: &Path, message: impl std::fmt::Display) -> Error {
    Error::Encode { path: name.to_path_buf(), message: super::plain(&message.to_string()) }
}

/// A PNG of packed rows `data` (`channels` samples of `bits`, big-endian for 16) with the
/// recipe `text` as an `iTXt` chunk.
pub(super) fn encode_png(
    data: &[u8],
    (w, h): (u32, u32),
    channels: usize,
    bits: u8,
    compression: Compression,
    text: Option<&str>,
    name: &Path,
) -> Result<Vec<u8>> {
    let err = |e: png::EncodingError| encode_error(name, e);
    let mut out = Vec::new();
    let mut enc = png::Encoder::new(&mut out, w, h);
    use png::ColorType as C;
    enc.set_color([C::Grayscale, C::GrayscaleAlpha, C::Rgb, C::Rgba][channels - 1]);
    enc.set_depth(if bits == 8 { png::BitDepth::Eight } else { png::BitDepth::Sixteen });
    // The same settings as the `image` crate's encoder with kiln's choices (adaptive filters).
    enc.set_compression(match compression {
        Compression::Fast => png::Compression::Fast,
        Compression::Default => png::Compression::Balanced,
        Compression::Best => png::Compression::High,
    });
    enc.set_filter(png::Filter::Adaptive);
    if let Some(t) = text {
        enc.add_itxt_chunk(KEY.into(), t.into()).map_err(err)?;
    }
    let mut writer = enc.write_header().map_err(err)?;
    {
        let row = data.len() / h.max(1) as usize;
        let band = row * (PNG_BAND_BYTES / row.max(1)).max(1);
        let mut stream = writer.stream_writer().map_err(err)?;
        for chunk in data.chunks(band.max(1)) {
            crate::cancel::checkpoint()?;
            stream.write_all(chunk).map_err(|e| encode_error(name, e))?;
        }
        stream.finish().map_err(err)?;
    }
    writer.finish().map_err(err)?;
    Ok(out)
}

/// A TIFF of `img` with `channels` samples of `bits` and the recipe as its ImageDescription.
pub(super) fn encode_tiff(img: &Image, channels: usize, bits: u8, text: Option<&str>, name: &Path) -> Result<Vec<u8>> {
    use tiff::encoder::colortype::*;
    let mut buf = Vec::new();
    let cursor = Cursor::new(&mut buf);
    let (w, h) = img.dimensions();
    let alpha = channels == 4;
    macro_rules! pack {
        ($pack:expr) => {{
            let data = $pack;
            crate::cancel::checkpoint()?;
            data
        }};
    }
    match (channels, bits) {
        (1, 8) => write_tiff::<Gray8, _>(cursor, (w, h), &pack!(pack_u8(img, 1)), alpha, text, name),
        (3, 8) => write_tiff::<RGB8, _>(cursor, (w, h), &pack!(pack_u8(img, 3)), alpha, text, name),
        (_, 8) => write_tiff::<RGBA8, _>(cursor, (w, h), &pack!(pack_u8(img, 4)), alpha, text, name),
        (1, 16) => write_tiff::<Gray16, _>(cursor, (w, h), &pack!(pack_u16(img, 1)), alpha, text, name),
        (3, 16) => write_tiff::<RGB16, _>(cursor, (w, h), &pack!(pack_u16(img, 3)), alpha, text, name),
        (_, 16) => write_tiff::<RGBA16, _>(cursor, (w, h), &pack!(pack_u16(img, 4)), alpha, text, name),
        (1, _) => write_tiff::<Gray32Float, _>(cursor, (w, h), &pack!(pack_f32(img, 1, false)), alpha, text, name),
        (3, _) => write_tiff::<RGB32Float, _>(cursor, (w, h), &pack!(pack_f32(img, 3, false)), alpha, text, name),
        (_, _) => write_tiff::<RGBA32Float, _>(cursor, (w, h), &pack!(pack_f32(img, 4, false)), alpha, text, name),
    }?;
    Ok(buf)
}

fn write_tiff<C, W>(
    out: W,
    (w, h): (u32, u32),
    data: &[C::Inner],
    alpha: bool,
    text: Option<&str>,
    name: &Path,
) -> Result<()>
where
    C: tiff::encoder::colortype::ColorType,
    W: Write + std::io::Seek,
    [C::Inner]: tiff::encoder::TiffValue,
{
    use tiff::tags::Tag;
    let err = |e: tiff::TiffError| encode_error(name, e);
    let mut enc = tiff::encoder::TiffEncoder::new(out).map_err(err)?;
    let mut image = enc.new_image::<C>(w, h).map_err(err)?;
    if let Some(t) = text {
        image.encoder().write_tag(Tag::ImageDescription, t).map_err(err)?;
    }
    if alpha {
        // The colour type's fourth sample is the alpha: say it is straight (unassociated).
        image.encoder().write_tag(Tag::ExtraSamples, 2u16).map_err(err)?;
    }
    let mut at = 0usize;
    loop {
        let n = image.next_strip_sample_count() as usize;
        if n == 0 {
            break;
        }
        crate::cancel::checkpoint()?;
        let strip = data.get(at..at + n).ok_or_else(|| Error::Internal("tiff strip size".into()))?;
        image.write_strip(strip).map_err(err)?;
        at += n;
    }
    image.finish().map_err(err)
}

/// An OpenEXR of `img` (RGB or RGBA f32, scene-linear) with the recipe as the `kiln` attribute.
pub(super) fn encode_exr(img: &Image, channels: usize, text: Option<&str>, name: &Path) -> Result<Vec<u8>> {
    use exr::prelude::{AttributeValue, Image as ExrImage, SpecificChannels, Text, Vec2, WritableImage};
    let err = |e: exr::error::Error| encode_error(name, e);
    let data = pack_f32(img, channels, true);
    crate::cancel::checkpoint()?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    let attribute = match text {
        Some(t) => Some((
            Text::new_or_none(KEY).ok_or_else(|| Error::Internal("exr key".into()))?,
            AttributeValue::Text(
                Text::new_or_none(t).ok_or_else(|| Error::Internal("the recipe JSON is not ASCII".into()))?,
            ),
        )),
        None => None,
    };
    let mut buf = Vec::new();
    let cursor = &mut Cursor::new(&mut buf);
    let at = move |p: Vec2<usize>| (p.1 * w + p.0) * channels;
    if channels == 3 {
        let mut image = ExrImage::from_channels(
            (w, h),
            SpecificChannels::rgb(|p: Vec2<usize>| {
                let i = at(p);
                (data[i], data[i + 1], data[i + 2])
            }),
        );
        image.attributes.other.extend(attribute);
        image.write().to_buffered(cursor).map_err(err)?;
    } else {
        let mut image = ExrImage::from_channels(
            (w, h),
            SpecificChannels::rgba(|p: Vec2<usize>| {
                let i = at(p);
                (data[i], data[i + 1], data[i + 2], data[i + 3])
            }),
        );
        image.attributes.other.extend(attribute);
        image.write().to_buffered(cursor).map_err(err)?;
    }
    Ok(buf)
}

/// A lossless WebP of packed 8-bit `data` (3 or 4 samples) with the recipe in an XMP packet.
pub(super) fn encode_webp(
    data: &[u8],
    (w, h): (u32, u32),
    channels: usize,
    text: Option<&str>,
    name: &Path,
) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    let mut enc = image_webp::WebPEncoder::new(&mut buf);
    if let Some(t) = text {
        enc.set_xmp_metadata(xmp_packet(t).into_bytes());
    }
    let color = if channels == 3 { image_webp::ColorType::Rgb8 } else { image_webp::ColorType::Rgba8 };
    enc.encode(data, w, h, color).map_err(|e| encode_error(name, e))?;
    Ok(buf)
}

/// The XMP namespace of the `kiln:recipe` element.
const XMP_NS: &str = "urn:kiln:provenance:1";

/// A minimal XMP packet holding `json` as the text of `kiln:recipe`.
fn xmp_packet(json: &str) -> String {
    let escaped = json.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\
         <rdf:Description rdf:about=\"\" xmlns:kiln=\"{XMP_NS}\"><kiln:recipe>{escaped}</kiln:recipe>\
         </rdf:Description></rdf:RDF></x:xmpmeta>"
    )
}

/// The text of the `kiln:recipe` element of an XMP packet, unescaped.
fn xmp_recipe(xmp: &str) -> Option<String> {
    let open = "<kiln:recipe>";
    let start = xmp.find(open)? + open.len();
    let end = start + xmp[start..].find("</kiln:recipe>")?;
    let text = &xmp[start..end];
    Some(
        text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// `jpeg` with `text` in COM segments after SOI (and after the JFIF APP0 segment if present).
pub(super) fn jpeg_with_comment(jpeg: &[u8], text: &str) -> Vec<u8> {
    let mut at = 2.min(jpeg.len());
    if jpeg.get(2..4) == Some(&[0xff, 0xe0]) {
        if let Some(len) = jpeg.get(4..6).map(|l| u16::from_be_bytes([l[0], l[1]]) as usize) {
            at = (4 + len).min(jpeg.len());
        }
    }
    let mut out = Vec::with_capacity(jpeg.len() + text.len() + 16);
    out.extend_from_slice(&jpeg[..at]);
    // A segment's length counts its own two bytes: 65535 at most.
    for part in text.as_bytes().chunks(65533) {
        out.extend_from_slice(&[0xff, 0xfe]);
        out.extend_from_slice(&((part.len() + 2) as u16).to_be_bytes());
        out.extend_from_slice(part);
    }
    out.extend_from_slice(&jpeg[at..]);
    out
}

/// The payloads of a JPEG's COM segments before its image data, in order.
fn jpeg_comments(jpeg: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    if !jpeg.starts_with(&[0xff, 0xd8]) {
        return out;
    }
    let mut at = 2;
    while at + 4 <= jpeg.len() && jpeg[at] == 0xff {
        let marker = jpeg[at + 1];
        match marker {
            // Fill bytes before a marker.
            0xff => {
                at += 1;
                continue;
            }
            // Markers without a length.
            0x01 | 0xd0..=0xd8 => {
                at += 2;
                continue;
            }
            // Start of scan or end of image: no more header segments.
            0xda | 0xd9 => break,
            _ => {}
        }
        let len = u16::from_be_bytes([jpeg[at + 2], jpeg[at + 3]]) as usize;
        let Some(payload) = jpeg.get(at + 4..at + 2 + len.max(2)) else { break };
        if marker == 0xfe {
            out.push(payload);
        }
        at += 2 + len.max(2);
    }
    out
}

/// The recipe text of a JPEG: the first comment that starts like one, joined with the comments
/// after it for as long as it takes to make whole JSON (a long recipe spans several segments).
fn jpeg_recipe(jpeg: &[u8]) -> Option<String> {
    let comments = jpeg_comments(jpeg);
    let first = comments.iter().position(|c| Recipe::is_recipe_json(&String::from_utf8_lossy(c)))?;
    let mut text = String::new();
    for c in &comments[first..] {
        text.push_str(&String::from_utf8_lossy(c));
        if serde_json::from_str::<serde_json::Value>(&text).is_ok() {
            return Some(text);
        }
    }
    Some(String::from_utf8_lossy(comments[first]).into_owned())
}

/// The recipe text of a PNG's `kiln` text chunk (iTXt, or tEXt/zTXt written by another tool).
fn png_recipe(bytes: &[u8], name: &Path) -> Result<Option<String>> {
    let decoder = png::Decoder::new(Cursor::new(bytes));
    let reader = decoder.read_info().map_err(|e| super::png_error(e, name))?;
    let info = reader.info();
    if let Some(chunk) = info.utf8_text.iter().find(|c| c.keyword == KEY) {
        let text = chunk.get_text().map_err(|e| Error::Decode {
            path: name.to_path_buf(),
            message: format!("the kiln text chunk cannot be read ({})", super::plain(&e.to_string())),
        })?;
        return Ok(Some(text));
    }
    if let Some(chunk) = info.uncompressed_latin1_text.iter().find(|c| c.keyword == KEY) {
        return Ok(Some(chunk.text.clone()));
    }
    if let Some(chunk) = info.compressed_latin1_text.iter().find(|c| c.keyword == KEY) {
        return Ok(chunk.get_text().ok());
    }
    Ok(None)
}

/// The recipe text of a TIFF's ImageDescription, if it holds one.
fn tiff_recipe(bytes: &[u8]) -> Option<String> {
    let mut d = tiff::decoder::Decoder::new(Cursor::new(bytes)).ok()?;
    let text = d.get_tag_ascii_string(tiff::tags::Tag::ImageDescription).ok()?;
    let text = text.trim_end_matches('\0').to_string();
    Recipe::is_recipe_json(&text).then_some(text)
}

/// The recipe text of an OpenEXR header's `kiln` attribute.
fn exr_recipe(bytes: &[u8], name: &Path) -> Result<Option<String>> {
    use exr::prelude::{AttributeValue, Text};
    let meta = exr::meta::MetaData::read_from_buffered(Cursor::new(bytes), false).map_err(|e| Error::Decode {
        path: name.to_path_buf(),
        message: format!("the OpenEXR header cannot be read ({})", super::plain(&e.to_string())),
    })?;
    let Some(key) = Text::new_or_none(KEY) else { return Ok(None) };
    for header in &meta.headers {
        for other in [&header.shared_attributes.other, &header.own_attributes.other] {
            if let Some(AttributeValue::Text(t)) = other.get(&key) {
                return Ok(Some(t.to_string()));
            }
        }
    }
    Ok(None)
}

/// The recipe text of a WebP's XMP packet.
fn webp_recipe(bytes: &[u8], name: &Path) -> Result<Option<String>> {
    let bad = |e: image_webp::DecodingError| Error::Decode {
        path: name.to_path_buf(),
        message: format!("the WebP data cannot be read ({})", super::plain(&e.to_string())),
    };
    let mut d = image_webp::WebPDecoder::new(Cursor::new(bytes)).map_err(bad)?;
    let xmp = d.xmp_metadata().map_err(bad)?;
    Ok(xmp.and_then(|x| xmp_recipe(&String::from_utf8_lossy(&x))))
}

/// The recipe an image file holds, by its content (then its name's extension).
pub(super) fn read(bytes: &[u8], name: &Path) -> Result<Option<Recipe>> {
    let format = image::guess_format(bytes)
        .ok()
        .or_else(|| ImageFormat::from_path(name).ok())
        .ok_or_else(|| Error::Decode { path: name.to_path_buf(), message: "not a recognised image format".into() })?;
    let text = match format {
        ImageFormat::Png => png_recipe(bytes, name)?,
        ImageFormat::Jpeg => jpeg_recipe(bytes),
        ImageFormat::WebP => webp_recipe(bytes, name)?,
        ImageFormat::Tiff => tiff_recipe(bytes),
        ImageFormat::OpenExr => exr_recipe(bytes, name)?,
        _ => None,
    };
    text.map(|t| Recipe::from_json(&t).map_err(|message| Error::Decode { path: name.to_path_buf(), message }))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xmp_text_round_trips_through_escaping() {
        let json = r#"{"kiln_version":"0.1","script":"a<b>&c.rhai"}"#;
        let packet = xmp_packet(json);
        assert!(!packet.contains("a<b>"), "{packet}");
        assert_eq!(xmp_recipe(&packet).as_deref(), Some(json));
    }

    #[test]
    fn a_long_recipe_spans_several_jpeg_comments() {
        let jpeg = [0xff, 0xd8, 0xff, 0xe0, 0, 4, b'J', b'F', 0xff, 0xd9];
        let text = format!("{{\"kiln_version\":\"{}\"}}", "x".repeat(70_000));
        let out = jpeg_with_comment(&jpeg, &text);
        // SOI, APP0, then the comments.
        assert_eq!(&out[..8], &jpeg[..8]);
        assert_eq!(&out[8..10], &[0xff, 0xfe]);
        assert_eq!(jpeg_comments(&out).len(), 2);
        assert_eq!(jpeg_recipe(&out), Some(text));
        assert!(out.ends_with(&[0xff, 0xd9]));
    }
}
