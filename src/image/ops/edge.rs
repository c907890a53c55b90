//! Edge modes: what a neighbourhood op reads past the border of an image (DESIGN.md §7,
//! issue 12 §1), and the rule that picks one.
//!
//! Owns: [`Edge`] (read from `"clamp" | "wrap" | "mirror" | "transparent"` by `option_choice!`),
//! [`resolve`] (which mode an op uses), [`Edge::index`] (where a tap past the border reads) and
//! [`Edge::table`] (the same, precomputed for a whole span so inner loops never match on the
//! mode). Must not know about Rhai or any particular filter.
//!
//! The modes, for a row `a b c d`:
//! - `clamp`: `a a | a b c d | d d` (the border pixel extends; ImageMagick `-virtual-pixel edge`);
//! - `wrap`: `c d | a b c d | a b` (the image repeats; Substance/Material Maker's tiling);
//! - `mirror`: `b a | a b c d | d c` (reflected about the pixel edge, the border pixel repeated
//!   once: ImageMagick `-virtual-pixel mirror`, OpenCV `BORDER_REFLECT`, numpy `symmetric`);
//! - `transparent`: `0 0 | a b c d | 0 0` (transparent black; ImageMagick `transparent`). An
//!   opaque image filtered with it gets a translucent border, so ops mix premultiplied then.
//!
//! The rule every op follows ([`resolve`]):
//! 1. an explicit `edge` option always wins;
//! 2. else an image tagged tileable ([`Image::tileable`]) uses `wrap`, so a tiling texture stays
//!    seamless through a blur as it does in Substance Designer;
//! 3. else the op's own default, which is what the op did before edge modes existed (`clamp` for
//!    filters, the background colour — i.e. `transparent` — for affine sampling).
//!
//! The tag itself: a tileable field's render sets it; per-pixel ops (tone, colorize, levels, a
//! blend of two tileable images) and neighbourhood ops that wrapped keep it; crop, resize by a
//! non-integer factor and rotation by a non-right angle drop it. A script reads `img.tileable` and
//! sets it with `img.tileable = true`.

use rayon::prelude::*;

use crate::error::Result;
use crate::image::buffer::{Image, CHANNELS};

/// What a neighbourhood op reads past the border of an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The border pixel extends outwards.
    Clamp,
    /// The image repeats (periodic); keeps tileable images seamless.
    Wrap,
    /// The image is reflected about its border, the border pixel repeated once.
    Mirror,
    /// Transparent black.
    Transparent,
}

crate::option_choice!(Edge { Clamp = "clamp", Wrap = "wrap", Mirror = "mirror", Transparent = "transparent" });

crate::option_set! {
    /// The options of the ops whose only option is the edge mode: `sharpen(amount, #{ ... })`,
    /// `median(radius, #{ ... })`, `edges(#{ ... })`, `emboss(#{ ... })`, `img.field(#{ ... })`,
    /// `displace(..., #{ ... })`. Front ends read it with the calling op's name.
    #[derive(Copy)]
    pub struct EdgeOptions for "edge" {
        /// What the op reads past the border: "clamp", "wrap", "mirror" or "transparent";
        /// default clamp, or wrap for a tileable image.
        edge: Option<Edge> = None;
    }
}

/// The edge mode an op uses on `img`: an explicit `edge` wins, else `wrap` when the image is
/// tagged tileable, else the op's own `default`.
pub fn resolve(explicit: Option<Edge>, img: &Image, default: Edge) -> Edge {
    match explicit {
        Some(e) => e,
        None if img.tileable() => Edge::Wrap,
        None => default,
    }
}

/// Whether an op that used `edge` on a tileable input keeps the tag: only wrapping keeps an
/// image periodic.
pub fn keeps_tileable(edge: Edge, input: &Image) -> bool {
    input.tileable() && edge == Edge::Wrap
}

