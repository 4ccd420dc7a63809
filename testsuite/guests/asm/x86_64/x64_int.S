/* x86-64 integer instructions and flags: ADD/ADC/SUB/SBB/NEG/INC/DEC/AND/
 * shifts/rotates (incl. RCL/RCR and count 0 leaving flags untouched) with the
 * architecturally defined EFLAGS bits read by PUSHFQ, 256-bit ADC/SBB
 * chains, SETcc for all 16 conditions, CMOVcc, MUL/IMUL/DIV/IDIV 128-bit
 * forms, SHLD/SHRD, BT/BTS/BTR/BTC on memory with bit offsets far outside
 * the addressed word, BSF/BSR, BSWAP, sign extensions (CBW..CQO), partial
 * register writes (8/16-bit keep upper bits, 32-bit zero-extend), XADD,
 * CMPXCHG, LOCK CMPXCHG16B and the string instructions with DF=0 and DF=1.
 * System V AMD64 ABI: args rdi, rsi, rdx, rcx, r8, r9; return rax.
 */
    .file "x64_int.S" /* a fixed STT_FILE name keeps the build reproducible */
    .text
    .globl x86_flag_op, x86_add256, x86_sub256, x86_setcc_mask, x86_cmov, x86_muldiv, x86_shld_shrd
    .globl x86_bt_mem, x86_bsf_bsr, x86_misc, x86_cmpxchg, x86_cmpxchg16b, x86_strings

/* uint64 x86_flag_op(int op, uint64 a, uint64 b, uint64 flags_in, uint64 *flags_out)
 * flags_in is loaded into EFLAGS (CF/PF/AF/ZF/SF/OF bits) before the operation. */
x86_flag_op:
    pushq  %rbx
    movq   %rsi, %rax
    movq   %rdx, %rbx
    movq   %rcx, %r9
    andq   $0x8d5, %r9
    orq    $0x202, %r9          /* reserved bit 1 and IF */
    movl   %edi, %r10d
    pushq  %r9
    popfq
    cmpl   $0, %r10d
    je     .Ladd
    cmpl   $1, %r10d
    je     .Ladc
    cmpl   $2, %r10d
    je     .Lsub
    cmpl   $3, %r10d
    je     .Lsbb
    cmpl   $4, %r10d
    je     .Lneg
    cmpl   $5, %r10d
    je     .Linc
    cmpl   $6, %r10d
    je     .Ldec
    cmpl   $7, %r10d
    je     .Land
    cmpl   $8, %r10d
    je     .Lshl
    cmpl   $9, %r10d
    je     .Lshr
    cmpl   $10, %r10d
    je     .Lsar
    cmpl   $11, %r10d
    je     .Lrcl
    cmpl   $12, %r10d
    je     .Lrcr
    cmpl   $13, %r10d
    je     .Lrol
    cmpl   $14, %r10d
    je     .Laddl
    jmp    .Lsubb
/* Note: cmpl above clobbered the flags; each case reloads them. */
.Ladd:  pushq %r9
        popfq
        addq  %rbx, %rax
        jmp   .Ldone
.Ladc:  pushq %r9
        popfq
        adcq  %rbx, %rax
        jmp   .Ldone
.Lsub:  pushq %r9
        popfq
        subq  %rbx, %rax
        jmp   .Ldone
.Lsbb:  pushq %r9
        popfq
        sbbq  %rbx, %rax
        jmp   .Ldone
.Lneg:  pushq %r9
        popfq
        negq  %rax
        jmp   .Ldone
.Linc:  pushq %r9
        popfq
        incq  %rax
        jmp   .Ldone
.Ldec:  pushq %r9
        popfq
        decq  %rax
        jmp   .Ldone
.Land:  pushq %r9
        popfq
        andq  %rbx, %rax
        jmp   .Ldone
.Lshl:  movq  %rbx, %rcx
        pushq %r9
        popfq
        shlq  %cl, %rax
        jmp   .Ldone
.Lshr:  movq  %rbx, %rcx
        pushq %r9
        popfq
        shrq  %cl, %rax
        jmp   .Ldone
.Lsar:  movq  %rbx, %rcx
        pushq %r9
        popfq
        sarq  %cl, %rax
        jmp   .Ldone
