/* lzhuff: a small LZ77 + canonical Huffman compressor (deflate-like, written
 * for this test suite) that compresses the bundled corpus
 * (guests/data/corpus.txt, linked into the binary with .incbin), writes the
 * compressed stream to "corpus.lzh", reads it back from the file,
 * decompresses it and verifies the result, then round-trips a set of
 * synthetic inputs (empty, one byte, runs, incompressible noise, periodic
 * data, binary ramps) at three compression levels.  Prints sizes, CRC-32s
 * and token statistics.
 *
 * Exercises: byte/bit manipulation, hash chains, heaps, tables, many small
 * functions, loops with data-dependent branches, file I/O.
 *
 * Stream format:
 *   "LZHF" | u32 original size | u32 crc32 | blocks...
 *   block: 1 bit final | 286 literal/length code lengths (4 bits each) |
 *          30 distance code lengths (4 bits each) | Huffman-coded tokens |
 *          end-of-block symbol (256)
 *   lengths 3..258 and distances 1..32768 use deflate's code/extra-bit tables.
 *
 * Args: none.  Env: none.  Leaves corpus.lzh for comparison.
 * Exit: 0 if every round trip is exact, 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

/* ---- the bundled input ------------------------------------------------ */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".global lzhuff_corpus\n"
        "lzhuff_corpus:\n"
        ".incbin \"corpus.txt\"\n"
        ".global lzhuff_corpus_end\n"
        "lzhuff_corpus_end:\n"
        ".byte 0\n"
        ".previous\n");
extern const unsigned char lzhuff_corpus[], lzhuff_corpus_end[];

/* ---- CRC-32 --------------------------------------------------------- */
static uint32_t crc_table[256];
static void crc_init(void) {
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[n] = c;
    }
}
static uint32_t crc32(const unsigned char *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

/* ---- growable byte buffer and bit I/O ------------------------------- */
struct buf {
    unsigned char *data;
    size_t len, cap;
};
static void buf_put(struct buf *b, unsigned char c) {
    if (b->len == b->cap) {
        b->cap = b->cap ? b->cap * 2 : 1024;
        b->data = realloc(b->data, b->cap);
    }
    b->data[b->len++] = c;
}
static void buf_put32(struct buf *b, uint32_t v) {
    for (int i = 0; i < 4; i++) buf_put(b, (unsigned char)(v >> (8 * i)));
}

struct bitwriter {
    struct buf *out;
    uint32_t acc;
    int nbits;
};
static void put_bits(struct bitwriter *w, uint32_t value, int n) {
    /* LSB first */
    for (int i = 0; i < n; i++) {
        w->acc |= ((value >> i) & 1u) << w->nbits;
        if (++w->nbits == 8) {
            buf_put(w->out, (unsigned char)w->acc);
            w->acc = 0;
            w->nbits = 0;
        }
    }
}
static void flush_bits(struct bitwriter *w) {
    if (w->nbits) buf_put(w->out, (unsigned char)w->acc);
    w->acc = 0;
    w->nbits = 0;
}

struct bitreader {
    const unsigned char *p;
    size_t len, pos;
    int bit;
    int overrun;
};
static uint32_t get_bit(struct bitreader *r) {
    if (r->pos >= r->len) {
        r->overrun = 1;
        return 0;
    }
    uint32_t b = (r->p[r->pos] >> r->bit) & 1u;
    if (++r->bit == 8) {
        r->bit = 0;
        r->pos++;
    }
    return b;
}
static uint32_t get_bits(struct bitreader *r, int n) {
    uint32_t v = 0;
    for (int i = 0; i < n; i++) v |= get_bit(r) << i;
    return v;
}

/* ---- deflate length/distance tables -------------------------------- */
#define NLIT 286
#define NDIST 30
#define MAXBITS 15
static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                       193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static int length_code(int len) {
    int c = 0;
    while (c < 28 && len_base[c + 1] <= len) c++;
    return c;
}
static int distance_code(int dist) {
    int c = 0;
    while (c < 29 && dist_base[c + 1] <= dist) c++;
    return c;
}

/* ---- Huffman code construction ------------------------------------- */
struct node {
    uint32_t freq;
    int left, right; /* -1 for leaves */
    int symbol;
};

static void heap_push(int *heap, int *n, const struct node *nodes, int idx) {
    int i = (*n)++;
    heap[i] = idx;
    while (i > 0) {
        int p = (i - 1) / 2;
        if (nodes[heap[p]].freq < nodes[heap[i]].freq ||
            (nodes[heap[p]].freq == nodes[heap[i]].freq && heap[p] < heap[i]))
            break;
        int t = heap[p];
        heap[p] = heap[i];
        heap[i] = t;
        i = p;
    }
}
static int heap_pop(int *heap, int *n, const struct node *nodes) {
    int top = heap[0];
    heap[0] = heap[--(*n)];
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < *n && (nodes[heap[l]].freq < nodes[heap[m]].freq ||
                       (nodes[heap[l]].freq == nodes[heap[m]].freq && heap[l] < heap[m])))
            m = l;
        if (r < *n && (nodes[heap[r]].freq < nodes[heap[m]].freq ||
                       (nodes[heap[r]].freq == nodes[heap[m]].freq && heap[r] < heap[m])))
            m = r;
        if (m == i) break;
        int t = heap[m];
        heap[m] = heap[i];
        heap[i] = t;
        i = m;
    }
    return top;
}

