//! Section headers, symbols and code pointers, read through `object`.

use std::collections::HashMap;

use object::elf;
use object::read::elf::{FileHeader, Rela as _, SectionHeader as _, SectionTable, Sym as _};
use object::LittleEndian as LE;

use super::lines::DebugSections;
use super::{
    le64, CodePointer, CodePointerKind, GuestImage, MappingSymbol, Parser, Section, Symbol,
    SymbolKind,
};
use crate::{Arch, TranslateError};

pub(super) type Sections<'d> = SectionTable<'d, elf::FileHeader64<LE>, &'d [u8]>;

impl Parser<'_> {
    /// Reads section headers, symbols, code pointers and debug sections.
    /// A broken section table is an error; a broken symbol table a warning.
    pub(super) fn read_sections(&self, image: &mut GuestImage) -> Result<(), TranslateError> {
        let header = elf::FileHeader64::<LE>::parse(self.data)
            .map_err(|e| self.bad(format!("ELF header: {e}")))?;
        let table = header
            .sections(LE, self.data)
            .map_err(|e| self.bad(format!("section header table: {e}")))?;
        image.sections = self.section_list(&table)?;
        self.read_symbols(&table, image);
        image.code_pointers = self.code_pointers(&table, image);
        image.debug = DebugSections::from_table(&table, self.data);
        Ok(())
    }

    fn section_list(&self, table: &Sections<'_>) -> Result<Vec<Section>, TranslateError> {
        table
            .enumerate()
            .map(|(index, s)| {
                let name = table
                    .section_name(LE, s)
                    .map_err(|e| self.bad(format!("section {}: name: {e}", index.0)))?;
                let flags = s.sh_flags(LE);
                Ok(Section {
                    name: String::from_utf8_lossy(name).into_owned(),
                    kind: s.sh_type(LE),
                    addr: s.sh_addr(LE),
                    offset: s.sh_offset(LE),
                    size: s.sh_size(LE),
                    alloc: flags & u64::from(elf::SHF_ALLOC) != 0,
                    execute: flags & u64::from(elf::SHF_EXECINSTR) != 0,
                    write: flags & u64::from(elf::SHF_WRITE) != 0,
                })
            })
            .collect()
    }

    /// Collects function and mapping symbols from `.symtab` and `.dynsym`.
    fn read_symbols(&self, table: &Sections<'_>, image: &mut GuestImage) {
        for kind in [elf::SHT_SYMTAB, elf::SHT_DYNSYM] {
            let symbols = match table.symbols(LE, self.data, kind) {
                Ok(s) => s,
                Err(e) => {
                    image
                        .warnings
                        .push(format!("symbol table (type {kind}): {e}"));
                    continue;
                }
            };
            for (index, sym) in symbols.enumerate() {
                match symbols.symbol_name(LE, sym) {
                    Ok(name) => add_symbol(image, sym, name, in_code_section(table, sym)),
                    Err(e) => image
                        .warnings
                        .push(format!("symbol {} (table type {kind}): name: {e}", index.0)),
                }
            }
        }
        image
            .symbols
            .sort_by(|a, b| (a.addr, a.preference()).cmp(&(b.addr, b.preference())));
        image
            .symbols
            .dedup_by(|a, b| a.addr == b.addr && a.name == b.name);
        image.mapping_symbols.sort_by_key(|m| m.addr);
        image.data_objects.sort_by_key(|r| (r.start, r.end));
        image.data_objects.dedup();
        image.mapping_symbols.dedup();
    }

    /// Function pointers from init/fini arrays and `IRELATIVE` relocations.
    fn code_pointers(&self, table: &Sections<'_>, image: &mut GuestImage) -> Vec<CodePointer> {
        let relocs = self.relocations(table, image);
        let irelative = irelative_type(image.arch);
        let mut out: Vec<CodePointer> = relocs
            .values()
            .filter(|(r_type, _)| *r_type == irelative)
            .map(|&(_, addend)| CodePointer {
                addr: addend,
                kind: CodePointerKind::IrelativeResolver,
            })
            .collect();
        let mut warnings = Vec::new();
        let arrays = [
            (elf::SHT_PREINIT_ARRAY, CodePointerKind::PreinitArray),
            (elf::SHT_INIT_ARRAY, CodePointerKind::InitArray),
            (elf::SHT_FINI_ARRAY, CodePointerKind::FiniArray),
        ];
        for (sh_type, kind) in arrays {
            for s in image.sections.iter().filter(|s| s.kind == sh_type) {
                // Read the array first: its size is then bounded by the file.
                let Some(array) = usize::try_from(s.size)
                    .ok()
                    .and_then(|n| image.read(s.addr, n))
                else {
                    warnings.push(format!(
                        "section {}: [{:#x}, +{:#x}) is not in the loaded file contents",
                        s.name, s.addr, s.size
                    ));
                    continue;
                };
                for (slot, raw) in (s.addr..).step_by(8).zip(array.chunks_exact(8)) {
                    // In a static PIE the slot may hold 0 and a RELATIVE reloc the value.
                    let value = match relocs.get(&slot) {
                        Some(&(t, addend)) if t == relative_type(image.arch) => addend,
                        _ => le64(raw, 0),
                    };
                    if value != 0 && value != u64::MAX {
                        out.push(CodePointer { addr: value, kind });
                    }
                }
            }
        }
        image.warnings.extend(warnings);
        out.sort();
        out.dedup();
        out
    }

    /// All RELA relocations: slot address → (type, addend).
    fn relocations(
        &self,
        table: &Sections<'_>,
        image: &mut GuestImage,
    ) -> HashMap<u64, (u32, u64)> {
        let mut map = HashMap::new();
        for (index, s) in table.enumerate() {
            if s.sh_type(LE) != elf::SHT_RELA {
                continue;
            }
            let relas = match s.data_as_array::<elf::Rela64<LE>, _>(LE, self.data) {
                Ok(r) => r,
                Err(e) => {
                    image
                        .warnings
                        .push(format!("section {} (SHT_RELA): {e}", index.0));
                    continue;
                }
            };
            for r in relas {
                let info = (r.r_type(LE, false), r.r_addend(LE) as u64);
                map.insert(r.r_offset(LE), info);
            }
        }
        map
    }
}

