//! A PBR material set: the maps a game engine or a lit preview reads (albedo, normal, and the
//! optional height, roughness, metallic and ambient occlusion), as plain [`Image`]s.
//!
//! Owns: [`PbrSet`], the channel names and their order, and writing a set as one file per map
//! with no partial set left behind. Must not know about scripts (the script room turns a Rhai
//! map into a set) or about any engine's packing (export presets pack channels their own way).
//!
//! Conventions, as Material Maker and Substance store them: `albedo` is unlit base colour
//! (sRGB); `normal` is a tangent-space normal map in the OpenGL convention (+Y up, green up);
//! `height`, `roughness`, `metallic` and `ao` are grey data images (0..1, read as luminance where
//! an image is not grey). A missing optional map means: height flat, roughness 0.5, metallic 0,
//! AO 1. Maps may differ in size; whoever reads them samples by texture coordinate.
//!
//! Writing (`kiln run -o out.png` with a set as the result): one file per map present, named
//! `out_albedo.png`, `out_normal.png`, `out_height.png`, ... in [`CHANNELS`] order. Every file is
//! encoded in memory and written to a temp name first; only when all are written are they renamed
//! into place, so a failure leaves none of them (ImageMagick's `-write` and Substance's export
//! both write one file per output; the all-or-nothing rename is kiln's own rule for outputs).

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::image::io::{self, Format, SaveOptions};
use crate::image::Image;
use crate::recipe::Recipe;

/// The channel names of a set, in the order files are written and listed.
pub const CHANNELS: [&str; 6] = ["albedo", "normal", "height", "roughness", "metallic", "ao"];

/// The maps of one material. `albedo` and `normal` are required; the rest are optional.
#[derive(Debug, Clone)]
pub struct PbrSet {
    pub albedo: Image,
    pub normal: Image,
    pub height: Option<Image>,
    pub roughness: Option<Image>,
    pub metallic: Option<Image>,
    pub ao: Option<Image>,
    /// Keys of the script's map that are not channels: did-you-mean hints for a missing map.
    pub other_keys: Vec<String>,
}

impl PbrSet {
    /// A set of the two required maps.
    pub fn new(albedo: Image, normal: Image) -> PbrSet {
        PbrSet { albedo, normal, height: None, roughness: None, metallic: None, ao: None, other_keys: Vec::new() }
    }

    /// The map named `channel` (one of [`CHANNELS`]), if the set has it.
    pub fn get(&self, channel: &str) -> Option<&Image> {
        match channel {
            "albedo" => Some(&self.albedo),
            "normal" => Some(&self.normal),
            "height" => self.height.as_ref(),
            "roughness" => self.roughness.as_ref(),
            "metallic" => self.metallic.as_ref(),
            "ao" => self.ao.as_ref(),
            _ => None,
        }
    }

    /// Sets the optional map named `channel`; `false` for a name that is not an optional channel.
    pub fn set_optional(&mut self, channel: &str, img: Image) -> bool {
        let slot = match channel {
            "height" => &mut self.height,
            "roughness" => &mut self.roughness,
            "metallic" => &mut self.metallic,
            "ao" => &mut self.ao,
            _ => return false,
        };
        *slot = Some(img);
        true
    }

    /// The maps the set has, with their channel names, in [`CHANNELS`] order.
    pub fn maps(&self) -> Vec<(&'static str, &Image)> {
        CHANNELS.iter().filter_map(|&c| self.get(c).map(|img| (c, img))).collect()
    }

    /// The file a map of a set written to `base` goes to: `dir/out.png` → `dir/out_normal.png`.
    pub fn map_path(base: &Path, channel: &str) -> PathBuf {
        let stem = base.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        let name = match base.extension() {
            Some(ext) => format!("{stem}_{channel}.{}", ext.to_string_lossy()),
            None => format!("{stem}_{channel}"),
        };
        base.with_file_name(name)
    }

    /// Writes every map to `map_path(base, channel)` in `base`'s format, all or none: each file
    /// is encoded and written to a temp name beside its target, and renamed only once all are
    /// written. Each file carries `provenance` when given. Returns the paths written, in
    /// [`CHANNELS`] order.
    pub fn save_maps(&self, base: &Path, opts: &SaveOptions, provenance: Option<&Recipe>) -> Result<Vec<PathBuf>> {
        let format = Format::from_path(base)?;
        let dir = match base.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        let mut encoded = Vec::new();
        for (channel, img) in self.maps() {
            crate::cancel::checkpoint()?;
            let path = PbrSet::map_path(base, channel);
            let bytes = io::encode_with(img, format, opts, &path, provenance)?;
            encoded.push((path, bytes));
        }
        io::write_all_or_none(&encoded)?;
        Ok(encoded.into_iter().map(|(path, _)| path).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(v: f32) -> Image {
        Image::from_fn(4, 3, |_, _| [v, v, v, 1.0]).unwrap()
    }

    #[test]
    fn map_paths_keep_the_folder_and_extension() {
        assert_eq!(PbrSet::map_path(Path::new("out/brick.png"), "normal"), PathBuf::from("out/brick_normal.png"));
        assert_eq!(PbrSet::map_path(Path::new("brick.exr"), "ao"), PathBuf::from("brick_ao.exr"));
    }

    #[test]
    fn maps_come_in_channel_order_and_only_when_present() {
        let mut set = PbrSet::new(flat(0.5), flat(0.5));
        assert!(set.set_optional("ao", flat(1.0)));
        assert!(set.set_optional("height", flat(0.2)));
        assert!(!set.set_optional("albedo", flat(0.0)), "albedo is not optional");
        let names: Vec<&str> = set.maps().iter().map(|(c, _)| *c).collect();
        assert_eq!(names, ["albedo", "normal", "height", "ao"]);
    }

    #[test]
    fn saves_one_file_per_map_and_reads_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = PbrSet::new(flat(0.25), flat(0.5));
        set.set_optional("roughness", flat(0.75));
        let written = set.save_maps(&dir.path().join("m.png"), &SaveOptions::default(), None).unwrap();
        let names: Vec<String> = written.iter().map(|p| p.file_name().unwrap().to_string_lossy().into()).collect();
        assert_eq!(names, ["m_albedo.png", "m_normal.png", "m_roughness.png"]);
        let r = io::load(&written[2]).unwrap().get(1, 1).unwrap();
        assert!((r.r - 191.0 / 255.0).abs() < 1e-6, "{r:?}");
        // Nothing but the three maps: no temp file stays behind.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }

    #[test]
    fn a_failed_set_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut set = PbrSet::new(flat(0.25), flat(0.5));
        set.set_optional("ao", flat(1.0));
        // Refused before anything is written: 16-bit JPEG.
        let opts = SaveOptions { bits: Some(16), ..Default::default() };
        assert!(set.save_maps(&dir.path().join("m.jpg"), &opts, None).is_err());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        // Refused while renaming: a folder where the normal map goes. The albedo, renamed
        // first, is taken back, and the AO's temp file is removed.
        std::fs::create_dir(dir.path().join("m_normal.png")).unwrap();
        let err = set.save_maps(&dir.path().join("m.png"), &SaveOptions::default(), None).unwrap_err();
        assert!(err.to_string().contains("m_normal.png"), "{err}");
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, ["m_normal.png"], "only the folder that was in the way");
    }
}
