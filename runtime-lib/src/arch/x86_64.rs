//! x86_64 Linux user ABI: its own system call numbers (with the legacy
//! calls glibc still makes, rewritten onto their `*at` forms), `syscall`
//! with the number in `rax` and arguments in `rdi rsi rdx r10 r8 r9`,
//! `arch_prctl` for the fs/gs bases, the x86_64 `struct stat` (the host's
//! own), `sigaction` with `sa_restorer`, and the `rt_sigframe` of
//! arch/x86/kernel/signal.c (pretcode, ucontext with the sigcontext
//! registers, the 512-byte fxsave area, siginfo). No vDSO is offered, so
//! glibc makes real system calls for the clocks.

use super::{
    resolve_regs, ArchCall, ArchOps, ArchRegs, FrameSetup, RegNames, SigAction, SigInfo, Sysno,
};
use crate::cpu::{required_reg, CpuState};
use crate::error::Errno;
use crate::mmu::GuestMemory;
use std::sync::OnceLock;
use vmtrans_abi::Arch;

/// ELF `e_machine` of x86-64.
pub const EM_X86_64: u16 = 62;

/// `AT_HWCAP` (CPUID.1:EDX) for what the lifter implements: FPU, TSC,
/// CX8, CMOV, FXSR, SSE, SSE2.
pub const HWCAP: u64 = 1 | 1 << 4 | 1 << 8 | 1 << 15 | 1 << 24 | 1 << 25 | 1 << 26;

