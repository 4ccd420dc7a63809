//! x87. In IR: the register stack (TOP and the eight slots, each holding
//! an 80-bit value in the low bits of a 128-bit register), exact loads and
//! stores of 80-bit values, exact widening loads of floats and integers
//! (`fld m32/m64`, `fild`), exchanges, sign operations, `fld1`/`fldz`,
//! classification (`fxam`), comparisons (`fucomi`, `fcom`, `ftst`),
//! `fcmovcc`, and the control/status/environment words.
//!
//! Everything that rounds runs on the host's own x87 unit through the
//! `x87` runtime helper (`Helper::X87`, descriptor in `vmtrans_abi::x87`),
//! which loads the guest's FCW (precision and rounding control), runs the
//! same instruction on the same 80-bit operands and folds C0-C3 and the
//! exception flags into the guest's FSW: `fadd fsub fsubr fmul fdiv fdivr`
//! in all their forms (`st(0), st(i)`, `st(i), st(0)`, popping, m32/m64
//! and `fi...` m16/m32 integer operands, which the host reads in their
//! own memory form), `fsqrt frndint fscale fprem fprem1 fxtract f2xm1
//! fyl2x fyl2xp1 fptan fpatan fsin fcos fsincos`, the constants `fldpi
//! fldl2e fldln2 fldl2t fldlg2`, `fist fistp fisttp` (rounding control,
//! integer indefinite), `ficom ficomp`, and the narrowing stores `fst`/
//! `fstp` m32/m64 (rounding, PE/OE/UE).
//!
//! Not lifted (each is a `LiftError`, a guest SIGILL, never an
//! approximation): BCD (`fbld fbstp`), `fsave frstor fxsave fxrstor`, and
//! the rest of the family. The tag word is not tracked (slots are never
//! "empty", so no stack faults); guest-unmasked x87 exceptions are not
//! delivered as SIGFPE (the host runs with every exception masked).

use iced_x86::{Instruction, Mnemonic, OpKind, Register};
use vmtrans_abi::x87 as X;
use vmtrans_ir::{Helper, IntCC, Type, Value};

use crate::x86_64::regs::{st, AF, CF, FCW, FPU_TOP, FSW, OF, PF, SF, ZF};
use crate::LiftCx;

use super::flags;
use super::operand::{address, read, write, write_gpr};
use super::Fail;

