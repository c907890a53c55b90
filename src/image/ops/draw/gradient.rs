//! Linear and radial gradients as new images.
//!
//! Owns: colour stops, their interpolation, the two gradient geometries and their option set
//! ([`GradientOptions`]). Must not know about
//! Rhai. (The field room has its own gradient *fields*; these are the §4 image generators.)
//!
//! Geometry, following CSS `linear-gradient` / `radial-gradient` so results look familiar:
//! - linear: `angle` in degrees, 0 = left to right, 90 = top to bottom (positive turns clockwise,
//!   DESIGN.md §2). The gradient line passes through the centre and is just long enough that the
//!   two corners it meets first and last get t = 0 and t = 1.
//! - radial: an ellipse centred on the image through its corners (CSS `ellipse farthest-corner`):
//!   t = 0 in the centre, t = 1 at the corners.
//!
//! Stops are `(position, colour)` with non-decreasing positions; before the first and after the
//! last stop the end colours continue. Interpolation is premultiplied (as CSS does, so a fade to
//! transparent does not darken) in sRGB-encoded values by default, or in linear light or Oklab.

use crate::error::{Error, Result};
use crate::image::buffer::{check_size, Image};
use crate::image::color::{linear_to_oklab, linear_to_srgb, oklab_to_linear, srgb_to_linear, Color};

/// The colour space stops are interpolated in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Space {
    /// The stored sRGB-encoded values (what most editors do; the default).
    #[default]
    Srgb,
    /// Linear light (physically even mixing; brighter midpoints).
    Linear,
    /// Oklab (perceptually even; no muddy midpoints between complementary colours).
    Oklab,
}

impl std::str::FromStr for Space {
    type Err = Error;

    fn from_str(s: &str) -> Result<Space> {
        match s.trim().to_ascii_lowercase().as_str() {
            "srgb" => Ok(Space::Srgb),
            "linear" => Ok(Space::Linear),
            "oklab" => Ok(Space::Oklab),
            _ => Err(Error::param(
                "gradient",
                format!("unknown colour space '{s}'; valid spaces are: srgb, linear, oklab"),
            )),
        }
    }
}

crate::option_choice!(Space { Srgb = "srgb", Linear = "linear", Oklab = "oklab" });

crate::option_set! {
    /// Options of `linear_gradient(..., #{ ... })` and `radial_gradient(..., #{ ... })`.
    #[derive(Copy)]
    pub struct GradientOptions for "linear_gradient" {
        /// The colour space stops are interpolated in.
        space: Space = Space::Srgb;
    }
}

/// Stops spread evenly from 0 to 1 (`["#000", "#f80", "#fff"]`).
pub fn even_stops(colors: &[Color]) -> Vec<(f32, Color)> {
    let n = colors.len();
    colors.iter().enumerate().map(|(i, c)| (if n > 1 { i as f32 / (n - 1) as f32 } else { 0.0 }, *c)).collect()
}

/// Prepared stops: positions and premultiplied colours in the interpolation space.
struct Ramp {
    pos: Vec<f32>,
    col: Vec<[f32; 4]>,
    space: Space,
}

impl Ramp {
    fn new(op: &str, stops: &[(f32, Color)], space: Space) -> Result<Ramp> {
        if stops.is_empty() {
            return Err(Error::param(op, "needs at least one colour stop"));
        }
        let mut pos = Vec::with_capacity(stops.len());
        let mut col = Vec::with_capacity(stops.len());
        for (i, (p, c)) in stops.iter().enumerate() {
            if !p.is_finite() {
                return Err(Error::param(op, format!("stop {i}: position must be a finite number, got {p}")));
            }
            if i > 0 && *p < pos[i - 1] {
                return Err(Error::param(
                    op,
                    format!("stop positions must not decrease: stop {i} is at {p}, after {}", pos[i - 1]),
                ));
            }
            c.validate(op)?;
            let a = c.a.clamp(0.0, 1.0);
            let [x, y, z] = to_space(space, [c.r, c.g, c.b]);
            pos.push(*p);
            col.push([x * a, y * a, z * a, a]);
        }
        Ok(Ramp { pos, col, space })
    }

