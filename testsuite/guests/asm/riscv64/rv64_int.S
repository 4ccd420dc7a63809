/* RISC-V integer instructions compilers rarely emit in these forms:
 * M-extension division corner cases (defined by the ISA: x/0 = -1,
 * x%0 = x, MIN/-1 = MIN, MIN%-1 = 0), mulh/mulhsu/mulhu, *W forms with
 * sign extension, shifts whose register count is >= XLEN (only the low 6/5
 * bits are used), slt/sltu/sltiu, lui/auipc/addiw sign extension.
 * Each function takes arguments in a0..a2 and returns a0 (rv64 LP64D ABI).
 */
    .file "rv64_int.S" /* a fixed STT_FILE name keeps the build reproducible */
    .text
    .globl rv_div, rv_divu, rv_rem, rv_remu, rv_divw, rv_divuw, rv_remw, rv_remuw
    .globl rv_mulh, rv_mulhsu, rv_mulhu, rv_mulw
    .globl rv_sll, rv_srl, rv_sra, rv_sllw, rv_srlw, rv_sraw
    .globl rv_slt, rv_sltu, rv_seqz_snez, rv_lui_neg, rv_addiw_wrap, rv_auipc_delta
    .globl rv_compressed_mix

rv_div:    div   a0, a0, a1
           ret
rv_divu:   divu  a0, a0, a1
           ret
rv_rem:    rem   a0, a0, a1
           ret
rv_remu:   remu  a0, a0, a1
           ret
rv_divw:   divw  a0, a0, a1
           ret
rv_divuw:  divuw a0, a0, a1
           ret
rv_remw:   remw  a0, a0, a1
           ret
rv_remuw:  remuw a0, a0, a1
           ret
rv_mulh:   mulh   a0, a0, a1
           ret
rv_mulhsu: mulhsu a0, a0, a1
           ret
rv_mulhu:  mulhu  a0, a0, a1
           ret
rv_mulw:   mulw   a0, a0, a1
           ret
rv_sll:    sll  a0, a0, a1
           ret
rv_srl:    srl  a0, a0, a1
           ret
rv_sra:    sra  a0, a0, a1
           ret
rv_sllw:   sllw a0, a0, a1
           ret
rv_srlw:   srlw a0, a0, a1
           ret
rv_sraw:   sraw a0, a0, a1
           ret
/* returns (a0 < a1 signed) | (a0 < a1 unsigned) << 1 | (a0 < -1 unsigned imm) << 2 */
rv_slt:    slt   t0, a0, a1
           sltu  t1, a0, a1
           sltiu t2, a0, -1
           slli  t1, t1, 1
           slli  t2, t2, 2
           or    a0, t0, t1
           or    a0, a0, t2
           ret
rv_sltu:   sltu a0, a0, a1
           ret
/* returns seqz(a0) | snez(a0) << 1 | sltz(a0) << 2 | sgtz(a0) << 3 */
rv_seqz_snez:
           seqz t0, a0
           snez t1, a0
           sltz t2, a0
           sgtz t3, a0
           slli t1, t1, 1
           slli t2, t2, 2
           slli t3, t3, 3
           or   a0, t0, t1
           or   a0, a0, t2
           or   a0, a0, t3
           ret
/* lui with bit 31 set sign-extends to 64 bits */
rv_lui_neg:
           lui  a0, 0x80000
           addi a0, a0, -1          /* 0xffffffff7fffffff */
           ret
/* addiw wraps at 32 bits and sign-extends: a0 + 1 as a word */
rv_addiw_wrap:
           addiw a0, a0, 1
           ret
/* auipc: the distance between two labels computed with auipc must be exact */
rv_auipc_delta:
1:         auipc t0, 0
           la    t1, 2f
           sub   a0, t1, t0
           ret
           nop
           nop
2:         nop
           ret
/* Uses explicitly compressed instructions mixed with 32-bit ones. */
rv_compressed_mix:
           .option push
           .option rvc
           c.li   a5, 7
           c.addi a5, 3          /* 10 */
           c.slli a5, 4          /* 160 */
           c.mv   a4, a0
           c.add  a5, a4         /* 160 + a0 */
           c.srai a5, 1
           c.andi a5, -4
           addi   sp, sp, -16
           c.sdsp a5, 8(sp)
           c.ldsp a0, 8(sp)
           addi   sp, sp, 16
           c.addiw a0, 1
           .option pop
           ret
    .section .note.GNU-stack,"",@progbits
