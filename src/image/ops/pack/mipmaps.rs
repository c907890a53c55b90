//! Mip chains: the image, then halves of it down to 1×1, as a GPU's texture sampler wants them.
//!
//! Decisions (where the issue is silent, following what NVIDIA Texture Tools and the engines' own
//! importers do):
//! - Level k is `max(1, w >> k)` × `max(1, h >> k)` (the OpenGL/Direct3D size rule, floor), so a
//!   300×200 image gives 300×200, 150×100, 75×50, 37×25, 18×12, 9×6, 4×3, 2×1, 1×1. Level 0 is
//!   the image itself.
//! - Gamma-correct by default: each level is averaged in linear light (sRGB → linear, average,
//!   → sRGB), so a 1-pixel black/white checker becomes 0.735 grey, not the too-dark 0.5 a plain
//!   average of the stored values gives. `linear: false` averages stored values, for data maps
//!   (normal, roughness, height), which engines import without an sRGB curve.
//! - Alpha is averaged premultiplied (colour × alpha), so transparent pixels do not bleed their
//!   (meaningless) colour into visible ones; the result is un-premultiplied again.
//! - Each level is made from the previous one, kept in linear premultiplied f32 between levels,
//!   so no rounding or sRGB round trip accumulates down the chain.
//! - Odd sizes: an output pixel covers `n / m` input pixels (`n` in, `m = n / 2` out). The box
//!   filter weights each input pixel by how much of it lies under that footprint (a 5-pixel row
//!   becomes 2 pixels of weights 1, 1, ½ and ½, 1, 1 over 2.5), so no pixel is dropped and the
//!   mean brightness is kept exactly. For even sizes this is the plain 2×2 average.
//! - `filter: "tent"` weighs input pixels by a tent twice the footprint wide ([1, 3, 3, 1] / 8 per
//!   axis for even sizes): less aliasing, a little softer. It reads past the image's edges, and
//!   those reads wrap round for a tileable image (`tileable: true`) and clamp otherwise, so a
//!   tileable texture's mips stay tileable. The box filter never reads outside its footprint,
//!   which always lies inside the image, so it tiles either way.
//! - `tileable` defaults to the image's tileable tag (set by tileable fields and materials); an
//!   explicit `tileable` wins. The levels of a tileable chain carry the tag.
//!
//! Work is two separable passes per level over rows in parallel, each output value a sum in a
//! fixed order: byte-identical at any thread count.

use rayon::prelude::*;

use crate::error::Result;
use crate::image::buffer::{unpremultiply, Image, CHANNELS};
use crate::image::color::{linear_to_srgb, srgb_to_linear};

/// How a level is averaged from the one above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MipFilter {
    /// The footprint's area-weighted mean (2×2 for even sizes).
    Box,
    /// A tent twice the footprint wide ([1, 3, 3, 1] / 8 per axis for even sizes).
    Tent,
}

crate::option_choice!(MipFilter { Box = "box", Tent = "tent" });

crate::option_set! {
    /// Options of `mipmaps(#{ ... })`.
    #[derive(Copy)]
    pub struct Mipmaps for "mipmaps" {
        /// "box": each pixel is the mean of its footprint (2×2 for even sizes); "tent": a wider, less aliased [1, 3, 3, 1] / 8 weighting that reads past the edges.
        filter: MipFilter = MipFilter::Box;
        /// The image tiles: a filter that reads past an edge wraps round instead of clamping (default: the image's tileable tag).
        tileable: Option<bool> = None;
        /// Average in linear light (gamma-correct, for colour); false averages the stored values (normal, roughness, height maps).
        linear: bool = true;
    }
}

/// The mip chain of `img`: level 0 is `img`, the last level is 1×1.
pub fn mipmaps(img: &Image, o: &Mipmaps) -> Result<Vec<Image>> {
    let linear = o.linear;
    let tileable = o.tileable.unwrap_or(img.tileable());
    let mut levels = vec![img.clone()];
    let mut work = super::mapped(img, |[r, g, b, a]| {
        let lin = |v: f32| if linear { srgb_to_linear(v) } else { v };
        [lin(r) * a, lin(g) * a, lin(b) * a, a]
    })?;
    while work.dimensions() != (1, 1) {
        crate::cancel::checkpoint()?;
        let (w, h) = work.dimensions();
        let (nw, nh) = ((w / 2).max(1), (h / 2).max(1));
        work = reduce(&work, nw, nh, o.filter, tileable)?;
        let level = super::mapped(&work, |p| {
            let [r, g, b, a] = unpremultiply(p);
            let enc = |v: f32| if linear { linear_to_srgb(v) } else { v };
            [enc(r), enc(g), enc(b), a]
        })?;
        levels.push(level.with_tileable(tileable));
    }
    Ok(levels)
}

