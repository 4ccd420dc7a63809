//! Data processing with registers: logical and add/sub with shifted or
//! extended operands, add/sub with carry, conditional compare and select,
//! one- and two-source operations, multiply(-add).

use vmtrans_ir::{IntCC, Type, Value};

use super::dp_imm::add_or_sub;
use super::{
    bit, bits, cond, flag_const, gp, gp_sp, ity, k, set_flags_logic, set_gp, set_gp_sp, set_nz,
    ty_of, unsupported, LiftCx, Lifted,
};
use crate::aarch64::regs::{C, N, V, Z};

/// Lifts the data-processing-register group.
pub(super) fn lift(w: u32, cx: &mut LiftCx) -> Lifted {
    let op2 = bits(w, 24, 21);
    if !bit(w, 28) {
        return if op2 & 8 == 0 {
            logical(w, cx)
        } else if op2 & 1 == 0 {
            add_sub_shifted(w, cx)
        } else {
            add_sub_extended(w, cx)
        };
    }
    match op2 {
        0b0000 if bits(w, 15, 10) == 0 => add_sub_carry(w, cx),
        0b0010 => conditional_compare(w, cx),
        0b0100 => conditional_select(w, cx),
        0b0110 if bit(w, 30) => one_source(w, cx),
        0b0110 => two_source(w, cx),
        0b1000..=0b1111 => three_source(w, cx),
        _ => Err(unsupported(
            cx,
            w,
            "data-processing register form (flag manipulation / MTE)",
        )),
    }
}

/// `v` shifted by a constant (`LSL`, `LSR`, `ASR`, `ROR`).
pub(super) fn shift_const(cx: &mut LiftCx, v: Value, kind: u32, amount: u32) -> Value {
    if amount == 0 {
        return v;
    }
    let ty = ty_of(cx, v);
    let a = k(cx, ty, u64::from(amount));
    match kind {
        0 => cx.b.ishl(v, a),
        1 => cx.b.ushr(v, a),
        2 => cx.b.sshr(v, a),
        _ => cx.b.rotr(v, a),
    }
}

/// `v` (64-bit register value) extended by option `opt` (UXTB..SXTX) to
/// the width of `ty`, then shifted left by `shift`.
pub(super) fn extend(cx: &mut LiftCx, v: Value, opt: u32, shift: u32, ty: Type) -> Value {
    let from = [Type::I8, Type::I16, Type::I32, Type::I64][(opt & 3) as usize];
    let narrow = if from == Type::I64 {
        v
    } else {
        cx.b.ireduce(from, v)
    };
    let wide = if from.bits() >= ty.bits() {
        if from == ty {
            narrow
        } else {
            cx.b.ireduce(ty, narrow)
        }
    } else if opt & 4 != 0 {
        cx.b.sext(ty, narrow)
    } else {
        cx.b.uext(ty, narrow)
    };
    shift_const(cx, wide, 0, shift)
}

/// AND, BIC, ORR, ORN, EOR, EON, ANDS, BICS (shifted register).
fn logical(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let amount = bits(w, 15, 10);
    if !sf && amount >= 32 {
        return Err(unsupported(cx, w, "reserved shift amount"));
    }
    let a = gp(cx, bits(w, 9, 5), sf);
    let m = gp(cx, bits(w, 20, 16), sf);
    let m = shift_const(cx, m, bits(w, 23, 22), amount);
    let b = if bit(w, 21) { cx.b.bnot(m) } else { m };
    let r = match bits(w, 30, 29) {
        0b00 | 0b11 => cx.b.band(a, b),
        0b01 => cx.b.bor(a, b),
        _ => cx.b.bxor(a, b),
    };
    if bits(w, 30, 29) == 0b11 {
        set_flags_logic(cx, r);
    }
    set_gp(cx, bits(w, 4, 0), r);
    Ok(())
}

/// ADD, ADDS, SUB, SUBS (shifted register).
fn add_sub_shifted(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let amount = bits(w, 15, 10);
    let kind = bits(w, 23, 22);
    if kind == 3 || (!sf && amount >= 32) {
        return Err(unsupported(cx, w, "reserved shifted-register form"));
    }
    let a = gp(cx, bits(w, 9, 5), sf);
    let m = gp(cx, bits(w, 20, 16), sf);
    let b = shift_const(cx, m, kind, amount);
    let r = add_or_sub(cx, bit(w, 30), bit(w, 29), a, b);
    set_gp(cx, bits(w, 4, 0), r);
    Ok(())
}

