//! Sprite atlases: many images packed into one, with the rectangle of each (TexturePacker's job).
//!
//! Packing is the `crunch` crate's (MaxRects-style best-area-fit into a fixed rectangle). Chosen
//! over `rectangle-pack` (needs a bin size and a heuristic search of our own just the same, and
//! places less tightly), `etagere`/`guillotiere` (shelf and guillotine allocators built for
//! *dynamic* GPU atlases that free and reuse space; a static sprite sheet packs tighter with
//! MaxRects, and they pull in `euclid`): crunch is small, has no dependencies, and is
//! deterministic (a stable sort by size, ties in input order, no hashing). Rotation is off:
//! consumers of the rects would have to un-rotate sprites.
//!
//! Layout, as TexturePacker's "shape padding = border padding" and "extrude":
//! - each sprite is repeated outward by `extrude` pixels on every side (its edge pixels copied:
//!   texture filtering at the sprite's border then reads its own colour, not a neighbour's);
//! - `padding` transparent pixels separate the extruded sprites from each other and from the
//!   atlas border;
//! - the reported rect is the sprite itself (without the extruded ring), so UVs are unchanged by
//!   `extrude`.
//!
//! Size: with `power_of_two` the atlas is the smallest power-of-two rectangle (square, or 2:1
//! either way, up to `max_size`) the sprites fit in; otherwise the packer is given growing
//! near-square areas from the sprites' total area up, and the atlas is cropped to what it used.
//! A sprite or a set that cannot fit in `max_size` × `max_size` is an error naming the sizes.
//!
//! Composition is a parallel pass over atlas rows; each pixel is copied, never blended, so the
//! atlas is byte-identical at any thread count.

use rayon::prelude::*;

use crate::error::{Error, Result};
use crate::image::buffer::{Image, CHANNELS};

crate::option_set! {
    /// Options of `atlas(images, #{ ... })`.
    #[derive(Copy)]
    pub struct AtlasOptions for "atlas" {
        /// Transparent pixels between sprites (after extrusion) and around the atlas border.
        padding: u32 = 2, range(0, 4096);
        /// Pixels by which each sprite's edge is repeated outward (against filtering seams).
        extrude: u32 = 0, range(0, 4096);
        /// Make the atlas width and height powers of two.
        power_of_two: bool = false;
        /// The largest width and height the atlas may have.
        max_size: u32 = 4096, range(1, 65536);
    }
}

/// Where one sprite went: its top-left corner and size in the atlas (without the extrusion).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    pub x: u32,
    pub y: u32,
    pub w: u32,
    pub h: u32,
}

/// An atlas image and, in input order, each sprite's place in it.
#[derive(Debug, Clone)]
pub struct Atlas {
    pub image: Image,
    pub rects: Vec<Placed>,
}

/// Packs `sprites` into one image.
pub fn atlas(sprites: &[Image], o: &AtlasOptions) -> Result<Atlas> {
    if sprites.is_empty() {
        return Err(Error::param("atlas", "no images to pack"));
    }
    let (pad, ext) = (o.padding as u64, o.extrude as u64);
    // Each sprite's cell: the extruded sprite plus the padding before it (left and top); the
    // atlas adds one more padding on the right and bottom.
    let cells: Vec<(u64, u64)> =
        sprites.iter().map(|s| (s.width() as u64 + 2 * ext + pad, s.height() as u64 + 2 * ext + pad)).collect();
    let max = o.max_size as u64;
    let room = max.saturating_sub(pad);
    if let Some((i, s)) = sprites.iter().enumerate().find(|(i, _)| cells[*i].0 > room || cells[*i].1 > room) {
        return Err(Error::param(
            "atlas",
            format!(
                "image {i} ({}x{}) does not fit in max_size {max}x{max} with padding {pad} and extrude {ext}",
                s.width(),
                s.height()
            ),
        ));
    }
    let area: u64 = cells.iter().map(|&(w, h)| w * h).sum();
    let too_big = || {
        Error::param(
            "atlas",
            format!(
                "{} images ({} pixels with padding {pad} and extrude {ext}) do not fit in max_size {max}x{max}; raise max_size or pack fewer",
                sprites.len(),
                area
            ),
        )
    };
    if area > room * room {
        return Err(too_big());
    }

    let (size, spots) =
        if o.power_of_two { pack_po2(&cells, pad, max) } else { pack_tight(&cells, pad, room) }.ok_or_else(too_big)?;
    let rects: Vec<Placed> = spots
        .iter()
        .zip(sprites)
        .map(|(&(cx, cy), s)| Placed {
            x: (cx + pad + ext) as u32,
            y: (cy + pad + ext) as u32,
            w: s.width(),
            h: s.height(),
        })
        .collect();
    let image = compose(sprites, &rects, o.extrude, size)?;
    Ok(Atlas { image, rects })
}

