/* Exit status through exit(42) from a nested call: atexit handlers run (in
 * reverse order) and stdio buffers are flushed; code after exit() never runs.
 * Args: none.  Env: none.  Exit: 42.
 */
#include <stdio.h>
#include <stdlib.h>

static void first(void) { printf("atexit: registered first, runs last\n"); }
static void second(void) { printf("atexit: registered second, runs first\n"); }

__attribute__((noinline)) static void leave(int code) {
    printf("leaving with %d from a nested call\n", code);
    exit(code);
}

int main(void) {
    atexit(first);
    atexit(second);
    printf("a line still in the stdio buffer when exit() is called");
    printf(" (exit flushes it)\n");
    leave(42);
    printf("not reached\n");
    return 0;
}
