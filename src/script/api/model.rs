//! Script bindings for learned models (DESIGN.md §4 "Models"): loading, sampling, encoding,
//! decoding, the Latent type, and training from scripts. One-line wrappers over `crate::model`;
//! in a build without `ml` every call reports "built without `ml`".

use rhai::plugin::*;
use rhai::Module;

/// The package of model functions.
pub fn module() -> Module {
    let mut m = exported_module!(model_api);
    m.set_custom_type::<crate::Model>("Model");
    m.set_custom_type::<crate::Latent>("Latent");
    with_options(&mut m, "train_vae", TRAIN_VAE_DOC, |ctx, s: TrainSettings| train(ctx, Kind::Vae, s));
    with_options(&mut m, "train_gan", TRAIN_GAN_DOC, |ctx, s: GanTrainSettings| train(ctx, Kind::Gan, s.0));
    // ---- spatial VAE ----
    with_options(&mut m, "train_spatial_vae", TRAIN_SPATIAL_DOC, train_spatial);
    super::spatial::register(&mut m);
    super::texture_model::add(&mut m);
    m
}

const TRAIN_SPATIAL_DOC: &str =
    "Trains a spatial VAE (kind \"spatial_vae\") on random `patch`² crops of images of any size
and returns it; metrics (PSNR and SSIM of reconstructed crops) are printed to stderr. With
`out`, the model file, a resumable checkpoint and a sample grid are written in the out folder.
`seed` defaults to the run's. `m.encode(img)` then gives a latent map of any image and
`m.decode(map)` the image.

```rhai
let textures = [perlin(#{ scale: 8.0 }).render(64, 64), worley(#{ scale: 6.0 }).render(64, 64)];
let m = train_spatial_vae(#{ data: textures, patch: 32, steps: 20, batch: 2, width: 8 });
let back = m.decode(m.encode(textures[0]));
```";

/// A training run's `data` folder and `out` file through the run's read/write policy: the folder
/// becomes an input of the run's recipe, the output's folder is created.
pub(super) fn resolve_paths(
    run: &crate::script::context::RunState,
    data: &mut Option<Data>,
    out: &mut Option<std::path::PathBuf>,
) -> RhaiResult<()> {
    if let Some(Data::Folder(folder)) = data {
        let full = lift(run.policy.readable(&folder.to_string_lossy()))?;
        run.add_input(&full);
        *folder = full;
    }
    if let Some(out) = out {
        *out = lift(run.policy.prepare_write(&out.to_string_lossy()))?;
    }
    Ok(())
}

/// `train_spatial_vae`: the map's settings with the run's paths, seed and cancel flag.
fn train_spatial(ctx: &NativeCallContext, mut s: SpatialTrainSettings) -> RhaiResult<Model> {
    lift(s.validate())?;
    let run = run_state(ctx)?;
    s.seed = Some(seed_or_run(ctx, s.seed)?);
    resolve_paths(&run, &mut s.data, &mut s.out)?;
    let opts = SpatialTrainOptions { settings: s, cancel: Some(run.cancel.clone()) };
    let mut progress = progress_lines("train_spatial_vae");
    let (model, metrics) = lift(crate::model::train_spatial_vae(&opts, &mut progress))?;
    if let Some(out) = &opts.settings.out {
        run.outputs.lock().unwrap_or_else(|e| e.into_inner()).push(out.clone());
    }
    crate::console::err(format_args!("train_spatial_vae: {metrics}"));
    Ok(model)
}

const TRAIN_VAE_DOC: &str = "Trains a VAE and returns it; progress lines (every 5% of the run or 30 s,
with time per step and ETA), warnings and the final metrics go to stderr. With `out`, the model file, a
resumable checkpoint and a sample grid are written in the out folder. `seed` defaults to the
run's; `prior` is the Gaussian mixture fitted to the training latents, which `sample` draws from.

```rhai
let tiles = [];
for i in 0..64 { tiles.push(image(16, 16, hsv(i * 5.0, 0.6, 0.8))); }
let m = train_vae(#{ data: tiles, size: 16, latent: 8, epochs: 2, batch: 16 });
```";

const TRAIN_GAN_DOC: &str = "Trains a GAN (hinge loss, minibatch-deviation discriminator, DiffAugment, moving-average
generator) and returns it; the options are those of `train_vae` with a GAN's `lr`, and `beta`
and `prior` do not apply.

