//! Regular patterns and shapes as functions of (u, v): checker, stripes, bricks, tiles, dots,
//! Voronoi cells, gradients and signed-distance shapes.
//!
//! Owns: [`Pattern`] and its validating constructors, and the option sets of the patterns that
//! take options ([`Bricks`], [`Tiles`], [`Dots`], [`Voronoi`], [`GradientRadial`]): their
//! defaults, key lists and ranges, declared with `crate::option_set!`, each a [`Source`] that
//! builds its field. Must not know about pixels or Rhai.
//!
//! A new pattern with options is a [`Pattern`] variant with its arm in [`Pattern::eval`], and its
//! option set with a [`Source`] impl here; its script binding is one registration line.
//!
//! Every pattern returns values in [0, 1]. Counts are per image side, so with whole counts every
//! pattern tiles (bricks need an even number of rows for the half-brick offset to line up).
//! Shapes return `clamp(0.5 + d, 0, 1)` where `d` is the signed distance in uv units (negative
//! inside): the outline sits at 0.5, so `1 - shape.smoothstep(0.5 - e, 0.5 + e)` is an
//! antialiased fill for an edge `e` (about one pixel: 1 / size).

use crate::error::{finite, Error, Result};
use crate::field::noise::worley::nearest;
use crate::field::noise::{fold_seed, hash, NoiseOptions, MAX_SCALE};
use crate::field::{Field, Source};

/// What a brick, tile or cell pattern returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellOutput {
    /// 0 in the mortar, rising over the bevel to 1 on the face.
    Height,
    /// 1 on the face, 0 in the mortar.
    Mask,
    /// A random value in [0, 1) per brick, for colour variation.
    Id,
}

crate::option_choice!(CellOutput { Height = "height", Mask = "mask", Id = "id" });

crate::option_set! {
    /// Bricks (`bricks(#{ ... })`): `rows` × `cols` cells, every other row shifted by `offset`
    /// of a brick. With `offset` 0 they are tiles.
    pub struct Bricks for "bricks" {
        /// Rows of bricks down the image, over 0 (tiles when even).
        rows: f64 = 8.0;
        /// Bricks across the image, over 0.
        cols: f64 = 4.0;
        /// Mortar width as a fraction of the row height, at least 0.
        mortar: f64 = 0.1;
        /// Bevel width as a fraction of the row height, at least 0.
        bevel: f64 = 0.15;
        /// Shift of odd rows, as a fraction of a brick.
        offset: f64 = 0.5;
        /// Seed of the "id" output; the run's `--seed` when absent.
        seed: Option<u64> = None;
        /// "height" (0 in the mortar rising over the bevel to 1), "mask" (1 on the face) or "id"
        /// (a random value per brick).
        output: CellOutput = CellOutput::Height;
    }
}

impl Source for Bricks {
    fn seed(&self) -> Option<u64> {
        self.seed
    }

    fn field(&self, seed: u64) -> Result<Field> {
        Ok(Field::pattern(Pattern::bricks(self.clone(), seed)?))
    }
}

crate::option_set! {
    /// Square tiles (`tiles(#{ ... })`): bricks without the offset, `n` per side.
    pub struct Tiles for "tiles" {
        /// Tiles per side.
        n: f64 = 8.0;
        /// Rows of tiles; `n` when absent.
        rows: Option<f64> = None;
        /// Columns of tiles; `n` when absent.
        cols: Option<f64> = None;
        /// Gap between tiles as a fraction of a tile, at least 0.
        gap: f64 = 0.06;
        /// Bevel width as a fraction of a tile, at least 0.
        bevel: f64 = 0.1;
        /// Seed of the "id" output; the run's `--seed` when absent.
        seed: Option<u64> = None;
        /// "height", "mask" or "id", as for bricks.
        output: CellOutput = CellOutput::Height;
    }
}

impl Source for Tiles {
    fn seed(&self) -> Option<u64> {
        self.seed
    }

