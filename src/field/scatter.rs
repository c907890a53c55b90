//! Scattering stamps over a canvas: seeded positions (uniform, jittered grid or Poisson-disk),
//! scale, rotation and order, composited with "over" on premultiplied alpha.
//!
//! Owns: [`Scatter`], the option set of `scatter(canvas, stamp, #{ ... })` (defaults, key list,
//! ranges), the choice of random streams, and the placement algorithms. Must not know about
//! Rhai. It resamples the stamp itself (bilinear, inverse-mapped) instead of calling the geometry
//! ops so that each instance is one pass over its bounding box.
//!
//! Edges (`edge`, see `image::ops::edge`): `"transparent"`, the default, clips a stamp at the
//! canvas border as before; `"wrap"`, the default on a tileable canvas, draws a stamp that
//! crosses a border again on the opposite side (each instance and its shifted copies stay
//! together in placement order), so the result tiles when the canvas did. `"clamp"` and
//! `"mirror"` have no meaning for stamps placed on a canvas and are refused with an error rather
//! than ignored.
//!
//! Determinism: the placements come from one [`Rng`] (stream 0 of the seed) in a fixed order; a
//! count drawn from `[lo, hi]` comes from stream 1, so the placements do not shift with it. Rows
//! are composited in parallel, but each pixel receives the instances in placement order.

use rayon::prelude::*;

use crate::error::{finite, Error, Result};
use crate::field::random::Rng;
use crate::image::buffer::{unpremultiply, CHANNELS};
use crate::image::ops::edge::{self, Edge};
use crate::image::Image;
use crate::options::{show_number, At, OptionType, OptionValue};

/// How many stamps: exactly `n`, or a count drawn from `[lo, hi]` by the seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Count {
    Exactly(i64),
    Between(i64, i64),
}

/// A whole number, or `[lo, hi]` (rounded).
impl OptionType for Count {
    fn kind() -> String {
        "whole number or [lo, hi]".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<Count> {
        match value {
            OptionValue::List(_) => {
                let (lo, hi) = <(f64, f64)>::read(at, value)?;
                Ok(Count::Between(lo.round() as i64, hi.round() as i64))
            }
            _ => Ok(Count::Exactly(i64::read(at, value)?)),
        }
    }
    fn show(&self) -> String {
        match self {
            Count::Exactly(n) => n.to_string(),
            Count::Between(lo, hi) => format!("[{lo}, {hi}]"),
        }
    }
}

/// A range of angles in degrees: a number `r` stands for `[-r, r]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Turn(pub f64, pub f64);

impl OptionType for Turn {
    fn kind() -> String {
        "number r (for [-r, r]) or [lo, hi]".into()
    }
    fn read(at: At, value: &OptionValue) -> Result<Turn> {
        match value {
            OptionValue::List(_) => <(f64, f64)>::read(at, value).map(|(lo, hi)| Turn(lo, hi)),
            _ => f64::read(at, value).map(|r| Turn(-r, r)),
        }
    }
    fn show(&self) -> String {
        if self.0 == -self.1 {
            show_number(self.1)
        } else {
            format!("[{}, {}]", show_number(self.0), show_number(self.1))
        }
    }
}

crate::option_set! {
    /// How to scatter (`scatter(canvas, stamp, #{ ... })`). Ranges are `[lo, hi]`, drawn
    /// uniformly per instance.
    pub struct Scatter for "scatter" {
        /// Stamps to place (Poisson-disk may place fewer when the canvas is full), at most
        /// 100000; `[lo, hi]` draws the count from the seed.
        count: Count = Count::Exactly(20);
        /// Seed; the run's `--seed` when absent.
        seed: Option<u64> = None;
        /// Stamp scale, or its range (1 = the stamp's own size), over 0.
        scale: (f64, f64) = (1.0, 1.0);
        /// Rotation range in degrees, clockwise.
        rotate: Turn = Turn(0.0, 0.0);
        /// 0 places stamps on a regular grid of about `count` cells; 1 anywhere in its cell, which
        /// for a grid as fine as `count` is indistinguishable from uniform.
        jitter: f64 = 1.0, range(0, 1);
        /// Keeps centres at least `min_distance` pixels apart (Poisson-disk sampling).
        poisson: bool = false;
        /// Poisson-disk spacing in pixels, at least 0 (0 or absent: derived from `count` so that
        /// they fill the canvas); giving it turns `poisson` on.
        min_distance: Option<f64> = None;
        /// "wrap" draws stamps that cross a border again on the other side; "transparent" clips
        /// them. Default: transparent, or wrap on a tileable canvas.
        edge: Option<Edge> = None;
    }
}

/// Most stamps one call may place.
pub const MAX_COUNT: usize = 100_000;

#[derive(Clone, Copy)]
struct Instance {
    x: f64,
    y: f64,
    scale: f64,
    angle: f64,
}

impl Scatter {
    /// The number of stamps: `count`, or drawn from stream 1 of `seed` for `[lo, hi]`.
    fn count(&self, seed: u64) -> Result<usize> {
        let n = match self.count {
            Count::Exactly(n) => n,
            Count::Between(lo, hi) => Rng::stream(seed, 1).int(lo, hi)?,
        };
        if n < 0 {
            return Err(Error::param("scatter", format!("count must be >= 0, got {n}")));
        }
        if n as u64 > MAX_COUNT as u64 {
            return Err(Error::param("scatter", format!("count must be <= {MAX_COUNT}, got {n}")));
        }
        Ok(n as usize)
    }

