//! Polls of counted loops, once per chunk of iterations.
//!
//! A loop whose trip count no constant bounds (`for (p = a; p != end;
//! p += 4)` with `end` from a register) keeps the poll on its back edge
//! from the lifter: a load of the interrupt flag, a test and a branch each
//! iteration, and the CPU-state pointer live through the loop for them.
//! This pass polls such a loop once per at most [`MAX_UNPOLLED_TRIPS`]
//! iterations instead, by strip-mining it. A new header parameter `last`
//! holds the counter's value on the last trip of the current chunk:
//! - the loop's last trip, when that is within that many trips from where
//!   the chunk starts;
//! - else the trip that many on (the counter reaches its value exactly: it
//!   steps by a constant, modulo its width), or any earlier one.
//!
//! The chunk never ends after the loop would have: `last` is at most the
//! loop's own last trip. The loop's test becomes `i == last`, which leaves
//! through a new block that asks the loop's own test: it takes the old
//! exit, or polls (leaving through the old poll exit when a signal is
//! pending) and starts the next chunk. An iteration costs what it did
//! without the poll, and the back edge steps the counter in place.
//!
//! The pass takes innermost loops (a loop inside would delay the poll by
//! its own run times as many trips) with one back edge, whose poll block
//! (as the lifter builds it) is entered from a test that leaves the loop
//! unless `i ± step != end`, or `i + 1 < end` (signed or unsigned, `i + 1`
//! maybe truncated to `end`'s narrower type): `i` a header parameter that
//! the back edge sets to `i ± step`, `step` a power of two, and `end`
//! defined outside the loop or constant. That is the shape of a rotated
//! counting or pointer loop (`add $4, %rax; cmp %rax, %rdi; jne`,
//! `addi a0, a0, 4; bne a0, a1`, `add x0, x0, #1; cmp w19, w0; b.gt`).

use crate::function::{Block, BlockCall, Function, Terminator, Value};
use crate::ops::{Imm, IntCC, Opcode};
use crate::types::Type;

use super::loops::{Loop, LoopForest};
use super::polls::{back_edge_poll, stepped, MAX_UNPOLLED_TRIPS};
use super::util::reverse_post_order;
use super::Pass;

/// The chunked poll pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct ChunkedLoopPolls;

impl Pass for ChunkedLoopPolls {
    fn name(&self) -> &'static str {
        "chunked_loop_polls"
    }

    fn run(&self, f: &mut Function) -> bool {
        let mut changed = false;
        // One loop at a time: chunking a loop changes the blocks around
        // it (its entries, its exit), which may be another loop's.
        while let Some(plan) = next_plan(f) {
            chunk(f, &plan);
            changed = true;
        }
        changed
    }
}

/// What chunking one loop needs to know.
struct Plan {
    header: Block,
    /// The poll block on the one back edge.
    latch: Block,
    /// The latch's one predecessor, whose branch leaves the loop or goes
    /// on to the latch.
    test: Block,
    /// Where `test` leaves the loop.
    exit: BlockCall,
    /// `test`'s condition, and whether the loop goes on when it is set.
    cond: Value,
    on_if_set: bool,
    /// How `cond` bounds the counter.
    form: Form,
    /// For [`Form::Below`]: a signed compare.
    signed: bool,
    /// The counter: the header parameter's index.
    counter: usize,
    /// The counter's value after a trip (`i ± step`), which `test`
    /// compares (itself, or truncated to `cmp_ty`).
    next: Value,
    /// What `next` is compared with.
    end: Value,
    /// `end` is defined inside the loop (and copied where it is needed).
    end_inside: bool,
    /// The counter's type.
    ty: Type,
    /// The compare's type: `ty`, or narrower for a truncated counter.
    cmp_ty: Type,
    /// The step's magnitude, a power of two.
    step: u128,
    /// The counter counts up.
    up: bool,
}

