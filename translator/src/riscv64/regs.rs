//! The riscv64 register file, from the runtime contract (`vmtrans-abi`).
//!
//! Integer registers x0..x31 are indices 0..31, FP registers f0..f31 are
//! 32..63 (raw 64-bit patterns; single-precision values are NaN-boxed), then
//! the FP control fields, the PC and the LR/SC reservation.

use std::sync::Arc;

use vmtrans_abi::Arch;
use vmtrans_ir::{GuestReg, RegFile};

use crate::lift::shared_regfile;

/// Integer register `n` (0..31).
pub const fn x(n: u8) -> GuestReg {
    GuestReg(n as u16)
}

/// FP register `n` (0..31).
pub const fn f(n: u8) -> GuestReg {
    GuestReg(32 + n as u16)
}

/// Accrued FP exception flags (NV DZ OF UF NX in bits 4..0).
pub const FFLAGS: GuestReg = GuestReg(64);
/// Dynamic rounding mode (0..4).
pub const FRM: GuestReg = GuestReg(65);
/// Program counter (kept by the runtime; translated code passes PCs in exits).
pub const PC: GuestReg = GuestReg(66);
/// LR/SC reservation: the reserved address (or all ones when none).
pub const RES_ADDR: GuestReg = GuestReg(67);
/// LR/SC reservation: the value LR loaded.
pub const RES_VAL: GuestReg = GuestReg(68);

/// The riscv64 register file (built once, shared by every function).
pub fn regfile() -> Arc<RegFile> {
    shared_regfile(Arch::Riscv64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmtrans_ir::Type;

    #[test]
    fn constants_name_the_right_registers() {
        let rf = regfile();
        assert_eq!(rf.desc(x(0)).name, "zero");
        assert_eq!(rf.desc(x(10)).name, "a0");
        assert_eq!(rf.desc(f(10)).name, "fa0");
        assert_eq!(rf.desc(FFLAGS).name, "fflags");
        assert_eq!(rf.desc(FRM).name, "frm");
        assert_eq!(rf.desc(PC).name, "pc");
        assert_eq!(rf.desc(RES_ADDR).name, "res_addr");
        assert_eq!(rf.desc(RES_VAL).name, "res_val");
        assert_eq!(rf.desc(FFLAGS).ty, Type::I32);
    }
}
