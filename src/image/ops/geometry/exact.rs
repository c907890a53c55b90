//! Ops that copy pixels without resampling: crop, flips, quarter turns, pad and tile. Their
//! results are exact (no filtering), so they never need premultiplied alpha.

use rayon::prelude::*;

use super::blank;
use crate::error::{Error, Result};
use crate::image::buffer::CHANNELS;
use crate::image::{Color, Image};

/// The `w` × `h` rectangle whose top-left pixel is `(x, y)`. The rectangle must lie fully inside
/// the image; otherwise the error names the rectangle and the image size.
pub fn crop(img: &Image, x: i64, y: i64, w: i64, h: i64) -> Result<Image> {
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    if w <= 0 || h <= 0 {
        return Err(Error::param("crop", format!("size must be at least 1x1, got {w}x{h}")));
    }
    // Checked arithmetic: x + w must not overflow for absurd inputs.
    let inside =
        x >= 0 && y >= 0 && x.checked_add(w).is_some_and(|r| r <= iw) && y.checked_add(h).is_some_and(|b| b <= ih);
    if !inside {
        return Err(Error::param(
            "crop",
            format!("the rectangle x={x} y={y} w={w} h={h} reaches outside the {iw}x{ih} image"),
        ));
    }
    let (w, h, mut out) = blank("crop", w, h)?;
    let (x, y) = (x as usize, y as usize);
    let row_len = w as usize * CHANNELS;
    out.par_chunks_mut(row_len).enumerate().for_each(|(j, dst)| {
        let src = img.row((y + j) as u32);
        dst.copy_from_slice(&src[x * CHANNELS..x * CHANNELS + row_len]);
    });
    Image::from_rgba(w, h, out)
}

/// Mirrors left and right.
pub fn flip_h(img: &Image) -> Image {
    let mut out = img.clone();
    out.rows_mut().for_each(|row| {
        let n = row.len() / CHANNELS;
        for i in 0..n / 2 {
            let (a, b) = (i * CHANNELS, (n - 1 - i) * CHANNELS);
            for c in 0..CHANNELS {
                row.swap(a + c, b + c);
            }
        }
    });
    out
}

/// Mirrors top and bottom.
pub fn flip_v(img: &Image) -> Image {
    let h = img.height();
    let mut out = img.clone();
    out.rows_mut().enumerate().for_each(|(y, row)| row.copy_from_slice(img.row(h - 1 - y as u32)));
    out
}

/// A quarter turn clockwise: the result is `height` × `width`.
pub fn rotate90(img: &Image) -> Image {
    // Output (x, y) comes from input (y, h - 1 - x).
    let (w, h) = img.dimensions();
    quarter_turn(img, h, w, |x, y| (y, h - 1 - x))
}

/// A half turn.
pub fn rotate180(img: &Image) -> Image {
    let (w, h) = img.dimensions();
    quarter_turn(img, w, h, |x, y| (w - 1 - x, h - 1 - y))
}

/// A quarter turn anticlockwise (three clockwise): the result is `height` × `width`.
pub fn rotate270(img: &Image) -> Image {
    let (w, h) = img.dimensions();
    quarter_turn(img, h, w, |x, y| (w - 1 - y, x))
}

