//! Encoding images of any size to latent maps and decoding them back, in overlapping tiles.
//!
//! Owns: [`encode_map`] and [`decode_map`]. Decisions:
//! - **Any size.** An image whose sides are not multiples of 8 is padded on the right and bottom
//!   by reflection (mirror without repeating the edge pixel, repeated as often as needed) to the
//!   next multiple of 8; the map remembers the original size and `decode_map` crops back to it.
//!   A map with no remembered size decodes to factor × its size.
//! - **Large images.** The networks run on tiles of at most [`TILE`]² output pixels, each with a
//!   margin of context ([`margin`]) that is thrown away, so memory is bounded by the tile, not
//!   the image (a 4096² image never holds a 32-channel 4096² activation), and reserved from the
//!   memory budget (`crate::memory`) before each tile runs. Tiles and margins are multiples of
//!   8, so a tile's stride-2 grid lines up with the whole image's; with a margin at least the
//!   receptive field, tiled output equals whole-image output (a test checks it).
//! - Tiles run one after another (each convolution is parallel inside), with a cancellation
//!   checkpoint between them; the result does not depend on the thread count.
//!
//! Must not know about files or training.

use candle_core::{Device, Tensor};

use super::super::latent_map::LatentMap;
use super::super::ml_err;
use super::super::nn::Params;
use super::arch::MULTIPLE;
use super::net::SpatialNet;
use crate::error::{Error, Result};
use crate::image::Image;

/// Side of a tile's core in image pixels (a multiple of 8).
pub const TILE: usize = 512;

/// Context around a tile in image pixels: more than the receptive field of the encoder and
/// of the decoder (a multiple of 8 and of the factor).
pub fn margin(net: &SpatialNet) -> usize {
    let f = net.arch.factor as usize;
    (f * (2 * net.arch.blocks + 4) + 16).div_ceil(8) * 8
}

/// Index `i` of a signal of length `n` mirrored at both ends without repeating the edge
/// (…, 2, 1, 0, 1, 2, …, n−1, n−2, …), for any i ≥ 0 and n ≥ 1.
pub fn reflect(i: usize, n: usize) -> usize {
    if n == 1 {
        return 0;
    }
    let period = 2 * (n - 1);
    let k = i % period;
    if k < n {
        k
    } else {
        period - k
    }
}

/// (start, length) of the tiles' cores along a side of `len`, and their regions with margin
/// clipped to the side.
fn tiles(len: usize, core: usize, margin: usize) -> Vec<((usize, usize), (usize, usize))> {
    (0..len.div_ceil(core))
        .map(|i| {
            let start = i * core;
            let size = core.min(len - start);
            let lo = start.saturating_sub(margin);
            let hi = (start + size + margin).min(len);
            ((start, size), (lo, hi - lo))
        })
        .collect()
}

fn reserve(net: &SpatialNet, pixels: usize, op: &str) -> Result<crate::memory::Reservation> {
    crate::cancel::checkpoint()?;
    let bytes = (net.arch.floats_per_pixel(false) * pixels as f64 * 4.0) as u64;
    crate::memory::reserve(bytes, &format!("{op} of a {pixels}-pixel tile"))
}

/// The latent mean μ of `img`, any size (see the module docs for padding and tiling).
pub fn encode_map(net: &SpatialNet, p: &Params, dev: &Device, img: &Image) -> Result<LatentMap> {
    encode_tiled(net, p, dev, img, TILE)
}

/// [`encode_map`] with tile cores of `tile` pixels (a multiple of 8).
pub fn encode_tiled(net: &SpatialNet, p: &Params, dev: &Device, img: &Image, tile: usize) -> Result<LatentMap> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let m = MULTIPLE as usize;
    let (pw, ph) = (w.div_ceil(m) * m, h.div_ceil(m) * m);
    let f = net.arch.factor as usize;
    let c = net.arch.latent;
    let (lw, lh) = (pw / f, ph / f);
    let _out = crate::memory::reserve((c * lw * lh * 4) as u64, "encode: the latent map")?;
    let mut out = vec![0f32; c * lw * lh];
    let px = img.pixels();
    let margin = margin(net);
    for &((cy, ch), (ry, rh)) in &tiles(ph, tile, margin) {
        for &((cx, cw), (rx, rw)) in &tiles(pw, tile, margin) {
            let _held = reserve(net, rw * rh, "encode")?;
            // the region, padded by reflection where it passes the image's right or bottom edge
            let mut data = vec![0f32; 3 * rw * rh];
            for y in 0..rh {
                let sy = reflect(ry + y, h);
                for x in 0..rw {
                    let sx = reflect(rx + x, w);
                    let p = &px[(sy * w + sx) * 4..][..3];
                    for k in 0..3 {
                        let v = p[k];
                        data[(k * rh + y) * rw + x] = if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 };
                    }
                }
            }
            let x = Tensor::from_vec(data, (1, 3, rh, rw), dev).map_err(ml_err)?;
            let (mu, _) = net.encode(p, &x).map_err(ml_err)?;
            let mu: Vec<f32> = mu.flatten_all().and_then(|t| t.to_vec1()).map_err(ml_err)?;
            let (tw, th) = (rw / f, rh / f);
            let (ox, oy) = ((cx - rx) / f, (cy - ry) / f);
            for k in 0..c {
                for y in 0..ch / f {
                    let src = &mu[(k * th + oy + y) * tw + ox..][..cw / f];
                    out[(k * lh + cy / f + y) * lw + cx / f..][..cw / f].copy_from_slice(src);
                }
            }
        }
    }
    let size = (pw != w || ph != h).then_some((w as u32, h as u32));
    LatentMap::new(c, lh, lw, out).map(|m| m.with_image_size(size)).map_err(|e| match e {
        Error::Parameter { .. } => Error::Internal(format!("encode: the encoder gave {e}")),
        other => other,
    })
}

