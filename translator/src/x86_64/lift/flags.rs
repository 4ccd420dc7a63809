//! The status flags: each is its own `i1` guest register computed by its
//! own ops, so the ones nobody reads are dead code. Condition codes are
//! computed from them.

use std::cell::Cell;

use iced_x86::ConditionCode;
use vmtrans_ir::{Block, IntCC, Type, Value};

use crate::x86_64::regs::{AF, CF, OF, PF, SF, ZF};
use crate::LiftCx;

/// An `i1` constant.
pub fn bool_const(cx: &mut LiftCx, v: bool) -> Value {
    cx.b.iconst(Type::I1, i128::from(v))
}

/// Logical not of an `i1`.
pub fn not1(cx: &mut LiftCx, v: Value) -> Value {
    let t = bool_const(cx, true);
    cx.b.bxor(v, t)
}

/// True when `x` (any width) is zero.
pub fn is_zero(cx: &mut LiftCx, x: Value) -> Value {
    let ty = cx.b.func().value_type(x);
    let z = cx.b.iconst(ty, 0);
    cx.b.icmp(IntCC::Eq, x, z)
}

/// The sign bit of `x`.
pub fn sign(cx: &mut LiftCx, x: Value) -> Value {
    let ty = cx.b.func().value_type(x);
    let z = cx.b.iconst(ty, 0);
    cx.b.icmp(IntCC::Slt, x, z)
}

/// Bit `n` of `x` as an `i1`.
pub fn bit(cx: &mut LiftCx, x: Value, n: u32) -> Value {
    let ty = cx.b.func().value_type(x);
    let s = cx.b.iconst(Type::I8, i128::from(n));
    let shifted = cx.b.ushr(x, s);
    let one = cx.b.iconst(ty, 1);
    let b = cx.b.band(shifted, one);
    let z = cx.b.iconst(ty, 0);
    cx.b.icmp(IntCC::Ne, b, z)
}

/// ZF, SF and PF from a result.
pub fn set_zsp(cx: &mut LiftCx, r: Value) {
    let z = is_zero(cx, r);
    cx.b.def_reg(ZF, z);
    let s = sign(cx, r);
    cx.b.def_reg(SF, s);
    let p = cx.b.parity(r);
    cx.b.def_reg(PF, p);
}

/// AF: the carry out of bit 3, `((a ^ b ^ r) >> 4) & 1`.
pub fn set_af(cx: &mut LiftCx, a: Value, b: Value, r: Value) {
    let x = cx.b.bxor(a, b);
    let x = cx.b.bxor(x, r);
    let af = bit(cx, x, 4);
    cx.b.def_reg(AF, af);
}

/// Flags of `r = a + b`.
pub fn add(cx: &mut LiftCx, a: Value, b: Value, r: Value) {
    let c = cx.b.uadd_overflow(a, b);
    cx.b.def_reg(CF, c);
    let o = cx.b.sadd_overflow(a, b);
    cx.b.def_reg(OF, o);
    set_af(cx, a, b, r);
    set_zsp(cx, r);
}

/// Flags of `r = a - b` (also `cmp`).
pub fn sub(cx: &mut LiftCx, a: Value, b: Value, r: Value) {
    let c = cx.b.usub_overflow(a, b);
    cx.b.def_reg(CF, c);
    let o = cx.b.ssub_overflow(a, b);
    cx.b.def_reg(OF, o);
    set_af(cx, a, b, r);
    set_zsp(cx, r);
}

/// Flags of `r = a + b + carry` (`adc`): carry out of either addition;
/// overflow when both inputs have the sign the result lacks.
pub fn adc(cx: &mut LiftCx, a: Value, b: Value, carry: Value, ab: Value, r: Value) {
    let c1 = cx.b.uadd_overflow(a, b);
    let c2 = cx.b.uadd_overflow(ab, carry);
    let c = cx.b.bor(c1, c2);
    cx.b.def_reg(CF, c);
    let x1 = cx.b.bxor(a, r);
    let x2 = cx.b.bxor(b, r);
    let both = cx.b.band(x1, x2);
    let o = sign(cx, both);
    cx.b.def_reg(OF, o);
    set_af(cx, a, b, r);
    set_zsp(cx, r);
}

/// Flags of `r = a - b - borrow` (`sbb`).
pub fn sbb(cx: &mut LiftCx, a: Value, b: Value, borrow: Value, ab: Value, r: Value) {
    let c1 = cx.b.usub_overflow(a, b);
    let c2 = cx.b.usub_overflow(ab, borrow);
    let c = cx.b.bor(c1, c2);
    cx.b.def_reg(CF, c);
    let x1 = cx.b.bxor(a, b);
    let x2 = cx.b.bxor(a, r);
    let both = cx.b.band(x1, x2);
    let o = sign(cx, both);
    cx.b.def_reg(OF, o);
    set_af(cx, a, b, r);
    set_zsp(cx, r);
}

/// Flags of a logical operation: CF = OF = 0, AF = 0 (undefined).
pub fn logic(cx: &mut LiftCx, r: Value) {
    let f = bool_const(cx, false);
    cx.b.def_reg(CF, f);
    cx.b.def_reg(OF, f);
    cx.b.def_reg(AF, f);
    set_zsp(cx, r);
}

/// What set the flags, when a condition right after it can be computed
/// from the operands directly (`cmp a, b; ja` → `icmp ugt a, b`), as
/// Box64 fuses compares with branches. The flag registers are still
/// written; DCE drops them when nothing else reads them. Besides speed,
/// this gives jump-table bounds the `icmp` shape their finder knows.
#[derive(Clone, Copy, Debug)]
enum Producer {
    /// `cmp`/`sub a, b`.
    Sub(Value, Value),
    /// `test`/`and`/`or`/`xor` with result `r` (CF = OF = 0).
    Logic(Value),
}

