//! Ahead-of-time compilation into a relocatable x86_64 ELF object.
//!
//! The object holds one function per IR function (named
//! [`vmtrans_abi::function_symbol`] of its entry PC), the sorted entry
//! table, the metadata header, the guest image and a C `main` that calls
//! the runtime's [`vmtrans_abi::artifact::AOT_MAIN_SYMBOL`]; linked with
//! the runtime staticlib it is the translated executable.
//!
//! Functions are lowered one after another (lowering declares symbols in
//! the module), compiled to machine code in parallel on rayon's pool, then
//! placed in the object in order.

use std::collections::HashMap;

use cranelift_codegen::ir::{types, AbiParam, InstBuilder, UserFuncName};
use cranelift_codegen::Context;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{default_libcall_names, DataDescription, FuncId, Linkage, Module};
use cranelift_object::{ObjectBuilder, ObjectModule};
use rayon::prelude::*;
use vmtrans_abi::{artifact, Arch, ArtifactHeader, ABI_VERSION};
use vmtrans_ir::Module as IrModule;

use crate::codegen::{compile_clif, declare_guest_function, CompiledFunction};
use crate::lower::{body_signature, has_linkage, lower_function, lower_wrapper};
use crate::target::aot_isa;
use crate::{BackendError, CompileOptions};

/// Compiles `module` (functions of guest `arch`) into an ELF object with
/// `guest_image` (the guest ELF file) embedded.
pub fn compile_object(
    module: &IrModule,
    arch: Arch,
    guest_image: &[u8],
    opts: &CompileOptions,
) -> Result<Vec<u8>, BackendError> {
    let isa = aot_isa(opts)?;
    let builder = ObjectBuilder::new(isa, "vmtrans", default_libcall_names())?;
    let mut obj = ObjectModule::new(builder);
    let ids = declare_functions(&mut obj, module)?;
    let compiled = compile_functions(&mut obj, module, &ids, opts)?;
    for c in &compiled {
        c.define_in(&mut obj)?;
    }
    define_table(&mut obj, &table_entries(module, &ids))?;
    define_metadata(&mut obj, arch)?;
    define_image(&mut obj, guest_image)?;
    define_main(&mut obj)?;
    obj.finish()
        .emit()
        .map_err(|e| BackendError::Object(e.to_string()))
}

/// The ids of a module's functions, by index in the module: the entry
/// the runtime calls (contract signature) and the body direct calls use
/// (the same function when there is no linkage, see
/// [`crate::lower::has_linkage`]); and the bodies of the ordinary
/// functions by entry PC, for direct calls. A multi-entry variant is only
/// in the entry table.
struct FunctionIds {
    functions: Vec<(FuncId, FuncId)>,
    by_entry: HashMap<u64, FuncId>,
}

impl FunctionIds {
    /// The runtime entry of the module's function `index`.
    fn of(&self, index: usize) -> FuncId {
        self.functions[index].0
    }
}

/// Declares every function (exported, so debuggers and the runtime see
/// them); a multi-entry variant gets its own symbol (`…_entries`). A
/// body behind a wrapper is local, named `…_body`.
fn declare_functions(
    obj: &mut ObjectModule,
    module: &IrModule,
) -> Result<FunctionIds, BackendError> {
    let mut ids = FunctionIds {
        functions: Vec::with_capacity(module.functions.len()),
        by_entry: HashMap::new(),
    };
    for f in &module.functions {
        let variant = !f.extra_entries.is_empty();
        let entry = if variant {
            let name = format!("{}_entries", vmtrans_abi::function_symbol(f.entry_pc));
            let sig = crate::lower::host_signature(obj);
            obj.declare_function(&name, Linkage::Export, &sig)?
        } else {
            declare_guest_function(obj, f.entry_pc, Linkage::Export)?
        };
        let body = if has_linkage(&f.regs) {
            let name = format!(
                "{}_body",
                obj.declarations()
                    .get_function_decl(entry)
                    .linkage_name(entry)
            );
            let sig = body_signature(obj, &f.regs);
            obj.declare_function(&name, Linkage::Local, &sig)?
        } else {
            entry
        };
        ids.functions.push((entry, body));
        if !variant && ids.by_entry.insert(f.entry_pc, body).is_some() {
            return Err(BackendError::DuplicateEntry(f.entry_pc));
        }
    }
    Ok(ids)
}

