//! Redundant guest register access elimination.
//!
//! Forward (must-availability over the CFG): the pass tracks, per guest
//! register, a value the CPU state is known to hold — after `read_reg r`
//! (its result) or `write_reg r, v` (`v`) on every path, with no helper call
//! or guest call in between; at a merge, a block parameter that receives
//! the known value on every incoming edge. Then
//! - a `read_reg r` where the value is known is replaced by that value;
//! - a `write_reg r, v` where the state already holds `v` is removed.
//!
//! Backward (must-deadness over the CFG): a `write_reg r` is dead when every
//! path from it writes `r` again before anything can observe the state — a
//! `read_reg r`, a helper call, a guest call, or leaving the function
//! (`ret`, `exit`, `trap`) — and is removed. Guest calls and returns do not
//! observe the registers the guest ABI leaves undefined there
//! ([`crate::RegDesc::call_scratch`], the condition flags), nor the ones
//! they hand over through the host linkage ([`crate::RegFile::link_in`] at
//! calls, [`crate::RegFile::link_out`] at returns: `link_out` carries their
//! values, and `link_in`, which this pass leaves alone, receives them).
//!
//! Out of loops (before both): a write-back of a value defined outside a
//! loop, in a block that leaves the function from the loop (a poll exit),
//! is copied to the end of the loop's entry blocks when the state value it
//! would overwrite there is dead (so the copy changes nothing) and the
//! value does not live through the loop anyway (see `live_through_loop`:
//! then the copy would only add a store per entry). The forward
//! step then finds the state already holding the value at the exit and
//! drops the write there: loop-invariant values no longer live through the
//! loop just to be written back on its rarely taken exits.
//!
//! At merges (before the forward step): a write-back of a block parameter
//! that comes first in its block moves onto the incoming edges whose
//! argument the state does not already hold, when another edge does hold
//! its own (see [`write_backs_on_edges`]): a loop that writes a register
//! back before a call, and reads it again after, writes only on entry.
//!
//! Guest memory ops are assumed not to alias the CPU state (guest code can
//! only reach the state through `read_reg`/`write_reg`). Paths that loop
//! forever without a sync point never observe the state, so writes on them
//! may be removed.

use rustc_hash::FxHashMap as HashMap;

use crate::function::{Block, Function, GuestReg, Inst, Terminator, Value};
use crate::ops::{Imm, Opcode};

use super::loops::{Loop, LoopForest};
use super::util::{remove_param, reverse_post_order, Subst};
use super::Pass;

/// The register access pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct RegAccess;

impl Pass for RegAccess {
    fn name(&self) -> &'static str {
        "reg_access"
    }

    fn run(&self, f: &mut Function) -> bool {
        let order = reverse_post_order(f);
        // Neither step changes the CFG, so one loop analysis serves both.
        let Some(forest) = LoopForest::new(f, &order) else {
            return false;
        };
        let hoisted = hoist_invariant_write_backs(f, &order, &forest);
        let mut known = known_values(f, &order);
        let on_edges = known
            .as_ref()
            .is_some_and(|(ins, outs)| write_backs_on_edges(f, &order, ins, outs));
        if on_edges {
            // The added writes change what the state holds: analyse again.
            known = known_values(f, &order);
        }
        let forward = known.is_some_and(|(ins, _)| forward(f, &order, &forest, ins));
        let backward = remove_dead_writes(f, &order);
        hoisted || on_edges || forward || backward
    }
}

/// How an instruction touches the guest state.
enum Access {
    Read(GuestReg, Value),
    Write(GuestReg, Value),
    /// A helper call: reads and writes everything.
    Clobber,
    /// A guest memory access in a function with precise faults (a fault
    /// there shows the whole state to the guest's signal handler), or a
    /// pure helper (the state writes before it order the guest's float ops
    /// before its read of the host flags).
    Observe,
    None,
}

fn access(f: &Function, inst: Inst) -> Access {
    let d = f.inst(inst);
    match (d.op, d.imm) {
        (Opcode::ReadReg, Imm::Reg(r)) => match d.result {
            Some(v) => Access::Read(r, v),
            None => Access::None,
        },
        (Opcode::WriteReg, Imm::Reg(r)) => Access::Write(r, d.args[0]),
        (Opcode::CallHelper, Imm::Helper(h)) if h.is_pure() => Access::Observe,
        (Opcode::CallHelper, _) => Access::Clobber,
        (Opcode::Load | Opcode::Store | Opcode::AtomicRmw | Opcode::AtomicCas, _)
            if f.precise_faults =>
        {
            Access::Observe
        }
        _ => Access::None,
    }
}

