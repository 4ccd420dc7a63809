/* Number <-> string conversions: snprintf/strtod round trips for 20000
 * generated doubles (%.17g must round-trip exactly, %a too) and floats
 * (%.9g via strtof), strtod on tricky inputs (hex floats, inf/nan,
 * subnormals, overflow/underflow with ERANGE, halfway cases, leading junk,
 * endptr), strtol/strtoul/strtoll/strtoull in bases 0, 2, 8, 10, 16, 36 with
 * sign, prefix, overflow clamping and ERANGE, atoi/atol, sscanf of mixed
 * fields, and snprintf truncation and return values.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

int main(void) {
    uint64_t st = 77;
    int bad17 = 0, bada = 0, badf = 0;
    uint64_t lenhash = 0;
    for (int i = 0; i < 20000; i++) {
        uint64_t bits = guest_rand(&st);
        double d;
        memcpy(&d, &bits, 8);
        if (isnan(d)) continue;
        char buf[64];
        int n = snprintf(buf, sizeof buf, "%.17g", d);
        lenhash = lenhash * 31 + (uint64_t)n;
        if (strtod(buf, NULL) != d) bad17++;
        snprintf(buf, sizeof buf, "%a", d);
        if (strtod(buf, NULL) != d) bada++;
        float f = (float)(double)(int64_t)(bits >> 20) * 1e-3f;
        snprintf(buf, sizeof buf, "%.9g", f);
        if (strtof(buf, NULL) != f) badf++;
    }
    printf("round trips: %%.17g bad=%d %%a bad=%d float %%.9g bad=%d length-hash=%016llx\n", bad17, bada, badf,
           (unsigned long long)lenhash);
    CHECK(bad17 == 0 && bada == 0 && badf == 0);

    const char *dins[] = {"0x1.8p3", "-0x.1p-2", "inf", "-Infinity", "nan", "1e-320", "4.9e-324", "2e-324", "1e-400",
                          "1.7976931348623157e308", "1.7976931348623159e308", "1e309", "  +12.5e+1xyz", ".5", "5.",
                          "-0", "0x1p-1074", "2.2250738585072011e-308", "9007199254740993", "1e23", "abc",
                          "123456789012345678901234567890e-10"};
    for (unsigned i = 0; i < sizeof dins / sizeof dins[0]; i++) {
        char *end;
        errno = 0;
        double v = strtod(dins[i], &end);
        int e = errno;
        printf("strtod(\"%s\") = %.17g [%a] consumed=%ld erange=%d\n", dins[i], isnan(v) ? fabs(v) : v,
               isnan(v) ? fabs(v) : v, (long)(end - dins[i]), e == ERANGE);
    }
    const struct {
        const char *s;
        int base;
    } lins[] = {{"12345", 10}, {"-12345", 10}, {"0x7fffffffffffffff", 0}, {"0x8000000000000000", 0}, {"-0x8000000000000000", 0},
                {"-0x8000000000000001", 0}, {"0777", 0}, {"0b101", 0}, {"101", 2}, {"zz", 36}, {"ZZ", 36}, {"  -42abc", 10},
                {"99999999999999999999", 10}, {"", 10}, {"+0", 0}, {"ffffffffffffffff", 16}, {"-1", 10}};
    for (unsigned i = 0; i < sizeof lins / sizeof lins[0]; i++) {
        char *end;
        errno = 0;
        long long v = strtoll(lins[i].s, &end, lins[i].base);
        int e1 = errno;
        errno = 0;
        unsigned long long u = strtoull(lins[i].s, NULL, lins[i].base);
        int e2 = errno;
        errno = 0;
        long l32 = strtol(lins[i].s, NULL, lins[i].base);
        printf("\"%s\" base %d: strtoll=%lld (consumed %ld, erange=%d) strtoull=%llu (erange=%d) strtol=%ld\n",
               lins[i].s, lins[i].base, v, (long)(end - lins[i].s), e1 == ERANGE, u, e2 == ERANGE, l32);
    }
    errno = 0;
    CHECK(strtoll("99999999999999999999", NULL, 10) == LLONG_MAX && errno == ERANGE);
    CHECK(strtoull("-1", NULL, 10) == ULLONG_MAX);
    printf("atoi(\" 42x\")=%d atol(\"-7\")=%ld atof(\"2.5\")=%g\n", atoi(" 42x"), atol("-7"), atof("2.5"));

    int a = 0, n = 0;
    unsigned x = 0;
    double d = 0;
    char word[16] = {0}, c = 0;
    int got = sscanf("  17 0x1F 3.25e2 token,Z rest", "%d %x %lf %15[^,],%c%n", &a, &x, &d, word, &c, &n);
    printf("sscanf: got=%d a=%d x=%u d=%g word=%s c=%c consumed=%d\n", got, a, x, d, word, c, n);
    CHECK(got == 5 && a == 17 && x == 31 && d == 325 && !strcmp(word, "token") && c == 'Z');
    int64_t i64;
    uint8_t u8;
    got = sscanf("-9223372036854775808 255", "%" SCNd64 " %" SCNu8, &i64, &u8);
    printf("sscanf int64/uint8: %d %" PRId64 " %u\n", got, i64, u8);

    char small[8];
    int w = snprintf(small, sizeof small, "%s-%d", "truncated", 12345);
    printf("snprintf truncation: returned %d, buffer='%s'\n", w, small);
    CHECK(w == 15 && strcmp(small, "truncat") == 0);
    w = snprintf(NULL, 0, "%08.3f|%-5s|%+d|%x|%o|%c|%%|%5.2s|%lld", -3.14159, "ab", 5, 255u, 8u, 'q', "xyz", -1LL);
    char full[128];
    snprintf(full, sizeof full, "%08.3f|%-5s|%+d|%x|%o|%c|%%|%5.2s|%lld", -3.14159, "ab", 5, 255u, 8u, 'q', "xyz", -1LL);
    printf("snprintf(NULL,0) length=%d text=%s\n", w, full);
    CHECK(w == (int)strlen(full));
    printf("%%'d-free grouping test: %d %i %u %5.3d %-+6d| %#o %#x %#X %p\n", INT_MIN, INT_MAX, UINT_MAX, 7, 42, 8u, 255u,
           255u, (void *)0);
    printf("strconv done, failures=%d\n", guest_failures);
    return guest_status();
}
