//! Script bindings: packing and game-asset export (`crate::image::ops::pack`, `crate::image::pbr`)
//! and `save_json`. Translation only: option maps are read into the room's option sets
//! (`Mipmaps`, `AtlasOptions`, `PbrExport`); a PBR set (a Rhai map) becomes a `PbrSet`.
//!
//! `save_json` converts a Rhai value to JSON here, by hand, rather than through Rhai's `serde`
//! feature: that feature would rebuild Rhai with serde for one function, and it would write an
//! Image as an opaque value instead of refusing it with the place where it sits in the value.

use rhai::plugin::*;
use rhai::{Array, Dynamic, Map, Module};

use crate::image::ops::pack::{AtlasOptions, Mipmaps};
use crate::image::pbr::{PbrExport, PbrSet};
use crate::image::Image;
use crate::options::OptionSet;
use crate::script::api::OptionDocs;
use crate::script::convert::{a_type_name, fail, num, type_name, RhaiResult};
use crate::script::pbr::SetValue;

/// Option sets read inside this family's bindings, by function name, for `kiln doc`.
pub const OPTION_SETS: &[(&str, OptionDocs)] = &[
    ("mipmaps", <Mipmaps as OptionSet>::doc_lines),
    ("atlas", <AtlasOptions as OptionSet>::doc_lines),
    ("save_pbr", <PbrExport as OptionSet>::doc_lines),
];

/// The package of packing and export functions.
pub fn module() -> Module {
    exported_module!(pack_api)
}

/// A Rhai map of maps into a [`PbrSet`], read as every set is (`script::pbr`); a map with none
/// of the channel names is an error here, since `save_pbr` needs a set.
fn pbr_set(set: &Map) -> RhaiResult<PbrSet> {
    match crate::script::pbr::set_of_map(set) {
        SetValue::Set(set) => Ok(*set),
        SetValue::Bad(message) => Err(fail("save_pbr", message)),
        SetValue::NotASet => {
            let keys: Vec<&str> = set.keys().map(|k| k.as_str()).collect();
            Err(fail(
                "save_pbr",
                format!(
                    "the set has none of the maps albedo, normal, height, roughness, metallic, ao; it has: {}",
                    if keys.is_empty() { "no keys".to_string() } else { keys.join(", ") }
                ),
            ))
        }
    }
}

/// The sprites of `atlas(images)`: an array, or a map name → image (packed in name order).
fn sprites(images: &Dynamic) -> RhaiResult<(Vec<Image>, Option<Vec<String>>)> {
    let image_at = |v: &Dynamic, at: String| {
        v.clone()
            .try_cast::<Image>()
            .ok_or_else(|| fail("atlas", format!("{at} must be an Image, got {}", type_name(v))))
    };
    if let Some(arr) = images.clone().try_cast::<Array>() {
        let imgs =
            arr.iter().enumerate().map(|(i, v)| image_at(v, format!("images[{i}]"))).collect::<RhaiResult<_>>()?;
        return Ok((imgs, None));
    }
    if let Some(map) = images.clone().try_cast::<Map>() {
        let mut imgs = Vec::with_capacity(map.len());
        let mut names = Vec::with_capacity(map.len());
        for (name, v) in &map {
            imgs.push(image_at(v, format!("images.{name}"))?);
            names.push(name.to_string());
        }
        return Ok((imgs, Some(names)));
    }
    Err(fail(
        "atlas",
        format!("images must be an array of Images or a map of name to Image, got {}", type_name(images)),
    ))
}

