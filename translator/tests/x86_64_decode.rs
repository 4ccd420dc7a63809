//! Proof that the x86_64 decoder (iced-x86) covers the fixtures and agrees
//! with binutils.
//!
//! Every instruction `objdump -d` lists in the executable sections of an
//! x86_64 fixture is decoded from the binary's own bytes at its address and
//! compared with objdump's line: the same length and the same mnemonic
//! (after [`normalize`]: prefixes and AT&T size suffixes aside). Where
//! objdump prints `(bad)` the decoder must fail too. Zero unknowns.
//!
//! Goldens: `testsuite/decode/x86_64/hello-O2.objdump.zst` is committed
//! (objdump of the largest-coverage fixture, so the test needs no
//! binutils). Every other fixture is checked against the host's `objdump`
//! when it is installed (the host is x86_64); without it those are skipped
//! with a message. `VMTRANS_BLESS=1` rewrites the committed golden.
//!
//! The test also prints a census of the mnemonics in the fixtures (how
//! often each occurs), which says what the lifter must cover.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use vmtrans_translator::x86_64::decode::{decode, text};

/// The `testsuite` directory.
fn testsuite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite")
}

/// One objdump instruction line (with its continuation lines folded in).
#[derive(Debug)]
struct Line {
    addr: u64,
    bytes: Vec<u8>,
    text: String,
}

/// Parses `objdump -d` output: `addr:\tbytes\ttext`, with long encodings
/// continued on lines that have only an address and bytes.
fn parse_objdump(out: &str) -> Vec<Line> {
    let mut lines: Vec<Line> = Vec::new();
    for raw in out.lines() {
        let mut fields = raw.splitn(3, '\t');
        let (Some(addr), Some(bytes)) = (fields.next(), fields.next()) else {
            continue;
        };
        let Some(addr) = addr.trim().strip_suffix(':') else {
            continue;
        };
        let Ok(addr) = u64::from_str_radix(addr, 16) else {
            continue;
        };
        let bytes: Vec<u8> = bytes
            .split_whitespace()
            .filter_map(|b| u8::from_str_radix(b, 16).ok())
            .collect();
        match fields.next() {
            Some(t) => lines.push(Line {
                addr,
                bytes,
                text: t.trim().to_string(),
            }),
            None => {
                if let Some(last) = lines.last_mut() {
                    last.bytes.extend(bytes);
                }
            }
        }
    }
    lines
}

/// Prefix words objdump prints before a mnemonic.
const PREFIXES: &[&str] = &[
    "lock", "rep", "repz", "repnz", "repe", "repne", "notrack", "bnd", "data16", "addr32", "cs",
    "ds", "es", "ss", "fs", "gs", "xacquire", "xrelease", "rex", "rex.W", "rex.B", "rex.R",
    "rex.X", "rex.WB", "rex.WR", "rex.WX", "rex.RB", "rex.XB", "rex.WRB", "rex.WXB", "rex.RXB",
    "rex.WRX", "rex.WRXB", "{vex}", "{evex}",
];

/// The mnemonic of an objdump or iced text, without prefixes, lower case.
fn mnemonic(text: &str) -> String {
    text.split_whitespace()
        .find(|w| !PREFIXES.contains(w))
        .unwrap_or("")
        .to_ascii_lowercase()
}

