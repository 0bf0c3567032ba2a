/*
 * bench/nic_model.c: throughput of the NIC model, with the driver side
 * written directly against the queue page (nic_ring.h) on the main thread
 * and the DMA engine busy-polling on its own thread.
 *
 * Build and run (from the repository root):
 *   gcc -std=gnu11 -O2 -D_GNU_SOURCE -Isrc -Iinclude -o build/nic_model \
 *       bench/nic_model.c $(find src/nic -name '*.c') -lpcap -lpthread
 *   build/nic_model [SECONDS [NAME]]
 * Each scenario (or only those whose name contains NAME) runs REPEATS
 * times for SECONDS (default 1) and the best run is printed: on a shared
 * host the best run is the model's capacity, the others measure the
 * neighbours.
 *
 * Scenarios: TX of 64- and 1500-byte frames into the null sink (which reads
 * every byte), RX of 64-byte frames from the null source (which writes every
 * byte), and loop forwarding (TX queue 0 -> loop -> RX queue 1, one copy).
 * With two or more CPUs the engine is pinned to CPU 1 and the driver to
 * CPU 0. "engine" is the engine thread's CPU time per frame (device CPU),
 * "driver" the main thread's (host CPU).
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "nic/nic.h"
#include "nic_ring.h"

#define WINDOW    1u
#define MEM_SIZE  (64u << 20)
#define RING      4096u
#define BUF_SIZE  2048u
/* Buffers 2 KiB apart all map to a few cache sets and evict each other;
 * like DPDK's 2176-byte mbufs, a stride of 2 KiB + 128 spreads them. */
#define BUF_STRIDE 2176u

static const uint8_t MAC_RX[6] = { 0x02, 0, 0, 0, 0, 0x01 };

#define REPEATS 5

static double seconds = 1.0;

static uint64_t ns_of(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, const char *err)
{
	fprintf(stderr, "nic_model: %s: %s\n", what, err);
	exit(1);
}

struct bench {
	struct nic *nic;
	uint8_t *mem;
	struct nic_dma_arena arena;
	struct nic_txq txq;
	struct nic_rxq rxq;
	uint64_t bufs_dev;      /* RING buffers of BUF_SIZE */
	uint8_t *bufs;
};

static void *dma_alloc(struct bench *b, uint64_t len, uint64_t *dev)
{
	void *p = nic_arena_alloc(&b->arena, len, 64, dev);
	if (!p)
		die("dma_alloc", "window too small");
	return p;
}

static void bench_open(struct bench *b, const char *wire, bool tx,
                       unsigned rx_queue)
{
	struct nic_config cfg;
	char err[256];
	nic_config_defaults(&cfg);
	cfg.num_queues = 2;
	cfg.wire = wire;
	cfg.poll_mode = NIC_POLL_BUSY;
	cfg.dma_cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : -1;
	b->nic = nic_create(&cfg, err, sizeof(err));
	if (!b->nic)
		die("nic_create", err);
	b->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (b->mem == MAP_FAILED)
		die("mmap", "out of memory");
	if (nic_window_map(b->nic, WINDOW, b->mem, MEM_SIZE, err, sizeof(err)))
		die("nic_window_map", err);
	b->arena = (struct nic_dma_arena){ .host = b->mem, .size = MEM_SIZE,
	                                   .dev = NIC_DEV_ADDR(WINDOW, 0) };
	b->bufs = dma_alloc(b, (uint64_t)RING * BUF_STRIDE, &b->bufs_dev);
	for (unsigned i = 0; i < RING; i++) {   /* frames to MAC_RX */
		uint8_t *f = b->bufs + (uint64_t)i * BUF_STRIDE;
		memcpy(f, MAC_RX, 6);
		memset(f + 6, 0x02, 6);
		f[12] = 0x88;
		f[13] = 0xb5;
		memset(f + 14, (int)i, BUF_SIZE - 14);
	}
	if (rx_queue != ~0u) {
		struct nic_filter filter = { .vlan = NIC_VLAN_ANY,
		                             .queue = (uint16_t)rx_queue };
		memcpy(filter.mac, MAC_RX, 6);
		if (nic_filter_add(b->nic, &filter, err, sizeof(err)) < 0)
			die("nic_filter_add", err);
	}
	if (nic_start(b->nic, err, sizeof(err)))
		die("nic_start", err);
	uint64_t dev;
	if (tx) {
		void *ring = dma_alloc(b, RING * 16, &dev);
		nic_txq_start(&b->txq, nic_queue_regs(b->nic, 0), ring, dev, RING,
		              nic_queue_doorbell_fd(b->nic, 0));
		if (!nic_queue_wait_status(b->txq.regs, NIC_QSTA_TX_ACTIVE,
		                           NIC_QSTA_TX_ACTIVE, 5000))
			die("tx queue", "did not start");
	}
	if (rx_queue != ~0u) {
		void *ring = dma_alloc(b, RING * 16, &dev);
		uint64_t rx_bufs;
		dma_alloc(b, (uint64_t)RING * BUF_STRIDE, &rx_bufs);
		struct nic_queue_regs *regs = nic_queue_regs(b->nic, rx_queue);
		nic_rxq_start(&b->rxq, regs, ring, dev, RING,
		              nic_queue_doorbell_fd(b->nic, rx_queue));
		if (!nic_queue_wait_status(regs, NIC_QSTA_RX_ACTIVE,
		                           NIC_QSTA_RX_ACTIVE, 5000))
			die("rx queue", "did not start");
		for (unsigned i = 0; i < RING - 1; i++)
			nic_rxq_post(&b->rxq, rx_bufs + (uint64_t)i * BUF_STRIDE,
			             BUF_SIZE);
		nic_rxq_kick(&b->rxq);
	}
}

