#!/bin/bash
# Transparency suite: every tests/transparency/progs/*.c is built with musl-gcc
# -static at -O0, -O2 and -O3, once as -static-pie -O2, once as musl-gcc -O2
# dynamically linked (mdyn), and with the system's compiler and C library
# twice: gcc -static -O2 (glibc) and gcc -O2 dynamically linked (dyn); every
# *.cc (C++, which musl-gcc cannot build) with g++ in those two ways only.
# The dynamically linked ones run with --host-libs.  Each is run natively and
# as "$OPSUB run BINARY ARGS" with the same arguments and stdin; stdout and the
# exit status must match byte for byte.  Prints one line per binary:
#   PASS transparency/NAME.VARIANT
#   FAIL transparency/NAME.VARIANT: <what differs>
#
# Usage: tests/transparency/run.sh [NAME | NAME.VARIANT ...]   (default: all)
# Environment:
#   OPSUB                 translator to test (default build/opsub)
#   MUSLCC                compiler (default musl-gcc)
#   GLIBCCC, GLIBCXX      compilers of the glibc and dyn variants (default gcc, g++)
#   TRANSPARENCY_JOBS     binaries handled in parallel (default 2)
#   TRANSPARENCY_TIMEOUT  seconds per run, native and opsub each (default 120)
#
# Per-program directives, read from the first 40 lines of each source:
#   // cflags: FLAGS        extra compiler flags for every build of the file
#   // args: ARGS           arguments (shell-like quoting, no expansion)
#   // stdin: FILE          stdin, relative to progs/ (default /dev/null)
#   // variants: V...       subset of O0 O2 O3 pie mdyn glibc dyn to build (default all seven)
#   // stats: NAME >= N     opsub runs it with --stats, and its "NAME" figure must be at
#                           least N (a translator feature the program exists to exercise
#                           must have been used, or its test proves nothing)
# Builds and outputs live in build/tests/transparency/ (NAME.VARIANT, plus
# .native.out/.opsub.out/.native.err/.opsub.err/.log for inspection).

set -u
cd "$(dirname "$0")/../.." || exit 2

OPSUB=${OPSUB:-build/opsub}
MUSLCC=${MUSLCC:-musl-gcc}
GLIBCCC=${GLIBCCC:-gcc}
GLIBCXX=${GLIBCXX:-g++}
JOBS=${TRANSPARENCY_JOBS:-2}
TIMEOUT=${TRANSPARENCY_TIMEOUT:-120}
SRCDIR=tests/transparency/progs
OUT=build/tests/transparency
SELF=tests/transparency/run.sh
BASEFLAGS="-std=gnu11 -Wall -Wextra"

if [ ! -x "$OPSUB" ]; then
	echo "FAIL transparency: $OPSUB is missing or not executable (build it first: make)"
	exit 0
fi
if ! command -v "$MUSLCC" >/dev/null 2>&1; then
	echo "FAIL transparency: $MUSLCC not found (install musl-tools)"
	exit 0
fi
mkdir -p "$OUT" || exit 2

# Static-PIE: Debian's musl-gcc specs do not handle -static-pie (they produce a
# dynamically linked PIE), so link by hand: musl's rcrt1.o self-relocates.
MUSLLIB=$(echo 'int main(void){return 0;}' | "$MUSLCC" -static -v -x c - -o /dev/null 2>&1 |
	grep -o '[^ ]*/crti\.o' | head -n 1)
MUSLLIB=${MUSLLIB%/crti.o}
CRTBEGIN_S=$("$MUSLCC" -print-file-name=crtbeginS.o)
CRTEND_S=$("$MUSLCC" -print-file-name=crtendS.o)
if [ -z "$MUSLLIB" ] || [ ! -f "$MUSLLIB/rcrt1.o" ]; then
	echo "FAIL transparency: cannot find musl's rcrt1.o (needed for -static-pie builds)"
	exit 0
fi

directive() { # FILE KEY -> value of "// KEY: value" in the first 40 lines
	sed -n "1,40{s|^// $2:[[:space:]]*||p;}" "$1" | head -n 1
}

