//! Floating-point semantics, bit-exact for `f32` and `f64` in every IEEE
//! rounding mode.
//!
//! Each arithmetic op computes its exact result as an integer significand
//! and a power-of-two exponent (with a *sticky* bit standing for nonzero bits
//! below the significand when the exact value does not fit), and
//! [`round_pack`] rounds that once into the destination format. This is the
//! SoftFloat approach: directed rounding, ties-away, subnormal results,
//! overflow to infinity or the largest finite value are all exact, including
//! for the fused multiply-add. The host's float unit is used only for
//! comparisons (which are exact).
//!
//! NaN results (the interpreter's choice; lifters canonicalise where the
//! guest does): an op with a NaN input returns the first NaN input, quieted;
//! an op that creates a NaN (invalid operation) returns the default NaN,
//! the negative quiet NaN (`0xffc00000` / `0xfff8000000000000`) the x86_64
//! host's float instructions also return. Conversions between widths
//! keep the sign and the top payload bits. IEEE exception flags are not
//! modelled.

use crate::ops::{FloatCC, RoundingMode};
use crate::types::Type;

use super::int::{mask_bits, sext_bits};

/// A rounding mode with `dyn` already resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Rm {
    /// Nearest, ties to even.
    Rne,
    /// Toward zero.
    Rtz,
    /// Toward negative infinity.
    Rdn,
    /// Toward positive infinity.
    Rup,
    /// Nearest, ties away from zero.
    Rmm,
}

impl Rm {
    /// Resolves `rm`, using `dynamic` for [`RoundingMode::Dyn`]; `None` when
    /// the mode is dynamic and unknown (or `dynamic` is itself `Dyn`).
    pub(crate) fn resolve(rm: RoundingMode, dynamic: Option<RoundingMode>) -> Option<Rm> {
        match rm {
            RoundingMode::Rne => Some(Rm::Rne),
            RoundingMode::Rtz => Some(Rm::Rtz),
            RoundingMode::Rdn => Some(Rm::Rdn),
            RoundingMode::Rup => Some(Rm::Rup),
            RoundingMode::Rmm => Some(Rm::Rmm),
            RoundingMode::Dyn => match dynamic? {
                RoundingMode::Dyn => None,
                d => Rm::resolve(d, None),
            },
        }
    }
}

/// An IEEE binary format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Fmt {
    /// Stored significand bits (23 or 52).
    man: u32,
    /// Exponent bits (8 or 11).
    exp: u32,
}

/// binary32.
pub(crate) const F32: Fmt = Fmt { man: 23, exp: 8 };
/// binary64.
pub(crate) const F64: Fmt = Fmt { man: 52, exp: 11 };

impl Fmt {
    /// The format of a float type.
    pub(crate) fn of(ty: Type) -> Option<Fmt> {
        match ty {
            Type::F32 => Some(F32),
            Type::F64 => Some(F64),
            Type::I1 | Type::I8 | Type::I16 | Type::I32 | Type::I64 | Type::I128 | Type::V128 => {
                None
            }
        }
    }

    /// The format whose width is `bits` (for vector lanes).
    pub(crate) fn of_width(bits: u32) -> Option<Fmt> {
        match bits {
            32 => Some(F32),
            64 => Some(F64),
            _ => None,
        }
    }

    const fn bias(self) -> i32 {
        (1 << (self.exp - 1)) - 1
    }

    /// Unbiased exponent of the smallest normal number.
    const fn emin(self) -> i32 {
        1 - self.bias()
    }

    const fn max_biased(self) -> u64 {
        (1 << self.exp) - 1
    }

    const fn man_mask(self) -> u64 {
        (1 << self.man) - 1
    }

    /// The sign bit.
    pub(crate) const fn sign_bit(self) -> u64 {
        1 << (self.man + self.exp)
    }

    const fn quiet_bit(self) -> u64 {
        1 << (self.man - 1)
    }

