/*
 * test_nic_migrate.c: the NIC's part of live migration (nic.h, "migration"):
 * the DMA dirty log marks exactly the pages received frames touch (and
 * descriptor write-backs), nothing when off; nic_dirty_mark for the
 * paravirt backend; a quiesced queue gets no frames (each counted), never
 * holds a lossless wire, and its transmit ring drains (or the wait times
 * out); announcements are three RARP frames, 50 ms apart, on the wire.
 * A pre-copy done the way a migration does it, with frames written only by
 * DMA, ends with a copy equal to the source; stopping a log waits for the
 * nic_dirty_mark calls inside it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "nic_rig.h"

#define DATA_WINDOW 1u      /* "guest memory": the window the tests log */
#define RING_WINDOW 2u      /* rings, not logged: the log shows frames only */
#define PAGE        4096u
#define DATA_PAGES  64u
#define RING_MEM    (1u << 20)
#define RING        16u
#define BUF         2048u
#define TX_PAGE     40u     /* where frames are sent from (read, never marked) */

static const uint8_t MAC_A[6] = { 0x02, 0, 0, 0, 0, 0xa };    /* queue 1 */
static const uint8_t MAC_M[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

/* A NIC with DATA_WINDOW (DATA_PAGES pages) and RING_WINDOW mapped; MAC_A
 * steered to queue 1. */
struct rig {
	struct nic_rig base;
	uint8_t *rings;
	struct nic_dma_arena ring_arena;
	struct nic_txq tx;          /* queue 0 */
	struct nic_rxq rx;          /* queue 1 */
	/* DATA_PAGES bits, then a word no mark may reach (checked at close) */
	uint64_t bitmap[2];
};

static void add_filter(struct rig *r, const uint8_t *mac, unsigned q,
                       uint16_t flags)
{
	struct nic_filter f = { .vlan = NIC_VLAN_ANY, .queue = (uint16_t)q,
	                        .flags = flags };
	char err[256];
	memcpy(f.mac, mac, 6);
	if (nic_filter_add(r->base.nic, &f, err, sizeof(err)) < 0)
		fail_msg("nic_filter_add: %s", err);
}

static void rig_open_with(struct rig *r, const char *wire, unsigned queues,
                          uint64_t rx_wait_ns, bool start)
{
	struct nic_config cfg;
	nic_config_defaults(&cfg);
	cfg.wire = wire;
	cfg.num_queues = queues;
	cfg.rx_wait_ns = rx_wait_ns;
	memset(r, 0, sizeof(*r));
	nic_rig_open_stopped(&r->base, &cfg, DATA_WINDOW, DATA_PAGES * PAGE);
	r->rings = mmap(NULL, RING_MEM, PROT_READ | PROT_WRITE,
	                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(r->rings != MAP_FAILED);
	char err[256];
	assert_int_equal(nic_window_map(r->base.nic, RING_WINDOW, r->rings,
	                                RING_MEM, err, sizeof(err)), 0);
	r->ring_arena = (struct nic_dma_arena){
		.host = r->rings, .size = RING_MEM,
		.dev = NIC_DEV_ADDR(RING_WINDOW, 0) };
	add_filter(r, MAC_A, 1, 0);
	if (start)
		nic_rig_start(&r->base);
}

static void rig_open(struct rig *r, const char *wire, unsigned queues)
{
	rig_open_with(r, wire, queues, 0, true);
}

static void rig_close(struct rig *r)
{
	assert_int_equal(r->bitmap[1], 0);   /* nothing beyond the window */
	nic_rig_close(&r->base);
	munmap(r->rings, RING_MEM);
}

static void tx_open(struct rig *r, unsigned q, struct nic_dma_arena *arena)
{
	uint64_t dev;
	void *ring = nic_arena_alloc(arena, RING * 16, 64, &dev);
	assert_non_null(ring);
	struct nic_queue_regs *regs = nic_queue_regs(r->base.nic, q);
	nic_txq_start(&r->tx, regs, ring, dev, RING,
	              nic_queue_doorbell_fd(r->base.nic, q));
	assert_true(nic_queue_wait_status(regs, NIC_QSTA_TX_ACTIVE,
	                                  NIC_QSTA_TX_ACTIVE, 5000));
}

/* Receive ring of queue q, nothing posted yet. */
static void rx_open(struct rig *r, struct nic_rxq *rx, unsigned q,
                    struct nic_dma_arena *arena)
{
	uint64_t dev;
	void *ring = nic_arena_alloc(arena, RING * 16, 64, &dev);
	assert_non_null(ring);
	struct nic_queue_regs *regs = nic_queue_regs(r->base.nic, q);
	nic_rxq_start(rx, regs, ring, dev, RING,
	              nic_queue_doorbell_fd(r->base.nic, q));
	assert_true(nic_queue_wait_status(regs, NIC_QSTA_RX_ACTIVE,
	                                  NIC_QSTA_RX_ACTIVE, 5000));
}

static uint64_t data_dev(uint64_t offset)
{
	return NIC_DEV_ADDR(DATA_WINDOW, offset);
}

/* Queue 0 sends len bytes to MAC_A from TX_PAGE (payload seed + i) and
 * waits until the NIC has taken it. */
static void send_to_a(struct rig *r, uint32_t len, uint8_t seed, uint8_t cmd)
{
	uint8_t *f = r->base.mem + TX_PAGE * PAGE;
	memcpy(f, MAC_A, 6);
	memset(f + 6, 0x0e, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed + i);
	nic_txq_post(&r->tx, data_dev(TX_PAGE * PAGE), (uint16_t)len,
	             NIC_TXD_CMD_EOP | cmd, 0);
	nic_txq_kick(&r->tx);
	assert_true(WAIT_FOR(nic_reg_read32(&r->tx.regs->tx_head) ==
	                     r->tx.tail));
	nic_txq_reap(&r->tx);
}

/* A frame of len bytes received by queue 1 into a buffer at data offset
 * `at`: posts the buffer, sends, waits for the head to be published (the
 * NIC's marks come before it), checks the bytes landed there. */
static void receive_at(struct rig *r, uint64_t at, uint32_t len, uint8_t seed)
{
	nic_rxq_post(&r->rx, data_dev(at), BUF);
	nic_rxq_kick(&r->rx);
	send_to_a(r, len, seed, 0);
	assert_true(WAIT_FOR(nic_rxq_ready(&r->rx) > 0));
	uint32_t index;
	struct nic_rx_desc d;
	assert_true(nic_rxq_poll(&r->rx, &index, &d));
	assert_int_equal(d.length, len);
	assert_memory_equal(r->base.mem + at, r->base.mem + TX_PAGE * PAGE, len);
}

/* What a harvester does: takes the bits, leaves zeros. */
static uint64_t harvest(struct rig *r)
{
	return __atomic_exchange_n(&r->bitmap[0], 0, __ATOMIC_SEQ_CST);
}

static void log_start(struct rig *r, unsigned window)
{
	char err[256];
	if (nic_dirty_log_start(r->base.nic, window, r->bitmap, DATA_PAGES, err,
	                        sizeof(err)) != 0)
		fail_msg("nic_dirty_log_start: %s", err);
}

#define BIT(p) (1ull << (p))

/* ---- the DMA dirty log ------------------------------------------------ */

/* A frame marks the pages it touches, and only those: inside one page,
 * ending exactly at a page's end, across a boundary. The page it was sent
 * from (read) is not marked; with the log off nothing is. */
static void test_dirty_log_marks_exactly_the_pages_a_frame_touches(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, "loop", 2);
	tx_open(&r, 0, &r.ring_arena);
	rx_open(&r, &r.rx, 1, &r.ring_arena);

	receive_at(&r, 3 * PAGE, 200, 1);   /* before the log: not marked */
	log_start(&r, DATA_WINDOW);
	assert_int_equal(harvest(&r), 0);

	receive_at(&r, 5 * PAGE + 100, 200, 2);
	assert_int_equal(harvest(&r), BIT(5));
	receive_at(&r, 7 * PAGE - 200, 200, 3);      /* last byte: page 6 */
	assert_int_equal(harvest(&r), BIT(6));
	receive_at(&r, 9 * PAGE + PAGE - 60, 200, 4);   /* pages 9 and 10 */
	assert_int_equal(harvest(&r), BIT(9) | BIT(10));
	receive_at(&r, 12 * PAGE - 1, 1500, 5);          /* 11 and 12 */
	receive_at(&r, 30 * PAGE, 64, 6);
	assert_int_equal(harvest(&r), BIT(11) | BIT(12) | BIT(30));

	nic_dirty_log_stop(r.base.nic, DATA_WINDOW);
	receive_at(&r, 20 * PAGE, 200, 7);
	assert_int_equal(harvest(&r), 0);
	rig_close(&r);
}

/* Descriptor write-backs are DMA writes too: with the rings in the logged
 * window, an RX descriptor's page and an RS TX descriptor's page are
 * marked (the TX buffer, only read, is not). */
static void test_dirty_log_marks_descriptor_writebacks(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, "loop", 2);
	/* rings at data pages 50 (TX) and 51 (RX) */
	struct nic_dma_arena data = r.base.arena;
	data.used = 50 * PAGE;
	tx_open(&r, 0, &data);
	data.used = 51 * PAGE;
	rx_open(&r, &r.rx, 1, &data);
	log_start(&r, DATA_WINDOW);

	send_to_a(&r, 64, 1, NIC_TXD_CMD_RS);   /* no buffer posted: dropped */
	assert_true(WAIT_FOR(__atomic_load_n(&r.bitmap[0], __ATOMIC_SEQ_CST) ==
	                     BIT(50)));
	assert_int_equal(harvest(&r), BIT(50));
	receive_at(&r, 2 * PAGE, 100, 2);
	assert_int_equal(harvest(&r), BIT(51) | BIT(2));
	rig_close(&r);
}

