/* Faults on purpose, for the fault-report tests (cli/tests/aot.rs):
 *   wild jump          call a function pointer to an unmapped address
 *   wild write         store to an unmapped address
 *   wild rodata        store into read-only data
 * Each must end the guest like SIGSEGV (status 139 in a shell) with a report
 * naming the guest PC and address; nothing else is printed after "start". */
#include <stdio.h>
#include <string.h>

static const char greeting[] = "read-only";

int main(int argc, char **argv) {
    printf("start %s\n", argc > 1 ? argv[1] : "?");
    fflush(stdout);
    if (argc > 1 && strcmp(argv[1], "jump") == 0) {
        void (*f)(void) = (void (*)(void))(unsigned long)0x5a5a0000;
        f();
    } else if (argc > 1 && strcmp(argv[1], "write") == 0) {
        *(volatile int *)(unsigned long)0x7a0000 = 1;
    } else if (argc > 1 && strcmp(argv[1], "rodata") == 0) {
        *(volatile char *)greeting = 'R';
    }
    printf("no fault\n");
    return 0;
}
