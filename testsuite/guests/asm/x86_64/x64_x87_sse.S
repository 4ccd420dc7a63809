/* x87 and SSE details that compilers emit rarely or that depend on control
 * registers: 80-bit extended results stored with FSTPT, precision control
 * and rounding control in the x87 control word (FLDCW) affecting FDIV,
 * FISTP and FRNDINT, FSQRT/FPREM/FPREM1/FSCALE/FXTRACT, the full 8-register
 * stack, FUCOMIP flags, integer-indefinite results and the status word,
 * FISTTP; SSE: CVTTSD2SI/CVTSD2SI at the edges and under MXCSR rounding
 * modes, MXCSR exception flags, FTZ/DAZ, MINSD/MAXSD operand-order NaN
 * rules, UCOMISD/COMISD flags, and integer SIMD (saturation, shuffles,
 * masks, shifts by >= element width).  Only IEEE-exact operations are used
 * (no transcendental x87 instructions), so results do not depend on the CPU.
 */
    .file "x64_x87_sse.S" /* a fixed STT_FILE name keeps the build reproducible */
    .text
    .globl x87_with_cw, x87_misc, x87_ucomi, x87_stack8, x87_fistp_sw, x87_fisttp
    .globl sse_cvt, sse_op_mxcsr, sse_minmax, sse_ucomi, sse_int_simd

/* uint16 x87_with_cw(uint16 cw, double a, double b, uint8 out80[10], double *outd, int64 *outi)
 * computes a/b with the given control word; stores the 80-bit value, the
 * double conversion (FSTPL, rounded per RC) and FISTPLL of it; returns the
 * status word exception bits (low 6 bits). rdi=cw rsi=out80 rdx=outd rcx=outi xmm0=a xmm1=b */
x87_with_cw:
    subq   $40, %rsp
    fnstcw 0(%rsp)
    movw   %di, 2(%rsp)
    fnclex
    fldcw  2(%rsp)
    movsd  %xmm0, 8(%rsp)
    movsd  %xmm1, 16(%rsp)
    fldl   8(%rsp)
    fdivl  16(%rsp)
    fld    %st(0)
    fld    %st(0)
    fstpt  (%rsi)
    fstpl  (%rdx)
    fistpll (%rcx)
    fnstsw %ax
    andl   $0x3f, %eax
    fldcw  0(%rsp)
    fnclex
    addq   $40, %rsp
    ret

/* void x87_misc(double x, double y, double out[10]) */
x87_misc:
    subq   $24, %rsp
    movsd  %xmm0, 0(%rsp)
    movsd  %xmm1, 8(%rsp)
    fldl   0(%rsp)
    fsqrt
    fstpl  0(%rdi)
    fldl   0(%rsp)
    frndint                     /* default RC: nearest-even */
    fstpl  8(%rdi)
    fldl   8(%rsp)              /* st1 = y */
    fldl   0(%rsp)              /* st0 = x */
1:  fprem                       /* partial remainder, truncating quotient */
    fnstsw %ax
    testw  $0x400, %ax          /* C2 set: incomplete */
    jnz    1b
    fstpl  16(%rdi)
    fstp   %st(0)
    fldl   8(%rsp)
    fldl   0(%rsp)
2:  fprem1                      /* IEEE remainder, round-to-nearest quotient */
    fnstsw %ax
    testw  $0x400, %ax
    jnz    2b
    fstpl  24(%rdi)
    fstp   %st(0)
    fldl   8(%rsp)              /* st1 = y (scale) */
    fldl   0(%rsp)
    fscale                      /* x * 2^trunc(y) */
    fstpl  32(%rdi)
    fstp   %st(0)
    fldl   0(%rsp)
    fxtract                     /* st0 = significand, st1 = exponent */
    fstpl  40(%rdi)
    fstpl  48(%rdi)
    fldl   0(%rsp)
    fchs
    fabs
    fchs
    fstpl  56(%rdi)
    fld1
    fldz
    fldpi
    faddp                       /* pi + 0 */
    faddp                       /* + 1 */
    fstpl  64(%rdi)
    fldl2t
    fldlg2
    fmulp
    fstpl  72(%rdi)             /* log2(10) * log10(2) ~ 1 */
    addq   $24, %rsp
    ret

