/* Signals: sigaction with SA_SIGINFO (si_signo, si_code for raise/kill/
 * sigqueue, si_value), the handled signal blocked inside its handler,
 * SA_RESETHAND, SA_NODEFER, sigprocmask blocking (signal stays
 * pending, sigpending shows it, delivery on unblock), sigsuspend,
 * sigtimedwait on a blocked signal, alarm(1)+pause for SIGALRM, a periodic
 * ITIMER_REAL interrupting integer and floating-point computation (which must
 * not be disturbed by the handler's own FP work), and sigaltstack.
 * Counts of asynchronous ticks are never printed, only derived facts.
 * sa_mask is tested separately in signal_mask.c (qemu-riscv64 7.2 ignores it).
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 * Takes about 1.2 s (alarm(1)).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>
#include "guest.h"

static volatile sig_atomic_t got_signo, got_code, got_value, self_blocked;
static volatile sig_atomic_t count_usr1;

static void info_handler(int sig, siginfo_t *si, void *uc) {
    (void)uc;
    got_signo = sig;
    got_code = si->si_code;
    got_value = si->si_code == SI_QUEUE ? si->si_value.sival_int : -1;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    self_blocked = sigismember(&cur, sig);
    count_usr1++;
}

static const char *code_name(int c) {
    switch (c) {
    case SI_USER: return "SI_USER";
    case SI_TKILL: return "SI_TKILL";
    case SI_QUEUE: return "SI_QUEUE";
    case SI_KERNEL: return "SI_KERNEL";
    default: return "other";
    }
}

static volatile sig_atomic_t alarm_fired;
static void alarm_handler(int sig) {
    (void)sig;
    alarm_fired = 1;
    static const char msg[] = "SIGALRM handler: alarm fired\n";
    ssize_t w = write(1, msg, sizeof msg - 1);
    (void)w;
}

static volatile sig_atomic_t ticks;
static volatile double handler_fp_sink;
static void tick_handler(int sig) {
    (void)sig;
    /* Clobber FP and integer registers inside the handler. */
    double x = 1.0;
    for (int i = 1; i < 50; i++) x = x * 1.0001 + 1.0 / i;
    handler_fp_sink = x;
    ticks++;
}

static volatile sig_atomic_t nodefer_depth, nodefer_max;
static void nodefer_handler(int sig) {
    nodefer_depth++;
    if (nodefer_depth > nodefer_max) nodefer_max = nodefer_depth;
    if (nodefer_depth < 3) raise(sig); /* re-entered immediately with SA_NODEFER */
    nodefer_depth--;
}

static char *alt_base;
static size_t alt_size;
static volatile sig_atomic_t on_alt_stack;
static void alt_handler(int sig) {
    (void)sig;
    char local;
    on_alt_stack = (&local >= alt_base && &local < alt_base + alt_size);
    stack_t cur;
    sigaltstack(NULL, &cur);
    on_alt_stack = on_alt_stack && (cur.ss_flags & SS_ONSTACK);
}

static double compute(int seed) {
    double acc = seed;
    uint64_t h = (uint64_t)seed;
    for (int i = 1; i < 20000; i++) {
        acc = acc * 0.999 + (double)i / 7.0;
        h = h * 6364136223846793005ull + (uint64_t)i;
    }
    return acc + (double)(h >> 40);
}

