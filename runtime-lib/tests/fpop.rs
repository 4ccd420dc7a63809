//! Differential test of the float slow path `vmtrans_rt_fp_op` against the
//! IR interpreter (`vmtrans_ir::interp::eval_pure`), which defines its
//! results: every op kind, width combination and rounding mode, on edge
//! and seeded-random operands, compared bit for bit.

use vmtrans_abi::fp_op;
use vmtrans_ir::interp::eval_pure;
use vmtrans_ir::{Imm, Opcode, RoundingMode, Type};
use vmtrans_runtime::fpop::vmtrans_rt_fp_op;
use vmtrans_runtime::helpers::{read_mxcsr, write_mxcsr};

/// Cases per (op, widths, rounding mode) combination.
const CASES: usize = 1500;
/// Cases per combination in the dynamic-mode sweep.
const DYN_CASES: usize = 300;

/// SplitMix64: a small seeded generator, so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0; the bias is irrelevant here).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    fn coin(&mut self) -> bool {
        self.next() & 1 == 1
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// Format parameters of a float width: (significand bits, exponent bits).
fn format(width: u32) -> (u32, u32) {
    if width == 32 {
        (23, 8)
    } else {
        (52, 11)
    }
}

/// Assembles a float from sign, biased exponent and fraction.
fn make(width: u32, sign: bool, biased: u64, frac: u64) -> u64 {
    let (man, exp) = format(width);
    let frac = frac & ((1 << man) - 1);
    u64::from(sign) << (man + exp) | biased << man | frac
}

/// Zeros, subnormal and normal limits, ones, infinities and NaNs (quiet
/// and signaling, with payloads).
fn special(rng: &mut Rng, width: u32) -> u64 {
    let (man, exp) = format(width);
    let top = (1u64 << exp) - 1;
    let bias = top >> 1;
    let quiet = 1u64 << (man - 1);
    let full = (1u64 << man) - 1;
    let (biased, frac) = rng.pick(&[
        (0, 0),
        (0, 1),
        (0, 2),
        (0, full),
        (0, quiet),
        (1, 0),
        (1, 1),
        (2, 0),
        (bias, 0),
        (bias, 1),
        (bias, full),
        (bias - 1, full),
        (top - 1, full),
        (top - 1, 0),
        (top, 0),
        (top, quiet),
        (top, quiet | 0x2a5),
        (top, 1),
        (top, quiet - 1),
        (top, full),
    ]);
    make(width, rng.coin(), biased, frac)
}

/// A fraction whose low bits are mostly zero (so sums and products land
/// exactly on rounding ties), or random.
fn fraction(rng: &mut Rng, man: u32) -> u64 {
    let f = rng.next();
    match rng.below(3) {
        0 => f,
        1 => f << rng.range(0, i64::from(man)),
        _ => f & !(u64::MAX >> rng.range(0, 8)),
    }
}

/// A float operand: specials, random bits, sparse fractions at any or at
/// extreme or moderate exponents, and small multiples of 1/4 (`fround`).
fn float_operand(rng: &mut Rng, width: u32) -> u64 {
    let (man, exp) = format(width);
    let top = (1i64 << exp) - 1;
    let bias = top >> 1;
    let sign = rng.coin();
    match rng.below(7) {
        0 => special(rng, width),
        1 => rng.next() & (u64::MAX >> (64 - width)),
        2 => make(
            width,
            sign,
            rng.range(0, top - 1) as u64,
            fraction(rng, man),
        ),
        3 => {
            let (low, high) = (rng.range(0, 3), rng.range(top - 4, top - 1));
            let biased = if rng.coin() { low } else { high };
            make(width, sign, biased as u64, fraction(rng, man))
        }
        4 | 5 => {
            let biased = rng.range(bias - 8, bias + 8) as u64;
            make(width, sign, biased, fraction(rng, man))
        }
        _ => {
            let v = rng.range(-40, 40) as f64 / 4.0 + rng.range(-1, 1) as f64 * 2f64.powi(50);
            host_bits(width, v)
        }
    }
}

/// The bits of `v` in a float of `width` bits (host rounding, nearest).
fn host_bits(width: u32, v: f64) -> u64 {
    if width == 32 {
        u64::from((v as f32).to_bits())
    } else {
        v.to_bits()
    }
}

/// The value of float bits as an `f64` (exact).
fn host_value(width: u32, bits: u64) -> f64 {
    if width == 32 {
        f64::from(f32::from_bits(bits as u32))
    } else {
        f64::from_bits(bits)
    }
}

