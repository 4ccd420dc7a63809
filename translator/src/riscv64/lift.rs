//! riscv64 semantics: each decoded instruction lifted into the IR.
//!
//! One function per instruction family (the decoder's [`Family`]). Guest
//! choices made explicit here:
//! - x0 reads as zero and ignores writes.
//! - Division never traps: x/0 is all ones, x%0 is x, MIN/-1 is MIN.
//! - FP registers hold raw 64-bit patterns; single-precision values are
//!   NaN-boxed, and an improperly boxed input reads as the canonical NaN.
//!   NaN results are the canonical NaN, as the ISA requires.
//! - `ecall` calls the runtime's syscall helper; the runtime may move the PC
//!   (`rt_sigreturn`), so the lifted code leaves the function when the PC
//!   register no longer names the next instruction.
//! - LR records a reservation (address and loaded value); SC is a
//!   compare-and-swap against that value. A store of the same value by
//!   another thread in between is not detected (the ABA case), as in other
//!   translators that map LR/SC onto compare-and-swap.
//! - Accrued FP exception flags come from the host FP unit through the
//!   `fp_sync_flags` helper when the guest reads them.

use vmtrans_ir::{AtomicOp, FloatCC, Helper, IntCC, RoundingMode, TrapKind, Type, Value};

use super::decode::{Family, Insn, Op};
use super::regs::{f, x, FFLAGS, FRM, PC, RES_ADDR, RES_VAL};
use crate::lift::{LiftCx, LiftError, SavedFpFlags};

const NAN_BOX: u64 = 0xffff_ffff_0000_0000;
const CANON_NAN_S: u32 = 0x7fc0_0000;
const CANON_NAN_D: u64 = 0x7ff8_0000_0000_0000;

/// Lifts `insn`, decoded at `cx.pc()`.
pub fn lift_insn(insn: &Insn, cx: &mut LiftCx) -> Result<(), LiftError> {
    match insn.op.family() {
        Family::Upper => lift_upper(insn, cx),
        Family::Jump => lift_jump(insn, cx),
        Family::Branch => lift_branch(insn, cx),
        Family::Load => lift_load(insn, cx),
        Family::Store => lift_store(insn, cx),
        Family::AluImm => lift_alu_imm(insn, cx),
        Family::Alu => lift_alu(insn, cx),
        Family::MulDiv => lift_muldiv(insn, cx),
        Family::System => lift_system(insn, cx),
        Family::Csr => return lift_csr(insn, cx),
        Family::Atomic => lift_atomic(insn, cx),
        Family::FloatMem => lift_float_mem(insn, cx),
        Family::FloatArith => lift_float_arith(insn, cx),
        Family::FloatCompare => lift_float_compare(insn, cx),
        Family::FloatConvert => lift_float_convert(insn, cx),
        Family::Zba => lift_zba(insn, cx),
        Family::Zbb => lift_zbb(insn, cx),
    }
    Ok(())
}

// ---- register access ----

fn get(cx: &mut LiftCx, r: u8) -> Value {
    if r == 0 {
        cx.b.iconst(Type::I64, 0)
    } else {
        cx.b.use_reg(x(r))
    }
}

fn set(cx: &mut LiftCx, r: u8, v: Value) {
    if r != 0 {
        cx.b.def_reg(x(r), v);
    }
}

/// Low 32 bits of integer register `r`.
fn get32(cx: &mut LiftCx, r: u8) -> Value {
    let v = get(cx, r);
    cx.b.ireduce(Type::I32, v)
}

/// Writes a 32-bit result sign-extended, as every RV64 `*w` op does.
fn set32(cx: &mut LiftCx, r: u8, v: Value) {
    let wide = cx.b.sext(Type::I64, v);
    set(cx, r, wide);
}

fn imm(cx: &mut LiftCx, v: i64) -> Value {
    cx.b.iconst(Type::I64, i128::from(v))
}

fn bool_to_x(cx: &mut LiftCx, c: Value) -> Value {
    cx.b.uext(Type::I64, c)
}

// ---- integer ----

fn lift_upper(i: &Insn, cx: &mut LiftCx) {
    let v = match i.op {
        Op::Lui => imm(cx, i.imm),
        Op::Auipc => imm(cx, (cx.pc() as i64).wrapping_add(i.imm)),
        op => unreachable!("{op:?} is not an upper-immediate op"),
    };
    set(cx, i.rd, v);
}

fn lift_jump(i: &Insn, cx: &mut LiftCx) {
    match i.op {
        Op::Jal => {
            let target = cx.pc().wrapping_add(i.imm as u64);
            if i.rd == 0 {
                cx.jump_to(target);
            } else {
                let link = cx.const64(cx.next_pc());
                set(cx, i.rd, link);
                let t = cx.const64(target);
                cx.call(t);
            }
        }
        Op::Jalr => {
            let base = get(cx, i.rs1);
            let off = imm(cx, i.imm);
            let sum = cx.b.iadd(base, off);
            let mask = imm(cx, !1);
            let target = cx.b.band(sum, mask);
            if i.rd != 0 {
                let link = cx.const64(cx.next_pc());
                set(cx, i.rd, link);
                cx.call(target);
            } else if (i.rs1 == 1 || i.rs1 == 5) && i.imm == 0 {
                cx.ret(target);
            } else {
                cx.jump_indirect(target);
            }
        }
        op => unreachable!("{op:?} is not a jump"),
    }
}

