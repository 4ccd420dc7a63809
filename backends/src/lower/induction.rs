//! Host pointers that step through loops beside guest addresses.
//!
//! A guest address that steps through a loop costs a mask before each
//! access off it (see [`super::memory`]): a pointer `p` that the loop
//! header receives and every back edge bumps by a small constant (`p + 4`),
//! or a table indexed by such a counter (`base + (i << 2)`, `base` defined
//! before the loop; aarch64 and x86_64 address so). Instead the loop
//! carries the host address beside it: `q`, an extra header parameter, is
//! the masked address where the loop is entered and is bumped as the
//! address is on the back edges, and an access `p + d` in the loop is
//! `q + d`, unmasked.
//!
//! Why every such access stays inside the reservation: `q` starts inside
//! the guest space. In each iteration, some access `q + d` (with `|d|`
//! small) sits in a block every back edge comes through; it either faults
//! in a guard, which stops the guest, or finds `q + d` mapped, and nothing
//! but the guest space is. So when an iteration starts, `q` lies within a
//! few [`STEP_LIMIT`]s of the guest space, and every access off it lands
//! in the guest space or a guard ([`vmtrans_abi::GUEST_GUARD_BYTES`] is far
//! larger). `q` is the masked address for as long as the address stays in
//! the guest space; one that walks out of it faults, as on hardware (nothing
//! is mapped there), where the mask would have wrapped it around.
//!
//! A plain pointer `p` (no base, no shift) of a loop entered by one edge
//! needs no `q` of its own: every back edge bumps `p` and `q` alike, so
//! inside the loop `q` is `p + offset`, with `offset = q - p` fixed on the
//! entering edge. An access `p + d` is then `offset + p + d`, which x86_64
//! addressing takes in one operand (`d(p, offset)`): the loop steps the
//! guest pointer alone, which its test and its exits need anyway.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use vmtrans_ir::passes::loops::{Loop, LoopForest};
use vmtrans_ir::{Block, BlockCall, Function, Inst, Opcode, Terminator, Type, Value};

use cranelift_codegen::ir::{self as cl, types, InstBuilder};

use super::memory::{plus_constant, split_address};
use super::Lower;

/// Bound (inclusive) on the magnitude of a back-edge step and of the
/// displacement of an access through a host pointer.
const STEP_LIMIT: i64 = 1 << 20;

/// An address that steps through a loop: `base + (index << shift)`, where
/// `index` is a header parameter every back edge bumps by a constant and
/// `base`, defined before the loop, is absent for a plain pointer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) struct Stepping {
    pub(super) base: Option<Value>,
    /// Position of `index` among the header's parameters.
    pub(super) index: usize,
    pub(super) shift: u8,
}

/// Where an address's host pointer is.
#[derive(Clone, Copy)]
pub(super) struct Pointer {
    /// The loop (index into [`LoopForest::loops`]).
    pub(super) lp: usize,
    /// Its slot: position among the loop's chosen addresses (and among the
    /// header's extra Cranelift parameters, for the ones the loop carries).
    pub(super) slot: usize,
}