# build SRC VARIANT BIN: compiles unless BIN is newer than SRC and this script.
build() {
	local src=$1 v=$2 bin=$3 cflags
	if [ "$bin" -nt "$src" ] && [ "$bin" -nt "$SELF" ]; then
		return 0
	fi
	cflags=$(directive "$src" cflags)
	local -a cmd
	case $v in
	O0 | O2 | O3) # non-PIE code too (absolute addresses, absolute jump tables), whatever the compiler's default
		cmd=("$MUSLCC" $BASEFLAGS -static -fno-pie -no-pie "-$v" $cflags -o "$bin.tmp" "$src") ;;
	mdyn) # musl-gcc's default: a PIE whose interpreter is musl's libc.so
		cmd=("$MUSLCC" $BASEFLAGS -O2 $cflags -o "$bin.tmp" "$src") ;;
	glibc | dyn) # what most users build with: glibc's start-up (IFUNCs, TLS, $ORIGIN) and string routines; dyn: through ld.so
		local link=-static
		[ "$v" = dyn ] && link=
		if [[ $src == *.cc ]]; then
			cmd=("$GLIBCXX" -std=gnu++17 -Wall -Wextra $link -O2 $cflags -o "$bin.tmp" "$src")
		else
			cmd=("$GLIBCCC" $BASEFLAGS $link -O2 $cflags -o "$bin.tmp" "$src" -lm)   # libm apart from libc, unlike musl
		fi ;;
	pie)
		if [[ " $cflags " == *" -nostdlib "* ]]; then
			cmd=("$MUSLCC" $BASEFLAGS -O2 -fPIE $cflags -static -Wl,-pie -Wl,--no-dynamic-linker -Wl,-z,text
				-o "$bin.tmp" "$src")
		else
			cmd=("$MUSLCC" $BASEFLAGS -O2 -fPIE $cflags -static -Wl,-pie -Wl,--no-dynamic-linker -Wl,-z,text
				-nostartfiles "$MUSLLIB/rcrt1.o" "$MUSLLIB/crti.o" "$CRTBEGIN_S" "$src" "$CRTEND_S" "$MUSLLIB/crtn.o"
				-o "$bin.tmp")
		fi ;;
	*)
		echo "unknown variant $v" >"$bin.log"
		return 1 ;;
	esac
	if LC_ALL=C "${cmd[@]}" >"$bin.log" 2>&1; then
		mv -f "$bin.tmp" "$bin"
	else
		rm -f "$bin.tmp"
		return 1
	fi
}

# Prints the first difference between two stdout captures, on one line.
describe_diff() { # NATIVE OPSUB
	awk -v max=60 '
	function clip(s) { gsub(/[^[:print:]]/, "?", s); return length(s) > max ? substr(s, 1, max) "..." : s }
	FILENAME == ARGV[1] { a[FNR] = $0; na = FNR; next }
	{ nb = FNR; if (!found && (FNR > na || a[FNR] != $0)) { found = FNR; line = $0 } }
	END {
		if (!found && nb == 0)
			printf "opsub stdout is empty (native wrote %d lines)", na
		else if (!found && nb < na)
			printf "opsub stdout stops after line %d of %d (next native line %c%s%c)", nb, na, 39, clip(a[nb + 1]), 39
		else if (!found)
			printf "stdout differs only in bytes after the last newline"
		else if (found > na)
			printf "opsub stdout has extra lines from line %d: %c%s%c", found, 39, clip(line), 39
		else
			printf "stdout differs at line %d: native %c%s%c, opsub %c%s%c", found, 39, clip(a[found]), 39, 39, clip(line), 39
	}' "$1" "$2"
}

status_str() { # 139 -> "139 (SIGSEGV)"
	local sig
	if [ "$1" -gt 128 ] && [ "$1" -le 192 ] && sig=$(kill -l $(($1 - 128)) 2>/dev/null); then
		echo "$1 (SIG$sig)"
	else
		echo "$1"
	fi
}

first_line() { # FILE -> first non-empty line, clipped and made printable
	grep -m 1 -v '^[[:space:]]*$' "$1" 2>/dev/null | cut -c 1-100 | tr -d '\n' | tr -c '[:print:]' '?'
}

