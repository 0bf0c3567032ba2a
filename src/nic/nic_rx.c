/*
 * nic_rx.c: receive. A frame from the wire (or from TX on a loopback wire)
 * is steered to its queues (nic_steer.h) and copied into each queue's next
 * posted buffer; the descriptor's second quadword is written back in one
 * release store. Heads are published and interrupts fired once per engine
 * iteration for every queue that completed something (the dirty list).
 *
 * Lossy wires drop a frame for a queue without a free descriptor (counted
 * in that queue's rx_dropped); lossless wires leave the frame at the head
 * of the wire until every queue it goes to has one.
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

/* True if queue q can take a frame now: RX running with a posted
 * descriptor. Reads the tail doorbell only when the cached one is used up. */
static bool rx_has_room(struct engine_queue *eq)
{
	struct engine_ring *ring = &eq->rx;
	if (ring->state != RING_ON || !eq->admin_up)
		return false;
	if (ring->head != ring->tail)
		return true;
	uint32_t tail = nic_reg_read32(&eq->regs->rx_tail);
	if (tail >= ring->size) {
		engine_stop_ring(eq, ring, false, NIC_QERR_TAIL_RANGE);
		return false;
	}
	ring->tail = tail;
	return ring->head != tail;
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
	if (rx_has_room(eq))
		descs = (struct nic_rx_desc *)ring_host(nic, eq, &eq->rx, false);
	if (!descs) {
		stat_add(&regs->stats.rx_dropped, 1);
		stat_add(&nic->global->stats.rx_dropped, 1);
		return;
	}

	uint32_t head = eq->rx.head;
	struct nic_rx_desc *d = &descs[head];
	uint64_t addr = d->addr;
	uint32_t capacity = d->length;
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
	}
	__atomic_store_n(&d->writeback, writeback, __ATOMIC_RELEASE);
	eq->rx.head = (head + 1) & (eq->rx.size - 1);
	/* Only descriptors already posted: one beyond the tail is a line the
	 * driver is about to write, and taking it would cost the driver a
	 * cache miss (the same for transmit, nic_tx.c). */
	if (((eq->rx.tail - head) & (eq->rx.size - 1)) > 4)
		__builtin_prefetch(&descs[(head + 4) & (eq->rx.size - 1)], 1);
	mark_dirty(nic, q, eq);
}

#define FOR_EACH_QUEUE(q, set, nq)                                          \
	for (unsigned w_ = 0; w_ < NIC_MAX_QUEUES / 64; w_++)               \
		for (uint64_t b_ = (set)->bits[w_]; b_; b_ &= b_ - 1)       \
			if (((q) = w_ * 64 + (unsigned)__builtin_ctzll(b_)) < (nq))

/* Steers and delivers one frame. False: a lossless wire must keep it. */
static bool rx_deliver(struct nic *nic, const struct wire_frame *f,
                       bool lossless)
{
	const struct qset *targets = steer_lookup(nic->steer, f->data, f->len);
	unsigned q;
	if (lossless)
		FOR_EACH_QUEUE(q, targets, nic->num_queues)
			if (!rx_has_room(&nic->queues[q]))
				return false;
	stat_add(&nic->global->stats.rx_frames, 1);
	stat_add(&nic->global->stats.rx_bytes, f->len);
	if (qset_empty(targets)) {
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
