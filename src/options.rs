//! Option sets: the Rust types behind every `#{ key: value }` map a script passes.
//!
//! Owns the contract between the rooms and their front ends (DESIGN.md §7, "Options and errors"):
//! - each option set is a plain struct in its own room (field, image, model), declared with
//!   [`option_set!`], which owns its defaults, its key list, each key's kind, range and doc line;
//! - [`OptionSet::from_pairs`] is the one generic reader: it takes `(key, OptionValue)` pairs,
//!   rejects an unknown key with a did-you-mean and the list of valid keys, converts each value
//!   through [`OptionType`] (INT is accepted for FLOAT, NaN is refused) and checks its range;
//! - [`OptionSet::keys`] is what `kiln doc` prints, so the reference cannot drift from the code.
//!
//! Must not know about Rhai or clap: the script room turns a Rhai map into [`OptionValue`]s
//! (`script::convert`), the CLI fills the same structs from flags. The model mirrors fidget's
//! `build_from_map::<T>` (fidget-rhai): a new option set needs no binding code of its own.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::image::color::Color;

/// A value as a front end hands it over, before an option set reads it.
#[derive(Clone)]
pub enum OptionValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Text(String),
    Color(Color),
    List(Vec<OptionValue>),
    /// A value of a room's own type (a Field, a Palette, an Image), read by that room's
    /// [`OptionType`] impl through [`OptionValue::object`].
    Object {
        type_name: &'static str,
        value: Arc<dyn Any + Send + Sync>,
    },
    /// Anything else; its type name, for the error message.
    Other(&'static str),
}

impl fmt::Debug for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.describe())
    }
}

impl OptionValue {
    /// The kind of value, in the words a message uses ("a number", "a string", "a Field").
    pub fn kind_name(&self) -> String {
        match self {
            OptionValue::Int(_) | OptionValue::Float(_) => "a number".into(),
            OptionValue::Bool(_) => "true or false".into(),
            OptionValue::Text(_) => "a string".into(),
            OptionValue::Color(_) => "a Color".into(),
            OptionValue::List(_) => "an array".into(),
            OptionValue::Object { type_name, .. } => format!("a {type_name}"),
            OptionValue::Other(t) => format!("a {t}"),
        }
    }

    /// The value as a message quotes it.
    pub fn describe(&self) -> String {
        match self {
            OptionValue::Int(i) => i.to_string(),
            OptionValue::Float(x) => x.to_string(),
            OptionValue::Bool(b) => b.to_string(),
            OptionValue::Text(s) => format!("\"{s}\""),
            OptionValue::Color(c) => c.to_hex(),
            OptionValue::List(items) => {
                format!("[{}]", items.iter().map(OptionValue::describe).collect::<Vec<_>>().join(", "))
            }
            OptionValue::Object { type_name, .. } => type_name.to_string(),
            OptionValue::Other(t) => t.to_string(),
        }
    }

    /// The room's own object behind [`OptionValue::Object`], if it is a `T`.
    pub fn object<T: Clone + 'static>(&self) -> Option<T> {
        match self {
            OptionValue::Object { value, .. } => value.downcast_ref::<T>().cloned(),
            _ => None,
        }
    }

    /// A room's own value wrapped for an option set (the script room does this for Field etc.).
    pub fn from_object<T: Any + Send + Sync>(type_name: &'static str, value: T) -> OptionValue {
        OptionValue::Object { type_name, value: Arc::new(value) }
    }
}

/// Where a value is read: the op and the option key, for messages ("tiles: option 'gap' …").
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    pub op: &'a str,
    pub key: &'a str,
}

impl At<'_> {
    /// A parameter error about this option.
    pub fn error(&self, message: impl fmt::Display) -> Error {
        Error::param(self.op, format!("option '{}' {message}", self.key))
    }

    /// "must be {expected}, got {what was given}".
    pub fn expected(&self, expected: &str, got: &OptionValue) -> Error {
        self.error(format_args!("must be {expected}, got {}", got.kind_name()))
    }
}

