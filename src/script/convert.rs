//! Translating Rhai values into kiln's parameter types, and kiln errors into Rhai errors.
//!
//! Owns the script-facing conventions every binding follows (DESIGN.md §2):
//! - anywhere a number is expected, INT and FLOAT are both accepted ([`num`], [`int`]);
//! - NaN and infinities are rejected with the parameter's name;
//! - colours are accepted as strings (`"#f80"`, `"orange"`), `Color` values and arrays `[r, g, b(, a)]`;
//! - option maps are read into a room's option set by the one generic reader [`options`]
//!   (`crate::options`): unknown keys are listed with a did-you-mean, defaults live in the room;
//! - an op's short form takes a number where the long form takes a map ([`options_or_number`]).
//!
//! Bindings return [`RhaiResult`]; an error built with [`fail`] or [`lift`] carries no position and
//! Rhai fills in the call site, which `diagnostic` turns into `file:line:col`. The kiln [`Error`]
//! behind it is kept typed ([`rhai_error`], [`fault_of`]), so the diagnostic knows its kind (user
//! input, limit, I/O, model, cancelled) without parsing its text.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::Arc;

use rhai::{Array, Dynamic, EvalAltResult, ImmutableString, Map, Position, INT};

use crate::error::Error;
use crate::image::color::Color;
use crate::options::{OptionSet, OptionValue};

/// What every binding returns.
pub type RhaiResult<T> = Result<T, Box<EvalAltResult>>;

/// A runtime error `op: message` at the (later filled) call position.
pub fn fail(op: &str, message: impl std::fmt::Display) -> Box<EvalAltResult> {
    rhai_error(Error::param(op, message.to_string()))
}

thread_local! {
    /// The kiln errors most recently raised on this thread, newest last, with their messages.
    static RECENT_FAULTS: RefCell<VecDeque<(String, Arc<Error>)>> = const { RefCell::new(VecDeque::new()) };
}

/// How many raised errors a thread remembers; a script that catches more than this many before
/// failing only loses the typed kind of the oldest (it still gets the message).
const REMEMBERED_FAULTS: usize = 32;

/// Converts a kiln error into a Rhai runtime error.
///
/// Why a side table and not the error itself inside the Rhai value: Rhai prints a custom type in
/// an error as its Rust type name, and embedders (and `catch (e)` in scripts) read the value as
/// text. So the value stays the message, and the typed error waits here, on the thread that runs
/// the script, for the diagnostic to claim it by its message ([`fault_of`]).
pub fn rhai_error(e: Error) -> Box<EvalAltResult> {
    let message = e.to_string();
    RECENT_FAULTS.with(|faults| {
        let mut faults = faults.borrow_mut();
        if faults.len() == REMEMBERED_FAULTS {
            faults.pop_front();
        }
        faults.push_back((message.clone(), Arc::new(e)));
    });
    EvalAltResult::ErrorRuntime(message.into(), Position::NONE).into()
}

/// The kiln error behind a Rhai runtime error's value, if a built-in raised it on this thread.
pub fn fault_of(value: &Dynamic) -> Option<Arc<Error>> {
    let text = value.clone().into_immutable_string().ok()?;
    RECENT_FAULTS.with(|faults| {
        faults.borrow().iter().rev().find(|(message, _)| message.as_str() == text.as_str()).map(|(_, e)| e.clone())
    })
}

/// A Rhai value as an option value, for [`OptionSet::from_pairs`]. kiln's own types travel as
/// objects their room reads back.
pub fn option_value(v: &Dynamic) -> OptionValue {
    if let Some(i) = v.clone().try_cast::<INT>() {
        return OptionValue::Int(i);
    }
    if let Some(x) = v.clone().try_cast::<f64>() {
        return OptionValue::Float(x);
    }
    if let Ok(b) = v.as_bool() {
        return OptionValue::Bool(b);
    }
    if let Some(s) = v.clone().try_cast::<ImmutableString>() {
        return OptionValue::Text(s.to_string());
    }
    if let Some(c) = v.clone().try_cast::<Color>() {
        return OptionValue::Color(c);
    }
    if let Some(a) = v.clone().try_cast::<Array>() {
        return OptionValue::List(a.iter().map(option_value).collect());
    }
    if let Some(f) = v.clone().try_cast::<crate::field::Field>() {
        return OptionValue::from_object("Field", f);
    }
    if let Some(p) = v.clone().try_cast::<crate::field::Palette>() {
        return OptionValue::from_object("Palette", p);
    }
    if let Some(img) = v.clone().try_cast::<crate::image::Image>() {
        return OptionValue::from_object("Image", img);
    }
    OptionValue::Other(type_name(v))
}

/// The one generic reader: an option map into a room's option set `T`, defaults from `T`.
pub fn options<T: OptionSet>(map: Map) -> RhaiResult<T> {
    let values: Vec<(String, OptionValue)> = map.iter().map(|(k, v)| (k.to_string(), option_value(v))).collect();
    lift(T::from_pairs(values.iter().map(|(k, v)| (k.as_str(), v))))
}

/// [`options`] for one of several ops sharing an option set (the `draw_*` styles, `scale` with
/// the options of `resize`): messages name `op`, the function the script called.
pub fn options_for<T: OptionSet>(op: &str, map: Map) -> RhaiResult<T> {
    let values: Vec<(String, OptionValue)> = map.iter().map(|(k, v)| (k.to_string(), option_value(v))).collect();
    T::from_pairs(values.iter().map(|(k, v)| (k.as_str(), v))).map_err(|e| match e {
        Error::Parameter { message, .. } => rhai_error(Error::param(op, message)),
        other => rhai_error(other),
    })
}

