//! Script bindings: surface ops on height maps (`crate::image::ops::surface`). Translation only:
//! option maps are read into the room's option sets (`NormalMap`, `AmbientOcclusion`,
//! `Curvature`, `HeightBlend`, `SlopeBlur`), which own the defaults, ranges and doc lines. A
//! field reaches these ops through `render` (DESIGN.md §7).

use crate::image::ops::surface as s;
use crate::options::OptionSet;
use crate::script::api::OptionDocs;
use rhai::plugin::*;
use rhai::Module;

/// Option sets read inside this family's bindings, by function name, for `kiln doc`.
pub const OPTION_SETS: &[(&str, OptionDocs)] = &[
    ("normal_map", <s::NormalMap as OptionSet>::doc_lines),
    ("ambient_occlusion", <s::AmbientOcclusion as OptionSet>::doc_lines),
    ("curvature", <s::Curvature as OptionSet>::doc_lines),
    ("height_blend", <s::HeightBlend as OptionSet>::doc_lines),
    ("slope_blur", <s::SlopeBlur as OptionSet>::doc_lines),
];

/// The package of surface functions.
pub fn module() -> Module {
    exported_module!(surface_api)
}

#[export_module]
mod surface_api {
    use crate::image::ops::surface::{self, AmbientOcclusion, Curvature, HeightBlend, NormalMap, SlopeBlur};
    use crate::image::Image;
    use crate::script::convert::{lift, num, options, RhaiResult};
    use rhai::{Dynamic, Map};

    /// Tangent-space normal map of a height map (grey; a colour image gives its luminance), RGB
    /// encoded `n·0.5 + 0.5`, opaque. `strength` 1 makes a height step of 1.0 between
    /// neighbouring pixels a 45° slope; `convention` "opengl" (green up) or "directx" (green
    /// down); `edge` wraps by default for tileable images.
    ///
    /// ```rhai
    /// let height = perlin(#{ scale: 4 }).render(64, 64);
    /// let normal = height.normal_map();
    /// let unreal = height.normal_map(#{ strength: 16, convention: "directx", edge: "wrap" });
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn normal_map(img: &mut Image) -> RhaiResult<Image> {
        lift(surface::normal_map(img, &NormalMap::default()))
    }

    /// `normal_map` with options `#{ strength, convention, edge }`.
    ///
    /// ```rhai
    /// let normal = perlin(#{ scale: 4 }).render(64, 64).normal_map(#{ strength: 4 });
    /// ```
    #[rhai_fn(name = "normal_map", return_raw, pure)]
    pub fn normal_map_with(img: &mut Image, opts: Map) -> RhaiResult<Image> {
        lift(surface::normal_map(img, &options::<NormalMap>(opts)?))
    }

    /// Horizon-based ambient occlusion (HBAO) of a height map: grey, 1 = open, darker in pits and
    /// creases. A height of 1.0 is `radius` pixels tall; deterministic (fixed directions, no noise).
    ///
    /// ```rhai
    /// let ao = perlin(#{ scale: 4 }).render(64, 64).ambient_occlusion();
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn ambient_occlusion(img: &mut Image) -> RhaiResult<Image> {
        lift(surface::ambient_occlusion(img, &AmbientOcclusion::default()))
    }

    /// `ambient_occlusion` with options `#{ radius, samples, strength, edge }`.
    ///
    /// ```rhai
    /// let ao = perlin(#{ scale: 4 }).render(64, 64).ambient_occlusion(#{ radius: 8, samples: 12, strength: 1.5 });
    /// ```
    #[rhai_fn(name = "ambient_occlusion", return_raw, pure)]
    pub fn ambient_occlusion_with(img: &mut Image, opts: Map) -> RhaiResult<Image> {
        lift(surface::ambient_occlusion(img, &options::<AmbientOcclusion>(opts)?))
    }

    /// Curvature of a height map: grey, 0.5 where flat, brighter on convex forms (ridges, bump
    /// tops), darker in concave ones (creases, pits), as in Substance.
    ///
    /// ```rhai
    /// let edges = perlin(#{ scale: 4 }).render(64, 64).curvature();
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn curvature(img: &mut Image) -> RhaiResult<Image> {
        lift(surface::curvature(img, &Curvature::default()))
    }

