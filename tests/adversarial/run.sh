#!/usr/bin/env bash
# Adversarial suite: every tests/adversarial/attacks/*.c is an attack on
# opsub's confinement.  Each is built with musl-gcc -static, run natively
# (where it must be shown to work, so that the test could fail) and under
# opsub (where it must not).  See tests/adversarial/README.md.
# A native proof that needs a host property this host lacks (see
# tests/hostprops.c) is not attempted: the attack still runs under opsub and
# its line is "SKIP ...: native proof impossible on this host: PROP (...)",
# or FAIL if the opsub run fails.
#
#   tests/adversarial/run.sh [NAME...]      (run from anywhere)
#
# Environment:
#   OPSUB          opsub binary (default build/opsub)
#   ADV_TIMEOUT    seconds per run (default 30)
#   ADV_JOBS       attacks run in parallel (default 2)
#   ADV_KEEP=1     keep the temporary directory with every run's output
#   OPSUB_HOST_HIDE=name,...  (test only) run as if this host lacked these
#                  properties: the probe reports them missing, opsub gets
#                  the names it knows
#
# Per-attack directives, as comment lines at the top of the source:
#   // cflags: FLAGS          extra compiler flags
#   // build: static-pie      build as a static PIE (native addresses above 4 GiB)
#   // build: interp-self     a static PIE whose PT_INTERP names its own host path:
#                             natively the kernel starts it as its own interpreter
#   // opsub: refused TEXT    opsub must refuse to start it: exit 2 with TEXT in
#                             its "opsub: " message (default: it starts)
#   // opsub: faults TEXT     the guest must end in a guest fault whose report
#                             holds TEXT (what the user is told to do)
#   // native: escapes        (default) the native run prints ESCAPED or creates argv[1]
#   // native: faults         the native run is killed by a signal
#   // native: completes      the native run exits 0 after printing DONE
#   // native: runs           the native run ends by itself (exit or signal)
#   // stdin: hostaddr        stdin gets "self" (native) or "DATA CODE RW" of opsub's
#                             own memory (opsub run), then padding
#   // stdin: hex BYTES       stdin gets these bytes in both runs
#   // variants: A B ...      one run pair per variant, the variant is argv[2]
#   // native-needs: [VARIANT=]PROP[,PROP] ...
#                             host properties (tests/hostprops.c) the native
#                             proof needs: for every variant, or for VARIANT
set -u
cd "$(dirname "$(readlink -f "$0")")/../.." || exit 2

OPSUB=${OPSUB:-build/opsub}
TO=${ADV_TIMEOUT:-30}
JOBS=${ADV_JOBS:-2}
SRC_DIR=tests/adversarial/attacks
OUT_DIR=build/tests/adversarial
MUSL=/usr/lib/x86_64-linux-musl
GCCLIB=$(dirname "$(gcc -print-libgcc-file-name)")

if [[ ! -x $OPSUB ]]; then
	echo "FAIL adversarial: $OPSUB is missing (run make first)"
	exit 2
fi
OPSUB_REAL=$(readlink -f "$OPSUB")
command -v musl-gcc >/dev/null || { echo "FAIL adversarial: musl-gcc is missing"; exit 2; }

# What this host can prove natively (probed once; honours OPSUB_HOST_HIDE).
source tests/hostprops.sh
if ! hostprops_load; then
	echo "FAIL adversarial: host property probe: $HOSTPROPS_ERR"
	exit 2
fi
if [[ -n ${OPSUB_HOST_HIDE:-} ]]; then
	echo "adversarial: as if this host lacked: $OPSUB_HOST_HIDE"
fi

