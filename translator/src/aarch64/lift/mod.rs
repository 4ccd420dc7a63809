//! aarch64 semantics: each instruction word lifted into the IR.
//!
//! The top-level encoding groups (bits 28:25) pick a family module; each
//! module reads its fields from the word. Guest choices made explicit:
//! - Register 31 is the zero register or the stack pointer as each encoding
//!   says; 32-bit results are zero-extended into the X register.
//! - NZCV are four `i1` registers, each computed as its own value, so the
//!   flags nobody reads are dead code.
//! - Division never traps: x/0 is 0, as the architecture says.
//! - Exclusives map onto compare-and-swap against the value the
//!   load-exclusive read (the ABA case is not detected, as in other
//!   translators).
//! - `svc` calls the runtime's syscall helper; the runtime may move the PC
//!   (`rt_sigreturn`), so lifted code leaves when the PC moved.

mod branch;
mod dp_imm;
mod dp_reg;
mod fp;
mod ldst;
mod simd;
mod system;

use vmtrans_ir::{Function, Imm, IntCC, Opcode, Type, Value, ValueDef};

use super::regs::{x, C, N, SP, V, Z};
use crate::lift::{LiftCx, LiftError};

/// FPCR.FZ: flush subnormal operands and results to zero.
pub const FPCR_FZ: u64 = 1 << 24;
/// FPCR.DN: NaN results are the default NaN.
pub const FPCR_DN: u64 = 1 << 25;

/// What lifting one instruction gives.
pub(crate) type Lifted = Result<(), LiftError>;

/// Lifts instruction word `w` at `cx.pc()`.
pub fn lift_insn(w: u32, cx: &mut LiftCx) -> Lifted {
    match bits(w, 28, 25) {
        0b1000 | 0b1001 => dp_imm::lift(w, cx),
        0b1010 | 0b1011 => branch::lift(w, cx),
        0b0101 | 0b1101 => dp_reg::lift(w, cx),
        0b0111 | 0b1111 => {
            if w & 0x5f00_0000 == 0x1e00_0000 || w & 0x5f00_0000 == 0x1f00_0000 {
                fp::lift(w, cx)
            } else {
                simd::lift(w, cx)
            }
        }
        op0 if op0 & 0b0101 == 0b0100 => ldst::lift(w, cx),
        _ => Err(unsupported(cx, w, "unallocated encoding")),
    }
}

/// Bits `hi..=lo` of `w`.
pub(crate) const fn bits(w: u32, hi: u32, lo: u32) -> u32 {
    (w >> lo) & ((1 << (hi - lo + 1)) - 1)
}

/// Bit `n` of `w`.
pub(crate) const fn bit(w: u32, n: u32) -> bool {
    (w >> n) & 1 != 0
}

/// The error for an instruction this lifter does not translate.
pub(crate) fn unsupported(cx: &LiftCx, w: u32, reason: &str) -> LiftError {
    LiftError {
        arch: "aarch64",
        addr: cx.pc(),
        bytes: w.to_le_bytes().to_vec(),
        reason: reason.to_string(),
    }
}

// ---- general registers ----

/// The integer type of a 64-bit (`sf`) or 32-bit operation.
pub(crate) fn ity(sf: bool) -> Type {
    if sf {
        Type::I64
    } else {
        Type::I32
    }
}

/// An integer constant of type `ty`.
pub(crate) fn k(cx: &mut LiftCx, ty: Type, v: u64) -> Value {
    cx.b.iconst(ty, i128::from(v) & ((1i128 << ty.bits()) - 1))
}

/// Register `n` (31 reads as zero), 64 or 32 bits.
pub(crate) fn gp(cx: &mut LiftCx, n: u32, sf: bool) -> Value {
    if n == 31 {
        return k(cx, ity(sf), 0);
    }
    let v = cx.b.use_reg(x(n));
    if sf {
        v
    } else {
        cx.b.ireduce(Type::I32, v)
    }
}

/// Register `n` (31 is SP), 64 or 32 bits.
pub(crate) fn gp_sp(cx: &mut LiftCx, n: u32, sf: bool) -> Value {
    let v = if n == 31 {
        cx.b.use_reg(SP)
    } else {
        cx.b.use_reg(x(n))
    };
    if sf {
        v
    } else {
        cx.b.ireduce(Type::I32, v)
    }
}

/// Writes register `n` (31 discards); a 32-bit value is zero-extended.
pub(crate) fn set_gp(cx: &mut LiftCx, n: u32, v: Value) {
    if n != 31 {
        let v = widen(cx, v);
        cx.b.def_reg(x(n), v);
    }
}

/// Writes register `n` (31 is SP); a 32-bit value is zero-extended.
pub(crate) fn set_gp_sp(cx: &mut LiftCx, n: u32, v: Value) {
    let v = widen(cx, v);
    if n == 31 {
        cx.b.def_reg(SP, v);
    } else {
        cx.b.def_reg(x(n), v);
    }
}

fn widen(cx: &mut LiftCx, v: Value) -> Value {
    if cx.b.func().value_type(v) == Type::I64 {
        v
    } else {
        cx.b.uext(Type::I64, v)
    }
}

/// The type of value `v`.
pub(crate) fn ty_of(cx: &LiftCx, v: Value) -> Type {
    cx.b.func().value_type(v)
}

// ---- flags ----

/// An `i1` constant.
pub(crate) fn flag_const(cx: &mut LiftCx, v: bool) -> Value {
    cx.b.iconst(Type::I1, i128::from(v))
}

