//! Script bindings: drawing (shapes, SVG paths), text and gradients. One-line translations to
//! `crate::image::ops::{draw, text}`; option maps are read into that room's option sets (`Style`,
//! `TextStyle`, `TextSize`, `GradientOptions`), which own the defaults. The font loader here
//! applies the run's read policy.

use crate::options::OptionSet;
use crate::script::api::OptionDocs;
use rhai::plugin::*;
use rhai::{Array, Map, Module};

use crate::image::ops::draw::gradient::{even_stops, GradientOptions, Space};
use crate::image::ops::draw::Style;
use crate::image::Color;
use crate::script::convert::{array, color, fail, num, options_for, RhaiResult};

/// Option sets read inside this family's bindings, by function name, for `kiln doc`.
pub const OPTION_SETS: &[(&str, OptionDocs)] = &[
    ("draw_rect", <Style as OptionSet>::doc_lines),
    ("draw_circle", <Style as OptionSet>::doc_lines),
    ("draw_ellipse", <Style as OptionSet>::doc_lines),
    ("draw_line", <Style as OptionSet>::doc_lines),
    ("draw_polygon", <Style as OptionSet>::doc_lines),
    ("draw_path", <Style as OptionSet>::doc_lines),
    ("draw_text", <crate::image::ops::text::TextStyle as OptionSet>::doc_lines),
    ("text_size", <crate::image::ops::text::TextSize as OptionSet>::doc_lines),
    ("linear_gradient", <GradientOptions as OptionSet>::doc_lines),
    ("radial_gradient", <GradientOptions as OptionSet>::doc_lines),
];

/// The package of drawing, text and gradient functions.
pub fn module() -> Module {
    exported_module!(draw_api)
}

fn f(op: &str, what: &str, v: &Dynamic) -> RhaiResult<f32> {
    Ok(num(op, what, v)? as f32)
}

/// A style map `#{ fill, stroke, width }`, or a bare colour meaning `#{ fill: colour }`.
fn style(op: &str, v: &Dynamic) -> RhaiResult<Style> {
    if !v.is_map() {
        return Ok(Style::fill(color(op, "style", v)?));
    }
    options_for::<Style>(op, v.clone().cast::<Map>())
}

/// Points `[[x, y], ...]`.
fn points(op: &str, v: &Dynamic) -> RhaiResult<Vec<[f32; 2]>> {
    array(op, "points", v, |p| {
        let xy = array(op, "a point", p, |c| f(op, "a point coordinate", c))?;
        match xy[..] {
            [x, y] => Ok([x, y]),
            _ => Err(fail(op, format!("each point must be [x, y], got {} numbers", xy.len()))),
        }
    })
}

/// Colour stops: `["#000", "#fff"]` (evenly spread) or `[[0.0, "#000"], [1.0, "#fff"]]`.
fn stops(op: &str, v: &Dynamic) -> RhaiResult<Vec<(f32, Color)>> {
    let items = array(op, "stops", v, |x| Ok(x.clone()))?;
    let positioned = |x: &Dynamic| x.clone().try_cast::<Array>().is_some_and(|a| a.len() == 2);
    if items.iter().all(positioned) && !items.is_empty() {
        items
            .iter()
            .map(|x| {
                let pair = x.clone().cast::<Array>();
                Ok((f(op, "stop position", &pair[0])?, color(op, "stop colour", &pair[1])?))
            })
            .collect()
    } else if items.iter().any(positioned) {
        Err(fail(op, "stops must be all colours or all [position, colour] pairs"))
    } else {
        let colors: Vec<Color> = items.iter().map(|x| color(op, "stop colour", x)).collect::<RhaiResult<_>>()?;
        Ok(even_stops(&colors))
    }
}

/// The interpolation space of a gradient's option map.
fn space(op: &str, opts: Map) -> RhaiResult<Space> {
    Ok(options_for::<GradientOptions>(op, opts)?.space)
}

/// Reads a font file through the run's read policy and records it as an input (for `watch`).
fn font_loader(ctx: &NativeCallContext, path: &str) -> crate::error::Result<Vec<u8>> {
    let run =
        crate::script::context::run_state(ctx).map_err(|e| crate::error::Error::param("draw_text", e.to_string()))?;
    let full = run.policy.readable(path).map_err(|_| {
        crate::error::Error::param(
            "draw_text",
            format!(
                "font '{path}' is outside the folders this run may read (the script folder, --out and --allow-read)"
            ),
        )
    })?;
    run.add_input(&full);
    std::fs::read(&full).map_err(|e| crate::error::Error::io(&full, e))
}

#[export_module]
mod draw_api {
    use super::{f, font_loader, points, space, stops, style};
    use crate::image::ops::text::{TextSize, TextStyle};
    use crate::image::ops::{draw, text};
    use crate::image::Image;
    use crate::script::convert::{color, lift, options, size, RhaiResult};
    use rhai::{Array, Dynamic, Map, NativeCallContext};