/// A second operand close to `x` (similar exponent, either sign): sums
/// cancel and align only a few bits.
fn near(rng: &mut Rng, width: u32, x: u64) -> u64 {
    let (man, exp) = format(width);
    let top = (1i64 << exp) - 1;
    let biased = ((x >> man) as i64 & top) + rng.range(-3, 3);
    if !(0..top).contains(&biased) {
        return float_operand(rng, width);
    }
    let frac = x ^ (rng.next() >> rng.range(64 - i64::from(man), 63));
    make(width, rng.coin(), biased as u64, frac)
}

/// An addend for `fma` close to `-(x * y)` (host product, perturbed by a
/// few ulps): heavy cancellation.
fn cancelling_addend(rng: &mut Rng, width: u32, x: u64, y: u64) -> u64 {
    let p = host_value(width, x) * host_value(width, y);
    let bits = host_bits(width, -p);
    if !p.is_finite() {
        return float_operand(rng, width);
    }
    bits.wrapping_add(rng.range(-2, 2) as u64) & (u64::MAX >> (64 - width))
}

/// Float operands for an op taking `arity` of them.
fn float_operands(rng: &mut Rng, width: u32, arity: usize) -> [u64; 3] {
    let x = float_operand(rng, width);
    let mut y = if rng.below(3) == 0 {
        near(rng, width, x)
    } else {
        float_operand(rng, width)
    };
    if arity == 1 {
        y = 0;
    }
    let z = match arity {
        3 if rng.below(3) == 0 => cancelling_addend(rng, width, x, y),
        3 if rng.below(3) == 0 => near(rng, width, x),
        3 => float_operand(rng, width),
        _ => 0,
    };
    [x, y, z]
}

/// An integer of `bits` bits: extremes, random, and values of random bit
/// length whose bits below the destination precision `prec` are a tie,
/// just below or above one, or random.
fn int_operand(rng: &mut Rng, bits: u32, prec: u32) -> u128 {
    let mask = u128::MAX >> (128 - bits);
    let min = 1u128 << (bits - 1);
    let random = u128::from(rng.next()) << 64 | u128::from(rng.next());
    let v = match rng.below(4) {
        0 => rng.pick(&[0, 1, 2, 3, mask, mask - 1, min, min - 1, min + 1, random]),
        1 => random,
        _ => {
            let len = rng.range(1, i64::from(bits)) as u32;
            let v = (random >> (128 - len)) | 1u128 << (len - 1);
            if len <= prec + 1 {
                v
            } else {
                let drop = len - prec - 1;
                let half = 1u128 << (drop - 1);
                let low = rng.pick(&[0, half, half - 1, half + 1, half.wrapping_sub(2)]);
                (v >> drop << drop) | (low & ((1u128 << drop) - 1))
            }
        }
    };
    let v = if rng.coin() { v.wrapping_neg() } else { v };
    v & mask
}

/// The IR type of a float or integer width.
fn ty(bits: u32, float: bool) -> Type {
    match (bits, float) {
        (32, true) => Type::F32,
        (64, true) => Type::F64,
        (8, false) => Type::I8,
        (16, false) => Type::I16,
        (32, false) => Type::I32,
        (64, false) => Type::I64,
        _ => Type::I128,
    }
}

/// The interpreter's result for the encoded op in static mode `rm`.
fn reference(op: u32, rm: RoundingMode, [a, b, c]: [u64; 3]) -> u64 {
    let (kind, width, src) = fp_op::decode(op);
    let t = ty(width, true);
    let (a, b, c) = (u128::from(a), u128::from(b), u128::from(c));
    let (opcode, args, types) = match kind {
        fp_op::FADD => (Opcode::Fadd, vec![a, b], vec![t, t]),
        fp_op::FSUB => (Opcode::Fsub, vec![a, b], vec![t, t]),
        fp_op::FMUL => (Opcode::Fmul, vec![a, b], vec![t, t]),
        fp_op::FDIV => (Opcode::Fdiv, vec![a, b], vec![t, t]),
        fp_op::FSQRT => (Opcode::Fsqrt, vec![a], vec![t]),
        fp_op::FMA => (Opcode::Fma, vec![a, b, c], vec![t, t, t]),
        fp_op::FROUND => (Opcode::Fround, vec![a], vec![t]),
        fp_op::FCVT_FROM_SINT => (
            Opcode::FcvtFromSint,
            vec![a | b << 64],
            vec![ty(src, false)],
        ),
        fp_op::FCVT_FROM_UINT => (
            Opcode::FcvtFromUint,
            vec![a | b << 64],
            vec![ty(src, false)],
        ),
        fp_op::FCONVERT => (Opcode::Fconvert, vec![a], vec![ty(src, true)]),
        _ => unreachable!("kind {kind}"),
    };
    let r = eval_pure(opcode, t, &Imm::Rm(rm), &args, &types).expect("pure float op");
    u64::try_from(r).expect("a float result")
}

