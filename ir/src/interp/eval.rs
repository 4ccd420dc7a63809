//! Evaluation of side-effect-free ops: one exhaustive `match` on [`Opcode`]
//! that routes each op to its family's semantics (integer, float,
//! conversion, vector).

use crate::ops::{FloatCC, Imm, IntCC, Opcode, RoundingMode};
use crate::types::Type;

use super::float::{self, FArith, FMinMax, Fmt, Rm};
use super::int::{self, FlagOp, IntBinOp, IntUnOp, ShiftOp};
use super::vector::{self as vec, NarrowOp, PermOp, ReduceOp, SatOp, VShiftOp};

/// Why an op could not be evaluated as a pure function of its operands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum EvalError {
    /// The op touches memory, registers or the runtime.
    NotPure,
    /// The op rounds in the dynamic mode, which is not known.
    DynamicRounding,
    /// Operands or immediate do not fit the op (the verifier rejects this).
    IllTyped(String),
}

type Eval = Result<u128, EvalError>;

/// Operand values (masked to their types) and their types.
struct Args<'a> {
    vals: &'a [u128],
    types: &'a [Type],
}

impl Args<'_> {
    fn get(&self, i: usize) -> u128 {
        self.vals[i]
    }

    fn ty(&self, i: usize) -> Type {
        self.types[i]
    }
}

/// Evaluates a side-effect-free op. `dyn_rm` is the dynamic rounding mode
/// when known.
pub(crate) fn eval(
    op: Opcode,
    ty: Type,
    imm: &Imm,
    vals: &[u128],
    types: &[Type],
    dyn_rm: Option<RoundingMode>,
) -> Eval {
    let arity = op.sig().arity().unwrap_or(vals.len());
    if vals.len() != arity || types.len() != arity {
        return Err(ill(format!(
            "{op} takes {arity} operand(s), given {}",
            vals.len()
        )));
    }
    let masked: Vec<u128> = vals.iter().zip(types).map(|(v, t)| v & t.mask()).collect();
    let a = Args {
        vals: &masked,
        types,
    };
    let r = dispatch(op, ty, imm, &a, dyn_rm)?;
    let result_ty = op.sig().result_type(ty).unwrap_or(ty);
    Ok(r & result_ty.mask())
}

fn ill(msg: String) -> EvalError {
    EvalError::IllTyped(msg)
}

