//! Script bindings of the spatial VAE's latent maps (`m.encode(img)` of a "spatial_vae"):
//! `+ - *` with maps and numbers, `lerp(a, b, t)` with t a number, a grey Image mask or a
//! Field, and `.width`, `.height`, `.channels`; and the reconstruction measures `psnr(a, b)` and
//! `ssim(a, b)`. One-line wrappers over [`crate::LatentMap`] and `model/quality.rs`; the only
//! work done here is turning a mask Image or Field into weights at the map's resolution.
//!
//! Mask decision: an Image mask is resized to the map's size (bilinear, antialiased when
//! shrinking) and a Field rendered at it (one sample per latent pixel); the weight is the
//! luminance (Rec. 709) of the result, clamped to 0..1: 0 keeps `a`, 1 takes `b`.

use rhai::plugin::*;
use rhai::Module;

use crate::error::Result;
use crate::field::Field;
use crate::image::ops::geometry::{resize, Filter};
use crate::image::Image;
use crate::model::LatentMap;

/// Registers the LatentMap type and its functions into the models package.
pub fn register(m: &mut Module) {
    m.set_custom_type::<LatentMap>("LatentMap");
    m.combine_flatten(exported_module!(latent_map_api));
}

/// Rec. 709 luminance of every pixel, clamped to 0..1.
fn weights(img: &Image) -> Vec<f32> {
    img.pixels().chunks_exact(4).map(|p| (0.2126 * p[0] + 0.7152 * p[1] + 0.0722 * p[2]).clamp(0.0, 1.0)).collect()
}

/// The weights of an image mask at the map's resolution.
pub fn image_mask(mask: &Image, map: &LatentMap) -> Result<Vec<f32>> {
    let (w, h) = (map.width() as u32, map.height() as u32);
    if mask.dimensions() == (w, h) {
        return Ok(weights(mask));
    }
    Ok(weights(&resize(mask, w, h, Filter::Bilinear)?))
}

/// The weights of a field mask rendered at the map's resolution.
pub fn field_mask(mask: &Field, map: &LatentMap) -> Result<Vec<f32>> {
    Ok(weights(&mask.render(map.width() as u32, map.height() as u32)?))
}

#[export_module]
mod latent_map_api {
    use super::{field_mask, image_mask};
    use crate::field::Field;
    use crate::model::LatentMap;
    use crate::script::convert::{lift, num, RhaiResult};
    use crate::Image;
    use rhai::{Dynamic, INT};

    /// Columns of the latent map (the image's width / the model's factor).
    ///
    /// ```rhai
    /// let m = load_model("std/materials_spatial_vae");
    /// let z = m.encode(image(64, 32, "teal"));
    /// print(`${z.width}x${z.height}, ${z.channels} channels`);
    /// ```
    #[rhai_fn(get = "width", pure)]
    pub fn width(z: &mut LatentMap) -> INT {
        z.width() as INT
    }

    /// Rows of the latent map.
    ///
    /// ```rhai
    /// let z = load_model("std/materials_spatial_vae").encode(image(64, 32, "teal"));
    /// print(z.height);
    /// ```
    #[rhai_fn(get = "height", pure)]
    pub fn height(z: &mut LatentMap) -> INT {
        z.height() as INT
    }

    /// Channels of the latent map.
    ///
    /// ```rhai
    /// let z = load_model("std/materials_spatial_vae").encode(image(64, 32, "teal"));
    /// print(z.channels);
    /// ```
    #[rhai_fn(get = "channels", pure)]
    pub fn channels(z: &mut LatentMap) -> INT {
        z.channels() as INT
    }

    /// Map + map, element by element.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_spatial_vae");
    /// let z = m.encode(image(64, 64, "red")) + m.encode(image(64, 64, "blue"));
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn add(a: LatentMap, b: LatentMap) -> RhaiResult<LatentMap> {
        lift(a.add(&b))
    }

    /// Map − map: a direction, for example from one texture to another.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_spatial_vae");
    /// let d = m.encode(image(64, 64, "red")) - m.encode(image(64, 64, "blue"));
    /// ```
    #[rhai_fn(name = "-", return_raw)]
    pub fn sub(a: LatentMap, b: LatentMap) -> RhaiResult<LatentMap> {
        lift(a.sub(&b))
    }

    /// Map × map, element by element.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_spatial_vae");
    /// let z = m.encode(image(64, 64, "red")) * m.encode(image(64, 64, "blue"));
    /// ```
    #[rhai_fn(name = "*", return_raw)]
    pub fn mul(a: LatentMap, b: LatentMap) -> RhaiResult<LatentMap> {
        lift(a.mul(&b))
    }

