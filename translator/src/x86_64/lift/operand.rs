//! Operands: general registers with the partial-register rules, effective
//! addresses (segment bases, RIP-relative, 32-bit address size), memory and
//! immediates, and the stack.

use iced_x86::{Instruction, OpKind, Register};
use vmtrans_ir::{GuestReg, Type, Value};

use crate::x86_64::regs::{gpr, xmm, FS_BASE, GS_BASE, RSP};
use crate::LiftCx;

use super::Fail;

/// The IR integer type of `bytes` bytes (16 gives `V128`).
pub fn int_type(bytes: usize) -> Result<Type, Fail> {
    Ok(match bytes {
        1 => Type::I8,
        2 => Type::I16,
        4 => Type::I32,
        8 => Type::I64,
        16 => Type::V128,
        n => return Err(format!("{n}-byte operand")),
    })
}

/// The guest register and bit position of a general register operand
/// (`ah`..`bh` sit at bit 8 of their full register).
fn gpr_slot(r: Register) -> (GuestReg, u32) {
    let full = r.full_register();
    let n = full.number() as u8;
    let high = matches!(r, Register::AH | Register::CH | Register::DH | Register::BH);
    (gpr(n), if high { 8 } else { 0 })
}

/// The type of a general register operand.
pub fn reg_type(r: Register) -> Result<Type, Fail> {
    int_type(r.size())
}

/// Reads general register `r` at its own width.
pub fn read_gpr(cx: &mut LiftCx, r: Register) -> Result<Value, Fail> {
    let ty = reg_type(r)?;
    let (g, shift) = gpr_slot(r);
    let full = cx.b.use_reg(g);
    if ty == Type::I64 {
        return Ok(full);
    }
    let v = if shift != 0 {
        let s = cx.b.iconst(Type::I8, i128::from(shift));
        cx.b.ushr(full, s)
    } else {
        full
    };
    Ok(cx.b.ireduce(ty, v))
}

/// Writes general register `r`: 32-bit writes zero the upper half, 8- and
/// 16-bit writes merge into the untouched bits.
pub fn write_gpr(cx: &mut LiftCx, r: Register, v: Value) -> Result<(), Fail> {
    let ty = reg_type(r)?;
    let (g, shift) = gpr_slot(r);
    let value = match ty {
        Type::I64 => v,
        Type::I32 => cx.b.uext(Type::I64, v),
        _ => {
            let old = cx.b.use_reg(g);
            let mask = ((1u64 << ty.bits()) - 1) << shift;
            let keep = cx.b.iconst(Type::I64, i128::from(!mask));
            let kept = cx.b.band(old, keep);
            let wide = cx.b.uext(Type::I64, v);
            let placed = if shift != 0 {
                let s = cx.b.iconst(Type::I8, i128::from(shift));
                cx.b.ishl(wide, s)
            } else {
                wide
            };
            cx.b.bor(kept, placed)
        }
    };
    cx.b.def_reg(g, value);
    Ok(())
}

/// The guest register of xmm operand `r`.
pub fn xmm_reg(r: Register) -> Result<GuestReg, Fail> {
    if r.is_xmm() {
        Ok(xmm((r as u32 - Register::XMM0 as u32) as u8))
    } else {
        Err(format!("register {r:?} is not an xmm register"))
    }
}

/// The effective address of the memory operand, as a guest address.
pub fn address(cx: &mut LiftCx, insn: &Instruction) -> Result<Value, Fail> {
    let base = insn.memory_base();
    let index = insn.memory_index();
    let disp = insn.memory_displacement64();
    let mut a = cx.const64(disp);
    if base == Register::RIP || base == Register::EIP {
        // iced resolves RIP-relative displacements to the absolute target.
    } else if base != Register::None {
        let b = read_addr_reg(cx, base)?;
        a = cx.b.iadd(b, a);
    }
    if index != Register::None {
        let i = read_addr_reg(cx, index)?;
        let scale = insn.memory_index_scale().trailing_zeros();
        let i = if scale != 0 {
            let s = cx.b.iconst(Type::I8, i128::from(scale));
            cx.b.ishl(i, s)
        } else {
            i
        };
        a = cx.b.iadd(a, i);
    }
    if base.size() == 4 || index.size() == 4 {
        let low = cx.b.ireduce(Type::I32, a);
        a = cx.b.uext(Type::I64, low);
    }
    match insn.memory_segment() {
        Register::FS => {
            let fs = cx.b.use_reg(FS_BASE);
            a = cx.b.iadd(fs, a);
        }
        Register::GS => {
            let gs = cx.b.use_reg(GS_BASE);
            a = cx.b.iadd(gs, a);
        }
        _ => {}
    }
    Ok(a)
}

