//! Per-guest-architecture parts of the Linux user ABI: system call numbers
//! and registers, structure layouts, auxv values and signal frames.
//!
//! Everything else in the runtime is architecture neutral and reaches these
//! through [`ArchOps`] (see [`ops`]). riscv64 and aarch64 are implemented
//! (both use the asm-generic numbers in [`generic`], with their own
//! layouts); x86_64 has its own numbers.

pub mod aarch64;
pub mod generic;
pub mod riscv64;
pub mod x86_64;

use crate::cpu::{required_reg, CpuState};
use crate::error::Errno;
use crate::mmu::GuestMemory;
use vmtrans_abi::Arch;

macro_rules! sysnos {
    ($($variant:ident = $name:literal $(@ $nr:literal)?,)*) => {
        /// A system call the runtime implements, independent of any guest's
        /// numbering.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Sysno {
            $(#[doc = concat!("`", $name, "`")] $variant,)*
        }

        impl Sysno {
            /// Every implemented system call.
            pub const ALL: &'static [Sysno] = &[$(Sysno::$variant,)*];

            /// The Linux name.
            pub fn name(self) -> &'static str {
                match self { $(Sysno::$variant => $name,)* }
            }

            /// The asm-generic number, if the call has one.
            pub fn generic_number(self) -> Option<u64> {
                match self { $(Sysno::$variant => sysnos!(@nr $($nr)?),)* }
            }
        }
    };
    (@nr $nr:literal) => { Some($nr) };
    (@nr) => { None };
}

