# Issue 12, CPU is a resource too: a guest's CPU weight and cap through the
# cgroup cpu controller (docs/daemon.md, "CPU").  Sourced by
# tests/net/run.sh, whose helpers it uses (pass, fail, daemon_start, ctl,
# wait_exited; $T, $G, $B, $OPSUB).  The bounds are wide: a cap of 0.2
# core must show below 0.35, a free spinner above 0.45, on a busy 2-core
# machine.

musl-gcc -std=gnu11 -O2 -static -Wall -Wextra -Werror -Iinclude -o "$B/spin" tests/net/guests/spin.c \
	"$G/libopsub.a" || fail cpu_cap "cannot build tests/net/guests/spin.c"

cpu_skip() { echo "SKIP net/$1: $2"; }
# cpu_pid GUEST: the pid of a running guest
cpu_pid() { ctl list | grep -o "\"name\":\"$1\",\"state\":\"running\",\"pid\":[0-9]*" | cut -d: -f4; }
# cpu_field REPLY GUEST FIELD: one field of GUEST in a list or stats reply
cpu_field() { grep -o "\"name\":\"$2\"[^}]*" <<< "$1" | grep -o "\"$3\":[^,}]*" | head -1 | cut -d: -f2; }
# cpu_cores_between R0 R1 GUEST: the cores GUEST used between two stats
# replies: the increase of its "cpu_seconds" (its group's usage counter)
# over that of their "uptime"
cpu_cores_between() {
	awk -v a="$(cpu_field "$1" "$3" cpu_seconds)" -v b="$(cpu_field "$2" "$3" cpu_seconds)" \
	    -v t0="$(grep -o '"uptime":[0-9.e+-]*' <<< "$1" | cut -d: -f2)" \
	    -v t1="$(grep -o '"uptime":[0-9.e+-]*' <<< "$2" | cut -d: -f2)" \
	    'BEGIN { if (a == "" || b == "" || t1 <= t0) print "none"; else printf "%.3f\n", (b - a) / (t1 - t0) }'
}
# cpu_pair A B SECONDS: "CA CB", the cores guests A and B used over the
# same SECONDS
cpu_pair() {
	local r0 r1
	r0=$(ctl stats); sleep "$3"; r1=$(ctl stats)
	echo "$(cpu_cores_between "$r0" "$r1" "$1") $(cpu_cores_between "$r0" "$r1" "$2")"
}
# cpu_below X Y, cpu_above X Y: numeric comparisons ("none" is neither)
cpu_below() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x != "none" && x + 0 < y + 0) }'; }
cpu_above() { awk -v x="$1" -v y="$2" 'BEGIN { exit !(x != "none" && x + 0 > y + 0) }'; }
# groups_in DIR: the number of groups (directories) directly in DIR, but
# for those of other daemons (opsub-PID), which may come and go meanwhile
groups_in() { find "$1" -mindepth 1 -maxdepth 1 -type d ! -name 'opsub-*' 2>/dev/null | wc -l; }

