//! Process identity, limits, exit and miscellaneous process calls.

use super::fs::sys;
use super::{exit_process, opt_ptr, Args, SysResult};
use crate::arch::Sysno;
use crate::context::{Stop, ThreadContext};
use crate::error::Errno;

/// Size of `struct utsname` (six 65-byte fields).
const UTSNAME_SIZE: usize = 6 * 65;
/// Offset of `machine` in `struct utsname`.
const UTS_MACHINE: usize = 4 * 65;
/// Size of `struct sysinfo` on 64-bit Linux.
const SYSINFO_SIZE: u64 = 112;
/// Size of `struct rusage` on 64-bit Linux.
const RUSAGE_SIZE: u64 = 144;

pub(super) fn call(ctx: &ThreadContext, sysno: Sysno, a: &Args) -> SysResult {
    use Sysno::*;
    match sysno {
        Exit => exit_thread(ctx, a.int(0)),
        ExitGroup => {
            exit_process(ctx, a.int(0) & 0xff);
            Ok(0)
        }
        Getpid => sys(libc::SYS_getpid, &[]),
        Getppid => sys(libc::SYS_getppid, &[]),
        Gettid => Ok(ctx.tid() as u64),
        Getuid => sys(libc::SYS_getuid, &[]),
        Geteuid => sys(libc::SYS_geteuid, &[]),
        Getgid => sys(libc::SYS_getgid, &[]),
        Getegid => sys(libc::SYS_getegid, &[]),
        Uname => uname(ctx, a.u(0)),
        Prlimit64 => prlimit(ctx, a.int(0), a.int(1), a.u(2), a.u(3)),
        Getrlimit => prlimit(ctx, 0, a.int(0), 0, a.u(1)),
        Setrlimit => prlimit(ctx, 0, a.int(0), a.u(1), 0),
        SchedGetaffinity => sys(
            libc::SYS_sched_getaffinity,
            &[a.u(0), a.u(1), opt_ptr(ctx, a.u(2), a.u(1))?],
        ),
        SchedSetaffinity => sys(
            libc::SYS_sched_setaffinity,
            &[a.u(0), a.u(1), opt_ptr(ctx, a.u(2), a.u(1))?],
        ),
        SchedYield => sys(libc::SYS_sched_yield, &[]),
        Getrandom => sys(
            libc::SYS_getrandom,
            &[opt_ptr(ctx, a.u(0), a.u(1))?, a.u(1), a.u(2)],
        ),
        Sysinfo => sys(libc::SYS_sysinfo, &[opt_ptr(ctx, a.u(0), SYSINFO_SIZE)?]),
        Umask => sys(libc::SYS_umask, &[a.u(0) & 0o777]),
        Getrusage => sys(
            libc::SYS_getrusage,
            &[a.u(0), opt_ptr(ctx, a.u(1), RUSAGE_SIZE)?],
        ),
        Prctl => prctl(ctx, a),
        Getresuid => sys(
            libc::SYS_getresuid,
            &[
                opt_ptr(ctx, a.u(0), 4)?,
                opt_ptr(ctx, a.u(1), 4)?,
                opt_ptr(ctx, a.u(2), 4)?,
            ],
        ),
        Getresgid => sys(
            libc::SYS_getresgid,
            &[
                opt_ptr(ctx, a.u(0), 4)?,
                opt_ptr(ctx, a.u(1), 4)?,
                opt_ptr(ctx, a.u(2), 4)?,
            ],
        ),
        Getpgid => sys(libc::SYS_getpgid, &[a.u(0)]),
        Setpgid => sys(libc::SYS_setpgid, &[a.u(0), a.u(1)]),
        Getsid => sys(libc::SYS_getsid, &[a.u(0)]),
        Setsid => sys(libc::SYS_setsid, &[]),
        Getgroups => sys(
            libc::SYS_getgroups,
            &[a.u(0), opt_ptr(ctx, a.u(1), a.u(0).saturating_mul(4))?],
        ),
        Getcpu => sys(
            libc::SYS_getcpu,
            &[opt_ptr(ctx, a.u(0), 4)?, opt_ptr(ctx, a.u(1), 4)?, 0],
        ),
        Wait4 => sys(
            libc::SYS_wait4,
            &[
                a.u(0),
                opt_ptr(ctx, a.u(1), 4)?,
                a.u(2),
                opt_ptr(ctx, a.u(3), RUSAGE_SIZE)?,
            ],
        ),
        // Deliberately unsupported, silently: glibc falls back when these
        // return ENOSYS (rseq registration, the RISC-V hwprobe vDSO data).
        Rseq | RiscvHwprobe => Err(Errno::ENOSYS),
        _ => unreachable!("{sysno:?} is not a process call"),
    }
}

