/* String and memory functions (glibc's optimized, often vectorized versions)
 * at every source/destination alignment 0..31 and many lengths, checked
 * against naive byte loops: memcpy, memmove (both overlap directions),
 * memset, memcmp, memchr, memrchr, strlen, strnlen, strcpy, stpcpy, strncpy,
 * strcat, strcmp, strncmp, strchr, strrchr, strstr, memmem, strspn, strcspn,
 * strcasecmp, strtok_r, strdup.  Strings are also placed so they straddle a
 * page boundary inside a two-page anonymous mapping and so they end on the
 * very last byte of the mapping (functions must not fault reading past).
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>
#include "guest.h"

#define BUF 512

static unsigned char src[BUF + 64], dst[BUF + 64], ref[BUF + 64];
static int sgn(int x) { return (x > 0) - (x < 0); }

static void fill(unsigned char *p, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) p[i] = (unsigned char)(seed * 31 + i * 7 + (i >> 3));
}

static void mem_tests(void) {
    static const size_t lens[] = {0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 255, 300};
    uint64_t h = 0;
    int errors = 0;
    for (unsigned sa = 0; sa < 32; sa++)
        for (unsigned da = 0; da < 32; da += 3)
            for (unsigned li = 0; li < sizeof lens / sizeof lens[0]; li++) {
                size_t n = lens[li];
                fill(src, sizeof src, sa + da);
                memset(dst, 0xee, sizeof dst);
                memcpy(dst + da, src + sa, n);
                memset(ref, 0xee, sizeof ref);
                for (size_t i = 0; i < n; i++) ref[da + i] = src[sa + i];
                if (memcmp(dst, ref, sizeof dst) != 0) errors++;
                /* memset */
                memset(dst + da, (int)(sa + 0x41), n);
                for (size_t i = 0; i < n; i++) ref[da + i] = (unsigned char)(sa + 0x41);
                if (memcmp(dst, ref, sizeof dst) != 0) errors++;
                /* memcmp with a difference at the last byte */
                memcpy(dst + da, src + sa, n);
                if (n) {
                    dst[da + n - 1] ^= 0x80;
                    int r = memcmp(dst + da, src + sa, n);
                    int e = dst[da + n - 1] > src[sa + n - 1] ? 1 : -1;
                    if (sgn(r) != e) errors++;
                    h = h * 3 + (uint64_t)(r > 0);
                }
                if (memcmp(dst + da, src + sa, n ? n - 1 : 0) != 0) errors++;
                /* memchr / memrchr */
                memset(dst, 'a', sizeof dst);
                if (n) dst[da + n - 1] = 'Z';
                void *m = memchr(dst + da, 'Z', n);
                if (n ? m != dst + da + n - 1 : m != NULL) errors++;
                if (n && memrchr(dst + da, 'a', n) != (n > 1 ? dst + da + n - 2 : NULL)) errors++;
            }
    printf("memcpy/memset/memcmp/memchr alignment sweep: errors=%d sign-hash=%llx\n", errors, (unsigned long long)h);
    CHECK(errors == 0);
    /* memmove overlapping both directions. */
    errors = 0;
    for (int shift = -40; shift <= 40; shift += 3)
        for (size_t n = 0; n < 200; n += 13) {
            fill(src, sizeof src, (unsigned)n);
            memcpy(ref, src, sizeof src);
            size_t from = 100, to = (size_t)(100 + shift);
            memmove(src + to, src + from, n);
            unsigned char tmp[256];
            memcpy(tmp, ref + from, n);
            memcpy(ref + to, tmp, n);
            if (memcmp(src, ref, sizeof src) != 0) errors++;
        }
    printf("memmove overlap sweep: errors=%d\n", errors);
    CHECK(errors == 0);
}

static size_t naive_strlen(const char *s) {
    size_t n = 0;
    while (s[n]) n++;
    return n;
}