/* uint64 x87_ucomi(double a, double b): ZF | PF << 1 | CF << 2 after fucomip */
x87_ucomi:
    subq   $24, %rsp
    movsd  %xmm0, 0(%rsp)
    movsd  %xmm1, 8(%rsp)
    fldl   8(%rsp)
    fldl   0(%rsp)
    fucomip %st(1), %st
    fstp   %st(0)
    setz   %al
    setp   %cl
    setc   %dl
    movzbl %al, %eax
    movzbl %cl, %ecx
    movzbl %dl, %edx
    shll   $1, %ecx
    shll   $2, %edx
    orl    %ecx, %eax
    orl    %edx, %eax
    addq   $24, %rsp
    ret

/* double x87_stack8(const double v[8]): pushes all eight, combines them as
 * ((((((v7 - v6) * v5) + v4) / v3) - v2) * v1) + v0 using the stack */
x87_stack8:
    fldl   0(%rdi)
    fldl   8(%rdi)
    fldl   16(%rdi)
    fldl   24(%rdi)
    fldl   32(%rdi)
    fldl   40(%rdi)
    fldl   48(%rdi)
    fldl   56(%rdi)             /* st0 = v7 ... st7 = v0 */
    fsubp  %st, %st(1)          /* st0 = v7 - v6 (AT&T fsubp reverses: st1 = st0 - st1) */
    fmulp
    faddp
    fdivrp                      /* st1 = st0 / st1 */
    fsubrp                      /* st1 = st0 - st1 */
    fmulp
    faddp
    subq   $8, %rsp
    fstpl  (%rsp)
    movsd  (%rsp), %xmm0
    addq   $8, %rsp
    ret

/* uint16 x87_fistp_sw(double x, int64 *out64, int32 *out32, int16 *out16): returns status IE bit etc. */
x87_fistp_sw:
    subq   $8, %rsp
    movsd  %xmm0, (%rsp)
    fnclex
    fldl   (%rsp)
    fld    %st(0)
    fld    %st(0)
    fistpll (%rdi)
    fistpl (%rsi)
    fistps (%rdx)
    fnstsw %ax
    andl   $0x3f, %eax
    fnclex
    addq   $8, %rsp
    ret

/* int64 x87_fisttp(double x): truncates regardless of the rounding control */
x87_fisttp:
    subq   $24, %rsp
    fnstcw 16(%rsp)
    movw   16(%rsp), %ax
    andw   $0xf3ff, %ax          /* clear RC */
    orw    $0x0800, %ax          /* RC = 10: round up; fisttp must still truncate */
    movw   %ax, 18(%rsp)
    fldcw  18(%rsp)
    movsd  %xmm0, (%rsp)
    fldl   (%rsp)
    fisttpll 8(%rsp)
    fldcw  16(%rsp)
    movq   8(%rsp), %rax
    addq   $24, %rsp
    ret