// ---- forward: known register values ----

/// Per register, the value the state is known to hold.
type Known = Vec<Option<Value>>;

/// Applies one instruction to `known`; with `rewrite`, also records the
/// replacement of a redundant read and returns whether `inst` can go.
fn step_known(f: &Function, inst: Inst, known: &mut Known, rewrite: Option<&mut Subst>) -> bool {
    match access(f, inst) {
        Access::Read(r, x) => match known[r.index()] {
            Some(v) => {
                if let Some(subst) = rewrite {
                    return subst.replace(x, v);
                }
                false
            }
            None => {
                known[r.index()] = Some(x);
                false
            }
        },
        Access::Write(r, v) => {
            let redundant = match (&rewrite, known[r.index()]) {
                (Some(s), Some(k)) => s.resolve(k) == s.resolve(v),
                _ => false,
            };
            known[r.index()] = Some(v);
            redundant
        }
        Access::Clobber => {
            known.iter_mut().for_each(|k| *k = None);
            false
        }
        Access::Observe | Access::None => false,
    }
}

/// The meet of the known values at the end of `b`'s computed predecessors.
/// Where they differ, a parameter of `b` that receives, on every edge, the
/// value the state holds for the register is known instead: the state
/// holds the parameter's value on entry, so a write-back of it is
/// redundant (a value merged from "unchanged" and "changed" paths no longer
/// lives on just to be written back).
fn known_at_entry(f: &Function, b: Block, outs: &[Option<Known>], nregs: usize) -> Known {
    if Some(b) == f.entry() {
        return vec![None; nregs];
    }
    let mut edges: Vec<(&Known, &[Value])> = Vec::new();
    for p in f.preds(b) {
        let (Some(out), Some(term)) = (&outs[p.index()], &f.block(p).term) else {
            continue;
        };
        for dest in term.dests().filter(|d| d.block == b) {
            edges.push((out, &dest.args));
        }
    }
    let Some(&(first, _)) = edges.first() else {
        return vec![None; nregs];
    };
    let params = &f.block(b).params;
    // The parameters each value is passed to on the first edge: only those
    // can receive a register's values on every edge. Built on the first
    // register the edges disagree on (never, for most blocks).
    let mut params_given: Option<HashMap<Value, Vec<usize>>> = None;
    (0..nregs)
        .map(|r| {
            if edges.iter().all(|(out, _)| out[r] == first[r]) {
                return first[r];
            }
            let receives = |i: usize| {
                edges
                    .iter()
                    .all(|(out, args)| out[r].is_some() && out[r] == args.get(i).copied())
            };
            let given = params_given.get_or_insert_with(|| {
                let mut m: HashMap<Value, Vec<usize>> = HashMap::default();
                for (i, &a) in edges[0].1.iter().enumerate().take(params.len()) {
                    m.entry(a).or_default().push(i);
                }
                m
            });
            let candidates = given.get(&first[r]?)?;
            candidates
                .iter()
                .copied()
                .find(|&i| receives(i))
                .map(|i| params[i])
        })
        .collect()
}

fn known_at_exit(f: &Function, b: Block, mut known: Known) -> Known {
    for &inst in &f.block(b).insts {
        step_known(f, inst, &mut known, None);
    }
    if let Some(Terminator::Call { .. }) = f.block(b).term {
        known.iter_mut().for_each(|k| *k = None);
    }
    known
}

/// Rounds after which the forward analysis gives up.
const MAX_FORWARD_ROUNDS: usize = 64;

