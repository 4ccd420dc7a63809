//! Code generated and patched at run time, through `vmtrans run`: the
//! `selfmod` guest (an mmap-ed JIT-style buffer patched in place, W^X
//! regeneration, unmap/remap) and `rv64_atomic` (stores an instruction,
//! `fence.i`, calls it) must behave as on Linux.

use std::path::{Path, PathBuf};
use std::process::Command;

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite")
}

/// Runs the riscv64 fixture `name` in a scratch directory and compares its
/// stdout and exit status with the recorded references. Fixtures that are
/// not built (only `-O2` ones are committed) are skipped with a note.
fn check(name: &str) {
    let guest = suite().join("fixtures/riscv64").join(name);
    if !guest.exists() {
        eprintln!("skipping {name}: {} is not built", guest.display());
        return;
    }
    let expected = |ext: &str| {
        let path = suite().join(format!("expected/riscv64/{name}.{ext}"));
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    let dir = std::env::temp_dir().join(format!("vmtrans-selfmod-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch directory");
    let out = Command::new(env!("CARGO_BIN_EXE_vmtrans"))
        .arg("run")
        .arg(&guest)
        .current_dir(&dir)
        .env_clear()
        .output()
        .expect("vmtrans runs");
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        stdout,
        expected("stdout"),
        "{name} stdout; stderr:\n{stderr}"
    );
    let status = expected("status");
    assert_eq!(
        format!("exit {}", out.status.code().unwrap_or(-1)),
        status.trim(),
        "{name} exit status; stderr:\n{stderr}"
    );
}

#[test]
fn selfmod_o2() {
    check("selfmod-O2");
}

#[test]
fn selfmod_o0() {
    check("selfmod-O0");
}

#[test]
fn rv64_atomic_fence_i() {
    check("rv64_atomic-O2");
}
