//! Lifting whole guest functions: the part every guest shares.
//!
//! [`lift_function`] creates one IR block per discovered guest block, walks
//! each block's instructions and hands each one to the guest's
//! [`Lifter::lift`]. The lifter emits semantics through [`LiftCx`], which maps
//! guest control flow onto the function's blocks: a branch to a guest address
//! inside the function becomes an IR branch, anything else an `exit` to the
//! runtime's dispatcher.

use rustc_hash::FxHashMap as HashMap;
use std::collections::BTreeMap;
use std::sync::Arc;

use vmtrans_abi::{Arch, RegKind};
use vmtrans_ir::{
    Block, Function, FunctionBuilder, Imm, IntCC, Opcode, RegFile, TrapKind, Type, Value,
};

use crate::error::{hex, DecodeError};
use crate::{Lifter, UsualMode};

/// An instruction the lifter cannot translate; it becomes a guest trap.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cannot lift {arch} instruction at {addr:#x} ({}): {reason}",
    hex(bytes)
)]
pub struct LiftError {
    /// Guest architecture name.
    pub arch: &'static str,
    /// Guest address.
    pub addr: u64,
    /// The instruction bytes.
    pub bytes: Vec<u8>,
    /// Why.
    pub reason: String,
}

/// The IR type that holds a register of the given storage kind.
pub fn ir_type(kind: RegKind) -> Type {
    match kind {
        RegKind::Flag => Type::I1,
        RegKind::I8 => Type::I8,
        RegKind::I32 => Type::I32,
        RegKind::I64 => Type::I64,
        RegKind::V128 => Type::V128,
    }
}

/// The register file of `arch` as the IR sees it, from the runtime contract.
pub fn regfile_for(arch: Arch) -> RegFile {
    RegFile::new(
        arch.name(),
        arch.registers()
            .iter()
            .map(|r| (r.name.to_string(), ir_type(r.kind))),
    )
    .with_call_scratch(arch.call_scratch_registers())
    .with_linkage(arch.linkage_registers().0, arch.linkage_registers().1)
}

/// The register file of `arch`, built once and shared by every function
/// lifted for it.
pub fn shared_regfile(arch: Arch) -> Arc<RegFile> {
    static FILES: [std::sync::OnceLock<Arc<RegFile>>; 3] =
        [const { std::sync::OnceLock::new() }; 3];
    let slot = match arch {
        Arch::Riscv64 => 0,
        Arch::Aarch64 => 1,
        Arch::X86_64 => 2,
    };
    FILES[slot]
        .get_or_init(|| Arc::new(regfile_for(arch)))
        .clone()
}

/// One guest block to lift: `[start, end)` in guest addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockRange {
    /// First instruction.
    pub start: u64,
    /// One past the last instruction's last byte.
    pub end: u64,
}

/// The guest code a function is lifted from: a way to read bytes.
pub trait CodeSource {
    /// Up to `len` bytes at guest address `addr` (fewer at the end of a
    /// segment), or `None` when nothing executable is mapped there.
    fn code(&self, addr: u64, len: usize) -> Option<&[u8]>;
}

/// A guest's "save the FP flags, compare, restore the flags" sequence,
/// recognized at its first instruction: the compare in between then needs
/// no host flags and the restore no flag synchronization (gcc emits it for
/// quiet comparisons on RISC-V: `frflags; flt; fsflags`).
#[derive(Clone, Copy, Debug)]
pub struct SavedFpFlags {
    /// Address of the compare.
    pub compare_pc: u64,
    /// Address of the restore.
    pub restore_pc: u64,
    /// The guest flag register's value at the save.
    pub flags: Value,
}

/// The lifting context for one instruction: the builder plus guest-PC-aware
/// control flow.
pub struct LiftCx<'a> {
    /// The function builder; lifters use it for semantics.
    pub b: FunctionBuilder,
    /// A flag save/compare/restore sequence under way in this block.
    pub saved_fp_flags: Option<SavedFpFlags>,
    blocks: &'a BTreeMap<u64, Block>,
    /// Resolved jump tables: indirect-jump site → its possible targets.
    jump_tables: &'a crate::JumpTables,
    code: &'a dyn CodeSource,
    pc: u64,
    len: u64,
    /// End of the guest block being lifted.
    block_end: u64,
    /// In the usual-mode copy of a function lifted twice: the mode and the
    /// other copy's blocks, where a call that returns with the mode
    /// changed goes on.
    usual: Option<(UsualMode, &'a BTreeMap<u64, Block>)>,
}