TMP=$(mktemp -d /tmp/opsub-adversarial.XXXXXX)
cleanup() {
	if [[ ${ADV_KEEP:-0} == 1 ]]; then echo "outputs kept in $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
mkdir -p "$OUT_DIR" "$TMP/results"

directive() {   # directive FILE KEY -> value of "// KEY: value" (first one)
	sed -n "s|^// $2: *||p" "$1" | head -n1
}

# needs_for SRC VARIANT -> the host properties the native proof of VARIANT
# needs ("// native-needs:" items without a VARIANT= prefix apply to every
# variant); status 1 with a message when a prefix names no variant.
needs_for() {
	local src=$1 var=$2 item v out="" vars
	vars=" $(directive "$src" variants) "
	for item in $(directive "$src" native-needs); do
		if [[ $item == *=* ]]; then
			v=${item%%=*}
			[[ $vars == *" $v "* ]] || { echo "'$v' is no variant of this attack"; return 1; }
			[[ $v == "$var" ]] || continue
			item=${item#*=}
		fi
		out+=" ${item//,/ }"
	done
	echo "${out# }"
}

# ---- build ------------------------------------------------------------------

build_one() {   # build_one SRC -> prints an error line on failure
	local src=$1 name out flags kind
	name=$(basename "$src" .c)
	out=$OUT_DIR/$name
	flags=$(directive "$src" cflags)
	kind=$(directive "$src" build)
	[[ $out -nt $src && $out -nt tests/adversarial/include/attack.h && $out -nt $0 ]] && return 0
	local log=$TMP/build.$name.log
	if [[ $kind == static-pie || $kind == interp-self ]]; then
		local interp=--no-dynamic-linker
		[[ $kind == interp-self ]] && interp=--dynamic-linker=$(readlink -f "$OUT_DIR")/$name
		# shellcheck disable=SC2086
		musl-gcc -fPIE -O1 -Itests/adversarial/include $flags -nostartfiles -static-pie \
			-Wl,-Bstatic -Wl,"$interp" -o "$out" \
			"$MUSL/rcrt1.o" "$MUSL/crti.o" "$GCCLIB/crtbeginS.o" "$src" \
			"$GCCLIB/crtendS.o" "$MUSL/crtn.o" >"$log" 2>&1
	else
		# shellcheck disable=SC2086
		musl-gcc -static -O1 -Itests/adversarial/include $flags -o "$out" "$src" >"$log" 2>&1
	fi || { echo "FAIL adversarial/$name: does not build: $(head -n3 "$log" | tr '\n' ' ')"; return 1; }
}

# ---- one run ------------------------------------------------------------------

padding() { head -c 16384 /dev/zero | tr '\0' 'P'; }

# native_run BIN FILE VARIANT STDINMODE STDINARG DIR -> rc; output in DIR/native.{out,err}
native_run() {
	local bin=$1 file=$2 var=$3 mode=$4 arg=$5 dir=$6
	local args=("$file")
	[[ -n $var ]] && args+=("$var")
	case $mode in
	hostaddr) { echo self; padding; } | timeout "$TO" "$bin" "${args[@]}" >"$dir/native.out" 2>"$dir/native.err" ;;
	hex)      timeout "$TO" "$bin" "${args[@]}" <"$arg" >"$dir/native.out" 2>"$dir/native.err" ;;
	*)        timeout "$TO" "$bin" "${args[@]}" </dev/null >"$dir/native.out" 2>"$dir/native.err" ;;
	esac
}

# opsub_run BIN FILE VARIANT STDINMODE STDINARG DIR -> rc (124 on timeout)
opsub_run() {
	local bin=$1 file=$2 var=$3 mode=$4 arg=$5 dir=$6
	local args=("$file")
	[[ -n $var ]] && args+=("$var")
	case $mode in
	hostaddr) opsub_hostaddr "$bin" "$dir" "${args[@]}" ;;
	hex)      timeout "$TO" "$OPSUB" run "$bin" "${args[@]}" <"$arg" >"$dir/opsub.out" 2>"$dir/opsub.err" ;;
	*)        timeout "$TO" "$OPSUB" run "$bin" "${args[@]}" </dev/null >"$dir/opsub.out" 2>"$dir/opsub.err" ;;
	esac
}

