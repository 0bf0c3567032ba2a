/*
 * bench/limit_probe.c: the physical limit of handing packets between the two
 * cores of this machine, with the receiver reading every byte.
 *
 * Build and run (bench/anchors does both):
 *   gcc -std=gnu11 -O2 -D_GNU_SOURCE -o build/bench/limit_probe \
 *       bench/limit_probe.c -lpthread
 *   build/bench/limit_probe --scenario tx|rx|fwd --size BYTES --seconds S
 *                           [--warmup S] [--ring N] [--pool N] [--batch N]
 *                           [--prefetch D]
 *
 * It prints one JSON object on stdout and exits 1 if any packet failed
 * verification (or came out of order).
 *
 * Model. A pool of packet buffers (stride = size rounded up to a cache line)
 * and single-producer/single-consumer rings of buffer descriptors between
 * threads pinned to different cores. Each ring keeps its producer index and
 * its consumer index on separate cache lines, each side caches the other's
 * index and re-reads it only when the cached value says the ring is
 * empty/full, and both sides move BATCH descriptors per index update (one
 * release store per batch), which is what a well-built paravirtual queue
 * does.
 *
 *   tx, rx: one hand-over. Thread P (core 0) takes a free buffer, writes every
 *     byte of it (the sequence number at offset 16 and a pattern elsewhere)
 *     and enqueues it on ring A; thread C (core 1) dequeues it, reads every
 *     byte (a 64-bit word sum checked against the closed form of the
 *     pattern, and the sequence number checked against the expected one) and
 *     returns the buffer on ring R. On this machine both directions are the
 *     same hand-over, so tx and rx run the same code and are reported
 *     separately only to fill the table.
 *   fwd: two hand-overs on two cores. Thread G (core 0) generates packets
 *     exactly as P does onto ring A; thread F (core 1), the forwarder,
 *     dequeues them, swaps the 12 header bytes (destination and source MAC)
 *     and enqueues them on ring B; thread G also drains ring B, reads and
 *     verifies every byte (expecting the swapped header) and recycles the
 *     buffer into its own free list. So a packet goes core 0 -> core 1 ->
 *     core 0, the same path as DPDK's generator (vhost side, core 0) ->
 *     guest forwarder (virtio-user, core 1) -> sink (vhost side, core 0).
 *
 * Defaults: ring 1024 descriptors, pool 512 buffers (never more than the
 * ring, so an enqueue never finds the ring full), batch 32 (DPDK's burst).
 * On an idle machine ring 256..2048, pool 128..1024 and batch 16..128 all
 * came within a few per cent of each other at 64 and 1500 bytes, except
 * pools too small to keep both cores busy (64 buffers). --prefetch D issues
 * software prefetches D packets ahead (the forwarder only for the header
 * line); it did not help measurably, so it is off by default.
 *
 * Reported: mpps (verified packets per second at the final receiver),
 * gbps (size * 8 * pps, L2 bytes, no preamble/FCS/gap), and the CPU cost
 * per packet by role, named as in `opsub bench --json` and bench/anchors:
 * each worker thread's CPU time (pthread_getcpuclockid, read by the main
 * thread at the start and end of the window; nanosecond resolution, unlike
 * the 10 ms ticks of /proc) divided by the packets. The roles mirror the
 * DPDK anchor's layout (vhost side = host on core 0, virtio side = guest on
 * core 1, each in the direction of the scenario):
 *   tx:  sender (core 0) = guest (the guest transmits), receiver (core 1) = host
 *   rx:  sender (core 0) = host, receiver (core 1) = guest (the guest receives)
 *   fwd: generator+verifier (core 0) = host, forwarder (core 1) = guest
 * (tx and rx run the same code, so their guest and host figures are the same
 * two threads with the labels swapped.)
 *   guest_ns_per_pkt, host_ns_per_pkt   as above
 *   device_ns_per_pkt, device_busy, device_work_ns_per_pkt   0 (no device)
 *   software_ns_per_pkt   guest + host
 *   total_ns_per_pkt      process CPU time (CLOCK_PROCESS_CPUTIME_ID, all
 *                         threads) / packets; both worker threads busy-poll,
 *                         so this is about 2 cores / pps
 *   cpu_cores_busy        process CPU time / window
 * (bench/anchors adds "cpu", "kernel" and "load1".)
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CACHELINE 64
#define MAX_BATCH 256
#define K1 0x9E3779B97F4A7C15ull
#define K2 0xC2B2AE3D27D4EB4Full
#define SEQ_OFF 16 /* byte offset of the sequence number (word 2) */
#define HDR_SWAP 6 /* bytes 0..5 <-> 6..11 */

