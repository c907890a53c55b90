//! The separable blend modes of W3C Compositing and Blending Level 1 (§10.2), plus `add` and
//! `subtract`, and the fused kernel that blends one span of a top layer onto a backdrop.
//!
//! Owns: [`BlendMode`], the per-channel formulas `B(Cb, Cs)` and the alpha compositing around them.
//! Must not know about image sizes, offsets or threads (the caller in `mod.rs` walks the rows).
//!
//! Compositing follows the W3C "general formula" (§5.1) with source-over:
//!
//! ```text
//! Cs' = (1 - αb)·Cs + αb·B(Cb, Cs)
//! αo  = αs + αb·(1 - αs)
//! Co  = (αs·Cs' + αb·(1 - αs)·Cb) / αo        straight alpha in and out
//! ```
//!
//! where `s` is the top layer (its alpha already multiplied by the opacity) and `b` the backdrop.
//! Values are not clamped (HDR survives, DESIGN.md §2) except where a formula itself clamps
//! (color_dodge, color_burn); alphas are clamped to 0..1 for the arithmetic.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};

/// A blend mode: how the top layer's colour combines with the backdrop's where both are present.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlendMode {
    /// `B = Cs` (plain source-over).
    Normal,
    /// `B = Cb·Cs`.
    Multiply,
    /// `B = Cb + Cs − Cb·Cs`.
    Screen,
    /// `HardLight` with the layers swapped.
    Overlay,
    /// W3C soft light (the `D(Cb)` polynomial / square-root form, not Photoshop's).
    SoftLight,
    /// `Multiply(Cb, 2Cs)` for `Cs ≤ 0.5`, else `Screen(Cb, 2Cs − 1)`.
    HardLight,
    /// `B = Cb + Cs` (Photoshop "linear dodge"; not in W3C), not clamped.
    Add,
    /// `B = Cb − Cs` (the top is subtracted from the backdrop; not in W3C), not clamped.
    Subtract,
    /// `B = |Cb − Cs|`.
    Difference,
    /// `B = min(Cb, Cs)`.
    Darken,
    /// `B = max(Cb, Cs)`.
    Lighten,
    /// `0` if `Cb = 0`, `1` if `Cs ≥ 1`, else `min(1, Cb / (1 − Cs))`.
    ColorDodge,
    /// `1` if `Cb ≥ 1`, `0` if `Cs ≤ 0`, else `1 − min(1, (1 − Cb) / Cs)`.
    ColorBurn,
}

impl BlendMode {
    /// Every mode with its script name, in documentation order.
    pub const ALL: [(BlendMode, &'static str); 13] = [
        (BlendMode::Normal, "normal"),
        (BlendMode::Multiply, "multiply"),
        (BlendMode::Screen, "screen"),
        (BlendMode::Overlay, "overlay"),
        (BlendMode::SoftLight, "soft_light"),
        (BlendMode::HardLight, "hard_light"),
        (BlendMode::Add, "add"),
        (BlendMode::Subtract, "subtract"),
        (BlendMode::Difference, "difference"),
        (BlendMode::Darken, "darken"),
        (BlendMode::Lighten, "lighten"),
        (BlendMode::ColorDodge, "color_dodge"),
        (BlendMode::ColorBurn, "color_burn"),
    ];

    /// The script name (`"soft_light"`).
    pub fn name(self) -> &'static str {
        BlendMode::ALL.iter().find(|(m, _)| *m == self).map(|(_, n)| *n).unwrap_or("normal")
    }

    /// `B(Cb, Cs)` for one channel: `cb` the backdrop, `cs` the top layer.
    #[inline(always)]
    pub fn apply(self, cb: f32, cs: f32) -> f32 {
        match self {
            BlendMode::Normal => cs,
            BlendMode::Multiply => cb * cs,
            BlendMode::Screen => screen(cb, cs),
            BlendMode::Overlay => hard_light(cs, cb),
            BlendMode::SoftLight => soft_light(cb, cs),
            BlendMode::HardLight => hard_light(cb, cs),
            BlendMode::Add => cb + cs,
            BlendMode::Subtract => cb - cs,
            BlendMode::Difference => (cb - cs).abs(),
            BlendMode::Darken => cb.min(cs),
            BlendMode::Lighten => cb.max(cs),
            BlendMode::ColorDodge => {
                if cb <= 0.0 {
                    0.0
                } else if cs >= 1.0 {
                    1.0
                } else {
                    (cb / (1.0 - cs)).min(1.0)
                }
            }
            BlendMode::ColorBurn => {
                if cb >= 1.0 {
                    1.0
                } else if cs <= 0.0 {
                    0.0
                } else {
                    1.0 - ((1.0 - cb) / cs).min(1.0)
                }
            }
        }
    }
}

