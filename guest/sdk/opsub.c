/*
 * libopsub: the guest side of opsub.h.  Built with musl-gcc into
 * build/guests/libopsub.a.  Everything here runs as guest code: in opsub
 * mode a burst is one hypercall to the trusted driver; in passthrough mode
 * this code writes the NIC descriptors itself (nic/nic_regs.h layout).
 */
#include "opsub.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "nic/nic_regs.h"

static inline long hypercall(long nr, long a0, long a1)
{
	register long rdi __asm__("rdi") = a0, rsi __asm__("rsi") = a1;
	long r = nr;
	__asm__ volatile("vmcall" : "+a"(r) : "r"(rdi), "r"(rsi) : "memory");
	return r;
}

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
	struct nic_tx_desc *tx;
	struct nic_rx_desc *rx;
	uint64_t *tx_buf, *rx_buf;  /* buffer address per slot */
	uint32_t tx_tail, tx_clean, rx_tail, rx_clean;
	/* opsub mode: the burst request and its arrays, in guest memory */
	struct opsub_net_burst burst;
	struct opsub_net_pkt pkts[OPSUB_NET_BURST_MAX];
	uint64_t post[OPSUB_NET_BURST_MAX];
	uint64_t done[OPSUB_NET_BURST_MAX];
};

static void pool_put(struct opsub_port *p, uint64_t addr)
{
	if (p->nfree < p->nbufs)
		p->free[p->nfree++] = addr;
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

/* ---- passthrough: this code is the driver ---------------------------------- */

static uint64_t dev(const struct opsub_port *p, const void *a) { return p->info.dev_base + (uint64_t)(uintptr_t)a; }

static void pt_refill(struct opsub_port *p)
{
	uint32_t size = p->info.ring_size, start = p->rx_tail;
	while (p->rx_tail - p->rx_clean < size - 1 && p->nfree) {
		uint32_t slot = p->rx_tail & (size - 1);
		uint64_t b = p->free[--p->nfree];
		p->rx[slot] = (struct nic_rx_desc){.addr = p->info.dev_base + b, .length = OPSUB_NET_BUF_SIZE};
		p->rx_buf[slot] = b;
		p->rx_tail++;
	}
	if (p->rx_tail != start)
		nic_reg_write32(&p->regs->rx_tail, p->rx_tail & (size - 1));
}

static int pt_open(struct opsub_port *p)
{
	uint32_t size = p->info.ring_size;
	void *rings = mmap(NULL, 2 * (size_t)size * 16, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->tx_buf = calloc(size, sizeof(uint64_t));
	p->rx_buf = calloc(size, sizeof(uint64_t));
	if (rings == MAP_FAILED || !p->tx_buf || !p->rx_buf)
		return -ENOMEM;
	p->regs = (struct nic_queue_regs *)(uintptr_t)p->info.regs;
	p->tx = rings;
	p->rx = (struct nic_rx_desc *)((uint8_t *)rings + (size_t)size * 16);
	nic_reg_write32(&p->regs->control, 0);
	nic_reg_write64(&p->regs->tx_ring_base, dev(p, p->tx));
	nic_reg_write64(&p->regs->rx_ring_base, dev(p, p->rx));
	nic_reg_write32(&p->regs->tx_ring_size, size);
	nic_reg_write32(&p->regs->rx_ring_size, size);
	nic_reg_write32(&p->regs->tx_tail, 0);
	nic_reg_write32(&p->regs->rx_tail, 0);
	nic_reg_write32(&p->regs->control, NIC_QCTL_TX_EN | NIC_QCTL_RX_EN);
	pt_refill(p);
	return 0;
}

static void pt_reclaim(struct opsub_port *p)
{
	uint32_t size = p->info.ring_size;
	while (p->tx_clean != p->tx_tail &&
	       (__atomic_load_n(&p->tx[p->tx_clean & (size - 1)].status, __ATOMIC_ACQUIRE) & NIC_TXD_STA_DD))
		pool_put(p, p->tx_buf[p->tx_clean++ & (size - 1)]);
}

static unsigned pt_tx(struct opsub_port *p, struct opsub_buf *bufs, unsigned n)
{
	uint32_t size = p->info.ring_size;
	unsigned i = 0;
	pt_reclaim(p);
	for (; i < n && p->tx_tail - p->tx_clean < size - 1; i++) {
		uint32_t slot = p->tx_tail & (size - 1);
		p->tx[slot] = (struct nic_tx_desc){.addr = dev(p, bufs[i].data), .length = (uint16_t)bufs[i].len,
		                                   .cmd = NIC_TXD_CMD_EOP | NIC_TXD_CMD_RS};
		p->tx_buf[slot] = (uint64_t)(uintptr_t)bufs[i].data;
		p->tx_tail++;
	}
	if (i)
		nic_reg_write32(&p->regs->tx_tail, p->tx_tail & (size - 1));
	return i;
}

static unsigned pt_rx(struct opsub_port *p, struct opsub_buf *bufs, unsigned max)
{
	uint32_t size = p->info.ring_size;
	unsigned n = 0;
	pt_reclaim(p);
	while (n < max && p->rx_clean != p->rx_tail) {
		uint32_t slot = p->rx_clean & (size - 1);
		uint64_t wb = __atomic_load_n(&p->rx[slot].writeback, __ATOMIC_ACQUIRE);
		if (!((wb >> 32) & NIC_RXD_STA_DD))
			break;
		p->rx_clean++;
		if ((wb >> 32) & NIC_RXD_STA_ERR)
			pool_put(p, p->rx_buf[slot]);
		else
			bufs[n++] = (struct opsub_buf){(uint8_t *)(uintptr_t)p->rx_buf[slot], (uint16_t)wb};
	}
	pt_refill(p);
	return n;
}

/* ---- opsub mode: one hypercall per burst ----------------------------------- */

/* Runs a burst with tx_n frames already in p->pkts; fills the receive ring
 * back up and takes back what the port is done with.  Returns frames sent. */
static unsigned op_burst(struct opsub_port *p, unsigned tx_n, unsigned rx_room)
{
	struct opsub_net_burst *b = &p->burst;
	unsigned want = p->info.ring_size - 1 > p->rx_posted ? p->info.ring_size - 1 - p->rx_posted : 0;
	unsigned post = 0;
	while (post < want && post < OPSUB_NET_BURST_MAX && p->nfree)
		p->post[post++] = p->free[--p->nfree];
	*b = (struct opsub_net_burst){
		.tx = (uint64_t)(uintptr_t)p->pkts, .post = (uint64_t)(uintptr_t)p->post,
		.rx = (uint64_t)(uintptr_t)p->pkts, .done = (uint64_t)(uintptr_t)p->done,
		.tx_n = tx_n, .post_n = post, .rx_n = rx_room, .done_n = OPSUB_NET_BURST_MAX,
	};
	long rc = hypercall(OPSUB_HC_NET_BURST, (long)p->index, (long)b);
	if (rc < 0 && rc != -EINVAL)
		b->tx_n = b->post_n = b->rx_n = b->done_n = 0;
	for (unsigned i = b->post_n; i < post; i++)
		pool_put(p, p->post[i]);
	for (unsigned i = 0; i < b->done_n; i++)
		pool_put(p, p->done[i]);
	p->rx_posted = b->rx_posted;
	return b->tx_n;
}

unsigned opsub_tx_burst(struct opsub_port *p, struct opsub_buf *bufs, unsigned n)
{
	if (p->info.mode == OPSUB_IO_PASSTHROUGH)
		return pt_tx(p, bufs, n);
	if (n > OPSUB_NET_BURST_MAX)
		n = OPSUB_NET_BURST_MAX;
	for (unsigned i = 0; i < n; i++)
		p->pkts[i] = (struct opsub_net_pkt){(uint64_t)(uintptr_t)bufs[i].data, bufs[i].len, 0};
	return op_burst(p, n, 0);
}

unsigned opsub_rx_burst(struct opsub_port *p, struct opsub_buf *bufs, unsigned max)
{
	if (p->info.mode == OPSUB_IO_PASSTHROUGH)
		return pt_rx(p, bufs, max);
	op_burst(p, 0, max < OPSUB_NET_BURST_MAX ? max : OPSUB_NET_BURST_MAX);
	for (unsigned i = 0; i < p->burst.rx_n; i++)
		bufs[i] = (struct opsub_buf){(uint8_t *)(uintptr_t)p->pkts[i].addr, p->pkts[i].len};
	return p->burst.rx_n;
}

int opsub_port_wait(struct opsub_port *p, uint64_t timeout_ns)
{
	if (p->info.mode == OPSUB_IO_PASSTHROUGH) {
		/* arm, then look once more: a frame that came before arming
		 * would not interrupt */
		nic_reg_write32(&p->regs->irq_arm, 1);
		if (p->rx_clean != p->rx_tail &&
		    (__atomic_load_n(&p->rx[p->rx_clean & (p->info.ring_size - 1)].status, __ATOMIC_ACQUIRE) &
		     NIC_RXD_STA_DD))
			return 1;
	}
	return opsub_wait(opsub_clock_ns() + timeout_ns);
}

int opsub_port_stats(struct opsub_port *p, struct opsub_net_stats *s)
{
	return (int)hypercall(OPSUB_HC_NET_STATS, (long)p->index, (long)s);
}

struct opsub_port *opsub_port_open(unsigned index, unsigned nbufs)
{
	struct opsub_port *p = calloc(1, sizeof(*p));
	if (!p) {
		errno = ENOMEM;
		return NULL;
	}
	p->index = index;
	long rc = hypercall(OPSUB_HC_NET_OPEN, (long)index, (long)&p->info);
	if (rc < 0) {
		free(p);
		errno = (int)-rc;
		return NULL;
	}
	p->nbufs = nbufs ? nbufs : 4096;
	p->pool = mmap(NULL, (size_t)p->nbufs * OPSUB_NET_BUF_SIZE, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p->free = malloc(p->nbufs * sizeof(uint64_t));
	if (p->pool == MAP_FAILED || !p->free) {
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned i = p->nbufs; i-- > 0;)
		p->free[p->nfree++] = (uint64_t)(uintptr_t)(p->pool + (size_t)i * OPSUB_NET_BUF_SIZE);
	if (p->info.mode == OPSUB_IO_PASSTHROUGH && (rc = pt_open(p)) < 0) {
		errno = (int)-rc;
		return NULL;
	}
	return p;
}
