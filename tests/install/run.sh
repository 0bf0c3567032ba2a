#!/bin/bash
# Install and operator tests: `make install` into a temporary DESTDIR puts
# every listed file in place; the installed binary reports its version and
# runs; a guest builds against the installed SDK and runs; the man pages come
# from --help; the systemd unit verifies and its sandbox lets the daemon work;
# the completion completes; every command has a complete --help; `make
# uninstall` removes everything; tests/run refuses a suite that tested
# nothing.  Prints PASS/FAIL/SKIP lines (tests/run).
cd "$(dirname "$0")/../.." || exit 2
ROOT=$PWD
T=$(mktemp -d)
# the sandboxed daemon's pid, should its script be cut short
cleanup() { [ -s "$T/priv/daemon.pid" ] && kill -9 "$(cat "$T/priv/daemon.pid")" 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PREFIX=/usr/local
D=$T/root        # DESTDIR
I=$D$PREFIX      # the installed tree
B=build/tests/install
mkdir -p "$B"

pass() { echo "PASS install/$1"; }
fail() { echo "FAIL install/$1: $2"; }
skip() { echo "SKIP install/$1: $2"; }

# ---- make install ------------------------------------------------------------------

# What an operator and a guest author are promised (README "Install"),
# listed here on its own so that a file the Makefile forgets is caught.
expected_files() {
	echo bin/opsub
	for h in opsub.h opsub_abi.h opsub_vring.h nic_regs.h nic_ring.h null_frame.h; do echo "include/opsub/$h"; done
	echo lib/libopsub.a
	for g in pktgen sink l2fwd responder firewall; do echo "lib/opsub/guests/$g"; done
	for d in README.md docs/architecture.md docs/threat-model.md docs/guest-abi.md docs/daemon.md docs/nic.md \
	         examples/opsub.json examples/pktgen.c examples/l2fwd.c examples/pkt.h; do
		echo "share/doc/opsub/$d"
	done
	for p in opsub opsub-run opsub-daemon opsub-ctl opsub-demo opsub-bench opsub-cpu; do echo "share/man/man1/$p.1"; done
	echo lib/systemd/system/opsub.service
	echo share/bash-completion/completions/opsub
}

if ! make --no-print-directory install DESTDIR="$D" PREFIX="$PREFIX" > "$T/install.log" 2>&1; then
	fail install_files "make install failed: $(tail -3 "$T/install.log" | tr '\n' ' ')"
	exit 0
fi
missing=""
while read -r f; do [ -f "$I/$f" ] || missing+="$f "; done < <(expected_files)
outside=$(find "$D" -type f ! -path "$I/*" | sed "s|^$D||")
notexec=""
for f in bin/opsub lib/opsub/guests/pktgen; do [ -x "$I/$f" ] || notexec+="$f "; done
if [ -z "$missing$outside$notexec" ]; then pass install_files
else fail install_files "missing: ${missing:-none}; outside PREFIX: ${outside:-none}; not executable: ${notexec:-none}"; fi

OPSUB=$I/bin/opsub

# ---- the installed binary -------------------------------------------------------------

want=$(git describe --tags --always --dirty 2>/dev/null || echo unknown)
v=$("$OPSUB" --version 2>&1); rc=$?
v2=$("$OPSUB" version 2>&1); rc2=$?
if [ $rc = 0 ] && [ $rc2 = 0 ] && [ "$v" = "$v2" ] && [ "$(sed -n 1p <<< "$v")" = "opsub $want" ] &&
   [[ "$(sed -n 2p <<< "$v")" =~ ^built\ with\ (gcc|clang)\ [0-9] ]]; then pass version
else fail version "want 'opsub $want' and the compiler; --version (status $rc): $v | version (status $rc2): $v2"; fi

out=$("$OPSUB" cpu 2>&1); rc=$?
if [ $rc = 0 ] && [ -n "$out" ]; then pass installed_cpu
else fail installed_cpu "status $rc: $(tail -2 <<< "$out" | tr '\n' ' ')"; fi

# the example guests are found beside the installed binary (bench runs pktgen)
out=$(timeout 60 "$OPSUB" bench --mode opsub --scenario tx --seconds 0.5 --json 2>&1); rc=$?
if [ $rc = 0 ] && [[ "$out" =~ \"mpps\":([0-9.]+) ]] && (( $(echo "${BASH_REMATCH[1]} > 0" | bc -l) )); then
	pass installed_guests
else fail installed_guests "opsub bench with the installed guests, status $rc: $out"; fi

# ---- a guest built against the installed SDK, as docs/guest-abi.md says ------------------

sdk_ok=1 why=""
for h in "$I"/include/opsub/*.h; do   # each header stands alone
	if ! err=$(echo "#include \"${h##*/}\"" | musl-gcc -std=gnu11 -fsyntax-only -Wall -Wextra -Werror \
	           -I"$I/include/opsub" -x c - 2>&1); then
		sdk_ok=0 why+="${h##*/} alone: $(head -1 <<< "$err"); "
	fi
done
if (cd "$T" && musl-gcc -std=gnu11 -O2 -static -I"$I/include/opsub" -o pktgen \
	"$I/share/doc/opsub/examples/pktgen.c" "$I/lib/libopsub.a") > "$T/cc.log" 2>&1; then
	out=$(timeout 60 "$OPSUB" run --net null --seconds 30 "$T/pktgen" --count 5000 2>&1)
	grep -q "sent 5000 frames.*the NIC has sent 5000" <<< "$out" || { sdk_ok=0 why+="the guest ran: ${out:-no output}"; }
else
	sdk_ok=0 why+="musl-gcc against the installed SDK: $(head -3 "$T/cc.log" | tr '\n' ' ')"
fi
if [ $sdk_ok = 1 ]; then pass installed_sdk; else fail installed_sdk "$why"; fi

# ---- --help of every command ------------------------------------------------------------

# help_options TEXT: each --option a help text lists at the start of a line
# (its option table), not merely in the usage line
help_options() { grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z-]*' <<< "$1" | grep -oE -- '--[a-z][a-z-]*' | sort -u; }
# section_words TEXT SECTION: first words of the indented lines under "SECTION:"
section_words() { awk -v s="$2:" '$0 == s {on = 1; next} /^[^ ]/ {on = 0} on && /^  [a-z]/ {print $1}' <<< "$1"; }

bad=""
top=$("$OPSUB" --help 2>&1) || bad+="opsub --help failed; "
commands=$(section_words "$top" commands)
[ -n "$commands" ] || bad+="opsub --help lists no commands; "
for c in $commands; do
	out=$("$OPSUB" "$c" --help 2>"$T/err"); rc=$?
	if [ $rc != 0 ] || [ -s "$T/err" ] || [[ "$out" != "usage: opsub $c"* ]]; then
		bad+="'opsub $c --help': status $rc, $(head -c 80 <<< "$out")$(head -1 "$T/err"); "; continue
	fi
	# every option the command's parser knows is explained in its help (a
	# control request's own options: in that request's help)
	src=src/cli/cmd_$c.c
	if [ -f "$src" ]; then
		listed=$(help_options "$out")
		[ "$c" = ctl ] && for r in $(section_words "$out" requests); do
			listed+=$'\n'$("$OPSUB" ctl "$r" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*')
		done
		for o in $(grep -oE '"--[a-z][a-z-]*"' "$src" | tr -d '"' | sort -u); do
			[ "$o" = --help ] && continue
			grep -qxF -- "$o" <<< "$listed" || bad+="'opsub $c --help' does not explain $o; "
		done
	else bad+="no source $src for '$c'; "; fi
	# an unknown option: status 2, one line that names it, nothing on stdout
	out=$("$OPSUB" "$c" --no-such-option 2>"$T/err"); rc=$?
	if [ $rc != 2 ] || [ -n "$out" ] || [ "$(wc -l < "$T/err")" != 1 ] || ! grep -q -- --no-such-option "$T/err"; then
		bad+="'opsub $c --no-such-option': status $rc, stderr: $(head -2 "$T/err" | tr '\n' ' '); "
	fi
done
# each control request explains itself without asking a daemon
ctl_help=$("$OPSUB" ctl --help 2>&1)
requests=$(section_words "$ctl_help" requests)
[ -n "$requests" ] || bad+="opsub ctl --help lists no requests; "
for r in $requests; do
	out=$(OPSUB_SOCKET=$T/nobody.sock "$OPSUB" ctl "$r" --help 2>"$T/err"); rc=$?
	if [ $rc != 0 ] || [ -s "$T/err" ] || [[ "$(head -1 <<< "$out")" != "usage: opsub ctl "*" $r"* ]]; then
		bad+="'opsub ctl $r --help': status $rc, $(head -1 <<< "$out")$(head -1 "$T/err"); "
	fi
done
if [ -z "$bad" ]; then pass help; else fail help "$bad"; fi

# ---- man pages: made from that help --------------------------------------------------------

bad=""
for c in "" $commands; do
	[ "$c" = version ] && continue   # `opsub --version` is on opsub(1)
	page=opsub${c:+-$c}
	f=$I/share/man/man1/$page.1
	[ -f "$f" ] || { bad+="no $page.1; "; continue; }
	if command -v man > /dev/null; then   # renders without a warning (man-db)
		warn=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$f" 2>&1 > /dev/null)
		[ -z "$warn" ] || bad+="$page.1: $(head -1 <<< "$warn"); "
	fi
	grep -q "^\.TH $(tr a-z A-Z <<< "$page") \"1\" .* \"opsub $want\"" "$f" || bad+="$page.1 is not of this build ($(grep '^\.TH' "$f")); "
	for o in $(help_options "$("$OPSUB" $c --help)"); do
		grep -qF -- "${o//-/\\-}" "$f" || bad+="$page.1 lacks $o; "
	done
done
if [ -z "$bad" ]; then pass man_pages; else fail man_pages "$bad"; fi

# ---- shell completion ---------------------------------------------------------------------

# has_words LINE WORD...: every WORD is a word of LINE
has_words() { local line=" $1 " w; shift; for w; do [[ "$line" == *" $w "* ]] || return 1; done; }
comp=$I/share/bash-completion/completions/opsub
if out=$(PATH="$I/bin:$PATH" bash -c '
	source "$1" || exit 1
	complete_words() { COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _opsub; echo "${COMPREPLY[*]}"; }
	echo "top: $(complete_words opsub "")"
	echo "ctl: $(complete_words opsub ctl "")"
	echo "run: $(complete_words opsub run --)"
	echo "io: $(complete_words opsub run --io pa)"' _ "$comp" 2>&1) &&
   has_words "$(grep '^top:' <<< "$out")" run daemon ctl demo bench cpu version --help --version &&
   has_words "$(grep '^ctl:' <<< "$out")" list stats add remove set stop --socket &&
   has_words "$(grep '^run:' <<< "$out")" --mem --seconds --net --io --mac &&
   [ "$(grep '^io:' <<< "$out")" = "io: passthrough paravirt" ]; then
	pass completion
else fail completion "$(tr '\n' ' ' <<< "$out")"; fi

# ---- the systemd unit -----------------------------------------------------------------------

unit=$I/lib/systemd/system/opsub.service
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
if ! command -v systemd-analyze > /dev/null; then
	skip unit_verify "systemd-analyze is not installed (Debian package systemd)"
else
	# verified where it will be: only the binary's path moves into DESTDIR
	mkdir -p "$T/unit"
	sed "s|^ExecStart=$PREFIX/|ExecStart=$I/|" "$unit" > "$T/unit/opsub.service"
	out=$(MANPATH=$I/share/man systemd-analyze verify "$T/unit/opsub.service" 2>&1); rc=$?
	exposure=$(systemd-analyze security --offline=yes "$T/unit/opsub.service" 2>/dev/null | grep -o 'exposure level.*')
	echo "  install/unit_verify: systemd-analyze security: $exposure"
	if [ $rc = 0 ] && [ -z "$out" ] && [ "$exec_start" = "$PREFIX/bin/opsub daemon --config /etc/opsub/opsub.json" ]; then
		pass unit_verify
	else fail unit_verify "status $rc: $out; ExecStart=$exec_start"; fi
fi

# The daemon inside the unit's sandbox, emulated without a running systemd:
# the unit's capability bounding set and no_new_privs (setpriv), its seccomp
# settings (unit_seccomp, the SystemCallFilter= groups expanded from the
# unit), ProtectSystem=strict (the root read-only but for the daemon's own
# directory), in a network namespace of its own; the installed example
# config, paths moved into that directory.  The host pings the responder
# through the TAP port.
unit_sandbox() {
	local caps deny priv=$T/priv
	if [ "$(id -u)" != 0 ]; then skip unit_sandbox "needs root (TAP, namespaces)"; return; fi
	if ! command -v systemd-analyze > /dev/null; then skip unit_sandbox "systemd-analyze is not installed"; return; fi
	gcc -O2 -Wall -Wextra -Werror -o "$B/unit_seccomp" tests/install/unit_seccomp.c -lseccomp ||
		{ fail unit_sandbox "cannot build unit_seccomp"; return; }
	# the emulation must itself refuse what the unit refuses
	if "$B/unit_seccomp" unshare -n true 2>/dev/null || "$B/unit_seccomp" ip link show lo > /dev/null 2>&1 ||
	   "$B/unit_seccomp" --deny uname uname > /dev/null 2>&1; then
		fail unit_sandbox "unit_seccomp lets through what it should refuse"; return
	fi
	caps=$(sed -n 's/^CapabilityBoundingSet=//p' "$unit" | tr 'A-Z' 'a-z' | sed -e 's/cap_//g' -e 's/ /,+/g')
	deny=$(systemd-analyze syscall-filter $(sed -n 's/^SystemCallFilter=~//p' "$unit") |
	       awk '/^    [a-z_0-9]+$/ {print $1}' | paste -sd, -)
	[ -n "$caps" ] && [ -n "$deny" ] || { fail unit_sandbox "cannot read the unit's settings"; return; }
	mkdir -p "$priv"
	sed -e "s|/run/opsub/|$priv/|" -e "s|/var/log/opsub/|$priv/|" -e "s|$PREFIX/|$I/|" \
		"$I/share/doc/opsub/examples/opsub.json" > "$priv/opsub.json"
	local cmd=${exec_start/#$PREFIX\//$I/}
	cmd=${cmd/\/etc\/opsub\/opsub.json/$priv/opsub.json}
	cat > "$T/sandboxed.sh" <<-EOF
	set -u
	ip link set lo up
	mount --bind "$priv" "$priv" && mount -o remount,bind,ro / || { echo "no read-only root"; exit 1; }
	cd "$priv"   # WorkingDirectory=%S/opsub
	setpriv --bounding-set=-all,+$caps --inh-caps=-all --no-new-privs -- \
		"$ROOT/$B/unit_seccomp" --deny "$deny" $cmd > "$priv/daemon.log" 2>&1 &
	pid=\$!
	echo \$pid > "$priv/daemon.pid"
	for _ in \$(seq 300); do [ -S "$priv/opsub.sock" ] && break; sleep 0.1; done
	echo "caps: \$(awk '/^CapEff/ {print \$2}' /proc/\$pid/status)"
	for _ in \$(seq 10); do ping -c 1 -W 3 10.9.0.2 > /dev/null 2>&1 && break; done   # ARP, a slow start
	echo "ping: \$(ping -c 3 -i 0.3 -W 5 10.9.0.2 2>&1 | grep -o '[0-9]*% packet loss')"
	echo "list: \$("$OPSUB" ctl --socket "$priv/opsub.sock" list 2>&1)"
	kill -HUP \$pid; sleep 0.5   # systemctl reload (ExecReload=)
	echo "reloaded: \$("$OPSUB" ctl --socket "$priv/opsub.sock" list 2>&1)"
	echo "root: \$(touch "$T/rw-test" 2>&1 || true)"
	"$OPSUB" ctl --socket "$priv/opsub.sock" stop > /dev/null 2>&1
	for _ in \$(seq 200); do kill -0 \$pid 2>/dev/null || break; sleep 0.1; done
	kill -9 \$pid 2>/dev/null
	wait \$pid; echo "status: \$?"
	rm -f "$priv/daemon.pid"
	EOF
	local out=$(timeout 120 unshare --mount --net --propagation private bash "$T/sandboxed.sh" 2>&1)
	local log=$(tail -3 "$priv/daemon.log" 2>/dev/null | tr '\n' ' ')
	local running='"name":"responder","state":"running"'
	if grep -qx "caps: 0000000000001000" <<< "$out" && grep -qx "ping: 0% packet loss" <<< "$out" &&
	   grep '^list: ' <<< "$out" | grep -qF "$running" && grep '^reloaded: ' <<< "$out" | grep -qF "$running" &&
	   grep '^root: ' <<< "$out" | grep -q "Read-only file system" && grep -qx "status: 0" <<< "$out"; then
		pass unit_sandbox
	else fail unit_sandbox "$(tr '\n' ' ' <<< "$out") | daemon: $log"; fi
}
unit_sandbox

# ---- make uninstall ------------------------------------------------------------------------

if make --no-print-directory uninstall DESTDIR="$D" PREFIX="$PREFIX" > "$T/uninstall.log" 2>&1; then
	left=$(find "$D" ! -type d | sed "s|^$D||")
	leftdirs=$(find "$D" -type d -name '*opsub*' | sed "s|^$D||")
	if [ -z "$left$leftdirs" ]; then pass uninstall
	else fail uninstall "left behind: $(tr '\n' ' ' <<< "$left$leftdirs")"; fi
else fail uninstall "make uninstall failed: $(tail -3 "$T/uninstall.log" | tr '\n' ' ')"; fi

# ---- tests/run fails a suite that ran no test ----------------------------------------------

mkdir -p "$T/suite-silent" "$T/suite-one"
printf '#!/bin/sh\necho "building the tests"\nexit 0\n' > "$T/suite-silent/run.sh"
printf '#!/bin/sh\necho "PASS selftest/one"\n' > "$T/suite-one/run.sh"
chmod +x "$T/suite-silent/run.sh" "$T/suite-one/run.sh"
silent=$(./tests/run "$T/suite-silent" 2>&1); silent_rc=$?
one=$(./tests/run "$T/suite-one" 2>&1); one_rc=$?
if [ $silent_rc != 0 ] && [[ "$silent" == *"ran no test"* ]] && [[ "$silent" == *"0 passed, 1 failed"* ]] &&
   [ $one_rc = 0 ] && [[ "$one" == *"1 passed, 0 failed"* ]]; then pass runner_refuses_empty_suite
else fail runner_refuses_empty_suite "silent suite: status $silent_rc; one-test suite: status $one_rc ($(tail -1 <<< "$one"))"; fi
exit 0
