/* String search over generated text: a set of patterns counted with
 * Boyer-Moore-Horspool and with a naive scan, which must agree, plus
 * memchr-free line/word statistics. Size: KiB of text. */
#include "textgen.h"

static size_t naive_count(const char *t, size_t n, const char *p, size_t m) {
    size_t c = 0;
    for (size_t i = 0; i + m <= n; i++) {
        size_t j = 0;
        while (j < m && t[i + j] == p[j])
            j++;
        c += j == m;
    }
    return c;
}

static size_t horspool_count(const char *t, size_t n, const char *p, size_t m) {
    size_t shift[256];
    for (int i = 0; i < 256; i++)
        shift[i] = m;
    for (size_t i = 0; i + 1 < m; i++)
        shift[(uint8_t)p[i]] = m - 1 - i;
    size_t c = 0, i = 0;
    while (i + m <= n) {
        uint8_t last = (uint8_t)t[i + m - 1];
        if (last == (uint8_t)p[m - 1]) {
            size_t j = 0;
            while (j + 1 < m && t[i + j] == p[j])
                j++;
            c += j + 1 == m;
        }
        i += shift[last];
    }
    return c;
}

int main(int argc, char **argv) {
    size_t n = (size_t)arg_size(argc, argv, 32768) * 1024;
    char *text = malloc(n);
    generate_text(text, n);
    static const char *const patterns[] = {
        "the", "translator register", "of the", "memory, ", "benchmark throughput",
        "interpreter. the", "zzz", "cache line", "a", "function value pointer",
    };
    uint64_t sum = 0;
    for (size_t k = 0; k < sizeof patterns / sizeof patterns[0]; k++) {
        size_t m = strlen(patterns[k]);
        size_t h = horspool_count(text, n, patterns[k], m);
        size_t v = naive_count(text, n, patterns[k], m);
        if (h != v)
            fail("strsearch", "Horspool and naive counts differ");
        printf("strsearch \"%s\" %zu\n", patterns[k], h);
        sum = mix(sum, h);
    }
    /* Word statistics: count words and the longest word. */
    size_t words = 0, longest = 0, cur = 0;
    for (size_t i = 0; i < n; i++) {
        char ch = text[i];
        if (ch >= 'a' && ch <= 'z') {
            cur++;
        } else {
            words += cur > 0;
            longest = cur > longest ? cur : longest;
            cur = 0;
        }
    }
    sum = mix(mix(sum, words), longest);
    report("strsearch", sum);
    return 0;
}
