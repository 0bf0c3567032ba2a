/*
 * The host port: one NIC queue pair driven by the daemon itself and bridged
 * to a TAP interface, so that the host's own traffic shares the NIC with the
 * guests (ping a guest from the host, tcpdump the host side).  Frames the
 * NIC steers to the host queue are written to the TAP; frames the host
 * sends on the TAP are copied into the queue's buffers and transmitted.
 * Its rings and buffers live in device window 0.
 */
#include <errno.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "nic_ring.h"
#include "util/parse.h"

#define HOST_WINDOW 0
#define BATCH 32

struct host_port {
	struct nic *nic;
	struct wire *tap;
	unsigned queue, size;
	struct nic_queue_regs *regs;
	uint8_t *mem;                 /* rings, then 2 * size buffers */
	size_t mem_size;
	struct nic_txq tx;
	struct nic_rxq rx;
	int filter;
	pthread_t thread;
	volatile bool stop;
};

/* Buffer i of the host port (RX: 0..size-1, TX: size..2*size-1). */
static uint64_t buf_off(const struct host_port *h, unsigned i)
{
	return 2 * (uint64_t)h->size * 16 + (uint64_t)i * NIC_MAX_FRAME;
}

static void post_rx(struct host_port *h)
{
	unsigned n = 0, room = nic_rxq_free(&h->rx);
	for (; n < room; n++)
		nic_rxq_post(&h->rx, NIC_DEV_ADDR(HOST_WINDOW, buf_off(h, h->rx.tail)), NIC_MAX_FRAME);
	if (n)
		nic_rxq_kick(&h->rx);
}

/* NIC -> TAP; returns frames moved. */
static unsigned to_host(struct host_port *h)
{
	struct wire_frame f[BATCH];
	struct nic_rx_desc d;
	uint32_t index;
	unsigned n = 0, ready = nic_rxq_ready(&h->rx);
	while (n < BATCH && ready-- && nic_rxq_poll(&h->rx, &index, &d))
		if (!((d.writeback >> 32) & NIC_RXD_STA_ERR))
			f[n++] = (struct wire_frame){.data = h->mem + buf_off(h, index), .len = (uint16_t)d.writeback};
	if (n)
		h->tap->ops->tx_burst(h->tap, f, n);
	post_rx(h);
	return n;
}

/* TAP -> NIC; returns frames moved. */
static unsigned from_host(struct host_port *h)
{
	nic_txq_reap(&h->tx);
	struct wire_frame f[BATCH];
	unsigned room = nic_txq_free(&h->tx);
	unsigned n = h->tap->ops->rx_peek(h->tap, f, room < BATCH ? room : BATCH);
	for (unsigned i = 0; i < n; i++) {
		uint64_t off = buf_off(h, h->size + h->tx.tail);
		if (h->tap->ops->rx_write)
			h->tap->ops->rx_write(h->tap, &f[i], h->mem + off);
		else
			memcpy(h->mem + off, f[i].data, f[i].len);
		nic_txq_post(&h->tx, NIC_DEV_ADDR(HOST_WINDOW, off), (uint16_t)f[i].len, NIC_TXD_CMD_EOP, 0);
	}
	if (n) {
		h->tap->ops->rx_consume(h->tap, n);
		nic_txq_kick(&h->tx);
	}
	return n;
}

/* Nothing moved: sleep until the TAP has a frame or the NIC interrupts
 * (arm, then look once more: a frame before the arm would not interrupt),
 * at most IDLE_WAIT_MS so that a stop is noticed. With the TX ring full
 * the TAP stays readable, so then it naps instead. */
#define IDLE_WAIT_MS 100
static void wait_for_work(struct host_port *h)
{
	if (!nic_txq_free(&h->tx)) {
		struct timespec nap = {0, 100000};
		nanosleep(&nap, NULL);
		return;
	}
	int irq = nic_queue_irq_fd(h->nic, h->queue);
	nic_reg_write32(&h->regs->irq_arm, 1);
	if (nic_rxq_ready(&h->rx))
		return;
	struct pollfd p[2] = {{.fd = h->tap->ops->rx_fd(h->tap), .events = POLLIN}, {.fd = irq, .events = POLLIN}};
	uint64_t drain;
	if (poll(p, 2, IDLE_WAIT_MS) > 0 && (p[1].revents & POLLIN) && read(irq, &drain, sizeof(drain)) < 0) {
		/* nothing to do: the counter is simply empty */
	}
}

