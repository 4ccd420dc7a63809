/* Thread-local storage: initialized (.tdata) and zero-initialized (.tbss)
 * _Thread_local variables, a TLS array and struct, per-thread independence
 * across 8 threads (each increments its own copies; the main thread's
 * values stay unchanged), distinct addresses per thread (compared, never
 * printed), TLS accessed through a pointer handed to another function, and
 * errno being thread-local.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "guest.h"

static _Thread_local int tl_init = 1000;
static _Thread_local long tl_zero;
static _Thread_local char tl_name[16] = "main";
static _Thread_local struct {
    double d;
    int arr[8];
} tl_struct = {2.5, {1, 2, 3, 4, 5, 6, 7, 8}};
__thread uint64_t tl_extern_visible = 0xabcdef;

#define N 8
static uintptr_t addrs[N];
static int results[N];

__attribute__((noinline)) static void bump(int *p, int by) { *p += by; }

static void *worker(void *arg) {
    int id = (int)(long)arg;
    int ok = tl_init == 1000 && tl_zero == 0 && strcmp(tl_name, "main") == 0 && tl_struct.arr[7] == 8 &&
             tl_extern_visible == 0xabcdef;
    snprintf(tl_name, sizeof tl_name, "thread%d", id);
    for (int i = 0; i < 1000 * (id + 1); i++) {
        tl_init++;
        tl_zero += i;
        bump(&tl_struct.arr[i & 7], 1);
    }
    tl_struct.d *= id;
    tl_extern_visible += (uint64_t)id;
    addrs[id] = (uintptr_t)&tl_init;
    errno = 100 + id;
    usleep(1000);
    ok = ok && errno == 100 + id;
    long sum = 0;
    for (int i = 0; i < 8; i++) sum += tl_struct.arr[i];
    char expect_name[16];
    snprintf(expect_name, sizeof expect_name, "thread%d", id);
    ok = ok && strcmp(tl_name, expect_name) == 0;
    results[id] = ok;
    return (void *)(long)(tl_init + tl_zero % 1000 + sum + (long)tl_struct.d + (long)(tl_extern_visible & 0xff));
}

int main(void) {
    pthread_t th[N];
    tl_init = 5;
    errno = 7;
    for (long i = 0; i < N; i++) pthread_create(&th[i], NULL, worker, (void *)i);
    for (int i = 0; i < N; i++) {
        void *r;
        pthread_join(th[i], &r);
        printf("thread %d: initial values ok=%d result=%ld\n", i, results[i], (long)r);
        CHECK(results[i]);
    }
    int distinct = 1;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            if (addrs[i] == addrs[j]) distinct = 0;
    for (int i = 0; i < N; i++)
        if (addrs[i] == (uintptr_t)&tl_init) distinct = 0;
    printf("distinct TLS addresses: %d\n", distinct);
    printf("main: tl_init=%d tl_zero=%ld name=%s d=%g arr[0]=%d ext=%llx errno=%d\n", tl_init, tl_zero, tl_name,
           tl_struct.d, tl_struct.arr[0], (unsigned long long)tl_extern_visible, errno);
    CHECK(distinct && tl_init == 5 && tl_zero == 0 && strcmp(tl_name, "main") == 0 && tl_struct.d == 2.5 && errno == 7);
    printf("tls done, failures=%d\n", guest_failures);
    return guest_status();
}
