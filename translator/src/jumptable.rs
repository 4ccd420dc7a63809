//! Jump-table resolution on the lifted IR, the same for every guest.
//!
//! The function is lifted and optimized (constant folding turns the table's
//! address arithmetic into constants), then the PC of the `exit` that ends
//! the indirect jump's block is matched as an expression over exactly one
//! `load` whose address is `table + index·stride` (`stride` = the load's
//! width). Each table entry is read from the image and put through the same
//! expression (the interpreter's pure evaluation), so absolute tables,
//! base-relative tables and masked targets all work without per-ISA
//! patterns. The entry count comes from the bounds check guarding the block
//! (`index <u N`, `index <=u N`, in either operand order), a mask of the
//! index, or the sized data symbol the table lives in; without any of them
//! the jump stays unresolved (the JIT finds its targets at run time). Every
//! target must land on code inside the function's symbol.

use rustc_hash::FxHashSet as HashSet;

use vmtrans_ir::interp::eval_pure;
use vmtrans_ir::passes::{optimize_function, OptLevel, OptOptions};
use vmtrans_ir::{Block, Function, Imm, IntCC, Opcode, Terminator, Type, Value, ValueDef};

use crate::discover::{self, IndirectJumpResolver, Resolution};
use crate::lift::lift_function_with_tables;
use crate::loader::GuestImage;
use crate::{Arch, Lifter};

/// Most entries read from one table.
const MAX_ENTRIES: u64 = 4096;

/// Resolves jump tables by lifting with a guest's [`Lifter`].
pub struct IrJumpTableResolver<'a> {
    lifter: &'a dyn Lifter,
}

impl<'a> IrJumpTableResolver<'a> {
    /// A resolver for the guest of `lifter`.
    pub fn new(lifter: &'a dyn Lifter) -> IrJumpTableResolver<'a> {
        IrJumpTableResolver { lifter }
    }
}

impl IndirectJumpResolver for IrJumpTableResolver<'_> {
    fn resolve(
        &self,
        image: &GuestImage,
        function: &discover::Function,
        sites: &[u64],
    ) -> Vec<Option<Resolution>> {
        let (mut f, _) = lift_function_with_tables(
            self.lifter,
            image,
            "jump_table_probe",
            function.entry,
            &function.block_ranges(),
            &function.jump_tables(),
        );
        let opts = OptOptions {
            verify_each: false,
            ..OptOptions::new(OptLevel::Basic)
        };
        if optimize_function(&mut f, &opts).is_err() {
            return vec![None; sites.len()];
        }
        let limit = function_limit(image, function);
        let mut fallback: Option<Option<Vec<u64>>> = None;
        sites
            .iter()
            .map(|&site| {
                resolve_site(&f, image, function, site, limit).or_else(|| {
                    let targets = fallback
                        .get_or_insert_with(|| pointer_table_targets(image, limit))
                        .clone()?;
                    Some(Resolution {
                        targets,
                        complete: false,
                    })
                })
            })
            .collect()
    }
}

