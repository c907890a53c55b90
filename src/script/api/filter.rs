//! Script bindings: neighbourhood filters (`crate::image::ops::filter`). Translation only: option
//! maps and short forms are read into the room's option sets (`Blur`, `BoxBlur`, `UnsharpOptions`,
//! `ConvolveOptions`), which own the defaults and ranges.

use crate::image::ops::filter as f;
use crate::options::OptionSet;
use crate::script::api::OptionDocs;
use rhai::plugin::*;
use rhai::{Dynamic, Module};

use crate::script::convert::{array, fail, int, num, RhaiResult};

/// Option sets read inside this family's bindings, by function name, for `kiln doc`.
pub const OPTION_SETS: &[(&str, OptionDocs)] = &[
    ("blur", <f::Blur as OptionSet>::doc_lines),
    ("box_blur", <f::BoxBlur as OptionSet>::doc_lines),
    ("unsharp", <f::UnsharpOptions as OptionSet>::doc_lines),
    ("convolve", <f::ConvolveOptions as OptionSet>::doc_lines),
    ("sharpen", <f::EdgeOptions as OptionSet>::doc_lines),
    ("median", <f::EdgeOptions as OptionSet>::doc_lines),
    ("edges", <f::EdgeOptions as OptionSet>::doc_lines),
    ("emboss", <f::EdgeOptions as OptionSet>::doc_lines),
];

/// The package of filter functions.
pub fn module() -> Module {
    exported_module!(filter_api)
}

fn f32_of(op: &str, what: &str, v: &Dynamic) -> RhaiResult<f32> {
    Ok(num(op, what, v)? as f32)
}

/// A whole-pixel radius >= 0.
fn radius_of(op: &str, v: &Dynamic) -> RhaiResult<u32> {
    let r = int(op, "radius", v)?;
    u32::try_from(r).map_err(|_| fail(op, format!("radius must be a whole number >= 0, got {r}")))
}

/// A 2D array of numbers -> kernel rows.
fn kernel(v: &Dynamic) -> RhaiResult<Vec<Vec<f32>>> {
    array("convolve", "kernel", v, |row| {
        array("convolve", "a kernel row", row, |x| f32_of("convolve", "a kernel weight", x))
    })
}

#[export_module]
mod filter_api {
    use super::{f32_of, kernel, radius_of};
    use crate::image::ops::filter::{
        self, Blur, BoxBlur, Convolve, ConvolveOptions, EdgeOptions, Unsharp, UnsharpOptions,
    };
    use crate::image::Image;
    use crate::script::convert::{lift, options, options_for, options_or_number, RhaiResult};
    use rhai::{Dynamic, Map};

