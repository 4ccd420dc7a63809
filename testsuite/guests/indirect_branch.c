/* Indirect control flow.
 * Function pointers: a table of function pointers indexed by data, a
 * dispatch loop calling through the table, callbacks passed to library
 * functions (qsort comparator, atexit handlers, which print after main
 * returns in reverse registration order), functions returning function
 * pointers, pointers to functions with many/floating arguments, a struct of
 * "methods" (vtable by hand), and recursion through a pointer.
 * Switches: dense switches that compilers turn into jump tables (indirect
 * branches through a table in .rodata), a dense switch on characters, a
 * sparse switch (compare tree), fall-through chains, values outside the
 * table range (default), GNU computed goto (labels as values) in a
 * threaded-code interpreter, and a switch-based bytecode VM.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include "guest.h"

typedef int64_t (*binop)(int64_t, int64_t);
/* Arithmetic wraps (done in unsigned: signed overflow would be undefined). */
static int64_t op_add(int64_t a, int64_t b) { return (int64_t)((uint64_t)a + (uint64_t)b); }
static int64_t op_sub(int64_t a, int64_t b) { return (int64_t)((uint64_t)a - (uint64_t)b); }
static int64_t op_mul(int64_t a, int64_t b) { return (int64_t)((uint64_t)a * (uint64_t)b); }
static int64_t op_div(int64_t a, int64_t b) { return b == 0 || (a == INT64_MIN && b == -1) ? 0 : a / b; }
static int64_t op_xor(int64_t a, int64_t b) { return a ^ b; }
static int64_t op_shl(int64_t a, int64_t b) { return (int64_t)((uint64_t)a << (b & 63)); }
static int64_t op_min(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t op_max(int64_t a, int64_t b) { return a > b ? a : b; }
static const binop table[8] = {op_add, op_sub, op_mul, op_div, op_xor, op_shl, op_min, op_max};
static const char *const names[8] = {"add", "sub", "mul", "div", "xor", "shl", "min", "max"};

static binop choose(int k) { return table[k & 7]; }

typedef double (*fmix)(double, float, int, double, long, double, double, double, double, double, int);
static double mix(double a, float b, int c, double d, long e, double f, double g, double h, double i, double j,
                  int k) {
    return a + b * 2 + c * 3 + d * 4 + (double)e * 5 + f * 6 + g * 7 + h * 8 + i * 9 + j * 10 + k * 11;
}

struct ops {
    const char *name;
    int (*init)(int);
    int (*step)(int, int);
    void (*report)(const char *, int);
};
static int init_a(int x) { return x * 2; }
static int step_a(int s, int i) { return s * 3 + i; }
static int init_b(int x) { return -x; }
static int step_b(int s, int i) { return s ^ (i << 3); }
static void report(const char *n, int v) { printf("  %s -> %d\n", n, v); }
static const struct ops objs[2] = {{"a", init_a, step_a, report}, {"b", init_b, step_b, report}};

static unsigned long (*volatile fact_ptr)(unsigned);
static unsigned long fact(unsigned n) { return n <= 1 ? 1 : n * fact_ptr(n - 1); }

static int cmp_desc(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x < y) - (x > y);
}

static void at1(void) { printf("atexit handler 1 (registered first, runs last)\n"); }
static void at2(void) { printf("atexit handler 2\n"); }
static void at3(void) { printf("atexit handler 3 (registered last, runs first)\n"); }

static void funcptr_tests(void) {
    /* Each op applied to fixed operands. */
    for (int k = 0; k < 8; k++) printf("%s(1000, -7) = %lld\n", names[k], (long long)table[k](1000, -7));
    /* A dispatch loop driven by generated data. */
    uint64_t st = 5;
    int64_t acc = 1;
    unsigned counts[8] = {0};
    for (int i = 0; i < 100000; i++) {
        uint64_t r = guest_rand(&st);
        int k = (int)(r & 7);
        counts[k]++;
        acc = choose(k)(acc, (int64_t)(r >> 40) | 1);
        if (acc == 0) acc = 1;
    }
    printf("dispatch loop acc=%lld counts:", (long long)acc);
    for (int k = 0; k < 8; k++) printf(" %u", counts[k]);
    printf("\n");
    /* Many mixed arguments through a pointer (stack-passed args). */
    fmix fm = mix;
    double m = fm(1.5, 2.25f, 3, 4.5, 5, 6.5, 7.5, 8.5, 9.5, 10.5, 11);
    printf("mix via pointer = %g\n", m);
    CHECK(m == 1.5 + 4.5 + 9 + 18 + 25 + 39 + 52.5 + 68 + 85.5 + 105 + 121);
    /* Hand-made vtables. */
    for (int o = 0; o < 2; o++) {
        int s = objs[o].init(7);
        for (int i = 0; i < 10; i++) s = objs[o].step(s, i);
        objs[o].report(objs[o].name, s);
    }
    fact_ptr = fact;
    printf("fact(20) via pointer recursion = %lu\n", fact_ptr(20));
    CHECK(fact_ptr(20) == 2432902008176640000ul);
    int arr[10] = {5, 2, 9, 1, 7, 3, 8, 6, 4, 0};
    qsort(arr, 10, sizeof arr[0], cmp_desc);
    printf("qsort callback desc:");
    for (int i = 0; i < 10; i++) printf(" %d", arr[i]);
    printf("\n");
    CHECK(arr[0] == 9 && arr[9] == 0);
    atexit(at1);
    atexit(at2);
    atexit(at3);
}