    /// Poisson-disk spacing, when on (0: derived from the count).
    fn poisson(&self) -> Option<f64> {
        if self.poisson || self.min_distance.is_some() {
            Some(self.min_distance.unwrap_or(0.0))
        } else {
            None
        }
    }

    fn validate(&self) -> Result<()> {
        for (what, (lo, hi)) in [("scale", self.scale), ("rotate", (self.rotate.0, self.rotate.1))] {
            finite("scatter", what, lo)?;
            finite("scatter", what, hi)?;
        }
        if self.scale.0 <= 0.0 || self.scale.1 <= 0.0 {
            return Err(Error::param("scatter", "scale must be > 0"));
        }
        let j = finite("scatter", "jitter", self.jitter)?;
        if !(0.0..=1.0).contains(&j) {
            return Err(Error::param("scatter", format!("jitter must be in [0, 1], got {j}")));
        }
        if let Some(d) = self.poisson() {
            if finite("scatter", "min_distance", d)? < 0.0 {
                return Err(Error::param("scatter", format!("min_distance must be >= 0, got {d}")));
            }
        }
        Ok(())
    }

    /// `count` centres in pixels.
    fn positions(&self, rng: &mut Rng, count: usize, w: f64, h: f64) -> Vec<(f64, f64)> {
        if let Some(d) = self.poisson() {
            let d = if d > 0.0 { d } else { (w * h / count.max(1) as f64).sqrt() * 0.75 };
            return poisson_disk(rng, w, h, d, count);
        }
        // jittered grid of cols × rows >= count cells, visited in a shuffled order
        let cols = ((count as f64 * w / h).sqrt().ceil() as usize).max(1);
        let rows = count.div_ceil(cols).max(1);
        let mut cells: Vec<usize> = (0..cols * rows).collect();
        rng.shuffle(&mut cells);
        cells.truncate(count);
        let (cw, ch) = (w / cols as f64, h / rows as f64);
        cells
            .into_iter()
            .map(|c| {
                let (cx, cy) = ((c % cols) as f64, (c / cols) as f64);
                let jx = 0.5 + self.jitter * (rng.float() - 0.5);
                let jy = 0.5 + self.jitter * (rng.float() - 0.5);
                ((cx + jx) * cw, (cy + jy) * ch)
            })
            .collect()
    }
}

/// Bridson's Poisson-disk sampling: up to `max` points at least `r` apart.
fn poisson_disk(rng: &mut Rng, w: f64, h: f64, r: f64, max: usize) -> Vec<(f64, f64)> {
    let cell = r / std::f64::consts::SQRT_2;
    let (gw, gh) = ((w / cell).ceil() as usize + 1, (h / cell).ceil() as usize + 1);
    if gw.saturating_mul(gh) > 64 << 20 {
        return Vec::new();
    }
    let mut grid: Vec<Option<usize>> = vec![None; gw * gh];
    let mut pts: Vec<(f64, f64)> = Vec::new();
    let mut active: Vec<usize> = Vec::new();
    let gi = |x: f64, y: f64| ((y / cell) as usize).min(gh - 1) * gw + ((x / cell) as usize).min(gw - 1);
    let first = (rng.float() * w, rng.float() * h);
    grid[gi(first.0, first.1)] = Some(0);
    pts.push(first);
    active.push(0);
    while !active.is_empty() && pts.len() < max {
        let k = rng.index(active.len());
        let (px, py) = pts[active[k]];
        let mut placed = false;
        for _ in 0..30 {
            let a = rng.float() * std::f64::consts::TAU;
            let d = r * (1.0 + rng.float());
            let (x, y) = (px + d * a.cos(), py + d * a.sin());
            if !(0.0..w).contains(&x) || !(0.0..h).contains(&y) {
                continue;
            }
            let (cx, cy) = ((x / cell) as i64, (y / cell) as i64);
            let mut ok = true;
            'n: for ny in (cy - 2).max(0)..=(cy + 2).min(gh as i64 - 1) {
                for nx in (cx - 2).max(0)..=(cx + 2).min(gw as i64 - 1) {
                    if let Some(j) = grid[ny as usize * gw + nx as usize] {
                        let (qx, qy) = pts[j];
                        if (qx - x).powi(2) + (qy - y).powi(2) < r * r {
                            ok = false;
                            break 'n;
                        }
                    }
                }
            }
            if ok {
                grid[gi(x, y)] = Some(pts.len());
                active.push(pts.len());
                pts.push((x, y));
                placed = true;
                break;
            }
        }
        if !placed {
            active.swap_remove(k);
        }
    }
    pts
}

