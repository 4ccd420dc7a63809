//! Data processing with immediates: PC-relative addresses, add/sub,
//! logical (bitmask immediates), move wide, bitfield and extract.

use vmtrans_ir::{Type, Value};

use super::{
    bit, bits, gp, gp_sp, ity, k, set_flags_add, set_flags_logic, set_flags_sub, set_gp, set_gp_sp,
    unsupported, LiftCx, Lifted,
};
use crate::aarch64::decode::sext;

/// Lifts the data-processing-immediate group.
pub(super) fn lift(w: u32, cx: &mut LiftCx) -> Lifted {
    match bits(w, 25, 23) {
        0b000 | 0b001 => pc_relative(w, cx),
        0b010 => add_sub(w, cx),
        0b100 => logical(w, cx),
        0b101 => move_wide(w, cx),
        0b110 => bitfield(w, cx),
        0b111 => extract(w, cx),
        _ => Err(unsupported(cx, w, "add/sub immediate with tags (MTE)")),
    }
}

/// ADR and ADRP.
fn pc_relative(w: u32, cx: &mut LiftCx) -> Lifted {
    let imm = sext((bits(w, 23, 5) << 2) | bits(w, 30, 29), 21);
    let v = if bit(w, 31) {
        (cx.pc() & !0xfff).wrapping_add((imm << 12) as u64)
    } else {
        cx.pc().wrapping_add(imm as u64)
    };
    let v = cx.const64(v);
    set_gp(cx, bits(w, 4, 0), v);
    Ok(())
}

/// ADD, ADDS, SUB, SUBS (immediate, optionally shifted by 12).
fn add_sub(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let (sub, s) = (bit(w, 30), bit(w, 29));
    let imm = u64::from(bits(w, 21, 10)) << if bit(w, 22) { 12 } else { 0 };
    let a = gp_sp(cx, bits(w, 9, 5), sf);
    let b = k(cx, ity(sf), imm);
    let r = add_or_sub(cx, sub, s, a, b);
    let rd = bits(w, 4, 0);
    if s {
        set_gp(cx, rd, r);
    } else {
        set_gp_sp(cx, rd, r);
    }
    Ok(())
}

/// `a + b` or `a - b`, setting the flags when `s`.
pub(super) fn add_or_sub(cx: &mut LiftCx, sub: bool, s: bool, a: Value, b: Value) -> Value {
    let r = if sub {
        cx.b.isub(a, b)
    } else {
        cx.b.iadd(a, b)
    };
    if s {
        if sub {
            set_flags_sub(cx, a, b, r);
        } else {
            set_flags_add(cx, a, b, r);
        }
    }
    r
}

/// The value of a logical immediate (`N:immr:imms`) of `width` bits, or
/// `None` for a reserved encoding (DecodeBitMasks with immediate = true).
pub fn decode_bitmask(n: bool, immr: u32, imms: u32, width: u32) -> Option<u64> {
    let combined = (u32::from(n) << 6) | (!imms & 0x3f);
    if combined == 0 {
        return None;
    }
    let len = 31 - combined.leading_zeros();
    if len < 1 || (1 << len) > width {
        return None;
    }
    let esize = 1u32 << len;
    let levels = esize - 1;
    let s = imms & levels;
    let r = immr & levels;
    if s == levels {
        return None;
    }
    let ones = (1u64 << (s + 1)) - 1;
    let emask = if esize == 64 {
        u64::MAX
    } else {
        (1u64 << esize) - 1
    };
    let elem = if r == 0 {
        ones
    } else {
        ((ones >> r) | (ones << (esize - r))) & emask
    };
    let mut v = 0u64;
    let mut at = 0;
    while at < width {
        v |= elem << at;
        at += esize;
    }
    Some(if width == 64 { v } else { v & 0xffff_ffff })
}

/// AND, ORR, EOR, ANDS with a bitmask immediate.
fn logical(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    if !sf && bit(w, 22) {
        return Err(unsupported(cx, w, "reserved logical immediate"));
    }
    let width = if sf { 64 } else { 32 };
    let Some(imm) = decode_bitmask(bit(w, 22), bits(w, 21, 16), bits(w, 15, 10), width) else {
        return Err(unsupported(cx, w, "reserved logical immediate"));
    };
    let a = gp(cx, bits(w, 9, 5), sf);
    let b = k(cx, ity(sf), imm);
    let rd = bits(w, 4, 0);
    match bits(w, 30, 29) {
        0b00 => {
            let r = cx.b.band(a, b);
            set_gp_sp(cx, rd, r);
        }
        0b01 => {
            let r = cx.b.bor(a, b);
            set_gp_sp(cx, rd, r);
        }
        0b10 => {
            let r = cx.b.bxor(a, b);
            set_gp_sp(cx, rd, r);
        }
        _ => {
            let r = cx.b.band(a, b);
            set_flags_logic(cx, r);
            set_gp(cx, rd, r);
        }
    }
    Ok(())
}

