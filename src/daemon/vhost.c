/*
 * The paravirt backend: the analogue of vhost, one worker thread per
 * paravirt guest, in the daemon.  The guest's driver (the SDK) keeps two
 * virtio split virtqueues in its memory and kicks through a hypercall; this
 * worker validates every descriptor (each field read once out of guest
 * memory into a copy of its own, then checked and used),
 * copies the frame into a host buffer and posts it on the guest's NIC queue,
 * which the daemon drives; received frames are copied into the buffers the
 * guest made available.  Used entries are returned with an interrupt unless
 * the guest suppressed it; kicks are suppressed while the worker polls.
 *
 * Live migration: every write into guest memory (frames, used rings) is
 * marked in the NIC's DMA dirty log after it is made (nic_dirty_mark), as
 * the guest's own write tracking cannot see the daemon's mapping.  At the
 * switch-over the worker parks (vhost_park) and its indices are exported
 * (vhost_state.h); the destination's backend starts from them.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/log.h"
#include "daemon/vhost_state.h"
#include "nic_ring.h"
#include "opsub_vring.h"
#include "sandbox/guest_mem.h"

#define IDLE_POLLS 64        /* empty passes before sleeping on the kick: the
                                worker may share its CPU with the guest */
#define PARK_POLL_NS 50000   /* parking: looks at the NIC's transmit head */

struct vhost {
	struct nic *nic;
	struct guest *g;
	int kick_fd, call_fd;
	pthread_t thread;
	volatile bool stop;
	uint8_t *mem;                 /* the daemon's view of guest memory */
	uint64_t mem_size;
	struct opsub_vring rxq, txq;  /* virtqueue 0 receives, 1 transmits */
	uint16_t rx_avail, tx_avail;  /* next avail entries to take */
	uint16_t rx_used, tx_used;
	struct nic_txq nic_tx;
	struct nic_rxq nic_rx;
	unsigned n;
	/* Migration (vhost_park): the requester sets park; the worker stops
	 * taking work, finishes what it holds, then sets parked and waits
	 * until park is withdrawn (vhost_unpark) or stop.  Indices and
	 * stranded are the worker's, read by others only while parked. */
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool park, parked;
	uint64_t stranded;            /* frames left in the NIC ring at the park */
	/* started from a migrated state: checked against the guest's rings
	 * when they attach, and the guest gets one interrupt then */
	bool imported;
	bool misfit_logged;           /* the guest's rings did not fit them */
	uint64_t park_tx_deadline_ns; /* CLOCK_MONOTONIC, set by vhost_park */
};

static uint64_t monotonic_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t copy_off(unsigned i) { return LINK_COPY_OFF + (uint64_t)i * LINK_COPY_STRIDE; }

/* Guest memory (the virtqueues) and the ring area (the NIC rings, the copy
 * buffers) may change under the worker at any moment: the guest, or a
 * compromised guest process.  Each value acted on is loaded exactly once,
 * with an atomic load the compiler may neither repeat nor split. */
#define load_once(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)

static struct opsub_vring_desc desc_copy(const struct opsub_vring *q, uint16_t id)
{
	const struct opsub_vring_desc *d = &q->desc[id];
	return (struct opsub_vring_desc){.addr = load_once(d->addr), .len = load_once(d->len),
	                                 .flags = load_once(d->flags), .next = load_once(d->next)};
}

/* The descriptor id at avail entry `at`, within the table. */
static uint16_t avail_id(const struct opsub_vring *q, uint16_t at, unsigned n)
{
	return (uint16_t)(load_once(q->avail_ring[at % n]) % n);
}

/* RX copy buffer of NIC ring slot `index`: the worker posted it there, so it
 * knows it without reading the descriptor back from the ring area. */
static uint64_t rx_copy_off(const struct vhost *v, uint32_t index) { return copy_off(v->n + index); }

/* A guest buffer the backend may touch: inside guest memory, no wrap. */
static bool buffer_ok(const struct vhost *v, uint64_t addr, uint32_t len)
{
	return addr >= GUEST_LOWEST && len <= v->mem_size && addr <= v->mem_size - len;
}

/* Guest memory (device window 1 + 2 * slot) this backend wrote, for a
 * migration's DMA dirty log (nic.h): marked after the write. */
