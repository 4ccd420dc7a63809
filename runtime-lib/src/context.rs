//! The process and per-thread runtime contexts.
//!
//! A [`Process`] is shared by all guest threads: guest memory and its map,
//! signal dispositions, the code provider, options. Host file descriptors
//! are the guest's (the fd table is the host's, shared like Linux threads
//! share theirs). A [`ThreadContext`] belongs to one guest thread, which is
//! one host thread: its CPU state, signal mask, pending signals and
//! translation cache. The CPU state header's `RUNTIME` field points at the
//! thread's context, so helpers called from generated code find it from
//! the state pointer alone.

use crate::arch::{ArchOps, SigAction};
use crate::cpu::CpuState;
use crate::dispatch::{CodeCache, CodeProvider};
use crate::mmu::GuestMemory;
use crate::signals::queue::PendingSet;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use vmtrans_abi::{header, Arch, GuestBase};

/// Runtime options (set by the CLI or the AOT entry).
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Stop the guest at the first unsupported system call instead of
    /// returning `ENOSYS`.
    pub strict: bool,
    /// Guest main-thread stack size in bytes.
    pub stack_size: u64,
    /// Load address of static-PIE (`ET_DYN`) images.
    pub pie_base: u64,
    /// Print every system call and its result on stderr (like `strace`).
    pub trace_syscalls: bool,
    /// Host stack reserved for the main guest thread: guest call depth maps
    /// to host call depth, so it must be large.
    pub host_stack_size: usize,
    /// Host stack reserved for each further guest thread.
    pub thread_host_stack_size: usize,
    /// What `/proc/self/exe` names (default: the guest path made absolute).
    pub exe_path: Option<PathBuf>,
    /// The host command that runs another guest program when the guest
    /// `execve`s one (normally `vmtrans run` with this run's options); the
    /// runtime appends `--argv0 ARGV0 PROGRAM -- ARGS`. `None`: such an
    /// `execve` fails with `ENOEXEC` and a report.
    pub guest_runner: Option<Vec<OsString>>,
    /// Where guest memory goes: where the code the provider serves expects
    /// it ([`GuestBase::Zero`] for everything vmtrans generates to run).
    pub guest_base: GuestBase,
}

/// Default guest stack size (Linux's default `RLIMIT_STACK`).
pub const DEFAULT_STACK_SIZE: u64 = 8 << 20;

/// Where static-PIE images load by default: Linux riscv64 `ELF_ET_DYN_BASE`
/// for the sv39 address space (2/3 of 256 GiB, page aligned).
pub const DEFAULT_PIE_BASE: u64 = 0x2a_aaaa_a000;

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            strict: false,
            stack_size: DEFAULT_STACK_SIZE,
            pie_base: DEFAULT_PIE_BASE,
            trace_syscalls: false,
            host_stack_size: 1 << 30,
            thread_host_stack_size: 256 << 20,
            exe_path: None,
            guest_runner: None,
            guest_base: GuestBase::Zero,
        }
    }
}

/// Why a guest thread stops running.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// This thread called `exit`; other threads go on.
    ExitThread(i32),
    /// The whole guest ends with this host exit status (`exit_group`).
    ExitProcess(i32),
    /// The whole guest ends as if killed by this signal (the default action
    /// of a fatal signal): the entry point re-raises it on the host process
    /// ([`crate::fault::die_by_signal`]) so the parent sees the same wait
    /// status as for a native process.
    Killed(i32),
}

/// State shared by all threads of a guest process.
pub struct Process {
    /// Guest architecture.
    pub arch: Arch,
    /// Its ABI operations.
    pub ops: &'static dyn ArchOps,
    /// Guest memory.
    pub mem: GuestMemory,
    /// Runtime options.
    pub options: RunOptions,
    /// Absolute path of the guest program (what `/proc/self/exe` names).
    pub exe_path: PathBuf,
    /// Guest address of the signal-return trampoline (0 before loading).
    pub sigtramp: AtomicU64,
    pub(crate) provider: Arc<dyn CodeProvider>,
    pub(crate) code_generation: AtomicU64,
    pub(crate) sigactions: Mutex<[SigAction; 64]>,
    pub(crate) threads: Mutex<HashMap<i32, Arc<ThreadShared>>>,
    pub(crate) live_threads: AtomicUsize,
    pub(crate) rlimits: Mutex<HashMap<i32, (u64, u64)>>,
    reported: Mutex<HashSet<String>>,
    /// Guest memory faults are precise (the guest handles SIGSEGV/SIGBUS);
    /// see [`Process::require_precise_faults`].
    pub(crate) precise_faults: AtomicBool,
}

