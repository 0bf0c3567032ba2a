#!/bin/bash
# Runs the cmocka unit tests (built by `make tests` with ASan/UBSan) and turns
# their TAP output into PASS/FAIL lines.
cd "$(dirname "$0")/../.." || exit 2
export CMOCKA_MESSAGE_OUTPUT=TAP ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
shopt -s nullglob
for t in build/tests/unit/test_*; do
	case "$t" in *.d) continue ;; esac
	name=$(basename "$t")
	out=$(timeout 300 "$t" 2>&1); rc=$?
	echo "$out" | sed -n -e "s/^ok [0-9]* - \(.*\)/PASS $name: \1/p" \
	                     -e "s/^not ok [0-9]* - \(.*\)/FAIL $name: \1/p"
	if [ $rc -ne 0 ] && ! echo "$out" | grep -q '^not ok'; then
		echo "FAIL $name: exited with status $rc"; echo "$out" | tail -20
	fi
done