static void assign_depths(const struct node *nodes, int idx, int depth, uint8_t *lens) {
    if (nodes[idx].left < 0) {
        lens[nodes[idx].symbol] = (uint8_t)(depth ? depth : 1);
        return;
    }
    assign_depths(nodes, nodes[idx].left, depth + 1, lens);
    assign_depths(nodes, nodes[idx].right, depth + 1, lens);
}

/* Code lengths for freq[0..n), limited to MAXBITS by halving frequencies. */
static void build_lengths(const uint32_t *freq_in, int n, uint8_t *lens) {
    uint32_t freq[NLIT];
    memcpy(freq, freq_in, sizeof(uint32_t) * (size_t)n);
    for (;;) {
        struct node nodes[2 * NLIT];
        int heap[2 * NLIT], hn = 0, nn = 0;
        memset(lens, 0, (size_t)n);
        for (int s = 0; s < n; s++)
            if (freq[s]) {
                nodes[nn] = (struct node){freq[s], -1, -1, s};
                heap_push(heap, &hn, nodes, nn++);
            }
        if (hn == 0) return;
        if (hn == 1) {
            lens[nodes[heap[0]].symbol] = 1;
            return;
        }
        while (hn > 1) {
            int a = heap_pop(heap, &hn, nodes), b = heap_pop(heap, &hn, nodes);
            nodes[nn] = (struct node){nodes[a].freq + nodes[b].freq, a, b, -1};
            heap_push(heap, &hn, nodes, nn++);
        }
        assign_depths(nodes, heap[0], 0, lens);
        int maxlen = 0;
        for (int s = 0; s < n; s++)
            if (lens[s] > maxlen) maxlen = lens[s];
        if (maxlen <= MAXBITS) return;
        for (int s = 0; s < n; s++)
            if (freq[s]) freq[s] = (freq[s] + 1) / 2;
    }
}

/* Canonical codes from lengths (bit-reversed for LSB-first output). */
static void build_codes(const uint8_t *lens, int n, uint16_t *codes) {
    int count[MAXBITS + 1] = {0}, next[MAXBITS + 2] = {0};
    for (int s = 0; s < n; s++) count[lens[s]]++;
    count[0] = 0;
    int code = 0;
    for (int b = 1; b <= MAXBITS; b++) {
        code = (code + count[b - 1]) << 1;
        next[b] = code;
    }
    for (int s = 0; s < n; s++) {
        int l = lens[s];
        if (!l) continue;
        int c = next[l]++, rev = 0;
        for (int i = 0; i < l; i++) rev |= ((c >> i) & 1) << (l - 1 - i);
        codes[s] = (uint16_t)rev;
    }
}

/* ---- LZ77 ------------------------------------------------------------ */
#define WINDOW 32768
#define HASH_BITS 14
#define MIN_MATCH 3
#define MAX_MATCH 258

struct token {
    uint16_t len;  /* 0 = literal */
    uint16_t dist; /* or the literal byte */
};

struct stats {
    size_t literals, matches, match_bytes, blocks;
    int max_code_len;
};

