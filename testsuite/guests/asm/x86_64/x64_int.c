/* Driver for asm/x86_64/x64_int.S (x86_64 only): defined EFLAGS after
 * arithmetic/logic/shift/rotate instructions (undefined flags are masked out
 * per instruction, so results do not depend on the CPU model), multi-word
 * carry chains, SETcc/CMOVcc, 128-bit multiply/divide, double shifts,
 * bit-string instructions on memory, BSF/BSR, sign extension and partial
 * registers, atomics (XADD, CMPXCHG, CMPXCHG16B), string instructions, and
 * SIGFPE (FPE_INTDIV) from DIV by zero and IDIV overflow.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

extern uint64_t x86_flag_op(int, uint64_t, uint64_t, uint64_t, uint64_t *);
extern void x86_add256(const uint64_t *, const uint64_t *, uint64_t *), x86_sub256(const uint64_t *, const uint64_t *, uint64_t *);
extern uint32_t x86_setcc_mask(int64_t, int64_t);
extern void x86_cmov(int64_t, int64_t, int64_t *), x86_muldiv(uint64_t, uint64_t, uint64_t *);
extern void x86_shld_shrd(uint64_t, uint64_t, uint64_t, uint64_t *), x86_misc(uint64_t, uint64_t *);
extern uint64_t x86_bt_mem(uint8_t *, int64_t), x86_bsf_bsr(uint64_t), x86_cmpxchg(uint64_t *, uint64_t, uint64_t);
extern int x86_cmpxchg16b(uint64_t *, const uint64_t *, const uint64_t *, uint64_t *);
extern void x86_strings(uint8_t *, uint64_t *);

#define CF 0x1
#define PF 0x4
#define AF 0x10
#define ZF 0x40
#define SF 0x80
#define OF 0x800
#define ALL (CF | PF | AF | ZF | SF | OF)

static const struct {
    const char *name;
    uint64_t defined; /* flags the SDM defines for this op (for counts != 0, count 1 for OF) */
} ops[] = {{"add", ALL},          {"adc", ALL},           {"sub", ALL},           {"sbb", ALL},
           {"neg", ALL},          {"inc", ALL & ~CF},     {"dec", ALL & ~CF},     {"and", CF | PF | ZF | SF | OF},
           {"shl", CF | PF | ZF | SF}, {"shr", CF | PF | ZF | SF}, {"sar", CF | PF | ZF | SF}, {"rcl", CF},
           {"rcr", CF},           {"rol", CF},            {"add32", ALL},         {"sub8", ALL}};

static void flagstr(uint64_t f, uint64_t mask, char *s) {
    const struct {
        uint64_t bit;
        char c;
    } t[] = {{OF, 'O'}, {SF, 'S'}, {ZF, 'Z'}, {AF, 'A'}, {PF, 'P'}, {CF, 'C'}};
    for (int i = 0; i < 6; i++) s[i] = !(mask & t[i].bit) ? '.' : (f & t[i].bit) ? t[i].c : '-';
    s[6] = 0;
}

static sigjmp_buf fpe_env;
static volatile int fpe_code;
static void on_fpe(int sig, siginfo_t *si, void *uc) {
    (void)sig;
    (void)uc;
    fpe_code = si->si_code;
    siglongjmp(fpe_env, 1);
}
__attribute__((noinline)) static uint64_t do_div(uint64_t a, uint64_t b) {
    uint64_t q;
    __asm__ volatile("xorl %%edx, %%edx\n\tdivq %2" : "=a"(q) : "a"(a), "r"(b) : "rdx", "cc");
    return q;
}
__attribute__((noinline)) static int64_t do_idiv(int64_t a, int64_t b) {
    int64_t q;
    __asm__ volatile("cqto\n\tidivq %2" : "=a"(q) : "a"(a), "r"(b) : "rdx", "cc");
    return q;
}

