//! 128-bit vector ops. A `v128` is an `i8x16`; each op bitcasts it to the
//! lane shape it names (integer ops read lanes by width, float ops use
//! `f32x4`/`f64x2`). Where x86_64 has no instruction for a lane width
//! (saturating and averaging ops on 32/64-bit lanes, 8-bit multiply,
//! 64-bit narrowing and conversions, reductions), the op is composed from
//! others: lane-wise identities, shuffles, or per-lane scalar code.

use cranelift_codegen::ir::{self as cl, condcodes, types, ConstantData, InstBuilder};
use vmtrans_ir::{FloatCC, Imm, InstData, IntCC, Opcode, Type, Value};

use super::float::cl_floatcc;
use super::int::{cl_intcc, ShiftOp};
use super::{cl_type, Lower};
use crate::BackendError;

/// Unary vector ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VUn {
    Neg,
    Abs,
    Popcnt,
    Fneg,
    Fabs,
    Fsqrt,
    SwidenLo,
    SwidenHi,
    UwidenLo,
    UwidenHi,
    FromSint,
    ToSint,
}

/// Binary vector ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VBin {
    Add,
    Sub,
    Mul,
    And,
    Or,
    Xor,
    AndNot,
    Umin,
    Umax,
    Smin,
    Smax,
    UaddSat,
    SaddSat,
    UsubSat,
    SsubSat,
    Uavg,
    Fadd,
    Fsub,
    Fmul,
    Fdiv,
    Fmin,
    Fmax,
    Fminnum,
    Fmaxnum,
    Swizzle,
    ZipLo,
    ZipHi,
    UzpEven,
    UzpOdd,
    NarrowTrunc,
    NarrowSsat,
    NarrowUsat,
}

/// Reductions over all lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum VReduce {
    Add,
    Umax,
    Umin,
    Smax,
    Smin,
}

/// The integer vector type with `bits`-wide lanes.
fn int_vec(bits: u32) -> cl::Type {
    match bits {
        8 => types::I8X16,
        16 => types::I16X8,
        32 => types::I32X4,
        _ => types::I64X2,
    }
}

/// The vector type whose lanes are `lane` (float lanes stay float).
fn lane_vec(lane: Type) -> cl::Type {
    match lane {
        Type::F32 => types::F32X4,
        Type::F64 => types::F64X2,
        t => int_vec(t.bits()),
    }
}

/// Byte indices of a shuffle producing `lanes(i)` lane by lane, where each
/// result lane `i` (of `bytes` bytes) copies source lane `lanes(i)` of the
/// 32-byte `x:y`.
fn lane_shuffle(bytes: usize, lanes: impl Fn(usize) -> usize) -> [u8; 16] {
    let mut mask = [0u8; 16];
    for (k, m) in mask.iter_mut().enumerate() {
        *m = (lanes(k / bytes) * bytes + k % bytes) as u8;
    }
    mask
}

/// The shuffle that truncates the `bytes`-wide lanes of `x` then `y` to
/// half width.
fn narrow_mask(bytes: usize) -> [u8; 16] {
    let half = bytes / 2;
    let mut mask = [0u8; 16];
    for (k, m) in mask.iter_mut().enumerate() {
        *m = ((k / half) * bytes + k % half) as u8;
    }
    mask
}

