//! Advanced SIMD: structure loads/stores, integer and float lane ops,
//! shuffles (one constant-index shuffle per permute), compares,
//! across-lane reductions and TBL/TBX.
//!
//! 64-bit forms (Q = 0) compute on the full register and zero the upper
//! half of the result, as the architecture writes it.

use vmtrans_ir::{FloatCC, IntCC, RoundingMode, Type, Value};

use super::dp_imm::low_mask;
use super::ldst::int_type;
use super::{bit, bits, gp, gp_sp, k, set_gp, set_gp_sp, ty_of, unsupported, LiftCx, Lifted};
use crate::aarch64::regs::v;

// ---- registers ----

/// SIMD&FP register `n` as a vector.
pub(super) fn vreg(cx: &mut LiftCx, n: u32) -> Value {
    cx.b.use_reg(v(n))
}

/// Writes the whole of register `n`.
pub(super) fn set_vreg(cx: &mut LiftCx, n: u32, val: Value) {
    cx.b.def_reg(v(n), val);
}

/// Writes `val` (any scalar or a vector) to the low bits of register `n`,
/// zeroing the rest.
pub(super) fn set_low(cx: &mut LiftCx, n: u32, val: Value) {
    let ty = ty_of(cx, val);
    let r = match ty {
        Type::V128 => val,
        Type::F32 | Type::F64 => {
            let int = cx.b.bitcast(ty.as_int(), val);
            insert_into_zero(cx, int)
        }
        _ => insert_into_zero(cx, val),
    };
    set_vreg(cx, n, r);
}

fn insert_into_zero(cx: &mut LiftCx, int: Value) -> Value {
    let ty = ty_of(cx, int);
    let zero = cx.b.vconst(0);
    cx.b.vinsert(ty, 0, zero, int)
}

/// The low `ty` bits of register `n` (an integer or float type).
pub(super) fn low(cx: &mut LiftCx, n: u32, ty: Type) -> Value {
    let vr = vreg(cx, n);
    if ty.is_float() {
        let int = cx.b.vextract(ty.as_int(), 0, vr);
        cx.b.bitcast(ty, int)
    } else {
        cx.b.vextract(ty, 0, vr)
    }
}

/// Loads `bytes` bytes into the low end of register `n`, zeroing the rest.
pub(super) fn load_low(cx: &mut LiftCx, n: u32, bytes: u32, addr: Value) {
    let ty = if bytes == 16 {
        Type::V128
    } else {
        int_type(bytes)
    };
    let val = cx.b.load(ty, addr);
    set_low(cx, n, val);
}

/// Stores the low `bytes` bytes of register `n`.
pub(super) fn store_low(cx: &mut LiftCx, n: u32, bytes: u32, addr: Value) {
    let val = if bytes == 16 {
        vreg(cx, n)
    } else {
        low(cx, n, int_type(bytes))
    };
    cx.b.store(addr, val);
}

/// Zeroes the upper 64 bits of `val` unless `q`.
fn fit(cx: &mut LiftCx, q: bool, val: Value) -> Value {
    if q {
        return val;
    }
    let mask = cx.b.vconst(u128::from(u64::MAX));
    cx.b.vand(Type::I64, val, mask)
}

/// The integer lane type for a `size` field.
fn lane(size: u32) -> Type {
    [Type::I8, Type::I16, Type::I32, Type::I64][size as usize]
}

/// The float lane type for a `sz` bit.
fn flane(sz: bool) -> Type {
    if sz {
        Type::F64
    } else {
        Type::F32
    }
}

fn splat_int(cx: &mut LiftCx, ty: Type, val: u64) -> Value {
    let s = k(cx, ty, val);
    cx.b.vsplat(ty, s)
}

/// A shuffle of the bytes of `x:y` by constant indices.
fn shuffle(cx: &mut LiftCx, idx: [u8; 16], x: Value, y: Value) -> Value {
    cx.b.vshuffle(idx, x, y)
}

// ---- structure loads and stores ----

fn post_index(cx: &mut LiftCx, w: u32, rn: u32, base: Value, total: u32) {
    if !bit(w, 23) {
        return;
    }
    let rm = bits(w, 20, 16);
    let inc = if rm == 31 {
        k(cx, Type::I64, u64::from(total))
    } else {
        gp(cx, rm, true)
    };
    let next = cx.b.iadd(base, inc);
    set_gp_sp(cx, rn, next);
}

/// LD1-LD4 / ST1-ST4 (multiple structures), with post-index.
pub(super) fn structures_multiple(w: u32, cx: &mut LiftCx) -> Lifted {
    let q = bit(w, 30);
    let load = bit(w, 22);
    let (rn, rt) = (bits(w, 9, 5), bits(w, 4, 0));
    let size = bits(w, 11, 10);
    let (regs, elems) = match bits(w, 15, 12) {
        0b0111 => (1, 1),
        0b1010 => (2, 1),
        0b0110 => (3, 1),
        0b0010 => (4, 1),
        0b1000 => (2, 2),
        0b0100 => (3, 3),
        0b0000 => (4, 4),
        _ => return Err(unsupported(cx, w, "unallocated structure load/store")),
    };
    if bit(w, 21) || (!bit(w, 23) && bits(w, 20, 16) != 0) || (size == 3 && !q && elems > 1) {
        return Err(unsupported(cx, w, "reserved structure load/store"));
    }
    let bytes_per_reg = if q { 16 } else { 8 };
    let base = gp_sp(cx, rn, true);
    if elems == 1 {
        for i in 0..regs {
            let off = k(cx, Type::I64, u64::from(i * bytes_per_reg));
            let addr = cx.b.iadd(base, off);
            let r = (rt + i) % 32;
            if load {
                load_low(cx, r, bytes_per_reg, addr);
            } else {
                store_low(cx, r, bytes_per_reg, addr);
            }
        }
    } else {
        interleaved(cx, load, q, size, regs, rt, base);
    }
    post_index(cx, w, rn, base, regs * bytes_per_reg);
    Ok(())
}

/// LD2-LD4 / ST2-ST4: element `e` of structure `s` is lane `s` of
/// register `rt + e`.
fn interleaved(cx: &mut LiftCx, load: bool, q: bool, size: u32, regs: u32, rt: u32, base: Value) {
    let ty = lane(size);
    let esize = 1u32 << size;
    let lanes = if q { 16 / esize } else { 8 / esize };
    let mut vals: Vec<Value> = (0..regs)
        .map(|i| {
            if load {
                cx.b.vconst(0)
            } else {
                vreg(cx, (rt + i) % 32)
            }
        })
        .collect();
    for s in 0..lanes {
        for (e, val) in vals.iter_mut().enumerate() {
            let off = k(cx, Type::I64, u64::from((s * regs + e as u32) * esize));
            let addr = cx.b.iadd(base, off);
            if load {
                let x = cx.b.load(ty, addr);
                *val = cx.b.vinsert(ty, s as u8, *val, x);
            } else {
                let x = cx.b.vextract(ty, s as u8, *val);
                cx.b.store(addr, x);
            }
        }
    }
    if load {
        for (i, val) in vals.into_iter().enumerate() {
            set_vreg(cx, (rt + i as u32) % 32, val);
        }
    }
}

