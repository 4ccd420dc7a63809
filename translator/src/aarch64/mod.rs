//! The aarch64 frontend: A64 (ARMv8.0 base with the FP and Advanced SIMD
//! subset glibc and gcc -O2 use, plus LSE atomics), little endian, user mode.
//!
//! - [`decode()`](decode::decode) checks an instruction with yaxpeax-arm and
//!   gives its text and control-flow effect.
//! - [`lift`] gives each instruction its semantics in the IR, one module
//!   per instruction family, reading the fields from the instruction word.
//! - [`regs`] is the register file from the runtime contract.
//! - [`Aarch64Lifter`] implements [`Lifter`].
//!
//! Decoder coverage is checked by `translator/tests/aarch64_decode.rs`
//! against `aarch64-linux-gnu-objdump` goldens in `testsuite/decode/aarch64/`.

pub mod decode;
pub mod lift;
pub mod regs;

pub use decode::{decode, Insn};

use std::sync::Arc;

use crate::{Arch, DecodeError, InsnInfo, LiftCx, LiftError, Lifter};

/// The aarch64 implementation of [`Lifter`].
#[derive(Clone, Copy, Debug, Default)]
pub struct Aarch64Lifter;

impl Lifter for Aarch64Lifter {
    fn arch(&self) -> Arch {
        Arch::Aarch64
    }

    fn usual_mode(&self) -> Option<crate::UsualMode> {
        Some(crate::UsualMode {
            reg: regs::FPCR,
            clear: lift::FPCR_FZ | lift::FPCR_DN,
        })
    }

    fn decode(&self, code: &[u8], addr: u64) -> Result<InsnInfo, DecodeError> {
        let insn = decode::decode(code, addr)?;
        Ok(InsnInfo {
            addr,
            len: 4,
            flow: insn.flow(addr),
            text: insn.text(),
        })
    }

    fn regfile(&self) -> Arc<vmtrans_ir::RegFile> {
        regs::regfile()
    }

    fn lift(&self, code: &[u8], cx: &mut LiftCx) -> Result<(), LiftError> {
        let insn = decode::decode(code, cx.pc()).map_err(|e| LiftError {
            arch: "aarch64",
            addr: cx.pc(),
            bytes: code.to_vec(),
            reason: e.to_string(),
        })?;
        if insn.sve() {
            return Err(LiftError {
                arch: "aarch64",
                addr: cx.pc(),
                bytes: code.to_vec(),
                reason: "SVE is not lifted (HWCAP does not advertise it)".into(),
            });
        }
        lift::lift_insn(insn.raw, cx)
    }
}
