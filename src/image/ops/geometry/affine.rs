//! `rotate`, `translate` and `affine`: build the forward transform, invert it and hand the
//! inverse to the sampler.
//!
//! The forward transform of `affine` is `p' = origin + translate + R·Sh·S·(p − origin)`: scale
//! first, then shear, then rotate, then move (CSS `translate() rotate() skew() scale()` read right
//! to left). `origin` defaults to the image centre. A positive angle turns clockwise on screen:
//! with y pointing down, `R = [cos −sin; sin cos]` sends +x towards +y.
//!
//! `expand` sizes the canvas to the bounding box of the transformed image (rounded up; a box
//! within 1e-6 of a whole size is not rounded up) and centres the box on it, so a `translate` with
//! `expand` is an error rather than silently lost. `rotate` expands by default (ImageMagick, libvips); `affine` and
//! `translate` keep the canvas (CSS, Pillow's `transform`).
//!
//! `edge` (see `ops::edge`) says what the sampler reads past the source: `"transparent"`, the
//! default, shows `background` there; `"wrap"`, the default for a tileable image, repeats the
//! image (a `translate` of a texture scrolls it round, like Substance's offset); `"clamp"` and
//! `"mirror"` extend it. `background` shows only with `"transparent"`. The result stays tagged
//! tileable when the image was, the edge wraps and the map sends the image's period lattice onto
//! itself: a pure translation, or a quarter turn or flip whose canvas is the turned canvas.

use super::sampler::{sample_into, Inverse, Source};
use super::{blank, finite, from_linear, to_linear, Filter};
use crate::error::{Error, Result};
use crate::image::buffer::CHANNELS;
use crate::image::color::srgb_to_linear;
use crate::image::ops::edge::{self, Edge};
use crate::image::{Color, Image};
use crate::options::{show_number, At, OptionType, OptionValue};

crate::option_set! {
    /// How the sampler reconstructs pixels and what it shows where the source does not reach;
    /// the options of `translate(dx, dy, #{ ... })`.
    #[derive(Copy)]
    pub struct Sampling for "translate" {
        /// Reconstruction filter.
        filter: Filter = Filter::Bilinear;
        /// Colour where the source does not reach.
        background: Color = Color::TRANSPARENT;
        /// Interpolate in linear light.
        linear: bool = false;
        /// What the sampler reads past the image: "transparent" (the background), "clamp", "wrap"
        /// or "mirror". Default: transparent, or wrap for a tileable image.
        edge: Option<Edge> = None;
    }
}

crate::option_set! {
    /// Options for [`rotate`] (`rotate(deg, #{ ... })`).
    #[derive(Copy)]
    pub struct Rotate for "rotate" {
        /// Grow the canvas to hold the whole rotated image (false keeps the canvas).
        expand: bool = true;
        /// Reconstruction filter.
        filter: Filter = Filter::Bilinear;
        /// Colour where the source does not reach.
        background: Color = Color::TRANSPARENT;
        /// Interpolate in linear light.
        linear: bool = false;
        /// What the sampler reads past the image: "transparent" (the background), "clamp", "wrap"
        /// or "mirror". Default: transparent, or wrap for a tileable image.
        edge: Option<Edge> = None;
    }
}

/// Shear angles in degrees `(x, y)`: `x' = x + tan(x)·y`, `y' = y + tan(y)·x`. A single number
/// shears along x only, like CSS `skew(a)`.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Shear(pub f64, pub f64);