impl Lower<'_> {
    /// A `v128` constant.
    pub(super) fn vconst(&mut self, bytes: [u8; 16]) -> cl::Value {
        let c = self
            .b
            .func
            .dfg
            .constants
            .insert(ConstantData::from(bytes.to_vec()));
        self.b.ins().vconst(types::I8X16, c)
    }

    /// A vector of type `vt` with every `bits`-wide lane equal to `value`.
    fn splat_const(&mut self, vt: cl::Type, value: u128) -> cl::Value {
        let bits = vt.lane_bits() as usize;
        let mut bytes = [0u8; 16];
        for lane in 0..16 / (bits / 8) {
            for (i, b) in value.to_le_bytes()[..bits / 8].iter().enumerate() {
                bytes[lane * bits / 8 + i] = *b;
            }
        }
        let v = self.vconst(bytes);
        self.cast(vt, v)
    }

    /// `x` (a `v128`) as vector type `vt`.
    fn as_vec(&mut self, x: cl::Value, vt: cl::Type) -> cl::Value {
        self.cast(vt, x)
    }

    /// A vector of any type back as a `v128`.
    fn v128_of(&mut self, x: cl::Value) -> cl::Value {
        self.cast(types::I8X16, x)
    }

    /// The float vector type for lane type `ty` (by width).
    fn float_vec(&self, ty: Type) -> Result<cl::Type, BackendError> {
        match ty.bits() {
            32 => Ok(types::F32X4),
            64 => Ok(types::F64X2),
            _ => Err(self.unsupported(format!("{ty} lanes are not float lanes"))),
        }
    }

    pub(super) fn vec_unary(
        &mut self,
        op: VUn,
        ty: Type,
        x: cl::Value,
    ) -> Result<cl::Value, BackendError> {
        let w = ty.bits();
        let iv = int_vec(w);
        let r = match op {
            VUn::Neg => {
                let v = self.as_vec(x, iv);
                self.b.ins().ineg(v)
            }
            VUn::Abs => {
                let v = self.as_vec(x, iv);
                self.b.ins().iabs(v)
            }
            VUn::Popcnt => self.vec_popcnt(w, x),
            VUn::Fneg | VUn::Fabs | VUn::Fsqrt => {
                let fv = self.float_vec(ty)?;
                let v = self.as_vec(x, fv);
                let ins = self.b.ins();
                match op {
                    VUn::Fneg => ins.fneg(v),
                    VUn::Fabs => ins.fabs(v),
                    _ => ins.sqrt(v),
                }
            }
            VUn::SwidenLo | VUn::SwidenHi | VUn::UwidenLo | VUn::UwidenHi => self.widen(op, w, x),
            VUn::FromSint => self.vec_from_sint(ty, x)?,
            VUn::ToSint => self.vec_to_sint(ty, x)?,
        };
        Ok(self.v128_of(r))
    }

    /// Lane popcounts: byte counts summed pairwise up to the lane width.
    fn vec_popcnt(&mut self, w: u32, x: cl::Value) -> cl::Value {
        let mut v = self.b.ins().popcnt(x);
        let mut width = 16;
        while width <= w {
            let vt = int_vec(width);
            let t = self.as_vec(v, vt);
            let low = self.splat_const(vt, (1u128 << (width / 2)) - 1);
            let lo = self.b.ins().band(t, low);
            let hi = self.b.ins().ushr_imm_s(t, i64::from(width / 2));
            v = self.b.ins().iadd(lo, hi);
            width *= 2;
        }
        v
    }

    /// Sign or zero extension of half the lanes to double width.
    fn widen(&mut self, op: VUn, w: u32, x: cl::Value) -> cl::Value {
        let signed = matches!(op, VUn::SwidenLo | VUn::SwidenHi);
        let high = matches!(op, VUn::SwidenHi | VUn::UwidenHi);
        let v = self.as_vec(x, int_vec(w));
        if w == 64 {
            let lane = self.b.ins().extractlane(v, u8::from(high));
            let wide = if signed {
                self.b.ins().sextend(types::I128, lane)
            } else {
                self.b.ins().uextend(types::I128, lane)
            };
            return self.cast(types::I8X16, wide);
        }
        let ins = self.b.ins();
        match (signed, high) {
            (true, false) => ins.swiden_low(v),
            (true, true) => ins.swiden_high(v),
            (false, false) => ins.uwiden_low(v),
            (false, true) => ins.uwiden_high(v),
        }
    }

    fn vec_from_sint(&mut self, ty: Type, x: cl::Value) -> Result<cl::Value, BackendError> {
        let fv = self.float_vec(ty)?;
        if fv == types::F32X4 {
            let v = self.as_vec(x, types::I32X4);
            return Ok(self.b.ins().fcvt_from_sint(fv, v));
        }
        let v = self.as_vec(x, types::I64X2);
        Ok(self.per_lane64(v, types::F64X2, |s, lane| {
            s.b.ins().fcvt_from_sint(types::F64, lane)
        }))
    }

    fn vec_to_sint(&mut self, ty: Type, x: cl::Value) -> Result<cl::Value, BackendError> {
        let fv = self.float_vec(ty)?;
        let v = self.as_vec(x, fv);
        if fv == types::F32X4 {
            return Ok(self.b.ins().fcvt_to_sint_sat(types::I32X4, v));
        }
        Ok(self.per_lane64(v, types::I64X2, |s, lane| {
            s.b.ins().fcvt_to_sint_sat(types::I64, lane)
        }))
    }

    /// Applies scalar `f` to both lanes of a two-lane vector, building a
    /// vector of type `out`.
    fn per_lane64(
        &mut self,
        v: cl::Value,
        out: cl::Type,
        f: impl Fn(&mut Self, cl::Value) -> cl::Value,
    ) -> cl::Value {
        let l0 = self.b.ins().extractlane(v, 0);
        let l1 = self.b.ins().extractlane(v, 1);
        let r0 = f(self, l0);
        let r1 = f(self, l1);
        let r = self.b.ins().scalar_to_vector(out, r0);
        self.b.ins().insertlane(r, r1, 1)
    }

    pub(super) fn vec_binary(
        &mut self,
        op: VBin,
        ty: Type,
        x: cl::Value,
        y: cl::Value,
    ) -> Result<cl::Value, BackendError> {
        use VBin::*;
        let w = ty.bits();
        let r = match op {
            And => self.b.ins().band(x, y),
            Or => self.b.ins().bor(x, y),
            Xor => self.b.ins().bxor(x, y),
            AndNot => {
                let ny = self.b.ins().bnot(y);
                self.b.ins().band(x, ny)
            }
            Swizzle => self.b.ins().swizzle(x, y),
            Add | Sub | Umin | Umax | Smin | Smax => self.vec_int_simple(op, w, x, y),
            Mul => self.vec_mul(w, x, y),
            UaddSat | SaddSat | UsubSat | SsubSat | Uavg => self.vec_saturating(op, w, x, y),
            Fadd | Fsub | Fmul | Fdiv | Fmin | Fmax | Fminnum | Fmaxnum => {
                self.vec_float(op, ty, x, y)?
            }
            ZipLo | ZipHi | UzpEven | UzpOdd => self.permute(op, w, x, y),
            NarrowTrunc | NarrowSsat | NarrowUsat => self.narrow(op, ty, x, y)?,
        };
        Ok(self.v128_of(r))
    }

    fn vec_int_simple(&mut self, op: VBin, w: u32, x: cl::Value, y: cl::Value) -> cl::Value {
        let iv = int_vec(w);
        let (x, y) = (self.as_vec(x, iv), self.as_vec(y, iv));
        let ins = self.b.ins();
        match op {
            VBin::Add => ins.iadd(x, y),
            VBin::Sub => ins.isub(x, y),
            VBin::Umin => ins.umin(x, y),
            VBin::Umax => ins.umax(x, y),
            VBin::Smin => ins.smin(x, y),
            _ => ins.smax(x, y),
        }
    }

    /// Lane-wise multiply; bytes go through 16-bit products.
    fn vec_mul(&mut self, w: u32, x: cl::Value, y: cl::Value) -> cl::Value {
        if w != 8 {
            let iv = int_vec(w);
            let (x, y) = (self.as_vec(x, iv), self.as_vec(y, iv));
            return self.b.ins().imul(x, y);
        }
        let xl = self.b.ins().uwiden_low(x);
        let yl = self.b.ins().uwiden_low(y);
        let xh = self.b.ins().uwiden_high(x);
        let yh = self.b.ins().uwiden_high(y);
        let lo = self.b.ins().imul(xl, yl);
        let hi = self.b.ins().imul(xh, yh);
        let (lo, hi) = (self.v128_of(lo), self.v128_of(hi));
        self.shuffle(lo, hi, narrow_mask(2))
    }

    /// Saturating add/sub and rounding average: native for 8/16-bit lanes,
    /// from sign and carry identities for wider lanes.
    fn vec_saturating(&mut self, op: VBin, w: u32, x: cl::Value, y: cl::Value) -> cl::Value {
        let iv = int_vec(w);
        let (x, y) = (self.as_vec(x, iv), self.as_vec(y, iv));
        if w <= 16 {
            let ins = self.b.ins();
            return match op {
                VBin::UaddSat => ins.uadd_sat(x, y),
                VBin::SaddSat => ins.sadd_sat(x, y),
                VBin::UsubSat => ins.usub_sat(x, y),
                VBin::SsubSat => ins.ssub_sat(x, y),
                _ => ins.avg_round(x, y),
            };
        }
        use condcodes::IntCC as C;
        match op {
            VBin::UaddSat => {
                let s = self.b.ins().iadd(x, y);
                let carry = self.b.ins().icmp(C::UnsignedLessThan, s, x);
                self.b.ins().bor(s, carry)
            }
            VBin::UsubSat => {
                let d = self.b.ins().isub(x, y);
                let keep = self.b.ins().icmp(C::UnsignedGreaterThanOrEqual, x, y);
                self.b.ins().band(d, keep)
            }
            VBin::SaddSat | VBin::SsubSat => {
                let add = op == VBin::SaddSat;
                let r = if add {
                    self.b.ins().iadd(x, y)
                } else {
                    self.b.ins().isub(x, y)
                };
                let a = if add {
                    self.b.ins().bxor(y, r)
                } else {
                    self.b.ins().bxor(x, y)
                };
                let b = self.b.ins().bxor(x, r);
                let t = self.b.ins().band(a, b);
                let overflow = self.b.ins().sshr_imm_s(t, i64::from(w - 1));
                let sign = self.b.ins().sshr_imm_s(x, i64::from(w - 1));
                let max = self.splat_const(iv, (1u128 << (w - 1)) - 1);
                let sat = self.b.ins().bxor(sign, max);
                self.b.ins().bitselect(overflow, sat, r)
            }
            _ => {
                // (x + y + 1) >> 1 == (x | y) - ((x ^ y) >> 1)
                let or = self.b.ins().bor(x, y);
                let xor = self.b.ins().bxor(x, y);
                let half = self.b.ins().ushr_imm_s(xor, 1);
                self.b.ins().isub(or, half)
            }
        }
    }

    fn vec_float(
        &mut self,
        op: VBin,
        ty: Type,
        x: cl::Value,
        y: cl::Value,
    ) -> Result<cl::Value, BackendError> {
        let fv = self.float_vec(ty)?;
        let (x, y) = (self.as_vec(x, fv), self.as_vec(y, fv));
        Ok(match op {
            VBin::Fadd => self.b.ins().fadd(x, y),
            VBin::Fsub => self.b.ins().fsub(x, y),
            VBin::Fmul => self.b.ins().fmul(x, y),
            VBin::Fdiv => self.b.ins().fdiv(x, y),
            VBin::Fmin => self.b.ins().fmin(x, y),
            VBin::Fmax => self.b.ins().fmax(x, y),
            _ => {
                let m = if op == VBin::Fminnum {
                    self.b.ins().fmin(x, y)
                } else {
                    self.b.ins().fmax(x, y)
                };
                let uno = condcodes::FloatCC::Unordered;
                let x_nan = self.b.ins().fcmp(uno, x, x);
                let y_nan = self.b.ins().fcmp(uno, y, y);
                let x_nan = self.cast(fv, x_nan);
                let y_nan = self.cast(fv, y_nan);
                let m = self.b.ins().bitselect(y_nan, x, m);
                self.b.ins().bitselect(x_nan, y, m)
            }
        })
    }

    /// Interleaving and de-interleaving as one shuffle.
    fn permute(&mut self, op: VBin, w: u32, x: cl::Value, y: cl::Value) -> cl::Value {
        let bytes = (w / 8) as usize;
        let n = 16 / bytes;
        let mask = match op {
            VBin::ZipLo | VBin::ZipHi => {
                let base = if op == VBin::ZipHi { n / 2 } else { 0 };
                lane_shuffle(bytes, |i| (i % 2) * n + base + i / 2)
            }
            _ => {
                let odd = usize::from(op == VBin::UzpOdd);
                lane_shuffle(bytes, |i| {
                    if i < n / 2 {
                        2 * i + odd
                    } else {
                        n + 2 * (i - n / 2) + odd
                    }
                })
            }
        };
        self.shuffle(x, y, mask)
    }

    /// Narrowing of `x` then `y` to half-width lanes.
    fn narrow(
        &mut self,
        op: VBin,
        ty: Type,
        x: cl::Value,
        y: cl::Value,
    ) -> Result<cl::Value, BackendError> {
        let w = ty.bits();
        if w < 16 {
            return Err(self.unsupported(format!("cannot narrow {ty} lanes")));
        }
        let bytes = (w / 8) as usize;
        if op == VBin::NarrowTrunc {
            return Ok(self.shuffle(x, y, narrow_mask(bytes)));
        }
        let iv = int_vec(w);
        let (vx, vy) = (self.as_vec(x, iv), self.as_vec(y, iv));
        if w < 64 {
            return Ok(if op == VBin::NarrowSsat {
                self.b.ins().snarrow(vx, vy)
            } else {
                self.b.ins().unarrow(vx, vy)
            });
        }
        let (lo, hi) = if op == VBin::NarrowSsat {
            (i32::MIN as i64 as u64 as u128, i32::MAX as u128)
        } else {
            (0, u128::from(u32::MAX))
        };
        let lo = self.splat_const(iv, lo);
        let hi = self.splat_const(iv, hi);
        let clamp = |s: &mut Self, v: cl::Value| {
            let v = s.b.ins().smax(v, lo);
            let v = s.b.ins().smin(v, hi);
            s.v128_of(v)
        };
        let (cx, cy) = (clamp(self, vx), clamp(self, vy));
        Ok(self.shuffle(cx, cy, narrow_mask(bytes)))
    }

    /// `x:y` bytes picked by `mask` (each index below 32).
    pub(super) fn shuffle(&mut self, x: cl::Value, y: cl::Value, mask: [u8; 16]) -> cl::Value {
        let x = self.v128_of(x);
        let y = self.v128_of(y);
        let imm = self
            .b
            .func
            .dfg
            .immediates
            .push(ConstantData::from(mask.to_vec()));
        self.b.ins().shuffle(x, y, imm)
    }

    /// Lane shifts by a scalar: `shl`/`ushr` by the width or more give 0,
    /// `sshr` shifts by at most width - 1.
    pub(super) fn vec_shift(
        &mut self,
        op: ShiftOp,
        ty: Type,
        x: cl::Value,
        amount: cl::Value,
        amount_ty: Type,
    ) -> cl::Value {
        use condcodes::IntCC as C;
        let w = ty.bits();
        let a = self.saturate_to_u64(amount, amount_ty);
        let big = self
            .b
            .ins()
            .icmp_imm_s(C::UnsignedGreaterThanOrEqual, a, i64::from(w));
        let top = self.b.ins().iconst(types::I64, i64::from(w - 1));
        let s = self.b.ins().select(big, top, a);
        let s = self.b.ins().ireduce(types::I32, s);
        let v = self.as_vec(x, int_vec(w));
        let r = match op {
            ShiftOp::Sshr => self.b.ins().sshr(v, s),
            ShiftOp::Shl | ShiftOp::Ushr => {
                let shifted = if op == ShiftOp::Shl {
                    self.b.ins().ishl(v, s)
                } else {
                    self.b.ins().ushr(v, s)
                };
                let r = self.v128_of(shifted);
                let zero = self.vconst([0; 16]);
                self.b.ins().select(big, zero, r)
            }
            ShiftOp::Rotl | ShiftOp::Rotr => unreachable!("no vector rotates"),
        };
        self.v128_of(r)
    }

    /// An unsigned integer amount of any type as an `i64`, all ones when it
    /// does not fit.
    fn saturate_to_u64(&mut self, v: cl::Value, ty: Type) -> cl::Value {
        match ty {
            Type::I64 => v,
            Type::I128 => {
                let (lo, hi) = self.b.ins().isplit(v);
                let high = self.b.ins().icmp_imm_s(condcodes::IntCC::NotEqual, hi, 0);
                let all = self.b.ins().iconst(types::I64, -1);
                self.b.ins().select(high, all, lo)
            }
            _ => self.b.ins().uextend(types::I64, v),
        }
    }

    pub(super) fn vec_icmp(
        &mut self,
        cc: IntCC,
        ty: Type,
        x: cl::Value,
        y: cl::Value,
    ) -> cl::Value {
        let iv = int_vec(ty.bits());
        let (x, y) = (self.as_vec(x, iv), self.as_vec(y, iv));
        let r = self.b.ins().icmp(cl_intcc(cc), x, y);
        self.v128_of(r)
    }

    pub(super) fn vec_fcmp(
        &mut self,
        cc: FloatCC,
        ty: Type,
        x: cl::Value,
        y: cl::Value,
    ) -> Result<cl::Value, BackendError> {
        let fv = self.float_vec(ty)?;
        let (x, y) = (self.as_vec(x, fv), self.as_vec(y, fv));
        let r = self.b.ins().fcmp(cl_floatcc(cc), x, y);
        Ok(self.v128_of(r))
    }

    pub(super) fn vec_splat(&mut self, ty: Type, x: cl::Value) -> cl::Value {
        let r = self.b.ins().splat(lane_vec(ty), x);
        self.v128_of(r)
    }

    pub(super) fn vec_extract(&mut self, ty: Type, x: cl::Value, lane: u8) -> cl::Value {
        // Moving the bits of a float lane 0 out is one `movd`/`movq`, where
        // `pextrd`/`pextrq` take two micro-ops.
        if lane == 0 {
            if let Some(f) = self.low_float_lane(ty, x) {
                return self.cast(cl_type(ty), f);
            }
        }
        let v = self.as_vec(x, lane_vec(ty));
        self.b.ins().extractlane(v, lane)
    }

    pub(super) fn vec_insert(
        &mut self,
        ty: Type,
        x: cl::Value,
        s: cl::Value,
        lane: u8,
    ) -> cl::Value {
        let v = self.as_vec(x, lane_vec(ty));
        let r = self.b.ins().insertlane(v, s, lane);
        self.v128_of(r)
    }

    /// Reductions in log2(lanes) steps: fold the upper half of the live
    /// lanes onto the lower half, then take lane 0.
    pub(super) fn vec_reduce(&mut self, op: VReduce, ty: Type, x: cl::Value) -> cl::Value {
        let w = ty.bits();
        let iv = int_vec(w);
        let bytes = (w / 8) as usize;
        let mut v = self.as_vec(x, iv);
        let mut lanes = 16 / bytes;
        while lanes > 1 {
            let half = lanes / 2;
            let mask = lane_shuffle(bytes, |i| (i + half) % 16);
            let t = self.shuffle(v, v, mask);
            let t = self.as_vec(t, iv);
            let ins = self.b.ins();
            v = match op {
                VReduce::Add => ins.iadd(v, t),
                VReduce::Umax => ins.umax(v, t),
                VReduce::Umin => ins.umin(v, t),
                VReduce::Smax => ins.smax(v, t),
                VReduce::Smin => ins.smin(v, t),
            };
            lanes = half;
        }
        let r = self.b.ins().extractlane(v, 0);
        self.cast(cl_type(ty), r)
    }
}

