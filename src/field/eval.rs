//! The batch evaluator: a [`Field`] graph is compiled once into a flat tape of instructions over
//! numbered slots, and the tape runs over blocks of up to [`BLOCK`] points, one instruction at a
//! time over the whole block (the shape of mkeeter/fidget's evaluators). Per block and node there
//! is one `match`, not one virtual call per pixel per node, and each instruction's inner loop is a
//! plain slice loop the compiler vectorises.
//!
//! Owns: compiling (with sharing: a sub-graph reached twice under the same coordinates becomes one
//! instruction) and running tapes. Must not know about images beyond the `Sampler` leaf, or Rhai.
//!
//! Determinism: every point is computed independently from its own (u, v), with no reductions, so
//! the result does not depend on how rows are split across threads.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::field::graph::{Binary, Domain, Field, Node, Unary, MAX_DEPTH};
use crate::field::noise::{self, floor_i, Fractal, Noise, BLOCK};
use crate::field::palette::Palette;
use crate::field::pattern::Pattern;
use crate::field::raster::Sampler;

/// Most instructions a tape may have.
pub const MAX_INSTRUCTIONS: usize = 200_000;

type Slot = usize;

/// The u and v slots every tape starts with.
pub(crate) const U: Slot = 0;
pub(crate) const V: Slot = 1;

