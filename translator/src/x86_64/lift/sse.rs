//! SSE and SSE2: moves, bitwise logic, packed integer arithmetic,
//! compares, shuffles and unpacks, scalar and packed float arithmetic,
//! conversions, comparisons into flags, and MXCSR.
//!
//! Float results need no NaN fix-up: the IR's NaN rule (a NaN input
//! propagates, first operand first; an invalid operation on non-NaN inputs
//! gives the negative quiet default NaN) is x86's, scalar and packed.

use iced_x86::{Instruction, Mnemonic, OpKind};
use vmtrans_ir::{FloatCC, Helper, IntCC, RoundingMode, Type, Value};

use crate::x86_64::regs::{AF, CF, MXCSR, OF, PF, SF, ZF};
use crate::LiftCx;

use super::flags;
use super::operand::{address, int_type, read, read_gpr, write, write_gpr, xmm_reg};
use super::Fail;

const DYN: RoundingMode = RoundingMode::Dyn;

/// Routes the SSE family.
pub fn lift(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    match m {
        M::Movdqa
        | M::Movdqu
        | M::Movaps
        | M::Movups
        | M::Movapd
        | M::Movupd
        | M::Lddqu
        | M::Movntdq
        | M::Movntps
        | M::Movntpd
        | M::Movntdqa => move128(insn, cx),
        M::Movq | M::Movd => move_scalar_int(insn, cx),
        M::Movnti => {
            let ty = int_type(insn.memory_size().size())?;
            let v = read(cx, insn, 1, ty)?;
            write(cx, insn, 0, v)
        }
        M::Movss | M::Movsd => move_scalar_float(insn, cx),
        M::Movhps | M::Movhpd | M::Movlps | M::Movlpd | M::Movhlps | M::Movlhps => {
            move_half(insn, cx)
        }
        M::Pxor | M::Xorps | M::Xorpd => bitwise(insn, cx, |cx, a, b| cx.b.vxor(Type::I64, a, b)),
        M::Por | M::Orps | M::Orpd => bitwise(insn, cx, |cx, a, b| cx.b.vor(Type::I64, a, b)),
        M::Pand | M::Andps | M::Andpd => bitwise(insn, cx, |cx, a, b| cx.b.vand(Type::I64, a, b)),
        // andn: (not dst) and src.
        M::Pandn | M::Andnps | M::Andnpd => {
            bitwise(insn, cx, |cx, a, b| cx.b.vand_not(Type::I64, b, a))
        }
        M::Pmovmskb | M::Movmskps | M::Movmskpd => move_mask(insn, cx),
        M::Pshufd | M::Pshuflw | M::Pshufhw | M::Shufps | M::Shufpd | M::Psrldq | M::Pslldq => {
            shuffle(insn, cx)
        }
        M::Punpcklbw
        | M::Punpcklwd
        | M::Punpckldq
        | M::Punpcklqdq
        | M::Punpckhbw
        | M::Punpckhwd
        | M::Punpckhdq
        | M::Punpckhqdq
        | M::Unpcklps
        | M::Unpcklpd
        | M::Unpckhps
        | M::Unpckhpd => unpack(insn, cx),
        M::Psrlw | M::Psrld | M::Psrlq | M::Psllw | M::Pslld | M::Psllq | M::Psraw | M::Psrad => {
            vector_shift(insn, cx)
        }
        M::Ucomiss | M::Ucomisd | M::Comiss | M::Comisd => compare_flags(insn, cx),
        M::Addss
        | M::Addsd
        | M::Subss
        | M::Subsd
        | M::Mulss
        | M::Mulsd
        | M::Divss
        | M::Divsd
        | M::Sqrtss
        | M::Sqrtsd
        | M::Minss
        | M::Minsd
        | M::Maxss
        | M::Maxsd => scalar_arith(insn, cx),
        M::Cvtsi2sd
        | M::Cvtsi2ss
        | M::Cvttsd2si
        | M::Cvttss2si
        | M::Cvtsd2si
        | M::Cvtss2si
        | M::Cvtss2sd
        | M::Cvtsd2ss
        | M::Cvtdq2pd
        | M::Cvttpd2dq => convert(insn, cx),
        M::Cmpss | M::Cmpsd | M::Cmpps | M::Cmppd => compare_mask(insn, cx),
        M::Stmxcsr => {
            cx.b.call_helper(Helper::FpSyncFlags, &[]);
            let v = cx.b.use_reg(MXCSR);
            write(cx, insn, 0, v)
        }
        M::Ldmxcsr => {
            cx.b.call_helper(Helper::FpSyncFlags, &[]);
            let v = read(cx, insn, 0, Type::I32)?;
            cx.b.def_reg(MXCSR, v);
            set_host_rounding(cx, v);
            Ok(())
        }
        _ => match packed_op(m) {
            Some(op) => packed(insn, cx, op),
            None => Err(format!("{m:?} is not lifted")),
        },
    }
}

