# shellcheck shell=bash
# Helpers of the migration suite (tests/migrate/run.sh) and of its benchmark
# (bench/migrate): daemons with a migration key, on loopback or each in a
# network namespace of its own ("hosts" on a bridge that stands for the
# switch), guest output from the daemons' logs, ping counts.  Sourced from
# the repository root; everything made here is undone by mig_cleanup (the
# callers' EXIT trap), whatever happened.
OPSUB=${OPSUB:-build/opsub}
G=build/guests
B=build/tests/migrate
T=$(mktemp -d /tmp/opsub-migrate.XXXXXX)
declare -ga MIG_PIDS=() MIG_NS=()
declare -gA MIG_DPID=()

mig_cleanup() {
	local p n
	for p in "${MIG_PIDS[@]}"; do disown "$p" 2>/dev/null; kill -9 "$p" 2>/dev/null; done   # (no "Killed" notices)
	# the daemons stop as they should (their guests, TAP wires and sockets
	# go with them); one that does not within 5 s is killed
	for n in "${!MIG_DPID[@]}"; do timeout 5 "$OPSUB" ctl --socket "$T/$n.sock" stop > /dev/null 2>&1 & done
	for _ in $(seq 50); do
		n=0
		for p in "${MIG_DPID[@]}"; do kill -0 "$p" 2>/dev/null && n=1; done
		[ $n = 0 ] && break
		sleep 0.1
	done
	for p in "${MIG_DPID[@]}"; do kill -9 "$p" 2>/dev/null; done
	for p in "${MIG_PIDS[@]}" "${MIG_DPID[@]}"; do wait "$p" 2>/dev/null; done
	for n in "${MIG_NS[@]}"; do ip netns del "$n" 2>/dev/null; done
	if [ -n "${MIGRATE_KEEP:-}" ]; then echo "  (kept $T)" >&2; else rm -rf "$T"; fi
}

mig_build() {
	mkdir -p "$B" || return 1
	# a private copy of opsub: a rebuild of build/opsub while the suite runs
	# (others at work in the tree) must not pull it from under the daemons
	cp "$OPSUB" "$T/opsub" && OPSUB=$T/opsub || return 1
	[ "$B/migprog" -nt tests/migrate/guests/migprog.c ] ||
		musl-gcc -std=gnu11 -O2 -static -Wall -Wextra -Werror -Iinclude -o "$B/migprog" \
			tests/migrate/guests/migprog.c -lm
}

# mig_key FILE: 32 random bytes, mode 0600
mig_key() { (umask 077; head -c 32 /dev/urandom > "$1"); }

# free_port: a TCP port nobody listens on here (the callers' namespaces are
# new, so one free here is free there)
free_port() {
	local p
	for _ in $(seq 50); do
		p=$(( 20000 + RANDOM % 30000 ))
		ss -Htln "sport = :$p" | grep -q . || { echo "$p"; return; }
	done
	echo 27399
}

