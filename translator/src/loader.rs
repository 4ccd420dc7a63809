//! ELF loading: reads a 64-bit little-endian guest executable into a
//! [`GuestImage`], the plain-data view every later stage works from.
//!
//! The ELF header and program headers are parsed and validated here, by hand,
//! so that every defect gets a message naming the file, the header field or
//! program header index, and the offending values. Section headers, symbol
//! tables and relocations are read with `object` (bounds-checked, no panics
//! on hostile input); `.eh_frame` and `.debug_line` with `gimli`. Problems in
//! that optional metadata do not stop loading: they are recorded in
//! [`GuestImage::warnings`].

mod lines;
mod sections;
mod unwind;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use object::elf;
use serde::Serialize;

use crate::{Arch, TranslateError};
use lines::{DebugSections, LineTable};

/// Size of an ELF64 file header.
const EHDR_SIZE: usize = 64;
/// Size of an ELF64 program header.
const PHDR_SIZE: usize = 56;
/// Highest guest address (exclusive) a segment may reach: a 47-bit user address
/// space is the largest all supported guests and the x86_64 host agree on.
const ADDRESS_LIMIT: u64 = 1 << 47;
/// Offset of the class byte in `e_ident`.
const EI_CLASS: usize = 4;
/// Offset of the data-encoding byte in `e_ident`.
const EI_DATA: usize = 5;
/// Longest interpreter path accepted in `PT_INTERP`.
const MAX_INTERP_LEN: u64 = 4096;

/// The kind of ELF executable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum ElfType {
    /// `ET_EXEC`: linked at fixed addresses.
    Exec,
    /// `ET_DYN` without `PT_INTERP`: a static position-independent executable,
    /// loaded at any base and relocating itself.
    StaticPie,
}

/// Read/write/execute permissions of a segment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct SegmentFlags {
    /// `PF_R`.
    pub read: bool,
    /// `PF_W`.
    pub write: bool,
    /// `PF_X`.
    pub execute: bool,
}

impl SegmentFlags {
    /// Decodes `p_flags`.
    pub fn from_p_flags(flags: u32) -> Self {
        SegmentFlags {
            read: flags & elf::PF_R != 0,
            write: flags & elf::PF_W != 0,
            execute: flags & elf::PF_X != 0,
        }
    }
}

impl fmt::Display for SegmentFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let flag = |on, c| if on { c } else { '-' };
        write!(
            f,
            "{}{}{}",
            flag(self.read, 'r'),
            flag(self.write, 'w'),
            flag(self.execute, 'x')
        )
    }
}

/// One program header, as found in the file (all types, not only `PT_LOAD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ProgramHeader {
    /// Index in the program header table.
    pub index: usize,
    /// `p_type` (`PT_LOAD`, `PT_TLS`, ...).
    pub kind: u32,
    /// `p_flags`, decoded.
    pub flags: SegmentFlags,
    /// `p_offset`: file offset of the contents.
    pub offset: u64,
    /// `p_vaddr`: link-time virtual address.
    pub vaddr: u64,
    /// `p_filesz`: bytes present in the file.
    pub filesz: u64,
    /// `p_memsz`: bytes in memory (the rest is zero-filled).
    pub memsz: u64,
    /// `p_align`.
    pub align: u64,
}

/// A loadable segment (`PT_LOAD`) with its file contents.
#[derive(Clone, Serialize)]
pub struct Segment {
    /// Index of its program header.
    pub index: usize,
    /// Link-time virtual address.
    pub vaddr: u64,
    /// Size in memory; bytes past `bytes.len()` are zero.
    pub memsz: u64,
    /// Permissions.
    pub flags: SegmentFlags,
    /// `p_align`.
    pub align: u64,
    /// File offset of the contents.
    pub offset: u64,
    /// The `p_filesz` bytes from the file (not serialized: too large for
    /// metadata dumps; reload the ELF to get them).
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

/// Shows the size of the contents, not the bytes.
impl fmt::Debug for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Segment")
            .field("index", &self.index)
            .field("vaddr", &format_args!("{:#x}", self.vaddr))
            .field("memsz", &format_args!("{:#x}", self.memsz))
            .field("flags", &format_args!("{}", self.flags))
            .field("align", &self.align)
            .field("offset", &format_args!("{:#x}", self.offset))
            .field("bytes", &format_args!("[{} bytes]", self.bytes.len()))
            .finish()
    }
}

