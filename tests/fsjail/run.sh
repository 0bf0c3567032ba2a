#!/usr/bin/env bash
# File-system jail suite: attacks on the guest's file system (the in-memory
# root copied from --root, the writable part bounded by --tmp-size, the
# read-only --volume directories, the descriptor limit, /proc).  See
# tests/fsjail/README.md.  Every attack is a static musl program in
# tests/fsjail/attacks/ run twice:
#   1. natively, with host paths laid out as a naive implementation would
#      see them (the image or volume directory as the guest's root, a host
#      directory as its /tmp, ...): there the attack must work -- it reads
#      the secret, writes the host, passes the limit -- or the test could
#      not fail;
#   2. under opsub: it must fail with the right errno, the secret's token
#      must not appear anywhere in the output, the host must be unchanged,
#      and opsub must end normally (no hang, no internal error, no signal).
# The secret is a file this script makes on the host,
# /tmp/fsjail-secret-XXXXXX/secret, holding a random token.
#
#   tests/fsjail/run.sh [TEST...]     (from anywhere; TEST: dotdot abs_symlink
#                                      rel_symlink meta_symlink guest_symlink rename_race
#                                      proc_magic huge_file fd_exhaustion
#                                      volume_write root_copy image_special
#                                      volume_special archive tree_abuse sysptr_fs)
# Prints "PASS fsjail/NAME", "FAIL fsjail/NAME: why" or "SKIP fsjail/NAME:
# why" per test and exits 0 (non-zero only for a broken set-up).
# Environment:
#   OPSUB               opsub binary (default build/opsub)
#   FSJAIL_TIMEOUT      seconds per run (default 60)
#   FSJAIL_RACE_SECONDS how long rename_race races (default 3)
#   FSJAIL_KEEP=1       keep the work directory (outputs of every run)
#   FSJAIL_NATIVE_ONLY=1  only the native proofs (lines are SKIP "native
#                       only" when the proof holds)
set -u
cd "$(dirname "$(readlink -f "$0")")/../.." || exit 2

OPSUB=${OPSUB:-build/opsub}
TO=${FSJAIL_TIMEOUT:-60}
RACE=${FSJAIL_RACE_SECONDS:-3}
NATIVE_ONLY=${FSJAIL_NATIVE_ONLY:-0}
SRC=tests/fsjail/attacks
BIN=$PWD/build/tests/fsjail
UP=$(printf '../%.0s' $(seq 24))    # enough ".." to reach the host's / from any test dir
TMPSIZE=8M
TMPBYTES=$((8 << 20))

if [[ $NATIVE_ONLY != 1 && ! -x $OPSUB ]]; then
	echo "FAIL fsjail: $OPSUB is missing (run make first)"
	exit 2
fi
OPSUB=$(readlink -f "$OPSUB")
command -v musl-gcc >/dev/null || { echo "FAIL fsjail: musl-gcc is missing"; exit 2; }
command -v python3 >/dev/null || { echo "FAIL fsjail: python3 is missing"; exit 2; }

W=$(mktemp -d /tmp/fsjail-work.XXXXXX)
SECRET_DIR=$(mktemp -d /tmp/fsjail-secret-XXXXXX)
SECRET=$SECRET_DIR/secret
SECRET_BASE=$(basename "$SECRET_DIR")
TOKEN=FSJAIL-TOKEN-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
echo "$TOKEN" >"$SECRET"
BG_PIDS=()
cleanup() {
	local p
	for p in "${BG_PIDS[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	if [[ ${FSJAIL_KEEP:-0} == 1 ]]; then
		echo "work directory kept: $W (secret $SECRET)"
	else
		rm -rf "$W" "$SECRET_DIR"
	fi
}
trap cleanup EXIT
mkdir -p "$BIN" "$W/cwd"

# ---- build ----------------------------------------------------------------

