//! From guest PCs to host code, and the loop that runs a guest thread.
//!
//! Host code comes from a [`CodeProvider`]: the AOT table linked into the
//! executable ([`AotTable`]), then the JIT the CLI plugs in, chained with
//! [`ChainProvider`]. Each thread keeps a small direct-mapped cache in
//! front of the provider. Translated functions return a guest PC and an
//! exit reason (`abi::exit`): `RETURN` and `JUMP` continue at the PC, traps
//! become guest signals.
//!
//! # Guest code that changes at run time
//!
//! Providers read guest code through a [`CodeReader`] over guest memory,
//! which only yields bytes of executable pages: a PC in unmapped memory or
//! in memory without execute permission cannot be translated, and the
//! dispatcher raises the guest `SIGSEGV` Linux would (`SEGV_MAPERR`,
//! `SEGV_ACCERR`; see [`signals::no_code`]).
//!
//! Translations are not kept coherent with guest stores, with one
//! exception: x86 code the JIT finds in guest memory outside the image
//! compares itself with the bytes it was lifted from each time it is
//! entered (x86 needs no flush after writing code; the provider lifts such
//! code self-checking). Otherwise, like the RISC-V ISA (and qemu-user's
//! behaviour for it), vmtrans relies on the guest to
//! announce modified code: `fence.i` (the `vmtrans_rt_flush_code` helper)
//! or the `riscv_flush_icache` system call, which
//! `__builtin___clear_cache` uses, and on mapping changes of executable
//! memory (`munmap`, `mremap`, fixed `mmap`, `mprotect` adding execute
//! permission). Code written without one of these may keep running its
//! old translation, as hardware may fetch stale instructions until
//! `fence.i`. Likewise a cached translation keeps running after `mprotect`
//! takes execute permission away, until the next flush (Linux would fault
//! at the first fetch).
//!
//! A flush ([`crate::Process::invalidate_code`]) tells the provider to
//! distrust its translations ([`CodeProvider::invalidate`]; the JIT keeps
//! them but revalidates each against guest memory before its next use)
//! and bumps the process's code generation: every thread's [`CodeCache`]
//! sees the new generation on its next lookup and empties itself, so no
//! thread enters a translation made before the flush without asking the
//! provider again. Code already running on some thread's host stack
//! finishes its current function: a lifted `fence.i` leaves its function
//! to the dispatcher right after the flush, so the flushing code sees the
//! new code at its next instruction, but callers further up the host
//! stack keep their translation until they return to the dispatcher.
//!
//! The runtime unwinds to the dispatcher (thread exit, a fatal signal) by
//! setting the thread's stop reason and the PC to [`UNWIND_PC`]: generated
//! code leaves its function because the PC is not the next instruction,
//! and every runtime loop then returns with a trap reason, which generated
//! code propagates to its caller until the outermost loop.

use crate::context::{Stop, ThreadContext};
use crate::mmu::{prot, GuestMemory};
use crate::signals;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use vmtrans_abi::{exit, header};

/// A translated guest function: `(state, guest memory base) -> guest PC`,
/// with the exit reason in the state header.
pub type GuestFn = unsafe extern "C" fn(*mut u8, *mut u8) -> u64;

/// PC the runtime sets to make generated code leave: odd, so never the
/// address of a guest instruction on any supported guest.
pub const UNWIND_PC: u64 = u64::MAX;

/// Exit reason runtime loops return while unwinding to the dispatcher (any
/// trap reason makes generated code propagate to its caller).
const UNWIND_REASON: u64 = exit::TRAP_ILLEGAL;

/// Why guest code cannot be fetched from an address: the fault a CPU
/// fetching an instruction there takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchFault {
    /// Nothing is mapped there (`SIGSEGV`, `SEGV_MAPERR`).
    Unmapped,
    /// Mapped without execute permission (`SIGSEGV`, `SEGV_ACCERR`).
    NotExecutable,
}

impl std::fmt::Display for FetchFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            FetchFault::Unmapped => "no guest memory is mapped there",
            FetchFault::NotExecutable => "the guest memory there is not executable",
        })
    }
}

/// Read access to guest code, as an instruction fetch sees it: only
/// executable memory can be read.
pub trait CodeReader {
    /// Copies guest code at `addr` into `buf`: the longest run of executable
    /// bytes from `addr` that fits (fewer than `buf.len()` where executable
    /// memory ends). Returns how many bytes were copied (at least one), or
    /// the fault fetching from `addr` itself raises.
    fn fetch(&self, addr: u64, buf: &mut [u8]) -> Result<usize, FetchFault>;
}

