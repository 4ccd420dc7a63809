//! System instructions user code runs: hints, barriers, the system
//! registers Linux lets EL0 read and write, and cache maintenance.

use vmtrans_ir::{Helper, Type, Value};

use super::{bits, flag_const, gp, k, set_gp, unsupported, LiftCx, Lifted};
use crate::aarch64::regs::{C, EXCL_ADDR, FPCR, FPSR, N, TPIDR_EL0, V, Z};
use vmtrans_ir::IntCC;

/// The 15-bit system register number of `op0, op1, CRn, CRm, op2` as MRS
/// and MSR encode it in bits 19:5.
const fn sysreg(op0: u32, op1: u32, crn: u32, crm: u32, op2: u32) -> u32 {
    ((op0 - 2) << 14) | (op1 << 11) | (crn << 7) | (crm << 3) | op2
}

const NZCV: u32 = sysreg(3, 3, 4, 2, 0);
const FPCR_REG: u32 = sysreg(3, 3, 4, 4, 0);
const FPSR_REG: u32 = sysreg(3, 3, 4, 4, 1);
const TPIDR: u32 = sysreg(3, 3, 13, 0, 2);
const TPIDRRO: u32 = sysreg(3, 3, 13, 0, 3);
const CNTVCT: u32 = sysreg(3, 3, 14, 0, 2);
const CNTFRQ: u32 = sysreg(3, 3, 14, 0, 0);
const DCZID: u32 = sysreg(3, 3, 0, 0, 7);
const CTR: u32 = sysreg(3, 3, 0, 0, 1);

/// DCZID_EL0 with DZP set: `dc zva` is prohibited, so software uses stores.
const DCZID_PROHIBITED: u64 = 0x10;
/// CTR_EL0 as a Cortex-A57 reports it (64-byte lines, no IDC/DIC): cache
/// maintenance for code is required, and `ic ivau` + `isb` flush here.
const CTR_VALUE: u64 = 0x8444_c004;

/// Lifts the system group (`w & 0xffc00000 == 0xd5000000`).
pub(super) fn lift(w: u32, cx: &mut LiftCx) -> Lifted {
    match w {
        _ if w & 0xffff_f01f == 0xd503_201f => Ok(()), // hints: nop, bti, paciasp...
        _ if w & 0xffff_f01f == 0xd503_301f => barrier(w, cx),
        _ if w & 0xfff0_0000 == 0xd530_0000 => mrs(w, cx),
        _ if w & 0xfff0_0000 == 0xd510_0000 => msr(w, cx),
        _ if w & 0xfff8_0000 == 0xd508_0000 => sys(w, cx),
        _ => Err(unsupported(
            cx,
            w,
            "system instruction not available at EL0",
        )),
    }
}

fn barrier(w: u32, cx: &mut LiftCx) -> Lifted {
    match bits(w, 7, 5) {
        0b010 => {
            let none = k(cx, Type::I64, u64::MAX);
            cx.b.def_reg(EXCL_ADDR, none);
        }
        0b100 | 0b101 => cx.b.fence(),
        // isb: code written before it must be seen by the fetches after it.
        0b110 => {
            cx.b.call_helper(Helper::FlushCode, &[]);
            let next = cx.next_pc();
            cx.b.exit_to(next);
        }
        0b111 => {} // sb
        _ => return Err(unsupported(cx, w, "barrier form")),
    }
    Ok(())
}

fn mrs(w: u32, cx: &mut LiftCx) -> Lifted {
    let rt = bits(w, 4, 0);
    let v = match bits(w, 19, 5) {
        NZCV => read_nzcv(cx),
        FPCR_REG => {
            let v = cx.b.use_reg(FPCR);
            cx.b.uext(Type::I64, v)
        }
        FPSR_REG => {
            cx.b.call_helper(Helper::FpSyncFlags, &[]);
            let v = cx.b.use_reg(FPSR);
            cx.b.uext(Type::I64, v)
        }
        TPIDR => cx.b.use_reg(TPIDR_EL0),
        TPIDRRO => k(cx, Type::I64, 0),
        CNTVCT => cx.b.call_helper(Helper::ReadTime, &[]).expect("i64"),
        CNTFRQ => cx.b.call_helper(Helper::ReadTimeFreq, &[]).expect("i64"),
        DCZID => k(cx, Type::I64, DCZID_PROHIBITED),
        CTR => k(cx, Type::I64, CTR_VALUE),
        _ => {
            return Err(unsupported(
                cx,
                w,
                "system register not readable at EL0 (no HWCAP_CPUID)",
            ))
        }
    };
    set_gp(cx, rt, v);
    Ok(())
}

