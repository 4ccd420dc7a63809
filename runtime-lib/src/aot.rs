//! The entry point of AOT-packaged executables.
//!
//! An AOT executable links the translated object (metadata header, entry
//! table, embedded guest image, a C `main`) with the runtime. Its `main`
//! passes the addresses of that data to the `vmtrans_aot_main` entry point
//! (defined by the CLI's library, which adds the JIT as fallback), which
//! calls [`run_aot`]. The runtime references no artifact symbol, so the same
//! library links into the `vmtrans` binary unchanged.

use crate::error::RuntimeError;
use vmtrans_abi::{artifact, Arch, ArtifactHeader, ABI_VERSION};

/// Checks the artifact metadata header: magic, format version, ABI
/// version and architecture. Returns the guest architecture.
pub fn check_header(h: &ArtifactHeader) -> Result<Arch, RuntimeError> {
    if h.magic != artifact::MAGIC {
        return Err(RuntimeError::Artifact(format!(
            "bad metadata magic {:02x?} (expected {:02x?})",
            h.magic,
            artifact::MAGIC
        )));
    }
    if h.format_version != artifact::FORMAT_VERSION {
        return Err(RuntimeError::Artifact(format!(
            "artifact format version {} but this runtime reads version {}; rebuild with a matching vmtrans",
            h.format_version,
            artifact::FORMAT_VERSION
        )));
    }
    if h.abi_version != ABI_VERSION {
        return Err(RuntimeError::Artifact(format!(
            "translated code uses ABI version {} but this runtime implements version {}; rebuild with a matching vmtrans",
            h.abi_version, ABI_VERSION
        )));
    }
    Arch::from_number(h.arch).ok_or_else(|| {
        RuntimeError::Artifact(format!("unknown guest architecture number {}", h.arch))
    })
}

/// Runtime options of an AOT executable, from the environment:
/// `VMTRANS_STRICT=1` stops at unsupported system calls,
/// `VMTRANS_TRACE_SYSCALLS=1` prints each system call.
pub fn options_from_env() -> crate::context::RunOptions {
    let on = |name: &str| std::env::var_os(name).is_some_and(|v| !v.is_empty() && v != "0");
    crate::context::RunOptions {
        strict: on("VMTRANS_STRICT"),
        trace_syscalls: on("VMTRANS_TRACE_SYSCALLS"),
        ..Default::default()
    }
}

use std::ffi::{CStr, OsString};
use std::os::raw::{c_char, c_int};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::sync::Arc;

use crate::dispatch::{AotEntry, AotTable, ChainProvider, CodeProvider};
use crate::entry::{run_guest, START_FAILURE_STATUS};

/// The runner for guest programs an AOT executable `execve`s (other than
/// itself): `vmtrans run` from the host `PATH`, with this run's options;
/// `None` when no `vmtrans` is on `PATH`.
fn path_runner(options: &crate::context::RunOptions) -> Option<Vec<OsString>> {
    let vmtrans = find_on_path("vmtrans", &std::env::var_os("PATH")?)?;
    let mut cmd = vec![vmtrans.into_os_string(), OsString::from("run")];
    if options.strict {
        cmd.push(OsString::from("--strict"));
    }
    if options.trace_syscalls {
        cmd.push(OsString::from("--trace-syscalls"));
    }
    Some(cmd)
}

/// The first executable file `name` in the directories of `path_list`.
fn find_on_path(name: &str, path_list: &std::ffi::OsStr) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path_list)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Collects a NULL-terminated C string array.
///
/// # Safety
/// `list` is NULL or a NULL-terminated array of C strings.
unsafe fn strings(list: *const *const c_char, limit: usize) -> Vec<OsString> {
    let mut out = Vec::new();
    if list.is_null() {
        return out;
    }
    for i in 0..limit {
        // SAFETY: per the contract, entries up to the NULL are valid.
        let p = unsafe { *list.add(i) };
        if p.is_null() {
            break;
        }
        // SAFETY: a valid C string.
        out.push(OsString::from_vec(
            unsafe { CStr::from_ptr(p) }.to_bytes().to_vec(),
        ));
    }
    out
}

/// The artifact an AOT executable carries, as its `main` passes it.
#[derive(Clone, Copy, Debug)]
pub struct Artifact {
    /// The metadata header.
    pub meta: *const vmtrans_abi::ArtifactHeader,
    /// The entry table.
    pub table: *const AotEntry,
    /// Entries in the table.
    pub table_len: u64,
    /// The embedded guest ELF.
    pub image: *const u8,
    /// Its length in bytes.
    pub image_len: u64,
}

/// Runs an AOT executable's guest: checks the artifact header, then runs the
/// embedded image with the host arguments and environment, looking code up
/// in the entry table first and in the `fallback` provider (the JIT, made
/// from the guest image) for code not translated ahead of time.
///
/// # Safety
/// `argc`/`argv`/`envp` are C `main`'s arguments; `artifact` points at the
/// executable's own artifact data (see `abi::artifact::AOT_MAIN_SYMBOL`).
pub unsafe fn run_aot(
    argc: c_int,
    argv: *const *const c_char,
    envp: *const *const c_char,
    artifact: Artifact,
    fallback: impl FnOnce(&'static [u8]) -> Option<Arc<dyn CodeProvider>>,
) -> c_int {
    // SAFETY: the artifact header is static data of the executable.
    if let Err(e) = check_header(unsafe { &*artifact.meta }) {
        eprintln!("vmtrans: {e}");
        return START_FAILURE_STATUS;
    }
    // SAFETY: C main's arguments.
    let (args, env) = unsafe {
        (
            strings(argv, argc.max(0) as usize),
            strings(envp, usize::MAX),
        )
    };
    // SAFETY: the artifact's table and image with their lengths; static data.
    let (table, image) = unsafe {
        (
            AotTable::from_raw(artifact.table, artifact.table_len as usize),
            std::slice::from_raw_parts(artifact.image, artifact.image_len as usize),
        )
    };
    let mut providers: Vec<Arc<dyn CodeProvider>> = vec![Arc::new(table)];
    providers.extend(fallback(image));
    let guest_path = args
        .first()
        .map(|a| a.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut options = options_from_env();
    options.exe_path = std::fs::read_link("/proc/self/exe").ok();
    options.guest_runner = path_runner(&options);
    run_guest(
        image,
        &guest_path,
        &args,
        &env,
        Arc::new(ChainProvider::new(providers)),
        &options,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn good() -> ArtifactHeader {
        ArtifactHeader {
            magic: artifact::MAGIC,
            format_version: artifact::FORMAT_VERSION,
            abi_version: ABI_VERSION,
            arch: 0,
            reserved: 0,
        }
    }

    #[test]
    fn header_checks() {
        assert_eq!(check_header(&good()).unwrap(), Arch::Riscv64);
        let msg = |h| check_header(&h).unwrap_err().to_string();
        assert!(msg(ArtifactHeader {
            magic: *b"NOTVMTRN",
            ..good()
        })
        .contains("magic"));
        assert!(msg(ArtifactHeader {
            format_version: 99,
            ..good()
        })
        .contains("format version 99"));
        assert!(msg(ArtifactHeader {
            abi_version: 99,
            ..good()
        })
        .contains("ABI version 99"));
        assert!(msg(ArtifactHeader { arch: 7, ..good() }).contains("architecture number 7"));
    }
}
