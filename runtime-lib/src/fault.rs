//! Host signal handling: guest memory faults, forwarding host signals to
//! the guest, and waking guest threads blocked in host calls.
//!
//! Generated code accesses guest memory directly, so a wild guest access
//! is a host SIGSEGV (or SIGBUS) at an address inside the guest
//! reservation. The handler (on an alternate stack) reports it as a guest
//! SIGSEGV (SIGBUS for a file page past the end of its file) and kills the
//! process by that signal ([`die_by_signal`]). Faults anywhere else are
//! runtime bugs: the previous handler is restored and the fault re-raised
//! (the instruction runs again under it).
//!
//! Precise faults: once the guest handles SIGSEGV or SIGBUS, code is
//! translated in precise-fault mode (every guest register and the PC are
//! stored in the CPU state before each guest memory access; see
//! `Process::require_precise_faults`). The dispatcher enters translated
//! code through [`call_translated`], which records the host stack pointer
//! of that call; a fault at a guest address then records the trap in the
//! state header (`EXIT_REASON` = `TRAP_SEGV` or `TRAP_BUS`, `FAULT_ADDR`,
//! `EXIT_PC`) and resumes the host thread as if the translated function had
//! returned to the dispatcher, abandoning its host frames. The dispatcher
//! delivers the guest signal on the exact state; a handler that returns
//! re-executes the faulting instruction.

use crate::context::ThreadContext;
use crate::signals::queue::SIGINFO_VALUE;
use crate::signals::{sa, FORWARDED};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use std::sync::Once;
use vmtrans_abi::header;

static GUEST_BASE: AtomicUsize = AtomicUsize::new(0);
/// The guest space with its guards: start (wrapping below 0 when the base
/// is 0) and length.
static GUEST_START: AtomicUsize = AtomicUsize::new(0);
static GUEST_LEN: AtomicUsize = AtomicUsize::new(0);
/// Offset of the PC register in the CPU state of the running guest.
static PC_OFFSET: AtomicUsize = AtomicUsize::new(0);
static OLD_SEGV: AtomicU64 = AtomicU64::new(0);
static OLD_BUS: AtomicU64 = AtomicU64::new(0);
static INSTALL: Once = Once::new();
/// Guest memory faults are delivered precisely (the guest handles them).
static PRECISE: AtomicBool = AtomicBool::new(false);
/// Host thread id of the guest thread interrupted when a forwarded signal
/// lands on a host thread that runs no guest code (0: none).
static KICK_TID: AtomicI32 = AtomicI32::new(0);

/// Size of each guest thread's alternate signal stack.
const ALT_STACK_SIZE: usize = 64 << 10;

thread_local! {
    /// Host stack pointer recorded by the innermost [`call_translated`] of
    /// this thread (0: none), where a precise fault resumes.
    static RESUME_SP: Cell<usize> = const { Cell::new(0) };
    /// The CPU state of the guest thread running on this host thread.
    static CURRENT_STATE: Cell<usize> = const { Cell::new(0) };
    /// This thread's alternate signal stack (address, size).
    static ALT_STACK: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
}

/// The host signal used to interrupt a guest thread blocked in a host
/// system call so it notices a signal sent to it.
pub fn interrupt_signal() -> i32 {
    libc::SIGRTMAX() - 1
}

/// Installs the fault and interrupt handlers and records the guest
/// reservation of `ctx`'s process as the one faults are reported for.
pub fn install(ctx: &ThreadContext) {
    let mem = &ctx.process.mem;
    GUEST_BASE.store(mem.base() as usize, Ordering::Release);
    GUEST_START.store(mem.guarded_start(), Ordering::Release);
    GUEST_LEN.store(crate::mmu::GUEST_ADDR_SPAN as usize, Ordering::Release);
    let pc = ctx.process.ops.regs().pc;
    PC_OFFSET.store(
        vmtrans_abi::reg_offset(ctx.process.arch, pc),
        Ordering::Release,
    );
    INSTALL.call_once(|| {
        let flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
        OLD_SEGV.store(
            set_handler(libc::SIGSEGV, on_fault as *const () as usize, flags),
            Ordering::Release,
        );
        OLD_BUS.store(
            set_handler(libc::SIGBUS, on_fault as *const () as usize, flags),
            Ordering::Release,
        );
        set_handler(interrupt_signal(), on_interrupt as *const () as usize, 0);
    });
}

