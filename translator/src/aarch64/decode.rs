//! A64 decoding: yaxpeax-arm decodes and prints, the control-flow effect is
//! read straight from the encoding (branch classes are few and fixed).
//!
//! yaxpeax-arm's decodings are not relied on for semantics: the lifter
//! reads the instruction word itself, so yaxpeax only has to say "valid"
//! and give the text. Its gaps (found by `translator/tests/aarch64_decode.rs`
//! against objdump) are filled here, in this one place:
//! - SVE is not decoded at all (`IncompleteDecoder`); glibc carries SVE
//!   string routines (chosen only when HWCAP advertises SVE, which vmtrans
//!   does not). Words in the SVE encoding space (bits 28:25 = 0010) decode
//!   as [`Insn::sve`] with a `.inst` text; the lifter refuses them.
//! - `msr <sysreg>, xN` prints the wrong transfer register, and MRS/MSR
//!   print unnamed system registers as `s3_3_c0_c0_7`: both are printed
//!   here ([`sysreg_text`]).
//! - Add/sub (extended register) drops the `uxtw`/`sxtw` extend of a W
//!   operand and says `lsl` where objdump (and the ARM ARM) say `uxtw`:
//!   printed here ([`extended_text`]).

use yaxpeax_arch::{Decoder, U8Reader};
use yaxpeax_arm::armv8::a64::{InstDecoder, Instruction};

use crate::{DecodeError, Flow};

const ARCH: &str = "aarch64";

/// One decoded A64 instruction: its word and yaxpeax-arm's decoding.
#[derive(Clone, Debug)]
pub struct Insn {
    /// The 32-bit instruction word.
    pub raw: u32,
    /// yaxpeax-arm's decoding (used for text); `None` for SVE.
    pub inst: Option<Instruction>,
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
    match InstDecoder::default().decode(&mut reader) {
        Ok(inst) => Ok(Insn {
            raw,
            inst: Some(inst),
        }),
        Err(_) if is_sve(raw) => Ok(Insn { raw, inst: None }),
        Err(_) => Err(unknown()),
    }
}

/// Whether `w` lies in the SVE encoding space (op0 = 0010).
pub fn is_sve(w: u32) -> bool {
    (w >> 25) & 0xf == 0b0010
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

    /// Whether this is an SVE instruction (decoded only as such).
    pub fn sve(&self) -> bool {
        self.inst.is_none()
    }

    /// Disassembly text (yaxpeax-arm's syntax: mnemonic, a space, operands).
    pub fn text(&self) -> String {
        let w = self.raw;
        match &self.inst {
            None => format!(".inst 0x{w:08x} (SVE)"),
            Some(_) if w & 0xffd0_0000 == 0xd510_0000 => sysreg_text(w),
            Some(_) if w & 0x1fe0_0000 == 0x0b20_0000 => extended_text(w),
            Some(inst) => inst.to_string(),
        }
    }
}

/// The name of system register `o0:op1:CRn:CRm:op2` (bits 19:5 of MRS/MSR).
pub fn sysreg_name(key: u32) -> String {
    let (op0, op1, crn, crm, op2) = (
        2 + (key >> 14),
        (key >> 11) & 7,
        (key >> 7) & 15,
        (key >> 3) & 15,
        key & 7,
    );
    let known = match (op0, op1, crn, crm, op2) {
        (3, 3, 4, 2, 0) => "nzcv",
        (3, 3, 4, 4, 0) => "fpcr",
        (3, 3, 4, 4, 1) => "fpsr",
        (3, 3, 13, 0, 2) => "tpidr_el0",
        (3, 3, 13, 0, 3) => "tpidrro_el0",
        (3, 3, 14, 0, 0) => "cntfrq_el0",
        (3, 3, 14, 0, 2) => "cntvct_el0",
        (3, 3, 0, 0, 7) => "dczid_el0",
        (3, 3, 0, 0, 1) => "ctr_el0",
        (3, 0, 0, 0, 0) => "midr_el1",
        _ => return format!("s{op0}_{op1}_c{crn}_c{crm}_{op2}"),
    };
    known.to_string()
}

/// MRS/MSR (register) text.
fn sysreg_text(w: u32) -> String {
    let rt = w & 31;
    let reg = if rt == 31 {
        "xzr".to_string()
    } else {
        format!("x{rt}")
    };
    let name = sysreg_name((w >> 5) & 0x7fff);
    if w & (1 << 21) != 0 {
        format!("mrs {reg}, {name}")
    } else {
        format!("msr {name}, {reg}")
    }
}

/// Add/sub (extended register) text, with objdump's extend spelling.
fn extended_text(w: u32) -> String {
    let sf = w >> 31 != 0;
    let sub = (w >> 30) & 1 != 0;
    let s = (w >> 29) & 1 != 0;
    let (rm, option, imm3, rn, rd) = (
        (w >> 16) & 31,
        (w >> 13) & 7,
        (w >> 10) & 7,
        (w >> 5) & 31,
        w & 31,
    );
    let x = if sf { "x" } else { "w" };
    let sp_name = |n: u32| {
        if n == 31 {
            if sf {
                "sp".to_string()
            } else {
                "wsp".to_string()
            }
        } else {
            format!("{x}{n}")
        }
    };
    let zr_name = |n: u32| {
        if n == 31 {
            format!("{x}zr")
        } else {
            format!("{x}{n}")
        }
    };
    let m_x = option & 3 == 3;
    let m = match (rm, m_x) {
        (31, true) => "xzr".to_string(),
        (31, false) => "wzr".to_string(),
        (n, true) => format!("x{n}"),
        (n, false) => format!("w{n}"),
    };
    let uses_sp = rn == 31 || (!s && rd == 31);
    let lsl_form = uses_sp && option == if sf { 3 } else { 2 };
    let ext = if lsl_form {
        if imm3 == 0 {
            String::new()
        } else {
            format!(", lsl #{imm3}")
        }
    } else {
        let name = [
            "uxtb", "uxth", "uxtw", "uxtx", "sxtb", "sxth", "sxtw", "sxtx",
        ][option as usize];
        if imm3 == 0 {
            format!(", {name}")
        } else {
            format!(", {name} #{imm3}")
        }
    };
    let base = if sub { "sub" } else { "add" };
    if s && rd == 31 {
        let alias = if sub { "cmp" } else { "cmn" };
        format!("{alias} {}, {m}{ext}", sp_name(rn))
    } else {
        let mn = if s {
            format!("{base}s")
        } else {
            base.to_string()
        };
        let d = if s { zr_name(rd) } else { sp_name(rd) };
        format!("{mn} {d}, {}, {m}{ext}", sp_name(rn))
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
