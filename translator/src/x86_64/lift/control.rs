//! Control flow, the stack, system calls and the miscellaneous system
//! instructions user code meets (`cpuid`, `rdtsc`, fences, hints, flag
//! bits).

use iced_x86::{Instruction, Mnemonic, OpKind, Register};
use vmtrans_ir::{Helper, IntCC, TrapKind, Type};

use crate::x86_64::regs::{AF, CF, DF, PF, R11, RAX, RBP, RCX, RDX, RIP, RSP, SF, ZF};
use crate::LiftCx;

use super::flags;
use super::operand::{op_type, pop, push, read, read_gpr, write, write_gpr};
use super::Fail;

/// Routes the control family.
pub fn lift(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    match insn.mnemonic() {
        M::Jmp => jmp(insn, cx),
        M::Call => call(insn, cx),
        M::Ret => ret(insn, cx),
        M::Jrcxz | M::Jecxz => {
            let r = if insn.mnemonic() == M::Jrcxz {
                Register::RCX
            } else {
                Register::ECX
            };
            let c = read_gpr(cx, r)?;
            let z = flags::is_zero(cx, c);
            cx.branch(z, insn.near_branch_target());
            Ok(())
        }
        M::Loop | M::Loope | M::Loopne => loop_insn(insn, cx),
        _ if insn.flow_control() == iced_x86::FlowControl::ConditionalBranch => {
            let c = flags::cond(cx, insn.condition_code())?;
            cx.branch(c, insn.near_branch_target());
            Ok(())
        }
        M::Push => {
            if insn.op_kind(0) == OpKind::Register && insn.op_register(0).size() != 8
                || insn.op_kind(0) == OpKind::Memory && insn.memory_size().size() != 8
            {
                return Err("push of a non-64-bit operand".into());
            }
            let v = read(cx, insn, 0, Type::I64)?;
            push(cx, v);
            Ok(())
        }
        M::Pop => {
            if op_type(insn, 0)? != Type::I64 {
                return Err("pop of a non-64-bit operand".into());
            }
            let v = pop(cx);
            write(cx, insn, 0, v)
        }
        M::Leave => {
            let bp = cx.b.use_reg(RBP);
            cx.b.def_reg(RSP, bp);
            let v = pop(cx);
            cx.b.def_reg(RBP, v);
            Ok(())
        }
        M::Pushfq => {
            let f = flags::rflags(cx);
            push(cx, f);
            Ok(())
        }
        M::Popfq => {
            let v = pop(cx);
            flags::set_rflags(cx, v);
            Ok(())
        }
        M::Lahf => {
            let f = flags::rflags(cx);
            let ah = cx.b.ireduce(Type::I8, f);
            write_gpr(cx, Register::AH, ah)
        }
        M::Sahf => {
            let ah = read_gpr(cx, Register::AH)?;
            for (reg, pos) in [(CF, 0), (PF, 2), (AF, 4), (ZF, 6), (SF, 7)] {
                let b = flags::bit(cx, ah, pos);
                cx.b.def_reg(reg, b);
            }
            Ok(())
        }
        M::Syscall => syscall(cx),
        M::Hlt => {
            // A privileged instruction in user mode: #GP, a guest SIGSEGV
            // on Linux; report it as an illegal instruction trap.
            cx.trap(TrapKind::Illegal);
            Ok(())
        }
        M::Ud2 | M::Ud0 | M::Ud1 => {
            cx.trap(TrapKind::Illegal);
            Ok(())
        }
        M::Int3 => {
            cx.trap(TrapKind::Breakpoint);
            Ok(())
        }
        M::Nop
        | M::Endbr64
        | M::Pause
        | M::Prefetcht0
        | M::Prefetcht1
        | M::Prefetcht2
        | M::Prefetchnta
        | M::Prefetchw => Ok(()),
        M::Lfence | M::Sfence | M::Mfence => {
            cx.b.fence();
            Ok(())
        }
        M::Cpuid => {
            cx.b.call_helper(Helper::Cpuid, &[]);
            Ok(())
        }
        M::Rdtsc => {
            let t =
                cx.b.call_helper(Helper::ReadCycle, &[])
                    .ok_or("read_cycle has no result")?;
            let lo = cx.b.ireduce(Type::I32, t);
            let lo = cx.b.uext(Type::I64, lo);
            let s = cx.b.iconst(Type::I8, 32);
            let hi = cx.b.ushr(t, s);
            cx.b.def_reg(RAX, lo);
            cx.b.def_reg(RDX, hi);
            Ok(())
        }
        M::Cld | M::Std => {
            let v = flags::bool_const(cx, insn.mnemonic() == M::Std);
            cx.b.def_reg(DF, v);
            Ok(())
        }
        M::Clc | M::Stc => {
            let v = flags::bool_const(cx, insn.mnemonic() == M::Stc);
            cx.b.def_reg(CF, v);
            Ok(())
        }
        M::Cmc => {
            let c = cx.b.use_reg(CF);
            let n = flags::not1(cx, c);
            cx.b.def_reg(CF, n);
            Ok(())
        }
        // Shadow stacks are not enabled: `rdssp` leaves its destination
        // (zeroed by the caller) alone and `incssp` is a nop, as on a CPU
        // with CET disabled.
        M::Rdsspq | M::Incsspq => Ok(()),
        // No transactional memory: `xtest` says "not in a transaction".
        M::Xtest => {
            let t = flags::bool_const(cx, true);
            let f = flags::bool_const(cx, false);
            cx.b.def_reg(ZF, t);
            for reg in [CF, crate::x86_64::regs::OF, SF, PF, AF] {
                cx.b.def_reg(reg, f);
            }
            Ok(())
        }
        m => Err(format!("{m:?} is not a control op")),
    }
}

