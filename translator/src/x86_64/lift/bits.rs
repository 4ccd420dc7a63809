//! Bit tests and scans: `bt bts btr btc`, `bsf bsr`, `tzcnt lzcnt`,
//! `popcnt`.

use iced_x86::{Instruction, Mnemonic, OpKind};
use vmtrans_ir::{IntCC, Type, Value};

use crate::x86_64::regs::{AF, CF, OF, PF, SF, ZF};
use crate::LiftCx;

use super::flags;
use super::operand::{address, is_imm, op_type, read, write};
use super::Fail;

/// Routes the bit family.
pub fn lift(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    match insn.mnemonic() {
        M::Bt | M::Bts | M::Btr | M::Btc => bit_test(insn, cx),
        M::Bsf | M::Bsr => bit_scan(insn, cx),
        M::Tzcnt | M::Lzcnt | M::Popcnt => count(insn, cx),
        m => Err(format!("{m:?} is not a bit op")),
    }
}

/// The bit index within an operand of type `ty` and, for a memory operand
/// with a register offset, the address of the word holding the bit.
fn bit_target(
    cx: &mut LiftCx,
    insn: &Instruction,
    ty: Type,
) -> Result<(Value, Option<Value>), Fail> {
    let w = ty.bits();
    let off = read(cx, insn, 1, ty)?;
    let mask = cx.b.iconst(ty, i128::from(w - 1));
    let index = cx.b.band(off, mask);
    if insn.op_kind(0) != OpKind::Memory {
        return Ok((index, None));
    }
    let base = address(cx, insn)?;
    if is_imm(insn, 1) {
        return Ok((index, Some(base)));
    }
    // A register offset addresses a bit string: signed, any distance.
    let off64 = if ty == Type::I64 {
        off
    } else {
        cx.b.sext(Type::I64, off)
    };
    let s = cx.b.iconst(Type::I8, i128::from(w.trailing_zeros()));
    let words = cx.b.sshr(off64, s);
    let bytes_shift = cx.b.iconst(Type::I8, i128::from((w / 8).trailing_zeros()));
    let delta = cx.b.ishl(words, bytes_shift);
    Ok((index, Some(cx.b.iadd(base, delta))))
}

/// `bt`, `bts`, `btr`, `btc`: CF = the bit; the others update it.
fn bit_test(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = op_type(insn, 0)?;
    let (index, addr) = bit_target(cx, insn, ty)?;
    let v = match addr {
        Some(a) => cx.b.load(ty, a),
        None => read(cx, insn, 0, ty)?,
    };
    let (cf, new) = apply_bit_op(cx, insn.mnemonic(), v, index);
    cx.b.def_reg(CF, cf);
    if let Some(new) = new {
        match addr {
            Some(a) => cx.b.store(a, new),
            None => write(cx, insn, 0, new)?,
        }
    }
    Ok(())
}

/// The tested bit and the updated value (none for `bt`).
fn apply_bit_op(cx: &mut LiftCx, m: Mnemonic, v: Value, index: Value) -> (Value, Option<Value>) {
    let ty = cx.b.func().value_type(v);
    let shifted = cx.b.ushr(v, index);
    let one = cx.b.iconst(ty, 1);
    let b = cx.b.band(shifted, one);
    let zero = cx_zero(cx, ty);
    let cf = cx.b.icmp(IntCC::Ne, b, zero);
    let mask = cx.b.ishl(one, index);
    let new = match m {
        Mnemonic::Bts => Some(cx.b.bor(v, mask)),
        Mnemonic::Btr => Some(cx.b.band_not(v, mask)),
        Mnemonic::Btc => Some(cx.b.bxor(v, mask)),
        _ => None,
    };
    (cf, new)
}

fn cx_zero(cx: &mut LiftCx, ty: Type) -> Value {
    cx.b.iconst(ty, 0)
}

/// The locked forms' update (`lock bts` and friends), on a loaded value;
/// sets CF.
pub fn bit_update(cx: &mut LiftCx, insn: &Instruction, old: Value) -> Result<Value, Fail> {
    if !is_imm(insn, 1) {
        return Err("locked bit op with a register offset".into());
    }
    let ty = cx.b.func().value_type(old);
    let index =
        cx.b.iconst(ty, i128::from(insn.immediate(1) & u64::from(ty.bits() - 1)));
    let (cf, new) = apply_bit_op(cx, insn.mnemonic(), old, index);
    cx.b.def_reg(CF, cf);
    new.ok_or_else(|| "bt is not an update".into())
}

/// `bsf`/`bsr`: ZF = source is zero, in which case the destination keeps
/// its value.
fn bit_scan(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = op_type(insn, 0)?;
    let src = read(cx, insn, 1, ty)?;
    let old = read(cx, insn, 0, ty)?;
    let zero = flags::is_zero(cx, src);
    let found = if insn.mnemonic() == Mnemonic::Bsf {
        cx.b.ctz(src)
    } else {
        let lz = cx.b.clz(src);
        let top = cx.b.iconst(ty, i128::from(ty.bits() - 1));
        cx.b.isub(top, lz)
    };
    cx.b.def_reg(ZF, zero);
    if ty == Type::I32 && insn.op_kind(0) == OpKind::Register {
        // A zero source leaves all 64 bits of the destination alone.
        let full = insn.op_register(0).full_register();
        let old64 = super::operand::read_gpr(cx, full)?;
        let new64 = cx.b.uext(Type::I64, found);
        let v = cx.b.select(zero, old64, new64);
        return super::operand::write_gpr(cx, full, v);
    }
    let r = cx.b.select(zero, old, found);
    write(cx, insn, 0, r)
}

/// `tzcnt`, `lzcnt` (CF = source zero, ZF = result zero) and `popcnt`
/// (ZF = source zero, the other flags cleared).
fn count(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = op_type(insn, 0)?;
    let src = read(cx, insn, 1, ty)?;
    let src_zero = flags::is_zero(cx, src);
    let r = match insn.mnemonic() {
        Mnemonic::Tzcnt => cx.b.ctz(src),
        Mnemonic::Lzcnt => cx.b.clz(src),
        _ => cx.b.popcnt(src),
    };
    if insn.mnemonic() == Mnemonic::Popcnt {
        let f = flags::bool_const(cx, false);
        for reg in [CF, OF, SF, AF, PF] {
            cx.b.def_reg(reg, f);
        }
        cx.b.def_reg(ZF, src_zero);
    } else {
        cx.b.def_reg(CF, src_zero);
        let rz = flags::is_zero(cx, r);
        cx.b.def_reg(ZF, rz);
    }
    write(cx, insn, 0, r)
}
