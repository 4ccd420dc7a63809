//! aarch64 Linux user ABI: asm-generic system call numbers, `x8` number
//! with arguments in `x0..x5`, the asm-generic `struct stat`, aarch64's own
//! `O_*` values, `struct sigaction` with `sa_restorer`, HWCAP bits for
//! what the lifter translates, and the `rt_sigframe` of
//! arch/arm64/kernel/signal.c (siginfo, ucontext with sigcontext and an
//! `fpsimd_context` record).

use super::{
    generic, resolve_regs, ArchOps, ArchRegs, FrameSetup, RegNames, SigAction, SigInfo, Sysno,
};
use crate::cpu::{required_reg, CpuState};
use crate::error::Errno;
use crate::mmu::GuestMemory;
use std::sync::OnceLock;
use vmtrans_abi::Arch;

/// ELF `e_machine` of AArch64.
pub const EM_AARCH64: u16 = 183;

/// `AT_HWCAP` bits (arch/arm64/include/uapi/asm/hwcap.h).
pub mod hwcap {
    /// Scalar floating point.
    pub const FP: u64 = 1 << 0;
    /// Advanced SIMD.
    pub const ASIMD: u64 = 1 << 1;
    /// LSE atomics (CAS, SWP, LDADD...).
    pub const ATOMICS: u64 = 1 << 8;
}

/// What the lifter supports: FP, Advanced SIMD and LSE atomics. Not CPUID
/// (MIDR reads are not emulated), not PAuth, SVE, CRC32 or the crypto
/// extensions.
pub const HWCAP: u64 = hwcap::FP | hwcap::ASIMD | hwcap::ATOMICS;

/// aarch64 `O_*` values that differ from x86_64 (the host).
mod oflags {
    pub const DIRECTORY: u64 = 0x4000;
    pub const NOFOLLOW: u64 = 0x8000;
    pub const DIRECT: u64 = 0x1_0000;
    pub const LARGEFILE: u64 = 0x2_0000;
}

/// Byte offsets in the aarch64 `struct rt_sigframe`.
pub mod frame {
    /// `info` (siginfo, 128 bytes).
    pub const INFO: u64 = 0;
    /// `uc`.
    pub const UC: u64 = 128;
    /// `uc.uc_stack` (ss_sp, ss_flags, ss_size).
    pub const UC_STACK: u64 = UC + 16;
    /// `uc.uc_sigmask` (64 bits).
    pub const UC_SIGMASK: u64 = UC + 40;
    /// `uc.uc_mcontext` (struct sigcontext, 16-byte aligned).
    pub const MCONTEXT: u64 = UC + 176;
    /// `fault_address`.
    pub const FAULT_ADDRESS: u64 = MCONTEXT;
    /// `regs[31]`: x0..x30.
    pub const REGS: u64 = MCONTEXT + 8;
    /// `sp`.
    pub const SP: u64 = MCONTEXT + 256;
    /// `pc`.
    pub const PC: u64 = MCONTEXT + 264;
    /// `pstate` (NZCV in bits 31:28).
    pub const PSTATE: u64 = MCONTEXT + 272;
    /// `__reserved[4096]`: the context records.
    pub const RESERVED: u64 = MCONTEXT + 288;
    /// The `fpsimd_context` record: magic, size, fpsr, fpcr, vregs[32].
    pub const FPSIMD: u64 = RESERVED;
    /// Size of the `fpsimd_context` record.
    pub const FPSIMD_SIZE: u64 = 528;
    /// `FPSIMD_MAGIC`.
    pub const FPSIMD_MAGIC: u32 = 0x4650_8001;
    /// Size of the whole frame (siginfo + ucontext), then the frame record.
    pub const SIZE: u64 = RESERVED + 4096;
    /// The frame record (`fp`, `lr`) the kernel places after the frame.
    pub const FRAME_RECORD: u64 = SIZE;
    /// Size including the frame record, 16-byte aligned.
    pub const TOTAL: u64 = SIZE + 16;
}

/// `mov x8, #139` (rt_sigreturn); `svc #0`.
const TRAMPOLINE: [u8; 8] = [0x68, 0x11, 0x80, 0xd2, 0x01, 0x00, 0x00, 0xd4];

/// The aarch64 [`ArchOps`].
pub struct Aarch64 {
    regs: ArchRegs,
    x: [usize; 31],
    v: [usize; 32],
    nzcv: [usize; 4],
    fpcr: usize,
    fpsr: usize,
}