/// How a loop's test bounds its counter: it goes on while
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    /// `next != end`;
    Unequal,
    /// `next < end`, signed or unsigned, `next` maybe truncated to `end`'s
    /// type (a 32-bit `i < n` over a 64-bit register).
    Below,
}

/// The first loop of `f` that can be chunked.
fn next_plan(f: &Function) -> Option<Plan> {
    let order = reverse_post_order(f);
    let forest = LoopForest::new(f, &order)?;
    forest
        .loops
        .iter()
        .filter(|l| is_innermost(&forest, l))
        .find_map(|l| plan(f, &forest, l))
}

/// True when no other loop's header lies inside `l`.
fn is_innermost(forest: &LoopForest, l: &Loop) -> bool {
    forest
        .loops
        .iter()
        .all(|other| other.header == l.header || !l.contains(other.header))
}

/// The plan for chunking `l`, when it has the shape the module
/// documentation describes.
fn plan(f: &Function, forest: &LoopForest, l: &Loop) -> Option<Plan> {
    let [latch] = l.latches[..] else {
        return None;
    };
    // The entry block takes no parameters: its loop keeps its poll.
    if Some(l.header) == f.entry() {
        return None;
    }
    back_edge_poll(f, latch, l)?;
    let [test] = f.preds(latch)[..] else {
        return None;
    };
    let Some(Terminator::Brif {
        cond,
        then_dest,
        else_dest,
    }) = &f.block(test).term
    else {
        return None;
    };
    // The test goes on to the latch while `lhs cc rhs`.
    let (on_if_set, exit) = match (then_dest.block == latch, else_dest.block == latch) {
        (true, false) => (true, else_dest.clone()),
        (false, true) => (false, then_dest.clone()),
        _ => return None,
    };
    if l.contains(exit.block) {
        return None;
    }
    let back = back_edge(f, latch)?;
    let t = counting_test(f, l, &back, *cond, on_if_set)?;
    let (form, signed, counter, next, c, end) =
        (t.form, t.signed, t.counter, t.next, t.step, t.end);
    let outside = |v: Value| forest.def_block(f, v).is_some_and(|b| !l.contains(b));
    // Defined inside the loop, the end must be something `end_in` can
    // compute again outside: a constant, or a width change of a value
    // from outside (the lifter truncates a register where it compares).
    let copyable = f.defining_inst(end).is_some_and(|d| match d.op {
        Opcode::Iconst => true,
        Opcode::Ireduce | Opcode::Uext | Opcode::Sext => outside(d.args[0]),
        _ => false,
    });
    if !outside(end) && !copyable {
        return None;
    }
    let ty = f.value_type(next);
    let mask = ty.mask();
    let half = 1u128 << (ty.bits() - 1);
    let (up, step) = if c < half {
        (true, c)
    } else {
        (false, c.wrapping_neg() & mask)
    };
    // The chunk's span must not wrap the counter's width; `<` loops count
    // up by one.
    let fits = match form {
        Form::Unequal => step.is_power_of_two() && step * MAX_UNPOLLED_TRIPS <= half,
        Form::Below => up && step == 1,
    };
    fits.then_some(Plan {
        header: l.header,
        latch,
        test,
        exit,
        cond: *cond,
        on_if_set,
        form,
        signed,
        counter,
        next,
        end,
        end_inside: !outside(end),
        ty,
        cmp_ty: f.value_type(end),
        step,
        up,
    })
}

/// What a loop's test says of its counter.
struct CountingTest {
    form: Form,
    signed: bool,
    counter: usize,
    next: Value,
    /// The counter's step, modulo its width.
    step: u128,
    end: Value,
}

