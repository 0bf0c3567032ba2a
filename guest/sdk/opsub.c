/*
 * libopsub: the guest side of opsub.h.  Built with musl-gcc into
 * build/guests/libopsub.a.  Everything here runs as guest code: in opsub
 * mode a burst is one hypercall to the trusted driver; in passthrough mode
 * this code writes the NIC descriptors itself (include/nic_regs.h layout).
 */
#include "opsub.h"

#include <cpuid.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nic_ring.h"
#include "opsub_vring.h"

/* Pool buffers are this far apart, not a power of two: buffers exactly
 * 2 KiB apart all fall in the same few cache sets. */
#define BUF_STRIDE 2176u

static inline long hypercall3(long nr, long a0, long a1, long a2)
{
	register long rdi __asm__("rdi") = a0, rsi __asm__("rsi") = a1, rdx __asm__("rdx") = a2;
	long r = nr;
	__asm__ volatile("vmcall" : "+a"(r) : "r"(rdi), "r"(rsi), "r"(rdx) : "memory");
	return r;
}

static inline long hypercall(long nr, long a0, long a1) { return hypercall3(nr, a0, a1, 0); }

long opsub_console(const char *s, size_t n) { return hypercall(OPSUB_HC_CONSOLE, (long)s, (long)n); }
uint64_t opsub_clock_ns(void) { return (uint64_t)hypercall(OPSUB_HC_CLOCK, 0, 0); }
int opsub_wait(uint64_t deadline_ns) { return (int)hypercall(OPSUB_HC_WAIT, (long)deadline_ns, 0); }

int opsub_present(void)
{
	unsigned r[4];
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(0x80000002u), "c"(0));
	return memcmp(r, "opsub vi", 8) == 0;
}

struct opsub_port {
	unsigned index;
	struct opsub_net_info info;
	uint8_t *pool;              /* nbufs buffers of OPSUB_NET_BUF_SIZE */
	unsigned nbufs;
	uint64_t *free;             /* free stack of buffer addresses */
	unsigned nfree;
	unsigned rx_posted;         /* receive buffers the NIC holds */
	/* passthrough: the rings this code drives */
	struct nic_queue_regs *regs;
	struct nic_txq tx;
	struct nic_rxq rx;
	unsigned tx_since_reclaim;
	uint64_t *tx_frame;         /* buffer in each TX slot (like the trusted driver's) */
	/* paravirt: the driver side of the two virtqueues */
	struct opsub_vring vrx, vtx;
	uint16_t rx_avail, rx_seen, tx_avail, tx_seen;
	/* opsub mode: the burst request and its arrays, in guest memory */
	struct opsub_net_burst burst;
	uint64_t post[OPSUB_NET_BURST_MAX];
	uint64_t poll_ns;           /* how long opsub_port_wait polls */
};

static void pool_put(struct opsub_port *p, uint64_t addr)
{
	if (p->nfree < p->nbufs)
		p->free[p->nfree++] = addr;
}

/* How many more receive buffers to post when `posted` are out and the ring
 * takes `capacity`: at most half the pool, so a small pool still leaves
 * buffers to transmit with (every mode keeps the ring topped up on each
 * call, and a transmit-only program would otherwise lose its whole pool to
 * the receive ring). */
static unsigned rx_topup(const struct opsub_port *p, unsigned posted, unsigned capacity)
{
	unsigned target = capacity < p->nbufs / 2 ? capacity : p->nbufs / 2;
	unsigned want = target > posted ? target - posted : 0;
	return want < p->nfree ? want : p->nfree;
}

unsigned opsub_buf_alloc(struct opsub_port *p, struct opsub_buf *bufs, unsigned n)
{
	unsigned i = 0;
	for (; i < n && p->nfree; i++)
		bufs[i] = (struct opsub_buf){(uint8_t *)(uintptr_t)p->free[--p->nfree], 0};
	return i;
}

void opsub_buf_free(struct opsub_port *p, const struct opsub_buf *bufs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		pool_put(p, (uint64_t)(uintptr_t)bufs[i].data);
}

const uint8_t *opsub_port_mac(const struct opsub_port *p) { return p->info.mac; }
enum opsub_net_mode opsub_port_mode(const struct opsub_port *p) { return (enum opsub_net_mode)p->info.mode; }

/* ---- passthrough and emulated: this code is the driver --------------------- */
/*
 * Both modes keep the rings in guest memory and drive them the same way;
 * they differ in how a register is reached: passthrough writes the NIC's
 * queue page mapped into guest memory, emulated traps into the monitor for
 * every access (OPSUB_HC_NET_REG) — that is the point of emulation.
 */

