//! Decoding x86_64 machine code with iced-x86: one instruction, its
//! control-flow effect and its AT&T (objdump-style) text.

use iced_x86::{
    Decoder, DecoderOptions, FlowControl, Formatter, GasFormatter, Instruction, Mnemonic,
};

use crate::{DecodeError, Flow};

/// Decodes the instruction at the start of `code`, at guest address `addr`.
/// Invalid or truncated encodings are an error naming the address and bytes.
pub fn decode(code: &[u8], addr: u64) -> Result<Instruction, DecodeError> {
    let mut decoder = Decoder::with_ip(64, code, addr, DecoderOptions::NONE);
    let insn = decoder.decode();
    if insn.is_invalid() {
        let shown = code.len().min(15);
        return Err(DecodeError::Unknown {
            arch: "x86_64",
            addr,
            bytes: code[..shown].to_vec(),
        });
    }
    Ok(insn)
}

/// The control-flow effect of `insn` as code discovery sees it.
pub fn flow(insn: &Instruction) -> Flow {
    match insn.mnemonic() {
        Mnemonic::Syscall => return Flow::Syscall,
        Mnemonic::Hlt | Mnemonic::Ud2 | Mnemonic::Ud0 | Mnemonic::Ud1 => return Flow::Stop,
        _ => {}
    }
    match insn.flow_control() {
        FlowControl::Next => Flow::Next,
        FlowControl::UnconditionalBranch => Flow::Jump(insn.near_branch_target()),
        FlowControl::ConditionalBranch => Flow::Branch(insn.near_branch_target()),
        FlowControl::IndirectBranch => Flow::IndirectJump,
        FlowControl::Return => Flow::Return,
        FlowControl::Call => Flow::Call(insn.near_branch_target()),
        FlowControl::IndirectCall => Flow::IndirectCall,
        FlowControl::XbeginXabortXend => match insn.mnemonic() {
            Mnemonic::Xbegin => Flow::Branch(insn.near_branch_target()),
            _ => Flow::Next,
        },
        FlowControl::Interrupt | FlowControl::Exception => Flow::Stop,
    }
}

/// AT&T text of `insn`, close to `objdump -d` (mnemonic, tab, operands).
pub fn text(insn: &Instruction) -> String {
    let mut f = GasFormatter::new();
    f.options_mut().set_first_operand_char_index(0);
    f.options_mut().set_space_after_operand_separator(false);
    f.options_mut().set_uppercase_hex(false);
    f.options_mut().set_gas_show_mnemonic_size_suffix(false);
    let mut out = String::new();
    f.format(insn, &mut out);
    match out.split_once(' ') {
        Some((m, rest)) => format!("{m}\t{}", rest.trim_start()),
        None => out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_length_flow_and_text() {
        // mov %rsp,%rbp
        let i = decode(&[0x48, 0x89, 0xe5], 0x1000).unwrap();
        assert_eq!(i.len(), 3);
        assert_eq!(flow(&i), Flow::Next);
        assert_eq!(text(&i), "mov\t%rsp,%rbp");
        // call rel32 to 0x1005 + 0x10
        let i = decode(&[0xe8, 0x10, 0, 0, 0], 0x1000).unwrap();
        assert_eq!(flow(&i), Flow::Call(0x1015));
        let i = decode(&[0x0f, 0x05], 0x1000).unwrap();
        assert_eq!(flow(&i), Flow::Syscall);
        let i = decode(&[0xc3], 0x1000).unwrap();
        assert_eq!(flow(&i), Flow::Return);
    }

    #[test]
    fn truncated_bytes_are_an_error() {
        let e = decode(&[0x48, 0x89], 0x2000).unwrap_err();
        assert!(e.to_string().contains("0x2000"), "{e}");
    }
}
