/* Quicksort (own implementation: median of three, insertion sort for
 * short ranges, recursion on the smaller side) of 10^7 generated 32-bit
 * integers. Verifies the result is ordered and is a permutation of the
 * input (order-independent sums). Size: number of integers. */
#include "common.h"

static void insertion(int32_t *a, long n) {
    for (long i = 1; i < n; i++) {
        int32_t v = a[i];
        long j = i;
        while (j > 0 && a[j - 1] > v) {
            a[j] = a[j - 1];
            j--;
        }
        a[j] = v;
    }
}

static void swap(int32_t *a, long i, long j) {
    int32_t t = a[i];
    a[i] = a[j];
    a[j] = t;
}

static void quicksort(int32_t *a, long n) {
    while (n > 24) {
        long m = n / 2;
        if (a[m] < a[0])
            swap(a, m, 0);
        if (a[n - 1] < a[0])
            swap(a, n - 1, 0);
        if (a[n - 1] < a[m])
            swap(a, n - 1, m);
        int32_t pivot = a[m];
        long i = 0, j = n - 1;
        for (;;) {
            while (a[i] < pivot)
                i++;
            while (a[j] > pivot)
                j--;
            if (i >= j)
                break;
            swap(a, i, j);
            i++;
            j--;
        }
        long left = j + 1;
        if (left < n - left) {
            quicksort(a, left);
            a += left;
            n -= left;
        } else {
            quicksort(a + left, n - left);
            n = left;
        }
    }
    insertion(a, n);
}

int main(int argc, char **argv) {
    long n = arg_size(argc, argv, 10000000);
    int32_t *a = malloc(sizeof(int32_t) * (size_t)n);
    uint64_t s1 = 0, s2 = 0;
    for (long i = 0; i < n; i++) {
        a[i] = (int32_t)rng_next();
        s1 += (uint64_t)(int64_t)a[i];
        s2 += (uint64_t)a[i] * (uint64_t)a[i] * 0x9e3779b97f4a7c15ull;
    }
    quicksort(a, n);
    uint64_t t1 = 0, t2 = 0, sum = 0;
    for (long i = 0; i < n; i++) {
        if (i > 0 && a[i - 1] > a[i])
            fail("qsort", "not sorted");
        t1 += (uint64_t)(int64_t)a[i];
        t2 += (uint64_t)a[i] * (uint64_t)a[i] * 0x9e3779b97f4a7c15ull;
    }
    if (s1 != t1 || s2 != t2)
        fail("qsort", "output is not a permutation of the input");
    for (long i = 0; i < n; i += n / 1000 + 1)
        sum = mix(sum, (uint32_t)a[i]);
    printf("qsort min %d max %d\n", a[0], a[n - 1]);
    report("qsort", sum);
    free(a);
    return 0;
}
