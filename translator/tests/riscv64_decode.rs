//! Proof that the riscv64 decoder is complete and agrees with binutils.
//!
//! Every instruction `riscv64-linux-gnu-objdump -d -M no-aliases` lists for
//! a binary is decoded from the binary's own bytes and compared (length,
//! mnemonic, operands) with objdump's text. The goldens are checked in,
//! zstd-compressed, under `testsuite/decode/riscv64/`:
//!
//! - one per ELF file in `testsuite/fixtures/riscv64/` (static glibc
//!   programs: all of their code, not just `main`);
//! - `isa-all.elf`: every RV64GC + Zba + Zbb instruction and RVC form;
//! - `rvc-all.elf`: every one of the 49152 16-bit encodings;
//! - `random32.elf`: 16384 biased random 32-bit words.
//!
//! Where objdump prints no instruction (`.2byte`/`.4byte`: data, reserved
//! or unknown encodings) the decoder must fail too. The only differences
//! allowed are listed in [`Deviation`], each with the reason.
//!
//! `VMTRANS_BLESS=1` regenerates the goldens (`make -C testsuite/decode
//! bless`; needs the cross binutils and `zstd`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use object::{Object, ObjectSection};
use vmtrans_translator::riscv64::{decode, Insn, Op};

/// The `testsuite` directory.
fn testsuite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testsuite")
}

/// One binary with its golden.
struct Case {
    name: String,
    binary: PathBuf,
    golden: PathBuf,
}

/// Every binary that has a golden: fixtures first, then synthetic objects.
fn cases() -> Vec<Case> {
    let golden_dir = testsuite().join("decode/riscv64");
    let mut cases = Vec::new();
    let mut missing = Vec::new();
    for binary in sorted_files(&testsuite().join("fixtures/riscv64")) {
        if !is_elf(&binary) {
            continue;
        }
        let name = file_name(&binary);
        let golden = golden_dir.join(format!("{name}.objdump.zst"));
        if golden.exists() {
            cases.push(Case {
                name,
                binary,
                golden,
            });
        } else {
            missing.push(name);
        }
    }
    for binary in sorted_files(&golden_dir) {
        if binary.extension().is_some_and(|e| e == "elf") {
            let name = file_name(&binary);
            let stem = name.trim_end_matches(".elf");
            let golden = golden_dir.join(format!("{stem}.objdump.zst"));
            cases.push(Case {
                name,
                binary,
                golden,
            });
        }
    }
    if !missing.is_empty() {
        eprintln!(
            "WARNING: fixtures without an objdump golden (not checked): {}; \
             run `make -C testsuite/decode`",
            missing.join(", ")
        );
    }
    cases
}

/// Files of `dir`, sorted; empty if it does not exist.
fn sorted_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.retain(|p| p.is_file());
    files.sort();
    files
}

/// The last path component as a string.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Whether `path` starts with the ELF magic.
fn is_elf(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|d| d.starts_with(b"\x7fELF"))
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

/// Reads a zstd-compressed golden (with the decompressor `object` already
/// carries, so the test needs no extra dependency).
fn read_golden(path: &Path) -> String {
    let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let size = zstd_content_size(&data).unwrap_or_else(|| {
        panic!(
            "{}: not a zstd file with a recorded content size",
            path.display()
        )
    });
    let text = object::read::CompressedData {
        format: object::read::CompressionFormat::Zstandard,
        data: &data,
        uncompressed_size: size,
    }
    .decompress()
    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    String::from_utf8(text.into_owned()).expect("golden is UTF-8")
}

/// One instruction line of objdump output.
struct Line {
    section: String,
    addr: u64,
    /// The encoding as objdump prints it (the instruction value).
    value: u32,
    /// Its length in bytes.
    len: usize,
    mnemonic: String,
    /// Operands without objdump's `# comment` and `<symbol>` annotations.
    operands: String,
}

impl Line {
    /// objdump's text in the decoder's format.
    fn text(&self) -> String {
        if self.operands.is_empty() {
            self.mnemonic.clone()
        } else {
            format!("{}\t{}", self.mnemonic, self.operands)
        }
    }

    /// Whether objdump printed no instruction (data directive).
    fn is_data(&self) -> bool {
        self.mnemonic.starts_with('.')
    }
}