impl Segment {
    /// One past the last address in memory.
    pub fn end(&self) -> u64 {
        self.vaddr + self.memsz
    }

    /// Whether `addr` lies inside the segment's memory image.
    pub fn contains(&self, addr: u64) -> bool {
        addr >= self.vaddr && addr < self.end()
    }
}

/// Facts from the ELF header that the runtime needs for the auxiliary vector.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct HeaderFacts {
    /// Guest address of the program header table (`AT_PHDR`), if a loaded
    /// segment maps it (from `PT_PHDR`, else computed as the kernel does).
    pub phdr_addr: Option<u64>,
    /// File offset of the program header table.
    pub phoff: u64,
    /// Size of one program header (`AT_PHENT`).
    pub phent: u16,
    /// Number of program headers (`AT_PHNUM`).
    pub phnum: u16,
    /// `e_flags` (ISA extensions, float ABI).
    pub flags: u32,
}

/// The kind of a symbol kept in [`GuestImage::symbols`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum SymbolKind {
    /// `STT_FUNC`.
    Function,
    /// `STT_GNU_IFUNC`: the address is the resolver, which is code too.
    Ifunc,
    /// A local `STT_NOTYPE` symbol of size 0 in a section of instructions:
    /// an assembly label, which code may take the address of.
    Label,
}

/// A function symbol from `.symtab` or `.dynsym`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Symbol {
    /// Name (may be mangled).
    pub name: String,
    /// Guest address.
    pub addr: u64,
    /// Size in bytes (0 when unknown).
    pub size: u64,
    /// Function or ifunc resolver.
    pub kind: SymbolKind,
    /// `STB_GLOBAL` or `STB_WEAK` (visible outside its object file).
    pub global: bool,
}

impl Symbol {
    /// Whether `addr` falls inside the symbol (a size-0 symbol covers only
    /// its own address).
    pub fn contains(&self, addr: u64) -> bool {
        addr == self.addr || (addr > self.addr && addr - self.addr < self.size)
    }

    /// Ordering among aliases at one address: global before local, then the
    /// name with fewest leading underscores, then alphabetical.
    fn preference(&self) -> (bool, bool, usize, &str) {
        let underscores = self.name.len() - self.name.trim_start_matches('_').len();
        // A function symbol before a code label at the same address.
        (
            self.kind == SymbolKind::Label,
            !self.global,
            underscores,
            &self.name,
        )
    }
}

/// Where a `$x`/`$d` style mapping symbol says code or data starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct MappingSymbol {
    /// Guest address.
    pub addr: u64,
    /// True for data (`$d`), false for code (`$x`, `$a`, `$t`).
    pub data: bool,
}

/// A section header (kept for names, `.text` bounds and inspection).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Section {
    /// Name, e.g. `.text`.
    pub name: String,
    /// `sh_type`.
    pub kind: u32,
    /// Guest address (0 for non-allocated sections).
    pub addr: u64,
    /// File offset.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// `SHF_ALLOC`.
    pub alloc: bool,
    /// `SHF_EXECINSTR`.
    pub execute: bool,
    /// `SHF_WRITE`.
    pub write: bool,
}

/// The address range a `.eh_frame` FDE describes: the start is a function
/// entry (or the start of a split-off part of one).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct FdeRange {
    /// First address covered.
    pub start: u64,
    /// Number of bytes covered.
    pub len: u64,
    /// Address of the language-specific data area (C++ exception tables),
    /// if the FDE has one.
    pub lsda: Option<u64>,
}

/// Why an address is known to hold code although no call or symbol says so.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum CodePointerKind {
    /// An entry of `.preinit_array`.
    PreinitArray,
    /// An entry of `.init_array`.
    InitArray,
    /// An entry of `.fini_array`.
    FiniArray,
    /// The resolver of an `R_*_IRELATIVE` relocation.
    IrelativeResolver,
    /// An exception landing pad (from an FDE's LSDA call-site table): code
    /// entered only by the unwinder.
    LandingPad,
}

/// A function address found in data.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct CodePointer {
    /// The code address.
    pub addr: u64,
    /// Where it was found.
    pub kind: CodePointerKind,
}

