//! Signal system calls: dispositions, masks, the alternate stack, sending.

use super::{Args, SysResult};
use crate::arch::{SigAction, Sysno};
use crate::context::ThreadContext;
use crate::error::Errno;
use crate::signals::queue::{self, Queued, SIGINFO_SIZE};
use crate::signals::{self, bit, si};
use std::sync::atomic::Ordering;

/// Size of the kernel `sigset_t` on the 64-bit guests.
const SIGSET_SIZE: u64 = 8;
/// Smallest alternate signal stack (asm-generic `MINSIGSTKSZ`).
const MINSIGSTKSZ: u64 = 2048;
/// `SS_AUTODISARM`: clear the alternate stack while a handler runs on it.
const SS_AUTODISARM: i32 = 1 << 31;

pub(super) fn call(ctx: &ThreadContext, sysno: Sysno, a: &Args) -> SysResult {
    use Sysno::*;
    match sysno {
        RtSigaction => rt_sigaction(ctx, a.int(0), a.u(1), a.u(2), a.u(3)),
        RtSigprocmask => rt_sigprocmask(ctx, a.int(0), a.u(1), a.u(2), a.u(3)),
        Sigaltstack => sigaltstack(ctx, a.u(0), a.u(1)),
        Kill => kill(ctx, a.int(0), a.int(1)),
        Tkill => tgkill(ctx, -1, a.int(0), a.int(1)),
        Tgkill => tgkill(ctx, a.int(0), a.int(1), a.int(2)),
        RtSigpending => {
            if a.u(1) != SIGSET_SIZE {
                return Err(Errno::EINVAL);
            }
            let pending = signals::pending_mask(ctx);
            ctx.process.mem.write_u64(a.u(0), pending & ctx.sigmask())?;
            Ok(0)
        }
        RtSigsuspend => rt_sigsuspend(ctx, a.u(0), a.u(1)),
        RtSigreturn => {
            signals::sigreturn(ctx);
            Ok(0)
        }
        _ => unreachable!("{sysno:?} is not a signal call"),
    }
}