impl Edge {
    /// The script name of the mode.
    pub fn name(self) -> &'static str {
        match self {
            Edge::Clamp => "clamp",
            Edge::Wrap => "wrap",
            Edge::Mirror => "mirror",
            Edge::Transparent => "transparent",
        }
    }

    /// Where position `i` of a row of `n` (> 0) pixels reads: an index in `0..n`, or `None` for a
    /// transparent pixel. Any `i` is valid, however far outside (wrap and mirror repeat).
    #[inline]
    pub fn index(self, i: i64, n: usize) -> Option<usize> {
        let n = n as i64;
        if (0..n).contains(&i) {
            return Some(i as usize);
        }
        match self {
            Edge::Clamp => Some(i.clamp(0, n - 1) as usize),
            Edge::Wrap => Some(i.rem_euclid(n) as usize),
            Edge::Mirror => {
                // Period 2n: a b c d d c b a | a b c d ...
                let m = i.rem_euclid(2 * n);
                Some(if m < n { m } else { 2 * n - 1 - m } as usize)
            }
            Edge::Transparent => None,
        }
    }

    /// [`Edge::index`] for every position in `lo..hi`, computed once so a hot loop indexes a table
    /// instead of matching on the mode per pixel.
    pub fn table(self, lo: i64, hi: i64, n: usize) -> Vec<Option<usize>> {
        (lo..hi).map(|i| self.index(i, n)).collect()
    }
}

/// `img` extended by `px` pixels left and right and `py` above and below, the new pixels read
/// per `edge`. Budgeted (`Image::new`), parallel over rows, stops on the run's cancel token.
pub fn extend(img: &Image, px: usize, py: usize, edge: Edge) -> Result<Image> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut out = Image::new((w + 2 * px) as u32, (h + 2 * py) as u32)?;
    let stop = crate::cancel::current();
    out.rows_mut().enumerate().for_each(|(y, row)| {
        if stop.is_stopped() {
            return;
        }
        // A transparent row stays as `Image::new` made it.
        if let Some(sy) = edge.index(y as i64 - py as i64, h) {
            row[px * CHANNELS..(px + w) * CHANNELS].copy_from_slice(img.row(sy as u32));
            fill_sides(row, px, w, edge);
        }
    });
    crate::cancel::checkpoint()?;
    Ok(out)
}

/// Runs `op`, a neighbourhood op that clamps at the border and reaches at most `rx` pixels
/// sideways and `ry` up and down, so that it sees `edge` instead; the result keeps the input's
/// tileable tag only for `wrap` ([`keeps_tileable`]).
///
/// `clamp` calls `op` on the image itself, so the clamp path costs exactly what it did. Every
/// other mode extends the image by the reach with [`extend`], runs `op` there and crops the middle
/// back out: within its reach `op` then only reads pixels placed per `edge`, so the result is
/// exact for finite kernels (taps beyond the reach would read the clamped extension; the recursive
/// Gaussian, whose reach is unbounded, passes 5σ, where the Gaussian's remaining tail weighs
/// under 3e-7). The price is one copy of the image grown by the reach, paid only by the
/// non-clamp modes.
pub fn apply<F>(img: &Image, rx: usize, ry: usize, edge: Edge, op: F) -> Result<Image>
where
    F: FnOnce(&Image) -> Result<Image>,
{
    let mut out = if edge == Edge::Clamp || (rx == 0 && ry == 0) {
        op(img)?
    } else {
        let done = op(&extend(img, rx, ry, edge)?)?;
        let (w, h) = (img.width() as usize, img.height() as usize);
        let mut data = Vec::new();
        data.try_reserve_exact(w * h * CHANNELS)
            .map_err(|_| crate::error::Error::Limit(format!("out of memory for a {w}x{h} image")))?;
        data.resize(w * h * CHANNELS, 0.0);
        data.par_chunks_mut(w * CHANNELS).enumerate().for_each(|(y, dst)| {
            dst.copy_from_slice(&done.row((y + ry) as u32)[rx * CHANNELS..(rx + w) * CHANNELS]);
        });
        drop(done);
        Image::from_rgba(w as u32, h as u32, data)?
    };
    out.set_tileable(keeps_tileable(edge, img));
    Ok(out)
}

