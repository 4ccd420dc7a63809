//! Pass tests: small functions in the text format, the expected output of
//! each pass, and an interpreter check that behaviour is unchanged.

use std::sync::Arc;

use super::*;
use crate::function::RegFile;
use crate::interp::{run, Env, GuestState, InterpError, Memory, NoEnv, Outcome, SparseMemory};
use crate::ops::Helper;
use crate::parse::parse_function;
use crate::print::print_function;
use crate::types::Type;

fn regs() -> Arc<RegFile> {
    Arc::new(RegFile::new(
        "t",
        [
            ("a".to_string(), Type::I64),
            ("b".to_string(), Type::I64),
            ("c".to_string(), Type::I1),
        ],
    ))
}

/// Helpers bump `a`, pure ones return 0x21 instead; guest calls return to
/// `target + 4`.
struct BumpEnv;

impl Env for BumpEnv {
    fn helper(
        &mut self,
        h: Helper,
        _args: &[u128],
        state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        if h.is_pure() {
            return Ok(Some(0x21));
        }
        state.regs[0] = (state.regs[0] + 1) & u128::from(u64::MAX);
        Ok(None)
    }

    fn call(
        &mut self,
        target: u64,
        state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        state.regs[1] = state.regs[0];
        Ok(target + 4)
    }
}

type Observed = (Result<Outcome, InterpError>, GuestState, SparseMemory);

fn observe(f: &Function, a: u128, b: u128) -> Observed {
    let mut st = GuestState::new(&f.regs);
    st.regs[0] = a;
    st.regs[1] = b;
    let mut mem = SparseMemory::new();
    mem.write_bytes(0x100, &[1, 2, 3, 4, 5, 6, 7, 8]);
    let r = run(f, &mut st, &mut mem, &mut BumpEnv, 10_000).map_err(|e| {
        // Locations differ between versions; keep only the kind.
        InterpError::Unsupported(format!("{:?}", std::mem::discriminant(&e)))
    });
    (r, st, mem)
}

/// Runs `passes` (each to a fixed point, in order), checks the result
/// verifies and behaves like the input, and returns its text.
fn apply(text: &str, passes: &[&dyn Pass]) -> String {
    let before = parse_function(text, regs()).expect("test input parses");
    verify_function(&before).expect("test input verifies");
    let mut f = before.clone();
    for p in passes {
        let mut rounds = 0;
        while p.run(&mut f) {
            verify_function(&f)
                .unwrap_or_else(|e| panic!("{}: {e}\n{}", p.name(), print_function(&f)));
            rounds += 1;
            assert!(rounds < 10, "{} does not converge", p.name());
        }
    }
    for (a, b) in [(0, 0), (1, 2), (0x100, 7), (u128::from(u64::MAX), 3)] {
        assert_eq!(
            observe(&before, a, b),
            observe(&f, a, b),
            "a={a} b={b}\n{}",
            print_function(&f)
        );
    }
    print_function(&f)
}

fn body(text: &str) -> String {
    text.lines()
        .filter(|l| l.starts_with("    ") || l.starts_with("block"))
        .map(str::trim)
        .collect::<Vec<_>>()
        .join("\n")
}

fn assert_body(got: &str, want: &str) {
    let want: String = want
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(body(got), want, "\n{got}");
}

#[test]
fn folding_constants_identities_and_branches() {
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = iconst.i64 0x5
             v1 = iconst.i64 0x7
             v2 = iadd.i64 v0, v1
             v3 = read_reg.i64 %a
             v4 = iconst.i64 0x0
             v5 = iadd.i64 v3, v4
             v6 = bxor.i64 v5, v5
             v7 = icmp.i64 ult v2, v1
             v8 = sdiv.i64 v3, v4
             write_reg.i64 %b, v8
             write_reg.i64 %a, v6
             brif v7, block1, block2
         block1:
             exit v2
         block2:
             v9 = imul.i64 v5, v2
             exit v9
         }",
        &[&ConstFold, &Dce],
    );
    // x^x and x/0 become fresh zero constants in place (no constant CSE).
    assert_body(
        &out,
        "block0:
         v0 = iconst.i64 0xc
         v1 = read_reg.i64 %a
         v2 = iconst.i64 0x0
         v3 = iconst.i64 0x0
         write_reg.i64 %b, v3
         write_reg.i64 %a, v2
         jump block1
         block1:
         v4 = imul.i64 v1, v0
         exit v4",
    );
}

#[test]
fn testing_a_bit_that_a_mask_cleared_folds() {
    // `(a & !0x10) & 0x10` is zero whatever `a` is; `(a & !0x10) & 0x11`
    // is not.
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0xffffffffffffffef
             v2 = band.i64 v0, v1
             v3 = iconst.i64 0x10
             v4 = band.i64 v3, v2
             v5 = iconst.i64 0x0
             v6 = icmp.i64 ne v4, v5
             v7 = iconst.i64 0x11
             v8 = band.i64 v2, v7
             write_reg.i64 %b, v8
             brif v6, block1, block2
         block1:
             exit v0
         block2:
             exit v2
         }",
        &[&ConstFold, &Dce],
    );
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = iconst.i64 0xffffffffffffffef
         v2 = band.i64 v0, v1
         v3 = iconst.i64 0x11
         v4 = band.i64 v2, v3
         write_reg.i64 %b, v4
         jump block1
         block1:
         exit v2",
    );
}

#[test]
fn bits_cleared_before_a_loop_stay_known_around_it() {
    // `v3` is `a & !0x10` on entry and `v3 | 0x1` around the loop: bit
    // 0x10 is clear in every value it takes, bit 0x1 is not.
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0xffffffffffffffef
             v2 = band.i64 v0, v1
             jump block1(v2)
         block1(v3: i64):
             v4 = iconst.i64 0x10
             v5 = band.i64 v3, v4
             v6 = iconst.i64 0x0
             v7 = icmp.i64 ne v5, v6
             brif v7, block2, block3
         block2:
             exit v0
         block3:
             v8 = iconst.i64 0x1
             v9 = bor.i64 v3, v8
             v10 = band.i64 v9, v8
             v11 = icmp.i64 ne v10, v6
             brif v11, block4, block1(v9)
         block4:
             exit v3
         }",
        &[&ConstFold, &Dce],
    );
    assert!(
        !out.contains("exit v0"),
        "the test of bit 0x10 folds\n{out}"
    );
    assert!(out.contains("brif"), "the test of bit 0x1 stays\n{out}");
}