/// A Rhai value as JSON; `at` is where it sits, for the error message.
fn to_json(v: &Dynamic, at: &str) -> RhaiResult<serde_json::Value> {
    use serde_json::Value;
    if v.is_unit() {
        return Ok(Value::Null);
    }
    if let Ok(b) = v.as_bool() {
        return Ok(Value::Bool(b));
    }
    if let Ok(i) = v.as_int() {
        return Ok(Value::from(i));
    }
    if v.is_float() {
        let x = num("save_json", at, v)?;
        return serde_json::Number::from_f64(x)
            .map(Value::Number)
            .ok_or_else(|| fail("save_json", format!("{at} is {x}, which JSON cannot hold")));
    }
    if let Ok(c) = v.as_char() {
        return Ok(Value::String(c.to_string()));
    }
    if let Some(s) = v.clone().try_cast::<rhai::ImmutableString>() {
        return Ok(Value::String(s.to_string()));
    }
    if let Some(arr) = v.clone().try_cast::<Array>() {
        return arr
            .iter()
            .enumerate()
            .map(|(i, x)| to_json(x, &format!("{at}[{i}]")))
            .collect::<RhaiResult<_>>()
            .map(Value::Array);
    }
    if let Some(map) = v.clone().try_cast::<Map>() {
        // Rhai maps iterate in key order, so the file's keys are sorted whatever serde_json's
        // map keeps.
        let mut out = serde_json::Map::new();
        for (k, x) in &map {
            out.insert(k.to_string(), to_json(x, &format!("{at}.{k}"))?);
        }
        return Ok(Value::Object(out));
    }
    Err(fail(
        "save_json",
        format!(
            "{at} is {}, which JSON cannot hold (only maps, arrays, strings, numbers, true/false and ())",
            a_type_name(v)
        ),
    ))
}

#[export_module]
mod pack_api {
    use super::{pbr_set, sprites, to_json};
    use crate::image::ops::pack::{self, AtlasOptions, Mipmaps};
    use crate::image::pbr::{self, PbrExport};
    use crate::image::Image;
    use crate::script::context::run_state;
    use crate::script::convert::{fail, lift, options, type_name, RhaiResult};
    use rhai::{Array, Dynamic, Map, NativeCallContext, INT};

    /// The mip chain: the image, then halves of it down to 1×1 (`max(1, w >> k)` × `max(1, h >> k)`),
    /// averaged in linear light with premultiplied alpha, so a fine black/white pattern stays as
    /// bright as it looks.
    ///
    /// ```rhai
    /// let mips = image(64, 32, "orange").mipmaps();
    /// print(mips.len());   // 7: 64x32 ... 1x1
    /// ```
    #[rhai_fn(return_raw)]
    pub fn mipmaps(img: Image) -> RhaiResult<Array> {
        mipmaps_with(img, Map::new())
    }

    /// The mip chain with options: `filter` ("box" or "tent"), `tileable` (the tent filter wraps
    /// round the edges; default: the image's tileable tag), `linear` (false for data maps:
    /// normal, roughness, height).
    ///
    /// ```rhai
    /// let height = image(64, 64, "gray");
    /// let mips = height.mipmaps(#{ linear: false, filter: "tent", tileable: true });
    /// ```
    #[rhai_fn(name = "mipmaps", return_raw)]
    pub fn mipmaps_with(img: Image, opts: Map) -> RhaiResult<Array> {
        let o = options::<Mipmaps>(opts)?;
        Ok(lift(pack::mipmaps(&img, &o))?.into_iter().map(Dynamic::from).collect())
    }

