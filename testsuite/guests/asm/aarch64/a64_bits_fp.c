/* Driver for asm/aarch64/a64_bits_fp.S (aarch64 only): bit manipulation,
 * division/multiply corner cases, variable shifts, saturating and rounding
 * float->int conversions, FRINT modes, NaN handling of min/max and compares,
 * FPCR rounding/FZ/DN control and FPSR exception flags.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

extern void a64_bitops(uint64_t, uint64_t *), a64_divmul(int64_t, int64_t, int64_t *);
extern void a64_shifts(uint64_t, uint64_t, uint64_t *), a64_fcvt(double, int64_t *), a64_frint(double, double *);
extern void a64_fminmax(double, double, double *), a64_fpcr_ops(uint64_t, double, double, uint64_t *);
extern uint64_t a64_fcmp_nzcv(double, double);

static uint64_t bits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}
static double dbl(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}

int main(void) {
    static const char *bn[] = {"clz", "cls", "rbit", "rev", "rev16", "rev32", "ubfx", "sbfx", "bfi", "bfxil", "ubfiz", "extr"};
    const uint64_t xs[] = {0, 1, 0x8000000000000000ull, 0xffffffffffffffffull, 0x0123456789abcdefull, 0x00000000f0000000ull};
    for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        uint64_t o[12];
        a64_bitops(xs[i], o);
        printf("x=%016" PRIx64 ":", xs[i]);
        for (int k = 0; k < 12; k++) printf(" %s=%" PRIx64, bn[k], o[k]);
        printf("\n");
    }
    uint64_t o[12];
    a64_bitops(0x0123456789abcdefull, o);
    CHECK(o[0] == 7 && o[2] == 0xf7b3d591e6a2c480ull && o[3] == 0xefcdab8967452301ull && o[6] == 0x89abc);

    const int64_t dv[][2] = {{7, 0}, {-7, 0}, {INT64_MIN, -1}, {-7, 2}, {(int64_t)0x80000000, -1}, {-1, -1},
                             {0x123456789abcdefLL, -0x10000}};
    static const char *dn[] = {"sdiv", "udiv", "sdiv.w", "udiv.w", "smulh", "umulh", "madd", "msub", "smaddl", "umsubl"};
    for (unsigned i = 0; i < sizeof dv / sizeof dv[0]; i++) {
        int64_t r[10];
        a64_divmul(dv[i][0], dv[i][1], r);
        printf("a=%" PRId64 " b=%" PRId64 ":", dv[i][0], dv[i][1]);
        for (int k = 0; k < 10; k++) printf(" %s=%" PRIx64, dn[k], (uint64_t)r[k]);
        printf("\n");
    }
    int64_t r[10];
    a64_divmul(7, 0, r);
    CHECK(r[0] == 0 && r[1] == 0 && r[2] == 0);
    a64_divmul(INT64_MIN, -1, r);
    CHECK(r[0] == INT64_MIN && r[1] == 0);
    a64_divmul(0x80000000LL, -1, r);
    CHECK(r[2] == 0x80000000LL); /* W result zero-extended into X */

    const uint64_t sh[] = {0, 1, 31, 32, 33, 63, 64, 65, 127, 200};
    for (unsigned i = 0; i < sizeof sh / sizeof sh[0]; i++) {
        uint64_t s[8];
        a64_shifts(0x8000000180000001ull, sh[i], s);
        printf("n=%3" PRIu64 ": lsl=%016" PRIx64 " lsr=%016" PRIx64 " asr=%016" PRIx64 " ror=%016" PRIx64
               " | w: %08" PRIx64 " %08" PRIx64 " %08" PRIx64 " %08" PRIx64 "\n",
               sh[i], s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]);
    }
    uint64_t s8[8];
    a64_shifts(1, 65, s8);
    CHECK(s8[0] == 2 && s8[4] == 2);

    const double cv[] = {0.0, -0.5, 2.5, -2.5, 3.5, 1e19, -1e19, 2147483648.0, -2147483649.0, 4294967296.0, INFINITY,
                         -INFINITY, NAN, -0.0, 9.3e18};
    for (unsigned i = 0; i < sizeof cv / sizeof cv[0]; i++) {
        int64_t c[8];
        double f[7];
        a64_fcvt(cv[i], c);
        a64_frint(cv[i], f);
        printf("%-12.17g zs=%" PRId64 " zu=%" PRIx64 " zs.w=%" PRIx64 " zu.w=%" PRIx64 " ns=%" PRId64 " as=%" PRId64
               " ps=%" PRId64 " ms=%" PRId64 " | frint n=%g a=%g p=%g m=%g z=%g x=%g i=%g\n",
               cv[i], c[0], (uint64_t)c[1], (uint64_t)c[2], (uint64_t)c[3], c[4], c[5], c[6], c[7], f[0], f[1], f[2],
               f[3], f[4], f[5], f[6]);
    }
    int64_t c[8];
    a64_fcvt(NAN, c);
    CHECK(c[0] == 0 && c[1] == 0);
    a64_fcvt(1e19, c);
    CHECK(c[0] == INT64_MAX && c[2] == 0x7fffffff);
    a64_fcvt(-2.5, c);
    CHECK(c[4] == -2 && c[5] == -3 && c[6] == -2 && c[7] == -3);

    const double qn = dbl(0x7ff8000000000abcull), sn = dbl(0x7ff0000000000abcull);
    const double mm[][2] = {{1, 2}, {qn, 1}, {1, qn}, {sn, 1}, {-0.0, 0.0}, {0.0, -0.0}, {qn, sn}};
    for (unsigned i = 0; i < sizeof mm / sizeof mm[0]; i++) {
        double m[4];
        a64_fminmax(mm[i][0], mm[i][1], m);
        printf("minmax(%016" PRIx64 ",%016" PRIx64 "): maxnm=%016" PRIx64 " minnm=%016" PRIx64 " max=%016" PRIx64
               " min=%016" PRIx64 "\n",
               bits(mm[i][0]), bits(mm[i][1]), bits(m[0]), bits(m[1]), bits(m[2]), bits(m[3]));
    }
    double m[4];
    a64_fminmax(qn, 1, m);
    CHECK(m[0] == 1 && m[1] == 1 && bits(m[2]) == 0x7ff8000000000abcull);
    a64_fminmax(sn, 1, m);
    CHECK(bits(m[0]) == 0x7ff8000000000abcull); /* signaling NaN is quieted and propagated */
    printf("fcmp nzcv/fccmp/fcsel: (1,2)=%03" PRIx64 " (2,1)=%03" PRIx64 " (1,1)=%03" PRIx64 " (nan,1)=%03" PRIx64 "\n",
           a64_fcmp_nzcv(1, 2), a64_fcmp_nzcv(2, 1), a64_fcmp_nzcv(1, 1), a64_fcmp_nzcv(NAN, 1));
    CHECK((a64_fcmp_nzcv(NAN, 1) & 0xf) == 3 && (a64_fcmp_nzcv(1, 1) & 0xf) == 6);

    /* FPCR: RMode bits 23:22 (0 RN, 1 RP, 2 RM, 3 RZ), FZ bit 24, DN bit 25. */
    const char *rn[] = {"RN", "RP", "RM", "RZ"};
    for (uint64_t mode = 0; mode < 4; mode++) {
        uint64_t out[4];
        a64_fpcr_ops(mode << 22, 1.0 / 3.0, 3.0, out);
        printf("FPCR %s: 1/3*3=%a 1/3+3=%a frinti(1/3)=%g FPSR=%02" PRIx64 "\n", rn[mode], dbl(out[0]), dbl(out[1]),
               dbl(out[2]), out[3]);
        a64_fpcr_ops(mode << 22, -2.5, 1e-300, out);
        printf("FPCR %s: frinti(-2.5)=%g -2.5*1e-300=%a FPSR=%02" PRIx64 "\n", rn[mode], dbl(out[2]), dbl(out[0]), out[3]);
    }
    uint64_t out[4];
    a64_fpcr_ops(0, 0x1p-1070, 16.0, out);
    printf("FZ=0: subnormal*16=%a FPSR=%02" PRIx64 "\n", dbl(out[0]), out[3]);
    CHECK(dbl(out[0]) == 0x1p-1066);
    a64_fpcr_ops(1u << 24, 0x1p-1070, 16.0, out);
    printf("FZ=1: subnormal*16=%a FPSR=%02" PRIx64 "\n", dbl(out[0]), out[3]);
    CHECK(dbl(out[0]) == 0.0 && (out[3] & 0x80));
    a64_fpcr_ops(0, qn, 1.0, out);
    printf("DN=0: qnan*1 bits=%016" PRIx64 "\n", out[0]);
    a64_fpcr_ops(1u << 25, qn, 1.0, out);
    printf("DN=1: qnan*1 bits=%016" PRIx64 "\n", out[0]);
    CHECK(out[0] == 0x7ff8000000000000ull);
    a64_fpcr_ops(0, 1e308, 10.0, out);
    printf("overflow FPSR=%02" PRIx64 "; ", out[3]);
    a64_fpcr_ops(0, INFINITY, 0.0, out);
    printf("inf*0 FPSR=%02" PRIx64 " bits=%016" PRIx64 "\n", out[3], out[0]);
    CHECK(out[3] & 1);
    printf("a64_bits_fp done, failures=%d\n", guest_failures);
    return guest_status();
}
