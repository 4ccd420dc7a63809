//! Golden tests of the lifted IR of small riscv64 functions
//! (`testsuite/lift/funcs.c`, built at -O0 and -O2 into committed static
//! binaries by `testsuite/lift/Makefile`).
//!
//! For every fixture and function: discover, lift (no lift issues allowed),
//! verify, check that the printed IR round-trips through the parser, optimize
//! (`OptLevel::Full`), and compare the annotated lifted IR plus the optimized
//! IR with `testsuite/lift/golden/<fixture>/<function>.ir`
//! (`VMTRANS_BLESS=1` rewrites them).
//!
//! Then the optimized IR runs on the reference interpreter with known inputs
//! and is checked against what the C source computes. Guest calls and exits
//! to the dispatcher (indirect jumps, tail calls) are followed by a tiny
//! dispatcher that lifts the code at the target on demand, so each run starts
//! like a real call (`ra` = a sentinel) and must end in `Return(sentinel)`.

use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::OnceLock;

use vmtrans_ir::interp::{self, Env, GuestState, InterpError, Memory, Outcome, SparseMemory};
use vmtrans_ir::ops::Helper;
use vmtrans_ir::parse::parse_function;
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_ir::print::{print_function, print_function_annotated};
use vmtrans_ir::verify::verify_function;
use vmtrans_ir::Function;
use vmtrans_testsuite::{blessing, check_golden, suite_dir};
use vmtrans_translator::discover::{self, Discovery};
use vmtrans_translator::lift::lift_function;
use vmtrans_translator::loader::GuestImage;
use vmtrans_translator::riscv64::regs::{self, x};
use vmtrans_translator::riscv64::Riscv64Lifter;

/// The functions of `funcs.c` with a golden file each.
const FUNCTIONS: [&str; 14] = [
    "arith32",
    "sum_array",
    "switch_table",
    "square_plus",
    "call_other",
    "tail_call",
    "sdiv",
    "udiv32",
    "fma_like",
    "single_math",
    "d2i",
    "atomic_add",
    "cas_update",
    "copy_bytes",
];

/// Where guest code "returns" to at the end of a test call.
const SENTINEL_RA: u64 = 0xdead0;
/// Initial stack pointer: far from the image, 16-byte aligned.
const STACK_TOP: u64 = 0x7fff_0000;
/// Scratch data for pointer arguments.
const DATA: u64 = 0x6000_0000;
/// Interpreter fuel per lifted-function run.
const FUEL: u64 = 1_000_000;

/// A loaded and discovered fixture, plus guest memory holding its image.
struct Fixture {
    name: &'static str,
    image: GuestImage,
    discovery: Discovery,
    memory: SparseMemory,
}

fn load_fixture(name: &'static str) -> Fixture {
    let path = suite_dir().join("lift").join(name);
    let image = GuestImage::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let discovery = discover::discover(&image, &Riscv64Lifter);
    let mut memory = SparseMemory::new();
    for seg in &image.segments {
        memory.write_bytes(seg.vaddr, &seg.bytes);
    }
    Fixture {
        name,
        image,
        discovery,
        memory,
    }
}

fn fixture_o0() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| load_fixture("funcs-O0"))
}

fn fixture_o2() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| load_fixture("funcs-O2"))
}

fn fixtures() -> [&'static Fixture; 2] {
    [fixture_o0(), fixture_o2()]
}

impl Fixture {
    fn function(&self, name: &str) -> &discover::Function {
        self.discovery
            .functions
            .iter()
            .find(|f| f.name.as_deref() == Some(name))
            .unwrap_or_else(|| panic!("{}: no function {name:?} discovered", self.name))
    }

    /// The discovered function with a block starting at `pc` (a function
    /// entering there preferred).
    fn function_with_block(&self, pc: u64) -> Option<&discover::Function> {
        let fs = &self.discovery.functions;
        fs.iter()
            .find(|f| f.entry == pc)
            .or_else(|| fs.iter().find(|f| f.block(pc).is_some()))
    }
}

