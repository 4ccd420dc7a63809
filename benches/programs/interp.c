/* A bytecode interpreter (register machine, one switch per instruction,
 * compiled to an indirect jump through a table) running a fixed program:
 * for every i below a bound, the Collatz sequence length of i plus a
 * prime test by trial division. The interpreter's answers are checked
 * against the same computation in C. Size: the bound. */
#include "common.h"

enum op { LI, MOV, ADD, ADDI, SUB, MUL, DIVU, REMU, SHRI, ANDI, BEQ, BNE, BLTU, JMP, CALL, RET, HALT };

struct insn {
    uint8_t op, a, b, c;
    int32_t imm;
};

#define I(o, a, b, c, imm) {o, a, b, c, imm}

/* Registers: r0 = bound, r1 = i, r2 = collatz total, r3 = prime count,
 * r4 = n, r5 = steps, r6 = tmp, r7 = divisor, r8 = tmp2, r9 = zero, r10 = one. */
static const struct insn program[] = {
    /* 0 */ I(LI, 1, 0, 0, 2),
    /* 1 */ I(LI, 9, 0, 0, 0),
    /* 2 */ I(LI, 10, 0, 0, 1),
    /* 3 loop: */ I(BEQ, 1, 0, 0, 27),
    /* 4 */ I(MOV, 4, 1, 0, 0),
    /* 5 */ I(LI, 5, 0, 0, 0),
    /* 6 collatz: */ I(BEQ, 4, 10, 0, 14),
    /* 7 */ I(ANDI, 6, 4, 0, 1),
    /* 8 */ I(BEQ, 6, 9, 0, 12),
    /* 9 odd: */ I(MUL, 4, 4, 11, 0), /* r11 = 3 */
    /* 10 */ I(ADDI, 4, 4, 0, 1),
    /* 11 */ I(JMP, 0, 0, 0, 13),
    /* 12 even: */ I(SHRI, 4, 4, 0, 1),
    /* 13 */ I(ADDI, 5, 5, 0, 1), /* fallthrough to 6 via JMP below */
    /* 14 */ I(BNE, 4, 10, 0, 6),
    /* 15 */ I(ADD, 2, 2, 5, 0),
    /* 16 */ I(CALL, 0, 0, 0, 29), /* r6 = is_prime(r1) */
    /* 17 */ I(ADD, 3, 3, 6, 0),
    /* 18 */ I(ADDI, 1, 1, 0, 1),
    /* 19 */ I(JMP, 0, 0, 0, 3),
    /* 20..26 unused */ I(HALT, 0, 0, 0, 0), I(HALT, 0, 0, 0, 0), I(HALT, 0, 0, 0, 0),
    I(HALT, 0, 0, 0, 0), I(HALT, 0, 0, 0, 0), I(HALT, 0, 0, 0, 0), I(HALT, 0, 0, 0, 0),
    /* 27 done: */ I(HALT, 0, 0, 0, 0),
    /* 28 */ I(HALT, 0, 0, 0, 0),
    /* 29 is_prime: */ I(LI, 7, 0, 0, 2),
    /* 30 ploop: */ I(MUL, 8, 7, 7, 0),
    /* 31 */ I(BLTU, 1, 8, 0, 36),
    /* 32 */ I(REMU, 8, 1, 7, 0),
    /* 33 */ I(BEQ, 8, 9, 0, 38),
    /* 34 */ I(ADDI, 7, 7, 0, 1),
    /* 35 */ I(JMP, 0, 0, 0, 30),
    /* 36 prime: */ I(LI, 6, 0, 0, 1),
    /* 37 */ I(RET, 0, 0, 0, 0),
    /* 38 composite: */ I(LI, 6, 0, 0, 0),
    /* 39 */ I(RET, 0, 0, 0, 0),
};

static uint64_t steps_executed;

static void run(uint64_t *r) {
    const struct insn *pc = program;
    const struct insn *stack[16];
    int sp = 0;
    uint64_t n = 0;
    for (;;) {
        const struct insn in = *pc++;
        n++;
        switch (in.op) {
        case LI: r[in.a] = (uint64_t)(int64_t)in.imm; break;
        case MOV: r[in.a] = r[in.b]; break;
        case ADD: r[in.a] = r[in.b] + r[in.c]; break;
        case ADDI: r[in.a] = r[in.b] + (uint64_t)(int64_t)in.imm; break;
        case SUB: r[in.a] = r[in.b] - r[in.c]; break;
        case MUL: r[in.a] = r[in.b] * r[in.c]; break;
        case DIVU: r[in.a] = r[in.c] ? r[in.b] / r[in.c] : ~0ull; break;
        case REMU: r[in.a] = r[in.c] ? r[in.b] % r[in.c] : r[in.b]; break;
        case SHRI: r[in.a] = r[in.b] >> in.imm; break;
        case ANDI: r[in.a] = r[in.b] & (uint64_t)(int64_t)in.imm; break;
        case BEQ: if (r[in.a] == r[in.b]) pc = program + in.imm; break;
        case BNE: if (r[in.a] != r[in.b]) pc = program + in.imm; break;
        case BLTU: if (r[in.a] < r[in.b]) pc = program + in.imm; break;
        case JMP: pc = program + in.imm; break;
        case CALL: stack[sp++] = pc; pc = program + in.imm; break;
        case RET: pc = stack[--sp]; break;
        case HALT: steps_executed = n; return;
        default: fail("interp", "bad opcode");
        }
    }
}

int main(int argc, char **argv) {
    uint64_t bound = (uint64_t)arg_size(argc, argv, 500000);
    uint64_t r[16] = {0};
    r[0] = bound;
    r[11] = 3;
    run(r);
    /* The same computation in C. */
    uint64_t total = 0, primes = 0;
    for (uint64_t i = 2; i < bound; i++) {
        uint64_t x = i, s = 0;
        while (x != 1) {
            x = (x & 1) ? 3 * x + 1 : x >> 1;
            s++;
        }
        total += s;
        uint64_t d = 2;
        while (d * d <= i && i % d)
            d++;
        primes += d * d > i;
    }
    if (r[2] != total || r[3] != primes)
        fail("interp", "interpreted result differs from the C computation");
    printf("interp collatz %llu primes %llu steps %llu\n", (unsigned long long)total,
           (unsigned long long)primes, (unsigned long long)steps_executed);
    report("interp", mix(mix(total, primes), steps_executed));
    return 0;
}