/// Spellings that differ between objdump and iced for the same
/// instruction, mapped to one name: AT&T size suffixes (objdump prints
/// them only when needed, iced when asked), and a few synonyms.
fn normalize(m: &str) -> String {
    let synonyms: &[(&str, &str)] = &[
        ("cltq", "cdqe"),
        ("cwtl", "cwde"),
        ("cqto", "cqo"),
        ("cltd", "cdq"),
        ("cwtd", "cwd"),
        ("cbtw", "cbw"),
        ("movabs", "mov"),
        ("ljmp", "jmp"),
        ("lcall", "call"),
        ("retq", "ret"),
        ("callq", "call"),
        ("jmpq", "jmp"),
        ("setc", "setb"),
        ("setnae", "setb"),
        ("setnc", "setae"),
        ("setnb", "setae"),
        ("setz", "sete"),
        ("setnz", "setne"),
        ("cmovz", "cmove"),
        ("cmovnz", "cmovne"),
        ("cmovc", "cmovb"),
        ("cmovnc", "cmovae"),
        ("jz", "je"),
        ("jnz", "jne"),
        ("jc", "jb"),
        ("jnc", "jae"),
        ("xchg", "xchg"),
    ];
    let m = synonyms.iter().find(|(a, _)| *a == m).map_or(m, |(_, b)| b);
    m.to_string()
}

/// True when the two mnemonics name the same instruction: equal after
/// [`normalize`], or equal once one of them drops an AT&T size suffix
/// (`movl`/`mov`, `movzbl`/`movzb`, `nopw`/`nop`).
fn same_mnemonic(objdump: &str, ours: &str) -> bool {
    let (a, b) = (normalize(objdump), normalize(ours));
    if a == b {
        return true;
    }
    let strip = |s: &str| -> Vec<String> {
        let mut v = vec![s.to_string()];
        for suffix in [
            "b", "w", "l", "q", "bl", "bw", "bq", "wl", "wq", "lq", "s", "t",
        ] {
            if let Some(x) = s.strip_suffix(suffix) {
                v.push(x.to_string());
            }
        }
        v
    };
    let (sa, sb) = (strip(&a), strip(&b));
    sa.iter().any(|x| sb.contains(x))
        || sa.iter().any(|x| sb.contains(&normalize(x)))
        || sb.iter().any(|x| sa.contains(&normalize(x)))
}

/// What checking one binary found.
#[derive(Default)]
struct Report {
    checked: usize,
    mismatches: Vec<String>,
    census: BTreeMap<String, usize>,
}

/// The bytes of the program's executable sections, by address.
fn code_of(binary: &Path) -> Vec<(u64, Vec<u8>)> {
    use object::{Object, ObjectSection, SectionKind};
    let data = std::fs::read(binary).expect("fixture readable");
    let file = object::File::parse(&*data).expect("fixture is an object");
    file.sections()
        .filter(|s| s.kind() == SectionKind::Text)
        .filter_map(|s| Some((s.address(), s.data().ok()?.to_vec())))
        .collect()
}

/// Checks every objdump line of one binary.
fn check(binary: &Path, objdump: &str) -> Report {
    let sections = code_of(binary);
    let mut report = Report::default();
    for line in parse_objdump(objdump) {
        let Some((base, bytes)) = sections
            .iter()
            .find(|(a, b)| *a <= line.addr && line.addr < a + b.len() as u64)
        else {
            continue;
        };
        let off = (line.addr - base) as usize;
        let code = &bytes[off..];
        let obj_m = mnemonic(&line.text);
        let bad = line.text.contains("(bad)");
        report.checked += 1;
        match decode(code, line.addr) {
            Ok(insn) => {
                let ours = text(&insn);
                let our_m = mnemonic(&ours);
                *report.census.entry(our_m.clone()).or_default() += 1;
                if bad {
                    report.mismatches.push(format!(
                        "{:#x}: objdump says (bad), we decode `{ours}`",
                        line.addr
                    ));
                } else if is_split_wait(&line, &our_m) {
                    // Deviation: objdump shows `9b` + an x87 no-wait form
                    // as one waiting instruction (`fstsw` = `fwait;
                    // fnstsw`); iced decodes the `fwait` on its own, which
                    // executes the same.
                } else if insn.len() != line.bytes.len() {
                    report.mismatches.push(format!(
                        "{:#x}: length {} vs objdump {} (`{}` vs `{ours}`)",
                        line.addr,
                        insn.len(),
                        line.bytes.len(),
                        line.text
                    ));
                } else if !same_mnemonic(&obj_m, &our_m) {
                    report.mismatches.push(format!(
                        "{:#x}: `{}` vs ours `{ours}`",
                        line.addr, line.text
                    ));
                }
            }
            Err(e) if !bad => report.mismatches.push(format!(
                "{:#x}: objdump `{}`, we fail: {e}",
                line.addr, line.text
            )),
            Err(_) => {}
        }
    }
    report
}