/// The targets of the indirect jump at `site`, from the optimized IR `f` of
/// the function that contains it.
fn resolve_site(
    f: &Function,
    image: &GuestImage,
    function: &discover::Function,
    site: u64,
    limit: (u64, u64),
) -> Option<Resolution> {
    let block = function
        .blocks
        .iter()
        .find(|b| b.start <= site && site < b.end)?;
    // The builder's entry block carries the entry PC too, but only jumps.
    // A site resolved in part earlier is a switch (its cases keep the code
    // they reach in the probe: a dispatch loop only its own table enters).
    let (ir_block, pc) = f.layout().iter().find_map(|&b| {
        let data = f.block(b);
        match &data.term {
            Some(Terminator::Exit { pc }) | Some(Terminator::Switch { index: pc, .. })
                if data.guest_pc == Some(block.start) =>
            {
                Some((b, *pc))
            }
            _ => None,
        }
    })?;
    let table = TableExpr::find(f, pc, Params::Exact)
        .or_else(|| TableExpr::find(f, pc, Params::Optimistic));
    let table = table?;
    if table.constant_index {
        // The index is a constant on every path found so far (a dispatch
        // loop reached only through its own table): take the run of
        // entries that land on code in the function, and ask again when
        // the function has grown (its loop then bounds the index).
        let targets = table.leading_targets(f, image, limit)?;
        return Some(Resolution {
            targets,
            complete: false,
        });
    }
    // Two levels (glibc's printf): a byte table, bounded by the branch,
    // holds the indices into the table of targets. An index merely loaded
    // from memory (a struct field) looks the same, so one level is tried
    // when two do not work out.
    let two_levels = || {
        let inner =
            TableExpr::find(f, table.address, table.params).filter(|t| !t.constant_index)?;
        let count = entry_count(f, image, ir_block, &inner)?;
        table.targets_through(&inner, f, image, count, limit)
    };
    let one_level = || {
        let count = entry_count(f, image, ir_block, &table)?;
        table.targets(f, image, count, limit)
    };
    // A guessed table base gives a partial answer, asked again when the
    // function grows; so does a table without a bound yet, when the base
    // is guessed (as with a constant index, its loop is not found yet).
    // Entries read without a bound may be data: only where every aligned
    // address starts an instruction can they not split one.
    let guessed = table.params == Params::Optimistic;
    let (targets, complete) = match two_levels().or_else(one_level) {
        Some(targets) => (targets, !guessed),
        None if guessed && fixed_width(image.arch) => {
            (table.leading_targets(f, image, limit)?, false)
        }
        None => return None,
    };
    Some(Resolution { targets, complete })
}

/// For a jump the IR does not explain (aarch64 glibc's `vfprintf` keeps
/// its table base in a stack slot): the entries of every data object made
/// only of pointers to instructions inside `limit`, such a table being
/// the function's own. Partial: the switch built from them still exits to
/// the dispatcher for any other target.
fn pointer_table_targets(image: &GuestImage, limit: (u64, u64)) -> Option<Vec<u64>> {
    let align = instruction_alignment(image.arch);
    let points_inside =
        |t: u64| t >= limit.0 && t < limit.1 && t.is_multiple_of(align) && image.is_code(t);
    let mut targets: Vec<u64> = image
        .data_objects
        .iter()
        .filter(|r| r.end - r.start >= 16 && (r.end - r.start).is_multiple_of(8))
        .filter_map(|r| {
            let bytes = image.read(r.start, (r.end - r.start) as usize)?;
            let entries: Vec<u64> = bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
                .collect();
            entries.iter().all(|&t| points_inside(t)).then_some(entries)
        })
        .flatten()
        .collect();
    targets.sort_unstable();
    targets.dedup();
    (!targets.is_empty()).then_some(targets)
}

/// Whether every instruction of `arch` has the same length (any aligned
/// address inside code starts one).
fn fixed_width(arch: Arch) -> bool {
    matches!(arch, Arch::Aarch64)
}

/// The alignment every instruction of `arch` starts at.
fn instruction_alignment(arch: Arch) -> u64 {
    match arch {
        Arch::Aarch64 => 4,
        Arch::Riscv64 => 2,
        Arch::X86_64 => 1,
    }
}

/// How many entries `table` has: from the bounds check guarding `block`,
/// a mask of the index, or the data object the table lives in.
fn entry_count(f: &Function, image: &GuestImage, block: Block, table: &TableExpr) -> Option<u64> {
    bound(f, block, table.params, 0)
        .or_else(|| mask_bound(f, table.address, 0))
        .or_else(|| object_bound(image, table))
}

/// The address range a function's targets must stay in: its symbol's extent
/// when known, else its discovered extent.
fn function_limit(image: &GuestImage, function: &discover::Function) -> (u64, u64) {
    if let Some(sym) = image.symbol_at(function.entry) {
        if sym.addr == function.entry && sym.size > 0 {
            return (sym.addr, sym.addr + sym.size);
        }
    }
    let start = function.blocks.first().map_or(function.entry, |b| b.start);
    let end = function.blocks.last().map_or(function.entry, |b| b.end);
    (start, end)
}