/// Places `count` copies of `stamp` on `canvas` (centred on their positions) and returns the
/// result; the canvas is untouched. `seed` stands in for `opts.seed` (the front end resolves an
/// absent one to the run's seed).
pub fn scatter(canvas: &Image, stamp: &Image, opts: &Scatter, seed: u64) -> Result<Image> {
    opts.validate()?;
    let edge = edge::resolve(opts.edge, canvas, Edge::Transparent);
    if matches!(edge, Edge::Clamp | Edge::Mirror) {
        return Err(Error::param(
            "scatter",
            format!("edge must be \"transparent\" or \"wrap\" for stamps, got \"{}\"", edge.name()),
        ));
    }
    let count = opts.count(seed)?;
    let mut rng = Rng::new(seed);
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    let positions = opts.positions(&mut rng, count, w, h);
    let (scale, rotate) = (opts.scale, opts.rotate);
    let inst: Vec<Instance> = positions
        .into_iter()
        .map(|(x, y)| {
            let scale = scale.0 + (scale.1 - scale.0) * rng.float();
            let angle = rotate.0 + (rotate.1 - rotate.0) * rng.float();
            Instance { x, y, scale, angle }
        })
        .collect();
    let src = stamp.premultiplied();
    let (sw, sh) = (stamp.width() as f64, stamp.height() as f64);
    let (cw, ch) = (canvas.width() as i64, canvas.height() as i64);
    let inst = if edge == Edge::Wrap { wrapped(inst, sw, sh, cw, ch)? } else { inst };
    let placed: Vec<Placed> = inst.iter().map(|i| Placed::new(i, sw, sh)).collect();
    // The instances touching each row, in placement order (so each pixel composites them in
    // order whatever the thread count).
    let mut by_row: Vec<Vec<u32>> = vec![Vec::new(); ch as usize];
    for (k, p) in placed.iter().enumerate() {
        for y in p.y0.max(0)..=p.y1.min(ch - 1) {
            by_row[y as usize].push(k as u32);
        }
    }
    let mut out = canvas.premultiplied();
    let stop = crate::cancel::current();
    out.rows_mut().zip(by_row.par_iter()).enumerate().for_each(|(y, (row, touching))| {
        if stop.is_stopped() {
            return;
        }
        let y = y as i64;
        for &k in touching {
            let (p, i) = (&placed[k as usize], &inst[k as usize]);
            let qy = y as f64 + 0.5 - i.y;
            for x in p.x0.max(0)..=p.x1.min(cw - 1) {
                let qx = x as f64 + 0.5 - i.x;
                // stamp coordinates of this pixel centre
                let sx = p.inv[0] * qx + p.inv[1] * qy + p.inv[4];
                let sy = p.inv[2] * qx + p.inv[3] * qy + p.inv[5];
                if sx < -0.5 || sy < -0.5 || sx > sw + 0.5 || sy > sh + 0.5 {
                    continue;
                }
                let s = bilinear_transparent(&src, sx - 0.5, sy - 0.5);
                if s[3] <= 0.0 {
                    continue;
                }
                let d = &mut row[x as usize * CHANNELS..(x as usize + 1) * CHANNELS];
                let k = 1.0 - s[3];
                for c in 0..4 {
                    d[c] = s[c] + d[c] * k;
                }
            }
        }
    });
    stop.check()?;
    Ok(out.map_pixels(unpremultiply).with_tileable(edge::keeps_tileable(edge, canvas)))
}

