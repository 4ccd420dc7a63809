//! The entry point of AOT-packaged executables.
//!
//! An AOT executable links the translated object (which defines the
//! artifact symbols of `abi::artifact`: metadata header, entry table,
//! embedded guest image) with this runtime's staticlib built with the
//! `aot-entry` cargo feature; its `main` calls [`vmtrans_aot_main`].
//!
//! Why a feature and not `dlsym`: the symbols are plain data symbols of the
//! executable, not exported dynamically (and AOT executables may be static),
//! so `dlsym(RTLD_DEFAULT)` would not find them; and referencing undefined
//! statics from the rlib the CLI links would break the CLI's link. The
//! header check ([`check_header`]) is always compiled so it can be tested.

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

#[cfg(feature = "aot-entry")]
mod entry {
    use super::{check_header, options_from_env};
    use crate::dispatch::{AotEntry, AotTable};
    use crate::entry::{run_guest, START_FAILURE_STATUS};
    use std::ffi::{CStr, OsString};
    use std::os::raw::{c_char, c_int};
    use std::os::unix::ffi::OsStringExt;
    use std::sync::Arc;
    use vmtrans_abi::ArtifactHeader;

    extern "C" {
        static vmtrans_aot_meta: ArtifactHeader;
        static vmtrans_aot_table: [AotEntry; 0];
        static vmtrans_aot_table_len: u64;
        static vmtrans_aot_image: [u8; 0];
        static vmtrans_aot_image_len: u64;
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

    /// `main` of an AOT executable: checks the artifact, then runs the
    /// embedded guest with the host arguments and environment.
    ///
    /// # Safety
    /// Called once, from C `main`, with its arguments.
    #[no_mangle]
    pub unsafe extern "C" fn vmtrans_aot_main(
        argc: c_int,
        argv: *const *const c_char,
        envp: *const *const c_char,
    ) -> c_int {
        // SAFETY: the artifact object defines these symbols (see module docs).
        let header = unsafe { &vmtrans_aot_meta };
        if let Err(e) = check_header(header) {
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
        // SAFETY: the artifact's table and image, with their lengths.
        let (table, image) = unsafe {
            let table =
                AotTable::from_raw(vmtrans_aot_table.as_ptr(), vmtrans_aot_table_len as usize);
            let image = std::slice::from_raw_parts(
                vmtrans_aot_image.as_ptr(),
                vmtrans_aot_image_len as usize,
            );
            (table, image)
        };
        let guest_path = args
            .first()
            .map(|a| a.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut options = options_from_env();
        options.exe_path = std::fs::read_link("/proc/self/exe").ok();
        run_guest(image, &guest_path, &args, &env, Arc::new(table), &options)
    }
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
