//! Mapping the guest ELF image and building the initial process stack.
//!
//! Only the ELF header and program headers are read (by hand: the runtime
//! does not depend on the translator). Static executables (`ET_EXEC`) and
//! static-PIE (`ET_DYN` without `PT_INTERP`) are supported; the stack is
//! laid out exactly as Linux's `create_elf_tables` does for a static
//! binary.

use crate::arch::ArchOps;
use crate::error::{Errno, RuntimeError};
use crate::mmu::{page_down, page_up, prot, Backing, GuestMemory, Placement, PAGE_SIZE};
use vmtrans_abi::Arch;

/// Top of the guest stack: the end of the riscv64 sv39 user address space
/// (256 GiB), where Linux puts it on such hardware.
pub const STACK_TOP: u64 = 1 << 38;
/// Linux keeps top-down mmaps at least this far below the stack top.
const MIN_MMAP_GAP: u64 = 128 << 20;
/// Linux's `stack_guard_gap` (256 pages).
const STACK_GUARD_GAP: u64 = 256 * PAGE_SIZE;

/// ELF program header types and flags used here.
mod elf {
    pub const ET_EXEC: u16 = 2;
    pub const ET_DYN: u16 = 3;
    pub const PT_LOAD: u32 = 1;
    pub const PT_INTERP: u32 = 3;
    pub const PT_PHDR: u32 = 6;
    pub const PF_X: u32 = 1;
    pub const PF_W: u32 = 2;
    pub const PF_R: u32 = 4;
    pub const EM_X86_64: u16 = 62;
    pub const EM_AARCH64: u16 = 183;
    pub const EM_RISCV: u16 = 243;
    pub const EHDR_SIZE: usize = 64;
    pub const PHDR_SIZE: usize = 56;
}

/// Auxiliary vector keys.
pub mod auxv {
    /// End of the vector.
    pub const AT_NULL: u64 = 0;
    /// Address of the program headers.
    pub const AT_PHDR: u64 = 3;
    /// Size of one program header.
    pub const AT_PHENT: u64 = 4;
    /// Number of program headers.
    pub const AT_PHNUM: u64 = 5;
    /// Page size.
    pub const AT_PAGESZ: u64 = 6;
    /// Interpreter base (0 for static programs).
    pub const AT_BASE: u64 = 7;
    /// Flags (0).
    pub const AT_FLAGS: u64 = 8;
    /// Program entry point.
    pub const AT_ENTRY: u64 = 9;
    /// Real uid.
    pub const AT_UID: u64 = 11;
    /// Effective uid.
    pub const AT_EUID: u64 = 12;
    /// Real gid.
    pub const AT_GID: u64 = 13;
    /// Effective gid.
    pub const AT_EGID: u64 = 14;
    /// Platform string.
    pub const AT_PLATFORM: u64 = 15;
    /// Hardware capabilities.
    pub const AT_HWCAP: u64 = 16;
    /// Clock ticks per second.
    pub const AT_CLKTCK: u64 = 17;
    /// Secure mode (0).
    pub const AT_SECURE: u64 = 23;
    /// Address of 16 random bytes.
    pub const AT_RANDOM: u64 = 25;
    /// Name the program was executed as.
    pub const AT_EXECFN: u64 = 31;
}

/// One `PT_LOAD` segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    /// Virtual address (before any load bias).
    pub vaddr: u64,
    /// Size in memory.
    pub memsz: u64,
    /// File offset.
    pub offset: u64,
    /// Size in the file.
    pub filesz: u64,
    /// `PF_*` flags.
    pub flags: u32,
}

/// What the runtime needs from an ELF file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfInfo {
    /// Guest architecture (from `e_machine`).
    pub arch: Arch,
    /// Position independent (`ET_DYN`).
    pub pie: bool,
    /// Entry point (before any load bias).
    pub entry: u64,
    /// `e_phoff`.
    pub phoff: u64,
    /// `e_phentsize`.
    pub phentsize: u64,
    /// `e_phnum`.
    pub phnum: u64,
    /// `PT_PHDR`'s address, if present.
    pub phdr_vaddr: Option<u64>,
    /// The `PT_LOAD` segments in file order.
    pub segments: Vec<Segment>,
}

