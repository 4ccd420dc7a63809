//! Translating a guest program with `vmtrans translate -v` and reading
//! what it reports: guest bytes, functions and per-stage times.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::exec::{run_measured, tail};

/// One `vmtrans translate` run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Translation {
    /// `RAYON_NUM_THREADS` it ran with.
    pub threads: usize,
    /// Wall seconds of the whole command (including linking).
    pub wall: f64,
    /// Seconds vmtrans reports for discover + lift + optimize + codegen
    /// (everything but linking).
    pub translate_secs: Option<f64>,
    /// Guest bytes of the instructions vmtrans discovered and translated.
    pub guest_bytes: Option<u64>,
    /// Functions translated.
    pub functions: Option<u64>,
    /// Peak resident memory of vmtrans, KiB.
    pub max_rss_kib: u64,
}

/// Why a program could not be translated.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum TranslateError {
    /// The guest ISA has no frontend yet.
    Unsupported(String),
    /// vmtrans failed (exit status and the end of its stderr).
    Failed(String),
}

/// Runs `vmtrans translate -v guest -o out` with `threads` rayon threads.
pub fn translate(
    vmtrans: &Path,
    guest: &Path,
    out: &Path,
    threads: usize,
    scratch: &Path,
) -> Result<std::result::Result<Translation, TranslateError>> {
    let mut cmd = Command::new(vmtrans);
    cmd.arg("translate")
        .arg("-v")
        .arg(guest)
        .arg("-o")
        .arg(out)
        .env("RAYON_NUM_THREADS", threads.to_string());
    let r = run_measured(cmd, scratch, Duration::from_secs(600))?;
    let err = std::fs::read_to_string(scratch.join("stderr")).unwrap_or_default();
    if r.status != 0 {
        let msg = format!("exit {}: {}", r.status, tail(err.trim(), 300));
        return Ok(Err(if err.contains("not supported") {
            TranslateError::Unsupported(msg)
        } else {
            TranslateError::Failed(msg)
        }));
    }
    let line = err
        .lines()
        .find(|l| l.contains("guest bytes/s"))
        .unwrap_or("");
    let stages = ["discover", "lift", "optimize", "codegen"];
    let secs: Option<Vec<f64>> = stages.iter().map(|s| stage_secs(line, s)).collect();
    Ok(Ok(Translation {
        threads,
        wall: r.wall,
        translate_secs: secs.map(|v| v.iter().sum()),
        guest_bytes: number_before(line, " bytes)"),
        functions: number_before(line, " functions"),
        max_rss_kib: r.max_rss_kib,
    }))
}

/// The duration after `"<stage> "` in the verbose line, in seconds.
pub fn stage_secs(line: &str, stage: &str) -> Option<f64> {
    let key = format!("{stage} ");
    let start = line.find(&key)? + key.len();
    let word = line[start..].split([',', ';', ' ']).next()?;
    parse_duration(word)
}

/// Parses Rust's `Debug` form of a `Duration` (`1.52s`, `661.27ms`,
/// `12.3µs`, `40ns`).
pub fn parse_duration(s: &str) -> Option<f64> {
    let units = [
        ("ms", 1e-3),
        ("µs", 1e-6),
        ("us", 1e-6),
        ("ns", 1e-9),
        ("s", 1.0),
    ];
    for (suffix, scale) in units {
        if let Some(num) = s.strip_suffix(suffix) {
            return num.parse::<f64>().ok().map(|v| v * scale);
        }
    }
    None
}

/// The integer just before `marker` in `line`.
fn number_before(line: &str, marker: &str) -> Option<u64> {
    let end = line.find(marker)?;
    let digits: String = line[..end]
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

/// Size of the `.text` section of the ELF64 little-endian file `bytes`.
pub fn text_size(bytes: &[u8]) -> Option<u64> {
    let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
    let u32_at = |o: usize| Some(u32::from_le_bytes(bytes.get(o..o + 4)?.try_into().ok()?));
    let u64_at = |o: usize| Some(u64::from_le_bytes(bytes.get(o..o + 8)?.try_into().ok()?));
    if bytes.get(..5)? != b"\x7fELF\x02" {
        return None;
    }
    let shoff = u64_at(0x28)? as usize;
    let shentsize = usize::from(u16_at(0x3a)?);
    let shnum = usize::from(u16_at(0x3c)?);
    let shstrndx = usize::from(u16_at(0x3e)?);
    let strtab = u64_at(shoff + shstrndx * shentsize + 0x18)? as usize;
    (0..shnum).find_map(|i| {
        let sh = shoff + i * shentsize;
        let name = strtab + u32_at(sh)? as usize;
        let is_text = bytes.get(name..name + 6)? == b".text\0";
        is_text.then(|| u64_at(sh + 0x20)).flatten()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = "vmtrans: 857 functions, 90172 guest instructions (262826 bytes): discover 1.52s, lift 661.27ms, optimize 543.98ms, codegen 1.87s, link 2.47s; total 7.07s (37197 guest bytes/s)";

    #[test]
    fn parses_the_verbose_line() {
        assert_eq!(number_before(LINE, " functions"), Some(857));
        assert_eq!(number_before(LINE, " bytes)"), Some(262826));
        assert_eq!(stage_secs(LINE, "lift"), Some(0.66127));
        assert_eq!(stage_secs(LINE, "codegen"), Some(1.87));
        assert_eq!(stage_secs(LINE, "missing"), None);
    }

    #[test]
    fn parses_durations() {
        assert_eq!(parse_duration("2s"), Some(2.0));
        assert_eq!(parse_duration("5ms"), Some(0.005));
        assert!((parse_duration("3µs").unwrap() - 3e-6).abs() < 1e-15);
        assert_eq!(parse_duration("x"), None);
    }

    #[test]
    fn text_size_of_this_test_binary() {
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        assert!(text_size(&me).unwrap() > 1000);
        assert_eq!(text_size(b"not an elf"), None);
    }
}
