//! IR → Cranelift IR, one function at a time.
//!
//! [`lower_function`] builds the CLIF of one IR function with the host C
//! signature `extern "C" fn(state: *mut u8, mem: *mut u8) -> u64`, or, when
//! its register file hands registers over in host registers, the body
//! signature of [`linkage`] (then [`lower_wrapper`] builds the function
//! with the C signature that enters the body); it declares the runtime helpers it calls in the `&mut dyn Module` it is
//! given, so the AOT object module and the JIT module share every line.
//! Compiling the CLIF to machine code is a separate step (see
//! [`crate::codegen`]).
//!
//! Representation: IR integers map to Cranelift integers of the same width,
//! except `i1`, which is a Cranelift `i8` holding 0 or 1 (every op producing
//! an `i1` keeps it so); `v128` is `i8x16`, bitcast to the lane type each
//! vector op names. IR block parameters are Cranelift block parameters, one
//! for one; blocks are lowered in reverse postorder so every definition is
//! lowered before its uses.
//!
//! Native versus helpers: every op is inline host code except
//! - `call_helper` → the `vmtrans_abi::helpers` symbol of the helper;
//! - float ops with a static rounding mode other than the host's (rtz, rdn,
//!   rup, rmm; rne too when `native_rne` is off), `fround` in rmm or `dyn`,
//!   and `fma` on a CPU without FMA → `vmtrans_rt_fp_op`;
//! - guest calls to targets without a translation in the same module →
//!   `vmtrans_rt_call`, and a callee that left with `JUMP` →
//!   `vmtrans_rt_continue`.
//!
//! No op calls libm: 128-bit division is a 64-bit division or a
//! shift-subtract loop, `i128`↔float conversions are built from 64-bit
//! ones, rounding uses `roundss`/`roundsd`.
//!
//! Instruction families live in submodules: `int` (with the 128-bit
//! multiply-high and division sequences in `wide`), `float`,
//! `vector`, `memory` (guest memory, registers, atomics, helpers) and
//! `control` (terminators).

mod control;
mod extload;
mod float;
mod induction;
mod int;
mod linkage;
mod memory;
mod opaque;
mod vector;
mod wide;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use cranelift_codegen::ir::{
    self as cl, types, AbiParam, FuncRef, InstBuilder, MemFlagsData, UserFuncName,
};
use cranelift_frontend::{FunctionBuilder, FunctionBuilderContext};
use cranelift_module::{FuncId, Linkage, Module};
use vmtrans_ir::passes::loops::LoopForest;
use vmtrans_ir::print::{inst_text, Numbering};
use vmtrans_ir::{
    AtomicOp, Block, FloatCC, Function, GuestReg, Helper, Imm, Inst, InstData, IntCC, Opcode,
    RoundingMode, Type, Value,
};

use crate::layout::RegLayout;
use crate::{BackendError, CompileOptions};

use float::{FpOp, MinMax};
use int::{FlagOp, IntBin, IntUn, ShiftOp};
use vector::{VBin, VReduce, VUn};

pub use linkage::{body_signature, has_linkage, lower_wrapper};

/// Finds the translated function (in the same Cranelift module) of a guest
/// entry PC, for direct calls.
pub type CalleeLookup<'a> = &'a dyn Fn(u64) -> Option<FuncId>;

/// The Cranelift signature of every translated function:
/// `extern "C" fn(state: *mut u8, mem: *mut u8) -> u64`.
pub fn host_signature(module: &dyn Module) -> cl::Signature {
    let mut sig = module.make_signature();
    sig.params.push(AbiParam::new(types::I64));
    sig.params.push(AbiParam::new(types::I64));
    sig.returns.push(AbiParam::new(types::I64));
    sig
}

