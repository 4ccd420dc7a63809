//! Pending signals and waiting for them.
//!
//! A thread's [`PendingSet`] is a bit mask (bit `n-1` for signal `n`), cheap
//! to test at every safe point, next to the siginfo each pending signal
//! will show. Signals do not queue: one posted while the same signal is
//! pending merges with it (Linux merges the standard signals 1..=31; it
//! queues real-time signals, which the runtime does not yet).
//!
//! Host signals forwarded to the guest are pending for the whole process
//! ([`FORWARDED`]). They are recorded by a host signal handler, so that set
//! uses atomics only.
//!
//! Every posting bumps one futex word ([`announce_arrival`]); threads that
//! wait for signals (`rt_sigsuspend`, `rt_sigtimedwait`) sleep on it with
//! [`wait_for_arrival`] and recheck their sets when it changes.

use super::bit;
use crate::arch::SigInfo;
use std::sync::atomic::{AtomicI32, AtomicU32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Size of `siginfo_t` (the same on every 64-bit Linux).
pub const SIGINFO_SIZE: usize = 128;

/// Offset of the second word of the `siginfo_t` union (`si_value` of
/// `sigqueue` and timers, `si_status` of SIGCHLD).
pub const SIGINFO_VALUE: usize = 24;

/// A signal on its way to a thread: what its `siginfo_t` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Queued {
    /// Number, code, and sender (or fault address).
    pub info: SigInfo,
    /// The union's second word (see [`SIGINFO_VALUE`]).
    pub value: u64,
}

impl Queued {
    /// Signal `sig` with `code`, sent by this process (`si_pid`, `si_uid`).
    pub fn from_self(sig: i32, code: i32) -> Queued {
        // SAFETY: getpid and getuid cannot fail.
        let (pid, uid) = unsafe { (libc::getpid(), libc::getuid()) };
        Queued {
            info: SigInfo {
                signo: sig,
                code,
                pid_or_addr: pid as u64,
                uid,
            },
            value: 0,
        }
    }

    /// A signal described by a guest or host `siginfo_t` (`si_signo` is
    /// replaced by `sig`, as the kernel does for `rt_sigqueueinfo`).
    pub fn from_siginfo(sig: i32, raw: &[u8; SIGINFO_SIZE]) -> Queued {
        let word = |at: usize| u64::from_le_bytes(raw[at..at + 8].try_into().expect("8 bytes"));
        Queued {
            info: SigInfo {
                signo: sig,
                code: i32::from_le_bytes(raw[8..12].try_into().expect("4 bytes")),
                pid_or_addr: word(16),
                uid: 0,
            },
            value: word(SIGINFO_VALUE),
        }
    }

    /// The guest `siginfo_t` (the generic 64-bit layout): number, code,
    /// `si_pid`/`si_addr` at 16 with `si_uid` at 20 when set, the value
    /// word at 24.
    pub fn to_siginfo(&self) -> [u8; SIGINFO_SIZE] {
        let mut b = [0u8; SIGINFO_SIZE];
        b[..4].copy_from_slice(&self.info.signo.to_le_bytes());
        b[8..12].copy_from_slice(&self.info.code.to_le_bytes());
        b[16..24].copy_from_slice(&self.info.pid_or_addr.to_le_bytes());
        if self.info.uid != 0 {
            b[20..24].copy_from_slice(&self.info.uid.to_le_bytes());
        }
        b[SIGINFO_VALUE..SIGINFO_VALUE + 8].copy_from_slice(&self.value.to_le_bytes());
        b
    }
}

/// The signals pending for one thread.
pub struct PendingSet {
    bits: AtomicU64,
    infos: Mutex<[Queued; 64]>,
}

impl PendingSet {
    /// An empty set.
    pub fn new() -> PendingSet {
        PendingSet {
            bits: AtomicU64::new(0),
            infos: Mutex::new([Queued::default(); 64]),
        }
    }

    /// The pending signals as a mask.
    pub fn bits(&self) -> u64 {
        self.bits.load(Ordering::Acquire)
    }

    /// Makes `q` pending unless its signal already is (then they merge),
    /// and wakes waiting threads.
    pub fn post(&self, q: Queued) {
        let b = bit(q.info.signo);
        {
            let mut infos = self.infos.lock().unwrap_or_else(|e| e.into_inner());
            if self.bits() & b == 0 {
                infos[(q.info.signo - 1) as usize] = q;
                self.bits.fetch_or(b, Ordering::AcqRel);
            }
        }
        announce_arrival();
    }

    /// Takes the lowest pending signal among `allowed`.
    pub fn take(&self, allowed: u64) -> Option<Queued> {
        if self.bits() & allowed == 0 {
            return None;
        }
        let infos = self.infos.lock().unwrap_or_else(|e| e.into_inner());
        let ready = self.bits() & allowed;
        if ready == 0 {
            return None;
        }
        let sig = ready.trailing_zeros() as i32 + 1;
        self.bits.fetch_and(!bit(sig), Ordering::AcqRel);
        Some(infos[(sig - 1) as usize])
    }
}

impl Default for PendingSet {
    fn default() -> Self {
        PendingSet::new()
    }
}

/// The siginfo words of one forwarded host signal.
struct Slot {
    code: AtomicI32,
    sender: AtomicU64,
    value: AtomicU64,
}

/// Host signals forwarded to the guest, pending for the whole process.
pub struct ForwardedSet {
    bits: AtomicU64,
    slots: [Slot; 64],
}

