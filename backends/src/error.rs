//! The one error type of this crate.

use vmtrans_ir::verify::VerifyError;

/// Why IR could not be turned into host code.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The IR function is malformed (the verifier's message).
    #[error("invalid IR: {0}")]
    Verify(#[from] VerifyError),
    /// The IR uses something this backend cannot lower.
    #[error("function {function}: {message}")]
    Unsupported {
        /// Function name.
        function: String,
        /// What is not supported, with the instruction text.
        message: String,
    },
    /// The function's register file does not fit the runtime's CPU state.
    #[error("register file {file}: {message}")]
    RegisterFile {
        /// Name of the register file.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// Cranelift rejected or failed to compile the generated code.
    #[error("function {function}: code generation failed: {message}")]
    Codegen {
        /// Function name.
        function: String,
        /// Cranelift's message (with the CLIF when the verifier failed).
        message: String,
    },
    /// Declaring or defining a symbol in the Cranelift module failed.
    #[error("module: {0}")]
    Module(String),
    /// The host or target instruction set could not be configured.
    #[error("target ISA: {0}")]
    Isa(String),
    /// Two functions of a module start at the same guest address.
    #[error("two functions start at guest address {0:#x}")]
    DuplicateEntry(u64),
    /// A runtime symbol that JIT code calls is not provided by the lookup.
    #[error("runtime symbol {0} is not provided")]
    UnresolvedSymbol(String),
    /// Writing the object file failed.
    #[error("object file: {0}")]
    Object(String),
}

impl From<cranelift_module::ModuleError> for BackendError {
    fn from(e: cranelift_module::ModuleError) -> BackendError {
        BackendError::Module(e.to_string())
    }
}