/// ADD, ADDS, SUB, SUBS (extended register; Rn and Rd may be SP).
fn add_sub_extended(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let shift = bits(w, 12, 10);
    if shift > 4 || bits(w, 23, 22) != 0 {
        return Err(unsupported(cx, w, "reserved extended-register form"));
    }
    let a = gp_sp(cx, bits(w, 9, 5), sf);
    let m = gp(cx, bits(w, 20, 16), true);
    let b = extend(cx, m, bits(w, 15, 13), shift, ity(sf));
    let s = bit(w, 29);
    let r = add_or_sub(cx, bit(w, 30), s, a, b);
    if s {
        set_gp(cx, bits(w, 4, 0), r);
    } else {
        set_gp_sp(cx, bits(w, 4, 0), r);
    }
    Ok(())
}

/// ADC, ADCS, SBC, SBCS: `a + b + C` (SBC adds `!b`).
fn add_sub_carry(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let ty = ity(sf);
    let a = gp(cx, bits(w, 9, 5), sf);
    let m = gp(cx, bits(w, 20, 16), sf);
    let b = if bit(w, 30) { cx.b.bnot(m) } else { m };
    let carry = cx.b.use_reg(C);
    let cin = cx.b.uext(ty, carry);
    let partial = cx.b.iadd(a, b);
    let r = cx.b.iadd(partial, cin);
    if bit(w, 29) {
        set_nz(cx, r);
        let c1 = cx.b.uadd_overflow(a, b);
        let c2 = cx.b.uadd_overflow(partial, cin);
        let c = cx.b.bor(c1, c2);
        // Signed overflow: the operands agree in sign and the result does not.
        let ar = cx.b.bxor(a, r);
        let br = cx.b.bxor(b, r);
        let both = cx.b.band(ar, br);
        let zero = k(cx, ty, 0);
        let v = cx.b.icmp(IntCC::Slt, both, zero);
        cx.b.def_reg(C, c);
        cx.b.def_reg(V, v);
    }
    set_gp(cx, bits(w, 4, 0), r);
    Ok(())
}

/// CCMN and CCMP (register or 5-bit immediate): the comparison's flags
/// when the condition holds, else the constant `nzcv`.
fn conditional_compare(w: u32, cx: &mut LiftCx) -> Lifted {
    if !bit(w, 29) || bit(w, 10) || bit(w, 4) {
        return Err(unsupported(cx, w, "reserved conditional-compare form"));
    }
    let sf = bit(w, 31);
    let holds = cond(cx, bits(w, 15, 12));
    let a = gp(cx, bits(w, 9, 5), sf);
    let b = if bit(w, 11) {
        k(cx, ity(sf), u64::from(bits(w, 20, 16)))
    } else {
        gp(cx, bits(w, 20, 16), sf)
    };
    add_or_sub(cx, bit(w, 30), true, a, b);
    let nzcv = bits(w, 3, 0);
    for (i, reg) in [V, C, Z, N].into_iter().enumerate() {
        let computed = cx.b.use_reg(reg);
        let fixed = flag_const(cx, nzcv >> i & 1 != 0);
        let f = cx.b.select(holds, computed, fixed);
        cx.b.def_reg(reg, f);
    }
    Ok(())
}

/// CSEL, CSINC, CSINV, CSNEG.
fn conditional_select(w: u32, cx: &mut LiftCx) -> Lifted {
    if bit(w, 29) || bit(w, 11) {
        return Err(unsupported(cx, w, "reserved conditional-select form"));
    }
    let sf = bit(w, 31);
    let holds = cond(cx, bits(w, 15, 12));
    let a = gp(cx, bits(w, 9, 5), sf);
    let m = gp(cx, bits(w, 20, 16), sf);
    let b = match (bit(w, 30), bit(w, 10)) {
        (false, false) => m,
        (false, true) => {
            let one = k(cx, ity(sf), 1);
            cx.b.iadd(m, one)
        }
        (true, false) => cx.b.bnot(m),
        (true, true) => cx.b.ineg(m),
    };
    let r = cx.b.select(holds, a, b);
    set_gp(cx, bits(w, 4, 0), r);
    Ok(())
}

