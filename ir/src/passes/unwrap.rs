//! Block parameters that carry a wrapped value.
//!
//! A parameter whose incoming arguments are all the same wrapper around
//! other values (or the parameter itself, around a loop) carries the inner
//! values instead, and its block wraps the new parameter again at its top
//! for the uses. The wrappers: a scalar inserted into a lane of a constant
//! vector, and a `bitcast`. The frontends write a scalar float result into
//! a whole vector register (aarch64 `fadd d8, d8, d1` zeroes the rest of
//! `v8`) and keep float registers as integer bits, so a loop accumulating
//! into one passed a vector (or integer bits) around the loop and rebuilt
//! it in every iteration; once the parameter carries the float, the lane
//! read at the loop top folds ([`super::ConstFold`]), and the rebuilt
//! vector is only computed where something still needs it (an exit).

use rustc_hash::FxHashMap as HashMap;

use crate::function::{Block, Function, Value};
use crate::ops::{Imm, Opcode};
use crate::types::Type;

use super::util::{incoming_args, remove_param, reverse_post_order, Subst};
use super::Pass;

/// The wrapped-parameter pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct ParamUnwrap;

impl Pass for ParamUnwrap {
    fn name(&self) -> &'static str {
        "param_unwrap"
    }

    fn run(&self, f: &mut Function) -> bool {
        let entry = f.entry();
        let mut subst = Subst::default();
        let mut changed = false;
        for b in reverse_post_order(f) {
            if Some(b) == entry {
                continue;
            }
            // Highest index first: unwrapping removes the parameter.
            for i in (0..f.block(b).params.len()).rev() {
                changed |= unwrap_param(f, b, i, &mut subst);
            }
        }
        subst.apply(f);
        changed
    }
}

/// What wraps a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Wrapper {
    /// `vinsert.ty lane (vconst vector), x`.
    Insert { ty: Type, lane: Imm, vector: u128 },
    /// `bitcast.ty x`.
    Bitcast(Type),
}

/// The wrapper `v` is made by and the value it wraps.
fn unwrapped(f: &Function, v: Value) -> Option<(Wrapper, Value)> {
    let d = f.defining_inst(v)?;
    match d.op {
        Opcode::Vinsert => {
            let c = f.defining_inst(d.args[0])?;
            let Imm::Int(vector) = c.imm else {
                return None;
            };
            (c.op == Opcode::Vconst).then_some((
                Wrapper::Insert {
                    ty: d.ty,
                    lane: d.imm,
                    vector,
                },
                d.args[1],
            ))
        }
        Opcode::Bitcast => Some((Wrapper::Bitcast(d.ty), d.args[0])),
        _ => None,
    }
}

/// Makes parameter `index` of `block` carry what its arguments wrap, when
/// they all share one wrapper, or when some are integer bits of floats
/// (`bitcast.i64 f`) and the others can be bitcast to float in their
/// predecessors (a loop entered with bits loaded from memory carries the
/// float its body computes); true when it did. Only that direction
/// bitcasts arguments, so two rounds never undo each other.
fn unwrap_param(f: &mut Function, block: Block, index: usize, subst: &mut Subst) -> bool {
    let param = f.block(block).params[index];
    let mut wrapper = None;
    let mut inner: HashMap<Value, Value> = HashMap::default();
    let mut bare = false;
    for arg in incoming_args(f, block, index) {
        if arg == param {
            continue;
        }
        let Some((w, x)) = unwrapped(f, arg) else {
            bare = true;
            continue;
        };
        if wrapper.is_some_and(|seen| seen != w) {
            return false;
        }
        wrapper = Some(w);
        inner.insert(arg, x);
    }
    let Some(wrapper) = wrapper else {
        return false;
    };
    let mut types = inner.values().map(|&x| f.value_type(x));
    let ty = types.next().expect("a wrapper was seen");
    if types.any(|t| t != ty) {
        return false;
    }
    let floats_from_bits =
        matches!(wrapper, Wrapper::Bitcast(bits) if bits.is_int()) && ty.is_float();
    if bare && !floats_from_bits {
        return false;
    }
    let carried = f.add_block_param(block, ty);
    for p in f.preds(block) {
        let edges: Vec<Value> = f
            .block(p)
            .term
            .iter()
            .flat_map(|t| t.dests())
            .filter(|d| d.block == block)
            .map(|d| d.args[index])
            .collect();
        let mut args: Vec<Value> = Vec::new();
        for arg in edges {
            args.push(match inner.get(&arg) {
                Some(&x) => x,
                None if arg == param => carried,
                None => bitcast_at_end(f, p, ty, arg),
            });
        }
        let mut args = args.into_iter();
        f.update_branch_args(p, |d| {
            if d.block == block {
                d.args.push(args.next().expect("one argument per edge"));
            }
        });
    }
    let rewrapped = wrap(f, block, wrapper, carried);
    subst.replace(param, rewrapped);
    remove_param(f, block, index);
    true
}

/// `bitcast.ty x`, placed at the end of `block` (before its terminator).
fn bitcast_at_end(f: &mut Function, block: Block, ty: Type, x: Value) -> Value {
    let cast = f.create_inst(Opcode::Bitcast, ty, vec![x], Imm::None, Some(ty));
    f.block_insts_mut(block).push(cast);
    f.inst(cast).result.expect("bitcast has a result")
}

/// Wraps `x` with `wrapper` at the top of `block`; the wrapped value.
fn wrap(f: &mut Function, block: Block, wrapper: Wrapper, x: Value) -> Value {
    let insts = match wrapper {
        Wrapper::Insert { ty, lane, vector } => {
            let c = f.create_inst(
                Opcode::Vconst,
                Type::V128,
                vec![],
                Imm::Int(vector),
                Some(Type::V128),
            );
            let c_value = f.inst(c).result.expect("vconst has a result");
            let w = f.create_inst(
                Opcode::Vinsert,
                ty,
                vec![c_value, x],
                lane,
                Some(Type::V128),
            );
            vec![c, w]
        }
        Wrapper::Bitcast(ty) => {
            vec![f.create_inst(Opcode::Bitcast, ty, vec![x], Imm::None, Some(ty))]
        }
    };
    let wrapped = f
        .inst(*insts.last().expect("a wrapper op"))
        .result
        .expect("wrappers have a result");
    let body = f.block_insts_mut(block);
    body.splice(0..0, insts);
    wrapped
}
