//! Shared helpers for the runtime's integration tests: a riscv64 process
//! with scratch guest memory, and a way to make system calls on it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use vmtrans_abi::Arch;
use vmtrans_runtime::arch;
use vmtrans_runtime::dispatch::{CodeProvider, GuestFn};
use vmtrans_runtime::mmu::prot;
use vmtrans_runtime::{GuestMemory, Process, RunOptions, ThreadContext};

/// Guest address of the scratch area tests use for buffers.
pub const SCRATCH: u64 = 0x10_0000;
/// Size of the scratch area.
pub const SCRATCH_LEN: u64 = 0x10_0000;

/// A provider that has no code.
pub struct NoCode;

impl CodeProvider for NoCode {
    fn lookup(&self, _pc: u64) -> Option<GuestFn> {
        None
    }
    fn translate(&self, pc: u64) -> Result<GuestFn, String> {
        Err(format!("no code at {pc:#x}"))
    }
    fn invalidate(&self) {}
}

/// A riscv64 process with `SCRATCH` mapped read-write, and its main thread.
pub fn process_with(provider: Arc<dyn CodeProvider>, options: RunOptions) -> Box<ThreadContext> {
    let ops = arch::ops(Arch::Riscv64).expect("riscv64 supported");
    let mem = GuestMemory::reserve().expect("reserve guest memory");
    mem.map_fixed(SCRATCH, SCRATCH_LEN, prot::RW, "scratch")
        .expect("map scratch");
    mem.init_brk(0x100_0000);
    mem.set_mmap_base(0x40_0000_0000);
    let process = Process::new(ops, mem, provider, options, PathBuf::from("/guest/prog"));
    ThreadContext::new(process, std::process::id() as i32)
}

/// A riscv64 process with default options and no code.
pub fn process() -> Box<ThreadContext> {
    process_with(Arc::new(NoCode), RunOptions::default())
}

/// Index of riscv64 register `name`.
pub fn reg(name: &str) -> usize {
    vmtrans_runtime::cpu::required_reg(Arch::Riscv64, name)
}

/// Makes system call `nr` with `args` through the runtime's entry point and
/// returns a0 as a signed value.
pub fn syscall(ctx: &ThreadContext, nr: u64, args: &[u64]) -> i64 {
    let names = ["a0", "a1", "a2", "a3", "a4", "a5"];
    for (i, name) in names.iter().enumerate() {
        ctx.state
            .set_reg(reg(name), args.get(i).copied().unwrap_or(0));
    }
    ctx.state.set_reg(reg("a7"), nr);
    // SAFETY: the state belongs to `ctx`, alive on this thread.
    unsafe { vmtrans_runtime::syscall::vmtrans_rt_syscall(ctx.state.as_ptr()) };
    ctx.state.reg(reg("a0")) as i64
}

/// Writes a NUL-terminated string into guest memory at `addr`.
pub fn put_str(ctx: &ThreadContext, addr: u64, s: &str) {
    let mut b = s.as_bytes().to_vec();
    b.push(0);
    ctx.process.mem.write(addr, &b).expect("write string");
}

/// Reads `len` bytes of guest memory.
pub fn get(ctx: &ThreadContext, addr: u64, len: usize) -> Vec<u8> {
    let mut b = vec![0; len];
    ctx.process
        .mem
        .read(addr, &mut b)
        .expect("read guest memory");
    b
}

/// A fresh temporary directory under the system temp dir.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("vmtrans-rt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// asm-generic system call numbers used by the tests.
pub mod nr {
    pub const GETCWD: u64 = 17;
    pub const IOCTL: u64 = 29;
    pub const OPENAT: u64 = 56;
    pub const CLOSE: u64 = 57;
    pub const PIPE2: u64 = 59;
    pub const GETDENTS64: u64 = 61;
    pub const LSEEK: u64 = 62;
    pub const READ: u64 = 63;
    pub const WRITE: u64 = 64;
    pub const WRITEV: u64 = 66;
    pub const READLINKAT: u64 = 78;
    pub const NEWFSTATAT: u64 = 79;
    pub const FSTAT: u64 = 80;
    pub const EXIT_GROUP: u64 = 94;
    pub const CLOCK_GETTIME: u64 = 113;
    pub const TGKILL: u64 = 131;
    pub const RT_SIGACTION: u64 = 134;
    pub const RT_SIGPROCMASK: u64 = 135;
    pub const UNAME: u64 = 160;
    pub const GETPID: u64 = 172;
    pub const GETTID: u64 = 178;
    pub const BRK: u64 = 214;
    pub const MUNMAP: u64 = 215;
    pub const MREMAP: u64 = 216;
    pub const MMAP: u64 = 222;
    pub const MPROTECT: u64 = 226;
    pub const MADVISE: u64 = 233;
    pub const PRLIMIT64: u64 = 261;
    pub const GETRANDOM: u64 = 278;
    pub const STATX: u64 = 291;
}
