/* Every RV64GC (+Zba, Zbb) instruction at least once, with varied operands:
 * each rounding mode, aq/rl combinations, shift amounts >= 32, negative and
 * extreme immediates, CSR immediates, and every compressed form.
 * Assembled by ../Makefile into isa-all.elf; its objdump output is the golden.
 * Hand-encoded words (.insn) cover encodings gas never emits by itself. */
	.attribute arch, "rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_zicsr2p0_zifencei2p0_zba1p0_zbb1p0"
	.option norvc
	.text
	.globl _start
_start:
	/* RV64I: upper immediates, jumps, branches */
	lui	a0, 0x12345
	lui	t6, 0xfffff
	lui	s11, 0
	auipc	ra, 0x80000
	auipc	a5, 0
	jal	ra, _start
	jal	zero, 1f
	jal	t0, 1f
1:	jalr	zero, 0(ra)
	jalr	ra, 0(a5)
	jalr	zero, -2048(t1)
	jalr	t0, 2047(t0)
	jalr	zero, 0(t0)
	beq	a0, a1, 1b
	bne	zero, t6, 2f
	blt	s0, s1, 2f
	bge	a2, a3, 1b
	bltu	t3, t4, 2f
	bgeu	sp, gp, 2f
	beq	a0, a0, _start
	bne	a0, a1, .+4094
