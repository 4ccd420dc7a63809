/* Shared helpers of the benchmark programs: a deterministic PRNG, the size
 * argument, a checksum mixer and the result line. Every program prints
 * exactly one line "<name> checksum <16 hex digits>" (plus optional detail
 * lines that do not depend on the machine) and exits non-zero when its own
 * verification fails. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* splitmix64: small, fast, identical on every ISA. */
static uint64_t rng_state = 0x243f6a8885a308d3ull;

static inline uint64_t rng_next(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static inline void rng_seed(uint64_t s) { rng_state = s; }

/* A uniform double in [0, 1). */
static inline double rng_double(void) {
    return (double)(rng_next() >> 11) * (1.0 / 9007199254740992.0);
}

/* The first argument as a positive number, or `dflt`. */
static long arg_size(int argc, char **argv, long dflt) {
    if (argc < 2)
        return dflt;
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (*end != 0 || v <= 0) {
        fprintf(stderr, "usage: %s [size > 0]\n", argv[0]);
        exit(2);
    }
    return v;
}

/* Folds `v` into the running checksum `h` (FNV-style multiply). */
static inline uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
    return h * 0x100000001b3ull;
}

static void fail(const char *name, const char *what) {
    fprintf(stderr, "%s: FAILED: %s\n", name, what);
    exit(1);
}

static void report(const char *name, uint64_t sum) {
    printf("%s checksum %016llx\n", name, (unsigned long long)sum);
}

#endif