/// Every x86_64 system call number with its name.
#[rustfmt::skip]
pub static NAMES: &[(u64, &str)] = &[
    (0, "read"), (1, "write"), (2, "open"), (3, "close"), (4, "stat"), (5, "fstat"), (6, "lstat"),
    (7, "poll"), (8, "lseek"), (9, "mmap"), (10, "mprotect"), (11, "munmap"), (12, "brk"),
    (13, "rt_sigaction"), (14, "rt_sigprocmask"), (15, "rt_sigreturn"), (16, "ioctl"),
    (17, "pread64"), (18, "pwrite64"), (19, "readv"), (20, "writev"), (21, "access"), (22, "pipe"),
    (23, "select"), (24, "sched_yield"), (25, "mremap"), (26, "msync"), (27, "mincore"),
    (28, "madvise"), (29, "shmget"), (30, "shmat"), (31, "shmctl"), (32, "dup"), (33, "dup2"),
    (34, "pause"), (35, "nanosleep"), (36, "getitimer"), (37, "alarm"), (38, "setitimer"),
    (39, "getpid"), (40, "sendfile"), (41, "socket"), (42, "connect"), (43, "accept"),
    (44, "sendto"), (45, "recvfrom"), (46, "sendmsg"), (47, "recvmsg"), (48, "shutdown"),
    (49, "bind"), (50, "listen"), (51, "getsockname"), (52, "getpeername"), (53, "socketpair"),
    (54, "setsockopt"), (55, "getsockopt"), (56, "clone"), (57, "fork"), (58, "vfork"),
    (59, "execve"), (60, "exit"), (61, "wait4"), (62, "kill"), (63, "uname"), (64, "semget"),
    (65, "semop"), (66, "semctl"), (67, "shmdt"), (68, "msgget"), (69, "msgsnd"), (70, "msgrcv"),
    (71, "msgctl"), (72, "fcntl"), (73, "flock"), (74, "fsync"), (75, "fdatasync"),
    (76, "truncate"), (77, "ftruncate"), (78, "getdents"), (79, "getcwd"), (80, "chdir"),
    (81, "fchdir"), (82, "rename"), (83, "mkdir"), (84, "rmdir"), (85, "creat"), (86, "link"),
    (87, "unlink"), (88, "symlink"), (89, "readlink"), (90, "chmod"), (91, "fchmod"),
    (92, "chown"), (93, "fchown"), (94, "lchown"), (95, "umask"), (96, "gettimeofday"),
    (97, "getrlimit"), (98, "getrusage"), (99, "sysinfo"), (100, "times"), (101, "ptrace"),
    (102, "getuid"), (103, "syslog"), (104, "getgid"), (105, "setuid"), (106, "setgid"),
    (107, "geteuid"), (108, "getegid"), (109, "setpgid"), (110, "getppid"), (111, "getpgrp"),
    (112, "setsid"), (113, "setreuid"), (114, "setregid"), (115, "getgroups"), (116, "setgroups"),
    (117, "setresuid"), (118, "getresuid"), (119, "setresgid"), (120, "getresgid"),
    (121, "getpgid"), (122, "setfsuid"), (123, "setfsgid"), (124, "getsid"), (125, "capget"),
    (126, "capset"), (127, "rt_sigpending"), (128, "rt_sigtimedwait"), (129, "rt_sigqueueinfo"),
    (130, "rt_sigsuspend"), (131, "sigaltstack"), (132, "utime"), (133, "mknod"), (134, "uselib"),
    (135, "personality"), (136, "ustat"), (137, "statfs"), (138, "fstatfs"), (139, "sysfs"),
    (140, "getpriority"), (141, "setpriority"), (142, "sched_setparam"), (143, "sched_getparam"),
    (144, "sched_setscheduler"), (145, "sched_getscheduler"), (146, "sched_get_priority_max"),
    (147, "sched_get_priority_min"), (148, "sched_rr_get_interval"), (149, "mlock"),
    (150, "munlock"), (151, "mlockall"), (152, "munlockall"), (153, "vhangup"),
    (154, "modify_ldt"), (155, "pivot_root"), (156, "_sysctl"), (157, "prctl"),
    (158, "arch_prctl"), (159, "adjtimex"), (160, "setrlimit"), (161, "chroot"), (162, "sync"),
    (163, "acct"), (164, "settimeofday"), (165, "mount"), (166, "umount2"), (167, "swapon"),
    (168, "swapoff"), (169, "reboot"), (170, "sethostname"), (171, "setdomainname"), (172, "iopl"),
    (173, "ioperm"), (174, "create_module"), (175, "init_module"), (176, "delete_module"),
    (177, "get_kernel_syms"), (178, "query_module"), (179, "quotactl"), (180, "nfsservctl"),
    (181, "getpmsg"), (182, "putpmsg"), (183, "afs_syscall"), (184, "tuxcall"), (185, "security"),
    (186, "gettid"), (187, "readahead"), (188, "setxattr"), (189, "lsetxattr"), (190, "fsetxattr"),
    (191, "getxattr"), (192, "lgetxattr"), (193, "fgetxattr"), (194, "listxattr"),
    (195, "llistxattr"), (196, "flistxattr"), (197, "removexattr"), (198, "lremovexattr"),
    (199, "fremovexattr"), (200, "tkill"), (201, "time"), (202, "futex"),
    (203, "sched_setaffinity"), (204, "sched_getaffinity"), (205, "set_thread_area"),
    (206, "io_setup"), (207, "io_destroy"), (208, "io_getevents"), (209, "io_submit"),
    (210, "io_cancel"), (211, "get_thread_area"), (212, "lookup_dcookie"), (213, "epoll_create"),
    (214, "epoll_ctl_old"), (215, "epoll_wait_old"), (216, "remap_file_pages"),
    (217, "getdents64"), (218, "set_tid_address"), (219, "restart_syscall"), (220, "semtimedop"),
    (221, "fadvise64"), (222, "timer_create"), (223, "timer_settime"), (224, "timer_gettime"),
    (225, "timer_getoverrun"), (226, "timer_delete"), (227, "clock_settime"),
    (228, "clock_gettime"), (229, "clock_getres"), (230, "clock_nanosleep"), (231, "exit_group"),
    (232, "epoll_wait"), (233, "epoll_ctl"), (234, "tgkill"), (235, "utimes"), (236, "vserver"),
    (237, "mbind"), (238, "set_mempolicy"), (239, "get_mempolicy"), (240, "mq_open"),
    (241, "mq_unlink"), (242, "mq_timedsend"), (243, "mq_timedreceive"), (244, "mq_notify"),
    (245, "mq_getsetattr"), (246, "kexec_load"), (247, "waitid"), (248, "add_key"),
    (249, "request_key"), (250, "keyctl"), (251, "ioprio_set"), (252, "ioprio_get"),
    (253, "inotify_init"), (254, "inotify_add_watch"), (255, "inotify_rm_watch"),
    (256, "migrate_pages"), (257, "openat"), (258, "mkdirat"), (259, "mknodat"), (260, "fchownat"),
    (261, "futimesat"), (262, "newfstatat"), (263, "unlinkat"), (264, "renameat"), (265, "linkat"),
    (266, "symlinkat"), (267, "readlinkat"), (268, "fchmodat"), (269, "faccessat"),
    (270, "pselect6"), (271, "ppoll"), (272, "unshare"), (273, "set_robust_list"),
    (274, "get_robust_list"), (275, "splice"), (276, "tee"), (277, "sync_file_range"),
    (278, "vmsplice"), (279, "move_pages"), (280, "utimensat"), (281, "epoll_pwait"),
    (282, "signalfd"), (283, "timerfd_create"), (284, "eventfd"), (285, "fallocate"),
    (286, "timerfd_settime"), (287, "timerfd_gettime"), (288, "accept4"), (289, "signalfd4"),
    (290, "eventfd2"), (291, "epoll_create1"), (292, "dup3"), (293, "pipe2"),
    (294, "inotify_init1"), (295, "preadv"), (296, "pwritev"), (297, "rt_tgsigqueueinfo"),
    (298, "perf_event_open"), (299, "recvmmsg"), (300, "fanotify_init"), (301, "fanotify_mark"),
    (302, "prlimit64"), (303, "name_to_handle_at"), (304, "open_by_handle_at"),
    (305, "clock_adjtime"), (306, "syncfs"), (307, "sendmmsg"), (308, "setns"), (309, "getcpu"),
    (310, "process_vm_readv"), (311, "process_vm_writev"), (312, "kcmp"), (313, "finit_module"),
    (314, "sched_setattr"), (315, "sched_getattr"), (316, "renameat2"), (317, "seccomp"),
    (318, "getrandom"), (319, "memfd_create"), (320, "kexec_file_load"), (321, "bpf"),
    (322, "execveat"), (323, "userfaultfd"), (324, "membarrier"), (325, "mlock2"),
    (326, "copy_file_range"), (327, "preadv2"), (328, "pwritev2"), (329, "pkey_mprotect"),
    (330, "pkey_alloc"), (331, "pkey_free"), (332, "statx"), (333, "io_pgetevents"), (334, "rseq"),
    (424, "pidfd_send_signal"), (425, "io_uring_setup"), (426, "io_uring_enter"),
    (427, "io_uring_register"), (428, "open_tree"), (429, "move_mount"), (430, "fsopen"),
    (431, "fsconfig"), (432, "fsmount"), (433, "fspick"), (434, "pidfd_open"), (435, "clone3"),
    (436, "close_range"), (437, "openat2"), (438, "pidfd_getfd"), (439, "faccessat2"),
    (440, "process_madvise"), (441, "epoll_pwait2"), (442, "mount_setattr"), (443, "quotactl_fd"),
    (444, "landlock_create_ruleset"), (445, "landlock_add_rule"), (446, "landlock_restrict_self"),
    (447, "memfd_secret"), (448, "process_mrelease"), (449, "futex_waitv"),
    (450, "set_mempolicy_home_node"),];