/// Routes the x87 family; `None` when `m` is not an x87 instruction.
pub fn lift(insn: &Instruction, cx: &mut LiftCx) -> Option<Result<(), Fail>> {
    use Mnemonic as M;
    Some(match insn.mnemonic() {
        M::Fld => fld(insn, cx),
        M::Fild => fild(insn, cx),
        M::Fst | M::Fstp => fst(insn, cx),
        M::Fxch => {
            let i = sti(insn, 1).unwrap_or(1);
            let a = st_read(cx, 0);
            let b = st_read(cx, i);
            st_write(cx, 0, b);
            st_write(cx, i, a);
            Ok(())
        }
        M::Fabs | M::Fchs => {
            let v = st_read(cx, 0);
            let (mant, se) = split(cx, v);
            let bit = cx.b.iconst(Type::I16, 0x8000);
            let se = if insn.mnemonic() == M::Fabs {
                cx.b.band_not(se, bit)
            } else {
                cx.b.bxor(se, bit)
            };
            let v = join(cx, mant, se);
            st_write(cx, 0, v);
            Ok(())
        }
        M::Fld1 | M::Fldz => {
            let one = insn.mnemonic() == M::Fld1;
            let mant = cx.const64(if one { 1 << 63 } else { 0 });
            let se = cx.b.iconst(Type::I16, if one { 0x3fff } else { 0 });
            let v = join(cx, mant, se);
            push(cx, v);
            Ok(())
        }
        M::Fxam => {
            let v = st_read(cx, 0);
            fxam(cx, v);
            Ok(())
        }
        M::Fucomi | M::Fucomip | M::Fcomi | M::Fcomip => {
            let i = sti(insn, 1).unwrap_or(1);
            let a = st_read(cx, 0);
            let b = st_read(cx, i);
            let (uno, lt, eq) = compare(cx, a, b);
            let zf = cx.b.bor(uno, eq);
            let cf = cx.b.bor(uno, lt);
            cx.b.def_reg(ZF, zf);
            cx.b.def_reg(PF, uno);
            cx.b.def_reg(CF, cf);
            let f = flags::bool_const(cx, false);
            for r in [OF, SF, AF] {
                cx.b.def_reg(r, f);
            }
            if matches!(insn.mnemonic(), M::Fucomip | M::Fcomip) {
                pop(cx);
            }
            Ok(())
        }
        M::Fucom | M::Fucomp | M::Fucompp | M::Fcom | M::Fcomp | M::Fcompp | M::Ftst => {
            fcom(insn, cx)
        }
        M::Fnstcw | M::Fstcw => {
            let v = cx.b.use_reg(FCW);
            let v = cx.b.ireduce(Type::I16, v);
            write(cx, insn, 0, v)
        }
        M::Fldcw => read(cx, insn, 0, Type::I16).map(|v| {
            let v = cx.b.uext(Type::I32, v);
            cx.b.def_reg(FCW, v);
        }),
        M::Fnstsw | M::Fstsw => {
            let v = status_word(cx);
            if insn.op_kind(0) == OpKind::Register {
                write_gpr(cx, Register::AX, v)
            } else {
                write(cx, insn, 0, v)
            }
        }
        M::Fnclex | M::Fclex => {
            let s = cx.b.use_reg(FSW);
            let keep = cx.b.iconst(Type::I32, !0x80ff_i128 & 0xffff);
            let s = cx.b.band(s, keep);
            cx.b.def_reg(FSW, s);
            Ok(())
        }
        M::Fninit | M::Finit => {
            let cw = cx.b.iconst(Type::I32, 0x37f);
            let z = cx.b.iconst(Type::I32, 0);
            cx.b.def_reg(FCW, cw);
            cx.b.def_reg(FSW, z);
            cx.b.def_reg(FPU_TOP, z);
            Ok(())
        }
        M::Wait => Ok(()),
        M::Fnstenv | M::Fstenv => fnstenv(insn, cx),
        M::Fldenv => fldenv(insn, cx),
        M::Fincstp | M::Fdecstp => {
            let top = cx.b.use_reg(FPU_TOP);
            let d =
                cx.b.iconst(Type::I32, if insn.mnemonic() == M::Fincstp { 1 } else { 7 });
            let t = cx.b.iadd(top, d);
            let seven = cx.b.iconst(Type::I32, 7);
            let t = cx.b.band(t, seven);
            cx.b.def_reg(FPU_TOP, t);
            Ok(())
        }
        M::Ffree => Ok(()),
        M::Ffreep => {
            pop(cx);
            Ok(())
        }
        M::Fadd
        | M::Faddp
        | M::Fiadd
        | M::Fmul
        | M::Fmulp
        | M::Fimul
        | M::Fsub
        | M::Fsubp
        | M::Fisub
        | M::Fsubr
        | M::Fsubrp
        | M::Fisubr
        | M::Fdiv
        | M::Fdivp
        | M::Fidiv
        | M::Fdivr
        | M::Fdivrp
        | M::Fidivr => arith(insn, cx),
        M::Fsqrt => implicit(cx, X::FSQRT),
        M::Frndint => implicit(cx, X::FRNDINT),
        M::F2xm1 => implicit(cx, X::F2XM1),
        M::Fsin => implicit(cx, X::FSIN),
        M::Fcos => implicit(cx, X::FCOS),
        M::Fptan => implicit(cx, X::FPTAN),
        M::Fsincos => implicit(cx, X::FSINCOS),
        M::Fxtract => implicit(cx, X::FXTRACT),
        M::Fyl2x => implicit(cx, X::FYL2X),
        M::Fyl2xp1 => implicit(cx, X::FYL2XP1),
        M::Fpatan => implicit(cx, X::FPATAN),
        M::Fscale => implicit(cx, X::FSCALE),
        M::Fprem => implicit(cx, X::FPREM),
        M::Fprem1 => implicit(cx, X::FPREM1),
        M::Fldpi => implicit(cx, X::FLDPI),
        M::Fldl2e => implicit(cx, X::FLDL2E),
        M::Fldln2 => implicit(cx, X::FLDLN2),
        M::Fldl2t => implicit(cx, X::FLDL2T),
        M::Fldlg2 => implicit(cx, X::FLDLG2),
        M::Fist | M::Fistp | M::Fisttp => fist(insn, cx),
        M::Ficom | M::Ficomp => ficom(insn, cx),
        M::Fcmovb
        | M::Fcmove
        | M::Fcmovbe
        | M::Fcmovu
        | M::Fcmovnb
        | M::Fcmovne
        | M::Fcmovnbe
        | M::Fcmovnu => fcmov(insn, cx),
        m if format!("{m:?}").starts_with('F') => Err(format!("x87 {m:?} is not lifted")),
        _ => return None,
    })
}