.Lrcl:  movq  %rbx, %rcx
        pushq %r9
        popfq
        rclq  %cl, %rax
        jmp   .Ldone
.Lrcr:  movq  %rbx, %rcx
        pushq %r9
        popfq
        rcrq  %cl, %rax
        jmp   .Ldone
.Lrol:  movq  %rbx, %rcx
        pushq %r9
        popfq
        rolq  %cl, %rax
        jmp   .Ldone
.Laddl: pushq %r9
        popfq
        addl  %ebx, %eax         /* 32-bit: zero-extends into rax */
        jmp   .Ldone
.Lsubb: pushq %r9
        popfq
        subb  %bl, %al           /* 8-bit: upper bits of rax kept */
.Ldone:
    pushfq
    popq   %r9
    andq   $0x8d5, %r9
    movq   %r9, (%r8)
    popq   %rbx
    ret

/* void x86_add256(const uint64 a[4], const uint64 b[4], uint64 out[5]) */
x86_add256:
    movq  (%rdi), %rax
    addq  (%rsi), %rax
    movq  %rax, (%rdx)
    movq  8(%rdi), %rax
    adcq  8(%rsi), %rax
    movq  %rax, 8(%rdx)
    movq  16(%rdi), %rax
    adcq  16(%rsi), %rax
    movq  %rax, 16(%rdx)
    movq  24(%rdi), %rax
    adcq  24(%rsi), %rax
    movq  %rax, 24(%rdx)
    setc  %al
    movzbq %al, %rax
    movq  %rax, 32(%rdx)
    ret

/* void x86_sub256(const uint64 a[4], const uint64 b[4], uint64 out[5]) */
x86_sub256:
    movq  (%rdi), %rax
    subq  (%rsi), %rax
    movq  %rax, (%rdx)
    movq  8(%rdi), %rax
    sbbq  8(%rsi), %rax
    movq  %rax, 8(%rdx)
    movq  16(%rdi), %rax
    sbbq  16(%rsi), %rax
    movq  %rax, 16(%rdx)
    movq  24(%rdi), %rax
    sbbq  24(%rsi), %rax
    movq  %rax, 24(%rdx)
    sbbq  %rax, %rax          /* -1 if borrow */
    negq  %rax
    movq  %rax, 32(%rdx)
    ret

/* uint32 x86_setcc_mask(int64 a, int64 b): bit i = condition i after cmp b, a
 * order: o no b ae e ne be a s ns p np l ge le g */
x86_setcc_mask:
    xorl  %eax, %eax
    cmpq  %rsi, %rdi
    seto %dl
    movzbl %dl, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setno %dl
    movzbl %dl, %edx
    shll  $1, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setb %dl
    movzbl %dl, %edx
    shll  $2, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setae %dl
    movzbl %dl, %edx
    shll  $3, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    sete %dl
    movzbl %dl, %edx
    shll  $4, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setne %dl
    movzbl %dl, %edx
    shll  $5, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setbe %dl
    movzbl %dl, %edx
    shll  $6, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    seta %dl
    movzbl %dl, %edx
    shll  $7, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    sets %dl
    movzbl %dl, %edx
    shll  $8, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setns %dl
    movzbl %dl, %edx
    shll  $9, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setp %dl
    movzbl %dl, %edx
    shll  $10, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setnp %dl
    movzbl %dl, %edx
    shll  $11, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setl %dl
    movzbl %dl, %edx
    shll  $12, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setge %dl
    movzbl %dl, %edx
    shll  $13, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setle %dl
    movzbl %dl, %edx
    shll  $14, %edx
    orl   %edx, %eax
    cmpq  %rsi, %rdi
    setg %dl
    movzbl %dl, %edx
    shll  $15, %edx
    orl   %edx, %eax
    ret

/* void x86_cmov(int64 a, int64 b, int64 out[4]): after cmp: cmovl, cmovae, cmove(32-bit), cmovs */
x86_cmov:
    movq  $111, %rax
    movq  $222, %rcx
    movq  $-1, %r8
    movq  $444, %r9
    cmpq  %rsi, %rdi
    cmovlq %rdi, %rax
    cmovaeq %rsi, %rcx
    cmovel %edi, %r8d         /* 32-bit cmov zero-extends even when the condition is false */
    cmovsq %rdi, %r9
    movq  %rax, (%rdx)
    movq  %rcx, 8(%rdx)
    movq  %r8, 16(%rdx)
    movq  %r9, 24(%rdx)
    ret