enum Instr<'a> {
    Const { out: Slot, c: f32 },
    Noise { out: Slot, u: Slot, v: Slot, n: &'a Noise },
    Pattern { out: Slot, u: Slot, v: Slot, p: &'a Pattern },
    Image { out: Slot, u: Slot, v: Slot, s: &'a Sampler },
    Unary { out: Slot, a: Slot, op: Unary },
    Binary { out: Slot, a: Slot, b: Slot, op: Binary },
    Mix { out: Slot, a: Slot, b: Slot, t: Slot },
    Domain { ou: Slot, ov: Slot, u: Slot, v: Slot, d: Domain },
    Warp { ou: Slot, ov: Slot, u: Slot, v: Slot, du: Slot, dv: Slot, amount: f32 },
    FracAdd { acc: Slot, src: Slot, amp: f32, first: bool, fr: Fractal },
    FracFinish { acc: Slot, inv_norm: f32, fr: Fractal },
    Lookup { out: Slot, a: Slot, p: &'a Palette, k: usize },
}

/// A compiled field (or several sharing one tape, as `rgb_field` does).
pub(crate) struct Tape<'a> {
    instrs: Vec<Instr<'a>>,
    slots: usize,
    outputs: Vec<Slot>,
}

struct Compiler<'a> {
    instrs: Vec<Instr<'a>>,
    slots: usize,
    memo: HashMap<(usize, Slot, Slot), Slot>,
}

impl<'a> Compiler<'a> {
    fn slot(&mut self) -> Slot {
        self.slots += 1;
        self.slots - 1
    }

    fn push(&mut self, i: Instr<'a>) -> Result<()> {
        if self.instrs.len() >= MAX_INSTRUCTIONS {
            return Err(Error::Limit(format!("field graph has more than {MAX_INSTRUCTIONS} nodes")));
        }
        self.instrs.push(i);
        Ok(())
    }

    fn leaf(&mut self, make: impl FnOnce(Slot) -> Instr<'a>) -> Result<Slot> {
        let out = self.slot();
        self.push(make(out))?;
        Ok(out)
    }

    fn compile(&mut self, f: &'a Field, u: Slot, v: Slot) -> Result<Slot> {
        let key = (std::sync::Arc::as_ptr(&f.0) as usize, u, v);
        if let Some(&s) = self.memo.get(&key) {
            return Ok(s);
        }
        let out = match &*f.0 {
            Node::U => u,
            Node::V => v,
            Node::Const(c) => self.leaf(|out| Instr::Const { out, c: *c })?,
            Node::Noise(n) => self.leaf(|out| Instr::Noise { out, u, v, n })?,
            Node::Pattern(p) => self.leaf(|out| Instr::Pattern { out, u, v, p })?,
            Node::Image(s) => self.leaf(|out| Instr::Image { out, u, v, s })?,
            Node::Unary(op, a) => {
                let a = self.compile(a, u, v)?;
                self.leaf(|out| Instr::Unary { out, a, op: *op })?
            }
            Node::Binary(op, a, b) => {
                let a = self.compile(a, u, v)?;
                let b = self.compile(b, u, v)?;
                self.leaf(|out| Instr::Binary { out, a, b, op: *op })?
            }
            Node::Mix(a, b, t) => {
                let a = self.compile(a, u, v)?;
                let b = self.compile(b, u, v)?;
                let t = self.compile(t, u, v)?;
                self.leaf(|out| Instr::Mix { out, a, b, t })?
            }
            Node::Domain(d, src) => {
                let (ou, ov) = (self.slot(), self.slot());
                self.push(Instr::Domain { ou, ov, u, v, d: *d })?;
                self.compile(src, ou, ov)?
            }
            Node::Warp { source, du, dv, amount } => {
                let du = self.compile(du, u, v)?;
                let dv = self.compile(dv, u, v)?;
                let (ou, ov) = (self.slot(), self.slot());
                self.push(Instr::Warp { ou, ov, u, v, du, dv, amount: *amount })?;
                self.compile(source, ou, ov)?
            }
            Node::Lookup { source, palette, channel } => {
                let a = self.compile(source, u, v)?;
                self.leaf(|out| Instr::Lookup { out, a, p: palette, k: *channel as usize })?
            }
            Node::Fractal { source, fractal } => {
                let acc = self.slot();
                let (mut amp, mut norm, mut f) = (1.0f64, 0.0f64, 1.0f64);
                for i in 0..fractal.octaves {
                    // Octave i samples the source at lacunarityⁱ × (u, v), shifted by an
                    // irrational-ish offset so that octaves do not line up at the origin.
                    let off = (i as f64 * 0.618_034).fract() * 10.0;
                    let d = Domain::Affine([f as f32, 0.0, off as f32, 0.0, f as f32, off as f32]);
                    let (ou, ov) = (self.slot(), self.slot());
                    self.push(Instr::Domain { ou, ov, u, v, d })?;
                    let src = self.compile(source, ou, ov)?;
                    self.push(Instr::FracAdd { acc, src, amp: amp as f32, first: i == 0, fr: *fractal })?;
                    norm += amp;
                    amp *= fractal.gain;
                    f *= fractal.lacunarity;
                }
                let inv_norm = if norm > 0.0 { (1.0 / norm) as f32 } else { 0.0 };
                self.push(Instr::FracFinish { acc, inv_norm, fr: *fractal })?;
                acc
            }
        };
        self.memo.insert(key, out);
        Ok(out)
    }
}

impl<'a> Tape<'a> {
    /// Compiles `roots` into one tape whose outputs are in the same order.
    pub(crate) fn compile(roots: &[&'a Field]) -> Result<Tape<'a>> {
        for r in roots {
            if r.depth() > MAX_DEPTH {
                return Err(Error::Limit(format!(
                    "field graph is {} nodes deep, over the limit of {MAX_DEPTH}",
                    r.depth()
                )));
            }
        }
        let mut c = Compiler { instrs: Vec::new(), slots: 2, memo: HashMap::new() };
        let outputs = roots.iter().map(|r| c.compile(r, U, V)).collect::<Result<Vec<_>>>()?;
        Ok(Tape { instrs: c.instrs, slots: c.slots, outputs })
    }

    /// Number of f32s of scratch one block needs.
    pub(crate) fn scratch_len(&self) -> usize {
        self.slots * BLOCK
    }

    /// The slot holding output `i` after [`Tape::run`].
    pub(crate) fn output<'m>(&self, mem: &'m [f32], i: usize, n: usize) -> &'m [f32] {
        let s = self.outputs[i] * BLOCK;
        &mem[s..s + n]
    }

    /// Fills the u and v slots for a block of `n` points on row `y` starting at column `x0` of a
    /// `w` × `h` raster, using the pixel-centre convention of DESIGN.md §2.
    pub(crate) fn set_row(mem: &mut [f32], x0: usize, n: usize, y: usize, w: usize, h: usize) {
        let (us, rest) = mem.split_at_mut(BLOCK);
        let vv = (y as f32 + 0.5) / h as f32;
        for (i, u) in us[..n].iter_mut().enumerate() {
            *u = ((x0 + i) as f32 + 0.5) / w as f32;
        }
        rest[..n].fill(vv);
    }

    /// Runs the tape over the first `n` points of every slot; u and v must be filled.
    pub(crate) fn run(&self, mem: &mut [f32], n: usize) {
        assert!(mem.len() >= self.scratch_len() && n <= BLOCK);
        let base = mem.as_mut_ptr();
        // Every instruction writes slots no other instruction writes and reads only slots
        // written earlier, and an output slot is never one of its own inputs (the compiler
        // allocates a fresh slot for every output), so these views never alias.
        let w = |s: Slot| {
            // SAFETY: s < slots (allocated by the compiler) and mem holds slots × BLOCK floats.
            unsafe { std::slice::from_raw_parts_mut(base.add(s * BLOCK), n) }
        };
        let r = |s: Slot| {
            // SAFETY: as above; read-only views of slots other than the one being written.
            unsafe { std::slice::from_raw_parts(base.add(s * BLOCK) as *const f32, n) }
        };
        for ins in &self.instrs {
            match *ins {
                Instr::Const { out, c } => w(out).fill(c),
                Instr::Noise { out, u, v, n: nz } => nz.eval(r(u), r(v), w(out)),
                Instr::Pattern { out, u, v, p } => p.eval(r(u), r(v), w(out)),
                Instr::Image { out, u, v, s } => s.sample(r(u), r(v), w(out)),
                Instr::Unary { out, a, op } => unary(op, r(a), w(out)),
                Instr::Binary { out, a, b, op } => binary(op, r(a), r(b), w(out)),
                Instr::Mix { out, a, b, t } => {
                    for (((o, &a), &b), &t) in w(out).iter_mut().zip(r(a)).zip(r(b)).zip(r(t)) {
                        *o = a + (b - a) * t;
                    }
                }
                Instr::Domain { ou, ov, u, v, d } => domain(d, r(u), r(v), w(ou), w(ov)),
                Instr::Warp { ou, ov, u, v, du, dv, amount } => {
                    for (o, (&u, &d)) in w(ou).iter_mut().zip(r(u).iter().zip(r(du))) {
                        *o = u + amount * (d - 0.5);
                    }
                    for (o, (&v, &d)) in w(ov).iter_mut().zip(r(v).iter().zip(r(dv))) {
                        *o = v + amount * (d - 0.5);
                    }
                }
                Instr::FracAdd { acc, src, amp, first, fr } => {
                    let acc = w(acc);
                    if first {
                        acc.fill(0.0);
                    }
                    let mut signed = [0f32; BLOCK];
                    for (s, &x) in signed.iter_mut().zip(r(src)) {
                        *s = 2.0 * x - 1.0;
                    }
                    noise::accumulate(fr.kind, acc, &signed[..n], amp);
                }
                Instr::FracFinish { acc, inv_norm, fr } => noise::finish(fr.kind, w(acc), inv_norm),
                Instr::Lookup { out, a, p, k } => {
                    for (o, &x) in w(out).iter_mut().zip(r(a)) {
                        *o = p.sample(x)[k];
                    }
                }
            }
        }
    }
}

#[inline]
fn sanitize(x: f32) -> f32 {
    if x.is_finite() {
        x
    } else {
        0.0
    }
}

fn unary(op: Unary, a: &[f32], out: &mut [f32]) {
    let it = out.iter_mut().zip(a);
    match op {
        Unary::Abs => it.for_each(|(o, &a)| *o = a.abs()),
        Unary::Sin => it.for_each(|(o, &a)| *o = a.sin()),
        Unary::Cos => it.for_each(|(o, &a)| *o = a.cos()),
        Unary::Invert => it.for_each(|(o, &a)| *o = 1.0 - a),
        Unary::Clamp(lo, hi) => it.for_each(|(o, &a)| *o = a.max(lo).min(hi)),
        Unary::Smoothstep(e0, e1) => {
            let k = 1.0 / (e1 - e0);
            it.for_each(|(o, &a)| {
                let t = ((a - e0) * k).clamp(0.0, 1.0);
                *o = t * t * (3.0 - 2.0 * t)
            })
        }
        Unary::Step(t) => it.for_each(|(o, &a)| *o = if a >= t { 1.0 } else { 0.0 }),
        Unary::Remap(a0, b0, c0, d0) => {
            let k = (d0 - c0) / (b0 - a0);
            it.for_each(|(o, &a)| *o = (a - a0) * k + c0)
        }
    }
}

fn binary(op: Binary, a: &[f32], b: &[f32], out: &mut [f32]) {
    let it = out.iter_mut().zip(a.iter().zip(b));
    match op {
        Binary::Add => it.for_each(|(o, (&a, &b))| *o = a + b),
        Binary::Sub => it.for_each(|(o, (&a, &b))| *o = a - b),
        Binary::Mul => it.for_each(|(o, (&a, &b))| *o = a * b),
        Binary::Div => it.for_each(|(o, (&a, &b))| *o = sanitize(a / b)),
        Binary::Min => it.for_each(|(o, (&a, &b))| *o = a.min(b)),
        Binary::Max => it.for_each(|(o, (&a, &b))| *o = a.max(b)),
        Binary::Pow => it.for_each(|(o, (&a, &b))| *o = sanitize(a.max(0.0).powf(b))),
    }
}

#[inline(always)]
fn fract(x: f32) -> f32 {
    x - floor_i(x) as f32
}

fn domain(d: Domain, us: &[f32], vs: &[f32], ou: &mut [f32], ov: &mut [f32]) {
    match d {
        Domain::Affine([a, b, c, dd, e, f]) => {
            for ((o, &u), &v) in ou.iter_mut().zip(us).zip(vs) {
                *o = a * u + b * v + c;
            }
            for ((o, &u), &v) in ov.iter_mut().zip(us).zip(vs) {
                *o = dd * u + e * v + f;
            }
        }
        Domain::Repeat(nx, ny) => {
            ou.iter_mut().zip(us).for_each(|(o, &u)| *o = fract(u * nx));
            ov.iter_mut().zip(vs).for_each(|(o, &v)| *o = fract(v * ny));
        }
        Domain::Mirror(mx, my) => {
            ou.iter_mut().zip(us).for_each(|(o, &u)| *o = if mx { 0.5 - (u - 0.5).abs() } else { u });
            ov.iter_mut().zip(vs).for_each(|(o, &v)| *o = if my { 0.5 - (v - 0.5).abs() } else { v });
        }
        Domain::Kaleido(n) => {
            let wedge = std::f32::consts::TAU / n;
            for (i, (&u, &v)) in us.iter().zip(vs).enumerate() {
                let (px, py) = (u - 0.5, v - 0.5);
                let r = (px * px + py * py).sqrt();
                // angle clockwise from 12 o'clock (v grows downwards)
                let a = px.atan2(-py).rem_euclid(wedge);
                let a = if a > 0.5 * wedge { wedge - a } else { a };
                let (s, c) = a.sin_cos();
                ou[i] = 0.5 + r * s;
                ov[i] = 0.5 - r * c;
            }
        }
    }
}