/// An address register (64- or 32-bit) zero-extended to 64 bits.
fn read_addr_reg(cx: &mut LiftCx, r: Register) -> Result<Value, Fail> {
    let v = read_gpr(cx, r)?;
    Ok(match r.size() {
        8 => v,
        _ => cx.b.uext(Type::I64, v),
    })
}

/// True when operand `i` is an immediate.
pub fn is_imm(insn: &Instruction, i: u32) -> bool {
    matches!(
        insn.op_kind(i),
        OpKind::Immediate8
            | OpKind::Immediate16
            | OpKind::Immediate32
            | OpKind::Immediate64
            | OpKind::Immediate8to16
            | OpKind::Immediate8to32
            | OpKind::Immediate8to64
            | OpKind::Immediate32to64
            | OpKind::Immediate8_2nd
    )
}

/// The width of operand `i` (an immediate takes operand 0's width).
pub fn op_type(insn: &Instruction, i: u32) -> Result<Type, Fail> {
    match insn.op_kind(i) {
        OpKind::Register => reg_type(insn.op_register(i)),
        OpKind::Memory => int_type(insn.memory_size().size()),
        _ if is_imm(insn, i) && i > 0 => op_type(insn, 0),
        k => Err(format!("operand kind {k:?}")),
    }
}

/// Reads integer operand `i` as a value of type `ty` (immediates are
/// truncated from their sign-extended form).
pub fn read(cx: &mut LiftCx, insn: &Instruction, i: u32, ty: Type) -> Result<Value, Fail> {
    match insn.op_kind(i) {
        OpKind::Register => {
            let r = insn.op_register(i);
            if r.is_xmm() {
                let v = cx.b.use_reg(xmm_reg(r)?);
                return Ok(if ty == Type::V128 {
                    v
                } else {
                    cx.b.vextract(ty, 0, v)
                });
            }
            read_gpr(cx, r)
        }
        OpKind::Memory => {
            let a = address(cx, insn)?;
            Ok(cx.b.load(ty, a))
        }
        _ if is_imm(insn, i) => Ok(cx.b.iconst(ty, i128::from(insn.immediate(i)))),
        k => Err(format!("operand kind {k:?}")),
    }
}

/// Writes integer operand `i` (a register or memory).
pub fn write(cx: &mut LiftCx, insn: &Instruction, i: u32, v: Value) -> Result<(), Fail> {
    match insn.op_kind(i) {
        OpKind::Register => write_gpr(cx, insn.op_register(i), v),
        OpKind::Memory => {
            let a = address(cx, insn)?;
            cx.b.store(a, v);
            Ok(())
        }
        k => Err(format!("cannot write operand kind {k:?}")),
    }
}

/// Pushes a 64-bit value.
pub fn push(cx: &mut LiftCx, v: Value) {
    let sp = cx.b.use_reg(RSP);
    let eight = cx.const64(8);
    let sp = cx.b.isub(sp, eight);
    cx.b.store(sp, v);
    cx.b.def_reg(RSP, sp);
}

/// Pops a 64-bit value.
pub fn pop(cx: &mut LiftCx) -> Value {
    let sp = cx.b.use_reg(RSP);
    let v = cx.b.load(Type::I64, sp);
    let eight = cx.const64(8);
    let sp = cx.b.iadd(sp, eight);
    cx.b.def_reg(RSP, sp);
    v
}