/// RBIT, REV16, REV32, REV, CLZ, CLS.
fn one_source(w: u32, cx: &mut LiftCx) -> Lifted {
    if bits(w, 20, 16) != 0 || bit(w, 29) {
        return Err(unsupported(
            cx,
            w,
            "pointer authentication (PAuth is not advertised)",
        ));
    }
    let sf = bit(w, 31);
    let ty = ity(sf);
    let a = gp(cx, bits(w, 9, 5), sf);
    let r = match (bits(w, 15, 10), sf) {
        (0, _) => cx.b.bitrev(a),
        (1, _) => rev16(cx, a),
        (2, false) | (3, true) => cx.b.bswap(a),
        (2, true) => {
            let swapped = cx.b.bswap(a);
            let s = k(cx, ty, 32);
            cx.b.rotr(swapped, s)
        }
        (4, _) => cx.b.clz(a),
        (5, _) => {
            let one = k(cx, ty, 1);
            let sh = cx.b.sshr(a, one);
            let x = cx.b.bxor(a, sh);
            let z = cx.b.clz(x);
            cx.b.isub(z, one)
        }
        _ => return Err(unsupported(cx, w, "unallocated one-source opcode")),
    };
    set_gp(cx, bits(w, 4, 0), r);
    Ok(())
}

/// Bytes swapped inside each halfword.
fn rev16(cx: &mut LiftCx, a: Value) -> Value {
    let ty = ty_of(cx, a);
    let m = k(cx, ty, 0x00ff_00ff_00ff_00ff);
    let eight = k(cx, ty, 8);
    let down = cx.b.ushr(a, eight);
    let down = cx.b.band(down, m);
    let up = cx.b.ishl(a, eight);
    let up = cx.b.band_not(up, m);
    cx.b.bor(down, up)
}

/// UDIV, SDIV, LSLV, LSRV, ASRV, RORV.
fn two_source(w: u32, cx: &mut LiftCx) -> Lifted {
    if bit(w, 29) {
        return Err(unsupported(cx, w, "reserved two-source form"));
    }
    let sf = bit(w, 31);
    let a = gp(cx, bits(w, 9, 5), sf);
    let b = gp(cx, bits(w, 20, 16), sf);
    let r = match bits(w, 15, 10) {
        0b000010 => cx.b.udiv(a, b),
        0b000011 => cx.b.sdiv(a, b),
        0b001000 => cx.b.ishl(a, b),
        0b001001 => cx.b.ushr(a, b),
        0b001010 => cx.b.sshr(a, b),
        0b001011 => cx.b.rotr(a, b),
        _ => return Err(unsupported(cx, w, "two-source op (CRC32 / PAuth / MTE)")),
    };
    set_gp(cx, bits(w, 4, 0), r);
    Ok(())
}

/// MADD, MSUB, SMADDL, SMSUBL, SMULH, UMADDL, UMSUBL, UMULH.
fn three_source(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let op = (bits(w, 30, 29), bits(w, 23, 21), bit(w, 15));
    let (rn, rm, ra, rd) = (
        bits(w, 9, 5),
        bits(w, 20, 16),
        bits(w, 14, 10),
        bits(w, 4, 0),
    );
    let r = match op {
        (0, 0, sub) => {
            let a = gp(cx, rn, sf);
            let b = gp(cx, rm, sf);
            let acc = gp(cx, ra, sf);
            let p = cx.b.imul(a, b);
            if sub {
                cx.b.isub(acc, p)
            } else {
                cx.b.iadd(acc, p)
            }
        }
        (0, 1 | 5, sub) if sf => {
            let signed = bits(w, 23, 21) == 1;
            let a = gp(cx, rn, false);
            let b = gp(cx, rm, false);
            let (a, b) = if signed {
                (cx.b.sext(Type::I64, a), cx.b.sext(Type::I64, b))
            } else {
                (cx.b.uext(Type::I64, a), cx.b.uext(Type::I64, b))
            };
            let acc = gp(cx, ra, true);
            let p = cx.b.imul(a, b);
            if sub {
                cx.b.isub(acc, p)
            } else {
                cx.b.iadd(acc, p)
            }
        }
        (0, 2, false) if sf => {
            let a = gp(cx, rn, true);
            let b = gp(cx, rm, true);
            cx.b.smulhi(a, b)
        }
        (0, 6, false) if sf => {
            let a = gp(cx, rn, true);
            let b = gp(cx, rm, true);
            cx.b.umulhi(a, b)
        }
        _ => return Err(unsupported(cx, w, "unallocated three-source form")),
    };
    set_gp(cx, rd, r);
    Ok(())
}