/// Fills the `pad` pixels on each side of `buf` (a row of `CHANNELS`-float pixels whose middle,
/// from pixel `pad` on, already holds the `n` pixels of the row) from the row itself, per `edge`.
/// Used by every row pass that pads once per row instead of testing indices per tap.
#[inline]
pub fn fill_sides(buf: &mut [f32], pad: usize, n: usize, edge: Edge) {
    const C: usize = CHANNELS;
    if pad == 0 {
        return;
    }
    let mid = pad * C;
    match edge {
        Edge::Clamp => {
            let first: [f32; 4] = [buf[mid], buf[mid + 1], buf[mid + 2], buf[mid + 3]];
            let e = mid + n * C;
            let last: [f32; 4] = [buf[e - 4], buf[e - 3], buf[e - 2], buf[e - 1]];
            for p in buf[..mid].chunks_exact_mut(C) {
                p.copy_from_slice(&first);
            }
            for p in buf[e..].chunks_exact_mut(C) {
                p.copy_from_slice(&last);
            }
        }
        Edge::Transparent => {
            let e = mid + n * C;
            buf[..mid].fill(0.0);
            buf[e..].fill(0.0);
        }
        Edge::Wrap | Edge::Mirror => {
            let total = n + 2 * pad;
            for j in (0..pad).chain(pad + n..total) {
                let s = pad + edge.index(j as i64 - pad as i64, n).unwrap_or(0);
                buf.copy_within(s * C..(s + 1) * C, j * C);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{At, OptionType, OptionValue};

    #[test]
    fn each_mode_indexes_a_four_pixel_row_as_documented() {
        let row = |e: Edge| e.table(-3, 7, 4);
        let s = Some;
        assert_eq!(row(Edge::Clamp), [s(0), s(0), s(0), s(0), s(1), s(2), s(3), s(3), s(3), s(3)]);
        assert_eq!(row(Edge::Wrap), [s(1), s(2), s(3), s(0), s(1), s(2), s(3), s(0), s(1), s(2)]);
        assert_eq!(row(Edge::Mirror), [s(2), s(1), s(0), s(0), s(1), s(2), s(3), s(3), s(2), s(1)]);
        assert_eq!(row(Edge::Transparent), [None, None, None, s(0), s(1), s(2), s(3), None, None, None]);
        // Far outside and a one-pixel row never panic.
        assert_eq!(Edge::Mirror.index(-1_000_000_007, 4), Some(1)); // -1e9-7 ≡ 1 (mod 8)
        assert_eq!(Edge::Wrap.index(i64::MIN + 1, 1), Some(0));
        assert_eq!(Edge::Mirror.index(5, 1), Some(0));
    }

    #[test]
    fn padding_a_row_matches_the_index_rule() {
        let n = 3;
        let pad = 4;
        for edge in [Edge::Clamp, Edge::Wrap, Edge::Mirror, Edge::Transparent] {
            let mut buf = vec![-1f32; (n + 2 * pad) * 4];
            for x in 0..n {
                buf[(pad + x) * 4..(pad + x + 1) * 4].fill(x as f32 + 1.0);
            }
            fill_sides(&mut buf, pad, n, edge);
            let got: Vec<f32> = buf.chunks_exact(4).map(|p| p[0]).collect();
            let want: Vec<f32> = edge
                .table(-(pad as i64), (n + pad) as i64, n)
                .iter()
                .map(|i| i.map_or(0.0, |i| i as f32 + 1.0))
                .collect();
            assert_eq!(got, want, "{edge:?}");
        }
    }

    #[test]
    fn explicit_wins_then_the_tag_then_the_default() {
        let plain = Image::new(2, 2).unwrap();
        let tiled = plain.with_tileable(true);
        assert_eq!(resolve(None, &plain, Edge::Clamp), Edge::Clamp);
        assert_eq!(resolve(None, &tiled, Edge::Clamp), Edge::Wrap);
        assert_eq!(resolve(Some(Edge::Mirror), &tiled, Edge::Clamp), Edge::Mirror);
        assert_eq!(resolve(Some(Edge::Clamp), &tiled, Edge::Transparent), Edge::Clamp);
    }

    #[test]
    fn read_from_words_with_a_did_you_mean() {
        let at = At { op: "blur", key: "edge" };
        assert_eq!(Edge::read(at, &OptionValue::Text("wrap".into())).unwrap(), Edge::Wrap);
        let e = Edge::read(at, &OptionValue::Text("mirorr".into())).unwrap_err().to_string();
        assert!(e.contains("did you mean 'mirror'"), "{e}");
    }
}
