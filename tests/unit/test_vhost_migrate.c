/*
 * test_vhost_migrate.c: the paravirt backend's part of live migration
 * (daemon/vhost.c, daemon/vhost_state.h): every page it writes in guest
 * memory is in the NIC's dirty log, so a pre-copy ends with an exact copy;
 * parking hands the guest what the NIC already holds for it, counts what
 * it cannot, and then touches nothing until unparked; a backend started
 * from an exported state goes on at the same ring positions (across the
 * 16-bit wrap); states no backend could have exported are refused.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "daemon/vhost_state.h"
#include "pv_rig.h"
#include "null_frame.h"
#include "opsub_vring.h"

#define RING      512u               /* used rings span two pages */
#define MEM_SIZE  (16ull << 20)
#define PAGE      4096u
#define PAGES     (MEM_SIZE / PAGE)
#define VRING_AT  0x100000ull          /* guest address of the virtqueues */
#define BUFS_AT   0x400000ull          /* guest receive buffers, a page apart */
#define BUF_GAP   0x1000ull
#define TX_AT     0xc00000ull          /* guest transmit frames */
#define SECOND    1000000000ull

/* One paravirt guest in slot 0, as the daemon has it: its memory (window
 * 1), its ring area (window 2), its link page, NIC queue 0 with a
 * broadcast filter on a null:64 source (frames come as long as there is
 * room). The backend is started by the test. */
struct pv_rig {
	struct nic_rig base;                /* guest memory: g.mem_map */
	struct guest g;
	struct vhost *v;
	int kick, call;
	struct opsub_vring rxq, txq;
	uint64_t bitmap[PAGES / 64];
};

static void pv_open(struct pv_rig *r)
{
	struct nic_config cfg;
	nic_config_defaults(&cfg);
	cfg.wire = "null:64";
	cfg.num_queues = 2;
	memset(r, 0, sizeof(*r));
	nic_rig_open_stopped(&r->base, &cfg, 1, MEM_SIZE);
	pv_guest_open(&r->base, &r->g, MEM_SIZE, VRING_AT, &r->kick, &r->call);
	uint8_t *vrings = (uint8_t *)r->g.mem_map + VRING_AT;
	opsub_vring_view(&r->rxq, vrings, RING);
	opsub_vring_view(&r->txq, vrings + OPSUB_VRING_SIZE(RING), RING);
	nic_rig_start(&r->base);
}

static void pv_start(struct pv_rig *r, const struct vhost_state *from)
{
	char err[256];
	r->v = vhost_start_at(r->base.nic, &r->g, r->kick, r->call, RING, from, err, sizeof(err));
	if (!r->v)
		fail_msg("vhost_start_at: %s", err);
}

static void pv_close(struct pv_rig *r)
{
	pv_guest_close(&r->base, &r->g, r->v, r->kick, r->call);
}

static void kick(struct pv_rig *r)
{
	uint64_t one = 1;
	assert_int_equal(write(r->kick, &one, sizeof(one)), sizeof(one));
}

/* The guest makes n receive buffers available from ring position `at`
 * (descriptor id = position % RING, buffer id * BUF_GAP past BUFS_AT). */
static void guest_post_rx(struct pv_rig *r, uint16_t at, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		uint16_t id = (uint16_t)((at + i) % RING);
		r->rxq.desc[id] = (struct opsub_vring_desc){BUFS_AT + id * BUF_GAP, OPSUB_NET_BUF_SIZE,
		                                            OPSUB_VRING_DESC_F_WRITE, 0};
		r->rxq.avail_ring[id] = id;
	}
	opsub_vring_store(r->rxq.avail_idx, (uint16_t)(at + n));
}