/// `target = expr(load(table + index·stride))`.
struct TableExpr {
    root: Value,
    load: Value,
    /// The load's address value.
    address: Value,
    table: u64,
    stride: u64,
    width: Type,
    /// The whole address folded to a constant (`table` is the entry read).
    constant_index: bool,
    /// How block parameters in the expression are read.
    params: Params,
}

/// How the expression matcher reads a block parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Params {
    /// As an unknown value.
    Exact,
    /// As the constant all its constant incoming values agree on, ignoring
    /// the others: a table base set before a loop and kept in a register,
    /// also reachable from a path that never sets it (after a call to a
    /// function that does not return, such as `exit`). Only a guess, which
    /// is safe: the switch built from the targets still leaves through the
    /// dispatcher for any other value.
    Optimistic,
}

/// The constant `v` is under `params`: an `iconst`, or with
/// [`Params::Optimistic`] a block parameter whose constant incoming values
/// (through other parameters, around loops) all agree.
fn constant_under(f: &Function, v: Value, params: Params) -> Option<u128> {
    if let Some(c) = iconst_value(f, v) {
        return Some(c);
    }
    match params {
        Params::Exact => None,
        Params::Optimistic => agreed_constant(f, v, &mut HashSet::default()),
    }
}

/// The constant all constant values reaching parameter `v` agree on;
/// `seen` guards against cycles of parameters.
fn agreed_constant(f: &Function, v: Value, seen: &mut HashSet<Value>) -> Option<u128> {
    let ValueDef::Param(block, index) = f.value(v).def else {
        return None;
    };
    if !seen.insert(v) || seen.len() > 64 {
        return None;
    }
    let mut agreed = None;
    for p in f.preds(block) {
        let Some(term) = &f.block(p).term else {
            continue;
        };
        for d in term.dests().filter(|d| d.block == block) {
            let arg = *d.args.get(index as usize)?;
            let c = iconst_value(f, arg).or_else(|| agreed_constant(f, arg, seen));
            if let Some(c) = c {
                if agreed.is_some_and(|a| a != c) {
                    return None;
                }
                agreed = Some(c);
            }
        }
    }
    agreed
}

impl TableExpr {
    fn find(f: &Function, root: Value, params: Params) -> Option<TableExpr> {
        let mut loads = HashSet::default();
        collect_loads(f, root, params, &mut loads, 0)?;
        if loads.len() != 1 {
            return None;
        }
        let load = *loads.iter().next()?;
        let inst = f.defining_inst(load)?;
        let width = inst.ty;
        let address = inst.args[0];
        let (table, constant_index) = match constant_under(f, address, params) {
            Some(c) => (c as u64, true),
            None => (table_base(f, address, params)?, false),
        };
        Some(TableExpr {
            root,
            load,
            address,
            table,
            stride: u64::from(width.bytes()),
            width,
            constant_index,
            params,
        })
    }

    /// The targets of the entries from the first up to (not including) the
    /// first one that does not land inside `limit` on code.
    fn leading_targets(
        &self,
        f: &Function,
        image: &GuestImage,
        limit: (u64, u64),
    ) -> Option<Vec<u64>> {
        let targets: Vec<u64> = (0..MAX_ENTRIES)
            .map_while(|i| self.target(f, image, i, limit))
            .collect();
        (!targets.is_empty()).then_some(targets)
    }

    /// Entry `i`'s target, if it lands inside `limit` on code.
    fn target(&self, f: &Function, image: &GuestImage, i: u64, limit: (u64, u64)) -> Option<u64> {
        let at = self.table.checked_add(i * self.stride)?;
        let target = self.value_at(f, image, at)? as u64;
        lands_on_code(image, limit, target).then_some(target)
    }

    /// The expression's value when the load reads the entry at `at`.
    fn value_at(&self, f: &Function, image: &GuestImage, at: u64) -> Option<u128> {
        let bytes = image.read(at, self.stride as usize)?;
        let mut raw = [0u8; 16];
        raw.get_mut(..bytes.len())?.copy_from_slice(bytes);
        let entry = u128::from_le_bytes(raw) & self.width.mask();
        evaluate(f, self.root, self.load, entry, self.params, 0)
    }