static bool emulated(const struct opsub_port *p) { return p->info.mode == OPSUB_IO_EMULATED; }

#define REG(field) offsetof(struct nic_queue_regs, field)

/* The registers the NIC acts on; it may be asleep and then has to be
 * woken (nic_regs.h): passthrough asks the monitor to, with NET_KICK. */
static bool is_doorbell(size_t off) { return off == REG(tx_tail) || off == REG(rx_tail) || off == REG(control); }

static void reg_write(struct opsub_port *p, size_t off, uint64_t v, unsigned width)
{
	if (emulated(p))
		hypercall3(OPSUB_HC_NET_REG, (long)p->index, (long)(off | OPSUB_NET_REG_WRITE), (long)v);
	else if (is_doorbell(off)) {
		if (nic_doorbell_write32(p->regs, (uint32_t *)((uint8_t *)p->regs + off), (uint32_t)v))
			hypercall(OPSUB_HC_NET_KICK, (long)p->index, 0);
	} else if (width == 64)
		nic_reg_write64((uint64_t *)((uint8_t *)p->regs + off), v);
	else
		nic_reg_write32((uint32_t *)((uint8_t *)p->regs + off), (uint32_t)v);
}

static uint32_t reg_read(struct opsub_port *p, size_t off)
{
	if (emulated(p))
		return (uint32_t)hypercall3(OPSUB_HC_NET_REG, (long)p->index, (long)off, 0);
	return nic_reg_read32((uint32_t *)((uint8_t *)p->regs + off));
}

static uint64_t dev(const struct opsub_port *p, uint64_t addr) { return p->info.dev_base + addr; }
static uint64_t host(const struct opsub_port *p, uint64_t dev_addr) { return dev_addr - p->info.dev_base; }

static void pt_refill(struct opsub_port *p)
{
	unsigned capacity = p->rx.size - 1, free = nic_rxq_free(&p->rx);
	unsigned n = rx_topup(p, capacity - free, capacity);
	for (unsigned i = 0; i < n; i++)
		nic_rxq_post(&p->rx, dev(p, p->free[--p->nfree]), OPSUB_NET_BUF_SIZE);
	if (n)
		reg_write(p, REG(rx_tail), p->rx.tail, 32);
}