/// Lifts `f` entered at `entry` (its entry, or one of its blocks), checking
/// that lifting reported nothing and that the result verifies.
fn lift_checked(fx: &Fixture, f: &discover::Function, entry: u64) -> Result<Function, String> {
    let name = f.display_name();
    let (func, issues) = lift_function(&Riscv64Lifter, &fx.image, &name, entry, &f.block_ranges());
    if !issues.is_empty() {
        return Err(format!("{name}: lift issues: {issues:?}"));
    }
    verify_function(&func).map_err(|e| format!("{name}: lifted IR does not verify: {e}"))?;
    Ok(func)
}

fn optimized(func: &Function) -> Result<Function, String> {
    let mut g = func.clone();
    optimize_function(&mut g, &OptOptions::new(OptLevel::Full))
        .map_err(|e| format!("{}: optimize: {e}", func.name))?;
    verify_function(&g).map_err(|e| format!("{}: optimized IR does not verify: {e}", g.name))?;
    Ok(g)
}

/// "N instructions, M blocks" (terminators are not counted).
fn size_text(insts: usize, blocks: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "{}, {}",
        plural(insts, "instruction"),
        plural(blocks, "block")
    )
}

/// [`size_text`] of an IR function.
fn ir_size(f: &Function) -> String {
    let blocks = f.layout();
    let insts = blocks.iter().map(|&b| f.block(b).insts.len()).sum();
    size_text(insts, blocks.len())
}

fn round_trip(func: &Function) -> Result<(), String> {
    let printed = print_function(func);
    let parsed = parse_function(&printed, func.regs.clone())
        .map_err(|e| format!("{}: parse(print): {e}", func.name))?;
    if print_function(&parsed) != printed {
        return Err(format!(
            "{}: print(parse(print(f))) differs from print(f)",
            func.name
        ));
    }
    Ok(())
}

/// The golden text of one function: annotated lifted IR, then optimized IR.
fn golden_text(fx: &Fixture, name: &str) -> Result<String, String> {
    let f = fx.function(name);
    let func = lift_checked(fx, f, f.entry)?;
    round_trip(&func)?;
    let opt = optimized(&func)?;
    round_trip(&opt)?;
    let annotate = |pc: u64| f.insn(pc).map(|i| i.text.clone());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "; {} {name} @{:#x}, guest: {}",
        fx.name,
        f.entry,
        size_text(f.insns.len(), f.blocks.len())
    );
    let _ = writeln!(out, "; lifted: {}", ir_size(&func));
    out.push_str(&print_function_annotated(&func, &annotate));
    let _ = writeln!(out, "\n; optimized (OptLevel::Full): {}", ir_size(&opt));
    out.push_str(&print_function_annotated(&opt, &annotate));
    Ok(out)
}

fn golden_path(fx: &Fixture, name: &str) -> PathBuf {
    suite_dir()
        .join("lift")
        .join("golden")
        .join(fx.name)
        .join(format!("{name}.ir"))
}

