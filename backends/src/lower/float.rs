//! Float ops and int/float conversions.
//!
//! Rounding: ops in the `dyn` mode (and `rne` unless
//! [`CompileOptions::native_rne`](crate::CompileOptions) is off) use the
//! native SSE instructions, which round in the host MXCSR mode the runtime
//! keeps equal to the guest's dynamic mode; other static modes call the
//! exact slow path [`vmtrans_abi::helpers::FP_OP`]. `fround` with a
//! directed or nearest-even mode is `roundss`/`roundsd` with that mode.
//! `fma` on a CPU without FMA instructions also takes the slow path (in its
//! own rounding mode, `dyn` included) rather than a libm call.
//! Min/max follow IEEE 754-2019, float→int conversions truncate, saturate
//! and give 0 for NaN, all without helpers.

use cranelift_codegen::ir::{self as cl, condcodes, types, InstBuilder};
use vmtrans_abi::{fp_op, helpers};
use vmtrans_ir::{FloatCC, RoundingMode, Type};

use super::{cl_type, Lower};
use crate::BackendError;

/// Float ops that round.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum FpOp {
    Add,
    Sub,
    Mul,
    Div,
    Sqrt,
    Fma,
}

impl FpOp {
    fn code(self) -> u32 {
        match self {
            FpOp::Add => fp_op::FADD,
            FpOp::Sub => fp_op::FSUB,
            FpOp::Mul => fp_op::FMUL,
            FpOp::Div => fp_op::FDIV,
            FpOp::Sqrt => fp_op::FSQRT,
            FpOp::Fma => fp_op::FMA,
        }
    }
}

/// The IEEE minimum/maximum family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum MinMax {
    Min,
    Max,
    MinNum,
    MaxNum,
}

/// The Cranelift condition for an IR float condition.
pub(super) fn cl_floatcc(cc: FloatCC) -> condcodes::FloatCC {
    use condcodes::FloatCC as C;
    match cc {
        FloatCC::Eq => C::Equal,
        FloatCC::Ne => C::NotEqual,
        FloatCC::Lt => C::LessThan,
        FloatCC::Le => C::LessThanOrEqual,
        FloatCC::Gt => C::GreaterThan,
        FloatCC::Ge => C::GreaterThanOrEqual,
        FloatCC::Ord => C::Ordered,
        FloatCC::Uno => C::Unordered,
    }
}

/// (stored significand bits, exponent bits) of a float type.
fn format(ty: Type) -> (u32, u32) {
    if ty == Type::F32 {
        (23, 8)
    } else {
        (52, 11)
    }
}

