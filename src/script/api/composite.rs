//! Script bindings: compositing (`over`, `blend`, `mask`, `alpha`, `with_alpha`, `channel`) and
//! contact sheets (`grid`). One-line translations to `crate::image::ops::composite`.

use crate::options::OptionSet;
use crate::script::api::OptionDocs;
use rhai::plugin::*;
use rhai::Module;

use crate::image::ops::composite::{self, BlendMode};
use crate::image::Image;
use crate::script::convert::{array, fail, int, lift, num, RhaiResult};

/// Option sets read inside this family's bindings, by function name, for `kiln doc`.
pub const OPTION_SETS: &[(&str, OptionDocs)] =
    &[("grid", <crate::image::ops::composite::GridOptions as OptionSet>::doc_lines)];

/// The package of compositing functions.
pub fn module() -> Module {
    exported_module!(composite_api)
}

/// A whole-pixel offset; fractional offsets are rounded (documented in ops::composite).
fn offset(op: &str, what: &str, v: &Dynamic) -> RhaiResult<i64> {
    Ok(num(op, what, v)?.round() as i64)
}

fn opacity(op: &str, v: &Dynamic) -> RhaiResult<f32> {
    let o = num(op, "opacity", v)?;
    if !(0.0..=1.0).contains(&o) {
        return Err(fail(op, format!("opacity must be in 0..1, got {o}")));
    }
    Ok(o as f32)
}

fn images(op: &str, v: &Dynamic) -> RhaiResult<Vec<Image>> {
    array(op, "images", v, |x| {
        x.clone()
            .try_cast::<Image>()
            .ok_or_else(|| fail(op, format!("images must be an array of Image, got a {}", x.type_name())))
    })
}

fn cols(op: &str, v: &Dynamic) -> RhaiResult<usize> {
    let c = int(op, "cols", v)?;
    usize::try_from(c).ok().filter(|&c| c >= 1).ok_or_else(|| fail(op, format!("cols must be at least 1, got {c}")))
}

/// Blends `top` onto the backdrop `b` and returns it. The backdrop is edited in place when the
/// script holds no other reference to it (a temporary such as `load(..)`), else copied first
/// (copy-on-write), so values stay immutable either way; on the W6 workload this skips a 64 MiB
/// allocation and its page faults.
fn onto(mut b: Image, top: &Image, x: i64, y: i64, mode: BlendMode, opacity: f32) -> RhaiResult<Image> {
    lift(composite::blend_in_place(&mut b, top, x, y, mode, opacity))?;
    Ok(b)
}

#[export_module]
mod composite_api {
    use super::{cols, images, offset, opacity};
    use crate::image::ops::composite::{self, BlendMode, Channel, GridOptions};
    use crate::image::Image;
    use crate::script::convert::{lift, options, RhaiResult};
    use rhai::{Dynamic, Map};