impl LiftCx<'_> {
    /// The bytes at `pc` (up to 16), when `pc` lies after the current
    /// instruction in the same guest block (no branch lands in between), so
    /// a lifter may recognize a sequence that starts here.
    pub fn code_ahead(&self, pc: u64) -> Option<&[u8]> {
        let ahead = pc > self.pc && pc < self.block_end;
        let split = self.blocks.range(self.pc + 1..=pc).next().is_some();
        if !ahead || split {
            return None;
        }
        self.code.code(pc, 16)
    }

    /// Guest address of the instruction being lifted.
    pub fn pc(&self) -> u64 {
        self.pc
    }

    /// Guest address of the next instruction.
    pub fn next_pc(&self) -> u64 {
        self.pc.wrapping_add(self.len)
    }

    /// An `i64` constant.
    pub fn const64(&mut self, v: u64) -> Value {
        self.b.iconst(Type::I64, v as i128)
    }

    /// The IR block for guest address `pc`: the function's block when `pc`
    /// starts one, otherwise a new block that exits to the dispatcher.
    fn block_for(&mut self, pc: u64) -> Block {
        if let Some(&b) = self.blocks.get(&pc) {
            return b;
        }
        let here = self.b.current_block().expect("lifting outside a block");
        let exit = self.b.create_block();
        self.b.switch_to_block(exit);
        self.b.exit_to(pc);
        self.b.switch_to_block(here);
        exit
    }

    /// Unconditional jump to a constant guest address.
    pub fn jump_to(&mut self, target: u64) {
        match self.blocks.get(&target) {
            Some(&b) if self.is_back_edge(target) => {
                let polled = self.polled(target, b);
                self.b.jump(polled, &[]);
            }
            Some(&b) => self.b.jump(b, &[]),
            None => self.b.exit_to(target),
        }
    }

    /// Jump to `target` when `cond` (i1) holds, else fall through to the next
    /// instruction.
    pub fn branch(&mut self, cond: Value, target: u64) {
        let taken = match self.blocks.get(&target) {
            Some(&b) if self.is_back_edge(target) => self.polled(target, b),
            _ => self.block_for(target),
        };
        let fall = self.block_for(self.next_pc());
        self.b.brif(cond, taken, fall);
    }

    /// A branch to `target` at or before this instruction may close a loop.
    fn is_back_edge(&self, target: u64) -> bool {
        target <= self.pc
    }

    /// A block that polls for a pending signal before going on to `body`
    /// (the block of `target`), and leaves through the dispatcher at
    /// `target` when one waits. Every loop passes through a back edge, so
    /// no loop runs without reaching a safe point (the optimizer drops the
    /// polls of loops a counter ends within a few trips:
    /// `vmtrans_ir::passes::BoundedLoopPolls`).
    fn polled(&mut self, target: u64, body: Block) -> Block {
        let here = self.b.current_block().expect("lifting outside a block");
        let poll = self.b.create_block();
        let leave = self.b.create_block();
        self.b.switch_to_block(poll);
        let pending = self.b.poll();
        self.b.brif(pending, leave, body);
        self.b.switch_to_block(leave);
        self.b.exit_resuming(body, target);
        self.b.switch_to_block(here);
        poll
    }

    /// Guest call of `target` (i64); returns to the next instruction.
    pub fn call(&mut self, target: Value) {
        let ret = self.next_pc();
        let cont = self.block_for(ret);
        match self
            .usual
            .and_then(|(mode, other)| Some((mode, *other.get(&ret)?)))
        {
            // The callee may have changed the mode: test it again.
            Some((mode, unusual)) => {
                let check = self.b.create_block();
                self.b.call(target, ret, check);
                self.b.switch_to_block(check);
                enter_by_mode(&mut self.b, mode, cont, unusual);
            }
            None => self.b.call(target, ret, cont),
        }
    }

    /// Guest return to `target` (i64).
    pub fn ret(&mut self, target: Value) {
        self.b.ret(target);
    }

    /// Indirect jump to `target` (i64). A resolved jump table becomes a
    /// `switch` over its targets inside the function (no trip through the
    /// dispatcher); anything else, and a value outside the table, leaves
    /// through the dispatcher.
    pub fn jump_indirect(&mut self, target: Value) {
        let cases: Vec<(u64, Block)> = match self.jump_tables.get(&self.pc) {
            Some(targets) => {
                let mut seen = std::collections::BTreeSet::new();
                targets
                    .iter()
                    .filter(|t| seen.insert(**t))
                    .filter_map(|t| self.blocks.get(t).map(|&b| (*t, b)))
                    .collect()
            }
            None => Vec::new(),
        };
        if cases.is_empty() {
            self.b.exit(target);
            return;
        }
        let here = self.b.current_block().expect("lifting outside a block");
        let other = self.b.create_block();
        self.b.switch_to_block(other);
        self.b.exit(target);
        self.b.switch_to_block(here);
        self.b.switch(target, &cases, other);
    }

    /// Ends a system call (the `Syscall` helper has just run, with `pc`
    /// holding the next instruction's address before it): execution goes on
    /// in line only when the runtime left the PC there and asks for no stop
    /// (`poll`). A moved PC (signal handler, `rt_sigreturn`, `execve`)
    /// leaves to it; a stop request (a signal, or a change of translation
    /// mode such as precise faults) leaves to the next instruction through
    /// the dispatcher.
    pub fn finish_syscall(&mut self, pc: vmtrans_ir::GuestReg) {
        let next = self.next_pc();
        let expected = self.const64(next);
        let now = self.b.use_reg(pc);
        let moved = self.b.icmp(vmtrans_ir::IntCC::Ne, now, expected);
        let leave = self.b.create_block();
        let check = self.b.create_block();
        let stop = self.b.create_block();
        let stay = self.b.create_block();
        self.b.brif(moved, leave, check);
        self.b.switch_to_block(leave);
        self.b.exit(now);
        self.b.switch_to_block(check);
        let pending = self.b.poll();
        self.b.brif(pending, stop, stay);
        self.b.switch_to_block(stop);
        self.b.exit_to(next);
        self.b.switch_to_block(stay);
    }

    /// Stops the guest with a trap at this instruction.
    pub fn trap(&mut self, kind: TrapKind) {
        self.b.trap(kind, self.pc);
    }
}

