/* malloc/calloc/realloc/free stress: a deterministic sequence of 30000
 * operations over 1024 slots with sizes from 0 to 156 KiB (small bins, large
 * bins and mmap-backed chunks), each block filled with a pattern derived from
 * its slot and verified before it is freed or grown; realloc must preserve
 * contents; calloc must return zeroed memory (including recycled chunks);
 * aligned_alloc/posix_memalign alignment.  Prints a checksum of all verified
 * bytes and the number of operations of each kind.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

#define SLOTS 1024
#define OPS 30000

static unsigned char *ptr[SLOTS];
static size_t len[SLOTS];
static uint32_t tag[SLOTS];

static unsigned char pat(uint32_t t, size_t i) { return (unsigned char)(t * 2654435761u >> 24 ^ i * 131 ^ i >> 8); }

static size_t pick_size(uint64_t r) {
    switch (r % 16) {
    case 0: return 0;
    case 1: return (r >> 8) % 160000;     /* large: mmap threshold area */
    case 2: case 3: return (r >> 8) % 4096; /* medium */
    default: return (r >> 8) % 128;         /* small */
    }
}

int main(void) {
    uint64_t st = 12345, sum = 0;
    unsigned long n_malloc = 0, n_calloc = 0, n_realloc = 0, n_free = 0, bad = 0;
    for (int op = 0; op < OPS; op++) {
        uint64_t r = guest_rand(&st);
        unsigned s = (unsigned)(r % SLOTS);
        r >>= 12;
        if (ptr[s]) {
            /* verify existing content */
            for (size_t i = 0; i < len[s]; i++)
                if (ptr[s][i] != pat(tag[s], i)) {
                    bad++;
                    break;
                }
            sum = sum * 31 + len[s] + (len[s] ? ptr[s][len[s] - 1] : 0);
            if (r % 3 == 0) {
                size_t nl = pick_size(r >> 4);
                unsigned char *np = realloc(ptr[s], nl ? nl : 1);
                if (!np) {
                    bad++;
                    continue;
                }
                n_realloc++;
                size_t keep = nl < len[s] ? nl : len[s];
                for (size_t i = 0; i < keep; i++)
                    if (np[i] != pat(tag[s], i)) {
                        bad++;
                        break;
                    }
                for (size_t i = keep; i < nl; i++) np[i] = pat(tag[s], i);
                ptr[s] = np;
                len[s] = nl;
            } else {
                free(ptr[s]);
                n_free++;
                ptr[s] = NULL;
            }
        } else {
            size_t n = pick_size(r);
            tag[s] = (uint32_t)op;
            if (r & 0x100000) {
                ptr[s] = calloc(1, n ? n : 1);
                n_calloc++;
                for (size_t i = 0; i < n; i++)
                    if (ptr[s][i]) {
                        bad++;
                        break;
                    }
            } else {
                ptr[s] = malloc(n ? n : 1);
                n_malloc++;
            }
            if (!ptr[s]) {
                bad++;
                continue;
            }
            if (((uintptr_t)ptr[s] & 15) != 0) bad++;
            len[s] = n;
            for (size_t i = 0; i < n; i++) ptr[s][i] = pat(tag[s], i);
        }
    }
    size_t live = 0, live_bytes = 0;
    for (unsigned s = 0; s < SLOTS; s++)
        if (ptr[s]) {
            live++;
            live_bytes += len[s];
            free(ptr[s]);
        }
    printf("ops: malloc=%lu calloc=%lu realloc=%lu free=%lu live at end=%zu (%zu bytes)\n", n_malloc, n_calloc,
           n_realloc, n_free, live, live_bytes);
    printf("content checksum %016llx, corrupt blocks %lu\n", (unsigned long long)sum, bad);
    CHECK(bad == 0);

    /* Alignment APIs. */
    int align_ok = 1;
    for (size_t al = 16; al <= 65536; al *= 4) {
        void *p = aligned_alloc(al, al * 3);
        void *q = NULL;
        int rc = posix_memalign(&q, al, 100);
        if (!p || rc || ((uintptr_t)p % al) || ((uintptr_t)q % al)) align_ok = 0;
        memset(p, 1, al * 3);
        free(p);
        free(q);
    }
    printf("aligned_alloc/posix_memalign alignment ok: %d\n", align_ok);
    CHECK(align_ok);
    /* A growing buffer by doubling, then shrinking. */
    size_t cap = 1;
    unsigned char *g = malloc(cap);
    for (size_t i = 0; i < 1000000; i++) {
        if (i == cap) {
            cap *= 2;
            g = realloc(g, cap);
        }
        g[i] = (unsigned char)(i ^ (i >> 9));
    }
    g = realloc(g, 1000);
    uint64_t gh = guest_fnv(g, 1000);
    printf("doubling buffer reached %zu bytes, first 1000 after shrink fnv=%016llx\n", cap, (unsigned long long)gh);
    free(g);
    printf("malloc_stress done, failures=%d\n", guest_failures);
    return guest_status();
}
