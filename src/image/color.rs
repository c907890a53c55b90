//! Colours: parsing (`#hex`, every CSS named colour), the constructors scripts use (rgb, rgb8,
//! hsv, hsl, gray), and conversions between sRGB, linear light, HSV/HSL and Oklab.
//!
//! Owns: [`Color`] and the colour-space formulas. Must not know about images or Rhai.
//! Components are f32 in the same encoding as [`crate::Image`] pixels (sRGB-encoded, 0..1, not
//! clamped), with straight alpha.

use crate::error::{Error, Result};

/// An RGBA colour, sRGB-encoded, straight alpha.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Color {
    pub r: f32,
    pub g: f32,
    pub b: f32,
    pub a: f32,
}

impl Color {
    pub const TRANSPARENT: Color = Color::new(0.0, 0.0, 0.0, 0.0);
    pub const BLACK: Color = Color::new(0.0, 0.0, 0.0, 1.0);
    pub const WHITE: Color = Color::new(1.0, 1.0, 1.0, 1.0);

    /// A colour from 0..1 components.
    pub const fn new(r: f32, g: f32, b: f32, a: f32) -> Color {
        Color { r, g, b, a }
    }

    /// An opaque colour from 0..1 components.
    pub const fn rgb(r: f32, g: f32, b: f32) -> Color {
        Color::new(r, g, b, 1.0)
    }

    /// An opaque colour from 0..255 components.
    pub fn rgb8(r: u8, g: u8, b: u8) -> Color {
        Color::rgb(r as f32 / 255.0, g as f32 / 255.0, b as f32 / 255.0)
    }

    /// An opaque gray.
    pub const fn gray(v: f32) -> Color {
        Color::rgb(v, v, v)
    }

    /// `[r, g, b, a]`.
    pub const fn to_array(self) -> [f32; 4] {
        [self.r, self.g, self.b, self.a]
    }

    /// From `[r, g, b, a]`.
    pub const fn from_array([r, g, b, a]: [f32; 4]) -> Color {
        Color::new(r, g, b, a)
    }

    /// The same colour with another alpha.
    pub const fn with_alpha(self, a: f32) -> Color {
        Color::new(self.r, self.g, self.b, a)
    }

    /// Checks that every component is finite.
    pub fn validate(self, op: &str) -> Result<Color> {
        if self.to_array().iter().all(|c| c.is_finite()) {
            Ok(self)
        } else {
            Err(Error::param(op, format!("colour components must be finite, got {self:?}")))
        }
    }

    /// From hue in degrees, saturation and value in 0..1 (opaque).
    pub fn hsv(hue_deg: f32, s: f32, v: f32) -> Color {
        let [r, g, b] = hsv_to_rgb([hue_deg, s, v]);
        Color::rgb(r, g, b)
    }

    /// From hue in degrees, saturation and lightness in 0..1 (opaque).
    pub fn hsl(hue_deg: f32, s: f32, l: f32) -> Color {
        let [r, g, b] = hsl_to_rgb([hue_deg, s, l]);
        Color::rgb(r, g, b)
    }

    /// Parses `#rgb`, `#rgba`, `#rrggbb`, `#rrggbbaa`, a CSS colour name or `transparent`.
    pub fn parse(text: &str) -> Result<Color> {
        let t = text.trim();
        if let Some(hex) = t.strip_prefix('#') {
            return parse_hex(hex).ok_or_else(|| {
                Error::param("color", format!("'{text}' is not a hex colour (#rgb, #rgba, #rrggbb or #rrggbbaa)"))
            });
        }
        let lower = t.to_ascii_lowercase();
        if lower == "transparent" {
            return Ok(Color::TRANSPARENT);
        }
        match CSS_COLORS.binary_search_by(|(name, _)| name.cmp(&lower.as_str())) {
            Ok(i) => {
                let v = CSS_COLORS[i].1;
                Ok(Color::rgb8((v >> 16) as u8, (v >> 8) as u8, v as u8))
            }
            Err(_) => Err(Error::param(
                "color",
                format!("unknown colour '{text}': use #rrggbb, a CSS name such as 'orange', rgb(), hsv() or an array"),
            )),
        }
    }