BUILD_FAILED=()
for src in "$SRC"/*.c; do
	name=$(basename "$src" .c)
	out=$BIN/$name
	[[ $out -nt $src && $out -nt $SRC/fsjail.h ]] && continue
	if ! musl-gcc -static -O1 -Wall -I"$SRC" -o "$out" "$src" >"$W/build.$name.log" 2>&1; then
		echo "FAIL fsjail/$name: does not build: $(head -n3 "$W/build.$name.log" | tr '\n' ' ')"
		BUILD_FAILED+=("$name")
	fi
done

# ---- helpers ----------------------------------------------------------------

MEASURES=()       # memory and descriptor figures, printed at the end
NERR=() OERR=()   # why the native proof failed / why the opsub run failed

# verdict NAME: the line for the test, from NERR and OERR
verdict() {
	local why=""
	((${#NERR[@]})) && why="native proof failed: $(IFS=';'; echo "${NERR[*]}")"
	if ((${#OERR[@]})); then
		why=${why:+$why; }$(IFS=';'; echo "${OERR[*]}")
	fi
	if [[ -n $why ]]; then
		echo "FAIL fsjail/$1: $why"
	elif [[ $NATIVE_ONLY == 1 ]]; then
		echo "SKIP fsjail/$1: native only (the native proof holds; opsub not run)"
	else
		echo "PASS fsjail/$1"
	fi
	NERR=() OERR=()
}

# get PRE KIND NAME: what follows "KIND NAME " on the first such line of PRE.out
get() {
	awk -v k="$2" -v n="$3" '$1 == k && $2 == n { sub(/^[^ ]+ [^ ]+ ?/, ""); print; f = 1; exit }
		END { if (!f) print "(no line)" }' "$1.out" 2>/dev/null || echo "(no output)"
}
count() { local v; v=$(get "$1" COUNT "$2"); [[ $v =~ ^[0-9]+$ ]] && echo "$v" || echo -1; }

# native_leaks PRE NAME...: each R line must be OK and hold the token
native_leaks() {
	local pre=$1 n v
	shift
	for n in "$@"; do
		v=$(get "$pre" R "$n")
		[[ $v == OK* && $v == *"$TOKEN"* ]] || NERR+=("$n did not read the secret natively ($v)")
	done
}
# native_ok PRE KIND NAME...: each line must be OK
native_ok() {
	local pre=$1 kind=$2 n v
	shift 2
	for n in "$@"; do
		v=$(get "$pre" "$kind" "$n")
		[[ $v == OK* ]] || NERR+=("$n failed natively ($v)")
	done
}
# native_err PRE KIND ERRNOS NAME...: natively too, each must fail so
native_err() {
	local pre=$1 kind=$2 re=$3 n v
	shift 3
	for n in "$@"; do
		v=$(get "$pre" "$kind" "$n")
		[[ $v =~ ^ERR\ ($re)$ ]] || NERR+=("$n natively: expected $re, got $v")
	done
}
# expect_err PRE KIND ERRNOS NAME...: under opsub each must be "ERR X", X in ERRNOS
expect_err() {
	local pre=$1 kind=$2 re=$3 n v
	shift 3
	for n in "$@"; do
		v=$(get "$pre" "$kind" "$n")
		[[ $v =~ ^ERR\ ($re)$ ]] || OERR+=("$n: expected $re, got ${v:0:80}")
	done
}
# expect_ok PRE KIND NAME [TEXT]: under opsub OK (and starting with TEXT)
expect_ok() {
	local v
	v=$(get "$1" "$2" "$3")
	[[ $v == "OK${4:+ $4}"* ]] || OERR+=("$3: expected OK${4:+ $4}, got ${v:0:80}")
}
# no_leak PRE: the token in no output, the secret's directory never listed
no_leak() {
	local l
	if l=$(grep -h -m1 -F "$TOKEN" "$1.out" "$1.err" 2>/dev/null); then
		OERR+=("SECRET LEAKED to the guest: ${l:0:120}")
	fi
	if l=$(grep -h -m1 -F "$SECRET_BASE" "$1.out" 2>/dev/null); then
		OERR+=("the secret's directory name reached the guest: ${l:0:120}")
	fi
}
# opsub_health PRE RC [WANT_DONE]: no hang, no internal error, no signal, exit 0, DONE printed
opsub_health() {
	local pre=$1 rc=$2 l
	if ((rc == 124)); then
		OERR+=("opsub hung (no exit within ${TO}s)")
	elif l=$(grep -m1 'opsub: internal error' "$pre.err"); then
		OERR+=("${l:0:160}")
	elif ((rc >= 128)); then
		OERR+=("opsub died with status $rc: $(grep -m1 . "$pre.err" | cut -c1-160)")
	elif ((rc != 0)); then
		OERR+=("exit status $rc: $(grep -m1 . "$pre.err" | cut -c1-160)")
	fi
	if [[ ${3:-1} == 1 ]] && ! grep -q '^DONE' "$pre.out" 2>/dev/null; then
		OERR+=("the guest did not reach DONE")
	fi
}

# native PRE DIR PROG ARGS...: run natively in DIR (stdin: one empty line)
native() {
	local pre=$1 dir=$2 prog=$3
	shift 3
	(cd "$dir" && echo | timeout "$TO" "$BIN/$prog" "$@") >"$pre.out" 2>"$pre.err"
	NRC=$?
	((NRC == 0)) || NERR+=("native $prog exited with status $NRC")
}
# guest PRE [OPSUB OPTIONS] -- PROG ARGS...: opsub run, cwd $W/cwd; sets ORC
guest() {
	local pre=$1 opts=()
	shift
	while [[ $1 != -- ]]; do opts+=("$1"); shift; done
	shift
	local prog=$1
	shift
	mkdir -p "$W/cwd"
	(cd "$W/cwd" && echo | timeout "$TO" "$OPSUB" run "${opts[@]}" "$BIN/$prog" "$@") >"$pre.out" 2>"$pre.err"
	ORC=$?
}

# Process tree, its resident memory (KiB) and its open descriptors.
tree_pids() {
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree_pids "$c"; done
}
tree_rss() {
	local s=0 p v
	for p in $(tree_pids "$1"); do
		v=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null)
		s=$((s + ${v:-0}))
	done
	echo "$s"
}
tree_fds() {
	local s=0 p v
	for p in $(tree_pids "$1"); do
		v=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
		s=$((s + v))
	done
	echo "$s"
}

# paused PRE DIR MEASURE CMD...: runs CMD in DIR with stdin on a fifo; when
# it has printed PAUSE, MEASURED=$(MEASURE PID); then a line lets it go on.
# Sets PRC (124: timeout).
paused() {
	local pre=$1 dir=$2 fn=$3 fifo w pid i
	shift 3
	fifo=$pre.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	exec {w}<>"$fifo"
	( exec {w}>&-; cd "$dir" && exec timeout "$TO" "$@" <"$fifo" >"$pre.out" 2>"$pre.err" ) &
	pid=$!
	MEASURED=""
	for ((i = 0; i < TO * 10; i++)); do
		grep -q '^PAUSE' "$pre.out" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if grep -q '^PAUSE' "$pre.out" 2>/dev/null; then
		sleep 0.2
		MEASURED=$("$fn" "$pid")
	fi
	echo >&"$w"
	exec {w}>&-
	wait "$pid"
	PRC=$?
}

# Everything about a directory tree but access times: names, types, modes,
# sizes, change times, link targets and file contents.
tree_sum() {
	(cd "$1" && find . -printf '%p %y %m %s %C@ %T@ %n %l\n' | sort &&
		find . -type f -print0 | sort -z | xargs -0 -r sha256sum) | sha256sum | cut -c1-16
}

want() { local t; for t in "${TESTS[@]}"; do [[ $t == "$1" ]] && return 0; done; return 1; }
built() { local b; for b in "${BUILD_FAILED[@]}"; do [[ $b == "$1" ]] && return 1; done; return 0; }

# ---- the host side ----------------------------------------------------------

# An image (or volume) directory with links out of it: absolute, relative,
# to the secret's directory, to "../../.." as a prefix, a chain, /proc.
make_link_tree() {
	local d=$1
	mkdir -p "$d/sub" "$d/tmp"
	echo "hello from $2" >"$d/hello"
	ln -s "$SECRET" "$d/abs_link"
	ln -s "$SECRET_DIR" "$d/abs_dirlink"
	ln -s "/../../..$SECRET" "$d/abs_dotdot_link"
	ln -s "$UP${SECRET#/}" "$d/sub/rel_link"
	ln -s "$UP${SECRET_DIR#/}" "$d/sub/rel_dirlink"
	ln -s "$UP" "$d/up"
	ln -s "sub/chain2" "$d/chain1"
	ln -s "$UP${SECRET#/}" "$d/sub/chain2"
	ln -s "/proc/self/root$SECRET" "$d/proc_link"
	ln -s "/proc/self/cwd/$UP${SECRET#/}" "$d/proc_cwd_link"
}
IMG=$W/img VOL=$W/vol
make_link_tree "$IMG" "the image"
make_link_tree "$VOL" "the volume"
ROOTVOL=(--root "$IMG" --volume "$VOL:/vol:ro")

TESTS=("$@")
((${#TESTS[@]})) || TESTS=(dotdot abs_symlink rel_symlink meta_symlink guest_symlink rename_race proc_magic huge_file
	fd_exhaustion volume_write root_copy image_special volume_special archive tree_abuse sysptr_fs)

# ---- 1. dotdot ----------------------------------------------------------------

test_dotdot() {
	local where start_n start_g pre
	local names=(rel_dotdot abs_dotdot through_missing_dir openat_dirfd openat_dotdot_chain fchdir_chain chdir_loop openat2_plain)
	for where in root volume; do
		pre=$W/dotdot.$where
		if [[ $where == root ]]; then start_n=$IMG start_g=/; else start_n=$VOL start_g=/vol; fi
		native "$pre.n" "$W" dotdot "$start_n" "$SECRET"
		native_leaks "$pre.n" "${names[@]}"
		grep -q "^LS tmp $SECRET_BASE\$" "$pre.n.out" || NERR+=("the listing of ../../tmp did not show the secret's directory natively")
		if [[ $NATIVE_ONLY != 1 ]]; then
			guest "$pre.o" "${ROOTVOL[@]}" -- dotdot "$start_g" "$SECRET"
			opsub_health "$pre.o" $ORC
			no_leak "$pre.o"
			expect_err "$pre.o" R ENOENT "${names[@]:0:7}"
			expect_err "$pre.o" R 'ENOENT|ENOSYS' openat2_plain
		fi
		verdict "dotdot/$where"
	done
}

# ---- 2./3. links in the image and in a volume -----------------------------------

link_test() {   # link_test TEST "NAME=PATH"...
	local t=$1 where pre start_n start_g names=() a
	shift
	for a in "$@"; do names+=("${a%%=*}"); done
	for where in root volume; do
		pre=$W/$t.$where
		if [[ $where == root ]]; then start_n=$IMG start_g=/; else start_n=$VOL start_g=/vol; fi
		native "$pre.n" "$W" readpaths "$start_n" hello=hello "$@"
		native_leaks "$pre.n" "${names[@]}"
		if [[ $NATIVE_ONLY != 1 ]]; then
			guest "$pre.o" "${ROOTVOL[@]}" -- readpaths "$start_g" hello=hello "$@"
			opsub_health "$pre.o" $ORC
			no_leak "$pre.o"
			expect_ok "$pre.o" R hello "hello from the $([[ $where == root ]] && echo image || echo volume)"
			expect_err "$pre.o" R ENOENT "${names[@]}"
		fi
		verdict "$t/$where"
	done
}
test_abs_symlink() {
	link_test abs_symlink abs=abs_link absdir=abs_dirlink/secret absdotdot=abs_dotdot_link
}
test_rel_symlink() {
	link_test rel_symlink rel=sub/rel_link reldir=sub/rel_dirlink/secret "up=up$SECRET" chain=chain1
}

# ---- metadata through the links: stat, access, listings ---------------------------------

test_meta_symlink() {
	local where pre start_n start_g
	local args=(abs=^abs_link absdir=^abs_dirlink/secret rel=^sub/rel_link chain=^chain1 "up=^up$SECRET"
		acc_abs=?abs_link acc_rel=?sub/rel_link ls_absdir=%abs_dirlink ls_reldir=%sub/rel_dirlink
		"ls_up=%up${SECRET_DIR}")
	for where in root volume; do
		pre=$W/meta_symlink.$where
		if [[ $where == root ]]; then start_n=$IMG start_g=/; else start_n=$VOL start_g=/vol; fi
		native "$pre.n" "$W" readpaths "$start_n" "${args[@]}"
		native_ok "$pre.n" S abs absdir rel chain up
		native_ok "$pre.n" OP acc_abs acc_rel
		native_ok "$pre.n" D ls_absdir ls_reldir ls_up
		grep -q '^D ls_absdir OK .* secret' "$pre.n.out" || NERR+=("the listing did not show the secret natively")
		if [[ $NATIVE_ONLY != 1 ]]; then
			guest "$pre.o" "${ROOTVOL[@]}" -- readpaths "$start_g" "${args[@]}"
			opsub_health "$pre.o" $ORC
			no_leak "$pre.o"
			expect_err "$pre.o" S ENOENT abs absdir rel chain up
			expect_err "$pre.o" OP ENOENT acc_abs acc_rel
			expect_err "$pre.o" D ENOENT ls_absdir ls_reldir ls_up
		fi
		verdict "meta_symlink/$where"
	done
}

# ---- 4. links the guest makes ---------------------------------------------------

test_guest_symlink() {
	local pre=$W/guest_symlink escapes=(link_abs_dotdot link_rel_dotdot link_dir link_up_prefix link_through_volume symlinkat_rel)
	local loops=(loop_pair loop_self loop_self_dir chain45 laughs)
	mkdir -p "$W/gwork"
	native "$pre.n" "$W" guest_symlink "$W/gwork" "$SECRET" "$VOL"
	native_leaks "$pre.n" "${escapes[@]}"
	native_err "$pre.n" R ELOOP "${loops[@]}"
	if [[ $NATIVE_ONLY != 1 ]]; then
		guest "$pre.o" "${ROOTVOL[@]}" -- guest_symlink /tmp "$SECRET" /vol
		opsub_health "$pre.o" $ORC
		no_leak "$pre.o"
		expect_err "$pre.o" R ENOENT "${escapes[@]}"
		expect_err "$pre.o" R ELOOP "${loops[@]}"
		expect_ok "$pre.o" R chain5 chain-end
	fi
	verdict guest_symlink
}

# ---- 5. rename races in a volume --------------------------------------------------

race_setup() {   # race_setup DIR VARIANT
	local d=$1 v=$2
	rm -rf "$d" "$SECRET_DIR/x-$v"
	mkdir -p "$d"
	case $v in
	swap_abs | swap_rel)
		mkdir -p "$d/d"
		echo decoy >"$d/d/secret"
		if [[ $v == swap_abs ]]; then ln -s "$SECRET_DIR" "$d/l"; else ln -s "$UP${SECRET_DIR#/}" "$d/l"; fi ;;
	cwd | fd)
		mkdir -p "$d/a/b" "$SECRET_DIR/x-$v"
		echo decoy >"$d/secret" ;;
	fifo | device)
		echo decoy >"$d/f"
		if [[ $v == fifo ]]; then mkfifo "$d/ff"; else mknod "$d/ff" c 1 5 2>/dev/null; fi ;;
	esac
}
racer_start() {   # racer_start DIR VARIANT PRE: the host process that changes the volume
	local d=$1 v=$2
	case $v in
	swap_*) "$BIN/racer" exchange "$d/d" "$d/l" $((RACE + TO)) >"$3.racer" 2>&1 & ;;
	fifo | device) "$BIN/racer" exchange "$d/f" "$d/ff" $((RACE + TO)) >"$3.racer" 2>&1 & ;;
	*) "$BIN/racer" move "$d/a/b" "$SECRET_DIR/x-$v/b" $((RACE + TO)) >"$3.racer" 2>&1 & ;;
	esac
	RACER=$!
	BG_PIDS+=("$RACER")
	sleep 0.2
}
racer_stop() {
	kill "$RACER" 2>/dev/null
	wait "$RACER" 2>/dev/null
}
test_rename_race() {
	local v pre mode other decoy
	for v in swap_abs swap_rel cwd fd fifo device; do
		pre=$W/race.$v
		mode=${v%%_*}
		[[ $v == fifo || $v == device ]] && mode=plain
		race_setup "$W/racevol.$v" "$v"
		if [[ $v == device && ! -c $W/racevol.$v/ff ]]; then
			echo "SKIP fsjail/rename_race/$v: mknod is not allowed here"
			continue
		fi
		racer_start "$W/racevol.$v" "$v" "$pre.n"
		case $v in
		fifo)
			# natively the open of the FIFO blocks for good: the run never ends
			(cd "$W" && timeout $((RACE + 5)) "$BIN/race_open" plain "$W/racevol.$v" "$RACE" </dev/null) >"$pre.n.out" 2>"$pre.n.err"
			NRC=$?
			((NRC == 124)) || NERR+=("the naive run did not block on the FIFO (status $NRC: $(grep COUNT "$pre.n.out" | tr '\n' ' '))") ;;
		device)
			native "$pre.n" "$W" race_open plain "$W/racevol.$v" "$RACE"
			(($(count "$pre.n" other) > 0)) || NERR+=("the device was never read natively") ;;
		*)
			native "$pre.n" "$W" race_open "$mode" "$W/racevol.$v" "$RACE"
			native_leaks "$pre.n" race ;;
		esac
		racer_stop
		grep -q '^COUNT swaps [1-9]' "$pre.n.racer" || NERR+=("the racer did not run: $(head -c 120 "$pre.n.racer")")
		if [[ $NATIVE_ONLY != 1 ]]; then
			race_setup "$W/racevol.$v" "$v"
			racer_start "$W/racevol.$v" "$v" "$pre.o"
			guest "$pre.o" --volume "$W/racevol.$v:/vol:ro" -- race_open "$mode" /vol "$((RACE + 1))"
			racer_stop
			opsub_health "$pre.o" $ORC
			no_leak "$pre.o"
			other=$(count "$pre.o" other) decoy=$(count "$pre.o" decoy)
			((other == 0)) || OERR+=("$other opens read something other than the decoy: $(get "$pre.o" R race | cut -c1-80)")
			(($(count "$pre.o" empty) == 0)) || OERR+=("$(count "$pre.o" empty) opens read nothing (a FIFO or device opened?)")
			((decoy > 0)) || OERR+=("the decoy was never read under opsub (errors $(count "$pre.o" err) of $(count "$pre.o" iterations)): the race was not run")
		fi
		verdict "rename_race/$v"
	done
}

# ---- 6. /proc -------------------------------------------------------------------------

test_proc_magic() {
	local pre=$W/proc_magic
	local leaks=(self_root thread_self_root pid_root self_cwd self_fd_900 dev_fd_900 after_chdir_self_root)
	local others=(proc_self_maps proc_self_environ proc_self_cmdline proc_self_mountinfo
		proc_self_status proc_cpuinfo proc_self_stat proc_self_auxv exe_open exe_target)
	# natively, descriptor 900 is a volume's directory, as in opsub
	(cd "$IMG" && echo | timeout "$TO" "$BIN/proc_magic" "$SECRET" 900<"$VOL") >"$pre.n.out" 2>"$pre.n.err" ||
		NERR+=("native proc_magic exited with status $?")
	native_leaks "$pre.n" "${leaks[@]}"
	native_ok "$pre.n" R "${others[@]}"
	native_ok "$pre.n" L exe
	native_ok "$pre.n" OP mem_rdwr mem_rdonly
	native "$pre.links.n" "$W" readpaths "$IMG" proc=proc_link proc_cwd=proc_cwd_link vproc=../vol/proc_link
	native_leaks "$pre.links.n" proc proc_cwd vproc
	if [[ $NATIVE_ONLY != 1 ]]; then
		guest "$pre.o" "${ROOTVOL[@]}" -- proc_magic "$SECRET"
		opsub_health "$pre.o" $ORC
		no_leak "$pre.o"
		expect_err "$pre.o" R '[A-Z]+' self_root thread_self_root pid_root self_cwd pid1_root "${others[@]:1}" \
			proc_self_root_etc_hostname proc_1_cmdline exe_dotdot
		expect_ok "$pre.o" R proc_self_maps   # the guest's own mappings (monitor/files.c)
		expect_ok "$pre.o" R proc_self_fd_0   # the guest's own stdin (monitor/paths.c, descriptor_entry)
		[[ $(count "$pre.o" self_fd_opened) == 0 ]] || OERR+=("/proc/self/fd/N/... opened $(count "$pre.o" self_fd_opened) times")
		[[ $(count "$pre.o" dev_fd_opened) == 0 ]] || OERR+=("/dev/fd/N/... opened $(count "$pre.o" dev_fd_opened) times")
		expect_err "$pre.o" OP '[A-Z]+' mem_rdwr mem_rdonly
		[[ $(get "$pre.o" OP chdir_self_root) == OK ]] && expect_err "$pre.o" R '[A-Z]+' after_chdir_self_root
		expect_ok "$pre.o" L exe
		guest "$pre.links.o" "${ROOTVOL[@]}" -- readpaths / proc=proc_link proc_cwd=proc_cwd_link vproc=vol/proc_link
		opsub_health "$pre.links.o" $ORC
		no_leak "$pre.links.o"
		expect_err "$pre.links.o" R '[A-Z]+' proc proc_cwd vproc
	fi
	verdict proc_magic
}

# ---- 7. filling the writable file system ------------------------------------------------

# variant  native cap  the most bytes each item may cost beyond MEMFS_NODE_COST (256)
declare -A HUGE_CAP=([write]=$((24 << 20)) [unlinked]=$((24 << 20)) [truncate]=0 [files]=40000 [dirs]=40000
	[longnames]=20000 [symlinks]=2500 [hardlinks]=60000)
declare -A HUGE_ITEM=([files]=0 [dirs]=0 [longnames]=255 [symlinks]=4095 [hardlinks]=0)
test_huge_file() {
	local v pre base=0 grow made lim
	local probe_ok=1 probe_why=""
	if [[ $NATIVE_ONLY != 1 ]]; then
		# the memory probe must see the guest's file data: 40 MiB written at --tmp-size 64M
		paused "$W/huge.base" "$W/cwd" tree_rss "$OPSUB" run --tmp-size "$TMPSIZE" "$BIN/huge_file" none /tmp 0
		base=${MEASURED:-0}
		paused "$W/huge.probe" "$W/cwd" tree_rss "$OPSUB" run --tmp-size 64M "$BIN/huge_file" write /tmp $((40 << 20))
		grow=$(( ${MEASURED:-0} - base ))
		MEASURES+=("idle guest $((base >> 10))MiB" "probe (40MiB written, --tmp-size 64M) +$((grow >> 10))MiB")
		if [[ -z $MEASURED || $base == 0 ]] || ((grow < 32 << 10)); then
			probe_ok=0
			probe_why="the RSS probe does not see guest file data (baseline ${base} KiB, +${grow} KiB after writing 40 MiB at --tmp-size 64M; written $(count "$W/huge.probe" written))"
		fi
	fi
	for v in write unlinked truncate files dirs longnames symlinks hardlinks; do
		pre=$W/huge.$v
		rm -rf "$W/hugen.$v"
		mkdir -p "$W/hugen.$v" "$W/cwd"
		native "$pre.n" "$W/hugen.$v" huge_file "$v" "$W/hugen.$v" "${HUGE_CAP[$v]}"
		case $v in
		write | unlinked) [[ $(count "$pre.n" written) == "${HUGE_CAP[$v]}" ]] || NERR+=("wrote $(count "$pre.n" written) of ${HUGE_CAP[$v]} natively") ;;
		truncate) native_ok "$pre.n" OP trunc_9m trunc_1t trunc_1t_4k pwrite_1t_minus_1 pwrite_1t lseek_write_100g fallocate_16m truncate_path_1t ;;
		*) [[ $(count "$pre.n" made) == "${HUGE_CAP[$v]}" ]] || NERR+=("made $(count "$pre.n" made) of ${HUGE_CAP[$v]} natively ($(get "$pre.n" OP fill))") ;;
		esac
		rm -rf "$W/hugen.$v"
		((probe_ok)) || NERR+=("$probe_why")
		if [[ $NATIVE_ONLY != 1 ]]; then
			paused "$pre.o" "$W/cwd" tree_rss "$OPSUB" run --tmp-size "$TMPSIZE" "$BIN/huge_file" "$v" /tmp "${HUGE_CAP[$v]}"
			opsub_health "$pre.o" $PRC
			[[ -n $MEASURED ]] || OERR+=("the guest never reached PAUSE: $(grep -m1 . "$pre.o.err" | cut -c1-120)")
			grow=$(( ${MEASURED:-0} - base ))
			MEASURES+=("huge_file/$v +$((grow >> 10))MiB")
			# the monitor's memory: at most 3 x the budget + 16 MiB over an idle guest's
			((grow <= 3 * (TMPBYTES >> 10) + (16 << 10))) ||
				OERR+=("the monitor's RSS grew by $((grow >> 10)) MiB (baseline $((base >> 10)) MiB) for a budget of $TMPSIZE")
			case $v in
			write | unlinked)
				made=$(count "$pre.o" written)
				expect_err "$pre.o" OP ENOSPC fill
				((made >= TMPBYTES * 3 / 4 && made <= TMPBYTES)) || OERR+=("ENOSPC after $made bytes (budget $TMPBYTES)") ;;
			truncate)
				expect_err "$pre.o" OP 'ENOSPC|EFBIG' trunc_9m trunc_1t trunc_1t_4k pwrite_1t_minus_1 pwrite_1t lseek_write_100g truncate_path_1t
				expect_err "$pre.o" OP 'ENOSPC|EFBIG|EINVAL' trunc_2p62
				expect_err "$pre.o" OP 'ENOSPC|EFBIG|EOPNOTSUPP|ENOSYS' fallocate_16m
				expect_ok "$pre.o" OP trunc_0 ;;
			*)
				made=$(count "$pre.o" made)
				lim=$((TMPBYTES / 256))
				if [[ $(get "$pre.o" OP fill) == OK* ]]; then
					OERR+=("made all $made with no ENOSPC at --tmp-size $TMPSIZE (at most $lim if each cost 256 bytes as a node or name should)")
				else
					expect_err "$pre.o" OP ENOSPC fill
					((made >= 1 && made <= lim)) || OERR+=("made $made before ENOSPC (at most $lim at 256 bytes each)")
				fi
				((made > lim)) || ((made * (256 + HUGE_ITEM[$v]) <= TMPBYTES * 3 / 2)) ||
					OERR+=("made $made items of ~$((256 + HUGE_ITEM[$v])) bytes each = $((made * (256 + HUGE_ITEM[$v]) >> 20)) MiB for a budget of $TMPSIZE: the ${HUGE_ITEM[$v]} bytes per item are not charged") ;;
			esac
		fi
		verdict "huge_file/$v"
	done
	# the image's bytes are not the guest's: deleting a 16 MiB image file
	# must not let the guest write more than --tmp-size
	pre=$W/huge.refund
	rm -rf "$W/imgbig" "$W/hugen.refund"
	mkdir -p "$W/imgbig" "$W/hugen.refund"
	head -c $((16 << 20)) /dev/zero | tr '\0' 'i' >"$W/imgbig/big"
	cp "$W/imgbig/big" "$W/hugen.refund/big"
	native "$pre.n" "$W/hugen.refund" huge_file refund "$W/hugen.refund" $((24 << 20)) "$W/hugen.refund/big"
	[[ $(count "$pre.n" written) == $((24 << 20)) ]] || NERR+=("wrote $(count "$pre.n" written) of $((24 << 20)) natively")
	rm -rf "$W/hugen.refund"
	if [[ $NATIVE_ONLY != 1 ]]; then
		guest "$pre.o" --root "$W/imgbig" --tmp-size "$TMPSIZE" -- huge_file refund /tmp $((32 << 20)) /big
		opsub_health "$pre.o" $ORC
		expect_ok "$pre.o" OP unlink_image_file
		expect_err "$pre.o" OP ENOSPC fill
		# the budget bounds what the guest holds in memory, image included
		# (docs/guest-abi.md: image as stored + tmp_size; a file's room grows
		# by a quarter at a time): a deleted image file makes room, never more
		made=$(count "$pre.o" written)
		((made <= TMPBYTES + (21 << 20))) || OERR+=("wrote $made bytes ($((made >> 20)) MiB) with --tmp-size $TMPSIZE after deleting a 16 MiB image file: more than image + budget")
	fi
	verdict huge_file/refund
}

# ---- 8. descriptors -----------------------------------------------------------------------

test_fd_exhaustion() {
	local v pre mode npath gpath opened maxfd
	for v in memfs image volume volume_dir dup; do
		pre=$W/fd.$v
		mkdir -p "$W/fdn"
		case $v in
		memfs) mode=create npath=$W/fdn/file gpath=/tmp/file ;;
		image) mode=open npath=$IMG/hello gpath=/hello ;;
		volume) mode=open npath=$VOL/hello gpath=/vol/hello ;;
		volume_dir) mode=dir npath=$VOL/sub gpath=/vol/sub ;;
		dup) mode=dup npath=$VOL/hello gpath=/vol/hello ;;
		esac
		# natively (with a limit of 8192) 2000 descriptors are held: the probe sees them
		paused "$pre.n" "$W" tree_fds bash -c 'ulimit -n 8192 && exec "$@"' - "$BIN/fd_exhaustion" "$mode" "$npath" 2000
		[[ $(count "$pre.n" opened) == 2000 ]] || NERR+=("opened $(count "$pre.n" opened) of 2000 natively")
		((${MEASURED:-0} >= 2000)) || NERR+=("the descriptor probe saw ${MEASURED:-nothing} natively")
		if [[ $NATIVE_ONLY != 1 ]]; then
			paused "$pre.o" "$W/cwd" tree_fds "$OPSUB" run "${ROOTVOL[@]}" "$BIN/fd_exhaustion" "$mode" "$gpath" 2000
			opsub_health "$pre.o" $PRC
			[[ -n $MEASURED ]] || OERR+=("the guest never reached PAUSE")
			MEASURES+=("fd_exhaustion/$v ${MEASURED:-?}fds")
			((${MEASURED:-0} <= 1024 + 64)) || OERR+=("opsub holds ${MEASURED} host descriptors while the guest holds $(count "$pre.o" opened)")
			opened=$(count "$pre.o" opened) maxfd=$(count "$pre.o" maxfd)
			expect_err "$pre.o" OP EMFILE fill again_open again_dup
			expect_err "$pre.o" OP 'EMFILE|ENOSYS' again_pipe
			((opened >= 1000 && opened <= 1021 && maxfd <= 1023)) || OERR+=("EMFILE after $opened descriptors (highest $maxfd)")
			expect_ok "$pre.o" OP reopen_after_close
			expect_ok "$pre.o" OP open_after_all_closed
			expect_ok "$pre.o" OP dup2_1023_after
			expect_err "$pre.o" OP EBADF dup2_1024 dup2_1m read_1m read_neg close_1m close_intmax
			expect_err "$pre.o" OP 'EBADF|EINVAL' dup3_neg
			expect_err "$pre.o" OP EINVAL fcntl_dupfd_1024 fcntl_dupfd_2g
		fi
		verdict "fd_exhaustion/$v"
	done
}

# ---- 9. writing to a read-only volume --------------------------------------------------

make_write_volume() {
	local d=$1 f
	rm -rf "$d"
	mkdir -p "$d/sub" "$d/emptydir"
	for f in w1 w2 w3 w4 w5 del1 ren1 ren2 ren3 x1 x2 l1 tr1 tr2 m1 m2 m3 m4 ro1 ro2; do
		echo "volume-content $f" >"$d/$f"
	done
	chmod 644 "$d"/*
}
test_volume_write() {
	local pre=$W/volume_write before after
	local erofs=(open_wronly open_rdwr open_rdonly_trunc open_append open_creat_new open_creat_excl
		open_creat_in_subdir openat_creat creat unlink rmdir rename_inside rename_exchange rename_over_dir
		mkdir symlink link_inside truncate truncate_grow chmod chown utimensat chmod_volume_root
		fchmod fchown futimens)
	make_write_volume "$W/volw.n"
	mkdir -p "$W/volw.ntmp"
	before=$(tree_sum "$W/volw.n")
	native "$pre.n" "$W" volume_write "$W/volw.n" "$W/volw.ntmp"
	native_ok "$pre.n" OP "${erofs[@]}" rename_out rename_in link_out mknod_fifo
	[[ $(tree_sum "$W/volw.n") != "$before" ]] || NERR+=("the host directory did not change natively")
	if [[ $NATIVE_ONLY != 1 ]]; then
		make_write_volume "$W/volw"
		before=$(tree_sum "$W/volw")
		guest "$pre.o" --volume "$W/volw:/vol:ro" -- volume_write /vol /tmp
		after=$(tree_sum "$W/volw")
		opsub_health "$pre.o" $ORC
		[[ $after == "$before" ]] || OERR+=("THE HOST VOLUME CHANGED: $(cd "$W/volw" && ls -la --time-style=+%s | head -c 300 | tr '\n' ' ')")
		expect_err "$pre.o" OP EROFS "${erofs[@]}"
		expect_err "$pre.o" OP 'EROFS|EXDEV' rename_out rename_in link_out
		expect_err "$pre.o" OP 'EROFS|ENOSYS' mknod_fifo
		expect_err "$pre.o" OP '[A-Z]+' setxattr fsetxattr ftruncate_rdonly fallocate_rdonly write_rdonly mmap_shared_write
		expect_ok "$pre.o" R read_back "volume-content ro2"
	fi
	verdict volume_write
}

# ---- 10. the root is a copy ----------------------------------------------------------------

make_copy_image() {   # make_copy_image IMAGE OUTSIDE
	local d=$1 o=$2
	rm -rf "$d" "$o"
	mkdir -p "$d/data/emptydir" "$d/data/sub" "$o"
	echo "original file" >"$d/data/file"
	echo "log line" >"$d/data/log"
	seq 1 20000 >"$d/data/big"
	echo "delete me" >"$d/data/del"
	echo "rename me" >"$d/data/ren"
	echo "mode" >"$d/data/mode"
	echo "deep" >"$d/data/sub/deep"
	chmod 644 "$d"/data/*[a-z]
	echo "outside original" >"$o/outside"
	echo "victim" >"$o/victim"
	ln "$o/outside" "$d/hl"                       # a hard link to a host file outside
	ln -s "$o/outside2" "$d/slink"                # an absolute link out (dangling)
	ln -s "$UP${o#/}/outside3" "$d/rlink"         # a relative one
	ln -s "$o" "$d/dlink"                         # a link to a host directory outside
	ln -s . "$d/self"                             # the loader must not follow links
	ln -s "$UP" "$d/hostroot"
}
test_root_copy() {
	local pre=$W/root_copy before_i before_o v root o
	local written=(modify append truncate unlink create mkdir rmdir rename chmod symlink mkdir_top hardlink_out)
	local outs=(abs_link_out rel_link_out dir_link_out dir_link_mkdir dir_link_unlink)
	# native proof: writing in (a copy of) the image changes it and the host outside
	make_copy_image "$W/imgc.n" "$W/outc.n"
	before_i=$(tree_sum "$W/imgc.n") before_o=$(tree_sum "$W/outc.n")
	native "$pre.n" "$W" root_copy write "$W/imgc.n"
	native_ok "$pre.n" OP "${written[@]}" "${outs[@]}"
	[[ $(tree_sum "$W/imgc.n") != "$before_i" ]] || NERR+=("the image did not change natively")
	grep -q PWNED "$W/outc.n/outside" && [[ -e $W/outc.n/outside2 && -e $W/outc.n/outside3 && -e $W/outc.n/created ]] ||
		NERR+=("the writes through the links did not reach the host natively")
	if [[ $NATIVE_ONLY == 1 ]]; then
		verdict root_copy/directory
		verdict root_copy/archive
		return
	fi
	make_copy_image "$W/imgc" "$W/outc"
	(cd "$W/imgc" && tar -cf "$W/imgc.tar" .)
	# what the untouched image holds, seen natively: the reference
	native "$pre.ref" "$W" root_copy check "$W/imgc"
	sed -i "s|$W/outc|OUTSIDE|g" "$pre.ref.out"
	for v in directory archive; do
		root=$W/imgc
		[[ $v == archive ]] && root=$W/imgc.tar
		before_i=$(tree_sum "$W/imgc") before_o=$(tree_sum "$W/outc")
		local before_t
		before_t=$(sha256sum "$W/imgc.tar")
		guest "$pre.$v.o1" --root "$root" -- root_copy write /
		opsub_health "$pre.$v.o1" $ORC
		expect_ok "$pre.$v.o1" OP modify
		for o in "${written[@]}"; do expect_ok "$pre.$v.o1" OP "$o"; done
		expect_ok "$pre.$v.o1" R modify_readback "modified by the guest"
		expect_err "$pre.$v.o1" R ENOENT unlink_readback
		expect_ok "$pre.$v.o1" R create_readback "new file"
		expect_ok "$pre.$v.o1" R hardlink_out_readback PWNED
		expect_err "$pre.$v.o1" OP ENOENT "${outs[@]}"
		[[ $(tree_sum "$W/imgc") == "$before_i" ]] || OERR+=("THE HOST IMAGE DIRECTORY CHANGED")
		[[ $(tree_sum "$W/outc") == "$before_o" ]] || OERR+=("A HOST FILE OUTSIDE THE IMAGE CHANGED: $(ls "$W/outc" | tr '\n' ' '); outside: $(head -c 60 "$W/outc/outside")")
		[[ $(sha256sum "$W/imgc.tar") == "$before_t" ]] || OERR+=("THE HOST ARCHIVE CHANGED")
		# a second guest on the same root sees the original
		guest "$pre.$v.o2" --root "$root" -- root_copy check /
		opsub_health "$pre.$v.o2" $ORC
		sed -i "s|$W/outc|OUTSIDE|g" "$pre.$v.o2.out"
		if ! diff -q "$pre.ref.out" "$pre.$v.o2.out" >/dev/null; then
			OERR+=("the second guest does not see the original image: $(diff "$pre.ref.out" "$pre.$v.o2.out" | grep '^[<>]' | head -n4 | tr '\n' ' ' | cut -c1-400)")
		fi
		verdict "root_copy/$v"
	done
}

# ---- special files in an image directory -------------------------------------------------

test_image_special() {
	local pre=$W/image_special d=$W/imgs
	mkdir -p "$d"
	echo "hello from the image" >"$d/hello"
	mkfifo "$d/fifo"
	local have_dev=1
	mknod "$d/zero" c 1 5 2>/dev/null && mknod "$d/urandom" c 1 9 2>/dev/null || have_dev=0
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$d/sock"
	ln -s / "$d/hostroot"
	ln -s . "$d/loop"
	if ((have_dev)); then
		native "$pre.n" "$W" readpaths "$d" zero=zero urandom=urandom
		native_ok "$pre.n" R zero urandom
	fi
	native "$pre.n2" "$W" readpaths "$d" fifo=+fifo sock=+sock "secret=hostroot$SECRET"
	native_ok "$pre.n2" S fifo sock
	native_leaks "$pre.n2" secret
	if [[ $NATIVE_ONLY != 1 ]]; then
		guest "$pre.o" --root "$d" -- readpaths / hello=hello zero=zero urandom=urandom fifo=+fifo sock=+sock \
			zero_s=+zero "secret=hostroot$SECRET" hostroot=@hostroot loop=@loop deep=loop/loop/loop/loop/hello
		opsub_health "$pre.o" $ORC
		no_leak "$pre.o"
		expect_ok "$pre.o" R hello "hello from the image"
		expect_err "$pre.o" R ENOENT zero urandom secret
		expect_err "$pre.o" S ENOENT fifo sock zero_s
		expect_ok "$pre.o" L hostroot /
		expect_ok "$pre.o" R deep "hello from the image"
	fi
	if ((have_dev)); then verdict image_special; else
		[[ ${#OERR[@]} -eq 0 && ${#NERR[@]} -eq 0 ]] && { NERR=() OERR=(); echo "SKIP fsjail/image_special: mknod is not allowed here (no device nodes in the image; fifo, socket and link checks passed)"; } || verdict image_special
	fi
}

# ---- special files in a volume ----------------------------------------------------------------

test_volume_special() {
	local pre=$W/volume_special d=$W/vols
	mkdir -p "$d"
	echo "hello from the volume" >"$d/hello"
	mkfifo "$d/fifo"
	ln -s fifo "$d/fifolink"
	ln -s /dev/zero "$d/devlink"
	python3 -c 'import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])' "$d/sock"
	local have_dev=1
	mknod "$d/zero" c 1 5 2>/dev/null || have_dev=0
	native "$pre.n" "$W" readpaths "$d" devlink=devlink fifo=+fifo sock=+sock
	native_ok "$pre.n" R devlink
	native_ok "$pre.n" S fifo sock
	if ((have_dev)); then
		native "$pre.n2" "$W" readpaths "$d" zero=zero
		native_ok "$pre.n2" R zero
	fi
	if [[ $NATIVE_ONLY != 1 ]]; then
		# a FIFO opened by the monitor would block it for good: the timeout shows it
		guest "$pre.o" --volume "$d:/vol:ro" -- readpaths /vol hello=hello devlink=devlink fifo=fifo fifolink=fifolink \
			sock=sock zero=zero
		opsub_health "$pre.o" $ORC
		expect_ok "$pre.o" R hello "hello from the volume"
		# links are followed in the guest's tree: /dev/zero is the guest's own
		expect_ok "$pre.o" R devlink
		expect_err "$pre.o" R '[A-Z]+' fifo fifolink sock
		((have_dev)) && expect_err "$pre.o" R '[A-Z]+' zero
	fi
	verdict volume_special
}

# ---- 11. hostile archives ------------------------------------------------------------------

# mkarchive OUT KIND BASE: a tar whose entries aim at BASE (a scratch directory)
mkarchive() {
	python3 - "$1" "$2" "$3" "$SECRET" "$UP" <<'EOF'
import io, sys, tarfile
out, kind, base, secret, up = sys.argv[1:6]
if kind == "zip":
    import zipfile
    z = zipfile.ZipFile(out, "w")
    z.writestr("ok/file", b"fine\n")
    z.writestr(zipfile.ZipInfo("../evil-zip"), b"EVIL\n")
    z.writestr(zipfile.ZipInfo(base + "/evil-zip-abs"), b"EVIL\n")
    z.close()
    sys.exit(0)
t = tarfile.open(out, "w", format=tarfile.PAX_FORMAT)
def reg(name, data=b"EVIL\n"):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = 0o644; t.addfile(i, io.BytesIO(data))
def special(name, type, **kw):
    i = tarfile.TarInfo(name); i.type = type; i.mode = 0o777
    for k, v in kw.items(): setattr(i, k, v)
    t.addfile(i)
reg("ok/file", b"fine\n")
if kind == "dotdot":
    reg("../evil-dotdot"); reg("ok/../../evil-mid"); reg(up + base.lstrip("/") + "/evil-deep")
elif kind == "absolute":
    reg(base + "/evil-abs"); reg("/" + base.lstrip("/") + "/sub-abs/evil")
elif kind == "symlink_through":
    special("l", tarfile.SYMTYPE, linkname=base + "/x"); reg("l/y")
    special("rl", tarfile.SYMTYPE, linkname=up + base.lstrip("/") + "/rx"); reg("rl/y")
elif kind == "hardlink":
    special("h", tarfile.LNKTYPE, linkname=secret)
    special("h2", tarfile.LNKTYPE, linkname=up + secret.lstrip("/"))
    special("hin", tarfile.LNKTYPE, linkname="ok/file")
elif kind == "hardlink_odd":
    special("sl", tarfile.SYMTYPE, linkname=secret)
    special("hlink", tarfile.LNKTYPE, linkname="sl")          # a hard link to a link out
    special("hself", tarfile.LNKTYPE, linkname="hself")
    special("hmiss", tarfile.LNKTYPE, linkname="nope")
    special("hdir", tarfile.LNKTYPE, linkname="ok")
    special("hlater", tarfile.LNKTYPE, linkname="later")      # to an entry that comes after
    reg("later", b"later\n")
elif kind == "odd_names":
    reg(".", b"dot\n"); reg("./", b"dotslash\n"); reg("./ok/./x", b"x\n"); reg("//dbl", b"dbl\n")
    reg("ok//y", b"y\n"); reg("abcdefgh/" * 500 + "f", b"long\n"); reg("ok/../ok/z", b"z\n")
    special("s2", tarfile.SYMTYPE, linkname=base + "/x"); reg("s2/y")   # the proof
elif kind == "override":
    reg("s2", b"fine\n")
    special("s2", tarfile.SYMTYPE, linkname=base + "/x")      # the same name again, now a link out
    reg("s2/y")
    special("h5", tarfile.LNKTYPE, linkname="s2")
elif kind == "devices":
    special("zero", tarfile.CHRTYPE, devmajor=1, devminor=5)
    special("urandom", tarfile.CHRTYPE, devmajor=1, devminor=9)
    special("disk", tarfile.BLKTYPE, devmajor=253, devminor=0)
    special("fifo", tarfile.FIFOTYPE)
t.close()
EOF
}
# what each kind would make on the host, relative to the scratch directory B
# (extracted at B/ext/sub, run from B/cwd/sub)
declare -A ARCH_HOST=([dotdot]="ext/evil-dotdot ext/evil-mid evil-deep cwd/evil-dotdot cwd/evil-mid"
	[absolute]="evil-abs sub-abs/evil" [symlink_through]="x/y rx/y" [hardlink]="" [devices]=""
	[hardlink_odd]="" [odd_names]="x/y" [override]="x/y" [zip]="ext/evil-zip evil-zip-abs")
test_archive() {
	local k pre b f rc lines
	for k in dotdot absolute symlink_through hardlink hardlink_odd odd_names override devices zip; do
		pre=$W/archive.$k
		# native proof: a naive extraction (Python's tarfile, no filter) at b/ext/sub
		b=$W/arch.$k.n
		mkdir -p "$b/ext/sub" "$b/x" "$b/rx" "$b/cwd/sub"
		mkarchive "$b.tar" "$k" "$b"
		if [[ $k == zip ]]; then
			# a naive unzip: every entry written at its name below the directory
			(cd "$b/cwd/sub" && python3 -c 'import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    p = os.path.join(sys.argv[2], i.filename)
    os.makedirs(os.path.dirname(p), exist_ok=True)
    open(p, "wb").write(z.read(i))' "$b.tar" "$b/ext/sub") >"$pre.n.out" 2>"$pre.n.err" ||
				NERR+=("the naive unzip failed: $(head -c 200 "$pre.n.err")")
		else
		(cd "$b/cwd/sub" && python3 -c 'import sys, tarfile
t = tarfile.open(sys.argv[1]); t.errorlevel = 0
kw = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}
for m in t.getmembers():
    try:
        t.extract(m, sys.argv[2], **kw)
    except Exception as e:
        print("entry", m.name[:60], "not extracted:", repr(e)[:100])' "$b.tar" "$b/ext/sub") \
			>"$pre.n.out" 2>"$pre.n.err" || NERR+=("the naive extraction failed: $(head -c 200 "$pre.n.err")")
		fi
		for f in ${ARCH_HOST[$k]}; do
			[[ $f == cwd/* ]] && continue
			[[ -e $b/$f ]] || NERR+=("$f was not written natively")
		done
		case $k in
		hardlink) grep -q "$TOKEN" "$b/ext/sub/h" "$b/ext/sub/h2" 2>/dev/null ||
			NERR+=("the hard links do not hold the secret natively") ;;
		hardlink_odd) grep -q "$TOKEN" "$b/ext/sub/hlink" 2>/dev/null ||
			NERR+=("the hard link to the link does not hold the secret natively") ;;
		devices) [[ -c $b/ext/sub/zero ]] || NERR+=("no device node natively (mknod refused?)") ;;
		esac
		if [[ $NATIVE_ONLY != 1 ]]; then
			b=$W/arch.$k.o
			mkdir -p "$b/x" "$b/rx" "$b/cwd/sub"
			mkarchive "$b.tar" "$k" "$b"
			touch "$b/.marker"
			sleep 0.01
			(cd "$b/cwd/sub" && echo | timeout "$TO" "$OPSUB" run --root "$b.tar" "$BIN/readpaths" / ok=ok/file \
				evil_dotdot=/evil-dotdot evil_mid=/evil-mid "evil_deep=$b/evil-deep" "evil_abs=$b/evil-abs" \
				"xy=$b/x/y" ly=l/y rly=rl/y h=h h2=h2 hin=hin zero=zero urandom=urandom disk=disk fifo=+fifo \
				sl=sl hlink=hlink hself=hself hmiss=hmiss hdir=hdir hlater=hlater okx=ok/x dbl=dbl oky=ok/y \
				okz=ok/z s2=s2 s2y=s2/y h5=h5 "long=$(printf 'abcdefgh/%.0s' $(seq 500))f" zdot=evil-zip) \
				>"$pre.o.out" 2>"$pre.o.err"
			rc=$?
			no_leak "$pre.o"
			# nothing written on the host: not where the entries aim, not in the cwd
			for f in ${ARCH_HOST[$k]}; do
				[[ -e $b/$f || -L $b/$f ]] && OERR+=("OPSUB WROTE $f ON THE HOST")
			done
			f=$(find "$b" "$W/cwd" -newer "$b/.marker" 2>/dev/null | grep -v -e "^$b/.marker\$" | head -n3 | tr '\n' ' ')
			[[ -z $f ]] || OERR+=("new host files while loading: $f")
			if ((rc != 0)) && ! grep -q '^DONE' "$pre.o.out"; then
				# refused: one clear line, no internal error, no signal, no hang
				lines=$(grep -c . "$pre.o.err")
				if ((rc == 124 || rc >= 128)) || grep -q 'internal error' "$pre.o.err" || ((lines != 1)) ||
					! grep -q '^opsub: ' "$pre.o.err"; then
					OERR+=("refused without one clear line (status $rc): $(head -n3 "$pre.o.err" | tr '\n' ' ' | cut -c1-200)")
				fi
			else
				opsub_health "$pre.o" $rc
				expect_ok "$pre.o" R ok fine
				case $k in
				hardlink) expect_ok "$pre.o" R hin fine ;;
				devices) expect_err "$pre.o" R '[A-Z]+' zero urandom disk ;;
				esac
			fi
		fi
		verdict "archive/$k"
	done
}

# ---- pointers outside the guest's memory in the file calls ------------------------------

test_sysptr_fs() {
	local pre=$W/sysptr_fs l bad=0
	mkdir -p "$W/spn" "$W/spv"
	echo "volume file" >"$W/spv/f"
	native "$pre.n" "$W" sysptr_fs native "$W/spn" "$W/spv/f"
	if l=$(grep -m1 '^OP .* ERR' "$pre.n.out"); then NERR+=("natively: $l"); fi
	(($(grep -c '^OP ' "$pre.n.out") >= 24)) || NERR+=("only $(grep -c '^OP ' "$pre.n.out") calls ran natively")
	grep -q '^COUNT written_back@7f0000000000 [1-9]' "$pre.n.out" || NERR+=("pwrite from the mapped page wrote nothing natively")
	if [[ $NATIVE_ONLY != 1 ]]; then
		guest "$pre.o" --volume "$W/spv:/vol:ro" -- sysptr_fs guest /tmp /vol/f
		opsub_health "$pre.o" $ORC
		while read -r l; do
			OERR+=("${l#OP }")
			((++bad >= 6)) && break
		done < <(grep '^OP ' "$pre.o.out" | grep -v ' ERR EFAULT$')
		(($(grep -c '^OP ' "$pre.o.out") >= 85)) || OERR+=("only $(grep -c '^OP ' "$pre.o.out") calls ran")
		if l=$(grep -m1 '^COUNT written_back@[0-9a-f]* [1-9]' "$pre.o.out"); then OERR+=("bytes from outside came back: $l"); fi
	fi
	verdict sysptr_fs
}

# ---- the monitor's own tree: cycles, mount points, depth ---------------------------------

TREE_SAME=(into_own_child into_self into_child_dotdot into_child_via_link onto_self child_over_parent
	parent_over_child dir_over_nonempty dir_over_file file_over_dir rename_dot rename_dotdot rename_root
	rename_to_root rmdir_root rmdir_dot rmdir_nonempty unlink_dir link_dir exchange_parent_child mkdir_gone
	chdir_gone rmdir_cwd create_in_removed_cwd mkdir_in_removed_cwd chdir_back rmdir_held
	create_in_removed_held mkdirat_in_removed_held rename_held)
test_tree_abuse() {
	local pre n nv ov
	# cycle: natively Linux's answers; under opsub the same, and the walk ends
	pre=$W/tree.cycle
	rm -rf "$W/treen"
	mkdir -p "$W/treen"
	native "$pre.n" "$W" tree_abuse cycle "$W/treen"
	grep -q '^COUNT nodes' "$pre.n.out" || NERR+=("the native walk did not end")
	if [[ $NATIVE_ONLY != 1 ]]; then
		guest "$pre.o" "${ROOTVOL[@]}" -- tree_abuse cycle /tmp
		opsub_health "$pre.o" $ORC
		for n in "${TREE_SAME[@]}"; do
			nv=$(get "$pre.n" OP "$n") ov=$(get "$pre.o" OP "$n")
			[[ $nv == "$ov" ]] || OERR+=("$n: Linux says $nv, opsub $ov")
		done
		grep -q '^COUNT nodes' "$pre.o.out" || OERR+=("the walk of the tree never ended")
		grep -q '^NOTE walk deeper' "$pre.o.out" && OERR+=("A CYCLE in the tree: the walk went deeper than 200")
	fi
	verdict tree_abuse/cycle
	# mount: the volume's mount point cannot be moved, removed or covered
	pre=$W/tree.mount
	rm -rf "$W/treem"
	mkdir -p "$W/treem/vol"
	echo "hello from the volume" >"$W/treem/vol/hello"
	native "$pre.n" "$W" tree_abuse mount "$W/treem" "$W/treem/vol"
	native_ok "$pre.n" OP rename_mount
	if [[ $NATIVE_ONLY != 1 ]]; then
		guest "$pre.o" "${ROOTVOL[@]}" -- tree_abuse mount /tmp /vol
		opsub_health "$pre.o" $ORC
		expect_err "$pre.o" OP '[A-Z]+' rename_mount rmdir_mount unlink_mount rename_over_mount exchange_mount symlink_over_mount
		expect_ok "$pre.o" R still_reads "hello from the volume"
	fi
	verdict tree_abuse/mount
	# nest: a tree deeper than any path (old trees renamed into new chains)
	# until the budget ends; opsub must then exit cleanly (freeing it)
	pre=$W/tree.nest
	rm -rf "$W/treed"
	mkdir -p "$W/treed"
	native "$pre.n" "$W" tree_abuse nest "$W/treed" 10000
	(($(count "$pre.n" depth) >= 10000)) || NERR+=("depth $(count "$pre.n" depth) natively")
	rm -rf "$W/treed"
	if [[ $NATIVE_ONLY != 1 ]]; then
		guest "$pre.o" -- tree_abuse nest /tmp 10000000
		opsub_health "$pre.o" $ORC
		expect_err "$pre.o" OP ENOSPC fill
		(($(count "$pre.o" depth) >= 100000)) || OERR+=("only $(count "$pre.o" depth) levels before $(get "$pre.o" OP fill)")
	fi
	verdict tree_abuse/nest
}

# ---- main -------------------------------------------------------------------------------------

for t in "${TESTS[@]}"; do
	case $t in
	dotdot) built dotdot && test_dotdot ;;
	abs_symlink) built readpaths && test_abs_symlink ;;
	rel_symlink) built readpaths && test_rel_symlink ;;
	guest_symlink) built guest_symlink && test_guest_symlink ;;
	meta_symlink) built readpaths && test_meta_symlink ;;
	rename_race) built race_open && built racer && test_rename_race ;;
	proc_magic) built proc_magic && built readpaths && test_proc_magic ;;
	huge_file) built huge_file && test_huge_file ;;
	fd_exhaustion) built fd_exhaustion && test_fd_exhaustion ;;
	volume_write) built volume_write && test_volume_write ;;
	root_copy) built root_copy && test_root_copy ;;
	image_special) built readpaths && test_image_special ;;
	volume_special) built readpaths && test_volume_special ;;
	archive) built readpaths && test_archive ;;
	tree_abuse) built tree_abuse && test_tree_abuse ;;
	sysptr_fs) built sysptr_fs && test_sysptr_fs ;;
	*) echo "FAIL fsjail/$t: no such test" ;;
	esac
done
((${#MEASURES[@]})) && echo "fsjail: measured (RSS over an idle guest's, host descriptors): ${MEASURES[*]}"
exit 0
