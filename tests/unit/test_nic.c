/*
 * test_nic.c: the NIC model's rings, DMA, steering, interrupts and reset,
 * driven like hardware: through the queue pages (nic_ring.h) while the
 * engine runs on its own thread in adaptive mode.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nic_rig.h"
#include "null_frame.h"

/* ---- rig: a running NIC with window 1 mapped ----------------------- */

#define WINDOW    1u
#define MEM_SIZE  (16u << 20)
#define BUF_SIZE  2048u

/* The wait budget of lossless wires for the next rig (0: the default). */
static uint64_t rig_rx_wait_ns;

/* A NIC with window 1 mapped, engine not started yet (nic_rig_start). */
static void rig_open_stopped(struct nic_rig *r, const char *wire,
                             unsigned queues)
{
	struct nic_config cfg;
	nic_config_defaults(&cfg);
	cfg.wire = wire;
	cfg.num_queues = queues;
	cfg.rx_wait_ns = rig_rx_wait_ns;
	nic_rig_open_stopped(r, &cfg, WINDOW, MEM_SIZE);
}

static void rig_open(struct nic_rig *r, const char *wire, unsigned queues)
{
	rig_open_stopped(r, wire, queues);
	nic_rig_start(r);
}

static void *dma_alloc(struct nic_rig *r, uint64_t len, uint64_t *dev)
{
	void *p = nic_arena_alloc(&r->arena, len, 64, dev);
	assert_non_null(p);
	return p;
}

static void txq_open(struct nic_rig *r, struct nic_txq *txq, unsigned q,
                     uint32_t size)
{
	uint64_t dev;
	void *ring = dma_alloc(r, size * 16u, &dev);
	struct nic_queue_regs *regs = nic_queue_regs(r->nic, q);
	nic_txq_start(txq, regs, ring, dev, size, nic_queue_doorbell_fd(r->nic, q));
	assert_true(nic_queue_wait_status(regs, NIC_QSTA_TX_ACTIVE,
	                                  NIC_QSTA_TX_ACTIVE, 5000));
}

/* An RX queue whose descriptor i always gets buffer i. */
struct rx_side {
	struct nic_rxq q;
	uint8_t *bufs;
	uint64_t bufs_dev;
};

static void rxq_open(struct nic_rig *r, struct rx_side *rx, unsigned q,
                     uint32_t size, uint32_t posted)
{
	uint64_t dev;
	void *ring = dma_alloc(r, size * 16u, &dev);
	rx->bufs = dma_alloc(r, (uint64_t)size * BUF_SIZE, &rx->bufs_dev);
	struct nic_queue_regs *regs = nic_queue_regs(r->nic, q);
	nic_rxq_start(&rx->q, regs, ring, dev, size, nic_queue_doorbell_fd(r->nic, q));
	assert_true(nic_queue_wait_status(regs, NIC_QSTA_RX_ACTIVE,
	                                  NIC_QSTA_RX_ACTIVE, 5000));
	for (uint32_t i = 0; i < posted; i++)
		nic_rxq_post(&rx->q, rx->bufs_dev + (uint64_t)rx->q.tail *
		             BUF_SIZE, BUF_SIZE);
	nic_rxq_kick(&rx->q);
}

/* Takes one received frame (waiting for it); reposts its buffer. */
static bool rx_take(struct rx_side *rx, uint8_t *frame, uint32_t *len,
                    struct nic_rx_desc *desc)
{
	uint32_t index;
	if (!WAIT_FOR(nic_rxq_poll(&rx->q, &index, desc)))
		return false;
	*len = desc->length;
	if (!(desc->status & NIC_RXD_STA_ERR))
		memcpy(frame, rx->bufs + (uint64_t)index * BUF_SIZE, *len);
	nic_rxq_post(&rx->q, rx->bufs_dev + (uint64_t)rx->q.tail * BUF_SIZE,
	             BUF_SIZE);
	nic_rxq_kick(&rx->q);
	return true;
}

/* True if no frame arrives within ms. */
static bool rx_quiet(struct rx_side *rx, unsigned ms)
{
	uint32_t index;
	struct nic_rx_desc d;
	usleep(ms * 1000u);
	return !nic_rxq_poll(&rx->q, &index, &d);
}

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };
static const uint8_t MAC_X[6] = { 0x02, 0, 0, 0, 0, 0xee };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
static const uint8_t MCAST[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };

/* A frame: dst, src MAC_X, EtherType 0x88b5, payload bytes seed + i. */
static void make_frame(uint8_t *f, const uint8_t *dst, uint32_t len,
                       uint8_t seed)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, MAC_X, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i * 7);
}

static int add_filter(struct nic_rig *r, const uint8_t *mac, uint16_t vlan,
                      unsigned q, uint16_t flags)
{
	struct nic_filter f = { .vlan = vlan, .queue = (uint16_t)q,
	                        .flags = flags };
	char err[256];
	memcpy(f.mac, mac, 6);
	int slot = nic_filter_add(r->nic, &f, err, sizeof(err));
	if (slot < 0)
		fail_msg("nic_filter_add: %s", err);
	return slot;
}

/* Sends one frame (copied into buf) and waits until it is completed. */
static void send_one(struct nic_txq *txq, uint8_t *buf, uint64_t buf_dev,
                     const uint8_t *frame, uint16_t len, uint8_t cmd,
                     uint16_t vlan)
{
	memcpy(buf, frame, len);
	nic_txq_post(txq, buf_dev, len, cmd | NIC_TXD_CMD_EOP, vlan);
	nic_txq_kick(txq);
	assert_true(WAIT_FOR(nic_reg_read32(&txq->regs->tx_head) == txq->tail));
	nic_txq_reap(txq);
}

/* ---- transmit into the null sink ----------------------------------- */

/* Every byte of every frame reaches the sink: counts, bytes and the byte
 * sum match, through a 64-entry ring wrapped ~30 times. */
static void test_tx_null_sink_reads_every_byte(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "null", 4);
	struct nic_txq txq;
	txq_open(&r, &txq, 2, 64);
	uint64_t bufs_dev;
	uint8_t *bufs = dma_alloc(&r, 64 * BUF_SIZE, &bufs_dev);

	const unsigned frames = 2000;
	uint64_t bytes = 0, sum = 0;
	unsigned sent = 0;
	srand(7);
	while (sent < frames) {
		nic_txq_reap(&txq);
		while (sent < frames && nic_txq_free(&txq) > 0) {
			uint32_t slot = txq.tail;
			uint16_t len = (uint16_t)(14 + rand() % (2048 - 14 + 1));
			uint8_t *f = bufs + slot * BUF_SIZE;
			for (unsigned i = 0; i < len; i++)
				f[i] = (uint8_t)rand();
			bytes += len;
			sum += null_frame_sum64(f, len);
			nic_txq_post(&txq, bufs_dev + slot * BUF_SIZE, len,
			             NIC_TXD_CMD_EOP, 0);
			sent++;
		}
		nic_txq_kick(&txq);
		usleep(50);
	}
	assert_true(WAIT_FOR(nic_reg_read32(&txq.regs->tx_head) == txq.tail));

	struct wire_stats ws;
	wire_read_stats(nic_wire(r.nic), &ws);
	assert_int_equal(ws.tx_frames, frames);
	assert_int_equal(ws.tx_bytes, bytes);
	assert_int_equal(ws.tx_checksum, sum);
	struct nic_queue_stats_regs qs;
	nic_queue_stats(r.nic, 2, &qs);
	assert_int_equal(qs.tx_packets, frames);
	assert_int_equal(qs.tx_bytes, bytes);
	struct nic_global_stats_regs gs;
	nic_global_stats(r.nic, &gs);
	assert_int_equal(gs.tx_frames, frames);
	assert_int_equal(gs.tx_bytes, bytes);
	assert_true(nic_dma_cpu_ns(r.nic) > 0);
	nic_rig_close(&r);
}