static size_t find_tokens(const unsigned char *in, size_t n, int max_chain, int lazy, struct token *out) {
    int32_t *head = malloc(sizeof(int32_t) << HASH_BITS);
    int32_t *prev = malloc(sizeof(int32_t) * (n ? n : 1));
    for (int i = 0; i < (1 << HASH_BITS); i++) head[i] = -1;
    size_t nt = 0;
#define HASH(p) ((((uint32_t)in[p] << 10) ^ ((uint32_t)in[(p) + 1] << 5) ^ in[(p) + 2]) & ((1u << HASH_BITS) - 1))
    size_t i = 0;
    while (i < n) {
        int best_len = 0, best_dist = 0;
        if (i + MIN_MATCH <= n) {
            uint32_t h = HASH(i);
            int32_t cand = head[h];
            prev[i] = cand;
            head[h] = (int32_t)i;
            int chain = max_chain;
            size_t limit = n - i < MAX_MATCH ? n - i : MAX_MATCH;
            while (cand >= 0 && i - (size_t)cand <= WINDOW && chain-- > 0) {
                size_t l = 0;
                while (l < limit && in[(size_t)cand + l] == in[i + l]) l++;
                if ((int)l > best_len) {
                    best_len = (int)l;
                    best_dist = (int)(i - (size_t)cand);
                    if (l == limit) break;
                }
                cand = prev[cand];
            }
            /* Lazy evaluation: prefer a longer match starting at i+1. */
            if (lazy && best_len >= MIN_MATCH && best_len < 32 && i + 1 + MIN_MATCH <= n) {
                int32_t c2 = head[HASH(i + 1)];
                int chain2 = max_chain / 4 + 1, l2best = 0;
                size_t limit2 = n - i - 1 < MAX_MATCH ? n - i - 1 : MAX_MATCH;
                while (c2 >= 0 && i + 1 - (size_t)c2 <= WINDOW && chain2-- > 0) {
                    size_t l = 0;
                    while (l < limit2 && in[(size_t)c2 + l] == in[i + 1 + l]) l++;
                    if ((int)l > l2best) l2best = (int)l;
                    c2 = prev[c2];
                }
                if (l2best > best_len + 1) best_len = 0; /* emit a literal now */
            }
        }
        if (best_len >= MIN_MATCH) {
            out[nt++] = (struct token){(uint16_t)best_len, (uint16_t)best_dist};
            for (size_t k = 1; k < (size_t)best_len; k++) {
                size_t p = i + k;
                if (p + MIN_MATCH <= n) {
                    uint32_t h = HASH(p);
                    prev[p] = head[h];
                    head[h] = (int32_t)p;
                }
            }
            i += (size_t)best_len;
        } else {
            out[nt++] = (struct token){0, in[i]};
            i++;
        }
    }
#undef HASH
    free(head);
    free(prev);
    return nt;
}

/* ---- compressor -------------------------------------------------------- */
#define BLOCK_TOKENS 4096

