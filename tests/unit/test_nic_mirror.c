/*
 * test_nic_mirror.c: port mirroring (capture). The frames a mirrored queue
 * sends and receives are copied, nobody else's; a full mirror drops and
 * counts instead of slowing the NIC; a queue reset detaches the queue.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "nic_rig.h"

#define WINDOW    1u
#define MEM_SIZE  (4u << 20)
#define RING      64u
#define BUF       2048u

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };   /* queue 1 */
static const uint8_t MAC_B[6] = { 0x02, 0, 0, 0, 0, 0xb };   /* queue 3 */

/* loop wire; queue 0 sends to A (queue 1) and to B (queue 3). */
struct rig {
	struct nic_rig base;
	struct nic_txq tx;
	void *tx_ring;
	uint64_t tx_ring_dev;
	struct nic_rxq rx[2];
	uint64_t rx_bufs[2];
	uint8_t *frames;
	uint64_t frames_dev;
};

static void rx_open(struct rig *r, unsigned i, unsigned q)
{
	uint64_t ring_dev;
	void *ring = nic_arena_alloc(&r->base.arena, RING * 16, 64, &ring_dev);
	nic_arena_alloc(&r->base.arena, (uint64_t)RING * BUF, 64, &r->rx_bufs[i]);
	struct nic_queue_regs *regs = nic_queue_regs(r->base.nic, q);
	nic_rxq_start(&r->rx[i], regs, ring, ring_dev, RING, nic_queue_doorbell_fd(r->base.nic, q));
	assert_true(nic_queue_wait_status(regs, NIC_QSTA_RX_ACTIVE, NIC_QSTA_RX_ACTIVE, 5000));
	for (unsigned j = 0; j < RING - 1; j++)
		nic_rxq_post(&r->rx[i], r->rx_bufs[i] + (uint64_t)j * BUF, BUF);
	nic_rxq_kick(&r->rx[i]);
}

static void tx_open(struct rig *r)
{
	struct nic_queue_regs *regs = nic_queue_regs(r->base.nic, 0);
	nic_txq_start(&r->tx, regs, r->tx_ring, r->tx_ring_dev, RING, nic_queue_doorbell_fd(r->base.nic, 0));
	assert_true(nic_queue_wait_status(regs, NIC_QSTA_TX_ACTIVE, NIC_QSTA_TX_ACTIVE, 5000));
}

static void rig_open(struct rig *r)
{
	struct nic_config cfg;
	char err[256];
	nic_config_defaults(&cfg);
	cfg.num_queues = 4;
	cfg.wire = "loop";
	nic_rig_open_stopped(&r->base, &cfg, WINDOW, MEM_SIZE);
	struct nic_filter fa = { .vlan = NIC_VLAN_ANY, .queue = 1 }, fb = { .vlan = NIC_VLAN_ANY, .queue = 3 };
	memcpy(fa.mac, MAC_A, 6);
	memcpy(fb.mac, MAC_B, 6);
	assert_true(nic_filter_add(r->base.nic, &fa, err, sizeof(err)) >= 0);
	assert_true(nic_filter_add(r->base.nic, &fb, err, sizeof(err)) >= 0);
	nic_rig_start(&r->base);
	r->tx_ring = nic_arena_alloc(&r->base.arena, RING * 16, 64, &r->tx_ring_dev);
	r->frames = nic_arena_alloc(&r->base.arena, (uint64_t)RING * BUF, 64, &r->frames_dev);
	tx_open(r);
	rx_open(r, 0, 1);
	rx_open(r, 1, 3);
}

/* Sends n frames from queue 0 to dst (byte 14 = seed + i), in one kick. */
static void send(struct rig *r, const uint8_t *dst, unsigned n, uint8_t seed)
{
	nic_txq_reap(&r->tx);
	for (unsigned i = 0; i < n; i++) {
		uint8_t *f = r->frames + (uint64_t)r->tx.tail * BUF;
		memset(f, 0, 64);
		memcpy(f, dst, 6);
		f[12] = 0x88;
		f[13] = 0xb5;
		f[14] = (uint8_t)(seed + i);
		nic_txq_post(&r->tx, r->frames_dev + (uint64_t)r->tx.tail * BUF, 64, NIC_TXD_CMD_EOP, 0);
	}
	uint32_t tail = r->tx.tail;
	nic_txq_kick(&r->tx);
	assert_true(WAIT_FOR(nic_reg_read32(&r->tx.regs->tx_head) == tail));
}