/* RS descriptors get DD written back; others are left alone (e1000). */
static void test_tx_status_writeback_only_with_rs(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "null", 1);
	struct nic_txq txq;
	txq_open(&r, &txq, 0, 8);
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);
	uint8_t frame[64];
	make_frame(frame, MAC_A, 64, 1);
	send_one(&txq, buf, dev, frame, 64, 0, 0);
	send_one(&txq, buf, dev, frame, 64, NIC_TXD_CMD_RS, 0);
	assert_int_equal(txq.ring[0].status, 0);
	assert_int_equal(txq.ring[1].status, NIC_TXD_STA_DD);
	nic_rig_close(&r);
}

/* A driver in another process gets one descriptor, nic_queue_page_fd(q):
 * one 4 KiB page, sealed so it cannot be grown to reach anything else, and
 * mapping it is all it takes to drive queue q. */
static void test_queue_page_fd_is_one_page(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "null", 8);
	int fd = nic_queue_page_fd(r.nic, 5);
	assert_true(fd >= 0);
	assert_int_equal(nic_queue_page_fd(r.nic, 8), -1);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_size, NIC_QUEUE_PAGE_SIZE);
	assert_int_equal(ftruncate(fd, 1 << 20), -1);    /* cannot grow */
	assert_int_equal(ftruncate(fd, 0), -1);          /* nor shrink */
	int seals = fcntl(fd, F_GET_SEALS);
	assert_int_equal(seals & (F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
	                 F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
	struct nic_queue_regs *page = mmap(NULL, NIC_QUEUE_PAGE_SIZE,
	                                   PROT_READ | PROT_WRITE, MAP_SHARED,
	                                   fd, 0);
	assert_true(page != MAP_FAILED);
	assert_int_equal(page->tx_ring_size, NIC_RING_DEFAULT);

	uint64_t ring_dev, buf_dev;
	void *ring = dma_alloc(&r, 16 * 16, &ring_dev);
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &buf_dev);
	struct nic_txq txq;
	nic_txq_start(&txq, page, ring, ring_dev, 16, nic_queue_doorbell_fd(r.nic, 5));
	assert_true(nic_queue_wait_status(page, NIC_QSTA_TX_ACTIVE,
	                                  NIC_QSTA_TX_ACTIVE, 5000));
	uint8_t frame[64];
	make_frame(frame, MAC_A, 64, 1);
	send_one(&txq, buf, buf_dev, frame, 64, 0, 0);
	struct nic_queue_stats_regs qs;
	nic_queue_stats(r.nic, 5, &qs);
	assert_int_equal(qs.tx_packets, 1);
	munmap(page, NIC_QUEUE_PAGE_SIZE);
	nic_rig_close(&r);
}

/* What a hostile holder of queue 3's page can reach: that page and nothing
 * else. Scribbling over all of it changes neither the global registers
 * (filters, rates, weights, admin) nor the neighbouring queues' pages; and
 * once the queue is reset (the daemon gives it to someone else) the old
 * page no longer reaches the queue at all. */
static void test_queue_page_reaches_only_its_queue(void **state)
{
	(void)state;
	struct nic_rig r;
	char err[256];
	rig_open(&r, "null", 8);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 2, NIC_FILTER_BROADCAST);
	static uint8_t global[NIC_GLOBAL_AREA_SIZE], q2[NIC_QUEUE_PAGE_SIZE],
	               q4[NIC_QUEUE_PAGE_SIZE];
	memcpy(global, nic_global_regs(r.nic), sizeof(global));
	memcpy(q2, nic_queue_regs(r.nic, 2), sizeof(q2));
	memcpy(q4, nic_queue_regs(r.nic, 4), sizeof(q4));

	int fd = nic_queue_page_fd(r.nic, 3);
	uint8_t *page = mmap(NULL, NIC_QUEUE_PAGE_SIZE, PROT_READ | PROT_WRITE,
	                     MAP_SHARED, fd, 0);
	assert_true(page != MAP_FAILED);
	/* the whole object, and not one byte more, can be mapped: a mapping
	 * at the next page offset has nothing behind it (the old register
	 * file had the next queue's page there) */
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);
	assert_true(st.st_size <= NIC_QUEUE_PAGE_SIZE);
	memset(page, 0xa5, NIC_QUEUE_PAGE_SIZE);
	/* the engine notices the control register, and has a few iterations */
	usleep(20000);
	/* the NIC's own status words of queue 3 were overwritten: ignore
	 * global statistics, which the engine keeps writing */
	const uint8_t *now = (const uint8_t *)nic_global_regs(r.nic);
	assert_memory_equal(now + 0x1000, global + 0x1000,
	                    NIC_GLOBAL_AREA_SIZE - 0x1000);   /* sched, filters */
	assert_memory_equal(now, global, 0x40);               /* dev registers */
	/* nic_asleep, which the engine sets in every page when it sleeps, is
	 * not the other queues' state */
	static uint8_t now2[NIC_QUEUE_PAGE_SIZE], now4[NIC_QUEUE_PAGE_SIZE];
	memcpy(now2, nic_queue_regs(r.nic, 2), sizeof(now2));
	memcpy(now4, nic_queue_regs(r.nic, 4), sizeof(now4));
	const size_t asleep = offsetof(struct nic_queue_regs, nic_asleep);
	memset(now2 + asleep, 0, 4);
	memset(q2 + asleep, 0, 4);
	memset(now4 + asleep, 0, 4);
	memset(q4 + asleep, 0, 4);
	assert_memory_equal(now2, q2, sizeof(q2));
	assert_memory_equal(now4, q4, sizeof(q4));

	/* reset: the queue gets a new page object; the old one is cut off */
	assert_int_equal(nic_queue_reset(r.nic, 3, err, sizeof(err)), 0);
	int fresh = nic_queue_page_fd(r.nic, 3);
	struct stat st_fresh;
	assert_int_equal(fstat(fresh, &st_fresh), 0);
	assert_true(st_fresh.st_ino != st.st_ino);
	struct nic_queue_regs *regs = nic_queue_regs(r.nic, 3);
	assert_int_equal(regs->control, 0);
	nic_reg_write32(&((struct nic_queue_regs *)page)->control,
	                NIC_QCTL_TX_EN | NIC_QCTL_RX_EN);
	nic_reg_write32(&((struct nic_queue_regs *)page)->tx_tail, 7);
	usleep(20000);
	assert_int_equal(nic_reg_read32(&regs->control), 0);
	assert_int_equal(nic_reg_read32(&regs->tx_tail), 0);
	assert_int_equal(nic_reg_read32(&regs->status), 0);
	munmap(page, NIC_QUEUE_PAGE_SIZE);
	nic_rig_close(&r);
}