    /// Map × number.
    ///
    /// ```rhai
    /// let z = load_model("std/materials_spatial_vae").encode(image(64, 64, "red")) * 1.2;
    /// ```
    #[rhai_fn(name = "*", return_raw)]
    pub fn scale(a: LatentMap, f: Dynamic) -> RhaiResult<LatentMap> {
        lift(a.scale(num("latent map *", "factor", &f)? as f32))
    }

    /// Number × map.
    ///
    /// ```rhai
    /// let z = 1.2 * load_model("std/materials_spatial_vae").encode(image(64, 64, "red"));
    /// ```
    #[rhai_fn(name = "*", return_raw)]
    pub fn scale_left(f: Dynamic, a: LatentMap) -> RhaiResult<LatentMap> {
        lift(a.scale(num("latent map *", "factor", &f)? as f32))
    }

    /// Map + number (added to every value).
    ///
    /// ```rhai
    /// let z = load_model("std/materials_spatial_vae").encode(image(64, 64, "red")) + 0.1;
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn offset(a: LatentMap, f: Dynamic) -> RhaiResult<LatentMap> {
        lift(a.offset(num("latent map +", "offset", &f)? as f32))
    }

    /// Map − number.
    ///
    /// ```rhai
    /// let z = load_model("std/materials_spatial_vae").encode(image(64, 64, "red")) - 0.1;
    /// ```
    #[rhai_fn(name = "-", return_raw)]
    pub fn offset_neg(a: LatentMap, f: Dynamic) -> RhaiResult<LatentMap> {
        lift(a.offset(-num("latent map -", "offset", &f)? as f32))
    }

    /// Unary minus.
    ///
    /// ```rhai
    /// let z = -load_model("std/materials_spatial_vae").encode(image(64, 64, "red"));
    /// ```
    #[rhai_fn(name = "-", return_raw)]
    pub fn neg(a: LatentMap) -> RhaiResult<LatentMap> {
        lift(a.scale(-1.0))
    }

    /// Interpolation between two latent maps of the same shape: `a` at t = 0, `b` at t = 1.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_spatial_vae");
    /// let mid = m.decode(lerp(m.encode(image(64, 64, "red")), m.encode(image(64, 64, "blue")), 0.5));
    /// ```
    #[rhai_fn(name = "lerp", return_raw)]
    pub fn lerp(a: LatentMap, b: LatentMap, t: Dynamic) -> RhaiResult<LatentMap> {
        lift(a.lerp(&b, num("lerp", "t", &t)? as f32))
    }

    /// Blend through a grey Image mask (resized to the map's size; luminance 0 keeps `a`, 1
    /// takes `b`): inpainting, or texture transfer across a region.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_spatial_vae");
    /// let a = m.encode(image(128, 128, "red"));
    /// let b = m.encode(image(128, 128, "blue"));
    /// let mask = image(128, 128, "black").fill_rect(32, 32, 64, 64, "white");
    /// let patched = m.decode(lerp(a, b, mask));
    /// ```
    #[rhai_fn(name = "lerp", return_raw)]
    pub fn lerp_image(a: LatentMap, b: LatentMap, mask: Image) -> RhaiResult<LatentMap> {
        let w = lift(image_mask(&mask, &a))?;
        lift(a.lerp_mask(&b, &w))
    }

    /// Blend through a Field mask (rendered at the map's size; 0 keeps `a`, 1 takes `b`): one
    /// texture morphing into another across the image.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_spatial_vae");
    /// let a = m.encode(image(128, 128, "red"));
    /// let b = m.encode(image(128, 128, "blue"));
    /// let morph = m.decode(lerp(a, b, perlin(#{ scale: 2.0 }).remap(-1.0, 1.0, 0.0, 1.0)));
    /// ```
    #[rhai_fn(name = "lerp", return_raw)]
    pub fn lerp_field(a: LatentMap, b: LatentMap, mask: Field) -> RhaiResult<LatentMap> {
        let w = lift(field_mask(&mask, &a))?;
        lift(a.lerp_mask(&b, &w))
    }

