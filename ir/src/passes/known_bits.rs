//! Known-zero bits of integer values, through block parameters.
//!
//! A value's entry is a mask of bits that are zero whenever it is computed.
//! Constants, `band`, `bor`, `bxor`, `select`, zero extensions and
//! truncations propagate the masks; a block parameter keeps the bits zero
//! in every argument it receives. The analysis is optimistic (every bit
//! starts known zero and loses that only when some definition or argument
//! may set it), so a mode bit cleared before a loop and carried around it
//! stays known clear; it iterates to the fixed point, and gives nothing
//! when it does not get there in [`MAX_ROUNDS`].

use rustc_hash::FxHashMap as HashMap;

use crate::function::{Function, InstData, Value};
use crate::ops::{Imm, Opcode};

use super::util::{incoming_arg_lists, reverse_post_order};

/// Rounds before the analysis gives up (each round lowers some mask, and
/// loop nests converge in a few).
const MAX_ROUNDS: usize = 16;

/// The known-zero mask of every integer value of `f` defined in a
/// reachable block; an absent value has none known.
pub(crate) fn known_zero_bits(f: &Function) -> HashMap<Value, u128> {
    let order = reverse_post_order(f);
    let mut known: HashMap<Value, u128> = HashMap::default();
    for _ in 0..MAX_ROUNDS {
        let mut changed = false;
        for &b in &order {
            let data = f.block(b);
            let incoming = if data.params.is_empty() {
                Vec::new()
            } else {
                incoming_arg_lists(f, b)
            };
            for (i, &p) in data.params.iter().enumerate() {
                let mask = f.value_type(p).mask();
                let zero = incoming
                    .iter()
                    .fold(mask, |acc, args| acc & lookup(&known, f, args[i]));
                changed |= known.insert(p, zero) != Some(zero);
            }
            for &inst in &data.insts {
                let d = f.inst(inst);
                let Some(r) = d.result else { continue };
                if !f.value_type(r).is_int() {
                    continue;
                }
                let zero = transfer(&known, f, d) & f.value_type(r).mask();
                changed |= known.insert(r, zero) != Some(zero);
            }
        }
        if !changed {
            return known;
        }
    }
    HashMap::default()
}

/// The current mask of `v`: optimistic (all bits of its type) until its
/// definition has been visited.
fn lookup(known: &HashMap<Value, u128>, f: &Function, v: Value) -> u128 {
    known.get(&v).copied().unwrap_or(f.value_type(v).mask())
}

/// The known-zero mask of an instruction's result from its operands'.
fn transfer(known: &HashMap<Value, u128>, f: &Function, d: &InstData) -> u128 {
    let arg = |i: usize| lookup(known, f, d.args[i]);
    match (d.op, d.imm) {
        (Opcode::Iconst, Imm::Int(c)) => !c,
        (Opcode::Band, _) => arg(0) | arg(1),
        (Opcode::Bor | Opcode::Bxor, _) => arg(0) & arg(1),
        (Opcode::Select, _) => arg(1) & arg(2),
        (Opcode::Uext, _) => arg(0) | !f.value_type(d.args[0]).mask(),
        (Opcode::Ireduce, _) => arg(0),
        _ => 0,
    }
}
