#!/usr/bin/env python3
# Writes the seed corpus of fuzz_migrate (tests/fuzz/corpus/migrate/): record
# sequences as the harness reads them (fuzz_migrate.c): a whole valid stream
# for an opsub and a paravirt guest, and its prefixes.
# Usage: tests/fuzz/migrate_seeds.py   (the files are kept in the repository)
import os, struct
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "migrate")
os.makedirs(OUT, exist_ok=True)
MEM = 64 << 20

def rec(t, payload, final=False):
    return struct.pack("<BBI", t, 1 if final else 0, len(payload)) + payload

def stream(io):
    cfg = ('{"name":"g","program":"/nf","mac":"02:00:00:00:00:07","mem":"64M","io":"%s"}' % io).encode()
    hello = rec(1, struct.pack("<IIQQII", 2, len(cfg), MEM, 3, 0, 0) + cfg)
    pages = rec(4, struct.pack("<II", 3, 0) + struct.pack("<II", 16, 1) + b"\x01" * 4096 +
                struct.pack("<II", 17, 0) + struct.pack("<II", 40, 1) + b"\x02" * 4096)
    holes = rec(9, struct.pack("<II", 2, 0) + struct.pack("<QQ", 41, 3) + struct.pack("<QQ", 100, 1))
    mode = {"opsub": 0, "paravirt": 2}[io]
    gs = b"OPSUBGS1" + struct.pack("<IIQIIII", 3, 48, MEM, mode, 1, 0, 0) + struct.pack("<II", 1, 0)
    gs = gs[:48].ljust(48, b"\0")
    vring = struct.pack("<IHHHH", 256, 5, 5, 9, 9) if io == "paravirt" else b"\0" * 12
    state = rec(5, struct.pack("<II", len(gs), 1 if io == "paravirt" else 0) + vring + b"\0" * 4 + gs)
    end = rec(6, struct.pack("<QQQQQ", 2, 1, 3, 1000, 0), True)
    return [hello, pages, holes, state, end]

for io in ("opsub", "paravirt"):
    parts = stream(io)
    for n in range(1, len(parts) + 1):
        with open(os.path.join(OUT, "%s-%d" % (io, n)), "wb") as f:
            f.write(b"\0" + b"".join(parts[:n]))
with open(os.path.join(OUT, "file-garbage"), "wb") as f:
    f.write(b"\1OPSUBSN1" + b"\0" * 48 + struct.pack("<I", 40) + b"\0" * 40)
