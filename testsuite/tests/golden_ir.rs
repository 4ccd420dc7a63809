//! Golden IR tests: every `testsuite/ir/*.ir` file is parsed, verified,
//! printed back (the text must round-trip exactly), optimized, and run on the
//! reference interpreter for each of its `; run:` lines — both before and
//! after optimization, against the expectations on the line. The optimized
//! IR and the run results are compared with `<name>.expected`;
//! `VMTRANS_BLESS=1` rewrites those files.
//!
//! A run line: `; run: REG=VALUE ... mem64[ADDR]=VALUE ... -> OUTCOME CHECKS`
//! where OUTCOME is `exit PC`, `ret PC` or `trap KIND PC`, and CHECKS are
//! `REG=VALUE` and `mem64[ADDR]=VALUE` that must hold afterwards. Numbers are
//! decimal or `0x` hex and may contain `_`.

use std::fmt::Write;
use std::path::Path;

use vmtrans_ir::interp::{self, GuestState, NoEnv, Outcome, SparseMemory};
use vmtrans_ir::parse::parse_module;
use vmtrans_ir::passes::{optimize_module, OptLevel, OptOptions};
use vmtrans_ir::print::print_module;
use vmtrans_ir::verify::verify_module;
use vmtrans_ir::{Function, TrapKind};
use vmtrans_testsuite::{check_golden, suite_dir};

/// One assignment or check: a register or a 64-bit memory word.
#[derive(Debug)]
enum Place {
    Reg(String),
    Mem64(u64),
}

#[derive(Debug)]
struct RunLine {
    inputs: Vec<(Place, u128)>,
    outcome: Outcome,
    checks: Vec<(Place, u128)>,
}

fn number(text: &str) -> Result<u128, String> {
    let clean: String = text.chars().filter(|&c| c != '_').collect();
    let parsed = match clean.strip_prefix("0x") {
        Some(hex) => u128::from_str_radix(hex, 16),
        None => clean.parse(),
    };
    parsed.map_err(|_| format!("bad number {text:?}"))
}

fn place_value(item: &str) -> Result<(Place, u128), String> {
    let (lhs, rhs) = item
        .split_once('=')
        .ok_or_else(|| format!("expected NAME=VALUE, found {item:?}"))?;
    let place = match lhs.strip_prefix("mem64[").and_then(|r| r.strip_suffix(']')) {
        Some(addr) => Place::Mem64(number(addr)? as u64),
        None => Place::Reg(lhs.to_string()),
    };
    Ok((place, number(rhs)?))
}

fn parse_run_line(line: &str) -> Result<RunLine, String> {
    let (lhs, rhs) = line
        .split_once("->")
        .ok_or_else(|| "run line has no '->'".to_string())?;
    let inputs = lhs
        .split_whitespace()
        .map(place_value)
        .collect::<Result<_, _>>()?;
    let mut words = rhs.split_whitespace();
    let outcome = match words.next() {
        Some("exit") => Outcome::Exit(number(words.next().unwrap_or(""))? as u64),
        Some("ret") => Outcome::Return(number(words.next().unwrap_or(""))? as u64),
        Some("trap") => {
            let kind = words.next().unwrap_or("");
            let kind =
                TrapKind::from_name(kind).ok_or_else(|| format!("bad trap kind {kind:?}"))?;
            Outcome::Trap(kind, number(words.next().unwrap_or(""))? as u64)
        }
        other => return Err(format!("bad outcome {other:?}")),
    };
    let checks = words.map(place_value).collect::<Result<_, _>>()?;
    Ok(RunLine {
        inputs,
        outcome,
        checks,
    })
}

fn read_mem64(mem: &SparseMemory, addr: u64) -> u128 {
    let mut v = 0u128;
    for i in (0..8).rev() {
        v = v << 8 | u128::from(mem.byte(addr + i));
    }
    v
}

