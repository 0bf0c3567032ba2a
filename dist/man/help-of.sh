#!/bin/sh
# What help2man runs to read one page's source: invoked as PAGE --help (a
# link named opsub or opsub-CMD, made by mkman.sh), it prints
# `$OPSUB [CMD] --help` with the headings help2man recognises: "Usage:",
# "or:" for further synopsis lines, capitalised section titles.
page=${0##*/}
cmd=${page#opsub}
cmd=${cmd#-}
[ "$1" = --help ] || { echo "help-of.sh: only --help is answered (asked: $*)" >&2; exit 2; }
help=$("${OPSUB:?the opsub binary}" $cmd --help) || exit 1
printf '%s\n' "$help" | sed -e '1s/^usage:/Usage:/' -e 's/^       opsub /   or: opsub /' \
	-e 's/^\([a-z][a-z ]*\):$/\u\1:/'
