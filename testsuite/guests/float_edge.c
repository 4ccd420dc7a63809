/* Floating-point edge cases.
 * Special values: NaN creation and propagation, comparisons with NaN (all
 * false except !=), isnan/isinf/isfinite/fpclassify, fmin/fmax with NaN,
 * signed zeros (1/-0, copysign), subnormals (smallest values, gradual
 * underflow, arithmetic that stays subnormal), nextafter, frexp/ldexp/modf/
 * logb/ilogb, float<->double of subnormals, bit patterns.  Quiet-NaN payloads
 * and default-NaN signs differ per ISA: printed as bits, references are per
 * arch.
 * Conversions between floating point and integers at the edges of the
 * defined range: double/float -> int32/uint32/int64/uint64 for values whose
 * truncation is representable (largest/smallest, just below 2^63 and 2^64,
 * negative fractions to unsigned), int64/uint64 -> double/float rounding
 * (ties-to-even, the 2^53+2^29+1 double-rounding trap), float<->double
 * narrowing, small integer types, and plain char signedness (implementation
 * defined: unsigned on riscv64/aarch64, signed on x86_64).  Out-of-range
 * conversions are undefined in C and are tested in the per-ISA assembly
 * programs instead.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <float.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

static volatile double zero = 0.0, one = 1.0, inf_src = 1e308;
static volatile float fzero = 0.0f;

static uint64_t bits(double d) {
    uint64_t u;
    memcpy(&u, &d, 8);
    return u;
}
static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}
static const char *clsf(float f) {
    switch (fpclassify(f)) {
    case FP_NAN: return "nan";
    case FP_INFINITE: return "inf";
    case FP_ZERO: return "zero";
    case FP_SUBNORMAL: return "subnormal";
    case FP_NORMAL: return "normal";
    }
    return "?";
}
static double from_bits(uint64_t u) {
    double d;
    memcpy(&d, &u, 8);
    return d;
}
static const char *cls(double d) {
    switch (fpclassify(d)) {
    case FP_NAN: return "nan";
    case FP_INFINITE: return "inf";
    case FP_ZERO: return "zero";
    case FP_SUBNORMAL: return "subnormal";
    case FP_NORMAL: return "normal";
    }
    return "?";
}

static void special_tests(void) {
    double nan = zero / zero;
    double inf = inf_src * 10.0;
    double qnan = from_bits(0x7ff8000000000123ull); /* quiet NaN with payload */
    float fnan = fzero / fzero;
    printf("0/0 bits=%016" PRIx64 " (float)0/0 bits=%08" PRIx32 "\n", bits(nan), fbits(fnan));
    printf("inf bits=%016" PRIx64 " -inf bits=%016" PRIx64 "\n", bits(inf), bits(-inf));
    printf("inf-inf bits=%016" PRIx64 " inf*0 bits=%016" PRIx64 "\n", bits(inf - inf), bits(inf * zero));
    printf("qnan+1 bits=%016" PRIx64 " 1+qnan bits=%016" PRIx64 "\n", bits(qnan + one), bits(one + qnan));
    printf("(float)qnan bits=%08" PRIx32 " (double)(float)qnan bits=%016" PRIx64 "\n", fbits((float)qnan),
           bits((double)(float)qnan));
    printf("-nan via negate bits=%016" PRIx64 " fabs bits=%016" PRIx64 "\n", bits(-qnan), bits(fabs(-qnan)));
    CHECK(bits(-qnan) == 0xfff8000000000123ull); /* negation is a sign-bit flip, even for NaN */
    CHECK(isnan(nan) && isnan(fnan) && isinf(inf) && !isfinite(inf) && isfinite(one));

    /* Comparisons with NaN. */
    volatile double vn = nan;
    printf("nan==nan %d nan!=nan %d nan<1 %d nan>1 %d nan<=nan %d 1>=nan %d isunordered %d isless %d\n", vn == vn,
           vn != vn, vn < one, vn > one, vn <= vn, one >= vn, isunordered(vn, one), isless(vn, one));
    CHECK(!(vn == vn) && vn != vn && !(vn < one) && !(vn > one) && !(vn <= vn) && !(one >= vn));
    int branchy = 0;
    for (int i = 0; i < 4; i++) {
        volatile double x = i == 2 ? nan : (double)i;
        if (x < 1.5) branchy += 1;
        else if (x >= 1.5) branchy += 10;
        else branchy += 100;
    }
    printf("nan branch pattern %d\n", branchy);
    CHECK(branchy == 112);
    /* fmin/fmax return the number when one operand is a NaN. */
    printf("fmax(nan,1)=%g fmin(1,nan)=%g fmax(-0,0)=%g fmin(-0,0) signbit=%d\n", fmax(vn, one), fmin(one, vn),
           fmax(-zero, zero), signbit(fmin(-zero, zero)) != 0);
    CHECK(fmax(vn, one) == 1.0 && fmin(one, vn) == 1.0);

    /* Signed zero. */
    double nz = -zero;
    printf("-0: bits=%016" PRIx64 " 1/-0=%g 1/+0=%g -0==+0 %d copysign(3,-0)=%g 0*-1 signbit=%d\n", bits(nz),
           one / nz, one / zero, nz == zero, copysign(3.0, nz), signbit(zero * -one) != 0);
    CHECK(one / nz < 0 && nz == zero && signbit(zero * -one));
    printf("-0 + 0 signbit=%d -0 - 0 signbit=%d -0 + -0 signbit=%d\n", signbit(nz + zero) != 0,
           signbit(nz - zero) != 0, signbit(nz + nz) != 0);

    /* Subnormals. */
    volatile double dmin = DBL_MIN, tiny = 4.9406564584124654e-324;
    double half_min = dmin / 2, sub_sum = tiny + tiny, sub_prod = tiny * 0.5, sub_round = tiny * 1.5;
    printf("DBL_MIN/2=%a (%s) tiny+tiny=%a tiny*0.5=%a tiny*1.5=%a\n", half_min, cls(half_min), sub_sum, sub_prod,
           sub_round);
    CHECK(half_min == 0x1p-1023 && sub_sum == 0x1p-1073 && sub_prod == 0.0 && sub_round == 0x1p-1073);
    double s = 1.0;
    int steps = 0;
    while (s > 0) {
        s /= 2;
        steps++;
    }
    printf("halvings of 1.0 to reach 0: %d\n", steps);
    CHECK(steps == 1075);
    volatile float fmin_norm = FLT_MIN;
    float fsub = fmin_norm / 8.0f;
    printf("FLT_MIN/8=%a class(float)=%s class(double)=%s FLT_TRUE_MIN=%a\n", (double)fsub, clsf(fsub), cls(fsub),
           (double)(fmin_norm * 0x1p-23f));
    CHECK(fsub == 0x1p-129f);
    double dsub = 0x1.23456789abcdp-1030;
    volatile double vdsub = dsub;
    printf("subnormal arithmetic: %a %a %a %a\n", vdsub * 3, vdsub / 3, vdsub + dmin, sqrt(vdsub));
    printf("(float)dsub=%a (float)(dsub*1e268)=%a class=%s\n", (double)(float)vdsub, (double)(float)(vdsub * 1e268),
           clsf((float)(vdsub * 1e268)));

    /* Classification, nextafter, decomposition. */
    const double samples[] = {0.0, -0.0, 1.0, DBL_MIN, 0x1p-1074, DBL_MAX, INFINITY, -INFINITY, 0.1, 1e-310};
    for (unsigned i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        double d = samples[i];
        int e = 0;
        double m = frexp(d, &e), ip;
        double frac = modf(d, &ip);
        printf("%-12a class=%-9s next_up=%a frexp=(%a,%d) ilogb=%d logb=%g modf=(%g,%g)\n", d, cls(d),
               nextafter(d, INFINITY), m, isfinite(d) ? e : 0, isfinite(d) && d != 0 ? ilogb(d) : 0,
               isfinite(d) && d != 0 ? logb(d) : 0.0, frac, ip);
    }
    printf("ldexp(1,-1074)=%a ldexp(1,1024)=%g ldexp(0x1.8p-1,-1073)=%a scalbn(3,10)=%g\n", ldexp(one, -1074),
           ldexp(one, 1024), ldexp(0.75 * one, -1073), scalbn(3.0 * one, 10));
    printf("nextafter(0,1)=%a nextafter(0,-1)=%a nextafterf(1,2)=%a\n", nextafter(zero, 1), nextafter(zero, -1),
           (double)nextafterf(1.0f, 2.0f));
    CHECK(nextafter(zero, 1) == 0x1p-1074);
}

