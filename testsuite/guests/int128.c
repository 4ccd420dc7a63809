/* 128-bit integers (__int128): add/sub/mul/div/mod (libgcc __divti3 and
 * friends on every ISA), shifts by variable counts across the 64-bit halves,
 * comparisons, conversion to and from double, and decimal/hex printing with a
 * hand-written routine (printf has no %I128).  Factorials up to 34! and
 * Fibonacci up to F(186) exercise carries.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

typedef unsigned __int128 u128;
typedef __int128 i128;

static const char *u128_str(u128 v, char *buf) {
    char tmp[48];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + (int)(v % 10));
        v /= 10;
    } while (v);
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    buf[n] = 0;
    return buf;
}

static const char *i128_str(i128 v, char *buf) {
    if (v < 0) {
        buf[0] = '-';
        u128_str((u128)0 - (u128)v, buf + 1);
        return buf;
    }
    return u128_str((u128)v, buf);
}

static u128 parse_u128(const char *s) {
    u128 v = 0;
    while (*s) v = v * 10 + (u128)(*s++ - '0');
    return v;
}

static void hex(const char *label, u128 v) {
    printf("%s%016" PRIx64 "%016" PRIx64 "\n", label, (uint64_t)(v >> 64), (uint64_t)v);
}

static volatile uint64_t vone = 1;

int main(void) {
    char b1[64], b2[64], b3[64], b4[64];
    u128 umax = ~(u128)0;
    i128 imax = (i128)(umax >> 1), imin = -imax - 1;
    printf("u128 max = %s\n", u128_str(umax, b1));
    printf("i128 max = %s\n", i128_str(imax, b1));
    printf("i128 min = %s\n", i128_str(imin, b1));
    CHECK(strcmp(u128_str(umax, b1), "340282366920938463463374607431768211455") == 0);
    CHECK(strcmp(i128_str(imin, b1), "-170141183460469231731687303715884105728") == 0);

    /* Factorials. */
    u128 f = vone;
    for (unsigned i = 1; i <= 34; i++) {
        f *= i;
        if (i >= 20 && i % 2 == 0) printf("%u! = %s\n", i, u128_str(f, b1));
    }
    CHECK(f == parse_u128("295232799039604140847618609643520000000"));
    /* Fibonacci. */
    u128 a = 0, b = vone;
    for (int i = 0; i < 186; i++) {
        u128 t = a + b;
        a = b;
        b = t;
    }
    printf("F(186) = %s\n", u128_str(a, b1));
    CHECK(a == parse_u128("332825110087067562321196029789634457848"));

    /* Division / modulo with mixed signs. */
    i128 xs[] = {(i128)parse_u128("123456789012345678901234567890"), -(i128)parse_u128("98765432109876543210987"),
                 imax, imin + 1, -7, 7};
    i128 ys[] = {(i128)1000000007, -(i128)parse_u128("12345678901234567"), (i128)(vone << 40), -3, 2, -2};
    for (unsigned i = 0; i < 6; i++) {
        i128 q = xs[i] / ys[i], r = xs[i] % ys[i];
        printf("%s / %s = %s rem %s\n", i128_str(xs[i], b1), i128_str(ys[i], b2), i128_str(q, b3),
               i128_str(r, b4));
        CHECK(q * ys[i] + r == xs[i]);
    }
    u128 big = umax / parse_u128("18446744073709551617"); /* (2^128-1)/(2^64+1) = 2^64-1 */
    hex("umax / (2^64+1) = 0x", big);
    CHECK(big == (u128)UINT64_MAX);
    CHECK(umax % 10 == 5);

    /* Shifts by variable counts across the halves. */
    u128 pat = ((u128)0x0123456789abcdefull << 64) | 0xfedcba9876543210ull;
    for (volatile unsigned s = 0; s < 128; s += 17) {
        hex("pat << s = 0x", pat << s);
        hex("pat >> s = 0x", pat >> s);
        i128 sp = (i128)(pat | ((u128)1 << 127));
        hex("sar     = 0x", (u128)(sp >> s));
    }
    /* Comparisons straddling the halves. */
    u128 lo_big = UINT64_MAX, hi_small = (u128)1 << 64;
    CHECK(lo_big < hi_small && (i128)-1 < (i128)0 && (u128)(i128)-1 > hi_small);
    printf("cmp: %d %d %d %d\n", lo_big < hi_small, (i128)-1 < (i128)lo_big, (i128)imin < (i128)imax,
           (u128)imin > (u128)imax);

    /* Conversions with double. */
    double d = (double)umax;
    u128 back = (u128)1e38;
    i128 nb = (i128)-1.5e30;
    printf("(double)umax = %.17g\n", d);
    printf("(u128)1e38 = %s\n", u128_str(back, b1));
    printf("(i128)-1.5e30 = %s\n", i128_str(nb, b1));
    printf("(double)(i128)-12345678901234567890123 = %.17g\n", (double)-(i128)parse_u128("12345678901234567890123"));
    CHECK(back == parse_u128("99999999999999997748809823456034029568"));

    /* A multiply-accumulate hash over 128 bits. */
    u128 h = 0;
    uint64_t st = 7;
    for (int i = 0; i < 10000; i++) {
        u128 x = ((u128)guest_rand(&st) << 64) | guest_rand(&st);
        h = h * x + (x >> 3) - (h >> 77);
        if (x % 3 == 0) h ^= x / (u128)((guest_rand(&st) | 1));
    }
    hex("hash = 0x", h);
    printf("int128 done, failures=%d\n", guest_failures);
    return guest_status();
}