/// The xmm register of operand `i`.
fn xreg(insn: &Instruction, i: u32) -> Result<vmtrans_ir::GuestReg, Fail> {
    xmm_reg(insn.op_register(i))
}

/// Operand `i` as a full vector (a register, or 16 bytes of memory).
fn vsrc(cx: &mut LiftCx, insn: &Instruction, i: u32) -> Result<Value, Fail> {
    match insn.op_kind(i) {
        OpKind::Register => Ok(cx.b.use_reg(xreg(insn, i)?)),
        OpKind::Memory => {
            let a = address(cx, insn)?;
            Ok(cx.b.load(Type::V128, a))
        }
        k => Err(format!("vector operand kind {k:?}")),
    }
}

/// Scalar lane 0 of operand `i` with type `ty` (register lane or memory).
fn scalar_src(cx: &mut LiftCx, insn: &Instruction, i: u32, ty: Type) -> Result<Value, Fail> {
    match insn.op_kind(i) {
        OpKind::Register => {
            let v = cx.b.use_reg(xreg(insn, i)?);
            Ok(cx.b.vextract(ty, 0, v))
        }
        OpKind::Memory => {
            let a = address(cx, insn)?;
            Ok(cx.b.load(ty, a))
        }
        k => Err(format!("scalar operand kind {k:?}")),
    }
}

/// A vector whose lane 0 is `v` (of type `ty`) and the rest zero.
fn zero_extended(cx: &mut LiftCx, ty: Type, v: Value) -> Value {
    let z = cx.b.vconst(0);
    cx.b.vinsert(ty, 0, z, v)
}

fn move128(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let v = vsrc(cx, insn, 1)?;
    match insn.op_kind(0) {
        OpKind::Register => {
            cx.b.def_reg(xreg(insn, 0)?, v);
            Ok(())
        }
        _ => {
            let a = address(cx, insn)?;
            cx.b.store(a, v);
            Ok(())
        }
    }
}

/// `movd`/`movq` between xmm, general registers and memory.
fn move_scalar_int(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = if insn.mnemonic() == Mnemonic::Movd {
        Type::I32
    } else {
        Type::I64
    };
    let dst_xmm = insn.op_kind(0) == OpKind::Register && insn.op_register(0).is_xmm();
    if dst_xmm {
        let v = match insn.op_kind(1) {
            OpKind::Register if insn.op_register(1).is_xmm() => scalar_src(cx, insn, 1, ty)?,
            OpKind::Memory => scalar_src(cx, insn, 1, ty)?,
            _ => read_gpr(cx, insn.op_register(1))?,
        };
        let z = zero_extended(cx, ty, v);
        cx.b.def_reg(xreg(insn, 0)?, z);
        return Ok(());
    }
    if !(insn.op_kind(1) == OpKind::Register && insn.op_register(1).is_xmm()) {
        return Err("mmx movd/movq".into());
    }
    let v = scalar_src(cx, insn, 1, ty)?;
    write(cx, insn, 0, v)
}

/// `movss`/`movsd` (SSE): register to register merges lane 0; a load
/// zeroes the rest; a store writes lane 0.
fn move_scalar_float(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = if insn.mnemonic() == Mnemonic::Movss {
        Type::I32
    } else {
        Type::I64
    };
    match (insn.op_kind(0), insn.op_kind(1)) {
        (OpKind::Register, OpKind::Register) => {
            let d = xreg(insn, 0)?;
            let s = scalar_src(cx, insn, 1, ty)?;
            let old = cx.b.use_reg(d);
            let v = cx.b.vinsert(ty, 0, old, s);
            cx.b.def_reg(d, v);
        }
        (OpKind::Register, OpKind::Memory) => {
            let s = scalar_src(cx, insn, 1, ty)?;
            let v = zero_extended(cx, ty, s);
            cx.b.def_reg(xreg(insn, 0)?, v);
        }
        _ => {
            let s = scalar_src(cx, insn, 1, ty)?;
            let a = address(cx, insn)?;
            cx.b.store(a, s);
        }
    }
    Ok(())
}