    fn field(&self, seed: u64) -> Result<Field> {
        let b = Bricks {
            rows: self.rows.unwrap_or(self.n),
            cols: self.cols.unwrap_or(self.n),
            mortar: self.gap,
            bevel: self.bevel,
            offset: 0.0,
            seed: Some(seed),
            output: self.output,
        };
        Ok(Field::pattern(Pattern::bricks(b, seed)?))
    }
}

crate::option_set! {
    /// Round dots (`dots(#{ ... })`), 1 inside and 0 outside.
    pub struct Dots for "dots" {
        /// Dots per side, over 0.
        n: f64 = 8.0;
        /// Radius as a fraction of a cell, at least 0 (0.5: neighbours touch).
        radius: f64 = 0.3;
        /// Width of the soft edge, at least 0.
        softness: f64 = 0.05;
        /// Shift of odd rows, as a fraction of a cell (0.5 staggers them).
        offset: f64 = 0.0;
    }
}

impl Source for Dots {
    fn field(&self, _seed: u64) -> Result<Field> {
        Ok(Field::pattern(Pattern::dots(self.n, self.radius, self.softness, self.offset)?))
    }
}

/// What a Voronoi pattern returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VoronoiOutput {
    /// A random value per cell.
    Cell,
    /// 1 on cell borders fading to 0 over `width` cells.
    Edge,
    /// Distance to the cell's centre (Worley F1).
    Distance,
}

crate::option_choice!(VoronoiOutput { Cell = "cell", Edge = "edge", Distance = "distance" });

crate::option_set! {
    /// Voronoi cells (`voronoi(#{ ... })`).
    pub struct Voronoi for "voronoi" {
        /// Cells across the image, over 0 and at most 100000 (whole cells when tileable).
        scale: f64 = 8.0;
        /// Seed; the run's `--seed` when absent.
        seed: Option<u64> = None;
        /// Wraps around at the image's edges.
        tileable: bool = false;
        /// "cell" (a random value per cell), "edge" (1 on borders fading over `width`) or
        /// "distance" (to the cell's point).
        output: VoronoiOutput = VoronoiOutput::Cell;
        /// Width of the "edge" fade in cells, over 0.
        width: f64 = 0.05;
    }
}

impl Source for Voronoi {
    fn seed(&self) -> Option<u64> {
        self.seed
    }

    fn field(&self, seed: u64) -> Result<Field> {
        let options = NoiseOptions { seed, scale: self.scale, tileable: self.tileable };
        Ok(Field::pattern(Pattern::voronoi(options, self.output, self.width)?))
    }
}

crate::option_set! {
    /// A radial ramp (`gradient_radial(#{ ... })`): 0 at the centre, 1 at `radius` and beyond.
    pub struct GradientRadial for "gradient_radial" {
        /// Centre, horizontally (uv units).
        cx: f64 = 0.5;
        /// Centre, vertically (uv units).
        cy: f64 = 0.5;
        /// Where the ramp reaches 1 (uv units), over 0; 0.5 is the middle of each edge.
        radius: f64 = 0.5;
    }
}

impl Source for GradientRadial {
    fn field(&self, _seed: u64) -> Result<Field> {
        Ok(Field::pattern(Pattern::gradient_radial(self.cx, self.cy, self.radius)?))
    }
}

/// A pattern (DESIGN.md §4 "patterns").
#[derive(Debug, Clone, PartialEq)]
pub enum Pattern {
    Checker { nx: f32, ny: f32 },
    Stripes { n: f32, c: f32, s: f32 },
    Bricks { b: Bricks, seed: u32 },
    Dots { n: f32, radius: f32, softness: f32, offset: f32 },
    Voronoi { freq: f32, period: i32, seed: u32, output: VoronoiOutput, width: f32 },
    GradientLinear { c: f32, s: f32, half: f32 },
    GradientRadial { cx: f32, cy: f32, r: f32 },
    Circle { cx: f32, cy: f32, r: f32 },
    Box { cx: f32, cy: f32, hw: f32, hh: f32, round: f32 },
    Polygon { points: Vec<[f32; 2]> },
}

fn positive(op: &str, what: &str, x: f64) -> Result<f64> {
    let x = finite(op, what, x)?;
    if x <= 0.0 {
        return Err(Error::param(op, format!("{what} must be > 0, got {x}")));
    }
    Ok(x)
}

