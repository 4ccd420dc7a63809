//! Linux system call emulation.
//!
//! [`vmtrans_rt_syscall`] reads the number and arguments from the guest
//! registers (per the architecture's convention in [`crate::arch`]), maps
//! the number to a [`Sysno`], runs the handler of its group (`fs`, `mem`,
//! `time`, `process`, `signal`, `thread`) and writes the result (`-errno` on
//! failure). Numbers without a handler return `-ENOSYS` and are reported
//! once each on stderr; with the strict option they stop the guest.

mod exec;
mod fs;
mod mem;
mod process;
mod signal;
mod thread;
mod time;

pub use exec::{classify, elf_guest_arch, ExecKind};
pub use thread::finish_thread;

use crate::arch::{ArchCall, Sysno};
use crate::context::{Stop, ThreadContext};
use crate::error::Errno;
use crate::signals;

/// A handler's result: the return value or the guest errno.
pub type SysResult = Result<u64, Errno>;

/// Host address of an optional guest buffer of `len` bytes (0 stays NULL).
fn opt_ptr(ctx: &ThreadContext, addr: u64, len: u64) -> Result<u64, Errno> {
    if addr == 0 {
        Ok(0)
    } else {
        ctx.process.mem.host_ptr(addr, len).map(|p| p as u64)
    }
}

/// The six raw system call arguments.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Args(pub [u64; 6]);

impl Args {
    /// Argument `i` as a guest address or unsigned value.
    pub fn u(&self, i: usize) -> u64 {
        self.0[i]
    }

    /// Argument `i` as a C `int` (file descriptors, flags, pids).
    pub fn int(&self, i: usize) -> i32 {
        self.0[i] as i32
    }

    /// Argument `i` as a C `long`.
    pub fn long(&self, i: usize) -> i64 {
        self.0[i] as i64
    }
}

/// Exit status of a guest stopped by `--strict` at an unsupported system
/// call: like a process killed by SIGSYS.
pub const STRICT_EXIT_STATUS: i32 = 128 + libc::SIGSYS;

/// Helper `vmtrans_rt_syscall(state)`: performs the guest system call
/// described by the registers of `state`.
///
/// Generated code has already set the PC register to the next instruction;
/// the call may redirect it (signal delivery, `rt_sigreturn`, thread exit),
/// and it may rewrite any register, so generated code must reload guest
/// registers afterwards and leave when the PC is not the next instruction.
///
/// # Safety
/// `state` must be the CPU state of a live thread context on this thread.
#[no_mangle]
pub unsafe extern "C" fn vmtrans_rt_syscall(state: *mut u8) {
    // SAFETY: per the contract.
    let ctx = unsafe { ThreadContext::from_state(state) };
    handle(ctx);
}

/// Performs the system call in `ctx`'s registers, writes the result and
/// delivers pending signals.
pub fn handle(ctx: &ThreadContext) {
    let ops = ctx.process.ops;
    let regs = ops.regs();
    let nr = ctx.state.reg(regs.syscall_nr);
    let raw = regs.syscall_args.map(|i| ctx.state.reg(i));
    let (sysno, args, done) = match ops.arch_syscall(&ctx.process.mem, &ctx.state, nr, raw) {
        Some(ArchCall::Done(r)) => (None, Args(raw), Some(r)),
        Some(ArchCall::As(s, a)) => (Some(s), Args(a), None),
        None => (ops.sysno(nr), Args(raw), None),
    };
    if sysno == Some(Sysno::RtSigreturn) {
        signals::sigreturn(ctx);
        return;
    }
    let pc = ctx.pc();
    let by_name = || {
        ops.syscall_name(nr)
            .and_then(|name| call_by_name(ctx, name, &args))
    };
    let result = match (done, sysno) {
        (Some(r), _) => r,
        (None, Some(s)) => call(ctx, s, &args),
        (None, None) => by_name().unwrap_or_else(|| unsupported(ctx, nr)),
    };
    if ctx.process.options.trace_syscalls {
        trace(ctx, nr, &args, &result);
    }
    // A call that moved the PC (to a signal handler, or to unwind) has set
    // the registers itself.
    if ctx.stop.get().is_none() && ctx.pc() == pc {
        let value = match result {
            Ok(v) => v,
            Err(e) => e.to_return(),
        };
        ctx.state.set_reg(regs.syscall_ret, value);
        signals::deliver_pending(ctx);
    }
}