/// True when `sym` is defined in a section of instructions.
fn in_code_section(table: &Sections<'_>, sym: &elf::Sym64<LE>) -> bool {
    table
        .section(object::SectionIndex(usize::from(sym.st_shndx(LE))))
        .is_ok_and(|s| s.sh_flags(LE) & u64::from(elf::SHF_EXECINSTR) != 0)
}

/// Adds one ELF symbol if it is a defined function, ifunc, code label,
/// data object or mapping symbol (`in_code`: it is defined in a section of
/// instructions).
fn add_symbol(image: &mut GuestImage, sym: &elf::Sym64<LE>, name: &[u8], in_code: bool) {
    if sym.st_shndx(LE) == elf::SHN_UNDEF {
        return;
    }
    let addr = sym.st_value(LE);
    if let Some(data) = mapping_symbol_kind(name) {
        image.mapping_symbols.push(MappingSymbol { addr, data });
        return;
    }
    let kind = match sym.st_type() {
        elf::STT_FUNC => SymbolKind::Function,
        elf::STT_GNU_IFUNC => SymbolKind::Ifunc,
        // An assembly label among instructions (glibc's aarch64
        // `__wrap_main`, whose address `_start` hands to
        // `__libc_start_main`, is one; `.L` labels never reach the table).
        elf::STT_NOTYPE if in_code && sym.st_bind() == elf::STB_LOCAL && sym.st_size(LE) == 0 => {
            SymbolKind::Label
        }
        elf::STT_OBJECT if sym.st_size(LE) > 0 => {
            image.data_objects.push(addr..addr + sym.st_size(LE));
            return;
        }
        _ => return,
    };
    image.symbols.push(Symbol {
        name: String::from_utf8_lossy(name).into_owned(),
        addr,
        size: sym.st_size(LE),
        kind,
        global: matches!(sym.st_bind(), elf::STB_GLOBAL | elf::STB_WEAK),
    });
}

/// `Some(is_data)` for ARM/RISC-V mapping symbols (`$x`, `$d`, `$x.foo`,
/// `$xrv64i2p1...`), `None` otherwise.
fn mapping_symbol_kind(name: &[u8]) -> Option<bool> {
    match name {
        [b'$', b'd', ..] => Some(true),
        [b'$', b'x' | b'a' | b't', ..] => Some(false),
        _ => None,
    }
}

fn irelative_type(arch: Arch) -> u32 {
    match arch {
        Arch::Riscv64 => elf::R_RISCV_IRELATIVE,
        Arch::Aarch64 => elf::R_AARCH64_IRELATIVE,
        Arch::X86_64 => elf::R_X86_64_IRELATIVE,
    }
}

fn relative_type(arch: Arch) -> u32 {
    match arch {
        Arch::Riscv64 => elf::R_RISCV_RELATIVE,
        Arch::Aarch64 => elf::R_AARCH64_RELATIVE,
        Arch::X86_64 => elf::R_X86_64_RELATIVE,
    }
}
