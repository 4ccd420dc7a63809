/* Deep recursion and call-heavy code: a non-tail recursive sum 100000 calls
 * deep (a few MB of the default 8 MB stack, at -O0 too), 30000 frames of 64+
 * bytes of locals, mutual recursion 100000 deep (is_even/is_odd),
 * Ackermann(2,500) and (3,6), naive Fibonacci (many short calls), recursion
 * with variable-length arrays and a recursive permutation generator.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

static volatile int sink;

/* Not a tail call: the addition happens after the call returns; the volatile
 * access keeps the compiler from turning it into a loop. */
__attribute__((noinline)) static uint64_t deep_sum(uint32_t n) {
    if (n == 0) return 0;
    uint64_t r = deep_sum(n - 1);
    sink = (int)n;
    return r + n * (uint64_t)n;
}

__attribute__((noinline)) static int depth_with_frame(int n, int max) {
    volatile char frame[64];
    frame[n & 63] = (char)n;
    if (n == max) return frame[n & 63];
    return depth_with_frame(n + 1, max) + (frame[n & 63] != (char)n);
}

static int is_odd(unsigned n);
__attribute__((noinline)) static int is_even(unsigned n) { return n == 0 ? 1 : is_odd(n - 1) + 0 * sink; }
__attribute__((noinline)) static int is_odd(unsigned n) { return n == 0 ? 0 : is_even(n - 1) + 0 * sink; }

static unsigned long ack(unsigned long m, unsigned long n) {
    if (m == 0) return n + 1;
    if (n == 0) return ack(m - 1, 1);
    return ack(m - 1, ack(m, n - 1));
}

static unsigned fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

static int vla_rec(int n) {
    int buf[n + 8];
    for (int i = 0; i < n + 8; i++) buf[i] = i * n;
    if (n == 0) return buf[7];
    return vla_rec(n - 1) + buf[n + 7] - buf[n];
}

static char perm[8];
static unsigned long perm_count, perm_hash;
static void permute(int k, int n) {
    if (k == n) {
        perm_count++;
        for (int i = 0; i < n; i++) perm_hash = perm_hash * 31 + (unsigned long)perm[i];
        return;
    }
    for (int i = k; i < n; i++) {
        char t = perm[k];
        perm[k] = perm[i];
        perm[i] = t;
        permute(k + 1, n);
        perm[i] = perm[k];
        perm[k] = t;
    }
}

int main(void) {
    uint64_t s = deep_sum(100000);
    printf("deep_sum(100000) = %llu\n", (unsigned long long)s);
    CHECK(s == 100000ull * 100001 * 200001 / 6);
    int d = depth_with_frame(0, 30000);
    printf("depth_with_frame(30000) = %d\n", d);
    CHECK(d == (char)30000);
    printf("is_even(100001)=%d is_odd(77777)=%d\n", is_even(100001), is_odd(77777));
    CHECK(!is_even(100001) && is_odd(77777));
    printf("ack(2,500)=%lu ack(3,6)=%lu\n", ack(2, 500), ack(3, 6));
    CHECK(ack(2, 500) == 1003 && ack(3, 6) == 509);
    printf("fib(25)=%u\n", fib(25));
    CHECK(fib(25) == 75025);
    printf("vla_rec(200)=%d\n", vla_rec(200));
    memcpy(perm, "abcdefg", 7);
    permute(0, 7);
    printf("permutations of 7: %lu hash=%lx\n", perm_count, perm_hash);
    CHECK(perm_count == 5040);
    printf("recursion done, failures=%d\n", guest_failures);
    return guest_status();
}
