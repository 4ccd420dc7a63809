//! Integer arithmetic, logic, moves, conditional moves and sets, sign
//! extensions of rax, byte swaps, and the LOCK-prefixed read-modify-writes
//! (host atomics).

use iced_x86::{Instruction, Mnemonic, OpKind, Register};
use vmtrans_ir::{AtomicOp, IntCC, Type, Value};

use crate::x86_64::regs::{CF, RAX, RBX, RCX, RDX, ZF};
use crate::LiftCx;

use super::flags;
use super::operand::{self, address, op_type, read, write, write_gpr};
use super::Fail;

/// The two-operand ALU group: `op dst, src` with flags.
pub fn lift_binary(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = op_type(insn, 0)?;
    // `xor r, r` and `sub r, r` are zeroing idioms: no need to read r.
    let same_reg = insn.op_kind(0) == OpKind::Register
        && insn.op_kind(1) == OpKind::Register
        && insn.op_register(0) == insn.op_register(1);
    if same_reg && matches!(insn.mnemonic(), Mnemonic::Xor | Mnemonic::Sub) {
        let z = cx.b.iconst(ty, 0);
        if insn.mnemonic() == Mnemonic::Xor {
            flags::logic(cx, z);
        } else {
            flags::sub(cx, z, z, z);
        }
        return write(cx, insn, 0, z);
    }
    let a = read(cx, insn, 0, ty)?;
    let b = read(cx, insn, 1, ty)?;
    let r = arith(cx, insn.mnemonic(), a, b)?;
    match insn.mnemonic() {
        Mnemonic::Cmp | Mnemonic::Sub => flags::record_sub(cx, a, b),
        Mnemonic::Test | Mnemonic::And | Mnemonic::Or | Mnemonic::Xor => flags::record_logic(cx, r),
        _ => {}
    }
    if !matches!(insn.mnemonic(), Mnemonic::Cmp | Mnemonic::Test) {
        write(cx, insn, 0, r)?;
    }
    Ok(())
}

/// `a op b` with its flags.
fn arith(cx: &mut LiftCx, m: Mnemonic, a: Value, b: Value) -> Result<Value, Fail> {
    let ty = cx.b.func().value_type(a);
    Ok(match m {
        Mnemonic::Add => {
            let r = cx.b.iadd(a, b);
            flags::add(cx, a, b, r);
            r
        }
        Mnemonic::Sub | Mnemonic::Cmp => {
            let r = cx.b.isub(a, b);
            flags::sub(cx, a, b, r);
            r
        }
        Mnemonic::Adc => {
            let c = cx.b.use_reg(CF);
            let c = cx.b.uext(ty, c);
            let ab = cx.b.iadd(a, b);
            let r = cx.b.iadd(ab, c);
            flags::adc(cx, a, b, c, ab, r);
            r
        }
        Mnemonic::Sbb => {
            let c = cx.b.use_reg(CF);
            let c = cx.b.uext(ty, c);
            let ab = cx.b.isub(a, b);
            let r = cx.b.isub(ab, c);
            flags::sbb(cx, a, b, c, ab, r);
            r
        }
        Mnemonic::And | Mnemonic::Test => {
            let r = cx.b.band(a, b);
            flags::logic(cx, r);
            r
        }
        Mnemonic::Or => {
            let r = cx.b.bor(a, b);
            flags::logic(cx, r);
            r
        }
        Mnemonic::Xor => {
            let r = cx.b.bxor(a, b);
            flags::logic(cx, r);
            r
        }
        m => return Err(format!("{m:?} is not a binary ALU op")),
    })
}

/// `inc`, `dec` (CF kept), `neg`, `not` (no flags).
pub fn lift_unary(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = op_type(insn, 0)?;
    let a = read(cx, insn, 0, ty)?;
    let r = unary(cx, insn.mnemonic(), a);
    write(cx, insn, 0, r)
}

fn unary(cx: &mut LiftCx, m: Mnemonic, a: Value) -> Value {
    let ty = cx.b.func().value_type(a);
    match m {
        Mnemonic::Inc | Mnemonic::Dec => {
            let one = cx.b.iconst(ty, 1);
            let carry = cx.b.use_reg(CF);
            let r = if m == Mnemonic::Inc {
                let r = cx.b.iadd(a, one);
                flags::add(cx, a, one, r);
                r
            } else {
                let r = cx.b.isub(a, one);
                flags::sub(cx, a, one, r);
                r
            };
            cx.b.def_reg(CF, carry);
            r
        }
        Mnemonic::Neg => {
            let z = cx.b.iconst(ty, 0);
            let r = cx.b.isub(z, a);
            flags::sub(cx, z, a, r);
            r
        }
        _ => cx.b.bnot(a),
    }
}

