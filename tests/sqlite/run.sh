#!/bin/bash
# SQLite workload tests: fetches the SQLite amalgamation (fetch.sh), builds two
# static musl programs and runs each natively and under opsub, comparing stdout
# and exit status:
#   sqlite/workload  workload.c on an in-memory database, built so that SQLite
#                    touches no file at all (temp store in memory, no
#                    /dev/urandom): build/tests/sqlite/workload
#   sqlite/disk      disk.c on a database FILE in a mkdtemp directory under
#                    /tmp, with a rollback journal and real temporary files
#                    (default temp store; reads /dev/urandom):
#                    build/tests/sqlite/disk
#
# Prints one line per test, "PASS sqlite/NAME" or "FAIL sqlite/NAME: why"
# (indented detail lines may follow a FAIL), or a single "FAIL sqlite/fetch:
# why" when the amalgamation cannot be had, and exits 0 once it has printed
# them, as tests/run expects.
#
# Environment: OPSUB   translator to test (default build/opsub)
#              MUSLCC  compiler (default musl-gcc)
#              SQLITE_N workload size passed as argv[1] to workload (default:
#                       its built-in N); disk always uses its 60000 rows
cd "$(dirname "$0")/../.." || exit 2

SRC=tests/sqlite
OUT=build/tests/sqlite
OPSUB=${OPSUB:-build/opsub}
CC=${MUSLCC:-musl-gcc}
TIMEOUT=300

# workload: a sandbox with no files and no threads: no locking or threads,
# temp data in memory, no extension loading, no /dev/urandom
# (SQLITE_OMIT_RANDOMNESS: the PRNG, which the workload never needs, starts
# from a fixed state), no mmap of database files, no WAL (it needs shared
# memory files).
WORKLOAD_DEFS="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_TEMP_STORE=3
 -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_OMIT_RANDOMNESS -DSQLITE_OMIT_WAL
 -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_OMIT_SHARED_CACHE -DSQLITE_OMIT_DEPRECATED
 -DSQLITE_DQS=0 -DSQLITE_LIKE_DOESNT_MATCH_BLOBS
 -DSQLITE_ENABLE_MATH_FUNCTIONS -DSQLITE_ENABLE_FTS5 -DSQLITE_ENABLE_PERCENTILE"
# disk: SQLite's defaults for files: SQLITE_TEMP_STORE unset (temp files on
# disk), randomness from /dev/urandom, the unix VFS with fcntl locks; only
# threads and extension loading are left out.
DISK_DEFS="-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_DEFAULT_MEMSTATUS=0 -DSQLITE_DQS=0"
PROG_CFLAGS="-std=c11 -O2 -Wall -Wextra -Wpedantic -Werror -I$SRC/cache"
LDFLAGS="-static -O2"

# 1. Fetch.
if ! err=$("$SRC/fetch.sh" 2>&1); then
	echo "FAIL sqlite/fetch: $(echo "$err" | grep -m1 . | sed 's/^fetch\.sh: //')"
	exit 0
fi

newer() { # newer TARGET SRC...: true when TARGET is missing or older than a SRC
	local t=$1 s; shift
	[ -e "$t" ] || return 0
	for s in "$@"; do [ "$s" -nt "$t" ] && return 0; done
	return 1
}