    /// `a` on top of `b` (Porter-Duff source-over); the result has `b`'s size.
    ///
    /// ```rhai
    /// let back = image(64, 64, "navy");
    /// let dot = image(64, 64).draw_circle(32, 32, 20, #{ fill: "gold" });
    /// let out = dot.over(back);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn over(a: Image, b: Image) -> RhaiResult<Image> {
        onto(b, &a, 0, 0, BlendMode::Normal, 1.0)
    }

    /// `a` on top of `b` with `a`'s top-left corner at pixel (x, y) of `b` (rounded to whole
    /// pixels; translate `a` first for sub-pixel placement). Parts outside `b` are cut off.
    ///
    /// ```rhai
    /// let back = image(100, 100, "white");
    /// let badge = image(20, 20, "red");
    /// let out = badge.over(back, 70, 10);
    /// ```
    #[rhai_fn(name = "over", return_raw)]
    pub fn over_at(a: Image, b: Image, x: Dynamic, y: Dynamic) -> RhaiResult<Image> {
        onto(b, &a, offset("over", "x", &x)?, offset("over", "y", &y)?, BlendMode::Normal, 1.0)
    }

    /// Blends `a` (the top layer) onto `b` (the backdrop) with a W3C blend mode: normal, multiply,
    /// screen, overlay, soft_light, hard_light, add, subtract, difference, darken, lighten,
    /// color_dodge, color_burn. `opacity` (0..1) scales `a`'s alpha. Result has `b`'s size.
    ///
    /// ```rhai
    /// let photo = image(64, 64, "tan");
    /// let shade = linear_gradient(64, 64, 90, ["white", "black"]);
    /// let out = shade.blend(photo, "multiply", 0.8);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn blend(a: Image, b: Image, mode: &str, alpha: Dynamic) -> RhaiResult<Image> {
        let m: BlendMode = lift(mode.parse())?;
        onto(b, &a, 0, 0, m, opacity("blend", &alpha)?)
    }

    /// Blends `a` onto `b` with a blend mode at full opacity.
    ///
    /// ```rhai
    /// let out = image(8, 8, "gray").blend(image(8, 8, "orange"), "screen");
    /// ```
    #[rhai_fn(name = "blend", return_raw)]
    pub fn blend_full(a: Image, b: Image, mode: &str) -> RhaiResult<Image> {
        let m: BlendMode = lift(mode.parse())?;
        onto(b, &a, 0, 0, m, 1.0)
    }

    /// Multiplies the alpha by the mask's luminance (times the mask's alpha). Same size required.
    ///
    /// ```rhai
    /// let vignette = radial_gradient(64, 64, ["white", "black"]);
    /// let faded = image(64, 64, "teal").mask(vignette);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn mask(img: Image, m: Image) -> RhaiResult<Image> {
        lift(composite::mask(&img, &m))
    }

    /// The alpha channel as an opaque gray image.
    ///
    /// ```rhai
    /// let a = image(16, 16).draw_circle(8, 8, 6, #{ fill: "red" }).alpha();
    /// ```
    #[rhai_fn(pure)]
    pub fn alpha(img: &mut Image) -> Image {
        composite::alpha(img)
    }

    /// Replaces the alpha by the mask's luminance (times the mask's alpha). Same size required.
    ///
    /// ```rhai
    /// let m = image(32, 32, "black").draw_circle(16, 16, 12, #{ fill: "white" });
    /// let cut = image(32, 32, "orange").with_alpha(m);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn with_alpha(img: Image, m: Image) -> RhaiResult<Image> {
        lift(composite::with_alpha(&img, &m))
    }

    /// One channel ("r", "g", "b" or "a") as an opaque gray image.
    ///
    /// ```rhai
    /// let red = image(8, 8, "orange").channel("r");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn channel(img: &mut Image, name: &str) -> RhaiResult<Image> {
        let c: Channel = lift(name.parse())?;
        Ok(composite::channel(img, c))
    }

    /// A contact sheet: the images in rows of `cols` cells the size of the largest image,
    /// 4 pixels apart, on a transparent background.
    ///
    /// ```rhai
    /// let sheet = grid([image(32, 32, "red"), image(32, 20, "green"), image(20, 32, "blue")], 2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn grid(list: Dynamic, n: Dynamic) -> RhaiResult<Image> {
        lift(composite::grid(&images("grid", &list)?, cols("grid", &n)?, GridOptions::default()))
    }

    /// A contact sheet with options `gap` (pixels between cells, default 4) and `background`
    /// (a colour, default transparent).
    ///
    /// ```rhai
    /// let tiles = [image(32, 32, "red"), image(32, 32, "green"), image(32, 32, "blue")];
    /// let sheet = grid(tiles, 3, #{ gap: 8, background: "white" });
    /// ```
    #[rhai_fn(name = "grid", return_raw)]
    pub fn grid_with(list: Dynamic, n: Dynamic, opts: Map) -> RhaiResult<Image> {
        let opts = options::<GridOptions>(opts)?;
        lift(composite::grid(&images("grid", &list)?, cols("grid", &n)?, opts))
    }
}
