//! Model files: safetensors with a `__metadata__` header that records what the tensors are.
//!
//! Owns: encoding/decoding model and checkpoint files and checking them. Every key below is
//! required; a file that lacks one, names another format, disagrees with its own architecture,
//! misses a tensor or has a wrong shape or dtype is an [`Error::Model`] naming the file, never a
//! panic. Writes go through `write_atomic`, so a crash leaves the previous file whole.
//!
//! Metadata keys: `format` = "kiln-model", `format_version` = "1", `kind` (vae | gan | spatial_vae), `size`,
//! `channels` (3), `latent_dim`, `width`, `stages`, `channel_plan`, `steps`, `kiln_version`, and
//! for training runs `seed`, `batch`, `lr`, `beta`, `epoch`, `epoch_step`, `adam_t` and
//! `checkpoint` = "1" for resumable files. A VAE with a learned prior also has
//! `prior_components` = K and the tensors `prior.weights` (K), `prior.means` (K, latent_dim) and
//! `prior.scale_tril` (K, latent_dim, latent_dim); see `prior.rs`.
//!
//! A spatial VAE (`kind` = spatial_vae) has `factor`, `latent_channels`, `width`, `blocks` and
//! `channel_plan` instead of `size`, `latent_dim`, `stages` (see `spatial/arch.rs`), and
//! its training runs record `patch`, `total_steps`, `edge` and `kl`.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use candle_core::{Device, Tensor, Var};
use safetensors::{tensor::TensorView, Dtype, SafeTensors};

use super::arch::{Arch, CHANNELS};
use super::nn::{Adam, Params, Specs};
use super::options::Kind;
use super::prior::Mixture;
use crate::error::{Error, Result};
use crate::image::io::write_atomic;

/// The format name written in every file.
pub const FORMAT: &str = "kiln-model";
/// Bumped when the tensor naming or meaning changes.
pub const FORMAT_VERSION: &str = "1";

pub(crate) fn model_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Model { path: path.to_path_buf(), message: message.into() }
}

/// Serialises `tensors` (f32, any device) with `meta` (the format keys are added here).
///
/// The header is written here rather than by `safetensors::serialize`, whose metadata is a
/// `HashMap` and comes out in a different order every run: kiln's files must be byte-identical
/// for the same inputs (DESIGN.md §6). Keys are sorted; the layout is standard safetensors
/// (8-byte little-endian header length, JSON header padded with spaces to 8 bytes, data).
pub fn encode(tensors: &BTreeMap<String, Tensor>, mut meta: HashMap<String, String>, path: &Path) -> Result<Vec<u8>> {
    meta.insert("format".into(), FORMAT.into());
    meta.insert("format_version".into(), FORMAT_VERSION.into());
    meta.insert("kiln_version".into(), env!("CARGO_PKG_VERSION").into());
    let meta: BTreeMap<String, String> = meta.into_iter().collect();
    let mut header = String::from("{\"__metadata__\":{");
    let fields: Vec<String> = meta.iter().map(|(k, v)| format!("{}:{}", json_string(k), json_string(v))).collect();
    header.push_str(&fields.join(","));
    header.push('}');
    let mut data = Vec::new();
    for (name, t) in tensors {
        let values: Vec<f32> = t
            .to_device(&Device::Cpu)
            .and_then(|t| t.flatten_all())
            .and_then(|t| t.to_vec1())
            .map_err(|e| model_err(path, format!("cannot read tensor `{name}`: {e}")))?;
        let start = data.len();
        data.extend(values.iter().flat_map(|v| v.to_le_bytes()));
        let shape: Vec<String> = t.dims().iter().map(|d| d.to_string()).collect();
        header.push_str(&format!(
            ",{}:{{\"dtype\":\"F32\",\"shape\":[{}],\"data_offsets\":[{start},{}]}}",
            json_string(name),
            shape.join(","),
            data.len()
        ));
    }
    header.push('}');
    while header.len() % 8 != 0 {
        header.push(' ');
    }
    let mut out = Vec::with_capacity(8 + header.len() + data.len());
    out.extend((header.len() as u64).to_le_bytes());
    out.extend(header.as_bytes());
    out.extend(data);
    Ok(out)
}

/// A JSON string literal.
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Writes `tensors` and `meta` to `path` atomically.
pub fn write(path: &Path, tensors: &BTreeMap<String, Tensor>, meta: HashMap<String, String>) -> Result<()> {
    let bytes = encode(tensors, meta, path)?;
    write_atomic(path, &bytes)
}

