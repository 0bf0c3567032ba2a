#!/bin/bash
# Migration suite (docs/migration.md, issue 11): snapshots and restores,
# live migration between two daemons in two network namespaces while the
# outside world pings the guest, migrations that fail, forged streams and
# snapshot files, and the modes that do not move.  Prints PASS/FAIL/SKIP
# lines (tests/run).  Needs root for the namespaces and TAP wires (the cases
# that need them say SKIP with the reason otherwise).
#
# Usage: tests/migrate/run.sh [CASE...]   CASE: snapshot live_opsub
#        live_paravirt failure forged modes files  (default: all, in that order)
# Environment: OPSUB (default build/opsub; the suite runs a private copy),
# MIGRATE_KEEP=1 keeps the temporary directory (logs, pings, snapshots).
# Guest output is compared byte for byte with the same program run
# natively (tests/migrate/guests/migprog.c), from the daemons' log lines.
cd "$(dirname "$0")/../.." || exit 2
. tests/migrate/lib.sh
trap mig_cleanup EXIT

pass() { echo "PASS migrate/$1"; }
fail() { echo "FAIL migrate/$1: $2"; }
skip() { echo "SKIP migrate/$1: $2"; }
info() { echo "  migrate/$1: $2"; }

if [ ! -x "$OPSUB" ]; then fail build "$OPSUB is missing (make)"; exit 0; fi
if ! command -v jq > /dev/null; then fail build "jq is missing (scripts/deps.sh)"; exit 0; fi
mig_build || { fail build "cannot build tests/migrate/guests/migprog.c"; exit 0; }
PROG=$PWD/$B/migprog
mig_key "$T/key"
mig_key "$T/key2"
# A daemon that cannot take "migration" at all (an opsub without the
# feature) fails every case below: say so once, clearly.
echo "{\"nic\":{\"wire\":\"null\"},\"control\":\"$T/probe.sock\",\"seconds\":0.2,\"migration\":{\"key_file\":\"$T/key\"}}" > "$T/probe.json"
if ! out=$(timeout 20 "$OPSUB" daemon --config "$T/probe.json" 2>&1); then
	fail config "a daemon with \"migration\": {\"key_file\": ...} does not start: $(tail -1 <<< "$out")"
	exit 0
fi

# native ARGS...: what migprog prints natively, then "exit STATUS"
native() { "$PROG" "$@"; echo "exit $?"; }
# ended DAEMON GUEST: "exit N" from the daemon's log line of the guest's end
ended() {
	grep -o "guest '$2' ended after [0-9.]* s (pid [0-9]*, status [0-9]*): exit status [0-9]*" "$T/$1.log" |
		tail -1 | grep -o 'exit status [0-9]*$' | sed 's/ status//'
}
# wait_lines DAEMON GUEST N SECONDS: until the guest printed N lines
wait_lines() {
	for _ in $(seq $(( $4 * 20 ))); do
		[ "$(gout "$1" "$2" | wc -l)" -ge "$3" ] && return 0
		sleep 0.05
	done
	return 1
}
# first_diff A B: where two texts part
first_diff() { diff <(echo "$1") <(echo "$2") | head -4 | tr '\n' '|'; }
# reply_ok JSON: a migrate reply that says ok with every field of the contract
reply_ok() {
	jq -e '.ok == true and (.downtime_ms | type == "number") and (.total_ms | type == "number") and
	       (.bytes | type == "number") and .bytes > 0 and (.rounds | type == "number") and .rounds >= 1 and
	       (.frames_lost | type == "number") and has("pages")' <<< "$1" > /dev/null 2>&1
}
# reply_refused JSON RC [REGEX]: a refusal: exit status not 0, ok false, an
# error (that matches REGEX, case-insensitive, if given)
reply_refused() {
	[ "$2" != 0 ] && jq -e --arg re "${3:-.}" '.ok == false and (.error | type == "string") and (.error | length) > 10 and
		(.error | test($re; "i"))' <<< "$1" > /dev/null 2>&1
}

# ---- 1. snapshot --stop, restore: the output goes on exactly ----------------------

