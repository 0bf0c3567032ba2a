/*
 * burst.gpr.c: the opsub-mode data path of the trusted driver (NET_BURST),
 * and the checks on guest buffers that every mode applies.
 *
 * Compiled with -mgeneral-regs-only (the .gpr.c suffix, see the Makefile):
 * the fast gate runs NET_BURST without saving the guest's x87 and vector
 * state, so no instruction here may touch those registers, and this file
 * calls no outside function (the build refuses any): what needs normal
 * code comes through `slow`, which is NULL on the fast gate.
 */
#include "driver/drv.h"

#include <errno.h>

/* ---- the checks on guest buffers: all of them, in one place ------------- */

/* A frame is no longer than a page, so its first and last pages are all
 * the pages it touches: two looks, no loop, on the path of every frame. */
_Static_assert(OPSUB_NET_MAX_FRAME <= GUEST_PAGE, "a frame spans at most two pages");
__attribute__((always_inline)) inline bool tx_buffer_ok(const struct guest_mem *gm, uint64_t addr, uint32_t len)
{
	const uint8_t need = GP_MAPPED | GP_R;
	return len >= OPSUB_NET_MIN_FRAME && len <= OPSUB_NET_MAX_FRAME && gm_range_inside(gm, addr, len) &&
	       (gm->page[addr / GUEST_PAGE] & need) == need && (gm->page[(addr + len - 1) / GUEST_PAGE] & need) == need;
}

/* A guest posts its receive pool buffer after buffer, and with several
 * guests on a core each one's page bits had left the caches by its next
 * turn (8% of a receiving guest's samples): the run of pages found
 * DMA-writable is remembered until a page's bits change (prot_epoch), and
 * grows with each adjacent or overlapping run found so. */
static bool rx_pages_ok(const struct guest_mem *gm, uint64_t addr, uint32_t capacity)
{
	if (!gm_dma_writable(gm, addr, capacity))
		return false;
	uint64_t lo = page_down(addr), hi = page_up(addr + capacity);   /* every page checked whole */
	if (drv.rx_ok_epoch == gm->prot_epoch && lo <= drv.rx_ok_hi && hi >= drv.rx_ok_lo) {
		drv.rx_ok_lo = lo < drv.rx_ok_lo ? lo : drv.rx_ok_lo;
		drv.rx_ok_hi = hi > drv.rx_ok_hi ? hi : drv.rx_ok_hi;
	} else {
		drv.rx_ok_lo = lo;
		drv.rx_ok_hi = hi;
		drv.rx_ok_epoch = gm->prot_epoch;
	}
	return true;
}

__attribute__((always_inline)) inline bool rx_buffer_ok(const struct guest_mem *gm, uint64_t addr, uint32_t capacity)
{
	if (addr % 64 != 0 || capacity < OPSUB_NET_MIN_FRAME || capacity > OPSUB_NET_BUF_SIZE)
		return false;
	if (drv.rx_ok_epoch == gm->prot_epoch && addr >= drv.rx_ok_lo && addr <= drv.rx_ok_hi &&
	    capacity <= drv.rx_ok_hi - addr)
		return true;
	return rx_pages_ok(gm, addr, capacity);
}

/* ---- NET_BURST --------------------------------------------------------------- */

/* The guest's arrays are used in place: the guest is stopped during the
 * call, and each entry is read exactly once (load_once), so what was checked
 * is what is used even if the NIC were writing there. */
#define load_once(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static uint64_t guest_addr(uint64_t dev) { return dev & 0xffffffffu; }

/* Hands back buffers of queues taken away, then finished transmit buffers
 * straight from the rings, into done[], at most room of them; the rest
 * wait in their rings for the next call.  The rings are looked at only
 * every RECLAIM_EVERY frames sent, when they are short of room for the
 * `sending` frames, or when the guest sends nothing (it may be out of
 * buffers): reading the NIC's head register costs a cache miss. */
#define RECLAIM_EVERY 128u
static unsigned reclaim(uint64_t *done, unsigned room, unsigned sending)
{
	unsigned n = 0, free = 0;
	while (n < room && drv.nreturned)
		done[n++] = drv.returned[--drv.nreturned];
	for (unsigned i = 0; i < drv.nq; i++)
		free += dq_at(i)->draining ? 0 : nic_txq_free(&dq_at(i)->tx);
	if (sending && free >= sending && drv.tx_since_reclaim < RECLAIM_EVERY)
		return n;
	drv.tx_since_reclaim = 0;
	for (unsigned i = 0; i < drv.nq && n < room; i++) {
		struct nic_txq *t = &dq_at(i)->tx;
		uint32_t head = nic_reg_read32(&t->regs->tx_head), mask = t->size - 1;
		const uint32_t *frame = dq_at(i)->tx_frame;
		for (; t->clean != head && n < room; t->clean = (t->clean + 1) & mask)
			done[n++] = frame[t->clean];
	}
	return n;
}

