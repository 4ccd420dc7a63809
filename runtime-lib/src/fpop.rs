//! The floating-point slow path, `vmtrans_rt_fp_op`
//! ([`vmtrans_abi::helpers::FP_OP`]).
//!
//! Generated code calls it for float ops whose static rounding mode the
//! host cannot apply natively (and for `fma` without FMA instructions). The
//! results are bit-exact IEEE 754 in every RISC-V rounding mode, ties-away
//! included, and equal to the IR interpreter's:
//!
//! - Each op computes its exact result as an integer significand `m` and a
//!   power-of-two exponent `e`, plus a *sticky* bit standing for nonzero
//!   bits below `m` when the exact value does not fit in 128 bits, and
//!   `round_pack` rounds that once into the destination format. Subnormal
//!   results, overflow and the fused multiply-add are therefore exact, and
//!   no host float arithmetic is used (so the host MXCSR mode is irrelevant
//!   except for reading the dynamic mode).
//! - NaN results: an op with a NaN operand returns the first NaN operand,
//!   quieted; an invalid operation returns the default NaN, negative and
//!   quiet (`0xffc00000` / `0xfff8000000000000`), as the IR defines it.
//!   `fconvert` of a NaN keeps its
//!   sign and the top payload bits.
//! - IEEE exception flags are accrued per thread while an op runs (invalid,
//!   divide by zero, overflow, underflow, inexact, in the MXCSR bit
//!   positions) and ORed into the host MXCSR by the helper, where the
//!   guest's flag reads collect them like those of native ops. Underflow is
//!   signalled when a result is inexact and subnormal or zero after
//!   rounding (tininess after rounding, except that a value rounding up to
//!   exactly the smallest normal is not counted as tiny).
//!
//! The code follows the approach of the IR interpreter's soft float; the
//! runtime cannot depend on the IR crate, hence this second, compact copy,
//! which `tests/fpop.rs` checks against the interpreter bit for bit.

use std::cell::Cell;

use vmtrans_abi::fp_op;

/// IEEE exception flags, in the bit positions of the x86 MXCSR.
pub mod flag {
    /// Invalid operation.
    pub const INVALID: u32 = 1 << 0;
    /// Division of a nonzero finite number by zero.
    pub const DIV_BY_ZERO: u32 = 1 << 2;
    /// The rounded result is too large for the format.
    pub const OVERFLOW: u32 = 1 << 3;
    /// The result is tiny and inexact.
    pub const UNDERFLOW: u32 = 1 << 4;
    /// The result is not exact.
    pub const INEXACT: u32 = 1 << 5;
}

thread_local! {
    /// Flags raised by the op being evaluated on this thread.
    static RAISED: Cell<u32> = const { Cell::new(0) };
}

/// Records IEEE exception flags for the op being evaluated.
fn raise(flags: u32) {
    RAISED.with(|r| r.set(r.get() | flags));
}

/// The flags raised since the last call, cleared.
pub fn take_raised_flags() -> u32 {
    RAISED.with(|r| r.replace(0))
}

/// A resolved rounding mode (RISC-V `frm` without `dyn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rm {
    /// To nearest, ties to even.
    Rne,
    /// Toward zero.
    Rtz,
    /// Toward negative infinity.
    Rdn,
    /// Toward positive infinity.
    Rup,
    /// To nearest, ties away from zero.
    Rmm,
}

/// The IR / RISC-V rounding-mode number meaning "the dynamic mode".
pub const RM_DYN: u32 = 7;

impl Rm {
    /// The mode numbered `rm` (0 rne, 1 rtz, 2 rdn, 3 rup, 4 rmm); any other
    /// number, [`RM_DYN`] included, gives `None`.
    pub fn from_number(rm: u32) -> Option<Rm> {
        match rm {
            0 => Some(Rm::Rne),
            1 => Some(Rm::Rtz),
            2 => Some(Rm::Rdn),
            3 => Some(Rm::Rup),
            4 => Some(Rm::Rmm),
            _ => None,
        }
    }

