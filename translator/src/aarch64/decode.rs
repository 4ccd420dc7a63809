//! A64 decoding: yaxpeax-arm decodes and prints, the control-flow effect is
//! read straight from the encoding (branch classes are few and fixed).
//!
//! Gaps of yaxpeax-arm 0.5 filled here, in this one place:
//! - none of its decodings are relied on for semantics: the lifter reads the
//!   instruction word itself, so yaxpeax only has to say "valid" and give
//!   the text. Encodings it cannot decode are unknown instructions.

use yaxpeax_arch::{Decoder, U8Reader};
use yaxpeax_arm::armv8::a64::{InstDecoder, Instruction};

use crate::{DecodeError, Flow};

const ARCH: &str = "aarch64";

/// One decoded A64 instruction: its word and yaxpeax-arm's decoding.
#[derive(Clone, Debug)]
pub struct Insn {
    /// The 32-bit instruction word.
    pub raw: u32,
    /// yaxpeax-arm's decoding (used for text).
    pub inst: Instruction,
}

/// Decodes the instruction at the start of `code` (guest address `addr`).
pub fn decode(code: &[u8], addr: u64) -> Result<Insn, DecodeError> {
    let Some(bytes) = code.get(..4) else {
        return Err(DecodeError::Truncated {
            arch: ARCH,
            addr,
            available: code.len(),
        });
    };
    let raw = u32::from_le_bytes(bytes.try_into().expect("4 bytes"));
    let unknown = || DecodeError::Unknown {
        arch: ARCH,
        addr,
        bytes: bytes.to_vec(),
    };
    let mut reader = U8Reader::new(bytes);
    let inst = InstDecoder::default()
        .decode(&mut reader)
        .map_err(|_| unknown())?;
    Ok(Insn { raw, inst })
}

/// Sign-extends the low `bits` bits of `v`.
pub fn sext(v: u32, bits: u32) -> i64 {
    let shift = 64 - bits;
    ((u64::from(v) << shift) as i64) >> shift
}

impl Insn {
    /// The instruction's effect on control flow when it sits at `addr`.
    pub fn flow(&self, addr: u64) -> Flow {
        branch_flow(self.raw, addr)
    }

    /// Disassembly text (yaxpeax-arm's syntax: mnemonic, a space, operands).
    pub fn text(&self) -> String {
        self.inst.to_string()
    }
}

/// The control-flow effect of instruction word `w` at `addr`.
pub fn branch_flow(w: u32, addr: u64) -> Flow {
    let rel = |imm: u32, bits: u32| addr.wrapping_add((sext(imm, bits) << 2) as u64);
    match w {
        _ if w & 0xfc00_0000 == 0x1400_0000 => Flow::Jump(rel(w & 0x3ff_ffff, 26)),
        _ if w & 0xfc00_0000 == 0x9400_0000 => Flow::Call(rel(w & 0x3ff_ffff, 26)),
        _ if w & 0xff00_0010 == 0x5400_0000 => {
            let target = rel((w >> 5) & 0x7_ffff, 19);
            if w & 0xe == 0xe {
                Flow::Jump(target)
            } else {
                Flow::Branch(target)
            }
        }
        _ if w & 0x7e00_0000 == 0x3400_0000 => Flow::Branch(rel((w >> 5) & 0x7_ffff, 19)),
        _ if w & 0x7e00_0000 == 0x3600_0000 => Flow::Branch(rel((w >> 5) & 0x3fff, 14)),
        _ if w & 0xffff_fc1f == 0xd61f_0000 => Flow::IndirectJump,
        _ if w & 0xffff_fc1f == 0xd63f_0000 => Flow::IndirectCall,
        _ if w & 0xffff_fc1f == 0xd65f_0000 => Flow::Return,
        _ if w & 0xffe0_001f == 0xd400_0001 => Flow::Syscall,
        // brk, hlt, udf
        _ if w & 0xffe0_001f == 0xd420_0000 || w & 0xffe0_001f == 0xd440_0000 => Flow::Stop,
        _ if w & 0xffff_0000 == 0 => Flow::Stop,
        _ => Flow::Next,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flow(w: u32, addr: u64) -> Flow {
        decode(&w.to_le_bytes(), addr).unwrap().flow(addr)
    }

    #[test]
    fn branch_classes() {
        assert_eq!(flow(0x1400_0002, 0x1000), Flow::Jump(0x1008));
        assert_eq!(flow(0x97ff_ffff, 0x1000), Flow::Call(0xffc));
        assert_eq!(flow(0x5400_0040, 0x1000), Flow::Branch(0x1008)); // b.eq
        assert_eq!(flow(0xb400_0040, 0x1000), Flow::Branch(0x1008)); // cbz x0
        assert_eq!(flow(0x3600_0040, 0x1000), Flow::Branch(0x1008)); // tbz w0,#0
        assert_eq!(flow(0xd65f_03c0, 0x1000), Flow::Return);
        assert_eq!(flow(0xd63f_0020, 0x1000), Flow::IndirectCall);
        assert_eq!(flow(0xd61f_0020, 0x1000), Flow::IndirectJump);
        assert_eq!(flow(0xd400_0001, 0x1000), Flow::Syscall);
        assert_eq!(flow(0xd420_0000, 0x1000), Flow::Stop);
        assert_eq!(flow(0x8b02_0020, 0x1000), Flow::Next);
    }

    #[test]
    fn truncated_and_text() {
        assert!(matches!(
            decode(&[0, 0], 4),
            Err(DecodeError::Truncated { .. })
        ));
        assert_eq!(
            decode(&0x8b02_0020u32.to_le_bytes(), 0).unwrap().text(),
            "add x0, x1, x2"
        );
    }
}