impl Lower<'_> {
    /// A float constant from its IEEE bits.
    pub(super) fn fconst(&mut self, ty: Type, bits: u128) -> cl::Value {
        if ty == Type::F32 {
            self.b
                .ins()
                .f32const(cl::immediates::Ieee32::with_bits(bits as u32))
        } else {
            self.b
                .ins()
                .f64const(cl::immediates::Ieee64::with_bits(bits as u64))
        }
    }

    /// `2^e` (exactly representable) as a float of type `ty`.
    fn pow2(&mut self, ty: Type, e: u32) -> cl::Value {
        let (man, exp) = format(ty);
        let bias = (1u128 << (exp - 1)) - 1;
        self.fconst(ty, (bias + u128::from(e)) << man)
    }

    /// True when the op can use the host instruction, which rounds in the
    /// host's (the guest's dynamic) mode. Not when every operand is a
    /// constant: Cranelift would fold the op at compile time, rounding to
    /// nearest whatever the guest's mode is at run time.
    fn native_rounding(&self, rm: RoundingMode, operands: &[cl::Value]) -> bool {
        let native = rm == RoundingMode::Dyn || (rm == RoundingMode::Rne && self.opts.native_rne);
        native && !operands.iter().all(|&v| self.is_constant(v))
    }

    /// True when `v` is a Cranelift constant (a candidate for folding).
    fn is_constant(&self, v: cl::Value) -> bool {
        let dfg = &self.b.func.dfg;
        match dfg.value_def(v) {
            cl::ValueDef::Result(inst, _) => matches!(
                dfg.insts[inst].opcode(),
                cl::Opcode::Iconst | cl::Opcode::F32const | cl::Opcode::F64const
            ),
            _ => false,
        }
    }

    /// `fadd`/`fsub`/`fmul`/`fdiv`/`fsqrt`/`fma` in rounding mode `rm`.
    pub(super) fn float_rm(
        &mut self,
        op: FpOp,
        ty: Type,
        rm: RoundingMode,
        a: &[cl::Value],
    ) -> Result<cl::Value, BackendError> {
        // Without FMA instructions Cranelift would call libm's `fma`; the
        // runtime's slow path (in the same rounding mode) serves instead.
        let no_native_fma = op == FpOp::Fma && !self.has_fma;
        if !self.native_rounding(rm, a) || no_native_fma {
            let code = fp_op::encode(op.code(), ty.bits(), 0);
            let bits: Vec<cl::Value> = a.iter().map(|&v| self.float_bits64(ty, v)).collect();
            return self.fp_slow_path(code, rm, &bits, ty);
        }
        let ins = self.b.ins();
        Ok(match op {
            FpOp::Add => ins.fadd(a[0], a[1]),
            FpOp::Sub => ins.fsub(a[0], a[1]),
            FpOp::Mul => ins.fmul(a[0], a[1]),
            FpOp::Div => ins.fdiv(a[0], a[1]),
            FpOp::Sqrt => ins.sqrt(a[0]),
            FpOp::Fma => ins.fma(a[0], a[1], a[2]),
        })
    }

    /// `fround`: `roundss`/`roundsd` for rtz/rdn/rup/rne, the helper for
    /// rmm and for the dynamic mode.
    pub(super) fn fround(
        &mut self,
        ty: Type,
        rm: RoundingMode,
        x: cl::Value,
    ) -> Result<cl::Value, BackendError> {
        let ins = self.b.ins();
        Ok(match rm {
            RoundingMode::Rtz => ins.trunc(x),
            RoundingMode::Rdn => ins.floor(x),
            RoundingMode::Rup => ins.ceil(x),
            RoundingMode::Rne => ins.nearest(x),
            RoundingMode::Rmm | RoundingMode::Dyn => {
                let code = fp_op::encode(fp_op::FROUND, ty.bits(), 0);
                let bits = self.float_bits64(ty, x);
                return self.fp_slow_path(code, rm, &[bits], ty);
            }
        })
    }

    /// Calls the slow-path helper on 64-bit operand patterns; the result is
    /// converted to `ty`.
    fn fp_slow_path(
        &mut self,
        code: u32,
        rm: RoundingMode,
        operands: &[cl::Value],
        ty: Type,
    ) -> Result<cl::Value, BackendError> {
        let i64t = types::I64;
        let i32t = types::I32;
        let f = self.import(
            helpers::FP_OP,
            &[i64t, i32t, i32t, i64t, i64t, i64t],
            &[i64t],
        )?;
        let mut args = vec![
            self.state,
            self.b.ins().iconst(i32t, i64::from(code)),
            self.b.ins().iconst(i32t, i64::from(rm.number())),
        ];
        for i in 0..3 {
            args.push(match operands.get(i) {
                Some(&v) => v,
                None => self.b.ins().iconst(i64t, 0),
            });
        }
        let r = self.call(f, &args).expect("the fp helper returns a value");
        Ok(self.bits64_to_float(ty, r))
    }

    /// The IEEE bits of a float, zero-extended to `i64`.
    fn float_bits64(&mut self, ty: Type, v: cl::Value) -> cl::Value {
        if ty == Type::F32 {
            let bits = self.cast(types::I32, v);
            self.b.ins().uextend(types::I64, bits)
        } else {
            self.cast(types::I64, v)
        }
    }

    /// A float of type `ty` from bits in the low end of an `i64`.
    fn bits64_to_float(&mut self, ty: Type, v: cl::Value) -> cl::Value {
        if ty == Type::F32 {
            let bits = self.b.ins().ireduce(types::I32, v);
            self.cast(types::F32, bits)
        } else {
            self.cast(types::F64, v)
        }
    }

    /// IEEE minimum/maximum (Cranelift's `fmin`/`fmax`), and
    /// minimumNumber/maximumNumber, which prefer the number over a NaN.
    pub(super) fn fmin_max(&mut self, op: MinMax, x: cl::Value, y: cl::Value) -> cl::Value {
        let m = match op {
            MinMax::Min | MinMax::MinNum => self.b.ins().fmin(x, y),
            MinMax::Max | MinMax::MaxNum => self.b.ins().fmax(x, y),
        };
        if matches!(op, MinMax::Min | MinMax::Max) {
            return m;
        }
        let uno = condcodes::FloatCC::Unordered;
        let x_nan = self.b.ins().fcmp(uno, x, x);
        let y_nan = self.b.ins().fcmp(uno, y, y);
        let m = self.b.ins().select(y_nan, x, m);
        self.b.ins().select(x_nan, y, m)
    }

    pub(super) fn fcmp(&mut self, cc: FloatCC, x: cl::Value, y: cl::Value) -> cl::Value {
        self.b.ins().fcmp(cl_floatcc(cc), x, y)
    }

    /// The RISC-V class mask: bit 0 -inf, 1 negative normal, 2 negative
    /// subnormal, 3 -0, 4 +0, 5 positive subnormal, 6 positive normal,
    /// 7 +inf, 8 signaling NaN, 9 quiet NaN.
    pub(super) fn fclass(&mut self, ty: Type, x: cl::Value) -> cl::Value {
        use condcodes::IntCC as C;
        let (man, exp) = format(ty);
        let it = cl_type(ty.as_int());
        let bits = self.cast(it, x);
        let neg = self.b.ins().icmp_imm_s(C::SignedLessThan, bits, 0);
        let e = self.b.ins().ushr_imm_s(bits, i64::from(man));
        let max_e = (1i64 << exp) - 1;
        let e = self.b.ins().band_imm_s(e, max_e);
        let frac = self.b.ins().band_imm_s(bits, (1i64 << man) - 1);
        let e_max = self.b.ins().icmp_imm_s(C::Equal, e, max_e);
        let e_zero = self.b.ins().icmp_imm_s(C::Equal, e, 0);
        let frac_zero = self.b.ins().icmp_imm_s(C::Equal, frac, 0);
        let quiet_bit = self.b.ins().band_imm_s(bits, 1i64 << (man - 1));
        let quiet = self.b.ins().icmp_imm_s(C::NotEqual, quiet_bit, 0);
        let k = |s: &mut Self, n: i64| s.b.ins().iconst(types::I32, n);
        // k: 0 infinity, 1 normal, 2 subnormal, 3 zero (negative side).
        let (k0, k1, k2, k3) = (k(self, 0), k(self, 1), k(self, 2), k(self, 3));
        let tiny = self.b.ins().select(frac_zero, k3, k2);
        let big = self.b.ins().select(e_max, k0, k1);
        let kind = self.b.ins().select(e_zero, tiny, big);
        let seven = k(self, 7);
        let mirrored = self.b.ins().isub(seven, kind);
        let index = self.b.ins().select(neg, kind, mirrored);
        let (k8, k9) = (k(self, 8), k(self, 9));
        let nan_index = self.b.ins().select(quiet, k9, k8);
        let frac_set = self.b.ins().bxor_imm_s(frac_zero, 1);
        let is_nan = self.b.ins().band(e_max, frac_set);
        let index = self.b.ins().select(is_nan, nan_index, index);
        let one = k(self, 1);
        self.b.ins().ishl(one, index)
    }

    /// `fcvt_from_sint`/`fcvt_from_uint` from any integer width.
    pub(super) fn int_to_float(
        &mut self,
        signed: bool,
        from: Type,
        to: Type,
        rm: RoundingMode,
        x: cl::Value,
    ) -> Result<cl::Value, BackendError> {
        if !self.native_rounding(rm, &[x]) {
            let kind = if signed {
                fp_op::FCVT_FROM_SINT
            } else {
                fp_op::FCVT_FROM_UINT
            };
            let code = fp_op::encode(kind, to.bits(), from.bits());
            let operands = self.int_operand_bits(from, x);
            return self.fp_slow_path(code, rm, &operands, to);
        }
        let t = cl_type(to);
        Ok(match (from, signed) {
            (Type::I128, _) => self.i128_to_float(signed, to, x),
            (_, true) => self.b.ins().fcvt_from_sint(t, x),
            (_, false) => self.b.ins().fcvt_from_uint(t, x),
        })
    }

    /// An integer's bits as `i64` helper operands (an `i128` as low, high).
    fn int_operand_bits(&mut self, ty: Type, x: cl::Value) -> Vec<cl::Value> {
        match ty {
            Type::I128 => {
                let (lo, hi) = self.b.ins().isplit(x);
                vec![lo, hi]
            }
            Type::I64 => vec![x],
            _ => vec![self.b.ins().uextend(types::I64, x)],
        }
    }

    /// `i128` → float rounding once in the host mode: shift the value into
    /// 64 bits keeping a sticky bit for everything shifted out, convert
    /// that, and scale back by an exact power of two.
    fn i128_to_float(&mut self, signed: bool, to: Type, x: cl::Value) -> cl::Value {
        use condcodes::IntCC as C;
        let magnitude = if signed {
            let amount = self.b.ins().iconst(types::I64, 127);
            let sign = self.b.ins().sshr(x, amount);
            self.b.ins().bxor(x, sign)
        } else {
            x
        };
        let lz = self.b.ins().clz(magnitude);
        let lz = self.b.ins().ireduce(types::I64, lz);
        // Bits that must go: value bits (plus the sign) beyond 64.
        let keep = if signed { 65 } else { 64 };
        let keep_v = self.b.ins().iconst(types::I64, keep);
        let excess = self.b.ins().isub(keep_v, lz);
        let zero = self.b.ins().iconst(types::I64, 0);
        let fits = self.b.ins().icmp_imm_s(C::SignedLessThanOrEqual, excess, 0);
        let n = self.b.ins().select(fits, zero, excess);
        let q = if signed {
            self.b.ins().sshr(x, n)
        } else {
            self.b.ins().ushr(x, n)
        };
        let one = self.int_const(types::I128, 1);
        let bit = self.b.ins().ishl(one, n);
        let low_mask = self.b.ins().isub(bit, one);
        let lost = self.b.ins().band(x, low_mask);
        let zero128 = self.int_const(types::I128, 0);
        let sticky = self.b.ins().icmp(C::NotEqual, lost, zero128);
        let sticky = self.b.ins().uextend(types::I64, sticky);
        let q = self.b.ins().ireduce(types::I64, q);
        let q = self.b.ins().bor(q, sticky);
        let t = cl_type(to);
        let f = if signed {
            self.b.ins().fcvt_from_sint(t, q)
        } else {
            self.b.ins().fcvt_from_uint(t, q)
        };
        let scale = self.pow2_dynamic(to, n);
        self.b.ins().fmul(f, scale)
    }

    /// `2^n` as a float of type `ty`, for a small non-negative `i64` `n`.
    fn pow2_dynamic(&mut self, ty: Type, n: cl::Value) -> cl::Value {
        let (man, exp) = format(ty);
        let bias = (1i64 << (exp - 1)) - 1;
        let e = self.b.ins().iadd_imm_s(n, bias);
        let bits = self.b.ins().ishl_imm_s(e, i64::from(man));
        if ty == Type::F32 {
            let bits = self.b.ins().ireduce(types::I32, bits);
            self.cast(types::F32, bits)
        } else {
            self.cast(types::F64, bits)
        }
    }

    /// `fcvt_to_sint`/`fcvt_to_uint`: truncate, saturate, NaN → 0.
    pub(super) fn float_to_int(
        &mut self,
        signed: bool,
        from: Type,
        to: Type,
        x: cl::Value,
    ) -> Result<cl::Value, BackendError> {
        Ok(match to {
            Type::I32 | Type::I64 => self.fcvt_sat(signed, cl_type(to), x),
            Type::I8 | Type::I16 => {
                let v = self.fcvt_sat(signed, types::I32, x);
                let bits = to.bits();
                let v = if signed {
                    let max = self.b.ins().iconst(types::I32, (1i64 << (bits - 1)) - 1);
                    let min = self.b.ins().iconst(types::I32, -(1i64 << (bits - 1)));
                    let v = self.b.ins().smin(v, max);
                    self.b.ins().smax(v, min)
                } else {
                    let max = self.b.ins().iconst(types::I32, (1i64 << bits) - 1);
                    self.b.ins().umin(v, max)
                };
                self.b.ins().ireduce(cl_type(to), v)
            }
            Type::I128 => self.float_to_i128(signed, from, x),
            _ => {
                return Err(self.unsupported(format!("float to {to} conversion")));
            }
        })
    }

    fn fcvt_sat(&mut self, signed: bool, to: cl::Type, x: cl::Value) -> cl::Value {
        if signed {
            self.b.ins().fcvt_to_sint_sat(to, x)
        } else {
            self.b.ins().fcvt_to_uint_sat(to, x)
        }
    }

    /// Float → `i128`: the 64-bit conversion below 2^63 (2^64 unsigned),
    /// saturation at the limits, and the exact integer built from the
    /// significand and exponent in between (a value that large is
    /// integral).
    fn float_to_i128(&mut self, signed: bool, from: Type, x: cl::Value) -> cl::Value {
        use condcodes::FloatCC as C;
        let small64 = self.fcvt_sat(signed, types::I64, x);
        let small = if signed {
            self.b.ins().sextend(types::I128, small64)
        } else {
            self.b.ins().uextend(types::I128, small64)
        };
        let (mag_input, small_limit, big_limit) = if signed {
            (self.b.ins().fabs(x), 63, 127)
        } else {
            (x, 64, 128)
        };
        let lim = self.pow2(from, small_limit);
        // NaN takes the small path too, where it converts to 0.
        let fits = self.b.ins().fcmp(C::UnorderedOrLessThan, mag_input, lim);
        let too_big = if from == Type::F32 && big_limit == 128 {
            // 2^128 is not an f32: only +inf is that large.
            let inf = self.fconst(from, 0x7f80_0000);
            self.b.ins().fcmp(C::GreaterThanOrEqual, mag_input, inf)
        } else {
            let big = self.pow2(from, big_limit);
            self.b.ins().fcmp(C::GreaterThanOrEqual, mag_input, big)
        };
        let exact = self.float_integer_i128(signed, from, x);
        let sat = self.saturated_i128(signed, x);
        let large = self.b.ins().select(too_big, sat, exact);
        self.b.ins().select(fits, small, large)
    }

    /// The integer value of an integral float of magnitude at least 2^52,
    /// as an `i128` (meaningful only below the saturation limit).
    fn float_integer_i128(&mut self, signed: bool, from: Type, x: cl::Value) -> cl::Value {
        let (man, exp) = format(from);
        let it = cl_type(from.as_int());
        let bits = self.cast(it, x);
        let e = self.b.ins().ushr_imm_s(bits, i64::from(man));
        let e = self.b.ins().band_imm_s(e, (1i64 << exp) - 1);
        let frac = self.b.ins().band_imm_s(bits, (1i64 << man) - 1);
        let m = self.b.ins().bor_imm_s(frac, 1i64 << man);
        let m = self.b.ins().uextend(types::I128, m);
        let bias = (1i64 << (exp - 1)) - 1;
        let shift = self.b.ins().iadd_imm_s(e, -(bias + i64::from(man)));
        let shift = if it == types::I32 {
            self.b.ins().uextend(types::I64, shift)
        } else {
            shift
        };
        let mag = self.b.ins().ishl(m, shift);
        if !signed {
            return mag;
        }
        let neg = self
            .b
            .ins()
            .icmp_imm_s(condcodes::IntCC::SignedLessThan, bits, 0);
        let negated = self.b.ins().ineg(mag);
        self.b.ins().select(neg, negated, mag)
    }

    /// The saturated `i128` for an out-of-range `x` (by its sign).
    fn saturated_i128(&mut self, signed: bool, x: cl::Value) -> cl::Value {
        if !signed {
            return self.int_const(types::I128, u128::MAX);
        }
        let max = self.int_const(types::I128, i128::MAX as u128);
        let min = self.int_const(types::I128, i128::MIN as u128);
        let zero = self.fconst_like(x, 0);
        let neg = self.b.ins().fcmp(condcodes::FloatCC::LessThan, x, zero);
        self.b.ins().select(neg, min, max)
    }

    /// A float constant of the same type as `x`.
    fn fconst_like(&mut self, x: cl::Value, bits: u128) -> cl::Value {
        if self.b.func.dfg.value_type(x) == types::F32 {
            self.fconst(Type::F32, bits)
        } else {
            self.fconst(Type::F64, bits)
        }
    }

    /// `fconvert`: widening is exact; narrowing rounds (natively in the
    /// host mode, else through the helper).
    pub(super) fn fconvert(
        &mut self,
        from: Type,
        to: Type,
        rm: RoundingMode,
        x: cl::Value,
    ) -> Result<cl::Value, BackendError> {
        if to == Type::F64 {
            return Ok(self.b.ins().fpromote(types::F64, x));
        }
        if self.native_rounding(rm, &[x]) {
            return Ok(self.b.ins().fdemote(types::F32, x));
        }
        let code = fp_op::encode(fp_op::FCONVERT, to.bits(), from.bits());
        let bits = self.float_bits64(from, x);
        self.fp_slow_path(code, rm, &[bits], to)
    }
}