fn read_nzcv(cx: &mut LiftCx) -> Value {
    let mut acc = k(cx, Type::I64, 0);
    for (reg, shift) in [(N, 31), (Z, 30), (C, 29), (V, 28)] {
        let f = cx.b.use_reg(reg);
        let wide = cx.b.uext(Type::I64, f);
        let s = k(cx, Type::I64, shift);
        let placed = cx.b.ishl(wide, s);
        acc = cx.b.bor(acc, placed);
    }
    acc
}

fn msr(w: u32, cx: &mut LiftCx) -> Lifted {
    let v = gp(cx, bits(w, 4, 0), true);
    match bits(w, 19, 5) {
        NZCV => {
            for (reg, shift) in [(N, 31), (Z, 30), (C, 29), (V, 28)] {
                let s = k(cx, Type::I64, 1 << shift);
                let b = cx.b.band(v, s);
                let zero = k(cx, Type::I64, 0);
                let f = cx.b.icmp(IntCC::Ne, b, zero);
                cx.b.def_reg(reg, f);
            }
            let _ = flag_const;
        }
        FPCR_REG => write_fpcr(cx, v),
        FPSR_REG => {
            cx.b.call_helper(Helper::FpSyncFlags, &[]);
            let v32 = cx.b.ireduce(Type::I32, v);
            cx.b.def_reg(FPSR, v32);
        }
        TPIDR => cx.b.def_reg(TPIDR_EL0, v),
        _ => return Err(unsupported(cx, w, "system register not writable at EL0")),
    }
    Ok(())
}

/// Writes FPCR and moves its rounding mode (bits 23:22: RN, RP, RM, RZ)
/// to the host as a RISC-V-numbered mode (RNE 0, RUP 3, RDN 2, RTZ 1),
/// with flush-to-zero (`FP_FLUSH_TO_ZERO`, bit 3) from FPCR.FZ (bit 24).
fn write_fpcr(cx: &mut LiftCx, v: Value) {
    let v32 = cx.b.ireduce(Type::I32, v);
    cx.b.def_reg(FPCR, v32);
    let s = k(cx, Type::I32, 21);
    let rmode2 = cx.b.ushr(v32, s);
    let m = k(cx, Type::I32, 6);
    let idx = cx.b.band(rmode2, m);
    let table = k(cx, Type::I32, 0x6c);
    let shifted = cx.b.ushr(table, idx);
    let three = k(cx, Type::I32, 3);
    let rm = cx.b.band(shifted, three);
    let s = k(cx, Type::I32, 24 - 3);
    let fz = cx.b.ushr(v32, s);
    let fz_bit = k(cx, Type::I32, 1 << 3);
    let fz = cx.b.band(fz, fz_bit);
    let mode = cx.b.bor(rm, fz);
    cx.b.call_helper(Helper::FpSetRounding, &[mode]);
}

/// SYS: cache maintenance user code may issue.
fn sys(w: u32, cx: &mut LiftCx) -> Lifted {
    let op = (
        bits(w, 18, 16),
        bits(w, 15, 12),
        bits(w, 11, 8),
        bits(w, 7, 5),
    );
    match op {
        // dc cvau, dc cvac, dc civac, dc cvap, dc cvadp: nothing to write back.
        (3, 7, 10..=14, 1) => Ok(()),
        // ic ivau: the isb that follows drops stale translations.
        (3, 7, 5, 1) => Ok(()),
        (3, 7, 4, 1) => Err(unsupported(
            cx,
            w,
            "dc zva is prohibited (DCZID_EL0.DZP is set)",
        )),
        _ => Err(unsupported(cx, w, "system operation not available at EL0")),
    }
}