fn dispatch(op: Opcode, ty: Type, imm: &Imm, a: &Args, dyn_rm: Option<RoundingMode>) -> Eval {
    use Opcode as O;
    let x = || a.get(0);
    let y = || a.get(1);
    match op {
        O::Iconst | O::Fconst | O::Vconst => constant(imm),
        O::Ineg => int_unary(IntUnOp::Neg, ty, a),
        O::Bnot => int_unary(IntUnOp::Not, ty, a),
        O::Clz => int_unary(IntUnOp::Clz, ty, a),
        O::Ctz => int_unary(IntUnOp::Ctz, ty, a),
        O::Popcnt => int_unary(IntUnOp::Popcnt, ty, a),
        O::Bswap => int_unary(IntUnOp::Bswap, ty, a),
        O::Bitrev => int_unary(IntUnOp::Bitrev, ty, a),
        O::Iadd => int_binary(IntBinOp::Add, ty, a),
        O::Isub => int_binary(IntBinOp::Sub, ty, a),
        O::Imul => int_binary(IntBinOp::Mul, ty, a),
        O::Umulhi => int_binary(IntBinOp::Umulhi, ty, a),
        O::Smulhi => int_binary(IntBinOp::Smulhi, ty, a),
        O::Sumulhi => int_binary(IntBinOp::Sumulhi, ty, a),
        O::Udiv => int_binary(IntBinOp::Udiv, ty, a),
        O::Sdiv => int_binary(IntBinOp::Sdiv, ty, a),
        O::Urem => int_binary(IntBinOp::Urem, ty, a),
        O::Srem => int_binary(IntBinOp::Srem, ty, a),
        O::Band => int_binary(IntBinOp::And, ty, a),
        O::Bor => int_binary(IntBinOp::Or, ty, a),
        O::Bxor => int_binary(IntBinOp::Xor, ty, a),
        O::BandNot => int_binary(IntBinOp::AndNot, ty, a),
        O::Umin => int_binary(IntBinOp::Umin, ty, a),
        O::Umax => int_binary(IntBinOp::Umax, ty, a),
        O::Smin => int_binary(IntBinOp::Smin, ty, a),
        O::Smax => int_binary(IntBinOp::Smax, ty, a),
        O::Ishl => Ok(int::shift(ShiftOp::Shl, ty, x(), y())),
        O::Ushr => Ok(int::shift(ShiftOp::Ushr, ty, x(), y())),
        O::Sshr => Ok(int::shift(ShiftOp::Sshr, ty, x(), y())),
        O::Rotl => Ok(int::shift(ShiftOp::Rotl, ty, x(), y())),
        O::Rotr => Ok(int::shift(ShiftOp::Rotr, ty, x(), y())),
        O::UaddOverflow => Ok(int::flag(FlagOp::Uadd, ty, x(), y())),
        O::SaddOverflow => Ok(int::flag(FlagOp::Sadd, ty, x(), y())),
        O::UsubOverflow => Ok(int::flag(FlagOp::Usub, ty, x(), y())),
        O::SsubOverflow => Ok(int::flag(FlagOp::Ssub, ty, x(), y())),
        O::Parity => Ok(int::parity(ty, x())),
        O::Icmp => Ok(u128::from(int::compare(int_cc(imm)?, ty, x(), y()))),
        O::Select => Ok(if x() & 1 == 1 { y() } else { a.get(2) }),
        O::Uext | O::Ireduce | O::Bitcast => Ok(x() & ty.mask()),
        O::Sext => Ok(int::sext(a.ty(0), ty, x())),
        O::Fneg => float_unary(ty, a, float::neg),
        O::Fabs => float_unary(ty, a, float::abs),
        O::Fsqrt => float_unary_rm(ty, imm, a, dyn_rm, float::sqrt),
        O::Fround => float_unary_rm(ty, imm, a, dyn_rm, float::round_integral),
        O::Fadd => float_arith(FArith::Add, ty, imm, a, dyn_rm),
        O::Fsub => float_arith(FArith::Sub, ty, imm, a, dyn_rm),
        O::Fmul => float_arith(FArith::Mul, ty, imm, a, dyn_rm),
        O::Fdiv => float_arith(FArith::Div, ty, imm, a, dyn_rm),
        O::Fma => float_fma(ty, imm, a, dyn_rm),
        O::Fmin => float_min_max(FMinMax::Min, ty, a),
        O::Fmax => float_min_max(FMinMax::Max, ty, a),
        O::Fminnum => float_min_max(FMinMax::MinNum, ty, a),
        O::Fmaxnum => float_min_max(FMinMax::MaxNum, ty, a),
        O::Fcopysign => float_min_max(FMinMax::CopySign, ty, a),
        O::Fcmp => Ok(u128::from(float::compare(
            fmt(ty)?,
            float_cc(imm)?,
            bits(x()),
            bits(y()),
        ))),
        O::Fclass => Ok(u128::from(float::class(fmt(ty)?, bits(x())))),
        O::FcvtFromSint => int_to_float(ty, imm, a, true, dyn_rm),
        O::FcvtFromUint => int_to_float(ty, imm, a, false, dyn_rm),
        O::FcvtToSint => float_to_int(ty, a, true),
        O::FcvtToUint => float_to_int(ty, a, false),
        O::Fconvert => float_to_float(ty, imm, a, dyn_rm),
        O::Load
        | O::Store
        | O::ReadReg
        | O::WriteReg
        | O::LinkIn
        | O::LinkOut
        | O::AtomicRmw
        | O::AtomicCas
        | O::Fence
        | O::Poll
        | O::CallHelper => Err(EvalError::NotPure),
        O::Vineg => vec_int_unary(IntUnOp::Neg, ty, a),
        O::Viabs => Ok(vec::map1(ty.bits(), x(), |l| abs_lane(ty, l))),
        O::Vpopcnt => vec_int_unary(IntUnOp::Popcnt, ty, a),
        O::Vfneg => vec_float_bits(ty, a, float::neg),
        O::Vfabs => vec_float_bits(ty, a, float::abs),
        O::Vfsqrt => vec_float_sqrt(ty, a, dyn_rm),
        O::VswidenLo => Ok(vec::widen(ty.bits(), x(), false, true)),
        O::VswidenHi => Ok(vec::widen(ty.bits(), x(), true, true)),
        O::VuwidenLo => Ok(vec::widen(ty.bits(), x(), false, false)),
        O::VuwidenHi => Ok(vec::widen(ty.bits(), x(), true, false)),
        O::VfcvtFromSint => vec_from_sint(ty, a, dyn_rm),
        O::VfcvtToSint => vec_to_sint(ty, a),
        O::Viadd => vec_int_binary(IntBinOp::Add, ty, a),
        O::Visub => vec_int_binary(IntBinOp::Sub, ty, a),
        O::Vimul => vec_int_binary(IntBinOp::Mul, ty, a),
        O::Vand => Ok(x() & y()),
        O::Vor => Ok(x() | y()),
        O::Vxor => Ok(x() ^ y()),
        O::VandNot => Ok(x() & !y()),
        O::Vumin => vec_int_binary(IntBinOp::Umin, ty, a),
        O::Vumax => vec_int_binary(IntBinOp::Umax, ty, a),
        O::Vsmin => vec_int_binary(IntBinOp::Smin, ty, a),
        O::Vsmax => vec_int_binary(IntBinOp::Smax, ty, a),
        O::VuaddSat => vec_saturating(SatOp::UaddSat, ty, a),
        O::VsaddSat => vec_saturating(SatOp::SaddSat, ty, a),
        O::VusubSat => vec_saturating(SatOp::UsubSat, ty, a),
        O::VssubSat => vec_saturating(SatOp::SsubSat, ty, a),
        O::Vuavg => vec_saturating(SatOp::Uavg, ty, a),
        O::Vfadd => vec_float_arith(FArith::Add, ty, a, dyn_rm),
        O::Vfsub => vec_float_arith(FArith::Sub, ty, a, dyn_rm),
        O::Vfmul => vec_float_arith(FArith::Mul, ty, a, dyn_rm),
        O::Vfdiv => vec_float_arith(FArith::Div, ty, a, dyn_rm),
        O::Vfmin => vec_float_min_max(FMinMax::Min, ty, a),
        O::Vfmax => vec_float_min_max(FMinMax::Max, ty, a),
        O::Vfminnum => vec_float_min_max(FMinMax::MinNum, ty, a),
        O::Vfmaxnum => vec_float_min_max(FMinMax::MaxNum, ty, a),
        O::Vswizzle => Ok(vec::swizzle(x(), y())),
        O::VzipLo => Ok(vec::permute(PermOp::ZipLo, ty.bits(), x(), y())),
        O::VzipHi => Ok(vec::permute(PermOp::ZipHi, ty.bits(), x(), y())),
        O::VuzpEven => Ok(vec::permute(PermOp::UzpEven, ty.bits(), x(), y())),
        O::VuzpOdd => Ok(vec::permute(PermOp::UzpOdd, ty.bits(), x(), y())),
        O::VnarrowTrunc => vec_narrow(NarrowOp::Trunc, ty, a),
        O::VnarrowSsat => vec_narrow(NarrowOp::Ssat, ty, a),
        O::VnarrowUsat => vec_narrow(NarrowOp::Usat, ty, a),
        O::Vishl => Ok(vec::shift(VShiftOp::Shl, ty.bits(), x(), y())),
        O::Vushr => Ok(vec::shift(VShiftOp::Ushr, ty.bits(), x(), y())),
        O::Vsshr => Ok(vec::shift(VShiftOp::Sshr, ty.bits(), x(), y())),
        O::Vicmp => vec_int_compare(ty, imm, a),
        O::Vfcmp => vec_float_compare(ty, imm, a),
        O::Vsplat => Ok(vec::splat(ty.bits(), x())),
        O::Vextract => Ok(vec::lane(x(), ty.bits(), lane_index(imm, ty)?)),
        O::Vinsert => Ok(vec::insert(ty.bits(), x(), lane_index(imm, ty)?, y())),
        O::Vshuffle => shuffle(imm, a),
        O::VreduceAdd => Ok(vec::reduce(ReduceOp::Add, ty.bits(), x())),
        O::VreduceUmax => Ok(vec::reduce(ReduceOp::Umax, ty.bits(), x())),
        O::VreduceUmin => Ok(vec::reduce(ReduceOp::Umin, ty.bits(), x())),
        O::VreduceSmax => Ok(vec::reduce(ReduceOp::Smax, ty.bits(), x())),
        O::VreduceSmin => Ok(vec::reduce(ReduceOp::Smin, ty.bits(), x())),
        O::Vbitselect => Ok(vec::bitselect(x(), y(), a.get(2))),
    }
}

