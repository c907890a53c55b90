//! [`Field`]: an immutable expression graph over (u, v), built by functions, methods and
//! operators, evaluated in bulk by [`crate::field::eval`].
//!
//! Owns: the node kinds, their validating constructors and operator overloading. Must not know
//! about pixels (that is `raster`) or Rhai.
//!
//! Coordinates follow DESIGN.md §2: u grows to the right and v downwards, both over [0, 1] across
//! the image. Transforms move the *picture*: `f.translate(0.1, 0.0)` shifts it right,
//! `f.scale(2.0)` enlarges it about the centre, `f.rotate(30.0)` turns it clockwise about the
//! centre. Cloning is O(1) (an `Arc`), and a sub-graph used twice is evaluated once per point.
//!
//! Because u and v both span [0, 1] whatever the image's shape, a field rendered at 512×256 is
//! the 512×512 picture squeezed vertically (noise cells become wide); render a square and crop,
//! or `scale(1.0, 0.5)` the field, for square cells. This keeps every field a pure function of
//! (u, v), independent of the raster, which is what makes renders resolution independent.

use std::sync::Arc;

use crate::error::{finite, Error, Result};
use crate::field::noise::{Fractal, Noise};
use crate::field::palette::Palette;
use crate::field::pattern::Pattern;
use crate::field::raster::Sampler;

/// Deepest graph `render` accepts; deeper ones are nearly always a runaway loop in a script, and
/// would overflow the stack while compiling.
pub const MAX_DEPTH: u32 = 2000;

/// A lazily evaluated scalar field over (u, v). Cheap to clone.
#[derive(Clone)]
pub struct Field(pub(crate) Arc<Node>, u32);

impl std::fmt::Debug for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Field(depth {})", self.1)
    }
}

/// One-argument arithmetic.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Unary {
    Abs,
    Sin,
    Cos,
    Invert,
    Clamp(f32, f32),
    Smoothstep(f32, f32),
    Step(f32),
    /// (x − a) / (b − a) · (d − c) + c
    Remap(f32, f32, f32, f32),
}

/// Two-argument arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Min,
    Max,
    Pow,
}

/// A change of coordinates applied before evaluating the child.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Domain {
    /// (u, v) -> (a·u + b·v + c, d·u + e·v + f)
    Affine([f32; 6]),
    /// (u, v) -> (fract(u·nx), fract(v·ny))
    Repeat(f32, f32),
    /// Reflect the left half onto the right (`x`), the top onto the bottom (`y`), or both.
    Mirror(bool, bool),
    /// n-fold rotational symmetry about the centre with mirrored wedges (a kaleidoscope).
    Kaleido(f32),
}

pub(crate) enum Node {
    Const(f32),
    U,
    V,
    Noise(Noise),
    Pattern(Pattern),
    Image(Arc<Sampler>),
    Unary(Unary, Field),
    Binary(Binary, Field, Field),
    Mix(Field, Field, Field),
    Domain(Domain, Field),
    /// source at (u + amount·(du − ½), v + amount·(dv − ½))
    Warp {
        source: Field,
        du: Field,
        dv: Field,
        amount: f32,
    },
    /// A fractal sum of any field (noise sources use the faster `Noise` fractal instead).
    Fractal {
        source: Field,
        fractal: Fractal,
    },
    /// Channel `channel` (0 = r .. 3 = a) of `palette` at the source's value: colour fields.
    Lookup {
        source: Field,
        palette: Palette,
        channel: u8,
    },
}

impl Field {
    pub(crate) fn from_node(node: Node) -> Field {
        let depth = 1 + match &node {
            Node::Const(_) | Node::U | Node::V | Node::Noise(_) | Node::Pattern(_) | Node::Image(_) => 0,
            Node::Unary(_, a)
            | Node::Domain(_, a)
            | Node::Fractal { source: a, .. }
            | Node::Lookup { source: a, .. } => a.1,
            Node::Binary(_, a, b) => a.1.max(b.1),
            Node::Mix(a, b, t) | Node::Warp { source: a, du: b, dv: t, .. } => a.1.max(b.1).max(t.1),
        };
        Field(Arc::new(node), depth)
    }

    /// Depth of the graph (a leaf is 1).
    pub fn depth(&self) -> u32 {
        self.1
    }

    /// This field, or an error when it is deeper than [`MAX_DEPTH`]: the check every front end
    /// applies where a graph is built, so a runaway loop is stopped at its line.
    pub fn checked(self) -> Result<Field> {
        if self.1 > MAX_DEPTH {
            return Err(Error::param(
                "field",
                format!(
                    "this expression is {} nodes deep, over the limit of {MAX_DEPTH} (a loop building a field?)",
                    self.1
                ),
            ));
        }
        Ok(self)
    }

    /// The same value everywhere. Unlike the generators it may lie outside [0, 1].
    pub fn constant(x: f64) -> Field {
        Field::from_node(Node::Const(x as f32))
    }

