#!/bin/bash
# Builds the verifier-against-CPU oracle into build/tests/oracle/oracle.
# The src/ files it needs (translator, verifier, context, CPU model, host
# probes, guest-memory bookkeeping) are compiled directly into it, so the
# oracle always checks the current sources.  gates/gate.S is NOT linked:
# the oracle's runner page (runner.S) provides gate_exit and gate_ibl_miss,
# and main/exec.c the gates' data the translator writes.
# No sanitizers: the sandbox is host [0, 4 GiB), where ASan keeps its shadow,
# and a child makes every page but its own few inaccessible.
# Usage: tests/oracle/build.sh        (from anywhere; CC=... to override)
set -euo pipefail
cd "$(dirname "$0")/../.."
CC=${CC:-gcc}
OUT=build/tests/oracle
mkdir -p "$OUT"
CFLAGS=(-std=gnu11 -O2 -g -fPIE -D_GNU_SOURCE -Isrc -Iinclude -Itests/oracle -Wall -Wextra -Werror)
SRC=(src/translator/*.c src/gates/ctx.c src/gates/cpu_model.c src/gates/host.c src/sandbox/guest_mem.c
     tests/oracle/*.c tests/oracle/runner.S)
"$CC" "${CFLAGS[@]}" -pie -o "$OUT/oracle.tmp" "${SRC[@]}" -lZydis
mv "$OUT/oracle.tmp" "$OUT/oracle"
echo "built $OUT/oracle"
