//! Script bindings: the Image and Color types, construction, pixels, and file I/O.

use crate::options::OptionSet;
use crate::script::api::OptionDocs;
use rhai::plugin::*;
use rhai::Module;

/// Option sets read inside this family's bindings, by function name, for `kiln doc`.
pub const OPTION_SETS: &[(&str, OptionDocs)] = &[("save", <crate::image::io::SaveOptions as OptionSet>::doc_lines)];

/// The package of image and colour functions.
pub fn module() -> Module {
    let mut m = exported_module!(image_api);
    m.set_custom_type::<crate::image::Image>("Image");
    m.set_custom_type::<crate::image::Color>("Color");
    m
}

use crate::script::convert::{num, RhaiResult};
use rhai::Dynamic;

fn component(op: &str, what: &str, v: &Dynamic) -> RhaiResult<f32> {
    Ok(num(op, what, v)? as f32)
}

#[export_module]
mod image_api {
    use super::component;
    use crate::image::io::SaveOptions;
    use crate::image::{Color, Image};
    use crate::script::context::run_state;
    use crate::script::convert::{color, fail, int, lift, options, size, RhaiResult};
    use rhai::{Dynamic, Map, NativeCallContext, INT};

    /// A new transparent image of `w` × `h` pixels.
    ///
    /// ```rhai
    /// let canvas = image(256, 128);
    /// ```
    #[rhai_fn(name = "image", return_raw)]
    pub fn image_new(w: Dynamic, h: Dynamic) -> RhaiResult<Image> {
        let (w, h) = size("image", &w, &h)?;
        lift(Image::new(w, h))
    }

    /// A new image of `w` × `h` pixels filled with `color`.
    ///
    /// ```rhai
    /// let sky = image(256, 128, "skyblue");
    /// ```
    #[rhai_fn(name = "image", return_raw)]
    pub fn image_filled(w: Dynamic, h: Dynamic, fill: Dynamic) -> RhaiResult<Image> {
        let (w, h) = size("image", &w, &h)?;
        lift(Image::filled(w, h, color("image", "color", &fill)?))
    }