// ---- immediates ----

fn constant(imm: &Imm) -> Eval {
    match imm {
        Imm::Int(bits) => Ok(*bits),
        other => Err(ill(format!("constant with immediate {other:?}"))),
    }
}

fn int_cc(imm: &Imm) -> Result<IntCC, EvalError> {
    match imm {
        Imm::Cc(cc) => Ok(*cc),
        other => Err(ill(format!("expected a condition, got {other:?}"))),
    }
}

fn float_cc(imm: &Imm) -> Result<FloatCC, EvalError> {
    match imm {
        Imm::Fcc(cc) => Ok(*cc),
        other => Err(ill(format!("expected a float condition, got {other:?}"))),
    }
}

/// The rounding mode of `imm`, with `dyn` resolved through `dyn_rm`.
fn rounding(imm: &Imm, dyn_rm: Option<RoundingMode>) -> Result<Rm, EvalError> {
    match imm {
        Imm::Rm(rm) => dynamic(*rm, dyn_rm),
        other => Err(ill(format!("expected a rounding mode, got {other:?}"))),
    }
}

fn dynamic(rm: RoundingMode, dyn_rm: Option<RoundingMode>) -> Result<Rm, EvalError> {
    Rm::resolve(rm, dyn_rm).ok_or(EvalError::DynamicRounding)
}