    /// The guest's dynamic mode, which the runtime mirrors in the MXCSR
    /// rounding-control field (rmm is kept there as nearest-even, see
    /// [`crate::helpers::mxcsr_rounding`]). Hosts without MXCSR: rne.
    pub fn dynamic() -> Rm {
        #[cfg(target_arch = "x86_64")]
        let rc = (crate::helpers::read_mxcsr() >> 13) & 3;
        #[cfg(not(target_arch = "x86_64"))]
        let rc = 0;
        match rc {
            0b00 => Rm::Rne,
            0b01 => Rm::Rdn,
            0b10 => Rm::Rup,
            _ => Rm::Rtz,
        }
    }

    /// Whether a magnitude whose kept part has parity `odd`, and whose
    /// discarded part is exactly half an ulp (`half && !rest`), more than
    /// half (`half && rest`) or less (`!half`, `rest` telling whether it is
    /// nonzero), rounds up in magnitude.
    fn rounds_up(self, sign: bool, odd: bool, half: bool, rest: bool) -> bool {
        let inexact = half || rest;
        match self {
            Rm::Rne => half && (rest || odd),
            Rm::Rmm => half,
            Rm::Rtz => false,
            Rm::Rdn => inexact && sign,
            Rm::Rup => inexact && !sign,
        }
    }
}

/// `vmtrans_rt_fp_op(state, op, rm, a, b, c)`: the float op `op` (see
/// [`vmtrans_abi::fp_op`]) on the operand bit patterns `a`, `b`, `c`
/// (zero-extended; an `i128` source is `a` low, `b` high) in rounding mode
/// `rm` (0..=4, or 7 for the guest's dynamic mode, read from MXCSR; other
/// numbers round to nearest-even). Returns the result's bits, zero-extended.
/// An op code the backends never emit (unknown kind or width) returns 0.
///
/// # Safety
/// Always safe to call: `state` is not used (it may be null); the function
/// is `unsafe extern "C"` to match the helper ABI.
#[no_mangle]
pub unsafe extern "C" fn vmtrans_rt_fp_op(
    _state: *mut u8,
    op: u32,
    rm: u32,
    a: u64,
    b: u64,
    c: u64,
) -> u64 {
    let rm = match rm {
        RM_DYN => Rm::dynamic(),
        n => Rm::from_number(n).unwrap_or(Rm::Rne),
    };
    take_raised_flags();
    let result = eval(op, rm, a, b, c).unwrap_or(0);
    accrue_in_mxcsr(take_raised_flags());
    result
}

/// ORs `flags` into the host MXCSR status bits, where native float code
/// accrues them too.
fn accrue_in_mxcsr(flags: u32) {
    if flags == 0 {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    {
        use crate::helpers::{read_mxcsr, write_mxcsr};
        write_mxcsr(read_mxcsr() | flags);
    }
}

/// Evaluates the encoded op `op` in mode `rm`; `None` for an op code the
/// backends never emit.
pub fn eval(op: u32, rm: Rm, a: u64, b: u64, c: u64) -> Option<u64> {
    let (kind, width, src_width) = fp_op::decode(op);
    let f = Fmt::of_width(width)?;
    let (x, y, z) = (a & f.mask(), b & f.mask(), c & f.mask());
    Some(match kind {
        fp_op::FADD => add(f, x, y, rm),
        fp_op::FSUB => sub(f, x, y, rm),
        fp_op::FMUL => mul(f, x, y, rm),
        fp_op::FDIV => div(f, x, y, rm),
        fp_op::FSQRT => sqrt(f, x, rm),
        fp_op::FMA => fma(f, x, y, z, rm),
        fp_op::FROUND => round_integral(f, x, rm),
        fp_op::FCVT_FROM_SINT | fp_op::FCVT_FROM_UINT => {
            if !(1..=128).contains(&src_width) {
                return None;
            }
            let v = u128::from(a) | u128::from(b) << 64;
            from_int(f, v, src_width, kind == fp_op::FCVT_FROM_SINT, rm)
        }
        fp_op::FCONVERT => {
            let src = Fmt::of_width(src_width)?;
            convert(src, f, a & src.mask(), rm)
        }
        _ => return None,
    })
}

/// An IEEE binary interchange format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fmt {
    /// Stored significand bits (23 or 52).
    man: u32,
    /// Exponent bits (8 or 11).
    exp: u32,
}

