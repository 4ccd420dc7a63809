/* riscv64 differential-test harness: runs instruction sequences under
 * qemu-riscv64 and reports the register file and memory they leave.
 *
 * Input (stdin), per case, little-endian, back to back until EOF:
 *   u64 x[32]     initial x0..x31 (x0 and x31 are ignored)
 *   u64 f[32]     initial f0..f31 bit patterns
 *   u64 fcsr      initial fcsr (frm in bits 5..7, fflags in bits 0..4)
 *   u8  mem[512]  initial contents of the block at 0x10000000
 *   u32 code_len  bytes of code that follow (even, at most MAX_CODE)
 *   u32 code_off  the code runs at 0x20000004 + code_off (below CODE_WINDOW)
 *   u8  code[code_len]
 * Output (stdout), per case: u64 x[32], u64 f[32], u64 fcsr, u8 mem[512]
 * (x0 reads 0, x31 is the base register 0x10000000).
 *
 * The code runs at 0x20000004 + code_off with x31 = 0x10000000; the generator keeps
 * x31 out of every destination and uses it as the base of all memory
 * accesses. See harness.S for the register save/restore.
 */
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
#define HDR_SIZE (32 * 8 + 32 * 8 + 8 + MEM_SIZE + 8)
#define OUT_SIZE (32 * 8 + 32 * 8 + 8 + MEM_SIZE)

void difftest_run(void);
void difftest_epilogue(void);

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
    uint8_t *ctrl = (uint8_t *)CTRL_BASE;
    uint64_t epi = (uint64_t)(uintptr_t)difftest_epilogue;
    memcpy(ctrl, &epi, 8);

    static uint8_t hdr[HDR_SIZE];
    static uint8_t out[OUT_SIZE];
    while (read_full(hdr, HDR_SIZE)) {
        uint32_t len, off;
        memcpy(&len, hdr + HDR_SIZE - 8, 4);
        memcpy(&off, hdr + HDR_SIZE - 4, 4);
        if (len > MAX_CODE || len % 2 != 0 || off >= CODE_WINDOW || off % 2 != 0)
            return 4;
        uint8_t *code = (uint8_t *)CODE_BASE + off;
        uint64_t entry = (uint64_t)(uintptr_t)code;
        memcpy(ctrl + 1600, &entry, 8);
        /* lui x31, 0x10000; <case>; lui x31, 0x10001; ld x31, 0(x31); jr x31 */
        put32(code, 0x10000fb7u);
        if (!read_full(code + 4, len))
            return 5;
        put32(code + 4 + len, 0x10001fb7u);
        put32(code + 8 + len, 0x000fbf83u);
        put32(code + 12 + len, 0x000f8067u);
        __builtin___clear_cache((char *)code, (char *)code + len + 16);

        memcpy(ctrl + 256, hdr, 32 * 8);
        memcpy(ctrl + 512, hdr + 256, 32 * 8);
        memcpy(ctrl + 768, hdr + 512, 8);
        memcpy((void *)MEM_BASE, hdr + 520, MEM_SIZE);
        difftest_run();

        uint64_t zero = 0, base = MEM_BASE;
        memcpy(ctrl + 1024, &zero, 8);
        memcpy(ctrl + 1024 + 31 * 8, &base, 8);
        memcpy(out, ctrl + 1024, 32 * 8);
        memcpy(out + 256, ctrl + 1280, 32 * 8);
        memcpy(out + 512, ctrl + 1536, 8);
        memcpy(out + 520, (void *)MEM_BASE, MEM_SIZE);
        if (!write_full(out, OUT_SIZE))
            return 6;
    }
    return 0;
}
