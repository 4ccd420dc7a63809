/* Data-parallel code: loops GCC 12 auto-vectorizes at -O2 (SSE2 on x86_64,
 * NEON on aarch64; scalar on rv64gc) — saxpy on int/float, byte
 * transforms with saturation, int16 dot products widening to int32,
 * min/max/sum reductions, if-converted selects, interleaved (strided) data —
 * and GCC vector extensions (vector_size(16) arithmetic, comparisons yielding
 * masks, __builtin_shuffle, lane access), all with checksums and scalar
 * re-computation as the oracle.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

#define N 4099 /* not a multiple of the vector width: exercises epilogues */

typedef int32_t v4si __attribute__((vector_size(16)));
typedef uint8_t v16qu __attribute__((vector_size(16)));
typedef float v4sf __attribute__((vector_size(16)));
typedef double v2df __attribute__((vector_size(16)));
typedef int16_t v8hi __attribute__((vector_size(16)));
typedef uint16_t v8hu __attribute__((vector_size(16)));

static int32_t ia[N], ib[N], ic[N];
static float fa[N], fb[N];
static uint8_t ba[N], bb[N];
static int16_t sa[N], sb[N];

__attribute__((noinline)) static void saxpy_i(int32_t k, const int32_t *x, const int32_t *y, int32_t *out, int n) {
    for (int i = 0; i < n; i++) out[i] = k * x[i] + y[i];
}
__attribute__((noinline)) static void saxpy_f(float k, const float *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] = k * x[i] + y[i];
}
__attribute__((noinline)) static void brighten(uint8_t *p, int n, int add) {
    for (int i = 0; i < n; i++) {
        int v = p[i] + add;
        p[i] = (uint8_t)(v > 255 ? 255 : v);
    }
}
__attribute__((noinline)) static int32_t dot16(const int16_t *a, const int16_t *b, int n) {
    uint32_t s = 0; /* unsigned accumulation: wraps without undefined behaviour */
    for (int i = 0; i < n; i++) s += (uint32_t)(a[i] * b[i]);
    return (int32_t)s;
}
__attribute__((noinline)) static void minmax(const int32_t *a, int n, int32_t *mn, int32_t *mx, int64_t *sum) {
    int32_t lo = a[0], hi = a[0];
    int64_t s = 0;
    for (int i = 0; i < n; i++) {
        lo = a[i] < lo ? a[i] : lo;
        hi = a[i] > hi ? a[i] : hi;
        s += a[i];
    }
    *mn = lo;
    *mx = hi;
    *sum = s;
}
__attribute__((noinline)) static void select_abs(const int32_t *a, int32_t *out, int n) {
    for (int i = 0; i < n; i++) out[i] = a[i] < 0 ? -a[i] : a[i] * 2;
}
__attribute__((noinline)) static void deinterleave(const uint8_t *rgb, uint8_t *r, uint8_t *g, uint8_t *b, int pixels) {
    for (int i = 0; i < pixels; i++) {
        r[i] = rgb[3 * i];
        g[i] = rgb[3 * i + 1];
        b[i] = rgb[3 * i + 2];
    }
}

