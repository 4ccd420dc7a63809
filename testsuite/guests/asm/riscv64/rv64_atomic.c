/* Driver for asm/riscv64/rv64_atomic.S (riscv64 only): LR/SC loops (also from
 * 4 threads at once), a second SC without a new LR failing, all AMOs in .w
 * and .d forms, fences, and fence.i with freshly written code.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include "guest.h"

extern uint64_t rv_lrsc_add64(uint64_t *, uint64_t);
extern int64_t rv_lrsc_add32(int32_t *, int32_t);
extern uint64_t rv_sc_twice(uint64_t *);
extern void rv_amo64(uint64_t *, uint64_t, uint64_t *, uint64_t);
extern void rv_amo32(uint32_t *, uint32_t, int64_t *, uint32_t);
extern int64_t rv_fences(int64_t);
extern int64_t rv_patch_and_call(uint32_t *, int);

static uint64_t shared64;
static int32_t shared32;
static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        rv_lrsc_add64(&shared64, 3);
        rv_lrsc_add32(&shared32, -1);
    }
    return NULL;
}

int main(void) {
    uint64_t x = 40;
    uint64_t old = rv_lrsc_add64(&x, 2);
    int32_t w = 0x7fffffff;
    int64_t oldw = rv_lrsc_add32(&w, 1);
    int32_t w2 = -5;
    int64_t oldw2 = rv_lrsc_add32(&w2, 1);
    printf("lr/sc add64: old=%" PRIu64 " new=%" PRIu64 "; add32: old=%" PRId64 " new=%" PRId32 "; old(-5)=%" PRId64 "\n",
           old, x, oldw, w, oldw2);
    CHECK(old == 40 && x == 42 && oldw == 0x7fffffff && w == INT32_MIN && oldw2 == -5);
    uint64_t y = 100;
    uint64_t r = rv_sc_twice(&y);
    printf("sc twice: first sc=%" PRIu64 " (0=success) second sc=%" PRIu64 " (1=failed) value=%" PRIu64 "\n", r & 1,
           r >> 1, y);
    CHECK(r == 2 && y == 101);

    static const char *names[9] = {"swap", "add", "and", "or", "xor", "min", "max", "minu", "maxu"};
    static const uint64_t inits[] = {0x00000000000000f0ull, 0x8000000000000000ull, 0xffffffffffffffffull};
    static const uint64_t operands[] = {0x8000000000000011ull, 5, 0x7fffffffffffffffull};
    static const uint32_t inits32[] = {0x000000f0u, 0x80000000u, 0xffffffffu};
    static const uint32_t operands32[] = {0x80000011u, 5, 0x7fffffffu};
    for (int k = 0; k < 3; k++) {
        uint64_t m, out[18];
        rv_amo64(&m, operands[k], out, inits[k]);
        printf("amo.d init=%016" PRIx64 " v=%016" PRIx64 "\n", inits[k], operands[k]);
        for (int i = 0; i < 9; i++)
            printf("  %-4s old=%016" PRIx64 " new=%016" PRIx64 "%s", names[i], out[2 * i], out[2 * i + 1], i % 2 ? "\n" : "");
        printf("\n");
        uint32_t m32;
        int64_t o32[18];
        rv_amo32(&m32, operands32[k], o32, inits32[k]);
        printf("amo.w init=%08" PRIx32 " v=%08" PRIx32 "\n", inits32[k], operands32[k]);
        for (int i = 0; i < 9; i++)
            printf("  %-4s old=%016" PRIx64 " new=%016" PRIx64 "%s", names[i], (uint64_t)o32[2 * i], (uint64_t)o32[2 * i + 1],
                   i % 2 ? "\n" : "");
        printf("\n");
        if (k == 0) {
            CHECK(out[0] == 0xf0 && out[1] == operands[0] && out[11] == operands[0] && out[13] == 0xf0);
            CHECK(out[15] == 0xf0 && out[17] == operands[0]);
            CHECK(o32[0] == 0xf0 && o32[1] == (int64_t)0xffffffff80000011ull);
        }
    }

    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    printf("4 threads x 20000 lr/sc adds: shared64=%" PRIu64 " shared32=%" PRId32 "\n", shared64, shared32);
    CHECK(shared64 == 240000 && shared32 == -80000);

    printf("fences: %" PRId64 "\n", rv_fences(41));
    uint32_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(code != MAP_FAILED);
    int64_t r1 = rv_patch_and_call(code, 123), r2 = rv_patch_and_call(code, -45), r3 = rv_patch_and_call(code, 2047);
    printf("fence.i patched code returned %" PRId64 " %" PRId64 " %" PRId64 "\n", r1, r2, r3);
    CHECK(r1 == 123 && r2 == -45 && r3 == 2047);
    printf("rv64_atomic done, failures=%d\n", guest_failures);
    return guest_status();
}
