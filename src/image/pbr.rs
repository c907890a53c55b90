//! PBR export presets: a material's maps written as the files each game engine expects.
//!
//! Owns which map goes into which channel of which file for each engine, the file suffixes, and
//! writing a set so that it appears whole or not at all. The channel work is
//! `ops::pack::pack_channels`; encoding is `io`'s. Must not know about scripts: the binding
//! (`script/api/pack.rs`) only turns a Rhai map into a [`PbrSet`] and checks the paths.
//!
//! Why here and not in `ops/pack/`: ops take images and return images; this writes files (it is
//! to engines what `io` is to formats), so it sits beside `io` in the image room.
//!
//! A set is `albedo, height, normal, roughness, metallic, ao` (the maps `std/materials`
//! returns). Grey maps are read by their grey value (red when r = g = b, else luminance, see
//! `ops::pack::channels`). The set's normal map is stored OpenGL-style (+Y, green up), encoded
//! `n * 0.5 + 0.5`. Every preset needs albedo, normal, roughness, metallic and ao; height is
//! written when the set has one (every engine has an optional height/parallax slot; glTF core has
//! none, so for glTF it is an extra file).
//!
//! | preset | files (`NAME_<suffix>`) | packing | normal |
//! |---|---|---|---|
//! | `gltf` | BaseColor, Normal, OcclusionRoughnessMetallic, Height | R = AO, G = roughness, B = metallic | OpenGL |
//! | `unreal` | BaseColor, Normal, ORM, Height | R = AO, G = roughness, B = metallic | DirectX (G flipped) |
//! | `unity_hdrp` | BaseColor, Normal, MaskMap, Height | R = metallic, G = AO, B = detail mask (1), A = smoothness = 1 − roughness | OpenGL |
//! | `godot` | Albedo, Normal, ORM, Height | R = AO, G = roughness, B = metallic | OpenGL |
//!
//! Sources, engine by engine:
//! - glTF 2.0 specification, section "Metallic-Roughness Material",
//!   <https://registry.khronos.org/glTF/specs/2.0/glTF-2.0.html#metallic-roughness-material>
//!   (metalness from B, roughness from G, linear transfer, other channels ignored; base colour
//!   sRGB), and section "Additional Textures" (`#additional-textures`: occlusion from R, so one
//!   texture can serve as both `occlusionTexture` and `metallicRoughnessTexture`, the common ORM
//!   packing the spec's channel split allows; normal textures: +X right, +Y up, i.e. OpenGL).
//! - Unreal Engine: the ORM packing and DirectX normal of Adobe's Substance "Unreal Engine 4"
//!   export preset, <https://experienceleague.adobe.com/en/docs/substance-3d-sampler/using/getting-started/export/default-presets/unreal-engine-4>
//!   ("OcclusionRoughnessMetallic: R Ambient Occlusion, G Roughness, B Metallic"). Unreal's
//!   tangent space is DirectX-style (Y down); an OpenGL map needs its texture's "Flip Green
//!   Channel" setting, which this preset makes unnecessary.
//! - Unity HDRP: "Mask and detail maps", <https://docs.unity3d.com/Packages/com.unity.render-pipelines.high-definition@13.1/manual/Mask-Map-and-Detail-Map.html>,
//!   section "Mask map" (R metallic, G ambient occlusion, B detail mask, A smoothness; import
//!   with sRGB off). Unity's normal maps are OpenGL-style. The detail mask is written as 1
//!   (a detail map, if the user adds one, applies everywhere).
//! - Godot 4: `ORMMaterial3D`, <https://docs.godotengine.org/en/stable/classes/class_ormmaterial3d.html>
//!   (one ORM texture: occlusion, roughness, metallic in R, G, B), and "Standard Material 3D and
//!   ORM Material 3D", <https://docs.godotengine.org/en/stable/tutorials/3d/standard_material_3d.html>,
//!   section "Normal map" (Godot expects OpenGL-style, Y+).
//!
//! Colour and data: the base colour is sRGB, written as kiln stores every image (sRGB-encoded
//! values, DESIGN.md §2). ORM, mask, normal and height maps are linear data: their values are
//! written as given, with no gamma change, to PNG and TIFF; in EXR (scene-linear, where `io`
//! linearises colour) data maps are pre-encoded so that the file holds the same values.
//! Engines must import those files with sRGB off, as each page above says.
//!
//! Bits: `bits` applies to every file; without it each file gets its format's default, except
//! the height map, which is 16-bit in PNG and TIFF (8-bit heights terrace under parallax and
//! displacement; Substance's presets export height at 16 bits too).
//!
//! Writing: every file is encoded in memory, then written to a temporary name beside its target;
//! only when all are written are they renamed, so a failure (a missing map, a bad option, a full
//! disk, a cancelled run) leaves no partial set. Should a rename fail half-way (not seen in
//! practice: same folder), the files of this set already renamed are removed again.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::buffer::Image;
use crate::image::color::linear_to_srgb;
use crate::image::io::{self, Format, SaveOptions};
use crate::image::ops::pack::{pack_channels, Pick, Source};
use crate::recipe::Recipe;

