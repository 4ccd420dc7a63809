/* AArch64 condition flags: ADDS/ADCS/SUBS/SBCS/NEGS/ANDS and CMN/TST with
 * the NZCV result read back by MRS, carry chains for 128/256-bit add and
 * subtract, all 14 condition codes through CSET after CMP, CCMP/CCMN chains
 * implementing compound conditions without branches, and the
 * CSEL/CSINC/CSINV/CSNEG family.
 */
    .file "a64_flags.S" /* a fixed STT_FILE name keeps the build reproducible */
    .text
    .globl a64_flag_op, a64_add256, a64_sub256, a64_cond_mask, a64_ccmp_chain, a64_cs_family, a64_msr_nzcv

/* uint64 a64_flag_op(int op, uint64 a, uint64 b, uint64 carry_in, uint64 *nzcv_out)
 * op: 0 adds 1 adcs 2 subs 3 sbcs 4 negs(a) 5 ands 6 adds(32-bit) 7 subs(32-bit) 8 adcs(32-bit) */
a64_flag_op:
    /* for adcs/sbcs, "cmp x3, #1" right before sets C = (carry_in != 0) */
    cmp   w0, #0
    b.eq  0f
    cmp   w0, #1
    b.eq  1f
    cmp   w0, #2
    b.eq  2f
    cmp   w0, #3
    b.eq  3f
    cmp   w0, #4
    b.eq  4f
    cmp   w0, #5
    b.eq  5f
    cmp   w0, #6
    b.eq  6f
    cmp   w0, #7
    b.eq  7f
    b     8f
0:  adds  x0, x1, x2
    b     9f
1:  cmp   x3, #1            /* restore C = carry_in */
    adcs  x0, x1, x2
    b     9f
2:  subs  x0, x1, x2
    b     9f
3:  cmp   x3, #1
    sbcs  x0, x1, x2
    b     9f
4:  negs  x0, x1
    b     9f
5:  ands  x0, x1, x2
    b     9f
6:  adds  w0, w1, w2
    b     9f
7:  subs  w0, w1, w2
    b     9f
8:  cmp   x3, #1
    adcs  w0, w1, w2
9:  mrs   x10, nzcv
    lsr   x10, x10, #28
    str   x10, [x4]
    ret

/* void a64_add256(const uint64 a[4], const uint64 b[4], uint64 out[5]) (out[4] = carry) */
a64_add256:
    ldp   x3, x4, [x0]
    ldp   x5, x6, [x0, #16]
    ldp   x7, x8, [x1]
    ldp   x9, x10, [x1, #16]
    adds  x3, x3, x7
    adcs  x4, x4, x8
    adcs  x5, x5, x9
    adcs  x6, x6, x10
    cset  x11, cs
    stp   x3, x4, [x2]
    stp   x5, x6, [x2, #16]
    str   x11, [x2, #32]
    ret

/* void a64_sub256(const uint64 a[4], const uint64 b[4], uint64 out[5]) (out[4] = borrow) */
a64_sub256:
    ldp   x3, x4, [x0]
    ldp   x5, x6, [x0, #16]
    ldp   x7, x8, [x1]
    ldp   x9, x10, [x1, #16]
    subs  x3, x3, x7
    sbcs  x4, x4, x8
    sbcs  x5, x5, x9
    sbcs  x6, x6, x10
    cset  x11, cc
    stp   x3, x4, [x2]
    stp   x5, x6, [x2, #16]
    str   x11, [x2, #32]
    ret

/* uint32 a64_cond_mask(int64 a, int64 b): bit i set if condition i holds after cmp a, b
 * order: eq ne cs cc mi pl vs vc hi ls ge lt gt le */
a64_cond_mask:
    cmp   x0, x1
    cset  w2, eq
    cset  w3, ne
    orr   w2, w2, w3, lsl #1
    cset  w3, cs
    orr   w2, w2, w3, lsl #2
    cset  w3, cc
    orr   w2, w2, w3, lsl #3
    cset  w3, mi
    orr   w2, w2, w3, lsl #4
    cset  w3, pl
    orr   w2, w2, w3, lsl #5
    cset  w3, vs
    orr   w2, w2, w3, lsl #6
    cset  w3, vc
    orr   w2, w2, w3, lsl #7
    cset  w3, hi
    orr   w2, w2, w3, lsl #8
    cset  w3, ls
    orr   w2, w2, w3, lsl #9
    cset  w3, ge
    orr   w2, w2, w3, lsl #10
    cset  w3, lt
    orr   w2, w2, w3, lsl #11
    cset  w3, gt
    orr   w2, w2, w3, lsl #12
    cset  w3, le
    orr   w2, w2, w3, lsl #13
    mov   w0, w2
    ret

/* int a64_ccmp_chain(int64 a, int64 b, int64 c):
 * returns bit0 = (a == 1 && b > 5 && c != 0), bit1 = (a < 0 || b == c), bit2 = (a + 3 == 0 via ccmn) */
a64_ccmp_chain:
    cmp   x0, #1
    ccmp  x1, #5, #4, eq      /* if a==1 compare b,5 else flags=Z (gt false) */
    ccmp  x2, #0, #4, gt      /* if b>5 compare c,0 else Z=1 (ne false) */
    cset  w3, ne
    cmp   x0, #0
    ccmp  x1, x2, #4, ge      /* if a>=0 compare b,c else Z=1 (eq true) */
    cset  w4, eq
    cmp   x0, x0
    ccmn  x0, #3, #0, eq      /* a + 3, Z if a == -3 */
    cset  w5, eq
    orr   w0, w3, w4, lsl #1
    orr   w0, w0, w5, lsl #2
    ret

/* void a64_cs_family(int64 a, int64 b, int64 out[5]): after cmp a, b:
 * csel(a,b,lt) csinc(a,b,ge) csinv(a,b,eq) csneg(a,b,ne) cinc/cneg chain */
a64_cs_family:
    cmp   x0, x1
    csel  x3, x0, x1, lt
    csinc x4, x0, x1, ge
    csinv x5, x0, x1, eq
    csneg x6, x0, x1, ne
    cinc  x7, x0, hi
    cneg  x7, x7, mi
    stp   x3, x4, [x2]
    stp   x5, x6, [x2, #16]
    str   x7, [x2, #32]
    ret

/* uint64 a64_msr_nzcv(uint64 flags4): writes NZCV from the low 4 bits and
 * returns a mask of conditions (same order as a64_cond_mask) */
a64_msr_nzcv:
    lsl   x0, x0, #28
    msr   nzcv, x0
    cset  w2, eq
    cset  w3, ne
    orr   w2, w2, w3, lsl #1
    cset  w3, cs
    orr   w2, w2, w3, lsl #2
    cset  w3, cc
    orr   w2, w2, w3, lsl #3
    cset  w3, mi
    orr   w2, w2, w3, lsl #4
    cset  w3, pl
    orr   w2, w2, w3, lsl #5
    cset  w3, vs
    orr   w2, w2, w3, lsl #6
    cset  w3, vc
    orr   w2, w2, w3, lsl #7
    cset  w3, hi
    orr   w2, w2, w3, lsl #8
    cset  w3, ls
    orr   w2, w2, w3, lsl #9
    cset  w3, ge
    orr   w2, w2, w3, lsl #10
    cset  w3, lt
    orr   w2, w2, w3, lsl #11
    cset  w3, gt
    orr   w2, w2, w3, lsl #12
    cset  w3, le
    orr   w2, w2, w3, lsl #13
    mov   w0, w2
    ret
    .section .note.GNU-stack,"",@progbits
