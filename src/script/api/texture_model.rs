//! Script bindings for texture models (`kind = "texture_gan"`): `train_texture(#{ ... })`,
//! `m.sample(#{ width, height, seed, tileable, texture | global | blend + between })` and
//! `m.textures`. Added to the Models family by `model::module`.
//!
//! Which texture a sample draws is read here, because it names script values: `texture` (an
//! index or an exemplar's name), `global` (one weight per exemplar: a point of the learned
//! texture manifold, so `[0.5, 0.5]` is halfway and `[1, -0.5, 0.5]` is arithmetic), or `blend`
//! (a Field or a grey Image, 0 → the first of `between`, 1 → the second) with `between: [a, b]`,
//! each an index, a name or a weight array. The rest of the map is the model room's
//! [`TextureSample`] set (size, seed, tiling), with its defaults and errors.

use rhai::{Array, Dynamic, FuncRegistration, Map, Module, NativeCallContext};

use crate::field::Field;
use crate::image::Image;
use crate::model::{Model, TextureMix, TextureSample, TextureSettings};
use crate::script::api::with_options;
use crate::script::context::{run_state, seed_or_run};
use crate::script::convert::{fail, lift, num, options_for, RhaiResult};

const OP: &str = "sample";

const TRAIN_TEXTURE_DOC: &str =
    "Trains a texture model (kind texture_gan) on random `patch` crops of one or more exemplars
and returns it; with `out`, the model, a resumable checkpoint and a labelled sample grid are
written. `data` is an image file, a folder (one texture per image) or an array of images.
Sample it at any size with `m.sample(#{ width, height, tileable })`.

```rhai
let ex = fbm(perlin(#{ scale: 32.0 })).render(64, 64);
let m = train_texture(#{ data: [ex], patch: 32, steps: 2, batch: 2, width: 4 });
let tile = m.sample(#{ width: 64, height: 64, tileable: true });
```";

const SAMPLE_DOC: &str = "A texture of any size (a multiple of 8) from a texture model. `seed` defaults to the run's;
`tileable: true` wraps the noise so the image tiles. Choose the texture with `texture` (index
or name), `global` (one weight per exemplar) or `blend` (a Field or grey Image: 0 draws the
first of `between`, 1 the second, each an index, a name or weights).

```rhai
let m = load_model(\"std/materials_texture\");
let tile = m.sample(#{ width: 1024, height: 1024, tileable: true, texture: \"cobblestone\" });
let morph = m.sample(#{ width: 512, height: 256, blend: linear_gradient(0.0), between: [0, 1] });
```";

/// Adds the texture-model functions to the Models package.
pub fn add(m: &mut Module) {
    with_options(m, "train_texture", TRAIN_TEXTURE_DOC, |ctx, s: TextureSettings| train(ctx, s));
    let comments: Vec<String> = SAMPLE_DOC.lines().map(|l| format!("/// {l}").trim_end().to_string()).collect();
    FuncRegistration::new(OP)
        .with_comments(&comments)
        .with_params_info(["m: Model", "opts: Map", "Image"])
        .set_into_module(m, |ctx: NativeCallContext, m: &mut Model, opts: Map| sample(&ctx, m, opts));
    FuncRegistration::new("get$textures")
        .with_comments([
            "/// The exemplar names of a texture model, in index order (empty for other kinds).",
            "///",
            "/// ```rhai",
            "/// let names = load_model(\"std/materials_texture\").textures;",
            "/// ```",
        ])
        .with_params_info(["m: Model", "Array"])
        .set_into_module(m, |m: &mut Model| -> Array {
            m.textures().iter().map(|s| Dynamic::from(s.clone())).collect()
        });
}

fn train(ctx: &NativeCallContext, mut s: TextureSettings) -> RhaiResult<Model> {
    let run = run_state(ctx)?;
    s.seed = Some(seed_or_run(ctx, s.seed)?);
    super::model::resolve_paths(&run, &mut s.data, &mut s.out)?;
    let mut on_progress = super::model::progress_lines("train_texture");
    let (model, metrics) = lift(crate::model::train_texture(&s, Some(&run.cancel), &mut on_progress))?;
    if let Some(out) = &s.out {
        run.outputs.lock().unwrap_or_else(|e| e.into_inner()).push(out.clone());
    }
    crate::console::err(format_args!("train_texture: {metrics}"));
    Ok(model)
}