/// `movhps movhpd movlps movlpd movhlps movlhps`.
fn move_half(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let high = matches!(insn.mnemonic(), M::Movhps | M::Movhpd);
    let lane = u8::from(high);
    if insn.op_kind(0) == OpKind::Memory {
        let v = cx.b.use_reg(xreg(insn, 1)?);
        let x = cx.b.vextract(Type::I64, lane, v);
        let a = address(cx, insn)?;
        cx.b.store(a, x);
        return Ok(());
    }
    let d = xreg(insn, 0)?;
    let old = cx.b.use_reg(d);
    let (to, x) = match insn.mnemonic() {
        M::Movhlps => {
            let s = cx.b.use_reg(xreg(insn, 1)?);
            (0, cx.b.vextract(Type::I64, 1, s))
        }
        M::Movlhps => {
            let s = cx.b.use_reg(xreg(insn, 1)?);
            (1, cx.b.vextract(Type::I64, 0, s))
        }
        _ => {
            let a = address(cx, insn)?;
            (lane, cx.b.load(Type::I64, a))
        }
    };
    let v = cx.b.vinsert(Type::I64, to, old, x);
    cx.b.def_reg(d, v);
    Ok(())
}

/// A bitwise op on (destination, source).
fn bitwise(
    insn: &Instruction,
    cx: &mut LiftCx,
    f: impl FnOnce(&mut LiftCx, Value, Value) -> Value,
) -> Result<(), Fail> {
    let d = xreg(insn, 0)?;
    let same = insn.op_kind(1) == OpKind::Register && insn.op_register(1) == insn.op_register(0);
    if same
        && matches!(
            insn.mnemonic(),
            Mnemonic::Pxor | Mnemonic::Xorps | Mnemonic::Xorpd
        )
    {
        let z = cx.b.vconst(0);
        cx.b.def_reg(d, z);
        return Ok(());
    }
    let a = cx.b.use_reg(d);
    let b = vsrc(cx, insn, 1)?;
    let r = f(cx, a, b);
    cx.b.def_reg(d, r);
    Ok(())
}

/// Gathers bit 7 of each of the eight bytes of `x` (an i64) into 8 bits:
/// the masked bits times 0x0002040810204081 land, without carries, in
/// bits 56..63.
fn byte_signs(cx: &mut LiftCx, x: Value) -> Value {
    let m = cx.const64(0x8080_8080_8080_8080);
    let t = cx.b.band(x, m);
    let magic = cx.const64(0x0002_0408_1020_4081);
    let t = cx.b.imul(t, magic);
    let s = cx.b.iconst(Type::I8, 56);
    cx.b.ushr(t, s)
}

/// `pmovmskb`, `movmskps`, `movmskpd`: lane sign bits into a register.
fn move_mask(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let v = cx.b.use_reg(xreg(insn, 1)?);
    let lanes: u8;
    let mask = match insn.mnemonic() {
        Mnemonic::Pmovmskb => {
            let lo = cx.b.vextract(Type::I64, 0, v);
            let hi = cx.b.vextract(Type::I64, 1, v);
            let lo = byte_signs(cx, lo);
            let hi = byte_signs(cx, hi);
            let eight = cx.b.iconst(Type::I8, 8);
            let hi = cx.b.ishl(hi, eight);
            cx.b.bor(lo, hi)
        }
        m => {
            let (ty, n) = if m == Mnemonic::Movmskps {
                (Type::I32, 4)
            } else {
                (Type::I64, 2)
            };
            lanes = n;
            let mut acc = cx.const64(0);
            for i in 0..lanes {
                let x = cx.b.vextract(ty, i, v);
                let s = flags::sign(cx, x);
                let w = cx.b.uext(Type::I64, s);
                let sh = cx.b.iconst(Type::I8, i128::from(i));
                let placed = cx.b.ishl(w, sh);
                acc = cx.b.bor(acc, placed);
            }
            acc
        }
    };
    let r = insn.op_register(0);
    let v = if r.size() == 8 {
        mask
    } else {
        cx.b.ireduce(Type::I32, mask)
    };
    write_gpr(cx, r, v)
}

/// Byte indices (into x:y) of the constant shuffles.
fn shuffle_bytes(m: Mnemonic, imm: u8) -> [u8; 16] {
    let mut idx = [0u8; 16];
    let dword = |idx: &mut [u8; 16], i: usize, from: u8| {
        for b in 0..4 {
            idx[i * 4 + b] = from * 4 + b as u8;
        }
    };
    let word = |idx: &mut [u8; 16], i: usize, from: u8| {
        idx[i * 2] = from * 2;
        idx[i * 2 + 1] = from * 2 + 1;
    };
    match m {
        Mnemonic::Pshufd => {
            for i in 0..4 {
                dword(&mut idx, i, (imm >> (2 * i)) & 3);
            }
        }
        Mnemonic::Shufps => {
            for i in 0..4 {
                let sel = (imm >> (2 * i)) & 3;
                dword(&mut idx, i, if i < 2 { sel } else { 4 + sel });
            }
        }
        Mnemonic::Shufpd => {
            for i in 0..2 {
                let sel = (imm >> i) & 1;
                let from = if i == 0 { sel } else { 2 + sel };
                for b in 0..8 {
                    idx[i * 8 + b] = from * 8 + b as u8;
                }
            }
        }
        Mnemonic::Pshuflw | Mnemonic::Pshufhw => {
            let low = m == Mnemonic::Pshuflw;
            for i in 0..8 {
                word(&mut idx, i, i as u8);
            }
            for i in 0..4 {
                let sel = (imm >> (2 * i)) & 3;
                if low {
                    word(&mut idx, i, sel);
                } else {
                    word(&mut idx, 4 + i, 4 + sel);
                }
            }
        }
        Mnemonic::Psrldq => {
            for (i, b) in idx.iter_mut().enumerate() {
                *b = (i + usize::from(imm)).min(16) as u8;
            }
        }
        _ => {
            // pslldq: byte i comes from i - imm, or zero (index 16).
            for (i, b) in idx.iter_mut().enumerate() {
                *b = if i >= usize::from(imm) {
                    (i - usize::from(imm)) as u8
                } else {
                    16
                };
            }
        }
    }
    idx
}

