//! Copy propagation through block parameters.
//!
//! A parameter whose incoming arguments are all one value `v` (or the
//! parameter itself, around a loop) is that value: its uses are replaced by
//! `v` and it is removed with its argument at every branch. The SSA builder
//! creates many such parameters for guest registers that a loop or a
//! diamond does not change. Each such `v` dominates the block (it is
//! available at the end of every reachable predecessor), so the
//! replacement keeps SSA form.

use crate::function::{Function, Value};

use super::util::{incoming_arg_lists, remove_param, reverse_post_order, Subst};
use super::Pass;

/// The trivial-block-parameter pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct BlockParams;

impl Pass for BlockParams {
    fn name(&self) -> &'static str {
        "block_params"
    }

    fn run(&self, f: &mut Function) -> bool {
        let mut subst = Subst::default();
        let mut changed = false;
        let entry = f.entry();
        // Removing one parameter can make another trivial: repeat.
        loop {
            let mut round = false;
            for b in reverse_post_order(f) {
                if Some(b) == entry {
                    continue;
                }
                let mut i = f.block(b).params.len();
                if i == 0 {
                    continue;
                }
                // Removing parameter i leaves the arguments of 0..i in place.
                let lists: Vec<Vec<Value>> = incoming_arg_lists(f, b)
                    .into_iter()
                    .map(<[Value]>::to_vec)
                    .collect();
                while i > 0 {
                    i -= 1;
                    let p = f.block(b).params[i];
                    let mut incoming = lists
                        .iter()
                        .map(|args| subst.resolve(args[i]))
                        .filter(|&a| a != p);
                    let Some(v) = incoming.next() else {
                        continue;
                    };
                    if incoming.all(|a| a == v) && subst.replace(p, v) {
                        remove_param(f, b, i);
                        round = true;
                    }
                }
            }
            changed |= round;
            if !round {
                break;
            }
        }
        subst.apply(f);
        changed
    }
}
