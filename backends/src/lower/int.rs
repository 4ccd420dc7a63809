//! Integer ops: arithmetic, total division, shifts modulo the width, flags,
//! comparisons, extension and bit casts.
//!
//! `i1` values are Cranelift `i8`s holding 0 or 1. Ops on `i1` use closed
//! forms (an `i1` is 0 or -1 when read as signed), so no result ever holds
//! anything but 0 or 1.

use cranelift_codegen::ir::{self as cl, condcodes, types, InstBuilder, MemFlagsData};
use vmtrans_ir::{IntCC, Type};

use super::{cl_type, Lower};

/// Unary integer ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IntUn {
    Neg,
    Not,
    Clz,
    Ctz,
    Popcnt,
    Bswap,
    Bitrev,
}

/// Binary integer ops whose result has the operand type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum IntBin {
    Add,
    Sub,
    Mul,
    Umulhi,
    Smulhi,
    Sumulhi,
    Udiv,
    Sdiv,
    Urem,
    Srem,
    And,
    Or,
    Xor,
    AndNot,
    Umin,
    Umax,
    Smin,
    Smax,
}

/// Shifts and rotates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ShiftOp {
    Shl,
    Ushr,
    Sshr,
    Rotl,
    Rotr,
}

/// Overflow flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FlagOp {
    Uadd,
    Sadd,
    Usub,
    Ssub,
}

/// The Cranelift condition for an IR integer condition.
pub(super) fn cl_intcc(cc: IntCC) -> condcodes::IntCC {
    use condcodes::IntCC as C;
    match cc {
        IntCC::Eq => C::Equal,
        IntCC::Ne => C::NotEqual,
        IntCC::Slt => C::SignedLessThan,
        IntCC::Sle => C::SignedLessThanOrEqual,
        IntCC::Sgt => C::SignedGreaterThan,
        IntCC::Sge => C::SignedGreaterThanOrEqual,
        IntCC::Ult => C::UnsignedLessThan,
        IntCC::Ule => C::UnsignedLessThanOrEqual,
        IntCC::Ugt => C::UnsignedGreaterThan,
        IntCC::Uge => C::UnsignedGreaterThanOrEqual,
    }
}

fn is_signed(cc: IntCC) -> bool {
    matches!(cc, IntCC::Slt | IntCC::Sle | IntCC::Sgt | IntCC::Sge)
}

