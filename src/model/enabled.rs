//! The public model handle when kiln is built with `ml`: load, save, sample, encode, decode.
//!
//! Owns: [`Model`] and the per-process cache of loaded files (keyed by path, modification time
//! and length, so a retrained file is picked up in watch mode and an unchanged one is not read
//! twice). `disabled.rs` has the same API for builds without `ml`.
//!
//! A spatial VAE (`spatial/`) lives in the same handle as `Net::Spatial`: `encode_map`,
//! `decode_map` and `reconstruct` are its calls; `sample`, `decode` (of a latent vector) and
//! `encode` refuse it with an error naming its kind, as `encode_map`/`decode_map` refuse the
//! 32² kinds.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, LazyLock, Mutex};
use std::time::SystemTime;

use candle_core::{Device, Tensor};

use super::arch::Arch;
use super::gan::Generator;
use super::io::{self, File};
use super::latent::Latent;
use super::latent_map::LatentMap;
use super::nn::{Params, Specs};
use super::options::Kind;
use super::prior::Mixture;
use super::spatial::{arch::SpatialArch, infer, net::SpatialNet};
use super::stream::Stream;
use super::tensor::{batch_tensor, fit_planar, tensor_images};
use super::texture::{self, TextureArch};
use super::texture_options::{TextureMix, TextureSample};
use super::vae::Vae;
use super::{ml_err, stdlib};
use crate::error::{Error, Result};
use crate::image::Image;
use crate::rng::Rng;

/// Images decoded per forward pass (bounds memory for large `sample(n)`).
const CHUNK: usize = 64;

/// A trained VAE or GAN, cheap to clone (Arc).
///
/// ```no_run
/// use kiln::Model;
/// let m = Model::load("std/materials_vae".as_ref())?;
/// let tiles = m.sample(4, 7)?;
/// let z = m.encode(&tiles[0])?;
/// let back = m.decode(&z.scale(0.8))?;
/// assert_eq!(back.width(), m.size());
/// # Ok::<(), kiln::Error>(())
/// ```
#[derive(Clone)]
pub struct Model {
    inner: Arc<Inner>,
}

struct Inner {
    arch: Arch,
    net: Net,
    /// For a GAN: the moving average of the generator, which is what samples come from.
    params: Params,
    device: Device,
    steps: u64,
    meta: HashMap<String, String>,
    /// Where `sample` and `latent` draw from: a fitted mixture (VAEs trained by this kiln), or
    /// the standard normal when `None`.
    prior: Option<Mixture>,
}

enum Net {
    Vae(Vae),
    Gan(Generator),
    /// A texture generator; `Inner::arch` then holds only its kind and width.
    Texture(Box<texture::Generator>, TextureArch),
    // ---- spatial VAE (src/model/spatial/); `Inner::arch` is then `SpatialArch::handle_arch` ----
    Spatial(Box<SpatialNet>),
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let a = &self.inner.arch;
        if let Net::Texture(_, t) = &self.inner.net {
            let n = t.textures.len();
            return write!(
                f,
                "Model(texture_gan, {n} texture{}, width {}, any size in multiples of 8, {} steps)",
                if n == 1 { "" } else { "s" },
                t.width,
                self.inner.steps
            );
        }
        if let Net::Spatial(net) = &self.inner.net {
            let s = net.arch;
            return write!(
                f,
                "Model(spatial_vae 1/{} x {} channels, width {}, {} blocks, {} steps)",
                s.factor, s.latent, s.width, s.blocks, self.inner.steps
            );
        }
        write!(
            f,
            "Model({} {}x{}, latent {}, width {}, {} steps",
            a.kind, a.size, a.size, a.latent, a.width, self.inner.steps
        )?;
        match &self.inner.prior {
            Some(prior) => write!(f, ", {}-component prior)", prior.components()),
            None => write!(f, ")"),
        }
    }
}

type CacheKey = (PathBuf, Option<SystemTime>, u64);
static CACHE: LazyLock<Mutex<HashMap<PathBuf, (CacheKey, Model)>>> = LazyLock::new(Default::default);

