//! Branches, exception generation, and the route to system instructions.

use vmtrans_ir::{Helper, IntCC, TrapKind, Type};

use super::{bit, bits, cond, gp, k, set_gp, system, unsupported, LiftCx, Lifted};
use crate::aarch64::decode::sext;
use crate::aarch64::regs::PC;

/// Lifts the branch / exception / system group.
pub(super) fn lift(w: u32, cx: &mut LiftCx) -> Lifted {
    match w {
        _ if w & 0x7c00_0000 == 0x1400_0000 => immediate(w, cx),
        _ if w & 0xff00_0010 == 0x5400_0000 => conditional(w, cx),
        _ if w & 0x7e00_0000 == 0x3400_0000 => compare_and_branch(w, cx),
        _ if w & 0x7e00_0000 == 0x3600_0000 => test_and_branch(w, cx),
        _ if w & 0xff00_0000 == 0xd400_0000 => exception(w, cx),
        _ if w & 0xffc0_0000 == 0xd500_0000 => system::lift(w, cx),
        _ if w & 0xfe00_0000 == 0xd600_0000 => register(w, cx),
        _ => Err(unsupported(cx, w, "unallocated branch/system encoding")),
    }
}

fn target(cx: &LiftCx, imm: u32, bits: u32) -> u64 {
    cx.pc().wrapping_add((sext(imm, bits) << 2) as u64)
}

/// B and BL.
fn immediate(w: u32, cx: &mut LiftCx) -> Lifted {
    let t = target(cx, w & 0x3ff_ffff, 26);
    if bit(w, 31) {
        let link = cx.const64(cx.next_pc());
        set_gp(cx, 30, link);
        let t = cx.const64(t);
        cx.call(t);
    } else {
        cx.jump_to(t);
    }
    Ok(())
}

/// B.cond.
fn conditional(w: u32, cx: &mut LiftCx) -> Lifted {
    let t = target(cx, bits(w, 23, 5), 19);
    let c = bits(w, 3, 0);
    if c >= 14 {
        cx.jump_to(t);
    } else {
        let holds = cond(cx, c);
        cx.branch(holds, t);
    }
    Ok(())
}

/// CBZ and CBNZ.
fn compare_and_branch(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let t = target(cx, bits(w, 23, 5), 19);
    let v = gp(cx, bits(w, 4, 0), sf);
    let zero = k(cx, super::ity(sf), 0);
    let cc = if bit(w, 24) { IntCC::Ne } else { IntCC::Eq };
    let c = cx.b.icmp(cc, v, zero);
    cx.branch(c, t);
    Ok(())
}

/// TBZ and TBNZ.
fn test_and_branch(w: u32, cx: &mut LiftCx) -> Lifted {
    let n = (u32::from(bit(w, 31)) << 5) | bits(w, 23, 19);
    let t = target(cx, bits(w, 18, 5), 14);
    let v = gp(cx, bits(w, 4, 0), true);
    let mask = k(cx, Type::I64, 1 << n);
    let set = cx.b.band(v, mask);
    let zero = k(cx, Type::I64, 0);
    let cc = if bit(w, 24) { IntCC::Ne } else { IntCC::Eq };
    let c = cx.b.icmp(cc, set, zero);
    cx.branch(c, t);
    Ok(())
}

/// SVC, BRK, HLT (others are for higher exception levels).
fn exception(w: u32, cx: &mut LiftCx) -> Lifted {
    match w & 0xffe0_001f {
        0xd400_0001 => {
            svc(cx);
            Ok(())
        }
        0xd420_0000 => {
            cx.trap(TrapKind::Breakpoint);
            Ok(())
        }
        0xd440_0000 => {
            cx.trap(TrapKind::Illegal);
            Ok(())
        }
        _ => Err(unsupported(cx, w, "exception generation above EL0")),
    }
}

/// The syscall helper may redirect the guest (signal return) or ask for a
/// stop: see [`LiftCx::finish_syscall`].
fn svc(cx: &mut LiftCx) {
    let next = cx.const64(cx.next_pc());
    cx.b.def_reg(PC, next);
    cx.b.call_helper(Helper::Syscall, &[]);
    cx.finish_syscall(PC);
}

/// BR, BLR, RET (without pointer authentication).
fn register(w: u32, cx: &mut LiftCx) -> Lifted {
    if bits(w, 20, 10) != 0b11111_000000 || bits(w, 4, 0) != 0 {
        return Err(unsupported(
            cx,
            w,
            "pointer-authenticated branch (PAuth is not advertised)",
        ));
    }
    let rn = bits(w, 9, 5);
    let t = gp(cx, rn, true);
    match bits(w, 24, 21) {
        0b0000 => cx.jump_indirect(t),
        0b0001 => {
            let link = cx.const64(cx.next_pc());
            set_gp(cx, 30, link);
            cx.call(t);
        }
        0b0010 => cx.ret(t),
        _ => return Err(unsupported(cx, w, "branch-register form")),
    }
    Ok(())
}
