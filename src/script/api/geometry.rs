//! Script bindings for the geometry family: crop, flips, quarter turns, resize, scale, rotate,
//! translate, affine, pad, tile, seamless. One-line translations of `crate::ops::geometry`; option
//! maps are read into that room's option sets (`ResizeOptions`, `Rotate`, `Sampling`, `Affine`,
//! `Seamless`), which own the defaults.

use crate::image::ops::geometry as g;
use crate::options::OptionSet;
use crate::script::api::OptionDocs;
use rhai::plugin::*;
use rhai::{Dynamic, Module};

use crate::script::convert::{fail, int, RhaiResult};

/// Option sets read inside this family's bindings, by function name, for `kiln doc`.
pub const OPTION_SETS: &[(&str, OptionDocs)] = &[
    ("resize", <g::ResizeOptions as OptionSet>::doc_lines),
    ("scale", <g::ResizeOptions as OptionSet>::doc_lines),
    ("rotate", <g::Rotate as OptionSet>::doc_lines),
    ("translate", <g::Sampling as OptionSet>::doc_lines),
    ("affine", <g::Affine as OptionSet>::doc_lines),
    ("seamless", <g::Seamless as OptionSet>::doc_lines),
];

/// The package of geometry functions.
pub fn module() -> Module {
    exported_module!(geometry_api)
}

/// A size argument: a whole number from 1 to u32::MAX.
fn side(op: &str, what: &str, v: &Dynamic) -> RhaiResult<u32> {
    let n = int(op, what, v)?;
    u32::try_from(n).ok().filter(|&n| n > 0).ok_or_else(|| fail(op, format!("{what} must be at least 1, got {n}")))
}

fn ints4(op: &str, names: [&str; 4], vs: [&Dynamic; 4]) -> RhaiResult<[i64; 4]> {
    Ok([int(op, names[0], vs[0])?, int(op, names[1], vs[1])?, int(op, names[2], vs[2])?, int(op, names[3], vs[3])?])
}

#[export_module]
mod geometry_api {
    use super::{ints4, side};
    use crate::image::ops::geometry::{self as g, Affine, ResizeOptions, Rotate, Sampling, Seamless};
    use crate::image::{Color, Image};
    use crate::script::convert::{color, int, lift, num, options, options_for, RhaiResult};
    use rhai::{Dynamic, Map};

