//! The dispatch loop with a fake code provider whose "translated
//! functions" are Rust `extern "C"` functions manipulating the state.

use common::{process_with, reg, syscall, NoCode};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use vmtrans_abi::{exit, header, reg_offset, Arch};
use vmtrans_runtime::dispatch::{
    resolve, run_thread, vmtrans_rt_call, AotEntry, AotTable, ChainProvider, CodeProvider,
    CodeReader, GuestFn,
};
use vmtrans_runtime::mmu::{prot, PAGE_SIZE};
use vmtrans_runtime::{RunOptions, Stop, ThreadContext};

mod common;

fn off(name: &str) -> usize {
    reg_offset(Arch::Riscv64, reg(name))
}

unsafe fn rd(state: *mut u8, name: &str) -> u64 {
    // SAFETY: a riscv64 state; registers are 8-byte aligned u64s.
    unsafe { (state.add(off(name)) as *const u64).read() }
}

unsafe fn wr(state: *mut u8, name: &str, v: u64) {
    // SAFETY: as in `rd`.
    unsafe { (state.add(off(name)) as *mut u64).write(v) }
}

unsafe fn leave(state: *mut u8, reason: u64, pc: u64) -> u64 {
    // SAFETY: the header is at the start of the state.
    unsafe { (state.add(header::EXIT_REASON) as *mut u64).write(reason) };
    pc
}

/// Makes a system call like generated code: PC set to the next
/// instruction first; returns the PC afterwards.
unsafe fn ecall(state: *mut u8, nr: u64, args: &[u64], next: u64) -> u64 {
    for (i, a) in args.iter().enumerate() {
        // SAFETY: a riscv64 state.
        unsafe { wr(state, ["a0", "a1", "a2", "a3", "a4", "a5"][i], *a) };
    }
    // SAFETY: as above; the state belongs to a live context on this thread.
    unsafe {
        wr(state, "a7", nr);
        wr(state, "pc", next);
        vmtrans_runtime::syscall::vmtrans_rt_syscall(state);
        rd(state, "pc")
    }
}

// 0x1000: a0 = 40, jump to 0x2000.
unsafe extern "C" fn f_1000(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: called by the dispatcher with a riscv64 state.
    unsafe {
        wr(s, "a0", 40);
        leave(s, exit::JUMP, 0x2000)
    }
}

// 0x2000: a0 += 2; call 0x3000 (expects return to 0x2004); exit_group(a0 + a1).
unsafe extern "C" fn f_2000(s: *mut u8, m: *mut u8) -> u64 {
    // SAFETY: called by the dispatcher with a riscv64 state.
    unsafe {
        wr(s, "a0", rd(s, "a0") + 2);
        wr(s, "ra", 0x2004);
        let back = vmtrans_rt_call(s, m, 0x3000);
        if (s.add(header::EXIT_REASON) as *const u64).read() != exit::RETURN || back != 0x2004 {
            return back;
        }
        let code = rd(s, "a0") + rd(s, "a1");
        let pc = ecall(s, 94, &[code], 0x2008);
        leave(s, exit::JUMP, pc)
    }
}

// 0x3000: a1 = 3, jump to 0x3100 (same frame).
unsafe extern "C" fn f_3000(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: called with a riscv64 state.
    unsafe {
        wr(s, "a1", 3);
        leave(s, exit::JUMP, 0x3100)
    }
}

// 0x3100: a1 += 4, return to ra.
unsafe extern "C" fn f_3100(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: called with a riscv64 state.
    unsafe {
        wr(s, "a1", rd(s, "a1") + 4);
        leave(s, exit::RETURN, rd(s, "ra"))
    }
}

fn table() -> Arc<dyn CodeProvider> {
    let entries: Vec<(u64, GuestFn)> = vec![
        (0x3100, f_3100),
        (0x1000, f_1000),
        (0x3000, f_3000),
        (0x2000, f_2000),
    ];
    Arc::new(AotTable::new(entries))
}

#[test]
fn returns_jumps_nested_calls_and_exit() {
    let ctx = process_with(table(), RunOptions::default());
    assert_eq!(run_thread(&ctx, 0x1000), Stop::ExitProcess(49));
}

