//! Guest signals: dispositions, delivery to guest handlers through the
//! architecture's signal frame, default actions, and turning traps of
//! generated code into signals.
//!
//! Signals are delivered at safe points only: when a system call returns,
//! between translated functions in the dispatcher, and at loop back edges
//! (translated code polls the interrupt word of the CPU state header there
//! and leaves to the dispatcher when it is set). Delivery builds the
//! frame on the guest stack and points the PC at the handler; the handler
//! returns to the runtime's trampoline page, which the dispatcher
//! recognises (no translation needed) and answers with `rt_sigreturn`.
//! Pending signals and their siginfo live in [`queue`].
//!
//! A signal that becomes pending sets the receiving thread's interrupt
//! word: directly when posted by the thread itself, from the host handler
//! (forwarded host signals, and the interrupt signal other threads send)
//! otherwise. The dispatcher clears the word before it looks for pending
//! signals, so a signal posted after the look sets it again.

use crate::arch::{FrameSetup, SigAction, SigInfo};
use crate::context::{Stop, ThreadContext};
use crate::mmu::prot;
use std::sync::atomic::Ordering;
use vmtrans_abi::exit;

pub mod queue;

pub use queue::{Queued, FORWARDED};

/// `SIG_DFL`.
pub const SIG_DFL: u64 = 0;
/// `SIG_IGN`.
pub const SIG_IGN: u64 = 1;

/// `sa_flags` bits (asm-generic and x86_64 agree).
pub mod sa {
    /// Pass siginfo (handlers always get it here).
    pub const SIGINFO: u64 = 4;
    /// Use `sa_restorer` as the return address.
    pub const RESTORER: u64 = 0x0400_0000;
    /// Run on the alternate signal stack.
    pub const ONSTACK: u64 = 0x0800_0000;
    /// Restart interrupted system calls.
    pub const RESTART: u64 = 0x1000_0000;
    /// Do not block the signal in its own handler.
    pub const NODEFER: u64 = 0x4000_0000;
    /// Reset to `SIG_DFL` on delivery.
    pub const RESETHAND: u64 = 0x8000_0000;
}

/// `si_code` values.
pub mod si {
    /// Sent by kill.
    pub const USER: i32 = 0;
    /// Sent by tkill/tgkill.
    pub const TKILL: i32 = -6;
    /// SIGSEGV: address not mapped.
    pub const SEGV_MAPERR: i32 = 1;
    /// SIGSEGV: no permission.
    pub const SEGV_ACCERR: i32 = 2;
    /// SIGBUS: nonexistent physical address (past the end of a file).
    pub const BUS_ADRERR: i32 = 2;
    /// SIGILL: illegal opcode.
    pub const ILL_ILLOPC: i32 = 1;
    /// SIGFPE: integer divide by zero.
    pub const FPE_INTDIV: i32 = 1;
    /// SIGTRAP: breakpoint.
    pub const TRAP_BRKPT: i32 = 1;
}

/// The conventional name of signal `sig` (`SIGSEGV`), or `SIG<n>`.
pub fn signal_name(sig: i32) -> String {
    const NAMES: [&str; 31] = [
        "SIGHUP",
        "SIGINT",
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGKILL",
        "SIGUSR1",
        "SIGSEGV",
        "SIGUSR2",
        "SIGPIPE",
        "SIGALRM",
        "SIGTERM",
        "SIGSTKFLT",
        "SIGCHLD",
        "SIGCONT",
        "SIGSTOP",
        "SIGTSTP",
        "SIGTTIN",
        "SIGTTOU",
        "SIGURG",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGVTALRM",
        "SIGPROF",
        "SIGWINCH",
        "SIGIO",
        "SIGPWR",
        "SIGSYS",
    ];
    match sig {
        1..=31 => NAMES[(sig - 1) as usize].to_string(),
        32..=64 => format!("SIGRT{}", sig - 32),
        _ => format!("SIG{sig}"),
    }
}

/// Bit of signal `sig` in a mask.
pub fn bit(sig: i32) -> u64 {
    1 << (sig - 1)
}

/// Default action of a signal without a handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DefaultAction {
    /// Terminate the process.
    Terminate,
    /// Nothing happens.
    Ignore,
    /// Stop the process (the host process is stopped).
    Stop,
}

/// The default action of `sig`.
pub fn default_action(sig: i32) -> DefaultAction {
    match sig {
        libc::SIGCHLD | libc::SIGURG | libc::SIGWINCH | libc::SIGCONT => DefaultAction::Ignore,
        libc::SIGSTOP | libc::SIGTSTP | libc::SIGTTIN | libc::SIGTTOU => DefaultAction::Stop,
        _ => DefaultAction::Terminate,
    }
}

/// Makes `q` pending for the thread `ctx` (delivered at its next safe
/// point).
pub fn post(ctx: &ThreadContext, q: Queued) {
    ctx.shared.pending.post(q);
    ctx.state.request_interrupt();
}