/// Constant shuffles and byte shifts.
fn shuffle(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    let d = xreg(insn, 0)?;
    let imm = insn.immediate(insn.op_count() - 1) as u8;
    let (x, y) = match m {
        M::Pshufd | M::Pshuflw | M::Pshufhw => {
            let s = vsrc(cx, insn, 1)?;
            (s, s)
        }
        M::Shufps | M::Shufpd => {
            let a = cx.b.use_reg(d);
            let b = vsrc(cx, insn, 1)?;
            (a, b)
        }
        _ => {
            let a = cx.b.use_reg(d);
            (a, cx.b.vconst(0))
        }
    };
    let imm = if matches!(m, M::Psrldq | M::Pslldq) {
        imm.min(16)
    } else {
        imm
    };
    let r = cx.b.vshuffle(shuffle_bytes(m, imm), x, y);
    cx.b.def_reg(d, r);
    Ok(())
}

/// The unpacks: interleave the low or high halves of destination and
/// source.
fn unpack(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let (lane, high) = match insn.mnemonic() {
        M::Punpcklbw => (Type::I8, false),
        M::Punpcklwd => (Type::I16, false),
        M::Punpckldq | M::Unpcklps => (Type::I32, false),
        M::Punpcklqdq | M::Unpcklpd => (Type::I64, false),
        M::Punpckhbw => (Type::I8, true),
        M::Punpckhwd => (Type::I16, true),
        M::Punpckhdq | M::Unpckhps => (Type::I32, true),
        _ => (Type::I64, true),
    };
    let d = xreg(insn, 0)?;
    let a = cx.b.use_reg(d);
    let b = vsrc(cx, insn, 1)?;
    let r = if high {
        cx.b.vzip_hi(lane, a, b)
    } else {
        cx.b.vzip_lo(lane, a, b)
    };
    cx.b.def_reg(d, r);
    Ok(())
}

/// `psrl/psll/psra` by an immediate or by the low 64 bits of an xmm
/// register (counts at or beyond the lane width give 0, or the sign).
fn vector_shift(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    let lane = match m {
        M::Psrlw | M::Psllw | M::Psraw => Type::I16,
        M::Psrld | M::Pslld | M::Psrad => Type::I32,
        _ => Type::I64,
    };
    let d = xreg(insn, 0)?;
    let x = cx.b.use_reg(d);
    let count = if super::operand::is_imm(insn, 1) {
        cx.const64(insn.immediate(1) & 0xff)
    } else {
        let v = vsrc(cx, insn, 1)?;
        cx.b.vextract(Type::I64, 0, v)
    };
    // Clamp so the amount stays meaningful in any lowering.
    let cap = cx.const64(255);
    let count = cx.b.umin(count, cap);
    let r = match m {
        M::Psrlw | M::Psrld | M::Psrlq => cx.b.vushr(lane, x, count),
        M::Psllw | M::Pslld | M::Psllq => cx.b.vishl(lane, x, count),
        _ => cx.b.vsshr(lane, x, count),
    };
    cx.b.def_reg(d, r);
    Ok(())
}

/// `ucomis*`/`comis*`: ZF PF CF from the comparison (all set when
/// unordered), OF SF AF cleared.
fn compare_flags(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    let ty = match insn.mnemonic() {
        Mnemonic::Ucomiss | Mnemonic::Comiss => Type::F32,
        _ => Type::F64,
    };
    let a = scalar_src(cx, insn, 0, ty)?;
    let b = scalar_src(cx, insn, 1, ty)?;
    let uno = cx.b.fcmp(FloatCC::Uno, a, b);
    let eq = cx.b.fcmp(FloatCC::Eq, a, b);
    let lt = cx.b.fcmp(FloatCC::Lt, a, b);
    let zf = cx.b.bor(uno, eq);
    let cf = cx.b.bor(uno, lt);
    cx.b.def_reg(ZF, zf);
    cx.b.def_reg(PF, uno);
    cx.b.def_reg(CF, cf);
    let f = flags::bool_const(cx, false);
    for r in [OF, SF, AF] {
        cx.b.def_reg(r, f);
    }
    if matches!(insn.mnemonic(), Mnemonic::Comiss | Mnemonic::Comisd) {
        // The host compares as `ucomis*`, which signals invalid only for
        // a signalling NaN; `comis*` signals it for any NaN.
        let ie = cx.b.uext(Type::I32, uno);
        let m = cx.b.use_reg(MXCSR);
        let m = cx.b.bor(m, ie);
        cx.b.def_reg(MXCSR, m);
    }
    Ok(())
}