fn bad(path: &str, reason: impl Into<String>) -> RuntimeError {
    RuntimeError::BadElf {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn unsupported(path: &str, reason: impl Into<String>) -> RuntimeError {
    RuntimeError::UnsupportedElf {
        path: path.to_string(),
        reason: reason.into(),
    }
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes(b[at..at + 2].try_into().expect("2 bytes"))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

/// Parses the ELF header and program headers of `bytes`.
pub fn parse_elf(bytes: &[u8], path: &str) -> Result<ElfInfo, RuntimeError> {
    if bytes.len() < elf::EHDR_SIZE || bytes[..4] != *b"\x7fELF" {
        return Err(bad(path, "no ELF magic"));
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        return Err(unsupported(
            path,
            format!(
                "class {} data {}: only 64-bit little-endian",
                bytes[4], bytes[5]
            ),
        ));
    }
    let e_type = u16_at(bytes, 16);
    let arch = match u16_at(bytes, 18) {
        elf::EM_RISCV => Arch::Riscv64,
        elf::EM_AARCH64 => Arch::Aarch64,
        elf::EM_X86_64 => Arch::X86_64,
        m => return Err(unsupported(path, format!("machine {m}"))),
    };
    if e_type != elf::ET_EXEC && e_type != elf::ET_DYN {
        return Err(unsupported(
            path,
            format!("ELF type {e_type}: not an executable"),
        ));
    }
    let (phoff, phentsize, phnum) = (
        u64_at(bytes, 32),
        u16_at(bytes, 54) as u64,
        u16_at(bytes, 56) as u64,
    );
    if phentsize as usize != elf::PHDR_SIZE {
        return Err(bad(path, format!("program header size {phentsize}")));
    }
    let table_end = phoff
        .checked_add(phnum * phentsize)
        .filter(|&e| e <= bytes.len() as u64);
    if table_end.is_none() {
        return Err(bad(
            path,
            format!("program headers at {phoff:#x} ({phnum} entries) run past the file end"),
        ));
    }
    let mut info = ElfInfo {
        arch,
        pie: e_type == elf::ET_DYN,
        entry: u64_at(bytes, 24),
        phoff,
        phentsize,
        phnum,
        phdr_vaddr: None,
        segments: Vec::new(),
    };
    for i in 0..phnum as usize {
        let ph = &bytes[phoff as usize + i * elf::PHDR_SIZE..][..elf::PHDR_SIZE];
        match u32_at(ph, 0) {
            elf::PT_LOAD => info
                .segments
                .push(parse_segment(ph, bytes.len() as u64, path)?),
            elf::PT_INTERP => {
                return Err(unsupported(
                    path,
                    "dynamically linked (PT_INTERP): only static executables run so far",
                ))
            }
            elf::PT_PHDR => info.phdr_vaddr = Some(u64_at(ph, 16)),
            _ => {}
        }
    }
    if info.segments.is_empty() {
        return Err(bad(path, "no PT_LOAD segment"));
    }
    Ok(info)
}

fn parse_segment(ph: &[u8], file_len: u64, path: &str) -> Result<Segment, RuntimeError> {
    let seg = Segment {
        flags: u32_at(ph, 4),
        offset: u64_at(ph, 8),
        vaddr: u64_at(ph, 16),
        filesz: u64_at(ph, 32),
        memsz: u64_at(ph, 40),
    };
    if seg.filesz > seg.memsz {
        return Err(bad(
            path,
            format!(
                "segment at {:#x}: file size {:#x} > memory size {:#x}",
                seg.vaddr, seg.filesz, seg.memsz
            ),
        ));
    }
    if seg
        .offset
        .checked_add(seg.filesz)
        .is_none_or(|end| end > file_len)
    {
        return Err(bad(
            path,
            format!("segment at {:#x} reads past the file end", seg.vaddr),
        ));
    }
    if seg.vaddr % PAGE_SIZE != seg.offset % PAGE_SIZE {
        return Err(bad(
            path,
            format!(
                "segment at {:#x}: address and offset {:#x} disagree modulo the page size",
                seg.vaddr, seg.offset
            ),
        ));
    }
    Ok(seg)
}

fn guest_prot(flags: u32) -> u32 {
    [
        (elf::PF_R, prot::READ),
        (elf::PF_W, prot::WRITE),
        (elf::PF_X, prot::EXEC),
    ]
    .iter()
    .filter(|(f, _)| flags & f != 0)
    .fold(0, |acc, (_, p)| acc | p)
}

/// A mapped image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    /// Entry point (load bias applied).
    pub entry: u64,
    /// Added to every address of the file (0 for `ET_EXEC`).
    pub bias: u64,
    /// Guest address of the program headers (`AT_PHDR`).
    pub phdr: u64,
    /// `AT_PHENT`.
    pub phent: u64,
    /// `AT_PHNUM`.
    pub phnum: u64,
    /// Lowest mapped address.
    pub start: u64,
    /// End of the highest segment (the brk area starts at its page end).
    pub end: u64,
}

/// Maps the `PT_LOAD` segments of `bytes` into `mem` (static-PIE at
/// `pie_base`), copies their file contents (bss stays zero), applies the
/// segment protections and sets up the brk area after the image.
pub fn map_image(
    mem: &GuestMemory,
    info: &ElfInfo,
    bytes: &[u8],
    path: &str,
    pie_base: u64,
) -> Result<LoadedImage, RuntimeError> {
    let lowest = info
        .segments
        .iter()
        .map(|s| page_down(s.vaddr))
        .min()
        .expect("at least one segment");
    let bias = if info.pie {
        pie_base.wrapping_sub(lowest)
    } else {
        0
    };
    let mut end = 0;
    for seg in &info.segments {
        let (start, stop) = (
            page_down(seg.vaddr.wrapping_add(bias)),
            page_up(seg.vaddr.wrapping_add(bias).wrapping_add(seg.memsz)),
        );
        if stop <= start || stop > crate::mmu::GUEST_SPACE || start < PAGE_SIZE {
            return Err(bad(
                path,
                format!(
                    "segment at {:#x}+{:#x} is outside the guest address space",
                    seg.vaddr, seg.memsz
                ),
            ));
        }
        map_missing_pages(mem, start, stop, path)?;
        let data = &bytes[seg.offset as usize..(seg.offset + seg.filesz) as usize];
        mem.poke(seg.vaddr + bias, data)
            .map_err(|errno| memory_error("copy", seg.vaddr + bias, seg.filesz, errno))?;
        end = end.max(seg.vaddr + bias + seg.memsz);
    }
    for seg in &info.segments {
        let start = page_down(seg.vaddr + bias);
        let len = page_up(seg.vaddr + bias + seg.memsz) - start;
        mem.protect(start, len, guest_prot(seg.flags))
            .map_err(|errno| memory_error("mprotect", start, len, errno))?;
    }
    name_regions(mem, lowest + bias, page_up(end), path);
    mem.init_brk(end);
    Ok(LoadedImage {
        entry: info.entry.wrapping_add(bias),
        bias,
        phdr: phdr_address(info).wrapping_add(bias),
        phent: info.phentsize,
        phnum: info.phnum,
        start: lowest + bias,
        end,
    })
}

fn memory_error(op: &'static str, addr: u64, len: u64, errno: Errno) -> RuntimeError {
    RuntimeError::Memory {
        op,
        addr,
        end: addr + len,
        errno,
    }
}

/// Maps (read-write for now) the pages of `start..stop` not mapped yet.
fn map_missing_pages(
    mem: &GuestMemory,
    start: u64,
    stop: u64,
    path: &str,
) -> Result<(), RuntimeError> {
    let mut page = start;
    while page < stop {
        let mapped = mem.map().find(page).map(|r| r.end().min(stop));
        match mapped {
            Some(next) => page = next,
            None => {
                let free_end = (page..stop)
                    .step_by(PAGE_SIZE as usize)
                    .find(|&p| mem.map().find(p).is_some())
                    .unwrap_or(stop);
                mem.map_fixed(page, free_end - page, prot::RW, path)
                    .map_err(|errno| memory_error("mmap", page, free_end - page, errno))?;
                page = free_end;
            }
        }
    }
    Ok(())
}

fn name_regions(mem: &GuestMemory, start: u64, end: u64, path: &str) {
    let mut map = mem.map();
    let pieces = map.remove(start, end - start);
    for piece in pieces {
        map.insert(crate::mmu::Region {
            name: path.to_string(),
            ..piece
        });
    }
}

/// `AT_PHDR` before the bias: `PT_PHDR`, else where the segment holding
/// `e_phoff` puts it, else Linux's guess from the first segment.
fn phdr_address(info: &ElfInfo) -> u64 {
    if let Some(v) = info.phdr_vaddr {
        return v;
    }
    let holding = info
        .segments
        .iter()
        .find(|s| s.offset <= info.phoff && info.phoff < s.offset + s.filesz);
    let seg = holding.unwrap_or(&info.segments[0]);
    seg.vaddr - seg.offset + info.phoff
}

/// Everything the initial stack holds.
pub struct StackContents<'a> {
    /// Arguments (`argv[0]` first).
    pub argv: &'a [Vec<u8>],
    /// Environment (`NAME=value`).
    pub envp: &'a [Vec<u8>],
    /// `AT_EXECFN`: the program path as executed.
    pub execfn: &'a [u8],
    /// The 16 bytes `AT_RANDOM` points to.
    pub random: [u8; 16],
}

/// Maps the stack (`size` bytes below [`STACK_TOP`]), sets the mmap base
/// below it and writes argc, argv, envp, auxv and the strings as Linux
/// does; returns the initial stack pointer (16-byte aligned, at argc).
pub fn build_stack(
    mem: &GuestMemory,
    ops: &dyn ArchOps,
    image: &LoadedImage,
    size: u64,
    contents: &StackContents<'_>,
) -> Result<u64, RuntimeError> {
    let size = page_up(size.max(16 * PAGE_SIZE));
    let bottom = STACK_TOP - size;
    mem.map_fixed(bottom, size, prot::RW, "[stack]")
        .map_err(|errno| memory_error("mmap", bottom, size, errno))?;
    mem.set_mmap_base(STACK_TOP - size.max(MIN_MMAP_GAP) - STACK_GUARD_GAP);

    // Strings, ascending: argv strings, envp strings, execfn, 8-byte end marker.
    let mut strings = Vec::new();
    let mut offsets = Vec::new();
    for s in contents.argv.iter().chain(contents.envp) {
        offsets.push(strings.len() as u64);
        strings.extend_from_slice(s);
        strings.push(0);
    }
    let execfn_off = strings.len() as u64;
    strings.extend_from_slice(contents.execfn);
    strings.push(0);
    let strings_at = STACK_TOP - 8 - strings.len() as u64;

    let mut p = strings_at & !15;
    let platform = ops.platform().map(|s| {
        p -= s.len() as u64 + 1;
        (p, s)
    });
    p -= 16;
    let random_at = p;

    let auxv = auxv_entries(
        ops,
        image,
        random_at,
        strings_at + execfn_off,
        platform.map(|(a, _)| a),
    );
    let (argc, envc) = (contents.argv.len() as u64, contents.envp.len() as u64);
    let words = 1 + argc + 1 + envc + 1 + 2 * auxv.len() as u64;
    let sp = (p - words * 8) & !15;
    if STACK_TOP - sp > size / 4 * 3 {
        return Err(RuntimeError::StackTooSmall {
            needed: STACK_TOP - sp,
            available: size,
        });
    }

    let mut table = Vec::with_capacity(words as usize);
    table.push(argc);
    table.extend(offsets[..argc as usize].iter().map(|o| strings_at + o));
    table.push(0);
    table.extend(offsets[argc as usize..].iter().map(|o| strings_at + o));
    table.push(0);
    table.extend(auxv.iter().flat_map(|&(k, v)| [k, v]));
    let table: Vec<u8> = table.iter().flat_map(|w| w.to_le_bytes()).collect();

    let write = |at: u64, data: &[u8]| {
        mem.write(at, data)
            .map_err(|errno| memory_error("write", at, data.len() as u64, errno))
    };
    write(strings_at, &strings)?;
    write(random_at, &contents.random)?;
    if let Some((at, s)) = platform {
        write(at, s.as_bytes())?;
    }
    write(sp, &table)?;
    Ok(sp)
}

/// The auxiliary vector in Linux's order, ending with `AT_NULL`.
fn auxv_entries(
    ops: &dyn ArchOps,
    image: &LoadedImage,
    random: u64,
    execfn: u64,
    platform: Option<u64>,
) -> Vec<(u64, u64)> {
    use auxv::*;
    // SAFETY: the id getters cannot fail.
    let (uid, euid, gid, egid) = unsafe {
        (
            libc::getuid(),
            libc::geteuid(),
            libc::getgid(),
            libc::getegid(),
        )
    };
    let mut v = vec![
        (AT_HWCAP, ops.hwcap()),
        (AT_PAGESZ, PAGE_SIZE),
        (AT_CLKTCK, 100),
        (AT_PHDR, image.phdr),
        (AT_PHENT, image.phent),
        (AT_PHNUM, image.phnum),
        (AT_BASE, 0),
        (AT_FLAGS, 0),
        (AT_ENTRY, image.entry),
        (AT_UID, uid as u64),
        (AT_EUID, euid as u64),
        (AT_GID, gid as u64),
        (AT_EGID, egid as u64),
        (AT_SECURE, 0),
        (AT_RANDOM, random),
        (AT_EXECFN, execfn),
    ];
    if let Some(p) = platform {
        v.push((AT_PLATFORM, p));
    }
    v.push((AT_NULL, 0));
    v
}

/// Maps the signal-return trampoline page (read + execute) and returns its
/// address.
pub fn map_sigtramp(mem: &GuestMemory, ops: &dyn ArchOps) -> Result<u64, RuntimeError> {
    let code = ops.sigreturn_trampoline();
    let fill = |host: *mut u8| {
        // SAFETY: the page is freshly mapped writable and larger than the code.
        unsafe { std::ptr::copy_nonoverlapping(code.as_ptr(), host, code.len()) };
        Ok(())
    };
    mem.allocate(
        Placement::Anywhere,
        PAGE_SIZE,
        prot::READ | prot::EXEC,
        "[sigtramp]",
        Backing::Fill(&fill),
    )
    .map_err(|errno| memory_error("mmap", 0, PAGE_SIZE, errno))
}