# ensure_s: daemon s (loopback, null wire, listening on $PORT_S) runs
ensure_s() {
	[ -n "${MIG_DPID[s]:-}" ] && alive s && return 0
	PORT_S=$(free_port)
	dstart s "\"nic\":{\"wire\":\"null\",\"queues\":8},\"migration\":{\"key_file\":\"$T/key\",\"listen\":\"127.0.0.1:$PORT_S\"}"
}

case_snapshot() {
	local want got rc snap r1 r2 rc1 rc2 n1 n2 pre tail2 got2 still
	if ! ensure_s; then
		fail snapshot_restore "daemon did not start: $(tail -2 "$T/s.log" | tr '\n' '|')"; return
	fi
	want=$(native count 40 40 16)
	c s add "{\"name\":\"c\",\"program\":\"$PROG\",\"args\":[\"count\",\"40\",\"40\",\"16\"],\"mac\":\"02:00:00:4d:01:01\"}" > /dev/null
	if ! wait_lines s c 8 30; then
		fail snapshot_restore "the guest did not print 8 lines in 30 s: $(gout s c | tail -2 | tr '\n' '|'); $(tail -2 "$T/s.log" | tr '\n' '|')"; return
	fi
	snap=$(c s snapshot c "$T/c.snap" --stop 2>"$T/snap.err"); rc=$?
	n1=$(gout s c | wc -l)
	sleep 0.5
	n2=$(gout s c | wc -l)
	still=$(gstate s c)
	r1=$(c s restore "$T/c.snap" 2>"$T/restore.err"); rc1=$?
	wait_state s c exited 60
	got="$(gout s c)
$(ended s c)"
	info snapshot_restore "snapshot: rc $rc $snap; restore: rc $rc1 $r1; $n1 lines before the stop"
	if [ "$rc" = 0 ] && jq -e .ok <<< "$snap" > /dev/null 2>&1 && [ "$n1" = "$n2" ] && [ "$still" != running ] &&
	   [ "$rc1" = 0 ] && [ "$got" = "$want" ]; then
		pass snapshot_restore
	else fail snapshot_restore "snapshot: rc $rc: $snap $(head -c 300 "$T/snap.err"); lines $n1 then $n2 after the stop (state '${still:-none}'); restore: rc $rc1: $r1 $(head -c 300 "$T/restore.err"); output differs from native: $(first_diff "$want" "$got")"; fi

	# the same snapshot again, under another name: it goes on from the same point
	r2=$(c s restore "$T/c.snap" c2 2>&1); rc2=$?
	wait_state s c2 exited 60
	pre=$(head -n "$n1" <<< "$want")
	got2="$pre
$(gout s c2)
$(ended s c2)"
	if [ "$rc2" = 0 ] && [ "$n1" -gt 0 ] && [ "$got2" = "$want" ]; then pass snapshot_restore_twice
	else fail snapshot_restore_twice "restore as c2: rc $rc2: $r2; the first $n1 native lines + c2's output differ from native: $(first_diff "$want" "$got2")"; fi

	# a snapshot without --stop: the guest goes on, its output whole
	c s add "{\"name\":\"k\",\"program\":\"$PROG\",\"args\":[\"count\",\"30\",\"30\",\"16\"],\"mac\":\"02:00:00:4d:01:02\"}" > /dev/null
	wait_lines s k 5 30
	r1=$(c s snapshot k "$T/k.snap" 2>&1); rc1=$?
	local during=$(gstate s k)
	wait_state s k exited 60
	want=$(native count 30 30 16)
	got="$(gout s k)
$(ended s k)"
	if [ "$rc1" = 0 ] && [ -s "$T/k.snap" ] && [ "$got" = "$want" ]; then pass snapshot_keeps_running
	else fail snapshot_keeps_running "snapshot: rc $rc1: $r1 (state after it: ${during:-none}); output differs from native: $(first_diff "$want" "$got")"; fi
	# (daemon s stays up for the forged and modes cases)
}

# ---- 2. live migration between two hosts while the world pings the guest -----------

