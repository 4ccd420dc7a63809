//! Constant folding, algebraic identities and branch folding.
//!
//! Ops whose operands are all constants are evaluated with the interpreter
//! ([`eval_pure`]) and become constants, so folding can never disagree with
//! execution. Identities (`x + 0`, `x * 1`, `x & 0`, `x ^ x`, `x / 0`,
//! flags of `x + 0`, `select` on a constant, ...) replace an op by one of its operands or a constant;
//! a vector lane read back from the `vinsert` that wrote it is the inserted
//! value (a bitcast of it when read as another type of that width). A
//! `brif`/`switch` on a constant becomes a `jump`.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::function::{Block, Function, Inst, Terminator, Value};
use crate::interp::{effect_of, eval_pure};
use crate::ops::{FloatCC, Imm, IntCC, Opcode};
use crate::types::Type;

use super::known_bits::known_zero_bits;
use super::util::{reverse_post_order, Subst};
use super::Pass;

/// The constant-folding pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct ConstFold;

impl Pass for ConstFold {
    fn name(&self) -> &'static str {
        "const_fold"
    }

    fn run(&self, f: &mut Function) -> bool {
        let mut st = Folder {
            known_zero: known_zero_bits(f),
            ..Folder::default()
        };
        let mut changed = false;
        for b in reverse_post_order(f) {
            for inst in f.block(b).insts.clone() {
                changed |= st.visit(f, inst);
            }
            changed |= fold_terminator(f, b, &st);
        }
        let dead = std::mem::take(&mut st.dead);
        changed |= st.subst.apply(f);
        if !dead.is_empty() {
            for b in f.layout().to_vec() {
                f.block_insts_mut(b).retain(|i| !dead.contains(i));
            }
        }
        changed
    }
}

/// What the folder knows so far.
#[derive(Default)]
struct Folder {
    consts: HashMap<Value, u128>,
    /// Known-zero bits of integer values ([`known_zero_bits`]).
    known_zero: HashMap<Value, u128>,
    subst: Subst,
    /// Instructions replaced by an operand (now unused).
    dead: HashSet<Inst>,
}

/// What an identity turns an instruction into.
enum Simplified {
    Value(Value),
    Const(u128),
    /// The op becomes a `bitcast` of this value (another type, same width).
    Bitcast(Value),
    /// The op becomes `fcmp.ty cc a, b`.
    Fcmp {
        cc: FloatCC,
        ty: Type,
        a: Value,
        b: Value,
    },
}

impl Folder {
    fn constant(&self, v: Value) -> Option<u128> {
        self.consts.get(&self.subst.resolve(v)).copied()
    }

    /// True when `args` of a `band` are a constant and a value known to be
    /// zero in all of its bits (`(x & !FZ) & FZ`, also after a loop carried
    /// `x & !FZ` around).
    fn tests_known_zeros(&self, args: &[Value]) -> bool {
        let [a, b] = args else {
            return false;
        };
        let zeros = |v: Value| self.known_zero.get(&v).copied().unwrap_or(0);
        let covers = |x: Value, c: Value| self.constant(c).is_some_and(|c| zeros(x) & c == c);
        covers(*a, *b) || covers(*b, *a)
    }

    /// Folds or simplifies one instruction; true when it changed.
    fn visit(&mut self, f: &mut Function, inst: Inst) -> bool {
        let d = f.inst(inst);
        let Some(result) = d.result else {
            return false;
        };
        if let (Opcode::Iconst | Opcode::Fconst | Opcode::Vconst, Imm::Int(bits)) = (d.op, d.imm) {
            self.consts.insert(result, bits);
            return false;
        }
        if effect_of(d.op).is_some() {
            return false;
        }
        let args: Vec<Value> = d.args.iter().map(|&a| self.subst.resolve(a)).collect();
        let types: Vec<Type> = args.iter().map(|&a| f.value_type(a)).collect();
        let consts: Option<Vec<u128>> = args.iter().map(|&a| self.constant(a)).collect();
        let folded = consts.and_then(|c| eval_pure(d.op, d.ty, &d.imm, &c, &types));
        let simplified = match folded {
            Some(bits) => Some(Simplified::Const(bits)),
            None => self
                .identity(f, inst, &args)
                .or_else(|| self.look_through(f, inst, &args)),
        };
        match simplified {
            Some(Simplified::Const(bits)) => {
                make_const(f, inst, bits);
                self.consts.insert(result, bits);
                true
            }
            Some(Simplified::Value(v)) if self.subst.replace(result, v) => {
                self.dead.insert(inst);
                true
            }
            Some(Simplified::Bitcast(v)) => {
                let d = f.inst_mut(inst);
                d.op = Opcode::Bitcast;
                d.args = vec![v];
                d.imm = Imm::None;
                true
            }
            Some(Simplified::Fcmp { cc, ty, a, b }) => {
                let d = f.inst_mut(inst);
                d.op = Opcode::Fcmp;
                d.ty = ty;
                d.args = vec![a, b];
                d.imm = Imm::Fcc(cc);
                true
            }
            Some(Simplified::Value(_)) | None => false,
        }
    }

