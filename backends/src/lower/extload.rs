//! Extending guest loads: a guest load of 8, 16 or 32 bits whose only use
//! zero- or sign-extends it is emitted as Cranelift's extending load
//! (`uload8`, `sload16`, …: one `movzx`/`movsx` from memory), and the
//! extension itself lowers to nothing. Cranelift merges a load into an
//! extension only from 32 bits up, so without this every `lbu`/`ldrb`/
//! `movzx` from memory cost a load and a second, register `movzx`.
//!
//! Likewise a 32- or 64-bit load whose only use reinterprets it as a float
//! (`bitcast.f64 (load.i64 a)`: how the frontends read a float register's
//! bits from memory) is emitted as a float load, straight into a vector
//! register (`movsd`), and the `bitcast` lowers to nothing; otherwise it
//! would be a `mov` to a general register and a `movq` across.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use vmtrans_ir::{Function, Inst, Opcode, Type, Value, ValueDef};

/// The loads to emit extended (or as floats) and the extensions (or
/// bitcasts) they absorb.
#[derive(Default)]
pub(super) struct ExtendingLoads {
    /// Per load: sign-extending, and the type it extends to.
    loads: HashMap<Inst, (bool, Type)>,
    /// Per load: the float type to load instead.
    float_loads: HashMap<Inst, Type>,
    /// The extensions and bitcasts whose operand already has their result.
    absorbed: HashSet<Inst>,
}

impl ExtendingLoads {
    /// Finds them in `f`; `opaque` loads (see [`super::opaque`]) keep their
    /// own lowering.
    pub(super) fn find(f: &Function, opaque: &HashSet<Inst>) -> ExtendingLoads {
        let uses = use_counts(f);
        let mut out = ExtendingLoads::default();
        for &b in f.layout() {
            for &ext in &f.block(b).insts {
                let d = f.inst(ext);
                let Some(&arg) = d.args.first() else {
                    continue;
                };
                let ValueDef::Result(load) = f.value(arg).def else {
                    continue;
                };
                let is_plain_load = f.inst(load).op == Opcode::Load && !opaque.contains(&load);
                if !is_plain_load || uses[arg.index()] != 1 {
                    continue;
                }
                let from = f.value_type(arg);
                match d.op {
                    Opcode::Uext | Opcode::Sext if extends_in_memory(from, d.ty) => {
                        out.loads.insert(load, (d.op == Opcode::Sext, d.ty));
                    }
                    Opcode::Bitcast if d.ty.is_float() && from.is_int() => {
                        out.float_loads.insert(load, d.ty);
                    }
                    _ => continue,
                }
                out.absorbed.insert(ext);
            }
        }
        out
    }

    /// How load `inst` extends its value, if it is one of them.
    pub(super) fn extension(&self, inst: Inst) -> Option<(bool, Type)> {
        self.loads.get(&inst).copied()
    }

    /// The float type load `inst` is emitted as, if it is one of them.
    pub(super) fn float_type(&self, inst: Inst) -> Option<Type> {
        self.float_loads.get(&inst).copied()
    }

    /// True when extension or bitcast `inst` receives a value that already
    /// has its result.
    pub(super) fn absorbs(&self, inst: Inst) -> bool {
        self.absorbed.contains(&inst)
    }
}

/// True when x86_64 has a load of `from` extended to `to` (Cranelift's
/// `uload8`/`sload8` to i32 or i64, `uload16`/`sload16` likewise,
/// `uload32`/`sload32` to i64).
fn extends_in_memory(from: Type, to: Type) -> bool {
    matches!(
        (from, to),
        (Type::I8 | Type::I16, Type::I32 | Type::I64) | (Type::I32, Type::I64)
    )
}

/// How many times each value is used, by instructions and terminators.
fn use_counts(f: &Function) -> Vec<u32> {
    let mut counts = vec![0u32; f.num_values()];
    let mut count = |v: Value| counts[v.index()] += 1;
    for &b in f.layout() {
        let data = f.block(b);
        for &inst in &data.insts {
            f.inst(inst).args.iter().copied().for_each(&mut count);
        }
        if let Some(t) = &data.term {
            t.uses().into_iter().for_each(&mut count);
        }
    }
    counts
}
