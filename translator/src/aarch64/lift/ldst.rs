//! Loads and stores: every addressing mode of single registers (unsigned
//! offset, unscaled, pre/post-index, register offset, literal), pairs,
//! exclusives and acquire/release, LSE atomics, and the Advanced SIMD
//! structure loads and stores.

use vmtrans_ir::{AtomicOp, IntCC, Type, Value};

use super::dp_reg::extend;
use super::{bit, bits, gp, gp_sp, k, set_gp, set_gp_sp, simd, unsupported, LiftCx, Lifted};
use crate::aarch64::decode::sext;
use crate::aarch64::regs::{EXCL_ADDR, EXCL_VAL, EXCL_VAL_HI};

/// Lifts the load/store group.
pub(super) fn lift(w: u32, cx: &mut LiftCx) -> Lifted {
    match w {
        _ if w & 0x3f00_0000 == 0x0800_0000 => exclusive(w, cx),
        _ if w & 0x3b00_0000 == 0x1800_0000 => literal(w, cx),
        _ if w & 0x3a00_0000 == 0x2800_0000 => pair(w, cx),
        _ if w & 0x3a00_0000 == 0x3800_0000 => single(w, cx),
        _ if w & 0xbf00_0000 == 0x0c00_0000 => simd::structures_multiple(w, cx),
        _ if w & 0xbf00_0000 == 0x0d00_0000 => simd::structures_single(w, cx),
        _ => Err(unsupported(cx, w, "load/store class (MTE / RCpc / SVE)")),
    }
}

/// The integer type of an access of `bytes` bytes.
pub(super) fn int_type(bytes: u32) -> Type {
    match bytes {
        1 => Type::I8,
        2 => Type::I16,
        4 => Type::I32,
        8 => Type::I64,
        _ => Type::I128,
    }
}

/// What a single-register access does with its register.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Access {
    /// Store the low bytes of a general register.
    Store,
    /// Load, zero-extend into a general register.
    Load,
    /// Load, sign-extend to 64 bits.
    LoadSigned64,
    /// Load, sign-extend to 32 bits (then zero-extend).
    LoadSigned32,
    /// Store the low bytes of a SIMD&FP register.
    StoreVec,
    /// Load into a SIMD&FP register, zeroing the rest.
    LoadVec,
    /// Prefetch: nothing.
    Prefetch,
}

/// The access and its size in bytes from `size`, `V` and `opc`.
fn access_kind(w: u32) -> Option<(Access, u32)> {
    let size = bits(w, 31, 30);
    let opc = bits(w, 23, 22);
    if bit(w, 26) {
        let bytes = if opc & 2 != 0 {
            if size != 0 {
                return None;
            }
            16
        } else {
            1 << size
        };
        let kind = if opc & 1 != 0 {
            Access::LoadVec
        } else {
            Access::StoreVec
        };
        return Some((kind, bytes));
    }
    let bytes = 1 << size;
    let kind = match (opc, size) {
        (0, _) => Access::Store,
        (1, _) => Access::Load,
        (2, 3) => Access::Prefetch,
        (2, _) => Access::LoadSigned64,
        (3, 0 | 1) => Access::LoadSigned32,
        _ => return None,
    };
    Some((kind, bytes))
}

/// Performs `kind` on register `rt` at `addr`.
fn access(cx: &mut LiftCx, kind: Access, bytes: u32, rt: u32, addr: Value) {
    let ty = int_type(bytes);
    match kind {
        Access::Store => {
            let v = gp(cx, rt, true);
            let v = if ty == Type::I64 {
                v
            } else {
                cx.b.ireduce(ty, v)
            };
            cx.b.store(addr, v);
        }
        Access::Load | Access::LoadSigned64 | Access::LoadSigned32 => {
            let v = cx.b.load(ty, addr);
            let r = match kind {
                _ if ty == Type::I64 => v,
                Access::Load => cx.b.uext(Type::I64, v),
                Access::LoadSigned64 => cx.b.sext(Type::I64, v),
                _ => {
                    let s = cx.b.sext(Type::I32, v);
                    cx.b.uext(Type::I64, s)
                }
            };
            set_gp(cx, rt, r);
        }
        Access::StoreVec => simd::store_low(cx, rt, bytes, addr),
        Access::LoadVec => simd::load_low(cx, rt, bytes, addr),
        Access::Prefetch => {}
    }
}

