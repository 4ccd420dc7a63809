/* Synchronous faults turned into signals and recovered from: a read from a
 * PROT_NONE page (SIGSEGV/SEGV_ACCERR, si_addr checked as an offset into the
 * mapping), a write to a read-only page, an access to an unmapped page
 * (SEGV_MAPERR), a NULL dereference, recovery by siglongjmp out of the
 * handler, recovery by mprotect-ing the page inside the handler and
 * returning (the faulting instruction must be restarted and complete), a
 * SIGBUS from touching a file mapping beyond end of file, and
 * __builtin_trap (SIGILL on x86_64, SIGTRAP on aarch64/riscv64).
 * Writes and deletes a scratch file "segv_scratch.bin" in the current dir.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "guest.h"

static sigjmp_buf recover;
static volatile sig_atomic_t last_sig, last_code;
static volatile uintptr_t last_addr;
static char *volatile fixup_page; /* volatile: must be stored before the faulting access */
static volatile long pg;
static volatile int fixups;

static void handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    last_sig = sig;
    last_code = si->si_code;
    last_addr = (uintptr_t)si->si_addr;
    if (fixup_page && (char *)si->si_addr >= fixup_page && (char *)si->si_addr < fixup_page + pg) {
        mprotect(fixup_page, (size_t)pg, PROT_READ | PROT_WRITE);
        fixups++;
        return; /* the faulting access is restarted */
    }
    siglongjmp(recover, 1);
}

static const char *sig_name(int s) {
    switch (s) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case 0: return "none";
    default: return "other";
    }
}
static const char *code_name(int sig, int c) {
    if (sig == SIGSEGV) return c == SEGV_MAPERR ? "SEGV_MAPERR" : c == SEGV_ACCERR ? "SEGV_ACCERR" : "other";
    if (sig == SIGBUS) return c == BUS_ADRERR ? "BUS_ADRERR" : "other";
    return "-";
}

#define TRY_FAULT(label, base, stmt)                                                                      \
    do {                                                                                                  \
        last_sig = 0;                                                                                     \
        if (sigsetjmp(recover, 1) == 0) {                                                                 \
            stmt;                                                                                         \
            printf("%-28s no fault\n", label);                                                            \
        } else {                                                                                          \
            printf("%-28s %s %s", label, sig_name(last_sig), code_name(last_sig, last_code));          \
            if (last_sig == SIGSEGV || last_sig == SIGBUS) /* si_addr of a trap is a code address */      \
                printf(" offset=%ld", (long)(last_addr - (uintptr_t)(base)));                             \
            printf("\n");                                                                                 \
        }                                                                                                 \
    } while (0)

int main(void) {
    pg = sysconf(_SC_PAGESIZE);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    sigaction(SIGILL, &sa, NULL);
    sigaction(SIGTRAP, &sa, NULL);

    char *m = mmap(NULL, (size_t)pg * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(m != MAP_FAILED);
    memset(m, 7, (size_t)pg * 3);
    mprotect(m, (size_t)pg, PROT_NONE);
    mprotect(m + pg, (size_t)pg, PROT_READ);
    munmap(m + 2 * pg, (size_t)pg);
    volatile char *vm = m;

    TRY_FAULT("read PROT_NONE+0x10", m, (void)vm[0x10]);
    CHECK(last_sig == SIGSEGV && last_code == SEGV_ACCERR && last_addr == (uintptr_t)m + 0x10);
    TRY_FAULT("write read-only+0x123", m, vm[pg + 0x123] = 1);
    CHECK(last_sig == SIGSEGV && last_code == SEGV_ACCERR && last_addr == (uintptr_t)m + (uintptr_t)pg + 0x123);
    TRY_FAULT("read read-only page", m, (void)vm[pg + 5]);
    CHECK(last_sig == 0);
    TRY_FAULT("read unmapped+0x40", m, (void)vm[2 * pg + 0x40]);
    CHECK(last_sig == SIGSEGV && last_code == SEGV_MAPERR);
    TRY_FAULT("write 8 bytes unmapped", m, *(volatile uint64_t *)(m + 2 * pg + 8) = 1);
    CHECK(last_sig == SIGSEGV);
    volatile int *volatile nullp = NULL; /* opaque to the compiler: a real load from address 0 */
    TRY_FAULT("NULL read", (char *)0, (void)*nullp);
    CHECK(last_sig == SIGSEGV && last_addr == 0);

    /* Fix up and restart: the handler makes the page writable and returns. */
    fixup_page = m;
    int sum = 0;
    for (int i = 0; i < 8; i++) {
        vm[i * 64] = (char)(i + 1); /* the first store faults, is fixed up and retried */
        sum += vm[i * 64];
    }
    mprotect(m, (size_t)pg, PROT_READ);
    int sum2 = 0;
    for (int i = 0; i < 8; i++) {
        vm[i * 64 + 1] = 2; /* faults again after re-protecting */
        sum2 += vm[i * 64 + 1];
    }
    fixup_page = NULL;
    printf("fixup-and-restart: fixups=%d sum=%d sum2=%d\n", fixups, sum, sum2);
    CHECK(fixups == 2 && sum == 36 && sum2 == 16);

    /* SIGBUS beyond end of a file mapping. */
    int fd = open("segv_scratch.bin", O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    char data[100];
    memset(data, 'z', sizeof data);
    CHECK(write(fd, data, sizeof data) == (ssize_t)sizeof data);
    char *fm = mmap(NULL, (size_t)pg * 2, PROT_READ, MAP_SHARED, fd, 0);
    CHECK(fm != MAP_FAILED);
    volatile char *vfm = fm;
    TRY_FAULT("file map inside EOF", fm, (void)vfm[50]);
    CHECK(last_sig == 0 && vfm[99] == 'z' && vfm[100] == 0);
    TRY_FAULT("file map page past EOF", fm, (void)vfm[pg + 3]);
    CHECK(last_sig == SIGBUS);
    munmap(fm, (size_t)pg * 2);
    close(fd);
    unlink("segv_scratch.bin");

    TRY_FAULT("__builtin_trap", (char *)0, __builtin_trap());
    CHECK(last_sig == SIGILL || last_sig == SIGTRAP);
    printf("segv_handler done, failures=%d\n", guest_failures);
    return guest_status();
}
