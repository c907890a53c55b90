//! The raster [`Image`]: RGBA f32, straight alpha, sRGB-encoded values (DESIGN.md §2).
//!
//! Owns: storage, validated construction, copy-on-write access and the parallel row helpers every
//! op builds on. Must not know about fields, models, files or Rhai.
//!
//! Pixels are interleaved `[r, g, b, a]` f32 in row-major order, row 0 at the top. Values are what
//! an 8-bit file stores divided by 255 and are not clamped, so HDR values survive until saving.
//! Cloning is O(1): the pixels sit behind an `Arc` and are copied only when a clone is written.
//!
//! Every pixel buffer holds a [`Reservation`] from the process's memory accountant
//! (`crate::memory`) for as long as it lives: the constructors reserve the bytes *before* they
//! allocate, so an image over the budget is an `Error::Limit` naming `--max-memory` instead of a
//! process the kernel kills. The reservation sits inside the `Arc`'d storage, so clones share it;
//! a copy-on-write reserves anew. One mutex lock per allocation, nothing per pixel.

use std::sync::Arc;

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::color::Color;
use crate::limits;
use crate::memory::{self, Reservation};

/// Channels per pixel.
pub const CHANNELS: usize = 4;

/// An immutable-by-default RGBA f32 image with O(1) clone.
///
/// Equality compares size and pixels only: the [`Image::tileable`] tag is a hint about how to
/// treat the edges, not part of the picture.
#[derive(Clone)]
pub struct Image {
    width: u32,
    height: u32,
    data: Arc<Storage>,
    /// The image tiles seamlessly: its neighbourhood ops wrap by default (see `ops::edge`).
    tileable: bool,
}

impl PartialEq for Image {
    fn eq(&self, other: &Image) -> bool {
        self.width == other.width && self.height == other.height && self.data == other.data
    }
}

/// The pixels and the memory they hold against the budget.
struct Storage {
    pixels: Vec<f32>,
    /// `None` only for a copy-on-write copy made while the budget was full: writing a shared
    /// image cannot fail, so that copy goes unaccounted rather than aborting the op.
    _held: Option<Reservation>,
}

impl Storage {
    /// Wraps `pixels`, already reserved by `held`.
    fn new(pixels: Vec<f32>, held: Reservation) -> Storage {
        Storage { pixels, _held: Some(held) }
    }
}

impl Clone for Storage {
    /// A copy-on-write copy: reserves its own bytes (best effort, see `_held`).
    fn clone(&self) -> Storage {
        let held = memory::reserve(bytes_of(self.pixels.len()), "a copy of an image").ok();
        Storage { pixels: self.pixels.clone(), _held: held }
    }
}

impl PartialEq for Storage {
    fn eq(&self, other: &Storage) -> bool {
        self.pixels == other.pixels
    }
}

/// Bytes of `len` f32 values.
fn bytes_of(len: usize) -> u64 {
    len as u64 * std::mem::size_of::<f32>() as u64
}

/// Reserves the pixel bytes of a `w` × `h` image from the memory budget.
fn reserve_pixels(w: u32, h: u32) -> Result<Reservation> {
    let len = w as usize * h as usize * CHANNELS;
    memory::reserve(bytes_of(len), &format!("a {w}x{h} image"))
}

impl std::fmt::Debug for Image {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Image({}x{})", self.width, self.height)
    }
}

/// Checks a requested size against the limits before anything is allocated.
pub fn check_size(width: i64, height: i64) -> Result<(u32, u32)> {
    if width <= 0 || height <= 0 {
        return Err(Error::param("image", format!("size must be at least 1x1, got {width}x{height}")));
    }
    let max_dim = limits::MAX_DIMENSION as i64;
    let pixels = (width as u128) * (height as u128);
    if width > max_dim || height > max_dim || pixels > limits::max_pixels() as u128 {
        return Err(Error::Limit(format!(
            "image of {width}x{height} ({pixels} pixels) is over the limit of {} pixels",
            limits::max_pixels()
        )));
    }
    Ok((width as u32, height as u32))
}

impl Image {
    /// A transparent black image. Errors on a zero size or one over [`limits::max_pixels`].
    pub fn new(width: u32, height: u32) -> Result<Image> {
        Image::filled(width, height, Color::TRANSPARENT)
    }