/* void x86_muldiv(uint64 a, uint64 b, uint64 out[10]): mul, imul (1-op), imul 3-op flags, div, idiv of rdx:rax */
x86_muldiv:
    movq  %rdx, %r8
    movq  %rdi, %rax
    mulq  %rsi
    movq  %rax, (%r8)
    movq  %rdx, 8(%r8)
    setc  %cl
    movzbq %cl, %rcx
    movq  %rcx, 16(%r8)
    movq  %rdi, %rax
    imulq %rsi
    movq  %rax, 24(%r8)
    movq  %rdx, 32(%r8)
    seto  %cl
    movzbq %cl, %rcx
    movq  %rcx, 40(%r8)
    /* unsigned divide (rdx:rax = a<<32 >> ... ) : divides the 128-bit value (a>>32):(a<<32) by b (b > a>>32 required) */
    movq  %rdi, %rdx
    shrq  $32, %rdx
    movq  %rdi, %rax
    shlq  $32, %rax
    cmpq  %rsi, %rdx
    jae   1f
    divq  %rsi
    movq  %rax, 48(%r8)
    movq  %rdx, 56(%r8)
    jmp   2f
1:  movq  $-1, 48(%r8)
    movq  $-1, 56(%r8)
2:  /* signed divide of sign-extended a by b (b != 0, not MIN/-1: checked by caller) */
    movq  %rdi, %rax
    cqto
    idivq %rsi
    movq  %rax, 64(%r8)
    movq  %rdx, 72(%r8)
    ret

/* void x86_shld_shrd(uint64 a, uint64 b, uint64 n, uint64 out[2]): shld/shrd a, b by n (count masked to 6 bits) */
x86_shld_shrd:
    movq  %rcx, %r8
    movq  %rdx, %rcx
    movq  %rdi, %rax
    shldq %cl, %rsi, %rax
    movq  %rax, (%r8)
    movq  %rdi, %rax
    shrdq %cl, %rsi, %rax
    movq  %rax, 8(%r8)
    ret

/* uint64 x86_bt_mem(uint8 *base, int64 bitoff): bt/bts/btr/btc on memory with a
 * register offset (may address bytes far from base); returns CF bits of the
 * four operations in bits 0..3 */
x86_bt_mem:
    xorl  %eax, %eax
    btq   %rsi, (%rdi)
    setc  %al
    btsq  %rsi, (%rdi)
    setc  %cl
    movzbl %cl, %ecx
    shll  $1, %ecx
    orl   %ecx, %eax
    btrq  %rsi, (%rdi)
    setc  %cl
    movzbl %cl, %ecx
    shll  $2, %ecx
    orl   %ecx, %eax
    btcq  %rsi, (%rdi)
    setc  %cl
    movzbl %cl, %ecx
    shll  $3, %ecx
    orl   %ecx, %eax
    ret

/* uint64 x86_bsf_bsr(uint64 x): bsf | bsr << 8 | zf << 16 (x != 0 required for the indices) */
x86_bsf_bsr:
    xorl  %eax, %eax
    xorl  %edx, %edx
    bsfq  %rdi, %rax
    setz  %cl
    bsrq  %rdi, %rdx
    shlq  $8, %rdx
    orq   %rdx, %rax
    movzbq %cl, %rcx
    shlq  $16, %rcx
    orq   %rcx, %rax
    ret