fn offset(cx: &mut LiftCx, base: Value, off: i64) -> Value {
    if off == 0 {
        return base;
    }
    let o = k(cx, Type::I64, off as u64);
    cx.b.iadd(base, o)
}

/// Single register, every addressing mode except literal and pairs.
fn single(w: u32, cx: &mut LiftCx) -> Lifted {
    let (rn, rt) = (bits(w, 9, 5), bits(w, 4, 0));
    if !bit(w, 24) && bit(w, 21) && bits(w, 11, 10) == 0 {
        return if bit(w, 26) {
            Err(unsupported(cx, w, "SIMD atomic form"))
        } else {
            atomic(w, cx)
        };
    }
    let Some((kind, bytes)) = access_kind(w) else {
        return Err(unsupported(cx, w, "unallocated load/store size/opc"));
    };
    let base = gp_sp(cx, rn, true);
    if bit(w, 24) {
        let addr = offset(cx, base, i64::from(bits(w, 21, 10)) * i64::from(bytes));
        access(cx, kind, bytes, rt, addr);
        return Ok(());
    }
    if bit(w, 21) {
        if bits(w, 11, 10) != 0b10 || !bit(w, 14) {
            return Err(unsupported(cx, w, "load/store form (PAuth / reserved)"));
        }
        let shift = if bit(w, 12) {
            bytes.trailing_zeros()
        } else {
            0
        };
        let m = gp(cx, bits(w, 20, 16), true);
        let off = extend(cx, m, bits(w, 15, 13), shift, Type::I64);
        let addr = cx.b.iadd(base, off);
        access(cx, kind, bytes, rt, addr);
        return Ok(());
    }
    let imm = sext(bits(w, 20, 12), 9);
    match bits(w, 11, 10) {
        0b00 | 0b10 => {
            let addr = offset(cx, base, imm);
            access(cx, kind, bytes, rt, addr);
        }
        0b01 => {
            access(cx, kind, bytes, rt, base);
            let next = offset(cx, base, imm);
            set_gp_sp(cx, rn, next);
        }
        _ => {
            let addr = offset(cx, base, imm);
            access(cx, kind, bytes, rt, addr);
            set_gp_sp(cx, rn, addr);
        }
    }
    Ok(())
}

/// LDR (literal), LDRSW (literal), PRFM (literal), SIMD LDR (literal).
fn literal(w: u32, cx: &mut LiftCx) -> Lifted {
    let opc = bits(w, 31, 30);
    let addr = cx.pc().wrapping_add((sext(bits(w, 23, 5), 19) << 2) as u64);
    let addr = cx.const64(addr);
    let rt = bits(w, 4, 0);
    let (kind, bytes) = match (bit(w, 26), opc) {
        (false, 0) => (Access::Load, 4),
        (false, 1) => (Access::Load, 8),
        (false, 2) => (Access::LoadSigned64, 4),
        (false, _) => (Access::Prefetch, 8),
        (true, 0) => (Access::LoadVec, 4),
        (true, 1) => (Access::LoadVec, 8),
        (true, 2) => (Access::LoadVec, 16),
        (true, _) => return Err(unsupported(cx, w, "unallocated literal load")),
    };
    access(cx, kind, bytes, rt, addr);
    Ok(())
}

