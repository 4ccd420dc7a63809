//! Building functions, with SSA for guest registers made on the fly.
//!
//! A lifter reads and writes guest registers naively with
//! [`FunctionBuilder::use_reg`] and [`FunctionBuilder::def_reg`]; the builder
//! turns them into SSA values (block parameters where definitions meet), in
//! the way of Braun et al. and cranelift-frontend: a block's predecessors are
//! complete once it is *sealed*; uses in unsealed blocks get provisional
//! parameters that are filled in at sealing.
//!
//! The CPU state in memory is kept right at every *sync point*: before a
//! helper call (which sees the state) and before a terminator that leaves the
//! function or calls guest code. At [`FunctionBuilder::finish`], every
//! register defined anywhere in the function is written back before each sync
//! point with the value it has there; values are read from the state on
//! function entry, after helper calls and after guest calls. Redundant reads
//! and writes are removed later by the register pass.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::Arc;

use crate::function::{
    Block, BlockCall, Function, GuestReg, Inst, RegFile, Terminator, Value, ValueDef,
};
use crate::ops::{
    for_each_op, AtomicOp, FloatCC, Helper, Imm, IntCC, Opcode, RoundingMode, TrapKind,
};
use crate::types::Type;

/// What a block knows about a register at its current end.
#[derive(Clone, Copy, Debug)]
enum LocalDef {
    /// The register holds this value.
    Val(Value),
    /// The CPU state holds the register's value since this helper call.
    InState(Inst),
}

/// Where a sync point sits and what its block knew at that moment.
struct SyncPoint {
    block: Block,
    /// The helper call the write-backs go before; `None` for the terminator.
    before: Option<Inst>,
    locals: HashMap<GuestReg, LocalDef>,
    /// For an exit that resumes at a block of this function: that block
    /// (only the registers its guest code may read are written back).
    resumes: Option<Block>,
}

/// Builds one [`Function`].
pub struct FunctionBuilder {
    func: Function,
    current: Option<Block>,
    locals: HashMap<(Block, GuestReg), LocalDef>,
    entry_values: HashMap<(Block, GuestReg), Value>,
    /// Blocks whose registers are read from the CPU state on entry.
    reload_on_entry: HashSet<Block>,
    sealed: HashSet<Block>,
    /// Provisional parameters of unsealed blocks: (block, reg, param).
    incomplete: HashMap<Block, Vec<(GuestReg, Value)>>,
    defined: HashSet<GuestReg>,
    syncs: Vec<SyncPoint>,
    /// Guest address recorded on every instruction created from now on.
    srcloc: Option<u64>,
    /// Entry-value lookups in progress (cycle guard).
    visiting: HashSet<(Block, GuestReg)>,
    /// With precise faults: the PC register, written before each guest
    /// memory access.
    precise_pc: Option<GuestReg>,
}

impl FunctionBuilder {
    /// Starts a function with the given name, guest entry address and
    /// register file. Its entry block is created and selected.
    pub fn new(name: impl Into<String>, entry_pc: u64, regs: Arc<RegFile>) -> FunctionBuilder {
        let mut func = Function::new(name, entry_pc, regs);
        let entry = func.add_block();
        func.set_block_pc(entry, Some(entry_pc));
        let mut b = FunctionBuilder {
            func,
            current: Some(entry),
            locals: HashMap::default(),
            entry_values: HashMap::default(),
            reload_on_entry: HashSet::from_iter([entry]),
            sealed: HashSet::from_iter([entry]),
            incomplete: HashMap::default(),
            defined: HashSet::default(),
            syncs: Vec::new(),
            srcloc: None,
            visiting: HashSet::default(),
            precise_pc: None,
        };
        b.current = Some(entry);
        let handed_in = b.func.regs.link_in.clone();
        b.receive_linkage(entry, &handed_in);
        b
    }

    /// Defines each of `regs` in `block` (just selected, still empty) as
    /// the value the host linkage hands over there. They count as
    /// defined, so every sync point writes them back where the CPU state
    /// must hold them.
    fn receive_linkage(&mut self, block: Block, regs: &[GuestReg]) {
        for &reg in regs {
            let ty = self.func.regs.desc(reg).ty;
            let v = self.ins_value(Opcode::LinkIn, ty, &[], Imm::Reg(reg));
            self.locals.insert((block, reg), LocalDef::Val(v));
            self.defined.insert(reg);
        }
    }