    /// The default NaN, the result of an invalid operation: the negative
    /// quiet NaN with a zero payload (x86's "QNaN floating-point
    /// indefinite", so the x86_64 host's instructions produce it too).
    pub(crate) const fn default_nan(self) -> u64 {
        self.sign_bit() | (self.max_biased() << self.man) | self.quiet_bit()
    }

    const fn inf(self, sign: bool) -> u64 {
        self.signed(sign, self.max_biased() << self.man)
    }

    const fn max_finite(self, sign: bool) -> u64 {
        self.signed(
            sign,
            ((self.max_biased() - 1) << self.man) | self.man_mask(),
        )
    }

    const fn zero(self, sign: bool) -> u64 {
        self.signed(sign, 0)
    }

    const fn signed(self, sign: bool, magnitude: u64) -> u64 {
        if sign {
            magnitude | self.sign_bit()
        } else {
            magnitude
        }
    }

    /// True when `bits` is a NaN.
    pub(crate) const fn is_nan(self, bits: u64) -> bool {
        (bits & !self.sign_bit()) > self.max_biased() << self.man
    }

    const fn is_sign(self, bits: u64) -> bool {
        bits & self.sign_bit() != 0
    }

    /// The value as an `f64` (exact for both formats; for comparisons).
    fn to_f64(self, bits: u64) -> f64 {
        if self == F32 {
            f64::from(f32::from_bits(bits as u32))
        } else {
            f64::from_bits(bits)
        }
    }
}

/// A finite number: `(-1)^sign * m * 2^e` (`m == 0` for zeros).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Num {
    sign: bool,
    m: u128,
    e: i32,
}

/// A decoded float.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Nan,
    Inf(bool),
    Finite(Num),
}

fn unpack(fmt: Fmt, bits: u64) -> Kind {
    let sign = fmt.is_sign(bits);
    let biased = (bits >> fmt.man) & fmt.max_biased();
    let frac = bits & fmt.man_mask();
    if biased == fmt.max_biased() {
        return if frac == 0 {
            Kind::Inf(sign)
        } else {
            Kind::Nan
        };
    }
    let (m, e) = if biased == 0 {
        (frac, fmt.emin() - fmt.man as i32)
    } else {
        (
            frac | 1 << fmt.man,
            biased as i32 - fmt.bias() - fmt.man as i32,
        )
    };
    Kind::Finite(Num {
        sign,
        m: u128::from(m),
        e,
    })
}

/// Index of the most significant set bit of nonzero `m`.
fn msb(m: u128) -> i32 {
    127 - m.leading_zeros() as i32
}

/// Bit `i` of `m` (false beyond bit 127).
fn bit(m: u128, i: i64) -> bool {
    (0..128).contains(&i) && (m >> i) & 1 == 1
}

/// True when any of the low `n` bits of `m` is set.
fn low_bits_set(m: u128, n: i64) -> bool {
    if n <= 0 {
        false
    } else if n >= 128 {
        m != 0
    } else {
        m & ((1u128 << n) - 1) != 0
    }
}

/// Whether rounding increments the kept magnitude.
fn round_up(rm: Rm, sign: bool, odd: bool, half: bool, rest: bool) -> bool {
    let inexact = half || rest;
    match rm {
        Rm::Rne => half && (rest || odd),
        Rm::Rmm => half,
        Rm::Rtz => false,
        Rm::Rdn => inexact && sign,
        Rm::Rup => inexact && !sign,
    }
}

