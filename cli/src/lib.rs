//! The parts of vmtrans that both the `vmtrans` command and AOT-translated
//! executables need: the JIT code provider and the AOT entry point.
//!
//! Built as an rlib (for the command) and as a staticlib, which
//! `vmtrans translate` links into every AOT executable: the runtime plus the
//! JIT, so code not found ahead of time is still translated at run time.

pub mod aot_entry;
pub mod jit;
