//! Drawing: antialiased shapes and SVG path data painted onto an image, and gradients.
//!
//! Owns: [`Style`] (the option set of every `draw_*` op's style map), the shape builders and the
//! bridge from tiny-skia coverage to kiln pixels. Must not know about Rhai or files. SVG path
//! parsing is in [`path`], gradients in [`gradient`], text in the sibling `text` module (which
//! reuses [`paint_coverage`]).
//!
//! How a shape is painted: tiny-skia (the rasteriser resvg uses) builds the path and rasterises its
//! fill, or its stroke outline, into an 8-bit antialiased coverage [`tiny_skia::Mask`] the size of
//! the shape's bounding box clipped to the image. kiln then composites `colour × coverage`
//! source-over onto its own f32 pixels. Nothing is round-tripped through tiny-skia's premultiplied
//! u8 `Pixmap`, so pixels outside the shape keep their exact float (HDR) values and pixels inside
//! lose no precision beyond the 8-bit coverage of the edge.
//!
//! Coordinates are pixels with (0, 0) the top-left corner of the top-left pixel, so pixel centres
//! sit at +0.5 (DESIGN.md §2): `fill_rect(10, 10, 80, 80)` covers pixels 10..=89 exactly.
//! Fill uses the non-zero winding rule (SVG's default); strokes are centred on the outline with
//! butt caps and miter joins (SVG's defaults). A style with neither fill nor stroke fills with black
//! (lines stroke with black); a line with only `fill` strokes with that colour.

pub mod gradient;
pub mod path;

use rayon::prelude::*;
use tiny_skia::{FillRule, Mask, PathBuilder, Rect, Stroke, Transform};

use crate::error::{Error, Result};
use crate::image::buffer::{Image, CHANNELS};
use crate::image::color::Color;

pub use tiny_skia::Path;

crate::option_set! {
    /// How to paint a shape: fill colour, stroke colour and stroke width in pixels; the style map
    /// `#{ fill, stroke, width }` of every `draw_*` op.
    #[derive(Copy)]
    pub struct Style for "draw" {
        /// Fill colour; with neither fill nor stroke, shapes fill with black.
        fill: Option<Color> = None;
        /// Outline colour (lines use it, else `fill`, else black).
        stroke: Option<Color> = None;
        /// Stroke width in pixels (above 0 when there is a stroke).
        width: f32 = 1.0;
    }
}

impl Style {
    /// Filled with `color`, no stroke.
    pub fn fill(color: Color) -> Style {
        Style { fill: Some(color), ..Style::default() }
    }

    /// Outlined with `color`, `width` pixels wide, no fill.
    pub fn stroke(color: Color, width: f32) -> Style {
        Style { stroke: Some(color), width, ..Style::default() }
    }

    fn validate(&self, op: &str) -> Result<()> {
        if let Some(c) = self.fill {
            c.validate(op)?;
        }
        if let Some(c) = self.stroke {
            c.validate(op)?;
        }
        if !(self.width.is_finite() && self.width > 0.0) {
            return Err(Error::param(op, format!("stroke width must be a finite number > 0, got {}", self.width)));
        }
        Ok(())
    }
}

/// Checks that every coordinate is finite.
fn coords(op: &str, values: &[(&str, f32)]) -> Result<()> {
    for (what, v) in values {
        if !v.is_finite() {
            return Err(Error::param(op, format!("{what} must be a finite number, got {v}")));
        }
    }
    Ok(())
}

fn non_negative(op: &str, what: &str, v: f32) -> Result<()> {
    coords(op, &[(what, v)])?;
    if v < 0.0 {
        return Err(Error::param(op, format!("{what} must be >= 0, got {v}")));
    }
    Ok(())
}

/// The whole image with `color` painted over it (source-over; an opaque colour replaces).
pub fn fill(img: &Image, color: Color) -> Result<Image> {
    color.validate("fill")?;
    let c = color.to_array();
    let mut out = img.clone();
    out.rows_mut().for_each(|row| super::composite::blend::over_span_color(row, c, |_| 1.0));
    Ok(out)
}

/// A filled rectangle: `(x, y)` top-left corner, `w` × `h` pixels; fractional edges are antialiased.
pub fn fill_rect(img: &Image, x: f32, y: f32, w: f32, h: f32, color: Color) -> Result<Image> {
    draw_rect_op("fill_rect", img, x, y, w, h, &Style::fill(color))
}

/// A rectangle with a style.
pub fn draw_rect(img: &Image, x: f32, y: f32, w: f32, h: f32, style: &Style) -> Result<Image> {
    draw_rect_op("draw_rect", img, x, y, w, h, style)
}

fn draw_rect_op(op: &str, img: &Image, x: f32, y: f32, w: f32, h: f32, style: &Style) -> Result<Image> {
    coords(op, &[("x", x), ("y", y)])?;
    non_negative(op, "width", w)?;
    non_negative(op, "height", h)?;
    paint_shape(op, img, Rect::from_xywh(x, y, w, h).map(PathBuilder::from_rect), style)
}

