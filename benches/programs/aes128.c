/* AES-128 (FIPS 197) in counter mode over a generated buffer: encrypt,
 * then decrypt (counter mode applies the same keystream) and compare with
 * the plaintext. The S-box is computed from its definition (inverse in
 * GF(2^8) plus the affine map) and the cipher is checked with the
 * FIPS 197 appendix C.1 vector. Size: MiB encrypted (and decrypted). */
#include "common.h"

static uint8_t sbox[256];

static uint8_t xtime(uint8_t x) { return (uint8_t)((x << 1) ^ ((x >> 7) * 0x1b)); }

static uint8_t gmul(uint8_t a, uint8_t b) {
    uint8_t r = 0;
    while (b) {
        if (b & 1)
            r ^= a;
        a = xtime(a);
        b >>= 1;
    }
    return r;
}

static void make_sbox(void) {
    for (int i = 0; i < 256; i++) {
        uint8_t inv = 0;
        for (int j = 1; j < 256 && i; j++)
            if (gmul((uint8_t)i, (uint8_t)j) == 1)
                inv = (uint8_t)j;
        uint8_t s = inv;
        for (int k = 1; k < 5; k++)
            s ^= (uint8_t)((inv << k) | (inv >> (8 - k)));
        sbox[i] = s ^ 0x63;
    }
}

static void expand_key(const uint8_t key[16], uint8_t rk[176]) {
    memcpy(rk, key, 16);
    uint8_t rcon = 1;
    for (int i = 16; i < 176; i += 4) {
        uint8_t t[4];
        memcpy(t, rk + i - 4, 4);
        if (i % 16 == 0) {
            uint8_t u = t[0];
            t[0] = sbox[t[1]] ^ rcon;
            t[1] = sbox[t[2]];
            t[2] = sbox[t[3]];
            t[3] = sbox[u];
            rcon = xtime(rcon);
        }
        for (int j = 0; j < 4; j++)
            rk[i + j] = rk[i + j - 16] ^ t[j];
    }
}

static void encrypt_block(const uint8_t rk[176], const uint8_t in[16], uint8_t out[16]) {
    uint8_t s[16];
    for (int i = 0; i < 16; i++)
        s[i] = in[i] ^ rk[i];
    for (int round = 1; round <= 10; round++) {
        uint8_t t[16];
        /* SubBytes and ShiftRows: byte (row r, column c) moves to column c - r. */
        for (int c = 0; c < 4; c++)
            for (int r = 0; r < 4; r++)
                t[4 * c + r] = sbox[s[4 * ((c + r) & 3) + r]];
        if (round < 10) {
            for (int c = 0; c < 4; c++) {
                uint8_t *col = t + 4 * c;
                uint8_t a0 = col[0], a1 = col[1], a2 = col[2], a3 = col[3];
                uint8_t all = a0 ^ a1 ^ a2 ^ a3;
                col[0] = a0 ^ all ^ xtime(a0 ^ a1);
                col[1] = a1 ^ all ^ xtime(a1 ^ a2);
                col[2] = a2 ^ all ^ xtime(a2 ^ a3);
                col[3] = a3 ^ all ^ xtime(a3 ^ a0);
            }
        }
        for (int i = 0; i < 16; i++)
            s[i] = t[i] ^ rk[16 * round + i];
    }
    memcpy(out, s, 16);
}

static void ctr_crypt(const uint8_t rk[176], uint64_t nonce, const uint8_t *in, uint8_t *out,
                      size_t len) {
    uint8_t ctr[16], ks[16];
    for (size_t off = 0; off < len; off += 16) {
        uint64_t n = off / 16;
        memcpy(ctr, &nonce, 8);
        for (int i = 0; i < 8; i++)
            ctr[8 + i] = (uint8_t)(n >> (56 - 8 * i));
        encrypt_block(rk, ctr, ks);
        for (int i = 0; i < 16; i++)
            out[off + i] = in[off + i] ^ ks[i];
    }
}

int main(int argc, char **argv) {
    long mib = arg_size(argc, argv, 48);
    make_sbox();
    uint8_t key[16], pt[16], ct[16], rk[176];
    for (int i = 0; i < 16; i++) {
        key[i] = (uint8_t)i;
        pt[i] = (uint8_t)(0x11 * i);
    }
    const uint8_t want[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                              0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
    expand_key(key, rk);
    encrypt_block(rk, pt, ct);
    if (memcmp(ct, want, 16) != 0)
        fail("aes128", "FIPS 197 C.1 vector");
    size_t len = 1 << 20;
    uint8_t *plain = malloc(len), *enc = malloc(len), *dec = malloc(len);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t r = rng_next();
        memcpy(plain + i, &r, 8);
    }
    uint64_t sum = 0;
    for (long r = 0; r < mib; r += 2) {
        for (int i = 0; i < 16; i++)
            key[i] = (uint8_t)rng_next();
        expand_key(key, rk);
        ctr_crypt(rk, (uint64_t)r, plain, enc, len);
        ctr_crypt(rk, (uint64_t)r, enc, dec, len);
        if (memcmp(dec, plain, len) != 0)
            fail("aes128", "decrypt(encrypt(x)) != x");
        for (size_t i = 0; i < len; i += 4096) {
            uint64_t v;
            memcpy(&v, enc + i, 8);
            sum = mix(sum, v);
        }
        plain[r % len] ^= enc[0];
    }
    report("aes128", sum);
    free(plain);
    free(enc);
    free(dec);
    return 0;
}