/// Installs `handler` for `sig` and returns the old action, boxed and
/// leaked (as an address), to restore later.
fn set_handler(sig: i32, handler: usize, flags: i32) -> u64 {
    // SAFETY: sigaction is plain data; zeroed is valid (empty mask).
    let mut new: libc::sigaction = unsafe { std::mem::zeroed() };
    new.sa_sigaction = handler;
    new.sa_flags = flags;
    let old = Box::into_raw(Box::new(new));
    // SAFETY: both pointers are valid sigaction structures.
    unsafe { libc::sigaction(sig, &new, old) };
    old as u64
}

/// Marks the calling host thread as running guest thread `ctx`: the fault
/// handler reports its PC, and it gets an alternate signal stack.
pub fn enter_guest_thread(ctx: &ThreadContext) {
    CURRENT_STATE.with(|c| c.set(ctx.state.as_ptr() as usize));
    // SAFETY: gettid cannot fail.
    let tid = unsafe { libc::gettid() };
    let _ = KICK_TID.compare_exchange(0, tid, Ordering::AcqRel, Ordering::Acquire);
    // SAFETY: pthread_self cannot fail.
    ctx.shared
        .pthread
        .store(unsafe { libc::pthread_self() } as u64, Ordering::Release);
    // SAFETY: a fresh private mapping for the signal stack.
    let stack = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            ALT_STACK_SIZE,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        )
    };
    if stack == libc::MAP_FAILED {
        return;
    }
    let ss = libc::stack_t {
        ss_sp: stack,
        ss_flags: 0,
        ss_size: ALT_STACK_SIZE,
    };
    // SAFETY: `ss` describes the mapping above, owned by this thread.
    unsafe { libc::sigaltstack(&ss, std::ptr::null_mut()) };
    ALT_STACK.with(|a| a.set((stack as usize, ALT_STACK_SIZE)));
}

/// Undoes [`enter_guest_thread`].
pub fn leave_guest_thread() {
    CURRENT_STATE.with(|c| c.set(0));
    // SAFETY: gettid cannot fail.
    let tid = unsafe { libc::gettid() };
    let _ = KICK_TID.compare_exchange(tid, 0, Ordering::AcqRel, Ordering::Acquire);
    let (stack, size) = ALT_STACK.with(|a| a.replace((0, 0)));
    if stack != 0 {
        let ss = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: disables this thread's alternate stack, then frees it.
        unsafe {
            libc::sigaltstack(&ss, std::ptr::null_mut());
            libc::munmap(stack as *mut libc::c_void, size);
        }
    }
}

/// After a fork: the calling thread, the child's only guest thread, is the
/// one to interrupt for forwarded signals.
pub fn forked_child() {
    // SAFETY: gettid cannot fail.
    KICK_TID.store(unsafe { libc::gettid() }, Ordering::Release);
}

/// Wakes host thread `pthread` out of a blocking host call.
pub fn interrupt_thread(pthread: u64) {
    if pthread != 0 {
        // SAFETY: the thread is registered as live; a signal with an empty
        // handler only interrupts it.
        unsafe { libc::pthread_kill(pthread as libc::pthread_t, interrupt_signal()) };
    }
}

