/*
 * queues.c: the queue pairs of the guests' ports, dedicated (the NIC's own)
 * or pooled (the pool device's, pool.h), under one numbering, and the
 * placement of on-demand guests by their traffic.
 *
 * A move between a pool queue and a dedicated one is make before break,
 * in three steps, each one the daemon's alone to decide:
 *   1. the new queue is handed to the guest process and published as the
 *      port's receiving queue, the old one as draining (link.h);
 *   2. once the driver acknowledged that (the new queue has buffers), the
 *      port's MAC is steered to the new queue (the filter on the new
 *      device is added before the old one is cleared);
 *   3. once every frame steered to the old queue before that is in its
 *      ring (from the pool: the uplink has taken every frame the NIC had
 *      delivered to it at the switch), the old queue is left out of the
 *      set; the driver takes what it received and lets it go, and it goes
 *      back to its pool when that is acknowledged (guests_poll).
 * No frame is steered to a queue without the guest's buffers behind it,
 * and none waits in a queue the guest no longer reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/pool.h"

/* Placement by demand.  An on-demand guest starts on a dedicated queue
 * while one is free (leaving the last one for the pool's uplink until the
 * pool runs), else in the pool.  A pooled guest moving at least
 * DEMAND_BUSY_PPS frames (sent and received) over DEMAND_BUSY_LOOKS looks
 * in a row of at least DEMAND_LOOK_NS each (one look could be a burst the
 * pool's engine delivered late) gets a dedicated queue if one is free.
 * Once the pool serves guests, a dedicated on-demand guest below
 * DEMAND_IDLE_PPS for DEMAND_IDLE_NS goes back to the pool while fewer
 * than DEMAND_RESERVE queues are free (so that a pooled guest turning busy
 * finds one at once), and one below half a busy pooled guest's rate after
 * holding its queue DEMAND_HOLD_NS makes room for it.  The thresholds are
 * an order of magnitude apart and the idle time hundreds of looks, so a
 * guest does not flap. */
#define DEMAND_RESERVE   2u
#define DEMAND_LOOK_NS   2000000ull
#define DEMAND_BUSY_LOOKS 2u
#define DEMAND_BUSY_PPS  10000u
#define DEMAND_IDLE_PPS  1000u
#define DEMAND_IDLE_NS   2000000000ull
#define DEMAND_HOLD_NS   1000000000ull
/* A drain that never finishes (a rate limit far below what the guest
 * queued, the pool engine stopped) ends here; what is left is lost. */
#define DRAIN_MAX_NS     1000000000ull

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- one numbering ---------------------------------------------------------- */

struct qref queue_ref(const struct daemon *d, unsigned id)
{
	unsigned nic_queues = nic_num_queues(d->nic);
	if (id < nic_queues || !d->pool)
		return (struct qref){d->nic, id};
	return (struct qref){pool_nic(d->pool), id - nic_queues};
}

bool queue_pooled(const struct daemon *d, unsigned id)
{
	return id >= nic_num_queues(d->nic);
}

/* A free NIC queue, reset (so it has a page no one else holds), counted
 * used: the lowest one, or the highest (the pool's uplink, which stays out
 * of the guests' way).  A queue whose reset fails stays out for good: its
 * old owner may still hold its page. */
static int take_dedicated(struct daemon *d, bool highest)
{
	unsigned n = nic_num_queues(d->nic);
	for (unsigned i = 0; i < n; i++) {
		unsigned q = highest ? n - 1 - i : i;
		if (d->queue_used[q])
			continue;
		d->queue_used[q] = true;
		char err[160];
		if (nic_queue_reset(d->nic, q, err, sizeof(err)) == 0)
			return (int)q;
		log_error("%s; queue %u is withdrawn", err, q);
	}
	return -1;
}

static unsigned free_dedicated(const struct daemon *d)
{
	unsigned n = 0;
	for (unsigned q = 0; q < nic_num_queues(d->nic); q++)
		n += !d->queue_used[q];
	return n;
}

