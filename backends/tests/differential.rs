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

use common::*;
use proptest::prelude::*;
use vmtrans_backends::{HostFn, Jit};
use vmtrans_ir::{
    FloatCC, Function, Imm, ImmKind, IntCC, Opcode, RoundingMode, Sig, Terminator, Type,
};

const INTS: [Type; 6] = [
    Type::I1,
    Type::I8,
    Type::I16,
    Type::I32,
    Type::I64,
    Type::I128,
];
const FLOATS: [Type; 2] = [Type::F32, Type::F64];
const LANES: [Type; 6] = [
    Type::I8,
    Type::I16,
    Type::I32,
    Type::I64,
    Type::F32,
    Type::F64,
];
/// Guest memory of a differential run: operands at 0, 16, 32; result at 64.
const MEM: usize = 128;
const RESULT_AT: usize = 64;

/// One op at one controlling type with its operand types.
#[derive(Clone, Debug)]
struct Case {
    op: Opcode,
    ty: Type,
    args: Vec<Type>,
}

fn case(op: Opcode, ty: Type, args: &[Type]) -> Case {
    Case {
        op,
        ty,
        args: args.to_vec(),
    }
}

/// Every (op, type, operand types) the verifier may accept, by signature.
fn cases() -> Vec<Case> {
    use Sig::*;
    let mut out = Vec::new();
    let v = Type::V128;
    for &op in Opcode::ALL {
        let sig = op.sig();
        match sig {
            IConst => out.extend(INTS.iter().map(|&t| case(op, t, &[]))),
            FConst => out.extend(FLOATS.iter().map(|&t| case(op, t, &[]))),
            VConst => out.push(case(op, v, &[])),
            IntUnary | IntTest => out.extend(INTS.iter().map(|&t| case(op, t, &[t]))),
            IntBinary | IntFlag | IntCompare => {
                out.extend(INTS.iter().map(|&t| case(op, t, &[t, t])))
            }
            Shift => {
                for &t in &INTS {
                    out.extend(INTS.iter().map(|&a| case(op, t, &[t, a])));
                }
            }
            Select => out.extend(Type::ALL.iter().map(|&t| case(op, t, &[Type::I1, t, t]))),
            Extend | Reduce => {
                for &to in &INTS {
                    for &from in &INTS {
                        let ok = if sig == Extend {
                            from.bits() < to.bits()
                        } else {
                            from.bits() > to.bits()
                        };
                        if ok {
                            out.push(case(op, to, &[from]));
                        }
                    }
                }
            }
            Bitcast => {
                for (a, b) in [
                    (Type::I32, Type::F32),
                    (Type::I64, Type::F64),
                    (Type::I128, Type::V128),
                ] {
                    out.push(case(op, a, &[b]));
                    out.push(case(op, b, &[a]));
                }
            }
            FloatUnary | FloatUnaryRm | FloatClass => {
                out.extend(FLOATS.iter().map(|&t| case(op, t, &[t])))
            }
            FloatBinary | FloatBinaryRm | FloatCompare => {
                out.extend(FLOATS.iter().map(|&t| case(op, t, &[t, t])))
            }
            FloatTernaryRm => out.extend(FLOATS.iter().map(|&t| case(op, t, &[t, t, t]))),
            IntToFloat => {
                for &f in &FLOATS {
                    out.extend(INTS[1..].iter().map(|&i| case(op, f, &[i])));
                }
            }
            FloatToInt => {
                for &i in &INTS[1..] {
                    out.extend(FLOATS.iter().map(|&f| case(op, i, &[f])));
                }
            }
            FloatToFloat => {
                out.push(case(op, Type::F64, &[Type::F32]));
                out.push(case(op, Type::F32, &[Type::F64]));
            }
            VecUnary | VecBinary | VecCompare | VecTernary => {
                let n = sig.arity().unwrap_or(0);
                out.extend(LANES.iter().map(|&t| case(op, t, &vec![v; n])));
            }
            VecFloatCompare => out.extend(FLOATS.iter().map(|&t| case(op, t, &[v, v]))),
            VecShift => {
                for &t in &LANES {
                    out.extend(INTS.iter().map(|&a| case(op, t, &[v, a])));
                }
            }
            VecSplat => out.extend(LANES.iter().map(|&t| case(op, t, &[t]))),
            VecExtract | VecReduce => out.extend(LANES.iter().map(|&t| case(op, t, &[v]))),
            VecInsert => out.extend(LANES.iter().map(|&t| case(op, t, &[v, t]))),
            VecShuffle => out.push(case(op, Type::I8, &[v, v])),
            Load | Store | ReadReg | WriteReg | AtomicRmw | AtomicCas | Fence | Helper => {}
        }
    }
    out
}

