//! Just-in-time compilation into this process with cranelift-jit.
//!
//! The runtime lives in the same process in JIT mode, so the helpers
//! generated code calls (`vmtrans_rt_*`) are resolved through a lookup the
//! caller supplies; a helper it does not provide is an error before any
//! code is placed. Lowering is the same code the AOT path uses.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use cranelift_codegen::Context;
use cranelift_frontend::FunctionBuilderContext;
use cranelift_jit::{JITBuilder, JITModule};
use cranelift_module::{default_libcall_names, FuncId, Linkage, Module};
use vmtrans_ir::Function;

use crate::lower::{
    body_signature, guest_pc_of, has_linkage, host_signature, lower_function, lower_wrapper,
};
use crate::target::host_isa;
use crate::{BackendError, CompileOptions};

/// Resolves a runtime symbol name to its address in this process.
pub type SymbolLookup = Arc<dyn Fn(&str) -> Option<*const u8> + Send + Sync>;

/// A translated function: `extern "C" fn(state, mem) -> pc`, see
/// [`vmtrans_abi::exit`] for the protocol.
pub type HostFn = unsafe extern "C" fn(state: *mut u8, mem: *mut u8) -> u64;

/// Rounding libcalls Cranelift emits on a CPU without SSE4.1, served from
/// Rust so JIT code never depends on what libm the process loaded.
fn libcall(name: &str) -> Option<*const u8> {
    extern "C" fn ceilf(x: f32) -> f32 {
        x.ceil()
    }
    extern "C" fn ceil(x: f64) -> f64 {
        x.ceil()
    }
    extern "C" fn floorf(x: f32) -> f32 {
        x.floor()
    }
    extern "C" fn floor(x: f64) -> f64 {
        x.floor()
    }
    extern "C" fn truncf(x: f32) -> f32 {
        x.trunc()
    }
    extern "C" fn trunc(x: f64) -> f64 {
        x.trunc()
    }
    extern "C" fn nearbyintf(x: f32) -> f32 {
        x.round_ties_even()
    }
    extern "C" fn nearbyint(x: f64) -> f64 {
        x.round_ties_even()
    }
    let f: *const u8 = match name {
        "ceilf" => ceilf as *const u8,
        "ceil" => ceil as *const u8,
        "floorf" => floorf as *const u8,
        "floor" => floor as *const u8,
        "truncf" => truncf as *const u8,
        "trunc" => trunc as *const u8,
        "nearbyintf" => nearbyintf as *const u8,
        "nearbyint" => nearbyint as *const u8,
        _ => return None,
    };
    Some(f)
}

/// A function the JIT placed in memory.
#[derive(Clone, Debug)]
pub struct JitFunction {
    /// Entry address ([`HostFn`] signature).
    pub code: *const u8,
    /// The translated body: `code` itself, or the function `code` wraps
    /// when registers are handed over in host registers (see
    /// [`crate::lower::has_linkage`]).
    pub body: *const u8,
    /// Size of the body's code in bytes.
    pub size: usize,
    /// `(start, end, guest pc)`: body code offsets `start..end` come from
    /// the guest instruction at `guest pc` (as the lifter recorded it);
    /// sorted by `start`. Best effort: an op Cranelift folds into a later
    /// one (a load into its user) is attributed to the later one.
    pub guest_pcs: Vec<(u32, u32, u64)>,
}

/// Size and guest-address ranges of the code compiled in `ctx`.
fn code_info(entry_pc: u64, ctx: &Context) -> (usize, Vec<(u32, u32, u64)>) {
    let Some(compiled) = ctx.compiled_code() else {
        return (0, Vec::new());
    };
    let ranges = compiled
        .buffer
        .get_srclocs_sorted()
        .iter()
        .filter_map(|s| guest_pc_of(entry_pc, s.loc).map(|pc| (s.start, s.end, pc)))
        .collect();
    (compiled.code_info().total_size as usize, ranges)
}

/// A JIT compiler: IR functions in, callable host code out. Code stays
/// valid as long as the `Jit` lives.
pub struct Jit {
    module: JITModule,
    fctx: FunctionBuilderContext,
    opts: CompileOptions,
    lookup: SymbolLookup,
    resolved: HashSet<String>,
}