__attribute__((noinline)) static int dense(int x) {
    switch (x) {
    case 0: return 11;
    case 1: return 23;
    case 2: return 37;
    case 3: return 41;
    case 4: return 59;
    case 5: return 67;
    case 6: return 73;
    case 7: return 89;
    case 8: return 97;
    case 9: return 101;
    case 10: return 113;
    case 11: return 127;
    case 12: return 131;
    case 13: return 149;
    case 14: return 151;
    case 15: return 163;
    case 17: return 179;
    case 18: return 181;
    case 19: return 191;
    default: return -1;
    }
}

__attribute__((noinline)) static int classify(unsigned char c) {
    switch (c) {
    case 'a': case 'e': case 'i': case 'o': case 'u': return 1;
    case 'b': case 'c': case 'd': case 'f': case 'g': case 'h': case 'j': case 'k': case 'l': case 'm':
    case 'n': case 'p': case 'q': case 'r': case 's': case 't': case 'v': case 'w': case 'x': case 'y':
    case 'z': return 2;
    case '0': case '1': case '2': case '3': case '4': case '5': case '6': case '7': case '8': case '9': return 3;
    case ' ': case '\t': case '\n': return 4;
    default: return 0;
    }
}

__attribute__((noinline)) static int sparse(long x) {
    switch (x) {
    case -1000000: return 1;
    case -5: return 2;
    case 0: return 3;
    case 7: return 4;
    case 100: return 5;
    case 4096: return 6;
    case 65537: return 7;
    case 1L << 40: return 8;
    default: return 0;
    }
}

__attribute__((noinline)) static int fallthrough(int x) {
    int r = 0;
    switch (x) {
    case 5: r += 1; /* fall through */
    case 4: r += 10; /* fall through */
    case 3: r += 100; /* fall through */
    case 2: r += 1000; break;
    case 1: r = -1; break;
    default: r = 42;
    }
    return r;
}

/* Threaded code with computed goto. */
enum { T_PUSH, T_ADD, T_MUL, T_DUP, T_SWAP, T_DEC, T_JNZ, T_POP, T_HALT };
static long threaded(const int *code) {
    static void *const labels[] = {&&push, &&add, &&mul, &&dup, &&swap, &&dec, &&jnz, &&pop, &&halt};
    long stack[64];
    int sp = 0, pc = 0;
#define NEXT goto *labels[code[pc++]]
    NEXT;
push:
    stack[sp++] = code[pc++];
    NEXT;
add:
    sp--;
    stack[sp - 1] += stack[sp];
    NEXT;
mul:
    sp--;
    stack[sp - 1] *= stack[sp];
    NEXT;
dup:
    stack[sp] = stack[sp - 1];
    sp++;
    NEXT;
swap: {
    long t = stack[sp - 1];
    stack[sp - 1] = stack[sp - 2];
    stack[sp - 2] = t;
}
    NEXT;
dec:
    stack[sp - 1]--;
    NEXT;
jnz: {
    int target = code[pc++];
    if (stack[sp - 1]) pc = target;
}
    NEXT;
pop:
    sp--;
    NEXT;
halt:
    return stack[sp - 1];
#undef NEXT
}