/// LD1-LD4 / ST1-ST4 (single structure: one lane), LD1R-LD4R, with
/// post-index.
pub(super) fn structures_single(w: u32, cx: &mut LiftCx) -> Lifted {
    let q = bit(w, 30);
    let load = bit(w, 22);
    let regs = ((bits(w, 13, 13) << 1) | u32::from(bit(w, 21))) + 1;
    let (rn, rt) = (bits(w, 9, 5), bits(w, 4, 0));
    let opcode = bits(w, 15, 13);
    let s = u32::from(bit(w, 12));
    let size = bits(w, 11, 10);
    if !bit(w, 23) && bits(w, 20, 16) != 0 {
        return Err(unsupported(cx, w, "reserved structure load/store"));
    }
    let base = gp_sp(cx, rn, true);
    let (esize_log, index) = match opcode {
        0b000 | 0b001 => (0, (u32::from(q) << 3) | (s << 2) | size),
        0b010 | 0b011 if size & 1 == 0 => (1, (u32::from(q) << 2) | (s << 1) | (size >> 1)),
        0b100 | 0b101 if size == 0 => (2, (u32::from(q) << 1) | s),
        0b100 | 0b101 if size == 1 && s == 0 => (3, u32::from(q)),
        0b110 | 0b111 if load && s == 0 => {
            // LDnR: load one structure and replicate to every lane.
            let ty = lane(size);
            let esize = 1u32 << size;
            for i in 0..regs {
                let off = k(cx, Type::I64, u64::from(i * esize));
                let addr = cx.b.iadd(base, off);
                let x = cx.b.load(ty, addr);
                let val = cx.b.vsplat(ty, x);
                let val = fit(cx, q, val);
                set_vreg(cx, (rt + i) % 32, val);
            }
            post_index(cx, w, rn, base, regs * esize);
            return Ok(());
        }
        _ => return Err(unsupported(cx, w, "reserved single-structure form")),
    };
    let ty = lane(esize_log);
    let esize = 1u32 << esize_log;
    for i in 0..regs {
        let off = k(cx, Type::I64, u64::from(i * esize));
        let addr = cx.b.iadd(base, off);
        let r = (rt + i) % 32;
        let cur = vreg(cx, r);
        if load {
            let x = cx.b.load(ty, addr);
            let val = cx.b.vinsert(ty, index as u8, cur, x);
            set_vreg(cx, r, val);
        } else {
            let x = cx.b.vextract(ty, index as u8, cur);
            cx.b.store(addr, x);
        }
    }
    post_index(cx, w, rn, base, regs * esize);
    Ok(())
}

// ---- data processing ----

/// Lifts the Advanced SIMD data-processing groups.
pub(super) fn lift(w: u32, cx: &mut LiftCx) -> Lifted {
    match w {
        _ if w & 0x9f20_0400 == 0x0e20_0400 => three_same(w, cx),
        _ if w & 0x9f20_0c00 == 0x0e20_0000 => three_different(w, cx),
        _ if w & 0x9f3e_0c00 == 0x0e20_0800 => two_misc(w, cx),
        _ if w & 0x9f3e_0c00 == 0x0e30_0800 => across(w, cx),
        _ if w & 0x9fe0_8400 == 0x0e00_0400 => copy(w, cx),
        _ if w & 0x9ff8_0400 == 0x0f00_0400 => modified_immediate(w, cx),
        _ if w & 0x9f80_0400 == 0x0f00_0400 => shift_immediate(w, cx),
        _ if w & 0x9f00_0400 == 0x0f00_0000 => by_element(w, cx),
        _ if w & 0xbf20_8c00 == 0x0e00_0800 => permute(w, cx),
        _ if w & 0xbf20_8400 == 0x2e00_0000 => ext(w, cx),
        _ if w & 0xbf20_8c00 == 0x0e00_0000 => table(w, cx),
        _ if w & 0xdf3e_0c00 == 0x5e30_0800 => scalar_pairwise(w, cx),
        _ if w & 0xdf20_0400 == 0x5e20_0400 => scalar_three_same(w, cx),
        _ if w & 0xdfe0_8400 == 0x5e00_0400 => scalar_dup(w, cx),
        _ if w & 0xdf80_0400 == 0x5f00_0400 => scalar_shift_immediate(w, cx),
        _ if w & 0xdf3e_0c00 == 0x5e20_0800 => scalar_two_misc(w, cx),
        _ => Err(unsupported(cx, w, "Advanced SIMD form not lifted")),
    }
}

struct Ops {
    q: bool,
    u: bool,
    size: u32,
    rd: u32,
    a: Value,
    b: Value,
}

fn operands(w: u32, cx: &mut LiftCx) -> Ops {
    Ops {
        q: bit(w, 30),
        u: bit(w, 29),
        size: bits(w, 23, 22),
        rd: bits(w, 4, 0),
        a: vreg(cx, bits(w, 9, 5)),
        b: vreg(cx, bits(w, 20, 16)),
    }
}

/// Pairwise: `op` over adjacent lanes of `a:b` (64-bit forms: of the low
/// halves).
fn pairwise(
    cx: &mut LiftCx,
    q: bool,
    ty: Type,
    a: Value,
    b: Value,
    op: &dyn Fn(&mut LiftCx, Value, Value) -> Value,
) -> Value {
    let (x, y) = if q {
        (a, b)
    } else {
        let both = cx.b.vzip_lo(Type::I64, a, b);
        (both, both)
    };
    let even = cx.b.vuzp_even(ty, x, y);
    let odd = cx.b.vuzp_odd(ty, x, y);
    let r = op(cx, even, odd);
    fit(cx, q, r)
}

fn int_binop(cx: &mut LiftCx, name: &str, ty: Type, a: Value, b: Value) -> Value {
    match name {
        "add" => cx.b.viadd(ty, a, b),
        "umax" => cx.b.vumax(ty, a, b),
        "umin" => cx.b.vumin(ty, a, b),
        "smax" => cx.b.vsmax(ty, a, b),
        _ => cx.b.vsmin(ty, a, b),
    }
}

