//! System call handlers called directly on a CpuState with guest memory.

use common::{get, nr, process, process_with, put_str, syscall, NoCode, SCRATCH};
use std::sync::Arc;
use vmtrans_runtime::arch::riscv64::stat;
use vmtrans_runtime::mmu::{prot, PAGE_SIZE};
use vmtrans_runtime::{RunOptions, Stop};

mod common;

const AT_FDCWD: u64 = -100i64 as u64;
const EFAULT: i64 = -14;
const ENOENT: i64 = -2;
const ENOSYS: i64 = -38;
const ENOTTY: i64 = -25;
const EINVAL: i64 = -22;

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().unwrap())
}

fn pipe(ctx: &vmtrans_runtime::ThreadContext) -> (u64, u64) {
    assert_eq!(syscall(ctx, nr::PIPE2, &[SCRATCH, 0]), 0);
    let fds = get(ctx, SCRATCH, 8);
    (u32_at(&fds, 0) as u64, u32_at(&fds, 4) as u64)
}

#[test]
fn struct_stat_offsets_match_riscv64_linux() {
    // Offsets printed by a riscv64 program (offsetof on <asm/stat.h>).
    assert_eq!(stat::SIZE, 128);
    assert_eq!(
        (
            stat::DEV,
            stat::INO,
            stat::MODE,
            stat::NLINK,
            stat::UID,
            stat::GID
        ),
        (0, 8, 16, 20, 24, 28)
    );
    assert_eq!(
        (stat::RDEV, stat::SIZE_FIELD, stat::BLKSIZE, stat::BLOCKS),
        (32, 48, 56, 64)
    );
    assert_eq!((stat::ATIME, stat::MTIME, stat::CTIME), (72, 88, 104));
}

#[test]
fn write_to_a_pipe_and_read_back() {
    let ctx = process();
    let (r, w) = pipe(&ctx);
    put_str(&ctx, SCRATCH + 0x100, "hello pipe");
    assert_eq!(syscall(&ctx, nr::WRITE, &[w, SCRATCH + 0x100, 10]), 10);
    assert_eq!(syscall(&ctx, nr::READ, &[r, SCRATCH + 0x200, 64]), 10);
    assert_eq!(get(&ctx, SCRATCH + 0x200, 10), b"hello pipe");
    // writev gathers two guest buffers.
    put_str(&ctx, SCRATCH + 0x300, "ab");
    put_str(&ctx, SCRATCH + 0x310, "cde");
    let iov: Vec<u8> = [SCRATCH + 0x300, 2, SCRATCH + 0x310, 3]
        .iter()
        .flat_map(|v: &u64| v.to_le_bytes())
        .collect();
    ctx.process.mem.write(SCRATCH + 0x400, &iov).unwrap();
    assert_eq!(syscall(&ctx, nr::WRITEV, &[w, SCRATCH + 0x400, 2]), 5);
    assert_eq!(syscall(&ctx, nr::READ, &[r, SCRATCH + 0x500, 64]), 5);
    assert_eq!(get(&ctx, SCRATCH + 0x500, 5), b"abcde");
    // Unmapped buffers give EFAULT, not a crash.
    assert_eq!(syscall(&ctx, nr::WRITE, &[w, 0x7777_0000, 4]), EFAULT);
    assert_eq!(syscall(&ctx, nr::WRITE, &[w, u64::MAX - 2, 4]), EFAULT);
    // ioctl: not a terminal; FIONBIO passes through.
    assert_eq!(syscall(&ctx, nr::IOCTL, &[r, 0x5401, SCRATCH]), ENOTTY);
    ctx.process.mem.write_u32(SCRATCH + 0x600, 1).unwrap();
    assert_eq!(syscall(&ctx, nr::IOCTL, &[r, 0x5421, SCRATCH + 0x600]), 0);
    assert_eq!(
        syscall(&ctx, nr::READ, &[r, SCRATCH + 0x500, 64]),
        -11,
        "non-blocking now: EAGAIN"
    );
    assert_eq!(syscall(&ctx, nr::CLOSE, &[r]), 0);
    assert_eq!(syscall(&ctx, nr::CLOSE, &[w]), 0);
    assert_eq!(syscall(&ctx, nr::CLOSE, &[w]), -9, "EBADF");
}

