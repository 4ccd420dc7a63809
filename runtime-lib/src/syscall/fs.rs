//! File and file-descriptor system calls.
//!
//! Guest file descriptors are host file descriptors. Buffers are handed to
//! the host kernel as host pointers into the guest reservation, so it
//! reports `EFAULT` for unmapped or read-only guest pages exactly as Linux
//! would; structures whose layout differs between guest and host (`struct
//! stat`) are converted by the architecture. Paths are passed through,
//! except `/proc/self/exe`, which names the guest program.

use super::{opt_ptr, Args, SysResult};
use crate::arch::Sysno;
use crate::context::ThreadContext;
use crate::error::{host_result, Errno};
use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;

/// Longest path accepted from the guest (Linux `PATH_MAX`).
const PATH_MAX: usize = 4096;
/// Most iovec entries per call (Linux `IOV_MAX`).
const IOV_MAX: u64 = 1024;

/// Host system call with up to six arguments (missing ones are zero).
pub(super) fn sys(nr: libc::c_long, args: &[u64]) -> SysResult {
    let mut a = [0u64; 6];
    a[..args.len()].copy_from_slice(args);
    // SAFETY: every pointer argument the callers pass is either a runtime
    // buffer sized for the call or a host pointer inside the guest
    // reservation (checked by `GuestMemory::host_ptr`); the host kernel
    // validates the pages itself.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    host_result(r as i64)
}

pub(super) fn call(ctx: &ThreadContext, sysno: Sysno, a: &Args) -> SysResult {
    use Sysno::*;
    match sysno {
        Read => rw(ctx, libc::SYS_read, a),
        Write => rw(ctx, libc::SYS_write, a),
        Pread64 => rw(ctx, libc::SYS_pread64, a),
        Pwrite64 => rw(ctx, libc::SYS_pwrite64, a),
        Readv => rwv(ctx, libc::SYS_readv, a),
        Writev => rwv(ctx, libc::SYS_writev, a),
        Openat => openat(ctx, a),
        Close => sys(libc::SYS_close, &[a.u(0)]),
        Lseek => sys(libc::SYS_lseek, &[a.u(0), a.u(1), a.u(2)]),
        Fstat => fstat(ctx, a),
        Newfstatat => newfstatat(ctx, a),
        Statx => statx(ctx, a),
        Getdents64 => with_buf(ctx, libc::SYS_getdents64, a.u(0), a.u(1), a.u(2)),
        Ioctl => ioctl(ctx, a),
        Fcntl => fcntl(ctx, a),
        Dup => sys(libc::SYS_dup, &[a.u(0)]),
        Dup3 => sys(
            libc::SYS_dup3,
            &[
                a.u(0),
                a.u(1),
                ctx.process.ops.open_flags_to_host(a.u(2)) as u64,
            ],
        ),
        Pipe2 => pipe2(ctx, a),
        Mkdirat => path_call(ctx, libc::SYS_mkdirat, a.u(0), a.u(1), &[a.u(2)]),
        Unlinkat => path_call(ctx, libc::SYS_unlinkat, a.u(0), a.u(1), &[a.u(2)]),
        Renameat => rename(ctx, a, 0),
        Renameat2 => rename(ctx, a, a.u(4)),
        Faccessat => path_call(ctx, libc::SYS_faccessat, a.u(0), a.u(1), &[a.u(2)]),
        Faccessat2 => path_call(ctx, libc::SYS_faccessat2, a.u(0), a.u(1), &[a.u(2), a.u(3)]),
        Getcwd => with_buf(ctx, libc::SYS_getcwd, a.u(0), a.u(1), u64::MAX),
        Chdir => path_call(ctx, libc::SYS_chdir, u64::MAX, a.u(0), &[]),
        Fchdir => sys(libc::SYS_fchdir, &[a.u(0)]),
        Readlinkat => readlinkat(ctx, a),
        Symlinkat => symlinkat(ctx, a),
        Linkat => linkat(ctx, a),
        Statfs => statfs(ctx, a),
        Fstatfs => {
            let buf = ctx.process.mem.host_ptr(a.u(1), STATFS_SIZE)?;
            sys(libc::SYS_fstatfs, &[a.u(0), buf as u64])
        }
        Truncate => path_call(ctx, libc::SYS_truncate, u64::MAX, a.u(0), &[a.u(1)]),
        Ftruncate => sys(libc::SYS_ftruncate, &[a.u(0), a.u(1)]),
        Fchmod => sys(libc::SYS_fchmod, &[a.u(0), a.u(1)]),
        Fchmodat => path_call(ctx, libc::SYS_fchmodat, a.u(0), a.u(1), &[a.u(2)]),
        Fchownat => path_call(
            ctx,
            libc::SYS_fchownat,
            a.u(0),
            a.u(1),
            &[a.u(2), a.u(3), a.u(4)],
        ),
        Fchown => sys(libc::SYS_fchown, &[a.u(0), a.u(1), a.u(2)]),
        Sync => sys(libc::SYS_sync, &[]),
        Fsync => sys(libc::SYS_fsync, &[a.u(0)]),
        Fdatasync => sys(libc::SYS_fdatasync, &[a.u(0)]),
        Utimensat => utimensat(ctx, a),
        Flock => sys(libc::SYS_flock, &[a.u(0), a.u(1)]),
        Ppoll => ppoll(ctx, a),
        // sendfile(out_fd, in_fd, offset, count): `offset` is an optional
        // guest `off_t` the host reads and updates (busybox cat uses it).
        Sendfile => sys(
            libc::SYS_sendfile,
            &[a.u(0), a.u(1), opt_ptr(ctx, a.u(2), 8)?, a.u(3)],
        ),
        Fadvise64 => sys(libc::SYS_fadvise64, &[a.u(0), a.u(1), a.u(2), a.u(3)]),
        CloseRange => sys(libc::SYS_close_range, &[a.u(0), a.u(1), a.u(2)]),
        Eventfd2 => sys(
            libc::SYS_eventfd2,
            &[a.u(0), ctx.process.ops.open_flags_to_host(a.u(1)) as u64],
        ),
        _ => unreachable!("{sysno:?} is not a file system call"),
    }
}

