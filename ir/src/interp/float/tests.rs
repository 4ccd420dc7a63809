//! Float semantics tests: hand-picked values where the rounding modes
//! disagree, and randomized cross-checks against an independent method
//! (the host's round-to-nearest result plus the sign of the exact error,
//! obtained with error-free transformations).

use super::*;

const MODES: [Rm; 5] = [Rm::Rne, Rm::Rtz, Rm::Rdn, Rm::Rup, Rm::Rmm];

fn d(x: f64) -> u64 {
    x.to_bits()
}

fn s(x: f32) -> u64 {
    u64::from(x.to_bits())
}

/// Results in the order rne, rtz, rdn, rup, rmm.
fn all_modes(f: impl Fn(Rm) -> u64) -> [u64; 5] {
    MODES.map(f)
}

const ONE_UP: f64 = 1.0 + f64::EPSILON;

#[test]
fn add_in_each_mode() {
    let tiny = 2f64.powi(-60);
    let r = all_modes(|rm| arith(F64, FArith::Add, d(1.0), d(tiny), rm));
    assert_eq!(r, [d(1.0), d(1.0), d(1.0), d(ONE_UP), d(1.0)]);
    let r = all_modes(|rm| arith(F64, FArith::Sub, d(-1.0), d(tiny), rm));
    assert_eq!(r, [d(-1.0), d(-1.0), d(-ONE_UP), d(-1.0), d(-1.0)]);
    // An exact tie: 1 + half an ulp.
    let half = 2f64.powi(-53);
    let r = all_modes(|rm| arith(F64, FArith::Add, d(1.0), d(half), rm));
    assert_eq!(r, [d(1.0), d(1.0), d(1.0), d(ONE_UP), d(ONE_UP)]);
    // A tie whose even neighbour is above.
    let r = all_modes(|rm| arith(F64, FArith::Add, d(ONE_UP), d(half), rm));
    let two_up = 1.0 + 2.0 * f64::EPSILON;
    assert_eq!(r, [d(two_up), d(ONE_UP), d(ONE_UP), d(two_up), d(two_up)]);
}

#[test]
fn exact_zero_sums_and_signed_zeros() {
    for rm in MODES {
        let z = arith(F64, FArith::Sub, d(1.5), d(1.5), rm);
        let want = if rm == Rm::Rdn { d(-0.0) } else { d(0.0) };
        assert_eq!(z, want, "{rm:?}");
        assert_eq!(arith(F64, FArith::Add, d(-0.0), d(-0.0), rm), d(-0.0));
        let mixed = arith(F64, FArith::Add, d(-0.0), d(0.0), rm);
        assert_eq!(mixed, want, "{rm:?}");
        assert_eq!(arith(F64, FArith::Add, d(-0.0), d(3.0), rm), d(3.0));
    }
}

#[test]
fn mul_div_sqrt_in_each_mode() {
    // (1+e)^2 = 1 + 2e + e^2: inexact, just above 1 + 2e.
    let r = all_modes(|rm| arith(F64, FArith::Mul, d(ONE_UP), d(ONE_UP), rm));
    let lo = 1.0 + 2.0 * f64::EPSILON;
    let hi = 1.0 + 3.0 * f64::EPSILON;
    assert_eq!(r, [d(lo), d(lo), d(lo), d(hi), d(lo)]);
    let r = all_modes(|rm| arith(F64, FArith::Div, d(1.0), d(3.0), rm));
    let third = 1.0f64 / 3.0;
    let third_up = third.next_up();
    assert_eq!(r, [d(third), d(third), d(third), d(third_up), d(third)]);
    let r = all_modes(|rm| arith(F64, FArith::Div, d(-2.0), d(3.0), rm));
    let two3 = -2.0f64 / 3.0;
    // 2/3 = 0.1010..10|1010..: the nearest is the truncation.
    assert_eq!(r, [d(two3), d(two3), d(two3.next_down()), d(two3), d(two3)]);
    let r = all_modes(|rm| sqrt(F64, d(2.0), rm));
    // The nearest double to sqrt(2) is above it; the nearest float below.
    let s2 = 2f64.sqrt();
    let below = s2.next_down();
    assert_eq!(r, [d(s2), d(below), d(below), d(s2), d(s2)]);
    let r = all_modes(|rm| sqrt(F32, s(2.0), rm));
    let s2 = 2f32.sqrt();
    assert_eq!(r, [s(s2), s(s2), s(s2), s(s2.next_up()), s(s2)]);
}