/// The values the state is known to hold at the entry and the end of
/// every block (`None` at the end of an unreachable one); `None` when the
/// analysis does not settle.
fn known_values(f: &Function, order: &[Block]) -> Option<(Vec<Known>, Vec<Option<Known>>)> {
    let nregs = f.regs.len();
    let mut outs: Vec<Option<Known>> = vec![None; f.num_blocks()];
    let mut ins: Vec<Known> = vec![Vec::new(); f.num_blocks()];
    let mut changed = true;
    let mut rounds = 0;
    while changed {
        // Parameters make the meet non-monotone in principle; rather than
        // trust it to settle, give up (changing nothing) if it does not.
        rounds += 1;
        if rounds > MAX_FORWARD_ROUNDS {
            return None;
        }
        changed = false;
        for &b in order {
            let entry = known_at_entry(f, b, &outs, nregs);
            let out = known_at_exit(f, b, entry.clone());
            ins[b.index()] = entry;
            if outs[b.index()].as_ref() != Some(&out) {
                outs[b.index()] = Some(out);
                changed = true;
            }
        }
    }
    Some((ins, outs))
}

/// Removes redundant reads and writes; true when anything changed.
/// `ins` holds the known values at each block's entry ([`known_values`]).
fn forward(f: &mut Function, order: &[Block], forest: &LoopForest, mut ins: Vec<Known>) -> bool {
    let mut subst = Subst::default();
    let mut removed = reread_merged_params(f, order, forest, &mut ins, &mut subst);
    for &b in order {
        let mut known = std::mem::take(&mut ins[b.index()]);
        let mut keep = Vec::new();
        for inst in f.block(b).insts.clone() {
            if step_known(f, inst, &mut known, Some(&mut subst)) {
                removed = true;
            } else {
                keep.push(inst);
            }
        }
        *f.block_insts_mut(b) = keep;
    }
    subst.apply(f) | removed
}

/// Replaces each parameter of a block outside loops that the state is
/// known to hold on entry (see [`known_at_entry`]) by a `read_reg` at the
/// top of the block: a value merged from paths that left the register
/// alone is then read where it is needed instead of being carried from the
/// function entry through every path in a host register or spill slot.
/// The parameter and its arguments go here; DCE drops the reads that fed
/// them. Loop headers and loop bodies keep their parameters, so no loop
/// gains a load per iteration. True when any was replaced.
fn reread_merged_params(
    f: &mut Function,
    order: &[Block],
    forest: &LoopForest,
    ins: &mut [Known],
    subst: &mut Subst,
) -> bool {
    let mut candidates: Vec<(Block, GuestReg, Value)> = Vec::new();
    for &b in order {
        let params = &f.block(b).params;
        for (r, known) in ins[b.index()].iter().enumerate() {
            if let Some(v) = known.filter(|v| params.contains(v)) {
                candidates.push((b, GuestReg(r as u16), v));
            }
        }
    }
    if candidates.is_empty() {
        return false;
    }
    let mut removed: Vec<(Block, usize)> = Vec::new();
    for (b, reg, param) in candidates {
        if forest.loops.iter().any(|l| l.contains(b)) {
            continue;
        }
        let ty = f.value_type(param);
        let read = f.create_inst(Opcode::ReadReg, ty, vec![], Imm::Reg(reg), Some(ty));
        let value = f.inst(read).result.expect("read_reg has a result");
        f.block_insts_mut(b).insert(0, read);
        subst.replace(param, value);
        // The read is the first access in `b`: it finds the state as the
        // parameter did, and later reads of `reg` in `b` forward from it.
        ins[b.index()][reg.index()] = Some(value);
        let index = f.block(b).params.iter().position(|&p| p == param);
        removed.extend(index.map(|i| (b, i)));
    }
    // Highest index first, so the others keep their positions.
    removed.sort_unstable_by(|a, b| b.cmp(a));
    removed.dedup();
    for &(b, i) in &removed {
        remove_param(f, b, i);
    }
    !removed.is_empty()
}

// ---- merges: write-backs on the edges that need them ----

/// Moves the write-back of a block parameter that comes first in its
/// block (nothing before it touches the register's state or observes the
/// state) onto the incoming edges where the state does not already hold
/// the argument, when at least one edge does hold it: the paths on which
/// the register did not change (a loop's back edge after a call that
/// preserved it) then write nothing, and the forward step drops the write
/// in the block, which the state now holds on every edge. Each path still
/// writes at most once. An edge gets its write at the end of its
/// predecessor, which must end in a plain jump (so no other path sees it).
/// True when any write was added.
fn write_backs_on_edges(
    f: &mut Function,
    order: &[Block],
    ins: &[Known],
    outs: &[Option<Known>],
) -> bool {
    let mut writes: Vec<(Block, GuestReg, Value)> = Vec::new();
    for &b in order {
        if Some(b) == f.entry() {
            continue;
        }
        for (reg, index) in leading_param_write_backs(f, b) {
            let param = f.block(b).params[index];
            if ins[b.index()][reg.index()] == Some(param) {
                continue;
            }
            writes.extend(edge_writes(f, b, reg, index, outs).unwrap_or_default());
        }
    }
    for &(pred, reg, arg) in &writes {
        let ty = f.value_type(arg);
        let write = f.create_inst(Opcode::WriteReg, ty, vec![arg], Imm::Reg(reg), None);
        f.block_insts_mut(pred).push(write);
    }
    !writes.is_empty()
}