/// The `st(i)` index of operand `n`, if it is an x87 register.
fn sti(insn: &Instruction, n: u32) -> Option<u8> {
    if n >= insn.op_count() || insn.op_kind(n) != OpKind::Register {
        return None;
    }
    let r = insn.op_register(n);
    (Register::ST0..=Register::ST7)
        .contains(&r)
        .then(|| (r as u32 - Register::ST0 as u32) as u8)
}

/// The physical slot index of `st(i)` (an i32 0..7).
fn slot(cx: &mut LiftCx, i: u8) -> Value {
    let top = cx.b.use_reg(FPU_TOP);
    let k = cx.b.iconst(Type::I32, i128::from(i));
    let s = cx.b.iadd(top, k);
    let seven = cx.b.iconst(Type::I32, 7);
    cx.b.band(s, seven)
}

/// Reads `st(i)`.
fn st_read(cx: &mut LiftCx, i: u8) -> Value {
    let idx = slot(cx, i);
    let mut v = cx.b.use_reg(st(0));
    for k in 1..8 {
        let kv = cx.b.iconst(Type::I32, i128::from(k));
        let hit = cx.b.icmp(IntCC::Eq, idx, kv);
        let sk = cx.b.use_reg(st(k));
        v = cx.b.select(hit, sk, v);
    }
    v
}

/// Writes `st(i)`.
fn st_write(cx: &mut LiftCx, i: u8, v: Value) {
    let idx = slot(cx, i);
    for k in 0..8 {
        let kv = cx.b.iconst(Type::I32, i128::from(k));
        let hit = cx.b.icmp(IntCC::Eq, idx, kv);
        let old = cx.b.use_reg(st(k));
        let new = cx.b.select(hit, v, old);
        cx.b.def_reg(st(k), new);
    }
}

fn push(cx: &mut LiftCx, v: Value) {
    let top = cx.b.use_reg(FPU_TOP);
    let seven = cx.b.iconst(Type::I32, 7);
    let t = cx.b.iadd(top, seven);
    let t = cx.b.band(t, seven);
    cx.b.def_reg(FPU_TOP, t);
    st_write(cx, 0, v);
}

fn pop(cx: &mut LiftCx) {
    let top = cx.b.use_reg(FPU_TOP);
    let one = cx.b.iconst(Type::I32, 1);
    let seven = cx.b.iconst(Type::I32, 7);
    let t = cx.b.iadd(top, one);
    let t = cx.b.band(t, seven);
    cx.b.def_reg(FPU_TOP, t);
}

/// An 80-bit value's (mantissa, sign and exponent).
fn split(cx: &mut LiftCx, v: Value) -> (Value, Value) {
    let mant = cx.b.vextract(Type::I64, 0, v);
    let se = cx.b.vextract(Type::I16, 4, v);
    (mant, se)
}

/// The 80-bit value with this mantissa and sign/exponent.
fn join(cx: &mut LiftCx, mant: Value, se: Value) -> Value {
    let z = cx.b.vconst(0);
    let v = cx.b.vinsert(Type::I64, 0, z, mant);
    cx.b.vinsert(Type::I16, 4, v, se)
}

/// `fld`: m80 as is, m64/m32 widened exactly, or a copy of `st(i)`.
fn fld(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    if let Some(i) = sti(insn, 0) {
        let v = st_read(cx, i);
        push(cx, v);
        return Ok(());
    }
    let a = address(cx, insn)?;
    let v = match insn.memory_size().size() {
        10 => {
            let mant = cx.b.load(Type::I64, a);
            let eight = cx.const64(8);
            let a8 = cx.b.iadd(a, eight);
            let se = cx.b.load(Type::I16, a8);
            join(cx, mant, se)
        }
        8 => {
            let bits = cx.b.load(Type::I64, a);
            widen_float(cx, bits, 52, 11, 1023)
        }
        4 => {
            let bits = cx.b.load(Type::I32, a);
            let bits = cx.b.uext(Type::I64, bits);
            widen_float(cx, bits, 23, 8, 127)
        }
        n => return Err(format!("fld of {n} bytes")),
    };
    push(cx, v);
    Ok(())
}

