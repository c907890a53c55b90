//! `height_blend`: layers two materials by their heights, the "height lerp" of material layering
//! (Substance's Height Blend, Material Maker's height blend, Unreal's HeightLerp).
//!
//! Formula, per pixel: `d = height_a − height_b`; the mask of `a` is
//! `m = clamp(0.5 + d / width, 0, 1)` with `width = 1 − contrast` (at least 1/1024, so
//! `contrast: 1` is a hard but defined step); the output is `b + (a − b)·m`, RGBA, straight alpha
//! (alphas mix like the colours). Where `a` stands higher it covers `b`; where the heights are
//! equal the two mix half and half; `contrast` narrows the band of mixing. `height_a` and
//! `height_b` are grey images (colour ones give their luminance, see the module docs of
//! `surface`); all four images must have the same size. No neighbourhood, so no `edge`.

use super::{build_rows, check_finite, same_size, Height};
use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};

crate::option_set! {
    /// Options of `height_blend(a, b, height_a, height_b, #{ ... })`.
    #[derive(Copy)]
    pub struct HeightBlend for "height_blend" {
        /// 0 = mix over the whole height range, 1 = a hard edge where the heights cross.
        contrast: f32 = 0.9, range(0.0, 1.0);
    }
}

/// Narrowest transition band (a hard step stays a function of the heights).
const MIN_WIDTH: f32 = 1.0 / 1024.0;

/// The mask of `a` for heights `ha`, `hb`.
#[inline]
pub(crate) fn mask(ha: f32, hb: f32, contrast: f32) -> f32 {
    let width = (1.0 - contrast).max(MIN_WIDTH);
    (0.5 + (ha - hb) / width).clamp(0.0, 1.0)
}

/// `a` over `b` where `a` stands higher (see the module docs for the formula).
pub fn height_blend(a: &Image, b: &Image, height_a: &Image, height_b: &Image, o: &HeightBlend) -> Result<Image> {
    let op = "height_blend";
    same_size(op, "b", a, b)?;
    same_size(op, "height_a", a, height_a)?;
    same_size(op, "height_b", a, height_b)?;
    check_finite(op, "a", a)?;
    check_finite(op, "b", b)?;
    let (ha, hb) = (Height::of(op, height_a)?, Height::of(op, height_b)?);
    let (w, h) = (ha.w, ha.h);
    let c = o.contrast;
    let out = build_rows(w, h, |y, row| {
        let (ra, rb) = (a.row(y as u32), b.row(y as u32));
        let (rha, rhb) = (&ha.values[y * w..(y + 1) * w], &hb.values[y * w..(y + 1) * w]);
        for (x, p) in row.chunks_exact_mut(CHANNELS).enumerate() {
            let m = mask(rha[x], rhb[x], c);
            for ch in 0..CHANNELS {
                let (va, vb) = (ra[x * CHANNELS + ch], rb[x * CHANNELS + ch]);
                p[ch] = vb + (va - vb) * m;
            }
        }
    })?;
    // A per-pixel op: the result tiles when every input does.
    let tiles = [a, b, height_a, height_b].iter().all(|i| i.tileable());
    Ok(out.with_tileable(tiles))
}

#[cfg(test)]
mod tests {
    use super::super::test_util::height_image;
    use super::*;
    use crate::image::color::Color;

    #[test]
    fn the_higher_layer_shows_and_equal_heights_mix_evenly() {
        let a = Image::filled(4, 1, Color::rgb(1.0, 0.0, 0.0)).unwrap();
        let b = Image::filled(4, 1, Color::rgb(0.0, 0.0, 1.0)).unwrap();
        let ha = height_image(4, 1, |x, _| [0.9, 0.5, 0.1, 0.52][x as usize]);
        let hb = height_image(4, 1, |_, _| 0.5);
        let out = height_blend(&a, &b, &ha, &hb, &HeightBlend { contrast: 0.9 }).unwrap();
        let r: Vec<f32> = (0..4).map(|x| out.get(x, 0).unwrap().r).collect();
        assert_eq!(r[0], 1.0);
        assert!((r[1] - 0.5).abs() < 1e-6);
        assert_eq!(r[2], 0.0);
        // 0.5 + 0.02 / 0.1 = 0.7 (the linear ramp of the formula).
        assert!((r[3] - 0.7).abs() < 1e-4, "{r:?}");
        assert!((out.get(3, 0).unwrap().b - 0.3).abs() < 1e-4);
    }

    #[test]
    fn contrast_zero_is_a_wide_ramp_and_one_a_step() {
        assert!((mask(0.75, 0.25, 0.0) - 1.0).abs() < 1e-6);
        assert!((mask(0.5, 0.25, 0.0) - 0.75).abs() < 1e-6);
        assert_eq!(mask(0.501, 0.5, 1.0), 1.0);
        assert_eq!(mask(0.499, 0.5, 1.0), 0.0);
    }

    #[test]
    fn sizes_must_match_and_nan_heights_are_refused() {
        let a = Image::filled(4, 4, Color::BLACK).unwrap();
        let small = Image::filled(3, 4, Color::BLACK).unwrap();
        let e = height_blend(&a, &a, &small, &a, &HeightBlend::default()).unwrap_err().to_string();
        assert!(e.contains("height_blend") && e.contains("height_a"), "{e}");
        let nan = height_image(4, 4, |_, _| f32::NAN);
        assert!(height_blend(&a, &a, &a, &nan, &HeightBlend::default()).is_err());
    }
}
