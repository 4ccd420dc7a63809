//! A real program: Debian's busybox-static (arm64 and amd64) runs
//! `testsuite/busybox/script.sh` — pipes of sort, uniq, md5sum, a gzip
//! round trip, sed, tr, grep, awk and a while-read loop — under
//! `vmtrans run` (JIT) and as a `vmtrans translate`d executable (AOT), with
//! stdout, stderr and exit status identical to the reference:
//! `qemu-aarch64-static busybox` for arm64, the native busybox for amd64.
//!
//! busybox `sh` runs most applets of a pipeline by exec'ing
//! `/proc/self/exe`, so this also tests `execve` of the guest program. For
//! vmtrans and the native run the script's `PATH` names no directory, so
//! every command must be an applet of the guest busybox exec'd through
//! `/proc/self/exe` (none can come from the host). qemu-user cannot exec an
//! arm64 program without binfmt_misc, so its `PATH` is a directory of
//! applet names that run the guest busybox under qemu.
//!
//! The binaries come from `testsuite/busybox/fetch.sh` (run by `.ci/run`);
//! without them the tests print that they are skipped and pass.

use std::path::{Path, PathBuf};
use std::process::Command;

fn vmtrans() -> &'static str {
    env!("CARGO_BIN_EXE_vmtrans")
}

fn busybox_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite/busybox")
}

/// A fresh directory under the target directory, removed first if present.
fn scratch(name: &str) -> PathBuf {
    vmtrans_testsuite::fresh_dir(Path::new(env!("CARGO_TARGET_TMPDIR")), name)
}

/// What a run of the script shows the outside world.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    status: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `PATH` of the runs that must find every applet through `/proc/self/exe`.
const NO_PATH: &str = "/nonexistent";

/// Runs `program args... sh script.sh WORKDIR` with a fresh work directory
/// and an environment of only `PATH=path`.
fn run_script(name: &str, program: &Path, args: &[&str], path: &str) -> Outcome {
    let work = scratch(name);
    let out = Command::new(program)
        .args(args)
        .arg("sh")
        .arg(busybox_dir().join("script.sh"))
        .arg(&work)
        .env_clear()
        .env("PATH", path)
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", program.display()));
    Outcome {
        status: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The downloaded busybox for Debian architecture `deb_arch`, or `None`
/// after printing why the test is skipped.
fn guest_busybox(deb_arch: &str) -> Option<PathBuf> {
    let path = busybox_dir().join("bin").join(deb_arch).join("busybox");
    if path.is_file() {
        return Some(path);
    }
    println!("skipped: busybox-static not downloaded (run testsuite/busybox/fetch.sh)");
    None
}

/// `vmtrans translate busybox`; the executable is named `busybox` because
/// busybox picks its applet from `argv[0]`'s file name.
fn translate(guest: &Path, name: &str) -> PathBuf {
    vmtrans_testsuite::ensure_runtime_library(Path::new(vmtrans()), env!("CARGO")).unwrap();
    let exe = scratch(name).join("busybox");
    let o = Command::new(vmtrans())
        .arg("translate")
        .arg(guest)
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "translate {} failed: {}",
        guest.display(),
        String::from_utf8_lossy(&o.stderr)
    );
    exe
}

/// Runs the script on guest busybox `guest` under the JIT and AOT-translated,
/// comparing both with `reference`.
fn check(arch: &str, guest: &Path, reference: &Outcome) {
    assert_eq!(reference.status, Some(0), "reference run: {reference:?}");
    assert!(
        reference.stdout.contains("round trip ok") && reference.stderr.is_empty(),
        "the reference run is not the expected workload: {reference:?}"
    );
    let guest_str = guest.to_str().unwrap();
    let jit = run_script(
        &format!("busybox-{arch}-jit"),
        Path::new(vmtrans()),
        &["run", guest_str, "--"],
        NO_PATH,
    );
    assert_eq!(
        &jit, reference,
        "{arch}: vmtrans run differs from the reference"
    );
    let exe = translate(guest, &format!("busybox-{arch}-aot-exe"));
    let aot = run_script(&format!("busybox-{arch}-aot"), &exe, &[], NO_PATH);
    assert_eq!(
        &aot, reference,
        "{arch}: the translated busybox differs from the reference"
    );
}

/// A directory with one entry per applet of `guest`, each running the
/// applet of that name under `qemu` (a `#!/bin/sh` wrapper the host runs).
fn qemu_applets(qemu: &Path, guest: &Path) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("busybox-arm64-applets");
    let wrapper = dir.join("applet.sh");
    let script = format!(
        "#!/bin/sh\nexec {} -0 \"${{0##*/}}\" {} \"$@\"\n",
        qemu.display(),
        guest.display()
    );
    std::fs::write(&wrapper, script).unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let list = Command::new(qemu)
        .arg(guest)
        .arg("--list")
        .output()
        .unwrap();
    assert!(list.status.success(), "busybox --list under qemu failed");
    for applet in String::from_utf8_lossy(&list.stdout).lines() {
        std::os::unix::fs::symlink(&wrapper, dir.join(applet)).unwrap();
    }
    dir
}

#[test]
fn busybox_arm64_matches_qemu() {
    let Some(guest) = guest_busybox("arm64") else {
        return;
    };
    let qemu = Path::new("/usr/bin/qemu-aarch64-static");
    assert!(
        qemu.is_file(),
        "qemu-aarch64-static (package qemu-user-static) is needed for the arm64 reference"
    );
    let applets = qemu_applets(qemu, &guest);
    let reference = run_script(
        "busybox-arm64-qemu",
        qemu,
        &[guest.to_str().unwrap()],
        applets.to_str().unwrap(),
    );
    check("arm64", &guest, &reference);
}

#[test]
fn busybox_amd64_matches_native() {
    let Some(guest) = guest_busybox("amd64") else {
        return;
    };
    let reference = run_script("busybox-amd64-native", &guest, &[], NO_PATH);
    check("amd64", &guest, &reference);
}