sysnos! {
    Getcwd = "getcwd" @ 17,
    Eventfd2 = "eventfd2" @ 19,
    Dup = "dup" @ 23,
    Dup3 = "dup3" @ 24,
    Fcntl = "fcntl" @ 25,
    Ioctl = "ioctl" @ 29,
    Flock = "flock" @ 32,
    Mkdirat = "mkdirat" @ 34,
    Unlinkat = "unlinkat" @ 35,
    Symlinkat = "symlinkat" @ 36,
    Linkat = "linkat" @ 37,
    Renameat = "renameat" @ 38,
    Statfs = "statfs" @ 43,
    Fstatfs = "fstatfs" @ 44,
    Truncate = "truncate" @ 45,
    Ftruncate = "ftruncate" @ 46,
    Faccessat = "faccessat" @ 48,
    Chdir = "chdir" @ 49,
    Fchdir = "fchdir" @ 50,
    Fchmod = "fchmod" @ 52,
    Fchmodat = "fchmodat" @ 53,
    Fchownat = "fchownat" @ 54,
    Fchown = "fchown" @ 55,
    Openat = "openat" @ 56,
    Close = "close" @ 57,
    Pipe2 = "pipe2" @ 59,
    Getdents64 = "getdents64" @ 61,
    Lseek = "lseek" @ 62,
    Read = "read" @ 63,
    Write = "write" @ 64,
    Readv = "readv" @ 65,
    Writev = "writev" @ 66,
    Pread64 = "pread64" @ 67,
    Pwrite64 = "pwrite64" @ 68,
    Sendfile = "sendfile" @ 71,
    Ppoll = "ppoll" @ 73,
    Readlinkat = "readlinkat" @ 78,
    Newfstatat = "newfstatat" @ 79,
    Fstat = "fstat" @ 80,
    Sync = "sync" @ 81,
    Fsync = "fsync" @ 82,
    Fdatasync = "fdatasync" @ 83,
    Utimensat = "utimensat" @ 88,
    Exit = "exit" @ 93,
    ExitGroup = "exit_group" @ 94,
    SetTidAddress = "set_tid_address" @ 96,
    Futex = "futex" @ 98,
    SetRobustList = "set_robust_list" @ 99,
    GetRobustList = "get_robust_list" @ 100,
    Nanosleep = "nanosleep" @ 101,
    ClockGettime = "clock_gettime" @ 113,
    ClockGetres = "clock_getres" @ 114,
    ClockNanosleep = "clock_nanosleep" @ 115,
    SchedSetaffinity = "sched_setaffinity" @ 122,
    SchedGetaffinity = "sched_getaffinity" @ 123,
    SchedYield = "sched_yield" @ 124,
    Kill = "kill" @ 129,
    Tkill = "tkill" @ 130,
    Tgkill = "tgkill" @ 131,
    Sigaltstack = "sigaltstack" @ 132,
    RtSigsuspend = "rt_sigsuspend" @ 133,
    RtSigaction = "rt_sigaction" @ 134,
    RtSigprocmask = "rt_sigprocmask" @ 135,
    RtSigpending = "rt_sigpending" @ 136,
    RtSigreturn = "rt_sigreturn" @ 139,
    Getresuid = "getresuid" @ 148,
    Getresgid = "getresgid" @ 150,
    Times = "times" @ 153,
    Setpgid = "setpgid" @ 154,
    Getpgid = "getpgid" @ 155,
    Getsid = "getsid" @ 156,
    Setsid = "setsid" @ 157,
    Getgroups = "getgroups" @ 158,
    Uname = "uname" @ 160,
    Getrlimit = "getrlimit" @ 163,
    Setrlimit = "setrlimit" @ 164,
    Getrusage = "getrusage" @ 165,
    Umask = "umask" @ 166,
    Prctl = "prctl" @ 167,
    Getcpu = "getcpu" @ 168,
    Gettimeofday = "gettimeofday" @ 169,
    Getpid = "getpid" @ 172,
    Getppid = "getppid" @ 173,
    Getuid = "getuid" @ 174,
    Geteuid = "geteuid" @ 175,
    Getgid = "getgid" @ 176,
    Getegid = "getegid" @ 177,
    Gettid = "gettid" @ 178,
    Sysinfo = "sysinfo" @ 179,
    Brk = "brk" @ 214,
    Munmap = "munmap" @ 215,
    Mremap = "mremap" @ 216,
    Clone = "clone" @ 220,
    Execve = "execve" @ 221,
    Mmap = "mmap" @ 222,
    Fadvise64 = "fadvise64" @ 223,
    Mprotect = "mprotect" @ 226,
    Msync = "msync" @ 227,
    Mlock = "mlock" @ 228,
    Munlock = "munlock" @ 229,
    Mlockall = "mlockall" @ 230,
    Munlockall = "munlockall" @ 231,
    Madvise = "madvise" @ 233,
    Wait4 = "wait4" @ 260,
    Prlimit64 = "prlimit64" @ 261,
    Renameat2 = "renameat2" @ 276,
    Getrandom = "getrandom" @ 278,
    Membarrier = "membarrier" @ 283,
    Statx = "statx" @ 291,
    Rseq = "rseq" @ 293,
    Clone3 = "clone3" @ 435,
    CloseRange = "close_range" @ 436,
    Faccessat2 = "faccessat2" @ 439,
    RiscvHwprobe = "riscv_hwprobe",
    RiscvFlushIcache = "riscv_flush_icache",
}

/// Register indices the runtime uses, resolved once per architecture from
/// the ABI register table by name.
#[derive(Clone, Debug)]
pub struct ArchRegs {
    /// Program counter.
    pub pc: usize,
    /// Stack pointer.
    pub sp: usize,
    /// Return-address (link) register, where the architecture has one.
    pub link: Option<usize>,
    /// Thread pointer register (riscv64 `tp`), if the architecture keeps it
    /// in a general register.
    pub thread_pointer: Option<usize>,
    /// System call number.
    pub syscall_nr: usize,
    /// The six system call arguments.
    pub syscall_args: [usize; 6],
    /// System call result.
    pub syscall_ret: usize,
}

/// A guest `struct sigaction` in the runtime's neutral form.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    /// Handler address, or 0 (`SIG_DFL`) / 1 (`SIG_IGN`).
    pub handler: u64,
    /// `SA_*` flags.
    pub flags: u64,
    /// `sa_restorer`, on architectures that have one.
    pub restorer: u64,
    /// Signals blocked while the handler runs (bit `n-1` for signal `n`).
    pub mask: u64,
}