/* A switch-dispatched VM: counts primes below N by trial division. */
enum { OP_LOADI, OP_MOV, OP_ADD, OP_ADDI, OP_MUL, OP_MOD, OP_JGE, OP_JZ, OP_JMP, OP_HALT };
struct insn {
    unsigned char op, a, b, c;
    int imm;
};
static long run_vm(const struct insn *prog, long *reg) {
    long steps = 0;
    for (int pc = 0;;) {
        const struct insn *in = &prog[pc++];
        steps++;
        switch (in->op) {
        case OP_LOADI: reg[in->a] = in->imm; break;
        case OP_MOV: reg[in->a] = reg[in->b]; break;
        case OP_ADD: reg[in->a] = reg[in->b] + reg[in->c]; break;
        case OP_ADDI: reg[in->a] = reg[in->b] + in->imm; break;
        case OP_MUL: reg[in->a] = reg[in->b] * reg[in->c]; break;
        case OP_MOD: reg[in->a] = reg[in->b] % reg[in->c]; break;
        case OP_JGE: if (reg[in->a] >= reg[in->b]) pc = in->imm; break;
        case OP_JZ: if (reg[in->a] == 0) pc = in->imm; break;
        case OP_JMP: pc = in->imm; break;
        case OP_HALT: return steps;
        }
    }
}

static void switch_tests(void) {
    int sum = 0;
    printf("dense:");
    for (volatile int x = -3; x < 25; x++) {
        int r = dense(x);
        sum += r * (x + 5);
        printf(" %d", r);
    }
    printf("\ndense weighted sum %d\n", sum);
    CHECK(dense(16) == -1 && dense(19) == 191 && dense(-1) == -1);
    const char *text = "The 3 quick brown foxes jumped over 12 lazy dogs!\n\tEnd.";
    int counts[5] = {0};
    for (const char *p = text; *p; p++) counts[classify((unsigned char)*p)]++;
    printf("classify: other=%d vowel=%d consonant=%d digit=%d space=%d\n", counts[0], counts[1], counts[2], counts[3],
           counts[4]);
    CHECK(counts[3] == 3);
    long probes[] = {-1000000, -999999, -5, 0, 7, 8, 100, 4096, 4097, 65537, 1L << 40, (1L << 40) + 1};
    printf("sparse:");
    for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++) printf(" %d", sparse(probes[i]));
    printf("\nfallthrough:");
    for (int x = 0; x <= 6; x++) printf(" %d", fallthrough(x));
    printf("\n");
    CHECK(fallthrough(5) == 1111 && fallthrough(1) == -1 && fallthrough(6) == 42);
    /* Threaded code: ((2+3)*4)*(5+6) */
    const int code2[] = {T_PUSH, 2, T_PUSH, 3, T_ADD, T_PUSH, 4, T_MUL, T_PUSH, 5, T_PUSH, 6, T_ADD, T_MUL, T_HALT};
    long t2 = threaded(code2);
    /* Countdown loop: push 1000000, then dec/jnz back to the dec. */
    const int code3[] = {T_PUSH, 1000000, T_DEC, T_JNZ, 2, T_PUSH, 99, T_ADD, T_HALT};
    long t3 = threaded(code3);
    printf("threaded: %ld %ld\n", t2, t3);
    CHECK(t2 == 220 && t3 == 99);
    /* VM registers: r0=count r1=n r2=d r3=limit r4=d*d r5=n%d */
    const struct insn vmprog[] = {
        {OP_LOADI, 0, 0, 0, 0},    /* 0 count=0 */
        {OP_LOADI, 1, 0, 0, 2},    /* 1 n=2 */
        {OP_LOADI, 3, 0, 0, 3000}, /* 2 limit */
        {OP_JGE, 1, 3, 0, 15},     /* 3 n>=limit -> halt */
        {OP_LOADI, 2, 0, 0, 2},    /* 4 d=2 */
        {OP_MUL, 4, 2, 2, 0},      /* 5 tmp=d*d */
        {OP_JGE, 1, 4, 0, 9},      /* 6 n>=d*d -> test divisor */
        {OP_ADDI, 0, 0, 0, 1},     /* 7 no divisor found: prime */
        {OP_JMP, 0, 0, 0, 13},     /* 8 -> next n */
        {OP_MOD, 5, 1, 2, 0},      /* 9 r5=n%d */
        {OP_JZ, 5, 0, 0, 13},      /* 10 divisible -> next n */
        {OP_ADDI, 2, 2, 0, 1},     /* 11 d++ */
        {OP_JMP, 0, 0, 0, 5},      /* 12 -> loop on d */
        {OP_ADDI, 1, 1, 0, 1},     /* 13 n++ */
        {OP_JMP, 0, 0, 0, 3},      /* 14 -> loop on n */
        {OP_HALT, 0, 0, 0, 0},     /* 15 */
    };
    long reg[8] = {0};
    long steps = run_vm(vmprog, reg);
    printf("vm: primes below 3000 = %ld in %ld steps\n", reg[0], steps);
    CHECK(reg[0] == 430);
}

int main(void) {
    switch_tests();
    funcptr_tests(); /* registers the atexit handlers: their output comes last */
    printf("indirect_branch done, failures=%d\n", guest_failures);
    return guest_status();
}