/// An atlas size and each cell's top-left corner (before its padding), in input order.
type Packing = ((u32, u32), Vec<(u64, u64)>);

/// Cell positions (top-left, before padding) in input order, or `None` if they do not fit.
fn pack_into(cells: &[(u64, u64)], w: u64, h: u64) -> Option<Vec<(u64, u64)>> {
    let items = cells
        .iter()
        .enumerate()
        .map(|(i, &(cw, ch))| crunch::Item::new(i, cw as usize, ch as usize, crunch::Rotation::None));
    let packed = crunch::pack(crunch::Rect::of_size(w as usize, h as usize), items).ok()?;
    let mut spots = vec![(0, 0); cells.len()];
    for p in packed {
        spots[p.data] = (p.rect.x as u64, p.rect.y as u64);
    }
    Some(spots)
}

/// The smallest power-of-two atlas (ordered by area, squares first) up to `max`.
fn pack_po2(cells: &[(u64, u64)], pad: u64, max: u64) -> Option<Packing> {
    let mut sizes = Vec::new();
    let mut s = 1u64;
    while s <= max {
        sizes.push(s);
        s *= 2;
    }
    let mut candidates: Vec<(u64, u64)> = sizes
        .iter()
        .flat_map(|&w| sizes.iter().map(move |&h| (w, h)))
        .filter(|&(w, h)| w.max(h) <= 2 * w.min(h))
        .collect();
    candidates.sort_by_key(|&(w, h)| (w * h, w.abs_diff(h), std::cmp::Reverse(w)));
    let area: u64 = cells.iter().map(|&(w, h)| w * h).sum();
    for (w, h) in candidates {
        if w <= pad || h <= pad || (w - pad) * (h - pad) < area {
            continue;
        }
        if let Some(spots) = pack_into(cells, w - pad, h - pad) {
            return Some(((w as u32, h as u32), spots));
        }
    }
    None
}

/// Near-square areas growing by 1/16 from the total area up to `room`; the atlas is cropped to
/// the cells' bounding box plus the closing padding.
fn pack_tight(cells: &[(u64, u64)], pad: u64, room: u64) -> Option<Packing> {
    let area: u64 = cells.iter().map(|&(w, h)| w * h).sum();
    let widest = cells.iter().map(|c| c.0).max().unwrap_or(1);
    let tallest = cells.iter().map(|c| c.1).max().unwrap_or(1);
    let mut side = ((area as f64).sqrt().ceil() as u64).max(1);
    loop {
        let (w, h) = (side.max(widest).min(room), side.max(tallest).min(room));
        if w * h >= area {
            if let Some(spots) = pack_into(cells, w, h) {
                let right = spots.iter().zip(cells).map(|(s, c)| s.0 + c.0).max().unwrap_or(0);
                let bottom = spots.iter().zip(cells).map(|(s, c)| s.1 + c.1).max().unwrap_or(0);
                return Some((((right + pad) as u32, (bottom + pad) as u32), spots));
            }
        }
        if w == room && h == room {
            return None;
        }
        side += (side / 16).max(1);
    }
}

