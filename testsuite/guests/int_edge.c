/* Integer edge cases.
 * Arithmetic: unsigned wrap-around, signed overflow detection with
 * __builtin_*_overflow, division and remainder with negative operands
 * (truncation toward zero), division by zero handled by checking first,
 * INT_MIN / -1 computed in a defined way, sign and zero extension, division
 * by constants (magic-number multiplies at -O2), 64x64->128 multiply high.
 * Shifts and bits: shifts by variable counts including counts >= the operand
 * width (made defined by masking with width-1, which is what the hardware
 * shift instructions of all three ISAs do anyway, so compilers drop the
 * mask), arithmetic vs logical right shifts, rotates, popcount/clz/ctz/
 * bswap/parity builtins, bitfields and bit-twiddling idioms.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include "guest.h"

/* Volatile sources keep the compiler from folding everything at -O2. */
static volatile uint32_t v_u32max = UINT32_MAX;
static volatile uint64_t v_u64max = UINT64_MAX;
static volatile int32_t v_imin = INT32_MIN, v_imax = INT32_MAX;
static volatile int64_t v_lmin = INT64_MIN, v_lmax = INT64_MAX;
static volatile int32_t v_m1 = -1, v_zero = 0;

static void wraps(void) {
    uint32_t a = v_u32max;
    uint64_t b = v_u64max;
    uint32_t a1 = a + 1, a2 = a * a, a3 = 0u - a;
    uint64_t b1 = b + 1, b2 = b * b, b3 = (uint64_t)0 - b;
    printf("u32: max+1=%" PRIu32 " max*max=%" PRIu32 " -max=%" PRIu32 "\n", a1, a2, a3);
    printf("u64: max+1=%" PRIu64 " max*max=%" PRIu64 " -max=%" PRIu64 "\n", b1, b2, b3);
    CHECK(a1 == 0 && a2 == 1 && a3 == 1);
    CHECK(b1 == 0 && b2 == 1 && b3 == 1);
    uint16_t s = (uint16_t)(v_u32max);
    uint8_t c = (uint8_t)(v_u32max - 0x7f);
    printf("narrow: u16=%u u8=%u\n", (unsigned)s, (unsigned)c);
    CHECK(s == 0xffff && c == 0x80);
    uint32_t m = 0x12345678u;
    for (int i = 0; i < 5; i++) m = m * 0x9e3779b9u + 0x7f4a7c15u;
    printf("u32 lcg after 5 steps: %08" PRIx32 "\n", m);
}

static void overflow_builtins(void) {
    int32_t r32;
    int64_t r64;
    int o;
    o = __builtin_add_overflow(v_imax, 1, &r32);
    printf("add32 INT_MAX+1: ovf=%d wrapped=%" PRId32 "\n", o, r32);
    CHECK(o && r32 == INT32_MIN);
    o = __builtin_sub_overflow(v_imin, 1, &r32);
    printf("sub32 INT_MIN-1: ovf=%d wrapped=%" PRId32 "\n", o, r32);
    CHECK(o && r32 == INT32_MAX);
    o = __builtin_mul_overflow(v_imax, 2, &r32);
    printf("mul32 INT_MAX*2: ovf=%d wrapped=%" PRId32 "\n", o, r32);
    CHECK(o && r32 == -2);
    o = __builtin_mul_overflow(v_imin, v_m1, &r32);
    printf("mul32 INT_MIN*-1: ovf=%d wrapped=%" PRId32 "\n", o, r32);
    CHECK(o && r32 == INT32_MIN);
    o = __builtin_add_overflow(v_lmax, 1, &r64);
    printf("add64 LLONG_MAX+1: ovf=%d wrapped=%" PRId64 "\n", o, r64);
    CHECK(o && r64 == INT64_MIN);
    o = __builtin_mul_overflow(v_lmax, v_lmax, &r64);
    printf("mul64 LLONG_MAX^2: ovf=%d wrapped=%" PRId64 "\n", o, r64);
    CHECK(o && r64 == 1);
    o = __builtin_mul_overflow((int64_t)3037000499, (int64_t)3037000499 + v_zero, &r64);
    printf("mul64 3037000499^2: ovf=%d value=%" PRId64 "\n", o, r64);
    CHECK(!o && r64 == 9223372030926249001LL);
    uint64_t u;
    o = __builtin_mul_overflow((uint64_t)v_u64max, (uint64_t)2, &u);
    printf("umul64 max*2: ovf=%d wrapped=%" PRIu64 "\n", o, u);
    CHECK(o && u == UINT64_MAX - 1);
    uint32_t u32;
    o = __builtin_sub_overflow((uint32_t)0, (uint32_t)(v_zero + 1), &u32);
    printf("usub32 0-1: ovf=%d wrapped=%" PRIu32 "\n", o, u32);
    CHECK(o && u32 == UINT32_MAX);
    /* Mixed-sign: a uint64 result from a negative int. */
    o = __builtin_add_overflow((int64_t)v_m1, (int64_t)0, &u);
    printf("int->uint -1: ovf=%d\n", o);
    CHECK(o);
}