fn lift_branch(i: &Insn, cx: &mut LiftCx) {
    let cc = match i.op {
        Op::Beq => IntCC::Eq,
        Op::Bne => IntCC::Ne,
        Op::Blt => IntCC::Slt,
        Op::Bge => IntCC::Sge,
        Op::Bltu => IntCC::Ult,
        Op::Bgeu => IntCC::Uge,
        op => unreachable!("{op:?} is not a branch"),
    };
    let a = get(cx, i.rs1);
    let b = get(cx, i.rs2);
    let c = cx.b.icmp(cc, a, b);
    cx.branch(c, cx.pc().wrapping_add(i.imm as u64));
}

fn address(cx: &mut LiftCx, i: &Insn) -> Value {
    let base = get(cx, i.rs1);
    if i.imm == 0 {
        return base;
    }
    let off = imm(cx, i.imm);
    cx.b.iadd(base, off)
}

fn lift_load(i: &Insn, cx: &mut LiftCx) {
    let (ty, signed) = match i.op {
        Op::Lb => (Type::I8, true),
        Op::Lh => (Type::I16, true),
        Op::Lw => (Type::I32, true),
        Op::Ld => (Type::I64, false),
        Op::Lbu => (Type::I8, false),
        Op::Lhu => (Type::I16, false),
        Op::Lwu => (Type::I32, false),
        op => unreachable!("{op:?} is not a load"),
    };
    let addr = address(cx, i);
    let v = cx.b.load(ty, addr);
    let v = match (ty, signed) {
        (Type::I64, _) => v,
        (_, true) => cx.b.sext(Type::I64, v),
        (_, false) => cx.b.uext(Type::I64, v),
    };
    set(cx, i.rd, v);
}

fn lift_store(i: &Insn, cx: &mut LiftCx) {
    let ty = match i.op {
        Op::Sb => Type::I8,
        Op::Sh => Type::I16,
        Op::Sw => Type::I32,
        Op::Sd => Type::I64,
        op => unreachable!("{op:?} is not a store"),
    };
    let addr = address(cx, i);
    let v = get(cx, i.rs2);
    let v = if ty == Type::I64 {
        v
    } else {
        cx.b.ireduce(ty, v)
    };
    cx.b.store(addr, v);
}

fn lift_alu_imm(i: &Insn, cx: &mut LiftCx) {
    if matches!(i.op, Op::Addiw | Op::Slliw | Op::Srliw | Op::Sraiw) {
        let a = get32(cx, i.rs1);
        let k = cx.b.iconst(Type::I32, i128::from(i.imm));
        let r = match i.op {
            Op::Addiw => cx.b.iadd(a, k),
            Op::Slliw => cx.b.ishl(a, k),
            Op::Srliw => cx.b.ushr(a, k),
            _ => cx.b.sshr(a, k),
        };
        set32(cx, i.rd, r);
        return;
    }
    let a = get(cx, i.rs1);
    let k = imm(cx, i.imm);
    let r = match i.op {
        Op::Addi => cx.b.iadd(a, k),
        Op::Slti => compare_to_x(cx, IntCC::Slt, a, k),
        Op::Sltiu => compare_to_x(cx, IntCC::Ult, a, k),
        Op::Xori => cx.b.bxor(a, k),
        Op::Ori => cx.b.bor(a, k),
        Op::Andi => cx.b.band(a, k),
        Op::Slli => cx.b.ishl(a, k),
        Op::Srli => cx.b.ushr(a, k),
        Op::Srai => cx.b.sshr(a, k),
        op => unreachable!("{op:?} is not a register-immediate op"),
    };
    set(cx, i.rd, r);
}

fn compare_to_x(cx: &mut LiftCx, cc: IntCC, a: Value, b: Value) -> Value {
    let c = cx.b.icmp(cc, a, b);
    bool_to_x(cx, c)
}

fn lift_alu(i: &Insn, cx: &mut LiftCx) {
    if matches!(i.op, Op::Addw | Op::Subw | Op::Sllw | Op::Srlw | Op::Sraw) {
        let a = get32(cx, i.rs1);
        let b = get32(cx, i.rs2);
        let r = match i.op {
            Op::Addw => cx.b.iadd(a, b),
            Op::Subw => cx.b.isub(a, b),
            Op::Sllw => cx.b.ishl(a, b),
            Op::Srlw => cx.b.ushr(a, b),
            _ => cx.b.sshr(a, b),
        };
        set32(cx, i.rd, r);
        return;
    }
    let a = get(cx, i.rs1);
    let b = get(cx, i.rs2);
    let r = match i.op {
        Op::Add => cx.b.iadd(a, b),
        Op::Sub => cx.b.isub(a, b),
        Op::Sll => cx.b.ishl(a, b),
        Op::Slt => compare_to_x(cx, IntCC::Slt, a, b),
        Op::Sltu => compare_to_x(cx, IntCC::Ult, a, b),
        Op::Xor => cx.b.bxor(a, b),
        Op::Srl => cx.b.ushr(a, b),
        Op::Sra => cx.b.sshr(a, b),
        Op::Or => cx.b.bor(a, b),
        Op::And => cx.b.band(a, b),
        op => unreachable!("{op:?} is not a register-register op"),
    };
    set(cx, i.rd, r);
}

/// Quotient with RISC-V's divide-by-zero result (all ones); the IR's total
/// division already gives MIN for MIN/-1.
fn riscv_div(cx: &mut LiftCx, signed: bool, a: Value, b: Value) -> Value {
    let ty = cx.b.func().value_type(a);
    let zero = cx.b.iconst(ty, 0);
    let ones = cx.b.iconst(ty, -1);
    let is_zero = cx.b.icmp(IntCC::Eq, b, zero);
    let q = if signed {
        cx.b.sdiv(a, b)
    } else {
        cx.b.udiv(a, b)
    };
    cx.b.select(is_zero, ones, q)
}