fn trap_fn(reason: u64) -> GuestFn {
    macro_rules! trap {
        ($reason:expr) => {{
            unsafe extern "C" fn f(s: *mut u8, _m: *mut u8) -> u64 {
                // SAFETY: called with a riscv64 state.
                unsafe {
                    (s.add(header::EXIT_PC) as *mut u64).write(0x4000);
                    (s.add(header::FAULT_ADDR) as *mut u64).write(0xdead_0000);
                    leave(s, $reason, 0x4000)
                }
            }
            f as GuestFn
        }};
    }
    match reason {
        exit::TRAP_SEGV => trap!(exit::TRAP_SEGV),
        exit::TRAP_ILLEGAL => trap!(exit::TRAP_ILLEGAL),
        exit::TRAP_DIVIDE => trap!(exit::TRAP_DIVIDE),
        exit::TRAP_BREAKPOINT => trap!(exit::TRAP_BREAKPOINT),
        _ => trap!(exit::TRAP_UNDECODABLE),
    }
}

#[test]
fn traps_end_the_guest_like_a_killed_process() {
    for (reason, sig) in [
        (exit::TRAP_SEGV, libc::SIGSEGV),
        (exit::TRAP_ILLEGAL, libc::SIGILL),
        (exit::TRAP_DIVIDE, libc::SIGFPE),
        (exit::TRAP_BREAKPOINT, libc::SIGTRAP),
        (exit::TRAP_UNDECODABLE, libc::SIGILL),
    ] {
        let provider = Arc::new(AotTable::new(vec![(0x4000, trap_fn(reason))]));
        let ctx = process_with(provider, RunOptions::default());
        assert_eq!(
            run_thread(&ctx, 0x4000),
            Stop::Killed(sig),
            "reason {reason}"
        );
    }
}

#[test]
fn missing_code_is_sigsegv_when_unmapped_and_sigill_when_executable() {
    let ctx = process_with(Arc::new(NoCode), RunOptions::default());
    assert_eq!(run_thread(&ctx, 0x9000_0000), Stop::Killed(libc::SIGSEGV));
    let ctx = process_with(Arc::new(NoCode), RunOptions::default());
    ctx.process
        .mem
        .map_fixed(0x7000_0000, PAGE_SIZE, prot::READ | prot::EXEC, "code")
        .unwrap();
    assert_eq!(run_thread(&ctx, 0x7000_0000), Stop::Killed(libc::SIGILL));
}

static HANDLED_SIGNO: AtomicU64 = AtomicU64::new(0);
static HANDLED_INFO_SIGNO: AtomicU64 = AtomicU64::new(0);

// 0x5000: tgkill(self, SIGUSR1); continues at 0x5004 after the handler.
unsafe extern "C" fn f_5000(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: called with a riscv64 state of a live context.
    unsafe {
        let ctx = ThreadContext::from_state(s);
        wr(s, "s1", 5);
        let pc = ecall(
            s,
            131,
            &[std::process::id() as u64, ctx.tid() as u64, 10],
            0x5004,
        );
        if pc != 0x5004 {
            return leave(s, exit::JUMP, pc);
        }
        leave(s, exit::JUMP, 0x5004)
    }
}

// 0x5004: exit_group(a0 (tgkill's result) + s1 (must be restored) + 40).
unsafe extern "C" fn f_5004(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: called with a riscv64 state of a live context.
    unsafe {
        let code = rd(s, "a0") + rd(s, "s1") + 40;
        let pc = ecall(s, 94, &[code], 0x5008);
        leave(s, exit::JUMP, pc)
    }
}

// 0x6000: the SIGUSR1 handler: records its arguments, clobbers s1, returns.
unsafe extern "C" fn f_6000(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: called with a riscv64 state of a live context.
    unsafe {
        let ctx = ThreadContext::from_state(s);
        HANDLED_SIGNO.store(rd(s, "a0"), Ordering::SeqCst);
        let info = ctx.process.mem.read_u32(rd(s, "a1")).unwrap_or(0);
        HANDLED_INFO_SIGNO.store(info as u64, Ordering::SeqCst);
        wr(s, "s1", 999);
        leave(s, exit::RETURN, rd(s, "ra"))
    }
}

