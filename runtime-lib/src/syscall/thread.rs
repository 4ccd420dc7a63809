//! Threads and processes: clone (threads as host threads, fork as host
//! fork), futex on guest addresses, thread-id bookkeeping.

use super::fs::sys;
use super::{Args, SysResult};
use crate::arch::Sysno;
use crate::context::{Stop, ThreadContext};
use crate::error::Errno;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};

mod clone_flags {
    pub const VM: u64 = 0x100;
    pub const VFORK: u64 = 0x4000;
    pub const THREAD: u64 = 0x1_0000;
    pub const SETTLS: u64 = 0x8_0000;
    pub const PARENT_SETTID: u64 = 0x10_0000;
    pub const CHILD_CLEARTID: u64 = 0x20_0000;
    pub const CHILD_SETTID: u64 = 0x100_0000;
}

/// Size of `struct robust_list_head` on 64-bit guests.
const ROBUST_LIST_HEAD_SIZE: u64 = 24;

pub(super) fn call(ctx: &ThreadContext, sysno: Sysno, a: &Args) -> SysResult {
    use Sysno::*;
    match sysno {
        // riscv64/aarch64 argument order: flags, newsp, parent_tid, tls, child_tid.
        Clone => clone(ctx, a.u(0), a.u(1), a.u(2), a.u(3), a.u(4)),
        // glibc falls back to clone when clone3 returns ENOSYS.
        Clone3 => Err(Errno::ENOSYS),
        Futex => futex(ctx, a),
        SetTidAddress => {
            ctx.clear_child_tid.set(a.u(0));
            Ok(ctx.tid() as u64)
        }
        SetRobustList => {
            if a.u(1) != ROBUST_LIST_HEAD_SIZE {
                return Err(Errno::EINVAL);
            }
            ctx.robust_list.set((a.u(0), a.u(1)));
            Ok(0)
        }
        GetRobustList => {
            if a.int(0) != 0 && a.int(0) != ctx.tid() {
                return Err(Errno::ESRCH);
            }
            let (head, len) = ctx.robust_list.get();
            ctx.process.mem.write_u64(a.u(1), head)?;
            ctx.process.mem.write_u64(a.u(2), len)?;
            Ok(0)
        }
        _ => unreachable!("{sysno:?} is not a thread call"),
    }
}

fn clone(ctx: &ThreadContext, flags: u64, newsp: u64, ptid: u64, tls: u64, ctid: u64) -> SysResult {
    if flags & clone_flags::VM == 0 || flags & clone_flags::VFORK != 0 {
        return fork(ctx, flags, newsp, ctid);
    }
    if flags & clone_flags::THREAD == 0 {
        ctx.process.report_once(format!(
            "vmtrans: unsupported clone flags {flags:#x} (shared memory without CLONE_THREAD)"
        ));
        return Err(Errno::EINVAL);
    }
    spawn_thread(ctx, flags, newsp, ptid, tls, ctid)
}

/// fork and vfork (run as fork): the host process forks; the child keeps
/// only the calling thread, as in Linux.
fn fork(ctx: &ThreadContext, flags: u64, newsp: u64, ctid: u64) -> SysResult {
    // SAFETY: glibc's fork; the child only continues this thread's
    // dispatcher loop.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(Errno::last());
    }
    if pid > 0 {
        return Ok(pid as u64);
    }
    // SAFETY: gettid cannot fail.
    let tid = unsafe { libc::gettid() };
    ctx.shared.tid.store(tid as u64, Ordering::Relaxed);
    ctx.process
        .threads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    ctx.process.live_threads.store(1, Ordering::Release);
    crate::fault::forked_child();
    if newsp != 0 {
        ctx.state.set_reg(ctx.process.ops.regs().sp, newsp);
    }
    if flags & clone_flags::CHILD_SETTID != 0 {
        ctx.process.mem.write_u32(ctid, tid as u32)?;
    }
    if flags & clone_flags::CHILD_CLEARTID != 0 {
        ctx.clear_child_tid.set(ctid);
    }
    Ok(0)
}

/// A new guest thread on a new host thread, starting after the clone call
/// with the caller's registers (new stack, TLS, result 0).
fn spawn_thread(
    ctx: &ThreadContext,
    flags: u64,
    newsp: u64,
    ptid: u64,
    tls: u64,
    ctid: u64,
) -> SysResult {
    let process = Arc::clone(&ctx.process);
    let regs = process.ops.regs().clone();
    let child = ThreadContext::new(Arc::clone(&process), 0);
    // Two threads share guest memory from now on: both use host atomics.
    ctx.state.set_parallel();
    child.state.set_parallel();
    child.state.copy_registers_from(&ctx.state);
    child.state.set_reg(regs.syscall_ret, 0);
    if newsp != 0 {
        child.state.set_reg(regs.sp, newsp);
    }
    if let (true, Some(tp)) = (flags & clone_flags::SETTLS != 0, regs.thread_pointer) {
        child.state.set_reg(tp, tls);
    }
    child.set_sigmask(ctx.sigmask());
    let (tx, rx) = mpsc::channel();
    process.live_threads.fetch_add(1, Ordering::AcqRel);
    let spawned = std::thread::Builder::new()
        .name("vmtrans-guest".into())
        .stack_size(process.options.thread_host_stack_size)
        .spawn(move || thread_main(child, flags, ptid, ctid, tx));
    if let Err(e) = spawned {
        process.live_threads.fetch_sub(1, Ordering::AcqRel);
        process.report_once(format!(
            "vmtrans: cannot start a host thread for the guest: {e}"
        ));
        return Err(Errno::EAGAIN);
    }
    rx.recv().map(|tid| tid as u64).map_err(|_| Errno::EAGAIN)
}