    /// Algebraic identities on integer ops.
    fn identity(&self, f: &Function, inst: Inst, args: &[Value]) -> Option<Simplified> {
        let d = f.inst(inst);
        let ty = d.ty;
        if !ty.is_int() && d.op != Opcode::Select {
            return None;
        }
        let c = |i: usize| args.get(i).and_then(|&a| self.constant(a));
        let is = |i: usize, k: u128| c(i) == Some(k & ty.mask());
        let ones = ty.mask();
        let same = args.len() >= 2 && args[0] == args[1];
        let x = || Some(Simplified::Value(args[0]));
        let y = || Some(Simplified::Value(args[1]));
        let result_mask = f.value_type(d.result?).mask();
        let k = |v: u128| Some(Simplified::Const(v & result_mask));
        match d.op {
            Opcode::Iadd | Opcode::Bor | Opcode::Bxor if is(1, 0) => x(),
            Opcode::Iadd | Opcode::Bor | Opcode::Bxor if is(0, 0) => y(),
            Opcode::Isub | Opcode::BandNot if is(1, 0) => x(),
            Opcode::Isub | Opcode::Bxor | Opcode::BandNot if same => k(0),
            Opcode::Imul if is(1, 1) => x(),
            Opcode::Imul if is(0, 1) => y(),
            Opcode::Imul | Opcode::Band if is(0, 0) || is(1, 0) => k(0),
            Opcode::BandNot if is(0, 0) => k(0),
            Opcode::Band if self.tests_known_zeros(args) => k(0),
            Opcode::Band if is(1, ones) => x(),
            Opcode::Band if is(0, ones) => y(),
            Opcode::Bor if is(0, ones) || is(1, ones) => k(ones),
            Opcode::Band
            | Opcode::Bor
            | Opcode::Umin
            | Opcode::Umax
            | Opcode::Smin
            | Opcode::Smax
                if same =>
            {
                x()
            }
            Opcode::Udiv | Opcode::Sdiv if is(1, 1) => x(),
            Opcode::Urem | Opcode::Srem if is(1, 1) => k(0),
            Opcode::Udiv | Opcode::Sdiv if is(1, 0) => k(0),
            Opcode::Urem | Opcode::Srem if is(1, 0) => x(),
            Opcode::UaddOverflow | Opcode::SaddOverflow if is(0, 0) || is(1, 0) => k(0),
            Opcode::UsubOverflow | Opcode::SsubOverflow if is(1, 0) => k(0),
            Opcode::Ishl | Opcode::Ushr | Opcode::Sshr | Opcode::Rotl | Opcode::Rotr => {
                let amount = c(1).map(|a| a % u128::from(ty.bits()));
                match (amount, c(0)) {
                    (Some(0), _) => x(),
                    (_, Some(0)) => k(0),
                    _ => None,
                }
            }
            Opcode::UsubOverflow | Opcode::SsubOverflow if same => k(0),
            Opcode::Icmp if same => k(u128::from(compare_self(d.imm))),
            Opcode::Select => match c(0) {
                Some(1) => Some(Simplified::Value(args[1])),
                Some(_) => Some(Simplified::Value(args[2])),
                None if args[1] == args[2] => Some(Simplified::Value(args[1])),
                None => None,
            },
            _ => None,
        }
    }

    /// A lane read back from the `vinsert` that wrote it (past inserts into
    /// other lanes of the same width). Lifters produce such pairs for every
    /// scalar FP op on a vector register file (aarch64 `d0`, x86 `xmm0`).
    fn look_through(&self, f: &Function, inst: Inst, args: &[Value]) -> Option<Simplified> {
        let d = f.inst(inst);
        match d.op {
            Opcode::Vextract => self.inserted_lane(f, d.ty, d.imm, args[0]),
            Opcode::Bor | Opcode::Band | Opcode::Bxor if d.ty == Type::I1 => {
                self.merged_float_compare(f, inst)
            }
            _ => None,
        }
    }