/// An option map, or the short form: a bare number standing for `number_key`
/// (`img.blur(2.0)` is `img.blur(#{ sigma: 2.0 })`).
pub fn options_or_number<T: OptionSet>(v: Dynamic, number_key: &str) -> RhaiResult<T> {
    if v.is_map() {
        return options(v.cast::<Map>());
    }
    if v.is_int() || v.is_float() {
        return lift(T::from_pairs([(number_key, &option_value(&v))]));
    }
    Err(fail(T::OP, format!("expected a number ({number_key}) or an option map, got {}", type_name(&v))))
}

/// `kiln::Result<T>` -> [`RhaiResult<T>`].
pub fn lift<T>(r: crate::error::Result<T>) -> RhaiResult<T> {
    r.map_err(rhai_error)
}

/// The script's name for the type of `v` (`INT`, `FLOAT`, `string`, `Image`, ...), as messages
/// name it: the one table every binding's "got ..." message uses.
pub fn type_name(v: &Dynamic) -> &'static str {
    match v.type_name() {
        "i64" => "INT",
        "f64" => "FLOAT",
        "bool" => "bool",
        "char" => "char",
        "()" => "()",
        "string" | "ImmutableString" => "string",
        "array" => "array",
        "map" => "map",
        other if other.ends_with("Image") => "Image",
        other if other.ends_with("Color") => "Color",
        other if other.ends_with("Field") => "Field",
        other if other.ends_with("Palette") => "Palette",
        other if other.ends_with("LatentMap") => "LatentMap",
        _ if v.is_map() => "map",
        _ if v.is_array() => "array",
        _ if v.is_string() => "string",
        _ => "value",
    }
}

/// [`type_name`] with its article: "an INT", "a FLOAT", "an Image", "()".
pub fn a_type_name(v: &Dynamic) -> String {
    match type_name(v) {
        "()" => "()".to_string(),
        t if t.starts_with(['a', 'e', 'i', 'o', 'u', 'A', 'E', 'I', 'O', 'U']) => format!("an {t}"),
        t => format!("a {t}"),
    }
}

/// A finite number from INT or FLOAT.
pub fn num(op: &str, what: &str, v: &Dynamic) -> RhaiResult<f64> {
    let x = if let Some(i) = v.clone().try_cast::<INT>() {
        i as f64
    } else if let Some(f) = v.clone().try_cast::<f64>() {
        f
    } else {
        return Err(fail(op, format!("{what} must be a number, got {}", type_name(v))));
    };
    if !x.is_finite() {
        return Err(fail(op, format!("{what} must be a finite number, got {x}")));
    }
    Ok(x)
}

/// A whole number from INT, or from a FLOAT with no fractional part.
pub fn int(op: &str, what: &str, v: &Dynamic) -> RhaiResult<i64> {
    if let Some(i) = v.clone().try_cast::<INT>() {
        return Ok(i);
    }
    let x = num(op, what, v)?;
    if x.fract() != 0.0 || x.abs() > 9.0e15 {
        return Err(fail(op, format!("{what} must be a whole number, got {x}")));
    }
    Ok(x as i64)
}

/// An image size `(width, height)` from two numbers, checked against the limits.
pub fn size(op: &str, w: &Dynamic, h: &Dynamic) -> RhaiResult<(u32, u32)> {
    let (w, h) = (int(op, "width", w)?, int(op, "height", h)?);
    lift(crate::image::buffer::check_size(w, h))
}

/// A boolean.
pub fn boolean(op: &str, what: &str, v: &Dynamic) -> RhaiResult<bool> {
    v.as_bool().map_err(|_| fail(op, format!("{what} must be true or false, got {}", type_name(v))))
}

/// A string.
pub fn string(op: &str, what: &str, v: &Dynamic) -> RhaiResult<String> {
    v.clone()
        .try_cast::<ImmutableString>()
        .map(|s| s.to_string())
        .ok_or_else(|| fail(op, format!("{what} must be a string, got {}", type_name(v))))
}

/// A colour from a string, a `Color`, or an array of 3 or 4 numbers in 0..1.
pub fn color(op: &str, what: &str, v: &Dynamic) -> RhaiResult<Color> {
    if let Some(c) = v.clone().try_cast::<Color>() {
        return lift(c.validate(op));
    }
    if let Some(s) = v.clone().try_cast::<ImmutableString>() {
        return Color::parse(&s).map_err(|e| fail(op, format!("{what}: {}", strip_op(&e))));
    }
    if let Some(arr) = v.clone().try_cast::<Array>() {
        if arr.len() == 3 || arr.len() == 4 {
            let mut c = [0.0f32, 0.0, 0.0, 1.0];
            for (i, x) in arr.iter().enumerate() {
                c[i] = num(op, what, x)? as f32;
            }
            return Ok(Color::from_array(c));
        }
        return Err(fail(op, format!("{what}: a colour array needs 3 or 4 numbers, got {}", arr.len())));
    }
    Err(fail(
        op,
        format!("{what} must be a colour (\"#rrggbb\", a CSS name, rgb(...) or [r, g, b]), got {}", type_name(v)),
    ))
}

fn strip_op(e: &Error) -> String {
    match e {
        Error::Parameter { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// An array of values converted one by one.
pub fn array<T>(op: &str, what: &str, v: &Dynamic, each: impl Fn(&Dynamic) -> RhaiResult<T>) -> RhaiResult<Vec<T>> {
    let arr = v
        .clone()
        .try_cast::<Array>()
        .ok_or_else(|| fail(op, format!("{what} must be an array, got {}", type_name(v))))?;
    arr.iter().map(each).collect()
}