/// A source position from DWARF line info.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineLocation<'a> {
    /// Source file path, as DWARF gives it (joined with its directory).
    pub file: &'a str,
    /// 1-based line (0 when DWARF says no line).
    pub line: u32,
}

impl fmt::Display for LineLocation<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A loaded guest executable: everything later stages need from the ELF.
#[derive(Debug, Serialize)]
pub struct GuestImage {
    /// The file it came from (used in messages).
    pub path: PathBuf,
    /// Guest architecture.
    pub arch: Arch,
    /// Executable kind.
    pub elf_type: ElfType,
    /// Entry point (link-time address).
    pub entry: u64,
    /// ELF header facts for the auxiliary vector.
    pub header: HeaderFacts,
    /// Every program header, in file order.
    pub program_headers: Vec<ProgramHeader>,
    /// `PT_LOAD` segments with their bytes, sorted by address, non-overlapping.
    pub segments: Vec<Segment>,
    /// `PT_TLS`: the thread-local storage template.
    pub tls: Option<ProgramHeader>,
    /// `PT_GNU_STACK`: requested stack permissions.
    pub gnu_stack: Option<ProgramHeader>,
    /// `PT_GNU_EH_FRAME`: where `.eh_frame_hdr` is.
    pub eh_frame_hdr: Option<ProgramHeader>,
    /// Section headers (empty when the file has none).
    pub sections: Vec<Section>,
    /// Function symbols and code labels from `.symtab` and `.dynsym`,
    /// sorted by address, then by preference (see [`GuestImage::symbol_at`]); duplicates removed.
    pub symbols: Vec<Symbol>,
    /// Mapping symbols (`$x`, `$d`), sorted by address.
    pub mapping_symbols: Vec<MappingSymbol>,
    /// Extents of sized data objects (`STT_OBJECT`), sorted by start: they
    /// bound tables such as jump tables.
    pub data_objects: Vec<std::ops::Range<u64>>,
    /// `.eh_frame` FDE ranges, sorted.
    pub fdes: Vec<FdeRange>,
    /// Function addresses found in init/fini arrays and ifunc relocations.
    pub code_pointers: Vec<CodePointer>,
    /// Non-fatal problems found in optional metadata (symbols, unwind and
    /// debug info), each naming what and where.
    pub warnings: Vec<String>,
    /// Raw DWARF sections for lazy line-table parsing.
    #[serde(skip)]
    debug: DebugSections,
    /// The line table, parsed on first use.
    #[serde(skip)]
    lines: OnceLock<LineTable>,
}

