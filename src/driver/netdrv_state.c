/*
 * netdrv_state.c: the port as the trusted driver sees it, in a saved guest
 * state (the DRIVER section of monitor/guest_state.h, docs/migration.md).
 *
 * Saving happens with the guest paused and, in opsub mode, its queues
 * quiesced by the daemon (nothing more is received, the transmit rings
 * are sent), and changes nothing: if the migration fails the guest goes on
 * with its rings as they were.  In opsub mode every buffer the guest gave
 * the driver is in exactly one list: transmit buffers and those of
 * failed receives to hand back, frames received and not yet taken, and
 * receive buffers still empty.  On the destination the empty ones are
 * posted to its new ring, the received ones come first in the guest's next
 * NET_BURST, and the rest come back through `done`: none lost, none twice.
 * In paravirt mode the guest's virtqueues are in its memory and the
 * backend's positions travel with the daemon's part of the stream.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "driver/drv.h"
#include "monitor/monitor.h"

static uint64_t guest_addr(uint64_t dev) { return dev & 0xffffffffu; }

/* Appends to one of the three lists, if there is room. */
struct lists {
	uint64_t posted[GS_DRIVER_MAX_POSTED];
	struct opsub_net_pkt received[GS_DRIVER_MAX_RECEIVED];
	uint64_t returned[GS_DRIVER_MAX_RETURNED];
	uint32_t nposted, nreceived, nreturned;
	bool overflow;
};

static void add_returned(struct lists *l, uint64_t addr)
{
	if (l->nreturned == GS_DRIVER_MAX_RETURNED)
		l->overflow = true;
	else
		l->returned[l->nreturned++] = addr;
}

/* One RX ring: frames received and not taken, then buffers posted. */
static void collect_rx(struct lists *l, const struct nic_rxq *r)
{
	uint32_t mask = r->size - 1, ready = nic_rxq_ready(r), s = r->next;
	for (uint32_t k = 0; s != r->tail; k++, s = (s + 1) & mask) {
		struct nic_rx_desc d = r->ring[s];
		uint64_t addr = guest_addr(d.addr);
		bool done = k < ready && ((d.writeback >> 32) & NIC_RXD_STA_DD);
		bool failed = (d.writeback >> 32) & NIC_RXD_STA_ERR;
		if (done && !failed && l->nreceived < GS_DRIVER_MAX_RECEIVED)
			l->received[l->nreceived++] = (struct opsub_net_pkt){.addr = addr, .len = (uint16_t)d.writeback};
		else if (done && !failed)
			l->overflow = true;
		else if (done)
			add_returned(l, addr);
		else if (l->nposted < GS_DRIVER_MAX_POSTED)
			l->posted[l->nposted++] = addr;
		else
			l->overflow = true;
	}
}

/* Reads the rings without taking anything from them. */
static void collect(struct lists *l)
{
	for (unsigned i = 0; i < drv.nreturned; i++)
		add_returned(l, drv.returned[i]);
	for (unsigned i = drv.carried_next; i < drv.ncarried && l->nreceived < GS_DRIVER_MAX_RECEIVED; i++)
		l->received[l->nreceived++] = drv.carried[i];
	for (unsigned i = 0; i < drv.nq; i++) {
		const struct dq *q = dq_at(i);
		for (uint32_t s = q->tx.clean; s != q->tx.tail; s = (s + 1) & (q->tx.size - 1))
			add_returned(l, q->tx_frame[s]);
	}
	/* a draining queue's frames come first, as receive hands them out */
	for (unsigned i = 1; i < drv.nq; i++)
		if (dq_at(i)->draining)
			collect_rx(l, &dq_at(i)->rx);
	if (drv.nq)
		collect_rx(l, &dq_at(0)->rx);
}

size_t netdrv_state_save(struct monitor *m, uint8_t *out, size_t room)
{
	(void)m;
	struct gs_driver d = {.mode = drv.mode, .opened = drv.opened, .tx_refused = drv.tx_refused};
	if (drv.opened) {
		memcpy(d.mac, drv.info.mac, 6);
		d.info_mode = drv.info.mode;
		d.ports = drv.info.ports;
		d.ring_size = drv.info.ring_size;
		d.shared = drv.info.shared;
		d.shared_size = drv.info.shared_size;
	}
	struct lists *l = calloc(1, sizeof(*l));
	if (!l)
		return 0;
	if (drv.opened && drv.mode == OPSUB_IO_OPSUB)
		collect(l);
	d.posted = l->nposted;
	d.received = l->nreceived;
	d.returned = l->nreturned;
	size_t size = sizeof(d) + 8ull * d.posted + sizeof(struct opsub_net_pkt) * d.received + 8ull * d.returned;
	if (l->overflow || size > room) {
		free(l);
		return 0;
	}
	uint8_t *at = out;
	memcpy(at, &d, sizeof(d));
	at += sizeof(d);
	memcpy(at, l->posted, 8ull * d.posted);
	at += 8ull * d.posted;
	memcpy(at, l->received, sizeof(struct opsub_net_pkt) * d.received);
	at += sizeof(struct opsub_net_pkt) * d.received;
	memcpy(at, l->returned, 8ull * d.returned);
	free(l);
	return size;
}