# Starts opsub on a fifo, reads its /proc/PID/maps, and writes to the
# guest's stdin the address of opsub's ELF header (its first r-- mapping),
# of its first executable mapping and of its first writable mapping.
opsub_hostaddr() {
	local bin=$1 dir=$2
	shift 2
	local fifo=$dir/stdin.fifo wfd pid i data code rw rc
	mkfifo "$fifo"
	exec {wfd}<>"$fifo"
	( exec {wfd}>&-; exec "$OPSUB_REAL" run "$bin" "$@" <"$fifo" >"$dir/opsub.out" 2>"$dir/opsub.err" ) &
	pid=$!
	# /proc/PID/exe names opsub as soon as execve has swapped the memory
	# map, before the kernel has mapped opsub's segments: wait for those
	for ((i = 0; i < 3000; i++)); do   # up to 30 s: a loaded 2-core host is slow to exec
		if [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$OPSUB_REAL" ]]; then
			cat "/proc/$pid/maps" >"$dir/maps" 2>/dev/null
			data=$(awk -v p="$OPSUB_REAL" '$6 == p && $3 == "00000000" { split($1, a, "-"); print a[1]; exit }' "$dir/maps")
			code=$(awk -v p="$OPSUB_REAL" '$6 == p && $2 ~ /x/ { split($1, a, "-"); print a[1]; exit }' "$dir/maps")
			rw=$(awk -v p="$OPSUB_REAL" '$6 == p && $2 ~ /^rw/ { split($1, a, "-"); print a[1]; exit }' "$dir/maps")
			[[ -n $data && -n $code && -n $rw ]] && break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.01
	done
	echo "$data $code $rw" >"$dir/targets"
	# we hold the fifo open for reading too, so this never blocks or breaks
	{ echo "${data:-0} ${code:-0} ${rw:-0}"; padding; } >&"$wfd"
	exec {wfd}>&-
	local ticks=$((TO * 20)) t
	for ((t = 0; t < ticks; t++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		return 124
	fi
	wait "$pid"
	rc=$?
	return $rc
}

# check_one SRC VARIANT -> writes the PASS/FAIL/SKIP line
check_one() {
	local src=$1 var=$2 name bin label dir mode arg native nrc orc why=""
	name=$(basename "$src" .c)
	bin=$OUT_DIR/$name
	label=adversarial/$name${var:+/$var}
	dir=$TMP/run/$name${var:+.$var}
	mkdir -p "$dir"
	native=$(directive "$src" native)
	native=${native:-escapes}
	local refusal="" fault_text="" said
	said=$(directive "$src" opsub)
	case $said in
	refused\ *) refusal=${said#refused } ;;
	faults\ *) fault_text=${said#faults } ;;
	?*) why="unknown opsub directive '$said'" ;;
	esac
	mode=$(directive "$src" stdin)
	arg=""
	if [[ $mode == hex* ]]; then
		arg=$dir/stdin.bin
		xxd -r -p <<<"${mode#hex}" >"$arg"
		mode=hex
	fi

	# (a) native: the attack must be shown to work -- unless this host lacks
	# a property the proof needs: then it is not attempted (it would fail
	# for the host's sake and prove nothing) and (b) alone decides
	local needs missing="" missing_names="" p
	if ! needs=$(needs_for "$src" "$var"); then
		why="bad native-needs directive: $needs"
	elif [[ -n $needs ]]; then
		# shellcheck disable=SC2086  # one argument per property
		missing=$(hostprops_missing $needs)
		case $? in
		1) for p in $needs; do [[ ${HOSTPROP_STATE[$p]} == yes ]] || missing_names+=" $p"; done ;;
		2) why="bad native-needs directive: $missing"; missing="" ;;
		esac
	fi
	if [[ -n $missing || -n $why ]]; then
		native=skipped
		: >"$dir/native.err"
	else
		native_run "$bin" "$dir/native-file" "$var" "$mode" "$arg" "$dir"
		nrc=$?
	fi
	case $native in
	skipped) ;;
	escapes)
		if ! grep -q '^ESCAPED' "$dir/native.out" && [[ ! -e $dir/native-file && ! -L $dir/native-file ]]; then
			why="native proof failed: no ESCAPED and no file natively (rc $nrc)"
		fi ;;
	faults)
		if ((nrc < 128 || nrc == 124)); then why="native proof failed: expected a fault natively, rc $nrc"; fi ;;
	completes)
		if ((nrc != 0)) || ! grep -q '^DONE' "$dir/native.out"; then
			why="native proof failed: expected DONE and exit 0 natively, rc $nrc"
		fi ;;
	runs)
		if ((nrc == 124)); then why="native run hung"; fi ;;
	*) why="unknown native directive '$native'" ;;
	esac

	# (b) opsub: the attack must not work, and opsub must stay whole
	opsub_run "$bin" "$dir/opsub-file" "$var" "$mode" "$arg" "$dir"
	orc=$?
	local errs=()
	if [[ $mode == hostaddr ]] && ! grep -q '^[0-9a-f]\+ [0-9a-f]\+ [0-9a-f]\+$' "$dir/targets" 2>/dev/null; then
		errs+=("could not find opsub's own mappings in /proc/PID/maps")
	fi
	grep -q '^ESCAPED' "$dir/opsub.out" && errs+=("ESCAPED under opsub: $(grep -m1 '^ESCAPED' "$dir/opsub.out" | cut -c1-160)")
	[[ -e $dir/opsub-file || -L $dir/opsub-file ]] && errs+=("the file was created on the host under opsub")
	grep -q 'opsub: internal error' "$dir/opsub.err" && errs+=("$(grep -m1 'opsub: internal error' "$dir/opsub.err" | cut -c1-200)")
	if ((orc == 124)); then
		errs+=("opsub hung (no exit within ${TO}s)")
	elif ((orc >= 128)) && ! grep -q -e '^opsub: guest fault:' -e '^opsub: guest terminated by signal' "$dir/opsub.err"; then
		errs+=("opsub died (rc $orc) without reporting a guest fault")
	elif [[ -n $refusal ]]; then
		((orc == 2)) && grep -q "^opsub: .*$refusal" "$dir/opsub.err" ||
			errs+=("opsub was to refuse it (exit 2, '$refusal'), rc $orc")
	elif [[ -n $fault_text ]] && ! grep -q "^opsub: guest fault: .*$fault_text" "$dir/opsub.err"; then
		errs+=("the guest fault report does not say '$fault_text'")
	elif ((orc > 0 && orc < 128)) && grep -v -e '^opsub: guest' "$dir/opsub.err" | grep -q '^opsub: '; then
		errs+=("opsub error: $(grep -v '^opsub: guest' "$dir/opsub.err" | grep -m1 '^opsub: ' | cut -c1-160)")
	fi
	if ((${#errs[@]})); then
		why=${why:+$why; }$(IFS=';'; echo "${errs[*]}")
		[[ -n $missing ]] && why+=" (no native proof: this host lacks$missing_names)"
	fi
	local res
	res=$TMP/results/$(printf '%s' "$label" | tr '/' '_')
	if [[ -z $why && -n $missing ]]; then
		echo "SKIP $label: native proof impossible on this host: $missing" >"$res"
	elif [[ -z $why ]]; then
		echo "PASS $label" >"$res"
	else
		{
			echo "FAIL $label: $why"
			sed -n '1,3s/^/    native: /p' "$dir/native.err" | grep -v '^    native: $' | head -n2
			grep -h -e '^opsub' "$dir/opsub.err" | head -n2 | sed 's/^/    opsub stderr: /'
		} >"$res"
	fi
}

# ---- main -----------------------------------------------------------------------

start=$(date +%s)
srcs=()
if (($#)); then
	for n in "$@"; do srcs+=("$SRC_DIR/${n%.c}.c"); done
else
	srcs=("$SRC_DIR"/*.c)
fi

# build, JOBS at a time
built=()
for src in "${srcs[@]}"; do
	while (($(jobs -rp | wc -l) >= JOBS)); do wait -n; done
	( build_one "$src" >"$TMP/results/0build.$(basename "$src" .c)" ) &
done
wait
for src in "${srcs[@]}"; do
	f=$TMP/results/0build.$(basename "$src" .c)
	if [[ -s $f ]]; then cat "$f"; else built+=("$src"); fi
	rm -f "$f"
done
build_failures=$((${#srcs[@]} - ${#built[@]}))

# run, JOBS at a time
order=()
for src in "${built[@]}"; do
	vars=$(directive "$src" variants)
	[[ -z $vars ]] && vars="-"
	for v in $vars; do
		[[ $v == - ]] && v=""
		name=$(basename "$src" .c)
		order+=("$(printf '%s' "adversarial/$name${v:+/$v}" | tr '/' '_')")
		while (($(jobs -rp | wc -l) >= JOBS)); do wait -n; done
		check_one "$src" "$v" 2>>"$TMP/shell.log" &
	done
done
wait

pass=0 fail=$build_failures skip=0
for r in "${order[@]}"; do
	cat "$TMP/results/$r"
	case $(head -c4 "$TMP/results/$r") in
	PASS) pass=$((pass + 1)) ;;
	SKIP) skip=$((skip + 1)) ;;
	*) fail=$((fail + 1)) ;;
	esac
done
echo "adversarial: $pass passed, $fail failed, $skip skipped ($(($(date +%s) - start))s)"
((fail == 0))