/// Float scalars in vector registers: the guest frontends keep a float
/// register as a `v128` and move its scalar through an integer of the same
/// width; these patterns stay in the vector register instead.
impl Lower<'_> {
    /// `bitcast.F (vextract.I lane, x)` (a float register's scalar, as the
    /// guest frontends read it) as one float lane extraction, which stays
    /// in the vector register instead of going through an integer one.
    pub(super) fn float_from_lane(&mut self, ty: Type, x: Value) -> Option<cl::Value> {
        let d = self.def_of(x)?;
        if !ty.is_float() || d.op != Opcode::Vextract || d.ty != ty.as_int() {
            return None;
        }
        let Imm::Lane(lane) = d.imm else {
            return None;
        };
        let v = self.val(d.args[0]);
        let v = self.as_vec(v, lane_vec(ty));
        Some(self.b.ins().extractlane(v, lane))
    }

    /// `vinsert.I 0, (vconst 0), x` (a scalar written to a vector register,
    /// upper bits zeroed) as one `scalar_to_vector`: `movsd`/`movq` from a
    /// float register, a general register or memory, where inserting into
    /// a zeroed register takes a zeroing and a `pinsr`. A float scalar the
    /// frontends move through an integer (`bitcast.I f`) stays in its
    /// vector register.
    pub(super) fn scalar_into_zero(&mut self, ty: Type, d: &InstData) -> Option<cl::Value> {
        let zero = self.def_of(d.args[0])?;
        let is_zero = zero.op == Opcode::Vconst && zero.imm == Imm::Int(0);
        if d.imm != Imm::Lane(0) || !is_zero {
            return None;
        }
        if let Some(f) = self.float_behind_cast(ty, d.args[1]) {
            let fty = self.ty(f);
            let f = self.val(f);
            let r = self.b.ins().scalar_to_vector(lane_vec(fty), f);
            return Some(self.v128_of(r));
        }
        let x = self.val(d.args[1]);
        let r = match ty {
            Type::I32 | Type::I64 => self.b.ins().scalar_to_vector(lane_vec(ty), x),
            // `movd` copies 32 bits of the register: clear the bits above
            // the lane first.
            Type::I8 | Type::I16 => {
                let wide = self.b.ins().uextend(types::I32, x);
                self.b.ins().scalar_to_vector(types::I32X4, wide)
            }
            _ => return None,
        };
        Some(self.v128_of(r))
    }

    /// A 32- or 64-bit integer `x` to be stored, as the float it holds when
    /// it is one: a float's bits (`bitcast.I f`) or the low lane of a
    /// vector register (`vextract.I 0, v`, as frontends store a float
    /// register). A float store (`movsd`/`movss`) writes the same bytes
    /// from the vector register, where a `pextrq` to memory takes two
    /// micro-ops and a `movq` to a general register one more instruction.
    pub(super) fn float_to_store(&mut self, x: Value) -> Option<cl::Value> {
        let ty = self.ty(x);
        if let Some(f) = self.float_behind_cast(ty, x) {
            return Some(self.val(f));
        }
        let d = self.def_of(x)?;
        if d.op != Opcode::Vextract || d.imm != Imm::Lane(0) {
            return None;
        }
        let v = self.val(d.args[0]);
        self.low_float_lane(ty, v)
    }

    /// Lane 0 of vector `v` as a float of the width of `ty` (I32 or I64):
    /// the vector register itself, no instruction.
    fn low_float_lane(&mut self, ty: Type, v: cl::Value) -> Option<cl::Value> {
        let fty = match ty {
            Type::I32 => Type::F32,
            Type::I64 => Type::F64,
            _ => return None,
        };
        let v = self.as_vec(v, lane_vec(fty));
        Some(self.b.ins().extractlane(v, 0))
    }

    /// The float `f` when `x` is `bitcast.I f` and `ty` (32 or 64 bits)
    /// its integer type.
    fn float_behind_cast(&self, ty: Type, x: Value) -> Option<Value> {
        let cast = self.def_of(x)?;
        let f = cast.args.first().copied()?;
        let from_float = cast.op == Opcode::Bitcast && self.ty(f).is_float();
        (from_float && matches!(ty, Type::I32 | Type::I64)).then_some(f)
    }
}