    /// Components as 8-bit values, rounded and clamped.
    pub fn to_rgba8(self) -> [u8; 4] {
        self.to_array().map(|c| (c.clamp(0.0, 1.0) * 255.0).round() as u8)
    }

    /// `#rrggbbaa` (or `#rrggbb` when opaque).
    pub fn to_hex(self) -> String {
        let [r, g, b, a] = self.to_rgba8();
        if a == 255 {
            format!("#{r:02x}{g:02x}{b:02x}")
        } else {
            format!("#{r:02x}{g:02x}{b:02x}{a:02x}")
        }
    }
}

impl std::fmt::Display for Color {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "rgba({:.4}, {:.4}, {:.4}, {:.4})", self.r, self.g, self.b, self.a)
    }
}

fn parse_hex(hex: &str) -> Option<Color> {
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let nib = |i: usize| u8::from_str_radix(&hex[i..i + 1], 16).ok().map(|v| v * 17);
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).ok();
    let [r, g, b, a] = match hex.len() {
        3 => [nib(0)?, nib(1)?, nib(2)?, 255],
        4 => [nib(0)?, nib(1)?, nib(2)?, nib(3)?],
        6 => [byte(0)?, byte(2)?, byte(4)?, 255],
        8 => [byte(0)?, byte(2)?, byte(4)?, byte(6)?],
        _ => return None,
    };
    Some(Color::rgb8(r, g, b).with_alpha(a as f32 / 255.0))
}

/// sRGB-encoded value to linear light (IEC 61966-2-1), extended to negatives and values over 1
/// by mirroring and continuing the curve, so HDR values round-trip.
#[inline]
pub fn srgb_to_linear(v: f32) -> f32 {
    let a = v.abs();
    let l = if a <= 0.04045 { a / 12.92 } else { ((a + 0.055) / 1.055).powf(2.4) };
    l.copysign(v)
}

/// Linear light to sRGB-encoded value; inverse of [`srgb_to_linear`].
#[inline]
pub fn linear_to_srgb(v: f32) -> f32 {
    let a = v.abs();
    let s = if a <= 0.0031308 { a * 12.92 } else { 1.055 * a.powf(1.0 / 2.4) - 0.055 };
    s.copysign(v)
}

/// `[r, g, b]` in 0..1 to `[hue degrees, s, v]`.
pub fn rgb_to_hsv([r, g, b]: [f32; 3]) -> [f32; 3] {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let h = hue_of(r, g, b, max, d);
    let s = if max > 0.0 { d / max } else { 0.0 };
    [h, s, max]
}

/// `[hue degrees, s, v]` to `[r, g, b]`.
pub fn hsv_to_rgb([h, s, v]: [f32; 3]) -> [f32; 3] {
    let h = h.rem_euclid(360.0) / 60.0;
    let c = v * s;
    let x = c * (1.0 - (h % 2.0 - 1.0).abs());
    let m = v - c;
    let [r, g, b] = sector(h, c, x);
    [r + m, g + m, b + m]
}

/// `[r, g, b]` to `[hue degrees, s, l]`.
pub fn rgb_to_hsl([r, g, b]: [f32; 3]) -> [f32; 3] {
    let max = r.max(g).max(b);
    let min = r.min(g).min(b);
    let d = max - min;
    let l = (max + min) / 2.0;
    let s = if d == 0.0 { 0.0 } else { d / (1.0 - (2.0 * l - 1.0).abs()).max(1e-12) };
    [hue_of(r, g, b, max, d), s, l]
}

/// `[hue degrees, s, l]` to `[r, g, b]`.
pub fn hsl_to_rgb([h, s, l]: [f32; 3]) -> [f32; 3] {
    let c = (1.0 - (2.0 * l - 1.0).abs()) * s;
    let hp = h.rem_euclid(360.0) / 60.0;
    let x = c * (1.0 - (hp % 2.0 - 1.0).abs());
    let m = l - c / 2.0;
    let [r, g, b] = sector(hp, c, x);
    [r + m, g + m, b + m]
}

