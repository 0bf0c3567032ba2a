/*
 * bench/dpdk/touch.c: a minimal DPDK application for the "--app touch"
 * variant of the DPDK anchor (bench/anchors dpdk ... --app touch).
 *
 * testpmd's txonly writes only the 42 header bytes of each packet and its
 * rxonly frees packets without reading them, so with testpmd the payload of
 * a 1500-byte packet never has to move between the cores. opsub's example
 * guests (pktgen, sink) write and read every byte, as does
 * bench/limit_probe.c. This program does the same work on top of DPDK's
 * ethdev API (here the vhost and virtio-user PMDs), one forwarding lcore,
 * port 0, one queue pair:
 *
 *   --mode gen      allocate a burst, write every byte of each packet
 *                   (Ethernet header, sequence number at offset 16, pattern),
 *                   rte_eth_tx_burst, free what was not sent (and reuse its
 *                   sequence numbers); drain and free anything received
 *   --mode sink     rte_eth_rx_burst, read every byte and verify it, free
 *   --mode fwd      rte_eth_rx_burst, swap the MAC addresses, send back on
 *                   the same port, free what was not sent
 *   --mode gensink  gen and sink on the same lcore (the host side of fwd)
 *
 * Control: the main lcore prints a line
 *   stats t_ns=<CLOCK_MONOTONIC> rx=<n> tx=<n> good=<n> bad=<n> gaps=<n>
 * on each SIGUSR1 and quits on SIGTERM/SIGINT. "good" counts packets read
 * and verified (sink, gensink), "tx" packets accepted by the port.
 *
 * Build (bench/anchors does it):
 *   gcc -O2 $(pkg-config --cflags libdpdk) -o build/bench/dpdk_touch \
 *       bench/dpdk/touch.c $(pkg-config --libs libdpdk)
 * Run: dpdk_touch EAL-ARGS -- --mode MODE --size BYTES
 */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#define BURST 32
#define RING 1024
#define NB_MBUF 8191
#define ETHERTYPE 0x88b5 /* IEEE local experimental */
#define K1 0x9E3779B97F4A7C15ull
#define K2 0xC2B2AE3D27D4EB4Full

enum mode { GEN = 1, SINK = 2, FWD = 4 };

static int mode;
static uint32_t size = 64, nwords;
static volatile sig_atomic_t want_stats, want_quit;
static volatile int stop;

static struct {
	uint64_t rx, tx, good, bad, gaps;
} __rte_cache_aligned st;

static struct rte_mempool *pool;
static const uint8_t DST[6] = { 0x02, 0, 0, 0, 0, 0x02 }, SRC[6] = { 0x02, 0, 0, 0, 0, 0x01 };

static inline uint64_t pat(uint64_t seq, uint64_t j) { return seq * K1 + j * K2; }

/* Every byte: dst, src, ethertype, 2 pad bytes, seq (word 2), pattern words
 * 3.., tail bytes. */
static inline void fill(uint8_t *b, uint64_t seq)
{
	uint64_t *w = (uint64_t *)b;
	for (uint32_t j = 3; j < nwords; j++)
		w[j] = pat(seq, j);
	for (uint32_t t = nwords * 8; t < size; t++)
		b[t] = (uint8_t)(seq + t);
	memcpy(b, DST, 6);
	memcpy(b + 6, SRC, 6);
	b[12] = ETHERTYPE >> 8;
	b[13] = ETHERTYPE & 0xff;
	b[14] = b[15] = 0;
	w[2] = seq;
}

/* Read every byte; 0 if intact. The MACs may have been swapped (fwd). */
static inline int verify(const uint8_t *b, uint32_t len, uint64_t *seqp)
{
	if (len != size)
		return 1;
	const uint64_t *w = (const uint64_t *)b;
	uint64_t seq = w[2], s = 0, e;
	for (uint32_t j = 3; j < nwords; j++)
		s += w[j];
	uint32_t n = nwords - 3;
	uint64_t sumj = (uint64_t)(nwords - 1) * nwords / 2 - 3;
	e = n * seq * K1 + sumj * K2;
	for (uint32_t t = nwords * 8; t < size; t++) {
		s += b[t];
		e += (uint8_t)(seq + t);
	}
	int mac_ok = (!memcmp(b, DST, 6) && !memcmp(b + 6, SRC, 6)) ||
		     (!memcmp(b, SRC, 6) && !memcmp(b + 6, DST, 6));
	*seqp = seq;
	return !(mac_ok && b[12] == (ETHERTYPE >> 8) && b[13] == (ETHERTYPE & 0xff) && s == e);
}