/// Immediates worth trying for a case (all conditions and rounding modes,
/// a few lanes, shuffles and constants).
fn immediates(c: &Case) -> Vec<Imm> {
    match c.op.sig().imm_kind() {
        ImmKind::None => vec![Imm::None],
        ImmKind::Cc => IntCC::ALL.iter().map(|&cc| Imm::Cc(cc)).collect(),
        ImmKind::Fcc => FloatCC::ALL.iter().map(|&cc| Imm::Fcc(cc)).collect(),
        ImmKind::Rm => RoundingMode::ALL.iter().map(|&rm| Imm::Rm(rm)).collect(),
        ImmKind::Lane => {
            let n = c.ty.lanes() as u8;
            let mut l = vec![0, n - 1, n / 2];
            l.dedup();
            l.into_iter().map(Imm::Lane).collect()
        }
        ImmKind::Bytes => {
            let mut masks = vec![[0u8; 16], [17u8; 16]];
            let mut ident = [0u8; 16];
            let mut rev = [0u8; 16];
            for i in 0..16 {
                ident[i] = i as u8;
                rev[i] = 31 - i as u8;
            }
            masks.push(ident);
            masks.push(rev);
            let mut rng = Rng(0x5eed);
            masks.push(std::array::from_fn(|_| (rng.next() % 32) as u8));
            masks.into_iter().map(Imm::Bytes).collect()
        }
        ImmKind::Int => {
            let mut rng = Rng(0xc0ffee ^ c.ty.bits() as u64);
            let mut vals: Vec<u128> = edge_values(c.ty).into_iter().take(6).collect();
            vals.push(rng.bits128());
            vals.into_iter()
                .map(|v| Imm::Int(v & c.ty.mask()))
                .collect()
        }
        ImmKind::Reg | ImmKind::Atomic | ImmKind::Helper => Vec::new(),
    }
}

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

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bits128(&mut self) -> u128 {
        u128::from(self.next()) | u128::from(self.next()) << 64
    }
}

const F32_EDGES: [u32; 28] = [
    0x0000_0000,
    0x8000_0000,
    0x3f80_0000,
    0xbf80_0000,
    0x7f80_0000,
    0xff80_0000,
    0x7fc0_0000,
    0x7f80_0001,
    0xffc1_2345,
    0x0000_0001,
    0x007f_ffff,
    0x0080_0000,
    0x7f7f_ffff,
    0x3f00_0000,
    0x3fc0_0000,
    0x4020_0000,
    0xc020_0000,
    0x4060_0000,
    0x4f00_0000,
    0xcf00_0000,
    0x4f80_0000,
    0x5f00_0000,
    0xdf00_0000,
    0x5f80_0000,
    0x7f00_0000,
    0xff00_0000,
    0x3dcc_cccd,
    0x4b80_0001,
];

const F64_EDGES: [u64; 30] = [
    0x0000_0000_0000_0000,
    0x8000_0000_0000_0000,
    0x3ff0_0000_0000_0000,
    0xbff0_0000_0000_0000,
    0x7ff0_0000_0000_0000,
    0xfff0_0000_0000_0000,
    0x7ff8_0000_0000_0000,
    0x7ff0_0000_0000_0001,
    0xfff8_1234_5678_9abc,
    0x0000_0000_0000_0001,
    0x000f_ffff_ffff_ffff,
    0x0010_0000_0000_0000,
    0x7fef_ffff_ffff_ffff,
    0x3fe0_0000_0000_0000,
    0x3ff8_0000_0000_0000,
    0x4004_0000_0000_0000,
    0xc004_0000_0000_0000,
    0x41e0_0000_0000_0000,
    0xc1e0_0000_0000_0000,
    0x41f0_0000_0000_0000,
    0x43e0_0000_0000_0000,
    0xc3e0_0000_0000_0000,
    0x43f0_0000_0000_0000,
    0x47e0_0000_0000_0000,
    0xc7e0_0000_0000_0000,
    0x47f0_0000_0000_0000,
    0x3fb9_9999_9999_999a,
    0x4330_0000_0000_0001,
    0x3810_0000_0000_0000,
    0x4000_0000_0000_0001,
];

