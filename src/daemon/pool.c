/*
 * pool.c: the pool device and its uplink (pool.h).
 *
 * The uplink is the pool device's wire backend: a driver of one NIC queue
 * pair, run by the pool's engine thread (wire.h: every call but open and
 * close comes from that thread, so it keeps no locks).  Transmit copies
 * each frame into the next uplink TX buffer; receive offers the frames of
 * the uplink RX ring in place and posts their buffers again once the pool
 * has delivered them.  Descriptor slot i always uses buffer i.
 */
#include "daemon/pool.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nic_ring.h"

struct uplink {
	struct wire wire;             /* first: the pool's engine sees this */
	struct nic *nic;
	unsigned queue, size;
	struct nic_queue_regs *regs;
	uint8_t *mem;                 /* rings, then size RX and size TX buffers */
	size_t mem_size;
	struct nic_txq tx;
	struct nic_rxq rx;
	int irq_fd;
	bool armed;                   /* irq_arm written since the last frame */
	uint64_t taken;               /* atomic: frames consumed (pool_uplink_taken) */
	uint64_t posted;              /* atomic: frames put on the TX ring (pool_uplink_posted) */
};

struct pool {
	struct nic *nic, *dev;
	struct uplink *up;
	int filter;
	unsigned queues, nfree;
	bool *used;
};

static uint64_t buf_off(const struct uplink *u, unsigned i)
{
	return 2 * (uint64_t)u->size * sizeof(struct nic_tx_desc) + (uint64_t)i * NIC_MAX_FRAME;
}

static void uplink_tx(struct wire *w, const struct wire_frame *f, unsigned n)
{
	struct uplink *u = (struct uplink *)w;
	if (nic_txq_free(&u->tx) < n)
		nic_txq_reap(&u->tx);
	unsigned room = nic_txq_free(&u->tx), sent = n < room ? n : room;
	for (unsigned i = 0; i < sent; i++) {
		uint64_t off = buf_off(u, u->size + u->tx.tail);
		memcpy(u->mem + off, f[i].data, f[i].len);
		nic_txq_post(&u->tx, NIC_DEV_ADDR(POOL_WINDOW, off), (uint16_t)f[i].len, NIC_TXD_CMD_EOP, 0);
	}
	if (sent) {
		nic_txq_kick(&u->tx);
		__atomic_store_n(&u->posted, u->posted + sent, __ATOMIC_RELEASE);
	}
	/* a wire never pushes back: what the uplink ring cannot take now is
	 * lost on the way, like on a congested link */
	wire_count(&w->stats.errors, n - sent);
}

/* Gives back received descriptors the NIC failed, so the offer starts at a
 * good frame. */
static void skip_failed(struct uplink *u)
{
	struct nic_rx_desc d;
	uint32_t index;
	while (nic_rxq_ready(&u->rx) && nic_rxq_peek(&u->rx, &d) && ((d.writeback >> 32) & NIC_RXD_STA_ERR)) {
		nic_rxq_poll(&u->rx, &index, &d);
		nic_rxq_post(&u->rx, NIC_DEV_ADDR(POOL_WINDOW, buf_off(u, u->rx.tail)), NIC_MAX_FRAME);
		wire_count(&u->wire.stats.errors, 1);
	}
}

static unsigned uplink_rx_peek(struct wire *w, struct wire_frame *f, unsigned max)
{
	struct uplink *u = (struct uplink *)w;
	skip_failed(u);
	unsigned ready = nic_rxq_ready(&u->rx);
	if (!ready && !u->armed) {
		/* about to run dry: let the NIC interrupt (the pool engine
		 * sleeps on it), then look once more, since a frame that came
		 * before the arming would not interrupt */
		uint64_t drain;
		if (read(u->irq_fd, &drain, sizeof(drain)) < 0 && errno != EAGAIN) {
			/* nothing to do: the counter was empty */
		}
		nic_reg_write32(&u->regs->irq_arm, 1);
		u->armed = true;
		skip_failed(u);
		ready = nic_rxq_ready(&u->rx);
	}
	unsigned n = 0;
	for (uint32_t s = u->rx.next; n < max && n < ready; n++, s = (s + 1) & (u->size - 1)) {
		struct nic_rx_desc d = u->rx.ring[s];
		if ((d.writeback >> 32) & NIC_RXD_STA_ERR)
			break;
		f[n] = (struct wire_frame){.data = u->mem + buf_off(u, s), .len = (uint16_t)d.writeback};
	}
	if (n)
		u->armed = false;
	return n;
}

