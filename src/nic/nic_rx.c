/*
 * nic_rx.c: receive. A frame from the wire (or from TX on a loopback wire)
 * is steered to its queues (nic_steer.h) and copied into each queue's next
 * posted buffer; the descriptor's second quadword is written back in one
 * release store. Heads are published and interrupts fired once per engine
 * iteration for every queue that completed something (the dirty list).
 *
 * Lossy wires drop a frame for a queue without a free descriptor (counted
 * in that queue's rx_dropped); lossless wires leave the frame at the head
 * of the wire until every queue it goes to has one, but only for a while:
 * like a real NIC's per-queue drop enable, a queue that keeps the wire
 * waiting while others could receive uses up a wait budget, and then its
 * frames are dropped whenever it has no descriptor, so one guest cannot
 * stop another's traffic (docs/nic.md, "Receive and steering").
 *
 * Descriptors and doorbells are written by drivers, which may be hostile
 * processes: each field the engine acts on is loaded once into a local.
 */
#include "nic/nic_internal.h"

#include <string.h>
#include <unistd.h>

static void mark_dirty(struct nic *nic, unsigned q, struct engine_queue *eq)
{
	if (!eq->rx_dirty) {
		eq->rx_dirty = true;
		nic->rx_dirty_list[nic->rx_dirty_count++] = (uint16_t)q;
	}
}

#define FOR_EACH_QUEUE(q, set, nq)                                          \
	for (unsigned w_ = 0; w_ < qset_words(nq); w_++)                    \
		for (uint64_t b_ = (set)->bits[w_]; b_; b_ &= b_ - 1)       \
			if (((q) = w_ * 64 + (unsigned)__builtin_ctzll(b_)) < (nq))

/* True if queue q can take a frame now: RX running with a posted
 * descriptor. Reads the tail doorbell only when the cached one is used up
 * (and notes whether the driver posted since). A queue a lossless wire has
 * given up on is looked at once per iteration: its copies are dropped until
 * its driver posts, and reading its doorbell for each of them would slow
 * the delivery to everyone else. */
static bool rx_has_room(struct nic *nic, struct engine_queue *eq)
{
	struct engine_ring *ring = &eq->rx;
	if (ring->state != RING_ON || !eq->rx_admitted)
		return false;
	if (ring->head != ring->tail)
		return true;
	if (!eq->wait_left_ns && eq->rx_empty_epoch == nic->epoch)
		return false;
	uint32_t tail = nic_reg_read32(&eq->regs->rx_tail);
	if (tail >= ring->size) {
		engine_stop_ring(eq, ring, false, NIC_QERR_TAIL_RANGE);
		return false;
	}
	eq->rx_posted |= tail != ring->tail;
	ring->tail = tail;
	if (ring->head == tail)
		eq->rx_empty_epoch = nic->epoch;
	return ring->head != tail;
}

void rx_wait_reset(struct nic *nic, struct engine_queue *eq)
{
	eq->wait_left_ns = nic->rx_wait_ns;
	eq->wait_mark_ns = 0;
	eq->wait_episode = 0;
	eq->rx_posted = false;
}

/* Whether a queue outside `targets` could take a frame now: then holding
 * the wire's head back keeps frames from someone. */
static bool other_queue_has_room(struct nic *nic, const struct qset *targets)
{
	for (unsigned i = 0; i < nic->nactive; i++) {
		unsigned q = nic->active[i];
		if (!(targets->bits[q / 64] >> (q % 64) & 1) &&
		    rx_has_room(nic, &nic->queues[q]))
			return true;
	}
	return false;
}

/* eq has no descriptor for the frame at the head of a lossless wire:
 * settles its wait budget and says whether the wire still waits for it.
 * now is 0 while no queue could receive (waiting deprives no one: free);
 * otherwise time the wire was held for it since the last look (the same
 * frame still at the head) is charged, and time after its driver posted
 * again earns budget back at 1/NIC_RX_WAIT_EARN, so a queue that posts one
 * buffer whenever it has been given up cannot hold the wire more than that
 * share of the time. */
static bool rx_waits_for(struct nic *nic, struct engine_queue *eq,
                         uint64_t now)
{
	if (!now) {
		eq->wait_mark_ns = 0;   /* a charged wait starts afresh */
		return eq->wait_left_ns > 0;
	}
	uint64_t since = eq->wait_mark_ns ? now - eq->wait_mark_ns : 0;
	if (eq->rx_posted) {
		uint64_t left = eq->wait_left_ns + since / NIC_RX_WAIT_EARN;
		eq->wait_left_ns = left < nic->rx_wait_ns ? left : nic->rx_wait_ns;
	} else if (eq->wait_episode == nic->rx_episode) {
		eq->wait_left_ns -= since < eq->wait_left_ns ? since
		                                             : eq->wait_left_ns;
	}
	eq->wait_mark_ns = now;
	eq->wait_episode = nic->rx_episode;
	eq->rx_posted = false;
	return eq->wait_left_ns > 0;
}

