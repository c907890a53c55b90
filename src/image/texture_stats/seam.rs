//! The wrap-seam metric: how visible the edge is when an image is tiled. kiln's one definition,
//! used by the field, surface, edge and material tests and by `seam_score` / `kiln texture-stats`.
//!
//! On one channel: `wrap` is the larger of the mean |difference| across the two wrap edges (last
//! column to first column, last row to first row); `inner` is the largest mean |difference|
//! between any two neighbouring columns or rows inside the image. Tiling puts the wrap edges next
//! to each other, so in a tileable image they are just one more pair of neighbours: `wrap` is at
//! most about `inner`. A seam makes `wrap` several times `inner`.
//!
//! The threshold the tests use is [`TILEABLE_RATIO`] = 1.25: the wrap edge is one more sample
//! of the neighbour difference, so by chance it may be the largest of them, and 1.25× the
//! interior maximum leaves room for that while a real seam is several times larger
//! (`field::noise::tests::non_tileable_noise_shows_a_seam` is the control).
//!
//! Why the maximum and not the mean of the interior: with the mean, a tileable image's ratio
//! spreads around 1 and any threshold near 1 fails half the tileable images; the maximum makes
//! "tileable" a one-sided test. A tileable texture scores a little under 1 (0.5 to 1.0 on kiln's
//! materials, tileable fields and texture-synthesis's `--tiling` output), one with a seam well
//! over 1.25 (4.6 for the same fBm field rendered without `tileable`).
//!
//! Must not know about fields, models or Rhai.

use crate::image::Image;

/// A tileable image has `wrap <= TILEABLE_RATIO × inner` on every colour channel.
pub const TILEABLE_RATIO: f64 = 1.25;

/// Interior differences below this count as flat (a constant image): the ratio's denominator
/// never goes under it, so the score stays finite (0 for a constant image).
const FLAT: f64 = 1e-6;

/// The two numbers of the seam metric on one channel (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Seam {
    /// Mean |difference| across the wrap edge (the larger of columns and rows).
    pub wrap: f64,
    /// The largest mean |difference| between neighbouring columns or rows inside the image.
    pub inner: f64,
}

impl Seam {
    /// The metric on a row-major `width × height` plane of one channel. A plane one pixel wide or
    /// high has no interior in that direction (its wrap edge there is the pixel itself, 0).
    pub fn of_plane(v: &[f32], width: usize, height: usize) -> Seam {
        let (w, h) = (width, height);
        if w == 0 || h == 0 || v.len() < w * h {
            return Seam { wrap: 0.0, inner: 0.0 };
        }
        // Column sums in one pass over the rows (cache-friendly): col[x] = Σ_y |v(x) - v(x+1)|,
        // col[w-1] the wrap pair (w-1, 0).
        let mut col = vec![0f64; w];
        let mut row = vec![0f64; h];
        for y in 0..h {
            let r = &v[y * w..(y + 1) * w];
            for x in 0..w {
                col[x] += (r[x] - r[(x + 1) % w]).abs() as f64;
            }
            let below = &v[((y + 1) % h) * w..((y + 1) % h + 1) * w];
            row[y] = r.iter().zip(below).map(|(a, b)| (a - b).abs() as f64).sum::<f64>() / w as f64;
        }
        col.iter_mut().for_each(|c| *c /= h as f64);
        let wrap = col[w - 1].max(row[h - 1]);
        let inner = col[..w - 1].iter().chain(&row[..h - 1]).fold(0f64, |a, &b| a.max(b));
        Seam { wrap, inner }
    }

    /// The metric on channel `c` (0 red .. 3 alpha) of `img`.
    pub fn of_channel(img: &Image, c: usize) -> Seam {
        let v: Vec<f32> = img.pixels().chunks_exact(4).map(|p| p[c.min(3)]).collect();
        Seam::of_plane(&v, img.width() as usize, img.height() as usize)
    }

    /// `wrap / inner`: about 1 or below for a tileable image, well above [`TILEABLE_RATIO`] for
    /// a seam; 0 for a constant image.
    pub fn ratio(&self) -> f64 {
        self.wrap / self.inner.max(FLAT)
    }

    /// Whether the wrap edge is no larger than an interior one by the tests' margin:
    /// `wrap <= TILEABLE_RATIO × inner` (a flat image tiles).
    pub fn tileable(&self) -> bool {
        self.wrap <= TILEABLE_RATIO * self.inner + FLAT
    }
}

/// How visible the wrap seam of `img` is when tiled: the largest [`Seam::ratio`] over the red,
/// green and blue channels (alpha is not looked at). About 1 or below means it tiles; above
/// [`TILEABLE_RATIO`] (1.25) there is a seam.
pub fn seam_score(img: &Image) -> f64 {
    (0..3).map(|c| Seam::of_channel(img, c).ratio()).fold(0f64, f64::max)
}