    /// u = (x + 0.5) / width: 0 at the left edge, 1 at the right.
    pub fn u() -> Field {
        Field::from_node(Node::U)
    }

    /// v = (y + 0.5) / height: 0 at the top edge, 1 at the bottom.
    pub fn v() -> Field {
        Field::from_node(Node::V)
    }

    /// A noise source as a field.
    pub fn noise(noise: Noise) -> Field {
        Field::from_node(Node::Noise(noise))
    }

    /// A pattern as a field.
    pub fn pattern(pattern: Pattern) -> Field {
        Field::from_node(Node::Pattern(pattern))
    }

    /// A fractal sum of this field. A noise source keeps its seed and scale and sums octaves of
    /// itself (seed + i); any other field is sampled at `lacunarityⁱ` times its coordinates.
    pub fn fractal(&self, fractal: Fractal) -> Result<Field> {
        if let Node::Noise(n) = &*self.0 {
            if n.fractal.is_none() {
                return Ok(Field::noise(n.with_fractal(fractal)?));
            }
        }
        Ok(Field::from_node(Node::Fractal { source: self.clone(), fractal }))
    }

    /// Channel `channel` (0 = red, 1 = green, 2 = blue, 3 = alpha) of `palette` at this field's
    /// value. Three of these make a colour field that renders in one pass.
    pub fn lookup(&self, palette: &Palette, channel: u8) -> Field {
        Field::from_node(Node::Lookup { source: self.clone(), palette: palette.clone(), channel: channel.min(3) })
    }

    fn unary(&self, op: Unary) -> Field {
        Field::from_node(Node::Unary(op, self.clone()))
    }

    fn binary(&self, op: Binary, other: &Field) -> Field {
        Field::from_node(Node::Binary(op, self.clone(), other.clone()))
    }

    /// |x|.
    pub fn abs(&self) -> Field {
        self.unary(Unary::Abs)
    }
    /// sin(x), x in radians.
    pub fn sin(&self) -> Field {
        self.unary(Unary::Sin)
    }
    /// cos(x), x in radians.
    pub fn cos(&self) -> Field {
        self.unary(Unary::Cos)
    }
    /// 1 − x.
    pub fn invert(&self) -> Field {
        self.unary(Unary::Invert)
    }
    /// min(self, other).
    pub fn min(&self, other: &Field) -> Field {
        self.binary(Binary::Min, other)
    }
    /// max(self, other).
    pub fn max(&self, other: &Field) -> Field {
        self.binary(Binary::Max, other)
    }
    /// self^e (a negative base gives 0 rather than NaN).
    pub fn pow(&self, e: &Field) -> Field {
        self.binary(Binary::Pow, e)
    }
    /// Clamps to [lo, hi]; errors unless lo <= hi, both finite.
    pub fn clamp(&self, lo: f64, hi: f64) -> Result<Field> {
        let (lo, hi) = (finite("clamp", "lo", lo)?, finite("clamp", "hi", hi)?);
        if lo > hi {
            return Err(Error::param("clamp", format!("lo must be <= hi, got {lo} > {hi}")));
        }
        Ok(self.unary(Unary::Clamp(lo as f32, hi as f32)))
    }
    /// Hermite step from 0 at `a` to 1 at `b` (a > b gives the reversed step).
    pub fn smoothstep(&self, a: f64, b: f64) -> Result<Field> {
        let (a, b) = (finite("smoothstep", "a", a)?, finite("smoothstep", "b", b)?);
        if a == b {
            return Err(Error::param("smoothstep", format!("a and b must differ, both are {a}")));
        }
        Ok(self.unary(Unary::Smoothstep(a as f32, b as f32)))
    }
    /// 1 where x >= t, else 0.
    pub fn step(&self, t: f64) -> Result<Field> {
        Ok(self.unary(Unary::Step(finite("step", "t", t)? as f32)))
    }
    /// Linear map of [a, b] onto [c, d] (not clamped).
    pub fn remap(&self, a: f64, b: f64, c: f64, d: f64) -> Result<Field> {
        for (n, x) in [("a", a), ("b", b), ("c", c), ("d", d)] {
            finite("remap", n, x)?;
        }
        if a == b {
            return Err(Error::param("remap", format!("a and b must differ, both are {a}")));
        }
        Ok(self.unary(Unary::Remap(a as f32, b as f32, c as f32, d as f32)))
    }
    /// a + (b − a)·t.
    pub fn mix(a: &Field, b: &Field, t: &Field) -> Field {
        Field::from_node(Node::Mix(a.clone(), b.clone(), t.clone()))
    }

    fn domain(&self, d: Domain) -> Field {
        Field::from_node(Node::Domain(d, self.clone()))
    }

