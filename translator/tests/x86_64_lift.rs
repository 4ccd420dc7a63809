//! x86_64 instruction semantics through the IR interpreter: each case
//! lifts a few encoded instructions as one block, runs the function
//! unoptimized and optimized from the same start, checks both agree, and
//! checks registers, flags, memory and the outcome (exit, trap, call).

use vmtrans_abi::x87;
use vmtrans_ir::interp::{self, Env, GuestState, InterpError, Memory, Outcome, SparseMemory};
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_ir::{GuestReg, Helper, TrapKind};
use vmtrans_translator::lift::{
    lift_function, lift_function_self_checking, BlockRange, CodeSource,
};
use vmtrans_translator::x86_64::regs::{
    gpr, st, xmm, CF, FPU_TOP, OF, PF, RAX, RCX, RDX, RIP, RSP, SF, ZF,
};
use vmtrans_translator::x86_64::X86_64Lifter;

const BASE: u64 = 0x40_1000;

struct Code<'a>(&'a [u8]);

impl CodeSource for Code<'_> {
    fn code(&self, addr: u64, len: usize) -> Option<&[u8]> {
        let start = addr.checked_sub(BASE)? as usize;
        let rest = self.0.get(start..)?;
        Some(&rest[..len.min(rest.len())])
    }
}

/// Syscall: `write` returns its length; CPUID leaf 0 gives a vendor.
#[derive(Default)]
struct TestEnv {
    calls: Vec<u64>,
    /// The x87 helper's (descriptor, operand) arguments, in call order.
    x87: Vec<(u32, u64)>,
    /// Calls of the flush-code helper.
    flushes: usize,
}

/// What the stand-in x87 helper returns (a memory destination's bits).
const X87_RESULT: u64 = 0x1122_3344_5566_7788;

impl Env for TestEnv {
    fn helper(
        &mut self,
        h: Helper,
        args: &[u128],
        state: &mut GuestState,
        _mem: &mut dyn Memory,
    ) -> Result<Option<u128>, InterpError> {
        Ok(match h {
            Helper::Syscall => {
                let r = match state.regs[RAX.index()] {
                    1 => state.regs[RDX.index()],
                    _ => (-38i64) as u64 as u128,
                };
                state.regs[RAX.index()] = r;
                None
            }
            Helper::ReadCycle => Some(0x1_2345_6789),
            Helper::FlushCode => {
                self.flushes += 1;
                None
            }
            Helper::X87 => {
                self.x87.push((args[0] as u32, args[1] as u64));
                Some(u128::from(X87_RESULT))
            }
            other => panic!("unexpected helper {other:?}"),
        })
    }

    fn call(
        &mut self,
        target: u64,
        state: &mut GuestState,
        mem: &mut dyn Memory,
    ) -> Result<u64, InterpError> {
        self.calls.push(target);
        // The callee returns at once: pop the return address.
        let sp = state.regs[RSP.index()] as u64;
        let ret = mem.load(sp, 8).expect("return address mapped") as u64;
        state.regs[RSP.index()] = u128::from(sp + 8);
        Ok(ret)
    }
}

struct Run {
    outcome: Outcome,
    state: GuestState,
    env: TestEnv,
}

impl Run {
    fn reg(&self, r: GuestReg) -> u64 {
        self.state.regs[r.index()] as u64
    }
    fn flag(&self, r: GuestReg) -> bool {
        self.state.regs[r.index()] != 0
    }
}

fn run(code: &[u8], setup: impl Fn(&mut GuestState, &mut SparseMemory)) -> Run {
    let block = BlockRange {
        start: BASE,
        end: BASE + code.len() as u64,
    };
    let (f, issues) = lift_function(&X86_64Lifter, &Code(code), "t", BASE, &[block]);
    assert!(issues.is_empty(), "{issues:?}");
    let mut opt = f.clone();
    optimize_function(&mut opt, &OptOptions::new(OptLevel::Full)).expect("optimize");
    let mut results = Vec::new();
    for func in [&f, &opt] {
        let mut state = GuestState::new(&func.regs);
        let mut mem = SparseMemory::new();
        state.regs[RSP.index()] = 0x7000_0000;
        setup(&mut state, &mut mem);
        let mut env = TestEnv::default();
        let outcome = interp::run(func, &mut state, &mut mem, &mut env, 10_000).unwrap();
        results.push(Run {
            outcome,
            state,
            env,
        });
    }
    let opt_run = results.pop().unwrap();
    let plain = results.pop().unwrap();
    assert_eq!(
        plain.outcome, opt_run.outcome,
        "optimization changed the outcome"
    );
    assert_eq!(
        plain.state.regs[..16],
        opt_run.state.regs[..16],
        "optimization changed the registers"
    );
    plain
}

