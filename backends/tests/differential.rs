//! Differential tests: every pure op, at every type and operand-type
//! combination the verifier accepts, runs through the IR interpreter (the
//! oracle) and through the JIT on the same operands; results must be equal
//! bit for bit, except that where both produce a NaN from arithmetic the
//! payloads may differ (the IR leaves NaN payloads to the host).
//!
//! Each case is one function: load the operands from guest memory, apply
//! the op, store the result, exit. It is compiled once and run on many
//! operand sets: edge values (zero, ±1, MIN, MAX, widths, NaNs, infinities,
//! signed zeros, subnormals, powers of two at conversion limits) and random
//! bits. A proptest then draws ≥ 1000 random (case, immediate, operands)
//! triples.

mod common;

use std::collections::HashMap;

use common::cases::*;
use common::*;
use proptest::prelude::*;
use vmtrans_backends::{CompileOptions, CpuTarget, HostFn, Jit};
use vmtrans_ir::{Function, Imm, ImmKind, Opcode, RoundingMode, Terminator, Type};

/// Guest memory of a differential run: operands at 0, 16, 32; result at 64.
const MEM: usize = 128;
const RESULT_AT: usize = 64;

/// A function that loads the operands, applies the op and stores the
/// result at [`RESULT_AT`].
fn build(c: &Case, imm: Imm) -> Function {
    let mut f = Function::new(format!("{}.{}", c.op, c.ty), 0x1000, typed_regs());
    let b = f.add_block();
    let mut args = Vec::new();
    for (i, &t) in c.args.iter().enumerate() {
        let addr = iconst64(&mut f, b, i as u64 * 16);
        args.push(ins(&mut f, b, Opcode::Load, t, &[addr], Imm::None).unwrap());
    }
    if let Some(r) = ins(&mut f, b, c.op, c.ty, &args, imm) {
        let at = iconst64(&mut f, b, RESULT_AT as u64);
        let rt = f.value_type(r);
        ins(&mut f, b, Opcode::Store, rt, &[at, r], Imm::None);
    }
    let pc = iconst64(&mut f, b, 0x2000);
    f.set_terminator(b, Terminator::Exit { pc });
    f
}

fn is_nan(bits: u128, w: u32) -> bool {
    match w {
        32 => f32::from_bits(bits as u32).is_nan(),
        64 => f64::from_bits(bits as u64).is_nan(),
        _ => false,
    }
}

/// True when the JIT's result equals the interpreter's (NaN for NaN where
/// payloads are free).
fn same_result(c: &Case, jit: u128, interp: u128) -> bool {
    if jit == interp {
        return true;
    }
    if !nan_payload_free(c.op) {
        return false;
    }
    let rt = c.op.sig().result_type(c.ty).unwrap_or(c.ty);
    let w = if rt == Type::V128 {
        c.ty.bits()
    } else {
        rt.bits()
    };
    let m = (1u128 << w) - 1;
    (0..128 / w).all(|i| {
        let (a, b) = ((jit >> (i * w)) & m, (interp >> (i * w)) & m);
        a == b || (is_nan(a, w) && is_nan(b, w))
    })
}

/// A case compiled once, run on many operand sets.
struct Compiled {
    case: Case,
    imm: Imm,
    func: Function,
    code: *const u8,
}

/// Compiles `c` with `imm`; `None` when the interpreter rejects it too
/// (lane types an op does not support), which the backend must reject.
fn compile(jit: &mut Jit, c: &Case, imm: Imm) -> Option<Compiled> {
    let func = build(c, imm);
    if vmtrans_ir::verify::verify_function(&func).is_err() {
        return None;
    }
    let mut probe = vmtrans_ir::interp::GuestState::new(&func.regs);
    let interp_ok = interpret(&func, &mut probe, &[0; MEM]).is_ok();
    match jit.compile(&func) {
        Ok(code) => {
            assert!(
                interp_ok,
                "{}: the interpreter rejects what the JIT compiled",
                func.name
            );
            Some(Compiled {
                case: c.clone(),
                imm,
                func,
                code,
            })
        }
        Err(e) => {
            assert!(!interp_ok, "{} {imm:?}: backend failed: {e}", func.name);
            None
        }
    }
}

/// Runs a compiled case on `operands` through both; panics on a mismatch.
fn check(cc: &Compiled, operands: &[u128]) {
    let mut mem = vec![0u8; MEM];
    for (i, v) in operands.iter().enumerate() {
        mem[i * 16..i * 16 + 16].copy_from_slice(&v.to_le_bytes());
    }
    let mut state = vmtrans_ir::interp::GuestState::new(&cc.func.regs);
    let (outcome, imem) = interpret(&cc.func, &mut state, &mem).expect("interpreter run");
    let mut m = Machine::with_mem(typed_regs(), MEM);
    m.mem.copy_from_slice(&mem);
    let exit = m.run(cc.code);
    assert_eq!(exit, expected_exit(outcome), "{}: exit", cc.func.name);
    let rt = cc
        .case
        .op
        .sig()
        .result_type(cc.case.ty)
        .unwrap_or(cc.case.ty);
    let n = rt.bytes() as usize;
    let word = |b: &[u8]| {
        let mut w = [0u8; 16];
        w[..n].copy_from_slice(&b[RESULT_AT..RESULT_AT + n]);
        u128::from_le_bytes(w)
    };
    let (j, i) = (word(&m.mem), word(&imem));
    assert!(
        same_result(&cc.case, j, i),
        "{} {:?} on {:x?}: jit {j:#x}, interpreter {i:#x}",
        cc.func.name,
        cc.imm,
        operands
    );
    assert_eq!(
        m.mem[..RESULT_AT],
        imem[..RESULT_AT],
        "{}: operands changed",
        cc.func.name
    );
}