/// Each instance followed by its copies shifted by whole canvas sizes that reach into the canvas
/// (one stamp crossing a border gets one to three copies; a stamp wider than the canvas more).
fn wrapped(inst: Vec<Instance>, sw: f64, sh: f64, cw: i64, ch: i64) -> Result<Vec<Instance>> {
    let mut out = Vec::with_capacity(inst.len());
    for i in inst {
        let p = Placed::new(&i, sw, sh);
        // Shifts k with [x0, x1] + k·cw meeting [0, cw - 1].
        // k from ceil(-x1 / cw) = -floor(x1 / cw) to floor((cw - 1 - x0) / cw).
        let kx = -p.x1.div_euclid(cw)..=(cw - 1 - p.x0).div_euclid(cw);
        let ky = -p.y1.div_euclid(ch)..=(ch - 1 - p.y0).div_euclid(ch);
        let copies = (kx.end() - kx.start() + 1).max(0) as u64 * (ky.end() - ky.start() + 1).max(0) as u64;
        if out.len() as u64 + copies > 16 * MAX_COUNT as u64 {
            return Err(Error::Limit(format!(
                "scatter: wrapping needs over {} stamp copies; use smaller stamps or fewer of them",
                16 * MAX_COUNT
            )));
        }
        // The unshifted instance first, then the copies, so a pixel sees them in a fixed order.
        out.push(i);
        for ky in ky.clone() {
            for kx in kx.clone() {
                if kx != 0 || ky != 0 {
                    out.push(Instance { x: i.x + (kx * cw) as f64, y: i.y + (ky * ch) as f64, ..i });
                }
            }
        }
    }
    Ok(out)
}

/// An instance's inverse map (canvas pixel -> stamp pixel) and the canvas rect it may touch.
struct Placed {
    inv: [f64; 6],
    y0: i64,
    y1: i64,
    x0: i64,
    x1: i64,
}

impl Placed {
    fn new(i: &Instance, sw: f64, sh: f64) -> Placed {
        let (s, c) = i.angle.to_radians().sin_cos();
        // canvas = centre + scale·R(θ)·(p − stamp centre); inverse: p = R(−θ)(q − centre)/scale + sc
        let k = 1.0 / i.scale;
        let inv = [c * k, s * k, -s * k, c * k, sw * 0.5, sh * 0.5];
        let r = 0.5 * i.scale * (sw * sw + sh * sh).sqrt() + 1.0;
        Placed {
            inv,
            y0: (i.y - r).floor() as i64,
            y1: (i.y + r).ceil() as i64,
            x0: (i.x - r).floor() as i64,
            x1: (i.x + r).ceil() as i64,
        }
    }
}