fn lane_index(imm: &Imm, ty: Type) -> Result<u32, EvalError> {
    match imm {
        Imm::Lane(i) if u32::from(*i) < ty.lanes() => Ok(u32::from(*i)),
        other => Err(ill(format!("bad lane index {other:?} for {ty}"))),
    }
}

fn shuffle(imm: &Imm, a: &Args) -> Eval {
    match imm {
        Imm::Bytes(b) => Ok(vec::shuffle(b, a.get(0), a.get(1))),
        other => Err(ill(format!("expected shuffle bytes, got {other:?}"))),
    }
}

// ---- integer ----

fn int_unary(op: IntUnOp, ty: Type, a: &Args) -> Eval {
    Ok(int::unary(op, ty, a.get(0)))
}

fn int_binary(op: IntBinOp, ty: Type, a: &Args) -> Eval {
    Ok(int::binary(op, ty, a.get(0), a.get(1)))
}

// ---- float ----

fn fmt(ty: Type) -> Result<Fmt, EvalError> {
    Fmt::of(ty).ok_or_else(|| ill(format!("{ty} is not a float type")))
}

/// The float bits of an operand (float operands are at most 64 bits).
fn bits(v: u128) -> u64 {
    v as u64
}

fn float_unary(ty: Type, a: &Args, f: fn(Fmt, u64) -> u64) -> Eval {
    Ok(f(fmt(ty)?, bits(a.get(0))).into())
}

fn float_unary_rm(
    ty: Type,
    imm: &Imm,
    a: &Args,
    dyn_rm: Option<RoundingMode>,
    f: fn(Fmt, u64, Rm) -> u64,
) -> Eval {
    let fm = fmt(ty)?;
    Ok(f(fm, bits(a.get(0)), rounding(imm, dyn_rm)?).into())
}

fn float_arith(op: FArith, ty: Type, imm: &Imm, a: &Args, dyn_rm: Option<RoundingMode>) -> Eval {
    let fm = fmt(ty)?;
    let rm = rounding(imm, dyn_rm)?;
    Ok(float::arith(fm, op, bits(a.get(0)), bits(a.get(1)), rm).into())
}

fn float_fma(ty: Type, imm: &Imm, a: &Args, dyn_rm: Option<RoundingMode>) -> Eval {
    let fm = fmt(ty)?;
    let rm = rounding(imm, dyn_rm)?;
    let (x, y, z) = (bits(a.get(0)), bits(a.get(1)), bits(a.get(2)));
    Ok(float::fma(fm, x, y, z, rm).into())
}

fn float_min_max(op: FMinMax, ty: Type, a: &Args) -> Eval {
    Ok(float::min_max(fmt(ty)?, op, bits(a.get(0)), bits(a.get(1))).into())
}

// ---- conversions ----

fn int_to_float(ty: Type, imm: &Imm, a: &Args, signed: bool, dyn_rm: Option<RoundingMode>) -> Eval {
    let fm = fmt(ty)?;
    let rm = rounding(imm, dyn_rm)?;
    Ok(float::from_int(fm, a.get(0), a.ty(0).bits(), signed, rm).into())
}

fn float_to_int(ty: Type, a: &Args, signed: bool) -> Eval {
    let src = fmt(a.ty(0))?;
    Ok(float::to_int(src, bits(a.get(0)), ty.bits(), signed))
}

fn float_to_float(ty: Type, imm: &Imm, a: &Args, dyn_rm: Option<RoundingMode>) -> Eval {
    let (src, dst) = (fmt(a.ty(0))?, fmt(ty)?);
    let rm = rounding(imm, dyn_rm)?;
    Ok(float::convert(src, dst, bits(a.get(0)), rm).into())
}