/* The common case, kept as cheap as it can be: every target has room. */
static bool rx_all_have_room(struct nic *nic, const struct qset *targets)
{
	unsigned q;
	FOR_EACH_QUEUE(q, targets, nic->num_queues)
		if (!rx_has_room(nic, &nic->queues[q]))
			return false;
	return true;
}

/* Lossless wires: whether the frame must stay at the head of the wire for
 * a target without a descriptor. Off the path of frames that find room;
 * the clock is read only when someone else could receive meanwhile. */
static bool rx_must_wait(struct nic *nic, const struct qset *targets)
{
	struct qset lacking = { { 0 } };
	bool any_lacking = false, others_ready = false;
	unsigned q;
	FOR_EACH_QUEUE(q, targets, nic->num_queues) {
		struct engine_queue *eq = &nic->queues[q];
		if (rx_has_room(nic, eq)) {
			others_ready = true;
		} else if (!eq->quiesced && (eq->wait_left_ns || eq->rx_posted)) {
			lacking.bits[q / 64] |= 1ull << (q % 64);
			any_lacking = true;
		}   /* else: given up and not posting, or quiesced: its copy is
		     * dropped */
	}
	if (!any_lacking)
		return false;
	if (!others_ready)
		others_ready = other_queue_has_room(nic, targets);
	uint64_t now = others_ready ? nic_now_ns() : 0;
	bool wait = false;
	FOR_EACH_QUEUE(q, &lacking, nic->num_queues)
		wait |= rx_waits_for(nic, &nic->queues[q], now);
	/* a wait charged to a budget ends by time alone: no sleeping */
	nic->rx_hold_timed = now != 0;
	return wait;
}

static bool is_tagged(const struct wire_frame *f)
{
	return f->len >= 18 && f->data[12] == 0x81 && f->data[13] == 0x00;
}

static void rx_to_queue(struct nic *nic, unsigned q,
                        const struct wire_frame *f)
{
	struct engine_queue *eq = &nic->queues[q];
	struct nic_queue_regs *regs = eq->regs;
	struct nic_rx_desc *descs = NULL;
	if (rx_has_room(nic, eq))
		descs = (struct nic_rx_desc *)ring_host(nic, eq, &eq->rx, false);
	if (!descs) {
		stat_add(&regs->stats.rx_dropped, 1);
		stat_add(&nic->global->stats.rx_dropped, 1);
		if (eq->quiesced)
			stat_add(&eq->quiesced_frames, 1);
		return;
	}

	uint32_t head = eq->rx.head;
	struct nic_rx_desc *d = &descs[head];
	uint64_t addr = __atomic_load_n(&d->addr, __ATOMIC_RELAXED);
	uint32_t capacity = __atomic_load_n(&d->length, __ATOMIC_RELAXED);
	/* Generated frames (rx_write) are never tagged: data is a template. */
	bool strip = (nic_reg_read32(&regs->control) & NIC_QCTL_VLAN_STRIP) &&
	             !nic->wire->ops->rx_write && is_tagged(f);
	uint32_t len = strip ? f->len - 4 : f->len;
	uint8_t *buf = NULL;
	uint64_t writeback;

	if (len > capacity) {
		writeback = nic_rx_writeback(0, NIC_RXD_STA_DD | NIC_RXD_STA_ERR,
		                             NIC_DESC_ERR_LENGTH, 0);
		stat_add(&regs->stats.desc_errors, 1);
	} else if (!(buf = dma_translate(nic->windows, addr, capacity))) {
		writeback = nic_rx_writeback(0, NIC_RXD_STA_DD | NIC_RXD_STA_ERR,
		                             NIC_DESC_ERR_DMA, 0);
		stat_add(&regs->stats.dma_errors, 1);
		stat_add(&nic->global->stats.dma_errors, 1);
	} else {
		uint16_t tci = 0;
		if (nic->wire->ops->rx_write) {
			nic->wire->ops->rx_write(nic->wire, f, buf);
		} else if (strip) {
			tci = (uint16_t)(f->data[14] << 8 | f->data[15]);
			memcpy(buf, f->data, 12);
			memcpy(buf + 12, f->data + 16, f->len - 16);
		} else {
			memcpy(buf, f->data, len);
		}
		writeback = nic_rx_writeback((uint16_t)len,
		        NIC_RXD_STA_DD | NIC_RXD_STA_EOP |
		        (strip ? NIC_RXD_STA_VP : 0), 0, tci);
		stat_add(&regs->stats.rx_packets, 1);
		stat_add(&regs->stats.rx_bytes, len);
		if (eq->mirror) {
			/* as the driver gets it (generated, tag stripped) */
			struct wire_frame got = { .data = buf, .len = len };
			mirror_put(eq->mirror, q, NIC_MIRROR_RX, &got, 1);
		}
	}
	__atomic_store_n(&d->writeback, writeback, __ATOMIC_RELEASE);
	if (__builtin_expect(nic->dirty_logging, 0)) {   /* migrating */
		dirty_note(nic, eq->rx.base + (uint64_t)head * 16, 16);
		if (buf)
			dirty_note(nic, addr, len);
	}
	eq->rx.head = (head + 1) & (eq->rx.size - 1);
	/* Only descriptors already posted: one beyond the tail is a line the
	 * driver is about to write, and taking it would cost the driver a
	 * cache miss (the same for transmit, nic_tx.c). */
	uint32_t mask = eq->rx.size - 1, posted = (eq->rx.tail - head) & mask;
	if (posted > 8)
		prefetch_for_write(nic, &descs[(head + 8) & mask]);
	/* The buffer a few frames ahead, as many lines as this frame has:
	 * waiting for each line in turn made the copy the engine's bottleneck
	 * (a real NIC's DMA engine pipelines its writes the same way).  Only a
	 * hint: the address is not trusted here, the frame's own descriptor is
	 * read again when its turn comes. */
	if (posted > 4) {
		uint64_t ahead = __atomic_load_n(&descs[(head + 4) & mask].addr,
		                                 __ATOMIC_RELAXED);
		const uint8_t *p = dma_translate(nic->windows, ahead, len);
		for (uint32_t off = 0; p && off < len; off += 64)
			prefetch_for_write(nic, p + off);
	}
	mark_dirty(nic, q, eq);
}

