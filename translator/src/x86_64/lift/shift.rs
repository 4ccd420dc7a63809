//! Shifts and rotates: the count is masked to 5 bits (6 for 64-bit
//! operands); a masked count of zero changes no flag. Byte and word
//! shifts are done at 64 bits so counts beyond their width behave as on
//! hardware.

use iced_x86::{Instruction, Mnemonic};
use vmtrans_ir::{Type, Value};

use crate::x86_64::regs::{AF, CF, OF, PF, SF, ZF};
use crate::LiftCx;

use super::flags::{self, bit};
use super::operand::{is_imm, op_type, read, write};
use super::Fail;

/// The flags a shift may set, each computed for a nonzero count.
struct NewFlags {
    cf: Value,
    of: Value,
    /// ZF SF PF AF too (shifts), or only CF and OF (rotates).
    result: Option<Value>,
}

/// `shl sal shr sar rol ror shld shrd shlx shrx sarx`.
pub fn lift(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    let ty = op_type(insn, 0)?;
    match m {
        M::Shlx | M::Shrx | M::Sarx => return bmi_shift(insn, cx, ty),
        M::Shld | M::Shrd => return double_shift(insn, cx, ty),
        M::Rcl | M::Rcr => return rotate_through_carry(insn, cx, ty),
        _ => {}
    }
    let a = read(cx, insn, 0, ty)?;
    let (count, known) = count(cx, insn, 1, ty)?;
    if known == Some(0) {
        // Still a write: a 32-bit destination is zero-extended.
        return write(cx, insn, 0, a);
    }
    let (r, new) = match m {
        M::Shl | M::Sal | M::Shr | M::Sar => shift(cx, m, a, count),
        M::Rol | M::Ror => rotate(cx, m, a, count),
        m => return Err(format!("{m:?} is not a shift")),
    };
    commit_flags(cx, &new, count, known);
    let r = keep_if_zero_count(cx, a, r, count, known);
    write(cx, insn, 0, r)
}

/// With a dynamic count, a masked count of zero leaves the value as it was
/// (the computation above assumes a nonzero count).
fn keep_if_zero_count(
    cx: &mut LiftCx,
    a: Value,
    r: Value,
    count: Value,
    known: Option<u64>,
) -> Value {
    if known.is_some() {
        return r;
    }
    let z = flags::is_zero(cx, count);
    cx.b.select(z, a, r)
}

/// The masked count of operand `i` as `i8`, and its value when constant.
fn count(
    cx: &mut LiftCx,
    insn: &Instruction,
    i: u32,
    ty: Type,
) -> Result<(Value, Option<u64>), Fail> {
    let mask: u64 = if ty == Type::I64 { 63 } else { 31 };
    if insn.op_count() <= i {
        // The `d1` forms: count 1.
        return Ok((cx.b.iconst(Type::I8, 1), Some(1)));
    }
    if is_imm(insn, i) {
        let c = insn.immediate(i) & mask;
        return Ok((cx.b.iconst(Type::I8, i128::from(c)), Some(c)));
    }
    let c = read(cx, insn, i, Type::I8)?;
    let m = cx.b.iconst(Type::I8, i128::from(mask));
    Ok((cx.b.band(c, m), None))
}

/// Sets each flag to its new value, or keeps the old one when the
/// (dynamic) count is zero.
fn commit_flags(cx: &mut LiftCx, new: &NewFlags, count: Value, known: Option<u64>) {
    let zero_count = match known {
        Some(_) => None,
        None => Some(flags::is_zero(cx, count)),
    };
    let set = |cx: &mut LiftCx, reg, v: Value| {
        let v = match zero_count {
            Some(z) => {
                let old = cx.b.use_reg(reg);
                cx.b.select(z, old, v)
            }
            None => v,
        };
        cx.b.def_reg(reg, v);
    };
    set(cx, CF, new.cf);
    set(cx, OF, new.of);
    if let Some(r) = new.result {
        let z = flags::is_zero(cx, r);
        set(cx, ZF, z);
        let s = flags::sign(cx, r);
        set(cx, SF, s);
        let p = cx.b.parity(r);
        set(cx, PF, p);
        let f = flags::bool_const(cx, false);
        set(cx, AF, f);
    }
}

