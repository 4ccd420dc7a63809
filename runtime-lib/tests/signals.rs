//! Guest signal system calls: what the handler's siginfo says about the
//! sender (kill, tgkill, sigqueue), sigtimedwait, sigsuspend sleeping until
//! a host signal arrives, and interval timers.
//!
//! Tests that install host handlers (a guest handler for an asynchronous
//! signal is mirrored on the host) run in a forked child.

use common::{get, in_child_capturing_stderr, process, reg, syscall, SCRATCH, SCRATCH_LEN};
use std::time::{Duration, Instant};
use vmtrans_runtime::ThreadContext;

mod common;

const RT_SIGSUSPEND: u64 = 133;
const RT_SIGACTION: u64 = 134;
const RT_SIGPROCMASK: u64 = 135;
const RT_SIGTIMEDWAIT: u64 = 137;
const RT_SIGQUEUEINFO: u64 = 138;
const KILL: u64 = 129;
const TGKILL: u64 = 131;
const SETITIMER: u64 = 103;

const SA_SIGINFO: u64 = 4;
const SI_USER: i32 = 0;
const SI_KERNEL: i32 = 0x80;
const SI_QUEUE: i32 = -1;
const SI_TKILL: i32 = -6;
const EAGAIN: i64 = -11;
const EINTR: i64 = -4;

/// Guest address of the fake handler.
const HANDLER: u64 = 0x6000;
/// Where the tests build structures in guest memory.
const ARGS: u64 = SCRATCH + 0x800;
/// Where `rt_sigtimedwait` writes its siginfo.
const INFO: u64 = SCRATCH + 0x900;

fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// A riscv64 process whose stack pointer is at the top of the scratch
/// area (signal frames go there).
fn guest() -> Box<ThreadContext> {
    let ctx = process();
    ctx.state.set_reg(reg("sp"), SCRATCH + SCRATCH_LEN);
    ctx.set_pc(0x1000);
    ctx
}

