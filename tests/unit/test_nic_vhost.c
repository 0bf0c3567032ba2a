/*
 * test_nic_vhost.c: the paravirt backend (daemon/vhost.c) against a hostile
 * guest process.  The ring area that holds the backend's NIC rings and copy
 * buffers is shared with the guest process, so a compromised process can
 * rewrite what the NIC wrote back before the backend reads it.  The backend
 * must take nothing from there that decides where it reads or how much: a
 * received frame is copied from the buffer the backend itself put in that
 * slot, at most one buffer long, and only into the guest's own memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "pv_rig.h"
#include "null_frame.h"
#include "opsub_vring.h"

#define RING      64u
#define MEM_SIZE  (64ull << 20)
#define VRING_AT  0x100000ull          /* guest address of the virtqueues */
#define BUFS_AT   0x400000ull          /* guest receive buffers, 64 KiB apart */
#define BUF_GAP   0x10000ull

/* A daemon's worth of one paravirt guest in slot 0: its memory (window 1),
 * its ring area (window 2), its link page, NIC queue 0 with a broadcast
 * filter on a null:64 source. */
struct pv_rig {
	struct nic_rig base;                /* guest memory: g.mem_map */
	struct guest g;
	struct vhost *v;
	int kick, call;
	struct opsub_vring rxq;
};

static void pv_open(struct pv_rig *r)
{
	char err[256];
	struct nic_config cfg;
	nic_config_defaults(&cfg);
	cfg.wire = "null:64";
	cfg.num_queues = 2;
	memset(r, 0, sizeof(*r));
	nic_rig_open_stopped(&r->base, &cfg, 1, MEM_SIZE);
	pv_guest_open(&r->base, &r->g, MEM_SIZE, VRING_AT, &r->kick, &r->call);
	/* the guest's virtqueues, empty: the backend takes no frame yet */
	opsub_vring_view(&r->rxq, (uint8_t *)r->g.mem_map + VRING_AT, RING);
	r->v = vhost_start(r->base.nic, &r->g, r->kick, r->call, RING, err, sizeof(err));
	if (!r->v)
		fail_msg("vhost_start: %s", err);
	nic_rig_start(&r->base);
}

static void pv_close(struct pv_rig *r)
{
	pv_guest_close(&r->base, &r->g, r->v, r->kick, r->call);
}

/* The NIC side of the backend's receive ring, in the ring area. */
static struct nic_rx_desc *nic_rx_ring(struct pv_rig *r)
{
	return (struct nic_rx_desc *)((uint8_t *)r->g.ring_map + LINK_RING_SLOT / 2);
}

/* Waits until the NIC has filled every buffer the backend posted. */
static void wait_ring_full(struct pv_rig *r)
{
	struct nic_queue_regs *regs = nic_queue_regs(r->base.nic, 0);
	assert_true(WAIT_FOR(nic_reg_read32(&regs->rx_head) == RING - 1));
}

/* The guest makes n buffers of `len` bytes available and kicks. */
static void guest_post(struct pv_rig *r, unsigned n, uint32_t len)
{
	for (unsigned i = 0; i < n; i++) {
		r->rxq.desc[i] = (struct opsub_vring_desc){BUFS_AT + i * BUF_GAP, len, OPSUB_VRING_DESC_F_WRITE, 0};
		r->rxq.avail_ring[i] = (uint16_t)i;
	}
	opsub_vring_store(r->rxq.avail_idx, (uint16_t)n);
	uint64_t one = 1;
	assert_int_equal(write(r->kick, &one, sizeof(one)), sizeof(one));
}

/* Checks the used entries: each frame intact and no longer than a buffer,
 * and nothing written past it in the guest's 64 KiB slot. */
static void check_used(struct pv_rig *r, unsigned n)
{
	assert_true(WAIT_FOR(opsub_vring_load(r->rxq.used_idx) == n));
	for (unsigned i = 0; i < n; i++) {
		uint32_t len = r->rxq.used_ring[i].len;
		const uint8_t *buf = (uint8_t *)r->g.mem_map + BUFS_AT + (uint64_t)r->rxq.used_ring[i].id * BUF_GAP;
		uint64_t seq;
		assert_true(len <= OPSUB_NET_BUF_SIZE);
		if (len) {
			assert_int_equal(len, 64);
			assert_true(null_frame_verify(buf, len, &seq));
		}
		for (uint64_t k = OPSUB_NET_BUF_SIZE; k < BUF_GAP; k++)
			if (buf[k])
				fail_msg("frame %u: byte %llu of its slot written", i, (unsigned long long)k);
	}
}

/* A compromised guest process points the NIC's write-backs anywhere in
 * the device window (far outside the ring area): the backend copies from
 * the buffer it posted in that slot, as if nothing had happened. */
static void test_rx_addr_rewritten_after_writeback(void **state)
{
	(void)state;
	struct pv_rig r;
	pv_open(&r);
	wait_ring_full(&r);
	struct nic_rx_desc *ring = nic_rx_ring(&r);
	for (unsigned i = 0; i < RING; i++)
		__atomic_store_n(&ring[i].addr, NIC_DEV_ADDR(2, 0xfff00000u), __ATOMIC_RELAXED);
	guest_post(&r, RING - 1, OPSUB_NET_BUF_SIZE);
	check_used(&r, RING - 1);
	pv_close(&r);
}

/* ... or claims every frame is 65535 bytes long, and offers buffers that
 * large: nothing more than one copy buffer is ever copied. */
static void test_rx_length_rewritten_after_writeback(void **state)
{
	(void)state;
	struct pv_rig r;
	pv_open(&r);
	wait_ring_full(&r);
	struct nic_rx_desc *ring = nic_rx_ring(&r);
	for (unsigned i = 0; i < RING; i++) {
		uint64_t wb = __atomic_load_n(&ring[i].writeback, __ATOMIC_RELAXED);
		__atomic_store_n(&ring[i].writeback, (wb & ~0xffffull) | 0xffff, __ATOMIC_RELAXED);
	}
	guest_post(&r, RING - 1, 0xffff);
	check_used(&r, RING - 1);
	pv_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_addr_rewritten_after_writeback),
		cmocka_unit_test(test_rx_length_rewritten_after_writeback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
