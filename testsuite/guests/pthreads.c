/* POSIX threads: create/join with return values, 32 short-lived threads,
 * a mutex-protected shared counter, condition-variable turn taking (three
 * threads print in strict round-robin order, so the output is
 * deterministic), a bounded producer/consumer queue with two condvars,
 * pthread_barrier, pthread_rwlock, pthread_once, thread-specific data with a
 * destructor, a detached thread signalling a semaphore, thread attributes
 * (stack size), pthread_equal/pthread_self.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "guest.h"

static void *square(void *arg) {
    long v = (long)arg;
    return (void *)(v * v);
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static long shared_counter;
static void *incr(void *arg) {
    long n = (long)arg;
    for (long i = 0; i < n; i++) {
        pthread_mutex_lock(&mu);
        shared_counter++;
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

/* Round-robin printing. */
static pthread_mutex_t turn_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int turn;
static char turn_log[256];
static void *turn_taker(void *arg) {
    int me = (int)(long)arg;
    for (int round = 0; round < 5; round++) {
        pthread_mutex_lock(&turn_mu);
        while (turn % 3 != me) pthread_cond_wait(&turn_cv, &turn_mu);
        printf("round %d: thread %d\n", round, me);
        size_t l = strlen(turn_log);
        turn_log[l] = (char)('A' + me);
        turn++;
        pthread_cond_broadcast(&turn_cv);
        pthread_mutex_unlock(&turn_mu);
    }
    return NULL;
}

/* Bounded queue. */
#define QCAP 8
static int queue[QCAP], qhead, qcount;
static pthread_mutex_t qmu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static void *q_producer(void *arg) {
    int base = (int)(long)arg;
    for (int i = 1; i <= 1000; i++) {
        pthread_mutex_lock(&qmu);
        while (qcount == QCAP) pthread_cond_wait(&not_full, &qmu);
        queue[(qhead + qcount) % QCAP] = base + i;
        qcount++;
        pthread_cond_signal(&not_empty);
        pthread_mutex_unlock(&qmu);
    }
    return NULL;
}
static void *q_consumer(void *arg) {
    long *sum = arg;
    for (int i = 0; i < 1000; i++) {
        pthread_mutex_lock(&qmu);
        while (qcount == 0) pthread_cond_wait(&not_empty, &qmu);
        *sum += queue[qhead];
        qhead = (qhead + 1) % QCAP;
        qcount--;
        pthread_cond_signal(&not_full);
        pthread_mutex_unlock(&qmu);
    }
    return NULL;
}

static pthread_barrier_t barrier;
static int phase_data[4];
static int serial_count;
static void *barrier_worker(void *arg) {
    int id = (int)(long)arg;
    phase_data[id] = id * 10;
    int r = pthread_barrier_wait(&barrier);
    if (r == PTHREAD_BARRIER_SERIAL_THREAD) __sync_fetch_and_add(&serial_count, 1);
    int sum = 0;
    for (int i = 0; i < 4; i++) sum += phase_data[i]; /* all writes visible after the barrier */
    return (void *)(long)sum;
}

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static int rw_value;
static void *rw_reader(void *arg) {
    (void)arg;
    long seen = 0;
    for (int i = 0; i < 1000; i++) {
        pthread_rwlock_rdlock(&rw);
        seen += rw_value >= 0;
        pthread_rwlock_unlock(&rw);
    }
    return (void *)seen;
}
static void *rw_writer(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        pthread_rwlock_wrlock(&rw);
        rw_value++;
        pthread_rwlock_unlock(&rw);
    }
    return NULL;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static int once_runs;
static void once_fn(void) { once_runs++; }

static pthread_key_t key;
static int destructor_runs;
static void key_destructor(void *p) {
    __sync_fetch_and_add(&destructor_runs, 1);
    free(p);
}
static void *tsd_worker(void *arg) {
    pthread_once(&once, once_fn);
    int *mine = malloc(sizeof *mine);
    *mine = (int)(long)arg;
    pthread_setspecific(key, mine);
    int *back = pthread_getspecific(key);
    return (void *)(long)(*back * 100);
}