/* ---- loopback: rings, steering, drops ------------------------------ */

/* Frames from queue 0 come back on queue 1 byte for byte, in order,
 * through 16-entry rings wrapped many times on both sides. */
static void test_loop_ring_wraparound(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "loop", 2);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, 0);
	struct nic_txq txq;
	struct rx_side rx;
	txq_open(&r, &txq, 0, 16);
	rxq_open(&r, &rx, 1, 16, 15);
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);

	for (unsigned i = 0; i < 100; i++) {
		uint8_t frame[BUF_SIZE], got[BUF_SIZE];
		uint16_t len = (uint16_t)(60 + (i * 97) % 1400);
		make_frame(frame, MAC_A, len, (uint8_t)i);
		send_one(&txq, buf, dev, frame, len, NIC_TXD_CMD_RS, 0);
		uint32_t got_len;
		struct nic_rx_desc d;
		assert_true(rx_take(&rx, got, &got_len, &d));
		assert_int_equal(d.status, NIC_RXD_STA_DD | NIC_RXD_STA_EOP);
		assert_int_equal(got_len, len);
		assert_memory_equal(got, frame, len);
	}
	struct nic_queue_stats_regs qs;
	nic_queue_stats(r.nic, 1, &qs);
	assert_int_equal(qs.rx_packets, 100);
	assert_int_equal(qs.rx_dropped, 0);
	nic_rig_close(&r);
}

/* Destination MAC and VLAN pick the queue; tags are inserted on TX (VLE)
 * and stripped on RX only where the queue asks for it. */
static void test_loop_steering_by_mac_and_vlan(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "loop", 4);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, 0);
	add_filter(&r, MAC_B, 10, 2, 0);
	add_filter(&r, MAC_B, 20, 3, 0);
	struct nic_txq txq;
	struct rx_side rx1, rx2, rx3;
	txq_open(&r, &txq, 0, 16);
	rxq_open(&r, &rx1, 1, 16, 8);
	rxq_open(&r, &rx2, 2, 16, 8);
	rxq_open(&r, &rx3, 3, 16, 8);
	struct nic_queue_regs *regs2 = nic_queue_regs(r.nic, 2);
	nic_queue_write_control(regs2, nic_reg_read32(&regs2->control) |
	                        NIC_QCTL_VLAN_STRIP, nic_queue_doorbell_fd(r.nic, 2));
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);
	uint8_t frame[100], got[BUF_SIZE];
	uint32_t len;
	struct nic_rx_desc d;

	make_frame(frame, MAC_A, 100, 1);           /* untagged, A: queue 1 */
	send_one(&txq, buf, dev, frame, 100, 0, 0);
	assert_true(rx_take(&rx1, got, &len, &d));
	assert_int_equal(len, 100);
	assert_memory_equal(got, frame, 100);

	make_frame(frame, MAC_B, 100, 2);           /* B, VLAN 10: queue 2 */
	send_one(&txq, buf, dev, frame, 100, NIC_TXD_CMD_VLE, 0x2000 | 10);
	assert_true(rx_take(&rx2, got, &len, &d));
	assert_int_equal(len, 100);                 /* tag stripped */
	assert_int_equal(d.status, NIC_RXD_STA_DD | NIC_RXD_STA_EOP |
	                           NIC_RXD_STA_VP);
	assert_int_equal(d.vlan, 0x2000 | 10);
	assert_memory_equal(got, frame, 100);

	make_frame(frame, MAC_B, 100, 3);           /* B, VLAN 20: queue 3 */
	send_one(&txq, buf, dev, frame, 100, NIC_TXD_CMD_VLE, 20);
	assert_true(rx_take(&rx3, got, &len, &d));
	assert_int_equal(len, 104);                 /* tag kept */
	assert_int_equal(d.status, NIC_RXD_STA_DD | NIC_RXD_STA_EOP);
	assert_memory_equal(got, frame, 12);
	assert_int_equal(got[12], 0x81);
	assert_int_equal(got[15], 20);
	assert_memory_equal(got + 16, frame + 12, 88);

	make_frame(frame, MAC_B, 100, 4);           /* B untagged: nobody */
	send_one(&txq, buf, dev, frame, 100, 0, 0);
	make_frame(frame, MAC_B, 100, 5);           /* B, VLAN 30: nobody */
	send_one(&txq, buf, dev, frame, 100, NIC_TXD_CMD_VLE, 30);
	assert_true(rx_quiet(&rx1, 20) && rx_quiet(&rx2, 0) &&
	            rx_quiet(&rx3, 0));
	struct nic_global_stats_regs gs;
	nic_global_stats(r.nic, &gs);
	assert_int_equal(gs.rx_no_match, 2);
	assert_int_equal(gs.rx_frames, 5);
	nic_rig_close(&r);
}

/* Broadcast and multicast reach every BROADCAST queue once (the sender's
 * own queue too: loop is a loopback plug), and no other queue. */
static void test_loop_broadcast_to_several_queues(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "loop", 5);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, NIC_FILTER_BROADCAST);
	add_filter(&r, MAC_B, NIC_VLAN_ANY, 2, NIC_FILTER_BROADCAST);
	add_filter(&r, MAC_X, 7, 3, NIC_FILTER_BROADCAST);   /* VLAN 7 only */
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 4, 0);           /* no broadcast */
	add_filter(&r, MAC_B, NIC_VLAN_ANY, 1, 0);   /* 1 matches twice: once */
	struct nic_txq txq;
	struct rx_side rx[5];
	txq_open(&r, &txq, 0, 16);
	for (unsigned q = 1; q < 5; q++)
		rxq_open(&r, &rx[q], q, 16, 8);
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);
	uint8_t frame[64], got[BUF_SIZE];
	uint32_t len;
	struct nic_rx_desc d;

	const uint8_t *groups[2] = { BCAST, MCAST };
	for (unsigned g = 0; g < 2; g++) {
		make_frame(frame, groups[g], 64, (uint8_t)g);
		send_one(&txq, buf, dev, frame, 64, 0, 0);
		for (unsigned q = 1; q <= 2; q++) {
			assert_true(rx_take(&rx[q], got, &len, &d));
			assert_memory_equal(got, frame, 64);
		}
	}
	make_frame(frame, BCAST, 64, 9);            /* tagged 7: queue 3 too */
	send_one(&txq, buf, dev, frame, 64, NIC_TXD_CMD_VLE, 7);
	for (unsigned q = 1; q <= 3; q++)
		assert_true(rx_take(&rx[q], got, &len, &d));
	make_frame(frame, MAC_B, 64, 10);           /* unicast B: 1 and 2 */
	send_one(&txq, buf, dev, frame, 64, 0, 0);
	for (unsigned q = 1; q <= 2; q++)
		assert_true(rx_take(&rx[q], got, &len, &d));
	for (unsigned q = 1; q < 5; q++)
		assert_true(rx_quiet(&rx[q], q == 1 ? 20 : 0));
	struct nic_queue_stats_regs qs;
	nic_queue_stats(r.nic, 1, &qs);
	assert_int_equal(qs.rx_packets, 4);
	nic_rig_close(&r);
}

