//! `execve`: replacing the guest program, like qemu-user with binfmt_misc.
//!
//! The new program is classified by its first bytes:
//! - the host executable itself (an AOT-translated program naming
//!   `/proc/self/exe`, which is its own translated image) and anything the
//!   host kernel runs by itself (host ELF files, `#!` scripts, other
//!   formats) go to the host `execve` unchanged;
//! - a dynamically linked program of the host's ISA also goes to the host
//!   (vmtrans translates static programs only, and the host runs it as
//!   it is);
//! - an ELF file of a guest ISA vmtrans translates (the guest's own ISA, or
//!   any non-host ISA) is started through the guest runner of
//!   [`RunOptions::guest_runner`](crate::context::RunOptions), normally
//!   `vmtrans run`, keeping `argv[0]` and the environment.
//!
//! On success the host process is replaced and the call never returns; on
//! failure the guest gets the host's errno.

use std::ffi::{CString, OsString};
use std::io::Read;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use super::fs::guest_path;
use super::{Args, SysResult};
use crate::context::ThreadContext;
use crate::error::Errno;
use vmtrans_abi::Arch;

/// Most arguments or environment strings one `execve` may pass (Linux's
/// `MAX_ARG_STRINGS`).
const MAX_ARG_STRINGS: usize = 0x7fff_ffff;
/// Longest single argument or environment string (Linux's
/// `MAX_ARG_STRLEN`, 32 pages).
const MAX_ARG_STRLEN: usize = 32 * 4096;

/// How the host should start the program named in an `execve`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExecKind {
    /// The host kernel runs it as it is.
    Host,
    /// An ELF file of this guest ISA: run it translated.
    Guest(Arch),
}

/// The guest ISA of an ELF header, if vmtrans translates that machine.
pub fn elf_guest_arch(header: &[u8]) -> Option<Arch> {
    if header.len() < 20 || &header[..4] != b"\x7fELF" {
        return None;
    }
    match u16::from_le_bytes([header[18], header[19]]) {
        243 => Some(Arch::Riscv64),
        183 => Some(Arch::Aarch64),
        62 => Some(Arch::X86_64),
        _ => None,
    }
}

/// Classifies the program whose first bytes are `header` (its ELF header
/// and program headers when they fit) exec'd by a guest of ISA `guest`: a
/// static ELF file of the guest's ISA, and any ELF file of a non-host ISA,
/// runs translated; everything else (host programs, dynamically linked
/// host-ISA programs, scripts, unknown formats, unreadable files) is the
/// host kernel's business.
pub fn classify(header: &[u8], guest: Arch) -> ExecKind {
    match elf_guest_arch(header) {
        Some(Arch::X86_64) if guest != Arch::X86_64 || has_interpreter(header) => ExecKind::Host,
        Some(arch) => ExecKind::Guest(arch),
        None => ExecKind::Host,
    }
}

/// Whether the ELF64 file starting with `header` has a `PT_INTERP`
/// program header (is dynamically linked); false when the program headers
/// are not within `header`.
fn has_interpreter(header: &[u8]) -> bool {
    const PT_INTERP: u32 = 3;
    let u16_at = |at: usize| {
        header
            .get(at..at + 2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]))
    };
    let (Some(phoff), Some(entsize), Some(count)) = (
        header
            .get(32..40)
            .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")) as usize),
        u16_at(54),
        u16_at(56),
    ) else {
        return false;
    };
    (0..usize::from(count)).any(|i| {
        let at = phoff.saturating_add(i.saturating_mul(usize::from(entsize)));
        header
            .get(at..at.saturating_add(4))
            .is_some_and(|b| u32::from_le_bytes(b.try_into().expect("4 bytes")) == PT_INTERP)
    })
}

/// `execve(path, argv, envp)`.
pub(super) fn execve(ctx: &ThreadContext, a: &Args) -> SysResult {
    let path = guest_path(ctx, a.u(0))?;
    let argv = string_array(ctx, a.u(1))?;
    let envp = string_array(ctx, a.u(2))?;
    let kind = if is_host_self(&path) {
        ExecKind::Host
    } else {
        classify(&file_header(&path), ctx.process.arch)
    };
    let (program, host_argv) = match kind {
        ExecKind::Host => (path, argv),
        ExecKind::Guest(arch) => runner_command(ctx, arch, path, argv)?,
    };
    host_execve(&program, &host_argv, &envp)
}