/// Builds the CLIF of `func`, declaring the runtime helpers it calls in
/// `module`; guest calls to a constant target that `callees` knows become
/// direct host calls. `func` is verified first.
pub fn lower_function(
    module: &mut dyn Module,
    func: &Function,
    callees: CalleeLookup<'_>,
    opts: &CompileOptions,
    fctx: &mut FunctionBuilderContext,
) -> Result<cl::Function, BackendError> {
    vmtrans_ir::verify::verify_function(func)?;
    let layout = RegLayout::new(&func.regs)?;
    let sig = body_signature(module, &func.regs);
    let mut clif = cl::Function::with_name_signature(UserFuncName::default(), sig);
    let built = build_clif(module, func, layout, callees, opts, fctx, &mut clif);
    if built.is_err() {
        // An abandoned builder leaves its context dirty.
        *fctx = FunctionBuilderContext::new();
    }
    built.map(|()| clif)
}

/// Fills `clif` with the lowering of `func`.
fn build_clif(
    module: &mut dyn Module,
    func: &Function,
    layout: RegLayout,
    callees: CalleeLookup<'_>,
    opts: &CompileOptions,
    fctx: &mut FunctionBuilderContext,
    clif: &mut cl::Function,
) -> Result<(), BackendError> {
    let frontend_config = module.target_config();
    let mut b = FunctionBuilder::new(clif, fctx);
    let entry = func
        .entry()
        .expect("verified functions have an entry block");
    let order = reverse_postorder(func, entry);
    let blocks = create_blocks(&mut b, func, &order);
    let cl_entry = blocks[entry.index()].expect("entry is reachable");
    b.append_block_params_for_function_params(cl_entry);
    b.switch_to_block(cl_entry);
    let params = b.block_params(cl_entry).to_vec();
    let mut lower = Lower::new(
        b,
        module,
        func,
        layout,
        callees,
        opts,
        blocks,
        params.clone(),
    );
    lower.init_linkage(&params);
    lower.loops = LoopForest::new(func, &order);
    lower.add_host_pointers();
    for &block in &order {
        lower.lower_block(block)?;
    }
    lower.fill_leave_block();
    lower.b.seal_all_blocks();
    lower.b.finalize(frontend_config);
    Ok(())
}

/// The constant `v` is defined as, if it is an i64 `iconst`.
fn i64_constant(f: &Function, v: Value) -> Option<u64> {
    let d = f.defining_inst(v)?;
    match (d.op, d.imm) {
        (Opcode::Iconst, Imm::Int(bits)) if d.ty == Type::I64 => Some(bits as u64),
        _ => None,
    }
}

/// Blocks reachable from `entry`, in reverse postorder.
fn reverse_postorder(func: &Function, entry: Block) -> Vec<Block> {
    let mut seen = vec![false; func.num_blocks()];
    let mut post = Vec::new();
    let mut stack: Vec<(Block, Vec<Block>)> = vec![(entry, func.succs(entry))];
    seen[entry.index()] = true;
    while let Some((block, succs)) = stack.last_mut() {
        if let Some(next) = succs.pop() {
            if !seen[next.index()] {
                seen[next.index()] = true;
                let s = func.succs(next);
                stack.push((next, s));
            }
        } else {
            post.push(*block);
            stack.pop();
        }
    }
    post.reverse();
    post
}

/// One Cranelift block per reachable IR block, with the parameters mapped.
fn create_blocks(
    b: &mut FunctionBuilder<'_>,
    func: &Function,
    order: &[Block],
) -> Vec<Option<cl::Block>> {
    let mut blocks = vec![None; func.num_blocks()];
    for &block in order {
        let cb = b.create_block();
        for &p in &func.block(block).params {
            b.append_block_param(cb, cl_type(func.value_type(p)));
        }
        blocks[block.index()] = Some(cb);
    }
    blocks
}

/// The guest address a Cranelift source location of a function entered
/// at `entry_pc` stands for (`None` for code with no guest address).
pub fn guest_pc_of(entry_pc: u64, loc: cl::SourceLoc) -> Option<u64> {
    (!loc.is_default()).then(|| entry_pc.wrapping_add(u64::from(loc.bits())))
}