/* A frame nobody matches is counted and dropped; a PROMISC queue gets
 * exactly the frames that no other queue matched. */
static void test_loop_no_match_and_promiscuous(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "loop", 3);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, 0);
	struct nic_txq txq;
	struct rx_side rx1, rx2;
	txq_open(&r, &txq, 0, 16);
	rxq_open(&r, &rx1, 1, 16, 8);
	rxq_open(&r, &rx2, 2, 16, 8);
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);
	uint8_t frame[64], got[BUF_SIZE];
	uint32_t len;
	struct nic_rx_desc d;

	for (unsigned i = 0; i < 3; i++) {
		make_frame(frame, MAC_B, 64, (uint8_t)i);
		send_one(&txq, buf, dev, frame, 64, 0, 0);
	}
	assert_true(rx_quiet(&rx1, 20) && rx_quiet(&rx2, 0));
	struct nic_global_stats_regs gs;
	nic_global_stats(r.nic, &gs);
	assert_int_equal(gs.rx_no_match, 3);

	add_filter(&r, MAC_X, NIC_VLAN_ANY, 2, NIC_FILTER_PROMISC);
	make_frame(frame, MAC_B, 64, 4);
	send_one(&txq, buf, dev, frame, 64, 0, 0);
	assert_true(rx_take(&rx2, got, &len, &d));
	assert_memory_equal(got, frame, 64);
	make_frame(frame, MAC_A, 64, 5);            /* matched: not promisc */
	send_one(&txq, buf, dev, frame, 64, 0, 0);
	assert_true(rx_take(&rx1, got, &len, &d));
	assert_true(rx_quiet(&rx2, 20));
	nic_global_stats(r.nic, &gs);
	assert_int_equal(gs.rx_no_match, 3);
	nic_rig_close(&r);
}

/* A queue with 3 posted descriptors takes 3 of 10 frames; the rest are
 * dropped and counted (loop is lossy), and it takes frames again once
 * descriptors are posted. */
static void test_loop_rx_drop_without_descriptor(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "loop", 2);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, 0);
	struct nic_txq txq;
	struct rx_side rx;
	txq_open(&r, &txq, 0, 16);
	rxq_open(&r, &rx, 1, 16, 3);
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);
	uint8_t frame[64];
	for (unsigned i = 0; i < 10; i++) {
		make_frame(frame, MAC_A, 64, (uint8_t)i);
		send_one(&txq, buf, dev, frame, 64, 0, 0);
	}
	struct nic_queue_stats_regs qs;
	assert_true(WAIT_FOR((nic_queue_stats(r.nic, 1, &qs),
	                      qs.rx_packets + qs.rx_dropped == 10)));
	assert_int_equal(qs.rx_packets, 3);
	assert_int_equal(qs.rx_dropped, 7);
	struct nic_global_stats_regs gs;
	nic_global_stats(r.nic, &gs);
	assert_int_equal(gs.rx_dropped, 7);

	uint8_t got[BUF_SIZE];
	uint32_t len;
	struct nic_rx_desc d;
	for (unsigned i = 0; i < 3; i++)
		assert_true(rx_take(&rx, got, &len, &d));
	make_frame(frame, MAC_A, 64, 42);
	send_one(&txq, buf, dev, frame, 64, 0, 0);
	assert_true(rx_take(&rx, got, &len, &d));
	assert_memory_equal(got, frame, 64);
	nic_rig_close(&r);
}

/* ---- DMA errors ---------------------------------------------------- */

/* Descriptors pointing outside the mapped windows complete with DD|ERR
 * and a reason, are counted, and the queue goes on with the next one. */
static void test_dma_errors_do_not_crash(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "loop", 2);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, 0);
	struct nic_txq txq;
	struct rx_side rx;
	txq_open(&r, &txq, 0, 16);
	rxq_open(&r, &rx, 1, 16, 0);
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);
	make_frame(buf, MAC_A, 64, 1);
	const uint64_t end = NIC_DEV_ADDR(WINDOW, 0) + MEM_SIZE;
	/* cmd: extra command bits; EOP and RS are added unless NO_EOP. */
	enum { NO_EOP = 0x100 };
	struct { uint64_t addr; uint16_t len; unsigned cmd; uint8_t error; } tx[] = {
		{ NIC_DEV_ADDR(5, 0), 64, 0, NIC_DESC_ERR_DMA },   /* unmapped */
		{ end - 10, 64, 0, NIC_DESC_ERR_DMA },  /* across the end */
		{ end, 64, 0, NIC_DESC_ERR_DMA },       /* just past it */
		{ ~0ull - 20, 64, 0, NIC_DESC_ERR_DMA }, /* would wrap 2^64 */
		{ dev, 0xffff, 0, NIC_DESC_ERR_LENGTH }, /* overlong */
		{ dev, 2046, NIC_TXD_CMD_VLE, NIC_DESC_ERR_LENGTH }, /* +tag */
		{ dev, 10, 0, NIC_DESC_ERR_LENGTH },    /* runt */
		{ dev, 64, NO_EOP, NIC_DESC_ERR_FORMAT },
		{ dev, 64, 0, 0 },                      /* good */
	};
	const unsigned n = sizeof(tx) / sizeof(tx[0]);
	for (unsigned i = 0; i < n; i++) {
		uint8_t cmd = (tx[i].cmd & NO_EOP) ? NIC_TXD_CMD_RS
		            : (uint8_t)(tx[i].cmd | NIC_TXD_CMD_EOP | NIC_TXD_CMD_RS);
		nic_txq_post(&txq, tx[i].addr, tx[i].len, cmd, 0);
	}
	/* RX: buffers unmapped, across the window end, too small. */
	nic_rxq_post(&rx.q, NIC_DEV_ADDR(9, 0), BUF_SIZE);
	nic_rxq_post(&rx.q, end - 100, BUF_SIZE);
	nic_rxq_post(&rx.q, rx.bufs_dev, 63);
	nic_rxq_post(&rx.q, rx.bufs_dev, BUF_SIZE);
	nic_rxq_kick(&rx.q);
	/* The good frame goes to every RX descriptor: re-send it 3 times. */
	for (unsigned i = 0; i < 3; i++)
		nic_txq_post(&txq, dev, 64, NIC_TXD_CMD_EOP, 0);
	nic_txq_kick(&txq);
	assert_true(WAIT_FOR(nic_reg_read32(&txq.regs->tx_head) == txq.tail));

	for (unsigned i = 0; i < n; i++) {
		uint8_t want = tx[i].error ? NIC_TXD_STA_DD | NIC_TXD_STA_ERR
		                           : NIC_TXD_STA_DD;
		assert_int_equal(txq.ring[i].status, want);
		assert_int_equal(txq.ring[i].errors, tx[i].error);
	}
	const uint8_t rx_errors[4] = { NIC_DESC_ERR_DMA, NIC_DESC_ERR_DMA,
	                               NIC_DESC_ERR_LENGTH, 0 };
	for (unsigned i = 0; i < 4; i++) {
		uint32_t index;
		struct nic_rx_desc d;
		assert_true(WAIT_FOR(nic_rxq_poll(&rx.q, &index, &d)));
		assert_int_equal(d.errors, rx_errors[i]);
		if (rx_errors[i]) {
			assert_int_equal(d.status, NIC_RXD_STA_DD | NIC_RXD_STA_ERR);
		} else {
			assert_int_equal(d.length, 64);
			assert_memory_equal(rx.bufs, buf, 64);
		}
	}
	struct nic_queue_stats_regs q0, q1;
	nic_queue_stats(r.nic, 0, &q0);
	nic_queue_stats(r.nic, 1, &q1);
	assert_int_equal(q0.dma_errors, 4);
	assert_int_equal(q0.desc_errors, 4);
	assert_int_equal(q0.tx_packets, 4);
	assert_int_equal(q1.dma_errors, 2);
	assert_int_equal(q1.desc_errors, 1);
	assert_int_equal(q1.rx_packets, 1);
	struct nic_global_stats_regs gs;
	nic_global_stats(r.nic, &gs);
	assert_int_equal(gs.dma_errors, 6);
	nic_rig_close(&r);
}

