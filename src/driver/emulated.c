/*
 * Emulated mode: classic device emulation.  The guest drives a NIC queue
 * page that exists only here (the layout of nic_regs.h); every register
 * access is a hypercall (a trap into the monitor), and the monitor performs
 * it: the guest's rings live in guest memory and hold guest addresses, and
 * the monitor copies each frame between the guest's buffer and a copy
 * buffer of its own that it posts on the real NIC queue.  Descriptors are
 * "done" for the guest once their data is copied.
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "driver/drv.h"
#include "monitor/monitor.h"

struct emu_ring {
	uint64_t base;            /* guest address of the ring */
	uint32_t size;
	uint32_t tail;            /* written by the guest */
	uint32_t head;            /* next guest descriptor to take */
	bool on;
};

static struct {
	struct emu_ring tx, rx;
	uint64_t tx_base, rx_base;
	uint32_t tx_size, rx_size, control;
} emu;

/* Real RX copy buffers are LINK_COPY_BUFS/2 .. ; TX ones 0 .. */
#define RX_COPY(i) ((LINK_COPY_BUFS / 2) + (i))

int emulated_open(struct monitor *m)
{
	(void)m;
	drv.nq = 1;
	if (queue_up(0, drv.link.queue[0], true))
		return -1;
	struct nic_rxq *r = &drv.q[0].rx;
	for (unsigned i = 0; i < r->size - 1; i++)
		nic_rxq_post(r, copy_dev(RX_COPY(i)), OPSUB_NET_BUF_SIZE);
	nic_rxq_kick(r);
	return 0;
}

/* A ring the guest enables: it must lie in its writable memory. */
static bool latch(struct monitor *m, struct emu_ring *ring, uint64_t base, uint32_t size)
{
	if (size < NIC_RING_MIN || size > NIC_RING_MAX || (size & (size - 1)) || base % 16 ||
	    !gm_access_ok(&m->gm, base, (uint64_t)size * 16, GP_W))
		return false;
	*ring = (struct emu_ring){.base = base, .size = size, .on = true};
	return true;
}

/* Copies frames the guest has queued onto the real queue. */
static void tx_process(struct monitor *m)
{
	struct nic_txq *t = &drv.q[0].tx;
	nic_txq_reap(t);
	unsigned posted = 0;
	while (emu.tx.on && emu.tx.head != emu.tx.tail && nic_txq_free(t)) {
		uint64_t at = emu.tx.base + (uint64_t)emu.tx.head * 16;
		struct nic_tx_desc d;
		if (gm_read(&m->gm, &d, at, sizeof(d)))
			break;
		/* the errors a NIC would give for this descriptor (nic.md) */
		uint8_t status = NIC_TXD_STA_DD, errors =
			!(d.cmd & NIC_TXD_CMD_EOP) ? NIC_DESC_ERR_FORMAT
			: d.length < NIC_MIN_FRAME || d.length > NIC_MAX_FRAME ? NIC_DESC_ERR_LENGTH
			: !tx_buffer_ok(&m->gm, d.addr, d.length) ? NIC_DESC_ERR_DMA : 0;
		if (!errors) {
			uint64_t dev = copy_dev(t->tail);
			gm_read(&m->gm, copy_host(dev), d.addr, d.length);
			nic_txq_post(t, dev, d.length, NIC_TXD_CMD_EOP, 0);
			posted++;
		} else {
			status |= NIC_TXD_STA_ERR;
			drv.tx_refused++;
		}
		uint8_t wb[2] = {status, errors};
		gm_write(&m->gm, at + offsetof(struct nic_tx_desc, status), wb, sizeof(wb));
		emu.tx.head = (emu.tx.head + 1) & (emu.tx.size - 1);
	}
	if (posted)
		nic_txq_kick(t);
}