    /// Hands the current value of each of `regs` to the host linkage of
    /// the call or return about to end the selected block.
    fn hand_over_linkage(&mut self, regs: &[GuestReg]) {
        for &reg in regs {
            let v = self.use_reg(reg);
            let ty = self.func.regs.desc(reg).ty;
            self.ins(Opcode::LinkOut, ty, &[v], Imm::Reg(reg));
        }
    }

    /// The function being built (read-only).
    pub fn func(&self) -> &Function {
        &self.func
    }

    /// The register file.
    pub fn regs(&self) -> &Arc<RegFile> {
        &self.func.regs
    }

    /// Sets the guest address recorded on the instructions created from now
    /// on (the instruction being lifted).
    pub fn set_srcloc(&mut self, pc: Option<u64>) {
        self.srcloc = pc;
    }

    /// The block instructions are appended to.
    pub fn current_block(&self) -> Option<Block> {
        self.current
    }

    /// Creates a new block (not selected).
    pub fn create_block(&mut self) -> Block {
        self.func.add_block()
    }

    /// Records the guest address a block starts at.
    pub fn set_block_pc(&mut self, block: Block, pc: u64) {
        self.func.set_block_pc(block, Some(pc));
    }

    /// Adds an explicit parameter to `block`. Explicit parameters must be
    /// added before any branch to the block is made.
    pub fn append_block_param(&mut self, block: Block, ty: Type) -> Value {
        self.func.add_block_param(block, ty)
    }

    /// Selects the block to append to. It must not have a terminator yet.
    pub fn switch_to_block(&mut self, block: Block) {
        assert!(
            self.func.block(block).term.is_none(),
            "{block} is already terminated"
        );
        self.current = Some(block);
    }

    /// True when the selected block has no terminator yet.
    pub fn is_open(&self) -> bool {
        self.current
            .is_some_and(|b| self.func.block(b).term.is_none())
    }

    /// Declares that every predecessor of `block` is now known.
    pub fn seal_block(&mut self, block: Block) {
        if !self.sealed.insert(block) {
            return;
        }
        for (reg, param) in self.incomplete.remove(&block).unwrap_or_default() {
            self.add_param_args(block, reg, param);
        }
    }

    /// Seals every block not yet sealed.
    pub fn seal_all_blocks(&mut self) {
        let blocks: Vec<Block> = self.func.layout().to_vec();
        for b in blocks {
            self.seal_block(b);
        }
    }

    // ---- guest registers ----

    /// The current value of guest register `reg` in the selected block.
    pub fn use_reg(&mut self, reg: GuestReg) -> Value {
        let block = self.current.expect("no block selected");
        self.end_value(block, reg)
    }

    /// Sets guest register `reg` to `value` from here on.
    pub fn def_reg(&mut self, reg: GuestReg, value: Value) {
        let block = self.current.expect("no block selected");
        debug_assert_eq!(
            self.func.value_type(value),
            self.func.regs.desc(reg).ty,
            "def_reg type mismatch for {}",
            self.func.regs.desc(reg).name
        );
        self.locals.insert((block, reg), LocalDef::Val(value));
        self.defined.insert(reg);
    }

    fn end_value(&mut self, block: Block, reg: GuestReg) -> Value {
        match self.locals.get(&(block, reg)).copied() {
            Some(LocalDef::Val(v)) => v,
            Some(LocalDef::InState(after)) => {
                let v = self.insert_read_after(block, reg, Some(after));
                self.locals.insert((block, reg), LocalDef::Val(v));
                v
            }
            None => self.entry_value(block, reg),
        }
    }