impl OptionType for Shear {
    fn kind() -> String {
        "number (x only) or [x, y]".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<Shear> {
        match value {
            OptionValue::Int(_) | OptionValue::Float(_) => Ok(Shear(f64::read(at, value)?, 0.0)),
            OptionValue::List(items) if items.len() == 2 => {
                Ok(Shear(f64::read(at, &items[0])?, f64::read(at, &items[1])?))
            }
            _ => Err(at.error("must be a number or [x, y]")),
        }
    }
    fn show(&self) -> String {
        format!("[{}, {}]", show_number(self.0), show_number(self.1))
    }
}

crate::option_set! {
    /// Parameters of [`affine`] (`affine(#{ ... })`); the default is the identity.
    #[derive(Copy)]
    pub struct Affine for "affine" {
        /// Shift in pixels `[dx, dy]` after the other parts (not with `expand`).
        translate: (f64, f64) = (0.0, 0.0);
        /// Degrees, clockwise on screen.
        rotate: f64 = 0.0;
        /// Scale `s` or `[sx, sy]`; negative mirrors.
        scale: (f64, f64) = (1.0, 1.0);
        /// Shear angles in degrees `[x, y]`; a single number shears along x.
        shear: Shear = Shear(0.0, 0.0);
        /// The fixed point `[x, y]` of rotate, scale and shear, in pixels; the image centre when absent.
        origin: Option<(f64, f64)> = None;
        /// Size the canvas to the transformed image.
        expand: bool = false;
        /// Reconstruction filter.
        filter: Filter = Filter::Bilinear;
        /// Colour where the source does not reach.
        background: Color = Color::TRANSPARENT;
        /// Interpolate in linear light.
        linear: bool = false;
        /// What the sampler reads past the image: "transparent" (the background), "clamp", "wrap"
        /// or "mirror". Default: transparent, or wrap for a tileable image.
        edge: Option<Edge> = None;
    }
}

/// Rotates by `degrees` clockwise about the centre.
///
/// ```
/// use kiln::ops::geometry::{rotate, Rotate};
/// let img = kiln::Image::new(200, 100)?;
/// let r = rotate(&img, 30.0, &Rotate::default())?;   // expanded canvas
/// assert_eq!(r.dimensions(), (224, 187));
/// # Ok::<(), kiln::Error>(())
/// ```
pub fn rotate(img: &Image, degrees: f64, opts: &Rotate) -> Result<Image> {
    finite("rotate", "angle", degrees)?;
    let a = Affine {
        rotate: degrees,
        expand: opts.expand,
        filter: opts.filter,
        background: opts.background,
        linear: opts.linear,
        edge: opts.edge,
        ..Affine::default()
    };
    transform("rotate", img, &a)
}

/// Moves the image by `(dx, dy)` pixels on the same canvas; uncovered pixels are transparent.
/// Whole-pixel shifts are exact copies.
pub fn translate(img: &Image, dx: f64, dy: f64) -> Result<Image> {
    translate_with(img, dx, dy, &Sampling::default())
}

/// [`translate`] with a filter and background.
pub fn translate_with(img: &Image, dx: f64, dy: f64, sampling: &Sampling) -> Result<Image> {
    finite("translate", "dx", dx)?;
    finite("translate", "dy", dy)?;
    let a = Affine {
        translate: (dx, dy),
        filter: sampling.filter,
        background: sampling.background,
        linear: sampling.linear,
        edge: sampling.edge,
        ..Affine::default()
    };
    transform("translate", img, &a)
}

/// The general affine transform (see the module docs for the order of the parts).
pub fn affine(img: &Image, a: &Affine) -> Result<Image> {
    transform("affine", img, a)
}

/// `(cos, sin)` of an angle in degrees, exact at multiples of 90° so quarter turns map pixel
/// centres onto pixel centres.
fn cos_sin(degrees: f64) -> (f64, f64) {
    let quarter = degrees / 90.0;
    if quarter == quarter.round() {
        return match (quarter.rem_euclid(4.0)) as i64 {
            0 => (1.0, 0.0),
            1 => (0.0, 1.0),
            2 => (-1.0, 0.0),
            _ => (0.0, -1.0),
        };
    }
    let r = degrees.to_radians();
    (r.cos(), r.sin())
}

fn transform(op: &str, img: &Image, p: &Affine) -> Result<Image> {
    let bg = check_finite(op, p)?;
    let (w, h) = (img.width() as f64, img.height() as f64);
    let (ox, oy) = p.origin.unwrap_or((w / 2.0, h / 2.0));
    finite(op, "origin x", ox)?;
    finite(op, "origin y", oy)?;
    let (m, det) = linear_part(op, p)?;
    if p.expand && p.translate != (0.0, 0.0) {
        // The expanded canvas is fitted to the result, so the move would be silently lost.
        return Err(Error::param(
            op,
            "'translate' has no effect with expand: true (the canvas is fitted to the result)",
        ));
    }
    let forward = |x: f64, y: f64| {
        let (dx, dy) = (x - ox, y - oy);
        (ox + p.translate.0 + m[0] * dx + m[1] * dy, oy + p.translate.1 + m[2] * dx + m[3] * dy)
    };
    let (out_w, out_h, shift) = if p.expand {
        expanded_canvas(op, [forward(0.0, 0.0), forward(w, 0.0), forward(0.0, h), forward(w, h)])?
    } else {
        (img.width() as i64, img.height() as i64, (0.0, 0.0))
    };
    let (out_w, out_h, out) = blank(op, out_w, out_h)?;

    // Inverse: p = M⁻¹ (q + shift − origin − translate) + origin.
    let inv = [m[3] / det, -m[1] / det, -m[2] / det, m[0] / det];
    let (cx, cy) = (shift.0 - ox - p.translate.0, shift.1 - oy - p.translate.1);
    let map = Inverse {
        a: inv[0],
        b: inv[1],
        c: inv[2],
        d: inv[3],
        tx: inv[0] * cx + inv[1] * cy + ox,
        ty: inv[2] * cx + inv[3] * cy + oy,
    };
    let edge = edge::resolve(p.edge, img, Edge::Transparent);
    let out = match integer_shift(img, &map, out_w, out_h, bg, edge) {
        Some(copy) => copy,
        None => resample(img, out, (out_w, out_h), map, p, bg, edge)?,
    };
    // The period lattice (w, 0), (0, h) must map onto the output's: signed permutation matrices
    // whose canvas is the permuted canvas.
    let keeps = edge::keeps_tileable(edge, img) && {
        let unit = |v: f64| v == 0.0 || v.abs() == 1.0;
        let (wi, hi) = (img.width(), img.height());
        m.iter().all(|&v| unit(v))
            && ((m[1] == 0.0 && m[2] == 0.0 && (out_w, out_h) == (wi, hi))
                || (m[0] == 0.0 && m[3] == 0.0 && (out_w, out_h) == (hi, wi)))
    };
    Ok(out.with_tileable(keeps))
}

/// Every number of the transform must be finite; returns the checked background.
fn check_finite(op: &str, p: &Affine) -> Result<Color> {
    let what = |w: &str, v: f64| finite(op, w, v);
    what("translate x", p.translate.0)?;
    what("translate y", p.translate.1)?;
    what("rotate", p.rotate)?;
    what("scale x", p.scale.0)?;
    what("scale y", p.scale.1)?;
    what("shear x", p.shear.0)?;
    what("shear y", p.shear.1)?;
    p.background.validate(op)
}

/// The forward linear part M = R · Sh · S as `[m00, m01, m10, m11]`, and its determinant (refused
/// when the transform squashes the image flat).
fn linear_part(op: &str, p: &Affine) -> Result<([f64; 4], f64)> {
    let (cos, sin) = cos_sin(p.rotate);
    let (tx, ty) = (shear_tan(op, p.shear.0)?, shear_tan(op, p.shear.1)?);
    let (sx, sy) = p.scale;
    // Sh·S = [sx, tx·sy; ty·sx, sy]
    let (s00, s01, s10, s11) = (sx, tx * sy, ty * sx, sy);
    let m = [cos * s00 - sin * s10, cos * s01 - sin * s11, sin * s00 + cos * s10, sin * s01 + cos * s11];
    let det = m[0] * m[3] - m[1] * m[2];
    if !det.is_finite() || det.abs() < 1e-12 {
        return Err(Error::param(op, "the transform squashes the image flat (a scale of 0 or a shear near ±90°)"));
    }
    Ok((m, det))
}

/// The canvas that holds the transformed corners, and the shift from output positions to
/// forward-transformed positions (the bounding box centred on the canvas).
fn expanded_canvas(op: &str, corners: [(f64, f64); 4]) -> Result<(i64, i64, (f64, f64))> {
    let (mut x0, mut y0, mut x1, mut y1) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in corners {
        (x0, y0, x1, y1) = (x0.min(x), y0.min(y), x1.max(x), y1.max(y));
    }
    let size = |extent: f64| (extent - 1e-6).ceil().max(1.0);
    let (ow, oh) = (size(x1 - x0), size(y1 - y0));
    if ow > i64::MAX as f64 / 4.0 || oh > i64::MAX as f64 / 4.0 {
        return Err(Error::Limit(format!("{op}: the expanded canvas is over the size limit")));
    }
    Ok((ow as i64, oh as i64, ((x0 + x1) / 2.0 - ow / 2.0, (y0 + y1) / 2.0 - oh / 2.0)))
}

/// Samples `img` through `map` into `out` (premultiplied, in linear light when asked).
fn resample(
    img: &Image,
    mut out: Vec<f32>,
    (out_w, out_h): (u32, u32),
    map: Inverse,
    p: &Affine,
    bg: Color,
    edge: Edge,
) -> Result<Image> {
    let linear = p.linear;
    let mut src = if linear { to_linear(img) } else { img.clone() };
    let bg =
        if linear { Color::new(srgb_to_linear(bg.r), srgb_to_linear(bg.g), srgb_to_linear(bg.b), bg.a) } else { bg };
    let opaque = src.is_opaque();
    if !opaque {
        src = src.premultiplied();
    }
    let bg_pre = [bg.r * bg.a, bg.g * bg.a, bg.b * bg.a, bg.a];
    let source = Source { pixels: src.pixels(), width: src.width() as usize, height: src.height() as usize, edge };
    // An opaque source over an opaque background gives alpha 1 everywhere: nothing to divide
    // (nor when the background never shows).
    let unpremultiply = !(opaque && (bg.a >= 1.0 || edge != Edge::Transparent));
    sample_into(&source, &mut out, out_w as usize, map, p.filter, bg_pre, unpremultiply);
    // Rows are skipped once the run is stopped; a half-sampled buffer never becomes an image.
    crate::cancel::checkpoint()?;
    let out = Image::from_rgba(out_w, out_h, out)?;
    Ok(if linear { from_linear(&out) } else { out })
}

fn shear_tan(op: &str, degrees: f64) -> Result<f64> {
    if degrees.abs() >= 89.9 {
        return Err(Error::param(op, format!("shear angles must be between -89.9 and 89.9 degrees, got {degrees}")));
    }
    Ok(degrees.to_radians().tan())
}

/// When the map is a whole-pixel shift (identity linear part), copies rows instead of sampling:
/// exact, and much faster.
fn integer_shift(img: &Image, m: &Inverse, out_w: u32, out_h: u32, bg: Color, edge: Edge) -> Option<Image> {
    if (m.a, m.b, m.c, m.d) != (1.0, 0.0, 0.0, 1.0) || m.tx != m.tx.round() || m.ty != m.ty.round() {
        return None;
    }
    let (dx, dy) = (m.tx as i64, m.ty as i64);
    let (iw, ih) = (img.width() as i64, img.height() as i64);
    let fill = bg.to_array();
    Image::from_fn(out_w, out_h, |x, y| {
        let (sx, sy) = ((x as i64).saturating_add(dx), (y as i64).saturating_add(dy));
        let (sx, sy) = match (edge.index(sx, iw as usize), edge.index(sy, ih as usize)) {
            (Some(sx), Some(sy)) => (sx as i64, sy as i64),
            _ => (-1, -1),
        };
        if sx < 0 || sy < 0 || sx >= iw || sy >= ih {
            fill
        } else {
            let i = (sy as usize * iw as usize + sx as usize) * CHANNELS;
            let p = &img.pixels()[i..i + CHANNELS];
            [p[0], p[1], p[2], p[3]]
        }
    })
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::geometry::{rotate180, rotate270, rotate90};

    fn photo(w: u32, h: u32) -> Image {
        Image::from_fn(w, h, |x, y| {
            let v = ((x * 37 + y * 91) % 101) as f32 / 100.0;
            [v, (x as f32 / w as f32), (y as f32 / h as f32), 1.0]
        })
        .unwrap()
    }

    fn max_diff(a: &Image, b: &Image) -> f32 {
        assert_eq!(a.dimensions(), b.dimensions());
        a.pixels().iter().zip(b.pixels()).map(|(x, y)| (x - y).abs()).fold(0.0, f32::max)
    }

    #[test]
    fn quarter_turns_match_the_exact_ops() {
        let img = photo(7, 4);
        for filter in [Filter::Nearest, Filter::Bilinear, Filter::Bicubic, Filter::Lanczos3] {
            let opts = Rotate { filter, ..Rotate::default() };
            assert!(max_diff(&rotate(&img, 90.0, &opts).unwrap(), &rotate90(&img)) < 1e-4, "{filter:?}");
            assert!(max_diff(&rotate(&img, 180.0, &opts).unwrap(), &rotate180(&img)) < 1e-4);
            assert!(max_diff(&rotate(&img, -90.0, &opts).unwrap(), &rotate270(&img)) < 1e-4);
            assert!(max_diff(&rotate(&img, 360.0, &opts).unwrap(), &img) < 1e-4);
        }
    }

    #[test]
    fn positive_angles_turn_clockwise() {
        // A white dot right of centre on a 21x21 canvas ends up below the centre after +90°.
        let img =
            Image::from_fn(21, 21, |x, y| if (x, y) == (15, 10) { [1.0; 4] } else { [0.0, 0.0, 0.0, 1.0] }).unwrap();
        let r = rotate(&img, 90.0, &Rotate::default()).unwrap();
        assert_eq!(r.get(10, 15).unwrap().r, 1.0);
    }

    #[test]
    fn expanded_size_and_corners() {
        let img = Image::filled(200, 100, Color::WHITE).unwrap();
        let r = rotate(&img, 30.0, &Rotate::default()).unwrap();
        // 200·cos30 + 100·sin30 = 223.2, 200·sin30 + 100·cos30 = 186.6
        assert_eq!(r.dimensions(), (224, 187));
        assert_eq!(r.get(0, 0).unwrap().a, 0.0);
        assert_eq!(r.get(112, 93).unwrap(), Color::WHITE);
        let kept = rotate(&img, 30.0, &Rotate { expand: false, ..Rotate::default() }).unwrap();
        assert_eq!(kept.dimensions(), (200, 100));
    }

    #[test]
    fn background_fills_and_edges_are_antialiased() {
        let img = Image::filled(64, 64, Color::WHITE).unwrap();
        let opts = Rotate { background: Color::BLACK, ..Rotate::default() };
        let r = rotate(&img, 30.0, &opts).unwrap();
        assert_eq!(r.get(0, 0), Some(Color::BLACK));
        // Some pixels along the edges are strictly between black and white.
        let grey = r.pixels().chunks_exact(4).filter(|p| p[0] > 0.05 && p[0] < 0.95).count();
        assert!(grey > 100, "{grey}");
        assert!(r.is_opaque());
    }

    #[test]
    fn transparent_edges_keep_their_colour() {
        // Red rotated onto transparent: wherever it is visible it stays pure red (no dark fringe).
        let img = Image::filled(40, 40, Color::rgb(1.0, 0.0, 0.0)).unwrap();
        for filter in [Filter::Bilinear, Filter::Bicubic, Filter::Lanczos3] {
            let opts = Rotate { filter, ..Rotate::default() };
            let r = rotate(&img, 17.0, &opts).unwrap();
            for px in r.pixels().chunks_exact(4).filter(|p| p[3] > 0.05) {
                assert!((px[0] - 1.0).abs() < 1e-4 && px[1].abs() < 1e-4, "{filter:?} {px:?}");
            }
        }
    }

    #[test]
    fn integer_translate_is_an_exact_shift() {
        let img = photo(9, 6);
        let t = translate(&img, 2.0, -1.0).unwrap();
        assert_eq!(t.dimensions(), img.dimensions());
        assert_eq!(t.get(2, 0), img.get(0, 1));
        assert_eq!(t.get(8, 4), img.get(6, 5));
        assert_eq!(t.get(1, 3).unwrap(), Color::TRANSPARENT);
        assert_eq!(t.get(3, 5).unwrap(), Color::TRANSPARENT);
    }

    #[test]
    fn half_pixel_translate_averages() {
        let img = Image::from_fn(4, 1, |x, _| [x as f32, 0.0, 0.0, 1.0]).unwrap();
        let t = translate(&img, 0.5, 0.0).unwrap();
        // Output pixel 2 sits halfway between inputs 1 and 2.
        assert!((t.get(2, 0).unwrap().r - 1.5).abs() < 1e-6);
    }

    #[test]
    fn affine_scale_shear_and_origin() {
        let img = photo(16, 16);
        // Scale 2 about the top-left corner: output (2x, 2y) + 1 comes from the input pixel centre.
        let a = Affine { scale: (2.0, 2.0), origin: Some((0.0, 0.0)), ..Affine::default() };
        let s = affine(&img, &a).unwrap();
        // Output pixel (5, 4) has centre (5.5, 4.5) -> source (2.75, 2.25): u = 2.25 between
        // columns 2 and 3, v = 1.75 between rows 1 and 2.
        let row = |y: i64| img.get(2, y).unwrap().r * 0.75 + img.get(3, y).unwrap().r * 0.25;
        let want = row(1) * 0.25 + row(2) * 0.75;
        assert!((s.get(5, 4).unwrap().r - want).abs() < 1e-5);
        // Expand with a shear grows the canvas by tan(shear)·height.
        let sh = Affine { shear: Shear(45.0, 0.0), expand: true, ..Affine::default() };
        assert_eq!(affine(&img, &sh).unwrap().dimensions(), (32, 16));
        // Mirror by a negative scale is flip_h.
        let m = Affine { scale: (-1.0, 1.0), ..Affine::default() };
        assert!(max_diff(&affine(&img, &m).unwrap(), &crate::ops::geometry::flip_h(&img)) < 1e-6);
    }

    #[test]
    fn bad_parameters_are_errors() {
        let img = photo(8, 8);
        let flat = Affine { scale: (0.0, 1.0), ..Affine::default() };
        assert!(affine(&img, &flat).unwrap_err().to_string().contains("flat"));
        let shear = Affine { shear: Shear(90.0, 0.0), ..Affine::default() };
        assert!(affine(&img, &shear).unwrap_err().to_string().contains("shear"));
        assert!(rotate(&img, f64::NAN, &Rotate::default()).unwrap_err().to_string().contains("angle"));
        assert!(translate(&img, f64::INFINITY, 0.0).is_err());
        let huge = Affine { scale: (1e9, 1e9), expand: true, ..Affine::default() };
        assert!(matches!(affine(&img, &huge), Err(Error::Limit(_))));
        let nan_bg = Rotate { background: Color::new(f32::NAN, 0.0, 0.0, 1.0), ..Rotate::default() };
        assert!(rotate(&img, 10.0, &nan_bg).is_err());
        let origin = Affine { origin: Some((f64::NAN, 0.0)), ..Affine::default() };
        assert!(affine(&img, &origin).is_err());
    }

    #[test]
    fn option_sets_read_from_pairs() {
        use crate::options::{OptionSet, OptionValue};
        let (int, float, list) = (OptionValue::Int, OptionValue::Float, OptionValue::List);
        let affine = |pairs: &[(&str, OptionValue)]| Affine::from_pairs(pairs.iter().map(|(k, v)| (*k, v)));
        assert_eq!(affine(&[]).unwrap(), Affine::default());
        let a = affine(&[
            ("shear", int(20)),
            ("scale", float(0.5)),
            ("origin", list(vec![int(1), float(2.5)])),
            ("filter", OptionValue::Text("lanczos3".into())),
        ])
        .unwrap();
        // A bare shear is along x only; a bare scale is both sides.
        assert_eq!(
            (a.shear, a.scale, a.origin, a.filter),
            (Shear(20.0, 0.0), (0.5, 0.5), Some((1.0, 2.5)), Filter::Lanczos3)
        );
        assert_eq!(affine(&[("shear", list(vec![int(1), int(2)]))]).unwrap().shear, Shear(1.0, 2.0));
        let msg = |pairs: &[(&str, OptionValue)]| affine(pairs).unwrap_err().to_string();
        assert_eq!(
            msg(&[("shear", list(vec![int(1), int(2), int(3)]))]),
            "affine: option 'shear' must be a number or [x, y]"
        );
        assert_eq!(
            msg(&[("filter", OptionValue::Text("bicubc".into()))]),
            "affine: option 'filter' must be one of nearest, bilinear, bicubic, lanczos3, got \"bicubc\" (did you mean 'bicubic'?)"
        );
        assert!(msg(&[("orign", int(0))]).starts_with("affine: unknown option 'orign' (did you mean 'origin'?)"));
        // rotate expands by default, translate and affine do not; all sample bilinearly.
        let r = Rotate::from_pairs([]).unwrap();
        assert!(r.expand && r.filter == Filter::Bilinear && r.background == Color::TRANSPARENT);
        assert_eq!(Sampling::default().filter, Filter::Bilinear);
        let keys: Vec<String> = Affine::keys().iter().map(|k| k.describe()).collect();
        assert!(keys.contains(&"`shear` (number (x only) or [x, y], default [0, 0]): Shear angles in degrees `[x, y]`; a single number shears along x.".to_string()), "{keys:?}");
    }
}