/* Steers and delivers one frame. False: a lossless wire must keep it. */
static bool rx_deliver(struct nic *nic, const struct wire_frame *f,
                       bool lossless)
{
	const struct qset *targets = steer_lookup(nic->steer, f->data, f->len);
	unsigned q;
	if (lossless && !rx_all_have_room(nic, targets)) {
		if (rx_must_wait(nic, targets)) {
			nic->rx_holding = true;
			return false;
		}
	}
	if (nic->rx_holding) {
		nic->rx_holding = false;
		nic->rx_episode++;   /* the head moved: the next wait is a new one */
	}
	stat_add(&nic->global->stats.rx_frames, 1);
	stat_add(&nic->global->stats.rx_bytes, f->len);
	if (qset_empty(targets, nic->steer->words)) {
		stat_add(&nic->global->stats.rx_no_match, 1);
		return true;
	}
	FOR_EACH_QUEUE(q, targets, nic->num_queues)
		rx_to_queue(nic, q, f);
	return true;
}

unsigned rx_from_wire(struct nic *nic)
{
	struct wire *w = nic->wire;
	if (!w->ops->rx_peek)
		return 0;
	unsigned total = 0;
	for (unsigned batch = 0; batch < NIC_RX_BATCHES; batch++) {
		struct wire_frame frames[NIC_RX_BATCH];
		unsigned n = w->ops->rx_peek(w, frames, NIC_RX_BATCH), done = 0;
		while (done < n && rx_deliver(nic, &frames[done], w->lossless))
			done++;
		if (done)
			w->ops->rx_consume(w, done);
		total += done;
		if (done < NIC_RX_BATCH)
			break;
	}
	return total;
}

void rx_deliver_burst(void *nic, const struct wire_frame *frames, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		rx_deliver(nic, &frames[i], false);
}

void irq_fire(struct nic *nic, unsigned q)
{
	uint32_t *arm = &nic->queues[q].regs->irq_arm;
	/* The cheap load first: most completions find the queue unarmed. */
	if (__atomic_load_n(arm, __ATOMIC_RELAXED) &&
	    __atomic_exchange_n(arm, 0, __ATOMIC_ACQ_REL)) {
		/* Can only fail if the counter is saturated, and then a
		 * wakeup is pending anyway. */
		uint64_t one = 1;
		ssize_t rc = write(nic->irq_fds[q], &one, sizeof(one));
		(void)rc;
	}
}

void rx_publish(struct nic *nic)
{
	for (unsigned i = 0; i < nic->rx_dirty_count; i++) {
		unsigned q = nic->rx_dirty_list[i];
		struct engine_queue *eq = &nic->queues[q];
		eq->rx_dirty = false;
		nic_reg_write32(&eq->regs->rx_head, eq->rx.head);
		irq_fire(nic, q);
	}
	nic->rx_dirty_count = 0;
	uint64_t wire_errors = __atomic_load_n(&nic->wire->stats.errors,
	                                       __ATOMIC_RELAXED);
	if (nic->global->stats.wire_errors != wire_errors)
		__atomic_store_n(&nic->global->stats.wire_errors, wire_errors,
		                 __ATOMIC_RELAXED);
}