fn three_same(w: u32, cx: &mut LiftCx) -> Lifted {
    let o = operands(w, cx);
    let opcode = bits(w, 15, 11);
    if opcode >= 0b11000 {
        return float_three_same(w, cx, &o);
    }
    let ty = lane(o.size);
    if o.size == 3 && !o.q && opcode != 0b00011 {
        return Err(unsupported(cx, w, "reserved 1D three-same form"));
    }
    let (a, b) = (o.a, o.b);
    let r = match (opcode, o.u) {
        (0b00011, false) => match o.size {
            0 => cx.b.vand(Type::I64, a, b),
            1 => cx.b.vand_not(Type::I64, a, b),
            2 => cx.b.vor(Type::I64, a, b),
            _ => {
                let ones = splat_ones(cx);
                let nb = cx.b.vxor(Type::I64, b, ones);
                cx.b.vor(Type::I64, a, nb)
            }
        },
        (0b00011, true) => {
            let d = vreg(cx, o.rd);
            match o.size {
                0 => cx.b.vxor(Type::I64, a, b),
                1 => cx.b.vbitselect(Type::I64, d, a, b),
                2 => cx.b.vbitselect(Type::I64, b, a, d),
                _ => cx.b.vbitselect(Type::I64, b, d, a),
            }
        }
        (0b00001, false) => cx.b.vsadd_sat(ty, a, b),
        (0b00001, true) => cx.b.vuadd_sat(ty, a, b),
        (0b00101, false) => cx.b.vssub_sat(ty, a, b),
        (0b00101, true) => cx.b.vusub_sat(ty, a, b),
        (0b00010, true) => cx.b.vuavg(ty, a, b),
        (0b00110, false) => cx.b.vicmp(ty, IntCC::Sgt, a, b),
        (0b00110, true) => cx.b.vicmp(ty, IntCC::Ugt, a, b),
        (0b00111, false) => cx.b.vicmp(ty, IntCC::Sge, a, b),
        (0b00111, true) => cx.b.vicmp(ty, IntCC::Uge, a, b),
        (0b01100, false) => cx.b.vsmax(ty, a, b),
        (0b01100, true) => cx.b.vumax(ty, a, b),
        (0b01101, false) => cx.b.vsmin(ty, a, b),
        (0b01101, true) => cx.b.vumin(ty, a, b),
        (0b01110 | 0b01111, u) => {
            // sabd/uabd (and the accumulating saba/uaba).
            let (hi, lo) = if u {
                (cx.b.vumax(ty, a, b), cx.b.vumin(ty, a, b))
            } else {
                (cx.b.vsmax(ty, a, b), cx.b.vsmin(ty, a, b))
            };
            let d = cx.b.visub(ty, hi, lo);
            if opcode == 0b01111 {
                let acc = vreg(cx, o.rd);
                cx.b.viadd(ty, acc, d)
            } else {
                d
            }
        }
        (0b10000, false) => cx.b.viadd(ty, a, b),
        (0b10000, true) => cx.b.visub(ty, a, b),
        (0b10001, false) => {
            let and = cx.b.vand(ty, a, b);
            let zero = cx.b.vconst(0);
            cx.b.vicmp(ty, IntCC::Ne, and, zero)
        }
        (0b10001, true) => cx.b.vicmp(ty, IntCC::Eq, a, b),
        (0b10010, u) if o.size != 3 => {
            let p = cx.b.vimul(ty, a, b);
            let acc = vreg(cx, o.rd);
            if u {
                cx.b.visub(ty, acc, p)
            } else {
                cx.b.viadd(ty, acc, p)
            }
        }
        (0b10011, false) if o.size != 3 => cx.b.vimul(ty, a, b),
        (0b10100, u) => {
            let name = if u { "umax" } else { "smax" };
            let r = pairwise_named(cx, o.q, ty, a, b, name);
            return done(cx, &o, r);
        }
        (0b10101, u) => {
            let name = if u { "umin" } else { "smin" };
            let r = pairwise_named(cx, o.q, ty, a, b, name);
            return done(cx, &o, r);
        }
        (0b10111, false) => {
            let r = pairwise_named(cx, o.q, ty, a, b, "add");
            return done(cx, &o, r);
        }
        (0b01000, u) => shift_by_register(cx, u, ty, a, b),
        _ => return Err(unsupported(cx, w, "Advanced SIMD three-same op not lifted")),
    };
    let r = fit(cx, o.q, r);
    set_vreg(cx, o.rd, r);
    Ok(())
}

fn done(cx: &mut LiftCx, o: &Ops, r: Value) -> Lifted {
    set_vreg(cx, o.rd, r);
    Ok(())
}

fn pairwise_named(cx: &mut LiftCx, q: bool, ty: Type, a: Value, b: Value, name: &str) -> Value {
    let name = name.to_string();
    pairwise(cx, q, ty, a, b, &move |cx, x, y| {
        int_binop(cx, &name, ty, x, y)
    })
}

fn splat_ones(cx: &mut LiftCx) -> Value {
    cx.b.vconst(u128::MAX)
}

/// SSHL/USHL: each lane shifted by the signed low byte of the other's
/// lane (negative: right). Done lane by lane.
fn shift_by_register(cx: &mut LiftCx, u: bool, ty: Type, a: Value, b: Value) -> Value {
    let lanes = 128 / ty.bits();
    let mut r = cx.b.vconst(0);
    for i in 0..lanes {
        let x = cx.b.vextract(ty, i as u8, a);
        let s = cx.b.vextract(ty, i as u8, b);
        let s8 = if ty == Type::I8 {
            s
        } else {
            cx.b.ireduce(Type::I8, s)
        };
        let amount = cx.b.sext(Type::I64, s8);
        let xw = if ty == Type::I64 {
            x
        } else if u {
            cx.b.uext(Type::I64, x)
        } else {
            cx.b.sext(Type::I64, x)
        };
        let res = shift_signed_amount(cx, u, ty.bits(), xw, amount);
        let res = if ty == Type::I64 {
            res
        } else {
            cx.b.ireduce(ty, res)
        };
        r = cx.b.vinsert(ty, i as u8, r, res);
    }
    r
}

/// `x << amount` for amount >= 0, else `x >> -amount` (arithmetic unless
/// `u`), with the architecture's out-of-range results.
fn shift_signed_amount(cx: &mut LiftCx, u: bool, bits_: u32, x: Value, amount: Value) -> Value {
    let zero = k(cx, Type::I64, 0);
    let width = k(cx, Type::I64, u64::from(bits_));
    let neg = cx.b.icmp(IntCC::Slt, amount, zero);
    let left_ok = cx.b.icmp(IntCC::Slt, amount, width);
    let shl = cx.b.ishl(x, amount);
    let left = cx.b.select(left_ok, shl, zero);
    let right_amount = cx.b.ineg(amount);
    let max = k(cx, Type::I64, 63);
    let clamped = cx.b.umin(right_amount, max);
    let right = if u {
        let ok = cx.b.icmp(IntCC::Ult, right_amount, width);
        let sh = cx.b.ushr(x, clamped);
        cx.b.select(ok, sh, zero)
    } else {
        cx.b.sshr(x, clamped)
    };
    cx.b.select(neg, right, left)
}

fn float_three_same(w: u32, cx: &mut LiftCx, o: &Ops) -> Lifted {
    let sz = bit(w, 22);
    if sz && !o.q {
        return Err(unsupported(cx, w, "reserved 1D float form"));
    }
    let ty = flane(sz);
    let (a, b) = (o.a, o.b);
    super::fp::vector_input_denormal(cx, ty, o.q, &[a, b]);
    let op = (o.u, bit(w, 23), bits(w, 15, 11));
    let r = match op {
        (false, false, 0b11010) => cx.b.vfadd(ty, a, b),
        (false, true, 0b11010) => cx.b.vfsub(ty, a, b),
        (true, false, 0b11011) => cx.b.vfmul(ty, a, b),
        (true, false, 0b11111) => cx.b.vfdiv(ty, a, b),
        (false, false, 0b11110) => cx.b.vfmax(ty, a, b),
        (false, true, 0b11110) => cx.b.vfmin(ty, a, b),
        (false, false, 0b11000) => cx.b.vfmaxnum(ty, a, b),
        (false, true, 0b11000) => cx.b.vfminnum(ty, a, b),
        (false, sub, 0b11001) => {
            // fmla/fmls lane by lane (fused).
            let acc = vreg(cx, o.rd);
            super::fp::vector_input_denormal(cx, ty, o.q, &[acc]);
            lanewise_fma(cx, ty, a, b, acc, sub)
        }
        (false, false, 0b11100) => cx.b.vfcmp(ty, FloatCC::Eq, a, b),
        (true, false, 0b11100) => cx.b.vfcmp(ty, FloatCC::Ge, a, b),
        (true, true, 0b11100) => cx.b.vfcmp(ty, FloatCC::Gt, a, b),
        (true, true, 0b11010) => {
            let d = cx.b.vfsub(ty, a, b);
            cx.b.vfabs(ty, d)
        }
        (true, false, 0b11010) => {
            let r = pairwise(cx, o.q, ty, a, b, &move |cx, x, y| cx.b.vfadd(ty, x, y));
            return done(cx, o, r);
        }
        _ => return Err(unsupported(cx, w, "Advanced SIMD float op not lifted")),
    };
    let r = fit(cx, o.q, r);
    set_vreg(cx, o.rd, r);
    Ok(())
}

