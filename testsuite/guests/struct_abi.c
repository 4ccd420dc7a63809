/* Calling-convention coverage: structs of 1..100 bytes passed and returned
 * by value (register pairs, hidden return pointers), homogeneous float/
 * double aggregates (HFA on aarch64, FP register pairs on riscv64, SSE
 * classes on x86_64), mixed int/float structs, 20-argument functions
 * (stack-passed integers and doubles), variadic functions mixing int, long,
 * double, long double, struct and __int128 with va_copy, _Complex double,
 * unions, and pointers to packed structs.  All callees are noinline.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <complex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

#define NI __attribute__((noinline))

struct s1 { char a; };
struct s3 { char a, b, c; };
struct s8 { int32_t a, b; };
struct s12 { int32_t a, b, c; };
struct s16 { int64_t a, b; };
struct s24 { int64_t a, b, c; };
struct s100 { unsigned char b[100]; };
struct hfa2f { float x, y; };
struct hfa3d { double x, y, z; };
struct hfa4f { float a, b, c, d; };
struct mixed { int32_t i; float f; };
struct mixed2 { double d; int64_t l; };
struct __attribute__((packed)) packed { char c; int64_t v; short s; };
union u { double d; uint64_t bits; char c[8]; };

NI static struct s1 f1(struct s1 a) { a.a ^= 0x55; return a; }
NI static struct s3 f3(struct s3 a, struct s3 b) { return (struct s3){(char)(a.a + b.c), (char)(a.b + b.b), (char)(a.c + b.a)}; }
NI static struct s8 f8(struct s8 a, int k) { return (struct s8){a.b * k, a.a - k}; }
NI static struct s12 f12(struct s12 a) { return (struct s12){a.c, a.a, a.b + 1}; }
NI static struct s16 f16(struct s16 a, struct s16 b) { return (struct s16){a.a * b.b, a.b - b.a}; }
NI static struct s24 f24(struct s24 a, int64_t k) { return (struct s24){a.c + k, a.a + k, a.b + k}; }
NI static struct s100 f100(struct s100 a) {
    for (int i = 0; i < 100; i++) a.b[i] = (unsigned char)(a.b[i] * 3 + i);
    return a;
}
NI static struct hfa2f fh2(struct hfa2f a, float k) { return (struct hfa2f){a.y * k, a.x + k}; }
NI static struct hfa3d fh3(struct hfa3d a, struct hfa3d b) { return (struct hfa3d){a.x + b.z, a.y * b.y, a.z - b.x}; }
NI static struct hfa4f fh4(struct hfa4f a) { return (struct hfa4f){a.d, a.c, a.b, a.a + a.b + a.c + a.d}; }
NI static struct mixed fm(struct mixed a, double k) { return (struct mixed){a.i + (int)k, a.f * (float)k}; }
NI static struct mixed2 fm2(struct mixed2 a) { return (struct mixed2){(double)a.l, (int64_t)a.d}; }
NI static int64_t fpacked(const struct packed *p) { return p->c + p->v + p->s; }
NI static union u fu(union u x) { x.bits ^= 0x8000000000000000ull; return x; }
NI static double complex fc(double complex a, double complex b) { return a * b + conj(a); }

NI static double many(int a1, double d1, int a2, double d2, int a3, double d3, int a4, double d4, int a5, double d5,
                      int a6, double d6, int a7, double d7, int a8, double d8, int a9, double d9, long a10, float f10) {
    return a1 + d1 * 2 + a2 * 3 + d2 * 4 + a3 * 5 + d3 * 6 + a4 * 7 + d4 * 8 + a5 * 9 + d5 * 10 + a6 * 11 + d6 * 12 +
           a7 * 13 + d7 * 14 + a8 * 15 + d8 * 16 + a9 * 17 + d9 * 18 + (double)a10 * 19 + f10 * 20;
}

NI static int64_t many_int(int64_t a, int64_t b, int64_t c, int64_t d, int64_t e, int64_t f, int64_t g, int64_t h,
                           int64_t i, int64_t j, int32_t k, int16_t l, int8_t m, uint8_t n) {
    return a - b + c - d + e - f + g - h + i - j + k - l + m - n;
}

/* fmt: i=int l=long d=double L=long double s=struct s16 q=__int128 */
NI static double vsum(const char *fmt, ...) {
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    double total = 0;
    for (const char *p = fmt; *p; p++) {
        switch (*p) {
        case 'i': total += va_arg(ap, int); break;
        case 'l': total += (double)va_arg(ap, long); break;
        case 'd': total += va_arg(ap, double); break;
        case 'L': total += (double)va_arg(ap, long double); break;
        case 's': { struct s16 s = va_arg(ap, struct s16); total += (double)(s.a + s.b); break; }
        case 'q': total += (double)va_arg(ap, __int128); break;
        }
    }
    va_end(ap);
    /* Walk again with the copy and count only the first element type. */
    double first = 0;
    if (fmt[0] == 'i') first = va_arg(ap2, int);
    else if (fmt[0] == 'd') first = va_arg(ap2, double);
    va_end(ap2);
    return total + first / 1000;
}

