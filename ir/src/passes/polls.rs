//! Poll elision in short counted loops.
//!
//! The lifter polls for a pending signal on every back edge (see
//! `Opcode::Poll`), so no loop runs without reaching a safe point. A loop
//! that provably ends within [`MAX_UNPOLLED_TRIPS`] iterations needs no
//! poll of its own: the signal waits at most that many iterations for the
//! next safe point after the loop (the poll of an enclosing loop, a call,
//! the function's exit). Its back-edge polls go, and with them the exit
//! blocks that wrote every register back for the dispatcher, so the values
//! those held no longer live through the loop. (Managed runtimes do the
//! same with the safepoint polls of counted loops.)
//!
//! A loop counts when its header has an integer parameter `i` that every
//! entry edge sets to one start value and every back edge to `i ± step`
//! (constant), and a block on every path around the loop (one dominating
//! each latch) leaves the loop unless `i ± step` compares `!=`, unsigned
//! `<` or signed `<` with a constant bound, where the start is a constant
//! too; or compares `!=` with a bound that is the start plus a constant
//! (`end = p + 24` for a pointer `p`). The trip count then follows from
//! the constants, without wrapping.

use crate::function::{Block, Function, Terminator, Value};
use crate::ops::{Imm, IntCC, Opcode};

use super::loops::{Loop, LoopForest};
use super::util::reverse_post_order;
use super::Pass;

/// The most iterations a loop may run without a poll: a pending signal is
/// delayed by at most this many trips of one loop body.
pub const MAX_UNPOLLED_TRIPS: u128 = 1024;

/// The poll elision pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct BoundedLoopPolls;

impl Pass for BoundedLoopPolls {
    fn name(&self) -> &'static str {
        "bounded_loop_polls"
    }

    fn run(&self, f: &mut Function) -> bool {
        let order = reverse_post_order(f);
        let Some(forest) = LoopForest::new(f, &order) else {
            return false;
        };
        let polls: Vec<Block> = forest
            .loops
            .iter()
            .filter(|l| trip_bound(f, &forest, l).is_some_and(|n| n <= MAX_UNPOLLED_TRIPS))
            .flat_map(|l| {
                l.latches
                    .iter()
                    .copied()
                    .filter(|&b| back_edge_poll(f, b, l).is_some())
            })
            .collect();
        for &b in &polls {
            drop_poll(f, b);
        }
        !polls.is_empty()
    }
}

/// The poll of latch `b` when `b` is a back-edge poll block of `l` (only
/// a `poll` whose result leaves `l` when set and goes on to the header
/// when clear, as the lifter builds them).
pub(super) fn back_edge_poll(f: &Function, b: Block, l: &Loop) -> Option<Value> {
    let data = f.block(b);
    let [inst] = data.insts[..] else {
        return None;
    };
    let poll = f.inst(inst);
    let Some(Terminator::Brif {
        cond,
        then_dest,
        else_dest,
    }) = &data.term
    else {
        return None;
    };
    let shaped = poll.op == Opcode::Poll
        && poll.result == Some(*cond)
        && !l.contains(then_dest.block)
        && else_dest.block == l.header;
    shaped.then_some(*cond)
}

/// Makes poll block `b` go straight on to the loop header.
fn drop_poll(f: &mut Function, b: Block) {
    let Some(Terminator::Brif { else_dest, .. }) = f.block(b).term.clone() else {
        return;
    };
    f.block_insts_mut(b).clear();
    f.set_terminator(b, Terminator::Jump(else_dest));
}

/// An upper bound on the iterations of `l`, from a counter of its header.
fn trip_bound(f: &Function, forest: &LoopForest, l: &Loop) -> Option<u128> {
    let params = &f.block(l.header).params;
    (0..params.len())
        .filter_map(|k| {
            let counter = counter(f, l, k)?;
            exit_tests(f, forest, l)
                .filter_map(|(cc, lhs, rhs)| counter.trips(f, cc, lhs, rhs))
                .min()
        })
        .min()
}

/// Header parameter `k` of a loop as a counter: set to `start` on entry,
/// to `next` (`start + k·step`, modulo the width) on every back edge.
struct Counter {
    start: Offset,
    next: Value,
    step: u128,
    bits: u32,
}

/// Parameter `k` of `l`'s header as a [`Counter`], when it is one.
fn counter(f: &Function, l: &Loop, k: usize) -> Option<Counter> {
    let param = f.block(l.header).params[k];
    let ty = f.value_type(param);
    if !ty.is_int() {
        return None;
    }
    let mut starts = Vec::new();
    let mut nexts = Vec::new();
    for p in f.preds(l.header) {
        let Some(t) = &f.block(p).term else { continue };
        for d in t.dests().filter(|d| d.block == l.header) {
            if l.contains(p) {
                nexts.push(d.args[k]);
            } else {
                starts.push(offset(f, d.args[k]));
            }
        }
    }
    let start = the_one(&starts)?;
    let next = the_one(&nexts)?;
    let (base, step) = stepped(f, next)?;
    (base == param).then_some(Counter {
        start,
        next,
        step,
        bits: ty.bits(),
    })
}

/// A value as `base + offset`: `base` is `None` for a constant, else a
/// value defined elsewhere (`v + c`, `v - c`, or `v` itself with offset 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Offset {
    base: Option<Value>,
    offset: u128,
}

