//! Float bit-pattern cleanups: NaN canonicalizations nobody observes, and
//! bitcast round trips.
//!
//! Lifters of guests with a canonical NaN (RISC-V) follow every float op
//! with `select(fcmp uno v v, NAN, v)`: the host's NaN has another sign and
//! payload. The payload only matters where the bits are seen: a store, a
//! register write, an integer bitcast that goes anywhere but back to float,
//! a branch argument. Where every use of the canonicalized value ignores the
//! payload — comparisons, classification, conversions to integer, or float
//! arithmetic whose own result is in turn unobserved or canonicalized — the
//! use takes `v` directly. Arithmetic on any quiet NaN yields a quiet NaN, so
//! such a use computes the same (a NaN is a NaN) and every NaN that reaches
//! an observer still passes through a canonicalization on the way.
//!
//! `bitcast(bitcast(x))` back to `x`'s type is `x` (guest float registers
//! are integer bits, so a float passed from one op to the next goes through
//! such a pair).

use rustc_hash::FxHashMap as HashMap;

use crate::function::{Function, Inst, Value, ValueDef};
use crate::{FloatCC, Imm, Opcode};

use super::util::Subst;
use super::Pass;

/// The float bit-pattern pass.
#[derive(Clone, Copy, Debug, Default)]
pub struct FloatBits;

impl Pass for FloatBits {
    fn name(&self) -> &'static str {
        "float_bits"
    }

    fn run(&self, f: &mut Function) -> bool {
        let round_trips = fold_bitcast_round_trips(f);
        let canon = drop_unobserved_canonicalizations(f);
        round_trips || canon
    }
}

fn defining(f: &Function, v: Value) -> Option<Inst> {
    match f.value(v).def {
        ValueDef::Result(i) => Some(i),
        ValueDef::Param(..) => None,
    }
}

/// Replaces `bitcast(bitcast(x))` of `x`'s own type by `x`.
fn fold_bitcast_round_trips(f: &mut Function) -> bool {
    let uses = Uses::compute(f);
    let mut subst = Subst::default();
    for &b in f.layout() {
        for &inst in &f.block(b).insts {
            let d = f.inst(inst);
            if d.op != Opcode::Bitcast {
                continue;
            }
            let (Some(result), Some(&arg)) = (d.result, d.args.first()) else {
                continue;
            };
            let Some(inner) = defining(f, arg).map(|i| f.inst(i)) else {
                continue;
            };
            let used = uses.by_inst.contains_key(&result) || uses.by_term[result.index()];
            if used && inner.op == Opcode::Bitcast && f.value_type(inner.args[0]) == d.ty {
                subst.replace(result, inner.args[0]);
            }
        }
    }
    subst.apply(f)
}

/// The value a NaN canonicalization `select(fcmp uno v v, NAN, v)` guards.
fn canonicalized(f: &Function, inst: Inst) -> Option<Value> {
    let d = f.inst(inst);
    if d.op != Opcode::Select || !d.ty.is_float() {
        return None;
    }
    let [cond, nan, v] = d.args[..] else {
        return None;
    };
    let c = f.inst(defining(f, cond)?);
    let is_unordered_self =
        c.op == Opcode::Fcmp && c.imm == Imm::Fcc(FloatCC::Uno) && c.args[..] == [v, v];
    let k = f.inst(defining(f, nan)?);
    let is_nan_const =
        k.op == Opcode::Fconst && matches!(k.imm, Imm::Int(bits) if is_nan(bits, d.ty.bits()));
    (is_unordered_self && is_nan_const).then_some(v)
}

fn is_nan(bits: u128, width: u32) -> bool {
    let (exp_mask, mant_mask) = match width {
        32 => (0x7f80_0000u128, 0x007f_ffffu128),
        64 => (0x7ff0_0000_0000_0000, 0x000f_ffff_ffff_ffff),
        _ => return false,
    };
    bits & exp_mask == exp_mask && bits & mant_mask != 0
}

/// Where each value is used: instruction uses, and whether a terminator
/// uses it.
struct Uses {
    by_inst: HashMap<Value, Vec<Inst>>,
    by_term: Vec<bool>,
}

impl Uses {
    fn compute(f: &Function) -> Uses {
        let mut uses = Uses {
            by_inst: HashMap::default(),
            by_term: vec![false; f.num_values()],
        };
        for &b in f.layout() {
            let data = f.block(b);
            for &inst in &data.insts {
                for &a in &f.inst(inst).args {
                    uses.by_inst.entry(a).or_default().push(inst);
                }
            }
            if let Some(t) = &data.term {
                for v in t.uses() {
                    uses.by_term[v.index()] = true;
                }
            }
        }
        uses
    }
}

/// Deepest chain of payload-transparent ops followed; past it a value
/// counts as observed.
const MAX_DEPTH: u32 = 32;

/// Decides, with memoization, whether anything observes a value's NaN
/// payload.
struct Observers<'a> {
    f: &'a Function,
    uses: &'a Uses,
    memo: HashMap<Value, bool>,
}

impl Observers<'_> {
    fn payload_unobserved(&mut self, v: Value, depth: u32) -> bool {
        if let Some(&known) = self.memo.get(&v) {
            return known;
        }
        let uses = self.uses;
        let answer = depth < MAX_DEPTH
            && !uses.by_term[v.index()]
            && uses
                .by_inst
                .get(&v)
                .is_none_or(|insts| insts.iter().all(|&i| self.ignores(i, v, depth)));
        self.memo.insert(v, answer);
        answer
    }

    /// True when instruction `inst`, using `v`, does not let `v`'s NaN
    /// payload be seen.
    fn ignores(&mut self, inst: Inst, v: Value, depth: u32) -> bool {
        let d = self.f.inst(inst);
        if canonicalized(self.f, inst) == Some(v) {
            // Any NaN comes out as the canonical one.
            return true;
        }
        match d.op {
            Opcode::Fcmp | Opcode::Fclass | Opcode::FcvtToSint | Opcode::FcvtToUint => true,
            // The sign of the NaN becomes the sign of the result.
            Opcode::Fcopysign if d.args.get(1) == Some(&v) => false,
            Opcode::Select
            | Opcode::Bitcast
            | Opcode::Fneg
            | Opcode::Fabs
            | Opcode::Fsqrt
            | Opcode::Fround
            | Opcode::Fadd
            | Opcode::Fsub
            | Opcode::Fmul
            | Opcode::Fdiv
            | Opcode::Fma
            | Opcode::Fmin
            | Opcode::Fmax
            | Opcode::Fminnum
            | Opcode::Fmaxnum
            | Opcode::Fcopysign
            | Opcode::Fconvert => d
                .result
                .is_some_and(|r| self.payload_unobserved(r, depth + 1)),
            _ => false,
        }
    }
}

/// Lets the uses of each canonicalization that ignore NaN payloads take
/// the raw value.
fn drop_unobserved_canonicalizations(f: &mut Function) -> bool {
    let uses = Uses::compute(f);
    let mut observers = Observers {
        f,
        uses: &uses,
        memo: HashMap::default(),
    };
    let mut subst = Subst::default();
    for &b in f.layout() {
        for &inst in &f.block(b).insts {
            let Some(raw) = canonicalized(f, inst) else {
                continue;
            };
            let Some(result) = f.inst(inst).result else {
                continue;
            };
            // A result nothing uses is left to DCE (replacing it would
            // report a change forever).
            let used = uses.by_inst.contains_key(&result) || uses.by_term[result.index()];
            if used && observers.payload_unobserved(result, 0) {
                subst.replace(result, raw);
            }
        }
    }
    subst.apply(f)
}