/// objdump's combined `fwait` + x87 control instruction, which we decode
/// as two instructions.
fn is_split_wait(line: &Line, ours: &str) -> bool {
    matches!(ours, "fwait" | "wait")
        && line.bytes.first() == Some(&0x9b)
        && line.bytes.len() > 1
        && mnemonic(&line.text).starts_with('f')
}

/// Runs the host objdump on `binary`, or `None` when it is not installed.
fn host_objdump(binary: &Path) -> Option<String> {
    let out = Command::new("objdump")
        .arg("-d")
        .arg("-w")
        .arg(binary)
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Reads a zstd golden with the decompressor `object` carries.
fn read_golden(path: &Path) -> String {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let size = zstd_content_size(&data).expect("zstd golden with a content size");
    let text = object::read::CompressedData {
        format: object::read::CompressionFormat::Zstandard,
        data: &data,
        uncompressed_size: size,
    }
    .decompress()
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8(text.into_owned()).expect("golden is UTF-8")
}

/// The content size recorded in a zstd frame header.
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

fn fixture(name: &str) -> PathBuf {
    testsuite().join("fixtures/x86_64").join(name)
}

fn assert_clean(name: &str, report: &Report) {
    assert!(
        report.checked > 1000,
        "{name}: only {} lines",
        report.checked
    );
    assert!(
        report.mismatches.is_empty(),
        "{name}: {} of {} instructions disagree with objdump:\n{}",
        report.mismatches.len(),
        report.checked,
        report.mismatches[..report.mismatches.len().min(40)].join("\n")
    );
}

#[test]
fn committed_golden_matches() {
    let golden = testsuite().join("decode/x86_64/hello-O2.objdump.zst");
    let binary = fixture("hello-O2");
    if std::env::var_os("VMTRANS_BLESS").is_some_and(|v| v != "0") {
        let out = Command::new("sh")
            .arg("-c")
            .arg("cd \"$0\" && objdump -d -w hello-O2 > \"$1.txt\" && zstd -19 -q -f \"$1.txt\" -o \"$1\" && rm \"$1.txt\"")
            .arg(binary.parent().expect("fixture dir"))
            .arg(&golden)
            .status()
            .expect("objdump and zstd");
        assert!(out.success(), "blessing failed");
    }
    let report = check(&binary, &read_golden(&golden));
    assert_clean("hello-O2", &report);
}

#[test]
fn every_fixture_matches_host_objdump() {
    let mut names: Vec<String> = std::fs::read_dir(testsuite().join("fixtures/x86_64"))
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    let mut census: BTreeMap<String, usize> = BTreeMap::new();
    let mut total = 0;
    for name in &names {
        let binary = fixture(name);
        let Some(out) = host_objdump(&binary) else {
            eprintln!("objdump not available: skipping the live comparison");
            return;
        };
        let report = check(&binary, &out);
        total += report.checked;
        for (m, n) in &report.census {
            *census.entry(m.clone()).or_default() += n;
        }
        assert_clean(name, &report);
    }
    let mut by_count: Vec<_> = census.into_iter().collect();
    by_count.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let shown: Vec<String> = by_count.iter().map(|(m, n)| format!("{m}:{n}")).collect();
    eprintln!(
        "x86_64 decode: {total} instructions in {} fixtures agree with objdump; \
         mnemonic census ({} distinct): {}",
        names.len(),
        shown.len(),
        shown.join(" ")
    );
}