/* C defines / and % to truncate toward zero; INT_MIN / -1 is undefined, so it
 * is computed here through unsigned negation instead. */
static void division(void) {
    static const int32_t a32[] = {7, -7, 7, -7, 0, 1, -1, INT32_MAX, INT32_MIN, INT32_MIN, 100, 13};
    static const int32_t b32[] = {2, 2, -2, -2, 5, 0, 3, -1, 1, -1, 0, 13};
    for (unsigned i = 0; i < sizeof a32 / sizeof a32[0]; i++) {
        volatile int32_t a = a32[i], b = b32[i];
        if (b == 0) {
            printf("i32 %" PRId32 " / 0: skipped (checked first)\n", a);
        } else if (a == INT32_MIN && b == -1) {
            int32_t q = (int32_t)(0u - (uint32_t)a); /* wraps to INT_MIN (gcc: modulo conversion) */
            printf("i32 INT_MIN / -1: defined via unsigned negate = %" PRId32 ", rem 0\n", q);
            CHECK(q == INT32_MIN);
        } else {
            printf("i32 %" PRId32 " / %" PRId32 " = %" PRId32 " rem %" PRId32 "\n", a, b, a / b, a % b);
            CHECK((a / b) * b + a % b == a);
        }
    }
    static const int64_t a64[] = {7, -7, INT64_MAX, INT64_MIN, INT64_MIN, -1000000000007LL, 5};
    static const int64_t b64[] = {-2, 3, 2, 3, -1, 1000003, 0};
    for (unsigned i = 0; i < sizeof a64 / sizeof a64[0]; i++) {
        volatile int64_t a = a64[i], b = b64[i];
        if (b == 0) {
            printf("i64 %" PRId64 " / 0: skipped (checked first)\n", a);
        } else if (a == INT64_MIN && b == -1) {
            int64_t q = (int64_t)(0ull - (uint64_t)a);
            printf("i64 LLONG_MIN / -1: defined via unsigned negate = %" PRId64 "\n", q);
            CHECK(q == INT64_MIN);
        } else {
            printf("i64 %" PRId64 " / %" PRId64 " = %" PRId64 " rem %" PRId64 "\n", a, b, a / b, a % b);
            CHECK((a / b) * b + a % b == a);
        }
    }
    volatile uint64_t ua = UINT64_MAX, ub = 3, uc = 0x8000000000000000ull;
    printf("u64 max/3=%" PRIu64 " max%%7=%" PRIu64 " max/2^63=%" PRIu64 "\n", ua / ub, ua % 7, ua / uc);
    volatile uint32_t xa = 0xffffffffu, xb = 0x10000u;
    printf("u32 max/65536=%" PRIu32 " rem=%" PRIu32 "\n", xa / xb, xa % xb);
    /* Division by constants: the compiler uses multiply-high sequences. */
    uint64_t acc = 0;
    for (int32_t i = -100000; i <= 100000; i += 37) {
        int32_t x = i * 977 + v_zero;
        acc = acc * 31 + (uint32_t)(x / 3) + (uint32_t)(x / 7) + (uint32_t)(x % 10) + (uint32_t)(x / -1000);
        acc += (uint32_t)x / 3u + (uint32_t)x % 1000u;
    }
    printf("const-division checksum: %016" PRIx64 "\n", acc);
    acc = 0;
    for (uint64_t i = 1; i < 2000000000000ull; i = i * 3 + 1) {
        acc = acc * 131 + i / 10 + i % 10 + i / 1000000007ull + (uint64_t)((int64_t)-i / 9);
    }
    printf("const-division64 checksum: %016" PRIx64 "\n", acc);
}