```rhai
let m = train_gan(#{ data: \"tiles\", size: 32, epochs: 50, out: \"gan.safetensors\" });
```";

use crate::model::{
    Data, GanTrainSettings, Kind, Model, SpatialTrainOptions, SpatialTrainSettings, TrainOptions, TrainSettings,
};
use crate::script::api::with_options;
use crate::script::context::{run_state, seed_or_run};
use crate::script::convert::{fail, int, lift, RhaiResult};
use rhai::{Dynamic, NativeCallContext};

fn seed_arg(op: &str, v: &Dynamic) -> RhaiResult<u64> {
    Ok(int(op, "seed", v)? as u64)
}

fn count(op: &str, v: &Dynamic) -> RhaiResult<usize> {
    let n = int(op, "n", v)?;
    if !(0..=4096).contains(&n) {
        return Err(fail(op, format!("n must be 0 to 4096, got {n}")));
    }
    Ok(n as usize)
}

/// The settings read from a script's map (defaults, ranges and unknown keys are the model
/// room's) as [`TrainOptions`]: paths go through the run's read/write policy, the seed defaults
/// to the run's and the run's cancel flag stops training. Nothing is created before the
/// settings are valid.
fn train_options(ctx: &NativeCallContext, kind: Kind, mut s: TrainSettings) -> RhaiResult<TrainOptions> {
    lift(s.validate(kind))?;
    let run = run_state(ctx)?;
    s.seed = Some(seed_or_run(ctx, s.seed)?);
    resolve_paths(&run, &mut s.data, &mut s.out)?;
    Ok(TrainOptions { settings: s, cancel: Some(run.cancel.clone()) })
}

fn train(ctx: &NativeCallContext, kind: Kind, settings: TrainSettings) -> RhaiResult<Model> {
    let t = train_options(ctx, kind, settings)?;
    let run = run_state(ctx)?;
    let mut progress = progress_lines(kind.train_op());
    let result = match kind {
        Kind::Vae => crate::model::train_vae(&t, &mut progress),
        Kind::Gan => crate::model::train_gan(&t, &mut progress),
        Kind::TextureGan | Kind::SpatialVae => {
            return Err(fail(kind.train_op(), "this kind has its own training function"));
        }
    };
    let (model, metrics) = lift(result)?;
    if let Some(out) = &t.settings.out {
        run.outputs.lock().unwrap_or_else(|e| e.into_inner()).push(out.clone());
    }
    crate::console::err(format_args!("{}: {metrics}", kind.train_op()));
    Ok(model)
}

/// A training run's progress for a script: plain lines on stderr ("train_gan: step 100/2000
/// (5%) ..."), every 5 % of the run or 30 s, and its warnings, as `kiln train` prints them
/// outside a terminal.
pub(super) fn progress_lines(op: &'static str) -> impl FnMut(&crate::model::Progress) {
    let mut log = crate::model::progress::PlainLog::new(None);
    move |p| {
        if let Some(line) = log.line(p) {
            crate::console::err(format_args!("{op}: {line}"));
        }
    }
}

/// The hash of shipped model `name`'s bytes, for the run's recipe (computed once per model).
fn shipped_model_hash(name: &str) -> String {
    #[cfg(feature = "ml")]
    {
        use std::collections::HashMap;
        use std::sync::{LazyLock, Mutex};
        static HASHES: LazyLock<Mutex<HashMap<String, String>>> = LazyLock::new(Default::default);
        let mut hashes = HASHES.lock().unwrap_or_else(|e| e.into_inner());
        hashes
            .entry(name.to_string())
            .or_insert_with(|| {
                crate::model::shipped_model_bytes(name).map(crate::recipe::hash_bytes).unwrap_or_default()
            })
            .clone()
    }
    #[cfg(not(feature = "ml"))]
    {
        // Without `ml` no model loads, so no recipe names one.
        let _ = name;
        String::new()
    }
}

#[export_module]
mod model_api {
    use super::{count, seed_arg};
    use crate::model::{Kind, Latent, LatentMap, Model};
    use crate::script::context::{run_seed, run_state, ModelRef};
    use crate::script::convert::{lift, num, RhaiResult};
    use crate::Image;
    use rhai::{Array, Dynamic, NativeCallContext, INT};