/// Runs the handler of `sysno`.
pub fn call(ctx: &ThreadContext, sysno: Sysno, a: &Args) -> SysResult {
    use Sysno::*;
    match sysno {
        Read | Write | Readv | Writev | Pread64 | Pwrite64 | Openat | Close | Lseek | Fstat
        | Newfstatat | Statx | Getdents64 | Ioctl | Fcntl | Dup | Dup3 | Pipe2 | Mkdirat
        | Unlinkat | Renameat | Renameat2 | Faccessat | Faccessat2 | Getcwd | Chdir | Fchdir
        | Readlinkat | Symlinkat | Linkat | Statfs | Fstatfs | Truncate | Ftruncate | Fchmod
        | Fchmodat | Fchownat | Fchown | Sync | Fsync | Fdatasync | Utimensat | Flock | Ppoll
        | Fadvise64 | CloseRange | Eventfd2 | Sendfile => fs::call(ctx, sysno, a),
        Brk | Mmap | Munmap | Mprotect | Mremap | Madvise | Msync | Mlock | Munlock | Mlockall
        | Munlockall | Membarrier | RiscvFlushIcache => mem::call(ctx, sysno, a),
        ClockGettime | ClockGetres | Gettimeofday | Nanosleep | ClockNanosleep | Times => {
            time::call(ctx, sysno, a)
        }
        Exit | ExitGroup | Getpid | Getppid | Gettid | Getuid | Geteuid | Getgid | Getegid
        | Uname | Prlimit64 | Getrlimit | Setrlimit | SchedGetaffinity | SchedSetaffinity
        | SchedYield | Getrandom | Sysinfo | Umask | Getrusage | Prctl | Getresuid | Getresgid
        | Getpgid | Setpgid | Getsid | Setsid | Getgroups | Getcpu | Wait4 | Rseq
        | RiscvHwprobe => process::call(ctx, sysno, a),
        RtSigaction | RtSigprocmask | RtSigreturn | Sigaltstack | Kill | Tkill | Tgkill
        | RtSigpending | RtSigsuspend => signal::call(ctx, sysno, a),
        Execve => exec::execve(ctx, a),
        Clone | Clone3 | Futex | SetTidAddress | SetRobustList | GetRobustList => {
            thread::call(ctx, sysno, a)
        }
    }
}

/// Runs the handler of a system call [`Sysno`] does not list yet, found by
/// its Linux name; `None` when the runtime has no handler for it.
///
/// These belong in the `Sysno` table of [`crate::arch`] (one line each)
/// and then in [`call`]'s match; until then they are routed here so every
/// guest architecture whose tables name them gets them.
fn call_by_name(ctx: &ThreadContext, name: &str, a: &Args) -> Option<SysResult> {
    Some(match name {
        "waitid" => process::waitid(ctx, a),
        "rt_sigtimedwait" => signal::rt_sigtimedwait(ctx, a),
        "rt_sigqueueinfo" => signal::rt_sigqueueinfo(ctx, a),
        "rt_tgsigqueueinfo" => signal::rt_tgsigqueueinfo(ctx, a),
        "setitimer" => time::setitimer(ctx, a),
        "getitimer" => time::getitimer(ctx, a),
        _ => return None,
    })
}

/// The report printed once for unsupported system call `nr`.
pub fn unsupported_message(ctx: &ThreadContext, nr: u64) -> String {
    let name = ctx.process.ops.syscall_name(nr).unwrap_or("unknown");
    format!("vmtrans: unsupported syscall {nr} ({name}) \u{2014} returning ENOSYS")
}

fn unsupported(ctx: &ThreadContext, nr: u64) -> SysResult {
    ctx.process.report_once(unsupported_message(ctx, nr));
    if ctx.process.options.strict {
        eprintln!("vmtrans: stopping at the unsupported syscall (strict mode)");
        exit_process(ctx, STRICT_EXIT_STATUS);
    }
    Err(Errno::ENOSYS)
}

/// Ends the whole guest with host exit status `status`: unwinds to the
/// dispatcher when this is the only thread, otherwise exits the host
/// process at once (other threads may be blocked in host calls).
pub fn exit_process(ctx: &ThreadContext, status: i32) {
    use std::io::Write;
    let _ = std::io::stdout().flush();
    if ctx.process.live_threads() > 1 {
        std::process::exit(status);
    }
    ctx.request_stop(Stop::ExitProcess(status));
}

fn trace(ctx: &ThreadContext, nr: u64, a: &Args, result: &SysResult) {
    let name = ctx.process.ops.syscall_name(nr).unwrap_or("unknown");
    let args: Vec<String> = a.0.iter().map(|v| format!("{v:#x}")).collect();
    let shown = match result {
        Ok(v) => format!("{v:#x}"),
        Err(e) => format!("-{} ({e})", e.0),
    };
    eprintln!("[{}] {name}({}) = {shown}", ctx.tid(), args.join(", "));
}
