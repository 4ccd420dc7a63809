/* Exit status by returning 3 from main (status goes through __libc_start_main
 * to exit_group), with a buffered stdout line that must be flushed and a
 * stderr line.
 * Args: none.  Env: none.  Exit: 3.
 */
#include <stdio.h>

int main(void) {
    printf("returning 3 from main\n");
    fprintf(stderr, "return3: stderr line\n");
    return 3;
}