int main(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = info_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);

    raise(SIGUSR1);
    printf("raise: signo=%s code=%s self-blocked-in-handler=%d\n", got_signo == SIGUSR1 ? "SIGUSR1" : "?",
           code_name(got_code), self_blocked);
    CHECK(got_signo == SIGUSR1 && got_code == SI_TKILL && self_blocked);
    kill(getpid(), SIGUSR1);
    printf("kill: code=%s\n", code_name(got_code));
    CHECK(got_code == SI_USER);
    union sigval sv = {.sival_int = 31337};
    sigqueue(getpid(), SIGUSR1, sv);
    printf("sigqueue: code=%s value=%d\n", code_name(got_code), (int)got_value);
    CHECK(got_code == SI_QUEUE && got_value == 31337);

    /* Blocking and pending. */
    sigset_t block, pend, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigprocmask(SIG_BLOCK, &block, &old);
    int before = count_usr1;
    raise(SIGUSR1);
    raise(SIGUSR1); /* standard signals do not queue: one delivery */
    sigpending(&pend);
    printf("blocked: delivered=%d pending=%d\n", count_usr1 - before, sigismember(&pend, SIGUSR1));
    CHECK(count_usr1 == before && sigismember(&pend, SIGUSR1));
    sigprocmask(SIG_SETMASK, &old, NULL);
    printf("after unblock: delivered=%d\n", count_usr1 - before);
    CHECK(count_usr1 == before + 1);

    /* sigtimedwait consumes a blocked pending signal without the handler
     * (glibc reports SI_TKILL from raise as SI_USER here). */
    sigprocmask(SIG_BLOCK, &block, NULL);
    raise(SIGUSR1);
    siginfo_t wi;
    struct timespec ts = {1, 0};
    int w = sigtimedwait(&block, &wi, &ts);
    printf("sigtimedwait returned %s code=%s handler-runs-unchanged=%d\n", w == SIGUSR1 ? "SIGUSR1" : "?",
           code_name(wi.si_code), count_usr1 == before + 1);
    sigprocmask(SIG_UNBLOCK, &block, NULL);

    /* SA_RESETHAND: handler runs once, then the disposition is default. */
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = info_handler;
    sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    struct sigaction now;
    sigaction(SIGUSR2, NULL, &now);
    printf("SA_RESETHAND: handled=%d reset to SIG_DFL=%d\n", got_signo == SIGUSR2, now.sa_handler == SIG_DFL);
    CHECK(now.sa_handler == SIG_DFL);

    /* SA_NODEFER: the handler can be re-entered. */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = nodefer_handler;
    sa.sa_flags = SA_NODEFER;
    sigaction(SIGURG, &sa, NULL);
    raise(SIGURG);
    printf("SA_NODEFER: max nesting depth=%d\n", (int)nodefer_max);
    CHECK(nodefer_max == 3);

    /* alarm + pause */
    signal(SIGALRM, alarm_handler);
    fflush(stdout); /* the handler writes with write(2): keep the order */
    alarm(1);
    while (!alarm_fired) pause();
    printf("after pause: alarm_fired=%d\n", (int)alarm_fired);

    /* sigsuspend with a temporarily unblocked signal. */
    sigprocmask(SIG_BLOCK, &block, &old);
    raise(SIGUSR1);
    sigset_t waitmask;
    sigprocmask(SIG_BLOCK, NULL, &waitmask);
    sigdelset(&waitmask, SIGUSR1);
    before = count_usr1;
    sigsuspend(&waitmask);
    printf("sigsuspend woke with handler run=%d\n", count_usr1 == before + 1);
    sigprocmask(SIG_SETMASK, &old, NULL);

    /* Periodic timer interrupting computation. */
    double ref[4];
    for (int k = 0; k < 4; k++) ref[k] = compute(k);
    signal(SIGALRM, tick_handler);
    struct itimerval it = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    int passes = 0, mismatches = 0;
    while (ticks < 20 || passes < 8) {
        if (compute(passes % 4) != ref[passes % 4]) mismatches++;
        passes++;
    }
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    printf("interrupted computation: >=20 ticks seen, mismatching passes=%d\n", mismatches);
    CHECK(mismatches == 0);

    /* Alternate signal stack. */
    alt_size = 64 * 1024;
    alt_base = malloc(alt_size);
    stack_t ss = {.ss_sp = alt_base, .ss_size = alt_size, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = alt_handler;
    sa.sa_flags = SA_ONSTACK;
    sigaction(SIGUSR2, &sa, NULL);
    raise(SIGUSR2);
    printf("handler ran on the alternate stack: %d\n", (int)on_alt_stack);
    CHECK(on_alt_stack);
    printf("signals done, failures=%d\n", guest_failures);
    return guest_status();
}
