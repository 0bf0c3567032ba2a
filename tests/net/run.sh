#!/bin/bash
# Network tests: the NIC, the trusted driver, the daemon and the control API,
# end to end with the example guests.  Prints PASS/FAIL lines (tests/run).
# Needs root for TAP devices and network namespaces (the ping test says so
# and fails otherwise).
cd "$(dirname "$0")/../.." || exit 2
OPSUB=${OPSUB:-build/opsub}
G=build/guests
B=build/tests/net
T=$(mktemp -d)
trap 'pkill -f "$T/" 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p "$B"

pass() { echo "PASS net/$1"; }
fail() { echo "FAIL net/$1: $2"; }

# ---- helpers ------------------------------------------------------------------

build() {
	gcc -O2 -Wall -Wextra -Werror -o "$B/pcaptool" tests/net/pcaptool.c -lpcap || return 1
	for g in secret_holder forger sleeper fastgate rxcode deaf lifecycle port_epoll; do
		musl-gcc -std=gnu11 -O2 -static -Wall -Wextra -Werror -Iinclude -o "$B/$g" \
			"tests/net/guests/$g.c" "$G/libopsub.a" || return 1
	done
}

# daemon_start NAME JSON: starts a daemon on $T/NAME.json with socket $T/NAME.sock
daemon_start() {
	echo "$2" > "$T/$1.json"
	$OPSUB daemon --config "$T/$1.json" > "$T/$1.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do
		[ -S "$T/$1.sock" ] && return 0
		sleep 0.05
	done
	return 1
}
ctl() { $OPSUB ctl --socket "$T/$SOCK.sock" "$@"; }
daemon_stop() { ctl stop >/dev/null 2>&1; wait "$DAEMON_PID" 2>/dev/null; }
# counter GUEST FIELD: one counter from `ctl stats GUEST`
counter() { ctl stats "$1" | grep -o "\"$2\":[0-9]*" | head -1 | cut -d: -f2; }
# state GUEST
state() { ctl list | grep -o "\"name\":\"$1\",\"state\":\"[a-z]*\"" | cut -d'"' -f8; }
wait_exited() { # wait_exited GUEST SECONDS
	for _ in $(seq $(( $2 * 10 ))); do
		[ "$(state "$1")" = exited ] && return 0
		sleep 0.1
	done
	return 1
}
now() { date +%s.%N; }
# rate GUEST FIELD SECONDS: counter increase per second over about SECONDS,
# timed by the "uptime" of the stats replies themselves (how long ctl took
# to get them, on a busy machine, is not in it)
rate() {
	local r0 r1 a b t0 t1
	r0=$(ctl stats "$1"); sleep "$3"; r1=$(ctl stats "$1")
	a=$(grep -o "\"$2\":[0-9]*" <<< "$r0" | head -1 | cut -d: -f2); t0=$(grep -o '"uptime":[0-9.]*' <<< "$r0" | cut -d: -f2)
	b=$(grep -o "\"$2\":[0-9]*" <<< "$r1" | head -1 | cut -d: -f2); t1=$(grep -o '"uptime":[0-9.]*' <<< "$r1" | cut -d: -f2)
	echo "($b - $a) / ($t1 - $t0)" | bc -l
}
# within VALUE EXPECTED PERCENT
within() { echo "v = $1 / $2 - 1; if (v < 0) v = -v; v * 100 <= $3" | bc -l | grep -q 1; }

build || { fail build "cannot build the test tools and guests"; exit 0; }

# ---- pcap through a guest, byte for byte ---------------------------------------

$B/pcaptool gen "$T/in.pcap" 2000
for io in opsub passthrough; do
	$OPSUB run --net "pcap:$T/in.pcap,$T/out-$io.pcap" --io $io --seconds 2 $G/l2fwd > "$T/l2fwd.log" 2>&1
	# (2000 frames: an empty input and an empty output would also be "all forwarded")
	if r=$($B/pcaptool swapped "$T/in.pcap" "$T/out-$io.pcap") && [[ "$r" == "2000 frames,"* ]]; then
		pass "pcap_l2fwd_$io"
	else fail "pcap_l2fwd_$io" "$r"; fi
done
$OPSUB run --net "pcap:$T/in.pcap,$T/fw-allow.pcap" --seconds 2 $G/firewall --default allow > /dev/null 2>&1
# "nothing got through" means something only if the firewall saw every frame
# (it stops after 2000 and prints its rule's hits) and opsub wrote the output
# capture: a missing file also has no frames
fw=$($OPSUB run --net "pcap:$T/in.pcap,$T/fw-drop.pcap" --seconds 30 $G/firewall --count 2000 'drop any' 2>&1)
tcpdump -r "$T/fw-drop.pcap" > "$T/fw-drop.txt" 2> "$T/fw-drop.err"; read_rc=$?
through=$(wc -l < "$T/fw-drop.txt")
if r=$($B/pcaptool swapped "$T/in.pcap" "$T/fw-allow.pcap") && [[ "$r" == "2000 frames,"* ]] &&
   [[ "$fw" == *"firewall: 2000 frames, 0 forwarded"* ]] && grep -qE '^ +drop any +2000$' <<< "$fw" &&
   [ "$read_rc" = 0 ] && [ "$through" = 0 ]; then pass pcap_firewall
else fail pcap_firewall "allow: $r; drop any: ${fw:-no output}; output capture: $through frames$( [ "$read_rc" = 0 ] || echo " ($(head -1 "$T/fw-drop.err"))")"; fi

# ---- isolation: each guest sees only its own frames ------------------------------