/// Builds an `ow` × `oh` image whose pixel (x, y) is the input pixel `from(x, y)`.
///
/// Works in bands of 16 output rows, walking each band column by column: a quarter turn reads an
/// input row where it writes an output column, so this keeps both sides on a few cache lines
/// instead of striding a whole input row per output pixel.
fn quarter_turn(img: &Image, ow: u32, oh: u32, from: impl Fn(u32, u32) -> (u32, u32) + Sync) -> Image {
    const BAND: usize = 16;
    let src = img.pixels();
    let sw = img.width() as usize;
    let row_len = ow as usize * CHANNELS;
    // The size is a permutation of a valid image's, so it is valid too.
    let mut out = vec![0.0f32; ow as usize * oh as usize * CHANNELS];
    out.par_chunks_mut(row_len * BAND).enumerate().for_each(|(band, rows)| {
        let y0 = band * BAND;
        let n = rows.len() / row_len;
        for x in 0..ow as usize {
            for dy in 0..n {
                let (sx, sy) = from(x as u32, (y0 + dy) as u32);
                let i = (sy as usize * sw + sx as usize) * CHANNELS;
                let o = dy * row_len + x * CHANNELS;
                rows[o..o + CHANNELS].copy_from_slice(&src[i..i + CHANNELS]);
            }
        }
    });
    // A turned tile is still a tile: the tag follows.
    Image::from_rgba(ow, oh, out).map_or_else(|_| img.clone(), |o| o.with_tileable(img.tileable()))
}

/// Adds `left`, `top`, `right` and `bottom` pixels of `color` around the image. Negative sizes
/// are an error (use `crop` to remove pixels).
pub fn pad(img: &Image, left: i64, top: i64, right: i64, bottom: i64, color: Color) -> Result<Image> {
    for (what, v) in [("left", left), ("top", top), ("right", right), ("bottom", bottom)] {
        if v < 0 {
            return Err(Error::param(
                "pad",
                format!("{what} must be 0 or more, got {v} (use crop to cut pixels away)"),
            ));
        }
    }
    let color = color.validate("pad")?;
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    let w = iw.saturating_add(left).saturating_add(right);
    let h = ih.saturating_add(top).saturating_add(bottom);
    let (w, h, mut out) = blank("pad", w, h)?;
    let fill = color.to_array();
    let row_len = w as usize * CHANNELS;
    let (l, t) = (left as usize, top as usize);
    out.par_chunks_mut(row_len).enumerate().for_each(|(y, row)| {
        let src_y = y.checked_sub(t).filter(|&sy| sy < ih as usize);
        for (x, px) in row.chunks_exact_mut(CHANNELS).enumerate() {
            if src_y.is_none() || x < l || x >= l + iw as usize {
                px.copy_from_slice(&fill);
            }
        }
        if let Some(sy) = src_y {
            row[l * CHANNELS..(l + iw as usize) * CHANNELS].copy_from_slice(img.row(sy as u32));
        }
    });
    Image::from_rgba(w, h, out)
}