/// The engine a set is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    Gltf,
    Unreal,
    UnityHdrp,
    Godot,
}

crate::option_choice!(Preset { Gltf = "gltf", Unreal = "unreal", UnityHdrp = "unity_hdrp", Godot = "godot" });

impl Preset {
    /// The preset's name as a script writes it.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Gltf => "gltf",
            Preset::Unreal => "unreal",
            Preset::UnityHdrp => "unity_hdrp",
            Preset::Godot => "godot",
        }
    }
}

/// The file format of a set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PbrFormat {
    Png,
    Tiff,
    Exr,
}

crate::option_choice!(PbrFormat { Png = "png", Tiff = "tif", Exr = "exr" });

impl PbrFormat {
    fn extension(self) -> &'static str {
        match self {
            PbrFormat::Png => "png",
            PbrFormat::Tiff => "tif",
            PbrFormat::Exr => "exr",
        }
    }
}

crate::option_set! {
    /// Options of `save_pbr(set, name, #{ ... })`.
    #[derive(Copy)]
    pub struct PbrExport for "save_pbr" {
        /// The engine whose files and channel packing to write.
        preset: Preset = Preset::Gltf;
        /// File format of every map.
        format: PbrFormat = PbrFormat::Png;
        /// Bits per channel for every map (as for `save`); the format's default when absent, 16 for a PNG or TIFF height map.
        bits: Option<u8> = None;
    }
}

/// One map of a PBR set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Map {
    Albedo,
    Height,
    Normal,
    Roughness,
    Metallic,
    Ao,
}

impl Map {
    /// Every map, in the order a set lists them.
    pub const ALL: [Map; 6] = [Map::Albedo, Map::Height, Map::Normal, Map::Roughness, Map::Metallic, Map::Ao];

    /// The map's key in a set.
    pub fn name(self) -> &'static str {
        match self {
            Map::Albedo => "albedo",
            Map::Height => "height",
            Map::Normal => "normal",
            Map::Roughness => "roughness",
            Map::Metallic => "metallic",
            Map::Ao => "ao",
        }
    }

    /// The map named `name`, if any.
    pub fn from_name(name: &str) -> Option<Map> {
        Map::ALL.into_iter().find(|m| m.name() == name)
    }
}

pub use crate::image::pbr_set::PbrSet;

/// What one output channel holds.
#[derive(Debug, Clone, Copy)]
enum Chan {
    Grey(Map),
    OneMinus(Map),
    One,
}

/// What one file holds.
#[derive(Debug, Clone, Copy)]
enum Content {
    /// The albedo as it is (sRGB colour, with its alpha).
    BaseColor,
    /// The set's normal map; `true` flips green (OpenGL → DirectX).
    Normal { directx: bool },
    /// Four channels packed from grey maps.
    Packed([Chan; 4]),
    /// The height map as a grey image.
    Height,
}

struct FileSpec {
    suffix: &'static str,
    content: Content,
}

