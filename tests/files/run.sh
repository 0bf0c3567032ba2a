#!/bin/bash
# Files suite: real programs using the guest file system.  Debian's static
# busybox (busybox-static, /bin/busybox) runs natively with its cwd in an image
# directory this script builds, and under opsub with "--root IMAGE" (guest cwd
# "/"), and the two must agree byte for byte on stdout, stderr and exit status
# for applets given RELATIVE paths.  Also: the image given as a tar archive, a
# read-only volume, writes in the guest root never reaching the host, and the
# guest's default view (/tmp, /dev, RLIMIT_NOFILE, --tmp-size) checked against
# what opsub promises.
#
# Prints one line per test, "PASS files/NAME", "FAIL files/NAME: why" or
# "SKIP files/NAME: why", and exits 0 after printing, as tests/run expects.
#
# busybox-static forks for every applet that "sh -c" runs (Debian builds it
# without FEATURE_SH_NOFORK), and opsub has no processes (fork, clone and
# execve return ENOSYS).  So each applet is its own run: a write applet (cp,
# mv, rm, mkdir, touch, ...) runs natively in a fresh copy of the image, the
# way every opsub run starts from a fresh private copy, and "sh -c" scripts use
# shell builtins only (cd, pwd, echo and redirections, read, globs, test).
# What a pipeline does under opsub is its own test (files/sh-fork-enosys).
#
# Usage: tests/files/run.sh [NAME...]     (default: all tests)
# Environment:
#   OPSUB          translator to test (default build/opsub)
#   BUSYBOX        busybox binary (default /bin/busybox)
#   FILES_TIMEOUT  seconds per run, native and opsub each (default 60)
# Outputs of the last run of each test are kept in build/tests/files/NAME.*
# (native.out/.err/.rc, opsub.out/.err/.rc).

set -u
cd "$(dirname "$0")/../.." || exit 2

OPSUB=${OPSUB:-build/opsub}
BB=${BUSYBOX:-/bin/busybox}
T=${FILES_TIMEOUT:-60}
OUT=build/tests/files
ROOTDIR=$(pwd)

if [ ! -x "$OPSUB" ]; then
	echo "FAIL files: $OPSUB is missing or not executable (build it first: make)"
	exit 0