/* Bad ring programming stops the ring with a reason; clearing the enable
 * bit acknowledges the error and a corrected ring starts. */
static void test_ring_config_errors(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "null", 1);
	struct nic_queue_regs *regs = nic_queue_regs(r.nic, 0);
	int doorbell = nic_queue_doorbell_fd(r.nic, 0);
	uint64_t dev;
	void *ring = dma_alloc(&r, 64 * 16, &dev);
	struct nic_txq txq;
	struct {
		uint64_t base;
		uint32_t size;
		uint32_t why;
	} bad[] = {
		{ dev, 100, NIC_QERR_RING_SIZE },
		{ dev, 4, NIC_QERR_RING_SIZE },
		{ dev, 8192, NIC_QERR_RING_SIZE },
		{ dev + 8, 64, NIC_QERR_RING_ALIGN },
		{ NIC_DEV_ADDR(3, 0), 64, NIC_QERR_RING_DMA },
		{ NIC_DEV_ADDR(WINDOW, MEM_SIZE - 512), 64, NIC_QERR_RING_DMA },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nic_txq_start(&txq, regs, ring, bad[i].base, bad[i].size, doorbell);
		assert_true(nic_queue_wait_status(regs, NIC_QSTA_TX_ERR,
		                                  NIC_QSTA_TX_ERR, 5000));
		assert_int_equal(nic_reg_read32(&regs->tx_error), bad[i].why);
		nic_queue_write_control(regs, 0, doorbell);
		assert_true(nic_queue_wait_status(regs, 0xff, 0, 5000));
	}
	/* A tail beyond the ring stops a running ring. */
	nic_txq_start(&txq, regs, ring, dev, 64, doorbell);
	assert_true(nic_queue_wait_status(regs, NIC_QSTA_TX_ACTIVE,
	                                  NIC_QSTA_TX_ACTIVE, 5000));
	if (nic_doorbell_write32(regs, &regs->tx_tail, 64))
		nic_doorbell_wake(doorbell);
	assert_true(nic_queue_wait_status(regs, 0xff, NIC_QSTA_TX_ERR, 5000));
	assert_int_equal(nic_reg_read32(&regs->tx_error), NIC_QERR_TAIL_RANGE);
	nic_queue_write_control(regs, 0, doorbell);
	assert_true(nic_queue_wait_status(regs, 0xff, 0, 5000));
	nic_rig_close(&r);
}

/* ---- window unmap quiesces ----------------------------------------- */

struct churn {
	struct nic_txq *txq;
	struct nic_rxq *rxq;
	uint64_t frame_dev;     /* in window 2 */
	int stop;
};

/* Keeps queue 0 transmitting from window 2 into queue 1's buffers, also
 * in window 2, as fast as it can. */
static void *churn_main(void *arg)
{
	struct churn *c = arg;
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		uint32_t index;
		struct nic_rx_desc d;
		while (nic_rxq_poll(c->rxq, &index, &d))
			nic_rxq_post(c->rxq, d.addr, BUF_SIZE);
		nic_rxq_kick(c->rxq);
		nic_txq_reap(c->txq);
		while (nic_txq_free(c->txq) > 0)
			nic_txq_post(c->txq, c->frame_dev, 1500,
			             NIC_TXD_CMD_EOP, 0);
		nic_txq_kick(c->txq);
	}
	return NULL;
}

/* After nic_window_unmap returns, the memory is made inaccessible while
 * descriptors keep pointing into it: any later DMA would crash the test.
 * They complete with DMA errors instead. */
static void test_window_unmap_quiesces(void **state)
{
	(void)state;
	struct nic_rig r;
	char err[256];
	rig_open(&r, "loop", 2);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, 0);
	const size_t size = 1u << 20;
	uint8_t *mem2 = mmap(NULL, size, PROT_READ | PROT_WRITE,
	                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(mem2 != MAP_FAILED);
	assert_int_equal(nic_window_map(r.nic, 2, mem2, size, err,
	                                sizeof(err)), 0);
	make_frame(mem2, MAC_A, 1500, 3);

	struct nic_txq txq;
	struct rx_side rx;
	txq_open(&r, &txq, 0, 256);
	rxq_open(&r, &rx, 1, 256, 0);
	for (unsigned i = 0; i < 255; i++)   /* RX buffers in window 2 */
		nic_rxq_post(&rx.q, NIC_DEV_ADDR(2, 4096 + (i % 64) * BUF_SIZE),
		             BUF_SIZE);
	nic_rxq_kick(&rx.q);

	struct churn c = { .txq = &txq, .rxq = &rx.q,
	                   .frame_dev = NIC_DEV_ADDR(2, 0) };
	pthread_t t;
	assert_int_equal(pthread_create(&t, NULL, churn_main, &c), 0);
	struct nic_queue_stats_regs qs;
	assert_true(WAIT_FOR((nic_queue_stats(r.nic, 1, &qs),
	                      qs.rx_packets > 100)));

	assert_int_equal(nic_window_unmap(r.nic, 2, err, sizeof(err)), 0);
	assert_int_equal(mprotect(mem2, size, PROT_NONE), 0);
	uint64_t before;
	nic_queue_stats(r.nic, 0, &qs);
	before = qs.dma_errors;
	assert_true(WAIT_FOR((nic_queue_stats(r.nic, 0, &qs),
	                      qs.dma_errors > before + 1000)));
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);

	assert_int_equal(nic_window_unmap(r.nic, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not mapped"));
	nic_rig_close(&r);
	munmap(mem2, size);
}

/* ---- interrupts ---------------------------------------------------- */

static uint64_t irq_count(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n = 0;
	if (poll(&p, 1, timeout_ms) == 1 && read(fd, &n, sizeof(n)) != 8)
		n = 0;
	return n;
}

/* An armed queue fires once (auto-masked) on a TX completion with RS or
 * on an RX completion, and not again until it is re-armed. */
static void test_irq_fires_once_per_arm(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open(&r, "loop", 2);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, 0);
	struct nic_txq txq;
	struct rx_side rx;
	txq_open(&r, &txq, 0, 64);
	rxq_open(&r, &rx, 1, 64, 63);
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);
	uint8_t frame[64];
	make_frame(frame, MAC_A, 64, 1);
	int tx_fd = nic_queue_irq_fd(r.nic, 0), rx_fd = nic_queue_irq_fd(r.nic, 1);
	struct nic_queue_regs *tx_regs = txq.regs, *rx_regs = rx.q.regs;

	/* TX without RS: no interrupt even when armed. */
	nic_reg_write32(&tx_regs->irq_arm, 1);
	send_one(&txq, buf, dev, frame, 64, 0, 0);
	assert_int_equal(irq_count(tx_fd, 50), 0);
	assert_int_equal(nic_reg_read32(&tx_regs->irq_arm), 1);

	/* With RS: exactly one, and the arm is consumed. */
	for (unsigned i = 0; i < 5; i++)
		send_one(&txq, buf, dev, frame, 64, NIC_TXD_CMD_RS, 0);
	assert_int_equal(irq_count(tx_fd, 2000), 1);
	assert_int_equal(nic_reg_read32(&tx_regs->irq_arm), 0);
	send_one(&txq, buf, dev, frame, 64, NIC_TXD_CMD_RS, 0);
	assert_int_equal(irq_count(tx_fd, 50), 0);

	/* RX: 7 frames so far arrived unarmed; arm, and the next fires once. */
	assert_int_equal(irq_count(rx_fd, 0), 0);
	for (unsigned round = 0; round < 3; round++) {
		nic_reg_write32(&rx_regs->irq_arm, 1);
		for (unsigned i = 0; i < 4; i++)
			send_one(&txq, buf, dev, frame, 64, 0, 0);
		assert_int_equal(irq_count(rx_fd, 2000), 1);
		assert_int_equal(irq_count(rx_fd, 50), 0);
	}
	nic_rig_close(&r);
}

