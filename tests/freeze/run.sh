#!/bin/bash
# The guest process's part of migration (monitor/freeze.h), without the
# daemon: tests/freeze/rig.c pauses a running guest, saves its state and
# either lets it go on or moves it into a new process on the same memory,
# several times per run.  The guest (progs/ticker.c) prints what depends on
# its registers, vector state, heap, mappings, FS base and clock; every run
# must print exactly what it prints natively.  Cases: pauses that find it
# busy in translated code (no sleeps: the single-step path), pauses inside
# sleeps (the blocking-call path), a mix, a forged state that the new
# process must refuse, and the control that shows the comparison can fail
# (the saved XMM registers overwritten: the output must then differ).
cd "$(dirname "$0")/../.." || exit 2
OPSUB=${OPSUB:-build/opsub}
B=build/tests/freeze
mkdir -p "$B"
musl-gcc -std=gnu11 -O2 -static -Wall -Wextra -Werror -o "$B/ticker" tests/freeze/progs/ticker.c &&
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -D_GNU_SOURCE -Isrc -Iinclude -o "$B/rig" tests/freeze/rig.c \
		src/driver/link.c || { echo "FAIL freeze/build: the rig or the guest does not build"; exit 1; }

# case MODE DELAY_MS TIMES STEPS SLEEP_MS [differ]: STEPS long enough that the
# guest outlives TIMES pauses DELAY_MS apart even on a fast, idle host
run_case() {
	local name="freeze/$1/${5}ms-sleeps" mode=$1 want=${6:-same}
	"$B/ticker" "$4" "$5" >"$B/$name.native" 2>/dev/null || { echo "FAIL $name: the native run failed"; return; }
	mkdir -p "$(dirname "$B/$name")"
	timeout 300 "$B/rig" "$OPSUB" "$mode" "$2" "$3" -- "$B/ticker" "$4" "$5" >"$B/$name.out" 2>"$B/$name.err"
	local rc=$?
	if [[ $want == same ]]; then
		if ((rc != 0)); then echo "FAIL $name: exit status $rc: $(tail -n1 "$B/$name.err")"
		elif ! cmp -s "$B/$name.native" "$B/$name.out"; then echo "FAIL $name: output differs from native ($B/$name.out)"
		else echo "PASS $name: $(grep -c '^rig: pause' "$B/$name.err") pauses, output as native"; fi
	else
		if cmp -s "$B/$name.native" "$B/$name.out"; then echo "FAIL $name: overwritten vector registers went unseen"
		else echo "PASS $name: overwritten vector registers change the output (the comparison can fail)"; fi
	fi
}
mkdir -p "$B/freeze/resume" "$B/freeze/move" "$B/freeze/scramble"
run_case resume 97 6 80 20
run_case move 97 6 80 20
run_case move 53 4 200 0
run_case move 250 4 6 300
# (four pauses: one that lands where the guest holds nothing live in its
# vector registers would change nothing)
run_case scramble 53 4 200 0 differ
if timeout 60 "$B/rig" "$OPSUB" forge 100 1 -- "$B/ticker" 40 20 >/dev/null 2>"$B/forge.err"; then
	echo "PASS freeze/forged-state: $(grep -m1 'cannot restore' "$B/forge.err")"
else
	echo "FAIL freeze/forged-state: $(tail -n2 "$B/forge.err" | tr '\n' ' ')"
fi
