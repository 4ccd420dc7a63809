//! riscv64 lifter semantics, run on the IR interpreter.
//!
//! Each test assembles a few instructions, lifts them as one function, runs
//! it on the reference interpreter (before and after optimization, which
//! must agree) and checks values chosen so that a wrong semantic (missing
//! sign extension, unmasked shift, wrong division corner, missing NaN box,
//! wrong rounding) gives a different answer.

use vmtrans_ir::interp::{self, Env, GuestState, InterpError, Memory, Outcome, SparseMemory};
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_ir::verify::verify_function;
use vmtrans_ir::{Helper, RoundingMode, TrapKind};
use vmtrans_translator::lift::{lift_function, BlockRange, CodeSource};
use vmtrans_translator::riscv64::regs::{f, x, FFLAGS, FRM, PC};
use vmtrans_translator::riscv64::{decode, Riscv64Lifter};

const BASE: u64 = 0x1000;

// ---- a tiny assembler (each word is checked against the decoder) ----

const fn r(f7: u32, rs2: u32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
    f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
const fn i(imm: i32, rs1: u32, f3: u32, rd: u32, op: u32) -> u32 {
    ((imm as u32) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op
}
const fn s(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let imm = imm as u32;
    (imm >> 5 & 0x7f) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | (imm & 0x1f) << 7 | 0x23
}
const fn b(imm: i32, rs2: u32, rs1: u32, f3: u32) -> u32 {
    let imm = imm as u32;
    (imm >> 12 & 1) << 31
        | (imm >> 5 & 0x3f) << 25
        | rs2 << 20
        | rs1 << 15
        | f3 << 12
        | (imm >> 1 & 0xf) << 8
        | (imm >> 11 & 1) << 7
        | 0x63
}
const fn u(imm20: u32, rd: u32, op: u32) -> u32 {
    imm20 << 12 | rd << 7 | op
}
const fn j(imm: i32, rd: u32) -> u32 {
    let imm = imm as u32;
    (imm >> 20 & 1) << 31
        | (imm >> 1 & 0x3ff) << 21
        | (imm >> 11 & 1) << 20
        | (imm >> 12 & 0xff) << 12
        | rd << 7
        | 0x6f
}

// Register numbers.
const RA: u32 = 1;
const A0: u32 = 10;
const A1: u32 = 11;
const A2: u32 = 12;
const A3: u32 = 13;
const A7: u32 = 17;

const OP: u32 = 0x33;
const OP32: u32 = 0x3b;
const OPIMM: u32 = 0x13;
const OPIMM32: u32 = 0x1b;
const OPFP: u32 = 0x53;

fn add(rd: u32, a: u32, bb: u32) -> u32 {
    r(0, bb, a, 0, rd, OP)
}
fn addi(rd: u32, a: u32, imm: i32) -> u32 {
    i(imm, a, 0, rd, OPIMM)
}
fn m(f3: u32, rd: u32, a: u32, bb: u32) -> u32 {
    r(1, bb, a, f3, rd, OP)
}
fn mw(f3: u32, rd: u32, a: u32, bb: u32) -> u32 {
    r(1, bb, a, f3, rd, OP32)
}
/// FP op with funct7, rm and registers.
fn fp(f7: u32, rs2: u32, rs1: u32, rm: u32, rd: u32) -> u32 {
    r(f7, rs2, rs1, rm, rd, OPFP)
}

// ---- harness ----

struct Code(Vec<u8>);

impl CodeSource for Code {
    fn code(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let off = usize::try_from(addr.checked_sub(BASE)?).ok()?;
        let end = (off + len).min(self.0.len());
        (off < self.0.len()).then(|| &self.0[off..end])
    }
}

/// Helpers and callees as a tiny runtime would provide them.
#[derive(Default)]
struct TestEnv {
    calls: Vec<u64>,
    host_flags: u32,
}

impl Env for TestEnv {
    fn helper(
        &mut self,
        h: Helper,
        args: &[u128],
        state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        let a0 = x(10).index();
        let a7 = x(17).index();
        Ok(match h {
            Helper::Syscall => {
                match state.regs[a7] {
                    // write(fd, buf, len) -> len
                    64 => state.regs[a0] = state.regs[x(12).index()],
                    // rt_sigreturn: resume somewhere else
                    139 => state.regs[PC.index()] = 0x5000,
                    _ => state.regs[a0] = (-38i64) as u64 as u128,
                }
                None
            }
            Helper::FpHostFlags => {
                // Guest-format pending flags as MXCSR bits.
                let map = [(16, 1), (8, 4), (4, 8), (2, 16), (1, 32)];
                let bits = map
                    .iter()
                    .filter(|(guest, _)| self.host_flags & guest != 0)
                    .fold(0u32, |acc, (_, host)| acc | host);
                Some(u128::from(bits))
            }
            Helper::FpSyncFlags => {
                state.regs[FFLAGS.index()] |= u128::from(self.host_flags);
                self.host_flags = 0;
                None
            }
            Helper::FpSetRounding => {
                state.dyn_rm =
                    RoundingMode::from_number(args[0] as u32).unwrap_or(RoundingMode::Rne);
                None
            }
            Helper::ReadCycle | Helper::ReadTime | Helper::ReadInstret => Some(1234),
            other => panic!("unexpected helper {other:?}"),
        })
    }

    fn call(
        &mut self,
        target: u64,
        state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        self.calls.push(target);
        Ok(state.regs[x(1).index()] as u64)
    }
}

struct Run {
    outcome: Outcome,
    state: GuestState,
    mem: SparseMemory,
    env: TestEnv,
}

impl Run {
    fn x(&self, n: u8) -> u64 {
        self.state.regs[x(n).index()] as u64
    }
    fn f(&self, n: u8) -> u64 {
        self.state.regs[f(n).index()] as u64
    }
}

/// Lifts `words` at BASE as one block, runs it unoptimized and optimized
/// from the same start, checks both agree, and returns the result.
fn run(words: &[u32], setup: impl Fn(&mut GuestState, &mut SparseMemory)) -> Run {
    run_blocks(words, &[], setup)
}

/// Like [`run`], with guest blocks also starting at the given word indices
/// (discovery starts a block at every return address).
fn run_blocks(
    words: &[u32],
    block_starts: &[usize],
    setup: impl Fn(&mut GuestState, &mut SparseMemory),
) -> Run {
    let mut bytes = Vec::new();
    for &w in words {
        let insn = decode(&w.to_le_bytes(), 0)
            .unwrap_or_else(|e| panic!("test encoded {w:#010x} badly: {e}"));
        assert_eq!(insn.len, 4);
        bytes.extend_from_slice(&w.to_le_bytes());
    }
    let code = Code(bytes);
    let mut cuts: Vec<u64> = block_starts.iter().map(|&w| BASE + 4 * w as u64).collect();
    cuts.insert(0, BASE);
    cuts.push(BASE + code.0.len() as u64);
    let ranges: Vec<BlockRange> = cuts
        .windows(2)
        .map(|w| BlockRange {
            start: w[0],
            end: w[1],
        })
        .collect();
    let (func, issues) = lift_function(&Riscv64Lifter, &code, "t", BASE, &ranges);
    assert!(issues.is_empty(), "{issues:?}");
    verify_function(&func)
        .unwrap_or_else(|e| panic!("{e}\n{}", vmtrans_ir::print::print_function(&func)));
    let mut optimized = func.clone();
    optimize_function(&mut optimized, &OptOptions::new(OptLevel::Full)).unwrap();

    let go = |f: &vmtrans_ir::Function| {
        let mut state = GuestState::new(&f.regs);
        let mut mem = SparseMemory::new();
        setup(&mut state, &mut mem);
        let mut env = TestEnv {
            host_flags: 0b00001,
            ..TestEnv::default()
        };
        let outcome = interp::run(f, &mut state, &mut mem, &mut env, 10_000).unwrap();
        Run {
            outcome,
            state,
            mem,
            env,
        }
    };
    let plain = go(&func);
    let opt = go(&optimized);
    assert_eq!(
        plain.outcome, opt.outcome,
        "optimization changed the outcome"
    );
    assert_eq!(plain.state, opt.state, "optimization changed the registers");
    assert_eq!(
        plain.mem.nonzero_bytes(),
        opt.mem.nonzero_bytes(),
        "optimization changed memory"
    );
    plain
}

fn set(state: &mut GuestState, n: u8, v: u64) {
    state.regs[x(n).index()] = u128::from(v);
}
fn setf(state: &mut GuestState, n: u8, v: u64) {
    state.regs[f(n).index()] = u128::from(v);
}
fn end(words: &[u32]) -> Outcome {
    Outcome::Exit(BASE + 4 * words.len() as u64)
}

// ---- integer ----

#[test]
fn word_ops_sign_extend_their_32_bit_result() {
    let code = [
        r(0, A1, A0, 0, A2, OP32),        // addw a2, a0, a1
        i(0, A0, 0, A3, OPIMM32),         // addiw a3, a0, 0 (sext.w)
        i(1, A2, 5, 14, OPIMM32),         // srliw a4, a2, 1
        i(1 | 0x400, A2, 5, 15, OPIMM32), // sraiw a5, a2, 1
    ];
    let out = run(&code, |s, _| {
        set(s, 10, 0x1234_5678_7fff_ffff);
        set(s, 11, 1);
    });
    assert_eq!(out.outcome, end(&code));
    assert_eq!(out.x(12), 0xffff_ffff_8000_0000);
    assert_eq!(out.x(13), 0x0000_0000_7fff_ffff);
    assert_eq!(out.x(14), 0x0000_0000_4000_0000);
    assert_eq!(out.x(15), 0xffff_ffff_c000_0000);
}

#[test]
fn shift_amounts_are_masked_to_the_width() {
    let code = [
        r(0, A1, A0, 1, A2, OP),    // sll a2, a0, a1   (a1 = 65 → 1)
        r(0, A1, A0, 1, A3, OP32),  // sllw a3, a0, a1  (65 & 31 = 1)
        r(0x20, A1, A0, 5, 14, OP), // sra a4, a0, a1
    ];
    let out = run(&code, |s, _| {
        set(s, 10, 0x8000_0000_4000_0001);
        set(s, 11, 65);
    });
    assert_eq!(out.x(12), 0x0000_0000_8000_0002);
    assert_eq!(out.x(13), 0xffff_ffff_8000_0002);
    assert_eq!(out.x(14), 0xc000_0000_2000_0000);
}

#[test]
fn compares_distinguish_signed_and_unsigned() {
    let code = [
        r(0, A1, A0, 2, A2, OP), // slt a2, a0, a1
        r(0, A1, A0, 3, A3, OP), // sltu a3, a0, a1
        i(-1, A0, 3, 14, OPIMM), // sltiu a4, a0, -1 (against 2^64-1)
        i(-1, A0, 2, 15, OPIMM), // slti a5, a0, -1
    ];
    let out = run(&code, |s, _| {
        set(s, 10, u64::MAX - 1); // -2
        set(s, 11, 1);
    });
    assert_eq!((out.x(12), out.x(13), out.x(14), out.x(15)), (1, 0, 1, 1));
}

#[test]
fn x0_reads_zero_and_ignores_writes() {
    let code = [addi(0, A0, 5), add(A1, 0, 0)];
    let out = run(&code, |s, _| {
        set(s, 10, 7);
        set(s, 11, 9);
    });
    assert_eq!(out.x(0), 0);
    assert_eq!(out.x(11), 0);
}

#[test]
fn upper_immediates_sign_extend_and_use_the_pc() {
    let code = [
        u(0x80000, A0, 0x37), // lui a0, 0x80000
        u(0x1, A1, 0x17),     // auipc a1, 1  (at BASE + 4)
    ];
    let out = run(&code, |_, _| {});
    assert_eq!(out.x(10), 0xffff_ffff_8000_0000);
    assert_eq!(out.x(11), BASE + 4 + 0x1000);
}

#[test]
fn multiply_high_variants() {
    let code = [
        m(1, A2, A0, A1),  // mulh a2
        m(2, A3, A0, A1),  // mulhsu a3 (a0 signed, a1 unsigned)
        m(3, 14, A0, A1),  // mulhu a4
        m(0, 15, A0, A1),  // mul a5
        mw(0, 16, A0, A1), // mulw a6
    ];
    let out = run(&code, |s, _| {
        set(s, 10, u64::MAX); // -1
        set(s, 11, u64::MAX);
    });
    assert_eq!(out.x(12), 0); // (-1)*(-1) = 1
    assert_eq!(out.x(13), u64::MAX); // -1 * (2^64-1) = -(2^64-1): high = -1
    assert_eq!(out.x(14), u64::MAX - 1);
    assert_eq!(out.x(15), 1);
    assert_eq!(out.x(16), 1);
}

#[test]
fn division_by_zero_and_overflow_follow_the_isa() {
    let code = [
        m(4, A2, A0, A1),  // div
        m(5, A3, A0, A1),  // divu
        m(6, 14, A0, A1),  // rem
        m(7, 15, A0, A1),  // remu
        mw(4, 16, A0, A1), // divw
        mw(5, 17, A0, A1), // divuw
    ];
    let zero = run(&code, |s, _| {
        set(s, 10, 0x1234_5678_9abc_def0);
        set(s, 11, 0);
    });
    assert_eq!(zero.x(12), u64::MAX);
    assert_eq!(zero.x(13), u64::MAX);
    assert_eq!(zero.x(14), 0x1234_5678_9abc_def0);
    assert_eq!(zero.x(15), 0x1234_5678_9abc_def0);
    assert_eq!(zero.x(16), u64::MAX);
    assert_eq!(zero.x(17), u64::MAX);

    let overflow = run(&code, |s, _| {
        set(s, 10, 0x8000_0000_0000_0000);
        set(s, 11, u64::MAX);
    });
    assert_eq!(overflow.x(12), 0x8000_0000_0000_0000);
    assert_eq!(overflow.x(14), 0);
    assert_eq!(overflow.x(13), 0); // divu MIN / (2^64-1)
    let w = run(&[mw(4, A2, A0, A1), mw(6, A3, A0, A1)], |s, _| {
        set(s, 10, 0x8000_0000);
        set(s, 11, u64::MAX);
    });
    assert_eq!(w.x(12), 0xffff_ffff_8000_0000);
    assert_eq!(w.x(13), 0);
}

#[test]
fn loads_extend_by_kind_and_stores_truncate() {
    let code = [
        i(0, A0, 0, A1, 0x03),  // lb a1, 0(a0)
        i(0, A0, 4, A2, 0x03),  // lbu a2
        i(0, A0, 2, A3, 0x03),  // lw a3
        i(0, A0, 6, 14, 0x03),  // lwu a4
        s(8, 14, A0, 1),        // sh a4, 8(a0)
        i(-4, A0, 3, 15, 0x03), // ld a5, -4(a0)
    ];
    let out = run(&code, |st, mem| {
        set(st, 10, 0x2004);
        mem.write_bytes(0x2000, &[0x11, 0x22, 0x33, 0x44]);
        mem.write_bytes(0x2004, &[0x80, 0xff, 0xff, 0xff]);
    });
    assert_eq!(out.x(11), (-128i64) as u64);
    assert_eq!(out.x(12), 0x80);
    assert_eq!(out.x(13), 0xffff_ffff_ffff_ff80);
    assert_eq!(out.x(14), 0xffff_ff80);
    assert_eq!(out.mem.byte(0x200c), 0x80);
    assert_eq!(out.mem.byte(0x200d), 0xff);
    assert_eq!(out.mem.byte(0x200e), 0);
    assert_eq!(out.x(15), 0xffff_ff80_4433_2211);
}

#[test]
fn branches_compare_signed_or_unsigned() {
    // blt a0, a1, +0x100: -1 < 1 signed → taken.
    let out = run(&[b(0x100, A1, A0, 4)], |s, _| {
        set(s, 10, u64::MAX);
        set(s, 11, 1);
    });
    assert_eq!(out.outcome, Outcome::Exit(BASE + 0x100));
    // bltu: 2^64-1 < 1 unsigned is false → falls through.
    let out = run(&[b(0x100, A1, A0, 6)], |s, _| {
        set(s, 10, u64::MAX);
        set(s, 11, 1);
    });
    assert_eq!(out.outcome, Outcome::Exit(BASE + 4));
}

#[test]
fn calls_link_and_returns_leave_through_the_return_address() {
    // jal ra, +0x40; addi a0, a0, 1; jalr x0, 0(ra)
    let code = [j(0x40, RA), addi(A0, A0, 1), i(0, RA, 0, 0, 0x67)];
    let out = run_blocks(&code, &[1], |s, _| set(s, 10, 41));
    assert_eq!(out.env.calls, vec![BASE + 0x40]);
    assert_eq!(out.x(10), 42);
    // After the call ra holds BASE+4, so the return goes there.
    assert_eq!(out.outcome, Outcome::Return(BASE + 4));
}

#[test]
fn jalr_clears_the_low_bit_and_indirect_jumps_exit() {
    let code = [i(3, A0, 0, 0, 0x67)]; // jalr x0, 3(a0)
    let out = run(&code, |s, _| set(s, 10, 0x4000));
    assert_eq!(out.outcome, Outcome::Exit(0x4002));
}

#[test]
fn ecall_continues_unless_the_runtime_moves_the_pc() {
    let code = [0x0000_0073, addi(A1, A0, 1)]; // ecall; addi a1, a0, 1
    let out = run(&code, |s, _| {
        set(s, 17, 64);
        set(s, 12, 5);
    });
    assert_eq!(out.x(10), 5);
    assert_eq!(out.x(11), 6);
    assert_eq!(out.outcome, end(&code));
    let out = run(&code, |s, _| set(s, 17, 139));
    assert_eq!(out.outcome, Outcome::Exit(0x5000));
    let _ = A7;
}

#[test]
fn ebreak_traps_at_its_address() {
    let out = run(&[addi(A0, A0, 1), 0x0010_0073], |_, _| {});
    assert_eq!(out.outcome, Outcome::Trap(TrapKind::Breakpoint, BASE + 4));
}

// ---- atomics ----

fn amo(f5: u32, f3: u32, rd: u32, rs1: u32, rs2: u32) -> u32 {
    r(f5 << 2, rs2, rs1, f3, rd, 0x2f)
}

#[test]
fn lr_sc_succeeds_once_and_fails_without_reservation() {
    let code = [
        amo(0b00010, 3, A1, A0, 0), // lr.d a1, (a0)
        addi(A1, A1, 1),
        amo(0b00011, 3, A2, A0, A1), // sc.d a2, a1, (a0)
        amo(0b00011, 3, A3, A0, A1), // sc.d a3, a1, (a0) — reservation gone
    ];
    let out = run(&code, |s, mem| {
        set(s, 10, 0x3000);
        mem.write_bytes(0x3000, &41u64.to_le_bytes());
    });
    assert_eq!(out.x(12), 0, "first sc succeeds");
    assert_eq!(out.x(13), 1, "second sc fails");
    assert_eq!(out.mem.byte(0x3000), 42);
}

#[test]
fn amo_word_ops_sign_extend_the_old_value() {
    let code = [
        amo(0b00000, 2, A2, A0, A1), // amoadd.w a2, a1, (a0)
        amo(0b11100, 3, A3, 14, A1), // amomaxu.d a3, a1, (a4)
    ];
    let out = run(&code, |s, mem| {
        set(s, 10, 0x3000);
        set(s, 14, 0x3008);
        set(s, 11, 1);
        mem.write_bytes(0x3000, &0xffff_fffeu32.to_le_bytes());
        mem.write_bytes(0x3008, &0u64.to_le_bytes());
    });
    assert_eq!(out.x(12), 0xffff_ffff_ffff_fffe);
    assert_eq!(out.mem.byte(0x3000), 0xff);
    assert_eq!(out.x(13), 0);
    assert_eq!(out.mem.byte(0x3008), 1);
}

// ---- floating point ----

const ONE_D: u64 = 0x3ff0_0000_0000_0000;
const CANON_S: u64 = 0xffff_ffff_7fc0_0000;

#[test]
fn single_precision_results_are_nan_boxed_and_bad_boxes_read_as_nan() {
    let code = [
        fp(0b0000000, 11, 10, 0, 12), // fadd.s fa2, fa0, fa1
        fp(0b0000000, 13, 10, 0, 14), // fadd.s fa4, fa0, fa3 (fa3 badly boxed)
        fp(0b1110000, 0, 12, 0, A0),  // fmv.x.w a0, fa2 (sign-extends)
    ];
    let out = run(&code, |s, _| {
        setf(s, 10, 0xffff_ffff_3f80_0000); // 1.0f
        setf(s, 11, 0xffff_ffff_bfc0_0000); // -1.5f
        setf(s, 13, 0x0000_0000_3f80_0000); // 1.0f without the box
    });
    assert_eq!(out.f(12), 0xffff_ffff_bf00_0000); // -0.5f
    assert_eq!(out.f(14), CANON_S);
    assert_eq!(out.x(10), 0xffff_ffff_bf00_0000);
}

#[test]
fn conversions_round_per_instruction_and_saturate() {
    // fcvt.w.d a_k, fa0, rm for each mode on -2.5
    let modes = [(0, -2i64), (1, -2), (2, -3), (3, -2), (4, -3)];
    for (rm, want) in modes {
        let out = run(&[fp(0b1100001, 0, 10, rm, A0)], |s, _| {
            setf(s, 10, (-2.5f64).to_bits())
        });
        assert_eq!(out.x(10) as i64, want, "rm {rm}");
    }
    let nan = run(
        &[fp(0b1100001, 0, 10, 1, A0), fp(0b1100001, 1, 10, 1, A1)],
        |s, _| setf(s, 10, f64::NAN.to_bits()),
    );
    assert_eq!(nan.x(10), 0x7fff_ffff, "fcvt.w.d NaN is INT_MAX");
    assert_eq!(
        nan.x(11),
        u64::MAX,
        "fcvt.wu.d NaN is UINT_MAX, sign-extended"
    );
    let neg = run(
        &[fp(0b1100001, 1, 10, 1, A0), fp(0b1100001, 2, 10, 1, A1)],
        |s, _| setf(s, 10, (-1e30f64).to_bits()),
    );
    assert_eq!(neg.x(10), 0, "fcvt.wu.d of a negative saturates to 0");
    assert_eq!(
        neg.x(11),
        0x8000_0000_0000_0000,
        "fcvt.l.d saturates to INT64_MIN"
    );
}

#[test]
fn arithmetic_honours_static_and_dynamic_rounding_modes() {
    let third_rne = (1.0f64 / 3.0).to_bits();
    // fdiv.d fa2, fa0, fa1 with rtz (static) and with dyn after frm := rup
    let out = run(
        &[
            fp(0b0001101, 11, 10, 1, 12), // fdiv.d rtz
            i(0x002, 3, 5, 0, 0x73),      // csrrwi x0, frm, 3 (rup)
            fp(0b0001101, 11, 10, 7, 13), // fdiv.d dyn
        ],
        |s, _| {
            setf(s, 10, ONE_D);
            setf(s, 11, 3.0f64.to_bits());
        },
    );
    assert_eq!(out.f(12), third_rne, "1/3 rounds down to the nearest value");
    assert_eq!(out.f(13), third_rne + 1, "rup gives the next value up");
    assert_eq!(out.state.regs[FRM.index()], 3);
}

#[test]
fn min_max_sign_injection_and_class() {
    let code = [
        fp(0b0010101, 11, 10, 0, 12), // fmin.d fa2, fa0(NaN), fa1(2.0)
        fp(0b0010101, 14, 13, 0, 15), // fmin.d fa5, fa3(+0), fa4(-0)
        fp(0b0010001, 11, 11, 2, 16), // fsgnjx.d fa6, fa1, fa1 → +2.0
        fp(0b1110001, 0, 14, 1, A0),  // fclass.d a0, fa4 (-0 → bit 3)
        fp(0b1010001, 10, 10, 2, A1), // feq.d a1, fa0, fa0 (NaN → 0)
    ];
    let out = run(&code, |s, _| {
        setf(s, 10, f64::NAN.to_bits());
        setf(s, 11, 2.0f64.to_bits());
        setf(s, 13, 0.0f64.to_bits());
        setf(s, 14, (-0.0f64).to_bits());
    });
    assert_eq!(out.f(12), 2.0f64.to_bits());
    assert_eq!(out.f(15), (-0.0f64).to_bits());
    assert_eq!(out.f(16), 2.0f64.to_bits());
    assert_eq!(out.x(10), 1 << 3);
    assert_eq!(out.x(11), 0);
}

#[test]
fn ordered_compares_raise_invalid_on_quiet_nan_and_feq_does_not() {
    let feq = fp(0b1010001, 11, 10, 2, A0); // feq.d a0, fa0(qNaN), fa1
    let flt = fp(0b1010001, 11, 10, 1, A0); // flt.d a0, fa0(qNaN), fa1
    let fle = fp(0b1010001, 10, 11, 0, A0); // fle.d a0, fa1, fa0(qNaN)
    let setup = |s: &mut GuestState, _: &mut SparseMemory| {
        setf(s, 10, f64::NAN.to_bits());
        setf(s, 11, 2.0f64.to_bits());
    };
    assert_eq!(run(&[feq], setup).state.regs[FFLAGS.index()], 0);
    assert_eq!(run(&[flt], setup).state.regs[FFLAGS.index()], 0x10);
    assert_eq!(run(&[fle], setup).state.regs[FFLAGS.index()], 0x10);
    assert_eq!(run(&[flt], setup).x(10), 0);
}

#[test]
fn a_compare_between_saving_and_restoring_the_flags_leaves_them_as_they_were() {
    // frflags a3; flt.d/fle.d/feq.d a0, fa0, fa1; fsflags a3 — gcc's quiet
    // compare. The host reports NX pending; fflags starts with DZ.
    let save = i(0x001, 0, 2, A3, 0x73);
    let restore = i(0x001, A3, 1, 0, 0x73);
    let signalling = 0x7ff0_0000_0000_0001u64;
    let cases = [
        (1, f64::NAN.to_bits(), 2.0f64.to_bits(), 0),
        (1, signalling, 2.0f64.to_bits(), 0),
        (2, signalling, signalling, 0),
        (1, (-3.0f64).to_bits(), (-2.0f64).to_bits(), 1),
        (1, (-2.0f64).to_bits(), (-3.0f64).to_bits(), 0),
        (1, (-0.0f64).to_bits(), 0.0f64.to_bits(), 0),
        (0, (-0.0f64).to_bits(), 0.0f64.to_bits(), 1),
        (2, (-0.0f64).to_bits(), 0.0f64.to_bits(), 1),
        (1, 1.0f64.to_bits(), f64::INFINITY.to_bits(), 1),
    ];
    for (rm, a, b, want) in cases {
        let compare = fp(0b1010001, 11, 10, rm, A0);
        let out = run(&[save, compare, restore], |s, _| {
            setf(s, 10, a);
            setf(s, 11, b);
            s.regs[FFLAGS.index()] = 0x08;
        });
        let what = format!("rm {rm}: {a:#x} vs {b:#x}");
        assert_eq!(out.x(10), want, "{what}");
        assert_eq!(
            out.x(13),
            0x09,
            "{what}: the saved flags include the host's"
        );
        assert_eq!(out.state.regs[FFLAGS.index()], 0x08, "{what}: no NV");
    }
}

#[test]
fn float_to_int_conversions_raise_inexact_when_they_drop_a_fraction() {
    let cvt = fp(0b1100001, 2, 10, 1, A0); // fcvt.l.d a0, fa0, rtz
    let with = |x: f64| {
        run(&[cvt], move |s: &mut GuestState, _: &mut SparseMemory| {
            setf(s, 10, x.to_bits())
        })
    };
    let out = with(2.5);
    assert_eq!((out.x(10), out.state.regs[FFLAGS.index()]), (2, 0x01));
    let out = with(-3.0);
    assert_eq!((out.x(10) as i64, out.state.regs[FFLAGS.index()]), (-3, 0));
}

#[test]
fn fused_multiply_add_rounds_once() {
    // fmadd.d fa3, fa0, fa1, fa2 with a = 1+2^-52, b = 1-2^-52, c = -1:
    // exact result -2^-104, which a separate multiply would round to 0.
    let code = [r(0b01, 11, 10, 0, 13, 0x43) | (12 << 27)];
    let out = run(&code, |s, _| {
        setf(s, 10, f64::from_bits(ONE_D + 1).to_bits());
        setf(s, 11, (1.0f64 - f64::EPSILON).to_bits());
        setf(s, 12, (-1.0f64).to_bits());
    });
    assert_eq!(f64::from_bits(out.f(13)), -(2f64.powi(-104)));
}

#[test]
fn fcsr_reads_compose_frm_and_accrued_flags() {
    // csrrs a0, fcsr, x0 with frm = 2 and the host reporting NX.
    let code = [i(0x003, 0, 2, A0, 0x73)];
    let out = run(&code, |s, _| s.regs[FRM.index()] = 2);
    assert_eq!(out.x(10), (2 << 5) | 1);
}

#[test]
fn counters_come_from_the_runtime() {
    let code = [i(0xc00, 0, 2, A0, 0x73)]; // rdcycle a0
    let out = run(&code, |_, _| {});
    assert_eq!(out.x(10), 1234);
}

// ---- bit manipulation ----

#[test]
fn zbb_byte_ops() {
    let code = [
        i(0x287, A0, 5, A1, OPIMM), // orc.b a1, a0
        i(0x6b8, A0, 5, A2, OPIMM), // rev8 a2, a0
        i(0x600, A0, 1, A3, OPIMM), // clz a3, a0
    ];
    let out = run(&code, |s, _| set(s, 10, 0x0001_0200_0000_8000));
    assert_eq!(out.x(11), 0x00ff_ff00_0000_ff00);
    assert_eq!(out.x(12), 0x0080_0000_0002_0100);
    assert_eq!(out.x(13), 15);
}
