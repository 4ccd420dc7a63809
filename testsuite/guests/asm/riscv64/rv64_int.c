/* Driver for asm/riscv64/rv64_int.S (riscv64 only): prints results of the
 * M-extension division corner cases defined by the ISA, high multiplies,
 * register-count shifts >= XLEN, word ops with sign extension, set-less-than
 * forms, lui/addiw/auipc and explicitly compressed instructions.
 * Args: none.  Env: none.  Exit: 0 if all checks pass, 1 otherwise.
 */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include "guest.h"

typedef int64_t (*op2)(int64_t, int64_t);
extern int64_t rv_div(int64_t, int64_t), rv_divu(int64_t, int64_t), rv_rem(int64_t, int64_t), rv_remu(int64_t, int64_t);
extern int64_t rv_divw(int64_t, int64_t), rv_divuw(int64_t, int64_t), rv_remw(int64_t, int64_t), rv_remuw(int64_t, int64_t);
extern int64_t rv_mulh(int64_t, int64_t), rv_mulhsu(int64_t, int64_t), rv_mulhu(int64_t, int64_t), rv_mulw(int64_t, int64_t);
extern int64_t rv_sll(int64_t, int64_t), rv_srl(int64_t, int64_t), rv_sra(int64_t, int64_t);
extern int64_t rv_sllw(int64_t, int64_t), rv_srlw(int64_t, int64_t), rv_sraw(int64_t, int64_t);
extern int64_t rv_slt(int64_t, int64_t), rv_sltu(int64_t, int64_t), rv_seqz_snez(int64_t);
extern int64_t rv_lui_neg(void), rv_addiw_wrap(int64_t), rv_auipc_delta(void), rv_compressed_mix(int64_t);

static const struct {
    const char *name;
    op2 f;
} ops[] = {{"div", rv_div},       {"divu", rv_divu},     {"rem", rv_rem},     {"remu", rv_remu},   {"divw", rv_divw},
           {"divuw", rv_divuw},   {"remw", rv_remw},     {"remuw", rv_remuw}, {"mulh", rv_mulh},   {"mulhsu", rv_mulhsu},
           {"mulhu", rv_mulhu},   {"mulw", rv_mulw},     {"sll", rv_sll},     {"srl", rv_srl},     {"sra", rv_sra},
           {"sllw", rv_sllw},     {"srlw", rv_srlw},     {"sraw", rv_sraw},   {"slt", rv_slt},     {"sltu", rv_sltu}};

int main(void) {
    const int64_t pairs[][2] = {{7, 0},
                                {-7, 0},
                                {INT64_MIN, -1},
                                {INT64_MIN, 0},
                                {-7, 2},
                                {7, -2},
                                {(int64_t)0xffffffff80000000ull, -1}, /* word INT_MIN / -1 */
                                {0x123456789abcdef0LL, 0x100000000LL},
                                {-1, -1},
                                {0x7fffffffffffffffLL, 0x7fffffffffffffffLL},
                                {0x0000000180000000LL, 3},
                                {1, 64},
                                {-2, 65},
                                {0x8000000000000001LL, 127},
                                {0x80000001LL, 32},
                                {0x80000001LL, 33},
                                {(int64_t)0xdeadbeefcafebabeull, 0xfedcba9876543210LL}};
    for (unsigned p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        int64_t a = pairs[p][0], b = pairs[p][1];
        printf("a=%016" PRIx64 " b=%016" PRIx64 "\n", (uint64_t)a, (uint64_t)b);
        for (unsigned i = 0; i < sizeof ops / sizeof ops[0]; i++)
            printf("  %-6s %016" PRIx64 "%s", ops[i].name, (uint64_t)ops[i].f(a, b), i % 4 == 3 ? "\n" : "");
    }
    CHECK(rv_div(7, 0) == -1 && rv_divu(7, 0) == -1 && rv_rem(7, 0) == 7 && rv_remu(-7, 0) == -7);
    CHECK(rv_div(INT64_MIN, -1) == INT64_MIN && rv_rem(INT64_MIN, -1) == 0);
    CHECK(rv_divw(0x80000000LL, -1) == (int64_t)0xffffffff80000000ull && rv_remw(0x80000000LL, -1) == 0);
    CHECK(rv_divw(5, 0) == -1 && rv_remw(0x100000005LL, 0) == 5);
    CHECK(rv_sll(1, 64) == 1 && rv_sll(1, 65) == 2 && rv_sraw(0x80000000LL, 33) == (int64_t)0xffffffffc0000000ull);
    CHECK(rv_mulhu(-1, -1) == -2 && rv_mulh(-1, -1) == 0 && rv_mulhsu(-1, -1) == -1);
    CHECK(rv_mulw(0x10000, 0x10000) == 0 && rv_mulw(0x7fffffff, 2) == -2);
    const int64_t z[] = {0, 1, -1, INT64_MIN, INT64_MAX};
    printf("seqz|snez|sltz|sgtz:");
    for (int i = 0; i < 5; i++) printf(" %" PRId64, rv_seqz_snez(z[i]));
    printf("\n");
    CHECK(rv_seqz_snez(0) == 1 && rv_seqz_snez(-1) == 6 && rv_seqz_snez(5) == 10);
    printf("lui_neg=%016" PRIx64 " addiw(0x7fffffff)=%016" PRIx64 " addiw(0xffffffff)=%016" PRIx64
           " auipc delta=%" PRId64 " compressed_mix(5)=%" PRId64 "\n",
           (uint64_t)rv_lui_neg(), (uint64_t)rv_addiw_wrap(0x7fffffff), (uint64_t)rv_addiw_wrap(0xffffffffLL),
           rv_auipc_delta(), rv_compressed_mix(5));
    CHECK(rv_lui_neg() == (int64_t)0xffffffff7fffffffull && rv_addiw_wrap(0x7fffffff) == INT32_MIN);
    CHECK(rv_addiw_wrap(0xffffffffLL) == 0 && rv_compressed_mix(5) == 81);
    printf("rv64_int done, failures=%d\n", guest_failures);
    return guest_status();
}
