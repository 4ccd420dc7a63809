//! The shared SSA IR of vmtrans.
//!
//! Every guest (riscv64, aarch64, x86_64) is lifted into this one IR; every
//! backend lowers from it. This page is the design in brief.
//!
//! **Values.** SSA values ([`Value`]) of a [`Type`]: `i1`..`i128`, `f32`,
//! `f64`, `v128`. Integers have no sign; ops say how they read bits. Each
//! value is defined once, by an instruction or as a block parameter.
//!
//! **Blocks and the CFG.** A [`Function`] is a list of blocks. Blocks have
//! *parameters* instead of phi nodes: a branch passes one argument per
//! parameter. Each block ends in exactly one [`Terminator`]: `jump`, `brif`,
//! `switch` (resolved jump tables), `call` (guest call with a continuation),
//! `ret`, `exit` (back to the runtime's dispatcher with a guest PC) or `trap`.
//! The CFG is a petgraph `DiGraphMap` that [`Function::set_terminator`] keeps
//! equal to what the terminators say; the verifier checks it.
//!
//! **Ops.** Declared once in [`ops`] (one table row each); the opcode enum,
//! builder methods, printer, parser and type rules come from the table.
//! Semantics are total and explicit: division by zero, signed overflow,
//! over-wide shifts, float-to-int conversion at the edges and NaN handling all
//! have defined results; guests compose their own behaviour from them.
//!
//! **Guest state.** Each guest declares a [`RegFile`] (from the runtime
//! contract). `read_reg`/`write_reg` access the CPU state in memory. Lifters
//! use [`FunctionBuilder::use_reg`]/[`FunctionBuilder::def_reg`] instead and
//! the builder makes SSA values of registers, writing them back only at sync
//! points (helper calls, guest calls, returns, exits, traps).
//! A register file may name *linkage* registers ([`RegFile::link_in`],
//! [`RegFile::link_out`]): the builder hands their values to a `call` or
//! `ret` with `link_out` and receives them at a function's entry and after
//! a call with `link_in`, and the backend passes them in host registers;
//! the interpreter (like a file without a linkage) moves them through the
//! CPU state, which is the same thing as far as guest code can tell.
//!
//! **Flags.** Condition flags are ordinary registers of type `i1` (x86 CF, PF,
//! AF, ZF, SF, OF; aarch64 N, Z, C, V), each computed by its own ops
//! (`icmp`, `uadd_overflow`, `ssub_overflow`, `parity`, ...). A flag nobody
//! reads is a dead value and dead-code elimination removes its computation;
//! the register pass removes its write-back when a later write makes it dead.
//!
//! **Memory.** `load`/`store` of any type at any alignment take an `i64`
//! guest address; `atomic_rmw`, `atomic_cas` and `fence` give atomics. How a
//! guest address reaches host memory is the backend's business.
//!
//! **Exits.** `exit` and `ret` return to the runtime with the guest PC to
//! continue at; `call` runs other guest code and continues when it returns
//! to the expected address; `trap` stops with a fault. Helpers (`syscall`,
//! counters, `cpuid`, FP environment) are instructions that see the CPU state.
//!
//! Around this: a [`verify`] pass, a text format ([`print`](mod@print), [`parse`]) that
//! round-trips exactly, a reference [`interp`]reter that is the semantic
//! oracle, and the pass pipeline ([`passes::pipeline`]).

pub mod builder;
pub mod function;
pub mod interp;
pub mod ops;
pub mod parse;
pub mod passes;
pub mod print;
pub mod types;
pub mod verify;

pub use builder::FunctionBuilder;
pub use function::{
    Block, BlockCall, BlockData, Function, GuestReg, Inst, InstData, Module, RegDesc, RegFile,
    Terminator, Value, ValueData, ValueDef,
};
pub use ops::{
    AtomicOp, FloatCC, Helper, Imm, ImmKind, IntCC, Opcode, RoundingMode, Sig, TrapKind,
};
pub use types::Type;