    /// The targets when this table's address comes from `inner`'s `count`
    /// entries (each entry of `inner` selects one entry of this table);
    /// every target must land inside `limit` on code.
    fn targets_through(
        &self,
        inner: &TableExpr,
        f: &Function,
        image: &GuestImage,
        count: u64,
        limit: (u64, u64),
    ) -> Option<Vec<u64>> {
        all_targets(image, count, limit, |i| {
            let at = inner.value_at(f, image, inner.table.checked_add(i * inner.stride)?)?;
            Some(self.value_at(f, image, u64::try_from(at).ok()?)? as u64)
        })
    }

    /// Reads `count` entries and evaluates each target; every target must
    /// land inside `limit` on code.
    fn targets(
        &self,
        f: &Function,
        image: &GuestImage,
        count: u64,
        limit: (u64, u64),
    ) -> Option<Vec<u64>> {
        all_targets(image, count, limit, |i| self.target(f, image, i, limit))
    }
}

/// The targets `target_of(i)` for the first `count` entries (at most
/// [`MAX_ENTRIES`]), if every one lands inside `limit` on code.
fn all_targets(
    image: &GuestImage,
    count: u64,
    limit: (u64, u64),
    target_of: impl Fn(u64) -> Option<u64>,
) -> Option<Vec<u64>> {
    (0..count.min(MAX_ENTRIES))
        .map(|i| target_of(i).filter(|&t| lands_on_code(image, limit, t)))
        .collect::<Option<Vec<u64>>>()
        .filter(|t| !t.is_empty())
}

/// Whether `target` is inside `limit` and on code.
fn lands_on_code(image: &GuestImage, limit: (u64, u64), target: u64) -> bool {
    target >= limit.0 && target < limit.1 && image.is_code(target)
}

fn iconst_value(f: &Function, v: Value) -> Option<u128> {
    let inst = f.defining_inst(v)?;
    match (inst.op, inst.imm) {
        (Opcode::Iconst, Imm::Int(bits)) => Some(bits),
        _ => None,
    }
}

/// The table address in `address`: the sum of its constant terms, when the
/// sum (a tree of `iadd`) has exactly one non-constant term (the scaled
/// index).
fn table_base(f: &Function, address: Value, params: Params) -> Option<u64> {
    let mut constant = 0u64;
    let mut variable = 0;
    let mut stack = vec![address];
    while let Some(v) = stack.pop() {
        if let Some(c) = constant_under(f, v, params) {
            constant = constant.wrapping_add(c as u64);
            continue;
        }
        match f.defining_inst(v) {
            Some(inst) if inst.op == Opcode::Iadd && stack.len() < 16 => stack.extend(&inst.args),
            _ => variable += 1,
        }
    }
    (variable == 1).then_some(constant)
}

/// Loads reachable from `v` through pure ops; `None` when something else
/// (a register read, a block parameter) feeds the target.
fn collect_loads(
    f: &Function,
    v: Value,
    params: Params,
    loads: &mut HashSet<Value>,
    depth: u32,
) -> Option<()> {
    if depth > 16 {
        return None;
    }
    if constant_under(f, v, params).is_some() {
        return Some(());
    }
    let inst = f.defining_inst(v)?;
    match inst.op {
        Opcode::Load => {
            loads.insert(v);
            Some(())
        }
        Opcode::Iconst => Some(()),
        op if eval_pure_candidate(op) => inst
            .args
            .iter()
            .try_for_each(|&a| collect_loads(f, a, params, loads, depth + 1)),
        _ => None,
    }
}

fn eval_pure_candidate(op: Opcode) -> bool {
    matches!(
        op,
        Opcode::Iadd
            | Opcode::Isub
            | Opcode::Band
            | Opcode::Bor
            | Opcode::Bxor
            | Opcode::Ishl
            | Opcode::Ushr
            | Opcode::Sshr
            | Opcode::Sext
            | Opcode::Uext
            | Opcode::Ireduce
    )
}

