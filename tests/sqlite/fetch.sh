#!/bin/bash
# Fetches the SQLite amalgamation (sqlite3.c, sqlite3.h) into tests/sqlite/cache/
# from the npm package better-sqlite3, which bundles it under deps/sqlite3/.
# Nothing fetched is committed (tests/sqlite/cache/ is gitignored).
#
# Pinned: better-sqlite3 12.11.1, which bundles SQLite 3.53.2.  The SHA-256 of
# the npm tarball and of the two extracted files are checked, so a changed
# download is detected.  Idempotent: when both files are present with the
# right hashes it does nothing.  On failure it prints one line on stderr and
# exits non-zero.
set -u -o pipefail

PKG=better-sqlite3
VERSION=12.11.1
SQLITE_VERSION=3.53.2
TGZ_SHA256=ebf0ed75a7a59dbcb3b24bbd014ef49d9f15bc328e4adcbf516f2a8fadfa2835
C_SHA256=60d2f39a3726cd6b9021da6f4e868608d66fbb6528a9f513dc8ffcc640493422
H_SHA256=9e69a1353a4288450b0d5239ede11fc7f1f4c8e5eb07491fc8317eacb5b7de7e

cd "$(dirname "$0")" || exit 2
CACHE=cache
TGZ="$CACHE/$PKG-$VERSION.tgz"

fail() { echo "fetch.sh: $*" >&2; exit 1; }
sha_ok() { [ -f "$1" ] && [ "$(sha256sum "$1" | cut -d' ' -f1)" = "$2" ]; }

# Already there and intact: nothing to do.
if sha_ok "$CACHE/sqlite3.c" "$C_SHA256" && sha_ok "$CACHE/sqlite3.h" "$H_SHA256"; then
	exit 0
fi

command -v sha256sum >/dev/null || fail "sha256sum not found"
command -v tar >/dev/null || fail "tar not found"
mkdir -p "$CACHE" || fail "cannot create $CACHE"

if ! sha_ok "$TGZ" "$TGZ_SHA256"; then
	command -v npm >/dev/null || fail "npm not found (needed to download $PKG@$VERSION)"
	rm -f "$TGZ"
	# --ignore-scripts: never run the package's lifecycle scripts.
	if ! log=$(npm pack "$PKG@$VERSION" --pack-destination "$CACHE" \
		--ignore-scripts --no-audit --no-fund --loglevel=error \
		--fetch-retries=1 --fetch-timeout=60000 2>&1); then
		why=$(echo "$log" | grep -m1 -E 'reason:|^npm error code' || echo "$log" | grep -m1 .)
		fail "npm pack $PKG@$VERSION failed (network or registry unavailable?): ${why#npm error }"
	fi
	[ -f "$TGZ" ] || fail "npm pack did not produce $TGZ"
	if ! sha_ok "$TGZ" "$TGZ_SHA256"; then
		got=$(sha256sum "$TGZ" | cut -d' ' -f1)
		mv -f "$TGZ" "$TGZ.bad"
		fail "SHA-256 mismatch for $TGZ: got $got, want $TGZ_SHA256 (kept as $TGZ.bad)"
	fi
fi

tmp=$(mktemp -d "$CACHE/extract.XXXXXX") || fail "mktemp failed"
trap 'rm -rf "$tmp"' EXIT
tar -m -xzf "$TGZ" -C "$tmp" package/deps/sqlite3/sqlite3.c package/deps/sqlite3/sqlite3.h \
	|| fail "cannot extract deps/sqlite3/sqlite3.{c,h} from $TGZ"
sha_ok "$tmp/package/deps/sqlite3/sqlite3.c" "$C_SHA256" || fail "SHA-256 mismatch for extracted sqlite3.c"
sha_ok "$tmp/package/deps/sqlite3/sqlite3.h" "$H_SHA256" || fail "SHA-256 mismatch for extracted sqlite3.h"
grep -q "^#define SQLITE_VERSION  *\"$SQLITE_VERSION\"" "$tmp/package/deps/sqlite3/sqlite3.h" \
	|| fail "sqlite3.h is not SQLite $SQLITE_VERSION"
if ! { mv -f "$tmp/package/deps/sqlite3/sqlite3.h" "$CACHE/sqlite3.h" &&
	mv -f "$tmp/package/deps/sqlite3/sqlite3.c" "$CACHE/sqlite3.c"; }; then
	fail "cannot move files into $CACHE"
fi
exit 0
