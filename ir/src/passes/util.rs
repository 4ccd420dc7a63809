//! CFG and value helpers shared by the passes.

use rustc_hash::FxHashMap as HashMap;

use crate::function::{Block, Function, Value};

/// Blocks reachable from the entry, in reverse post-order.
pub(crate) fn reverse_post_order(f: &Function) -> Vec<Block> {
    let Some(entry) = f.entry() else {
        return Vec::new();
    };
    let mut seen = vec![false; f.num_blocks()];
    let mut post = Vec::new();
    // (block, successors, next successor index)
    let mut stack = vec![(entry, f.succs(entry), 0usize)];
    seen[entry.index()] = true;
    while let Some((b, succs, i)) = stack.last_mut() {
        if let Some(&s) = succs.get(*i) {
            *i += 1;
            if !seen[s.index()] {
                seen[s.index()] = true;
                let ss = f.succs(s);
                stack.push((s, ss, 0));
            }
        } else {
            post.push(*b);
            stack.pop();
        }
    }
    post.reverse();
    post
}

/// The arguments every branch into `block` passes for parameter `index`.
pub(crate) fn incoming_args(f: &Function, block: Block, index: usize) -> Vec<Value> {
    incoming_arg_lists(f, block)
        .iter()
        .map(|args| args[index])
        .collect()
}

/// The argument lists of the branches to `block`, one per edge (a
/// predecessor branching to it on two edges gives two), in predecessor
/// order. Computed once per block: a pass looking at each parameter would
/// otherwise walk every predecessor's terminator once per parameter.
pub(crate) fn incoming_arg_lists(f: &Function, block: Block) -> Vec<&[Value]> {
    let mut out = Vec::new();
    for p in f.preds(block) {
        if let Some(t) = &f.block(p).term {
            out.extend(
                t.dests()
                    .filter(|d| d.block == block)
                    .map(|d| d.args.as_slice()),
            );
        }
    }
    out
}

/// Removes parameter `index` of `block` and its argument in every branch.
pub(crate) fn remove_param(f: &mut Function, block: Block, index: usize) {
    for p in f.preds(block) {
        f.update_branch_args(p, |d| {
            if d.block == block {
                d.args.remove(index);
            }
        });
    }
    f.remove_block_param(block, index);
}

/// A value substitution built up by a pass and applied once at its end.
#[derive(Default)]
pub(crate) struct Subst {
    map: HashMap<Value, Value>,
}

impl Subst {
    /// What `v` stands for now.
    pub(crate) fn resolve(&self, mut v: Value) -> Value {
        while let Some(&n) = self.map.get(&v) {
            v = n;
        }
        v
    }

    /// Records that `from` is to be replaced by `to`; refuses (returns false)
    /// when that would make a cycle.
    pub(crate) fn replace(&mut self, from: Value, to: Value) -> bool {
        let to = self.resolve(to);
        if to == from {
            return false;
        }
        self.map.insert(from, to);
        true
    }

    /// Applies the substitution to every use in `f`; false when empty.
    pub(crate) fn apply(self, f: &mut Function) -> bool {
        if self.map.is_empty() {
            return false;
        }
        f.substitute_values(|v| self.map.get(&v).copied());
        true
    }
}
