//! Scattering stamps over a canvas: seeded positions (uniform, jittered grid or Poisson-disk),
//! scale, rotation and order, composited with "over" on premultiplied alpha.
//!
//! Owns: [`Scatter`] and its placement algorithms. Must not know about Rhai. It resamples the
//! stamp itself (bilinear, inverse-mapped) instead of calling the geometry ops so that each
//! instance is one pass over its bounding box.
//!
//! Determinism: the placements come from one [`Rng`] in a fixed order; rows are composited in
//! parallel, but each pixel receives the instances in placement order.

use rayon::prelude::*;

use crate::error::{finite, Error, Result};
use crate::field::random::Rng;
use crate::image::buffer::{unpremultiply, CHANNELS};
use crate::image::Image;

/// How to scatter. Ranges are `[lo, hi]`, drawn uniformly per instance.
#[derive(Debug, Clone, PartialEq)]
pub struct Scatter {
    /// Number of stamps (Poisson-disk may place fewer when the canvas is full).
    pub count: usize,
    pub seed: u64,
    /// Stamp scale range (1 = the stamp's own size).
    pub scale: [f64; 2],
    /// Rotation range in degrees, clockwise.
    pub rotate: [f64; 2],
    /// 0 places stamps on a regular grid of about `count` cells; 1 (the default) anywhere in its
    /// cell, which for a grid as fine as `count` is indistinguishable from uniform.
    pub jitter: f64,
    /// Poisson-disk spacing: no two centres closer than `min_distance` pixels (0 = derived from
    /// `count` so that they fill the canvas). `None` disables it.
    pub poisson: Option<f64>,
}

impl Default for Scatter {
    fn default() -> Scatter {
        Scatter { count: 20, seed: 0, scale: [1.0, 1.0], rotate: [0.0, 0.0], jitter: 1.0, poisson: None }
    }
}

/// Most stamps one call may place.
pub const MAX_COUNT: usize = 100_000;

struct Instance {
    x: f64,
    y: f64,
    scale: f64,
    angle: f64,
}

impl Scatter {
    fn validate(&self) -> Result<()> {
        if self.count > MAX_COUNT {
            return Err(Error::param("scatter", format!("count must be <= {MAX_COUNT}, got {}", self.count)));
        }
        for (what, [lo, hi]) in [("scale", self.scale), ("rotate", self.rotate)] {
            finite("scatter", what, lo)?;
            finite("scatter", what, hi)?;
        }
        if self.scale[0] <= 0.0 || self.scale[1] <= 0.0 {
            return Err(Error::param("scatter", "scale must be > 0"));
        }
        let j = finite("scatter", "jitter", self.jitter)?;
        if !(0.0..=1.0).contains(&j) {
            return Err(Error::param("scatter", format!("jitter must be in [0, 1], got {j}")));
        }
        if let Some(d) = self.poisson {
            if finite("scatter", "min_distance", d)? < 0.0 {
                return Err(Error::param("scatter", format!("min_distance must be >= 0, got {d}")));
            }
        }
        Ok(())
    }

    /// Centres in pixels.
    fn positions(&self, rng: &mut Rng, w: f64, h: f64) -> Vec<(f64, f64)> {
        if let Some(d) = self.poisson {
            let d = if d > 0.0 { d } else { (w * h / self.count.max(1) as f64).sqrt() * 0.75 };
            return poisson_disk(rng, w, h, d, self.count);
        }
        // jittered grid of cols × rows >= count cells, visited in a shuffled order
        let cols = ((self.count as f64 * w / h).sqrt().ceil() as usize).max(1);
        let rows = self.count.div_ceil(cols).max(1);
        let mut cells: Vec<usize> = (0..cols * rows).collect();
        rng.shuffle(&mut cells);
        cells.truncate(self.count);
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
/// result; the canvas is untouched.
pub fn scatter(canvas: &Image, stamp: &Image, opts: &Scatter) -> Result<Image> {
    opts.validate()?;
    let mut rng = Rng::new(opts.seed);
    let (w, h) = (canvas.width() as f64, canvas.height() as f64);
    let positions = opts.positions(&mut rng, w, h);
    let inst: Vec<Instance> = positions
        .into_iter()
        .map(|(x, y)| {
            let scale = opts.scale[0] + (opts.scale[1] - opts.scale[0]) * rng.float();
            let angle = opts.rotate[0] + (opts.rotate[1] - opts.rotate[0]) * rng.float();
            Instance { x, y, scale, angle }
        })
        .collect();
    let src = stamp.premultiplied();
    let (sw, sh) = (stamp.width() as f64, stamp.height() as f64);
    // Each instance's inverse map and bounding rows.
    struct Placed {
        inv: [f64; 6],
        y0: i64,
        y1: i64,
        x0: i64,
        x1: i64,
    }
    let placed: Vec<Placed> = inst
        .iter()
        .map(|i| {
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
        })
        .collect();
    // The instances touching each row, in placement order (so each pixel composites them in
    // order whatever the thread count).
    let (cw, ch) = (canvas.width() as i64, canvas.height() as i64);
    let mut by_row: Vec<Vec<u32>> = vec![Vec::new(); ch as usize];
    for (k, p) in placed.iter().enumerate() {
        for y in p.y0.max(0)..=p.y1.min(ch - 1) {
            by_row[y as usize].push(k as u32);
        }
    }
    let mut out = canvas.premultiplied();
    out.rows_mut().zip(by_row.par_iter()).enumerate().for_each(|(y, (row, touching))| {
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
    Ok(out.map_pixels(unpremultiply))
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
        let o = Scatter { count: 30, seed: 4, scale: [0.5, 1.5], rotate: [0.0, 90.0], ..Scatter::default() };
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
        let four = rayon::ThreadPoolBuilder::new().num_threads(4).build().unwrap();
        let a = one.install(|| scatter(&canvas, &dot(), &o)).unwrap();
        let b = four.install(|| scatter(&canvas, &dot(), &o)).unwrap();
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
        assert!(scatter(&c, &dot(), &Scatter { jitter: 2.0, ..Scatter::default() }).is_err());
        assert!(scatter(&c, &dot(), &Scatter { scale: [0.0, 1.0], ..Scatter::default() }).is_err());
        assert!(scatter(&c, &dot(), &Scatter { rotate: [f64::NAN, 1.0], ..Scatter::default() }).is_err());
    }
}