struct ring {
	_Alignas(CACHELINE) _Atomic uint32_t head; /* written by the producer */
	_Alignas(CACHELINE) _Atomic uint32_t tail; /* written by the consumer */
	_Alignas(CACHELINE) uint32_t slot[];       /* buffer indices */
};

/* Per-thread view of one end of a ring (kept in the owner's cache). */
struct prod_end {
	struct ring *r;
	uint32_t mask, size;
	uint32_t head, tail_cache;
};
struct cons_end {
	struct ring *r;
	uint32_t mask;
	uint32_t tail, head_cache;
};

static struct ring *ring_new(uint32_t size)
{
	struct ring *r = aligned_alloc(CACHELINE, sizeof(struct ring) + (size_t)size * 4 + CACHELINE);
	if (!r) {
		perror("limit_probe: ring");
		exit(2);
	}
	memset(r, 0, sizeof(struct ring) + (size_t)size * 4);
	return r;
}

/* Enqueue all n (the caller guarantees room: the pool is never larger
 * than the ring), one release store for the batch. */
static inline void ring_put(struct prod_end *p, const uint32_t *v, uint32_t n)
{
	while (p->size - (p->head - p->tail_cache) < n)
		p->tail_cache = atomic_load_explicit(&p->r->tail, memory_order_acquire);
	for (uint32_t i = 0; i < n; i++)
		p->r->slot[(p->head + i) & p->mask] = v[i];
	p->head += n;
	atomic_store_explicit(&p->r->head, p->head, memory_order_release);
}

/* Dequeue up to max; returns how many. */
static inline uint32_t ring_get(struct cons_end *c, uint32_t *v, uint32_t max)
{
	uint32_t avail = c->head_cache - c->tail;
	if (avail == 0) {
		c->head_cache = atomic_load_explicit(&c->r->head, memory_order_acquire);
		avail = c->head_cache - c->tail;
		if (avail == 0)
			return 0;
	}
	if (avail > max)
		avail = max;
	for (uint32_t i = 0; i < avail; i++)
		v[i] = c->r->slot[(c->tail + i) & c->mask];
	c->tail += avail;
	atomic_store_explicit(&c->r->tail, c->tail, memory_order_release);
	return avail;
}

/* ---- packets ---- */

static uint32_t size, stride, nwords, ntail;
static uint8_t *bufs;

static inline uint8_t *buf_of(uint32_t i) { return bufs + (size_t)i * stride; }

static inline uint64_t pat(uint64_t seq, uint64_t j) { return seq * K1 + j * K2; }

/* Write every byte: word j = pat(seq, j) except word 2 = seq; tail bytes. */
static inline void fill(uint8_t *b, uint64_t seq)
{
	uint64_t *w = (uint64_t *)b;
	for (uint32_t j = 0; j < nwords; j++)
		w[j] = pat(seq, j);
	w[SEQ_OFF / 8] = seq;
	for (uint32_t t = 0; t < ntail; t++)
		b[nwords * 8 + t] = (uint8_t)(seq + t);
}