fn lift_muldiv(i: &Insn, cx: &mut LiftCx) {
    let word = matches!(i.op, Op::Mulw | Op::Divw | Op::Divuw | Op::Remw | Op::Remuw);
    let (a, b) = if word {
        (get32(cx, i.rs1), get32(cx, i.rs2))
    } else {
        (get(cx, i.rs1), get(cx, i.rs2))
    };
    let r = match i.op {
        Op::Mul | Op::Mulw => cx.b.imul(a, b),
        Op::Mulh => cx.b.smulhi(a, b),
        Op::Mulhsu => cx.b.sumulhi(a, b),
        Op::Mulhu => cx.b.umulhi(a, b),
        Op::Div | Op::Divw => riscv_div(cx, true, a, b),
        Op::Divu | Op::Divuw => riscv_div(cx, false, a, b),
        Op::Rem | Op::Remw => cx.b.srem(a, b),
        Op::Remu | Op::Remuw => cx.b.urem(a, b),
        op => unreachable!("{op:?} is not a multiply/divide op"),
    };
    if word {
        set32(cx, i.rd, r);
    } else {
        set(cx, i.rd, r);
    }
}

fn lift_system(i: &Insn, cx: &mut LiftCx) {
    match i.op {
        Op::Fence | Op::FenceTso => cx.b.fence(),
        // The flush may have dropped this very function's translation:
        // leave to the dispatcher so the next instruction is fetched anew
        // (after fence.i, hardware fetches see the new code).
        Op::FenceI => {
            cx.b.call_helper(Helper::FlushCode, &[]);
            let next = cx.next_pc();
            cx.b.exit_to(next);
        }
        Op::Ecall => lift_ecall(cx),
        Op::Ebreak => cx.trap(TrapKind::Breakpoint),
        op => unreachable!("{op:?} is not a system op"),
    }
}

/// The syscall helper may redirect the guest (signal return): continue in
/// line only when the PC still names the next instruction.
fn lift_ecall(cx: &mut LiftCx) {
    let next = cx.next_pc();
    let next_v = cx.const64(next);
    cx.b.def_reg(PC, next_v);
    cx.b.call_helper(Helper::Syscall, &[]);
    cx.finish_syscall(PC);
}

// ---- CSRs ----

const CSR_FFLAGS: u16 = 0x001;
const CSR_FRM: u16 = 0x002;
const CSR_FCSR: u16 = 0x003;
const CSR_CYCLE: u16 = 0xc00;
const CSR_TIME: u16 = 0xc01;
const CSR_INSTRET: u16 = 0xc02;

fn lift_csr(i: &Insn, cx: &mut LiftCx) -> Result<(), LiftError> {
    let (src, writes) = match i.op {
        Op::Csrrw => (get(cx, i.rs1), true),
        Op::Csrrs | Op::Csrrc => (get(cx, i.rs1), i.rs1 != 0),
        Op::Csrrwi => (imm(cx, i.imm), true),
        Op::Csrrsi | Op::Csrrci => (imm(cx, i.imm), i.imm != 0),
        op => unreachable!("{op:?} is not a CSR op"),
    };
    // `csrrw(i) x0, ...` does not read the CSR (no fflags read, no host
    // flags helper for `fsflags`).
    let reads = i.rd != 0 || !matches!(i.op, Op::Csrrw | Op::Csrrwi);
    let old = if reads { read_csr(cx, i)? } else { imm(cx, 0) };
    if writes {
        let new = match i.op {
            Op::Csrrw | Op::Csrrwi => src,
            Op::Csrrs | Op::Csrrsi => cx.b.bor(old, src),
            _ => cx.b.band_not(old, src),
        };
        write_csr(cx, i, new)?;
    }
    set(cx, i.rd, old);
    Ok(())
}

fn unsupported(cx: &LiftCx, i: &Insn, reason: String) -> LiftError {
    let bytes = if i.len == 2 {
        (i.raw as u16).to_le_bytes().to_vec()
    } else {
        i.raw.to_le_bytes().to_vec()
    };
    LiftError {
        arch: "riscv64",
        addr: cx.pc(),
        bytes,
        reason,
    }
}

fn read_csr(cx: &mut LiftCx, i: &Insn) -> Result<Value, LiftError> {
    let counter = |cx: &mut LiftCx, h| {
        cx.b.call_helper(h, &[])
            .expect("counter helpers return a value")
    };
    Ok(match i.csr {
        CSR_FFLAGS => read_fflags(cx, Some(i)),
        CSR_FRM => {
            let v = cx.b.use_reg(FRM);
            cx.b.uext(Type::I64, v)
        }
        CSR_FCSR => {
            let flags = read_fflags(cx, None);
            let frm = cx.b.use_reg(FRM);
            let frm = cx.b.uext(Type::I64, frm);
            let five = imm(cx, 5);
            let hi = cx.b.ishl(frm, five);
            cx.b.bor(hi, flags)
        }
        CSR_CYCLE => counter(cx, Helper::ReadCycle),
        CSR_TIME => counter(cx, Helper::ReadTime),
        CSR_INSTRET => counter(cx, Helper::ReadInstret),
        csr => {
            return Err(unsupported(
                cx,
                i,
                format!("CSR {csr:#x} is not available to user code"),
            ))
        }
    })
}