/// Interesting values of a type (as bits).
fn edge_values(ty: Type) -> Vec<u128> {
    match ty {
        Type::F32 => F32_EDGES.iter().map(|&b| u128::from(b)).collect(),
        Type::F64 => F64_EDGES.iter().map(|&b| u128::from(b)).collect(),
        Type::V128 => {
            let mut v = Vec::new();
            for chunk in F32_EDGES.chunks(4) {
                let lanes: Vec<u128> = chunk.iter().map(|&b| u128::from(b)).collect();
                v.push(pack(32, &lanes));
            }
            for chunk in F64_EDGES.chunks(2) {
                let lanes: Vec<u128> = chunk.iter().map(|&b| u128::from(b)).collect();
                v.push(pack(64, &lanes));
            }
            for w in [8u32, 16, 32, 64] {
                let t = int_of(w);
                let e = edge_values(t);
                let n = (128 / w) as usize;
                for k in 0..4 {
                    let lanes: Vec<u128> = (0..n).map(|i| e[(i * 3 + k * 5) % e.len()]).collect();
                    v.push(pack(w, &lanes));
                }
            }
            v.extend([0, u128::MAX, 1, 0x0f0e_0d0c_0b0a_0908_0706_0504_0302_0100]);
            v
        }
        _ => {
            let w = ty.bits();
            let m = ty.mask();
            let min = 1u128 << (w - 1);
            let mut v = vec![
                0,
                1,
                2,
                3,
                7,
                m,
                m - 1,
                min,
                min + 1,
                min - 1,
                u128::from(w),
                u128::from(w - 1),
                u128::from(w + 1),
                0x5555_5555_5555_5555_5555_5555_5555_5555,
                0xaaaa_aaaa_aaaa_aaaa_aaaa_aaaa_aaaa_aaaa,
                100,
                100u128.wrapping_neg(),
                0x8000_0000,
                0x1_0000_0000,
                0xffff_ffff,
                1u128 << 64,
                u128::from(u64::MAX),
            ];
            for x in &mut v {
                *x &= m;
            }
            v
        }
    }
}

fn int_of(bits: u32) -> Type {
    match bits {
        8 => Type::I8,
        16 => Type::I16,
        32 => Type::I32,
        _ => Type::I64,
    }
}

fn pack(w: u32, lanes: &[u128]) -> u128 {
    let m = if w == 128 {
        u128::MAX
    } else {
        (1u128 << w) - 1
    };
    lanes
        .iter()
        .enumerate()
        .fold(0, |acc, (i, &l)| acc | (l & m) << (i as u32 * w))
}

/// An operand value: mostly edge values, sometimes random bits (with the
/// bits above the type left random to check that loads mask them).
fn operand(ty: Type, rng: &mut Rng) -> u128 {
    let edges = edge_values(ty);
    let r = rng.next();
    let v = if r % 10 < 7 {
        edges[(r / 10) as usize % edges.len()]
    } else {
        rng.bits128()
    };
    if ty == Type::I1 {
        v | u128::from(rng.next() as u8 & 0xfe)
    } else {
        v
    }
}

/// Ops whose NaN results may carry any payload.
fn nan_payload_free(op: Opcode) -> bool {
    use Opcode::*;
    matches!(
        op,
        Fsqrt
            | Fround
            | Fadd
            | Fsub
            | Fmul
            | Fdiv
            | Fma
            | Fmin
            | Fmax
            | Fminnum
            | Fmaxnum
            | Fconvert
            | Vfsqrt
            | Vfadd
            | Vfsub
            | Vfmul
            | Vfdiv
            | Vfmin
            | Vfmax
            | Vfminnum
            | Vfmaxnum
    )
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
    let mut rng = Rng(seed | 1);
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

#[test]
fn every_op_type_and_immediate_matches_the_interpreter() {
    let mut jit = jit();
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
        let mut rng = Rng(seed | 1);
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
