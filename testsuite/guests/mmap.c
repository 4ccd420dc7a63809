/* Memory mapping: anonymous mmap is zero-filled and page aligned, munmap of
 * a middle page splits a mapping (neighbours stay usable), mprotect to
 * read-only and back (contents kept), MAP_FIXED over part of an existing
 * mapping replaces it with zeros and fills a hole, mremap cannot grow into a
 * mapped neighbour without MREMAP_MAYMOVE (ENOMEM), moves with it, and
 * shrinks in place, preserving contents, madvise(MADV_DONTNEED) zeroes private anonymous
 * pages, a large (64 MiB) sparse mapping touched at a few pages,
 * MAP_PRIVATE vs MAP_SHARED file mappings (only shared writes reach the
 * file, msync), and brk growth via sbrk.  Addresses are never printed.
 * Uses a scratch file "mapped.bin" that it deletes again.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "guest.h"

/* MAP_FIXED_NOREPLACE is not used: qemu-user 7.2 treats it as a hint. */

static size_t pg;

static int all_equal(const unsigned char *p, size_t n, unsigned char v) {
    for (size_t i = 0; i < n; i++)
        if (p[i] != v) return 0;
    return 1;
}

int main(void) {
    pg = (size_t)sysconf(_SC_PAGESIZE);
    unsigned char *m = mmap(NULL, 8 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    printf("anon mmap: page aligned=%d zero filled=%d\n", ((uintptr_t)m % pg) == 0, all_equal(m, 8 * pg, 0));
    for (size_t i = 0; i < 8; i++) memset(m + i * pg, (int)(i + 1), pg);
    /* Split by unmapping page 3. */
    CHECK(munmap(m + 3 * pg, pg) == 0);
    printf("after munmap of page 3: page2 intact=%d page4 intact=%d\n", all_equal(m + 2 * pg, pg, 3),
           all_equal(m + 4 * pg, pg, 5));
    /* mprotect read-only and back. */
    CHECK(mprotect(m, 2 * pg, PROT_READ) == 0);
    int ro_ok = all_equal(m, pg, 1) && all_equal(m + pg, pg, 2);
    CHECK(mprotect(m, 2 * pg, PROT_READ | PROT_WRITE) == 0);
    m[0] = 99;
    printf("mprotect RO then RW: contents kept=%d writable again=%d\n", ro_ok, m[0] == 99);
    /* MAP_FIXED replaces pages 5..6 with fresh zero pages. */
    unsigned char *f = mmap(m + 5 * pg, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED: at requested address=%d zeroed=%d neighbour page4=%d page7=%d\n", f == m + 5 * pg,
           all_equal(f, 2 * pg, 0), all_equal(m + 4 * pg, pg, 5), all_equal(m + 7 * pg, pg, 8));
    CHECK(f == m + 5 * pg && all_equal(f, 2 * pg, 0));
    /* MAP_FIXED into the hole left at page 3. */
    void *hole = mmap(m + 3 * pg, pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    printf("MAP_FIXED into the unmapped hole: %d zeroed=%d\n", hole == m + 3 * pg, all_equal(m + 3 * pg, pg, 0));
    CHECK(hole == m + 3 * pg);
    CHECK(munmap(m, 8 * pg) == 0);

    /* mremap: 4 pages followed by a mapped read-only "blocker" page. */
    unsigned char *r = mmap(NULL, 5 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(r != MAP_FAILED);
    CHECK(mprotect(r + 4 * pg, pg, PROT_READ) == 0);
    for (size_t i = 0; i < 4 * pg; i++) r[i] = (unsigned char)(i * 13 + 7);
    uint64_t h_before = guest_fnv(r, 4 * pg);
    errno = 0;
    void *fail = mremap(r, 4 * pg, 8 * pg, 0);
    printf("mremap grow without MAYMOVE into the blocker: failed=%d ENOMEM=%d\n", fail == MAP_FAILED, errno == ENOMEM);
    CHECK(fail == MAP_FAILED && errno == ENOMEM);
    unsigned char *g = mremap(r, 4 * pg, 64 * pg, MREMAP_MAYMOVE);
    CHECK(g != MAP_FAILED);
    printf("mremap grow 4->64 pages with MAYMOVE: ok=%d moved=%d contents preserved=%d new part zero=%d\n",
           g != MAP_FAILED, g != r, guest_fnv(g, 4 * pg) == h_before, all_equal(g + 4 * pg, 60 * pg, 0));
    CHECK(g != r && guest_fnv(g, 4 * pg) == h_before);
    munmap(r + 4 * pg, pg); /* the blocker */
    g[64 * pg - 1] = 0x5a;
    uint64_t h2 = guest_fnv(g, 2 * pg);
    unsigned char *s = mremap(g, 64 * pg, 2 * pg, 0);
    printf("mremap shrink 64->2 pages in place: %d contents preserved=%d\n", s == g, guest_fnv(s, 2 * pg) == h2);
    CHECK(s == g);
    munmap(s, 2 * pg);

    /* madvise(MADV_DONTNEED) drops private anonymous contents. */
    unsigned char *d = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    memset(d, 0xaa, 4 * pg);
    CHECK(madvise(d + pg, 2 * pg, MADV_DONTNEED) == 0);
    printf("MADV_DONTNEED: advised pages zero=%d others kept=%d\n", all_equal(d + pg, 2 * pg, 0),
           all_equal(d, pg, 0xaa) && all_equal(d + 3 * pg, pg, 0xaa));
    CHECK(all_equal(d + pg, 2 * pg, 0));
    munmap(d, 4 * pg);

    /* A big sparse mapping. */
    size_t big = 64u << 20;
    unsigned char *b = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    CHECK(b != MAP_FAILED);
    uint64_t sum = 0;
    for (size_t off = 0; off < big; off += big / 16) {
        b[off] = (unsigned char)(off >> 20);
        b[off + pg - 1] = 1;
    }
    for (size_t off = 0; off < big; off += big / 16) sum += b[off] + b[off + pg - 1] + b[off + pg];
    printf("64 MiB sparse mapping: sum=%llu\n", (unsigned long long)sum);
    munmap(b, big);

    /* File mappings. */
    int fd = open("mapped.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0 && ftruncate(fd, (off_t)(2 * pg)) == 0);
    unsigned char *sh = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *pv = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(sh != MAP_FAILED && pv != MAP_FAILED);
    memcpy(sh + 10, "shared", 6);
    CHECK(msync(sh, 2 * pg, MS_SYNC) == 0);
    int private_sees_shared = memcmp(pv + 10, "shared", 6) == 0; /* not yet copied-on-write */
    memcpy(pv + 100, "private", 7);
    char fb[16] = {0};
    CHECK(pread(fd, fb, 6, 10) == 6);
    int file_has_shared = memcmp(fb, "shared", 6) == 0;
    CHECK(pread(fd, fb, 7, 100) == 7);
    int file_has_private = memcmp(fb, "private", 7) == 0;
    CHECK(pwrite(fd, "viafile", 7, pg + 1) == 7);
    printf("file maps: shared write reaches file=%d private write reaches file=%d private sees earlier shared=%d "
           "shared map sees pwrite=%d\n",
           file_has_shared, file_has_private, private_sees_shared, memcmp(sh + pg + 1, "viafile", 7) == 0);
    CHECK(file_has_shared && !file_has_private && memcmp(sh + pg + 1, "viafile", 7) == 0);
    munmap(sh, 2 * pg);
    munmap(pv, 2 * pg);
    close(fd);
    unlink("mapped.bin");

    /* brk via sbrk. */
    char *b0 = sbrk(0);
    char *b1 = sbrk(64 * 1024);
    char *b2 = sbrk(0);
    int brk_ok = b1 == b0 && b2 == b0 + 64 * 1024;
    if (brk_ok) memset(b1, 0x11, 64 * 1024);
    printf("sbrk(64K): grew by exactly 64K=%d usable=%d\n", brk_ok, brk_ok && b1[65535] == 0x11);
    CHECK(brk_ok);
    printf("mmap done, failures=%d\n", guest_failures);
    return guest_status();
}