/// Logical not of an `i1`.
pub(crate) fn not1(cx: &mut LiftCx, f: Value) -> Value {
    let zero = flag_const(cx, false);
    cx.b.icmp(IntCC::Eq, f, zero)
}

/// Sets N and Z from result `r`.
pub(crate) fn set_nz(cx: &mut LiftCx, r: Value) {
    let ty = ty_of(cx, r);
    let zero = k(cx, ty, 0);
    let n = cx.b.icmp(IntCC::Slt, r, zero);
    let z = cx.b.icmp(IntCC::Eq, r, zero);
    cx.b.def_reg(N, n);
    cx.b.def_reg(Z, z);
}

/// Sets NZCV for `r = a + b`.
pub(crate) fn set_flags_add(cx: &mut LiftCx, a: Value, b: Value, r: Value) {
    set_nz(cx, r);
    let c = cx.b.uadd_overflow(a, b);
    let v = cx.b.sadd_overflow(a, b);
    cx.b.def_reg(C, c);
    cx.b.def_reg(V, v);
}

/// Sets NZCV for `r = a - b` (C is "no borrow").
pub(crate) fn set_flags_sub(cx: &mut LiftCx, a: Value, b: Value, r: Value) {
    set_nz(cx, r);
    let c = cx.b.icmp(IntCC::Uge, a, b);
    let v = cx.b.ssub_overflow(a, b);
    cx.b.def_reg(C, c);
    cx.b.def_reg(V, v);
}

/// Sets NZ from `r`, clears C and V (logical operations).
pub(crate) fn set_flags_logic(cx: &mut LiftCx, r: Value) {
    set_nz(cx, r);
    let zero = flag_const(cx, false);
    cx.b.def_reg(C, zero);
    cx.b.def_reg(V, zero);
}

/// Condition `c` (0..15) over the current flags, as an `i1`.
pub(crate) fn cond(cx: &mut LiftCx, c: u32) -> Value {
    if let Some(v) = compare_cond(cx, c) {
        return v;
    }
    let base = match c >> 1 {
        0 => cx.b.use_reg(Z),
        1 => cx.b.use_reg(C),
        2 => cx.b.use_reg(N),
        3 => cx.b.use_reg(V),
        4 => {
            let c = cx.b.use_reg(C);
            let z = cx.b.use_reg(Z);
            let nz = not1(cx, z);
            cx.b.band(c, nz)
        }
        5 => n_eq_v(cx),
        6 => {
            let ge = n_eq_v(cx);
            let z = cx.b.use_reg(Z);
            let nz = not1(cx, z);
            cx.b.band(ge, nz)
        }
        _ => return flag_const(cx, true),
    };
    if c & 1 == 1 {
        not1(cx, base)
    } else {
        base
    }
}

/// Condition `c` as one compare of `a` and `b` when the flags it reads
/// were all set by the subtraction `a - b` (`cmp`, `subs`) in this block:
/// `b.hi` becomes `a >u b` instead of `C && !Z` over the flag values, which
/// is shorter code and a bounds check the jump-table resolver can read.
fn compare_cond(cx: &mut LiftCx, c: u32) -> Option<Value> {
    let (cc, reads_nv) = match c >> 1 {
        0 => (IntCC::Eq, false),
        4 => (IntCC::Ugt, false),
        5 => (IntCC::Sge, true),
        6 => (IntCC::Sgt, true),
        _ => return None,
    };
    let (a, b) = flags_from_sub(cx, reads_nv)?;
    let cc = if c & 1 == 1 { cc.inverse() } else { cc };
    Some(cx.b.icmp(cc, a, b))
}

/// The operands of the subtraction that set the flags as they are now
/// (Z and C, and N and V with `with_nv`), as [`set_flags_sub`] defines
/// them, if one did.
fn flags_from_sub(cx: &mut LiftCx, with_nv: bool) -> Option<(Value, Value)> {
    let (c, z) = (cx.b.use_reg(C), cx.b.use_reg(Z));
    let (n, v) = if with_nv {
        (Some(cx.b.use_reg(N)), Some(cx.b.use_reg(V)))
    } else {
        (None, None)
    };
    let f = cx.b.func();
    let (a, b) = match defined_as(f, c, Opcode::Icmp, Some(IntCC::Uge))? {
        &[a, b] => (a, b),
        _ => return None,
    };
    let r = *defined_as(f, z, Opcode::Icmp, Some(IntCC::Eq))?.first()?;
    if defined_as(f, r, Opcode::Isub, None)? != [a, b] {
        return None;
    }
    if let (Some(n), Some(v)) = (n, v) {
        if defined_as(f, n, Opcode::Icmp, Some(IntCC::Slt))?.first() != Some(&r)
            || defined_as(f, v, Opcode::SsubOverflow, None)? != [a, b]
        {
            return None;
        }
    }
    Some((a, b))
}

/// The operands of the instruction that defines `v`, if it is `op` (with
/// condition `cc` for a compare).
fn defined_as(f: &Function, v: Value, op: Opcode, cc: Option<IntCC>) -> Option<&[Value]> {
    let ValueDef::Result(i) = f.value(v).def else {
        return None;
    };
    let d = f.inst(i);
    (d.op == op && cc.is_none_or(|cc| d.imm == Imm::Cc(cc))).then_some(&d.args[..])
}

fn n_eq_v(cx: &mut LiftCx) -> Value {
    let n = cx.b.use_reg(N);
    let v = cx.b.use_reg(V);
    cx.b.icmp(IntCC::Eq, n, v)
}