/* The pool device, started when the first guest needs it, on a NIC queue
 * of its own (the uplink). */
static int pool_ready(struct daemon *d, char *err, size_t errlen)
{
	if (d->pool)
		return 0;
	unsigned size = d->cfg.pool_queues, room = NIC_MAX_QUEUES - nic_num_queues(d->nic);
	if (size > room)
		size = room;   /* pool queue ids follow the NIC's */
	if (!size) {
		snprintf(err, errlen, "the NIC has no free queue pair and the pool is off (nic \"pool\": 0)");
		return -1;
	}
	int uplink = take_dedicated(d, true);
	if (uplink < 0) {
		snprintf(err, errlen, "the NIC has no free queue pair left, not even one for the pool's uplink");
		return -1;
	}
	d->pool = pool_start(d->nic, (unsigned)uplink, size, NIC_RING_MAX, d->cfg.nic.poll_mode, err, errlen);
	if (!d->pool) {
		d->queue_used[uplink] = false;
		return -1;
	}
	d->pool_uplink = (unsigned)uplink;
	for (unsigned s = 0; s < d->nslots; s++) {
		struct guest *g = d->guest[s];
		/* every guest's memory is in the pool device's windows too, so
		 * any of them can move there */
		if (g->state == GUEST_RUNNING && (pool_map_guest(d, g, err, errlen)))
			return -1;
	}
	log_event("pool device started: %u queue pairs on the NIC's queue %u", size, uplink);
	return 0;
}

int queue_take(struct daemon *d, bool pooled, char *err, size_t errlen)
{
	int id;
	if (!pooled) {
		id = take_dedicated(d, false);
		if (id < 0) {
			snprintf(err, errlen, "the NIC has no free queue pair left (all %u are in use)", nic_num_queues(d->nic));
			return -1;
		}
	} else {
		if (pool_ready(d, err, errlen))
			return -1;
		int q = pool_take(d->pool);
		if (q < 0) {
			snprintf(err, errlen, "the pool has no free queue pair left (all %u are in use): give the NIC a "
			         "larger \"pool\"", d->cfg.pool_queues);
			return -1;
		}
		id = (int)nic_num_queues(d->nic) + q;
	}
	struct qref r = queue_ref(d, (unsigned)id);
	nic_queue_set_admin(r.nic, r.q, true, NULL, 0);
	return id;
}

/* The device forgets everything of the queue and it is free again. */
void queue_release(struct daemon *d, struct guest *g, unsigned id)
{
	struct qref r = queue_ref(d, id);
	struct nic_queue_stats_regs s;
	nic_queue_stats(r.nic, r.q, &s);
	g->retired.tx_packets += s.tx_packets;
	g->retired.tx_bytes += s.tx_bytes;
	g->retired.rx_packets += s.rx_packets;
	g->retired.rx_bytes += s.rx_bytes;
	g->retired.rx_dropped += s.rx_dropped;
	if (queue_pooled(d, id)) {
		pool_release(d->pool, r.q);
		return;
	}
	nic_queue_set_admin(d->nic, id, false, NULL, 0);
	char err[160];
	/* the reset gives the queue a new page: the guest process may keep
	 * the old one, which no longer reaches the NIC */
	if (nic_queue_reset(d->nic, id, err, sizeof(err)) == 0)
		d->queue_used[id] = false;
	else
		log_error("%s; queue %u is withdrawn", err, id);
}

/* Share i of n of a limit: the parts add up to it, and no part of a real
 * limit is 0, which would mean no limit (so below n, each gets 1). */
static uint64_t share(uint64_t limit, unsigned i, unsigned n)
{
	uint64_t part = limit / n + (i < limit % n);
	return limit && !part ? 1 : part;
}