/// The guest's accrued flags: `fflags` ORed with the host's flags not yet
/// folded into it (read without clearing, so nothing is written).
/// `read` is the reading instruction when it reads `fflags` alone.
fn read_fflags(cx: &mut LiftCx, read: Option<&Insn>) -> Value {
    let host =
        cx.b.call_helper(Helper::FpHostFlags, &[])
            .expect("fp_host_flags returns the flags");
    let host = fflags_of_mxcsr(cx, host);
    let saved = cx.b.use_reg(FFLAGS);
    if let Some(read) = read {
        recognize_saved_flags(cx, read, saved);
    }
    let v = cx.b.bor(saved, host);
    cx.b.uext(Type::I64, v)
}

/// Maps MXCSR exception bits (IE DE ZE OE UE PE) to `fflags` (NX UF OF DZ
/// NV, from bit 0): IE→NV, ZE→DZ, OE→OF, UE→UF, PE→NX.
fn fflags_of_mxcsr(cx: &mut LiftCx, m: Value) -> Value {
    // (host bit, guest bit) pairs.
    const MAP: [(u32, u32); 5] = [(0, 4), (2, 3), (3, 2), (4, 1), (5, 0)];
    let mut acc = cx.b.iconst(Type::I32, 0);
    for (host, guest) in MAP {
        let bit = cx.b.iconst(Type::I32, 1 << host);
        let set = cx.b.band(m, bit);
        let moved = if host > guest {
            let k = cx.b.iconst(Type::I32, i128::from(host - guest));
            cx.b.ushr(set, k)
        } else {
            let k = cx.b.iconst(Type::I32, i128::from(guest - host));
            cx.b.ishl(set, k)
        };
        acc = cx.b.bor(acc, moved);
    }
    acc
}

/// At `frflags rd`: when the next two instructions of the block are an FP
/// compare (not writing `rd`) and `fsflags rd`, the flags end up as they
/// were. The compare is then lifted without touching host flags and the
/// restore writes back `saved` without synchronizing
/// ([`crate::lift::SavedFpFlags`]).
fn recognize_saved_flags(cx: &mut LiftCx, read: &Insn, saved: Value) {
    let is_frflags = read.op == Op::Csrrs && read.rs1 == 0 && read.csr == CSR_FFLAGS;
    if !is_frflags || read.rd == 0 {
        return;
    }
    let compare_pc = cx.next_pc();
    let Some(compare) = cx
        .code_ahead(compare_pc)
        .and_then(|b| super::decode::decode(b, compare_pc).ok())
    else {
        return;
    };
    let restore_pc = compare_pc + u64::from(compare.len);
    let Some(restore) = cx
        .code_ahead(restore_pc)
        .and_then(|b| super::decode::decode(b, restore_pc).ok())
    else {
        return;
    };
    let is_compare = matches!(
        compare.op,
        Op::FeqS | Op::FeqD | Op::FltS | Op::FltD | Op::FleS | Op::FleD
    ) && compare.rd != read.rd;
    let is_restore = restore.op == Op::Csrrw
        && restore.csr == CSR_FFLAGS
        && restore.rd == 0
        && restore.rs1 == read.rd;
    if is_compare && is_restore {
        cx.saved_fp_flags = Some(SavedFpFlags {
            compare_pc,
            restore_pc,
            flags: saved,
        });
    }
}

/// The saved flags when the instruction being lifted is the compare
/// (`restore: false`) or the restore of a recognized sequence.
fn saved_flags_at(cx: &LiftCx, restore: bool) -> Option<Value> {
    let s = cx.saved_fp_flags?;
    let pc = if restore { s.restore_pc } else { s.compare_pc };
    (pc == cx.pc()).then_some(s.flags)
}

fn write_csr(cx: &mut LiftCx, i: &Insn, v: Value) -> Result<(), LiftError> {
    match i.csr {
        CSR_FFLAGS => write_fflags(cx, v),
        CSR_FRM => write_frm(cx, v),
        CSR_FCSR => {
            write_fflags(cx, v);
            let five = imm(cx, 5);
            let frm = cx.b.ushr(v, five);
            write_frm(cx, frm);
        }
        csr => {
            return Err(unsupported(cx, i, format!("CSR {csr:#x} is read-only")));
        }
    }
    Ok(())
}

fn write_fflags(cx: &mut LiftCx, v: Value) {
    if let Some(saved) = saved_flags_at(cx, true) {
        // The flags as they were at the save: the host's are unchanged
        // since (the compare did not touch them) and still count.
        cx.saved_fp_flags = None;
        cx.b.def_reg(FFLAGS, saved);
        return;
    }
    // Host flags accrued so far are folded in first, then replaced.
    cx.b.call_helper(Helper::FpSyncFlags, &[]);
    let v32 = cx.b.ireduce(Type::I32, v);
    let mask = cx.b.iconst(Type::I32, 0x1f);
    let flags = cx.b.band(v32, mask);
    cx.b.def_reg(FFLAGS, flags);
}

fn write_frm(cx: &mut LiftCx, v: Value) {
    let v32 = cx.b.ireduce(Type::I32, v);
    let mask = cx.b.iconst(Type::I32, 7);
    let frm = cx.b.band(v32, mask);
    cx.b.def_reg(FRM, frm);
    cx.b.call_helper(Helper::FpSetRounding, &[frm]);
}

// ---- atomics ----

