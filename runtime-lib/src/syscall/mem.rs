//! Memory system calls: brk, mmap and friends on the guest address space.

use super::{Args, SysResult};
use crate::arch::Sysno;
use crate::context::ThreadContext;
use crate::error::{host_result, Errno};
use crate::mmu::{prot, Backing, Placement, PAGE_SIZE};

mod flags {
    pub const MAP_SHARED: u64 = 0x01;
    pub const MAP_PRIVATE: u64 = 0x02;
    pub const MAP_SHARED_VALIDATE: u64 = 0x03;
    pub const MAP_TYPE: u64 = 0x0f;
    pub const MAP_FIXED: u64 = 0x10;
    pub const MAP_ANONYMOUS: u64 = 0x20;
    pub const MAP_FIXED_NOREPLACE: u64 = 0x10_0000;
    pub const MADV_DONTNEED: u64 = 4;
}

pub(super) fn call(ctx: &ThreadContext, sysno: Sysno, a: &Args) -> SysResult {
    use Sysno::*;
    let mem = &ctx.process.mem;
    match sysno {
        Brk => Ok(mem.brk(a.u(0))),
        Mmap => mmap(ctx, a),
        Munmap => {
            invalidate_if_code(ctx, a.u(0), a.u(1));
            mem.unmap(a.u(0), a.u(1)).map(|()| 0)
        }
        Mprotect => mprotect(ctx, a),
        Mremap => {
            invalidate_if_code(ctx, a.u(0), a.u(1));
            mem.remap(a.u(0), a.u(1), a.u(2), a.u(3) as u32, a.u(4))
        }
        Madvise => madvise(ctx, a),
        Msync => {
            let p = mem.host_ptr(a.u(0), a.u(1))?;
            // SAFETY: the range lies in the guest reservation; msync only
            // inspects mappings.
            host_result(unsafe { libc::msync(p.cast(), a.u(1) as usize, a.int(2)) } as i64)
        }
        Mlock | Munlock | Mlockall | Munlockall => Ok(0),
        Membarrier => super::fs::sys(libc::SYS_membarrier, &[a.u(0), a.u(1), a.u(2)]),
        RiscvFlushIcache => {
            ctx.process.invalidate_code();
            Ok(0)
        }
        _ => unreachable!("{sysno:?} is not a memory call"),
    }
}

/// Drops translations when `addr..addr+len` holds guest code.
fn invalidate_if_code(ctx: &ThreadContext, addr: u64, len: u64) {
    let end = addr.saturating_add(len);
    let has_code = ctx
        .process
        .mem
        .map()
        .regions()
        .any(|r| r.prot & prot::EXEC != 0 && r.start < end && r.end() > addr);
    if has_code {
        ctx.process.invalidate_code();
    }
}

fn placement(addr: u64, f: u64) -> Placement {
    if f & flags::MAP_FIXED_NOREPLACE != 0 {
        Placement::FixedNoReplace(addr)
    } else if f & flags::MAP_FIXED != 0 {
        Placement::Fixed(addr)
    } else if addr != 0 {
        Placement::Hint(addr)
    } else {
        Placement::Anywhere
    }
}

fn mmap(ctx: &ThreadContext, a: &Args) -> SysResult {
    let (addr, len, guest_prot, f, fd, offset) =
        (a.u(0), a.u(1), a.u(2) as u32, a.u(3), a.int(4), a.u(5));
    let kind = f & flags::MAP_TYPE;
    if len == 0
        || offset % PAGE_SIZE != 0
        || !matches!(
            kind,
            flags::MAP_SHARED | flags::MAP_PRIVATE | flags::MAP_SHARED_VALIDATE
        )
    {
        return Err(Errno::EINVAL);
    }
    let place = placement(addr, f);
    if matches!(place, Placement::Fixed(_)) {
        invalidate_if_code(ctx, addr, len);
    }
    let mem = &ctx.process.mem;
    let shared = kind != flags::MAP_PRIVATE;
    if shared {
        // Another process may run atomics on these pages: so must we.
        ctx.state.set_parallel();
    }
    if f & flags::MAP_ANONYMOUS != 0 {
        let backing = if shared {
            Backing::SharedFile { fd: -1, offset: 0 }
        } else {
            Backing::Zero
        };
        return mem.allocate(place, len, guest_prot, "", backing);
    }
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    // File mappings are host mappings of the same file (guest fds are host
    // fds): the host kernel keeps shared and private views coherent with
    // the page cache exactly as Linux does for the guest.
    let (fd, offset) = (fd, offset as i64);
    let backing = if shared {
        Backing::SharedFile { fd, offset }
    } else {
        Backing::PrivateFile { fd, offset }
    };
    mem.allocate(place, len, guest_prot, &fd_path(fd), backing)
}

fn fd_path(fd: i32) -> String {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .map(|p| p.display().to_string())
        .unwrap_or_default()
}

fn mprotect(ctx: &ThreadContext, a: &Args) -> SysResult {
    let guest_prot = a.u(2) as u32;
    if guest_prot & !(prot::READ | prot::WRITE | prot::EXEC) != 0 {
        return Err(Errno::EINVAL);
    }
    if guest_prot & prot::EXEC != 0 {
        ctx.process.invalidate_code();
    }
    ctx.process
        .mem
        .protect(a.u(0), a.u(1), guest_prot)
        .map(|()| 0)
}

fn madvise(ctx: &ThreadContext, a: &Args) -> SysResult {
    match a.u(2) {
        flags::MADV_DONTNEED => ctx.process.mem.discard(a.u(0), a.u(1)).map(|()| 0),
        0..=3 | 8..=21 | 100 => Ok(0),
        _ => Err(Errno::EINVAL),
    }
}
