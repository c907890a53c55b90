//! Recognising a PBR set in a script value: a map with at least `albedo` and `normal` Images,
//! and optionally `height`, `roughness`, `metallic` and `ao` Images (the map `std/materials`
//! returns, DESIGN §7).
//!
//! Owns the rule that turns a Rhai map into an [`image::PbrSet`](crate::image::PbrSet). Used by
//! the host (a set as the script's result) and by `show(set, label)`. Must not know how a set is
//! displayed or written.
//!
//! Decisions: other keys (a material's `preview`, its `tileable` flag, a name) are ignored, so a
//! material map can carry more than its maps. A map that names none of the six channels is not a
//! set. A map that names some but lacks `albedo` or `normal`, or holds a non-Image under a
//! channel name, is a mistake and is reported, with a did-you-mean for a misspelt key.

use rhai::{Dynamic, Map};

use crate::image::pbr_set::CHANNELS;
use crate::image::{Image, PbrSet};

/// What a value is, seen as a PBR set.
#[derive(Debug)]
pub enum SetValue {
    /// Not a map, or a map with none of the channel names.
    NotASet,
    /// A set.
    Set(Box<PbrSet>),
    /// A map that names channels but is not a valid set; the message says why.
    Bad(String),
}

/// Reads `value` as a PBR set.
pub fn set_value(value: &Dynamic) -> SetValue {
    let Some(map) = value.read_lock::<Map>() else {
        return SetValue::NotASet;
    };
    set_of_map(&map)
}

/// Reads a map as a PBR set.
pub fn set_of_map(map: &Map) -> SetValue {
    if !CHANNELS.iter().any(|c| map.contains_key(*c)) {
        return SetValue::NotASet;
    }
    let keys: Vec<String> = map.keys().map(|k| k.to_string()).collect();
    let image = |name: &str| -> Result<Option<Image>, String> {
        match map.get(name) {
            None => Ok(None),
            Some(v) => match v.clone().try_cast::<Image>() {
                Some(img) => Ok(Some(img)),
                None => Err(format!(
                    "the PBR set's '{name}' must be an Image, not {}",
                    crate::script::convert::a_type_name(v)
                )),
            },
        }
    };
    let required = |name: &str| -> Result<Image, String> {
        image(name)?.ok_or_else(|| {
            let others: Vec<&String> = keys.iter().filter(|k| !CHANNELS.contains(&k.as_str())).collect();
            let hint = crate::suggest::did_you_mean(name, others.iter().map(|s| s.as_str()));
            format!(
                "a PBR set needs '{name}'{hint}: a map with albedo and normal Images (optional: height, roughness, metallic, ao); this one has {}",
                if keys.is_empty() { "no keys".to_string() } else { keys.join(", ") }
            )
        })
    };
    let read = || -> Result<PbrSet, String> {
        let mut set = PbrSet::new(required("albedo")?, required("normal")?);
        for channel in &CHANNELS[2..] {
            if let Some(img) = image(channel)? {
                set.set_optional(channel, img);
            }
        }
        set.other_keys = keys.iter().filter(|k| !CHANNELS.contains(&k.as_str())).cloned().collect();
        Ok(set)
    };
    match read() {
        Ok(set) => SetValue::Set(Box::new(set)),
        Err(message) => SetValue::Bad(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img() -> Dynamic {
        Dynamic::from(Image::from_fn(2, 2, |_, _| [0.5, 0.5, 1.0, 1.0]).unwrap())
    }

    fn map(pairs: &[(&str, Dynamic)]) -> Map {
        pairs.iter().map(|(k, v)| ((*k).into(), v.clone())).collect()
    }

    #[test]
    fn a_map_with_albedo_and_normal_is_a_set() {
        let m =
            map(&[("albedo", img()), ("normal", img()), ("ao", img()), ("preview", img()), ("tileable", true.into())]);
        match set_of_map(&m) {
            SetValue::Set(s) => {
                let names: Vec<&str> = s.maps().iter().map(|(c, _)| *c).collect();
                assert_eq!(names, ["albedo", "normal", "ao"]);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_maps_are_not_sets() {
        assert!(matches!(set_of_map(&map(&[("width", 3_i64.into())])), SetValue::NotASet));
        assert!(matches!(set_value(&Dynamic::from(1_i64)), SetValue::NotASet));
        assert!(matches!(set_value(&img()), SetValue::NotASet));
    }

    #[test]
    fn a_half_set_says_what_is_missing() {
        let SetValue::Bad(msg) = set_of_map(&map(&[("albedo", img()), ("normla", img())])) else { panic!() };
        assert!(msg.contains("needs 'normal' (did you mean 'normla'?)"), "{msg}");
        let SetValue::Bad(msg) = set_of_map(&map(&[("albedo", img()), ("normal", img()), ("roughness", 0.5.into())]))
        else {
            panic!()
        };
        assert_eq!(msg, "the PBR set's 'roughness' must be an Image, not a FLOAT");
    }
}