fn check_fixture_goldens(fx: &Fixture) {
    if blessing() {
        let dir = golden_path(fx, "x").with_file_name("");
        std::fs::create_dir_all(&dir).expect("golden directory");
    }
    let mut failures = Vec::new();
    for name in FUNCTIONS {
        let path = golden_path(fx, name);
        match golden_text(fx, name).and_then(|text| check_golden(&path, &text)) {
            Ok(()) => println!("ok   {}", path.display()),
            Err(e) => failures.push(format!("{} {name}: {e}", fx.name)),
        }
    }
    // A golden without a function is stale (a renamed or removed function).
    let dir = golden_path(fx, "x").with_file_name("");
    for entry in std::fs::read_dir(&dir).expect("golden directory").flatten() {
        let path = entry.path();
        let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if !FUNCTIONS.contains(&stem) {
            failures.push(format!(
                "{}: stale golden (not in FUNCTIONS)",
                path.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} lifted-IR golden failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn lifted_ir_golden_o0() {
    check_fixture_goldens(fixture_o0());
}

#[test]
fn lifted_ir_golden_o2() {
    check_fixture_goldens(fixture_o2());
}

/// Runs guest code on the interpreter: a minimal dispatcher that lifts and
/// optimizes the code at each guest PC it is sent to, and serves guest calls
/// by running the callee the same way.
struct Dispatcher<'a> {
    fx: &'a Fixture,
    cache: HashMap<u64, Rc<Function>>,
    /// PCs reached through `exit` (indirect jumps, tail calls), in order.
    exits: Vec<u64>,
    /// Targets of guest calls, in order.
    calls: Vec<u64>,
}

impl<'a> Dispatcher<'a> {
    fn new(fx: &'a Fixture) -> Dispatcher<'a> {
        Dispatcher {
            fx,
            cache: HashMap::new(),
            exits: Vec::new(),
            calls: Vec::new(),
        }
    }

    fn code_at(&mut self, pc: u64) -> Result<Rc<Function>, String> {
        if let Some(f) = self.cache.get(&pc) {
            return Ok(f.clone());
        }
        let df = self
            .fx
            .function_with_block(pc)
            .ok_or_else(|| format!("{}: no code discovered at {pc:#x}", self.fx.name))?;
        let f = Rc::new(optimized(&lift_checked(self.fx, df, pc)?)?);
        self.cache.insert(pc, f.clone());
        Ok(f)
    }

    /// Runs from `pc` until the code returns; gives the PC it returned to.
    fn run_from(
        &mut self,
        mut pc: u64,
        state: &mut GuestState,
        mem: &mut dyn Memory,
    ) -> Result<u64, String> {
        loop {
            let f = self.code_at(pc)?;
            match interp::run(&f, state, mem, self, FUEL).map_err(|e| e.to_string())? {
                Outcome::Return(to) => return Ok(to),
                Outcome::Exit(next) => {
                    self.exits.push(next);
                    pc = next;
                }
                Outcome::Trap(kind, at) => return Err(format!("trap {kind:?} at {at:#x}")),
            }
        }
    }
}

impl Env for Dispatcher<'_> {
    fn helper(
        &mut self,
        h: Helper,
        _args: &[u128],
        _state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        Err(InterpError::Unsupported(format!(
            "helper @{} called from a lifted test function",
            h.name()
        )))
    }

    fn call(
        &mut self,
        target: u64,
        state: &mut GuestState,
        mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        self.calls.push(target);
        self.run_from(target, state, mem)
            .map_err(InterpError::Unsupported)
    }
}

/// The result of calling one guest function.
struct CallResult {
    state: GuestState,
    mem: SparseMemory,
    exits: Vec<u64>,
    calls: Vec<u64>,
}

impl CallResult {
    fn a0(&self) -> u64 {
        self.state.regs[x(10).index()] as u64
    }

    fn fa0(&self) -> u64 {
        self.state.regs[regs::f(10).index()] as u64
    }

    fn read(&self, addr: u64, len: usize) -> Vec<u8> {
        (0..len as u64).map(|i| self.mem.byte(addr + i)).collect()
    }
}

/// Integer and FP arguments (raw register bits) and memory to set up.
#[derive(Default)]
struct Args<'a> {
    int: &'a [u64],
    fp: &'a [u64],
    mem: &'a [(u64, &'a [u8])],
}

/// Calls `name` in `fx` with `args` per the riscv64 calling convention and
/// checks it returns to the sentinel.
fn call(fx: &Fixture, name: &str, args: &Args) -> CallResult {
    let f = fx.function(name);
    let mut state = GuestState::new(&regs::regfile());
    for (i, &v) in args.int.iter().enumerate() {
        state.regs[x(10 + i as u8).index()] = u128::from(v);
    }
    for (i, &v) in args.fp.iter().enumerate() {
        state.regs[regs::f(10 + i as u8).index()] = u128::from(v);
    }
    state.regs[x(1).index()] = u128::from(SENTINEL_RA);
    state.regs[x(2).index()] = u128::from(STACK_TOP);
    let mut mem = fx.memory.clone();
    for (addr, bytes) in args.mem {
        mem.write_bytes(*addr, bytes);
    }
    let mut d = Dispatcher::new(fx);
    let first = d
        .code_at(f.entry)
        .unwrap_or_else(|e| panic!("{} {name}: {e}", fx.name));
    let outcome = interp::run(&first, &mut state, &mut mem, &mut d, FUEL)
        .unwrap_or_else(|e| panic!("{} {name}: {e}", fx.name));
    // Indirect jumps and tail calls leave the function through the
    // dispatcher; follow them to the final return.
    let outcome = match outcome {
        Outcome::Exit(pc) => {
            d.exits.push(pc);
            let to = d
                .run_from(pc, &mut state, &mut mem)
                .unwrap_or_else(|e| panic!("{} {name}: {e}", fx.name));
            Outcome::Return(to)
        }
        other => other,
    };
    assert_eq!(
        outcome,
        Outcome::Return(SENTINEL_RA),
        "{} {name}: wrong outcome",
        fx.name
    );
    assert_eq!(
        state.regs[x(2).index()],
        u128::from(STACK_TOP),
        "{} {name}: sp not restored",
        fx.name
    );
    CallResult {
        state,
        mem,
        exits: d.exits,
        calls: d.calls,
    }
}