/// `(pc, function)` for every entry: each ordinary function at its entry,
/// each multi-entry variant at its extra entries (not at the entry, which
/// is the ordinary function's), sorted by pc.
fn table_entries(module: &IrModule, ids: &FunctionIds) -> Vec<(u64, FuncId)> {
    let mut entries: Vec<(u64, FuncId)> = Vec::new();
    for (i, f) in module.functions.iter().enumerate() {
        let id = ids.of(i);
        if f.extra_entries.is_empty() {
            entries.push((f.entry_pc, id));
        } else {
            entries.extend(f.extra_entries.iter().map(|&pc| (pc, id)));
        }
    }
    entries.sort_by_key(|&(pc, _)| pc);
    // A block start that is also another function's entry: the function.
    entries.dedup_by_key(|&mut (pc, _)| pc);
    entries
}

/// Lowers every function in order, then compiles them (in parallel when
/// `opts.parallel`).
fn compile_functions(
    obj: &mut ObjectModule,
    module: &IrModule,
    ids: &FunctionIds,
    opts: &CompileOptions,
) -> Result<Vec<CompiledFunction>, BackendError> {
    let callees = |pc: u64| ids.by_entry.get(&pc).copied();
    let mut fctx = FunctionBuilderContext::new();
    let mut lowered = Vec::with_capacity(module.functions.len());
    for (f, &(entry, body)) in module.functions.iter().zip(&ids.functions) {
        let clif = lower_function(obj, f, &callees, opts, &mut fctx)?;
        lowered.push((body, f.name.as_str(), clif));
        if entry != body {
            let wrapper = lower_wrapper(obj, &f.regs, body, &mut fctx)?;
            lowered.push((entry, f.name.as_str(), wrapper));
        }
    }
    let isa = obj.isa();
    let compile = |(id, name, clif)| compile_clif(isa, id, name, clif);
    if opts.parallel {
        lowered.into_par_iter().map(compile).collect()
    } else {
        lowered.into_iter().map(compile).collect()
    }
}

/// A read-only data object named `symbol`, in `section` when given.
fn define_bytes(
    obj: &mut ObjectModule,
    symbol: &str,
    section: Option<&str>,
    bytes: Vec<u8>,
    align: u64,
) -> Result<(), BackendError> {
    let id = obj.declare_data(symbol, Linkage::Export, false, false)?;
    let mut data = DataDescription::new();
    data.define(bytes.into_boxed_slice());
    data.set_align(align);
    if let Some(s) = section {
        data.set_custom_section(s);
    }
    obj.define_data(id, &data)?;
    Ok(())
}

/// The entry table: `(pc, function)` pairs sorted by pc, and its length.
/// It is writable data so the absolute relocations need no text
/// relocations in a position-independent executable.
fn define_table(obj: &mut ObjectModule, entries: &[(u64, FuncId)]) -> Result<(), BackendError> {
    let pcs: Vec<u64> = entries.iter().map(|&(pc, _)| pc).collect();
    let table = obj.declare_data(artifact::TABLE_SYMBOL, Linkage::Export, true, false)?;
    let mut data = DataDescription::new();
    let mut bytes = vec![0u8; pcs.len() * 16];
    for (i, pc) in pcs.iter().enumerate() {
        bytes[i * 16..i * 16 + 8].copy_from_slice(&pc.to_le_bytes());
    }
    data.define(bytes.into_boxed_slice());
    data.set_align(8);
    data.set_custom_section(artifact::TABLE_SECTION);
    for (i, &(_, id)) in entries.iter().enumerate() {
        let fref = obj.declare_func_in_data(id, &mut data);
        data.write_function_addr((i * 16 + 8) as u32, fref);
    }
    obj.define_data(table, &data)?;
    let len = (pcs.len() as u64).to_le_bytes().to_vec();
    define_bytes(obj, artifact::TABLE_LEN_SYMBOL, None, len, 8)
}

