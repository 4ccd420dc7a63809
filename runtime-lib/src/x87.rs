//! x87 arithmetic for x86_64 guests (`vmtrans_rt_x87`): the host is an
//! x86_64 CPU too, so each guest x87 instruction the lifter does not
//! express in IR runs here as the same instruction on the host's x87 unit.
//! That is exact by construction: 80-bit results, the guest's precision
//! control and rounding mode, NaN propagation, the transcendental
//! instructions' own algorithms, C0-C3 and the exception flags.
//!
//! One call: the guest's FCW is loaded (all exceptions masked: an unmasked
//! guest exception is not delivered as SIGFPE), the operands are pushed as
//! 80-bit values (a memory source operand is used in its own memory form),
//! the instruction runs, the status word is read, every result is popped
//! into memory, and the host's x87 state is reset. The results, C0-C3
//! (those the instruction defines) and the exception flags (sticky) go
//! back into the guest state; the guest stack moves (TOP) as the
//! instruction's own pushes and pops would move it.

use std::sync::OnceLock;

use vmtrans_abi::x87 as op;
use vmtrans_abi::Arch;

use crate::context::ThreadContext;
use crate::cpu::{required_reg, CpuState};

/// The low 80 bits of a stack slot.
const MASK80: u128 = (1 << 80) - 1;
/// FSW condition bits C0 (8), C1 (9), C2 (10), C3 (14).
const C0: u32 = 1 << 8;
const C1: u32 = 1 << 9;
const C2: u32 = 1 << 10;
const C3: u32 = 1 << 14;
/// FSW exception flags IE DE ZE OE UE PE.
const EXCEPTIONS: u32 = 0x3f;

/// Indices of the x87 registers in the x86_64 register file.
struct Regs {
    top: usize,
    fcw: usize,
    fsw: usize,
    st: [usize; 8],
}

fn regs() -> &'static Regs {
    static REGS: OnceLock<Regs> = OnceLock::new();
    REGS.get_or_init(|| {
        let r = |n: &str| required_reg(Arch::X86_64, n);
        Regs {
            top: r("fpu_top"),
            fcw: r("fcw"),
            fsw: r("fsw"),
            st: std::array::from_fn(|k| r(&format!("st{k}"))),
        }
    })
}

/// `vmtrans_rt_x87(state, desc, operand)`: see
/// [`vmtrans_abi::helpers::X87`].
///
/// # Safety
/// `state` must be the CPU state of a live thread context on this thread.
#[no_mangle]
pub unsafe extern "C" fn vmtrans_rt_x87(state: *mut u8, desc: u32, operand: u64) -> u64 {
    // SAFETY: per the contract.
    let ctx = unsafe { ThreadContext::from_state(state) };
    execute(&ctx.state, desc, operand)
}

/// What one host run produced: the status word right after the
/// instruction, the host stack from the top (up to two values), how many
/// values the stack held, and the memory operand afterwards.
#[derive(Debug)]
struct Host {
    sw: u32,
    out: [u128; 2],
    depth: usize,
    mem: u64,
}