/* Sum of all words the way the receiver computes it, in closed form. */
static inline uint64_t expected_sum(uint64_t seq, int swapped)
{
	/* words 3..nwords-1 follow the pattern */
	uint64_t n = nwords - 3;
	uint64_t sumj = (uint64_t)(nwords - 1) * nwords / 2 - 3; /* 3+...+(nwords-1) */
	uint64_t s = n * seq * K1 + sumj * K2;
	/* words 0, 1 (the header, possibly swapped) and 2 (seq) */
	uint64_t h[2] = { pat(seq, 0), pat(seq, 1) };
	if (swapped) {
		uint8_t *hb = (uint8_t *)h, tmp[HDR_SWAP];
		memcpy(tmp, hb, HDR_SWAP);
		memmove(hb, hb + HDR_SWAP, HDR_SWAP);
		memcpy(hb + HDR_SWAP, tmp, HDR_SWAP);
	}
	s += h[0] + h[1] + seq;
	for (uint32_t t = 0; t < ntail; t++)
		s += (uint64_t)(uint8_t)(seq + t) << (8 * (t & 7));
	return s;
}

/* Read every byte; 0 if the packet is the expected one and intact. */
static inline int verify(const uint8_t *b, uint64_t seq, int swapped)
{
	const uint64_t *w = (const uint64_t *)b;
	uint64_t s = 0;
	for (uint32_t j = 0; j < nwords; j++)
		s += w[j];
	for (uint32_t t = 0; t < ntail; t++)
		s += (uint64_t)b[nwords * 8 + t] << (8 * (t & 7));
	return (w[SEQ_OFF / 8] != seq) | (s != expected_sum(seq, swapped));
}

/* Software prefetch of the first LEN bytes of a buffer (for writing if rw),
 * PREFETCH packets ahead of the one being worked on, so that the cache-line
 * transfers between the cores of several packets overlap. */
static uint32_t prefetch = 0;
static inline void prefetch_buf(const uint8_t *b, int rw, uint32_t len)
{
	for (uint32_t o = 0; o < len; o += CACHELINE) {
		if (rw)
			__builtin_prefetch(b + o, 1, 3);
		else
			__builtin_prefetch(b + o, 0, 3);
	}
}
#define PREFETCH_START(v, n, rw, len) \
	for (uint32_t i_ = 0; i_ < prefetch && i_ < (n); i_++) \
		prefetch_buf(buf_of((v)[i_]), rw, len)
#define PREFETCH_NEXT(v, n, i, rw, len) \
	do { \
		if (prefetch && (i) + prefetch < (n)) \
			prefetch_buf(buf_of((v)[(i) + prefetch]), rw, len); \
	} while (0)

static inline void swap_hdr(uint8_t *b)
{
	uint8_t tmp[HDR_SWAP];
	memcpy(tmp, b, HDR_SWAP);
	memmove(b, b + HDR_SWAP, HDR_SWAP);
	memcpy(b + HDR_SWAP, tmp, HDR_SWAP);
}

/* ---- threads ---- */

static uint32_t ring_size = 1024, pool = 512, batch = 32;
static atomic_int stop;
static struct ring *ra, *rb; /* A: core 0 -> core 1; B (return or forward): core 1 -> core 0 */

struct stat_line {
	_Alignas(CACHELINE) _Atomic uint64_t pkts; /* verified at the final receiver */
	_Atomic uint64_t errors;
};
static struct stat_line stats;

static void pin(int cpu)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 2)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % n, &set);
	int e = pthread_setaffinity_np(pthread_self(), sizeof set, &set);
	if (e)
		fprintf(stderr, "limit_probe: pin to cpu %d: %s\n", cpu, strerror(e));
}

