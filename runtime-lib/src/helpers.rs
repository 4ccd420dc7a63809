//! Helper functions generated code calls besides system calls and
//! dispatch (`abi::helpers`): counters, CPUID, floating-point environment,
//! code flushes.

use crate::context::ThreadContext;
use crate::cpu::reg_index;
use vmtrans_abi::Arch;

/// Frequency of [`vmtrans_rt_read_time`]: nanoseconds.
pub const TIME_FREQ_HZ: u64 = 1_000_000_000;

fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

fn cycles() -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: rdtsc has no preconditions on x86_64.
        unsafe { core::arch::x86_64::_rdtsc() }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        monotonic_ns()
    }
}

/// `vmtrans_rt_read_cycle(state)`: the host cycle counter (rdtsc).
#[no_mangle]
pub extern "C" fn vmtrans_rt_read_cycle(_state: *mut u8) -> u64 {
    cycles()
}

/// `vmtrans_rt_read_time(state)`: monotonic time in ticks of
/// [`TIME_FREQ_HZ`].
#[no_mangle]
pub extern "C" fn vmtrans_rt_read_time(_state: *mut u8) -> u64 {
    monotonic_ns()
}

/// `vmtrans_rt_read_time_freq(state)`: [`TIME_FREQ_HZ`].
#[no_mangle]
pub extern "C" fn vmtrans_rt_read_time_freq(_state: *mut u8) -> u64 {
    TIME_FREQ_HZ
}

/// `vmtrans_rt_read_instret(state)`: retired instructions are not counted
/// (that would cost on the hot path); the cycle counter stands in, which
/// is monotonic as programs expect.
#[no_mangle]
pub extern "C" fn vmtrans_rt_read_instret(_state: *mut u8) -> u64 {
    cycles()
}

/// `vmtrans_rt_cpuid(state)`: x86 guests' CPUID with the leaf in `rax` and
/// subleaf in `rcx`, answered by the host's CPUID filtered to what the
/// lifter implements (see [`guest_cpuid`]).
///
/// # Safety
/// `state` must be the CPU state of a live thread context on this thread.
#[no_mangle]
pub unsafe extern "C" fn vmtrans_rt_cpuid(state: *mut u8) {
    // SAFETY: per the contract.
    let ctx = unsafe { ThreadContext::from_state(state) };
    let s = &ctx.state;
    if s.arch() != Arch::X86_64 {
        return;
    }
    let idx = |n: &str| reg_index(Arch::X86_64, n).expect("x86_64 register");
    let (leaf, sub) = (s.reg(idx("rax")) as u32, s.reg(idx("rcx")) as u32);
    #[cfg(target_arch = "x86_64")]
    let r = core::arch::x86_64::__cpuid_count(leaf, sub);
    #[cfg(not(target_arch = "x86_64"))]
    let r = {
        let _ = (leaf, sub);
        Cpuid {
            eax: 0,
            ebx: 0,
            ecx: 0,
            edx: 0,
        }
    };
    let r = guest_cpuid(leaf, r);
    for (name, v) in [
        ("rax", r.eax),
        ("rbx", r.ebx),
        ("rcx", r.ecx),
        ("rdx", r.edx),
    ] {
        s.set_reg(idx(name), v as u64);
    }
}

