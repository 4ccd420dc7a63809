/* qsort and bsearch: integers (with duplicates and extreme values, comparator
 * written without overflow), doubles, strings via an array of pointers,
 * records with a multi-key comparator (so the order is total and the output
 * deterministic even though qsort is not stable), sizes 0..5000 including
 * already sorted and reversed input, verified against an insertion sort;
 * bsearch for present and absent keys; lfind/lsearch.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <limits.h>
#include <search.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}
static int cmp_dbl(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

struct rec {
    char name[12];
    int age;
    double score;
};
static int cmp_rec(const void *a, const void *b) {
    const struct rec *x = a, *y = b;
    if (x->age != y->age) return x->age < y->age ? 1 : -1; /* age descending */
    int c = strcmp(x->name, y->name);
    if (c) return c;
    return (x->score > y->score) - (x->score < y->score);
}

static int ints[5000], ref[5000];

int main(void) {
    uint64_t st = 99;
    static const int sizes[] = {0, 1, 2, 3, 7, 16, 100, 1000, 5000};
    for (unsigned si = 0; si < sizeof sizes / sizeof sizes[0]; si++)
        for (int kind = 0; kind < 4; kind++) {
            int n = sizes[si];
            for (int i = 0; i < n; i++) {
                uint64_t r = guest_rand(&st);
                switch (kind) {
                case 0: ints[i] = (int)(r % 2000001) - 1000000; break;
                case 1: ints[i] = (int)(r % 10); break; /* many duplicates */
                case 2: ints[i] = i; break;            /* sorted */
                default: ints[i] = r & 1 ? INT_MAX - i : INT_MIN + i; break;
                }
            }
            memcpy(ref, ints, sizeof(int) * (size_t)n);
            for (int i = 1; i < n; i++) { /* insertion sort as the oracle */
                int v = ref[i], j = i - 1;
                while (j >= 0 && ref[j] > v) {
                    ref[j + 1] = ref[j];
                    j--;
                }
                ref[j + 1] = v;
            }
            qsort(ints, (size_t)n, sizeof(int), cmp_int);
            int same = memcmp(ints, ref, sizeof(int) * (size_t)n) == 0;
            uint64_t h = guest_fnv(ints, sizeof(int) * (size_t)n);
            int found = 0, absent = 0;
            for (int i = 0; i < n; i += 1 + n / 50) {
                int *p = bsearch(&ints[i], ints, (size_t)n, sizeof(int), cmp_int);
                found += p && *p == ints[i];
                int miss = ints[i] == INT_MAX ? INT_MAX : ints[i] + 1;
                int *q = bsearch(&miss, ints, (size_t)n, sizeof(int), cmp_int);
                absent += q == NULL;
            }
            printf("n=%4d kind=%d sorted-ok=%d fnv=%016llx min=%d max=%d bsearch found=%d absent=%d\n", n, kind, same,
                   (unsigned long long)h, n ? ints[0] : 0, n ? ints[n - 1] : 0, found, absent);
            CHECK(same);
        }
    /* doubles */
    double d[200];
    for (int i = 0; i < 200; i++) d[i] = (double)(int64_t)(guest_rand(&st) % 100000) / 7.0 - 5000;
    qsort(d, 200, sizeof d[0], cmp_dbl);
    int ok = 1;
    for (int i = 1; i < 200; i++) ok &= d[i - 1] <= d[i];
    printf("doubles: ok=%d first=%.6f median=%.6f last=%.6f\n", ok, d[0], d[100], d[199]);
    CHECK(ok);
    /* strings */
    const char *words[] = {"pear", "apple", "fig", "banana", "Cherry", "date", "apple", "elderberry", "grape", "",
                           "kiwi", "lemon", "mango", "Apple", "zucchini", "yam", "apricot"};
    size_t nw = sizeof words / sizeof words[0];
    char *w[32];
    for (size_t i = 0; i < nw; i++) w[i] = (char *)words[i];
    qsort(w, nw, sizeof w[0], cmp_str);
    printf("words:");
    for (size_t i = 0; i < nw; i++) printf(" '%s'", w[i]);
    printf("\n");
    const char *key = "grape";
    char **hit = bsearch(&key, w, nw, sizeof w[0], cmp_str);
    const char *nokey = "grapefruit";
    printf("bsearch grape at index %ld, grapefruit %s\n", hit ? (long)(hit - w) : -1L,
           bsearch(&nokey, w, nw, sizeof w[0], cmp_str) ? "found" : "absent");
    CHECK(hit && strcmp(*hit, "grape") == 0);
    /* records */
    struct rec recs[40];
    for (int i = 0; i < 40; i++) {
        uint64_t r = guest_rand(&st);
        snprintf(recs[i].name, sizeof recs[i].name, "n%02d", (int)(r % 23));
        recs[i].age = 20 + (int)((r >> 8) % 5);
        recs[i].score = (double)((r >> 16) % 1000) / 10;
    }
    qsort(recs, 40, sizeof recs[0], cmp_rec);
    for (int i = 0; i < 40; i += 4)
        printf("rec[%2d] age=%d name=%s score=%.1f\n", i, recs[i].age, recs[i].name, recs[i].score);
    /* lsearch / lfind */
    int table[10] = {5, 3, 9};
    size_t tn = 3;
    int k = 7;
    lsearch(&k, table, &tn, sizeof(int), cmp_int);
    k = 3;
    int *lf = lfind(&k, table, &tn, sizeof(int), cmp_int);
    printf("lsearch appended -> n=%zu last=%d, lfind(3) index=%ld\n", tn, table[tn - 1], lf ? (long)(lf - table) : -1L);
    CHECK(tn == 4 && table[3] == 7 && lf == &table[1]);
    printf("sort_search done, failures=%d\n", guest_failures);
    return guest_status();
}