#[inline(always)]
fn screen(cb: f32, cs: f32) -> f32 {
    cb + cs - cb * cs
}

#[inline(always)]
fn hard_light(cb: f32, cs: f32) -> f32 {
    if cs <= 0.5 {
        cb * (2.0 * cs)
    } else {
        screen(cb, 2.0 * cs - 1.0)
    }
}

#[inline(always)]
fn soft_light(cb: f32, cs: f32) -> f32 {
    if cs <= 0.5 {
        cb - (1.0 - 2.0 * cs) * cb * (1.0 - cb)
    } else {
        let d = if cb <= 0.25 { ((16.0 * cb - 12.0) * cb + 4.0) * cb } else { cb.sqrt() };
        cb + (2.0 * cs - 1.0) * (d - cb)
    }
}

impl FromStr for BlendMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<BlendMode> {
        let key = s.trim().to_ascii_lowercase().replace('-', "_");
        BlendMode::ALL.iter().find(|(_, n)| *n == key).map(|(m, _)| *m).ok_or_else(|| {
            let names: Vec<&str> = BlendMode::ALL.iter().map(|(_, n)| *n).collect();
            Error::param("blend", format!("unknown blend mode '{s}'; valid modes are: {}", names.join(", ")))
        })
    }
}

impl fmt::Display for BlendMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One pixel: `top` over `back` with mode `B`, `opacity` in 0..1. Straight alpha in and out.
#[inline(always)]
pub fn blend_pixel<B: Fn(f32, f32) -> f32>(back: [f32; 4], top: [f32; 4], opacity: f32, b: &B) -> [f32; 4] {
    let a_s = top[3].clamp(0.0, 1.0) * opacity;
    if a_s <= 0.0 {
        return back;
    }
    let a_b = back[3].clamp(0.0, 1.0);
    let a_o = a_s + a_b * (1.0 - a_s);
    // Weights of the three regions of the W3C general formula, divided by αo for straight output.
    let inv = 1.0 / a_o;
    let w_s = a_s * (1.0 - a_b) * inv; // top only
    let w_sb = a_s * a_b * inv; // both: the blend function
    let w_b = (1.0 - a_s) * a_b * inv; // backdrop only
    let mut out = [0.0; 4];
    for c in 0..3 {
        out[c] = w_s * top[c] + w_sb * b(back[c], top[c]) + w_b * back[c];
    }
    out[3] = a_o;
    out
}

/// Blends `top` (a span of RGBA pixels) onto `dst` (the backdrop span, same length) in place.
/// Monomorphised per mode by the caller so the inner loop has no mode branch.
#[inline(always)]
pub fn blend_span<B: Fn(f32, f32) -> f32>(dst: &mut [f32], top: &[f32], opacity: f32, b: B) {
    for (d, t) in dst.chunks_exact_mut(4).zip(top.chunks_exact(4)) {
        let back = [d[0], d[1], d[2], d[3]];
        let px = [t[0], t[1], t[2], t[3]];
        d.copy_from_slice(&blend_pixel(back, px, opacity, &b));
    }
}