/// Runs the x87 instruction `desc` on the guest x87 state in `s`;
/// `operand` is a memory source's bits. Returns a memory destination's
/// bits (or 0).
pub fn execute(s: &CpuState, desc: u32, operand: u64) -> u64 {
    let (code, form, i, pop) = op::decode(desc);
    let r = regs();
    let top = s.reg(r.top) as usize & 7;
    let slot = |k: usize| r.st[(top + k) & 7];
    let get = |k: usize| s.reg_u128(slot(k)) & MASK80;
    let put = |k: usize, v: u128| s.set_reg_u128(slot(k), v & MASK80);
    // Exceptions masked on the host; precision and rounding control kept.
    let cw = (s.reg(r.fcw) as u16 & 0x0f00) | 0x7f;
    let i = i as usize;
    // The x87 stack after the instruction: pushes (-1 each) and pops.
    let mut moved: isize = 0;
    let mut cc = C1;
    let mut result = 0;
    match code {
        op::FADD | op::FMUL | op::FSUB | op::FSUBR | op::FDIV | op::FDIVR => {
            let (dest, h) = match form {
                op::ST0_STI => (0, host::binary(code, cw, get(0), get(i))),
                op::STI_ST0 => (i, host::binary(code, cw, get(i), get(0))),
                _ => (0, host::binary_mem(code, form, cw, get(0), operand)),
            };
            put(dest, h.out[0]);
            cc_merge(s, r, h.sw, cc);
        }
        op::FSQRT | op::FRNDINT | op::F2XM1 | op::FSIN | op::FCOS => {
            let h = host::unary(code, cw, get(0));
            put(0, h.out[0]);
            if matches!(code, op::FSIN | op::FCOS) {
                cc |= C2;
            }
            cc_merge(s, r, h.sw, cc);
        }
        op::FPTAN | op::FSINCOS | op::FXTRACT => {
            let h = host::unary(code, cw, get(0));
            if h.depth == 2 {
                put(0, h.out[1]);
                moved = -1;
                put_rel(s, r, top, -1, h.out[0]);
            } else {
                put(0, h.out[0]);
            }
            if code != op::FXTRACT {
                cc |= C2;
            }
            cc_merge(s, r, h.sw, cc);
        }
        op::FYL2X | op::FYL2XP1 | op::FPATAN => {
            let h = host::binary_st(code, cw, get(0), get(1));
            put(1, h.out[0]);
            moved = 1;
            cc_merge(s, r, h.sw, cc);
        }
        op::FSCALE | op::FPREM | op::FPREM1 => {
            let h = host::binary_st(code, cw, get(0), get(1));
            put(0, h.out[0]);
            if code != op::FSCALE {
                cc = C0 | C1 | C2 | C3;
            }
            cc_merge(s, r, h.sw, cc);
        }
        op::FLDPI | op::FLDL2E | op::FLDLN2 | op::FLDL2T | op::FLDLG2 => {
            let h = host::constant(code, cw);
            moved = -1;
            put_rel(s, r, top, -1, h.out[0]);
            cc_merge(s, r, h.sw, cc);
        }
        op::FIST | op::FISTTP | op::FST => {
            let h = host::store(code, form, cw, get(0));
            result = h.mem;
            cc_merge(s, r, h.sw, cc);
        }
        op::FICOM => {
            let h = host::icompare(form, cw, get(0), operand);
            cc = C0 | C1 | C2 | C3;
            cc_merge(s, r, h.sw, cc);
        }
        _ => panic!("vmtrans_rt_x87: unknown x87 descriptor {desc:#x}"),
    }
    if pop {
        moved += 1;
    }
    if moved != 0 {
        s.set_reg(r.top, (top as isize + moved).rem_euclid(8) as u64);
    }
    result
}

/// Writes the slot `delta` away from `st(0)` of stack top `top` (-1: the
/// slot a push fills).
fn put_rel(s: &CpuState, r: &Regs, top: usize, delta: isize, v: u128) {
    let k = (top as isize + delta).rem_euclid(8) as usize;
    s.set_reg_u128(r.st[k], v & MASK80);
}

/// Folds the host status word into the guest FSW: the condition bits in
/// `cc` replaced, the exception flags accumulated.
fn cc_merge(s: &CpuState, r: &Regs, sw: u32, cc: u32) {
    let fsw = s.reg(r.fsw) as u32;
    let fsw = (fsw & !cc) | (sw & cc) | (sw & EXCEPTIONS);
    s.set_reg(r.fsw, u64::from(fsw));
}

/// The host side: one `asm!` block per instruction form, each starting
/// from a fresh x87 state and leaving it empty (as the Rust ABI requires).
#[cfg(target_arch = "x86_64")]
mod host {
    use super::{op, Host};