/// The name of x86_64 system call `nr`.
pub fn name(nr: u64) -> Option<&'static str> {
    NAMES
        .binary_search_by_key(&nr, |&(n, _)| n)
        .ok()
        .map(|i| NAMES[i].1)
}

/// `AT_FDCWD`.
const AT_FDCWD: u64 = -100i64 as u64;
/// `AT_SYMLINK_NOFOLLOW`.
const AT_SYMLINK_NOFOLLOW: u64 = 0x100;
/// `AT_REMOVEDIR`.
const AT_REMOVEDIR: u64 = 0x200;
/// `SIGCHLD`, the exit signal of `fork`.
const SIGCHLD: u64 = 17;

/// `arch_prctl` codes.
mod arch_prctl {
    pub const SET_GS: u64 = 0x1001;
    pub const SET_FS: u64 = 0x1002;
    pub const GET_FS: u64 = 0x1003;
    pub const GET_GS: u64 = 0x1004;
}

/// Byte offsets in the x86_64 `struct rt_sigframe`.
pub mod frame {
    /// `pretcode`: the return address of the handler.
    pub const PRETCODE: u64 = 0;
    /// `uc` (struct ucontext).
    pub const UC: u64 = 8;
    /// `uc.uc_flags`.
    pub const UC_FLAGS: u64 = UC;
    /// `uc.uc_stack` (ss_sp, ss_flags, ss_size).
    pub const UC_STACK: u64 = UC + 16;
    /// `uc.uc_mcontext` (struct sigcontext): r8..r15, rdi, rsi, rbp, rbx,
    /// rdx, rax, rcx, rsp, rip, eflags, cs/gs/fs/ss, err, trapno, oldmask,
    /// cr2, fpstate pointer, reserved.
    pub const MCONTEXT: u64 = UC + 40;
    /// `eflags` in the sigcontext.
    pub const EFLAGS: u64 = MCONTEXT + 17 * 8;
    /// `csgsfs` in the sigcontext.
    pub const CSGSFS: u64 = MCONTEXT + 18 * 8;
    /// `fpstate` pointer in the sigcontext.
    pub const FPSTATE_PTR: u64 = MCONTEXT + 24 * 8;
    /// `uc.uc_sigmask`.
    pub const UC_SIGMASK: u64 = MCONTEXT + 256;
    /// `info` (siginfo, 128 bytes).
    pub const INFO: u64 = UC_SIGMASK + 8;
    /// Size of the frame without the FP state.
    pub const SIZE: u64 = INFO + 128;
    /// Size of the fxsave area.
    pub const FXSAVE_SIZE: u64 = 512;
    /// `mxcsr` in the fxsave area.
    pub const FX_MXCSR: u64 = 24;
    /// `xmm0` in the fxsave area.
    pub const FX_XMM: u64 = 160;
}