fn set(s: &mut GuestState, r: GuestReg, v: u64) {
    s.regs[r.index()] = u128::from(v);
}

fn falls_through(code: &[u8]) -> Outcome {
    Outcome::Exit(BASE + code.len() as u64)
}

#[test]
fn add_sets_all_flags() {
    // add %ebx,%eax with 0x7fffffff + 1: OF, SF, not CF, not ZF; upper half zeroed.
    let code = [0x01, 0xd8];
    let r = run(&code, |s, _| {
        set(s, RAX, 0xffff_ffff_7fff_ffff);
        set(s, gpr(3), 1);
    });
    assert_eq!(r.outcome, falls_through(&code));
    assert_eq!(r.reg(RAX), 0x8000_0000);
    assert!(r.flag(OF) && r.flag(SF) && !r.flag(CF) && !r.flag(ZF));
    assert!(r.flag(PF), "0x00 low byte has even parity");
}

#[test]
fn partial_registers_merge_and_zero_extend() {
    // mov $0x12,%ah ; mov $0x3456,%cx ; mov $-1,%edx
    let code = [
        0xb4, 0x12, 0x66, 0xb9, 0x56, 0x34, 0xba, 0xff, 0xff, 0xff, 0xff,
    ];
    let r = run(&code, |s, _| {
        set(s, RAX, 0x1111_1111_1111_1111);
        set(s, RCX, 0x2222_2222_2222_2222);
        set(s, RDX, 0x3333_3333_3333_3333);
    });
    assert_eq!(r.reg(RAX), 0x1111_1111_1111_1211);
    assert_eq!(r.reg(RCX), 0x2222_2222_2222_3456);
    assert_eq!(r.reg(RDX), 0xffff_ffff);
}

#[test]
fn cmp_and_jcc_pick_the_branch() {
    // cmp $5,%rdi ; ja +0x10
    let code = [0x48, 0x83, 0xff, 0x05, 0x77, 0x10];
    let taken = run(&code, |s, _| set(s, gpr(7), 9));
    assert_eq!(taken.outcome, Outcome::Exit(BASE + 6 + 0x10));
    let not_taken = run(&code, |s, _| set(s, gpr(7), 5));
    assert_eq!(not_taken.outcome, falls_through(&code));
}

#[test]
fn div_by_zero_traps() {
    // div %rcx
    let code = [0x48, 0xf7, 0xf1];
    let r = run(&code, |s, _| set(s, RAX, 10));
    assert_eq!(r.outcome, Outcome::Trap(TrapKind::DivideError, BASE));
    let ok = run(&code, |s, _| {
        set(s, RAX, 100);
        set(s, RCX, 7);
    });
    assert_eq!((ok.reg(RAX), ok.reg(RDX)), (14, 2));
}

#[test]
fn shifts_by_cl_zero_keep_value_and_flags() {
    // shl %cl,%eax with cl = 32 (masked to 0)
    let code = [0xd3, 0xe0];
    let r = run(&code, |s, _| {
        set(s, RAX, 0x8000_0001);
        set(s, RCX, 32);
        set(s, CF, 1);
    });
    assert_eq!(r.reg(RAX), 0x8000_0001);
    assert!(r.flag(CF));
}

#[test]
fn call_pushes_and_ret_pops() {
    // call +0 (to the next instruction's address + 0x20)
    let code = [0xe8, 0x20, 0, 0, 0];
    let r = run(&code, |_, _| {});
    assert_eq!(r.env.calls, vec![BASE + 5 + 0x20]);
    assert_eq!(r.reg(RSP), 0x7000_0000);
    // ret
    let r = run(&[0xc3], |s, m| {
        set(s, RSP, 0x7000_0000);
        m.store(0x7000_0000, 8, 0x1234).unwrap();
    });
    assert_eq!(r.outcome, Outcome::Return(0x1234));
}

#[test]
fn syscall_sets_rcx_r11_and_result() {
    // mov $1,%eax ; mov $5,%edx ; syscall
    let code = [0xb8, 1, 0, 0, 0, 0xba, 5, 0, 0, 0, 0x0f, 0x05];
    let r = run(&code, |_, _| {});
    assert_eq!(r.reg(RAX), 5);
    assert_eq!(r.reg(RCX), BASE + 12);
    assert_eq!(r.reg(RIP), BASE + 12);
    assert_eq!(r.reg(gpr(11)) & 0x202, 0x202);
}

#[test]
fn rep_stosb_fills_memory() {
    // rep stos %al,%es:(%rdi)
    let code = [0xf3, 0xaa];
    let r = run(&code, |s, _| {
        set(s, RAX, 0xab);
        set(s, RCX, 3);
        set(s, gpr(7), 0x9000);
    });
    assert_eq!(r.reg(RCX), 0);
    assert_eq!(r.reg(gpr(7)), 0x9003);
}