/// Rounds `(-1)^sign * (m + s) * 2^e` into `fmt`, where `s` is a value
/// strictly between 0 and 1 when `sticky` is set (0 otherwise).
/// `m` must be nonzero when `sticky` is set.
fn round_pack(fmt: Fmt, sign: bool, m: u128, e: i32, sticky: bool, rm: Rm) -> u64 {
    if m == 0 {
        debug_assert!(!sticky, "sticky bits below a zero significand");
        return fmt.zero(sign);
    }
    let man = fmt.man as i32;
    let top = msb(m) + e;
    let mut q = top.max(fmt.emin()) - man;
    let shift = i64::from(q) - i64::from(e);
    let (mut kept, half, rest) = if shift <= 0 {
        (m << (-shift) as u32, false, sticky)
    } else {
        let kept = if shift >= 128 { 0 } else { m >> shift as u32 };
        (
            kept,
            bit(m, shift - 1),
            low_bits_set(m, shift - 1) || sticky,
        )
    };
    if round_up(rm, sign, kept & 1 == 1, half, rest) {
        kept += 1;
    }
    if kept >> (man + 1) != 0 {
        kept >>= 1;
        q += 1;
    }
    let biased = if kept >> man != 0 {
        i64::from(q) + i64::from(man) + i64::from(fmt.bias())
    } else {
        0
    };
    if biased >= fmt.max_biased() as i64 {
        return overflow(fmt, sign, rm);
    }
    fmt.signed(
        sign,
        (biased as u64) << man | (kept as u64 & fmt.man_mask()),
    )
}

/// The result of an overflow in mode `rm`.
fn overflow(fmt: Fmt, sign: bool, rm: Rm) -> u64 {
    let to_inf = match rm {
        Rm::Rne | Rm::Rmm => true,
        Rm::Rtz => false,
        Rm::Rdn => sign,
        Rm::Rup => !sign,
    };
    if to_inf {
        fmt.inf(sign)
    } else {
        fmt.max_finite(sign)
    }
}

/// The first NaN among `inputs`, quieted; the default NaN if none is.
fn propagate_nan(fmt: Fmt, inputs: &[u64]) -> u64 {
    inputs
        .iter()
        .find(|&&b| fmt.is_nan(b))
        .map_or(fmt.default_nan(), |&b| b | fmt.quiet_bit())
}

/// Binary float ops with a rounding mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FArith {
    Add,
    Sub,
    Mul,
    Div,
}

/// Binary float ops without rounding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FMinMax {
    Min,
    Max,
    MinNum,
    MaxNum,
    CopySign,
}

/// `x op y`, rounded in `rm`.
pub(crate) fn arith(fmt: Fmt, op: FArith, x: u64, y: u64, rm: Rm) -> u64 {
    if fmt.is_nan(x) || fmt.is_nan(y) {
        return propagate_nan(fmt, &[x, y]);
    }
    match op {
        FArith::Add => add(fmt, x, y, rm),
        FArith::Sub => add(fmt, x, y ^ fmt.sign_bit(), rm),
        FArith::Mul => mul(fmt, x, y, rm),
        FArith::Div => div(fmt, x, y, rm),
    }
}

fn add(fmt: Fmt, x: u64, y: u64, rm: Rm) -> u64 {
    match (unpack(fmt, x), unpack(fmt, y)) {
        (Kind::Inf(a), Kind::Inf(b)) if a != b => fmt.default_nan(),
        (Kind::Inf(_), _) => x,
        (_, Kind::Inf(_)) => y,
        (Kind::Finite(a), Kind::Finite(b)) => add_exact(fmt, a, b, rm),
        (Kind::Nan, _) | (_, Kind::Nan) => propagate_nan(fmt, &[x, y]),
    }
}

/// Normalizes a nonzero significand so its top bit is bit 125.
fn normalize125(n: Num) -> Num {
    let s = 125 - msb(n.m);
    debug_assert!(s >= 0, "significand too wide");
    Num {
        sign: n.sign,
        m: n.m << s,
        e: n.e - s,
    }
}

/// Rounds the exact sum of two finite numbers (significands below 2^120).
fn add_exact(fmt: Fmt, a: Num, b: Num, rm: Rm) -> u64 {
    match (a.m == 0, b.m == 0) {
        (true, true) => {
            let sign = if a.sign == b.sign {
                a.sign
            } else {
                rm == Rm::Rdn
            };
            return fmt.zero(sign);
        }
        (true, false) => return round_pack(fmt, b.sign, b.m, b.e, false, rm),
        (false, true) => return round_pack(fmt, a.sign, a.m, a.e, false, rm),
        (false, false) => {}
    }
    let (a, b) = (normalize125(a), normalize125(b));
    let (big, small) = if (a.e, a.m) >= (b.e, b.m) {
        (a, b)
    } else {
        (b, a)
    };
    let d = i64::from(big.e) - i64::from(small.e);
    let (aligned, sticky) = if d >= 128 {
        (0, true)
    } else {
        (small.m >> d as u32, low_bits_set(small.m, d))
    };
    let m = if big.sign == small.sign {
        big.m + aligned
    } else {
        big.m - aligned - u128::from(sticky)
    };
    if m == 0 {
        return fmt.zero(rm == Rm::Rdn);
    }
    round_pack(fmt, big.sign, m, big.e, sticky, rm)
}

