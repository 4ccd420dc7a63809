//! Scalar floating point: arithmetic, fused multiply-add, compares (into
//! NZCV), conditional select/compare, conversions to and from integers
//! and between precisions, rounding to integral, moves and immediates.
//!
//! Arithmetic rounds in FPCR's mode (the IR's dynamic mode, which the
//! runtime mirrors in the host); exception flags accrue in the host and
//! reach FPSR through the `fp_sync_flags` helper when FPSR is read.
//! Half precision is not lifted (not advertised: no FPHP).
//!
//! NaN results follow the architecture, not the host: the first signalling
//! NaN operand quieted, else the first quiet NaN operand, else the default
//! NaN (positive, quiet, zero payload); always the default NaN when
//! FPCR.DN is set ([`arm_nan`]).
//!
//! FPCR.FZ (flush to zero) is the host's: writing FPCR sets MXCSR DAZ+FTZ,
//! so subnormal operands read as zero and subnormal results become zero
//! (UFC without IXC, see the runtime's `accrue_fp_flags`). The host does
//! not report flushed operands, so the lifter raises FPSR.IDC itself
//! ([`input_denormal`], [`vector_input_denormal`]) for the arithmetic,
//! compare and conversion operations.

use vmtrans_ir::{FloatCC, RoundingMode, Type, Value};

use super::simd::{low, set_low, vfp_expand32, vfp_expand64, vreg};
use super::{bit, bits, cond, gp, k, not1, set_gp, unsupported, LiftCx, Lifted};
use crate::aarch64::regs::{C, FPCR, N, V, Z};
use vmtrans_ir::IntCC;

/// The quiet bit of a NaN of type `ty`.
fn quiet_bit(ty: Type) -> u64 {
    if ty == Type::F32 {
        1 << 22
    } else {
        1 << 51
    }
}

/// The default NaN bits of type `ty`.
fn default_nan(ty: Type) -> u64 {
    if ty == Type::F32 {
        0x7fc0_0000
    } else {
        0x7ff8_0000_0000_0000
    }
}

/// Whether `x` is a signalling NaN.
fn is_snan(cx: &mut LiftCx, x: Value) -> Value {
    let ty = cx.b.func().value_type(x);
    let ity = ty.as_int();
    let nan = cx.b.fcmp(FloatCC::Uno, x, x);
    let bits_ = cx.b.bitcast(ity, x);
    let q = k(cx, ity, quiet_bit(ty));
    let qb = cx.b.band(bits_, q);
    let zero = k(cx, ity, 0);
    let signalling = cx.b.icmp(IntCC::Eq, qb, zero);
    cx.b.band(nan, signalling)
}

/// The NaN the architecture returns for operands `ops` (priority order),
/// with `fpcr` the control register it reads DN from.
fn arm_nan(cx: &mut LiftCx, ops: &[Value], fpcr: Value) -> Value {
    let ty = cx.b.func().value_type(ops[0]);
    let ity = ty.as_int();
    let default = k(cx, ity, default_nan(ty));
    let q = k(cx, ity, quiet_bit(ty));
    let mut acc = default;
    let mut snans = Vec::new();
    for &x in ops.iter().rev() {
        let nan = cx.b.fcmp(FloatCC::Uno, x, x);
        let bits_ = cx.b.bitcast(ity, x);
        let quieted = cx.b.bor(bits_, q);
        acc = cx.b.select(nan, quieted, acc);
        let s = is_snan(cx, x);
        snans.push((s, quieted));
    }
    for (s, quieted) in snans {
        acc = cx.b.select(s, quieted, acc);
    }
    let dn_bit = k(cx, Type::I32, super::FPCR_DN);
    let dn = cx.b.band(fpcr, dn_bit);
    let zero = k(cx, Type::I32, 0);
    let dn = cx.b.icmp(IntCC::Ne, dn, zero);
    acc = cx.b.select(dn, default, acc);
    cx.b.bitcast(ty, acc)
}

/// The magnitude mask and largest mantissa of float type `ty`: the bits
/// `b` are subnormal exactly when `(b & mask) - 1 < max_mantissa`
/// (unsigned).
fn subnormal_bounds(ty: Type) -> (u64, u64) {
    if ty == Type::F32 {
        (0x7fff_ffff, (1 << 23) - 1)
    } else {
        (0x7fff_ffff_ffff_ffff, (1 << 52) - 1)
    }
}