/// An IEEE float (`frac_bits` fraction bits, `exp_bits` exponent bits,
/// `bias`) in the low bits of `bits`, converted exactly to 80 bits.
fn widen_float(cx: &mut LiftCx, bits: Value, frac_bits: u32, exp_bits: u32, bias: i64) -> Value {
    let c = |cx: &mut LiftCx, v: u64| cx.const64(v);
    let sh = |cx: &mut LiftCx, v: u32| cx.b.iconst(Type::I8, i128::from(v));
    let s_sign = sh(cx, frac_bits + exp_bits);
    let sign = cx.b.ushr(bits, s_sign);
    let one = c(cx, 1);
    let sign = cx.b.band(sign, one);
    let s_frac = sh(cx, frac_bits);
    let exp = cx.b.ushr(bits, s_frac);
    let emask = c(cx, (1 << exp_bits) - 1);
    let exp = cx.b.band(exp, emask);
    let fmask = c(cx, (1 << frac_bits) - 1);
    let frac = cx.b.band(bits, fmask);
    let top = c(cx, 1 << 63);
    let up = sh(cx, 63 - frac_bits);
    let frac_up = cx.b.ishl(frac, up);
    // Normal: explicit integer bit, rebias.
    let normal_mant = cx.b.bor(top, frac_up);
    let rebias = c(cx, (16383 - bias) as u64);
    let normal_exp = cx.b.iadd(exp, rebias);
    // Infinity and NaN: maximum exponent, payload kept.
    let max_exp = c(cx, 0x7fff);
    // Denormal: normalise the fraction.
    let lz = cx.b.clz(frac);
    let denorm_mant = cx.b.ishl(frac, lz);
    let dbase = c(cx, (16383 - bias + 1 + 63 - i64::from(frac_bits)) as u64);
    let denorm_exp = cx.b.isub(dbase, lz);
    let zero = c(cx, 0);
    let is_max = cx.b.icmp(IntCC::Eq, exp, emask);
    let is_zero_exp = cx.b.icmp(IntCC::Eq, exp, zero);
    let frac_zero = cx.b.icmp(IntCC::Eq, frac, zero);
    let mant = cx.b.select(is_zero_exp, denorm_mant, normal_mant);
    let e = cx.b.select(is_zero_exp, denorm_exp, normal_exp);
    let e = cx.b.select(is_max, max_exp, e);
    let zero_val = cx.b.band(is_zero_exp, frac_zero);
    let mant = cx.b.select(zero_val, zero, mant);
    let e = cx.b.select(zero_val, zero, e);
    let s15 = sh(cx, 15);
    let sbit = cx.b.ishl(sign, s15);
    let se = cx.b.bor(e, sbit);
    let se = cx.b.ireduce(Type::I16, se);
    join(cx, mant, se)
}

/// `fild m16/m32/m64`: an integer converted exactly.
fn fild(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = super::operand::int_type(insn.memory_size().size())?;
    let a = address(cx, insn)?;
    let v = cx.b.load(ty, a);
    let v = if ty == Type::I64 {
        v
    } else {
        cx.b.sext(Type::I64, v)
    };
    let neg = flags::sign(cx, v);
    let n = cx.b.ineg(v);
    let abs = cx.b.select(neg, n, v);
    let lz = cx.b.clz(abs);
    let mant = cx.b.ishl(abs, lz);
    let base = cx.const64(16383 + 63);
    let e = cx.b.isub(base, lz);
    let zero = cx.const64(0);
    let is_zero = cx.b.icmp(IntCC::Eq, abs, zero);
    let e = cx.b.select(is_zero, zero, e);
    let sbit = cx.const64(0x8000);
    let s = cx.b.select(neg, sbit, zero);
    let se = cx.b.bor(e, s);
    let se = cx.b.ireduce(Type::I16, se);
    let r = join(cx, mant, se);
    push(cx, r);
    Ok(())
}