/// Size of `siginfo_t` (the same on every 64-bit Linux).
const SIGINFO_SIZE: u64 = 128;

/// `waitid(idtype, id, infop, options, rusage)`: the host's, on the host
/// addresses of the guest buffers (`siginfo_t` and `struct rusage` have the
/// host's layout on the 64-bit guests).
pub(super) fn waitid(ctx: &ThreadContext, a: &Args) -> SysResult {
    sys(
        libc::SYS_waitid,
        &[
            a.u(0),
            a.u(1),
            opt_ptr(ctx, a.u(2), SIGINFO_SIZE)?,
            a.u(3),
            opt_ptr(ctx, a.u(4), RUSAGE_SIZE)?,
        ],
    )
}

/// `exit`: ends this thread; the last thread ends the process.
fn exit_thread(ctx: &ThreadContext, code: i32) -> SysResult {
    if ctx.process.live_threads() <= 1 {
        exit_process(ctx, code & 0xff);
    } else {
        ctx.request_stop(Stop::ExitThread(code & 0xff));
    }
    Ok(0)
}

fn uname(ctx: &ThreadContext, addr: u64) -> SysResult {
    let mut buf = [0u8; UTSNAME_SIZE];
    sys(libc::SYS_uname, &[buf.as_mut_ptr() as u64])?;
    let machine = ctx.process.ops.uname_machine().as_bytes();
    buf[UTS_MACHINE..UTS_MACHINE + 65].fill(0);
    buf[UTS_MACHINE..UTS_MACHINE + machine.len()].copy_from_slice(machine);
    ctx.process.mem.write(addr, &buf)?;
    Ok(0)
}

/// Limits the runtime keeps for the guest instead of applying to the host
/// process (the runtime's own reservation would break under them).
fn guest_only_limit(resource: i32) -> bool {
    matches!(
        resource as u32,
        libc::RLIMIT_STACK | libc::RLIMIT_AS | libc::RLIMIT_DATA
    )
}

fn prlimit(ctx: &ThreadContext, pid: i32, resource: i32, new: u64, old: u64) -> SysResult {
    let me = pid == 0 || pid as u32 == std::process::id();
    if !me || !guest_only_limit(resource) {
        return sys(
            libc::SYS_prlimit64,
            &[
                pid as u64,
                resource as u64,
                opt_ptr(ctx, new, 16)?,
                opt_ptr(ctx, old, 16)?,
            ],
        );
    }
    let mut limits = ctx
        .process
        .rlimits
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let current = match limits.get(&resource) {
        Some(&l) => l,
        None => host_limit(ctx, resource)?,
    };
    if new != 0 {
        let mut b = [0u8; 16];
        ctx.process.mem.read(new, &mut b)?;
        let cur = u64::from_le_bytes(b[..8].try_into().expect("8 bytes"));
        let max = u64::from_le_bytes(b[8..].try_into().expect("8 bytes"));
        if cur > max {
            return Err(Errno::EINVAL);
        }
        limits.insert(resource, (cur, max));
    }
    if old != 0 {
        let bytes: Vec<u8> = [current.0, current.1]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        ctx.process.mem.write(old, &bytes)?;
    }
    Ok(0)
}

/// The host's limit, with the stack limit's soft value set to the guest's
/// stack size.
fn host_limit(ctx: &ThreadContext, resource: i32) -> Result<(u64, u64), Errno> {
    let mut l = [0u64; 2];
    sys(
        libc::SYS_prlimit64,
        &[0, resource as u64, 0, l.as_mut_ptr() as u64],
    )?;
    if resource as u32 == libc::RLIMIT_STACK {
        l[0] = ctx.process.options.stack_size.min(l[1]);
    }
    Ok((l[0], l[1]))
}

fn prctl(ctx: &ThreadContext, a: &Args) -> SysResult {
    match a.int(0) {
        libc::PR_SET_NAME | libc::PR_GET_NAME => {
            sys(libc::SYS_prctl, &[a.u(0), opt_ptr(ctx, a.u(1), 16)?])
        }
        libc::PR_SET_PDEATHSIG | libc::PR_GET_DUMPABLE | libc::PR_SET_DUMPABLE => {
            sys(libc::SYS_prctl, &[a.u(0), a.u(1)])
        }
        libc::PR_GET_PDEATHSIG => sys(libc::SYS_prctl, &[a.u(0), opt_ptr(ctx, a.u(1), 4)?]),
        option => {
            ctx.process.report_once(format!(
                "vmtrans: unsupported prctl option {option} \u{2014} returning EINVAL"
            ));
            Err(Errno::EINVAL)
        }
    }
}