/// Order of the general registers in the sigcontext (hardware numbers).
const SIGCONTEXT_GPRS: [usize; 16] = [8, 9, 10, 11, 12, 13, 14, 15, 7, 6, 5, 3, 2, 0, 1, 4];

/// `mov $15, %eax` (rt_sigreturn); `syscall`.
const TRAMPOLINE: [u8; 7] = [0xb8, 0x0f, 0x00, 0x00, 0x00, 0x0f, 0x05];

/// The x86_64 [`ArchOps`].
pub struct X86_64 {
    regs: ArchRegs,
    gpr: [usize; 16],
    xmm: [usize; 16],
    /// cf pf af zf sf of df with their RFLAGS bit positions.
    flags: [(usize, u32); 7],
    fs_base: usize,
    gs_base: usize,
    mxcsr: usize,
    fcw: usize,
}

/// The x86_64 operations (built once).
pub fn ops() -> &'static X86_64 {
    static OPS: OnceLock<X86_64> = OnceLock::new();
    OPS.get_or_init(X86_64::new)
}

impl X86_64 {
    fn new() -> X86_64 {
        let arch = Arch::X86_64;
        let regs = resolve_regs(
            arch,
            &RegNames {
                pc: "rip",
                sp: "rsp",
                link: None,
                thread_pointer: Some("fs_base"),
                syscall_nr: "rax",
                syscall_args: ["rdi", "rsi", "rdx", "r10", "r8", "r9"],
                syscall_ret: "rax",
            },
        );
        let names = arch.registers();
        let flag = |n: &str, bit: u32| (required_reg(arch, n), bit);
        X86_64 {
            regs,
            gpr: std::array::from_fn(|i| required_reg(arch, names[i].name)),
            xmm: std::array::from_fn(|i| required_reg(arch, &format!("xmm{i}"))),
            flags: [
                flag("cf", 0),
                flag("pf", 2),
                flag("af", 4),
                flag("zf", 6),
                flag("sf", 7),
                flag("df", 10),
                flag("of", 11),
            ],
            fs_base: required_reg(arch, "fs_base"),
            gs_base: required_reg(arch, "gs_base"),
            mxcsr: required_reg(arch, "mxcsr"),
            fcw: required_reg(arch, "fcw"),
        }
    }

    /// RFLAGS from the flag registers (reserved bit 1 and IF set).
    pub fn rflags(&self, state: &CpuState) -> u64 {
        self.flags
            .iter()
            .fold(0x202, |acc, &(r, bit)| acc | (state.reg(r) & 1) << bit)
    }

    /// Sets the flag registers from RFLAGS.
    pub fn set_rflags(&self, state: &CpuState, v: u64) {
        for &(r, bit) in &self.flags {
            state.set_reg(r, (v >> bit) & 1);
        }
    }

