//! Signal system calls: dispositions, masks, the alternate stack, sending.

use super::{Args, SysResult};
use crate::arch::{SigAction, Sysno};
use crate::context::ThreadContext;
use crate::error::Errno;
use crate::signals::{self, bit};
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
            let pending = ctx.shared.pending.load(Ordering::Acquire)
                | signals::FORWARDED.load(Ordering::Acquire);
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
        send_to_thread(ctx, ctx.tid(), sig);
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
    let ours = tgid == -1 || tgid as u32 == std::process::id();
    let known = tid == ctx.tid()
        || ctx
            .process
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .contains_key(&tid);
    if !(ours && known) {
        return super::fs::sys(libc::SYS_tgkill, &[tgid as u64, tid as u64, sig as u64]);
    }
    if sig != 0 {
        send_to_thread(ctx, tid, sig);
    }
    Ok(0)
}

/// Makes `sig` pending for guest thread `tid` and wakes it if it is in a
/// blocking host call.
fn send_to_thread(ctx: &ThreadContext, tid: i32, sig: i32) {
    if tid == ctx.tid() {
        signals::post(ctx, sig);
        return;
    }
    let threads = ctx
        .process
        .threads
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if let Some(t) = threads.get(&tid) {
        t.pending.fetch_or(bit(sig), Ordering::AcqRel);
        crate::fault::interrupt_thread(t.pthread.load(Ordering::Acquire));
    }
}

fn rt_sigsuspend(ctx: &ThreadContext, mask: u64, size: u64) -> SysResult {
    if size != SIGSET_SIZE {
        return Err(Errno::EINVAL);
    }
    let temp = ctx.process.mem.read_u64(mask)?;
    loop {
        if let Some(info) = signals::take_pending(ctx, !temp) {
            // The frame saves this result and the mask from before the
            // call (still in effect); `handle` leaves the registers alone
            // once the PC has moved to the handler.
            ctx.state
                .set_reg(ctx.process.ops.regs().syscall_ret, Errno::EINTR.to_return());
            signals::deliver(ctx, info);
            return Err(Errno::EINTR);
        }
        if ctx.stop.get().is_some() {
            return Err(Errno::EINTR);
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}