fn operand_sets(c: &Case, n: usize, seed: u64) -> Vec<Vec<u128>> {
    let mut rng = XorShift(seed | 1);
    let mut sets: Vec<Vec<u128>> = Vec::new();
    // Every edge value in each position (others zero or one), then random.
    for (pos, &t) in c.args.iter().enumerate() {
        for e in edge_values(t) {
            let mut s: Vec<u128> = c.args.iter().map(|_| 1).collect();
            s[pos] = e;
            sets.push(s);
        }
    }
    for _ in 0..n {
        sets.push(c.args.iter().map(|&t| operand(t, &mut rng)).collect());
    }
    sets
}

/// Runs every case with every immediate on edge and random operands.
fn sweep(mut jit: Jit) {
    let mut compiled = 0;
    let mut runs = 0;
    let mut rejected = Vec::new();
    for (k, c) in cases().iter().enumerate() {
        for imm in immediates(c) {
            let Some(cc) = compile(&mut jit, c, imm) else {
                rejected.push(format!("{}.{}", c.op, c.ty));
                continue;
            };
            compiled += 1;
            for ops in operand_sets(c, 48, k as u64 * 7919) {
                check(&cc, &ops);
                runs += 1;
            }
        }
    }
    rejected.dedup();
    eprintln!("{compiled} functions, {runs} runs; rejected by both: {rejected:?}");
    assert!(compiled > 1000, "only {compiled} cases compiled");
}

fn jit_for(cpu: CpuTarget) -> Jit {
    let opts = CompileOptions {
        cpu,
        ..on_own_memory(CompileOptions::default())
    };
    Jit::new(stub_symbols(), opts).expect("host JIT")
}

#[test]
fn every_op_type_and_immediate_matches_the_interpreter() {
    sweep(jit());
}

/// The feature level AOT objects use by default (no AVX, no FMA, no BMI):
/// Cranelift lowers many ops differently there.
#[test]
fn the_same_on_x86_64_v2() {
    sweep(jit_for(CpuTarget::Baseline));
}

#[test]
fn the_same_on_x86_64_v3() {
    use std::arch::is_x86_feature_detected as has;
    let v3 = has!("avx2") && has!("fma") && has!("bmi1") && has!("bmi2") && has!("lzcnt");
    if !v3 {
        eprintln!("host lacks x86-64-v3: skipped");
        return;
    }
    sweep(jit_for(CpuTarget::V3));
}

#[test]
fn static_rne_through_the_helper_matches_too() {
    let mut jit = strict_jit();
    for c in cases() {
        if c.op.sig().imm_kind() != ImmKind::Rm {
            continue;
        }
        let Some(cc) = compile(&mut jit, &c, Imm::Rm(RoundingMode::Rne)) else {
            continue;
        };
        for ops in operand_sets(&c, 16, 99) {
            check(&cc, &ops);
        }
    }
}

thread_local! {
    static CACHE: std::cell::RefCell<(Jit, HashMap<String, Option<HostFn>>)> =
        std::cell::RefCell::new((jit(), HashMap::new()));
}

fn all_cases() -> &'static [Case] {
    static CASES: std::sync::OnceLock<Vec<Case>> = std::sync::OnceLock::new();
    CASES.get_or_init(cases)
}

fn any_imm() -> impl Strategy<Value = (usize, u64)> {
    (any::<usize>(), any::<u64>())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    /// Random op × type × immediate × operand bits.
    #[test]
    fn random_ops_match_the_interpreter(
        (pick, seed) in any_imm(),
        raw in proptest::collection::vec(any::<u128>(), 3),
        edge in proptest::collection::vec(any::<bool>(), 3),
    ) {
        let cases = all_cases();
        let c = &cases[pick % cases.len()];
        let imms = immediates(c);
        if imms.is_empty() {
            return Ok(());
        }
        let imm = imms[(seed as usize) % imms.len()];
        let mut rng = XorShift(seed | 1);
        let operands: Vec<u128> = c
            .args
            .iter()
            .enumerate()
            .map(|(i, &t)| if edge[i] { operand(t, &mut rng) } else { raw[i] })
            .collect();
        CACHE.with(|cache| {
            let (jit, _) = &mut *cache.borrow_mut();
            if let Some(cc) = compile(jit, c, imm) {
                check(&cc, &operands);
            }
        });
    }
}

/// `opts` for code that runs on this test's own guest memory buffer, not
/// the runtime's reservation at host address 0.
fn on_own_memory(opts: CompileOptions) -> CompileOptions {
    CompileOptions {
        guest_base: vmtrans_abi::GuestBase::Argument,
        ..opts
    }
}