#[test]
fn overflow_and_underflow_by_mode() {
    let big = f64::MAX;
    let r = all_modes(|rm| arith(F64, FArith::Mul, d(big), d(2.0), rm));
    let inf = d(f64::INFINITY);
    assert_eq!(r, [inf, d(big), d(big), inf, inf]);
    let r = all_modes(|rm| arith(F64, FArith::Mul, d(-big), d(2.0), rm));
    let ninf = d(f64::NEG_INFINITY);
    assert_eq!(r, [ninf, d(-big), ninf, d(-big), ninf]);
    // min subnormal / 2 is a tie between 0 and the min subnormal.
    let min_sub = f64::from_bits(1);
    let r = all_modes(|rm| arith(F64, FArith::Div, d(min_sub), d(2.0), rm));
    assert_eq!(r, [d(0.0), d(0.0), d(0.0), d(min_sub), d(min_sub)]);
    let r = all_modes(|rm| arith(F64, FArith::Mul, d(-min_sub), d(0.25), rm));
    assert_eq!(r, [d(-0.0), d(-0.0), d(-min_sub), d(-0.0), d(-0.0)]);
    // Rounding up the largest subnormal gives the smallest normal.
    let max_sub = f64::from_bits((1 << 52) - 1);
    let r = arith(F64, FArith::Add, d(max_sub), d(min_sub), Rm::Rne);
    assert_eq!(r, d(f64::MIN_POSITIVE));
}

#[test]
fn fma_single_rounding() {
    // (1+e)^2 - 1 = 2e + e^2 = 2e(1 + e/2) exactly: a tie at 54 bits.
    let r = all_modes(|rm| fma(F64, d(ONE_UP), d(ONE_UP), d(-1.0), rm));
    let lo = 2.0 * f64::EPSILON;
    let hi = lo.next_up();
    assert_eq!(r, [d(lo), d(lo), d(lo), d(hi), d(hi)]);
    // An unfused multiply-add would round the product first and get 0.
    let a = 1.0 + 2f64.powi(-30);
    let p = a * a;
    assert_eq!(
        f64::from_bits(fma(F64, d(a), d(a), d(-p), Rm::Rne)),
        2f64.powi(-60)
    );
    // Exact cancellation: +0, or -0 rounding down.
    assert_eq!(fma(F64, d(2.0), d(3.0), d(-6.0), Rm::Rne), d(0.0));
    assert_eq!(fma(F64, d(2.0), d(3.0), d(-6.0), Rm::Rdn), d(-0.0));
    assert_eq!(fma(F64, d(-0.0), d(3.0), d(-0.0), Rm::Rne), d(-0.0));
    assert_eq!(fma(F64, d(-0.0), d(3.0), d(0.0), Rm::Rne), d(0.0));
    assert_eq!(fma(F64, d(-0.0), d(3.0), d(0.0), Rm::Rdn), d(-0.0));
    // inf * 0 is invalid even with a NaN addend? No: a NaN input wins.
    let nan = F64.default_nan();
    assert_eq!(fma(F64, d(f64::INFINITY), d(0.0), d(1.0), Rm::Rne), nan);
    assert_eq!(
        fma(F64, d(f64::INFINITY), d(1.0), d(f64::NEG_INFINITY), Rm::Rne),
        nan
    );
    // Tiny product below the addend's ulp only moves directed modes.
    let tiny = f64::from_bits(1);
    let r = all_modes(|rm| fma(F64, d(tiny), d(tiny), d(1.0), rm));
    assert_eq!(r, [d(1.0), d(1.0), d(1.0), d(ONE_UP), d(1.0)]);
    let r = all_modes(|rm| fma(F64, d(-tiny), d(tiny), d(1.0), rm));
    let below = 1.0f64.next_down();
    assert_eq!(r, [d(1.0), d(below), d(below), d(1.0), d(1.0)]);
    // A subnormal result from a product of normals.
    let r = fma(F64, d(2f64.powi(-600)), d(2f64.powi(-500)), d(0.0), Rm::Rne);
    assert_eq!(r, d(2f64.powi(-1100)));
}