/// The tensors and metadata of a resumable checkpoint, laid out the one way every trainer uses:
/// parameters under a prefix, an Adam optimiser's moments as `TAG.m.NAME` / `TAG.v.NAME` and its
/// step count as the metadata `TAG_t` ([`File::restore_adam`] reads them back).
#[derive(Default)]
pub struct Checkpoint {
    pub tensors: BTreeMap<String, Tensor>,
    pub meta: HashMap<String, String>,
}

impl Checkpoint {
    /// Adds every parameter of `p` as `prefix + name`.
    pub fn params(&mut self, prefix: &str, p: &Params) -> &mut Checkpoint {
        for (k, v) in &p.vars {
            self.tensors.insert(format!("{prefix}{k}"), v.as_tensor().clone());
        }
        self
    }

    /// Adds the state of optimiser `opt` under `tag`.
    pub fn adam(&mut self, tag: &str, opt: &Adam) -> &mut Checkpoint {
        for (k, v) in &opt.m {
            self.tensors.insert(format!("{tag}.m.{k}"), v.clone());
        }
        for (k, v) in &opt.v {
            self.tensors.insert(format!("{tag}.v.{k}"), v.clone());
        }
        self.meta.insert(format!("{tag}_t"), opt.t.to_string());
        self
    }
}

/// A parsed model file: metadata plus the raw bytes the tensors are read from.
pub struct File<'a> {
    pub meta: HashMap<String, String>,
    st: SafeTensors<'a>,
    path: &'a Path,
}