fi
case $OPSUB in /*) ;; *) OPSUB=$ROOTDIR/$OPSUB ;; esac
if [ ! -x "$BB" ]; then
	echo "FAIL files: $BB is missing (apt-get install busybox-static; scripts/deps.sh installs it)"
	exit 0
fi
if ! file -L "$BB" 2>/dev/null | grep -q 'statically linked'; then
	if command -v file >/dev/null 2>&1; then
		echo "FAIL files: $BB is not statically linked (install busybox-static, not busybox)"
		exit 0
	fi
fi
mkdir -p "$OUT" || exit 2

WORK=$(mktemp -d /tmp/opsub-files.XXXXXX) || exit 2
trap 'chmod -R u+w "$WORK" 2>/dev/null; rm -rf "$WORK"' EXIT
trap 'exit 130' INT TERM
IMG=$WORK/image
VOL=$WORK/volume

# Same environment on both sides: no locale, UTC, nothing from the caller.
ENV=(env -i LC_ALL=C TZ=UTC PATH=/usr/bin:/bin HOME=/)

wanted() { # wanted NAME: true when NAME was asked for (or nothing was)
	[ ${#SELECT[@]} -eq 0 ] && return 0
	local w
	for w in "${SELECT[@]}"; do [ "$w" = "$1" ] && return 0; done
	return 1
}
SELECT=("$@")

clip() { # one printable line of at most 120 characters
	tr '\n' '|' | tr -c '[:print:]' '?' | cut -c 1-120
}

# ---- the image --------------------------------------------------------------

build_image() { # build_image DIR
	local d=$1
	mkdir -p "$d/sub/deeper" "$d/sub/empty" "$d/tmp" "$d/dev" "$d/proc"
	printf 'one x\ntwo\nthree x\nfour\nfive xx\nsix\nseven x\neight\nnine\nten x\neleven\ntwelve\n' >"$d/a.txt"
	printf 'pear\napple\nfig\nbanana\ncherry\napple\nkiwi\n' >"$d/b.txt"
	printf '10\n9\n100\n-3\n42\n7\n0\n1000\n' >"$d/nums.txt"
	printf 'spaces in the name\n' >"$d/name with spaces.txt"
	printf 'c line 1\nc line 2 x\n' >"$d/sub/c.txt"
	printf 'deep\n' >"$d/sub/deeper/d.txt"
	printf 'binary\001\002\003\377\n' >"$d/sub/deeper/e.dat"
	printf '#!/bin/sh\necho script\n' >"$d/run.sh"
	"$BB" seq 1 60000 >"$d/big.txt"
	gzip -9 -n -c "$d/big.txt" >"$d/big.txt.gz"
	(cd "$d" && md5sum a.txt b.txt sub/c.txt >sums.md5)
	ln -s a.txt "$d/link"
	ln -s sub "$d/dirlink"
	ln -s nowhere "$d/dangling"
	tar --sort=name --mtime='2020-01-02 03:04:05 UTC' --owner=0 --group=0 --numeric-owner \
		-C "$d" -cf "$d/inner.tar" sub
	find "$d" -type f -exec chmod 0644 {} +
	find "$d" -type d -exec chmod 0755 {} +
	chmod 0600 "$d/b.txt"
	chmod 0755 "$d/run.sh"
	chmod 1777 "$d/tmp"
	find "$d" -depth -exec touch -h -d '2020-01-02 03:04:05 UTC' {} +
}

image_sum() { # image_sum DIR: one hash of names, types, modes, sizes, mtimes, link targets and contents
	(cd "$1" && find . -printf '%p %y %m %s %T@ %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum) | sha256sum | cut -d' ' -f1
}

build_image "$IMG" || { echo "FAIL files: cannot build the image in $IMG"; exit 0; }
mkdir -p "$VOL/sub" && printf 'volume file x\n' >"$VOL/x" && printf 'in sub\n' >"$VOL/sub/y" ||
	{ echo "FAIL files: cannot build the volume in $VOL"; exit 0; }
IMG_SUM=$(image_sum "$IMG")
VOL_SUM=$(image_sum "$VOL")

# ---- running ----------------------------------------------------------------

# run_native NAME DIR ARGS...: busybox ARGS with cwd DIR -> $OUT/NAME.native.*
run_native() {
	local name=$1 dir=$2
	shift 2
	(cd "$dir" && "${ENV[@]}" timeout -k 5 "$T" "$BB" "$@" <"$IMG/a.txt" >"$ROOTDIR/$OUT/$name.native.out" 2>"$ROOTDIR/$OUT/$name.native.err")
	echo $? >"$OUT/$name.native.rc"
}

# run_opsub NAME OPTS... -- ARGS...: opsub run OPTS busybox ARGS -> $OUT/NAME.opsub.*
run_opsub() {
	local name=$1
	shift
	local -a opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	(cd "$WORK" && "${ENV[@]}" timeout -k 5 "$T" "$OPSUB" run "${opts[@]}" "$BB" "$@" <"$IMG/a.txt" \
		>"$ROOTDIR/$OUT/$name.opsub.out" 2>"$ROOTDIR/$OUT/$name.opsub.err")
	echo $? >"$OUT/$name.opsub.rc"
}

# verdict NAME: compares native and opsub captures, prints PASS or FAIL.
verdict() {
	local name=$1 n=$OUT/$1.native o=$OUT/$1.opsub
	local nrc orc why=""
	nrc=$(cat "$n.rc") orc=$(cat "$o.rc")
	if [ "$orc" = 124 ] || [ "$orc" = 137 ]; then
		why="opsub timed out after ${T}s"
	elif [ "$nrc" != "$orc" ]; then
		why="exit status native $nrc, opsub $orc"
	fi
	if ! cmp -s "$n.out" "$o.out"; then
		local line
		line=$(diff "$n.out" "$o.out" | grep -m 3 '^[<>]' | clip)
		why="${why:+$why; }stdout differs ($(wc -c <"$n.out") vs $(wc -c <"$o.out") bytes): $line"
	fi
	if ! cmp -s "$n.err" "$o.err"; then
		why="${why:+$why; }stderr native '$(clip <"$n.err")', opsub '$(clip <"$o.err")'"
	fi
	if [ -z "$why" ]; then
		echo "PASS files/$name"
	else
		echo "FAIL files/$name: $why"
	fi
}

# filters applied to both captures before comparing
sort_out() { local f; for f in "$OUT/$1.native.out" "$OUT/$1.opsub.out"; do LC_ALL=C sort "$f" -o "$f"; done; }
unprefix() { # unprefix NAME DIR: DIR (native absolute paths) -> "" in the native captures
	sed -i -e "s|^$2\$|/|" -e "s|$2||g" "$OUT/$1.native.out" "$OUT/$1.native.err"
}

# t NAME [--sort] [--rel] ARGS...: a read-only applet on the image.
t() {
	local name=$1
	shift
	wanted "$name" || return 0
	local sort=0 rel=0
	while :; do
		case ${1:-} in
		--sort) sort=1; shift ;;
		--rel) rel=1; shift ;;
		*) break ;;
		esac
	done
	run_native "$name" "$IMG" "$@"
	run_opsub "$name" --root "$IMG" -- "$@"
	[ $rel -eq 1 ] && unprefix "$name" "$IMG"
	[ $sort -eq 1 ] && sort_out "$name"
	verdict "$name"
}

# w NAME ARGS...: a write applet: native in a fresh copy of the image.
w() {
	local name=$1
	shift
	wanted "$name" || return 0
	local copy=$WORK/copy
	rm -rf "$copy" && cp -a "$IMG" "$copy"
	run_native "$name" "$copy" "$@"
	run_opsub "$name" --root "$IMG" -- "$@"
	unprefix "$name" "$copy"
	verdict "$name"
}

# ---- (a) busybox, read-only applets ------------------------------------------

t ls-1 ls -1 .
t ls-1a ls -1a sub
t ls-1R-sub ls -1R sub
t ls-1F ls -1F .
t ls-1-dirlink ls -1 dirlink/
t ls-ln-sub ls -ln --full-time sub/c.txt sub/deeper/d.txt sub/deeper/e.dat
t ls-lnd-dirs ls -lnd --full-time sub sub/empty sub/deeper tmp
t ls-ln-files ls -ln --full-time a.txt b.txt link run.sh big.txt
t ls-missing ls nope
t cat cat a.txt
t cat-link cat link
t cat-spaces cat "name with spaces.txt"
t cat-deep cat sub/deeper/d.txt sub/deeper/e.dat
t cat-stdin cat
t cat-missing cat nope.txt
t cat-dir cat sub
t cat-dangling cat dangling
t wc-l wc -l a.txt
t wc wc a.txt b.txt big.txt
t sort sort b.txt
t sort-nr sort -n -r nums.txt
t sort-u sort -u b.txt a.txt
t md5sum md5sum a.txt big.txt big.txt.gz
t md5sum-c md5sum -c sums.md5
t sha256sum sha256sum big.txt sub/deeper/e.dat
t head-n3 head -n 3 a.txt
t head-c head -c 100 big.txt
t tail-n2 tail -n 2 a.txt
t tail-c tail -c 50 big.txt
t tail-big tail -n 3 big.txt
t grep-c grep -c x a.txt
t grep-n grep -n x a.txt sub/c.txt
t grep-r --sort grep -rn x sub
t grep-l --sort grep -l x a.txt b.txt sub/c.txt nums.txt
t find-f --sort find . -path ./proc -prune -o -type f -print
t find-name --sort find . -name '*.txt'
t find-d --sort find sub -type d
t find-l --sort find . -path ./proc -prune -o -path ./dev -prune -o -type l -print
t find-empty --sort find . -path ./proc -prune -o -path ./dev -prune -o -empty -print
t stat-sF stat -c '%s %F' a.txt
t stat-files stat -c '%n %s %F %a %h' a.txt b.txt link run.sh big.txt "name with spaces.txt"
t stat-dirs stat -c '%n %F %a' sub sub/empty tmp dirlink
t stat-L stat -L -c '%n %s %F %a' link dirlink
t stat-mtime stat -c '%n %Y %y' a.txt sub/c.txt
t stat-missing stat nope
t readlink readlink link
t readlink-dir readlink dirlink
t readlink-dangling readlink dangling
t readlink-notlink readlink a.txt
t readlink-f --rel readlink -f link
t realpath --rel realpath sub/../dirlink/deeper/d.txt
t dd-skip dd if=big.txt bs=1000 skip=5 count=2 status=none
t od od -A x -t x1z -N 64 big.txt.gz
t hexdump hexdump -C sub/deeper/e.dat
t gunzip-c gunzip -c big.txt.gz
t tar-t tar -tf inner.tar
t tar-tv tar -tvf inner.tar
t cmp cmp a.txt b.txt
t cmp-same cmp a.txt link
t diff diff a.txt sub/c.txt
t tac tac a.txt
t nl nl b.txt
t uniq uniq -c b.txt
t cut cut -c 1-3 b.txt
t sed-n sed -n '2,4p;$p' a.txt
t awk awk '{ s += $1 } END { print s, NR }' nums.txt
t test-f test -f a.txt
t test-d-fail test -d a.txt
t pwd --rel pwd

# shell builtins only: no fork.  Native absolute paths are shown relative.
SH_SCRIPT='cd sub && pwd && cd ..
echo *
echo sub/* sub/*/*
echo line1 > tmp/f; echo line2 >> tmp/f; echo line3 >> tmp/f
while read l; do echo "got $l"; done < tmp/f
echo tmp/*
[ -f a.txt ] && echo a.txt is a file
[ -d sub ] && echo sub is a dir
[ -L link ] && echo link is a link
[ -e nope ] || echo nope does not exist
[ -s sub/empty ] || echo sub/empty is empty
[ -x run.sh ] && echo run.sh is executable
[ -w a.txt ] && echo a.txt is writable
set -- sub/deeper/*; echo "$# entries in sub/deeper"
exec 3< a.txt; read first <&3; read second <&3; exec 3<&-; echo "$first / $second"
exec 4> tmp/g; echo via fd 4 >&4; exec 4>&-; read v < tmp/g; echo "$v"
cd nope 2>/dev/null || echo cd nope failed
cd dirlink && pwd && cd ..
cd sub/deeper; cd ../..; [ -f a.txt ] && echo back at the top
: > tmp/empty; [ -s tmp/empty ] || echo tmp/empty is empty
echo tmp/*
read -r big < big.txt; echo "first of big.txt: $big"
umask 077; echo secret > tmp/s; umask
echo done'
w sh-builtins sh -c "$SH_SCRIPT"

# ---- (a) busybox, write applets (native: on a fresh copy) ---------------------

w cp cp a.txt tmp/a2.txt
w cp-r cp -r sub tmp/
w cp-a cp -a sub tmp/s2
w cp-missing cp nope tmp/
w cp-onto-dir cp a.txt sub
w mv mv b.txt tmp/
w mv-dir mv sub tmp/sub2
w mv-missing mv nope tmp/
w rm rm a.txt
w rm-r rm -r sub
w rm-rf-missing rm -rf nope
w rm-missing rm nope
w rm-dir rm sub
w rmdir-empty rmdir sub/empty
w rmdir-nonempty rmdir sub
w mkdir-p mkdir -p tmp/x/y/z
w mkdir-exists mkdir sub
w mkdir-parent-missing mkdir nope/x
w touch-new touch tmp/new
w touch-existing touch a.txt
w ln-s ln -s a.txt tmp/l2
w ln-hard ln a.txt tmp/hard
w chmod chmod 600 a.txt
w truncate truncate -s 10 a.txt
w sed-i sed -i s/x/y/ a.txt
w tar-x tar -xf inner.tar -C tmp
w tar-c tar -cf tmp/sub.tar sub
w dd-of dd if=big.txt of=tmp/copy bs=4096 status=none
w gzip-k gzip -k a.txt
w split split -l 5000 big.txt tmp/part-

# ---- (a) things opsub does not do: processes ----------------------------------

if wanted sh-fork-enosys; then
	# Natively a pipeline works; under opsub fork is ENOSYS: busybox must say so and fail.
	name=sh-fork-enosys
	run_native $name "$IMG" sh -c 'echo a | tr a b'
	run_opsub $name --root "$IMG" -- sh -c 'echo a | tr a b'
	nrc=$(cat "$OUT/$name.native.rc") orc=$(cat "$OUT/$name.opsub.rc")
	if [ "$nrc" != 0 ] || [ "$(cat "$OUT/$name.native.out")" != b ]; then
		echo "FAIL files/$name: natively the pipeline printed '$(clip <"$OUT/$name.native.out")' with status $nrc, not 'b' and 0"
	elif [ "$orc" = 0 ]; then
		echo "FAIL files/$name: under opsub the pipeline exited 0 (stdout '$(clip <"$OUT/$name.opsub.out")'): fork is supposed to fail"
	elif ! grep -qi 'fork' "$OUT/$name.opsub.err" || ! grep -qiE 'not implemented|ENOSYS' "$OUT/$name.opsub.err"; then
		echo "FAIL files/$name: status $orc but no clear fork/ENOSYS message on stderr: '$(clip <"$OUT/$name.opsub.err")'"
	else
		echo "PASS files/$name"
	fi
fi

# ---- (a) the image as a tar archive -----------------------------------------

TAR=$WORK/image.tar
TGZ=$WORK/image.tar.gz
tar -C "$IMG" -cf "$TAR" . && gzip -c -n "$TAR" >"$TGZ"
TAR_SUM=$(sha256sum "$TAR" | cut -d' ' -f1)
# ta NAME ROOT [--sort] ARGS...: like t, with --root ROOT (an archive).
ta() {
	local name=$1 root=$2
	shift 2
	wanted "$name" || return 0
	local sort=0
	[ "${1:-}" = --sort ] && { sort=1; shift; }
	run_native "$name" "$IMG" "$@"
	run_opsub "$name" --root "$root" -- "$@"
	[ $sort -eq 1 ] && sort_out "$name"
	verdict "$name"
}
ta tar-ls-1 "$TAR" ls -1 .
ta tar-ls-1R-sub "$TAR" ls -1R sub
ta tar-cat "$TAR" cat a.txt sub/c.txt
ta tar-md5sum "$TAR" md5sum big.txt big.txt.gz sub/deeper/e.dat
ta tar-readlink "$TAR" readlink link
ta tar-cat-link "$TAR" cat link dirlink/c.txt
ta tar-stat "$TAR" stat -c '%n %s %F %a' a.txt b.txt link run.sh sub/c.txt
ta tar-stat-mtime "$TAR" stat -c '%n %Y' a.txt sub/deeper/d.txt
ta tar-find-f "$TAR" --sort find . -path ./proc -prune -o -type f -print
ta tar-find-l "$TAR" --sort find . -path ./proc -prune -o -path ./dev -prune -o -type l -print
ta tgz-md5sum "$TGZ" md5sum a.txt big.txt sub/c.txt
ta tgz-ls-1R-sub "$TGZ" ls -1R sub
if wanted tar-root-unchanged; then
	w_before=$TAR_SUM
	run_opsub tar-root-unchanged --root "$TAR" -- rm -r sub
	if [ "$(sha256sum "$TAR" | cut -d' ' -f1)" = "$w_before" ] && [ "$(image_sum "$IMG")" = "$IMG_SUM" ]; then
		echo "PASS files/tar-root-unchanged"
	else
		echo "FAIL files/tar-root-unchanged: the archive or the image changed after rm -r sub in the guest"
	fi
fi

# ---- (a) a read-only volume ----------------------------------------------------

# v NAME OPTS... -- ARGS...: opsub only, with the volume; prints nothing itself.
v() { local name=$1; shift; run_opsub "$name" "$@"; }
vr() { cat "$OUT/$1.opsub.rc"; }
vout() { cat "$OUT/$1.opsub.out"; }
verr() { clip <"$OUT/$1.opsub.err"; }
VOLOPT=(--volume "$VOL:/data:ro")

if wanted vol-cat; then
	v vol-cat "${VOLOPT[@]}" -- cat /data/x /data/sub/y
	if [ "$(vr vol-cat)" = 0 ] && cmp -s "$OUT/vol-cat.opsub.out" <(cat "$VOL/x" "$VOL/sub/y"); then
		echo "PASS files/vol-cat"
	else
		echo "FAIL files/vol-cat: status $(vr vol-cat), stdout '$(clip <"$OUT/vol-cat.opsub.out")', stderr '$(verr vol-cat)'"
	fi
fi
if wanted vol-ls; then
	v vol-ls "${VOLOPT[@]}" -- ls -1R /data
	want=$(cd "$WORK" && ls -1R volume | sed 's|^volume|/data|')
	if [ "$(vr vol-ls)" = 0 ] && [ "$(vout vol-ls)" = "$want" ]; then
		echo "PASS files/vol-ls"
	else
		echo "FAIL files/vol-ls: status $(vr vol-ls), stdout '$(clip <"$OUT/vol-ls.opsub.out")', want '$(echo "$want" | clip)'"
	fi
fi
# vol_refused NAME ARGS...: a write to the volume must fail with EROFS's message.
vol_refused() {
	local name=$1
	shift
	wanted "$name" || return 0
	v "$name" "${VOLOPT[@]}" -- "$@"
	if [ "$(vr "$name")" != 0 ] && grep -q 'Read-only file system' "$OUT/$name.opsub.err" && [ "$(image_sum "$VOL")" = "$VOL_SUM" ]; then
		echo "PASS files/$name"
	else
		echo "FAIL files/$name: status $(vr "$name"), stderr '$(verr "$name")'$([ "$(image_sum "$VOL")" = "$VOL_SUM" ] || echo ', and the host volume CHANGED')"
	fi
}
vol_refused vol-touch-new touch /data/y
vol_refused vol-touch-existing touch /data/x
vol_refused vol-sh-redirect sh -c 'echo hi > /data/z'
vol_refused vol-append sh -c 'echo hi >> /data/x'
vol_refused vol-rm rm /data/x
vol_refused vol-mkdir mkdir /data/d
vol_refused vol-mkdir-p mkdir -p /data/e/f
vol_refused vol-rmdir rm -r /data/sub
vol_refused vol-truncate truncate -s 0 /data/x
vol_refused vol-mv mv /data/x /data/x2
if wanted vol-with-root; then
	run_opsub vol-with-root --root "$IMG" "${VOLOPT[@]}" -- sh -c 'read l < /data/x; echo "$l"; read l < a.txt; echo "$l"; cd /data; echo *'
	if [ "$(vr vol-with-root)" = 0 ] && [ "$(vout vol-with-root)" = "$(printf 'volume file x\none x\nsub x')" ]; then
		echo "PASS files/vol-with-root"
	else
		echo "FAIL files/vol-with-root: status $(vr vol-with-root), stdout '$(clip <"$OUT/vol-with-root.opsub.out")', stderr '$(verr vol-with-root)'"
	fi
fi
if wanted vol-unchanged; then
	[ -e "$VOL/y" ] || [ -e "$VOL/z" ] || [ -e "$VOL/d" ] || [ -e "$VOL/x2" ] && found=yes || found=no
	if [ "$(image_sum "$VOL")" = "$VOL_SUM" ] && [ $found = no ]; then
		echo "PASS files/vol-unchanged"
	else
		echo "FAIL files/vol-unchanged: the host volume directory changed (new entries: $found)"
	fi
fi

# Links between volumes, as Debian's library directories have them
# (/usr/lib/x86_64-linux-gnu/libclang-cpp.so.14 -> ../llvm-14/lib/...):
# followed in the guest's tree, relative ones from their directory, out of
# one volume into another, and ".." at a volume's root leaves the volume.
# The host holds the same layout under $WORK/ns, so relative paths give the
# native answer; an absolute link names the guest's path.
if wanted vol-links; then
	NS=$WORK/ns
	mkdir -p "$NS/lib/x86/sub" "$NS/lib/other" && echo 'in other' >"$NS/lib/other/t.txt" &&
		echo 'in sub' >"$NS/lib/x86/sub/y" && ln -s ../other/t.txt "$NS/lib/x86/rel" &&
		ln -s /lib/other/t.txt "$NS/lib/x86/abs" && ln -s ../other "$NS/lib/x86/dir" &&
		ln -s rel "$NS/lib/x86/chain" && ln -s sub/y "$NS/lib/x86/inside" ||
		{ echo "FAIL files/vol-links: cannot build the volumes in $NS"; }
	paths=(x86/rel x86/dir/t.txt x86/chain x86/inside x86/../other/t.txt x86/sub/../../other/t.txt)
	want=$(cd "$NS/lib" && cat "${paths[@]}" other/t.txt)
	vlinks=(--volume "$NS/lib/x86:/lib/x86:ro" --volume "$NS/lib/other:/lib/other:ro")
	run_opsub vol-links "${vlinks[@]}" -- cat "${paths[@]/#//lib/}" /lib/x86/abs
	run_opsub vol-links-readlink "${vlinks[@]}" -- readlink /lib/x86/rel
	# a loop through both volumes ends in ELOOP, as natively
	ln -s ../other/loop "$NS/lib/x86/loop" && ln -s ../x86/loop "$NS/lib/other/loop"
	run_opsub vol-links-loop "${vlinks[@]}" -- cat /lib/x86/loop
	loop_native=$(cd "$NS/lib" && cat x86/loop 2>&1 | sed 's/.*: //')
	if [ "$(vr vol-links)" = 0 ] && [ "$(vout vol-links)" = "$want" ] && [ "$(vout vol-links-readlink)" = ../other/t.txt ] &&
		[ "$(vr vol-links-loop)" = 1 ] && [ "$(sed 's/.*: //' "$OUT/vol-links-loop.opsub.err")" = "$loop_native" ]; then
		echo "PASS files/vol-links"
	else
		echo "FAIL files/vol-links: status $(vr vol-links), stdout '$(clip <"$OUT/vol-links.opsub.out")', want '$(echo "$want" | clip)', stderr '$(verr vol-links)', readlink '$(vout vol-links-readlink)', loop: status $(vr vol-links-loop) '$(verr vol-links-loop)'"
	fi
fi

# --host-libs shows Debian's /etc/alternatives too: libblas.so.3 and
# liblapack.so.3 in the library directories link through it, back into them.
if wanted host-libs-alternatives; then
	alt=""
	for l in /etc/alternatives/*; do
		r=$(readlink -f "$l")
		case $r in /usr/lib/x86_64-linux-gnu/* | /lib/x86_64-linux-gnu/*) [ -f "$r" ] && { alt=$l; break; } ;; esac
	done
	if [ -z "$alt" ]; then
		echo "SKIP files/host-libs-alternatives: no link in /etc/alternatives leads into the library directories on this host (libblas3 installs some)"
	else
		run_opsub host-libs-alternatives --host-libs -- md5sum "$alt"
		if [ "$(vr host-libs-alternatives)" = 0 ] && [ "$(vout host-libs-alternatives)" = "$(md5sum "$alt")" ]; then
			echo "PASS files/host-libs-alternatives"
		else
			echo "FAIL files/host-libs-alternatives: md5sum $alt: status $(vr host-libs-alternatives), stdout '$(clip <"$OUT/host-libs-alternatives.opsub.out")', stderr '$(verr host-libs-alternatives)'"
		fi
	fi
fi

# A read-only shared mapping of a volume's file (the JDK's lib/modules,
# glibc's gconv-modules.cache): a copy, as a private one; the output of
# tests/files/map_shared.c must be the native one.
if wanted vol-map-shared; then
	if ! { [ "$OUT/map_shared" -nt tests/files/map_shared.c ] ||
		${MUSLCC:-musl-gcc} -std=gnu11 -O2 -Wall -Wextra -static -o "$OUT/map_shared" tests/files/map_shared.c \
			>"$OUT/map_shared.log" 2>&1; }; then
		echo "FAIL files/vol-map-shared: building tests/files/map_shared.c failed: $(clip <"$OUT/map_shared.log")"
	else
		want=$("$OUT/map_shared" "$VOL/x")
		got=$(cd "$WORK" && timeout -k 5 "$T" "$OPSUB" run "${VOLOPT[@]}" "$ROOTDIR/$OUT/map_shared" /data/x 2>&1)
		if [ "$got" = "$want" ]; then
			echo "PASS files/vol-map-shared"
		else
			echo "FAIL files/vol-map-shared: opsub '$(echo "$got" | clip)', native '$(echo "$want" | clip)'"
		fi
	fi
fi

# ---- (a) writes in the guest root never reach the host ------------------------

if wanted root-isolation; then
	bad=""
	for cmd in "rm -r sub" "sed -i s/x/y/ a.txt" "touch a.txt tmp/new" "mkdir -p tmp/a/b" "mv b.txt tmp/" \
		"truncate -s 0 big.txt" "chmod 000 a.txt" "ln -s a.txt tmp/l" "tar -xf inner.tar -C tmp" "cp -a sub tmp/s" \
		"dd if=big.txt of=a.txt bs=1000 count=1 status=none" "rm -f link dirlink dangling"; do
		# shellcheck disable=SC2086
		run_opsub root-isolation --root "$IMG" -- $cmd
		[ "$(image_sum "$IMG")" = "$IMG_SUM" ] || { bad="after '$cmd' the host image changed"; break; }
	done
	if [ -z "$bad" ]; then
		run_opsub root-isolation --root "$IMG" -- sh -c 'echo x > a.txt; echo y > new.txt; cd sub; echo z > c.txt; : > deeper/d.txt'
		[ "$(image_sum "$IMG")" = "$IMG_SUM" ] || bad="after shell redirections the host image changed"
		[ "$(cat "$OUT/root-isolation.opsub.rc")" = 0 ] || bad="${bad:+$bad; }the shell redirections failed: $(verr root-isolation)"
	fi
	if [ -z "$bad" ]; then echo "PASS files/root-isolation"; else echo "FAIL files/root-isolation: $bad"; fi
fi

# ---- (a) the default guest view ------------------------------------------------

# o NAME WANT-STDOUT OPTS... -- ARGS...: opsub only, status 0 and exact stdout.
o() {
	local name=$1 want=$2
	shift 2
	wanted "$name" || return 0
	run_opsub "$name" "$@"
	if [ "$(vr "$name")" = 0 ] && [ "$(vout "$name")" = "$want" ]; then
		echo "PASS files/$name"
	else
		echo "FAIL files/$name: status $(vr "$name"), stdout '$(clip <"$OUT/$name.opsub.out")', want '$(printf %s "$want" | clip)'; stderr '$(verr "$name")'"
	fi
}
if wanted view-root; then
	# Promised: an empty root except /tmp and /dev (/proc/self/exe, /proc/self/maps and /proc/self/fd are there too).
	run_opsub view-root -- ls -1 /
	got=$(vout view-root | grep -vx proc)
	if [ "$(vr view-root)" = 0 ] && [ "$got" = "$(printf 'dev\ntmp')" ]; then
		echo "PASS files/view-root"
	else
		echo "FAIL files/view-root: status $(vr view-root), ls -1 / gave '$(clip <"$OUT/view-root.opsub.out")', want dev, tmp (and proc)"
	fi
fi
o view-dev "$(printf 'fd\nnull\nrandom\nstderr\nstdin\nstdout\nurandom\nzero')" -- ls -1 /dev
o view-cwd / -- pwd
o view-tmp-mode "1777 directory" -- stat -c '%a %F' /tmp
o view-dev-types "$(printf '/dev/null character special file 1 3\n/dev/zero character special file 1 5\n/dev/random character special file 1 8\n/dev/urandom character special file 1 9')" \
	-- stat -c '%n %F %t %T' /dev/null /dev/zero /dev/random /dev/urandom
o view-tmp-write "$(printf 'f g\nx')" -- sh -c 'echo x > /tmp/f; : > /tmp/g; cd /tmp; echo *; read v < f; echo "$v"'
o view-nofile 1024 -- sh -c 'ulimit -n'
o view-dev-null "" -- cat /dev/null
o view-dev-null-write ok -- sh -c 'echo x > /dev/null && echo ok'
o view-dev-zero "$(printf '0000000 000000 000000 000000 000000 000000\n0000012')" -- od -A o -t o2 -N 10 /dev/zero
if wanted view-dev-urandom; then
	run_opsub view-dev-urandom -- dd if=/dev/urandom bs=16 count=2 status=none
	n=$(wc -c <"$OUT/view-dev-urandom.opsub.out")
	if [ "$(vr view-dev-urandom)" = 0 ] && [ "$n" = 32 ] && [ "$(od -An -tx1 "$OUT/view-dev-urandom.opsub.out" | tr -d ' \n')" != "$(printf '0%.0s' $(seq 64))" ]; then
		echo "PASS files/view-dev-urandom"
	else
		echo "FAIL files/view-dev-urandom: status $(vr view-dev-urandom), $n bytes (want 32 not all zero), stderr '$(verr view-dev-urandom)'"
	fi
fi
if wanted view-tmp-size; then
	# 2 MiB into a 1 MiB file system must fail with ENOSPC; into 4 MiB it fits.
	run_opsub view-tmp-size --tmp-size 1M -- dd if=/dev/zero of=/tmp/big bs=1024 count=2048 status=none
	r1=$(vr view-tmp-size) e1=$(verr view-tmp-size)
	run_opsub view-tmp-size --tmp-size 4M -- dd if=/dev/zero of=/tmp/big bs=1024 count=2048 status=none
	r2=$(vr view-tmp-size) e2=$(verr view-tmp-size)
	if [ "$r1" != 0 ] && echo "$e1" | grep -q 'No space left on device' && [ "$r2" = 0 ]; then
		echo "PASS files/view-tmp-size"
	else
		echo "FAIL files/view-tmp-size: --tmp-size 1M: status $r1, stderr '$e1' (want ENOSPC); --tmp-size 4M: status $r2, stderr '$e2' (want 0)"
	fi
fi
if wanted view-tmp-reclaim; then
	# One process against a 4 MiB budget (tests/files/space.c): what Linux's
	# tmpfs with size=4M prints for the same program (checked by hand with
	# unshare -m and mount -t tmpfs -o size=4M).
	want='write 3 MiB: all
unlink: ok
write 3 MiB again: all
unlink: ok
write 5 MiB: partial, ENOSPC
unlink: ok
held file 3 MiB: all
unlink while open: ok
write 3 MiB while the deleted file is open: partial, ENOSPC
the deleted file is still readable: yes
ftruncate it to 0: ok
write 3 MiB after shrinking it: all
write 3 MiB after closing it: all'
	if ! { [ "$OUT/space" -nt tests/files/space.c ] ||
		${MUSLCC:-musl-gcc} -std=gnu11 -O2 -Wall -Wextra -static -o "$OUT/space" tests/files/space.c >"$OUT/space.log" 2>&1; }; then
		echo "FAIL files/view-tmp-reclaim: building tests/files/space.c failed: $(clip <"$OUT/space.log")"
	else
		BB_SAVE=$BB BB=$ROOTDIR/$OUT/space
		run_opsub view-tmp-reclaim --tmp-size 4M --
		BB=$BB_SAVE
		if [ "$(vr view-tmp-reclaim)" = 0 ] && [ "$(vout view-tmp-reclaim)" = "$want" ]; then
			echo "PASS files/view-tmp-reclaim"
		else
			echo "FAIL files/view-tmp-reclaim: status $(vr view-tmp-reclaim), output '$(clip <"$OUT/view-tmp-reclaim.opsub.out")', stderr '$(verr view-tmp-reclaim)'"
		fi
	fi
fi
if wanted view-no-root-host; then
	# Without --root nothing of the host is visible: not its /etc, /bin or /work.
	run_opsub view-no-root-host -- ls -d /etc /bin "$ROOTDIR" /usr
	if [ "$(vr view-no-root-host)" != 0 ] && [ ! -s "$OUT/view-no-root-host.opsub.out" ]; then
		echo "PASS files/view-no-root-host"
	else
		echo "FAIL files/view-no-root-host: status $(vr view-no-root-host), stdout '$(clip <"$OUT/view-no-root-host.opsub.out")'"
	fi
fi

# The image itself must be untouched by everything above.
if wanted image-unchanged; then
	if [ "$(image_sum "$IMG")" = "$IMG_SUM" ]; then
		echo "PASS files/image-unchanged"
	else
		echo "FAIL files/image-unchanged: the host image directory changed during the suite"
	fi
fi
exit 0