    /// The legacy call `nr` as its modern equivalent.
    fn legacy(&self, nr: u64, a: [u64; 6]) -> Option<ArchCall> {
        use Sysno::*;
        let as_ = |s, args: [u64; 6]| Some(ArchCall::As(s, args));
        match nr {
            2 => as_(Openat, [AT_FDCWD, a[0], a[1], a[2], 0, 0]),
            4 => as_(Newfstatat, [AT_FDCWD, a[0], a[1], 0, 0, 0]),
            6 => as_(
                Newfstatat,
                [AT_FDCWD, a[0], a[1], AT_SYMLINK_NOFOLLOW, 0, 0],
            ),
            21 => as_(Faccessat, [AT_FDCWD, a[0], a[1], 0, 0, 0]),
            22 => as_(Pipe2, [a[0], 0, 0, 0, 0, 0]),
            // dup2(fd, fd) returns fd when it is open.
            33 if a[0] == a[1] => Some(ArchCall::Done(fd_is_open(a[0]).map(|()| a[0]))),
            33 => as_(Dup3, [a[0], a[1], 0, 0, 0, 0]),
            57 | 58 => as_(Clone, [SIGCHLD, 0, 0, 0, 0, 0]),
            82 => as_(Renameat, [AT_FDCWD, a[0], AT_FDCWD, a[1], 0, 0]),
            83 => as_(Mkdirat, [AT_FDCWD, a[0], a[1], 0, 0, 0]),
            84 => as_(Unlinkat, [AT_FDCWD, a[0], AT_REMOVEDIR, 0, 0, 0]),
            86 => as_(Linkat, [AT_FDCWD, a[0], AT_FDCWD, a[1], 0, 0]),
            87 => as_(Unlinkat, [AT_FDCWD, a[0], 0, 0, 0, 0]),
            88 => as_(Symlinkat, [a[0], AT_FDCWD, a[1], 0, 0, 0]),
            89 => as_(Readlinkat, [AT_FDCWD, a[0], a[1], a[2], 0, 0]),
            90 => as_(Fchmodat, [AT_FDCWD, a[0], a[1], 0, 0, 0]),
            92 => as_(Fchownat, [AT_FDCWD, a[0], a[1], a[2], 0, 0]),
            94 => as_(
                Fchownat,
                [AT_FDCWD, a[0], a[1], a[2], AT_SYMLINK_NOFOLLOW, 0],
            ),
            // x86_64 clone(flags, stack, parent_tid, child_tid, tls).
            56 => as_(Clone, [a[0], a[1], a[2], a[4], a[3], a[5]]),
            _ => None,
        }
    }

    /// `arch_prctl(code, addr)`.
    fn arch_prctl(&self, mem: &GuestMemory, state: &CpuState, code: u64, addr: u64) -> ArchCall {
        ArchCall::Done(match code {
            arch_prctl::SET_FS => {
                state.set_reg(self.fs_base, addr);
                Ok(0)
            }
            arch_prctl::SET_GS => {
                state.set_reg(self.gs_base, addr);
                Ok(0)
            }
            arch_prctl::GET_FS => mem.write_u64(addr, state.reg(self.fs_base)).map(|()| 0),
            arch_prctl::GET_GS => mem.write_u64(addr, state.reg(self.gs_base)).map(|()| 0),
            _ => Err(Errno::EINVAL),
        })
    }
}

/// `time(tloc)`: seconds since the epoch, also stored at `tloc` when it
/// is not null.
fn time(mem: &GuestMemory, tloc: u64) -> Result<u64, Errno> {
    // SAFETY: time(NULL) has no preconditions.
    let now = unsafe { libc::time(std::ptr::null_mut()) } as u64;
    if tloc != 0 {
        mem.write_u64(tloc, now)?;
    }
    Ok(now)
}

/// `poll(fds, nfds, timeout_ms)` (busybox `sh`'s `read` builtin uses it):
/// the host's, on the host address of the guest's `struct pollfd` array
/// (the same layout).
fn poll(mem: &GuestMemory, fds: u64, nfds: u64, timeout_ms: u64) -> Result<u64, Errno> {
    let ptr = if nfds == 0 {
        std::ptr::null_mut()
    } else {
        mem.host_ptr(fds, nfds.saturating_mul(8))?
    };
    // SAFETY: `ptr` covers `nfds` pollfd entries of guest memory (or is
    // NULL for none).
    let r = unsafe { libc::poll(ptr.cast(), nfds as libc::nfds_t, timeout_ms as i32) };
    crate::error::host_result(i64::from(r))
}

