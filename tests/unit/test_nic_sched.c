/*
 * test_nic_sched.c: TX rate limiting and weighted round robin, measured on
 * saturating queues into the null sink over 0.3 s windows (after a warm-up
 * that absorbs the initial bucket burst), within 5 %.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "nic_rig.h"

#define WINDOW    1u
#define MEM_SIZE  (8u << 20)
#define RING      4096u   /* slack for a driver thread on a busy host */

struct rig {
	struct nic_rig base;
	struct nic_txq txq[2];
	uint64_t frame_dev;
	uint16_t frame_len[2];
};

static void rig_open(struct rig *r, uint64_t line_rate_bps)
{
	struct nic_config cfg;
	nic_config_defaults(&cfg);
	cfg.num_queues = 2;
	cfg.line_rate_bps = line_rate_bps;
	nic_rig_open_stopped(&r->base, &cfg, WINDOW, MEM_SIZE);
	uint8_t *frame = nic_arena_alloc(&r->base.arena, 2048, 64, &r->frame_dev);
	memset(frame, 0x5a, 2048);
	nic_rig_start(&r->base);
	for (unsigned q = 0; q < 2; q++) {
		uint64_t dev;
		void *ring = nic_arena_alloc(&r->base.arena, RING * 16, 64, &dev);
		struct nic_queue_regs *regs = nic_queue_regs(r->base.nic, q);
		nic_txq_start(&r->txq[q], regs, ring, dev, RING, nic_queue_doorbell_fd(r->base.nic, q));
		assert_true(nic_queue_wait_status(regs, NIC_QSTA_TX_ACTIVE,
		                                  NIC_QSTA_TX_ACTIVE, 5000));
	}
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Keeps the queues with a non-zero frame length saturated for seconds. */
static void feed(struct rig *r, double seconds)
{
	double until = now_s() + seconds;
	do {
		for (unsigned q = 0; q < 2; q++) {
			if (!r->frame_len[q])
				continue;
			nic_txq_reap(&r->txq[q]);
			while (nic_txq_free(&r->txq[q]) > 0)
				nic_txq_post(&r->txq[q], r->frame_dev,
				             r->frame_len[q], NIC_TXD_CMD_EOP, 0);
			nic_txq_kick(&r->txq[q]);
		}
		usleep(200);
	} while (now_s() < until);
}

struct rates {
	double bps[2], pps[2];
};

/* Reads both queues' counters and the time they were read at. The test
 * thread may be preempted on a busy host: a read that took long is
 * retried, so that one preemption cannot skew a window. */
static double snapshot(struct rig *r, struct nic_queue_stats_regs s[2])
{
	for (;;) {
		double before = now_s();
		for (unsigned q = 0; q < 2; q++)
			nic_queue_stats(r->base.nic, q, &s[q]);
		double after = now_s();
		if (after - before < 0.0002)
			return (before + after) / 2;
	}
}

/* Feeds for warmup seconds, then measures over 0.3 s. */
static struct rates measure(struct rig *r, double warmup)
{
	struct nic_queue_stats_regs a[2], b[2];
	feed(r, warmup);
	double t0 = snapshot(r, a);
	feed(r, 0.3);
	double t1 = snapshot(r, b);
	struct rates out;
	for (unsigned q = 0; q < 2; q++) {
		out.bps[q] = 8.0 * (double)(b[q].tx_bytes - a[q].tx_bytes) /
		             (t1 - t0);
		out.pps[q] = (double)(b[q].tx_packets - a[q].tx_packets) /
		             (t1 - t0);
	}
	return out;
}

#define assert_within_5pct(value, want) do {                               \
	double v_ = (value), w_ = (want);                                  \
	if (v_ < 0.95 * w_ || v_ > 1.05 * w_)                              \
		fail_msg("%s = %.4g, want %.4g +- 5%%", #value, v_, w_);   \
} while (0)

static void set_rate(struct rig *r, unsigned q, uint64_t bps, uint64_t pps)
{
	char err[256];
	struct nic_rate rate = { .bps = bps, .pps = pps };
	if (nic_queue_set_rate(r->base.nic, q, &rate, err, sizeof(err)) != 0)
		fail_msg("nic_queue_set_rate: %s", err);
}

static void set_weight(struct rig *r, unsigned q, unsigned weight)
{
	char err[256];
	if (nic_queue_set_weight(r->base.nic, q, weight, err, sizeof(err)) != 0)
		fail_msg("nic_queue_set_weight: %s", err);
}

/* 100 Mbit/s with 1000-byte frames; then the same queue raised to
 * 150 Mbit/s while it runs. */
static void test_rate_limit_bits_and_live_change(void **state)
{
	(void)state;
	struct rig r = { .frame_len = { 1000, 0 } };
	rig_open(&r, 0);
	set_rate(&r, 0, 100000000, 0);
	struct rates m = measure(&r, 0.1);
	assert_within_5pct(m.bps[0], 100e6);
	struct nic_queue_stats_regs qs;
	nic_queue_stats(r.base.nic, 0, &qs);
	assert_true(qs.throttled > 0);

	set_rate(&r, 0, 150000000, 0);
	m = measure(&r, 0.02);
	assert_within_5pct(m.bps[0], 150e6);
	nic_rig_close(&r.base);
}

/* 20 000 packets/s of 64-byte frames, bits unlimited; then a bit rate
 * that binds before the packet rate does. */
static void test_rate_limit_packets(void **state)
{
	(void)state;
	struct rig r = { .frame_len = { 64, 0 } };
	rig_open(&r, 0);
	set_rate(&r, 0, 0, 20000);
	struct rates m = measure(&r, 0.1);
	assert_within_5pct(m.pps[0], 20000);

	set_rate(&r, 0, 64 * 8 * 5000, 20000);
	m = measure(&r, 0.02);
	assert_within_5pct(m.pps[0], 5000);
	nic_rig_close(&r.base);
}

/* Two saturating queues with weights 1:3 on a 100 Mbit/s line share it
 * 25 %/75 % in bytes, even with different frame sizes; swapping the
 * weights while running swaps the shares. */
static void test_wrr_shares_line_rate(void **state)
{
	(void)state;
	struct rig r = { .frame_len = { 1500, 400 } };
	rig_open(&r, 100000000);
	set_weight(&r, 0, 1);
	set_weight(&r, 1, 3);
	struct rates m = measure(&r, 0.1);
	double total = m.bps[0] + m.bps[1];
	assert_within_5pct(total, 100e6);
	assert_within_5pct(m.bps[0] / total, 0.25);
	assert_within_5pct(m.bps[1] / total, 0.75);

	set_weight(&r, 0, 3);
	set_weight(&r, 1, 1);
	m = measure(&r, 0.02);
	total = m.bps[0] + m.bps[1];
	assert_within_5pct(total, 100e6);
	assert_within_5pct(m.bps[0] / total, 0.75);
	nic_rig_close(&r.base);
}

/* A queue limited below its share leaves the rest of the line to the
 * other queue. */
static void test_wrr_with_limited_queue(void **state)
{
	(void)state;
	struct rig r = { .frame_len = { 1000, 1000 } };
	rig_open(&r, 100000000);
	set_weight(&r, 0, 1);
	set_weight(&r, 1, 1);
	set_rate(&r, 0, 20000000, 0);
	struct rates m = measure(&r, 0.1);
	assert_within_5pct(m.bps[0], 20e6);
	assert_within_5pct(m.bps[1], 80e6);
	nic_rig_close(&r.base);
}

static void test_bad_scheduling_settings(void **state)
{
	(void)state;
	struct rig r = { .frame_len = { 0, 0 } };
	char err[256];
	rig_open(&r, 0);
	assert_int_equal(nic_queue_set_weight(r.base.nic, 0, 0, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "1 to 1000"));
	assert_int_equal(nic_queue_set_weight(r.base.nic, 2, 1, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "no queue pair 2"));
	struct nic_rate rate = { 0 };
	assert_int_equal(nic_queue_set_rate(r.base.nic, 9, &rate, err,
	                                    sizeof(err)), -1);
	nic_rig_close(&r.base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate_limit_bits_and_live_change),
		cmocka_unit_test(test_rate_limit_packets),
		cmocka_unit_test(test_wrr_shares_line_rate),
		cmocka_unit_test(test_wrr_with_limited_queue),
		cmocka_unit_test(test_bad_scheduling_settings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
