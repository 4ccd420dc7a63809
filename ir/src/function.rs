//! Functions, blocks, values and the CFG.

use std::fmt;
use std::sync::Arc;

use petgraph::graphmap::DiGraphMap;
use petgraph::Direction;

use crate::ops::{Imm, Opcode, TrapKind};
use crate::types::Type;

macro_rules! entity {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub u32);

        impl $name {
            /// The index of this entity in its function's table.
            pub const fn index(self) -> usize {
                self.0 as usize
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

entity!(
    /// An SSA value: a block parameter or an instruction result.
    Value,
    "v"
);
entity!(
    /// A basic block.
    Block,
    "block"
);
entity!(
    /// An instruction (not a terminator).
    Inst,
    "inst"
);

/// Index of a register in a [`RegFile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GuestReg(pub u16);

impl GuestReg {
    /// Index into the register file.
    pub const fn index(self) -> usize {
        self.0 as usize
    }
}

/// One register of a guest register file.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegDesc {
    /// Name, unique in its file.
    pub name: String,
    /// IR type of the register's value.
    pub ty: Type,
    /// Undefined at guest calls and returns by the guest's calling
    /// convention (condition flags): its value need not reach the CPU
    /// state at a `call` or `ret`.
    pub call_scratch: bool,
}

/// The guest register file a function reads and writes: declared by each
/// guest frontend (from the runtime contract), shared by all its functions.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct RegFile {
    /// Name of the file (the guest architecture, or a test's own name).
    pub name: String,
    /// Registers in index order.
    pub regs: Vec<RegDesc>,
    /// Registers a guest call hands to its callee through the host linkage
    /// (`link_out` before the call, `link_in` at the callee's entry)
    /// rather than the CPU state; empty when everything goes through the
    /// state.
    pub link_in: Vec<GuestReg>,
    /// Registers a guest return hands back to the caller through the host
    /// linkage (`link_out` before the return, `link_in` after the call).
    pub link_out: Vec<GuestReg>,
}

impl RegFile {
    /// Builds a register file from `(name, type)` pairs.
    pub fn new(name: &str, regs: impl IntoIterator<Item = (String, Type)>) -> RegFile {
        RegFile {
            name: name.to_string(),
            regs: regs
                .into_iter()
                .map(|(name, ty)| RegDesc {
                    name,
                    ty,
                    call_scratch: false,
                })
                .collect(),
            link_in: Vec::new(),
            link_out: Vec::new(),
        }
    }

    /// Sets the registers handed over through the host linkage at calls
    /// ([`RegFile::link_in`]) and returns ([`RegFile::link_out`]); panics
    /// on a name that is not in the file.
    pub fn with_linkage(mut self, into_callee: &[&str], back: &[&str]) -> RegFile {
        let find = |file: &RegFile, n: &str| {
            file.by_name(n)
                .unwrap_or_else(|| panic!("linkage register {n} is not in {}", file.name))
        };
        self.link_in = into_callee.iter().map(|n| find(&self, n)).collect();
        self.link_out = back.iter().map(|n| find(&self, n)).collect();
        self
    }

    /// Marks the registers called `names` as [`RegDesc::call_scratch`].
    pub fn with_call_scratch(mut self, names: &[&str]) -> RegFile {
        for r in &mut self.regs {
            r.call_scratch |= names.contains(&r.name.as_str());
        }
        self
    }

    /// The register called `name`.
    pub fn by_name(&self, name: &str) -> Option<GuestReg> {
        self.regs
            .iter()
            .position(|r| r.name == name)
            .map(|i| GuestReg(i as u16))
    }

    /// Description of `reg`; panics on an index outside the file, which the
    /// verifier rules out.
    pub fn desc(&self, reg: GuestReg) -> &RegDesc {
        &self.regs[reg.index()]
    }

    /// Number of registers.
    pub fn len(&self) -> usize {
        self.regs.len()
    }

    /// True when the file has no registers.
    pub fn is_empty(&self) -> bool {
        self.regs.is_empty()
    }
}

/// Where a value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValueDef {
    /// Parameter `index` of `block`.
    Param(Block, u32),
    /// Result of an instruction.
    Result(Inst),
}

/// A value's type and definition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueData {
    /// Type of the value.
    pub ty: Type,
    /// Its definition.
    pub def: ValueDef,
}