/* Copies received frames into the buffers the guest has posted. */
static void rx_process(struct monitor *m)
{
	struct nic_rxq *r = &drv.q[0].rx;
	unsigned ready = nic_rxq_ready(r), reposted = 0;
	struct nic_rx_desc real;
	uint32_t index;
	while (emu.rx.on && emu.rx.head != emu.rx.tail && ready--) {
		uint64_t at = emu.rx.base + (uint64_t)emu.rx.head * 16;
		struct nic_rx_desc d;
		/* the guest's descriptor first: a frame is taken only when it
		 * has somewhere to go */
		if (gm_read(&m->gm, &d, at, sizeof(d)) || !nic_rxq_poll(r, &index, &real))
			break;
		uint16_t len = (uint16_t)real.writeback;
		uint64_t wb;
		if ((real.writeback >> 32) & NIC_RXD_STA_ERR)
			wb = nic_rx_writeback(0, NIC_RXD_STA_DD | NIC_RXD_STA_ERR, (uint8_t)(real.writeback >> 40), 0);
		else if (len > d.length)
			wb = nic_rx_writeback(0, NIC_RXD_STA_DD | NIC_RXD_STA_ERR, NIC_DESC_ERR_LENGTH, 0);
		else if (!rx_buffer_ok(&m->gm, d.addr, d.length))
			wb = nic_rx_writeback(0, NIC_RXD_STA_DD | NIC_RXD_STA_ERR, NIC_DESC_ERR_DMA, 0);
		else {
			gm_write(&m->gm, d.addr, copy_host(real.addr), len);
			wb = nic_rx_writeback(len, NIC_RXD_STA_DD | NIC_RXD_STA_EOP, 0, 0);
		}
		gm_write(&m->gm, at + offsetof(struct nic_rx_desc, writeback), &wb, sizeof(wb));
		emu.rx.head = (emu.rx.head + 1) & (emu.rx.size - 1);
		nic_rxq_post(r, real.addr, OPSUB_NET_BUF_SIZE);
		reposted++;
	}
	if (reposted)
		nic_rxq_kick(r);
}

/* A configuration register: latched into the rings when they are enabled. */
#define config(write, field, value) \
	((write) ? (*(field) = (typeof(*(field)))(value), (int64_t)0) : (int64_t)*(field))

int64_t emulated_reg(struct monitor *m, uint64_t reg, uint64_t value)
{
	bool write = reg & OPSUB_NET_REG_WRITE;
	uint64_t off = reg & ~(uint64_t)OPSUB_NET_REG_WRITE;
	const struct nic_queue_stats_regs *stats = &drv.q[0].regs->stats;
	if (off >= offsetof(struct nic_queue_regs, stats) &&
	    off < offsetof(struct nic_queue_regs, stats) + sizeof(*stats) && off % 8 == 0 && !write)
		return (int64_t)((const uint64_t *)stats)[(off - offsetof(struct nic_queue_regs, stats)) / 8];
	switch (off) {
	case offsetof(struct nic_queue_regs, tx_tail):
		if (!write)
			return emu.tx.tail;
		if (value >= emu.tx.size)
			return -EINVAL;
		emu.tx.tail = (uint32_t)value;
		tx_process(m);
		return 0;
	case offsetof(struct nic_queue_regs, rx_tail):
		if (!write)
			return emu.rx.tail;
		if (value >= emu.rx.size)
			return -EINVAL;
		emu.rx.tail = (uint32_t)value;
		rx_process(m);
		return 0;
	case offsetof(struct nic_queue_regs, tx_head):
		tx_process(m);
		return write ? -EINVAL : (int64_t)emu.tx.head;
	case offsetof(struct nic_queue_regs, rx_head):
		rx_process(m);
		return write ? -EINVAL : (int64_t)emu.rx.head;
	case offsetof(struct nic_queue_regs, irq_arm):
		if (!write)
			return nic_reg_read32(&drv.q[0].regs->irq_arm);
		nic_reg_write32(&drv.q[0].regs->irq_arm, value != 0);
		return 0;
	case offsetof(struct nic_queue_regs, tx_ring_base):
		return config(write, &emu.tx_base, value);
	case offsetof(struct nic_queue_regs, rx_ring_base):
		return config(write, &emu.rx_base, value);
	case offsetof(struct nic_queue_regs, tx_ring_size):
		return config(write, &emu.tx_size, value);
	case offsetof(struct nic_queue_regs, rx_ring_size):
		return config(write, &emu.rx_size, value);
	case offsetof(struct nic_queue_regs, control):
		if (!write)
			return emu.control;
		if ((value & NIC_QCTL_TX_EN) && !(emu.control & NIC_QCTL_TX_EN) && !latch(m, &emu.tx, emu.tx_base, emu.tx_size))
			return -EINVAL;
		if ((value & NIC_QCTL_RX_EN) && !(emu.control & NIC_QCTL_RX_EN) && !latch(m, &emu.rx, emu.rx_base, emu.rx_size))
			return -EINVAL;
		emu.tx.on = value & NIC_QCTL_TX_EN;
		emu.rx.on = value & NIC_QCTL_RX_EN;
		emu.control = (uint32_t)value & (NIC_QCTL_TX_EN | NIC_QCTL_RX_EN);
		return 0;
	default:
		return -EINVAL;
	}
}