/// `acc + a * b` (or `acc - a * b`) lane by lane with one rounding.
fn lanewise_fma(cx: &mut LiftCx, ty: Type, a: Value, b: Value, acc: Value, sub: bool) -> Value {
    let lanes = 128 / ty.bits();
    let ity = ty.as_int();
    let mut r = cx.b.vconst(0);
    for i in 0..lanes {
        let l = i as u8;
        let x = cx.b.vextract(ity, l, a);
        let x = cx.b.bitcast(ty, x);
        let x = if sub { cx.b.fneg(x) } else { x };
        let y = cx.b.vextract(ity, l, b);
        let y = cx.b.bitcast(ty, y);
        let z = cx.b.vextract(ity, l, acc);
        let z = cx.b.bitcast(ty, z);
        let f = cx.b.fma(RoundingMode::Dyn, x, y, z);
        let f = cx.b.bitcast(ity, f);
        r = cx.b.vinsert(ity, l, r, f);
    }
    r
}

/// Widening and narrowing three-register ops: [SU]ADDL, [SU]SUBL,
/// [SU]ADDW, [SU]SUBW, [SU]MULL, [SU]MLAL, ADDHN, [SU]ABDL.
fn three_different(w: u32, cx: &mut LiftCx) -> Lifted {
    let o = operands(w, cx);
    if o.size == 3 {
        return Err(unsupported(cx, w, "reserved three-different size"));
    }
    let ty = lane(o.size);
    let wide = lane(o.size + 1);
    let widen = |cx: &mut LiftCx, v: Value| -> Value {
        match (o.u, o.q) {
            (false, false) => cx.b.vswiden_lo(ty, v),
            (false, true) => cx.b.vswiden_hi(ty, v),
            (true, false) => cx.b.vuwiden_lo(ty, v),
            (true, true) => cx.b.vuwiden_hi(ty, v),
        }
    };
    let r = match bits(w, 15, 12) {
        0b0000 | 0b0010 => {
            let a = widen(cx, o.a);
            let b = widen(cx, o.b);
            if bits(w, 15, 12) == 0 {
                cx.b.viadd(wide, a, b)
            } else {
                cx.b.visub(wide, a, b)
            }
        }
        0b0001 | 0b0011 => {
            let b = widen(cx, o.b);
            if bits(w, 15, 12) == 1 {
                cx.b.viadd(wide, o.a, b)
            } else {
                cx.b.visub(wide, o.a, b)
            }
        }
        0b1100 | 0b1000 | 0b1010 if o.size < 3 => {
            let a = widen(cx, o.a);
            let b = widen(cx, o.b);
            let p = cx.b.vimul(wide, a, b);
            match bits(w, 15, 12) {
                0b1100 => p,
                0b1000 => {
                    let acc = vreg(cx, o.rd);
                    cx.b.viadd(wide, acc, p)
                }
                _ => {
                    let acc = vreg(cx, o.rd);
                    cx.b.visub(wide, acc, p)
                }
            }
        }
        0b0111 | 0b0101 => {
            let a = widen(cx, o.a);
            let b = widen(cx, o.b);
            let hi = if o.u {
                cx.b.vumax(wide, a, b)
            } else {
                cx.b.vsmax(wide, a, b)
            };
            let lo = if o.u {
                cx.b.vumin(wide, a, b)
            } else {
                cx.b.vsmin(wide, a, b)
            };
            let d = cx.b.visub(wide, hi, lo);
            if bits(w, 15, 12) == 0b0101 {
                let acc = vreg(cx, o.rd);
                cx.b.viadd(wide, acc, d)
            } else {
                d
            }
        }
        _ => {
            return Err(unsupported(
                cx,
                w,
                "Advanced SIMD three-different op not lifted",
            ))
        }
    };
    set_vreg(cx, o.rd, r);
    Ok(())
}

fn two_misc(w: u32, cx: &mut LiftCx) -> Lifted {
    let q = bit(w, 30);
    let u = bit(w, 29);
    let size = bits(w, 23, 22);
    let rd = bits(w, 4, 0);
    let a = vreg(cx, bits(w, 9, 5));
    let ty = lane(size);
    let opcode = bits(w, 16, 12);
    let zero = cx.b.vconst(0);
    // fsqrt, fcvtzs and the float compares with zero read their lanes as
    // numbers (FPCR.FZ applies).
    let float_arith = matches!(
        (opcode, u),
        (0b11111, true) | (0b11011, false) | (0b01100..=0b01110, false)
    );
    if float_arith && size >= 2 {
        super::fp::vector_input_denormal(cx, flane(size == 3), q, &[a]);
    }
    let r = match (opcode, u) {
        (0b00000, false) if size < 3 => reverse_in(cx, a, size, 8),
        (0b00000, true) if size < 2 => reverse_in(cx, a, size, 4),
        (0b00001, false) if size == 0 => reverse_in(cx, a, 0, 2),
        (0b00101, false) if size == 0 => cx.b.vpopcnt(Type::I8, a),
        (0b00101, true) if size == 0 => {
            let ones = splat_ones_v(cx);
            cx.b.vxor(Type::I64, a, ones)
        }
        (0b00101, true) if size == 1 => rbit_bytes(cx, a),
        (0b01000, false) => cx.b.vicmp(ty, IntCC::Sgt, a, zero),
        (0b01000, true) => cx.b.vicmp(ty, IntCC::Sge, a, zero),
        (0b01001, false) => cx.b.vicmp(ty, IntCC::Eq, a, zero),
        (0b01001, true) => cx.b.vicmp(ty, IntCC::Sle, a, zero),
        (0b01010, false) => cx.b.vicmp(ty, IntCC::Slt, a, zero),
        (0b01011, false) => cx.b.viabs(ty, a),
        (0b01011, true) => cx.b.vineg(ty, a),
        (0b10010, false) if size < 3 => {
            let n = cx.b.vnarrow_trunc(lane(size + 1), a, zero);
            return narrow_result(cx, q, rd, n);
        }
        (0b10100, false) if size < 3 => {
            let n = cx.b.vnarrow_ssat(lane(size + 1), a, zero);
            return narrow_result(cx, q, rd, n);
        }
        (0b10010, true) if size < 3 => {
            let n = cx.b.vnarrow_usat(lane(size + 1), a, zero);
            return narrow_result(cx, q, rd, n);
        }
        (0b10011, true) if size < 3 => {
            // SHLL/SHLL2: widen (the low or high half) and shift left by the
            // element size, which leaves the element in the high half.
            let x = if q {
                cx.b.vuwiden_hi(ty, a)
            } else {
                cx.b.vuwiden_lo(ty, a)
            };
            let sh = k(cx, Type::I32, u64::from(ty.bits()));
            let r = cx.b.vishl(lane(size + 1), x, sh);
            set_vreg(cx, rd, r);
            return Ok(());
        }
        (0b00010, u) if size < 3 => {
            // saddlp / uaddlp: add adjacent lanes into double-width lanes.
            let x = if q { a } else { fit(cx, false, a) };
            let even = cx.b.vuzp_even(ty, x, zero);
            let odd = cx.b.vuzp_odd(ty, x, zero);
            let (e, o) = if u {
                (cx.b.vuwiden_lo(ty, even), cx.b.vuwiden_lo(ty, odd))
            } else {
                (cx.b.vswiden_lo(ty, even), cx.b.vswiden_lo(ty, odd))
            };
            cx.b.viadd(lane(size + 1), e, o)
        }
        (0b01111, false) if size >= 2 => cx.b.vfabs(flane(size == 3), a),
        (0b01111, true) if size >= 2 => cx.b.vfneg(flane(size == 3), a),
        (0b11111, true) if size >= 2 => cx.b.vfsqrt(flane(size == 3), a),
        (0b11101, false) if size < 2 => {
            let ft = flane(size == 1);
            cx.b.vfcvt_from_sint(ft, a)
        }
        (0b11011, false) if size >= 2 => {
            let ft = flane(size == 3);
            cx.b.vfcvt_to_sint(ft, a)
        }
        (0b01100..=0b01110, false) if size >= 2 => {
            let ft = flane(size == 3);
            let fz = cx.b.vconst(0);
            let cc = match (opcode, u) {
                (0b01100, _) => FloatCC::Gt,
                (0b01101, _) => FloatCC::Eq,
                _ => FloatCC::Lt,
            };
            cx.b.vfcmp(ft, cc, a, fz)
        }
        (0b01100 | 0b01101, true) if size >= 2 => {
            let ft = flane(size == 3);
            let fz = cx.b.vconst(0);
            let cc = if opcode == 0b01100 {
                FloatCC::Ge
            } else {
                FloatCC::Le
            };
            cx.b.vfcmp(ft, cc, a, fz)
        }
        _ => {
            return Err(unsupported(
                cx,
                w,
                "Advanced SIMD two-register op not lifted",
            ))
        }
    };
    let r = fit(cx, q, r);
    set_vreg(cx, rd, r);
    Ok(())
}