impl Fmt {
    /// binary32 for 32, binary64 for 64.
    fn of_width(bits: u32) -> Option<Fmt> {
        match bits {
            32 => Some(Fmt { man: 23, exp: 8 }),
            64 => Some(Fmt { man: 52, exp: 11 }),
            _ => None,
        }
    }

    /// All bits of the format.
    fn mask(self) -> u64 {
        u64::MAX >> (63 - self.man - self.exp)
    }

    fn bias(self) -> i32 {
        (1 << (self.exp - 1)) - 1
    }

    /// Unbiased exponent of the smallest normal number.
    fn emin(self) -> i32 {
        1 - self.bias()
    }

    /// The all-ones biased exponent (infinities and NaNs).
    fn max_biased(self) -> u64 {
        (1 << self.exp) - 1
    }

    fn man_mask(self) -> u64 {
        (1 << self.man) - 1
    }

    fn sign_bit(self) -> u64 {
        1 << (self.man + self.exp)
    }

    fn quiet_bit(self) -> u64 {
        1 << (self.man - 1)
    }

    /// The default NaN: negative, quiet, zero payload (the IR's and the
    /// x86_64 host's).
    fn default_nan(self) -> u64 {
        self.sign_bit() | self.max_biased() << self.man | self.quiet_bit()
    }

    /// The result of an invalid operation: the default NaN, raising
    /// invalid.
    fn invalid(self) -> u64 {
        raise(flag::INVALID);
        self.default_nan()
    }

    /// True for a signalling NaN.
    fn is_snan(self, bits: u64) -> bool {
        self.is_nan(bits) && bits & self.quiet_bit() == 0
    }

    fn is_nan(self, bits: u64) -> bool {
        bits & !self.sign_bit() > self.max_biased() << self.man
    }

    fn is_neg(self, bits: u64) -> bool {
        bits & self.sign_bit() != 0
    }

    /// `magnitude` with the sign bit set when `sign`.
    fn signed(self, sign: bool, magnitude: u64) -> u64 {
        if sign {
            magnitude | self.sign_bit()
        } else {
            magnitude
        }
    }

    fn zero(self, sign: bool) -> u64 {
        self.signed(sign, 0)
    }

    fn inf(self, sign: bool) -> u64 {
        self.signed(sign, self.max_biased() << self.man)
    }

    /// The result of an overflow: infinity, or the largest finite number
    /// when the mode rounds toward zero.
    fn overflow(self, sign: bool, rm: Rm) -> u64 {
        let to_inf = match rm {
            Rm::Rne | Rm::Rmm => true,
            Rm::Rtz => false,
            Rm::Rdn => sign,
            Rm::Rup => !sign,
        };
        raise(flag::OVERFLOW | flag::INEXACT);
        if to_inf {
            self.inf(sign)
        } else {
            self.signed(sign, (self.max_biased() - 1) << self.man | self.man_mask())
        }
    }

    /// The first NaN among `inputs`, quieted; the default NaN if none is.
    /// A signalling NaN among them raises invalid.
    fn nan_of(self, inputs: &[u64]) -> u64 {
        if inputs.iter().any(|&b| self.is_snan(b)) {
            raise(flag::INVALID);
        }
        inputs
            .iter()
            .find(|&&b| self.is_nan(b))
            .map_or(self.default_nan(), |&b| b | self.quiet_bit())
    }
}

/// A finite number `(-1)^sign * m * 2^e` (`m == 0` for zeros).
#[derive(Clone, Copy, Debug)]
struct Num {
    sign: bool,
    m: u128,
    e: i32,
}

/// A decoded float.
#[derive(Clone, Copy, Debug)]
enum Val {
    Nan,
    Inf(bool),
    Fin(Num),
}

