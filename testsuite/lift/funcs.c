/* Small functions for the lifted-IR golden tests (testsuite/tests/lifted_ir.rs).
 *
 * Each function exercises one lifting path of the riscv64 frontend; the test
 * lifts it from the -O0 and -O2 builds, compares the lifted and optimized IR
 * with golden files in golden/<fixture>/<function>.ir, and runs several of
 * them on the IR interpreter against the values computed here.
 *
 * Every function is noipa (so noinline, and no clones such as .constprop or
 * .isra that would rename it); main calls each once through volatile inputs
 * so none is folded away. Built with -fno-tree-loop-distribute-patterns so
 * the byte loop stays a loop instead of becoming a call to memcpy.
 *
 * Keep the functions and their order stable: the golden files name guest
 * addresses, so any change here means re-blessing every golden.
 */
#include <stdio.h>

#define FN __attribute__((noinline, noipa))

/* 32-bit integer arithmetic: addw, slliw, sraiw, subw, mulw, 32-bit compare. */
FN int arith32(int a, int b)
{
    int s = a + b;
    int t = s << 3;
    if (t > b)
        return t - a;
    return (a >> 2) * b;
}

/* A counted loop over an array of 64-bit values. */
FN long sum_array(const long *p, long n)
{
    long s = 0;
    for (long i = 0; i < n; i++)
        s += p[i];
    return s;
}

/* A dense switch with distinct computations per case: a jump table. */
FN long switch_table(long k, long a, long b)
{
    switch (k) {
    case 0:
        return a + b;
    case 1:
        return a - b;
    case 2:
        return a * b;
    case 3:
        return a ^ b;
    case 4:
        return a << (b & 63);
    case 5:
        return a | b;
    case 6:
        return (a & b) + 1;
    default:
        return -1;
    }
}

/* The callee of call_other and tail_call. */
FN long square_plus(long x, long y)
{
    return x * x + y;
}

/* Two guest calls, each with a continuation that uses the result. */
FN long call_other(long x)
{
    long y = square_plus(x, 3);
    return y + square_plus(y, x);
}

/* A call in tail position: a plain jump at -O2. */
FN long tail_call(long x)
{
    return square_plus(x + 1, x);
}

/* 64-bit signed division and remainder: div, rem. */
FN long sdiv(long a, long b)
{
    return a / b * 1000 + a % b;
}

/* 32-bit unsigned division and remainder: divuw, remuw. */
FN unsigned udiv32(unsigned a, unsigned b)
{
    return a / b * 1000u + a % b;
}

/* Double precision; a * b + c contracts to fmadd.d at -O2. */
FN double fma_like(double a, double b, double c)
{
    return a * b + c - a / 4.0;
}

/* Single precision: flw/fsw, NaN-boxed values in the FP registers. */
FN float single_math(float x, float y)
{
    return x * y - x / y + 1.5f;
}

/* double -> int: fcvt.w.d with round-towards-zero. */
FN int d2i(double d)
{
    return (int)d;
}

/* Atomic fetch-and-add: amoadd.d.aqrl. */
FN long atomic_add(long *p, long v)
{
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}

/* Compare-and-swap loop: lr.w/sc.w. Returns the value replaced. */
FN int cas_update(int *p, int v)
{
    int old = __atomic_load_n(p, __ATOMIC_RELAXED);
    while (!__atomic_compare_exchange_n(p, &old, old * 2 + v, 1, __ATOMIC_SEQ_CST,
                                        __ATOMIC_RELAXED))
        ;
    return old;
}

/* A memcpy-like byte loop. */
FN void copy_bytes(char *d, const char *s, long n)
{
    for (long i = 0; i < n; i++)
        d[i] = s[i];
}

static volatile long vl[4] = {5, 7, 3, 2};
static volatile double vd[3] = {1.5, -2.25, 10.0};
static volatile float vf[2] = {3.0f, 0.5f};

int main(void)
{
    long arr[4] = {vl[0], vl[1], vl[2], vl[3]};
    long acc = 0;
    int shared = (int)vl[2];
    long counter = vl[0];
    char dst[8];
    char src[8] = "abcdefg";

    acc += arith32((int)vl[0], (int)vl[1]);
    acc += sum_array(arr, 4);
    acc += switch_table(vl[2], vl[0], vl[1]);
    acc += call_other(vl[3]);
    acc += tail_call(vl[2]);
    acc += sdiv(vl[1] * 100, vl[2]);
    acc += udiv32((unsigned)vl[1] * 100u, (unsigned)vl[2]);
    acc += (long)fma_like(vd[0], vd[1], vd[2]);
    acc += (long)single_math(vf[0], vf[1]);
    acc += d2i(vd[1]);
    acc += atomic_add(&counter, vl[1]);
    acc += cas_update(&shared, (int)vl[3]);
    copy_bytes(dst, src, (long)sizeof src);
    printf("%ld %ld %d %s\n", acc, counter, shared, dst);
    return 0;
}