2:	/* loads and stores */
	lb	a0, -2048(sp)
	lh	a1, 2047(s0)
	lw	a2, 0(a3)
	ld	a3, -8(a4)
	lbu	t0, 1(t1)
	lhu	t2, 100(s1)
	lwu	s2, -100(s3)
	sb	a0, -2048(sp)
	sh	s4, 2047(s5)
	sw	zero, 0(s6)
	sd	ra, -8(sp)
	/* integer immediates */
	addi	a0, a1, -2048
	addi	zero, zero, 0
	slti	t0, t1, 2047
	sltiu	t2, s0, -1
	xori	s1, a0, -1
	ori	a1, a2, 0x7ff
	andi	a3, a4, -16
	slli	a5, a6, 0
	slli	a5, a6, 31
	slli	a5, a6, 32
	slli	a7, s2, 63
	srli	s3, s4, 1
	srli	s3, s4, 45
	srai	s5, s6, 33
	srai	s7, s8, 63
	/* integer registers */
	add	s9, s10, s11
	sub	t3, t4, t5
	sll	t6, zero, ra
	slt	sp, gp, tp
	sltu	t0, t1, t2
	xor	s0, s1, a0
	srl	a1, a2, a3
	sra	a4, a5, a6
	or	a7, s2, s3
	and	s4, s5, s6
	/* RV64I word ops */
	addiw	a0, a1, -1
	addiw	a0, a0, 0
	slliw	a2, a3, 31
	srliw	a4, a5, 0
	sraiw	a6, a7, 17
	addw	t0, t1, t2
	subw	s0, s1, a0
	sllw	a1, a2, a3
	srlw	a4, a5, a6
	sraw	a7, s2, s3
	/* fences and system */
	fence	iorw, iorw
	fence	rw, w
	fence	r, r
	fence	i, o
	fence	w, rw
	fence.tso
	fence.i
	ecall
	ebreak
	.insn 4, 0x0100000f	/* fence w,0 (pause hint) */
	.insn 4, 0x0000000f	/* fence 0,0 */
	.insn 4, 0x0ff5878f	/* fence with rd/rs1 set: fields ignored */
	.insn 4, 0xfff5978f	/* fence.i with imm/rs1/rd set: fields ignored */
	/* Zicsr */
	csrrw	a0, fcsr, a1
	csrrs	a2, frm, zero
	csrrc	zero, fflags, a3
	csrrwi	a4, frm, 3
	csrrsi	zero, fflags, 31
	csrrci	a5, fcsr, 0
	csrrs	a0, cycle, zero
	csrrs	a0, time, zero
	csrrs	a0, instret, zero
	csrrs	a0, hpmcounter3, zero
	csrrs	a0, hpmcounter31, zero
	csrrs	a0, vlenb, zero
	csrrs	t0, 0x7ff, zero
	csrrw	zero, cycle, zero	/* unimp */
	/* M */
	mul	a0, a1, a2
	mulh	a3, a4, a5
	mulhsu	a6, a7, s2
	mulhu	s3, s4, s5
	div	s6, s7, s8
	divu	s9, s10, s11
	rem	t3, t4, t5
	remu	t6, zero, ra
	mulw	a0, a1, a2
	divw	a3, a4, a5
	divuw	a6, a7, s2
	remw	s3, s4, s5
	remuw	s6, s7, s8
	/* A: every op, every aq/rl combination on some */
	lr.w	a0, (a1)
	lr.w.aq	a0, (a1)
	lr.w.rl	a0, (a1)
	lr.w.aqrl	a0, (a1)
	sc.w	a2, a3, (a4)
	sc.w.aq	a2, a3, (a4)
	sc.w.rl	a2, a3, (a4)
	sc.w.aqrl	a2, a3, (a4)
	amoswap.w	a0, a1, (a2)
	amoadd.w.aq	a0, a1, (a2)
	amoxor.w.rl	a0, a1, (a2)
	amoand.w.aqrl	a0, a1, (a2)
	amoor.w	zero, a1, (sp)
	amomin.w	a0, a1, (a2)
	amomax.w	a0, a1, (a2)
	amominu.w	a0, a1, (a2)
	amomaxu.w	a0, a1, (a2)
	lr.d	t0, (t1)
	lr.d.aqrl	t0, (t1)
	sc.d	t2, s0, (s1)
	sc.d.rl	t2, s0, (s1)
	amoswap.d.aq	a0, a1, (a2)
	amoadd.d	a0, a1, (a2)
	amoxor.d	a0, a1, (a2)
	amoand.d	a0, a1, (a2)
	amoor.d	a0, a1, (a2)
	amomin.d	a0, a1, (a2)
	amomax.d	a0, a1, (a2)
	amominu.d.rl	a0, a1, (a2)
	amomaxu.d.aqrl	a0, a1, (a2)
	/* F */
	flw	ft0, -4(sp)
	fsw	ft11, 2047(a0)
	fmadd.s	fa0, fa1, fa2, fa3
	fmadd.s	fa0, fa1, fa2, fa3, rne
	fmsub.s	fs0, fs1, fs2, fs3, rtz
	fnmsub.s	ft8, ft9, ft10, ft11, rdn
	fnmadd.s	fa4, fa5, fa6, fa7, rup
	fadd.s	ft0, ft1, ft2
	fadd.s	ft0, ft1, ft2, rne
	fadd.s	ft0, ft1, ft2, rtz
	fadd.s	ft0, ft1, ft2, rdn
	fadd.s	ft0, ft1, ft2, rup
	fadd.s	ft0, ft1, ft2, rmm
	fadd.s	ft0, ft1, ft2, dyn
	fsub.s	fa0, fa1, fa2, rmm
	fmul.s	fa0, fa1, fa2
	fdiv.s	fa0, fa1, fa2
	fsqrt.s	fa0, fa1
	fsqrt.s	fa0, fa1, rtz
	fsgnj.s	fa0, fa1, fa2
	fsgnjn.s	fa0, fa1, fa2
	fsgnjx.s	fa0, fa1, fa2
	fmin.s	fa0, fa1, fa2
	fmax.s	fa0, fa1, fa2
	fcvt.w.s	a0, fa0
	fcvt.w.s	a0, fa0, rtz
	fcvt.wu.s	a0, fa0, rne
	fcvt.l.s	a0, fa0
	fcvt.lu.s	a0, fa0, rdn
	fmv.x.w	a0, ft0
	feq.s	a0, fa0, fa1
	flt.s	a0, fa0, fa1
	fle.s	a0, fa0, fa1
	fclass.s	a0, fa0
	fcvt.s.w	fa0, a0
	fcvt.s.w	fa0, a0, rup
	fcvt.s.wu	fa0, a0
	fcvt.s.l	fa0, a0
	fcvt.s.lu	fa0, a0, rmm
	fmv.w.x	ft0, zero
	/* D */
	fld	fs0, 8(sp)
	fld	ft0, -2048(a0)
	fsd	fs11, 2040(sp)
	fsd	fa0, -8(s0)
	fmadd.d	fa0, fa1, fa2, fa3
	fmadd.d	fa0, fa1, fa2, fa3, rmm
	fmsub.d	fa0, fa1, fa2, fa3
	fnmsub.d	fa0, fa1, fa2, fa3, rne
	fnmadd.d	fa0, fa1, fa2, fa3
	fadd.d	fa0, fa1, fa2
	fadd.d	fa0, fa1, fa2, rne
	fsub.d	fa0, fa1, fa2, rtz
	fmul.d	fa0, fa1, fa2, rdn
	fdiv.d	fa0, fa1, fa2, rup
	fsqrt.d	fa0, fa1
	fsqrt.d	fa0, fa1, rmm
	fsgnj.d	fa0, fa1, fa2
	fsgnjn.d	fa0, fa1, fa1
	fsgnjx.d	fa0, fa1, fa1
	fmin.d	fa0, fa1, fa2
	fmax.d	fa0, fa1, fa2
	fcvt.s.d	fa0, fa1
	fcvt.s.d	fa0, fa1, rne
	fcvt.d.s	fa0, fa1
	feq.d	a0, fa0, fa1
	flt.d	a0, fa0, fa1
	fle.d	a0, fa0, fa1
	fclass.d	a0, fa0
	fcvt.w.d	a0, fa0
	fcvt.w.d	a0, fa0, rtz
	fcvt.wu.d	a0, fa0, rtz
	fcvt.l.d	a0, fa0, rtz
	fcvt.lu.d	a0, fa0
	fmv.x.d	a0, fa0
	fcvt.d.w	fa0, a0
	fcvt.d.wu	fa0, a0
	fcvt.d.l	fa0, a0
	fcvt.d.l	fa0, a0, rne
	fcvt.d.lu	fa0, a0, rtz
	fmv.d.x	fa0, a0
	/* Zba */
	add.uw	a0, a1, a2
	add.uw	a0, a1, zero
	sh1add	a0, a1, a2
	sh2add	a0, a1, a2
	sh3add	a0, a1, a2
	sh1add.uw	a0, a1, a2
	sh2add.uw	a0, a1, a2
	sh3add.uw	a0, a1, a2
	slli.uw	a0, a1, 0
	slli.uw	a0, a1, 63
	/* Zbb */
	andn	a0, a1, a2
	orn	a0, a1, a2
	xnor	a0, a1, a2
	clz	a0, a1
	clzw	a0, a1
	ctz	a0, a1
	ctzw	a0, a1
	cpop	a0, a1
	cpopw	a0, a1
	max	a0, a1, a2
	maxu	a0, a1, a2
	min	a0, a1, a2
	minu	a0, a1, a2
	sext.b	a0, a1
	sext.h	a0, a1
	zext.h	a0, a1
	rol	a0, a1, a2
	rolw	a0, a1, a2
	ror	a0, a1, a2
	rori	a0, a1, 1
	rori	a0, a1, 63
	roriw	a0, a1, 31
	rorw	a0, a1, a2
	orc.b	a0, a1
	rev8	a0, a1
	/* RVC: every form, edge immediates */
	.option rvc
