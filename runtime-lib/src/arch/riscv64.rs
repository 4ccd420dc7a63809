//! riscv64 Linux user ABI: asm-generic system call numbers, `a7` number
//! with arguments in `a0..a5`, the asm-generic `struct stat`, IMAFDC hwcap
//! and the `rt_sigframe` of arch/riscv/kernel/signal.c.

use super::{
    generic, resolve_regs, ArchOps, ArchRegs, FrameSetup, RegNames, SigAction, SigInfo, Sysno,
};
use crate::cpu::{required_reg, CpuState};
use crate::error::Errno;
use crate::mmu::GuestMemory;
use std::sync::OnceLock;
use vmtrans_abi::Arch;

/// ELF `e_machine` of RISC-V.
pub const EM_RISCV: u16 = 243;

/// `AT_HWCAP`: one bit per single-letter extension (`1 << (letter - 'a')`),
/// I, M, A, F, D and C as Linux reports for RV64GC.
pub const HWCAP_IMAFDC: u64 =
    letter(b'i') | letter(b'm') | letter(b'a') | letter(b'f') | letter(b'd') | letter(b'c');

const fn letter(c: u8) -> u64 {
    1 << (c - b'a')
}

/// Byte offsets in the asm-generic `struct stat` (128 bytes on 64-bit).
pub mod stat {
    /// Size of the structure.
    pub const SIZE: usize = 128;
    /// `st_dev` (u64).
    pub const DEV: usize = 0;
    /// `st_ino` (u64).
    pub const INO: usize = 8;
    /// `st_mode` (u32).
    pub const MODE: usize = 16;
    /// `st_nlink` (u32).
    pub const NLINK: usize = 20;
    /// `st_uid` (u32).
    pub const UID: usize = 24;
    /// `st_gid` (u32).
    pub const GID: usize = 28;
    /// `st_rdev` (u64).
    pub const RDEV: usize = 32;
    /// `st_size` (i64).
    pub const SIZE_FIELD: usize = 48;
    /// `st_blksize` (i32).
    pub const BLKSIZE: usize = 56;
    /// `st_blocks` (i64).
    pub const BLOCKS: usize = 64;
    /// `st_atime` (i64), followed by `st_atime_nsec` (u64).
    pub const ATIME: usize = 72;
    /// `st_mtime` (i64), followed by `st_mtime_nsec` (u64).
    pub const MTIME: usize = 88;
    /// `st_ctime` (i64), followed by `st_ctime_nsec` (u64).
    pub const CTIME: usize = 104;
}

/// Byte offsets in the riscv64 `struct rt_sigframe` (siginfo, then ucontext).
pub mod frame {
    /// Size of the frame.
    pub const SIZE: u64 = 128 + UCONTEXT_SIZE;
    /// Size of `struct ucontext`.
    pub const UCONTEXT_SIZE: u64 = 960;
    /// `info` (siginfo, 128 bytes).
    pub const INFO: u64 = 0;
    /// `uc`.
    pub const UC: u64 = 128;
    /// `uc.uc_flags`.
    pub const UC_FLAGS: u64 = UC;
    /// `uc.uc_link`.
    pub const UC_LINK: u64 = UC + 8;
    /// `uc.uc_stack` (ss_sp, ss_flags, ss_size).
    pub const UC_STACK: u64 = UC + 16;
    /// `uc.uc_sigmask` (64 bits).
    pub const UC_SIGMASK: u64 = UC + 40;
    /// `uc.uc_mcontext.sc_regs`: pc, then x1..x31.
    pub const GREGS: u64 = UC + 176;
    /// `uc.uc_mcontext.sc_fpregs`: f0..f31 (64-bit each), then fcsr.
    pub const FPREGS: u64 = GREGS + 256;
    /// `fcsr` in the D-extension FP state.
    pub const FCSR: u64 = FPREGS + 256;
}

/// `li a7, 139` (rt_sigreturn); `ecall`.
const TRAMPOLINE: [u8; 8] = [0x93, 0x08, 0xb0, 0x08, 0x73, 0x00, 0x00, 0x00];

/// The riscv64 [`ArchOps`].
pub struct Riscv64 {
    regs: ArchRegs,
    x: [usize; 32],
    f: [usize; 32],
    fflags: usize,
    frm: usize,
}