/// The stepping addresses of a function that get host pointers.
#[derive(Default)]
pub(super) struct HostPointers {
    /// Per loop header: its loop (index into [`LoopForest::loops`]) and the
    /// addresses that get one, by slot.
    pub(super) headers: HashMap<Block, (usize, Vec<Stepping>)>,
    /// Per guest address value (a base the accesses add displacements to).
    pub(super) addresses: HashMap<Value, Pointer>,
    /// Per loop header: the host pointers it does not carry, which are
    /// their guest pointer plus an offset (see the module documentation),
    /// as pairs of the guest pointer's parameter position and the slot.
    offset_slots: HashMap<Block, Vec<(usize, usize)>>,
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
            let steps = parameter_steps(f, l, &edges);
            let mut found: Vec<(Value, Stepping)> = Vec::new();
            let mut bounded: HashSet<Stepping> = HashSet::default();
            for b in l.blocks() {
                let every_iteration = l.latches.iter().all(|&latch| forest.dominates(b, latch));
                for &inst in &f.block(b).insts {
                    let Some((x, d)) = access_address(f, inst, opaque) else {
                        continue;
                    };
                    let Some(key) = stepping(f, forest, l, &steps, x) else {
                        continue;
                    };
                    found.push((x, key));
                    if every_iteration && fits(d) {
                        bounded.insert(key);
                    }
                }
            }
            let mut chosen: Vec<Stepping> = Vec::new();
            for (x, key) in found.into_iter().filter(|(_, k)| bounded.contains(k)) {
                let slot = match chosen.iter().position(|&k| k == key) {
                    Some(slot) => slot,
                    None => {
                        chosen.push(key);
                        chosen.len() - 1
                    }
                };
                out.addresses.insert(x, Pointer { lp, slot });
            }
            if chosen.is_empty() {
                continue;
            }
            if edges.iter().filter(|(back, _)| !back).count() == 1 {
                let offset: Vec<(usize, usize)> = chosen
                    .iter()
                    .enumerate()
                    .filter(|(_, k)| k.base.is_none() && k.shift == 0)
                    .map(|(slot, k)| (k.index, slot))
                    .collect();
                if !offset.is_empty() {
                    out.offset_slots.insert(l.header, offset);
                }
            }
            out.headers.insert(l.header, (lp, chosen));
        }
        out
    }

    /// The slot of the host pointer of the guest pointer that is parameter
    /// `index` of `block`, when the loop does not carry it (it is the guest
    /// pointer plus an offset).
    pub(super) fn offset_slot(&self, block: Block, index: usize) -> Option<usize> {
        self.offset_slots
            .get(&block)?
            .iter()
            .find(|&&(i, _)| i == index)
            .map(|&(_, slot)| slot)
    }
}

/// Per I64 parameter of `l`'s header (by value): its position and the
/// largest bump of any back edge, for the parameters every back edge bumps
/// by a constant.
fn parameter_steps(
    f: &Function,
    l: &Loop,
    edges: &[(bool, &BlockCall)],
) -> HashMap<Value, (usize, i64)> {
    let params = &f.block(l.header).params;
    let mut steps = HashMap::default();
    for (i, &p) in params.iter().enumerate() {
        if f.value_type(p) != Type::I64 {
            continue;
        }
        let largest = edges
            .iter()
            .filter(|(back, _)| *back)
            .map(|(_, call)| back_edge_step(f, p, call.args[i]).map(i64::abs))
            .try_fold(0, |m, s| s.map(|s| m.max(s)));
        if let Some(largest) = largest {
            steps.insert(p, (i, largest));
        }
    }
    steps
}

/// The stepping address `x` is, if it is one whose steps stay within
/// [`STEP_LIMIT`]: a stepping parameter, or a value defined before the loop
/// plus a stepping parameter shifted left by 0 to 3.
fn stepping(
    f: &Function,
    forest: &LoopForest,
    l: &Loop,
    steps: &HashMap<Value, (usize, i64)>,
    x: Value,
) -> Option<Stepping> {
    let key = |base, index: Value, shift: u8| {
        let &(position, largest) = steps.get(&index)?;
        (largest << shift <= STEP_LIMIT).then_some(Stepping {
            base,
            index: position,
            shift,
        })
    };
    if steps.contains_key(&x) {
        return key(None, x, 0);
    }
    let d = f.defining_inst(x)?;
    if d.op != Opcode::Iadd || d.ty != Type::I64 {
        return None;
    }
    let before_loop = |v: Value| forest.def_block(f, v).is_some_and(|b| !l.contains(b));
    let scaled = |v: Value| -> Option<(Value, u8)> {
        if steps.contains_key(&v) {
            return Some((v, 0));
        }
        let s = f.defining_inst(v)?;
        let k = super::i64_constant(f, *s.args.get(1)?)?;
        (s.op == Opcode::Ishl && s.ty == Type::I64 && k <= 3).then_some((s.args[0], k as u8))
    };
    [(d.args[0], d.args[1]), (d.args[1], d.args[0])]
        .into_iter()
        .filter(|&(base, _)| before_loop(base))
        .find_map(|(base, other)| {
            let (index, shift) = scaled(other)?;
            key(Some(base), index, shift)
        })
}

/// How much a back edge passing `arg` for header parameter `p` bumps it:
/// `arg` is `p` or `p + c` with `|c|` at most [`STEP_LIMIT`].
fn back_edge_step(f: &Function, p: Value, arg: Value) -> Option<i64> {
    if arg == p {
        return Some(0);
    }
    plus_constant(f, arg)
        .and_then(|(x, c)| (x == p && c.unsigned_abs() <= STEP_LIMIT.unsigned_abs()).then_some(c))
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
                .filter(|call| call.block == l.header)
                .map(|call| (l.contains(pred), call)),
        );
    }
    Some(edges)
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
fn fits(d: i32) -> bool {
    i64::from(d).abs() <= STEP_LIMIT
}