int main(void) {
    uint64_t st = 3;
    for (int i = 0; i < N; i++) {
        uint64_t r = guest_rand(&st);
        ia[i] = (int32_t)(r & 0xfffff) - 0x80000;
        ib[i] = (int32_t)((r >> 20) & 0xffff) - 0x8000;
        fa[i] = (float)(int32_t)(r >> 40) / 1024.0f;
        fb[i] = (float)i * 0.25f;
        ba[i] = (uint8_t)(r >> 8);
        sa[i] = (int16_t)(r >> 24);
        sb[i] = (int16_t)(r >> 48);
    }
    saxpy_i(7, ia, ib, ic, N);
    int bad = 0;
    for (int i = 0; i < N; i++) bad += ic[i] != 7 * ia[i] + ib[i];
    printf("saxpy int: fnv=%016llx bad=%d\n", (unsigned long long)guest_fnv(ic, sizeof ic), bad);
    CHECK(bad == 0);
    saxpy_f(1.5f, fa, fb, N);
    printf("saxpy float: fnv=%016llx fb[100]=%a\n", (unsigned long long)guest_fnv(fb, sizeof fb), (double)fb[100]);
    memcpy(bb, ba, N);
    brighten(bb, N, 77);
    bad = 0;
    for (int i = 0; i < N; i++) bad += bb[i] != (ba[i] + 77 > 255 ? 255 : ba[i] + 77);
    printf("saturating brighten: fnv=%016llx bad=%d\n", (unsigned long long)guest_fnv(bb, N), bad);
    CHECK(bad == 0);
    int32_t d = dot16(sa, sb, N);
    int64_t d2 = 0;
    for (int i = 0; i < N; i++) d2 += (int64_t)sa[i] * sb[i];
    printf("dot16 = %d (wrapped 32-bit) exact64 = %lld\n", d, (long long)d2);
    CHECK(d == (int32_t)(uint32_t)(uint64_t)d2);
    int32_t mn, mx;
    int64_t sum;
    minmax(ia, N, &mn, &mx, &sum);
    printf("min=%d max=%d sum=%lld\n", mn, mx, (long long)sum);
    select_abs(ia, ic, N);
    printf("select: fnv=%016llx\n", (unsigned long long)guest_fnv(ic, sizeof ic));
    static uint8_t r[N / 3 + 1], g[N / 3 + 1], b[N / 3 + 1];
    deinterleave(ba, r, g, b, N / 3);
    printf("deinterleave: r=%016llx g=%016llx b=%016llx\n", (unsigned long long)guest_fnv(r, N / 3),
           (unsigned long long)guest_fnv(g, N / 3), (unsigned long long)guest_fnv(b, N / 3));
    CHECK(r[10] == ba[30] && g[10] == ba[31] && b[10] == ba[32]);

    /* Vector extensions. */
    v4si x = {1, -2, 3, -4}, y = {10, 20, 30, 40};
    v4si s = x * y + (y >> 1) - (x & 3);
    v4si m = x > 0; /* -1 where true */
    v4si sel = (m & y) | (~m & -y);
    v4si mask = {3, 2, 1, 0};
    v4si rev = __builtin_shuffle(y, mask);
    v4si mask2 = {0, 4, 1, 5};
    v4si zip = __builtin_shuffle(x, y, mask2);
    printf("v4si: s={%d,%d,%d,%d} m={%d,%d,%d,%d} sel={%d,%d,%d,%d} rev={%d,%d,%d,%d} zip={%d,%d,%d,%d}\n", s[0], s[1],
           s[2], s[3], m[0], m[1], m[2], m[3], sel[0], sel[1], sel[2], sel[3], rev[0], rev[1], rev[2], rev[3], zip[0],
           zip[1], zip[2], zip[3]);
    CHECK(s[1] == -40 + 10 - 2 && m[1] == 0 && m[0] == -1 && sel[1] == -20 && rev[0] == 40 && zip[1] == 10);
    v16qu bytes, add = {250, 250, 250, 250, 1, 1, 1, 1, 0, 0, 0, 0, 128, 128, 128, 128};
    for (int i = 0; i < 16; i++) bytes[i] = (uint8_t)(i * 17);
    v16qu wrapped = bytes + add;
    v16qu avg = (v16qu)((bytes >> 1) + (add >> 1));
    printf("v16qu wrapped:");
    for (int i = 0; i < 16; i++) printf(" %u", wrapped[i]);
    printf(" | avg:");
    for (int i = 0; i < 16; i++) printf(" %u", avg[i]);
    printf("\n");
    v4sf fx = {1.5f, -2.25f, 3.0f, 0.1f}, fy = {2.0f, 4.0f, -1.0f, 10.0f};
    v4sf fz = fx * fy + fx / fy;
    v2df dx = {1e300, -0.5}, dy = {1e10, 3.0};
    v2df dz = dx * dy - dy;
    printf("v4sf: %a %a %a %a v2df: %g %g\n", (double)fz[0], (double)fz[1], (double)fz[2], (double)fz[3], dz[0], dz[1]);
    v8hi h = {32767, -32768, 1, -1, 1000, -1000, 0, 12345};
    v8hi h2 = (v8hi)((v8hu)h + (v8hu)h); /* wraps (in unsigned lanes: no UB) */
    v8hi h3 = (v8hi)((v8hu)h * (v8hu){2, 2, 3, 3, 40, 40, 5, 5});
    printf("v8hi: ");
    for (int i = 0; i < 8; i++) printf("%d/%d ", h2[i], h3[i]);
    printf("\n");
    printf("simd_loops done, failures=%d\n", guest_failures);
    return guest_status();
}