/// Mirrors a guest disposition of an asynchronous signal to the host so
/// signals from outside reach the guest: ignore → host ignore, default →
/// host default, handler → recorded as pending for the guest. Synchronous
/// signals and the host C library's internal ones stay the runtime's.
pub fn mirror_disposition(sig: i32, handler: u64, flags: u64) {
    let runtime_owned = [
        libc::SIGSEGV,
        libc::SIGBUS,
        libc::SIGILL,
        libc::SIGFPE,
        libc::SIGTRAP,
        libc::SIGKILL,
        libc::SIGSTOP,
    ];
    if !(1..32).contains(&sig) || runtime_owned.contains(&sig) {
        return;
    }
    let (action, host_flags) = match handler {
        0 => (libc::SIG_DFL, 0),
        1 => (libc::SIG_IGN, 0),
        _ => (
            on_forward as *const () as usize,
            libc::SA_SIGINFO
                | if flags & sa::RESTART != 0 {
                    libc::SA_RESTART
                } else {
                    0
                },
        ),
    };
    let old = set_handler(sig, action, host_flags);
    // SAFETY: `old` was leaked by `set_handler` just now and is not needed.
    drop(unsafe { Box::from_raw(old as *mut libc::sigaction) });
}

/// Host handler of the asynchronous signals the guest handles: records the
/// signal with its siginfo for the guest (delivered at the next safe point
/// of any guest thread) and, when it landed on a host thread that runs no
/// guest code, interrupts the first guest thread's blocking host call so a
/// sleeping guest notices it.
extern "C" fn on_forward(sig: i32, info: *mut libc::siginfo_t, _uc: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo (SA_SIGINFO); its layout is
    // the generic 64-bit one, read as raw words.
    let word = |at: usize| unsafe { (info as *const u8).add(at).cast::<u64>().read_unaligned() };
    // SAFETY: as above.
    let code = unsafe { (*info).si_code };
    FORWARDED.record(sig, code, word(16), word(SIGINFO_VALUE));
    request_interrupt_here();
    let on_guest_thread = CURRENT_STATE.with(|c| c.get()) != 0;
    let target = KICK_TID.load(Ordering::Acquire);
    if !on_guest_thread && target != 0 {
        // SAFETY: tgkill is async-signal-safe; the interrupt signal's
        // handler does nothing.
        unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), target, interrupt_signal()) };
    }
}

/// Host handler of the interrupt signal: it ran on a guest thread to make
/// it notice a signal, so ask its translated code to reach a safe point.
extern "C" fn on_interrupt(_sig: i32) {
    request_interrupt_here();
}

/// Sets the interrupt word of the guest thread running on this host thread,
/// if any. Async-signal-safe (one thread-local read, one atomic store).
fn request_interrupt_here() {
    let state = CURRENT_STATE.with(|c| c.get());
    if state != 0 {
        // SAFETY: CURRENT_STATE is the live CPU state of this thread's guest
        // (cleared before the state is freed); the word is aligned and only
        // accessed atomically.
        let word = unsafe { AtomicU64::from_ptr((state + header::INTERRUPT) as *mut u64) };
        word.store(1, Ordering::Release);
    }
}

/// Appends `s` to `buf` at `*len` (no allocation: used in the handler).
fn push(buf: &mut [u8], len: &mut usize, s: &[u8]) {
    let n = s.len().min(buf.len() - *len);
    buf[*len..*len + n].copy_from_slice(&s[..n]);
    *len += n;
}

fn push_hex(buf: &mut [u8], len: &mut usize, v: u64) {
    let mut digits = [0u8; 18];
    digits[..2].copy_from_slice(b"0x");
    let n = (64 - v.max(1).leading_zeros()).div_ceil(4) as usize;
    for i in 0..n {
        digits[2 + i] = b"0123456789abcdef"[((v >> (4 * (n - 1 - i))) & 15) as usize];
    }
    push(buf, len, &digits[..2 + n]);
}