impl SigAction {
    /// Decodes a 64-bit `struct sigaction` made of the little-endian words
    /// `handler, flags, [restorer,] mask`: aarch64 and x86_64 have the
    /// `sa_restorer` word, riscv64 has not.
    pub fn from_words(b: &[u8], with_restorer: bool) -> SigAction {
        let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
        let (restorer, mask) = if with_restorer {
            (word(2), word(3))
        } else {
            (0, word(2))
        };
        SigAction {
            handler: word(0),
            flags: word(1),
            restorer,
            mask,
        }
    }

    /// Encodes the layout [`SigAction::from_words`] decodes.
    pub fn to_words(&self, with_restorer: bool) -> Vec<u8> {
        let words: &[u64] = if with_restorer {
            &[self.handler, self.flags, self.restorer, self.mask]
        } else {
            &[self.handler, self.flags, self.mask]
        };
        words.iter().flat_map(|w| w.to_le_bytes()).collect()
    }
}

/// What a signal handler receives about the signal (the fields of
/// `siginfo_t` the runtime fills in).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigInfo {
    /// Signal number.
    pub signo: i32,
    /// `si_code` (`SI_USER`, `SI_TKILL`, `SEGV_MAPERR`, ...).
    pub code: i32,
    /// Sender pid (kill) — or the fault address for SIGSEGV/SIGBUS/SIGILL/SIGFPE.
    pub pid_or_addr: u64,
    /// Sender uid (kill).
    pub uid: u32,
}

/// Where a signal frame goes and what it restores to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FrameSetup {
    /// Guest stack pointer to build the frame below.
    pub sp: u64,
    /// Signal mask to restore on return.
    pub saved_mask: u64,
    /// Address of the return trampoline.
    pub trampoline: u64,
    /// The thread's alternate signal stack (`ss_sp`, `ss_flags`, `ss_size`)
    /// to record in the ucontext.
    pub altstack: (u64, i32, u64),
}

/// The architecture-specific parts of the Linux user ABI.
pub trait ArchOps: Send + Sync {
    /// The guest architecture.
    fn arch(&self) -> Arch;
    /// ELF `e_machine` value of its executables.
    fn elf_machine(&self) -> u16;
    /// `uname -m`.
    fn uname_machine(&self) -> &'static str;
    /// Register indices the runtime uses.
    fn regs(&self) -> &ArchRegs;
    /// The runtime's system call for guest number `nr`.
    fn sysno(&self, nr: u64) -> Option<Sysno>;
    /// The Linux name of guest system call `nr`, for reports.
    fn syscall_name(&self, nr: u64) -> Option<&'static str>;
    /// `AT_HWCAP`.
    fn hwcap(&self) -> u64;
    /// `AT_PLATFORM`, if Linux gives one for this architecture.
    fn platform(&self) -> Option<&'static str>;
    /// The guest `struct stat` for a host one.
    fn stat_bytes(&self, st: &libc::stat) -> Vec<u8>;
    /// Guest `open` flags to host flags.
    fn open_flags_to_host(&self, flags: u64) -> i32;
    /// Host `open` flags (`F_GETFL`) to guest flags.
    fn open_flags_from_host(&self, flags: i32) -> u64;
    /// Size of the guest `struct sigaction`.
    fn sigaction_size(&self) -> usize;
    /// Decodes a guest `struct sigaction`.
    fn decode_sigaction(&self, bytes: &[u8]) -> SigAction;
    /// Encodes a guest `struct sigaction`.
    fn encode_sigaction(&self, act: &SigAction) -> Vec<u8>;
    /// Machine code of the signal return trampoline (`rt_sigreturn`).
    fn sigreturn_trampoline(&self) -> &'static [u8];
    /// Builds a signal frame for a handler below `setup.sp` and points the
    /// registers at the handler (`pc`, `sp`, arguments, return address).
    fn push_signal_frame(
        &self,
        mem: &GuestMemory,
        state: &CpuState,
        act: &SigAction,
        info: &SigInfo,
        setup: &FrameSetup,
    ) -> Result<(), Errno>;
    /// Restores the registers from the signal frame at the stack pointer
    /// (rt_sigreturn) and returns the signal mask to restore.
    fn pop_signal_frame(&self, mem: &GuestMemory, state: &CpuState) -> Result<u64, Errno>;
    /// Folds host x87/SSE exception flags (the MXCSR low six bits, with
    /// its flush-to-zero bit 15 when set) into the guest's accrued
    /// floating-point flags.
    fn accrue_fp_flags(&self, state: &CpuState, mxcsr_flags: u32);
    /// Sets the registers whose reset value is not zero (x86_64: MXCSR
    /// 0x1f80, the x87 control word 0x37f).
    fn init_registers(&self, _state: &CpuState) {}
    /// System calls only this architecture has (x86_64's legacy calls and
    /// `arch_prctl`), or whose arguments it orders differently: either
    /// handled here or rewritten into a runtime call. `None` for the rest.
    fn arch_syscall(
        &self,
        _mem: &GuestMemory,
        _state: &CpuState,
        _nr: u64,
        _args: [u64; 6],
    ) -> Option<ArchCall> {
        None
    }
}