impl GuestImage {
    /// Reads and loads the ELF file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<GuestImage, TranslateError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| TranslateError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(path, &bytes)
    }

    /// Loads an ELF image from memory; `path` is only used in messages.
    pub fn from_bytes(path: impl AsRef<Path>, bytes: &[u8]) -> Result<GuestImage, TranslateError> {
        Parser {
            path: path.as_ref(),
            data: bytes,
        }
        .parse()
    }

    /// The bytes at `addr..addr + len`, if they lie within the file-backed
    /// part of one loaded segment (the zero-filled tail is not readable here).
    pub fn read(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let rest = self.bytes_from(addr)?;
        rest.get(..len)
    }

    /// The file-backed bytes of the segment holding `addr`, from `addr` to the
    /// end of the segment's file contents.
    pub fn bytes_from(&self, addr: u64) -> Option<&[u8]> {
        let seg = self.segment_at(addr)?;
        let start = usize::try_from(addr - seg.vaddr).ok()?;
        seg.bytes.get(start..)
    }

    /// The loaded segment whose memory image contains `addr`.
    pub fn segment_at(&self, addr: u64) -> Option<&Segment> {
        let i = self.segments.partition_point(|s| s.vaddr <= addr);
        let seg = self.segments.get(i.checked_sub(1)?)?;
        seg.contains(addr).then_some(seg)
    }

    /// Whether `addr` lies in the file-backed part of an executable segment.
    pub fn is_code(&self, addr: u64) -> bool {
        self.segment_at(addr)
            .is_some_and(|s| s.flags.execute && addr - s.vaddr < s.bytes.len() as u64)
    }

    /// File-backed address ranges of the executable segments, as
    /// `start..end`, sorted.
    pub fn executable_ranges(&self) -> Vec<std::ops::Range<u64>> {
        self.segments
            .iter()
            .filter(|s| s.flags.execute)
            .map(|s| s.vaddr..s.vaddr + s.bytes.len() as u64)
            .collect()
    }

    /// The section called `name`, if section headers exist.
    pub fn section(&self, name: &str) -> Option<&Section> {
        self.sections.iter().find(|s| s.name == name)
    }

    /// The sized data object (from the symbol table) that contains `addr`.
    pub fn data_object_at(&self, addr: u64) -> Option<std::ops::Range<u64>> {
        let end = self.data_objects.partition_point(|r| r.start <= addr);
        self.data_objects[..end]
            .iter()
            .rev()
            .take(8)
            .find(|r| r.contains(&addr))
            .cloned()
    }

    /// The preferred function symbol containing `addr`: among the symbols
    /// starting at the nearest address at or below `addr`, the first (by
    /// preference) whose size covers `addr`.
    pub fn symbol_at(&self, addr: u64) -> Option<&Symbol> {
        let end = self.symbols.partition_point(|s| s.addr <= addr);
        let start_addr = self.symbols.get(end.checked_sub(1)?)?.addr;
        let begin = self.symbols.partition_point(|s| s.addr < start_addr);
        self.symbols[begin..end].iter().find(|s| s.contains(addr))
    }

    /// The name of the function symbol starting exactly at `addr`.
    pub fn symbol_name(&self, addr: u64) -> Option<&str> {
        let i = self.symbols.partition_point(|s| s.addr < addr);
        let sym = self.symbols.get(i)?;
        (sym.addr == addr).then_some(sym.name.as_str())
    }

    /// Whether the file has DWARF line info.
    pub fn has_line_info(&self) -> bool {
        self.debug.has_lines()
    }

    /// Source file and line of `addr` from DWARF `.debug_line`, parsed on
    /// first use. `None` without debug info or when no row covers `addr`.
    pub fn line_at(&self, addr: u64) -> Option<LineLocation<'_>> {
        if !self.has_line_info() {
            return None;
        }
        self.lines
            .get_or_init(|| LineTable::parse(&self.debug))
            .lookup(addr)
    }

    /// Problems met while parsing the line table (empty if none or not yet
    /// parsed).
    pub fn line_info_errors(&self) -> &[String] {
        self.lines.get().map_or(&[], |t| &t.errors)
    }
}

/// Lets the function lifter read guest code straight from the image.
impl crate::lift::CodeSource for GuestImage {
    fn code(&self, addr: u64, len: usize) -> Option<&[u8]> {
        if !self.is_code(addr) {
            return None;
        }
        let rest = self.bytes_from(addr)?;
        Some(&rest[..rest.len().min(len)])
    }
}

// ---------------------------------------------------------------------------
// Parsing: header and program headers (validated by hand).

/// One parse of one file.
struct Parser<'a> {
    path: &'a Path,
    data: &'a [u8],
}

/// ELF header fields the loader uses.
struct RawHeader {
    e_type: u16,
    machine: u16,
    entry: u64,
    phoff: u64,
    shoff: u64,
    flags: u32,
    phentsize: u16,
    phnum: u16,
}

impl<'a> Parser<'a> {
    fn bad(&self, message: impl Into<String>) -> TranslateError {
        TranslateError::BadElf {
            path: self.path.to_path_buf(),
            message: message.into(),
        }
    }

    fn unsupported(&self, message: impl Into<String>) -> TranslateError {
        TranslateError::Unsupported {
            path: self.path.to_path_buf(),
            message: message.into(),
        }
    }