/// One level: `src` (linear, premultiplied) resampled to `nw` × `nh`.
fn reduce(src: &Image, nw: u32, nh: u32, filter: MipFilter, tileable: bool) -> Result<Image> {
    let (w, h) = src.dimensions();
    let tx = taps(w as usize, nw as usize, filter, tileable);
    let ty = taps(h as usize, nh as usize, filter, tileable);
    let stop = crate::cancel::current();

    let mut across = Image::new(nw, h)?;
    across.rows_mut().enumerate().for_each(|(y, row)| {
        if stop.is_stopped() {
            return;
        }
        let s = src.row(y as u32);
        for (px, t) in row.chunks_exact_mut(CHANNELS).zip(&tx) {
            let mut acc = [0f32; 4];
            for &(j, wt) in t {
                for c in 0..CHANNELS {
                    acc[c] += wt * s[j * CHANNELS + c];
                }
            }
            px.copy_from_slice(&acc);
        }
    });
    stop.check()?;

    let mut out = Image::new(nw, nh)?;
    out.rows_mut().zip(ty.par_iter()).for_each(|(row, t)| {
        if stop.is_stopped() {
            return;
        }
        for &(j, wt) in t {
            for (o, v) in row.iter_mut().zip(across.row(j as u32)) {
                *o += wt * v;
            }
        }
    });
    stop.check()?;
    Ok(out)
}

