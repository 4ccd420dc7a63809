/* Driver for asm/x86_64/x64_x87_sse.S (x86_64 only): x87 precision and rounding
 * control, 80-bit results, FPREM/FPREM1/FSCALE/FXTRACT, the 8-deep register
 * stack, compare flags, integer-indefinite conversions and status flags,
 * FISTTP; SSE conversions under MXCSR rounding modes, MXCSR exception flags
 * with FTZ/DAZ, MINSD/MAXSD NaN and zero operand order, (U)COMISD, and
 * integer SIMD instructions.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

extern uint16_t x87_with_cw(uint16_t, double, double, uint8_t *, double *, int64_t *);
extern void x87_misc(double, double, double *);
extern uint64_t x87_ucomi(double, double);
extern double x87_stack8(const double *);
extern uint16_t x87_fistp_sw(double, int64_t *, int32_t *, int16_t *);
extern int64_t x87_fisttp(double);
extern void sse_cvt(double, int64_t *), sse_minmax(double, double, uint64_t *);
extern uint64_t sse_op_mxcsr(int, double, double, uint32_t, uint32_t *);
extern uint32_t sse_ucomi(double, double);
extern void sse_int_simd(const uint8_t *, const uint8_t *, uint8_t *);

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
static void hex80(const uint8_t *p, char *s) {
    for (int i = 9; i >= 0; i--) sprintf(s + 2 * (9 - i), "%02x", p[i]);
}

int main(void) {
    /* Precision control (bits 9:8: 00 single, 10 double, 11 extended) and
     * rounding control (bits 11:10: nearest, down, up, zero); exceptions masked. */
    const char *pcn[] = {"single", "?", "double", "extended"}, *rcn[] = {"nearest", "down", "up", "zero"};
    const double divs[][2] = {{1, 3}, {-2, 3}, {10, 4}, {-10, 4}, {1e308, 1e-10}};
    for (unsigned d = 0; d < sizeof divs / sizeof divs[0]; d++)
        for (int pc = 0; pc < 4; pc++) {
            if (pc == 1) continue;
            for (int rc = 0; rc < 4; rc++) {
                if (pc != 3 && rc != 0 && d != 0) continue;
                uint8_t e[10];
                double dd;
                int64_t ii;
                char h[24];
                uint16_t sw = x87_with_cw((uint16_t)(0x037f & ~0x0f00) | (uint16_t)(pc << 8) | (uint16_t)(rc << 10),
                                          divs[d][0], divs[d][1], e, &dd, &ii);
                hex80(e, h);
                printf("%g/%g pc=%-8s rc=%-7s 80-bit=%s double=%a int=%" PRId64 " sw=%02x\n", divs[d][0], divs[d][1],
                       pcn[pc], rcn[rc], h, dd, ii, sw);
            }
        }
    {
        uint8_t e[10];
        double dd;
        int64_t ii;
        x87_with_cw(0x037f, 1, 3, e, &dd, &ii);
        CHECK(e[9] == 0x3f && e[8] == 0xfd && e[7] == 0xaa && e[0] == 0xab && dd == 1.0 / 3.0 && ii == 0);
        x87_with_cw(0x007f, 1, 3, e, &dd, &ii); /* single precision */
        CHECK(dd == (double)(1.0f / 3.0f));
        x87_with_cw(0x0b7f, -10, 4, e, &dd, &ii); /* round up: -2.5 -> -2 */
        CHECK(ii == -2);
        x87_with_cw(0x077f, -10, 4, e, &dd, &ii); /* round down: -2.5 -> -3 */
        CHECK(ii == -3);
    }
    const double mx[][2] = {{2, 3}, {10.5, 3}, {-10.5, 3}, {1e300, 7}, {0.75, -2}, {2.5, 1}, {3.5, 1}, {1e-310, 2}};
    for (unsigned i = 0; i < sizeof mx / sizeof mx[0]; i++) {
        double o[10];
        x87_misc(mx[i][0], mx[i][1], o);
        printf("x87(%g,%g): sqrt=%a rndint=%g fprem=%g fprem1=%g fscale=%g fxtract=(%g,%g) -|x|=%g pi+1=%a l2t*lg2=%a\n",
               mx[i][0], mx[i][1], o[0], o[1], o[2], o[3], o[4], o[5], o[6], o[7], o[8], o[9]);
    }
    double o[10];
    x87_misc(10.5, 3, o);
    CHECK(o[1] == 10 && o[2] == 1.5 && o[3] == -1.5 && o[4] == 84 && o[5] == 1.3125 && o[6] == 3 && o[7] == -10.5);
    printf("fucomip ZF|PF|CF: (1,2)=%" PRIu64 " (2,1)=%" PRIu64 " (1,1)=%" PRIu64 " (nan,1)=%" PRIu64 "\n", x87_ucomi(1, 2),
           x87_ucomi(2, 1), x87_ucomi(1, 1), x87_ucomi(NAN, 1));
    CHECK(x87_ucomi(1, 2) == 4 && x87_ucomi(2, 1) == 0 && x87_ucomi(1, 1) == 1 && x87_ucomi(NAN, 1) == 7);
    const double v8[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    double s8 = x87_stack8(v8);
    printf("8-deep stack expression = %.17g\n", s8);
    const double fi[] = {2.5, -2.5, 1e10, -1e10, 1e19, -9.3e18, 40000.5, NAN, INFINITY};
    for (unsigned i = 0; i < sizeof fi / sizeof fi[0]; i++) {
        int64_t a;
        int32_t b;
        int16_t c;
        uint16_t sw = x87_fistp_sw(fi[i], &a, &b, &c);
        printf("fistp(%g): 64=%016" PRIx64 " 32=%08" PRIx32 " 16=%04x sw=%02x fisttp=%" PRId64 "\n", fi[i], (uint64_t)a,
               (uint32_t)b, (unsigned)(uint16_t)c, sw, isfinite(fi[i]) && fabs(fi[i]) < 9e18 ? x87_fisttp(fi[i]) : 0);
    }
    {
        int64_t a;
        int32_t b;
        int16_t c;
        uint16_t sw = x87_fistp_sw(1e10, &a, &b, &c);
        CHECK(a == 10000000000LL && (uint32_t)b == 0x80000000u && (uint16_t)c == 0x8000 && (sw & 1));
        CHECK(x87_fisttp(2.7) == 2 && x87_fisttp(-2.7) == -2);
    }

    const double cv[] = {2.5, -2.5, 3.5, 1e19, -1e19, 2147483648.0, NAN, -0.7, 0x1.000001p+0, 0x1.fffffffp+127};
    for (unsigned i = 0; i < sizeof cv / sizeof cv[0]; i++) {
        int64_t c[8];
        sse_cvt(cv[i], c);
        printf("sse cvt(%a): tt64=%016" PRIx64 " tt32=%08" PRIx64 " rn=%" PRId64 " dn=%" PRId64 " up=%" PRId64
               " rz=%" PRId64 " ss(rz)=%08" PRIx64 " ss(rn)=%08" PRIx64 "\n",
               cv[i], (uint64_t)c[0], (uint64_t)c[1], c[2], c[3], c[4], c[5], (uint64_t)c[6], (uint64_t)c[7]);
    }
    int64_t c[8];
    sse_cvt(1e19, c);
    CHECK((uint64_t)c[0] == 0x8000000000000000ull && (uint64_t)c[1] == 0x80000000ull);
    sse_cvt(-2.5, c);
    CHECK(c[2] == -2 && c[3] == -3 && c[4] == -2 && c[5] == -2);

    static const char *opn[] = {"add", "mul", "div", "sqrt", "cvtss", "comisd"};
    const double fa[][2] = {{1, 3}, {1e308, 10}, {1e-308, 1e-10}, {0x1p-1070, 16}, {-1, 0}, {0, 0}, {NAN, 1}};
    const uint32_t modes[] = {0x1f80, 0x9f80 /* FTZ */, 0x1fc0 /* DAZ */};
    for (unsigned k = 0; k < sizeof fa / sizeof fa[0]; k++)
        for (unsigned m = 0; m < 3; m++) {
            printf("mxcsr=%04x (%g,%g):", modes[m], fa[k][0], fa[k][1]);
            for (int op = 0; op < 6; op++) {
                uint32_t fl;
                uint64_t r = sse_op_mxcsr(op, fa[k][0], fa[k][1], modes[m], &fl);
                if (op < 5) printf(" %s=%a/%02x", opn[op], isnan(dbl(r)) ? NAN : dbl(r), fl);
                else printf(" %s/%02x", opn[op], fl);
            }
            printf("\n");
        }
    uint32_t fl;
    double r = dbl(sse_op_mxcsr(1, 0x1p-1070, 16, 0x1fc0, &fl)); /* DAZ: input treated as 0 */
    CHECK(r == 0 && !(fl & 0x2));
    r = dbl(sse_op_mxcsr(1, 0x1p-1000, 0x1p-60, 0x9f80, &fl)); /* FTZ: tiny result flushed, UE|PE */
    CHECK(r == 0 && (fl & 0x30) == 0x30);
    r = dbl(sse_op_mxcsr(2, 1, 0, 0x1f80, &fl));
    CHECK(isinf(r) && fl == 0x4);
    printf("default NaN from 0/0: %016" PRIx64 "\n", sse_op_mxcsr(2, 0, 0, 0x1f80, &fl));

    const uint64_t qn = 0x7ff8000000000123ull;
    const double mm[][2] = {{1, 2}, {2, 1}, {dbl(qn), 1}, {1, dbl(qn)}, {-0.0, 0.0}, {0.0, -0.0}};
    for (unsigned i = 0; i < sizeof mm / sizeof mm[0]; i++) {
        uint64_t m4[4];
        sse_minmax(mm[i][0], mm[i][1], m4);
        printf("minsd/maxsd(%016" PRIx64 ",%016" PRIx64 "): min(a,b)=%016" PRIx64 " min(b,a)=%016" PRIx64
               " max(a,b)=%016" PRIx64 " max(b,a)=%016" PRIx64 "\n",
               bits(mm[i][0]), bits(mm[i][1]), m4[0], m4[1], m4[2], m4[3]);
    }
    uint64_t m4[4];
    sse_minmax(dbl(qn), 1, m4);
    CHECK(m4[0] == bits(1.0) && m4[1] == qn);
    sse_minmax(-0.0, 0.0, m4);
    CHECK(m4[0] == 0 && m4[1] == 0x8000000000000000ull);
    printf("ucomisd/comisd: (1,2)=%03x (2,1)=%03x (1,1)=%03x (qnan,1)=%03x\n", sse_ucomi(1, 2), sse_ucomi(2, 1),
           sse_ucomi(1, 1), sse_ucomi(dbl(qn), 1));
    CHECK(sse_ucomi(dbl(qn), 1) == (0x7 | 0x70 | 0x200)); /* comisd signals invalid on a quiet NaN, ucomisd does not */

    uint8_t a[16], b[16], out[192];
    for (int i = 0; i < 16; i++) {
        a[i] = (uint8_t)(i * 37 + 100);
        b[i] = (uint8_t)(250 - i * 29);
    }
    b[3] = a[3];
    b[9] = a[9];
    sse_int_simd(a, b, out);
    static const char *sn[] = {"paddusb", "psubsb", "pmovmskb", "psadbw", "pshufd", "punpcklbw", "pmaddwd", "packsswb",
                               "shifts", "pavgb", "pmuludq", "max/min/pslldq"};
    for (int k = 0; k < 12; k++) {
        printf("%-14s", sn[k]);
        if (k == 2) {
            uint32_t msk;
            memcpy(&msk, out + 32, 4);
            printf(" %04x\n", msk);
            CHECK(msk == ((1u << 3) | (1u << 9)));
            continue;
        }
        for (int i = 0; i < 16; i++) printf(" %02x", out[16 * k + i]);
        printf("\n");
    }
    printf("x64_x87_sse done, failures=%d\n", guest_failures);
    return guest_status();
}
