//! The vmtrans runtime: the world a translated guest program runs in.
//!
//! - [`mmu`]: guest memory — one host reservation, the guest memory map,
//!   brk and mmap allocation, checked accessors.
//! - [`loader`]: mapping the guest ELF and building the initial stack.
//! - [`cpu`]: the CPU state generated code works on.
//! - [`arch`]: per-guest-architecture ABI details (riscv64 today).
//! - [`syscall`]: Linux system call emulation (`vmtrans_rt_syscall`).
//! - [`dispatch`]: guest PC → host code ([`CodeProvider`]), the run loop
//!   and the `vmtrans_rt_call` / `vmtrans_rt_continue` helpers.
//! - [`signals`] and [`fault`]: guest signals and host fault handling.
//! - [`helpers`]: counters, CPUID, FP environment, code flushes.
//! - [`x87`]: x86_64 guests' x87 arithmetic on the host's x87 unit.
//! - [`entry`]: [`run_guest`] for the CLI; [`aot`]: the AOT executable entry.
//!
//! The runtime never depends on the translator or the backends: the JIT is
//! plugged in as a [`CodeProvider`].

pub mod aot;
pub mod arch;
pub mod context;
pub mod cpu;
pub mod dispatch;
pub mod entry;
pub mod error;
pub mod fault;
pub mod fpop;
pub mod helpers;
pub mod loader;
pub mod mmu;
pub mod signals;
pub mod syscall;
pub mod x87;

pub use context::{Process, RunOptions, Stop, ThreadContext};
pub use cpu::CpuState;
pub use dispatch::{AotTable, ChainProvider, CodeProvider, GuestFn};
pub use entry::{run_guest, Guest};
pub use error::{Errno, RuntimeError};
pub use mmu::GuestMemory;
