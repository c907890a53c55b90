//! Colour ramps: named colormaps and ramps built from colour stops, baked into a lookup table.
//!
//! Owns: [`Palette`]. Must not know about fields or Rhai. Colours are sRGB-encoded like every
//! [`Color`] and are interpolated linearly on the encoded values (what CSS gradients and
//! matplotlib colormaps do).
//!
//! The matplotlib maps (viridis, magma, inferno, plasma) use Matt Zucker's degree-6 polynomial
//! fits (shadertoy WlfXRN, max error under 1/255 of the published tables); turbo uses Google's
//! published polynomial approximation; terrain uses matplotlib's own stops.

use crate::error::{Error, Result};
use crate::image::color::Color;

/// Entries in the lookup table; values between entries are interpolated.
const LUT: usize = 1024;

/// A colour ramp over [0, 1]. Values outside are clamped to the end colours.
#[derive(Clone, PartialEq)]
pub struct Palette {
    lut: std::sync::Arc<Vec<[f32; 4]>>,
}

impl std::fmt::Debug for Palette {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Palette({} .. {})", Color::from_array(self.lut[0]), Color::from_array(self.lut[LUT - 1]))
    }
}

/// Names [`Palette::named`] knows.
pub const NAMES: &[&str] =
    &["viridis", "magma", "inferno", "plasma", "turbo", "terrain", "grayscale", "fire", "ice", "ocean", "sepia"];

type Poly = [[f32; 3]; 7];

const VIRIDIS: Poly = [
    [0.277_727_33, 0.005_407_344_5, 0.334_099_8],
    [0.105_093_04, 1.404_613_5, 1.384_590_2],
    [-0.330_861_83, 0.214_847_56, 0.095_095_16],
    [-4.634_230_5, -5.799_101, -19.332_441],
    [6.228_27, 14.179_933, 56.690_55],
    [4.776_385, -13.745_145, -65.353_03],
    [-5.435_456, 4.645_852_6, 26.312_435],
];
const PLASMA: Poly = [
    [0.058_732_344, 0.023_336_709, 0.543_340_2],
    [2.176_514_6, 0.238_383_42, 0.753_960_45],
    [-2.689_460_5, -7.455_851, 3.110_8],
    [6.130_348, 42.346_188, -28.518_855],
    [-11.107_436, -82.666_31, 60.139_847],
    [10.023_066, 71.413_62, -54.072_186],
    [-3.658_713_8, -22.931_534, 18.191_908],
];
const MAGMA: Poly = [
    [-0.002_136_485, -0.000_749_655, -0.005_386_128],
    [0.251_660_54, 0.677_523_2, 2.494_026_6],
    [8.353_717, -3.577_719_5, 0.314_467_9],
    [-27.668_733, 14.264_731, -13.649_213],
    [52.176_14, -27.943_607, 12.944_169],
    [-50.768_525, 29.046_583, 4.234_153],
    [18.655_705, -11.489_774, -5.601_961_5],
];
const INFERNO: Poly = [
    [0.000_218_940_37, 0.001_651_004_6, -0.019_480_899],
    [0.106_513_42, 0.563_956_44, 3.932_712_4],
    [11.602_493, -3.972_854, -15.942_394],
    [-41.703_996, 17.436_4, 44.354_145],
    [77.162_94, -33.402_36, -81.807_31],
    [-71.319_43, 32.626_064, 73.209_52],
    [25.131_126, -12.242_669, -23.070_326],
];

fn poly(c: &Poly, t: f32) -> [f32; 4] {
    let mut rgb = [0f32; 3];
    for (k, out) in rgb.iter_mut().enumerate() {
        let mut acc = 0.0;
        for coef in c.iter().rev() {
            acc = acc * t + coef[k];
        }
        *out = acc.clamp(0.0, 1.0);
    }
    [rgb[0], rgb[1], rgb[2], 1.0]
}

fn turbo(x: f32) -> [f32; 4] {
    let (x2, x3) = (x * x, x * x * x);
    let (x4, x5) = (x2 * x2, x2 * x3);
    let r = 0.135_721_38 + 4.615_392_6 * x - 42.660_324 * x2 + 132.131_08 * x3 - 152.942_4 * x4 + 59.286_38 * x5;
    let g = 0.091_402_61 + 2.194_188_4 * x + 4.842_966_6 * x2 - 14.185_033 * x3 + 4.277_299 * x4 + 2.829_566 * x5;
    let b = 0.106_673_3 + 12.641_946 * x - 60.582_05 * x2 + 110.362_77 * x3 - 89.903_11 * x4 + 27.348_25 * x5;
    [r.clamp(0.0, 1.0), g.clamp(0.0, 1.0), b.clamp(0.0, 1.0), 1.0]
}