/// Plain source-over of a span, with the fast paths that make W6 cheap: an opaque top pixel
/// replaces, a transparent one leaves the backdrop, an opaque backdrop needs no division.
#[inline(always)]
pub fn over_span(dst: &mut [f32], top: &[f32], opacity: f32) {
    for (d, t) in dst.chunks_exact_mut(4).zip(top.chunks_exact(4)) {
        let a_s = t[3].clamp(0.0, 1.0) * opacity;
        if a_s >= 1.0 {
            d.copy_from_slice(&[t[0], t[1], t[2], 1.0]);
        } else if a_s > 0.0 {
            let a_b = d[3].clamp(0.0, 1.0);
            if a_b >= 1.0 {
                let k = 1.0 - a_s;
                d[0] = a_s * t[0] + k * d[0];
                d[1] = a_s * t[1] + k * d[1];
                d[2] = a_s * t[2] + k * d[2];
                d[3] = 1.0;
            } else {
                let a_o = a_s + a_b * (1.0 - a_s);
                let wb = a_b * (1.0 - a_s) / a_o;
                let ws = a_s / a_o;
                d[0] = ws * t[0] + wb * d[0];
                d[1] = ws * t[1] + wb * d[1];
                d[2] = ws * t[2] + wb * d[2];
                d[3] = a_o;
            }
        }
    }
}

/// Source-over of one colour onto a span, pixel `i` weighted by `coverage(i)` in 0..1 (drawing
/// and text). Pixels with zero weight are not touched, so HDR values around a shape survive.
#[inline(always)]
pub fn over_span_color(dst: &mut [f32], color: [f32; 4], coverage: impl Fn(usize) -> f32) {
    let ca = color[3].clamp(0.0, 1.0);
    for (i, d) in dst.chunks_exact_mut(4).enumerate() {
        let a_s = ca * coverage(i);
        if a_s <= 0.0 {
            continue;
        }
        if a_s >= 1.0 {
            d.copy_from_slice(&[color[0], color[1], color[2], 1.0]);
            continue;
        }
        let a_b = d[3].clamp(0.0, 1.0);
        let a_o = a_s + a_b * (1.0 - a_s);
        let ws = a_s / a_o;
        let wb = a_b * (1.0 - a_s) / a_o;
        d[0] = ws * color[0] + wb * d[0];
        d[1] = ws * color[1] + wb * d[1];
        d[2] = ws * color[2] + wb * d[2];
        d[3] = a_o;
    }
}