    fn entry_value(&mut self, block: Block, reg: GuestReg) -> Value {
        if let Some(&v) = self.entry_values.get(&(block, reg)) {
            return v;
        }
        let preds = self.func.preds(block);
        let sealed = self.sealed.contains(&block);
        // The single-predecessor shortcut must not follow a cycle: an
        // unreachable block may be its own predecessor, or sit on a ring of
        // single-predecessor blocks. Those get a parameter instead.
        let single_pred = sealed
            && preds.len() == 1
            && preds[0] != block
            && !self.visiting.contains(&(block, reg));
        let v = if self.reload_on_entry.contains(&block) || (sealed && preds.is_empty()) {
            self.insert_read_after(block, reg, None)
        } else if single_pred {
            self.visiting.insert((block, reg));
            let v = self.end_value(preds[0], reg);
            self.visiting.remove(&(block, reg));
            self.entry_values.insert((block, reg), v);
            return v;
        } else {
            let ty = self.func.regs.desc(reg).ty;
            let param = self.func.add_block_param(block, ty);
            self.entry_values.insert((block, reg), param);
            if sealed {
                self.add_param_args(block, reg, param);
            } else {
                self.incomplete.entry(block).or_default().push((reg, param));
            }
            return param;
        };
        self.entry_values.insert((block, reg), v);
        v
    }

    /// Appends, to every branch into `block`, the argument for `param`.
    fn add_param_args(&mut self, block: Block, reg: GuestReg, param: Value) {
        let ValueDef::Param(_, index) = self.func.value(param).def else {
            unreachable!("provisional parameter is not a parameter");
        };
        for pred in self.func.preds(block) {
            let arg = self.end_value(pred, reg);
            self.func.update_branch_args(pred, |d| {
                if d.block == block && d.args.len() == index as usize {
                    d.args.push(arg);
                }
            });
        }
    }

    /// Emits `read_reg` for `reg` in `block`: at its start, or right after the
    /// helper call `after`.
    fn insert_read_after(&mut self, block: Block, reg: GuestReg, after: Option<Inst>) -> Value {
        let ty = self.func.regs.desc(reg).ty;
        let inst = self
            .func
            .create_inst(Opcode::ReadReg, ty, Vec::new(), Imm::Reg(reg), Some(ty));
        let insts = self.func.block_insts_mut(block);
        let pos = match after {
            None => 0,
            Some(a) => {
                insts
                    .iter()
                    .position(|&i| i == a)
                    .expect("helper not in block")
                    + 1
            }
        };
        insts.insert(pos, inst);
        self.func.inst(inst).result.expect("read_reg has a result")
    }

    fn snapshot(&self, block: Block) -> HashMap<GuestReg, LocalDef> {
        self.locals
            .iter()
            .filter(|((b, _), _)| *b == block)
            .map(|((_, r), d)| (*r, *d))
            .collect()
    }

    // ---- instructions ----

    /// Appends an instruction to the selected block and returns its result.
    /// The result type follows from the op's signature and `ty`.
    pub fn ins(&mut self, op: Opcode, ty: Type, args: &[Value], imm: Imm) -> Option<Value> {
        let block = self.current.expect("no block selected");
        assert!(self.is_open(), "{block} is already terminated");
        let result_ty = match imm {
            Imm::Helper(h) => h.result(),
            _ => op.sig().result_type(ty),
        };
        let inst = self.func.create_inst(op, ty, args.to_vec(), imm, result_ty);
        self.func.set_srcloc(inst, self.srcloc);
        let memory = matches!(
            op,
            Opcode::Load | Opcode::Store | Opcode::AtomicRmw | Opcode::AtomicCas
        );
        // Precise faults: registers are written back, then the PC (last, so
        // a write-back of a PC the lifter defined cannot overwrite it).
        let pc_write = match (memory, self.precise_pc, self.srcloc) {
            (true, Some(pc_reg), Some(pc)) => Some(self.write_pc_before_access(block, pc_reg, pc)),
            _ => None,
        };
        // A pure helper changes no guest register: nothing to reload after
        // it. Registers are still written back before it: those writes are
        // what keeps the guest's float ops (and the host flags they raise)
        // before the call, where the host compiler would move them freely.
        let pure = matches!(imm, Imm::Helper(h) if h.is_pure());
        let clobbers = op == Opcode::CallHelper && !pure;
        if clobbers || pure || (memory && self.precise_pc.is_some()) {
            let locals = self.snapshot(block);
            self.syncs.push(SyncPoint {
                block,
                before: Some(pc_write.unwrap_or(inst)),
                locals,
                resumes: None,
            });
        }
        self.func.append_inst(block, inst);
        if clobbers {
            for reg in 0..self.func.regs.len() {
                self.locals
                    .insert((block, GuestReg(reg as u16)), LocalDef::InState(inst));
            }
        }
        self.func.inst(inst).result
    }

