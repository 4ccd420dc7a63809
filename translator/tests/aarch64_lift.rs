//! aarch64 lifting properties the instruction differential tester
//! (`testsuite/tests/difftest_aarch64.rs`) does not see: flags computed
//! only where used, and control flow shapes.

use vmtrans_ir::interp::{self, Env, GuestState, InterpError, Memory, Outcome, SparseMemory};
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_ir::print::print_function;
use vmtrans_ir::Helper;
use vmtrans_translator::aarch64::lift::FPCR_FZ;
use vmtrans_translator::aarch64::regs::{FPCR, FPSR};
use vmtrans_translator::aarch64::Aarch64Lifter;
use vmtrans_translator::lift::{lift_function, BlockRange, CodeSource, LiftIssue};

const BASE: u64 = 0x1000;

struct Words(Vec<u8>);

impl CodeSource for Words {
    fn code(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let start = addr.checked_sub(BASE)? as usize;
        let rest = self.0.get(start..)?;
        Some(&rest[..len.min(rest.len())])
    }
}

/// Lifts `words` as one block and returns the optimized IR text.
fn optimized(words: &[u32]) -> String {
    let src = Words(words.iter().flat_map(|w| w.to_le_bytes()).collect());
    let block = BlockRange {
        start: BASE,
        end: BASE + 4 * words.len() as u64,
    };
    let (mut f, issues) = lift_function(&Aarch64Lifter, &src, "t", BASE, &[block]);
    assert!(issues.is_empty(), "{issues:?}");
    optimize_function(&mut f, &OptOptions::new(OptLevel::Full)).unwrap();
    print_function(&f)
}

#[test]
fn overwritten_flags_are_dead_code() {
    // subs x0, x0, #1; subs x1, x1, #1: the first NZCV is never read.
    let one = optimized(&[0xf100_0400]);
    let two = optimized(&[0xf100_0400, 0xf100_0421]);
    let count = |s: &str| s.matches("ssub_overflow").count();
    assert_eq!(count(&one), 1, "{one}");
    assert_eq!(count(&two), 1, "{two}");
}

#[test]
fn unused_flags_of_a_compare_feeding_a_branch_go_away() {
    // cmp x0, x1; b.eq +8: only Z is needed for the branch, but NZCV stay
    // live at the exits; a following flag-setting op kills them.
    // cmp x0, x1; cset w2, eq; cmn x3, x4
    let ir = optimized(&[0xeb01_001f, 0x1a9f_17e2, 0xab04_007f]);
    assert_eq!(ir.matches("ssub_overflow").count(), 0, "{ir}");
    assert_eq!(ir.matches("sadd_overflow").count(), 1, "{ir}");
}

/// The value the function's entry reads guest register `reg` into.
fn value_of<'a>(ir: &'a str, reg: &str) -> &'a str {
    ir.lines()
        .find(|l| l.trim_end().ends_with(&format!(".i64 {reg}")))
        .and_then(|l| l.split_whitespace().next())
        .unwrap_or_else(|| panic!("no read of {reg} in {ir}"))
}

#[test]
fn conditions_after_a_compare_are_one_compare_of_its_operands() {
    // cmp x0, x1; cset w2, hi; cset w3, le; cmn x3, x4: `hi` and `le` are
    // `x0 >u x1` and `x0 <=s x1`, not combinations of the flag bits.
    let ir = optimized(&[0xeb01_001f, 0x1a9f_97e2, 0x1a9f_c7e3, 0xab04_007f]);
    let x0 = value_of(&ir, "%x0");
    let x1 = value_of(&ir, "%x1");
    let compares = |ccs: [&str; 2]| {
        ccs.iter()
            .map(|cc| {
                ir.matches(&format!("icmp.i64 {cc} {x0}, {x1}")).count()
                    + ir.matches(&format!("icmp.i64 {cc} {x1}, {x0}")).count()
            })
            .sum::<usize>()
    };
    assert_eq!(compares(["ugt", "ule"]), 1, "{ir}");
    assert_eq!(compares(["sgt", "sle"]), 1, "{ir}");
    assert_eq!(ir.matches("band").count(), 0, "{ir}");
    assert_eq!(ir.matches("ssub_overflow").count(), 0, "{ir}");
}