#[test]
fn lanes_read_back_from_their_insert_and_bitcast_round_trips_fold() {
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = read_reg.i64 %b
             v2 = vconst.v128 0x0
             v3 = vinsert.i64 0, v2, v0
             v4 = vinsert.i64 1, v3, v1
             v5 = vextract.i64 0, v4
             v6 = vextract.i64 1, v4
             v7 = ireduce.i32 v1
             v8 = vinsert.i32 1, v4, v7
             v9 = vextract.i64 0, v8
             v10 = bitcast.f64 v5
             v11 = bitcast.i64 v10
             v12 = bxor.i64 v11, v6
             v13 = bxor.i64 v12, v9
             v14 = vextract.f64 1, v4
             v15 = bitcast.i64 v14
             v16 = bxor.i64 v13, v15
             exit v16
         }",
        &[&ConstFold, &FloatBits, &Dce],
    );
    // Lane 0 is read back past the insert into lane 1; lane 1 read as f64
    // is a bitcast of the i64 inserted there, a round trip FloatBits then
    // removes; the read past an insert of a narrower lane type stays.
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = read_reg.i64 %b
         v2 = vconst.v128 0x0
         v3 = vinsert.i64 0, v2, v0
         v4 = vinsert.i64 1, v3, v1
         v5 = ireduce.i32 v1
         v6 = vinsert.i32 1, v4, v5
         v7 = vextract.i64 0, v6
         v8 = bxor.i64 v0, v1
         v9 = bxor.i64 v8, v7
         v10 = bxor.i64 v9, v1
         exit v10",
    );
}

#[test]
fn logic_on_float_compares_of_one_pair_becomes_one_compare() {
    // x86 `ucomisd %a, %b` (CF = uno|lt, ZF = uno|eq) read by `ja`,
    // `jae` and `jp`, a compare of the swapped pair, and a set no single
    // condition accepts. Each result lands in one bit of `%a`.
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = read_reg.i64 %b
             v2 = bitcast.f64 v0
             v3 = bitcast.f64 v1
             v4 = fcmp.f64 uno v2, v3
             v5 = fcmp.f64 eq v2, v3
             v6 = fcmp.f64 lt v2, v3
             v7 = bor.i1 v4, v5
             v8 = bor.i1 v4, v6
             v9 = bor.i1 v8, v7
             v10 = iconst.i1 0x1
             v11 = bxor.i1 v9, v10
             v12 = bxor.i1 v8, v10
             v13 = fcmp.f64 gt v3, v2
             v14 = bor.i1 v13, v5
             v15 = band.i1 v7, v8
             v16 = uext.i64 v11
             v17 = uext.i64 v12
             v18 = uext.i64 v14
             v19 = uext.i64 v15
             v20 = uext.i64 v8
             v21 = iconst.i64 0x1
             v22 = ishl.i64 v17, v21
             v23 = iconst.i64 0x2
             v24 = ishl.i64 v18, v23
             v25 = iconst.i64 0x3
             v26 = ishl.i64 v19, v25
             v27 = iconst.i64 0x4
             v28 = ishl.i64 v20, v27
             v29 = bor.i64 v16, v22
             v30 = bor.i64 v29, v24
             v31 = bor.i64 v30, v26
             v32 = bor.i64 v31, v28
             write_reg.i64 %a, v32
             exit v1
         }",
        &[&ConstFold, &Dce],
    );
    // ja: ordered greater; jae: ordered greater or equal; (b > a) | a == b:
    // b >= a, in the first compare's order; ZF & CF: unordered. CF alone
    // (uno|lt) has no condition.
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = read_reg.i64 %b
         v2 = bitcast.f64 v0
         v3 = bitcast.f64 v1
         v4 = fcmp.f64 uno v2, v3
         v5 = fcmp.f64 lt v2, v3
         v6 = bor.i1 v4, v5
         v7 = fcmp.f64 gt v2, v3
         v8 = fcmp.f64 ge v2, v3
         v9 = fcmp.f64 ge v3, v2
         v10 = fcmp.f64 uno v2, v3
         v11 = uext.i64 v7
         v12 = uext.i64 v8
         v13 = uext.i64 v9
         v14 = uext.i64 v10
         v15 = uext.i64 v6
         v16 = iconst.i64 0x1
         v17 = ishl.i64 v12, v16
         v18 = iconst.i64 0x2
         v19 = ishl.i64 v13, v18
         v20 = iconst.i64 0x3
         v21 = ishl.i64 v14, v20
         v22 = iconst.i64 0x4
         v23 = ishl.i64 v15, v22
         v24 = bor.i64 v11, v17
         v25 = bor.i64 v24, v19
         v26 = bor.i64 v25, v21
         v27 = bor.i64 v26, v23
         write_reg.i64 %a, v27
         exit v1",
    );
}

/// A loop summing floats into lane 0 of a vector register (`fadd d8, d8,
/// d1`), with the register's bits written back at the exit.
const VECTOR_ACCUMULATOR_LOOP: &str = "function f @0x0 {
     block0:
         v0 = read_reg.i64 %a
         v1 = vconst.v128 0x0
         v2 = vinsert.i64 0, v1, v0
         jump block1(v2, v0)
     block1(v3: v128, v4: i64):
         v5 = vextract.i64 0, v3
         v6 = bitcast.f64 v5
         v7 = bitcast.f64 v4
         v8 = fadd.f64 rne v6, v7
         v9 = bitcast.i64 v8
         v10 = vconst.v128 0x0
         v11 = vinsert.i64 0, v10, v9
         v12 = iconst.i64 0x1
         v13 = isub.i64 v4, v12
         v14 = iconst.i64 0x0
         v15 = icmp.i64 eq v13, v14
         brif v15, block2, block1(v11, v13)
     block2:
         v16 = vextract.i64 0, v11
         write_reg.i64 %b, v16
         exit v14
     }";

