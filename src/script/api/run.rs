//! Script bindings for the run context: parameters, preview panels, seed and animation time.

use rhai::plugin::*;
use rhai::Module;

use crate::image::Color;
use crate::script::context::ParamValue;
use crate::script::convert::{fail, num, RhaiResult};

/// The package of run-context functions.
pub fn module() -> Module {
    exported_module!(run_api)
}

/// `panel N`: the label of the next unlabelled `show()`, counting images and sets together.
fn next_panel_label(ctx: &NativeCallContext) -> RhaiResult<String> {
    let run = crate::script::context::run_state(ctx)?;
    let images = run.shown.lock().unwrap_or_else(|e| e.into_inner()).len();
    let sets = run.shown_sets.lock().unwrap_or_else(|e| e.into_inner()).len();
    Ok(format!("panel {}", images + sets + 1))
}

/// A param's default as a typed value.
pub(crate) fn param_value(name: &str, default: &Dynamic) -> RhaiResult<ParamValue> {
    if let Ok(i) = default.as_int() {
        Ok(ParamValue::Int(i))
    } else if default.is_float() {
        Ok(ParamValue::Float(num("param", name, default)?))
    } else if let Ok(b) = default.as_bool() {
        Ok(ParamValue::Bool(b))
    } else if let Some(c) = default.clone().try_cast::<Color>() {
        Ok(ParamValue::Color(c))
    } else if let Some(s) = default.clone().try_cast::<ImmutableString>() {
        Ok(ParamValue::Text(s.to_string()))
    } else {
        Err(fail("param", format!("'{name}': the default must be a number, bool, string or colour")))
    }
}

#[export_module]
mod run_api {
    use super::param_value;
    use crate::image::Image;
    use crate::script::context::{resolve_param, run_state, ParamRange, ParamValue};
    use crate::script::convert::{fail, lift, options, RhaiResult};
    use rhai::{Dynamic, ImmutableString, Map, NativeCallContext, INT};

