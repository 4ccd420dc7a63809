//! Proof that the aarch64 decoder covers the fixtures and agrees with
//! binutils.
//!
//! Every instruction `aarch64-linux-gnu-objdump -d` lists for a committed
//! fixture (static glibc programs: all of their code) is decoded from the
//! binary's own bytes and compared, mnemonic and operands, with objdump's
//! text. The goldens are checked in, zstd-compressed, under
//! `testsuite/decode/aarch64/` (`make -C testsuite/decode aarch64`).
//!
//! Operands are compared as tokens with numbers by value, PC-relative
//! targets resolved. The only differences allowed are the spellings in
//! [`Deviation`], each equivalent by the ARM ARM; anything else (or any
//! word objdump decodes and we do not) is a failure.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use object::{Object, ObjectSection};
use vmtrans_translator::aarch64::decode;

fn testsuite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite")
}

/// The content size recorded in the first zstd frame header.
fn zstd_content_size(data: &[u8]) -> Option<u64> {
    if data.get(..4)? != [0x28, 0xb5, 0x2f, 0xfd] {
        return None;
    }
    let descriptor = *data.get(4)?;
    let single_segment = descriptor & 0x20 != 0;
    let dict_id_len = [0, 1, 2, 4][usize::from(descriptor & 3)];
    let fcs_len = match (descriptor >> 6, single_segment) {
        (0, true) => 1,
        (0, false) => return None,
        (1, _) => 2,
        (2, _) => 4,
        _ => 8,
    };
    let start = 5 + usize::from(!single_segment) + dict_id_len;
    let bytes = data.get(start..start + fcs_len)?;
    let mut size = bytes
        .iter()
        .rev()
        .fold(0u64, |acc, &b| acc << 8 | u64::from(b));
    if fcs_len == 2 {
        size += 256;
    }
    Some(size)
}

fn read_golden(path: &Path) -> String {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let size = zstd_content_size(&data).expect("zstd with a content size");
    let text = object::read::CompressedData {
        format: object::read::CompressionFormat::Zstandard,
        data: &data,
        uncompressed_size: size,
    }
    .decompress()
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8(text.into_owned()).expect("UTF-8")
}

struct Line {
    section: String,
    addr: u64,
    value: u32,
    mnemonic: String,
    operands: String,
}

fn parse_golden(text: &str) -> Vec<Line> {
    let mut section = String::new();
    let mut lines = Vec::new();
    for raw in text.lines() {
        if let Some(rest) = raw.strip_prefix("Disassembly of section ") {
            section = rest.trim_end_matches(':').to_string();
            continue;
        }
        if !(raw.starts_with(' ') && raw.contains(":\t")) {
            continue;
        }
        let mut parts = raw.splitn(4, '\t');
        let addr = parts.next().unwrap().trim().trim_end_matches(':');
        let addr = u64::from_str_radix(addr, 16).expect("address");
        let hex = parts.next().unwrap_or("").trim();
        let value = u32::from_str_radix(hex, 16)
            .unwrap_or_else(|_| panic!("unparsable objdump line {raw:?}"));
        let mnemonic = parts.next().unwrap_or("").trim().to_string();
        let mut operands = parts.next().unwrap_or("");
        if let Some(i) = operands.find("//") {
            operands = &operands[..i];
        }
        if let Some(i) = operands.find(" <") {
            operands = &operands[..i];
        }
        lines.push(Line {
            section: section.clone(),
            addr,
            value,
            mnemonic,
            operands: operands.trim().to_string(),
        });
    }
    lines
}

/// A documented difference of spelling (equivalent by the ARM ARM).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Deviation {
    /// `cs`/`hs` and `cc`/`lo` name the same conditions.
    ConditionAlias,
    /// `movz x0, #0x0, lsl #16` is `mov x0, #0x0`.
    ZeroShiftedMove,
    /// Named hints (`bti c`, `paciasp`, ...) printed as `hint #n`.
    HintNumber,
    /// `dc`/`ic` printed as the underlying `sys`.
    SysAlias,
    /// `dup vd, vn.d[0]` printed as its alias `mov`.
    DupAlias,
    /// `clrex #15` is `clrex` (15 is the default CRm objdump omits).
    ClrexDefault,
    /// SVE: decoded as such, not printed (never lifted: not advertised).
    Sve,
}

/// Operand tokens with numbers by value (`#0x10` = `16` = `0x10`).
fn tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, out: &mut Vec<String>| {
        if !cur.is_empty() {
            out.push(number(cur).unwrap_or_else(|| cur.to_lowercase()));
            cur.clear();
        }
    };
    for c in s.chars() {
        match c {
            '[' | ']' | '{' | '}' | '!' | ',' => {
                flush(&mut cur, &mut out);
                out.push(c.to_string());
            }
            ' ' | '\t' => flush(&mut cur, &mut out),
            _ => cur.push(c),
        }
    }
    flush(&mut cur, &mut out);
    // `sxtw #0` = `sxtw` (the explicit zero amount of a register offset).
    let mut cleaned: Vec<String> = Vec::new();
    for t in out {
        let ext = cleaned
            .last()
            .is_some_and(|p| ["uxtw", "sxtw", "sxtx", "uxtx", "lsl"].contains(&p.as_str()));
        if ext && t == "0" {
            continue;
        }
        cleaned.push(t);
    }
    cleaned
}

fn number(t: &str) -> Option<String> {
    let t = t.trim_start_matches('#');
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t),
    };
    let v = if let Some(h) = t.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()?
    } else if t.chars().all(|c| c.is_ascii_digit()) && !t.is_empty() {
        t.parse::<i128>().ok()?
    } else if let Ok(f) = t.parse::<f64>() {
        return Some(format!("{}{f}", if neg { "-" } else { "" }));
    } else {
        return None;
    };
    Some((if neg { -v } else { v }).to_string())
}