#[test]
fn loops_carry_the_scalar_a_vector_parameter_wraps() {
    let out = apply(
        VECTOR_ACCUMULATOR_LOOP,
        &[&ParamUnwrap, &ConstFold, &FloatBits, &Dce],
    );
    // block1 carries the f64 sum (first unwrapped from the vector, then
    // from the integer bits); the vector is no longer built in the loop.
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = bitcast.f64 v0
         jump block1(v0, v1)
         block1(v2: i64, v3: f64):
         v4 = bitcast.f64 v2
         v5 = fadd.f64 rne v3, v4
         v6 = bitcast.i64 v5
         v7 = iconst.i64 0x1
         v8 = isub.i64 v2, v7
         v9 = iconst.i64 0x0
         v10 = icmp.i64 eq v8, v9
         brif v10, block2, block1(v8, v5)
         block2:
         write_reg.i64 %b, v6
         exit v9",
    );
}

#[test]
fn parameters_with_differing_wrappers_stay() {
    let text = VECTOR_ACCUMULATOR_LOOP.replace("v10 = vconst.v128 0x0", "v10 = vconst.v128 0x1");
    let out = apply(&text, &[&ParamUnwrap]);
    assert!(out.contains("block1(v3: v128, v4: i64)"), "{out}");
}

#[test]
fn folding_uses_the_interpreter_for_every_family() {
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = iconst.i32 0x80000000
             v1 = iconst.i32 0xffffffff
             v2 = sdiv.i32 v0, v1
             v3 = fconst.f64 0x3ff0000000000000
             v4 = fconst.f64 0x4008000000000000
             v5 = fdiv.f64 rup v3, v4
             v6 = fdiv.f64 dyn v3, v4
             v7 = bitcast.i64 v5
             v8 = bitcast.i64 v6
             v9 = uext.i64 v2
             v10 = bxor.i64 v7, v9
             v11 = bxor.i64 v10, v8
             exit v11
         }",
        &[&ConstFold, &Dce],
    );
    // fdiv rup is folded (0x3fd5555555555556, then xored with the sdiv's
    // 0x80000000), fdiv dyn is not.
    assert!(out.contains("iconst.i64 0x3fd55555d5555556"), "{out}");
    assert!(out.contains("fdiv.f64 dyn"), "{out}");
    assert!(!out.contains("sdiv") && !out.contains("rup"), "{out}");
}

#[test]
fn trivial_block_params_are_removed() {
    // `b` is unchanged around the diamond and the loop.
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = read_reg.i64 %b
             v2 = iconst.i64 0x0
             v3 = icmp.i64 eq v0, v2
             brif v3, block1(v0, v1), block2(v1)
         block1(v4: i64, v5: i64):
             v6 = iconst.i64 0x1
             v7 = isub.i64 v4, v6
             v8 = icmp.i64 eq v7, v2
             brif v8, block2(v5), block1(v7, v5)
         block2(v9: i64):
             write_reg.i64 %b, v9
             exit v9
         }",
        &[&BlockParams],
    );
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = read_reg.i64 %b
         v2 = iconst.i64 0x0
         v3 = icmp.i64 eq v0, v2
         brif v3, block1(v0), block2
         block1(v4: i64):
         v5 = iconst.i64 0x1
         v6 = isub.i64 v4, v5
         v7 = icmp.i64 eq v6, v2
         brif v7, block2, block1(v6)
         block2:
         write_reg.i64 %b, v1
         exit v1",
    );
}

#[test]
fn dce_removes_dead_flags_params_and_blocks_but_keeps_loads() {
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = read_reg.i64 %b
             v2 = iadd.i64 v0, v1
             v3 = uadd_overflow.i64 v0, v1
             v4 = sadd_overflow.i64 v0, v1
             v5 = parity.i64 v2
             v6 = iconst.i64 0x100
             v7 = load.i64 v6
             store.i64 v6, v2
             jump block1(v3, v2)
         block1(v8: i1, v9: i64):
             write_reg.i64 %a, v9
             exit v9
         block2:
             jump block1(v4, v0)
         }",
        &[&Dce],
    );
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = read_reg.i64 %b
         v2 = iadd.i64 v0, v1
         v3 = iconst.i64 0x100
         v4 = load.i64 v3
         store.i64 v3, v2
         jump block1(v2)
         block1(v5: i64):
         write_reg.i64 %a, v5
         exit v5",
    );
}

#[test]
fn dce_keeps_side_effects() {
    let text = "function f @0x0 {
         block0:
             v0 = iconst.i64 0x100
             v1 = iconst.i32 0x1
             v2 = atomic_rmw.i32 add v0, v1
             v3 = atomic_cas.i32 v0, v1, v1
             fence
             call_helper @syscall
             write_reg.i64 %b, v0
             exit v0
         }";
    let out = apply(text, &[&Dce]);
    assert_eq!(
        body(&out),
        body(&print_function(&parse_function(text, regs()).unwrap()))
    );
}

#[test]
fn register_reads_and_writes_are_forwarded_and_removed() {
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = read_reg.i64 %a
             v2 = iadd.i64 v0, v1
             write_reg.i64 %b, v2
             v3 = read_reg.i64 %b
             write_reg.i64 %a, v0
             write_reg.i64 %b, v3
             v4 = read_reg.i1 %c
             write_reg.i1 %c, v4
             brif v4, block1, block2
         block1:
             write_reg.i64 %b, v0
             v5 = read_reg.i64 %b
             exit v5
         block2:
             v6 = read_reg.i64 %a
             exit v6
         }",
        &[&RegAccess, &Dce],
    );
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = iadd.i64 v0, v0
         write_reg.i64 %b, v1
         v2 = read_reg.i1 %c
         brif v2, block1, block2
         block1:
         write_reg.i64 %b, v0
         exit v0
         block2:
         exit v0",
    );
}

/// `a` merged into `block2(v3)` from a path that keeps it (passing `v0`)
/// and one that writes 5 to it (`v2`) and passes `passed`; `merge` is the
/// rest of the function from `block2`'s first instruction.
fn merged(passed: &str, merge: &str) -> String {
    format!(
        "function f @0x0 {{
         block0:
             v0 = read_reg.i64 %a
             v1 = read_reg.i1 %c
             brif v1, block1, block2(v0)
         block1:
             v2 = iconst.i64 5
             write_reg.i64 %a, v2
             jump block2({passed})
         block2(v3: i64):
             {merge}
         }}"
    )
}

/// The two paths of [`merged`] once `block2` no longer takes `a`: the entry
/// read is gone and only the written path stores.
const MERGED_PATHS_OPTIMIZED: &str = "block0:
    v0 = read_reg.i1 %c
    brif v0, block1, block2
    block1:
    v1 = iconst.i64 0x5
    write_reg.i64 %a, v1
    jump block2
    block2:";