NET_READY=""
net_ready() {
	[ -n "$NET_READY" ] && { [ "$NET_READY" = yes ]; return; }
	NET_READY=no
	[ "$(id -u)" = 0 ] || { NET_ERR="not root: network namespaces and TAP wires need root"; return 1; }
	command -v ping > /dev/null || { NET_ERR="ping is missing"; return 1; }
	net_up || return 1
	local conf="\"nic\":{\"wire\":\"tap:tw\",\"queues\":8},\"migration\":{\"key_file\":\"$T/key\",\"listen\""
	dstart a "$conf:\"10.78.0.1:7301\"}" "$NS_A" || { NET_ERR="daemon a did not start: $(tail -2 "$T/a.log" | tr '\n' '|')"; return 1; }
	dstart b "$conf:\"10.78.0.2:7301\"}" "$NS_B" || { NET_ERR="daemon b did not start: $(tail -2 "$T/b.log" | tr '\n' '|')"; return 1; }
	wire_plug "$NS_A" tw && wire_plug "$NS_B" tw || { NET_ERR="cannot put the TAP wires in the bridges"; return 1; }
	NET_READY=yes
}

# migrate FROM GUEST TO-ADDR: the reply in $MR, the exit status in $MRC,
# progress in $T/mig-FROM-GUEST.err
migrate() { MR=$(c "$1" migrate "$2" "$3" 2>> "$T/mig-$1-$2.err"); MRC=$?; }

case_live() { # IO
	local io=$1 ip mac pmac name=resp-$1 prog=prog-$1 bad=""
	if ! net_ready; then skip "live_$io" "$NET_ERR"; return; fi
	[ "$io" = opsub ] && ip=10.77.0.2 mac=02:00:00:4d:02:02 pmac=02:00:00:4d:03:02 ||
		ip=10.77.0.3 mac=02:00:00:4d:02:03 pmac=02:00:00:4d:03:03
	c a add "{\"name\":\"$name\",\"program\":\"$PWD/$G/responder\",\"args\":[\"$ip/24\"],\"mac\":\"$mac\",\"io\":\"$io\"}" > /dev/null
	c a add "{\"name\":\"$prog\",\"program\":\"$PROG\",\"args\":[\"count\",\"90\",\"50\",\"32\"],\"mac\":\"$pmac\",\"io\":\"$io\"}" > /dev/null
	local ok=0
	for _ in $(seq 50); do ip netns exec "$NS_X" ping -n -c 1 -W 0.2 "$ip" > /dev/null 2>&1 && { ok=1; break; }; done
	if [ $ok = 0 ]; then
		fail "live_$io" "the responder on host a does not answer ping before any migration: $(tail -3 "$T/a.log" | tr '\n' '|')"
		c a remove "$name" > /dev/null 2>&1; c a remove "$prog" > /dev/null 2>&1; return
	fi
	# 1600 pings 5 ms apart (8 s), each must be answered at most once
	ip netns exec "$NS_X" ping -n -i 0.005 -c 1600 -W 2 "$ip" > "$T/ping-$io.out" 2>&1 &
	local ping=$!
	MIG_PIDS+=("$ping")
	sleep 1.5
	local b0 b1 a0 a1 r_ab r_ba rc_ab rc_ba p_ab p_ba la lb la2 lb2
	migrate a "$name" 10.78.0.2:7301; r_ab=$MR rc_ab=$MRC
	migrate a "$prog" 10.78.0.2:7301; p_ab=$MR
	la=$(gstate a "$name"); lb=$(gstate b "$name")
	b0=$(gstat b "$name" tx_packets)
	sleep 1.5
	b1=$(gstat b "$name" tx_packets)
	migrate b "$name" 10.78.0.1:7301; r_ba=$MR rc_ba=$MRC
	migrate b "$prog" 10.78.0.1:7301; p_ba=$MR
	la2=$(gstate a "$name"); lb2=$(gstate b "$name")
	a0=$(gstat a "$name" tx_packets)
	sleep 1.5
	a1=$(gstat a "$name" tx_packets)
	wait "$ping"
	local sent recv dups uniq maxseq
	read -r sent recv dups uniq maxseq <<< "$(ping_summary "$T/ping-$io.out")"
	local last_ok=$(grep -o 'icmp_seq=[0-9]*' "$T/ping-$io.out" | cut -d= -f2 | awk '$1 > 1500' | sort -u | wc -l)
	info "live_$io" "a->b: $r_ab"
	info "live_$io" "b->a: $r_ba"
	info "live_$io" "pings: $sent sent, $recv answered, $((sent - recv)) lost, $dups duplicates; frames lost reported: $(jf "$r_ab" frames_lost) + $(jf "$r_ba" frames_lost)"
	reply_ok "$r_ab" || bad+="a->b: rc $rc_ab: $r_ab $(tail -2 "$T/mig-a-$name.err" | tr '\n' '|'); "
	reply_ok "$r_ba" || bad+="b->a: rc $rc_ba: $r_ba $(tail -2 "$T/mig-b-$name.err" | tr '\n' '|'); "
	[ -z "$la" ] && [ "$lb" = running ] || bad+="after a->b, a has it '${la:-no}', b has it '${lb:-no}'; "
	[ -z "$lb2" ] && [ "$la2" = running ] || bad+="after b->a, a has it '${la2:-no}', b has it '${lb2:-no}'; "
	[ -n "$b1" ] && [ "$((b1 - ${b0:-0}))" -ge 50 ] || bad+="on b it sent ${b0:-?} -> ${b1:-?} frames in 1.5 s of pings every 5 ms; "
	[ -n "$a1" ] && [ "$((a1 - ${a0:-0}))" -ge 50 ] || bad+="back on a it sent ${a0:-?} -> ${a1:-?} frames in 1.5 s; "
	[ "$dups" = 0 ] || bad+="$dups duplicate replies ($(grep -B2 -A1 'DUP!' "$T/ping-$io.out" | cut -d' ' -f5-6 | tr '\n' ' ')); "
	[ "$sent" = 1600 ] && [ "$last_ok" -ge 95 ] || bad+="$sent pings sent, of the last 100 $last_ok answered; "
	[ "$((sent - recv))" -le 400 ] || bad+="$((sent - recv)) of $sent pings lost (more than 2 s of them); "
	[ -z "$bad" ] && pass "live_$io" || fail "live_$io" "${bad%; }"

	# the compute guest that went there and back mid-run
	local want got
	want=$(native count 90 50 32)
	local home=a
	for _ in $(seq 600); do
		[ "$(gstate a "$prog")" = exited ] && { home=a; break; }
		[ "$(gstate b "$prog")" = exited ] && { home=b; break; }
		sleep 0.1
	done
	got="$(gout_merged "a:$prog" "b:$prog")
$(ended $home "$prog")"
	info "live_${io}_output" "a->b: $p_ab; b->a: $p_ba"
	if reply_ok "$p_ab" && reply_ok "$p_ba" && [ "$got" = "$want" ] && [ "$(gout b "$prog" | wc -l)" -gt 0 ]; then
		pass "live_${io}_output"
	else fail "live_${io}_output" "a->b: $p_ab; b->a: $p_ba; $(gout b "$prog" | wc -l) lines printed on b; output differs from native: $(first_diff "$want" "$got")"; fi
	c a remove "$name" > /dev/null 2>&1; c a remove "$prog" > /dev/null 2>&1
	c b remove "$name" > /dev/null 2>&1; c b remove "$prog" > /dev/null 2>&1
}