/// `shl`/`shr`/`sar` by a nonzero masked count (at 64 bits for narrow
/// operands).
fn shift(cx: &mut LiftCx, m: Mnemonic, a: Value, count: Value) -> (Value, NewFlags) {
    let ty = cx.b.func().value_type(a);
    let w = ty.bits();
    let wide = if m == Mnemonic::Sar {
        widen(cx, a, true)
    } else {
        widen(cx, a, false)
    };
    let one = cx.b.iconst(Type::I8, 1);
    let cm1 = cx.b.isub(count, one);
    let (r_wide, cf) = match m {
        Mnemonic::Shr | Mnemonic::Sar => {
            let before = if m == Mnemonic::Shr {
                cx.b.ushr(wide, cm1)
            } else {
                cx.b.sshr(wide, cm1)
            };
            let cf = bit(cx, before, 0);
            let r = if m == Mnemonic::Shr {
                cx.b.ushr(before, one)
            } else {
                cx.b.sshr(before, one)
            };
            (r, cf)
        }
        _ => {
            // Bit w of the value shifted left by count-1 then by one more;
            // for 64-bit operands the carry is the top bit before the last
            // step.
            let before = cx.b.ishl(wide, cm1);
            let cf = bit(cx, before, w - 1);
            let r = cx.b.ishl(before, one);
            (r, cf)
        }
    };
    let r = narrow(cx, r_wide, ty);
    let of = match m {
        Mnemonic::Shl | Mnemonic::Sal => {
            let s = flags::sign(cx, r);
            cx.b.bxor(s, cf)
        }
        Mnemonic::Shr => flags::sign(cx, a),
        _ => flags::bool_const(cx, false),
    };
    (
        r,
        NewFlags {
            cf,
            of,
            result: Some(r),
        },
    )
}

/// `rol`/`ror`: rotation modulo the width; CF and OF only.
fn rotate(cx: &mut LiftCx, m: Mnemonic, a: Value, count: Value) -> (Value, NewFlags) {
    let ty = cx.b.func().value_type(a);
    let w = ty.bits();
    let r = if m == Mnemonic::Rol {
        cx.b.rotl(a, count)
    } else {
        cx.b.rotr(a, count)
    };
    let msb = bit(cx, r, w - 1);
    let (cf, of) = if m == Mnemonic::Rol {
        let cf = bit(cx, r, 0);
        (cf, cx.b.bxor(msb, cf))
    } else {
        let next = bit(cx, r, w - 2);
        (msb, cx.b.bxor(msb, next))
    };
    (
        r,
        NewFlags {
            cf,
            of,
            result: None,
        },
    )
}

/// `shld dst, src, c` / `shrd dst, src, c` (32 and 64 bits).
fn double_shift(insn: &Instruction, cx: &mut LiftCx, ty: Type) -> Result<(), Fail> {
    if ty == Type::I16 {
        return Err("16-bit shld/shrd".into());
    }
    let w = ty.bits();
    let a = read(cx, insn, 0, ty)?;
    let src = read(cx, insn, 1, ty)?;
    let (count, known) = count(cx, insn, 2, ty)?;
    if known == Some(0) {
        return write(cx, insn, 0, a);
    }
    let wv = cx.b.iconst(Type::I8, i128::from(w));
    let back = cx.b.isub(wv, count);
    let one = cx.b.iconst(Type::I8, 1);
    let cm1 = cx.b.isub(count, one);
    let (r, cf) = if insn.mnemonic() == Mnemonic::Shld {
        let hi = cx.b.ishl(a, count);
        let lo = cx.b.ushr(src, back);
        let r = cx.b.bor(hi, lo);
        let before = cx.b.ishl(a, cm1);
        (r, bit(cx, before, w - 1))
    } else {
        let lo = cx.b.ushr(a, count);
        let hi = cx.b.ishl(src, back);
        let r = cx.b.bor(hi, lo);
        let before = cx.b.ushr(a, cm1);
        (r, bit(cx, before, 0))
    };
    let sa = flags::sign(cx, a);
    let sr = flags::sign(cx, r);
    let of = cx.b.bxor(sa, sr);
    commit_flags(
        cx,
        &NewFlags {
            cf,
            of,
            result: Some(r),
        },
        count,
        known,
    );
    let r = keep_if_zero_count(cx, a, r, count, known);
    write(cx, insn, 0, r)
}

