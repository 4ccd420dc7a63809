/* AArch64 exclusives and atomics: LDXR/STXR retry loops (64-bit, 32-bit with
 * zero extension, byte), acquire/release forms LDAXR/STLXR, CLREX making the
 * following STXR fail, LDXP/STXP 128-bit pairs, LDAR/STLR, barriers
 * (DMB/DSB/ISB), and ARMv8.1 LSE atomics (LDADD/LDCLR/LDEOR/LDSET/LDSMAX/
 * LDSMIN/LDUMAX/LDUMIN/SWP/CAS/CASP) including their acquire/release forms.
 */
    .file "a64_atomic.S" /* a fixed STT_FILE name keeps the build reproducible */
    .arch armv8.1-a
    .text
    .globl a64_ldxr_add64, a64_ldxr_add32, a64_ldxrb_add, a64_clrex_stxr, a64_ldxp_swap, a64_ldar_stlr, a64_lse
    .globl a64_cas

/* uint64 a64_ldxr_add64(uint64 *p, uint64 v): returns old */
a64_ldxr_add64:
1:  ldaxr  x2, [x0]
    add    x3, x2, x1
    stlxr  w4, x3, [x0]
    cbnz   w4, 1b
    mov    x0, x2
    ret

/* uint64 a64_ldxr_add32(uint32 *p, uint32 v): returns old as loaded in a W register (zero-extended in X) */
a64_ldxr_add32:
1:  ldxr   w2, [x0]
    add    w3, w2, w1
    stxr   w4, w3, [x0]
    cbnz   w4, 1b
    mov    x0, x2
    ret

/* uint64 a64_ldxrb_add(uint8 *p, uint32 v): byte exclusive; returns old */
a64_ldxrb_add:
1:  ldxrb  w2, [x0]
    add    w3, w2, w1
    stxrb  w4, w3, [x0]
    cbnz   w4, 1b
    mov    x0, x2
    ret

/* uint64 a64_clrex_stxr(uint64 *p): ldxr, clrex, stxr -> must fail (status 1),
 * returns status | value_after << 8 (low byte of the value) */
a64_clrex_stxr:
    ldxr   x1, [x0]
    clrex
    add    x2, x1, #1
    stxr   w3, x2, [x0]
    ldr    x4, [x0]
    and    x4, x4, #0xff
    orr    x0, x3, x4, lsl #8
    ret

/* void a64_ldxp_swap(uint64 p[2]): atomically swaps the two halves */
a64_ldxp_swap:
1:  ldaxp  x1, x2, [x0]
    stlxp  w3, x2, x1, [x0]
    cbnz   w3, 1b
    ret

/* uint64 a64_ldar_stlr(uint64 *p, uint64 v): stlr v, dmb, ldar back */
a64_ldar_stlr:
    stlr   x1, [x0]
    dmb    ish
    dsb    sy
    isb
    ldar   x0, [x0]
    ret

/* void a64_lse(uint64 *p, uint64 v, uint64 init, uint64 out[20]): for each LSE op,
 * resets *p = init, runs the op with operand v, stores (old, new) */
a64_lse:
    str    x2, [x0]
    ldadd  x1, x4, [x0]
    ldr    x5, [x0]
    stp    x4, x5, [x3, #0]
    str    x2, [x0]
    ldclra x1, x4, [x0]
    ldr    x5, [x0]
    stp    x4, x5, [x3, #16]
    str    x2, [x0]
    ldeorl x1, x4, [x0]
    ldr    x5, [x0]
    stp    x4, x5, [x3, #32]
    str    x2, [x0]
    ldsetal x1, x4, [x0]
    ldr    x5, [x0]
    stp    x4, x5, [x3, #48]
    str    x2, [x0]
    ldsmax x1, x4, [x0]
    ldr    x5, [x0]
    stp    x4, x5, [x3, #64]
    str    x2, [x0]
    ldsmin x1, x4, [x0]
    ldr    x5, [x0]
    stp    x4, x5, [x3, #80]
    str    x2, [x0]
    ldumax x1, x4, [x0]
    ldr    x5, [x0]
    stp    x4, x5, [x3, #96]
    str    x2, [x0]
    ldumin x1, x4, [x0]
    ldr    x5, [x0]
    stp    x4, x5, [x3, #112]
    str    x2, [x0]
    swpal  x1, x4, [x0]
    ldr    x5, [x0]
    stp    x4, x5, [x3, #128]
    str    w2, [x0]            /* 32-bit form: ldadd on a word, old value zero-extended */
    ldadd  w1, w4, [x0]
    ldr    w5, [x0]
    stp    x4, x5, [x3, #144]
    ret

/* uint64 a64_cas(uint64 *p, uint64 expected, uint64 desired): CASAL; returns the value read */
a64_cas:
    mov    x3, x1
    casal  x3, x2, [x0]
    mov    x0, x3
    ret
    .section .note.GNU-stack,"",@progbits