/* void sse_cvt(double x, int64 out[8]): cvttsd2si 64/32 then cvtsd2si 64 under RC 0..3 */
sse_cvt:
    subq   $8, %rsp
    stmxcsr (%rsp)
    cvttsd2si %xmm0, %rax
    movq   %rax, 0(%rdi)
    cvttsd2si %xmm0, %eax
    movq   %rax, 8(%rdi)
    cvtsd2si %xmm0, %rax
    movq   %rax, 16(%rdi)
    movl   (%rsp), %ecx
    andl   $~0x6000, %ecx
    orl    $0x2000, %ecx         /* RC = down */
    movl   %ecx, 4(%rsp)
    ldmxcsr 4(%rsp)
    cvtsd2si %xmm0, %rax
    movq   %rax, 24(%rdi)
    xorl   $0x6000, %ecx         /* RC = up (0x4000) */
    movl   %ecx, 4(%rsp)
    ldmxcsr 4(%rsp)
    cvtsd2si %xmm0, %rax
    movq   %rax, 32(%rdi)
    orl    $0x6000, %ecx         /* RC = toward zero */
    movl   %ecx, 4(%rsp)
    ldmxcsr 4(%rsp)
    cvtsd2si %xmm0, %rax
    movq   %rax, 40(%rdi)
    cvtsd2ss %xmm0, %xmm1        /* narrowing under RZ */
    movd   %xmm1, %eax
    movq   %rax, 48(%rdi)
    ldmxcsr (%rsp)
    cvtsd2ss %xmm0, %xmm1        /* narrowing under the default RN */
    movd   %xmm1, %eax
    movq   %rax, 56(%rdi)
    addq   $8, %rsp
    ret

/* uint64 sse_op_mxcsr(int op, double a, double b, uint32 mxcsr_in, uint32 *mxcsr_out)
 * op: 0 add 1 mul 2 div 3 sqrt(a) 4 cvtsd2ss(a) 5 comisd; returns result bits */
sse_op_mxcsr:
    subq   $8, %rsp
    stmxcsr (%rsp)
    andl   $0xffc0, %esi         /* mxcsr_in without flags */
    movl   %esi, 4(%rsp)
    ldmxcsr 4(%rsp)
    cmpl   $0, %edi
    je     1f
    cmpl   $1, %edi
    je     2f
    cmpl   $2, %edi
    je     3f
    cmpl   $3, %edi
    je     4f
    cmpl   $4, %edi
    je     5f
    comisd %xmm1, %xmm0
    jmp    9f
1:  addsd  %xmm1, %xmm0
    jmp    9f
2:  mulsd  %xmm1, %xmm0
    jmp    9f
3:  divsd  %xmm1, %xmm0
    jmp    9f
4:  sqrtsd %xmm0, %xmm0
    jmp    9f
5:  cvtsd2ss %xmm0, %xmm0
    cvtss2sd %xmm0, %xmm0
9:  stmxcsr 4(%rsp)
    movl   4(%rsp), %eax
    andl   $0x3f, %eax
    movl   %eax, (%rdx)
    ldmxcsr (%rsp)
    movq   %xmm0, %rax
    addq   $8, %rsp
    ret

/* void sse_minmax(double a, double b, uint64 out[4]): minsd a,b; minsd b,a; maxsd a,b; maxsd b,a
 * (Intel: if either is NaN, or both are zeros, the second (source) operand is returned) */
sse_minmax:
    movapd %xmm0, %xmm2
    minsd  %xmm1, %xmm2          /* min(a, b) -> returns b on NaN/zeros */
    movq   %xmm2, 0(%rdi)
    movapd %xmm1, %xmm2
    minsd  %xmm0, %xmm2
    movq   %xmm2, 8(%rdi)
    movapd %xmm0, %xmm2
    maxsd  %xmm1, %xmm2
    movq   %xmm2, 16(%rdi)
    movapd %xmm1, %xmm2
    maxsd  %xmm0, %xmm2
    movq   %xmm2, 24(%rdi)
    ret

/* uint32 sse_ucomi(double a, double b): ZF|PF<<1|CF<<2 for ucomisd, then the
 * same for comisd in bits 4..6, and the MXCSR IE flag from each in bits 8/9 */
