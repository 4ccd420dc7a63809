/* Time: clock_gettime(CLOCK_MONOTONIC) never decreases over 10000 reads and
 * advances across nanosleep(20 ms) by at least 20 ms (and by less than 5 s),
 * CLOCK_REALTIME is plausible (after 2023-01-01) and agrees with
 * gettimeofday() and time() within 2 s, clock_nanosleep with TIMER_ABSTIME,
 * clock_getres, CPU-time clocks grow under a busy loop, BOOTTIME/COARSE
 * clocks work; gmtime/timegm/strftime on fixed timestamps (deterministic).
 * Only derived facts are printed, never times.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/times.h>
#include <time.h>
#include <unistd.h>
#include "guest.h"

static int64_t ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000LL + t->tv_nsec; }

int main(void) {
    struct timespec a, b, r;
    int monotonic_ok = 1;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < 10000; i++) {
        clock_gettime(CLOCK_MONOTONIC, &b);
        if (ns(&b) < ns(&a) || b.tv_nsec < 0 || b.tv_nsec >= 1000000000L) monotonic_ok = 0;
        a = b;
    }
    printf("monotonic non-decreasing over 10000 reads: %d\n", monotonic_ok);
    CHECK(monotonic_ok);

    struct timespec req = {0, 20 * 1000 * 1000}, rem = {0, 0};
    clock_gettime(CLOCK_MONOTONIC, &a);
    int rc = nanosleep(&req, &rem);
    clock_gettime(CLOCK_MONOTONIC, &b);
    int64_t slept = ns(&b) - ns(&a);
    printf("nanosleep(20ms): rc=%d elapsed>=20ms: %d elapsed<5s: %d\n", rc, slept >= 20000000, slept < 5000000000LL);
    CHECK(rc == 0 && slept >= 20000000 && slept < 5000000000LL);

    clock_gettime(CLOCK_MONOTONIC, &a);
    struct timespec until = a;
    until.tv_nsec += 15 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    rc = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &until, NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    printf("clock_nanosleep(ABSTIME +15ms): rc=%d woke after deadline: %d\n", rc, ns(&b) >= ns(&until));
    CHECK(rc == 0 && ns(&b) >= ns(&until));

    struct timespec rt;
    struct timeval tv;
    clock_gettime(CLOCK_REALTIME, &rt);
    gettimeofday(&tv, NULL);
    time_t now = time(NULL);
    printf("realtime after 2023-01-01: %d\n", rt.tv_sec > 1672531200);
    printf("gettimeofday within 2s of CLOCK_REALTIME: %d, usec in range: %d\n", (long)(tv.tv_sec - rt.tv_sec) <= 2 &&
           (long)(tv.tv_sec - rt.tv_sec) >= -2, tv.tv_usec >= 0 && tv.tv_usec < 1000000);
    printf("time() within 2s: %d\n", now - rt.tv_sec <= 2 && now - rt.tv_sec >= -2);
    CHECK(rt.tv_sec > 1672531200 && now - rt.tv_sec <= 2);

    rc = clock_getres(CLOCK_MONOTONIC, &r);
    printf("clock_getres(MONOTONIC): rc=%d resolution<=1ms: %d\n", rc, ns(&r) > 0 && ns(&r) <= 1000000);
    struct timespec c1, c2, t1, t2;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t1);
    clock_t k1 = clock();
    volatile uint64_t spin = 0;
    for (uint64_t i = 0; i < 30000000; i++) spin += i;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c2);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t2);
    clock_t k2 = clock();
    printf("cpu clocks advance under busy loop: process=%d thread=%d clock()=%d\n", ns(&c2) > ns(&c1), ns(&t2) > ns(&t1),
           k2 > k1);
    CHECK(ns(&c2) > ns(&c1) && ns(&t2) >= ns(&t1));
    struct timespec bt, cm;
    printf("BOOTTIME rc=%d MONOTONIC_COARSE rc=%d REALTIME_COARSE rc=%d\n", clock_gettime(CLOCK_BOOTTIME, &bt),
           clock_gettime(CLOCK_MONOTONIC_COARSE, &cm), clock_gettime(CLOCK_REALTIME_COARSE, &rt));
    struct tms tm_buf;
    printf("times() ok: %d\n", times(&tm_buf) != (clock_t)-1);

    /* Calendar conversions on fixed values. */
    const time_t fixed[] = {0, 951782400 /* 2000-02-29 */, 1700000000, 2147483647, 4102444800LL /* 2100-01-01 */};
    for (unsigned i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
        struct tm g;
        gmtime_r(&fixed[i], &g);
        char buf[64];
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S %a %j", &g);
        time_t back = timegm(&g);
        printf("gmtime(%lld) = %s wday=%d yday=%d timegm round trip=%d\n", (long long)fixed[i], buf, g.tm_wday,
               g.tm_yday, back == fixed[i]);
        CHECK(back == fixed[i]);
    }
    printf("clocks done, failures=%d\n", guest_failures);
    return guest_status();
}