    /// Runs the instructions `$ins` between loading the guest control
    /// word (and pushing `$n` of the inputs, `inp[0]` ending on top) and
    /// popping up to two results.
    macro_rules! run {
        ($cw:expr, $inp:expr, $mem:expr; 0; $($ins:expr),+) => {
            run!(@ $cw, $inp, $mem; $($ins),+)
        };
        ($cw:expr, $inp:expr, $mem:expr; 1; $($ins:expr),+) => {
            run!(@ $cw, $inp, $mem; "fld tbyte ptr [{inp}]", $($ins),+)
        };
        ($cw:expr, $inp:expr, $mem:expr; 2; $($ins:expr),+) => {
            run!(@ $cw, $inp, $mem;
                "fld tbyte ptr [{inp} + 16]", "fld tbyte ptr [{inp}]", $($ins),+)
        };
        (@ $cw:expr, $inp:expr, $mem:expr; $($ins:expr),+) => {{
            let cw: u16 = $cw;
            let inp: [u128; 2] = $inp;
            let mut mem: u64 = $mem;
            let mut save: u16 = 0;
            let mut sw: u16 = 0;
            let mut out = [0u128; 2];
            // SAFETY: the block reads `cw`, `inp` and `mem` and writes
            // `save`, `sw`, `out` and `mem`, all live locals of the right
            // sizes; it starts from `fninit` and ends with an empty stack
            // and the host control word restored.
            unsafe {
                core::arch::asm!(
                    "fnstcw word ptr [{save}]",
                    "fninit",
                    "fldcw word ptr [{cw}]",
                    $($ins,)+
                    "fnstsw word ptr [{sw}]",
                    "fstp tbyte ptr [{out}]",
                    "fstp tbyte ptr [{out} + 16]",
                    "fninit",
                    "fldcw word ptr [{save}]",
                    "/* {inp} {mem} */",
                    save = in(reg) &mut save,
                    cw = in(reg) &cw,
                    inp = in(reg) inp.as_ptr(),
                    mem = in(reg) &mut mem,
                    sw = in(reg) &mut sw,
                    out = in(reg) out.as_mut_ptr(),
                    out("st(0)") _, out("st(1)") _, out("st(2)") _, out("st(3)") _,
                    out("st(4)") _, out("st(5)") _, out("st(6)") _, out("st(7)") _,
                    options(nostack),
                )
            };
            let sw = u32::from(sw);
            // TOP after pushing d values from 0 is 8 - d.
            let depth = (8 - ((sw >> 11) & 7) as usize) % 8;
            Host { sw, out, depth, mem }
        }};
    }

    /// `dest op src` in registers: `fop st(0), st(1)` with dest on top.
    pub(super) fn binary(code: u32, cw: u16, dest: u128, src: u128) -> Host {
        let inp = [dest, src];
        match code {
            op::FADD => run!(cw, inp, 0; 2; "fadd st(0), st(1)"),
            op::FMUL => run!(cw, inp, 0; 2; "fmul st(0), st(1)"),
            op::FSUB => run!(cw, inp, 0; 2; "fsub st(0), st(1)"),
            op::FSUBR => run!(cw, inp, 0; 2; "fsubr st(0), st(1)"),
            op::FDIV => run!(cw, inp, 0; 2; "fdiv st(0), st(1)"),
            op::FDIVR => run!(cw, inp, 0; 2; "fdivr st(0), st(1)"),
            _ => unreachable!("binary x87 op {code}"),
        }
    }

    /// `st0 op m` with the memory operand in its own form.
    pub(super) fn binary_mem(code: u32, form: u32, cw: u16, st0: u128, m: u64) -> Host {
        let inp = [st0, 0];
        macro_rules! forms {
            ($f:literal, $fi:literal) => {
                match form {
                    op::M32FP => run!(cw, inp, m; 1; concat!($f, " dword ptr [{mem}]")),
                    op::M64FP => run!(cw, inp, m; 1; concat!($f, " qword ptr [{mem}]")),
                    op::M16INT => run!(cw, inp, m; 1; concat!($fi, " word ptr [{mem}]")),
                    op::M32INT => run!(cw, inp, m; 1; concat!($fi, " dword ptr [{mem}]")),
                    _ => unreachable!("x87 memory form {form}"),
                }
            };
        }
        match code {
            op::FADD => forms!("fadd", "fiadd"),
            op::FMUL => forms!("fmul", "fimul"),
            op::FSUB => forms!("fsub", "fisub"),
            op::FSUBR => forms!("fsubr", "fisubr"),
            op::FDIV => forms!("fdiv", "fidiv"),
            op::FDIVR => forms!("fdivr", "fidivr"),
            _ => unreachable!("binary x87 op {code}"),
        }
    }