# test_one NAME DEFS ARGS...: builds $OUT/NAME from $SRC/NAME.c and an
# sqlite3 object built with DEFS, runs it natively and under opsub, prints
# one verdict line.  Run in a subshell: fail() exits it.
test_one() {
	local name=$1 defs=$2
	shift 2
	local bin=$OUT/$name sqlo=$OUT/sqlite3.o progo=$OUT/$name.o stampf=$OUT/flags
	# The workload keeps the file names it always had; others get their own.
	if [ "$name" != workload ]; then
		sqlo=$OUT/sqlite3-$name.o
		stampf=$OUT/$name.flags
	fi
	local sqlite_cflags="-O2 -w $defs"                  # third-party code: no warnings
	fail() { # fail REASON [DETAIL-FILE...]
		echo "FAIL sqlite/$name: $1"
		shift
		for f in "$@"; do [ -s "$f" ] && tail -n 15 "$f" | sed 's/^/    /'; done
		exit 0
	}

	# Build (only what is out of date; a change of compiler or flags rebuilds all).
	command -v "$CC" >/dev/null || fail "$CC not found (apt-get install musl-tools)"
	mkdir -p "$OUT" || fail "cannot create $OUT"
	local stamp
	stamp="$CC $("$CC" -dumpversion 2>/dev/null) | $sqlite_cflags | $PROG_CFLAGS | $LDFLAGS"
	stamp=$(echo "$stamp" | tr -s ' \n' '  ')
	if [ "$(cat "$stampf" 2>/dev/null)" != "$stamp" ]; then
		rm -f "$sqlo" "$progo" "$bin"
	fi
	local log=$OUT/$name.build.log
	[ "$name" = workload ] && log=$OUT/build.log
	: >"$log"
	if newer "$sqlo" "$SRC/cache/sqlite3.c" "$SRC/cache/sqlite3.h"; then
		# shellcheck disable=SC2086
		if ! { "$CC" $sqlite_cflags -c "$SRC/cache/sqlite3.c" -o "$sqlo.tmp" >>"$log" 2>&1 &&
			mv -f "$sqlo.tmp" "$sqlo"; }; then
			fail "building sqlite3.c failed (see $log)" "$log"
		fi
	fi
	if newer "$progo" "$SRC/$name.c" "$SRC/cache/sqlite3.h"; then
		# shellcheck disable=SC2086
		if ! { "$CC" $PROG_CFLAGS -c "$SRC/$name.c" -o "$progo.tmp" >>"$log" 2>&1 &&
			mv -f "$progo.tmp" "$progo"; }; then
			fail "building $name.c failed (see $log)" "$log"
		fi
	fi
	if newer "$bin" "$progo" "$sqlo"; then
		# shellcheck disable=SC2086
		if ! { "$CC" $LDFLAGS -o "$bin.tmp" "$progo" "$sqlo" -lm >>"$log" 2>&1 &&
			mv -f "$bin.tmp" "$bin"; }; then
			fail "linking $name failed (see $log)" "$log"
		fi
	fi
	echo "$stamp" >"$stampf"

	# Output files: the workload keeps its historical names.
	local pre=$OUT/$name.
	[ "$name" = workload ] && pre=$OUT/

	# Native reference run.
	timeout "$TIMEOUT" "$bin" "$@" >"${pre}native.out" 2>"${pre}native.err"
	local nrc=$?
	[ $nrc -eq 124 ] && fail "native run timed out after ${TIMEOUT}s"
	[ $nrc -eq 0 ] || fail "native run exited with status $nrc (the program itself fails)" "${pre}native.err"

	# The same under opsub.
	command -v "$OPSUB" >/dev/null 2>&1 || fail "$OPSUB is missing (build it with make)"
	timeout "$TIMEOUT" "$OPSUB" run "$bin" "$@" >"${pre}opsub.out" 2>"${pre}opsub.err"
	local orc=$?
	[ $orc -eq 124 ] && fail "timed out after ${TIMEOUT}s under opsub" "${pre}opsub.err"
	if [ $orc -ne $nrc ]; then
		fail "exit status $orc under opsub, $nrc natively" "${pre}opsub.err"
	fi
	if ! cmp -s "${pre}native.out" "${pre}opsub.out"; then
		local nl ol first
		nl=$(wc -l <"${pre}native.out") ol=$(wc -l <"${pre}opsub.out")
		first=$(diff "${pre}native.out" "${pre}opsub.out" | grep -m1 -E '^[0-9]')
		diff "${pre}native.out" "${pre}opsub.out" | head -n 20 >"${pre}diff.txt"
		fail "stdout differs from native ($nl vs $ol lines, first change $first; see ${pre}{native,opsub}.out)" "${pre}diff.txt"
	fi
	echo "PASS sqlite/$name"
}

args=()
[ -n "${SQLITE_N:-}" ] && args=("$SQLITE_N")
(test_one workload "$WORKLOAD_DEFS" "${args[@]}")
(test_one disk "$DISK_DEFS")
exit 0