fn splat_ones_v(cx: &mut LiftCx) -> Value {
    cx.b.vconst(u128::MAX)
}

/// A narrowed value `n` (in the low half) written to the low half of `rd`
/// (zeroing the top) or, for the `2` forms, to its high half.
fn narrow_result(cx: &mut LiftCx, q: bool, rd: u32, n: Value) -> Lifted {
    let r = if q {
        let d = vreg(cx, rd);
        cx.b.vzip_lo(Type::I64, d, n)
    } else {
        fit(cx, false, n)
    };
    set_vreg(cx, rd, r);
    Ok(())
}

/// Reverses the order of `1 << size`-byte elements inside each
/// `container`-byte group (REV16, REV32, REV64).
fn reverse_in(cx: &mut LiftCx, a: Value, size: u32, container: u32) -> Value {
    let esize = 1u32 << size;
    let mut idx = [0u8; 16];
    for (i, slot) in idx.iter_mut().enumerate() {
        let i = i as u32;
        let group = i / container * container;
        let within = i % container;
        let elem = within / esize;
        let byte = within % esize;
        let per = container / esize;
        *slot = (group + (per - 1 - elem) * esize + byte) as u8;
    }
    shuffle(cx, idx, a, a)
}

/// RBIT (vector): bits reversed inside each byte.
fn rbit_bytes(cx: &mut LiftCx, a: Value) -> Value {
    let mut r = cx.b.vconst(0);
    for i in 0..16u8 {
        let b = cx.b.vextract(Type::I8, i, a);
        let rev = cx.b.bitrev(b);
        r = cx.b.vinsert(Type::I8, i, r, rev);
    }
    r
}

/// ADDV, [SU]MAXV, [SU]MINV, [SU]ADDLV, FMAXV/FMINV (NM too).
fn across(w: u32, cx: &mut LiftCx) -> Lifted {
    let q = bit(w, 30);
    let u = bit(w, 29);
    let size = bits(w, 23, 22);
    let rd = bits(w, 4, 0);
    let a = vreg(cx, bits(w, 9, 5));
    let ty = lane(size);
    // 64-bit forms: the low half, duplicated so max/min see only it.
    let dup = if q { a } else { cx.b.vzip_lo(Type::I64, a, a) };
    let r = match (bits(w, 16, 12), u) {
        (0b11011, false) => {
            let x = fit(cx, q, a);
            cx.b.vreduce_add(ty, x)
        }
        (0b01010, false) => cx.b.vreduce_smax(ty, dup),
        (0b01010, true) => cx.b.vreduce_umax(ty, dup),
        (0b11010, false) => cx.b.vreduce_smin(ty, dup),
        (0b11010, true) => cx.b.vreduce_umin(ty, dup),
        (0b00011, u) if size < 2 || (size == 2 && q) => {
            let x = fit(cx, q, a);
            let wide = lane(size + 1);
            let (lo, hi) = if u {
                (cx.b.vuwiden_lo(ty, x), cx.b.vuwiden_hi(ty, x))
            } else {
                (cx.b.vswiden_lo(ty, x), cx.b.vswiden_hi(ty, x))
            };
            let sum = cx.b.viadd(wide, lo, hi);
            let s = cx.b.vreduce_add(wide, sum);
            set_low(cx, rd, s);
            return Ok(());
        }
        _ => {
            return Err(unsupported(
                cx,
                w,
                "Advanced SIMD across-lanes op not lifted",
            ))
        }
    };
    set_low(cx, rd, r);
    Ok(())
}

/// DUP (element, general), INS (element, general), SMOV, UMOV.
fn copy(w: u32, cx: &mut LiftCx) -> Lifted {
    let q = bit(w, 30);
    let imm5 = bits(w, 20, 16);
    let size = imm5.trailing_zeros();
    if size > 3 {
        return Err(unsupported(cx, w, "reserved copy size"));
    }
    let ty = lane(size);
    let index = (imm5 >> (size + 1)) as u8;
    let (rn, rd) = (bits(w, 9, 5), bits(w, 4, 0));
    let imm4 = bits(w, 14, 11);
    if bit(w, 29) {
        let src_index = (imm4 >> size) as u8;
        let src = vreg(cx, rn);
        let x = cx.b.vextract(ty, src_index, src);
        let d = vreg(cx, rd);
        let r = cx.b.vinsert(ty, index, d, x);
        set_vreg(cx, rd, r);
        return Ok(());
    }
    match imm4 {
        0b0000 => {
            let src = vreg(cx, rn);
            let x = cx.b.vextract(ty, index, src);
            let r = cx.b.vsplat(ty, x);
            let r = fit(cx, q, r);
            set_vreg(cx, rd, r);
        }
        0b0001 => {
            let g = gp(cx, rn, true);
            let x = if ty == Type::I64 {
                g
            } else {
                cx.b.ireduce(ty, g)
            };
            let r = cx.b.vsplat(ty, x);
            let r = fit(cx, q, r);
            set_vreg(cx, rd, r);
        }
        0b0011 => {
            let g = gp(cx, rn, true);
            let x = if ty == Type::I64 {
                g
            } else {
                cx.b.ireduce(ty, g)
            };
            let d = vreg(cx, rd);
            let r = cx.b.vinsert(ty, index, d, x);
            set_vreg(cx, rd, r);
        }
        0b0101 | 0b0111 => {
            let src = vreg(cx, rn);
            let x = cx.b.vextract(ty, index, src);
            let r = if imm4 == 0b0101 {
                let to = if q { Type::I64 } else { Type::I32 };
                cx.b.sext(to, x)
            } else if ty == Type::I64 {
                x
            } else {
                cx.b.uext(Type::I64, x)
            };
            set_gp(cx, rd, r);
        }
        _ => return Err(unsupported(cx, w, "reserved copy form")),
    }
    Ok(())
}

