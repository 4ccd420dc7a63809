/* Processes: fork (child sees a copy-on-write snapshot; its writes do not
 * reach the parent, while a MAP_SHARED|MAP_ANONYMOUS page is shared), exit
 * status through waitpid/WEXITSTATUS, a child killed by a signal
 * (WIFSIGNALED/WTERMSIG), a pipe carrying data from child to parent, a
 * SIGCHLD handler, waitid, getppid in the child matching the parent's
 * getpid (compared, never printed), and children writing to the shared
 * stdout in a fixed order (the parent waits before printing again).
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "guest.h"

static volatile sig_atomic_t sigchld_count;
static void on_chld(int s) {
    (void)s;
    sigchld_count++;
}

int main(void) {
    signal(SIGCHLD, on_chld);
    int *shared = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(shared != MAP_FAILED);
    static int private_value = 10;
    *shared = 1;
    pid_t parent = getpid();
    fflush(stdout); /* nothing buffered may be duplicated into the child */

    pid_t pid = fork();
    if (pid == 0) {
        int before = private_value;
        private_value = 999;
        *shared = 2;
        printf("child: private_value before its own write=%d; getppid matches the parent's pid: %s\n", before,
               getppid() == parent ? "yes" : "no");
        fflush(stdout);
        _exit(7);
    }
    int status = 0;
    pid_t w = waitpid(pid, &status, 0);
    printf("parent: waitpid ok=%d exited=%d status=%d private_value=%d shared=%d\n", w == pid, WIFEXITED(status),
           WEXITSTATUS(status), private_value, *shared);
    CHECK(w == pid && WIFEXITED(status) && WEXITSTATUS(status) == 7 && private_value == 10 && *shared == 2);

    /* A child killed by a signal. */
    pid = fork();
    if (pid == 0) {
        raise(SIGTERM);
        _exit(0);
    }
    waitpid(pid, &status, 0);
    printf("signalled child: WIFSIGNALED=%d WTERMSIG=%d (SIGTERM=%d)\n", WIFSIGNALED(status), WTERMSIG(status), SIGTERM);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);

    /* Pipe from child to parent. */
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid = fork();
    if (pid == 0) {
        close(fds[0]);
        char buf[256];
        for (int i = 0; i < 100; i++) {
            int n = snprintf(buf, sizeof buf, "message %d;", i);
            if (write(fds[1], buf, (size_t)n) != n) _exit(1);
        }
        close(fds[1]);
        _exit(0);
    }
    close(fds[1]);
    char big[4096];
    size_t total = 0;
    ssize_t r;
    while ((r = read(fds[0], big + total, sizeof big - 1 - total)) > 0) total += (size_t)r;
    big[total] = 0;
    close(fds[0]);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int wr = waitid(P_PID, (id_t)pid, &si, WEXITED);
    printf("pipe: received %zu bytes, fnv=%016llx, ends with '%s'; waitid rc=%d code=%s status=%d\n", total,
           (unsigned long long)guest_fnv(big, total), big + total - 12, wr, si.si_code == CLD_EXITED ? "CLD_EXITED" : "?",
           si.si_status);
    CHECK(total == 1090 && si.si_code == CLD_EXITED);

    /* Several children printing in a fixed order. */
    for (int i = 0; i < 3; i++) {
        fflush(stdout);
        pid = fork();
        if (pid == 0) {
            printf("child %d says hello\n", i);
            fflush(stdout);
            _exit(i);
        }
        waitpid(pid, &status, 0);
        printf("parent reaped child %d with status %d\n", i, WEXITSTATUS(status));
    }
    /* SIGCHLD was delivered at least once per child (signals may merge). */
    printf("SIGCHLD handler ran: %s\n", sigchld_count > 0 ? "yes" : "no");
    CHECK(sigchld_count > 0);
    errno = 0;
    int wn = wait(NULL);
    printf("wait with no children: %d ECHILD=%d\n", wn, errno == ECHILD);
    CHECK(wn == -1 && errno == ECHILD);
    printf("fork_wait done, failures=%d\n", guest_failures);
    return guest_status();
}
