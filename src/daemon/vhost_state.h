/*
 * vhost_state.h: where a paravirt backend (vhost.c) stands in its guest's
 * two virtqueues, for live migration: the source's parked backend exports
 * it (vhost_export), the migration carries it with the guest state, and
 * the destination's backend starts from it (vhost_start_at).
 *
 * It is all a backend keeps of the rings between two passes: the guest's
 * own view (descriptors, avail ring and index, the used entries the backend
 * wrote) is in guest memory and travels with it.  The destination gets it
 * from the network: vhost_state_check refuses any value a backend of ring
 * size ring_size could not have exported.
 *
 * Plain fixed-width fields, no pointers, no padding (12 bytes): it may be
 * copied as bytes between two x86-64 daemons of the same version.
 */
#ifndef OPSUB_DAEMON_VHOST_STATE_H
#define OPSUB_DAEMON_VHOST_STATE_H

#include <stddef.h>
#include <stdint.h>

struct vhost_state {
	/* Entries per virtqueue (both have as many), a power of two from
	 * NIC_RING_MIN to NIC_RING_MAX: the guest laid its virtqueues out
	 * for this size, so the destination's backend must use the same. */
	uint32_t ring_size;
	/* The receive virtqueue (0).  rx_avail: the next position of the
	 * avail ring the backend will take.  rx_used: the used index it last
	 * published (also in guest memory, at the used ring's idx).  Both are
	 * virtio's free-running 16-bit positions (entry = position %
	 * ring_size, wrapping at 65536).  This backend returns every entry in
	 * the pass that takes it, so a parked backend has rx_used == rx_avail. */
	uint16_t rx_avail;
	uint16_t rx_used;
	/* The transmit virtqueue (1): the same, tx_used == tx_avail. */
	uint16_t tx_avail;
	uint16_t tx_used;
};

_Static_assert(sizeof(struct vhost_state) == 12, "struct vhost_state is copied as bytes: no padding");

/* Whether s is a state a backend of ring_size entries can start from:
 * s->ring_size equals ring_size (a power of two NIC_RING_MIN..NIC_RING_MAX)
 * and each virtqueue has nothing in flight (used == avail).  0, or -1 with
 * the first value refused and why in err. */
int vhost_state_check(const struct vhost_state *s, unsigned ring_size, char *err, size_t errlen);

#endif