/// `fst`/`fstp` to `st(i)` or m80 (exact); narrowing stores round and are
/// not lifted.
fn fst(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let pops = insn.mnemonic() == Mnemonic::Fstp;
    let v = st_read(cx, 0);
    if let Some(i) = sti(insn, 0) {
        st_write(cx, i, v);
    } else if insn.memory_size().size() == 10 {
        let a = address(cx, insn)?;
        let (mant, se) = split(cx, v);
        cx.b.store(a, mant);
        let eight = cx.const64(8);
        let a8 = cx.b.iadd(a, eight);
        cx.b.store(a8, se);
    } else {
        let ty = match insn.memory_size().size() {
            8 => Type::I64,
            4 => Type::I32,
            n => return Err(format!("fst of {n} bytes")),
        };
        // On the host: the FCW's rounding control and precision, and the
        // exception flags (PE, OE, UE, IE) the conversion raises.
        let a = address(cx, insn)?;
        let form = if ty == Type::I64 { X::M64FP } else { X::M32FP };
        let bits = call(cx, X::encode(X::FST, form, 0, false), None);
        let bits = if ty == Type::I64 {
            bits
        } else {
            cx.b.ireduce(Type::I32, bits)
        };
        cx.b.store(a, bits);
    }
    if pops {
        pop(cx);
    }
    Ok(())
}

/// (unordered, a < b, a == b) for two 80-bit values.
fn compare(cx: &mut LiftCx, a: Value, b: Value) -> (Value, Value, Value) {
    let (am, ae) = split(cx, a);
    let (bm, be) = split(cx, b);
    let nan_a = is_nan(cx, am, ae);
    let nan_b = is_nan(cx, bm, be);
    let uno = cx.b.bor(nan_a, nan_b);
    // Magnitudes as (exponent, mantissa) pairs, signs apart.
    let mask = cx.b.iconst(Type::I16, 0x7fff);
    let aexp = cx.b.band(ae, mask);
    let bexp = cx.b.band(be, mask);
    let exp_lt = cx.b.icmp(IntCC::Ult, aexp, bexp);
    let exp_eq = cx.b.icmp(IntCC::Eq, aexp, bexp);
    let m_lt = cx.b.icmp(IntCC::Ult, am, bm);
    let m_eq = cx.b.icmp(IntCC::Eq, am, bm);
    let t = cx.b.band(exp_eq, m_lt);
    let mag_lt = cx.b.bor(exp_lt, t);
    let mag_eq = cx.b.band(exp_eq, m_eq);
    let zero64 = cx.const64(0);
    let a_zero = cx.b.icmp(IntCC::Eq, am, zero64);
    let b_zero = cx.b.icmp(IntCC::Eq, bm, zero64);
    let both_zero = cx.b.band(a_zero, b_zero);
    let sa = flags::sign(cx, ae);
    let sb = flags::sign(cx, be);
    let same_sign = cx.b.icmp(IntCC::Eq, sa, sb);
    let eq_same = cx.b.band(same_sign, mag_eq);
    let eq = cx.b.bor(eq_same, both_zero);
    // Same sign: positive → magnitude order, negative → reversed.
    let mag_gt = {
        let ge = flags::not1(cx, mag_lt);
        let ne = flags::not1(cx, mag_eq);
        cx.b.band(ge, ne)
    };
    let same_lt = cx.b.select(sa, mag_gt, mag_lt);
    // Different signs: a < b when a is the negative one.
    let lt = cx.b.select(same_sign, same_lt, sa);
    let not_eq = flags::not1(cx, eq);
    let lt = cx.b.band(lt, not_eq);
    let ordered = flags::not1(cx, uno);
    let lt = cx.b.band(lt, ordered);
    let eq = cx.b.band(eq, ordered);
    (uno, lt, eq)
}

/// NaN: maximum exponent and a nonzero fraction (the bits below the
/// integer bit).
fn is_nan(cx: &mut LiftCx, mant: Value, se: Value) -> Value {
    let mask = cx.b.iconst(Type::I16, 0x7fff);
    let e = cx.b.band(se, mask);
    let max = cx.b.icmp(IntCC::Eq, e, mask);
    let fmask = cx.const64(!(1u64 << 63));
    let f = cx.b.band(mant, fmask);
    let zero = cx.const64(0);
    let nz = cx.b.icmp(IntCC::Ne, f, zero);
    cx.b.band(max, nz)
}