    /// A logic op on float compares of the same operands as one compare
    /// (or a constant), when the outcomes it accepts make a condition.
    /// x86 `ucomisd` sets CF, ZF and PF from three compares, and `ja`
    /// reads `!(CF | ZF)`: ordered greater.
    fn merged_float_compare(&self, f: &Function, inst: Inst) -> Option<Simplified> {
        let result = f.inst(inst).result?;
        let set = self.float_outcomes(f, result, FLOAT_LOGIC_DEPTH)?;
        match set.accepted {
            0 => return Some(Simplified::Const(0)),
            ALL_OUTCOMES => return Some(Simplified::Const(1)),
            _ => {}
        }
        let (cc, swap) = FloatOutcomes::condition(set.accepted)?;
        let (a, b) = if swap { (set.b, set.a) } else { (set.a, set.b) };
        Some(Simplified::Fcmp {
            cc,
            ty: set.ty,
            a,
            b,
        })
    }

    /// The outcomes of comparing one pair of floats for which the `i1`
    /// value `v` is true, through up to `depth` logic ops.
    fn float_outcomes(&self, f: &Function, v: Value, depth: u32) -> Option<FloatOutcomes> {
        let v = self.subst.resolve(v);
        let d = f.defining_inst(v)?;
        if d.op == Opcode::Fcmp {
            let Imm::Fcc(cc) = d.imm else { return None };
            let a = self.subst.resolve(d.args[0]);
            let b = self.subst.resolve(d.args[1]);
            return Some(FloatOutcomes {
                a,
                b,
                ty: d.ty,
                accepted: FloatOutcomes::of(cc),
            });
        }
        let is_logic = matches!(d.op, Opcode::Bor | Opcode::Band | Opcode::Bxor);
        if depth == 0 || d.ty != Type::I1 || !is_logic {
            return None;
        }
        let (x, y) = (d.args[0], d.args[1]);
        if d.op == Opcode::Bxor && (self.constant(x) == Some(1) || self.constant(y) == Some(1)) {
            let other = if self.constant(y) == Some(1) { x } else { y };
            let mut s = self.float_outcomes(f, other, depth - 1)?;
            s.accepted ^= ALL_OUTCOMES;
            return Some(s);
        }
        let sx = self.float_outcomes(f, x, depth - 1)?;
        let sy = self.float_outcomes(f, y, depth - 1)?.aligned_with(&sx)?;
        let accepted = match d.op {
            Opcode::Bor => sx.accepted | sy,
            Opcode::Band => sx.accepted & sy,
            Opcode::Bxor => sx.accepted ^ sy,
            _ => return None,
        };
        Some(FloatOutcomes { accepted, ..sx })
    }

    /// The value last inserted into lane `lane` (of lane type `ty`) of
    /// `vector`, following `vinsert`s of other lanes of the same width; a
    /// bitcast of it when it was inserted as another type of that width
    /// (x86 `movsd` loads a lane as `i64` that `mulsd` reads as `f64`).
    fn inserted_lane(
        &self,
        f: &Function,
        ty: Type,
        lane: Imm,
        vector: Value,
    ) -> Option<Simplified> {
        let mut v = vector;
        for _ in 0..LANE_CHAIN_DEPTH {
            let d = f.defining_inst(v)?;
            if d.op != Opcode::Vinsert || d.ty.bits() != ty.bits() {
                return None;
            }
            if d.imm == lane {
                let inserted = self.subst.resolve(d.args[1]);
                return Some(if d.ty == ty {
                    Simplified::Value(inserted)
                } else {
                    Simplified::Bitcast(inserted)
                });
            }
            v = self.subst.resolve(d.args[0]);
        }
        None
    }
}

/// How many `vinsert`s into other lanes [`Folder::inserted_lane`] looks
/// past.
const LANE_CHAIN_DEPTH: u32 = 16;

/// How many logic ops [`Folder::float_outcomes`] looks through.
const FLOAT_LOGIC_DEPTH: u32 = 6;

/// The outcomes of a float comparison, one bit each.
const LESS: u8 = 1;
const EQUAL: u8 = 2;
const GREATER: u8 = 4;
const UNORDERED: u8 = 8;
const ALL_OUTCOMES: u8 = 15;