/// Lifts one guest function made of `blocks` (the first starts at
/// `entry_pc`). Instructions that cannot be decoded or lifted become traps at
/// their address and are reported in the returned list; they are not fatal
/// for the rest of the program.
pub fn lift_function(
    lifter: &dyn Lifter,
    code: &dyn CodeSource,
    name: &str,
    entry_pc: u64,
    blocks: &[BlockRange],
) -> (Function, Vec<LiftIssue>) {
    lift_function_with_tables(lifter, code, name, entry_pc, blocks, &HashMap::default())
}

/// [`lift_function`] with precise guest faults (see
/// [`Function::precise_faults`]), for guests that handle `SIGSEGV`/`SIGBUS`.
pub fn lift_function_precise(
    lifter: &dyn Lifter,
    code: &dyn CodeSource,
    name: &str,
    entry_pc: u64,
    blocks: &[BlockRange],
    jump_tables: &crate::JumpTables,
) -> (Function, Vec<LiftIssue>) {
    let options = LiftMode {
        precise_faults: true,
        ..LiftMode::default()
    };
    lift(lifter, code, name, entry_pc, blocks, jump_tables, options)
}

/// A variant of the function that can be entered at any of its block starts
/// (see [`Function::extra_entries`]): its entry switches on the PC register.
/// For functions with indirect jumps whose targets are unknown (computed
/// gotos), so jumps into them need no translation at run time.
pub fn lift_function_multi_entry(
    lifter: &dyn Lifter,
    code: &dyn CodeSource,
    name: &str,
    entry_pc: u64,
    blocks: &[BlockRange],
    jump_tables: &crate::JumpTables,
) -> (Function, Vec<LiftIssue>) {
    let options = LiftMode {
        multi_entry: true,
        ..LiftMode::default()
    };
    lift(lifter, code, name, entry_pc, blocks, jump_tables, options)
}

