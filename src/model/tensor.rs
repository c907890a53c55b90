//! Image <-> Tensor: the one place where pixels become tensors and tensors become pixels. (The
//! model room also reads and writes image files through `image::io`: `dataset.rs` loads
//! training images, `train.rs` saves sample grids.)
//!
//! Owns: fitting an [`Image`] of any size into a model's square (centre crop, then an
//! antialiased triangle-filter resample), planar RGB conversion, tensors back to images, and
//! sample grids with their header and tile labels ([`labelled_grid`], drawn with kiln's own
//! text). Models see RGB in [0, 1]; alpha is composited over black on the way in and set to 1
//! on the way out (the models are trained on opaque tiles).

use candle_core::{DType, Device, Tensor};

use crate::error::{Error, Result};
use crate::image::ops::text::{self, Align, TextStyle};
use crate::image::{Color, Image};

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

/// Gap between tiles, and around them, in pixels.
const GAP: u32 = 2;
/// Background of a grid, and of its header and label strips.
const BACKGROUND: f32 = 0.1;
/// Colour of the header and label text.
const INK: Color = Color::gray(0.85);
/// Smallest text size a header or label shrinks to before it is cut short.
const MIN_TEXT: f32 = 7.0;

/// Images side by side in a grid of `cols` columns with a 2-pixel gap (for training previews),
/// with a header strip above it holding `title` (for example
/// "gan · step 1200 · seed 1"; none when empty) and, when `labels` is not empty, a label strip
/// under each tile (a seed, a texture name; tiles past the end of `labels` get none). Labels are
/// clipped to their tile's width. The tiles themselves are copied unchanged.
///
/// Text is kiln's own (`image::ops::text`, the bundled DejaVu Sans): the header at 12 px, the
/// labels at a quarter of the tile width, between 8 and 14 px.
pub fn labelled_grid(images: &[Image], cols: usize, title: &str, labels: &[String]) -> Result<Image> {
    let Some(first) = images.first() else {
        return Err(Error::param("grid", "no images"));
    };
    let (w, h) = first.dimensions();
    let cols = cols.clamp(1, images.len());
    let rows = images.len().div_ceil(cols) as u32;
    let label_size = (w as f32 / 4.0).clamp(8.0, 14.0);
    let label_h = if labels.is_empty() { 0 } else { label_size.ceil() as u32 + 3 };
    let title_size = 12.0f32;
    let header_h = if title.is_empty() { 0 } else { title_size as u32 + 6 };
    let gw = cols as u32 * (w + GAP) + GAP;
    let gh = header_h + rows * (h + label_h + GAP) + GAP;
    let mut out = Image::filled(gw, gh, Color::gray(BACKGROUND))?;
    if header_h > 0 {
        let strip = text_strip(gw, header_h, title, title_size, 3.0)?;
        paste(&mut out, &strip, 0, 0, (gw, header_h));
    }
    for (i, img) in images.iter().enumerate() {
        let (ox, oy) = ((i % cols) as u32 * (w + GAP) + GAP, header_h + (i / cols) as u32 * (h + label_h + GAP) + GAP);
        paste(&mut out, img, ox, oy, (w, h));
        if let Some(label) = labels.get(i).filter(|_| label_h > 0) {
            let strip = text_strip(w, label_h, label, label_size, 1.0)?;
            paste(&mut out, &strip, ox, oy + h, (w, label_h));
        }
    }
    Ok(out)
}

/// `text` at `size` px on a `w` × `h` strip of background, `top` px from its top, centred. Text
/// wider than the strip is drawn smaller, down to [`MIN_TEXT`] px, and then cut short with "…".
fn text_strip(w: u32, h: u32, text: &str, size: f32, top: f32) -> Result<Image> {
    let strip = Image::filled(w, h, Color::gray(BACKGROUND))?;
    // the bundled font never reads a file
    let no_files = |path: &str| Err(Error::Internal(format!("a grid label asked for font file {path}")));
    let width = |text: &str, size: f32| text::text_size(text, size, "sans", &no_files).map(|(tw, _)| tw);
    let room = w.saturating_sub(2) as f32;
    let mut size = size;
    let mut shown = text.to_string();
    let full = width(text, size)?;
    if full > room {
        size = (size * room / full).max(MIN_TEXT.min(size));
        let mut chars: Vec<char> = text.chars().collect();
        while width(&shown, size)? > room && !chars.is_empty() {
            chars.pop();
            shown = chars.iter().collect::<String>() + "…";
        }
    }
    let style = TextStyle { size, color: INK, font: "sans".into(), align: Align::Center };
    text::draw_text(
        &strip,
        &shown,
        w as f32 / 2.0,
        top + (h as f32 - top - size * 1.2).max(0.0) / 2.0,
        &style,
        &no_files,
    )
}