# ---- 3. failures: the guest goes on at the source, untouched -----------------------

case_failure() {
	if ! net_ready; then skip failure "$NET_ERR"; return; fi
	local want got r rc bad="" g=fail-g
	want=$(native count 300 20 192)
	c a add "{\"name\":\"$g\",\"program\":\"$PROG\",\"args\":[\"count\",\"300\",\"20\",\"192\"],\"mem\":\"512M\",\"mac\":\"02:00:00:4d:04:01\"}" > /dev/null
	wait_lines a "$g" 3 60 || { fail failure "the guest did not start: $(tail -2 "$T/a.log" | tr '\n' '|')"; return; }
	# (a) a destination with another key
	if dstart wk "\"nic\":{\"wire\":\"null\"},\"migration\":{\"key_file\":\"$T/key2\",\"listen\":\"10.78.0.2:7302\"}" "$NS_B"; then
		migrate a "$g" 10.78.0.2:7302; r=$MR rc=$MRC
		info failure_wrong_key "$r"
		# (the reason must say it: a user with a mismatched key has to know)
		if reply_refused "$r" "$rc" 'key|authenticat' && [ "$(gstate a "$g")" = running ] && [ -z "$(gstate wk "$g")" ] && alive wk; then
			pass failure_wrong_key
		else fail failure_wrong_key "rc $rc: $r; on a: $(gstate a "$g"); on the destination: $(gstate wk "$g")"; fi
		dstop wk
	else fail failure_wrong_key "destination did not start: $(tail -1 "$T/wk.log")"; fi
	# (b) nobody listening
	migrate a "$g" 10.78.0.2:7399; r=$MR rc=$MRC
	info failure_no_destination "$r"
	reply_refused "$r" "$rc" 'connect' && [ "$(gstate a "$g")" = running ] && pass failure_no_destination ||
		fail failure_no_destination "rc $rc: $r; on a: $(gstate a "$g")"
	# (c) a destination that takes the connection and closes it at once
	if command -v socat > /dev/null; then
		ip netns exec "$NS_B" socat TCP-LISTEN:7303,bind=10.78.0.2,reuseaddr,fork SYSTEM:'exit 0' 2>/dev/null &
		MIG_PIDS+=($!)
		for _ in $(seq 50); do ip netns exec "$NS_B" ss -Htln 'sport = :7303' | grep -q . && break; sleep 0.05; done
		migrate a "$g" 10.78.0.2:7303; r=$MR rc=$MRC
		info failure_closed_early "$r"
		reply_refused "$r" "$rc" 'clos|connection|ended' && [ "$(gstate a "$g")" = running ] && pass failure_closed_early ||
			fail failure_closed_early "rc $rc: $r; on a: $(gstate a "$g")"
	else skip failure_closed_early "socat is missing (scripts/deps.sh)"; fi
	# (d) the destination killed mid-migration: the stream held to 200 Mbit/s
	# on the management link, so that 192 MiB take seconds, not a moment
	if dstart kd "\"nic\":{\"wire\":\"null\"},\"migration\":{\"key_file\":\"$T/key\",\"listen\":\"10.78.0.2:7304\"}" "$NS_B"; then
		tc -n "$NS_A" qdisc add dev mgmt root tbf rate 200mbit burst 64kb latency 50ms 2>"$T/tc.err"
		local shaped=$?
		local kdpid=${MIG_DPID[kd]}
		c a migrate "$g" 10.78.0.2:7304 > "$T/kd.reply" 2> "$T/kd.err" &
		local mpid=$! started=no
		MIG_PIDS+=("$mpid")
		for _ in $(seq 200); do
			if grep -qi "migrat" "$T/kd.log" && [ -s "$T/kd.err" ]; then started=yes; break; fi
			sleep 0.02
		done
		sleep 0.3
		disown "$kdpid"   # (no "Killed" notice from bash)
		kill -9 "$kdpid" 2>/dev/null
		local still=no
		kill -0 "$mpid" 2>/dev/null && still=yes
		wait "$mpid"; rc=$?
		for _ in $(seq 50); do kill -0 "$kdpid" 2>/dev/null || break; sleep 0.1; done
		unset "MIG_DPID[kd]"
		[ "$shaped" = 0 ] && tc -n "$NS_A" qdisc del dev mgmt root 2>/dev/null
		r=$(cat "$T/kd.reply")
		info failure_destination_killed "$r (progress seen before the kill: $started; the migration still ran at the kill: $still)"
		if [ "$still" = no ]; then
			fail failure_destination_killed "the migration ended before the destination was killed (tc shaping: $shaped $(cat "$T/tc.err")): rc $rc: $r"
		elif reply_refused "$r" "$rc" 'connection|clos|reset|ended|truncat' && [ "$(gstate a "$g")" = running ]; then
			pass failure_destination_killed
		else fail failure_destination_killed "rc $rc: $r; on a: $(gstate a "$g"); progress: $(tail -2 "$T/kd.err" | tr '\n' '|')"; fi
		rm -f "$T/kd.sock" "$T/kd.sock.lock"
	else fail failure_destination_killed "destination did not start: $(tail -1 "$T/kd.log")"; fi
	# the guest's whole output, as native, after four failed migrations
	wait_state a "$g" exited 120
	got="$(gout a "$g")
$(ended a "$g")"
	if [ "$got" = "$want" ]; then pass failure_guest_unaffected
	else fail failure_guest_unaffected "state $(gstate a "$g"); output differs from native: $(first_diff "$want" "$got")"; fi
	c a remove "$g" > /dev/null 2>&1
}