/// An `i1` that is true for the `accepted` outcomes of comparing `a` with
/// `b` (floats of type `ty`).
#[derive(Clone, Copy)]
struct FloatOutcomes {
    a: Value,
    b: Value,
    ty: Type,
    accepted: u8,
}

impl FloatOutcomes {
    /// The outcomes a condition accepts.
    fn of(cc: FloatCC) -> u8 {
        match cc {
            FloatCC::Eq => EQUAL,
            FloatCC::Ne => LESS | GREATER | UNORDERED,
            FloatCC::Lt => LESS,
            FloatCC::Le => LESS | EQUAL,
            FloatCC::Gt => GREATER,
            FloatCC::Ge => GREATER | EQUAL,
            FloatCC::Ord => LESS | EQUAL | GREATER,
            FloatCC::Uno => UNORDERED,
        }
    }

    /// The outcomes of comparing `b` with `a` that `accepted` names for
    /// `a` with `b`.
    fn swapped(accepted: u8) -> u8 {
        let less = u8::from(accepted & LESS != 0) * GREATER;
        let greater = u8::from(accepted & GREATER != 0) * LESS;
        (accepted & (EQUAL | UNORDERED)) | less | greater
    }

    /// This set's outcomes restated for `other`'s operand order, when both
    /// compare the same pair.
    fn aligned_with(&self, other: &FloatOutcomes) -> Option<u8> {
        if self.ty != other.ty {
            return None;
        }
        if (self.a, self.b) == (other.a, other.b) {
            Some(self.accepted)
        } else if (self.a, self.b) == (other.b, other.a) {
            Some(Self::swapped(self.accepted))
        } else {
            None
        }
    }

    /// A condition accepting exactly `accepted`, and whether it compares
    /// the operands swapped.
    fn condition(accepted: u8) -> Option<(FloatCC, bool)> {
        const ALL: [FloatCC; 8] = [
            FloatCC::Eq,
            FloatCC::Ne,
            FloatCC::Lt,
            FloatCC::Le,
            FloatCC::Gt,
            FloatCC::Ge,
            FloatCC::Ord,
            FloatCC::Uno,
        ];
        let find = |set: u8| ALL.into_iter().find(|&cc| Self::of(cc) == set);
        find(accepted)
            .map(|cc| (cc, false))
            .or_else(|| find(Self::swapped(accepted)).map(|cc| (cc, true)))
    }
}

/// The value of `x cc x`.
fn compare_self(imm: Imm) -> bool {
    match imm {
        Imm::Cc(cc) => matches!(
            cc,
            IntCC::Eq | IntCC::Sle | IntCC::Sge | IntCC::Ule | IntCC::Uge
        ),
        _ => false,
    }
}

/// Rewrites `inst` into the constant `bits` of its result type.
fn make_const(f: &mut Function, inst: Inst, bits: u128) {
    let result = f.inst(inst).result.expect("folded op has a result");
    let ty = f.value_type(result);
    let op = if ty.is_float() {
        Opcode::Fconst
    } else if ty == Type::V128 {
        Opcode::Vconst
    } else {
        Opcode::Iconst
    };
    let d = f.inst_mut(inst);
    d.op = op;
    d.ty = ty;
    d.args.clear();
    d.imm = Imm::Int(bits & ty.mask());
}

/// Turns a branch on a constant (or with identical destinations) into a
/// jump.
fn fold_terminator(f: &mut Function, b: Block, st: &Folder) -> bool {
    let Some(term) = &f.block(b).term else {
        return false;
    };
    let dest = match term {
        Terminator::Brif {
            cond,
            then_dest,
            else_dest,
        } => match st.constant(*cond) {
            Some(c) if c & 1 == 1 => then_dest.clone(),
            Some(_) => else_dest.clone(),
            None if then_dest == else_dest => then_dest.clone(),
            None => return false,
        },
        Terminator::Switch {
            index,
            cases,
            default,
        } => match st.constant(*index) {
            Some(i) => cases
                .iter()
                .find(|(k, _)| u128::from(*k) == i)
                .map_or(default, |(_, d)| d)
                .clone(),
            None => return false,
        },
        Terminator::Jump(_)
        | Terminator::Call { .. }
        | Terminator::Return { .. }
        | Terminator::Exit { .. }
        | Terminator::Trap { .. } => return false,
    };
    f.set_terminator(b, Terminator::Jump(dest));
    true
}
