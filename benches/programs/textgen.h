/* Generated English-like text for the compression and search benchmarks:
 * words drawn from a fixed vocabulary with a skewed distribution, spaces,
 * commas and sentence ends. Deterministic on every ISA. */
#ifndef BENCH_TEXTGEN_H
#define BENCH_TEXTGEN_H

#include "common.h"

static const char *const vocabulary[] = {
    "the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "was", "with",
    "be", "by", "on", "not", "he", "this", "are", "or", "his", "from", "at", "which",
    "but", "have", "an", "had", "they", "you", "were", "their", "one", "all", "we",
    "translator", "register", "instruction", "memory", "branch", "compiler", "guest",
    "host", "function", "block", "value", "pointer", "stack", "cache", "thread",
    "signal", "kernel", "vector", "matrix", "buffer", "stream", "window", "symbol",
    "optimization", "benchmark", "throughput", "latency", "dispatch", "interpreter",
};

#define VOCAB (sizeof vocabulary / sizeof vocabulary[0])

/* Fills `out` with `len` bytes of text. */
static void generate_text(char *out, size_t len) {
    size_t pos = 0;
    int words = 0;
    while (pos < len) {
        uint64_t r = rng_next();
        /* Skewed: small indices (common words) far more often. */
        size_t idx = (size_t)((r & 0xffff) * (r >> 16 & 0xffff) >> 16) % VOCAB;
        const char *w = vocabulary[idx];
        for (size_t i = 0; w[i] && pos < len; i++)
            out[pos++] = w[i];
        words++;
        if (pos < len)
            out[pos++] = (r >> 40) % 13 == 0 ? ',' : (r >> 44) % 17 == 0 ? '.' : ' ';
        if (pos < len && out[pos - 1] != ' ')
            out[pos++] = ' ';
    }
}

#endif