const ORM: Content =
    Content::Packed([Chan::Grey(Map::Ao), Chan::Grey(Map::Roughness), Chan::Grey(Map::Metallic), Chan::One]);

fn files_of(preset: Preset) -> [FileSpec; 4] {
    let f = |suffix, content| FileSpec { suffix, content };
    match preset {
        Preset::Gltf => [
            f("BaseColor", Content::BaseColor),
            f("Normal", Content::Normal { directx: false }),
            f("OcclusionRoughnessMetallic", ORM),
            f("Height", Content::Height),
        ],
        Preset::Unreal => [
            f("BaseColor", Content::BaseColor),
            f("Normal", Content::Normal { directx: true }),
            f("ORM", ORM),
            f("Height", Content::Height),
        ],
        Preset::UnityHdrp => [
            f("BaseColor", Content::BaseColor),
            f("Normal", Content::Normal { directx: false }),
            f(
                "MaskMap",
                Content::Packed([
                    Chan::Grey(Map::Metallic),
                    Chan::Grey(Map::Ao),
                    Chan::One,
                    Chan::OneMinus(Map::Roughness),
                ]),
            ),
            f("Height", Content::Height),
        ],
        Preset::Godot => [
            f("Albedo", Content::BaseColor),
            f("Normal", Content::Normal { directx: false }),
            f("ORM", ORM),
            f("Height", Content::Height),
        ],
    }
}

impl Content {
    /// The maps this file is made from.
    fn needs(&self) -> Vec<Map> {
        match self {
            Content::BaseColor => vec![Map::Albedo],
            Content::Normal { .. } => vec![Map::Normal],
            Content::Height => vec![Map::Height],
            Content::Packed(chans) => chans
                .iter()
                .filter_map(|c| match c {
                    Chan::Grey(m) | Chan::OneMinus(m) => Some(*m),
                    Chan::One => None,
                })
                .collect(),
        }
    }

    /// Colour (sRGB) rather than linear data.
    fn is_colour(&self) -> bool {
        matches!(self, Content::BaseColor)
    }
}

/// One file of an exported set, before it is written.
#[derive(Debug, Clone)]
pub struct PbrFile {
    /// The engine's suffix: the file is `NAME_<suffix>.<ext>`.
    pub suffix: &'static str,
    pub image: Image,
    /// Linear data (packed, normal, height) rather than sRGB colour.
    pub data: bool,
    /// The height map (16-bit by default).
    pub height: bool,
}

