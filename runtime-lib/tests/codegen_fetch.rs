//! Guest code as translators see it: fetching through a [`CodeReader`]
//! over guest memory (execute permission, partial fetches, faults), and
//! code flushes reaching every thread's translation cache.

use common::{process_with, syscall, SCRATCH, SCRATCH_LEN};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use vmtrans_runtime::dispatch::{
    resolve, run_thread, CodeProvider, CodeReader, FetchFault, GuestFn,
};
use vmtrans_runtime::helpers::vmtrans_rt_flush_code;
use vmtrans_runtime::mmu::{prot, PAGE_SIZE};
use vmtrans_runtime::{RunOptions, Stop, ThreadContext};

mod common;

/// Guest address of the code pages the tests map (right after the
/// read-write scratch area).
const CODE: u64 = SCRATCH + SCRATCH_LEN;

/// `riscv_flush_icache` system call number.
const RISCV_FLUSH_ICACHE: u64 = 259;

unsafe extern "C" fn f_one(_s: *mut u8, _m: *mut u8) -> u64 {
    1
}

unsafe extern "C" fn f_two(_s: *mut u8, _m: *mut u8) -> u64 {
    2
}

/// A "JIT" that reads the first byte of guest code at the PC through the
/// reader it is given: 1 and 2 name [`f_one`] and [`f_two`].
#[derive(Default)]
struct ByteJit {
    translations: AtomicUsize,
}

impl CodeProvider for ByteJit {
    fn lookup(&self, _pc: u64) -> Option<GuestFn> {
        None
    }

    fn translate(&self, pc: u64, code: &dyn CodeReader) -> Result<GuestFn, String> {
        self.translations.fetch_add(1, Ordering::SeqCst);
        let mut byte = [0];
        code.fetch(pc, &mut byte).map_err(|f| f.to_string())?;
        match byte[0] {
            1 => Ok(f_one),
            2 => Ok(f_two),
            b => Err(format!("unknown code byte {b}")),
        }
    }

    fn invalidate(&self) {}

    /// Precise faults need nothing here: its functions make no guest memory access: nothing to change.
    fn require_precise_faults(&self) {}
}

/// A process with [`ByteJit`] and two executable pages at [`CODE`] whose
/// first byte is `first`.
fn with_code(first: u8) -> (Box<ThreadContext>, Arc<ByteJit>) {
    let jit = Arc::new(ByteJit::default());
    let ctx = process_with(jit.clone(), RunOptions::default());
    let mem = &ctx.process.mem;
    mem.map_fixed(CODE, 2 * PAGE_SIZE, prot::READ | prot::EXEC, "code")
        .expect("map code");
    mem.poke(CODE, &[first]).expect("write code");
    (ctx, jit)
}

/// Which of the test functions `pc` resolves to (0: neither).
fn resolved(ctx: &ThreadContext, pc: u64) -> u64 {
    // SAFETY: both test functions ignore their arguments.
    resolve(ctx, pc).map_or(0, |f| unsafe {
        f(std::ptr::null_mut(), std::ptr::null_mut())
    })
}

#[test]
fn fetch_reads_only_executable_memory() {
    let (ctx, _) = with_code(1);
    let mem = &ctx.process.mem;
    mem.poke(CODE, &[1, 2, 3, 4]).unwrap();
    let mut buf = [0; 4];
    assert_eq!(mem.fetch(CODE, &mut buf), Ok(4));
    assert_eq!(buf, [1, 2, 3, 4]);

    let mut buf = [0; 16];
    let last = CODE + 2 * PAGE_SIZE - 2;
    assert_eq!(mem.fetch(last, &mut buf), Ok(2), "stops where code ends");
    assert_eq!(
        mem.fetch(CODE + 2 * PAGE_SIZE, &mut buf),
        Err(FetchFault::Unmapped)
    );
    assert_eq!(mem.fetch(SCRATCH, &mut buf), Err(FetchFault::NotExecutable));
    assert_eq!(mem.fetch(u64::MAX - 3, &mut buf), Err(FetchFault::Unmapped));

    mem.protect(CODE + PAGE_SIZE, PAGE_SIZE, prot::RW).unwrap();
    let end_of_first = CODE + PAGE_SIZE - 4;
    assert_eq!(mem.fetch(end_of_first, &mut buf), Ok(4), "stops at RW");
    mem.protect(CODE, PAGE_SIZE, prot::RW).unwrap();
    assert_eq!(mem.fetch(CODE, &mut buf), Err(FetchFault::NotExecutable));
}

#[test]
fn translation_reads_guest_memory_and_sees_patches_after_a_flush() {
    let (ctx, jit) = with_code(1);
    assert_eq!(resolved(&ctx, CODE), 1);
    ctx.process.mem.poke(CODE, &[2]).unwrap();
    assert_eq!(resolved(&ctx, CODE), 1, "stale until the code is flushed");
    // SAFETY: the state of a live context on this thread.
    unsafe { vmtrans_rt_flush_code(ctx.state.as_ptr()) };
    assert_eq!(resolved(&ctx, CODE), 2, "fence.i");
    ctx.process.mem.poke(CODE, &[1]).unwrap();
    assert_eq!(syscall(&ctx, RISCV_FLUSH_ICACHE, &[CODE, CODE + 4, 0]), 0);
    assert_eq!(resolved(&ctx, CODE), 1, "riscv_flush_icache");
    assert_eq!(jit.translations.load(Ordering::SeqCst), 3);
}

#[test]
fn a_flush_on_one_thread_empties_every_thread_cache() {
    let (ctx, jit) = with_code(1);
    let process = Arc::clone(&ctx.process);
    let step = Arc::new(Barrier::new(2));
    let other = {
        let step = Arc::clone(&step);
        std::thread::spawn(move || {
            let ctx = ThreadContext::new(process, 4242);
            let before = resolved(&ctx, CODE);
            step.wait(); // cached here; the main thread patches and flushes
            step.wait();
            (before, resolved(&ctx, CODE))
        })
    };
    step.wait();
    ctx.process.mem.poke(CODE, &[2]).unwrap();
    ctx.process.invalidate_code();
    step.wait();
    assert_eq!(other.join().unwrap(), (1, 2));
    assert_eq!(jit.translations.load(Ordering::SeqCst), 2);
}

#[test]
fn code_that_cannot_be_fetched_is_a_guest_sigsegv() {
    let (ctx, _) = with_code(1);
    let why = resolve(&ctx, SCRATCH).map(|_| ()).unwrap_err();
    assert!(why.contains("not executable"), "{why}");
    let why = resolve(&ctx, CODE + 4 * PAGE_SIZE).map(|_| ()).unwrap_err();
    assert!(why.contains("no guest memory"), "{why}");
    assert_killed_by_sigsegv(run_thread(&ctx, SCRATCH));
    let (ctx, _) = with_code(1);
    assert_killed_by_sigsegv(run_thread(&ctx, CODE + 4 * PAGE_SIZE));
}

/// The thread stopped with the default action of `SIGSEGV`: the process
/// ends as if killed by it (reported as `Killed(11)`, or as the exit status
/// 139 by runtimes that fold the signal into a status).
fn assert_killed_by_sigsegv(stop: Stop) {
    let seen = format!("{stop:?}");
    let want = [
        format!("Killed({})", libc::SIGSEGV),
        format!("ExitProcess({})", 128 + libc::SIGSEGV),
    ];
    assert!(want.contains(&seen), "{seen}");
}