    /// An image filled with one colour.
    pub fn filled(width: u32, height: u32, color: Color) -> Result<Image> {
        let (w, h) = check_size(width as i64, height as i64)?;
        let px = color.to_array();
        let len = w as usize * h as usize * CHANNELS;
        let held = reserve_pixels(w, h)?;
        if px == [0.0; 4] {
            // calloc: the pages are faulted in later by whoever writes them, in parallel.
            return Ok(Image {
                width: w,
                height: h,
                data: Arc::new(Storage::new(vec![0.0; len], held)),
                tileable: false,
            });
        }
        let mut probe: Vec<f32> = Vec::new();
        probe.try_reserve_exact(len).map_err(|_| Error::Limit(format!("out of memory for a {w}x{h} image")))?;
        drop(probe);
        // calloc'd, then filled in parallel by copies of one filled chunk: the pages are touched
        // once, by many threads (a 16384² image is 4 GiB).
        let mut data = vec![0.0; len];
        let template = px.repeat(4096);
        data.par_chunks_mut(template.len()).for_each(|chunk| chunk.copy_from_slice(&template[..chunk.len()]));
        Ok(Image { width: w, height: h, data: Arc::new(Storage::new(data, held)), tileable: false })
    }

    /// Wraps interleaved RGBA f32 pixels. `data.len()` must be `width * height * 4`.
    pub fn from_rgba(width: u32, height: u32, data: Vec<f32>) -> Result<Image> {
        let (w, h) = check_size(width as i64, height as i64)?;
        if data.len() != w as usize * h as usize * CHANNELS {
            return Err(Error::param("image", format!("{} values do not make a {w}x{h} RGBA image", data.len())));
        }
        let held = reserve_pixels(w, h)?;
        Ok(Image { width: w, height: h, data: Arc::new(Storage::new(data, held)), tileable: false })
    }

    /// Builds an image from a function of the pixel position, evaluated in parallel over rows.
    pub fn from_fn<F>(width: u32, height: u32, f: F) -> Result<Image>
    where
        F: Fn(u32, u32) -> [f32; 4] + Sync,
    {
        let mut img = Image::new(width, height)?;
        img.rows_mut().enumerate().for_each(|(y, row)| {
            for (x, px) in row.chunks_exact_mut(CHANNELS).enumerate() {
                px.copy_from_slice(&f(x as u32, y as u32));
            }
        });
        Ok(img)
    }

    /// True when the image tiles seamlessly (set by a tileable field's render, kept by per-pixel
    /// ops and wrapping filters); neighbourhood ops then wrap by default (`ops::edge::resolve`).
    pub fn tileable(&self) -> bool {
        self.tileable
    }

    /// The same pixels (shared, O(1)) with the tileable tag set to `tileable`.
    pub fn with_tileable(&self, tileable: bool) -> Image {
        Image { tileable, ..self.clone() }
    }

    /// Sets the tileable tag in place.
    pub fn set_tileable(&mut self, tileable: bool) {
        self.tileable = tileable;
    }

    /// Width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// `(width, height)`.
    pub fn dimensions(&self) -> (u32, u32) {
        (self.width, self.height)
    }

    /// Number of pixels.
    pub fn pixel_count(&self) -> usize {
        self.width as usize * self.height as usize
    }

    /// Floats per row (`width * 4`).
    pub fn stride(&self) -> usize {
        self.width as usize * CHANNELS
    }

    /// All pixels, interleaved RGBA.
    pub fn pixels(&self) -> &[f32] {
        &self.data.pixels
    }

    /// All pixels for writing; copies them first if another clone shares them.
    pub fn pixels_mut(&mut self) -> &mut [f32] {
        Arc::make_mut(&mut self.data).pixels.as_mut_slice()
    }

    /// Consumes the image and returns its pixels (copies only if shared).
    pub fn into_pixels(self) -> Vec<f32> {
        Arc::try_unwrap(self.data).map_or_else(|shared| shared.pixels.clone(), |own| own.pixels)
    }

    /// Row `y` as RGBA floats.
    pub fn row(&self, y: u32) -> &[f32] {
        let s = self.stride();
        &self.data.pixels[y as usize * s..(y as usize + 1) * s]
    }

