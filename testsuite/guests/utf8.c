/* UTF-8 text: prints strings in several scripts (Latin with diacritics,
 * Greek, Cyrillic, CJK, Arabic, emoji with ZWJ sequences and skin tones,
 * combining marks), decodes them by hand into code points (counted and
 * printed as U+XXXX), re-encodes and compares byte-for-byte, rejects invalid
 * sequences (overlong, surrogates, truncated, > U+10FFFF), shows that printf
 * field widths count bytes, and uses wchar_t arrays (wcslen/wcscmp/wmemchr)
 * without depending on a locale.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>
#include "guest.h"

/* Returns the number of bytes consumed, or 0 for an invalid sequence. */
static int decode(const unsigned char *s, size_t n, uint32_t *cp) {
    if (n == 0) return 0;
    unsigned char c = s[0];
    int len;
    uint32_t v, min;
    if (c < 0x80) { *cp = c; return 1; }
    else if ((c & 0xe0) == 0xc0) { len = 2; v = c & 0x1f; min = 0x80; }
    else if ((c & 0xf0) == 0xe0) { len = 3; v = c & 0x0f; min = 0x800; }
    else if ((c & 0xf8) == 0xf0) { len = 4; v = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)len > n) return 0;
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff)) return 0;
    *cp = v;
    return len;
}

static int encode(uint32_t cp, unsigned char *out) {
    if (cp < 0x80) { out[0] = (unsigned char)cp; return 1; }
    if (cp < 0x800) { out[0] = (unsigned char)(0xc0 | cp >> 6); out[1] = (unsigned char)(0x80 | (cp & 0x3f)); return 2; }
    if (cp < 0x10000) {
        out[0] = (unsigned char)(0xe0 | cp >> 12);
        out[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (unsigned char)(0xf0 | cp >> 18);
    out[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

int main(void) {
    const char *samples[] = {
        "Grüße aus Zürich, naïve café, Ångström",
        "Ελληνικά: αβγδε ΑΒΓΔΕ",
        "Русский текст: Привет, мир!",
        "日本語のテキスト、中文文本、한국어",
        "العربية: مرحبا بالعالم",
        "Emoji: 😀 👍🏽 👩‍💻 🇨🇭 ❤️",
        "Combining: e\xcc\x81 a\xcc\x8a n\xcc\x83 (decomposed)",
        "Math: ∀x∈ℝ: x² ≥ 0, ∑ 1/n² = π²/6",
        "Box: ┌─┬─┐ │ │ │ └─┴─┘",
    };
    for (unsigned i = 0; i < sizeof samples / sizeof samples[0]; i++) {
        const unsigned char *s = (const unsigned char *)samples[i];
        size_t n = strlen(samples[i]);
        uint32_t cps[256];
        int count = 0, ok = 1;
        for (size_t p = 0; p < n;) {
            int l = decode(s + p, n - p, &cps[count]);
            if (!l) { ok = 0; break; }
            p += (size_t)l;
            count++;
        }
        unsigned char re[1024];
        size_t rl = 0;
        for (int k = 0; k < count; k++) rl += (size_t)encode(cps[k], re + rl);
        int same = rl == n && memcmp(re, s, n) == 0;
        printf("%s\n  bytes=%zu codepoints=%d valid=%d reencoded-identical=%d first:", samples[i], n, count, ok, same);
        for (int k = 0; k < count && k < 6; k++) printf(" U+%04X", (unsigned)cps[k]);
        printf(" last: U+%04X\n", (unsigned)cps[count - 1]);
        CHECK(ok && same);
    }
    /* Invalid input. */
    const char *bad[] = {"\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "\x80", "\xff", "\xf0\x9f\x98"};
    const char *why[] = {"overlong '/'", "surrogate D800", "truncated", "above U+10FFFF", "lone continuation",
                         "0xFF byte", "truncated emoji"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint32_t cp;
        int l = decode((const unsigned char *)bad[i], strlen(bad[i]), &cp);
        printf("invalid %-18s rejected=%d\n", why[i], l == 0);
        CHECK(l == 0);
    }
    /* Encoding boundaries. */
    const uint32_t edges[] = {0x7f, 0x80, 0x7ff, 0x800, 0xfffd, 0xffff, 0x10000, 0x10ffff};
    for (unsigned i = 0; i < sizeof edges / sizeof edges[0]; i++) {
        unsigned char b[4];
        int l = encode(edges[i], b);
        uint32_t back;
        int dl = decode(b, (size_t)l, &back);
        printf("U+%04X -> %d bytes:", (unsigned)edges[i], l);
        for (int k = 0; k < l; k++) printf(" %02X", b[k]);
        printf(" round trip=%d\n", dl == l && back == edges[i]);
    }
    /* Byte-based field widths. */
    printf("[%-12s] [%12s] [%.3s]\n", "äöü", "日本", "ab€");
    /* wchar_t without locale. */
    const wchar_t w1[] = L"Grüße 日本 😀", w2[] = L"Grüße 日本 😁";
    printf("sizeof(wchar_t)=%zu wcslen=%zu wcscmp sign=%d wmemchr found at %ld, code of last=U+%04X\n",
           sizeof(wchar_t), wcslen(w1), (wcscmp(w1, w2) > 0) - (wcscmp(w1, w2) < 0),
           (long)(wmemchr(w1, L'本', wcslen(w1)) - w1), (unsigned)w1[wcslen(w1) - 1]);
    CHECK(wcslen(w1) == 10 && wcscmp(w1, w2) < 0);
    printf("utf8 done, failures=%d\n", guest_failures);
    return guest_status();
}