/// `merged`'s `block2` writing `a` back and exiting.
const WRITE_BACK_AND_EXIT: &str = "write_reg.i64 %a, v3
             v4 = iconst.i64 0x40
             exit v4";

/// A value merged from a path that left the register alone and one that
/// wrote it is already in the state: its write-back goes, and with it the
/// parameter and the entry read that only fed it.
#[test]
fn write_backs_of_merged_values_the_state_holds_go() {
    let out = apply(&merged("v2", WRITE_BACK_AND_EXIT), &[&RegAccess, &Dce]);
    assert_body(
        &out,
        &format!(
            "{MERGED_PATHS_OPTIMIZED}
             v2 = iconst.i64 0x40
             exit v2"
        ),
    );
}

/// A merged value the state holds is read where it is used, not carried
/// from the entry; a loop header keeps its parameter (no load per
/// iteration).
#[test]
fn merged_values_the_state_holds_are_read_where_used_outside_loops() {
    let out = apply(
        &merged(
            "v2",
            "v4 = iadd.i64 v3, v3
             write_reg.i64 %b, v4
             jump block3(v3)
         block3(v5: i64):
             v6 = iconst.i64 1
             v7 = isub.i64 v5, v6
             write_reg.i64 %a, v7
             v8 = icmp.i64 eq v7, v6
             brif v8, block4, block3(v7)
         block4:
             exit v7",
        ),
        &[&RegAccess, &Dce],
    );
    assert_body(
        &out,
        &format!(
            "{MERGED_PATHS_OPTIMIZED}
             v2 = read_reg.i64 %a
             v3 = iadd.i64 v2, v2
             write_reg.i64 %b, v3
             jump block3(v2)
             block3(v4: i64):
             v5 = iconst.i64 0x1
             v6 = isub.i64 v4, v5
             write_reg.i64 %a, v6
             v7 = icmp.i64 eq v6, v5
             brif v7, block4, block3(v6)
             block4:
             exit v6"
        ),
    );
}

/// A parameter is known only when every edge passes the state's value: here
/// one path writes `a` without passing the written value, so the merged
/// write-back stays.
#[test]
fn write_backs_of_merged_values_stay_when_one_edge_differs() {
    let out = apply(&merged("v0", WRITE_BACK_AND_EXIT), &[&RegAccess, &Dce]);
    let merge = &out[out.find("block2").expect("the merge block stays")..];
    assert!(merge.contains("write_reg.i64 %a"), "{out}");
}

/// Condition flags (call-scratch registers) are not stored for a guest call
/// or return, which the guest ABI leaves them undefined at; other
/// registers are, and so are the flags at an exit to the dispatcher.
#[test]
fn call_scratch_registers_are_not_stored_for_calls_and_returns() {
    let regs = Arc::new(RegFile::clone(&regs()).with_call_scratch(&["c"]));
    let mut f = parse_function(
        "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = icmp.i64 eq v0, v0
             write_reg.i1 %c, v1
             write_reg.i64 %b, v0
             call v0, 0x504, block1
         block1:
             v2 = read_reg.i1 %c
             write_reg.i1 %c, v2
             brif v2, block2, block3
         block2:
             write_reg.i1 %c, v1
             ret v0
         block3:
             write_reg.i1 %c, v1
             exit v0
         }",
        regs,
    )
    .expect("test input parses");
    while RegAccess.run(&mut f) {}
    verify_function(&f).expect("verifies");
    assert_body(
        &print_function(&f),
        "block0:
         v0 = read_reg.i64 %a
         v1 = icmp.i64 eq v0, v0
         write_reg.i64 %b, v0
         call v0, 0x504, block1
         block1:
         v2 = read_reg.i1 %c
         brif v2, block2, block3
         block2:
         ret v0
         block3:
         write_reg.i1 %c, v1
         exit v0",
    );
}

#[test]
fn dead_register_writes_go_but_sync_points_keep_them() {
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = iconst.i64 0x1
             v1 = iconst.i64 0x2
             write_reg.i64 %a, v0
             write_reg.i64 %b, v0
             write_reg.i64 %a, v1
             call_helper @syscall
             write_reg.i64 %b, v1
             v2 = read_reg.i64 %a
             v3 = icmp.i64 eq v2, v0
             brif v3, block1, block2
         block1:
             write_reg.i64 %b, v0
             jump block3
         block2:
             write_reg.i64 %b, v2
             jump block3
         block3:
             write_reg.i64 %b, v2
             exit v0
         }",
        &[&RegAccess],
    );
    // Removed: the first write of %a (rewritten before the helper), the
    // write of %b after the helper, and %b in both arms (rewritten in
    // block3). The write of %b before the helper stays (the helper sees it).
    assert_body(
        &out,
        "block0:
         v0 = iconst.i64 0x1
         v1 = iconst.i64 0x2
         write_reg.i64 %b, v0
         write_reg.i64 %a, v1
         call_helper @syscall
         v2 = read_reg.i64 %a
         v3 = icmp.i64 eq v2, v0
         brif v3, block1, block2
         block1:
         jump block3
         block2:
         jump block3
         block3:
         write_reg.i64 %b, v2
         exit v0",
    );
}

#[test]
fn guest_calls_clobber_known_registers() {
    let out = apply(
        "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0x500
             call v1, 0x504, block1
         block1:
             v2 = read_reg.i64 %b
             v3 = read_reg.i64 %a
             write_reg.i64 %a, v0
             exit v2
         }",
        &[&RegAccess],
    );
    assert!(out.contains("v2 = read_reg.i64 %b"), "{out}");
    assert!(out.contains("write_reg.i64 %a, v0"), "{out}");
}