/// Parses the instruction lines of an objdump listing.
fn parse_golden(text: &str) -> Vec<Line> {
    let mut section = String::new();
    let mut lines = Vec::new();
    for raw in text.lines() {
        if let Some(rest) = raw.strip_prefix("Disassembly of section ") {
            section = rest.trim_end_matches(':').to_string();
            continue;
        }
        // Instruction lines are `   addr:\t...`; nothing that looks like
        // one may be skipped silently.
        let looks_like_insn = raw.starts_with(' ') && raw.contains(":\t");
        if looks_like_insn {
            let line = parse_line(raw, &section)
                .unwrap_or_else(|| panic!("unparsable objdump line: {raw:?}"));
            lines.push(line);
        }
    }
    lines
}

/// Parses `   addr:\tbytes \tmnemonic\toperands # comment`.
fn parse_line(raw: &str, section: &str) -> Option<Line> {
    let mut parts = raw.splitn(4, '\t');
    let addr = parts.next()?.trim().strip_suffix(':')?;
    let addr = u64::from_str_radix(addr, 16).ok()?;
    let hex = parts.next()?.trim();
    if hex.is_empty() || hex.contains(' ') || hex.len() > 8 {
        return None;
    }
    let value = u32::from_str_radix(hex, 16).ok()?;
    let mnemonic = parts.next().unwrap_or("").trim().to_string();
    let mut operands = parts.next().unwrap_or("").trim();
    if let Some(i) = operands.find(" #") {
        operands = &operands[..i];
    }
    if let Some(i) = operands.find(" <") {
        operands = &operands[..i];
    }
    Some(Line {
        section: section.to_string(),
        addr,
        value,
        len: hex.len() / 2,
        mnemonic,
        operands: operands.trim().to_string(),
    })
}

/// A documented, deliberate difference from objdump 2.40.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Deviation {
    /// `c.unimp`: the all-zero halfword is the defined illegal instruction.
    IllegalZero,
    /// `c.addi16sp sp,0`: nzimm = 0 is reserved (ISA manual, C chapter).
    ReservedAddi16sp,
    /// Rounding modes 5 and 6 (objdump: `unknown`) are reserved.
    ReservedRoundingMode,
    /// `sret`, `mret`, `wfi`, ...: privileged, illegal in user mode.
    Privileged,
    /// fence/fence.i with non-zero reserved fields (fm, rs1, rd, fence.i's
    /// immediate): the ISA says to ignore the fields; objdump rejects.
    FenceReservedFields,
    /// fcvt.d.w/fcvt.d.wu/fcvt.d.s with rm != rne: valid (rm cannot change
    /// an exact result); binutils 2.40 only knows rm = rne (newer binutils
    /// print the rm, as we do).
    ExactConversionRm,
}

/// Privileged instructions objdump decodes and vmtrans rejects.
const PRIVILEGED: &[&str] = &["sret", "mret", "wfi", "sfence.vma", "uret", "dret"];

/// Why a line objdump decodes may be rejected by us, if it may.
fn rejected_deviation(line: &Line) -> Option<Deviation> {
    let m = line.mnemonic.as_str();
    if m == "c.unimp" {
        Some(Deviation::IllegalZero)
    } else if m == "c.addi16sp" && line.operands == "sp,0" {
        Some(Deviation::ReservedAddi16sp)
    } else if m.starts_with('f') && !m.starts_with("fence") && line.operands.ends_with(",unknown") {
        Some(Deviation::ReservedRoundingMode)
    } else if PRIVILEGED.contains(&m) {
        Some(Deviation::Privileged)
    } else {
        None
    }
}

/// Why an encoding objdump does not decode may be decoded by us, if it may.
fn accepted_deviation(insn: &Insn) -> Option<Deviation> {
    match insn.op {
        Op::Fence | Op::FenceI if insn.raw & 0x7f == 0x0f => Some(Deviation::FenceReservedFields),
        Op::FcvtDW | Op::FcvtDWu | Op::FcvtDS if insn.rm != 0 => Some(Deviation::ExactConversionRm),
        _ => None,
    }
}

/// objdump's text with its one cosmetic difference removed: an empty fence
/// set is `unknown` to objdump and `0` to us (and to the ISA manual).
fn normalized(line: &Line) -> String {
    let text = line.text();
    if line.mnemonic == "fence" {
        text.replace("unknown", "0")
    } else {
        text
    }
}

/// The outcome of checking one case.
#[derive(Default)]
struct Report {
    /// Instructions decoded by both with identical text and length.
    matched: usize,
    /// Of those, compressed.
    matched_rvc: usize,
    /// Encodings both reject.
    both_reject: usize,
    /// Lines objdump prints as data of another size (not decodable units).
    skipped_data: usize,
    /// Deliberate differences by kind.
    deviations: BTreeMap<Deviation, usize>,
    /// Human-readable mismatches.
    mismatches: Vec<String>,
    /// Ops and compressed mnemonics seen in matched instructions.
    ops: BTreeSet<String>,
    /// Compressed mnemonics seen in matched instructions.
    rvc_forms: BTreeSet<String>,
}