# ---- 4. forged snapshot files and streams: refused, the daemon goes on --------------

case_forged() {
	if ! ensure_s; then fail forged "daemon did not start: $(tail -2 "$T/s.log" | tr '\n' '|')"; return; fi
	if [ ! -s "$T/k.snap" ]; then
		c s add "{\"name\":\"k\",\"program\":\"$PROG\",\"args\":[\"idle\",\"8\"],\"mac\":\"02:00:00:4d:01:02\"}" > /dev/null
		wait_lines s k 1 30
		c s snapshot k "$T/k.snap" --stop > /dev/null 2>&1
	fi
	if [ ! -s "$T/k.snap" ]; then fail forged "no snapshot file to forge from: $(tail -1 "$T/s.log")"; return; fi
	local size=$(stat -c %s "$T/k.snap") f r rc bad="" before
	before=$(c s list | jq -c '[.guests[].name] | sort')
	head -c 65536 /dev/urandom > "$T/garbage.snap"
	head -c $((size / 2)) "$T/k.snap" > "$T/half.snap"
	head -c $((size - 1)) "$T/k.snap" > "$T/short.snap"
	cp "$T/k.snap" "$T/flip.snap"
	printf "$(printf '\\x%02x' $(( ($(od -An -tu1 -j $((size / 3)) -N1 "$T/k.snap") ^ 0x01) )))" |
		dd of="$T/flip.snap" bs=1 seek=$((size / 3)) conv=notrunc status=none
	: > "$T/empty.snap"
	# one made with another key (daemon s2 holds key2)
	if dstart s2 "\"nic\":{\"wire\":\"null\"},\"migration\":{\"key_file\":\"$T/key2\"}"; then
		c s2 add "{\"name\":\"o\",\"program\":\"$PROG\",\"args\":[\"idle\",\"8\"],\"mac\":\"02:00:00:4d:05:01\"}" > /dev/null
		wait_lines s2 o 1 30
		c s2 snapshot o "$T/otherkey.snap" > /dev/null 2>&1
		dstop s2
	fi
	cmp -s "$T/flip.snap" "$T/k.snap" && bad+="the flipped copy is the same file; "
	for f in garbage half short flip empty otherkey; do
		[ -e "$T/$f.snap" ] || { bad+="$f: no file to try; "; continue; }
		r=$(c s restore "$T/$f.snap" "forged-$f" 2>&1); rc=$?
		info forged_snapshot "$f ($(stat -c %s "$T/$f.snap") bytes): rc $rc: $r"
		reply_refused "$r" "$rc" || bad+="$f: rc $rc: $r; "
		[ -z "$(gstate s "forged-$f")" ] || bad+="$f: a guest forged-$f exists ($(gstate s "forged-$f")); "
		alive s || { bad+="the daemon died on $f; "; break; }
	done
	# (the good file still restores: the refusals are about the bytes)
	r=$(c s restore "$T/k.snap" good 2>&1); rc=$?
	[ "$rc" = 0 ] || bad+="the unchanged snapshot: rc $rc: $r; "
	c s remove good > /dev/null 2>&1
	[ -z "$bad" ] && pass forged_snapshot || fail forged_snapshot "${bad%; }"

	# the same bytes to the listen port, and garbage
	bad=""
	local failed0=$(grep -c "incoming migration from .* failed" "$T/s.log")
	for f in garbage k flip; do
		socat -u "OPEN:$T/$f.snap" "TCP:127.0.0.1:$PORT_S" 2>/dev/null
		timeout 5 socat -t 2 - "TCP:127.0.0.1:$PORT_S" < "$T/$f.snap" > /dev/null 2>&1
		alive s || { bad+="the daemon died on $f sent to its listen port; "; break; }
	done
	# a connection that sends nothing and one that stops half-way
	timeout 3 socat -u /dev/null "TCP:127.0.0.1:$PORT_S" 2>/dev/null
	(head -c 24 /dev/urandom; sleep 1) | timeout 3 socat - "TCP:127.0.0.1:$PORT_S" > /dev/null 2>&1
	sleep 0.5
	local failed=$(( $(grep -c "incoming migration from .* failed" "$T/s.log") - failed0 ))
	[ "$failed" -ge 8 ] || bad+="only $failed of the 8 forged connections logged as a failed incoming migration; "
	local after=$(c s list 2>/dev/null | jq -c '[.guests[].name] | sort')
	alive s || bad+="the daemon does not answer after the forged streams; "
	[ "$after" = "$before" ] || bad+="its guests changed: $before -> $after; "
	# it still takes a real migration after all that (from a daemon with the key)
	if dstart s3 "\"nic\":{\"wire\":\"null\"},\"migration\":{\"key_file\":\"$T/key\"}"; then
		c s3 add "{\"name\":\"m\",\"program\":\"$PROG\",\"args\":[\"idle\",\"8\"],\"mac\":\"02:00:00:4d:05:02\"}" > /dev/null
		wait_lines s3 m 1 30
		r=$(c s3 migrate m "127.0.0.1:$PORT_S" 2>/dev/null); rc=$?
		{ [ "$rc" = 0 ] && [ "$(gstate s m)" = running ]; } || bad+="a real migration after them: rc $rc: $r; "
		c s remove m > /dev/null 2>&1
		dstop s3
	fi
	info forged_stream "$(grep -iE 'incoming|refus' "$T/s.log" | tail -3 | cut -c1-200 | tr '\n' '|')"
	[ -z "$bad" ] && pass forged_stream || fail forged_stream "${bad%; }"
}