/// Copies `src` into `dst` with its top-left at (`x`, `y`), clipped to `dst` and to a cell of
/// `cell` pixels (a tile larger than the first one does not spill into its neighbours).
fn paste(dst: &mut Image, src: &Image, x: u32, y: u32, cell: (u32, u32)) {
    let cols = src.width().min(cell.0).min(dst.width().saturating_sub(x));
    let rows = src.height().min(cell.1).min(dst.height().saturating_sub(y));
    let stride = dst.stride();
    let pixels = dst.pixels_mut();
    for r in 0..rows {
        let start = (y + r) as usize * stride + x as usize * 4;
        let len = cols as usize * 4;
        pixels[start..start + len].copy_from_slice(&src.row(r)[..len]);
    }
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

    /// Rows `y0..y0 + h` of `img`'s pixels.
    fn band(img: &Image, y0: u32, h: u32) -> Vec<f32> {
        (y0..y0 + h).flat_map(|y| img.row(y).to_vec()).collect()
    }

    #[test]
    fn grid_labels_add_a_header_and_strips_and_leave_tiles_alone() {
        let tiles: Vec<Image> = (0..6)
            .map(|i| {
                Image::from_fn(32, 32, |x, y| [(x as f32) / 31.0, (y as f32) / 31.0, i as f32 / 5.0, 1.0]).unwrap()
            })
            .collect();
        let plain = labelled_grid(&tiles, 3, "", &[]).unwrap();
        assert_eq!(plain.dimensions(), (3 * 34 + 2, 2 * 34 + 2));
        let a = labelled_grid(&tiles, 3, "gan · step 1200 · seed 1", &[]).unwrap();
        let b = labelled_grid(&tiles, 3, "vae · step 40 · seed 7", &[]).unwrap();
        let header = a.height() - plain.height();
        assert!(header >= 12, "a header strip of {header} px");
        assert_eq!(a.width(), plain.width());
        // below the header the grid is the plain one, pixel for pixel
        assert_eq!(band(&a, header, plain.height()), plain.pixels());
        assert_eq!(band(&b, header, plain.height()), plain.pixels());
        // the header holds text (light pixels on the dark strip), and another title differs
        let light = |img: &Image, y0: u32, h: u32| band(img, y0, h).chunks_exact(4).filter(|p| p[0] > 0.5).count();
        assert!(light(&a, 0, header) > 50, "title drawn");
        assert_ne!(band(&a, 0, header), band(&b, 0, header));

        // labels: a strip under each tile, tiles copied unchanged
        let labels: Vec<String> = (0..6).map(|i| format!("seed {i}")).collect();
        let l = labelled_grid(&tiles, 3, "", &labels).unwrap();
        assert_eq!(l.width(), plain.width());
        let label_h = (l.height() - plain.height()) / 2;
        assert!(label_h >= 8, "{label_h}");
        for (i, tile) in tiles.iter().enumerate() {
            let (ox, oy) = ((i % 3) as u32 * 34 + 2, (i / 3) as u32 * (34 + label_h) + 2);
            for y in 0..32 {
                let row = &l.row(oy + y)[ox as usize * 4..(ox as usize + 32) * 4];
                assert_eq!(row, tile.row(y), "tile {i} row {y}");
            }
            let under = (oy + 32..oy + 32 + label_h)
                .flat_map(|y| l.row(y)[ox as usize * 4..(ox as usize + 32) * 4].to_vec())
                .collect::<Vec<f32>>();
            assert!(under.chunks_exact(4).filter(|p| p[0] > 0.5).count() > 5, "label {i} drawn");
        }
        // "seed 0" and "seed 1" differ in their last glyph
        let strip = |i: u32| {
            band(&l, 34, label_h)
                .chunks_exact(4 * l.width() as usize)
                .map(|r| r[(i * 34 + 2) as usize * 4..(i * 34 + 34) as usize * 4].to_vec())
                .collect::<Vec<_>>()
        };
        assert_ne!(strip(0), strip(1));
        // fewer labels than tiles: the rest get none; no images is an error
        assert!(labelled_grid(&tiles, 3, "t", &labels[..2]).is_ok());
        assert!(labelled_grid(&[], 3, "t", &[]).is_err());
    }
}