sse_ucomi:
    subq   $8, %rsp
    stmxcsr (%rsp)
    movl   (%rsp), %ecx
    andl   $~0x3f, %ecx
    movl   %ecx, 4(%rsp)
    ldmxcsr 4(%rsp)
    xorl   %eax, %eax
    ucomisd %xmm1, %xmm0
    setz   %al
    setp   %cl
    setc   %dl
    movzbl %cl, %ecx
    movzbl %dl, %edx
    shll   $1, %ecx
    shll   $2, %edx
    orl    %ecx, %eax
    orl    %edx, %eax
    stmxcsr 4(%rsp)
    movl   4(%rsp), %r8d
    andl   $1, %r8d
    shll   $8, %r8d
    orl    %r8d, %eax
    andl   $~0x3f, 4(%rsp)
    ldmxcsr 4(%rsp)
    comisd %xmm1, %xmm0
    setz   %cl
    setp   %dl
    setc   %r9b
    movzbl %cl, %ecx
    movzbl %dl, %edx
    movzbl %r9b, %r9d
    shll   $4, %ecx
    shll   $5, %edx
    shll   $6, %r9d
    orl    %ecx, %eax
    orl    %edx, %eax
    orl    %r9d, %eax
    stmxcsr 4(%rsp)
    movl   4(%rsp), %r8d
    andl   $1, %r8d
    shll   $9, %r8d
    orl    %r8d, %eax
    ldmxcsr (%rsp)
    addq   $8, %rsp
    ret

/* void sse_int_simd(const uint8 a[16], const uint8 b[16], uint8 out[16*12]) */
sse_int_simd:
    movdqu (%rdi), %xmm0
    movdqu (%rsi), %xmm1
    movdqa %xmm0, %xmm2
    paddusb %xmm1, %xmm2         /* unsigned saturating add */
    movdqu %xmm2, 0(%rdx)
    movdqa %xmm0, %xmm2
    psubsb %xmm1, %xmm2          /* signed saturating subtract */
    movdqu %xmm2, 16(%rdx)
    movdqa %xmm0, %xmm2
    pcmpeqb %xmm1, %xmm2
    pmovmskb %xmm2, %eax
    movl   %eax, 32(%rdx)
    movdqa %xmm0, %xmm2
    psadbw %xmm1, %xmm2          /* two 16-bit sums of absolute differences */
    movdqu %xmm2, 48(%rdx)
    pshufd $0x1b, %xmm0, %xmm2   /* reverse dwords */
    movdqu %xmm2, 64(%rdx)
    movdqa %xmm0, %xmm2
    punpcklbw %xmm1, %xmm2       /* interleave low bytes */
    movdqu %xmm2, 80(%rdx)
    movdqa %xmm0, %xmm2
    pmaddwd %xmm1, %xmm2         /* int16 multiply, add pairs to int32 */
    movdqu %xmm2, 96(%rdx)
    movdqa %xmm0, %xmm2
    packsswb %xmm1, %xmm2        /* int16 -> int8 with signed saturation */
    movdqu %xmm2, 112(%rdx)
    movdqa %xmm0, %xmm2
    psrlq  $64, %xmm2            /* shift count >= width: all zero */
    por    %xmm0, %xmm2
    movdqa %xmm0, %xmm3
    movl   $20, %eax
    movd   %eax, %xmm4
    psraw  %xmm4, %xmm3          /* count > 15: sign fill */
    pxor   %xmm3, %xmm2
    movdqu %xmm2, 128(%rdx)
    movdqa %xmm0, %xmm2
    pavgb  %xmm1, %xmm2
    movdqu %xmm2, 144(%rdx)
    movdqa %xmm0, %xmm2
    pmuludq %xmm1, %xmm2         /* 32x32 -> 64 of the even dwords */
    movdqu %xmm2, 160(%rdx)
    movdqa %xmm0, %xmm2
    pmaxsw %xmm1, %xmm2
    pminub %xmm0, %xmm2
    pslldq $3, %xmm2             /* byte shift of the whole register */
    movdqu %xmm2, 176(%rdx)
    ret
    .section .note.GNU-stack,"",@progbits