#[test]
fn write_backs_of_merged_values_move_to_the_edges_that_change_them() {
    // A loop writes %a back before each call; after the call %a is read
    // again and carried around the loop: only the entry edge changes it.
    let loop_calling = "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0x1
             v2 = iadd.i64 v0, v1
             jump block1(v2)
         block1(v3: i64):
             write_reg.i64 %a, v3
             v4 = iconst.i64 0x500
             call v4, 0x504, block2
         block2:
             v5 = read_reg.i64 %a
             v6 = read_reg.i64 %b
             v7 = iconst.i64 0x0
             v8 = icmp.i64 ne v6, v7
             brif v8, block3, block1(v5)
         block3:
             exit v1
         }";
    let out = apply(loop_calling, &[&RegAccess]);
    // The input, with the loop's write moved to the end of block0.
    let moved = loop_calling
        .replace("write_reg.i64 %a, v3\n", "")
        .replace("jump block1(v2)", "write_reg.i64 %a, v2\n jump block1(v2)");
    let want: Vec<&str> = moved
        .lines()
        .filter(|l| !l.contains('{') && l.trim() != "}")
        .collect();
    assert_body(&out, &want.join("\n"));
    // An edge that would need the write but comes from a two-way branch
    // keeps the write in the loop.
    let branching = loop_calling.replace(
        "jump block1(v2)",
        "v9 = icmp.i64 eq v0, v1\n brif v9, block1(v2), block3",
    );
    let out = apply(&branching, &[&RegAccess]);
    let kept = body(&out).contains("block1(v4: i64):\nwrite_reg.i64 %a, v4");
    assert!(kept && out.matches("write_reg").count() == 1, "{out}");
}

#[test]
fn pipeline_levels_and_module_optimization() {
    assert!(pipeline(OptLevel::None).is_empty());
    let names: Vec<_> = pipeline(OptLevel::Full).iter().map(|p| p.name()).collect();
    assert_eq!(
        names,
        [
            "const_fold",
            "block_params",
            "param_unwrap",
            "float_bits",
            "sink_pure_helpers",
            "bounded_loop_polls",
            "chunked_loop_polls",
            "reg_access",
            "dce"
        ]
    );
    assert!(!pipeline(OptLevel::Basic)
        .iter()
        .any(|p| p.name() == "reg_access"));
    let text = "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0x0
             v2 = iadd.i64 v0, v1
             v3 = uadd_overflow.i64 v0, v1
             write_reg.i64 %a, v2
             write_reg.i1 %c, v3
             exit v2
         }";
    let mut m = crate::function::Module::new(regs());
    for _ in 0..8 {
        m.functions.push(parse_function(text, regs()).unwrap());
    }
    optimize_module(&mut m, &OptOptions::new(OptLevel::Full)).unwrap();
    for f in &m.functions {
        assert_body(
            &print_function(f),
            "block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i1 0x0
             write_reg.i1 %c, v1
             exit v0",
        );
    }
}

/// A pass that breaks the CFG, to check the verifier catches it.
struct Vandal;

impl Pass for Vandal {
    fn name(&self) -> &'static str {
        "vandal"
    }

    fn run(&self, f: &mut Function) -> bool {
        let entry = f.entry().unwrap();
        f.block_insts_mut(entry).reverse();
        true
    }
}

#[test]
fn verifier_failures_name_the_pass() {
    let mut f = parse_function(
        "function f @0x0 {
         block0:
             v0 = iconst.i64 0x1
             v1 = iadd.i64 v0, v0
             exit v1
         }",
        regs(),
    )
    .unwrap();
    Vandal.run(&mut f);
    let err = optimize_function(&mut f, &OptOptions::new(OptLevel::Basic)).unwrap_err();
    assert_eq!(err.pass, "input");
    assert!(err.to_string().contains("does not dominate"), "{err}");
}

/// Two canonicalized float ops in a row, the second one's result written
/// to `%b`; `extra` goes before the exit.
fn canonicalized_chain(extra: &str) -> String {
    format!(
        "function f @0x0 {{
         block0:
             v0 = read_reg.i64 %a
             v1 = bitcast.f64 v0
             v2 = fconst.f64 0x7ff0000000000000
             v3 = fsub.f64 rne v2, v2
             v4 = fcmp.f64 uno v3, v3
             v5 = fconst.f64 0x7ff8000000000000
             v6 = select.f64 v4, v5, v3
             v7 = bitcast.i64 v6
             v8 = bitcast.f64 v7
             v9 = fadd.f64 rne v8, v1
             v10 = fcmp.f64 uno v9, v9
             v11 = fconst.f64 0x7ff8000000000000
             v12 = select.f64 v10, v11, v9
             v13 = bitcast.i64 v12
             write_reg.i64 %b, v13
             {extra}
             exit v0
         }}"
    )
}

#[test]
fn float_bits_drops_canonicalizations_nobody_observes() {
    // The first canonicalization feeds only the addition (through a bitcast
    // round trip): it goes; the second one's result is written: it stays.
    let out = apply(&canonicalized_chain(""), &[&FloatBits, &Dce]);
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = bitcast.f64 v0
         v2 = fconst.f64 0x7ff0000000000000
         v3 = fsub.f64 rne v2, v2
         v4 = fadd.f64 rne v3, v1
         v5 = fcmp.f64 uno v4, v4
         v6 = fconst.f64 0x7ff8000000000000
         v7 = select.f64 v5, v6, v4
         v8 = bitcast.i64 v7
         write_reg.i64 %b, v8
         exit v0",
    );
    // A sign copy reads the sign of the canonical NaN: the first one stays.
    let sign_copy = "v14 = fcopysign.f64 v1, v6
             v15 = bitcast.i64 v14
             write_reg.i64 %a, v15";
    let out = apply(&canonicalized_chain(sign_copy), &[&FloatBits, &Dce]);
    assert!(
        body(&out).contains("v6 = select.f64 v4, v5, v3\nv7 = fadd.f64 rne v6, v1"),
        "{out}"
    );
}

/// A counting loop whose poll exit writes back `%b` (computed before the
/// loop) and `%a` (the counter); `body` goes at the top of the loop.
fn loop_with_poll_exit(body: &str) -> String {
    format!(
        "function f @0x0 {{
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0x10
             v2 = iadd.i64 v0, v1
             v3 = iconst.i64 0x0
             jump block1(v3)
         block1(v4: i64):
             {body}
             v5 = iconst.i64 0x1
             v6 = iadd.i64 v4, v5
             v7 = icmp.i64 ult v6, v1
             brif v7, block2, block4
         block2:
             v8 = poll.i1
             brif v8, block3, block1(v6)
         block3:
             v9 = iconst.i64 0x4
             write_reg.i64 %b, v2
             write_reg.i64 %a, v6
             exit v9
         block4:
             write_reg.i64 %b, v2
             write_reg.i64 %a, v6
             exit v1
         }}"
    )
}