impl CodeReader for GuestMemory {
    fn fetch(&self, addr: u64, buf: &mut [u8]) -> Result<usize, FetchFault> {
        let len = {
            let map = self.map();
            match map.find(addr) {
                None => return Err(FetchFault::Unmapped),
                Some(r) if r.prot & prot::EXEC == 0 => return Err(FetchFault::NotExecutable),
                Some(_) => map.accessible_len(addr, buf.len() as u64, prot::EXEC) as usize,
            }
        };
        // The map may change between the check and the copy (another
        // thread unmapping): `read_code` checks again under its own lock.
        self.read_code(addr, &mut buf[..len])
            .map_err(|_| FetchFault::Unmapped)?;
        Ok(len)
    }
}

/// A source of host code for guest PCs.
///
/// After [`CodeProvider::invalidate`], [`CodeProvider::lookup`] must not
/// return a translation made before it until `translate` has checked that
/// its guest code is unchanged (or made a new one).
pub trait CodeProvider: Send + Sync {
    /// Already available code for `pc` (cheap, no guest memory access).
    fn lookup(&self, pc: u64) -> Option<GuestFn>;
    /// Produces code for `pc` (may compile), reading guest code through
    /// `code`, or says why not. A `pc` that `code` cannot fetch from must
    /// fail: the dispatcher then raises the guest's `SIGSEGV`.
    fn translate(&self, pc: u64, code: &dyn CodeReader) -> Result<GuestFn, String>;
    /// Guest code changed (`fence.i`, a code flush, a mapping change of
    /// executable memory): distrust every translation made so far.
    fn invalidate(&self);
    /// From now on, serve only translations with precise guest faults
    /// (`Function::precise_faults` in the IR): drop or stop serving the
    /// others. The runtime calls it once, when the guest starts handling
    /// SIGSEGV or SIGBUS.
    fn require_precise_faults(&self);
}

/// One entry of the AOT artifact's table (`abi::artifact::TABLE_SECTION`):
/// a guest PC and the translated function for it.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AotEntry {
    /// Guest PC.
    pub pc: u64,
    /// The translated function (a [`GuestFn`]), or null.
    pub func: *const u8,
}

/// Code linked ahead of time: a table of `(guest pc, function)` sorted by pc.
pub struct AotTable {
    entries: Vec<(u64, GuestFn)>,
    /// Set when precise faults are required: AOT code is not precise, so
    /// the table stops serving it (the JIT fallback takes over).
    retired: std::sync::atomic::AtomicBool,
}