    /// Records the PCs besides the entry at which the function may be
    /// entered (see [`Function::extra_entries`]).
    pub fn set_extra_entries(&mut self, pcs: Vec<u64>) {
        self.func.extra_entries = pcs;
    }

    /// Makes the function precise about guest faults (see
    /// [`Function::precise_faults`]): every guest register defined so far is
    /// written back before each guest memory access, and `pc` (the guest
    /// PC register) is set to the accessing instruction's address.
    pub fn set_precise_faults(&mut self, pc: GuestReg) {
        self.precise_pc = Some(pc);
        self.func.precise_faults = true;
    }

    /// Stores the guest PC of the access about to be made (not a register
    /// definition: the lifted code's own PC updates stay as they are).
    /// Returns the first instruction it added.
    fn write_pc_before_access(&mut self, block: Block, pc_reg: GuestReg, pc: u64) -> Inst {
        let ty = self.func.regs.desc(pc_reg).ty;
        let c = self.func.create_inst(
            Opcode::Iconst,
            ty,
            vec![],
            Imm::Int(u128::from(pc)),
            Some(ty),
        );
        self.func.set_srcloc(c, self.srcloc);
        self.func.append_inst(block, c);
        let value = self.func.inst(c).result.expect("iconst has a result");
        let w = self
            .func
            .create_inst(Opcode::WriteReg, ty, vec![value], Imm::Reg(pc_reg), None);
        self.func.set_srcloc(w, self.srcloc);
        self.func.append_inst(block, w);
        c
    }

    fn ins_value(&mut self, op: Opcode, ty: Type, args: &[Value], imm: Imm) -> Value {
        self.ins(op, ty, args, imm)
            .unwrap_or_else(|| panic!("{op} has no result"))
    }

    fn ty(&self, v: Value) -> Type {
        self.func.value_type(v)
    }

    // ---- terminators ----

    fn terminate(&mut self, term: Terminator) {
        let block = self.current.expect("no block selected");
        assert!(self.is_open(), "{block} is already terminated");
        let syncs = matches!(
            term,
            Terminator::Call { .. }
                | Terminator::Return { .. }
                | Terminator::Exit { .. }
                | Terminator::Trap { .. }
        );
        if syncs {
            let locals = self.snapshot(block);
            self.syncs.push(SyncPoint {
                block,
                before: None,
                locals,
                resumes: None,
            });
        }
        for d in term.dests() {
            assert!(
                !self.sealed.contains(&d.block) || self.func.preds(d.block).contains(&block),
                "branch to sealed {}",
                d.block
            );
        }
        self.func.set_terminator(block, term);
    }

    /// Unconditional branch.
    pub fn jump(&mut self, dest: Block, args: &[Value]) {
        self.terminate(Terminator::Jump(BlockCall {
            block: dest,
            args: args.to_vec(),
        }));
    }

    /// Two-way branch on `cond` (an `i1`).
    pub fn brif(&mut self, cond: Value, then_dest: Block, else_dest: Block) {
        self.terminate(Terminator::Brif {
            cond,
            then_dest: BlockCall::new(then_dest),
            else_dest: BlockCall::new(else_dest),
        });
    }

    /// Multi-way branch on `index`.
    pub fn switch(&mut self, index: Value, cases: &[(u64, Block)], default: Block) {
        self.terminate(Terminator::Switch {
            index,
            cases: cases.iter().map(|&(k, b)| (k, BlockCall::new(b))).collect(),
            default: BlockCall::new(default),
        });
    }

    /// Guest call of `target` returning to `return_pc`; execution continues in
    /// `cont` when the callee returns there. Registers are reloaded from the
    /// CPU state after the call (in a landing block the builder adds).
    pub fn call(&mut self, target: Value, return_pc: u64, cont: Block) {
        let handed_in = self.func.regs.link_in.clone();
        self.hand_over_linkage(&handed_in);
        let landing = self.func.add_block();
        self.func.set_block_pc(landing, Some(return_pc));
        self.reload_on_entry.insert(landing);
        self.terminate(Terminator::Call {
            target,
            return_pc,
            cont: BlockCall::new(landing),
        });
        self.sealed.insert(landing);
        self.current = Some(landing);
        let handed_back = self.func.regs.link_out.clone();
        self.receive_linkage(landing, &handed_back);
        self.jump(cont, &[]);
    }