/// Whether `x` (a float) is subnormal: nonzero with a zero exponent.
fn is_subnormal(cx: &mut LiftCx, x: Value) -> Value {
    let ty = cx.b.func().value_type(x);
    let ity = ty.as_int();
    let (abs_mask, max_mantissa) = subnormal_bounds(ty);
    let bits_ = cx.b.bitcast(ity, x);
    let m = k(cx, ity, abs_mask);
    let abs = cx.b.band(bits_, m);
    let one = k(cx, ity, 1);
    let below = cx.b.isub(abs, one);
    let max = k(cx, ity, max_mantissa);
    // abs - 1 < 2^mantissa - 1 exactly for 0 < abs < 2^mantissa.
    cx.b.icmp(IntCC::Ult, below, max)
}

/// FPSR.IDC (input denormal) for an operation on `ops`: raised when
/// FPCR.FZ is set and an operand is subnormal (the host flushes it to
/// zero silently). The check runs only when flushing (see
/// [`when_flushing`]).
pub(super) fn input_denormal(cx: &mut LiftCx, ops: &[Value]) {
    if ops.is_empty() {
        return;
    }
    when_flushing(cx, |cx| {
        let mut any = is_subnormal(cx, ops[0]);
        for &x in &ops[1..] {
            let s = is_subnormal(cx, x);
            any = cx.b.bor(any, s);
        }
        raise_idc_if(cx, any);
    });
}

/// [`input_denormal`] for vector operands with float lanes `ty`: any
/// subnormal lane of `ops` (the low 64 bits only unless `q`).
pub(super) fn vector_input_denormal(cx: &mut LiftCx, ty: Type, q: bool, ops: &[Value]) {
    when_flushing(cx, |cx| {
        let ity = ty.as_int();
        let (abs_mask, max_mantissa) = subnormal_bounds(ty);
        let splat = |cx: &mut LiftCx, v: u64| {
            let s = k(cx, ity, v);
            cx.b.vsplat(ity, s)
        };
        let (m, one, max) = (splat(cx, abs_mask), splat(cx, 1), splat(cx, max_mantissa));
        let mut any = cx.b.vconst(0);
        for &v in ops {
            let abs = cx.b.vand(ity, v, m);
            let below = cx.b.visub(ity, abs, one);
            let sub = cx.b.vicmp(ity, IntCC::Ult, below, max);
            any = cx.b.vor(ity, any, sub);
        }
        if !q {
            let low = cx.b.vconst(u128::from(u64::MAX));
            any = cx.b.vand(Type::I64, any, low);
        }
        let lanes = cx.b.vreduce_umax(ity, any);
        let zero = k(cx, ity, 0);
        let found = cx.b.icmp(IntCC::Ne, lanes, zero);
        raise_idc_if(cx, found);
    });
}

/// Runs `check` (which may only update FPSR) on a path taken when FPCR.FZ
/// is set. Flushing is rare, so the common path pays one test of FPCR and
/// a branch instead of the check itself.
fn when_flushing(cx: &mut LiftCx, check: impl FnOnce(&mut LiftCx)) {
    let fpcr = cx.b.use_reg(FPCR);
    let fz_bit = k(cx, Type::I32, super::FPCR_FZ);
    let fz = cx.b.band(fpcr, fz_bit);
    let zero = k(cx, Type::I32, 0);
    let flushing = cx.b.icmp(IntCC::Ne, fz, zero);
    let slow = cx.b.create_block();
    let join = cx.b.create_block();
    cx.b.brif(flushing, slow, join);
    cx.b.seal_block(slow);
    cx.b.switch_to_block(slow);
    check(cx);
    cx.b.jump(join, &[]);
    cx.b.seal_block(join);
    cx.b.switch_to_block(join);
}