/// The Cranelift type that holds an IR type (`i1` is an `i8` of 0 or 1,
/// `v128` is `i8x16`).
pub(crate) fn cl_type(ty: Type) -> cl::Type {
    match ty {
        Type::I1 | Type::I8 => types::I8,
        Type::I16 => types::I16,
        Type::I32 => types::I32,
        Type::I64 => types::I64,
        Type::I128 => types::I128,
        Type::F32 => types::F32,
        Type::F64 => types::F64,
        Type::V128 => types::I8X16,
    }
}

/// Alias-region ids: the CPU state and guest memory never overlap.
const STATE_REGION: u32 = 1;
const GUEST_REGION: u32 = 2;

/// The state of lowering one function.
pub(crate) struct Lower<'a> {
    b: FunctionBuilder<'a>,
    module: &'a mut dyn Module,
    f: &'a Function,
    layout: RegLayout,
    callees: CalleeLookup<'a>,
    opts: &'a CompileOptions,
    blocks: Vec<Option<cl::Block>>,
    vals: Vec<Option<cl::Value>>,
    /// The CPU state pointer (first parameter).
    state: cl::Value,
    /// The guest memory base (second parameter).
    mem: cl::Value,
    state_flags: MemFlagsData,
    guest_flags: MemFlagsData,
    imports: HashMap<&'static str, FuncRef>,
    /// The target has FMA instructions (else `fma` takes the helper).
    has_fma: bool,
    /// The instruction being lowered, for error messages.
    current: Option<Inst>,
    /// Guest loads Cranelift must not forward (see [`opaque`]).
    opaque_loads: HashSet<Inst>,
    /// Narrow guest loads emitted extended (see [`extload`]).
    extending_loads: extload::ExtendingLoads,
    /// The function's loops, to lay out conditional branches (see
    /// [`Lower::lower_terminator`]).
    loops: Option<LoopForest>,
    /// Guest pointers that step through loops with a host pointer beside
    /// them (see [`induction`]).
    host_pointers: induction::HostPointers,
    /// Per loop header with host pointers, by slot: the Cranelift parameter
    /// of each one the loop carries (`None` for one it does not).
    pointer_params: HashMap<Block, Vec<Option<cl::Value>>>,
    /// Per loop header and slot of a host pointer the loop does not carry:
    /// host minus guest address, fixed where the loop is entered.
    pointer_offsets: HashMap<(Block, usize), cl::Value>,
    /// The block being lowered.
    current_block: Option<Block>,
    /// Registers handed over in host registers (see [`linkage`]).
    link: linkage::LinkVars,
    /// The one block every exit and trap returns through, once needed
    /// (see [`Lower::leave`]).
    leave_block: Option<cl::Block>,
}

/// One accessor per immediate kind: the immediate of that kind, or the
/// error naming the instruction (the verifier rules the latter out).
macro_rules! imm_accessors {
    ($($name:ident: $variant:ident -> $ty:ty,)*) => {
        $(
            fn $name(&self, d: &InstData) -> Result<$ty, BackendError> {
                match d.imm {
                    Imm::$variant(v) => Ok(v),
                    _ => Err(self.bad_imm(d)),
                }
            }
        )*
    };
}