void queues_apply_sched(struct daemon *d, struct guest *g)
{
	unsigned n = g->nqueues - g->move.active;   /* a draining queue sends nothing more */
	for (unsigned i = 0; i < n; i++) {
		struct qref r = queue_ref(d, g->queue[i]);
		struct nic_rate rate = {.bps = share(g->cfg.rate_bps, i, n), .pps = share(g->cfg.rate_pps, i, n)};
		nic_queue_set_rate(r.nic, r.q, &rate, NULL, 0);
		nic_queue_set_weight(r.nic, r.q, g->cfg.weight, NULL, 0);
	}
}

void queue_send(struct daemon *d, struct guest *g, unsigned id)
{
	struct qref r = queue_ref(d, id);
	struct link_msg msg = {.type = LINK_QUEUE, .queue = id};
	int page = nic_queue_page_fd(r.nic, r.q), read_only = -1;
	if (g->cfg.io == OPSUB_IO_PARAVIRT) {
		/* the backend drives the queue: the guest process only reads its
		 * counters, through a descriptor that cannot map it writable */
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", page);
		page = read_only = open(path, O_RDONLY | O_CLOEXEC);
	}
	int fds[LINK_QUEUE_FDS] = {nic_queue_irq_fd(r.nic, r.q), page, nic_queue_doorbell_fd(r.nic, r.q)};
	if (page >= 0)
		link_send(g->link_sock, &msg, fds, LINK_QUEUE_FDS);
	if (read_only >= 0)
		close(read_only);
}

void queues_publish(struct guest *g)
{
	link_publish(g->page, &g->generation, g->nqueues, g->queue, g->move.active ? 1u << (g->nqueues - 1) : 0);
}

/* ---- steering ---------------------------------------------------------------- */

static void clear_filter(int *slot, struct nic **nic)
{
	if (*slot >= 0)
		nic_filter_clear(*nic, (unsigned)*slot, NULL, 0);
	*slot = -1;
	*nic = NULL;
}

/* The filter steering the guest's MAC to queue[0] is added before the one
 * it replaces goes.  A filter of the pool device goes later, with the
 * move's end (queues_unsteer_old): frames the NIC steered to the pool
 * before the switch are still on their way through it and must find
 * their queue. */
int queues_steer(struct daemon *d, struct guest *g, char *err, size_t errlen)
{
	struct qref r = queue_ref(d, g->queue[0]);
	struct nic_filter f = {.vlan = NIC_VLAN_ANY, .queue = (uint16_t)r.q,
	                       .flags = NIC_FILTER_BROADCAST | (g->cfg.promiscuous ? NIC_FILTER_PROMISC : 0)};
	memcpy(f.mac, g->cfg.mac, 6);
	int slot = nic_filter_add(r.nic, &f, err, errlen);
	if (slot < 0)
		return -1;
	clear_filter(&g->old_filter, &g->old_filter_nic);
	if (g->filter >= 0 && g->filter_nic != d->nic) {
		g->old_filter = g->filter;
		g->old_filter_nic = g->filter_nic;
	} else {
		clear_filter(&g->filter, &g->filter_nic);
	}
	g->filter = slot;
	g->filter_nic = r.nic;
	return 0;
}

void queues_unsteer(struct guest *g)
{
	clear_filter(&g->filter, &g->filter_nic);
	clear_filter(&g->old_filter, &g->old_filter_nic);
}

/* ---- the pool device's view of guest memory ----------------------------------- */

int pool_map_guest(struct daemon *d, struct guest *g, char *err, size_t errlen)
{
	if (!d->pool || g->pool_mapped)
		return 0;
	struct nic *dev = pool_nic(d->pool);
	if (nic_window_map(dev, guest_mem_window(g), g->mem_map, g->cfg.mem, err, errlen))
		return -1;
	if (nic_window_map(dev, guest_ring_window(g), g->ring_map, LINK_RING_AREA, err, errlen)) {
		nic_window_unmap(dev, guest_mem_window(g), NULL, 0);
		return -1;
	}
	g->pool_mapped = true;
	return 0;
}