/// For each of `m` output positions along an axis of `n` input pixels: (input index, weight),
/// weights summing to 1.
fn taps(n: usize, m: usize, filter: MipFilter, wrap: bool) -> Vec<Vec<(usize, f32)>> {
    if n == m {
        return (0..n).map(|i| vec![(i, 1.0)]).collect();
    }
    let s = n as f64 / m as f64;
    let edge = |j: i64| -> usize {
        if wrap {
            j.rem_euclid(n as i64) as usize
        } else {
            j.clamp(0, n as i64 - 1) as usize
        }
    };
    (0..m)
        .map(|i| {
            let raw: Vec<(usize, f64)> = match filter {
                MipFilter::Box => {
                    let (a, b) = (i as f64 * s, (i + 1) as f64 * s);
                    (a.floor() as usize..(b.ceil() as usize).min(n))
                        .map(|j| (j, (b.min(j as f64 + 1.0) - a.max(j as f64)).max(0.0)))
                        .collect()
                }
                MipFilter::Tent => {
                    let c = (i as f64 + 0.5) * s;
                    let (lo, hi) = ((c - s - 0.5).floor() as i64, (c + s - 0.5).ceil() as i64);
                    (lo..=hi).map(|j| (edge(j), (1.0 - ((j as f64 + 0.5) - c).abs() / s).max(0.0))).collect()
                }
            };
            let total: f64 = raw.iter().map(|&(_, w)| w).sum();
            raw.into_iter().filter(|&(_, w)| w > 0.0).map(|(j, w)| (j, (w / total) as f32)).collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grey_row(values: &[f32]) -> Image {
        let data = values.iter().flat_map(|&v| [v, v, v, 1.0]).collect();
        Image::from_rgba(values.len() as u32, 1, data).unwrap()
    }

    #[test]
    fn sizes_halve_by_floor_down_to_one_by_one() {
        let img = Image::new(300, 200).unwrap();
        let sizes: Vec<(u32, u32)> =
            mipmaps(&img, &Mipmaps::default()).unwrap().iter().map(Image::dimensions).collect();
        assert_eq!(sizes, [(300, 200), (150, 100), (75, 50), (37, 25), (18, 12), (9, 6), (4, 3), (2, 1), (1, 1)]);
        let one = Image::new(1, 1).unwrap();
        assert_eq!(mipmaps(&one, &Mipmaps::default()).unwrap().len(), 1);
    }

    #[test]
    fn a_black_and_white_checker_averages_in_linear_light() {
        let img = Image::from_fn(4, 4, |x, y| if (x + y) % 2 == 0 { [1.0; 4] } else { [0.0, 0.0, 0.0, 1.0] }).unwrap();
        let mips = mipmaps(&img, &Mipmaps::default()).unwrap();
        // sRGB encoding of linear 0.5: 1.055 * 0.5^(1/2.4) - 0.055 = 0.7354.
        for level in &mips[1..] {
            for p in level.pixels().chunks_exact(4) {
                assert!((p[0] - 0.7354).abs() < 1e-3, "got {}", p[0]);
                assert_eq!(p[3], 1.0);
            }
        }
        let plain = mipmaps(&img, &Mipmaps { linear: false, ..Mipmaps::default() }).unwrap();
        assert!((plain[1].pixels()[0] - 0.5).abs() < 1e-6);
    }

    #[test]
    fn a_two_by_two_level_matches_a_hand_computation() {
        // sRGB 0.2, 0.4, 0.6, 0.8 -> linear (IEC 61966-2-1) -> mean -> sRGB.
        let lin = |v: f64| ((v + 0.055) / 1.055).powf(2.4);
        let mean = (lin(0.2) + lin(0.4) + lin(0.6) + lin(0.8)) / 4.0;
        let expected = 1.055 * mean.powf(1.0 / 2.4) - 0.055;
        let img =
            Image::from_rgba(2, 2, [0.2f32, 0.4, 0.6, 0.8].iter().flat_map(|&v| [v, v, v, 1.0]).collect()).unwrap();
        let got = mipmaps(&img, &Mipmaps::default()).unwrap()[1].pixels()[0];
        assert!((got as f64 - expected).abs() < 1e-5, "{got} vs {expected}");
    }

    #[test]
    fn alpha_is_averaged_premultiplied() {
        // Opaque red beside transparent blue: the blue must not tint the result.
        let img = Image::from_rgba(2, 1, vec![1.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0, 0.0]).unwrap();
        let p = mipmaps(&img, &Mipmaps::default()).unwrap()[1].pixels().to_vec();
        assert!((p[0] - 1.0).abs() < 1e-6 && p[1] == 0.0 && p[2] == 0.0 && p[3] == 0.5, "{p:?}");
    }

    #[test]
    fn odd_sizes_weigh_pixels_by_their_share_of_the_footprint() {
        let img = grey_row(&[0.1, 0.2, 0.3, 0.4, 0.5]);
        let level = &mipmaps(&img, &Mipmaps { linear: false, ..Mipmaps::default() }).unwrap()[1];
        let got: Vec<f32> = level.pixels().chunks_exact(4).map(|p| p[0]).collect();
        let expected = [(0.1 + 0.2 + 0.15) / 2.5, (0.15 + 0.4 + 0.5) / 2.5];
        for (g, e) in got.iter().zip(expected) {
            assert!((g - e).abs() < 1e-6, "{got:?} vs {expected:?}");
        }
        // The mean is kept: (0.1 + ... + 0.5) / 5 = 0.3.
        assert!(((got[0] + got[1]) / 2.0 - 0.3).abs() < 1e-6);
    }

    #[test]
    fn the_tileable_tag_is_the_default_and_an_explicit_option_wins() {
        let img = Image::from_fn(8, 8, |x, y| {
            let v = ((x * 7 + y * 3) % 8) as f32 / 8.0;
            [v, v, v, 1.0]
        })
        .unwrap();
        let tent = |img: &Image, tileable| {
            mipmaps(img, &Mipmaps { filter: MipFilter::Tent, tileable, linear: false }).unwrap()[1].clone()
        };
        let tagged = img.with_tileable(true);
        assert_eq!(tent(&tagged, None).pixels(), tent(&img, Some(true)).pixels());
        assert!(tent(&tagged, None).tileable(), "the levels of a tileable chain keep the tag");
        assert_eq!(tent(&tagged, Some(false)).pixels(), tent(&img, None).pixels());
        assert_ne!(tent(&img, Some(true)).pixels(), tent(&img, Some(false)).pixels(), "the control");
    }

    #[test]
    fn the_tent_filter_wraps_for_tileable_images_and_clamps_otherwise() {
        let img = grey_row(&[1.0, 0.0, 0.0, 0.0]);
        let first = |tileable| {
            let o = Mipmaps { filter: MipFilter::Tent, tileable: Some(tileable), linear: false };
            mipmaps(&img, &o).unwrap()[1].pixels()[0]
        };
        // Weights [1, 3, 3, 1] / 8 over pixels -1, 0, 1, 2: pixel -1 is pixel 3 (0) when it wraps,
        // pixel 0 (1) when it clamps.
        assert!((first(true) - 3.0 / 8.0).abs() < 1e-6);
        assert!((first(false) - 4.0 / 8.0).abs() < 1e-6);
    }

    #[test]
    fn taps_sum_to_one() {
        for (n, m) in [(7, 3), (5, 2), (3, 1), (2, 1), (9, 4)] {
            for f in [MipFilter::Box, MipFilter::Tent] {
                for t in taps(n, m, f, true) {
                    let s: f32 = t.iter().map(|&(_, w)| w).sum();
                    assert!((s - 1.0).abs() < 1e-6);
                }
            }
        }
    }
}