/// Moves: `mov`, zero/sign extensions, `lea`, `xchg`, `cmovcc`, `setcc`,
/// `cbw`..`cqo`, `bswap`, `movbe`.
pub fn lift_move(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    match m {
        M::Mov => {
            let ty = op_type(insn, 0)?;
            if insn.op_kind(0) == OpKind::Register && insn.op_register(0).is_segment_register()
                || insn.op_kind(1) == OpKind::Register && insn.op_register(1).is_segment_register()
            {
                return Err("segment register move".into());
            }
            let v = read(cx, insn, 1, ty)?;
            write(cx, insn, 0, v)
        }
        M::Movzx | M::Movsx | M::Movsxd => {
            let to = op_type(insn, 0)?;
            let from = op_type(insn, 1)?;
            let v = read(cx, insn, 1, from)?;
            let v = if from == to {
                v
            } else if m == M::Movzx {
                cx.b.uext(to, v)
            } else {
                cx.b.sext(to, v)
            };
            write(cx, insn, 0, v)
        }
        M::Lea => {
            let a = address_no_segment(cx, insn)?;
            let ty = op_type(insn, 0)?;
            let v = if ty == Type::I64 {
                a
            } else {
                cx.b.ireduce(ty, a)
            };
            write(cx, insn, 0, v)
        }
        M::Xchg => {
            let ty = op_type(insn, 0)?;
            if insn.op_kind(0) == OpKind::Memory || insn.op_kind(1) == OpKind::Memory {
                return xchg_memory(insn, cx, ty);
            }
            let a = read(cx, insn, 0, ty)?;
            let b = read(cx, insn, 1, ty)?;
            write(cx, insn, 0, b)?;
            write(cx, insn, 1, a)
        }
        M::Cbw | M::Cwde | M::Cdqe => {
            let (from, to, r) = match m {
                M::Cbw => (Type::I8, Type::I16, Register::AX),
                M::Cwde => (Type::I16, Type::I32, Register::EAX),
                _ => (Type::I32, Type::I64, Register::RAX),
            };
            let rax = cx.b.use_reg(RAX);
            let low = cx.b.ireduce(from, rax);
            let v = cx.b.sext(to, low);
            write_gpr(cx, r, v)
        }
        M::Cwd | M::Cdq | M::Cqo => {
            let (ty, r) = match m {
                M::Cwd => (Type::I16, Register::DX),
                M::Cdq => (Type::I32, Register::EDX),
                _ => (Type::I64, Register::RDX),
            };
            let rax = cx.b.use_reg(RAX);
            let a = if ty == Type::I64 {
                rax
            } else {
                cx.b.ireduce(ty, rax)
            };
            let s = cx.b.iconst(Type::I8, i128::from(ty.bits() - 1));
            let v = cx.b.sshr(a, s);
            let _ = RDX;
            write_gpr(cx, r, v)
        }
        M::Bswap => {
            let ty = op_type(insn, 0)?;
            if ty == Type::I16 {
                return Err("bswap of a 16-bit register is undefined".into());
            }
            let v = read(cx, insn, 0, ty)?;
            let r = cx.b.bswap(v);
            write(cx, insn, 0, r)
        }
        M::Movbe => {
            let ty = op_type(insn, 0)?;
            let v = read(cx, insn, 1, ty)?;
            let r = if ty == Type::I8 { v } else { cx.b.bswap(v) };
            write(cx, insn, 0, r)
        }
        _ if insn.condition_code() != iced_x86::ConditionCode::None => cond_move(insn, cx),
        m => Err(format!("{m:?} is not a move")),
    }
}

/// `lea` ignores segment overrides.
fn address_no_segment(cx: &mut LiftCx, insn: &Instruction) -> Result<Value, Fail> {
    if matches!(insn.memory_segment(), Register::FS | Register::GS) {
        return Err("lea with an fs/gs override".into());
    }
    address(cx, insn)
}