# run_one NAME VARIANT: prints exactly one PASS/FAIL line.
run_one() {
	local name=$1 v=$2 src=$SRCDIR/$1.c bin=$OUT/$1.$2 label="transparency/$1.$2"
	[ -f "$src" ] || src=$SRCDIR/$1.cc
	if ! build "$src" "$v" "$bin"; then
		echo "FAIL $label: build failed: $(grep -m 1 -E 'error|Error|undefined' "$bin.log" | cut -c 1-150 | tr -d '\n' | tr -c '[:print:]' '?')"
		return
	fi
	local argline stdin in
	argline=$(directive "$src" args)
	stdin=$(directive "$src" stdin)
	in=/dev/null
	[ -n "$stdin" ] && in=$SRCDIR/$stdin
	if [ ! -r "$in" ]; then
		echo "FAIL $label: stdin file $in is missing"
		return
	fi
	local -a args=()
	if [ -n "$argline" ] && ! mapfile -d '' args < <(printf '%s' "$argline" | xargs -r printf '%s\0'); then
		echo "FAIL $label: cannot parse '// args:' line"
		return
	fi
	export OPSUB_TRANSPARENCY_VAR=hello-from-runner
	local nrc orc t0 ntime otime
	# The braces keep bash's "Segmentation fault"-style job reports off our output.
	t0=$SECONDS
	{ timeout -k 5 "$TIMEOUT" "$bin" "${args[@]}" <"$in" >"$bin.native.out" 2>"$bin.native.err"; } 2>/dev/null
	nrc=$?
	ntime=$((SECONDS - t0))
	t0=$SECONDS
	local -a run_opts=()
	[ "$v" = dyn ] || [ "$v" = mdyn ] && run_opts=(--host-libs)   # its interpreter and libraries
	local stats
	stats=$(directive "$src" stats)
	[ -n "$stats" ] && run_opts+=(--stats)
	{ timeout -k 5 "$TIMEOUT" "$OPSUB" run "${run_opts[@]}" "$bin" "${args[@]}" <"$in" >"$bin.opsub.out" 2>"$bin.opsub.err"; } 2>/dev/null
	orc=$?
	otime=$((SECONDS - t0))
	if [ "$nrc" -eq 124 ] && [ "$ntime" -ge "$TIMEOUT" ]; then
		echo "FAIL $label: native run timed out after ${TIMEOUT}s (test program bug)"
		return
	fi
	local same_out=1 reasons=""
	cmp -s "$bin.native.out" "$bin.opsub.out" || same_out=0
	if [ -n "$stats" ]; then
		local stat_name=${stats% >= *} stat_min=${stats##* >= } got
		got=$(sed -n "s/^  $stat_name  *\([0-9][0-9]*\).*/\1/p" "$bin.opsub.err" | head -n 1)
		if [ -z "$got" ] || [ "$got" -lt "$stat_min" ]; then
			echo "FAIL $label: --stats gives $stat_name ${got:-(none)}, expected at least $stat_min"
			return
		fi
	fi
	if [ "$same_out" -eq 1 ] && [ "$nrc" -eq "$orc" ]; then
		echo "PASS $label"
		return
	fi
	if { [ "$orc" -eq 124 ] || [ "$orc" -eq 137 ]; } && [ "$otime" -ge "$TIMEOUT" ]; then
		reasons="opsub timed out after ${TIMEOUT}s (status $orc, native $nrc)"
	elif [ "$nrc" -ne "$orc" ]; then
		reasons="exit status native $(status_str "$nrc"), opsub $(status_str "$orc")"
	fi
	if [ "$same_out" -eq 0 ]; then
		[ -n "$reasons" ] && reasons="$reasons; "
		reasons="$reasons$(describe_diff "$bin.native.out" "$bin.opsub.out")"
	fi
	local err
	err=$(first_line "$bin.opsub.err")
	[ -n "$err" ] && reasons="$reasons; opsub stderr: $err"
	echo "FAIL $label: $reasons"
}

# The work list: NAME VARIANT pairs, in source order.
names=() variants=()
for src in "$SRCDIR"/*.c "$SRCDIR"/*.cc; do
	name=$(basename "$src")
	name=${name%.*}
	vs=$(directive "$src" variants)
	[[ $src == *.cc ]] && vs="glibc dyn"
	for v in ${vs:-O0 O2 O3 pie mdyn glibc dyn}; do
		keep=1
		if [ $# -gt 0 ]; then
			keep=0
			for want in "$@"; do
				[ "$want" = "$name" ] || [ "$want" = "$name.$v" ] && keep=1
			done
		fi
		[ $keep -eq 1 ] && names+=("$name") && variants+=("$v")
	done
done
if [ ${#names[@]} -eq 0 ]; then
	echo "FAIL transparency: no test matches: $*"
	exit 0
fi

# Run up to $JOBS tasks at once; print results in list order as they complete.
RES=$(mktemp -d "$OUT/results.XXXXXX") || exit 2
trap 'rm -rf "$RES"' EXIT
trap 'kill $(jobs -p) 2>/dev/null; exit 130' INT TERM
next=0
flush() {
	while [ $next -lt ${#names[@]} ] && [ -f "$RES/$next.done" ]; do
		cat "$RES/$next"
		next=$((next + 1))
	done
}
for i in "${!names[@]}"; do
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
		flush
	done
	(run_one "${names[$i]}" "${variants[$i]}" >"$RES/$i" 2>&1; touch "$RES/$i.done") &
	flush
done
while [ "$(jobs -rp | wc -l)" -gt 0 ]; do
	wait -n
	flush
done
wait
flush
# A task that died without finishing (a bug in this script) still gets its line.
while [ $next -lt ${#names[@]} ]; do
	echo "FAIL transparency/${names[$next]}.${variants[$next]}: runner error: $(head -c 200 "$RES/$next" 2>/dev/null | tr -d '\n' | tr -c '[:print:]' '?')"
	next=$((next + 1))
done
exit 0