fn mul(fmt: Fmt, x: u64, y: u64, rm: Rm) -> u64 {
    let sign = fmt.is_sign(x) != fmt.is_sign(y);
    match (unpack(fmt, x), unpack(fmt, y)) {
        (Kind::Inf(_), Kind::Finite(n)) | (Kind::Finite(n), Kind::Inf(_)) if n.m == 0 => {
            fmt.default_nan()
        }
        (Kind::Inf(_), _) | (_, Kind::Inf(_)) => fmt.inf(sign),
        (Kind::Finite(a), Kind::Finite(b)) => {
            round_pack(fmt, sign, a.m * b.m, a.e + b.e, false, rm)
        }
        (Kind::Nan, _) | (_, Kind::Nan) => propagate_nan(fmt, &[x, y]),
    }
}

fn div(fmt: Fmt, x: u64, y: u64, rm: Rm) -> u64 {
    let sign = fmt.is_sign(x) != fmt.is_sign(y);
    match (unpack(fmt, x), unpack(fmt, y)) {
        (Kind::Inf(_), Kind::Inf(_)) => fmt.default_nan(),
        (Kind::Inf(_), _) => fmt.inf(sign),
        (_, Kind::Inf(_)) => fmt.zero(sign),
        (Kind::Finite(a), Kind::Finite(b)) => match (a.m == 0, b.m == 0) {
            (true, true) => fmt.default_nan(),
            (false, true) => fmt.inf(sign),
            (true, false) => fmt.zero(sign),
            (false, false) => div_exact(fmt, sign, a, b, rm),
        },
        (Kind::Nan, _) | (_, Kind::Nan) => propagate_nan(fmt, &[x, y]),
    }
}

fn div_exact(fmt: Fmt, sign: bool, a: Num, b: Num, rm: Rm) -> u64 {
    let sa = 127 - msb(a.m);
    let sb = 63 - msb(b.m);
    let (n, d) = (a.m << sa, b.m << sb);
    let (q, r) = (n / d, n % d);
    round_pack(fmt, sign, q, (a.e - sa) - (b.e - sb), r != 0, rm)
}

/// Square root, rounded in `rm`.
pub(crate) fn sqrt(fmt: Fmt, x: u64, rm: Rm) -> u64 {
    match unpack(fmt, x) {
        Kind::Nan => propagate_nan(fmt, &[x]),
        Kind::Inf(false) => x,
        Kind::Inf(true) => fmt.default_nan(),
        Kind::Finite(n) if n.m == 0 => x,
        Kind::Finite(n) if n.sign => fmt.default_nan(),
        Kind::Finite(n) => {
            let s = 126 - msb(n.m);
            let (mut m, mut e) = (n.m << s, n.e - s);
            if e % 2 != 0 {
                m <<= 1;
                e -= 1;
            }
            let (root, rem) = isqrt(m);
            round_pack(fmt, false, root, e / 2, rem != 0, rm)
        }
    }
}

/// Integer square root: `(floor(sqrt(n)), n - floor(sqrt(n))^2)`.
fn isqrt(n: u128) -> (u128, u128) {
    let mut rem = n;
    let mut root = 0u128;
    let mut one = 1u128 << 126;
    while one > rem {
        one >>= 2;
    }
    while one != 0 {
        if rem >= root + one {
            rem -= root + one;
            root = (root >> 1) + one;
        } else {
            root >>= 1;
        }
        one >>= 2;
    }
    (root, rem)
}

