//! How a guest's end reaches the host: exit statuses of guest-forked
//! children, death by the guest's fatal signals (the host process is
//! killed by the same signal, without a core file and without a report for
//! signals the guest sent itself), and `waitid`.
//!
//! Each guest runs through [`Guest::load`] and [`Guest::run`] (the CLI's
//! path) in a forked test process, since the runtime ends the host process.

use common::fake::{ecall, jump, leave, rd};
use common::{in_child_capturing_stderr, tiny_exec_elf, TINY_ENTRY};
use std::sync::Arc;
use vmtrans_abi::exit;
use vmtrans_runtime::dispatch::{AotTable, GuestFn};
use vmtrans_runtime::{Guest, RunOptions, ThreadContext};

mod common;

const CLONE: u64 = 220;
const EXIT_GROUP: u64 = 94;
const TGKILL: u64 = 131;
const WAIT4: u64 = 260;
const WAITID: u64 = 95;

/// Loads the tiny executable with `code` as its translations and runs it
/// like the CLI does; returns the exit status (if the process survives).
fn run_guest_with(code: Vec<(u64, GuestFn)>) -> i32 {
    let options = RunOptions {
        host_stack_size: 8 << 20,
        ..Default::default()
    };
    let guest = Guest::load(
        &tiny_exec_elf(),
        "tiny",
        &["tiny"],
        &[] as &[&str],
        Arc::new(AotTable::new(code)),
        &options,
    )
    .expect("load the tiny executable");
    guest.run().expect("start the guest thread")
}

// Entry: fork (clone with only SIGCHLD as flags).
unsafe extern "C" fn fork_entry(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: a riscv64 state of a live context.
    unsafe {
        let pc = ecall(
            s,
            CLONE,
            &[libc::SIGCHLD as u64, 0, 0, 0, 0],
            TINY_ENTRY + 4,
        );
        jump(s, pc)
    }
}

// Entry + 4: the child exits with 7; the parent waits for it and exits
// with its exit status plus 30.
unsafe extern "C" fn fork_after(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: a riscv64 state of a live context; the status word goes
    // below the stack pointer, in the guest stack.
    unsafe {
        if rd(s, "a0") == 0 {
            let pc = ecall(s, EXIT_GROUP, &[7], TINY_ENTRY + 8);
            return jump(s, pc);
        }
        let ctx = ThreadContext::from_state(s);
        let status_at = rd(s, "sp") - 64;
        ecall(s, WAIT4, &[rd(s, "a0"), status_at, 0, 0], TINY_ENTRY + 8);
        let status = ctx.process.mem.read_u32(status_at).unwrap_or(0) as i32;
        let code = if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status) as u64 + 30
        } else {
            99
        };
        let pc = ecall(s, EXIT_GROUP, &[code], TINY_ENTRY + 8);
        jump(s, pc)
    }
}

#[test]
fn a_forked_guest_child_exit_status_reaches_its_parent() {
    let _serial = common::one_test_at_a_time();
    let (status, stderr) = in_child_capturing_stderr(|| {
        run_guest_with(vec![(TINY_ENTRY, fork_entry), (TINY_ENTRY + 4, fork_after)])
    });
    assert!(libc::WIFEXITED(status), "status {status:#x}");
    assert_eq!(libc::WEXITSTATUS(status), 37, "child status 7 + 30");
    assert_eq!(stderr, "");
}

// Entry: tgkill(self, SIGABRT) with the default disposition, then
// exit_group(0) (never reached).
unsafe extern "C" fn abort_entry(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: a riscv64 state of a live context.
    unsafe {
        let ctx = ThreadContext::from_state(s);
        let args = [
            libc::getpid() as u64,
            ctx.tid() as u64,
            libc::SIGABRT as u64,
        ];
        let pc = ecall(s, TGKILL, &args, TINY_ENTRY + 4);
        if pc != TINY_ENTRY + 4 {
            return jump(s, pc);
        }
        let pc = ecall(s, EXIT_GROUP, &[0], TINY_ENTRY + 8);
        jump(s, pc)
    }
}

#[test]
fn a_fatal_signal_the_guest_sends_itself_kills_silently_without_core() {
    let _serial = common::one_test_at_a_time();
    let (status, stderr) =
        in_child_capturing_stderr(|| run_guest_with(vec![(TINY_ENTRY, abort_entry)]));
    assert!(libc::WIFSIGNALED(status), "status {status:#x}");
    assert_eq!(libc::WTERMSIG(status), libc::SIGABRT);
    assert!(!libc::WCOREDUMP(status), "no core file");
    assert_eq!(stderr, "", "no report for a signal the guest sent");
}

// Entry: an illegal instruction trap.
unsafe extern "C" fn trap_entry(s: *mut u8, _m: *mut u8) -> u64 {
    // SAFETY: a riscv64 state.
    unsafe { leave(s, exit::TRAP_ILLEGAL, TINY_ENTRY) }
}

#[test]
fn a_trap_kills_by_its_signal_with_a_report() {
    let _serial = common::one_test_at_a_time();
    let (status, stderr) =
        in_child_capturing_stderr(|| run_guest_with(vec![(TINY_ENTRY, trap_entry)]));
    assert!(libc::WIFSIGNALED(status), "status {status:#x}");
    assert_eq!(libc::WTERMSIG(status), libc::SIGILL);
    assert!(!libc::WCOREDUMP(status), "no core file");
    assert_eq!(
        stderr,
        format!("vmtrans: guest SIGILL at pc {TINY_ENTRY:#x}\n")
    );
}

#[test]
fn waitid_reports_a_child_exit_in_the_guest_siginfo() {
    let _serial = common::one_test_at_a_time();
    let ctx = common::process();
    // SAFETY: the child only exits.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: ends the child at once.
        unsafe { libc::_exit(5) };
    }
    let info = common::SCRATCH;
    let args = [
        libc::P_PID as u64,
        pid as u64,
        info,
        libc::WEXITED as u64,
        0,
    ];
    assert_eq!(common::syscall(&ctx, WAITID, &args), 0);
    let si = common::get(&ctx, info, 128);
    let int_at = |off: usize| i32::from_le_bytes(si[off..off + 4].try_into().unwrap());
    assert_eq!(int_at(0), libc::SIGCHLD, "si_signo");
    assert_eq!(int_at(8), libc::CLD_EXITED, "si_code");
    assert_eq!(int_at(16), pid, "si_pid");
    assert_eq!(int_at(24), 5, "si_status");
}