/// The aarch64 operations (built once).
pub fn ops() -> &'static Aarch64 {
    static OPS: OnceLock<Aarch64> = OnceLock::new();
    OPS.get_or_init(Aarch64::new)
}

impl Aarch64 {
    fn new() -> Aarch64 {
        let arch = Arch::Aarch64;
        let regs = resolve_regs(
            arch,
            &RegNames {
                pc: "pc",
                sp: "sp",
                link: Some("x30"),
                thread_pointer: Some("tpidr_el0"),
                syscall_nr: "x8",
                syscall_args: ["x0", "x1", "x2", "x3", "x4", "x5"],
                syscall_ret: "x0",
            },
        );
        Aarch64 {
            regs,
            x: std::array::from_fn(|i| required_reg(arch, &format!("x{i}"))),
            v: std::array::from_fn(|i| required_reg(arch, &format!("v{i}"))),
            nzcv: ["n", "z", "c", "v"].map(|n| required_reg(arch, n)),
            fpcr: required_reg(arch, "fpcr"),
            fpsr: required_reg(arch, "fpsr"),
        }
    }

    /// NZCV packed as in PSTATE (bits 31:28).
    fn pstate(&self, state: &CpuState) -> u64 {
        self.nzcv
            .iter()
            .enumerate()
            .fold(0, |acc, (i, &r)| acc | ((state.reg(r) & 1) << (31 - i)))
    }

    fn set_pstate(&self, state: &CpuState, pstate: u64) {
        for (i, &r) in self.nzcv.iter().enumerate() {
            state.set_reg(r, (pstate >> (31 - i)) & 1);
        }
    }
}

/// The RISC-V-numbered rounding mode of FPCR (RN 0, RP 3, RM 2, RZ 1).
pub fn fpcr_rounding(fpcr: u64) -> u32 {
    [0, 3, 2, 1][((fpcr >> 22) & 3) as usize]
}

/// The `fp_set_rounding` mode of FPCR: its rounding mode, and
/// flush-to-zero when FPCR.FZ (bit 24) is set.
pub fn fpcr_host_mode(fpcr: u64) -> u32 {
    let fz = fpcr & (1 << 24) != 0;
    fpcr_rounding(fpcr)
        | if fz {
            vmtrans_abi::helpers::FP_FLUSH_TO_ZERO
        } else {
            0
        }
}