/// LDP, STP, LDPSW, LDNP, STNP (integer and SIMD&FP), every index mode.
fn pair(w: u32, cx: &mut LiftCx) -> Lifted {
    let opc = bits(w, 31, 30);
    let load = bit(w, 22);
    let (kinds, bytes) = match (bit(w, 26), opc) {
        (false, 0) => ((Access::Store, Access::Load), 4),
        (false, 2) => ((Access::Store, Access::Load), 8),
        (false, 1) if load => ((Access::Store, Access::LoadSigned64), 4),
        (true, 0) => ((Access::StoreVec, Access::LoadVec), 4),
        (true, 1) => ((Access::StoreVec, Access::LoadVec), 8),
        (true, 2) => ((Access::StoreVec, Access::LoadVec), 16),
        _ => return Err(unsupported(cx, w, "pair form (STGP / reserved)")),
    };
    let kind = if load { kinds.1 } else { kinds.0 };
    let (rn, rt, rt2) = (bits(w, 9, 5), bits(w, 4, 0), bits(w, 14, 10));
    let imm = sext(bits(w, 21, 15), 7) * i64::from(bytes);
    let base = gp_sp(cx, rn, true);
    let mode = bits(w, 24, 23);
    let addr = if mode == 0b01 {
        base
    } else {
        offset(cx, base, imm)
    };
    let second = offset(cx, addr, i64::from(bytes));
    if load {
        // Both loads happen before either register is written (rt may be
        // the base or rt2 may alias).
        let (a, b) = load_pair_values(cx, kind, bytes, addr, second);
        write_loaded(cx, kind, rt, a);
        write_loaded(cx, kind, rt2, b);
    } else {
        access(cx, kind, bytes, rt, addr);
        access(cx, kind, bytes, rt2, second);
    }
    match mode {
        0b01 => {
            let next = offset(cx, base, imm);
            set_gp_sp(cx, rn, next);
        }
        0b11 => set_gp_sp(cx, rn, addr),
        _ => {}
    }
    Ok(())
}

fn load_pair_values(
    cx: &mut LiftCx,
    kind: Access,
    bytes: u32,
    a: Value,
    b: Value,
) -> (Value, Value) {
    let ty = if kind == Access::LoadVec && bytes == 16 {
        Type::V128
    } else {
        int_type(bytes)
    };
    (cx.b.load(ty, a), cx.b.load(ty, b))
}

fn write_loaded(cx: &mut LiftCx, kind: Access, rt: u32, v: Value) {
    match kind {
        Access::LoadVec => simd::set_low(cx, rt, v),
        Access::LoadSigned64 => {
            let s = cx.b.sext(Type::I64, v);
            set_gp(cx, rt, s);
        }
        _ => {
            let ty = super::ty_of(cx, v);
            let r = if ty == Type::I64 {
                v
            } else {
                cx.b.uext(Type::I64, v)
            };
            set_gp(cx, rt, r);
        }
    }
}