/// `v` as an [`Offset`]: a constant, a value plus or minus a constant, or
/// itself.
fn offset(f: &Function, v: Value) -> Offset {
    if let Some(c) = int_constant(f, v) {
        return Offset {
            base: None,
            offset: c,
        };
    }
    match stepped(f, v) {
        Some((base, c)) => Offset {
            base: Some(base),
            offset: c,
        },
        None => Offset {
            base: Some(v),
            offset: 0,
        },
    }
}

/// The element of `xs` when there is at least one and all are equal.
fn the_one<T: Copy + PartialEq>(xs: &[T]) -> Option<T> {
    let first = *xs.first()?;
    xs.iter().all(|&x| x == first).then_some(first)
}

/// `(x, c)` when `v` is `x + c` or `x - c` (as `x + -c`) for a constant `c`,
/// masked to `v`'s width.
pub(super) fn stepped(f: &Function, v: Value) -> Option<(Value, u128)> {
    let d = f.defining_inst(v)?;
    if !matches!(d.op, Opcode::Iadd | Opcode::Isub) {
        return None;
    }
    let mask = d.ty.mask();
    match (d.op, int_constant(f, d.args[0]), int_constant(f, d.args[1])) {
        (Opcode::Iadd, _, Some(c)) => Some((d.args[0], c)),
        (Opcode::Iadd, Some(c), None) => Some((d.args[1], c)),
        (Opcode::Isub, _, Some(c)) => Some((d.args[0], c.wrapping_neg() & mask)),
        _ => None,
    }
}

/// The bits of `v` when an `iconst` defines it.
fn int_constant(f: &Function, v: Value) -> Option<u128> {
    let d = f.defining_inst(v)?;
    match (d.op, d.imm) {
        (Opcode::Iconst, Imm::Int(bits)) => Some(bits),
        _ => None,
    }
}

/// The compares that decide whether `l` goes on, from the blocks on every
/// path around it: `(cc, lhs, rhs)` such that the loop goes on exactly
/// while `lhs cc rhs` holds.
fn exit_tests<'a>(
    f: &'a Function,
    forest: &'a LoopForest,
    l: &'a Loop,
) -> impl Iterator<Item = (IntCC, Value, Value)> + 'a {
    l.blocks()
        .filter(|&b| l.latches.iter().all(|&latch| forest.dominates(b, latch)))
        .filter_map(move |b| {
            let Some(Terminator::Brif {
                cond,
                then_dest,
                else_dest,
            }) = &f.block(b).term
            else {
                return None;
            };
            let stays_if_set = match (l.contains(then_dest.block), l.contains(else_dest.block)) {
                (true, false) => true,
                (false, true) => false,
                _ => return None,
            };
            let d = f.defining_inst(*cond)?;
            let (Opcode::Icmp, Imm::Cc(cc)) = (d.op, d.imm) else {
                return None;
            };
            let cc = if stays_if_set { cc } else { cc.inverse() };
            Some((cc, d.args[0], d.args[1]))
        })
}

impl Counter {
    /// The iterations of a loop that goes on while `lhs cc rhs`, when one
    /// side is this counter's next value and the other a bound the counter
    /// reaches without wrapping: a constant, or for `!=` the value the
    /// counter starts from plus a constant (a pointer loop's end).
    fn trips(&self, f: &Function, cc: IntCC, lhs: Value, rhs: Value) -> Option<u128> {
        let (cc, bound) = if lhs == self.next {
            (cc, offset(f, rhs))
        } else if rhs == self.next {
            (cc.swapped(), offset(f, lhs))
        } else {
            return None;
        };
        // Only the distance matters to `!=`; the orders need constants.
        let same_base = bound.base == self.start.base;
        if !same_base || (bound.base.is_some() && cc != IntCC::Ne) {
            return None;
        }
        let (start, bound) = (self.start.offset, bound.offset);
        let mask = u128::MAX >> (128 - self.bits);
        let half = 1u128 << (self.bits - 1);
        // The step as a magnitude and a direction.
        let (up, step) = if self.step < half {
            (true, self.step)
        } else {
            (false, self.step.wrapping_neg() & mask)
        };
        if step == 0 {
            return None;
        }
        match cc {
            IntCC::Ne => {
                let gap = if up {
                    bound.wrapping_sub(start) & mask
                } else {
                    start.wrapping_sub(bound) & mask
                };
                (gap != 0 && gap % step == 0).then_some(gap / step)
            }
            IntCC::Ult if up => Self::counting_up(start, bound, step, mask),
            IntCC::Slt if up => {
                // Signed values shifted to unsigned order.
                Self::counting_up(start ^ half, bound ^ half, step, mask)
            }
            _ => None,
        }
    }

    /// Trips of `i = start; do { i += step } while (i < bound)` in unsigned
    /// order, when `i` cannot wrap past the bound.
    fn counting_up(start: u128, bound: u128, step: u128, mask: u128) -> Option<u128> {
        if start >= bound {
            // One trip, unless the first step wraps below the bound.
            return (start + step <= mask).then_some(1);
        }
        // The last value compared is below `bound + step`.
        if bound + step - 1 > mask {
            return None;
        }
        Some((bound - start).div_ceil(step))
    }
}