static sem_t sem;
static void *detached(void *arg) {
    *(int *)arg = 4242;
    sem_post(&sem);
    return NULL;
}

static pthread_t main_thread;
static void *self_check(void *arg) {
    (void)arg;
    return (void *)(long)(pthread_equal(pthread_self(), main_thread) ? 1 : 2);
}

int main(void) {
    main_thread = pthread_self();
    pthread_t th[32];
    long total = 0;
    for (long i = 0; i < 32; i++) pthread_create(&th[i], NULL, square, (void *)i);
    for (int i = 0; i < 32; i++) {
        void *r;
        pthread_join(th[i], &r);
        total += (long)r;
    }
    printf("sum of squares from 32 threads: %ld\n", total);
    CHECK(total == 31L * 32 * 63 / 6);

    for (long i = 0; i < 4; i++) pthread_create(&th[i], NULL, incr, (void *)5000L);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    printf("mutex counter: %ld\n", shared_counter);
    CHECK(shared_counter == 20000);

    for (long i = 0; i < 3; i++) pthread_create(&th[i], NULL, turn_taker, (void *)i);
    for (int i = 0; i < 3; i++) pthread_join(th[i], NULL);
    printf("turn log: %s\n", turn_log);
    CHECK(strcmp(turn_log, "ABCABCABCABCABC") == 0);

    long qsum = 0;
    pthread_create(&th[0], NULL, q_consumer, &qsum);
    pthread_create(&th[1], NULL, q_producer, (void *)0L);
    pthread_join(th[1], NULL);
    pthread_join(th[0], NULL);
    printf("bounded queue sum: %ld\n", qsum);
    CHECK(qsum == 500500);

    pthread_barrier_init(&barrier, NULL, 4);
    long bsum = 0;
    for (long i = 0; i < 4; i++) pthread_create(&th[i], NULL, barrier_worker, (void *)i);
    for (int i = 0; i < 4; i++) {
        void *r;
        pthread_join(th[i], &r);
        bsum += (long)r;
    }
    pthread_barrier_destroy(&barrier);
    printf("barrier: each thread saw sum 60 -> total %ld, serial threads %d\n", bsum, serial_count);
    CHECK(bsum == 240 && serial_count == 1);

    pthread_create(&th[0], NULL, rw_writer, NULL);
    pthread_create(&th[1], NULL, rw_reader, NULL);
    pthread_create(&th[2], NULL, rw_reader, NULL);
    void *r1, *r2;
    pthread_join(th[0], NULL);
    pthread_join(th[1], &r1);
    pthread_join(th[2], &r2);
    printf("rwlock: value=%d reads=%ld\n", rw_value, (long)r1 + (long)r2);
    CHECK(rw_value == 1000);

    pthread_key_create(&key, key_destructor);
    long tsum = 0;
    for (long i = 0; i < 5; i++) pthread_create(&th[i], NULL, tsd_worker, (void *)(i + 1));
    for (int i = 0; i < 5; i++) {
        void *r;
        pthread_join(th[i], &r);
        tsum += (long)r;
    }
    printf("tsd: sum=%ld once_runs=%d destructor_runs=%d\n", tsum, once_runs, destructor_runs);
    CHECK(tsum == 1500 && once_runs == 1 && destructor_runs == 5);

    sem_init(&sem, 0, 0);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);
    size_t ss = 0;
    pthread_attr_getstacksize(&attr, &ss);
    int slot = 0;
    pthread_t d;
    pthread_create(&d, &attr, detached, &slot);
    sem_wait(&sem);
    printf("detached thread wrote %d (stacksize attr %zu)\n", slot, ss);
    CHECK(slot == 4242);
    pthread_attr_destroy(&attr);

    void *sr;
    pthread_create(&th[0], NULL, self_check, NULL);
    pthread_join(th[0], &sr);
    printf("pthread_equal(self, main) in thread: %s\n", (long)sr == 1 ? "equal" : "different");
    CHECK((long)sr == 2 && pthread_equal(pthread_self(), main_thread));
    printf("pthreads done, failures=%d\n", guest_failures);
    return guest_status();
}
