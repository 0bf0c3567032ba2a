# Sourced by tests/net/run.sh: more guests than NIC queues (the pool,
# daemon/pool.h) and queues that follow demand (daemon/queues.c).
#
# A NIC of 3 queue pairs: the first two on-demand guests get dedicated
# queues, the rest share the pool (its uplink takes the third).  Then:
#   pool_isolation  three pooled sinks each get exactly the frames sent to
#                   its MAC (none of another's: "0 other" and no gaps), a
#                   fourth gets none;
#   pool_move       a pooled sink that turns busy is moved to a dedicated
#                   queue while its stream runs (an idle dedicated guest
#                   goes to the pool to make room), and loses nothing;
#   pool_forgery    the forger, pooled, gets every forged buffer refused and
#                   steals nothing (the same driver checks in the pool);
#   pool_reclaim    after the guests end, no pool queue is held.

# placement GUEST: "dedicated", "pool", "pinned" from ctl list
placement() { ctl list | grep -o "\"name\":\"$1\"[^}]*" | grep -o '"placement":"[a-z]*"' | cut -d'"' -f4; }

SOCK=pool
P=02:00:00:00:0a
if daemon_start pool "{\"nic\":{\"wire\":\"loop\",\"queues\":3},\"control\":\"$T/pool.sock\",\"guests\":[
 {\"name\":\"d1\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"12\"],\"mac\":\"$P:01\",\"output\":\"$T/d1.out\"},
 {\"name\":\"d2\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"12\"],\"mac\":\"$P:02\",\"output\":\"$T/d2.out\"},
 {\"name\":\"p1\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"12\"],\"mac\":\"$P:11\",\"output\":\"$T/p1.out\"},
 {\"name\":\"p2\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"12\"],\"mac\":\"$P:12\",\"output\":\"$T/p2.out\"},
 {\"name\":\"p3\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"12\"],\"mac\":\"$P:13\",\"output\":\"$T/p3.out\"},
 {\"name\":\"p4\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"12\"],\"mac\":\"$P:14\",\"output\":\"$T/p4.out\"},
 {\"name\":\"mover\",\"program\":\"$G/sink\",\"args\":[\"--seconds\",\"12\"],\"mac\":\"$P:20\",\"output\":\"$T/mover.out\"}]}"; then
	sleep 1   # receivers post their buffers
	before="d1=$(placement d1) d2=$(placement d2) p1=$(placement p1) mover=$(placement mover)"
	# slow streams (well under the busy threshold) to p1..p3, from pooled senders
	for i in 1 2 3; do
		ctl add "{\"name\":\"g$i\",\"program\":\"$G/pktgen\",\"args\":[\"--count\",\"2000\",\"--dst\",\"$P:1$i\"],
		  \"mac\":\"$P:3$i\",\"pps\":\"2000\",\"queues\":\"auto\",\"output\":\"$T/gen-$i.out\"}" > /dev/null
	done
	# a fast one to mover: it turns busy while pooled
	ctl add "{\"name\":\"gm\",\"program\":\"$G/pktgen\",\"args\":[\"--count\",\"40000\",\"--dst\",\"$P:20\"],
	  \"mac\":\"$P:40\",\"rate\":\"10M\",\"output\":\"$T/gen-m.out\"}" > /dev/null
	wait_exited mover 20; wait_exited p1 5; wait_exited p2 5; wait_exited p3 5; wait_exited p4 5
	after=$(ctl stats)
	# each frame is received intact or was dropped where its guest had no
	# buffer (a loaded host: counted in its rx_dropped); none is lost
	# unseen or reaches another guest; with no drop, none is out of order
	declare -A dropped
	for g in p1 p2 p3 p4 mover; do dropped[$g]=$(counter $g rx_dropped); done
	echo "  net/pool: dropped for want of buffers: p1..p4 ${dropped[p1]} ${dropped[p2]} ${dropped[p3]} ${dropped[p4]}, mover ${dropped[mover]}; $(grep -o '"queues":{[^}]*}' <<< "$after")"
	daemon_stop
	# delivered NAME SENT: all SENT frames accounted for
	delivered() {
		local out got gaps
		out=$(cat "$T/$1.out"); got=$(grep -o 'received [0-9]* frames' <<< "$out" | grep -o '[0-9]*')
		gaps=$(grep -o '[0-9]* gaps' <<< "$out" | grep -o '[0-9]*')
		[[ "$out" == *"$got intact, 0 corrupt, 0 other"* ]] && [ $(( got + ${dropped[$1]:-999999} )) -eq "$2" ] &&
			{ [ "${dropped[$1]}" -gt 0 ] || [ "$gaps" = 0 ]; }
	}
	ok=1
	for i in 1 2 3; do delivered p$i 2000 || ok=0; done
	[[ "$(cat "$T/p4.out")" == *"received 0 frames"* ]] || ok=0
	if [ $ok = 1 ] && [[ "$before" == *"p1=pool"* ]]; then pass pool_isolation
	else fail pool_isolation "placement at start: $before | p1: $(cat "$T/p1.out") | p2: $(cat "$T/p2.out") | p3: $(cat "$T/p3.out") | p4: $(cat "$T/p4.out") | dropped: ${dropped[*]} | senders: $(cat "$T"/gen-[123].out | tr '\n' ' ')"; fi
	moved=$(grep -c "guest 'mover' moved from pool queue [0-9]* to queue [0-9]* (busy" "$T/pool.log")
	if [[ "$before" == *"mover=pool"* ]] && [ "$moved" -ge 1 ] && delivered mover 40000; then pass pool_move
	else fail pool_move "placement at start: $before; moves to a dedicated queue: $moved; mover: $(cat "$T/mover.out") (dropped ${dropped[mover]}); log: $(grep moved "$T/pool.log" | tr '\n' '|')"; fi
	# every guest has ended: no queue of the pool is held, and of the NIC's
	# only the uplink
	if [[ "$after" == *'"nic_in_use":1,'* ]] && [[ "$after" == *'"pool_in_use":0,'* ]] &&
	   [[ "$after" != *'"pool_queues":[0-9'* ]]; then pass pool_reclaim
	else fail pool_reclaim "$(grep -o '"queues":{[^}]*}' <<< "$after")"; fi
else fail pool_isolation "daemon did not start: $(tail -1 "$T/pool.log")"; fi

# the forger in the pool: the victim takes one of the NIC's two queues,
# the other stays for the pool's uplink, so the forger is pooled
SOCK=pool-forge
if daemon_start pool-forge "{\"nic\":{\"wire\":\"loop\",\"queues\":2},\"control\":\"$T/pool-forge.sock\",\"guests\":[
 {\"name\":\"victim\",\"program\":\"$B/secret_holder\",\"args\":[\"SECRET-$$-pool\"],\"mac\":\"02:00:00:00:0b:01\"},
 {\"name\":\"forger\",\"program\":\"$B/forger\",\"args\":[\"1\",\"$addr\"],\"mac\":\"02:00:00:00:0b:02\",
  \"promiscuous\":true,\"output\":\"$T/forger-pool.out\"}]}"; then
	wait_exited forger 10
	daemon_stop
	where=$(grep -o "guest 'forger' started: [^,]*, [^,]*, queues [a-z0-9 ]*" "$T/pool-forge.log")
	o=$(cat "$T/forger-pool.out" 2>/dev/null)
	if [[ "$where" == *"queues pool "* ]] && [[ "$o" == *"refused 14 of 14"* ]] && [[ "$o" != *STOLEN* ]]; then pass pool_forgery
	else fail pool_forgery "placement: $where; forger: $o"; fi
else fail pool_forgery "daemon did not start: $(tail -1 "$T/pool-forge.log")"; fi
