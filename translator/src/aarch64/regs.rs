//! The aarch64 register file, from the runtime contract (`vmtrans-abi`).
//!
//! x0..x30 are indices 0..30, then sp, pc, the N/Z/C/V flags (one `i1`
//! each), FPCR, FPSR, TPIDR_EL0, the exclusive monitor, and v0..v31.

use std::sync::Arc;

use vmtrans_abi::Arch;
use vmtrans_ir::{GuestReg, RegFile};

use crate::lift::shared_regfile;

/// General register `x<n>` (0..30).
pub const fn x(n: u32) -> GuestReg {
    GuestReg(n as u16)
}

/// The stack pointer.
pub const SP: GuestReg = GuestReg(31);
/// The program counter (kept by the runtime; exits pass PCs).
pub const PC: GuestReg = GuestReg(32);
/// Negative flag.
pub const N: GuestReg = GuestReg(33);
/// Zero flag.
pub const Z: GuestReg = GuestReg(34);
/// Carry flag.
pub const C: GuestReg = GuestReg(35);
/// Overflow flag.
pub const V: GuestReg = GuestReg(36);
/// FP control register (rounding mode in bits 23:22).
pub const FPCR: GuestReg = GuestReg(37);
/// FP status register (cumulative exception flags in bits 4:0, QC bit 27).
pub const FPSR: GuestReg = GuestReg(38);
/// The user thread pointer.
pub const TPIDR_EL0: GuestReg = GuestReg(39);
/// Exclusive monitor: the address of the last load-exclusive (all ones: none).
pub const EXCL_ADDR: GuestReg = GuestReg(40);
/// Exclusive monitor: the value the load-exclusive read.
pub const EXCL_VAL: GuestReg = GuestReg(41);
/// Exclusive monitor: the second value of a load-exclusive pair.
pub const EXCL_VAL_HI: GuestReg = GuestReg(42);

/// SIMD&FP register `v<n>` (0..31).
pub const fn v(n: u32) -> GuestReg {
    GuestReg(43 + n as u16)
}

/// The aarch64 register file (built once, shared by every function).
pub fn regfile() -> Arc<RegFile> {
    shared_regfile(Arch::Aarch64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants_name_the_right_registers() {
        let rf = regfile();
        assert_eq!(rf.desc(x(0)).name, "x0");
        assert_eq!(rf.desc(x(30)).name, "x30");
        assert_eq!(rf.desc(SP).name, "sp");
        assert_eq!(rf.desc(PC).name, "pc");
        assert_eq!(rf.desc(N).name, "n");
        assert_eq!(rf.desc(V).name, "v");
        assert_eq!(rf.desc(FPCR).name, "fpcr");
        assert_eq!(rf.desc(FPSR).name, "fpsr");
        assert_eq!(rf.desc(TPIDR_EL0).name, "tpidr_el0");
        assert_eq!(rf.desc(EXCL_ADDR).name, "excl_addr");
        assert_eq!(rf.desc(EXCL_VAL_HI).name, "excl_val_hi");
        assert_eq!(rf.desc(v(0)).name, "v0");
        assert_eq!(rf.desc(v(31)).name, "v31");
    }
}