    /// The `w` × `h` rectangle whose top-left pixel is (x, y). It must lie inside the image.
    ///
    /// ```rhai
    /// let face = image(64, 48, "tan").crop(16, 8, 32, 32);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn crop(img: &mut Image, x: Dynamic, y: Dynamic, w: Dynamic, h: Dynamic) -> RhaiResult<Image> {
        let [x, y, w, h] = ints4("crop", ["x", "y", "width", "height"], [&x, &y, &w, &h])?;
        lift(g::crop(img, x, y, w, h))
    }

    /// Mirrors left and right.
    ///
    /// ```rhai
    /// let mirrored = image(32, 16, "red").flip_h();
    /// ```
    #[rhai_fn(pure)]
    pub fn flip_h(img: &mut Image) -> Image {
        g::flip_h(img)
    }

    /// Mirrors top and bottom.
    ///
    /// ```rhai
    /// let upside_down = image(32, 16, "red").flip_v();
    /// ```
    #[rhai_fn(pure)]
    pub fn flip_v(img: &mut Image) -> Image {
        g::flip_v(img)
    }

    /// A quarter turn clockwise (exact; width and height swap).
    ///
    /// ```rhai
    /// let tall = image(32, 16, "red").rotate90();   // 16x32
    /// ```
    #[rhai_fn(pure)]
    pub fn rotate90(img: &mut Image) -> Image {
        g::rotate90(img)
    }

    /// A half turn (exact).
    ///
    /// ```rhai
    /// let turned = image(32, 16, "red").rotate180();
    /// ```
    #[rhai_fn(pure)]
    pub fn rotate180(img: &mut Image) -> Image {
        g::rotate180(img)
    }

    /// A quarter turn anticlockwise (exact; width and height swap).
    ///
    /// ```rhai
    /// let tall = image(32, 16, "red").rotate270();   // 16x32
    /// ```
    #[rhai_fn(pure)]
    pub fn rotate270(img: &mut Image) -> Image {
        g::rotate270(img)
    }

    /// Resizes to exactly `w` × `h` with the bicubic filter (Pillow's default).
    ///
    /// ```rhai
    /// let thumb = image(400, 300, "teal").resize(100, 75);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn resize(img: &mut Image, w: Dynamic, h: Dynamic) -> RhaiResult<Image> {
        resize_with(img, w, h, Map::new())
    }

    /// Resizes with options: `filter` ("nearest", "bilinear", "bicubic" (default), "lanczos3"; the
    /// kernel widens when shrinking, as in Pillow) and `linear` (resample in linear light).
    ///
    /// ```rhai
    /// let small = image(400, 300, "teal").resize(100, 75, #{ filter: "lanczos3", linear: true });
    /// ```
    #[rhai_fn(name = "resize", return_raw, pure)]
    pub fn resize_with(img: &mut Image, w: Dynamic, h: Dynamic, opts: Map) -> RhaiResult<Image> {
        let (w, h) = (side("resize", "width", &w)?, side("resize", "height", &h)?);
        lift(g::resize_with(img, w, h, options::<ResizeOptions>(opts)?))
    }

    /// Scales both sides by `f` (sizes rounded, at least 1 pixel), bicubic.
    ///
    /// ```rhai
    /// let half = image(400, 300, "teal").scale(0.5);   // 200x150
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn scale(img: &mut Image, f: Dynamic) -> RhaiResult<Image> {
        scale_with(img, f, Map::new())
    }

    /// Scales with the options of `resize` (`filter`, `linear`).
    ///
    /// ```rhai
    /// let big = image(40, 30, "teal").scale(4, #{ filter: "nearest" });
    /// ```
    #[rhai_fn(name = "scale", return_raw, pure)]
    pub fn scale_with(img: &mut Image, f: Dynamic, opts: Map) -> RhaiResult<Image> {
        lift(g::scale(img, num("scale", "factor", &f)?, options_for::<ResizeOptions>("scale", opts)?))
    }

    /// Rotates by `deg` degrees clockwise about the centre, growing the canvas to fit, bilinear,
    /// on a transparent background.
    ///
    /// ```rhai
    /// let tilted = image(64, 48, "orange").rotate(30);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn rotate(img: &mut Image, deg: Dynamic) -> RhaiResult<Image> {
        rotate_with(img, deg, Map::new())
    }

    /// Rotates with options: `expand` (default true; false keeps the canvas), `filter`
    /// ("nearest", "bilinear" (default), "bicubic", "lanczos3"), `background` (colour, default
    /// transparent), `linear`, `edge` ("transparent" shows the background where the image does not
    /// reach; "wrap", the default for a tileable image, "clamp" and "mirror" fill it from the image).
    ///
    /// ```rhai
    /// let r = image(64, 48, "orange").rotate(-30, #{ expand: false, background: "black", filter: "bicubic" });
    /// ```
    #[rhai_fn(name = "rotate", return_raw, pure)]
    pub fn rotate_with(img: &mut Image, deg: Dynamic, opts: Map) -> RhaiResult<Image> {
        lift(g::rotate(img, num("rotate", "angle", &deg)?, &options::<Rotate>(opts)?))
    }

    /// Moves the image by (dx, dy) pixels on the same canvas; uncovered pixels are transparent.
    /// Whole-pixel moves are exact, fractional ones bilinear.
    ///
    /// ```rhai
    /// let moved = image(64, 48, "orange").translate(10, -5);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn translate(img: &mut Image, dx: Dynamic, dy: Dynamic) -> RhaiResult<Image> {
        translate_with(img, dx, dy, Map::new())
    }

    /// Moves with options: `filter`, `background`, `linear`, `edge` (`"wrap"`, the default for a
    /// tileable image, scrolls the image round; `"transparent"` uncovers the background).
    ///
    /// ```rhai
    /// let moved = image(64, 48, "orange").translate(10.5, 0, #{ background: "white" });
    /// let scrolled = image(64, 48, "orange").translate(32, 24, #{ edge: "wrap" });
    /// ```
    #[rhai_fn(name = "translate", return_raw, pure)]
    pub fn translate_with(img: &mut Image, dx: Dynamic, dy: Dynamic, opts: Map) -> RhaiResult<Image> {
        let (dx, dy) = (num("translate", "dx", &dx)?, num("translate", "dy", &dy)?);
        lift(g::translate_with(img, dx, dy, &options::<Sampling>(opts)?))
    }

    /// A general affine transform: `scale` (s or [sx, sy]), then `shear` ([shx, shy] degrees; a
    /// single number shears along x),
    /// then `rotate` (degrees clockwise), all about `origin` ([x, y], default the centre), then
    /// `translate` ([x, y]). Also `expand` (default false; fits the canvas to the result, so it cannot be
    /// combined with `translate`), `filter`, `background`, `linear`, `edge` (what the sampler reads
    /// past the image: "transparent" (the background), "clamp", "wrap" or "mirror").
    ///
    /// ```rhai
    /// let slanted = image(64, 48, "orange").affine(#{ shear: [20, 0], scale: 0.8, expand: true });
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn affine(img: &mut Image, opts: Map) -> RhaiResult<Image> {
        lift(g::affine(img, &options::<Affine>(opts)?))
    }

    /// Adds transparent borders of `l`, `t`, `r`, `b` pixels.
    ///
    /// ```rhai
    /// let framed = image(64, 48, "orange").pad(8, 8, 8, 8);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn pad(img: &mut Image, l: Dynamic, t: Dynamic, r: Dynamic, b: Dynamic) -> RhaiResult<Image> {
        let [l, t, r, b] = ints4("pad", ["left", "top", "right", "bottom"], [&l, &t, &r, &b])?;
        lift(g::pad(img, l, t, r, b, Color::TRANSPARENT))
    }

    /// Adds borders of `l`, `t`, `r`, `b` pixels in `color`.
    ///
    /// ```rhai
    /// let framed = image(64, 48, "orange").pad(8, 8, 8, 24, "white");
    /// ```
    #[rhai_fn(name = "pad", return_raw, pure)]
    pub fn pad_color(img: &mut Image, l: Dynamic, t: Dynamic, r: Dynamic, b: Dynamic, c: Dynamic) -> RhaiResult<Image> {
        let [l, t, r, b] = ints4("pad", ["left", "top", "right", "bottom"], [&l, &t, &r, &b])?;
        lift(g::pad(img, l, t, r, b, color("pad", "color", &c)?))
    }

    /// Repeats the image `nx` times across and `ny` times down.
    ///
    /// ```rhai
    /// let wall = image(16, 16, "brown").tile(4, 3);   // 64x48
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn tile(img: &mut Image, nx: Dynamic, ny: Dynamic) -> RhaiResult<Image> {
        lift(g::tile(img, int("tile", "nx", &nx)?, int("tile", "ny", &ny)?))
    }

    /// Makes a photo tileable: its left/right and top/bottom edges match, by cross-fading it with
    /// its half-offset copy near the borders.
    ///
    /// ```rhai
    /// let texture = image(64, 64, "olive").seamless().tile(2, 2);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn seamless(img: &mut Image) -> RhaiResult<Image> {
        seamless_with(img, Map::new())
    }

    /// `seamless` with `blend`: the width of the cross-fade as a fraction of each side, in
    /// (0, 0.5] (default 0.25).
    ///
    /// ```rhai
    /// let texture = image(64, 64, "olive").seamless(#{ blend: 0.5 });
    /// ```
    #[rhai_fn(name = "seamless", return_raw, pure)]
    pub fn seamless_with(img: &mut Image, opts: Map) -> RhaiResult<Image> {
        lift(g::seamless(img, &options::<Seamless>(opts)?))
    }
}