    /// Loads an image file (PNG, JPEG, WebP, TIFF, EXR, HDR, BMP, QOI, PNM, GIF), relative to the
    /// script's folder. Only the script folder, the out folder and `--allow-read` folders may be read.
    ///
    /// ```rhai
    /// let photo = load("photos/cat.png");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load(ctx: NativeCallContext, path: &str) -> RhaiResult<Image> {
        let run = run_state(&ctx)?;
        let full = lift(run.policy.readable(path)).map_err(|_| {
            fail(
                "load",
                format!(
                    "'{path}' is outside the folders this run may read (the script folder, --out and --allow-read)"
                ),
            )
        })?;
        run.add_input(&full);
        let slot = crate::script::context::slot(&ctx)?;
        lift(slot.images.load(&full))
    }

    /// Saves the image relative to the out folder (`--out`, default the current folder); the
    /// extension picks the format. Returns the image, so a save can end a chain.
    ///
    /// ```rhai
    /// image(64, 64, "red").save("red.png");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save(ctx: NativeCallContext, img: Image, path: &str) -> RhaiResult<Image> {
        save_with(ctx, img, path, Map::new())
    }

    /// Saves with options: `bits` (8 or 16 for PNG/PNM/TIFF, 32 for float TIFF/EXR/HDR),
    /// `quality` (JPEG 1..100), `compression` ("fast", "default", "best" for PNG), `channels`
    /// (1 grey, 2 grey and alpha, 3 RGB, 4 RGBA). Without `channels` a grey image is saved with
    /// one channel (L, or L16 with `bits: 16`), grey with alpha as two, an opaque one without
    /// alpha, as far as the format can hold it (JPEG has no alpha, WebP and EXR no grey).
    /// The file carries the run's recipe (script, its hash, inputs, params, seed, models) as
    /// metadata unless the run has `--no-provenance`; `kiln info FILE` prints it.
    ///
    /// ```rhai
    /// let img = image(64, 64, "orange");
    /// img.save("orange16.png", #{ bits: 16 });
    /// img.save("orange.jpg", #{ quality: 85 });
    /// image(64, 64, "gray").save("grey_rgba.png", #{ channels: 4 });
    /// ```
    #[rhai_fn(name = "save", return_raw)]
    pub fn save_with(ctx: NativeCallContext, img: Image, path: &str, opts: Map) -> RhaiResult<Image> {
        let opts = options::<SaveOptions>(opts)?;
        let run = run_state(&ctx)?;
        let full = lift(run.policy.prepare_write(path))?;
        let recipe = (!run.config.no_provenance).then(|| run.recipe());
        lift(crate::image::io::save_with(&img, &full, &opts, recipe.as_ref()))?;
        run.outputs.lock().unwrap_or_else(|e| e.into_inner()).push(full);
        Ok(img)
    }

    /// Width in pixels.
    ///
    /// ```rhai
    /// let w = image(30, 20).width;   // 30
    /// ```
    #[rhai_fn(get = "width", pure)]
    pub fn width(img: &mut Image) -> INT {
        img.width() as INT
    }

    /// True when the image tiles seamlessly: renders of tileable fields are, and per-pixel ops,
    /// blends of two tileable images and filters that wrap keep it; crop, a resize by a fraction
    /// and a rotation by other than quarter turns drop it. Neighbourhood ops (blur, sharpen,
    /// median, convolve, displace, scatter, ...) then wrap at the edges unless given `edge`.
    ///
    /// ```rhai
    /// let t = perlin(#{ scale: 4, tileable: true }).render(64, 64).tileable;   // true
    /// ```
    #[rhai_fn(get = "tileable", pure)]
    pub fn tileable(img: &mut Image) -> bool {
        img.tileable()
    }

    /// Marks the image as tiling seamlessly (or not), which makes `"wrap"` the default edge mode
    /// of its neighbourhood ops.
    ///
    /// ```rhai
    /// let img = image(64, 64, "orange");
    /// img.tileable = true;
    /// let soft = img.blur(3.0);   // wraps round the edges
    /// ```
    #[rhai_fn(set = "tileable")]
    pub fn set_tileable(img: &mut Image, tileable: bool) {
        img.set_tileable(tileable);
    }

    /// Height in pixels.
    ///
    /// ```rhai
    /// let h = image(30, 20).height;   // 20
    /// ```
    #[rhai_fn(get = "height", pure)]
    pub fn height(img: &mut Image) -> INT {
        img.height() as INT
    }

    /// The colour of pixel (x, y); (0, 0) is the top-left pixel.
    ///
    /// ```rhai
    /// let c = image(4, 4, "red").get(1, 2);
    /// print(c.r);   // 1.0
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn get(img: &mut Image, x: Dynamic, y: Dynamic) -> RhaiResult<Color> {
        let (x, y) = (int("get", "x", &x)?, int("get", "y", &y)?);
        img.get(x, y).ok_or_else(|| {
            fail("get", format!("pixel ({x}, {y}) is outside the {}x{} image", img.width(), img.height()))
        })
    }

    /// A new image with pixel (x, y) set to `color`.
    ///
    /// ```rhai
    /// let dot = image(8, 8, "black").set(4, 4, "white");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set(img: Image, x: Dynamic, y: Dynamic, c: Dynamic) -> RhaiResult<Image> {
        let (x, y) = (int("set", "x", &x)?, int("set", "y", &y)?);
        lift(img.with_pixel(x, y, color("set", "color", &c)?))
    }

    /// Describes the image as `Image(WxH)`.
    ///
    /// ```rhai
    /// print(image(3, 2));   // Image(3x2)
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn image_to_string(img: &mut Image) -> String {
        format!("Image({}x{})", img.width(), img.height())
    }

    /// Same as `to_string`, used by `debug`.
    ///
    /// ```rhai
    /// debug(image(3, 2));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn image_to_debug(img: &mut Image) -> String {
        image_to_string(img)
    }

    /// An opaque colour from 0..1 components.
    ///
    /// ```rhai
    /// let orange = rgb(1.0, 0.5, 0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rgb(r: Dynamic, g: Dynamic, b: Dynamic) -> RhaiResult<Color> {
        Ok(Color::rgb(component("rgb", "r", &r)?, component("rgb", "g", &g)?, component("rgb", "b", &b)?))
    }

    /// A colour from 0..1 components with alpha.
    ///
    /// ```rhai
    /// let glass = rgba(0.2, 0.6, 1.0, 0.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rgba(r: Dynamic, g: Dynamic, b: Dynamic, a: Dynamic) -> RhaiResult<Color> {
        Ok(Color::new(
            component("rgba", "r", &r)?,
            component("rgba", "g", &g)?,
            component("rgba", "b", &b)?,
            component("rgba", "a", &a)?,
        ))
    }

    /// An opaque colour from 0..255 components.
    ///
    /// ```rhai
    /// let orange = rgb8(255, 128, 0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn rgb8(r: Dynamic, g: Dynamic, b: Dynamic) -> RhaiResult<Color> {
        let c = |what: &str, v: &Dynamic| -> RhaiResult<u8> {
            let x = int("rgb8", what, v)?;
            u8::try_from(x).map_err(|_| fail("rgb8", format!("{what} must be 0..255, got {x}")))
        };
        Ok(Color::rgb8(c("r", &r)?, c("g", &g)?, c("b", &b)?))
    }

    /// A colour from hue (degrees), saturation and value (0..1).
    ///
    /// ```rhai
    /// let teal = hsv(180, 0.8, 0.6);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hsv(h: Dynamic, s: Dynamic, v: Dynamic) -> RhaiResult<Color> {
        Ok(Color::hsv(component("hsv", "hue", &h)?, component("hsv", "s", &s)?, component("hsv", "v", &v)?))
    }

    /// A colour from hue (degrees), saturation and lightness (0..1).
    ///
    /// ```rhai
    /// let pastel = hsl(330, 0.7, 0.8);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn hsl(h: Dynamic, s: Dynamic, l: Dynamic) -> RhaiResult<Color> {
        Ok(Color::hsl(component("hsl", "hue", &h)?, component("hsl", "s", &s)?, component("hsl", "l", &l)?))
    }

    /// An opaque gray, 0 = black, 1 = white.
    ///
    /// ```rhai
    /// let mid = gray(0.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gray(v: Dynamic) -> RhaiResult<Color> {
        Ok(Color::gray(component("gray", "v", &v)?))
    }

    /// Parses a colour: "#rgb", "#rgba", "#rrggbb", "#rrggbbaa", a CSS name, or an array.
    ///
    /// ```rhai
    /// let c = color("rebeccapurple");
    /// ```
    #[rhai_fn(name = "color", return_raw)]
    pub fn color_of(v: Dynamic) -> RhaiResult<Color> {
        color("color", "value", &v)
    }

    /// Red component (0..1).
    ///
    /// ```rhai
    /// let r = color("orange").r;
    /// ```
    #[rhai_fn(get = "r", pure)]
    pub fn get_r(c: &mut Color) -> f64 {
        c.r as f64
    }

    /// Green component (0..1).
    ///
    /// ```rhai
    /// let g = color("orange").g;
    /// ```
    #[rhai_fn(get = "g", pure)]
    pub fn get_g(c: &mut Color) -> f64 {
        c.g as f64
    }

    /// Blue component (0..1).
    ///
    /// ```rhai
    /// let b = color("orange").b;
    /// ```
    #[rhai_fn(get = "b", pure)]
    pub fn get_b(c: &mut Color) -> f64 {
        c.b as f64
    }

    /// Alpha (0 = transparent, 1 = opaque).
    ///
    /// ```rhai
    /// let a = rgba(1, 0, 0, 0.5).a;
    /// ```
    #[rhai_fn(get = "a", pure)]
    pub fn get_a(c: &mut Color) -> f64 {
        c.a as f64
    }

    /// The colour as `#rrggbb` (or `#rrggbbaa` when not opaque).
    ///
    /// ```rhai
    /// print(rgb8(255, 128, 0).hex());   // #ff8000
    /// ```
    #[rhai_fn(pure)]
    pub fn hex(c: &mut Color) -> String {
        c.to_hex()
    }

    /// Describes the colour.
    ///
    /// ```rhai
    /// print(color("red"));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn color_to_string(c: &mut Color) -> String {
        c.to_string()
    }

    /// Describes the colour, used by `debug`.
    ///
    /// ```rhai
    /// debug(color("red"));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn color_to_debug(c: &mut Color) -> String {
        c.to_string()
    }

    /// True when two colours are equal.
    ///
    /// ```rhai
    /// print(color("red") == rgb(1, 0, 0));   // true
    /// ```
    #[rhai_fn(name = "==", pure)]
    pub fn color_eq(a: &mut Color, b: Color) -> bool {
        *a == b
    }
}