    /// Guest return to `pc`.
    pub fn ret(&mut self, pc: Value) {
        let handed_back = self.func.regs.link_out.clone();
        self.hand_over_linkage(&handed_back);
        self.terminate(Terminator::Return { pc });
    }

    /// Leaves to the dispatcher, continuing at guest `pc`.
    pub fn exit(&mut self, pc: Value) {
        self.terminate(Terminator::Exit { pc });
    }

    /// Leaves to the dispatcher at a constant guest address.
    pub fn exit_to(&mut self, pc: u64) {
        let v = self.iconst(Type::I64, pc as i128);
        self.exit(v);
    }

    /// Leaves to the dispatcher at guest `pc`, where `block` of this function
    /// starts (a poll that found a signal waiting): the dispatcher resumes
    /// the same guest code, so the registers that code overwrites before
    /// reading them are not written back. They are dead to the program; a
    /// signal handler may see their stale values in its context.
    pub fn exit_resuming(&mut self, block: Block, pc: u64) {
        self.exit_to(pc);
        let sync = self.syncs.last_mut().expect("an exit is a sync point");
        sync.resumes = Some(block);
    }

    /// Stops the guest with a fault at guest address `pc`.
    pub fn trap(&mut self, kind: TrapKind, pc: u64) {
        self.terminate(Terminator::Trap { kind, pc });
    }

    /// Seals every block, writes registers back at every sync point and
    /// returns the function.
    pub fn finish(mut self) -> Function {
        self.seal_all_blocks();
        let syncs = std::mem::take(&mut self.syncs);
        let mut defined: Vec<GuestReg> = self.defined.iter().copied().collect();
        defined.sort_unstable();
        let live = syncs
            .iter()
            .any(|s| s.resumes.is_some())
            .then(|| self.live_registers(&syncs));
        for sync in syncs {
            let needed = sync.resumes.zip(live.as_ref()).map(|(b, l)| &l[b.index()]);
            self.write_back(&sync, &defined, needed.map(Vec::as_slice));
        }
        self.func
    }

    /// Per block (by index), the guest registers live on entry: read by
    /// the guest code from there before being written, or observed by a
    /// sync point (everything at a helper call, a call, a return, a trap or
    /// an exit, except an exit that resumes at one of the function's blocks,
    /// which observes what is live there). Computed before the
    /// write-backs, from the lookups the lifted code made.
    fn live_registers(&self, syncs: &[SyncPoint]) -> Vec<Vec<bool>> {
        let n = self.func.regs.len();
        let blocks = self.func.num_blocks();
        let mut used = vec![vec![false; n]; blocks];
        for &(b, r) in self.entry_values.keys() {
            used[b.index()][r.index()] = true;
        }
        let mut killed = vec![vec![false; n]; blocks];
        for (&(b, r), def) in &self.locals {
            killed[b.index()][r.index()] = matches!(def, LocalDef::Val(_));
        }
        let mut observes_all = vec![false; blocks];
        let mut resumes = HashMap::default();
        for s in syncs {
            match (s.before, s.resumes) {
                (Some(_), _) => observes_all[s.block.index()] = true,
                (None, Some(target)) => {
                    resumes.insert(s.block, target);
                }
                (None, None) => {}
            }
        }
        let layout = self.func.layout().to_vec();
        let mut live = vec![vec![false; n]; blocks];
        let mut changed = true;
        while changed {
            changed = false;
            for &b in layout.iter().rev() {
                let out: Vec<bool> = match (&self.func.block(b).term, resumes.get(&b)) {
                    (Some(Terminator::Exit { .. }), Some(target)) => live[target.index()].clone(),
                    (
                        Some(
                            Terminator::Jump(_)
                            | Terminator::Brif { .. }
                            | Terminator::Switch { .. },
                        ),
                        _,
                    ) => {
                        let mut out = vec![false; n];
                        for succ in self.func.succs(b) {
                            for (o, l) in out.iter_mut().zip(&live[succ.index()]) {
                                *o |= *l;
                            }
                        }
                        out
                    }
                    _ => vec![true; n],
                };
                let i = b.index();
                let now: Vec<bool> = (0..n)
                    .map(|r| observes_all[i] || used[i][r] || (out[r] && !killed[i][r]))
                    .collect();
                if now != live[i] {
                    live[i] = now;
                    changed = true;
                }
            }
        }
        live
    }