static void dirtied(const struct vhost *v, const void *at, uint64_t len)
{
	nic_dirty_mark(v->nic, NIC_DEV_ADDR(1 + 2 * v->g->slot, (const uint8_t *)at - v->mem), len);
}

/* q's used area: flags, index, entries, avail event. */
static void used_dirtied(const struct vhost *v, const struct opsub_vring *q)
{
	dirtied(v, q->used_flags, 4 + 8 * (uint64_t)v->n + 2);
}

static void interrupt(struct vhost *v)
{
	uint64_t one = 1;
	if (!(opsub_vring_load(v->rxq.avail_flags) & OPSUB_VRING_AVAIL_F_NO_INTERRUPT) &&
	    write(v->call_fd, &one, sizeof(one)) < 0) {
		/* the counter is saturated: the guest has a wakeup pending anyway */
	}
}

static unsigned tx_pass(struct vhost *v)
{
	struct opsub_vring *q = &v->txq;
	unsigned done = 0, posted = 0, n = v->n;
	nic_txq_reap(&v->nic_tx);
	uint16_t avail = opsub_vring_load(q->avail_idx);
	while (v->tx_avail != avail && nic_txq_free(&v->nic_tx)) {
		uint16_t id = avail_id(q, v->tx_avail, n);
		struct opsub_vring_desc d = desc_copy(q, id);   /* copied before the checks */
		uint32_t len = 0;
		if (d.len >= OPSUB_NET_MIN_FRAME && d.len <= OPSUB_NET_MAX_FRAME && buffer_ok(v, d.addr, d.len)) {
			uint64_t off = copy_off(v->nic_tx.tail);
			memcpy((uint8_t *)v->g->ring_map + off, v->mem + d.addr, d.len);
			nic_txq_post(&v->nic_tx, NIC_DEV_ADDR(2 + 2 * v->g->slot, off), (uint16_t)d.len, NIC_TXD_CMD_EOP, 0);
			len = d.len;
			posted++;
		}
		q->used_ring[v->tx_used % n] = (struct opsub_vring_used_elem){id, len};
		v->tx_used++;
		v->tx_avail++;
		done++;
	}
	if (posted)
		nic_txq_kick(&v->nic_tx);
	if (done) {
		opsub_vring_store(q->used_idx, v->tx_used);
		used_dirtied(v, q);
		interrupt(v);
	}
	return done;
}

static unsigned rx_pass(struct vhost *v)
{
	struct opsub_vring *q = &v->rxq;
	unsigned done = 0, n = v->n, ready = nic_rxq_ready(&v->nic_rx);
	uint16_t avail = opsub_vring_load(q->avail_idx);
	struct nic_rx_desc f;
	uint32_t index;
	while (ready && v->rx_avail != avail && nic_rxq_poll(&v->nic_rx, &index, &f)) {
		ready--;
		uint16_t id = avail_id(q, v->rx_avail, n);
		struct opsub_vring_desc d = desc_copy(q, id);
		/* the write-back is in the ring area, which the guest process
		 * can write: the length is bounded by the copy buffer, and the
		 * buffer is found from the slot, not from the descriptor */
		uint32_t len = (uint16_t)f.writeback, put = 0;
		uint64_t off = rx_copy_off(v, index);
		if (!((f.writeback >> 32) & NIC_RXD_STA_ERR) && len <= OPSUB_NET_BUF_SIZE && d.len >= len &&
		    buffer_ok(v, d.addr, len)) {
			memcpy(v->mem + d.addr, (uint8_t *)v->g->ring_map + off, len);
			dirtied(v, v->mem + d.addr, len);
			put = len;
		}
		q->used_ring[v->rx_used % n] = (struct opsub_vring_used_elem){id, put};
		v->rx_used++;
		v->rx_avail++;
		/* slot s always holds copy buffer s: the slot posted now is the
		 * tail, whose buffer was copied out a ring's turn ago */
		nic_rxq_post(&v->nic_rx, NIC_DEV_ADDR(2 + 2 * v->g->slot, rx_copy_off(v, v->nic_rx.tail)),
		             OPSUB_NET_BUF_SIZE);
		done++;
	}
	if (done) {
		nic_rxq_kick(&v->nic_rx);
		opsub_vring_store(q->used_idx, v->rx_used);
		used_dirtied(v, q);
		interrupt(v);
	}
	return done;
}