void pool_unmap_guest(struct daemon *d, struct guest *g)
{
	if (!g->pool_mapped)
		return;
	nic_window_unmap(pool_nic(d->pool), guest_mem_window(g), NULL, 0);
	nic_window_unmap(pool_nic(d->pool), guest_ring_window(g), NULL, 0);
	g->pool_mapped = false;
}

/* ---- placement ---------------------------------------------------------------- */

int queues_place(struct daemon *d, struct guest *g, char *err, size_t errlen)
{
	char why[200];
	if (g->cfg.queues) {
		for (unsigned i = 0; i < g->cfg.queues; i++) {
			int id = queue_take(d, false, why, sizeof(why));
			if (id < 0) {
				snprintf(err, errlen, "guest '%s': %s; give the NIC more \"queues\" or this guest fewer "
				         "(or leave \"queues\" out: the guest then shares the pool)", g->cfg.name, why);
				return -1;
			}
			g->queue[g->nqueues++] = (uint16_t)id;
		}
	} else {
		/* on demand: a dedicated queue while one is free, but the last
		 * one stays for the pool's uplink; else the pool (opsub mode
		 * only: its driver can move; the other modes keep the dedicated
		 * queue they start on) */
		bool movable = g->cfg.io == OPSUB_IO_OPSUB;
		bool pool_first = movable && d->cfg.pool_queues && free_dedicated(d) <= (d->pool ? 0u : 1u);
		int id = -1;
		for (int attempt = 0; attempt < 2 && id < 0; attempt++) {
			bool pooled = pool_first == (attempt == 0);
			if (pooled && !movable)
				continue;
			id = queue_take(d, pooled, why, sizeof(why));
			if (id >= 0 && pooled && pool_map_guest(d, g, why, sizeof(why))) {
				queue_release(d, g, (unsigned)id);
				id = -1;
			}
		}
		if (id < 0) {
			snprintf(err, errlen, "guest '%s': %s", g->cfg.name, why);
			return -1;
		}
		/* on a dedicated queue it may move to the pool later: the pool
		 * device reaches its memory from the start (pool_ready maps
		 * those that ran before the pool did) */
		if (movable && pool_map_guest(d, g, why, sizeof(why))) {
			queue_release(d, g, (unsigned)id);
			snprintf(err, errlen, "guest '%s': %s", g->cfg.name, why);
			return -1;
		}
		g->on_demand = movable;
		g->queue[g->nqueues++] = (uint16_t)id;
	}
	queues_apply_sched(d, g);
	if (queues_steer(d, g, err, errlen))
		return -1;
	g->demand = (struct demand){.since_ns = now_ns(), .placed_ns = now_ns()};
	return 0;
}

void queues_unplace(struct daemon *d, struct guest *g)
{
	queues_unsteer(g);
	for (unsigned i = 0; i < g->nqueues; i++)
		queue_release(d, g, g->queue[i]);
	for (unsigned i = 0; i < g->nretiring; i++)
		queue_release(d, g, g->retiring[i]);
	g->nqueues = g->nretiring = 0;
	g->move = (struct move){0};
	if (d->pool)
		pool_unmap_guest(d, g);
}

/* Frames the guest's queues have moved (sent and received), its own
 * count: the daemon reads the devices' registers, not the guest's word. */
static uint64_t frames_moved(const struct daemon *d, const struct guest *g)
{
	struct guest_counters c;
	guest_counters(d, g, &c);
	return c.tx_packets + c.rx_packets;
}

static const char *where(const struct daemon *d, unsigned id, char *buf, size_t len)
{
	if (queue_pooled(d, id))
		snprintf(buf, len, "pool queue %u", id - nic_num_queues(d->nic));
	else
		snprintf(buf, len, "queue %u", id);
	return buf;
}