/// Our operand text with `$±off` resolved to the absolute hex address
/// objdump prints (ADRP: relative to the page).
fn resolve_pc(ops: &str, addr: u64, adrp: bool) -> String {
    let Some(i) = ops.find('$') else {
        return ops.to_string();
    };
    let rest = &ops[i + 1..];
    let end = rest.find([',', ' ']).unwrap_or(rest.len());
    let off = &rest[..end];
    let (neg, hex) = match off.as_bytes()[0] {
        b'-' => (true, &off[1..]),
        _ => (false, &off[1..]),
    };
    let v = u64::from_str_radix(hex.trim_start_matches("0x"), 16).expect("pc offset");
    let base = if adrp { addr & !0xfff } else { addr };
    let target = if neg {
        base.wrapping_sub(v)
    } else {
        base.wrapping_add(v)
    };
    format!("{}{target:x}{}", &ops[..i], &rest[end..])
}

fn condition_alias(s: &str) -> String {
    s.split_inclusive(|c: char| !c.is_ascii_alphanumeric())
        .map(|part| {
            let (word, sep) = part.split_at(
                part.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                    .len(),
            );
            let w = match word {
                "hs" => "cs",
                "lo" => "cc",
                w => w,
            };
            format!("{w}{sep}")
        })
        .collect()
}

#[derive(Default)]
struct Report {
    matched: usize,
    deviations: BTreeMap<Deviation, usize>,
    mismatches: Vec<String>,
}

fn check_line(line: &Line, code: &[u8], r: &mut Report) {
    let data_directive = line.mnemonic.starts_with('.') || line.mnemonic == "udf";
    let ours = decode(code, line.addr);
    let insn = match ours {
        Ok(i) => i,
        Err(e) => {
            if !data_directive {
                r.mismatches.push(format!(
                    "{:#x}: ours {e}; objdump {} {}",
                    line.addr, line.mnemonic, line.operands
                ));
            } else {
                r.matched += 1;
            }
            return;
        }
    };
    if insn.sve() {
        *r.deviations.entry(Deviation::Sve).or_default() += 1;
        return;
    }
    let text = insn.text();
    let (mn, ops) = text.split_once(' ').unwrap_or((&text, ""));
    let ops = resolve_pc(ops, line.addr, mn == "adrp");
    let same = |a: &str, b: &str| tokens(a) == tokens(b);
    if mn == line.mnemonic && same(&ops, &line.operands) {
        r.matched += 1;
        return;
    }
    let dev = if condition_alias(mn) == condition_alias(&line.mnemonic)
        && same(&condition_alias(&ops), &condition_alias(&line.operands))
    {
        Some(Deviation::ConditionAlias)
    } else if line.mnemonic == "movz" && mn == "mov" && line.operands.contains("#0x0,") {
        Some(Deviation::ZeroShiftedMove)
    } else if mn == "hint" {
        Some(Deviation::HintNumber)
    } else if mn == "sys" && ["dc", "ic"].contains(&line.mnemonic.as_str()) {
        Some(Deviation::SysAlias)
    } else if mn == "clrex" && line.mnemonic == "clrex" && ops == "#0xf" {
        Some(Deviation::ClrexDefault)
    } else if line.mnemonic == "dup" && mn == "mov" && same(&ops, &line.operands) {
        Some(Deviation::DupAlias)
    } else {
        None
    };
    match dev {
        Some(d) => *r.deviations.entry(d).or_default() += 1,
        None => r.mismatches.push(format!(
            "{:#x} {:08x}: ours {mn} {ops} vs objdump {} {}",
            line.addr, line.value, line.mnemonic, line.operands
        )),
    }
}

fn check(name: &str) -> Report {
    let binary = testsuite().join("fixtures/aarch64").join(name);
    let golden = testsuite()
        .join("decode/aarch64")
        .join(format!("{name}.objdump.zst"));
    let data = std::fs::read(&binary).expect("fixture");
    let file = object::File::parse(&*data).expect("ELF");
    let mut r = Report::default();
    for line in parse_golden(&read_golden(&golden)) {
        let section = file.section_by_name(&line.section).expect("section");
        let bytes = section.data().expect("data");
        let code = &bytes[(line.addr - section.address()) as usize..];
        assert_eq!(
            u32::from_le_bytes(code[..4].try_into().unwrap()),
            line.value,
            "{name}: golden out of date at {:#x}",
            line.addr
        );
        check_line(&line, code, &mut r);
    }
    r
}

/// The fixtures with a golden: glibc (all of hello's code) and the
/// aarch64-specific programs.
fn goldens() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(testsuite().join("decode/aarch64"))
        .expect("goldens")
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.strip_suffix(".objdump.zst").map(str::to_string)
        })
        .collect();
    names.sort();
    names
}

#[test]
fn aarch64_decode_matches_objdump() {
    let names = goldens();
    assert!(
        names.iter().any(|n| n == "hello-O2"),
        "hello-O2 must be checked"
    );
    let mut summary = String::new();
    let mut failures = String::new();
    let mut total = 0;
    for name in &names {
        let r = check(name);
        total += r.matched;
        let _ = writeln!(
            summary,
            "{name}: {} identical to objdump, deviations {:?}, {} mismatches",
            r.matched,
            r.deviations,
            r.mismatches.len()
        );
        for m in r.mismatches.iter().take(40) {
            let _ = writeln!(failures, "{name}: {m}");
        }
    }
    println!("{summary}total: {total} instructions identical");
    assert!(failures.is_empty(), "mismatches:\n{failures}");
}