/* tx/rx producer and fwd generator+sink, core 0. */
static void *core0(void *arg)
{
	int fwd = *(int *)arg;
	pin(0);
	uint32_t *freel = malloc(pool * sizeof *freel), nfree = 0;
	for (uint32_t i = 0; i < pool; i++)
		freel[nfree++] = pool - 1 - i;
	struct prod_end pa = { ra, ring_size - 1, ring_size, 0, 0 };
	struct cons_end cb = { rb, ring_size - 1, 0, 0 };
	uint32_t v[MAX_BATCH];
	uint64_t seq = 0, rseq = 0, done = 0, errs = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* take back buffers: returned (tx/rx) or forwarded to us (fwd) */
		uint32_t n = ring_get(&cb, v, batch);
		if (fwd) {
			PREFETCH_START(v, n, 0, size);
			for (uint32_t i = 0; i < n; i++) {
				PREFETCH_NEXT(v, n, i, 0, size);
				errs += verify(buf_of(v[i]), rseq++, 1);
			}
			if (n) {
				done += n;
				atomic_store_explicit(&stats.pkts, done, memory_order_relaxed);
				if (errs)
					atomic_store_explicit(&stats.errors, errs, memory_order_relaxed);
			}
		}
		for (uint32_t i = 0; i < n; i++)
			freel[nfree++] = v[i];
		/* send a batch */
		uint32_t k = nfree < batch ? nfree : batch;
		for (uint32_t i = 0; i < k; i++)
			v[i] = freel[--nfree];
		PREFETCH_START(v, k, 1, size);
		for (uint32_t i = 0; i < k; i++) {
			PREFETCH_NEXT(v, k, i, 1, size);
			fill(buf_of(v[i]), seq++);
		}
		if (k)
			ring_put(&pa, v, k);
	}
	free(freel);
	return NULL;
}

/* tx/rx consumer (verifies, returns) or fwd forwarder (swaps, forwards), core 1. */
static void *core1(void *arg)
{
	int fwd = *(int *)arg;
	pin(1);
	struct cons_end ca = { ra, ring_size - 1, 0, 0 };
	struct prod_end pb = { rb, ring_size - 1, ring_size, 0, 0 };
	uint32_t v[MAX_BATCH];
	uint64_t seq = 0, done = 0, errs = 0;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint32_t n = ring_get(&ca, v, batch);
		if (!n)
			continue;
		if (fwd) {
			/* the forwarder touches only the header line */
			PREFETCH_START(v, n, 1, 1);
			for (uint32_t i = 0; i < n; i++) {
				PREFETCH_NEXT(v, n, i, 1, 1);
				swap_hdr(buf_of(v[i]));
			}
		} else {
			PREFETCH_START(v, n, 0, size);
			for (uint32_t i = 0; i < n; i++) {
				PREFETCH_NEXT(v, n, i, 0, size);
				errs += verify(buf_of(v[i]), seq++, 0);
			}
			done += n;
			atomic_store_explicit(&stats.pkts, done, memory_order_relaxed);
			if (errs)
				atomic_store_explicit(&stats.errors, errs, memory_order_relaxed);
		}
		ring_put(&pb, v, n);
	}
	return NULL;
}