fn thread_main(
    ctx: Box<ThreadContext>,
    flags: u64,
    ptid: u64,
    ctid: u64,
    started: mpsc::Sender<i32>,
) {
    // SAFETY: gettid and pthread_self cannot fail.
    let (tid, me) = unsafe { (libc::gettid(), libc::pthread_self()) };
    ctx.shared.tid.store(tid as u64, Ordering::Relaxed);
    ctx.shared.pthread.store(me, Ordering::Release);
    let mem = &ctx.process.mem;
    if flags & clone_flags::PARENT_SETTID != 0 {
        let _ = mem.write_u32(ptid, tid as u32);
    }
    if flags & clone_flags::CHILD_SETTID != 0 {
        let _ = mem.write_u32(ctid, tid as u32);
    }
    if flags & clone_flags::CHILD_CLEARTID != 0 {
        ctx.clear_child_tid.set(ctid);
    }
    ctx.process
        .threads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(tid, Arc::clone(&ctx.shared));
    let _ = started.send(tid);
    crate::fault::enter_guest_thread(&ctx);
    let pc = ctx.pc();
    let stop = crate::dispatch::run_thread(&ctx, pc);
    finish_thread(&ctx);
    match stop {
        Stop::ExitProcess(status) => std::process::exit(status),
        Stop::Killed(sig) => crate::fault::die_by_signal(sig),
        Stop::ExitThread(_) => {}
    }
}

/// Thread exit: forget the thread, then clear and wake `clear_child_tid`
/// (pthread_join waits on it). In that order, a joiner that wakes and
/// ends the process sees this thread gone already, as on Linux (where
/// the kernel clears the word as the thread dies).
pub fn finish_thread(ctx: &ThreadContext) {
    let process = &ctx.process;
    process
        .threads
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&ctx.tid());
    process.live_threads.fetch_sub(1, Ordering::AcqRel);
    let tid_addr = ctx.clear_child_tid.get();
    if tid_addr != 0 && process.mem.write_u32(tid_addr, 0).is_ok() {
        if let Ok(p) = process.mem.host_ptr(tid_addr, 4) {
            let _ = sys(
                libc::SYS_futex,
                &[p as u64, libc::FUTEX_WAKE as u64, i32::MAX as u64],
            );
        }
    }
    crate::fault::leave_guest_thread();
}

/// futex on guest addresses: the host futex on the host address of the
/// same word (guest threads are host threads and `struct timespec` is the
/// host's), so every operation passes through after address translation.
fn futex(ctx: &ThreadContext, a: &Args) -> SysResult {
    const WAIT: i32 = 0;
    const REQUEUE: i32 = 3;
    const CMP_REQUEUE: i32 = 4;
    const WAKE_OP: i32 = 5;
    const LOCK_PI: i32 = 6;
    const WAIT_BITSET: i32 = 9;
    const WAIT_REQUEUE_PI: i32 = 11;
    const CMP_REQUEUE_PI: i32 = 12;
    const LOCK_PI2: i32 = 13;
    let mem = &ctx.process.mem;
    let cmd = a.int(1) & libc::FUTEX_CMD_MASK;
    if !a.u(0).is_multiple_of(4) {
        return Err(Errno::EINVAL);
    }
    let uaddr = mem.host_ptr(a.u(0), 4)? as u64;
    let timeout_is_pointer = matches!(
        cmd,
        WAIT | WAIT_BITSET | LOCK_PI | LOCK_PI2 | WAIT_REQUEUE_PI
    );
    let arg3 = if timeout_is_pointer && a.u(3) != 0 {
        mem.host_ptr(a.u(3), 16)? as u64
    } else {
        a.u(3)
    };
    let has_uaddr2 = matches!(
        cmd,
        REQUEUE | CMP_REQUEUE | WAKE_OP | WAIT_REQUEUE_PI | CMP_REQUEUE_PI
    );
    let arg4 = if has_uaddr2 {
        mem.host_ptr(a.u(4), 4)? as u64
    } else {
        a.u(4)
    };
    sys(
        libc::SYS_futex,
        &[uaddr, a.u(1), a.u(2), arg3, arg4, a.u(5)],
    )
}
