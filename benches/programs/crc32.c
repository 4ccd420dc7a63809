/* CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) of a generated
 * buffer, table driven (slicing by 4), checked against the bitwise
 * definition and the standard check value. Size: MiB hashed. */
#include "common.h"

static uint32_t table[4][256];

static void make_tables(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 4; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

/* Bitwise reference: the definition, one bit at a time. */
static uint32_t crc_bitwise(const uint8_t *p, size_t n) {
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xedb88320u : c >> 1;
    }
    return ~c;
}

static uint32_t crc_update(uint32_t c, const uint8_t *p, size_t n) {
    c = ~c;
    while (n >= 4) {
        c ^= (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        c = table[3][c & 0xff] ^ table[2][(c >> 8) & 0xff] ^ table[1][(c >> 16) & 0xff] ^
            table[0][c >> 24];
        p += 4;
        n -= 4;
    }
    while (n--)
        c = (c >> 8) ^ table[0][(c ^ *p++) & 0xff];
    return ~c;
}

int main(int argc, char **argv) {
    long mib = arg_size(argc, argv, 1536);
    make_tables();
    const uint8_t check[] = "123456789";
    if (crc_update(0, check, 9) != 0xcbf43926u || crc_bitwise(check, 9) != 0xcbf43926u)
        fail("crc32", "check value of \"123456789\"");
    size_t len = 1 << 20;
    uint8_t *buf = malloc(len);
    for (size_t i = 0; i < len; i += 8) {
        uint64_t r = rng_next();
        memcpy(buf + i, &r, 8);
    }
    for (size_t n = 0; n < 4096; n += 173)
        if (crc_update(0, buf + n, n) != crc_bitwise(buf + n, n))
            fail("crc32", "table and bitwise CRC differ");
    /* Chained: each pass continues the CRC and perturbs the buffer. */
    uint32_t crc = 0;
    uint64_t sum = 0;
    for (long r = 0; r < mib; r++) {
        crc = crc_update(crc, buf, len);
        buf[r % len] ^= (uint8_t)crc;
        sum = mix(sum, crc);
    }
    printf("crc32 final %08x\n", crc);
    report("crc32", sum);
    free(buf);
    return 0;
}
