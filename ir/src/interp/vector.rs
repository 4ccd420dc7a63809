//! 128-bit vector semantics. A vector is a `u128`; lane `i` of a `w`-bit
//! lane type is bits `i*w .. (i+1)*w` (lane 0 is the least significant, as
//! in memory on a little-endian machine). Lane-wise arithmetic reuses the
//! scalar integer and float semantics.

use super::int::{mask_bits, sext_bits};

/// Lane `i` of `v` for `w`-bit lanes.
pub(crate) fn lane(v: u128, w: u32, i: u32) -> u128 {
    (v >> (i * w)) & mask_bits(w)
}

/// Builds a vector from lane values (masked to `w` bits), lane 0 first.
pub(crate) fn from_lanes(w: u32, lanes: impl IntoIterator<Item = u128>) -> u128 {
    lanes
        .into_iter()
        .enumerate()
        .fold(0, |acc, (i, l)| acc | (l & mask_bits(w)) << (i as u32 * w))
}

/// Number of `w`-bit lanes.
fn count(w: u32) -> u32 {
    128 / w
}

/// Applies `f` to each lane.
pub(crate) fn map1(w: u32, x: u128, f: impl Fn(u128) -> u128) -> u128 {
    from_lanes(w, (0..count(w)).map(|i| f(lane(x, w, i))))
}

/// Applies `f` to each pair of lanes.
pub(crate) fn map2(w: u32, x: u128, y: u128, f: impl Fn(u128, u128) -> u128) -> u128 {
    from_lanes(w, (0..count(w)).map(|i| f(lane(x, w, i), lane(y, w, i))))
}

/// Every lane set to `x`.
pub(crate) fn splat(w: u32, x: u128) -> u128 {
    from_lanes(w, (0..count(w)).map(|_| x))
}

/// `x` with lane `i` replaced by `s`.
pub(crate) fn insert(w: u32, x: u128, i: u32, s: u128) -> u128 {
    let m = mask_bits(w) << (i * w);
    (x & !m) | ((s << (i * w)) & m)
}

/// Saturating lane arithmetic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SatOp {
    UaddSat,
    SaddSat,
    UsubSat,
    SsubSat,
    Uavg,
}

/// A saturating add/sub or rounding average of two `w`-bit lanes.
pub(crate) fn saturating(op: SatOp, w: u32, a: u128, b: u128) -> u128 {
    let m = mask_bits(w);
    let (sa, sb) = (sext_bits(a, w), sext_bits(b, w));
    let smax = (m >> 1) as i128;
    let smin = -smax - 1;
    let r = match op {
        SatOp::UaddSat => (a + b).min(m),
        SatOp::UsubSat => a.saturating_sub(b),
        SatOp::SaddSat => (sa + sb).clamp(smin, smax) as u128,
        SatOp::SsubSat => (sa - sb).clamp(smin, smax) as u128,
        SatOp::Uavg => (a + b + 1) >> 1,
    };
    r & m
}

/// Lane-wise shifts by a scalar amount.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum VShiftOp {
    Shl,
    Ushr,
    Sshr,
}

/// Shifts every lane by `amount`: `shl`/`ushr` give 0 for `amount >= w`,
/// `sshr` shifts by at most `w - 1`.
pub(crate) fn shift(op: VShiftOp, w: u32, x: u128, amount: u128) -> u128 {
    let big = amount >= u128::from(w);
    let s = amount.min(u128::from(w - 1)) as u32;
    map1(w, x, |l| match op {
        VShiftOp::Shl if big => 0,
        VShiftOp::Ushr if big => 0,
        VShiftOp::Shl => l << s,
        VShiftOp::Ushr => l >> s,
        VShiftOp::Sshr => (sext_bits(l, w) >> s) as u128,
    })
}

/// Widens half of the `w`-bit lanes of `x` (the high half when `high`) to
/// `2w` bits, sign- or zero-extending.
pub(crate) fn widen(w: u32, x: u128, high: bool, signed: bool) -> u128 {
    let half = count(w) / 2;
    let base = if high { half } else { 0 };
    from_lanes(
        2 * w,
        (0..half).map(|i| {
            let l = lane(x, w, base + i);
            if signed {
                sext_bits(l, w) as u128
            } else {
                l
            }
        }),
    )
}

/// Narrowing of `w`-bit lanes to `w/2` bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NarrowOp {
    Trunc,
    Ssat,
    Usat,
}