/// Scalar arithmetic on lane 0; the other lanes of the destination stay.
fn scalar_arith(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    let ty = match m {
        M::Addss | M::Subss | M::Mulss | M::Divss | M::Sqrtss | M::Minss | M::Maxss => Type::F32,
        _ => Type::F64,
    };
    let d = xreg(insn, 0)?;
    let dv = cx.b.use_reg(d);
    let a = cx.b.vextract(ty, 0, dv);
    let b = scalar_src(cx, insn, 1, ty)?;
    let r = match m {
        M::Addss | M::Addsd => cx.b.fadd(DYN, a, b),
        M::Subss | M::Subsd => cx.b.fsub(DYN, a, b),
        M::Mulss | M::Mulsd => cx.b.fmul(DYN, a, b),
        M::Divss | M::Divsd => cx.b.fdiv(DYN, a, b),
        M::Sqrtss | M::Sqrtsd => cx.b.fsqrt(DYN, b),
        // min/max: the second operand unless the first is strictly
        // smaller/larger (so NaNs and equal zeros give the second).
        M::Minss | M::Minsd => {
            let lt = cx.b.fcmp(FloatCC::Lt, a, b);
            cx.b.select(lt, a, b)
        }
        _ => {
            let gt = cx.b.fcmp(FloatCC::Gt, a, b);
            cx.b.select(gt, a, b)
        }
    };
    let v = cx.b.vinsert(ty, 0, dv, r);
    cx.b.def_reg(d, v);
    Ok(())
}

/// Conversions between integers and floats and between float widths.
/// Out-of-range float→int conversions give the "integer indefinite"
/// value (the minimum signed integer), as x86 does.
fn convert(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    match m {
        M::Cvtsi2sd | M::Cvtsi2ss => {
            let to = if m == M::Cvtsi2sd {
                Type::F64
            } else {
                Type::F32
            };
            let from = super::operand::op_type(insn, 1)?;
            let v = read(cx, insn, 1, from)?;
            let f = cx.b.fcvt_from_sint(to, DYN, v);
            insert_scalar(cx, insn, to, f)
        }
        M::Cvtdq2pd => {
            // Two signed dwords (the low 8 bytes) to two doubles: exact.
            let v = scalar_src(cx, insn, 1, Type::I64)?;
            let lo = cx.b.ireduce(Type::I32, v);
            let sh = cx.b.iconst(Type::I8, 32);
            let hi = cx.b.ushr(v, sh);
            let hi = cx.b.ireduce(Type::I32, hi);
            let flo = cx.b.fcvt_from_sint(Type::F64, RoundingMode::Rne, lo);
            let fhi = cx.b.fcvt_from_sint(Type::F64, RoundingMode::Rne, hi);
            let z = cx.b.vconst(0);
            let r = cx.b.vinsert(Type::F64, 0, z, flo);
            let r = cx.b.vinsert(Type::F64, 1, r, fhi);
            cx.b.def_reg(xreg(insn, 0)?, r);
            Ok(())
        }
        M::Cvttpd2dq => {
            // Two doubles truncated to two dwords (indefinite when out of
            // range) in the low 8 bytes; the high 8 bytes zeroed.
            let v = vsrc(cx, insn, 1)?;
            let mut r = cx.b.vconst(0);
            for lane in 0..2 {
                let x = cx.b.vextract(Type::F64, lane, v);
                let t = cx.b.fround(RoundingMode::Rtz, x);
                let n = float_to_int_indefinite(cx, t, Type::F64, Type::I32);
                r = cx.b.vinsert(Type::I32, lane, r, n);
            }
            cx.b.def_reg(xreg(insn, 0)?, r);
            Ok(())
        }
        M::Cvtss2sd | M::Cvtsd2ss => {
            let (from, to) = if m == M::Cvtss2sd {
                (Type::F32, Type::F64)
            } else {
                (Type::F64, Type::F32)
            };
            let x = scalar_src(cx, insn, 1, from)?;
            let f = cx.b.fconvert(to, DYN, x);
            insert_scalar(cx, insn, to, f)
        }
        _ => {
            let from = match m {
                M::Cvttss2si | M::Cvtss2si => Type::F32,
                _ => Type::F64,
            };
            let to = super::operand::reg_type(insn.op_register(0))?;
            let x = scalar_src(cx, insn, 1, from)?;
            let rm = if matches!(m, M::Cvttsd2si | M::Cvttss2si) {
                RoundingMode::Rtz
            } else {
                DYN
            };
            let t = cx.b.fround(rm, x);
            let v = float_to_int_indefinite(cx, t, from, to);
            write_gpr(cx, insn.op_register(0), v)
        }
    }
}