/* The guest sends one 64-byte broadcast frame from ring position `at`. */
static void guest_send(struct pv_rig *r, uint16_t at)
{
	uint16_t id = at % RING;
	uint8_t *f = (uint8_t *)r->g.mem_map + TX_AT + id * 2048u;
	memset(f, 0xff, 6);
	memset(f + 6, 0x02, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
	memset(f + 14, (uint8_t)at, 50);
	r->txq.desc[id] = (struct opsub_vring_desc){TX_AT + id * 2048u, 64, 0, 0};
	r->txq.avail_ring[id] = id;
	opsub_vring_store(r->txq.avail_idx, (uint16_t)(at + 1));
}

/* The used entries [from, to) of the receive ring hold intact frames in
 * the buffers their positions named. */
static void check_received(struct pv_rig *r, uint16_t from, uint16_t to)
{
	for (uint16_t at = from; at != to; at++) {
		struct opsub_vring_used_elem e = r->rxq.used_ring[at % RING];
		assert_int_equal(e.id, at % RING);
		assert_int_equal(e.len, 64);
		uint64_t seq;
		assert_true(null_frame_verify((uint8_t *)r->g.mem_map + BUFS_AT + e.id * BUF_GAP, e.len, &seq));
	}
}

static uint64_t wire_tx_frames(struct pv_rig *r)
{
	struct wire_stats ws;
	wire_read_stats(nic_wire(r->base.nic), &ws);
	return ws.tx_frames;
}

static void park(struct pv_rig *r)
{
	assert_int_equal(vhost_park(r->v, SECOND), 0);
}

/* ---- dirty marks ------------------------------------------------------ */

/* Pre-copy with the backend as the only writer: the guest's own writes
 * (buffers and frames made available) happen while it is parked, before
 * the log starts and every page is copied; then it runs, and what it
 * wrote (received frames, both used rings, their flags) must all be in
 * the log: after the switch-over (park, last harvest) the copy equals the
 * memory, page for page. Both used rings are filled into their second
 * page, which nothing but the used entries shares. */
static void test_backend_writes_are_in_the_dirty_log(void **state)
{
	(void)state;
	enum { TX_FRAMES = RING - 100 };   /* into the used ring's second page */
	struct pv_rig r;
	char err[256];
	pv_open(&r);
	pv_start(&r, NULL);
	park(&r);
	guest_post_rx(&r, 0, RING - 1);
	for (uint16_t i = 0; i < TX_FRAMES; i++)
		guest_send(&r, i);

	if (nic_dirty_log_start(r.base.nic, 1, r.bitmap, PAGES, err, sizeof(err)))
		fail_msg("nic_dirty_log_start: %s", err);
	uint8_t *copy = malloc(MEM_SIZE);
	assert_non_null(copy);
	memcpy(copy, r.base.mem, MEM_SIZE);   /* round 0 */

	vhost_unpark(r.v);
	kick(&r);
	assert_true(WAIT_FOR(opsub_vring_load(r.rxq.used_idx) == RING - 1));
	assert_true(WAIT_FOR(opsub_vring_load(r.txq.used_idx) == TX_FRAMES));
	check_received(&r, 0, RING - 1);
	park(&r);                              /* the switch-over */
	unsigned marked = 0;
	for (uint64_t w = 0; w < PAGES / 64; w++) {
		uint64_t bits = __atomic_exchange_n(&r.bitmap[w], 0, __ATOMIC_SEQ_CST);
		for (unsigned b = 0; b < 64; b++)
			if (bits & (1ull << b)) {
				uint64_t at = (w * 64 + b) * PAGE;
				memcpy(copy + at, r.base.mem + at, PAGE);
				marked++;
			}
	}
	nic_dirty_log_stop(r.base.nic, 1);
	print_message("%u pages marked\n", marked);
	assert_true(marked >= RING - 1);       /* one per buffer at least */
	assert_memory_equal(copy, r.base.mem, MEM_SIZE);
	free(copy);
	pv_close(&r);
}

/* The kick-suppression flags are written too: a guest with no receive
 * buffer sends one frame to a sleeping worker, which suppresses kicks
 * while it works and lets them through again after: the page of the
 * receive ring's used flags, which nothing else wrote (no frame was
 * received), is in the log. */
static void test_kick_suppression_flags_are_marked(void **state)
{
	(void)state;
	struct pv_rig r;
	char err[256];
	pv_open(&r);
	pv_start(&r, NULL);
	usleep(50000);                          /* the worker sleeps */
	if (nic_dirty_log_start(r.base.nic, 1, r.bitmap, PAGES, err, sizeof(err)))
		fail_msg("nic_dirty_log_start: %s", err);
	guest_send(&r, 0);
	kick(&r);
	assert_true(WAIT_FOR(opsub_vring_load(r.txq.used_idx) == 1));
	park(&r);
	uint64_t page = (VRING_AT + OPSUB_VRING_USED(RING)) / PAGE;
	assert_true(r.bitmap[page / 64] & (1ull << (page % 64)));
	assert_int_equal(opsub_vring_load(r.rxq.used_idx), 0);
	nic_dirty_log_stop(r.base.nic, 1);
	pv_close(&r);
}

/* ---- parking ---------------------------------------------------------- */

/* The NIC holds a ring's worth of frames for a guest that had no buffer;
 * the queue is quiesced, the guest makes 5 buffers available (no kick:
 * the worker is asleep) and is "paused". Parking hands it those 5 frames
 * first and counts the rest as stranded; export says where the rings
 * stand. While parked nothing moves; unparked, it goes on. */
static void test_park_hands_over_held_frames_then_touches_nothing(void **state)
{
	(void)state;
	struct pv_rig r;
	pv_open(&r);
	pv_start(&r, NULL);
	struct nic_queue_regs *regs = nic_queue_regs(r.base.nic, 0);
	assert_true(WAIT_FOR(nic_reg_read32(&regs->rx_head) == RING - 1));
	assert_int_equal(nic_queue_quiesce(r.base.nic, 0, SECOND), 0);
	struct vhost_state s;
	assert_int_equal(vhost_export(r.v, &s), -1);   /* not parked */
	assert_int_equal(vhost_stranded_frames(r.v), 0);
	usleep(50000);                                 /* the worker sleeps */

	guest_post_rx(&r, 0, 5);
	park(&r);
	assert_int_equal(opsub_vring_load(r.rxq.used_idx), 5);
	check_received(&r, 0, 5);
	assert_int_equal(vhost_stranded_frames(r.v), RING - 1 - 5);
	assert_int_equal(vhost_export(r.v, &s), 0);
	assert_int_equal(s.ring_size, RING);
	assert_int_equal(s.rx_avail, 5);
	assert_int_equal(s.rx_used, 5);
	assert_int_equal(s.tx_avail, 0);
	assert_int_equal(s.tx_used, 0);
	assert_int_equal(vhost_park(r.v, SECOND), 0);  /* parked already */

	guest_post_rx(&r, 5, 10);
	guest_send(&r, 0);
	kick(&r);
	usleep(100000);
	assert_int_equal(opsub_vring_load(r.rxq.used_idx), 5);
	assert_int_equal(opsub_vring_load(r.txq.used_idx), 0);
	assert_int_equal(wire_tx_frames(&r), 0);

	vhost_unpark(r.v);                             /* the migration failed */
	assert_true(WAIT_FOR(opsub_vring_load(r.rxq.used_idx) == 15));
	check_received(&r, 5, 15);
	assert_true(WAIT_FOR(wire_tx_frames(&r) == 1));
	assert_int_equal(opsub_vring_load(r.txq.used_idx), 1);
	assert_int_equal(vhost_stranded_frames(r.v), 0);
	nic_queue_unquiesce(r.base.nic, 0);
	pv_close(&r);
}

/* The source's end after a migration: the backend is stopped while
 * parked. It must not take the frame the guest left in its transmit ring
 * (the destination's backend sends it) nor touch the rings. */
static void test_stop_while_parked_takes_nothing_more(void **state)
{
	(void)state;
	struct pv_rig r;
	pv_open(&r);
	pv_start(&r, NULL);
	park(&r);
	guest_send(&r, 0);
	kick(&r);
	vhost_stop(r.v);
	r.v = NULL;
	usleep(20000);
	assert_int_equal(wire_tx_frames(&r), 0);
	assert_int_equal(opsub_vring_load(r.txq.used_idx), 0);
	assert_int_equal(opsub_vring_load(r.rxq.used_idx), 0);
	pv_close(&r);
}

/* ---- starting from a migrated state ----------------------------------- */

/* The guest's rings as a source left them, 6 receive entries before the
 * 16-bit wrap and 7 frames sent; the destination's backend starts from the
 * exported state: it interrupts the guest once (one the source sent may
 * have been lost), then fills the next buffers across the wrap at the
 * right positions and sends from position 7. Parked again, it exports
 * where it got to. */
static void test_import_goes_on_at_the_same_positions(void **state)
{
	(void)state;
	struct pv_rig r;
	pv_open(&r);
	const uint16_t rx_at = 65530, tx_at = 7;
	opsub_vring_store(r.rxq.avail_idx, rx_at);
	opsub_vring_store(r.rxq.used_idx, rx_at);
	opsub_vring_store(r.txq.avail_idx, tx_at);
	opsub_vring_store(r.txq.used_idx, tx_at);
	struct vhost_state from = {.ring_size = RING, .rx_avail = rx_at, .rx_used = rx_at,
	                           .tx_avail = tx_at, .tx_used = tx_at};
	pv_start(&r, &from);
	struct pollfd p = {.fd = r.call, .events = POLLIN};
	assert_int_equal(poll(&p, 1, 5000), 1);
	uint64_t calls;
	assert_int_equal(read(r.call, &calls, sizeof(calls)), sizeof(calls));

	guest_post_rx(&r, rx_at, 10);                  /* positions 65530..3 */
	guest_send(&r, tx_at);
	kick(&r);
	assert_true(WAIT_FOR(opsub_vring_load(r.rxq.used_idx) == (uint16_t)(rx_at + 10)));
	check_received(&r, rx_at, (uint16_t)(rx_at + 10));
	assert_true(WAIT_FOR(opsub_vring_load(r.txq.used_idx) == tx_at + 1));
	assert_int_equal(r.txq.used_ring[tx_at].id, tx_at);
	assert_int_equal(r.txq.used_ring[tx_at].len, 64);
	assert_true(WAIT_FOR(wire_tx_frames(&r) == 1));

	park(&r);
	struct vhost_state s;
	assert_int_equal(vhost_export(r.v, &s), 0);
	assert_int_equal(s.ring_size, RING);
	assert_int_equal(s.rx_avail, 4);
	assert_int_equal(s.rx_used, 4);
	assert_int_equal(s.tx_avail, tx_at + 1);
	assert_int_equal(s.tx_used, tx_at + 1);
	pv_close(&r);
}

/* What vhost_state_check refuses, each with a reason: another ring size
 * than the destination's, a size that is no ring size, entries in flight
 * (used != avail, which this backend never leaves). vhost_start_at refuses
 * the same. */
static void test_states_no_backend_could_export_are_refused(void **state)
{
	(void)state;
	static const struct {
		struct vhost_state s;
		unsigned ring_size;
		const char *why;
	} bad[] = {
		{{RING * 2, 0, 0, 0, 0}, RING, "entries"},
		{{48, 0, 0, 0, 0}, 48, "power of two"},
		{{4, 0, 0, 0, 0}, 4, "power of two"},
		{{8192, 0, 0, 0, 0}, 8192, "power of two"},
		{{RING, 1, 0, 0, 0}, RING, "returned"},
		{{RING, 0, 0, 0, 65535}, RING, "returned"},
	};
	char err[256];
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = 0;
		assert_int_equal(vhost_state_check(&bad[i].s, bad[i].ring_size, err, sizeof(err)), -1);
		if (!strstr(err, bad[i].why))
			fail_msg("case %u: \"%s\" does not say \"%s\"", i, err, bad[i].why);
	}
	struct vhost_state good = {RING, 65535, 65535, 9, 9};
	assert_int_equal(vhost_state_check(&good, RING, err, sizeof(err)), 0);

	struct pv_rig r;
	pv_open(&r);
	err[0] = 0;
	assert_null(vhost_start_at(r.base.nic, &r.g, r.kick, r.call, RING, &bad[0].s, err, sizeof(err)));
	assert_non_null(strstr(err, "migrated state"));
	r.v = NULL;
	pv_close(&r);
}