// The guarded call into translated code (System V: f, state, mem, slot in
// rdi, rsi, rdx, rcx). It saves the callee-saved registers, stores its stack
// pointer in `*slot` and calls `f(state, mem)`. A precise fault resumes at
// `vmtrans_translated_resume` with that stack pointer and the guest PC in
// rax, which then returns like the call did.
#[cfg(target_arch = "x86_64")]
std::arch::global_asm!(
    ".globl vmtrans_call_guarded",
    ".type vmtrans_call_guarded,@function",
    "vmtrans_call_guarded:",
    "push rbp",
    "mov rbp, rsp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov [rcx], rsp",
    "mov rax, rdi",
    "mov rdi, rsi",
    "mov rsi, rdx",
    "call rax",
    ".globl vmtrans_translated_resume",
    "vmtrans_translated_resume:",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    ".size vmtrans_call_guarded, . - vmtrans_call_guarded",
);

extern "C" {
    fn vmtrans_call_guarded(
        f: crate::dispatch::GuestFn,
        state: *mut u8,
        mem: *mut u8,
        slot: *mut usize,
    ) -> u64;
    fn vmtrans_translated_resume();
}

/// Runs translated function `f` so that a precise guest fault inside it
/// (or inside translated code it calls) returns from here with the fault
/// recorded in the state header.
///
/// # Safety
/// `f` must be a translated function and `state`/`mem` the calling guest
/// thread's CPU state and guest memory base.
pub unsafe fn call_translated(f: crate::dispatch::GuestFn, state: *mut u8, mem: *mut u8) -> u64 {
    let outer = RESUME_SP.with(|r| r.get());
    let mut slot = 0usize;
    // The handler reads RESUME_SP; point it at this call's slot for the
    // duration (the asm fills the slot before entering `f`).
    let slot_ptr: *mut usize = &mut slot;
    RESUME_SP.with(|r| r.set(slot_ptr as usize));
    // SAFETY: per the contract; the trampoline preserves the System V
    // callee-saved registers and returns `f`'s result.
    let next = unsafe { vmtrans_call_guarded(f, state, mem, slot_ptr) };
    RESUME_SP.with(|r| r.set(outer));
    next
}

/// A fault at guest address `guest_addr` in translated code with precise
/// faults on: records the trap in the state header and points the host
/// context at the resume point of the innermost guarded call. False when
/// that is impossible (no guest thread, no guarded call, not precise).
fn resume_precisely(sig: i32, guest_addr: u64, uc: *mut libc::c_void) -> bool {
    let state = CURRENT_STATE.with(|c| c.get());
    let slot = RESUME_SP.with(|r| r.get());
    if state == 0 || slot == 0 || !PRECISE.load(Ordering::Acquire) || uc.is_null() {
        return false;
    }
    // SAFETY: `slot` points at the live slot of the innermost guarded call
    // on this thread, filled before translated code ran.
    let sp = unsafe { (slot as *const usize).read() };
    if sp == 0 {
        return false;
    }
    let header = |field: usize| (state + field) as *mut u64;
    let reason = if sig == libc::SIGBUS {
        vmtrans_abi::exit::TRAP_BUS
    } else {
        vmtrans_abi::exit::TRAP_SEGV
    };
    // SAFETY: the state is this thread's live CPU state; its PC was stored
    // before the access (precise mode).
    let pc = unsafe {
        let pc = ((state + PC_OFFSET.load(Ordering::Acquire)) as *const u64).read();
        header(header::EXIT_REASON).write(reason);
        header(header::EXIT_PC).write(pc);
        header(header::FAULT_ADDR).write(guest_addr);
        pc
    };
    // SAFETY: `uc` is the ucontext the kernel passed to this SA_SIGINFO
    // handler; returning resumes the thread with the registers set here.
    unsafe {
        let uc = &mut *(uc as *mut libc::ucontext_t);
        let gregs = &mut uc.uc_mcontext.gregs;
        gregs[libc::REG_RSP as usize] = sp as i64;
        gregs[libc::REG_RIP as usize] = vmtrans_translated_resume as *const () as usize as i64;
        gregs[libc::REG_RAX as usize] = pc as i64;
    }
    true
}