/// An integral float `t` to a signed integer of type `to`, or the minimum
/// integer when it is NaN or out of range.
fn float_to_int_indefinite(cx: &mut LiftCx, t: Value, from: Type, to: Type) -> Value {
    let w = to.bits();
    let (lo_bits, hi_bits) = match from {
        Type::F32 => (
            u64::from((-(2f32.powi(w as i32 - 1))).to_bits()),
            u64::from(2f32.powi(w as i32 - 1).to_bits()),
        ),
        _ => (
            (-(2f64.powi(w as i32 - 1))).to_bits(),
            2f64.powi(w as i32 - 1).to_bits(),
        ),
    };
    let lo = cx.b.fconst(from, lo_bits);
    let hi = cx.b.fconst(from, hi_bits);
    let ge = cx.b.fcmp(FloatCC::Ge, t, lo);
    let lt = cx.b.fcmp(FloatCC::Lt, t, hi);
    let ok = cx.b.band(ge, lt);
    let v = cx.b.fcvt_to_sint(to, t);
    let min = cx.b.iconst(to, 1i128 << (w - 1));
    cx.b.select(ok, v, min)
}

/// Writes a scalar float into lane 0 of the destination register.
fn insert_scalar(cx: &mut LiftCx, insn: &Instruction, ty: Type, f: Value) -> Result<(), Fail> {
    let d = xreg(insn, 0)?;
    let old = cx.b.use_reg(d);
    let v = cx.b.vinsert(ty, 0, old, f);
    cx.b.def_reg(d, v);
    Ok(())
}

/// Sets the host rounding mode from an MXCSR value (RC in bits 13-14:
/// nearest, down, up, toward zero) and its FTZ and DAZ bits.
fn set_host_rounding(cx: &mut LiftCx, mxcsr: Value) {
    let s = cx.b.iconst(Type::I8, 13);
    let rc = cx.b.ushr(mxcsr, s);
    let three = cx.b.iconst(Type::I32, 3);
    let rc = cx.b.band(rc, three);
    // rc 0..3 → rm RNE(0) RDN(2) RUP(3) RTZ(1): the table 0x1320 by nibbles.
    let two = cx.b.iconst(Type::I8, 2);
    let shift = cx.b.ishl(rc, two);
    let table = cx.b.iconst(Type::I32, 0x1320);
    let rm = cx.b.ushr(table, shift);
    let fifteen = cx.b.iconst(Type::I32, 15);
    let rm = cx.b.band(rm, fifteen);
    // FTZ (bit 15) and DAZ (bit 6), each on its own.
    let ftz = mxcsr_bit_as(cx, mxcsr, 11, vmtrans_abi::helpers::FP_FLUSH_RESULTS);
    let daz = mxcsr_bit_as(cx, mxcsr, 1, vmtrans_abi::helpers::FP_DENORMALS_ARE_ZERO);
    let rm = cx.b.bor(rm, ftz);
    let rm = cx.b.bor(rm, daz);
    cx.b.call_helper(Helper::FpSetRounding, &[rm]);
}

/// The MXCSR bit that lands on `mode_bit` when `mxcsr` is shifted right by
/// `shift`, alone (a rounding-mode flag of `fp_set_rounding`).
fn mxcsr_bit_as(cx: &mut LiftCx, mxcsr: Value, shift: i128, mode_bit: u32) -> Value {
    let s = cx.b.iconst(Type::I8, shift);
    let moved = cx.b.ushr(mxcsr, s);
    let bit = cx.b.iconst(Type::I32, i128::from(mode_bit));
    cx.b.band(moved, bit)
}

/// Lane-wise packed operations: (op, lane type).
#[derive(Clone, Copy)]
enum Packed {
    Bin(fn(&mut LiftCx, Type, Value, Value) -> Value, Type),
    Cmp(IntCC, Type),
}