    /// `curvature` with options `#{ radius, strength, edge }`.
    ///
    /// ```rhai
    /// let edges = perlin(#{ scale: 4 }).render(64, 64).curvature(#{ radius: 2, strength: 8 });
    /// ```
    #[rhai_fn(name = "curvature", return_raw, pure)]
    pub fn curvature_with(img: &mut Image, opts: Map) -> RhaiResult<Image> {
        lift(surface::curvature(img, &options::<Curvature>(opts)?))
    }

    /// Layers `a` over `b` where `height_a` stands above `height_b` (the height lerp of material
    /// layering): mask = clamp(0.5 + (height_a − height_b) / (1 − contrast), 0, 1), output =
    /// b + (a − b)·mask. All four images the same size.
    ///
    /// ```rhai
    /// let ha = perlin(#{ scale: 4 }).render(64, 64);
    /// let hb = perlin(#{ scale: 9, seed: 2 }).render(64, 64);
    /// let moss_on_stone = height_blend(image(64, 64, "green"), image(64, 64, "gray"), ha, hb);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn height_blend(a: Image, b: Image, height_a: Image, height_b: Image) -> RhaiResult<Image> {
        lift(surface::height_blend(&a, &b, &height_a, &height_b, &HeightBlend::default()))
    }

    /// `height_blend` with options `#{ contrast }` (0 = mix over the whole range, 1 = hard edge).
    ///
    /// ```rhai
    /// let ha = perlin(#{ scale: 4 }).render(64, 64);
    /// let hb = perlin(#{ scale: 9, seed: 2 }).render(64, 64);
    /// let sharp = height_blend(image(64, 64, "green"), image(64, 64, "gray"), ha, hb, #{ contrast: 0.98 });
    /// ```
    #[rhai_fn(name = "height_blend", return_raw)]
    pub fn height_blend_with(a: Image, b: Image, height_a: Image, height_b: Image, opts: Map) -> RhaiResult<Image> {
        lift(surface::height_blend(&a, &b, &height_a, &height_b, &options::<HeightBlend>(opts)?))
    }

    /// Blurs the image along the gradient (uphill) of `slope`, a height map of the same size:
    /// a slope rising by 1.0 across the image's width moves a pixel by `amount` pixels.
    ///
    /// ```rhai
    /// let slope = perlin(#{ scale: 4 }).render(64, 64);
    /// let dragged = image(64, 64, "orange").slope_blur(slope);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn slope_blur(img: &mut Image, slope: Image) -> RhaiResult<Image> {
        lift(surface::slope_blur(img, &slope, &SlopeBlur::default()))
    }

    /// `slope_blur` with options `#{ amount, samples, edge }`.
    ///
    /// ```rhai
    /// let slope = perlin(#{ scale: 4 }).render(64, 64);
    /// let dragged = checker(8).render(64, 64).slope_blur(slope, #{ amount: 8, samples: 16 });
    /// ```
    #[rhai_fn(name = "slope_blur", return_raw, pure)]
    pub fn slope_blur_with(img: &mut Image, slope: Image, opts: Map) -> RhaiResult<Image> {
        lift(surface::slope_blur(img, &slope, &options::<SlopeBlur>(opts)?))
    }

    /// Substance's Histogram Scan on the grey values: `position` 0..1 slides a threshold ramp
    /// (0 = all black, 1 = all white, 0.5 with contrast 0 = unchanged), `contrast` 0..1 narrows it
    /// to a hard threshold at 1 − position. Alpha kept.
    ///
    /// ```rhai
    /// let mask = perlin(#{ scale: 4 }).render(64, 64).histogram_scan(0.4, 0.8);
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn histogram_scan(img: &mut Image, position: Dynamic, contrast: Dynamic) -> RhaiResult<Image> {
        let op = "histogram_scan";
        let (p, c) = (num(op, "position", &position)? as f32, num(op, "contrast", &contrast)? as f32);
        lift(surface::histogram_scan(img, p, c))
    }
}