fn valid_signal(sig: i32) -> Result<(), Errno> {
    if (1..=64).contains(&sig) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

fn rt_sigaction(ctx: &ThreadContext, sig: i32, act: u64, oldact: u64, size: u64) -> SysResult {
    valid_signal(sig)?;
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let ops = ctx.process.ops;
    let new = if act == 0 {
        None
    } else {
        if sig == libc::SIGKILL || sig == libc::SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let mut raw = vec![0u8; ops.sigaction_size()];
        ctx.process.mem.read(act, &mut raw)?;
        Some(ops.decode_sigaction(&raw))
    };
    let old = ctx.process.sigaction(sig);
    if oldact != 0 {
        ctx.process.mem.write(oldact, &ops.encode_sigaction(&old))?;
    }
    if let Some(new) = new {
        let unblockable = bit(libc::SIGKILL) | bit(libc::SIGSTOP);
        let new = SigAction {
            mask: new.mask & !unblockable,
            ..new
        };
        ctx.process
            .sigactions
            .lock()
            .unwrap_or_else(|e| e.into_inner())[(sig - 1) as usize] = new;
        crate::fault::mirror_disposition(sig, new.handler, new.flags);
        let catches_faults = matches!(sig, libc::SIGSEGV | libc::SIGBUS)
            && new.handler != signals::SIG_DFL
            && new.handler != signals::SIG_IGN;
        if catches_faults {
            ctx.process.require_precise_faults(ctx);
        }
    }
    Ok(0)
}

fn rt_sigprocmask(ctx: &ThreadContext, how: i32, set: u64, oldset: u64, size: u64) -> SysResult {
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let old = ctx.sigmask();
    let new = if set == 0 {
        None
    } else {
        let set = ctx.process.mem.read_u64(set)?;
        Some(match how {
            libc::SIG_BLOCK => old | set,
            libc::SIG_UNBLOCK => old & !set,
            libc::SIG_SETMASK => set,
            _ => return Err(Errno::EINVAL),
        })
    };
    if oldset != 0 {
        ctx.process.mem.write_u64(oldset, old)?;
    }
    if let Some(new) = new {
        ctx.set_sigmask(new);
    }
    Ok(0)
}

fn sigaltstack(ctx: &ThreadContext, ss: u64, old: u64) -> SysResult {
    let (sp, flags, size) = ctx.altstack.get();
    let cur_sp = ctx.state.reg(ctx.process.ops.regs().sp);
    let on_alt = flags != libc::SS_DISABLE && cur_sp > sp && cur_sp <= sp + size;
    if old != 0 {
        let shown_flags = if on_alt { libc::SS_ONSTACK } else { flags };
        let mut b = [0u8; 24];
        b[..8].copy_from_slice(&sp.to_le_bytes());
        b[8..12].copy_from_slice(&shown_flags.to_le_bytes());
        b[16..].copy_from_slice(&size.to_le_bytes());
        ctx.process.mem.write(old, &b)?;
    }
    if ss != 0 {
        let mut b = [0u8; 24];
        ctx.process.mem.read(ss, &mut b)?;
        if on_alt {
            return Err(Errno::EPERM);
        }
        let new_sp = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let new_flags = i32::from_le_bytes(b[8..12].try_into().expect("4 bytes"));
        let new_size = u64::from_le_bytes(b[16..].try_into().expect("8 bytes"));
        if new_flags == libc::SS_DISABLE {
            ctx.altstack.set((0, libc::SS_DISABLE, 0));
        } else if new_flags & !SS_AUTODISARM != 0 {
            return Err(Errno::EINVAL);
        } else if new_size < MINSIGSTKSZ {
            return Err(Errno::ENOMEM);
        } else {
            ctx.altstack.set((new_sp, 0, new_size));
        }
    }
    Ok(0)
}

fn kill(ctx: &ThreadContext, pid: i32, sig: i32) -> SysResult {
    if sig != 0 {
        valid_signal(sig)?;
    }
    if pid as u32 != std::process::id() {
        return super::fs::sys(libc::SYS_kill, &[pid as u64, sig as u64]);
    }
    if sig != 0 {
        send_to_thread(ctx, ctx.tid(), Queued::from_self(sig, si::USER));
    }
    Ok(0)
}

fn tgkill(ctx: &ThreadContext, tgid: i32, tid: i32, sig: i32) -> SysResult {
    if sig != 0 {
        valid_signal(sig)?;
    }
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    if !is_our_thread(ctx, tgid, tid) {
        return super::fs::sys(libc::SYS_tgkill, &[tgid as u64, tid as u64, sig as u64]);
    }
    if sig != 0 {
        send_to_thread(ctx, tid, Queued::from_self(sig, si::TKILL));
    }
    Ok(0)
}

/// Whether `tid` is a thread of this guest (`tgid` -1: any thread group,
/// as `tkill`).
fn is_our_thread(ctx: &ThreadContext, tgid: i32, tid: i32) -> bool {
    let ours = tgid == -1 || tgid as u32 == std::process::id();
    ours && (tid == ctx.tid()
        || ctx
            .process
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&tid))
}

/// Reads the caller's `siginfo_t` of `rt_sigqueueinfo` and friends.
fn read_siginfo(ctx: &ThreadContext, addr: u64) -> Result<[u8; SIGINFO_SIZE], Errno> {
    let mut raw = [0u8; SIGINFO_SIZE];
    ctx.process.mem.read(addr, &mut raw)?;
    Ok(raw)
}

/// `rt_sigqueueinfo(tgid, sig, info)`: a signal with the caller's siginfo
/// (`sigqueue` passes `SI_QUEUE` and a value). Linux lets a process send
/// itself any `si_code`; other processes get the host call.
pub(super) fn rt_sigqueueinfo(ctx: &ThreadContext, a: &Args) -> SysResult {
    let (tgid, sig) = (a.int(0), a.int(1));
    valid_signal(sig)?;
    let raw = read_siginfo(ctx, a.u(2))?;
    if tgid as u32 != std::process::id() {
        let info = ctx.process.mem.host_ptr(a.u(2), SIGINFO_SIZE as u64)?;
        return super::fs::sys(
            libc::SYS_rt_sigqueueinfo,
            &[tgid as u64, sig as u64, info as u64],
        );
    }
    send_to_thread(ctx, ctx.tid(), Queued::from_siginfo(sig, &raw));
    Ok(0)
}