/// FPSR.IDC |= `any`.
fn raise_idc_if(cx: &mut LiftCx, any: Value) {
    let idc_bit = k(cx, Type::I32, 1 << 7);
    let zero = k(cx, Type::I32, 0);
    let idc = cx.b.select(any, idc_bit, zero);
    let old = cx.b.use_reg(crate::aarch64::regs::FPSR);
    let new = cx.b.bor(old, idc);
    cx.b.def_reg(crate::aarch64::regs::FPSR, new);
}

/// `r`, or the architecture's NaN for `ops` when `r` is a NaN. The host's
/// NaN differs from the architecture's only in rare cases (default NaN
/// sign, signalling-NaN priority, FPCR.DN), so the rule is computed on a
/// side path taken only for a NaN result.
///
/// The side path reads the operands (and FPCR) through `select`s on the
/// result being a NaN, which are true there: that ties its work to the
/// result, so Cranelift, whose loop-invariant code motion also hoists out
/// of cold blocks (wasmtime issue 8197), cannot lift the NaN rule for
/// operands that do not change in a loop into the loop's preheader, where
/// it ran on every entry and held registers across the loop.
pub(super) fn fix_nan(cx: &mut LiftCx, r: Value, ops: &[Value]) -> Value {
    let ty = cx.b.func().value_type(r);
    let nan = cx.b.fcmp(FloatCC::Uno, r, r);
    let slow = cx.b.create_block();
    let fast = cx.b.create_block();
    let join = cx.b.create_block();
    let out = cx.b.append_block_param(join, ty);
    cx.b.brif(nan, slow, fast);
    cx.b.seal_block(slow);
    cx.b.seal_block(fast);
    cx.b.switch_to_block(fast);
    cx.b.jump(join, &[r]);
    cx.b.switch_to_block(slow);
    let tied: Vec<Value> = ops.iter().map(|&x| cx.b.select(nan, x, r)).collect();
    let fpcr = cx.b.use_reg(FPCR);
    let zero = k(cx, Type::I32, 0);
    let fpcr = cx.b.select(nan, fpcr, zero);
    let arm = arm_nan(cx, &tied, fpcr);
    cx.b.jump(join, &[arm]);
    cx.b.seal_block(join);
    cx.b.switch_to_block(join);
    out
}

/// Lifts the scalar floating-point group.
pub(super) fn lift(w: u32, cx: &mut LiftCx) -> Lifted {
    if bit(w, 24) {
        return three_source(w, cx);
    }
    if !bit(w, 21) {
        return fixed_point(w, cx);
    }
    match w {
        _ if bits(w, 15, 10) == 0 => int_conversion(w, cx),
        _ if bits(w, 14, 10) == 0b10000 => one_source(w, cx),
        _ if bits(w, 13, 10) == 0b1000 => compare(w, cx),
        _ if bits(w, 12, 10) == 0b100 => immediate(w, cx),
        _ if bits(w, 11, 10) == 0b01 => conditional_compare(w, cx),
        _ if bits(w, 11, 10) == 0b10 => two_source(w, cx),
        _ => conditional_select(w, cx),
    }
}

/// The float type of `ftype` (00 single, 01 double; half is not lifted).
fn fty(w: u32, cx: &LiftCx) -> Result<Type, crate::LiftError> {
    match bits(w, 23, 22) {
        0 => Ok(Type::F32),
        1 => Ok(Type::F64),
        _ => Err(unsupported(cx, w, "half precision is not lifted")),
    }
}

fn three_source(w: u32, cx: &mut LiftCx) -> Lifted {
    let ty = fty(w, cx)?;
    let a = low(cx, bits(w, 9, 5), ty);
    let b = low(cx, bits(w, 20, 16), ty);
    let acc = low(cx, bits(w, 14, 10), ty);
    // fmadd: acc + a*b; fmsub: acc - a*b; fnmadd: -acc - a*b; fnmsub: -acc + a*b.
    let (neg_product, neg_acc) = match (bit(w, 21), bit(w, 15)) {
        (false, false) => (false, false),
        (false, true) => (true, false),
        (true, false) => (true, true),
        (true, true) => (false, true),
    };
    let a = if neg_product { cx.b.fneg(a) } else { a };
    let acc = if neg_acc { cx.b.fneg(acc) } else { acc };
    input_denormal(cx, &[a, b, acc]);
    let r = cx.b.fma(RoundingMode::Dyn, a, b, acc);
    let r = fix_nan(cx, r, &[acc, a, b]);
    set_low(cx, bits(w, 4, 0), r);
    Ok(())
}