/* A doorbell found the NIC asleep: the slow path wakes it now, the fast
 * path notes which queue (the full gate then wakes it, burst_run). */
static void rang_asleep(unsigned nic_q, const struct burst_slow *slow, int *asleep_q)
{
	if (slow)
		slow->wake_nic(nic_q);
	else
		*asleep_q = (int)nic_q;
}

/* Whether a queue is being taken away: until the daemon has seen what it
 * queued leave the device (on the pool's path, the uplink too), frames on
 * the new queue, a faster path, would overtake them; they wait. */
static bool draining(void)
{
	for (unsigned i = 1; i < drv.nq; i++)
		if (dq_at(i)->draining)
			return true;
	return false;
}

/* Queues frames; returns how many.  Stops at the first bad buffer (*bad). */
static unsigned transmit(const struct guest_mem *gm, const struct opsub_net_pkt *pkts, unsigned n, bool *bad,
                         const struct burst_slow *slow, int *asleep_q)
{
	unsigned sent = 0;
	if (n && drv.nq > 1 && draining())
		return 0;   /* the guest tries again, as with a full ring */
	for (unsigned tries = 0; tries < drv.nq && sent < n; tries++) {
		struct dq *q = dq_at(drv.tx_next++ % drv.nq);
		if (q->draining)
			continue;
		/* The ring's state in a local copy: the compiler then keeps it in
		 * registers instead of reloading it after every store to the
		 * ring, which might alias it. */
		struct nic_txq t = q->tx;
		uint32_t *frame = q->tx_frame;
		uint64_t window = NIC_DEV_ADDR(drv.mem_window, 0);
		unsigned room = nic_txq_free(&t), start = sent;
		while (sent < n && sent - start < room) {
			uint64_t addr = load_once(pkts[sent].addr);
			uint32_t len = load_once(pkts[sent].len);
			if (!tx_buffer_ok(gm, addr, len)) {
				drv.tx_refused++;
				*bad = true;
				n = sent;
				break;
			}
			frame[t.tail] = (uint32_t)addr;   /* tx_buffer_ok: below 4 GiB */
			nic_txq_post(&t, window | (uint32_t)addr, (uint16_t)len, NIC_TXD_CMD_EOP, 0);
			sent++;
		}
		q->tx.tail = t.tail;
		if (sent != start && nic_txq_ring(&q->tx))
			rang_asleep(q->nic_q, slow, asleep_q);
	}
	drv.tx_since_reclaim += sent;
	return sent;
}

/* Posts empty receive buffers; returns how many.  Stops at the first bad
 * buffer (*bad). */
static unsigned post(const struct guest_mem *gm, const uint64_t *addrs, unsigned n, bool *bad,
                     const struct burst_slow *slow, int *asleep_q)
{
	struct dq *q = dq_at(0);
	struct nic_rxq *r = &q->rx;
	unsigned taken = 0, room = nic_rxq_free(r);
	while (taken < n && taken < room) {
		uint64_t addr = load_once(addrs[taken]);
		if (!rx_buffer_ok(gm, addr, OPSUB_NET_BUF_SIZE)) {
			*bad = true;
			break;
		}
		q->rx_epoch[nic_rxq_post(r, NIC_DEV_ADDR(drv.mem_window, addr), OPSUB_NET_BUF_SIZE)] = gm->watch_epoch;
		taken++;
	}
	if (taken && nic_rxq_ring(r))
		rang_asleep(q->nic_q, slow, asleep_q);
	return taken;
}

/* Takes the frames one queue received into out[n..room); returns the new n.
 * A frame the NIC failed, or one in a buffer the guest has since run code
 * from (its translations must go: the NIC wrote there), needs the slow
 * helpers: the fast path stops before it and leaves it to the next call,
 * which then takes the full gate. */
static unsigned receive_from(struct dq *q, struct guest_mem *gm, struct opsub_net_pkt *out, unsigned n,
                             unsigned room, const struct burst_slow *slow, int *fault)
{
	struct nic_rxq *r = &q->rx;
	unsigned ready = nic_rxq_ready(r);
	struct nic_rx_desc d;
	uint32_t index;
	while (n < room && ready-- && nic_rxq_peek(r, &d)) {
		uint64_t addr = guest_addr(d.addr);
		bool failed = (d.writeback >> 32) & NIC_RXD_STA_ERR;
		/* page bits only if some page became code since the post */
		if (!slow && (failed || (q->rx_epoch[r->next] != gm->watch_epoch &&
		                         gm_range_watched(gm, addr, OPSUB_NET_BUF_SIZE)))) {
			drv.force_slow = true;
			break;
		}
		nic_rxq_poll(r, &index, &d);
		if (failed) {
			slow->give_back(addr);
			continue;
		}
		if (slow)
			*fault |= !slow->prepare_write(gm, addr, OPSUB_NET_BUF_SIZE);
		out[n].addr = addr;
		out[n].len = (uint16_t)d.writeback;
		out[n].reserved = 0;
		n++;
	}
	return n;
}