/// Turns precise-fault handling on for the process (see the module docs).
pub fn enable_precise_faults() {
    PRECISE.store(true, Ordering::Release);
}

extern "C" fn on_fault(sig: i32, info: *mut libc::siginfo_t, uc: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let base = GUEST_BASE.load(Ordering::Acquire);
    let start = GUEST_START.load(Ordering::Acquire);
    let len = GUEST_LEN.load(Ordering::Acquire);
    // The range may wrap around the top of the address space (base 0).
    if len != 0 && addr.wrapping_sub(start) < len {
        // Below the guest space (a guard), a wrapped "negative" address.
        let guest_addr = addr.wrapping_sub(base) as u64;
        if resume_precisely(sig, guest_addr, uc) {
            return;
        }
        report_guest_fault(sig, guest_addr);
    }
    let old = if sig == libc::SIGSEGV {
        &OLD_SEGV
    } else {
        &OLD_BUS
    };
    let old = old.load(Ordering::Acquire) as *const libc::sigaction;
    // SAFETY: `old` is the action saved at install time; restoring it and
    // returning re-runs the faulting instruction under it.
    unsafe { libc::sigaction(sig, old, std::ptr::null_mut()) };
}

/// Prints the guest fault and exits like a process killed by `sig`.
fn report_guest_fault(sig: i32, guest_addr: u64) -> ! {
    let state = CURRENT_STATE.with(|c| c.get());
    let pc = if state == 0 {
        0
    } else {
        // SAFETY: the state of this thread's running guest; the PC offset
        // was recorded for the same architecture.
        unsafe { ((state + PC_OFFSET.load(Ordering::Acquire)) as *const u64).read() }
    };
    let mut buf = [0u8; 192];
    let mut n = 0;
    let name: &[u8] = if sig == libc::SIGBUS {
        b"SIGBUS"
    } else {
        b"SIGSEGV"
    };
    push(&mut buf, &mut n, b"vmtrans: guest ");
    push(&mut buf, &mut n, name);
    // The PC is the last one the runtime stored (a function entry or the
    // instruction after a helper call), not the faulting instruction.
    push(&mut buf, &mut n, b" at pc ");
    push_hex(&mut buf, &mut n, pc);
    push(&mut buf, &mut n, b" (approximate) accessing ");
    push_hex(&mut buf, &mut n, guest_addr);
    push(&mut buf, &mut n, b"\n");
    // SAFETY: write is async-signal-safe; `buf[..n]` is initialized.
    unsafe { libc::write(2, buf.as_ptr().cast(), n) };
    die_by_signal(sig)
}

/// Ends the host process by signal `sig`, so its parent sees the wait
/// status of a process killed by it (`WIFSIGNALED`, `WTERMSIG == sig`),
/// like the guest on Linux or under qemu-user: the host disposition goes
/// back to `SIG_DFL`, core dumps are disabled (`RLIMIT_CORE` 0 and not
/// dumpable, so no core file or crash reporter sees the runtime), and the
/// signal is sent to the calling thread and unblocked. Signals whose
/// default action does not kill (or a failure) end with `_exit(128 + sig)`.
///
/// Async-signal-safe: the fault handler uses it.
pub fn die_by_signal(sig: i32) -> ! {
    // SAFETY: plain system calls on process-wide settings the runtime is
    // abandoning; the structures passed are valid for their duration.
    unsafe {
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        libc::signal(sig, libc::SIG_DFL);
        libc::syscall(libc::SYS_tgkill, libc::getpid(), libc::gettid(), sig);
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, sig);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
        libc::_exit(128 + sig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_formatting_without_allocation() {
        let mut buf = [0u8; 32];
        let mut n = 0;
        push_hex(&mut buf, &mut n, 0);
        push(&mut buf, &mut n, b" ");
        push_hex(&mut buf, &mut n, 0xdead_beef);
        assert_eq!(&buf[..n], b"0x0 0xdeadbeef");
    }
}