    fn parse(&self) -> Result<GuestImage, TranslateError> {
        let header = self.parse_header()?;
        let arch = self.arch(header.machine)?;
        let program_headers = self.parse_program_headers(&header)?;
        if let Some(interp) = self.interpreter(&program_headers)? {
            return Err(self.unsupported(format!(
                "dynamically linked (interpreter {interp}): not supported yet"
            )));
        }
        let elf_type = self.elf_type(header.e_type)?;
        let segments = self.load_segments(&program_headers)?;
        self.check_entry(header.entry, &segments)?;
        let find = |kind| program_headers.iter().find(|p| p.kind == kind).copied();
        let mut image = GuestImage {
            path: self.path.to_path_buf(),
            arch,
            elf_type,
            entry: header.entry,
            header: HeaderFacts {
                phdr_addr: phdr_address(&header, &program_headers),
                phoff: header.phoff,
                phent: header.phentsize,
                phnum: header.phnum,
                flags: header.flags,
            },
            tls: find(elf::PT_TLS),
            gnu_stack: find(elf::PT_GNU_STACK),
            eh_frame_hdr: find(elf::PT_GNU_EH_FRAME),
            program_headers,
            segments,
            sections: Vec::new(),
            symbols: Vec::new(),
            mapping_symbols: Vec::new(),
            data_objects: Vec::new(),
            fdes: Vec::new(),
            code_pointers: Vec::new(),
            warnings: Vec::new(),
            debug: DebugSections::default(),
            lines: OnceLock::new(),
        };
        if header.shoff != 0 {
            self.read_sections(&mut image)?;
        }
        image.fdes = unwind::read_fdes(&mut image);
        Ok(image)
    }

    /// Checks identification bytes and reads the ELF64 header fields.
    fn parse_header(&self) -> Result<RawHeader, TranslateError> {
        let d = self.data;
        if d.len() < 4 || d[..4] != elf::ELFMAG {
            let found = crate::error::hex(&d[..d.len().min(4)]);
            return Err(self.bad(format!(
                "not an ELF file: bad magic at offset 0 (expected 7f 45 4c 46, found {})",
                if found.is_empty() { "nothing" } else { &found }
            )));
        }
        match d.get(EI_CLASS) {
            Some(&elf::ELFCLASS64) => {}
            Some(&elf::ELFCLASS32) => {
                return Err(self.unsupported(
                    "32-bit ELF (ELFCLASS32 at offset 4): only 64-bit guests are supported",
                ))
            }
            Some(c) => return Err(self.bad(format!("invalid ELF class {c} at offset 4"))),
            None => return Err(self.truncated_header()),
        }
        match d.get(EI_DATA) {
            Some(&elf::ELFDATA2LSB) => {}
            Some(&elf::ELFDATA2MSB) => return Err(self.unsupported(
                "big-endian ELF (ELFDATA2MSB at offset 5): only little-endian guests are supported",
            )),
            Some(c) => return Err(self.bad(format!("invalid ELF data encoding {c} at offset 5"))),
            None => return Err(self.truncated_header()),
        }
        if d.len() < EHDR_SIZE {
            return Err(self.truncated_header());
        }
        let header = RawHeader {
            e_type: le16(d, 16),
            machine: le16(d, 18),
            entry: le64(d, 24),
            phoff: le64(d, 32),
            shoff: le64(d, 40),
            flags: le32(d, 48),
            phentsize: le16(d, 54),
            phnum: le16(d, 56),
        };
        Ok(header)
    }

    fn truncated_header(&self) -> TranslateError {
        self.bad(format!(
            "truncated ELF header: the file is {} bytes, an ELF64 header needs {EHDR_SIZE}",
            self.data.len()
        ))
    }

    fn arch(&self, machine: u16) -> Result<Arch, TranslateError> {
        match machine {
            elf::EM_RISCV => Ok(Arch::Riscv64),
            elf::EM_AARCH64 => Ok(Arch::Aarch64),
            elf::EM_X86_64 => Ok(Arch::X86_64),
            other => Err(self.unsupported(format!(
                "machine {} (e_machine {other} at offset 18) is not a supported guest \
                 (riscv64, aarch64, x86_64)",
                machine_name(other)
            ))),
        }
    }

    fn elf_type(&self, e_type: u16) -> Result<ElfType, TranslateError> {
        match e_type {
            elf::ET_EXEC => Ok(ElfType::Exec),
            // Reached only without PT_INTERP: a dynamic ET_DYN was refused before.
            elf::ET_DYN => Ok(ElfType::StaticPie),
            elf::ET_REL => Err(self
                .unsupported("relocatable object file (ET_REL), not an executable: link it first")),
            elf::ET_CORE => Err(self.unsupported("core dump (ET_CORE), not an executable")),
            other => Err(self.bad(format!("invalid ELF type {other} (e_type at offset 16)"))),
        }
    }

