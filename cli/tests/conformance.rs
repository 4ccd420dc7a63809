//! The cross-arch conformance suite: every guest program × guest ISA × mode
//! against its recorded reference (see `vmtrans_testsuite::conformance`).
//!
//! Environment: `VMTRANS_FIXTURES` (directory of freshly built fixtures,
//! default the committed `testsuite/fixtures`), `VMTRANS_SUITE_FILTER`
//! (substring of program names), `VMTRANS_SUITE_ARCH` (comma-separated
//! guest ISAs, default all), `VMTRANS_JOBS` (default 2),
//! `VMTRANS_TIMEOUT_SCALE` (default 4). The table is printed and written to
//! `target/conformance.md`.

use std::path::PathBuf;

use vmtrans_testsuite::conformance::{report, run_suite, SuiteConfig, Verdict};
use vmtrans_testsuite::suite_dir;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The guest ISAs named in `VMTRANS_SUITE_ARCH`; an unknown name is an error.
fn suite_arches() -> Vec<vmtrans_abi::Arch> {
    let Ok(list) = std::env::var("VMTRANS_SUITE_ARCH") else {
        return Vec::new();
    };
    list.split(',')
        .filter(|a| !a.is_empty())
        .map(|a| {
            vmtrans_abi::Arch::from_name(a)
                .unwrap_or_else(|| panic!("VMTRANS_SUITE_ARCH: unknown guest ISA {a:?}"))
        })
        .collect()
}

#[test]
fn conformance_suite() {
    let suite = suite_dir();
    let cfg = SuiteConfig {
        vmtrans: PathBuf::from(env!("CARGO_BIN_EXE_vmtrans")),
        fixtures: std::env::var_os("VMTRANS_FIXTURES")
            .map_or_else(|| suite.join("fixtures"), PathBuf::from),
        suite,
        timeout_scale: env_or("VMTRANS_TIMEOUT_SCALE", 4),
        jobs: env_or("VMTRANS_JOBS", 2),
        filter: std::env::var("VMTRANS_SUITE_FILTER").ok(),
        arches: suite_arches(),
    };
    vmtrans_testsuite::ensure_runtime_library(&cfg.vmtrans, env!("CARGO")).unwrap();
    let cases = run_suite(&cfg).expect("suite runs");
    let table = report(&cases);
    println!("{table}");
    let out = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/conformance.md");
    let _ = std::fs::write(out, &table);
    let failed = cases
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Failed(_)))
        .count();
    let passed = cases
        .iter()
        .filter(|c| c.verdict == Verdict::Passed)
        .count();
    assert!(passed > 0, "no program passed:\n{table}");
    assert_eq!(failed, 0, "{failed} conformance failure(s):\n{table}");
}