static int worker(void *arg)
{
	(void)arg;
	struct rte_mbuf *m[BURST];
	uint64_t seq = 0, next = 0, got = 0;
	while (!stop) {
		if (mode & GEN) {
			if (rte_pktmbuf_alloc_bulk(pool, m, BURST) == 0) {
				for (int i = 0; i < BURST; i++) {
					m[i]->data_len = m[i]->pkt_len = size;
					fill(rte_pktmbuf_mtod(m[i], uint8_t *), seq++);
				}
				uint16_t s = rte_eth_tx_burst(0, 0, m, BURST);
				if (s < BURST) {
					rte_pktmbuf_free_bulk(m + s, BURST - s);
					seq -= BURST - s;
				}
				st.tx += s;
			}
		}
		uint16_t n = rte_eth_rx_burst(0, 0, m, BURST);
		if (!n)
			continue;
		st.rx += n;
		if (mode & SINK) {
			for (uint16_t i = 0; i < n; i++) {
				uint64_t q;
				if (verify(rte_pktmbuf_mtod(m[i], uint8_t *), m[i]->data_len, &q)) {
					st.bad++;
				} else {
					st.good++;
					st.gaps += got && q != next;
					next = q + 1;
					got++;
				}
			}
			rte_pktmbuf_free_bulk(m, n);
		} else if (mode & FWD) {
			for (uint16_t i = 0; i < n; i++) {
				uint8_t *b = rte_pktmbuf_mtod(m[i], uint8_t *), tmp[6];
				memcpy(tmp, b, 6);
				memcpy(b, b + 6, 6);
				memcpy(b + 6, tmp, 6);
			}
			uint16_t s = rte_eth_tx_burst(0, 0, m, n);
			if (s < n)
				rte_pktmbuf_free_bulk(m + s, n - s);
			st.tx += s;
		} else {
			rte_pktmbuf_free_bulk(m, n);
		}
	}
	return 0;
}

static void on_usr1(int sig) { (void)sig; want_stats = 1; }
static void on_term(int sig) { (void)sig; want_quit = 1; }

static void print_stats(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("stats t_ns=%llu rx=%llu tx=%llu good=%llu bad=%llu gaps=%llu\n",
	       (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec,
	       (unsigned long long)st.rx, (unsigned long long)st.tx, (unsigned long long)st.good,
	       (unsigned long long)st.bad, (unsigned long long)st.gaps);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	/* Block the control signals in every thread (EAL's threads inherit this
	 * mask); the main lcore takes them in sigsuspend, sleeping: it shares
	 * its core with the other process's forwarding lcore. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	int n = rte_eal_init(argc, argv);
	if (n < 0) {
		fprintf(stderr, "dpdk_touch: EAL init failed\n");
		return 1;
	}
	argc -= n;
	argv += n;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--mode")) {
			const char *v = argv[i + 1];
			mode = !strcmp(v, "gen") ? GEN : !strcmp(v, "sink") ? SINK : !strcmp(v, "fwd") ? FWD
			     : !strcmp(v, "gensink") ? GEN | SINK : 0;
		} else if (!strcmp(argv[i], "--size")) {
			size = (uint32_t)atoi(argv[i + 1]);
		}
	}
	if (!mode || size < 24 || size > 2000) {
		fprintf(stderr, "usage: dpdk_touch EAL-ARGS -- --mode gen|sink|fwd|gensink --size 24..2000\n");
		return 2;
	}
	nwords = size / 8;
	if (rte_eth_dev_count_avail() < 1) {
		fprintf(stderr, "dpdk_touch: no port (give a --vdev)\n");
		return 1;
	}
	pool = rte_pktmbuf_pool_create("touch", NB_MBUF, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!pool) {
		fprintf(stderr, "dpdk_touch: mbuf pool: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof conf);
	if (rte_eth_dev_configure(0, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(0, 0, RING, rte_eth_dev_socket_id(0), NULL, pool) < 0 ||
	    rte_eth_tx_queue_setup(0, 0, RING, rte_eth_dev_socket_id(0), NULL) < 0 ||
	    rte_eth_dev_start(0) < 0) {
		fprintf(stderr, "dpdk_touch: port 0 setup failed\n");
		return 1;
	}
	signal(SIGUSR1, on_usr1);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	unsigned lcore = rte_get_next_lcore(-1, 1, 0);
	if (lcore >= RTE_MAX_LCORE) {
		fprintf(stderr, "dpdk_touch: need a worker lcore (-l MAIN,WORKER)\n");
		return 1;
	}
	printf("ready mode=%d size=%u worker_lcore=%u\n", mode, size, lcore);
	fflush(stdout);
	rte_eal_remote_launch(worker, NULL, lcore);
	while (!want_quit) {
		if (want_stats) {
			want_stats = 0;
			print_stats();
			continue;
		}
		sigsuspend(&old);
	}
	stop = 1;
	rte_eal_mp_wait_lcore();
	print_stats();
	rte_eth_dev_stop(0);
	rte_eth_dev_close(0);
	rte_eal_cleanup();
	return 0;
}
