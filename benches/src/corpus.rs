//! The benchmark programs, the guest ISAs, and building the corpus with
//! `benches/Makefile`.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context, Result};

/// One program of `benches/programs/`.
#[derive(Clone, Copy, Debug)]
pub struct Benchmark {
    /// File name (without `.c`) and name in the reports.
    pub name: &'static str,
    /// Size argument for `--quick` runs (the full run uses the program's
    /// own default, about a second natively).
    pub quick_arg: &'static str,
}

/// Every benchmark, in report order.
pub const BENCHMARKS: [Benchmark; 12] = [
    Benchmark {
        name: "crc32",
        quick_arg: "384",
    },
    Benchmark {
        name: "sha256",
        quick_arg: "80",
    },
    Benchmark {
        name: "aes128",
        quick_arg: "12",
    },
    Benchmark {
        name: "matmul-int",
        quick_arg: "500",
    },
    Benchmark {
        name: "matmul-f64",
        quick_arg: "500",
    },
    Benchmark {
        name: "nbody",
        quick_arg: "30000",
    },
    Benchmark {
        name: "qsort",
        quick_arg: "2500000",
    },
    Benchmark {
        name: "interp",
        quick_arg: "150000",
    },
    Benchmark {
        name: "lz77",
        quick_arg: "6144",
    },
    Benchmark {
        name: "strsearch",
        quick_arg: "8192",
    },
    Benchmark {
        name: "bintrees",
        quick_arg: "16",
    },
    Benchmark {
        name: "fib",
        quick_arg: "38",
    },
];

/// The guest ISAs the corpus is built for.
pub const ARCHES: [&str; 3] = ["riscv64", "aarch64", "x86_64"];

/// The qemu-user binary that runs `arch` guests.
pub fn qemu_for(arch: &str) -> String {
    format!("qemu-{arch}-static")
}

/// `benches/build/<arch>/<name>`.
pub fn program_path(benches: &Path, arch: &str, name: &str) -> PathBuf {
    benches.join("build").join(arch).join(name)
}

/// Builds the corpus for `arches` (and x86_64, the native reference)
/// with `make -C benches`; make skips what is up to date.
pub fn build(benches: &Path, arches: &[String]) -> Result<()> {
    let mut wanted: Vec<&str> = arches.iter().map(String::as_str).collect();
    if !wanted.contains(&"x86_64") {
        wanted.push("x86_64");
    }
    let status = Command::new("make")
        .arg("-C")
        .arg(benches)
        .arg(format!("ARCHS={}", wanted.join(" ")))
        .arg("-j2")
        .status()
        .context("running make (is it installed?)")?;
    if !status.success() {
        bail!(
            "building the benchmark corpus failed ({status}); are the cross compilers installed?"
        );
    }
    Ok(())
}

/// Parses a `--only` list against [`BENCHMARKS`].
pub fn select(only: &[String]) -> Result<Vec<Benchmark>> {
    if only.is_empty() {
        return Ok(BENCHMARKS.to_vec());
    }
    only.iter()
        .map(|n| {
            BENCHMARKS
                .iter()
                .find(|b| b.name == n)
                .copied()
                .with_context(|| format!("unknown benchmark {n:?}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_program_has_a_source() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("programs");
        for b in BENCHMARKS {
            assert!(dir.join(format!("{}.c", b.name)).exists(), "{}", b.name);
        }
    }

    #[test]
    fn select_by_name() {
        assert_eq!(select(&[]).unwrap().len(), BENCHMARKS.len());
        let s = select(&["fib".to_string()]).unwrap();
        assert_eq!(s[0].name, "fib");
        assert!(select(&["nope".to_string()]).is_err());
    }
}
