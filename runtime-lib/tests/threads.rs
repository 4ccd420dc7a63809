//! Guest threads (clone + futex + clear_child_tid) and host faults inside
//! the guest reservation.

use common::{process_with, reg, SCRATCH, SCRATCH_LEN};
use std::sync::Arc;
use vmtrans_abi::{exit, header, reg_offset, Arch};
use vmtrans_runtime::dispatch::{run_thread, AotTable, GuestFn};
use vmtrans_runtime::{RunOptions, Stop};

mod common;

unsafe fn rd(s: *mut u8, name: &str) -> u64 {
    // SAFETY: a riscv64 state.
    unsafe { (s.add(reg_offset(Arch::Riscv64, reg(name))) as *const u64).read() }
}

unsafe fn wr(s: *mut u8, name: &str, v: u64) {
    // SAFETY: a riscv64 state.
    unsafe { (s.add(reg_offset(Arch::Riscv64, reg(name))) as *mut u64).write(v) }
}

unsafe fn jump(s: *mut u8, pc: u64) -> u64 {
    // SAFETY: the header starts the state.
    unsafe { (s.add(header::EXIT_REASON) as *mut u64).write(exit::JUMP) };
    pc
}

unsafe fn ecall(s: *mut u8, nr: u64, args: &[u64], next: u64) -> u64 {
    for (i, a) in args.iter().enumerate() {
        // SAFETY: a riscv64 state.
        unsafe { wr(s, ["a0", "a1", "a2", "a3", "a4", "a5"][i], *a) };
    }
    // SAFETY: the state of a live context on this thread.
    unsafe {
        wr(s, "a7", nr);
        wr(s, "pc", next);
        vmtrans_runtime::syscall::vmtrans_rt_syscall(s);
        rd(s, "pc")
    }
}

const CTID: u64 = SCRATCH + 0x100;
const PTID: u64 = SCRATCH + 0x108;
const RESULT: u64 = SCRATCH + 0x110;
const CHILD_TP: u64 = SCRATCH + 0x118;

// 0x8000: clone a thread (glibc's pthread_create flags) with its own stack and TLS.
unsafe extern "C" fn f_8000(s: *mut u8, _m: *mut u8) -> u64 {
    let flags =
        0x100 | 0x200 | 0x400 | 0x800 | 0x1_0000 | 0x4_0000 | 0x8_0000 | 0x10_0000 | 0x20_0000;
    let child_sp = SCRATCH + SCRATCH_LEN - 0x1000;
    // SAFETY: a riscv64 state of a live context.
    unsafe {
        let pc = ecall(s, 220, &[flags, child_sp, PTID, 0x7777, CTID], 0x8004);
        jump(s, pc)
    }
}

// 0x8004: both threads continue here; the child (a0 == 0) records its
// tp, sp and parallel mode and exits; the parent waits on the child tid word, then exits
// with what the child recorded.
unsafe extern "C" fn f_8004(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: a riscv64 state of a live context.
    unsafe {
        let ctx = vmtrans_runtime::ThreadContext::from_state(s);
        let mem = &ctx.process.mem;
        if rd(s, "a0") == 0 {
            mem.write_u64(CHILD_TP, rd(s, "tp")).unwrap();
            let ok = rd(s, "sp") == SCRATCH + SCRATCH_LEN - 0x1000 && ctx.state.is_parallel();
            mem.write_u64(RESULT, if ok { 21 } else { 1 }).unwrap();
            let pc = ecall(s, 93, &[0], 0x8008);
            return jump(s, pc);
        }
        let tid = rd(s, "a0");
        assert_eq!(
            mem.read_u32(PTID).unwrap() as u64,
            tid,
            "CLONE_PARENT_SETTID"
        );
        loop {
            let word = mem.read_u32(CTID).unwrap();
            if word == 0 {
                break;
            }
            // futex(ctid, FUTEX_WAIT, word, NULL)
            ecall(s, 98, &[CTID, 0, word as u64, 0], 0x8004);
        }
        let code = mem.read_u64(RESULT).unwrap() * 2;
        let pc = ecall(s, 94, &[code], 0x8008);
        jump(s, pc)
    }
}

