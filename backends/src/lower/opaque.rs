//! Guest loads that must stay opaque to Cranelift.
//!
//! Float ops in the guest's dynamic rounding mode run as native SSE code,
//! which rounds in the MXCSR mode the runtime keeps equal to the guest's.
//! Cranelift, however, folds float ops on constants assuming
//! round-to-nearest, and its alias analysis (which cannot be turned off)
//! forwards a value stored to guest memory into a later load, turning
//! `volatile double x = 1; x / 3` into a constant it then folds in the
//! wrong mode. Operands that are constants in the IR already take the exact
//! slow path; this module finds the guest loads whose values reach a
//! dynamically rounded op *and* that Cranelift could forward a constant
//! into, so they are emitted as loads Cranelift cannot forward (see
//! [`super::Lower::opaque_load`]): an integer load moved to the float
//! unit, which costs float code its memory operands, so it is kept to the
//! loads that need it.
//!
//! Cranelift forwards a store into a load at the same address value and
//! offset. A load is at risk when some store in the function writes a
//! value computed from constants alone to an address of the same
//! structure (the same ops on the same values, as Cranelift's value
//! numbering would merge them) and the same displacement.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use vmtrans_ir::interp::effect_of;
use vmtrans_ir::{Block, Function, Imm, Inst, Opcode, RoundingMode, Value, ValueDef};

/// True for an op that rounds in the guest's dynamic mode and that
/// Cranelift folds when its operands are constants.
fn rounds_dynamically(op: Opcode, imm: &Imm) -> bool {
    use Opcode as O;
    matches!(
        op,
        O::Fadd
            | O::Fsub
            | O::Fmul
            | O::Fdiv
            | O::Fsqrt
            | O::Fma
            | O::Fround
            | O::FcvtFromSint
            | O::FcvtFromUint
            | O::Fconvert
    ) && matches!(imm, Imm::Rm(RoundingMode::Dyn))
}

/// The loads whose results flow (through any chain of pure ops and block
/// parameters) into an op that rounds in the dynamic mode, and that a
/// store of a constant-derived value could be forwarded into.
pub(super) fn loads_feeding_dynamic_rounding(f: &Function) -> HashSet<Inst> {
    let mut keys = AddressKeys::new(f);
    let stores = f
        .layout()
        .iter()
        .flat_map(|&b| f.block(b).insts.iter().copied())
        .filter(|&i| f.inst(i).op == Opcode::Store);
    let mut memo = HashMap::default();
    let constant_stores: HashSet<(u32, i64)> = stores
        .filter(|&i| constant_derived(f, f.inst(i).args[1], CONSTANT_DEPTH, &mut memo))
        .map(|i| keys.address(f.inst(i).args[0]))
        .collect();
    if constant_stores.is_empty() {
        return HashSet::default();
    }
    let mut loads = feeding_loads(f);
    loads.retain(|&i| constant_stores.contains(&keys.address(f.inst(i).args[0])));
    loads
}

/// How deep [`constant_derived`] looks through defining ops.
const CONSTANT_DEPTH: u32 = 8;

/// How deep [`AddressKeys`] numbers the ops computing an address.
const NUMBER_DEPTH: u32 = 64;

/// True when `v` is computed from constants alone (through pure ops and
/// block parameters whose every incoming value is), `depth` levels deep;
/// deeper chains count as constant, to stay on the safe side. Answers are
/// memoized in `memo` (a function can have thousands of values and
/// parameters with many predecessors).
fn constant_derived(f: &Function, v: Value, depth: u32, memo: &mut HashMap<Value, bool>) -> bool {
    if depth == 0 {
        return true;
    }
    if let Some(&known) = memo.get(&v) {
        return known;
    }
    // Provisionally constant while the operands are examined, so a cycle
    // through block parameters ends (on the safe side).
    memo.insert(v, true);
    let derived = match f.value(v).def {
        ValueDef::Result(inst) => {
            let d = f.inst(inst);
            match d.op {
                Opcode::Iconst | Opcode::Fconst | Opcode::Vconst => true,
                op if effect_of(op).is_none() => d
                    .args
                    .iter()
                    .all(|&a| constant_derived(f, a, depth - 1, memo)),
                _ => false,
            }
        }
        ValueDef::Param(block, index) => incoming_args(f, block, index)
            .into_iter()
            .all(|a| constant_derived(f, a, depth - 1, memo)),
    };
    memo.insert(v, derived);
    derived
}

/// The values predecessors pass to parameter `index` of `block`.
fn incoming_args(f: &Function, block: Block, index: u32) -> Vec<Value> {
    let mut args = Vec::new();
    for pred in f.preds(block) {
        let Some(term) = &f.block(pred).term else {
            continue;
        };
        for call in term.dests() {
            if call.block == block {
                args.extend(call.args.get(index as usize).copied());
            }
        }
    }
    args
}

