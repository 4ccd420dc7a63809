//! Shared helpers for the runtime's integration tests: a riscv64 process
//! with scratch guest memory, and a way to make system calls on it.

#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use vmtrans_abi::Arch;
use vmtrans_runtime::arch;
use vmtrans_runtime::dispatch::{CodeProvider, CodeReader, GuestFn};
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
    fn translate(&self, pc: u64, _code: &dyn CodeReader) -> Result<GuestFn, String> {
        Err(format!("no code at {pc:#x}"))
    }
    fn invalidate(&self) {}

    /// Precise faults need nothing here: it serves no code.
    fn require_precise_faults(&self) {}
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
    pub const SENDFILE: u64 = 71;
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

/// A minimal static riscv64 executable: one read+execute segment at
/// 0x10000 (holding the headers) and the entry point [`TINY_ENTRY`]. Its
/// "code" comes from a test's code provider, never from these bytes.
pub fn tiny_exec_elf() -> Vec<u8> {
    let mut f = vec![0u8; 0x200];
    f[..4].copy_from_slice(b"\x7fELF");
    f[4] = 2; // ELFCLASS64
    f[5] = 1; // little endian
    f[6] = 1; // EV_CURRENT
    f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    f[18..20].copy_from_slice(&243u16.to_le_bytes()); // EM_RISCV
    f[20..24].copy_from_slice(&1u32.to_le_bytes());
    f[24..32].copy_from_slice(&TINY_ENTRY.to_le_bytes());
    f[32..40].copy_from_slice(&64u64.to_le_bytes()); // phoff
    f[52..54].copy_from_slice(&64u16.to_le_bytes()); // ehsize
    f[54..56].copy_from_slice(&56u16.to_le_bytes()); // phentsize
    f[56..58].copy_from_slice(&1u16.to_le_bytes()); // phnum
    let ph = 64;
    f[ph..ph + 4].copy_from_slice(&1u32.to_le_bytes()); // PT_LOAD
    f[ph + 4..ph + 8].copy_from_slice(&5u32.to_le_bytes()); // R+X
    f[ph + 16..ph + 24].copy_from_slice(&0x10000u64.to_le_bytes());
    f[ph + 24..ph + 32].copy_from_slice(&0x10000u64.to_le_bytes());
    f[ph + 32..ph + 40].copy_from_slice(&0x200u64.to_le_bytes());
    f[ph + 40..ph + 48].copy_from_slice(&0x200u64.to_le_bytes());
    f[ph + 48..ph + 56].copy_from_slice(&0x1000u64.to_le_bytes());
    f
}

/// Entry point of [`tiny_exec_elf`].
pub const TINY_ENTRY: u64 = 0x10100;

/// The tests of one binary run on parallel threads, and a fork while
/// another test's thread holds a lock (a `OnceLock` being initialized, a
/// mutex) leaves the child waiting for it forever. In a binary that forks,
/// every test holds this guard for its whole run, so no fork happens while
/// another test is running.
pub fn one_test_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `body` in a forked child that ends with `_exit(body())` and
/// returns the child's wait status, with what it wrote on stderr (fd 2 is
/// redirected to a pipe in the child).
pub fn in_child_capturing_stderr(body: impl FnOnce() -> i32) -> (i32, String) {
    let mut fds = [0; 2];
    // SAFETY: a fresh pipe; `fds` has room for both ends.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    // SAFETY: the child only runs `body` and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        // SAFETY: redirects the child's stderr into the pipe.
        unsafe {
            libc::dup2(fds[1], 2);
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        let code = body();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    // SAFETY: the parent keeps the read end only.
    unsafe { libc::close(fds[1]) };
    let mut text = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        // SAFETY: reads into `buf`.
        let n = unsafe { libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        text.extend_from_slice(&buf[..n as usize]);
    }
    let mut status = 0;
    // SAFETY: closes our end and waits for our child.
    unsafe {
        libc::close(fds[0]);
        libc::waitpid(pid, &mut status, 0);
    }
    (status, String::from_utf8_lossy(&text).into_owned())
}

/// Fake guest code: helpers for `extern "C"` functions standing in for
/// translated code on a riscv64 state.
pub mod fake {
    use super::reg;
    use vmtrans_abi::{exit, header, reg_offset, Arch};

    /// Reads register `name`.
    ///
    /// # Safety
    /// `s` must be a riscv64 CPU state.
    pub unsafe fn rd(s: *mut u8, name: &str) -> u64 {
        // SAFETY: per the contract; registers are aligned u64s.
        unsafe { (s.add(reg_offset(Arch::Riscv64, reg(name))) as *const u64).read() }
    }

    /// Writes register `name`.
    ///
    /// # Safety
    /// As [`rd`].
    pub unsafe fn wr(s: *mut u8, name: &str, v: u64) {
        // SAFETY: per the contract.
        unsafe { (s.add(reg_offset(Arch::Riscv64, reg(name))) as *mut u64).write(v) }
    }

    /// Leaves a fake translated function with exit reason `reason` at `pc`.
    ///
    /// # Safety
    /// As [`rd`].
    pub unsafe fn leave(s: *mut u8, reason: u64, pc: u64) -> u64 {
        // SAFETY: the header starts the state.
        unsafe { (s.add(header::EXIT_REASON) as *mut u64).write(reason) };
        pc
    }

    /// Leaves with `JUMP` to `pc`.
    ///
    /// # Safety
    /// As [`rd`].
    pub unsafe fn jump(s: *mut u8, pc: u64) -> u64 {
        // SAFETY: per the contract.
        unsafe { leave(s, exit::JUMP, pc) }
    }

    /// A system call as generated code makes it (PC set to `next` first);
    /// returns the PC afterwards.
    ///
    /// # Safety
    /// `s` must be the state of a live thread context on this thread.
    pub unsafe fn ecall(s: *mut u8, nr: u64, args: &[u64], next: u64) -> u64 {
        for (i, a) in args.iter().enumerate() {
            // SAFETY: per the contract.
            unsafe { wr(s, ["a0", "a1", "a2", "a3", "a4", "a5"][i], *a) };
        }
        // SAFETY: per the contract.
        unsafe {
            wr(s, "a7", nr);
            wr(s, "pc", next);
            vmtrans_runtime::syscall::vmtrans_rt_syscall(s);
            rd(s, "pc")
        }
    }
}