/// The registers `b` writes a parameter of its own to (with the
/// parameter's index) before touching the register's state otherwise and
/// before anything observes the whole state.
fn leading_param_write_backs(f: &Function, b: Block) -> Vec<(GuestReg, usize)> {
    let params = &f.block(b).params;
    let mut touched: Vec<GuestReg> = Vec::new();
    let mut out = Vec::new();
    for &inst in &f.block(b).insts {
        match access(f, inst) {
            Access::Write(r, v) if !touched.contains(&r) => {
                out.extend(params.iter().position(|&p| p == v).map(|i| (r, i)));
                touched.push(r);
            }
            Access::Write(r, _) | Access::Read(r, _) => touched.push(r),
            Access::Clobber | Access::Observe => break,
            Access::None => {}
        }
    }
    out
}

/// The writes that make the state hold parameter `index` of `b` for `reg`
/// on every edge into `b`: one at the end of each predecessor whose
/// argument the state does not hold. `None` when no edge holds it already
/// or a predecessor that needs a write does not end in a jump.
fn edge_writes(
    f: &Function,
    b: Block,
    reg: GuestReg,
    index: usize,
    outs: &[Option<Known>],
) -> Option<Vec<(Block, GuestReg, Value)>> {
    let mut needed = Vec::new();
    let mut held = false;
    for pred in f.preds(b) {
        let (Some(out), Some(term)) = (&outs[pred.index()], &f.block(pred).term) else {
            continue;
        };
        for dest in term.dests().filter(|d| d.block == b) {
            let arg = dest.args[index];
            if out[reg.index()] == Some(arg) {
                held = true;
            } else if matches!(term, Terminator::Jump(_)) {
                needed.push((pred, reg, arg));
            } else {
                return None;
            }
        }
    }
    (held && !needed.is_empty()).then_some(needed)
}

// ---- backward: dead writes ----

/// Per register, true when its current state value is dead here.
type Dead = Vec<bool>;

fn step_dead(f: &Function, inst: Inst, dead: &mut Dead) -> bool {
    match access(f, inst) {
        Access::Write(r, _) => std::mem::replace(&mut dead[r.index()], true),
        Access::Read(r, _) => {
            dead[r.index()] = false;
            false
        }
        Access::Clobber | Access::Observe => {
            dead.iter_mut().for_each(|d| *d = false);
            false
        }
        Access::None => false,
    }
}

/// Deadness at the end of `b`: nothing is dead where the state is observed
/// (leaving the function), except the call-scratch registers at guest calls
/// and returns; otherwise the meet over successors.
fn dead_at_exit(f: &Function, b: Block, ins: &[Option<Dead>], nregs: usize) -> Dead {
    match &f.block(b).term {
        Some(Terminator::Jump(_) | Terminator::Brif { .. } | Terminator::Switch { .. }) => {}
        Some(Terminator::Call { .. }) => return unobserved_at_linkage(f, &f.regs.link_in),
        Some(Terminator::Return { .. }) => return unobserved_at_linkage(f, &f.regs.link_out),
        Some(_) | None => return vec![false; nregs],
    }
    let mut result = vec![true; nregs];
    for s in f.succs(b) {
        if let Some(d) = &ins[s.index()] {
            for (r, x) in result.iter_mut().zip(d) {
                *r &= *x;
            }
        }
    }
    result
}

/// The registers whose state value a guest call or return does not
/// observe: the call-scratch ones, and the ones it hands over through the
/// host linkage (`handed`).
fn unobserved_at_linkage(f: &Function, handed: &[GuestReg]) -> Dead {
    let mut dead: Dead = f.regs.regs.iter().map(|r| r.call_scratch).collect();
    for r in handed {
        dead[r.index()] = true;
    }
    dead
}