    #[inline]
    fn at(&self, t: f32) -> [f32; 4] {
        let n = self.pos.len();
        let c = if t <= self.pos[0] {
            self.col[0]
        } else if t >= self.pos[n - 1] {
            self.col[n - 1]
        } else {
            // First stop strictly after t; t > pos[0] so i >= 1.
            let i = self.pos.partition_point(|&p| p <= t);
            let (p0, p1) = (self.pos[i - 1], self.pos[i]);
            let f = if p1 > p0 { (t - p0) / (p1 - p0) } else { 1.0 };
            let (a, b) = (self.col[i - 1], self.col[i]);
            [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f, a[3] + (b[3] - a[3]) * f]
        };
        if c[3] <= 0.0 {
            return [0.0; 4];
        }
        let [r, g, b] = from_space(self.space, [c[0] / c[3], c[1] / c[3], c[2] / c[3]]);
        [r, g, b, c[3]]
    }
}

fn to_space(space: Space, rgb: [f32; 3]) -> [f32; 3] {
    match space {
        Space::Srgb => rgb,
        Space::Linear => rgb.map(srgb_to_linear),
        Space::Oklab => linear_to_oklab(rgb.map(srgb_to_linear)),
    }
}

fn from_space(space: Space, v: [f32; 3]) -> [f32; 3] {
    match space {
        Space::Srgb => v,
        Space::Linear => v.map(linear_to_srgb),
        Space::Oklab => oklab_to_linear(v).map(linear_to_srgb),
    }
}

/// A `w` × `h` linear gradient at `angle` degrees (0 = left to right, 90 = top to bottom).
pub fn linear_gradient(w: u32, h: u32, angle: f32, stops: &[(f32, Color)], space: Space) -> Result<Image> {
    let op = "linear_gradient";
    let (w, h) = check_size(w as i64, h as i64)?;
    if !angle.is_finite() {
        return Err(Error::param(op, format!("angle must be a finite number, got {angle}")));
    }
    let ramp = Ramp::new(op, stops, space)?;
    let rad = (angle as f64).to_radians();
    let (dx, dy) = (rad.cos(), rad.sin());
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let half = ((w as f64 * dx).abs() + (h as f64 * dy).abs()) / 2.0;
    Image::from_fn(w, h, |x, y| {
        let d = (x as f64 + 0.5 - cx) * dx + (y as f64 + 0.5 - cy) * dy;
        ramp.at((0.5 + d / (2.0 * half)) as f32)
    })
}