/// BMI2 `shlx`/`shrx`/`sarx`: no flags.
fn bmi_shift(insn: &Instruction, cx: &mut LiftCx, ty: Type) -> Result<(), Fail> {
    let a = read(cx, insn, 1, ty)?;
    let c = read(cx, insn, 2, ty)?;
    let r = match insn.mnemonic() {
        Mnemonic::Shlx => cx.b.ishl(a, c),
        Mnemonic::Shrx => cx.b.ushr(a, c),
        _ => cx.b.sshr(a, c),
    };
    write(cx, insn, 0, r)
}

fn widen(cx: &mut LiftCx, a: Value, signed: bool) -> Value {
    if cx.b.func().value_type(a) == Type::I64 {
        a
    } else if signed {
        cx.b.sext(Type::I64, a)
    } else {
        cx.b.uext(Type::I64, a)
    }
}

fn narrow(cx: &mut LiftCx, v: Value, ty: Type) -> Value {
    if ty == Type::I64 {
        v
    } else {
        cx.b.ireduce(ty, v)
    }
}

/// `rcl`/`rcr`: rotation of the (width + 1)-bit value CF:dst, done at 128
/// bits. The masked count is taken modulo 9 for bytes and 17 for words;
/// a zero count changes nothing. CF is the bit rotated out; OF (defined
/// for a count of 1) as the host CPU gives it, also for counts that rotate
/// by zero.
fn rotate_through_carry(insn: &Instruction, cx: &mut LiftCx, ty: Type) -> Result<(), Fail> {
    let w = ty.bits();
    let a = read(cx, insn, 0, ty)?;
    let (masked, known_masked) = count(cx, insn, 1, ty)?;
    if known_masked == Some(0) {
        return write(cx, insn, 0, a);
    }
    let count = match ty {
        Type::I8 | Type::I16 => {
            let m = cx.b.iconst(Type::I8, i128::from(w + 1));
            cx.b.urem(masked, m)
        }
        _ => masked,
    };
    let known = known_masked.map(|k| if w < 32 { k % u64::from(w + 1) } else { k });
    let cf_old = cx.b.use_reg(CF);
    let wide = cx.b.uext(Type::I128, a);
    let c128 = cx.b.uext(Type::I128, cf_old);
    let wv = cx.b.iconst(Type::I8, i128::from(w));
    let cbit = cx.b.ishl(c128, wv);
    let combined = cx.b.bor(wide, cbit);
    let w1 = cx.b.iconst(Type::I8, i128::from(w + 1));
    let back = cx.b.isub(w1, count);
    let (x, y) = if insn.mnemonic() == Mnemonic::Rcl {
        (cx.b.ishl(combined, count), cx.b.ushr(combined, back))
    } else {
        (cx.b.ushr(combined, count), cx.b.ishl(combined, back))
    };
    let r = cx.b.bor(x, y);
    let rotated = cx.b.ireduce(ty, r);
    let cf_rot = bit(cx, r, w);
    // A rotation count of 0 (masked count 9, 18, 27 for bytes) keeps the
    // value and CF; OF is still computed (from the unchanged value).
    let still = flags::is_zero(cx, count);
    let value = cx.b.select(still, a, rotated);
    let cf_new = cx.b.select(still, cf_old, cf_rot);
    let of = if insn.mnemonic() == Mnemonic::Rcl {
        let s = flags::sign(cx, value);
        cx.b.bxor(s, cf_new)
    } else {
        // A count of 1 gives MSB xor CF; a zero rotation (masked count 9,
        // 18, 27 for bytes) gives the top two bits xored, as the CPU does.
        let s = flags::sign(cx, a);
        let rotated_of = cx.b.bxor(s, cf_old);
        let next = bit(cx, a, w - 2);
        let still_of = cx.b.bxor(s, next);
        cx.b.select(still, still_of, rotated_of)
    };
    let _ = known;
    commit_flags(
        cx,
        &NewFlags {
            cf: cf_new,
            of,
            result: None,
        },
        masked,
        known_masked,
    );
    write(cx, insn, 0, value)
}
