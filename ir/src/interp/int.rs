//! Integer semantics: every op works on `u128` bit patterns masked to the
//! operand type's width, for every width from `i1` to `i128`.

use crate::ops::IntCC;
use crate::types::Type;

/// Mask of the low `bits` bits (`bits` in 1..=128).
pub(crate) const fn mask_bits(bits: u32) -> u128 {
    if bits >= 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    }
}

/// Sign-extends the low `bits` bits of `v` to an `i128`.
pub(crate) const fn sext_bits(v: u128, bits: u32) -> i128 {
    let shift = 128 - bits;
    ((v << shift) as i128) >> shift
}

/// Sign-extends a value of type `ty` to an `i128`.
pub(crate) const fn sx(v: u128, ty: Type) -> i128 {
    sext_bits(v, ty.bits())
}

/// Unary integer ops.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntUnOp {
    Neg,
    Not,
    Clz,
    Ctz,
    Popcnt,
    Bswap,
    Bitrev,
}

/// Binary integer ops whose result has the operand type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IntBinOp {
    Add,
    Sub,
    Mul,
    Umulhi,
    Smulhi,
    Sumulhi,
    Udiv,
    Sdiv,
    Urem,
    Srem,
    And,
    Or,
    Xor,
    AndNot,
    Umin,
    Umax,
    Smin,
    Smax,
}

/// Shifts and rotates (amount modulo the width).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ShiftOp {
    Shl,
    Ushr,
    Sshr,
    Rotl,
    Rotr,
}

/// Overflow flags giving an `i1`: carry or signed overflow of an add,
/// borrow or signed overflow of a subtract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlagOp {
    Uadd,
    Sadd,
    Usub,
    Ssub,
}

/// A unary op on a value of type `ty`.
pub(crate) fn unary(op: IntUnOp, ty: Type, x: u128) -> u128 {
    let w = ty.bits();
    let m = mask_bits(w);
    let r = match op {
        IntUnOp::Neg => x.wrapping_neg(),
        IntUnOp::Not => !x,
        IntUnOp::Clz => u128::from((x & m).leading_zeros() - (128 - w)),
        IntUnOp::Ctz => u128::from((x & m).trailing_zeros().min(w)),
        IntUnOp::Popcnt => u128::from((x & m).count_ones()),
        IntUnOp::Bswap if w <= 8 => x,
        IntUnOp::Bswap => x.swap_bytes() >> (128 - w),
        IntUnOp::Bitrev => x.reverse_bits() >> (128 - w),
    };
    r & m
}

/// A binary op on two values of type `ty`.
pub(crate) fn binary(op: IntBinOp, ty: Type, x: u128, y: u128) -> u128 {
    let w = ty.bits();
    let m = mask_bits(w);
    let (x, y) = (x & m, y & m);
    let (sx, sy) = (sext_bits(x, w), sext_bits(y, w));
    let r = match op {
        IntBinOp::Add => x.wrapping_add(y),
        IntBinOp::Sub => x.wrapping_sub(y),
        IntBinOp::Mul => x.wrapping_mul(y),
        IntBinOp::Umulhi => umulhi(x, y, w),
        IntBinOp::Smulhi => smulhi(x, y, w),
        IntBinOp::Sumulhi => sumulhi(x, y, w),
        IntBinOp::Udiv => x.checked_div(y).unwrap_or(0),
        IntBinOp::Urem => x.checked_rem(y).unwrap_or(x),
        IntBinOp::Sdiv if sy == 0 => 0,
        IntBinOp::Sdiv => sx.wrapping_div(sy) as u128,
        IntBinOp::Srem if sy == 0 => x,
        IntBinOp::Srem => sx.wrapping_rem(sy) as u128,
        IntBinOp::And => x & y,
        IntBinOp::Or => x | y,
        IntBinOp::Xor => x ^ y,
        IntBinOp::AndNot => x & !y,
        IntBinOp::Umin => x.min(y),
        IntBinOp::Umax => x.max(y),
        IntBinOp::Smin => sx.min(sy) as u128,
        IntBinOp::Smax => sx.max(sy) as u128,
    };
    r & m
}