/// The bytes of the metadata header, field by field, little endian.
pub fn metadata_bytes(arch: Arch) -> Vec<u8> {
    let h = ArtifactHeader {
        magic: artifact::MAGIC,
        format_version: artifact::FORMAT_VERSION,
        abi_version: ABI_VERSION,
        arch: arch.number(),
        reserved: 0,
    };
    let mut b = h.magic.to_vec();
    for field in [h.format_version, h.abi_version, h.arch, h.reserved] {
        b.extend_from_slice(&field.to_le_bytes());
    }
    debug_assert_eq!(b.len(), std::mem::size_of::<ArtifactHeader>());
    b
}

fn define_metadata(obj: &mut ObjectModule, arch: Arch) -> Result<(), BackendError> {
    define_bytes(
        obj,
        artifact::METADATA_SYMBOL,
        Some(artifact::METADATA_SECTION),
        metadata_bytes(arch),
        8,
    )
}

fn define_image(obj: &mut ObjectModule, image: &[u8]) -> Result<(), BackendError> {
    define_bytes(
        obj,
        artifact::IMAGE_SYMBOL,
        Some(artifact::IMAGE_SECTION),
        image.to_vec(),
        16,
    )?;
    let len = (image.len() as u64).to_le_bytes().to_vec();
    define_bytes(obj, artifact::IMAGE_LEN_SYMBOL, None, len, 8)
}

/// `int main(int argc, char **argv, char **envp)` returning
/// `vmtrans_aot_main(argc, argv, envp, &meta, table, table_len, image,
/// image_len)` (see `abi::artifact::AOT_MAIN_SYMBOL`).
fn define_main(obj: &mut ObjectModule) -> Result<(), BackendError> {
    let mut sig = obj.make_signature();
    sig.params.push(AbiParam::new(types::I32));
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::I32));
    let main = obj.declare_function("main", Linkage::Export, &sig)?;
    let mut entry_sig = sig.clone();
    for _ in 0..5 {
        entry_sig.params.push(AbiParam::new(types::I64));
    }
    let runtime = obj.declare_function(artifact::AOT_MAIN_SYMBOL, Linkage::Import, &entry_sig)?;
    let meta = obj.declare_data(artifact::METADATA_SYMBOL, Linkage::Import, false, false)?;
    let table = obj.declare_data(artifact::TABLE_SYMBOL, Linkage::Import, true, false)?;
    let table_len = obj.declare_data(artifact::TABLE_LEN_SYMBOL, Linkage::Import, false, false)?;
    let image = obj.declare_data(artifact::IMAGE_SYMBOL, Linkage::Import, false, false)?;
    let image_len = obj.declare_data(artifact::IMAGE_LEN_SYMBOL, Linkage::Import, false, false)?;
    let mut ctx = Context::new();
    ctx.func.signature = sig;
    ctx.func.name = UserFuncName::user(0, main.as_u32());
    let mut fctx = FunctionBuilderContext::new();
    let mut b = FunctionBuilder::new(&mut ctx.func, &mut fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let mut args = b.block_params(entry).to_vec();
    let address = |b: &mut FunctionBuilder, id| {
        let gv = obj.declare_data_in_func(id, b.func);
        b.ins().symbol_value(types::I64, gv)
    };
    let flags = cranelift_codegen::ir::MemFlagsData::new();
    let meta_addr = address(&mut b, meta);
    let table_addr = address(&mut b, table);
    let table_len_addr = address(&mut b, table_len);
    let table_len = b.ins().load(types::I64, flags, table_len_addr, 0);
    let image_addr = address(&mut b, image);
    let image_len_addr = address(&mut b, image_len);
    let image_len = b.ins().load(types::I64, flags, image_len_addr, 0);
    args.extend([meta_addr, table_addr, table_len, image_addr, image_len]);
    let callee = obj.declare_func_in_func(runtime, b.func);
    let call = b.ins().call(callee, &args);
    let r = b.inst_results(call)[0];
    b.ins().return_(&[r]);
    b.seal_all_blocks();
    b.finalize(obj.target_config());
    obj.define_function(main, &mut ctx)?;
    Ok(())
}
