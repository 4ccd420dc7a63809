/* long double: arithmetic, printf with %Lg %Le %La %.30Lf %.21Lg, strtold
 * round trip, conversions to/from double and integers, LDBL_* limits and
 * libm long double functions (sqrtl, expl, logl, powl, fmal).  The format
 * differs per ABI (x86_64: 80-bit x87 extended; riscv64 and aarch64: IEEE
 * binary128 implemented in software by libgcc) so references are per arch.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

static volatile long double v_one = 1.0L;

int main(void) {
    long double one = v_one;
    printf("sizeof(long double)=%zu LDBL_MANT_DIG=%d LDBL_MAX_EXP=%d LDBL_DIG=%d\n", sizeof(long double),
           LDBL_MANT_DIG, LDBL_MAX_EXP, LDBL_DIG);
    printf("LDBL_MAX=%Lg LDBL_MIN=%Lg LDBL_EPSILON=%Lg LDBL_TRUE_MIN=%Lg\n", LDBL_MAX, LDBL_MIN, LDBL_EPSILON,
           LDBL_TRUE_MIN);
    long double third = one / 3;
    printf("1/3: %%Lg=%Lg %%.21Lg=%.21Lg %%Le=%Le %%La=%La %%.30Lf=%.30Lf\n", third, third, third, third, third);
    long double pi = 3.14159265358979323846264338327950288L * one;
    printf("pi=%.36Lg %La\n", pi, pi);
    /* More precision than double. */
    long double x = one + LDBL_EPSILON;
    double xd = (double)x;
    printf("1+eps: %.40Lg > 1: %d, as double == 1: %d\n", x, x > one, xd == 1.0);
    CHECK(x > one && xd == 1.0);
    long double big = 1e4000L * one;
    printf("1e4000L=%Lg 1e4000L*1e900L=%Lg sqrt(1e4000)=%Lg\n", big, big * 1e900L, sqrtl(big));
    CHECK(big > 1e300L && !isinf(big));
    /* Arithmetic sequence: factorial and harmonic sums. */
    long double f = one, h = 0;
    for (int i = 1; i <= 30; i++) {
        f *= i;
        h += one / i;
    }
    printf("30!=%.30Lg H30=%.25Lg\n", f, h);
    /* Integers. */
    long long ll = 9223372036854775807LL;
    long double lll = (long double)ll;
    unsigned long long ull = 18446744073709551615ULL;
    printf("(ld)LLONG_MAX=%.25Lg (ll)back=%lld (ld)ULLONG_MAX=%.25Lg (ull)back=%llu\n", lll,
           (long long)lll, (long double)ull,
           (unsigned long long)(long double)ull);
    /* Both formats hold 64-bit integers exactly. */
    CHECK((long long)lll == ll && (unsigned long long)(long double)ull == ull);
    CHECK((long long)(-one * 9223372036854775807.0L) == -9223372036854775807LL);
    /* Conversions with double and float. */
    long double fromd = (long double)0.1;
    printf("(ld)0.1=%.25Lg 0.1L=%.25Lg (double)0.1L=%.17g (float)0.1L=%.9g\n", fromd, 0.1L * one, (double)(0.1L * one),
           (double)(float)(0.1L * one));
    CHECK((double)(0.1L * one) == 0.1);
    /* strtold / snprintf round trip. */
    const char *inputs[] = {"0.1", "1e-4000", "3.141592653589793238462643383279502884197", "-2.5e+4931", "0x1.8p-16385",
                            "inf", "123456789012345678901234567890"};
    for (unsigned i = 0; i < sizeof inputs / sizeof inputs[0]; i++) {
        long double v = strtold(inputs[i], NULL);
        char buf[128];
        snprintf(buf, sizeof buf, "%.40Lg", v);
        long double back = strtold(buf, NULL);
        printf("strtold(%s)=%s %La\n", inputs[i], buf, v);
        CHECK(back == v);
    }
    /* libm long double. */
    printf("sqrtl(2)=%.36Lg expl(1)=%.36Lg logl(10)=%.36Lg\n", sqrtl(2 * one), expl(one), logl(10 * one));
    printf("powl(2,0.5)=%.36Lg sinl(1)=%.36Lg atanl(1)*4=%.36Lg\n", powl(2 * one, 0.5L), sinl(one), atanl(one) * 4);
    printf("fmal(1+e,1-e,-1)=%La cbrtl(27)=%Lg fabsl(-0.5)=%Lg floorl(-2.5)=%Lg roundl(2.5)=%Lg\n",
           fmal(one + LDBL_EPSILON, one - LDBL_EPSILON, -one), cbrtl(27 * one), fabsl(-0.5L * one),
           floorl(-2.5L * one), roundl(2.5L * one));
    CHECK(fabsl(sqrtl(2 * one) * sqrtl(2 * one) - 2) <= 4 * LDBL_EPSILON);
    /* Comparisons and NaN. */
    long double nan = (one - one) / (one - one);
    printf("nan: isnan=%d nan==nan %d inf>max %d -0.0L signbit %d\n", isnan(nan), nan == nan,
           (one / 0.0L) > LDBL_MAX, signbit(-0.0L * one) != 0);
    CHECK(isnan(nan) && !(nan == nan));
    printf("long_double done, failures=%d\n", guest_failures);
    return guest_status();
}