# ---- 5. passthrough (and emulated) guests do not move --------------------------------

case_modes() {
	if ! ensure_s; then fail modes "daemon did not start: $(tail -2 "$T/s.log" | tr '\n' '|')"; return; fi
	local io r rc r2 rc2
	local n=0
	for io in passthrough emulated; do
		n=$((n + 1))
		r=$(c s add "{\"name\":\"m-$io\",\"program\":\"$PWD/$G/sink\",\"mac\":\"02:00:00:4d:06:0$n\",\"io\":\"$io\"}" 2>&1)
		if ! wait_state s "m-$io" running 10; then fail "refused_$io" "the $io guest does not run: $r"; continue; fi
		r=$(c s migrate "m-$io" "127.0.0.1:$PORT_S" 2>/dev/null); rc=$?
		r2=$(c s snapshot "m-$io" "$T/m-$io.snap" 2>/dev/null); rc2=$?
		info "refused_$io" "migrate: $r; snapshot: $r2"
		if reply_refused "$r" "$rc" && [[ "$(jf "$r" error)" == *"$io"* ]] && reply_refused "$r2" "$rc2" &&
		   [ ! -e "$T/m-$io.snap" ] && [ "$(gstate s "m-$io")" = running ]; then pass "refused_$io"
		else fail "refused_$io" "migrate: rc $rc: $r; snapshot: rc $rc2: $r2 (file left: $(ls "$T/m-$io.snap" 2>/dev/null)); state $(gstate s "m-$io")"; fi
		c s remove "m-$io" > /dev/null 2>&1
	done
}

