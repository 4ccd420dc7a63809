/* Shared helpers for the vmtrans guest test programs.
 *
 * Every program prints what it computes (so a wrong value shows up as a diff
 * against the recorded reference) and also checks what it can check portably;
 * a failed CHECK prints a FAIL line and makes the program exit with status 1.
 * Only line numbers are printed, never file paths or addresses.
 */
#ifndef VMTRANS_GUEST_H
#define VMTRANS_GUEST_H

#include <stdint.h>
#include <stdio.h>

static int guest_failures;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (!(cond)) {                                                     \
            printf("FAIL line %d: %s\n", __LINE__, #cond);                 \
            guest_failures++;                                              \
        }                                                                  \
    } while (0)

/* Exit status for main: 0 when every CHECK held, 1 otherwise. */
static inline int guest_status(void) {
    fflush(stdout);
    return guest_failures ? 1 : 0;
}

/* A deterministic 64-bit generator (splitmix64): same sequence on every ISA. */
static inline uint64_t guest_rand(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* FNV-1a over a byte range, for printing checksums of buffers. */
static inline uint64_t guest_fnv(const void *p, size_t n) {
    const unsigned char *b = (const unsigned char *)p;
    uint64_t h = 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 0x100000001b3ull;
    }
    return h;
}

#endif