#[test]
fn round_to_integral_by_mode() {
    let cases: [(f64, [f64; 5]); 6] = [
        (2.5, [2.0, 2.0, 2.0, 3.0, 3.0]),
        (-2.5, [-2.0, -2.0, -3.0, -2.0, -3.0]),
        (0.3, [0.0, 0.0, 0.0, 1.0, 0.0]),
        (-0.3, [-0.0, -0.0, -1.0, -0.0, -0.0]),
        (3.7, [4.0, 3.0, 3.0, 4.0, 4.0]),
        (1e300, [1e300; 5]),
    ];
    for (x, want) in cases {
        let got = all_modes(|rm| round_integral(F64, d(x), rm));
        assert_eq!(got, want.map(d), "fround {x}");
    }
    assert_eq!(round_integral(F32, s(-0.5), Rm::Rne), s(-0.0));
    assert_eq!(round_integral(F32, s(0.5), Rm::Rmm), s(1.0));
}

#[test]
fn int_to_float_by_mode() {
    // 2^24 + 1 is not an f32.
    let v = (1u128 << 24) + 1;
    let r = all_modes(|rm| from_int(F32, v, 64, true, rm));
    let (lo, hi) = (s(16_777_216.0), s(16_777_218.0));
    assert_eq!(r, [lo, lo, lo, hi, hi]);
    // i64 into f32 with a sticky bit far below: 2^60 + 1.
    let v = (1u128 << 60) + 1;
    let r = all_modes(|rm| from_int(F32, v, 64, true, rm));
    let p60 = 2f32.powi(60);
    assert_eq!(r, [s(p60), s(p60), s(p60), s(p60.next_up()), s(p60)]);
    // Negative: -(2^60 + 1).
    let v = (-((1i128 << 60) + 1)) as u128 & u64::MAX as u128;
    let r = all_modes(|rm| from_int(F32, v, 64, true, rm));
    assert_eq!(
        r,
        [s(-p60), s(-p60), s((-p60).next_down()), s(-p60), s(-p60)]
    );
    // Unsigned u64::MAX to f64: rounds up to 2^64 except toward zero/down.
    let r = all_modes(|rm| from_int(F64, u64::MAX.into(), 64, false, rm));
    let p64 = d(2f64.powi(64));
    let below = d(2f64.powi(64).next_down());
    assert_eq!(r, [p64, below, below, p64, p64]);
    assert_eq!(
        from_int(F64, 1 << 127, 128, true, Rm::Rne),
        d(-(2f64.powi(127)))
    );
    assert_eq!(
        from_int(F64, u128::MAX, 128, false, Rm::Rtz),
        d(2f64.powi(128).next_down())
    );
    assert_eq!(from_int(F32, 0xff, 8, true, Rm::Rne), s(-1.0));
    assert_eq!(from_int(F32, 0, 8, true, Rm::Rdn), s(0.0));
}