/// read/write/pread64/pwrite64: `(fd, buf, count[, offset])`.
fn rw(ctx: &ThreadContext, nr: libc::c_long, a: &Args) -> SysResult {
    let buf = ctx.process.mem.host_ptr(a.u(1), a.u(2))?;
    sys(nr, &[a.u(0), buf as u64, a.u(2), a.u(3)])
}

/// A call `(fd, buf, len, extra)` whose buffer is guest memory; `extra`
/// of `u64::MAX` means the call takes only `(buf, len)`.
fn with_buf(ctx: &ThreadContext, nr: libc::c_long, first: u64, buf: u64, len: u64) -> SysResult {
    if len == u64::MAX {
        let p = ctx.process.mem.host_ptr(first, buf)?;
        return sys(nr, &[p as u64, buf]);
    }
    let p = ctx.process.mem.host_ptr(buf, len)?;
    sys(nr, &[first, p as u64, len])
}

/// readv/writev: `(fd, iov, iovcnt)`; the guest iovec array is rewritten
/// with host pointers (`struct iovec` is two u64 on every 64-bit guest).
fn rwv(ctx: &ThreadContext, nr: libc::c_long, a: &Args) -> SysResult {
    let count = a.u(2);
    if count > IOV_MAX {
        return Err(Errno::EINVAL);
    }
    let mem = &ctx.process.mem;
    let mut raw = vec![0u8; count as usize * 16];
    mem.read(a.u(1), &mut raw)?;
    let iov = raw
        .chunks_exact(16)
        .map(|c| {
            let base = u64::from_le_bytes(c[..8].try_into().expect("8 bytes"));
            let len = u64::from_le_bytes(c[8..].try_into().expect("8 bytes"));
            let p = mem.host_ptr(base, len)?;
            Ok(libc::iovec {
                iov_base: p.cast(),
                iov_len: len as usize,
            })
        })
        .collect::<Result<Vec<_>, Errno>>()?;
    sys(nr, &[a.u(0), iov.as_ptr() as u64, count])
}

/// Reads a guest path, mapping `/proc/self/exe` to the guest program.
pub(super) fn guest_path(ctx: &ThreadContext, addr: u64) -> Result<CString, Errno> {
    let raw = ctx.process.mem.read_cstring(addr, PATH_MAX)?;
    let path = if is_proc_self_exe(&raw) {
        ctx.process.exe_path.as_os_str().as_bytes().to_vec()
    } else {
        raw
    };
    CString::new(path).map_err(|_| Errno::EINVAL)
}