impl Lower<'_> {
    /// An integer constant of IR type `ty` (bits already masked).
    pub(super) fn iconst(&mut self, ty: Type, bits: u128) -> cl::Value {
        self.int_const(cl_type(ty), bits)
    }

    /// An integer constant of Cranelift type `ty`; `bits` is masked to it.
    pub(super) fn int_const(&mut self, ty: cl::Type, bits: u128) -> cl::Value {
        if ty == types::I128 {
            let lo = self.b.ins().iconst(types::I64, bits as u64 as i64);
            let hi = self.b.ins().iconst(types::I64, (bits >> 64) as u64 as i64);
            return self.b.ins().iconcat(lo, hi);
        }
        let masked = if ty.bits() >= 64 {
            bits as u64
        } else {
            bits as u64 & ((1u64 << ty.bits()) - 1)
        };
        self.b.ins().iconst(ty, masked as i64)
    }

    pub(super) fn int_unary(&mut self, op: IntUn, ty: Type, x: cl::Value) -> cl::Value {
        if ty == Type::I1 {
            return match op {
                IntUn::Neg | IntUn::Popcnt | IntUn::Bswap | IntUn::Bitrev => x,
                IntUn::Not | IntUn::Clz | IntUn::Ctz => self.b.ins().bxor_imm_s(x, 1),
            };
        }
        let ins = self.b.ins();
        match op {
            IntUn::Neg => ins.ineg(x),
            IntUn::Not => ins.bnot(x),
            IntUn::Clz => ins.clz(x),
            IntUn::Ctz => ins.ctz(x),
            IntUn::Popcnt => ins.popcnt(x),
            IntUn::Bswap if ty == Type::I8 => x,
            IntUn::Bswap => ins.bswap(x),
            IntUn::Bitrev => ins.bitrev(x),
        }
    }

    pub(super) fn int_binary(
        &mut self,
        op: IntBin,
        ty: Type,
        x: cl::Value,
        y: cl::Value,
    ) -> cl::Value {
        if ty == Type::I1 {
            return self.i1_binary(op, x, y);
        }
        match op {
            IntBin::Add => self.b.ins().iadd(x, y),
            IntBin::Sub => self.b.ins().isub(x, y),
            IntBin::Mul => self.b.ins().imul(x, y),
            IntBin::And => self.b.ins().band(x, y),
            IntBin::Or => self.b.ins().bor(x, y),
            IntBin::Xor => self.b.ins().bxor(x, y),
            IntBin::AndNot => {
                let ny = self.b.ins().bnot(y);
                self.b.ins().band(x, ny)
            }
            IntBin::Umulhi | IntBin::Smulhi | IntBin::Sumulhi => self.mulhi(op, ty, x, y),
            IntBin::Udiv | IntBin::Urem | IntBin::Sdiv | IntBin::Srem => self.divide(op, ty, x, y),
            IntBin::Umin | IntBin::Umax | IntBin::Smin | IntBin::Smax => {
                self.int_min_max(op, ty, x, y)
            }
        }
    }

    /// Binary ops on `i1` in closed form (signed, an `i1` is 0 or -1).
    fn i1_binary(&mut self, op: IntBin, x: cl::Value, y: cl::Value) -> cl::Value {
        match op {
            IntBin::Add | IntBin::Sub | IntBin::Xor => self.b.ins().bxor(x, y),
            IntBin::Mul
            | IntBin::And
            | IntBin::Umin
            | IntBin::Smax
            | IntBin::Udiv
            | IntBin::Sdiv
            | IntBin::Sumulhi => self.b.ins().band(x, y),
            IntBin::Or | IntBin::Umax | IntBin::Smin => self.b.ins().bor(x, y),
            IntBin::AndNot | IntBin::Urem | IntBin::Srem => {
                let ny = self.b.ins().bxor_imm_s(y, 1);
                self.b.ins().band(x, ny)
            }
            IntBin::Umulhi | IntBin::Smulhi => self.b.ins().iconst(types::I8, 0),
        }
    }

    /// High halves of products: narrow types through a 64-bit product,
    /// `i64` natively, `i128` through four 64×64 products.
    fn mulhi(&mut self, op: IntBin, ty: Type, x: cl::Value, y: cl::Value) -> cl::Value {
        match ty {
            Type::I128 => self.mulhi128(op, x, y),
            Type::I64 => match op {
                IntBin::Umulhi => self.b.ins().umulhi(x, y),
                IntBin::Smulhi => self.b.ins().smulhi(x, y),
                _ => {
                    // signed x times unsigned y = umulhi - (x < 0 ? y : 0)
                    let hi = self.b.ins().umulhi(x, y);
                    let sign = self.b.ins().sshr_imm_s(x, 63);
                    let fix = self.b.ins().band(sign, y);
                    self.b.ins().isub(hi, fix)
                }
            },
            _ => {
                let w = i64::from(ty.bits());
                let (sx, sy) = match op {
                    IntBin::Umulhi => (false, false),
                    IntBin::Smulhi => (true, true),
                    _ => (true, false),
                };
                let wx = self.widen64(sx, x);
                let wy = self.widen64(sy, y);
                let p = self.b.ins().imul(wx, wy);
                let hi = self.b.ins().ushr_imm_s(p, w);
                self.b.ins().ireduce(cl_type(ty), hi)
            }
        }
    }

    fn widen64(&mut self, signed: bool, x: cl::Value) -> cl::Value {
        if signed {
            self.b.ins().sextend(types::I64, x)
        } else {
            self.b.ins().uextend(types::I64, x)
        }
    }

    /// Total division: the divisor is replaced by 1 where the host would
    /// trap, and the defined result is selected.
    fn divide(&mut self, op: IntBin, ty: Type, x: cl::Value, y: cl::Value) -> cl::Value {
        if ty == Type::I128 {
            return self.divide128(op, x, y);
        }
        let t = cl_type(ty);
        let zero = self.int_const(t, 0);
        let one = self.int_const(t, 1);
        let y_zero = self.b.ins().icmp_imm_s(condcodes::IntCC::Equal, y, 0);
        match op {
            IntBin::Udiv | IntBin::Urem => {
                let safe = self.b.ins().select(y_zero, one, y);
                if op == IntBin::Udiv {
                    let q = self.b.ins().udiv(x, safe);
                    self.b.ins().select(y_zero, zero, q)
                } else {
                    let r = self.b.ins().urem(x, safe);
                    self.b.ins().select(y_zero, x, r)
                }
            }
            _ => {
                let all_ones = self.int_const(t, u128::MAX);
                let y_m1 = self.b.ins().icmp(condcodes::IntCC::Equal, y, all_ones);
                let bad = self.b.ins().bor(y_zero, y_m1);
                let safe = self.b.ins().select(bad, one, y);
                if op == IntBin::Sdiv {
                    let q = self.b.ins().sdiv(x, safe);
                    let neg = self.b.ins().ineg(x);
                    let q = self.b.ins().select(y_m1, neg, q);
                    self.b.ins().select(y_zero, zero, q)
                } else {
                    let r = self.b.ins().srem(x, safe);
                    self.b.ins().select(y_zero, x, r)
                }
            }
        }
    }

    fn int_min_max(&mut self, op: IntBin, ty: Type, x: cl::Value, y: cl::Value) -> cl::Value {
        if ty != Type::I128 {
            let ins = self.b.ins();
            return match op {
                IntBin::Umin => ins.umin(x, y),
                IntBin::Umax => ins.umax(x, y),
                IntBin::Smin => ins.smin(x, y),
                _ => ins.smax(x, y),
            };
        }
        use condcodes::IntCC as C;
        let cc = match op {
            IntBin::Umin => C::UnsignedLessThan,
            IntBin::Umax => C::UnsignedGreaterThan,
            IntBin::Smin => C::SignedLessThan,
            _ => C::SignedGreaterThan,
        };
        let c = self.b.ins().icmp(cc, x, y);
        // A plain select would be rewritten into `umin.i128` etc., which
        // x86_64 cannot lower: pick with a mask instead.
        let c = self.b.ins().uextend(types::I128, c);
        let mask = self.b.ins().ineg(c);
        let diff = self.b.ins().bxor(x, y);
        let pick = self.b.ins().band(diff, mask);
        self.b.ins().bxor(y, pick)
    }

    /// Shifts and rotates, the amount taken modulo the width (Cranelift's
    /// own rule); an `i128` amount is reduced to its low 64 bits first,
    /// which keeps it modulo every width.
    pub(super) fn shift(
        &mut self,
        op: ShiftOp,
        ty: Type,
        x: cl::Value,
        amount: cl::Value,
        amount_ty: Type,
    ) -> cl::Value {
        if ty == Type::I1 {
            return x;
        }
        let amount = if amount_ty == Type::I128 {
            self.b.ins().ireduce(types::I64, amount)
        } else {
            amount
        };
        let ins = self.b.ins();
        match op {
            ShiftOp::Shl => ins.ishl(x, amount),
            ShiftOp::Ushr => ins.ushr(x, amount),
            ShiftOp::Sshr => ins.sshr(x, amount),
            ShiftOp::Rotl => ins.rotl(x, amount),
            ShiftOp::Rotr => ins.rotr(x, amount),
        }
    }

    /// Overflow flags from the sign bits of the operands and the result.
    pub(super) fn flag(&mut self, op: FlagOp, ty: Type, x: cl::Value, y: cl::Value) -> cl::Value {
        use condcodes::IntCC as C;
        if ty == Type::I1 {
            return match op {
                FlagOp::Uadd | FlagOp::Sadd => self.b.ins().band(x, y),
                FlagOp::Usub | FlagOp::Ssub => {
                    let nx = self.b.ins().bxor_imm_s(x, 1);
                    self.b.ins().band(nx, y)
                }
            };
        }
        match op {
            FlagOp::Uadd => {
                let r = self.b.ins().iadd(x, y);
                self.b.ins().icmp(C::UnsignedLessThan, r, x)
            }
            FlagOp::Usub => self.b.ins().icmp(C::UnsignedLessThan, x, y),
            FlagOp::Sadd => {
                let r = self.b.ins().iadd(x, y);
                let a = self.b.ins().bxor(x, r);
                let b = self.b.ins().bxor(y, r);
                let t = self.b.ins().band(a, b);
                self.is_negative(t)
            }
            FlagOp::Ssub => {
                let r = self.b.ins().isub(x, y);
                let a = self.b.ins().bxor(x, y);
                let b = self.b.ins().bxor(x, r);
                let t = self.b.ins().band(a, b);
                self.is_negative(t)
            }
        }
    }

    /// 1 when the sign bit of `x` is set.
    pub(super) fn is_negative(&mut self, x: cl::Value) -> cl::Value {
        let x = if self.b.func.dfg.value_type(x) == types::I128 {
            self.b.ins().isplit(x).1
        } else {
            x
        };
        self.b
            .ins()
            .icmp_imm_s(condcodes::IntCC::SignedLessThan, x, 0)
    }

    /// x86 parity of the low byte: 1 for an even number of set bits.
    pub(super) fn parity(&mut self, ty: Type, x: cl::Value) -> cl::Value {
        if ty == Type::I1 {
            return self.b.ins().bxor_imm_s(x, 1);
        }
        let low = if ty == Type::I8 {
            x
        } else {
            self.b.ins().ireduce(types::I8, x)
        };
        let wide = self.b.ins().uextend(types::I32, low);
        let count = self.b.ins().popcnt(wide);
        let odd = self.b.ins().band_imm_s(count, 1);
        let even = self.b.ins().bxor_imm_s(odd, 1);
        self.b.ins().ireduce(types::I8, even)
    }

    /// Comparison; signed `i1` comparisons see 0 and -1.
    pub(super) fn icmp(&mut self, cc: IntCC, ty: Type, x: cl::Value, y: cl::Value) -> cl::Value {
        let (x, y) = if ty == Type::I1 && is_signed(cc) {
            (self.b.ins().ineg(x), self.b.ins().ineg(y))
        } else {
            (x, y)
        };
        self.b.ins().icmp(cl_intcc(cc), x, y)
    }

    /// Zero or sign extension from `from` to `to`.
    pub(super) fn extend(&mut self, signed: bool, from: Type, to: Type, x: cl::Value) -> cl::Value {
        let t = cl_type(to);
        if from == Type::I1 {
            let wide = if to == Type::I8 {
                x
            } else {
                self.b.ins().uextend(t, x)
            };
            return if signed {
                self.b.ins().ineg(wide)
            } else {
                wide
            };
        }
        if signed {
            self.b.ins().sextend(t, x)
        } else {
            self.b.ins().uextend(t, x)
        }
    }

    /// Truncation from `from` to `to`.
    pub(super) fn reduce(&mut self, from: Type, to: Type, x: cl::Value) -> cl::Value {
        if to == Type::I1 {
            let byte = if from == Type::I8 {
                x
            } else {
                self.b.ins().ireduce(types::I8, x)
            };
            return self.b.ins().band_imm_s(byte, 1);
        }
        self.b.ins().ireduce(cl_type(to), x)
    }

    /// Reinterprets the bits of `x` as `to` (same width).
    pub(super) fn bitcast(&mut self, to: Type, x: cl::Value) -> cl::Value {
        self.cast(cl_type(to), x)
    }

    /// Cranelift bitcast with little-endian lane order (a no-op when the
    /// type already matches).
    pub(super) fn cast(&mut self, to: cl::Type, x: cl::Value) -> cl::Value {
        if self.b.func.dfg.value_type(x) == to {
            return x;
        }
        let flags = MemFlagsData::new().with_endianness(cl::Endianness::Little);
        self.b.ins().bitcast(to, flags, x)
    }
}