impl Model {
    /// Loads a model file, or a shipped model with `"std/<name>"`. Cached by path, modification
    /// time and length.
    pub fn load(path: &Path) -> Result<Model> {
        if let Some(name) = path.to_str().and_then(|p| p.strip_prefix("std/")) {
            let bytes = stdlib::model_bytes(name)?;
            let key: CacheKey = (path.to_path_buf(), None, bytes.len() as u64);
            return Self::cached(path, key, || Model::from_bytes(bytes, path));
        }
        let info = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
        let key: CacheKey = (path.to_path_buf(), info.modified().ok(), info.len());
        Self::cached(path, key, || {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            Model::from_bytes(&bytes, path)
        })
    }

    fn cached(path: &Path, key: CacheKey, load: impl FnOnce() -> Result<Model>) -> Result<Model> {
        let canonical = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if let Some((k, m)) = CACHE.lock().unwrap_or_else(|e| e.into_inner()).get(&canonical) {
            if *k == key {
                return Ok(m.clone());
            }
        }
        let model = load()?;
        CACHE.lock().unwrap_or_else(|e| e.into_inner()).insert(canonical, (key, model.clone()));
        Ok(model)
    }

    /// Parses a model file's bytes; `name` is used in errors.
    pub fn from_bytes(bytes: &[u8], name: &Path) -> Result<Model> {
        let file = File::parse(bytes, name)?;
        if file.key("kind")? == Kind::TextureGan.name() {
            let t = TextureArch::from_file(&file)?;
            let mut specs = Specs::default();
            let g = texture::Generator::new(&t, &mut specs);
            let params = file.params(&specs, "", &Device::Cpu)?;
            let steps = file.number_or("steps", 0u64)?;
            return Ok(Model::texture(t, g, params, Device::Cpu, steps, file.meta.clone()));
        }
        if file.key("kind")? == Kind::SpatialVae.name() {
            let arch = SpatialArch::from_metadata(&file.meta, name)?;
            let mut specs = Specs::default();
            let net = SpatialNet::new(&arch, &mut specs);
            let params = file.params(&specs, "", &Device::Cpu)?;
            let steps = file.number_or("steps", 0u64)?;
            return Ok(Model::spatial(net, params, Device::Cpu, steps, file.meta.clone()));
        }
        let arch = file.arch()?;
        let steps = file.number_or("steps", 0u64)?;
        let mut specs = Specs::default();
        let net = match arch.kind {
            Kind::Vae => Net::Vae(Vae::new(&arch, &mut specs)),
            Kind::Gan | Kind::TextureGan | Kind::SpatialVae => Net::Gan(Generator::new(&arch, &mut specs)),
        };
        let params = file.params(&specs, "", &Device::Cpu)?;
        let prior = file.prior(arch.latent)?;
        let meta = file.meta.clone();
        Ok(Model { inner: Arc::new(Inner { arch, net, params, device: Device::Cpu, steps, meta, prior }) })
    }

    /// A model from trained parameters (for a GAN: the generator's moving average), drawing its
    /// latents from `prior` (the standard normal when `None`).
    pub(crate) fn from_params(
        arch: Arch,
        params: Params,
        device: Device,
        steps: u64,
        meta: HashMap<String, String>,
        prior: Option<Mixture>,
    ) -> Model {
        let mut specs = Specs::default();
        let net = match arch.kind {
            Kind::Vae => Net::Vae(Vae::new(&arch, &mut specs)),
            Kind::Gan | Kind::TextureGan | Kind::SpatialVae => Net::Gan(Generator::new(&arch, &mut specs)),
        };
        Model { inner: Arc::new(Inner { arch, net, params, device, steps, meta, prior }) }
    }

    /// A texture model from its generator's (moving-average) parameters.
    pub(crate) fn from_texture(
        t: TextureArch,
        params: Params,
        device: Device,
        steps: u64,
        meta: HashMap<String, String>,
    ) -> Model {
        let g = texture::Generator::new(&t, &mut Specs::default());
        Model::texture(t, g, params, device, steps, meta)
    }

    fn texture(
        t: TextureArch,
        g: texture::Generator,
        params: Params,
        device: Device,
        steps: u64,
        meta: HashMap<String, String>,
    ) -> Model {
        let arch = Arch { kind: Kind::TextureGan, size: t.patch, latent: t.global, width: t.width };
        let net = Net::Texture(Box::new(g), t);
        Model { inner: Arc::new(Inner { arch, net, params, device, steps, meta, prior: None }) }
    }

