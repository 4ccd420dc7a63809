/* RISC-V F/D extension details: static rounding modes in the instruction
 * (rne/rtz/rdn/rup/rmm) vs the dynamic mode in frm, fcsr/frm/fflags access
 * (frcsr/fscsr/frrm/fsrm/frflags/fsflags), accrued exception flags,
 * saturating fcvt to integers (NaN -> max), fmin/fmax (NaN and signed-zero
 * rules), fclass, sign injection, NaN boxing of singles held in double
 * registers, canonical NaN, fused multiply-add variants.
 */
    .file "rv64_fp.S" /* a fixed STT_FILE name keeps the build reproducible */
    .text
    .globl rv_fadd_rm, rv_fdiv_dyn, rv_fcsr_roundtrip, rv_flags_after, rv_fcvt_w, rv_fcvt_wu, rv_fcvt_l, rv_fcvt_lu
    .globl rv_fcvt_w_rm, rv_fmin, rv_fmax, rv_fclass, rv_fsgnj, rv_nanbox, rv_canonical_nan, rv_fma4, rv_fcvt_s_d_rm
    .globl rv_feq_flags

/* double rv_fadd_rm(double a, double b, int mode): a+b with a static mode */
rv_fadd_rm:
    li   t0, 1
    beq  a0, t0, 1f
    li   t0, 2
    beq  a0, t0, 2f
    li   t0, 3
    beq  a0, t0, 3f
    li   t0, 4
    beq  a0, t0, 4f
    fadd.d fa0, fa0, fa1, rne
    ret
1:  fadd.d fa0, fa0, fa1, rtz
    ret
2:  fadd.d fa0, fa0, fa1, rdn
    ret
3:  fadd.d fa0, fa0, fa1, rup
    ret
4:  fadd.d fa0, fa0, fa1, rmm
    ret

/* double rv_fdiv_dyn(double a, double b, int frm): sets frm, divides with
 * the dynamic mode, restores frm=0 */
rv_fdiv_dyn:
    fsrm  t0, a0          /* old mode -> t0 */
    fdiv.d fa0, fa0, fa1, dyn
    fsrm  zero
    ret

/* unsigned rv_fcsr_roundtrip(unsigned v): writes fcsr, reads it back (only
 * 8 bits exist), then reads frm and fflags separately: returns
 * fcsr | frm << 8 | fflags << 16 */
rv_fcsr_roundtrip:
    fscsr t0, a0
    frcsr t1
    frrm  t2
    frflags t3
    slli  t2, t2, 8
    slli  t3, t3, 16
    or    a0, t1, t2
    or    a0, a0, t3
    fscsr zero
    ret

/* unsigned rv_flags_after(int which, double a, double b): clears fflags,
 * performs an operation, returns fflags (NV=16 DZ=8 OF=4 UF=2 NX=1) */
rv_flags_after:
    fsflags zero
    li   t0, 1
    beq  a0, t0, 1f
    li   t0, 2
    beq  a0, t0, 2f
    li   t0, 3
    beq  a0, t0, 3f
    li   t0, 4
    beq  a0, t0, 4f
    fadd.d ft0, fa0, fa1
    j    9f
1:  fdiv.d ft0, fa0, fa1
    j    9f
2:  fmul.d ft0, fa0, fa1
    j    9f
3:  fsqrt.d ft0, fa0
    j    9f
4:  fcvt.w.d t1, fa0, rtz
9:  frflags a0
    fsflags zero
    ret

rv_fcvt_w:   fcvt.w.d  a0, fa0, rtz
             ret
rv_fcvt_wu:  fcvt.wu.d a0, fa0, rtz
             ret
rv_fcvt_l:   fcvt.l.d  a0, fa0, rtz
             ret
rv_fcvt_lu:  fcvt.lu.d a0, fa0, rtz
             ret