#[test]
fn clone_runs_a_guest_thread_and_join_wakes_on_clear_child_tid() {
    let _serial = common::one_test_at_a_time();
    let entries: Vec<(u64, GuestFn)> = vec![(0x8000, f_8000), (0x8004, f_8004)];
    let options = RunOptions {
        thread_host_stack_size: 8 << 20,
        ..Default::default()
    };
    let ctx = process_with(Arc::new(AotTable::new(entries)), options);
    ctx.process.mem.write_u32(CTID, 1).unwrap();
    ctx.attach();
    assert!(!ctx.state.is_parallel(), "one thread: plain atomics");
    assert_eq!(run_thread(&ctx, 0x8000), Stop::ExitProcess(42));
    assert!(
        ctx.state.is_parallel(),
        "after clone both threads use host atomics (the child checked its own)"
    );
    assert_eq!(
        ctx.process.mem.read_u64(CHILD_TP).unwrap(),
        0x7777,
        "CLONE_SETTLS"
    );
    assert_eq!(ctx.process.live_threads(), 1, "the child has finished");
}

// 0x9000: stores to an unmapped guest address through the memory base.
unsafe extern "C" fn f_9000(_s: *mut u8, m: *mut u8) -> u64 {
    // SAFETY: deliberately faults inside the guest reservation.
    unsafe { m.add(0x1234_5000).write_volatile(1) };
    0
}

fn in_child(body: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child runs `body` and leaves with _exit.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0);
    if pid == 0 {
        let code = body();
        // SAFETY: ends the child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waiting for our child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    status
}

#[test]
fn host_fault_inside_guest_memory_is_a_guest_sigsegv() {
    let _serial = common::one_test_at_a_time();
    let status = in_child(|| {
        let ctx = process_with(
            Arc::new(AotTable::new(vec![(0x9000, f_9000 as GuestFn)])),
            RunOptions::default(),
        );
        vmtrans_runtime::fault::install(&ctx);
        vmtrans_runtime::fault::enter_guest_thread(&ctx);
        run_thread(&ctx, 0x9000);
        0
    });
    assert!(libc::WIFSIGNALED(status), "status {status:#x}");
    assert_eq!(libc::WTERMSIG(status), libc::SIGSEGV);
    assert!(!libc::WCOREDUMP(status), "no core file");
}

#[test]
fn host_fault_outside_guest_memory_is_re_raised() {
    let _serial = common::one_test_at_a_time();
    let status = in_child(|| {
        let ctx = common::process();
        vmtrans_runtime::fault::install(&ctx);
        vmtrans_runtime::fault::enter_guest_thread(&ctx);
        // SAFETY: deliberately faults outside the reservation.
        unsafe { std::ptr::null_mut::<u8>().add(8).write_volatile(1) };
        0
    });
    assert!(libc::WIFSIGNALED(status), "status {status:#x}");
    assert_eq!(libc::WTERMSIG(status), libc::SIGSEGV);
}

// 0xa000: fork (clone with only SIGCHLD as flags).
unsafe extern "C" fn f_a000(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: a riscv64 state of a live context.
    unsafe {
        let pc = ecall(s, 220, &[libc::SIGCHLD as u64, 0, 0, 0, 0], 0xa004);
        jump(s, pc)
    }
}

// 0xa004: the child exits with 7; the parent waits and exits with the
// child's status plus 30.
unsafe extern "C" fn f_a004(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: a riscv64 state of a live context.
    unsafe {
        let ctx = vmtrans_runtime::ThreadContext::from_state(s);
        if rd(s, "a0") == 0 {
            let pc = ecall(s, 94, &[7], 0xa008);
            return jump(s, pc);
        }
        let child = rd(s, "a0");
        ecall(s, 260, &[child, RESULT, 0, 0], 0xa008);
        let status = ctx.process.mem.read_u32(RESULT).unwrap() as i32;
        let pc = ecall(s, 94, &[libc::WEXITSTATUS(status) as u64 + 30], 0xa008);
        jump(s, pc)
    }
}

#[test]
fn fork_and_wait4() {
    let _serial = common::one_test_at_a_time();
    let status = in_child(|| {
        let entries: Vec<(u64, GuestFn)> = vec![(0xa000, f_a000), (0xa004, f_a004)];
        let ctx = process_with(Arc::new(AotTable::new(entries)), RunOptions::default());
        match run_thread(&ctx, 0xa000) {
            Stop::ExitProcess(code) | Stop::ExitThread(code) => code,
            Stop::Killed(sig) => 128 + sig,
        }
    });
    assert!(libc::WIFEXITED(status), "status {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 37);
}
