/* Run-time generated and self-modifying code, as a JIT would do it: machine
 * code for "return <constant>" (per ISA: x86_64 mov eax,imm32; ret /
 * aarch64 movz w0,#imm; ret / riscv64 addi a0,zero,imm; ret) is written into
 * an mmap-ed page, the instruction cache is synchronized with
 * __builtin___clear_cache (fence.i via riscv_flush_icache on riscv64, dc/ic
 * on aarch64), and called.  The code is then patched in place (RWX page)
 * after being called many times (hot), and also regenerated W^X style
 * (mprotect RW -> write -> RX).  Every call must see the newest code.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "guest.h"

typedef int (*fn_t)(void);

/* Writes "return imm" at p, imm in 0..2047; returns the code size. */
static size_t emit_return(unsigned char *p, int imm) {
#if defined(__x86_64__)
    p[0] = 0xb8; /* mov eax, imm32 */
    memcpy(p + 1, &imm, 4);
    p[5] = 0xc3; /* ret */
    return 6;
#elif defined(__aarch64__)
    uint32_t movz = 0x52800000u | ((uint32_t)imm << 5); /* movz w0, #imm */
    uint32_t ret = 0xd65f03c0u;
    memcpy(p, &movz, 4);
    memcpy(p + 4, &ret, 4);
    return 8;
#elif defined(__riscv)
    uint32_t addi = ((uint32_t)imm << 20) | (10u << 7) | 0x13u; /* addi a0, zero, imm */
    uint32_t ret = 0x00008067u;                                  /* jalr zero, 0(ra) */
    memcpy(p, &addi, 4);
    memcpy(p + 4, &ret, 4);
    return 8;
#else
#error "unsupported ISA"
#endif
}

int main(void) {
    long pg = sysconf(_SC_PAGESIZE);
    unsigned char *rwx = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(rwx != MAP_FAILED);
    if (rwx == MAP_FAILED) return guest_status();
    fn_t f = (fn_t)(uintptr_t)rwx;

    size_t len = emit_return(rwx, 42);
    __builtin___clear_cache((char *)rwx, (char *)rwx + len);
    int first = f();
    printf("generated code returns %d\n", first);
    CHECK(first == 42);

    /* Make it hot, then patch. */
    long hot = 0;
    for (int i = 0; i < 100000; i++) hot += f();
    emit_return(rwx, 7);
    __builtin___clear_cache((char *)rwx, (char *)rwx + len);
    int patched = f();
    printf("after 100000 calls (sum %ld) and a patch: returns %d\n", hot, patched);
    CHECK(hot == 4200000 && patched == 7);

    /* Patch on every iteration. */
    long sum = 0;
    int wrong = 0;
    for (int i = 0; i < 1000; i++) {
        int want = (i * 37) % 2000;
        emit_return(rwx, want);
        __builtin___clear_cache((char *)rwx, (char *)rwx + len);
        int got = f();
        if (got != want) wrong++;
        sum += got;
    }
    printf("1000 patch/call rounds: sum=%ld wrong=%d\n", sum, wrong);
    CHECK(wrong == 0);

    /* Several functions in the same page, patched independently. */
    fn_t g[4];
    for (int k = 0; k < 4; k++) {
        emit_return(rwx + 64 * k, 100 + k);
        g[k] = (fn_t)(uintptr_t)(rwx + 64 * k);
    }
    __builtin___clear_cache((char *)rwx, (char *)rwx + 256);
    int before = g[0]() + g[1]() + g[2]() + g[3]();
    emit_return(rwx + 64 * 2, 500);
    __builtin___clear_cache((char *)rwx + 128, (char *)rwx + 192);
    int after = g[0]() + g[1]() + g[2]() + g[3]();
    printf("same-page functions: before=%d after patching one=%d\n", before, after);
    CHECK(before == 406 && after == 804);
    munmap(rwx, (size_t)pg);

    /* W^X: write while RW, execute while RX, regenerate. */
    unsigned char *wx = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    fn_t h = (fn_t)(uintptr_t)wx;
    int results[3];
    for (int round = 0; round < 3; round++) {
        mprotect(wx, (size_t)pg, PROT_READ | PROT_WRITE);
        len = emit_return(wx, 1000 + round);
        __builtin___clear_cache((char *)wx, (char *)wx + len);
        mprotect(wx, (size_t)pg, PROT_READ | PROT_EXEC);
        results[round] = h();
    }
    printf("W^X regenerate: %d %d %d\n", results[0], results[1], results[2]);
    CHECK(results[0] == 1000 && results[2] == 1002);
    munmap(wx, (size_t)pg);

    /* Unmap and map again at (likely) the same address with different code. */
    for (int round = 0; round < 3; round++) {
        unsigned char *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        len = emit_return(p, 1500 + round);
        __builtin___clear_cache((char *)p, (char *)p + len);
        results[round] = ((fn_t)(uintptr_t)p)();
        munmap(p, (size_t)pg);
    }
    printf("map/unmap cycles: %d %d %d\n", results[0], results[1], results[2]);
    CHECK(results[0] == 1500 && results[1] == 1501 && results[2] == 1502);
    printf("selfmod done, failures=%d\n", guest_failures);
    return guest_status();
}