static struct buf compress(const unsigned char *in, size_t n, int level, struct stats *st) {
    static const int chains[10] = {0, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
    struct buf out = {0};
    memset(st, 0, sizeof *st);
    buf_put(&out, 'L');
    buf_put(&out, 'Z');
    buf_put(&out, 'H');
    buf_put(&out, 'F');
    buf_put32(&out, (uint32_t)n);
    buf_put32(&out, crc32(in, n));
    struct token *toks = malloc(sizeof(struct token) * (n + 1));
    size_t nt = find_tokens(in, n, chains[level], level >= 5, toks);
    struct bitwriter w = {&out, 0, 0};
    size_t t = 0;
    do {
        size_t end = t + BLOCK_TOKENS < nt ? t + BLOCK_TOKENS : nt;
        uint32_t lf[NLIT] = {0}, df[NDIST] = {0};
        for (size_t k = t; k < end; k++) {
            if (toks[k].len == 0) {
                lf[toks[k].dist]++;
            } else {
                lf[257 + length_code(toks[k].len)]++;
                df[distance_code(toks[k].dist)]++;
            }
        }
        lf[256]++;
        uint8_t ll[NLIT], dl[NDIST];
        uint16_t lc[NLIT] = {0}, dc[NDIST] = {0};
        build_lengths(lf, NLIT, ll);
        build_lengths(df, NDIST, dl);
        build_codes(ll, NLIT, lc);
        build_codes(dl, NDIST, dc);
        for (int s = 0; s < NLIT; s++)
            if (ll[s] > st->max_code_len) st->max_code_len = ll[s];
        put_bits(&w, end == nt, 1);
        for (int s = 0; s < NLIT; s++) put_bits(&w, ll[s], 4);
        for (int s = 0; s < NDIST; s++) put_bits(&w, dl[s], 4);
        for (size_t k = t; k < end; k++) {
            if (toks[k].len == 0) {
                put_bits(&w, lc[toks[k].dist], ll[toks[k].dist]);
                st->literals++;
            } else {
                int lcode = length_code(toks[k].len), dcode = distance_code(toks[k].dist);
                put_bits(&w, lc[257 + lcode], ll[257 + lcode]);
                put_bits(&w, (uint32_t)(toks[k].len - len_base[lcode]), len_extra[lcode]);
                put_bits(&w, dc[dcode], dl[dcode]);
                put_bits(&w, (uint32_t)(toks[k].dist - dist_base[dcode]), dist_extra[dcode]);
                st->matches++;
                st->match_bytes += toks[k].len;
            }
        }
        put_bits(&w, lc[256], ll[256]);
        st->blocks++;
        t = end;
    } while (t < nt);
    flush_bits(&w);
    free(toks);
    return out;
}

/* ---- decompressor ------------------------------------------------------ */
struct huff {
    int16_t count[MAXBITS + 1];
    int16_t symbol[NLIT];
};

static int build_decoder(struct huff *h, const uint8_t *lens, int n) {
    int16_t offs[MAXBITS + 1];
    memset(h->count, 0, sizeof h->count);
    for (int s = 0; s < n; s++) h->count[lens[s]]++;
    h->count[0] = 0;
    int left = 1;
    for (int b = 1; b <= MAXBITS; b++) {
        left <<= 1;
        left -= h->count[b];
        if (left < 0) return -1; /* over-subscribed */
    }
    offs[1] = 0;
    for (int b = 1; b < MAXBITS; b++) offs[b + 1] = (int16_t)(offs[b] + h->count[b]);
    for (int s = 0; s < n; s++)
        if (lens[s]) h->symbol[offs[lens[s]]++] = (int16_t)s;
    return 0;
}

/* Canonical decoding one bit at a time (as in zlib's puff). */
static int decode_sym(struct bitreader *r, const struct huff *h) {
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= MAXBITS; len++) {
        code |= (int)get_bit(r);
        int count = h->count[len];
        if (code - count < first) return h->symbol[index + (code - first)];
        index += count;
        first += count;
        first <<= 1;
        code <<= 1;
    }
    return -1;
}

static int decompress(const unsigned char *in, size_t n, struct buf *out) {
    if (n < 12 || memcmp(in, "LZHF", 4) != 0) return -1;
    uint32_t size = 0, crc = 0;
    for (int i = 0; i < 4; i++) {
        size |= (uint32_t)in[4 + i] << (8 * i);
        crc |= (uint32_t)in[8 + i] << (8 * i);
    }
    struct bitreader r = {in + 12, n - 12, 0, 0, 0};
    int final = 0;
    while (!final) {
        final = (int)get_bit(&r);
        uint8_t ll[NLIT], dl[NDIST];
        for (int s = 0; s < NLIT; s++) ll[s] = (uint8_t)get_bits(&r, 4);
        for (int s = 0; s < NDIST; s++) dl[s] = (uint8_t)get_bits(&r, 4);
        struct huff lh, dh;
        if (build_decoder(&lh, ll, NLIT) || build_decoder(&dh, dl, NDIST)) return -2;
        for (;;) {
            int sym = decode_sym(&r, &lh);
            if (sym < 0 || r.overrun) return -3;
            if (sym < 256) {
                buf_put(out, (unsigned char)sym);
            } else if (sym == 256) {
                break;
            } else {
                int lcode = sym - 257;
                if (lcode >= 29) return -4;
                int len = len_base[lcode] + (int)get_bits(&r, len_extra[lcode]);
                int dcode = decode_sym(&r, &dh);
                if (dcode < 0 || dcode >= 30) return -5;
                int dist = dist_base[dcode] + (int)get_bits(&r, dist_extra[dcode]);
                if ((size_t)dist > out->len) return -6;
                for (int k = 0; k < len; k++) buf_put(out, out->data[out->len - (size_t)dist]);
            }
        }
    }
    if (out->len != size) return -7;
    if (crc32(out->data, out->len) != crc) return -8;
    return 0;
}