/// A circle centred on `(cx, cy)` with radius `r` (0 draws nothing).
pub fn draw_circle(img: &Image, cx: f32, cy: f32, r: f32, style: &Style) -> Result<Image> {
    draw_ellipse_op("draw_circle", img, cx, cy, r, r, style)
}

/// An axis-aligned ellipse centred on `(cx, cy)` with radii `rx`, `ry`.
pub fn draw_ellipse(img: &Image, cx: f32, cy: f32, rx: f32, ry: f32, style: &Style) -> Result<Image> {
    draw_ellipse_op("draw_ellipse", img, cx, cy, rx, ry, style)
}

fn draw_ellipse_op(op: &str, img: &Image, cx: f32, cy: f32, rx: f32, ry: f32, style: &Style) -> Result<Image> {
    coords(op, &[("cx", cx), ("cy", cy)])?;
    non_negative(op, "radius", rx)?;
    non_negative(op, "radius", ry)?;
    paint_shape(op, img, Rect::from_xywh(cx - rx, cy - ry, 2.0 * rx, 2.0 * ry).and_then(PathBuilder::from_oval), style)
}

/// A straight line from `(x0, y0)` to `(x1, y1)`, stroked `style.width` wide.
pub fn draw_line(img: &Image, x0: f32, y0: f32, x1: f32, y1: f32, style: &Style) -> Result<Image> {
    let op = "draw_line";
    coords(op, &[("x0", x0), ("y0", y0), ("x1", x1), ("y1", y1)])?;
    style.validate(op)?;
    let line = Style { fill: None, stroke: style.stroke.or(style.fill).or(Some(Color::BLACK)), width: style.width };
    let mut pb = PathBuilder::new();
    pb.move_to(x0, y0);
    pb.line_to(x1, y1);
    paint_shape(op, img, pb.finish(), &line)
}

/// A closed polygon through `points` (at least 3).
pub fn draw_polygon(img: &Image, points: &[[f32; 2]], style: &Style) -> Result<Image> {
    let op = "draw_polygon";
    if points.len() < 3 {
        return Err(Error::param(op, format!("a polygon needs at least 3 points, got {}", points.len())));
    }
    for (i, [x, y]) in points.iter().enumerate() {
        coords(op, &[(&format!("point {i} x"), *x), (&format!("point {i} y"), *y)])?;
    }
    let mut pb = PathBuilder::new();
    pb.move_to(points[0][0], points[0][1]);
    for [x, y] in &points[1..] {
        pb.line_to(*x, *y);
    }
    pb.close();
    paint_shape(op, img, pb.finish(), style)
}

/// SVG path data (`"M10 10 H 90 V 90 H 10 Z"`; every command, absolute and relative, arcs too).
pub fn draw_path(img: &Image, data: &str, style: &Style) -> Result<Image> {
    let op = "draw_path";
    paint_shape(op, img, path::parse(data)?, style)
}

/// Paints `shape` antialiased, or returns the image unchanged when the shape is empty (a zero
/// size or a degenerate path); the style is checked either way, so a bad colour is an error even
/// for a shape that draws nothing.
fn paint_shape(op: &str, img: &Image, shape: Option<Path>, style: &Style) -> Result<Image> {
    style.validate(op)?;
    match shape {
        Some(p) => paint_path(op, img, &p, style, true),
        None => Ok(img.clone()),
    }
}

/// Paints a tiny-skia path with a style (fill first, then the stroke on top) into a new image.
pub fn paint_path(op: &str, img: &Image, path: &Path, style: &Style, anti_alias: bool) -> Result<Image> {
    let mut out = img.clone();
    paint_path_in_place(op, &mut out, path, style, anti_alias)?;
    Ok(out)
}

/// [`paint_path`] writing into `img`. Values are immutable in scripts, so every script-level
/// shape copies the canvas once; Rust callers drawing many shapes use this to skip that copy.
pub fn paint_path_in_place(op: &str, img: &mut Image, path: &Path, style: &Style, anti_alias: bool) -> Result<()> {
    style.validate(op)?;
    let fill = match (style.fill, style.stroke) {
        (None, None) => Some(Color::BLACK),
        (f, _) => f,
    };
    let (w, h) = img.dimensions();
    if let Some(color) = fill {
        if let Some((mask, x0, y0)) = coverage(path, w, h, anti_alias) {
            paint_coverage(img, &mask, x0, y0, color);
        }
    }
    if let Some(color) = style.stroke {
        let stroke = Stroke { width: style.width, ..Stroke::default() };
        if let Some(outline) = path.stroke(&stroke, 1.0) {
            if let Some((mask, x0, y0)) = coverage(&outline, w, h, anti_alias) {
                paint_coverage(img, &mask, x0, y0, color);
            }
        }
    }
    Ok(())
}

/// [`draw_circle`] writing into `img` (see [`paint_path_in_place`]).
pub fn draw_circle_in_place(img: &mut Image, cx: f32, cy: f32, r: f32, style: &Style) -> Result<()> {
    let op = "draw_circle";
    coords(op, &[("cx", cx), ("cy", cy)])?;
    non_negative(op, "radius", r)?;
    match PathBuilder::from_circle(cx, cy, r) {
        Some(p) => paint_path_in_place(op, img, &p, style, true),
        None => style.validate(op),
    }
}