fn two_source(w: u32, cx: &mut LiftCx) -> Lifted {
    let ty = fty(w, cx)?;
    let a = low(cx, bits(w, 9, 5), ty);
    let b = low(cx, bits(w, 20, 16), ty);
    let rm = RoundingMode::Dyn;
    if bits(w, 15, 12) <= 0b1000 {
        input_denormal(cx, &[a, b]);
    }
    let r = match bits(w, 15, 12) {
        0b0000 => cx.b.fmul(rm, a, b),
        0b0001 => cx.b.fdiv(rm, a, b),
        0b0010 => cx.b.fadd(rm, a, b),
        0b0011 => cx.b.fsub(rm, a, b),
        0b0100 => cx.b.fmax(a, b),
        0b0101 => cx.b.fmin(a, b),
        0b0110 | 0b0111 => {
            // maxNum/minNum, but a signalling NaN still propagates.
            let r = if bits(w, 15, 12) == 0b0110 {
                cx.b.fmaxnum(a, b)
            } else {
                cx.b.fminnum(a, b)
            };
            let sa = is_snan(cx, a);
            let sb = is_snan(cx, b);
            let any = cx.b.bor(sa, sb);
            let nan = cx.b.fconst(ty, default_nan(ty));
            cx.b.select(any, nan, r)
        }
        0b1000 => {
            let p = cx.b.fmul(rm, a, b);
            let p = fix_nan(cx, p, &[a, b]);
            let r = cx.b.fneg(p);
            set_low(cx, bits(w, 4, 0), r);
            return Ok(());
        }
        _ => return Err(unsupported(cx, w, "unallocated FP two-source op")),
    };
    let r = fix_nan(cx, r, &[a, b]);
    set_low(cx, bits(w, 4, 0), r);
    Ok(())
}

fn one_source(w: u32, cx: &mut LiftCx) -> Lifted {
    let ty = fty(w, cx)?;
    let a = low(cx, bits(w, 9, 5), ty);
    let rd = bits(w, 4, 0);
    // Everything but fmov, fabs and fneg is arithmetic on the operand.
    if bits(w, 20, 15) > 0b000010 {
        input_denormal(cx, &[a]);
    }
    let r = match bits(w, 20, 15) {
        0b000000 => a,
        0b000001 => cx.b.fabs(a),
        0b000010 => cx.b.fneg(a),
        0b000011 => {
            let r = cx.b.fsqrt(RoundingMode::Dyn, a);
            fix_nan(cx, r, &[a])
        }
        0b000100 if ty == Type::F64 => cx.b.fconvert(Type::F32, RoundingMode::Dyn, a),
        0b000101 if ty == Type::F32 => cx.b.fconvert(Type::F64, RoundingMode::Dyn, a),
        0b001000 => cx.b.fround(RoundingMode::Rne, a),
        0b001001 => cx.b.fround(RoundingMode::Rup, a),
        0b001010 => cx.b.fround(RoundingMode::Rdn, a),
        0b001011 => cx.b.fround(RoundingMode::Rtz, a),
        0b001100 => cx.b.fround(RoundingMode::Rmm, a),
        0b001110 | 0b001111 => cx.b.fround(RoundingMode::Dyn, a),
        _ => return Err(unsupported(cx, w, "FP one-source op not lifted")),
    };
    // FRINTX raises Inexact when the value changed.
    if bits(w, 20, 15) == 0b001110 {
        raise_inexact_if_changed(cx, a, r);
    }
    // Rounding to integral quiets a signalling NaN.
    let r = if bits(w, 20, 15) >> 3 == 1 {
        fix_nan(cx, r, &[a])
    } else {
        r
    };
    set_low(cx, rd, r);
    Ok(())
}