fn lift_atomic(i: &Insn, cx: &mut LiftCx) {
    let word = matches!(
        i.op,
        Op::LrW
            | Op::ScW
            | Op::AmoswapW
            | Op::AmoaddW
            | Op::AmoxorW
            | Op::AmoandW
            | Op::AmoorW
            | Op::AmominW
            | Op::AmomaxW
            | Op::AmominuW
            | Op::AmomaxuW
    );
    let ty = if word { Type::I32 } else { Type::I64 };
    match i.op {
        Op::LrW | Op::LrD => lift_lr(i, cx, ty),
        Op::ScW | Op::ScD => lift_sc(i, cx, ty),
        op => {
            let rmw = amo_op(op);
            let addr = get(cx, i.rs1);
            let v = get(cx, i.rs2);
            let v = if word { cx.b.ireduce(ty, v) } else { v };
            let old = cx.b.atomic_rmw(rmw, addr, v);
            if word {
                set32(cx, i.rd, old);
            } else {
                set(cx, i.rd, old);
            }
        }
    }
}

fn amo_op(op: Op) -> AtomicOp {
    match op {
        Op::AmoswapW | Op::AmoswapD => AtomicOp::Xchg,
        Op::AmoaddW | Op::AmoaddD => AtomicOp::Add,
        Op::AmoxorW | Op::AmoxorD => AtomicOp::Xor,
        Op::AmoandW | Op::AmoandD => AtomicOp::And,
        Op::AmoorW | Op::AmoorD => AtomicOp::Or,
        Op::AmominW | Op::AmominD => AtomicOp::Smin,
        Op::AmomaxW | Op::AmomaxD => AtomicOp::Smax,
        Op::AmominuW | Op::AmominuD => AtomicOp::Umin,
        Op::AmomaxuW | Op::AmomaxuD => AtomicOp::Umax,
        op => unreachable!("{op:?} is not an AMO"),
    }
}

fn lift_lr(i: &Insn, cx: &mut LiftCx, ty: Type) {
    let addr = get(cx, i.rs1);
    let v = cx.b.load(ty, addr);
    let wide = if ty == Type::I64 {
        v
    } else {
        cx.b.sext(Type::I64, v)
    };
    cx.b.def_reg(RES_ADDR, addr);
    cx.b.def_reg(RES_VAL, wide);
    set(cx, i.rd, wide);
}

fn lift_sc(i: &Insn, cx: &mut LiftCx, ty: Type) {
    let addr = get(cx, i.rs1);
    let new = get(cx, i.rs2);
    let reserved = cx.b.use_reg(RES_ADDR);
    let held = cx.b.icmp(IntCC::Eq, reserved, addr);
    let try_cas = cx.b.create_block();
    let fail = cx.b.create_block();
    let join = cx.b.create_block();
    let result = cx.b.append_block_param(join, Type::I64);
    cx.b.brif(held, try_cas, fail);

    cx.b.switch_to_block(try_cas);
    let expected = cx.b.use_reg(RES_VAL);
    let (expected, new) = if ty == Type::I64 {
        (expected, new)
    } else {
        (cx.b.ireduce(ty, expected), cx.b.ireduce(ty, new))
    };
    let old = cx.b.atomic_cas(addr, expected, new);
    let lost = cx.b.icmp(IntCC::Ne, old, expected);
    let code = bool_to_x(cx, lost);
    cx.b.jump(join, &[code]);

    cx.b.switch_to_block(fail);
    let one = imm(cx, 1);
    cx.b.jump(join, &[one]);

    cx.b.switch_to_block(join);
    let none = imm(cx, -1);
    cx.b.def_reg(RES_ADDR, none);
    set(cx, i.rd, result);
}

// ---- floating point ----

fn rm(i: &Insn) -> RoundingMode {
    RoundingMode::from_number(u32::from(i.rm)).unwrap_or(RoundingMode::Dyn)
}

/// True for the single-precision forms.
fn is_single(op: Op) -> bool {
    op.mnemonic().ends_with(".s") || matches!(op, Op::FcvtSD)
}

/// FP register `r` as an `f32` (an improperly boxed value reads as NaN) or
/// `f64`.
fn get_f(cx: &mut LiftCx, r: u8, single: bool) -> Value {
    let bits = cx.b.use_reg(f(r));
    if !single {
        return cx.b.bitcast(Type::F64, bits);
    }
    let boxed = cx.b.iconst(Type::I64, i128::from(NAN_BOX));
    let is_boxed = cx.b.icmp(IntCC::Uge, bits, boxed);
    let low = cx.b.ireduce(Type::I32, bits);
    let nan = cx.b.iconst(Type::I32, i128::from(CANON_NAN_S));
    let v = cx.b.select(is_boxed, low, nan);
    cx.b.bitcast(Type::F32, v)
}

/// Writes a float to FP register `r`, NaN-boxing an `f32`.
fn set_f(cx: &mut LiftCx, r: u8, v: Value) {
    let bits = if cx.b.func().value_type(v) == Type::F32 {
        let b32 = cx.b.bitcast(Type::I32, v);
        box_bits(cx, b32)
    } else {
        cx.b.bitcast(Type::I64, v)
    };
    cx.b.def_reg(f(r), bits);
}

fn box_bits(cx: &mut LiftCx, b32: Value) -> Value {
    let wide = cx.b.uext(Type::I64, b32);
    let boxed = cx.b.iconst(Type::I64, i128::from(NAN_BOX));
    cx.b.bor(wide, boxed)
}

