/* The smallest whole program: greets, reports argc, exits 0. */
#include <stdio.h>

int main(int argc, char **argv) {
    (void)argv;
    printf("hello, world\n");
    printf("argc=%d\n", argc);
    return 0;
}