/// The test `cond` of `l` (going on when it is `on_if_set`) as a bound on
/// a counter that `back` (the back edge) steps: `next ≠ end` or
/// `next < end` for `next` the counter's next value or its truncation.
fn counting_test(
    f: &Function,
    l: &Loop,
    back: &BlockCall,
    cond: Value,
    on_if_set: bool,
) -> Option<CountingTest> {
    let d = f.defining_inst(cond)?;
    let (Opcode::Icmp, Imm::Cc(cc)) = (d.op, d.imm) else {
        return None;
    };
    // Normalized: the loop goes on while `lhs cc rhs`.
    let cc = if on_if_set { cc } else { cc.inverse() };
    let (form, small, big) = match cc {
        IntCC::Ne => (Form::Unequal, d.args[0], d.args[1]),
        IntCC::Slt | IntCC::Ult => (Form::Below, d.args[0], d.args[1]),
        IntCC::Sgt | IntCC::Ugt => (Form::Below, d.args[1], d.args[0]),
        _ => return None,
    };
    let params = &f.block(l.header).params;
    // The counter's next value, or (for `<`) its truncation, on one side.
    let counted = |v: Value| {
        let next = match f.defining_inst(v) {
            Some(r) if r.op == Opcode::Ireduce && form == Form::Below => r.args[0],
            _ => v,
        };
        let counter = back.args.iter().position(|&a| a == next)?;
        let (base, step) = stepped(f, next)?;
        (base == params[counter]).then_some((counter, next, step))
    };
    let ((counter, next, c), end) = match form {
        Form::Unequal => counted(small)
            .map(|n| (n, big))
            .or_else(|| counted(big).map(|n| (n, small)))?,
        Form::Below => (counted(small)?, big),
    };
    Some(CountingTest {
        form,
        signed: matches!(cc, IntCC::Slt | IntCC::Sgt),
        counter,
        next,
        step: c,
        end,
    })
}

/// The back edge of poll block `latch` (taken when no signal is pending).
fn back_edge(f: &Function, latch: Block) -> Option<BlockCall> {
    match &f.block(latch).term {
        Some(Terminator::Brif { else_dest, .. }) => Some(else_dest.clone()),
        _ => None,
    }
}

/// Strip-mines the loop of `p` (see the module documentation).
fn chunk(f: &mut Function, p: &Plan) {
    let Some(Terminator::Brif {
        then_dest: poll_exit,
        else_dest: mut back,
        ..
    }) = f.block(p.latch).term.clone()
    else {
        unreachable!("plans are made of poll blocks");
    };
    let pc = f.block(p.latch).insts.first().and_then(|&i| f.srcloc(i));
    let counter = f.block(p.header).params[p.counter];
    let last = f.add_block_param(p.header, p.ty);
    enter_first_chunks(f, p, pc);

    // The latch goes straight back, carrying the chunk's last value.
    back.args.push(last);
    f.block_insts_mut(p.latch).clear();
    f.set_terminator(p.latch, Terminator::Jump(back.clone()));

    // The test leaves the chunk on its last trip. It compares the counter
    // as the trip began, not its next value, so the back edge can step
    // the counter in place. (It branches away when set, as the lifter's
    // tests branch out of the loop, so the backend lays the back edge out
    // next.)
    let chunk_done = f.add_block();
    let at_test = At { block: p.test, pc };
    let reached = at_test.ins(
        f,
        Opcode::Icmp,
        p.ty,
        vec![counter, last],
        Imm::Cc(IntCC::Eq),
    );
    f.set_terminator(
        p.test,
        Terminator::Brif {
            cond: reached,
            then_dest: BlockCall::new(chunk_done),
            else_dest: BlockCall::new(p.latch),
        },
    );

    // At the chunk's end: leave when it is the loop's end, else poll and
    // start the next chunk where the back edge would have gone on.
    // (The test asked again there, so the loop no longer computes it.)
    let repoll = f.add_block();
    let compare = f.defining_inst(p.cond).expect("tests are compares").clone();
    let at_done = At {
        block: chunk_done,
        pc,
    };
    let goes_on = at_done.ins(f, compare.op, compare.ty, compare.args, compare.imm);
    let (on, off) = (BlockCall::new(repoll), p.exit.clone());
    let (then_dest, else_dest) = if p.on_if_set { (on, off) } else { (off, on) };
    f.set_terminator(
        chunk_done,
        Terminator::Brif {
            cond: goes_on,
            then_dest,
            else_dest,
        },
    );
    let restart = f.add_block();
    let at_repoll = At { block: repoll, pc };
    let pending = at_repoll.ins(f, Opcode::Poll, Type::I1, Vec::new(), Imm::None);
    f.set_terminator(
        repoll,
        Terminator::Brif {
            cond: pending,
            then_dest: poll_exit,
            else_dest: BlockCall::new(restart),
        },
    );
    let next_last = chunk_last(f, p, restart, p.next, pc);
    let slot = back.args.len() - 1;
    back.args[slot] = next_last;
    f.set_terminator(restart, Terminator::Jump(back));
}

