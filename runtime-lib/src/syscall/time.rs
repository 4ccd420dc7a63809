//! Clocks and sleeping. `struct timespec`, `struct timeval` and `struct
//! tms` are the same on the 64-bit guests and the host, so guest buffers
//! go to the host kernel directly.

use super::fs::sys;
use super::{opt_ptr, Args, SysResult};
use crate::arch::Sysno;
use crate::context::ThreadContext;

pub(super) fn call(ctx: &ThreadContext, sysno: Sysno, a: &Args) -> SysResult {
    use Sysno::*;
    match sysno {
        ClockGettime => sys(
            libc::SYS_clock_gettime,
            &[a.u(0), opt_ptr(ctx, a.u(1), 16)?],
        ),
        ClockGetres => sys(libc::SYS_clock_getres, &[a.u(0), opt_ptr(ctx, a.u(1), 16)?]),
        Gettimeofday => sys(
            libc::SYS_gettimeofday,
            &[opt_ptr(ctx, a.u(0), 16)?, opt_ptr(ctx, a.u(1), 8)?],
        ),
        Nanosleep => sys(
            libc::SYS_nanosleep,
            &[opt_ptr(ctx, a.u(0), 16)?, opt_ptr(ctx, a.u(1), 16)?],
        ),
        ClockNanosleep => {
            let (req, rem) = (opt_ptr(ctx, a.u(2), 16)?, opt_ptr(ctx, a.u(3), 16)?);
            sys(libc::SYS_clock_nanosleep, &[a.u(0), a.u(1), req, rem])
        }
        Times => sys(libc::SYS_times, &[opt_ptr(ctx, a.u(0), 32)?]),
        _ => unreachable!("{sysno:?} is not a time call"),
    }
}

/// Size of `struct itimerval` (two `struct timeval`s) on 64-bit Linux.
const ITIMERVAL_SIZE: u64 = 32;

/// `setitimer(which, new, old)`: the host's interval timers, whose signals
/// (SIGALRM, SIGVTALRM, SIGPROF) reach the guest through the host
/// dispositions the runtime mirrors.
pub(super) fn setitimer(ctx: &ThreadContext, a: &Args) -> SysResult {
    sys(
        libc::SYS_setitimer,
        &[
            a.u(0),
            opt_ptr(ctx, a.u(1), ITIMERVAL_SIZE)?,
            opt_ptr(ctx, a.u(2), ITIMERVAL_SIZE)?,
        ],
    )
}

/// `getitimer(which, value)`: the host's.
pub(super) fn getitimer(ctx: &ThreadContext, a: &Args) -> SysResult {
    sys(
        libc::SYS_getitimer,
        &[a.u(0), opt_ptr(ctx, a.u(1), ITIMERVAL_SIZE)?],
    )
}