/// One instruction: op, controlling type, operands, immediate and result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstData {
    /// The operation.
    pub op: Opcode,
    /// Controlling type (see [`crate::Sig`]).
    pub ty: Type,
    /// Value operands.
    pub args: Vec<Value>,
    /// Immediate operand.
    pub imm: Imm,
    /// Result value, if the op has one.
    pub result: Option<Value>,
}

/// A branch destination with the arguments for the block's parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockCall {
    /// Destination.
    pub block: Block,
    /// Arguments, one per parameter of `block`.
    pub args: Vec<Value>,
}

impl BlockCall {
    /// A destination without arguments.
    pub fn new(block: Block) -> BlockCall {
        BlockCall {
            block,
            args: Vec::new(),
        }
    }
}

/// How a block ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Terminator {
    /// Unconditional branch.
    Jump(BlockCall),
    /// Two-way branch on an `i1`.
    Brif {
        /// Condition.
        cond: Value,
        /// Taken when `cond` is 1.
        then_dest: BlockCall,
        /// Taken when `cond` is 0.
        else_dest: BlockCall,
    },
    /// Multi-way branch on an integer (resolved jump tables).
    Switch {
        /// The value switched on.
        index: Value,
        /// `(value, destination)`, values distinct.
        cases: Vec<(u64, BlockCall)>,
        /// Taken when no case matches.
        default: BlockCall,
    },
    /// Guest call: run the guest code at `target`; when it returns to
    /// `return_pc`, continue at `cont`, otherwise leave the function with the
    /// PC it returned to. Guest registers are in the CPU state across it.
    Call {
        /// Guest address called (i64).
        target: Value,
        /// Guest address the call returns to.
        return_pc: u64,
        /// Continuation.
        cont: BlockCall,
    },
    /// Guest return: leave the function, continuing at guest `pc`.
    Return {
        /// Guest address returned to (i64).
        pc: Value,
    },
    /// Leave the function to the runtime's dispatcher, continuing at `pc`.
    Exit {
        /// Guest address to continue at (i64).
        pc: Value,
    },
    /// Stop the guest with a fault at guest address `pc`.
    Trap {
        /// Why.
        kind: TrapKind,
        /// Guest address of the faulting instruction.
        pc: u64,
    },
}

impl Terminator {
    /// Successor block calls, in order (switch cases before the default).
    /// An iterator, not a list: passes ask this of every branch often, and
    /// a resolved jump table can have hundreds of cases.
    pub fn dests(&self) -> impl DoubleEndedIterator<Item = &BlockCall> + Clone + '_ {
        let (cases, last): (&[(u64, BlockCall)], [Option<&BlockCall>; 2]) = match self {
            Terminator::Jump(d) | Terminator::Call { cont: d, .. } => (&[], [Some(d), None]),
            Terminator::Brif {
                then_dest,
                else_dest,
                ..
            } => (&[], [Some(then_dest), Some(else_dest)]),
            Terminator::Switch { cases, default, .. } => (cases, [Some(default), None]),
            Terminator::Return { .. } | Terminator::Exit { .. } | Terminator::Trap { .. } => {
                (&[], [None, None])
            }
        };
        cases
            .iter()
            .map(|(_, d)| d)
            .chain(last.into_iter().flatten())
    }

    /// Mutable successor block calls, in the order of [`Terminator::dests`].
    pub fn dests_mut(&mut self) -> impl Iterator<Item = &mut BlockCall> + '_ {
        let (cases, last): (&mut [(u64, BlockCall)], [Option<&mut BlockCall>; 2]) = match self {
            Terminator::Jump(d) | Terminator::Call { cont: d, .. } => (&mut [], [Some(d), None]),
            Terminator::Brif {
                then_dest,
                else_dest,
                ..
            } => (&mut [], [Some(then_dest), Some(else_dest)]),
            Terminator::Switch { cases, default, .. } => (cases, [Some(default), None]),
            Terminator::Return { .. } | Terminator::Exit { .. } | Terminator::Trap { .. } => {
                (&mut [], [None, None])
            }
        };
        cases
            .iter_mut()
            .map(|(_, d)| d)
            .chain(last.into_iter().flatten())
    }

    /// Values the terminator itself uses (not block arguments).
    pub fn operands(&self) -> Vec<Value> {
        match self {
            Terminator::Brif { cond, .. } => vec![*cond],
            Terminator::Switch { index, .. } => vec![*index],
            Terminator::Call { target, .. } => vec![*target],
            Terminator::Return { pc } | Terminator::Exit { pc } => vec![*pc],
            Terminator::Jump(_) | Terminator::Trap { .. } => Vec::new(),
        }
    }

    /// Every value used: operands and block arguments.
    pub fn uses(&self) -> Vec<Value> {
        let mut v = self.operands();
        for d in self.dests() {
            v.extend(d.args.iter().copied());
        }
        v
    }

    /// Applies `f` to every used value (operands and block arguments).
    pub fn map_values(&mut self, mut f: impl FnMut(Value) -> Value) {
        match self {
            Terminator::Brif { cond, .. } => *cond = f(*cond),
            Terminator::Switch { index, .. } => *index = f(*index),
            Terminator::Call { target, .. } => *target = f(*target),
            Terminator::Return { pc } | Terminator::Exit { pc } => *pc = f(*pc),
            Terminator::Jump(_) | Terminator::Trap { .. } => {}
        }
        for d in self.dests_mut() {
            for a in &mut d.args {
                *a = f(*a);
            }
        }
    }

    /// True when control leaves the function (return, exit, trap).
    pub fn leaves_function(&self) -> bool {
        matches!(
            self,
            Terminator::Return { .. } | Terminator::Exit { .. } | Terminator::Trap { .. }
        )
    }
}