/// Sign-extends a 32-bit result as the riscv64 ABI keeps it in a register.
fn sext32(v: i32) -> u64 {
    i64::from(v) as u64
}

fn int_call(fx: &Fixture, name: &str, int: &[u64]) -> CallResult {
    call(
        fx,
        name,
        &Args {
            int,
            ..Args::default()
        },
    )
}

fn is_o2(fx: &Fixture) -> bool {
    fx.name.ends_with("O2")
}

#[test]
fn interp_arith32() {
    fn model(a: i32, b: i32) -> i32 {
        let t = a.wrapping_add(b).wrapping_shl(3);
        if t > b {
            t.wrapping_sub(a)
        } else {
            (a >> 2).wrapping_mul(b)
        }
    }
    let cases = [
        (5, 7),
        (-100, 3),
        (i32::MAX, 1),
        (0x1000_0000, 0x1000_0000),
        (-9, -40),
    ];
    for fx in fixtures() {
        for (a, b) in cases {
            let r = int_call(fx, "arith32", &[sext32(a), sext32(b)]);
            assert_eq!(r.a0(), sext32(model(a, b)), "{} arith32({a}, {b})", fx.name);
            assert!(r.calls.is_empty() && r.exits.is_empty());
        }
    }
}

#[test]
fn interp_sum_array() {
    let values: [i64; 6] = [5, -7, 1 << 40, 3, i64::MIN, 9];
    let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
    for fx in fixtures() {
        for n in [0usize, 1, 4, 6] {
            let want = values[..n].iter().fold(0i64, |s, v| s.wrapping_add(*v));
            let r = call(
                fx,
                "sum_array",
                &Args {
                    int: &[DATA, n as u64],
                    mem: &[(DATA, &bytes)],
                    ..Args::default()
                },
            );
            assert_eq!(r.a0(), want as u64, "{} sum_array(n={n})", fx.name);
        }
    }
}

#[test]
fn interp_switch_table() {
    let (a, b) = (0x1234_5678_9abc_i64, 13_i64);
    let cases: [(i64, i64); 9] = [
        (0, a + b),
        (1, a - b),
        (2, a.wrapping_mul(b)),
        (3, a ^ b),
        (4, a << b),
        (5, a | b),
        (6, (a & b) + 1),
        (7, -1),
        (-1, -1),
    ];
    for fx in fixtures() {
        for (k, want) in cases {
            let r = int_call(fx, "switch_table", &[k as u64, a as u64, b as u64]);
            assert_eq!(r.a0(), want as u64, "{} switch_table({k})", fx.name);
            // Cases 0..6 go through the jump table: one indirect jump.
            let via_table = (0..7).contains(&k);
            assert_eq!(r.exits.len(), usize::from(via_table), "{} {k}", fx.name);
        }
    }
}

#[test]
fn interp_call_other() {
    let sq = |x: i64, y: i64| x.wrapping_mul(x).wrapping_add(y);
    for fx in fixtures() {
        let entry = fx.function("square_plus").entry;
        for x0 in [0_i64, 2, -5, 1 << 33] {
            let y = sq(x0, 3);
            let want = y.wrapping_add(sq(y, x0));
            let r = int_call(fx, "call_other", &[x0 as u64]);
            assert_eq!(r.a0(), want as u64, "{} call_other({x0})", fx.name);
            assert_eq!(r.calls, [entry, entry], "{}", fx.name);
        }
    }
}