    /// Loads a model file (relative to the script's folder), or a shipped model as `"std/<name>"`.
    /// Loaded models are cached by path and modification time. Which calls suit which `kind`:
    ///
    /// | kind | what it is | calls |
    /// |---|---|---|
    /// | "vae" | 32² VAE, global latent | `sample(n, seed)`, `latent`, `decode(latent)`, `encode`, `reconstruct` |
    /// | "gan" | 32² GAN, global latent | `sample(n, seed)`, `latent`, `decode(latent)` |
    /// | "texture_gan" | texture GAN, any size | `sample(#{ width, height, seed, tileable, texture, global, blend, between })`, `textures` |
    /// | "spatial_vae" | VAE with a latent map | `encode(img)` → LatentMap, `decode(map)`, `reconstruct`, `factor` |
    ///
    /// Any other call is an error that names the model's kind and what it has.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_vae");
    /// print(`${m.kind} ${m.size}x${m.size}, latent ${m.latent_dim}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn load_model(ctx: NativeCallContext, path: &str) -> RhaiResult<Model> {
        let run = run_state(&ctx)?;
        if let Some(name) = path.strip_prefix("std/") {
            let model = lift(Model::load(path.as_ref()))?;
            run.add_model(ModelRef::Shipped { name: path.to_string(), hash: super::shipped_model_hash(name) });
            return Ok(model);
        }
        let full = lift(run.policy.readable(path))?;
        run.add_input(&full);
        let model = lift(Model::load(&full))?;
        run.add_model(ModelRef::File(full));
        Ok(model)
    }

    /// "vae" or "gan" (the 32² models: `sample`, `latent`, `decode(latent)`, and for a VAE
    /// `encode`, `reconstruct`), "texture_gan" (`sample(#{ width, height, ... })` at any size,
    /// `textures`), or "spatial_vae" (`encode(img)` of any size to a LatentMap, `decode(map)`,
    /// `reconstruct`; no `sample` or `latent`).
    ///
    /// ```rhai
    /// let m = load_model("models/tiles_gan.safetensors");
    /// if m.kind == "gan" { print("no encoder"); }
    /// ```
    #[rhai_fn(get = "kind", pure)]
    pub fn kind(m: &mut Model) -> String {
        m.kind().name().to_string()
    }

    /// Side of the square images the model makes (a spatial VAE: 8, the multiple its image
    /// sides are padded to).
    ///
    /// ```rhai
    /// let m = load_model("std/materials_vae");
    /// let canvas = image(m.size * 4, m.size);
    /// ```
    #[rhai_fn(get = "size", pure)]
    pub fn size(m: &mut Model) -> INT {
        m.size() as INT
    }

    /// Number of latent dimensions.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_vae");
    /// print(m.latent_dim);
    /// ```
    #[rhai_fn(get = "latent_dim", pure)]
    pub fn latent_dim(m: &mut Model) -> INT {
        m.latent_dim() as INT
    }

    /// Components of the Gaussian mixture fitted to the training latents that `sample` and
    /// `latent` draw from, or 0 when they draw from the standard normal (every GAN).
    ///
    /// ```rhai
    /// let m = load_model("std/materials_vae");
    /// print(`samples come from a ${m.prior_components}-component mixture`);
    /// ```
    #[rhai_fn(get = "prior_components", pure)]
    pub fn prior_components(m: &mut Model) -> INT {
        m.prior_components() as INT
    }

    /// `n` images from random latents drawn with the run's seed (`--seed`) from the model's
    /// prior (see `prior_components`); "vae" and "gan" only.
    ///
    /// ```rhai
    /// let tiles = load_model("models/tiles_gan.safetensors").sample(8);
    /// ```
    #[rhai_fn(name = "sample", return_raw)]
    pub fn sample(ctx: NativeCallContext, m: &mut Model, n: Dynamic) -> RhaiResult<Array> {
        let seed = run_seed(&ctx)?;
        let images = lift(m.sample(count("sample", &n)?, seed))?;
        Ok(images.into_iter().map(Dynamic::from).collect())
    }

    /// `n` images from random latents drawn with `seed`; image i is the same for any `n` > i
    /// ("vae" and "gan").
    ///
    /// ```rhai
    /// let tiles = load_model("std/materials_vae").sample(16, 42);
    /// ```
    #[rhai_fn(name = "sample", return_raw)]
    pub fn sample_seeded(m: &mut Model, n: Dynamic, seed: Dynamic) -> RhaiResult<Array> {
        let images = lift(m.sample(count("sample", &n)?, seed_arg("sample", &seed)?))?;
        Ok(images.into_iter().map(Dynamic::from).collect())
    }

    /// A latent drawn for `seed` from the model's prior (the standard normal, or the VAE's
    /// learned mixture): `m.decode(m.latent(s))` is `m.sample(1, s)[0]` ("vae" and "gan").
    ///
    /// ```rhai
    /// let m = load_model("models/tiles_gan.safetensors");
    /// let z = m.latent(7);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn latent(m: &mut Model, seed: Dynamic) -> RhaiResult<Latent> {
        if matches!(m.kind(), Kind::SpatialVae | Kind::TextureGan) {
            // the same refusal as sample's, which names the kind
            lift(m.sample(1, 0))?;
        }
        Ok(m.latent(seed_arg("latent", &seed)?))
    }

    /// The image for a latent ("vae" and "gan").
    ///
    /// ```rhai
    /// let m = load_model("models/tiles_gan.safetensors");
    /// let img = m.decode(m.latent(1) * 0.7);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn decode(m: &mut Model, z: Latent) -> RhaiResult<Image> {
        lift(m.decode(&z))
    }

    /// The image for a latent map ("spatial_vae"): factor × the map's size, cropped to the
    /// size of the image it was encoded from.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_spatial_vae");
    /// let photo = load("photo.png");
    /// let back = m.decode(m.encode(photo) * 1.1);
    /// ```
    #[rhai_fn(name = "decode", return_raw)]
    pub fn decode_map(m: &mut Model, z: LatentMap) -> RhaiResult<Image> {
        lift(m.decode_map(&z))
    }

    /// "vae": the latent mean of an image (a Latent; the image is centre-cropped and resized
    /// to the model's size first). "spatial_vae": the latent map of an image of any size (a
    /// LatentMap at 1/factor of its size; sides that are not multiples of 8 are padded by
    /// reflection and cropped back by `decode`). A "gan" has no encoder.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_vae");
    /// let z = m.encode(m.sample(1, 3)[0]);
    /// let s = load_model("std/materials_spatial_vae");
    /// let map = s.encode(image(1000, 600, "grey"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn encode(m: &mut Model, img: Image) -> RhaiResult<Dynamic> {
        if m.kind() == Kind::SpatialVae {
            return Ok(Dynamic::from(lift(m.encode_map(&img))?));
        }
        Ok(Dynamic::from(lift(m.encode(&img))?))
    }

    /// Image pixels per latent pixel of a "spatial_vae" (4 or 8); 0 for the other kinds.
    ///
    /// ```rhai
    /// print(load_model("std/materials_spatial_vae").factor);
    /// ```
    #[rhai_fn(get = "factor", pure)]
    pub fn factor(m: &mut Model) -> INT {
        m.factor().unwrap_or(0) as INT
    }

    /// decode(encode(img)) ("vae" at the model's size, "spatial_vae" at the image's size).
    ///
    /// ```rhai
    /// let m = load_model("std/materials_vae");
    /// let tile = m.sample(1, 5)[0];
    /// let again = m.reconstruct(tile);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn reconstruct(m: &mut Model, img: Image) -> RhaiResult<Image> {
        lift(m.reconstruct(&img))
    }

    /// Straight-line interpolation between two latents: `a` at t = 0, `b` at t = 1.
    ///
    /// ```rhai
    /// let m = load_model("models/tiles_gan.safetensors");
    /// let mid = m.decode(lerp(m.latent(1), m.latent(2), 0.5));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn lerp(a: Latent, b: Latent, t: Dynamic) -> RhaiResult<Latent> {
        lift(a.lerp(&b, num("lerp", "t", &t)? as f32))
    }

    /// Spherical interpolation, which keeps the length a Gaussian latent expects (smoother strips).
    ///
    /// ```rhai
    /// let m = load_model("models/tiles_gan.safetensors");
    /// let strip = [];
    /// for i in 0..=4 { strip.push(m.decode(slerp(m.latent(1), m.latent(2), i / 4.0))); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn slerp(a: Latent, b: Latent, t: Dynamic) -> RhaiResult<Latent> {
        lift(a.slerp(&b, num("slerp", "t", &t)? as f32))
    }

    /// The latent's values as an array of floats.
    ///
    /// ```rhai
    /// let values = load_model("std/materials_vae").latent(1).to_array();
    /// ```
    #[rhai_fn(pure)]
    pub fn to_array(z: &mut Latent) -> Array {
        z.values().iter().map(|v| Dynamic::from(*v as f64)).collect()
    }

    /// Number of dimensions.
    ///
    /// ```rhai
    /// print(load_model("std/materials_vae").latent(1).len);
    /// ```
    #[rhai_fn(get = "len", pure)]
    pub fn latent_len(z: &mut Latent) -> INT {
        z.len() as INT
    }

    /// A latent from an array of numbers (to store and reuse a point).
    ///
    /// ```rhai
    /// let z = latent([0.1, -0.4, 1.2, 0.0]);
    /// ```
    #[rhai_fn(name = "latent", return_raw)]
    pub fn latent_from_array(values: Array) -> RhaiResult<Latent> {
        let v: RhaiResult<Vec<f32>> = values.iter().map(|x| num("latent", "value", x).map(|f| f as f32)).collect();
        Ok(Latent::new(v?))
    }

    /// Latent + latent, element by element.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_vae");
    /// let z = m.latent(1) + m.latent(2);
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn add(a: Latent, b: Latent) -> RhaiResult<Latent> {
        lift(a.add(&b))
    }

    /// Latent − latent: a direction in latent space.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_vae");
    /// let direction = m.latent(2) - m.latent(1);
    /// ```
    #[rhai_fn(name = "-", return_raw)]
    pub fn sub(a: Latent, b: Latent) -> RhaiResult<Latent> {
        lift(a.sub(&b))
    }

    /// Latent × latent, element by element.
    ///
    /// ```rhai
    /// let m = load_model("std/materials_vae");
    /// let z = m.latent(1) * m.latent(2);
    /// ```
    #[rhai_fn(name = "*", return_raw)]
    pub fn mul(a: Latent, b: Latent) -> RhaiResult<Latent> {
        lift(a.mul(&b))
    }

    /// Latent × number.
    ///
    /// ```rhai
    /// let z = load_model("std/materials_vae").latent(1) * 0.5;
    /// ```
    #[rhai_fn(name = "*", return_raw)]
    pub fn scale(a: Latent, f: Dynamic) -> RhaiResult<Latent> {
        Ok(a.scale(num("latent *", "factor", &f)? as f32))
    }

    /// Number × latent.
    ///
    /// ```rhai
    /// let z = 0.5 * load_model("std/materials_vae").latent(1);
    /// ```
    #[rhai_fn(name = "*", return_raw)]
    pub fn scale_left(f: Dynamic, a: Latent) -> RhaiResult<Latent> {
        Ok(a.scale(num("latent *", "factor", &f)? as f32))
    }

    /// Latent + number (added to every value).
    ///
    /// ```rhai
    /// let z = load_model("std/materials_vae").latent(1) + 0.1;
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn offset(a: Latent, f: Dynamic) -> RhaiResult<Latent> {
        Ok(a.offset(num("latent +", "offset", &f)? as f32))
    }

    /// Latent − number.
    ///
    /// ```rhai
    /// let z = load_model("std/materials_vae").latent(1) - 0.1;
    /// ```
    #[rhai_fn(name = "-", return_raw)]
    pub fn offset_neg(a: Latent, f: Dynamic) -> RhaiResult<Latent> {
        Ok(a.offset(-num("latent -", "offset", &f)? as f32))
    }

    /// Unary minus.
    ///
    /// ```rhai
    /// let z = -load_model("std/materials_vae").latent(1);
    /// ```
    #[rhai_fn(name = "-")]
    pub fn neg(a: Latent) -> Latent {
        a.scale(-1.0)
    }

    /// `Model(vae 32x32, latent 64, ...)`.
    ///
    /// ```rhai
    /// print(load_model("std/materials_vae"));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn model_to_string(m: &mut Model) -> String {
        format!("{m:?}")
    }

    /// `Latent(n)[v0, v1, ...]`.
    ///
    /// ```rhai
    /// print(latent([1.0, 2.0]));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn latent_to_string(z: &mut Latent) -> String {
        let shown: Vec<String> = z.values().iter().take(8).map(|v| format!("{v:.3}")).collect();
        format!("Latent({})[{}{}]", z.len(), shown.join(", "), if z.len() > 8 { ", ..." } else { "" })
    }

    /// Same as `to_string`.
    ///
    /// ```rhai
    /// debug(latent([1.0, 2.0]));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn latent_to_debug(z: &mut Latent) -> String {
        latent_to_string(z)
    }

    /// Same as `to_string`.
    ///
    /// ```rhai
    /// debug(load_model("std/materials_vae"));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn model_to_debug(m: &mut Model) -> String {
        format!("{m:?}")
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

    /// Train, save, load, sample, interpolate, encode, perturb, decode: the script API end to end.
    #[test]
    fn script_api_end_to_end() {
        let dir = tempfile::tempdir().unwrap();
        let out = run(
            dir.path(),
            r#"
            let tiles = [];
            for i in 0..8 { tiles.push(image(8, 8, hsv(i * 40.0, 0.7, 0.8))); }
            train_vae(#{ data: tiles, size: 8, latent: 4, width: 4, epochs: 1, batch: 4, holdout: 0, out: "m.safetensors" });
            let m = load_model("m.safetensors");
            if m.kind != "vae" || m.size != 8 || m.latent_dim != 4 { throw "properties"; }
            let a = m.latent(1);
            let b = m.latent(2);
            let strip = [];
            for i in 0..=4 { strip.push(m.decode(slerp(a, b, i / 4.0))); }
            let v = m.decode(m.encode(tiles[0]) + 0.5 * (b - a) - 0.1);
            let r = m.reconstruct(tiles[1]);
            if lerp(a, b, 0.5).to_array().len() != 4 || (a * 2).len != 4 { throw "latent ops"; }
            let g = train_gan(#{ data: tiles, size: 8, latent: 4, width: 4, epochs: 1, batch: 4, holdout: 0 });
            if g.kind != "gan" { throw "gan kind"; }
            strip + [v, r] + g.sample(2, 3) + m.sample(1)
            "#,
        )
        .unwrap();
        assert_eq!(out.images.len(), 10);
        assert!(out.images.iter().all(|i| i.dimensions() == (8, 8)));
        assert!(dir.path().join("m.samples.png").exists());
    }

    #[test]
    fn script_errors_are_clear() {
        let dir = tempfile::tempdir().unwrap();
        let err = |src: &str| run(dir.path(), src).unwrap_err().to_string();
        let e = err(r#"train_vae(#{ data: [], size: 8, colour: 1 })"#);
        assert!(e.contains("unknown option 'colour'"), "{e}");
        let e = err(r#"train_vae(#{ size: 8 })"#);
        assert!(e.contains("'data' is required"), "{e}");
        let e = err(r#"load_model("../outside.safetensors")"#);
        assert!(e.contains("load_model"), "{e}");
        let e = err(r#"load_model("std/no_such_model")"#);
        assert!(e.contains("no shipped model") && !e.contains("load_model: load_model"), "{e}");
        let e = err(r#"let t = [image(8, 8, "red"), image(8, 8, "blue")];
               let g = train_gan(#{ data: t, size: 8, latent: 2, width: 2, epochs: 1, batch: 2, holdout: 0 });
               g.encode(t[0])"#);
        assert!(e.contains("encode: this model's kind is \"gan\"") && e.contains("no encoder"), "{e}");
        let e = err(r#"train_gan(#{ data: [], epoch: 1 })"#);
        assert!(e.contains("train_gan: unknown option 'epoch' (did you mean 'epochs'?)"), "{e}");
        let e = err(r#"train_vae(#{ data: [], size: 12 })"#);
        assert!(
            e.contains("train_vae: option 'size' must be a power of two") && !e.contains("train_vae: train_vae"),
            "{e}"
        );
    }

    /// Model errors keep their type through the script, so the diagnostic's kind is read from it.
    #[test]
    fn model_errors_keep_their_kind() {
        use crate::script::diagnostic::ErrorKind;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("bad.safetensors"), b"not a model").unwrap();
        let e = run(dir.path(), r#"load_model("bad.safetensors")"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Model, "{e}");
        assert!(!e.to_string().contains("load_model: "), "{e}");
        let e = run(dir.path(), r#"load_model("missing.safetensors")"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Io, "{e}");
        let e = run(dir.path(), r#"train_vae(#{ data: [], size: 8, latent: 0 })"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Input, "{e}");
    }
}
