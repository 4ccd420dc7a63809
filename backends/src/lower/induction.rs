//! Host pointers that step through loops beside guest pointers.
//!
//! A guest pointer `p` that a loop header receives, and that every back
//! edge bumps by a small constant (`p + 4`), costs a mask before each
//! access off it (see [`super::memory`]). Instead the loop carries the
//! host address beside it: `q`, an extra header parameter, is the masked
//! `p` where the loop is entered and is bumped by the same constants on
//! the back edges, and an access `p + d` in the loop is `q + d`, unmasked.
//!
//! Why every such access stays inside the reservation: `q` starts inside
//! the guest space. In each iteration, some access `q + d` (with `|d|`
//! small) sits in a block every back edge comes through; it either faults
//! in a guard, which stops the guest, or finds `q + d` mapped, and nothing
//! but the guest space is. So when an iteration starts, `q` lies within a
//! few [`STEP_LIMIT`]s of the guest space, and every access off it lands
//! in the guest space or a guard ([`vmtrans_abi::GUEST_GUARD_BYTES`] is far
//! larger). `q` is the masked `p` for as long as `p` stays in the guest
//! space; a pointer that walks out of it faults, as on hardware (nothing
//! is mapped there), where the mask would have wrapped it around.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use vmtrans_ir::passes::loops::{Loop, LoopForest};
use vmtrans_ir::{Block, BlockCall, Function, Inst, Opcode, Terminator, Type, Value};

use cranelift_codegen::ir::{self as cl, types, InstBuilder};

use super::memory::{plus_constant, split_address};
use super::Lower;

/// Bound (inclusive) on the magnitude of a back-edge step and of the
/// displacement of an access through a host pointer.
const STEP_LIMIT: i64 = 1 << 20;

/// One guest pointer that gets a host pointer.
#[derive(Clone, Copy)]
pub(super) struct Pointer {
    /// The loop (index into [`LoopForest::loops`]).
    pub(super) lp: usize,
    /// Position among the header's extra Cranelift parameters.
    pub(super) slot: usize,
}

/// The guest pointers of a function that get host pointers.
#[derive(Default)]
pub(super) struct HostPointers {
    /// Per loop header: the positions of its parameters that get one, in
    /// the order of the extra Cranelift parameters.
    pub(super) headers: HashMap<Block, Vec<usize>>,
    /// Per guest pointer (a header parameter).
    pub(super) pointers: HashMap<Value, Pointer>,
}

impl HostPointers {
    /// Finds them in `f`; `opaque` loads (see [`super::opaque`]) keep their
    /// masked access and so cannot be the access that bounds a pointer.
    pub(super) fn find(f: &Function, forest: &LoopForest, opaque: &HashSet<Inst>) -> HostPointers {
        let mut out = HostPointers::default();
        for (lp, l) in forest.loops.iter().enumerate() {
            let Some(edges) = edges_into(f, l) else {
                continue;
            };
            let bounded = bounded_bases(f, forest, l, opaque);
            let params = &f.block(l.header).params;
            let chosen: Vec<usize> = (0..params.len())
                .filter(|&i| {
                    let p = params[i];
                    f.value_type(p) == Type::I64
                        && bounded.contains(&p)
                        && edges
                            .iter()
                            .filter(|(latch, _)| *latch)
                            .all(|(_, call)| back_edge_step(f, p, call.args[i]).is_some())
                })
                .collect();
            for (slot, &i) in chosen.iter().enumerate() {
                out.pointers.insert(params[i], Pointer { lp, slot });
            }
            if !chosen.is_empty() {
                out.headers.insert(l.header, chosen);
            }
        }
        out
    }
}

/// How much a back edge passing `arg` for header parameter `p` bumps it:
/// `arg` is `p` or `p + c` with `|c|` at most [`STEP_LIMIT`].
pub(super) fn back_edge_step(f: &Function, p: Value, arg: Value) -> Option<i64> {
    if arg == p {
        return Some(0);
    }
    plus_constant(f, arg).and_then(|(x, c)| (x == p && c.abs() <= STEP_LIMIT).then_some(c))
}

