#!/bin/bash
# Concurrent writers against the translator: guest code rewritten by the
# NIC's DMA engine (opsub, passthrough modes) or the paravirt backend while
# it is being translated (tests/race/codedma.c says how).  Each mode runs
# RACE_ROUNDS rounds (default 3000); a run must end with "ok codedma" or a
# guest fault (a torn frame is arbitrary guest code), never with an internal
# error, a crash of opsub or a hang.  Shown to fail: with the translator
# reading guest bytes twice (decode, then emit), every mode reached
# "internal error: ... gs: access outside the translator's templates"
# within 3000 rounds; the old verifier would have run that bt on the
# runtime context.
cd "$(dirname "$0")/../.." || exit 2
OPSUB=${OPSUB:-build/opsub}
ROUNDS=${RACE_ROUNDS:-3000}
B=build/tests/race
mkdir -p "$B"
musl-gcc -std=gnu11 -O2 -static -Wall -Wextra -Werror -Iinclude -o "$B/codedma" tests/race/codedma.c \
	build/guests/libopsub.a || { echo "FAIL race/build: codedma does not build"; exit 1; }

for io in opsub paravirt passthrough emulated; do
	left=$ROUNDS runs=0 faults=0 why="" summary=""
	while ((left > 0 && runs < 20)); do
		runs=$((runs + 1))
		out=$(timeout 120 "$OPSUB" run --net loop --io "$io" "$B/codedma" "$left" 2>&1)
		rc=$?
		if ((rc == 124)); then why="hung (no end within 120 s)"; break; fi
		if grep -q 'opsub: internal error' <<<"$out"; then why=$(grep -m1 'internal error' <<<"$out"); break; fi
		if grep -q '^FAIL' <<<"$out"; then why=$(grep -m1 '^FAIL' <<<"$out"); break; fi
		if grep -qx 'ok codedma' <<<"$out" && ((rc == 0)); then
			summary=$(grep -m1 '^rounds' <<<"$out"); left=0
		elif grep -q '^opsub: guest fault' <<<"$out"; then
			# a torn mix of A and B faulted the guest: go on with fewer rounds
			faults=$((faults + 1)); left=$((left / 2))
		else
			why="ended with status $rc: $(tail -n1 <<<"$out")"; break
		fi
	done
	if [[ -n $why ]]; then echo "FAIL race/codedma/$io: $why"
	else
		note=""
		((faults)) && note=" (runs ended by a guest fault on a torn frame: $faults)"
		echo "PASS race/codedma/$io: $summary$note"
	fi
done