/// A basic block: parameters, instructions, and (once finished) a terminator.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BlockData {
    /// Parameters (SSA values defined on entry).
    pub params: Vec<Value>,
    /// Instructions in order.
    pub insts: Vec<Inst>,
    /// How the block ends; `None` only while it is being built.
    pub term: Option<Terminator>,
    /// Guest address this block starts at, when it corresponds to one.
    pub guest_pc: Option<u64>,
}

/// An IR function: one guest function (or code region) and its CFG.
///
/// Blocks and instructions live in arenas; `layout` lists the blocks that are
/// part of the function, entry first. The CFG (a petgraph `DiGraphMap`) always
/// mirrors the terminators: change a terminator only through
/// [`Function::set_terminator`].
#[derive(Clone, Debug)]
pub struct Function {
    /// Name (symbol or `f_<addr>`).
    pub name: String,
    /// Guest address of the entry.
    pub entry_pc: u64,
    /// The guest register file.
    pub regs: Arc<RegFile>,
    /// Precise guest faults: the CPU state (every guest register and the
    /// PC) is exact at each guest memory access, so a host fault there can
    /// become a guest signal the guest handles and returns from. Passes
    /// keep the write-backs before memory ops; the backend lets guest
    /// memory alias the state.
    pub precise_faults: bool,
    /// Guest PCs other than `entry_pc` at which this function can be
    /// entered: its entry dispatches on the PC register (which the runtime's
    /// dispatcher sets before every call). Such a variant serves targets of
    /// indirect jumps discovery could not resolve; direct calls never use it.
    pub extra_entries: Vec<u64>,
    values: Vec<ValueData>,
    insts: Vec<InstData>,
    /// Guest address each instruction was lifted from, when known.
    srclocs: Vec<Option<u64>>,
    blocks: Vec<BlockData>,
    layout: Vec<Block>,
    cfg: DiGraphMap<Block, ()>,
}

impl Function {
    /// An empty function (no blocks yet).
    pub fn new(name: impl Into<String>, entry_pc: u64, regs: Arc<RegFile>) -> Function {
        Function {
            name: name.into(),
            entry_pc,
            regs,
            precise_faults: false,
            extra_entries: Vec::new(),
            values: Vec::new(),
            insts: Vec::new(),
            srclocs: Vec::new(),
            blocks: Vec::new(),
            layout: Vec::new(),
            cfg: DiGraphMap::new(),
        }
    }

    /// Appends a new empty block to the layout.
    pub fn add_block(&mut self) -> Block {
        let b = Block(self.blocks.len() as u32);
        self.blocks.push(BlockData::default());
        self.layout.push(b);
        self.cfg.add_node(b);
        b
    }

    /// Adds a parameter of type `ty` to `block`.
    pub fn add_block_param(&mut self, block: Block, ty: Type) -> Value {
        let index = self.blocks[block.index()].params.len() as u32;
        let v = self.new_value(ty, ValueDef::Param(block, index));
        self.blocks[block.index()].params.push(v);
        v
    }

    /// Removes parameter `index` of `block`. Callers must also remove the
    /// matching argument from every branch to it.
    pub fn remove_block_param(&mut self, block: Block, index: usize) {
        self.blocks[block.index()].params.remove(index);
        let params = self.blocks[block.index()].params.clone();
        for (i, p) in params.into_iter().enumerate() {
            self.values[p.index()].def = ValueDef::Param(block, i as u32);
        }
    }