fn put(buf: &mut [u8], at: u64, bytes: &[u8]) {
    let at = at as usize;
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn get<const N: usize>(buf: &[u8], at: u64) -> [u8; N] {
    let at = at as usize;
    buf[at..at + N].try_into().expect("in frame")
}

impl ArchOps for Aarch64 {
    fn arch(&self) -> Arch {
        Arch::Aarch64
    }

    fn elf_machine(&self) -> u16 {
        EM_AARCH64
    }

    fn uname_machine(&self) -> &'static str {
        "aarch64"
    }

    fn regs(&self) -> &ArchRegs {
        &self.regs
    }

    fn sysno(&self, nr: u64) -> Option<Sysno> {
        generic::sysno(nr)
    }

    fn syscall_name(&self, nr: u64) -> Option<&'static str> {
        generic::name(nr)
    }

    fn hwcap(&self) -> u64 {
        HWCAP
    }

    fn platform(&self) -> Option<&'static str> {
        Some("aarch64")
    }

    fn stat_bytes(&self, st: &libc::stat) -> Vec<u8> {
        // aarch64 uses the asm-generic struct stat, as riscv64 does.
        super::riscv64::ops().stat_bytes(st)
    }

    fn open_flags_to_host(&self, flags: u64) -> i32 {
        let moved = oflags::DIRECTORY | oflags::NOFOLLOW | oflags::DIRECT | oflags::LARGEFILE;
        let mut host = (flags & !moved) as i32;
        for (guest, h) in [
            (oflags::DIRECTORY, libc::O_DIRECTORY),
            (oflags::NOFOLLOW, libc::O_NOFOLLOW),
            (oflags::DIRECT, libc::O_DIRECT),
            (oflags::LARGEFILE, libc::O_LARGEFILE),
        ] {
            if flags & guest != 0 {
                host |= h;
            }
        }
        host
    }

    fn open_flags_from_host(&self, flags: i32) -> u64 {
        let moved = libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_DIRECT | libc::O_LARGEFILE;
        let mut guest = (flags & !moved) as u32 as u64;
        for (g, h) in [
            (oflags::DIRECTORY, libc::O_DIRECTORY),
            (oflags::NOFOLLOW, libc::O_NOFOLLOW),
            (oflags::DIRECT, libc::O_DIRECT),
            (oflags::LARGEFILE, libc::O_LARGEFILE),
        ] {
            if flags & h != 0 {
                guest |= g;
            }
        }
        guest
    }

    fn sigaction_size(&self) -> usize {
        // handler, flags, restorer, mask.
        32
    }

    fn decode_sigaction(&self, b: &[u8]) -> SigAction {
        SigAction::from_words(b, true)
    }

    fn encode_sigaction(&self, act: &SigAction) -> Vec<u8> {
        act.to_words(true)
    }

    fn sigreturn_trampoline(&self) -> &'static [u8] {
        &TRAMPOLINE
    }

    fn push_signal_frame(
        &self,
        mem: &GuestMemory,
        state: &CpuState,
        act: &SigAction,
        info: &SigInfo,
        setup: &FrameSetup,
    ) -> Result<(), Errno> {
        let at = (setup.sp - frame::TOTAL) & !15;
        let mut f = vec![0u8; frame::TOTAL as usize];
        let mut put64 = |off: u64, v: u64| put(&mut f, off, &v.to_le_bytes());
        put64(frame::INFO, info.signo as u32 as u64);
        put64(frame::INFO + 8, info.code as u32 as u64);
        put64(frame::INFO + 16, info.pid_or_addr);
        put64(frame::UC_STACK, setup.altstack.0);
        put64(frame::UC_STACK + 8, setup.altstack.1 as u32 as u64);
        put64(frame::UC_STACK + 16, setup.altstack.2);
        put64(frame::UC_SIGMASK, setup.saved_mask);
        if matches!(info.signo, 4 | 5 | 7 | 8 | 11) {
            put64(frame::FAULT_ADDRESS, info.pid_or_addr);
        }
        for n in 0..31 {
            put64(frame::REGS + 8 * n as u64, state.reg(self.x[n]));
        }
        put64(frame::SP, state.reg(self.regs.sp));
        put64(frame::PC, state.reg(self.regs.pc));
        put64(frame::PSTATE, self.pstate(state));
        put64(frame::FRAME_RECORD, state.reg(self.x[29]));
        put64(frame::FRAME_RECORD + 8, state.reg(self.x[30]));
        if info.uid != 0 {
            put(&mut f, frame::INFO + 20, &info.uid.to_le_bytes());
        }
        put(&mut f, frame::FPSIMD, &frame::FPSIMD_MAGIC.to_le_bytes());
        put(
            &mut f,
            frame::FPSIMD + 4,
            &(frame::FPSIMD_SIZE as u32).to_le_bytes(),
        );
        put(
            &mut f,
            frame::FPSIMD + 8,
            &(state.reg(self.fpsr) as u32).to_le_bytes(),
        );
        put(
            &mut f,
            frame::FPSIMD + 12,
            &(state.reg(self.fpcr) as u32).to_le_bytes(),
        );
        for n in 0..32 {
            put(
                &mut f,
                frame::FPSIMD + 16 + 16 * n as u64,
                &state.reg_u128(self.v[n]).to_le_bytes(),
            );
        }
        // The terminating null record follows (already zero).
        mem.write(at, &f)?;
        state.set_reg(self.regs.sp, at);
        state.set_reg(self.x[0], info.signo as u64);
        state.set_reg(self.x[1], at + frame::INFO);
        state.set_reg(self.x[2], at + frame::UC);
        state.set_reg(self.x[29], at + frame::FRAME_RECORD);
        state.set_reg(self.x[30], setup.trampoline);
        state.set_reg(self.regs.pc, act.handler);
        Ok(())
    }

    fn pop_signal_frame(&self, mem: &GuestMemory, state: &CpuState) -> Result<u64, Errno> {
        let at = state.reg(self.regs.sp);
        let mut f = vec![0u8; frame::SIZE as usize];
        mem.read(at, &mut f)?;
        let get64 = |off: u64| u64::from_le_bytes(get::<8>(&f, off));
        for n in 0..31 {
            state.set_reg(self.x[n], get64(frame::REGS + 8 * n as u64));
        }
        state.set_reg(self.regs.sp, get64(frame::SP));
        state.set_reg(self.regs.pc, get64(frame::PC));
        self.set_pstate(state, get64(frame::PSTATE));
        if u32::from_le_bytes(get::<4>(&f, frame::FPSIMD)) == frame::FPSIMD_MAGIC {
            let fpsr = u32::from_le_bytes(get::<4>(&f, frame::FPSIMD + 8));
            let fpcr = u32::from_le_bytes(get::<4>(&f, frame::FPSIMD + 12));
            state.set_reg(self.fpsr, u64::from(fpsr));
            state.set_reg(self.fpcr, u64::from(fpcr));
            crate::helpers::vmtrans_rt_fp_set_rounding(
                std::ptr::null_mut(),
                fpcr_host_mode(u64::from(fpcr)),
            );
            for n in 0..32 {
                let v = u128::from_le_bytes(get::<16>(&f, frame::FPSIMD + 16 + 16 * n as u64));
                state.set_reg_u128(self.v[n], v);
            }
        }
        Ok(get64(frame::UC_SIGMASK))
    }

    fn accrue_fp_flags(&self, state: &CpuState, mut mxcsr: u32) {
        // With FTZ (FPCR.FZ) the host raises UE and PE for a result it
        // flushes; the architecture raises UFC only. (A PE of another
        // operation since the last sync is dropped with it.)
        if mxcsr & crate::helpers::MXCSR_FTZ != 0 && mxcsr & 0x10 != 0 {
            mxcsr &= !0x20;
        }
        // MXCSR: IE(0) DE(1) ZE(2) OE(3) UE(4) PE(5) → IOC(0) DZC(1) OFC(2) UFC(3) IXC(4).
        // DE is not IDC: with FZ (DAZ) the host does not report flushed
        // inputs at all, and without FZ a subnormal input is no exception.
        let map = [(0, 1), (2, 2), (3, 4), (4, 8), (5, 16)];
        let bits = map
            .iter()
            .filter(|(host, _)| mxcsr & (1 << host) != 0)
            .fold(0, |acc, (_, g)| acc | g);
        if bits != 0 {
            state.set_reg(self.fpsr, state.reg(self.fpsr) | bits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trampoline_encodes_mov_x8_139_svc() {
        let mov = u32::from_le_bytes(TRAMPOLINE[..4].try_into().unwrap());
        assert_eq!(mov, 0xd280_1168, "movz x8, #139");
        assert_eq!(
            u32::from_le_bytes(TRAMPOLINE[4..].try_into().unwrap()),
            0xd400_0001
        );
    }

    #[test]
    fn frame_layout_matches_the_kernel() {
        assert_eq!(frame::MCONTEXT % 16, 0);
        assert_eq!(frame::RESERVED % 16, 0);
        assert_eq!(frame::SIZE, 128 + 4560);
    }

    #[test]
    fn open_flags_round_trip() {
        let ops = ops();
        let guest = oflags::DIRECTORY | oflags::NOFOLLOW | 0o2;
        let host = ops.open_flags_to_host(guest);
        assert_eq!(host, libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_RDWR);
        assert_eq!(ops.open_flags_from_host(host), guest);
    }

    #[test]
    fn rounding_modes() {
        assert_eq!(fpcr_rounding(0), 0);
        assert_eq!(fpcr_rounding(1 << 22), 3);
        assert_eq!(fpcr_rounding(2 << 22), 2);
        assert_eq!(fpcr_rounding(3 << 22), 1);
        let fz = vmtrans_abi::helpers::FP_FLUSH_TO_ZERO;
        assert_eq!(fpcr_host_mode(1 << 22), 3);
        assert_eq!(fpcr_host_mode((1 << 24) | (3 << 22)), 1 | fz);
    }

    #[test]
    fn flushed_results_raise_underflow_without_inexact() {
        let s = CpuState::new(Arch::Aarch64);
        let o = ops();
        // MXCSR UE|PE with FTZ on: a result flushed to zero (UFC only).
        o.accrue_fp_flags(&s, 0x30 | crate::helpers::MXCSR_FTZ);
        assert_eq!(s.reg(o.fpsr), 8);
        // Without FTZ, an underflow is also inexact.
        o.accrue_fp_flags(&s, 0x30);
        assert_eq!(s.reg(o.fpsr), 8 | 16);
    }
}