/// Gives every branch into the loop from outside the last counter value
/// of the chunk it starts.
fn enter_first_chunks(f: &mut Function, p: &Plan, pc: Option<u64>) {
    for pred in f.preds(p.header) {
        if pred == p.latch {
            continue;
        }
        let Some(term) = f.block(pred).term.clone() else {
            continue;
        };
        let starts: Vec<Value> = term
            .dests()
            .filter(|d| d.block == p.header)
            .map(|d| d.args[p.counter])
            .collect();
        let mut lasts = starts
            .into_iter()
            .map(|start| chunk_last(f, p, pred, start, pc))
            .collect::<Vec<_>>()
            .into_iter();
        let header = p.header;
        f.update_branch_args(pred, |d| {
            if d.block == header {
                d.args.push(lasts.next().expect("one chunk per branch"));
            }
        });
    }
}

/// Appends to `block` the counter's value on the last trip of a chunk
/// that starts with the counter at `start`: the trip that steps it to the
/// loop's end when that is within [`MAX_UNPOLLED_TRIPS`] trips, else the
/// last of that many.
fn chunk_last(f: &mut Function, p: &Plan, block: Block, start: Value, pc: Option<u64>) -> Value {
    match p.form {
        Form::Unequal => last_unequal(f, p, At { block, pc }, start),
        Form::Below => last_below(f, p, At { block, pc }, start),
    }
}

/// [`chunk_last`] of a loop that goes on while `next != end`.
fn last_unequal(f: &mut Function, p: &Plan, at: At, start: Value) -> Value {
    let ty = p.ty;
    let end = end_in(f, p, at.block, at.pc);
    let gap = if p.up {
        at.ins(f, Opcode::Isub, ty, vec![end, start], Imm::None)
    } else {
        at.ins(f, Opcode::Isub, ty, vec![start, end], Imm::None)
    };
    // The end is `t` trips away, 1 <= t <= MAX_UNPOLLED_TRIPS, exactly when
    // `gap - step` is `(t - 1) * step`: rotated right by log2(step), any low
    // bits (a gap the steps jump over) land on top, and `gap = 0` (a full
    // wrap) gives a large value too (the span fits in half the width).
    let step = at.iconst(f, ty, p.step);
    let before_last = at.ins(f, Opcode::Isub, ty, vec![gap, step], Imm::None);
    let log = at.iconst(f, Type::I8, u128::from(p.step.trailing_zeros()));
    let trips_left = at.ins(f, Opcode::Rotr, ty, vec![before_last, log], Imm::None);
    let near = at.within_a_chunk(f, ty, trips_left);
    // The counter's value on the last trip: one step short of where it
    // goes (`iconst` masks the wrapped constants to the width).
    let stride = if p.up { p.step } else { p.step.wrapping_neg() };
    let back_one = at.iconst(f, ty, stride.wrapping_neg());
    let near_last = at.ins(f, Opcode::Iadd, ty, vec![end, back_one], Imm::None);
    let span = at.iconst(f, ty, stride.wrapping_mul(MAX_UNPOLLED_TRIPS - 1));
    let far_last = at.ins(f, Opcode::Iadd, ty, vec![start, span], Imm::None);
    at.ins(
        f,
        Opcode::Select,
        ty,
        vec![near, near_last, far_last],
        Imm::None,
    )
}