/// `setcc` and `cmovcc`. A 32-bit `cmov` zero-extends its destination even
/// when the condition is false.
fn cond_move(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let c = flags::cond(cx, insn.condition_code())?;
    let ty = op_type(insn, 0)?;
    if insn.op_count() == 1 {
        let v = cx.b.uext(Type::I8, c);
        return write(cx, insn, 0, v);
    }
    let new = read(cx, insn, 1, ty)?;
    let old = read(cx, insn, 0, ty)?;
    let v = cx.b.select(c, new, old);
    write(cx, insn, 0, v)
}

/// `xchg` with memory is always atomic.
fn xchg_memory(insn: &Instruction, cx: &mut LiftCx, ty: Type) -> Result<(), Fail> {
    let reg_op = if insn.op_kind(0) == OpKind::Memory {
        1
    } else {
        0
    };
    let v = read(cx, insn, reg_op, ty)?;
    let a = address(cx, insn)?;
    let old = cx.b.atomic_rmw(AtomicOp::Xchg, a, v);
    write(cx, insn, reg_op, old)
}

/// LOCK-prefixed read-modify-writes, `cmpxchg` and `xadd` (atomic whether
/// or not the prefix is there, which is a stronger guarantee).
pub fn lift_locked(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    if m == M::Cmpxchg16b {
        return cmpxchg16b(insn, cx);
    }
    let ty = op_type(insn, 0)?;
    match m {
        M::Cmpxchg => return cmpxchg(insn, cx, ty),
        M::Xadd => return xadd(insn, cx, ty),
        M::Xchg => return xchg_memory(insn, cx, ty),
        _ => {}
    }
    if insn.op_kind(0) != OpKind::Memory {
        return Err("lock prefix without a memory destination".into());
    }
    let a = address(cx, insn)?;
    match m {
        M::Add | M::Sub | M::And | M::Or | M::Xor => {
            let b = read(cx, insn, 1, ty)?;
            let (op, arg) = match m {
                M::Add => (AtomicOp::Add, b),
                M::Sub => (AtomicOp::Add, cx.b.ineg(b)),
                M::And => (AtomicOp::And, b),
                M::Or => (AtomicOp::Or, b),
                _ => (AtomicOp::Xor, b),
            };
            let old = cx.b.atomic_rmw(op, a, arg);
            arith(cx, m, old, b)?;
            Ok(())
        }
        M::Inc | M::Dec => {
            let one = cx.b.iconst(ty, 1);
            let arg = if m == M::Inc { one } else { cx.b.ineg(one) };
            let old = cx.b.atomic_rmw(AtomicOp::Add, a, arg);
            unary(cx, m, old);
            Ok(())
        }
        M::Not | M::Neg | M::Adc | M::Sbb | M::Bts | M::Btr | M::Btc => cas_update(cx, insn, a, ty),
        m => Err(format!("lock {m:?}")),
    }
}

/// A locked operation without a host atomic: computed on the loaded value
/// and committed with one compare-and-swap, retried in a loop until no
/// other thread intervened.
fn cas_update(cx: &mut LiftCx, insn: &Instruction, a: Value, ty: Type) -> Result<(), Fail> {
    let head = cx.b.create_block();
    let done = cx.b.create_block();
    cx.b.jump(head, &[]);
    cx.b.switch_to_block(head);
    let old = cx.b.load(ty, a);
    let new = match insn.mnemonic() {
        Mnemonic::Not | Mnemonic::Neg => unary(cx, insn.mnemonic(), old),
        Mnemonic::Adc | Mnemonic::Sbb => {
            let b = read(cx, insn, 1, ty)?;
            arith(cx, insn.mnemonic(), old, b)?
        }
        _ => super::bits::bit_update(cx, insn, old)?,
    };
    let seen = cx.b.atomic_cas(a, old, new);
    let same = cx.b.icmp(IntCC::Eq, seen, old);
    cx.b.brif(same, done, head);
    cx.b.switch_to_block(done);
    Ok(())
}