/// Full 256-bit product of two `u128`s as (high, low).
pub(crate) fn wide_mul(x: u128, y: u128) -> (u128, u128) {
    const LO: u128 = u64::MAX as u128;
    let (x0, x1) = (x & LO, x >> 64);
    let (y0, y1) = (y & LO, y >> 64);
    let p00 = x0 * y0;
    let p01 = x0 * y1;
    let p10 = x1 * y0;
    let p11 = x1 * y1;
    let mid = (p00 >> 64) + (p01 & LO) + (p10 & LO);
    let lo = (p00 & LO) | (mid << 64);
    let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
    (hi, lo)
}

fn umulhi(x: u128, y: u128, w: u32) -> u128 {
    if w <= 64 {
        (x * y) >> w
    } else {
        wide_mul(x, y).0
    }
}

fn smulhi(x: u128, y: u128, w: u32) -> u128 {
    if w <= 64 {
        ((sext_bits(x, w) * sext_bits(y, w)) >> w) as u128
    } else {
        // signed hi = unsigned hi - (x < 0 ? y : 0) - (y < 0 ? x : 0)
        let mut hi = wide_mul(x, y).0;
        if (x as i128) < 0 {
            hi = hi.wrapping_sub(y);
        }
        if (y as i128) < 0 {
            hi = hi.wrapping_sub(x);
        }
        hi
    }
}

fn sumulhi(x: u128, y: u128, w: u32) -> u128 {
    if w <= 64 {
        ((sext_bits(x, w) * y as i128) >> w) as u128
    } else {
        let hi = wide_mul(x, y).0;
        if (x as i128) < 0 {
            hi.wrapping_sub(y)
        } else {
            hi
        }
    }
}

/// A shift or rotate of `x` (type `ty`) by `amount` modulo the width.
pub(crate) fn shift(op: ShiftOp, ty: Type, x: u128, amount: u128) -> u128 {
    let w = ty.bits();
    let m = mask_bits(w);
    let x = x & m;
    let s = (amount % u128::from(w)) as u32;
    let r = match op {
        ShiftOp::Shl => x << s,
        ShiftOp::Ushr => x >> s,
        ShiftOp::Sshr => (sext_bits(x, w) >> s) as u128,
        ShiftOp::Rotl if s == 0 => x,
        ShiftOp::Rotl => (x << s) | (x >> (w - s)),
        ShiftOp::Rotr if s == 0 => x,
        ShiftOp::Rotr => (x >> s) | (x << (w - s)),
    };
    r & m
}

/// A flag (0 or 1) of `x op y` at type `ty`.
pub(crate) fn flag(op: FlagOp, ty: Type, x: u128, y: u128) -> u128 {
    let w = ty.bits();
    let m = mask_bits(w);
    let (x, y) = (x & m, y & m);
    let (sx, sy) = (sext_bits(x, w), sext_bits(y, w));
    let fits = |r: i128, wide: bool| !wide && sext_bits(r as u128, w) == r;
    let set = match op {
        FlagOp::Uadd => x.checked_add(y).is_none_or(|s| s > m),
        FlagOp::Sadd => {
            let (r, o) = sx.overflowing_add(sy);
            !fits(r, o)
        }
        FlagOp::Usub => x < y,
        FlagOp::Ssub => {
            let (r, o) = sx.overflowing_sub(sy);
            !fits(r, o)
        }
    };
    u128::from(set)
}

/// x86 parity: 1 when the low byte of `x` has an even number of set bits.
pub(crate) fn parity(ty: Type, x: u128) -> u128 {
    let low = x & ty.mask() & 0xff;
    u128::from(low.count_ones().is_multiple_of(2))
}

/// Integer comparison of two values of type `ty`.
pub(crate) fn compare(cc: IntCC, ty: Type, x: u128, y: u128) -> bool {
    let m = ty.mask();
    let (x, y) = (x & m, y & m);
    let (sx, sy) = (sx(x, ty), sx(y, ty));
    match cc {
        IntCC::Eq => x == y,
        IntCC::Ne => x != y,
        IntCC::Slt => sx < sy,
        IntCC::Sle => sx <= sy,
        IntCC::Sgt => sx > sy,
        IntCC::Sge => sx >= sy,
        IntCC::Ult => x < y,
        IntCC::Ule => x <= y,
        IntCC::Ugt => x > y,
        IntCC::Uge => x >= y,
    }
}