/* A guest asleep in its wait takes a new queue set only when it wakes:
 * the interrupt of queue id (one it waits on) wakes it, a spurious wake-up
 * to its program. */
static void wake(struct daemon *d, unsigned id)
{
	struct qref r = queue_ref(d, id);
	uint64_t one = 1;
	if (write(nic_queue_irq_fd(r.nic, r.q), &one, sizeof(one)) < 0) {
		/* a full counter: it wakes anyway */
	}
}

/* Step 1: the new queue in front, the old one draining behind it. */
static void move_start(struct daemon *d, struct guest *g, bool to_pool)
{
	char why[200];
	int id = queue_take(d, to_pool, why, sizeof(why));
	if (id < 0)
		return;
	if (to_pool && !g->pool_mapped) {
		/* cannot happen (placed or running when the pool started);
		 * were it so, the pool could not reach the guest's buffers */
		log_error("guest '%s' stays on its queue: the pool device does not map its memory", g->cfg.name);
		queue_release(d, g, (unsigned)id);
		return;
	}
	queue_send(d, g, (unsigned)id);
	unsigned old = g->queue[0];
	g->queue[0] = (uint16_t)id;
	g->queue[1] = (uint16_t)old;
	g->nqueues = 2;
	g->move = (struct move){.active = true, .phase = MOVE_SWITCH, .started_ns = now_ns()};
	queues_apply_sched(d, g);
	queues_publish(g);
	wake(d, old);
}

static bool acknowledged(const struct guest *g)
{
	return __atomic_load_n(&g->page->ack, __ATOMIC_ACQUIRE) == g->generation;
}

/* Steps 2 and 3 as they become possible. */
static void move_step(struct daemon *d, struct guest *g, uint64_t now)
{
	struct move *m = &g->move;
	char err[200], from[32], to[32];
	if (m->phase == MOVE_SWITCH) {
		if (!acknowledged(g))
			return;
		if (queues_steer(d, g, err, sizeof(err))) {
			/* undo: the old queue receives again, the new one goes */
			log_warning("guest '%s' stays where it was: %s", g->cfg.name, err);
			unsigned fresh = g->queue[0];
			g->queue[0] = g->queue[1];
			g->nqueues = 1;
			g->retiring[g->nretiring++] = (uint16_t)fresh;
			*m = (struct move){0};
			queues_apply_sched(d, g);
			queues_publish(g);
			return;
		}
		m->phase = MOVE_DRAIN;
		m->steered_ns = now;
		m->drained_at = queue_pooled(d, g->queue[1]) ? pool_uplink_delivered(d->pool) : 0;
		return;
	}
	/* The old queue's frames: those received before the switch in its
	 * ring, those the guest queued on it sent, from the pool through the
	 * uplink too (the driver holds new ones back meanwhile, so none
	 * overtakes them). */
	bool pooled = queue_pooled(d, g->queue[1]);
	struct qref r = queue_ref(d, g->queue[1]);
	const struct nic_queue_regs *regs = nic_queue_regs(r.nic, r.q);
	bool received = !pooled || pool_uplink_taken(d->pool) >= m->drained_at;
	if (!m->sent_at && nic_reg_read32(&regs->tx_head) == nic_reg_read32(&regs->tx_tail))
		m->sent_at = pooled ? pool_uplink_posted(d->pool) + 1 : 1;   /* +1: 0 is "not yet" */
	bool sent = m->sent_at && (!pooled || pool_uplink_sent(d->pool) + 1 >= m->sent_at);
	if (!(received && sent) && now - m->started_ns < DRAIN_MAX_NS)
		return;
	unsigned old = g->queue[1];
	uint64_t started = m->started_ns, steered = m->steered_ns, rate = g->demand.rate;
	clear_filter(&g->old_filter, &g->old_filter_nic);
	g->nqueues = 1;
	g->retiring[g->nretiring++] = (uint16_t)old;
	*m = (struct move){0};
	queues_apply_sched(d, g);
	queues_publish(g);
	wake(d, old);   /* asleep, it waits on the draining queue */
	g->moves++;
	/* its traffic is looked at afresh where it is now */
	g->demand = (struct demand){.since_ns = now, .placed_ns = now};
	log_event("guest '%s' moved from %s to %s (%s: %llu frames/s; its MAC steered there %.1f ms after the move "
	          "began, the old queue drained %.1f ms later)", g->cfg.name, where(d, old, from, sizeof(from)),
	          where(d, g->queue[0], to, sizeof(to)), queue_pooled(d, g->queue[0]) ? "idle" : "busy",
	          (unsigned long long)rate, (double)(steered - started) / 1e6, (double)(now - steered) / 1e6);
}