/* ---- reset, admin, link -------------------------------------------- */

static void test_queue_reset_reclaims(void **state)
{
	(void)state;
	struct nic_rig r;
	char err[256];
	rig_open(&r, "loop", 3);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, NIC_FILTER_BROADCAST);
	add_filter(&r, MAC_B, NIC_VLAN_ANY, 2, NIC_FILTER_BROADCAST);
	struct nic_txq txq;
	struct rx_side rx1, rx2;
	txq_open(&r, &txq, 0, 16);
	rxq_open(&r, &rx1, 1, 16, 15);
	rxq_open(&r, &rx2, 2, 16, 15);
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);
	uint8_t frame[64], got[BUF_SIZE];
	uint32_t len;
	struct nic_rx_desc d;
	make_frame(frame, BCAST, 64, 1);
	nic_reg_write32(&rx1.q.regs->irq_arm, 1);
	send_one(&txq, buf, dev, frame, 64, 0, 0);
	assert_true(rx_take(&rx2, got, &len, &d));
	assert_true(WAIT_FOR(nic_reg_read32(&rx1.q.regs->rx_head) == 1));

	assert_int_equal(nic_queue_reset(r.nic, 1, err, sizeof(err)), 0);
	struct nic_queue_regs *regs = nic_queue_regs(r.nic, 1);
	assert_int_equal(regs->control, 0);
	assert_int_equal(regs->status, 0);
	assert_int_equal(regs->rx_head, 0);
	assert_int_equal(regs->rx_tail, 0);
	assert_int_equal(regs->irq_arm, 0);
	assert_int_equal(regs->rx_ring_size, NIC_RING_DEFAULT);
	struct nic_queue_stats_regs qs;
	nic_queue_stats(r.nic, 1, &qs);
	assert_int_equal(qs.rx_packets, 0);
	assert_int_equal(irq_count(nic_queue_irq_fd(r.nic, 1), 0), 0);
	const struct nic_global_regs *g = nic_global_regs(r.nic);
	assert_int_equal(g->filter[0].flags, 0);            /* queue 1's */
	assert_int_equal(g->filter[1].flags & NIC_FILTER_VALID,
	                 NIC_FILTER_VALID);                  /* queue 2's */

	/* Frames for the old owner's MAC now match nobody. */
	make_frame(frame, MAC_A, 64, 2);
	send_one(&txq, buf, dev, frame, 64, 0, 0);
	struct nic_global_stats_regs gs;
	assert_true(WAIT_FOR((nic_global_stats(r.nic, &gs),
	                      gs.rx_no_match == 1)));

	/* A new owner sets the queue up again from scratch. */
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, 0);
	rxq_open(&r, &rx1, 1, 16, 15);
	send_one(&txq, buf, dev, frame, 64, 0, 0);
	assert_true(rx_take(&rx1, got, &len, &d));
	assert_memory_equal(got, frame, 64);
	nic_rig_close(&r);
}

/* Admin down stops a queue whatever its driver writes, and it resumes
 * where it was; link down holds all transmission. */
static void test_admin_and_link_hold_traffic(void **state)
{
	(void)state;
	struct nic_rig r;
	char err[256];
	rig_open(&r, "null", 2);
	struct nic_txq txq;
	txq_open(&r, &txq, 1, 16);
	uint64_t dev;
	uint8_t *buf = dma_alloc(&r, BUF_SIZE, &dev);
	make_frame(buf, MAC_A, 64, 1);

	assert_int_equal(nic_queue_set_admin(r.nic, 1, false, err,
	                                     sizeof(err)), 0);
	assert_true(nic_reg_read32(&txq.regs->status) & NIC_QSTA_ADMIN_DOWN);
	for (unsigned i = 0; i < 5; i++)
		nic_txq_post(&txq, dev, 64, NIC_TXD_CMD_EOP, 0);
	nic_txq_kick(&txq);
	usleep(20000);
	assert_int_equal(nic_reg_read32(&txq.regs->tx_head), 0);
	assert_int_equal(nic_queue_set_admin(r.nic, 1, true, err,
	                                     sizeof(err)), 0);
	assert_true(WAIT_FOR(nic_reg_read32(&txq.regs->tx_head) == 5));

	nic_set_link(r.nic, false);
	for (unsigned i = 0; i < 5; i++)
		nic_txq_post(&txq, dev, 64, NIC_TXD_CMD_EOP, 0);
	nic_txq_kick(&txq);
	usleep(20000);
	assert_int_equal(nic_reg_read32(&txq.regs->tx_head), 5);
	nic_set_link(r.nic, true);
	assert_true(WAIT_FOR(nic_reg_read32(&txq.regs->tx_head) == 10));
	struct wire_stats ws;
	wire_read_stats(nic_wire(r.nic), &ws);
	assert_int_equal(ws.tx_frames, 10);
	nic_rig_close(&r);
}

/* ---- the null source ----------------------------------------------- */

/* null:SIZE fills exactly the posted descriptors with verifiable frames,
 * numbered without gaps (lossless: nothing dropped while none is posted). */
