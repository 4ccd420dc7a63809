#!/usr/bin/env python3
"""Writes the assembly of the synthetic riscv64 decoder test objects.

    gen.py rvc       every 16-bit encoding (low bits != 11), in order
    gen.py random32  16384 pseudo-random 32-bit words biased towards the
                     major opcodes and function codes of RV64GC + Zba/Zbb

Both are emitted as raw `.insn` words so gas marks them as code and objdump
disassembles every one. The generator is deterministic (fixed xorshift
seed), so the committed objects can be rebuilt bit for bit.
"""

import sys

ARCH_GC = "rv64i2p1_m2p0_a2p1_f2p2_d2p2_c2p0_zicsr2p0_zifencei2p0"
ARCH_ALL = ARCH_GC + "_zba1p0_zbb1p0"


class Rng:
    """xorshift64: small, fast and the same everywhere."""

    def __init__(self, seed):
        self.state = seed

    def next(self):
        x = self.state
        x ^= (x << 13) & 0xFFFFFFFFFFFFFFFF
        x ^= x >> 7
        x ^= (x << 17) & 0xFFFFFFFFFFFFFFFF
        self.state = x
        return x

    def u32(self):
        return self.next() & 0xFFFFFFFF

    def below(self, n):
        return self.next() % n

    def pick(self, items):
        return items[self.below(len(items))]


LOAD, LOAD_FP, MISC_MEM, OP_IMM, AUIPC, OP_IMM_32 = 0x03, 0x07, 0x0F, 0x13, 0x17, 0x1B
STORE, STORE_FP, AMO, OP, LUI, OP_32 = 0x23, 0x27, 0x2F, 0x33, 0x37, 0x3B
MADD, MSUB, NMSUB, NMADD, OP_FP = 0x43, 0x47, 0x4B, 0x4F, 0x53
BRANCH, JALR, JAL, SYSTEM = 0x63, 0x67, 0x6F, 0x73

OPCODES = [LOAD, LOAD_FP, MISC_MEM, OP_IMM, AUIPC, OP_IMM_32, STORE, STORE_FP,
           AMO, OP, LUI, OP_32, MADD, MSUB, NMSUB, NMADD, OP_FP, BRANCH, JALR,
           JAL, SYSTEM]

FUNCT7 = {
    OP: [0x00, 0x20, 0x01, 0x04, 0x05, 0x10, 0x20, 0x30],
    OP_32: [0x00, 0x20, 0x01, 0x04, 0x10, 0x30],
    OP_FP: [0x00, 0x01, 0x04, 0x05, 0x08, 0x09, 0x0C, 0x0D, 0x2C, 0x2D, 0x10,
            0x11, 0x14, 0x15, 0x20, 0x21, 0x50, 0x51, 0x60, 0x61, 0x68, 0x69,
            0x70, 0x71, 0x78, 0x79],
}
# funct12 / funct6 values of the immediate-encoded Zbb/Zba ops and shifts.
IMM_HIGH = {
    OP_IMM: [0x600, 0x601, 0x602, 0x604, 0x605, 0x287, 0x6B8, 0x000, 0x400,
             0x600 | 0x3F, 0x400 | 0x3F],
    OP_IMM_32: [0x600, 0x601, 0x602, 0x000, 0x400, 0x080, 0x600 | 0x1F,
                0x020, 0x040],
}
AMO_FUNCT5 = [0x00, 0x01, 0x02, 0x03, 0x04, 0x08, 0x0C, 0x10, 0x14, 0x18, 0x1C]
# CSRs objdump prints by name and vmtrans knows, plus numbers nobody names.
CSRS = [0x001, 0x002, 0x003, 0x008, 0x009, 0x00A, 0x00F, 0x015, 0xC00, 0xC01,
        0xC02, 0xC03, 0xC1F, 0xC20, 0xC21, 0xC22, 0xC80, 0xC81, 0xC82, 0xC83,
        0xC9F, 0x400, 0x7FF, 0x800, 0x8FF, 0xBFF, 0xCFF, 0xFFF, 0x017]
SYSTEM_WORDS = [0x00000073, 0x00100073, 0x10200073, 0x30200073, 0x10500073,
                0x12000073, 0x00200073, 0x7B200073]


def structured(rng, opcode):
    """A word with `opcode` whose other fields are random but biased."""
    w = (rng.u32() & ~0x7F) | opcode
    coin = rng.below(2)
    if opcode in FUNCT7 and coin:
        w = (w & 0x01FFFFFF) | rng.pick(FUNCT7[opcode]) << 25
    if opcode == OP_FP and rng.below(2):
        w = (w & ~(0x1F << 20)) | rng.below(4) << 20
    if opcode in IMM_HIGH and coin:
        w = (w & 0x000FFFFF) | rng.pick(IMM_HIGH[opcode]) << 20
    if opcode == AMO and coin:
        w = (w & 0x07FF8FFF) | rng.pick(AMO_FUNCT5) << 27 | (2 + rng.below(2)) << 12
    if opcode == MISC_MEM and coin:
        w &= 0x0FF0707F
    if opcode == SYSTEM:
        if rng.below(4) == 0:
            return rng.pick(SYSTEM_WORDS)
        w = (w & 0x000FFFFF) | rng.pick(CSRS) << 20
    return w


def random_word(rng):
    """One 32-bit instruction word (low bits 11, bits 4:2 != 111)."""
    if rng.below(8) == 0:
        w = rng.u32() | 3
        if (w >> 2) & 7 != 7 and w & 0x7F != SYSTEM:
            return w
    return structured(rng, rng.pick(OPCODES))


def main():
    kind = sys.argv[1] if len(sys.argv) > 1 else ""
    out = ["\t.text"]
    if kind == "rvc":
        out.insert(0, f'\t.attribute arch, "{ARCH_GC}"')
        out += [f"\t.insn 2, {h:#06x}" for h in range(0x10000) if h & 3 != 3]
    elif kind == "random32":
        out.insert(0, f'\t.attribute arch, "{ARCH_ALL}"')
        rng = Rng(0x5EED_0F_DEC0DE)
        out += [f"\t.insn 4, {random_word(rng):#010x}" for _ in range(16384)]
    else:
        sys.exit("usage: gen.py rvc|random32")
    print("\n".join(out))


if __name__ == "__main__":
    main()