/// AdvSIMDExpandImm: the 64-bit pattern of `op:cmode:abcdefgh`.
fn expand_imm(op: bool, cmode: u32, imm8: u64) -> Option<u64> {
    let rep32 = |v: u64| v | (v << 32);
    let rep16 = |v: u64| {
        let v = v & 0xffff;
        v | (v << 16) | (v << 32) | (v << 48)
    };
    Some(match cmode >> 1 {
        0 => rep32(imm8),
        1 => rep32(imm8 << 8),
        2 => rep32(imm8 << 16),
        3 => rep32(imm8 << 24),
        4 => rep16(imm8),
        5 => rep16(imm8 << 8),
        6 => {
            if cmode & 1 == 0 {
                rep32((imm8 << 8) | 0xff)
            } else {
                rep32((imm8 << 16) | 0xffff)
            }
        }
        _ => match (cmode & 1, op) {
            (0, false) => imm8 * 0x0101_0101_0101_0101,
            (0, true) => {
                let mut v = 0u64;
                for i in 0..8 {
                    if imm8 >> i & 1 != 0 {
                        v |= 0xff << (8 * i);
                    }
                }
                v
            }
            (1, false) => {
                // FMOV (vector, single precision).
                rep32(u64::from(vfp_expand32(imm8 as u32)))
            }
            _ => vfp_expand64(imm8 as u32),
        },
    })
}

/// VFPExpandImm for single precision.
pub(super) fn vfp_expand32(imm8: u32) -> u32 {
    let sign = (imm8 >> 7) & 1;
    let b6 = (imm8 >> 6) & 1;
    let exp = ((b6 ^ 1) << 7) | (if b6 == 1 { 0x7c } else { 0 }) | ((imm8 >> 4) & 3);
    let frac = (imm8 & 15) << 19;
    (sign << 31) | (exp << 23) | frac
}

/// VFPExpandImm for double precision.
pub(super) fn vfp_expand64(imm8: u32) -> u64 {
    let sign = u64::from((imm8 >> 7) & 1);
    let b6 = u64::from((imm8 >> 6) & 1);
    let exp = ((b6 ^ 1) << 10) | (if b6 == 1 { 0x3fc } else { 0 }) | u64::from((imm8 >> 4) & 3);
    let frac = u64::from(imm8 & 15) << 48;
    (sign << 63) | (exp << 52) | frac
}

/// MOVI, MVNI, ORR, BIC (vector, immediate), FMOV (vector, immediate).
fn modified_immediate(w: u32, cx: &mut LiftCx) -> Lifted {
    let q = bit(w, 30);
    let op = bit(w, 29);
    let cmode = bits(w, 15, 12);
    let rd = bits(w, 4, 0);
    let imm8 = u64::from((bits(w, 18, 16) << 5) | bits(w, 9, 5));
    if cmode == 0b1111 && op && !q {
        return Err(unsupported(cx, w, "reserved FMOV vector form"));
    }
    if bit(w, 11) {
        return Err(unsupported(
            cx,
            w,
            "half-precision FMOV (FP16 is not advertised)",
        ));
    }
    let Some(imm) = expand_imm(op, cmode, imm8) else {
        return Err(unsupported(cx, w, "reserved modified immediate"));
    };
    let full = u128::from(imm) | (u128::from(imm) << 64);
    let c = cx.b.vconst(full);
    let logic = cmode < 0b1100 && cmode & 1 == 1;
    let invert = op && cmode < 0b1110;
    let r = if logic {
        let d = vreg(cx, rd);
        if op {
            cx.b.vand_not(Type::I64, d, c)
        } else {
            cx.b.vor(Type::I64, d, c)
        }
    } else if invert {
        cx.b.vconst(!full)
    } else {
        c
    };
    let r = fit(cx, q, r);
    set_vreg(cx, rd, r);
    Ok(())
}

/// The element size (log2 bytes) and shift of a shift-by-immediate.
fn shift_fields(w: u32) -> (u32, u32, u32) {
    let immh = bits(w, 22, 19);
    let size = 31 - immh.leading_zeros();
    let immhb = bits(w, 22, 16);
    let esize = 8u32 << size;
    (size, 2 * esize - immhb, immhb - esize)
}

/// SSHR, USHR, SSRA, USRA, SHL, SLI, SRI, SHRN, SSHLL/USHLL.
fn shift_immediate(w: u32, cx: &mut LiftCx) -> Lifted {
    let q = bit(w, 30);
    let u = bit(w, 29);
    let (size, right, left) = shift_fields(w);
    let rd = bits(w, 4, 0);
    let a = vreg(cx, bits(w, 9, 5));
    if size == 3 && !q && bits(w, 15, 11) != 0b10100 && bits(w, 15, 11) != 0b10000 {
        return Err(unsupported(cx, w, "reserved 1D shift"));
    }
    let ty = lane(size);
    let r = match (bits(w, 15, 11), u) {
        (0b00000 | 0b00010, _) => {
            let sh = k(cx, Type::I32, u64::from(right));
            let s = if u {
                cx.b.vushr(ty, a, sh)
            } else {
                cx.b.vsshr(ty, a, sh)
            };
            if bits(w, 15, 11) == 0b00010 {
                let d = vreg(cx, rd);
                cx.b.viadd(ty, d, s)
            } else {
                s
            }
        }
        (0b01010, false) => {
            let sh = k(cx, Type::I32, u64::from(left));
            cx.b.vishl(ty, a, sh)
        }
        (0b01010, true) => {
            // SLI: insert, keeping the low `left` bits of each lane.
            let sh = k(cx, Type::I32, u64::from(left));
            let s = cx.b.vishl(ty, a, sh);
            let keep = splat_int(cx, ty, low_mask(left));
            let d = vreg(cx, rd);
            cx.b.vbitselect(ty, keep, d, s)
        }
        (0b01000, true) => {
            // SRI: insert, keeping the high `right` bits of each lane.
            let sh = k(cx, Type::I32, u64::from(right));
            let s = cx.b.vushr(ty, a, sh);
            let bits_ = ty.bits();
            let keep_mask = if right >= bits_ {
                low_mask(bits_)
            } else {
                low_mask(bits_) & !(low_mask(bits_) >> right)
            };
            let keep = splat_int(cx, ty, keep_mask);
            let d = vreg(cx, rd);
            cx.b.vbitselect(ty, keep, d, s)
        }
        (0b10000, false) if size < 3 => {
            // SHRN: shift the double-width source lanes, then truncate.
            let (wsize, wright, _) = shift_fields(w);
            let _ = wsize;
            let src_ty = lane(size + 1);
            let sh = k(cx, Type::I32, u64::from(wright));
            let s = cx.b.vushr(src_ty, a, sh);
            let zero = cx.b.vconst(0);
            let n = cx.b.vnarrow_trunc(src_ty, s, zero);
            return narrow_result(cx, q, rd, n);
        }
        (0b10100, u) if size < 3 => {
            let x = if q {
                if u {
                    cx.b.vuwiden_hi(ty, a)
                } else {
                    cx.b.vswiden_hi(ty, a)
                }
            } else if u {
                cx.b.vuwiden_lo(ty, a)
            } else {
                cx.b.vswiden_lo(ty, a)
            };
            let sh = k(cx, Type::I32, u64::from(left));
            let r = cx.b.vishl(lane(size + 1), x, sh);
            set_vreg(cx, rd, r);
            return Ok(());
        }
        _ => {
            return Err(unsupported(
                cx,
                w,
                "Advanced SIMD shift-immediate op not lifted",
            ))
        }
    };
    let r = fit(cx, q, r);
    set_vreg(cx, rd, r);
    Ok(())
}