/// Per block (by index), the deadness on entry (`None`: unreachable).
fn dead_on_entry(f: &Function, order: &[Block]) -> Vec<Option<Dead>> {
    let nregs = f.regs.len();
    let mut ins: Vec<Option<Dead>> = vec![None; f.num_blocks()];
    let mut changed = true;
    while changed {
        changed = false;
        for &b in order.iter().rev() {
            let mut dead = dead_at_exit(f, b, &ins, nregs);
            for &inst in f.block(b).insts.iter().rev() {
                step_dead(f, inst, &mut dead);
            }
            if ins[b.index()].as_ref() != Some(&dead) {
                ins[b.index()] = Some(dead);
                changed = true;
            }
        }
    }
    ins
}

fn remove_dead_writes(f: &mut Function, order: &[Block]) -> bool {
    let nregs = f.regs.len();
    let ins = dead_on_entry(f, order);
    let mut removed = false;
    for &b in order {
        let mut dead = dead_at_exit(f, b, &ins, nregs);
        let mut keep = Vec::new();
        for inst in f.block(b).insts.clone().into_iter().rev() {
            if step_dead(f, inst, &mut dead) {
                removed = true;
            } else {
                keep.push(inst);
            }
        }
        keep.reverse();
        *f.block_insts_mut(b) = keep;
    }
    removed
}

// ---- out of loops: invariant write-backs ----

/// Copies the loop-invariant write-backs of the blocks that leave the
/// function from a loop to the loop's entries (see the module comment);
/// true when any was copied.
fn hoist_invariant_write_backs(f: &mut Function, order: &[Block], forest: &LoopForest) -> bool {
    if forest.loops.is_empty() {
        return false;
    }
    let ins = dead_on_entry(f, order);
    let nregs = f.regs.len();
    // Built on the first candidate: most loops have no invariant write-back.
    let mut needed: Option<Vec<bool>> = None;
    let mut copies: Vec<(Block, GuestReg, Value)> = Vec::new();
    for l in &forest.loops {
        let entries_ok = !l.entries.is_empty()
            && l.entries.iter().all(|&e| {
                matches!(
                    f.block(e).term,
                    Some(Terminator::Jump(_) | Terminator::Brif { .. } | Terminator::Switch { .. })
                )
            });
        if !entries_ok {
            continue;
        }
        let dead: Vec<Dead> = l
            .entries
            .iter()
            .map(|&e| dead_at_exit(f, e, &ins, nregs))
            .collect();
        for (r, v) in invariant_write_backs(f, forest, l, order) {
            let Some(def) = forest.def_block(f, v) else {
                continue;
            };
            let hoistable = l.entries.iter().all(|&e| forest.dominates(def, e))
                && dead.iter().all(|d| d[r.index()])
                && !live_through_loop(
                    f,
                    forest,
                    l,
                    (v, def),
                    needed.get_or_insert_with(|| needed_values(f, order)),
                );
            if !hoistable {
                continue;
            }
            for &e in &l.entries {
                if !copies.iter().any(|&(b, cr, _)| b == e && cr == r) {
                    copies.push((e, r, v));
                }
            }
        }
    }
    for &(block, reg, value) in &copies {
        let ty = f.regs.desc(reg).ty;
        let write = f.create_inst(Opcode::WriteReg, ty, vec![value], Imm::Reg(reg), None);
        f.block_insts_mut(block).push(write);
    }
    !copies.is_empty()
}