    /// The names of a texture model's exemplars, in label order (empty for other kinds).
    pub fn textures(&self) -> &[String] {
        match &self.inner.net {
            Net::Texture(_, t) => &t.textures,
            _ => &[],
        }
    }

    /// A texture of any size (texture models only): `opts` gives the size, seed and tiling,
    /// `mix` which exemplar or blend of exemplars. `opts.seed` absent means seed 0.
    pub fn sample_texture(&self, opts: &TextureSample, mix: &TextureMix) -> Result<Image> {
        match &self.inner.net {
            Net::Texture(g, t) => {
                texture::draw(g, &self.inner.params, t, opts, mix, opts.seed.unwrap_or(0), &self.inner.device)
            }
            _ => Err(self.wrong_kind("sample(#{ width, height })", "a texture_gan")),
        }
    }

    /// The error for a call that does not fit this model's kind.
    fn wrong_kind(&self, call: &str, needs: &str) -> Error {
        let hint = match self.kind() {
            Kind::TextureGan => "; a texture_gan draws with m.sample(#{ width, height, seed, tileable })",
            Kind::Vae => "; a vae has sample(n, seed), latent, encode, decode, reconstruct",
            Kind::Gan => "; a gan has sample(n, seed), latent, decode",
            Kind::SpatialVae => "; a spatial_vae has encode(img) and decode(map) at any size",
        };
        Error::param(call, format!("this model's kind is \"{}\"; {call} needs {needs}{hint}", self.kind()))
    }

    /// A spatial VAE from trained parameters.
    pub(crate) fn from_spatial(
        arch: SpatialArch,
        params: Params,
        device: Device,
        steps: u64,
        meta: HashMap<String, String>,
    ) -> Model {
        Model::spatial(SpatialNet::new(&arch, &mut Specs::default()), params, device, steps, meta)
    }

    fn spatial(net: SpatialNet, params: Params, device: Device, steps: u64, meta: HashMap<String, String>) -> Model {
        let arch = net.arch.handle_arch();
        let net = Net::Spatial(Box::new(net));
        Model { inner: Arc::new(Inner { arch, net, params, device, steps, meta, prior: None }) }
    }

    /// The spatial VAE's network, or an error for `op` naming this model's kind.
    fn spatial_net(&self, op: &str) -> Result<&SpatialNet> {
        match &self.inner.net {
            Net::Spatial(net) => Ok(net),
            _ => Err(Error::param(
                op,
                format!(
                    "this model's kind is \"{}\"; {op} of a latent map needs a \"spatial_vae\" (a {} encodes to and decodes from a latent vector)",
                    self.kind(),
                    self.kind()
                ),
            )),
        }
    }

    /// Refuses `op` on a spatial VAE, which has no latent vector and no fixed size.
    fn not_spatial(&self, op: &str) -> Result<()> {
        match &self.inner.net {
            Net::Spatial(_) => Err(spatial_refusal(op)),
            _ => Ok(()),
        }
    }

    /// Spatial VAE: the latent map (the encoder's mean) of `img`, any size. Sides that are not
    /// multiples of 8 are padded by reflection; the map remembers the original size and
    /// [`Model::decode_map`] crops back to it. Large images run in overlapping tiles, so memory
    /// stays bounded (see `spatial/infer.rs`).
    pub fn encode_map(&self, img: &Image) -> Result<LatentMap> {
        let net = self.spatial_net("encode")?;
        infer::encode_map(net, &self.inner.params, &self.inner.device, img)
    }

    /// Spatial VAE: the image of a latent map, factor × its size (cropped to the size of the
    /// image it was encoded from, when it remembers one).
    pub fn decode_map(&self, map: &LatentMap) -> Result<Image> {
        let net = self.spatial_net("decode")?;
        infer::decode_map(net, &self.inner.params, &self.inner.device, map)
    }

    /// Spatial VAE: image pixels per latent pixel along each side (4 or 8); `None` for the
    /// other kinds.
    pub fn factor(&self) -> Option<u32> {
        match &self.inner.net {
            Net::Spatial(net) => Some(net.arch.factor),
            _ => None,
        }
    }

