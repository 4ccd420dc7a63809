/* SHA-256 (FIPS 180-4) of a generated buffer, chained: each digest is
 * written back into the buffer before the next pass. The round constants
 * and initial hash are computed from the primes with integer roots, and
 * checked with the FIPS test vectors. Size: MiB hashed. */
#include "common.h"

typedef unsigned __int128 u128;

static uint32_t K[64], H0[8];

/* floor(x) with x^k <= v, for k = 2 or 3. */
static uint64_t iroot(u128 v, int k) {
    uint64_t lo = 0, hi = (uint64_t)1 << 40;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo + 1) / 2;
        u128 p = (u128)mid * mid;
        if (k == 3)
            p *= mid;
        if (p <= v)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

static void make_constants(void) {
    int n = 0;
    for (uint32_t p = 2; n < 64; p++) {
        int prime = 1;
        for (uint32_t d = 2; d * d <= p; d++)
            if (p % d == 0)
                prime = 0;
        if (!prime)
            continue;
        K[n] = (uint32_t)iroot((u128)p << 96, 3);
        if (n < 8)
            H0[n] = (uint32_t)iroot((u128)p << 64, 2);
        n++;
    }
}

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void compress(uint32_t h[8], const uint8_t *blk) {
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = (uint32_t)blk[4 * i] << 24 | (uint32_t)blk[4 * i + 1] << 16 |
               (uint32_t)blk[4 * i + 2] << 8 | blk[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
        uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        k = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += d;
    h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha256(const uint8_t *msg, size_t len, uint8_t out[32]) {
    uint32_t h[8];
    memcpy(h, H0, sizeof h);
    size_t full = len / 64;
    for (size_t i = 0; i < full; i++)
        compress(h, msg + 64 * i);
    uint8_t tail[128] = {0};
    size_t rest = len - 64 * full;
    memcpy(tail, msg + 64 * full, rest);
    tail[rest] = 0x80;
    size_t tl = rest + 9 <= 64 ? 64 : 128;
    uint64_t bits = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++)
        tail[tl - 1 - i] = (uint8_t)(bits >> (8 * i));
    for (size_t i = 0; i < tl; i += 64)
        compress(h, tail + i);
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4; j++)
            out[4 * i + j] = (uint8_t)(h[i] >> (24 - 8 * j));
}

static void hex(const uint8_t *d, char *s) {
    for (int i = 0; i < 32; i++)
        sprintf(s + 2 * i, "%02x", d[i]);
}

static void expect(const char *msg, const char *want) {
    uint8_t d[32];
    char s[65];
    sha256((const uint8_t *)msg, strlen(msg), d);
    hex(d, s);
    if (strcmp(s, want) != 0)
        fail("sha256", "test vector");
}

int main(int argc, char **argv) {
    long mib = arg_size(argc, argv, 320);
    make_constants();
    expect("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    expect("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
           "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    size_t len = 1 << 20;
    uint8_t *buf = malloc(len);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t r = rng_next();
        memcpy(buf + i, &r, 8);
    }
    uint8_t d[32];
    uint64_t sum = 0;
    for (long r = 0; r < mib; r++) {
        sha256(buf, len - (size_t)(r % 61), d);
        memcpy(buf + (size_t)(r * 32) % (len - 32), d, 32);
        uint64_t v;
        memcpy(&v, d, 8);
        sum = mix(sum, v);
    }
    char s[65];
    hex(d, s);
    printf("sha256 final %s\n", s);
    report("sha256", sum);
    free(buf);
    return 0;
}
