/* C11 <stdatomic.h> and GCC __sync/__atomic builtins.
 * Single thread, on 8-, 16-, 32- and 64-bit objects (sub-word atomics become
 * masked LR/SC loops on riscv64, in libatomic with GCC 12): fetch_add/sub/
 * and/or/xor, exchange, compare_exchange strong and weak (success and
 * failure paths, expected value updated on failure), load/store with every
 * memory order, atomic_flag test_and_set/clear, fences,
 * __sync_val/bool_compare_and_swap, __sync_lock_test_and_set,
 * __atomic_*_fetch (new-value forms); sub-word atomics must not disturb
 * neighbouring bytes.
 * Under contention from 4 threads: fetch_add on 64/32/16/8-bit counters
 * (final values are deterministic, including sub-word wrap-around), a
 * CAS-loop increment, a CAS-loop maximum, a spinlock built on atomic_flag
 * protecting plain data, __sync_fetch_and_add, and a single-producer/
 * single-consumer ring buffer using acquire/release that must deliver every
 * value exactly once and in order.  Only final values are printed.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include "guest.h"
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include "guest.h"

#define TEST_WIDTH(T, FMT, name)                                                                           \
    do {                                                                                                   \
        static _Atomic T a;                                                                                \
        atomic_store(&a, (T)0x5a);                                                                         \
        T o1 = atomic_fetch_add(&a, (T)200);                                                               \
        T o2 = atomic_fetch_sub_explicit(&a, (T)300, memory_order_acq_rel);                                \
        T o3 = atomic_fetch_or(&a, (T)0x0f);                                                               \
        T o4 = atomic_fetch_and_explicit(&a, (T)~(T)0x30, memory_order_release);                           \
        T o5 = atomic_fetch_xor(&a, (T)0xff);                                                              \
        T o6 = atomic_exchange(&a, (T)-1);                                                                 \
        T exp = 0;                                                                                         \
        _Bool c1 = atomic_compare_exchange_strong(&a, &exp, (T)7); /* fails, exp := -1 */                  \
        T exp_after = exp;                                                                                 \
        _Bool c2 = atomic_compare_exchange_strong(&a, &exp, (T)7); /* succeeds */                          \
        T weak_exp = 7;                                                                                    \
        int spins = 0;                                                                                     \
        while (!atomic_compare_exchange_weak_explicit(&a, &weak_exp, (T)(weak_exp * 3), memory_order_acquire, \
                                                      memory_order_relaxed))                               \
            spins++;                                                                                       \
        T fin = atomic_load_explicit(&a, memory_order_seq_cst);                                            \
        (void)spins;                                                                                       \
        printf("%-8s lockfree=%d old: " FMT " " FMT " " FMT " " FMT " " FMT " " FMT " cas: %d(" FMT ") %d final=" FMT \
               "\n",                                                                                        \
               name, (int)atomic_is_lock_free(&a), o1, o2, o3, o4, o5, o6, c1, exp_after, c2, fin);           \
        CHECK(!c1 && c2 && exp_after == (T)-1 && fin == (T)21);                                            \
    } while (0)

static int64_t sync64;
static uint16_t sync16;
static uint8_t sync8;

