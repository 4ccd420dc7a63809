//! The runtime's error type and the guest errno value.

use std::io;

/// Where a failed reservation was asked for, for its message.
fn reserve_place(at: Option<u64>) -> String {
    match at {
        Some(a) => format!(
            " at host address {a:#x} (guest addresses are host addresses; \
             the host process must have nothing mapped below 2^40 and \
             vm.mmap_min_addr must be at most {a:#x})"
        ),
        None => String::new(),
    }
}

/// Everything that can go wrong while setting up or running a guest, outside
/// of the guest-visible errors of system calls (those are [`Errno`]).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The host refused to reserve the guest address space.
    #[error("cannot reserve {size:#x} bytes of host address space for guest memory{}: {source}", reserve_place(*at))]
    Reserve {
        /// Bytes asked for.
        size: u64,
        /// The fixed host address asked for, if any.
        at: Option<u64>,
        /// The host error.
        source: io::Error,
    },
    /// A host memory operation on guest pages failed.
    #[error("host {op} of guest range {addr:#x}..{end:#x} failed: {errno}")]
    Memory {
        /// The operation (`mmap`, `mprotect`, ...).
        op: &'static str,
        /// First guest address.
        addr: u64,
        /// One past the last guest address.
        end: u64,
        /// The guest-visible error.
        errno: Errno,
    },
    /// The guest ELF file is malformed.
    #[error("{path}: malformed ELF: {reason}")]
    BadElf {
        /// The guest program path.
        path: String,
        /// What is wrong, with the offending value.
        reason: String,
    },
    /// The guest ELF file is valid but not something the runtime can run.
    #[error("{path}: unsupported ELF: {reason}")]
    UnsupportedElf {
        /// The guest program path.
        path: String,
        /// What is unsupported.
        reason: String,
    },
    /// The arguments and environment do not fit on the initial stack.
    #[error("arguments and environment need {needed} bytes, more than the {available}-byte stack")]
    StackTooSmall {
        /// Bytes needed.
        needed: u64,
        /// Stack size.
        available: u64,
    },
    /// The AOT artifact linked into this executable cannot be used.
    #[error("AOT artifact: {0}")]
    Artifact(String),
    /// The guest architecture has no runtime support yet.
    #[error("guest architecture {0} is not supported by the runtime yet")]
    UnsupportedArch(vmtrans_abi::Arch),
    /// A host thread could not be started.
    #[error("cannot start a host thread for the guest: {0}")]
    Thread(io::Error),
}

/// A Linux error number as the guest sees it (positive, e.g. `ENOENT` = 2).
///
/// x86_64 Linux and the asm-generic guests (riscv64, aarch64) share errno
/// numbers, so a host errno maps to the same guest number; [`Errno::from_host`]
/// is the one place that would translate if a guest ever differed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub i32);

impl Errno {
    /// Operation not permitted.
    pub const EPERM: Errno = Errno(libc::EPERM);
    /// No such file or directory.
    pub const ENOENT: Errno = Errno(libc::ENOENT);
    /// No such process.
    pub const ESRCH: Errno = Errno(libc::ESRCH);
    /// Interrupted system call.
    pub const EINTR: Errno = Errno(libc::EINTR);
    /// Bad file descriptor.
    pub const EBADF: Errno = Errno(libc::EBADF);
    /// Try again.
    pub const EAGAIN: Errno = Errno(libc::EAGAIN);
    /// Out of memory.
    pub const ENOMEM: Errno = Errno(libc::ENOMEM);
    /// Permission denied.
    pub const EACCES: Errno = Errno(libc::EACCES);
    /// Bad address.
    pub const EFAULT: Errno = Errno(libc::EFAULT);
    /// File exists.
    pub const EEXIST: Errno = Errno(libc::EEXIST);
    /// Invalid argument.
    pub const EINVAL: Errno = Errno(libc::EINVAL);
    /// Exec format error.
    pub const ENOEXEC: Errno = Errno(libc::ENOEXEC);
    /// Argument list too long.
    pub const E2BIG: Errno = Errno(libc::E2BIG);
    /// Not a typewriter (unsupported ioctl).
    pub const ENOTTY: Errno = Errno(libc::ENOTTY);
    /// Result out of range.
    pub const ERANGE: Errno = Errno(libc::ERANGE);
    /// No child processes.
    pub const ECHILD: Errno = Errno(libc::ECHILD);
    /// Is a directory.
    pub const EISDIR: Errno = Errno(libc::EISDIR);
    /// No such device.
    pub const ENODEV: Errno = Errno(libc::ENODEV);
    /// Function not implemented.
    pub const ENOSYS: Errno = Errno(libc::ENOSYS);
    /// Timed out.
    pub const ETIMEDOUT: Errno = Errno(libc::ETIMEDOUT);
    /// Name too long.
    pub const ENAMETOOLONG: Errno = Errno(libc::ENAMETOOLONG);

    /// The guest errno for host errno `host`.
    pub fn from_host(host: i32) -> Errno {
        Errno(host)
    }

    /// The guest errno for the calling thread's current host `errno`.
    pub fn last() -> Errno {
        Errno::from_host(
            io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO),
        )
    }

    /// The value a system call returns to the guest: `-errno`.
    pub fn to_return(self) -> u64 {
        (-(self.0 as i64)) as u64
    }
}

impl std::fmt::Display for Errno {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", io::Error::from_raw_os_error(self.0))
    }
}

/// Turns a host libc return value (`-1` with `errno` on failure) into a
/// guest result.
pub fn host_result(ret: i64) -> Result<u64, Errno> {
    if ret < 0 {
        Err(Errno::last())
    } else {
        Ok(ret as u64)
    }
}