/// Takes the lowest pending signal of the thread (or forwarded from the
/// host) among `allowed`.
pub fn take_pending(ctx: &ThreadContext, allowed: u64) -> Option<Queued> {
    ctx.shared
        .pending
        .take(allowed)
        .or_else(|| FORWARDED.take(allowed))
}

/// The signals pending for the thread `ctx` or the whole process.
pub fn pending_mask(ctx: &ThreadContext) -> u64 {
    ctx.shared.pending.bits() | FORWARDED.bits()
}

/// Delivers one pending, unblocked signal; returns whether the thread's
/// PC changed (a handler was entered or the thread is stopping).
pub fn deliver_pending(ctx: &ThreadContext) -> bool {
    match take_pending(ctx, !ctx.sigmask()) {
        Some(q) => deliver(ctx, q),
        None => false,
    }
}

/// Delivers `q` to the thread now: runs the handler, ignores, or applies
/// the default action. Returns whether the PC changed.
pub fn deliver(ctx: &ThreadContext, q: Queued) -> bool {
    deliver_restoring(ctx, q, ctx.sigmask())
}

/// [`deliver`], with `restore_mask` as the mask the handler's return
/// restores (`rt_sigsuspend` delivers under its temporary mask but
/// restores the caller's).
pub fn deliver_restoring(ctx: &ThreadContext, q: Queued, restore_mask: u64) -> bool {
    let sig = q.info.signo;
    let act = ctx.process.sigaction(sig);
    match act.handler {
        SIG_IGN => false,
        SIG_DFL => match default_action(sig) {
            DefaultAction::Ignore => false,
            DefaultAction::Stop => {
                // SAFETY: stopping ourselves like the kernel would.
                unsafe { libc::raise(libc::SIGSTOP) };
                false
            }
            DefaultAction::Terminate => {
                // As on Linux (and qemu-user, whose own report the test
                // references strip): the parent sees the signal, nothing
                // is printed.
                terminate(ctx, sig, "");
                true
            }
        },
        _ => {
            if enter_handler(ctx, &act, &q, restore_mask).is_err() {
                let msg = format!(
                    "vmtrans: cannot build the {} frame on the guest stack",
                    signal_name(sig)
                );
                terminate(ctx, libc::SIGSEGV, &msg);
            }
            true
        }
    }
}

/// Builds the frame for handler `act` of signal `q` on the guest stack (or
/// the alternate stack) and points the registers at the handler.
fn enter_handler(
    ctx: &ThreadContext,
    act: &SigAction,
    q: &Queued,
    restore_mask: u64,
) -> Result<(), crate::error::Errno> {
    let info = &q.info;
    let process = &ctx.process;
    let regs = process.ops.regs();
    let sp = ctx.state.reg(regs.sp);
    let (ss_sp, ss_flags, ss_size) = ctx.altstack.get();
    let alt_enabled = ss_flags != libc::SS_DISABLE;
    let on_alt = alt_enabled && sp > ss_sp && sp <= ss_sp + ss_size;
    let frame_sp = if act.flags & sa::ONSTACK != 0 && alt_enabled && !on_alt {
        ss_sp + ss_size
    } else {
        sp
    };
    let trampoline = if act.flags & sa::RESTORER != 0 && act.restorer != 0 {
        act.restorer
    } else {
        process.sigtramp.load(Ordering::Relaxed)
    };
    let setup = FrameSetup {
        sp: frame_sp,
        saved_mask: restore_mask,
        trampoline,
        altstack: (
            ss_sp,
            if on_alt { libc::SS_ONSTACK } else { ss_flags },
            ss_size,
        ),
    };
    process
        .ops
        .push_signal_frame(&process.mem, &ctx.state, act, info, &setup)?;
    write_siginfo_value(ctx, q.value)?;
    let mut mask = ctx.sigmask() | act.mask;
    if act.flags & sa::NODEFER == 0 {
        mask |= bit(info.signo);
    }
    ctx.set_sigmask(mask);
    if act.flags & sa::RESETHAND != 0 {
        process.sigactions.lock().unwrap_or_else(|e| e.into_inner())[(info.signo - 1) as usize] =
            SigAction::default();
    }
    Ok(())
}

/// Completes the `siginfo_t` of the frame just pushed with the value word
/// ([`queue::SIGINFO_VALUE`]), which the architecture's frame writer does
/// not know. The frame's siginfo is the handler's second argument, and the
/// second C argument register is the second system call argument register
/// on every supported guest (riscv64 `a1`, aarch64 `x1`, x86_64 `rsi`).
fn write_siginfo_value(ctx: &ThreadContext, value: u64) -> Result<(), crate::error::Errno> {
    let regs = ctx.process.ops.regs();
    let siginfo = ctx.state.reg(regs.syscall_args[1]);
    let at = siginfo + queue::SIGINFO_VALUE as u64;
    ctx.process.mem.write_u64(at, value)
}