#[test]
fn refused_instructions_are_lift_errors() {
    // An SVE instruction (ptrue p0.b) and a PAuth return (retaa).
    for w in [0x2518_e3e0u32, 0xd65f_0bff] {
        let src = Words(w.to_le_bytes().to_vec());
        let block = BlockRange {
            start: BASE,
            end: BASE + 4,
        };
        let (_, issues) = lift_function(&Aarch64Lifter, &src, "t", BASE, &[block]);
        assert!(
            matches!(issues.as_slice(), [LiftIssue::Lift(_)]),
            "{w:#x}: {issues:?}"
        );
    }
}

#[test]
fn float_results_are_checked_for_nan_by_one_branch() {
    // fadd d0, d1, d2: the architecture's NaN rule and the FZ input check
    // run on side paths; the straight path has the add, one unordered
    // compare and one test of FPCR.
    let ir = optimized(&[0x1e62_2820]);
    let entry = ir.split("block1").next().expect("entry block");
    assert_eq!(entry.matches("select").count(), 0, "{ir}");
    assert!(ir.contains("fadd.f64"), "{ir}");
    assert!(
        ir.matches("select").count() >= 4,
        "the NaN rule is still there: {ir}"
    );
}

/// A callee that leaves FPCR as `fpcr_after` and returns to the caller's
/// next instruction.
struct SetsFpcr {
    fpcr_after: u128,
}

impl Env for SetsFpcr {
    fn helper(
        &mut self,
        h: Helper,
        _args: &[u128],
        _state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        Err(InterpError::Unsupported(format!("helper {h:?}")))
    }

    fn call(
        &mut self,
        _target: u64,
        state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        state.regs[FPCR.index()] = self.fpcr_after;
        Ok(BASE + 8)
    }
}

#[test]
fn functions_with_float_code_are_lifted_for_the_usual_fpcr_and_tested_again_after_calls() {
    // fadd d0, d1, d2; bl 0x2000; fadd d3, d1, d2: with d1 subnormal,
    // FPSR.IDC must be raised by each add that runs with FPCR.FZ set, also
    // when the callee set it.
    let words: [u32; 3] = [0x1e62_2820, 0x9400_03ff, 0x1e62_2823];
    let src = Words(words.iter().flat_map(|w| w.to_le_bytes()).collect());
    let blocks = [
        BlockRange {
            start: BASE,
            end: BASE + 8,
        },
        BlockRange {
            start: BASE + 8,
            end: BASE + 12,
        },
    ];
    let (mut f, issues) = lift_function(&Aarch64Lifter, &src, "t", BASE, &blocks);
    assert!(issues.is_empty(), "{issues:?}");
    optimize_function(&mut f, &OptOptions::new(OptLevel::Full)).unwrap();
    let ir = print_function(&f);
    assert_eq!(ir.matches("fadd.f64").count(), 4, "two copies: {ir}");
    // Only the copy for a set FZ or DN tests FZ; the other tests the mode
    // once more after the call instead.
    assert_eq!(ir.matches("iconst.i32 0x1000000").count(), 2, "{ir}");
    let fz = FPCR_FZ as u128;
    let idc = 1u128 << 7;
    let v1 = f.regs.by_name("v1").expect("v1").index();
    for (before, after, raised) in [(0, 0, 0), (0, fz, idc), (fz, 0, idc), (fz, fz, idc)] {
        let mut state = GuestState::new(&f.regs);
        state.regs[FPCR.index()] = before;
        state.regs[v1] = 1; // the smallest subnormal double
        let mut env = SetsFpcr { fpcr_after: after };
        let out = interp::run(&f, &mut state, &mut SparseMemory::new(), &mut env, 1000).unwrap();
        assert_eq!(out, Outcome::Exit(BASE + 12));
        assert_eq!(
            state.regs[FPSR.index()] & idc,
            raised,
            "FPCR {before:#x} then {after:#x}"
        );
        assert_eq!(state.regs[FPCR.index()], after, "FPCR is the callee's");
    }
}