    fn write_back(&mut self, sync: &SyncPoint, defined: &[GuestReg], needed: Option<&[bool]>) {
        let mut writes = Vec::new();
        let regs = Arc::clone(&self.func.regs);
        // A linkage register is written back at a resuming exit even where
        // it is dead: the write matches the one at every other exit, so the
        // register pass can hoist them all out of a loop together instead
        // of keeping the handed-over value live through it.
        let linkage = |r: GuestReg| regs.link_in.contains(&r) || regs.link_out.contains(&r);
        for &reg in defined {
            if needed.is_some_and(|live| !live[reg.index()]) && !linkage(reg) {
                continue;
            }
            let value = match sync.locals.get(&reg) {
                Some(LocalDef::Val(v)) => *v,
                Some(LocalDef::InState(_)) => continue,
                None => self.entry_value(sync.block, reg),
            };
            let ty = self.func.regs.desc(reg).ty;
            writes.push(self.func.create_inst(
                Opcode::WriteReg,
                ty,
                vec![value],
                Imm::Reg(reg),
                None,
            ));
        }
        let insts = self.func.block_insts_mut(sync.block);
        let pos = match sync.before {
            Some(h) => insts
                .iter()
                .position(|&i| i == h)
                .expect("sync point not in block"),
            None => insts.len(),
        };
        insts.splice(pos..pos, writes);
    }
}