static void extension(void) {
    volatile uint32_t raw = 0x80ff7f81u;
    int8_t s8 = (int8_t)raw;             /* 0x81 -> -127 */
    uint8_t u8 = (uint8_t)raw;
    int16_t s16 = (int16_t)(raw >> 8);   /* 0xff7f -> -129 */
    uint16_t u16 = (uint16_t)(raw >> 8);
    int32_t s32 = (int32_t)raw;
    int64_t s64 = s32;
    uint64_t z64 = raw;
    printf("s8=%d u8=%u s16=%d u16=%u s32=%" PRId32 " s64=%" PRId64 " z64=%" PRIu64 "\n", s8, u8, s16,
           u16, s32, s64, z64);
    CHECK(s8 == -127 && u8 == 0x81 && s16 == -129 && u16 == 0xff7f);
    CHECK(s64 == -2130739327LL && z64 == 0x80ff7f81ull);
    volatile int64_t big = 0x123456789abcdef0LL;
    int32_t t = (int32_t)big;
    printf("i64->i32 truncation: %" PRId32 "\n", t);
    CHECK(t == (int32_t)0x9abcdef0u);
    volatile int32_t neg = -17;
    printf("-17>>1=%d -17>>4=%d -17/2=%d (uint)-17>>28=%u\n", neg >> 1, neg >> 4, neg / 2,
           (unsigned)neg >> 28);
    CHECK((neg >> 1) == -9 && (neg >> 4) == -2 && neg / 2 == -8);
    /* 32-bit ops whose results must be sign-extended on 64-bit ISAs. */
    volatile int32_t p = 0x7fffffff;
    int64_t w = (int64_t)(int32_t)((uint32_t)p + 1u);
    volatile uint32_t q = 0xfffffff0u;
    uint64_t w2 = (uint64_t)(q + 0x20u);
    printf("addw sign-extend: %" PRId64 " zero-extend: %" PRIu64 "\n", w, w2);
    CHECK(w == INT32_MIN && w2 == 0x10);
    long mix = (long)(int)(p * 2u) + (long)(unsigned)(p * 2u);
    printf("mixed widths: %ld\n", mix);
}

static void mulhigh(void) {
    volatile uint64_t a = 0xfedcba9876543210ull, b = 0x0123456789abcdefull;
    volatile int64_t c = -0x123456789abcdefLL, d = 0x7edcba9876543210LL;
    unsigned __int128 up = (unsigned __int128)a * b;
    __int128 sp = (__int128)c * d;
    __int128 su = (__int128)c * (unsigned __int128)(uint64_t)b;
    printf("mulhu=%016" PRIx64 " mullo=%016" PRIx64 "\n", (uint64_t)(up >> 64), (uint64_t)up);
    printf("mulh=%016" PRIx64 " mullo=%016" PRIx64 "\n", (uint64_t)(sp >> 64), (uint64_t)sp);
    printf("mulhsu=%016" PRIx64 "\n", (uint64_t)((su >> 64)));
    CHECK((uint64_t)(up >> 64) == 0x0121fa00ad77d742ull);
}

static void arith_tests(void) {
    wraps();
    overflow_builtins();
    division();
    extension();
    mulhigh();
}

static volatile uint32_t v32 = 0x80000001u;
static volatile uint64_t v64 = 0x8000000000000001ull;
static volatile int32_t vs32 = -0x12345678;
static volatile int64_t vs64 = -0x123456789abcdefLL;

struct flags {
    unsigned a : 3;
    signed b : 5;
    unsigned c : 1;
    unsigned long long d : 40;
    signed e : 7;
};

static uint32_t rotl32(uint32_t x, unsigned n) { return (x << (n & 31)) | (x >> (-n & 31)); }
static uint64_t rotr64(uint64_t x, unsigned n) { return (x >> (n & 63)) | (x << (-n & 63)); }

