//! Image <-> Tensor: the one place where pixels become tensors and tensors become pixels. (The
//! model room also reads and writes image files through `image::io`: `dataset.rs` loads
//! training images, `train.rs` saves sample grids.)
//!
//! Owns: fitting an [`Image`] of any size into a model's square (centre crop, then an
//! antialiased triangle-filter resample), planar RGB conversion, tensors back to images, and
//! sample grids. Models see RGB in [0, 1]; alpha is composited over black on the way in and set
//! to 1 on the way out (the models are trained on opaque tiles).

use candle_core::{DType, Device, Tensor};

use crate::error::{Error, Result};
use crate::image::Image;

use super::ml_err;

/// The image as planar RGB (3 × size × size), centre-cropped to a square and resampled to `size`.
pub fn fit_planar(img: &Image, size: u32) -> Vec<f32> {
    let (w, h) = img.dimensions();
    let side = w.min(h);
    let (x0, y0) = ((w - side) / 2, (h - side) / 2);
    let s = size as usize;
    let side_us = side as usize;
    // premultiplied RGB of the square crop
    let px = img.pixels();
    let stride = w as usize * 4;
    let mut crop = vec![0f32; 3 * side_us * side_us];
    for y in 0..side_us {
        let row = &px[(y + y0 as usize) * stride + x0 as usize * 4..];
        for x in 0..side_us {
            let p = &row[x * 4..x * 4 + 4];
            let a = p[3].clamp(0.0, 1.0);
            for c in 0..3 {
                crop[c * side_us * side_us + y * side_us + x] = p[c] * a;
            }
        }
    }
    if side_us == s {
        return crop;
    }
    let weights = filter_weights(side_us, s);
    // horizontal pass: 3 × side × s, then vertical: 3 × s × s
    let mut tmp = vec![0f32; 3 * side_us * s];
    for c in 0..3 {
        for y in 0..side_us {
            let src = &crop[c * side_us * side_us + y * side_us..][..side_us];
            let dst = &mut tmp[c * side_us * s + y * s..][..s];
            for (o, (start, ws)) in weights.iter().enumerate() {
                dst[o] = ws.iter().enumerate().map(|(i, wt)| wt * src[start + i]).sum();
            }
        }
    }
    let mut out = vec![0f32; 3 * s * s];
    for c in 0..3 {
        for (o, (start, ws)) in weights.iter().enumerate() {
            for x in 0..s {
                out[c * s * s + o * s + x] =
                    ws.iter().enumerate().map(|(i, wt)| wt * tmp[c * side_us * s + (start + i) * s + x]).sum();
            }
        }
    }
    out
}

/// For each output sample, the first input index and the normalised weights of a triangle filter
/// widened by the scale factor when shrinking (what Pillow's antialiased bilinear does).
fn filter_weights(input: usize, output: usize) -> Vec<(usize, Vec<f32>)> {
    let scale = input as f64 / output as f64;
    let support = scale.max(1.0);
    (0..output)
        .map(|o| {
            let centre = (o as f64 + 0.5) * scale;
            let lo = ((centre - support).floor().max(0.0)) as usize;
            let hi = ((centre + support).ceil() as usize).min(input);
            let mut ws: Vec<f32> =
                (lo..hi).map(|i| (1.0 - ((i as f64 + 0.5 - centre) / support).abs()).max(0.0) as f32).collect();
            let total: f32 = ws.iter().sum();
            if total > 0.0 {
                ws.iter_mut().for_each(|w| *w /= total);
            } else {
                ws = vec![0.0; hi - lo];
                let nearest = (centre as usize).min(input - 1) - lo;
                ws[nearest] = 1.0;
            }
            (lo, ws)
        })
        .collect()
}

/// A batch tensor (n, 3, size, size) from planar images.
pub fn batch_tensor(planar: &[&[f32]], size: u32, device: &Device) -> Result<Tensor> {
    let s = size as usize;
    let mut data = Vec::with_capacity(planar.len() * 3 * s * s);
    for p in planar {
        data.extend_from_slice(p);
    }
    Tensor::from_vec(data, (planar.len(), 3, s, s), device).map_err(ml_err)
}

/// Images from a (n, 3, h, w) tensor with values in [0, 1] (clamped), alpha 1.
pub fn tensor_images(t: &Tensor) -> Result<Vec<Image>> {
    let (n, c, h, w) = t.dims4().map_err(ml_err)?;
    if c != 3 {
        return Err(Error::Internal(format!("model output has {c} channels, not 3")));
    }
    let data: Vec<f32> =
        t.to_dtype(DType::F32).and_then(|t| t.flatten_all()).and_then(|t| t.to_vec1()).map_err(ml_err)?;
    (0..n)
        .map(|i| {
            let plane = &data[i * 3 * h * w..(i + 1) * 3 * h * w];
            let mut rgba = vec![1f32; 4 * h * w];
            for p in 0..h * w {
                for ch in 0..3 {
                    let v = plane[ch * h * w + p];
                    rgba[p * 4 + ch] = if v.is_finite() { v.clamp(0.0, 1.0) } else { 0.0 };
                }
            }
            Image::from_rgba(w as u32, h as u32, rgba)
        })
        .collect()
}

/// Images side by side in a grid of `cols` columns with a 2-pixel gap (for training previews).
pub fn grid(images: &[Image], cols: usize) -> Result<Image> {
    let Some(first) = images.first() else {
        return Err(Error::param("grid", "no images"));
    };
    let (w, h) = first.dimensions();
    let cols = cols.clamp(1, images.len());
    let rows = images.len().div_ceil(cols);
    let gap = 2u32;
    let gw = cols as u32 * (w + gap) + gap;
    let gh = rows as u32 * (h + gap) + gap;
    let mut data = vec![0.1f32; (gw * gh * 4) as usize];
    data.chunks_exact_mut(4).for_each(|p| p[3] = 1.0);
    for (i, img) in images.iter().enumerate() {
        let (ox, oy) = ((i % cols) as u32 * (w + gap) + gap, (i / cols) as u32 * (h + gap) + gap);
        for y in 0..h.min(img.height()) {
            let src = img.row(y);
            let start = (((oy + y) * gw + ox) * 4) as usize;
            let len = (w.min(img.width()) * 4) as usize;
            data[start..start + len].copy_from_slice(&src[..len]);
        }
    }
    Image::from_rgba(gw, gh, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_crops_and_resamples() {
        // 8×4 image: left half red, right half blue; the centre 4×4 crop is half red, half blue
        let img = Image::from_fn(8, 4, |x, _| if x < 4 { [1.0, 0.0, 0.0, 1.0] } else { [0.0, 0.0, 1.0, 1.0] }).unwrap();
        let p = fit_planar(&img, 2);
        assert_eq!(p.len(), 12);
        assert!(p[0] > 0.8 && p[1] < 0.2 && p[9] > 0.8, "{p:?}");
        let same = fit_planar(&img, 4);
        assert_eq!(same[0], 1.0);
        let back = tensor_images(&batch_tensor(&[&same], 4, &Device::Cpu).unwrap()).unwrap();
        assert_eq!(back[0].get(0, 0).unwrap().r, 1.0);
        assert_eq!(back[0].get(3, 0).unwrap().b, 1.0);
    }
}