/// The helper under test (the state pointer is unused: null).
fn helper(op: u32, rm: u32, [a, b, c]: [u64; 3]) -> u64 {
    // SAFETY: the helper does not use `state`.
    unsafe { vmtrans_rt_fp_op(std::ptr::null_mut(), op, rm, a, b, c) }
}

/// The helper in the dynamic mode with MXCSR rounding control `rc`
/// (restored before returning).
fn helper_dyn(op: u32, rc: u32, operands: [u64; 3]) -> u64 {
    let saved = read_mxcsr();
    write_mxcsr((saved & !0x6000) | rc << 13);
    let r = helper(op, 7, operands);
    write_mxcsr(saved);
    r
}

/// Operands for the encoded op.
fn operands(rng: &mut Rng, op: u32) -> [u64; 3] {
    let (kind, width, src) = fp_op::decode(op);
    let prec = format(width).0 + 1;
    match kind {
        fp_op::FSQRT | fp_op::FROUND => float_operands(rng, width, 1),
        fp_op::FMA => float_operands(rng, width, 3),
        fp_op::FCVT_FROM_SINT | fp_op::FCVT_FROM_UINT => {
            let v = int_operand(rng, src, prec);
            [v as u64, (v >> 64) as u64, 0]
        }
        fp_op::FCONVERT => [float_operand(rng, src), 0, 0],
        _ => float_operands(rng, width, 2),
    }
}

/// Every op code the backends emit.
fn all_ops() -> Vec<u32> {
    let mut ops = Vec::new();
    for width in [32, 64] {
        for kind in [0, 1, 2, 3, 4, 5, 6].map(|k| k as u32) {
            ops.push(fp_op::encode(kind, width, 0));
        }
        for src in [8, 16, 32, 64, 128] {
            ops.push(fp_op::encode(fp_op::FCVT_FROM_SINT, width, src));
            ops.push(fp_op::encode(fp_op::FCVT_FROM_UINT, width, src));
        }
        for src in [32, 64] {
            ops.push(fp_op::encode(fp_op::FCONVERT, width, src));
        }
    }
    ops
}

/// Collects mismatches (up to a few) and the number of comparisons.
#[derive(Default)]
struct Tally {
    compared: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, op: u32, rm: u32, operands: [u64; 3], got: u64, want: u64) {
        self.compared += 1;
        if got != want && self.failures.len() < 20 {
            self.failures.push(format!(
                "op {:?} rm {rm} operands {operands:#x?}: got {got:#x}, want {want:#x}",
                fp_op::decode(op)
            ));
        }
    }

    fn finish(self, min: usize) {
        assert!(self.failures.is_empty(), "{}", self.failures.join("\n"));
        assert!(self.compared >= min, "only {} comparisons", self.compared);
        eprintln!("{} comparisons, all bit-exact", self.compared);
    }
}

#[test]
fn static_modes_match_the_interpreter() {
    let mut rng = Rng(0x5eed_f00d);
    let mut tally = Tally::default();
    for op in all_ops() {
        for rm in 0..=4 {
            let mode = RoundingMode::from_number(rm).expect("static mode");
            for _ in 0..CASES {
                let x = operands(&mut rng, op);
                tally.check(op, rm, x, helper(op, rm, x), reference(op, mode, x));
            }
        }
    }
    tally.finish(100_000);
}

#[test]
fn dynamic_mode_follows_mxcsr() {
    // MXCSR rounding control → the guest mode it mirrors.
    let modes = [
        (0b00, RoundingMode::Rne),
        (0b01, RoundingMode::Rdn),
        (0b10, RoundingMode::Rup),
        (0b11, RoundingMode::Rtz),
    ];
    let mut rng = Rng(0xd1ce);
    let mut tally = Tally::default();
    for op in all_ops() {
        for (rc, mode) in modes {
            for _ in 0..DYN_CASES {
                let x = operands(&mut rng, op);
                tally.check(op, 7, x, helper_dyn(op, rc, x), reference(op, mode, x));
            }
        }
    }
    tally.finish(40_000);
}