/// Structural keys of guest addresses, the way Cranelift's value numbering
/// and its store-to-load forwarding see them: the constants `iadd`s add
/// are the displacement, the rest is the base, numbered by the ops
/// computing it (hash-consed, so equal structures get equal numbers;
/// parameters and effects' results are numbered by themselves).
struct AddressKeys<'a> {
    f: &'a Function,
    numbers: HashMap<Value, u32>,
    /// Pure op, type and immediate (as text) with operand numbers, or a
    /// leaf value, to its number.
    shapes: HashMap<(String, Vec<u32>), u32>,
}

impl<'a> AddressKeys<'a> {
    fn new(f: &'a Function) -> AddressKeys<'a> {
        AddressKeys {
            f,
            numbers: HashMap::default(),
            shapes: HashMap::default(),
        }
    }

    /// The base number and displacement of address `addr`.
    fn address(&mut self, addr: Value) -> (u32, i64) {
        let (mut base, mut disp) = (addr, 0i64);
        while let Some((x, c)) = super::memory::plus_constant(self.f, base) {
            (base, disp) = (x, disp.wrapping_add(c));
        }
        (self.number(base, NUMBER_DEPTH), disp)
    }

    /// The value number of `v`; ops more than `depth` levels down are
    /// numbered as leaves (bounding the recursion; address bases are
    /// shallow).
    fn number(&mut self, v: Value, depth: u32) -> u32 {
        if let Some(&n) = self.numbers.get(&v) {
            return n;
        }
        let shape = match self.f.value(v).def {
            ValueDef::Result(inst) if depth > 0 && effect_of(self.f.inst(inst).op).is_none() => {
                let d = self.f.inst(inst);
                let args = d.args.iter().map(|&a| self.number(a, depth - 1)).collect();
                (format!("{:?}.{:?}{:?}", d.op, d.ty, d.imm), args)
            }
            _ => (format!("{v}"), Vec::new()),
        };
        let next = self.shapes.len() as u32;
        let n = *self.shapes.entry(shape).or_insert(next);
        self.numbers.insert(v, n);
        n
    }
}

/// The loads whose results flow (through any chain of pure ops and block
/// parameters) into an op that rounds in the dynamic mode.
fn feeding_loads(f: &Function) -> HashSet<Inst> {
    let mut work = Vec::new();
    for &block in f.layout() {
        for &inst in &f.block(block).insts {
            let d = f.inst(inst);
            if rounds_dynamically(d.op, &d.imm) {
                work.extend(d.args.iter().copied());
            }
        }
    }
    let mut seen = HashSet::default();
    let mut loads = HashSet::default();
    while let Some(v) = work.pop() {
        if !seen.insert(v) {
            continue;
        }
        match f.value(v).def {
            ValueDef::Result(inst) => {
                let d = f.inst(inst);
                if d.op == Opcode::Load {
                    loads.insert(inst);
                } else if effect_of(d.op).is_none() {
                    work.extend(d.args.iter().copied());
                }
            }
            ValueDef::Param(block, index) => work.extend(incoming_args(f, block, index)),
        }
    }
    loads
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use vmtrans_ir::parse::parse_function;
    use vmtrans_ir::{RegFile, Type};

    fn function(text: &str) -> Function {
        let regs = Arc::new(RegFile::new("t", [("a".to_string(), Type::I64)]));
        parse_function(text, regs).expect("test IR parses")
    }

    /// The loads (by their result's name) made opaque in `text`.
    fn opaque(text: &str) -> Vec<String> {
        let f = function(text);
        let mut names: Vec<String> = loads_feeding_dynamic_rounding(&f)
            .into_iter()
            .filter_map(|i| f.inst(i).result)
            .map(|v| format!("{v}"))
            .collect();
        names.sort();
        names
    }

    #[test]
    fn only_loads_a_constant_store_could_reach_are_opaque() {
        // v5 reads what the constant store wrote (the same base plus 8,
        // spelled as a different `iadd` chain); v7 reads another address;
        // v9 reads the stored address but feeds no dynamically rounded op.
        let text = "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0x8
             v2 = iadd.i64 v0, v1
             v3 = fconst.f64 0x3ff0000000000000
             store.f64 v2, v3
             v4 = iadd.i64 v0, v1
             v5 = load.f64 v4
             v6 = iadd.i64 v0, v1
             v10 = iadd.i64 v6, v1
             v7 = load.f64 v10
             v8 = fdiv.f64 dyn v5, v7
             v9 = load.f64 v2
             v11 = bitcast.i64 v8
             v12 = bitcast.i64 v9
             v13 = bxor.i64 v11, v12
             exit v13
         }";
        assert_eq!(opaque(text), ["v5"]);
    }

    #[test]
    fn no_load_is_opaque_without_a_constant_store() {
        let text = "function f @0x0 {
         block0:
             v0 = read_reg.i64 %a
             v1 = iconst.i64 0x8
             v2 = iadd.i64 v0, v1
             v3 = load.f64 v0
             store.f64 v2, v3
             v5 = load.f64 v2
             v8 = fdiv.f64 dyn v5, v3
             v11 = bitcast.i64 v8
             exit v11
         }";
        assert!(opaque(text).is_empty());
    }
}