/// The process-wide set of forwarded host signals.
pub static FORWARDED: ForwardedSet = ForwardedSet {
    bits: AtomicU64::new(0),
    slots: [const {
        Slot {
            code: AtomicI32::new(0),
            sender: AtomicU64::new(0),
            value: AtomicU64::new(0),
        }
    }; 64],
};

impl ForwardedSet {
    /// The pending forwarded signals as a mask.
    pub fn bits(&self) -> u64 {
        self.bits.load(Ordering::Acquire)
    }

    /// Records host signal `sig` with its `siginfo_t` words (code, the
    /// sender word at 16, the value word at 24) and wakes waiting threads.
    /// Async-signal-safe: host signal handlers call it.
    pub fn record(&self, sig: i32, code: i32, sender: u64, value: u64) {
        if !(1..=64).contains(&sig) {
            return;
        }
        let slot = &self.slots[(sig - 1) as usize];
        slot.code.store(code, Ordering::Relaxed);
        slot.sender.store(sender, Ordering::Relaxed);
        slot.value.store(value, Ordering::Relaxed);
        self.bits.fetch_or(bit(sig), Ordering::AcqRel);
        announce_arrival();
    }

    /// Takes the lowest forwarded signal among `allowed`.
    pub fn take(&self, allowed: u64) -> Option<Queued> {
        let mut cur = self.bits();
        loop {
            let ready = cur & allowed;
            if ready == 0 {
                return None;
            }
            let sig = ready.trailing_zeros() as i32 + 1;
            let without = cur & !bit(sig);
            match self
                .bits
                .compare_exchange(cur, without, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return Some(self.slot_info(sig)),
                Err(now) => cur = now,
            }
        }
    }

    fn slot_info(&self, sig: i32) -> Queued {
        let slot = &self.slots[(sig - 1) as usize];
        Queued {
            info: SigInfo {
                signo: sig,
                code: slot.code.load(Ordering::Relaxed),
                pid_or_addr: slot.sender.load(Ordering::Relaxed),
                uid: 0,
            },
            value: slot.value.load(Ordering::Relaxed),
        }
    }
}

/// Bumped whenever a signal becomes pending anywhere in the process.
static ARRIVALS: AtomicU32 = AtomicU32::new(0);

/// The arrival count: read it before checking pending sets, then pass it
/// to [`wait_for_arrival`] so no arrival in between is missed.
pub fn arrivals() -> u32 {
    ARRIVALS.load(Ordering::Acquire)
}

/// Wakes every thread in [`wait_for_arrival`]. Async-signal-safe.
pub fn announce_arrival() {
    ARRIVALS.fetch_add(1, Ordering::AcqRel);
    // SAFETY: FUTEX_WAKE on a static word only wakes waiters.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            ARRIVALS.as_ptr(),
            libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
            i32::MAX,
        )
    };
}

/// Sleeps until a signal arrives after [`arrivals`] returned `seen`, until
/// `deadline`, or until a host signal interrupts the wait (callers recheck
/// their condition in a loop).
pub fn wait_for_arrival(seen: u32, deadline: Option<Instant>) {
    let timeout = deadline.map(|d| {
        let left = d.saturating_duration_since(Instant::now());
        libc::timespec {
            tv_sec: left.as_secs() as libc::time_t,
            tv_nsec: left.subsec_nanos() as libc::c_long,
        }
    });
    let timeout_ptr = timeout
        .as_ref()
        .map_or(std::ptr::null(), |t| t as *const libc::timespec);
    // SAFETY: FUTEX_WAIT on a static word with a valid (or null) relative
    // timeout; it returns at once if the word no longer equals `seen`.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            ARRIVALS.as_ptr(),
            libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
            seen,
            timeout_ptr,
        )
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signals_merge_and_come_out_lowest_first() {
        let set = PendingSet::new();
        set.post(Queued::from_self(12, -6));
        set.post(Queued::from_self(10, 0));
        let mut again = Queued::from_self(10, -1);
        again.value = 9;
        set.post(again);
        assert_eq!(set.bits(), bit(10) | bit(12));
        let first = set.take(!0).unwrap();
        assert_eq!((first.info.signo, first.info.code, first.value), (10, 0, 0));
        assert_eq!(set.take(!bit(12)), None, "blocked");
        assert_eq!(set.take(!0).unwrap().info.signo, 12);
        assert_eq!(set.bits(), 0);
    }

    #[test]
    fn siginfo_round_trips_through_the_guest_layout() {
        let q = Queued {
            info: SigInfo {
                signo: 10,
                code: -1,
                pid_or_addr: 0x0000_03e8_0000_1234,
                uid: 0,
            },
            value: 31337,
        };
        let raw = q.to_siginfo();
        assert_eq!(&raw[..4], &10i32.to_le_bytes());
        assert_eq!(&raw[16..20], &0x1234u32.to_le_bytes(), "si_pid");
        assert_eq!(&raw[20..24], &1000u32.to_le_bytes(), "si_uid");
        assert_eq!(Queued::from_siginfo(10, &raw), q);
    }

    #[test]
    fn waits_end_on_a_missed_arrival_and_at_the_deadline() {
        // (Other tests may announce arrivals too: only upper bounds hold.)
        let seen = arrivals();
        announce_arrival();
        let start = Instant::now();
        wait_for_arrival(seen, None);
        assert!(start.elapsed().as_secs() < 5, "the arrival was not missed");
        let deadline = Instant::now() + std::time::Duration::from_millis(20);
        wait_for_arrival(arrivals(), Some(deadline));
        assert!(start.elapsed().as_secs() < 5, "the deadline ends the wait");
    }
}