/// [`lift_function`], with the resolved jump tables of the program
/// (indirect-jump site → targets) so they become in-function `switch`es.
pub fn lift_function_with_tables(
    lifter: &dyn Lifter,
    code: &dyn CodeSource,
    name: &str,
    entry_pc: u64,
    blocks: &[BlockRange],
    jump_tables: &crate::JumpTables,
) -> (Function, Vec<LiftIssue>) {
    lift(
        lifter,
        code,
        name,
        entry_pc,
        blocks,
        jump_tables,
        LiftMode::default(),
    )
}

/// [`lift_function_with_tables`] (with precise faults when `precise`) for
/// code in memory the guest may write without announcing it, as x86 code
/// may (its instruction fetch is coherent with stores): on entry the
/// function compares guest memory with the bytes it was lifted from and,
/// when they differ, flushes translated code and leaves through the
/// dispatcher at its entry, which translates the new code. A function that
/// rewrites itself while it runs keeps its translation until its next
/// entry.
pub fn lift_function_self_checking(
    lifter: &dyn Lifter,
    code: &dyn CodeSource,
    name: &str,
    entry_pc: u64,
    blocks: &[BlockRange],
    jump_tables: &crate::JumpTables,
    precise: bool,
) -> (Function, Vec<LiftIssue>) {
    let options = LiftMode {
        precise_faults: precise,
        self_check: true,
        ..LiftMode::default()
    };
    lift(lifter, code, name, entry_pc, blocks, jump_tables, options)
}

/// How a function is lifted.
#[derive(Clone, Copy, Debug, Default)]
struct LiftMode {
    /// [`Function::precise_faults`].
    precise_faults: bool,
    /// Entered at any block start ([`Function::extra_entries`]).
    multi_entry: bool,
    /// Compares its guest code with the bytes it was lifted from on entry
    /// (see [`lift_function_self_checking`]).
    self_check: bool,
}

/// The guest PC register of `arch`, by its name in the register file.
fn pc_register(lifter: &dyn Lifter, regs: &RegFile) -> vmtrans_ir::GuestReg {
    let name = match lifter.arch() {
        Arch::X86_64 => "rip",
        Arch::Riscv64 | Arch::Aarch64 => "pc",
    };
    regs.by_name(name)
        .unwrap_or_else(|| panic!("the {} register file has no {name}", lifter.arch()))
}

fn lift(
    lifter: &dyn Lifter,
    code: &dyn CodeSource,
    name: &str,
    entry_pc: u64,
    blocks: &[BlockRange],
    jump_tables: &crate::JumpTables,
    mode: LiftMode,
) -> (Function, Vec<LiftIssue>) {
    let src = Source {
        lifter,
        code,
        jump_tables,
        blocks,
    };
    let once = lift_copies(&src, name, entry_pc, mode, None);
    let enters_a_block = blocks.iter().any(|r| r.start == entry_pc);
    match lifter.usual_mode() {
        Some(usual) if !mode.multi_entry && enters_a_block && reads_reg(&once.0, usual.reg) => {
            lift_copies(&src, name, entry_pc, mode, Some(usual))
        }
        _ => once,
    }
}

/// What a function is lifted from.
struct Source<'a> {
    lifter: &'a dyn Lifter,
    code: &'a dyn CodeSource,
    jump_tables: &'a crate::JumpTables,
    blocks: &'a [BlockRange],
}