/// A producer, valid for the instruction at `pc` in `block` of the
/// function entered at `entry`.
#[derive(Clone, Copy, Debug)]
struct Recorded {
    pc: u64,
    block: Block,
    entry: u64,
    producer: Producer,
}

thread_local! {
    /// Set by the instruction being lifted, for the next one.
    static NEXT: Cell<Option<Recorded>> = const { Cell::new(None) };
    /// Valid for the instruction being lifted.
    static NOW: Cell<Option<Producer>> = const { Cell::new(None) };
}

/// Called before each instruction: makes the previous instruction's
/// producer visible when it directly precedes this one in the same block.
pub fn begin_insn(cx: &LiftCx) {
    let rec = NEXT.with(|n| n.take());
    let now = rec.and_then(|r| {
        (r.pc == cx.pc()
            && Some(r.block) == cx.b.current_block()
            && r.entry == cx.b.func().entry_pc)
            .then_some(r.producer)
    });
    NOW.with(|n| n.set(now));
}

fn record(cx: &LiftCx, producer: Producer) {
    if let Some(block) = cx.b.current_block() {
        NEXT.with(|n| {
            n.set(Some(Recorded {
                pc: cx.next_pc(),
                block,
                entry: cx.b.func().entry_pc,
                producer,
            }))
        });
    }
}

/// Records `cmp`/`sub a, b` for a following condition.
pub fn record_sub(cx: &LiftCx, a: Value, b: Value) {
    record(cx, Producer::Sub(a, b));
}

/// Records a logical op's result for a following condition.
pub fn record_logic(cx: &LiftCx, r: Value) {
    record(cx, Producer::Logic(r));
}

/// `cc` straight from the recorded producer, when it has a direct form.
fn fused(cx: &mut LiftCx, cc: ConditionCode) -> Option<Value> {
    use ConditionCode as C;
    let p = NOW.with(|n| n.get())?;
    let (a, b) = match p {
        Producer::Sub(a, b) => (a, b),
        Producer::Logic(r) => {
            let ty = cx.b.func().value_type(r);
            (r, cx.b.iconst(ty, 0))
        }
    };
    let icc = match (p, cc) {
        (_, C::e) => IntCC::Eq,
        (_, C::ne) => IntCC::Ne,
        (_, C::l) => IntCC::Slt,
        (_, C::ge) => IntCC::Sge,
        (_, C::le) => IntCC::Sle,
        (_, C::g) => IntCC::Sgt,
        (Producer::Sub(..), C::b) => IntCC::Ult,
        (Producer::Sub(..), C::ae) => IntCC::Uge,
        (Producer::Sub(..), C::be) => IntCC::Ule,
        (Producer::Sub(..), C::a) => IntCC::Ugt,
        (Producer::Logic(_), C::s) => IntCC::Slt,
        (Producer::Logic(_), C::ns) => IntCC::Sge,
        (Producer::Logic(_), C::be) => IntCC::Eq,
        (Producer::Logic(_), C::a) => IntCC::Ne,
        _ => return None,
    };
    Some(cx.b.icmp(icc, a, b))
}

/// The value of condition `cc` from the flags.
pub fn cond(cx: &mut LiftCx, cc: ConditionCode) -> Result<Value, String> {
    use ConditionCode as C;
    if let Some(v) = fused(cx, cc) {
        return Ok(v);
    }
    let base = match cc {
        C::o | C::no => cx.b.use_reg(OF),
        C::b | C::ae => cx.b.use_reg(CF),
        C::e | C::ne => cx.b.use_reg(ZF),
        C::be | C::a => {
            let c = cx.b.use_reg(CF);
            let z = cx.b.use_reg(ZF);
            cx.b.bor(c, z)
        }
        C::s | C::ns => cx.b.use_reg(SF),
        C::p | C::np => cx.b.use_reg(PF),
        C::l | C::ge => less(cx),
        C::le | C::g => {
            let l = less(cx);
            let z = cx.b.use_reg(ZF);
            cx.b.bor(l, z)
        }
        C::None => return Err("instruction has no condition".into()),
    };
    let negated = matches!(
        cc,
        C::no | C::ae | C::ne | C::a | C::ns | C::np | C::ge | C::g
    );
    Ok(if negated { not1(cx, base) } else { base })
}

/// SF != OF.
fn less(cx: &mut LiftCx) -> Value {
    let s = cx.b.use_reg(SF);
    let o = cx.b.use_reg(OF);
    cx.b.bxor(s, o)
}

/// RFLAGS assembled from the flag registers (reserved bit 1 and IF set).
pub fn rflags(cx: &mut LiftCx) -> Value {
    use crate::x86_64::regs::DF;
    let mut acc = cx.const64(0x202);
    for (reg, pos) in [
        (CF, 0),
        (PF, 2),
        (AF, 4),
        (ZF, 6),
        (SF, 7),
        (DF, 10),
        (OF, 11),
    ] {
        let f = cx.b.use_reg(reg);
        let w = cx.b.uext(Type::I64, f);
        let s = cx.b.iconst(Type::I8, pos);
        let placed = cx.b.ishl(w, s);
        acc = cx.b.bor(acc, placed);
    }
    acc
}

/// Sets the flag registers from an RFLAGS value.
pub fn set_rflags(cx: &mut LiftCx, v: Value) {
    use crate::x86_64::regs::DF;
    for (reg, pos) in [
        (CF, 0),
        (PF, 2),
        (AF, 4),
        (ZF, 6),
        (SF, 7),
        (DF, 10),
        (OF, 11),
    ] {
        let b = bit(cx, v, pos);
        cx.b.def_reg(reg, b);
    }
}
