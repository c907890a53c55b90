//! Text: lays out and rasterises a string with a bundled or user font, and measures it.
//!
//! Owns: font selection ("sans", "sans-bold" or a .ttf/.otf path read through a caller-supplied
//! loader), line layout (kerning, `\n`, alignment), glyph coverage and the option sets of
//! `draw_text` and `text_size` ([`TextStyle`], [`TextSize`]). Must not know about Rhai or the run's
//! path policy: the script binding passes a loader that checks the policy.
//!
//! The bundled fonts are DejaVu Sans and DejaVu Sans Bold (`assets/fonts/`, Bitstream Vera
//! licence), embedded with `include_bytes!`. Glyphs are rasterised by `ab_glyph` (exact area
//! coverage, sub-pixel positions) with the font's `kern` table; there is no shaping (ligatures,
//! right-to-left, combining marks), which would need a shaper such as rustybuzz.
//!
//! Layout: `size` is the em size in pixels (CSS `font-size`). Lines are `ascent − descent +
//! line gap` apart. The text box is as wide as the widest line and as tall as the lines
//! (the last without its line gap). `(x, y)` is the top-left of the box with `align: left`, the
//! top-centre with `center` and the top-right with `right`; each line is aligned within the box.
//! Glyphs are painted source-over in the colour, coverage × colour alpha.

use ab_glyph::{Font, FontArc, FontRef, Glyph, PxScale, ScaleFont};

use crate::error::{Error, Result};
use crate::image::buffer::{Image, CHANNELS};
use crate::image::color::Color;
use crate::image::ops::composite::blend::over_span_color;

/// DejaVu Sans.
pub static SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
/// DejaVu Sans Bold.
pub static SANS_BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// Largest accepted font size in pixels (one glyph's raster grows with its square).
pub const MAX_SIZE: f32 = 4096.0;

/// Horizontal alignment of the lines, and what `x` means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Align {
    /// `x` is the left edge.
    #[default]
    Left,
    /// `x` is the centre.
    Center,
    /// `x` is the right edge.
    Right,
}

impl std::str::FromStr for Align {
    type Err = Error;

    fn from_str(s: &str) -> Result<Align> {
        match s.trim().to_ascii_lowercase().as_str() {
            "left" => Ok(Align::Left),
            "center" | "centre" => Ok(Align::Center),
            "right" => Ok(Align::Right),
            _ => Err(Error::param("draw_text", format!("unknown align '{s}'; valid values are: left, center, right"))),
        }
    }
}

/// The em size and font every text op starts from.
const DEFAULT_SIZE: f32 = 16.0;
const DEFAULT_FONT: &str = "sans";

// "centre" is a second word for `Center`; the generated `show` lists both arms.
#[allow(unreachable_patterns)]
mod align_words {
    crate::option_choice!(super::Align { Left = "left", Center = "center", Center = "centre", Right = "right" });
}

crate::option_set! {
    /// How to draw text: the options of `draw_text(text, x, y, #{ ... })`.
    pub struct TextStyle for "draw_text" {
        /// Em size in pixels.
        size: f32 = DEFAULT_SIZE, range(0, MAX_SIZE);
        /// Colour.
        color: Color = Color::BLACK;
        /// "sans", "sans-bold" or a font file path handed to the loader.
        font: String = DEFAULT_FONT.into();
        /// Alignment: `x` is the left edge, centre or right edge of the text box.
        align: Align = Align::Left;
    }
}

crate::option_set! {
    /// The options of `text_size(text, #{ ... })`: what measuring needs of a [`TextStyle`].
    pub struct TextSize for "text_size" {
        /// Em size in pixels.
        size: f32 = DEFAULT_SIZE, range(0, MAX_SIZE);
        /// "sans", "sans-bold" or a font file path handed to the loader.
        font: String = DEFAULT_FONT.into();
    }
}

/// Reads a font file's bytes given its name; the script host checks its read policy here.
pub type FontLoader<'a> = &'a dyn Fn(&str) -> Result<Vec<u8>>;