    /// Enlarges the picture by `sx`, `sy` about the centre; errors on 0 or non-finite factors.
    pub fn scale(&self, sx: f64, sy: f64) -> Result<Field> {
        let (sx, sy) = (finite("scale", "sx", sx)?, finite("scale", "sy", sy)?);
        if sx == 0.0 || sy == 0.0 {
            return Err(Error::param("scale", "scale factors must not be 0"));
        }
        // source(u) = (u − ½)/s + ½
        let (a, e) = (1.0 / sx, 1.0 / sy);
        Ok(self.domain(Domain::Affine([a as f32, 0.0, (0.5 - 0.5 * a) as f32, 0.0, e as f32, (0.5 - 0.5 * e) as f32])))
    }
    /// Moves the picture by (du, dv) (right and down).
    pub fn translate(&self, du: f64, dv: f64) -> Result<Field> {
        let (du, dv) = (finite("translate", "du", du)?, finite("translate", "dv", dv)?);
        Ok(self.domain(Domain::Affine([1.0, 0.0, -du as f32, 0.0, 1.0, -dv as f32])))
    }
    /// Turns the picture clockwise by `deg` degrees about the centre.
    pub fn rotate(&self, deg: f64) -> Result<Field> {
        let r = finite("rotate", "angle", deg)?.to_radians();
        let (s, c) = r.sin_cos();
        // The picture turns clockwise on screen (v down), so sample at the counter-rotated point:
        // source = R(−θ)(p − ½) + ½ with R(θ) = [[c, −s], [s, c]] in (u, v).
        let m = [c, s, -s, c];
        let tx = 0.5 - (m[0] * 0.5 + m[1] * 0.5);
        let ty = 0.5 - (m[2] * 0.5 + m[3] * 0.5);
        Ok(self.domain(Domain::Affine([m[0] as f32, m[1] as f32, tx as f32, m[2] as f32, m[3] as f32, ty as f32])))
    }
    /// Repeats the whole [0, 1]² picture `nx` × `ny` times.
    pub fn repeat(&self, nx: f64, ny: f64) -> Result<Field> {
        let (nx, ny) = (finite("repeat", "nx", nx)?, finite("repeat", "ny", ny)?);
        if nx <= 0.0 || ny <= 0.0 {
            return Err(Error::param("repeat", format!("counts must be > 0, got {nx} x {ny}")));
        }
        Ok(self.domain(Domain::Repeat(nx as f32, ny as f32)))
    }
    /// Mirrors the left half onto the right (`x`), the top half onto the bottom (`y`), or both.
    pub fn mirror(&self, x: bool, y: bool) -> Field {
        self.domain(Domain::Mirror(x, y))
    }
    /// n-fold kaleidoscope about the centre: the wedge right of 12 o'clock is reflected around.
    pub fn kaleido(&self, n: i64) -> Result<Field> {
        if !(1..=360).contains(&n) {
            return Err(Error::param("kaleido", format!("segments must be between 1 and 360, got {n}")));
        }
        Ok(self.domain(Domain::Kaleido(n as f32)))
    }
    /// Domain warp: samples self at (u + amount·(du − ½), v + amount·(dv − ½)).
    pub fn warp(&self, du: &Field, dv: &Field, amount: f64) -> Result<Field> {
        let amount = finite("warp", "amount", amount)? as f32;
        Ok(Field::from_node(Node::Warp { source: self.clone(), du: du.clone(), dv: dv.clone(), amount }))
    }
}

impl From<f64> for Field {
    fn from(x: f64) -> Field {
        Field::constant(x)
    }
}

macro_rules! ops {
    ($tr:ident, $m:ident, $op:expr) => {
        impl std::ops::$tr<&Field> for &Field {
            type Output = Field;
            fn $m(self, rhs: &Field) -> Field {
                self.binary($op, rhs)
            }
        }
        impl std::ops::$tr<Field> for Field {
            type Output = Field;
            fn $m(self, rhs: Field) -> Field {
                self.binary($op, &rhs)
            }
        }
        impl std::ops::$tr<&Field> for Field {
            type Output = Field;
            fn $m(self, rhs: &Field) -> Field {
                self.binary($op, rhs)
            }
        }
        impl std::ops::$tr<Field> for &Field {
            type Output = Field;
            fn $m(self, rhs: Field) -> Field {
                self.binary($op, &rhs)
            }
        }
        impl std::ops::$tr<f64> for &Field {
            type Output = Field;
            fn $m(self, rhs: f64) -> Field {
                self.binary($op, &Field::constant(rhs))
            }
        }
        impl std::ops::$tr<f64> for Field {
            type Output = Field;
            fn $m(self, rhs: f64) -> Field {
                self.binary($op, &Field::constant(rhs))
            }
        }
        impl std::ops::$tr<&Field> for f64 {
            type Output = Field;
            fn $m(self, rhs: &Field) -> Field {
                Field::constant(self).binary($op, rhs)
            }
        }
        impl std::ops::$tr<Field> for f64 {
            type Output = Field;
            fn $m(self, rhs: Field) -> Field {
                Field::constant(self).binary($op, &rhs)
            }
        }
    };
}
ops!(Add, add, Binary::Add);
ops!(Sub, sub, Binary::Sub);
ops!(Mul, mul, Binary::Mul);
ops!(Div, div, Binary::Div);
