/* Driver for asm/riscv64/rv64_fp.S (riscv64 only): static vs dynamic rounding
 * modes, fcsr/frm/fflags, exception flags, saturating conversions, fmin/fmax
 * and fclass, sign injection, NaN boxing, canonical NaN, fused multiply-add.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

extern double rv_fadd_rm(double, double, int), rv_fdiv_dyn(double, double, int);
extern unsigned rv_fcsr_roundtrip(unsigned), rv_flags_after(int, double, double), rv_feq_flags(double, double);
extern int64_t rv_fcvt_w(double), rv_fcvt_wu(double), rv_fcvt_l(double), rv_fcvt_lu(double), rv_fcvt_w_rm(double);
extern double rv_fmin(double, double), rv_fmax(double, double), rv_fsgnj(double, double, int);
extern uint64_t rv_fclass(double), rv_nanbox(float), rv_canonical_nan(uint64_t, unsigned *);
extern void rv_fma4(double, double, double, double *), rv_fcvt_s_d_rm(double, float *);

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
static const char *mode_names[] = {"rne", "rtz", "rdn", "rup", "rmm"};

int main(void) {
    const double a = 1.0, b = 0x1.8p-53; /* exactly 1.5 ulp below the halfway point */
    for (int m = 0; m < 5; m++) {
        printf("fadd %s: 1+0x1.8p-53=%a  -1-0x1.8p-53=%a  1+2^-53=%a\n", mode_names[m], rv_fadd_rm(a, b, m),
               rv_fadd_rm(-a, -b, m), rv_fadd_rm(a, 0x1p-53, m));
    }
    CHECK(rv_fadd_rm(a, 0x1p-53, 0) == 1.0 && rv_fadd_rm(a, 0x1p-53, 4) == 0x1.0000000000001p+0);
    CHECK(rv_fadd_rm(-a, -b, 2) == -0x1.0000000000001p+0 && rv_fadd_rm(-a, -b, 1) == -1.0);
    for (int m = 0; m < 5; m++)
        printf("fdiv dyn frm=%d (%s): 1/3=%a -2/3=%a\n", m, mode_names[m], rv_fdiv_dyn(1, 3, m), rv_fdiv_dyn(-2, 3, m));
    CHECK(rv_fdiv_dyn(1, 3, 3) > rv_fdiv_dyn(1, 3, 2));
    printf("fcsr roundtrip 0xff -> %06x, 0x1ff -> %06x, 0x25 -> %06x\n", rv_fcsr_roundtrip(0xff), rv_fcsr_roundtrip(0x1ff),
           rv_fcsr_roundtrip(0x25));
    CHECK(rv_fcsr_roundtrip(0xff) == (0xff | 7 << 8 | 0x1f << 16) && rv_fcsr_roundtrip(0x25) == (0x25 | 1 << 8 | 5 << 16));
    const char *opn[] = {"add", "div", "mul", "sqrt", "fcvt.w"};
    const double fa[][2] = {{1, 2}, {1, 3}, {1, 0}, {0, 0}, {1e300, 1e300}, {1e-300, 1e-300}, {-1, 0}, {1e10, 0}, {NAN, 0}};
    for (unsigned k = 0; k < sizeof fa / sizeof fa[0]; k++) {
        printf("flags for (%g,%g):", fa[k][0], fa[k][1]);
        for (int op = 0; op < 5; op++) printf(" %s=%02x", opn[op], rv_flags_after(op, fa[k][0], fa[k][1]));
        printf("\n");
    }
    CHECK(rv_flags_after(1, 1, 3) == 1 && rv_flags_after(1, 1, 0) == 8 && rv_flags_after(1, 0, 0) == 16);
    CHECK(rv_flags_after(2, 1e300, 1e300) == 5 && rv_flags_after(2, 1e-300, 1e-300) == 3);
    const double cv[] = {0.0, -0.9, 2.5, -2.5, 2147483647.0, 2147483648.0, -2147483649.0, 4294967296.0, 1e19, -1e19,
                         9.3e18, INFINITY, -INFINITY, NAN, -1.0};
    for (unsigned k = 0; k < sizeof cv / sizeof cv[0]; k++)
        printf("fcvt(%.17g): w=%" PRId64 " wu=%016" PRIx64 " l=%" PRId64 " lu=%016" PRIx64 " w[rne,rtz,rdn,rup,rmm]=%010" PRIx64
               "\n",
               cv[k], rv_fcvt_w(cv[k]), (uint64_t)rv_fcvt_wu(cv[k]), rv_fcvt_l(cv[k]), (uint64_t)rv_fcvt_lu(cv[k]),
               (uint64_t)rv_fcvt_w_rm(cv[k]));
    CHECK(rv_fcvt_w(NAN) == INT32_MAX && rv_fcvt_w(-INFINITY) == INT32_MIN && rv_fcvt_w(1e19) == INT32_MAX);
    CHECK(rv_fcvt_l(NAN) == INT64_MAX && rv_fcvt_lu(-1.0) == 0 && rv_fcvt_wu(-1.0) == 0);
    CHECK(rv_fcvt_wu(4294967296.0) == -1); /* saturates to 0xffffffff, sign-extended */
    double qnan = dbl(0x7ff8000000000123ull), snan = dbl(0x7ff0000000000001ull);
    printf("fmin(qnan,1)=%g fmax(1,qnan)=%g fmin(nan,nan) bits=%016" PRIx64 " fmin(snan,2)=%g\n", rv_fmin(qnan, 1),
           rv_fmax(1, qnan), bits(rv_fmin(qnan, qnan)), rv_fmin(snan, 2));
    printf("fmin(-0,+0) signbit=%d fmax(-0,+0) signbit=%d\n", signbit(rv_fmin(-0.0, 0.0)) != 0,
           signbit(rv_fmax(-0.0, 0.0)) != 0);
    CHECK(signbit(rv_fmin(-0.0, 0.0)) && !signbit(rv_fmax(-0.0, 0.0)) && bits(rv_fmin(qnan, qnan)) == 0x7ff8000000000000ull);
    const double cl[] = {-INFINITY, -1.0, -0x1p-1074, -0.0, 0.0, 0x1p-1074, 1.0, INFINITY, snan, qnan};
    printf("fclass:");
    for (unsigned k = 0; k < sizeof cl / sizeof cl[0]; k++) printf(" %03" PRIx64, rv_fclass(cl[k]));
    printf("\n");
    CHECK(rv_fclass(snan) == 0x100 && rv_fclass(qnan) == 0x200 && rv_fclass(-0.0) == 0x8);
    printf("fsgnj(3,-1)=%g fsgnjn(3,-1)=%g fsgnjx(-3,-1)=%g fsgnjx(-3,1)=%g\n", rv_fsgnj(3, -1, 0), rv_fsgnj(3, -1, 1),
           rv_fsgnj(-3, -1, 2), rv_fsgnj(-3, 1, 2));
    CHECK(rv_fsgnj(-3, -1, 2) == 3 && rv_fsgnj(3, -1, 1) == 3);
    printf("nan-boxed 1.5f register image=%016" PRIx64 "\n", rv_nanbox(1.5f));
    CHECK(rv_nanbox(1.5f) == 0xffffffff3fc00000ull);
    unsigned fl = 0;
    uint64_t cn = rv_canonical_nan(0x7ff0000000000001ull, &fl);
    printf("snan+0 -> %016" PRIx64 " flags=%02x\n", cn, fl);
    CHECK(cn == 0x7ff8000000000000ull && fl == 16);
    double out[4];
    rv_fma4(0x1.0000000000001p+0, 0x1.fffffffffffffp-1, -1.0, out);
    printf("fma family (1+u)(1-u/2)-1: fmadd=%a fmsub=%a fnmadd=%a fnmsub=%a\n", out[0], out[1], out[2], out[3]);
    CHECK(out[0] == 0x1p-53 - 0x1p-105 && out[2] == -out[0]);
    float nf[5];
    const double narrow[] = {0x1.000001p+0 /* exactly half */, -0x1.0000011p+0, 0x1.fffffffp+127};
    for (unsigned k = 0; k < 3; k++) {
        rv_fcvt_s_d_rm(narrow[k], nf);
        printf("fcvt.s.d(%a):", narrow[k]);
        for (int m = 0; m < 5; m++) printf(" %s=%a", mode_names[m], (double)nf[m]);
        printf("\n");
    }
    printf("compare (1,nan)=%03x (qnan,qnan)=%03x (snan,1)=%03x (1,2)=%03x\n", rv_feq_flags(1, qnan),
           rv_feq_flags(qnan, qnan), rv_feq_flags(snan, 1), rv_feq_flags(1, 2));
    CHECK(rv_feq_flags(1, qnan) == (16u << 8) && rv_feq_flags(snan, 1) == ((16u << 3) | (16u << 8)));
    printf("rv64_fp done, failures=%d\n", guest_failures);
    return guest_status();
}