// ---- vector ----

/// The float format of a vector lane type, by width (so `i32` lanes are
/// read as `f32`).
fn lane_fmt(ty: Type) -> Result<Fmt, EvalError> {
    Fmt::of_width(ty.bits()).ok_or_else(|| ill(format!("{ty} lanes are not float lanes")))
}

fn vec_int_unary(op: IntUnOp, ty: Type, a: &Args) -> Eval {
    let lt = ty.as_int();
    Ok(vec::map1(ty.bits(), a.get(0), |l| int::unary(op, lt, l)))
}

fn abs_lane(ty: Type, l: u128) -> u128 {
    if int::sext_bits(l, ty.bits()) < 0 {
        l.wrapping_neg()
    } else {
        l
    }
}

fn vec_int_binary(op: IntBinOp, ty: Type, a: &Args) -> Eval {
    let lt = ty.as_int();
    Ok(vec::map2(ty.bits(), a.get(0), a.get(1), |p, q| {
        int::binary(op, lt, p, q)
    }))
}

fn vec_saturating(op: SatOp, ty: Type, a: &Args) -> Eval {
    let w = ty.bits();
    Ok(vec::map2(w, a.get(0), a.get(1), |p, q| {
        vec::saturating(op, w, p, q)
    }))
}

fn vec_float_bits(ty: Type, a: &Args, f: fn(Fmt, u64) -> u64) -> Eval {
    let fm = lane_fmt(ty)?;
    Ok(vec::map1(ty.bits(), a.get(0), |l| f(fm, bits(l)).into()))
}

/// Vector float arithmetic rounds in the dynamic mode.
fn vec_float_arith(op: FArith, ty: Type, a: &Args, dyn_rm: Option<RoundingMode>) -> Eval {
    let fm = lane_fmt(ty)?;
    let rm = dynamic(RoundingMode::Dyn, dyn_rm)?;
    Ok(vec::map2(ty.bits(), a.get(0), a.get(1), |p, q| {
        float::arith(fm, op, bits(p), bits(q), rm).into()
    }))
}

fn vec_float_sqrt(ty: Type, a: &Args, dyn_rm: Option<RoundingMode>) -> Eval {
    let fm = lane_fmt(ty)?;
    let rm = dynamic(RoundingMode::Dyn, dyn_rm)?;
    Ok(vec::map1(ty.bits(), a.get(0), |l| {
        float::sqrt(fm, bits(l), rm).into()
    }))
}

fn vec_float_min_max(op: FMinMax, ty: Type, a: &Args) -> Eval {
    let fm = lane_fmt(ty)?;
    Ok(vec::map2(ty.bits(), a.get(0), a.get(1), |p, q| {
        float::min_max(fm, op, bits(p), bits(q)).into()
    }))
}

fn vec_from_sint(ty: Type, a: &Args, dyn_rm: Option<RoundingMode>) -> Eval {
    let (w, fm) = (ty.bits(), lane_fmt(ty)?);
    let rm = dynamic(RoundingMode::Dyn, dyn_rm)?;
    Ok(vec::map1(w, a.get(0), |l| {
        float::from_int(fm, l, w, true, rm).into()
    }))
}

fn vec_to_sint(ty: Type, a: &Args) -> Eval {
    let (w, fm) = (ty.bits(), lane_fmt(ty)?);
    Ok(vec::map1(w, a.get(0), |l| {
        float::to_int(fm, bits(l), w, true)
    }))
}

fn vec_narrow(op: NarrowOp, ty: Type, a: &Args) -> Eval {
    if ty.bits() < 16 {
        return Err(ill(format!("cannot narrow {ty} lanes")));
    }
    Ok(vec::narrow(op, ty.bits(), a.get(0), a.get(1)))
}

fn vec_int_compare(ty: Type, imm: &Imm, a: &Args) -> Eval {
    let (cc, lt, w) = (int_cc(imm)?, ty.as_int(), ty.bits());
    Ok(vec::map2(w, a.get(0), a.get(1), |p, q| {
        if int::compare(cc, lt, p, q) {
            u128::MAX
        } else {
            0
        }
    }))
}

fn vec_float_compare(ty: Type, imm: &Imm, a: &Args) -> Eval {
    let (cc, fm, w) = (float_cc(imm)?, lane_fmt(ty)?, ty.bits());
    Ok(vec::map2(w, a.get(0), a.get(1), |p, q| {
        if float::compare(fm, cc, bits(p), bits(q)) {
            u128::MAX
        } else {
            0
        }
    }))
}