/// Decodes the bits of a float of format `f`.
fn unpack(f: Fmt, bits: u64) -> Val {
    let sign = f.is_neg(bits);
    let biased = (bits >> f.man) & f.max_biased();
    let frac = bits & f.man_mask();
    if biased == f.max_biased() {
        return if frac == 0 { Val::Inf(sign) } else { Val::Nan };
    }
    let (m, e) = if biased == 0 {
        (frac, f.emin())
    } else {
        (frac | 1 << f.man, biased as i32 - f.bias())
    };
    Val::Fin(Num {
        sign,
        m: m.into(),
        e: e - f.man as i32,
    })
}

/// Index of the most significant set bit of nonzero `m`.
fn msb(m: u128) -> i32 {
    127 - m.leading_zeros() as i32
}

/// True when any of the low `n` bits of `m` is set.
fn low_bits_set(m: u128, n: i32) -> bool {
    match n {
        ..=0 => false,
        1..=127 => m & ((1u128 << n) - 1) != 0,
        _ => m != 0,
    }
}

/// Splits `m` at bit `shift` (≥ 0): the kept part `m >> shift`, whether the
/// first dropped bit is set, and whether any bit below it (or `sticky`) is.
fn split(m: u128, shift: i32, sticky: bool) -> (u128, bool, bool) {
    let kept = m.checked_shr(shift as u32).unwrap_or(0);
    let half = shift > 0 && m.checked_shr(shift as u32 - 1).unwrap_or(0) & 1 == 1;
    (kept, half, sticky || low_bits_set(m, shift - 1))
}

/// Rounds `(-1)^sign * (m + s) * 2^e` into `f` in mode `rm`, where `s` is
/// strictly between 0 and 1 when `sticky` is set and 0 otherwise (`m` must
/// then be nonzero). A zero `m` gives a zero of sign `sign`.
fn round_pack(f: Fmt, sign: bool, m: u128, e: i32, sticky: bool, rm: Rm) -> u64 {
    if m == 0 {
        return f.zero(sign);
    }
    let man = f.man as i32;
    // Exponent of the last kept bit: `man` bits below the leading one, but
    // no lower than the subnormals' last bit.
    let mut q = (msb(m) + e - man).max(f.emin() - man);
    let (mut kept, half, rest) = if q <= e {
        // Exact: `m << (e - q)` has its leading bit at or below bit `man`.
        (m << (e - q), false, sticky)
    } else {
        split(m, q - e, sticky)
    };
    let inexact = half || rest;
    if rm.rounds_up(sign, kept & 1 == 1, half, rest) {
        kept += 1;
    }
    if kept >> (man + 1) != 0 {
        kept >>= 1;
        q += 1;
    }
    let biased = if kept >> man != 0 {
        i64::from(q) + i64::from(man) + i64::from(f.bias())
    } else {
        0
    };
    if biased >= f.max_biased() as i64 {
        return f.overflow(sign, rm);
    }
    if inexact {
        raise(if biased == 0 {
            flag::UNDERFLOW | flag::INEXACT
        } else {
            flag::INEXACT
        });
    }
    f.signed(sign, (biased as u64) << man | (kept as u64 & f.man_mask()))
}

/// `x - y`: `x + -y`, but a NaN `y` propagates with its own sign.
fn sub(f: Fmt, x: u64, y: u64, rm: Rm) -> u64 {
    if f.is_nan(y) {
        return f.nan_of(&[x, y]);
    }
    add(f, x, y ^ f.sign_bit(), rm)
}

/// `x + y`.
fn add(f: Fmt, x: u64, y: u64, rm: Rm) -> u64 {
    match (unpack(f, x), unpack(f, y)) {
        (Val::Nan, _) | (_, Val::Nan) => f.nan_of(&[x, y]),
        (Val::Inf(a), Val::Inf(b)) if a != b => f.invalid(),
        (Val::Inf(_), _) => x,
        (_, Val::Inf(_)) => y,
        (Val::Fin(a), Val::Fin(b)) => add_exact(f, a, b, rm),
    }
}

