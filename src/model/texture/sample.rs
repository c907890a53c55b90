//! Drawing a texture of any size from a trained generator.
//!
//! The noise for `seed` is drawn on one stream in a fixed order (local cells row by row, then
//! the phases, then any detail noise, then any coarse noise), so the same seed, size and options
//! give the same image at any thread count. Tileable samples wrap: the noise canvas is exactly
//! the image's 1/8, every convolution pads circularly and the coarse noise's grid wraps. Other
//! samples draw a margin of noise cells on every side as wide as the generator's reach
//! ([`TextureArch::reach_cells`]) and crop it away, so no pixel sees the wrap and the image does
//! not tile (nor shows border artefacts: no pixel sees a zero pad either).
//!
//! Owns: [`draw`]. Must not know about files or scripts.

use std::f32::consts::TAU;

use candle_core::{Device, Tensor};

use super::super::ml_err;
use super::super::nn::Params;
use super::super::stream::Stream;
use super::super::tensor::tensor_images;
use super::super::texture_options::{TextureMix, TextureSample, STRIDE};
use super::arch::TextureArch;
use super::net::{coarse_noise, detail_noise, Generator, NoiseParts};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::rng::Rng;

/// A texture of `opts.width × opts.height` for `seed`, drawing the exemplars `mix` says.
pub fn draw(
    gen: &Generator,
    p: &Params,
    arch: &TextureArch,
    opts: &TextureSample,
    mix: &TextureMix,
    seed: u64,
    device: &Device,
) -> Result<Image> {
    opts.validate()?;
    let (wn, hn) = ((opts.width / STRIDE) as usize, (opts.height / STRIDE) as usize);
    // a margin as wide as the generator's reach: no kept pixel sees the wrap
    let m = if opts.tileable { 0 } else { arch.reach_cells() };
    let (wc, hc) = (wn + 2 * m, hn + 2 * m);
    let _held = crate::memory::reserve(
        arch.activation_bytes(1, (wc * 8) as u32, (hc * 8) as u32, false),
        &format!("a {}×{} texture sample", opts.width, opts.height),
    )?;
    crate::cancel::checkpoint()?;
    let cell_mix = mix_map(arch, mix, opts, (wc, hc), m)?;
    let parts = sample_noise(arch, cell_mix, (wc, hc), opts.tileable, seed, device).map_err(ml_err)?;
    let y = gen.render(p, &parts).map_err(ml_err)?;
    crate::cancel::checkpoint()?;
    let s = STRIDE as usize;
    let y = y
        .narrow(2, m * s, hn * s)
        .and_then(|y| y.narrow(3, m * s, wn * s))
        .and_then(|y| y.affine(0.5, 0.5))
        .map_err(ml_err)?;
    let mut img = tensor_images(&y)?.remove(0);
    if opts.tileable {
        img.set_tileable(true);
    }
    Ok(img)
}

/// The random inputs of one sample on a canvas of `wc × hc` noise cells, drawn from `seed`'s
/// stream; tileable ones snap the waves and wrap the coarse noise.
fn sample_noise(
    arch: &TextureArch,
    cell_mix: Vec<f32>,
    (wc, hc): (usize, usize),
    tileable: bool,
    seed: u64,
    device: &Device,
) -> candle_core::Result<NoiseParts> {
    let mut rng = Rng::stream(seed, Stream::Sample(0).id());
    let local = rng.normals(arch.local * wc * hc);
    let phase = rng.uniforms(arch.periodic, 0.0, TAU);
    let t = arch.textures.len();
    Ok(NoiseParts {
        local: Tensor::from_vec(local, (1, arch.local, hc, wc), device)?,
        mix: Tensor::from_vec(cell_mix, (1, t, hc, wc), device)?,
        phase: Tensor::from_vec(phase, (1, arch.periodic, 1, 1), device)?,
        snap: tileable,
        detail: detail_noise(arch, 1, (hc, wc), &mut rng, device)?,
        coarse: coarse_noise(arch, 1, (hc, wc), tileable, &mut rng, device)?,
    })
}

