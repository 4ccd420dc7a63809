/* The math library: fma (exactness of the fused product), sqrt (correctly
 * rounded), sin/cos/tan/asin/acos/atan/atan2, exp/exp2/expm1/log/log2/log10/
 * log1p, pow (integer and fractional exponents, special cases), cbrt, hypot,
 * sinh/cosh/tanh, erf/tgamma/lgamma, fmod/remainder/remquo, float variants,
 * and a small numeric kernel (Newton iteration, series sums).  Results are
 * printed with %.17g; glibc's libm is linked statically so they are stable
 * per arch, and sanity checks use tolerances.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include "guest.h"

static volatile double v_one = 1.0;

static int close_to(double a, double b, double rel) { return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)); }

int main(void) {
    double one = v_one;
    /* fma: the exact product's low part. */
    double a = one + 0x1p-30, b = one - 0x1p-30;
    double p = a * b;
    double err = fma(a, b, -p);
    printf("fma: a*b=%a fma(a,b,-ab)=%a fma(2,3,4)=%g fmaf=%a\n", p, err, fma(2 * one, 3, 4),
           (double)fmaf((float)a, (float)b, -1.0f));
    CHECK(p == 1.0 && err == -0x1p-60);
    CHECK(fma(0x1p+1023 * one, 2.0, -0x1p+1023) == 0x1p+1023); /* no intermediate overflow */

    /* sqrt is correctly rounded everywhere. */
    const double sq[] = {2, 3, 0.5, 1e-300, 1e300, 0x1p-1074, 123456789, 0.01};
    for (unsigned i = 0; i < sizeof sq / sizeof sq[0]; i++) {
        double x = sq[i] * one, r = sqrt(x);
        printf("sqrt(%g)=%.17g sqrtf=%.9g\n", x, r, (double)sqrtf((float)x));
        CHECK(fma(r, r, -x) == 0 || fabs(fma(r, r, -x)) <= fabs(fma(nextafter(r, 0), nextafter(r, 0), -x)));
    }
    CHECK(isnan(sqrt(-one)) && sqrt(-0.0 * one) == 0 && signbit(sqrt(-0.0 * one)));

    const double xs[] = {0.0, 0.5, 1.0, -1.0, 2.0, 3.14159265358979, 10.0, -7.25, 100.0, 1e-8, 0.75};
    for (unsigned i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        double x = xs[i] * one;
        printf("x=%g\n  sin=%.17g cos=%.17g tan=%.17g atan=%.17g\n", x, sin(x), cos(x), tan(x), atan(x));
        printf("  exp=%.17g exp2=%.17g expm1=%.17g sinh=%.17g cosh=%.17g tanh=%.17g\n", exp(x), exp2(x), expm1(x),
               sinh(x), cosh(x), tanh(x));
        if (x > 0)
            printf("  log=%.17g log2=%.17g log10=%.17g log1p=%.17g cbrt=%.17g\n", log(x), log2(x), log10(x), log1p(x),
                   cbrt(x));
        if (fabs(x) <= 1) printf("  asin=%.17g acos=%.17g\n", asin(x), acos(x));
        printf("  erf=%.17g tgamma=%.17g lgamma=%.17g\n", erf(x), x > -7.5 && x != 0 && x < 100 ? tgamma(x) : 0.0,
               x != 0 ? lgamma(x) : 0.0);
        printf("  sinf=%.9g expf=%.9g logf=%.9g\n", (double)sinf((float)x), (double)expf((float)x),
               x > 0 ? (double)logf((float)x) : 0.0);
        CHECK(close_to(sin(x) * sin(x) + cos(x) * cos(x), 1.0, 1e-15));
        CHECK(close_to(exp(log1p(fabs(x))), 1 + fabs(x), 1e-14));
    }
    CHECK(close_to(tgamma(5.0 * one), 24.0, 1e-15) && close_to(atan(one) * 4, M_PI, 1e-16));

    /* pow special cases and exact results. */
    printf("pow: 2^10=%g 2^0.5=%.17g (-8)^(1/3)=%g (-2)^3=%g 0^0=%g inf^0=%g 1^nan=%g (-1)^inf=%g 10^-5=%.17g\n",
           pow(2 * one, 10), pow(2 * one, 0.5), pow(-8 * one, 1.0 / 3), pow(-2 * one, 3), pow(0 * one, 0),
           pow(INFINITY * one, 0), pow(one, NAN), pow(-one, INFINITY), pow(10 * one, -5));
    printf("pow: 1.0000001^1e7=%.17g 0.5^1074=%a 2^-1075=%a 10^308.5=%g powf(3,0.5)=%.9g\n", pow(1.0000001 * one, 1e7),
           pow(0.5 * one, 1074), pow(2 * one, -1075), pow(10 * one, 308.5), (double)powf(3.0f, 0.5f));
    CHECK(pow(2 * one, 10) == 1024 && pow(0.5 * one, 1074) == 0x1p-1074 && isnan(pow(-8 * one, 1.0 / 3)));
    printf("atan2: %.17g %.17g %.17g %.17g atan2(0,-0)=%g atan2(-0,-0)=%g\n", atan2(one, one), atan2(one, -one),
           atan2(-one, -one), atan2(-one, one), atan2(0 * one, -0.0), atan2(-0.0 * one, -0.0));
    printf("hypot(3,4)=%g hypot(1e300,1e300)=%.17g hypot(inf,nan)=%g\n", hypot(3 * one, 4), hypot(1e300 * one, 1e300),
           hypot(INFINITY, NAN * one));
    CHECK(hypot(3 * one, 4) == 5 && isinf(hypot(INFINITY, NAN * one)));
    int quo = 0;
    double rq = remquo(10.5 * one, 3, &quo);
    printf("fmod(10.5,3)=%g fmod(-10.5,3)=%g remainder(10.5,3)=%g remainder(11.5,3)=%g remquo=%g,%d fmod(1e300,3)=%g\n",
           fmod(10.5 * one, 3), fmod(-10.5 * one, 3), remainder(10.5 * one, 3), remainder(11.5 * one, 3), rq, quo & 7,
           fmod(1e300 * one, 3));
    CHECK(fmod(-10.5 * one, 3) == -1.5 && remainder(10.5 * one, 3) == -1.5);

    /* Kernels: Newton's method for sqrt(2), Leibniz series, Kahan summation. */
    double g = one;
    for (int i = 0; i < 8; i++) g = 0.5 * (g + 2 / g);
    double leib = 0;
    for (int k = 0; k < 1000000; k++) leib += (k & 1 ? -4.0 : 4.0) / (2 * k + 1);
    double s = 0, c = 0, naive = 0;
    for (int k = 1; k <= 100000; k++) {
        double y = one / k - c;
        double t = s + y;
        c = (t - s) - y;
        s = t;
        naive += one / k;
    }
    printf("newton sqrt2=%.17g leibniz=%.17g kahan H(1e5)=%.17g naive=%.17g\n", g, leib, s, naive);
    CHECK(close_to(g, sqrt(2.0), 1e-15) && close_to(leib, M_PI, 1e-6));
    printf("libm done, failures=%d\n", guest_failures);
    return guest_status();
}