#[test]
fn exhaustive_edge_pairs() {
    // Every pair of special values, every binary op and mode.
    let mut tally = Tally::default();
    let mut rng = Rng(7);
    for width in [32, 64] {
        let specials: Vec<u64> = (0..400).map(|_| special(&mut rng, width)).collect();
        for kind in [
            fp_op::FADD,
            fp_op::FSUB,
            fp_op::FMUL,
            fp_op::FDIV,
            fp_op::FMA,
        ] {
            let op = fp_op::encode(kind, width, 0);
            for (i, &a) in specials.iter().enumerate().step_by(7) {
                for (j, &b) in specials.iter().enumerate().skip(i % 5).step_by(5) {
                    let c = specials[(i * 31 + j) % specials.len()];
                    let rm = rng.below(5) as u32;
                    let mode = RoundingMode::from_number(rm).expect("static mode");
                    let x = [a, b, c];
                    tally.check(op, rm, x, helper(op, rm, x), reference(op, mode, x));
                }
            }
        }
    }
    tally.finish(5_000);
}

#[test]
fn unknown_op_codes_give_zero() {
    for op in [
        fp_op::encode(10, 64, 0),
        fp_op::encode(fp_op::FADD, 16, 0),
        fp_op::encode(fp_op::FCONVERT, 64, 16),
        fp_op::encode(fp_op::FCVT_FROM_SINT, 64, 0),
    ] {
        assert_eq!(helper(op, 0, [1, 2, 3]), 0);
    }
}

/// The MXCSR status flags one helper call raises (cleared before).
fn flags_of(op: u32, rm: u32, operands: [u64; 3]) -> u32 {
    let saved = read_mxcsr();
    write_mxcsr(saved & !0x3f);
    helper(op, rm, operands);
    let raised = read_mxcsr() & 0x3f;
    write_mxcsr(saved);
    raised
}

#[test]
fn the_slow_path_raises_ieee_flags_in_mxcsr() {
    use vmtrans_runtime::fpop::flag::*;
    let d = |k| fp_op::encode(k, 64, 0);
    let (one, two, three) = (1f64.to_bits(), 2f64.to_bits(), 3f64.to_bits());
    let (zero, inf, snan) = (
        0f64.to_bits(),
        f64::INFINITY.to_bits(),
        0x7ff0_0000_0000_0001,
    );
    const RTZ: u32 = 1;
    assert_eq!(flags_of(d(fp_op::FDIV), RTZ, [one, three, 0]), INEXACT);
    assert_eq!(flags_of(d(fp_op::FDIV), RTZ, [one, two, 0]), 0, "exact");
    assert_eq!(flags_of(d(fp_op::FDIV), RTZ, [one, zero, 0]), DIV_BY_ZERO);
    assert_eq!(flags_of(d(fp_op::FDIV), RTZ, [zero, zero, 0]), INVALID);
    assert_eq!(flags_of(d(fp_op::FSUB), RTZ, [inf, inf, 0]), INVALID);
    assert_eq!(flags_of(d(fp_op::FADD), RTZ, [snan, one, 0]), INVALID);
    assert_eq!(
        flags_of(d(fp_op::FSQRT), RTZ, [(-1f64).to_bits(), 0, 0]),
        INVALID
    );
    let max = f64::MAX.to_bits();
    assert_eq!(
        flags_of(d(fp_op::FMUL), RTZ, [max, two, 0]),
        OVERFLOW | INEXACT
    );
    let tiny = f64::MIN_POSITIVE.to_bits();
    assert_eq!(
        flags_of(d(fp_op::FMUL), RTZ, [tiny, (1.0f64 / 3.0).to_bits(), 0]),
        UNDERFLOW | INEXACT
    );
    assert_eq!(
        flags_of(d(fp_op::FROUND), RTZ, [2.5f64.to_bits(), 0, 0]),
        0,
        "roundToIntegral is not inexact"
    );
    assert_eq!(flags_of(d(fp_op::FROUND), RTZ, [two, 0, 0]), 0);
    let u64_to_d = fp_op::encode(fp_op::FCVT_FROM_UINT, 64, 64);
    assert_eq!(flags_of(u64_to_d, RTZ, [u64::MAX, 0, 0]), INEXACT);
}