/// Whether `path` is the host executable this process runs (an AOT
/// executable exec'ing its own image through `/proc/self/exe`).
fn is_host_self(path: &CString) -> bool {
    let target = Path::new(std::ffi::OsStr::from_bytes(path.as_bytes()));
    match (
        std::fs::canonicalize(target),
        std::fs::read_link("/proc/self/exe"),
    ) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// How much of a program [`classify`] reads: the ELF header and, in
/// practice, the program headers.
const HEADER_BYTES: u64 = 4096;

/// The first [`HEADER_BYTES`] of the file (fewer, or none, when it is
/// shorter or unreadable: the host `execve` then reports the error).
fn file_header(path: &CString) -> Vec<u8> {
    let mut buf = Vec::new();
    if let Ok(f) = std::fs::File::open(std::ffi::OsStr::from_bytes(path.as_bytes())) {
        let _ = f.take(HEADER_BYTES).read_to_end(&mut buf);
    }
    buf
}

/// The host command that runs guest program `path` (of ISA `arch`) with
/// guest arguments `argv`: the runner, `--argv0 ARGV0`, the program, `--`
/// and the other arguments.
fn runner_command(
    ctx: &ThreadContext,
    arch: Arch,
    path: CString,
    argv: Vec<CString>,
) -> Result<(CString, Vec<CString>), Errno> {
    let Some(runner) = ctx.process.options.guest_runner.as_ref() else {
        ctx.process.report_once(format!(
            "vmtrans: execve of the {arch} program {} needs vmtrans to run it, and none was \
             found (put `vmtrans` on PATH) \u{2014} returning ENOEXEC",
            path.to_string_lossy()
        ));
        return Err(Errno::ENOEXEC);
    };
    let mut out: Vec<CString> = runner.iter().map(|s| os_cstring(s.clone())).collect();
    let argv0 = argv.first().cloned().unwrap_or_else(|| path.clone());
    out.push(CString::new("--argv0").expect("no NUL"));
    out.push(argv0);
    out.push(path);
    out.push(CString::new("--").expect("no NUL"));
    out.extend(argv.into_iter().skip(1));
    Ok((out[0].clone(), out))
}

/// An OS string as a C string (host strings never hold NUL).
fn os_cstring(s: OsString) -> CString {
    CString::new(s.into_vec()).expect("host strings hold no NUL")
}

/// Reads a NULL-terminated guest array of string pointers (NULL itself is
/// an empty array, as Linux accepts).
fn string_array(ctx: &ThreadContext, addr: u64) -> Result<Vec<CString>, Errno> {
    let mut out = Vec::new();
    if addr == 0 {
        return Ok(out);
    }
    for i in 0..MAX_ARG_STRINGS as u64 {
        let ptr = ctx.process.mem.read_u64(addr + 8 * i)?;
        if ptr == 0 {
            return Ok(out);
        }
        let s = ctx.process.mem.read_cstring(ptr, MAX_ARG_STRLEN)?;
        out.push(CString::new(s).map_err(|_| Errno::EINVAL)?);
    }
    Err(Errno::E2BIG)
}

/// The host `execve`; returns only on failure.
fn host_execve(program: &CString, argv: &[CString], envp: &[CString]) -> SysResult {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    let _ = std::io::stderr().flush();
    let ptrs = |v: &[CString]| -> Vec<*const libc::c_char> {
        v.iter()
            .map(|s| s.as_ptr())
            .chain(std::iter::once(std::ptr::null()))
            .collect()
    };
    let (argv, envp) = (ptrs(argv), ptrs(envp));
    // SAFETY: NUL-terminated strings and NULL-terminated arrays that live
    // across the call.
    unsafe { libc::execve(program.as_ptr(), argv.as_ptr(), envp.as_ptr()) };
    Err(Errno(
        std::io::Error::last_os_error()
            .raw_os_error()
            .unwrap_or(libc::EIO),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf(machine: u16) -> Vec<u8> {
        let mut h = vec![0u8; 64];
        h[..4].copy_from_slice(b"\x7fELF");
        h[18..20].copy_from_slice(&machine.to_le_bytes());
        h
    }

    #[test]
    fn guest_isa_elf_runs_translated() {
        assert_eq!(
            classify(&elf(183), Arch::Aarch64),
            ExecKind::Guest(Arch::Aarch64)
        );
        assert_eq!(
            classify(&elf(62), Arch::X86_64),
            ExecKind::Guest(Arch::X86_64)
        );
        // Another foreign ISA is translated too, as binfmt_misc would.
        assert_eq!(
            classify(&elf(243), Arch::Aarch64),
            ExecKind::Guest(Arch::Riscv64)
        );
    }

    #[test]
    fn dynamic_host_isa_programs_run_natively() {
        // One program header at 64: PT_INTERP, then PT_LOAD.
        let mut h = elf(62);
        h[32..40].copy_from_slice(&64u64.to_le_bytes());
        h[54..56].copy_from_slice(&56u16.to_le_bytes());
        h[56..58].copy_from_slice(&2u16.to_le_bytes());
        h.resize(64 + 2 * 56, 0);
        h[64 + 56..64 + 60].copy_from_slice(&1u32.to_le_bytes());
        assert_eq!(classify(&h, Arch::X86_64), ExecKind::Guest(Arch::X86_64));
        h[64..68].copy_from_slice(&3u32.to_le_bytes());
        assert_eq!(classify(&h, Arch::X86_64), ExecKind::Host);
        // A dynamic aarch64 program still goes to vmtrans, which says
        // clearly that it cannot run it.
        h[18..20].copy_from_slice(&183u16.to_le_bytes());
        assert_eq!(classify(&h, Arch::X86_64), ExecKind::Guest(Arch::Aarch64));
    }

    #[test]
    fn host_programs_go_to_the_kernel() {
        assert_eq!(classify(&elf(62), Arch::Aarch64), ExecKind::Host);
        assert_eq!(classify(b"#!/bin/sh\n", Arch::Aarch64), ExecKind::Host);
        assert_eq!(classify(&elf(8), Arch::Riscv64), ExecKind::Host);
        assert_eq!(classify(b"", Arch::Riscv64), ExecKind::Host);
    }
}