int main(void) {
    const uint64_t vals[][2] = {{0, 0}, {1, 1}, {UINT64_MAX, 1}, {0x7fffffffffffffffull, 1}, {0x8000000000000000ull, 1},
                                {0x0f, 0x01}, {5, 64}, {0x80000000ffffffffull, 63}, {0x12345678000000ffull, 0x81}};
    for (unsigned v = 0; v < sizeof vals / sizeof vals[0]; v++) {
        printf("a=%016" PRIx64 " b=%016" PRIx64 "\n", vals[v][0], vals[v][1]);
        for (int op = 0; op < 16; op++) {
            uint64_t b = vals[v][1];
            uint64_t mask = ops[op].defined;
            int is_shift = op >= 8 && op <= 13;
            if (is_shift && (b & 63) == 1) mask |= OF; /* OF is defined for 1-bit shifts/rotates */
            if (is_shift && (b & 63) == 0) mask = ALL; /* count 0: all flags unchanged */
            for (uint64_t fin = 0; fin <= ALL; fin += ALL) {
                if (fin && op != 1 && op != 3 && op != 5 && op != 6 && !(is_shift && (b & 63) == 0)) continue;
                uint64_t fout;
                char s[8];
                uint64_t r = x86_flag_op(op, vals[v][0], b, fin, &fout);
                flagstr(fout, mask, s);
                printf("  %-5s in=%s -> %016" PRIx64 " %s\n", ops[op].name, fin ? "all" : "0", r, s);
            }
        }
    }
    uint64_t f;
    x86_flag_op(0, UINT64_MAX, 1, 0, &f);
    CHECK((f & (CF | ZF | AF | OF | SF)) == (CF | ZF | AF));
    x86_flag_op(0, 0x7fffffffffffffffull, 1, 0, &f);
    CHECK((f & (OF | SF | CF)) == (OF | SF));
    x86_flag_op(8, 5, 64, ALL, &f); /* shl by 64 -> masked to 0: flags unchanged */
    CHECK((f & ALL) == ALL);
    CHECK(x86_flag_op(5, UINT64_MAX, 0, CF, &f) == 0 && (f & CF)); /* inc keeps CF */
    CHECK(x86_flag_op(14, 0xffffffff00000001ull, 0xffffffff, 0, &f) == 0);
    CHECK(x86_flag_op(15, 0x1234567800000001ull, 2, 0, &f) == 0x12345678000000ffull && (f & CF));

    uint64_t a[4] = {UINT64_MAX, UINT64_MAX, 0, 0x8000000000000000ull}, b[4] = {1, 0, UINT64_MAX, 0x8000000000000000ull}, o[5];
    x86_add256(a, b, o);
    printf("add256 = %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " carry %" PRIu64 "\n", o[3], o[2], o[1], o[0], o[4]);
    CHECK(o[0] == 0 && o[1] == 0 && o[2] == 0 && o[3] == 1 && o[4] == 1);
    x86_sub256(b, a, o);
    printf("sub256 = %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " borrow %" PRIu64 "\n", o[3], o[2], o[1], o[0], o[4]);

    const int64_t cmps[][2] = {{0, 0}, {1, 2}, {2, 1}, {-1, 1}, {1, -1}, {INT64_MIN, 1}, {INT64_MAX, -1}, {3, 0}};
    printf("setcc masks (o no b ae e ne be a s ns p np l ge le g):\n");
    for (unsigned i = 0; i < sizeof cmps / sizeof cmps[0]; i++)
        printf("  cmp %" PRId64 ", %" PRId64 ": %04x\n", cmps[i][0], cmps[i][1], x86_setcc_mask(cmps[i][0], cmps[i][1]));
    CHECK(x86_setcc_mask(0, 0) == (0x2 | 0x8 | 0x10 | 0x40 | 0x200 | 0x400 | 0x2000 | 0x4000));
    int64_t cm[4];
    x86_cmov(3, 7, cm);
    printf("cmov(3,7): %" PRId64 " %" PRId64 " %016" PRIx64 " %" PRId64 "\n", cm[0], cm[1], (uint64_t)cm[2], cm[3]);
    CHECK(cm[0] == 3 && cm[1] == 222 && cm[2] == 0xffffffff && cm[3] == 3);
    x86_cmov(-5, -5, cm);
    printf("cmov(-5,-5): %" PRId64 " %" PRId64 " %016" PRIx64 " %" PRId64 "\n", cm[0], cm[1], (uint64_t)cm[2], cm[3]);
    CHECK(cm[2] == 0xfffffffbull);

    const uint64_t md[][2] = {{UINT64_MAX, UINT64_MAX}, {0x123456789abcdef0ull, 0xfedcba9876543210ull}, {7, 3},
                              {(uint64_t)-7, 2}, {0x100000000ull, 0x100000001ull}, {(uint64_t)INT64_MIN, 2}};
    for (unsigned i = 0; i < sizeof md / sizeof md[0]; i++) {
        uint64_t r[10];
        x86_muldiv(md[i][0], md[i][1], r);
        printf("muldiv(%016" PRIx64 ",%016" PRIx64 "): mul=%016" PRIx64 ":%016" PRIx64 " cf=%" PRIu64 " imul=%016" PRIx64
               ":%016" PRIx64 " of=%" PRIu64 " div=%016" PRIx64 " r%016" PRIx64 " idiv=%" PRId64 " r%" PRId64 "\n",
               md[i][0], md[i][1], r[1], r[0], r[2], r[4], r[3], r[5], r[6], r[7], (int64_t)r[8], (int64_t)r[9]);
    }
    const uint64_t sn[] = {0, 1, 4, 63, 64, 68};
    for (unsigned i = 0; i < sizeof sn / sizeof sn[0]; i++) {
        uint64_t r[2];
        x86_shld_shrd(0x0123456789abcdefull, 0xfedcba9876543210ull, sn[i], r);
        printf("shld/shrd n=%" PRIu64 ": %016" PRIx64 " %016" PRIx64 "\n", sn[i], r[0], r[1]);
    }
    uint8_t bits[64];
    memset(bits, 0, sizeof bits);
    uint8_t *base = bits + 24;
    const int64_t offs[] = {0, 5, 63, 64, 100, -1, -64, -150, 200};
    printf("bt/bts/btr/btc CF bits:");
    for (unsigned i = 0; i < sizeof offs / sizeof offs[0]; i++) printf(" %" PRId64 ":%" PRIx64, offs[i], x86_bt_mem(base, offs[i]));
    printf(" memory fnv=%016" PRIx64 "\n", guest_fnv(bits, sizeof bits));
    /* Each call leaves the bit set (bt, bts, btr, btc). With the bit already
     * set: CF = 1, 1, 1, 0.  Bit 100 is byte 12, bit 4. */
    CHECK(base[12] == 0x10 && x86_bt_mem(base, 100) == 7 && base[12] == 0x10);
    CHECK(x86_bt_mem(base, 5) == 7 && x86_bt_mem(base, -150) == 7);
    const uint64_t bs[] = {1, 0x8000000000000000ull, 0x00f0, 0x123456789abcdef0ull};
    printf("bsf|bsr<<8:");
    for (unsigned i = 0; i < 4; i++) printf(" %" PRIx64, x86_bsf_bsr(bs[i]));
    printf(" zero-input ZF=%" PRIu64 "\n", x86_bsf_bsr(0) >> 16);
    CHECK(x86_bsf_bsr(0x00f0) == (4 | 7 << 8) && (x86_bsf_bsr(0) >> 16) == 1);
    uint64_t mi[10];
    x86_misc(0x8899aabbccddee80ull, mi);
    printf("misc:");
    for (int i = 0; i < 10; i++) printf(" %016" PRIx64, mi[i]);
    printf("\n");
    CHECK(mi[0] == 0x80eeddccbbaa9988ull && mi[1] == 0x80eeddccull && mi[2] == 0x8899aabbccddff80ull);
    CHECK(mi[3] == 0xffffee80ull && mi[4] == 0xffffffffccddee80ull && mi[5] == UINT64_MAX);
    CHECK(mi[6] == 0x8899aabbccdd5a80ull && mi[7] == 0x8899aabbccdd1234ull);
    uint64_t cell = 10;
    uint64_t r1 = x86_cmpxchg(&cell, 10, 20), r2 = x86_cmpxchg(&cell, 10, 30);
    printf("cmpxchg: %016" PRIx64 " %016" PRIx64 " cell=%" PRIu64 "\n", r1, r2, cell);
    CHECK(r1 == (10 | 1ull << 63) && r2 == 20 && cell == 20);
    uint64_t dq[2] __attribute__((aligned(16))) = {1, 2}, seen[2];
    const uint64_t e1[2] = {1, 2}, d1[2] = {3, 4}, e2[2] = {1, 2}, d2[2] = {5, 6};
    int ok1 = x86_cmpxchg16b(dq, e1, d1, seen);
    int ok2 = x86_cmpxchg16b(dq, e2, d2, seen);
    printf("cmpxchg16b: first=%d second=%d seen=%" PRIu64 ",%" PRIu64 " now=%" PRIu64 ",%" PRIu64 "\n", ok1, ok2, seen[0],
           seen[1], dq[0], dq[1]);
    CHECK(ok1 == 1 && ok2 == 0 && seen[0] == 3 && dq[1] == 4);
    uint8_t sbuf[256];
    for (int i = 0; i < 256; i++) sbuf[i] = (uint8_t)i;
    uint64_t so[6];
    x86_strings(sbuf, so);
    printf("strings: movsb end=%" PRIu64 " std-movsb rsi=%" PRIu64 " scasb rcx=%" PRIu64 " rdi=%" PRIu64 " cmpsb rcx=%" PRIu64
           " lodsq=%016" PRIx64 " buf fnv=%016" PRIx64 "\n",
           so[0], so[1], so[2], so[3], so[4], so[5], guest_fnv(sbuf, 256));
    CHECK(so[0] == 116 && so[1] == 99 && so[2] == 49 && so[3] == 201 && so[4] == 23 && so[5] == 0x0706050403020100ull);
    CHECK(sbuf[104] == 0 && sbuf[119] == 15 && sbuf[100] == 0 && sbuf[255] == 7);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fpe;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigaction(SIGFPE, &sa, NULL);
    volatile uint64_t zero = 0;
    if (sigsetjmp(fpe_env, 1) == 0) {
        printf("div by zero: no trap?! %" PRIu64 "\n", do_div(5, zero));
    } else {
        printf("div by zero: SIGFPE %s\n", fpe_code == FPE_INTDIV ? "FPE_INTDIV" : "other code");
    }
    fpe_code = 0;
    if (sigsetjmp(fpe_env, 1) == 0) {
        printf("idiv overflow: no trap?! %" PRId64 "\n", do_idiv(INT64_MIN, -1 + (int64_t)zero));
    } else {
        printf("idiv INT64_MIN/-1: SIGFPE %s\n", fpe_code == FPE_INTDIV ? "FPE_INTDIV" : "other code");
    }
    printf("x64_int done, failures=%d\n", guest_failures);
    return guest_status();
}