#[test]
fn float_to_int_truncates_and_saturates() {
    let nan = d(f64::NAN);
    for (signed, bits) in [
        (true, 32),
        (false, 32),
        (true, 64),
        (false, 64),
        (true, 128),
    ] {
        assert_eq!(to_int(F64, nan, bits, signed), 0);
    }
    assert_eq!(to_int(F64, d(-1.9), 32, true), 0xffff_ffff);
    assert_eq!(to_int(F64, d(1.9), 32, true), 1);
    assert_eq!(to_int(F64, d(-0.9), 32, true), 0);
    assert_eq!(to_int(F64, d(-5.0), 32, false), 0);
    assert_eq!(to_int(F64, d(3e9), 32, true), 0x7fff_ffff);
    assert_eq!(to_int(F64, d(-3e9), 32, true), 0x8000_0000);
    assert_eq!(to_int(F64, d(-2147483648.0), 32, true), 0x8000_0000);
    assert_eq!(to_int(F64, d(-2147483649.0), 32, true), 0x8000_0000);
    assert_eq!(to_int(F64, d(3e9), 32, false), 3_000_000_000);
    assert_eq!(to_int(F64, d(5e9), 32, false), 0xffff_ffff);
    assert_eq!(to_int(F64, d(f64::INFINITY), 64, true), i64::MAX as u128);
    assert_eq!(to_int(F64, d(f64::NEG_INFINITY), 64, true), 1 << 63);
    assert_eq!(to_int(F64, d(1e300), 128, false), u128::MAX);
    assert_eq!(to_int(F64, d(-1e300), 128, true), 1 << 127);
    assert_eq!(to_int(F32, s(-1.5), 8, true), 0xff);
    assert_eq!(to_int(F32, s(300.0), 8, false), 0xff);
    assert_eq!(to_int(F64, d(2f64.powi(100)), 128, true), 1 << 100);
}

#[test]
fn demotion_by_mode_and_nan_payloads() {
    let x = 1.0 + 2f64.powi(-30); // not an f32
    let r = all_modes(|rm| convert(F64, F32, d(x), rm));
    assert_eq!(r, [s(1.0), s(1.0), s(1.0), s(1f32.next_up()), s(1.0)]);
    let r = all_modes(|rm| convert(F64, F32, d(1e39), rm));
    let inf = s(f32::INFINITY);
    assert_eq!(r, [inf, s(f32::MAX), s(f32::MAX), inf, inf]);
    assert_eq!(convert(F32, F64, s(0.1), Rm::Rne), d(f64::from(0.1f32)));
    let snan32 = 0x7f80_0001u64;
    assert_eq!(convert(F32, F64, snan32, Rm::Rne), 0x7ff8_0000_2000_0000);
    assert_eq!(
        convert(F64, F32, F64.default_nan() | F64.sign_bit(), Rm::Rne),
        0xffc0_0000
    );
    assert_eq!(convert(F64, F32, d(-0.0), Rm::Rne), s(-0.0));
    // Subnormal f32 results.
    let r = all_modes(|rm| convert(F64, F32, d(2f64.powi(-149) * 1.5), rm));
    let m = f32::from_bits(1);
    let m2 = f32::from_bits(2);
    assert_eq!(r, [s(m2), s(m), s(m), s(m2), s(m2)]);
}

#[test]
fn nan_rules() {
    let snan = 0x7ff0_0000_0000_0001u64;
    let qnan_payload = 0x7ff8_0000_0000_0042u64;
    assert_eq!(
        arith(F64, FArith::Add, snan, d(1.0), Rm::Rne),
        snan | 1 << 51
    );
    assert_eq!(
        arith(F64, FArith::Mul, d(1.0), qnan_payload, Rm::Rne),
        qnan_payload
    );
    assert_eq!(
        arith(F64, FArith::Sub, d(1.0), qnan_payload | 1 << 63, Rm::Rne),
        qnan_payload | 1 << 63
    );
    assert_eq!(
        arith(F64, FArith::Add, qnan_payload, snan, Rm::Rne),
        qnan_payload
    );
    assert_eq!(
        arith(F64, FArith::Div, d(0.0), d(0.0), Rm::Rne),
        F64.default_nan()
    );
    assert_eq!(
        arith(
            F64,
            FArith::Add,
            d(f64::INFINITY),
            d(f64::NEG_INFINITY),
            Rm::Rne
        ),
        F64.default_nan()
    );
    assert_eq!(sqrt(F64, d(-1.0), Rm::Rne), F64.default_nan());
    assert_eq!(sqrt(F64, d(-0.0), Rm::Rne), d(-0.0));
    assert_eq!(
        arith(F32, FArith::Mul, s(0.0), s(f32::INFINITY), Rm::Rne),
        0xffc0_0000
    );
}