#[test]
fn loop_invariant_write_backs_move_from_the_poll_exit_to_the_loop_entry() {
    let out = apply(&loop_with_poll_exit(""), &[&RegAccess]);
    // %b is written once before the loop; the exits keep only the counter.
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = iconst.i64 0x10
         v2 = iadd.i64 v0, v1
         v3 = iconst.i64 0x0
         write_reg.i64 %b, v2
         jump block1(v3)
         block1(v4: i64):
         v5 = iconst.i64 0x1
         v6 = iadd.i64 v4, v5
         v7 = icmp.i64 ult v6, v1
         brif v7, block2, block4
         block2:
         v8 = poll.i1
         brif v8, block3, block1(v6)
         block3:
         v9 = iconst.i64 0x4
         write_reg.i64 %a, v6
         exit v9
         block4:
         write_reg.i64 %a, v6
         exit v1",
    );
}

#[test]
fn write_backs_stay_in_the_exit_when_the_loop_observes_the_state() {
    // The helper in the loop sees the state: a write before the loop would
    // show it a value of %b it must not see yet.
    let out = apply(&loop_with_poll_exit("call_helper @syscall"), &[&RegAccess]);
    let block0 = out.split("block1").next().unwrap_or_default();
    assert!(!block0.contains("write_reg"), "{out}");
    assert!(
        out.contains("write_reg.i64 %b, v2\n    write_reg.i64 %a, v6\n    exit v9"),
        "{out}"
    );
}

/// Two nested loops: the outer one counts with `v3`/`v4`, computes `v21`
/// anew (`%b`'s value) and carries `v5`; the inner one's poll exit writes
/// `%b` back. `tail` ends the outer loop (block6, which compares `v4` with
/// `v22`), branching back to block1 or on to block7, which writes `%b`
/// back and leaves.
fn nested_loops_writing_back(tail: &str) -> String {
    format!(
        "function f @0x0 {{
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0x10
             v2 = iconst.i64 0x0
             v22 = iconst.i64 0x40
             jump block1(v2, v2)
         block1(v3: i64, v5: i64):
             v4 = iadd.i64 v3, v1
             v21 = bxor.i64 v4, v0
             jump block2(v2)
         block2(v6: i64):
             v7 = iconst.i64 0x1
             v8 = iadd.i64 v6, v7
             v9 = icmp.i64 ult v8, v1
             brif v9, block3, block6
         block3:
             v10 = poll.i1
             brif v10, block4, block2(v8)
         block4:
             v11 = iconst.i64 0x4
             write_reg.i64 %b, v21
             write_reg.i64 %a, v8
             exit v11
         block6:
             v12 = icmp.i64 ult v4, v22
             {tail}
         block7(v20: i64):
             write_reg.i64 %b, v20
             exit v1
         }}"
    )
}

/// The text of `out` up to the inner loop's header.
fn outer_loop_head(out: &str) -> &str {
    out.split("block2(").next().unwrap_or_default()
}

#[test]
fn write_backs_of_a_value_the_outer_loop_uses_stay_in_the_inner_exit() {
    // `v21` feeds the outer loop's `v5`: it lives through the inner loop
    // anyway, so a copy of its write-back on the inner loop's entry would
    // only add a store per entry.
    let out = apply(
        &nested_loops_writing_back(
            "v23 = bxor.i64 v21, v5
             brif v12, block1(v4, v23), block7(v21)",
        ),
        &[&RegAccess],
    );
    assert!(!outer_loop_head(&out).contains("write_reg"), "{out}");
    let inner_exit = out.split("exit").next().unwrap_or_default();
    assert!(inner_exit.contains("write_reg.i64 %b"), "{out}");
}

#[test]
fn write_backs_of_a_value_only_handed_around_move_to_the_inner_entry() {
    // `v21` only goes to the outer loop's parameter `v5`, which nothing
    // but a write-back reads: written on the inner loop's entry, the exits
    // need not carry it.
    let out = apply(
        &nested_loops_writing_back("brif v12, block1(v4, v21), block7(v5)"),
        &[&RegAccess],
    );
    assert!(outer_loop_head(&out).contains("write_reg.i64 %b"), "{out}");
}

/// A loop over header parameter `v4` (from `start`, `v6 = v4 + step`)
/// that goes on while `cmp` holds (over `v6`, `v0` = `%a`, `v1` = 0x10 and
/// `v2` = `bound`), with a poll on its back edge.
fn counted_loop(start: &str, step: &str, bound: &str, cmp: &str) -> String {
    format!(
        "function f @0x0 {{
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0x10
             v2 = iconst.i64 {bound}
             v3 = iconst.i64 {start}
             jump block1(v3)
         block1(v4: i64):
             v5 = iconst.i64 {step}
             v6 = iadd.i64 v4, v5
             v7 = icmp.i64 {cmp}
             brif v7, block2, block4
         block2:
             v8 = poll.i1
             brif v8, block3, block1(v6)
         block3:
             v9 = iconst.i64 0x4
             write_reg.i64 %b, v6
             exit v9
         block4:
             write_reg.i64 %b, v6
             exit v1
         }}"
    )
}

const MINUS_ONE: &str = "0xffffffffffffffff";

#[test]
fn short_counted_loops_lose_their_back_edge_poll() {
    for (start, step, bound, cmp) in [
        // x86_64 nbody: `add $8, %rax; cmp $0x18, %rax; jne`.
        ("0x0", "0x8", "0x18", "ne v6, v2"),
        ("0x0", "0x1", "0x0", "ult v6, v1"),
        ("0x10", MINUS_ONE, "0x0", "ne v6, v2"),
        ("0xfffffffffffffff0", "0x1", "0x3", "slt v6, v2"),
        ("0x0", "0x3", "0x0", "ugt v1, v6"),
        // One trip: the counter starts past the bound.
        ("0x40", "0x1", "0x0", "ult v6, v1"),
    ] {
        let text = counted_loop(start, step, bound, cmp);
        let out = apply(&text, &[&BoundedLoopPolls, &Dce]);
        assert!(!out.contains("poll"), "{cmp}:\n{out}");
        assert!(!out.contains("exit v9"), "{cmp}:\n{out}");
    }
}