/// The (T, hc, wc) weights of every exemplar's global code in every noise cell.
fn mix_map(
    arch: &TextureArch,
    mix: &TextureMix,
    opts: &TextureSample,
    (wc, hc): (usize, usize),
    margin: usize,
) -> Result<Vec<f32>> {
    let t = arch.textures.len();
    let weights = |w: &[f32], what: &str| -> Result<Vec<f32>> {
        if w.len() != t {
            return Err(Error::param(
                "sample",
                format!("{what} has {} weights; this model has {t} textures ({})", w.len(), arch.textures.join(", ")),
            ));
        }
        if w.iter().any(|v| !v.is_finite()) {
            return Err(Error::param("sample", format!("{what} holds NaN or infinity")));
        }
        Ok(w.to_vec())
    };
    let constant = |w: Vec<f32>| -> Vec<f32> { w.iter().flat_map(|&v| std::iter::repeat_n(v, wc * hc)).collect() };
    match mix {
        TextureMix::One(i) => {
            if *i >= t {
                return Err(Error::param(
                    "sample",
                    format!("texture {i} does not exist; this model has {t} ({})", arch.textures.join(", ")),
                ));
            }
            let mut w = vec![0f32; t];
            w[*i] = 1.0;
            Ok(constant(w))
        }
        TextureMix::Weights(w) => Ok(constant(weights(w, "global")?)),
        TextureMix::Blend { a, b, t: map } => {
            let (a, b) = (weights(a, "the first of `between`")?, weights(b, "the second of `between`")?);
            let (w, h) = (opts.width as usize, opts.height as usize);
            if map.len() != w * h {
                return Err(Error::Internal(format!("blend map has {} values for {w}×{h}", map.len())));
            }
            if map.iter().any(|v| !v.is_finite()) {
                return Err(Error::param("sample", "the blend map holds NaN or infinity"));
            }
            let cell_t = cell_means(map, w, h);
            let (wn, hn) = (w / STRIDE as usize, h / STRIDE as usize);
            let mut out = vec![0f32; t * wc * hc];
            for y in 0..hc {
                // cells of the margin take the nearest cell inside
                let yi = y.saturating_sub(margin).min(hn - 1);
                for x in 0..wc {
                    let xi = x.saturating_sub(margin).min(wn - 1);
                    let s = cell_t[yi * wn + xi];
                    for k in 0..t {
                        out[k * wc * hc + y * wc + x] = a[k] * (1.0 - s) + b[k] * s;
                    }
                }
            }
            Ok(out)
        }
    }
}

/// Means of `map` (w × h) over each 8×8 cell.
fn cell_means(map: &[f32], w: usize, h: usize) -> Vec<f32> {
    let s = STRIDE as usize;
    let (wn, hn) = (w / s, h / s);
    let mut out = vec![0f32; wn * hn];
    for (cy, row) in out.chunks_exact_mut(wn).enumerate() {
        for (cx, v) in row.iter_mut().enumerate() {
            let mut sum = 0f32;
            for y in cy * s..cy * s + s {
                sum += map[y * w + cx * s..y * w + cx * s + s].iter().sum::<f32>();
            }
            *v = sum / (s * s) as f32;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tileable sample's coarse noise continues across the wrap; another sample's does not
    /// (it is a window onto a larger field, whose margin is cropped away).
    #[test]
    fn tileable_samples_wrap_the_coarse_noise() {
        let arch = TextureArch {
            width: 4,
            local: 1,
            global: 1,
            periodic: 0,
            depth: 1,
            detail_noise: false,
            detail_gate: false,
            coarse: 4,
            critic_scales: 1,
            bilinear_upsample: false,
            textures: vec!["a".into()],
            patch: 16,
        };
        // the largest step across the left/right edge over the largest step inside, per channel
        let edge_ratio = |tileable: bool| -> Vec<f32> {
            let (wc, hc) = (40, 24);
            let parts = sample_noise(&arch, vec![1.0; wc * hc], (wc, hc), tileable, 3, &Device::Cpu).unwrap();
            let coarse = parts.coarse.unwrap();
            assert_eq!(coarse.dims4().unwrap(), (1, 4, hc, wc));
            let v: Vec<f32> = coarse.flatten_all().unwrap().to_vec1().unwrap();
            v.chunks(wc * hc)
                .map(|p| {
                    let (mut inside, mut across) = (0f32, 0f32);
                    for row in p.chunks(wc) {
                        across = across.max((row[0] - row[wc - 1]).abs());
                        inside = row.windows(2).map(|w| (w[1] - w[0]).abs()).fold(inside, f32::max);
                    }
                    across / inside
                })
                .collect()
        };
        let wrapped = edge_ratio(true);
        assert!(wrapped.iter().all(|&r| r <= 1.05), "{wrapped:?}");
        let open = edge_ratio(false);
        assert!(open.iter().any(|&r| r > 2.0), "{open:?}");
    }

    #[test]
    fn cell_means_average_each_block() {
        // 16×8 map: left cell all 1, right cell a ramp 0..7 by column
        let map: Vec<f32> = (0..8).flat_map(|_| (0..16).map(|x| if x < 8 { 1.0 } else { (x - 8) as f32 })).collect();
        assert_eq!(cell_means(&map, 16, 8), vec![1.0, 3.5]);
    }
}