    /// Gaussian blur of standard deviation `sigma` pixels (ImageMagick `-blur 0xσ`), or an option
    /// map `#{ sigma, linear, edge }` (`linear: true` blurs in linear light; `edge` is `"clamp"`,
    /// `"wrap"`, `"mirror"` or `"transparent"`, default clamp, or wrap for a tileable image).
    /// Transparent areas never fringe.
    ///
    /// ```rhai
    /// let soft = image(64, 64, "orange").blur(2.0);
    /// let glow = image(64, 64, "orange").blur(#{ sigma: 4, linear: true });
    /// let tiled = image(64, 64, "orange").blur(#{ sigma: 3, edge: "wrap" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn blur(img: Image, opts: Dynamic) -> RhaiResult<Image> {
        lift(filter::blur_with(&img, &options_or_number::<Blur>(opts, "sigma")?))
    }

    /// Mean over a (2r+1)² box (whole-pixel radius), or `#{ radius, linear, edge }`.
    ///
    /// ```rhai
    /// let boxy = image(64, 64, "orange").box_blur(3);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn box_blur(img: Image, opts: Dynamic) -> RhaiResult<Image> {
        lift(filter::box_blur_with(&img, &options_or_number::<BoxBlur>(opts, "radius")?))
    }

    /// Sharpens: `x + amount * (x - mean of the 8 neighbours)`; 1.0 is Pillow's `SHARPEN`.
    ///
    /// ```rhai
    /// let crisp = image(64, 64, "orange").sharpen(1.0);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sharpen(img: Image, amount: Dynamic) -> RhaiResult<Image> {
        lift(filter::sharpen(&img, f32_of("sharpen", "amount", &amount)?))
    }

    /// Sharpen with options `#{ edge }` (`"clamp"`, `"wrap"`, `"mirror"`, `"transparent"`).
    ///
    /// ```rhai
    /// let crisp = image(64, 64, "orange").sharpen(1.0, #{ edge: "wrap" });
    /// ```
    #[rhai_fn(name = "sharpen", return_raw)]
    pub fn sharpen_with(img: Image, amount: Dynamic, opts: Map) -> RhaiResult<Image> {
        let o = options_for::<EdgeOptions>("sharpen", opts)?;
        lift(filter::sharpen_with(&img, f32_of("sharpen", "amount", &amount)?, o.edge))
    }

    /// Unsharp mask: adds `amount` × (image − Gaussian blur of `sigma`).
    ///
    /// ```rhai
    /// let crisp = image(64, 64, "orange").unsharp(2.0, 1.5);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn unsharp(img: Image, sigma: Dynamic, amount: Dynamic) -> RhaiResult<Image> {
        unsharp_with(img, sigma, amount, Map::new())
    }

    /// Unsharp mask with options `#{ threshold, linear, edge }`: differences below `threshold`
    /// (0..1, Pillow's threshold / 255) are left alone.
    ///
    /// ```rhai
    /// let crisp = image(64, 64, "orange").unsharp(2.0, 1.5, #{ threshold: 3.0 / 255.0 });
    /// ```
    #[rhai_fn(name = "unsharp", return_raw)]
    pub fn unsharp_with(img: Image, sigma: Dynamic, amount: Dynamic, opts: Map) -> RhaiResult<Image> {
        let (sigma, amount) = (f32_of("unsharp", "sigma", &sigma)?, f32_of("unsharp", "amount", &amount)?);
        lift(filter::unsharp_with(&img, &Unsharp::with(sigma, amount, &options::<UnsharpOptions>(opts)?)))
    }

    /// Convolves with a kernel given as rows of numbers (odd width and height), edges clamped
    /// (wrapped for a tileable image).
    /// The kernel reads as on screen: the first row weighs the pixels above.
    ///
    /// ```rhai
    /// let soft = image(64, 64, "orange").convolve([[1, 2, 1], [2, 4, 2], [1, 2, 1]], #{ normalize: true });
    /// let raw = image(64, 64, "orange").convolve([[0, -1, 0], [-1, 5, -1], [0, -1, 0]]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn convolve(img: Image, k: Dynamic) -> RhaiResult<Image> {
        convolve_with(img, k, Map::new())
    }

    /// Convolution with options `#{ normalize, edge }` (divide by the sum of the weights; what the
    /// kernel reads past the border).
    ///
    /// ```rhai
    /// let soft = image(64, 64, "orange").convolve([[1, 1, 1], [1, 1, 1], [1, 1, 1]], #{ normalize: true });
    /// let tiled = image(64, 64, "orange").convolve([[1, 0, -1]], #{ edge: "wrap" });
    /// ```
    #[rhai_fn(name = "convolve", return_raw)]
    pub fn convolve_with(img: Image, k: Dynamic, opts: Map) -> RhaiResult<Image> {
        lift(filter::convolve_with(&img, &Convolve::with(kernel(&k)?, &options::<ConvolveOptions>(opts)?)))
    }

    /// Sobel edge magnitude per channel (a hard 0→1 step gives 1); alpha kept.
    ///
    /// ```rhai
    /// let lines = image(64, 64, "orange").edges();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn edges(img: Image) -> RhaiResult<Image> {
        lift(filter::edges(&img))
    }

    /// Sobel edges with options `#{ edge }`.
    ///
    /// ```rhai
    /// let lines = image(64, 64, "orange").edges(#{ edge: "mirror" });
    /// ```
    #[rhai_fn(name = "edges", return_raw)]
    pub fn edges_with(img: Image, opts: Map) -> RhaiResult<Image> {
        lift(filter::edges_with(&img, options_for::<EdgeOptions>("edges", opts)?.edge))
    }

    /// Median over a (2r+1)² box per channel: removes salt-and-pepper noise, keeps edges.
    ///
    /// ```rhai
    /// let clean = image(64, 64, "orange").median(2);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn median(img: Image, r: Dynamic) -> RhaiResult<Image> {
        lift(filter::median(&img, radius_of("median", &r)?))
    }

    /// Median with options `#{ edge }`.
    ///
    /// ```rhai
    /// let clean = image(64, 64, "orange").median(2, #{ edge: "wrap" });
    /// ```
    #[rhai_fn(name = "median", return_raw)]
    pub fn median_with(img: Image, r: Dynamic, opts: Map) -> RhaiResult<Image> {
        let o = options_for::<EdgeOptions>("median", opts)?;
        lift(filter::median_with(&img, radius_of("median", &r)?, o.edge))
    }

    /// Emboss like Pillow's `EMBOSS`: `x - up_left + 0.5`, flat areas turn mid-gray.
    ///
    /// ```rhai
    /// let relief = image(64, 64, "orange").emboss();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn emboss(img: Image) -> RhaiResult<Image> {
        lift(filter::emboss(&img))
    }

    /// Emboss with options `#{ edge }`.
    ///
    /// ```rhai
    /// let relief = image(64, 64, "orange").emboss(#{ edge: "wrap" });
    /// ```
    #[rhai_fn(name = "emboss", return_raw)]
    pub fn emboss_with(img: Image, opts: Map) -> RhaiResult<Image> {
        lift(filter::emboss_with(&img, options_for::<EdgeOptions>("emboss", opts)?.edge))
    }
}