static void suppress_kicks(struct vhost *v, bool on)
{
	uint16_t f = on ? OPSUB_VRING_USED_F_NO_NOTIFY : 0;
	opsub_vring_store(v->rxq.used_flags, f);
	opsub_vring_store(v->txq.used_flags, f);
	dirtied(v, v->rxq.used_flags, sizeof(*v->rxq.used_flags));
	dirtied(v, v->txq.used_flags, sizeof(*v->txq.used_flags));
}

/* Sleeps until a kick, a received frame or 10 ms. */
static void sleep_for_work(struct vhost *v)
{
	uint64_t drain;
	struct pollfd p[2] = {{.fd = v->kick_fd, .events = POLLIN},
	                      {.fd = nic_queue_irq_fd(v->nic, v->g->queue[0]), .events = POLLIN}};
	nic_reg_write32(&v->nic_rx.regs->irq_arm, 1);
	if (poll(p, 2, 10) > 0) {
		if (read(v->kick_fd, &drain, sizeof(drain)) < 0 && errno != EAGAIN) {
			/* nothing to do: the kick counter is simply empty */
		}
		if (read(p[1].fd, &drain, sizeof(drain)) < 0 && errno != EAGAIN) {
			/* likewise for the NIC's interrupt */
		}
	}
}

/* A migrated backend's indices against the rings it finds in guest memory
 * (which came with them): the used indices are the ones the source
 * published, and the guest made at most a ring's worth available beyond
 * them.  Anything else means the two did not travel together. */
static bool imported_state_fits(const struct vhost *v)
{
	return opsub_vring_load(v->rxq.used_idx) == v->rx_used && opsub_vring_load(v->txq.used_idx) == v->tx_used &&
	       (uint16_t)(opsub_vring_load(v->rxq.avail_idx) - v->rx_avail) <= v->n &&
	       (uint16_t)(opsub_vring_load(v->txq.avail_idx) - v->tx_avail) <= v->n;
}

static bool attach_vrings(struct vhost *v)
{
	struct link_page *page = v->g->page;
	if (!__atomic_load_n(&page->vring_ready, __ATOMIC_ACQUIRE))
		return false;
	/* the guest process wrote it and may rewrite it: read once, checked */
	uint64_t at = __atomic_load_n(&page->vring_addr, __ATOMIC_RELAXED), size = 2 * OPSUB_VRING_SIZE(v->n);
	if (at % 64 || !buffer_ok(v, at, (uint32_t)size))
		return false;   /* a broken guest driver: the port stays silent */
	opsub_vring_view(&v->rxq, v->mem + at, v->n);
	opsub_vring_view(&v->txq, v->mem + at + OPSUB_VRING_SIZE(v->n), v->n);
	if (v->imported) {
		if (!imported_state_fits(v)) {
			if (!v->misfit_logged)
				log_warning("guest %s: its virtqueues do not match the backend's migrated indices "
				            "(rx %u/%u, tx %u/%u): its port stays silent",
				            v->g->cfg.name, v->rx_avail, v->rx_used, v->tx_avail, v->tx_used);
			v->misfit_logged = true;
			return false;
		}
		/* an interrupt the source sent may not have reached the guest
		 * process before it was paused: a spurious one is harmless */
		interrupt(v);
	}
	return true;
}

/* Whether the NIC has sent every frame the worker posted. */
static bool tx_all_sent(struct vhost *v)
{
	nic_txq_reap(&v->nic_tx);
	return v->nic_tx.clean == v->nic_tx.tail;
}

/* Parks the worker while asked to (vhost_park).  It takes no new transmit
 * entry (what the guest made available stays in its ring, for the
 * destination's backend); it waits for the NIC to send what it posted
 * (until park_tx_deadline_ns: later, the NIC sends them while the queue
 * lives); it hands the guest every received frame the NIC holds that the
 * guest has a buffer for (the queue was quiesced: nothing more comes) and
 * counts the rest in stranded.  Then it waits, touching nothing.  False
 * when the backend is being stopped: a parked backend stopped after its
 * guest moved away must not take one more entry (the destination does). */
