//! The x86_64 register file, from the runtime contract (`vmtrans-abi`).
//!
//! General registers in hardware encoding order (rax rcx rdx rbx rsp rbp
//! rsi rdi r8..r15) are indices 0..15, then rip, the seven status flags as
//! `i1` registers, the segment bases, MXCSR, the x87 control words, the 16
//! xmm registers and the 8 x87 stack slots.

use std::sync::Arc;

use vmtrans_abi::Arch;
use vmtrans_ir::{GuestReg, RegFile};

use crate::lift::shared_regfile;

/// General register `n` (0..15, hardware encoding order).
pub const fn gpr(n: u8) -> GuestReg {
    GuestReg(n as u16)
}

/// `rax`.
pub const RAX: GuestReg = gpr(0);
/// `rcx`.
pub const RCX: GuestReg = gpr(1);
/// `rdx`.
pub const RDX: GuestReg = gpr(2);
/// `rbx`.
pub const RBX: GuestReg = gpr(3);
/// `rsp`.
pub const RSP: GuestReg = gpr(4);
/// `rbp`.
pub const RBP: GuestReg = gpr(5);
/// `rsi`.
pub const RSI: GuestReg = gpr(6);
/// `rdi`.
pub const RDI: GuestReg = gpr(7);
/// `r11` (clobbered by `syscall`).
pub const R11: GuestReg = gpr(11);
/// Instruction pointer.
pub const RIP: GuestReg = GuestReg(16);
/// Carry flag.
pub const CF: GuestReg = GuestReg(17);
/// Parity flag.
pub const PF: GuestReg = GuestReg(18);
/// Auxiliary-carry flag.
pub const AF: GuestReg = GuestReg(19);
/// Zero flag.
pub const ZF: GuestReg = GuestReg(20);
/// Sign flag.
pub const SF: GuestReg = GuestReg(21);
/// Overflow flag.
pub const OF: GuestReg = GuestReg(22);
/// Direction flag.
pub const DF: GuestReg = GuestReg(23);
/// `fs` segment base (thread pointer).
pub const FS_BASE: GuestReg = GuestReg(24);
/// `gs` segment base.
pub const GS_BASE: GuestReg = GuestReg(25);
/// SSE control and status register.
pub const MXCSR: GuestReg = GuestReg(26);
/// x87 stack top (0..7).
pub const FPU_TOP: GuestReg = GuestReg(27);
/// x87 control word.
pub const FCW: GuestReg = GuestReg(28);
/// x87 status word.
pub const FSW: GuestReg = GuestReg(29);

/// SSE register `n` (0..15).
pub const fn xmm(n: u8) -> GuestReg {
    GuestReg(30 + n as u16)
}

/// x87 physical stack slot `n` (0..7).
pub const fn st(n: u8) -> GuestReg {
    GuestReg(46 + n as u16)
}

/// The x86_64 register file (built once, shared by every function).
pub fn regfile() -> Arc<RegFile> {
    shared_regfile(Arch::X86_64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vmtrans_ir::Type;

    #[test]
    fn constants_name_the_right_registers() {
        let rf = regfile();
        assert_eq!(rf.desc(RAX).name, "rax");
        assert_eq!(rf.desc(RSP).name, "rsp");
        assert_eq!(rf.desc(R11).name, "r11");
        assert_eq!(rf.desc(RIP).name, "rip");
        assert_eq!(rf.desc(CF).name, "cf");
        assert_eq!(rf.desc(DF).name, "df");
        assert_eq!(rf.desc(FS_BASE).name, "fs_base");
        assert_eq!(rf.desc(MXCSR).name, "mxcsr");
        assert_eq!(rf.desc(FSW).name, "fsw");
        assert_eq!(rf.desc(xmm(0)).name, "xmm0");
        assert_eq!(rf.desc(xmm(15)).name, "xmm15");
        assert_eq!(rf.desc(st(7)).name, "st7");
        assert_eq!(rf.desc(CF).ty, Type::I1);
        assert_eq!(rf.desc(xmm(3)).ty, Type::V128);
    }
}