# ---- 6. guests whose files cannot move are refused and go on ---------------------------

case_files() {
	if ! ensure_s; then fail files "daemon did not start: $(tail -2 "$T/s.log" | tr '\n' '|')"; return; fi
	local r rc r2 rc2
	# a file open in its in-memory /tmp: the guest process itself refuses
	c s add "{\"name\":\"hold\",\"program\":\"$PROG\",\"args\":[\"holdfile\"],\"mac\":\"02:00:00:4d:07:01\"}" > /dev/null
	if ! wait_lines s hold 1 30; then fail refused_open_file "the guest did not start: $(gout s hold | tail -1)"; return; fi
	r=$(c s snapshot hold "$T/hold.snap" 2>/dev/null); rc=$?
	info refused_open_file "snapshot: $r"
	if reply_refused "$r" "$rc" "not supported" && [ "$(gstate s hold)" = running ]; then pass refused_open_file
	else fail refused_open_file "snapshot: rc $rc: $r; state $(gstate s hold)"; fi
	c s remove hold > /dev/null 2>&1
	# two threads: the guest process refuses too, and both go on
	c s add "{\"name\":\"twins\",\"program\":\"$PROG\",\"args\":[\"threads\"],\"mac\":\"02:00:00:4d:07:03\"}" > /dev/null
	if ! wait_lines s twins 1 30; then fail refused_threads "the guest did not start: $(gout s twins | tail -1)"; return; fi
	r=$(c s snapshot twins "$T/twins.snap" 2>/dev/null); rc=$?
	info refused_threads "snapshot: $r"
	if reply_refused "$r" "$rc" "not supported" && [ "$(gstate s twins)" = running ]; then pass refused_threads
	else fail refused_threads "snapshot: rc $rc: $r; state $(gstate s twins)"; fi
	c s remove twins > /dev/null 2>&1
	# a root image: refused at the request, before anything is sent
	mkdir -p "$T/root" && echo x > "$T/root/f"
	c s add "{\"name\":\"rooted\",\"program\":\"$PROG\",\"args\":[\"idle\",\"1\"],\"mac\":\"02:00:00:4d:07:02\",\"root\":\"$T/root\"}" > /dev/null
	if ! wait_lines s rooted 1 30; then fail refused_root "the guest did not start: $(gout s rooted | tail -1)"; return; fi
	r2=$(c s migrate rooted "127.0.0.1:$PORT_S" 2>/dev/null); rc2=$?
	info refused_root "migrate: $r2"
	if reply_refused "$r2" "$rc2" "root image" && [ "$(gstate s rooted)" = running ]; then pass refused_root
	else fail refused_root "migrate: rc $rc2: $r2; state $(gstate s rooted)"; fi
	c s remove rooted > /dev/null 2>&1
}