/// The riscv64 operations (built once).
pub fn ops() -> &'static Riscv64 {
    static OPS: OnceLock<Riscv64> = OnceLock::new();
    OPS.get_or_init(Riscv64::new)
}

impl Riscv64 {
    fn new() -> Riscv64 {
        let arch = Arch::Riscv64;
        let regs = resolve_regs(
            arch,
            &RegNames {
                pc: "pc",
                sp: "sp",
                link: Some("ra"),
                thread_pointer: Some("tp"),
                syscall_nr: "a7",
                syscall_args: ["a0", "a1", "a2", "a3", "a4", "a5"],
                syscall_ret: "a0",
            },
        );
        let names = arch.registers();
        Riscv64 {
            regs,
            x: std::array::from_fn(|i| required_reg(arch, names[i].name)),
            f: std::array::from_fn(|i| required_reg(arch, names[32 + i].name)),
            fflags: required_reg(arch, "fflags"),
            frm: required_reg(arch, "frm"),
        }
    }

    /// Index of general register `x<n>`.
    pub fn x(&self, n: usize) -> usize {
        self.x[n]
    }
}

fn put(buf: &mut [u8], at: usize, bytes: &[u8]) {
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

impl ArchOps for Riscv64 {
    fn arch(&self) -> Arch {
        Arch::Riscv64
    }

    fn elf_machine(&self) -> u16 {
        EM_RISCV
    }

    fn uname_machine(&self) -> &'static str {
        "riscv64"
    }

    fn regs(&self) -> &ArchRegs {
        &self.regs
    }

    fn sysno(&self, nr: u64) -> Option<Sysno> {
        match nr {
            258 => Some(Sysno::RiscvHwprobe),
            259 => Some(Sysno::RiscvFlushIcache),
            _ => generic::sysno(nr),
        }
    }

    fn syscall_name(&self, nr: u64) -> Option<&'static str> {
        match nr {
            258 => Some("riscv_hwprobe"),
            259 => Some("riscv_flush_icache"),
            _ => generic::name(nr),
        }
    }

    fn hwcap(&self) -> u64 {
        HWCAP_IMAFDC
    }

    fn platform(&self) -> Option<&'static str> {
        // arch/riscv defines ELF_PLATFORM as NULL: no AT_PLATFORM.
        None
    }

    fn stat_bytes(&self, st: &libc::stat) -> Vec<u8> {
        let mut b = vec![0u8; stat::SIZE];
        put(&mut b, stat::DEV, &st.st_dev.to_le_bytes());
        put(&mut b, stat::INO, &st.st_ino.to_le_bytes());
        put(&mut b, stat::MODE, &st.st_mode.to_le_bytes());
        put(&mut b, stat::NLINK, &(st.st_nlink as u32).to_le_bytes());
        put(&mut b, stat::UID, &st.st_uid.to_le_bytes());
        put(&mut b, stat::GID, &st.st_gid.to_le_bytes());
        put(&mut b, stat::RDEV, &st.st_rdev.to_le_bytes());
        put(&mut b, stat::SIZE_FIELD, &st.st_size.to_le_bytes());
        put(&mut b, stat::BLKSIZE, &(st.st_blksize as i32).to_le_bytes());
        put(&mut b, stat::BLOCKS, &st.st_blocks.to_le_bytes());
        let times = [
            (stat::ATIME, st.st_atime, st.st_atime_nsec),
            (stat::MTIME, st.st_mtime, st.st_mtime_nsec),
            (stat::CTIME, st.st_ctime, st.st_ctime_nsec),
        ];
        for (at, sec, nsec) in times {
            put(&mut b, at, &sec.to_le_bytes());
            put(&mut b, at + 8, &nsec.to_le_bytes());
        }
        b
    }

    fn open_flags_to_host(&self, flags: u64) -> i32 {
        // asm-generic fcntl.h uses the x86_64 values for every O_* flag.
        flags as i32
    }

    fn open_flags_from_host(&self, flags: i32) -> u64 {
        flags as u32 as u64
    }

    fn sigaction_size(&self) -> usize {
        // riscv has no SA_RESTORER: handler, flags, mask.
        24
    }

    fn decode_sigaction(&self, b: &[u8]) -> SigAction {
        SigAction::from_words(b, false)
    }

    fn encode_sigaction(&self, act: &SigAction) -> Vec<u8> {
        act.to_words(false)
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
        let at = (setup.sp - frame::SIZE) & !15;
        let mut f = vec![0u8; frame::SIZE as usize];
        let mut put64 = |off: u64, v: u64| put(&mut f, off as usize, &v.to_le_bytes());
        put64(frame::INFO, info.signo as u32 as u64);
        put64(frame::INFO + 8, info.code as u32 as u64);
        put64(frame::INFO + 16, info.pid_or_addr);
        put64(frame::UC_STACK, setup.altstack.0);
        put64(frame::UC_STACK + 8, setup.altstack.1 as u32 as u64);
        put64(frame::UC_STACK + 16, setup.altstack.2);
        put64(frame::UC_SIGMASK, setup.saved_mask);
        put64(frame::GREGS, state.reg(self.regs.pc));
        for n in 1..32 {
            put64(frame::GREGS + 8 * n as u64, state.reg(self.x[n]));
        }
        for n in 0..32 {
            put64(frame::FPREGS + 8 * n as u64, state.reg(self.f[n]));
        }
        let fcsr = (state.reg(self.fflags) & 0x1f) | ((state.reg(self.frm) & 7) << 5);
        put64(frame::FCSR, fcsr);
        if info.uid != 0 {
            put(&mut f, (frame::INFO + 20) as usize, &info.uid.to_le_bytes());
        }
        mem.write(at, &f)?;
        state.set_reg(self.regs.sp, at);
        state.set_reg(self.x[10], info.signo as u64);
        state.set_reg(self.x[11], at + frame::INFO);
        state.set_reg(self.x[12], at + frame::UC);
        state.set_reg(self.x[1], setup.trampoline);
        state.set_reg(self.regs.pc, act.handler);
        Ok(())
    }

    fn pop_signal_frame(&self, mem: &GuestMemory, state: &CpuState) -> Result<u64, Errno> {
        let at = state.reg(self.regs.sp);
        let mut f = vec![0u8; frame::SIZE as usize];
        mem.read(at, &mut f)?;
        let get64 = |off: u64| {
            u64::from_le_bytes(
                f[off as usize..off as usize + 8]
                    .try_into()
                    .expect("8 bytes"),
            )
        };
        state.set_reg(self.regs.pc, get64(frame::GREGS));
        for n in 1..32 {
            state.set_reg(self.x[n], get64(frame::GREGS + 8 * n as u64));
        }
        for n in 0..32 {
            state.set_reg(self.f[n], get64(frame::FPREGS + 8 * n as u64));
        }
        let fcsr = get64(frame::FCSR);
        state.set_reg(self.fflags, fcsr & 0x1f);
        state.set_reg(self.frm, (fcsr >> 5) & 7);
        Ok(get64(frame::UC_SIGMASK))
    }

    fn accrue_fp_flags(&self, state: &CpuState, mxcsr: u32) {
        // MXCSR: IE(0) DE(1) ZE(2) OE(3) UE(4) PE(5) → NV(16) DZ(8) OF(4) UF(2) NX(1).
        let map = [(0, 16), (2, 8), (3, 4), (4, 2), (5, 1)];
        let bits = map
            .iter()
            .filter(|(host, _)| mxcsr & (1 << host) != 0)
            .fold(0, |acc, (_, g)| acc | g);
        if bits != 0 {
            state.set_reg(self.fflags, state.reg(self.fflags) | bits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hwcap_is_rv64imafdc() {
        assert_eq!(HWCAP_IMAFDC, 0x112d);
    }

    #[test]
    fn trampoline_encodes_li_a7_139_ecall() {
        let li = u32::from_le_bytes(TRAMPOLINE[..4].try_into().unwrap());
        assert_eq!(li & 0x7f, 0x13, "addi");
        assert_eq!((li >> 7) & 31, 17, "rd = a7");
        assert_eq!(li >> 20, 139);
        assert_eq!(
            u32::from_le_bytes(TRAMPOLINE[4..].try_into().unwrap()),
            0x73
        );
    }
}
