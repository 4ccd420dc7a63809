//! `vmtrans_aot_main`: the entry point an AOT executable's `main` calls.

use std::os::raw::{c_char, c_int};
use std::sync::Arc;

use vmtrans_runtime::aot::{run_aot, Artifact};
use vmtrans_runtime::dispatch::AotEntry;
use vmtrans_runtime::CodeProvider;
use vmtrans_translator::lifter_for;
use vmtrans_translator::loader::GuestImage;

use crate::jit::{DiscoveryScope, JitProvider};

/// Runs the guest embedded in this executable (see
/// `vmtrans_abi::artifact::AOT_MAIN_SYMBOL` for the contract): translated
/// code from the entry table, everything else through the JIT.
///
/// # Safety
/// Called once by the artifact's C `main` with its arguments and the
/// addresses of the artifact's own data.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn vmtrans_aot_main(
    argc: c_int,
    argv: *const *const c_char,
    envp: *const *const c_char,
    meta: *const vmtrans_abi::ArtifactHeader,
    table: *const AotEntry,
    table_len: u64,
    image: *const u8,
    image_len: u64,
) -> c_int {
    let artifact = Artifact {
        meta,
        table,
        table_len,
        image,
        image_len,
    };
    let verbose = std::env::var_os("VMTRANS_VERBOSE").is_some_and(|v| v != "0");
    // SAFETY: forwarded from C main and the artifact, per this function's contract.
    unsafe {
        run_aot(argc, argv, envp, artifact, |bytes| {
            jit_fallback(bytes, verbose)
        })
    }
}

/// The JIT over the embedded guest image, for code the table lacks.
fn jit_fallback(bytes: &'static [u8], verbose: bool) -> Option<Arc<dyn CodeProvider>> {
    let image = match GuestImage::from_bytes("<embedded guest>", bytes) {
        Ok(image) => image,
        Err(e) => {
            eprintln!("vmtrans: the embedded guest image does not load, no JIT fallback: {e}");
            return None;
        }
    };
    let lifter = lifter_for(image.arch).ok()?;
    match JitProvider::new(
        Arc::new(image),
        lifter,
        DiscoveryScope::PerFunction,
        verbose,
    ) {
        Ok(jit) => Some(Arc::new(jit)),
        Err(e) => {
            eprintln!("vmtrans: no JIT fallback: {e}");
            None
        }
    }
}
