//! The architecture hyper-parameters every model file records, and the channel plan they imply.
//!
//! Owns: [`Arch`]. Both networks go from 4×4 to `size` in ×2 stages; channels double per stage
//! down (halve up) from `width` to at most 8 × `width`.

use std::collections::HashMap;

use super::options::Kind;

/// What a model file must say for its tensors to make sense.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Arch {
    pub kind: Kind,
    /// Image side (power of two, 8..=128).
    pub size: u32,
    /// Latent dimensions.
    pub latent: usize,
    /// Channels of the outermost convolution.
    pub width: usize,
}

/// Image channels (RGB).
pub const CHANNELS: usize = 3;

impl Arch {
    /// ×2 stages between 4×4 and `size`.
    pub fn stages(&self) -> usize {
        (self.size.trailing_zeros() - 2) as usize
    }

    /// An estimate of the bytes a forward pass over `batch` images holds at its peak (`training`:
    /// also the activations kept for the backward pass and their gradients): what a batch reserves
    /// from the memory budget (`crate::memory`) before it runs. Per image, every stage's feature
    /// map counted a few times over (convolution output, normalisation, activation), f32.
    pub fn activation_bytes(&self, batch: usize, training: bool) -> u64 {
        let per_image: u64 = self
            .channels()
            .iter()
            .enumerate()
            .map(|(i, &c)| {
                let side = (self.size >> i).max(4) as u64;
                c as u64 * side * side
            })
            .sum();
        let copies = if training { 12 } else { 4 };
        per_image * batch as u64 * copies * std::mem::size_of::<f32>() as u64
    }

    /// Channels at each resolution, outermost (full size) first, 4×4 last: `stages + 1` entries.
    pub fn channels(&self) -> Vec<usize> {
        let mut ch = vec![self.width];
        for _ in 0..self.stages() {
            let next = (ch.last().unwrap() * 2).min(self.width * 8);
            ch.push(next);
        }
        ch
    }

    /// The metadata entries describing this architecture.
    pub fn metadata(&self) -> HashMap<String, String> {
        HashMap::from([
            ("kind".into(), self.kind.name().into()),
            ("size".into(), self.size.to_string()),
            ("channels".into(), CHANNELS.to_string()),
            ("latent_dim".into(), self.latent.to_string()),
            ("width".into(), self.width.to_string()),
            ("stages".into(), self.stages().to_string()),
            ("channel_plan".into(), self.channels().iter().map(|c| c.to_string()).collect::<Vec<_>>().join(",")),
        ])
    }
}
