/* setjmp/longjmp: jumping out of nested calls, the value passed through
 * (longjmp(…, 0) must yield 1), volatile locals preserved across the jump,
 * a jump buffer reused many times in a loop, nested handlers (an inner
 * jmp_buf restoring to an outer one), sigsetjmp/siglongjmp restoring the
 * signal mask, and an error-handling style "try/throw" built on them.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include "guest.h"

static jmp_buf env, outer;
static int depth_reached;

__attribute__((noinline)) static void dive(int depth, int target) {
    char pad[100];
    memset(pad, depth, sizeof pad);
    depth_reached = depth;
    if (depth == target) longjmp(env, depth * 10 + pad[5] % 7);
    if (depth > 10000) return; /* never reached: keeps the recursion visibly finite */
    dive(depth + 1, target);
    __asm__ volatile("" ::: "memory");
}

__attribute__((noinline)) static void zero_jump(void) { longjmp(env, 0); }

/* Exception-like error propagation. */
static jmp_buf *handler;
static const char *error_msg;
static void throw_error(const char *msg) {
    error_msg = msg;
    longjmp(*handler, 1);
}
__attribute__((noinline)) static int parse_digit(char c) {
    if (c < '0' || c > '9') throw_error("not a digit");
    return c - '0';
}
static int parse_number(const char *str, int *out) {
    const char *volatile s = str; /* modified after setjmp: must be volatile */
    jmp_buf local, *volatile saved = handler;
    handler = &local;
    if (setjmp(local)) {
        handler = saved;
        return -1;
    }
    int v = 0;
    for (; *s; s++) v = v * 10 + parse_digit(*s);
    handler = saved;
    *out = v;
    return 0;
}

int main(void) {
    volatile int counter = 0;
    volatile int r = setjmp(env);
    if (r == 0) {
        counter = 1;
        dive(0, 50);
        printf("not reached\n");
    }
    printf("longjmp from depth %d returned %d, counter=%d\n", depth_reached, r, counter);
    CHECK(r == 50 * 10 + 50 % 7 && counter == 1);

    r = setjmp(env);
    if (r == 0) zero_jump();
    printf("longjmp(env, 0) makes setjmp return %d\n", r);
    CHECK(r == 1);

    /* Reuse in a loop. */
    volatile int loops = 0;
    volatile long acc = 0;
    r = setjmp(env);
    acc += r;
    if (loops < 1000) {
        loops++;
        longjmp(env, loops);
    }
    printf("loop via longjmp: loops=%d acc=%ld\n", loops, acc);
    CHECK(acc == 1000L * 1001 / 2);

    /* Nested: the inner handler forwards to the outer one. */
    volatile int stage = 0;
    if ((r = setjmp(outer)) == 0) {
        stage = 1;
        if (setjmp(env) == 0) {
            stage = 2;
            dive(0, 3);
        } else {
            stage = 3;
            longjmp(outer, 77);
        }
    }
    printf("nested: outer got %d, stage=%d\n", r, stage);
    CHECK(r == 77 && stage == 3);

    /* sigsetjmp with savemask restores the blocked set. */
    sigjmp_buf senv;
    sigset_t set, cur;
    sigemptyset(&set);
    sigprocmask(SIG_SETMASK, &set, NULL);
    if (sigsetjmp(senv, 1) == 0) {
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        sigprocmask(SIG_BLOCK, NULL, &cur);
        printf("before siglongjmp: SIGUSR1 blocked=%d\n", sigismember(&cur, SIGUSR1));
        siglongjmp(senv, 5);
    }
    sigprocmask(SIG_BLOCK, NULL, &cur);
    printf("after siglongjmp: SIGUSR1 blocked=%d\n", sigismember(&cur, SIGUSR1));
    CHECK(!sigismember(&cur, SIGUSR1));

    /* try/throw style */
    const char *inputs[] = {"12345", "12a45", "0", "999999999"};
    for (int i = 0; i < 4; i++) {
        int v = 0;
        error_msg = "";
        int rc = parse_number(inputs[i], &v);
        printf("parse '%s': rc=%d value=%d error='%s'\n", inputs[i], rc, rc ? 0 : v, rc ? error_msg : "");
    }
    printf("setjmp_longjmp done, failures=%d\n", guest_failures);
    return guest_status();
}