/// The image for a latent map: factor × its size, cropped to the size of the image it was
/// encoded from when the map remembers one.
pub fn decode_map(net: &SpatialNet, p: &Params, dev: &Device, map: &LatentMap) -> Result<Image> {
    decode_tiled(net, p, dev, map, TILE)
}

/// [`decode_map`] with tile cores of `tile` image pixels (a multiple of 8 and of the factor).
pub fn decode_tiled(net: &SpatialNet, p: &Params, dev: &Device, map: &LatentMap, tile: usize) -> Result<Image> {
    let c = net.arch.latent;
    if map.channels() != c {
        return Err(Error::param(
            "decode",
            format!("the latent map has {} channels, the model takes {c}", map.channels()),
        ));
    }
    if let Some(i) = map.values().iter().position(|v| !v.is_finite()) {
        return Err(Error::param("decode", format!("latent map value {i} is {}", map.values()[i])));
    }
    let f = net.arch.factor as usize;
    let (lw, lh) = (map.width(), map.height());
    let (fw, fh) = (lw * f, lh * f);
    let (w, h) = match map.image_size() {
        Some((iw, ih)) if (iw as usize) <= fw && (ih as usize) <= fh && iw > 0 && ih > 0 => (iw as usize, ih as usize),
        _ => (fw, fh),
    };
    let mut out = Image::new(w as u32, h as u32)?;
    let values = map.values();
    let (core, margin) = ((tile / f).max(1), margin(net).div_ceil(f));
    for &((cy, ch), (ry, rh)) in &tiles(lh, core, margin) {
        if cy * f >= h {
            continue;
        }
        for &((cx, cw), (rx, rw)) in &tiles(lw, core, margin) {
            if cx * f >= w {
                continue;
            }
            let _held = reserve(net, rw * rh * f * f, "decode")?;
            let mut data = Vec::with_capacity(c * rw * rh);
            for k in 0..c {
                for y in ry..ry + rh {
                    data.extend_from_slice(&values[(k * lh + y) * lw + rx..][..rw]);
                }
            }
            let z = Tensor::from_vec(data, (1, c, rh, rw), dev).map_err(ml_err)?;
            let rgb: Vec<f32> =
                net.decode(p, &z).and_then(|t| t.flatten_all()).and_then(|t| t.to_vec1()).map_err(ml_err)?;
            let (tw, th) = (rw * f, rh * f);
            let (ox, oy) = ((cx - rx) * f, (cy - ry) * f);
            let x_end = ((cx + cw) * f).min(w);
            let y_end = ((cy + ch) * f).min(h);
            let px = out.pixels_mut();
            for y in cy * f..y_end {
                let ty = oy + y - cy * f;
                for x in cx * f..x_end {
                    let tx = ox + x - cx * f;
                    let d = &mut px[(y * w + x) * 4..][..4];
                    for k in 0..3 {
                        d[k] = rgb[(k * th + ty) * tw + tx];
                    }
                    d[3] = 1.0;
                }
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reflection_mirrors_without_repeating_the_edge() {
        let got: Vec<usize> = (0..9).map(|i| reflect(i, 4)).collect();
        assert_eq!(got, vec![0, 1, 2, 3, 2, 1, 0, 1, 2]);
        assert_eq!((0..5).map(|i| reflect(i, 1)).collect::<Vec<_>>(), vec![0; 5]);
        assert_eq!((0..5).map(|i| reflect(i, 2)).collect::<Vec<_>>(), vec![0, 1, 0, 1, 0]);
    }

    #[test]
    fn tiles_cover_the_side_once_with_clipped_margins() {
        assert_eq!(tiles(20, 8, 4), vec![((0, 8), (0, 12)), ((8, 8), (4, 16)), ((16, 4), (12, 8))]);
        assert_eq!(tiles(8, 512, 32), vec![((0, 8), (0, 8))]);
    }
}