static bool park_if_asked(struct vhost *v, bool attached)
{
	if (!__atomic_load_n(&v->park, __ATOMIC_ACQUIRE))
		return true;
	while (!tx_all_sent(v) && __atomic_load_n(&v->park, __ATOMIC_ACQUIRE) && !v->stop &&
	       monotonic_ns() < __atomic_load_n(&v->park_tx_deadline_ns, __ATOMIC_RELAXED)) {
		struct timespec nap = {0, PARK_POLL_NS};
		nanosleep(&nap, NULL);
	}
	/* each pass takes at most what the NIC holds, a ring's worth */
	for (unsigned i = 0; attached && i < v->n && rx_pass(v); i++)
		continue;
	uint64_t stranded = nic_rxq_ready(&v->nic_rx);
	pthread_mutex_lock(&v->lock);
	if (v->park) {   /* else the requester gave up meanwhile */
		v->stranded = stranded;
		v->parked = true;
		pthread_cond_broadcast(&v->changed);
		while (v->park && !v->stop)
			pthread_cond_wait(&v->changed, &v->lock);
		v->parked = false;
	}
	bool go_on = !v->stop;
	pthread_mutex_unlock(&v->lock);
	return go_on;
}

static void *worker(void *arg)
{
	struct vhost *v = arg;
	while (!v->stop && !attach_vrings(v))
		if (park_if_asked(v, false))
			sleep_for_work(v);
	unsigned idle = 0;
	while (!v->stop && park_if_asked(v, true)) {
		if (tx_pass(v) + rx_pass(v)) {
			if (idle >= IDLE_POLLS)
				suppress_kicks(v, true);
			idle = 0;
		} else if (++idle == IDLE_POLLS) {
			suppress_kicks(v, false);   /* then look once more before sleeping */
		} else if (idle > IDLE_POLLS) {
			sleep_for_work(v);
		}
	}
	return NULL;
}

int vhost_state_check(const struct vhost_state *s, unsigned ring_size, char *err, size_t errlen)
{
	if (s->ring_size != ring_size) {
		snprintf(err, errlen, "the guest's virtqueues have %u entries, this daemon's rings %u (nic \"ring_size\")",
		         s->ring_size, ring_size);
		return -1;
	}
	if (s->ring_size < NIC_RING_MIN || s->ring_size > NIC_RING_MAX || (s->ring_size & (s->ring_size - 1))) {
		snprintf(err, errlen, "a virtqueue of %u entries: not a power of two from %u to %u", s->ring_size,
		         NIC_RING_MIN, NIC_RING_MAX);
		return -1;
	}
	if (s->rx_used != s->rx_avail || s->tx_used != s->tx_avail) {
		snprintf(err, errlen, "backend indices rx %u/%u, tx %u/%u (avail/used): a parked backend has "
		         "returned every entry it took", s->rx_avail, s->rx_used, s->tx_avail, s->tx_used);
		return -1;
	}
	return 0;
}

struct vhost *vhost_start(struct nic *nic, struct guest *g, int kick_fd, int call_fd, unsigned ring_size,
                          char *err, size_t errlen)
{
	return vhost_start_at(nic, g, kick_fd, call_fd, ring_size, NULL, err, errlen);
}