impl Jit {
    /// A JIT for the host CPU whose generated code finds runtime helpers
    /// through `lookup`.
    pub fn new(lookup: SymbolLookup, opts: CompileOptions) -> Result<Jit, BackendError> {
        let isa = host_isa(&opts)?;
        let mut builder = JITBuilder::with_isa(isa, default_libcall_names());
        builder.symbol_lookup_fn(Box::new(libcall));
        let inner = lookup.clone();
        builder.symbol_lookup_fn(Box::new(move |name| inner(name)));
        Ok(Jit {
            module: JITModule::new(builder),
            fctx: FunctionBuilderContext::new(),
            opts,
            lookup,
            resolved: HashSet::new(),
        })
    }

    /// Compiles one function; returns its entry address.
    pub fn compile(&mut self, f: &Function) -> Result<*const u8, BackendError> {
        Ok(self.compile_batch(std::slice::from_ref(f))?[0])
    }

    /// Compiles several functions at once; guest calls between them with a
    /// constant target become direct host calls. Returns the entry
    /// addresses in the order given.
    pub fn compile_batch(&mut self, fs: &[Function]) -> Result<Vec<*const u8>, BackendError> {
        Ok(self
            .compile_batch_info(fs)?
            .into_iter()
            .map(|f| f.code)
            .collect())
    }

    /// Like [`Jit::compile_batch`], with each function's code size and the
    /// guest address of its code ranges (for mapping a faulting host PC
    /// to the guest instruction).
    pub fn compile_batch_info(
        &mut self,
        fs: &[Function],
    ) -> Result<Vec<JitFunction>, BackendError> {
        let sig = host_signature(&self.module);
        let mut by_pc: HashMap<u64, FuncId> = HashMap::new();
        let mut ids = Vec::with_capacity(fs.len());
        for f in fs {
            let entry = self.module.declare_anonymous_function(&sig)?;
            let body = if has_linkage(&f.regs) {
                let body_sig = body_signature(&self.module, &f.regs);
                self.module.declare_anonymous_function(&body_sig)?
            } else {
                entry
            };
            if by_pc.insert(f.entry_pc, body).is_some() {
                return Err(BackendError::DuplicateEntry(f.entry_pc));
            }
            ids.push((entry, body));
        }
        let callees = |pc: u64| by_pc.get(&pc).copied();
        let mut contexts = Vec::with_capacity(fs.len());
        for (f, &(entry, body)) in fs.iter().zip(&ids) {
            let clif = lower_function(&mut self.module, f, &callees, &self.opts, &mut self.fctx)?;
            let wrapper = if entry == body {
                None
            } else {
                let w = lower_wrapper(&mut self.module, &f.regs, body, &mut self.fctx)?;
                Some(Context::for_function(w))
            };
            contexts.push((Context::for_function(clif), wrapper));
        }
        self.check_imports()?;
        let mut infos = Vec::with_capacity(fs.len());
        for ((f, &(entry, body)), (ctx, wrapper)) in fs.iter().zip(&ids).zip(&mut contexts) {
            self.define(f, body, ctx)?;
            if let Some(w) = wrapper {
                self.define(f, entry, w)?;
            }
            infos.push(code_info(f.entry_pc, ctx));
        }
        self.module.finalize_definitions()?;
        Ok(ids
            .iter()
            .zip(infos)
            .map(|(&(entry, body), (size, guest_pcs))| JitFunction {
                code: self.module.get_finalized_function(entry),
                body: self.module.get_finalized_function(body),
                size,
                guest_pcs,
            })
            .collect())
    }

    /// Compiles the CLIF in `ctx` as function `id`, lowered from `f`.
    fn define(&mut self, f: &Function, id: FuncId, ctx: &mut Context) -> Result<(), BackendError> {
        self.module.define_function(id, ctx).map_err(|e| match e {
            cranelift_module::ModuleError::Compilation(c) => BackendError::Codegen {
                function: f.name.clone(),
                message: cranelift_codegen::print_errors::pretty_error(&ctx.func, c),
            },
            other => other.into(),
        })
    }

    /// Every imported symbol must be provided by the lookup (checked once
    /// per name), so finalizing never meets an unresolved helper.
    fn check_imports(&mut self) -> Result<(), BackendError> {
        let imports: Vec<String> = self
            .module
            .declarations()
            .get_functions()
            .filter(|(_, d)| d.linkage == Linkage::Import)
            .filter_map(|(_, d)| d.name.clone())
            .collect();
        for name in imports {
            if self.resolved.contains(&name) {
                continue;
            }
            if (self.lookup)(&name).is_none() {
                return Err(BackendError::UnresolvedSymbol(name));
            }
            self.resolved.insert(name);
        }
        Ok(())
    }
}