/// Sets the condition bits C0 (8), C1 (9), C2 (10), C3 (14) of FSW.
fn set_cc(cx: &mut LiftCx, c0: Value, c1: Value, c2: Value, c3: Value) {
    let s = cx.b.use_reg(FSW);
    let keep = cx.b.iconst(Type::I32, !0x4700_i128 & 0xffff_ffff);
    let mut s = cx.b.band(s, keep);
    for (bit, v) in [(8, c0), (9, c1), (10, c2), (14, c3)] {
        let w = cx.b.uext(Type::I32, v);
        let sh = cx.b.iconst(Type::I8, bit);
        let w = cx.b.ishl(w, sh);
        s = cx.b.bor(s, w);
    }
    cx.b.def_reg(FSW, s);
}

/// `fxam`: the class of st0 in C3 C2 C0, its sign in C1.
fn fxam(cx: &mut LiftCx, v: Value) {
    let (mant, se) = split(cx, v);
    let sign = flags::sign(cx, se);
    let mask = cx.b.iconst(Type::I16, 0x7fff);
    let e = cx.b.band(se, mask);
    let zero16 = cx.b.iconst(Type::I16, 0);
    let e_max = cx.b.icmp(IntCC::Eq, e, mask);
    let e_zero = cx.b.icmp(IntCC::Eq, e, zero16);
    let int_bit = flags::sign(cx, mant);
    let fmask = cx.const64(!(1u64 << 63));
    let f = cx.b.band(mant, fmask);
    let zero64 = cx.const64(0);
    let f_zero = cx.b.icmp(IntCC::Eq, f, zero64);
    let m_zero = cx.b.icmp(IntCC::Eq, mant, zero64);
    // Classes: NaN 001, normal 010, infinity 011, zero 100, denormal 110,
    // unsupported 000 (C3 C2 C0).
    let special = cx.b.band(e_max, int_bit);
    let inf = cx.b.band(special, f_zero);
    let nf = flags::not1(cx, f_zero);
    let nan = cx.b.band(special, nf);
    let zero = cx.b.band(e_zero, m_zero);
    let nm = flags::not1(cx, m_zero);
    let denormal = cx.b.band(e_zero, nm);
    let ordinary = {
        let a = flags::not1(cx, e_max);
        let b = flags::not1(cx, e_zero);
        cx.b.band(a, b)
    };
    let normal = cx.b.band(ordinary, int_bit);
    let c0 = cx.b.bor(nan, inf);
    let c2a = cx.b.bor(normal, inf);
    let c2 = cx.b.bor(c2a, denormal);
    let c3 = cx.b.bor(zero, denormal);
    set_cc(cx, c0, sign, c2, c3);
}

/// `fcom`/`fucom` (and popping forms), `ftst`: C3 C2 C0 from the
/// comparison of st0 with the operand (greater 000, less 001, equal 100,
/// unordered 111). Memory operands are widened exactly first.
fn fcom(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    let a = st_read(cx, 0);
    let b = if m == M::Ftst {
        let z = cx.const64(0);
        let ze = cx.b.iconst(Type::I16, 0);
        join(cx, z, ze)
    } else if insn.op_count() > 0 && insn.op_kind(0) == OpKind::Memory {
        let addr = address(cx, insn)?;
        match insn.memory_size().size() {
            8 => {
                let bits = cx.b.load(Type::I64, addr);
                widen_float(cx, bits, 52, 11, 1023)
            }
            4 => {
                let bits = cx.b.load(Type::I32, addr);
                let bits = cx.b.uext(Type::I64, bits);
                widen_float(cx, bits, 23, 8, 127)
            }
            n => return Err(format!("fcom of {n} bytes")),
        }
    } else {
        let i = sti(insn, 1).or(sti(insn, 0)).unwrap_or(1);
        st_read(cx, i)
    };
    let (uno, lt, eq) = compare(cx, a, b);
    let c0 = cx.b.bor(uno, lt);
    let c3 = cx.b.bor(uno, eq);
    let f = flags::bool_const(cx, false);
    set_cc(cx, c0, f, uno, c3);
    match m {
        M::Fucomp | M::Fcomp => pop(cx),
        M::Fucompp | M::Fcompp => {
            pop(cx);
            pop(cx);
        }
        _ => {}
    }
    Ok(())
}

