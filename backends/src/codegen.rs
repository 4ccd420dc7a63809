//! The two steps AOT and JIT share: build the CLIF of a function
//! ([`crate::lower::lower_function`]) and compile it to machine code,
//! either inside the module ([`define_function`]) or on its own, on any
//! thread ([`compile_clif`]), to be placed with
//! [`Module::define_function_bytes`].

use cranelift_codegen::control::ControlPlane;
use cranelift_codegen::ir as cl;
use cranelift_codegen::isa::TargetIsa;
use cranelift_codegen::{CodegenError, Context};
use cranelift_frontend::FunctionBuilderContext;
use cranelift_module::{FuncId, Linkage, Module, ModuleError, ModuleReloc};
use vmtrans_abi::function_symbol;
use vmtrans_ir::Function;

use crate::lower::{host_signature, lower_function, CalleeLookup};
use crate::{BackendError, CompileOptions};

/// Declares the translated function whose guest entry is `pc` under its
/// contract name ([`function_symbol`]).
pub fn declare_guest_function(
    module: &mut dyn Module,
    pc: u64,
    linkage: Linkage,
) -> Result<FuncId, BackendError> {
    let sig = host_signature(module);
    Ok(module.declare_function(&function_symbol(pc), linkage, &sig)?)
}

/// Lowers `func` and compiles it into `module` as `id`.
pub fn define_function(
    module: &mut dyn Module,
    id: FuncId,
    func: &Function,
    callees: CalleeLookup<'_>,
    opts: &CompileOptions,
    fctx: &mut FunctionBuilderContext,
) -> Result<(), BackendError> {
    let clif = lower_function(module, func, callees, opts, fctx)?;
    let mut ctx = Context::for_function(clif);
    match module.define_function(id, &mut ctx) {
        Ok(()) => Ok(()),
        Err(ModuleError::Compilation(e)) => Err(codegen_error(&func.name, &ctx.func, e)),
        Err(e) => Err(e.into()),
    }
}

/// Machine code of one function compiled outside a module.
pub struct CompiledFunction {
    /// The function's id in the module it will be defined in.
    pub id: FuncId,
    /// Required alignment of the code.
    pub alignment: u64,
    /// The code.
    pub bytes: Vec<u8>,
    /// Relocations against the module's symbols.
    pub relocs: Vec<ModuleReloc>,
}

impl CompiledFunction {
    /// Places the code in `module` (the module it was declared in).
    pub fn define_in(&self, module: &mut dyn Module) -> Result<(), BackendError> {
        Ok(module.define_function_bytes(self.id, self.alignment, &self.bytes, &self.relocs)?)
    }
}

/// Compiles CLIF built for function `id` (needs only the ISA, so any
/// number of these run in parallel).
pub fn compile_clif(
    isa: &dyn TargetIsa,
    id: FuncId,
    name: &str,
    clif: cl::Function,
) -> Result<CompiledFunction, BackendError> {
    let mut ctx = Context::for_function(clif);
    if let Err(e) = ctx.compile(isa, &mut ControlPlane::default()) {
        return Err(codegen_error(name, e.func, e.inner));
    }
    let compiled = ctx.compiled_code().expect("compiled just now");
    let alignment = u64::from(compiled.buffer.alignment);
    let bytes = compiled.code_buffer().to_vec();
    let relocs = compiled
        .buffer
        .relocs()
        .iter()
        .map(|r| ModuleReloc::from_mach_reloc(r, &ctx.func, id))
        .collect();
    Ok(CompiledFunction {
        id,
        alignment,
        bytes,
        relocs,
    })
}

fn codegen_error(name: &str, func: &cl::Function, e: CodegenError) -> BackendError {
    let message = match e {
        CodegenError::Verifier(_) => cranelift_codegen::print_errors::pretty_error(func, e),
        other => other.to_string(),
    };
    BackendError::Codegen {
        function: name.to_string(),
        message,
    }
}
