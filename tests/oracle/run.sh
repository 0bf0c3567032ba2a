#!/bin/bash
# Oracle suite: what the verifier accepts, run on the real CPU, must stay
# inside the places translated code may touch (tests/oracle/README.md).
# Builds the oracle (tests/oracle/build.sh), runs its self-test (escapes the
# verifier refuses must be seen as violations; accepted controls must not),
# then a bounded run of generated blocks.  Prints one line per check:
#   PASS oracle/selftest:NAME (...)
#   PASS oracle/run: N blocks (random a, translated b, mutated c), no violation (seed S, T s)
#   FAIL oracle/<what>: <why>         (with the block, its disassembly and
#                                      registers, minimised, and a replay command)
# and a summary: blocks of each kind, their outcomes, the hidden-operand
# forms they held.
#
# Usage: tests/oracle/run.sh [--long]      (from anywhere)
# Environment:
#   ORACLE_SEED        seed (default: from the clock; printed, reproduces the run)
#   ORACLE_SECONDS     run time in seconds (default 60; --long: 1800)
#   ORACLE_BLOCKS      run exactly this many block indices (no time limit
#                      unless ORACLE_SECONDS is set too)
#   ORACLE_JOBS        worker processes (default 1; --long: one per CPU)
#   ORACLE_TIMEOUT_MS  CPU time a block may use (default 20)
#   ORACLE_REPORTS     full violation reports to print (default 5)
set -u
cd "$(dirname "$0")/../.." || exit 2
if [ "${1:-}" = "--long" ]; then
	export ORACLE_SECONDS=${ORACLE_SECONDS:-1800}
	export ORACLE_JOBS=${ORACLE_JOBS:-$(nproc)}
fi

if ! buildlog=$(tests/oracle/build.sh 2>&1); then
	echo "$buildlog" | tail -30
	echo "FAIL oracle/build: tests/oracle/build.sh failed (see above)"
	exit 0
fi

# The oracle bounds itself; the outer limit only catches a hung oracle.
limit=$(( ${ORACLE_SECONDS:-60} + 900 ))
[ -n "${ORACLE_BLOCKS:-}" ] && [ -z "${ORACLE_SECONDS:-}" ] && limit=$(( ORACLE_BLOCKS / 100 + 900 ))
out=$(mktemp "${TMPDIR:-/tmp}/opsub-oracle.XXXXXX")
trap 'rm -f "$out"' EXIT
timeout --kill-after=30 "$limit" build/tests/oracle/oracle 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if ! grep -q '^\(PASS\|FAIL\) oracle/run' "$out"; then
	echo "FAIL oracle/run: the oracle stopped without a verdict (exit status $rc)"
elif [ "$rc" -ne 0 ] && ! grep -q '^FAIL oracle/' "$out"; then
	echo "FAIL oracle/run: the oracle exited with status $rc"
fi
exit 0