/* One driver step: refill TX (frames of len, RS on every 32nd), reap RX
 * and repost its buffers. Returns nothing; the NIC's counters tell. */
static void driver_step(struct bench *b, uint16_t len, bool tx, bool rx)
{
	if (tx) {
		nic_txq_reap(&b->txq);
		uint32_t n = nic_txq_free(&b->txq);
		for (uint32_t i = 0; i < n; i++) {
			uint32_t slot = b->txq.tail;
			nic_txq_post(&b->txq, b->bufs_dev + (uint64_t)slot * BUF_STRIDE,
			             len, NIC_TXD_CMD_EOP |
			             (slot % 32 == 31 ? NIC_TXD_CMD_RS : 0), 0);
		}
		if (n)
			nic_txq_kick(&b->txq);
	}
	if (rx) {
		uint32_t index, ready = nic_rxq_ready(&b->rxq);
		struct nic_rx_desc d;
		for (uint32_t i = 0; i < ready &&
		                    nic_rxq_poll(&b->rxq, &index, &d); i++)
			nic_rxq_post(&b->rxq, d.addr, BUF_SIZE);
		if (ready)
			nic_rxq_kick(&b->rxq);
	}
}

struct result {
	double mpps, gbps, engine_ns, driver_ns;
	uint64_t drops;
};

static struct result measure(const char *wire, uint16_t len, bool tx,
                             unsigned rx_queue)
{
	struct bench b;
	bench_open(&b, wire, tx, rx_queue);
	bool rx = rx_queue != ~0u;
	/* warm up, then measure */
	uint64_t until = ns_of(CLOCK_MONOTONIC) + 200000000u;
	while (ns_of(CLOCK_MONOTONIC) < until)
		for (int i = 0; i < 4096; i++)
			driver_step(&b, len, tx, rx);

	struct nic_global_stats_regs g0, g1;
	nic_global_stats(b.nic, &g0);
	uint64_t t0 = ns_of(CLOCK_MONOTONIC);
	uint64_t engine0 = nic_dma_cpu_ns(b.nic);
	uint64_t driver0 = ns_of(CLOCK_THREAD_CPUTIME_ID);
	until = t0 + (uint64_t)(seconds * 1e9);
	uint64_t now;
	do {
		for (int i = 0; i < 4096; i++)
			driver_step(&b, len, tx, rx);
		now = ns_of(CLOCK_MONOTONIC);
	} while (now < until);
	uint64_t driver_ns = ns_of(CLOCK_THREAD_CPUTIME_ID) - driver0;
	uint64_t engine_ns = nic_dma_cpu_ns(b.nic) - engine0;
	nic_global_stats(b.nic, &g1);

	/* Receive scenarios count frames delivered to the queue. */
	uint64_t frames, bytes;
	if (rx) {
		frames = g1.rx_frames - g0.rx_frames - (g1.rx_dropped - g0.rx_dropped);
		bytes = frames * len;
	} else {
		frames = g1.tx_frames - g0.tx_frames;
		bytes = g1.tx_bytes - g0.tx_bytes;
	}
	double elapsed = (double)(now - t0) / 1e9;
	nic_destroy(b.nic);
	munmap(b.mem, MEM_SIZE);
	return (struct result){
		.mpps = (double)frames / elapsed / 1e6,
		.gbps = 8.0 * (double)bytes / elapsed / 1e9,
		.engine_ns = (double)engine_ns / (double)frames,
		.driver_ns = (double)driver_ns / (double)frames,
		.drops = g1.rx_dropped - g0.rx_dropped,
	};
}

static const char *only;        /* run only scenarios containing this */

static void run(const char *name, const char *wire, uint16_t len, bool tx,
                unsigned rx_queue)
{
	if (only && !strstr(name, only))
		return;
	struct result best = { 0 };
	for (int i = 0; i < REPEATS; i++) {
		struct result r = measure(wire, len, tx, rx_queue);
		if (r.mpps > best.mpps)
			best = r;
	}
	printf("%-26s %7.2f Mpps %8.2f Gbit/s   engine %6.1f ns/frame"
	       "   driver %6.1f ns/frame   drops %llu\n", name, best.mpps,
	       best.gbps, best.engine_ns, best.driver_ns,
	       (unsigned long long)best.drops);
}

int main(int argc, char **argv)
{
	if (argc > 3 || (argc > 1 && (seconds = atof(argv[1])) <= 0)) {
		fprintf(stderr, "usage: nic_model [SECONDS per run, > 0 "
		        "[scenario name part]]\n");
		return 2;
	}
	only = argc > 2 ? argv[2] : NULL;
	if (sysconf(_SC_NPROCESSORS_ONLN) > 1) {
		cpu_set_t cpus;
		CPU_ZERO(&cpus);
		CPU_SET(0, &cpus);
		sched_setaffinity(0, sizeof(cpus), &cpus);
	}
	run("tx 64B -> null sink", "null", 64, true, ~0u);
	run("tx 1500B -> null sink", "null", 1500, true, ~0u);
	run("rx 64B <- null source", "null:64,02:00:00:00:00:01", 64, false, 0);
	run("rx 1500B <- null source", "null:1500,02:00:00:00:00:01", 1500,
	    false, 0);
	run("loop 64B q0 -> q1", "loop", 64, true, 1);
	run("loop 1500B q0 -> q1", "loop", 1500, true, 1);
	return 0;
}
