//! Dead-code elimination.
//!
//! Removes blocks unreachable from the entry, instructions whose results are
//! unused and that have no side effects, and block parameters that nothing
//! uses (with their arguments at every branch). Liveness is computed by
//! marking from the roots (side-effecting instructions and terminator
//! operands), so dead cycles through block parameters go too.
//!
//! Side effects are stores, register writes, atomics, fences and helper
//! calls (except pure helpers, [`crate::Helper::is_pure`]). Loads and register reads are removable: a dead load that would
//! have faulted no longer does (the guest fault is not preserved).

use crate::function::{Function, Inst, Value, ValueDef};
use crate::interp::effect_of;
use crate::Imm;

use super::util::{remove_param, reverse_post_order};
use super::Pass;

/// The dead-code elimination pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct Dce;

impl Pass for Dce {
    fn name(&self) -> &'static str {
        "dce"
    }

    fn run(&self, f: &mut Function) -> bool {
        let unreachable = remove_unreachable(f);
        let live = Liveness::compute(f);
        let insts = live.sweep_insts(f);
        let params = live.sweep_params(f);
        unreachable || insts || params
    }
}

/// True when `inst` must stay even if its result is unused.
fn has_side_effects(f: &Function, inst: Inst) -> bool {
    let d = f.inst(inst);
    if let Imm::Helper(h) = d.imm {
        return !h.is_pure();
    }
    effect_of(d.op).is_some_and(|e| e.has_side_effects())
}

fn remove_unreachable(f: &mut Function) -> bool {
    let mut reachable = vec![false; f.num_blocks()];
    for b in reverse_post_order(f) {
        reachable[b.index()] = true;
    }
    let dead: Vec<_> = f
        .layout()
        .iter()
        .copied()
        .filter(|b| !reachable[b.index()])
        .collect();
    for &b in &dead {
        f.remove_block(b);
    }
    !dead.is_empty()
}

/// Which values and instructions are live.
struct Liveness {
    values: Vec<bool>,
    insts: Vec<bool>,
}

impl Liveness {
    fn compute(f: &Function) -> Liveness {
        let mut live = Liveness {
            values: vec![false; f.num_values()],
            insts: vec![false; f.num_insts()],
        };
        let mut work: Vec<Value> = Vec::new();
        for &b in f.layout() {
            let data = f.block(b);
            for &inst in &data.insts {
                if has_side_effects(f, inst) {
                    live.insts[inst.index()] = true;
                    work.extend(&f.inst(inst).args);
                }
            }
            if let Some(t) = &data.term {
                work.extend(t.operands());
            }
        }
        while let Some(v) = work.pop() {
            live.mark(f, v, &mut work);
        }
        live
    }

    fn mark(&mut self, f: &Function, v: Value, work: &mut Vec<Value>) {
        if std::mem::replace(&mut self.values[v.index()], true) {
            return;
        }
        match f.value(v).def {
            ValueDef::Result(inst) => {
                if !std::mem::replace(&mut self.insts[inst.index()], true) {
                    work.extend(&f.inst(inst).args);
                }
            }
            ValueDef::Param(b, i) => {
                for p in f.preds(b) {
                    let Some(t) = &f.block(p).term else { continue };
                    for d in t.dests() {
                        if d.block == b {
                            work.push(d.args[i as usize]);
                        }
                    }
                }
            }
        }
    }

    fn sweep_insts(&self, f: &mut Function) -> bool {
        let mut changed = false;
        for b in f.layout().to_vec() {
            let insts = f.block_insts_mut(b);
            let before = insts.len();
            insts.retain(|i| self.insts[i.index()]);
            changed |= insts.len() != before;
        }
        changed
    }

    fn sweep_params(&self, f: &mut Function) -> bool {
        let mut changed = false;
        for b in f.layout().to_vec() {
            for i in (0..f.block(b).params.len()).rev() {
                if !self.values[f.block(b).params[i].index()] {
                    remove_param(f, b, i);
                    changed = true;
                }
            }
        }
        changed
    }
}