/* Opsub mode: the new queues, the buffers back where they were. */
static int restore_buffers(struct monitor *m, const struct gs_view *v, char *err, size_t errlen)
{
	const struct gs_driver *d = v->driver;
	if (open_queues()) {
		snprintf(err, errlen, "cannot start the port's queues");
		return -1;
	}
	struct dq *q = dq_at(0);
	struct nic_rxq *r = &q->rx;
	if (d->posted > nic_rxq_free(r)) {
		snprintf(err, errlen, "%u receive buffers were posted, this port's ring holds %u", d->posted,
		         nic_rxq_free(r));
		return -1;
	}
	for (uint32_t i = 0; i < d->posted; i++) {
		uint64_t addr = v->posted[i];
		if (!rx_buffer_ok(&m->gm, addr, OPSUB_NET_BUF_SIZE)) {
			snprintf(err, errlen, "posted receive buffer 0x%lx is not writable guest memory", addr);
			return -1;
		}
		q->rx_epoch[nic_rxq_post(r, NIC_DEV_ADDR(drv.mem_window, addr), OPSUB_NET_BUF_SIZE)] = m->gm.watch_epoch;
	}
	if (d->posted)
		nic_rxq_kick(r);
	if (d->received) {
		drv.carried = malloc(sizeof(struct opsub_net_pkt) * d->received);
		if (!drv.carried) {
			snprintf(err, errlen, "out of memory for the frames in flight");
			return -1;
		}
		for (uint32_t i = 0; i < d->received; i++) {
			if (!gm_access_ok(&m->gm, v->received[i].addr, v->received[i].len, GP_R | GP_W)) {
				snprintf(err, errlen, "received frame at 0x%lx is not in writable guest memory",
				         v->received[i].addr);
				return -1;
			}
			drv.carried[i] = v->received[i];
		}
		drv.ncarried = drv.carried_cap = d->received;
	}
	for (uint32_t i = 0; i < d->returned; i++)
		give_back(v->returned[i]);
	return 0;
}

/* Paravirt mode: the backend finds the virtqueues through the link page. */
static int restore_virtqueues(const struct gs_driver *d, char *err, size_t errlen)
{
	int page = drv.nq ? drv.qpage_fd[drv.link.queue[0]] : -1;
	drv.q[0].regs = page < 0 ? MAP_FAILED : mmap(NULL, GUEST_PAGE, PROT_READ, MAP_SHARED, page, 0);   /* statistics */
	if (drv.q[0].regs == MAP_FAILED || drv.kick_fd < 0) {
		snprintf(err, errlen, "the destination gave the port no queue or notifications");
		return -1;
	}
	drv.nq = 1;
	__atomic_store_n(&drv.page->vring_addr, d->shared, __ATOMIC_RELAXED);
	__atomic_store_n(&drv.page->vring_ready, 1, __ATOMIC_RELEASE);
	return 0;
}

int netdrv_state_restore(struct monitor *m, const struct gs_view *v, char *err, size_t errlen)
{
	const struct gs_driver *d = v->driver;
	drv.tx_refused = d->tx_refused;
	if (d->mode != drv.mode) {
		snprintf(err, errlen, "the guest's port was in I/O mode %u, the destination gives it mode %u", d->mode,
		         drv.mode);
		return -1;
	}
	if (!d->opened)
		return 0;
	if (memcmp(d->mac, drv.mac, 6) || d->ring_size != drv.ring_size) {
		snprintf(err, errlen, "the destination's port differs (MAC or ring size) from the one the guest opened");
		return -1;
	}
	struct opsub_net_info info = {.mode = d->info_mode, .ports = d->ports, .ring_size = d->ring_size,
	                              .shared = d->shared, .shared_size = d->shared_size};
	memcpy(info.mac, d->mac, 6);
	int rc = drv.mode == OPSUB_IO_OPSUB     ? restore_buffers(m, v, err, errlen)
	         : drv.mode == OPSUB_IO_PARAVIRT ? restore_virtqueues(d, err, errlen)
	                                         : (snprintf(err, errlen, "I/O mode %u cannot be restored", drv.mode), -1);
	if (rc)
		return -1;
	drv.opened = true;
	drv.info = info;
	return 0;
}