struct vhost *vhost_start_at(struct nic *nic, struct guest *g, int kick_fd, int call_fd, unsigned ring_size,
                             const struct vhost_state *from, char *err, size_t errlen)
{
	char why[200];
	if (from && vhost_state_check(from, ring_size, why, sizeof(why))) {
		snprintf(err, errlen, "cannot start the paravirt backend from the migrated state: %s", why);
		return NULL;
	}
	struct vhost *v = calloc(1, sizeof(*v));
	if (!v) {
		snprintf(err, errlen, "out of memory for the paravirt backend");
		return NULL;
	}
	*v = (struct vhost){.nic = nic, .g = g, .kick_fd = kick_fd, .call_fd = call_fd,
	                    .mem = g->mem_map, .mem_size = g->cfg.mem, .n = ring_size};
	if (from) {
		/* a migrated guest's rings go on where its source left them */
		v->rx_avail = from->rx_avail;
		v->rx_used = from->rx_used;
		v->tx_avail = from->tx_avail;
		v->tx_used = from->tx_used;
		v->imported = true;
	}
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);   /* vhost_park's timeout */
	pthread_mutex_init(&v->lock, NULL);
	pthread_cond_init(&v->changed, &attr);
	pthread_condattr_destroy(&attr);
	struct nic_queue_regs *regs = nic_queue_regs(nic, g->queue[0]);
	unsigned ring_window = 2 + 2 * g->slot;
	uint8_t *rings = g->ring_map;
	int doorbell = nic_queue_doorbell_fd(nic, g->queue[0]);
	nic_queue_write_control(regs, 0, doorbell);
	nic_txq_start(&v->nic_tx, regs, (struct nic_tx_desc *)rings, NIC_DEV_ADDR(ring_window, 0), ring_size,
	              doorbell);
	nic_rxq_start(&v->nic_rx, regs, (struct nic_rx_desc *)(rings + LINK_RING_SLOT / 2),
	              NIC_DEV_ADDR(ring_window, LINK_RING_SLOT / 2), ring_size, doorbell);
	for (unsigned i = 0; i < ring_size - 1; i++)
		nic_rxq_post(&v->nic_rx, NIC_DEV_ADDR(ring_window, rx_copy_off(v, i)), OPSUB_NET_BUF_SIZE);
	nic_rxq_kick(&v->nic_rx);
	if (pthread_create(&v->thread, NULL, worker, v)) {
		snprintf(err, errlen, "cannot start the paravirt backend thread");
		pthread_mutex_destroy(&v->lock);
		pthread_cond_destroy(&v->changed);
		free(v);
		return NULL;
	}
	return v;
}

void vhost_stop(struct vhost *v)
{
	if (!v)
		return;
	pthread_mutex_lock(&v->lock);
	v->stop = true;
	pthread_cond_broadcast(&v->changed);
	pthread_mutex_unlock(&v->lock);
	pthread_join(v->thread, NULL);
	pthread_mutex_destroy(&v->lock);
	pthread_cond_destroy(&v->changed);
	free(v);
}

int vhost_park(struct vhost *v, uint64_t timeout_ns)
{
	uint64_t now = monotonic_ns();
	uint64_t deadline = now + timeout_ns < now ? UINT64_MAX : now + timeout_ns;
	struct timespec until = {.tv_sec = (time_t)(deadline / 1000000000u), .tv_nsec = (long)(deadline % 1000000000u)};
	pthread_mutex_lock(&v->lock);
	/* half the time for the NIC to send what the worker posted, the rest
	 * for its receive ring and the handshake */
	__atomic_store_n(&v->park_tx_deadline_ns, now + (deadline - now) / 2, __ATOMIC_RELAXED);
	__atomic_store_n(&v->park, true, __ATOMIC_RELEASE);
	uint64_t one = 1;
	if (write(v->kick_fd, &one, sizeof(one)) < 0) {
		/* a saturated counter wakes the worker as well */
	}
	while (!v->parked && pthread_cond_timedwait(&v->changed, &v->lock, &until) == 0)
		continue;
	bool parked = v->parked;
	if (!parked) {
		/* withdrawn: the worker, however late, goes on */
		__atomic_store_n(&v->park, false, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&v->changed);
	}
	pthread_mutex_unlock(&v->lock);
	return parked ? 0 : -1;
}

void vhost_unpark(struct vhost *v)
{
	pthread_mutex_lock(&v->lock);
	__atomic_store_n(&v->park, false, __ATOMIC_RELEASE);
	pthread_cond_broadcast(&v->changed);
	pthread_mutex_unlock(&v->lock);
}

int vhost_export(struct vhost *v, struct vhost_state *out)
{
	pthread_mutex_lock(&v->lock);
	bool parked = v->parked;
	if (parked)
		*out = (struct vhost_state){.ring_size = v->n, .rx_avail = v->rx_avail, .rx_used = v->rx_used,
		                            .tx_avail = v->tx_avail, .tx_used = v->tx_used};
	pthread_mutex_unlock(&v->lock);
	return parked ? 0 : -1;
}

uint64_t vhost_stranded_frames(struct vhost *v)
{
	pthread_mutex_lock(&v->lock);
	uint64_t n = v->parked ? v->stranded : 0;
	pthread_mutex_unlock(&v->lock);
	return n;
}