static double now(clockid_t c)
{
	struct timespec ts;
	clock_gettime(c, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static void usage(void)
{
	fprintf(stderr, "usage: limit_probe --scenario tx|rx|fwd --size BYTES --seconds S "
			"[--warmup S] [--ring N] [--pool N] [--batch N] [--prefetch D]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *scenario = "tx";
	double seconds = 5, warmup = 0.5;
	size = 64;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		const char *a = argv[i], *v = argv[++i];
		if (!strcmp(a, "--scenario"))
			scenario = v;
		else if (!strcmp(a, "--size"))
			size = (uint32_t)atoi(v);
		else if (!strcmp(a, "--seconds"))
			seconds = atof(v);
		else if (!strcmp(a, "--warmup"))
			warmup = atof(v);
		else if (!strcmp(a, "--ring"))
			ring_size = (uint32_t)atoi(v);
		else if (!strcmp(a, "--pool"))
			pool = (uint32_t)atoi(v);
		else if (!strcmp(a, "--batch"))
			batch = (uint32_t)atoi(v);
		else if (!strcmp(a, "--prefetch"))
			prefetch = (uint32_t)atoi(v);
		else
			usage();
	}
	int fwd;
	if (!strcmp(scenario, "fwd"))
		fwd = 1;
	else if (!strcmp(scenario, "tx") || !strcmp(scenario, "rx"))
		fwd = 0;
	else
		usage();
	if (size < 24 || size > 65536 || seconds <= 0 || ring_size < 2 || (ring_size & (ring_size - 1)) ||
	    pool < 1 || pool > ring_size || batch < 1 || batch > MAX_BATCH || prefetch > MAX_BATCH) {
		fprintf(stderr, "limit_probe: need size 24..65536, ring a power of two, "
				"1 <= pool <= ring, 1 <= batch <= %d\n", MAX_BATCH);
		return 2;
	}
	stride = (size + CACHELINE - 1) & ~(uint32_t)(CACHELINE - 1);
	nwords = size / 8;
	ntail = size % 8;
	size_t bytes = (size_t)stride * pool;
	bufs = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (bufs == MAP_FAILED) {
		perror("limit_probe: mmap");
		return 2;
	}
	memset(bufs, 0, bytes);
	ra = ring_new(ring_size);
	rb = ring_new(ring_size);

	pthread_t t0, t1;
	pthread_create(&t1, NULL, core1, &fwd);
	pthread_create(&t0, NULL, core0, &fwd);

	clockid_t ck0, ck1;
	if (pthread_getcpuclockid(t0, &ck0) || pthread_getcpuclockid(t1, &ck1)) {
		fprintf(stderr, "limit_probe: pthread_getcpuclockid failed\n");
		return 2;
	}
	sleep_s(warmup);
	uint64_t p1 = atomic_load(&stats.pkts);
	double w1 = now(CLOCK_MONOTONIC), c1 = now(CLOCK_PROCESS_CPUTIME_ID);
	double a1 = now(ck0), b1 = now(ck1);
	sleep_s(seconds);
	uint64_t p2 = atomic_load(&stats.pkts);
	double w2 = now(CLOCK_MONOTONIC), c2 = now(CLOCK_PROCESS_CPUTIME_ID);
	double a2 = now(ck0), b2 = now(ck1);
	atomic_store(&stop, 1);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	uint64_t errors = atomic_load(&stats.errors);

	double pkts = (double)(p2 - p1), wall = w2 - w1, pps = pkts / wall;
	double per = pkts > 0 ? 1e9 / pkts : 0.0;
	/* core 0 is the guest only when the guest transmits (tx) */
	int core0_guest = !strcmp(scenario, "tx");
	double cpu0 = a2 - a1, cpu1 = b2 - b1;
	double guest = core0_guest ? cpu0 : cpu1, host = core0_guest ? cpu1 : cpu0;
	printf("{\"mode\":\"limit\",\"scenario\":\"%s\",\"size\":%u,\"mpps\":%.3f,\"gbps\":%.3f,"
	       "\"seconds\":%.3f,\"packets\":%.0f,\"guest_ns_per_pkt\":%.2f,\"host_ns_per_pkt\":%.2f,"
	       "\"device_ns_per_pkt\":0,\"software_ns_per_pkt\":%.2f,\"device_busy\":0,\"device_work_ns_per_pkt\":0,"
	       "\"total_ns_per_pkt\":%.2f,\"cpu_cores_busy\":%.2f,\"guest_cores_busy\":%.2f,\"host_cores_busy\":%.2f,"
	       "\"errors\":%llu,\"hand_overs\":%d,\"ring\":%u,\"pool\":%u,\"batch\":%u,\"prefetch\":%u,"
	       "\"stride\":%u}\n",
	       scenario, size, pps / 1e6, pps * size * 8 / 1e9, wall, pkts, guest * per, host * per,
	       (guest + host) * per, (c2 - c1) * per, (c2 - c1) / wall, guest / wall, host / wall,
	       (unsigned long long)errors, fwd ? 2 : 1, ring_size, pool, batch, prefetch, stride);
	return errors || pkts == 0 ? 1 : 0;
}