fn jmp(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    match insn.op_kind(0) {
        OpKind::NearBranch64 => {
            cx.jump_to(insn.near_branch_target());
            Ok(())
        }
        OpKind::Register | OpKind::Memory => {
            let t = read(cx, insn, 0, Type::I64)?;
            cx.jump_indirect(t);
            Ok(())
        }
        k => Err(format!("jmp with {k:?}")),
    }
}

fn call(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let target = match insn.op_kind(0) {
        OpKind::NearBranch64 => cx.const64(insn.near_branch_target()),
        OpKind::Register | OpKind::Memory => read(cx, insn, 0, Type::I64)?,
        k => return Err(format!("call with {k:?}")),
    };
    let ret = cx.const64(cx.next_pc());
    push(cx, ret);
    cx.call(target);
    Ok(())
}

fn ret(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let t = pop(cx);
    if insn.op_count() == 1 {
        let extra = cx.const64(insn.immediate(0));
        let sp = cx.b.use_reg(RSP);
        let sp = cx.b.iadd(sp, extra);
        cx.b.def_reg(RSP, sp);
    }
    cx.ret(t);
    Ok(())
}

/// `loop`, `loope`, `loopne`: decrement rcx (flags untouched) and branch
/// while it is nonzero (and ZF agrees).
fn loop_insn(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let c = cx.b.use_reg(RCX);
    let one = cx.const64(1);
    let c = cx.b.isub(c, one);
    cx.b.def_reg(RCX, c);
    let zero = cx.const64(0);
    let mut go = cx.b.icmp(IntCC::Ne, c, zero);
    match insn.mnemonic() {
        Mnemonic::Loope => {
            let z = cx.b.use_reg(ZF);
            go = cx.b.band(go, z);
        }
        Mnemonic::Loopne => {
            let z = cx.b.use_reg(ZF);
            let nz = flags::not1(cx, z);
            go = cx.b.band(go, nz);
        }
        _ => {}
    }
    cx.branch(go, insn.near_branch_target());
    Ok(())
}

/// `syscall`: rcx = return address, r11 = rflags; the helper may redirect
/// the guest (signal delivery, sigreturn), so execution continues in line
/// only when rip still names the next instruction.
fn syscall(cx: &mut LiftCx) -> Result<(), Fail> {
    let next = cx.next_pc();
    let next_v = cx.const64(next);
    let f = flags::rflags(cx);
    cx.b.def_reg(RCX, next_v);
    cx.b.def_reg(R11, f);
    cx.b.def_reg(RIP, next_v);
    cx.b.call_helper(Helper::Syscall, &[]);
    cx.finish_syscall(RIP);
    Ok(())
}
