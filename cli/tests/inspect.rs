//! `vmtrans inspect` as a command-line tool: its report goes to readers
//! that may stop early.

use std::path::Path;
use std::process::{Command, Stdio};

/// `vmtrans inspect … | head -1`: the reader closes the pipe before the
/// report is written; vmtrans exits quietly with status 0, no panic.
#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    let fixture =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite/fixtures/riscv64/hello-O2");
    let mut child = Command::new(env!("CARGO_BIN_EXE_vmtrans"))
        .arg("inspect")
        .arg(&fixture)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Discovery takes a while: the pipe is closed before anything is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{:?}: {stderr}", out.status);
    assert!(stderr.is_empty(), "{stderr}");
}