fn packed_op(m: Mnemonic) -> Option<Packed> {
    use Mnemonic as M;
    use Packed::{Bin, Cmp};
    Some(match m {
        M::Paddb => Bin(|cx, l, a, b| cx.b.viadd(l, a, b), Type::I8),
        M::Paddw => Bin(|cx, l, a, b| cx.b.viadd(l, a, b), Type::I16),
        M::Paddd => Bin(|cx, l, a, b| cx.b.viadd(l, a, b), Type::I32),
        M::Paddq => Bin(|cx, l, a, b| cx.b.viadd(l, a, b), Type::I64),
        M::Psubb => Bin(|cx, l, a, b| cx.b.visub(l, a, b), Type::I8),
        M::Psubw => Bin(|cx, l, a, b| cx.b.visub(l, a, b), Type::I16),
        M::Psubd => Bin(|cx, l, a, b| cx.b.visub(l, a, b), Type::I32),
        M::Psubq => Bin(|cx, l, a, b| cx.b.visub(l, a, b), Type::I64),
        M::Pmullw => Bin(|cx, l, a, b| cx.b.vimul(l, a, b), Type::I16),
        M::Pmuludq => Bin(multiply_low_dwords, Type::I64),
        M::Psadbw => Bin(sum_abs_byte_differences, Type::I64),
        M::Pmaddwd => Bin(multiply_add_words, Type::I32),
        M::Paddusb => Bin(|cx, l, a, b| cx.b.vuadd_sat(l, a, b), Type::I8),
        M::Paddusw => Bin(|cx, l, a, b| cx.b.vuadd_sat(l, a, b), Type::I16),
        M::Paddsb => Bin(|cx, l, a, b| cx.b.vsadd_sat(l, a, b), Type::I8),
        M::Paddsw => Bin(|cx, l, a, b| cx.b.vsadd_sat(l, a, b), Type::I16),
        M::Psubusb => Bin(|cx, l, a, b| cx.b.vusub_sat(l, a, b), Type::I8),
        M::Psubusw => Bin(|cx, l, a, b| cx.b.vusub_sat(l, a, b), Type::I16),
        M::Psubsb => Bin(|cx, l, a, b| cx.b.vssub_sat(l, a, b), Type::I8),
        M::Psubsw => Bin(|cx, l, a, b| cx.b.vssub_sat(l, a, b), Type::I16),
        M::Pminub => Bin(|cx, l, a, b| cx.b.vumin(l, a, b), Type::I8),
        M::Pmaxub => Bin(|cx, l, a, b| cx.b.vumax(l, a, b), Type::I8),
        M::Pminsw => Bin(|cx, l, a, b| cx.b.vsmin(l, a, b), Type::I16),
        M::Pmaxsw => Bin(|cx, l, a, b| cx.b.vsmax(l, a, b), Type::I16),
        M::Pavgb => Bin(|cx, l, a, b| cx.b.vuavg(l, a, b), Type::I8),
        M::Pavgw => Bin(|cx, l, a, b| cx.b.vuavg(l, a, b), Type::I16),
        M::Packuswb => Bin(|cx, l, a, b| cx.b.vnarrow_usat(l, a, b), Type::I16),
        M::Packsswb => Bin(|cx, l, a, b| cx.b.vnarrow_ssat(l, a, b), Type::I16),
        M::Packssdw => Bin(|cx, l, a, b| cx.b.vnarrow_ssat(l, a, b), Type::I32),
        M::Addps => Bin(|cx, l, a, b| cx.b.vfadd(l, a, b), Type::F32),
        M::Addpd => Bin(|cx, l, a, b| cx.b.vfadd(l, a, b), Type::F64),
        M::Subps => Bin(|cx, l, a, b| cx.b.vfsub(l, a, b), Type::F32),
        M::Subpd => Bin(|cx, l, a, b| cx.b.vfsub(l, a, b), Type::F64),
        M::Mulps => Bin(|cx, l, a, b| cx.b.vfmul(l, a, b), Type::F32),
        M::Mulpd => Bin(|cx, l, a, b| cx.b.vfmul(l, a, b), Type::F64),
        M::Divps => Bin(|cx, l, a, b| cx.b.vfdiv(l, a, b), Type::F32),
        M::Divpd => Bin(|cx, l, a, b| cx.b.vfdiv(l, a, b), Type::F64),
        M::Pcmpeqb => Cmp(IntCC::Eq, Type::I8),
        M::Pcmpeqw => Cmp(IntCC::Eq, Type::I16),
        M::Pcmpeqd => Cmp(IntCC::Eq, Type::I32),
        M::Pcmpgtb => Cmp(IntCC::Sgt, Type::I8),
        M::Pcmpgtw => Cmp(IntCC::Sgt, Type::I16),
        M::Pcmpgtd => Cmp(IntCC::Sgt, Type::I32),
        _ => return None,
    })
}

/// `pmuludq`: per 64-bit lane, the full product of the low unsigned
/// 32-bit halves (exact in a wrapping 64-bit multiply).
fn multiply_low_dwords(cx: &mut LiftCx, lane: Type, a: Value, b: Value) -> Value {
    let low = cx.b.vconst(0x0000_0000_ffff_ffff_0000_0000_ffff_ffff);
    let a = cx.b.vand(lane, a, low);
    let b = cx.b.vand(lane, b, low);
    cx.b.vimul(lane, a, b)
}