/// Shifts a nonzero significand up so its leading bit is bit 125.
fn normalize(n: Num) -> Num {
    let s = 125 - msb(n.m);
    Num {
        sign: n.sign,
        m: n.m << s,
        e: n.e - s,
    }
}

/// Rounds the exact sum of two finite numbers (significands below 2^125).
fn add_exact(f: Fmt, a: Num, b: Num, rm: Rm) -> u64 {
    // An exact zero sum of opposite signs is -0 only when rounding down.
    let zero_sign = |same: bool| if same { a.sign } else { rm == Rm::Rdn };
    match (a.m == 0, b.m == 0) {
        (true, true) => return f.zero(zero_sign(a.sign == b.sign)),
        (true, false) => return round_pack(f, b.sign, b.m, b.e, false, rm),
        (false, true) => return round_pack(f, a.sign, a.m, a.e, false, rm),
        (false, false) => {}
    }
    let (a, b) = (normalize(a), normalize(b));
    let (big, small) = if (a.e, a.m) >= (b.e, b.m) {
        (a, b)
    } else {
        (b, a)
    };
    // Bits of `small` shifted out become the sticky bit; with both leading
    // bits at 125 they are only nonzero when the exponents differ by ≥ 2,
    // so the result keeps at least 124 significant bits.
    let (aligned, half, rest) = split(small.m, big.e - small.e, false);
    let sticky = half || rest;
    let m = if big.sign == small.sign {
        big.m + aligned
    } else {
        // big - (aligned + s) = (big - aligned - 1) + (1 - s) when s > 0.
        big.m - aligned - u128::from(sticky)
    };
    if m == 0 {
        return f.zero(zero_sign(false));
    }
    round_pack(f, big.sign, m, big.e, sticky, rm)
}

/// `x * y`.
fn mul(f: Fmt, x: u64, y: u64, rm: Rm) -> u64 {
    let sign = f.is_neg(x) != f.is_neg(y);
    match (unpack(f, x), unpack(f, y)) {
        (Val::Nan, _) | (_, Val::Nan) => f.nan_of(&[x, y]),
        (Val::Inf(_), Val::Fin(n)) | (Val::Fin(n), Val::Inf(_)) if n.m == 0 => f.invalid(),
        (Val::Inf(_), _) | (_, Val::Inf(_)) => f.inf(sign),
        (Val::Fin(a), Val::Fin(b)) => round_pack(f, sign, a.m * b.m, a.e + b.e, false, rm),
    }
}

/// `x / y`.
fn div(f: Fmt, x: u64, y: u64, rm: Rm) -> u64 {
    let sign = f.is_neg(x) != f.is_neg(y);
    match (unpack(f, x), unpack(f, y)) {
        (Val::Nan, _) | (_, Val::Nan) => f.nan_of(&[x, y]),
        (Val::Inf(_), Val::Inf(_)) => f.invalid(),
        (Val::Inf(_), _) => f.inf(sign),
        (_, Val::Inf(_)) => f.zero(sign),
        (Val::Fin(a), Val::Fin(b)) => match (a.m == 0, b.m == 0) {
            (true, true) => f.invalid(),
            (false, true) => {
                raise(flag::DIV_BY_ZERO);
                f.inf(sign)
            }
            (true, false) => f.zero(sign),
            (false, false) => div_exact(f, sign, a, b, rm),
        },
    }
}

/// Rounds the quotient of two nonzero finite numbers: the dividend's
/// significand at the top of 128 bits, the divisor's at the top of 64, so
/// the integer quotient has at least 64 bits; a remainder is the sticky bit.
fn div_exact(f: Fmt, sign: bool, a: Num, b: Num, rm: Rm) -> u64 {
    let (sa, sb) = (127 - msb(a.m), 63 - msb(b.m));
    let (n, d) = (a.m << sa, b.m << sb);
    round_pack(f, sign, n / d, (a.e - sa) - (b.e - sb), n % d != 0, rm)
}