# ---- a guest keeps the optional CPU rows it was shown -----------------------------

# A guest started here is shown SHA (an optional row of the CPU model) when
# this host executes it; its snapshot must restore only on a host that does
# too: a daemon told the host lacks it (OPSUB_HOST_HIDE, test only) refuses
# the file with the feature named, and the same file restores on daemon s;
# a live migration of that guest there is refused at HELLO, and it runs on.
case_cpu() {
	if ! "$OPSUB" cpu 2>/dev/null | grep -q '^sha_ni .*executes'; then
		skip cpu_optional_rows "this host does not execute sha_ni (the CPU model's optional row): no guest here is shown it"
		return
	fi
	if ! ensure_s; then fail cpu_optional_rows "daemon did not start: $(tail -2 "$T/s.log" | tr '\n' '|')"; return; fi
	c s add "{\"name\":\"shown\",\"program\":\"$PROG\",\"args\":[\"idle\",\"8\"],\"mac\":\"02:00:00:4d:08:01\"}" > /dev/null
	wait_lines s shown 1 30
	c s snapshot shown "$T/shown.snap" --stop > /dev/null 2>&1
	if [ ! -s "$T/shown.snap" ]; then fail cpu_optional_rows "no snapshot: $(tail -1 "$T/s.log")"; return; fi
	local port_h r rc r2 rc2 r3 rc3
	port_h=$(free_port)
	if ! OPSUB_HOST_HIDE=sha_ni dstart h "\"nic\":{\"wire\":\"null\"},\"migration\":{\"key_file\":\"$T/key\",\"listen\":\"127.0.0.1:$port_h\"}"; then
		fail cpu_optional_rows "daemon h (sha_ni hidden) did not start: $(tail -2 "$T/h.log" | tr '\n' '|')"; return
	fi
	r=$(c h restore "$T/shown.snap" 2>/dev/null); rc=$?
	r2=$(c s restore "$T/shown.snap" shown2 2>/dev/null); rc2=$?
	# a live migration to h is refused at HELLO, before any page: the guest runs on at s
	r3=$(c s migrate shown2 "127.0.0.1:$port_h" 2>/dev/null); rc3=$?
	info cpu_optional_rows "restore where sha_ni is hidden: $r; where it is not: $r2; migrate there: $r3"
	if reply_refused "$r" "$rc" "sha_ni" && [ -z "$(gstate h shown)" ] && [ "$rc2" = 0 ] &&
		reply_refused "$r3" "$rc3" "sha_ni" && [ "$(gstate s shown2)" = running ] && [ -z "$(gstate h shown2)" ]; then
		pass cpu_optional_rows
	else fail cpu_optional_rows "hidden: rc $rc: $r (state '$(gstate h shown)'); on s: rc $rc2: $r2; migrate: rc $rc3: $r3 (s: '$(gstate s shown2)', h: '$(gstate h shown2)')"; fi
	c s remove shown2 > /dev/null 2>&1
	dstop h
}

for t in ${@:-snapshot live_opsub live_paravirt failure forged modes files cpu}; do
	case $t in
	live_*) case_live "${t#live_}" ;;
	*) "case_$t" ;;
	esac
done
exit 0