/// [`chunk_last`] of a loop that goes on while `next < end`, counting up
/// by one (in `cmp_ty`, truncated): the loop ends on trip `end - start`
/// when that is positive, and runs at least one trip in any case.
fn last_below(f: &mut Function, p: &Plan, at: At, start: Value) -> Value {
    let cty = p.cmp_ty;
    let narrow = cty != p.ty;
    let first = if narrow {
        at.ins(f, Opcode::Ireduce, cty, vec![start], Imm::None)
    } else {
        start
    };
    let end = end_in(f, p, at.block, at.pc);
    let at_most = if p.signed { IntCC::Sle } else { IntCC::Ule };
    let past = at.ins(f, Opcode::Icmp, cty, vec![end, first], Imm::Cc(at_most));
    let gap = at.ins(f, Opcode::Isub, cty, vec![end, first], Imm::None);
    let one = at.iconst(f, cty, 1);
    // Trips before the last: `gap - 1` when the end is near, else a
    // chunk's worth, and none when the counter starts at or past the end.
    let before_last = at.ins(f, Opcode::Isub, cty, vec![gap, one], Imm::None);
    let near = at.within_a_chunk(f, cty, before_last);
    let chunk = at.iconst(f, cty, MAX_UNPOLLED_TRIPS - 1);
    let ahead = at.ins(
        f,
        Opcode::Select,
        cty,
        vec![near, before_last, chunk],
        Imm::None,
    );
    let zero = at.iconst(f, cty, 0);
    let ahead = at.ins(f, Opcode::Select, cty, vec![past, zero, ahead], Imm::None);
    let ahead = if narrow {
        at.ins(f, Opcode::Uext, p.ty, vec![ahead], Imm::None)
    } else {
        ahead
    };
    at.ins(f, Opcode::Iadd, p.ty, vec![start, ahead], Imm::None)
}

/// The loop's end as a value usable in `block`: itself, or a copy of the
/// instruction that defines it inside the loop (see `plan`).
fn end_in(f: &mut Function, p: &Plan, block: Block, pc: Option<u64>) -> Value {
    if !p.end_inside {
        return p.end;
    }
    let d = f
        .defining_inst(p.end)
        .expect("ends inside are results")
        .clone();
    At { block, pc }.ins(f, d.op, d.ty, d.args, d.imm)
}

/// Where new instructions go: the end of `block`, attributed to guest
/// address `pc`.
#[derive(Clone, Copy)]
struct At {
    block: Block,
    pc: Option<u64>,
}

impl At {
    /// Appends `op` and returns its result.
    fn ins(self, f: &mut Function, op: Opcode, ty: Type, args: Vec<Value>, imm: Imm) -> Value {
        let result_ty = op.sig().result_type(ty);
        let inst = f.create_inst(op, ty, args, imm, result_ty);
        f.set_srcloc(inst, self.pc);
        f.append_inst(self.block, inst);
        f.inst(inst).result.expect("a value op")
    }

    fn iconst(self, f: &mut Function, ty: Type, bits: u128) -> Value {
        self.ins(
            f,
            Opcode::Iconst,
            ty,
            Vec::new(),
            Imm::Int(bits & ty.mask()),
        )
    }

    /// `trips < MAX_UNPOLLED_TRIPS`, unsigned.
    fn within_a_chunk(self, f: &mut Function, ty: Type, trips: Value) -> Value {
        let most = self.iconst(f, ty, MAX_UNPOLLED_TRIPS);
        let cc = Imm::Cc(IntCC::Ult);
        self.ins(f, Opcode::Icmp, ty, vec![trips, most], cc)
    }
}
