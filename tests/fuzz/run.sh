#!/bin/bash
# Fuzz suite: builds the libFuzzer targets (tests/fuzz/build.sh), replays the
# kept reproducers in tests/fuzz/crashes/, then fuzzes each target for a
# bounded time from a copy of its seed corpus (the repository is never
# written).  Prints one line per check:
#   PASS fuzz/replay:FILE            a kept reproducer no longer fails
#   PASS fuzz/translate: N runs, no rejection
#   PASS fuzz/elf: N runs, no violation
#   PASS fuzz/control: N runs, no violation
#   PASS fuzz/migrate: N runs, no violation
#   PASS fuzz/state: N runs, no violation
#   FAIL fuzz/<what>: <reason>       (the failing input is copied to
#                                     build/tests/fuzz/artifacts/)
#
# Usage: tests/fuzz/run.sh          (from the repository root or anywhere)
# Environment:
#   FUZZ_SECONDS       seconds of translator fuzzing (default 60); e.g.
#                      FUZZ_SECONDS=3600 tests/fuzz/run.sh for a long run
#   FUZZ_ELF_SECONDS   seconds of ELF-checker fuzzing (default 20, or a
#                      third of FUZZ_SECONDS when that is set)
#   FUZZ_CONTROL_SECONDS  seconds of config and control-request fuzzing
#                      (default 20, or a third of FUZZ_SECONDS when that is set)
#   FUZZ_RSS_MB        memory limit per fuzzer (default 2048)
set -u
cd "$(dirname "$0")/../.." || exit 2

TR_SECS=${FUZZ_SECONDS:-60}
if [ -n "${FUZZ_ELF_SECONDS:-}" ]; then
	ELF_SECS=$FUZZ_ELF_SECONDS
elif [ -n "${FUZZ_SECONDS:-}" ]; then
	ELF_SECS=$(( FUZZ_SECONDS / 3 > 0 ? FUZZ_SECONDS / 3 : 1 ))
else
	ELF_SECS=20
fi
CTL_SECS=${FUZZ_CONTROL_SECONDS:-$ELF_SECS}
RSS=${FUZZ_RSS_MB:-2048}
BIN=build/tests/fuzz
ART=$BIN/artifacts
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

if ! buildlog=$(tests/fuzz/build.sh 2>&1); then
	echo "$buildlog" | tail -30
	echo "FAIL fuzz/build: tests/fuzz/build.sh failed (see above)"
	exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/opsub-fuzz.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$ART"

# The first line that says what went wrong in a fuzzer's log.
reason_of() {
	local r
	r=$(grep -m1 -E '^FUZZ FAILURE:|^opsub: internal error|runtime error:|^SUMMARY: (AddressSanitizer|UndefinedBehaviorSanitizer|libFuzzer)|^==[0-9]+== ?ERROR: libFuzzer' "$1" |
	    sed -e 's/^FUZZ FAILURE: //' -e 's/^==[0-9]*== *//')
	echo "${r:-exited abnormally (see the log above)}"
}

# ---- kept reproducers: each must now pass ----------------------------------
shopt -s nullglob
for f in tests/fuzz/crashes/*; do
	name=$(basename "$f")
	case "$name" in
	translate-*) fz=$BIN/fuzz_translate ;;
	elf-*) fz=$BIN/fuzz_elf ;;
	control-*) fz=$BIN/fuzz_control ;;
	state-*) fz=$BIN/fuzz_state ;;
	migrate-*) fz=$BIN/fuzz_migrate ;;
	*) continue ;;
	esac
	if timeout 120 "$fz" -rss_limit_mb="$RSS" "$f" > "$WORK/replay.log" 2>&1; then
		echo "PASS fuzz/replay:$name"
	else
		grep -E -A30 '^FUZZ FAILURE|^==[0-9]+==ERROR' "$WORK/replay.log" | head -30
		echo "FAIL fuzz/replay:$name: $(reason_of "$WORK/replay.log")"
	fi
done

# ---- bounded fuzzing -------------------------------------------------------
# fuzz NAME SECONDS OK-WORDS EXTRA-ARGS...
fuzz() {
	local name=$1 secs=$2 ok=$3
	shift 3
	local corpus=$WORK/corpus-$name log=$WORK/$name.log
	mkdir -p "$corpus" "$WORK/art-$name"
	cp tests/fuzz/corpus/"$name"/* "$corpus"/
	timeout --kill-after=30 $((secs + 300)) "$BIN/fuzz_$name" \
		-max_total_time="$secs" -rss_limit_mb="$RSS" -timeout=30 -print_final_stats=1 \
		-artifact_prefix="$WORK/art-$name/" "$@" "$corpus" > "$log" 2>&1
	local rc=$?
	local runs
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	local speed
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	local cov
	cov=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 | sed -n 's/.*cov: \([0-9]*\) ft: \([0-9]*\).*/\1 edges, \2 features/p')
	local extra
	extra=$(sed -n 's/^fuzz_translate: .* \([0-9]*\) flushes.*/, \1 cache flushes/p' "$log" | tail -1)
	if [ $rc -eq 0 ] && ! grep -q -E '^FUZZ FAILURE|ERROR: (AddressSanitizer|libFuzzer)|runtime error:' "$log"; then
		echo "PASS fuzz/$name: ${runs:-?} runs, $ok (${speed:-?} exec/s, ${cov:-coverage unknown}$extra, ${secs}s)"
		return
	fi
	local kept=""
	for a in "$WORK/art-$name"/*; do
		cp "$a" "$ART/$name-$(basename "$a")"
		kept="$ART/$name-$(basename "$a")"
	done
	grep -E -A80 '^FUZZ FAILURE|^==[0-9]+==ERROR|runtime error:' "$log" | head -100
	echo "FAIL fuzz/$name: $(reason_of "$log")${kept:+ (input: $kept; reproduce: $BIN/fuzz_$name $kept)}"
}

fuzz translate "$TR_SECS" "no rejection" -max_len=8192 -dict=tests/fuzz/translate.dict
fuzz elf "$ELF_SECS" "no violation" -max_len=4096
fuzz control "$CTL_SECS" "no violation" -max_len=4096 -dict=tests/fuzz/control.dict
fuzz state "$CTL_SECS" "no violation" -max_len=1024
fuzz migrate "$CTL_SECS" "no violation" -max_len=65536
exit 0