#[test]
fn loops_without_a_small_constant_trip_count_keep_their_poll() {
    for (start, step, bound, cmp) in [
        // The bound is a register: any count.
        ("0x0", "0x1", "0x0", "ult v6, v0"),
        // 4096 trips.
        ("0x0", "0x1", "0x1000", "ult v6, v2"),
        // Steps over the bound and wraps around.
        ("0x0", "0x3", "0x0", "ne v6, v1"),
        // Would wrap before reaching the bound.
        ("0x0", "0x8", "0xfffffffffffffffc", "ult v6, v2"),
        // Starts past the bound, and its first step wraps (17 trips, a
        // count this pass does not work out).
        (MINUS_ONE, "0x1", "0x0", "ult v6, v1"),
        // Counts the wrong way for `<`.
        ("0x20", MINUS_ONE, "0x0", "ult v6, v1"),
        // Goes on while the counter is equal: not a count.
        ("0x0", "0x1", "0x0", "eq v6, v1"),
    ] {
        let text = counted_loop(start, step, bound, cmp);
        let out = apply(&text, &[&BoundedLoopPolls, &Dce]);
        assert!(out.contains("poll"), "{start} {cmp}:\n{out}");
    }
}

/// `frflags`-like: the host flags read, mapped and written on one side of
/// a branch only, with integer work between the read and the branch.
fn flag_read_then_branch(between: &str) -> String {
    format!(
        "function f @0x0 {{
         block0:
             v0 = read_reg.i64 %a
             v1 = call_helper.i32 @fp_host_flags
             v2 = iconst.i32 0x1
             v3 = band.i32 v1, v2
             v4 = uext.i64 v3
             {between}
             v5 = read_reg.i1 %c
             brif v5, block1, block2
         block1:
             write_reg.i64 %b, v4
             exit v0
         block2:
             exit v0
         }}"
    )
}

#[test]
fn a_flag_read_used_on_one_side_moves_to_that_side() {
    let out = apply(
        &flag_read_then_branch("write_reg.i64 %a, v0"),
        &[&SinkPureHelpers],
    );
    assert_body(
        &out,
        "block0:
         v0 = read_reg.i64 %a
         v1 = iconst.i32 0x1
         write_reg.i64 %a, v0
         v2 = read_reg.i1 %c
         brif v2, block1, block2
         block1:
         v3 = call_helper.i32 @fp_host_flags
         v4 = band.i32 v3, v1
         v5 = uext.i64 v4
         write_reg.i64 %b, v5
         exit v0
         block2:
         exit v0",
    );
}

#[test]
fn a_flag_read_stays_before_float_work_or_a_use_in_its_block() {
    for between in [
        "v9 = bitcast.f64 v0\n v10 = fadd.f64 rne v9, v9\n v11 = bitcast.i64 v10\n write_reg.i64 %a, v11",
        "write_reg.i64 %a, v4",
        "call_helper @syscall",
    ] {
        let text = flag_read_then_branch(between);
        let out = apply(&text, &[&SinkPureHelpers]);
        let first_block = body(&out).split("block1").next().unwrap_or("").to_string();
        assert!(first_block.contains("fp_host_flags"), "{between}:\n{out}");
    }
}

#[test]
fn counted_loops_with_a_register_bound_poll_once_per_chunk() {
    for (start, step, cmp) in [
        // x86_64 matmul-int: `add $4, %rax; cmp %rax, %rdi; jne`.
        ("0x0", "0x4", "ne v0, v6"),
        ("0x0", "0x1", "ne v6, v0"),
        ("0x10", MINUS_ONE, "ne v6, v0"),
        ("0x40", "0xfffffffffffffff8", "ne v6, v0"),
        ("0x0", "0x1", "ult v6, v0"),
        ("0xfffffffffffffff0", "0x1", "sgt v0, v6"),
    ] {
        let text = counted_loop(start, step, "0x0", cmp);
        let out = apply(&text, &[&ChunkedLoopPolls, &Dce]);
        assert_eq!(out.matches("poll").count(), 1, "{cmp}:\n{out}");
        // The back edge no longer polls: the latch jumps straight back.
        assert!(
            block_text(&out, "block2").starts_with("jump block1("),
            "{cmp}:\n{out}"
        );
        // The poll exit stays, now after the chunk's poll.
        assert_eq!(out.matches("exit").count(), 2, "{cmp}:\n{out}");
    }
}

#[test]
fn loops_not_counted_by_a_power_of_two_step_or_up_by_one_keep_their_poll() {
    for (start, step, cmp) in [
        ("0x0", "0x3", "ne v6, v0"),
        // `<` loops must count up by one.
        ("0x0", "0x2", "ult v6, v0"),
        ("0x10", MINUS_ONE, "slt v6, v0"),
        ("0x0", "0x1", "eq v6, v0"),
        // The chunk's span would wrap the counter.
        ("0x0", "0x4000000000000000", "ne v6, v0"),
    ] {
        let text = counted_loop(start, step, "0x0", cmp);
        let out = apply(&text, &[&ChunkedLoopPolls, &Dce]);
        assert!(block_text(&out, "block2").contains("poll"), "{cmp}:\n{out}");
    }
}