/// Checks every golden line of one case.
fn check_case(case: &Case) -> Report {
    let data = std::fs::read(&case.binary).expect("read binary");
    let file = object::File::parse(&*data).expect("parse ELF");
    let golden = read_golden(&case.golden);
    let mut report = Report::default();
    for line in parse_golden(&golden) {
        let section = file
            .section_by_name(&line.section)
            .unwrap_or_else(|| panic!("{}: no section {}", case.name, line.section));
        let bytes = section.data().expect("section data");
        let offset = (line.addr - section.address()) as usize;
        let code = &bytes[offset..];
        let actual = code
            .iter()
            .take(line.len)
            .rev()
            .fold(0u32, |acc, &b| acc << 8 | u32::from(b));
        assert_eq!(
            actual, line.value,
            "{}: golden out of date at {:#x}; run `make -C testsuite/decode bless`",
            case.name, line.addr
        );
        check_line(&line, code, &mut report);
    }
    report
}

/// Compares our decoding of `code` with one objdump line.
fn check_line(line: &Line, code: &[u8], report: &mut Report) {
    if line.is_data() && line.len != 2 && line.len != 4 {
        report.skipped_data += 1;
        return;
    }
    let ours = decode(code, line.addr);
    let mismatch = |what: String| {
        format!(
            "{:#x} bytes {}: {what}",
            line.addr,
            vmtrans_translator::error::hex(&code[..line.len])
        )
    };
    match (ours, line.is_data()) {
        (Ok(insn), false) => {
            let text = insn.text(line.addr);
            let want = normalized(line);
            if text == want && usize::from(insn.len) == line.len {
                report.matched += 1;
                report.ops.insert(format!("{:?}", insn.op));
                if insn.is_compressed() {
                    report.matched_rvc += 1;
                    report.rvc_forms.insert(line.mnemonic.clone());
                }
            } else {
                report.mismatches.push(mismatch(format!(
                    "ours {text:?} (len {}) vs objdump {want:?} (len {})",
                    insn.len, line.len
                )));
            }
        }
        (Ok(insn), true) => match accepted_deviation(&insn) {
            Some(d) => *report.deviations.entry(d).or_default() += 1,
            None => report.mismatches.push(mismatch(format!(
                "ours {:?} vs objdump {:?} (not an instruction)",
                insn.text(line.addr),
                line.text()
            ))),
        },
        (Err(_), true) => report.both_reject += 1,
        (Err(e), false) => match rejected_deviation(line) {
            Some(d) => *report.deviations.entry(d).or_default() += 1,
            None => report
                .mismatches
                .push(mismatch(format!("ours: {e}; objdump {:?}", line.text()))),
        },
    }
}

/// Reports of every case, computed once for all tests of this file.
fn reports() -> &'static [(String, Report)] {
    static REPORTS: OnceLock<Vec<(String, Report)>> = OnceLock::new();
    REPORTS.get_or_init(|| {
        if std::env::var_os("VMTRANS_BLESS").is_some_and(|v| v != "0") {
            bless();
        }
        cases()
            .iter()
            .map(|c| (c.name.clone(), check_case(c)))
            .collect()
    })
}

/// Regenerates every golden with the Makefile.
fn bless() {
    let dir = testsuite().join("decode");
    let status = std::process::Command::new("make")
        .arg("-C")
        .arg(&dir)
        .arg("bless")
        .status()
        .expect("run make (VMTRANS_BLESS needs make, the riscv64 binutils and zstd)");
    assert!(status.success(), "make -C {} bless failed", dir.display());
}

#[test]
fn riscv64_decode_matches_objdump() {
    let reports = reports();
    assert!(
        reports.iter().any(|(n, _)| n == "hello-O2"),
        "the hello-O2 fixture must be checked"
    );
    let mut summary = String::new();
    let mut failures = String::new();
    let mut total = 0;
    for (name, r) in reports {
        total += r.matched;
        let _ = writeln!(
            summary,
            "{name}: {} instructions identical to objdump ({} RVC), {} rejected by both, \
             {} data lines skipped, deviations {:?}, {} mismatches",
            r.matched,
            r.matched_rvc,
            r.both_reject,
            r.skipped_data,
            r.deviations,
            r.mismatches.len()
        );
        for m in r.mismatches.iter().take(40) {
            let _ = writeln!(failures, "{name}: {m}");
        }
    }
    println!("{summary}total: {total} instructions compared");
    assert!(failures.is_empty(), "mismatches:\n{failures}");
}