#[test]
fn sendfile_copies_from_a_file_and_updates_the_guest_offset() {
    use std::os::fd::AsRawFd;
    let ctx = process();
    let path = std::env::temp_dir().join(format!("vmtrans-sendfile-{}", std::process::id()));
    std::fs::write(&path, "0123456789").unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let (r, w) = pipe(&ctx);
    let fd = file.as_raw_fd() as u64;
    ctx.process.mem.write_u64(SCRATCH, 2).unwrap();
    assert_eq!(syscall(&ctx, nr::SENDFILE, &[w, fd, SCRATCH, 5]), 5);
    assert_eq!(ctx.process.mem.read_u64(SCRATCH).unwrap(), 7);
    assert_eq!(syscall(&ctx, nr::READ, &[r, SCRATCH + 0x100, 64]), 5);
    assert_eq!(get(&ctx, SCRATCH + 0x100, 5), b"23456");
    // Without an offset the file position is used and advanced.
    assert_eq!(syscall(&ctx, nr::SENDFILE, &[w, fd, 0, 3]), 3);
    assert_eq!(syscall(&ctx, nr::READ, &[r, SCRATCH + 0x100, 64]), 3);
    assert_eq!(get(&ctx, SCRATCH + 0x100, 3), b"012");
    assert_eq!(
        syscall(&ctx, nr::SENDFILE, &[w, fd, 0x7777_0000, 3]),
        EFAULT
    );
    let _ = std::fs::remove_file(&path);
}

