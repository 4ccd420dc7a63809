/* AArch64 data processing and floating point details: CLZ/CLS/RBIT/REV*,
 * bitfield moves (UBFX/SBFX/BFI/BFXIL/UBFIZ/EXTR), division by zero (result
 * 0, no trap), SDIV MIN/-1, UMULH/SMULH/SMADDL/UMSUBL, variable shifts by
 * counts >= 64 (taken modulo the width), saturating FCVTZS/FCVTZU (NaN -> 0)
 * and the rounding conversions FCVTNS/AS/PS/MS, FRINT* in every mode,
 * FMAXNM/FMINNM vs FMAX/FMIN with NaNs, FCMP flags with NaN, FPCR rounding
 * mode / flush-to-zero / default-NaN bits and FPSR cumulative flags.
 */
    .file "a64_bits_fp.S" /* a fixed STT_FILE name keeps the build reproducible */
    .text
    .globl a64_bitops, a64_divmul, a64_shifts, a64_fcvt, a64_frint, a64_fminmax, a64_fcmp_nzcv, a64_fpcr_ops

/* void a64_bitops(uint64 x, uint64 out[12]) */
a64_bitops:
    clz   x2, x0
    cls   x3, x0
    rbit  x4, x0
    rev   x5, x0
    stp   x2, x3, [x1]
    stp   x4, x5, [x1, #16]
    rev16 x2, x0
    rev32 x3, x0
    ubfx  x4, x0, #12, #20
    sbfx  x5, x0, #28, #8
    stp   x2, x3, [x1, #32]
    stp   x4, x5, [x1, #48]
    mov   x2, #0x5555555555555555
    bfi   x2, x0, #8, #16
    mov   x3, #-1
    bfxil x3, x0, #40, #12
    ubfiz x4, x0, #50, #10
    extr  x5, x0, x2, #24
    stp   x2, x3, [x1, #64]
    stp   x4, x5, [x1, #80]
    ret

/* void a64_divmul(int64 a, int64 b, int64 out[10]) */
a64_divmul:
    sdiv  x3, x0, x1
    udiv  x4, x0, x1
    sdiv  w5, w0, w1
    udiv  w6, w0, w1
    stp   x3, x4, [x2]
    stp   x5, x6, [x2, #16]
    smulh x3, x0, x1
    umulh x4, x0, x1
    madd  x5, x0, x1, x0
    msub  x6, x0, x1, x1
    stp   x3, x4, [x2, #32]
    stp   x5, x6, [x2, #48]
    smaddl x3, w0, w1, x0
    umsubl x4, w0, w1, x1
    stp   x3, x4, [x2, #64]
    ret

/* void a64_shifts(uint64 x, uint64 n, uint64 out[8]) */
a64_shifts:
    lslv  x3, x0, x1
    lsrv  x4, x0, x1
    asrv  x5, x0, x1
    rorv  x6, x0, x1
    stp   x3, x4, [x2]
    stp   x5, x6, [x2, #16]
    lslv  w3, w0, w1
    lsrv  w4, w0, w1
    asrv  w5, w0, w1
    rorv  w6, w0, w1
    stp   x3, x4, [x2, #32]
    stp   x5, x6, [x2, #48]
    ret

/* void a64_fcvt(double d, int64 out[8]) */
a64_fcvt:
    fcvtzs x1, d0
    fcvtzu x2, d0
    fcvtzs w3, d0
    fcvtzu w4, d0
    stp   x1, x2, [x0]
    stp   x3, x4, [x0, #16]
    fcvtns x1, d0
    fcvtas x2, d0
    fcvtps x3, d0
    fcvtms x4, d0
    stp   x1, x2, [x0, #32]
    stp   x3, x4, [x0, #48]
    ret

/* void a64_frint(double d, double out[7]) */
a64_frint:
    frintn d1, d0
    frinta d2, d0
    frintp d3, d0
    frintm d4, d0
    frintz d5, d0
    frintx d6, d0
    frinti d7, d0
    stp   d1, d2, [x0]
    stp   d3, d4, [x0, #16]
    stp   d5, d6, [x0, #32]
    str   d7, [x0, #48]
    ret

/* void a64_fminmax(double a, double b, double out[4]) */
a64_fminmax:
    fmaxnm d2, d0, d1
    fminnm d3, d0, d1
    fmax   d4, d0, d1
    fmin   d5, d0, d1
    stp   d2, d3, [x0]
    stp   d4, d5, [x0, #16]
    ret

/* uint64 a64_fcmp_nzcv(double a, double b): NZCV after fcmp, plus fccmp/fcsel results in higher bits */
a64_fcmp_nzcv:
    fcmp  d0, d1
    mrs   x1, nzcv
    lsr   x1, x1, #28
    fccmp d0, d0, #0b0100, eq  /* if equal, compare a with itself; else Z */
    cset  x2, eq
    fcsel d2, d0, d1, gt
    fcvtzs x3, d2
    orr   x0, x1, x2, lsl #4
    and   x3, x3, #0xff
    orr   x0, x0, x3, lsl #8
    ret

/* void a64_fpcr_ops(uint64 fpcr, double a, double b, uint64 out[4]):
 * clears FPSR, sets FPCR, computes a*b, a+b, frinti(a) and reads FPSR, restores FPCR=0.
 * out = bits(a*b), bits(a+b), bits(frinti a), fpsr */
a64_fpcr_ops:
    mrs   x2, fpcr
    msr   fpsr, xzr
    msr   fpcr, x0
    fmul  d2, d0, d1
    fadd  d3, d0, d1
    frinti d4, d0
    mrs   x3, fpsr
    msr   fpcr, x2
    msr   fpsr, xzr
    fmov  x4, d2
    fmov  x5, d3
    stp   x4, x5, [x1]
    fmov  x4, d4
    stp   x4, x3, [x1, #16]
    ret
    .section .note.GNU-stack,"",@progbits
