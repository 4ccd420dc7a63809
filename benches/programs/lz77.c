/* LZ77 compression with hash chains (own format: literal runs and
 * (length, distance) matches, 64 KiB window) of generated text, then
 * decompression; the round trip must reproduce the input exactly and
 * compress it. Size: KiB of text. */
#include "textgen.h"

#define WINDOW (1 << 16)
#define HBITS 15
#define MIN_MATCH 4
#define MAX_MATCH 258
#define MAX_CHAIN 32

static uint32_t hash4(const uint8_t *p) {
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    return (v * 2654435761u) >> (32 - HBITS);
}

/* Token stream: 0x00..0x7f = literal run of (b + 1) bytes that follow;
 * 0x80 | (len - MIN_MATCH) >> 8 ... : match, then len low byte and a
 * 16-bit distance. */
static size_t compress(const uint8_t *in, size_t n, uint8_t *out) {
    int32_t *head = malloc(sizeof(int32_t) << HBITS);
    int32_t *prev = malloc(sizeof(int32_t) * n);
    for (size_t i = 0; i < (1u << HBITS); i++)
        head[i] = -1;
    size_t o = 0, i = 0, lit_start = 0;
#define FLUSH_LITERALS(end)                                         \
    while (lit_start < (end)) {                                     \
        size_t run = (end) - lit_start > 128 ? 128 : (end) - lit_start; \
        out[o++] = (uint8_t)(run - 1);                              \
        memcpy(out + o, in + lit_start, run);                       \
        o += run;                                                   \
        lit_start += run;                                           \
    }
    while (i + MIN_MATCH <= n) {
        uint32_t h = hash4(in + i);
        size_t best_len = 0, best_dist = 0;
        int32_t cand = head[h];
        size_t limit = n - i < MAX_MATCH ? n - i : MAX_MATCH;
        for (int chain = 0; cand >= 0 && chain < MAX_CHAIN; chain++) {
            size_t dist = i - (size_t)cand;
            if (dist > WINDOW - 1)
                break;
            if (in[cand + best_len] == in[i + best_len]) {
                size_t l = 0;
                while (l < limit && in[cand + l] == in[i + l])
                    l++;
                if (l > best_len) {
                    best_len = l;
                    best_dist = dist;
                    if (l == limit)
                        break;
                }
            }
            cand = prev[cand];
        }
        prev[i] = head[h];
        head[h] = (int32_t)i;
        if (best_len >= MIN_MATCH) {
            FLUSH_LITERALS(i);
            size_t code = best_len - MIN_MATCH;
            out[o++] = (uint8_t)(0x80 | code >> 8);
            out[o++] = (uint8_t)code;
            out[o++] = (uint8_t)best_dist;
            out[o++] = (uint8_t)(best_dist >> 8);
            for (size_t k = 1; k < best_len; k++) {
                if (i + k + MIN_MATCH <= n) {
                    uint32_t hk = hash4(in + i + k);
                    prev[i + k] = head[hk];
                    head[hk] = (int32_t)(i + k);
                }
            }
            i += best_len;
            lit_start = i;
        } else {
            i++;
        }
    }
    FLUSH_LITERALS(n);
    free(head);
    free(prev);
    return o;
}

static size_t decompress(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    size_t i = 0, o = 0;
    while (i < n) {
        uint8_t t = in[i++];
        if (t < 0x80) {
            size_t run = (size_t)t + 1;
            if (o + run > cap || i + run > n)
                return (size_t)-1;
            memcpy(out + o, in + i, run);
            i += run;
            o += run;
        } else {
            size_t len = ((size_t)(t & 0x7f) << 8 | in[i]) + MIN_MATCH;
            size_t dist = (size_t)in[i + 1] | (size_t)in[i + 2] << 8;
            i += 3;
            if (dist == 0 || dist > o || o + len > cap)
                return (size_t)-1;
            for (size_t k = 0; k < len; k++, o++)
                out[o] = out[o - dist];
        }
    }
    return o;
}

int main(int argc, char **argv) {
    size_t n = (size_t)arg_size(argc, argv, 24576) * 1024;
    uint8_t *text = malloc(n), *comp = malloc(n + n / 64 + 16), *back = malloc(n);
    generate_text((char *)text, n);
    uint64_t sum = 0;
    size_t clen = 0;
    for (int rep = 0; rep < 2; rep++) {
        clen = compress(text, n, comp);
        size_t dlen = decompress(comp, clen, back, n);
        if (dlen != n || memcmp(back, text, n) != 0)
            fail("lz77", "decompress(compress(x)) != x");
        if (clen >= n / 2)
            fail("lz77", "text did not compress");
        for (size_t i = 0; i < clen; i += 1009)
            sum = mix(sum, comp[i]);
        sum = mix(sum, clen);
        text[rep * 7919 % n] ^= 0x20;
    }
    printf("lz77 %zu -> %zu bytes\n", n, clen);
    report("lz77", sum);
    return 0;
}