/// Ok when host file descriptor `fd` is open.
fn fd_is_open(fd: u64) -> Result<(), Errno> {
    // SAFETY: F_GETFD on any integer is harmless.
    let r = unsafe { libc::fcntl(fd as i32, libc::F_GETFD) };
    if r < 0 {
        Err(Errno::EBADF)
    } else {
        Ok(())
    }
}

fn put(buf: &mut [u8], at: u64, bytes: &[u8]) {
    let at = at as usize;
    buf[at..at + bytes.len()].copy_from_slice(bytes);
}

fn get64(buf: &[u8], at: u64) -> u64 {
    let at = at as usize;
    u64::from_le_bytes(buf[at..at + 8].try_into().expect("8 bytes"))
}

impl ArchOps for X86_64 {
    fn arch(&self) -> Arch {
        Arch::X86_64
    }

    fn elf_machine(&self) -> u16 {
        EM_X86_64
    }

    fn uname_machine(&self) -> &'static str {
        "x86_64"
    }

    fn regs(&self) -> &ArchRegs {
        &self.regs
    }

    fn sysno(&self, nr: u64) -> Option<Sysno> {
        let n = name(nr)?;
        Sysno::ALL.iter().copied().find(|s| s.name() == n)
    }

    fn syscall_name(&self, nr: u64) -> Option<&'static str> {
        name(nr)
    }

    fn hwcap(&self) -> u64 {
        HWCAP
    }

    fn platform(&self) -> Option<&'static str> {
        Some("x86_64")
    }

    // The field types differ between hosts; on x86_64 some casts are no-ops.
    #[allow(clippy::unnecessary_cast)]
    fn stat_bytes(&self, st: &libc::stat) -> Vec<u8> {
        // The x86_64 kernel `struct stat` (144 bytes), field by field, so
        // it is right whatever the host's own layout is.
        let mut b = Vec::with_capacity(144);
        let mut put = |v: u64, n: usize| b.extend_from_slice(&v.to_le_bytes()[..n]);
        put(st.st_dev as u64, 8);
        put(st.st_ino as u64, 8);
        put(st.st_nlink as u64, 8);
        put(u64::from(st.st_mode), 4);
        put(u64::from(st.st_uid), 4);
        put(u64::from(st.st_gid), 4);
        put(0, 4);
        put(st.st_rdev as u64, 8);
        put(st.st_size as u64, 8);
        put(st.st_blksize as u64, 8);
        put(st.st_blocks as u64, 8);
        put(st.st_atime as u64, 8);
        put(st.st_atime_nsec as u64, 8);
        put(st.st_mtime as u64, 8);
        put(st.st_mtime_nsec as u64, 8);
        put(st.st_ctime as u64, 8);
        put(st.st_ctime_nsec as u64, 8);
        put(0, 8);
        put(0, 8);
        put(0, 8);
        b
    }

    fn open_flags_to_host(&self, flags: u64) -> i32 {
        flags as i32
    }

    fn open_flags_from_host(&self, flags: i32) -> u64 {
        flags as u32 as u64
    }

    fn sigaction_size(&self) -> usize {
        // handler, flags, restorer, mask.
        32
    }

    fn decode_sigaction(&self, b: &[u8]) -> SigAction {
        SigAction::from_words(b, true)
    }

    fn encode_sigaction(&self, act: &SigAction) -> Vec<u8> {
        act.to_words(true)
    }

    fn sigreturn_trampoline(&self) -> &'static [u8] {
        &TRAMPOLINE
    }

    fn push_signal_frame(
        &self,
        mem: &GuestMemory,
        state: &CpuState,
        act: &SigAction,
        info: &SigInfo,
        setup: &FrameSetup,
    ) -> Result<(), Errno> {
        // Below the red zone: the fxsave area (64-aligned), then the frame,
        // placed so the handler starts as after a call (rsp + 8 aligned).
        let fp = (setup.sp - 128 - frame::FXSAVE_SIZE) & !63;
        let at = ((fp - frame::SIZE) & !15) - 8;
        let mut f = vec![0u8; frame::SIZE as usize];
        let mut put64 = |off: u64, v: u64| put(&mut f, off, &v.to_le_bytes());
        put64(frame::PRETCODE, setup.trampoline);
        put64(frame::UC_FLAGS, 0);
        put64(frame::UC_STACK, setup.altstack.0);
        put64(frame::UC_STACK + 8, setup.altstack.1 as u32 as u64);
        put64(frame::UC_STACK + 16, setup.altstack.2);
        for (i, &n) in SIGCONTEXT_GPRS.iter().enumerate() {
            put64(frame::MCONTEXT + 8 * i as u64, state.reg(self.gpr[n]));
        }
        put64(frame::MCONTEXT + 16 * 8, state.reg(self.regs.pc));
        put64(frame::EFLAGS, self.rflags(state));
        put64(frame::CSGSFS, 0x33);
        put64(frame::FPSTATE_PTR, fp);
        put64(frame::UC_SIGMASK, setup.saved_mask);
        put64(frame::INFO, info.signo as u32 as u64);
        put64(frame::INFO + 8, info.code as u32 as u64);
        put64(frame::INFO + 16, info.pid_or_addr);
        if info.uid != 0 {
            put(&mut f, frame::INFO + 20, &info.uid.to_le_bytes());
        }
        let mut fx = vec![0u8; frame::FXSAVE_SIZE as usize];
        put(&mut fx, 0, &0x37fu16.to_le_bytes());
        put(
            &mut fx,
            frame::FX_MXCSR,
            &(state.reg(self.mxcsr) as u32).to_le_bytes(),
        );
        put(&mut fx, frame::FX_MXCSR + 4, &0xffffu32.to_le_bytes());
        for (i, &x) in self.xmm.iter().enumerate() {
            put(
                &mut fx,
                frame::FX_XMM + 16 * i as u64,
                &state.reg_u128(x).to_le_bytes(),
            );
        }
        mem.write(fp, &fx)?;
        mem.write(at, &f)?;
        state.set_reg(self.regs.sp, at);
        state.set_reg(self.gpr[7], info.signo as u64);
        state.set_reg(self.gpr[6], at + frame::INFO);
        state.set_reg(self.gpr[2], at + frame::UC);
        state.set_reg(self.gpr[0], 0);
        state.set_reg(self.flags[5].0, 0);
        state.set_reg(self.regs.pc, act.handler);
        Ok(())
    }

    fn pop_signal_frame(&self, mem: &GuestMemory, state: &CpuState) -> Result<u64, Errno> {
        // The handler's `ret` popped pretcode: rsp points at the ucontext.
        let at = state.reg(self.regs.sp) - frame::UC;
        let mut f = vec![0u8; frame::SIZE as usize];
        mem.read(at, &mut f)?;
        for (i, &n) in SIGCONTEXT_GPRS.iter().enumerate() {
            state.set_reg(self.gpr[n], get64(&f, frame::MCONTEXT + 8 * i as u64));
        }
        state.set_reg(self.regs.pc, get64(&f, frame::MCONTEXT + 16 * 8));
        self.set_rflags(state, get64(&f, frame::EFLAGS));
        let fp = get64(&f, frame::FPSTATE_PTR);
        if fp != 0 {
            let mut fx = vec![0u8; frame::FXSAVE_SIZE as usize];
            mem.read(fp, &mut fx)?;
            let mx = get64(&fx, frame::FX_MXCSR) & 0xffff_ffff;
            state.set_reg(self.mxcsr, mx);
            for (i, &x) in self.xmm.iter().enumerate() {
                let o = (frame::FX_XMM + 16 * i as u64) as usize;
                let v = u128::from_le_bytes(fx[o..o + 16].try_into().expect("16 bytes"));
                state.set_reg_u128(x, v);
            }
        }
        Ok(get64(&f, frame::UC_SIGMASK))
    }

    fn accrue_fp_flags(&self, state: &CpuState, mxcsr: u32) {
        // The guest's MXCSR has the same exception flag bits as the host's.
        let flags = u64::from(mxcsr & 0x3f);
        if flags != 0 {
            state.set_reg(self.mxcsr, state.reg(self.mxcsr) | flags);
        }
    }

    fn init_registers(&self, state: &CpuState) {
        state.set_reg(self.mxcsr, 0x1f80);
        state.set_reg(self.fcw, 0x37f);
    }

    fn arch_syscall(
        &self,
        mem: &GuestMemory,
        state: &CpuState,
        nr: u64,
        args: [u64; 6],
    ) -> Option<ArchCall> {
        match nr {
            158 => Some(self.arch_prctl(mem, state, args[0], args[1])),
            201 => Some(ArchCall::Done(time(mem, args[0]))),
            // alarm(secs): the host timer; its SIGALRM reaches the guest
            // like any host signal the guest handles.
            // SAFETY: alarm has no preconditions.
            37 => Some(ArchCall::Done(Ok(u64::from(unsafe {
                libc::alarm(args[0] as u32)
            })))),
            // pause(): sleep until a signal, as ppoll with nothing to wait on.
            34 => Some(ArchCall::As(Sysno::Ppoll, [0; 6])),
            7 => Some(ArchCall::Done(poll(mem, args[0], args[1], args[2]))),
            _ => self.legacy(nr, args),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sorted_and_cover_the_basics() {
        assert!(NAMES.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(name(0), Some("read"));
        assert_eq!(name(60), Some("exit"));
        assert_eq!(name(158), Some("arch_prctl"));
        assert_eq!(name(231), Some("exit_group"));
        assert_eq!(ops().sysno(1), Some(Sysno::Write));
        assert_eq!(ops().sysno(257), Some(Sysno::Openat));
    }

    #[test]
    fn frame_layout_matches_the_kernel() {
        assert_eq!(frame::MCONTEXT - frame::UC, 40);
        assert_eq!(frame::UC_SIGMASK - frame::UC, 296);
        assert_eq!(frame::INFO, 312);
    }

    #[test]
    fn legacy_poll_reports_a_readable_pipe() {
        use crate::mmu::prot;
        let mem = GuestMemory::reserve().unwrap();
        let at = 0x10000;
        mem.map_fixed(at, 0x1000, prot::READ | prot::WRITE, "test")
            .unwrap();
        let mut fds = [0i32; 2];
        // SAFETY: pipe writes two descriptors into `fds`.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // struct pollfd { int fd; short events; short revents; }
        let pollfd = |fd: i32| [fd.to_le_bytes(), [1, 0, 0, 0]].concat();
        mem.write(at, &pollfd(fds[0])).unwrap();
        let call = |mem: &GuestMemory| match ops().arch_syscall(
            mem,
            &CpuState::new(Arch::X86_64),
            7,
            [at, 1, 0, 0, 0, 0],
        ) {
            Some(ArchCall::Done(r)) => r,
            _ => panic!("poll is handled by the x86_64 ABI"),
        };
        assert_eq!(call(&mem), Ok(0), "nothing to read yet");
        // SAFETY: writes one byte from a live buffer.
        assert_eq!(unsafe { libc::write(fds[1], b"x".as_ptr().cast(), 1) }, 1);
        assert_eq!(call(&mem), Ok(1));
        let mut back = [0u8; 8];
        mem.read(at, &mut back).unwrap();
        assert_eq!(back[6] & 1, 1, "revents has POLLIN");
        // SAFETY: closes the descriptors made above.
        assert_eq!(unsafe { libc::close(fds[0]) | libc::close(fds[1]) }, 0);
    }

    #[test]
    fn rflags_round_trip() {
        let s = CpuState::new(Arch::X86_64);
        ops().set_rflags(&s, 0x8c5);
        assert_eq!(ops().rflags(&s), 0x8c5 | 0x202);
    }
}

#[cfg(all(test, target_arch = "x86_64"))]
mod stat_tests {
    use super::*;

    #[test]
    fn stat_bytes_are_the_host_struct_on_an_x86_64_host() {
        // SAFETY: a zeroed stat is valid; fstat fills it for an open file.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        let f = std::fs::File::open("/proc/self/exe").unwrap();
        use std::os::fd::AsRawFd;
        assert_eq!(unsafe { libc::fstat(f.as_raw_fd(), &mut st) }, 0);
        let host =
            unsafe { std::slice::from_raw_parts((&st as *const libc::stat).cast::<u8>(), 144) };
        assert_eq!(ops().stat_bytes(&st), host);
    }
}