static void bit_tests(void) {
    /* Variable shifts, counts 0..130 masked to the width. */
    uint64_t h = 0;
    for (volatile unsigned n = 0; n <= 130; n += 1) {
        uint32_t a = v32 << (n & 31), b = v32 >> (n & 31);
        int32_t c = vs32 >> (n & 31);
        uint64_t d = v64 << (n & 63), e = v64 >> (n & 63);
        int64_t f = vs64 >> (n & 63);
        uint16_t g = (uint16_t)((uint16_t)v32 << (n & 15));
        h = h * 1000003 + a + b + (uint32_t)c + d + e + (uint64_t)f + g;
        if (n == 31 || n == 32 || n == 33 || n == 63 || n == 64 || n == 65 || n == 127)
            printf("n=%3u: u32<<=%08" PRIx32 " u32>>=%08" PRIx32 " s32>>=%08" PRIx32 " u64<<=%016" PRIx64
                   " u64>>=%016" PRIx64 " s64>>=%016" PRIx64 "\n",
                   n, a, b, (uint32_t)c, d, e, (uint64_t)f);
    }
    printf("shift checksum %016" PRIx64 "\n", h);
    {
        volatile unsigned n = 36;
        CHECK((v32 << (n & 31)) == 0x00000010u);
        CHECK((v64 >> ((n + 28) & 63)) == 0x8000000000000001ull);
        CHECK((vs32 >> (n & 31)) == (int32_t)0xfedcba98);
    }
    /* Shifting small types promotes to int first. */
    volatile uint8_t b8 = 0xf0;
    volatile int8_t s8 = -16;
    printf("u8<<4=%d s8>>2=%d (u8)(u8<<4)=%d\n", b8 << 4, s8 >> 2, (uint8_t)(b8 << 4));
    CHECK((b8 << 4) == 0xf00 && (s8 >> 2) == -4);

    /* Rotates. */
    for (unsigned n = 0; n < 70; n += 13)
        printf("rotl32(%u)=%08" PRIx32 " rotr64(%u)=%016" PRIx64 "\n", n, rotl32(0x12345678u + (uint32_t)v32, n),
               n, rotr64(0x0123456789abcdefull ^ v64, n));
    CHECK(rotl32(0x80000001u, 1) == 3u && rotr64(1, 1) == 0x8000000000000000ull);

    /* Bit builtins; 0 inputs avoided for clz/ctz (undefined). */
    static const uint64_t vals[] = {1, 2, 3, 0x80, 0xff00, 0x12345678, 0x80000000ull, 0xffffffffull,
                                    0x100000000ull, 0x8000000000000000ull, 0xffffffffffffffffull,
                                    0x0f0f0f0f0f0f0f0full, 0x5555555555555555ull, 0xdeadbeefcafef00dull};
    for (unsigned i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        volatile uint64_t x = vals[i];
        uint32_t x32 = (uint32_t)x;
        printf("%016" PRIx64 ": pop=%d clz=%d ctz=%d par=%d bswap=%016" PRIx64, x, __builtin_popcountll(x),
               __builtin_clzll(x), __builtin_ctzll(x), __builtin_parityll(x), __builtin_bswap64(x));
        if (x32)
            printf(" | pop32=%d clz32=%d ctz32=%d bswap32=%08" PRIx32 " bswap16=%04x", __builtin_popcount(x32),
                   __builtin_clz(x32), __builtin_ctz(x32), __builtin_bswap32(x32),
                   (unsigned)__builtin_bswap16((uint16_t)x32));
        printf(" ffs=%d clrsb=%d\n", __builtin_ffsll((long long)x), __builtin_clrsbll((long long)x));
    }
    CHECK(__builtin_popcountll(v64) == 2 && __builtin_clzll(v64 >> 1) == 1 && __builtin_ctzll(v64 - 1) == 63);

    /* Bitfields. */
    struct flags fl = {0};
    volatile int src = 0x2d;
    fl.a = (unsigned)src;           /* 0x2d & 7 = 5 */
    fl.b = (signed)(src & 0x1f) - 16; /* -3 */
    fl.c = 1;
    fl.d = 0xfedcba9876ull + (unsigned)src;
    fl.e = -64;
    printf("bitfields: a=%u b=%d c=%u d=%010llx e=%d\n", fl.a, fl.b, fl.c, (unsigned long long)fl.d, fl.e);
    CHECK(fl.a == 5 && fl.b == -3 && fl.c == 1 && fl.d == 0xfedcba98a3ull && fl.e == -64);
    fl.b += 20; /* 17 doesn't fit in 5 signed bits: gcc wraps modulo to -15 */
    printf("bitfield wrap: b=%d\n", fl.b);

    /* Twiddles: isolate lowest bit, round up to power of two, bit reverse, abs without branch. */
    uint64_t acc = 0;
    uint64_t st = 42;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = guest_rand(&st);
        uint64_t low = x & -x;
        uint64_t p2 = x >> 1;
        p2 |= p2 >> 1; p2 |= p2 >> 2; p2 |= p2 >> 4; p2 |= p2 >> 8; p2 |= p2 >> 16; p2 |= p2 >> 32; p2++;
        uint32_t r = (uint32_t)x;
        r = ((r >> 1) & 0x55555555u) | ((r & 0x55555555u) << 1);
        r = ((r >> 2) & 0x33333333u) | ((r & 0x33333333u) << 2);
        r = ((r >> 4) & 0x0f0f0f0fu) | ((r & 0x0f0f0f0fu) << 4);
        r = __builtin_bswap32(r);
        int32_t sx = (int32_t)(x >> 16);
        int32_t m = sx >> 31;
        uint32_t ab = (uint32_t)((sx ^ m) - m);
        acc = acc * 0x100000001b3ull ^ (low + p2 + r + ab + (uint64_t)(x > st) + (uint64_t)((int64_t)x < 0));
    }
    printf("twiddle checksum %016" PRIx64 "\n", acc);
}

int main(void) {
    arith_tests();
    bit_tests();
    printf("int_edge done, failures=%d\n", guest_failures);
    return guest_status();
}