impl Process {
    /// A process with empty guest memory.
    pub fn new(
        ops: &'static dyn ArchOps,
        mem: GuestMemory,
        provider: Arc<dyn CodeProvider>,
        options: RunOptions,
        exe_path: PathBuf,
    ) -> Arc<Process> {
        Arc::new(Process {
            arch: ops.arch(),
            ops,
            mem,
            options,
            exe_path,
            sigtramp: AtomicU64::new(0),
            provider,
            code_generation: AtomicU64::new(0),
            sigactions: Mutex::new([SigAction::default(); 64]),
            threads: Mutex::new(HashMap::new()),
            live_threads: AtomicUsize::new(0),
            rlimits: Mutex::new(HashMap::new()),
            reported: Mutex::new(HashSet::new()),
            precise_faults: AtomicBool::new(false),
        })
    }

    /// The guest installed a SIGSEGV or SIGBUS handler: from now on guest
    /// memory faults must reach it with exact state. The provider switches
    /// to precise translations and every thread's cache is dropped; the
    /// calling thread's current function leaves at its system call's end
    /// (an interrupt request), so it continues in precise code. Functions
    /// further up the host stack keep their translation until they return.
    /// Once on, precise faults stay on.
    pub fn require_precise_faults(&self, caller: &ThreadContext) {
        if self.precise_faults.swap(true, Ordering::AcqRel) {
            return;
        }
        self.provider.require_precise_faults();
        crate::fault::enable_precise_faults();
        self.code_generation.fetch_add(1, Ordering::AcqRel);
        caller.state.request_interrupt();
    }

    /// Whether guest memory faults are precise.
    pub fn precise_faults(&self) -> bool {
        self.precise_faults.load(Ordering::Acquire)
    }

    /// Drops all translations: the provider's and every thread's cache.
    pub fn invalidate_code(&self) {
        self.provider.invalidate();
        self.code_generation.fetch_add(1, Ordering::AcqRel);
    }

    /// Prints `message` on stderr unless an identical one was printed
    /// before; returns whether it printed.
    pub fn report_once(&self, message: String) -> bool {
        let fresh = self
            .reported
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(message.clone());
        if fresh {
            eprintln!("{message}");
        }
        fresh
    }

    /// The disposition of signal `sig` (1..=64).
    pub fn sigaction(&self, sig: i32) -> SigAction {
        self.sigactions.lock().unwrap_or_else(|e| e.into_inner())[(sig - 1) as usize]
    }

    /// Number of guest threads running.
    pub fn live_threads(&self) -> usize {
        self.live_threads.load(Ordering::Acquire)
    }
}

/// The part of a thread other threads may touch.
pub struct ThreadShared {
    /// Host (and guest) thread id.
    pub tid: AtomicU64,
    /// Signals sent to this thread and not yet delivered.
    pub pending: PendingSet,
    /// The host thread, for interrupting blocking system calls.
    pub pthread: AtomicU64,
}

/// One guest thread's runtime context. Used only on its own thread
/// (`!Sync`); other threads reach it through [`ThreadShared`].
pub struct ThreadContext {
    /// The process.
    pub process: Arc<Process>,
    /// The CPU state generated code runs on.
    pub state: CpuState,
    /// Fields other threads may touch.
    pub shared: Arc<ThreadShared>,
    pub(crate) sigmask: Cell<u64>,
    pub(crate) clear_child_tid: Cell<u64>,
    pub(crate) robust_list: Cell<(u64, u64)>,
    pub(crate) altstack: Cell<(u64, i32, u64)>,
    pub(crate) stop: Cell<Option<Stop>>,
    pub(crate) cache: RefCell<CodeCache>,
    /// Byte offset of the 64-bit PC register in the state (the dispatcher
    /// sets it on every entry into translated code).
    pc_offset: usize,
}