macro_rules! builder_method {
    (IConst, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, ty: Type, imm: i128) -> Value {
            self.ins_value(Opcode::$v, ty, &[], Imm::Int(imm as u128 & ty.mask()))
        }
    };
    (FConst, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, ty: Type, bits: u64) -> Value {
            self.ins_value(Opcode::$v, ty, &[], Imm::Int(bits as u128 & ty.mask()))
        }
    };
    (VConst, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, bits: u128) -> Value {
            self.ins_value(Opcode::$v, Type::V128, &[], Imm::Int(bits))
        }
    };
    (Unary, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, x: Value) -> Value {
            let ty = self.ty(x);
            self.ins_value(Opcode::$v, ty, &[x], Imm::None)
        }
    };
    (Binary, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, x: Value, y: Value) -> Value {
            let ty = self.ty(x);
            self.ins_value(Opcode::$v, ty, &[x, y], Imm::None)
        }
    };
    (UnaryRm, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, rm: RoundingMode, x: Value) -> Value {
            let ty = self.ty(x);
            self.ins_value(Opcode::$v, ty, &[x], Imm::Rm(rm))
        }
    };
    (BinaryRm, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, rm: RoundingMode, x: Value, y: Value) -> Value {
            let ty = self.ty(x);
            self.ins_value(Opcode::$v, ty, &[x, y], Imm::Rm(rm))
        }
    };
    (TernaryRm, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, rm: RoundingMode, x: Value, y: Value, z: Value) -> Value {
            let ty = self.ty(x);
            self.ins_value(Opcode::$v, ty, &[x, y, z], Imm::Rm(rm))
        }
    };
    (Cmp, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, cc: IntCC, x: Value, y: Value) -> Value {
            let ty = self.ty(x);
            self.ins_value(Opcode::$v, ty, &[x, y], Imm::Cc(cc))
        }
    };
    (FCmp, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, cc: FloatCC, x: Value, y: Value) -> Value {
            let ty = self.ty(x);
            self.ins_value(Opcode::$v, ty, &[x, y], Imm::Fcc(cc))
        }
    };
    (Select, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, c: Value, x: Value, y: Value) -> Value {
            let ty = self.ty(x);
            self.ins_value(Opcode::$v, ty, &[c, x, y], Imm::None)
        }
    };
    (Convert, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, ty: Type, x: Value) -> Value {
            self.ins_value(Opcode::$v, ty, &[x], Imm::None)
        }
    };
    (ConvertRm, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, ty: Type, rm: RoundingMode, x: Value) -> Value {
            self.ins_value(Opcode::$v, ty, &[x], Imm::Rm(rm))
        }
    };
    (Load, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, ty: Type, addr: Value) -> Value {
            self.ins_value(Opcode::$v, ty, &[addr], Imm::None)
        }
    };
    (Store, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, addr: Value, x: Value) {
            let ty = self.ty(x);
            self.ins(Opcode::$v, ty, &[addr, x], Imm::None);
        }
    };
    (ReadReg, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// Raw access that bypasses register tracking: lifters use
        /// [`FunctionBuilder::use_reg`] instead.
        pub fn $m(&mut self, reg: GuestReg) -> Value {
            let ty = self.func.regs.desc(reg).ty;
            self.ins_value(Opcode::$v, ty, &[], Imm::Reg(reg))
        }
    };
    (WriteReg, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        ///
        /// Raw access that bypasses register tracking: lifters use
        /// [`FunctionBuilder::def_reg`] instead.
        pub fn $m(&mut self, reg: GuestReg, x: Value) {
            let ty = self.ty(x);
            self.ins(Opcode::$v, ty, &[x], Imm::Reg(reg));
        }
    };
    (AtomicRmw, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, op: AtomicOp, addr: Value, x: Value) -> Value {
            let ty = self.ty(x);
            self.ins_value(Opcode::$v, ty, &[addr, x], Imm::Atomic(op))
        }
    };
    (AtomicCas, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, addr: Value, expected: Value, new: Value) -> Value {
            let ty = self.ty(expected);
            self.ins_value(Opcode::$v, ty, &[addr, expected, new], Imm::None)
        }
    };
    (Fence, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self) {
            self.ins(Opcode::$v, Type::I64, &[], Imm::None);
        }
    };
    (Poll, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self) -> Value {
            self.ins(Opcode::$v, Type::I1, &[], Imm::None)
                .expect("poll has a result")
        }
    };
    (Helper, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, helper: Helper, args: &[Value]) -> Option<Value> {
            let ty = helper.result().unwrap_or(Type::I64);
            self.ins(Opcode::$v, ty, args, Imm::Helper(helper))
        }
    };
    (VecUnary, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, lane: Type, x: Value) -> Value {
            self.ins_value(Opcode::$v, lane, &[x], Imm::None)
        }
    };
    (VecBinary, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, lane: Type, x: Value, y: Value) -> Value {
            self.ins_value(Opcode::$v, lane, &[x, y], Imm::None)
        }
    };
    (VecTernary, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, lane: Type, c: Value, x: Value, y: Value) -> Value {
            self.ins_value(Opcode::$v, lane, &[c, x, y], Imm::None)
        }
    };
    (VecCompare, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, lane: Type, cc: IntCC, x: Value, y: Value) -> Value {
            self.ins_value(Opcode::$v, lane, &[x, y], Imm::Cc(cc))
        }
    };
    (VecFloatCompare, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, lane: Type, cc: FloatCC, x: Value, y: Value) -> Value {
            self.ins_value(Opcode::$v, lane, &[x, y], Imm::Fcc(cc))
        }
    };
    (VecExtract, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, lane: Type, index: u8, x: Value) -> Value {
            self.ins_value(Opcode::$v, lane, &[x], Imm::Lane(index))
        }
    };
    (VecInsert, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, lane: Type, index: u8, x: Value, scalar: Value) -> Value {
            self.ins_value(Opcode::$v, lane, &[x, scalar], Imm::Lane(index))
        }
    };
    (VecShuffle, $v:ident, $m:ident, $doc:literal) => {
        #[doc = $doc]
        pub fn $m(&mut self, bytes: [u8; 16], x: Value, y: Value) -> Value {
            self.ins_value(Opcode::$v, Type::I8, &[x, y], Imm::Bytes(bytes))
        }
    };
}

macro_rules! define_builder_methods {
    ($($variant:ident $method:ident $sig:ident $doc:literal,)*) => {
        /// One method per op, generated from the op table.
        impl FunctionBuilder {
            $(shape_of!($sig, $variant, $method, $doc);)*
        }
    };
}