/// Fused `x * y + z`, rounded once in `rm`.
pub(crate) fn fma(fmt: Fmt, x: u64, y: u64, z: u64, rm: Rm) -> u64 {
    if fmt.is_nan(x) || fmt.is_nan(y) || fmt.is_nan(z) {
        return propagate_nan(fmt, &[x, y, z]);
    }
    let psign = fmt.is_sign(x) != fmt.is_sign(y);
    let product = match (unpack(fmt, x), unpack(fmt, y)) {
        (Kind::Inf(_), Kind::Finite(n)) | (Kind::Finite(n), Kind::Inf(_)) if n.m == 0 => {
            return fmt.default_nan();
        }
        (Kind::Finite(a), Kind::Finite(b)) => Some(Num {
            sign: psign,
            m: a.m * b.m,
            e: a.e + b.e,
        }),
        _ => None,
    };
    match (product, unpack(fmt, z)) {
        (None, Kind::Inf(zs)) if zs != psign => fmt.default_nan(),
        (None, _) => fmt.inf(psign),
        (Some(_), Kind::Inf(_)) => z,
        (Some(p), Kind::Finite(c)) => add_exact(fmt, p, c, rm),
        (Some(_), Kind::Nan) => propagate_nan(fmt, &[z]),
    }
}

/// Rounds to an integral value in `rm` (the result is a float).
pub(crate) fn round_integral(fmt: Fmt, x: u64, rm: Rm) -> u64 {
    match unpack(fmt, x) {
        Kind::Nan => propagate_nan(fmt, &[x]),
        Kind::Inf(_) => x,
        Kind::Finite(n) if n.m == 0 || n.e >= 0 => x,
        Kind::Finite(n) => {
            let shift = -i64::from(n.e);
            let kept = if shift >= 128 { 0 } else { n.m >> shift as u32 };
            let half = bit(n.m, shift - 1);
            let rest = low_bits_set(n.m, shift - 1);
            let kept = kept + u128::from(round_up(rm, n.sign, kept & 1 == 1, half, rest));
            round_pack(fmt, n.sign, kept, 0, false, rm)
        }
    }
}

/// Converts an integer (bits `v` of a `src_bits`-wide integer) to a float.
pub(crate) fn from_int(fmt: Fmt, v: u128, src_bits: u32, signed: bool, rm: Rm) -> u64 {
    let v = v & mask_bits(src_bits);
    let (sign, mag) = if signed {
        let s = sext_bits(v, src_bits);
        (s < 0, s.unsigned_abs())
    } else {
        (false, v)
    };
    if mag == 0 {
        return fmt.zero(false);
    }
    round_pack(fmt, sign, mag, 0, false, rm)
}

/// Converts a float to an integer of `dst_bits` bits: truncation toward
/// zero, saturation at the type's limits, NaN to 0.
pub(crate) fn to_int(fmt: Fmt, x: u64, dst_bits: u32, signed: bool) -> u128 {
    let mask = mask_bits(dst_bits);
    let smax = mask >> 1;
    let smin_mag = smax + 1;
    let pos_max = if signed { smax } else { mask };
    let saturate = |neg: bool| match (signed, neg) {
        (true, false) => smax,
        (true, true) => smin_mag & mask,
        (false, false) => mask,
        (false, true) => 0,
    };
    let n = match unpack(fmt, x) {
        Kind::Nan => return 0,
        Kind::Inf(s) => return saturate(s),
        Kind::Finite(n) => n,
    };
    let mag = if n.m == 0 {
        Some(0)
    } else if n.e >= 0 {
        (msb(n.m) + n.e < 128).then(|| n.m << n.e)
    } else {
        Some(if -n.e >= 128 { 0 } else { n.m >> -n.e })
    };
    match (mag, n.sign) {
        (Some(0), _) => 0,
        (None, s) => saturate(s),
        (Some(m), false) if m > pos_max => saturate(false),
        (Some(m), false) => m,
        (Some(_), true) if !signed => 0,
        (Some(m), true) if m > smin_mag => saturate(true),
        (Some(m), true) => m.wrapping_neg() & mask,
    }
}

