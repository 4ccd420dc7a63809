//! Multiplication and division. `div`/`idiv` by zero or with a quotient
//! that does not fit raise #DE, a guest SIGFPE.

use iced_x86::{Instruction, Mnemonic, Register};
use vmtrans_ir::{IntCC, TrapKind, Type, Value};

use crate::x86_64::regs::{CF, OF};
use crate::LiftCx;

use super::operand::{op_type, read, read_gpr, write, write_gpr};
use super::Fail;

/// `mul`, `imul` (one, two and three operands), `div`, `idiv`.
pub fn lift(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    match (insn.mnemonic(), insn.op_count()) {
        (Mnemonic::Imul, 2) | (Mnemonic::Imul, 3) => imul_truncating(insn, cx),
        (Mnemonic::Mul, 1) | (Mnemonic::Imul, 1) => widening_mul(insn, cx),
        (Mnemonic::Div, 1) | (Mnemonic::Idiv, 1) => divide(insn, cx),
        (m, n) => Err(format!("{m:?} with {n} operands")),
    }
}

/// The accumulator registers (low, high) of a widening op of type `ty`.
fn acc_regs(ty: Type) -> (Register, Register) {
    match ty {
        Type::I8 => (Register::AL, Register::AH),
        Type::I16 => (Register::AX, Register::DX),
        Type::I32 => (Register::EAX, Register::EDX),
        _ => (Register::RAX, Register::RDX),
    }
}

fn set_cf_of(cx: &mut LiftCx, v: Value) {
    cx.b.def_reg(CF, v);
    cx.b.def_reg(OF, v);
}

/// `imul r, r/m[, imm]`: truncated product; CF = OF = the signed product
/// did not fit.
fn imul_truncating(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = op_type(insn, 0)?;
    let (x, y) = if insn.op_count() == 3 {
        (read(cx, insn, 1, ty)?, read(cx, insn, 2, ty)?)
    } else {
        (read(cx, insn, 0, ty)?, read(cx, insn, 1, ty)?)
    };
    let lo = cx.b.imul(x, y);
    let hi = cx.b.smulhi(x, y);
    let s = cx.b.iconst(Type::I8, i128::from(ty.bits() - 1));
    let ext = cx.b.sshr(lo, s);
    let over = cx.b.icmp(IntCC::Ne, hi, ext);
    set_cf_of(cx, over);
    write(cx, insn, 0, lo)
}

/// `mul`/`imul r/m`: the double-width product in (r|e)dx:(r|e)ax, or ax
/// for bytes. CF = OF = the high half is significant.
fn widening_mul(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = op_type(insn, 0)?;
    let signed = insn.mnemonic() == Mnemonic::Imul;
    let (lo_reg, hi_reg) = acc_regs(ty);
    let x = read_gpr(cx, lo_reg)?;
    let y = read(cx, insn, 0, ty)?;
    let lo = cx.b.imul(x, y);
    let hi = if signed {
        cx.b.smulhi(x, y)
    } else {
        cx.b.umulhi(x, y)
    };
    let over = if signed {
        let s = cx.b.iconst(Type::I8, i128::from(ty.bits() - 1));
        let ext = cx.b.sshr(lo, s);
        cx.b.icmp(IntCC::Ne, hi, ext)
    } else {
        let z = cx.b.iconst(ty, 0);
        cx.b.icmp(IntCC::Ne, hi, z)
    };
    set_cf_of(cx, over);
    if ty == Type::I8 {
        let lo16 = cx.b.uext(Type::I16, lo);
        let hi16 = cx.b.uext(Type::I16, hi);
        let eight = cx.b.iconst(Type::I8, 8);
        let hi16 = cx.b.ishl(hi16, eight);
        let ax = cx.b.bor(lo16, hi16);
        return write_gpr(cx, Register::AX, ax);
    }
    write_gpr(cx, lo_reg, lo)?;
    write_gpr(cx, hi_reg, hi)
}

/// Leaves through a #DE trap when `bad` holds.
fn trap_if(cx: &mut LiftCx, bad: Value) {
    let fault = cx.b.create_block();
    let ok = cx.b.create_block();
    cx.b.brif(bad, fault, ok);
    cx.b.switch_to_block(fault);
    cx.trap(TrapKind::DivideError);
    cx.b.switch_to_block(ok);
}

/// `div`/`idiv r/m`: the double-width dividend divided by the operand.
fn divide(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = op_type(insn, 0)?;
    let signed = insn.mnemonic() == Mnemonic::Idiv;
    let wide = match ty {
        Type::I8 => Type::I16,
        Type::I16 => Type::I32,
        Type::I32 => Type::I64,
        _ => Type::I128,
    };
    let d = read(cx, insn, 0, ty)?;
    let zero = cx.b.iconst(ty, 0);
    let by_zero = cx.b.icmp(IntCC::Eq, d, zero);
    trap_if(cx, by_zero);
    let dividend = if ty == Type::I8 {
        read_gpr(cx, Register::AX)?
    } else {
        let (lo_reg, hi_reg) = acc_regs(ty);
        let lo = read_gpr(cx, lo_reg)?;
        let hi = read_gpr(cx, hi_reg)?;
        let lo = cx.b.uext(wide, lo);
        let hi = cx.b.uext(wide, hi);
        let s = cx.b.iconst(Type::I8, i128::from(ty.bits()));
        let hi = cx.b.ishl(hi, s);
        cx.b.bor(hi, lo)
    };
    let dw = if signed {
        cx.b.sext(wide, d)
    } else {
        cx.b.uext(wide, d)
    };
    let (q, r) = if signed {
        (cx.b.sdiv(dividend, dw), cx.b.srem(dividend, dw))
    } else {
        (cx.b.udiv(dividend, dw), cx.b.urem(dividend, dw))
    };
    let q_narrow = cx.b.ireduce(ty, q);
    let back = if signed {
        cx.b.sext(wide, q_narrow)
    } else {
        cx.b.uext(wide, q_narrow)
    };
    let overflow = cx.b.icmp(IntCC::Ne, back, q);
    trap_if(cx, overflow);
    let r_narrow = cx.b.ireduce(ty, r);
    let (lo_reg, hi_reg) = acc_regs(ty);
    write_gpr(cx, lo_reg, q_narrow)?;
    write_gpr(cx, hi_reg, r_narrow)
}
