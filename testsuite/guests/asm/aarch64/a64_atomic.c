/* Driver for asm/aarch64/a64_atomic.S (aarch64 only): exclusive load/store
 * loops (single-threaded and from 4 threads), CLREX forcing a STXR failure,
 * 128-bit LDXP/STXP, LDAR/STLR with barriers, and ARMv8.1 LSE atomics.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include "guest.h"

extern uint64_t a64_ldxr_add64(uint64_t *, uint64_t), a64_ldxr_add32(uint32_t *, uint32_t);
extern uint64_t a64_ldxrb_add(uint8_t *, uint32_t), a64_clrex_stxr(uint64_t *);
extern void a64_ldxp_swap(uint64_t *), a64_lse(uint64_t *, uint64_t, uint64_t, uint64_t *);
extern uint64_t a64_ldar_stlr(uint64_t *, uint64_t), a64_cas(uint64_t *, uint64_t, uint64_t);

static uint64_t counter64;
static uint32_t counter32;
static uint64_t pair[2] __attribute__((aligned(16))) = {1, 2};
static void *worker(void *arg) {
    (void)arg;
    for (int i = 0; i < 20000; i++) {
        a64_ldxr_add64(&counter64, 5);
        a64_ldxr_add32(&counter32, 0xffffffffu); /* -1 */
    }
    for (int i = 0; i < 1001; i++) a64_ldxp_swap(pair);
    return NULL;
}

int main(void) {
    uint64_t x = 10;
    uint64_t o = a64_ldxr_add64(&x, 5);
    uint32_t w = 0xfffffffeu;
    uint64_t ow = a64_ldxr_add32(&w, 3);
    struct {
        uint8_t before, b, after;
    } bytes = {0x11, 0xff, 0x33};
    uint64_t ob = a64_ldxrb_add(&bytes.b, 2);
    printf("ldxr add64 old=%" PRIu64 " new=%" PRIu64 "; add32 old=%016" PRIx64 " new=%08" PRIx32
           "; byte old=%" PRIu64 " new=%u neighbours=%02x,%02x\n",
           o, x, ow, w, ob, bytes.b, bytes.before, bytes.after);
    CHECK(o == 10 && x == 15 && ow == 0xfffffffeull && w == 1 && ob == 255 && bytes.b == 1 && bytes.after == 0x33);
    uint64_t y = 0x41;
    uint64_t r = a64_clrex_stxr(&y);
    printf("stxr after clrex: status=%" PRIu64 " (1=failed) value=%02" PRIx64 "\n", r & 0xff, r >> 8);
    CHECK((r & 0xff) == 1 && (r >> 8) == 0x41);
    uint64_t p2[2] __attribute__((aligned(16))) = {0x1111, 0x2222};
    a64_ldxp_swap(p2);
    printf("ldxp/stxp swap: %" PRIx64 " %" PRIx64 "\n", p2[0], p2[1]);
    CHECK(p2[0] == 0x2222 && p2[1] == 0x1111);
    uint64_t z = 0;
    printf("ldar/stlr: %" PRIx64 "\n", a64_ldar_stlr(&z, 0xabcdef));

    static const char *names[] = {"ldadd", "ldclra", "ldeorl", "ldsetal", "ldsmax", "ldsmin", "ldumax", "ldumin", "swpal", "ldadd.w"};
    const uint64_t inits[] = {0xf0f0, 0x8000000000000000ull, 0xffffffff00000001ull};
    const uint64_t ops[] = {0x0ff1, 5, 0x00000000ffffffffull};
    for (int k = 0; k < 3; k++) {
        uint64_t m, out[20];
        a64_lse(&m, ops[k], inits[k], out);
        printf("lse init=%016" PRIx64 " v=%016" PRIx64 "\n", inits[k], ops[k]);
        for (int i = 0; i < 10; i++)
            printf("  %-7s old=%016" PRIx64 " new=%016" PRIx64 "%s", names[i], out[2 * i], out[2 * i + 1], i % 2 ? "\n" : "");
        if (k == 0) CHECK(out[1] == 0xf0f0 + 0x0ff1 && out[3] == (0xf0f0 & ~0x0ff1ull) && out[17] == 0x0ff1);
        if (k == 1) CHECK(out[9] == 5 && out[11] == 0x8000000000000000ull && out[13] == 0x8000000000000000ull);
    }
    uint64_t c = 7;
    uint64_t seen1 = a64_cas(&c, 7, 8), seen2 = a64_cas(&c, 7, 9);
    printf("casal: first saw %" PRIu64 " (swapped), second saw %" PRIu64 " (not swapped), value=%" PRIu64 "\n", seen1,
           seen2, c);
    CHECK(seen1 == 7 && seen2 == 8 && c == 8);

    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, worker, NULL);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    printf("4 threads: counter64=%" PRIu64 " counter32=%08" PRIx32 " pair after 4004 swaps=%" PRIu64 ",%" PRIu64 "\n",
           counter64, counter32, pair[0], pair[1]);
    CHECK(counter64 == 400000 && counter32 == (uint32_t)-80000 && pair[0] == 1 && pair[1] == 2);
    printf("a64_atomic done, failures=%d\n", guest_failures);
    return guest_status();
}