    /// Peak signal-to-noise ratio of `b` against `a` in dB (RGB, values clamped to 0..1; alpha
    /// ignored); two equal images give infinity.
    ///
    /// ```rhai
    /// let a = image(64, 64, "grey");
    /// print(psnr(a, a.blur(1.0)));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn psnr(a: Image, b: Image) -> RhaiResult<f64> {
        lift(crate::model::psnr(&a, &b))
    }

    /// Structural similarity (Wang et al. 2004: 11×11 Gaussian window, σ 1.5, per RGB channel,
    /// averaged), 1 for equal images; both at least 11×11 and of the same size.
    ///
    /// ```rhai
    /// let a = image(64, 64, "grey");
    /// print(ssim(a, a.blur(1.0)));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ssim(a: Image, b: Image) -> RhaiResult<f64> {
        lift(crate::model::ssim(&a, &b))
    }

    /// `LatentMap(8 x 16 x 16)`: channels × height × width.
    ///
    /// ```rhai
    /// print(load_model("std/materials_spatial_vae").encode(image(64, 64, "red")));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn map_to_string(z: &mut LatentMap) -> String {
        format!("LatentMap({} x {} x {})", z.channels(), z.height(), z.width())
    }

    /// Same as `to_string`.
    ///
    /// ```rhai
    /// debug(load_model("std/materials_spatial_vae").encode(image(64, 64, "red")));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn map_to_debug(z: &mut LatentMap) -> String {
        map_to_string(z)
    }
}

#[cfg(all(test, feature = "ml"))]
mod tests {
    use crate::script::{Host, RunConfig};

    fn run(dir: &std::path::Path, source: &str) -> Result<crate::script::Outcome, Box<crate::script::ScriptError>> {
        let script = dir.join("t.rhai");
        std::fs::write(&script, source).unwrap();
        Host::default()
            .run_file(RunConfig { script, out_dir: Some(dir.to_path_buf()), ..Default::default() })
            .map_err(Box::new)
    }

    const TRAIN: &str = r#"
        let a = perlin(#{ scale: 6.0 }).remap(-1.0, 1.0, 0.0, 1.0).render(40, 32);
        let b = image(32, 32, "teal");
        let m = train_spatial_vae(#{ data: [a, b], patch: 16, steps: 2, batch: 2, width: 4, channels: 2, out: "s.safetensors" });
    "#;

    /// Train, load, encode, edit (numbers, maps, masks), decode: the script API end to end.
    #[test]
    fn latent_maps_end_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let source = format!(
            "{TRAIN}{}",
            r#"
            let s = load_model("s.safetensors");
            if s.kind != "spatial_vae" || s.factor != 4 { throw "properties"; }
            let za = s.encode(a);
            let zb = s.encode(b.resize(40, 32));
            if za.width != 10 || za.height != 8 || za.channels != 2 { throw `shape ${za}`; }
            let mask = image(40, 32, "black").fill_rect(0, 0, 20, 32, "white");
            let edits = [
                lerp(za, zb, 0.5), lerp(za, zb, mask), lerp(za, zb, perlin(#{ scale: 2.0 })),
                za + zb, za - zb, za * zb, za * 2, 2 * za, za + 0.5, za - 0.5, -za,
            ];
            let out = edits.map(|z| s.decode(z));
            out.push(s.decode(s.encode(image(13, 7, "red"))));
            out.push(s.reconstruct(a));
            if psnr(a, a) < 1000.0 || ssim(a, a) < 0.999 { throw "quality"; }
            out
            "#
        );
        let out = run(dir.path(), &source).unwrap();
        assert_eq!(out.images.len(), 13);
        assert!(out.images[..11].iter().all(|i| i.dimensions() == (40, 32)));
        assert_eq!(out.images[11].dimensions(), (13, 7));
    }

    #[test]
    fn errors_name_the_kind_and_the_shapes() {
        let dir = tempfile::tempdir().unwrap();
        let err = |tail: &str| run(dir.path(), &format!("{TRAIN}{tail}")).unwrap_err().to_string();
        let e = err("m.sample(1)");
        assert!(e.contains("sample: this model's kind is \"spatial_vae\""), "{e}");
        let e = err("m.latent(1)");
        assert!(e.contains("this model's kind is \"spatial_vae\""), "{e}");
        let e = err("lerp(m.encode(a), m.encode(b), 0.5)");
        assert!(e.contains("lerp: latent maps differ in shape: 2x8x10 and 2x8x8"), "{e}");
        let e = err("m.decode(m.encode(a) * (1.0 / 0.0))");
        assert!(e.contains("latent map *"), "{e}");
        let e = err(r#"load_model("std/materials_vae").decode(m.encode(a))"#);
        assert!(e.contains("decode: this model's kind is \"vae\""), "{e}");
        let e = run(dir.path(), r#"train_spatial_vae(#{ data: [image(8, 8, "red")], patch: 16 })"#).unwrap_err();
        assert!(e.to_string().contains("image 0 of the array is 8x8, smaller than the 16x16 patch"), "{e}");
    }
}