/// `cmpxchg16b m128`: compare rdx:rax with m128; equal → m128 = rcx:rbx,
/// ZF = 1; else rdx:rax = m128, ZF = 0. One 128-bit atomic
/// compare-and-swap (host `lock cmpxchg16b`, which like the guest's faults
/// on a misaligned operand); the other flags are kept.
fn cmpxchg16b(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    if insn.op_kind(0) != OpKind::Memory || insn.memory_size().size() != 16 {
        return Err("cmpxchg16b without a 16-byte memory operand".into());
    }
    let pair = |cx: &mut LiftCx, lo, hi| {
        let lo = cx.b.use_reg(lo);
        let hi = cx.b.use_reg(hi);
        let lo = cx.b.uext(Type::I128, lo);
        let hi = cx.b.uext(Type::I128, hi);
        let s64 = cx.b.iconst(Type::I8, 64);
        let hi = cx.b.ishl(hi, s64);
        cx.b.bor(hi, lo)
    };
    let expected = pair(cx, RAX, RDX);
    let new = pair(cx, RBX, RCX);
    let a = address(cx, insn)?;
    let old = cx.b.atomic_cas(a, expected, new);
    let eq = cx.b.icmp(IntCC::Eq, old, expected);
    cx.b.def_reg(ZF, eq);
    let old_lo = cx.b.ireduce(Type::I64, old);
    let s64 = cx.b.iconst(Type::I8, 64);
    let old_hi = cx.b.ushr(old, s64);
    let old_hi = cx.b.ireduce(Type::I64, old_hi);
    // On success rdx:rax already equal the memory's old value.
    cx.b.def_reg(RAX, old_lo);
    cx.b.def_reg(RDX, old_hi);
    Ok(())
}

/// `cmpxchg dst, src`: compare rax with dst; equal → dst = src, ZF = 1;
/// else rax = dst. Flags as `cmp rax, dst`.
fn cmpxchg(insn: &Instruction, cx: &mut LiftCx, ty: Type) -> Result<(), Fail> {
    let acc_reg = match ty {
        Type::I8 => Register::AL,
        Type::I16 => Register::AX,
        Type::I32 => Register::EAX,
        _ => Register::RAX,
    };
    let expected = operand::read_gpr(cx, acc_reg)?;
    let new = read(cx, insn, 1, ty)?;
    let old = if insn.op_kind(0) == OpKind::Memory {
        let a = address(cx, insn)?;
        cx.b.atomic_cas(a, expected, new)
    } else {
        // The destination register is written (a 32-bit one zero-extended)
        // only when the values were equal.
        let dst = insn.op_register(0);
        let cur = read(cx, insn, 0, ty)?;
        let eq = cx.b.icmp(IntCC::Eq, cur, expected);
        let full = dst.full_register();
        let old64 = operand::read_gpr(cx, full)?;
        write(cx, insn, 0, new)?;
        let new64 = operand::read_gpr(cx, full)?;
        let v = cx.b.select(eq, new64, old64);
        write_gpr(cx, full, v)?;
        cur
    };
    let r = cx.b.isub(expected, old);
    flags::sub(cx, expected, old, r);
    // The accumulator is written only on failure; a 32-bit write would
    // zero-extend rax, so it is kept as is when the values were equal.
    // (The destination may be the accumulator itself: what it holds now
    // is kept on success.)
    let eq = cx.b.icmp(IntCC::Eq, old, expected);
    if ty == Type::I32 {
        let rax = cx.b.use_reg(RAX);
        let wide = cx.b.uext(Type::I64, old);
        let v = cx.b.select(eq, rax, wide);
        cx.b.def_reg(RAX, v);
        Ok(())
    } else {
        let now = operand::read_gpr(cx, acc_reg)?;
        let v = cx.b.select(eq, now, old);
        write_gpr(cx, acc_reg, v)
    }
}

/// `xadd dst, src`: dst += src, src = old dst, flags of the addition.
fn xadd(insn: &Instruction, cx: &mut LiftCx, ty: Type) -> Result<(), Fail> {
    let b = read(cx, insn, 1, ty)?;
    let old = if insn.op_kind(0) == OpKind::Memory {
        let a = address(cx, insn)?;
        cx.b.atomic_rmw(AtomicOp::Add, a, b)
    } else {
        let old = read(cx, insn, 0, ty)?;
        let sum = cx.b.iadd(old, b);
        write(cx, insn, 0, sum)?;
        old
    };
    let r = cx.b.iadd(old, b);
    flags::add(cx, old, b, r);
    write(cx, insn, 1, old)?;
    if insn.op_kind(0) == OpKind::Register {
        // Register form: the destination holds the sum even when it is
        // the same register as the source.
        write(cx, insn, 0, r)?;
    }
    Ok(())
}