/// Square root of `x`.
fn sqrt(f: Fmt, x: u64, rm: Rm) -> u64 {
    match unpack(f, x) {
        Val::Nan => f.nan_of(&[x]),
        Val::Inf(false) => x,
        Val::Fin(n) if n.m == 0 => x,
        Val::Inf(true) => f.invalid(),
        Val::Fin(n) if n.sign => f.invalid(),
        Val::Fin(n) => {
            // Leading bit at 126 or 127 with an even exponent: a root of
            // 63-64 bits; a nonzero remainder is the sticky bit.
            let s = 126 - msb(n.m);
            let (mut m, mut e) = (n.m << s, n.e - s);
            if e % 2 != 0 {
                m <<= 1;
                e -= 1;
            }
            let (root, rem) = isqrt(m);
            round_pack(f, false, root, e / 2, rem != 0, rm)
        }
    }
}

/// Integer square root: `(r, n - r^2)` with `r = floor(sqrt(n))`.
fn isqrt(n: u128) -> (u128, u128) {
    let (mut rem, mut root) = (n, 0u128);
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

/// Fused `x * y + z`, rounded once.
fn fma(f: Fmt, x: u64, y: u64, z: u64, rm: Rm) -> u64 {
    if [x, y, z].iter().any(|&v| f.is_nan(v)) {
        return f.nan_of(&[x, y, z]);
    }
    let psign = f.is_neg(x) != f.is_neg(y);
    let product = match (unpack(f, x), unpack(f, y)) {
        (Val::Inf(_), Val::Fin(n)) | (Val::Fin(n), Val::Inf(_)) if n.m == 0 => {
            return f.invalid();
        }
        (Val::Fin(a), Val::Fin(b)) => Some(Num {
            sign: psign,
            m: a.m * b.m,
            e: a.e + b.e,
        }),
        _ => None,
    };
    match (product, unpack(f, z)) {
        (None, Val::Inf(zs)) if zs != psign => f.invalid(),
        (None, _) => f.inf(psign),
        (Some(_), Val::Inf(_)) => z,
        (Some(p), Val::Fin(c)) => add_exact(f, p, c, rm),
        (Some(_), Val::Nan) => f.nan_of(&[z]),
    }
}

/// `x` rounded to an integral value in `rm` (a float result; zeros keep
/// their sign).
fn round_integral(f: Fmt, x: u64, rm: Rm) -> u64 {
    match unpack(f, x) {
        Val::Nan => f.nan_of(&[x]),
        Val::Inf(_) => x,
        Val::Fin(n) if n.m == 0 || n.e >= 0 => x,
        Val::Fin(n) => {
            // roundToIntegral: not inexact (guests that need the flag, like
            // RISC-V's float-to-int conversions, raise it themselves).
            let (kept, half, rest) = split(n.m, -n.e, false);
            let up = rm.rounds_up(n.sign, kept & 1 == 1, half, rest);
            round_pack(f, n.sign, kept + u128::from(up), 0, false, rm)
        }
    }
}

/// The `src_bits`-wide integer in the low bits of `v` (signed or not) as a
/// float.
fn from_int(f: Fmt, v: u128, src_bits: u32, signed: bool, rm: Rm) -> u64 {
    let unused = 128 - src_bits;
    let v = v << unused >> unused;
    let (sign, mag) = if signed {
        let s = (v << unused) as i128 >> unused;
        (s < 0, s.unsigned_abs())
    } else {
        (false, v)
    };
    round_pack(f, sign, mag, 0, false, rm)
}

/// Float `x` of format `src` in format `dst` (narrowing rounds in `rm`).
fn convert(src: Fmt, dst: Fmt, x: u64, rm: Rm) -> u64 {
    match unpack(src, x) {
        Val::Nan => {
            if src.is_snan(x) {
                raise(flag::INVALID);
            }
            let payload = x & src.man_mask();
            let moved = if dst.man >= src.man {
                payload << (dst.man - src.man)
            } else {
                payload >> (src.man - dst.man)
            };
            dst.signed(src.is_neg(x), dst.inf(false) | dst.quiet_bit() | moved)
        }
        Val::Inf(s) => dst.inf(s),
        Val::Fin(n) => round_pack(dst, n.sign, n.m, n.e, false, rm),
    }
}