/// Dispatches a mode to a monomorphised span kernel.
pub fn mode_span(mode: BlendMode, dst: &mut [f32], top: &[f32], opacity: f32) {
    macro_rules! go {
        ($m:expr) => {
            blend_span(dst, top, opacity, |cb, cs| $m.apply(cb, cs))
        };
    }
    match mode {
        BlendMode::Normal => over_span(dst, top, opacity),
        BlendMode::Multiply => go!(BlendMode::Multiply),
        BlendMode::Screen => go!(BlendMode::Screen),
        BlendMode::Overlay => go!(BlendMode::Overlay),
        BlendMode::SoftLight => go!(BlendMode::SoftLight),
        BlendMode::HardLight => go!(BlendMode::HardLight),
        BlendMode::Add => go!(BlendMode::Add),
        BlendMode::Subtract => go!(BlendMode::Subtract),
        BlendMode::Difference => go!(BlendMode::Difference),
        BlendMode::Darken => go!(BlendMode::Darken),
        BlendMode::Lighten => go!(BlendMode::Lighten),
        BlendMode::ColorDodge => go!(BlendMode::ColorDodge),
        BlendMode::ColorBurn => go!(BlendMode::ColorBurn),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed W3C values for Cb = 0.6, Cs = 0.3 and Cb = 0.2, Cs = 0.8 (both branches).
    #[test]
    fn formulas_match_hand_computed_values() {
        let cases: [(BlendMode, f32, f32); 13] = [
            // (mode, B(0.6, 0.3), B(0.2, 0.8))
            (BlendMode::Normal, 0.3, 0.8),
            (BlendMode::Multiply, 0.18, 0.16),
            (BlendMode::Screen, 0.72, 0.84),
            // overlay: Cb = 0.6 > 0.5 -> screen(0.3, 0.2) = 0.44; Cb = 0.2 -> 0.8 * 0.4 = 0.32
            (BlendMode::Overlay, 0.44, 0.32),
            // soft light: Cs = 0.3 -> 0.6 - 0.4 * 0.6 * 0.4 = 0.504;
            // Cs = 0.8, Cb = 0.2 <= 0.25: D = ((3.2 - 12) * 0.2 + 4) * 0.2 = 0.448; 0.2 + 0.6 * 0.248 = 0.3488
            (BlendMode::SoftLight, 0.504, 0.3488),
            // hard light: Cs = 0.3 -> 0.6 * 0.6 = 0.36; Cs = 0.8 -> screen(0.2, 0.6) = 0.68
            (BlendMode::HardLight, 0.36, 0.68),
            (BlendMode::Add, 0.9, 1.0),
            (BlendMode::Subtract, 0.3, -0.6),
            (BlendMode::Difference, 0.3, 0.6),
            (BlendMode::Darken, 0.3, 0.2),
            (BlendMode::Lighten, 0.6, 0.8),
            // dodge: 0.6 / 0.7 = 0.857142; 0.2 / 0.2 = 1
            (BlendMode::ColorDodge, 0.857_142_9, 1.0),
            // burn: 1 - min(1, 0.4 / 0.3) = 0; 1 - 0.8 / 0.8 = 0
            (BlendMode::ColorBurn, 0.0, 0.0),
        ];
        for (mode, want1, want2) in cases {
            let got1 = mode.apply(0.6, 0.3);
            let got2 = mode.apply(0.2, 0.8);
            assert!((got1 - want1).abs() < 1e-5, "{mode}: B(0.6, 0.3) = {got1}, want {want1}");
            assert!((got2 - want2).abs() < 1e-5, "{mode}: B(0.2, 0.8) = {got2}, want {want2}");
        }
        // Soft light's square-root branch: Cb = 0.64 > 0.25, Cs = 0.75: 0.64 + 0.5 * (0.8 - 0.64) = 0.72.
        assert!((BlendMode::SoftLight.apply(0.64, 0.75) - 0.72).abs() < 1e-6);
        // Burn's middle branch: 1 - 0.5 / 0.8 = 0.375.
        assert!((BlendMode::ColorBurn.apply(0.5, 0.8) - 0.375).abs() < 1e-6);
    }

    #[test]
    fn partial_alpha_follows_the_general_formula() {
        // αs = 0.5, αb = 0.8, Cs = 0.3, Cb = 0.6, multiply B = 0.18.
        // αo = 0.5 + 0.8 * 0.5 = 0.9; co = 0.5*0.2*0.3 + 0.5*0.8*0.18 + 0.5*0.8*0.6 = 0.03 + 0.072 + 0.24 = 0.342
        let b = |cb, cs| BlendMode::Multiply.apply(cb, cs);
        let out = blend_pixel([0.6, 0.6, 0.6, 0.8], [0.3, 0.3, 0.3, 0.5], 1.0, &b);
        assert!((out[3] - 0.9).abs() < 1e-6);
        assert!((out[0] - 0.342 / 0.9).abs() < 1e-6, "{out:?}");
        // Opacity 0.5 on an opaque top is the same as αs = 0.5.
        let half = blend_pixel([0.6, 0.6, 0.6, 0.8], [0.3, 0.3, 0.3, 1.0], 0.5, &b);
        assert!((half[0] - out[0]).abs() < 1e-6 && (half[3] - out[3]).abs() < 1e-6);
    }

    #[test]
    fn over_span_agrees_with_the_general_kernel() {
        let normal = |_cb: f32, cs: f32| cs;
        let backs = [[0.6, 0.2, 0.9, 1.0], [0.1, 0.5, 0.3, 0.4], [0.0, 0.0, 0.0, 0.0]];
        let tops = [[0.3, 0.7, 0.1, 0.25], [0.9, 0.9, 0.2, 1.0], [0.4, 0.4, 0.4, 0.0]];
        for back in backs {
            for top in tops {
                let want = blend_pixel(back, top, 0.8, &normal);
                let mut d = back.to_vec();
                over_span(&mut d, &top, 0.8);
                for c in 0..4 {
                    assert!((d[c] - want[c]).abs() < 1e-6, "{back:?} {top:?}: {d:?} vs {want:?}");
                }
            }
        }
    }

    #[test]
    fn unknown_mode_lists_the_valid_ones() {
        let e = "burn".parse::<BlendMode>().unwrap_err().to_string();
        assert!(e.contains("unknown blend mode 'burn'") && e.contains("color_burn") && e.contains("soft_light"), "{e}");
        assert_eq!("Soft-Light".parse::<BlendMode>().unwrap(), BlendMode::SoftLight);
    }
}