/// `psadbw`: per 64-bit half, the sum of the eight unsigned byte
/// differences' absolute values, zero-extended.
fn sum_abs_byte_differences(cx: &mut LiftCx, _lane: Type, a: Value, b: Value) -> Value {
    let mut r = cx.b.vconst(0);
    for half in 0..2u8 {
        let mut sum = cx.b.iconst(Type::I64, 0);
        for k in 0..8u8 {
            let x = cx.b.vextract(Type::I8, half * 8 + k, a);
            let x = cx.b.uext(Type::I64, x);
            let y = cx.b.vextract(Type::I8, half * 8 + k, b);
            let y = cx.b.uext(Type::I64, y);
            let xy = cx.b.isub(x, y);
            let yx = cx.b.isub(y, x);
            let lt = cx.b.icmp(IntCC::Ult, x, y);
            let d = cx.b.select(lt, yx, xy);
            sum = cx.b.iadd(sum, d);
        }
        r = cx.b.vinsert(Type::I64, half, r, sum);
    }
    r
}

/// `pmaddwd`: per dword, the sum of the two signed word products
/// (wrapping: only -32768² twice overflows, to 0x80000000 as on x86).
fn multiply_add_words(cx: &mut LiftCx, _lane: Type, a: Value, b: Value) -> Value {
    let mut r = cx.b.vconst(0);
    for j in 0..4u8 {
        let mut sum = cx.b.iconst(Type::I32, 0);
        for k in 0..2u8 {
            let x = cx.b.vextract(Type::I16, 2 * j + k, a);
            let x = cx.b.sext(Type::I32, x);
            let y = cx.b.vextract(Type::I16, 2 * j + k, b);
            let y = cx.b.sext(Type::I32, y);
            let p = cx.b.imul(x, y);
            sum = cx.b.iadd(sum, p);
        }
        r = cx.b.vinsert(Type::I32, j, r, sum);
    }
    r
}

/// Applies a packed op to (destination, source).
fn packed(insn: &Instruction, cx: &mut LiftCx, op: Packed) -> Result<(), Fail> {
    let d = xreg(insn, 0)?;
    let a = cx.b.use_reg(d);
    let b = vsrc(cx, insn, 1)?;
    let r = match op {
        Packed::Bin(f, lane) => f(cx, lane, a, b),
        Packed::Cmp(cc, lane) => cx.b.vicmp(lane, cc, a, b),
    };
    cx.b.def_reg(d, r);
    Ok(())
}

/// The predicate of `cmp{ss,sd,ps,pd}`: the float condition and whether
/// the result is its negation (`nlt`, `nle`).
fn cmp_predicate(imm: u64) -> Result<(FloatCC, bool), Fail> {
    Ok(match imm {
        0 => (FloatCC::Eq, false),
        1 => (FloatCC::Lt, false),
        2 => (FloatCC::Le, false),
        3 => (FloatCC::Uno, false),
        4 => (FloatCC::Ne, false),
        5 => (FloatCC::Lt, true),
        6 => (FloatCC::Le, true),
        7 => (FloatCC::Ord, false),
        n => return Err(format!("compare predicate {n} (AVX only)")),
    })
}

/// `cmpss cmpsd cmpps cmppd`: all ones where the predicate holds.
fn compare_mask(insn: &Instruction, cx: &mut LiftCx) -> Result<(), Fail> {
    use Mnemonic as M;
    let m = insn.mnemonic();
    let (cc, negate) = cmp_predicate(insn.immediate(2))?;
    let (fty, ity) = match m {
        M::Cmpss | M::Cmpps => (Type::F32, Type::I32),
        _ => (Type::F64, Type::I64),
    };
    let d = xreg(insn, 0)?;
    let dv = cx.b.use_reg(d);
    let r = if matches!(m, M::Cmpss | M::Cmpsd) {
        let a = cx.b.vextract(fty, 0, dv);
        let b = scalar_src(cx, insn, 1, fty)?;
        let c = cx.b.fcmp(cc, a, b);
        let c = if negate { flags::not1(cx, c) } else { c };
        let ones = cx.b.iconst(ity, -1);
        let zero = cx.b.iconst(ity, 0);
        let lane = cx.b.select(c, ones, zero);
        cx.b.vinsert(ity, 0, dv, lane)
    } else {
        let b = vsrc(cx, insn, 1)?;
        let c = cx.b.vfcmp(fty, cc, dv, b);
        if negate {
            let ones = cx.b.vconst(u128::MAX);
            cx.b.vxor(Type::I64, c, ones)
        } else {
            c
        }
    };
    cx.b.def_reg(d, r);
    Ok(())
}