/// Lifts the function once, or, with `usual`, twice behind a test of the
/// usual mode at its entry (see [`Lifter::usual_mode`]).
fn lift_copies(
    src: &Source,
    name: &str,
    entry_pc: u64,
    mode: LiftMode,
    usual: Option<UsualMode>,
) -> (Function, Vec<LiftIssue>) {
    let regs: Arc<RegFile> = src.lifter.regfile();
    let pc = pc_register(src.lifter, &regs);
    let mut b = FunctionBuilder::new(name, entry_pc, regs);
    if mode.precise_faults {
        b.set_precise_faults(pc);
    }
    let map = block_map(&mut b, src.blocks);
    let unusual_map = usual.map(|_| block_map(&mut b, src.blocks));
    // The entry block only enters: guest code may branch back to its start.
    let mut cx = LiftCx {
        b,
        saved_fp_flags: None,
        blocks: &map,
        jump_tables: src.jump_tables,
        code: src.code,
        pc: entry_pc,
        len: 0,
        block_end: entry_pc,
        usual: usual.zip(unusual_map.as_ref()),
    };
    if mode.self_check {
        check_code_unchanged(&mut cx.b, src.code, src.blocks);
    }
    // Entering is not a back edge: no poll.
    match (map.get(&entry_pc), usual.zip(unusual_map.as_ref())) {
        _ if mode.multi_entry => enter_anywhere(&mut cx.b, &map, pc),
        (Some(&first), Some((usual, other))) => {
            enter_by_mode(&mut cx.b, usual, first, other[&entry_pc]);
        }
        (Some(&first), None) => cx.b.jump(first, &[]),
        (None, _) => cx.b.exit_to(entry_pc),
    }
    let mut issues = Vec::new();
    lift_blocks(src, &mut cx, &mut issues);
    if let Some(other) = &unusual_map {
        cx.blocks = other;
        cx.usual = None;
        // The same code again: its issues are the first copy's.
        lift_blocks(src, &mut cx, &mut Vec::new());
    }
    (cx.b.finish(), issues)
}

/// A block for each guest block, at its address.
fn block_map(b: &mut FunctionBuilder, blocks: &[BlockRange]) -> BTreeMap<u64, Block> {
    let mut map = BTreeMap::new();
    for r in blocks {
        let block = b.create_block();
        b.set_block_pc(block, r.start);
        map.insert(r.start, block);
    }
    map
}

/// Lifts every guest block into its block of `cx.blocks`.
fn lift_blocks(src: &Source, cx: &mut LiftCx, issues: &mut Vec<LiftIssue>) {
    for r in src.blocks {
        cx.b.switch_to_block(cx.blocks[&r.start]);
        lift_block(src.lifter, src.code, cx, r, issues);
    }
}

/// True when `f` reads guest register `reg`.
fn reads_reg(f: &Function, reg: vmtrans_ir::GuestReg) -> bool {
    f.layout().iter().any(|&b| {
        f.block(b).insts.iter().any(|&i| {
            let d = f.inst(i);
            d.op == Opcode::ReadReg && d.imm == Imm::Reg(reg)
        })
    })
}

/// The entry of a function lifted twice: to `unusual` when any of the
/// usually clear bits is set, else to `usual` with the register redefined
/// as its value with those bits cleared (the same value on that path), from
/// which the optimizer folds the copy's tests of them.
fn enter_by_mode(b: &mut FunctionBuilder, mode: UsualMode, usual: Block, unusual: Block) {
    let ty = b.func().regs.desc(mode.reg).ty;
    let v = b.use_reg(mode.reg);
    let bits = b.iconst(ty, i128::from(mode.clear));
    let set = b.band(v, bits);
    let zero = b.iconst(ty, 0);
    let any_set = b.icmp(IntCC::Ne, set, zero);
    let usual_entry = b.create_block();
    b.brif(any_set, unusual, usual_entry);
    b.switch_to_block(usual_entry);
    let others = b.iconst(ty, i128::from(!mode.clear));
    let known = b.band(v, others);
    b.def_reg(mode.reg, known);
    b.jump(usual, &[]);
}

/// The `[start, end)` ranges of `blocks`, sorted, with overlapping and
/// adjacent ones merged.
pub fn merged_ranges(blocks: &[BlockRange]) -> Vec<(u64, u64)> {
    let mut ranges: Vec<(u64, u64)> = blocks.iter().map(|b| (b.start, b.end)).collect();
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (start, end) in ranges {
        match merged.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => merged.push((start, end)),
        }
    }
    merged
}