    /// Packs images into one atlas: `images` is an array (rects carry `index`) or a map of name
    /// to image (rects carry `index` and `name`, in name order). Returns `#{ image, rects }`,
    /// each rect `#{ x, y, w, h, index }`: where the sprite is, without its extruded border.
    ///
    /// ```rhai
    /// let a = atlas([image(16, 16, "red"), image(8, 24, "blue")]);
    /// print(a.rects[1].x);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn atlas(images: Dynamic) -> RhaiResult<Map> {
        atlas_with(images, Map::new())
    }

    /// [`atlas`] with options: `padding` (gap between sprites and to the border), `extrude` (edge
    /// pixels repeated outward), `power_of_two`, `max_size`.
    ///
    /// ```rhai
    /// let a = atlas(#{ coin: image(16, 16, "gold"), key: image(8, 24, "gray") },
    ///               #{ padding: 2, extrude: 1, power_of_two: true });
    /// a.image.save("sprites.png");
    /// save_json(a.rects, "sprites.json");
    /// ```
    #[rhai_fn(name = "atlas", return_raw)]
    pub fn atlas_with(images: Dynamic, opts: Map) -> RhaiResult<Map> {
        let o = options::<AtlasOptions>(opts)?;
        let (imgs, names) = sprites(&images)?;
        let packed = lift(pack::atlas(&imgs, &o))?;
        let rects: Array = packed
            .rects
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut m = Map::new();
                m.insert("x".into(), (r.x as INT).into());
                m.insert("y".into(), (r.y as INT).into());
                m.insert("w".into(), (r.w as INT).into());
                m.insert("h".into(), (r.h as INT).into());
                m.insert("index".into(), (i as INT).into());
                if let Some(names) = &names {
                    m.insert("name".into(), names[i].clone().into());
                }
                Dynamic::from_map(m)
            })
            .collect();
        let mut out = Map::new();
        out.insert("image".into(), Dynamic::from(packed.image));
        out.insert("rects".into(), Dynamic::from_array(rects));
        Ok(out)
    }

    /// Writes a PBR set `#{ albedo, height, normal, roughness, metallic, ao }` as the files a game
    /// engine expects (`preset`: "gltf", "unreal", "unity_hdrp", "godot"), named
    /// `NAME_<suffix>.png` in the out folder; returns the paths written. All files appear
    /// together or none do.
    ///
    /// ```rhai
    /// let g = |v| image(32, 32, rgb(v, v, v));
    /// let set = #{ albedo: image(32, 32, "sienna"), normal: image(32, 32, rgb(0.5, 0.5, 1.0)),
    ///              roughness: g.call(0.7), metallic: g.call(0.0), ao: g.call(1.0) };
    /// let files = save_pbr(set, "brick", #{ preset: "unreal" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save_pbr(ctx: NativeCallContext, set: Map, name: &str) -> RhaiResult<Array> {
        save_pbr_with(ctx, set, name, Map::new())
    }

    /// [`save_pbr`] with options: `preset`, `format` ("png", "tif", "exr"), `bits`.
    ///
    /// ```rhai
    /// let g = |v| image(32, 32, rgb(v, v, v));
    /// let set = #{ albedo: image(32, 32, "sienna"), normal: image(32, 32, rgb(0.5, 0.5, 1.0)),
    ///              roughness: g.call(0.7), metallic: g.call(0.0), ao: g.call(1.0), height: g.call(0.5) };
    /// save_pbr(set, "textures/brick", #{ preset: "unity_hdrp", bits: 16 });
    /// ```
    #[rhai_fn(name = "save_pbr", return_raw)]
    pub fn save_pbr_with(ctx: NativeCallContext, set: Map, name: &str, opts: Map) -> RhaiResult<Array> {
        let o = options::<PbrExport>(opts)?;
        let set = pbr_set(&set)?;
        if name.is_empty() {
            return Err(fail("save_pbr", "the name must not be empty"));
        }
        let run = run_state(&ctx)?;
        let files = lift(pbr::pack_pbr(&set, o.preset))?;
        let mut named = Vec::with_capacity(files.len());
        let mut written = Array::new();
        for f in files {
            let rel = pbr::file_name(name, &f, o.format);
            named.push((lift(run.policy.prepare_write(&rel))?, f));
            written.push(rel.into());
        }
        let recipe = (!run.config.no_provenance).then(|| run.recipe());
        lift(pbr::write_set(&named, &o, recipe.as_ref()))?;
        run.outputs.lock().unwrap_or_else(|e| e.into_inner()).extend(named.into_iter().map(|(p, _)| p));
        Ok(written)
    }

    /// Writes a map or array as pretty-printed JSON (keys sorted) to a file in the out folder,
    /// atomically. Images and other non-JSON values in it are an error naming where they sit.
    ///
    /// ```rhai
    /// save_json(#{ name: "hero", frames: [1, 2, 3] }, "hero.json");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn save_json(ctx: NativeCallContext, value: Dynamic, path: &str) -> RhaiResult<()> {
        if !(value.is_map() || value.is_array()) {
            return Err(fail("save_json", format!("the value must be a map or an array, got {}", type_name(&value))));
        }
        let json = to_json(&value, "value")?;
        let mut text =
            serde_json::to_string_pretty(&json).map_err(|e| fail("save_json", format!("cannot write JSON: {e}")))?;
        text.push('\n');
        let run = run_state(&ctx)?;
        let full = lift(run.policy.prepare_write(path))?;
        lift(crate::image::io::write_atomic(&full, text.as_bytes()))?;
        run.outputs.lock().unwrap_or_else(|e| e.into_inner()).push(full);
        Ok(())
    }
}