test_cpu_limits() {
	SOCK=cpu
	if ! daemon_start cpu "{\"nic\":{\"wire\":\"null\",\"queues\":16},\"control\":\"$T/cpu.sock\",\"guests\":[
	 {\"name\":\"capped\",\"program\":\"$B/spin\",\"mac\":\"02:00:00:00:12:01\",\"cpu_max\":0.2,\"cpu_weight\":10000,\"output\":\"/dev/null\"},
	 {\"name\":\"free\",\"program\":\"$B/spin\",\"mac\":\"02:00:00:00:12:02\",\"cpu_weight\":10000,\"output\":\"/dev/null\"}]}"; then
		fail cpu_cap "daemon did not start: $(tail -1 "$T/cpu.log")"; return
	fi
	local parent kind
	parent=$(grep -o 'CPU control: cgroup [^,]*, a group per guest in .*' "$T/cpu.log" | sed 's/.* in //')
	kind=$(grep -o 'CPU control: cgroup v[12]' "$T/cpu.log" | cut -d' ' -f4)
	if [ -z "$parent" ]; then
		local why=$(grep -o 'CPU control is unavailable on this host: .*' "$T/cpu.log")
		daemon_stop
		for t in cpu_cap cpu_uncap cpu_weight cpu_groups_removed; do cpu_skip $t "${why:-no CPU control line in the log}"; done
		return
	fi
	local base=${parent%/*} before_base
	before_base=$(groups_in "$base")
	local g=$parent/guest-capped f=$parent/guest-free max_file weight_file
	[ "$kind" = v2 ] && max_file=cpu.max weight_file=cpu.weight || max_file=cpu.cfs_quota_us weight_file=cpu.shares
	sleep 1   # (they boot and spin)
	local pc=$(cpu_pid capped) pf=$(cpu_pid free) pair cap free
	# The cap is an upper bound whatever else runs.  That the free one gets
	# more shows only when the machine gives it some (both have the highest
	# weight, so that other processes take little): up to three windows
	# until it has half a core.
	for secs in 2 3 3; do
		pair=$(cpu_pair capped free $secs); cap=${pair% *} free=${pair#* }
		cpu_above "$free" 0.45 && break
	done
	local in_group=no
	grep -qx "$pc" "$g/cgroup.procs" 2>/dev/null && grep -qx "$pf" "$f/cgroup.procs" 2>/dev/null && in_group=yes
	local quota=$(cat "$g/$max_file" 2>&1)
	local why="capped at 0.2: $cap cores, free: $free cores; in their groups: $in_group; $g/$max_file: $quota"
	if [ $in_group = yes ] && cpu_below "$cap" 0.35 && { [ "$quota" = "20000 100000" ] || [ "$quota" = 20000 ]; }; then
		if cpu_above "$free" 0.45 && cpu_above "$cap" 0.05; then pass cpu_cap
		elif cpu_above "$free" 0.45; then fail cpu_cap "$why"
		else cpu_skip cpu_cap "the cap held, but the machine is too busy to show the free guest above it ($why)"; fi
	else fail cpu_cap "$why"; fi
	echo "  (cgroup $kind: capped at 0.2 used $cap cores, uncapped $free cores)"

	# the cap lifted at run time: clearly above what the cap allowed (the
	# kernel holds a cap to within a tick or two over 2 s)
	local reply=$(ctl set capped cpu_max=null 2>&1) lifted
	sleep 0.3
	for secs in 2 3 3; do
		pair=$(cpu_pair capped free $secs); lifted=${pair% *} free=${pair#* }
		cpu_above "$lifted" 0.28 && break
	done
	quota=$(cat "$g/$max_file" 2>&1)
	local shown=$(cpu_field "$(ctl list)" capped cpu_max)
	why="set cpu_max=null: $reply; then $lifted cores (free: $free); $g/$max_file: $quota; list: cpu_max $shown"
	if [[ "$reply" == '{"ok":true}' ]] && { [ "$quota" = "max 100000" ] || [ "$quota" = -1 ]; } && [ "$shown" = null ] &&
	   grep -q "guest 'capped' changed: cpu max 0.2 -> none" "$T/cpu.log"; then
		if cpu_above "$lifted" 0.28; then pass cpu_uncap
		elif cpu_above "$free" 0.45; then fail cpu_uncap "$why"
		else cpu_skip cpu_uncap "the cap is gone, but the machine is too busy to show it ($why)"; fi
	else fail cpu_uncap "$why"; fi
	echo "  (after cpu_max=null: $lifted cores, the free one $free)"

	# a weight given at run time is in the group's file; the parent weighs
	# what its guests weigh together (500 + 10000: v2 takes at most 10000)
	reply=$(ctl set capped cpu_weight=500 cpu_max=0.5 2>&1)
	local w=$(cat "$g/$weight_file" 2>&1) pw=$(cat "$parent/$weight_file" 2>&1) want_w=500 want_pw=10000
	quota=$(cat "$g/$max_file" 2>&1)
	[ "$kind" = v1 ] && want_w=5120 want_pw=107520
	local bad=""
	for req in cpu_weight=0 cpu_weight=10001 cpu_max=-1 cpu_max=0.001 cpu_max=lots; do
		out=$(ctl set capped "$req" 2>&1) && bad+="$req accepted; "
		[[ "$out" == *"cpu_"*"must be"* ]] || bad+="$req: $out; "
	done
	if [[ "$reply" == '{"ok":true}' ]] && [ "$w" = $want_w ] && [ "$pw" = $want_pw ] &&
	   { [ "$quota" = "50000 100000" ] || [ "$quota" = 50000 ]; } &&
	   [ "$(cpu_field "$(ctl list)" capped cpu_weight)" = 500 ] &&
	   grep -q "guest 'capped' changed: cpu weight 10000 -> 500, cpu max none -> 0.5" "$T/cpu.log" && [ -z "$bad" ]; then
		pass cpu_weight
	else fail cpu_weight "set: $reply; $g/$weight_file: $w ($want_w), parent: $pw ($want_pw), $max_file: $quota; ${bad%; }"; fi

	# every group goes: of a guest that ends by itself, one removed, one
	# added and removed again and again, and the daemon's at its stop
	ctl add "{\"name\":\"brief\",\"program\":\"$B/spin\",\"args\":[\"1\"],\"mac\":\"02:00:00:00:12:03\",\"cpu_max\":0.5,\"output\":\"/dev/null\"}" > /dev/null
	local during=no
	[ -d "$parent/guest-brief" ] && during=yes
	wait_exited brief 15
	local after_end=$(ls -d "$parent/guest-brief" 2>/dev/null)
	ctl remove free > /dev/null
	local after_remove=$(ls -d "$f" 2>/dev/null)
	for i in $(seq 10); do
		ctl add "{\"name\":\"churn\",\"program\":\"$B/spin\",\"mac\":\"02:00:00:00:12:04\",\"cpu_weight\":$((i * 10)),\"output\":\"/dev/null\"}" > /dev/null
		ctl remove churn > /dev/null
	done
	# a guest with the defaults has no group until `set` gives it others
	ctl add "{\"name\":\"late\",\"program\":\"$B/spin\",\"mac\":\"02:00:00:00:12:05\",\"output\":\"/dev/null\"}" > /dev/null
	local late_before=no late_after=no
	[ -d "$parent/guest-late" ] && late_before=yes
	ctl set late cpu_weight=200 > /dev/null
	grep -qx "$(cpu_pid late)" "$parent/guest-late/cgroup.procs" 2>/dev/null && late_after=yes
	ctl remove late > /dev/null
	local left=$(groups_in "$parent") pw2=$(cat "$parent/$weight_file" 2>&1)
	daemon_stop
	local after_stop=$(groups_in "$base")
	# (v2: 500 alone; v1: 5120 shares)
	local want_left=500; [ "$kind" = v1 ] && want_left=5120
	if [ $during = yes ] && [ -z "$after_end" ] && [ -z "$after_remove" ] && [ "$left" = 1 ] &&
	   [ $late_before = no ] && [ $late_after = yes ] &&
	   [ "$pw2" = $want_left ] && [ ! -e "$parent" ] && [ "$after_stop" = "$before_base" ]; then
		pass cpu_groups_removed
	else fail cpu_groups_removed "brief's group while it ran: $during, after its end: ${after_end:-gone}; free's after remove: ${after_remove:-gone}; groups left after 10 add/remove: $left (1), a default guest's group before set: $late_before (no), after: $late_after (yes), parent weight $pw2 ($want_left); after the stop: $( [ -e "$parent" ] && echo "$parent is still there" || echo "parent gone"), $after_stop groups in $base (before: $before_base)"; fi
}

# Where no controller is writable (here: the cgroup mounts made read-only
# in a mount namespace of the daemon's own) the daemon runs its guests,
# warns once, and refuses requests that set CPU.
test_cpu_unavailable() {
	SOCK=nocpu
	echo "{\"nic\":{\"wire\":\"null\",\"queues\":8},\"control\":\"$T/nocpu.sock\",\"guests\":[
	 {\"name\":\"plain\",\"program\":\"$B/spin\",\"mac\":\"02:00:00:00:13:01\",\"output\":\"/dev/null\"},
	 {\"name\":\"asks\",\"program\":\"$B/spin\",\"args\":[\"30\"],\"mac\":\"02:00:00:00:13:02\",\"cpu_max\":0.5,\"output\":\"/dev/null\"}]}" > "$T/nocpu.json"
	# shellcheck disable=SC2016
	unshare -m sh -c 'awk '\''$3 == "cgroup" || $3 == "cgroup2" {print $2}'\'' /proc/mounts |
		while read -r m; do mount -o remount,bind,ro "$m" || exit 1; done && exec "$@"' sh \
		$OPSUB daemon --config "$T/nocpu.json" > "$T/nocpu.log" 2>&1 &
	DAEMON_PID=$!
	for _ in $(seq 100); do [ -S "$T/nocpu.sock" ] && break; sleep 0.05; done
	if [ ! -S "$T/nocpu.sock" ]; then
		cpu_skip cpu_unavailable "cannot run a daemon with read-only cgroup mounts (unshare -m as root): $(tail -1 "$T/nocpu.log")"
		kill "$DAEMON_PID" 2>/dev/null; wait "$DAEMON_PID" 2>/dev/null
		return
	fi
	sleep 0.5
	local set=$(ctl set plain cpu_max=0.5 2>&1) add=$(ctl add "{\"name\":\"more\",\"program\":\"$B/spin\",\"mac\":\"02:00:00:00:13:03\",\"cpu_weight\":300}" 2>&1)
	local add_plain=$(ctl add "{\"name\":\"more\",\"program\":\"$B/spin\",\"mac\":\"02:00:00:00:13:03\",\"output\":\"/dev/null\"}" 2>&1)
	local stats=$(ctl stats 2>&1)
	daemon_stop
	local warned=$(grep -c "warning: CPU control is unavailable on this host: .*cgroup" "$T/nocpu.log")
	if [ "$warned" = 1 ] && [[ "$set" == *'"error":"CPU control is unavailable on this host: '* ]] &&
	   [[ "$add" == *'"error":"CPU control is unavailable on this host: '* ]] && [[ "$add_plain" == '{"ok":true}' ]] &&
	   [[ "$(cpu_field "$stats" plain state)" == '"running"' ]] && [[ "$(cpu_field "$stats" asks state)" == '"running"' ]] &&
	   [ "$(cpu_field "$stats" asks cpu_max)" = null ] && cpu_above "$(cpu_field "$stats" plain cpu_seconds)" 0.1 &&
	   grep -q "warning: guest 'asks': its CPU weight and cap are not applied: CPU control is unavailable" "$T/nocpu.log"; then
		pass cpu_unavailable
	else fail cpu_unavailable "warned $warned times; set: $set; add with cpu_weight: $add; add without: $add_plain; stats: ${stats:0:300}"; fi
	echo "  ($(grep -o 'CPU control is unavailable on this host: .*' "$T/nocpu.log" | head -1))"
}

# A daemon killed with SIGKILL cannot remove its groups (its guests die
# with it, by their death signal): the next daemon does.
test_cpu_stale_groups() {
	SOCK=cpustale
	local conf="{\"nic\":{\"wire\":\"null\",\"queues\":8},\"control\":\"$T/cpustale.sock\",\"guests\":[
	 {\"name\":\"s\",\"program\":\"$B/spin\",\"mac\":\"02:00:00:00:14:01\",\"cpu_max\":0.1,\"output\":\"/dev/null\"}]}"
	if ! daemon_start cpustale "$conf"; then
		fail cpu_stale_groups_removed "daemon did not start: $(tail -1 "$T/cpustale.log")"; return
	fi
	local parent=$(grep -o 'CPU control: cgroup [^,]*, a group per guest in .*' "$T/cpustale.log" | sed 's/.* in //')
	if [ -z "$parent" ]; then
		daemon_stop; cpu_skip cpu_stale_groups_removed "no CPU control on this host"; return
	fi
	sleep 0.5
	kill -9 "$DAEMON_PID"; wait "$DAEMON_PID" 2>/dev/null
	sleep 0.5
	local left=no
	[ -d "$parent/guest-s" ] && left=yes
	rm -f "$T/cpustale.sock"
	daemon_start cpustale "$conf"
	local removed=no
	for _ in $(seq 20); do [ -e "$parent" ] || { removed=yes; break; }; sleep 0.1; done
	daemon_stop
	if [ $left = yes ] && [ $removed = yes ] &&
	   grep -q "CPU control: removed $parent, left by a daemon that no longer runs" "$T/cpustale.log"; then
		pass cpu_stale_groups_removed
	else fail cpu_stale_groups_removed "left by the killed daemon: $left; removed by the next: $removed; $(grep 'CPU control' "$T/cpustale.log" | tail -2 | tr '\n' ' ')"; fi
}

test_cpu_limits
test_cpu_stale_groups
test_cpu_unavailable