    /// An instruction on st0 alone.
    pub(super) fn unary(code: u32, cw: u16, st0: u128) -> Host {
        let inp = [st0, 0];
        match code {
            op::FSQRT => run!(cw, inp, 0; 1; "fsqrt"),
            op::FRNDINT => run!(cw, inp, 0; 1; "frndint"),
            op::F2XM1 => run!(cw, inp, 0; 1; "f2xm1"),
            op::FSIN => run!(cw, inp, 0; 1; "fsin"),
            op::FCOS => run!(cw, inp, 0; 1; "fcos"),
            op::FPTAN => run!(cw, inp, 0; 1; "fptan"),
            op::FSINCOS => run!(cw, inp, 0; 1; "fsincos"),
            op::FXTRACT => run!(cw, inp, 0; 1; "fxtract"),
            _ => unreachable!("unary x87 op {code}"),
        }
    }

    /// An instruction on st0 and st1.
    pub(super) fn binary_st(code: u32, cw: u16, st0: u128, st1: u128) -> Host {
        let inp = [st0, st1];
        match code {
            op::FYL2X => run!(cw, inp, 0; 2; "fyl2x"),
            op::FYL2XP1 => run!(cw, inp, 0; 2; "fyl2xp1"),
            op::FPATAN => run!(cw, inp, 0; 2; "fpatan"),
            op::FSCALE => run!(cw, inp, 0; 2; "fscale"),
            op::FPREM => run!(cw, inp, 0; 2; "fprem"),
            op::FPREM1 => run!(cw, inp, 0; 2; "fprem1"),
            _ => unreachable!("x87 op {code} on st0, st1"),
        }
    }

    /// A constant load.
    pub(super) fn constant(code: u32, cw: u16) -> Host {
        let inp = [0, 0];
        match code {
            op::FLDPI => run!(cw, inp, 0; 0; "fldpi"),
            op::FLDL2E => run!(cw, inp, 0; 0; "fldl2e"),
            op::FLDLN2 => run!(cw, inp, 0; 0; "fldln2"),
            op::FLDL2T => run!(cw, inp, 0; 0; "fldl2t"),
            op::FLDLG2 => run!(cw, inp, 0; 0; "fldlg2"),
            _ => unreachable!("x87 constant {code}"),
        }
    }

    /// st0 stored to memory in `form` (the popping form, so the host
    /// stack ends empty; the guest pops or not per its own instruction).
    pub(super) fn store(code: u32, form: u32, cw: u16, st0: u128) -> Host {
        let inp = [st0, 0];
        match (code, form) {
            (op::FIST, op::M16INT) => run!(cw, inp, 0; 1; "fistp word ptr [{mem}]"),
            (op::FIST, op::M32INT) => run!(cw, inp, 0; 1; "fistp dword ptr [{mem}]"),
            (op::FIST, op::M64INT) => run!(cw, inp, 0; 1; "fistp qword ptr [{mem}]"),
            (op::FISTTP, op::M16INT) => run!(cw, inp, 0; 1; "fisttp word ptr [{mem}]"),
            (op::FISTTP, op::M32INT) => run!(cw, inp, 0; 1; "fisttp dword ptr [{mem}]"),
            (op::FISTTP, op::M64INT) => run!(cw, inp, 0; 1; "fisttp qword ptr [{mem}]"),
            (op::FST, op::M32FP) => run!(cw, inp, 0; 1; "fstp dword ptr [{mem}]"),
            (op::FST, op::M64FP) => run!(cw, inp, 0; 1; "fstp qword ptr [{mem}]"),
            _ => unreachable!("x87 store {code} in form {form}"),
        }
    }