/// Runs `f` for one run line and returns a description of every mismatch.
fn check_run(f: &Function, run: &RunLine) -> Result<String, String> {
    let mut state = GuestState::new(&f.regs);
    let mut mem = SparseMemory::new();
    let reg = |name: &str| {
        f.regs
            .by_name(name)
            .ok_or_else(|| format!("unknown register {name:?}"))
    };
    for (place, value) in &run.inputs {
        match place {
            Place::Reg(name) => state.regs[reg(name)?.index()] = *value,
            Place::Mem64(addr) => mem.write_bytes(*addr, &(*value as u64).to_le_bytes()),
        }
    }
    let outcome = interp::run(f, &mut state, &mut mem, &mut NoEnv, 100_000)
        .map_err(|e| format!("interpreter: {e}"))?;
    let mut problems = Vec::new();
    if outcome != run.outcome {
        problems.push(format!("outcome {outcome:?}, expected {:?}", run.outcome));
    }
    for (place, want) in &run.checks {
        let (name, got) = match place {
            Place::Reg(name) => (name.clone(), state.regs[reg(name)?.index()]),
            Place::Mem64(addr) => (format!("mem64[{addr:#x}]"), read_mem64(&mem, *addr)),
        };
        if got != *want {
            problems.push(format!("{name} = {got:#x}, expected {want:#x}"));
        }
    }
    if problems.is_empty() {
        Ok(format!("{outcome:?}"))
    } else {
        Err(problems.join("; "))
    }
}

/// Checks one `.ir` file; returns the text of its `.expected` file.
fn check_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let module = parse_module(&text).map_err(|e| format!("parse: {e}"))?;
    verify_module(&module).map_err(|e| format!("verify: {e}"))?;
    let printed = print_module(&module);
    let reparsed = parse_module(&printed).map_err(|e| format!("reparse: {e}"))?;
    if print_module(&reparsed) != printed {
        return Err("print(parse(print(module))) differs from print(module)".into());
    }
    let mut optimized = module.clone();
    optimize_module(&mut optimized, &OptOptions::new(OptLevel::Full))
        .map_err(|e| format!("optimize: {e}"))?;

    let runs: Vec<RunLine> = text
        .lines()
        .filter_map(|l| l.strip_prefix("; run:"))
        .map(parse_run_line)
        .collect::<Result<_, _>>()?;
    if runs.is_empty() {
        return Err("no '; run:' lines: a golden IR test must execute something".into());
    }
    let mut expected = String::from("; optimized (OptLevel::Full)\n");
    expected.push_str(&print_module(&optimized));
    expected.push_str("\n; run results\n");
    for (n, run) in runs.iter().enumerate() {
        for (label, m) in [("original", &module), ("optimized", &optimized)] {
            for f in &m.functions {
                let result = check_run(f, run).map_err(|e| {
                    format!("run {} on the {label} function {}: {e}", n + 1, f.name)
                })?;
                if label == "optimized" {
                    let _ = writeln!(expected, "; run {}: {result}", n + 1);
                }
            }
        }
    }
    Ok(expected)
}

#[test]
fn golden_ir_files() {
    let dir = suite_dir().join("ir");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("testsuite/ir exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ir"))
        .collect();
    files.sort();
    assert!(
        files.len() >= 7,
        "expected the golden IR corpus in {}",
        dir.display()
    );
    let mut failures = Vec::new();
    for path in &files {
        let result =
            check_file(path).and_then(|text| check_golden(&path.with_extension("expected"), &text));
        match result {
            Ok(()) => println!("ok   {}", path.display()),
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden IR failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn run_lines_parse() {
    let r = parse_run_line("a=0x1_0 mem64[0x8]=3 -> trap divide_error 0x4 b=2").unwrap();
    assert_eq!(r.inputs.len(), 2);
    assert_eq!(r.outcome, Outcome::Trap(TrapKind::DivideError, 4));
    assert_eq!(r.checks.len(), 1);
    assert!(parse_run_line("a=1 -> leave 0x4").is_err());
}