3:	c.addi4spn	s0, sp, 4
	c.addi4spn	a5, sp, 1020
	c.fld	fs0, 0(a0)
	c.fld	fa5, 248(s1)
	c.lw	a0, 124(a1)
	c.ld	a2, 248(a3)
	c.fsd	fa0, 8(a4)
	c.sw	a5, 4(s0)
	c.sd	s1, 0(a0)
	c.nop
	c.addi	a0, -32
	c.addi	sp, 31
	c.addiw	a1, -1
	c.addiw	a1, 0
	c.li	a2, 31
	c.li	t6, -32
	c.addi16sp	sp, -512
	c.addi16sp	sp, 496
	c.lui	a3, 1
	c.lui	s11, 0xfffe0
	c.lui	t0, 0x1f
	c.srli	a4, 1
	c.srli	a4, 63
	c.srai	a5, 32
	c.andi	s0, -32
	c.andi	s1, 31
	c.sub	s0, s1
	c.xor	a0, a1
	c.or	a2, a3
	c.and	a4, a5
	c.subw	s0, a5
	c.addw	a0, s1
	c.j	3b
	c.j	4f
	c.beqz	a0, 3b
	c.bnez	s1, 4f
4:	c.slli	a0, 1
	c.slli	t6, 63
	c.fldsp	fs0, 504(sp)
	c.lwsp	ra, 252(sp)
	c.ldsp	a0, 504(sp)
	c.jr	ra
	c.jr	a5
	c.mv	a0, a1
	c.ebreak
	c.jalr	t0
	c.add	a0, a1
	c.fsdsp	fa0, 8(sp)
	c.swsp	s0, 252(sp)
	c.sdsp	ra, 504(sp)
	/* RVC hints and shamt=0 forms */
	.insn 2, 0x0005	/* c.addi zero,1 (hint) */
	.insn 2, 0x0501	/* c.addi a0,0 (hint) */
	.insn 2, 0x4015	/* c.li zero,5 (hint) */
	.insn 2, 0x6005	/* c.lui zero,1 (hint) */
	.insn 2, 0x802a	/* c.mv zero,a0 (hint) */
	.insn 2, 0x902a	/* c.add zero,a0 (hint) */
	.insn 2, 0x0506	/* c.slli a0,1 with rd=a0 */
	.insn 2, 0x0502	/* c.slli64 a0 */
	.insn 2, 0x8101	/* c.srli64 a0 */
	.insn 2, 0x8501	/* c.srai64 a0 */
	/* hand-encoded F/D words: every rounding mode on inexact ops */
	.option norvc
	.insn r OP_FP, 0, 0x01, fa0, fa1, fa2	/* fadd.d rne */
	.insn r OP_FP, 1, 0x01, fa0, fa1, fa2	/* fadd.d rtz */
	.insn r OP_FP, 2, 0x01, fa0, fa1, fa2	/* fadd.d rdn */
	.insn r OP_FP, 3, 0x01, fa0, fa1, fa2	/* fadd.d rup */
	.insn r OP_FP, 4, 0x01, fa0, fa1, fa2	/* fadd.d rmm */
	.insn r OP_FP, 7, 0x01, fa0, fa1, fa2	/* fadd.d dyn */
	.insn r OP_FP, 0, 0x21, fa0, fa1, f0	/* fcvt.d.s rne (exact) */
	.insn r OP_FP, 0, 0x69, fa0, a1, x0	/* fcvt.d.w rne (exact) */
	.insn r OP_FP, 0, 0x69, fa0, a1, x1	/* fcvt.d.wu rne (exact) */
	.insn r OP_FP, 7, 0x61, a0, fa1, x2	/* fcvt.l.d dyn */
	.insn r OP_FP, 1, 0x60, a0, fa1, x3	/* fcvt.lu.s rtz */
	.insn r OP_FP, 7, 0x68, fa0, a1, x2	/* fcvt.s.l dyn */
	.insn r OP_FP, 4, 0x20, fa0, fa1, f1	/* fcvt.s.d rmm */
	ret