/// Narrows the lanes of `x` then `y` (each `w` bits) to `w/2` bits.
pub(crate) fn narrow(op: NarrowOp, w: u32, x: u128, y: u128) -> u128 {
    let h = w / 2;
    let hm = mask_bits(h) as i128;
    let conv = |l: u128| {
        let s = sext_bits(l, w);
        match op {
            NarrowOp::Trunc => l,
            NarrowOp::Ssat => s.clamp(-(hm >> 1) - 1, hm >> 1) as u128,
            NarrowOp::Usat => s.clamp(0, hm) as u128,
        }
    };
    let n = count(w);
    let lanes = (0..n)
        .map(|i| conv(lane(x, w, i)))
        .chain((0..n).map(|i| conv(lane(y, w, i))));
    from_lanes(h, lanes)
}

/// Lane permutations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum PermOp {
    ZipLo,
    ZipHi,
    UzpEven,
    UzpOdd,
}

/// Interleaves or de-interleaves the `w`-bit lanes of `x` and `y`.
pub(crate) fn permute(op: PermOp, w: u32, x: u128, y: u128) -> u128 {
    let n = count(w);
    let pick = |i: u32| -> u128 {
        match op {
            PermOp::ZipLo | PermOp::ZipHi => {
                let base = if op == PermOp::ZipHi { n / 2 } else { 0 };
                let src = if i.is_multiple_of(2) { x } else { y };
                lane(src, w, base + i / 2)
            }
            PermOp::UzpEven | PermOp::UzpOdd => {
                let odd = u32::from(op == PermOp::UzpOdd);
                let (src, j) = if i < n / 2 { (x, i) } else { (y, i - n / 2) };
                lane(src, w, 2 * j + odd)
            }
        }
    };
    from_lanes(w, (0..n).map(pick))
}

/// Bytes of `x` picked by the byte indices in `y`; an index >= 16 gives 0.
pub(crate) fn swizzle(x: u128, y: u128) -> u128 {
    from_lanes(
        8,
        (0..16).map(|i| {
            let idx = lane(y, 8, i);
            if idx < 16 {
                lane(x, 8, idx as u32)
            } else {
                0
            }
        }),
    )
}

/// Bytes of the 32-byte `x:y` (x is bytes 0..15) picked by `bytes`; an
/// index >= 32 (which the verifier rejects) gives 0.
pub(crate) fn shuffle(bytes: &[u8; 16], x: u128, y: u128) -> u128 {
    from_lanes(
        8,
        bytes.iter().map(|&b| match b {
            0..=15 => lane(x, 8, u32::from(b)),
            16..=31 => lane(y, 8, u32::from(b) - 16),
            _ => 0,
        }),
    )
}

/// Reductions over all lanes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ReduceOp {
    Add,
    Umax,
    Umin,
    Smax,
    Smin,
}

/// Reduces the `w`-bit lanes of `x` to one `w`-bit value.
pub(crate) fn reduce(op: ReduceOp, w: u32, x: u128) -> u128 {
    let lanes = (0..count(w)).map(|i| lane(x, w, i));
    let signed = |l: u128| sext_bits(l, w);
    let r = match op {
        ReduceOp::Add => lanes.fold(0u128, u128::wrapping_add),
        ReduceOp::Umax => lanes.max().unwrap_or(0),
        ReduceOp::Umin => lanes.min().unwrap_or(0),
        ReduceOp::Smax => lanes.max_by_key(|&l| signed(l)).unwrap_or(0),
        ReduceOp::Smin => lanes.min_by_key(|&l| signed(l)).unwrap_or(0),
    };
    r & mask_bits(w)
}

