/* Call-heavy recursion: naive recursive Fibonacci plus the Ackermann
 * function, checked against iterative/closed forms. Size: n of fib(n). */
#include "common.h"

__attribute__((noinline)) static uint64_t fib(int n) {
    return n < 2 ? (uint64_t)n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) static uint64_t ack(uint64_t m, uint64_t n) {
    if (m == 0)
        return n + 1;
    if (n == 0)
        return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

int main(int argc, char **argv) {
    int n = (int)arg_size(argc, argv, 42);
    uint64_t a = 0, b = 1;
    for (int i = 0; i < n; i++) {
        uint64_t t = a + b;
        a = b;
        b = t;
    }
    uint64_t f = fib(n);
    if (f != a)
        fail("fib", "recursive fib differs from iterative");
    uint64_t k = ack(2, (uint64_t)n * 100);
    if (k != 2 * (uint64_t)n * 100 + 3)
        fail("fib", "ackermann(2, n) != 2n + 3");
    printf("fib(%d) = %llu\n", n, (unsigned long long)f);
    report("fib", mix(f, k));
    return 0;
}