/* long rv_fcvt_w_rm(double x): packs the five static modes' results (each
 * -128..127) into bytes: rne | rtz<<8 | rdn<<16 | rup<<24 | rmm<<32 */
rv_fcvt_w_rm:
    fcvt.w.d t0, fa0, rne
    fcvt.w.d t1, fa0, rtz
    fcvt.w.d t2, fa0, rdn
    fcvt.w.d t3, fa0, rup
    fcvt.w.d t4, fa0, rmm
    andi t0, t0, 255
    andi t1, t1, 255
    andi t2, t2, 255
    andi t3, t3, 255
    andi t4, t4, 255
    slli t1, t1, 8
    slli t2, t2, 16
    slli t3, t3, 24
    slli t4, t4, 32
    or   a0, t0, t1
    or   a0, a0, t2
    or   a0, a0, t3
    or   a0, a0, t4
    ret
rv_fmin:  fmin.d fa0, fa0, fa1
          ret
rv_fmax:  fmax.d fa0, fa0, fa1
          ret
rv_fclass: fclass.d a0, fa0
          ret
/* double rv_fsgnj(double a, double b, int which): 0 fsgnj, 1 fsgnjn, 2 fsgnjx */
rv_fsgnj:
    li   t0, 1
    beq  a0, t0, 1f
    li   t0, 2
    beq  a0, t0, 2f
    fsgnj.d fa0, fa0, fa1
    ret
1:  fsgnjn.d fa0, fa0, fa1
    ret
2:  fsgnjx.d fa0, fa0, fa1
    ret
/* uint64 rv_nanbox(float f): the 64-bit register image of a single */
rv_nanbox:
    fmv.x.d a0, fa0
    ret
/* uint64 rv_canonical_nan(uint64 bits_of_double_snan): adds 0.0 to a
 * signaling NaN and returns the result's bits together with fflags:
 * result bits in a0; fflags stored to *(a1) */
rv_canonical_nan:
    fsflags zero
    fmv.d.x ft0, a0
    fmv.d.x ft1, zero
    fadd.d  ft2, ft0, ft1
    fmv.x.d a0, ft2
    frflags t0
    sw      t0, 0(a1)
    fsflags zero
    ret
/* void rv_fma4(double a, double b, double c, double out[4]) */
rv_fma4:
    fmadd.d  ft0, fa0, fa1, fa2
    fmsub.d  ft1, fa0, fa1, fa2
    fnmadd.d ft2, fa0, fa1, fa2
    fnmsub.d ft3, fa0, fa1, fa2
    fsd ft0, 0(a0)
    fsd ft1, 8(a0)
    fsd ft2, 16(a0)
    fsd ft3, 24(a0)
    ret
/* void rv_fcvt_s_d_rm(double x, float out[5]) narrows with each static mode */
rv_fcvt_s_d_rm:
    fcvt.s.d ft0, fa0, rne
    fcvt.s.d ft1, fa0, rtz
    fcvt.s.d ft2, fa0, rdn
    fcvt.s.d ft3, fa0, rup
    fcvt.s.d ft4, fa0, rmm
    fsw ft0, 0(a0)
    fsw ft1, 4(a0)
    fsw ft2, 8(a0)
    fsw ft3, 12(a0)
    fsw ft4, 16(a0)
    ret
/* unsigned rv_feq_flags(double a, double b): feq|flt<<1|fle<<2|fflags<<3 (quiet vs signaling compares) */
rv_feq_flags:
    fsflags zero
    feq.d t0, fa0, fa1
    frflags t3
    fsflags zero
    flt.d t1, fa0, fa1
    fle.d t2, fa0, fa1
    frflags t4
    slli t1, t1, 1
    slli t2, t2, 2
    slli t3, t3, 3
    slli t4, t4, 8
    or a0, t0, t1
    or a0, a0, t2
    or a0, a0, t3
    or a0, a0, t4
    fsflags zero
    ret
    .section .note.GNU-stack,"",@progbits