/// Exclusives, acquire/release loads and stores, compare-and-swap.
fn exclusive(w: u32, cx: &mut LiftCx) -> Lifted {
    let size = bits(w, 31, 30);
    let bytes = 1u32 << size;
    let ty = int_type(bytes);
    let (rs, rt2, rn, rt) = (
        bits(w, 20, 16),
        bits(w, 14, 10),
        bits(w, 9, 5),
        bits(w, 4, 0),
    );
    let load = bit(w, 22);
    let addr = gp_sp(cx, rn, true);
    match (bit(w, 23), bit(w, 21)) {
        (false, false) if load => {
            let v = cx.b.load(ty, addr);
            let wide = if ty == Type::I64 {
                v
            } else {
                cx.b.uext(Type::I64, v)
            };
            cx.b.def_reg(EXCL_ADDR, addr);
            cx.b.def_reg(EXCL_VAL, wide);
            set_gp(cx, rt, wide);
        }
        (false, false) => {
            let new = gp(cx, rt, true);
            let new = if ty == Type::I64 {
                new
            } else {
                cx.b.ireduce(ty, new)
            };
            store_exclusive(cx, rs, addr, ty, new, None);
        }
        (false, true) if size >= 2 && load => {
            if size == 3 {
                let lo = cx.b.load(Type::I64, addr);
                let eight = k(cx, Type::I64, 8);
                let hi_addr = cx.b.iadd(addr, eight);
                let hi = cx.b.load(Type::I64, hi_addr);
                cx.b.def_reg(EXCL_ADDR, addr);
                cx.b.def_reg(EXCL_VAL, lo);
                cx.b.def_reg(EXCL_VAL_HI, hi);
                set_gp(cx, rt, lo);
                set_gp(cx, rt2, hi);
            } else {
                let both = cx.b.load(Type::I64, addr);
                cx.b.def_reg(EXCL_ADDR, addr);
                cx.b.def_reg(EXCL_VAL, both);
                let lo = cx.b.ireduce(Type::I32, both);
                let s = k(cx, Type::I64, 32);
                let hi = cx.b.ushr(both, s);
                set_gp(cx, rt, lo);
                set_gp(cx, rt2, hi);
            }
        }
        (false, true) if size == 2 => {
            let both = pack_pair(cx, rt, rt2, false);
            store_exclusive(cx, rs, addr, Type::I64, both, None);
        }
        (false, true) if size == 3 => {
            let both = pack_pair(cx, rt, rt2, true);
            store_exclusive(cx, rs, addr, Type::I128, both, None);
        }
        (false, true) => compare_and_swap_pair(cx, size == 1, rs, rt, addr),
        (true, false) if load => {
            let v = cx.b.load(ty, addr);
            let wide = if ty == Type::I64 {
                v
            } else {
                cx.b.uext(Type::I64, v)
            };
            set_gp(cx, rt, wide);
        }
        (true, false) => {
            let v = gp(cx, rt, true);
            let v = if ty == Type::I64 {
                v
            } else {
                cx.b.ireduce(ty, v)
            };
            cx.b.store(addr, v);
            // Store-release then load-acquire must not pass each other.
            cx.b.fence();
        }
        (true, true) => {
            let expected = gp(cx, rs, true);
            let new = gp(cx, rt, true);
            let (expected, new) = if ty == Type::I64 {
                (expected, new)
            } else {
                (cx.b.ireduce(ty, expected), cx.b.ireduce(ty, new))
            };
            let old = cx.b.atomic_cas(addr, expected, new);
            let wide = if ty == Type::I64 {
                old
            } else {
                cx.b.uext(Type::I64, old)
            };
            set_gp(cx, rs, wide);
        }
    }
    Ok(())
}

/// STXR: a compare-and-swap against the value the load-exclusive read,
/// when the monitor holds this address; status 0 on success into `rs`.
fn store_exclusive(
    cx: &mut LiftCx,
    rs: u32,
    addr: Value,
    ty: Type,
    new: Value,
    _hi: Option<Value>,
) {
    let reserved = cx.b.use_reg(EXCL_ADDR);
    let held = cx.b.icmp(IntCC::Eq, reserved, addr);
    let try_cas = cx.b.create_block();
    let fail = cx.b.create_block();
    let join = cx.b.create_block();
    let status = cx.b.append_block_param(join, Type::I64);
    cx.b.brif(held, try_cas, fail);

    cx.b.switch_to_block(try_cas);
    let expected = cx.b.use_reg(EXCL_VAL);
    let expected = match ty {
        Type::I64 => expected,
        Type::I128 => {
            let hi = cx.b.use_reg(EXCL_VAL_HI);
            join128(cx, expected, hi)
        }
        _ => cx.b.ireduce(ty, expected),
    };
    let old = cx.b.atomic_cas(addr, expected, new);
    let lost = cx.b.icmp(IntCC::Ne, old, expected);
    let code = cx.b.uext(Type::I64, lost);
    cx.b.jump(join, &[code]);

    cx.b.switch_to_block(fail);
    let one = k(cx, Type::I64, 1);
    cx.b.jump(join, &[one]);

    cx.b.switch_to_block(join);
    let none = k(cx, Type::I64, u64::MAX);
    cx.b.def_reg(EXCL_ADDR, none);
    set_gp(cx, rs, status);
}