/// Replaces any NaN by the canonical NaN of its type.
fn canonical(cx: &mut LiftCx, v: Value) -> Value {
    let ty = cx.b.func().value_type(v);
    let nan_bits = if ty == Type::F32 {
        u64::from(CANON_NAN_S)
    } else {
        CANON_NAN_D
    };
    let nan = cx.b.fconst(ty, nan_bits);
    let is_nan = cx.b.fcmp(FloatCC::Uno, v, v);
    cx.b.select(is_nan, nan, v)
}

fn lift_float_mem(i: &Insn, cx: &mut LiftCx) {
    let addr = address(cx, i);
    match i.op {
        Op::Flw => {
            let v = cx.b.load(Type::I32, addr);
            let boxed = box_bits(cx, v);
            cx.b.def_reg(f(i.rd), boxed);
        }
        Op::Fld => {
            let v = cx.b.load(Type::I64, addr);
            cx.b.def_reg(f(i.rd), v);
        }
        Op::Fsw => {
            let bits = cx.b.use_reg(f(i.rs2));
            let low = cx.b.ireduce(Type::I32, bits);
            cx.b.store(addr, low);
        }
        Op::Fsd => {
            let bits = cx.b.use_reg(f(i.rs2));
            cx.b.store(addr, bits);
        }
        op => unreachable!("{op:?} is not an FP load/store"),
    }
}

fn lift_float_arith(i: &Insn, cx: &mut LiftCx) {
    let single = is_single(i.op);
    let a = get_f(cx, i.rs1, single);
    let r = match i.op {
        Op::FsqrtS | Op::FsqrtD => cx.b.fsqrt(rm(i), a),
        Op::FmaddS
        | Op::FmaddD
        | Op::FmsubS
        | Op::FmsubD
        | Op::FnmsubS
        | Op::FnmsubD
        | Op::FnmaddS
        | Op::FnmaddD => lift_fma(i, cx, a, single),
        _ => {
            let b = get_f(cx, i.rs2, single);
            match i.op {
                Op::FaddS | Op::FaddD => cx.b.fadd(rm(i), a, b),
                Op::FsubS | Op::FsubD => cx.b.fsub(rm(i), a, b),
                Op::FmulS | Op::FmulD => cx.b.fmul(rm(i), a, b),
                Op::FdivS | Op::FdivD => cx.b.fdiv(rm(i), a, b),
                Op::FminS | Op::FminD => cx.b.fminnum(a, b),
                Op::FmaxS | Op::FmaxD => cx.b.fmaxnum(a, b),
                Op::FsgnjS | Op::FsgnjD => {
                    let r = cx.b.fcopysign(a, b);
                    return set_f(cx, i.rd, r);
                }
                Op::FsgnjnS | Op::FsgnjnD => {
                    let nb = cx.b.fneg(b);
                    let r = cx.b.fcopysign(a, nb);
                    return set_f(cx, i.rd, r);
                }
                Op::FsgnjxS | Op::FsgnjxD => {
                    let r = sign_xor(cx, a, b);
                    return set_f(cx, i.rd, r);
                }
                op => unreachable!("{op:?} is not FP arithmetic"),
            }
        }
    };
    let r = canonical(cx, r);
    set_f(cx, i.rd, r);
}

fn lift_fma(i: &Insn, cx: &mut LiftCx, a: Value, single: bool) -> Value {
    let b = get_f(cx, i.rs2, single);
    let c = get_f(cx, i.rs3, single);
    let (neg_product, neg_addend) = match i.op {
        Op::FmaddS | Op::FmaddD => (false, false),
        Op::FmsubS | Op::FmsubD => (false, true),
        Op::FnmsubS | Op::FnmsubD => (true, false),
        _ => (true, true),
    };
    let a = if neg_product { cx.b.fneg(a) } else { a };
    let c = if neg_addend { cx.b.fneg(c) } else { c };
    cx.b.fma(rm(i), a, b, c)
}

/// `a` with its sign bit xored with `b`'s (fsgnjx).
fn sign_xor(cx: &mut LiftCx, a: Value, b: Value) -> Value {
    let ty = cx.b.func().value_type(a);
    let ity = ty.as_int();
    let ai = cx.b.bitcast(ity, a);
    let bi = cx.b.bitcast(ity, b);
    let sign = cx.b.iconst(ity, 1i128 << (ity.bits() - 1));
    let bs = cx.b.band(bi, sign);
    let r = cx.b.bxor(ai, bs);
    cx.b.bitcast(ty, r)
}

fn lift_float_compare(i: &Insn, cx: &mut LiftCx) {
    let single = is_single(i.op);
    let a = get_f(cx, i.rs1, single);
    let r = match i.op {
        Op::FclassS | Op::FclassD => {
            let c = cx.b.fclass(a);
            cx.b.uext(Type::I64, c)
        }
        _ => {
            let b = get_f(cx, i.rs2, single);
            let cc = match i.op {
                Op::FeqS | Op::FeqD => FloatCC::Eq,
                Op::FltS | Op::FltD => FloatCC::Lt,
                Op::FleS | Op::FleD => FloatCC::Le,
                op => unreachable!("{op:?} is not an FP compare"),
            };
            let c = if saved_flags_at(cx, false).is_some() {
                // Its flags are about to be discarded: compare the bits,
                // so no host flag (IE for a signalling NaN) is raised.
                quiet_compare(cx, cc, a, b)
            } else {
                let c = cx.b.fcmp(cc, a, b);
                if cc != FloatCC::Eq {
                    raise_nv_if_unordered(cx, a, b);
                }
                c
            };
            bool_to_x(cx, c)
        }
    };
    set(cx, i.rd, r);
}