fn nonneg(op: &str, what: &str, x: f64) -> Result<f64> {
    let x = finite(op, what, x)?;
    if x < 0.0 {
        return Err(Error::param(op, format!("{what} must be >= 0, got {x}")));
    }
    Ok(x)
}

impl Pattern {
    /// `n` × `n` squares, black in the top-left one.
    pub fn checker(n: f64) -> Result<Pattern> {
        let n = positive("checker", "n", n)? as f32;
        Ok(Pattern::Checker { nx: n, ny: n })
    }

    /// `n` light/dark stripe pairs across the image; `angle` 0 gives vertical stripes, positive
    /// angles turn them clockwise.
    pub fn stripes(n: f64, angle: f64) -> Result<Pattern> {
        let n = positive("stripes", "n", n)? as f32;
        let (s, c) = finite("stripes", "angle", angle)?.to_radians().sin_cos();
        Ok(Pattern::Stripes { n, c: c as f32, s: s as f32 })
    }

    /// Bricks (or tiles with `offset` 0); `seed` stands in for `b.seed` (the front end resolves
    /// an absent one to the run's seed).
    pub fn bricks(b: Bricks, seed: u64) -> Result<Pattern> {
        positive("bricks", "rows", b.rows)?;
        positive("bricks", "cols", b.cols)?;
        nonneg("bricks", "mortar", b.mortar)?;
        nonneg("bricks", "bevel", b.bevel)?;
        finite("bricks", "offset", b.offset)?;
        Ok(Pattern::Bricks { b: Bricks { seed: Some(seed), ..b }, seed: fold_seed(seed) })
    }

    /// `n` × `n` round dots of `radius` (fraction of a cell, 0.5 = touching) with a soft edge of
    /// `softness`; `offset` shifts every other row (0.5 for a staggered, hexagonal-like layout).
    pub fn dots(n: f64, radius: f64, softness: f64, offset: f64) -> Result<Pattern> {
        Ok(Pattern::Dots {
            n: positive("dots", "n", n)? as f32,
            radius: nonneg("dots", "radius", radius)? as f32,
            softness: nonneg("dots", "softness", softness)? as f32,
            offset: finite("dots", "offset", offset)? as f32,
        })
    }

    /// Voronoi cells, `scale` cells across (rounded when tileable).
    pub fn voronoi(options: NoiseOptions, output: VoronoiOutput, width: f64) -> Result<Pattern> {
        let scale = positive("voronoi", "scale", options.scale)?;
        if scale > MAX_SCALE {
            return Err(Error::param("voronoi", format!("scale must be <= {MAX_SCALE}, got {scale}")));
        }
        let width = positive("voronoi", "width", width)? as f32;
        let (freq, period) = if options.tileable {
            let p = scale.round().max(1.0);
            (p as f32, p as i32)
        } else {
            (scale as f32, 0)
        };
        Ok(Pattern::Voronoi { freq, period, seed: fold_seed(options.seed), output, width })
    }

    /// 0 → 1 across the image along `angle` (0 = left to right, 90 = top to bottom).
    pub fn gradient_linear(angle: f64) -> Result<Pattern> {
        let (s, c) = finite("gradient_linear", "angle", angle)?.to_radians().sin_cos();
        let half = 0.5 * (c.abs() + s.abs());
        Ok(Pattern::GradientLinear { c: c as f32, s: s as f32, half: half as f32 })
    }

    /// 0 at (cx, cy) rising to 1 at distance `r`.
    pub fn gradient_radial(cx: f64, cy: f64, r: f64) -> Result<Pattern> {
        Ok(Pattern::GradientRadial {
            cx: finite("gradient_radial", "cx", cx)? as f32,
            cy: finite("gradient_radial", "cy", cy)? as f32,
            r: positive("gradient_radial", "radius", r)? as f32,
        })
    }

    /// A circle centred at (cx, cy) of radius r, as a shape (see the module docs).
    pub fn circle(cx: f64, cy: f64, r: f64) -> Result<Pattern> {
        Ok(Pattern::Circle {
            cx: finite("circle_sdf", "cx", cx)? as f32,
            cy: finite("circle_sdf", "cy", cy)? as f32,
            r: nonneg("circle_sdf", "radius", r)? as f32,
        })
    }