#[test]
fn min_max_nan_and_signed_zero() {
    use FMinMax::*;
    let nan = d(f64::NAN);
    let snan = 0x7ff0_0000_0000_0001u64;
    assert_eq!(min_max(F64, Min, d(-0.0), d(0.0)), d(-0.0));
    assert_eq!(min_max(F64, Min, d(0.0), d(-0.0)), d(-0.0));
    assert_eq!(min_max(F64, Max, d(-0.0), d(0.0)), d(0.0));
    assert_eq!(min_max(F64, MaxNum, d(0.0), d(-0.0)), d(0.0));
    assert_eq!(min_max(F64, MinNum, d(0.0), d(-0.0)), d(-0.0));
    assert_eq!(min_max(F64, Min, d(1.0), nan), nan);
    assert_eq!(min_max(F64, Max, nan, d(1.0)), nan);
    assert_eq!(min_max(F64, Max, snan, d(1.0)), snan | 1 << 51);
    assert_eq!(min_max(F64, MinNum, d(1.0), nan), d(1.0));
    assert_eq!(min_max(F64, MaxNum, nan, d(-1.0)), d(-1.0));
    assert_eq!(min_max(F64, MaxNum, snan, d(-1.0)), d(-1.0));
    assert_eq!(min_max(F64, MinNum, nan, snan), nan);
    assert_eq!(min_max(F64, Min, d(-3.0), d(2.0)), d(-3.0));
    assert_eq!(min_max(F64, Max, d(-3.0), d(2.0)), d(2.0));
    assert_eq!(
        min_max(F32, MinNum, s(f32::NEG_INFINITY), s(2.0)),
        s(f32::NEG_INFINITY)
    );
    assert_eq!(min_max(F64, CopySign, d(3.0), d(-0.0)), d(-3.0));
    assert_eq!(min_max(F64, CopySign, d(-3.0), nan), d(3.0));
}

#[test]
fn compare_conditions() {
    let nan = d(f64::NAN);
    let t = |cc, x, y| compare(F64, cc, x, y);
    assert!(t(FloatCC::Ne, nan, nan));
    assert!(!t(FloatCC::Eq, nan, nan));
    assert!(t(FloatCC::Uno, nan, d(1.0)));
    assert!(!t(FloatCC::Ord, d(1.0), nan));
    assert!(t(FloatCC::Ord, d(1.0), d(2.0)));
    assert!(!t(FloatCC::Lt, nan, d(1.0)));
    assert!(!t(FloatCC::Ge, nan, d(1.0)));
    assert!(t(FloatCC::Eq, d(0.0), d(-0.0)));
    assert!(t(FloatCC::Le, d(-0.0), d(0.0)));
    assert!(!t(FloatCC::Lt, d(-0.0), d(0.0)));
    assert!(t(FloatCC::Gt, d(2.0), d(1.0)));
}

#[test]
fn class_of_all_ten_kinds() {
    let cases: [(u64, u32); 10] = [
        (d(f64::NEG_INFINITY), 0),
        (d(-1.0), 1),
        (d(-f64::from_bits(1)), 2),
        (d(-0.0), 3),
        (d(0.0), 4),
        (d(f64::from_bits(1)), 5),
        (d(1.0), 6),
        (d(f64::INFINITY), 7),
        (0x7ff0_0000_0000_0001, 8),
        (0x7ff8_0000_0000_0000, 9),
    ];
    for (x, bitno) in cases {
        assert_eq!(class(F64, x), 1 << bitno, "{x:#x}");
    }
    assert_eq!(class(F32, 0x7fa0_0000), 1 << 8);
    assert_eq!(class(F32, 0xffc0_0000), 1 << 9);
    assert_eq!(class(F32, 0x8000_0001), 1 << 2);
}

// ---- randomized cross-checks against an independent method ----

