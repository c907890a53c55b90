//! Stand-in for `image::ops::edge` (branch `edge`) until it is merged: the same names, so the
//! swap is one `use` line. Edge modes for neighbourhood reads.

use crate::image::buffer::Image;

/// What a neighbourhood read outside the image sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// The border pixel extends outwards.
    Clamp,
    /// The image repeats (tileable images).
    Wrap,
    /// The image is reflected at its border (the border pixel is not repeated).
    Mirror,
    /// Nothing (zero) outside.
    Transparent,
}

crate::option_choice!(Edge { Clamp = "clamp", Wrap = "wrap", Mirror = "mirror", Transparent = "transparent" });

/// The edge mode an op uses: the one asked for, else `Clamp` (`Wrap` for tileable images once the
/// tag exists).
pub fn resolve(edge: Option<Edge>, _img: &Image) -> Edge {
    edge.unwrap_or(Edge::Clamp)
}

impl Edge {
    /// The source index for coordinate `i` on an axis of `n` pixels; `None` reads zero.
    #[inline]
    pub fn index(self, i: i64, n: usize) -> Option<usize> {
        let n = n as i64;
        if (0..n).contains(&i) {
            return Some(i as usize);
        }
        Some(match self {
            Edge::Clamp => i.clamp(0, n - 1),
            Edge::Wrap => i.rem_euclid(n),
            Edge::Mirror => {
                if n == 1 {
                    0
                } else {
                    let p = 2 * (n - 1);
                    let m = i.rem_euclid(p);
                    if m < n {
                        m
                    } else {
                        p - m
                    }
                }
            }
            Edge::Transparent => return None,
        } as usize)
    }
}
