#!/bin/bash
# SQLite workload test: fetches the SQLite amalgamation (fetch.sh), builds
# build/tests/sqlite/workload (a static musl program: workload.c + sqlite3.c),
# runs it natively and under opsub, and compares stdout and exit status.
#
# Prints exactly one line, "PASS sqlite/workload" or "FAIL sqlite/...: why"
# (indented detail lines may follow a FAIL), and exits 0 once it has printed
# it, as tests/run expects.
#
# Environment: OPSUB   translator to test (default build/opsub)
#              MUSLCC  compiler (default musl-gcc)
#              SQLITE_N workload size passed as argv[1] (default: the built-in N)
cd "$(dirname "$0")/../.." || exit 2

NAME=sqlite/workload
SRC=tests/sqlite
OUT=build/tests/sqlite
BIN=$OUT/workload
OPSUB=${OPSUB:-build/opsub}
CC=${MUSLCC:-musl-gcc}
TIMEOUT=300

# A sandbox with no files and no threads: no locking or threads, temp data in
# memory, no extension loading, no /dev/urandom (SQLITE_OMIT_RANDOMNESS: the
# PRNG, which the workload never needs, starts from a fixed state), no mmap
# of database files, no WAL (it needs shared memory files).
SQLITE_DEFS="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_TEMP_STORE=3
 -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_RANDOMNESS -DSQLITE_OMIT_WAL
 -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_DEPRECATED
 -DSQLITE_DQS=0 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS
 -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_PERCENTILE"
SQLITE_CFLAGS="-O2 -w $SQLITE_DEFS"                  # third-party code: no warnings
WORKLOAD_CFLAGS="-std=c11 -O2 -Wall -Wextra -Wpedantic -Werror -I$SRC/cache"
LDFLAGS="-static -O2"

fail() { # fail WHAT REASON [DETAIL-FILE...]
	echo "FAIL sqlite/$1: $2"
	shift 2
	for f in "$@"; do [ -s "$f" ] && tail -n 15 "$f" | sed 's/^/    /'; done
	exit 0
}

# 1. Fetch.
if ! err=$("$SRC/fetch.sh" 2>&1); then
	fail fetch "$(echo "$err" | grep -m1 . | sed 's/^fetch\.sh: //')"
fi

# 2. Build (only what is out of date; a change of compiler or flags rebuilds all).
command -v "$CC" >/dev/null || fail workload "$CC not found (apt-get install musl-tools)"
mkdir -p "$OUT" || fail workload "cannot create $OUT"
stamp="$CC $("$CC" -dumpversion 2>/dev/null) | $SQLITE_CFLAGS | $WORKLOAD_CFLAGS | $LDFLAGS"
stamp=$(echo "$stamp" | tr -s ' \n' '  ')
if [ "$(cat "$OUT/flags" 2>/dev/null)" != "$stamp" ]; then
	rm -f "$OUT/sqlite3.o" "$OUT/workload.o" "$BIN"
fi
newer() { # newer TARGET SRC...: true when TARGET is missing or older than a SRC
	local t=$1 s; shift
	[ -e "$t" ] || return 0
	for s in "$@"; do [ "$s" -nt "$t" ] && return 0; done
	return 1
}
log=$OUT/build.log
: >"$log"
if newer "$OUT/sqlite3.o" "$SRC/cache/sqlite3.c" "$SRC/cache/sqlite3.h"; then
	# shellcheck disable=SC2086
	if ! { "$CC" $SQLITE_CFLAGS -c "$SRC/cache/sqlite3.c" -o "$OUT/sqlite3.o.tmp" >>"$log" 2>&1 &&
		mv -f "$OUT/sqlite3.o.tmp" "$OUT/sqlite3.o"; }; then
		fail workload "building sqlite3.c failed (see $log)" "$log"
	fi
fi
if newer "$OUT/workload.o" "$SRC/workload.c" "$SRC/cache/sqlite3.h"; then
	# shellcheck disable=SC2086
	if ! { "$CC" $WORKLOAD_CFLAGS -c "$SRC/workload.c" -o "$OUT/workload.o.tmp" >>"$log" 2>&1 &&
		mv -f "$OUT/workload.o.tmp" "$OUT/workload.o"; }; then
		fail workload "building workload.c failed (see $log)" "$log"
	fi
fi
if newer "$BIN" "$OUT/workload.o" "$OUT/sqlite3.o"; then
	# shellcheck disable=SC2086
	if ! { "$CC" $LDFLAGS -o "$BIN.tmp" "$OUT/workload.o" "$OUT/sqlite3.o" -lm >>"$log" 2>&1 &&
		mv -f "$BIN.tmp" "$BIN"; }; then
		fail workload "linking the workload failed (see $log)" "$log"
	fi
fi
echo "$stamp" >"$OUT/flags"

args=()
[ -n "${SQLITE_N:-}" ] && args=("$SQLITE_N")

# 3. Native reference run.
timeout "$TIMEOUT" "$BIN" "${args[@]}" >"$OUT/native.out" 2>"$OUT/native.err"
nrc=$?
[ $nrc -eq 124 ] && fail workload "native run timed out after ${TIMEOUT}s"
[ $nrc -eq 0 ] || fail workload "native run exited with status $nrc (the workload itself fails)" "$OUT/native.err"

# 4. The same under opsub.
command -v "$OPSUB" >/dev/null 2>&1 || fail workload "$OPSUB is missing (build it with make)"
timeout "$TIMEOUT" "$OPSUB" run "$BIN" "${args[@]}" >"$OUT/opsub.out" 2>"$OUT/opsub.err"
orc=$?
[ $orc -eq 124 ] && fail workload "timed out after ${TIMEOUT}s under opsub" "$OUT/opsub.err"
if [ $orc -ne $nrc ]; then
	fail workload "exit status $orc under opsub, $nrc natively" "$OUT/opsub.err"
fi
if ! cmp -s "$OUT/native.out" "$OUT/opsub.out"; then
	nl=$(wc -l <"$OUT/native.out") ol=$(wc -l <"$OUT/opsub.out")
	first=$(diff "$OUT/native.out" "$OUT/opsub.out" | grep -m1 -E '^[0-9]')
	diff "$OUT/native.out" "$OUT/opsub.out" | head -n 20 >"$OUT/diff.txt"
	fail workload "stdout differs from native ($nl vs $ol lines, first change $first; see $OUT/{native,opsub}.out)" "$OUT/diff.txt"
fi
echo "PASS $NAME"