#[test]
fn signal_handler_runs_and_sigreturn_restores_registers() {
    let entries: Vec<(u64, GuestFn)> = vec![(0x5000, f_5000), (0x5004, f_5004), (0x6000, f_6000)];
    let ctx = process_with(Arc::new(AotTable::new(entries)), RunOptions::default());
    let tramp = vmtrans_runtime::loader::map_sigtramp(&ctx.process.mem, ctx.process.ops).unwrap();
    ctx.process.sigtramp.store(tramp, Ordering::Relaxed);
    ctx.state
        .set_reg(reg("sp"), common::SCRATCH + common::SCRATCH_LEN);
    // sigaction(SIGUSR1, {handler 0x6000, SA_SIGINFO}).
    let act: Vec<u8> = [0x6000u64, 4, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    ctx.process.mem.write(common::SCRATCH, &act).unwrap();
    assert_eq!(syscall(&ctx, 134, &[10, common::SCRATCH, 0, 8]), 0);
    assert_eq!(run_thread(&ctx, 0x5000), Stop::ExitProcess(45));
    assert_eq!(HANDLED_SIGNO.load(Ordering::SeqCst), 10);
    assert_eq!(HANDLED_INFO_SIGNO.load(Ordering::SeqCst), 10);
    assert_eq!(ctx.sigmask(), 0, "mask restored by rt_sigreturn");
}

#[test]
fn default_action_of_an_unhandled_signal_terminates() {
    let entries: Vec<(u64, GuestFn)> = vec![(0x5000, f_5000), (0x5004, f_5004)];
    let ctx = process_with(Arc::new(AotTable::new(entries)), RunOptions::default());
    assert_eq!(run_thread(&ctx, 0x5000), Stop::Killed(libc::SIGUSR1));
}

struct CountingJit {
    translations: AtomicUsize,
}

impl CodeProvider for CountingJit {
    fn lookup(&self, _pc: u64) -> Option<GuestFn> {
        None
    }
    fn translate(&self, pc: u64, _code: &dyn CodeReader) -> Result<GuestFn, String> {
        self.translations.fetch_add(1, Ordering::SeqCst);
        match pc {
            0x3100 => Ok(f_3100),
            _ => Err(format!("cannot translate {pc:#x}")),
        }
    }
    fn invalidate(&self) {}

    /// Precise faults need nothing here: its functions make no guest memory access: nothing to change.
    fn require_precise_faults(&self) {}
}

#[test]
fn chain_asks_the_table_first_then_the_jit_and_caches() {
    let jit = Arc::new(CountingJit {
        translations: AtomicUsize::new(0),
    });
    let aot: Arc<dyn CodeProvider> = Arc::new(AotTable::new(vec![(0x1000, f_1000 as GuestFn)]));
    let chain = ChainProvider::new(vec![aot, jit.clone()]);
    assert!(chain.lookup(0x1000).is_some());
    assert!(chain.lookup(0x3100).is_none());
    let ctx = process_with(Arc::new(chain), RunOptions::default());
    assert!(resolve(&ctx, 0x3100).is_ok());
    assert!(resolve(&ctx, 0x3100).is_ok());
    assert_eq!(
        jit.translations.load(Ordering::SeqCst),
        1,
        "second resolve hits the cache"
    );
    ctx.process.invalidate_code();
    assert!(resolve(&ctx, 0x3100).is_ok());
    assert_eq!(
        jit.translations.load(Ordering::SeqCst),
        2,
        "invalidation empties the cache"
    );
    let err = resolve(&ctx, 0x4444).unwrap_err();
    assert!(
        err.contains("no ahead-of-time translation") && err.contains("cannot translate 0x4444"),
        "{err}"
    );
}

#[test]
fn aot_table_from_raw_pairs() {
    let entry = |pc, func| AotEntry { pc, func };
    let raw = [
        entry(0x2000, f_2000 as *const u8),
        entry(0x1000, f_1000 as *const u8),
        entry(0x5, std::ptr::null()),
    ];
    // SAFETY: the pairs are valid GuestFns (or null, skipped).
    let table = unsafe { AotTable::from_raw(raw.as_ptr(), raw.len()) };
    assert_eq!(table.len(), 2);
    assert!(
        table.lookup(0x1000).is_some()
            && table.lookup(0x2000).is_some()
            && table.lookup(0x5).is_none()
    );
}

#[test]
fn precise_faults_retire_the_aot_table() {
    let table = AotTable::new(vec![(0x1000, f_1000 as GuestFn)]);
    assert!(table.lookup(0x1000).is_some());
    table.require_precise_faults();
    assert!(table.lookup(0x1000).is_none(), "AOT code is not precise");
}
