//! Guest registers handed over in host registers at guest calls and
//! returns ([`vmtrans_ir::RegFile::link_in`], [`vmtrans_ir::RegFile::link_out`]).
//!
//! A function whose register file has a linkage is compiled as two host
//! functions:
//! - the *body*, in Cranelift's `tail` convention:
//!   `fn(state, mem, link_in…) -> (pc, link_out…)`. Direct guest calls
//!   between translated functions call bodies, so the stack pointer,
//!   return address, arguments and results never pass through the CPU
//!   state on that path.
//! - the *wrapper*, with the contract signature
//!   `extern "C" fn(state, mem) -> pc` and the contract symbol: it loads
//!   the `link_in` registers from the state, calls the body and, when the
//!   body returned (`EXIT_REASON` is `RETURN`), stores the `link_out`
//!   results. The runtime and indirect calls enter here.
//!
//! In a body, each linkage register is a Cranelift variable: `link_in`
//! reads it, `link_out` sets it; the entry defines it from the parameters
//! and a guest call from the callee's results. A body that leaves any
//! other way than `ret` (an exit, a trap) has written every register to
//! the state and returns zeros in the linkage slots, which nobody reads:
//! callers look at the exit reason first.

use cranelift_codegen::ir::{self as cl, condcodes::IntCC, types, AbiParam, InstBuilder};
use cranelift_codegen::isa::CallConv;
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext, Variable};
use cranelift_module::{FuncId, Module};
use vmtrans_abi::{exit, header};
use vmtrans_ir::{GuestReg, RegFile};

use super::{cl_type, host_signature, Lower};
use crate::layout::RegLayout;
use crate::BackendError;

/// True when functions of `regs` hand registers over in host registers
/// (and so are compiled as a body and a wrapper).
pub fn has_linkage(regs: &RegFile) -> bool {
    !regs.link_in.is_empty() || !regs.link_out.is_empty()
}

/// The signature of a function body: the contract signature when `regs`
/// has no linkage, else `tail fn(state, mem, link_in…) -> (pc, link_out…)`.
/// (`mem` stays even when guest memory is at host address 0: that zero is
/// the base register scaled guest addresses fold into, see `memory`.)
pub fn body_signature(module: &dyn Module, regs: &RegFile) -> cl::Signature {
    let mut sig = host_signature(module);
    if !has_linkage(regs) {
        return sig;
    }
    sig.call_conv = CallConv::Tail;
    let ty = |r: &GuestReg| AbiParam::new(cl_type(regs.desc(*r).ty));
    sig.params.extend(regs.link_in.iter().map(ty));
    sig.returns.extend(regs.link_out.iter().map(ty));
    sig
}

/// The CLIF of the wrapper that enters body `body` of a function of
/// `regs` with the contract signature (see the module documentation).
pub fn lower_wrapper(
    module: &mut dyn Module,
    regs: &RegFile,
    body: FuncId,
    fctx: &mut FunctionBuilderContext,
) -> Result<cl::Function, BackendError> {
    let layout = RegLayout::new(regs)?;
    let sig = host_signature(module);
    let mut clif = cl::Function::with_name_signature(cl::UserFuncName::default(), sig);
    let mut b = FunctionBuilder::new(&mut clif, fctx);
    let entry = b.create_block();
    b.append_block_params_for_function_params(entry);
    b.switch_to_block(entry);
    let (state, mem) = (b.block_params(entry)[0], b.block_params(entry)[1]);
    let flags = cl::MemFlagsData::new()
        .with_notrap()
        .with_endianness(cl::Endianness::Little);
    let mut args = vec![state, mem];
    for &r in &regs.link_in {
        let ty = cl_type(regs.desc(r).ty);
        args.push(b.ins().load(ty, flags, state, offset(&layout, r)));
    }
    let callee = module.declare_func_in_func(body, b.func);
    let call = b.ins().call(callee, &args);
    let results = b.inst_results(call).to_vec();
    let reason = b
        .ins()
        .load(types::I64, flags, state, header::EXIT_REASON as i32);
    let returned = b
        .ins()
        .icmp_imm_s(IntCC::Equal, reason, exit::RETURN as i64);
    let store = b.create_block();
    let done = b.create_block();
    b.ins().brif(returned, store, &[], done, &[]);
    b.switch_to_block(store);
    for (&r, &v) in regs.link_out.iter().zip(&results[1..]) {
        b.ins().store(flags, v, state, offset(&layout, r));
    }
    b.ins().jump(done, &[]);
    b.switch_to_block(done);
    b.ins().return_(&results[..1]);
    b.seal_all_blocks();
    b.finalize(module.target_config());
    Ok(clif)
}

fn offset(layout: &RegLayout, r: GuestReg) -> i32 {
    layout.offset(r.index()) as i32
}

