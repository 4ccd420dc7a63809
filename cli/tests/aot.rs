//! `vmtrans translate` end to end: native executables that behave like the
//! guest, JIT fallback for code discovery missed, and fault reports.

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn vmtrans() -> &'static str {
    env!("CARGO_BIN_EXE_vmtrans")
}

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite")
}

/// A fresh directory under the target directory, removed first if present.
fn scratch(name: &str) -> PathBuf {
    vmtrans_testsuite::fresh_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), name)
}

fn translate(guest: &Path, out: &Path) {
    vmtrans_testsuite::ensure_runtime_library(Path::new(vmtrans()), env!("CARGO")).unwrap();
    let o = Command::new(vmtrans())
        .arg("translate")
        .arg(guest)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "translate failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

fn run_in(dir: &Path, exe: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(exe);
    c.args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn translated_hello_behaves_like_the_guest() {
    let dir = scratch("aot-hello");
    let exe = dir.join("hello");
    translate(&suite().join("fixtures/riscv64/hello-O2"), &exe);
    let out = run_in(&dir, &exe, &["a", "b"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "hello, world\nargc=3\n"
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// No symbols and no unwind tables: discovery misses the targets of the
/// function-pointer tables, so they are translated at run time by the JIT
/// inside the AOT executable, and the output still matches qemu's.
#[test]
fn code_missed_ahead_of_time_runs_through_the_jit_fallback() {
    let dir = scratch("aot-stripped");
    let exe = dir.join("ib");
    translate(
        &suite().join("fixtures/special/riscv64/indirect_branch-O2-stripped"),
        &exe,
    );
    let out = run_in(
        &dir,
        &exe,
        &[],
        &[("VMTRANS_VERBOSE", "1"), ("VMTRANS_TEST", "1")],
    );
    let expected =
        std::fs::read(suite().join("expected/riscv64/indirect_branch-O2.stdout")).unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&expected)
    );
    assert_eq!(out.status.code(), Some(0));
    let log = String::from_utf8_lossy(&out.stderr);
    let jitted = log
        .lines()
        .filter(|l| l.starts_with("vmtrans: translated "))
        .count();
    assert!(jitted > 0, "the JIT fallback was not used:\n{log}");
}

fn assert_segv_report(out: &Output, what: &str, address: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stdout, format!("start {what}\n"), "{stderr}");
    assert_eq!(
        out.status.signal(),
        Some(11),
        "{what}: {:?} {stderr}",
        out.status
    );
    assert!(
        stderr.contains("guest SIGSEGV at pc 0x"),
        "{what}: {stderr}"
    );
    assert!(stderr.contains(address), "{what}: no {address} in {stderr}");
}

#[test]
fn wild_accesses_and_jumps_are_reported_as_guest_segfaults() {
    let guest = suite().join("fixtures/special/riscv64/wild-O2");
    let dir = scratch("aot-wild");
    let exe = dir.join("wild");
    translate(&guest, &exe);
    let cases = [
        ("jump", "0x5a5a0000"),
        ("write", "0x7a0000"),
        ("rodata", "0x"),
    ];
    for (what, address) in cases {
        let aot = run_in(&dir, &exe, &[what], &[]);
        assert_segv_report(&aot, what, address);
        let jit = Command::new(vmtrans())
            .arg("run")
            .arg(&guest)
            .arg(what)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert_segv_report(&jit, what, address);
    }
    let fine = run_in(&dir, &exe, &["none"], &[]);
    assert_eq!(
        String::from_utf8_lossy(&fine.stdout),
        "start none\nno fault\n"
    );
}

#[test]
fn unsupported_and_malformed_guests_fail_clearly() {
    let dir = scratch("aot-bad");
    // A valid ELF of a machine vmtrans has no frontend for (32-bit ARM).
    let mut elf = std::fs::read(suite().join("fixtures/riscv64/hello-O2")).unwrap();
    elf[18..20].copy_from_slice(&40u16.to_le_bytes());
    let arm32 = dir.join("arm32");
    std::fs::write(&arm32, &elf).unwrap();
    let out = Command::new(vmtrans())
        .arg("translate")
        .arg(&arm32)
        .arg("-o")
        .arg(dir.join("x"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("EM_ARM (32-bit ARM)") && msg.contains("is not a supported guest"),
        "{msg}"
    );
    let junk = dir.join("junk");
    std::fs::write(&junk, b"not an elf").unwrap();
    let out = Command::new(vmtrans())
        .arg("run")
        .arg(&junk)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.starts_with("vmtrans: error: ") && msg.contains("junk"),
        "{msg}"
    );
}

/// `translate` with `CC` set to `cc`: the translation of riscv64 hello.
fn translate_with_cc(cc: &Path, out: &Path) -> Output {
    vmtrans_testsuite::ensure_runtime_library(Path::new(vmtrans()), env!("CARGO")).unwrap();
    Command::new(vmtrans())
        .arg("translate")
        .arg(suite().join("fixtures/riscv64/hello-O2"))
        .arg("-o")
        .arg(out)
        .env("CC", cc)
        .output()
        .unwrap()
}

/// Linking asks for gold first; a compiler driver that has no gold still
/// links with its default linker, and one that fails is named in the error.
#[test]
fn linking_falls_back_from_gold_and_names_a_failing_linker() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("aot-linker");
    let no_gold = dir.join("cc-without-gold");
    std::fs::write(
        &no_gold,
        "#!/bin/sh\nfor a; do [ \"$a\" = -fuse-ld=gold ] && { echo 'no gold here' >&2; exit 1; }; done\nexec cc \"$@\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&no_gold, std::fs::Permissions::from_mode(0o755)).unwrap();
    let exe = dir.join("hello");
    let out = translate_with_cc(&no_gold, &exe);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = run_in(&dir, &exe, &[], &[]);
    assert_eq!(
        String::from_utf8_lossy(&run.stdout),
        "hello, world\nargc=1\n"
    );

    let out = translate_with_cc(Path::new("/bin/false"), &dir.join("never"));
    assert_eq!(out.status.code(), Some(1));
    let msg = String::from_utf8_lossy(&out.stderr);
    assert!(
        msg.contains("linking") && msg.contains("/bin/false exit status: 1"),
        "{msg}"
    );
    assert!(!dir.join("never").exists());
}