/* ---- driver ------------------------------------------------------------ */
static int roundtrip(const char *name, const unsigned char *in, size_t n, int level, int verbose) {
    struct stats st;
    struct buf c = compress(in, n, level, &st);
    struct buf d = {0};
    int rc = decompress(c.data, c.len, &d);
    int ok = rc == 0 && d.len == n && (n == 0 || memcmp(d.data, in, n) == 0);
    printf("%-14s level %d: %7zu -> %7zu bytes (%4zu per mille) crc=%08x lzcrc=%08x blocks=%zu ok=%d\n", name, level,
           n, c.len, n ? c.len * 1000 / n : 0, crc32(in, n), crc32(c.data, c.len), st.blocks, ok);
    if (verbose)
        printf("  tokens: %zu literals, %zu matches covering %zu bytes, max code length %d\n", st.literals, st.matches,
               st.match_bytes, st.max_code_len);
    free(c.data);
    free(d.data);
    return ok;
}

int main(void) {
    crc_init();
    const unsigned char *corpus = lzhuff_corpus;
    size_t corpus_len = (size_t)(lzhuff_corpus_end - lzhuff_corpus);
    printf("corpus: %zu bytes, crc32=%08x\n", corpus_len, crc32(corpus, corpus_len));
    CHECK(crc32((const unsigned char *)"123456789", 9) == 0xcbf43926u);

    /* Compress the corpus to a file, read it back, decompress. */
    struct stats st;
    struct buf c = compress(corpus, corpus_len, 6, &st);
    FILE *f = fopen("corpus.lzh", "wb");
    CHECK(f != NULL);
    CHECK(fwrite(c.data, 1, c.len, f) == c.len);
    fclose(f);
    printf("wrote corpus.lzh: %zu bytes (%zu per mille), %zu literals, %zu matches, %zu blocks\n", c.len,
           c.len * 1000 / corpus_len, st.literals, st.matches, st.blocks);
    free(c.data);
    f = fopen("corpus.lzh", "rb");
    unsigned char *file = malloc(1 << 20);
    size_t flen = fread(file, 1, 1 << 20, f);
    fclose(f);
    struct buf d = {0};
    int rc = decompress(file, flen, &d);
    printf("decompressed from file: rc=%d %zu bytes crc32=%08x identical=%d\n", rc, d.len, crc32(d.data, d.len),
           d.len == corpus_len && memcmp(d.data, corpus, corpus_len) == 0);
    CHECK(rc == 0 && d.len == corpus_len && memcmp(d.data, corpus, corpus_len) == 0);
    free(d.data);
    /* A corrupted stream must be rejected, never crash. */
    file[flen / 2] ^= 0x10;
    d = (struct buf){0};
    rc = decompress(file, flen, &d);
    printf("corrupted stream rejected: %d\n", rc != 0);
    CHECK(rc != 0);
    free(d.data);
    free(file);

    int all_ok = 1;
    for (int level = 1; level <= 9; level += 4) all_ok &= roundtrip("corpus", corpus, corpus_len, level, 1);

    /* Synthetic inputs. */
    static unsigned char tmp[70000];
    all_ok &= roundtrip("empty", tmp, 0, 6, 0);
    tmp[0] = 'x';
    all_ok &= roundtrip("one byte", tmp, 1, 6, 0);
    memset(tmp, 'a', 70000);
    all_ok &= roundtrip("run of a", tmp, 70000, 6, 1);
    uint64_t s = 1;
    for (size_t i = 0; i < 20000; i++) tmp[i] = (unsigned char)guest_rand(&s);
    all_ok &= roundtrip("noise", tmp, 20000, 6, 1);
    for (size_t i = 0; i < 50000; i++) tmp[i] = (unsigned char)("periodic-pattern!"[i % 17] + (i / 4096));
    all_ok &= roundtrip("periodic", tmp, 50000, 1, 0);
    all_ok &= roundtrip("periodic", tmp, 50000, 9, 1);
    for (size_t i = 0; i < 65536; i++) tmp[i] = (unsigned char)(i ^ (i >> 8));
    all_ok &= roundtrip("binary ramp", tmp, 65536, 6, 0);
    for (size_t i = 0; i < 40000; i++) tmp[i] = (unsigned char)(guest_rand(&s) % 4 ? 'A' + i % 3 : guest_rand(&s));
    all_ok &= roundtrip("mostly text", tmp, 40000, 9, 1);
    CHECK(all_ok);
    printf("lzhuff done, failures=%d\n", guest_failures);
    return guest_status();
}