impl Lower<'_> {
    /// Finds the function's host pointers and gives their loop headers the
    /// extra Cranelift parameters that carry the ones a loop steps.
    pub(super) fn add_host_pointers(&mut self) {
        let Some(forest) = &self.loops else {
            return;
        };
        self.host_pointers = HostPointers::find(self.f, forest, &self.opaque_loads);
        for (&header, (_, chosen)) in &self.host_pointers.headers {
            let cb = self.block(header);
            let params = chosen
                .iter()
                .enumerate()
                .map(|(slot, key)| {
                    let offset = self.host_pointers.offset_slot(header, key.index) == Some(slot);
                    (!offset).then(|| self.b.append_block_param(cb, types::I64))
                })
                .collect();
            self.pointer_params.insert(header, params);
        }
    }

    /// The host pointer an access `x + d` in the block being lowered goes
    /// through, if `x` has one there: the loop's parameter, or `x` plus
    /// the offset fixed where the loop is entered.
    pub(super) fn loop_host_pointer(&mut self, x: Value, d: i32) -> Option<cl::Value> {
        let ptr = *self.host_pointers.addresses.get(&x)?;
        let l = &self.loops.as_ref()?.loops[ptr.lp];
        let inside = self.current_block.is_some_and(|b| l.contains(b));
        if !(inside && fits(d)) {
            return None;
        }
        let header = l.header;
        if let Some(q) = self.pointer_params[&header][ptr.slot] {
            return Some(q);
        }
        let offset = self.pointer_offsets[&(header, ptr.slot)];
        let p = self.val(x);
        Some(self.b.ins().iadd(p, offset))
    }

    /// The host pointers a branch from the block being lowered passes to
    /// `call`'s block: bumped like their guest addresses on a back edge,
    /// computed from the guest values where the loop is entered. Where the
    /// loop is entered, also fixes the offsets of the ones it does not
    /// carry.
    pub(super) fn host_pointer_args(&mut self, call: &BlockCall) -> Vec<cl::Value> {
        let Some((lp, chosen)) = self.host_pointers.headers.get(&call.block).cloned() else {
            return Vec::new();
        };
        let back = self
            .current_block
            .zip(self.loops.as_ref())
            .is_some_and(|(from, forest)| forest.loops[lp].contains(from));
        let mut args = Vec::new();
        for (slot, &key) in chosen.iter().enumerate() {
            let carried = self.pointer_params[&call.block][slot].is_some();
            match (back, carried) {
                (true, true) => args.push(self.stepped_host_pointer(call, slot, key)),
                (true, false) => {}
                (false, true) => args.push(self.entering_host_pointer(call, key)),
                (false, false) => {
                    let q = self.entering_host_pointer(call, key);
                    let p = self.val(call.args[key.index]);
                    let offset = self.b.ins().isub(q, p);
                    self.pointer_offsets.insert((call.block, slot), offset);
                }
            }
        }
        args
    }

    /// A host pointer on a back edge: bumped as its address is.
    fn stepped_host_pointer(&mut self, call: &BlockCall, slot: usize, key: Stepping) -> cl::Value {
        let index = self.f.block(call.block).params[key.index];
        let step = back_edge_step(self.f, index, call.args[key.index])
            .expect("every back edge bumps a chosen index by a constant");
        let q = self.pointer_params[&call.block][slot].expect("a carried host pointer");
        match step << key.shift {
            0 => q,
            bump => self.b.ins().iadd_imm_s(q, bump),
        }
    }

    /// A host pointer where the loop is entered: the host address of the
    /// guest address the entering values make.
    fn entering_host_pointer(&mut self, call: &BlockCall, key: Stepping) -> cl::Value {
        let index = call.args[key.index];
        let Some(base) = key.base else {
            return self.host_addr_of(index);
        };
        let i = self.val(index);
        let scaled = match key.shift {
            0 => i,
            k => self.b.ins().ishl_imm_s(i, i64::from(k)),
        };
        let base = self.val(base);
        let addr = self.b.ins().iadd(base, scaled);
        self.host_addr(addr)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use vmtrans_ir::{Imm, IntCC, RegFile};

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
        assert!(found.addresses.contains_key(&every));
        for p in [sometimes, reloaded, far] {
            assert!(
                !found.addresses.contains_key(&p),
                "{p} gets no host pointer"
            );
        }
        let chosen: Vec<&Stepping> = found.headers.values().flat_map(|(_, c)| c).collect();
        assert_eq!(chosen.len(), 1);
        // One edge enters the loop: the plain pointer's host pointer is the
        // guest pointer plus an offset, not a parameter of its own.
        let header = f.layout()[1];
        assert_eq!(found.offset_slot(header, 0), Some(0));
    }

    #[test]
    fn a_loop_entered_by_two_edges_carries_its_host_pointers() {
        // The offset is fixed on the one entering edge; with two, each would
        // need its own, so the loop steps the host pointer as a parameter.
        let (mut f, [every, ..]) = four_pointer_loop();
        let (entry, header) = (f.layout()[0], f.layout()[1]);
        let other = f.add_block();
        let zero = op(&mut f, entry, Opcode::Iconst, &[], Imm::Int(0)).unwrap();
        let cond = op(
            &mut f,
            entry,
            Opcode::Icmp,
            &[zero, zero],
            Imm::Cc(IntCC::Eq),
        );
        let enter = || BlockCall {
            block: header,
            args: vec![zero; 4],
        };
        f.set_terminator(
            entry,
            Terminator::Brif {
                cond: cond.unwrap(),
                then_dest: enter(),
                else_dest: BlockCall::new(other),
            },
        );
        f.set_terminator(other, Terminator::Jump(enter()));
        vmtrans_ir::verify::verify_function(&f).expect("the loop verifies");
        let order: Vec<Block> = [entry, other, header, f.layout()[2], f.layout()[3]].to_vec();
        let forest = LoopForest::new(&f, &order).expect("an entry");
        let found = HostPointers::find(&f, &forest, &HashSet::default());
        assert!(found.addresses.contains_key(&every));
        assert_eq!(found.offset_slot(header, 0), None);
    }

    #[test]
    fn indexed_addresses_need_a_base_from_before_the_loop() {
        // `table + (i << 2)` with `table` defined before the loop gets a host
        // pointer; `(loaded) + (i << 2)`, whose base changes inside, none.
        let regs = Arc::new(RegFile::new("r", [("pc".to_string(), Type::I64)]));
        let mut f = Function::new("indexed", 0x1000, regs);
        let (entry, header) = (f.add_block(), f.add_block());
        let i = f.add_block_param(header, Type::I64);
        let at = op(&mut f, entry, Opcode::Iconst, &[], Imm::Int(0x4000)).unwrap();
        let table = op(&mut f, entry, Opcode::Load, &[at], Imm::None).unwrap();
        f.set_terminator(
            entry,
            Terminator::Jump(BlockCall {
                block: header,
                args: vec![table],
            }),
        );
        let two = op(&mut f, header, Opcode::Iconst, &[], Imm::Int(2)).unwrap();
        let scaled = op(&mut f, header, Opcode::Ishl, &[i, two], Imm::None).unwrap();
        let fixed = op(&mut f, header, Opcode::Iadd, &[table, scaled], Imm::None).unwrap();
        let loaded = op(&mut f, header, Opcode::Load, &[fixed], Imm::None).unwrap();
        let moving = op(&mut f, header, Opcode::Iadd, &[scaled, loaded], Imm::None).unwrap();
        op(&mut f, header, Opcode::Store, &[moving, loaded], Imm::None);
        let next = plus(&mut f, header, i, 1);
        f.set_terminator(
            header,
            Terminator::Jump(BlockCall {
                block: header,
                args: vec![next],
            }),
        );
        vmtrans_ir::verify::verify_function(&f).expect("the loop verifies");
        let forest = LoopForest::new(&f, &[entry, header]).expect("an entry");
        let found = HostPointers::find(&f, &forest, &HashSet::default());
        assert!(found.addresses.contains_key(&fixed));
        assert!(!found.addresses.contains_key(&moving));
        let (_, chosen) = &found.headers[&header];
        let expected = Stepping {
            base: Some(table),
            index: 0,
            shift: 2,
        };
        assert_eq!(chosen, &vec![expected]);
        // Only plain pointers are a guest pointer plus an offset.
        assert_eq!(found.offset_slot(header, 0), None);
    }
}