/// True when `v` (defined in block `def`, outside `l`) is live in `l` for
/// more than its write-backs on leaving blocks: a block of `l` or of a loop
/// around it, reachable from `l`'s header within those loops without
/// passing `def`, uses it in an instruction or as a terminator operand, or
/// hands it to a block parameter that is itself [needed](needed_values).
/// It then lives through `l` in a register or spill slot anyway, so its
/// write-backs on the exits cost nothing there and stay: copied to the
/// loop's entry they would be a store per entry (x86_64 nbody's
/// three-iteration inner loops stored eleven registers per pair of
/// bodies). A value only handed around an outer loop for its write-backs
/// is not live: written on the inner loop's entry, the state holds it for
/// the outer loop's exits too, and the parameters that carried it die
/// (riscv nbody's `fa1`, loaded per body). Uses after the loops do not
/// count: such a value would otherwise be carried through every loop for
/// its exits (riscv64 interp).
fn live_through_loop(
    f: &Function,
    forest: &LoopForest,
    l: &Loop,
    (v, def): (Value, Block),
    needed: &[bool],
) -> bool {
    let around: Vec<&Loop> = forest
        .loops
        .iter()
        .filter(|o| o.contains(l.header))
        .collect();
    let in_loops = |b: Block| around.iter().any(|o| o.contains(b));
    let mut seen = vec![false; f.num_blocks()];
    seen[def.index()] = true;
    let mut work = vec![l.header];
    while let Some(b) = work.pop() {
        if !in_loops(b) || std::mem::replace(&mut seen[b.index()], true) {
            continue;
        }
        let data = f.block(b);
        let leaving = only_writes_back_and_leaves(f, b);
        let used_by_inst = !leaving && data.insts.iter().any(|&i| f.inst(i).args.contains(&v));
        if used_by_inst
            || data
                .term
                .as_ref()
                .is_some_and(|t| hands_on(f, t, v, needed))
        {
            return true;
        }
        work.extend(f.succs(b));
    }
    false
}

/// True when terminator `t` uses `v` as an operand, or passes it to a
/// needed block parameter.
fn hands_on(f: &Function, t: &Terminator, v: Value, needed: &[bool]) -> bool {
    t.operands().contains(&v)
        || t.dests().any(|d| {
            let params = &f.block(d.block).params;
            d.args
                .iter()
                .zip(params)
                .any(|(&a, &p)| a == v && needed[p.index()])
        })
}

/// Per value: whether the function needs it for more than writing it back
/// on a block that leaves to the dispatcher. Seeded with the arguments of
/// instructions outside such blocks and with terminator operands, then
/// carried back from each needed block parameter to the arguments branches
/// pass it.
fn needed_values(f: &Function, order: &[Block]) -> Vec<bool> {
    let mut needed = vec![false; f.num_values()];
    let mut passed: HashMap<Value, Vec<Value>> = HashMap::default();
    let mut work = Vec::new();
    for &b in order {
        let data = f.block(b);
        if !only_writes_back_and_leaves(f, b) {
            for &i in &data.insts {
                work.extend(f.inst(i).args.iter().copied());
            }
        }
        let Some(t) = &data.term else { continue };
        work.extend(t.operands());
        for d in t.dests() {
            for (&a, &p) in d.args.iter().zip(&f.block(d.block).params) {
                passed.entry(p).or_default().push(a);
            }
        }
    }
    while let Some(v) = work.pop() {
        if std::mem::replace(&mut needed[v.index()], true) {
            continue;
        }
        if let Some(args) = passed.get(&v) {
            work.extend(args.iter().copied());
        }
    }
    needed
}

/// The `(register, value)` writes of values defined outside `l` in the
/// blocks that leave the function straight from `l` (nothing in them but
/// write-backs and constants).
fn invariant_write_backs(
    f: &Function,
    forest: &LoopForest,
    l: &Loop,
    order: &[Block],
) -> Vec<(GuestReg, Value)> {
    let mut out = Vec::new();
    for &b in order.iter().filter(|&&b| l.contains(b)) {
        for s in f.succs(b) {
            if l.contains(s) || !only_writes_back_and_leaves(f, s) {
                continue;
            }
            for &inst in &f.block(s).insts {
                let d = f.inst(inst);
                if let (Opcode::WriteReg, Imm::Reg(r)) = (d.op, d.imm) {
                    let v = d.args[0];
                    let outside = forest.def_block(f, v).is_some_and(|db| !l.contains(db));
                    if outside && !out.contains(&(r, v)) {
                        out.push((r, v));
                    }
                }
            }
        }
    }
    out
}

/// True for a block that only writes registers back (and makes the
/// constants it needs) before leaving the function to the dispatcher.
fn only_writes_back_and_leaves(f: &Function, b: Block) -> bool {
    let data = f.block(b);
    matches!(data.term, Some(Terminator::Exit { .. }))
        && data
            .insts
            .iter()
            .all(|&i| matches!(f.inst(i).op, Opcode::WriteReg | Opcode::Iconst))
}