#[test]
fn interp_tail_call() {
    for fx in fixtures() {
        let entry = fx.function("square_plus").entry;
        for x0 in [0_i64, 6, -3] {
            let want = (x0 + 1) * (x0 + 1) + x0;
            let r = int_call(fx, "tail_call", &[x0 as u64]);
            assert_eq!(r.a0(), want as u64, "{} tail_call({x0})", fx.name);
            // -O0 calls and returns; -O2 jumps (an exit to the dispatcher).
            if is_o2(fx) {
                assert_eq!((r.calls.len(), r.exits.as_slice()), (0, &[entry][..]));
            } else {
                assert_eq!((r.calls.as_slice(), r.exits.len()), (&[entry][..], 0));
            }
        }
    }
}

#[test]
fn interp_sdiv() {
    // C semantics where defined; riscv64 semantics for the corners C leaves
    // undefined (x / 0 = -1 and x % 0 = x; MIN / -1 = MIN and MIN % -1 = 0).
    let cases: [(i64, i64, i64); 7] = [
        (700, 3, 233 * 1000 + 1),
        (-700, 3, -233 * 1000 - 1),
        (700, -3, -233 * 1000 + 1),
        (-7, -2, 3 * 1000 - 1),
        (42, 0, -1000 + 42),
        (i64::MIN, -1, i64::MIN.wrapping_mul(1000)),
        (i64::MAX, 1 << 62, 1000 + ((1 << 62) - 1)),
    ];
    for fx in fixtures() {
        for (a, b, want) in cases {
            let r = int_call(fx, "sdiv", &[a as u64, b as u64]);
            assert_eq!(r.a0(), want as u64, "{} sdiv({a}, {b})", fx.name);
        }
    }
}

#[test]
fn interp_udiv32() {
    let model = |a: u32, b: u32| {
        // riscv64: x / 0 = all ones, x % 0 = x.
        let q = a.checked_div(b).unwrap_or(u32::MAX);
        let r = a.checked_rem(b).unwrap_or(a);
        q.wrapping_mul(1000).wrapping_add(r)
    };
    let cases: [(u32, u32); 6] = [
        (700, 3),
        (0xffff_fff0, 7),
        (0x8000_0000, 0x8000_0000),
        (5, 9),
        (12345, 0),
        (u32::MAX, 1),
    ];
    for fx in fixtures() {
        for (a, b) in cases {
            // Unsigned ints are passed sign-extended from bit 31 too.
            let r = int_call(fx, "udiv32", &[sext32(a as i32), sext32(b as i32)]);
            let want = sext32(model(a, b) as i32);
            assert_eq!(r.a0(), want, "{} udiv32({a}, {b})", fx.name);
        }
    }
}

/// `a * b + c - a / 4`: unfused at -O0, two fused multiply-adds at -O2.
fn fma_like_model(o2: bool, a: f64, b: f64, c: f64) -> f64 {
    if o2 {
        (-a).mul_add(0.25, a.mul_add(b, c))
    } else {
        a * b + c - a / 4.0
    }
}

#[test]
fn interp_fma_like() {
    let eps = f64::powi(2.0, -30);
    let cases = [
        (1.5, -2.25, 10.0),
        // a * b = 2^70 - 2^10 exactly: only a fused multiply-add keeps the
        // -2^10 after adding c = -2^70.
        (1.0 + eps, (1.0 - eps) * 2f64.powi(70), -2f64.powi(70)),
        (3.0, f64::INFINITY, f64::NEG_INFINITY),
        (-0.0, 0.0, -0.0),
    ];
    for fx in fixtures() {
        for (a, b, c) in cases {
            let want = fma_like_model(is_o2(fx), a, b, c);
            let r = call(
                fx,
                "fma_like",
                &Args {
                    fp: &[a.to_bits(), b.to_bits(), c.to_bits()],
                    ..Args::default()
                },
            );
            let got = f64::from_bits(r.fa0());
            let same = got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan());
            assert!(
                same,
                "{} fma_like({a}, {b}, {c}) = {got:e}, want {want:e}",
                fx.name
            );
        }
    }
    // The fused and unfused results differ for the second case.
    let (a, b, c) = cases[1];
    assert_ne!(
        fma_like_model(true, a, b, c),
        fma_like_model(false, a, b, c)
    );
}

