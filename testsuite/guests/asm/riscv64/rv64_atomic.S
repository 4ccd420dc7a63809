/* RISC-V A extension: LR/SC retry loops (64- and 32-bit; lr.w sign-extends),
 * sc.d after an earlier sc.d (reservation already consumed) must fail,
 * every AMO (swap/add/and/or/xor/min/max/minu/maxu, .w and .d, with
 * aq/rl bits) returning the old value, fence variants, and fence.i after
 * storing an instruction into an executable buffer.
 */
    .file "rv64_atomic.S" /* a fixed STT_FILE name keeps the build reproducible */
    .text
    .globl rv_lrsc_add64, rv_lrsc_add32, rv_sc_twice, rv_amo64, rv_amo32, rv_fences, rv_patch_and_call

/* uint64 rv_lrsc_add64(uint64 *p, uint64 v): atomically *p += v, returns old; *(a2) = retries */
rv_lrsc_add64:
    li    t2, 0
1:  lr.d.aq t0, (a0)
    add   t1, t0, a1
    sc.d.rl t3, t1, (a0)
    beqz  t3, 2f
    addi  t2, t2, 1
    j     1b
2:  mv    a0, t0
    ret

/* int64 rv_lrsc_add32(int32 *p, int32 v): returns the old value as loaded by lr.w (sign-extended) */
rv_lrsc_add32:
1:  lr.w  t0, (a0)
    addw  t1, t0, a1
    sc.w  t3, t1, (a0)
    bnez  t3, 1b
    mv    a0, t0
    ret

/* uint64 rv_sc_twice(uint64 *p): lr, sc (succeeds), sc again (must fail);
 * returns first_sc_result | second_sc_result << 1 */
rv_sc_twice:
    lr.d  t0, (a0)
    addi  t0, t0, 1
    sc.d  t1, t0, (a0)
    addi  t0, t0, 1
    sc.d  t2, t0, (a0)
    slli  t2, t2, 1
    or    a0, t1, t2
    ret

/* void rv_amo64(uint64 *p, uint64 v, uint64 out[18], uint64 init): for each
 * AMO, resets *p to init, applies it with operand v and stores the returned
 * old value and the new memory value */
rv_amo64:
    sd a3, 0(a0)
    amoswap.d t0, a1, (a0)
    sd t0, 0(a2)
    ld t1, 0(a0)
    sd t1, 8(a2)
    sd a3, 0(a0)
    amoadd.d.aq t0, a1, (a0)
    sd t0, 16(a2)
    ld t1, 0(a0)
    sd t1, 24(a2)
    sd a3, 0(a0)
    amoand.d.rl t0, a1, (a0)
    sd t0, 32(a2)
    ld t1, 0(a0)
    sd t1, 40(a2)
    sd a3, 0(a0)
    amoor.d.aqrl t0, a1, (a0)
    sd t0, 48(a2)
    ld t1, 0(a0)
    sd t1, 56(a2)
    sd a3, 0(a0)
    amoxor.d t0, a1, (a0)
    sd t0, 64(a2)
    ld t1, 0(a0)
    sd t1, 72(a2)
    sd a3, 0(a0)
    amomin.d t0, a1, (a0)
    sd t0, 80(a2)
    ld t1, 0(a0)
    sd t1, 88(a2)
    sd a3, 0(a0)
    amomax.d t0, a1, (a0)
    sd t0, 96(a2)
    ld t1, 0(a0)
    sd t1, 104(a2)
    sd a3, 0(a0)
    amominu.d t0, a1, (a0)
    sd t0, 112(a2)
    ld t1, 0(a0)
    sd t1, 120(a2)
    sd a3, 0(a0)
    amomaxu.d t0, a1, (a0)
    sd t0, 128(a2)
    ld t1, 0(a0)
    sd t1, 136(a2)
    ret

/* void rv_amo32(uint32 *p, uint32 v, int64 out[18], uint32 init): .w forms;
 * old values and reloaded words (lw) are sign-extended */
rv_amo32:
    sw a3, 0(a0)
    amoswap.w t0, a1, (a0)
    sd t0, 0(a2)
    lw t1, 0(a0)
    sd t1, 8(a2)
    sw a3, 0(a0)
    amoadd.w.aq t0, a1, (a0)
    sd t0, 16(a2)
    lw t1, 0(a0)
    sd t1, 24(a2)
    sw a3, 0(a0)
    amoand.w.rl t0, a1, (a0)
    sd t0, 32(a2)
    lw t1, 0(a0)
    sd t1, 40(a2)
    sw a3, 0(a0)
    amoor.w.aqrl t0, a1, (a0)
    sd t0, 48(a2)
    lw t1, 0(a0)
    sd t1, 56(a2)
    sw a3, 0(a0)
    amoxor.w t0, a1, (a0)
    sd t0, 64(a2)
    lw t1, 0(a0)
    sd t1, 72(a2)
    sw a3, 0(a0)
    amomin.w t0, a1, (a0)
    sd t0, 80(a2)
    lw t1, 0(a0)
    sd t1, 88(a2)
    sw a3, 0(a0)
    amomax.w t0, a1, (a0)
    sd t0, 96(a2)
    lw t1, 0(a0)
    sd t1, 104(a2)
    sw a3, 0(a0)
    amominu.w t0, a1, (a0)
    sd t0, 112(a2)
    lw t1, 0(a0)
    sd t1, 120(a2)
    sw a3, 0(a0)
    amomaxu.w t0, a1, (a0)
    sd t0, 128(a2)
    lw t1, 0(a0)
    sd t1, 136(a2)
    ret

/* int64 rv_fences(int64 x): a sequence of fences must not change anything */
rv_fences:
    fence
    fence rw, rw
    fence r, r
    fence w, w
    fence iorw, iorw
    fence.tso
    addi a0, a0, 1
    fence.i
    ret

/* int64 rv_patch_and_call(uint32 *code, int imm): stores "addi a0, zero, imm ; ret"
 * into the executable buffer, executes fence.i and calls it */
rv_patch_and_call:
    addi  sp, sp, -16
    sd    ra, 8(sp)
    slli  t0, a1, 20
    li    t1, 0x513          /* addi a0, zero, 0 */
    or    t0, t0, t1
    sw    t0, 0(a0)
    li    t1, 0x8067         /* jalr zero, 0(ra) */
    sw    t1, 4(a0)
    fence.i
    jalr  ra, 0(a0)
    ld    ra, 8(sp)
    addi  sp, sp, 16
    ret
    .section .note.GNU-stack,"",@progbits