/// MUL, MLA, MLS, FMUL, FMLA, FMLS by element.
fn by_element(w: u32, cx: &mut LiftCx) -> Lifted {
    let q = bit(w, 30);
    let u = bit(w, 29);
    let size = bits(w, 23, 22);
    let (l, m, h) = (
        u32::from(bit(w, 21)),
        u32::from(bit(w, 20)),
        u32::from(bit(w, 11)),
    );
    let rd = bits(w, 4, 0);
    let opcode = bits(w, 15, 12);
    let float = matches!(opcode, 0b0001 | 0b0101 | 0b1001) && !u || (opcode == 0b1001 && u);
    let (ty, index, rm) = if float {
        match size {
            2 => (Type::F32, (h << 1) | l, (m << 4) | bits(w, 19, 16)),
            3 if l == 0 => (Type::F64, h, (m << 4) | bits(w, 19, 16)),
            _ => return Err(unsupported(cx, w, "reserved float by-element size")),
        }
    } else {
        match size {
            1 => (Type::I16, (h << 2) | (l << 1) | m, bits(w, 19, 16)),
            2 => (Type::I32, (h << 1) | l, (m << 4) | bits(w, 19, 16)),
            _ => return Err(unsupported(cx, w, "reserved by-element size")),
        }
    };
    let a = vreg(cx, bits(w, 9, 5));
    let bv = vreg(cx, rm);
    let ity = ty.as_int();
    let x = cx.b.vextract(ity, index as u8, bv);
    let b = cx.b.vsplat(ity, x);
    let r = match (opcode, u, float) {
        (0b1000, false, false) => cx.b.vimul(ty, a, b),
        (0b0000, true, false) => {
            let p = cx.b.vimul(ty, a, b);
            let d = vreg(cx, rd);
            cx.b.viadd(ty, d, p)
        }
        (0b0100, true, false) => {
            let p = cx.b.vimul(ty, a, b);
            let d = vreg(cx, rd);
            cx.b.visub(ty, d, p)
        }
        (0b1001, false, true) => cx.b.vfmul(ty, a, b),
        (0b0001 | 0b0101, false, true) => {
            let d = vreg(cx, rd);
            lanewise_fma(cx, ty, a, b, d, opcode == 0b0101)
        }
        _ => return Err(unsupported(cx, w, "Advanced SIMD by-element op not lifted")),
    };
    let r = fit(cx, q, r);
    set_vreg(cx, rd, r);
    Ok(())
}

/// UZP1/2, TRN1/2, ZIP1/2 as one constant shuffle.
fn permute(w: u32, cx: &mut LiftCx) -> Lifted {
    let o = operands(w, cx);
    if o.size == 3 && !o.q {
        return Err(unsupported(cx, w, "reserved 1D permute"));
    }
    let esize = 1usize << o.size;
    let bytes = if o.q { 16 } else { 8 };
    let n = bytes / esize;
    let op = bits(w, 14, 12);
    let part = usize::from(op >= 0b100);
    // Element index into x:y where y's elements start at 16 / esize.
    let ybase = 16 / esize;
    let mut elems = vec![0usize; n];
    for (i, e) in elems.iter_mut().enumerate() {
        *e = match op & 3 {
            1 => {
                let j = 2 * i + part;
                if j < n {
                    j
                } else {
                    ybase + j - n
                }
            }
            2 => {
                let pair = i / 2;
                if i % 2 == 0 {
                    2 * pair + part
                } else {
                    ybase + 2 * pair + part
                }
            }
            _ => {
                let base = part * n / 2 + i / 2;
                if i % 2 == 0 {
                    base
                } else {
                    ybase + base
                }
            }
        };
    }
    if op & 3 == 0 {
        return Err(unsupported(cx, w, "unallocated permute"));
    }
    let mut idx = [0u8; 16];
    for (i, slot) in idx.iter_mut().enumerate().take(bytes) {
        *slot = (elems[i / esize] * esize + i % esize) as u8;
    }
    let r = shuffle(cx, idx, o.a, o.b);
    let r = fit(cx, o.q, r);
    set_vreg(cx, o.rd, r);
    Ok(())
}

/// EXT: bytes `imm4..` of `a:b`.
fn ext(w: u32, cx: &mut LiftCx) -> Lifted {
    let o = operands(w, cx);
    let pos = bits(w, 14, 11) as usize;
    if !o.q && pos >= 8 {
        return Err(unsupported(cx, w, "reserved EXT index"));
    }
    let mut idx = [0u8; 16];
    let r = if o.q {
        for (i, slot) in idx.iter_mut().enumerate() {
            *slot = (pos + i) as u8;
        }
        shuffle(cx, idx, o.a, o.b)
    } else {
        for (i, slot) in idx.iter_mut().enumerate().take(8) {
            let j = pos + i;
            *slot = if j < 8 { j as u8 } else { (16 + j - 8) as u8 };
        }
        let s = shuffle(cx, idx, o.a, o.b);
        fit(cx, false, s)
    };
    set_vreg(cx, o.rd, r);
    Ok(())
}

/// TBL and TBX with one to four table registers.
fn table(w: u32, cx: &mut LiftCx) -> Lifted {
    let q = bit(w, 30);
    let regs = bits(w, 14, 13) + 1;
    let tbx = bit(w, 12);
    let (rn, rd) = (bits(w, 9, 5), bits(w, 4, 0));
    let idx = vreg(cx, bits(w, 20, 16));
    let mut r = cx.b.vconst(0);
    for i in 0..regs {
        let t = vreg(cx, (rn + i) % 32);
        let off = splat_int(cx, Type::I8, u64::from(16 * i));
        let local = cx.b.visub(Type::I8, idx, off);
        let part = cx.b.vswizzle(Type::I8, t, local);
        // Indices below this table wrap to >= 240 and select zero.
        r = cx.b.vor(Type::I8, r, part);
    }
    if tbx {
        let limit = splat_int(cx, Type::I8, u64::from(16 * regs));
        let out = cx.b.vicmp(Type::I8, IntCC::Uge, idx, limit);
        let d = vreg(cx, rd);
        r = cx.b.vbitselect(Type::I8, out, d, r);
    }
    let r = fit(cx, q, r);
    set_vreg(cx, rd, r);
    Ok(())
}

// ---- scalar forms ----

/// ADDP (scalar), FADDP/FMAXP/FMINP (scalar).
fn scalar_pairwise(w: u32, cx: &mut LiftCx) -> Lifted {
    let u = bit(w, 29);
    let size = bits(w, 23, 22);
    let rd = bits(w, 4, 0);
    let a = vreg(cx, bits(w, 9, 5));
    let opcode = bits(w, 16, 12);
    let r = match (opcode, u) {
        (0b11011, false) if size == 3 => cx.b.vreduce_add(Type::I64, a),
        (0b01101, true) => {
            let ty = flane(bit(w, 22));
            let ity = ty.as_int();
            let x = cx.b.vextract(ity, 0, a);
            let y = cx.b.vextract(ity, 1, a);
            let x = cx.b.bitcast(ty, x);
            let y = cx.b.bitcast(ty, y);
            cx.b.fadd(RoundingMode::Dyn, x, y)
        }
        _ => return Err(unsupported(cx, w, "scalar pairwise op not lifted")),
    };
    set_low(cx, rd, r);
    Ok(())
}

