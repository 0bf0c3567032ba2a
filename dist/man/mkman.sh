#!/bin/sh
# mkman.sh OPSUB VERSION DOCDIR GUESTDIR PAGE OUT
# Writes the man page PAGE (opsub, or opsub-CMD for `opsub CMD`) to OUT with
# help2man, from the binary's --help alone: a page cannot say what the help
# does not.  dist/man/PAGE.h2m, if present, adds what a help text has no room
# for (files, environment, where the full documentation is); @DOCDIR@ and
# @GUESTDIR@ in it become the installed paths.  The NAME line of a command's
# page is its summary in `opsub --help`.
set -eu
[ $# -eq 6 ] || { echo "usage: mkman.sh OPSUB VERSION DOCDIR GUESTDIR PAGE OUT" >&2; exit 2; }
opsub=$1 version=$2 docdir=$3 guestdir=$4 page=$5 out=$6
here=$(cd "$(dirname "$0")" && pwd)
command -v help2man > /dev/null || { echo "mkman.sh: help2man is missing (./scripts/deps.sh installs it)" >&2; exit 1; }
case $opsub in /*) ;; *) opsub=$PWD/$opsub ;; esac
tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out.$$"' EXIT
ln -s "$here/help-of.sh" "$tmp/$page"   # help2man names the page after what it runs
cmd=${page#opsub}
cmd=${cmd#-}
name="run untrusted x86-64 programs as jailed, translated guests sharing one NIC"
if [ -n "$cmd" ]; then
	name=$("$opsub" --help | sed -n "s/^  $cmd  *\(.*\): opsub .*/\1/p")
	[ -n "$name" ] || { echo "mkman.sh: 'opsub --help' has no summary for $cmd" >&2; exit 1; }
fi
include=""
if [ -f "$here/$page.h2m" ]; then
	sed -e "s|@DOCDIR@|$docdir|g" -e "s|@GUESTDIR@|$guestdir|g" "$here/$page.h2m" > "$tmp/include.h2m"
	include="--include=$tmp/include.h2m"
fi
# the page's date: the last commit's, so a rebuild makes the same page
if [ -z "${SOURCE_DATE_EPOCH:-}" ] && epoch=$(git -C "$here" log -1 --format=%ct 2>/dev/null); then
	export SOURCE_DATE_EPOCH=$epoch
fi
OPSUB=$opsub help2man --no-info --section=1 --manual="opsub manual" --source="opsub $version" \
	--version-string="$version" --name="$name" $include --output="$out.$$" "$tmp/$page"
mv -f "$out.$$" "$out"   # whole, even with another build writing it too