/// Converts between float formats, rounding in `rm` when narrowing.
pub(crate) fn convert(src: Fmt, dst: Fmt, x: u64, rm: Rm) -> u64 {
    match unpack(src, x) {
        Kind::Nan => {
            let payload = x & src.man_mask();
            let moved = if dst.man >= src.man {
                payload << (dst.man - src.man)
            } else {
                payload >> (src.man - dst.man)
            };
            dst.signed(src.is_sign(x), dst.inf(false) | dst.quiet_bit() | moved)
        }
        Kind::Inf(s) => dst.inf(s),
        Kind::Finite(n) => round_pack(dst, n.sign, n.m, n.e, false, rm),
    }
}

/// Min/max family and copysign.
pub(crate) fn min_max(fmt: Fmt, op: FMinMax, x: u64, y: u64) -> u64 {
    let (xn, yn) = (fmt.is_nan(x), fmt.is_nan(y));
    match op {
        FMinMax::CopySign => return (x & !fmt.sign_bit()) | (y & fmt.sign_bit()),
        FMinMax::Min | FMinMax::Max if xn || yn => return propagate_nan(fmt, &[x, y]),
        FMinMax::MinNum | FMinMax::MaxNum if xn && yn => return propagate_nan(fmt, &[x, y]),
        FMinMax::MinNum | FMinMax::MaxNum if xn => return y,
        FMinMax::MinNum | FMinMax::MaxNum if yn => return x,
        FMinMax::Min | FMinMax::Max | FMinMax::MinNum | FMinMax::MaxNum => {}
    }
    let want_min = matches!(op, FMinMax::Min | FMinMax::MinNum);
    let (a, b) = (fmt.to_f64(x), fmt.to_f64(y));
    if a == b {
        // Equal values differ at most in the sign of zero: -0 < +0.
        let neg = if want_min {
            fmt.is_sign(x) || fmt.is_sign(y)
        } else {
            fmt.is_sign(x) && fmt.is_sign(y)
        };
        return if neg == fmt.is_sign(x) { x } else { y };
    }
    if (a < b) == want_min {
        x
    } else {
        y
    }
}

/// Float comparison.
pub(crate) fn compare(fmt: Fmt, cc: FloatCC, x: u64, y: u64) -> bool {
    let (a, b) = (fmt.to_f64(x), fmt.to_f64(y));
    match cc {
        FloatCC::Eq => a == b,
        FloatCC::Ne => a != b,
        FloatCC::Lt => a < b,
        FloatCC::Le => a <= b,
        FloatCC::Gt => a > b,
        FloatCC::Ge => a >= b,
        FloatCC::Ord => !a.is_nan() && !b.is_nan(),
        FloatCC::Uno => a.is_nan() || b.is_nan(),
    }
}

/// RISC-V `fclass` mask: bit 0 -inf, 1 negative normal, 2 negative
/// subnormal, 3 -0, 4 +0, 5 positive subnormal, 6 positive normal, 7 +inf,
/// 8 signaling NaN, 9 quiet NaN.
pub(crate) fn class(fmt: Fmt, x: u64) -> u32 {
    let neg = fmt.is_sign(x);
    let side = |negative_bit: u32| {
        if neg {
            negative_bit
        } else {
            7 - negative_bit
        }
    };
    let biased = (x >> fmt.man) & fmt.max_biased();
    let index = match unpack(fmt, x) {
        Kind::Nan if x & fmt.quiet_bit() != 0 => 9,
        Kind::Nan => 8,
        Kind::Inf(_) => side(0),
        Kind::Finite(n) if n.m == 0 => side(3),
        Kind::Finite(_) if biased == 0 => side(2),
        Kind::Finite(_) => side(1),
    };
    1 << index
}

/// Flips the sign bit.
pub(crate) fn neg(fmt: Fmt, x: u64) -> u64 {
    x ^ fmt.sign_bit()
}

/// Clears the sign bit.
pub(crate) fn abs(fmt: Fmt, x: u64) -> u64 {
    x & !fmt.sign_bit()
}

#[cfg(test)]
mod tests;