/// `rt_tgsigqueueinfo(tgid, tid, sig, info)`: [`rt_sigqueueinfo`] for one
/// thread.
pub(super) fn rt_tgsigqueueinfo(ctx: &ThreadContext, a: &Args) -> SysResult {
    let (tgid, tid, sig) = (a.int(0), a.int(1), a.int(2));
    valid_signal(sig)?;
    let raw = read_siginfo(ctx, a.u(3))?;
    if !is_our_thread(ctx, tgid, tid) {
        let info = ctx.process.mem.host_ptr(a.u(3), SIGINFO_SIZE as u64)?;
        return super::fs::sys(
            libc::SYS_rt_tgsigqueueinfo,
            &[tgid as u64, tid as u64, sig as u64, info as u64],
        );
    }
    send_to_thread(ctx, tid, Queued::from_siginfo(sig, &raw));
    Ok(0)
}

/// Makes `q` pending for guest thread `tid` and wakes it if it is in a
/// blocking host call.
fn send_to_thread(ctx: &ThreadContext, tid: i32, q: Queued) {
    if tid == ctx.tid() {
        signals::post(ctx, q);
        return;
    }
    let threads = ctx
        .process
        .threads
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(t) = threads.get(&tid) {
        t.pending.post(q);
        crate::fault::interrupt_thread(t.pthread.load(Ordering::Acquire));
    }
}

/// `rt_sigsuspend(mask)`: waits with `mask` as the signal mask until a
/// signal runs a handler or ends the process; the handler's return
/// restores the caller's mask. Returns `EINTR` (already in the frame).
fn rt_sigsuspend(ctx: &ThreadContext, mask: u64, size: u64) -> SysResult {
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let temp = ctx.process.mem.read_u64(mask)?;
    let saved = ctx.sigmask();
    loop {
        let seen = queue::arrivals();
        if ctx.stop.get().is_some() {
            return Err(Errno::EINTR);
        }
        let Some(q) = signals::take_pending(ctx, !temp) else {
            queue::wait_for_arrival(seen, None);
            continue;
        };
        // The frame saves this result; `handle` leaves the registers alone
        // once the PC has moved to the handler.
        ctx.state
            .set_reg(ctx.process.ops.regs().syscall_ret, Errno::EINTR.to_return());
        ctx.set_sigmask(temp);
        let entered = signals::deliver_restoring(ctx, q, saved);
        if !entered {
            // Ignored (or the default action is to ignore): keep waiting.
            ctx.set_sigmask(saved);
            continue;
        }
        return Err(Errno::EINTR);
    }
}

/// `rt_sigtimedwait(set, info, timeout, sigsetsize)`: takes a pending
/// signal of `set` without running its handler and returns its number
/// (with its siginfo); `EAGAIN` when `timeout` passes first, `EINTR` when
/// another, unblocked signal arrives (it is delivered as the call returns).
pub(super) fn rt_sigtimedwait(ctx: &ThreadContext, a: &Args) -> SysResult {
    if a.u(3) != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let mem = &ctx.process.mem;
    let set = mem.read_u64(a.u(0))? & !(bit(libc::SIGKILL) | bit(libc::SIGSTOP));
    let deadline = match a.u(2) {
        0 => None,
        at => Some(std::time::Instant::now() + read_timespec(ctx, at)?),
    };
    loop {
        let seen = queue::arrivals();
        if let Some(q) = signals::take_pending(ctx, set) {
            if a.u(1) != 0 {
                mem.write(a.u(1), &q.to_siginfo())?;
            }
            return Ok(q.info.signo as u64);
        }
        if signals::pending_mask(ctx) & !ctx.sigmask() != 0 || ctx.stop.get().is_some() {
            return Err(Errno::EINTR);
        }
        if deadline.is_some_and(|d| std::time::Instant::now() >= d) {
            return Err(Errno::EAGAIN);
        }
        queue::wait_for_arrival(seen, deadline);
    }
}

/// A guest `struct timespec` as a duration (`EINVAL` when malformed).
fn read_timespec(ctx: &ThreadContext, at: u64) -> Result<std::time::Duration, Errno> {
    let sec = ctx.process.mem.read_u64(at)? as i64;
    let nsec = ctx.process.mem.read_u64(at + 8)? as i64;
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(std::time::Duration::new(sec as u64, nsec as u32))
}