/// Bits of `x` where `c` is 1, of `y` where it is 0.
pub(crate) fn bitselect(c: u128, x: u128, y: u128) -> u128 {
    (c & x) | (!c & y)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(v: [u8; 16]) -> u128 {
        u128::from_le_bytes(v)
    }

    const SEQ: [u8; 16] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

    #[test]
    fn lanes_are_little_endian() {
        let v = bytes(SEQ);
        assert_eq!(lane(v, 8, 0), 0);
        assert_eq!(lane(v, 8, 15), 15);
        assert_eq!(lane(v, 32, 1), 0x0706_0504);
        assert_eq!(insert(16, 0, 7, 0xabcd), 0xabcd << 112);
        assert_eq!(splat(32, 0x1234), 0x1234_0000_1234_0000_1234_0000_1234);
    }

    #[test]
    fn saturation_and_average() {
        assert_eq!(saturating(SatOp::UaddSat, 8, 200, 100), 255);
        assert_eq!(saturating(SatOp::UsubSat, 8, 100, 200), 0);
        assert_eq!(saturating(SatOp::SaddSat, 8, 0x7f, 1), 0x7f);
        assert_eq!(saturating(SatOp::SaddSat, 8, 0x80, 0xff), 0x80);
        assert_eq!(saturating(SatOp::SsubSat, 16, 0x8000, 1), 0x8000);
        assert_eq!(saturating(SatOp::SsubSat, 16, 0x7fff, 0xffff), 0x7fff);
        assert_eq!(saturating(SatOp::Uavg, 8, 255, 0), 128);
        assert_eq!(saturating(SatOp::Uavg, 8, 255, 255), 255);
        assert_eq!(
            saturating(SatOp::SaddSat, 64, i64::MAX as u128, 5),
            i64::MAX as u128
        );
    }

    #[test]
    fn shifts_saturate_at_width() {
        let v = splat(16, 0x8001);
        assert_eq!(shift(VShiftOp::Shl, 16, v, 1), splat(16, 0x0002));
        assert_eq!(shift(VShiftOp::Shl, 16, v, 16), 0);
        assert_eq!(shift(VShiftOp::Ushr, 16, v, 300), 0);
        assert_eq!(shift(VShiftOp::Sshr, 16, v, 100), splat(16, 0xffff));
        assert_eq!(shift(VShiftOp::Sshr, 16, v, 1), splat(16, 0xc000));
    }

    #[test]
    fn widen_and_narrow() {
        let v = from_lanes(
            8,
            [
                0x80, 0x01, 2, 3, 4, 5, 6, 7, 0xff, 9, 10, 11, 12, 13, 14, 15,
            ],
        );
        assert_eq!(lane(widen(8, v, false, true), 16, 0), 0xff80);
        assert_eq!(lane(widen(8, v, false, false), 16, 0), 0x0080);
        assert_eq!(lane(widen(8, v, true, true), 16, 0), 0xffff);
        assert_eq!(lane(widen(8, v, true, true), 16, 7), 15);
        assert_eq!(widen(64, u128::from(u64::MAX), false, true), u128::MAX);
        let x = from_lanes(32, [0x1_0000, 0xffff_8000, 0x7fff, 0xffff_ffff]);
        let y = from_lanes(32, [5, 0x8000_0000, 0x7fff_ffff, 0]);
        let t = narrow(NarrowOp::Trunc, 32, x, y);
        assert_eq!(
            t,
            from_lanes(16, [0, 0x8000, 0x7fff, 0xffff, 5, 0, 0xffff, 0])
        );
        let s = narrow(NarrowOp::Ssat, 32, x, y);
        assert_eq!(
            s,
            from_lanes(16, [0x7fff, 0x8000, 0x7fff, 0xffff, 5, 0x8000, 0x7fff, 0])
        );
        let u = narrow(NarrowOp::Usat, 32, x, y);
        assert_eq!(u, from_lanes(16, [0xffff, 0, 0x7fff, 0, 5, 0, 0xffff, 0]));
    }

    #[test]
    fn permutations() {
        let x = from_lanes(32, [0, 1, 2, 3]);
        let y = from_lanes(32, [10, 11, 12, 13]);
        assert_eq!(
            permute(PermOp::ZipLo, 32, x, y),
            from_lanes(32, [0, 10, 1, 11])
        );
        assert_eq!(
            permute(PermOp::ZipHi, 32, x, y),
            from_lanes(32, [2, 12, 3, 13])
        );
        assert_eq!(
            permute(PermOp::UzpEven, 32, x, y),
            from_lanes(32, [0, 2, 10, 12])
        );
        assert_eq!(
            permute(PermOp::UzpOdd, 32, x, y),
            from_lanes(32, [1, 3, 11, 13])
        );
        let v = bytes(SEQ);
        let mut idx = [0u8; 16];
        idx[0] = 15;
        idx[1] = 16;
        idx[2] = 3;
        let r = swizzle(v, bytes(idx));
        assert_eq!(lane(r, 8, 0), 15);
        assert_eq!(lane(r, 8, 1), 0);
        assert_eq!(lane(r, 8, 2), 3);
        let mut sel = [0u8; 16];
        sel[0] = 31;
        sel[1] = 1;
        let r = shuffle(&sel, v, splat(8, 0xaa));
        assert_eq!(lane(r, 8, 0), 0xaa);
        assert_eq!(lane(r, 8, 1), 1);
    }

    #[test]
    fn reductions() {
        let v = from_lanes(16, [1, 2, 0xffff, 4, 5, 6, 7, 0x8000]);
        assert_eq!(
            reduce(ReduceOp::Add, 16, v),
            (1 + 2 + 0xffff + 4 + 5 + 6 + 7 + 0x8000) & 0xffff
        );
        assert_eq!(reduce(ReduceOp::Umax, 16, v), 0xffff);
        assert_eq!(reduce(ReduceOp::Umin, 16, v), 1);
        assert_eq!(reduce(ReduceOp::Smax, 16, v), 7);
        assert_eq!(reduce(ReduceOp::Smin, 16, v), 0x8000);
        assert_eq!(bitselect(0xf0, 0xaa, 0x55), 0xa5);
    }
}