/// Rasterises `path` (non-zero fill) into a coverage mask covering its bounds clipped to a
/// `w` × `h` image; returns the mask and its top-left corner, or `None` when nothing is visible.
pub fn coverage(path: &Path, w: u32, h: u32, anti_alias: bool) -> Option<(Mask, u32, u32)> {
    let path = &flatten(path)?;
    let b = path.bounds();
    let x0 = (b.left().floor().max(0.0) as i64).min(w as i64);
    let y0 = (b.top().floor().max(0.0) as i64).min(h as i64);
    let x1 = (b.right().ceil().min(w as f32) as i64).max(0);
    let y1 = (b.bottom().ceil().min(h as f32) as i64).max(0);
    if x1 <= x0 || y1 <= y0 {
        return None;
    }
    let mut mask = Mask::new((x1 - x0) as u32, (y1 - y0) as u32)?;
    mask.fill_path(path, FillRule::Winding, anti_alias, Transform::from_translate(-x0 as f32, -y0 as f32));
    Some((mask, x0 as u32, y0 as u32))
}

/// Largest distance in pixels between a curve and the chords that replace it.
const FLATNESS: f32 = 0.02;

/// The path with every curve replaced by line segments at most [`FLATNESS`] off the curve.
///
/// tiny-skia subdivides curves coarsely when it rasterises (a few chords per quadratic), which
/// makes a radius-7 circle 2.3% too small; chords at 1/50 pixel bring it within 0.1%. The segment
/// count per curve is Wang's formula.
pub fn flatten(path: &Path) -> Option<Path> {
    use tiny_skia::{PathSegment, Point};
    if path.segments().all(|s| !matches!(s, PathSegment::QuadTo(..) | PathSegment::CubicTo(..))) {
        return Some(path.clone());
    }
    let steps = |m: f32, k: f32| ((k * m / FLATNESS).sqrt().ceil() as usize).clamp(1, 1024);
    let second = |a: Point, b: Point, c: Point| (a.x - 2.0 * b.x + c.x).hypot(a.y - 2.0 * b.y + c.y);
    let mut pb = PathBuilder::new();
    let mut last = Point::zero();
    let mut start = Point::zero();
    for seg in path.segments() {
        match seg {
            PathSegment::MoveTo(p) => {
                pb.move_to(p.x, p.y);
                last = p;
                start = p;
            }
            PathSegment::LineTo(p) => {
                pb.line_to(p.x, p.y);
                last = p;
            }
            PathSegment::QuadTo(c, p) => {
                let n = steps(second(last, c, p), 0.25);
                for i in 1..=n {
                    let t = i as f32 / n as f32;
                    let u = 1.0 - t;
                    pb.line_to(
                        u * u * last.x + 2.0 * u * t * c.x + t * t * p.x,
                        u * u * last.y + 2.0 * u * t * c.y + t * t * p.y,
                    );
                }
                last = p;
            }
            PathSegment::CubicTo(c1, c2, p) => {
                let n = steps(second(last, c1, c2).max(second(c1, c2, p)), 0.75);
                for i in 1..=n {
                    let t = i as f32 / n as f32;
                    let u = 1.0 - t;
                    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
                    pb.line_to(a * last.x + b * c1.x + c * c2.x + d * p.x, a * last.y + b * c1.y + c * c2.y + d * p.y);
                }
                last = p;
            }
            PathSegment::Close => {
                pb.close();
                last = start;
            }
        }
    }
    pb.finish()
}

/// Composites `color × coverage` source-over onto `img`, the mask's (0, 0) at image (x0, y0).
/// Pixels with zero coverage are not touched.
pub fn paint_coverage(img: &mut Image, mask: &Mask, x0: u32, y0: u32, color: Color) {
    let (mw, mh) = (mask.width() as usize, mask.height() as usize);
    let w = img.width() as usize;
    let rows = (img.height() as usize).saturating_sub(y0 as usize).min(mh);
    let cols = w.saturating_sub(x0 as usize).min(mw);
    if rows == 0 || cols == 0 {
        return;
    }
    let c = color.to_array();
    let stride = img.stride();
    let start = y0 as usize * stride;
    let region = &mut img.pixels_mut()[start..start + rows * stride];
    let data = mask.data();
    let paint_row = |(r, row): (usize, &mut [f32])| {
        let cov = &data[r * mw..r * mw + cols];
        let span = &mut row[x0 as usize * CHANNELS..(x0 as usize + cols) * CHANNELS];
        super::composite::blend::over_span_color(span, c, |i| cov[i] as f32 * (1.0 / 255.0));
    };
    // Small shapes (the common case) are cheaper on one thread than the rayon hand-off.
    if rows * cols >= 1 << 16 {
        region.par_chunks_mut(stride).enumerate().for_each(paint_row);
    } else {
        region.chunks_mut(stride).enumerate().for_each(paint_row);
    }
}

#[cfg(test)]
mod tests;