impl<'a> File<'a> {
    /// Parses and checks the header of `bytes`, read from `path`.
    pub fn parse(bytes: &'a [u8], path: &'a Path) -> Result<File<'a>> {
        let (_, header) = SafeTensors::read_metadata(bytes)
            .map_err(|e| model_err(path, format!("not a safetensors file or truncated ({e})")))?;
        let meta =
            header.metadata().clone().ok_or_else(|| model_err(path, "no __metadata__: not a kiln model file"))?;
        let st = SafeTensors::deserialize(bytes).map_err(|e| model_err(path, format!("corrupt or truncated ({e})")))?;
        let file = File { meta, st, path };
        let format = file.key("format")?;
        if format != FORMAT {
            return Err(model_err(path, format!("format is `{format}`, expected `{FORMAT}`")));
        }
        let version = file.key("format_version")?;
        if version != FORMAT_VERSION {
            return Err(model_err(path, format!("format version {version}; this kiln reads version {FORMAT_VERSION}")));
        }
        Ok(file)
    }

    /// The file's path, for errors.
    pub fn path(&self) -> &Path {
        self.path
    }

    /// A required metadata value.
    pub fn key(&self, key: &str) -> Result<&str> {
        self.meta.get(key).map(String::as_str).ok_or_else(|| model_err(self.path, format!("metadata lacks `{key}`")))
    }

    /// A required numeric metadata value.
    pub fn number<T: std::str::FromStr>(&self, key: &str) -> Result<T> {
        let text = self.key(key)?;
        text.parse().map_err(|_| model_err(self.path, format!("metadata `{key}` is `{text}`, not a number")))
    }

    /// An optional numeric metadata value (absent → `default`, malformed → error).
    pub fn number_or<T: std::str::FromStr>(&self, key: &str, default: T) -> Result<T> {
        if self.meta.contains_key(key) {
            self.number(key)
        } else {
            Ok(default)
        }
    }

    /// An optional `true`/`false` metadata value (absent → `default`, anything else → error).
    pub fn flag_or(&self, key: &str, default: bool) -> Result<bool> {
        match self.meta.get(key).map(String::as_str) {
            None => Ok(default),
            Some("true") => Ok(true),
            Some("false") => Ok(false),
            Some(text) => Err(model_err(self.path, format!("metadata `{key}` is `{text}`, not true or false"))),
        }
    }

    /// The architecture the metadata describes, checked for consistency.
    pub fn arch(&self) -> Result<Arch> {
        let kind = Kind::parse(self.key("kind")?).map_err(|e| model_err(self.path, e.to_string()))?;
        if kind == Kind::SpatialVae {
            return Err(model_err(self.path, "a spatial VAE, where a 32x32 VAE or GAN was expected"));
        }
        let size: u32 = self.number("size")?;
        if !(8..=128).contains(&size) || !size.is_power_of_two() {
            return Err(model_err(self.path, format!("size {size} is not a power of two from 8 to 128")));
        }
        let channels: usize = self.number("channels")?;
        if channels != CHANNELS {
            return Err(model_err(self.path, format!("{channels} channels; kiln models are RGB (3)")));
        }
        let latent: usize = self.number("latent_dim")?;
        if !(1..=1024).contains(&latent) {
            return Err(model_err(self.path, format!("latent_dim {latent} out of range 1..=1024")));
        }
        let width: usize = self.number("width")?;
        if !(1..=256).contains(&width) {
            return Err(model_err(self.path, format!("width {width} out of range 1..=256")));
        }
        let arch = Arch { kind, size, latent, width };
        let expected = arch.metadata();
        for key in ["stages", "channel_plan"] {
            let got = self.key(key)?;
            if got != expected[key] {
                return Err(model_err(
                    self.path,
                    format!("`{key}` is {got}, but size {size} and width {width} mean {}", expected[key]),
                ));
            }
        }
        Ok(arch)
    }

    /// Whether the file holds a tensor named `name`.
    pub fn has_tensor(&self, name: &str) -> bool {
        self.st.tensor(name).is_ok()
    }

    /// Reads the tensors `specs` declares, each stored as `prefix + name`, checking shapes.
    pub fn params(&self, specs: &Specs, prefix: &str, device: &Device) -> Result<Params> {
        let mut vars = BTreeMap::new();
        for (name, spec) in &specs.0 {
            let stored = format!("{prefix}{name}");
            let view =
                self.st.tensor(&stored).map_err(|_| model_err(self.path, format!("tensor `{stored}` is missing")))?;
            let t = self.to_tensor(&stored, &view, Some(&spec.shape), device)?;
            vars.insert(name.clone(), Var::from_tensor(&t).map_err(|e| model_err(self.path, e.to_string()))?);
        }
        Ok(Params::new(vars))
    }

    /// The learned prior the file records, if `prior_components` says it has one.
    pub fn prior(&self, dim: usize) -> Result<Option<Mixture>> {
        if !self.meta.contains_key("prior_components") {
            return Ok(None);
        }
        let k: usize = self.number("prior_components")?;
        if !(1..=1024).contains(&k) {
            return Err(model_err(self.path, format!("prior_components {k} out of range 1..=1024")));
        }
        let read = |name: &str, shape: &[usize]| -> Result<Vec<f32>> {
            let view = self.st.tensor(name).map_err(|_| model_err(self.path, format!("tensor `{name}` is missing")))?;
            let t = self.to_tensor(name, &view, Some(shape), &Device::Cpu)?;
            t.flatten_all().and_then(|t| t.to_vec1()).map_err(|e| model_err(self.path, e.to_string()))
        };
        let weights = read("prior.weights", &[k])?;
        let means = read("prior.means", &[k, dim])?;
        let scale_tril = read("prior.scale_tril", &[k, dim, dim])?;
        Mixture::from_parts(dim, &weights, &means, &scale_tril).map(Some).map_err(|e| model_err(self.path, e))
    }

    /// Restores optimiser `opt`'s state stored under `tag` (see [`Checkpoint::adam`]).
    pub fn restore_adam(&self, tag: &str, opt: &mut Adam, device: &Device) -> Result<()> {
        opt.t = self.number(&format!("{tag}_t"))?;
        opt.m = self.tensors_with_prefix(&format!("{tag}.m."), device)?;
        opt.v = self.tensors_with_prefix(&format!("{tag}.v."), device)?;
        Ok(())
    }

    /// Every tensor whose name starts with `prefix`, prefix stripped (optimiser state).
    pub fn tensors_with_prefix(&self, prefix: &str, device: &Device) -> Result<BTreeMap<String, Tensor>> {
        let mut out = BTreeMap::new();
        for name in self.st.names() {
            if let Some(rest) = name.strip_prefix(prefix) {
                let view = self.st.tensor(name).map_err(|e| model_err(self.path, e.to_string()))?;
                out.insert(rest.to_string(), self.to_tensor(name, &view, None, device)?);
            }
        }
        Ok(out)
    }

    fn to_tensor(&self, name: &str, view: &TensorView<'_>, shape: Option<&[usize]>, device: &Device) -> Result<Tensor> {
        if view.dtype() != Dtype::F32 {
            return Err(model_err(self.path, format!("tensor `{name}` is {:?}, expected F32", view.dtype())));
        }
        if let Some(shape) = shape {
            if view.shape() != shape {
                return Err(model_err(
                    self.path,
                    format!("tensor `{name}` has shape {:?}, expected {shape:?}", view.shape()),
                ));
            }
        }
        let values: Vec<f32> =
            view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if let Some(bad) = values.iter().position(|v| !v.is_finite()) {
            return Err(model_err(self.path, format!("tensor `{name}` holds a non-finite value at {bad}")));
        }
        Tensor::from_vec(values, view.shape(), device).map_err(|e| model_err(self.path, e.to_string()))
    }
}