/// Emits, in the entry block, a comparison of guest memory with the bytes
/// of `blocks` in `code` (8 bytes at a time); on a difference, a flush of
/// translated code and an exit to the function's entry. The entry block
/// continues on the unchanged path.
fn check_code_unchanged(b: &mut FunctionBuilder, code: &dyn CodeSource, blocks: &[BlockRange]) {
    let mut changed: Option<Value> = None;
    for (start, end) in merged_ranges(blocks) {
        let mut at = start;
        while at < end {
            let width = [8u64, 4, 2, 1]
                .into_iter()
                .find(|&w| w <= end - at)
                .unwrap_or(1);
            // `code` holds every byte of the blocks (the JIT lifts from the
            // snapshot it captured for them); a short read ends the range.
            let Some(bytes) = code
                .code(at, width as usize)
                .filter(|c| c.len() == width as usize)
            else {
                break;
            };
            let mut le = [0u8; 8];
            le[..bytes.len()].copy_from_slice(bytes);
            let ty = match width {
                8 => Type::I64,
                4 => Type::I32,
                2 => Type::I16,
                _ => Type::I8,
            };
            let addr = b.iconst(Type::I64, i128::from(at));
            let now = b.load(ty, addr);
            let expected = b.iconst(ty, i128::from(u64::from_le_bytes(le)));
            let differs = b.icmp(vmtrans_ir::IntCC::Ne, now, expected);
            changed = Some(match changed {
                Some(c) => b.bor(c, differs),
                None => differs,
            });
            at += width;
        }
    }
    let Some(changed) = changed else {
        return;
    };
    let stale = b.create_block();
    let go_on = b.create_block();
    b.brif(changed, stale, go_on);
    b.switch_to_block(stale);
    b.call_helper(vmtrans_ir::Helper::FlushCode, &[]);
    let entry_pc = b.func().entry_pc;
    b.exit_to(entry_pc);
    b.switch_to_block(go_on);
}

/// The entry of a multi-entry function: a switch on the PC register over
/// every block start; any other PC leaves to the dispatcher.
fn enter_anywhere(
    b: &mut FunctionBuilder,
    blocks: &BTreeMap<u64, Block>,
    pc: vmtrans_ir::GuestReg,
) {
    let target = b.use_reg(pc);
    let here = b.current_block().expect("the entry block is selected");
    let other = b.create_block();
    b.switch_to_block(other);
    b.exit(target);
    b.switch_to_block(here);
    let cases: Vec<(u64, Block)> = blocks.iter().map(|(&a, &blk)| (a, blk)).collect();
    b.switch(target, &cases, other);
    let entry_pc = b.func().entry_pc;
    let extra: Vec<u64> = blocks.keys().copied().filter(|&a| a != entry_pc).collect();
    b.set_extra_entries(extra);
}

/// Something in a function that was translated into a trap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LiftIssue {
    /// Bytes that do not decode.
    Decode(DecodeError),
    /// A decoded instruction the lifter does not support.
    Lift(LiftError),
}

fn lift_block(
    lifter: &dyn Lifter,
    code: &dyn CodeSource,
    cx: &mut LiftCx,
    r: &BlockRange,
    issues: &mut Vec<LiftIssue>,
) {
    let mut pc = r.start;
    cx.block_end = r.end;
    cx.saved_fp_flags = None;
    while pc < r.end && cx.b.is_open() {
        cx.pc = pc;
        cx.b.set_srcloc(Some(pc));
        let bytes = code.code(pc, 16).unwrap_or(&[]);
        let info = match lifter.decode(bytes, pc) {
            Ok(info) => info,
            Err(e) => {
                issues.push(LiftIssue::Decode(e));
                cx.len = 0;
                cx.b.trap(TrapKind::Undecodable, pc);
                return;
            }
        };
        cx.len = u64::from(info.len);
        if let Err(e) = lifter.lift(&bytes[..usize::from(info.len)], cx) {
            issues.push(LiftIssue::Lift(e));
            if cx.b.is_open() {
                cx.b.trap(TrapKind::Illegal, pc);
            }
            return;
        }
        pc += u64::from(info.len);
    }
    if cx.b.is_open() {
        cx.jump_to(r.end);
    }
}