    /// `ficom m16int/m32int`.
    pub(super) fn icompare(form: u32, cw: u16, st0: u128, m: u64) -> Host {
        let inp = [st0, 0];
        match form {
            op::M16INT => run!(cw, inp, m; 1; "ficom word ptr [{mem}]"),
            op::M32INT => run!(cw, inp, m; 1; "ficom dword ptr [{mem}]"),
            _ => unreachable!("ficom form {form}"),
        }
    }
}

#[cfg(not(target_arch = "x86_64"))]
mod host {
    //! Only an x86_64 host has an x87 unit; elsewhere x86_64 guests' x87
    //! arithmetic stops the program.
    use super::Host;

    fn none() -> Host {
        panic!("x87 arithmetic needs an x86_64 host")
    }
    pub(super) fn binary(_: u32, _: u16, _: u128, _: u128) -> Host {
        none()
    }
    pub(super) fn binary_mem(_: u32, _: u32, _: u16, _: u128, _: u64) -> Host {
        none()
    }
    pub(super) fn unary(_: u32, _: u16, _: u128) -> Host {
        none()
    }
    pub(super) fn binary_st(_: u32, _: u16, _: u128, _: u128) -> Host {
        none()
    }
    pub(super) fn constant(_: u32, _: u16) -> Host {
        none()
    }
    pub(super) fn store(_: u32, _: u32, _: u16, _: u128) -> Host {
        none()
    }
    pub(super) fn icompare(_: u32, _: u16, _: u128, _: u64) -> Host {
        none()
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;

    /// An 80-bit value from an f64 (exact).
    fn ext(x: f64) -> u128 {
        let h = host::binary_mem(op::FADD, op::M64FP, 0x37f, 0, x.to_bits());
        h.out[0]
    }

    /// An 80-bit value rounded to f64 (nearest).
    fn dbl(v: u128) -> f64 {
        let h = host::store(op::FST, op::M64FP, 0x37f, v);
        f64::from_bits(h.mem)
    }

    /// A guest state with `vals` pushed (the last one is st0) and `cw`.
    fn state(vals: &[u128], cw: u64) -> CpuState {
        let s = CpuState::new(Arch::X86_64);
        let r = regs();
        s.set_reg(r.fcw, cw);
        let mut top = 0usize;
        for &v in vals {
            top = (top + 7) % 8;
            s.set_reg_u128(r.st[top], v);
        }
        s.set_reg(r.top, top as u64);
        s
    }

    fn st(s: &CpuState, k: usize) -> u128 {
        let r = regs();
        let top = s.reg(r.top) as usize;
        s.reg_u128(r.st[(top + k) % 8])
    }

    #[test]
    fn add_sub_div_in_registers() {
        // st1 = 1.5, st0 = 4.0.
        let s = state(&[ext(1.5), ext(4.0)], 0x37f);
        execute(&s, op::encode(op::FADD, op::ST0_STI, 1, false), 0);
        assert_eq!(dbl(st(&s, 0)), 5.5);
        // fsubr st(1), st(0): st1 = st0 - st1 = 5.5 - 1.5; then pop.
        execute(&s, op::encode(op::FSUBR, op::STI_ST0, 1, true), 0);
        assert_eq!(s.reg(regs().top), 7, "popped");
        assert_eq!(dbl(st(&s, 0)), 4.0);
        // fdiv m64: 4 / 8.
        execute(
            &s,
            op::encode(op::FDIV, op::M64FP, 0, false),
            8.0f64.to_bits(),
        );
        assert_eq!(dbl(st(&s, 0)), 0.5);
        // fiadd m16: 0.5 + (-3).
        execute(&s, op::encode(op::FADD, op::M16INT, 0, false), 0xfffd);
        assert_eq!(dbl(st(&s, 0)), -2.5);
    }

    #[test]
    fn division_is_80_bit_and_honours_precision_control() {
        // 1/3 in extended precision: 0x3ffd aaaa_aaaa_aaaa_aaab.
        let s = state(&[ext(3.0), ext(1.0)], 0x37f);
        execute(&s, op::encode(op::FDIV, op::ST0_STI, 1, false), 0);
        assert_eq!(st(&s, 0), 0x3ffd_aaaa_aaaa_aaaa_aaab);
        assert_ne!(s.reg(regs().fsw) & 0x20, 0, "PE set");
        // Precision control 53 bits (PC = 10): the significand is rounded
        // to 53 bits inside the 80-bit format.
        let s = state(&[ext(3.0), ext(1.0)], 0x27f);
        execute(&s, op::encode(op::FDIV, op::ST0_STI, 1, false), 0);
        assert_eq!(st(&s, 0), 0x3ffd_aaaa_aaaa_aaaa_a800);
        // Precision 24 bits, rounding up (RC = 10).
        let s = state(&[ext(3.0), ext(1.0)], 0x087f);
        execute(&s, op::encode(op::FDIV, op::ST0_STI, 1, false), 0);
        assert_eq!(st(&s, 0), 0x3ffd_aaaa_ab00_0000_0000);
    }

    #[test]
    fn sqrt_and_rounding_modes() {
        let s = state(&[ext(2.0)], 0x37f);
        execute(&s, op::encode(op::FSQRT, op::IMPLICIT, 0, false), 0);
        // sqrt(2) = 0x3fff b504f333f9de6484 (nearest, 64 bits).
        assert_eq!(st(&s, 0), 0x3fff_b504_f333_f9de_6484);
        // Toward zero gives the same (the next bit is 0); up gives +1.
        let s = state(&[ext(2.0)], 0xb7f);
        execute(&s, op::encode(op::FSQRT, op::IMPLICIT, 0, false), 0);
        assert_eq!(st(&s, 0), 0x3fff_b504_f333_f9de_6485);
        // frndint of 2.5: nearest-even 2, down 2, up 3, zero 2.
        for (rc, want) in [(0, 2.0), (0x400, 2.0), (0x800, 3.0), (0xc00, 2.0)] {
            let s = state(&[ext(2.5)], 0x37f | rc);
            execute(&s, op::encode(op::FRNDINT, op::IMPLICIT, 0, false), 0);
            assert_eq!(dbl(st(&s, 0)), want, "rc {rc:#x}");
        }
    }

    #[test]
    fn integer_stores_round_and_overflow_to_indefinite() {
        let s = state(&[ext(-2.5)], 0x37f);
        let r = execute(&s, op::encode(op::FIST, op::M32INT, 0, false), 0);
        assert_eq!(r as u32 as i32, -2);
        let r = execute(&s, op::encode(op::FISTTP, op::M16INT, 0, true), 0);
        assert_eq!(r as u16 as i16, -2);
        assert_eq!(s.reg(regs().top), 0, "fisttp pops");
        let s = state(&[ext(1e10)], 0x37f);
        let r = execute(&s, op::encode(op::FIST, op::M32INT, 0, true), 0);
        assert_eq!(r as u32, 0x8000_0000);
        assert_ne!(s.reg(regs().fsw) & 1, 0, "IE set");
    }

    #[test]
    fn pushes_and_pops_move_the_stack() {
        let s = state(&[ext(0.5)], 0x37f);
        execute(&s, op::encode(op::FSINCOS, op::IMPLICIT, 0, false), 0);
        assert_eq!(s.reg(regs().top), 6);
        assert!((dbl(st(&s, 0)) - 0.5f64.cos()).abs() < 1e-15);
        assert!((dbl(st(&s, 1)) - 0.5f64.sin()).abs() < 1e-15);
        execute(&s, op::encode(op::FLDPI, op::IMPLICIT, 0, false), 0);
        assert_eq!(st(&s, 0), 0x4000_c90f_daa2_2168_c235);
        // fyl2x: st1 * log2(st0) with st0 = pi, st1 = cos(0.5), pops.
        execute(&s, op::encode(op::FYL2X, op::IMPLICIT, 0, false), 0);
        assert_eq!(s.reg(regs().top), 6);
        let want = 0.5f64.cos() * std::f64::consts::PI.log2();
        assert!((dbl(st(&s, 0)) - want).abs() < 1e-15);
    }
}