    /// The tensors a model file holds.
    pub(crate) fn tensors(&self) -> Result<BTreeMap<String, Tensor>> {
        let mut tensors: BTreeMap<String, Tensor> =
            self.inner.params.vars.iter().map(|(k, v)| (k.clone(), v.as_tensor().clone())).collect();
        if let Some(prior) = &self.inner.prior {
            tensors.extend(prior.tensors().map_err(ml_err)?);
        }
        Ok(tensors)
    }

    /// The metadata a model file records.
    pub(crate) fn file_metadata(&self) -> HashMap<String, String> {
        let mut meta = self.inner.meta.clone();
        match &self.inner.net {
            Net::Texture(_, t) => meta.extend(t.metadata()),
            Net::Spatial(net) => meta.extend(net.arch.metadata()),
            _ => meta.extend(self.inner.arch.metadata()),
        }
        meta.insert("steps".into(), self.inner.steps.to_string());
        match &self.inner.prior {
            Some(prior) => meta.insert("prior_components".into(), prior.components().to_string()),
            None => meta.remove("prior_components"),
        };
        meta
    }

    /// Writes the model to `path` (safetensors with metadata), atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        io::write(path, &self.tensors()?, self.file_metadata())
    }

    /// `Kind::Vae`, `Kind::Gan` or `Kind::SpatialVae`.
    pub fn kind(&self) -> Kind {
        self.inner.arch.kind
    }

    /// Side of the square images it makes (a spatial VAE: 8, the multiple its image sides are
    /// padded to).
    pub fn size(&self) -> u32 {
        self.inner.arch.size
    }

    /// Latent dimensions (a spatial VAE: channels of its latent map).
    pub fn latent_dim(&self) -> usize {
        self.inner.arch.latent
    }

    /// Channels of the outermost convolution.
    pub fn width(&self) -> usize {
        self.inner.arch.width
    }

    /// Training steps behind these weights.
    pub fn steps(&self) -> u64 {
        self.inner.steps
    }

    /// Number of weights.
    pub fn parameter_count(&self) -> usize {
        self.inner.params.count()
    }

    /// A metadata value of the file it came from (for example "kiln_version").
    pub fn metadata(&self, key: &str) -> Option<&str> {
        self.inner.meta.get(key).map(String::as_str)
    }

    /// Components of the Gaussian mixture that `sample` and `latent` draw from, or 0 when they
    /// draw from the standard normal (every GAN, and VAEs trained with `prior: 0`).
    pub fn prior_components(&self) -> usize {
        self.inner.prior.as_ref().map_or(0, Mixture::components)
    }

    /// A latent drawn for `seed` from the model's prior (see [`Model::prior_components`]):
    /// `decode(latent(s))` is `sample(1, s)[0]`. VAE and GAN only: a spatial VAE has no latent
    /// vector, and `decode` refuses what this draws for one.
    pub fn latent(&self, seed: u64) -> Latent {
        self.draw(seed, 0)
    }

    /// Latent `i` of the draws for `seed`.
    fn draw(&self, seed: u64, i: u64) -> Latent {
        let mut rng = Rng::stream(seed, Stream::Sample(i).id());
        match &self.inner.prior {
            Some(prior) => Latent::new(prior.draw(&mut rng)),
            None => Latent::new(rng.normals(self.latent_dim())),
        }
    }

    /// `n` images from latents drawn with `seed` from the model's prior (image i from stream i,
    /// so the first images do not change when `n` grows).
    pub fn sample(&self, n: usize, seed: u64) -> Result<Vec<Image>> {
        self.not_spatial("sample")?;
        if let Net::Texture(..) = self.inner.net {
            return Err(self.wrong_kind("sample(n, seed)", "a vae or a gan"));
        }
        let latents: Vec<Latent> = (0..n as u64).map(|i| self.draw(seed, i)).collect();
        self.decode_batch(&latents)
    }

    /// The image for one latent.
    pub fn decode(&self, z: &Latent) -> Result<Image> {
        Ok(self.decode_batch(std::slice::from_ref(z))?.remove(0))
    }

    /// The images for several latents, decoded in batches.
    pub fn decode_batch(&self, latents: &[Latent]) -> Result<Vec<Image>> {
        self.not_spatial("decode")?;
        if let Net::Texture(..) = self.inner.net {
            return Err(self.wrong_kind("decode", "a vae or a gan"));
        }
        let dim = self.latent_dim();
        if let Some(bad) = latents.iter().find(|z| z.len() != dim) {
            return Err(Error::param("decode", format!("latent has {} dimensions, the model takes {dim}", bad.len())));
        }
        if latents.iter().any(|z| z.values().iter().any(|v| !v.is_finite())) {
            return Err(Error::param("decode", "latent holds NaN or infinity"));
        }
        let mut out = Vec::with_capacity(latents.len());
        for chunk in latents.chunks(CHUNK) {
            let _held = self.batch_memory(chunk.len(), "decode")?;
            let values: Vec<f32> = chunk.iter().flat_map(|z| z.values().iter().copied()).collect();
            let z = Tensor::from_vec(values, (chunk.len(), dim), &self.inner.device).map_err(ml_err)?;
            let p = &self.inner.params;
            let images = match &self.inner.net {
                Net::Vae(vae) => vae.decode(p, &z),
                Net::Gan(g) => g.forward(p, &z).and_then(|y| y.affine(0.5, 0.5)),
                Net::Texture(..) => Err(candle_core::Error::Msg("a texture model has no latent decoder".into())),
                Net::Spatial(_) => Err(candle_core::Error::Msg("a spatial VAE has no latent vector".into())),
            }
            .map_err(ml_err)?;
            out.extend(tensor_images(&images)?);
        }
        Ok(out)
    }

    /// Between batches: stops if the run was cancelled or ran out of time, then reserves the
    /// batch's activations from the memory budget (held until the returned receipt drops).
    fn batch_memory(&self, n: usize, op: &str) -> Result<crate::memory::Reservation> {
        crate::cancel::checkpoint()?;
        let bytes = self.inner.arch.activation_bytes(n, false);
        crate::memory::reserve(bytes, &format!("{op} of a batch of {n}"))
    }

    fn vae(&self, op: &str) -> Result<&Vae> {
        match &self.inner.net {
            Net::Vae(v) => Ok(v),
            Net::Spatial(_) => Err(spatial_refusal(op)),
            _ => Err(self.wrong_kind(op, "a vae (a GAN has no encoder)")),
        }
    }

    /// The latent mean μ of `img` (VAE only); the image is centre-cropped to a square and
    /// resized to the model's size first.
    pub fn encode(&self, img: &Image) -> Result<Latent> {
        Ok(self.encode_batch(std::slice::from_ref(img))?.remove(0))
    }

    /// `encode` for several images at once.
    pub fn encode_batch(&self, images: &[Image]) -> Result<Vec<Latent>> {
        let vae = self.vae("encode")?;
        let mut out = Vec::with_capacity(images.len());
        for chunk in images.chunks(CHUNK) {
            let _held = self.batch_memory(chunk.len(), "encode")?;
            let planar: Vec<Vec<f32>> = chunk.iter().map(|img| fit_planar(img, self.size())).collect();
            let refs: Vec<&[f32]> = planar.iter().map(Vec::as_slice).collect();
            let x = batch_tensor(&refs, self.size(), &self.inner.device)?;
            let (mu, _) = vae.encode(&self.inner.params, &x).map_err(ml_err)?;
            let rows: Vec<Vec<f32>> = mu.to_vec2().map_err(ml_err)?;
            out.extend(rows.into_iter().map(Latent::new));
        }
        Ok(out)
    }

    /// decode(encode(img)) (VAE only), at the model's size; for a spatial VAE
    /// `decode_map(encode_map(img))` at the image's size.
    pub fn reconstruct(&self, img: &Image) -> Result<Image> {
        if let Net::Spatial(_) = &self.inner.net {
            return self.decode_map(&self.encode_map(img)?);
        }
        self.vae("reconstruct")?;
        self.decode(&self.encode(img)?)
    }
}

/// The error for `op`, a call of the 32² models, on a spatial VAE.
fn spatial_refusal(op: &str) -> Error {
    Error::param(
        op,
        format!(
            "this model's kind is \"spatial_vae\", which has no latent vector; {op} needs a \"vae\" or \"gan\" (a spatial VAE encodes images to latent maps and decodes those)"
        ),
    )
}

/// Forgets every cached model (tests; the cache already notices changed files by itself).
pub fn clear_model_cache() {
    CACHE.lock().unwrap_or_else(|e| e.into_inner()).clear();
}