/// What [`ArchOps::arch_syscall`] made of a system call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArchCall {
    /// Handled: the result.
    Done(Result<u64, Errno>),
    /// The same as this runtime call with these arguments.
    As(Sysno, [u64; 6]),
}

/// The [`ArchOps`] of `arch`, if the runtime supports it yet.
pub fn ops(arch: Arch) -> Option<&'static dyn ArchOps> {
    match arch {
        Arch::Riscv64 => Some(riscv64::ops()),
        Arch::Aarch64 => Some(aarch64::ops()),
        Arch::X86_64 => Some(x86_64::ops()),
    }
}

/// Names of the registers in [`ArchRegs`] for one architecture.
pub(crate) struct RegNames<'a> {
    pub pc: &'a str,
    pub sp: &'a str,
    pub link: Option<&'a str>,
    pub thread_pointer: Option<&'a str>,
    pub syscall_nr: &'a str,
    pub syscall_args: [&'a str; 6],
    pub syscall_ret: &'a str,
}

/// Resolves the common register indices of `arch` by name.
pub(crate) fn resolve_regs(arch: Arch, n: &RegNames<'_>) -> ArchRegs {
    ArchRegs {
        pc: required_reg(arch, n.pc),
        sp: required_reg(arch, n.sp),
        link: n.link.map(|r| required_reg(arch, r)),
        thread_pointer: n.thread_pointer.map(|r| required_reg(arch, r)),
        syscall_nr: required_reg(arch, n.syscall_nr),
        syscall_args: n.syscall_args.map(|r| required_reg(arch, r)),
        syscall_ret: required_reg(arch, n.syscall_ret),
    }
}

#[cfg(test)]
mod sigaction_tests {
    use super::SigAction;

    #[test]
    fn sigaction_words_round_trip_with_and_without_restorer() {
        let act = SigAction {
            handler: 0x1000,
            flags: 0x0400_0004,
            restorer: 0x2000,
            mask: 1 << 9,
        };
        let with = act.to_words(true);
        assert_eq!(with.len(), 32);
        assert_eq!(&with[16..24], &0x2000u64.to_le_bytes());
        assert_eq!(SigAction::from_words(&with, true), act);
        let without = act.to_words(false);
        assert_eq!(without.len(), 24);
        assert_eq!(&without[16..24], &(1u64 << 9).to_le_bytes(), "mask third");
        let back = SigAction::from_words(&without, false);
        assert_eq!(back, SigAction { restorer: 0, ..act });
    }
}