/* void x86_misc(uint64 x, uint64 out[10]) */
x86_misc:
    movq  %rdi, %rax
    bswapq %rax
    movq  %rax, (%rsi)
    movq  %rdi, %rax
    bswapl %eax                  /* 32-bit bswap zero-extends */
    movq  %rax, 8(%rsi)
    movq  %rdi, %rax
    cbtw                         /* cbw: ax = sign-extend al; upper 48 bits kept */
    movq  %rax, 16(%rsi)
    movq  %rdi, %rax
    cwtl                         /* cwde: eax = sign-extend ax; zero-extends to rax */
    movq  %rax, 24(%rsi)
    movq  %rdi, %rax
    cltq                         /* cdqe */
    movq  %rax, 32(%rsi)
    movq  %rdi, %rax
    cqto                         /* rdx = sign of rax */
    movq  %rdx, 40(%rsi)
    movq  %rdi, %rax
    movb  $0x5a, %ah             /* writes bits 8..15 only */
    movq  %rax, 48(%rsi)
    movq  %rdi, %rax
    movw  $0x1234, %ax           /* 16-bit write keeps bits 16..63 */
    movq  %rax, 56(%rsi)
    movq  %rdi, %rax
    movsbq %al, %rcx
    movzwl %ax, %edx
    addq  %rdx, %rcx
    movq  %rcx, 64(%rsi)
    movq  %rdi, %rax
    movq  $5, %rcx
    xaddq %rax, %rcx             /* rcx = 5 + x, rax = 5 */
    addq  %rax, %rcx
    movq  %rcx, 72(%rsi)
    ret

/* uint64 x86_cmpxchg(uint64 *p, uint64 expected, uint64 desired): lock cmpxchg;
 * returns rax after | zf << 63 */
x86_cmpxchg:
    movq  %rsi, %rax
    lock cmpxchgq %rdx, (%rdi)
    setz  %cl
    movzbq %cl, %rcx
    shlq  $63, %rcx
    orq   %rcx, %rax
    ret

/* int x86_cmpxchg16b(uint64 p[2] (16-byte aligned), const uint64 expected[2], const uint64 desired[2], uint64 seen[2]) */
x86_cmpxchg16b:
    pushq %rbx
    movq  %rdx, %r8
    movq  %rcx, %r9
    movq  (%rsi), %rax
    movq  8(%rsi), %rdx
    movq  (%r8), %rbx
    movq  8(%r8), %rcx
    lock cmpxchg16b (%rdi)
    setz  %r10b
    movq  %rax, (%r9)
    movq  %rdx, 8(%r9)
    movzbl %r10b, %eax
    popq  %rbx
    ret

/* void x86_strings(uint8 buf[256], uint64 out[6]); buf[i] == i on entry */
x86_strings:
    movq  %rsi, %r11            /* out */
    movq  %rdi, %r9             /* buf */
    cld
    /* 1. forward copy buf[0..15] -> buf[100..115] */
    movq  %r9, %rsi
    leaq  100(%r9), %rdi
    movl  $16, %ecx
    rep movsb
    movq  %rdi, %rax
    subq  %r9, %rax
    movq  %rax, 0(%r11)         /* 116 */
    /* 2. overlapping backward copy buf[100..115] -> buf[104..119] with DF=1 */
    leaq  115(%r9), %rsi
    leaq  119(%r9), %rdi
    movl  $16, %ecx
    std
    rep movsb
    cld
    movq  %rsi, %rax
    subq  %r9, %rax
    movq  %rax, 8(%r11)         /* 99 */
    /* 3. fill buf[200..209] with 0x20 (a value not present in buf[150..199]) */
    leaq  200(%r9), %rdi
    movb  $0x20, %al
    movl  $10, %ecx
    rep stosb
    /* 4. repne scasb for 0x20 starting at buf[150], at most 100 bytes */
    leaq  150(%r9), %rdi
    movl  $100, %ecx
    repne scasb
    movq  %rcx, 16(%r11)        /* remaining count: 49 */
    movq  %rdi, %rax
    subq  %r9, %rax
    movq  %rax, 24(%r11)        /* 201: one past the match */
    /* 5. repe cmpsb buf[0..] vs buf[104..] for up to 40 bytes */
    movq  %r9, %rsi
    leaq  104(%r9), %rdi
    movl  $40, %ecx
    repe cmpsb
    movq  %rcx, 32(%r11)        /* 23: stopped after the 17th byte */
    /* 6. lodsq from buf+104, then rep stosq that value into buf[224..255] */
    leaq  104(%r9), %rsi
    lodsq
    movq  %rax, 40(%r11)
    leaq  224(%r9), %rdi
    movl  $4, %ecx
    rep stosq
    ret

    .section .note.GNU-stack,"",@progbits