/// A loader that reads any path from disk (for plain Rust use).
pub fn read_font_file(path: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// Resolves a font name: the bundled faces, or bytes from the loader.
pub fn load_font(op: &str, name: &str, load: FontLoader) -> Result<FontArc> {
    match name {
        "sans" => {
            Ok(FontArc::new(FontRef::try_from_slice(SANS).map_err(|e| Error::Internal(format!("bundled font: {e}")))?))
        }
        "sans-bold" => Ok(FontArc::new(
            FontRef::try_from_slice(SANS_BOLD).map_err(|e| Error::Internal(format!("bundled font: {e}")))?,
        )),
        path => {
            let bytes = load(path)?;
            FontArc::try_from_vec(bytes).map_err(|_| {
                Error::param(
                    op,
                    format!(
                        "'{path}' is not a TrueType/OpenType font (use \"sans\", \"sans-bold\" or a .ttf/.otf file)"
                    ),
                )
            })
        }
    }
}

/// One laid-out piece of text: positioned glyphs and the box they fill.
struct Layout {
    glyphs: Vec<Glyph>,
    width: f32,
    height: f32,
}

fn check_size(op: &str, size: f32) -> Result<()> {
    if !(size.is_finite() && size > 0.0 && size <= MAX_SIZE) {
        return Err(Error::param(op, format!("size must be a number in (0, {MAX_SIZE}], got {size}")));
    }
    Ok(())
}

fn layout(font: &FontArc, text: &str, size: f32, x: f32, y: f32, align: Align) -> Layout {
    let upem = font.units_per_em().unwrap_or(1000.0);
    let scale = PxScale::from(size * font.height_unscaled() / upem);
    let sf = font.as_scaled(scale);
    let line_height = sf.ascent() - sf.descent() + sf.line_gap();
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let widths: Vec<f32> = lines.iter().map(|l| line_width(&sf, l)).collect();
    let width = widths.iter().cloned().fold(0.0f32, f32::max);
    let height = (lines.len() - 1) as f32 * line_height + sf.ascent() - sf.descent();
    let mut glyphs = Vec::new();
    for (i, (line, lw)) in lines.iter().zip(&widths).enumerate() {
        let mut pen = match align {
            Align::Left => x,
            Align::Center => x - lw / 2.0,
            Align::Right => x - lw,
        };
        let baseline = y + sf.ascent() + i as f32 * line_height;
        let mut prev = None;
        for ch in line.chars() {
            let id = sf.glyph_id(ch);
            if let Some(p) = prev {
                pen += sf.kern(p, id);
            }
            glyphs.push(id.with_scale_and_position(scale, ab_glyph::point(pen, baseline)));
            pen += sf.h_advance(id);
            prev = Some(id);
        }
    }
    Layout { glyphs, width, height }
}

fn line_width<F: Font>(sf: &ab_glyph::PxScaleFont<F>, line: &str) -> f32 {
    let mut w = 0.0;
    let mut prev = None;
    for ch in line.chars() {
        let id = sf.glyph_id(ch);
        if let Some(p) = prev {
            w += sf.kern(p, id);
        }
        w += sf.h_advance(id);
        prev = Some(id);
    }
    w
}

/// Width and height in pixels of the box `text` fills at `size` with font `font`.
pub fn text_size(text: &str, size: f32, font: &str, load: FontLoader) -> Result<(f32, f32)> {
    check_size("text_size", size)?;
    let f = load_font("text_size", font, load)?;
    let l = layout(&f, text, size, 0.0, 0.0, Align::Left);
    Ok((l.width, l.height))
}

/// `text` drawn onto `img` at `(x, y)` (see the module docs for what x and y mean with `align`).
pub fn draw_text(img: &Image, text: &str, x: f32, y: f32, style: &TextStyle, load: FontLoader) -> Result<Image> {
    let op = "draw_text";
    for (what, v) in [("x", x), ("y", y)] {
        if !v.is_finite() {
            return Err(Error::param(op, format!("{what} must be a finite number, got {v}")));
        }
    }
    check_size(op, style.size)?;
    style.color.validate(op)?;
    let font = load_font(op, &style.font, load)?;
    let l = layout(&font, text, style.size, x, y, style.align);
    let (w, h) = (img.width() as i64, img.height() as i64);
    let outlined: Vec<_> = l.glyphs.into_iter().filter_map(|g| font.outline_glyph(g)).collect();
    // Union of the glyphs' pixel bounds, clipped to the image.
    let (mut x0, mut y0, mut x1, mut y1) = (w, h, 0i64, 0i64);
    for g in &outlined {
        let b = g.px_bounds();
        x0 = x0.min((b.min.x.floor() as i64).max(0));
        y0 = y0.min((b.min.y.floor() as i64).max(0));
        x1 = x1.max((b.max.x.ceil() as i64).min(w));
        y1 = y1.max((b.max.y.ceil() as i64).min(h));
    }
    let mut out = img.clone();
    if x1 <= x0 || y1 <= y0 {
        return Ok(out);
    }
    let (cw, ch) = ((x1 - x0) as usize, (y1 - y0) as usize);
    let mut cov = vec![0.0f32; cw * ch];
    for g in &outlined {
        let b = g.px_bounds();
        let (gx, gy) = (b.min.x as i64, b.min.y as i64);
        g.draw(|px, py, c| {
            let (ix, iy) = (gx + px as i64 - x0, gy + py as i64 - y0);
            if ix >= 0 && iy >= 0 && (ix as usize) < cw && (iy as usize) < ch {
                let v = &mut cov[iy as usize * cw + ix as usize];
                // Overlapping glyphs combine like layers painted one after another.
                *v = 1.0 - (1.0 - *v) * (1.0 - c.clamp(0.0, 1.0));
            }
        });
    }
    let c = style.color.to_array();
    let stride = out.stride();
    let pixels = out.pixels_mut();
    for (r, crow) in cov.chunks_exact(cw).enumerate() {
        let start = (y0 as usize + r) * stride + x0 as usize * CHANNELS;
        over_span_color(&mut pixels[start..start + cw * CHANNELS], c, |i| crow[i]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_files(path: &str) -> Result<Vec<u8>> {
        Err(Error::param("draw_text", format!("no files in tests: {path}")))
    }

    #[test]
    fn text_paints_inside_its_reported_box() {
        let img = Image::new(300, 120).unwrap();
        let style = TextStyle { size: 32.0, ..TextStyle::default() };
        let text = "Hej, kiln!\nQuartz gyp";
        let (tw, th) = text_size(text, 32.0, "sans", &no_files).unwrap();
        assert!(tw > 100.0 && tw < 250.0 && th > 60.0 && th < 90.0, "{tw}x{th}");
        let out = draw_text(&img, text, 20.0, 10.0, &style, &no_files).unwrap();
        let mut painted = 0;
        for y in 0..120 {
            for x in 0..300 {
                if out.get(x, y).unwrap().a > 0.0 {
                    painted += 1;
                    let (fx, fy) = (x as f32, y as f32);
                    assert!(
                        fx >= 19.0 && fx < 20.0 + tw + 1.0 && fy >= 9.0 && fy < 10.0 + th + 1.0,
                        "pixel ({x}, {y}) outside the box"
                    );
                }
            }
        }
        assert!(painted > 500, "{painted} pixels painted");
        // Antialiased: some partial coverage, and colour is the style colour.
        assert!(out.pixels().chunks_exact(4).any(|p| p[3] > 0.1 && p[3] < 0.9));
        assert!(out.pixels().chunks_exact(4).filter(|p| p[3] > 0.0).all(|p| p[0] == 0.0));
    }

    #[test]
    fn alignment_moves_the_box() {
        let img = Image::new(200, 40).unwrap();
        let (tw, _) = text_size("kiln", 20.0, "sans-bold", &no_files).unwrap();
        let bounds = |align: Align| {
            let style = TextStyle { size: 20.0, font: "sans-bold".into(), align, ..TextStyle::default() };
            let out = draw_text(&img, "kiln", 100.0, 5.0, &style, &no_files).unwrap();
            let xs: Vec<i64> = (0..200).filter(|&x| (0..40).any(|y| out.get(x, y).unwrap().a > 0.0)).collect();
            (xs[0] as f32, *xs.last().unwrap() as f32)
        };
        let (l0, l1) = bounds(Align::Left);
        let (c0, c1) = bounds(Align::Center);
        let (r0, r1) = bounds(Align::Right);
        assert!((l0 - 100.0).abs() <= 2.0 && l1 <= 100.0 + tw);
        assert!(((c0 + c1) / 2.0 - 100.0).abs() <= 2.0);
        assert!((97.0..=100.0).contains(&r1) && (r0 - (100.0 - tw)).abs() <= 2.0);
        // Kerning is applied: "AV" is narrower than "A" + "V".
        let av = text_size("AV", 50.0, "sans", &no_files).unwrap().0;
        let a = text_size("A", 50.0, "sans", &no_files).unwrap().0;
        let v = text_size("V", 50.0, "sans", &no_files).unwrap().0;
        assert!(av < a + v - 1.0, "AV {av} vs A {a} + V {v}");
    }

    #[test]
    fn bad_inputs() {
        let img = Image::new(10, 10).unwrap();
        let s = TextStyle::default();
        let e = |r: Result<Image>| r.unwrap_err().to_string();
        assert!(e(draw_text(&img, "x", f32::NAN, 0.0, &s, &no_files)).contains("x must be a finite"));
        assert!(e(draw_text(&img, "x", 0.0, 0.0, &TextStyle { size: -3.0, ..s.clone() }, &no_files)).contains("size"));
        assert!(e(draw_text(&img, "x", 0.0, 0.0, &TextStyle { font: "a.ttf".into(), ..s.clone() }, &no_files))
            .contains("no files"));
        let junk = |_: &str| Ok(vec![1u8, 2, 3]);
        assert!(e(draw_text(&img, "x", 0.0, 0.0, &TextStyle { font: "a.ttf".into(), ..s.clone() }, &junk))
            .contains("not a TrueType"));
        assert!("middle".parse::<Align>().is_err());
        // Off-canvas and empty text draw nothing.
        assert_eq!(draw_text(&img, "hello", -500.0, 0.0, &s, &no_files).unwrap(), img);
        assert_eq!(draw_text(&img, "", 0.0, 0.0, &s, &no_files).unwrap(), img);
        // A font file through the loader.
        let real = |_: &str| Ok(SANS_BOLD.to_vec());
        let out = draw_text(&img, "W", 0.0, 0.0, &TextStyle { font: "x.ttf".into(), size: 10.0, ..s }, &real).unwrap();
        assert_ne!(out, img);
    }

    #[test]
    fn text_options_read_from_pairs() {
        use crate::options::{OptionSet, OptionValue};
        let style = |pairs: &[(&str, OptionValue)]| TextStyle::from_pairs(pairs.iter().map(|(k, v)| (*k, v)));
        assert_eq!(
            style(&[]).unwrap(),
            TextStyle { size: 16.0, color: Color::BLACK, font: "sans".into(), align: Align::Left }
        );
        let centred = style(&[("align", OptionValue::Text("centre".into())), ("size", OptionValue::Int(40))]).unwrap();
        assert_eq!((centred.align, centred.size), (Align::Center, 40.0));
        let msg = |pairs: &[(&str, OptionValue)]| style(pairs).unwrap_err().to_string();
        assert_eq!(
            msg(&[("size", OptionValue::Int(5000))]),
            "draw_text: option 'size' must be between 0 and 4096, got 5000"
        );
        assert!(msg(&[("align", OptionValue::Text("middle".into()))])
            .contains("must be one of left, center, centre, right"));
        // text_size takes only what measuring needs.
        let e = TextSize::from_pairs([("color", &OptionValue::Text("red".into()))]).unwrap_err().to_string();
        assert_eq!(e, "text_size: unknown option 'color'; valid options are: font, size");
        assert_eq!(TextSize::default().size, TextStyle::default().size);
    }
}