/// FSW with TOP in bits 11..13, as i16.
fn status_word(cx: &mut LiftCx) -> Value {
    let s = cx.b.use_reg(FSW);
    let keep = cx.b.iconst(Type::I32, !0x3800_i128 & 0xffff_ffff);
    let s = cx.b.band(s, keep);
    let top = cx.b.use_reg(FPU_TOP);
    let sh = cx.b.iconst(Type::I8, 11);
    let t = cx.b.ishl(top, sh);
    let s = cx.b.bor(s, t);
    cx.b.ireduce(Type::I16, s)
}

/// `fnstenv m28`: control, status and tag words (tags all "valid"; the
/// instruction and operand pointers zero), then all exceptions masked.
fn fnstenv(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let a = address(cx, insn)?;
    let cw = cx.b.use_reg(FCW);
    let sw = status_word(cx);
    let sw = cx.b.uext(Type::I32, sw);
    let ffff = cx.b.iconst(Type::I32, 0xffff_0000);
    let cw_word = cx.b.bor(cw, ffff);
    let sw_word = cx.b.bor(sw, ffff);
    let tag = cx.b.iconst(Type::I32, 0xffff_0000);
    let zero = cx.b.iconst(Type::I32, 0);
    for (off, v) in [
        (0, cw_word),
        (4, sw_word),
        (8, tag),
        (12, zero),
        (16, zero),
        (20, zero),
        (24, zero),
    ] {
        let o = cx.const64(off);
        let at = cx.b.iadd(a, o);
        cx.b.store(at, v);
    }
    let masks = cx.b.iconst(Type::I32, 0x3f);
    let cw = cx.b.bor(cw, masks);
    cx.b.def_reg(FCW, cw);
    Ok(())
}

/// `fldenv m28`: control and status words (TOP from the status word).
fn fldenv(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let a = address(cx, insn)?;
    let cw = cx.b.load(Type::I16, a);
    let cw = cx.b.uext(Type::I32, cw);
    cx.b.def_reg(FCW, cw);
    let four = cx.const64(4);
    let a4 = cx.b.iadd(a, four);
    let sw = cx.b.load(Type::I16, a4);
    let sw = cx.b.uext(Type::I32, sw);
    let sh = cx.b.iconst(Type::I8, 11);
    let top = cx.b.ushr(sw, sh);
    let seven = cx.b.iconst(Type::I32, 7);
    let top = cx.b.band(top, seven);
    cx.b.def_reg(FPU_TOP, top);
    let keep = cx.b.iconst(Type::I32, !0x3800_i128 & 0xffff);
    let sw = cx.b.band(sw, keep);
    cx.b.def_reg(FSW, sw);
    Ok(())
}

/// Calls the x87 helper with descriptor `desc` and a memory source
/// operand's bits; returns a memory destination's bits.
fn call(cx: &mut LiftCx, desc: u32, operand: Option<Value>) -> Value {
    let d = cx.b.iconst(Type::I32, i128::from(desc));
    let m = match operand {
        Some(v) => v,
        None => cx.const64(0),
    };
    cx.b.call_helper(Helper::X87, &[d, m])
        .expect("the x87 helper returns a value")
}

/// An instruction whose operands are implicit (st0, st1, constants).
fn implicit(cx: &mut LiftCx, op: u32) -> Result<(), Fail> {
    call(cx, X::encode(op, X::IMPLICIT, 0, false), None);
    Ok(())
}

/// The helper form of a memory operand of `bytes` bytes (`int`: an
/// integer operand) and its bits, loaded and zero-extended to 64.
fn mem_operand(insn: &Instruction, cx: &mut LiftCx, int: bool) -> Result<(u32, Value), Fail> {
    let size = insn.memory_size().size();
    let (form, ty) = match (int, size) {
        (false, 4) => (X::M32FP, Type::I32),
        (false, 8) => (X::M64FP, Type::I64),
        (true, 2) => (X::M16INT, Type::I16),
        (true, 4) => (X::M32INT, Type::I32),
        (true, 8) => (X::M64INT, Type::I64),
        _ => return Err(format!("x87 memory operand of {size} bytes")),
    };
    let a = address(cx, insn)?;
    let v = cx.b.load(ty, a);
    let v = if ty == Type::I64 {
        v
    } else {
        cx.b.uext(Type::I64, v)
    };
    Ok((form, v))
}

