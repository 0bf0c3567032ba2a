# Issue 10, the daemon as a service: its log, guest output, signals and the
# lifetime of guest processes (docs/daemon.md: "Logging", "Signals", "Guest
# processes never outlive the daemon").  Sourced by tests/net/run.sh, whose
# helpers it uses (pass, fail, daemon_start, ctl, $T, $G, $B, $OPSUB).

# TIME opsub[PID]: the head of every log line on stderr or in a file
STAMP='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z opsub\[[0-9]+\]: '

# running PID...: those of the processes PID... that still run (a zombie
# waiting for init to reap it runs no more)
running() {
	local p s out=""
	for p in "$@"; do
		s=$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)
		[ -n "$s" ] && [ "$s" != Z ] && out+="$p "
	done
	echo "${out% }"
}
# gone_within SECONDS PID...: waits until none of PID... runs; true if so
gone_within() {
	local end=$(( $(date +%s%N) + $1 * 1000000000 )); shift
	while [ -n "$(running "$@")" ]; do
		[ "$(date +%s%N)" -gt "$end" ] && return 1
		sleep 0.02
	done
}
# pid_of GUEST: the pid of a running guest
pid_of() { ctl list | grep -o "\"name\":\"$1\",\"state\":\"running\",\"pid\":[0-9]*" | cut -d: -f4; }
guest_pids() { ctl list | grep -o '"pid":[0-9]*' | cut -d: -f2 | tr '\n' ' '; }
# logged REGEX: the log of the daemon of $SOCK has a line (after the stamp)
# matching REGEX
logged() { grep -qE "^$STAMP$1" "$T/$SOCK.log"; }

# ---- how each guest ended, and what it wrote, in the log ----------------------------