static int pt_open(struct opsub_port *p)
{
	uint32_t size = p->info.ring_size;
	uint8_t *rings = mmap(NULL, 2 * (size_t)size * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->tx_frame = calloc(size, sizeof(uint64_t));
	if (rings == MAP_FAILED || !p->tx_frame)
		return -ENOMEM;
	p->regs = (struct nic_queue_regs *)(uintptr_t)p->info.regs;
	p->tx = (struct nic_txq){.ring = (struct nic_tx_desc *)rings, .size = size};
	p->rx = (struct nic_rxq){.ring = (struct nic_rx_desc *)(rings + (size_t)size * 16), .size = size};
	reg_write(p, REG(control), 0, 32);   /* enable latches on 0 -> 1 */
	reg_write(p, REG(tx_ring_base), dev(p, (uint64_t)(uintptr_t)p->tx.ring), 64);
	reg_write(p, REG(rx_ring_base), dev(p, (uint64_t)(uintptr_t)p->rx.ring), 64);
	reg_write(p, REG(tx_ring_size), size, 32);
	reg_write(p, REG(rx_ring_size), size, 32);
	reg_write(p, REG(tx_tail), 0, 32);
	reg_write(p, REG(rx_tail), 0, 32);
	reg_write(p, REG(control), NIC_QCTL_TX_EN | NIC_QCTL_RX_EN, 32);
	pt_refill(p);
	return 0;
}

static void pt_reclaim(struct opsub_port *p)
{
	uint32_t head = reg_read(p, REG(tx_head));
	for (; p->tx.clean != head; p->tx.clean = (p->tx.clean + 1) & (p->tx.size - 1))
		pool_put(p, p->tx_frame[p->tx.clean]);
}

/* Like the trusted driver (opsub mode), finished buffers are reaped every
 * RECLAIM_EVERY frames, when the ring is short of room, or when nothing is
 * sent (the program may be out of buffers): each look costs a cache miss. */
#define RECLAIM_EVERY 128u

static unsigned pt_tx(struct opsub_port *p, struct opsub_buf *bufs, unsigned n)
{
	if (!n || p->tx_since_reclaim >= RECLAIM_EVERY || nic_txq_free(&p->tx) < n) {
		pt_reclaim(p);
		p->tx_since_reclaim = 0;
	}
	unsigned room = nic_txq_free(&p->tx), i = 0;
	for (; i < n && i < room; i++) {
		p->tx_frame[p->tx.tail] = (uint64_t)(uintptr_t)bufs[i].data;
		nic_txq_post(&p->tx, dev(p, (uint64_t)(uintptr_t)bufs[i].data), (uint16_t)bufs[i].len,
		             NIC_TXD_CMD_EOP, 0);
	}
	if (i)
		reg_write(p, REG(tx_tail), p->tx.tail, 32);
	p->tx_since_reclaim += i;
	return i;
}

static unsigned pt_rx(struct opsub_port *p, struct opsub_buf *bufs, unsigned max)
{
	unsigned ready = (reg_read(p, REG(rx_head)) - p->rx.next) & (p->rx.size - 1), n = 0;
	struct nic_rx_desc d;
	uint32_t index;
	while (n < max && ready-- && nic_rxq_poll(&p->rx, &index, &d)) {
		if ((d.writeback >> 32) & NIC_RXD_STA_ERR)
			pool_put(p, host(p, d.addr));
		else
			bufs[n++] = (struct opsub_buf){(uint8_t *)(uintptr_t)host(p, d.addr), (uint16_t)d.writeback};
	}
	pt_refill(p);
	return n;
}

/* ---- paravirt: a virtio driver, kicking through a hypercall ---------------- */
/*
 * The backend completes buffers in order (VIRTIO_F_IN_ORDER behaviour), so
 * descriptor i of a queue always belongs to avail entry i modulo the size.
 */

static void pv_kick(struct opsub_port *p, const struct opsub_vring *q)
{
	if (!(opsub_vring_load(q->used_flags) & OPSUB_VRING_USED_F_NO_NOTIFY))
		hypercall(OPSUB_HC_NET_KICK, (long)p->index, 0);
}

static void pv_refill(struct opsub_port *p)
{
	struct opsub_vring *q = &p->vrx;
	unsigned added = 0, n = rx_topup(p, (uint16_t)(p->rx_avail - p->rx_seen), q->n);
	for (; added < n; added++) {
		uint16_t id = p->rx_avail % q->n;
		q->desc[id] = (struct opsub_vring_desc){p->free[--p->nfree], OPSUB_NET_BUF_SIZE, OPSUB_VRING_DESC_F_WRITE, 0};
		q->avail_ring[id] = id;
		p->rx_avail++;
	}
	if (added) {
		opsub_vring_store(q->avail_idx, p->rx_avail);
		pv_kick(p, q);
	}
}

static int pv_open(struct opsub_port *p)
{
	uint8_t *base = (uint8_t *)(uintptr_t)p->info.shared;
	opsub_vring_view(&p->vrx, base, p->info.ring_size);
	opsub_vring_view(&p->vtx, base + OPSUB_VRING_SIZE(p->info.ring_size), p->info.ring_size);
	/* polling: no interrupts until opsub_port_wait asks for them */
	opsub_vring_store(p->vrx.avail_flags, OPSUB_VRING_AVAIL_F_NO_INTERRUPT);
	pv_refill(p);
	return 0;
}

static void pv_reclaim(struct opsub_port *p)
{
	struct opsub_vring *q = &p->vtx;
	for (uint16_t used = opsub_vring_load(q->used_idx); p->tx_seen != used; p->tx_seen++)
		pool_put(p, q->desc[q->used_ring[p->tx_seen % q->n].id % q->n].addr);
}

/* The transmit queue is full, or the caller is out of buffers while some
 * are in flight: like a virtio driver that stops its queue, ask for an
 * interrupt and sleep until the backend returns buffers (the backend may
 * need this CPU to do so). */
static void pv_wait_room(struct opsub_port *p)
{
	struct opsub_vring *q = &p->vtx;
	opsub_vring_store(p->vrx.avail_flags, 0);
	if (opsub_vring_load(q->used_idx) == p->tx_seen)
		opsub_wait(opsub_clock_ns() + 1000000);
	opsub_vring_store(p->vrx.avail_flags, OPSUB_VRING_AVAIL_F_NO_INTERRUPT);
	pv_reclaim(p);
}

static unsigned pv_tx(struct opsub_port *p, struct opsub_buf *bufs, unsigned n)
{
	struct opsub_vring *q = &p->vtx;
	pv_reclaim(p);
	uint16_t in_flight = (uint16_t)(p->tx_avail - p->tx_seen);
	if (in_flight == q->n || (!n && !p->nfree && in_flight))
		pv_wait_room(p);
	unsigned i = 0;
	for (; i < n && (uint16_t)(p->tx_avail - p->tx_seen) < q->n; i++) {
		uint16_t id = p->tx_avail % q->n;
		q->desc[id] = (struct opsub_vring_desc){(uint64_t)(uintptr_t)bufs[i].data, bufs[i].len, 0, 0};
		q->avail_ring[id] = id;
		p->tx_avail++;
	}
	if (i) {
		opsub_vring_store(q->avail_idx, p->tx_avail);
		pv_kick(p, q);
	}
	return i;
}

static unsigned pv_rx(struct opsub_port *p, struct opsub_buf *bufs, unsigned max)
{
	struct opsub_vring *q = &p->vrx;
	unsigned n = 0;
	pv_reclaim(p);
	for (uint16_t used = opsub_vring_load(q->used_idx); n < max && p->rx_seen != used; p->rx_seen++) {
		const struct opsub_vring_used_elem *e = &q->used_ring[p->rx_seen % q->n];
		uint64_t addr = q->desc[e->id % q->n].addr;
		if (e->len)
			bufs[n++] = (struct opsub_buf){(uint8_t *)(uintptr_t)addr, e->len};
		else
			pool_put(p, addr);
	}
	pv_refill(p);
	return n;
}

/* ---- opsub mode: one hypercall per burst ----------------------------------- */

/* opsub_buf has the ABI's packet layout, so bursts use the caller's arrays. */
_Static_assert(sizeof(struct opsub_buf) == sizeof(struct opsub_net_pkt) &&
               offsetof(struct opsub_buf, data) == offsetof(struct opsub_net_pkt, addr) &&
               offsetof(struct opsub_buf, len) == offsetof(struct opsub_net_pkt, len), "opsub_buf layout");

/* One hypercall: sends tx[0..tx_n), fills the receive ring back up from the
 * pool, takes finished buffers back straight onto the pool's free stack and
 * receives up to rx_room frames into rx.  Returns the frames sent. */
static unsigned op_burst(struct opsub_port *p, struct opsub_buf *tx, unsigned tx_n, struct opsub_buf *rx,
                         unsigned rx_room)
{
	struct opsub_net_burst *b = &p->burst;
	unsigned post = 0, want = rx_topup(p, p->rx_posted, p->info.ring_size - 1);
	while (post < want && post < OPSUB_NET_BURST_MAX)
		p->post[post++] = p->free[--p->nfree];
	unsigned room = p->nbufs - p->nfree < OPSUB_NET_BURST_MAX ? p->nbufs - p->nfree : OPSUB_NET_BURST_MAX;
	*b = (struct opsub_net_burst){
		.tx = (uint64_t)(uintptr_t)tx, .post = (uint64_t)(uintptr_t)p->post,
		.rx = (uint64_t)(uintptr_t)rx, .done = (uint64_t)(uintptr_t)&p->free[p->nfree],
		.tx_n = tx_n, .post_n = post, .rx_n = rx_room, .done_n = room,
	};
	long rc = hypercall(OPSUB_HC_NET_BURST, (long)p->index, (long)b);
	if (rc < 0 && rc != -EINVAL)
		b->tx_n = b->post_n = b->rx_n = b->done_n = 0;
	p->nfree += b->done_n;
	for (unsigned i = b->post_n; i < post; i++)
		pool_put(p, p->post[i]);
	p->rx_posted = b->rx_posted;
	return b->tx_n;
}

static bool drives_rings(const struct opsub_port *p)
{
	return p->info.mode == OPSUB_IO_PASSTHROUGH || p->info.mode == OPSUB_IO_EMULATED;
}

unsigned opsub_tx_burst(struct opsub_port *p, struct opsub_buf *bufs, unsigned n)
{
	if (drives_rings(p))
		return pt_tx(p, bufs, n);
	if (p->info.mode == OPSUB_IO_PARAVIRT)
		return pv_tx(p, bufs, n);
	return op_burst(p, bufs, n < OPSUB_NET_BURST_MAX ? n : OPSUB_NET_BURST_MAX, bufs, 0);
}

unsigned opsub_rx_burst(struct opsub_port *p, struct opsub_buf *bufs, unsigned max)
{
	if (drives_rings(p))
		return pt_rx(p, bufs, max);
	if (p->info.mode == OPSUB_IO_PARAVIRT)
		return pv_rx(p, bufs, max);
	op_burst(p, bufs, 0, bufs, max < OPSUB_NET_BURST_MAX ? max : OPSUB_NET_BURST_MAX);
	return p->burst.rx_n;
}

/* Whether a frame waits in a ring the guest drives itself. */
static bool rx_waiting(struct opsub_port *p)
{
	if (drives_rings(p))
		return reg_read(p, REG(rx_head)) != p->rx.next;
	return opsub_vring_load(p->vrx.used_idx) != p->rx_seen;
}

/* Polls for up to busy ns, then sleeps until a frame or the deadline. */
static int wait_for_frame(struct opsub_port *p, uint64_t now, uint64_t deadline, uint64_t busy)
{
	if (p->info.mode == OPSUB_IO_OPSUB)   /* the trusted driver polls */
		return (int)hypercall(OPSUB_HC_WAIT, (long)deadline, (long)busy);
	for (uint64_t until = now + busy; !rx_waiting(p) && opsub_clock_ns() < until;)
		__builtin_ia32_pause();
	if (drives_rings(p)) {
		/* arm, then look once more: a frame that came before arming
		 * would not interrupt */
		reg_write(p, REG(irq_arm), 1, 32);
		if (reg_read(p, REG(rx_head)) != p->rx.next)
			return 1;
	}
	if (p->info.mode == OPSUB_IO_PARAVIRT) {
		opsub_vring_store(p->vrx.avail_flags, 0);
		int r = rx_waiting(p) ? 1 : opsub_wait(deadline);
		opsub_vring_store(p->vrx.avail_flags, OPSUB_VRING_AVAIL_F_NO_INTERRUPT);
		return r;
	}
	return opsub_wait(deadline);
}

/* The poll adapts: a frame found while polling doubles the next poll (up
 * to OPSUB_PORT_BUSY_POLL_NS), a sleep halves it (down to
 * OPSUB_PORT_BUSY_POLL_MIN_NS).  Alone on a core a receiving guest keeps
 * polling; guests sharing a core stop spinning in each other's time. */
int opsub_port_wait(struct opsub_port *p, uint64_t timeout_ns)
{
	uint64_t now = opsub_clock_ns(), deadline = now + timeout_ns;
	uint64_t busy = timeout_ns < p->poll_ns ? timeout_ns : p->poll_ns;
	int r = wait_for_frame(p, now, deadline, busy);
	if (r == 1 && opsub_clock_ns() - now <= busy)
		p->poll_ns = p->poll_ns * 2 < OPSUB_PORT_BUSY_POLL_NS ? p->poll_ns * 2 : OPSUB_PORT_BUSY_POLL_NS;
	else
		p->poll_ns = p->poll_ns / 2 > OPSUB_PORT_BUSY_POLL_MIN_NS ? p->poll_ns / 2 : OPSUB_PORT_BUSY_POLL_MIN_NS;
	return r;
}

int opsub_port_fd(struct opsub_port *p)
{
	struct opsub_buf none[1];
	if (!drives_rings(p) && p->info.mode != OPSUB_IO_PARAVIRT)
		op_burst(p, none, 0, none, 0);   /* posts receive buffers: an idle port has none yet */
	long fd = hypercall(OPSUB_HC_PORT_FD, (long)p->index, 0);
	if (fd < 0) {
		errno = (int)-fd;
		return -1;
	}
	return (int)fd;
}

int opsub_port_stats(struct opsub_port *p, struct opsub_net_stats *s)
{
	return (int)hypercall(OPSUB_HC_NET_STATS, (long)p->index, (long)s);
}

int opsub_has_prefetchw;

struct opsub_port *opsub_port_open(unsigned index, unsigned nbufs)
{
	unsigned a, b, c, d;
	opsub_has_prefetchw = __get_cpuid(0x80000001, &a, &b, &c, &d) && (c >> 8 & 1);
	struct opsub_port *p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->index = index;
	p->poll_ns = OPSUB_PORT_BUSY_POLL_NS;
	long rc = hypercall(OPSUB_HC_NET_OPEN, (long)index, (long)&p->info);
	if (rc < 0) {
		free(p);
		errno = (int)-rc;
		return NULL;
	}
	p->nbufs = nbufs ? nbufs : 4096;
	p->pool = mmap(NULL, (size_t)p->nbufs * BUF_STRIDE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->free = malloc(p->nbufs * sizeof(uint64_t));
	if (p->pool == MAP_FAILED || !p->free) {
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned i = p->nbufs; i-- > 0;)
		p->free[p->nfree++] = (uint64_t)(uintptr_t)(p->pool + (size_t)i * BUF_STRIDE);
	if ((drives_rings(p) && (rc = pt_open(p)) < 0) || (p->info.mode == OPSUB_IO_PARAVIRT && (rc = pv_open(p)) < 0)) {
		errno = (int)-rc;
		return NULL;
	}
	return p;
}
