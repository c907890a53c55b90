//! Channel packing: four grey sources into the R, G, B and A of one image.
//!
//! A source is a channel of an image (or its grey value), optionally inverted (`1 − v`, for
//! smoothness from roughness), or a constant. Values are copied as stored: no gamma change, no
//! clamping, because packed maps (ORM, mask maps) are linear data that engines read as numbers.
//!
//! The grey value of an image is its red channel when red, green and blue are equal (a grey
//! image, the usual case: exact, no rounding), else its luminance with the Pillow/Rec. 601
//! weights (`color::luma`), so a colour image passed as a grey map still means "how bright".

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::buffer::{Image, CHANNELS};
use crate::image::color::luma;

/// Which value of a source image's pixel to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pick {
    /// The grey value: red when r = g = b, else luminance.
    Grey,
    R,
    G,
    B,
    A,
}

/// One output channel's source.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    /// A value of each pixel of an image.
    From(&'a Image, Pick),
    /// `1 − value` (smoothness from roughness, DirectX green from OpenGL green).
    OneMinus(&'a Image, Pick),
    /// The same value everywhere.
    Constant(f32),
}

impl Source<'_> {
    fn image(&self) -> Option<&Image> {
        match self {
            Source::From(img, _) | Source::OneMinus(img, _) => Some(img),
            Source::Constant(_) => None,
        }
    }

    #[inline]
    fn value(&self, px: [f32; 4]) -> f32 {
        match *self {
            Source::From(_, pick) => picked(px, pick),
            Source::OneMinus(_, pick) => 1.0 - picked(px, pick),
            Source::Constant(v) => v,
        }
    }
}

/// The grey value of a pixel: exact for grey pixels, luminance for coloured ones.
#[inline]
pub fn grey_value(px: [f32; 4]) -> f32 {
    if px[0] == px[1] && px[1] == px[2] {
        px[0]
    } else {
        luma(px)
    }
}

#[inline]
fn picked(px: [f32; 4], pick: Pick) -> f32 {
    match pick {
        Pick::Grey => grey_value(px),
        Pick::R => px[0],
        Pick::G => px[1],
        Pick::B => px[2],
        Pick::A => px[3],
    }
}

/// Builds an image whose channel `c` is `sources[c]`. Every source image must have the same
/// size, and at least one source must be an image (it gives the size).
pub fn pack_channels(sources: [Source; 4]) -> Result<Image> {
    let mut sized = sources.iter().filter_map(Source::image);
    let first = sized.next().ok_or_else(|| {
        Error::param("pack_channels", "at least one channel must come from an image (it gives the size)")
    })?;
    let (w, h) = first.dimensions();
    for img in sized {
        if img.dimensions() != (w, h) {
            return Err(Error::param(
                "pack_channels",
                format!("all images must have the same size, got {w}x{h} and {}x{}", img.width(), img.height()),
            ));
        }
    }
    let stop = crate::cancel::current();
    let mut out = Image::new(w, h)?;
    out.rows_mut().enumerate().for_each(|(y, row)| {
        if stop.is_stopped() {
            return;
        }
        let rows: Vec<Option<&[f32]>> = sources.iter().map(|s| s.image().map(|img| img.row(y as u32))).collect();
        for (x, px) in row.chunks_exact_mut(CHANNELS).enumerate() {
            for (c, (source, src_row)) in sources.iter().zip(&rows).enumerate() {
                let p = match src_row {
                    Some(r) => {
                        let i = x * CHANNELS;
                        [r[i], r[i + 1], r[i + 2], r[i + 3]]
                    }
                    None => [0.0; 4],
                };
                px[c] = source.value(p);
            }
        }
    });
    stop.check()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Color;

    fn flat(v: [f32; 4]) -> Image {
        Image::filled(3, 2, Color::from_array(v)).unwrap()
    }

    #[test]
    fn each_channel_takes_its_source() {
        let a = flat([0.2, 0.2, 0.2, 1.0]);
        let b = flat([0.1, 0.5, 0.9, 0.4]);
        let out = pack_channels([
            Source::From(&a, Pick::Grey),
            Source::From(&b, Pick::B),
            Source::OneMinus(&a, Pick::R),
            Source::Constant(0.75),
        ])
        .unwrap();
        for p in out.pixels().chunks_exact(4) {
            assert_eq!(p, [0.2, 0.9, 0.8, 0.75]);
        }
    }

    #[test]
    fn grey_of_a_colour_pixel_is_its_luminance() {
        let c = [1.0, 0.0, 0.0, 1.0];
        assert!((grey_value(c) - 0.299).abs() < 1e-6);
        assert_eq!(grey_value([0.3, 0.3, 0.3, 0.5]), 0.3);
    }

    #[test]
    fn sizes_must_agree_and_one_image_is_needed() {
        let a = flat([0.0; 4]);
        let b = Image::new(2, 2).unwrap();
        let e = pack_channels([
            Source::From(&a, Pick::R),
            Source::From(&b, Pick::R),
            Source::Constant(0.0),
            Source::Constant(1.0),
        ])
        .unwrap_err();
        assert_eq!(e.to_string(), "pack_channels: all images must have the same size, got 3x2 and 2x2");
        assert!(pack_channels([Source::Constant(0.0); 4]).is_err());
    }
}