    /// A `w` × `h` box centred at (cx, cy) with corners rounded by `round`.
    pub fn rect(cx: f64, cy: f64, w: f64, h: f64, round: f64) -> Result<Pattern> {
        Ok(Pattern::Box {
            cx: finite("box_sdf", "cx", cx)? as f32,
            cy: finite("box_sdf", "cy", cy)? as f32,
            hw: (nonneg("box_sdf", "width", w)? * 0.5) as f32,
            hh: (nonneg("box_sdf", "height", h)? * 0.5) as f32,
            round: nonneg("box_sdf", "round", round)? as f32,
        })
    }

    /// A polygon through `points` (u, v), at least 3, in any winding order.
    pub fn polygon(points: &[[f64; 2]]) -> Result<Pattern> {
        if points.len() < 3 {
            return Err(Error::param(
                "polygon_sdf",
                format!("a polygon needs at least 3 points, got {}", points.len()),
            ));
        }
        let points = points
            .iter()
            .map(|p| Ok([finite("polygon_sdf", "u", p[0])? as f32, finite("polygon_sdf", "v", p[1])? as f32]))
            .collect::<Result<Vec<_>>>()?;
        Ok(Pattern::Polygon { points })
    }

    /// Evaluates the pattern at `(us[i], vs[i])` into `out[i]`.
    pub fn eval(&self, us: &[f32], vs: &[f32], out: &mut [f32]) {
        let pts = out.iter_mut().zip(us.iter().zip(vs));
        match self {
            Pattern::Checker { nx, ny } => pts.for_each(|(o, (&u, &v))| {
                let a = floor(u * nx) + floor(v * ny);
                *o = (a & 1) as f32;
            }),
            Pattern::Stripes { n, c, s } => pts.for_each(|(o, (&u, &v))| {
                let t = ((u - 0.5) * c + (v - 0.5) * s) * n;
                *o = if t - (floor(t) as f32) < 0.5 { 1.0 } else { 0.0 };
            }),
            Pattern::Bricks { b, seed } => bricks(b, *seed, us, vs, out),
            Pattern::Dots { n, radius, softness, offset } => pts.for_each(|(o, (&u, &v))| {
                let y = v * n;
                let row = floor(y);
                let x = u * n - offset * (row & 1) as f32;
                let (fx, fy) = (x - floor(x) as f32 - 0.5, y - row as f32 - 0.5);
                let d = (fx * fx + fy * fy).sqrt();
                *o = 1.0 - edge(radius - softness * 0.5, radius + softness * 0.5, d);
            }),
            Pattern::Voronoi { freq, period, seed, output, width } => pts.for_each(|(o, (&u, &v))| {
                let (d1, d2, id) = if *period > 0 {
                    nearest::<true>(u * freq, v * freq, *period, *seed)
                } else {
                    nearest::<false>(u * freq, v * freq, 0, *seed)
                };
                *o = match output {
                    VoronoiOutput::Cell => unit(hash(id ^ 0x68e3_1da4)),
                    VoronoiOutput::Distance => d1.sqrt().min(1.0),
                    VoronoiOutput::Edge => 1.0 - edge(0.0, *width, d2.sqrt() - d1.sqrt()),
                };
            }),
            Pattern::GradientLinear { c, s, half } => pts.for_each(|(o, (&u, &v))| {
                let t = (u - 0.5) * c + (v - 0.5) * s;
                *o = (0.5 + 0.5 * t / half).clamp(0.0, 1.0);
            }),
            Pattern::GradientRadial { cx, cy, r } => pts.for_each(|(o, (&u, &v))| {
                let (dx, dy) = (u - cx, v - cy);
                *o = ((dx * dx + dy * dy).sqrt() / r).min(1.0);
            }),
            Pattern::Circle { cx, cy, r } => pts.for_each(|(o, (&u, &v))| {
                let (dx, dy) = (u - cx, v - cy);
                *o = shape((dx * dx + dy * dy).sqrt() - r);
            }),
            Pattern::Box { cx, cy, hw, hh, round } => pts.for_each(|(o, (&u, &v))| {
                let qx = (u - cx).abs() - hw + round;
                let qy = (v - cy).abs() - hh + round;
                let (mx, my) = (qx.max(0.0), qy.max(0.0));
                *o = shape((mx * mx + my * my).sqrt() + qx.max(qy).min(0.0) - round);
            }),
            Pattern::Polygon { points } => pts.for_each(|(o, (&u, &v))| *o = shape(polygon(points, u, v))),
        }
    }
}