/// xorshift64*: deterministic test inputs without a dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A float with an exponent in `lo..=hi` (biased), random significand
    /// and sign, sometimes with few significand bits (more ties).
    fn float64(&mut self, lo: u64, hi: u64) -> f64 {
        let r = self.next();
        let exp = lo + (r >> 40) % (hi - lo + 1);
        let mut man = self.next() & ((1 << 52) - 1);
        if r & 3 == 0 {
            man &= !((1 << 40) - 1);
        }
        f64::from_bits((r & 1 << 63) | exp << 52 | man)
    }

    fn float32(&mut self, lo: u32, hi: u32) -> f32 {
        let r = self.next();
        let exp = lo + (r >> 40) as u32 % (hi - lo + 1);
        let mut man = self.next() as u32 & ((1 << 23) - 1);
        if r & 3 == 0 {
            man &= !((1 << 12) - 1);
        }
        f32::from_bits(((r >> 32) as u32 & 1 << 31) | exp << 23 | man)
    }
}

/// Rounds the exact value `x + err` (err's sign is what matters; `x` is an
/// f64 that is the nearest double to the exact value, or the exact value
/// when `err == 0`) to f32 in `rm`, by comparisons that are exact.
fn ref_round_f32(x: f64, err: f64, rm: Rm) -> f32 {
    // exact <= p and exact >= p, for f64-representable p.
    let le = |p: f64| x < p || (x == p && err <= 0.0);
    let ge = |p: f64| x > p || (x == p && err >= 0.0);
    let mut lo = x as f32;
    while !ge(f64::from(lo)) {
        lo = lo.next_down();
    }
    while ge(f64::from(lo.next_up())) {
        lo = lo.next_up();
    }
    if le(f64::from(lo)) {
        return lo;
    }
    let hi = lo.next_up();
    // Overflow rounds as if the exponent range were unbounded.
    let value = |f: f32| {
        if f.is_infinite() {
            2f64.powi(128).copysign(f64::from(f))
        } else {
            f64::from(f)
        }
    };
    let mid = (value(lo) + value(hi)) / 2.0;
    let negative = x < 0.0;
    let (toward_zero, away) = if negative { (hi, lo) } else { (lo, hi) };
    let even = if lo.to_bits() & 1 == 0 { lo } else { hi };
    let pick = match rm {
        Rm::Rtz => toward_zero,
        Rm::Rdn => lo,
        Rm::Rup => hi,
        Rm::Rne | Rm::Rmm if le(mid) && ge(mid) => {
            if rm == Rm::Rmm {
                away
            } else {
                even
            }
        }
        Rm::Rne | Rm::Rmm if le(mid) => lo,
        Rm::Rne | Rm::Rmm => hi,
    };
    if pick == 0.0 && negative {
        -0.0
    } else {
        pick
    }
}

/// TwoSum: the exact error of `a + b` rounded to nearest.
fn two_sum_err(a: f64, b: f64) -> f64 {
    let s = a + b;
    let bb = s - a;
    (a - (s - bb)) + (b - bb)
}

fn check32(what: &str, got: u64, x: f64, err: f64, rm: Rm, inputs: &[f32]) {
    if x == 0.0 && err == 0.0 {
        return; // exact zeros have their own sign rules, tested above
    }
    let want = ref_round_f32(x, err, rm);
    assert_eq!(
        got as u32,
        want.to_bits(),
        "{what} {rm:?} {inputs:?}: got {} want {want}",
        f32::from_bits(got as u32)
    );
}