/// The branches into `l`'s header, each with whether it is a back edge;
/// `None` when one is not a jump or two-way branch (only those pass the
/// extra arguments; see [`super::Lower::dest`]).
fn edges_into<'f>(f: &'f Function, l: &Loop) -> Option<Vec<(bool, &'f BlockCall)>> {
    let mut edges = Vec::new();
    for pred in f.preds(l.header) {
        let term = f.block(pred).term.as_ref()?;
        if !matches!(term, Terminator::Jump(_) | Terminator::Brif { .. }) {
            return None;
        }
        edges.extend(
            term.dests()
                .into_iter()
                .filter(|call| call.block == l.header)
                .map(|call| (l.contains(pred), call)),
        );
    }
    Some(edges)
}

/// The bases of the accesses `base + d` (`|d|` at most [`STEP_LIMIT`]) in
/// blocks of `l` that every back edge comes through: accesses made in
/// every iteration.
fn bounded_bases(
    f: &Function,
    forest: &LoopForest,
    l: &Loop,
    opaque: &HashSet<Inst>,
) -> HashSet<Value> {
    let latches = l.latches(f);
    let mut bases = HashSet::default();
    for b in l.blocks() {
        if !latches.iter().all(|&latch| forest.dominates(b, latch)) {
            continue;
        }
        for &inst in &f.block(b).insts {
            if let Some((base, d)) = access_address(f, inst, opaque) {
                if i64::from(d).abs() <= STEP_LIMIT {
                    bases.insert(base);
                }
            }
        }
    }
    bases
}

/// The base and displacement of guest access `inst`, when it is a plain
/// load or store (the accesses lowered through
/// `Lower::host_addr_disp`).
fn access_address(f: &Function, inst: Inst, opaque: &HashSet<Inst>) -> Option<(Value, i32)> {
    let d = f.inst(inst);
    match d.op {
        Opcode::Load if !opaque.contains(&inst) => Some(split_address(f, d.args[0])),
        Opcode::Store => Some(split_address(f, d.args[0])),
        _ => None,
    }
}

/// True when an access at displacement `d` off a host pointer stays
/// within the bound the argument above needs.
pub(super) fn fits(d: i32) -> bool {
    i64::from(d).abs() <= STEP_LIMIT
}