    /// Parallel iterator over rows for reading.
    pub fn rows(&self) -> impl IndexedParallelIterator<Item = &[f32]> {
        let s = self.stride();
        self.data.pixels.par_chunks(s)
    }

    /// Parallel iterator over rows for writing (copy-on-write first).
    pub fn rows_mut(&mut self) -> impl IndexedParallelIterator<Item = &mut [f32]> {
        let s = self.stride();
        self.pixels_mut().par_chunks_mut(s)
    }

    /// The pixel at `(x, y)`, or `None` outside the image.
    pub fn get(&self, x: i64, y: i64) -> Option<Color> {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return None;
        }
        let i = (y as usize * self.width as usize + x as usize) * CHANNELS;
        let p = &self.data.pixels[i..i + CHANNELS];
        Some(Color::new(p[0], p[1], p[2], p[3]))
    }

    /// The raw pixel at `(x, y)`, clamped to the edge (for filters sampling past the border).
    #[inline]
    pub fn pixel_clamped(&self, x: i64, y: i64) -> [f32; 4] {
        let x = x.clamp(0, self.width as i64 - 1) as usize;
        let y = y.clamp(0, self.height as i64 - 1) as usize;
        let i = (y * self.width as usize + x) * CHANNELS;
        let d = &self.data.pixels;
        [d[i], d[i + 1], d[i + 2], d[i + 3]]
    }

    /// A new image with the pixel at `(x, y)` set; errors outside the image.
    pub fn with_pixel(&self, x: i64, y: i64, color: Color) -> Result<Image> {
        if x < 0 || y < 0 || x >= self.width as i64 || y >= self.height as i64 {
            return Err(Error::param(
                "set",
                format!("pixel ({x}, {y}) is outside the {}x{} image", self.width, self.height),
            ));
        }
        let mut out = self.clone();
        let i = (y as usize * self.width as usize + x as usize) * CHANNELS;
        out.pixels_mut()[i..i + CHANNELS].copy_from_slice(&color.to_array());
        Ok(out)
    }

    /// A new image with `f` applied to every pixel, in parallel.
    pub fn map_pixels<F>(&self, f: F) -> Image
    where
        F: Fn([f32; 4]) -> [f32; 4] + Sync,
    {
        let mut out = self.clone();
        out.rows_mut().for_each(|row| {
            for px in row.chunks_exact_mut(CHANNELS) {
                let p = f([px[0], px[1], px[2], px[3]]);
                px.copy_from_slice(&p);
            }
        });
        out
    }

    /// True when every alpha value is 1 (lets ops skip premultiplication).
    pub fn is_opaque(&self) -> bool {
        self.data.pixels.par_chunks(CHANNELS * 1024).all(|c| c.chunks_exact(CHANNELS).all(|p| p[3] >= 1.0))
    }

    /// Premultiplied copy: rgb *= a. Neighbourhood filters work on this (DESIGN.md §2).
    pub fn premultiplied(&self) -> Image {
        self.map_pixels(|[r, g, b, a]| [r * a, g * a, b * a, a])
    }

    /// Inverse of [`Image::premultiplied`]; fully transparent pixels become transparent black.
    pub fn unpremultiplied(&self) -> Image {
        self.map_pixels(unpremultiply)
    }
}

/// rgb /= a for one premultiplied pixel.
#[inline]
pub fn unpremultiply([r, g, b, a]: [f32; 4]) -> [f32; 4] {
    if a > 1e-7 {
        [r / a, g / a, b / a, a]
    } else {
        [0.0, 0.0, 0.0, 0.0]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clone_is_copy_on_write() {
        let a = Image::filled(4, 3, Color::WHITE).unwrap();
        let b = a.with_pixel(1, 1, Color::BLACK).unwrap();
        assert_eq!(a.get(1, 1), Some(Color::WHITE));
        assert_eq!(b.get(1, 1), Some(Color::BLACK));
    }

    #[test]
    fn sizes_are_validated_before_allocation() {
        assert!(matches!(Image::new(0, 5), Err(Error::Parameter { .. })));
        assert!(matches!(check_size(-3, 5), Err(Error::Parameter { .. })));
        assert!(matches!(check_size(100_000, 100_000), Err(Error::Limit(_))));
    }
}