    /// Reads and checks the program header table.
    fn parse_program_headers(&self, h: &RawHeader) -> Result<Vec<ProgramHeader>, TranslateError> {
        if h.phnum == 0 {
            return Err(self.bad("no program headers (e_phnum is 0): not an executable"));
        }
        if h.phnum == 0xffff {
            return Err(self.unsupported("e_phnum is PN_XNUM (more than 65534 program headers)"));
        }
        if usize::from(h.phentsize) != PHDR_SIZE {
            return Err(self.bad(format!(
                "program header size e_phentsize is {}, ELF64 needs {PHDR_SIZE}",
                h.phentsize
            )));
        }
        let table_size = u64::from(h.phnum) * PHDR_SIZE as u64;
        let table = self.file_range(h.phoff, table_size).ok_or_else(|| {
            self.bad(format!(
                "program header table at offset {:#x} ({} entries of {PHDR_SIZE} bytes) \
                 extends beyond the end of the file ({} bytes)",
                h.phoff,
                h.phnum,
                self.data.len()
            ))
        })?;
        let headers = table
            .chunks_exact(PHDR_SIZE)
            .enumerate()
            .map(|(index, p)| ProgramHeader {
                index,
                kind: le32(p, 0),
                flags: SegmentFlags::from_p_flags(le32(p, 4)),
                offset: le64(p, 8),
                vaddr: le64(p, 16),
                filesz: le64(p, 32),
                memsz: le64(p, 40),
                align: le64(p, 48),
            })
            .collect::<Vec<_>>();
        for p in &headers {
            self.check_program_header(p)?;
        }
        Ok(headers)
    }

    /// Checks one program header against the file and the address space.
    fn check_program_header(&self, p: &ProgramHeader) -> Result<(), TranslateError> {
        let what = format!("program header {} ({})", p.index, segment_type_name(p.kind));
        // PT_GNU_STACK and PT_NULL describe no bytes; an empty range may point anywhere.
        let has_contents = p.kind != elf::PT_GNU_STACK && p.kind != elf::PT_NULL && p.filesz > 0;
        if has_contents && self.file_range(p.offset, p.filesz).is_none() {
            return Err(self.bad(format!(
                "{what}: contents at offset {:#x}, size {:#x} extend beyond the end of the file \
                 ({} bytes)",
                p.offset,
                p.filesz,
                self.data.len()
            )));
        }
        if p.kind != elf::PT_LOAD {
            return Ok(());
        }
        if p.filesz > p.memsz {
            return Err(self.bad(format!(
                "{what}: p_filesz {:#x} exceeds p_memsz {:#x}",
                p.filesz, p.memsz
            )));
        }
        if p.vaddr
            .checked_add(p.memsz)
            .is_none_or(|end| end > ADDRESS_LIMIT)
        {
            return Err(self.bad(format!(
                "{what}: address range {:#x} + {:#x} lies beyond the 47-bit user address space",
                p.vaddr, p.memsz
            )));
        }
        if p.align > 1 && (!p.align.is_power_of_two() || p.vaddr % p.align != p.offset % p.align) {
            return Err(self.bad(format!(
                "{what}: p_align {:#x} is not a power of two or p_vaddr {:#x} and p_offset {:#x} \
                 disagree modulo it",
                p.align, p.vaddr, p.offset
            )));
        }
        Ok(())
    }

    /// The `PT_INTERP` path, if any.
    fn interpreter(&self, headers: &[ProgramHeader]) -> Result<Option<String>, TranslateError> {
        let Some(p) = headers.iter().find(|p| p.kind == elf::PT_INTERP) else {
            return Ok(None);
        };
        if p.filesz > MAX_INTERP_LEN {
            return Err(self.bad(format!(
                "program header {} (PT_INTERP): interpreter path of {:#x} bytes is absurd",
                p.index, p.filesz
            )));
        }
        // Bounds were checked in check_program_header.
        let raw = self.file_range(p.offset, p.filesz).unwrap_or_default();
        let raw = raw.split(|&b| b == 0).next().unwrap_or_default();
        Ok(Some(String::from_utf8_lossy(raw).into_owned()))
    }