static volatile double vd;
static volatile float vf;
static volatile int64_t vi64;
static volatile uint64_t vu64;
static volatile uint32_t vu32;
static volatile int32_t vi32;

static void conversion_tests(void) {
    static const double to_i32[] = {0.0, -0.0, 0.9, -0.9, 1.5, -1.5, 2147483647.0, 2147483647.999, -2147483648.0,
                                    -2147483648.999, 1e9, -123456.789};
    for (unsigned i = 0; i < sizeof to_i32 / sizeof to_i32[0]; i++) {
        vd = to_i32[i];
        int32_t r = (int32_t)vd;
        int64_t r64 = (int64_t)vd;
        printf("(i32)%.17g = %" PRId32 "  (i64) = %" PRId64 "\n", vd, r, r64);
        CHECK(r == (int32_t)trunc(to_i32[i]));
    }
    static const double to_u32[] = {0.0, -0.999, 4294967295.0, 4294967295.5, 2147483648.0, 3e9};
    for (unsigned i = 0; i < sizeof to_u32 / sizeof to_u32[0]; i++) {
        vd = to_u32[i];
        uint32_t r = (uint32_t)vd;
        printf("(u32)%.17g = %" PRIu32 "\n", vd, r);
    }
    CHECK((uint32_t)(vd = 4294967295.5) == 4294967295u);
    static const double to_u64[] = {0.0, -0.5, 9223372036854775808.0 /* 2^63 */, 9223372036854774784.0,
                                    18446744073709549568.0 /* 2^64 - 2048 */, 1e19, 4503599627370496.5};
    for (unsigned i = 0; i < sizeof to_u64 / sizeof to_u64[0]; i++) {
        vd = to_u64[i];
        uint64_t r = (uint64_t)vd;
        printf("(u64)%.17g = %" PRIu64 "\n", vd, r);
    }
    vd = 18446744073709549568.0;
    CHECK((uint64_t)vd == 18446744073709549568ull);
    vd = 9223372036854775808.0;
    CHECK((uint64_t)vd == 9223372036854775808ull);
    static const double to_i64[] = {-9223372036854775808.0, 9223372036854774784.0, -9223372036854774784.0,
                                    -4503599627370497.0, 1e18};
    for (unsigned i = 0; i < sizeof to_i64 / sizeof to_i64[0]; i++) {
        vd = to_i64[i];
        printf("(i64)%.17g = %" PRId64 "\n", vd, (int64_t)vd);
    }
    vd = -9223372036854775808.0;
    CHECK((int64_t)vd == INT64_MIN);
    /* float sources */
    static const float fl[] = {16777216.0f, 16777218.0f, -2147483648.0f, 2147483520.0f, 4294967040.0f,
                               9223371487098961920.0f, 18446742974197923840.0f, 0.99999994f};
    for (unsigned i = 0; i < sizeof fl / sizeof fl[0]; i++) {
        vf = fl[i];
        printf("float %.9g:", vf);
        if (vf < 9223372036854775808.0f) printf(" (i64)=%" PRId64, (int64_t)vf);
        if (vf > -1.0f) printf(" (u64)=%" PRIu64, (uint64_t)vf);
        if (vf >= -2147483648.0f && vf < 2147483648.0f) printf(" (i32)=%" PRId32, (int32_t)vf);
        if (vf > -1.0f && vf < 4294967296.0f) printf(" (u32)=%" PRIu32, (uint32_t)vf);
        printf("\n");
    }

    /* Integer -> floating rounding. */
    static const int64_t ints[] = {9007199254740993LL, 9007199254740995LL, INT64_MAX, INT64_MIN, -9007199254740993LL,
                                   0x20000020000001LL, 0x7fffffbfffffffffLL, 16777217, -16777217, 33554435};
    for (unsigned i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        vi64 = ints[i];
        printf("i64 %" PRId64 " -> double %.17g float %.9g\n", vi64, (double)vi64, (double)(float)vi64);
    }
    vi64 = 0x20000020000001LL;
    float once = (float)vi64;
    float twice = (float)(double)vi64;
    printf("single rounding %a vs via double %a\n", (double)once, (double)twice);
    CHECK(once == 0x1.000002p+53f && twice == 0x1p+53f);
    static const uint64_t uints[] = {UINT64_MAX, 0x8000000000000001ull, 0x8000000000000400ull, 0x8000000000000401ull,
                                     0xfffffffffffff7ffull, 0xffffff7fffffffffull, 12345678901234567890ull};
    for (unsigned i = 0; i < sizeof uints / sizeof uints[0]; i++) {
        vu64 = uints[i];
        printf("u64 %" PRIu64 " -> double %.17g float %.9g\n", vu64, (double)vu64, (double)(float)vu64);
    }
    vu64 = 0x8000000000000401ull;
    CHECK((double)vu64 == 9223372036854777856.0);
    vu64 = 0xffffff7fffffffffull;
    CHECK((float)vu64 == 18446742974197923840.0f);
    vu32 = 0xffffffffu;
    vi32 = INT32_MIN;
    printf("u32max -> float %.9g double %.17g; i32min -> float %.9g\n", (double)(float)vu32, (double)vu32,
           (double)(float)vi32);
    vu32 = 0x80000081u;
    printf("u32 0x80000081 -> float %a\n", (double)(float)vu32);
    CHECK((float)vu32 == 0x1.000002p+31f);

    /* Narrowing double -> float: ties to even, overflow to inf, underflow. */
    static const double nar[] = {1.0000000596046448, 1.0000001788139343, 3.4028235677973366e38, 3.4028235677973362e38,
                                 1e39, 1.401298464324817e-45, 7.006492321624085e-46, 7.0064923216240862e-46, -1e-50};
    for (unsigned i = 0; i < sizeof nar / sizeof nar[0]; i++) {
        vd = nar[i];
        float f = (float)vd;
        printf("(float)%.17g = %a\n", vd, (double)f);
    }
    /* Small integer types through float. */
    vf = -1.75f;
    int8_t s8 = (int8_t)vf;
    vf = 255.9f;
    uint8_t u8 = (uint8_t)vf;
    vf = -32768.5f;
    int16_t s16 = (int16_t)vf;
    vf = 65535.25f;
    uint16_t u16 = (uint16_t)vf;
    printf("small: s8=%d u8=%u s16=%d u16=%u\n", s8, u8, s16, u16);
    CHECK(s8 == -1 && u8 == 255 && s16 == -32768 && u16 == 65535);
    volatile char pc = (char)0x80;
    int as_int = pc;
    printf("plain char 0x80 -> int %d (char is %s here)\n", as_int, as_int < 0 ? "signed" : "unsigned");
    printf("(double)plain char 0xff = %g\n", (double)(volatile char)(char)0xff);
}

int main(void) {
    special_tests();
    conversion_tests();
    printf("float_edge done, failures=%d\n", guest_failures);
    return guest_status();
}