/// Whether `path` names this process's executable link.
pub(super) fn is_proc_self_exe(path: &[u8]) -> bool {
    let pid = format!("/proc/{}/exe", std::process::id());
    path == b"/proc/self/exe" || path == b"/proc/thread-self/exe" || path == pid.as_bytes()
}

/// A call `(dirfd, path, rest...)`; a `dirfd` of `u64::MAX` means the call
/// takes no directory descriptor.
fn path_call(
    ctx: &ThreadContext,
    nr: libc::c_long,
    dirfd: u64,
    path: u64,
    rest: &[u64],
) -> SysResult {
    let p = guest_path(ctx, path)?;
    let mut args = Vec::with_capacity(6);
    if dirfd != u64::MAX {
        args.push(dirfd);
    }
    args.push(p.as_ptr() as u64);
    args.extend_from_slice(rest);
    sys(nr, &args)
}

fn openat(ctx: &ThreadContext, a: &Args) -> SysResult {
    let flags = ctx.process.ops.open_flags_to_host(a.u(2));
    let raw = ctx.process.mem.read_cstring(a.u(1), PATH_MAX)?;
    if is_proc_self_file(&raw, "maps") {
        return open_generated(&proc_maps(ctx), flags);
    }
    path_call(
        ctx,
        libc::SYS_openat,
        a.u(0),
        a.u(1),
        &[flags as u64, a.u(3)],
    )
}

/// Whether `path` names this process's `/proc` file `leaf`.
fn is_proc_self_file(path: &[u8], leaf: &str) -> bool {
    let pid = format!("/proc/{}/{leaf}", std::process::id());
    path == format!("/proc/self/{leaf}").as_bytes()
        || path == format!("/proc/thread-self/{leaf}").as_bytes()
        || path == pid.as_bytes()
}

/// A read-only descriptor whose contents are `text` (a memfd).
fn open_generated(text: &str, flags: i32) -> SysResult {
    let cloexec = if flags & libc::O_CLOEXEC != 0 {
        libc::MFD_CLOEXEC
    } else {
        0
    };
    // SAFETY: the name is a valid C string.
    let fd = unsafe { libc::memfd_create(c"vmtrans-proc".as_ptr(), cloexec) };
    if fd < 0 {
        return Err(Errno::last());
    }
    let written = sys(
        libc::SYS_write,
        &[fd as u64, text.as_ptr() as u64, text.len() as u64],
    );
    if let Err(e) = written.and_then(|_| sys(libc::SYS_lseek, &[fd as u64, 0, 0])) {
        // SAFETY: closing the descriptor created above.
        unsafe { libc::close(fd) };
        return Err(e);
    }
    Ok(fd as u64)
}

/// The guest's `/proc/self/maps`, in Linux's format, from the memory map.
pub(super) fn proc_maps(ctx: &ThreadContext) -> String {
    use crate::mmu::prot;
    let map = ctx.process.mem.map();
    let mut out = String::new();
    for r in map.regions() {
        let flag = |bit: u32, c: char| if r.prot & bit != 0 { c } else { '-' };
        let kind = if r.shared { 's' } else { 'p' };
        let line = format!(
            "{:08x}-{:08x} {}{}{}{kind} 00000000 00:00 0",
            r.start,
            r.end(),
            flag(prot::READ, 'r'),
            flag(prot::WRITE, 'w'),
            flag(prot::EXEC, 'x')
        );
        if r.name.is_empty() {
            out.push_str(&line);
        } else {
            out.push_str(&format!("{line:<72} {}", r.name));
        }
        out.push('\n');
    }
    out
}

fn write_stat(ctx: &ThreadContext, st: &libc::stat, addr: u64) -> SysResult {
    ctx.process
        .mem
        .write(addr, &ctx.process.ops.stat_bytes(st))?;
    Ok(0)
}

fn fstat(ctx: &ThreadContext, a: &Args) -> SysResult {
    // SAFETY: `libc::stat` is plain data; zeroed is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    sys(libc::SYS_fstat, &[a.u(0), &mut st as *mut _ as u64])?;
    write_stat(ctx, &st, a.u(1))
}

fn newfstatat(ctx: &ThreadContext, a: &Args) -> SysResult {
    // SAFETY: as in `fstat`.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let p = guest_path(ctx, a.u(1))?;
    sys(
        libc::SYS_newfstatat,
        &[a.u(0), p.as_ptr() as u64, &mut st as *mut _ as u64, a.u(3)],
    )?;
    write_stat(ctx, &st, a.u(2))
}