static void str_tests(void) {
    char a[256], b[256];
    int errors = 0;
    for (unsigned al = 0; al < 32; al++)
        for (size_t n = 0; n < 150; n += 1 + n / 8) {
            char *s = a + al;
            for (size_t i = 0; i < n; i++) s[i] = (char)('a' + (i * 5 + al) % 26);
            s[n] = 0;
            if (strlen(s) != n || naive_strlen(s) != n) errors++;
            if (strnlen(s, n / 2) != n / 2) errors++;
            char *d = b + (al * 7) % 32;
            char *e = stpcpy(d, s);
            if (e != d + n || strcmp(d, s) != 0) errors++;
            if (n) {
                d[n - 1]++;
                if (strcmp(d, s) <= 0 || strcmp(s, d) >= 0 || strncmp(s, d, n - 1) != 0) errors++;
                if (strchr(s, s[n - 1]) != s + (strchr(s, s[n - 1]) - s)) errors++;
                if (strrchr(s, s[0]) == NULL || strchr(s, 0) != s + n) errors++;
            }
        }
    printf("str* alignment sweep: errors=%d\n", errors);
    CHECK(errors == 0);
    strcpy(a, "The quick brown fox jumps over the lazy dog");
    printf("strstr=%s| memmem=%s| strspn=%zu strcspn=%zu strchr=%s| strrchr=%s|\n", strstr(a, "fox"),
           (char *)memmem(a, strlen(a), "lazy", 4), strspn(a, "ehT "), strcspn(a, "xyz"), strchr(a, 'q'),
           strrchr(a, 'o'));
    CHECK(strstr(a, "cat") == NULL && strstr(a, "") == a);
    printf("strcasecmp=%d strncasecmp=%d strcmp(sign)=%d strncpy pad:", sgn(strcasecmp("HeLLo", "hello")),
           sgn(strncasecmp("abcX", "ABCy", 4)), sgn(strcmp("abc", "abd")));
    memset(b, 'x', 12);
    strncpy(b, "hi", 8);
    for (int i = 0; i < 12; i++) printf(" %02x", (unsigned char)b[i]);
    printf("\n");
    strcpy(b, "alpha");
    strcat(b, ",beta");
    strncat(b, ",gamma,delta", 6);
    printf("strcat: %s\n", b);
    CHECK(strcmp(b, "alpha,beta,gamma") == 0);
    char *save = NULL, *tok;
    strcpy(b, "  one,two;;three , four  ");
    printf("tokens:");
    for (tok = strtok_r(b, " ,;", &save); tok; tok = strtok_r(NULL, " ,;", &save)) printf(" [%s]", tok);
    printf("\n");
    char *dup = strdup("duplicated string");
    printf("strdup: %s (%zu)\n", dup, strlen(dup));
    free(dup);
    /* Signedness of comparisons: bytes >= 0x80 compare greater. */
    printf("strcmp high bytes: %d memcmp high bytes: %d\n", sgn(strcmp("\x80", "\x7f")), sgn(memcmp("\xff", "\x01", 1)));
    CHECK(strcmp("\x80", "\x7f") > 0 && memcmp("\xff", "\x01", 1) > 0);
}

static void page_tests(void) {
    long pg = sysconf(_SC_PAGESIZE);
    printf("page size %ld\n", pg);
    char *map = mmap(NULL, (size_t)pg * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(map != MAP_FAILED);
    if (map == MAP_FAILED) return;
    char *end = map + 2 * pg;
    int errors = 0;
    /* Strings ending exactly at the last byte of the mapping. */
    for (size_t n = 0; n < 100; n++) {
        char *s = end - 1 - n;
        memset(s, 'q', n);
        s[n] = 0;
        if (strlen(s) != n) errors++;
        if (strchr(s, 'z') != NULL || strchr(s, 0) != s + n) errors++;
        if (memchr(s, 'z', n + 1) != NULL) errors++;
        if (strrchr(s, 'q') != (n ? s + n - 1 : NULL)) errors++;
        if (n && strcmp(s, s) != 0) errors++;
        char tmp[128];
        strcpy(tmp, s);
        if (strcmp(tmp, s) != 0) errors++;
        if (memcmp(end - n, end - n, n) != 0) errors++;
    }
    /* Strings and buffers straddling the boundary between the two pages. */
    char *mid = map + pg;
    for (int off = -70; off <= 5; off++) {
        char *s = mid + off;
        size_t n = (size_t)(70 + (off % 7 + 7) % 7);
        for (size_t i = 0; i < n; i++) s[i] = (char)('A' + i % 26);
        s[n] = 0;
        if (strlen(s) != n) errors++;
        char *copy = map + 100;
        memcpy(copy, s, n + 1);
        if (strcmp(copy, s) != 0 || memcmp(copy, s, n) != 0) errors++;
        memmove(s + 1, s, n);
        if (s[1] != 'A' || s[n] != (char)('A' + (n - 1) % 26)) errors++;
        memset(s, 0, n + 1);
    }
    /* A memcmp whose only difference is across the boundary. */
    memset(map, 'x', (size_t)pg * 2);
    char other[64];
    memset(other, 'x', 64);
    mid[3] = 'y';
    int r = memcmp(mid - 30, other, 64);
    printf("page-boundary tests: errors=%d memcmp across boundary sign=%d\n", errors, sgn(r));
    CHECK(errors == 0 && r > 0);
    munmap(map, (size_t)pg * 2);
}

int main(void) {
    mem_tests();
    str_tests();
    page_tests();
    printf("string_mem done, failures=%d\n", guest_failures);
    return guest_status();
}