fn hue_of(r: f32, g: f32, b: f32, max: f32, d: f32) -> f32 {
    if d == 0.0 {
        return 0.0;
    }
    let h = if max == r {
        ((g - b) / d).rem_euclid(6.0)
    } else if max == g {
        (b - r) / d + 2.0
    } else {
        (r - g) / d + 4.0
    };
    h * 60.0
}

fn sector(h: f32, c: f32, x: f32) -> [f32; 3] {
    match h as u32 {
        0 => [c, x, 0.0],
        1 => [x, c, 0.0],
        2 => [0.0, c, x],
        3 => [0.0, x, c],
        4 => [x, 0.0, c],
        _ => [c, 0.0, x],
    }
}

/// Linear sRGB to Oklab `[L, a, b]` (Björn Ottosson, 2020).
// The matrices are kept digit for digit as published, so they can be checked against the source.
#[allow(clippy::excessive_precision)]
pub fn linear_to_oklab([r, g, b]: [f32; 3]) -> [f32; 3] {
    let l = 0.4122214708 * r + 0.5363325363 * g + 0.0514459929 * b;
    let m = 0.2119034982 * r + 0.6806995451 * g + 0.1073969566 * b;
    let s = 0.0883024619 * r + 0.2817188376 * g + 0.6299787005 * b;
    let (l, m, s) = (l.cbrt(), m.cbrt(), s.cbrt());
    [
        0.2104542553 * l + 0.7936177850 * m - 0.0040720468 * s,
        1.9779984951 * l - 2.4285922050 * m + 0.4505937099 * s,
        0.0259040371 * l + 0.7827717662 * m - 0.8086757660 * s,
    ]
}

/// Oklab `[L, a, b]` to linear sRGB.
#[allow(clippy::excessive_precision)]
pub fn oklab_to_linear([l, a, b]: [f32; 3]) -> [f32; 3] {
    let l_ = l + 0.3963377774 * a + 0.2158037573 * b;
    let m_ = l - 0.1055613458 * a - 0.0638541728 * b;
    let s_ = l - 0.0894841775 * a - 1.2914855480 * b;
    let (l, m, s) = (l_ * l_ * l_, m_ * m_ * m_, s_ * s_ * s_);
    [
        4.0767416621 * l - 3.3077115913 * m + 0.2309699292 * s,
        -1.2684380046 * l + 2.6097574011 * m - 0.3413193965 * s,
        -0.0041960863 * l - 0.7034186147 * m + 1.7076147010 * s,
    ]
}

/// ITU-R BT.601 luma weights on sRGB-encoded values, the ones Pillow's `L` mode uses
/// (`L = 0.299 R + 0.587 G + 0.114 B`), so grayscale and saturation match Pillow.
pub const LUMA: [f32; 3] = [0.299, 0.587, 0.114];

/// Pillow-compatible luma of an sRGB-encoded pixel.
#[inline]
pub fn luma([r, g, b, _]: [f32; 4]) -> f32 {
    LUMA[0] * r + LUMA[1] * g + LUMA[2] * b
}