test_log_guest_ends() {
	SOCK=svc
	rm -f "$T/svc-file.out"
	echo "not a program" > "$T/notelf"
	if ! daemon_start svc "{\"nic\":{\"wire\":\"null\",\"queues\":16},\"control\":\"$T/svc.sock\",\"guests\":[
	 {\"name\":\"three\",\"program\":\"$B/lifecycle\",\"args\":[\"exit\",\"3\"],\"mac\":\"02:00:00:00:0c:01\"},
	 {\"name\":\"faulty\",\"program\":\"$B/lifecycle\",\"args\":[\"fault\"],\"mac\":\"02:00:00:00:0c:02\"},
	 {\"name\":\"victim\",\"program\":\"$B/lifecycle\",\"args\":[\"wait\"],\"mac\":\"02:00:00:00:0c:03\"},
	 {\"name\":\"jailed\",\"program\":\"$B/lifecycle\",\"args\":[\"wait\"],\"mac\":\"02:00:00:00:0c:04\"},
	 {\"name\":\"forge\",\"program\":\"$B/lifecycle\",\"args\":[\"forge\"],\"mac\":\"02:00:00:00:0c:05\"},
	 {\"name\":\"tofile\",\"program\":\"$B/lifecycle\",\"args\":[\"fault\"],\"mac\":\"02:00:00:00:0c:06\",\"output\":\"$T/svc-file.out\"},
	 {\"name\":\"bad\",\"program\":\"$T/notelf\",\"mac\":\"02:00:00:00:0c:07\"}]}"; then
		fail log_guest_ends "daemon did not start: $(tail -1 "$T/svc.log")"; return
	fi
	wait_exited three 10; wait_exited faulty 10; wait_exited forge 10; wait_exited tofile 10; wait_exited bad 10
	# the two that wait: one killed from outside, one as the kernel kills
	# a process that breaks the seccomp jail (SIGSYS)
	for _ in $(seq 50); do grep -q "guest 'jailed' stdout" "$T/svc.log" && break; sleep 0.1; done
	kill -KILL "$(pid_of victim)"; kill -SYS "$(pid_of jailed)"
	wait_exited victim 10; wait_exited jailed 10
	# a file it cannot open for "output" is refused (it used to be ignored
	# and the guest's output mixed into the daemon's)
	local refused=$(ctl add "{\"name\":\"nofile\",\"program\":\"$B/lifecycle\",\"mac\":\"02:00:00:00:0c:08\",\"output\":\"$T/no/such/dir/x.out\"}" 2>&1)
	# the time of a stats reply: two of them give rates
	local s1=$(ctl stats) ; sleep 0.3; local s2=$(ctl stats)
	kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"
	local log="$T/svc.log" why=""
	# every line of the daemon's stderr is a log line: time, pid, event
	local unstamped=$(grep -cvE "^$STAMP" "$log")
	[ "$unstamped" = 0 ] || why+="$unstamped lines without a time stamp; "
	logged "daemon starting: opsub [^ ]+, pid $DAEMON_PID, config $T/svc.json, nic 16 queues of 1024 descriptors, wire null, control $T/svc.sock" &&
		logged "daemon stopping: SIGTERM" && logged "daemon stopped after [0-9.]+ s \(SIGTERM\), exit status 0" ||
		why+="no start or stop line; "
	logged "guest 'three' started: pid [0-9]+, io opsub, queues [0-9]+, mac 02:00:00:00:0c:01" || why+="no start line; "
	[ -z "$why" ] && pass log_daemon_and_guest_start || fail log_daemon_and_guest_start "${why%; }"
	logged "warning: guest 'three' ended after [0-9.]+ s \(pid [0-9]+, status 3\): exit status 3$" &&
		logged "warning: guest 'forge' ended after [0-9.]+ s \(pid [0-9]+, status 3\): exit status 3$" &&
		pass log_guest_exit_status || fail log_guest_exit_status "$(grep -E "'(three|forge)' ended" "$log")"
	logged "warning: guest 'faulty' ended after [0-9.]+ s \(pid [0-9]+, status 139\): guest fault: segmentation fault \(SIGSEGV\) at rip 0x[0-9a-f]+, address 0x0: mov " &&
		pass log_guest_fault || fail log_guest_fault "$(grep "'faulty' ended" "$log")"
	logged "warning: guest 'victim' ended after [0-9.]+ s \(pid [0-9]+, status 137\): killed by signal SIGKILL$" &&
		pass log_guest_killed || fail log_guest_killed "$(grep "'victim' ended" "$log")"
	logged "warning: guest 'jailed' ended after [0-9.]+ s \(pid [0-9]+, status 159\): jail violation: .*SIGSYS" &&
		pass log_guest_jail_violation || fail log_guest_jail_violation "$(grep "'jailed' ended" "$log")"
	logged "warning: guest 'bad' ended after [0-9.]+ s \(pid [0-9]+, status 2\): $T/notelf: not an ELF file$" &&
		pass log_guest_refused_program || fail log_guest_refused_program "$(grep "'bad' ended" "$log")"
	# labelled output: each line of a guest's stdout and stderr names it, and
	# what a guest writes cannot pass for the daemon's own lines
	why=""
	logged "guest 'three' stdout: lifecycle: out exit$" && logged "guest 'three' stderr: lifecycle: err exit$" ||
		why+="no labelled line of 'three'; "
	local bare=$(grep "lifecycle: " "$log" | grep -cvE "^${STAMP}guest '[a-z]+' std(out|err): lifecycle: ")
	[ "$bare" = 0 ] || why+="$bare guest lines not labelled; "
	logged "guest 'forge' stderr: 2020-01-01T00:00:00.000Z opsub\[1\]: guest 'x' ended: forged$" &&
		logged "guest 'forge' stderr: opsub: guest fault: forged fault$" && logged "guest 'forge' stderr: tab here\?$" ||
		why+="the forged lines are not shown as forge's stderr; "
	grep -q '^2020-01-01' "$log" && why+="a guest wrote a line of the log; "
	LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$log" && why+="control characters in the log; "
	[ -z "$why" ] && pass guest_output_labelled || fail guest_output_labelled "${why%; }"
	# "output": the guest writes there, the fault report goes there too,
	# and the log says how it ended
	local file=$(cat "$T/svc-file.out" 2>/dev/null)
	if [[ "$file" == *"lifecycle: out fault"*"lifecycle: err fault"* ]] &&
	   [[ "$file" == *"opsub: guest fault: segmentation fault (SIGSEGV)"* ]] && ! grep -q "guest 'tofile' std" "$log" &&
	   logged "warning: guest 'tofile' ended .* guest fault: segmentation fault" &&
	   [[ "$refused" == *'"ok":false'*"nofile"*"output"*"$T/no/such/dir/x.out"* ]]; then
		pass guest_output_file
	else fail guest_output_file "file: ${file:-nothing}; add with a bad output: $refused"; fi
	# stats carry when they were taken
	local t1=$(grep -o '"time":[0-9.]*' <<< "$s1" | cut -d: -f2) u1=$(grep -o '"uptime":[0-9.]*' <<< "$s1" | cut -d: -f2)
	local t2=$(grep -o '"time":[0-9.]*' <<< "$s2" | cut -d: -f2) u2=$(grep -o '"uptime":[0-9.]*' <<< "$s2" | cut -d: -f2)
	# (both clocks advance alike between two replies; the time is now's)
	if [ -n "$t1" ] && [ -n "$t2" ] && [ -n "$u1" ] && [ -n "$u2" ] &&
	   [ "$(echo "d = ($t2 - $t1) - ($u2 - $u1); if (d < 0) d = -d; $u2 > $u1 && d < 0.05 && $t1 - $(date +%s) < 60 && $(date +%s) - $t1 < 60" | bc -l)" = 1 ]; then
		pass stats_time
	else fail stats_time "two stats replies 0.3 s apart: time $t1 -> $t2, uptime $u1 -> $u2"; fi
}

# ---- signals: each that stops the daemon cleans up; SIGHUP reloads, SIGUSR1 logs ------

# (SIGHUP and SIGUSR1 used to kill the daemon and leave its socket behind;
# every stop must leave no socket, no lock and no guest process)
test_signal_stop() { # SIG
	local sig=$1 pids
	SOCK=sig-$sig
	if ! daemon_start "sig-$sig" "{\"nic\":{\"wire\":\"loop\",\"queues\":4},\"control\":\"$T/sig-$sig.sock\",\"guests\":[
	 {\"name\":\"s\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0d:01\"},
	 {\"name\":\"p\",\"program\":\"$G/pktgen\",\"args\":[\"--dst\",\"02:00:00:00:0d:01\"],\"mac\":\"02:00:00:00:0d:02\",\"rate\":\"10M\"}]}"; then
		fail "signal_stop_$sig" "daemon did not start: $(tail -1 "$T/sig-$sig.log")"; return
	fi
	pids=$(guest_pids)
	kill -"$sig" "$DAEMON_PID"
	local rc=timeout
	for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || { wait "$DAEMON_PID"; rc=$?; break; }; sleep 0.1; done
	local left=$(running $pids) files=$(ls "$T/sig-$sig.sock"* 2>/dev/null)
	if [ "$rc" = 0 ] && [ -z "$left" ] && [ -z "$files" ] && logged "daemon stopping: SIG$sig$" &&
	   [ "$(grep -c "ended after .*stopped by the daemon" "$T/sig-$sig.log")" = 2 ]; then pass "signal_stop_$sig"
	else
		fail "signal_stop_$sig" "exit status $rc, guest processes left: ${left:-none}, files left: ${files:-none}; log: $(tail -3 "$T/sig-$sig.log" | tr '\n' '|')"
		kill -9 "$DAEMON_PID" $left 2>/dev/null
	fi
}
test_signal_stops() { for sig in TERM INT QUIT; do test_signal_stop $sig; done; }

test_signal_hup_usr1() {
	SOCK=hup
	local conf="{\"nic\":{\"wire\":\"null\",\"queues\":8},\"control\":\"$T/hup.sock\",\"guests\":[
	 {\"name\":\"keep\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0e:01\",\"rate\":\"10M\"},
	 {\"name\":\"drop\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0e:02\"}]}"
	echo "$conf" > "$T/hup.json"
	$OPSUB daemon --config "$T/hup.json" --log "$T/hup-file.log" > "$T/hup.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do [ -S "$T/hup.sock" ] && break; sleep 0.05; done
	ctl add "{\"name\":\"mine\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0e:03\"}" > /dev/null
	local drop=$(pid_of drop) mine=$(pid_of mine)
	# a log rotation: the file moved away, SIGHUP, a new file; and the config
	# changed: keep's rate and weight, drop gone, new added
	mv "$T/hup-file.log" "$T/hup-file.log.1"
	echo "{\"nic\":{\"wire\":\"null\",\"queues\":8},\"control\":\"$T/hup.sock\",\"guests\":[
	 {\"name\":\"keep\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0e:01\",\"rate\":\"20M\",\"weight\":3},
	 {\"name\":\"new\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0e:04\"}]}" > "$T/hup.json"
	kill -HUP "$DAEMON_PID"
	for _ in $(seq 50); do grep -q "reload done" "$T/hup-file.log" 2>/dev/null && break; sleep 0.1; done
	local list=$(ctl list 2>&1)
	# a config that does not load changes nothing
	echo '{"nic": ' > "$T/hup.json"
	kill -HUP "$DAEMON_PID"
	kill -USR1 "$DAEMON_PID"
	for _ in $(seq 50); do grep -q "stats: nic" "$T/hup-file.log" 2>/dev/null && break; sleep 0.1; done
	local list2=$(ctl list 2>&1) alive=no
	kill -0 "$DAEMON_PID" 2>/dev/null && [ -S "$T/hup.sock" ] && alive=yes
	local pids=$(guest_pids)
	kill -TERM "$DAEMON_PID"; wait "$DAEMON_PID"; local rc=$?
	local keep=$(grep -o '"name":"keep"[^}]*' <<< "$list")
	if [ $alive = yes ] && [ -n "$mine" ] && [ -n "$drop" ] && [[ "$keep" == *'"state":"running"'*'"rate_bps":20000000'*'"weight":3'* ]] &&
	   [[ "$list" != *'"name":"drop"'* ]] && [ -z "$(running $drop)" ] &&
	   [[ "$list" == *'"name":"new","state":"running"'* ]] &&
	   [[ "$list" == *"\"name\":\"mine\",\"state\":\"running\",\"pid\":$mine"* ]] &&
	   [ "$(tr -d 0-9 <<< "$list2")" = "$(tr -d 0-9 <<< "$list")" ] &&
	   grep -q "SIGHUP: config $T/hup.json not reloaded, nothing changed: config is not valid JSON" "$T/hup-file.log" &&
	   grep -q "guest 'keep' changed: rate 10M -> 20M bit/s, weight 1 -> 3" "$T/hup-file.log" &&
	   grep -q "daemon starting" "$T/hup-file.log.1" && ! grep -q "reload" "$T/hup-file.log.1"; then
		pass signal_hup_reload
	else fail signal_hup_reload "alive after SIGHUP: $alive; after the reload: $list; after a bad config: $list2; log: $(grep -E 'SIGHUP|reload' "$T/hup-file.log" | tr '\n' '|')"; fi
	if [ $alive = yes ] && grep -qE "^${STAMP}stats: guest 'keep' running \(pid [0-9]+\): tx [0-9]+ packets" "$T/hup-file.log" &&
	   grep -qE "^${STAMP}stats: nic after" "$T/hup-file.log"; then pass signal_usr1_stats
	else fail signal_usr1_stats "alive: $alive; $(grep stats: "$T/hup-file.log" | head -3)"; fi
	# the log went to the file, not to stderr
	if [ $rc = 0 ] && [ ! -s "$T/hup.log" ] && [ -z "$(running $pids)" ] && [ ! -e "$T/hup.sock" ] &&
	   grep -q "daemon stopped after" "$T/hup-file.log"; then pass log_to_file
	else fail log_to_file "exit status $rc; on stderr: $(head -2 "$T/hup.log")"; fi
}

# ---- kill -9 of the daemon under traffic: no guest process outlives it -------------------

test_kill9() {
	SOCK=k9
	if ! daemon_start k9 "{\"nic\":{\"wire\":\"loop\",\"queues\":8},\"control\":\"$T/k9.sock\",\"guests\":[
	 {\"name\":\"s\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0f:01\"},
	 {\"name\":\"p\",\"program\":\"$G/pktgen\",\"args\":[\"--dst\",\"02:00:00:00:0f:01\"],\"mac\":\"02:00:00:00:0f:02\",\"rate\":\"200M\"},
	 {\"name\":\"v\",\"program\":\"$G/sink\",\"mac\":\"02:00:00:00:0f:03\",\"io\":\"paravirt\"},
	 {\"name\":\"e\",\"program\":\"$G/pktgen\",\"args\":[\"--dst\",\"02:00:00:00:0f:03\"],\"mac\":\"02:00:00:00:0f:04\",\"io\":\"emulated\",\"rate\":\"50M\"}]}"; then
		fail kill9_daemon "daemon did not start: $(tail -1 "$T/k9.log")"; return
	fi
	local r0 r1 pids
	sleep 1
	r0=$(counter s rx_packets); sleep 0.5; r1=$(counter s rx_packets)
	pids=$(guest_pids)
	disown "$DAEMON_PID"   # (no "Killed" notice from bash)
	kill -9 "$DAEMON_PID"; local t0=$(now)
	gone_within 5 $pids; local t1=$(now) left=$(running $pids)
	rm -f "$T/k9.sock" "$T/k9.sock.lock"
	echo "  net/kill9_daemon: 4 guest processes under traffic ($r0 -> $r1 frames received) gone $(echo "$t1 - $t0" | bc -l | cut -c1-5) s after kill -9 of the daemon"
	if [ "${r1:-0}" -gt "${r0:-0}" ] && [ "$(wc -w <<< "$pids")" = 4 ] && [ -z "$left" ]; then pass kill9_daemon
	else
		fail kill9_daemon "traffic: $r0 -> $r1; guest processes still running 5 s after kill -9 of the daemon: ${left:-none} (of $pids)"
		kill -9 $left 2>/dev/null
	fi
}

# ---- a guest that dies at start makes `opsub demo` and `opsub run --net` say so ----------

test_demo_dead_guests() {
	mkdir -p "$T/notguests"
	for g in pktgen l2fwd sink responder; do echo "not a program" > "$T/notguests/$g"; done
	local out err rc
	out=$(timeout 60 $OPSUB demo --seconds 20 --json --guest-dir "$T/notguests" 2> "$T/demo-dead.err"); rc=$?
	err=$(cat "$T/demo-dead.err")
	if [ $rc = 1 ] && [[ "$err" == *"opsub demo: guest 'pktgen' ended after "*"(status 2): $T/notguests/pktgen: not an ELF file"* ]] &&
	   [[ "$out" == *'"name":"sink"'*'"ended":true,"status":2'* ]]; then pass demo_guests_dead_at_start
	else fail demo_guests_dead_at_start "exit status $rc (want 1); stderr: $err; stdout: $out"; fi
}

test_run_net_guest_killed() {
	local err rc pid
	$OPSUB run --net null "$B/lifecycle" wait > "$T/run-killed.out" 2> "$T/run-killed.err" &
	local opsub=$!
	for _ in $(seq 200); do
		pid=$(pgrep -P "$opsub" | head -1)
		[ -n "$pid" ] && grep -q "out wait" "$T/run-killed.out" && break
		sleep 0.1
	done
	if [ -z "$pid" ]; then
		kill "$opsub"; wait "$opsub"
		fail run_net_guest_killed "the guest did not start in 20 s: $(cat "$T/run-killed.err")"; return
	fi
	kill -SYS "$pid"
	wait "$opsub"; rc=$?
	err=$(cat "$T/run-killed.err")
	# (its own stdout stays its own, unlabelled, for the foreground program)
	if [ $rc = 159 ] && [[ "$err" == *"guest 'guest' ended after "*"(pid $pid, status 159): jail violation"* ]] &&
	   [ "$(cat "$T/run-killed.out")" = "lifecycle: out wait" ]; then pass run_net_guest_killed
	else fail run_net_guest_killed "exit status $rc (want 159); stderr: ${err:-nothing}"; fi
	# a program that cannot start: the loader's reason, status 2, and no
	# second line about it (the exit status is opsub's own)
	echo "not a program" > "$T/notelf"
	err=$(timeout 60 $OPSUB run --net null "$T/notelf" 2>&1); rc=$?
	if [ $rc = 2 ] && [ "$err" = "opsub: $T/notelf: not an ELF file" ]; then pass run_net_guest_not_started
	else fail run_net_guest_not_started "exit status $rc (want 2); output: ${err:-nothing}"; fi
}
# SERVICE_TESTS="kill9 ..." runs only those (to try one after a change)
for t in ${SERVICE_TESTS:-log_guest_ends signal_stops signal_hup_usr1 kill9 demo_dead_guests run_net_guest_killed}; do
	"test_$t"
done
