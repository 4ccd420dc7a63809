/* aarch64 differential-test harness: runs single instructions (or short
 * sequences) under qemu-aarch64 and reports the state they leave.
 *
 * Input (stdin), per case, little-endian, back to back until EOF:
 *   u64  x[31]     initial x0..x30 (x28 is the memory base, see below)
 *   u64  nzcv      initial NZCV (bits 31:28)
 *   u128 v[32]     initial v0..v31
 *   u64  fpcr, fpsr
 *   u8   mem[512]  initial contents of the block at 0x10000000
 *   u32  code_len  bytes of code that follow (a multiple of 4, <= MAX_CODE)
 *   u32  code_off  the code runs at 0x20000004 + code_off
 *   u8   code[code_len]
 * Output (stdout), per case: u64 x[31], u64 nzcv, u128 v[32], u64 fpcr,
 * u64 fpsr, u8 mem[512], u64 signal (0, or the signal the code raised).
 *
 * The code runs with x28 = 0x10000000 (the generator never writes x28 and
 * bases every access on it); see harness-aarch64.S for the save/restore.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define MEM_BASE 0x10000000UL
#define CTRL_BASE 0x10001000UL
#define CODE_BASE 0x20000000UL
#define MEM_SIZE 512
#define MAX_CODE 4096
#define CODE_WINDOW 0x40000
#define STATE_SIZE (31 * 8 + 8 + 32 * 16 + 16)
#define HDR_SIZE (STATE_SIZE + MEM_SIZE + 8)
#define OUT_SIZE (STATE_SIZE + MEM_SIZE + 8)

void difftest_run(void);
void difftest_epilogue(void);

static sigjmp_buf env;
static volatile int trapped;

static void on_trap(int sig) {
    trapped = sig;
    siglongjmp(env, 1);
}

static int read_full(void *buf, size_t n) {
    uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = read(0, p, n);
        if (r <= 0)
            return 0;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

static int write_full(const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n > 0) {
        ssize_t r = write(1, p, n);
        if (r <= 0)
            return 0;
        p += r;
        n -= (size_t)r;
    }
    return 1;
}

static void put32(uint8_t *p, uint32_t w) { memcpy(p, &w, 4); }

int main(void) {
    if (mmap((void *)MEM_BASE, 0x2000, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (void *)MEM_BASE)
        return 2;
    if (mmap((void *)CODE_BASE, CODE_WINDOW + MAX_CODE + 0x1000, PROT_READ | PROT_WRITE | PROT_EXEC,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (void *)CODE_BASE)
        return 3;
    static uint8_t altstack[65536];
    stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0};
    sigaltstack(&ss, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_trap;
    sa.sa_flags = SA_ONSTACK | SA_NODEFER;
    int sigs[] = {SIGILL, SIGSEGV, SIGBUS, SIGFPE, SIGTRAP};
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, 0);

    uint8_t *ctrl = (uint8_t *)CTRL_BASE;
    uint64_t epi = (uint64_t)(uintptr_t)difftest_epilogue;
    memcpy(ctrl, &epi, 8);

    static uint8_t hdr[HDR_SIZE];
    static uint8_t out[OUT_SIZE];
    while (read_full(hdr, HDR_SIZE)) {
        uint32_t len, off;
        memcpy(&len, hdr + HDR_SIZE - 8, 4);
        memcpy(&off, hdr + HDR_SIZE - 4, 4);
        if (len > MAX_CODE || len % 4 != 0 || off >= CODE_WINDOW || off % 4 != 0)
            return 4;
        uint8_t *code = (uint8_t *)CODE_BASE + off;
        uint64_t entry = (uint64_t)(uintptr_t)code;
        memcpy(ctrl + 1824, &entry, 8);
        /* movz x28, #0x1000, lsl #16; <case>;
         * movz x28, #0x1000, lsl #16; movk x28, #0x1000; ldr x28, [x28]; br x28 */
        put32(code, 0xd2a2001cu);
        if (!read_full(code + 4, len))
            return 5;
        put32(code + 4 + len, 0xd2a2001cu);
        put32(code + 8 + len, 0xf282001cu);
        put32(code + 12 + len, 0xf940039cu);
        put32(code + 16 + len, 0xd61f0380u);
        __builtin___clear_cache((char *)code, (char *)code + len + 20);

        memcpy(ctrl + 256, hdr, 31 * 8 + 8);        /* x0..x30, nzcv */
        memcpy(ctrl + 512, hdr + 256, 32 * 16);     /* v0..v31 */
        memcpy(ctrl + 1024, hdr + 768, 16);         /* fpcr, fpsr */
        memcpy((void *)MEM_BASE, hdr + STATE_SIZE, MEM_SIZE);
        trapped = 0;
        if (sigsetjmp(env, 1) == 0)
            difftest_run();

        uint64_t base = MEM_BASE;
        memcpy(ctrl + 1040 + 28 * 8, &base, 8);
        memcpy(out, ctrl + 1040, 31 * 8 + 8);
        memcpy(out + 256, ctrl + 1296, 32 * 16);
        memcpy(out + 768, ctrl + 1808, 16);
        memcpy(out + STATE_SIZE, (void *)MEM_BASE, MEM_SIZE);
        uint64_t t = (uint64_t)trapped;
        memcpy(out + STATE_SIZE + MEM_SIZE, &t, 8);
        if (!write_full(out, OUT_SIZE))
            return 6;
    }
    return 0;
}