impl<'a> Lower<'a> {
    #[allow(clippy::too_many_arguments)]
    fn new(
        mut b: FunctionBuilder<'a>,
        module: &'a mut dyn Module,
        f: &'a Function,
        layout: RegLayout,
        callees: CalleeLookup<'a>,
        opts: &'a CompileOptions,
        blocks: Vec<Option<cl::Block>>,
        params: Vec<cl::Value>,
    ) -> Lower<'a> {
        let region = |b: &mut FunctionBuilder<'_>, id: u32, what: &'static str| {
            b.func.dfg.alias_regions.insert(cl::AliasRegionData {
                user_id: id,
                description: what.into(),
            })
        };
        let has_fma = crate::target::has_fma(module.isa());
        let state_region = region(&mut b, STATE_REGION, "cpu state");
        let guest_region = region(&mut b, GUEST_REGION, "guest memory");
        let little = cl::Endianness::Little;
        // With precise faults a guest access may show the state to a signal
        // handler: state and guest memory share one alias region, so
        // Cranelift keeps every state store before the guest access.
        let state_flags = MemFlagsData::new()
            .with_notrap()
            .with_endianness(little)
            .with_alias_region(Some(if f.precise_faults {
                guest_region
            } else {
                state_region
            }));
        let guest_flags = MemFlagsData::new()
            .with_endianness(little)
            .with_alias_region(Some(guest_region));
        let opaque_loads = opaque::loads_feeding_dynamic_rounding(f);
        Lower {
            b,
            module,
            f,
            layout,
            callees,
            opts,
            blocks,
            vals: vec![None; f.num_values()],
            state: params[0],
            mem: params[1],
            state_flags,
            guest_flags,
            imports: HashMap::default(),
            has_fma,
            current: None,
            opaque_loads: opaque_loads.clone(),
            extending_loads: extload::ExtendingLoads::find(f, &opaque_loads),
            loops: None,
            host_pointers: induction::HostPointers::default(),
            pointer_params: HashMap::default(),
            pointer_offsets: HashMap::default(),
            current_block: None,
            link: linkage::LinkVars::default(),
            leave_block: None,
        }
    }

    fn lower_block(&mut self, block: Block) -> Result<(), BackendError> {
        self.current_block = Some(block);
        let cb = self.block(block);
        self.b.switch_to_block(cb);
        let params = self.b.block_params(cb).to_vec();
        for (&p, v) in self.f.block(block).params.iter().zip(params) {
            self.vals[p.index()] = Some(v);
        }
        for &inst in &self.f.block(block).insts {
            self.current = Some(inst);
            self.b.set_srcloc(self.srcloc(inst));
            self.lower_inst(inst)?;
        }
        self.current = None;
        self.b.set_srcloc(cl::SourceLoc::default());
        let term = self
            .f
            .block(block)
            .term
            .as_ref()
            .ok_or_else(|| self.unsupported(format!("block {block} has no terminator")))?;
        self.lower_terminator(block, term)
    }

    /// The Cranelift source location of an instruction: its guest address
    /// as an offset from the function's entry (see [`guest_pc_of`]).
    fn srcloc(&self, inst: Inst) -> cl::SourceLoc {
        self.f
            .srcloc(inst)
            .map(|pc| pc.wrapping_sub(self.f.entry_pc))
            .and_then(|off| u32::try_from(off).ok())
            .filter(|&off| off != u32::MAX)
            .map_or_else(cl::SourceLoc::default, cl::SourceLoc::new)
    }

    /// The Cranelift block of a reachable IR block.
    fn block(&self, block: Block) -> cl::Block {
        self.blocks[block.index()].expect("branch targets of reachable blocks are reachable")
    }

    /// The Cranelift value of an IR value (defined earlier in reverse
    /// postorder, as the verifier's dominance check guarantees).
    fn val(&self, v: Value) -> cl::Value {
        self.vals[v.index()].expect("definitions dominate their uses")
    }

    /// The instruction defining `v`, when it is an instruction's result.
    fn def_of(&self, v: Value) -> Option<&'a InstData> {
        self.f.defining_inst(v)
    }

    fn ty(&self, v: Value) -> Type {
        self.f.value_type(v)
    }

    /// An [`BackendError::Unsupported`] naming the current instruction.
    fn unsupported(&self, message: String) -> BackendError {
        let at = match self.current {
            Some(inst) => {
                let num = Numbering::new(self.f);
                format!("{}: ", inst_text(self.f, &num, self.f.inst(inst)))
            }
            None => String::new(),
        };
        BackendError::Unsupported {
            function: self.f.name.clone(),
            message: format!("{at}{message}"),
        }
    }

    fn lower_inst(&mut self, inst: Inst) -> Result<(), BackendError> {
        let d = self.f.inst(inst);
        let args: Vec<cl::Value> = d.args.iter().map(|&a| self.val(a)).collect();
        let result = self.dispatch(d, &args)?;
        match (d.result, result) {
            (Some(r), Some(v)) => self.vals[r.index()] = Some(v),
            (None, None) => {}
            _ => return Err(self.unsupported("result does not match the op".into())),
        }
        Ok(())
    }

    /// The exhaustive op table of the backend: one arm per IR op.
    fn dispatch(
        &mut self,
        d: &InstData,
        a: &[cl::Value],
    ) -> Result<Option<cl::Value>, BackendError> {
        use Opcode as O;
        let ty = d.ty;
        let f = self.f;
        let at = |i: usize| f.value_type(d.args[i]);
        let v = match d.op {
            O::Iconst => self.iconst(ty, self.imm_int(d)?),
            O::Fconst => self.fconst(ty, self.imm_int(d)?),
            O::Vconst => self.vconst(self.imm_int(d)?.to_le_bytes()),
            O::Ineg => self.int_unary(IntUn::Neg, ty, a[0]),
            O::Bnot => self.int_unary(IntUn::Not, ty, a[0]),
            O::Clz => self.int_unary(IntUn::Clz, ty, a[0]),
            O::Ctz => self.int_unary(IntUn::Ctz, ty, a[0]),
            O::Popcnt => self.int_unary(IntUn::Popcnt, ty, a[0]),
            O::Bswap => self.int_unary(IntUn::Bswap, ty, a[0]),
            O::Bitrev => self.int_unary(IntUn::Bitrev, ty, a[0]),
            O::Iadd => self.int_binary(IntBin::Add, ty, a[0], a[1]),
            O::Isub => self.int_binary(IntBin::Sub, ty, a[0], a[1]),
            O::Imul => self.int_binary(IntBin::Mul, ty, a[0], a[1]),
            O::Umulhi => self.int_binary(IntBin::Umulhi, ty, a[0], a[1]),
            O::Smulhi => self.int_binary(IntBin::Smulhi, ty, a[0], a[1]),
            O::Sumulhi => self.int_binary(IntBin::Sumulhi, ty, a[0], a[1]),
            O::Udiv => self.int_binary(IntBin::Udiv, ty, a[0], a[1]),
            O::Sdiv => self.int_binary(IntBin::Sdiv, ty, a[0], a[1]),
            O::Urem => self.int_binary(IntBin::Urem, ty, a[0], a[1]),
            O::Srem => self.int_binary(IntBin::Srem, ty, a[0], a[1]),
            O::Band => self.int_binary(IntBin::And, ty, a[0], a[1]),
            O::Bor => self.int_binary(IntBin::Or, ty, a[0], a[1]),
            O::Bxor => self.int_binary(IntBin::Xor, ty, a[0], a[1]),
            O::BandNot => self.int_binary(IntBin::AndNot, ty, a[0], a[1]),
            O::Umin => self.int_binary(IntBin::Umin, ty, a[0], a[1]),
            O::Umax => self.int_binary(IntBin::Umax, ty, a[0], a[1]),
            O::Smin => self.int_binary(IntBin::Smin, ty, a[0], a[1]),
            O::Smax => self.int_binary(IntBin::Smax, ty, a[0], a[1]),
            O::Ishl => self.shift(ShiftOp::Shl, ty, a[0], a[1], at(1)),
            O::Ushr => self.shift(ShiftOp::Ushr, ty, a[0], a[1], at(1)),
            O::Sshr => self.shift(ShiftOp::Sshr, ty, a[0], a[1], at(1)),
            O::Rotl => self.shift(ShiftOp::Rotl, ty, a[0], a[1], at(1)),
            O::Rotr => self.shift(ShiftOp::Rotr, ty, a[0], a[1], at(1)),
            O::UaddOverflow => self.flag(FlagOp::Uadd, ty, a[0], a[1]),
            O::SaddOverflow => self.flag(FlagOp::Sadd, ty, a[0], a[1]),
            O::UsubOverflow => self.flag(FlagOp::Usub, ty, a[0], a[1]),
            O::SsubOverflow => self.flag(FlagOp::Ssub, ty, a[0], a[1]),
            O::Parity => self.parity(ty, a[0]),
            O::Icmp => self.icmp(self.imm_cc(d)?, ty, a[0], a[1]),
            O::Select => self.b.ins().select(a[0], a[1], a[2]),
            O::Uext | O::Sext | O::Bitcast
                if self
                    .current
                    .is_some_and(|i| self.extending_loads.absorbs(i)) =>
            {
                a[0]
            }
            O::Uext => self.extend(false, at(0), ty, a[0]),
            O::Sext => self.extend(true, at(0), ty, a[0]),
            O::Ireduce => self.reduce(at(0), ty, a[0]),
            O::Bitcast => match self.float_from_lane(ty, d.args[0]) {
                Some(v) => v,
                None => self.bitcast(ty, a[0]),
            },
            O::Fneg => self.b.ins().fneg(a[0]),
            O::Fabs => self.b.ins().fabs(a[0]),
            O::Fsqrt => self.float_rm(FpOp::Sqrt, ty, self.imm_rm(d)?, a)?,
            O::Fround => self.fround(ty, self.imm_rm(d)?, a[0])?,
            O::Fadd => self.float_rm(FpOp::Add, ty, self.imm_rm(d)?, a)?,
            O::Fsub => self.float_rm(FpOp::Sub, ty, self.imm_rm(d)?, a)?,
            O::Fmul => self.float_rm(FpOp::Mul, ty, self.imm_rm(d)?, a)?,
            O::Fdiv => self.float_rm(FpOp::Div, ty, self.imm_rm(d)?, a)?,
            O::Fma => self.float_rm(FpOp::Fma, ty, self.imm_rm(d)?, a)?,
            O::Fmin => self.fmin_max(MinMax::Min, a[0], a[1]),
            O::Fmax => self.fmin_max(MinMax::Max, a[0], a[1]),
            O::Fminnum => self.fmin_max(MinMax::MinNum, a[0], a[1]),
            O::Fmaxnum => self.fmin_max(MinMax::MaxNum, a[0], a[1]),
            O::Fcopysign => self.b.ins().fcopysign(a[0], a[1]),
            O::Fcmp => self.fcmp(self.imm_fcc(d)?, a[0], a[1]),
            O::Fclass => self.fclass(ty, a[0]),
            O::FcvtFromSint => self.int_to_float(true, at(0), ty, self.imm_rm(d)?, a[0])?,
            O::FcvtFromUint => self.int_to_float(false, at(0), ty, self.imm_rm(d)?, a[0])?,
            O::FcvtToSint => self.float_to_int(true, at(0), ty, a[0])?,
            O::FcvtToUint => self.float_to_int(false, at(0), ty, a[0])?,
            O::Fconvert => self.fconvert(at(0), ty, self.imm_rm(d)?, a[0])?,
            O::Load if self.current.is_some_and(|i| self.opaque_loads.contains(&i)) => {
                self.opaque_load(ty, d.args[0])
            }
            O::Load => match self.current.and_then(|i| self.extending_loads.extension(i)) {
                Some((signed, to)) => self.extending_load(signed, ty, to, d.args[0]),
                None => {
                    let as_float = self
                        .current
                        .and_then(|i| self.extending_loads.float_type(i));
                    self.load(as_float.unwrap_or(ty), d.args[0])
                }
            },
            O::Store => {
                let x = self.float_to_store(d.args[1]).unwrap_or(a[1]);
                self.store(d.args[0], x);
                return Ok(None);
            }
            O::ReadReg => self.read_reg(self.imm_reg(d)?, ty),
            O::LinkIn => self.link_in(self.imm_reg(d)?),
            O::LinkOut => {
                self.link_out(self.imm_reg(d)?, a[0]);
                return Ok(None);
            }
            O::WriteReg => {
                self.write_reg(self.imm_reg(d)?, a[0]);
                return Ok(None);
            }
            O::AtomicRmw => self.atomic_rmw(self.imm_atomic(d)?, ty, a[0], a[1]),
            O::AtomicCas => self.atomic_cas(ty, a[0], a[1], a[2]),
            O::Fence => {
                self.fence();
                return Ok(None);
            }
            O::Poll => self.poll(),
            O::CallHelper => return self.call_helper(self.imm_helper(d)?, a),
            O::Vineg => self.vec_unary(VUn::Neg, ty, a[0])?,
            O::Viabs => self.vec_unary(VUn::Abs, ty, a[0])?,
            O::Vpopcnt => self.vec_unary(VUn::Popcnt, ty, a[0])?,
            O::Vfneg => self.vec_unary(VUn::Fneg, ty, a[0])?,
            O::Vfabs => self.vec_unary(VUn::Fabs, ty, a[0])?,
            O::Vfsqrt => self.vec_unary(VUn::Fsqrt, ty, a[0])?,
            O::VswidenLo => self.vec_unary(VUn::SwidenLo, ty, a[0])?,
            O::VswidenHi => self.vec_unary(VUn::SwidenHi, ty, a[0])?,
            O::VuwidenLo => self.vec_unary(VUn::UwidenLo, ty, a[0])?,
            O::VuwidenHi => self.vec_unary(VUn::UwidenHi, ty, a[0])?,
            O::VfcvtFromSint => self.vec_unary(VUn::FromSint, ty, a[0])?,
            O::VfcvtToSint => self.vec_unary(VUn::ToSint, ty, a[0])?,
            O::Viadd => self.vec_binary(VBin::Add, ty, a[0], a[1])?,
            O::Visub => self.vec_binary(VBin::Sub, ty, a[0], a[1])?,
            O::Vimul => self.vec_binary(VBin::Mul, ty, a[0], a[1])?,
            O::Vand => self.vec_binary(VBin::And, ty, a[0], a[1])?,
            O::Vor => self.vec_binary(VBin::Or, ty, a[0], a[1])?,
            O::Vxor => self.vec_binary(VBin::Xor, ty, a[0], a[1])?,
            O::VandNot => self.vec_binary(VBin::AndNot, ty, a[0], a[1])?,
            O::Vumin => self.vec_binary(VBin::Umin, ty, a[0], a[1])?,
            O::Vumax => self.vec_binary(VBin::Umax, ty, a[0], a[1])?,
            O::Vsmin => self.vec_binary(VBin::Smin, ty, a[0], a[1])?,
            O::Vsmax => self.vec_binary(VBin::Smax, ty, a[0], a[1])?,
            O::VuaddSat => self.vec_binary(VBin::UaddSat, ty, a[0], a[1])?,
            O::VsaddSat => self.vec_binary(VBin::SaddSat, ty, a[0], a[1])?,
            O::VusubSat => self.vec_binary(VBin::UsubSat, ty, a[0], a[1])?,
            O::VssubSat => self.vec_binary(VBin::SsubSat, ty, a[0], a[1])?,
            O::Vuavg => self.vec_binary(VBin::Uavg, ty, a[0], a[1])?,
            O::Vfadd => self.vec_binary(VBin::Fadd, ty, a[0], a[1])?,
            O::Vfsub => self.vec_binary(VBin::Fsub, ty, a[0], a[1])?,
            O::Vfmul => self.vec_binary(VBin::Fmul, ty, a[0], a[1])?,
            O::Vfdiv => self.vec_binary(VBin::Fdiv, ty, a[0], a[1])?,
            O::Vfmin => self.vec_binary(VBin::Fmin, ty, a[0], a[1])?,
            O::Vfmax => self.vec_binary(VBin::Fmax, ty, a[0], a[1])?,
            O::Vfminnum => self.vec_binary(VBin::Fminnum, ty, a[0], a[1])?,
            O::Vfmaxnum => self.vec_binary(VBin::Fmaxnum, ty, a[0], a[1])?,
            O::Vswizzle => self.vec_binary(VBin::Swizzle, ty, a[0], a[1])?,
            O::VzipLo => self.vec_binary(VBin::ZipLo, ty, a[0], a[1])?,
            O::VzipHi => self.vec_binary(VBin::ZipHi, ty, a[0], a[1])?,
            O::VuzpEven => self.vec_binary(VBin::UzpEven, ty, a[0], a[1])?,
            O::VuzpOdd => self.vec_binary(VBin::UzpOdd, ty, a[0], a[1])?,
            O::VnarrowTrunc => self.vec_binary(VBin::NarrowTrunc, ty, a[0], a[1])?,
            O::VnarrowSsat => self.vec_binary(VBin::NarrowSsat, ty, a[0], a[1])?,
            O::VnarrowUsat => self.vec_binary(VBin::NarrowUsat, ty, a[0], a[1])?,
            O::Vishl => self.vec_shift(ShiftOp::Shl, ty, a[0], a[1], at(1)),
            O::Vushr => self.vec_shift(ShiftOp::Ushr, ty, a[0], a[1], at(1)),
            O::Vsshr => self.vec_shift(ShiftOp::Sshr, ty, a[0], a[1], at(1)),
            O::Vicmp => self.vec_icmp(self.imm_cc(d)?, ty, a[0], a[1]),
            O::Vfcmp => self.vec_fcmp(self.imm_fcc(d)?, ty, a[0], a[1])?,
            O::Vsplat => self.vec_splat(ty, a[0]),
            O::Vextract => self.vec_extract(ty, a[0], self.imm_lane(d)?),
            O::Vinsert => match self.scalar_into_zero(ty, d) {
                Some(v) => v,
                None => self.vec_insert(ty, a[0], a[1], self.imm_lane(d)?),
            },
            O::Vshuffle => self.shuffle(a[0], a[1], self.imm_bytes(d)?),
            O::VreduceAdd => self.vec_reduce(VReduce::Add, ty, a[0]),
            O::VreduceUmax => self.vec_reduce(VReduce::Umax, ty, a[0]),
            O::VreduceUmin => self.vec_reduce(VReduce::Umin, ty, a[0]),
            O::VreduceSmax => self.vec_reduce(VReduce::Smax, ty, a[0]),
            O::VreduceSmin => self.vec_reduce(VReduce::Smin, ty, a[0]),
            O::Vbitselect => self.b.ins().bitselect(a[0], a[1], a[2]),
        };
        Ok(Some(v))
    }

    // ---- immediates (the verifier guarantees their kinds) ----

    fn bad_imm(&self, d: &InstData) -> BackendError {
        self.unsupported(format!("unexpected immediate {:?}", d.imm))
    }

    imm_accessors! {
        imm_int: Int -> u128,
        imm_cc: Cc -> IntCC,
        imm_fcc: Fcc -> FloatCC,
        imm_rm: Rm -> RoundingMode,
        imm_reg: Reg -> GuestReg,
        imm_atomic: Atomic -> AtomicOp,
        imm_helper: Helper -> Helper,
        imm_lane: Lane -> u8,
        imm_bytes: Bytes -> [u8; 16],
    }

    // ---- shared helpers ----

    /// Imports runtime function `name` into the function being built
    /// (declaring it in the module on first use).
    fn import(
        &mut self,
        name: &'static str,
        params: &[cl::Type],
        returns: &[cl::Type],
    ) -> Result<FuncRef, BackendError> {
        if let Some(&f) = self.imports.get(name) {
            return Ok(f);
        }
        let mut sig = self.module.make_signature();
        sig.params.extend(params.iter().map(|&t| AbiParam::new(t)));
        sig.returns
            .extend(returns.iter().map(|&t| AbiParam::new(t)));
        let id = self.module.declare_function(name, Linkage::Import, &sig)?;
        let f = self.module.declare_func_in_func(id, self.b.func);
        self.imports.insert(name, f);
        Ok(f)
    }

    /// Calls `f` and returns its first result, if any.
    fn call(&mut self, f: FuncRef, args: &[cl::Value]) -> Option<cl::Value> {
        let call = self.b.ins().call(f, args);
        self.b.inst_results(call).first().copied()
    }
}
