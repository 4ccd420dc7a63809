//! Sinking pure helper calls toward the one successor that uses them.
//!
//! A pure helper ([`crate::Helper::is_pure`]: the host's FP exception
//! flags) reads host state that only floating-point operations change.
//! When its result, and the integer ops computed from it in its block, are
//! used only in blocks dominated by one successor that the block alone
//! enters, and nothing after the call in the block may change the host
//! flags, the call and those ops move to the start of that successor: it
//! reads the same flags there, and the paths that never use the result do
//! not pay for the read. (RISC-V gcc expands `sqrt` inline as a quiet
//! `x < 0` compare bracketed by `frflags rd` / `fsflags rd`, then `fsqrt`;
//! `rd` is dead on that path and reaches the state only on the cold one
//! that calls the library `sqrt` for `errno`, so every square root in
//! nbody read MXCSR, stalling on the FP pipeline.)

use crate::function::{Block, Function, Inst, Value};
use crate::interp::effect_of;
use crate::ops::{Imm, Opcode};

use super::loops::LoopForest;
use super::util::reverse_post_order;
use super::Pass;

/// The pure-helper sinking pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct SinkPureHelpers;

impl Pass for SinkPureHelpers {
    fn name(&self) -> &'static str {
        "sink_pure_helpers"
    }

    fn run(&self, f: &mut Function) -> bool {
        let order = reverse_post_order(f);
        let calls: Vec<(Block, Inst)> = order
            .iter()
            .flat_map(|&b| {
                f.block(b)
                    .insts
                    .iter()
                    .filter(|&&i| is_pure_helper_call(f, i))
                    .map(move |&i| (b, i))
                    .collect::<Vec<_>>()
            })
            .collect();
        if calls.is_empty() {
            return false;
        }
        let Some(forest) = LoopForest::new(f, &order) else {
            return false;
        };
        let mut changed = false;
        for (block, call) in calls {
            if let Some((to, moved)) = sinking(f, &forest, block, call) {
                move_to_start(f, block, to, &moved);
                changed = true;
            }
        }
        changed
    }
}

fn is_pure_helper_call(f: &Function, inst: Inst) -> bool {
    let d = f.inst(inst);
    matches!((d.op, d.imm), (Opcode::CallHelper, Imm::Helper(h)) if h.is_pure())
}

/// True when `inst` computes on integers only and touches no host state
/// a pure helper reads: no float or vector operand or result, no helper.
fn integer_only(f: &Function, inst: Inst) -> bool {
    let d = f.inst(inst);
    let int = |v: &Value| f.value_type(*v).is_int();
    d.op != Opcode::CallHelper
        && d.ty.is_int()
        && d.args.iter().all(int)
        && d.result.iter().all(int)
}

/// Where the pure helper call `call` in `block` can move: the successor
/// and the instructions that go with it (the call, then the side-effect-free
/// integer ops of `block` computed from it), or `None`.
fn sinking(
    f: &Function,
    forest: &LoopForest,
    block: Block,
    call: Inst,
) -> Option<(Block, Vec<Inst>)> {
    let insts = &f.block(block).insts;
    let at = insts.iter().position(|&i| i == call)?;
    let mut moved = vec![call];
    let mut values: Vec<Value> = f.inst(call).result.into_iter().collect();
    for &i in &insts[at + 1..] {
        let d = f.inst(i);
        let from_call = d.args.iter().any(|a| values.contains(a));
        if !integer_only(f, i) {
            return None; // it could change the flags the call reads
        }
        if from_call {
            if effect_of(d.op).is_some() {
                return None; // the result is used in this block
            }
            moved.push(i);
            values.extend(d.result);
        }
    }
    let term = f.block(block).term.as_ref()?;
    if term.uses().iter().any(|v| values.contains(v)) || term.leaves_function() {
        return None;
    }
    let use_blocks = using_blocks(f, block, &values);
    f.succs(block)
        .into_iter()
        .find(|&s| {
            s != block
                && f.preds(s) == [block]
                && use_blocks.iter().all(|&u| forest.dominates(s, u))
        })
        .map(|s| (s, moved))
}

/// The blocks other than `home` whose instructions or terminators use any
/// of `values`.
fn using_blocks(f: &Function, home: Block, values: &[Value]) -> Vec<Block> {
    f.layout()
        .iter()
        .copied()
        .filter(|&b| b != home)
        .filter(|&b| {
            let data = f.block(b);
            let in_insts = data
                .insts
                .iter()
                .any(|&i| f.inst(i).args.iter().any(|a| values.contains(a)));
            let in_term = data
                .term
                .as_ref()
                .is_some_and(|t| t.uses().iter().any(|v| values.contains(v)));
            in_insts || in_term
        })
        .collect()
}

/// Moves `moved` (in their order) from `from` to the start of `to`.
fn move_to_start(f: &mut Function, from: Block, to: Block, moved: &[Inst]) {
    f.block_insts_mut(from).retain(|i| !moved.contains(i));
    let dest = f.block_insts_mut(to);
    let rest = std::mem::take(dest);
    dest.extend_from_slice(moved);
    dest.extend(rest);
}