/// Evaluates `v` with the table load replaced by `entry`.
fn evaluate(
    f: &Function,
    v: Value,
    load: Value,
    entry: u128,
    params: Params,
    depth: u32,
) -> Option<u128> {
    if v == load {
        return Some(entry);
    }
    if depth > 16 {
        return None;
    }
    if let Some(c) = constant_under(f, v, params) {
        return Some(c);
    }
    let inst = f.defining_inst(v)?;
    let args = inst
        .args
        .iter()
        .map(|&a| evaluate(f, a, load, entry, params, depth + 1))
        .collect::<Option<Vec<u128>>>()?;
    let types: Vec<Type> = inst.args.iter().map(|&a| f.value_type(a)).collect();
    eval_pure(inst.op, inst.ty, &inst.imm, &args, &types)
}

/// The number of entries that fit in the data object (from the symbol
/// table) the table starts in.
fn object_bound(image: &GuestImage, table: &TableExpr) -> Option<u64> {
    let object = image.data_object_at(table.table)?;
    Some((object.end - table.table) / table.stride)
}

/// The number of entries implied by masking the index (`index & (2^n - 1)`)
/// inside the table address computation.
fn mask_bound(f: &Function, v: Value, depth: u32) -> Option<u64> {
    if depth > 8 {
        return None;
    }
    let inst = f.defining_inst(v)?;
    match inst.op {
        Opcode::Band => {
            let k = inst.args.iter().find_map(|&a| iconst_value(f, a))?;
            let k = u64::try_from(k).ok()?;
            (k < MAX_ENTRIES && (k + 1).is_power_of_two()).then_some(k + 1)
        }
        Opcode::Iadd
        | Opcode::Ishl
        | Opcode::Imul
        | Opcode::Uext
        | Opcode::Sext
        | Opcode::Ireduce => inst.args.iter().find_map(|&a| mask_bound(f, a, depth + 1)),
        _ => None,
    }
}

/// The number of table entries from the bounds checks that guard `block`:
/// every path into it must pass a `brif` on `index <u N` / `index <=u N`
/// (either operand order, either branch), possibly through unconditional
/// jumps; the largest bound wins. With [`Params::Optimistic`], paths
/// without a bounds check are ignored when another has one (the path
/// after a call that does not return).
fn bound(f: &Function, block: Block, params: Params, depth: u32) -> Option<u64> {
    let preds = f.preds(block);
    if preds.is_empty() || depth > 3 {
        return None;
    }
    let mut bounds = preds.iter().map(|&pred| match &f.block(pred).term {
        Some(Terminator::Jump(_)) => bound(f, pred, params, depth + 1),
        Some(Terminator::Brif {
            cond,
            then_dest,
            else_dest,
        }) if then_dest.block != else_dest.block => {
            branch_bound(f, *cond, else_dest.block == block)
        }
        _ => None,
    });
    match params {
        Params::Exact => bounds.try_fold(0, |acc, b| b.map(|b| acc.max(b))),
        Params::Optimistic => bounds.flatten().max(),
    }
}

/// The entry count a compare proves on the branch taken (`negated`: the
/// else branch).
fn branch_bound(f: &Function, cond: Value, negated: bool) -> Option<u64> {
    let inst = f.defining_inst(cond)?;
    let Imm::Cc(cc) = inst.imm else {
        return None;
    };
    if inst.op != Opcode::Icmp {
        return None;
    }
    let (mut cc, k) = match (iconst_value(f, inst.args[0]), iconst_value(f, inst.args[1])) {
        (None, Some(k)) => (cc, k),
        (Some(k), None) => (cc.swapped(), k),
        _ => return None,
    };
    if negated {
        cc = cc.inverse();
    }
    let k = u64::try_from(k).ok()?;
    match cc {
        IntCC::Ult => Some(k),
        IntCC::Ule => k.checked_add(1),
        _ => None,
    }
}