static void *bridge(void *arg)
{
	struct host_port *h = arg;
	while (!h->stop) {
		if (to_host(h) + from_host(h) == 0)
			wait_for_work(h);
	}
	return NULL;
}

/* Gives the TAP interface its address, as `ip addr add` would. */
static int tap_address(const char *name, const char *prefix)
{
	uint32_t addr, mask;
	struct ifreq ifr;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;
	if (!parse_ipv4_prefix(prefix, &addr, &mask))
		return -1;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	sin->sin_family = AF_INET;
	sin->sin_addr.s_addr = htonl(addr);
	int rc = s >= 0 ? ioctl(s, SIOCSIFADDR, &ifr) : -1;
	sin->sin_addr.s_addr = htonl(mask);
	if (rc == 0)
		rc = ioctl(s, SIOCSIFNETMASK, &ifr);
	if (s >= 0)
		close(s);
	return rc;
}

static int tap_mac(const char *name, uint8_t mac[6])
{
	struct ifreq ifr;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	int rc = s >= 0 ? ioctl(s, SIOCGIFHWADDR, &ifr) : -1;
	if (s >= 0)
		close(s);
	memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return rc;
}

struct host_port *host_port_start(struct nic *nic, unsigned queue, const char *tap, const char *ip,
                                  unsigned ring_size, char *err, size_t errlen)
{
	char spec[64];
	struct host_port *h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->nic = nic;
	h->queue = queue;
	h->size = ring_size;
	h->filter = -1;
	snprintf(spec, sizeof(spec), "tap:%s", tap);
	h->tap = wire_open(spec, err, errlen);
	if (!h->tap)
		goto fail;
	if (ip && tap_address(tap, ip)) {
		snprintf(err, errlen, "host port: cannot give %s the address %s: %s", tap, ip, strerror(errno));
		goto fail;
	}
	h->mem_size = buf_off(h, 2 * ring_size);
	h->mem = mmap(NULL, h->mem_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->mem == MAP_FAILED) {
		h->mem = NULL;
		snprintf(err, errlen, "host port: out of memory");
		goto fail;
	}
	if (nic_window_map(nic, HOST_WINDOW, h->mem, h->mem_size, err, errlen))
		goto fail;
	h->regs = nic_queue_regs(nic, queue);
	nic_queue_reset(nic, queue, NULL, 0);
	nic_queue_set_admin(nic, queue, true, NULL, 0);
	int doorbell = nic_queue_doorbell_fd(nic, queue);
	nic_txq_start(&h->tx, h->regs, (struct nic_tx_desc *)h->mem, NIC_DEV_ADDR(HOST_WINDOW, 0), ring_size, doorbell);
	nic_rxq_start(&h->rx, h->regs, (struct nic_rx_desc *)(h->mem + (size_t)ring_size * 16),
	              NIC_DEV_ADDR(HOST_WINDOW, (uint64_t)ring_size * 16), ring_size, doorbell);
	post_rx(h);
	struct nic_filter f = {.vlan = NIC_VLAN_ANY, .queue = (uint16_t)queue, .flags = NIC_FILTER_BROADCAST};
	if (tap_mac(tap, f.mac)) {
		snprintf(err, errlen, "host port: cannot read the MAC of %s", tap);
		goto fail;
	}
	h->filter = nic_filter_add(nic, &f, err, errlen);
	if (h->filter < 0 || pthread_create(&h->thread, NULL, bridge, h)) {
		if (h->filter >= 0)
			snprintf(err, errlen, "host port: cannot start its thread");
		goto fail;
	}
	return h;
fail:
	h->thread = 0;
	host_port_stop(h);
	return NULL;
}

void host_port_stop(struct host_port *h)
{
	if (!h)
		return;
	if (h->thread) {
		h->stop = true;
		pthread_join(h->thread, NULL);
	}
	if (h->filter >= 0)
		nic_filter_clear(h->nic, (unsigned)h->filter, NULL, 0);
	nic_queue_set_admin(h->nic, h->queue, false, NULL, 0);
	nic_queue_reset(h->nic, h->queue, NULL, 0);
	if (h->mem) {
		nic_window_unmap(h->nic, HOST_WINDOW, NULL, 0);
		munmap(h->mem, h->mem_size);
	}
	if (h->tap)
		wire_close(h->tap);
	free(h);
}