/// `rt_sigreturn`: restores the registers and mask from the frame at the
/// stack pointer.
pub fn sigreturn(ctx: &ThreadContext) {
    let process = &ctx.process;
    match process.ops.pop_signal_frame(&process.mem, &ctx.state) {
        Ok(mask) => ctx.set_sigmask(mask),
        Err(_) => terminate(
            ctx,
            libc::SIGSEGV,
            "vmtrans: guest rt_sigreturn with a bad signal frame",
        ),
    }
}

/// Ends the guest as if killed by `sig`, after printing `message` (if not
/// empty). The only thread unwinds to the dispatcher with
/// [`Stop::Killed`], and the entry point kills the host process by `sig`;
/// with other threads running (they may be blocked in host calls), the
/// process is killed at once ([`crate::fault::die_by_signal`]).
pub fn terminate(ctx: &ThreadContext, sig: i32, message: &str) {
    use std::io::Write;
    if !message.is_empty() {
        report(message);
    }
    let _ = std::io::stdout().flush();
    if ctx.process.live_threads() > 1 {
        crate::fault::die_by_signal(sig);
    }
    ctx.request_stop(Stop::Killed(sig));
}

/// Writes `message` and a newline to the host's file descriptor 2 (the
/// guest's stderr) with plain `write` calls: the report reaches the file
/// whatever Rust's stderr handle is doing (test harnesses capture it).
fn report(message: &str) {
    let line = format!("{message}\n");
    let mut rest = line.as_bytes();
    while !rest.is_empty() {
        // SAFETY: writes from a live buffer of `rest.len()` bytes.
        let n = unsafe { libc::write(2, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            break;
        }
        rest = &rest[n as usize..];
    }
}

/// A synchronous signal caused by the instruction at `pc` (a trap): runs
/// the guest handler if one is installed and the signal is not blocked,
/// otherwise terminates with `message`.
pub fn raise_sync(ctx: &ThreadContext, info: SigInfo, pc: u64, message: &str) {
    ctx.set_pc(pc);
    let act = ctx.process.sigaction(info.signo);
    let blocked = ctx.sigmask() & bit(info.signo) != 0;
    if act.handler > SIG_IGN && !blocked {
        deliver(ctx, Queued { info, value: 0 });
    } else {
        terminate(ctx, info.signo, message);
    }
}

/// Generated code returned trap `reason` at guest `pc`.
pub fn trap(ctx: &ThreadContext, reason: u64, pc: u64) {
    let state = &ctx.state;
    let fault_pc = if state.exit_pc() != 0 {
        state.exit_pc()
    } else {
        pc
    };
    let (signo, code, addr) = match reason {
        exit::TRAP_BREAKPOINT => (libc::SIGTRAP, si::TRAP_BRKPT, fault_pc),
        exit::TRAP_DIVIDE => (libc::SIGFPE, si::FPE_INTDIV, fault_pc),
        exit::TRAP_SEGV => {
            let addr = state.fault_addr();
            let code = if ctx.process.mem.map().find(addr).is_some() {
                si::SEGV_ACCERR
            } else {
                si::SEGV_MAPERR
            };
            (libc::SIGSEGV, code, addr)
        }
        exit::TRAP_BUS => (libc::SIGBUS, si::BUS_ADRERR, state.fault_addr()),
        _ => (libc::SIGILL, si::ILL_ILLOPC, fault_pc),
    };
    let name = signal_name(signo);
    let message = if signo == libc::SIGSEGV || signo == libc::SIGBUS {
        format!("vmtrans: guest {name} at pc {fault_pc:#x} (fault address {addr:#x})")
    } else {
        format!("vmtrans: guest {name} at pc {fault_pc:#x}")
    };
    raise_sync(
        ctx,
        SigInfo {
            signo,
            code,
            pid_or_addr: addr,
            uid: 0,
        },
        fault_pc,
        &message,
    );
}

/// No host code could be found or made for `pc`: SIGSEGV if `pc` is not
/// executable guest memory, SIGILL (with the provider's reason) otherwise.
pub fn no_code(ctx: &ThreadContext, pc: u64, why: &str) {
    let region = ctx.process.mem.map().find(pc).map(|r| r.prot);
    match region {
        Some(p) if p & prot::EXEC != 0 => {
            let message = format!("vmtrans: guest SIGILL at pc {pc:#x}: cannot translate: {why}");
            raise_sync(
                ctx,
                SigInfo {
                    signo: libc::SIGILL,
                    code: si::ILL_ILLOPC,
                    pid_or_addr: pc,
                    uid: 0,
                },
                pc,
                &message,
            );
        }
        _ => {
            let code = if region.is_some() {
                si::SEGV_ACCERR
            } else {
                si::SEGV_MAPERR
            };
            let message = format!("vmtrans: guest SIGSEGV at pc {pc:#x} (fault address {pc:#x})");
            raise_sync(
                ctx,
                SigInfo {
                    signo: libc::SIGSEGV,
                    code,
                    pid_or_addr: pc,
                    uid: 0,
                },
                pc,
                &message,
            );
        }
    }
}