impl ThreadContext {
    /// A context for a new thread of `process` with zeroed registers; the
    /// state header points at the context (hence the box).
    pub fn new(process: Arc<Process>, tid: i32) -> Box<ThreadContext> {
        let state = CpuState::new(process.arch);
        state.set_header(header::MEM_BASE, process.mem.base() as u64);
        let shared = Arc::new(ThreadShared {
            tid: AtomicU64::new(tid as u64),
            pending: PendingSet::new(),
            pthread: AtomicU64::new(0),
        });
        let pc_index = process.ops.regs().pc;
        assert_eq!(
            process.arch.registers()[pc_index].kind,
            vmtrans_abi::RegKind::I64,
            "the PC is a 64-bit register"
        );
        let pc_offset = vmtrans_abi::reg_offset(process.arch, pc_index);
        let ctx = Box::new(ThreadContext {
            process,
            state,
            shared,
            sigmask: Cell::new(0),
            clear_child_tid: Cell::new(0),
            robust_list: Cell::new((0, 0)),
            altstack: Cell::new((0, libc::SS_DISABLE, 0)),
            stop: Cell::new(None),
            cache: RefCell::new(CodeCache::new()),
            pc_offset,
        });
        ctx.state
            .set_header(header::RUNTIME, &*ctx as *const ThreadContext as u64);
        ctx
    }

    /// The context of the thread whose CPU state is `state`.
    ///
    /// # Safety
    /// `state` must be the state of a live [`ThreadContext`] (created by
    /// [`ThreadContext::new`]) used on the calling thread.
    pub unsafe fn from_state<'a>(state: *mut u8) -> &'a ThreadContext {
        // SAFETY: per the contract, the header's RUNTIME field holds the
        // address of the boxed context, which outlives the call.
        unsafe { &*((state.add(header::RUNTIME) as *const u64).read() as *const ThreadContext) }
    }

    /// Registers the thread as running in its process (thread table and
    /// live count); [`crate::syscall::finish_thread`] undoes it.
    pub fn attach(&self) {
        self.process
            .threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.tid(), Arc::clone(&self.shared));
        self.process.live_threads.fetch_add(1, Ordering::AcqRel);
    }

    /// This thread's id.
    pub fn tid(&self) -> i32 {
        self.shared.tid.load(Ordering::Relaxed) as i32
    }

    /// The blocked-signal mask (bit `n-1` for signal `n`).
    pub fn sigmask(&self) -> u64 {
        self.sigmask.get()
    }

    /// Sets the blocked-signal mask (SIGKILL and SIGSTOP cannot be blocked).
    /// A pending signal the new mask unblocks is delivered at the next
    /// safe point: the change requests an interrupt (the dispatcher only
    /// looks for signals when one is requested).
    pub fn set_sigmask(&self, mask: u64) {
        let unblockable = (1 << (libc::SIGKILL - 1)) | (1 << (libc::SIGSTOP - 1));
        let mask = mask & !unblockable;
        self.sigmask.set(mask);
        if crate::signals::pending_mask(self) & !mask != 0 {
            self.state.request_interrupt();
        }
    }

    /// Why the thread is stopping, if it is.
    pub fn stop_reason(&self) -> Option<Stop> {
        self.stop.get()
    }

    /// Asks the thread to stop: generated code is made to leave (the PC no
    /// longer matches the next instruction) and the dispatcher unwinds.
    pub fn request_stop(&self, stop: Stop) {
        self.stop.set(Some(stop));
        self.state
            .set_reg(self.process.ops.regs().pc, crate::dispatch::UNWIND_PC);
    }

    /// Guest program counter register.
    pub fn pc(&self) -> u64 {
        self.state.u64_at(self.pc_offset)
    }

    /// Sets the guest program counter register.
    pub fn set_pc(&self, pc: u64) {
        self.state.set_u64_at(self.pc_offset, pc)
    }
}