/* Collects received frames into out[], in the order they came: those
 * carried over (a queue stopped, a migration), then, while a queue drains,
 * only its own (frames steered to it before the port's MAC moved may still
 * be on their way, on a slower path than the new queue's: those wait in
 * the new queue's ring until the daemon has seen the old path empty and
 * left the draining queue out), else the receiving queue's. */
static unsigned receive(struct guest_mem *gm, struct opsub_net_pkt *out, unsigned room,
                        const struct burst_slow *slow, int *fault)
{
	unsigned n = 0;
	while (n < room && drv.carried_next < drv.ncarried)
		out[n++] = drv.carried[drv.carried_next++];
	for (unsigned i = 1; i < drv.nq && !drv.force_slow; i++)
		if (dq_at(i)->draining)
			n = receive_from(dq_at(i), gm, out, n, room, slow, fault);
	return draining() || drv.force_slow ? n : receive_from(dq_at(0), gm, out, n, room, slow, fault);
}

int64_t burst_run(struct guest_mem *gm, uint64_t port, uint64_t req_addr, const struct burst_slow *slow)
{
	if (!slow && (drv.force_slow || drv.replay || __atomic_load_n(&drv.page->generation, __ATOMIC_ACQUIRE) != drv.generation))
		return BURST_SLOW;   /* a queue change to apply, or a frame to clean up */
	if (port != 0 || !drv.opened || drv.mode != OPSUB_IO_OPSUB || drv.nq == 0)
		return -ENODEV;
	if (!gm_access_ok(gm, req_addr, sizeof(struct opsub_net_burst), GP_R | GP_W))
		return -EFAULT;
	struct opsub_net_burst *req = guest_ptr(req_addr);
	uint64_t tx = load_once(req->tx), post_at = load_once(req->post), rx = load_once(req->rx),
	         done = load_once(req->done);
	uint32_t tx_n = load_once(req->tx_n), post_n = load_once(req->post_n), rx_n = load_once(req->rx_n),
	         done_n = load_once(req->done_n);
	if (tx_n > OPSUB_NET_BURST_MAX || post_n > OPSUB_NET_BURST_MAX || rx_n > OPSUB_NET_BURST_MAX ||
	    done_n > OPSUB_NET_BURST_MAX)
		return -EINVAL;
	/* Every array is checked, and the ones written made writable, before
	 * anything moves: a bad pointer cannot strand buffers taken half way. */
	const uint64_t pkt = sizeof(struct opsub_net_pkt);
	if (!gm_access_ok(gm, tx, tx_n * pkt, GP_R) || !gm_access_ok(gm, post_at, post_n * 8, GP_R) ||
	    !gm_access_ok(gm, rx, rx_n * pkt, GP_W) || !gm_access_ok(gm, done, done_n * 8, GP_W))
		return -EFAULT;
	if (gm_range_watched(gm, req_addr, sizeof(*req)) || gm_range_watched(gm, rx, rx_n * pkt) ||
	    gm_range_watched(gm, done, done_n * 8)) {
		if (!slow)
			return BURST_SLOW;
		if (!slow->prepare_write(gm, req_addr, sizeof(*req)) || !slow->prepare_write(gm, rx, rx_n * pkt) ||
		    !slow->prepare_write(gm, done, done_n * 8))
			return -EFAULT;
	}
	bool bad = false;
	int fault = 0, asleep_q = -1;
	done_n = reclaim(guest_ptr(done), done_n, tx_n);
	tx_n = transmit(gm, guest_ptr(tx), tx_n, &bad, slow, &asleep_q);
	post_n = post(gm, guest_ptr(post_at), post_n, &bad, slow, &asleep_q);
	rx_n = receive(gm, guest_ptr(rx), rx_n, slow, &fault);
	req->tx_n = tx_n;
	req->post_n = post_n;
	req->rx_n = rx_n;
	req->done_n = done_n;
	req->rx_posted = rx_posted(dq_at(0));
	if (drv.ack_due && req->rx_posted >= drv.ack_posted) {
		/* the new receiving queue has buffers: the daemon may steer to it */
		__atomic_store_n(&drv.page->ack, drv.ack_due, __ATOMIC_RELEASE);
		drv.ack_due = 0;
	}
	int64_t rc = fault ? -EFAULT : bad ? -EINVAL : 0;
	if (asleep_q >= 0) {
		/* done, but the NIC sleeps through it: the full gate must wake
		 * it (a system call), and answers rc for this same call */
		drv.replay = true;
		drv.replay_req = req_addr;
		drv.replay_rc = rc;
		drv.wake_q = (unsigned)asleep_q;
		return BURST_SLOW;
	}
	return rc;
}