/// Draws each sprite and its extruded ring at its rect.
fn compose(sprites: &[Image], rects: &[Placed], extrude: u32, (w, h): (u32, u32)) -> Result<Image> {
    let e = extrude as i64;
    let stop = crate::cancel::current();
    let mut out = Image::new(w, h)?;
    out.rows_mut().enumerate().for_each(|(y, row)| {
        if stop.is_stopped() {
            return;
        }
        let y = y as i64;
        for (s, r) in sprites.iter().zip(rects) {
            let (rx, ry, rw, rh) = (r.x as i64, r.y as i64, r.w as i64, r.h as i64);
            if y < ry - e || y >= ry + rh + e {
                continue;
            }
            let src = s.row((y - ry).clamp(0, rh - 1) as u32);
            for x in rx - e..rx + rw + e {
                let sx = (x - rx).clamp(0, rw - 1) as usize * CHANNELS;
                let dx = x as usize * CHANNELS;
                row[dx..dx + CHANNELS].copy_from_slice(&src[sx..sx + CHANNELS]);
            }
        }
    });
    stop.check()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::Color;

    /// Sprites of assorted sizes, each a distinct colour with a marked top-left pixel.
    fn sprites() -> Vec<Image> {
        let sizes = [(13, 7), (5, 5), (20, 3), (1, 1), (8, 16), (9, 9), (2, 30), (11, 4)];
        sizes
            .iter()
            .enumerate()
            .map(|(i, &(w, h))| {
                let c = (i as f32 + 1.0) / 10.0;
                Image::from_fn(
                    w,
                    h,
                    |x, y| if x == 0 && y == 0 { [1.0, 1.0, 1.0, 1.0] } else { [c, 1.0 - c, 0.5, 1.0] },
                )
                .unwrap()
            })
            .collect()
    }

    fn grown(r: &Placed, by: u32) -> (i64, i64, i64, i64) {
        let b = by as i64;
        (r.x as i64 - b, r.y as i64 - b, r.x as i64 + r.w as i64 + b, r.y as i64 + r.h as i64 + b)
    }

    fn check_layout(o: &AtlasOptions) -> Atlas {
        let input = sprites();
        let a = atlas(&input, o).unwrap();
        let (w, h) = a.image.dimensions();
        let (pad, ext) = (o.padding as i64, o.extrude as i64);
        for (i, r) in a.rects.iter().enumerate() {
            assert_eq!((r.w, r.h), input[i].dimensions());
            // Inside the atlas, with the padding to the border.
            let (x0, y0, x1, y1) = grown(r, o.extrude);
            assert!(
                x0 >= pad && y0 >= pad && x1 + pad <= w as i64 && y1 + pad <= h as i64,
                "rect {i} {r:?} in {w}x{h}"
            );
            // No overlap, and at least `padding` between extruded sprites.
            for (j, q) in a.rects.iter().enumerate().skip(i + 1) {
                let (a0, b0, a1, b1) = grown(q, o.extrude);
                let apart = x1 + pad <= a0 || a1 + pad <= x0 || y1 + pad <= b0 || b1 + pad <= y0;
                assert!(apart, "rects {i} {r:?} and {j} {q:?} closer than padding {pad} (extrude {ext})");
            }
            // The sprite's pixels are there unchanged.
            for y in 0..r.h {
                for x in 0..r.w {
                    assert_eq!(a.image.get((r.x + x) as i64, (r.y + y) as i64), input[i].get(x as i64, y as i64));
                }
            }
        }
        a
    }

    #[test]
    fn sprites_do_not_overlap_and_keep_the_padding() {
        for padding in [0, 1, 3] {
            for extrude in [0, 2] {
                check_layout(&AtlasOptions { padding, extrude, ..AtlasOptions::default() });
            }
        }
    }

    #[test]
    fn extruded_pixels_repeat_the_nearest_edge_pixel() {
        let o = AtlasOptions { padding: 1, extrude: 2, ..AtlasOptions::default() };
        let input = sprites();
        let a = check_layout(&o);
        for (r, s) in a.rects.iter().zip(&input) {
            let (x0, y0, x1, y1) = grown(r, 2);
            for y in y0..y1 {
                for x in x0..x1 {
                    let sx = (x - r.x as i64).clamp(0, r.w as i64 - 1);
                    let sy = (y - r.y as i64).clamp(0, r.h as i64 - 1);
                    assert_eq!(a.image.get(x, y), s.get(sx, sy), "({x}, {y})");
                }
            }
            // Just outside the extrusion: padding, transparent.
            assert_eq!(a.image.get(x0 - 1, y0), Some(Color::TRANSPARENT));
        }
    }

    #[test]
    fn power_of_two_sizes() {
        let a = check_layout(&AtlasOptions { power_of_two: true, ..AtlasOptions::default() });
        let (w, h) = a.image.dimensions();
        assert!(w.is_power_of_two() && h.is_power_of_two(), "{w}x{h}");
    }

    #[test]
    fn the_result_is_deterministic() {
        let o = AtlasOptions::default();
        let a = atlas(&sprites(), &o).unwrap();
        let b = atlas(&sprites(), &o).unwrap();
        assert_eq!(a.rects, b.rects);
        assert!(a.image == b.image);
    }

    #[test]
    fn too_small_a_max_size_names_the_sizes() {
        let big = vec![Image::new(40, 10).unwrap()];
        let e = atlas(&big, &AtlasOptions { max_size: 32, ..AtlasOptions::default() }).unwrap_err();
        assert_eq!(e.to_string(), "atlas: image 0 (40x10) does not fit in max_size 32x32 with padding 2 and extrude 0");
        let many = vec![Image::new(10, 10).unwrap(); 20];
        let e = atlas(&many, &AtlasOptions { max_size: 32, padding: 0, ..AtlasOptions::default() }).unwrap_err();
        assert!(e.to_string().starts_with("atlas: 20 images (2000 pixels"), "{e}");
        assert!(atlas(&[], &AtlasOptions::default()).is_err());
    }
}
