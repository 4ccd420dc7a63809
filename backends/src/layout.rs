//! Where each guest register lives in the CPU state.

use vmtrans_abi::{reg_offset, Arch, REGS_OFFSET};
use vmtrans_ir::{RegFile, Type};

use crate::BackendError;

/// Byte offsets of a register file's registers inside the CPU state.
///
/// When the file's name is a guest architecture ([`Arch::from_name`]), each
/// IR register is found by name in the runtime contract and takes its
/// offset from [`reg_offset`]; its IR type must have the contract's size.
/// Any other file gets a packed layout computed the way the contract lays
/// out its own: registers in order from [`REGS_OFFSET`], each aligned to
/// its size (`i1` takes one byte).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegLayout {
    offsets: Vec<u32>,
}

impl RegLayout {
    /// The layout of `regs`.
    pub fn new(regs: &RegFile) -> Result<RegLayout, BackendError> {
        match Arch::from_name(&regs.name) {
            Some(arch) => RegLayout::of_arch(arch, regs),
            None => Ok(RegLayout::packed(regs)),
        }
    }

    /// Offset of register `index`.
    pub fn offset(&self, index: usize) -> u32 {
        self.offsets[index]
    }

    fn of_arch(arch: Arch, regs: &RegFile) -> Result<RegLayout, BackendError> {
        let specs = arch.registers();
        let offsets = regs
            .regs
            .iter()
            .map(|r| {
                let fail = |message: String| BackendError::RegisterFile {
                    file: regs.name.clone(),
                    message,
                };
                let index = specs.iter().position(|s| s.name == r.name).ok_or_else(|| {
                    fail(format!("register %{} is not a {arch} register", r.name))
                })?;
                let size = specs[index].kind.size();
                if size != r.ty.bytes() as usize {
                    return Err(fail(format!(
                        "register %{} is {} in the IR but {size} byte(s) in the CPU state",
                        r.name, r.ty
                    )));
                }
                Ok(reg_offset(arch, index) as u32)
            })
            .collect::<Result<Vec<u32>, BackendError>>()?;
        Ok(RegLayout { offsets })
    }

    fn packed(regs: &RegFile) -> RegLayout {
        let mut at = REGS_OFFSET as u32;
        let offsets = regs
            .regs
            .iter()
            .map(|r| {
                let size = stored_size(r.ty);
                at = at.next_multiple_of(size);
                let here = at;
                at += size;
                here
            })
            .collect();
        RegLayout { offsets }
    }

    /// Size of the CPU state this layout needs (header plus registers,
    /// rounded up to 16 bytes).
    pub fn state_size(&self, regs: &RegFile) -> usize {
        let end = self
            .offsets
            .iter()
            .zip(&regs.regs)
            .map(|(&o, r)| o + stored_size(r.ty))
            .max()
            .unwrap_or(REGS_OFFSET as u32);
        (end as usize).next_multiple_of(16)
    }
}

fn stored_size(ty: Type) -> u32 {
    ty.bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arch_files_use_the_contract_offsets() {
        let regs = RegFile::new(
            "riscv64",
            [("a0".to_string(), Type::I64), ("sp".to_string(), Type::I64)],
        );
        let l = RegLayout::new(&regs).unwrap();
        assert_eq!(l.offset(0) as usize, reg_offset(Arch::Riscv64, 10));
        assert_eq!(l.offset(1) as usize, reg_offset(Arch::Riscv64, 2));
    }

    #[test]
    fn wrong_sizes_and_unknown_names_are_rejected() {
        let bad = RegFile::new("riscv64", [("a0".to_string(), Type::I32)]);
        assert!(RegLayout::new(&bad).is_err());
        let unknown = RegFile::new("aarch64", [("a0".to_string(), Type::I64)]);
        assert!(RegLayout::new(&unknown).is_err());
    }

    #[test]
    fn other_files_are_packed_and_aligned() {
        let regs = RegFile::new(
            "test",
            [
                ("f".to_string(), Type::I1),
                ("x".to_string(), Type::I64),
                ("v".to_string(), Type::V128),
            ],
        );
        let l = RegLayout::new(&regs).unwrap();
        assert_eq!(l.offset(0) as usize, REGS_OFFSET);
        assert_eq!(l.offset(1) as usize, REGS_OFFSET + 8);
        assert_eq!(l.offset(2) as usize, REGS_OFFSET + 16);
        assert_eq!(l.state_size(&regs), REGS_OFFSET + 32);
    }
}