/// MOVN, MOVZ, MOVK.
fn move_wide(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let hw = bits(w, 22, 21);
    if !sf && hw >= 2 {
        return Err(unsupported(cx, w, "reserved move-wide shift"));
    }
    let shift = hw * 16;
    let imm = u64::from(bits(w, 20, 5)) << shift;
    let rd = bits(w, 4, 0);
    let ty = ity(sf);
    let r = match bits(w, 30, 29) {
        0b00 => k(cx, ty, !imm),
        0b10 => k(cx, ty, imm),
        0b11 => {
            let old = gp(cx, rd, sf);
            let keep = k(cx, ty, !(0xffffu64 << shift));
            let kept = cx.b.band(old, keep);
            let new = k(cx, ty, imm);
            cx.b.bor(kept, new)
        }
        _ => return Err(unsupported(cx, w, "unallocated move-wide opcode")),
    };
    set_gp(cx, rd, r);
    Ok(())
}

/// A mask of the low `n` bits (n <= 64).
pub(super) fn low_mask(n: u32) -> u64 {
    if n >= 64 {
        u64::MAX
    } else {
        (1u64 << n) - 1
    }
}

/// SBFM, BFM, UBFM (and their aliases: asr, lsl, lsr, sxt*, uxt*, bfi,
/// bfxil, sbfx, ubfx, ...).
fn bitfield(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    let opc = bits(w, 30, 29);
    if bit(w, 22) != sf || opc == 3 {
        return Err(unsupported(cx, w, "reserved bitfield encoding"));
    }
    let d = if sf { 64 } else { 32 };
    let (r, s) = (bits(w, 21, 16), bits(w, 15, 10));
    if !sf && (r >= 32 || s >= 32) {
        return Err(unsupported(cx, w, "reserved bitfield encoding"));
    }
    let ty = ity(sf);
    let src = gp(cx, bits(w, 9, 5), sf);
    let rd = bits(w, 4, 0);
    // The field: bits s..r of src moved to 0 (s >= r), or bits s..0 moved
    // to d - r (s < r).
    let (width, lsb, from) = if s >= r {
        (s - r + 1, 0, r)
    } else {
        (s + 1, d - r, 0)
    };
    let result = match opc {
        0b00 | 0b10 => {
            // Shift the field to the top, then down to its place.
            let up = k(cx, ty, u64::from(d - (from + width)));
            let top = cx.b.ishl(src, up);
            let down = k(cx, ty, u64::from(d - width));
            let field = if opc == 0 {
                cx.b.sshr(top, down)
            } else {
                cx.b.ushr(top, down)
            };
            if lsb == 0 {
                field
            } else {
                let l = k(cx, ty, u64::from(lsb));
                cx.b.ishl(field, l)
            }
        }
        _ => {
            let dst = gp(cx, rd, sf);
            let sh = k(cx, ty, u64::from(from));
            let moved = cx.b.ushr(src, sh);
            let m = k(cx, ty, low_mask(width));
            let field = cx.b.band(moved, m);
            let l = k(cx, ty, u64::from(lsb));
            let placed = cx.b.ishl(field, l);
            let hole = k(cx, ty, !(low_mask(width) << lsb));
            let kept = cx.b.band(dst, hole);
            cx.b.bor(kept, placed)
        }
    };
    // SBFM with s < r sign-extends the field above it (handled by the
    // arithmetic shift); UBFM zero-fills, BFM keeps.
    set_gp(cx, rd, result);
    Ok(())
}

/// EXTR (and ror with an immediate).
fn extract(w: u32, cx: &mut LiftCx) -> Lifted {
    let sf = bit(w, 31);
    if bit(w, 22) != sf || bits(w, 30, 29) != 0 || bit(w, 21) {
        return Err(unsupported(cx, w, "reserved extract encoding"));
    }
    let lsb = bits(w, 15, 10);
    if !sf && lsb >= 32 {
        return Err(unsupported(cx, w, "reserved extract encoding"));
    }
    let ty = ity(sf);
    let d = if sf { 64 } else { 32 };
    let hi = gp(cx, bits(w, 9, 5), sf);
    let lo = gp(cx, bits(w, 20, 16), sf);
    let r = if lsb == 0 {
        lo
    } else {
        let a = k(cx, ty, u64::from(lsb));
        let low = cx.b.ushr(lo, a);
        let b = k(cx, ty, u64::from(d - lsb));
        let high = cx.b.ishl(hi, b);
        cx.b.bor(low, high)
    };
    set_gp(cx, bits(w, 4, 0), r);
    let _ = Type::I64;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitmask_immediates() {
        // and x0, x0, #0xff: N=1 immr=0 imms=7
        assert_eq!(decode_bitmask(true, 0, 7, 64), Some(0xff));
        // orr w0, w0, #0x80000000: N=0 immr=1 imms=0
        assert_eq!(decode_bitmask(false, 1, 0, 32), Some(0x8000_0000));
        // 0x5555...: esize 2
        assert_eq!(
            decode_bitmask(false, 0, 0b111100, 64),
            Some(0x5555_5555_5555_5555)
        );
        assert_eq!(decode_bitmask(true, 0, 63, 64), None);
    }
}