#[test]
fn random_f32_ops_match_reference_rounding() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for i in 0..40_000 {
        // Exponents spanning subnormal results but avoiding overflow.
        let a = rng.float32(1, 200);
        let b = if i % 4 == 0 {
            a * 1.000_001
        } else {
            rng.float32(1, 200)
        };
        let c = rng.float32(1, 200);
        let (a64, b64, c64) = (f64::from(a), f64::from(b), f64::from(c));
        for rm in MODES {
            let sum = a64 + b64;
            check32(
                "add",
                arith(F32, FArith::Add, s(a), s(b), rm),
                sum,
                two_sum_err(a64, b64),
                rm,
                &[a, b],
            );
            let p = a64 * b64; // exact
            check32(
                "mul",
                arith(F32, FArith::Mul, s(a), s(b), rm),
                p,
                0.0,
                rm,
                &[a, b],
            );
            let q = a64 / b64;
            let rem = (-q).mul_add(b64, a64) * b64.signum();
            check32(
                "div",
                arith(F32, FArith::Div, s(a), s(b), rm),
                q,
                rem,
                rm,
                &[a, b],
            );
            let fsum = p + c64;
            check32(
                "fma",
                fma(F32, s(a), s(b), s(c), rm),
                fsum,
                two_sum_err(p, c64),
                rm,
                &[a, b, c],
            );
            let aa = a64.abs();
            let r = aa.sqrt();
            let rem = (-r).mul_add(r, aa);
            check32("sqrt", sqrt(F32, s(a.abs()), rm), r, rem, rm, &[a]);
            check32("demote", convert(F64, F32, d(q), rm), q, 0.0, rm, &[a, b]);
        }
    }
}

/// Checks an f64 result against the nearest result `near` and the sign of
/// the exact error; `tie` says the exact value is halfway.
fn check64(what: &str, got: u64, near: f64, err: f64, tie: bool, rm: Rm, inputs: &[f64]) {
    let want = if err == 0.0 {
        near
    } else {
        let (lo, hi) = if err > 0.0 {
            (near, near.next_up())
        } else {
            (near.next_down(), near)
        };
        let toward_zero = if near > 0.0 { lo } else { hi };
        let away = if near > 0.0 { hi } else { lo };
        match rm {
            Rm::Rne => near,
            Rm::Rtz => toward_zero,
            Rm::Rdn => lo,
            Rm::Rup => hi,
            Rm::Rmm if tie => away,
            Rm::Rmm => near,
        }
    };
    let want = if want == 0.0 && near.is_sign_negative() {
        -0.0
    } else {
        want
    };
    assert_eq!(
        got,
        want.to_bits(),
        "{what} {rm:?} {inputs:?}: got {} want {want}",
        f64::from_bits(got)
    );
}

/// True when `near + e` lies exactly halfway to `near`'s neighbour.
fn is_tie(near: f64, e: f64) -> bool {
    (e > 0.0 && e * 2.0 == near.next_up() - near)
        || (e < 0.0 && -e * 2.0 == near - near.next_down())
}

#[test]
fn random_f64_ops_match_error_free_transformations() {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for i in 0..40_000 {
        let a = rng.float64(600, 1400);
        let b = if i % 4 == 0 {
            f64::from_bits(a.to_bits() ^ (rng.next() & 0xfff))
        } else {
            rng.float64(600, 1400)
        };
        for rm in MODES {
            let sum = a + b;
            let e = two_sum_err(a, b);
            let tie = is_tie(sum, e);
            if sum != 0.0 {
                check64(
                    "add",
                    arith(F64, FArith::Add, d(a), d(b), rm),
                    sum,
                    e,
                    tie,
                    rm,
                    &[a, b],
                );
            }
            let p = a * b;
            let e = a.mul_add(b, -p);
            let tie = is_tie(p, e);
            check64(
                "mul",
                arith(F64, FArith::Mul, d(a), d(b), rm),
                p,
                e,
                tie,
                rm,
                &[a, b],
            );
            let q = a / b;
            let rem = (-q).mul_add(b, a) * b.signum();
            check64(
                "div",
                arith(F64, FArith::Div, d(a), d(b), rm),
                q,
                rem,
                false,
                rm,
                &[a, b],
            );
            let aa = a.abs();
            let r = aa.sqrt();
            let rem = (-r).mul_add(r, aa);
            check64("sqrt", sqrt(F64, d(aa), rm), r, rem, false, rm, &[aa]);
        }
        let c = rng.float64(600, 1400);
        let want = a.mul_add(b, c);
        assert_eq!(
            fma(F64, d(a), d(b), d(c), Rm::Rne),
            d(want),
            "fma {a} {b} {c}"
        );
    }
}