/// Every CSS Color Module Level 4 named colour, sorted by name for binary search.
const CSS_COLORS: &[(&str, u32)] = &[
    ("aliceblue", 0xf0f8ff),
    ("antiquewhite", 0xfaebd7),
    ("aqua", 0x00ffff),
    ("aquamarine", 0x7fffd4),
    ("azure", 0xf0ffff),
    ("beige", 0xf5f5dc),
    ("bisque", 0xffe4c4),
    ("black", 0x000000),
    ("blanchedalmond", 0xffebcd),
    ("blue", 0x0000ff),
    ("blueviolet", 0x8a2be2),
    ("brown", 0xa52a2a),
    ("burlywood", 0xdeb887),
    ("cadetblue", 0x5f9ea0),
    ("chartreuse", 0x7fff00),
    ("chocolate", 0xd2691e),
    ("coral", 0xff7f50),
    ("cornflowerblue", 0x6495ed),
    ("cornsilk", 0xfff8dc),
    ("crimson", 0xdc143c),
    ("cyan", 0x00ffff),
    ("darkblue", 0x00008b),
    ("darkcyan", 0x008b8b),
    ("darkgoldenrod", 0xb8860b),
    ("darkgray", 0xa9a9a9),
    ("darkgreen", 0x006400),
    ("darkgrey", 0xa9a9a9),
    ("darkkhaki", 0xbdb76b),
    ("darkmagenta", 0x8b008b),
    ("darkolivegreen", 0x556b2f),
    ("darkorange", 0xff8c00),
    ("darkorchid", 0x9932cc),
    ("darkred", 0x8b0000),
    ("darksalmon", 0xe9967a),
    ("darkseagreen", 0x8fbc8f),
    ("darkslateblue", 0x483d8b),
    ("darkslategray", 0x2f4f4f),
    ("darkslategrey", 0x2f4f4f),
    ("darkturquoise", 0x00ced1),
    ("darkviolet", 0x9400d3),
    ("deeppink", 0xff1493),
    ("deepskyblue", 0x00bfff),
    ("dimgray", 0x696969),
    ("dimgrey", 0x696969),
    ("dodgerblue", 0x1e90ff),
    ("firebrick", 0xb22222),
    ("floralwhite", 0xfffaf0),
    ("forestgreen", 0x228b22),
    ("fuchsia", 0xff00ff),
    ("gainsboro", 0xdcdcdc),
    ("ghostwhite", 0xf8f8ff),
    ("gold", 0xffd700),
    ("goldenrod", 0xdaa520),
    ("gray", 0x808080),
    ("green", 0x008000),
    ("greenyellow", 0xadff2f),
    ("grey", 0x808080),
    ("honeydew", 0xf0fff0),
    ("hotpink", 0xff69b4),
    ("indianred", 0xcd5c5c),
    ("indigo", 0x4b0082),
    ("ivory", 0xfffff0),
    ("khaki", 0xf0e68c),
    ("lavender", 0xe6e6fa),
    ("lavenderblush", 0xfff0f5),
    ("lawngreen", 0x7cfc00),
    ("lemonchiffon", 0xfffacd),
    ("lightblue", 0xadd8e6),
    ("lightcoral", 0xf08080),
    ("lightcyan", 0xe0ffff),
    ("lightgoldenrodyellow", 0xfafad2),
    ("lightgray", 0xd3d3d3),
    ("lightgreen", 0x90ee90),
    ("lightgrey", 0xd3d3d3),
    ("lightpink", 0xffb6c1),
    ("lightsalmon", 0xffa07a),
    ("lightseagreen", 0x20b2aa),
    ("lightskyblue", 0x87cefa),
    ("lightslategray", 0x778899),
    ("lightslategrey", 0x778899),
    ("lightsteelblue", 0xb0c4de),
    ("lightyellow", 0xffffe0),
    ("lime", 0x00ff00),
    ("limegreen", 0x32cd32),
    ("linen", 0xfaf0e6),
    ("magenta", 0xff00ff),
    ("maroon", 0x800000),
    ("mediumaquamarine", 0x66cdaa),
    ("mediumblue", 0x0000cd),
    ("mediumorchid", 0xba55d3),
    ("mediumpurple", 0x9370db),
    ("mediumseagreen", 0x3cb371),
    ("mediumslateblue", 0x7b68ee),
    ("mediumspringgreen", 0x00fa9a),
    ("mediumturquoise", 0x48d1cc),
    ("mediumvioletred", 0xc71585),
    ("midnightblue", 0x191970),
    ("mintcream", 0xf5fffa),
    ("mistyrose", 0xffe4e1),
    ("moccasin", 0xffe4b5),
    ("navajowhite", 0xffdead),
    ("navy", 0x000080),
    ("oldlace", 0xfdf5e6),
    ("olive", 0x808000),
    ("olivedrab", 0x6b8e23),
    ("orange", 0xffa500),
    ("orangered", 0xff4500),
    ("orchid", 0xda70d6),
    ("palegoldenrod", 0xeee8aa),
    ("palegreen", 0x98fb98),
    ("paleturquoise", 0xafeeee),
    ("palevioletred", 0xdb7093),
    ("papayawhip", 0xffefd5),
    ("peachpuff", 0xffdab9),
    ("peru", 0xcd853f),
    ("pink", 0xffc0cb),
    ("plum", 0xdda0dd),
    ("powderblue", 0xb0e0e6),
    ("purple", 0x800080),
    ("rebeccapurple", 0x663399),
    ("red", 0xff0000),
    ("rosybrown", 0xbc8f8f),
    ("royalblue", 0x4169e1),
    ("saddlebrown", 0x8b4513),
    ("salmon", 0xfa8072),
    ("sandybrown", 0xf4a460),
    ("seagreen", 0x2e8b57),
    ("seashell", 0xfff5ee),
    ("sienna", 0xa0522d),
    ("silver", 0xc0c0c0),
    ("skyblue", 0x87ceeb),
    ("slateblue", 0x6a5acd),
    ("slategray", 0x708090),
    ("slategrey", 0x708090),
    ("snow", 0xfffafa),
    ("springgreen", 0x00ff7f),
    ("steelblue", 0x4682b4),
    ("tan", 0xd2b48c),
    ("teal", 0x008080),
    ("thistle", 0xd8bfd8),
    ("tomato", 0xff6347),
    ("turquoise", 0x40e0d0),
    ("violet", 0xee82ee),
    ("wheat", 0xf5deb3),
    ("white", 0xffffff),
    ("whitesmoke", 0xf5f5f5),
    ("yellow", 0xffff00),
    ("yellowgreen", 0x9acd32),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn css_table_is_sorted_and_complete() {
        assert!(CSS_COLORS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(CSS_COLORS.len(), 148);
        assert_eq!(Color::parse("RebeccaPurple").unwrap().to_rgba8(), [0x66, 0x33, 0x99, 255]);
    }

    #[test]
    fn hex_forms() {
        assert_eq!(Color::parse("#f80").unwrap().to_rgba8(), [255, 136, 0, 255]);
        assert_eq!(Color::parse("#ff880080").unwrap().to_rgba8(), [255, 136, 0, 128]);
        assert!(Color::parse("#ff88").is_ok());
        assert!(Color::parse("#ggg").is_err());
        assert!(Color::parse("#12345").is_err());
        assert!(Color::parse("notacolour").is_err());
    }

    #[test]
    fn hsv_hsl_round_trip() {
        for &(r, g, b) in &[(0.2, 0.4, 0.9), (1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.9, 0.8, 0.1)] {
            let back = hsv_to_rgb(rgb_to_hsv([r, g, b]));
            assert!((back[0] - r).abs() < 1e-5 && (back[1] - g).abs() < 1e-5 && (back[2] - b).abs() < 1e-5);
            let back = hsl_to_rgb(rgb_to_hsl([r, g, b]));
            assert!((back[0] - r).abs() < 1e-5 && (back[1] - g).abs() < 1e-5 && (back[2] - b).abs() < 1e-5);
        }
    }

    #[test]
    fn srgb_curve_round_trips_including_hdr() {
        for &v in &[-0.5f32, 0.0, 0.002, 0.04, 0.5, 1.0, 4.0] {
            assert!((linear_to_srgb(srgb_to_linear(v)) - v).abs() < 1e-5, "{v}");
        }
        // Reference value from the IEC formula: sRGB 0.5 -> 0.21404.
        assert!((srgb_to_linear(0.5) - 0.214_041).abs() < 1e-5);
    }

    #[test]
    fn oklab_white_is_l1() {
        let [l, a, b] = linear_to_oklab([1.0, 1.0, 1.0]);
        assert!((l - 1.0).abs() < 1e-3 && a.abs() < 1e-3 && b.abs() < 1e-3);
    }
}