# dstart NAME JSON-MIDDLE [NS]: a daemon with control $T/NAME.sock, log
# $T/NAME.log, config {JSON-MIDDLE, "control": ...}; in namespace NS if
# given.  Its pid in MIG_DPID[NAME].
dstart() {
	local name=$1 conf=$2 ns=${3:-}
	echo "{$conf, \"control\": \"$T/$name.sock\"}" > "$T/$name.json"
	rm -f "$T/$name.sock"
	if [ -n "$ns" ]; then
		ip netns exec "$ns" "$OPSUB" daemon --config "$T/$name.json" >> "$T/$name.log" 2>&1 &
	else
		"$OPSUB" daemon --config "$T/$name.json" >> "$T/$name.log" 2>&1 &
	fi
	MIG_DPID[$name]=$!
	# ready when it answers: the control socket exists before the daemon
	# has started its migration listener, and its first answer comes after
	for _ in $(seq 200); do
		[ -S "$T/$name.sock" ] && "$OPSUB" ctl --socket "$T/$name.sock" list > /dev/null 2>&1 && return 0
		kill -0 "${MIG_DPID[$name]}" 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
# dstop NAME: stop request, then SIGKILL if it does not go
dstop() {
	local p=${MIG_DPID[$1]:-}
	[ -n "$p" ] || return 0
	"$OPSUB" ctl --socket "$T/$1.sock" stop > /dev/null 2>&1
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	unset "MIG_DPID[$1]"
}
# alive NAME: the daemon runs and answers list
alive() { kill -0 "${MIG_DPID[$1]}" 2>/dev/null && c "$1" list 2>/dev/null | jq -e .ok > /dev/null 2>&1; }
# c NAME REQUEST...: opsub ctl to daemon NAME
c() { local n=$1; shift; "$OPSUB" ctl --socket "$T/$n.sock" "$@"; }
# gstate DAEMON GUEST: running, exited, ... or nothing if it has no such guest
gstate() { c "$1" list 2>/dev/null | jq -r --arg g "$2" '.guests[]? | select(.name == $g) | .state' 2>/dev/null; }
# wait_state DAEMON GUEST STATE SECONDS
wait_state() {
	for _ in $(seq $(( $4 * 10 ))); do
		[ "$(gstate "$1" "$2")" = "$3" ] && return 0
		sleep 0.1
	done
	return 1
}
# gout DAEMON GUEST: what GUEST wrote on stdout, from the daemon's log lines
# "TIME opsub[PID]: guest 'GUEST' stdout: TEXT", each as "TIME TEXT"
gout_t() { sed -n "s/^\([0-9T:.-]*Z\) opsub\[[0-9]*\]: guest '$2' stdout: /\1 /p" "$T/$1.log"; }
gout() { gout_t "$@" | cut -d' ' -f2-; }
# lines LOG-NAME GUEST...: every stdout line of these guests from these
# daemons' logs, in time order (LOG-NAME:GUEST pairs), text only
gout_merged() {
	local pair
	for pair in "$@"; do gout_t "${pair%%:*}" "${pair#*:}"; done | sort -s -k1,1 | cut -d' ' -f2-
}
# jf JSON FIELD: one field of a reply
jf() { jq -r ".$2 // empty" <<< "$1" 2>/dev/null; }

# ---- two "hosts" and the outside world on a bridge ---------------------------------
#   $NS_SW: bridge br0, the switch
#   $NS_A, $NS_B: a daemon each, its wire a TAP (ta, tb) in a bridge (br) with
#     a veth to the switch; a management link between them (10.78.0.1, .2)
#     for the migration streams
#   $NS_X: the outside world, 10.77.0.1/24 on its bridge (hbr) with a veth to
#     the switch (and, for the benchmark, a daemon's TAP wire: a traffic
#     generator out there)
# net_up: creates the namespaces and links; 1 with the reason in NET_ERR
net_up() {
	local s=$$
	NS_SW=omig-sw-$s NS_A=omig-a-$s NS_B=omig-b-$s NS_X=omig-x-$s
	local n
	for n in $NS_SW $NS_A $NS_B $NS_X; do
		ip netns add "$n" 2>"$T/netns.err" || { NET_ERR="ip netns add: $(cat "$T/netns.err")"; return 1; }
		MIG_NS+=("$n")
		ip -n "$n" link set lo up
	done
	{
		ip -n $NS_SW link add name br0 type bridge && ip -n $NS_SW link set br0 up &&
		for h in a b x; do
			local ns=$NS_A
			[ $h = b ] && ns=$NS_B
			[ $h = x ] && ns=$NS_X
			ip link add name "omig${h}$s" type veth peer name "omigs${h}$s" &&
			ip link set "omig${h}$s" netns "$ns" && ip -n "$ns" link set "omig${h}$s" name up0 &&
			ip link set "omigs${h}$s" netns $NS_SW && ip -n $NS_SW link set "omigs${h}$s" name "s$h" &&
			ip -n $NS_SW link set "s$h" master br0 && ip -n $NS_SW link set "s$h" up &&
			ip -n "$ns" link set up0 up || return 1
			ip -n "$ns" link add name hbr type bridge && ip -n "$ns" link set hbr up &&
			ip -n "$ns" link set up0 master hbr || return 1
		done &&
		ip -n $NS_X addr add 10.77.0.1/24 dev hbr &&
		ip link add name "omigma$s" type veth peer name "omigmb$s" &&
		ip link set "omigma$s" netns $NS_A && ip link set "omigmb$s" netns $NS_B &&
		ip -n $NS_A link set "omigma$s" name mgmt && ip -n $NS_B link set "omigmb$s" name mgmt &&
		ip -n $NS_A addr add 10.78.0.1/24 dev mgmt && ip -n $NS_B addr add 10.78.0.2/24 dev mgmt &&
		ip -n $NS_A link set mgmt up && ip -n $NS_B link set mgmt up
	} 2>"$T/netns.err" || { NET_ERR="setting up the links: $(head -3 "$T/netns.err" | tr '\n' ' ')"; return 1; }
}
# wire_plug NS TAP: the daemon's TAP wire into that host's bridge
wire_plug() {
	for _ in $(seq 50); do ip -n "$1" link show "$2" > /dev/null 2>&1 && break; sleep 0.1; done
	ip -n "$1" link set "$2" master hbr && ip -n "$1" link set "$2" up
}
# ping_summary FILE: "SENT RECEIVED DUPS UNIQUE MAXSEQ" from a ping output
ping_summary() {
	local sent recv dups uniq maxseq
	sent=$(grep -o '^[0-9]* packets transmitted' "$1" | cut -d' ' -f1)
	recv=$(grep -o '[0-9]* received' "$1" | cut -d' ' -f1)
	dups=$(grep -c 'DUP!' "$1")
	uniq=$(grep -o 'icmp_seq=[0-9]*' "$1" | sort -u | wc -l)
	maxseq=$(grep -o 'icmp_seq=[0-9]*' "$1" | cut -d= -f2 | sort -n | tail -1)
	echo "${sent:-0} ${recv:-0} $dups $uniq ${maxseq:-0}"
}
# host_line: CPU model and kernel, for reports
host_cpu() { grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'; }
# gstat DAEMON GUEST FIELD: one counter of `ctl stats`
gstat() { c "$1" stats 2>/dev/null | jq -r --arg g "$2" ".guests[]? | select(.name == \$g) | .$3" 2>/dev/null; }