/* Mirror on queues 0 and 1: frames to A are seen twice (sent by 0, received
 * by 1), frames to B (queue 3, not mirrored) only as sent by 0. */
static void test_mirror_copies_its_queues_both_ways(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	struct nic_mirror *m = nic_mirror_create(64);
	assert_non_null(m);
	assert_int_equal(nic_queue_set_mirror(r.base.nic, 0, m, NULL, 0), 0);
	assert_int_equal(nic_queue_set_mirror(r.base.nic, 1, m, NULL, 0), 0);
	send(&r, MAC_A, 3, 10);
	assert_true(WAIT_FOR(nic_mirror_copied(m) == 6));
	send(&r, MAC_B, 2, 20);
	assert_true(WAIT_FOR(nic_mirror_copied(m) == 8));
	usleep(50000);
	unsigned tx = 0, rx = 0;
	const struct nic_mirror_frame *f;
	while ((f = nic_mirror_peek(m))) {
		assert_int_equal(f->len, 64);
		if (f->dir == NIC_MIRROR_TX) {
			assert_int_equal(f->queue, 0);
			tx++;
		} else {
			assert_int_equal(f->dir, NIC_MIRROR_RX);
			assert_int_equal(f->queue, 1);
			assert_memory_equal(f->data, MAC_A, 6);
			rx++;
		}
		assert_true(f->realtime_ns > 0);
		nic_mirror_next(m);
	}
	assert_int_equal(tx, 5);
	assert_int_equal(rx, 3);
	assert_int_equal(nic_mirror_copied(m), 8);
	assert_int_equal(nic_mirror_dropped(m), 0);
	nic_queue_set_mirror(r.base.nic, 0, NULL, NULL, 0);
	nic_queue_set_mirror(r.base.nic, 1, NULL, NULL, 0);
	nic_mirror_destroy(m);
	nic_rig_close(&r.base);
}

/* Nobody reads a 4-slot mirror: it keeps the first 4 frames, drops and
 * counts the rest, and the frames still all go through. */
static void test_full_mirror_drops_and_counts(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	struct nic_mirror *m = nic_mirror_create(4);
	assert_non_null(m);
	assert_null(nic_mirror_create(3));   /* not a power of two */
	assert_int_equal(nic_queue_set_mirror(r.base.nic, 3, m, NULL, 0), 0);
	send(&r, MAC_B, 10, 0);
	assert_true(WAIT_FOR(nic_reg_read32(&r.rx[1].regs->rx_head) == 10));
	assert_true(WAIT_FOR(nic_mirror_dropped(m) == 6));
	assert_int_equal(nic_mirror_copied(m), 4);
	for (unsigned i = 0; i < 4; i++) {
		const struct nic_mirror_frame *f = nic_mirror_peek(m);
		assert_non_null(f);
		assert_int_equal(f->data[14], i);   /* the first four, in order */
		nic_mirror_next(m);
	}
	assert_null(nic_mirror_peek(m));
	nic_queue_set_mirror(r.base.nic, 3, NULL, NULL, 0);
	nic_mirror_destroy(m);
	nic_rig_close(&r.base);
}

/* A reset detaches the queue (a new owner is not captured for the old
 * one); unset detaches only from the mirror named. */
static void test_reset_and_unset_detach(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	struct nic_mirror *m = nic_mirror_create(64), *other = nic_mirror_create(64);
	assert_int_equal(nic_queue_set_mirror(r.base.nic, 3, m, NULL, 0), 0);
	nic_queue_unset_mirror(r.base.nic, 3, other);   /* not other's: stays */
	send(&r, MAC_B, 1, 0);
	assert_true(WAIT_FOR(nic_mirror_copied(m) == 1));
	nic_queue_unset_mirror(r.base.nic, 3, m);
	send(&r, MAC_B, 1, 1);
	assert_int_equal(nic_queue_set_mirror(r.base.nic, 0, m, NULL, 0), 0);
	assert_int_equal(nic_queue_reset(r.base.nic, 0, NULL, 0), 0);
	tx_open(&r);   /* the queue's new owner sends */
	send(&r, MAC_A, 2, 2);
	usleep(100000);
	assert_int_equal(nic_mirror_copied(m), 1);
	assert_int_equal(nic_mirror_copied(other), 0);
	nic_mirror_destroy(m);
	nic_mirror_destroy(other);
	nic_rig_close(&r.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mirror_copies_its_queues_both_ways),
		cmocka_unit_test(test_full_mirror_drops_and_counts),
		cmocka_unit_test(test_reset_and_unset_detach),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