/// Sets FPSR.IXC when `r` differs from `a` (both numbers).
fn raise_inexact_if_changed(cx: &mut LiftCx, a: Value, r: Value) {
    let changed = cx.b.fcmp(FloatCC::Ne, a, r);
    let nan = cx.b.fcmp(FloatCC::Uno, a, a);
    let not_nan = not1(cx, nan);
    let inexact = cx.b.band(changed, not_nan);
    let bit_ = cx.b.uext(Type::I32, inexact);
    let four = k(cx, Type::I32, 4);
    let ixc = cx.b.ishl(bit_, four);
    let old = cx.b.use_reg(crate::aarch64::regs::FPSR);
    let new = cx.b.bor(old, ixc);
    cx.b.def_reg(crate::aarch64::regs::FPSR, new);
}

/// Sets NZCV from comparing `a` with `b`: unordered 0011, equal 0110,
/// less 1000, greater 0010.
fn set_fcmp_flags(cx: &mut LiftCx, a: Value, b: Value) {
    let lt = cx.b.fcmp(FloatCC::Lt, a, b);
    let eq = cx.b.fcmp(FloatCC::Eq, a, b);
    let uno = cx.b.fcmp(FloatCC::Uno, a, b);
    let c = not1(cx, lt);
    cx.b.def_reg(N, lt);
    cx.b.def_reg(Z, eq);
    cx.b.def_reg(C, c);
    cx.b.def_reg(V, uno);
}

fn compare(w: u32, cx: &mut LiftCx) -> Lifted {
    let ty = fty(w, cx)?;
    if bits(w, 2, 0) != 0 || bits(w, 15, 14) != 0 {
        return Err(unsupported(cx, w, "reserved FP compare"));
    }
    let a = low(cx, bits(w, 9, 5), ty);
    let b = if bit(w, 3) {
        cx.b.fconst(ty, 0)
    } else {
        low(cx, bits(w, 20, 16), ty)
    };
    input_denormal(cx, &[a, b]);
    set_fcmp_flags(cx, a, b);
    Ok(())
}

fn conditional_compare(w: u32, cx: &mut LiftCx) -> Lifted {
    let ty = fty(w, cx)?;
    let holds = cond(cx, bits(w, 15, 12));
    let a = low(cx, bits(w, 9, 5), ty);
    let b = low(cx, bits(w, 20, 16), ty);
    set_fcmp_flags(cx, a, b);
    let nzcv = bits(w, 3, 0);
    for (i, reg) in [V, C, Z, N].into_iter().enumerate() {
        let computed = cx.b.use_reg(reg);
        let fixed = super::flag_const(cx, nzcv >> i & 1 != 0);
        let f = cx.b.select(holds, computed, fixed);
        cx.b.def_reg(reg, f);
    }
    Ok(())
}

fn conditional_select(w: u32, cx: &mut LiftCx) -> Lifted {
    let ty = fty(w, cx)?;
    let holds = cond(cx, bits(w, 15, 12));
    let ity = ty.as_int();
    let a = low(cx, bits(w, 9, 5), ity);
    let b = low(cx, bits(w, 20, 16), ity);
    let r = cx.b.select(holds, a, b);
    set_low(cx, bits(w, 4, 0), r);
    Ok(())
}

fn immediate(w: u32, cx: &mut LiftCx) -> Lifted {
    let ty = fty(w, cx)?;
    if bits(w, 9, 5) != 0 {
        return Err(unsupported(cx, w, "reserved FP immediate"));
    }
    let imm8 = bits(w, 20, 13);
    let v = if ty == Type::F32 {
        cx.b.iconst(Type::I32, i128::from(vfp_expand32(imm8)))
    } else {
        cx.b.iconst(Type::I64, i128::from(vfp_expand64(imm8)))
    };
    set_low(cx, bits(w, 4, 0), v);
    Ok(())
}

/// Float to integer with rounding `rm`: saturating, NaN gives 0.
fn float_to_int(cx: &mut LiftCx, a: Value, rm: RoundingMode, to: Type, signed: bool) -> Value {
    let rounded = if rm == RoundingMode::Rtz {
        a
    } else {
        cx.b.fround(rm, a)
    };
    if signed {
        cx.b.fcvt_to_sint(to, rounded)
    } else {
        cx.b.fcvt_to_uint(to, rounded)
    }
}