impl AotTable {
    /// A table from entries in any order (sorted here; on duplicate PCs
    /// the first wins).
    pub fn new(mut entries: Vec<(u64, GuestFn)>) -> AotTable {
        entries.sort_by_key(|&(pc, _)| pc);
        entries.dedup_by_key(|&mut (pc, _)| pc);
        AotTable {
            entries,
            retired: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// A table from the raw entries of an AOT artifact.
    ///
    /// # Safety
    /// `ptr` must point to `len` readable entries whose non-null function
    /// pointers are translated functions with the [`GuestFn`] signature.
    pub unsafe fn from_raw(ptr: *const AotEntry, len: usize) -> AotTable {
        if len == 0 {
            return AotTable::new(Vec::new());
        }
        // SAFETY: per the contract, `len` readable pairs.
        let raw = unsafe { std::slice::from_raw_parts(ptr, len) };
        let entries = raw
            .iter()
            .filter(|e| !e.func.is_null())
            // SAFETY: per the contract, non-null entries are GuestFns.
            .map(|e| {
                (e.pc, unsafe {
                    std::mem::transmute::<*const u8, GuestFn>(e.func)
                })
            })
            .collect();
        AotTable::new(entries)
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl CodeProvider for AotTable {
    fn lookup(&self, pc: u64) -> Option<GuestFn> {
        if self.retired.load(Ordering::Acquire) {
            return None;
        }
        self.entries
            .binary_search_by_key(&pc, |&(p, _)| p)
            .ok()
            .map(|i| self.entries[i].1)
    }

    /// AOT code comes from the executable's own guest image, not from
    /// guest memory, so `_code` is not read.
    fn translate(&self, pc: u64, _code: &dyn CodeReader) -> Result<GuestFn, String> {
        self.lookup(pc).ok_or_else(|| {
            format!("no ahead-of-time translation for guest pc {pc:#x} and no JIT in this build")
        })
    }

    /// Nothing to forget: the table holds the image's code as translated
    /// ahead of time and is asked first, so AOT executables do not see a
    /// guest patching its own ELF text (code it generates in memory of its
    /// own goes to the JIT fallback, which does).
    fn invalidate(&self) {}

    /// AOT code keeps guest registers in host registers across memory
    /// accesses: it is retired, and the chain's JIT translates instead.
    fn require_precise_faults(&self) {
        self.retired.store(true, Ordering::Release);
    }
}

/// Providers tried in order: lookups ask each; translation asks each in
/// turn and returns the first success.
pub struct ChainProvider {
    providers: Vec<Arc<dyn CodeProvider>>,
}

impl ChainProvider {
    /// A chain of `providers` (AOT table first, then the JIT).
    pub fn new(providers: Vec<Arc<dyn CodeProvider>>) -> ChainProvider {
        ChainProvider { providers }
    }
}

impl CodeProvider for ChainProvider {
    fn lookup(&self, pc: u64) -> Option<GuestFn> {
        self.providers.iter().find_map(|p| p.lookup(pc))
    }

    fn translate(&self, pc: u64, code: &dyn CodeReader) -> Result<GuestFn, String> {
        let mut errors = Vec::new();
        for p in &self.providers {
            match p.translate(pc, code) {
                Ok(f) => return Ok(f),
                Err(e) => errors.push(e),
            }
        }
        Err(if errors.is_empty() {
            "no code provider".to_string()
        } else {
            errors.join("; ")
        })
    }

    fn invalidate(&self) {
        self.providers.iter().for_each(|p| p.invalidate());
    }

    fn require_precise_faults(&self) {
        self.providers
            .iter()
            .for_each(|p| p.require_precise_faults());
    }
}

const CACHE_SLOTS: usize = 4096;

/// A per-thread direct-mapped cache `pc → function`, indexed by low PC bits.
///
/// It belongs to one code generation of its process
/// (`Process::invalidate_code` bumps it): a lookup with a newer generation
/// empties the cache first, which is how a flush on one thread reaches
/// every other thread's cache without touching it.
pub struct CodeCache {
    slots: Box<[(u64, Option<GuestFn>)]>,
    generation: u64,
}

impl CodeCache {
    /// An empty cache.
    pub fn new() -> CodeCache {
        CodeCache {
            slots: vec![(0, None); CACHE_SLOTS].into_boxed_slice(),
            generation: 0,
        }
    }

    fn slot(pc: u64) -> usize {
        ((pc >> 1) as usize) & (CACHE_SLOTS - 1)
    }

    /// The cached function for `pc`, if the cache is of `generation`.
    pub fn get(&mut self, pc: u64, generation: u64) -> Option<GuestFn> {
        if generation != self.generation {
            self.slots.fill((0, None));
            self.generation = generation;
            return None;
        }
        match self.slots[Self::slot(pc)] {
            (p, Some(f)) if p == pc => Some(f),
            _ => None,
        }
    }

    /// Remembers `f` for `pc`.
    pub fn put(&mut self, pc: u64, f: GuestFn) {
        self.slots[Self::slot(pc)] = (pc, Some(f));
    }
}

impl Default for CodeCache {
    fn default() -> Self {
        CodeCache::new()
    }
}

/// Host code for `pc`: cache, then the provider's lookup, then translation
/// from guest memory.
///
/// The generation is read before asking the provider, so a translation
/// found while another thread flushes is cached under the old generation
/// and dropped by the next lookup.
pub fn resolve(ctx: &ThreadContext, pc: u64) -> Result<GuestFn, String> {
    let process = &ctx.process;
    let generation = process.code_generation.load(Ordering::Acquire);
    if let Some(f) = ctx.cache.borrow_mut().get(pc, generation) {
        return Ok(f);
    }
    let f = match process.provider.lookup(pc) {
        Some(f) => f,
        None => translate_keeping_fp_state(ctx, pc)?,
    };
    ctx.cache.borrow_mut().put(pc, f);
    Ok(f)
}

/// Translates `pc`. The translator's own float arithmetic runs on this
/// thread: MXCSR (the guest's accrued flags and rounding mode) is saved and
/// restored around it (translation runs in the default mode), so translating
/// never shows up in the guest's flags.
fn translate_keeping_fp_state(ctx: &ThreadContext, pc: u64) -> Result<GuestFn, String> {
    #[cfg(target_arch = "x86_64")]
    let saved = crate::helpers::read_mxcsr();
    // The default: round to nearest, exceptions masked, no flags.
    #[cfg(target_arch = "x86_64")]
    crate::helpers::write_mxcsr(0x1f80);
    let result = ctx.process.provider.translate(pc, &ctx.process.mem);
    #[cfg(target_arch = "x86_64")]
    crate::helpers::write_mxcsr(saved);
    result
}

/// How far a run loop goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// The thread's outermost loop: runs until the thread stops.
    Thread,
    /// A nested loop (`vmtrans_rt_call`/`vmtrans_rt_continue`): runs until
    /// the guest returns or traps.
    UntilReturn,
}

/// Runs the thread from `pc` until it stops; returns why.
pub fn run_thread(ctx: &ThreadContext, pc: u64) -> Stop {
    run_loop(ctx, pc, Mode::Thread);
    ctx.stop
        .get()
        .expect("the thread loop only ends on a stop request")
}

/// Runs from `pc` until the guest returns or traps and returns like a
/// translated function (`EXIT_REASON` set).
pub fn run_until_return(ctx: &ThreadContext, pc: u64) -> u64 {
    run_loop(ctx, pc, Mode::UntilReturn)
}

fn run_loop(ctx: &ThreadContext, mut pc: u64, mode: Mode) -> u64 {
    let state = ctx.state.as_ptr();
    let mem = ctx.process.mem.base();
    // A signal becomes deliverable with an interrupt request (posting one,
    // a host signal), at a system call's end (which delivers it itself), or
    // by a change of mask here (sigreturn, a delivery): only then, and when
    // a thread starts, does the loop look. A nested loop (an indirect call)
    // without a request goes straight to the code.
    let mut check_signals = mode == Mode::Thread;
    loop {
        if ctx.stop.get().is_some() {
            ctx.state.set_header(header::EXIT_REASON, UNWIND_REASON);
            return UNWIND_PC;
        }
        ctx.set_pc(pc);
        if pc == ctx.process.sigtramp.load(Ordering::Relaxed) && pc != 0 {
            signals::sigreturn(ctx);
            pc = ctx.pc();
            check_signals = true;
            continue;
        }
        if std::mem::take(&mut check_signals) || ctx.state.interrupt_requested() {
            ctx.state.clear_interrupt();
            if signals::deliver_pending(ctx) {
                pc = ctx.pc();
                check_signals = true;
                continue;
            }
        }
        let f = match resolve(ctx, pc) {
            Ok(f) => f,
            Err(why) => {
                signals::no_code(ctx, pc, &why);
                pc = ctx.pc();
                check_signals = true;
                continue;
            }
        };
        // SAFETY: `f` is a translated function (the provider's contract);
        // it gets this thread's state and the guest memory base.
        let next = unsafe { crate::fault::call_translated(f, state, mem) };
        match ctx.state.exit_reason() {
            exit::RETURN if mode == Mode::UntilReturn => return next,
            exit::RETURN | exit::JUMP => pc = next,
            _ if ctx.stop.get().is_some() => pc = next,
            _ if mode == Mode::UntilReturn => return next,
            reason => {
                signals::trap(ctx, reason, next);
                pc = ctx.pc();
                check_signals = true;
            }
        }
    }
}

/// Helper `vmtrans_rt_call(state, mem, target)`: a guest call of a target
/// not known at translation time; runs it (following `JUMP`s) until it
/// returns or traps and returns like a translated function.
///
/// # Safety
/// `state` must be the CPU state of the calling guest thread.
#[no_mangle]
pub unsafe extern "C" fn vmtrans_rt_call(state: *mut u8, _mem: *mut u8, target: u64) -> u64 {
    // SAFETY: per the contract, `state` belongs to a live thread context.
    let ctx = unsafe { ThreadContext::from_state(state) };
    run_until_return(ctx, target)
}

/// Helper `vmtrans_rt_continue(state, mem, pc)`: a callee left with `JUMP`;
/// keep running from `pc` in the same frame until it returns or traps.
///
/// # Safety
/// `state` must be the CPU state of the calling guest thread.
#[no_mangle]
pub unsafe extern "C" fn vmtrans_rt_continue(state: *mut u8, _mem: *mut u8, pc: u64) -> u64 {
    // SAFETY: per the contract, `state` belongs to a live thread context.
    let ctx = unsafe { ThreadContext::from_state(state) };
    run_until_return(ctx, pc)
}