/// `a cc b` (`Eq`, `Lt` or `Le`; false when unordered) computed on the bit
/// patterns with integer ops, raising no flag: magnitudes compare as
/// integers, and mapping a negative number to the negated magnitude orders
/// the signs (with -0 = +0).
fn quiet_compare(cx: &mut LiftCx, cc: FloatCC, a: Value, b: Value) -> Value {
    let fty = cx.b.func().value_type(a);
    let (ity, exp) = if fty == Type::F32 {
        (Type::I32, 0x7f80_0000i128)
    } else {
        (Type::I64, 0x7ff0_0000_0000_0000i128)
    };
    let abs_mask = cx.b.iconst(ity, (1i128 << (ity.bits() - 1)) - 1);
    let inf = cx.b.iconst(ity, exp);
    let zero = cx.b.iconst(ity, 0);
    let mut keys = Vec::new();
    let mut nans = Vec::new();
    for v in [a, b] {
        let bits = cx.b.bitcast(ity, v);
        let mag = cx.b.band(bits, abs_mask);
        nans.push(cx.b.icmp(IntCC::Ugt, mag, inf));
        let negative = cx.b.icmp(IntCC::Slt, bits, zero);
        let neg_mag = cx.b.ineg(mag);
        keys.push(cx.b.select(negative, neg_mag, mag));
    }
    let ordered_result = match cc {
        FloatCC::Eq => cx.b.icmp(IntCC::Eq, keys[0], keys[1]),
        FloatCC::Lt => cx.b.icmp(IntCC::Slt, keys[0], keys[1]),
        FloatCC::Le => cx.b.icmp(IntCC::Sle, keys[0], keys[1]),
        other => unreachable!("{other:?} is not a RISC-V compare"),
    };
    let unordered = cx.b.bor(nans[0], nans[1]);
    let no = cx.b.iconst(Type::I1, 0);
    cx.b.select(unordered, no, ordered_result)
}

/// `flt`/`fle` are signalling compares: any NaN operand (quiet too) raises
/// NV. The host compare only raises it for signalling NaNs, so the flag is
/// ORed into `fflags` here (accrued flags only ever gain bits).
fn raise_nv_if_unordered(cx: &mut LiftCx, a: Value, b: Value) {
    const NV: u64 = 0x10;
    let unordered = cx.b.fcmp(FloatCC::Uno, a, b);
    let nv = cx.b.iconst(Type::I32, NV as i128);
    let zero = cx.b.iconst(Type::I32, 0);
    let bit = cx.b.select(unordered, nv, zero);
    let old = cx.b.use_reg(FFLAGS);
    let new = cx.b.bor(old, bit);
    cx.b.def_reg(FFLAGS, new);
}

/// A float-to-integer conversion that dropped a fraction raises NX (the IR's
/// `fround` does not; a NaN raises NV instead, through the host).
fn raise_nx_if_rounded(cx: &mut LiftCx, a: Value, rounded: Value, is_nan: Value) {
    const NX: u64 = 0x01;
    let changed = cx.b.fcmp(FloatCC::Ne, a, rounded);
    let nx = cx.b.iconst(Type::I32, NX as i128);
    let zero = cx.b.iconst(Type::I32, 0);
    let bit = cx.b.select(changed, nx, zero);
    let bit = cx.b.select(is_nan, zero, bit);
    let old = cx.b.use_reg(FFLAGS);
    let new = cx.b.bor(old, bit);
    cx.b.def_reg(FFLAGS, new);
}

fn lift_float_convert(i: &Insn, cx: &mut LiftCx) {
    use Op::*;
    match i.op {
        FcvtWS | FcvtWuS | FcvtLS | FcvtLuS | FcvtWD | FcvtWuD | FcvtLD | FcvtLuD => {
            float_to_int(i, cx)
        }
        FcvtSW | FcvtSWu | FcvtSL | FcvtSLu | FcvtDW | FcvtDWu | FcvtDL | FcvtDLu => {
            int_to_float(i, cx)
        }
        FcvtSD | FcvtDS => {
            let to_single = i.op == FcvtSD;
            let a = get_f(cx, i.rs1, !to_single);
            let ty = if to_single { Type::F32 } else { Type::F64 };
            let r = cx.b.fconvert(ty, rm(i), a);
            let r = canonical(cx, r);
            set_f(cx, i.rd, r);
        }
        FmvXW => {
            let bits = cx.b.use_reg(f(i.rs1));
            let low = cx.b.ireduce(Type::I32, bits);
            set32(cx, i.rd, low);
        }
        FmvWX => {
            let v = get32(cx, i.rs1);
            let boxed = box_bits(cx, v);
            cx.b.def_reg(f(i.rd), boxed);
        }
        FmvXD => {
            let bits = cx.b.use_reg(f(i.rs1));
            set(cx, i.rd, bits);
        }
        FmvDX => {
            let v = get(cx, i.rs1);
            cx.b.def_reg(f(i.rd), v);
        }
        op => unreachable!("{op:?} is not an FP conversion"),
    }
}