/* The paravirt backend's marks: the pages of [addr, addr + len), in the
 * window's log; nothing without a log, or for another window, or after
 * stop. */
static void test_dirty_mark_for_the_paravirt_backend(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, "null", 2);
	nic_dirty_mark(r.base.nic, data_dev(0), 100);   /* no log: harmless */
	assert_int_equal(r.bitmap[0], 0);
	log_start(&r, DATA_WINDOW);
	nic_dirty_mark(r.base.nic, data_dev(PAGE - 1), 2);
	assert_int_equal(harvest(&r), BIT(0) | BIT(1));
	nic_dirty_mark(r.base.nic, data_dev(8 * PAGE), PAGE);
	assert_int_equal(harvest(&r), BIT(8));
	nic_dirty_mark(r.base.nic, data_dev(63 * PAGE + 10), 0);
	nic_dirty_mark(r.base.nic, NIC_DEV_ADDR(RING_WINDOW, 0), 100);
	nic_dirty_mark(r.base.nic, NIC_DEV_ADDR(NIC_MAX_WINDOWS, 0), 100);
	assert_int_equal(harvest(&r), 0);
	nic_dirty_mark(r.base.nic, data_dev(63 * PAGE + 10), 1);
	assert_int_equal(harvest(&r), BIT(63));
	/* running past the window's end (or absurdly long) stops at its last
	 * page: bitmap[1] stays clear (rig_close) */
	nic_dirty_mark(r.base.nic, data_dev(62 * PAGE), 10 * PAGE);
	assert_int_equal(harvest(&r), BIT(62) | BIT(63));
	nic_dirty_mark(r.base.nic, data_dev(61 * PAGE), UINT64_MAX);
	assert_int_equal(harvest(&r), BIT(61) | BIT(62) | BIT(63));
	nic_dirty_log_stop(r.base.nic, DATA_WINDOW);
	nic_dirty_mark(r.base.nic, data_dev(PAGE), 1);
	assert_int_equal(harvest(&r), 0);
	rig_close(&r);
}