static void uplink_rx_consume(struct wire *w, unsigned n)
{
	struct uplink *u = (struct uplink *)w;
	struct nic_rx_desc d;
	uint32_t index;
	for (unsigned i = 0; i < n && nic_rxq_poll(&u->rx, &index, &d); i++) {
		nic_rxq_post(&u->rx, NIC_DEV_ADDR(POOL_WINDOW, buf_off(u, u->rx.tail)), NIC_MAX_FRAME);
		wire_count(&w->stats.rx_frames, 1);
		wire_count(&w->stats.rx_bytes, (uint16_t)d.writeback);
	}
	nic_rxq_kick(&u->rx);
	__atomic_store_n(&u->taken, u->taken + n, __ATOMIC_RELEASE);
}

static int uplink_rx_fd(const struct wire *w)
{
	return ((const struct uplink *)w)->irq_fd;
}

/* The pool device's nic_destroy closes its wire: the uplink's queue goes
 * back to its power-on state, its memory goes (pool_stop unmapped the
 * window before). */
static void uplink_close(struct wire *w)
{
	struct uplink *u = (struct uplink *)w;
	nic_queue_set_admin(u->nic, u->queue, false, NULL, 0);
	nic_queue_reset(u->nic, u->queue, NULL, 0);
	if (u->mem)
		munmap(u->mem, u->mem_size);
	free(u);
}

static const struct wire_ops uplink_ops = {
	.tx_burst = uplink_tx,
	.rx_peek = uplink_rx_peek,
	.rx_consume = uplink_rx_consume,
	.close = uplink_close,
	.rx_fd = uplink_rx_fd,
};

