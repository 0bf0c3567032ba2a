/*
 * pv_rig.h: a paravirt guest on a test NIC (tests/unit/nic_rig.h), for the
 * backend's tests: its memory is the rig's (window 1), its ring area is
 * window 2, its link page announces virtqueues at vring_at, a broadcast
 * filter sends frames to queue 0, and kick/call are its notification
 * eventfds.  The tests start the backend themselves.
 */
#ifndef OPSUB_TESTS_PV_RIG_H
#define OPSUB_TESTS_PV_RIG_H

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "daemon/daemon.h"
#include "nic_rig.h"

static inline void pv_guest_open(struct nic_rig *base, struct guest *g, uint64_t mem_size, uint64_t vring_at,
                                 int *kick, int *call)
{
	char err[256];
	strcpy(g->cfg.name, "pv");
	g->slot = 0;
	g->nqueues = 1;
	g->queue[0] = 0;
	g->cfg.mem = mem_size;
	g->mem_map = base->mem;
	g->ring_map = mmap(NULL, LINK_RING_AREA, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	g->page = calloc(1, 4096);
	assert_true(g->ring_map != MAP_FAILED && g->page);
	assert_int_equal(nic_window_map(base->nic, 2, g->ring_map, LINK_RING_AREA, err, sizeof(err)), 0);
	struct nic_filter f = {.mac = {2, 0, 0, 0, 0, 1}, .vlan = NIC_VLAN_ANY, .queue = 0,
	                       .flags = NIC_FILTER_BROADCAST};
	assert_true(nic_filter_add(base->nic, &f, err, sizeof(err)) >= 0);
	g->page->vring_addr = vring_at;
	g->page->vring_ready = 1;
	*kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	*call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

static inline void pv_guest_close(struct nic_rig *base, struct guest *g, struct vhost *v, int kick, int call)
{
	vhost_stop(v);
	nic_rig_close(base);
	munmap(g->ring_map, LINK_RING_AREA);
	free(g->page);
	close(kick);
	close(call);
}

#endif