/// Scalar three-same: ADD/SUB/CMxx on D registers; FABD etc. not lifted.
fn scalar_three_same(w: u32, cx: &mut LiftCx) -> Lifted {
    let u = bit(w, 29);
    let size = bits(w, 23, 22);
    let rd = bits(w, 4, 0);
    if bits(w, 15, 11) >= 0b11000 {
        return scalar_float_three_same(w, cx);
    }
    if size != 3 {
        return Err(unsupported(cx, w, "scalar three-same op not lifted"));
    }
    let a = low(cx, bits(w, 9, 5), Type::I64);
    let b = low(cx, bits(w, 20, 16), Type::I64);
    let cmp = |cx: &mut LiftCx, cc: IntCC| {
        let c = cx.b.icmp(cc, a, b);
        cx.b.sext(Type::I64, c)
    };
    let r = match (bits(w, 15, 11), u) {
        (0b10000, false) => cx.b.iadd(a, b),
        (0b10000, true) => cx.b.isub(a, b),
        (0b00110, false) => cmp(cx, IntCC::Sgt),
        (0b00110, true) => cmp(cx, IntCC::Ugt),
        (0b00111, false) => cmp(cx, IntCC::Sge),
        (0b00111, true) => cmp(cx, IntCC::Uge),
        (0b10001, true) => cmp(cx, IntCC::Eq),
        (0b10001, false) => {
            let and = cx.b.band(a, b);
            let zero = k(cx, Type::I64, 0);
            let c = cx.b.icmp(IntCC::Ne, and, zero);
            cx.b.sext(Type::I64, c)
        }
        _ => return Err(unsupported(cx, w, "scalar three-same op not lifted")),
    };
    set_low(cx, rd, r);
    Ok(())
}

/// Scalar FABD, FCMEQ, FCMGE, FCMGT.
fn scalar_float_three_same(w: u32, cx: &mut LiftCx) -> Lifted {
    let ty = flane(bit(w, 22));
    let ity = ty.as_int();
    let a = low(cx, bits(w, 9, 5), ty);
    let b = low(cx, bits(w, 20, 16), ty);
    let mask = |cx: &mut LiftCx, cc: FloatCC| {
        let c = cx.b.fcmp(cc, a, b);
        cx.b.sext(ity, c)
    };
    let r = match (bit(w, 29), bit(w, 23), bits(w, 15, 11)) {
        (true, true, 0b11010) => {
            let d = cx.b.fsub(RoundingMode::Dyn, a, b);
            let d = super::fp::fix_nan(cx, d, &[a, b]);
            cx.b.fabs(d)
        }
        (false, false, 0b11100) => mask(cx, FloatCC::Eq),
        (true, false, 0b11100) => mask(cx, FloatCC::Ge),
        (true, true, 0b11100) => mask(cx, FloatCC::Gt),
        _ => return Err(unsupported(cx, w, "scalar float three-same op not lifted")),
    };
    set_low(cx, bits(w, 4, 0), r);
    Ok(())
}

/// DUP (element, scalar): `mov d0, v1.d[1]`.
fn scalar_dup(w: u32, cx: &mut LiftCx) -> Lifted {
    if bit(w, 29) || bits(w, 14, 11) != 0 {
        return Err(unsupported(cx, w, "reserved scalar copy"));
    }
    let imm5 = bits(w, 20, 16);
    let size = imm5.trailing_zeros();
    if size > 3 {
        return Err(unsupported(cx, w, "reserved scalar copy size"));
    }
    let ty = lane(size);
    let a = vreg(cx, bits(w, 9, 5));
    let x = cx.b.vextract(ty, (imm5 >> (size + 1)) as u8, a);
    set_low(cx, bits(w, 4, 0), x);
    Ok(())
}

/// Scalar SSHR/USHR/SHL on D registers.
fn scalar_shift_immediate(w: u32, cx: &mut LiftCx) -> Lifted {
    let u = bit(w, 29);
    let (size, right, left) = shift_fields(w);
    if size != 3 {
        return Err(unsupported(cx, w, "scalar shift-immediate op not lifted"));
    }
    let a = low(cx, bits(w, 9, 5), Type::I64);
    let r = match (bits(w, 15, 11), u) {
        (0b00000, false) => {
            let s = k(cx, Type::I64, u64::from(right.min(63)));
            cx.b.sshr(a, s)
        }
        (0b00000, true) => {
            if right >= 64 {
                k(cx, Type::I64, 0)
            } else {
                let s = k(cx, Type::I64, u64::from(right));
                cx.b.ushr(a, s)
            }
        }
        (0b01010, false) => {
            let s = k(cx, Type::I64, u64::from(left));
            cx.b.ishl(a, s)
        }
        _ => return Err(unsupported(cx, w, "scalar shift-immediate op not lifted")),
    };
    set_low(cx, bits(w, 4, 0), r);
    Ok(())
}

/// Scalar two-register: CMxx #0, ABS, NEG on D registers; SCVTF/UCVTF,
/// FCVTZS/FCVTZU (scalar SIMD forms).
fn scalar_two_misc(w: u32, cx: &mut LiftCx) -> Lifted {
    let u = bit(w, 29);
    let size = bits(w, 23, 22);
    let rd = bits(w, 4, 0);
    let rn = bits(w, 9, 5);
    let opcode = bits(w, 16, 12);
    if size == 3 && opcode != 0b11101 && opcode != 0b11011 {
        let a = low(cx, rn, Type::I64);
        let zero = k(cx, Type::I64, 0);
        let cmp = |cx: &mut LiftCx, cc: IntCC| {
            let c = cx.b.icmp(cc, a, zero);
            cx.b.sext(Type::I64, c)
        };
        let r = match (opcode, u) {
            (0b01000, false) => cmp(cx, IntCC::Sgt),
            (0b01000, true) => cmp(cx, IntCC::Sge),
            (0b01001, false) => cmp(cx, IntCC::Eq),
            (0b01001, true) => cmp(cx, IntCC::Sle),
            (0b01010, false) => cmp(cx, IntCC::Slt),
            (0b01011, false) => {
                let n = cx.b.ineg(a);
                let neg = cx.b.icmp(IntCC::Slt, a, zero);
                cx.b.select(neg, n, a)
            }
            (0b01011, true) => cx.b.ineg(a),
            _ => return Err(unsupported(cx, w, "scalar two-register op not lifted")),
        };
        set_low(cx, rd, r);
        return Ok(());
    }
    let single = size & 1 == 0;
    let (fty, ity) = if single {
        (Type::F32, Type::I32)
    } else {
        (Type::F64, Type::I64)
    };
    let r = match (opcode, size >> 1, u) {
        (0b11101, 0, false) => {
            let x = low(cx, rn, ity);
            cx.b.fcvt_from_sint(fty, RoundingMode::Dyn, x)
        }
        (0b11101, 0, true) => {
            let x = low(cx, rn, ity);
            cx.b.fcvt_from_uint(fty, RoundingMode::Dyn, x)
        }
        (0b11011, 1, false) => {
            let x = low(cx, rn, fty);
            cx.b.fcvt_to_sint(ity, x)
        }
        (0b11011, 1, true) => {
            let x = low(cx, rn, fty);
            cx.b.fcvt_to_uint(ity, x)
        }
        _ => return Err(unsupported(cx, w, "scalar two-register op not lifted")),
    };
    set_low(cx, rd, r);
    Ok(())
}
