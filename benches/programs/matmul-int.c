/* Dense 32-bit integer matrix multiply C = A * B (n x n, i-k-j order),
 * repeated with the previous product folded into A; each product is
 * verified with Freivalds' check (A * (B * x) == C * x, exact in modular
 * arithmetic). Size: matrix dimension. */
#include "common.h"

static void matmul(int n, const uint32_t *a, const uint32_t *b, uint32_t *c) {
    memset(c, 0, sizeof(uint32_t) * (size_t)n * n);
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            uint32_t aik = a[(size_t)i * n + k];
            const uint32_t *brow = b + (size_t)k * n;
            uint32_t *crow = c + (size_t)i * n;
            for (int j = 0; j < n; j++)
                crow[j] += aik * brow[j];
        }
}

static void matvec(int n, const uint32_t *m, const uint32_t *x, uint32_t *y) {
    for (int i = 0; i < n; i++) {
        uint32_t s = 0;
        for (int j = 0; j < n; j++)
            s += m[(size_t)i * n + j] * x[j];
        y[i] = s;
    }
}

int main(int argc, char **argv) {
    int n = (int)arg_size(argc, argv, 800);
    size_t nn = (size_t)n * n;
    uint32_t *a = malloc(4 * nn), *b = malloc(4 * nn), *c = malloc(4 * nn);
    uint32_t *x = malloc(4 * n), *bx = malloc(4 * n), *abx = malloc(4 * n), *cx = malloc(4 * n);
    for (size_t i = 0; i < nn; i++) {
        a[i] = (uint32_t)rng_next();
        b[i] = (uint32_t)rng_next();
    }
    for (int i = 0; i < n; i++)
        x[i] = (uint32_t)rng_next();
    uint64_t sum = 0;
    for (int rep = 0; rep < 3; rep++) {
        matmul(n, a, b, c);
        matvec(n, b, x, bx);
        matvec(n, a, bx, abx);
        matvec(n, c, x, cx);
        if (memcmp(abx, cx, 4 * (size_t)n) != 0)
            fail("matmul-int", "Freivalds check A*(B*x) != (A*B)*x");
        for (size_t i = 0; i < nn; i += 97)
            sum = mix(sum, c[i]);
        for (size_t i = 0; i < nn; i++)
            a[i] ^= c[i] >> 7;
    }
    report("matmul-int", sum);
    return 0;
}