/// A type an option can have: how it is read from an [`OptionValue`] and described in docs.
pub trait OptionType: Sized {
    /// The kind in `kiln doc` ("number", "whole number", "true/false", "colour", …).
    fn kind() -> String;
    /// Reads a given value.
    fn read(at: At, value: &OptionValue) -> Result<Self>;
    /// The value as the docs show a default.
    fn show(&self) -> String;
    /// The value as a number, for range checks (numbers only).
    fn as_number(&self) -> Option<f64> {
        None
    }
}

fn number(at: At, value: &OptionValue) -> Result<f64> {
    let x = match value {
        OptionValue::Int(i) => *i as f64,
        OptionValue::Float(x) => *x,
        other => return Err(at.expected("a number", other)),
    };
    if !x.is_finite() {
        return Err(at.error(format_args!("must be a finite number, got {x}")));
    }
    Ok(x)
}

fn whole(at: At, value: &OptionValue) -> Result<i64> {
    match value {
        OptionValue::Int(i) => Ok(*i),
        OptionValue::Float(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 9.0e15 => Ok(*x as i64),
        OptionValue::Float(x) => Err(at.error(format_args!("must be a whole number, got {x}"))),
        other => Err(at.expected("a whole number", other)),
    }
}

/// Shows a number the way a script writes it: `4`, `0.05`.
pub fn show_number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

impl OptionType for f64 {
    fn kind() -> String {
        "number".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<f64> {
        number(at, value)
    }
    fn show(&self) -> String {
        show_number(*self)
    }
    fn as_number(&self) -> Option<f64> {
        Some(*self)
    }
}

impl OptionType for f32 {
    fn kind() -> String {
        "number".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<f32> {
        Ok(number(at, value)? as f32)
    }
    fn show(&self) -> String {
        show_number(*self as f64)
    }
    fn as_number(&self) -> Option<f64> {
        Some(*self as f64)
    }
}

macro_rules! whole_number_type {
    ($($t:ty),*) => {$(
        impl OptionType for $t {
            fn kind() -> String {
                "whole number".into()
            }
            fn read(at: At, value: &OptionValue) -> Result<$t> {
                let i = whole(at, value)?;
                <$t>::try_from(i).map_err(|_| {
                    at.error(format_args!("must be a whole number from {} to {}, got {i}", <$t>::MIN, <$t>::MAX))
                })
            }
            fn show(&self) -> String {
                self.to_string()
            }
            fn as_number(&self) -> Option<f64> {
                Some(*self as f64)
            }
        }
    )*};
}
whole_number_type!(u8, i32, i64, u32, usize);

/// Seeds take any whole number: negative ones wrap to their two's-complement bits, as the run's
/// `--seed` does, so `seed: -1` is a valid, distinct seed.
impl OptionType for u64 {
    fn kind() -> String {
        "whole number".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<u64> {
        Ok(whole(at, value)? as u64)
    }
    fn show(&self) -> String {
        self.to_string()
    }
    fn as_number(&self) -> Option<f64> {
        Some(*self as f64)
    }
}

impl OptionType for bool {
    fn kind() -> String {
        "true/false".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<bool> {
        match value {
            OptionValue::Bool(b) => Ok(*b),
            other => Err(at.expected("true or false", other)),
        }
    }
    fn show(&self) -> String {
        self.to_string()
    }
}

impl OptionType for String {
    fn kind() -> String {
        "string".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<String> {
        match value {
            OptionValue::Text(s) => Ok(s.clone()),
            other => Err(at.expected("a string", other)),
        }
    }
    fn show(&self) -> String {
        format!("\"{self}\"")
    }
}

/// A file or folder path as the script wrote it; the front end resolves it (the script room
/// through the run's read/write policy).
impl OptionType for std::path::PathBuf {
    fn kind() -> String {
        "path".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<std::path::PathBuf> {
        match value {
            OptionValue::Text(s) => Ok(s.into()),
            other => Err(at.expected("a path (a string)", other)),
        }
    }
    fn show(&self) -> String {
        format!("\"{}\"", self.display())
    }
}

impl OptionType for Color {
    fn kind() -> String {
        "colour".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<Color> {
        match value {
            OptionValue::Color(c) => c.validate(at.op),
            OptionValue::Text(s) => Color::parse(s).map_err(|e| at.error(format_args!("{}", strip_op(&e)))),
            OptionValue::List(items) if items.len() == 3 || items.len() == 4 => {
                let mut c = [0.0f32, 0.0, 0.0, 1.0];
                for (slot, item) in c.iter_mut().zip(items) {
                    *slot = number(at, item)? as f32;
                }
                Ok(Color::from_array(c))
            }
            OptionValue::List(items) => {
                Err(at.error(format_args!("as a colour array needs 3 or 4 numbers, got {}", items.len())))
            }
            other => Err(at.expected("a colour (\"#rrggbb\", a CSS name, rgb(...) or [r, g, b])", other)),
        }
    }
    fn show(&self) -> String {
        format!("\"{}\"", self.to_hex())
    }
}

/// A pair `[x, y]`; a single number stands for both.
impl OptionType for (f64, f64) {
    fn kind() -> String {
        "number or [x, y]".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<(f64, f64)> {
        match value {
            OptionValue::Int(_) | OptionValue::Float(_) => {
                let x = number(at, value)?;
                Ok((x, x))
            }
            OptionValue::List(items) if items.len() == 2 => Ok((number(at, &items[0])?, number(at, &items[1])?)),
            _ => Err(at.error("must be a number or [x, y]")),
        }
    }
    fn show(&self) -> String {
        format!("[{}, {}]", show_number(self.0), show_number(self.1))
    }
}

impl<T: OptionType> OptionType for Vec<T> {
    fn kind() -> String {
        format!("array of {}", T::kind())
    }
    fn read(at: At, value: &OptionValue) -> Result<Vec<T>> {
        match value {
            OptionValue::List(items) => items.iter().map(|v| T::read(at, v)).collect(),
            other => Err(at.expected("an array", other)),
        }
    }
    fn show(&self) -> String {
        format!("[{}]", self.iter().map(T::show).collect::<Vec<_>>().join(", "))
    }
}

/// An optional value: absent (`None`) means the op decides (for `seed`: the run's seed).
impl<T: OptionType> OptionType for Option<T> {
    fn kind() -> String {
        T::kind()
    }
    fn read(at: At, value: &OptionValue) -> Result<Option<T>> {
        T::read(at, value).map(Some)
    }
    fn show(&self) -> String {
        match self {
            Some(v) => v.show(),
            None => "-".into(),
        }
    }
    fn as_number(&self) -> Option<f64> {
        self.as_ref().and_then(T::as_number)
    }
}

fn strip_op(e: &Error) -> String {
    match e {
        Error::Parameter { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// Checks a read number against an inclusive range.
pub fn check_range<T: OptionType>(at: At, value: &T, lo: f64, hi: f64) -> Result<()> {
    match value.as_number() {
        Some(x) if x < lo || x > hi => Err(at.error(format_args!(
            "must be between {} and {}, got {}",
            show_number(lo),
            show_number(hi),
            show_number(x)
        ))),
        _ => Ok(()),
    }
}

/// One key of an option set, as `kiln doc` prints it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeySpec {
    pub name: &'static str,
    pub kind: String,
    /// The default as a script would write it; `-` when the op decides (the run's seed, …).
    pub default: String,
    /// `lo..=hi`, if the key has a range.
    pub range: Option<(f64, f64)>,
    pub doc: &'static str,
}

impl KeySpec {
    /// `name (kind, default D, D..=E): doc`.
    pub fn describe(&self) -> String {
        let mut s = format!("`{}` ({}", self.name, self.kind);
        if self.default != "-" {
            s.push_str(&format!(", default {}", self.default));
        }
        if let Some((lo, hi)) = self.range {
            s.push_str(&format!(", {} to {}", show_number(lo), show_number(hi)));
        }
        s.push(')');
        if !self.doc.is_empty() {
            s.push_str(": ");
            s.push_str(self.doc.trim());
        }
        s
    }
}

/// A set of options with defaults, declared with [`option_set!`].
pub trait OptionSet: Default + Sized {
    /// The op whose options these are, for messages.
    const OP: &'static str;
    /// Every key with its kind, default, range and doc line.
    fn keys() -> Vec<KeySpec>;
    /// Sets one key from a value (range-checked).
    fn set(&mut self, key: &str, value: &OptionValue) -> Result<()>;

    /// The defaults overridden by `pairs`. An unknown key is an error with a did-you-mean and the
    /// list of valid keys.
    fn from_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a OptionValue)>) -> Result<Self> {
        let mut out = Self::default();
        for (key, value) in pairs {
            out.set(key, value)?;
        }
        Ok(out)
    }

    /// The doc lines `kiln doc` prints for this set: one `- key (kind, default, range): doc` each.
    fn doc_lines() -> Vec<String> {
        Self::keys().iter().map(|k| format!("- {}", k.describe())).collect()
    }
}

/// The error for a key no option set knows.
pub fn unknown_key(op: &str, key: &str, keys: &[KeySpec]) -> Error {
    let mut names: Vec<&str> = keys.iter().map(|k| k.name).collect();
    names.sort_unstable();
    let hint = crate::suggest::did_you_mean(key, &names);
    Error::param(op, format!("unknown option '{key}'{hint}; valid options are: {}", names.join(", ")))
}

/// Declares an option set: a struct with public fields, its `Default`, and its [`OptionSet`]
/// impl. Each field's `///` comment is its doc line; `range(lo, hi)` adds an inclusive check.
///
/// ```ignore
/// option_set! {
///     /// Options of `dots(#{ ... })`.
///     pub struct Dots for "dots" {
///         /// Dots per side.
///         n: f64 = 8.0, range(1.0, 4096.0);
///         /// Seed; the run's seed when absent.
///         seed: Option<u64> = None;
///     }
/// }
/// ```
#[macro_export]
macro_rules! option_set {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident for $op:literal {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $ty:ty = $default:expr $(, range($lo:expr, $hi:expr))? ;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq)]
        $vis struct $name {
            $( $(#[doc = $doc])* pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                $name { $( $field: $default, )* }
            }
        }

        impl $crate::options::OptionSet for $name {
            const OP: &'static str = $op;

            fn keys() -> Vec<$crate::options::KeySpec> {
                let defaults = <$name as Default>::default();
                vec![$(
                    $crate::options::KeySpec {
                        name: stringify!($field),
                        kind: <$ty as $crate::options::OptionType>::kind(),
                        default: <$ty as $crate::options::OptionType>::show(&defaults.$field),
                        range: $crate::option_set!(@range $($lo, $hi)?),
                        doc: concat!($($doc),*),
                    },
                )*]
            }

            fn set(&mut self, key: &str, value: &$crate::options::OptionValue) -> $crate::error::Result<()> {
                let at = $crate::options::At { op: $op, key };
                match key {
                    $(
                        stringify!($field) => {
                            let v = <$ty as $crate::options::OptionType>::read(at, value)?;
                            $( $crate::options::check_range(at, &v, $lo as f64, $hi as f64)?; )?
                            self.$field = v;
                        }
                    )*
                    _ => return Err($crate::options::unknown_key($op, key, &Self::keys())),
                }
                Ok(())
            }
        }
    };
    (@range $lo:expr, $hi:expr) => { Some(($lo as f64, $hi as f64)) };
    (@range) => { None };
}

/// Implements [`OptionType`] for a fieldless enum read from one of a fixed set of words, with a
/// did-you-mean for a mistyped word.
///
/// ```ignore
/// option_choice!(VoronoiOutput { Cell = "cell", Edge = "edge", Distance = "distance" });
/// ```
#[macro_export]
macro_rules! option_choice {
    ($ty:ty { $($variant:ident = $word:literal),+ $(,)? }) => {
        impl $crate::options::OptionType for $ty {
            fn kind() -> String {
                [$(concat!("\"", $word, "\"")),+].join(" | ")
            }
            fn read(at: $crate::options::At, value: &$crate::options::OptionValue) -> $crate::error::Result<$ty> {
                const WORDS: &[&str] = &[$($word),+];
                match value {
                    $( $crate::options::OptionValue::Text(s) if s == $word => Ok(<$ty>::$variant), )+
                    $crate::options::OptionValue::Text(s) => Err(at.error(format_args!(
                        "must be one of {}, got \"{s}\"{}",
                        WORDS.join(", "),
                        $crate::suggest::did_you_mean(s, WORDS)
                    ))),
                    other => Err(at.expected(&format!("one of {}", WORDS.join(", ")), other)),
                }
            }
            fn show(&self) -> String {
                match self { $( <$ty>::$variant => concat!("\"", $word, "\"").to_string(), )+ }
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Shape {
        Round,
        Square,
    }
    crate::option_choice!(Shape { Round = "round", Square = "square" });

    crate::option_set! {
        /// A test set.
        struct Sample for "sample" {
            /// Cells across.
            n: f64 = 8.0, range(1, 100);
            /// Seed; the run's when absent.
            seed: Option<u64> = None;
            shape: Shape = Shape::Round;
            tint: Color = Color::from_array([1.0, 0.0, 0.0, 1.0]);
            count: u32 = 3;
        }
    }

    fn read(pairs: &[(&str, OptionValue)]) -> Result<Sample> {
        Sample::from_pairs(pairs.iter().map(|(k, v)| (*k, v)))
    }

    #[test]
    fn defaults_apply_and_given_keys_override_them() {
        let s = read(&[("n", OptionValue::Int(4)), ("shape", OptionValue::Text("square".into()))]).unwrap();
        assert_eq!(s.n, 4.0, "INT is accepted for FLOAT");
        assert_eq!(s.shape, Shape::Square);
        assert_eq!(s.seed, None);
        assert_eq!(s.count, 3);
    }

    #[test]
    fn errors_name_the_op_the_key_and_what_to_fix() {
        let msg = |pairs: &[(&str, OptionValue)]| read(pairs).unwrap_err().to_string();
        assert_eq!(
            msg(&[("m", OptionValue::Int(1))]),
            "sample: unknown option 'm' (did you mean 'n'?); valid options are: count, n, seed, shape, tint"
        );
        assert_eq!(msg(&[("n", OptionValue::Int(0))]), "sample: option 'n' must be between 1 and 100, got 0");
        assert_eq!(msg(&[("n", OptionValue::Float(f64::NAN))]), "sample: option 'n' must be a finite number, got NaN");
        assert_eq!(msg(&[("n", OptionValue::Text("x".into()))]), "sample: option 'n' must be a number, got a string");
        assert_eq!(
            msg(&[("shape", OptionValue::Text("sqare".into()))]),
            "sample: option 'shape' must be one of round, square, got \"sqare\" (did you mean 'square'?)"
        );
        assert_eq!(
            msg(&[("count", OptionValue::Int(-1))]),
            "sample: option 'count' must be a whole number from 0 to 4294967295, got -1"
        );
        assert_eq!(
            msg(&[("count", OptionValue::Float(1.5))]),
            "sample: option 'count' must be a whole number, got 1.5"
        );
        assert!(msg(&[("tint", OptionValue::Text("nocolour".into()))]).starts_with("sample: option 'tint' "));
    }

    #[test]
    fn keys_describe_kind_default_and_range_for_the_docs() {
        let keys = Sample::keys();
        assert_eq!(keys[0].describe(), "`n` (number, default 8, 1 to 100): Cells across.");
        assert_eq!(keys[1].describe(), "`seed` (whole number): Seed; the run's when absent.");
        assert_eq!(keys[2].describe(), "`shape` (\"round\" | \"square\", default \"round\")");
        assert_eq!(keys[3].default, "\"#ff0000\"");
    }
}