    /// The whole image painted over with `color` (an opaque colour replaces every pixel).
    ///
    /// ```rhai
    /// let bg = image(64, 64).fill("skyblue");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fill(img: Image, c: Dynamic) -> RhaiResult<Image> {
        lift(draw::fill(&img, color("fill", "color", &c)?))
    }

    /// A filled rectangle, top-left (x, y), `w` × `h` pixels; fractional edges are antialiased.
    ///
    /// ```rhai
    /// let img = image(64, 64, "white").fill_rect(8, 8, 48, 24, "tomato");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fill_rect(img: Image, x: Dynamic, y: Dynamic, w: Dynamic, h: Dynamic, c: Dynamic) -> RhaiResult<Image> {
        let op = "fill_rect";
        lift(draw::fill_rect(
            &img,
            f(op, "x", &x)?,
            f(op, "y", &y)?,
            f(op, "w", &w)?,
            f(op, "h", &h)?,
            color(op, "color", &c)?,
        ))
    }

    /// A rectangle with a style `#{ fill, stroke, width }` (or just a fill colour).
    ///
    /// ```rhai
    /// let img = image(64, 64, "white").draw_rect(8, 8, 48, 48, #{ fill: "gold", stroke: "black", width: 2 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn draw_rect(img: Image, x: Dynamic, y: Dynamic, w: Dynamic, h: Dynamic, s: Dynamic) -> RhaiResult<Image> {
        let op = "draw_rect";
        lift(draw::draw_rect(&img, f(op, "x", &x)?, f(op, "y", &y)?, f(op, "w", &w)?, f(op, "h", &h)?, &style(op, &s)?))
    }

    /// A circle centred on (cx, cy) with radius `r`, antialiased.
    ///
    /// ```rhai
    /// let img = image(64, 64, "white").draw_circle(32, 32, 20, #{ fill: "teal", stroke: "navy", width: 3 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn draw_circle(img: Image, cx: Dynamic, cy: Dynamic, r: Dynamic, s: Dynamic) -> RhaiResult<Image> {
        let op = "draw_circle";
        lift(draw::draw_circle(&img, f(op, "cx", &cx)?, f(op, "cy", &cy)?, f(op, "radius", &r)?, &style(op, &s)?))
    }

    /// An ellipse centred on (cx, cy) with radii `rx` and `ry`.
    ///
    /// ```rhai
    /// let img = image(80, 48, "white").draw_ellipse(40, 24, 36, 18, #{ fill: "plum" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn draw_ellipse(
        img: Image,
        cx: Dynamic,
        cy: Dynamic,
        rx: Dynamic,
        ry: Dynamic,
        s: Dynamic,
    ) -> RhaiResult<Image> {
        let op = "draw_ellipse";
        lift(draw::draw_ellipse(
            &img,
            f(op, "cx", &cx)?,
            f(op, "cy", &cy)?,
            f(op, "rx", &rx)?,
            f(op, "ry", &ry)?,
            &style(op, &s)?,
        ))
    }

    /// A straight line, `width` pixels wide (colour from `stroke`, else `fill`, else black).
    ///
    /// ```rhai
    /// let img = image(64, 64, "white").draw_line(4, 60, 60, 4, #{ stroke: "crimson", width: 3 });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn draw_line(img: Image, x0: Dynamic, y0: Dynamic, x1: Dynamic, y1: Dynamic, s: Dynamic) -> RhaiResult<Image> {
        let op = "draw_line";
        lift(draw::draw_line(
            &img,
            f(op, "x0", &x0)?,
            f(op, "y0", &y0)?,
            f(op, "x1", &x1)?,
            f(op, "y1", &y1)?,
            &style(op, &s)?,
        ))
    }

    /// A closed polygon through `points` (`[[x, y], ...]`, at least 3).
    ///
    /// ```rhai
    /// let img = image(64, 64, "white").draw_polygon([[32, 4], [60, 60], [4, 60]], #{ fill: "orange" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn draw_polygon(img: Image, pts: Dynamic, s: Dynamic) -> RhaiResult<Image> {
        lift(draw::draw_polygon(&img, &points("draw_polygon", &pts)?, &style("draw_polygon", &s)?))
    }

    /// SVG path data (M, L, H, V, C, S, Q, T, A, Z, absolute and relative) with a style.
    ///
    /// ```rhai
    /// let heart = "M32 56 C 8 40 4 20 18 12 C 26 8 32 14 32 20 C 32 14 38 8 46 12 C 60 20 56 40 32 56 Z";
    /// let img = image(64, 64, "white").draw_path(heart, #{ fill: "red" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn draw_path(img: Image, data: &str, s: Dynamic) -> RhaiResult<Image> {
        lift(draw::draw_path(&img, data, &style("draw_path", &s)?))
    }

    /// Text in the bundled sans font, 16 px, black; (x, y) is the top-left of the text box.
    ///
    /// ```rhai
    /// let img = image(200, 40, "white").draw_text("Hello, kiln", 8, 8);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn draw_text(ctx: NativeCallContext, img: Image, s: &str, x: Dynamic, y: Dynamic) -> RhaiResult<Image> {
        draw_text_with(ctx, img, s, x, y, Map::new())
    }

    /// Text with options `size` (em size in px, default 16), `color` (default black), `font`
    /// ("sans", "sans-bold" or a .ttf path under the readable folders) and `align` ("left",
    /// "center", "right": x is then the left edge, centre or right edge of the box; y is its top).
    /// Lines split at "\n"; pairs are kerned.
    ///
    /// ```rhai
    /// let img = image(240, 80, "white")
    ///     .draw_text("kiln\nposters", 120, 8, #{ size: 28, color: "navy", font: "sans-bold", align: "center" });
    /// ```
    #[rhai_fn(name = "draw_text", return_raw)]
    pub fn draw_text_with(
        ctx: NativeCallContext,
        img: Image,
        s: &str,
        x: Dynamic,
        y: Dynamic,
        opts: Map,
    ) -> RhaiResult<Image> {
        let op = "draw_text";
        let st = options::<TextStyle>(opts)?;
        lift(text::draw_text(&img, s, f(op, "x", &x)?, f(op, "y", &y)?, &st, &|p| font_loader(&ctx, p)))
    }

    /// The [width, height] in pixels of the box `text` fills at 16 px in the sans font.
    ///
    /// ```rhai
    /// let wh = text_size("Hello");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn text_size(ctx: NativeCallContext, s: &str) -> RhaiResult<Array> {
        text_size_with(ctx, s, Map::new())
    }

    /// The [width, height] of the text box with options `size` and `font` (as in `draw_text`).
    ///
    /// ```rhai
    /// let wh = text_size("Title", #{ size: 40, font: "sans-bold" });
    /// let img = image(400, 100, "white").draw_text("Title", 200 - wh[0] / 2, 10, #{ size: 40, font: "sans-bold" });
    /// ```
    #[rhai_fn(name = "text_size", return_raw)]
    pub fn text_size_with(ctx: NativeCallContext, s: &str, opts: Map) -> RhaiResult<Array> {
        let o = options::<TextSize>(opts)?;
        let (w, h) = lift(text::text_size(s, o.size, &o.font, &|p| font_loader(&ctx, p)))?;
        Ok(vec![Dynamic::from_float(w as f64), Dynamic::from_float(h as f64)])
    }

    /// A `w` × `h` linear gradient at `angle` degrees (0 = left to right, 90 = top to bottom);
    /// stops `["#000", "#fff"]` (evenly spread) or `[[0.0, "#000"], [1.0, "#fff"]]`, in sRGB.
    ///
    /// ```rhai
    /// let sky = linear_gradient(256, 128, 90, ["#1e3c72", "#2a5298", "#f7c59f"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn linear_gradient(w: Dynamic, h: Dynamic, angle: Dynamic, st: Dynamic) -> RhaiResult<Image> {
        linear_gradient_with(w, h, angle, st, Map::new())
    }

    /// A linear gradient with options: `space` ("srgb", "linear" or "oklab") to interpolate in.
    ///
    /// ```rhai
    /// let g = linear_gradient(256, 32, 0, [[0.0, "blue"], [1.0, "yellow"]], #{ space: "oklab" });
    /// ```
    #[rhai_fn(name = "linear_gradient", return_raw)]
    pub fn linear_gradient_with(w: Dynamic, h: Dynamic, angle: Dynamic, st: Dynamic, opts: Map) -> RhaiResult<Image> {
        let op = "linear_gradient";
        let (w, h) = size(op, &w, &h)?;
        lift(draw::gradient::linear_gradient(w, h, f(op, "angle", &angle)?, &stops(op, &st)?, space(op, opts)?))
    }

    /// A `w` × `h` radial gradient: the first stop in the centre, the last at the corners.
    ///
    /// ```rhai
    /// let vignette = radial_gradient(128, 128, ["white", "black"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn radial_gradient(w: Dynamic, h: Dynamic, st: Dynamic) -> RhaiResult<Image> {
        radial_gradient_with(w, h, st, Map::new())
    }

    /// A radial gradient with options: `space` ("srgb", "linear" or "oklab").
    ///
    /// ```rhai
    /// let glow = radial_gradient(128, 128, [[0.0, "#fff8"], [0.5, "#f80"], [1.0, "#0000"]], #{ space: "linear" });
    /// ```
    #[rhai_fn(name = "radial_gradient", return_raw)]
    pub fn radial_gradient_with(w: Dynamic, h: Dynamic, st: Dynamic, opts: Map) -> RhaiResult<Image> {
        let op = "radial_gradient";
        let (w, h) = size(op, &w, &h)?;
        lift(draw::gradient::radial_gradient(w, h, &stops(op, &st)?, space(op, opts)?))
    }
}
