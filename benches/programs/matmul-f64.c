/* Dense double matrix multiply C = A * B (n x n, i-k-j order), verified
 * with Freivalds' check within a rounding tolerance, and against a naive
 * i-j-k product on a sample of entries. Built with -ffp-contract=off, so
 * every ISA rounds the same operations and the checksum is exact.
 * Size: matrix dimension. */
#include <math.h>
#include "common.h"

static void matmul(int n, const double *a, const double *b, double *c) {
    memset(c, 0, sizeof(double) * (size_t)n * n);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[(size_t)i * n + k];
            const double *brow = b + (size_t)k * n;
            double *crow = c + (size_t)i * n;
            for (int j = 0; j < n; j++)
                crow[j] += aik * brow[j];
        }
}

static void matvec(int n, const double *m, const double *x, double *y) {
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < n; j++)
            s += m[(size_t)i * n + j] * x[j];
        y[i] = s;
    }
}

int main(int argc, char **argv) {
    int n = (int)arg_size(argc, argv, 800);
    size_t nn = (size_t)n * n;
    double *a = malloc(8 * nn), *b = malloc(8 * nn), *c = malloc(8 * nn);
    double *x = malloc(8 * n), *bx = malloc(8 * n), *abx = malloc(8 * n), *cx = malloc(8 * n);
    for (size_t i = 0; i < nn; i++) {
        a[i] = rng_double() * 2 - 1;
        b[i] = rng_double() * 2 - 1;
    }
    for (int i = 0; i < n; i++)
        x[i] = rng_double();
    uint64_t sum = 0;
    for (int rep = 0; rep < 2; rep++) {
        matmul(n, a, b, c);
        matvec(n, b, x, bx);
        matvec(n, a, bx, abx);
        matvec(n, c, x, cx);
        for (int i = 0; i < n; i++)
            if (fabs(abx[i] - cx[i]) > 1e-9 * n * n)
                fail("matmul-f64", "Freivalds check A*(B*x) != (A*B)*x");
        for (int s = 0; s < 64; s++) {
            int i = (int)(rng_next() % (uint64_t)n), j = (int)(rng_next() % (uint64_t)n);
            double ref = 0;
            for (int k = 0; k < n; k++)
                ref += a[(size_t)i * n + k] * b[(size_t)k * n + j];
            if (fabs(ref - c[(size_t)i * n + j]) > 1e-12 * n)
                fail("matmul-f64", "sampled entry differs from the naive product");
        }
        for (size_t i = 0; i < nn; i += 89) {
            uint64_t v;
            memcpy(&v, &c[i], 8);
            sum = mix(sum, v);
        }
        for (size_t i = 0; i < nn; i++)
            a[i] = c[i] / n;
    }
    printf("matmul-f64 c[0] %.12e\n", c[0]);
    report("matmul-f64", sum);
    return 0;
}
