#!/usr/bin/env python3
"""Generates corpus.txt, the input that lzhuff compresses.

Run once; the output is committed and linked into the lzhuff fixtures with
.incbin (the Makefile does not regenerate it, so fixtures stay reproducible).
The text is original to this test suite: prose, shuffled variations of it, a
CSV table, a log, a hex dump of pseudo-random bytes and repeated patterns.
"""
import random

r = random.Random(20240601)
parts = []
prose = """The translator reads a program written for one processor and produces an
equivalent program for another. It must preserve every observable effect:
the bytes written to standard output and standard error, the files left
behind, the exit status, and the order in which these things happen when
the order is defined. Everything else is an implementation detail that the
translator may change to make the program faster.
A guest register becomes a variable; a guest memory access becomes a load
or a store at a fixed offset from a base; a guest system call becomes a call
into the runtime, which performs the operation on behalf of the guest and
converts the results back into the guest's conventions. Signals arrive at
awkward moments, threads race, and floating point rounding must be exactly
what the guest processor would have done.
"""
words = prose.split()
parts.append("== Section 1: prose ==\n" + prose)
for k in range(12):
    w = words[:]
    r.shuffle(w)
    lines = []
    line = []
    for x in w:
        line.append(x)
        if len(" ".join(line)) > 70:
            lines.append(" ".join(line))
            line = []
    lines.append(" ".join(line))
    parts.append("-- variation %d --\n" % k + "\n".join(lines) + "\n")
rows = ["id,name,quantity,price,category"]
cats = ["alpha", "beta", "gamma", "delta", "epsilon"]
for i in range(400):
    rows.append("%d,item-%04d,%d,%d.%02d,%s" % (i, r.randrange(10000), r.randrange(1, 500), r.randrange(1, 999),
                                                r.randrange(100), cats[r.randrange(5)]))
parts.append("== Section 2: table ==\n" + "\n".join(rows) + "\n")
levels = ["INFO", "WARN", "DEBUG", "ERROR"]
msgs = ["translated function", "cache hit for block", "cache miss for block", "syscall emulated", "signal delivered",
        "thread created"]
logs = []
t = 0
for i in range(500):
    t += r.randrange(1, 5000)
    logs.append("[%010d] %-5s %s 0x%08x (%d)" % (t, levels[r.randrange(4)], msgs[r.randrange(6)], r.randrange(1 << 32),
                                                 r.randrange(100)))
parts.append("== Section 3: log ==\n" + "\n".join(logs) + "\n")
data = bytes(r.randrange(256) for _ in range(1024))
hexl = []
for i in range(0, len(data), 16):
    hexl.append("%04x: " % i + " ".join("%02x" % b for b in data[i:i + 16]))
parts.append("== Section 4: hex ==\n" + "\n".join(hexl) + "\n")
parts.append("== Section 5: pattern ==\n" + ("abcabcabd" * 200) + "\n" + ("0123456789" * 100) + "\n")
with open("corpus.txt", "w") as f:
    f.write("".join(parts))