/// A `w` × `h` radial gradient: t = 0 at the centre, 1 at the corners.
pub fn radial_gradient(w: u32, h: u32, stops: &[(f32, Color)], space: Space) -> Result<Image> {
    let op = "radial_gradient";
    let (w, h) = check_size(w as i64, h as i64)?;
    let ramp = Ramp::new(op, stops, space)?;
    let (cx, cy) = (w as f64 / 2.0, h as f64 / 2.0);
    let (rx, ry) = (cx * std::f64::consts::SQRT_2, cy * std::f64::consts::SQRT_2);
    Image::from_fn(w, h, |x, y| {
        let u = (x as f64 + 0.5 - cx) / rx;
        let v = (y as f64 + 0.5 - cy) / ry;
        ramp.at(u.hypot(v) as f32)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bw() -> Vec<(f32, Color)> {
        even_stops(&[Color::BLACK, Color::WHITE])
    }

    #[test]
    fn linear_runs_along_the_angle() {
        let g = linear_gradient(10, 4, 0.0, &bw(), Space::Srgb).unwrap();
        // t at pixel centre x + 0.5 over width 10.
        assert!((g.get(0, 0).unwrap().r - 0.05).abs() < 1e-6);
        assert!((g.get(9, 3).unwrap().r - 0.95).abs() < 1e-6);
        let v = linear_gradient(4, 10, 90.0, &bw(), Space::Srgb).unwrap();
        assert!((v.get(2, 0).unwrap().r - 0.05).abs() < 1e-6, "90 degrees runs top to bottom");
        let back = linear_gradient(10, 4, 180.0, &bw(), Space::Srgb).unwrap();
        assert!((back.get(0, 0).unwrap().r - 0.95).abs() < 1e-5);
        // Diagonal: the corners are (nearly) the ends.
        let d = linear_gradient(100, 100, 45.0, &bw(), Space::Srgb).unwrap();
        assert!(d.get(0, 0).unwrap().r < 0.01 && d.get(99, 99).unwrap().r > 0.99);
    }

    #[test]
    fn radial_is_zero_in_the_centre_and_one_at_the_corners() {
        let g = radial_gradient(101, 101, &bw(), Space::Srgb).unwrap();
        assert!(g.get(50, 50).unwrap().r < 1e-6);
        assert!(g.get(0, 0).unwrap().r > 0.98);
        // Edge midpoint: 1/sqrt(2).
        assert!((g.get(0, 50).unwrap().r - (50.0 / 50.5) / 2f32.sqrt()).abs() < 1e-4);
    }

    #[test]
    fn stops_spaces_and_alpha() {
        let stops = [(0.0, Color::rgb(1.0, 0.0, 0.0)), (0.5, Color::rgb(0.0, 0.0, 1.0)), (1.0, Color::WHITE)];
        let g = linear_gradient(4, 1, 0.0, &stops, Space::Srgb).unwrap();
        // x = 1: t = 0.375, 3/4 of the way from red to blue.
        let c = g.get(1, 0).unwrap();
        assert!((c.r - 0.25).abs() < 1e-6 && (c.b - 0.75).abs() < 1e-6);
        // Linear-light midpoint of black and white is sRGB 0.7354.
        let l = linear_gradient(2, 1, 0.0, &[(0.25, Color::BLACK), (0.75, Color::WHITE)], Space::Linear).unwrap();
        let m = linear_gradient(1, 1, 0.0, &[(0.0, Color::BLACK), (1.0, Color::WHITE)], Space::Linear).unwrap();
        assert!((m.get(0, 0).unwrap().r - 0.735_357).abs() < 1e-4, "{:?}", m.get(0, 0));
        assert!(l.get(0, 0).unwrap().r < 1e-6 && l.get(1, 0).unwrap().r > 0.999);
        // Oklab endpoints round-trip.
        let o = linear_gradient(
            8,
            1,
            0.0,
            &[(0.0, Color::rgb(0.9, 0.2, 0.1)), (0.0, Color::rgb(0.9, 0.2, 0.1))],
            Space::Oklab,
        )
        .unwrap();
        assert!((o.get(3, 0).unwrap().g - 0.2).abs() < 1e-4);
        // Premultiplied: red to transparent keeps red, alpha falls.
        let f = linear_gradient(2, 1, 0.0, &[(0.0, Color::rgb(1.0, 0.0, 0.0)), (1.0, Color::TRANSPARENT)], Space::Srgb)
            .unwrap();
        let c = f.get(0, 0).unwrap();
        assert!((c.r - 1.0).abs() < 1e-6 && (c.a - 0.75).abs() < 1e-6);
    }

    #[test]
    fn bad_stops_are_errors() {
        assert!(linear_gradient(4, 4, 0.0, &[], Space::Srgb).is_err());
        assert!(linear_gradient(4, 4, f32::NAN, &bw(), Space::Srgb).is_err());
        let e = linear_gradient(4, 4, 0.0, &[(0.8, Color::BLACK), (0.2, Color::WHITE)], Space::Srgb).unwrap_err();
        assert!(e.to_string().contains("must not decrease"), "{e}");
        assert!(radial_gradient(0, 4, &bw(), Space::Srgb).is_err());
        assert!("hsv".parse::<Space>().unwrap_err().to_string().contains("srgb, linear, oklab"));
    }
}