/// The linkage registers of the function being lowered, one Cranelift
/// variable each.
#[derive(Default)]
pub(super) struct LinkVars {
    vars: Vec<(GuestReg, Variable)>,
}

impl LinkVars {
    fn var(&self, reg: GuestReg) -> Option<Variable> {
        self.vars.iter().find(|(r, _)| *r == reg).map(|&(_, v)| v)
    }
}

impl Lower<'_> {
    /// Declares the linkage variables and defines the `link_in` ones from
    /// the body's parameters (after the state and memory pointers).
    pub(super) fn init_linkage(&mut self, params: &[cl::Value]) {
        let regs = &self.f.regs;
        if !has_linkage(regs) {
            return;
        }
        for &r in regs.link_in.iter().chain(&regs.link_out) {
            if self.link.var(r).is_none() {
                let var = self.b.declare_var(cl_type(regs.desc(r).ty));
                self.link.vars.push((r, var));
            }
        }
        for (&r, &p) in regs.link_in.iter().zip(&params[2..]) {
            let var = self.link_var(r);
            self.b.def_var(var, p);
        }
    }

    fn link_var(&self, reg: GuestReg) -> Variable {
        self.link
            .var(reg)
            .expect("linkage ops name linkage registers (verified)")
    }

    /// `link_in`: the value handed over for `reg`; without a linkage, the
    /// state's.
    pub(super) fn link_in(&mut self, reg: GuestReg) -> cl::Value {
        match self.link.var(reg) {
            Some(var) => self.b.use_var(var),
            None => self.read_reg(reg, self.f.regs.desc(reg).ty),
        }
    }

    /// `link_out`: hands `x` over for `reg`; without a linkage, writes the
    /// state.
    pub(super) fn link_out(&mut self, reg: GuestReg, x: cl::Value) {
        match self.link.var(reg) {
            Some(var) => self.b.def_var(var, x),
            None => self.write_reg(reg, x),
        }
    }

    /// The current values of `regs`' variables (none without a linkage:
    /// the lists are then empty).
    fn link_values(&mut self, regs: &[GuestReg]) -> Vec<cl::Value> {
        regs.iter()
            .map(|&r| {
                let var = self.link_var(r);
                self.b.use_var(var)
            })
            .collect()
    }

    /// The arguments of a direct call of a body: the state and memory
    /// pointers, then `handed`.
    pub(super) fn body_args(&mut self, handed: &[cl::Value]) -> Vec<cl::Value> {
        let mut args = vec![self.state, self.mem_arg()];
        args.extend(handed);
        args
    }

    /// The values of the `link_in` registers, handed to a callee.
    pub(super) fn call_linkage(&mut self) -> Vec<cl::Value> {
        let regs = self.f.regs.link_in.clone();
        self.link_values(&regs)
    }

    /// The results a `ret` hands back.
    pub(super) fn return_linkage(&mut self) -> Vec<cl::Value> {
        let regs = self.f.regs.link_out.clone();
        self.link_values(&regs)
    }

    /// Placeholder results for leaving other than by `ret`.
    pub(super) fn unused_linkage(&mut self) -> Vec<cl::Value> {
        let regs = self.f.regs.link_out.clone();
        regs.iter()
            .map(|&r| {
                let ty = cl_type(self.f.regs.desc(r).ty);
                self.b.ins().iconst(ty, 0)
            })
            .collect()
    }

    /// Sets the `link_out` variables to a callee's results.
    pub(super) fn receive_linkage(&mut self, results: &[cl::Value]) {
        let regs = self.f.regs.link_out.clone();
        for (&r, &v) in regs.iter().zip(results) {
            let var = self.link_var(r);
            self.b.def_var(var, v);
        }
    }

    /// For a callee entered through the runtime: stores the call's
    /// linkage arguments to the state.
    pub(super) fn store_call_linkage(&mut self, args: &[cl::Value]) {
        let regs = self.f.regs.link_in.clone();
        for (&r, &v) in regs.iter().zip(args) {
            self.write_reg(r, v);
        }
    }

    /// The `link_out` registers as the state holds them (after a callee
    /// entered through the runtime).
    pub(super) fn load_return_linkage(&mut self) -> Vec<cl::Value> {
        let regs = self.f.regs.link_out.clone();
        regs.iter()
            .map(|&r| self.read_reg(r, self.f.regs.desc(r).ty))
            .collect()
    }

    /// The Cranelift types of the `link_out` registers.
    pub(super) fn return_linkage_types(&self) -> Vec<cl::Type> {
        let regs = &self.f.regs;
        regs.link_out
            .iter()
            .map(|&r| cl_type(regs.desc(r).ty))
            .collect()
    }
}