    /// Builds the `PT_LOAD` segments, checking order and overlap.
    fn load_segments(&self, headers: &[ProgramHeader]) -> Result<Vec<Segment>, TranslateError> {
        let loads: Vec<&ProgramHeader> = headers
            .iter()
            .filter(|p| p.kind == elf::PT_LOAD && p.memsz > 0)
            .collect();
        if loads.is_empty() {
            return Err(self.bad("no loadable segment (PT_LOAD with p_memsz > 0)"));
        }
        for pair in loads.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if b.vaddr < a.vaddr + a.memsz {
                return Err(self.bad(format!(
                    "program headers {} and {} (PT_LOAD) overlap or are out of order: \
                     [{:#x}, {:#x}) then [{:#x}, {:#x})",
                    a.index,
                    b.index,
                    a.vaddr,
                    a.vaddr + a.memsz,
                    b.vaddr,
                    b.vaddr + b.memsz
                )));
            }
        }
        Ok(loads
            .into_iter()
            .map(|p| Segment {
                index: p.index,
                vaddr: p.vaddr,
                memsz: p.memsz,
                flags: p.flags,
                align: p.align,
                offset: p.offset,
                bytes: self
                    .file_range(p.offset, p.filesz)
                    .unwrap_or_default()
                    .to_vec(),
            })
            .collect())
    }

    fn check_entry(&self, entry: u64, segments: &[Segment]) -> Result<(), TranslateError> {
        let ok = segments
            .iter()
            .any(|s| s.flags.execute && entry >= s.vaddr && entry - s.vaddr < s.bytes.len() as u64);
        if ok {
            return Ok(());
        }
        Err(self.bad(format!(
            "entry point {entry:#x} (e_entry at offset 24) is outside every executable segment"
        )))
    }

    /// `data[offset..offset + size]`, or `None` if that is outside the file.
    fn file_range(&self, offset: u64, size: u64) -> Option<&'a [u8]> {
        let start = usize::try_from(offset).ok()?;
        let end = start.checked_add(usize::try_from(size).ok()?)?;
        self.data.get(start..end)
    }
}

/// Where the program header table is in guest memory: `PT_PHDR`, else the
/// `PT_LOAD` whose file contents include it (as Linux computes `AT_PHDR`).
fn phdr_address(h: &RawHeader, headers: &[ProgramHeader]) -> Option<u64> {
    if let Some(p) = headers.iter().find(|p| p.kind == elf::PT_PHDR) {
        return Some(p.vaddr);
    }
    let table_end = h.phoff + u64::from(h.phnum) * PHDR_SIZE as u64;
    headers
        .iter()
        .find(|p| p.kind == elf::PT_LOAD && p.offset <= h.phoff && table_end <= p.offset + p.filesz)
        .map(|p| p.vaddr + (h.phoff - p.offset))
}

// ---------------------------------------------------------------------------
// Small helpers.

/// Reads a little-endian u16 at `at`; the caller has checked the bounds.
fn le16(d: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([d[at], d[at + 1]])
}

/// Reads a little-endian u32 at `at`; the caller has checked the bounds.
fn le32(d: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(d[at..at + 4].try_into().expect("4 bytes"))
}

/// Reads a little-endian u64 at `at`; the caller has checked the bounds.
fn le64(d: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(d[at..at + 8].try_into().expect("8 bytes"))
}

/// A readable name for common `e_machine` values in messages.
fn machine_name(machine: u16) -> String {
    let name = match machine {
        elf::EM_386 => "EM_386 (i386)",
        elf::EM_ARM => "EM_ARM (32-bit ARM)",
        elf::EM_MIPS => "EM_MIPS",
        elf::EM_PPC64 => "EM_PPC64",
        elf::EM_S390 => "EM_S390",
        elf::EM_SPARCV9 => "EM_SPARCV9",
        elf::EM_LOONGARCH => "EM_LOONGARCH",
        _ => return format!("{machine:#x}"),
    };
    name.to_string()
}

/// A readable name for a program header type in messages.
fn segment_type_name(kind: u32) -> String {
    let name = match kind {
        elf::PT_NULL => "PT_NULL",
        elf::PT_LOAD => "PT_LOAD",
        elf::PT_DYNAMIC => "PT_DYNAMIC",
        elf::PT_INTERP => "PT_INTERP",
        elf::PT_NOTE => "PT_NOTE",
        elf::PT_PHDR => "PT_PHDR",
        elf::PT_TLS => "PT_TLS",
        elf::PT_GNU_EH_FRAME => "PT_GNU_EH_FRAME",
        elf::PT_GNU_STACK => "PT_GNU_STACK",
        elf::PT_GNU_RELRO => "PT_GNU_RELRO",
        _ => return format!("type {kind:#x}"),
    };
    name.to_string()
}