/// fcvt.{w,wu,l,lu}.{s,d}: round in the instruction's mode, then convert
/// with saturation; NaN gives the largest value of the target.
fn float_to_int(i: &Insn, cx: &mut LiftCx) {
    use Op::*;
    let single = matches!(i.op, FcvtWS | FcvtWuS | FcvtLS | FcvtLuS);
    let (ty, signed) = match i.op {
        FcvtWS | FcvtWD => (Type::I32, true),
        FcvtWuS | FcvtWuD => (Type::I32, false),
        FcvtLS | FcvtLD => (Type::I64, true),
        _ => (Type::I64, false),
    };
    let a = get_f(cx, i.rs1, single);
    let rounded = cx.b.fround(rm(i), a);
    let v = if signed {
        cx.b.fcvt_to_sint(ty, rounded)
    } else {
        cx.b.fcvt_to_uint(ty, rounded)
    };
    let max = if signed { (ty.mask() >> 1) as i128 } else { -1 };
    let max = cx.b.iconst(ty, max);
    let is_nan = cx.b.fcmp(FloatCC::Uno, a, a);
    let v = cx.b.select(is_nan, max, v);
    raise_nx_if_rounded(cx, a, rounded, is_nan);
    if ty == Type::I32 {
        set32(cx, i.rd, v);
    } else {
        set(cx, i.rd, v);
    }
}

fn int_to_float(i: &Insn, cx: &mut LiftCx) {
    use Op::*;
    let single = matches!(i.op, FcvtSW | FcvtSWu | FcvtSL | FcvtSLu);
    let fty = if single { Type::F32 } else { Type::F64 };
    let (word, signed) = match i.op {
        FcvtSW | FcvtDW => (true, true),
        FcvtSWu | FcvtDWu => (true, false),
        FcvtSL | FcvtDL => (false, true),
        _ => (false, false),
    };
    let src = if word {
        get32(cx, i.rs1)
    } else {
        get(cx, i.rs1)
    };
    let r = if signed {
        cx.b.fcvt_from_sint(fty, rm(i), src)
    } else {
        cx.b.fcvt_from_uint(fty, rm(i), src)
    };
    set_f(cx, i.rd, r);
}

// ---- bit manipulation ----

fn lift_zba(i: &Insn, cx: &mut LiftCx) {
    use Op::*;
    let a = get(cx, i.rs1);
    let a = if matches!(i.op, AddUw | Sh1addUw | Sh2addUw | Sh3addUw | SlliUw) {
        let low = cx.b.ireduce(Type::I32, a);
        cx.b.uext(Type::I64, low)
    } else {
        a
    };
    let r = match i.op {
        SlliUw => {
            let k = imm(cx, i.imm);
            cx.b.ishl(a, k)
        }
        _ => {
            let shift = match i.op {
                AddUw => 0,
                Sh1add | Sh1addUw => 1,
                Sh2add | Sh2addUw => 2,
                Sh3add | Sh3addUw => 3,
                op => unreachable!("{op:?} is not a Zba op"),
            };
            let k = imm(cx, shift);
            let scaled = cx.b.ishl(a, k);
            let b = get(cx, i.rs2);
            cx.b.iadd(scaled, b)
        }
    };
    set(cx, i.rd, r);
}

fn lift_zbb(i: &Insn, cx: &mut LiftCx) {
    use Op::*;
    let word = matches!(i.op, Clzw | Ctzw | Cpopw | Rolw | Rorw | Roriw);
    let a = if word {
        get32(cx, i.rs1)
    } else {
        get(cx, i.rs1)
    };
    let r = match i.op {
        Clz | Clzw => cx.b.clz(a),
        Ctz | Ctzw => cx.b.ctz(a),
        Cpop | Cpopw => cx.b.popcnt(a),
        SextB | SextH => {
            let ty = if i.op == SextB { Type::I8 } else { Type::I16 };
            let n = cx.b.ireduce(ty, a);
            cx.b.sext(Type::I64, n)
        }
        ZextH => {
            let n = cx.b.ireduce(Type::I16, a);
            cx.b.uext(Type::I64, n)
        }
        Rev8 => cx.b.bswap(a),
        OrcB => orc_b(cx, a),
        Rori | Roriw => {
            let ty = cx.b.func().value_type(a);
            let k = cx.b.iconst(ty, i128::from(i.imm));
            cx.b.rotr(a, k)
        }
        _ => {
            let b = if word {
                get32(cx, i.rs2)
            } else {
                get(cx, i.rs2)
            };
            match i.op {
                Andn => cx.b.band_not(a, b),
                Orn => {
                    let nb = cx.b.bnot(b);
                    cx.b.bor(a, nb)
                }
                Xnor => {
                    let x = cx.b.bxor(a, b);
                    cx.b.bnot(x)
                }
                Max => cx.b.smax(a, b),
                Maxu => cx.b.umax(a, b),
                Min => cx.b.smin(a, b),
                Minu => cx.b.umin(a, b),
                Rol | Rolw => cx.b.rotl(a, b),
                Ror | Rorw => cx.b.rotr(a, b),
                op => unreachable!("{op:?} is not a Zbb op"),
            }
        }
    };
    if matches!(i.op, Clzw | Ctzw | Cpopw) {
        let wide = cx.b.uext(Type::I64, r);
        set(cx, i.rd, wide);
    } else if word {
        set32(cx, i.rd, r);
    } else {
        set(cx, i.rd, r);
    }
}

/// orc.b: each byte becomes 0xff when it is non-zero, else 0.
fn orc_b(cx: &mut LiftCx, a: Value) -> Value {
    let low7 = imm(cx, 0x7f7f_7f7f_7f7f_7f7f);
    let masked = cx.b.band(a, low7);
    let carried = cx.b.iadd(masked, low7);
    let any = cx.b.bor(carried, a);
    let high = imm(cx, 0x8080_8080_8080_8080u64 as i64);
    let flags = cx.b.band(any, high);
    let seven = imm(cx, 7);
    let ones = cx.b.ushr(flags, seven);
    let ff = imm(cx, 0xff);
    cx.b.imul(ones, ff)
}
