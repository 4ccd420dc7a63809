//! The x86_64 frontend: the general-purpose integer instruction set, SSE
//! and SSE2, `syscall`, user mode, decoded with iced-x86.
//!
//! - [`decode`] wraps iced-x86: one instruction, its control-flow effect
//!   ([`decode::flow`]) and objdump-style AT&T text ([`decode::text`]).
//! - [`lift`] gives each instruction its semantics in the IR, grouped by
//!   family; every status flag is its own `i1` register so unread flag
//!   math is dead code.
//! - [`regs`] is the register file from the runtime contract.
//! - [`X86_64Lifter`] implements [`Lifter`].
//!
//! Decoding completeness is checked by `translator/tests/x86_64_decode.rs`
//! against `objdump -d` on every instruction of the fixture binaries.

pub mod decode;
pub mod lift;
pub mod regs;

use std::sync::Arc;

use crate::{Arch, DecodeError, InsnInfo, LiftCx, LiftError, Lifter};

/// The x86_64 implementation of [`Lifter`].
#[derive(Clone, Copy, Debug, Default)]
pub struct X86_64Lifter;

impl Lifter for X86_64Lifter {
    fn arch(&self) -> Arch {
        Arch::X86_64
    }

    fn decode(&self, code: &[u8], addr: u64) -> Result<InsnInfo, DecodeError> {
        let insn = decode::decode(code, addr)?;
        Ok(InsnInfo {
            addr,
            len: insn.len() as u8,
            flow: decode::flow(&insn),
            text: decode::text(&insn),
        })
    }

    fn regfile(&self) -> Arc<vmtrans_ir::RegFile> {
        regs::regfile()
    }

    fn lift(&self, code: &[u8], cx: &mut LiftCx) -> Result<(), LiftError> {
        let insn = decode::decode(code, cx.pc()).map_err(|e| LiftError {
            arch: "x86_64",
            addr: cx.pc(),
            bytes: code.to_vec(),
            reason: e.to_string(),
        })?;
        lift::lift_insn(&insn, code, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Flow;

    #[test]
    fn lifter_reports_len_flow_and_text() {
        let lifter = X86_64Lifter;
        assert_eq!(lifter.arch(), Arch::X86_64);
        let info = lifter.decode(&[0xc3, 0x90], 0x100).unwrap();
        assert_eq!(
            info,
            InsnInfo {
                addr: 0x100,
                len: 1,
                flow: Flow::Return,
                text: "ret".into()
            }
        );
        let info = lifter.decode(&[0x74, 0x02], 0x100).unwrap();
        assert_eq!((info.len, info.flow), (2, Flow::Branch(0x104)));
    }
}