static void test_null_source_is_lossless(void **state)
{
	(void)state;
	static const unsigned sizes[] = { 60, 64, 1500, 2048 };
	for (unsigned s = 0; s < 4; s++) {
		char spec[64];
		snprintf(spec, sizeof(spec), "null:%u,02:00:00:00:00:0a",
		         sizes[s]);
		struct nic_rig r;
		rig_open_stopped(&r, spec, 2);
		/* before the start: nothing is generated for no one */
		add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, 0);
		nic_rig_start(&r);
		struct rx_side rx;
		rxq_open(&r, &rx, 1, 32, 8);
		uint8_t got[BUF_SIZE];
		uint32_t len;
		struct nic_rx_desc d;
		for (uint64_t seq = 0; seq < 100; seq++) {
			uint64_t got_seq;
			assert_true(rx_take(&rx, got, &len, &d));
			assert_int_equal(len, sizes[s]);
			assert_true(null_frame_verify(got, len, &got_seq));
			assert_int_equal(got_seq, seq);
			assert_memory_equal(got, MAC_A, 6);
			if (seq == 50)
				usleep(20000);  /* the source waits meanwhile */
		}
		struct nic_global_stats_regs gs;
		nic_global_stats(r.nic, &gs);
		assert_int_equal(gs.rx_dropped, 0);
		nic_rig_close(&r);
	}
}

/* Takes n frames from rx (reposting), within the usual timeouts. */
static bool rx_take_n(struct rx_side *rx, unsigned n)
{
	uint8_t got[BUF_SIZE];
	uint32_t len;
	struct nic_rx_desc d;
	for (unsigned i = 0; i < n; i++)
		if (!rx_take(rx, got, &len, &d))
			return false;
	return true;
}

/* One guest must not stop another's traffic: on a lossless wire, a queue
 * that never posts a descriptor (queue 2), or never even enables its ring
 * (queue 3), holds the broadcast source back only for its wait budget;
 * then its frames are dropped and counted, and queue 1 receives at full
 * speed. A queue that posts again is waited for again. */
static void test_lossless_wire_gives_up_on_a_queue_without_room(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open_stopped(&r, "null:64", 4);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, NIC_FILTER_BROADCAST);
	add_filter(&r, MAC_B, NIC_VLAN_ANY, 2, NIC_FILTER_BROADCAST);
	add_filter(&r, MAC_X, NIC_VLAN_ANY, 3, NIC_FILTER_BROADCAST);
	nic_rig_start(&r);
	struct rx_side rx1, rx2;
	rxq_open(&r, &rx2, 2, 16, 0);
	rxq_open(&r, &rx1, 1, 16, 15);
	assert_true(rx_take_n(&rx1, 20000));
	struct nic_queue_stats_regs q2, q3;
	nic_queue_stats(r.nic, 2, &q2);
	nic_queue_stats(r.nic, 3, &q3);
	assert_true(q2.rx_dropped > 0);
	assert_true(q3.rx_dropped > 0);
	assert_int_equal(q2.rx_packets, 0);
	struct nic_global_stats_regs gs;
	nic_global_stats(r.nic, &gs);
	assert_true(gs.rx_dropped >= q2.rx_dropped + q3.rx_dropped);

	/* queue 2 posts: it is served again, and then waited for again */
	for (unsigned i = 0; i < 15; i++)
		nic_rxq_post(&rx2.q, rx2.bufs_dev + (uint64_t)rx2.q.tail * BUF_SIZE,
		             BUF_SIZE);
	nic_rxq_kick(&rx2.q);
	assert_true(rx_take_n(&rx2, 100));
	nic_rig_close(&r);
}

/* A consumer thread that keeps taking frames from one queue. */
struct consumer {
	struct rx_side *rx;
	int stop;
	uint64_t taken;
};