#[test]
fn riscv64_every_op_and_rvc_form_is_covered() {
    let mut ops = BTreeSet::new();
    let mut forms = BTreeSet::new();
    for (_, r) in reports() {
        ops.extend(r.ops.iter().cloned());
        forms.extend(r.rvc_forms.iter().cloned());
    }
    let missing: Vec<_> = Op::ALL
        .iter()
        .map(|op| format!("{op:?}"))
        .filter(|op| !ops.contains(op))
        .collect();
    assert!(
        missing.is_empty(),
        "ops never compared with objdump: {missing:?}"
    );
    // Every compressed mnemonic objdump knows for RV64C with D.
    let rvc = [
        "c.addi4spn",
        "c.fld",
        "c.lw",
        "c.ld",
        "c.fsd",
        "c.sw",
        "c.sd",
        "c.addi",
        "c.addiw",
        "c.li",
        "c.addi16sp",
        "c.lui",
        "c.srli",
        "c.srli64",
        "c.srai",
        "c.srai64",
        "c.andi",
        "c.sub",
        "c.xor",
        "c.or",
        "c.and",
        "c.subw",
        "c.addw",
        "c.j",
        "c.beqz",
        "c.bnez",
        "c.slli",
        "c.slli64",
        "c.fldsp",
        "c.lwsp",
        "c.ldsp",
        "c.jr",
        "c.mv",
        "c.ebreak",
        "c.jalr",
        "c.add",
        "c.fsdsp",
        "c.swsp",
        "c.sdsp",
    ];
    let missing: Vec<_> = rvc.iter().filter(|f| !forms.contains(**f)).collect();
    assert!(missing.is_empty(), "RVC forms never compared: {missing:?}");
}

/// The 32-bit instruction objdump's default (alias) output names for a
/// compressed one, in `-M no-aliases` syntax. objdump prints most RVC
/// instructions under their base mnemonic (with legacy spellings such as
/// `add rd,rs,imm` for `addi`) or a pseudo-op; the rest (hints) stay `c.*`.
/// The mapping is the ISA manual's, independent of the decoder's table.
fn canonical_expansion(mnemonic: &str, operands: &str) -> String {
    let o: Vec<&str> = operands.split(',').filter(|s| !s.is_empty()).collect();
    let imm3 = o.len() == 3 && o[2].starts_with(|c: char| c.is_ascii_digit() || c == '-');
    let (m, ops) = match (mnemonic, o.as_slice()) {
        ("nop", []) => ("addi", "zero,zero,0".to_string()),
        ("c.nop", [n]) => ("addi", format!("zero,zero,{n}")),
        ("mv" | "c.mv", [rd, rs]) => ("add", format!("{rd},zero,{rs}")),
        ("c.add", [rd, rs]) => ("add", format!("{rd},{rd},{rs}")),
        ("li" | "c.li", [rd, imm]) => ("addi", format!("{rd},zero,{imm}")),
        ("c.lui", [rd, imm]) => ("lui", format!("{rd},{imm}")),
        ("ret", []) => ("jalr", "zero,0(ra)".to_string()),
        ("jr", [rs]) => ("jalr", format!("zero,0({rs})")),
        ("jalr", [rs]) => ("jalr", format!("ra,0({rs})")),
        ("j", [t]) => ("jal", format!("zero,{t}")),
        ("beqz", [rs, t]) => ("beq", format!("{rs},zero,{t}")),
        ("bnez", [rs, t]) => ("bne", format!("{rs},zero,{t}")),
        ("sext.w", [rd, rs]) => ("addiw", format!("{rd},{rs},0")),
        ("c.slli", [rd, sh]) => ("slli", format!("{rd},{rd},{sh}")),
        ("c.slli64", [rd]) => ("slli", format!("{rd},{rd},0x0")),
        ("c.srli64", [rd]) => ("srli", format!("{rd},{rd},0x0")),
        ("c.srai64", [rd]) => ("srai", format!("{rd},{rd},0x0")),
        ("add", _) if imm3 => ("addi", operands.to_string()),
        ("addw", _) if imm3 => ("addiw", operands.to_string()),
        ("and", _) if imm3 => ("andi", operands.to_string()),
        ("sll", _) if imm3 => ("slli", operands.to_string()),
        ("srl", _) if imm3 => ("srli", operands.to_string()),
        ("sra", _) if imm3 => ("srai", operands.to_string()),
        _ => (mnemonic, operands.to_string()),
    };
    if ops.is_empty() {
        m.to_string()
    } else {
        format!("{m}\t{ops}")
    }
}