/* Start refuses what cannot work, each with a message; a window's log
 * ends when the window is unmapped (its bitmap may then be freed). */
static void test_dirty_log_start_errors_and_unmap(void **state)
{
	(void)state;
	struct rig r;
	char err[256];
	rig_open(&r, "null", 2);
	uint64_t small[1];
	err[0] = 0;
	assert_int_equal(nic_dirty_log_start(r.base.nic, 7, r.bitmap, 64, err,
	                                     sizeof(err)), -1);
	assert_non_null(strstr(err, "not mapped"));
	err[0] = 0;
	assert_int_equal(nic_dirty_log_start(r.base.nic, DATA_WINDOW, small,
	                                     DATA_PAGES - 1, err, sizeof(err)),
	                 -1);
	assert_non_null(strstr(err, "too small"));
	err[0] = 0;
	assert_int_equal(nic_dirty_log_start(r.base.nic, NIC_MAX_WINDOWS,
	                                     r.bitmap, 64, err, sizeof(err)), -1);
	assert_true(err[0] != 0);
	log_start(&r, DATA_WINDOW);
	err[0] = 0;
	assert_int_equal(nic_dirty_log_start(r.base.nic, DATA_WINDOW, r.bitmap,
	                                     DATA_PAGES, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already"));

	assert_int_equal(nic_window_unmap(r.base.nic, DATA_WINDOW, err,
	                                  sizeof(err)), 0);
	nic_dirty_mark(r.base.nic, data_dev(0), 1);
	assert_int_equal(harvest(&r), 0);
	nic_dirty_log_stop(r.base.nic, DATA_WINDOW);   /* a no-op now */
	/* mapped again, it can have a new log */
	assert_int_equal(nic_window_map(r.base.nic, DATA_WINDOW, r.base.mem,
	                                DATA_PAGES * PAGE, err, sizeof(err)), 0);
	log_start(&r, DATA_WINDOW);
	nic_dirty_mark(r.base.nic, data_dev(0), 1);
	assert_int_equal(harvest(&r), BIT(0));
	rig_close(&r);
}

/* A frame from queue 0 to MAC_A, of len bytes (payload from seed), sent
 * from the ring window: the CPU writes nothing in the logged window. */
static void send_from_rings(struct rig *r, uint8_t *f, uint64_t f_dev,
                            uint32_t len, uint32_t seed)
{
	memcpy(f, MAC_A, 6);
	memset(f + 6, 0x0e, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed * 31 + i * 7);
	nic_txq_post(&r->tx, f_dev, (uint16_t)len, NIC_TXD_CMD_EOP, 0);
}

/* The pages [at, at + len) touches, as bits. */
static uint64_t pages_of(uint64_t at, uint32_t len)
{
	uint64_t bits = 0;
	for (uint64_t p = at / PAGE; p <= (at + len - 1) / PAGE; p++)
		bits |= BIT(p);
	return bits;
}

/* Pre-copy as a migration does it: log on, every page copied once, then
 * rounds in which frames land (DMA only: nothing else writes the window)
 * and the harvested pages are copied again. Each round harvests exactly
 * the pages its frames touched; at the end the copy equals the source. */
static void test_dirty_log_precopy_of_dma_written_pages_equals_source(void **state)
{
	(void)state;
	enum { ROUNDS = 6, PER_ROUND = 8 };
	struct rig r;
	rig_open(&r, "loop", 2);
	tx_open(&r, 0, &r.ring_arena);
	rx_open(&r, &r.rx, 1, &r.ring_arena);
	uint64_t frames_dev;
	uint8_t *frames = nic_arena_alloc(&r.ring_arena, PER_ROUND * BUF, 64,
	                                  &frames_dev);
	assert_non_null(frames);
	uint64_t size = DATA_PAGES * PAGE;
	for (uint64_t i = 0; i < size; i++)   /* the guest's own data */
		r.base.mem[i] = (uint8_t)(i * 13 + 5);

	log_start(&r, DATA_WINDOW);
	uint8_t *copy = malloc(size);
	assert_non_null(copy);
	memcpy(copy, r.base.mem, size);       /* round 0: everything */

	uint32_t rand = 12345;
	for (unsigned round = 1; round <= ROUNDS; round++) {
		uint64_t expected = 0;
		for (unsigned i = 0; i < PER_ROUND; i++) {
			rand = rand * 1103515245u + 12345u;
			uint64_t at = (rand >> 8) % (size - BUF);
			uint32_t len = 60 + (rand >> 4) % 1455;
			nic_rxq_post(&r.rx, data_dev(at), BUF);
			send_from_rings(&r, frames + i * BUF, frames_dev + i * BUF,
			                len, round * PER_ROUND + i);
			expected |= pages_of(at, len);
		}
		nic_rxq_kick(&r.rx);
		nic_txq_kick(&r.tx);
		assert_true(WAIT_FOR(nic_rxq_ready(&r.rx) == PER_ROUND));
		for (unsigned i = 0; i < PER_ROUND; i++) {
			uint32_t index;
			struct nic_rx_desc d;
			assert_true(nic_rxq_poll(&r.rx, &index, &d));
		}
		assert_true(WAIT_FOR(nic_reg_read32(&r.tx.regs->tx_head) ==
		                     r.tx.tail));
		nic_txq_reap(&r.tx);

		uint64_t bits = harvest(&r);
		assert_int_equal(bits, expected);
		for (unsigned p = 0; p < DATA_PAGES; p++)
			if (bits & BIT(p))
				memcpy(copy + (uint64_t)p * PAGE,
				       r.base.mem + (uint64_t)p * PAGE, PAGE);
	}
	nic_dirty_log_stop(r.base.nic, DATA_WINDOW);
	assert_memory_equal(copy, r.base.mem, size);
	free(copy);
	rig_close(&r);
}

/* ---- stopping a log while the paravirt backend marks ------------------ */

struct marker {
	struct nic *nic;
	bool done;              /* atomic */
};

static void *mark_page_5(void *arg)
{
	struct marker *m = arg;
	nic_dirty_mark(m->nic, data_dev(5 * PAGE), 1);
	__atomic_store_n(&m->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

static void *stop_log(void *arg)
{
	struct marker *m = arg;
	nic_dirty_log_stop(m->nic, DATA_WINDOW);
	__atomic_store_n(&m->done, true, __ATOMIC_SEQ_CST);
	return NULL;
}

/* A userfaultfd on which a first touch of a registered page waits until
 * the test resolves it; -1 if this host gives none. */
static int open_userfaultfd(void)
{
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC);
	struct uffdio_api api = { .api = UFFD_API };
	if (fd >= 0 && ioctl(fd, UFFDIO_API, &api) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Stop waits for a nic_dirty_mark that is inside the log: the caller may
 * free the bitmap once it returns. The bitmap is a page the marking thread
 * blocks on (a userfaultfd holds its first touch), so the mark is held in
 * the middle for as long as the test likes: stop must not return until it
 * is let go, and the mark it waited for is in the bitmap. */
static void test_dirty_log_stop_waits_for_marks_in_progress(void **state)
{
	(void)state;
	int uffd = open_userfaultfd();
	if (uffd < 0) {
		print_message("no userfaultfd on this host: cannot hold a mark\n");
		skip();
	}
	struct rig r;
	char err[256];
	rig_open(&r, "null", 2);
	uint64_t *bitmap = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
	                        MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(bitmap != MAP_FAILED);
	struct uffdio_register reg = {
		.range = { .start = (uintptr_t)bitmap, .len = PAGE },
		.mode = UFFDIO_REGISTER_MODE_MISSING };
	assert_int_equal(ioctl(uffd, UFFDIO_REGISTER, &reg), 0);
	if (nic_dirty_log_start(r.base.nic, DATA_WINDOW, bitmap, DATA_PAGES,
	                        err, sizeof(err)) != 0)
		fail_msg("nic_dirty_log_start: %s", err);

	struct marker mark = { .nic = r.base.nic }, stop = { .nic = r.base.nic };
	pthread_t marking, stopping;
	assert_int_equal(pthread_create(&marking, NULL, mark_page_5, &mark), 0);
	struct pollfd p = { .fd = uffd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 5000), 1);   /* the mark is held */
	struct uffd_msg msg;
	assert_int_equal(read(uffd, &msg, sizeof(msg)), sizeof(msg));
	assert_int_equal(msg.event, UFFD_EVENT_PAGEFAULT);

	assert_int_equal(pthread_create(&stopping, NULL, stop_log, &stop), 0);
	usleep(200000);
	assert_false(__atomic_load_n(&stop.done, __ATOMIC_SEQ_CST));
	assert_false(__atomic_load_n(&mark.done, __ATOMIC_SEQ_CST));

	struct uffdio_zeropage zero = {
		.range = { .start = (uintptr_t)bitmap, .len = PAGE } };
	assert_int_equal(ioctl(uffd, UFFDIO_ZEROPAGE, &zero), 0);
	pthread_join(marking, NULL);
	pthread_join(stopping, NULL);
	assert_true(stop.done);
	assert_int_equal(bitmap[0], BIT(5));
	nic_dirty_mark(r.base.nic, data_dev(6 * PAGE), 1);   /* no log now */
	assert_int_equal(bitmap[0], BIT(5));
	munmap(bitmap, PAGE);
	close(uffd);
	rig_close(&r);
}

/* ---- quiescing a queue ------------------------------------------------ */

static void post_buffers(struct nic_rxq *rx, uint64_t at, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		nic_rxq_post(rx, data_dev(at + (uint64_t)i * BUF), BUF);
	nic_rxq_kick(rx);
}

/* A quiesced queue gets nothing, each frame steered to it counted (and in
 * its rx_dropped); unquiesced, it receives again; the count is of the
 * last quiesce. */
static void test_quiesced_queue_counts_frames_and_unquiesce_restores(void **state)
{
	(void)state;
	struct rig r;
	rig_open(&r, "loop", 2);
	tx_open(&r, 0, &r.ring_arena);
	rx_open(&r, &r.rx, 1, &r.ring_arena);
	post_buffers(&r.rx, 0, 8);
	/* TX of queue 1 not enabled: nothing to drain */
	assert_int_equal(nic_queue_quiesce(r.base.nic, 1, 1000000000), 0);
	for (unsigned i = 0; i < 5; i++)
		send_to_a(&r, 64, (uint8_t)i, 0);
	assert_true(WAIT_FOR(nic_queue_quiesced_frames(r.base.nic, 1) == 5));
	usleep(20000);
	assert_int_equal(nic_rxq_ready(&r.rx), 0);
	struct nic_queue_stats_regs qs;
	nic_queue_stats(r.base.nic, 1, &qs);
	assert_int_equal(qs.rx_packets, 0);
	assert_int_equal(qs.rx_dropped, 5);
	assert_int_equal(nic_queue_quiesced_frames(r.base.nic, 0), 0);

	nic_queue_unquiesce(r.base.nic, 1);
	for (unsigned i = 0; i < 3; i++)
		send_to_a(&r, 64, (uint8_t)i, 0);
	assert_true(WAIT_FOR(nic_rxq_ready(&r.rx) == 3));
	assert_int_equal(nic_queue_quiesced_frames(r.base.nic, 1), 5);
	assert_int_equal(nic_queue_quiesce(r.base.nic, 1, 0), 0);
	assert_int_equal(nic_queue_quiesced_frames(r.base.nic, 1), 0);
	assert_int_equal(nic_queue_quiesce(r.base.nic, 2, 0), -1);   /* no q 2 */
	rig_close(&r);
}

/* Quiesce waits for the transmit ring to be sent: frames held back by a
 * rate limit (200 pps) are all on the wire when it returns. When the NIC
 * cannot send (link down) it times out, and they go once it can. */
static void test_quiesce_drains_tx_or_times_out(void **state)
{
	(void)state;
	struct rig r;
	char err[256];
	rig_open(&r, "null", 2);
	tx_open(&r, 0, &r.ring_arena);
	struct nic_rate rate = { .pps = 200, .burst_packets = 1 };
	assert_int_equal(nic_queue_set_rate(r.base.nic, 0, &rate, err,
	                                    sizeof(err)), 0);
	uint8_t *f = r.base.mem + TX_PAGE * PAGE;
	memset(f, 0xff, 64);
	for (unsigned i = 0; i < 12; i++)
		nic_txq_post(&r.tx, data_dev(TX_PAGE * PAGE), 64, NIC_TXD_CMD_EOP, 0);
	nic_txq_kick(&r.tx);
	assert_int_equal(nic_queue_quiesce(r.base.nic, 0, 30000000000ull), 0);
	assert_int_equal(nic_reg_read32(&r.tx.regs->tx_head), r.tx.tail);
	struct wire_stats ws;
	wire_read_stats(nic_wire(r.base.nic), &ws);
	assert_int_equal(ws.tx_frames, 12);
	nic_queue_unquiesce(r.base.nic, 0);

	nic_set_link(r.base.nic, false);
	nic_txq_reap(&r.tx);
	for (unsigned i = 0; i < 3; i++)
		nic_txq_post(&r.tx, data_dev(TX_PAGE * PAGE), 64, NIC_TXD_CMD_EOP, 0);
	nic_txq_kick(&r.tx);
	assert_int_equal(nic_queue_quiesce(r.base.nic, 0, 50000000), -1);
	assert_true(nic_reg_read32(&r.tx.regs->tx_head) != r.tx.tail);
	nic_set_link(r.base.nic, true);
	assert_true(WAIT_FOR(nic_reg_read32(&r.tx.regs->tx_head) == r.tx.tail));
	rig_close(&r);
}

/* On a lossless wire (the null source) a quiesced queue is never waited
 * for, however much wait budget it has (here 60 s) and although it has
 * buffers posted: alone, its frames are counted, not held at the wire;
 * next to a queue that receives the same broadcast frames, that queue gets
 * them at once. */
static void test_quiesced_queue_does_not_hold_a_lossless_wire(void **state)
{
	(void)state;
	static const char *const sources[2] = {
		"null:64,52:54:00:12:34:56",    /* to MAC_M: queue 2 alone */
		"null:64",                      /* broadcast: queues 1 and 2 */
	};
	for (unsigned alone = 0; alone < 2; alone++) {
		struct rig r;
		rig_open_with(&r, sources[alone], 3, 60000000000ull, false);
		add_filter(&r, MAC_A, 1, NIC_FILTER_BROADCAST);
		add_filter(&r, MAC_M, 2, NIC_FILTER_BROADCAST);
		nic_rig_start(&r.base);
		assert_int_equal(nic_queue_quiesce(r.base.nic, 2, 0), 0);
		struct nic_rxq rx2;
		rx_open(&r, &rx2, 2, &r.ring_arena);
		post_buffers(&rx2, 0, RING - 1);
		if (alone == 0) {
			assert_true(WAIT_FOR(nic_queue_quiesced_frames(r.base.nic,
			                                               2) > 100));
		} else {
			rx_open(&r, &r.rx, 1, &r.ring_arena);
			post_buffers(&r.rx, 8 * PAGE, RING - 1);
			assert_true(WAIT_FOR(nic_rxq_ready(&r.rx) == RING - 1));
			assert_true(nic_queue_quiesced_frames(r.base.nic, 2) > 0);
		}
		assert_int_equal(nic_rxq_ready(&rx2), 0);
		rig_close(&r);
	}
}

/* ---- announcing ------------------------------------------------------- */

/* The RARP reverse request QEMU's self-announce sends for MAC_M, written
 * out byte by byte: Ethernet (broadcast, MAC_M, 0x8035), hardware 1,
 * protocol 0x0800, sizes 6 and 4, opcode 3, sender MAC_M 0.0.0.0, target
 * MAC_M 0.0.0.0, zero padding to 60 bytes. */
static const uint8_t RARP_M[60] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x52, 0x54, 0x00, 0x12, 0x34, 0x56,
	0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x03,
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x00, 0x00, 0x00, 0x00,
	0x52, 0x54, 0x00, 0x12, 0x34, 0x56, 0x00, 0x00, 0x00, 0x00,
};

static uint64_t wire_tx_frames(struct rig *r)
{
	struct wire_stats ws;
	wire_read_stats(nic_wire(r->base.nic), &ws);
	return ws.tx_frames;
}

/* Three frames with the right bytes on a pcap wire, the repeats at least
 * 50 ms apart. nic_announce does not wait for the repeats: called while
 * the engine is stopped it sends the first, and the engine, once started,
 * the other two. */
static void test_announce_sends_three_rarp_frames(void **state)
{
	(void)state;
	char out[] = "/tmp/opsub-announce-XXXXXX";
	int fd = mkstemp(out);
	assert_true(fd >= 0);
	close(fd);
	char spec[64];
	snprintf(spec, sizeof(spec), "pcap:,%s", out);
	struct rig r;
	rig_open_with(&r, spec, 2, 0, false);
	nic_announce(r.base.nic, MAC_M);
	assert_int_equal(wire_tx_frames(&r), 1);
	nic_rig_start(&r.base);
	assert_true(WAIT_FOR(wire_tx_frames(&r) == 3));
	usleep(150000);
	assert_int_equal(wire_tx_frames(&r), 3);   /* and no more */
	struct nic_global_stats_regs gs;
	nic_global_stats(r.base.nic, &gs);
	assert_int_equal(gs.tx_frames, 3);
	rig_close(&r);   /* the pcap file is complete */

	char perr[PCAP_ERRBUF_SIZE];
	pcap_t *p = pcap_open_offline(out, perr);
	if (!p)
		fail_msg("pcap_open_offline: %s", perr);
	struct pcap_pkthdr *hdr;
	const u_char *data;
	double at[3];
	unsigned n = 0;
	while (pcap_next_ex(p, &hdr, &data) == 1) {
		assert_true(n < 3);
		assert_int_equal(hdr->len, sizeof(RARP_M));
		assert_memory_equal(data, RARP_M, sizeof(RARP_M));
		at[n++] = (double)hdr->ts.tv_sec + hdr->ts.tv_usec / 1e6;
	}
	pcap_close(p);
	unlink(out);
	assert_int_equal(n, 3);
	print_message("announcements at +0, +%.1f, +%.1f ms\n",
	              (at[1] - at[0]) * 1e3, (at[2] - at[0]) * 1e3);
	assert_true(at[1] - at[0] >= 0.049);
	assert_true(at[2] - at[1] >= 0.049);
}

/* Sent like any frame: on a loop wire a local queue with a broadcast
 * filter gets them, one without does not. While the link is down they
 * wait; they go when it comes up. */
static void test_announce_on_a_loop_wire_and_link_down(void **state)
{
	(void)state;
	struct rig r;
	rig_open_with(&r, "loop", 3, 0, false);
	add_filter(&r, MAC_M, 2, NIC_FILTER_BROADCAST);
	nic_rig_start(&r.base);
	struct nic_rxq rx2;
	rx_open(&r, &r.rx, 1, &r.ring_arena);
	rx_open(&r, &rx2, 2, &r.ring_arena);
	post_buffers(&r.rx, 0, 8);
	post_buffers(&rx2, 8 * PAGE, 8);

	nic_set_link(r.base.nic, false);
	nic_announce(r.base.nic, MAC_M);
	usleep(200000);
	assert_int_equal(wire_tx_frames(&r), 0);
	nic_set_link(r.base.nic, true);
	assert_true(WAIT_FOR(nic_rxq_ready(&rx2) == 3));
	for (unsigned i = 0; i < 3; i++) {
		uint32_t index;
		struct nic_rx_desc d;
		assert_true(nic_rxq_poll(&rx2, &index, &d));
		assert_int_equal(d.length, sizeof(RARP_M));
		assert_memory_equal(r.base.mem + 8 * PAGE + (uint64_t)index * BUF,
		                    RARP_M, sizeof(RARP_M));
	}
	assert_int_equal(nic_rxq_ready(&r.rx), 0);
	rig_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dirty_log_marks_exactly_the_pages_a_frame_touches),
		cmocka_unit_test(test_dirty_log_marks_descriptor_writebacks),
		cmocka_unit_test(test_dirty_mark_for_the_paravirt_backend),
		cmocka_unit_test(test_dirty_log_start_errors_and_unmap),
		cmocka_unit_test(test_dirty_log_precopy_of_dma_written_pages_equals_source),
		cmocka_unit_test(test_dirty_log_stop_waits_for_marks_in_progress),
		cmocka_unit_test(test_quiesced_queue_counts_frames_and_unquiesce_restores),
		cmocka_unit_test(test_quiesce_drains_tx_or_times_out),
		cmocka_unit_test(test_quiesced_queue_does_not_hold_a_lossless_wire),
		cmocka_unit_test(test_announce_sends_three_rarp_frames),
		cmocka_unit_test(test_announce_on_a_loop_wire_and_link_down),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