/* A state that does not fit the rings it arrives with (the guest's used
 * index is not the one the backend published): the backend does not
 * attach, and the guest's buffers stay untouched. */
static void test_import_that_does_not_fit_the_rings_stays_silent(void **state)
{
	(void)state;
	struct pv_rig r;
	pv_open(&r);
	opsub_vring_store(r.rxq.avail_idx, 99);
	opsub_vring_store(r.rxq.used_idx, 99);
	struct vhost_state from = {.ring_size = RING, .rx_avail = 100, .rx_used = 100};
	pv_start(&r, &from);
	guest_post_rx(&r, 100, 10);
	kick(&r);
	usleep(200000);
	assert_int_equal(opsub_vring_load(r.rxq.used_idx), 99);
	for (unsigned i = 0; i < RING; i++)
		assert_int_equal(r.base.mem[BUFS_AT + i * BUF_GAP], 0);
	pv_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backend_writes_are_in_the_dirty_log),
		cmocka_unit_test(test_kick_suppression_flags_are_marked),
		cmocka_unit_test(test_park_hands_over_held_frames_then_touches_nothing),
		cmocka_unit_test(test_stop_while_parked_takes_nothing_more),
		cmocka_unit_test(test_import_goes_on_at_the_same_positions),
		cmocka_unit_test(test_states_no_backend_could_export_are_refused),
		cmocka_unit_test(test_import_that_does_not_fit_the_rings_stays_silent),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