static void *consume(void *arg)
{
	struct consumer *c = arg;
	uint32_t index;
	struct nic_rx_desc d;
	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		if (!nic_rxq_poll(&c->rx->q, &index, &d)) {
			usleep(50);
			continue;
		}
		nic_rxq_post(&c->rx->q, c->rx->bufs_dev +
		             (uint64_t)c->rx->q.tail * BUF_SIZE, BUF_SIZE);
		nic_rxq_kick(&c->rx->q);
		__atomic_store_n(&c->taken, c->taken + 1, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* Well-behaved queues keep lossless delivery: a queue that stalls for less
 * than its wait budget while another keeps receiving loses nothing (the
 * wire waits), a longer stall loses frames, but only its own, and the
 * other queue goes on receiving meanwhile. */
static void test_lossless_wire_waits_out_a_short_stall(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_rx_wait_ns = 300000000;   /* 300 ms: a busy test box stalls too */
	rig_open_stopped(&r, "null:64", 3);
	rig_rx_wait_ns = 0;
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, NIC_FILTER_BROADCAST);
	add_filter(&r, MAC_B, NIC_VLAN_ANY, 2, NIC_FILTER_BROADCAST);
	nic_rig_start(&r);
	struct rx_side rx1, rx2;
	rxq_open(&r, &rx1, 1, 16, 15);
	rxq_open(&r, &rx2, 2, 16, 15);
	struct consumer c = { .rx = &rx1 };
	pthread_t thread;
	assert_int_equal(pthread_create(&thread, NULL, consume, &c), 0);
	for (unsigned round = 0; round < 3; round++) {
		assert_true(rx_take_n(&rx2, 500));
		usleep(20000);   /* queue 2 stalls for 20 ms */
	}
	struct nic_global_stats_regs gs;
	nic_global_stats(r.nic, &gs);
	assert_int_equal(gs.rx_dropped, 0);

	/* queue 2 stalls past its budget: only it loses frames, and queue 1
	 * receives meanwhile */
	usleep(400000);
	uint64_t before = __atomic_load_n(&c.taken, __ATOMIC_ACQUIRE);
	usleep(200000);
	uint64_t after = __atomic_load_n(&c.taken, __ATOMIC_ACQUIRE);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(thread, NULL);
	struct nic_queue_stats_regs q1, q2;
	nic_queue_stats(r.nic, 1, &q1);
	nic_queue_stats(r.nic, 2, &q2);
	assert_true(q2.rx_dropped > 0);
	assert_int_equal(q1.rx_dropped, 0);
	assert_true(after - before > 1000);
	nic_rig_close(&r);
}

/* A queue that posts one buffer each time the wire has given up on it (so
 * that the wire waits for it again) must not hold the wire most of the
 * time: it earns its wait budget back only at 1/16 of the time, so the
 * other queue keeps most of its rate. */
struct nagger {
	struct nic *nic;
	struct rx_side *rx;
	int stop;
};

static void *nag(void *arg)
{
	struct nagger *n = arg;
	uint64_t dropped = 0;
	while (!__atomic_load_n(&n->stop, __ATOMIC_ACQUIRE)) {
		struct nic_queue_stats_regs qs;
		nic_queue_stats(n->nic, 2, &qs);
		if (qs.rx_dropped == dropped) {
			usleep(50);
			continue;
		}
		dropped = qs.rx_dropped;   /* given up on: one buffer, once more */
		uint32_t index;
		struct nic_rx_desc d;
		while (nic_rxq_poll(&n->rx->q, &index, &d))
			continue;
		nic_rxq_post(&n->rx->q, n->rx->bufs_dev +
		             (uint64_t)n->rx->q.tail * BUF_SIZE, BUF_SIZE);
		nic_rxq_kick(&n->rx->q);
	}
	return NULL;
}

static uint64_t taken_in(struct consumer *c, unsigned ms)
{
	uint64_t before = __atomic_load_n(&c->taken, __ATOMIC_ACQUIRE);
	usleep(ms * 1000u);
	return __atomic_load_n(&c->taken, __ATOMIC_ACQUIRE) - before;
}

static void test_lossless_wire_resists_a_queue_posting_one_by_one(void **state)
{
	(void)state;
	struct nic_rig r;
	rig_open_stopped(&r, "null:64", 3);
	add_filter(&r, MAC_A, NIC_VLAN_ANY, 1, NIC_FILTER_BROADCAST);
	add_filter(&r, MAC_B, NIC_VLAN_ANY, 2, NIC_FILTER_BROADCAST);
	nic_rig_start(&r);
	struct rx_side rx1, rx2;
	rxq_open(&r, &rx2, 2, 16, 0);
	rxq_open(&r, &rx1, 1, 16, 15);
	struct consumer c = { .rx = &rx1 };
	pthread_t victim, attacker;
	assert_int_equal(pthread_create(&victim, NULL, consume, &c), 0);
	usleep(200000);   /* queue 2 is given up on for good */
	uint64_t alone = taken_in(&c, 1000);
	struct nagger n = { .nic = r.nic, .rx = &rx2 };
	assert_int_equal(pthread_create(&attacker, NULL, nag, &n), 0);
	uint64_t nagged = taken_in(&c, 1000);
	__atomic_store_n(&n.stop, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
	pthread_join(attacker, NULL);
	pthread_join(victim, NULL);
	struct nic_queue_stats_regs q2;
	nic_queue_stats(r.nic, 2, &q2);
	print_message("queue 1: %llu frames/s alone, %llu with queue 2 posting "
	              "one by one (%llu frames)\n", (unsigned long long)alone,
	              (unsigned long long)nagged,
	              (unsigned long long)q2.rx_packets);
	assert_true(q2.rx_packets > 10);   /* it did get frames: waited for */
	assert_true(nagged * 2 > alone);
	nic_rig_close(&r);
}

/* The generator against the format's definition (null_frame.h), byte by
 * byte, for every tail length and sequence numbers whose pattern wraps;
 * and not a byte written past the frame. */
static void test_null_frame_write_matches_definition(void **state)
{
	(void)state;
	const uint8_t header[14] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	                             0x88, 0xb5 };
	const uint64_t seqs[] = { 0, 1, 120, 127, 128, 249, 255, 256, 0x123456789abcdefull };
	uint8_t frame[2048 + 8];
	for (unsigned k = 0; k < sizeof(seqs) / sizeof(seqs[0]); k++) {
		for (uint32_t len = NULL_FRAME_MIN; len <= 2048; len += len < 100 ? 1 : 97) {
			memset(frame, 0xee, sizeof(frame));
			null_frame_write(frame, header, len, seqs[k]);
			assert_memory_equal(frame, header, 14);
			uint64_t seq;
			uint32_t csum;
			memcpy(&seq, frame + NULL_FRAME_SEQ_OFF, 8);
			memcpy(&csum, frame + NULL_FRAME_CSUM_OFF, 4);
			assert_int_equal(seq, seqs[k]);
			for (uint32_t i = NULL_FRAME_PATTERN_OFF; i < len; i++)
				assert_int_equal(frame[i], (uint8_t)(seqs[k] + i - NULL_FRAME_PATTERN_OFF));
			uint64_t sum = seqs[k];
			for (uint32_t i = NULL_FRAME_PATTERN_OFF; i < len; i++)
				sum += (uint64_t)frame[i] << (8 * ((i - NULL_FRAME_PATTERN_OFF) % 8));
			assert_int_equal(csum, null_frame_fold(sum));
			for (uint32_t i = len; i < sizeof(frame); i++)
				assert_int_equal(frame[i], 0xee);
			assert_true(null_frame_verify(frame, len, &seq));
		}
	}
}

/* The verifier rejects a frame with any single byte changed, for every
 * length of the pattern's last partial word. */
static void test_null_frame_verify_catches_corruption(void **state)
{
	(void)state;
	uint8_t header[14] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
	                       0x88, 0xb5 };
	const uint32_t lens[] = { 60, 61, 62, 63, 64, 65, 66, 67, 300 };
	uint8_t frame[300];
	uint64_t seq;
	for (unsigned k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		uint32_t len = lens[k];
		null_frame_write(frame, header, len, 12345);
		assert_true(null_frame_verify(frame, len, &seq));
		assert_int_equal(seq, 12345);
		for (unsigned i = 12; i < len; i++) {
			frame[i] ^= 0x10;
			assert_false(null_frame_verify(frame, len, &seq));
			frame[i] ^= 0x10;
		}
	}
}

/* The sink's byte sum against its definition (little-endian words, the
 * last one zero-padded) for every length up to three words, at every
 * alignment. */
static void test_null_frame_sum64_matches_definition(void **state)
{
	(void)state;
	uint8_t bytes[40];
	for (unsigned i = 0; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)(0x9d * i + 7);
	for (size_t start = 0; start < 8; start++)
		for (size_t len = 0; start + len <= 32; len++) {
			uint64_t want = 0;
			for (size_t i = 0; i < len; i++)
				want += (uint64_t)bytes[start + i] << (8 * (i % 8));
			assert_int_equal(null_frame_sum64(bytes + start, len), want);
		}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tx_null_sink_reads_every_byte),
		cmocka_unit_test(test_tx_status_writeback_only_with_rs),
		cmocka_unit_test(test_queue_page_fd_is_one_page),
		cmocka_unit_test(test_queue_page_reaches_only_its_queue),
		cmocka_unit_test(test_loop_ring_wraparound),
		cmocka_unit_test(test_loop_steering_by_mac_and_vlan),
		cmocka_unit_test(test_loop_broadcast_to_several_queues),
		cmocka_unit_test(test_loop_no_match_and_promiscuous),
		cmocka_unit_test(test_loop_rx_drop_without_descriptor),
		cmocka_unit_test(test_dma_errors_do_not_crash),
		cmocka_unit_test(test_ring_config_errors),
		cmocka_unit_test(test_window_unmap_quiesces),
		cmocka_unit_test(test_irq_fires_once_per_arm),
		cmocka_unit_test(test_queue_reset_reclaims),
		cmocka_unit_test(test_admin_and_link_hold_traffic),
		cmocka_unit_test(test_null_source_is_lossless),
		cmocka_unit_test(test_lossless_wire_gives_up_on_a_queue_without_room),
		cmocka_unit_test(test_lossless_wire_waits_out_a_short_stall),
		cmocka_unit_test(test_lossless_wire_resists_a_queue_posting_one_by_one),
		cmocka_unit_test(test_null_frame_write_matches_definition),
		cmocka_unit_test(test_null_frame_verify_catches_corruption),
		cmocka_unit_test(test_null_frame_sum64_matches_definition),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