/// `struct statx` has one layout on every architecture.
const STATX_SIZE: usize = 256;
/// `struct statfs` (asm-generic 64-bit and x86_64 agree).
const STATFS_SIZE: u64 = 120;

fn statx(ctx: &ThreadContext, a: &Args) -> SysResult {
    let p = guest_path(ctx, a.u(1))?;
    let mut buf = [0u8; STATX_SIZE];
    sys(
        libc::SYS_statx,
        &[
            a.u(0),
            p.as_ptr() as u64,
            a.u(2),
            a.u(3),
            buf.as_mut_ptr() as u64,
        ],
    )?;
    ctx.process.mem.write(a.u(4), &buf)?;
    Ok(0)
}

fn statfs(ctx: &ThreadContext, a: &Args) -> SysResult {
    let buf = ctx.process.mem.host_ptr(a.u(1), STATFS_SIZE)?;
    path_call(ctx, libc::SYS_statfs, u64::MAX, a.u(0), &[buf as u64])
}

fn pipe2(ctx: &ThreadContext, a: &Args) -> SysResult {
    let mut fds = [0i32; 2];
    let flags = ctx.process.ops.open_flags_to_host(a.u(1)) as u64;
    sys(libc::SYS_pipe2, &[fds.as_mut_ptr() as u64, flags])?;
    let bytes: Vec<u8> = fds.iter().flat_map(|f| f.to_le_bytes()).collect();
    if let Err(e) = ctx.process.mem.write(a.u(0), &bytes) {
        // SAFETY: closing the descriptors we just created.
        unsafe {
            libc::close(fds[0]);
            libc::close(fds[1]);
        }
        return Err(e);
    }
    Ok(0)
}

fn rename(ctx: &ThreadContext, a: &Args, flags: u64) -> SysResult {
    let old = guest_path(ctx, a.u(1))?;
    let new = guest_path(ctx, a.u(3))?;
    sys(
        libc::SYS_renameat2,
        &[
            a.u(0),
            old.as_ptr() as u64,
            a.u(2),
            new.as_ptr() as u64,
            flags,
        ],
    )
}

fn symlinkat(ctx: &ThreadContext, a: &Args) -> SysResult {
    let target =
        CString::new(ctx.process.mem.read_cstring(a.u(0), PATH_MAX)?).map_err(|_| Errno::EINVAL)?;
    let link = guest_path(ctx, a.u(2))?;
    sys(
        libc::SYS_symlinkat,
        &[target.as_ptr() as u64, a.u(1), link.as_ptr() as u64],
    )
}

fn linkat(ctx: &ThreadContext, a: &Args) -> SysResult {
    let old = guest_path(ctx, a.u(1))?;
    let new = guest_path(ctx, a.u(3))?;
    sys(
        libc::SYS_linkat,
        &[
            a.u(0),
            old.as_ptr() as u64,
            a.u(2),
            new.as_ptr() as u64,
            a.u(4),
        ],
    )
}

fn readlinkat(ctx: &ThreadContext, a: &Args) -> SysResult {
    let raw = ctx.process.mem.read_cstring(a.u(1), PATH_MAX)?;
    let size = a.u(3);
    if size as i64 <= 0 {
        return Err(Errno::EINVAL);
    }
    if is_proc_self_exe(&raw) {
        let target = ctx.process.exe_path.as_os_str().as_bytes();
        let n = target.len().min(size as usize);
        ctx.process.mem.write(a.u(2), &target[..n])?;
        return Ok(n as u64);
    }
    let path = CString::new(raw).map_err(|_| Errno::EINVAL)?;
    let buf = ctx.process.mem.host_ptr(a.u(2), size)?;
    sys(
        libc::SYS_readlinkat,
        &[a.u(0), path.as_ptr() as u64, buf as u64, size],
    )
}

fn utimensat(ctx: &ThreadContext, a: &Args) -> SysResult {
    let path = if a.u(1) == 0 {
        None
    } else {
        Some(guest_path(ctx, a.u(1))?)
    };
    let times = if a.u(2) == 0 {
        0
    } else {
        ctx.process.mem.host_ptr(a.u(2), 32)? as u64
    };
    let p = path.as_ref().map_or(0, |p| p.as_ptr() as u64);
    sys(libc::SYS_utimensat, &[a.u(0), p, times, a.u(3)])
}