/// Sign extension of `x` (type `from`) to type `to`.
pub(crate) fn sext(from: Type, to: Type, x: u128) -> u128 {
    sx(x, from) as u128 & to.mask()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Type::*;

    const I64_MIN: u128 = 1 << 63;
    const M64: u128 = u64::MAX as u128;

    #[test]
    fn division_corners() {
        use IntBinOp::*;
        assert_eq!(binary(Udiv, I32, 7, 0), 0);
        assert_eq!(binary(Urem, I32, 7, 0), 7);
        assert_eq!(binary(Sdiv, I64, 7, 0), 0);
        assert_eq!(binary(Srem, I64, 7, 0), 7);
        assert_eq!(binary(Sdiv, I64, I64_MIN, M64), I64_MIN);
        assert_eq!(binary(Srem, I64, I64_MIN, M64), 0);
        assert_eq!(binary(Sdiv, I8, 0x80, 0xff), 0x80);
        assert_eq!(binary(Srem, I8, 0x80, 0xff), 0);
        let min128 = 1u128 << 127;
        assert_eq!(binary(Sdiv, I128, min128, u128::MAX), min128);
        assert_eq!(binary(Srem, I128, min128, u128::MAX), 0);
        // -7 / 2 = -3 rem -1 (toward zero, remainder has the dividend's sign).
        assert_eq!(
            binary(Sdiv, I32, (-7i32) as u32 as u128, 2),
            (-3i32) as u32 as u128
        );
        assert_eq!(
            binary(Srem, I32, (-7i32) as u32 as u128, 2),
            (-1i32) as u32 as u128
        );
        assert_eq!(binary(Srem, I32, 7, (-2i32) as u32 as u128), 1);
        assert_eq!(binary(Udiv, I32, 0xffff_fff9, 2), 0x7fff_fffc);
        // i1: -1 / -1 is MIN / -1 = MIN.
        assert_eq!(binary(Sdiv, I1, 1, 1), 1);
        assert_eq!(binary(Srem, I1, 1, 1), 0);
        assert_eq!(binary(Udiv, I1, 1, 0), 0);
    }

    #[test]
    fn shifts_are_modulo_width() {
        use ShiftOp::*;
        assert_eq!(shift(Shl, I32, 1, 32), 1);
        assert_eq!(shift(Shl, I32, 1, 33), 2);
        assert_eq!(shift(Ushr, I8, 0x80, 9), 0x40);
        assert_eq!(shift(Sshr, I8, 0x80, 7), 0xff);
        assert_eq!(shift(Sshr, I8, 0x80, 8), 0x80);
        assert_eq!(shift(Sshr, I64, I64_MIN, 63), M64);
        assert_eq!(shift(Rotl, I16, 0x8001, 1), 0x0003);
        assert_eq!(shift(Rotr, I16, 0x8001, 17), 0xc000);
        assert_eq!(shift(Rotl, I128, 1 << 127, 1), 1);
        assert_eq!(shift(Shl, I128, 1, 200), 1 << 72);
        assert_eq!(shift(Shl, I1, 1, 5), 1);
        assert_eq!(shift(Rotl, I64, 0x1234, 64), 0x1234);
    }

    #[test]
    fn mulhi_all_flavours() {
        use IntBinOp::*;
        // -1 * -1 = 1: high half 0 signed; unsigned (2^64-1)^2 high = 2^64-2.
        assert_eq!(binary(Smulhi, I64, M64, M64), 0);
        assert_eq!(binary(Umulhi, I64, M64, M64), M64 - 1);
        // signed -1 times unsigned 2^64-1 = -(2^64-1): high = -1.
        assert_eq!(binary(Sumulhi, I64, M64, M64), M64);
        assert_eq!(binary(Sumulhi, I64, 2, M64), 1);
        assert_eq!(binary(Umulhi, I8, 0xff, 0xff), 0xfe);
        assert_eq!(binary(Smulhi, I8, 0x80, 0x80), 0x40);
        let big = u128::MAX;
        assert_eq!(binary(Umulhi, I128, big, big), big - 1);
        assert_eq!(binary(Smulhi, I128, big, big), 0);
        assert_eq!(binary(Sumulhi, I128, big, big), big);
        assert_eq!(binary(Sumulhi, I128, 2, big), 1);
        let min = 1u128 << 127;
        assert_eq!(binary(Smulhi, I128, min, min), 1 << 126);
        assert_eq!(binary(Smulhi, I128, min, 2), big);
        assert_eq!(wide_mul(1 << 100, 1 << 100), (1 << 72, 0));
    }

    #[test]
    fn flags_of_add_and_sub() {
        use FlagOp::*;
        assert_eq!(flag(Uadd, I8, 0xff, 1), 1);
        assert_eq!(flag(Uadd, I8, 0xfe, 1), 0);
        assert_eq!(flag(Sadd, I8, 0x7f, 1), 1);
        assert_eq!(flag(Sadd, I8, 0xff, 1), 0);
        assert_eq!(flag(Sadd, I8, 0x80, 0xff), 1);
        assert_eq!(flag(Usub, I32, 1, 2), 1);
        assert_eq!(flag(Usub, I32, 2, 2), 0);
        assert_eq!(flag(Ssub, I32, 0x8000_0000, 1), 1);
        assert_eq!(flag(Ssub, I32, 0, 0x8000_0000), 1);
        assert_eq!(flag(Ssub, I32, 0xffff_ffff, 0x8000_0000), 0);
        assert_eq!(flag(Uadd, I128, u128::MAX, 1), 1);
        assert_eq!(flag(Sadd, I128, i128::MAX as u128, 1), 1);
        assert_eq!(flag(Ssub, I128, 1 << 127, 1), 1);
        assert_eq!(flag(Sadd, I64, M64, M64), 0);
        assert_eq!(flag(Uadd, I1, 1, 1), 1);
        assert_eq!(parity(I32, 0x1_00), 1);
        assert_eq!(parity(I32, 0x3), 1);
        assert_eq!(parity(I32, 0x7), 0);
        assert_eq!(parity(I1, 1), 0);
    }

    #[test]
    fn bit_counts_and_reversal() {
        use IntUnOp::*;
        assert_eq!(unary(Clz, I32, 0), 32);
        assert_eq!(unary(Clz, I32, 1), 31);
        assert_eq!(unary(Ctz, I16, 0), 16);
        assert_eq!(unary(Ctz, I128, 0), 128);
        assert_eq!(unary(Clz, I1, 0), 1);
        assert_eq!(unary(Clz, I1, 1), 0);
        assert_eq!(unary(Popcnt, I64, M64), 64);
        assert_eq!(unary(Bswap, I32, 0x1122_3344), 0x4433_2211);
        assert_eq!(unary(Bswap, I8, 0x12), 0x12);
        assert_eq!(unary(Bswap, I1, 1), 1);
        assert_eq!(unary(Bitrev, I8, 0x01), 0x80);
        assert_eq!(unary(Bitrev, I1, 1), 1);
        assert_eq!(unary(Neg, I8, 1), 0xff);
        assert_eq!(unary(Not, I1, 0), 1);
    }

    #[test]
    fn comparisons_and_extension() {
        assert!(compare(IntCC::Slt, I8, 0x80, 0x7f));
        assert!(!compare(IntCC::Ult, I8, 0x80, 0x7f));
        assert!(compare(IntCC::Sge, I1, 0, 1));
        assert_eq!(sext(I8, I32, 0x80), 0xffff_ff80);
        assert_eq!(sext(I1, I64, 1), M64);
        assert_eq!(sext(I32, I128, 0x7fff_ffff), 0x7fff_ffff);
        assert_eq!(binary(IntBinOp::Smin, I8, 0x80, 1), 0x80);
        assert_eq!(binary(IntBinOp::Umin, I8, 0x80, 1), 1);
    }
}