/// Routes each signature to the builder-method shape it uses.
macro_rules! shape_of {
    (IConst, $($r:tt)*) => { builder_method!(IConst, $($r)*); };
    (FConst, $($r:tt)*) => { builder_method!(FConst, $($r)*); };
    (VConst, $($r:tt)*) => { builder_method!(VConst, $($r)*); };
    (IntUnary, $($r:tt)*) => { builder_method!(Unary, $($r)*); };
    (IntTest, $($r:tt)*) => { builder_method!(Unary, $($r)*); };
    (FloatUnary, $($r:tt)*) => { builder_method!(Unary, $($r)*); };
    (FloatClass, $($r:tt)*) => { builder_method!(Unary, $($r)*); };
    (IntBinary, $($r:tt)*) => { builder_method!(Binary, $($r)*); };
    (Shift, $($r:tt)*) => { builder_method!(Binary, $($r)*); };
    (IntFlag, $($r:tt)*) => { builder_method!(Binary, $($r)*); };
    (FloatBinary, $($r:tt)*) => { builder_method!(Binary, $($r)*); };
    (FloatUnaryRm, $($r:tt)*) => { builder_method!(UnaryRm, $($r)*); };
    (FloatBinaryRm, $($r:tt)*) => { builder_method!(BinaryRm, $($r)*); };
    (FloatTernaryRm, $($r:tt)*) => { builder_method!(TernaryRm, $($r)*); };
    (IntCompare, $($r:tt)*) => { builder_method!(Cmp, $($r)*); };
    (FloatCompare, $($r:tt)*) => { builder_method!(FCmp, $($r)*); };
    (Select, $($r:tt)*) => { builder_method!(Select, $($r)*); };
    (Extend, $($r:tt)*) => { builder_method!(Convert, $($r)*); };
    (Reduce, $($r:tt)*) => { builder_method!(Convert, $($r)*); };
    (Bitcast, $($r:tt)*) => { builder_method!(Convert, $($r)*); };
    (FloatToInt, $($r:tt)*) => { builder_method!(Convert, $($r)*); };
    (IntToFloat, $($r:tt)*) => { builder_method!(ConvertRm, $($r)*); };
    (FloatToFloat, $($r:tt)*) => { builder_method!(ConvertRm, $($r)*); };
    (Load, $($r:tt)*) => { builder_method!(Load, $($r)*); };
    (Store, $($r:tt)*) => { builder_method!(Store, $($r)*); };
    (ReadReg, $($r:tt)*) => { builder_method!(ReadReg, $($r)*); };
    (WriteReg, $($r:tt)*) => { builder_method!(WriteReg, $($r)*); };
    (AtomicRmw, $($r:tt)*) => { builder_method!(AtomicRmw, $($r)*); };
    (AtomicCas, $($r:tt)*) => { builder_method!(AtomicCas, $($r)*); };
    (Fence, $($r:tt)*) => { builder_method!(Fence, $($r)*); };
    (Poll, $($r:tt)*) => { builder_method!(Poll, $($r)*); };
    (Helper, $($r:tt)*) => { builder_method!(Helper, $($r)*); };
    (VecUnary, $($r:tt)*) => { builder_method!(VecUnary, $($r)*); };
    (VecSplat, $($r:tt)*) => { builder_method!(VecUnary, $($r)*); };
    (VecReduce, $($r:tt)*) => { builder_method!(VecUnary, $($r)*); };
    (VecBinary, $($r:tt)*) => { builder_method!(VecBinary, $($r)*); };
    (VecShift, $($r:tt)*) => { builder_method!(VecBinary, $($r)*); };
    (VecTernary, $($r:tt)*) => { builder_method!(VecTernary, $($r)*); };
    (VecCompare, $($r:tt)*) => { builder_method!(VecCompare, $($r)*); };
    (VecFloatCompare, $($r:tt)*) => { builder_method!(VecFloatCompare, $($r)*); };
    (VecExtract, $($r:tt)*) => { builder_method!(VecExtract, $($r)*); };
    (VecInsert, $($r:tt)*) => { builder_method!(VecInsert, $($r)*); };
    (VecShuffle, $($r:tt)*) => { builder_method!(VecShuffle, $($r)*); };
}

for_each_op!(define_builder_methods);
