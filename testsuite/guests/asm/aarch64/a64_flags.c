/* Driver for asm/aarch64/a64_flags.S (aarch64 only): NZCV after flag-setting
 * arithmetic (64- and 32-bit), carry chains, every condition code after CMP
 * and after MSR NZCV, CCMP/CCMN compound conditions, CSEL family.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include "guest.h"

extern uint64_t a64_flag_op(int, uint64_t, uint64_t, uint64_t, uint64_t *);
extern void a64_add256(const uint64_t *, const uint64_t *, uint64_t *);
extern void a64_sub256(const uint64_t *, const uint64_t *, uint64_t *);
extern uint32_t a64_cond_mask(int64_t, int64_t);
extern int a64_ccmp_chain(int64_t, int64_t, int64_t);
extern void a64_cs_family(int64_t, int64_t, int64_t *);
extern uint32_t a64_msr_nzcv(uint64_t);

static const char *opnames[] = {"adds", "adcs", "subs", "sbcs", "negs", "ands", "adds.w", "subs.w", "adcs.w"};

static void nzcv_str(uint64_t f, char *s) {
    s[0] = f & 8 ? 'N' : '-';
    s[1] = f & 4 ? 'Z' : '-';
    s[2] = f & 2 ? 'C' : '-';
    s[3] = f & 1 ? 'V' : '-';
    s[4] = 0;
}

int main(void) {
    const uint64_t vals[][2] = {{0, 0},
                                {1, 1},
                                {UINT64_MAX, 1},
                                {0x7fffffffffffffffull, 1},
                                {0x8000000000000000ull, 0x8000000000000000ull},
                                {5, 7},
                                {7, 5},
                                {0x80000000ull, 0x80000000ull},
                                {0xffffffffull, 1},
                                {0x7fffffffull, 0xffffffff00000001ull}};
    for (unsigned v = 0; v < sizeof vals / sizeof vals[0]; v++) {
        printf("a=%016" PRIx64 " b=%016" PRIx64 "\n", vals[v][0], vals[v][1]);
        for (int op = 0; op < 9; op++)
            for (uint64_t cin = 0; cin < 2; cin++) {
                if (cin && op != 1 && op != 3 && op != 8) continue;
                uint64_t f;
                char s[5];
                uint64_t r = a64_flag_op(op, vals[v][0], vals[v][1], cin, &f);
                nzcv_str(f, s);
                printf("  %-6s c=%d -> %016" PRIx64 " %s\n", opnames[op], (int)cin, r, s);
            }
    }
    uint64_t f;
    a64_flag_op(0, UINT64_MAX, 1, 0, &f);
    CHECK(f == 0x6); /* Z and C */
    a64_flag_op(2, 5, 7, 0, &f);
    CHECK(f == 0x8); /* N, borrow => C clear */
    a64_flag_op(0, 0x7fffffffffffffffull, 1, 0, &f);
    CHECK(f == 0x9); /* N and V */
    CHECK(a64_flag_op(1, 1, 1, 1, &f) == 3 && a64_flag_op(3, 5, 3, 0, &f) == 1);

    uint64_t a[4] = {UINT64_MAX, UINT64_MAX, 0, 0x8000000000000000ull}, b[4] = {1, 0, UINT64_MAX, 0x8000000000000000ull};
    uint64_t out[5];
    a64_add256(a, b, out);
    printf("add256: %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " carry=%" PRIu64 "\n", out[3], out[2],
           out[1], out[0], out[4]);
    CHECK(out[0] == 0 && out[1] == 0 && out[2] == 0 && out[3] == 1 && out[4] == 1);
    a64_sub256(b, a, out);
    printf("sub256: %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " %016" PRIx64 " borrow=%" PRIu64 "\n", out[3], out[2],
           out[1], out[0], out[4]);

    const int64_t cmps[][2] = {{0, 0}, {1, 2}, {2, 1}, {-1, 1}, {1, -1}, {INT64_MIN, 1}, {INT64_MAX, -1}, {-5, -5}};
    printf("cond masks (eq ne cs cc mi pl vs vc hi ls ge lt gt le):\n");
    for (unsigned i = 0; i < sizeof cmps / sizeof cmps[0]; i++)
        printf("  cmp %" PRId64 ", %" PRId64 ": %04x\n", cmps[i][0], cmps[i][1], a64_cond_mask(cmps[i][0], cmps[i][1]));
    CHECK(a64_cond_mask(0, 0) == (1u | 1u << 2 | 1u << 5 | 1u << 7 | 1u << 9 | 1u << 10 | 1u << 13));
    printf("msr nzcv masks:");
    for (uint64_t fl = 0; fl < 16; fl++) printf(" %04x", a64_msr_nzcv(fl));
    printf("\n");
    CHECK(a64_msr_nzcv(6) == a64_cond_mask(0, 0) && a64_msr_nzcv(8) == a64_cond_mask(1, 2));
    const int64_t cc[][3] = {{1, 6, 1}, {1, 5, 1}, {1, 6, 0}, {2, 6, 1}, {-1, 3, 3}, {-3, 0, 1}, {0, 4, 4}};
    printf("ccmp chains:");
    for (unsigned i = 0; i < sizeof cc / sizeof cc[0]; i++) printf(" %d", a64_ccmp_chain(cc[i][0], cc[i][1], cc[i][2]));
    printf("\n");
    CHECK(a64_ccmp_chain(1, 6, 1) == 1 && a64_ccmp_chain(1, 5, 1) == 0 && a64_ccmp_chain(-1, 3, 3) == 2);
    CHECK(a64_ccmp_chain(-3, 0, 1) == 6 && a64_ccmp_chain(0, 4, 4) == 2);
    int64_t cs[5];
    const int64_t csp[][2] = {{3, 7}, {7, 3}, {5, 5}, {-4, 2}};
    for (unsigned i = 0; i < 4; i++) {
        a64_cs_family(csp[i][0], csp[i][1], cs);
        printf("cs family (%" PRId64 ",%" PRId64 "): csel=%" PRId64 " csinc=%" PRId64 " csinv=%" PRId64 " csneg=%" PRId64
               " cinc/cneg=%" PRId64 "\n",
               csp[i][0], csp[i][1], cs[0], cs[1], cs[2], cs[3], cs[4]);
    }
    a64_cs_family(3, 7, cs);
    CHECK(cs[0] == 3 && cs[1] == 8 && cs[2] == -8 && cs[3] == 3);
    printf("a64_flags done, failures=%d\n", guest_failures);
    return guest_status();
}