/* One look at an on-demand guest's traffic; its rate in frames/s once the
 * look is long enough, else -1. */
static int64_t look(struct daemon *d, struct guest *g, uint64_t now, uint64_t span)
{
	struct demand *s = &g->demand;
	uint64_t moved = frames_moved(d, g);
	if (!s->look_ns) {
		s->look_ns = now;
		s->look_frames = moved;
		return -1;
	}
	if (now - s->look_ns < span)
		return -1;
	int64_t rate = (int64_t)((moved - s->look_frames) * 1000000000ull / (now - s->look_ns));
	s->look_ns = now;
	s->look_frames = moved;
	s->rate = (uint64_t)rate;
	return rate;
}

void queues_demand(struct daemon *d)
{
	if (!d->pool)
		return;   /* no guest is pooled: nothing to place */
	uint64_t now = now_ns();
	struct guest *idlest = NULL, *busiest = NULL;
	unsigned free_nic = free_dedicated(d);
	for (unsigned s = 0; s < d->nslots; s++) {
		struct guest *g = d->guest[s];
		if (g->state != GUEST_RUNNING || !g->on_demand || g->migrating || g->nretiring)
			continue;
		if (g->move.active) {
			move_step(d, g, now);
			continue;
		}
		bool pooled = queue_pooled(d, g->queue[0]);
		int64_t rate = look(d, g, now, pooled ? DEMAND_LOOK_NS : DEMAND_HOLD_NS / 2);
		if (rate < 0)
			continue;
		g->demand.busy_looks = pooled && rate >= DEMAND_BUSY_PPS ? g->demand.busy_looks + 1 : 0;
		if (g->demand.busy_looks >= DEMAND_BUSY_LOOKS) {
			if (free_nic) {
				move_start(d, g, false);
				free_nic -= g->move.active;
			} else if (!busiest || (uint64_t)rate > busiest->demand.rate) {
				busiest = g;
			}
		} else if (!pooled) {
			g->demand.idle_ns = rate < DEMAND_IDLE_PPS ? g->demand.idle_ns + (now - g->demand.since_ns) : 0;
			g->demand.since_ns = now;
			if (g->demand.idle_ns >= DEMAND_IDLE_NS && free_nic < DEMAND_RESERVE) {
				move_start(d, g, true);
				free_nic++;   /* once it lets go */
			} else if (!idlest || g->demand.rate < idlest->demand.rate) {
				idlest = g;
			}
		}
	}
	/* no queue free: the least busy dedicated guest that has held its
	 * queue long enough makes room for a much busier pooled one */
	if (busiest && idlest && !idlest->move.active && idlest->demand.rate * 2 < busiest->demand.rate &&
	    now - idlest->demand.placed_ns >= DEMAND_HOLD_NS)
		move_start(d, idlest, true);
}

void queues_status(const struct daemon *d, const struct guest *g, struct queues_status *out)
{
	out->pooled = g->nqueues && queue_pooled(d, g->queue[0]);
	out->placement = !g->nqueues ? "none" : !g->on_demand ? "pinned" : out->pooled ? "pool" : "dedicated";
	out->moving = g->move.active;
}
