/* sa_mask and signal nesting: while a SIGUSR1 handler whose sa_mask holds
 * SIGUSR2 runs, a raised SIGUSR2 must stay pending and run only after the
 * SIGUSR1 handler returns; without sa_mask it runs nested immediately.  The
 * handler also reads its blocked set with sigprocmask.
 * Reference note: qemu-riscv64 7.2 ignores sa_mask, so the riscv64
 * reference is copied from x86_64 (the output is the same on every arch);
 * see ref-from in manifest.txt.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "guest.h"

static volatile char order[64];
static volatile int pos;
static volatile sig_atomic_t usr2_in_mask;

static void on_usr2(int s) {
    (void)s;
    order[pos++] = '2';
}
static void on_usr1(int s) {
    (void)s;
    sigset_t cur;
    sigprocmask(SIG_BLOCK, NULL, &cur);
    usr2_in_mask = sigismember(&cur, SIGUSR2);
    order[pos++] = '[';
    raise(SIGUSR2);
    order[pos++] = ']';
}

static void run(const char *label, int with_mask, int use_kill) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    if (with_mask) sigaddset(&sa.sa_mask, SIGUSR2);
    sigaction(SIGUSR1, &sa, NULL);
    for (unsigned i = 0; i < sizeof order; i++) order[i] = 0;
    pos = 0;
    if (use_kill) kill(getpid(), SIGUSR1);
    else raise(SIGUSR1);
    char got[64];
    for (unsigned i = 0; i < sizeof got; i++) got[i] = order[i];
    printf("%-22s order=%s SIGUSR2 blocked in handler=%d\n", label, got, (int)usr2_in_mask);
    if (with_mask) CHECK(strcmp(got, "[]2") == 0 && usr2_in_mask);
    else CHECK(strcmp(got, "[2]") == 0 && !usr2_in_mask);
}

int main(void) {
    signal(SIGUSR2, on_usr2);
    run("raise, sa_mask={USR2}", 1, 0);
    run("kill, sa_mask={USR2}", 1, 1);
    run("raise, empty sa_mask", 0, 0);
    run("kill, empty sa_mask", 0, 1);
    printf("signal_mask done, failures=%d\n", guest_failures);
    return guest_status();
}