    fn new_value(&mut self, ty: Type, def: ValueDef) -> Value {
        let v = Value(self.values.len() as u32);
        self.values.push(ValueData { ty, def });
        v
    }

    /// Creates an instruction (not yet placed in any block), with a result
    /// value when `result_ty` is given.
    pub fn create_inst(
        &mut self,
        op: Opcode,
        ty: Type,
        args: Vec<Value>,
        imm: Imm,
        result_ty: Option<Type>,
    ) -> Inst {
        let inst = Inst(self.insts.len() as u32);
        let result = result_ty.map(|rt| self.new_value(rt, ValueDef::Result(inst)));
        self.insts.push(InstData {
            op,
            ty,
            args,
            imm,
            result,
        });
        self.srclocs.push(None);
        inst
    }

    /// Records the guest address `inst` was lifted from.
    pub fn set_srcloc(&mut self, inst: Inst, pc: Option<u64>) {
        self.srclocs[inst.index()] = pc;
    }

    /// The guest address `inst` was lifted from, when known.
    pub fn srcloc(&self, inst: Inst) -> Option<u64> {
        self.srclocs[inst.index()]
    }

    /// Appends `inst` to the end of `block` (before its terminator).
    pub fn append_inst(&mut self, block: Block, inst: Inst) {
        self.blocks[block.index()].insts.push(inst);
    }

    /// Sets (or replaces) the terminator of `block`, keeping the CFG in sync.
    pub fn set_terminator(&mut self, block: Block, term: Terminator) {
        self.detach_edges(block);
        for d in term.dests() {
            self.cfg.add_edge(block, d.block, ());
        }
        self.blocks[block.index()].term = Some(term);
    }

    /// Changes the arguments of each branch of `block` with `f`; the
    /// destinations (so the CFG) stay; [`Function::set_terminator`] changes
    /// destinations.
    pub fn update_branch_args(&mut self, block: Block, mut f: impl FnMut(&mut BlockCall)) {
        if let Some(term) = self.blocks[block.index()].term.as_mut() {
            for d in term.dests_mut() {
                let dest = d.block;
                f(d);
                assert_eq!(d.block, dest, "update_branch_args changed a destination");
            }
        }
    }

    fn detach_edges(&mut self, block: Block) {
        let succs: Vec<Block> = self
            .cfg
            .neighbors_directed(block, Direction::Outgoing)
            .collect();
        for s in succs {
            self.cfg.remove_edge(block, s);
        }
    }

    /// Removes `block` from the layout and the CFG (its instructions stay in
    /// the arena, unreferenced). The entry block cannot be removed.
    pub fn remove_block(&mut self, block: Block) {
        assert_ne!(Some(block), self.entry(), "cannot remove the entry block");
        self.detach_edges(block);
        self.cfg.remove_node(block);
        self.layout.retain(|&b| b != block);
        self.blocks[block.index()].term = None;
        self.blocks[block.index()].insts.clear();
    }

    /// The entry block, if the function has any block.
    pub fn entry(&self) -> Option<Block> {
        self.layout.first().copied()
    }

    /// Blocks in layout order, entry first.
    pub fn layout(&self) -> &[Block] {
        &self.layout
    }

    /// True when `block` is in the layout.
    pub fn is_live_block(&self, block: Block) -> bool {
        self.cfg.contains_node(block)
    }

    /// A block's data.
    pub fn block(&self, block: Block) -> &BlockData {
        &self.blocks[block.index()]
    }

    /// A block's instruction list, for passes that insert, remove or reorder
    /// instructions (terminators are changed with `set_terminator`).
    pub fn block_insts_mut(&mut self, block: Block) -> &mut Vec<Inst> {
        &mut self.blocks[block.index()].insts
    }

    /// Sets the guest address a block starts at.
    pub fn set_block_pc(&mut self, block: Block, pc: Option<u64>) {
        self.blocks[block.index()].guest_pc = pc;
    }

    /// An instruction's data.
    pub fn inst(&self, inst: Inst) -> &InstData {
        &self.insts[inst.index()]
    }

    /// An instruction's data, for in-place rewriting. Keep the result type
    /// consistent with the op (the verifier checks it).
    pub fn inst_mut(&mut self, inst: Inst) -> &mut InstData {
        &mut self.insts[inst.index()]
    }

