/* Command line, environment and auxiliary vector.
 * Args (manifest): one --two=2 -3 ünïcödé last
 * Env (manifest):  VMTRANS_TEST=1 (always set by the runner),
 *                  GUEST_GREETING=hello_world, GUEST_EMPTY= (set, empty)
 * Prints argc and argv[1..] (argv[0] depends on how the runner names the
 * binary, so only its presence is checked), selected variables (never the
 * whole environment), that argv/envp are laid out as the ABI requires
 * (argv[argc] == NULL, environ follows), and auxv facts: AT_PAGESZ,
 * AT_RANDOM points at 16 readable bytes, AT_ENTRY/AT_PHDR non-zero,
 * AT_SECURE 0.  Stdin is expected to be empty (the runner uses /dev/null).
 * Exit: 0 if all checks pass, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>
#include "guest.h"

extern char **environ;

int main(int argc, char **argv, char **envp) {
    printf("argc=%d\n", argc);
    printf("argv[0] present and non-empty: %d\n", argv[0] != NULL && argv[0][0] != 0);
    for (int i = 1; i < argc; i++) printf("argv[%d]=[%s] (%zu bytes)\n", i, argv[i], strlen(argv[i]));
    CHECK(argv[argc] == NULL);
    CHECK(argc == 6 && strcmp(argv[1], "one") == 0 && strcmp(argv[5], "last") == 0);
    CHECK(envp == environ && envp == argv + argc + 1);
    const char *t = getenv("VMTRANS_TEST");
    const char *g = getenv("GUEST_GREETING");
    const char *e = getenv("GUEST_EMPTY");
    const char *missing = getenv("GUEST_SURELY_NOT_SET");
    printf("VMTRANS_TEST=%s\n", t ? t : "(unset)");
    printf("GUEST_GREETING=%s\n", g ? g : "(unset)");
    printf("GUEST_EMPTY is %s\n", e ? (*e ? "set, non-empty" : "set, empty") : "unset");
    printf("GUEST_SURELY_NOT_SET is %s\n", missing ? "set" : "unset");
    printf("PATH is set: %d\n", getenv("PATH") != NULL);
    CHECK(t && strcmp(t, "1") == 0 && g && strcmp(g, "hello_world") == 0 && e && !*e && !missing);
    /* setenv/unsetenv modify only this process's copy. */
    setenv("GUEST_GREETING", "changed", 1);
    setenv("GUEST_NEW", "new_value", 0);
    unsetenv("VMTRANS_TEST");
    printf("after setenv/unsetenv: GUEST_GREETING=%s GUEST_NEW=%s VMTRANS_TEST %s\n", getenv("GUEST_GREETING"),
           getenv("GUEST_NEW"), getenv("VMTRANS_TEST") ? "set" : "unset");
    int count = 0;
    for (char **p = environ; *p; p++)
        if (strncmp(*p, "GUEST_", 6) == 0) count++;
    printf("GUEST_* variables now: %d\n", count);
    CHECK(count == 3);
    /* auxv */
    unsigned long pagesz = getauxval(AT_PAGESZ);
    const unsigned char *rnd = (const unsigned char *)getauxval(AT_RANDOM);
    int rnd_nonzero = 0;
    if (rnd)
        for (int i = 0; i < 16; i++) rnd_nonzero |= rnd[i];
    printf("AT_PAGESZ=%lu AT_RANDOM readable=%d non-zero=%d AT_ENTRY set=%d AT_PHDR set=%d AT_SECURE=%lu\n", pagesz,
           rnd != NULL, rnd_nonzero != 0, getauxval(AT_ENTRY) != 0, getauxval(AT_PHDR) != 0, getauxval(AT_SECURE));
    CHECK(pagesz == 4096 && rnd && getauxval(AT_ENTRY) && getauxval(AT_PHDR));
    printf("AT_UID matches getuid: %d\n", getauxval(AT_UID) == (unsigned long)getuid());
    char c;
    ssize_t n = read(0, &c, 1);
    printf("stdin read returns %zd (empty stdin)\n", n);
    printf("argv_env done, failures=%d\n", guest_failures);
    return guest_status();
}
