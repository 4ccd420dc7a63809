//! Phase 2: one control-flow graph per function, built from the decoded
//! program with the set of function entries fixed.

use rustc_hash::FxHashMap as HashMap;
use std::collections::{BTreeMap, BTreeSet};

use rayon::prelude::*;

use super::explore::Program;
use super::{Block, Function, Sources};
use crate::loader::GuestImage;
use crate::{Flow, InsnInfo};

/// What one function's CFG is built from.
struct Context<'p> {
    insns: &'p HashMap<u64, InsnInfo>,
    entries: &'p BTreeMap<u64, Sources>,
    resolved: &'p BTreeMap<u64, Vec<u64>>,
}

/// Builds every function (or only the one at entry `only`), in parallel,
/// sorted by entry.
pub(super) fn build_all(
    image: &GuestImage,
    program: &Program<'_>,
    entries: &BTreeMap<u64, Sources>,
    resolved: &BTreeMap<u64, Vec<u64>>,
    only: Option<u64>,
) -> Vec<Function> {
    let cx = Context {
        insns: &program.insns,
        entries,
        resolved,
    };
    let list: Vec<(&u64, &Sources)> = entries
        .iter()
        .filter(|(addr, _)| only.is_none_or(|o| o == **addr))
        .collect();
    list.into_par_iter()
        .map(|(&entry, &sources)| {
            let mut f = cx.build(entry);
            f.name = image.symbol_name(entry).map(str::to_string);
            f.sources = sources;
            f
        })
        .collect()
}

impl Context<'_> {
    /// Edges of `insn` that stay inside a function (not into callees), with
    /// whether each is a taken transfer (true) or a fall-through (false).
    fn local_edges(&self, insn: &InsnInfo) -> Vec<(u64, bool)> {
        let next = insn.addr + u64::from(insn.len);
        match insn.flow {
            Flow::Next => vec![(next, false)],
            Flow::Jump(t) => vec![(t, true)],
            Flow::Branch(t) => vec![(t, true), (next, false)],
            Flow::Call(_) | Flow::IndirectCall | Flow::Syscall => vec![(next, false)],
            Flow::IndirectJump => self
                .resolved
                .get(&insn.addr)
                .map(|ts| ts.iter().map(|&t| (t, true)).collect())
                .unwrap_or_default(),
            Flow::Return | Flow::Stop => Vec::new(),
        }
    }

    /// Whether an edge to `target` stays in the function of `entry`: it must
    /// have decoded and not be another function's entry (a tail call).
    fn stays(&self, entry: u64, target: u64) -> bool {
        self.insns.contains_key(&target) && (target == entry || !self.entries.contains_key(&target))
    }

    /// Instructions reachable from `entry` without calls or tail calls.
    fn reach(&self, entry: u64) -> BTreeSet<u64> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![entry];
        while let Some(addr) = stack.pop() {
            if !seen.insert(addr) {
                continue;
            }
            let insn = &self.insns[&addr];
            for (target, _) in self.local_edges(insn) {
                if self.stays(entry, target) && !seen.contains(&target) {
                    stack.push(target);
                }
            }
        }
        seen
    }

    /// Block leaders: the entry, targets of taken transfers, instructions
    /// after a block-ending instruction, and instructions without exactly one
    /// plain fall-through predecessor (so each instruction is in one block).
    fn leaders(&self, entry: u64, reach: &BTreeSet<u64>) -> BTreeSet<u64> {
        let mut leaders = BTreeSet::from([entry]);
        let mut plain_preds: HashMap<u64, u32> = HashMap::default();
        for addr in reach {
            let insn = &self.insns[addr];
            for (target, taken) in self.local_edges(insn) {
                if !reach.contains(&target) {
                    continue;
                }
                if taken || insn.flow != Flow::Next {
                    leaders.insert(target);
                } else {
                    *plain_preds.entry(target).or_default() += 1;
                }
            }
        }
        leaders.extend(
            reach
                .iter()
                .filter(|a| plain_preds.get(a).copied().unwrap_or(0) != 1),
        );
        leaders
    }

    /// Builds the function at `entry` (name and sources are filled in by the
    /// caller).
    fn build(&self, entry: u64) -> Function {
        let reach = self.reach(entry);
        let leaders = self.leaders(entry, &reach);
        let blocks = leaders
            .iter()
            .map(|&start| self.block(entry, start, &reach, &leaders))
            .collect();
        let insns: Vec<InsnInfo> = reach.iter().map(|a| self.insns[a].clone()).collect();
        let callees: BTreeSet<u64> = insns
            .iter()
            .filter_map(|i| match i.flow {
                Flow::Call(t) => Some(t),
                _ => None,
            })
            .collect();
        Function {
            entry,
            name: None,
            sources: Sources::default(),
            blocks,
            insns,
            callees: callees.into_iter().collect(),
        }
    }

    /// The block starting at leader `start`: instructions up to a
    /// block-ending instruction or the next leader.
    fn block(
        &self,
        entry: u64,
        start: u64,
        reach: &BTreeSet<u64>,
        leaders: &BTreeSet<u64>,
    ) -> Block {
        let mut insn = &self.insns[&start];
        loop {
            let next = insn.addr + u64::from(insn.len);
            let continues =
                insn.flow == Flow::Next && reach.contains(&next) && !leaders.contains(&next);
            if !continues {
                break;
            }
            insn = &self.insns[&next];
        }
        let (mut successors, mut exits) = (BTreeSet::new(), BTreeSet::new());
        // Edges to other functions' entries (tail calls) or to undecodable
        // addresses leave the function.
        for (target, _) in self.local_edges(insn) {
            if self.stays(entry, target) {
                successors.insert(target);
            } else {
                exits.insert(target);
            }
        }
        Block {
            start,
            end: insn.addr + u64::from(insn.len),
            last: insn.addr,
            flow: insn.flow,
            successors: successors.into_iter().collect(),
            exits: exits.into_iter().collect(),
        }
    }
}
