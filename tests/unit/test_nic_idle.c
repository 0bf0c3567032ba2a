/*
 * test_nic_idle.c: an idle NIC sleeps, and is woken like hardware by its
 * doorbells. The engine runs in adaptive mode; every wait here is bounded
 * generously (a busy 2-core machine), and what is checked is that things
 * happen only when they should, not how fast.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nic_rig.h"

#define WINDOW    1u
#define MEM_SIZE  (4u << 20)

struct rig {
	struct nic_rig base;
	struct nic_txq txq;
	uint8_t *frame;
	uint64_t frame_dev;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A running NIC on the null sink with queue 0's TX ring started. */
static void rig_open(struct rig *r)
{
	struct nic_config cfg;
	nic_config_defaults(&cfg);
	cfg.num_queues = 4;
	nic_rig_open(&r->base, &cfg, WINDOW, MEM_SIZE);
	uint64_t ring_dev;
	void *ring = nic_arena_alloc(&r->base.arena, 64 * 16, 64, &ring_dev);
	r->frame = nic_arena_alloc(&r->base.arena, 2048, 64, &r->frame_dev);
	memset(r->frame, 0x5a, 2048);
	struct nic_queue_regs *regs = nic_queue_regs(r->base.nic, 0);
	nic_txq_start(&r->txq, regs, ring, ring_dev, 64,
	              nic_queue_doorbell_fd(r->base.nic, 0));
	assert_true(nic_queue_wait_status(regs, NIC_QSTA_TX_ACTIVE,
	                                  NIC_QSTA_TX_ACTIVE, 5000));
}

/* Waits until the engine has gone to sleep, and a little more, so that it
 * is in its wait and not in the last look before it. */
static void wait_asleep(struct rig *r)
{
	struct nic_queue_regs *regs = nic_queue_regs(r->base.nic, 0);
	assert_true(WAIT_FOR(nic_reg_read32(&regs->nic_asleep) == 1 &&
	                     nic_engine_sleeps(r->base.nic) > 0));
	usleep(100000);
	assert_int_equal(nic_reg_read32(&regs->nic_asleep), 1);
}

/* Idle, the engine uses next to no CPU: under 2% over half a second
 * (spinning, or napping every 50 us as it used to, costs 15-100%). */
static void test_idle_engine_sleeps(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	wait_asleep(&r);
	uint64_t cpu0 = nic_dma_cpu_ns(r.base.nic), t0 = now_ns();
	usleep(500000);
	uint64_t cpu = nic_dma_cpu_ns(r.base.nic) - cpu0, wall = now_ns() - t0;
	print_message("idle engine: %.3f%% of a CPU\n", 100.0 * (double)cpu / (double)wall);
	assert_true(cpu * 50 < wall);
	nic_rig_close(&r.base);
}

/* Asleep, the engine does not see a tail written without the doorbell
 * eventfd (so it really sleeps), and the eventfd wakes it; the wake-up
 * latency is printed. Then the next frame, with nic_txq_kick, goes out. */
static void test_doorbell_wakes_sleeping_engine(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	wait_asleep(&r);
	nic_txq_post(&r.txq, r.frame_dev, 60, NIC_TXD_CMD_EOP, 0);
	assert_true(nic_txq_ring(&r.txq));   /* the page says: asleep */
	usleep(300000);                       /* it sleeps: nothing moves */
	assert_int_equal(nic_reg_read32(&r.txq.regs->tx_head), 0);

	uint64_t t0 = now_ns();
	nic_doorbell_wake(r.txq.doorbell_fd);
	assert_true(WAIT_FOR(nic_reg_read32(&r.txq.regs->tx_head) == 1));
	print_message("wake-up latency: %.1f us\n", (double)(now_ns() - t0) / 1e3);

	wait_asleep(&r);
	nic_txq_post(&r.txq, r.frame_dev, 60, NIC_TXD_CMD_EOP, 0);
	nic_txq_kick(&r.txq);
	assert_true(WAIT_FOR(nic_reg_read32(&r.txq.regs->tx_head) == 2));
	nic_rig_close(&r.base);
}

/* A control call wakes a sleeping engine: ten calls, each made while the
 * engine sleeps, return (without the wake-up each would wait for the
 * backstop, here 10 minutes). */
static void test_control_call_wakes_sleeping_engine(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	uint64_t spent = 0;
	for (unsigned i = 0; i < 10; i++) {
		wait_asleep(&r);
		uint64_t t0 = now_ns();
		assert_int_equal(nic_queue_set_weight(r.base.nic, 1, 1 + i, NULL, 0), 0);
		spent += now_ns() - t0;
	}
	print_message("10 control calls on a sleeping engine: %.1f ms\n",
	              (double)spent / 1e6);
	assert_true(spent < 2500000000ull);
	nic_rig_close(&r.base);
}

/* A queue reset while the engine is about to sleep gives the new page the
 * engine's state (a new owner must know to wake it), and a new doorbell
 * eventfd that wakes it. */
static void test_reset_queue_keeps_doorbell_working(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r);
	int old_fd = nic_queue_doorbell_fd(r.base.nic, 2);
	assert_int_equal(nic_queue_reset(r.base.nic, 2, NULL, 0), 0);
	int fd = nic_queue_doorbell_fd(r.base.nic, 2);
	assert_true(fd >= 0);
	(void)old_fd;   /* may be reused as a number: the object is new */
	uint64_t ring_dev;
	void *ring = nic_arena_alloc(&r.base.arena, 64 * 16, 64, &ring_dev);
	struct nic_queue_regs *regs = nic_queue_regs(r.base.nic, 2);
	wait_asleep(&r);
	assert_int_equal(nic_reg_read32(&regs->nic_asleep), 1);
	struct nic_txq txq;
	nic_txq_start(&txq, regs, ring, ring_dev, 64, fd);
	assert_true(nic_queue_wait_status(regs, NIC_QSTA_TX_ACTIVE,
	                                  NIC_QSTA_TX_ACTIVE, 5000));
	nic_txq_post(&txq, r.frame_dev, 60, NIC_TXD_CMD_EOP, 0);
	nic_txq_kick(&txq);
	assert_true(WAIT_FOR(nic_reg_read32(&regs->tx_head) == 1));
	nic_rig_close(&r.base);
}

int main(void)
{
	/* a sleep is cut only after 10 minutes: a missed wake-up is a stall
	 * (and a failure), not a 1 s delay */
	setenv("OPSUB_NIC_SLEEP_BACKSTOP_MS", "600000", 1);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_idle_engine_sleeps),
		cmocka_unit_test(test_doorbell_wakes_sleeping_engine),
		cmocka_unit_test(test_control_call_wakes_sleeping_engine),
		cmocka_unit_test(test_reset_queue_keeps_doorbell_working),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