#[test]
fn pmovmskb_gathers_byte_signs() {
    // pmovmskb %xmm1,%eax
    let code = [0x66, 0x0f, 0xd7, 0xc1];
    let r = run(&code, |s, _| {
        s.regs[xmm(1).index()] = 0x8000_0000_0000_0080_ff00_0000_0000_0080;
    });
    assert_eq!(r.reg(RAX), 0b1000_0001_1000_0001);
}

#[test]
fn cmov_with_32_bit_operands_zero_extends_even_when_false() {
    // cmove %ecx,%eax with ZF clear
    let code = [0x0f, 0x44, 0xc1];
    let r = run(&code, |s, _| {
        set(s, RAX, 0xffff_ffff_0000_0001);
        set(s, RCX, 7);
    });
    assert_eq!(r.reg(RAX), 1);
}

/// Lifts and runs `code` with `rdi` = 0x9000 and the 80-bit value
/// 1.0 at 0x9000.
fn run_x87(code: &[u8]) -> (Run, SparseMemory) {
    let block = BlockRange {
        start: BASE,
        end: BASE + code.len() as u64,
    };
    let (f, issues) = lift_function(&X86_64Lifter, &Code(code), "t", BASE, &[block]);
    assert!(issues.is_empty(), "{issues:?}");
    let mut state = GuestState::new(&f.regs);
    let mut mem = SparseMemory::new();
    state.regs[gpr(7).index()] = 0x9000;
    mem.store(0x9000, 8, 1 << 63).unwrap();
    mem.store(0x9008, 8, 0x3fff | 0x1234_5678 << 32).unwrap();
    mem.store(0x9010, 8, 0).unwrap();
    let mut env = TestEnv::default();
    let outcome = interp::run(&f, &mut state, &mut mem, &mut env, 10_000).unwrap();
    assert_eq!(outcome, falls_through(code));
    (
        Run {
            outcome,
            state,
            env,
        },
        mem,
    )
}

#[test]
fn x87_narrowing_stores_go_through_the_helper_and_store_its_bits() {
    // fldt (%rdi); fstpl 16(%rdi).
    let (r, mut mem) = run_x87(&[0xdb, 0x2f, 0xdd, 0x5f, 0x10]);
    assert_eq!(
        r.env.x87,
        [(x87::encode(x87::FST, x87::M64FP, 0, false), 0)]
    );
    assert_eq!(mem.load(0x9010, 8).unwrap() as u64, X87_RESULT);
    assert_eq!(r.reg(FPU_TOP), 0, "fstp pops");
    // fldt (%rdi); fsts 16(%rdi): four bytes, no pop.
    let (r, mut mem) = run_x87(&[0xdb, 0x2f, 0xd9, 0x57, 0x10]);
    assert_eq!(
        r.env.x87,
        [(x87::encode(x87::FST, x87::M32FP, 0, false), 0)]
    );
    assert_eq!(
        mem.load(0x9010, 8).unwrap() as u64,
        X87_RESULT & 0xffff_ffff
    );
    assert_eq!(r.reg(FPU_TOP), 7);
}

#[test]
fn x87_arithmetic_passes_forms_and_memory_operands() {
    // fld1; fld1; faddp st(1), st(0); fiaddl 8(%rdi); fsubr st(0), st(3);
    // fdivs (%rdi).
    let (r, _) = run_x87(&[
        0xd9, 0xe8, 0xd9, 0xe8, 0xde, 0xc1, 0xda, 0x47, 0x08, 0xd8, 0xeb, 0xd8, 0x37,
    ]);
    assert_eq!(
        r.env.x87,
        [
            (x87::encode(x87::FADD, x87::STI_ST0, 1, true), 0),
            (x87::encode(x87::FADD, x87::M32INT, 0, false), 0x3fff),
            (x87::encode(x87::FSUBR, x87::ST0_STI, 3, false), 0),
            (x87::encode(x87::FDIV, x87::M32FP, 0, false), 0),
        ]
    );
    // fsqrt; fldpi; fyl2x.
    let (r, _) = run_x87(&[0xd9, 0xfa, 0xd9, 0xeb, 0xd9, 0xf1]);
    let implicit = |op| (x87::encode(op, x87::IMPLICIT, 0, false), 0);
    assert_eq!(
        r.env.x87,
        [
            implicit(x87::FSQRT),
            implicit(x87::FLDPI),
            implicit(x87::FYL2X)
        ]
    );
}

