# Sourced by tests/net/run.sh (its helpers: daemon_start, ctl, counter,
# wait_exited, pass, fail; $T, $G, $OPSUB): an idle NIC costs nothing and
# wakes for the first frame; metrics; capture (docs/nic.md, docs/daemon.md).

# cpu_ticks PID: user + system clock ticks of a process so far
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
# cpu_percent PID SECONDS: the share of one CPU the process used over SECONDS
cpu_percent() {
	local a b hz
	hz=$(getconf CLK_TCK)
	a=$(cpu_ticks "$1"); sleep "$2"; b=$(cpu_ticks "$1")
	echo $(( (b - a) * 100 / (hz * $2) ))
}
# A sleep that ends only when woken, so that a missed wake-up shows as a
# stall here rather than as a 1 s delay (nic_idle.c).
export OPSUB_NIC_SLEEP_BACKSTOP_MS=600000
musl-gcc -std=gnu11 -O2 -static -Wall -Wextra -Werror -Iinclude -o "$B/trickle" tests/net/guests/trickle.c \
	"$G/libopsub.a" || fail wake_after_idle "cannot build tests/net/guests/trickle.c"

# ---- an idle NIC costs nothing: no guests, then idle guests ------------------------------
# (an idle daemon used to spend 16-19% of a CPU in its DMA engine; the
# bound leaves room for the main loop's 20 ms poll on a busy machine)