/// `sigaction(sig, {HANDLER, SA_SIGINFO})`.
fn handle_signal(ctx: &ThreadContext, sig: i32) {
    let act: Vec<u8> = [HANDLER, SA_SIGINFO, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    ctx.process.mem.write(ARGS, &act).unwrap();
    assert_eq!(syscall(ctx, RT_SIGACTION, &[sig as u64, ARGS, 0, 8]), 0);
}

/// Sets the signal mask to `mask`.
fn set_mask(ctx: &ThreadContext, mask: u64) {
    ctx.process.mem.write_u64(ARGS + 0x40, mask).unwrap();
    let args = [libc::SIG_SETMASK as u64, ARGS + 0x40, 0, 8];
    assert_eq!(syscall(ctx, RT_SIGPROCMASK, &args), 0);
}

/// The handler was entered for `sig`: returns its siginfo's `si_code` and
/// value word, and leaves the handler (PC, stack and mask as before).
fn entered_handler(ctx: &ThreadContext, sig: i32) -> (i32, u64) {
    assert_eq!(ctx.pc(), HANDLER, "in the handler");
    assert_eq!(ctx.state.reg(reg("a0")), sig as u64, "signal argument");
    let si = get(ctx, ctx.state.reg(reg("a1")), 32);
    assert_eq!(i32::from_le_bytes(si[..4].try_into().unwrap()), sig);
    let code = i32::from_le_bytes(si[8..12].try_into().unwrap());
    let value = u64::from_le_bytes(si[24..32].try_into().unwrap());
    ctx.state.set_reg(reg("sp"), SCRATCH + SCRATCH_LEN);
    ctx.set_pc(0x1000);
    set_mask(ctx, 0);
    (code, value)
}

#[test]
fn siginfo_tells_kill_tgkill_and_sigqueue_apart() {
    let _serial = common::one_test_at_a_time();
    let ctx = guest();
    handle_signal(&ctx, libc::SIGUSR1);
    let (pid, tid) = (std::process::id() as u64, ctx.tid() as u64);
    let usr1 = libc::SIGUSR1 as u64;

    syscall(&ctx, KILL, &[pid, usr1]);
    assert_eq!(entered_handler(&ctx, libc::SIGUSR1), (SI_USER, 0));

    syscall(&ctx, TGKILL, &[pid, tid, usr1]);
    assert_eq!(entered_handler(&ctx, libc::SIGUSR1), (SI_TKILL, 0));

    // sigqueue: the caller's siginfo with SI_QUEUE and a value.
    let mut si = [0u8; 128];
    si[8..12].copy_from_slice(&SI_QUEUE.to_le_bytes());
    si[24..32].copy_from_slice(&31337u64.to_le_bytes());
    ctx.process.mem.write(ARGS + 0x100, &si).unwrap();
    syscall(&ctx, RT_SIGQUEUEINFO, &[pid, usr1, ARGS + 0x100]);
    assert_eq!(entered_handler(&ctx, libc::SIGUSR1), (SI_QUEUE, 31337));
}

#[test]
fn sigtimedwait_takes_a_blocked_signal_or_times_out() {
    let _serial = common::one_test_at_a_time();
    let ctx = guest();
    handle_signal(&ctx, libc::SIGUSR2);
    set_mask(&ctx, bit(libc::SIGUSR2));
    let (pid, tid) = (std::process::id() as u64, ctx.tid() as u64);
    assert_eq!(syscall(&ctx, TGKILL, &[pid, tid, libc::SIGUSR2 as u64]), 0);
    assert_eq!(ctx.pc(), 0x1000, "blocked: no handler");
    ctx.process.mem.write_u64(ARGS, bit(libc::SIGUSR2)).unwrap();
    let timeout = ARGS + 0x10;
    ctx.process.mem.write(timeout, &[0u8; 16]).unwrap();
    ctx.process.mem.write_u64(timeout, 1).unwrap();
    let args = [ARGS, INFO, timeout, 8];
    assert_eq!(syscall(&ctx, RT_SIGTIMEDWAIT, &args), libc::SIGUSR2 as i64);
    let si = get(&ctx, INFO, 12);
    assert_eq!(i32::from_le_bytes(si[8..12].try_into().unwrap()), SI_TKILL);
    assert_eq!(ctx.pc(), 0x1000, "taken without running the handler");

    // Nothing pending: EAGAIN after the timeout (20 ms).
    ctx.process.mem.write_u64(timeout, 0).unwrap();
    ctx.process.mem.write_u64(timeout + 8, 20_000_000).unwrap();
    let start = Instant::now();
    assert_eq!(syscall(&ctx, RT_SIGTIMEDWAIT, &args), EAGAIN);
    assert!(start.elapsed() >= Duration::from_millis(20));
}

/// In a forked child: installs the guest handler for `sig`, lets `arrange`
/// make the signal arrive later, and waits in `rt_sigsuspend` with nothing
/// blocked. Exits 0 when, after at least `min_wait`, the handler was
/// entered with siginfo code `code` and with `sig` blocked, and its return
/// (`rt_sigreturn`) gives `EINTR` and the caller's mask (`sig` blocked).
fn suspend_until(sig: i32, code: i32, min_wait: Duration, arrange: fn()) {
    let (status, stderr) = in_child_capturing_stderr(|| {
        let ctx = guest();
        handle_signal(&ctx, sig);
        arrange();
        set_mask(&ctx, bit(sig));
        ctx.process.mem.write_u64(ARGS + 0x80, 0).unwrap();
        let start = Instant::now();
        syscall(&ctx, RT_SIGSUSPEND, &[ARGS + 0x80, 8]);
        let waited = start.elapsed();
        let entered = ctx.pc() == HANDLER;
        let a1 = ctx.state.reg(reg("a1"));
        let seen_code = i32::from_le_bytes(get(&ctx, a1 + 8, 4).try_into().unwrap());
        let mask_in_handler = ctx.sigmask();
        vmtrans_runtime::signals::sigreturn(&ctx);
        let result = ctx.state.reg(reg("a0")) as i64;
        let ok = entered
            && seen_code == code
            && waited >= min_wait
            && mask_in_handler == bit(sig)
            && result == EINTR
            && ctx.sigmask() == bit(sig);
        if ok {
            return 0;
        }
        let why = format!(
            "entered {entered} code {seen_code} after {waited:?} mask {mask_in_handler:#x} \
             result {result} restored mask {:#x}",
            ctx.sigmask()
        );
        // SAFETY: writes the message to fd 2 (the parent reads it).
        unsafe { libc::write(2, why.as_ptr().cast(), why.len()) };
        1
    });
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "status {status:#x}: {stderr}"
    );
}

#[test]
fn sigsuspend_sleeps_until_a_host_signal_arrives() {
    let _serial = common::one_test_at_a_time();
    suspend_until(libc::SIGUSR2, SI_USER, Duration::from_millis(40), || {
        std::thread::spawn(|| {
            std::thread::sleep(Duration::from_millis(50));
            // SAFETY: sends a signal to our own process.
            unsafe { libc::kill(libc::getpid(), libc::SIGUSR2) };
        });
    });
}

#[test]
fn an_interval_timer_signal_reaches_the_guest() {
    let _serial = common::one_test_at_a_time();
    suspend_until(libc::SIGALRM, SI_KERNEL, Duration::from_millis(15), || {
        let ctx = guest();
        // struct itimerval: interval 0, value 20 ms.
        let it: Vec<u8> = [0u64, 0, 0, 20_000]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        ctx.process.mem.write(ARGS + 0x200, &it).unwrap();
        let args = [libc::ITIMER_REAL as u64, ARGS + 0x200, 0];
        assert_eq!(syscall(&ctx, SETITIMER, &args), 0);
    });
}
