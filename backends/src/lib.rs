//! vmtrans code generation: IR → Cranelift → x86_64 host code, ahead of
//! time ([`aot::compile_object`]) or just in time ([`jit::Jit`]).
//!
//! Both paths share every codegen function through
//! `&mut dyn cranelift_module::Module`, in two steps as in
//! rustc_codegen_cranelift: [`lower::lower_function`] builds the CLIF of
//! one IR function (declaring the runtime helpers it calls), and
//! [`codegen`] compiles it — inside the module, or on its own so the AOT
//! path can compile functions in parallel.
//!
//! Every translated function has the host C signature
//! `extern "C" fn(state: *mut u8, mem: *mut u8) -> u64` and follows the
//! contract in `vmtrans_abi`: guest registers at their CPU-state offsets,
//! guest memory at `mem + (addr & GUEST_ADDR_MASK)`, the exit reason in the
//! state header and the next guest PC as the result. Semantics are the IR
//! interpreter's, op for op; see [`lower`] for the representation and for
//! what goes through runtime helpers.

pub mod aot;
pub mod codegen;
mod error;
pub mod jit;
pub mod layout;
pub mod lower;
pub mod target;

pub use aot::compile_object;
pub use error::BackendError;
pub use jit::{HostFn, Jit, JitFunction, SymbolLookup};
pub use layout::RegLayout;
pub use target::{CompileOptions, CpuTarget, OptLevel};