/// Bilinear sample of a premultiplied image, transparent outside it (so stamps get soft edges).
fn bilinear_transparent(img: &Image, x: f64, y: f64) -> [f32; 4] {
    let (x0, y0) = (x.floor() as i64, y.floor() as i64);
    let (fx, fy) = ((x - x0 as f64) as f32, (y - y0 as f64) as f32);
    let at = |x: i64, y: i64| -> [f32; 4] {
        if x < 0 || y < 0 || x >= img.width() as i64 || y >= img.height() as i64 {
            [0.0; 4]
        } else {
            let i = (y as usize * img.width() as usize + x as usize) * CHANNELS;
            let p = &img.pixels()[i..i + CHANNELS];
            [p[0], p[1], p[2], p[3]]
        }
    };
    let (a, b, c, d) = (at(x0, y0), at(x0 + 1, y0), at(x0, y0 + 1), at(x0 + 1, y0 + 1));
    std::array::from_fn(|k| {
        let top = a[k] + (b[k] - a[k]) * fx;
        let bot = c[k] + (d[k] - c[k]) * fx;
        top + (bot - top) * fy
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::color::Color;
    use crate::options::OptionSet;

    fn dot() -> Image {
        Image::from_fn(9, 9, |x, y| {
            let (dx, dy) = (x as f32 - 4.0, y as f32 - 4.0);
            if dx * dx + dy * dy <= 16.0 {
                [1.0, 0.0, 0.0, 1.0]
            } else {
                [0.0, 0.0, 0.0, 0.0]
            }
        })
        .unwrap()
    }

    #[test]
    fn scatter_is_deterministic_and_draws() {
        let canvas = Image::filled(128, 96, Color::WHITE).unwrap();
        let o = Scatter { count: Count::Exactly(30), scale: (0.5, 1.5), rotate: Turn(0.0, 90.0), ..Scatter::default() };
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let a = one.install(|| scatter(&canvas, &dot(), &o, 4)).unwrap();
        let b = four.install(|| scatter(&canvas, &dot(), &o, 4)).unwrap();
        assert_eq!(a.pixels(), b.pixels());
        let red = a.pixels().chunks(4).filter(|p| p[1] < 0.5).count();
        assert!(red > 30 * 10, "only {red} red pixels");
        assert_eq!(canvas.get(0, 0), Some(Color::WHITE), "canvas untouched");
    }

    #[test]
    fn poisson_keeps_its_distance() {
        let mut rng = Rng::new(1);
        let pts = poisson_disk(&mut rng, 200.0, 200.0, 12.0, 10_000);
        assert!(pts.len() > 100, "{}", pts.len());
        for (i, a) in pts.iter().enumerate() {
            for b in &pts[i + 1..] {
                assert!((a.0 - b.0).hypot(a.1 - b.1) >= 12.0 - 1e-9);
            }
        }
    }

    #[test]
    fn bad_options_are_errors() {
        let c = Image::new(8, 8).unwrap();
        let e = |o: Scatter| scatter(&c, &dot(), &o, 0).unwrap_err().to_string();
        assert!(e(Scatter { jitter: 2.0, ..Scatter::default() }).contains("jitter"));
        assert!(e(Scatter { scale: (0.0, 1.0), ..Scatter::default() }).contains("scale must be > 0"));
        assert!(e(Scatter { rotate: Turn(f64::NAN, 1.0), ..Scatter::default() }).contains("rotate"));
        assert_eq!(
            e(Scatter { count: Count::Exactly(-3), ..Scatter::default() }),
            "scatter: count must be >= 0, got -3"
        );
        assert!(e(Scatter { min_distance: Some(-1.0), ..Scatter::default() }).contains("min_distance must be >= 0"));
    }

    fn read(pairs: &[(&str, OptionValue)]) -> Result<Scatter> {
        Scatter::from_pairs(pairs.iter().map(|(k, v)| (*k, v)))
    }

    #[test]
    fn options_read_their_short_forms_and_keep_their_defaults() {
        let d = Scatter::default();
        assert_eq!((d.count, d.seed, d.scale, d.rotate), (Count::Exactly(20), None, (1.0, 1.0), Turn(0.0, 0.0)));
        assert_eq!((d.jitter, d.poisson, d.poisson()), (1.0, false, None));
        let list = |a: f64, b: f64| OptionValue::List(vec![OptionValue::Float(a), OptionValue::Float(b)]);
        let o = read(&[
            ("count", list(9.6, 40.0)),
            ("rotate", OptionValue::Int(90)),
            ("scale", OptionValue::Float(2.0)),
            ("min_distance", OptionValue::Int(5)),
        ])
        .unwrap();
        assert_eq!(
            (o.count, o.rotate, o.scale, o.poisson()),
            (Count::Between(10, 40), Turn(-90.0, 90.0), (2.0, 2.0), Some(5.0))
        );
        assert_eq!(read(&[("poisson", OptionValue::Bool(true))]).unwrap().poisson(), Some(0.0));
        let msg = |pairs: &[(&str, OptionValue)]| read(pairs).unwrap_err().to_string();
        assert_eq!(
            msg(&[("jitter", OptionValue::Float(1.5))]),
            "scatter: option 'jitter' must be between 0 and 1, got 1.5"
        );
        assert!(msg(&[("rotat", OptionValue::Int(1))])
            .starts_with("scatter: unknown option 'rotat' (did you mean 'rotate'?)"));
    }

    #[test]
    fn a_drawn_count_comes_from_its_own_stream() {
        // stream 1 of the seed picks the count; the placements (stream 0) do not move with it
        let c = Image::new(64, 64).unwrap();
        let want = Rng::stream(3, 1).int(5, 15).unwrap();
        let drawn = scatter(&c, &dot(), &Scatter { count: Count::Between(5, 15), ..Scatter::default() }, 3).unwrap();
        let fixed = scatter(&c, &dot(), &Scatter { count: Count::Exactly(want), ..Scatter::default() }, 3).unwrap();
        assert_eq!(drawn.pixels(), fixed.pixels());
    }
}