#[inline(always)]
fn floor(x: f32) -> i32 {
    crate::field::noise::floor_i(x)
}

/// A hash as a value in [0, 1).
#[inline(always)]
fn unit(h: u32) -> f32 {
    (h >> 8) as f32 * (1.0 / 16_777_216.0)
}

/// Smoothstep from 0 at `a` to 1 at `b`; a hard step when a == b.
#[inline(always)]
fn edge(a: f32, b: f32, x: f32) -> f32 {
    if b <= a {
        return if x >= a { 1.0 } else { 0.0 };
    }
    let t = ((x - a) / (b - a)).clamp(0.0, 1.0);
    t * t * (3.0 - 2.0 * t)
}

/// Signed distance to the [0, 1] shape encoding.
#[inline(always)]
fn shape(d: f32) -> f32 {
    (0.5 + d).clamp(0.0, 1.0)
}

fn bricks(b: &Bricks, seed: u32, us: &[f32], vs: &[f32], out: &mut [f32]) {
    let (rows, cols) = (b.rows as f32, b.cols as f32);
    // brick width in row heights
    let aspect = rows / cols;
    let (m, bev, off) = (b.mortar as f32 * 0.5, b.bevel as f32, b.offset as f32);
    let (irows, icols) = (rows.ceil() as i32, cols.ceil() as i32);
    for ((o, &u), &v) in out.iter_mut().zip(us).zip(vs) {
        let y = v * rows;
        let row = floor(y);
        let x = u * cols - off * (row & 1) as f32;
        let col = floor(x);
        let (fx, fy) = (x - col as f32, y - row as f32);
        let d = (fx.min(1.0 - fx) * aspect).min(fy.min(1.0 - fy));
        *o = match b.output {
            CellOutput::Height => edge(m, m + bev, d),
            CellOutput::Mask => {
                if d >= m {
                    1.0
                } else {
                    0.0
                }
            }
            CellOutput::Id => {
                let (r, c) = (row.rem_euclid(irows.max(1)), col.rem_euclid(icols.max(1)));
                unit(hash(seed ^ (r as u32).wrapping_mul(0x9e37_79b1) ^ (c as u32).wrapping_mul(0x85eb_ca77)))
            }
        };
    }
}

/// Signed distance from (u, v) to a polygon (Inigo Quilez's even-odd formulation).
fn polygon(p: &[[f32; 2]], u: f32, v: f32) -> f32 {
    let dot = |a: [f32; 2], b: [f32; 2]| a[0] * b[0] + a[1] * b[1];
    let mut d = {
        let w = [u - p[0][0], v - p[0][1]];
        dot(w, w)
    };
    let mut s = 1.0f32;
    let mut j = p.len() - 1;
    for i in 0..p.len() {
        let (vi, vj) = (p[i], p[j]);
        let e = [vj[0] - vi[0], vj[1] - vi[1]];
        let w = [u - vi[0], v - vi[1]];
        let ee = dot(e, e);
        let t = if ee > 0.0 { (dot(w, e) / ee).clamp(0.0, 1.0) } else { 0.0 };
        let b = [w[0] - e[0] * t, w[1] - e[1] * t];
        d = d.min(dot(b, b));
        let c1 = v >= vi[1];
        let c2 = v < vj[1];
        let c3 = e[0] * w[1] > e[1] * w[0];
        if (c1 && c2 && c3) || (!c1 && !c2 && !c3) {
            s = -s;
        }
        j = i;
    }
    s * d.sqrt()
}