static struct uplink *uplink_open(struct nic *nic, unsigned queue, unsigned size, char *err, size_t errlen)
{
	struct uplink *u = calloc(1, sizeof(*u));
	if (!u) {
		snprintf(err, errlen, "pool: out of memory");
		return NULL;
	}
	u->wire = (struct wire){.ops = &uplink_ops, .kind = "pool uplink", .lossless = true};
	u->nic = nic;
	u->queue = queue;
	u->size = size;
	u->mem_size = buf_off(u, 2 * size);
	u->mem = mmap(NULL, u->mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (u->mem == MAP_FAILED) {
		free(u);
		snprintf(err, errlen, "pool: out of memory for the uplink's buffers");
		return NULL;
	}
	if (nic_window_map(nic, POOL_WINDOW, u->mem, u->mem_size, err, errlen) ||
	    nic_queue_reset(nic, queue, err, errlen)) {
		nic_window_unmap(nic, POOL_WINDOW, NULL, 0);
		munmap(u->mem, u->mem_size);
		free(u);
		return NULL;
	}
	nic_queue_set_admin(nic, queue, true, NULL, 0);
	u->regs = nic_queue_regs(nic, queue);
	u->irq_fd = nic_queue_irq_fd(nic, queue);
	int doorbell = nic_queue_doorbell_fd(nic, queue);
	uint64_t half = (uint64_t)size * sizeof(struct nic_tx_desc);
	nic_txq_start(&u->tx, u->regs, (struct nic_tx_desc *)u->mem, NIC_DEV_ADDR(POOL_WINDOW, 0), size, doorbell);
	nic_rxq_start(&u->rx, u->regs, (struct nic_rx_desc *)(u->mem + half), NIC_DEV_ADDR(POOL_WINDOW, half), size,
	              doorbell);
	while (nic_rxq_free(&u->rx))
		nic_rxq_post(&u->rx, NIC_DEV_ADDR(POOL_WINDOW, buf_off(u, u->rx.tail)), NIC_MAX_FRAME);
	nic_rxq_kick(&u->rx);
	return u;
}

struct pool *pool_start(struct nic *nic, unsigned uplink, unsigned queues, unsigned ring_size,
                        enum nic_poll_mode poll_mode, char *err, size_t errlen)
{
	struct pool *p = calloc(1, sizeof(*p));
	bool *used = calloc(queues, sizeof(bool));
	if (!p || !used) {
		free(p);
		free(used);
		snprintf(err, errlen, "pool: out of memory");
		return NULL;
	}
	*p = (struct pool){.nic = nic, .filter = -1, .queues = queues, .nfree = queues, .used = used};
	p->up = uplink_open(nic, uplink, ring_size, err, errlen);
	if (!p->up) {
		pool_stop(p);
		return NULL;
	}
	struct nic_config cfg;
	nic_config_defaults(&cfg);
	cfg.num_queues = queues;
	cfg.poll_mode = poll_mode;
	cfg.wire_backend = &p->up->wire;
	p->dev = nic_create(&cfg, err, errlen);   /* takes the uplink over, failing or not */
	if (!p->dev) {
		p->up = NULL;
		nic_window_unmap(nic, POOL_WINDOW, NULL, 0);
		pool_stop(p);
		return NULL;
	}
	struct nic_filter f = {.mac = POOL_UPLINK_MAC, .vlan = NIC_VLAN_ANY, .queue = (uint16_t)uplink,
	                       .flags = NIC_FILTER_BROADCAST | NIC_FILTER_PROMISC};
	p->filter = nic_filter_add(nic, &f, err, errlen);
	if (p->filter < 0 || nic_start(p->dev, err, errlen)) {
		pool_stop(p);
		return NULL;
	}
	return p;
}

void pool_stop(struct pool *p)
{
	if (!p)
		return;
	if (p->filter >= 0)
		nic_filter_clear(p->nic, (unsigned)p->filter, NULL, 0);
	if (p->dev) {
		nic_stop(p->dev);
		/* the NIC must be done with the uplink's memory before it goes */
		nic_queue_set_admin(p->nic, p->up->queue, false, NULL, 0);
		nic_queue_reset(p->nic, p->up->queue, NULL, 0);
		nic_window_unmap(p->nic, POOL_WINDOW, NULL, 0);
		nic_destroy(p->dev);   /* closes the uplink */
	}
	free(p->used);
	free(p);
}

struct nic *pool_nic(const struct pool *p) { return p->dev; }

int pool_take(struct pool *p)
{
	for (unsigned q = 0; q < p->queues && p->nfree; q++) {
		if (p->used[q])
			continue;
		p->used[q] = true;
		p->nfree--;
		if (nic_queue_reset(p->dev, q, NULL, 0) == 0)
			return (int)q;
		/* its old owner may still hold its page: withdrawn for good */
	}
	return -1;
}

void pool_release(struct pool *p, unsigned q)
{
	nic_queue_set_admin(p->dev, q, false, NULL, 0);
	if (q < p->queues && p->used[q] && nic_queue_reset(p->dev, q, NULL, 0) == 0) {
		p->used[q] = false;
		p->nfree++;
	}
}

unsigned pool_free_queues(const struct pool *p) { return p->nfree; }

uint64_t pool_uplink_delivered(const struct pool *p)
{
	struct nic_queue_stats_regs s;
	nic_queue_stats(p->nic, p->up->queue, &s);
	return s.rx_packets;
}

uint64_t pool_uplink_taken(const struct pool *p)
{
	return __atomic_load_n(&p->up->taken, __ATOMIC_ACQUIRE);
}

uint64_t pool_uplink_posted(const struct pool *p)
{
	return __atomic_load_n(&p->up->posted, __ATOMIC_ACQUIRE);
}

uint64_t pool_uplink_sent(const struct pool *p)
{
	struct nic_queue_stats_regs s;
	nic_queue_stats(p->nic, p->up->queue, &s);
	return s.tx_packets;
}