SOCK=idle
if daemon_start idle "{\"nic\":{\"wire\":\"null\",\"queues\":8},\"control\":\"$T/idle.sock\"}"; then
	sleep 1
	bare=$(cpu_percent "$DAEMON_PID" 3)
	daemon_stop
	SOCK=idleg
	if daemon_start idleg "{\"nic\":{\"wire\":\"loop\",\"queues\":8},\"control\":\"$T/idleg.sock\",\"guests\":[
	 {\"name\":\"so\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0a:01\",\"output\":\"/dev/null\"},
	 {\"name\":\"sp\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0a:02\",\"io\":\"passthrough\",\"output\":\"/dev/null\"},
	 {\"name\":\"sv\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0a:03\",\"io\":\"paravirt\",\"output\":\"/dev/null\"},
	 {\"name\":\"se\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0a:04\",\"io\":\"emulated\",\"output\":\"/dev/null\"}]}"; then
		sleep 1
		guests=$(ctl list | grep -o '"pid":[0-9]*' | cut -d: -f2 | tr '\n' ' ')
		withg=$(cpu_percent "$DAEMON_PID" 3)
		worst=0
		for p in $guests; do c=$(cpu_percent "$p" 1); [ "$c" -gt "$worst" ] && worst=$c; done
		if [ "$bare" -le 5 ] && [ "$withg" -le 5 ] && [ "$worst" -le 5 ]; then pass idle_costs_nothing
		else fail idle_costs_nothing "idle daemon: ${bare}% of a CPU without guests, ${withg}% with 4 idle sinks (busiest sink ${worst}%); at most 5% expected"; fi

		# ---- every frame after an idle period wakes the NIC, in every I/O mode ----
		# (trickle sends a frame every 30 ms: the NIC falls asleep between two,
		# and each doorbell goes through that mode's driver: in opsub mode the
		# fast gate's hand-over to the full gate, NET_KICK from guest code in
		# passthrough, the monitor in emulated, the backend in paravirt)
		bad=""
		for m in so:opsub:01 sp:passthrough:02 sv:paravirt:03 se:emulated:04; do
			IFS=: read -r sink io n <<< "$m"
			before=$(counter "$sink" rx_packets)
			ctl add "{\"name\":\"t$sink\",\"program\":\"$B/trickle\",\"args\":[\"20\",\"30\",\"02:00:00:00:0a:$n\"],\"mac\":\"02:00:00:00:0b:$n\",\"io\":\"$io\",\"output\":\"/dev/null\"}" > /dev/null
			got=0
			for _ in $(seq 100); do
				got=$(( $(counter "$sink" rx_packets) - before ))
				[ "$got" -ge 20 ] && break
				sleep 0.1
			done
			[ "$got" -ge 20 ] || bad="$bad $io: $got of 20 frames;"
			wait_exited "t$sink" 10
		done
		if [ -z "$bad" ]; then pass wake_after_idle
		else fail wake_after_idle "frames sent 30 ms apart (the NIC asleep before each) did not all arrive within 10 s:$bad"; fi
		daemon_stop
	else fail idle_costs_nothing "daemon with guests did not start: $(tail -1 "$T/idleg.log")"; fi
else fail idle_costs_nothing "daemon did not start: $(tail -1 "$T/idle.log")"; fi

# ---- metrics: Prometheus text exposition, counters that grow ---------------------------

# check_exposition FILE: the text format's rules that a scraper relies on;
# prints what is wrong, nothing if all is well
check_exposition() {
	awk '
	function bad(why) { print "line " NR ": " why ": " $0; errors++ }
	/^# HELP / { if ($3 !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) bad("bad metric name"); help[$3] = 1; next }
	/^# TYPE / {
		if ($4 != "counter" && $4 != "gauge") bad("unknown type")
		if ($3 in type) bad("family declared twice")
		type[$3] = $4; next
	}
	/^#/ { bad("comment that is neither HELP nor TYPE"); next }
	/^$/ { bad("empty line"); next }
	{
		name = $0; sub(/[{ ].*/, "", name)
		if (name !~ /^[a-zA-Z_:][a-zA-Z0-9_:]*$/) bad("bad metric name")
		if (!(name in type)) bad("sample before its TYPE")
		if (!(name in help)) bad("sample without HELP")
		if (type[name] == "counter" && name !~ /_total$/) bad("counter not named _total")
		rest = $0; sub(/^[^{ ]*/, "", rest)
		if (rest ~ /^\{/) {
			labels = rest; sub(/\}.*/, "", labels); sub(/^\{/, "", labels)
			if (labels !~ /^[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*"(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*$/)
				bad("bad labels")
			sub(/^\{[^}]*\}/, "", rest)
		}
		if (rest !~ /^ [-+]?([0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?|NaN|[-+]Inf)$/) bad("bad value")
		samples++
	}
	END { if (!samples) print "no samples at all"; if (errors || !samples) exit 1 }' "$1"
}
# metric FILE NAME LABELS: the value of one sample
metric() { grep -F "$2{$3} " "$1" | awk '{print $2}'; }

PORT=$(( 20000 + $$ % 20000 ))
SOCK=met
if daemon_start met "{\"nic\":{\"wire\":\"loop\",\"queues\":8},\"control\":\"$T/met.sock\",\"metrics\":\"127.0.0.1:$PORT\",\"guests\":[
 {\"name\":\"mgen\",\"program\":\"$G/pktgen\",\"args\":[\"--dst\",\"02:00:00:00:0c:02\"],\"mac\":\"02:00:00:00:0c:01\",\"rate\":\"20M\",\"queues\":2,\"weight\":3,\"output\":\"/dev/null\"},
 {\"name\":\"msink\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0c:02\",\"output\":\"/dev/null\"}]}"; then
	sleep 1
	curl -sS -o "$T/m1.txt" -D "$T/m1.hdr" "http://127.0.0.1:$PORT/metrics" 2> "$T/m1.err"
	sleep 1
	curl -sS -o "$T/m2.txt" "http://127.0.0.1:$PORT/metrics" 2>> "$T/m1.err"
	code404=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/nothing")
	format=$(check_exposition "$T/m2.txt" | head -3)
	rx1=$(metric "$T/m1.txt" opsub_guest_rx_packets_total 'guest="msink"')
	rx2=$(metric "$T/m2.txt" opsub_guest_rx_packets_total 'guest="msink"')
	tx2=$(metric "$T/m2.txt" opsub_guest_tx_packets_total 'guest="mgen"')
	q=$(grep -c '^opsub_queue_tx_packets_total{guest="mgen",queue="[0-9]*"} ' "$T/m2.txt")
	rate=$(metric "$T/m2.txt" opsub_guest_rate_limit_bits_per_second 'guest="mgen"')
	weight=$(metric "$T/m2.txt" opsub_guest_weight 'guest="mgen"')
	running=$(metric "$T/m2.txt" opsub_guest_running 'guest="msink"')
	# the port is taken now: a second daemon on it does not start (exit 1)
	echo "{\"control\":\"$T/mtaken.sock\",\"metrics\":\"127.0.0.1:$PORT\",\"seconds\":1}" > "$T/mtaken.json"
	taken=$($OPSUB daemon --config "$T/mtaken.json" 2>&1); taken_rc=$?
	if [ -z "$format" ] && grep -qi '^content-type: text/plain; version=0.0.4' "$T/m1.hdr" &&
	   [ -n "$rx1" ] && [ -n "$rx2" ] && [ "$rx2" -gt "$rx1" ] && [ "$rx1" -gt 0 ] && [ "${tx2:-0}" -gt 0 ] &&
	   [ "$q" = 2 ] && [ "$rate" = 20000000 ] && [ "$weight" = 3 ] && [ "$running" = 1 ] && [ "$code404" = 404 ]; then
		pass metrics
	else fail metrics "format: ${format:-ok}; msink rx ${rx1:-none} then ${rx2:-none}; mgen tx ${tx2:-none}, $q queue samples, rate ${rate:-none}, weight ${weight:-none}; msink running ${running:-none}; /nothing: $code404; $(head -1 "$T/m1.err")"; fi
	daemon_stop
else fail metrics "daemon did not start: $(tail -1 "$T/met.log")"; fi

# a bad "metrics" value is a config error (exit 2); a port that is taken
# stops the start (exit 1, tried above), both with a line that says what to change
echo "{\"control\":\"$T/mbad.sock\",\"metrics\":\"localhost\"}" > "$T/mbad.json"
out=$($OPSUB daemon --config "$T/mbad.json" 2>&1); rc=$?
if [ $rc = 2 ] && [[ "$out" == *'"metrics" must look like "127.0.0.1:9200"'* ]] &&
   [ "${taken_rc:-}" = 1 ] && [[ "${taken:-}" == *"metrics: cannot listen on 127.0.0.1:$PORT"* ]]; then
	pass metrics_bad_config
else fail metrics_bad_config "bad value: exit $rc, $out | taken port: exit ${taken_rc:-none}, ${taken:-}"; fi

# ---- capture: one guest's frames, both directions, and nobody else's ---------------------
# cgen -> cfwd (l2fwd, to csink) -> csink, and beside them ogen -> osink;
# cfwd is captured: frames to it (received) and from it (sent), none of the
# other pair's

SOCK=cap
if daemon_start cap "{\"nic\":{\"wire\":\"loop\",\"queues\":8},\"control\":\"$T/cap.sock\",\"guests\":[
 {\"name\":\"csink\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0d:03\",\"output\":\"/dev/null\"},
 {\"name\":\"osink\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0d:05\",\"output\":\"/dev/null\"},
 {\"name\":\"cfwd\",\"program\":\"$G/l2fwd\",\"args\":[\"--dst\",\"02:00:00:00:0d:03\"],\"mac\":\"02:00:00:00:0d:02\",\"output\":\"/dev/null\"},
 {\"name\":\"cgen\",\"program\":\"$G/pktgen\",\"args\":[\"--dst\",\"02:00:00:00:0d:02\"],\"mac\":\"02:00:00:00:0d:01\",\"rate\":\"5M\",\"output\":\"/dev/null\"},
 {\"name\":\"ogen\",\"program\":\"$G/pktgen\",\"args\":[\"--dst\",\"02:00:00:00:0d:05\"],\"mac\":\"02:00:00:00:0d:04\",\"rate\":\"5M\",\"output\":\"/dev/null\"}]}"; then
	sleep 1
	start=$(ctl capture cfwd "$T/cfwd.pcap")
	sleep 2
	stop=$(ctl capture cfwd --stop)
	frames=$(grep -o '"frames":[0-9]*' <<< "$stop" | cut -d: -f2)
	tcpdump -nn -e -r "$T/cfwd.pcap" > "$T/cfwd.txt" 2> "$T/cfwd.err"; read_rc=$?
	total=$(grep -c '^[0-9][0-9]:[0-9][0-9]:' "$T/cfwd.txt")   # one line per frame (not the hex dump lines)
	rx=$(grep -c '^[0-9:.]* 02:00:00:00:0d:01 > 02:00:00:00:0d:02,' "$T/cfwd.txt")
	tx=$(grep -c '^[0-9:.]* 02:00:00:00:0d:02 > 02:00:00:00:0d:03,' "$T/cfwd.txt")
	others=$(grep -c '02:00:00:00:0d:0[45]' "$T/cfwd.txt")
	# the file exists now: a second capture to it is refused, the file kept
	again=$(ctl capture cfwd "$T/cfwd.pcap")
	after=$(tcpdump -nn -r "$T/cfwd.pcap" 2>/dev/null | grep -c '^[0-9][0-9]:[0-9][0-9]:')
	# --seconds: the capture ends by itself, the file complete
	ctl capture csink "$T/csink.pcap" --seconds 1 > /dev/null
	sleep 2.5
	ended=$(ctl capture csink --stop)
	timed=$(tcpdump -nn -e -r "$T/csink.pcap" 2>/dev/null | grep -c '> 02:00:00:00:0d:03,')
	if [[ "$start" == '{"ok":true'* ]] && [ "$read_rc" = 0 ] && [ "$rx" -gt 100 ] && [ "$tx" -gt 100 ] &&
	   [ "$others" = 0 ] && [ "$total" = "$frames" ] && [ "$total" = $((rx + tx)) ] &&
	   [[ "$again" == *'"ok":false'*"never overwrites"* ]] && [ "$after" = "$total" ] &&
	   [[ "$ended" == *"is not being captured"* ]] && [ "$timed" -gt 100 ]; then
		pass capture
	else fail capture "start: $start; stop: $stop; read: $(head -1 "$T/cfwd.err"); $total frames: $rx received, $tx sent, $others of the other pair; again: $again ($after frames after); timed capture: $ended, $timed frames"; fi
	daemon_stop
else fail capture "daemon did not start: $(tail -1 "$T/cap.log")"; fi
unset OPSUB_NIC_SLEEP_BACKSTOP_MS