#[test]
fn openat_read_fstat_and_statx_a_temp_file() {
    let ctx = process();
    let dir = common::temp_dir("open");
    let file = dir.join("data.txt");
    std::fs::write(&file, b"0123456789").unwrap();
    put_str(&ctx, SCRATCH, file.to_str().unwrap());
    let fd = syscall(&ctx, nr::OPENAT, &[AT_FDCWD, SCRATCH, 0, 0]);
    assert!(fd >= 0, "openat: {fd}");
    let fd = fd as u64;
    assert_eq!(syscall(&ctx, nr::LSEEK, &[fd, 4, 0]), 4);
    assert_eq!(syscall(&ctx, nr::READ, &[fd, SCRATCH + 0x1000, 100]), 6);
    assert_eq!(get(&ctx, SCRATCH + 0x1000, 6), b"456789");
    // fstat writes the riscv64 struct stat.
    assert_eq!(syscall(&ctx, nr::FSTAT, &[fd, SCRATCH + 0x2000]), 0);
    let st = get(&ctx, SCRATCH + 0x2000, stat::SIZE);
    let host = std::fs::metadata(&file).unwrap();
    use std::os::unix::fs::MetadataExt;
    assert_eq!(u64_at(&st, stat::SIZE_FIELD), 10);
    assert_eq!(u32_at(&st, stat::MODE), host.mode());
    assert_eq!(u64_at(&st, stat::INO), host.ino());
    assert_eq!(u32_at(&st, stat::NLINK), 1);
    assert_eq!(u64_at(&st, stat::MTIME) as i64, host.mtime());
    assert_eq!(u64_at(&st, stat::MTIME + 8) as i64, host.mtime_nsec());
    assert_eq!(u32_at(&st, stat::BLKSIZE) as u64, host.blksize());
    // newfstatat on the path, and statx (same layout everywhere).
    assert_eq!(
        syscall(
            &ctx,
            nr::NEWFSTATAT,
            &[AT_FDCWD, SCRATCH, SCRATCH + 0x3000, 0]
        ),
        0
    );
    assert_eq!(
        u64_at(&get(&ctx, SCRATCH + 0x3000, 128), stat::SIZE_FIELD),
        10
    );
    assert_eq!(
        syscall(
            &ctx,
            nr::STATX,
            &[AT_FDCWD, SCRATCH, 0, 0x7ff, SCRATCH + 0x4000]
        ),
        0
    );
    assert_eq!(
        u64_at(&get(&ctx, SCRATCH + 0x4000, 256), 40),
        10,
        "stx_size"
    );
    assert_eq!(syscall(&ctx, nr::CLOSE, &[fd]), 0);
    // Errors map to the same errno numbers.
    put_str(&ctx, SCRATCH, dir.join("missing").to_str().unwrap());
    assert_eq!(
        syscall(&ctx, nr::OPENAT, &[AT_FDCWD, SCRATCH, 0, 0]),
        ENOENT
    );
    assert_eq!(
        syscall(&ctx, nr::OPENAT, &[AT_FDCWD, 0x7777_0000, 0, 0]),
        EFAULT
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn getdents64_lists_a_directory() {
    let ctx = process();
    let dir = common::temp_dir("dents");
    for name in ["alpha", "beta", "gamma"] {
        std::fs::write(dir.join(name), b"").unwrap();
    }
    put_str(&ctx, SCRATCH, dir.to_str().unwrap());
    let fd = syscall(&ctx, nr::OPENAT, &[AT_FDCWD, SCRATCH, 0o200000, 0]) as u64; // O_DIRECTORY
    let n = syscall(&ctx, nr::GETDENTS64, &[fd, SCRATCH + 0x1000, 4096]);
    assert!(n > 0);
    let buf = get(&ctx, SCRATCH + 0x1000, n as usize);
    let mut names = Vec::new();
    let mut at = 0;
    while at < buf.len() {
        let reclen = u16::from_le_bytes([buf[at + 16], buf[at + 17]]) as usize;
        let name = &buf[at + 19..at + reclen];
        names.push(
            String::from_utf8_lossy(&name[..name.iter().position(|&b| b == 0).unwrap()])
                .into_owned(),
        );
        at += reclen;
    }
    names.sort();
    assert_eq!(names, [".", "..", "alpha", "beta", "gamma"]);
    syscall(&ctx, nr::CLOSE, &[fd]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn proc_self_exe_names_the_guest_program() {
    let ctx = process();
    put_str(&ctx, SCRATCH, "/proc/self/exe");
    assert_eq!(
        syscall(
            &ctx,
            nr::READLINKAT,
            &[AT_FDCWD, SCRATCH, SCRATCH + 0x100, 4096]
        ),
        11
    );
    assert_eq!(get(&ctx, SCRATCH + 0x100, 11), b"/guest/prog");
    // Truncated to the buffer size, without a NUL (as Linux).
    assert_eq!(
        syscall(
            &ctx,
            nr::READLINKAT,
            &[AT_FDCWD, SCRATCH, SCRATCH + 0x200, 4]
        ),
        4
    );
    assert_eq!(get(&ctx, SCRATCH + 0x200, 4), b"/gue");
    // getcwd returns the length including the NUL.
    let cwd = std::env::current_dir().unwrap();
    let n = syscall(&ctx, nr::GETCWD, &[SCRATCH + 0x300, 4096]);
    assert_eq!(n as usize, cwd.as_os_str().len() + 1);
}

#[test]
fn clocks_random_uname_and_ids() {
    let ctx = process();
    assert_eq!(syscall(&ctx, nr::CLOCK_GETTIME, &[1, SCRATCH]), 0);
    assert_eq!(syscall(&ctx, nr::CLOCK_GETTIME, &[1, SCRATCH + 16]), 0);
    let t = get(&ctx, SCRATCH, 32);
    let (a, b) = (
        (u64_at(&t, 0), u64_at(&t, 8)),
        (u64_at(&t, 16), u64_at(&t, 24)),
    );
    assert!(b >= a, "monotonic: {a:?} then {b:?}");
    assert!(a.1 < 1_000_000_000);
    assert_eq!(syscall(&ctx, nr::CLOCK_GETTIME, &[1, 0x7777_0000]), EFAULT);
    assert_eq!(syscall(&ctx, nr::CLOCK_GETTIME, &[999, SCRATCH]), EINVAL);

    assert_eq!(syscall(&ctx, nr::GETRANDOM, &[SCRATCH + 0x100, 64, 0]), 64);
    assert!(get(&ctx, SCRATCH + 0x100, 64).iter().any(|&b| b != 0));

    assert_eq!(syscall(&ctx, nr::UNAME, &[SCRATCH + 0x200]), 0);
    let uts = get(&ctx, SCRATCH + 0x200, 390);
    assert_eq!(&uts[260..268], b"riscv64\0");
    assert_eq!(&uts[0..6], b"Linux\0");

    assert_eq!(syscall(&ctx, nr::GETPID, &[]) as u32, std::process::id());
    assert_eq!(syscall(&ctx, nr::GETTID, &[]) as u32, std::process::id());

    // RLIMIT_STACK reports the guest stack size.
    assert_eq!(syscall(&ctx, nr::PRLIMIT64, &[0, 3, 0, SCRATCH + 0x400]), 0);
    let lim = get(&ctx, SCRATCH + 0x400, 16);
    assert_eq!(u64_at(&lim, 0), (8 << 20u64).min(u64_at(&lim, 8)));
}

#[test]
fn memory_calls_brk_mmap_mprotect_munmap_mremap_madvise() {
    let ctx = process();
    let brk0 = syscall(&ctx, nr::BRK, &[0]) as u64;
    assert_eq!(brk0, 0x100_0000);
    assert_eq!(
        syscall(&ctx, nr::BRK, &[brk0 + 0x1800]) as u64,
        brk0 + 0x1800
    );
    ctx.process.mem.write_u64(brk0 + 0x1000, 1).unwrap();

    // Anonymous private mapping, read-write.
    let a = syscall(&ctx, nr::MMAP, &[0, 3 * PAGE_SIZE, 3, 0x22, u64::MAX, 0]);
    assert!(
        a > 0 && (a as u64).is_multiple_of(PAGE_SIZE),
        "mmap: {a:#x}"
    );
    let a = a as u64;
    ctx.process.mem.write_u64(a + 8, 77).unwrap();
    assert_eq!(syscall(&ctx, nr::MADVISE, &[a, PAGE_SIZE, 4]), 0);
    assert_eq!(
        ctx.process.mem.read_u64(a + 8).unwrap(),
        0,
        "DONTNEED zeroes"
    );
    assert_eq!(syscall(&ctx, nr::MPROTECT, &[a, PAGE_SIZE, 1]), 0);
    assert_eq!(ctx.process.mem.map().find(a).unwrap().prot, prot::READ);
    assert_eq!(syscall(&ctx, nr::MUNMAP, &[a, PAGE_SIZE]), 0);
    assert!(ctx.process.mem.map().find(a).is_none());
    let moved = syscall(
        &ctx,
        nr::MREMAP,
        &[a + PAGE_SIZE, 2 * PAGE_SIZE, 64 * PAGE_SIZE, 1, 0],
    );
    assert!(moved > 0, "mremap: {moved}");
    assert_eq!(
        syscall(&ctx, nr::MMAP, &[0, 0, 3, 0x22, u64::MAX, 0]),
        EINVAL
    );

    // File-backed private mapping reads the file.
    let dir = common::temp_dir("mmap");
    let file = dir.join("f");
    std::fs::write(&file, b"file contents").unwrap();
    put_str(&ctx, SCRATCH, file.to_str().unwrap());
    let fd = syscall(&ctx, nr::OPENAT, &[AT_FDCWD, SCRATCH, 0, 0]) as u64;
    let m = syscall(&ctx, nr::MMAP, &[0, 8192, 1, 2, fd, 0]) as u64;
    assert_eq!(get(&ctx, m, 13), b"file contents");
    assert_eq!(get(&ctx, m + 13, 3), [0, 0, 0]);
    assert_eq!(
        ctx.process.mem.map().find(m).unwrap().name,
        file.to_str().unwrap()
    );
    // MAP_FIXED at a chosen address.
    let fixed = syscall(
        &ctx,
        nr::MMAP,
        &[0x5000_0000, PAGE_SIZE, 3, 0x32, u64::MAX, 0],
    );
    assert_eq!(fixed, 0x5000_0000);
    syscall(&ctx, nr::CLOSE, &[fd]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn file_mappings_are_coherent_with_the_file_like_linux() {
    const SHARED: u64 = 1;
    const PRIVATE: u64 = 2;
    const RW: u64 = 3;
    let ctx = process();
    let dir = common::temp_dir("filemap");
    let file = dir.join("mapped.bin");
    std::fs::write(&file, vec![0u8; 2 * PAGE_SIZE as usize]).unwrap();
    put_str(&ctx, SCRATCH, file.to_str().unwrap());
    let fd = syscall(&ctx, nr::OPENAT, &[AT_FDCWD, SCRATCH, 2, 0]) as u64;
    let map = |kind| syscall(&ctx, nr::MMAP, &[0, 2 * PAGE_SIZE, RW, kind, fd, 0]) as u64;
    let pv = map(PRIVATE);
    assert!(!ctx.state.is_parallel(), "a private mapping shares nothing");
    let sh = map(SHARED);
    assert!(
        ctx.state.is_parallel(),
        "another process may run atomics on a shared mapping: so must the guest"
    );
    let mem = &ctx.process.mem;
    mem.write(sh + 10, b"shared").unwrap();
    assert_eq!(
        get(&ctx, pv + 10, 6),
        b"shared",
        "an untouched private page shows writes through the shared mapping"
    );
    mem.write(pv + 100, b"private").unwrap();
    let on_disk = std::fs::read(&file).unwrap();
    assert_eq!(&on_disk[10..16], b"shared", "shared writes reach the file");
    assert_eq!(&on_disk[100..107], [0; 7], "private writes do not");
    use std::os::unix::fs::FileExt;
    let host = std::fs::OpenOptions::new().write(true).open(&file).unwrap();
    host.write_all_at(b"viafile", PAGE_SIZE + 1).unwrap();
    assert_eq!(get(&ctx, sh + PAGE_SIZE + 1, 7), b"viafile");
    assert_eq!(get(&ctx, pv + PAGE_SIZE + 1, 7), b"viafile");
    mem.write(sh + 20, b"later").unwrap();
    assert_eq!(
        get(&ctx, pv + 20, 5),
        [0; 5],
        "copied on write: private now"
    );
    assert_eq!(
        syscall(&ctx, nr::MMAP, &[0, PAGE_SIZE, RW, SHARED, u64::MAX, 0]),
        -9,
        "EBADF: a file mapping without a file"
    );
    syscall(&ctx, nr::CLOSE, &[fd]);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn signal_dispositions_and_masks_round_trip() {
    let ctx = process();
    // struct sigaction (riscv64): handler, flags, mask.
    let act: Vec<u8> = [0x1234u64, 0x1000_0004, 1 << 9]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    ctx.process.mem.write(SCRATCH, &act).unwrap();
    assert_eq!(syscall(&ctx, nr::RT_SIGACTION, &[10, SCRATCH, 0, 8]), 0);
    assert_eq!(
        syscall(&ctx, nr::RT_SIGACTION, &[10, 0, SCRATCH + 0x100, 8]),
        0
    );
    assert_eq!(get(&ctx, SCRATCH + 0x100, 24), act);
    assert_eq!(
        syscall(&ctx, nr::RT_SIGACTION, &[9, SCRATCH, 0, 8]),
        EINVAL,
        "SIGKILL"
    );
    assert_eq!(
        syscall(&ctx, nr::RT_SIGACTION, &[10, SCRATCH, 0, 16]),
        EINVAL,
        "sigsetsize"
    );
    // Block SIGUSR2 (12) and read the mask back.
    ctx.process.mem.write_u64(SCRATCH + 0x200, 1 << 11).unwrap();
    assert_eq!(
        syscall(
            &ctx,
            nr::RT_SIGPROCMASK,
            &[0, SCRATCH + 0x200, SCRATCH + 0x208, 8]
        ),
        0
    );
    assert_eq!(ctx.process.mem.read_u64(SCRATCH + 0x208).unwrap(), 0);
    assert_eq!(
        syscall(&ctx, nr::RT_SIGPROCMASK, &[0, 0, SCRATCH + 0x208, 8]),
        0
    );
    assert_eq!(ctx.process.mem.read_u64(SCRATCH + 0x208).unwrap(), 1 << 11);
}

#[test]
fn unsupported_syscalls_return_enosys_and_are_reported_once() {
    let ctx = process();
    // 1 is io_destroy: not implemented.
    assert_eq!(syscall(&ctx, 1, &[]), ENOSYS);
    let msg = vmtrans_runtime::syscall::unsupported_message(&ctx, 1);
    assert_eq!(
        msg,
        "vmtrans: unsupported syscall 1 (io_destroy) \u{2014} returning ENOSYS"
    );
    assert!(
        !ctx.process.report_once(msg),
        "already reported by the call above"
    );
    assert_eq!(
        vmtrans_runtime::syscall::unsupported_message(&ctx, 9999),
        "vmtrans: unsupported syscall 9999 (unknown) \u{2014} returning ENOSYS"
    );
    assert!(ctx.stop_reason().is_none());
}

#[test]
fn strict_mode_stops_at_an_unsupported_syscall() {
    let ctx = process_with(
        Arc::new(NoCode),
        RunOptions {
            strict: true,
            ..Default::default()
        },
    );
    syscall(&ctx, 1, &[]);
    assert_eq!(
        ctx.stop_reason(),
        Some(Stop::ExitProcess(
            vmtrans_runtime::syscall::STRICT_EXIT_STATUS
        ))
    );
}

#[test]
fn exit_group_stops_the_thread_with_the_status() {
    let ctx = process();
    syscall(&ctx, nr::EXIT_GROUP, &[0x1_2a]);
    assert_eq!(ctx.stop_reason(), Some(Stop::ExitProcess(0x2a)));
}

#[test]
fn errno_values_match_the_guest_abi() {
    use vmtrans_runtime::Errno;
    // asm-generic errno numbers are the x86_64 host's.
    for (host, guest) in [
        (libc::ENOENT, 2),
        (libc::EAGAIN, 11),
        (libc::EFAULT, 14),
        (libc::ENOSYS, 38),
        (libc::ETIMEDOUT, 110),
    ] {
        assert_eq!(Errno::from_host(host), Errno(guest));
    }
    assert_eq!(Errno::ENOENT.to_return() as i64, -2);
}

#[test]
fn proc_self_maps_lists_guest_regions() {
    let ctx = process();
    put_str(&ctx, SCRATCH, "/proc/self/maps");
    let fd = syscall(&ctx, nr::OPENAT, &[AT_FDCWD, SCRATCH, 0o2000000, 0]);
    assert!(fd >= 0, "{fd}");
    let n = syscall(&ctx, nr::READ, &[fd as u64, SCRATCH + 0x1000, 4096]);
    let text = String::from_utf8(get(&ctx, SCRATCH + 0x1000, n as usize)).unwrap();
    let prefix = "00100000-00200000 rw-p 00000000 00:00 0";
    // As Linux: the name starts at column 73.
    let expected = format!("{prefix}{}scratch\n", " ".repeat(73 - prefix.len()));
    assert_eq!(text, expected);
    syscall(&ctx, nr::CLOSE, &[fd as u64]);
}
