//! The guest side of vmtrans: read a guest ELF, find its code, and lift it
//! into the shared IR.
//!
//! - [`loader`] reads a 64-bit little-endian ELF into a [`loader::GuestImage`].
//! - [`discover`] finds functions and blocks from the entry point, symbols,
//!   `.eh_frame` and recursive descent.
//! - One folder per guest ISA (`riscv64/`, `aarch64/`, `x86_64/`),
//!   each with `decode.rs`, `lift.rs` and `regs.rs`, implements [`Lifter`].

pub mod aarch64;
pub mod discover;
pub mod error;
pub mod jumptable;
pub mod lift;
pub mod loader;
pub mod riscv64;
pub mod x86_64;

use std::sync::Arc;

pub use error::{DecodeError, TranslateError};
pub use lift::{LiftCx, LiftError};
pub use vmtrans_abi::Arch;
use vmtrans_ir::RegFile;

/// Resolved jump tables: for each indirect jump's address, its targets.
pub type JumpTables = rustc_hash::FxHashMap<u64, Vec<u64>>;

/// What one guest instruction does to control flow, as code discovery needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// Falls through to the next instruction.
    Next,
    /// Unconditional direct jump to the target.
    Jump(u64),
    /// Conditional direct branch: to the target, or falls through.
    Branch(u64),
    /// Direct call of the target; returns to the next instruction.
    Call(u64),
    /// Jump through a register (switch tables, tail calls through pointers).
    IndirectJump,
    /// Call through a register; returns to the next instruction.
    IndirectCall,
    /// Return from a function.
    Return,
    /// System call; execution normally continues with the next instruction.
    Syscall,
    /// Stops this path: trap, breakpoint, undefined instruction on purpose.
    Stop,
}

/// One decoded guest instruction, summarised for discovery and for people.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InsnInfo {
    /// Guest address.
    pub addr: u64,
    /// Length in bytes.
    pub len: u8,
    /// Effect on control flow.
    pub flow: Flow,
    /// Disassembly in the style of the architecture's objdump.
    pub text: String,
}

/// A guest ISA frontend. Every guest implements this one trait; everything
/// above it (discovery, function lifting, the CLI) is shared.
pub trait Lifter: Send + Sync {
    /// The guest architecture.
    fn arch(&self) -> Arch;

    /// Decodes the instruction at the start of `code`, which sits at guest
    /// address `addr`. Errors name the address and the bytes.
    fn decode(&self, code: &[u8], addr: u64) -> Result<InsnInfo, DecodeError>;

    /// The guest register file lifted code reads and writes.
    fn regfile(&self) -> Arc<RegFile>;

    /// Lifts the instruction `code` (exactly its bytes) at `cx.pc()` into the
    /// function being built. An instruction the lifter does not support is an
    /// error naming the address and bytes; the caller turns it into a trap.
    fn lift(&self, code: &[u8], cx: &mut LiftCx) -> Result<(), LiftError>;

    /// Bits of a guest control register that lifted code tests often and
    /// that programs almost never set (aarch64: FPCR.FZ and FPCR.DN, tested
    /// around every float operation). A function that reads the register is
    /// lifted twice behind a test of those bits at its entry: one copy may
    /// take them as clear, so its tests fold away; the other is for when
    /// they are set. `None` (the default): lift each function once.
    fn usual_mode(&self) -> Option<UsualMode> {
        None
    }
}

/// See [`Lifter::usual_mode`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UsualMode {
    /// The control register.
    pub reg: vmtrans_ir::GuestReg,
    /// Its bits that are usually clear.
    pub clear: u64,
}

/// The lifter for `arch`. (Every guest ISA has a frontend; the `Result`
/// stays for callers that report an unsupported guest.)
pub fn lifter_for(arch: Arch) -> Result<&'static dyn Lifter, String> {
    match arch {
        Arch::Riscv64 => Ok(&riscv64::Riscv64Lifter),
        Arch::Aarch64 => Ok(&aarch64::Aarch64Lifter),
        Arch::X86_64 => Ok(&x86_64::X86_64Lifter),
    }
}
