/* printf of floating point: %g %e %f %a %.17g %.0f and friends over a table
 * of doubles (powers of ten, halfway cases, tiny/huge, subnormals, signed
 * zero, infinities, NaN), floats promoted through varargs, field widths,
 * precision from arguments, and a %.17g/strtod round trip of each value.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <math.h>
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

static volatile double vzero = 0.0;

int main(void) {
    const double vals[] = {
        0.0, 1.0, -1.0, 0.1, 0.2, 0.3, 1.0 / 3.0, 2.0 / 3.0, 0.5, 0.125, 0.375, 2.5, 3.5, -2.5,
        1e15, 1e16, 1e17, 123456789.0, 1234567890123456789.0, 9007199254740993.0, 1e21, 1e22, 1e23,
        1e-5, 1e-7, 1.5e-300, 1e300, DBL_MAX, DBL_MIN, DBL_EPSILON, 4.9406564584124654e-324,
        2.2250738585072009e-308, M_PI, M_E, -M_SQRT2, 6.02214076e23, 1.602176634e-19, 299792458.0,
        0.000123456, 100.0, 1e100, 5e-324 * 3,
    };
    unsigned n = sizeof vals / sizeof vals[0];
    for (unsigned i = 0; i < n; i++) {
        double d = vals[i];
        char buf[64];
        printf("[%2u] %%g=%g %%e=%e %%.17g=%.17g %%a=%a\n", i, d, d, d, d);
        printf("     %%f=%.6f %%.0f=%.0f %%.3e=%.3e %%12.4g=[%12.4g] %%-12.2f=[%-12.2f]\n", d > 1e30 ? 0.0 : d,
               d > 1e30 ? 0.0 : d, d, d, d > 1e30 ? 0.0 : d);
        snprintf(buf, sizeof buf, "%.17g", d);
        double back = strtod(buf, NULL);
        CHECK(back == d);
    }
    double specials[] = {vzero / vzero, -(vzero / vzero), 1.0 / vzero, -1.0 / vzero, -0.0};
    for (unsigned i = 0; i < 5; i++) {
        double d = specials[i];
        printf("special %u: %%g=%g %%f=%f %%e=%E %%a=%a %%+g=%+g %%G=%G\n", i, isnan(d) ? fabs(d) : d,
               isnan(d) ? fabs(d) : d, d, isnan(d) ? fabs(d) : d, d, d);
    }
    /* %e, %+g and %G above print the raw sign of 0/0, which differs per ISA
     * (x86 produces a negative default NaN, RISC-V and AArch64 a positive
     * one): references are per arch, so a wrong NaN sign shows up. */
    printf("signbit(-fabs(NaN))=%d signbit(-0.0)=%d\n", signbit(-fabs(specials[0])) != 0, signbit(specials[4]) != 0);
    /* Halfway rounding in decimal conversion (round-half-even on exact binary values). */
    const double halves[] = {0.5, 1.5, 2.5, 0.125, 0.375, 1.005, 2.675, 1e23, 8.5, 9.5};
    for (unsigned i = 0; i < sizeof halves / sizeof halves[0]; i++)
        printf("half %g -> %%.0f=%.0f %%.2f=%.2f %%.1e=%.1e\n", halves[i], halves[i], halves[i], halves[i]);
    /* Floats through varargs, star precision, %Lf avoided here. */
    float fv[] = {0.1f, 16777217.0f, 3.4028235e38f, 1.17549435e-38f, 1.0e-45f, -2.5f};
    for (unsigned i = 0; i < sizeof fv / sizeof fv[0]; i++)
        printf("float %.9g %a %*.*e\n", fv[i], fv[i], 14, (int)i, fv[i]);
    printf("%%5.1f|%%-8.3g|%%08.2f|%%+.2e: %5.1f|%-8.3g|%08.2f|%+.2e\n", 3.14159, 2.71828, -1.5, 12345.678);
    printf("%%#g %%#.0f %%#x-ish: %#g %#.0f\n", 1.0, 2.0);
    char big[400];
    int len = snprintf(big, sizeof big, "%.0f", DBL_MAX);
    printf("DBL_MAX %%.0f has %d digits, starts %.20s\n", len, big);
    CHECK(len == 309);
    len = snprintf(big, sizeof big, "%.60f", 0.1);
    printf("0.1 to 60 places: %s\n", big);
    printf("float_printf done, failures=%d\n", guest_failures);
    return guest_status();
}