static void single_thread_tests(void) {
    TEST_WIDTH(uint8_t, "%" PRIu8, "uint8");
    TEST_WIDTH(int8_t, "%" PRId8, "int8");
    TEST_WIDTH(uint16_t, "%" PRIu16, "uint16");
    TEST_WIDTH(int16_t, "%" PRId16, "int16");
    TEST_WIDTH(uint32_t, "%" PRIu32, "uint32");
    TEST_WIDTH(int32_t, "%" PRId32, "int32");
    TEST_WIDTH(uint64_t, "%" PRIu64, "uint64");
    TEST_WIDTH(int64_t, "%" PRId64, "int64");

    /* (A weak CAS may fail spuriously on LL/SC machines, so the number of
     * retries is not printed: it is not deterministic.) */
    /* Sub-word atomics must not disturb neighbouring bytes. */
    static struct {
        uint8_t before;
        _Atomic uint8_t b;
        _Atomic uint16_t h;
        uint8_t after[3];
    } packed = {0x11, 0, 0, {0x22, 0x33, 0x44}};
    for (int i = 0; i < 1000; i++) {
        atomic_fetch_add(&packed.b, 3);
        atomic_fetch_sub(&packed.h, 7);
    }
    printf("neighbours: before=%02x b=%u h=%u after=%02x%02x%02x\n", packed.before, (unsigned)packed.b,
           (unsigned)packed.h, packed.after[0], packed.after[1], packed.after[2]);
    CHECK(packed.before == 0x11 && packed.after[0] == 0x22 && packed.after[2] == 0x44);
    CHECK(packed.b == (uint8_t)3000 && packed.h == (uint16_t)-7000);

    /* atomic_flag */
    atomic_flag f = ATOMIC_FLAG_INIT;
    int t1 = atomic_flag_test_and_set(&f), t2 = atomic_flag_test_and_set(&f);
    atomic_flag_clear(&f);
    int t3 = atomic_flag_test_and_set_explicit(&f, memory_order_acquire);
    printf("atomic_flag: %d %d %d\n", t1, t2, t3);
    CHECK(t1 == 0 && t2 == 1 && t3 == 0);
    atomic_thread_fence(memory_order_seq_cst);
    atomic_signal_fence(memory_order_acq_rel);

    /* __sync builtins */
    int64_t v1 = __sync_fetch_and_add(&sync64, 5);
    int64_t v2 = __sync_add_and_fetch(&sync64, 10);
    int64_t v3 = __sync_val_compare_and_swap(&sync64, 15, -100);
    _Bool b1 = __sync_bool_compare_and_swap(&sync64, 15, 0);
    int64_t v4 = __sync_lock_test_and_set(&sync64, 1);
    __sync_lock_release(&sync64);
    uint16_t h1 = __sync_fetch_and_nand(&sync16, 0x0ff0);
    uint16_t h2 = __sync_or_and_fetch(&sync16, 0x8001);
    uint8_t q1 = __sync_sub_and_fetch(&sync8, 1);
    __sync_synchronize();
    printf("__sync: %" PRId64 " %" PRId64 " %" PRId64 " %d %" PRId64 " released=%" PRId64 " nand/or16: %u %u sub8: %u\n",
           v1, v2, v3, b1, v4, sync64, h1, h2, q1);
    CHECK(v3 == 15 && !b1 && v4 == -100 && sync64 == 0 && h2 == 0xffff && q1 == 255);
    /* __atomic generic builtins */
    uint32_t w = 10, out = 0, desired = 99;
    __atomic_store_n(&w, 20, __ATOMIC_RELEASE);
    uint32_t n1 = __atomic_add_fetch(&w, 5, __ATOMIC_SEQ_CST);
    uint32_t n2 = __atomic_nand_fetch(&w, 0xf0, __ATOMIC_RELAXED);
    __atomic_exchange(&w, &desired, &out, __ATOMIC_ACQ_REL);
    uint32_t expect = 99;
    _Bool ok = __atomic_compare_exchange_n(&w, &expect, 1234, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    printf("__atomic: %u %u out=%u cas=%d w=%u\n", n1, n2, out, ok, __atomic_load_n(&w, __ATOMIC_ACQUIRE));
    CHECK(n1 == 25 && n2 == ~(25u & 0xf0) && ok && w == 1234);
}

#define THREADS 4
#define ITERS 20000

static _Atomic uint64_t c64;
static _Atomic uint32_t c32;
static _Atomic uint16_t c16;
static _Atomic uint8_t c8;
static _Atomic int64_t cas_counter;
static _Atomic int64_t max_seen;
static atomic_flag spin = ATOMIC_FLAG_INIT;
static int64_t plain_sum;      /* protected by spin */
static uint64_t plain_hash;    /* protected by spin; order-independent (sum of squares) */
static long sync_counter;

static void *worker(void *arg) {
    long id = (long)arg;
    for (int i = 0; i < ITERS; i++) {
        atomic_fetch_add_explicit(&c64, 3, memory_order_relaxed);
        atomic_fetch_add(&c32, 5);
        atomic_fetch_add(&c16, 7);
        atomic_fetch_sub(&c8, 1);
        int64_t old = atomic_load_explicit(&cas_counter, memory_order_relaxed);
        while (!atomic_compare_exchange_weak(&cas_counter, &old, old + 2)) {
        }
        int64_t cand = id * 1000000 + i, cur = atomic_load(&max_seen);
        while (cand > cur && !atomic_compare_exchange_weak(&max_seen, &cur, cand)) {
        }
        if (i % 4 == 0) {
            while (atomic_flag_test_and_set_explicit(&spin, memory_order_acquire)) {
            }
            plain_sum += i + id;
            plain_hash += (uint64_t)(i + 1) * (uint64_t)(i + 1) * (uint64_t)(id + 1);
            atomic_flag_clear_explicit(&spin, memory_order_release);
        }
        __sync_fetch_and_add(&sync_counter, 1);
    }
    return NULL;
}

#define RING 64
#define MESSAGES 50000
static uint64_t ring[RING];
static _Atomic uint32_t head, tail; /* head: next write (producer), tail: next read (consumer) */

static void *producer(void *arg) {
    (void)arg;
    for (uint32_t i = 0; i < MESSAGES; i++) {
        uint32_t h = atomic_load_explicit(&head, memory_order_relaxed);
        while (h - atomic_load_explicit(&tail, memory_order_acquire) == RING) {
        }
        ring[h % RING] = (uint64_t)i * 2654435761u;
        atomic_store_explicit(&head, h + 1, memory_order_release);
    }
    return NULL;
}

static void *consumer(void *arg) {
    uint64_t *result = arg;
    uint64_t sum = 0, in_order = 1;
    for (uint32_t i = 0; i < MESSAGES; i++) {
        uint32_t t = atomic_load_explicit(&tail, memory_order_relaxed);
        while (atomic_load_explicit(&head, memory_order_acquire) == t) {
        }
        uint64_t v = ring[t % RING];
        if (v != (uint64_t)i * 2654435761u) in_order = 0;
        sum += v;
        atomic_store_explicit(&tail, t + 1, memory_order_release);
    }
    result[0] = sum;
    result[1] = in_order;
    return NULL;
}

static void multi_thread_tests(void) {
    pthread_t th[THREADS];
    for (long i = 0; i < THREADS; i++) pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < THREADS; i++) pthread_join(th[i], NULL);
    printf("c64=%llu c32=%u c16=%u c8=%u\n", (unsigned long long)c64, (unsigned)c32, (unsigned)c16, (unsigned)c8);
    CHECK(c64 == 3ull * THREADS * ITERS && c32 == 5u * THREADS * ITERS);
    CHECK(c16 == (uint16_t)(7 * THREADS * ITERS) && c8 == (uint8_t)(0 - THREADS * ITERS));
    printf("cas_counter=%lld max_seen=%lld sync_counter=%ld\n", (long long)cas_counter, (long long)max_seen,
           sync_counter);
    CHECK(cas_counter == 2LL * THREADS * ITERS && max_seen == (THREADS - 1) * 1000000LL + ITERS - 1);
    CHECK(sync_counter == (long)THREADS * ITERS);
    printf("spinlock-protected sum=%lld hash=%llu\n", (long long)plain_sum, (unsigned long long)plain_hash);
    int64_t expect_sum = 0;
    for (int id = 0; id < THREADS; id++)
        for (int i = 0; i < ITERS; i += 4) expect_sum += i + id;
    CHECK(plain_sum == expect_sum);

    pthread_t p, c;
    uint64_t result[2] = {0, 0};
    pthread_create(&c, NULL, consumer, result);
    pthread_create(&p, NULL, producer, NULL);
    pthread_join(p, NULL);
    pthread_join(c, NULL);
    printf("ring buffer: %d messages, sum=%llu, in order=%llu\n", MESSAGES, (unsigned long long)result[0],
           (unsigned long long)result[1]);
    CHECK(result[1] == 1);
}

int main(void) {
    single_thread_tests();
    multi_thread_tests();
    printf("atomics done, failures=%d\n", guest_failures);
    return guest_status();
}