int main(void) {
    struct s1 r1 = f1((struct s1){0x12});
    struct s3 r3 = f3((struct s3){1, 2, 3}, (struct s3){10, 20, 30});
    struct s8 r8 = f8((struct s8){7, -9}, 3);
    struct s12 r12 = f12((struct s12){1, 2, 3});
    struct s16 r16 = f16((struct s16){1LL << 40, 5}, (struct s16){3, 7});
    struct s24 r24 = f24((struct s24){1, 2, 3}, 100);
    struct s100 in100;
    for (int i = 0; i < 100; i++) in100.b[i] = (unsigned char)i;
    struct s100 r100 = f100(in100);
    printf("s1=%d s3=%d,%d,%d s8=%d,%d s12=%d,%d,%d s16=%lld,%lld s24=%lld,%lld,%lld s100 fnv=%016llx\n", r1.a, r3.a,
           r3.b, r3.c, r8.a, r8.b, r12.a, r12.b, r12.c, (long long)r16.a, (long long)r16.b, (long long)r24.a,
           (long long)r24.b, (long long)r24.c, (unsigned long long)guest_fnv(&r100, sizeof r100));
    CHECK(r1.a == 0x47 && r3.a == 31 && r8.a == -27 && r8.b == 4 && r16.a == 7LL << 40 && r24.a == 103);
    CHECK(in100.b[99] == 99 && r100.b[99] == (unsigned char)(99 * 3 + 99));
    struct hfa2f h2 = fh2((struct hfa2f){1.5f, 2.5f}, 2.0f);
    struct hfa3d h3 = fh3((struct hfa3d){1, 2, 3}, (struct hfa3d){4, 5, 6});
    struct hfa4f h4 = fh4((struct hfa4f){1, 2, 3, 4});
    struct mixed m = fm((struct mixed){10, 1.5f}, 4.0);
    struct mixed2 m2 = fm2((struct mixed2){2.75, -9});
    printf("hfa2f=%g,%g hfa3d=%g,%g,%g hfa4f=%g,%g,%g,%g mixed=%d,%g mixed2=%g,%lld\n", h2.x, h2.y, h3.x, h3.y, h3.z,
           h4.a, h4.b, h4.c, h4.d, m.i, m.f, m2.d, (long long)m2.l);
    CHECK(h2.x == 5.0f && h3.y == 10 && h4.d == 10 && m.i == 14 && m2.l == 2);
    struct packed pk = {3, 1000000000000LL, -4};
    union u uu = fu((union u){.d = 2.0});
    double complex c = fc(1.0 + 2.0 * I, 3.0 - 1.0 * I);
    printf("packed=%lld union=%g complex=%g%+gi\n", (long long)fpacked(&pk), uu.d, creal(c), cimag(c));
    CHECK(uu.d == -2.0 && creal(c) == 6.0 && cimag(c) == 3.0);
    double mv = many(1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7, 7.5, 8, 8.5, 9, 9.5, 10, 10.5f);
    int64_t mi = many_int(100, 1, 2, 3, 4, 5, 6, 7, 8, 9, -10, 300, -7, 250);
    printf("many doubles=%g many ints=%lld\n", mv, (long long)mi);
    CHECK(mv == 1 + 3 + 6 + 10 + 15 + 21 + 28 + 36 + 45 + 55 + 66 + 78 + 91 + 105 + 120 + 136 + 153 + 171 + 190 + 210);
    CHECK(mi == 100 - 1 + 2 - 3 + 4 - 5 + 6 - 7 + 8 - 9 - 10 - 300 - 7 - 250);
    double v1 = vsum("idididididid", 1, 0.5, 2, 0.25, 3, 0.125, 4, 1.0, 5, 2.0, 6, 4.0);
    double v2 = vsum("dlLsqi", 1.5, 1L << 40, (long double)2.25, (struct s16){10, 20}, (__int128)1 << 70, -3);
    double v3 = vsum("iiiiiiiiiiiiiiiiiiii", 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20);
    printf("varargs: %.10g %.17g %.10g\n", v1, v2, v3);
    CHECK(v1 == 21 + 7.875 + 0.001 && v3 == 210.001);
    printf("struct_abi done, failures=%d\n", guest_failures);
    return guest_status();
}
