//! Shared helpers for the vmtrans test suites: golden-file comparison with a
//! bless switch, and paths into the test suite.

pub mod conformance;

use std::path::{Path, PathBuf};

/// The `testsuite/` directory.
pub fn suite_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

/// Makes sure `libvmtrans.a` (the library `vmtrans translate` links into
/// AOT executables) sits next to the `vmtrans` binary under test: `cargo
/// test` builds the CLI's library only as an rlib, so build the staticlib with
/// `cargo` (the build lock is free while tests run). `cargo` is the cargo that
/// runs the tests.
pub fn ensure_runtime_library(vmtrans: &Path, cargo: &str) -> Result<(), String> {
    // Always ask cargo: it is a no-op when the library is fresh, and a
    // stale library would test old runtime code in the AOT executables.
    let lib = vmtrans.with_file_name("libvmtrans.a");
    let release = vmtrans
        .parent()
        .and_then(Path::file_name)
        .is_some_and(|d| d == "release");
    let mut cmd = std::process::Command::new(cargo);
    cmd.args(["build", "-q", "-p", "vmtrans", "--lib"])
        .current_dir(suite_dir());
    if release {
        cmd.arg("--release");
    }
    let out = cmd.output().map_err(|e| format!("running {cargo}: {e}"))?;
    if !out.status.success() || !lib.exists() {
        return Err(format!(
            "building {} failed: {}",
            lib.display(),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// A fresh, empty directory `name` under `base` (removed first if present).
pub fn fresh_dir(base: &Path, name: &str) -> PathBuf {
    let dir = base.join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    dir
}

/// True when `VMTRANS_BLESS=1`: golden files are rewritten instead of
/// compared.
pub fn blessing() -> bool {
    std::env::var("VMTRANS_BLESS").is_ok_and(|v| v == "1")
}

/// Compares `actual` with the golden file at `path`, or rewrites the file
/// when blessing. Returns a description of the first difference.
pub fn check_golden(path: &Path, actual: &str) -> Result<(), String> {
    if blessing() {
        std::fs::write(path, actual).map_err(|e| format!("{}: {e}", path.display()))?;
        return Ok(());
    }
    let expected = std::fs::read_to_string(path).map_err(|e| {
        format!(
            "{}: {e} (run with VMTRANS_BLESS=1 to create it)",
            path.display()
        )
    })?;
    if expected == actual {
        return Ok(());
    }
    Err(first_difference(path, &expected, actual))
}

/// Names the first line where `expected` and `actual` differ.
pub fn first_difference(path: &Path, expected: &str, actual: &str) -> String {
    let mut exp = expected.lines();
    let mut act = actual.lines();
    let mut line = 1;
    loop {
        match (exp.next(), act.next()) {
            (Some(e), Some(a)) if e == a => line += 1,
            (e, a) => {
                return format!(
                    "{}:{line}: expected {:?}, got {:?} (VMTRANS_BLESS=1 rewrites the file)",
                    path.display(),
                    e.unwrap_or("<end of file>"),
                    a.unwrap_or("<end of output>")
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_difference_names_the_line() {
        let d = first_difference(Path::new("x"), "a\nb\nc\n", "a\nB\nc\n");
        assert_eq!(
            d,
            "x:2: expected \"b\", got \"B\" (VMTRANS_BLESS=1 rewrites the file)"
        );
        let d = first_difference(Path::new("x"), "a\n", "a\nextra\n");
        assert!(d.contains("<end of file>"), "{d}");
    }
}