/// NaN-boxes a single-precision value as the FP registers hold it.
fn boxed(v: f32) -> u64 {
    0xffff_ffff_0000_0000 | u64::from(v.to_bits())
}

#[test]
fn interp_single_math() {
    // x * y - x / y + 1.5: fmsub.s then fadd.s at -O2.
    let model = |o2: bool, x: f32, y: f32| {
        if o2 {
            x.mul_add(y, -(x / y)) + 1.5
        } else {
            x * y - x / y + 1.5
        }
    };
    let cases = [(3.0_f32, 0.5_f32), (1.0, 3.0), (-2.5, 1e-3), (7.0, 0.0)];
    for fx in fixtures() {
        for (xv, yv) in cases {
            let want = model(is_o2(fx), xv, yv);
            let r = call(
                fx,
                "single_math",
                &Args {
                    fp: &[boxed(xv), boxed(yv)],
                    ..Args::default()
                },
            );
            assert_eq!(
                r.fa0(),
                boxed(want),
                "{} single_math({xv}, {yv}): {:#x}, want {want}",
                fx.name,
                r.fa0()
            );
        }
    }
}

#[test]
fn interp_d2i() {
    // Truncation toward zero; out of range and NaN saturate as riscv64
    // fcvt.w.d does (C leaves them undefined).
    let cases: [(f64, i32); 7] = [
        (3.7, 3),
        (-3.7, -3),
        (-0.5, 0),
        (2147483647.9, i32::MAX),
        (1e20, i32::MAX),
        (-1e20, i32::MIN),
        (f64::NAN, i32::MAX),
    ];
    for fx in fixtures() {
        for (d, want) in cases {
            let r = call(
                fx,
                "d2i",
                &Args {
                    fp: &[d.to_bits()],
                    ..Args::default()
                },
            );
            assert_eq!(r.a0(), sext32(want), "{} d2i({d})", fx.name);
        }
    }
}

#[test]
fn interp_atomic_add() {
    for fx in fixtures() {
        for (old, add) in [(5_i64, 7_i64), (-1, 1), (i64::MAX, 1)] {
            let bytes = old.to_le_bytes();
            let r = call(
                fx,
                "atomic_add",
                &Args {
                    int: &[DATA, add as u64],
                    mem: &[(DATA, &bytes)],
                    ..Args::default()
                },
            );
            assert_eq!(
                r.a0(),
                old as u64,
                "{} atomic_add returns the old value",
                fx.name
            );
            let new = i64::from_le_bytes(r.read(DATA, 8).try_into().unwrap());
            assert_eq!(new, old.wrapping_add(add), "{} atomic_add stores", fx.name);
        }
    }
}

#[test]
fn interp_cas_update() {
    for fx in fixtures() {
        for (old, v) in [(3_i32, 2_i32), (-10, 1), (i32::MAX, 5)] {
            let bytes = old.to_le_bytes();
            let r = call(
                fx,
                "cas_update",
                &Args {
                    int: &[DATA, sext32(v)],
                    mem: &[(DATA, &bytes)],
                    ..Args::default()
                },
            );
            assert_eq!(
                r.a0(),
                sext32(old),
                "{} cas_update returns the old value",
                fx.name
            );
            let new = i32::from_le_bytes(r.read(DATA, 4).try_into().unwrap());
            let want = old.wrapping_mul(2).wrapping_add(v);
            assert_eq!(new, want, "{} cas_update stores", fx.name);
            // The neighbouring word is untouched.
            assert_eq!(r.read(DATA + 4, 4), [0; 4], "{}", fx.name);
        }
    }
}

#[test]
fn interp_copy_bytes() {
    let src: Vec<u8> = (1..=23).collect();
    let dst = DATA + 0x100;
    for fx in fixtures() {
        for n in [0usize, 1, 7, 23] {
            let r = call(
                fx,
                "copy_bytes",
                &Args {
                    int: &[dst, DATA, n as u64],
                    mem: &[(DATA, &src), (dst, &[0xee; 24])],
                    ..Args::default()
                },
            );
            let mut want = vec![0xee; 24];
            want[..n].copy_from_slice(&src[..n]);
            assert_eq!(r.read(dst, 24), want, "{} copy_bytes(n={n})", fx.name);
        }
    }
}
