/* Small system facts.
 * uname(2): prints sysname (must be "Linux"); the host-dependent fields are
 * never printed, only derived facts: all fields NUL-terminated, release
 * non-empty, and machine equal to the ISA this binary was compiled for (a
 * translator must report the guest's machine, as qemu-user does).
 * Randomness: getrandom(2) with 16 and 256 bytes and with GRND_NONBLOCK,
 * getentropy(3), and reading /dev/urandom.  Only derived properties are
 * printed ("getrandom ok: 16 bytes, not all zero", two draws differ).
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "guest.h"

#if defined(__x86_64__)
#define EXPECT_MACHINE "x86_64"
#elif defined(__aarch64__)
#define EXPECT_MACHINE "aarch64"
#elif defined(__riscv) && __riscv_xlen == 64
#define EXPECT_MACHINE "riscv64"
#else
#define EXPECT_MACHINE "?"
#endif

static void uname_tests(void) {
    struct utsname u;
    int rc = uname(&u);
    printf("uname rc=%d\n", rc);
    printf("sysname=%s\n", u.sysname);
    CHECK(rc == 0 && strcmp(u.sysname, "Linux") == 0);
    int terminated = memchr(u.release, 0, sizeof u.release) && memchr(u.nodename, 0, sizeof u.nodename) &&
                     memchr(u.version, 0, sizeof u.version) && memchr(u.machine, 0, sizeof u.machine);
    printf("fields NUL-terminated: %d, release non-empty: %d\n", terminated, u.release[0] != 0);
    CHECK(terminated && u.release[0]);
    printf("machine matches the guest ISA (%s): %s\n", EXPECT_MACHINE,
           strcmp(u.machine, EXPECT_MACHINE) == 0 ? "yes" : "no");
    CHECK(strcmp(u.machine, EXPECT_MACHINE) == 0);
}

static int all_zero(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

static void random_tests(void) {
    unsigned char a[16], b[16], big[256];
    memset(a, 0, sizeof a);
    memset(b, 0, sizeof b);
    ssize_t n = getrandom(a, sizeof a, 0);
    printf("getrandom ok: %zd bytes, %s\n", n, all_zero(a, sizeof a) ? "all zero" : "not all zero");
    CHECK(n == 16 && !all_zero(a, sizeof a));
    n = getrandom(b, sizeof b, GRND_NONBLOCK);
    printf("getrandom nonblock: %zd bytes, differs from first draw: %s\n", n, memcmp(a, b, 16) ? "yes" : "no");
    CHECK(n == 16 && memcmp(a, b, 16) != 0);
    n = getrandom(big, sizeof big, 0);
    int seen[256] = {0}, distinct = 0;
    for (int i = 0; i < 256; i++)
        if (!seen[big[i]]++) distinct++;
    printf("getrandom 256 bytes: %zd, more than 64 distinct values: %s\n", n, distinct > 64 ? "yes" : "no");
    CHECK(n == 256 && distinct > 64);
    memset(a, 0, sizeof a);
    int rc = getentropy(a, sizeof a);
    printf("getentropy rc=%d, %s\n", rc, all_zero(a, sizeof a) ? "all zero" : "not all zero");
    CHECK(rc == 0 && !all_zero(a, sizeof a));
    int fd = open("/dev/urandom", O_RDONLY);
    memset(b, 0, sizeof b);
    n = fd >= 0 ? read(fd, b, sizeof b) : -1;
    printf("/dev/urandom read: %zd bytes, %s\n", n, all_zero(b, sizeof b) ? "all zero" : "not all zero");
    CHECK(n == 16 && !all_zero(b, sizeof b));
    if (fd >= 0) close(fd);
}

int main(void) {
    uname_tests();
    random_tests();
    printf("sysinfo done, failures=%d\n", guest_failures);
    return guest_status();
}
