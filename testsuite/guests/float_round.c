/* Floating-point rounding modes: fesetround/fegetround with all four modes,
 * arithmetic (+ - * / sqrt, float and double) whose result depends on the
 * mode, rint/nearbyint/lrint/llrint in each mode, round/trunc/floor/ceil
 * (mode-independent), conversions double->float under each mode, and the
 * inexact/overflow/underflow/invalid/divbyzero exception flags.  Note that
 * glibc's printf itself honours the rounding mode (visible in %g output).
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include "guest.h"

/* GCC ignores "#pragma STDC FENV_ACCESS"; the Makefile builds this file with
 * -frounding-math and all operands are volatile so nothing is folded. */

static volatile double one = 1.0, three = 3.0, tiny = 1e-300, huge = 1e300, two = 2.0, zero = 0.0;
static volatile float fone = 1.0f, fthree = 3.0f;

static const struct {
    int mode;
    const char *name;
} modes[] = {{FE_TONEAREST, "nearest"}, {FE_UPWARD, "upward"}, {FE_DOWNWARD, "downward"}, {FE_TOWARDZERO, "towardzero"}};

static void print_flags(const char *what) {
    int f = fetestexcept(FE_ALL_EXCEPT);
    printf("  flags after %-14s:%s%s%s%s%s\n", what, f & FE_INEXACT ? " inexact" : "", f & FE_OVERFLOW ? " overflow" : "",
           f & FE_UNDERFLOW ? " underflow" : "", f & FE_INVALID ? " invalid" : "", f & FE_DIVBYZERO ? " divbyzero" : "");
}

int main(void) {
    const double rvals[] = {0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999999999999996, 1e16 + 1, -3.7, 4503599627370497.0};
    for (unsigned m = 0; m < 4; m++) {
        CHECK(fesetround(modes[m].mode) == 0);
        CHECK(fegetround() == modes[m].mode);
        printf("mode %s\n", modes[m].name);
        double q = one / three, mq = -one / three;
        float fq = fone / fthree;
        double s = sqrt(two), sum = one + 1e-17 * three, prod = 1.1 * three;
        printf("  1/3=%a -1/3=%a 1f/3f=%a sqrt2=%a 1+3e-17=%a 1.1*3=%a\n", q, mq, fq, s, sum, prod);
        float narrowed = (float)(one / three);
        printf("  (float)(1/3)=%a (float)1e300=%g (float)-1e300=%g\n", narrowed, (float)huge, (float)-huge);
        printf("  ");
        for (unsigned i = 0; i < sizeof rvals / sizeof rvals[0]; i++) {
            volatile double v = rvals[i];
            printf("rint(%g)=%g/%g/%ld ", v, rint(v), nearbyint(v), lrint(v));
        }
        printf("\n  llrint(-2.5)=%lld lrintf(2.5f)=%ld rintf(-0.5f)=%g\n", llrint(-2.5 + zero), lrintf(2.5f + (float)zero),
               rintf(-0.5f + (float)zero));
        /* Mode-independent rounding functions. */
        printf("  round(-2.5)=%g trunc(-2.7)=%g floor(-2.5)=%g ceil(-2.5)=%g lround(2.5)=%ld\n", round(-2.5 + zero),
               trunc(-2.7 + zero), floor(-2.5 + zero), ceil(-2.5 + zero), lround(2.5 + zero));
        CHECK(round(-2.5 + zero) == -3.0 && trunc(-2.7 + zero) == -2.0 && floor(-2.5 + zero) == -3.0);
        /* Integer to float conversions are rounded in the current mode too. */
        volatile long long big = 9007199254740993LL; /* 2^53 + 1 */
        volatile unsigned long long ubig = 18446744073709551615ull;
        printf("  (double)(2^53+1)=%.17g (float)16777217=%.9g (double)u64max=%.17g\n", (double)big,
               (float)(16777217 + (int)zero), (double)ubig);
    }
    fesetround(FE_TONEAREST);
    /* Directed checks. */
    fesetround(FE_UPWARD);
    double up = one / three;
    fesetround(FE_DOWNWARD);
    double down = one / three;
    fesetround(FE_TONEAREST);
    CHECK(up > down && nextafter(down, 1.0) == up);

    /* Exception flags. */
    printf("exception flags\n");
    feclearexcept(FE_ALL_EXCEPT);
    print_flags("clear");
    volatile double r = one + two;
    print_flags("1+2");
    r = one / three;
    print_flags("1/3");
    CHECK(fetestexcept(FE_INEXACT));
    feclearexcept(FE_ALL_EXCEPT);
    r = huge * huge;
    print_flags("1e300*1e300");
    CHECK(fetestexcept(FE_OVERFLOW));
    feclearexcept(FE_ALL_EXCEPT);
    r = tiny * tiny;
    print_flags("1e-300^2");
    CHECK(fetestexcept(FE_UNDERFLOW));
    feclearexcept(FE_ALL_EXCEPT);
    r = zero / zero;
    print_flags("0/0");
    CHECK(fetestexcept(FE_INVALID));
    feclearexcept(FE_ALL_EXCEPT);
    r = one / zero;
    print_flags("1/0");
    CHECK(fetestexcept(FE_DIVBYZERO));
    feclearexcept(FE_ALL_EXCEPT);
    r = sqrt(-one);
    print_flags("sqrt(-1)");
    CHECK(fetestexcept(FE_INVALID));
    feclearexcept(FE_ALL_EXCEPT);
    r = nearbyint(2.5 + zero);
    print_flags("nearbyint(2.5)");
    CHECK(!fetestexcept(FE_INEXACT));
    feclearexcept(FE_ALL_EXCEPT);
    r = rint(2.5 + zero);
    print_flags("rint(2.5)");
    CHECK(fetestexcept(FE_INEXACT));
    (void)r;
    /* fenv save/restore. */
    fenv_t env;
    fesetround(FE_DOWNWARD);
    fegetenv(&env);
    fesetround(FE_UPWARD);
    fesetenv(&env);
    printf("restored mode is downward: %d\n", fegetround() == FE_DOWNWARD);
    CHECK(fegetround() == FE_DOWNWARD);
    fesetround(FE_TONEAREST);
    printf("float_round done, failures=%d\n", guest_failures);
    return guest_status();
}