#[test]
fn x87_integer_stores_store_the_helpers_bits_at_their_width() {
    // fldt (%rdi); fistps 16(%rdi).
    let (r, mut mem) = run_x87(&[0xdb, 0x2f, 0xdf, 0x5f, 0x10]);
    assert_eq!(
        r.env.x87,
        [(x87::encode(x87::FIST, x87::M16INT, 0, true), 0)]
    );
    assert_eq!(mem.load(0x9010, 8).unwrap() as u64, X87_RESULT & 0xffff);
    // fldt (%rdi); fisttpll 16(%rdi).
    let (r, mut mem) = run_x87(&[0xdb, 0x2f, 0xdd, 0x4f, 0x10]);
    assert_eq!(
        r.env.x87,
        [(x87::encode(x87::FISTTP, x87::M64INT, 0, true), 0)]
    );
    assert_eq!(mem.load(0x9010, 8).unwrap() as u64, X87_RESULT);
}

#[test]
fn fcmov_copies_under_the_condition() {
    // stc/clc; fldz; fld1; fcmovb st(0), st(1): st0 = 0 when CF is set.
    for (carry, want) in [(0xf9u8, 0u128), (0xf8, (0x3fff << 64) | 1 << 63)] {
        let (r, _) = run_x87(&[carry, 0xd9, 0xee, 0xd9, 0xe8, 0xda, 0xc1]);
        assert!(r.env.x87.is_empty());
        assert_eq!(r.reg(FPU_TOP), 6);
        assert_eq!(r.state.regs[st(6).index()], want);
    }
}

#[test]
fn lock_cmpxchg16b_swaps_or_loads_128_bits() {
    // lock cmpxchg16b (%rdi); mov (%rdi), %rbx; mov 8(%rdi), %rcx.
    let code = [
        0xf0, 0x48, 0x0f, 0xc7, 0x0f, 0x48, 0x8b, 0x1f, 0x48, 0x8b, 0x4f, 0x08,
    ];
    let rbx = gpr(3);
    for (rdx, hit) in [(2u64, true), (3, false)] {
        let r = run(&code, |s, m| {
            set(s, gpr(7), 0x9000);
            m.store(0x9000, 8, 1).unwrap();
            m.store(0x9008, 8, 2).unwrap();
            set(s, RAX, 1);
            set(s, RDX, rdx);
            set(s, rbx, 5);
            set(s, RCX, 6);
        });
        assert_eq!(r.outcome, falls_through(&code));
        assert_eq!(r.flag(ZF), hit);
        assert_eq!((r.reg(RAX), r.reg(RDX)), (1, 2), "rdx:rax = old memory");
        let want = if hit { (5, 6) } else { (1, 2) };
        assert_eq!((r.reg(rbx), r.reg(RCX)), want, "memory afterwards");
    }
}

#[test]
fn self_checking_code_runs_while_unchanged_and_flushes_once_rewritten() {
    // mov eax, 42; ret (6 bytes: one 4-byte and one 2-byte comparison).
    let code = [0xb8, 42, 0, 0, 0, 0xc3];
    let block = BlockRange {
        start: BASE,
        end: BASE + code.len() as u64,
    };
    let tables = vmtrans_translator::JumpTables::default();
    let (f, issues) = lift_function_self_checking(
        &X86_64Lifter,
        &Code(&code),
        "t",
        BASE,
        &[block],
        &tables,
        false,
    );
    assert!(issues.is_empty(), "{issues:?}");
    let mut opt = f.clone();
    optimize_function(&mut opt, &OptOptions::new(OptLevel::Full)).expect("optimize");
    for func in [&f, &opt] {
        for (patch, rewritten) in [(None, false), (Some(5), true)] {
            let mut state = GuestState::new(&func.regs);
            let mut mem = SparseMemory::new();
            state.regs[RSP.index()] = 0x7000_0000;
            mem.store(0x7000_0000, 8, 0x40_2000).unwrap();
            for (i, &b) in code.iter().enumerate() {
                mem.store(BASE + i as u64, 1, u128::from(b)).unwrap();
            }
            if let Some(at) = patch {
                mem.store(BASE + at, 1, 0x90).unwrap(); // ret -> nop
            }
            let mut env = TestEnv::default();
            let outcome = interp::run(func, &mut state, &mut mem, &mut env, 1000).unwrap();
            if rewritten {
                assert_eq!(
                    outcome,
                    Outcome::Exit(BASE),
                    "re-enters through the dispatcher"
                );
                assert_eq!(env.flushes, 1);
                assert_eq!(state.regs[RAX.index()], 0, "nothing of the old code ran");
            } else {
                assert_eq!(outcome, Outcome::Return(0x40_2000));
                assert_eq!(env.flushes, 0);
                assert_eq!(state.regs[RAX.index()], 42);
            }
        }
    }
}