fn int_conversion(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let ity = if sf { Type::I64 } else { Type::I32 };
    let (rn, rd) = (bits(w, 9, 5), bits(w, 4, 0));
    let (rmode, opcode) = (bits(w, 20, 19), bits(w, 18, 16));
    // FMOV between general and the top half of a vector register.
    if bits(w, 23, 22) == 2 {
        return match (sf, rmode, opcode) {
            (true, 1, 0b110) => {
                let vr = vreg(cx, rn);
                let x = cx.b.vextract(Type::I64, 1, vr);
                set_gp(cx, rd, x);
                Ok(())
            }
            (true, 1, 0b111) => {
                let g = gp(cx, rn, true);
                let vr = vreg(cx, rd);
                let r = cx.b.vinsert(Type::I64, 1, vr, g);
                super::simd::set_vreg(cx, rd, r);
                Ok(())
            }
            _ => Err(unsupported(cx, w, "half precision is not lifted")),
        };
    }
    let ty = fty(w, cx)?;
    match (rmode, opcode) {
        (0, 0b110) | (0, 0b111) if ty.bits() != ity.bits() => {
            Err(unsupported(cx, w, "reserved FMOV size"))
        }
        (0, 0b110) => {
            let x = low(cx, rn, ity);
            set_gp(cx, rd, x);
            Ok(())
        }
        (0, 0b111) => {
            let g = gp(cx, rn, sf);
            set_low(cx, rd, g);
            Ok(())
        }
        (0, 0b010) | (0, 0b011) => {
            let g = gp(cx, rn, sf);
            let r = if opcode == 0b010 {
                cx.b.fcvt_from_sint(ty, RoundingMode::Dyn, g)
            } else {
                cx.b.fcvt_from_uint(ty, RoundingMode::Dyn, g)
            };
            set_low(cx, rd, r);
            Ok(())
        }
        (_, 0b000 | 0b001) | (0, 0b100 | 0b101) => {
            let rm = match (rmode, opcode >> 2) {
                (0, 0) => RoundingMode::Rne,
                (0, _) => RoundingMode::Rmm,
                (1, _) => RoundingMode::Rup,
                (2, _) => RoundingMode::Rdn,
                _ => RoundingMode::Rtz,
            };
            let a = low(cx, rn, ty);
            input_denormal(cx, &[a]);
            let r = float_to_int(cx, a, rm, ity, opcode & 1 == 0);
            set_gp(cx, rd, r);
            Ok(())
        }
        _ => Err(unsupported(cx, w, "FP/integer conversion not lifted")),
    }
}

/// SCVTF/UCVTF/FCVTZS/FCVTZU with a fixed-point scale.
fn fixed_point(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let ity = if sf { Type::I64 } else { Type::I32 };
    let ty = fty(w, cx)?;
    let scale = 64 - bits(w, 15, 10);
    if !sf && scale > 32 {
        return Err(unsupported(cx, w, "reserved fixed-point scale"));
    }
    let (rn, rd) = (bits(w, 9, 5), bits(w, 4, 0));
    let factor = if ty == Type::F32 {
        cx.b.fconst(ty, u64::from((2f32).powi(scale as i32).to_bits()))
    } else {
        cx.b.fconst(ty, (2f64).powi(scale as i32).to_bits())
    };
    match (bits(w, 20, 19), bits(w, 18, 16)) {
        (0, 0b010 | 0b011) => {
            let g = gp(cx, rn, sf);
            let f = if bits(w, 18, 16) == 0b010 {
                cx.b.fcvt_from_sint(ty, RoundingMode::Dyn, g)
            } else {
                cx.b.fcvt_from_uint(ty, RoundingMode::Dyn, g)
            };
            let r = cx.b.fdiv(RoundingMode::Dyn, f, factor);
            set_low(cx, rd, r);
            Ok(())
        }
        (3, 0b000 | 0b001) => {
            let a = low(cx, rn, ty);
            input_denormal(cx, &[a]);
            let m = cx.b.fmul(RoundingMode::Dyn, a, factor);
            let r = float_to_int(cx, m, RoundingMode::Rtz, ity, bits(w, 18, 16) == 0);
            set_gp(cx, rd, r);
            Ok(())
        }
        _ => Err(unsupported(cx, w, "fixed-point conversion not lifted")),
    }
}