/// Repeats the image `nx` times across and `ny` times down.
pub fn tile(img: &Image, nx: i64, ny: i64) -> Result<Image> {
    if nx < 1 || ny < 1 {
        return Err(Error::param("tile", format!("counts must be at least 1, got {nx}x{ny}")));
    }
    let w = (img.width() as i64).saturating_mul(nx);
    let h = (img.height() as i64).saturating_mul(ny);
    let (w, h, mut out) = blank("tile", w, h)?;
    let ih = img.height() as usize;
    out.par_chunks_mut(w as usize * CHANNELS).enumerate().for_each(|(y, row)| {
        let src = img.row((y % ih) as u32);
        for chunk in row.chunks_exact_mut(src.len()) {
            chunk.copy_from_slice(src);
        }
    });
    // Repeating an image keeps its seams where they were: a tile's repeat is a tile.
    Ok(Image::from_rgba(w, h, out)?.with_tileable(img.tileable()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 5x3 image whose pixels are all different.
    fn numbered(w: u32, h: u32) -> Image {
        Image::from_fn(w, h, |x, y| [x as f32, y as f32, (x * 10 + y) as f32 / 100.0, 1.0]).unwrap()
    }

    #[test]
    fn crop_takes_the_rectangle() {
        let img = numbered(5, 3);
        let c = crop(&img, 1, 1, 3, 2).unwrap();
        assert_eq!(c.dimensions(), (3, 2));
        assert_eq!(c.get(0, 0), img.get(1, 1));
        assert_eq!(c.get(2, 1), img.get(3, 2));
        assert_eq!(crop(&img, 0, 0, 5, 3).unwrap(), img);
    }

    #[test]
    fn crop_outside_is_an_error_naming_the_rectangle() {
        let img = numbered(5, 3);
        for (x, y, w, h) in
            [(3, 0, 3, 1), (-1, 0, 2, 2), (0, 2, 1, 2), (0, 0, 0, 1), (0, 0, 1, -4), (i64::MAX, 0, 5, 1)]
        {
            let e = crop(&img, x, y, w, h).unwrap_err().to_string();
            assert!(e.starts_with("crop:"), "{e}");
            if w > 0 && h > 0 {
                assert!(e.contains(&format!("x={x} y={y} w={w} h={h}")) && e.contains("5x3"), "{e}");
            }
        }
    }

    #[test]
    fn flips_twice_are_the_identity() {
        let img = numbered(5, 3);
        assert_eq!(flip_h(&flip_h(&img)), img);
        assert_eq!(flip_v(&flip_v(&img)), img);
        assert_eq!(flip_h(&img).get(0, 0), img.get(4, 0));
        assert_eq!(flip_v(&img).get(0, 0), img.get(0, 2));
    }

    #[test]
    fn quarter_turns_compose() {
        let img = numbered(5, 3);
        let r = rotate90(&img);
        assert_eq!(r.dimensions(), (3, 5));
        // Clockwise: the top-left pixel goes to the top-right corner.
        assert_eq!(r.get(2, 0), img.get(0, 0));
        assert_eq!(r.get(0, 0), img.get(0, 2));
        assert_eq!(rotate90(&rotate90(&rotate90(&r))), img);
        assert_eq!(rotate90(&r), rotate180(&img));
        assert_eq!(rotate270(&img), rotate90(&rotate180(&img)));
        assert_eq!(rotate180(&img), flip_h(&flip_v(&img)));
        // Sizes that are not multiples of the 16-row bands.
        let big = numbered(37, 21);
        assert_eq!(rotate90(&big).get(20, 36), big.get(36, 0));
        assert_eq!(rotate270(&rotate90(&big)), big);
        assert_eq!(rotate180(&rotate180(&big)), big);
    }

    #[test]
    fn pad_surrounds_with_colour() {
        let img = numbered(5, 3);
        let p = pad(&img, 1, 2, 3, 4, Color::WHITE).unwrap();
        assert_eq!(p.dimensions(), (9, 9));
        assert_eq!(p.get(0, 0), Some(Color::WHITE));
        assert_eq!(p.get(1, 2), img.get(0, 0));
        assert_eq!(p.get(5, 4), img.get(4, 2));
        assert_eq!(p.get(6, 4), Some(Color::WHITE));
        assert_eq!(p.get(5, 5), Some(Color::WHITE));
        assert_eq!(pad(&img, 0, 0, 0, 0, Color::WHITE).unwrap(), img);
        assert!(pad(&img, -1, 0, 0, 0, Color::WHITE).unwrap_err().to_string().contains("left"));
        assert!(pad(&img, 0, 0, 0, 0, Color::new(f32::NAN, 0.0, 0.0, 1.0)).is_err());
        assert!(matches!(pad(&img, i64::MAX, 0, 0, 0, Color::WHITE), Err(Error::Limit(_))));
    }

    #[test]
    fn tile_repeats() {
        let img = numbered(5, 3);
        let t = tile(&img, 3, 2).unwrap();
        assert_eq!(t.dimensions(), (15, 6));
        assert_eq!(t.get(11, 4), img.get(1, 1));
        assert_eq!(tile(&img, 1, 1).unwrap(), img);
        assert!(tile(&img, 0, 1).unwrap_err().to_string().contains("at least 1"));
        assert!(matches!(tile(&img, 1 << 40, 1 << 40), Err(Error::Limit(_))));
    }
}