/// The RVC expansion table against binutils: every valid 16-bit encoding
/// must expand to the 32-bit instruction objdump's alias output names.
#[test]
fn riscv64_rvc_expansion_matches_objdump() {
    let dir = testsuite().join("decode/riscv64");
    let data = std::fs::read(dir.join("rvc-all.elf")).expect("read rvc-all.elf");
    let file = object::File::parse(&*data).expect("parse ELF");
    let text = file.section_by_name(".text").expect(".text");
    let bytes = text.data().expect("data");
    let mut checked = 0;
    let mut failures = Vec::new();
    for line in parse_golden(&read_golden(&dir.join("rvc-all.aliases.objdump.zst"))) {
        let code = &bytes[line.addr as usize..];
        let Ok(insn) = decode(code, line.addr) else {
            continue; // rejections are checked against the no-aliases golden
        };
        let expanded = Insn { len: 4, ..insn }.text(line.addr);
        let want = canonical_expansion(&line.mnemonic, &line.operands);
        if expanded == want {
            checked += 1;
        } else {
            failures.push(format!(
                "{:#06x}: expands to {expanded:?}, objdump says {want:?}",
                line.value
            ));
        }
    }
    println!("{checked} RVC expansions identical to objdump's");
    assert!(checked > 46_000, "only {checked} expansions checked");
    assert!(
        failures.is_empty(),
        "{}",
        failures[..failures.len().min(40)].join("\n")
    );
}

/// The `riscv-decode` crate's verdict on one instruction objdump decodes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum CrateVerdict {
    /// Same instruction as ours.
    Agrees,
    /// The crate returns an error.
    Misses,
    /// The crate returns a different instruction.
    Differs,
}

/// Census of `riscv-decode` 0.2.3 over every instruction of every golden:
/// the evidence for what the decoder had to add. Run with `--nocapture` to
/// see the table.
#[test]
fn riscv_decode_crate_census() {
    let mut table: BTreeMap<String, BTreeMap<CrateVerdict, usize>> = BTreeMap::new();
    for case in cases() {
        let data = std::fs::read(&case.binary).expect("read binary");
        let file = object::File::parse(&*data).expect("parse ELF");
        for line in parse_golden(&read_golden(&case.golden)) {
            if line.is_data() {
                continue;
            }
            let section = file.section_by_name(&line.section).expect("section");
            let bytes = section.data().expect("data");
            let code = &bytes[(line.addr - section.address()) as usize..];
            let Ok(ours) = decode(code, line.addr) else {
                continue;
            };
            let verdict = match riscv_decode::decode(line.value) {
                Err(_) => CrateVerdict::Misses,
                Ok(i) if crate_name(&i) == ours.op.mnemonic().replace('.', "") => {
                    CrateVerdict::Agrees
                }
                Ok(_) => CrateVerdict::Differs,
            };
            let key = line.mnemonic.split(".aq").next().unwrap_or_default();
            let key = key.split(".rl").next().unwrap_or_default().to_string();
            *table.entry(key).or_default().entry(verdict).or_default() += 1;
        }
    }
    let mut out = String::from("riscv-decode 0.2.3 on instructions objdump decodes:\n");
    let mut crate_rvc = BTreeSet::new();
    for (mnemonic, verdicts) in &table {
        let _ = writeln!(out, "  {mnemonic:<14} {verdicts:?}");
        if mnemonic.starts_with("c.") && verdicts.contains_key(&CrateVerdict::Agrees) {
            crate_rvc.insert(mnemonic.as_str());
        }
        assert!(
            !verdicts.contains_key(&CrateVerdict::Differs),
            "riscv-decode misidentifies {mnemonic}"
        );
    }
    println!("{out}");
    let expected: BTreeSet<&str> = ["c.ld", "c.lw", "c.sd", "c.sdsp", "c.sw", "c.swsp"].into();
    assert_eq!(crate_rvc, expected, "RVC forms riscv-decode expands");
    for gap in [
        "fld",
        "fsd",
        "fadd.d",
        "fmadd.d",
        "fcvt.l.s",
        "fence.tso",
        "clz",
        "add.uw",
    ] {
        let v = &table[gap];
        assert_eq!(
            v.keys().collect::<Vec<_>>(),
            [&CrateVerdict::Misses],
            "{gap}"
        );
    }
}

/// The lower-case variant name of a `riscv-decode` instruction (`Fadds`
/// -> `fadds`), comparable with a mnemonic without dots.
fn crate_name(insn: &riscv_decode::Instruction) -> String {
    let debug = format!("{insn:?}");
    debug
        .split('(')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase()
}