/// The instructions and terminator of block `name` in printed `text`.
fn block_text(text: &str, name: &str) -> String {
    let b = body(text);
    let start = b
        .find(&format!("{name}:"))
        .or_else(|| b.find(&format!("{name}(")))
        .unwrap_or_else(|| panic!("no {name} in\n{text}"));
    b[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("block"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Answers every poll after the first `quiet` with "a signal is pending".
struct PendingAfter {
    quiet: usize,
    polls: usize,
}

impl Env for PendingAfter {
    fn helper(
        &mut self,
        h: Helper,
        args: &[u128],
        state: &mut GuestState,
        mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        NoEnv.helper(h, args, state, mem)
    }

    fn call(
        &mut self,
        target: u64,
        state: &mut GuestState,
        mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        NoEnv.call(target, state, mem)
    }

    fn poll(&mut self) -> bool {
        self.polls += 1;
        self.polls > self.quiet
    }
}

/// Runs `f` with `%a` = `a` and polls answering as [`PendingAfter`] does;
/// returns how it left and `%b`.
fn run_polled(f: &Function, a: u128, quiet: usize) -> (Outcome, u128) {
    let mut st = GuestState::new(&f.regs);
    st.regs[0] = a;
    let mut mem = SparseMemory::new();
    let mut env = PendingAfter { quiet, polls: 0 };
    let outcome = run(f, &mut st, &mut mem, &mut env, 1_000_000).expect("runs");
    (outcome, st.regs[1])
}

#[test]
fn chunked_loops_run_every_trip_and_see_a_pending_signal_within_a_chunk() {
    let before = parse_function(&counted_loop("0x0", "0x1", "0x0", "ne v6, v0"), regs()).unwrap();
    let mut after = before.clone();
    assert!(ChunkedLoopPolls.run(&mut after));
    verify_function(&after).unwrap();
    let most = MAX_UNPOLLED_TRIPS;
    for trips in [1, most - 1, most, most + 1, 3 * most + 5] {
        // No signal: the same exit, after every trip.
        assert_eq!(
            run_polled(&after, trips, usize::MAX),
            (Outcome::Exit(0x10), trips)
        );
        assert_eq!(
            run_polled(&before, trips, usize::MAX),
            (Outcome::Exit(0x10), trips)
        );
        // A signal pending from the start: seen at the first chunk's end.
        let seen = if trips > most {
            (Outcome::Exit(0x4), most)
        } else {
            (Outcome::Exit(0x10), trips)
        };
        assert_eq!(run_polled(&after, trips, 0), seen, "{trips}");
        // Pending from the second poll: the second chunk's end.
        if trips > 2 * most {
            assert_eq!(run_polled(&after, trips, 1), (Outcome::Exit(0x4), 2 * most));
        }
    }
}

/// A pointer loop from `%a + from` while `p + 8 cmp %a + to`.
fn pointer_loop(from: &str, to: &str, cmp: &str) -> String {
    format!(
        "function f @0x0 {{
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 {from}
             v2 = iadd.i64 v0, v1
             v3 = iconst.i64 {to}
             v4 = iadd.i64 v0, v3
             jump block1(v2)
         block1(v5: i64):
             v6 = iconst.i64 0x8
             v7 = iadd.i64 v5, v6
             v8 = icmp.i64 {cmp} v7, v4
             brif v8, block2, block4
         block2:
             v9 = poll.i1
             brif v9, block3, block1(v7)
         block3:
             write_reg.i64 %b, v7
             exit v6
         block4:
             write_reg.i64 %b, v7
             exit v3
         }}"
    )
}

#[test]
fn pointer_loops_a_constant_distance_from_their_end_lose_their_poll() {
    // x86_64 nbody: `lea 0x10(%rsp),%r12; lea 0x28(%rsp),%r13`, three trips.
    let out = apply(
        &pointer_loop("0x10", "0x28", "ne"),
        &[&BoundedLoopPolls, &Dce],
    );
    assert!(!out.contains("poll"), "{out}");
    // Steps over its end (wraps), and `<` needs constants.
    for (from, to, cmp) in [("0x10", "0x2c", "ne"), ("0x10", "0x28", "ult")] {
        let out = apply(&pointer_loop(from, to, cmp), &[&BoundedLoopPolls, &Dce]);
        assert!(out.contains("poll"), "{from} {to} {cmp}:\n{out}");
    }
}

/// A loop over `v4` (from `start`, `v6 = v4 + 1`) that goes on while
/// `cmp` holds of `v8` (`v6` truncated to 32 bits) and `v9` (`%a`'s low
/// half), as aarch64's `add x0, x0, #1; cmp w19, w0; b.gt` lifts: with
/// `inside`, `v9` is computed in the loop, where the compare is.
fn narrow_counted_loop(start: &str, cmp: &str, inside: bool) -> String {
    let (before, within) = if inside {
        ("", "v9 = ireduce.i32 v0")
    } else {
        ("v9 = ireduce.i32 v0", "")
    };
    format!(
        "function f @0x0 {{
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0x10
             {before}
             v3 = iconst.i64 {start}
             jump block1(v3)
         block1(v4: i64):
             {within}
             v5 = iconst.i64 0x1
             v6 = iadd.i64 v4, v5
             v8 = ireduce.i32 v6
             v7 = icmp.i32 {cmp}
             brif v7, block2, block4
         block2:
             v10 = poll.i1
             brif v10, block3, block1(v6)
         block3:
             v11 = iconst.i64 0x4
             write_reg.i64 %b, v6
             exit v11
         block4:
             write_reg.i64 %b, v6
             exit v1
         }}"
    )
}

/// Trips of [`narrow_counted_loop`] from low half `low` with `%a` = `a`,
/// counted up to a little past 100,000.
fn trips_below(cmp: &str, low: u128, a: u128) -> u128 {
    let signed = |x: u128| x as u32 as i32;
    let goes_on = |x: u128| match &cmp[..3] {
        "sgt" | "slt" => signed(x) < signed(a),
        _ => x < a,
    };
    let mut x = low;
    for trips in 1..=100_001 {
        x = (x + 1) & 0xffff_ffff;
        if !goes_on(x) {
            return trips;
        }
    }
    u128::MAX
}

#[test]
fn counting_loops_below_a_register_bound_poll_once_per_chunk() {
    let mut runs = 0;
    for cmp in ["sgt v9, v8", "slt v8, v9", "ult v8, v9", "ugt v9, v8"] {
        for (start, inside) in [
            ("0x0", false),
            ("0xfffffffffffffff0", true),
            ("0x7ffffffe", false),
        ] {
            let text = narrow_counted_loop(start, cmp, inside);
            let before = parse_function(&text, regs()).unwrap();
            let mut after = before.clone();
            assert!(ChunkedLoopPolls.run(&mut after), "{cmp}");
            verify_function(&after).unwrap();
            assert!(block_text(&print_function(&after), "block2").starts_with("jump"));
            let most = MAX_UNPOLLED_TRIPS;
            // Bounds below, at and past the start, near and far (as
            // distances from the start's low half).
            let low = u128::from_str_radix(&start[2..], 16).unwrap() & 0xffff_ffff;
            for delta in [
                -5i128,
                0,
                1,
                5,
                most as i128 - 3,
                most as i128,
                3 * most as i128 + 7,
            ] {
                let a = (low as i128 + delta) as u128 & 0xffff_ffff;
                if trips_below(cmp, low, a) > 100_000 {
                    continue; // Wraps around: too long to interpret.
                }
                runs += 1;
                assert_eq!(
                    run_polled(&after, a, usize::MAX),
                    run_polled(&before, a, usize::MAX),
                    "{cmp} start {start} a {a:#x}"
                );
            }
        }
    }
    assert!(runs > 60, "{runs} cases");
}