SOCK=iso
if daemon_start iso "{\"nic\":{\"wire\":\"loop\",\"queues\":16},\"control\":\"$T/iso.sock\",\"guests\":[
 {\"name\":\"sa\",\"program\":\"$G/sink\",\"args\":[\"--count\",\"20000\",\"--seconds\",\"20\"],\"mac\":\"02:00:00:00:01:0a\",\"output\":\"$T/sa.out\"},
 {\"name\":\"sb\",\"program\":\"$G/sink\",\"args\":[\"--count\",\"30000\",\"--seconds\",\"20\"],\"mac\":\"02:00:00:00:01:0b\",\"output\":\"$T/sb.out\"},
 {\"name\":\"sc\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"8\"],\"mac\":\"02:00:00:00:01:0c\",\"output\":\"$T/sc.out\"}]}"; then
	sleep 1   # the senders start once the receivers have posted their buffers
	ctl add "{\"name\":\"ga\",\"program\":\"$G/pktgen\",\"args\":[\"--count\",\"20000\",\"--dst\",\"02:00:00:00:01:0a\"],\"mac\":\"02:00:00:00:01:01\",\"rate\":\"20M\",\"output\":\"/dev/null\"}" > /dev/null
	ctl add "{\"name\":\"gb\",\"program\":\"$G/pktgen\",\"args\":[\"--count\",\"30000\",\"--size\",\"1000\",\"--dst\",\"02:00:00:00:01:0b\"],\"mac\":\"02:00:00:00:01:02\",\"rate\":\"100M\",\"output\":\"/dev/null\"}" > /dev/null
	# each sink stops when all its frames are in, or at 20 s when some were
	# dropped; sc listens all along the senders' 3 s or so
	wait_exited sa 25; wait_exited sb 25; wait_exited sc 5
	# a loaded host may leave a sink without a free buffer for a moment:
	# the NIC then drops and counts the frame (rx_dropped), so every frame
	# sent is received intact or counted dropped, and none is another's
	da=$(counter sa rx_dropped); db=$(counter sb rx_dropped)
	daemon_stop
	a=$(cat "$T/sa.out"); b=$(cat "$T/sb.out"); c=$(cat "$T/sc.out")
	got() { grep -o 'received [0-9]* frames' <<< "$1" | grep -o '[0-9]*'; }
	gaps() { grep -o '[0-9]* gaps' <<< "$1" | grep -o '[0-9]*'; }
	if [[ "$a" == *"$(got "$a") intact, 0 corrupt, 0 other"* ]] && [ $(( $(got "$a") + da )) -eq 20000 ] &&
	   [ "$(gaps "$a")" -le "$da" ] &&
	   [[ "$b" == *"$(got "$b") intact, 0 corrupt, 0 other"* ]] && [ $(( $(got "$b") + db )) -eq 30000 ] &&
	   [ "$(gaps "$b")" -le "$db" ] &&
	   [[ "$c" == *"received 0 frames"* ]]; then pass isolation
	else fail isolation "sa: $a (dropped $da) | sb: $b (dropped $db) | sc: $c"; fi
else fail isolation "daemon did not start: $(tail -1 "$T/iso.log")"; fi

# ---- rate limiters, weighted shares, reallocation while traffic runs -----------

SOCK=rate
if daemon_start rate "{\"nic\":{\"wire\":\"null\",\"queues\":16},\"control\":\"$T/rate.sock\",\"guests\":[
 {\"name\":\"bits\",\"program\":\"$G/pktgen\",\"args\":[\"--size\",\"500\"],\"mac\":\"02:00:00:00:02:01\",\"rate\":\"20M\",\"output\":\"/dev/null\"},
 {\"name\":\"pkts\",\"program\":\"$G/pktgen\",\"mac\":\"02:00:00:00:02:02\",\"pps\":10000,\"output\":\"/dev/null\"}]}"; then
	sleep 0.5
	bps=$(echo "$(rate bits tx_bytes 2) * 8" | bc -l)
	pps=$(rate pkts tx_packets 2)
	if within "$bps" 20000000 5 && within "$pps" 10000 5; then pass rate_limit
	else fail rate_limit "measured $bps bit/s (20M) and $pps pkt/s (10k)"; fi
	ctl set bits rate=40M > /dev/null
	sleep 0.2
	bps=$(echo "$(rate bits tx_bytes 2) * 8" | bc -l)
	if within "$bps" 40000000 5; then pass realloc_rate
	else fail realloc_rate "after set rate=40M: $bps bit/s"; fi
	before=$(counter bits tx_packets)
	ctl set bits queues=3 > /dev/null
	sleep 0.5
	q=$(ctl list | grep -o '"name":"bits"[^}]*' | grep -o '"queues":\[[0-9,]*\]')
	after=$(counter bits tx_packets)
	ctl set bits queues=1 > /dev/null
	sleep 0.5
	q1=$(ctl list | grep -o '"name":"bits"[^}]*' | grep -o '"queues":\[[0-9,]*\]')
	bps=$(echo "$(rate bits tx_bytes 1) * 8" | bc -l)
	if [[ "$q" =~ ^\"queues\":\[[0-9]+,[0-9]+,[0-9]+\]$ ]] && [[ "$q1" =~ ^\"queues\":\[[0-9]+\]$ ]] &&
	   [ "$after" -gt "$before" ] && within "$bps" 40000000 5; then pass realloc_queues
	else fail realloc_queues "3 queues: $q, back to 1: $q1, packets $before -> $after, then $bps bit/s"; fi
	daemon_stop
else fail rate_limit "daemon did not start: $(tail -1 "$T/rate.log")"; fi

SOCK=wrr
if daemon_start wrr "{\"nic\":{\"wire\":\"null\",\"queues\":16,\"line_rate\":\"40M\"},\"control\":\"$T/wrr.sock\",\"guests\":[
 {\"name\":\"w1\",\"program\":\"$G/pktgen\",\"args\":[\"--size\",\"500\"],\"mac\":\"02:00:00:00:03:01\",\"weight\":1,\"output\":\"/dev/null\"},
 {\"name\":\"w3\",\"program\":\"$G/pktgen\",\"args\":[\"--size\",\"500\"],\"mac\":\"02:00:00:00:03:02\",\"weight\":3,\"output\":\"/dev/null\"}]}"; then
	sleep 0.5
	a0=$(counter w1 tx_bytes); b0=$(counter w3 tx_bytes); sleep 2; a1=$(counter w1 tx_bytes); b1=$(counter w3 tx_bytes)
	share=$(echo "($a1 - $a0) / ($a1 - $a0 + $b1 - $b0)" | bc -l)
	ctl set w1 weight=3 > /dev/null; ctl set w3 weight=1 > /dev/null
	sleep 0.3
	a0=$(counter w1 tx_bytes); b0=$(counter w3 tx_bytes); sleep 2; a1=$(counter w1 tx_bytes); b1=$(counter w3 tx_bytes)
	share2=$(echo "($a1 - $a0) / ($a1 - $a0 + $b1 - $b0)" | bc -l)
	if within "$share" 0.25 5 && within "$share2" 0.75 5; then pass wrr_shares
	else fail wrr_shares "weight 1 of 1:3 got $share (0.25), after the swap $share2 (0.75)"; fi
	daemon_stop
else fail wrr_shares "daemon did not start: $(tail -1 "$T/wrr.log")"; fi

# ---- a transmitter with a small pool still transmits, in every mode ---------------
# (the SDK used to post the whole pool to the receive ring: a passthrough
# pktgen with 64 buffers sent nothing)

for io in opsub passthrough paravirt emulated; do
	out=$(timeout 30 $OPSUB run --net null --io $io --seconds 10 $G/pktgen --bufs 64 --count 20000 2>&1)
	if grep -q "sent 20000 frames.*the NIC has sent 20000" <<< "$out"; then pass "small_pool_$io"
	else fail "small_pool_$io" "pktgen --bufs 64 --count 20000: ${out:-no output in 10 s}"; fi
done

# ---- the fast gate is as transparent as the full one (tests/net/guests/fastgate.c) ----

out=$($OPSUB run --net null "$B/fastgate" 2>&1)
for check in flags registers vector smc not_fast; do
	if grep -qx "ok $check" <<< "$out"; then pass "fastgate_$check"
	else fail "fastgate_$check" "$(grep -m1 "$check" <<< "$out" || echo "${out:-no output}")"; fi
done

# ---- a frame received into a buffer that became code after it was posted ----------
# (the driver drops the translations first: tests/net/guests/rxcode.c)

out=$(timeout 30 $OPSUB run --net loop --seconds 10 "$B/rxcode" 2>&1)
if grep -qx "ok rxcode" <<< "$out"; then pass rxcode
else fail rxcode "${out:-no output}"; fi

# ---- a queue taken from a sleeping guest is not given away before it lets go ----
# (before the fix the daemon gave it away after 100 ms, and the sleeper's
# driver, waking, stopped the new owner's rings)

SOCK=handback
if daemon_start handback "{\"nic\":{\"wire\":\"null\",\"queues\":2},\"control\":\"$T/handback.sock\",\"guests\":[
 {\"name\":\"s\",\"program\":\"$B/sleeper\",\"args\":[\"3\"],\"mac\":\"02:00:00:00:07:01\",\"queues\":2,\"output\":\"$T/s.out\"}]}"; then
	sleep 0.5
	ctl set s queues=1 > /dev/null
	sleep 0.3
	early=$(ctl add "{\"name\":\"p\",\"program\":\"$G/pktgen\",\"mac\":\"02:00:00:00:07:02\",\"output\":\"/dev/null\"}" 2>&1)
	for _ in $(seq 50); do grep -q awake "$T/s.out" 2>/dev/null && break; sleep 0.1; done
	sleep 0.3
	late=$(ctl add "{\"name\":\"p\",\"program\":\"$G/pktgen\",\"mac\":\"02:00:00:00:07:02\",\"output\":\"/dev/null\"}" 2>&1)
	sleep 0.3
	p0=$(counter p tx_packets); sleep 1; p1=$(counter p tx_packets)
	daemon_stop
	if [[ "$early" == *"no free queue pair"* ]] && [[ "$late" == *'"ok":true'* ]] && [ "${p1:-0}" -gt "${p0:-0}" ]; then
		pass queue_handback
	else fail queue_handback "add while s slept: $early; after: $late; p sent $p0 -> $p1"; fi
else fail queue_handback "daemon did not start: $(tail -1 "$T/handback.log")"; fi

# ---- issue 8: a guest process holds only its own queues of the NIC -------------------
# (before: every guest process got the whole register file writable: the
# global page with filters, rates and weights, and every queue's page)

# nic_objects PID: "INODE NAME" of each NIC register object (memfd
# opsub-nic-*) that process PID maps or holds a descriptor of
nic_objects() {
	{ awk '$6 ~ /^\/memfd:opsub-nic-/ {print $5, substr($6, 2)}' "/proc/$1/maps"
	  for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f") && [[ "$l" == /memfd:opsub-nic-* ]] && echo "$(stat -L -c %i "$f") ${l#/}"
	  done; } 2>/dev/null | sed -e 's/ (deleted)//' -e 's/ memfd:/ /' | sort -u
}
# page_writable PID: true if the process can write a NIC queue page (a
# writable mapping, or a descriptor opened for writing)
page_writable() {
	local f l
	grep -q 'rw.s .*memfd:opsub-nic-queue' "/proc/$1/maps" 2>/dev/null && return 0
	for f in /proc/"$1"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) && [[ "$l" == /memfd:opsub-nic-queue* ]] &&
			(( 8#$(awk '/^flags/ {print $2}' "/proc/$1/fdinfo/${f##*/}") & 3 )) && return 0
	done
	return 1
}
# holdings PID: what else of the device side the process has: "rings" if it
# holds the ring area (NIC rings it writes), "writable" if it can write a
# queue page
holdings() {
	local out=""
	grep -q 'memfd:opsub-rings' "/proc/$1/maps" 2>/dev/null && out+="rings "
	page_writable "$1" && out+="writable"
	echo "${out% }"
}
guest_pid() { ctl list | grep -o "\"name\":\"$1\",\"state\":\"running\",\"pid\":[0-9]*" | cut -d: -f4; }
guest_queues() { ctl list | grep -o "\"name\":\"$1\"[^}]*" | grep -o '"queues":\[[0-9,]*\]' | grep -o '[0-9][0-9,]*' | tr , ' '; }
# reach GUEST: what of the NIC the daemon has that GUEST's process can reach,
# as "queue-N ..."; "BAD:" before anything that is not one of its own queue
# pages (the global registers, another guest's page, the old whole file)
reach() {
	local pid own held line ino name q out=""
	pid=$(guest_pid "$1"); own=" $(guest_queues "$1") "
	held=$(nic_objects "$pid")
	while read -r ino name; do
		[ -z "$ino" ] && continue
		line=$(grep "^$ino " <<< "$NIC_NOW") || continue   # an object the NIC no longer uses
		name=${line#* }
		q=${name#opsub-nic-queue-}
		if [[ "$name" == opsub-nic-queue-* ]] && [[ "$own" == *" $q "* ]]; then out+="${name#opsub-nic-} "
		else out+="BAD:${name#opsub-nic-} "; fi
	done <<< "$held"
	echo "${out% }"
}
test_reach() {
	SOCK=reach
	if ! daemon_start reach "{\"nic\":{\"wire\":\"null\",\"queues\":6},\"control\":\"$T/reach.sock\",\"guests\":[
	 {\"name\":\"a\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:09:01\",\"queues\":2,\"output\":\"/dev/null\"},
	 {\"name\":\"b\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:09:02\",\"output\":\"/dev/null\"},
	 {\"name\":\"c\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:09:03\",\"io\":\"passthrough\",\"output\":\"/dev/null\"},
	 {\"name\":\"d\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:09:04\",\"io\":\"paravirt\",\"output\":\"/dev/null\"},
	 {\"name\":\"e\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:09:05\",\"io\":\"emulated\",\"output\":\"/dev/null\"}]}"; then
		fail reach "daemon did not start: $(tail -1 "$T/reach.log")"; return
	fi
	sleep 1.5
	NIC_NOW=$(nic_objects "$DAEMON_PID")
	local g r h all="" bad=0
	declare -A want=([a]="rings writable" [b]="rings writable" [c]="writable" [d]="" [e]="rings writable")
	for g in a b c d e; do
		r=$(reach $g); h=$(holdings "$(guest_pid $g)")
		all+="$g: ${r:-nothing} (${h:-read-only, no rings}); "
		[ -z "$r" ] || [[ "$r" == *BAD* ]] || [ "$h" != "${want[$g]}" ] && bad=1
	done
	echo "  net/reach: each guest process reaches: ${all%; }"
	# the memory files it shares with the daemon cannot be shrunk under the
	# daemon's mappings (which would make the NIC and the backend fault)
	local f l seal unsealed="" kinds=""
	for f in /proc/"$(guest_pid a)"/fd/*; do
		l=$(readlink "$f" 2>/dev/null) || continue
		case "$l" in /memfd:opsub-guest*|/memfd:opsub-rings*|/memfd:opsub-link*|/memfd:opsub-nic*)
			seal=$($B/pcaptool seals "$f")
			l=${l#/memfd:opsub-}; kinds+="${l%%[- ]*} "
			[ "$seal" = "shrink grow" ] || unsealed+="$l ($seal) ";;
		esac
	done
	[ -z "$unsealed" ] || { echo "  net/reach: not sealed against resizing: $unsealed"; bad=1; }
	# none unsealed means something only if every kind was looked at
	kinds=$(tr ' ' '\n' <<< "$kinds" | sort -u | xargs)
	[ "$kinds" = "guest link nic rings" ] ||
		{ echo "  net/reach: guest a's memory files were not all looked at (found: ${kinds:-none})"; bad=1; }
	# a queue taken away and given to another guest: the page the first
	# guest held is not the one the NIC uses now, whatever that guest kept
	local lost=$(guest_queues a | awk '{print $2}')
	local old=$(nic_objects "$(guest_pid a)" | awk -v n="opsub-nic-queue-$lost" '$2 == n {print $1}')
	ctl set a queues=1 > /dev/null
	# (f pinned: an on-demand guest leaves the NIC's last queue to the
	# pool's uplink)
	local added=""
	for _ in $(seq 50); do
		added=$(ctl add "{\"name\":\"f\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:09:06\",\"queues\":1,\"output\":\"/dev/null\"}" 2>&1)
		[[ "$added" == *'"ok":true'* ]] && break
		sleep 0.1
	done
	sleep 1
	NIC_NOW=$(nic_objects "$DAEMON_PID")
	local now_lost=$(awk -v n="opsub-nic-queue-$lost" '$2 == n {print $1}' <<< "$NIC_NOW")
	local ra=$(reach a) rf=$(reach f) fq=$(guest_queues f) aq=$(guest_queues a)
	echo "  net/reach: after queue $lost moved from a to f: a: $ra; f: $rf"
	daemon_stop
	if [ $bad = 0 ] && [ "$fq" = "$lost" ] && [ -n "$old" ] && [ "$old" != "$now_lost" ] &&
	   [ "$ra" = "queue-$aq" ] && [ "$rf" = "queue-$lost" ]; then pass reach
	else fail reach "${all%; }; queue $lost: held $old, now $now_lost; a: $ra; f ($fq): $rf"; fi
}
test_reach

# ---- issue 8: one guest without receive buffers does not stop another's traffic ---------
# (before: on a lossless wire the victim got 0 frames in opsub mode, 1,023
# in paravirt and emulated modes; it must keep its rate, and the deaf
# guest's frames are dropped and counted)

test_deaf_neighbour() { # IO
	local io=$1 hogs
	SOCK=deaf-$io
	hogs="{\"name\":\"deaf\",\"program\":\"$B/deaf\",\"args\":[\"open\"],\"mac\":\"02:00:00:00:0a:02\",\"io\":\"$io\",\"output\":\"/dev/null\"}"
	[ "$io" = opsub ] && hogs+=",{\"name\":\"mute\",\"program\":\"$B/deaf\",\"args\":[\"closed\"],\"mac\":\"02:00:00:00:0a:03\",\"output\":\"/dev/null\"}"
	if ! daemon_start "deaf-$io" "{\"nic\":{\"wire\":\"null:64\",\"queues\":8},\"control\":\"$T/deaf-$io.sock\",\"guests\":[
	 {\"name\":\"victim\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0a:01\",\"io\":\"$io\",\"output\":\"/dev/null\"},$hogs]}"; then
		fail "deaf_neighbour_$io" "daemon did not start: $(tail -1 "$T/deaf-$io.log")"; return
	fi
	sleep 1.5
	local pps=$(rate victim rx_packets 2) d1=$(counter deaf rx_dropped) d2=""
	[ "$io" = opsub ] && d2=$(counter mute rx_dropped)
	daemon_stop
	if (( $(echo "$pps > 100000" | bc -l) )) && [ "${d1:-0}" -gt 0 ] && { [ "$io" != opsub ] || [ "${d2:-0}" -gt 0 ]; }; then
		pass "deaf_neighbour_$io"
	else fail "deaf_neighbour_$io" "victim received $pps frames/s (want > 100000); dropped for the deaf guest: $d1${d2:+, for the one that never opened: $d2}"; fi
}
for io in opsub passthrough paravirt emulated; do test_deaf_neighbour $io; done

# on a pcap wire a broadcast frame at the head of the capture went to a
# deaf guest too, and held back every unicast frame behind it forever
test_deaf_pcap() {
	$B/pcaptool genb "$T/bcast.pcap" 2000 02:00:00:00:0b:01 || { fail deaf_pcap "pcaptool genb failed"; return; }
	SOCK=deafpcap
	if ! daemon_start deafpcap "{\"nic\":{\"wire\":\"pcap:$T/bcast.pcap,$T/bcast-out.pcap\",\"queues\":4},\"control\":\"$T/deafpcap.sock\",\"guests\":[
	 {\"name\":\"v\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"3\"],\"mac\":\"02:00:00:00:0b:01\",\"output\":\"$T/deafpcap-v.out\"},
	 {\"name\":\"deaf\",\"program\":\"$B/deaf\",\"args\":[\"open\"],\"mac\":\"02:00:00:00:0b:02\",\"output\":\"/dev/null\"}]}"; then
		fail deaf_pcap "daemon did not start: $(tail -1 "$T/deafpcap.log")"; return
	fi
	wait_exited v 15
	local dropped=$(counter deaf rx_dropped)
	daemon_stop
	local out=$(cat "$T/deafpcap-v.out" 2>/dev/null)
	if [[ "$out" == *"received 2000 frames"* ]] && [ "${dropped:-0}" = 1 ]; then pass deaf_pcap
	else fail deaf_pcap "victim: ${out:-no output}; dropped for the deaf guest: $dropped (want 1)"; fi
}
test_deaf_pcap

# ---- an event loop waits on its port's descriptor with a timer ------------------

test_port_epoll() {
	$B/pcaptool genb "$T/pe.pcap" 2000 02:00:00:00:0c:01 || { fail port_epoll "pcaptool genb failed"; return; }
	SOCK=pe
	if ! daemon_start pe "{\"nic\":{\"wire\":\"pcap:$T/pe.pcap,$T/pe-out.pcap\",\"queues\":4},\"control\":\"$T/pe.sock\",\"guests\":[
	 {\"name\":\"ev\",\"program\":\"$B/port_epoll\",\"args\":[\"2000\"],\"mac\":\"02:00:00:00:0c:01\",\"output\":\"$T/pe-ev.out\"}]}"; then
		fail port_epoll "daemon did not start: $(tail -1 "$T/pe.log")"; return
	fi
	wait_exited ev 40
	daemon_stop
	local out=$(grep received "$T/pe-ev.out" 2>/dev/null)
	# every frame came through epoll wake-ups, the timer ticked, and the
	# loop slept: CPU under half the wall time (a polling loop uses it all)
	local wall=$(echo "$out" | sed -n 's/.* \([0-9]*\) ms wall.*/\1/p') cpu=$(echo "$out" | sed -n 's/.* \([0-9]*\) ms cpu.*/\1/p')
	local ticks=$(echo "$out" | sed -n 's/.* \([0-9]*\) ticks.*/\1/p')
	if [[ "$out" == *"received 2000 frames"* ]] && [ "${ticks:-0}" -ge 25 ] && [ -n "$wall" ] && [ -n "$cpu" ] &&
	   [ $((cpu * 2)) -lt "$wall" ]; then pass port_epoll
	else fail port_epoll "guest: ${out:-no output ($(tail -1 "$T/pe-ev.out" 2>/dev/null))}"; fi
}
test_port_epoll

# ---- a packet limit split over several queues still holds ----------------------

SOCK=split
if daemon_start split "{\"nic\":{\"wire\":\"null\",\"queues\":4},\"control\":\"$T/split.sock\",\"guests\":[
 {\"name\":\"q2\",\"program\":\"$G/pktgen\",\"mac\":\"02:00:00:00:08:01\",\"queues\":2,\"pps\":3,\"output\":\"/dev/null\"}]}"; then
	sleep 1
	pps=$(rate q2 tx_packets 4)
	daemon_stop
	if within "$pps" 3 20; then pass rate_split
	else fail rate_split "pps 3 over 2 queues: measured $pps pkt/s"; fi
else fail rate_split "daemon did not start: $(tail -1 "$T/split.log")"; fi

# ---- a guest killed in mid-traffic ----------------------------------------------

SOCK=kill
if daemon_start kill "{\"nic\":{\"wire\":\"loop\",\"queues\":16},\"control\":\"$T/kill.sock\",\"guests\":[
 {\"name\":\"ka\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:04:0a\",\"output\":\"/dev/null\"},
 {\"name\":\"kb\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"5\"],\"mac\":\"02:00:00:00:04:0b\",\"output\":\"$T/kb.out\"}]}"; then
	sleep 1   # the senders start once the receivers have posted their buffers
	ctl add "{\"name\":\"pa\",\"program\":\"$G/pktgen\",\"args\":[\"--dst\",\"02:00:00:00:04:0a\"],\"mac\":\"02:00:00:00:04:01\",\"rate\":\"50M\",\"output\":\"/dev/null\"}" > /dev/null
	ctl add "{\"name\":\"pb\",\"program\":\"$G/pktgen\",\"args\":[\"--count\",\"40000\",\"--dst\",\"02:00:00:00:04:0b\"],\"mac\":\"02:00:00:00:04:02\",\"rate\":\"15M\",\"output\":\"/dev/null\"}" > /dev/null
	sleep 1
	victim=$(ctl list | grep -o '"name":"ka","state":"running","pid":[0-9]*' | cut -d: -f4)
	kill -9 "$victim"
	wait_exited ka 5
	qs=$(ctl list | grep -o '"name":"ka"[^}]*' | grep -o '"queues":\[[0-9,]*\]')
	wait_exited kb 10
	errs=$(ctl stats | grep -o '"dma_errors":[0-9]*' | cut -d: -f2)
	daemon_stop
	out=$(cat "$T/kb.out")
	if [ "$qs" = '"queues":[]' ] && [ "$errs" = 0 ] &&
	   [[ "$out" == *"received 40000 frames"*"40000 intact, 0 corrupt, 0 other, 0 gaps"* ]]; then pass kill_guest
	else fail kill_guest "killed guest queues: $qs, dma errors: $errs, other sink: $out"; fi
else fail kill_guest "daemon did not start: $(tail -1 "$T/kill.log")"; fi

# ---- bad configs and bad control requests -----------------------------------------

bad=0
check_bad_config() { # JSON EXPECTED-WORD
	echo "$1" > "$T/bad.json"
	out=$($OPSUB daemon --config "$T/bad.json" 2>&1); rc=$?
	if [ $rc -ne 2 ] || [ "$(echo "$out" | wc -l)" -ne 1 ] || [[ "$out" != *"$2"* ]]; then
		echo "  config $1 -> status $rc: $out"; bad=1
	fi
}
check_bad_config '{"nic": {"queues": 5000}}' queues
check_bad_config '{"nic": {"wire": 7}}' wire
check_bad_config '{"guests": [{"name": "a", "program": "/nonexistent", "mac": "02:00:00:00:00:01"}]}' program
check_bad_config '{"guests": [{"name": "a", "program": "'$G'/sink", "mac": "nonsense"}]}' mac
check_bad_config '{"guests": [{"name": "a", "program": "'$G'/sink", "mac": "02:00:00:00:00:01", "weight": 0}]}' weight
check_bad_config '{"guests": [{"name": "a", "program": "'$G'/sink", "mac": "02:00:00:00:00:01"}, {"name": "a", "program": "'$G'/sink", "mac": "02:00:00:00:00:02"}]}' named
check_bad_config '{"colour": "blue"}' colour
check_bad_config '{"nic": ' JSON
if [ $bad = 0 ]; then pass bad_configs; else fail bad_configs "see above"; fi

SOCK=req
if daemon_start req "{\"nic\":{\"wire\":\"null\",\"queues\":4},\"control\":\"$T/req.sock\",\"guests\":[
 {\"name\":\"one\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:05:01\",\"output\":\"/dev/null\"}]}"; then
	bad=0
	check_bad_request() { # EXPECTED-WORD ARGS...
		local want=$1; shift
		out=$(ctl "$@" 2>&1); rc=$?
		if [ $rc -eq 0 ] || [[ "$out" != *"$want"* ]]; then echo "  ctl $* -> status $rc: $out"; bad=1; fi
	}
	check_bad_request "no running guest" set ghost rate=1M
	check_bad_request "weight" set one weight=0
	check_bad_request "weight must be an integer from 1 to 1000" set one weight=-1
	check_bad_request "weight must be an integer from 1 to 1000" set one weight=1001
	check_bad_request "queues must be an integer from 1 to 16" set one queues=-1
	check_bad_request "queues must be an integer from 1 to 16" set one queues=0
	check_bad_request "rate and pps" set one rate=-5
	check_bad_request "unknown field" set one colour=blue
	check_bad_request "no guest" remove ghost
	check_bad_request "program" add '{"name": "two", "mac": "02:00:00:00:05:02"}'
	check_bad_request "exists" add "{\"name\": \"one\", \"program\": \"$G/sink\", \"mac\": \"02:00:00:00:05:03\"}"
	check_bad_request "queue pair" add "{\"name\": \"big\", \"program\": \"$G/sink\", \"mac\": \"02:00:00:00:05:04\", \"queues\": 8}"
	check_bad_request "not a JSON object" raw 'this is not json'
	check_bad_request "unknown cmd" raw '{"cmd": "explode"}'
	check_bad_request "needs" raw '{"cmd": "remove"}'
	if ctl add "{\"name\": \"two\", \"program\": \"$G/sink\", \"mac\": \"02:00:00:00:05:02\"}" > /dev/null &&
	   [ "$(state two)" = running ] && ctl remove two > /dev/null &&
	   [ -z "$(state two)" ] && [ "$(state one)" = running ] && [ $bad = 0 ]; then   # (an answering daemon)
		pass bad_requests
	else fail bad_requests "see above (or add/remove of a good guest failed)"; fi
	daemon_stop
else fail bad_requests "daemon did not start: $(tail -1 "$T/req.log")"; fi

# ---- issue 10: the control socket and the inputs (docs/daemon.md) ------------------

# a regular file named as the control path is refused and left as it was (it
# used to be deleted, exit 0)
echo data > "$T/notasocket"
echo "{\"control\":\"$T/notasocket\",\"seconds\":1}" > "$T/ctlfile.json"
out=$(timeout 20 $OPSUB daemon --config "$T/ctlfile.json" 2>&1); rc=$?
if [ $rc = 1 ] && [[ "$out" == *"is a regular file, not a socket"* ]] && [ "$(cat "$T/notasocket")" = data ]; then
	pass control_keeps_other_files
else fail control_keeps_other_files "status $rc: $out; the file holds: $(cat "$T/notasocket" 2>&1)"; fi

SOCK=own
if daemon_start own "{\"nic\":{\"wire\":\"null\",\"queues\":4},\"control\":\"$T/own.sock\"}"; then
	# a second daemon on the same path is refused and names the first; the
	# first keeps its socket (it used to be taken over silently)
	out=$(timeout 20 $OPSUB daemon --config "$T/own.json" 2>&1); rc=$?
	if [ $rc = 1 ] && [[ "$out" == *"pid $DAEMON_PID (opsub) holds the control socket $T/own.sock"* ]] &&
	   [[ "$(ctl list)" == '{"ok":true,"guests":[]}' ]]; then pass control_second_daemon_refused
	else fail control_second_daemon_refused "status $rc: $out; first daemon: $(ctl list 2>&1)"; fi

	# idle clients (connected, sending nothing) delay nobody: ten used to
	# delay every request by 2 s; the bound is generous, it takes milliseconds
	idle=()
	open_idle() { # N: N more connections that send nothing; fails unless all are open
		for _ in $(seq "$1"); do socat -u "UNIX-CONNECT:$T/own.sock" - > /dev/null 2>&1 & idle+=($!); done
		for _ in $(seq 100); do
			[ "$(ss -xH | grep -c " $T/own.sock ")" -ge "${#idle[@]}" ] && return 0
			sleep 0.05
		done
		return 1
	}
	open_idle 10; opened=$?
	t0=$(now); out=$(ctl list 2>&1); t1=$(now)
	took=$(echo "$t1 - $t0" | bc -l)
	if [ $opened = 0 ] && [[ "$out" == '{"ok":true,"guests":[]}' ]] && [ "$(echo "$took < 1" | bc -l)" = 1 ]; then
		pass control_idle_clients
	else fail control_idle_clients "ctl list with 10 idle connections (opened: $opened; socat and ss needed) took $took s: $out"; fi

	# past the limit the extra client is told so (and the daemon goes on)
	open_idle $((32 - ${#idle[@]})); opened=$?
	out=$(ctl list 2>&1); rc=$?
	kill "${idle[@]}" 2>/dev/null; wait "${idle[@]}" 2>/dev/null
	for _ in $(seq 50); do after=$(ctl list 2>&1) && break; sleep 0.1; done
	if [ $opened = 0 ] && [ $rc = 1 ] &&
	   [[ "$out" == *'"error":"too many control connections: the daemon serves at most 32 at a time; try again"'* ]] &&
	   [[ "$after" == '{"ok":true,"guests":[]}' ]]; then pass control_connection_limit
	else fail control_connection_limit "33rd client: status $rc: $out; after: $after"; fi

	# a request past 64 KiB is answered so, also while the client still
	# writes (a 10 MB request used to get "premature end of input")
	out=$(head -c 10000000 /dev/zero | tr '\0' x | socat - "UNIX-CONNECT:$T/own.sock" 2>&1)
	out2=$(ctl raw "{\"cmd\":\"list\",\"pad\":\"$(head -c 70000 /dev/zero | tr '\0' x)\"}" 2>&1); rc=$?
	if [[ "$out" == *'"error":"request too long: at most 65536 bytes and a newline"'* ]] &&
	   [ $rc = 1 ] && [[ "$out2" == *"request too long"* ]] && [[ "$(ctl list)" == '{"ok":true,"guests":[]}' ]]; then
		pass control_request_too_long
	else fail control_request_too_long "10 MB: ${out:0:200}; 70 kB: status $rc: ${out2:0:200}"; fi

	# bad requests: one-line errors, the daemon goes on
	bad=0
	check_bad_request() { # EXPECTED-WORD ARGS...
		local want=$1; shift
		out=$(ctl "$@" 2>&1); rc=$?
		if [ $rc -eq 0 ] || [[ "$out" != *"$want"* ]]; then echo "  ctl $* -> status $rc: $out"; bad=1; fi
	}
	check_bad_request "duplicate object key" raw '{"cmd":"list","cmd":"stop"}'
	check_bad_request "must be a guest's name" raw '{"cmd":"stats","guest":7}'
	check_bad_request "00:00:00:00:00:00 is no address" add "{\"name\":\"z\",\"program\":\"$G/sink\",\"mac\":\"00:00:00:00:00:00\"}"
	check_bad_request "must be unicast" add "{\"name\":\"z\",\"program\":\"$G/sink\",\"mac\":\"ff:ff:ff:ff:ff:ff\"}"
	check_bad_request "letters, digits" add "{\"name\":\"a b\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0a:01\"}"
	if [ $bad = 0 ] && [[ "$(ctl list)" == '{"ok":true,"guests":[]}' ]]; then pass control_bad_requests
	else fail control_bad_requests "see above"; fi
	ctl stop > /dev/null 2>&1 || kill "$DAEMON_PID"   # (unreachable if its socket was taken)
	wait "$DAEMON_PID" 2>/dev/null
	if [ ! -e "$T/own.sock" ] && [ ! -e "$T/own.sock.lock" ]; then pass control_cleanup
	else fail control_cleanup "left behind: $(ls "$T"/own.sock* 2>&1)"; fi
else fail control_second_daemon_refused "daemon did not start: $(tail -1 "$T/own.log")"; fi

# a daemon killed with SIGKILL leaves a stale socket: the next one replaces it
SOCK=stale
if daemon_start stale "{\"nic\":{\"wire\":\"null\"},\"control\":\"$T/stale.sock\"}"; then
	kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
	# the stale socket is there at once, so daemon_start returns before the
	# new daemon has replaced it: ask until the new one answers (5 s)
	answered=""
	if [ -S "$T/stale.sock" ] && daemon_start stale "{\"nic\":{\"wire\":\"null\"},\"control\":\"$T/stale.sock\"}"; then
		for _ in $(seq 100); do
			answered=$(ctl list 2>/dev/null) && [ -n "$answered" ] && break
			sleep 0.05
		done
	fi
	if [[ "$answered" == '{"ok":true,"guests":[]}' ]]; then pass control_stale_socket_replaced
	else fail control_stale_socket_replaced "$(tail -1 "$T/stale.log")"; fi
	daemon_stop
else fail control_stale_socket_replaced "daemon did not start: $(tail -1 "$T/stale.log")"; fi

# opsub demo and opsub run --net have sockets of their own (the demo used
# to take the default socket from a running daemon)
mkdir -p "$T/xdg"
XDG_RUNTIME_DIR="$T/xdg" $OPSUB demo --seconds 4 --json > "$T/demo.out" 2> "$T/demo.err" &
DEMO=$!
XDG_RUNTIME_DIR="$T/xdg" $OPSUB run --net null --seconds 4 $G/sink > /dev/null 2>&1 &
RUN=$!
for _ in $(seq 60); do [ -S "$T/xdg/opsub-demo-$DEMO.sock" ] && [ -S "$T/xdg/opsub-run-$RUN.sock" ] && break; sleep 0.05; done
d=$($OPSUB ctl --socket "$T/xdg/opsub-demo-$DEMO.sock" list 2>&1)
r=$($OPSUB ctl --socket "$T/xdg/opsub-run-$RUN.sock" list 2>&1)
wait $DEMO $RUN
if [[ "$d" == *'"name":"pktgen"'* ]] && [[ "$r" == *'"name":"guest"'* ]] &&
   grep -q "control socket $T/xdg/opsub-demo-$DEMO.sock" "$T/demo.err" && [ -z "$(ls "$T/xdg")" ]; then
	pass control_private_sockets
else fail control_private_sockets "demo: $d; run --net: $r; left: $(ls "$T/xdg")"; fi

# bad configs: refused by validation, exit 2, one line naming the problem
bad=0
check_bad_config '{"seconds": 1, "seconds": 2}' "duplicate object key"
check_bad_config '{"guests": [{"name": "a", "program": "'$G'/sink", "mac": "00:00:00:00:00:00"}]}' "00:00:00:00:00:00 is no address"
check_bad_config '{"guests": [{"name": "a", "program": "'$G'/sink", "mac": "ff:ff:ff:ff:ff:ff"}]}' "must be unicast"
check_bad_config '{"nic": {"queues": 4}, "guests": [{"name": "a", "program": "'$G'/sink", "mac": "02:00:00:00:0b:01", "queues": 3},
  {"name": "b", "program": "'$G'/sink", "mac": "02:00:00:00:0b:02", "queues": 2}]}' "the guests take 5 queue pairs in all but the NIC has 4"
check_bad_config '{"nic": {"wire": "tap:opx0"}, "host_port": {"tap": "opx0"}}' "both use the TAP interface 'opx0'"
check_bad_config '{"host_port": {"tap": "a-name-of-16-chr"}}' 'host_port "tap" must be an interface name of 1 to 15 characters'
check_bad_config '{"nic": {"wire": "pcap:'$T'/in.pcap,'$T'/in.pcap"}}' "the input and the output are the same file"
check_bad_config '{"nic": {"wire": "warp"}}' "unknown wire 'warp'"
check_bad_config '{"guests": [{"name": "a", "program": "'$G'/sink", "mac": "02:00:00:00:0b:01", "promiscuous": "yes"}]}' '"promiscuous" must be true or false'
for f in /dev/zero "$T"; do
	out=$(timeout 20 $OPSUB daemon --config "$f" 2>&1); rc=$?
	if [ $rc -ne 2 ] || [[ "$out" != *"give a regular file"* ]]; then echo "  config $f -> status $rc: ${out:0:200}"; bad=1; fi
done
if [ $bad = 0 ]; then pass bad_inputs; else fail bad_inputs "see above"; fi

# a capture as both input and output of opsub run is refused and left whole
sum=$(md5sum < "$T/in.pcap")
out=$(timeout 20 $OPSUB run --net "pcap:$T/in.pcap,$T/in.pcap" --seconds 1 $G/l2fwd 2>&1); rc=$?
if [ $rc = 2 ] && [[ "$out" == *"the input and the output are the same file"* ]] && [ "$(md5sum < "$T/in.pcap")" = "$sum" ]; then
	pass pcap_same_file_refused
else fail pcap_same_file_refused "status $rc: $out"; fi

# ---- ping from a namespace through a TAP wire to the responder ------------------------

NS=opsub-test-$$
TAP=opst$$
if ip netns add "$NS" 2>/dev/null; then
	$OPSUB run --net "tap:$TAP" --seconds 10 $G/responder 10.99.0.2/24 > "$T/resp.out" 2>&1 &
	RPID=$!
	for _ in $(seq 50); do ip link show "$TAP" > /dev/null 2>&1 && break; sleep 0.1; done
	ip link set "$TAP" netns "$NS" && ip netns exec "$NS" ip addr add 10.99.0.1/24 dev "$TAP" &&
		ip netns exec "$NS" ip link set "$TAP" up
	if out=$(ip netns exec "$NS" ping -c 3 -W 2 10.99.0.2 2>&1) && [[ "$out" == *" 0% packet loss"* ]]; then
		pass ping_tap
	else fail ping_tap "$(echo "$out" | tail -2 | tr '\n' ' ')"; fi
	kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null
	ip netns del "$NS"
else fail ping_tap "cannot create a network namespace (run as root)"; fi

# ---- forgery: refused in opsub mode, a secret stolen in passthrough mode ------------------
# (and in passthrough the NIC rewrites code the guest has run behind the
# translator's back; opsub mode refuses that receive buffer)

addr=$(nm "$B/secret_holder" | awk '$3 == "secret" {print "0x" $1}')
for io in passthrough opsub; do
	SOCK=forge-$io
	if daemon_start "forge-$io" "{\"nic\":{\"wire\":\"loop\",\"queues\":8},\"control\":\"$T/forge-$io.sock\",\"guests\":[
	 {\"name\":\"victim\",\"program\":\"$B/secret_holder\",\"args\":[\"SECRET-$$-$io\"],\"mac\":\"02:00:00:00:06:01\"},
	 {\"name\":\"forger\",\"program\":\"$B/forger\",\"args\":[\"1\",\"$addr\"],\"mac\":\"02:00:00:00:06:02\",
	  \"io\":\"$io\",\"promiscuous\":true,\"output\":\"$T/forger-$io.out\"}]}"; then
		wait_exited forger 10
		daemon_stop
	fi
done
p=$(cat "$T/forger-passthrough.out" 2>/dev/null); o=$(cat "$T/forger-opsub.out" 2>/dev/null)
if [[ "$p" == *"STOLEN: SECRET-$$-passthrough"* ]] && [[ "$p" == *"STALE: "* ]] &&
   [[ "$o" == *"refused 14 of 14"* ]] && [[ "$o" != *STOLEN* ]]; then
	pass forgery
else fail forgery "passthrough: $p | opsub: $o"; fi

# ---- issue 12: more guests than queues, queues that follow demand (tests/net/pool.sh) ----
. tests/net/pool.sh

# ---- issue 10: logs, guest output, signals, guest lifetime (tests/net/service.sh) ----
. tests/net/service.sh

# ---- an idle NIC, metrics, capture (issue 10) -------------------------------------------------

. tests/net/nic_service.sh

# ---- issue 12: a guest's CPU weight and cap (tests/net/cpu_service.sh) ----------------------

. tests/net/cpu_service.sh

# ---- the demo: every guest moves packets ---------------------------------------------------

out=$($OPSUB demo --seconds 3 --json 2>&1)
if [[ "$out" == *'"moving":true'* ]] && [[ "$out" != *'"moving":false'* ]]; then pass demo_json
else fail demo_json "$out"; fi
exit 0
