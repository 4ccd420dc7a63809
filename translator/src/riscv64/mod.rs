//! The riscv64 frontend: RV64GC (RV64IMAFDC + Zicsr + Zifencei) plus Zba and
//! Zbb, little endian, user mode.
//!
//! - [`decode()`] turns bytes into an [`Insn`] (operation, registers,
//!   immediate, rounding mode, CSR, ordering bits, length), with
//!   objdump-style text and the control-flow effect ([`Insn::flow`]).
//! - `compressed` expands every 16-bit RVC instruction to its 32-bit
//!   equivalent, in one table.
//! - [`lift`] gives each instruction its semantics in the IR; [`regs`] is
//!   the register file from the runtime contract.
//! - [`Riscv64Lifter`] implements [`Lifter`].
//!
//! Completeness is proven by `translator/tests/riscv64_decode.rs`, which
//! compares every instruction of the fixture binaries (static glibc) and of
//! synthetic objects (every instruction, every 16-bit encoding, random
//! 32-bit words) against `riscv64-linux-gnu-objdump` goldens kept in
//! `testsuite/decode/riscv64/`.

mod compressed;
pub mod decode;
pub mod lift;
pub mod regs;

pub use decode::{decode, Disasm, Family, Format, Insn, Op, RegFile};

use std::sync::Arc;

use crate::{Arch, DecodeError, InsnInfo, LiftCx, LiftError, Lifter};

/// The riscv64 implementation of [`Lifter`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Riscv64Lifter;

impl Lifter for Riscv64Lifter {
    fn arch(&self) -> Arch {
        Arch::Riscv64
    }

    fn decode(&self, code: &[u8], addr: u64) -> Result<InsnInfo, DecodeError> {
        let insn = decode::decode(code, addr)?;
        Ok(InsnInfo {
            addr,
            len: insn.len,
            flow: insn.flow(addr),
            text: insn.text(addr),
        })
    }

    fn regfile(&self) -> Arc<vmtrans_ir::RegFile> {
        regs::regfile()
    }

    fn lift(&self, code: &[u8], cx: &mut LiftCx) -> Result<(), LiftError> {
        let insn = decode::decode(code, cx.pc()).map_err(|e| LiftError {
            arch: "riscv64",
            addr: cx.pc(),
            bytes: code.to_vec(),
            reason: e.to_string(),
        })?;
        lift::lift_insn(&insn, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Flow;

    #[test]
    fn lifter_reports_len_flow_and_text() {
        let lifter = Riscv64Lifter;
        assert_eq!(lifter.arch(), Arch::Riscv64);
        // c.jr ra; then jal ra,+8
        let info = lifter.decode(&[0x82, 0x80, 0xef, 0x00], 0x100).unwrap();
        assert_eq!(
            info,
            InsnInfo {
                addr: 0x100,
                len: 2,
                flow: Flow::Return,
                text: "c.jr\tra".into()
            }
        );
        let info = lifter.decode(&[0xef, 0x00, 0x80, 0x00], 0x100).unwrap();
        assert_eq!((info.len, info.flow), (4, Flow::Call(0x108)));
        assert_eq!(info.text, "jal\tra,108");
    }

    #[test]
    fn lifter_errors_name_address_and_bytes() {
        let err = Riscv64Lifter.decode(&[0, 0], 0x4000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown riscv64 instruction at 0x4000: bytes 00 00"
        );
    }
}