fn hex_stops(stops: &[(f32, u32)]) -> Vec<(f32, Color)> {
    stops.iter().map(|&(t, c)| (t, Color::rgb8((c >> 16) as u8, (c >> 8) as u8, c as u8))).collect()
}

impl Palette {
    /// A named palette: see [`NAMES`]. Errors on an unknown name with a did-you-mean, listing the
    /// known ones.
    pub fn named(name: &str) -> Result<Palette> {
        let f: fn(f32) -> [f32; 4] = match name {
            "viridis" => |t| poly(&VIRIDIS, t),
            "magma" => |t| poly(&MAGMA, t),
            "inferno" => |t| poly(&INFERNO, t),
            "plasma" => |t| poly(&PLASMA, t),
            "turbo" => turbo,
            "grayscale" | "gray" | "grey" => |t| [t, t, t, 1.0],
            _ => {
                let stops: &[(f32, u32)] = match name {
                    // matplotlib's "terrain" segment data
                    "terrain" => &[
                        (0.0, 0x333399),
                        (0.15, 0x0099ff),
                        (0.25, 0x00cc66),
                        (0.5, 0xffff99),
                        (0.75, 0x805c54),
                        (1.0, 0xffffff),
                    ],
                    "fire" => &[(0.0, 0x000000), (0.35, 0x8b0000), (0.6, 0xff4500), (0.85, 0xffc400), (1.0, 0xffffe0)],
                    "ice" => &[(0.0, 0x04142b), (0.4, 0x1f5f8b), (0.75, 0x9fd3e6), (1.0, 0xffffff)],
                    "ocean" => &[(0.0, 0x001018), (0.5, 0x00506e), (0.8, 0x2aa3b8), (1.0, 0xd6f5f5)],
                    "sepia" => &[(0.0, 0x1e140a), (0.5, 0x8c6a46), (1.0, 0xf5ebd7)],
                    _ => {
                        return Err(Error::param(
                            "palette",
                            format!(
                                "unknown palette \"{name}\"{}; known: {}",
                                crate::suggest::did_you_mean(name, NAMES),
                                NAMES.join(", ")
                            ),
                        ))
                    }
                };
                return Palette::from_stops(&hex_stops(stops));
            }
        };
        Ok(Palette::from_fn(f))
    }

    fn from_fn(f: impl Fn(f32) -> [f32; 4]) -> Palette {
        let lut = (0..LUT).map(|i| f(i as f32 / (LUT - 1) as f32)).collect();
        Palette { lut: std::sync::Arc::new(lut) }
    }

    /// Evenly spaced colours, first at 0 and last at 1. Needs at least two.
    pub fn from_colors(colors: &[Color]) -> Result<Palette> {
        if colors.len() < 2 {
            return Err(too_few(colors.len()));
        }
        let n = (colors.len() - 1) as f32;
        let stops: Vec<_> = colors.iter().enumerate().map(|(i, &c)| (i as f32 / n, c)).collect();
        Palette::from_stops(&stops)
    }

    /// Colours at positions in [0, 1], in non-decreasing order (equal positions make a hard
    /// edge). Needs at least two stops.
    pub fn from_stops(stops: &[(f32, Color)]) -> Result<Palette> {
        if stops.len() < 2 {
            return Err(too_few(stops.len()));
        }
        for (i, &(t, c)) in stops.iter().enumerate() {
            if !(0.0..=1.0).contains(&t) {
                return Err(Error::param("palette", format!("stop {i} is at {t}, outside [0, 1]")));
            }
            if i > 0 && t < stops[i - 1].0 {
                return Err(Error::param(
                    "palette",
                    format!("stop {i} at {t} comes before stop {} at {}", i - 1, stops[i - 1].0),
                ));
            }
            c.validate("palette")?;
        }
        Ok(Palette::from_fn(|t| {
            let k = stops.partition_point(|s| s.0 <= t);
            if k == 0 {
                return stops[0].1.to_array();
            }
            if k == stops.len() {
                return stops[k - 1].1.to_array();
            }
            let (t0, a) = stops[k - 1];
            let (t1, b) = stops[k];
            let f = if t1 > t0 { (t - t0) / (t1 - t0) } else { 1.0 };
            let (a, b) = (a.to_array(), b.to_array());
            std::array::from_fn(|i| a[i] + (b[i] - a[i]) * f)
        }))
    }