fn sample(ctx: &NativeCallContext, m: &mut Model, mut opts: Map) -> RhaiResult<Image> {
    let texture = opts.remove("texture");
    let global = opts.remove("global");
    let blend = opts.remove("blend");
    let between = opts.remove("between");
    let mut s: TextureSample = options_for(OP, opts)?;
    s.seed = Some(seed_or_run(ctx, s.seed)?);
    lift(s.validate())?;
    let given = [texture.is_some(), global.is_some(), blend.is_some()].iter().filter(|g| **g).count();
    if given > 1 {
        return Err(fail(OP, "give one of 'texture', 'global' or 'blend'"));
    }
    if between.is_some() && blend.is_none() {
        return Err(fail(OP, "'between' goes with 'blend' (a Field or grey Image saying where each texture goes)"));
    }
    let mix = if let Some(t) = texture {
        TextureMix::One(texture_index(m, "texture", &t)?)
    } else if let Some(g) = global {
        TextureMix::Weights(weights(m, "global", &g)?)
    } else if let Some(b) = blend {
        let Some(between) = between.and_then(|v| v.try_cast::<Array>()).filter(|a| a.len() == 2) else {
            return Err(fail(OP, "'blend' needs 'between: [a, b]' (two textures: indices, names or weight arrays)"));
        };
        let a = mix_weights(m, &between[0])?;
        let b_w = mix_weights(m, &between[1])?;
        TextureMix::Blend { a, b: b_w, t: blend_map(&b, s.width, s.height)? }
    } else {
        TextureMix::One(0)
    };
    lift(m.sample_texture(&s, &mix))
}

/// An exemplar index from an index or a name.
fn texture_index(m: &Model, key: &str, v: &Dynamic) -> RhaiResult<usize> {
    let names = m.textures();
    if let Some(name) = v.clone().try_cast::<rhai::ImmutableString>() {
        return names.iter().position(|n| n == name.as_str()).ok_or_else(|| {
            let hint = crate::suggest::did_you_mean(name.as_str(), names.iter());
            fail(OP, format!("'{key}': no texture `{name}` in this model ({}){hint}", names.join(", ")))
        });
    }
    if v.is_int() {
        let i = v.as_int().unwrap_or(-1);
        if i < 0 || i as usize >= names.len().max(1) {
            return Err(fail(OP, format!("'{key}': texture {i} does not exist; this model has {}", names.len())));
        }
        return Ok(i as usize);
    }
    Err(fail(OP, format!("'{key}' must be a texture index or name, got {}", v.type_name())))
}

/// One weight per exemplar from an array of numbers.
fn weights(m: &Model, key: &str, v: &Dynamic) -> RhaiResult<Vec<f32>> {
    let Some(items) = v.clone().try_cast::<Array>() else {
        return Err(fail(OP, format!("'{key}' must be an array of weights, one per texture, got {}", v.type_name())));
    };
    let w: Vec<f32> = items.iter().map(|x| num(OP, key, x).map(|x| x as f32)).collect::<RhaiResult<_>>()?;
    if w.len() != m.textures().len() {
        return Err(fail(
            OP,
            format!("'{key}' has {} weights; this model has {} textures", w.len(), m.textures().len()),
        ));
    }
    Ok(w)
}

/// One side of `between`: an index or name (that texture alone) or a weight array.
fn mix_weights(m: &Model, v: &Dynamic) -> RhaiResult<Vec<f32>> {
    if v.is_array() {
        return weights(m, "between", v);
    }
    let i = texture_index(m, "between", v)?;
    let mut w = vec![0f32; m.textures().len().max(1)];
    w[i] = 1.0;
    Ok(w)
}

/// The blend map at the sample's size: a Field rendered there, or a grey Image sampled there
/// (nearest pixel, so any size works; its red channel, as grey images hold it).
fn blend_map(v: &Dynamic, width: u32, height: u32) -> RhaiResult<Vec<f32>> {
    let img = if let Some(f) = v.clone().try_cast::<Field>() {
        lift(f.render(width, height))?
    } else if let Some(img) = v.clone().try_cast::<Image>() {
        img
    } else {
        return Err(fail(OP, format!("'blend' must be a Field or an Image, got {}", v.type_name())));
    };
    let (iw, ih) = img.dimensions();
    let mut out = Vec::with_capacity(width as usize * height as usize);
    for y in 0..height {
        let row = img.row((y as u64 * ih as u64 / height as u64) as u32);
        for x in 0..width {
            let sx = (x as u64 * iw as u64 / width as u64) as usize;
            out.push(row[sx * 4].clamp(0.0, 1.0));
        }
    }
    Ok(out)
}