/// `fadd fsub fsubr fmul fdiv fdivr`, their popping (`...p`) and integer
/// (`fi...`) forms: `st0 op= st(i)`, `st(i) op= st0`, `st0 op= m32/m64`,
/// `st0 op= m16int/m32int`.
fn arith(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    let op = match m {
        M::Fadd | M::Faddp | M::Fiadd => X::FADD,
        M::Fmul | M::Fmulp | M::Fimul => X::FMUL,
        M::Fsub | M::Fsubp | M::Fisub => X::FSUB,
        M::Fsubr | M::Fsubrp | M::Fisubr => X::FSUBR,
        M::Fdiv | M::Fdivp | M::Fidiv => X::FDIV,
        _ => X::FDIVR,
    };
    let pop = matches!(
        m,
        M::Faddp | M::Fmulp | M::Fsubp | M::Fsubrp | M::Fdivp | M::Fdivrp
    );
    if insn.op_count() > 0 && insn.op_kind(0) == OpKind::Memory {
        let int = matches!(
            m,
            M::Fiadd | M::Fimul | M::Fisub | M::Fisubr | M::Fidiv | M::Fidivr
        );
        let (form, v) = mem_operand(insn, cx, int)?;
        call(cx, X::encode(op, form, 0, false), Some(v));
        return Ok(());
    }
    let desc = match (sti(insn, 0), sti(insn, 1)) {
        (Some(0), Some(i)) if !pop => X::encode(op, X::ST0_STI, u32::from(i), false),
        (Some(i), Some(0)) => X::encode(op, X::STI_ST0, u32::from(i), pop),
        // `faddp` and friends without operands: st(1), st(0).
        (None, None) if pop => X::encode(op, X::STI_ST0, 1, true),
        _ => return Err(format!("x87 {m:?} with these operands")),
    };
    call(cx, desc, None);
    Ok(())
}

/// `fist`/`fistp`/`fisttp` m16/m32/m64: the conversion on the host (its
/// rounding control, its integer indefinite value), stored here.
fn fist(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let size = insn.memory_size().size();
    let (form, ty) = match size {
        2 => (X::M16INT, Type::I16),
        4 => (X::M32INT, Type::I32),
        8 => (X::M64INT, Type::I64),
        _ => return Err(format!("fist of {size} bytes")),
    };
    let a = address(cx, insn)?;
    let (op, pop) = match insn.mnemonic() {
        Mnemonic::Fist => (X::FIST, false),
        Mnemonic::Fistp => (X::FIST, true),
        _ => (X::FISTTP, true),
    };
    let bits = call(cx, X::encode(op, form, 0, pop), None);
    let bits = if ty == Type::I64 {
        bits
    } else {
        cx.b.ireduce(ty, bits)
    };
    cx.b.store(a, bits);
    Ok(())
}

/// `ficom`/`ficomp` m16int/m32int.
fn ficom(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let (form, v) = mem_operand(insn, cx, true)?;
    let pop = insn.mnemonic() == Mnemonic::Ficomp;
    call(cx, X::encode(X::FICOM, form, 0, pop), Some(v));
    Ok(())
}

/// `fcmovcc st(0), st(i)`: a copy under an EFLAGS condition.
fn fcmov(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let i = sti(insn, 1).ok_or("fcmov without st(i)")?;
    use iced_x86::ConditionCode as C;
    let cc = match insn.mnemonic() {
        M::Fcmovb => C::b,
        M::Fcmovnb => C::ae,
        M::Fcmove => C::e,
        M::Fcmovne => C::ne,
        M::Fcmovbe => C::be,
        M::Fcmovnbe => C::a,
        M::Fcmovu => C::p,
        _ => C::np,
    };
    let c = flags::cond(cx, cc)?;
    let src = st_read(cx, i);
    let old = st_read(cx, 0);
    let v = cx.b.select(c, src, old);
    st_write(cx, 0, v);
    Ok(())
}