    /// The colour at `t` (clamped to [0, 1]; NaN maps to 0).
    #[inline]
    pub fn sample(&self, t: f32) -> [f32; 4] {
        let x = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) } * (LUT - 1) as f32;
        let i = (x as usize).min(LUT - 2);
        let f = x - i as f32;
        let (a, b) = (self.lut[i], self.lut[i + 1]);
        [a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f, a[3] + (b[3] - a[3]) * f]
    }

    /// The colour at `t` as a [`Color`].
    pub fn color(&self, t: f32) -> Color {
        Color::from_array(self.sample(t))
    }

    /// The same ramp reversed.
    pub fn reversed(&self) -> Palette {
        let mut lut = (*self.lut).clone();
        lut.reverse();
        Palette { lut: std::sync::Arc::new(lut) }
    }
}

fn too_few(n: usize) -> Error {
    Error::param("palette", format!("a palette needs at least 2 colours, got {n}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: [f32; 4], b: [f32; 3], tol: f32) -> bool {
        (0..3).all(|i| (a[i] - b[i]).abs() <= tol)
    }

    #[test]
    fn named_maps_match_matplotlib_endpoints() {
        // matplotlib's _cm_listed tables, first and last entries
        let cases = [
            ("viridis", [0.267, 0.005, 0.329], [0.993, 0.906, 0.144]),
            ("magma", [0.001, 0.000, 0.014], [0.987, 0.991, 0.750]),
            ("inferno", [0.001, 0.000, 0.014], [0.988, 0.998, 0.645]),
            ("plasma", [0.050, 0.030, 0.528], [0.940, 0.975, 0.131]),
        ];
        for (name, lo, hi) in cases {
            let p = Palette::named(name).unwrap();
            assert!(close(p.sample(0.0), lo, 0.03), "{name}(0) = {:?}, want {lo:?}", p.sample(0.0));
            assert!(close(p.sample(1.0), hi, 0.03), "{name}(1) = {:?}, want {hi:?}", p.sample(1.0));
        }
        // turbo (the polynomial is darker than the table at 0): dark -> blue -> green -> dark red
        let t = Palette::named("turbo").unwrap();
        assert!(t.sample(0.0).iter().take(3).all(|&c| c < 0.25), "{:?}", t.sample(0.0));
        assert!(t.sample(0.15)[2] > 0.8, "{:?}", t.sample(0.15));
        assert!(t.sample(0.5)[1] > 0.8, "{:?}", t.sample(0.5));
        assert!(t.sample(1.0)[0] > 0.4 && t.sample(1.0)[2] < 0.1, "{:?}", t.sample(1.0));
    }

    #[test]
    fn every_name_builds_and_stays_in_range() {
        for name in NAMES {
            let p = Palette::named(name).unwrap();
            for i in 0..=100 {
                let c = p.sample(i as f32 / 100.0);
                assert!(c.iter().all(|x| (0.0..=1.0).contains(x)), "{name}: {c:?}");
            }
        }
    }

    #[test]
    fn stops_interpolate_and_clamp() {
        let p =
            Palette::from_stops(&[(0.0, Color::BLACK), (0.5, Color::rgb(1.0, 0.5, 0.0)), (1.0, Color::WHITE)]).unwrap();
        assert!(close(p.sample(0.25), [0.5, 0.25, 0.0], 0.002));
        assert_eq!(p.sample(-3.0), Color::BLACK.to_array());
        assert_eq!(p.sample(f32::NAN), Color::BLACK.to_array());
        assert!(close(p.sample(7.0), [1.0, 1.0, 1.0], 1e-6));
    }

    #[test]
    fn bad_palettes_are_errors() {
        let e = Palette::from_colors(&[Color::BLACK]).unwrap_err().to_string();
        assert!(e.contains("at least 2"), "{e}");
        let e = Palette::named("viridiss").unwrap_err().to_string();
        assert!(
            e.starts_with("palette: unknown palette \"viridiss\" (did you mean 'viridis'?); known: viridis, magma"),
            "{e}"
        );
        let e = Palette::named("rainbow").unwrap_err().to_string();
        assert!(!e.contains("did you mean") && e.ends_with("ocean, sepia"), "{e}");
        assert!(Palette::from_stops(&[(0.5, Color::BLACK), (0.2, Color::WHITE)]).is_err());
        assert!(Palette::from_stops(&[(0.0, Color::BLACK), (1.5, Color::WHITE)]).is_err());
        assert!(Palette::from_stops(&[(0.0, Color::BLACK), (1.0, Color::rgb(f32::NAN, 0.0, 0.0))]).is_err());
    }
}