impl Lower<'_> {
    /// Finds the function's host pointers and gives their loop headers the
    /// extra Cranelift parameters that carry them.
    pub(super) fn add_host_pointers(&mut self) {
        let Some(forest) = &self.loops else {
            return;
        };
        self.host_pointers = HostPointers::find(self.f, forest, &self.opaque_loads);
        for (&header, chosen) in &self.host_pointers.headers {
            let cb = self.block(header);
            let params = chosen
                .iter()
                .map(|_| self.b.append_block_param(cb, types::I64))
                .collect();
            self.pointer_params.insert(header, params);
        }
    }

    /// The host pointer an access `x + d` in the block being lowered goes
    /// through, if `x` has one there.
    pub(super) fn loop_host_pointer(&self, x: Value, d: i32) -> Option<cl::Value> {
        let ptr = self.host_pointers.pointers.get(&x)?;
        let l = &self.loops.as_ref()?.loops[ptr.lp];
        let inside = self.current_block.is_some_and(|b| l.contains(b));
        (inside && fits(d)).then(|| self.pointer_params[&l.header][ptr.slot])
    }

    /// The host pointers a branch from the block being lowered passes to
    /// `call`'s block: bumped like their guest pointers on a back edge,
    /// computed from the guest pointers where the loop is entered.
    pub(super) fn host_pointer_args(&mut self, call: &BlockCall) -> Vec<cl::Value> {
        let Some(chosen) = self.host_pointers.headers.get(&call.block).cloned() else {
            return Vec::new();
        };
        let header = call.block;
        let params = &self.f.block(header).params;
        let lp = self.host_pointers.pointers[&params[chosen[0]]].lp;
        let back = self
            .current_block
            .zip(self.loops.as_ref())
            .is_some_and(|(from, forest)| forest.loops[lp].contains(from));
        let mut args = Vec::with_capacity(chosen.len());
        for (slot, &i) in chosen.iter().enumerate() {
            let (p, arg) = (self.f.block(header).params[i], call.args[i]);
            let q = if back {
                let step = back_edge_step(self.f, p, arg)
                    .expect("every back edge bumps a chosen pointer by a constant");
                let q = self.pointer_params[&header][slot];
                if step == 0 {
                    q
                } else {
                    self.b.ins().iadd_imm_s(q, step)
                }
            } else {
                self.entry_host_pointer(arg)
            };
            args.push(q);
        }
        args
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use vmtrans_ir::{Imm, RegFile};

    use super::*;

    fn op(f: &mut Function, b: Block, op: Opcode, args: &[Value], imm: Imm) -> Option<Value> {
        let rt = op.sig().result_type(Type::I64);
        let inst = f.create_inst(op, Type::I64, args.to_vec(), imm, rt);
        f.append_inst(b, inst);
        f.inst(inst).result
    }

    fn plus(f: &mut Function, b: Block, x: Value, c: i64) -> Value {
        let c = op(f, b, Opcode::Iconst, &[], Imm::Int(c as u64 as u128)).unwrap();
        op(f, b, Opcode::Iadd, &[x, c], Imm::None).unwrap()
    }

    /// A loop over four pointers: `every` is loaded off in the header (each
    /// iteration) and bumped by 8; `sometimes` only in a block the back
    /// edge can bypass; `reloaded` in the header, but its next value is
    /// loaded; `far` in the header, bumped by more than the step limit.
    fn four_pointer_loop() -> (Function, [Value; 4]) {
        let regs = Arc::new(RegFile::new("r", [("pc".to_string(), Type::I64)]));
        let mut f = Function::new("loop", 0x1000, regs);
        let (entry, header, side, latch) =
            (f.add_block(), f.add_block(), f.add_block(), f.add_block());
        let ps: Vec<Value> = (0..4)
            .map(|_| f.add_block_param(header, Type::I64))
            .collect();
        let zero = op(&mut f, entry, Opcode::Iconst, &[], Imm::Int(0)).unwrap();
        f.set_terminator(
            entry,
            Terminator::Jump(BlockCall {
                block: header,
                args: vec![zero; 4],
            }),
        );
        let (every, sometimes, reloaded, far) = (ps[0], ps[1], ps[2], ps[3]);
        let at = plus(&mut f, header, every, 16);
        let x = op(&mut f, header, Opcode::Load, &[at], Imm::None).unwrap();
        let next_reloaded = op(&mut f, header, Opcode::Load, &[reloaded], Imm::None).unwrap();
        op(&mut f, header, Opcode::Load, &[far], Imm::None);
        let cond = op(
            &mut f,
            header,
            Opcode::Icmp,
            &[x, zero],
            Imm::Cc(vmtrans_ir::IntCC::Eq),
        );
        f.set_terminator(
            header,
            Terminator::Brif {
                cond: cond.unwrap(),
                then_dest: BlockCall::new(side),
                else_dest: BlockCall::new(latch),
            },
        );
        op(&mut f, side, Opcode::Store, &[sometimes, x], Imm::None);
        f.set_terminator(side, Terminator::Jump(BlockCall::new(latch)));
        let next = [
            plus(&mut f, latch, every, 8),
            plus(&mut f, latch, sometimes, 8),
            next_reloaded,
            plus(&mut f, latch, far, STEP_LIMIT + 8),
        ];
        f.set_terminator(
            latch,
            Terminator::Jump(BlockCall {
                block: header,
                args: next.to_vec(),
            }),
        );
        (f, [every, sometimes, reloaded, far])
    }

    #[test]
    fn only_pointers_accessed_every_iteration_and_bumped_by_constants_get_one() {
        let (f, [every, sometimes, reloaded, far]) = four_pointer_loop();
        vmtrans_ir::verify::verify_function(&f).expect("the loop verifies");
        let order: Vec<Block> = f.layout().to_vec();
        let forest = LoopForest::new(&f, &order).expect("an entry");
        let found = HostPointers::find(&f, &forest, &HashSet::default());
        assert!(found.pointers.contains_key(&every));
        for p in [sometimes, reloaded, far] {
            assert!(!found.pointers.contains_key(&p), "{p} gets no host pointer");
        }
        assert_eq!(found.headers.values().map(Vec::len).sum::<usize>(), 1);
    }
}