    /// A script parameter: the value of `--set name=value` (or the preview's control), typed like
    /// `default`, else `default` itself. INT, FLOAT, bool, string and Color defaults are supported.
    ///
    /// ```rhai
    /// let radius = param("radius", 12.0);
    /// let label = param("label", "hello");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn param(ctx: NativeCallContext, name: &str, default: Dynamic) -> RhaiResult<Dynamic> {
        param_with(ctx, name, default, Map::new())
    }

    /// A script parameter with a range for the preview's slider: `#{ min, max, step }`.
    /// A `--set` value outside the range is an error.
    ///
    /// ```rhai
    /// let octaves = param("octaves", 5, #{ min: 1, max: 10, step: 1 });
    /// ```
    #[rhai_fn(name = "param", return_raw)]
    pub fn param_with(ctx: NativeCallContext, name: &str, default: Dynamic, range: Map) -> RhaiResult<Dynamic> {
        let range: ParamRange = options(range)?;
        let default = param_value(name, &default)?;
        let run = run_state(&ctx)?;
        let given = run.config.params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
        let (value, spec) = lift(resolve_param(name, &default, given, &range))?;
        let mut params = run.params.lock().unwrap_or_else(|e| e.into_inner());
        match params.iter_mut().find(|p| p.name == spec.name) {
            Some(existing) => *existing = spec,
            None => params.push(spec),
        }
        Ok(match value {
            ParamValue::Int(i) => Dynamic::from(i as INT),
            ParamValue::Float(x) => Dynamic::from(x),
            ParamValue::Bool(b) => Dynamic::from(b),
            ParamValue::Color(c) => Dynamic::from(c),
            ParamValue::Text(t) => Dynamic::from(ImmutableString::from(t)),
        })
    }

    /// Adds a panel to the preview (and to `--show-dir` in `kiln run`). Returns the image.
    ///
    /// ```rhai
    /// let img = image(32, 32, "teal");
    /// show(img);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn show(ctx: NativeCallContext, img: Image) -> RhaiResult<Image> {
        let label = super::next_panel_label(&ctx)?;
        show_labelled(ctx, img, &label)
    }

    /// Adds a labelled panel to the preview. Returns the image.
    ///
    /// ```rhai
    /// show(image(32, 32, "teal"), "teal square");
    /// ```
    #[rhai_fn(name = "show", return_raw)]
    pub fn show_labelled(ctx: NativeCallContext, img: Image, label: &str) -> RhaiResult<Image> {
        let run = run_state(&ctx)?;
        run.shown.lock().unwrap_or_else(|e| e.into_inner()).push((label.to_string(), img.clone()));
        Ok(img)
    }

    /// Shows a PBR set (a map with `albedo` and `normal` Images; optional `height`, `roughness`,
    /// `metallic`, `ao`) in the preview: lit on a plane and a sphere, with a draggable light, and
    /// its maps as panels. `kiln run --show-dir` writes its maps. Returns the map.
    ///
    /// ```rhai
    /// let flat = image(64, 64, rgb(0.5, 0.5, 1.0));
    /// show(#{ albedo: image(64, 64, "tan"), normal: flat });
    /// ```
    #[rhai_fn(name = "show", return_raw)]
    pub fn show_set(ctx: NativeCallContext, set: Map) -> RhaiResult<Map> {
        let label = super::next_panel_label(&ctx)?;
        show_set_labelled(ctx, set, &label)
    }

    /// Shows a PBR set with a label (see `show(set)`). Returns the map.
    ///
    /// ```rhai
    /// let flat = image(64, 64, rgb(0.5, 0.5, 1.0));
    /// show(#{ albedo: image(64, 64, "tan"), normal: flat, roughness: image(64, 64, gray(0.3)) }, "tan");
    /// ```
    #[rhai_fn(name = "show", return_raw)]
    pub fn show_set_labelled(ctx: NativeCallContext, set: Map, label: &str) -> RhaiResult<Map> {
        let run = run_state(&ctx)?;
        let pbr = match crate::script::pbr::set_of_map(&set) {
            crate::script::pbr::SetValue::Set(pbr) => *pbr,
            crate::script::pbr::SetValue::Bad(message) => return Err(fail("show", message)),
            crate::script::pbr::SetValue::NotASet => {
                let keys: Vec<String> = set.keys().map(|k| k.to_string()).collect();
                return Err(fail(
                    "show",
                    format!(
                        "a map is shown only as a PBR set (albedo and normal Images; optional height, roughness, metallic, ao); this one has {}",
                        if keys.is_empty() { "no keys".to_string() } else { keys.join(", ") }
                    ),
                ));
            }
        };
        run.shown_sets.lock().unwrap_or_else(|e| e.into_inner()).push((label.to_string(), pbr));
        Ok(set)
    }

    /// The run's seed (`kiln run --seed N`, default 0). Generators use it when no `seed` is given.
    ///
    /// ```rhai
    /// let s = seed();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn seed(ctx: NativeCallContext) -> RhaiResult<INT> {
        Ok(run_state(&ctx)?.config.seed)
    }

    /// `" (did you mean 'x'?)"` when one of `candidates` is a plausible typo of `word`, else `""`:
    /// the same suggestion kiln's own messages make, for a module's own option checks.
    ///
    /// ```rhai
    /// let hint = did_you_mean("mortr", ["mortar", "rows", "cols"]);   // " (did you mean 'mortar'?)"
    /// ```
    pub fn did_you_mean(word: &str, candidates: rhai::Array) -> String {
        let names: Vec<String> = candidates.iter().map(|c| c.to_string()).collect();
        crate::suggest::did_you_mean(word, &names)
    }

    /// The current animation frame (0 for a still run; `kiln run --frames N`).
    ///
    /// ```rhai
    /// let angle = frame() * 6;
    /// ```
    #[rhai_fn(return_raw)]
    pub fn frame(ctx: NativeCallContext) -> RhaiResult<INT> {
        Ok(run_state(&ctx)?.config.frame)
    }

    /// The animation time in seconds: `frame() / fps`.
    ///
    /// ```rhai
    /// let phase = time() * 2.0;
    /// ```
    #[rhai_fn(return_raw)]
    pub fn time(ctx: NativeCallContext) -> RhaiResult<f64> {
        let run = run_state(&ctx)?;
        let fps = if run.config.fps > 0.0 { run.config.fps } else { 30.0 };
        Ok(run.config.frame as f64 / fps)
    }
}
