/* Death by signal: prints a line on stdout (flushed) and one on stderr, then
 * calls abort().  The expected status is "signal 6" (SIGABRT), and nothing
 * after abort() may run: no atexit handlers, no unflushed stdio output.
 * Args: none.  Env: none.  Exit: killed by SIGABRT.
 */
#include <stdio.h>
#include <stdlib.h>

static void not_run(void) { printf("atexit handler ran (wrong)\n"); }

int main(void) {
    atexit(not_run);
    printf("about to abort\n");
    fflush(stdout);
    fprintf(stderr, "abort_signal: calling abort()\n");
    printf("this buffered line is lost\n");
    abort();
}