fn ppoll(ctx: &ThreadContext, a: &Args) -> SysResult {
    // `struct pollfd` and `struct timespec` match the host. The temporary
    // signal mask argument is not applied yet (signals are delivered
    // between guest instructions, not inside host calls).
    let fds = ctx.process.mem.host_ptr(a.u(0), a.u(1).saturating_mul(8))?;
    let tmo = if a.u(2) == 0 {
        0
    } else {
        ctx.process.mem.host_ptr(a.u(2), 16)? as u64
    };
    sys(libc::SYS_ppoll, &[fds as u64, a.u(1), tmo, 0, 8])
}

/// `ioctl` requests passed through: the asm-generic numbers and argument
/// layouts equal x86_64's for these.
mod ioctls {
    pub const TCGETS: u64 = 0x5401;
    pub const TCSETS: u64 = 0x5402;
    pub const TCSETSW: u64 = 0x5403;
    pub const TCSETSF: u64 = 0x5404;
    pub const TIOCGPGRP: u64 = 0x540f;
    pub const TIOCSPGRP: u64 = 0x5410;
    pub const TIOCGWINSZ: u64 = 0x5413;
    pub const TIOCSWINSZ: u64 = 0x5414;
    pub const FIONREAD: u64 = 0x541b;
    pub const FIONBIO: u64 = 0x5421;
    pub const FIOCLEX: u64 = 0x5451;
    pub const FIONCLEX: u64 = 0x5450;
}

/// Size of the argument structure of a passed-through ioctl request.
fn ioctl_arg_size(request: u64) -> Option<u64> {
    use ioctls::*;
    match request {
        // struct termios (asm-generic and x86_64: 4 flags, c_line, 19 c_cc).
        TCGETS | TCSETS | TCSETSW | TCSETSF => Some(36),
        TIOCGWINSZ | TIOCSWINSZ => Some(8),
        TIOCGPGRP | TIOCSPGRP | FIONREAD | FIONBIO => Some(4),
        FIOCLEX | FIONCLEX => Some(0),
        _ => None,
    }
}

fn ioctl(ctx: &ThreadContext, a: &Args) -> SysResult {
    let request = a.u(1) & 0xffff_ffff;
    let Some(size) = ioctl_arg_size(request) else {
        ctx.process.report_once(format!(
            "vmtrans: unsupported ioctl {request:#x} on fd {} \u{2014} returning ENOTTY",
            a.int(0)
        ));
        return Err(Errno::ENOTTY);
    };
    let arg = if size == 0 {
        0
    } else {
        ctx.process.mem.host_ptr(a.u(2), size)? as u64
    };
    sys(libc::SYS_ioctl, &[a.u(0), request, arg])
}

fn fcntl(ctx: &ThreadContext, a: &Args) -> SysResult {
    let ops = ctx.process.ops;
    let (fd, cmd) = (a.u(0), a.int(1));
    match cmd {
        libc::F_GETFL => {
            sys(libc::SYS_fcntl, &[fd, cmd as u64]).map(|f| ops.open_flags_from_host(f as i32))
        }
        libc::F_SETFL => sys(
            libc::SYS_fcntl,
            &[fd, cmd as u64, ops.open_flags_to_host(a.u(2)) as u64],
        ),
        libc::F_DUPFD
        | libc::F_DUPFD_CLOEXEC
        | libc::F_GETFD
        | libc::F_SETFD
        | libc::F_SETOWN
        | libc::F_GETOWN
        | 10
        | 11
        | libc::F_SETLEASE
        | libc::F_GETLEASE
        | libc::F_NOTIFY
        | libc::F_SETPIPE_SZ
        | libc::F_GETPIPE_SZ
        | libc::F_ADD_SEALS
        | libc::F_GET_SEALS => sys(libc::SYS_fcntl, &[fd, cmd as u64, a.u(2)]),
        libc::F_GETLK
        | libc::F_SETLK
        | libc::F_SETLKW
        | libc::F_OFD_GETLK
        | libc::F_OFD_SETLK
        | libc::F_OFD_SETLKW => {
            // struct flock: same 32-byte layout on every 64-bit Linux.
            let lock = ctx.process.mem.host_ptr(a.u(2), 32)?;
            sys(libc::SYS_fcntl, &[fd, cmd as u64, lock as u64])
        }
        _ => Err(Errno::EINVAL),
    }
}