    /// The instruction defining `v` (`None` for a block parameter).
    pub fn defining_inst(&self, v: Value) -> Option<&InstData> {
        match self.value(v).def {
            ValueDef::Result(inst) => Some(self.inst(inst)),
            ValueDef::Param(..) => None,
        }
    }

    /// A value's type and definition.
    pub fn value(&self, v: Value) -> &ValueData {
        &self.values[v.index()]
    }

    /// A value's type.
    pub fn value_type(&self, v: Value) -> Type {
        self.values[v.index()].ty
    }

    /// Number of values ever created (for dense side tables).
    pub fn num_values(&self) -> usize {
        self.values.len()
    }

    /// Number of instructions ever created (for dense side tables).
    pub fn num_insts(&self) -> usize {
        self.insts.len()
    }

    /// Number of blocks ever created (for dense side tables).
    pub fn num_blocks(&self) -> usize {
        self.blocks.len()
    }

    /// True when `v` was created by this function.
    pub fn is_valid_value(&self, v: Value) -> bool {
        v.index() < self.values.len()
    }

    /// Predecessors of `block` in the CFG.
    pub fn preds(&self, block: Block) -> Vec<Block> {
        let mut p: Vec<Block> = self
            .cfg
            .neighbors_directed(block, Direction::Incoming)
            .collect();
        p.sort_unstable();
        p
    }

    /// Successors of `block` in the CFG.
    pub fn succs(&self, block: Block) -> Vec<Block> {
        let mut s: Vec<Block> = self
            .cfg
            .neighbors_directed(block, Direction::Outgoing)
            .collect();
        s.sort_unstable();
        s
    }

    /// The CFG itself, for graph algorithms.
    pub fn cfg(&self) -> &DiGraphMap<Block, ()> {
        &self.cfg
    }

    /// Replaces every use of each value by its substitute, following chains
    /// (`subst(v)` returns `None` for values that stay).
    pub fn substitute_values(&mut self, subst: impl Fn(Value) -> Option<Value>) {
        let resolve = |mut v: Value| {
            let mut steps = 0;
            while let Some(n) = subst(v) {
                v = n;
                steps += 1;
                assert!(steps <= self.values.len(), "cyclic value substitution");
            }
            v
        };
        let mut new_insts = self.insts.clone();
        for b in &self.layout {
            for &i in &self.blocks[b.index()].insts {
                for a in &mut new_insts[i.index()].args {
                    *a = resolve(*a);
                }
            }
        }
        let layout = self.layout.clone();
        let mut terms = Vec::with_capacity(layout.len());
        for &b in &layout {
            if let Some(mut t) = self.blocks[b.index()].term.clone() {
                t.map_values(resolve);
                terms.push((b, Some(t)));
            } else {
                terms.push((b, None));
            }
        }
        self.insts = new_insts;
        for (b, t) in terms {
            self.blocks[b.index()].term = t;
        }
    }

    /// Number of instructions in the layout (a size measure for reports).
    pub fn inst_count(&self) -> usize {
        self.layout
            .iter()
            .map(|b| self.blocks[b.index()].insts.len())
            .sum()
    }

    /// The CFG recomputed from the terminators, as sorted edge pairs (used by
    /// the verifier to check the stored CFG).
    pub(crate) fn edges_from_terminators(&self) -> Vec<(Block, Block)> {
        let mut edges: Vec<(Block, Block)> = Vec::new();
        for &b in &self.layout {
            if let Some(t) = &self.blocks[b.index()].term {
                for d in t.dests() {
                    edges.push((b, d.block));
                }
            }
        }
        edges.sort_unstable();
        edges.dedup();
        edges
    }

    /// The stored CFG's edges, sorted.
    pub(crate) fn stored_edges(&self) -> Vec<(Block, Block)> {
        let mut edges: Vec<(Block, Block)> = self.cfg.all_edges().map(|(a, b, _)| (a, b)).collect();
        edges.sort_unstable();
        edges
    }
}

/// A translation unit: functions over one guest register file.
#[derive(Clone, Debug)]
pub struct Module {
    /// The guest register file of every function.
    pub regs: Arc<RegFile>,
    /// The functions.
    pub functions: Vec<Function>,
}

impl Module {
    /// An empty module.
    pub fn new(regs: Arc<RegFile>) -> Module {
        Module {
            regs,
            functions: Vec::new(),
        }
    }
}