/// `hi:lo` as one `i128`.
fn join128(cx: &mut LiftCx, lo: Value, hi: Value) -> Value {
    let lo = cx.b.uext(Type::I128, lo);
    let hi = cx.b.uext(Type::I128, hi);
    let s = cx.b.iconst(Type::I128, 64);
    let hi = cx.b.ishl(hi, s);
    cx.b.bor(lo, hi)
}

/// Registers `rt` (low) and `rt2` (high) as one value: two W registers in
/// an `i64`, or two X registers in an `i128`.
fn pack_pair(cx: &mut LiftCx, rt: u32, rt2: u32, wide: bool) -> Value {
    if wide {
        let lo = gp(cx, rt, true);
        let hi = gp(cx, rt2, true);
        return join128(cx, lo, hi);
    }
    let lo = gp(cx, rt, false);
    let hi = gp(cx, rt2, false);
    let lo = cx.b.uext(Type::I64, lo);
    let hi = cx.b.uext(Type::I64, hi);
    let s = k(cx, Type::I64, 32);
    let hi = cx.b.ishl(hi, s);
    cx.b.bor(lo, hi)
}

/// CASP: compares the pair `rs, rs+1` with memory and stores `rt, rt+1`
/// when equal; the old pair lands in `rs, rs+1`.
fn compare_and_swap_pair(cx: &mut LiftCx, wide: bool, rs: u32, rt: u32, addr: Value) {
    let expected = pack_pair(cx, rs, rs + 1, wide);
    let new = pack_pair(cx, rt, rt + 1, wide);
    let old = cx.b.atomic_cas(addr, expected, new);
    let (half, ty) = if wide {
        (64, Type::I64)
    } else {
        (32, Type::I32)
    };
    let full = if wide { Type::I128 } else { Type::I64 };
    let lo = cx.b.ireduce(ty, old);
    let s = cx.b.iconst(full, half);
    let hi = cx.b.ushr(old, s);
    let hi = cx.b.ireduce(ty, hi);
    set_gp(cx, rs, lo);
    set_gp(cx, rs + 1, hi);
}

/// LSE: LDADD, LDCLR, LDEOR, LDSET, LD{S,U}{MAX,MIN}, SWP, and LDAPR.
fn atomic(w: u32, cx: &mut LiftCx) -> Lifted {
    let bytes = 1u32 << bits(w, 31, 30);
    let ty = int_type(bytes);
    let (rs, rn, rt) = (bits(w, 20, 16), bits(w, 9, 5), bits(w, 4, 0));
    let addr = gp_sp(cx, rn, true);
    let op = match (bit(w, 15), bits(w, 14, 12)) {
        (false, 0) => AtomicOp::Add,
        (false, 1) => AtomicOp::And,
        (false, 2) => AtomicOp::Xor,
        (false, 3) => AtomicOp::Or,
        (false, 4) => AtomicOp::Smax,
        (false, 5) => AtomicOp::Smin,
        (false, 6) => AtomicOp::Umax,
        (false, 7) => AtomicOp::Umin,
        (true, 0) => AtomicOp::Xchg,
        (true, 4) if rs == 31 => {
            let v = cx.b.load(ty, addr);
            let wide = if ty == Type::I64 {
                v
            } else {
                cx.b.uext(Type::I64, v)
            };
            set_gp(cx, rt, wide);
            return Ok(());
        }
        _ => return Err(unsupported(cx, w, "unallocated atomic memory operation")),
    };
    let s = gp(cx, rs, true);
    let s = if ty == Type::I64 {
        s
    } else {
        cx.b.ireduce(ty, s)
    };
    // LDCLR clears the bits set in Rs.
    let s = if bits(w, 14, 12) == 1 && !bit(w, 15) {
        cx.b.bnot(s)
    } else {
        s
    };
    let old = cx.b.atomic_rmw(op, addr, s);
    let wide = if ty == Type::I64 {
        old
    } else {
        cx.b.uext(Type::I64, old)
    };
    set_gp(cx, rt, wide);
    Ok(())
}