/// The CPUID answer a guest sees for `leaf`: the host's, with every
/// feature the lifter does not implement taken out, so that glibc's ifuncs
/// pick the baseline SSE2 paths. Leaf 1 keeps FPU, TSC, CX8, CMOV, FXSR,
/// SSE and SSE2 (no SSE3 and later, no XSAVE/OSXSAVE/AVX); leaf 7 (BMI,
/// AVX2, ERMS, FSRM, ...), the XSAVE leaf 0xd and the trace/tile leaves
/// report nothing; extended leaf 0x80000001 keeps LAHF, SYSCALL, NX and
/// LM. Vendor, cache and topology leaves (0, 2, 4, 0xb, 0x8000000x) pass
/// through so glibc sizes its cache thresholds from real values.
#[cfg(target_arch = "x86_64")]
fn guest_cpuid(leaf: u32, r: core::arch::x86_64::CpuidResult) -> core::arch::x86_64::CpuidResult {
    use core::arch::x86_64::CpuidResult;
    let zero = CpuidResult {
        eax: 0,
        ebx: 0,
        ecx: 0,
        edx: 0,
    };
    match leaf {
        1 => CpuidResult {
            ecx: 0,
            edx: r.edx & (1 | 1 << 4 | 1 << 8 | 1 << 15 | 1 << 24 | 1 << 25 | 1 << 26),
            ..r
        },
        7 | 0xd | 0x14 | 0x19 | 0x1d | 0x1e => zero,
        0x8000_0001 => CpuidResult {
            ecx: r.ecx & 1,
            edx: r.edx & (1 << 11 | 1 << 20 | 1 << 29),
            ..r
        },
        _ => r,
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn guest_cpuid(_leaf: u32, r: Cpuid) -> Cpuid {
    r
}

#[cfg(not(target_arch = "x86_64"))]
struct Cpuid {
    eax: u32,
    ebx: u32,
    ecx: u32,
    edx: u32,
}

/// Reads MXCSR. (`_mm_getcsr` is deprecated in favour of inline assembly.)
#[cfg(target_arch = "x86_64")]
pub fn read_mxcsr() -> u32 {
    let mut v: u32 = 0;
    // SAFETY: stmxcsr stores 4 bytes into `v`.
    unsafe { core::arch::asm!("stmxcsr [{}]", in(reg) &mut v, options(nostack, preserves_flags)) };
    v
}

/// Writes MXCSR. (`_mm_setcsr` is deprecated in favour of inline assembly.)
#[cfg(target_arch = "x86_64")]
pub fn write_mxcsr(v: u32) {
    // SAFETY: ldmxcsr loads 4 bytes from `v`; callers only change flag and
    // rounding bits, which cannot fault.
    unsafe {
        core::arch::asm!("ldmxcsr [{}]", in(reg) &v, options(nostack, readonly, preserves_flags))
    };
}

/// The six MXCSR exception flag bits (IE DE ZE OE UE PE).
const MXCSR_FLAGS: u32 = 0x3f;
/// MXCSR rounding control (bits 13-14).
const MXCSR_RC: u32 = 0x6000;
/// MXCSR flush-to-zero (results) and denormals-are-zero (operands).
const MXCSR_FTZ_DAZ: u32 = 0x8040;
/// MXCSR flush-to-zero (bit 15), passed on to
/// [`ArchOps::accrue_fp_flags`](crate::arch::ArchOps::accrue_fp_flags).
pub const MXCSR_FTZ: u32 = 0x8000;

/// `vmtrans_rt_fp_sync_flags(state)`: folds the host's accumulated SSE
/// exception flags into the guest's (riscv64 `fflags`: IE→NV, ZE→DZ,
/// OE→OF, UE→UF, PE→NX) and clears them on the host.
///
/// # Safety
/// `state` must be the CPU state of a live thread context on this thread.
#[no_mangle]
pub unsafe extern "C" fn vmtrans_rt_fp_sync_flags(state: *mut u8) {
    #[cfg(target_arch = "x86_64")]
    {
        let mxcsr = read_mxcsr();
        if mxcsr & MXCSR_FLAGS == 0 {
            // Nothing accrued since the last sync: the common case in code
            // that saves and restores the flags around a call.
            return;
        }
        // SAFETY: per the contract.
        let ctx = unsafe { ThreadContext::from_state(state) };
        ctx.process
            .ops
            .accrue_fp_flags(&ctx.state, mxcsr & (MXCSR_FLAGS | MXCSR_FTZ));
        write_mxcsr(mxcsr & !MXCSR_FLAGS);
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = state;
}

/// `vmtrans_rt_fp_host_flags(state)`: the host's accumulated SSE exception
/// flags (MXCSR bits 0-5), without clearing them. The guest's flags are its
/// flag register ORed with these (mapped), so reading them needs no write.
#[no_mangle]
pub extern "C" fn vmtrans_rt_fp_host_flags(_state: *mut u8) -> u32 {
    #[cfg(target_arch = "x86_64")]
    {
        read_mxcsr() & MXCSR_FLAGS
    }
    #[cfg(not(target_arch = "x86_64"))]
    0
}

/// MXCSR rounding-control value for RISC-V rounding mode `rm`: RNE→00,
/// RDN→01, RUP→10, RTZ→11. RMM (round to nearest, ties to max magnitude)
/// has no SSE equivalent and uses nearest-even; invalid modes too.
pub fn mxcsr_rounding(rm: u32) -> u32 {
    let rc = match rm {
        1 => 0b11, // RTZ
        2 => 0b01, // RDN
        3 => 0b10, // RUP
        _ => 0b00, // RNE, RMM (approximated), invalid
    };
    rc << 13
}

/// The MXCSR control bits (rounding, DAZ, FTZ) for `fp_set_rounding`'s
/// `mode`: a RISC-V `rm` in bits 2:0 (see [`mxcsr_rounding`]),
/// [`FP_FLUSH_TO_ZERO`](vmtrans_abi::helpers::FP_FLUSH_TO_ZERO) (both),
/// [`FP_FLUSH_RESULTS`](vmtrans_abi::helpers::FP_FLUSH_RESULTS) (FTZ) and
/// [`FP_DENORMALS_ARE_ZERO`](vmtrans_abi::helpers::FP_DENORMALS_ARE_ZERO)
/// (DAZ).
pub fn mxcsr_controls(mode: u32) -> u32 {
    use vmtrans_abi::helpers::{FP_DENORMALS_ARE_ZERO, FP_FLUSH_RESULTS, FP_FLUSH_TO_ZERO};
    let mut c = mxcsr_rounding(mode & 7);
    if mode & (FP_FLUSH_TO_ZERO | FP_FLUSH_RESULTS) != 0 {
        c |= MXCSR_FTZ;
    }
    if mode & (FP_FLUSH_TO_ZERO | FP_DENORMALS_ARE_ZERO) != 0 {
        c |= MXCSR_FTZ_DAZ & !MXCSR_FTZ;
    }
    c
}

/// `vmtrans_rt_fp_set_rounding(state, mode)`: sets the host rounding mode
/// and flush-to-zero from `mode` (see [`mxcsr_controls`]).
#[no_mangle]
pub extern "C" fn vmtrans_rt_fp_set_rounding(_state: *mut u8, mode: u32) {
    #[cfg(target_arch = "x86_64")]
    write_mxcsr((read_mxcsr() & !(MXCSR_RC | MXCSR_FTZ_DAZ)) | mxcsr_controls(mode));
    #[cfg(not(target_arch = "x86_64"))]
    let _ = mode;
}

/// `vmtrans_rt_flush_code(state)`: guest code changed; every thread drops
/// its translations.
///
/// # Safety
/// `state` must be the CPU state of a live thread context on this thread.
#[no_mangle]
pub unsafe extern "C" fn vmtrans_rt_flush_code(state: *mut u8) {
    // SAFETY: per the contract.
    let ctx = unsafe { ThreadContext::from_state(state) };
    ctx.process.invalidate_code();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_rounding_modes_map_to_mxcsr_controls() {
        assert_eq!(mxcsr_controls(0), 0);
        assert_eq!(mxcsr_controls(1), 0x6000, "RTZ");
        let fz = vmtrans_abi::helpers::FP_FLUSH_TO_ZERO;
        assert_eq!(mxcsr_controls(fz), MXCSR_FTZ_DAZ);
        assert_eq!(mxcsr_controls(fz | 3), MXCSR_FTZ_DAZ | 0x4000, "RUP");
        let ftz = vmtrans_abi::helpers::FP_FLUSH_RESULTS;
        let daz = vmtrans_abi::helpers::FP_DENORMALS_ARE_ZERO;
        assert_eq!(mxcsr_controls(ftz), MXCSR_FTZ, "FTZ alone");
        assert_eq!(mxcsr_controls(daz), 0x40, "DAZ alone");
        assert_eq!(mxcsr_controls(ftz | daz), MXCSR_FTZ_DAZ);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn flush_to_zero_flushes_subnormal_operands_and_results() {
        let saved = read_mxcsr();
        let fz = vmtrans_abi::helpers::FP_FLUSH_TO_ZERO;
        vmtrans_rt_fp_set_rounding(std::ptr::null_mut(), fz);
        let sub = std::hint::black_box(f64::from_bits(1 << 4));
        let product = std::hint::black_box(sub * 16.0);
        let tiny = std::hint::black_box(
            std::hint::black_box(f64::MIN_POSITIVE) * std::hint::black_box(0.5),
        );
        vmtrans_rt_fp_set_rounding(std::ptr::null_mut(), 0);
        let after = read_mxcsr();
        write_mxcsr(saved);
        assert_eq!(product.to_bits(), 0, "subnormal operand read as zero");
        assert_eq!(tiny.to_bits(), 0, "subnormal result flushed");
        assert_eq!(after & MXCSR_FTZ_DAZ, 0, "mode 0 turns flushing off");
    }
}