/// The files `preset` wants from `set`, in the preset's order. Errors name the missing maps and
/// the preset, or the maps whose sizes differ.
pub fn pack_pbr(set: &PbrSet, preset: Preset) -> Result<Vec<PbrFile>> {
    let specs: Vec<FileSpec> = files_of(preset)
        .into_iter()
        .filter(|s| !matches!(s.content, Content::Height) || set.height.is_some())
        .collect();
    let mut missing: Vec<(Map, &'static str)> = Vec::new();
    for spec in &specs {
        for m in spec.content.needs() {
            if set.get(m.name()).is_none() && !missing.iter().any(|(have, _)| *have == m) {
                missing.push((m, spec.suffix));
            }
        }
    }
    if !missing.is_empty() {
        return Err(missing_maps(set, preset, &missing));
    }
    check_sizes(set)?;
    specs
        .iter()
        .map(|spec| {
            crate::cancel::checkpoint()?;
            let get = |m: Map| set.get(m.name()).expect("checked above");
            let image = match spec.content {
                Content::BaseColor => get(Map::Albedo).clone(),
                Content::Normal { directx } => {
                    let n = get(Map::Normal);
                    let g = if directx { Source::OneMinus(n, Pick::G) } else { Source::From(n, Pick::G) };
                    pack_channels([Source::From(n, Pick::R), g, Source::From(n, Pick::B), Source::Constant(1.0)])?
                }
                Content::Height => {
                    let h = Source::From(get(Map::Height), Pick::Grey);
                    pack_channels([h, h, h, Source::Constant(1.0)])?
                }
                Content::Packed(chans) => pack_channels(chans.map(|c| match c {
                    Chan::Grey(m) => Source::From(get(m), Pick::Grey),
                    Chan::OneMinus(m) => Source::OneMinus(get(m), Pick::Grey),
                    Chan::One => Source::Constant(1.0),
                }))?,
            };
            Ok(PbrFile {
                suffix: spec.suffix,
                image,
                data: !spec.content.is_colour(),
                height: matches!(spec.content, Content::Height),
            })
        })
        .collect()
}

fn missing_maps(set: &PbrSet, preset: Preset, missing: &[(Map, &'static str)]) -> Error {
    let names: Vec<String> = missing.iter().map(|(m, suffix)| format!("'{}' (for _{suffix})", m.name())).collect();
    let mut have: Vec<&str> = Map::ALL.iter().filter(|m| set.get(m.name()).is_some()).map(|m| m.name()).collect();
    have.extend(set.other_keys.iter().map(String::as_str));
    let mut message = format!(
        "the {} preset needs {}, which the set does not have; it has: {}",
        preset.name(),
        names.join(", "),
        if have.is_empty() { "nothing".to_string() } else { have.join(", ") }
    );
    for (m, _) in missing {
        let hint =
            crate::suggest::did_you_mean(m.name(), &set.other_keys.iter().map(String::as_str).collect::<Vec<_>>());
        if !hint.is_empty() {
            message.push_str(&format!("; for '{}'{hint}", m.name()));
        }
    }
    Error::param("save_pbr", message)
}

fn check_sizes(set: &PbrSet) -> Result<()> {
    let present: Vec<(Map, &Image)> = Map::ALL.iter().filter_map(|&m| set.get(m.name()).map(|i| (m, i))).collect();
    if let Some((first, img)) = present.first() {
        for (m, other) in &present[1..] {
            if other.dimensions() != img.dimensions() {
                return Err(Error::param(
                    "save_pbr",
                    format!(
                        "all maps must have the same size, but {} is {}x{} and {} is {}x{}",
                        first.name(),
                        img.width(),
                        img.height(),
                        m.name(),
                        other.width(),
                        other.height()
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// `NAME_<suffix>.<ext>`: the file name of one map.
pub fn file_name(name: &str, file: &PbrFile, format: PbrFormat) -> String {
    format!("{name}_{}.{}", file.suffix, format.extension())
}

/// Encodes one file of a set for `path` (its extension picks the format) with the preset's
/// bit depths, carrying `provenance` when given.
pub fn encode_file(path: &Path, file: &PbrFile, o: &PbrExport, provenance: Option<&Recipe>) -> Result<Vec<u8>> {
    let format = Format::from_path(path)?;
    let bits = o.bits.or(if file.height && o.format != PbrFormat::Exr { Some(16) } else { None });
    let opts = SaveOptions { bits, ..SaveOptions::default() };
    let image = if file.data && o.format == PbrFormat::Exr {
        // `io` linearises EXR output as colour; pre-encode so the file holds the values.
        crate::image::ops::pack::mapped(&file.image, |[r, g, b, a]| {
            [linear_to_srgb(r), linear_to_srgb(g), linear_to_srgb(b), a]
        })?
    } else {
        file.image.clone()
    };
    io::encode_with(&image, format, &opts, path, provenance).map_err(|e| match e {
        Error::Parameter { message, .. } => Error::param("save_pbr", message),
        other => other,
    })
}

/// Encodes every file and writes the set as a whole (see the module docs): all files or none.
pub fn write_set(files: &[(PathBuf, PbrFile)], o: &PbrExport, provenance: Option<&Recipe>) -> Result<()> {
    let mut encoded = Vec::with_capacity(files.len());
    for (path, file) in files {
        crate::cancel::checkpoint()?;
        encoded.push((path.clone(), encode_file(path, file, o, provenance)?));
    }
    io::write_all_or_none(&encoded)
}

/// Packs `set` for `o.preset` and writes it as `<dir>/<name>_<suffix>.<ext>`; returns the paths.
pub fn save_pbr(
    set: &PbrSet,
    dir: &Path,
    name: &str,
    o: &PbrExport,
    provenance: Option<&Recipe>,
) -> Result<Vec<PathBuf>> {
    let files = pack_pbr(set, o.preset)?;
    let named: Vec<(PathBuf, PbrFile)> =
        files.into_iter().map(|f| (dir.join(file_name(name, &f, o.format)), f)).collect();
    write_set(&named, o, provenance)?;
    Ok(named.into_iter().map(|(p, _)| p).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Color;

    const ALBEDO: [f32; 4] = [0.9, 0.5, 0.1, 1.0];
    /// An OpenGL normal tilted right and up.
    const NORMAL: [f32; 4] = [0.6, 0.7, 0.9, 1.0];
    const HEIGHT: f32 = 0.35;
    const ROUGH: f32 = 0.8;
    const METAL: f32 = 0.25;
    const AO: f32 = 0.45;

    fn grey(v: f32) -> Image {
        Image::filled(4, 3, Color::from_array([v, v, v, 1.0])).unwrap()
    }

    fn synthetic() -> PbrSet {
        PbrSet {
            albedo: Image::filled(4, 3, Color::from_array(ALBEDO)).unwrap(),
            height: Some(grey(HEIGHT)),
            normal: Image::filled(4, 3, Color::from_array(NORMAL)).unwrap(),
            roughness: Some(grey(ROUGH)),
            metallic: Some(grey(METAL)),
            ao: Some(grey(AO)),
            other_keys: vec![],
        }
    }

    /// Every pixel of `file` is `expected` (within f32 rounding of `1 - x`).
    fn assert_all(files: &[PbrFile], suffix: &str, expected: [f32; 4]) {
        let file = files.iter().find(|f| f.suffix == suffix).unwrap_or_else(|| panic!("no _{suffix}"));
        for p in file.image.pixels().chunks_exact(4) {
            for c in 0..4 {
                assert!((p[c] - expected[c]).abs() < 1e-6, "_{suffix} channel {c}: {p:?} vs {expected:?}");
            }
        }
    }

    fn suffixes(files: &[PbrFile]) -> Vec<&str> {
        files.iter().map(|f| f.suffix).collect()
    }

    #[test]
    fn gltf_packs_occlusion_roughness_metallic_with_an_opengl_normal() {
        let files = pack_pbr(&synthetic(), Preset::Gltf).unwrap();
        assert_eq!(suffixes(&files), ["BaseColor", "Normal", "OcclusionRoughnessMetallic", "Height"]);
        assert_all(&files, "BaseColor", ALBEDO);
        assert_all(&files, "Normal", NORMAL);
        assert_all(&files, "OcclusionRoughnessMetallic", [AO, ROUGH, METAL, 1.0]);
        assert_all(&files, "Height", [HEIGHT, HEIGHT, HEIGHT, 1.0]);
    }

    #[test]
    fn unreal_packs_orm_with_a_directx_normal() {
        let files = pack_pbr(&synthetic(), Preset::Unreal).unwrap();
        assert_eq!(suffixes(&files), ["BaseColor", "Normal", "ORM", "Height"]);
        assert_all(&files, "BaseColor", ALBEDO);
        assert_all(&files, "Normal", [NORMAL[0], 1.0 - NORMAL[1], NORMAL[2], 1.0]);
        assert_all(&files, "ORM", [AO, ROUGH, METAL, 1.0]);
    }

    #[test]
    fn unity_hdrp_packs_the_mask_map_with_smoothness_in_alpha() {
        let files = pack_pbr(&synthetic(), Preset::UnityHdrp).unwrap();
        assert_eq!(suffixes(&files), ["BaseColor", "Normal", "MaskMap", "Height"]);
        assert_all(&files, "Normal", NORMAL);
        assert_all(&files, "MaskMap", [METAL, AO, 1.0, 1.0 - ROUGH]);
    }

    #[test]
    fn godot_packs_its_orm_with_an_opengl_normal() {
        let files = pack_pbr(&synthetic(), Preset::Godot).unwrap();
        assert_eq!(suffixes(&files), ["Albedo", "Normal", "ORM", "Height"]);
        assert_all(&files, "Albedo", ALBEDO);
        assert_all(&files, "Normal", NORMAL);
        assert_all(&files, "ORM", [AO, ROUGH, METAL, 1.0]);
    }

    #[test]
    fn height_is_optional_and_the_other_maps_are_not() {
        let mut set = synthetic();
        set.height = None;
        assert_eq!(
            suffixes(&pack_pbr(&set, Preset::Gltf).unwrap()),
            ["BaseColor", "Normal", "OcclusionRoughnessMetallic"]
        );
        set.roughness = None;
        set.other_keys = vec!["roughnes".into()];
        let e = pack_pbr(&set, Preset::Unreal).unwrap_err().to_string();
        assert_eq!(
            e,
            "save_pbr: the unreal preset needs 'roughness' (for _ORM), which the set does not have; it has: \
             albedo, normal, metallic, ao, roughnes; for 'roughness' (did you mean 'roughnes'?)"
        );
    }

    #[test]
    fn maps_of_different_sizes_are_refused() {
        let mut set = synthetic();
        set.ao = Some(Image::new(2, 2).unwrap());
        let e = pack_pbr(&set, Preset::Godot).unwrap_err().to_string();
        assert_eq!(e, "save_pbr: all maps must have the same size, but albedo is 4x3 and ao is 2x2");
    }

    #[test]
    fn a_written_set_reads_back_with_its_values_and_16_bit_height() {
        let dir = tempfile::tempdir().unwrap();
        let paths = save_pbr(&synthetic(), dir.path(), "stone", &PbrExport::default(), None).unwrap();
        let names: Vec<String> = paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(
            names,
            ["stone_BaseColor.png", "stone_Normal.png", "stone_OcclusionRoughnessMetallic.png", "stone_Height.png"]
        );
        let orm = io::load(&paths[2]).unwrap();
        let p = orm.get(1, 1).unwrap().to_array();
        for (got, want) in p.iter().zip([AO, ROUGH, METAL, 1.0]) {
            assert!((got - want).abs() <= 0.5 / 255.0 + 1e-6, "{p:?}");
        }
        let h = io::load(&paths[3]).unwrap().get(0, 0).unwrap().r;
        assert!((h - HEIGHT).abs() <= 0.5 / 65535.0 + 1e-6, "16-bit height: {h}");
        // Only the four maps: no temporary files left beside them.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 4);
    }

    #[test]
    fn exr_data_maps_hold_their_values() {
        let dir = tempfile::tempdir().unwrap();
        let o = PbrExport { preset: Preset::UnityHdrp, format: PbrFormat::Exr, bits: None };
        let paths = save_pbr(&synthetic(), dir.path(), "m", &o, None).unwrap();
        assert!(paths[2].ends_with("m_MaskMap.exr"));
        // `io::load` turns EXR's linear values back into kiln's encoding, undoing the pre-encode:
        // read the raw file values through the `image` crate instead.
        let raw = ::image::open(&paths[2]).unwrap().into_rgba32f();
        let p = raw.get_pixel(0, 0).0;
        for (got, want) in p.iter().zip([METAL, AO, 1.0, 1.0 - ROUGH]) {
            assert!((got - want).abs() < 1e-5, "{p:?}");
        }
    }

    #[test]
    fn a_failing_set_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        // 8-bit EXR is refused by the encoder after the first maps were encoded.
        let o = PbrExport { format: PbrFormat::Exr, bits: Some(8), ..PbrExport::default() };
        let e = save_pbr(&synthetic(), dir.path(), "m", &o, None).unwrap_err();
        assert!(e.to_string().starts_with("save_pbr: "), "{e}");
        let mut set = synthetic();
        set.metallic = None;
        assert!(save_pbr(&set, dir.path(), "m", &PbrExport::default(), None).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }
}
