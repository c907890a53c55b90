//! Script bindings for the run context: parameters, preview panels, seed and animation time.

use rhai::plugin::*;
use rhai::Module;

/// The package of run-context functions.
pub fn module() -> Module {
    exported_module!(run_api)
}

#[export_module]
mod run_api {
    use crate::image::{Color, Image};
    use crate::script::context::{run_state, ParamKind, ParamSpec};
    use crate::script::convert::{fail, num, Options, RhaiResult};
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
        let o = Options::new("param", range, &["min", "max", "step"])?;
        let (min, max, step) = (o.opt_num("min")?, o.opt_num("max")?, o.opt_num("step")?);
        let run = run_state(&ctx)?;
        let given = run.config.params.iter().rev().find(|(k, _)| k == name).map(|(_, v)| v.clone());
        let op = "param";
        let (kind, value, default_text): (ParamKind, Dynamic, String) = if default.is_int() {
            let d = default.as_int().unwrap_or(0);
            let v = match &given {
                Some(t) => t
                    .trim()
                    .parse::<INT>()
                    .map_err(|_| fail(op, format!("'{name}' expects a whole number, --set gave '{t}'")))?,
                None => d,
            };
            (ParamKind::Int, Dynamic::from(v), d.to_string())
        } else if default.is_float() {
            let d = num(op, name, &default)?;
            let v = match &given {
                Some(t) => t
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or_else(|| fail(op, format!("'{name}' expects a number, --set gave '{t}'")))?,
                None => d,
            };
            (ParamKind::Float, Dynamic::from(v), d.to_string())
        } else if default.is_bool() {
            let d = default.as_bool().unwrap_or(false);
            let v = match given.as_deref().map(str::trim) {
                Some("true" | "1" | "yes" | "on") => true,
                Some("false" | "0" | "no" | "off") => false,
                Some(t) => return Err(fail(op, format!("'{name}' expects true or false, --set gave '{t}'"))),
                None => d,
            };
            (ParamKind::Bool, Dynamic::from(v), d.to_string())
        } else if let Some(c) = default.clone().try_cast::<Color>() {
            let v = match &given {
                Some(t) => Color::parse(t).map_err(|e| fail(op, format!("'{name}': {e}")))?,
                None => c,
            };
            (ParamKind::Color, Dynamic::from(v), c.to_hex())
        } else if let Some(s) = default.clone().try_cast::<ImmutableString>() {
            let v = given.clone().unwrap_or_else(|| s.to_string());
            // A string default that is a hex colour gets a colour picker in the preview.
            let kind = if s.starts_with('#') && Color::parse(&s).is_ok() { ParamKind::Color } else { ParamKind::Text };
            (kind, Dynamic::from(ImmutableString::from(v)), s.to_string())
        } else {
            return Err(fail(op, format!("'{name}': the default must be a number, bool, string or colour")));
        };
        if let Some(x) = value.as_float().ok().or_else(|| value.as_int().ok().map(|i| i as f64)) {
            if min.is_some_and(|m| x < m) || max.is_some_and(|m| x > m) {
                return Err(fail(op, format!("'{name}' = {x} is outside its range {min:?}..{max:?}")));
            }
        }
        let spec =
            ParamSpec { name: name.to_string(), kind, default: default_text, value: value.to_string(), min, max, step };
        let mut params = run.params.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(existing) = params.iter_mut().find(|p| p.name == spec.name) {
            *existing = spec;
        } else {
            params.push(spec);
        }
        Ok(value)
    }

    /// Adds a panel to the preview (and to `--show-dir` in `kiln run`). Returns the image.
    ///
    /// ```rhai
    /// let img = image(32, 32, "teal");
    /// show(img);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn show(ctx: NativeCallContext, img: Image) -> RhaiResult<Image> {
        let run = run_state(&ctx)?;
        let label = format!("panel {}", run.shown.lock().unwrap_or_else(|e| e.into_inner()).len() + 1);
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

    /// The run's seed (`kiln run --seed N`, default 0). Generators use it when no `seed` is given.
    ///
    /// ```rhai
    /// let s = seed();
    /// ```
    #[rhai_fn(return_raw)]
    pub fn seed(ctx: NativeCallContext) -> RhaiResult<INT> {
        Ok(run_state(&ctx)?.config.seed)
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
