//! How a guest's end reaches the host: death by the guest's fatal signals
//! (the host process is killed by the same signal, without a core file and
//! without a report for signals the guest sent itself).
//!
//! Each guest runs through [`Guest::load`] and [`Guest::run`] (the CLI's
//! path) in a forked test process, since the runtime ends the host process.

use common::fake::{ecall, jump, leave};
use common::{in_child_capturing_stderr, tiny_exec_elf, TINY_ENTRY};
use std::sync::Arc;
use vmtrans_abi::exit;
use vmtrans_runtime::dispatch::{AotTable, GuestFn};
use vmtrans_runtime::{Guest, RunOptions, ThreadContext};

mod common;

const EXIT_GROUP: u64 = 94;
const TGKILL: u64 = 131;

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
