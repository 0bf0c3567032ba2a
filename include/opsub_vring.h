/*
 * A view of one split virtqueue (opsub_abi.h layout) at some address: the
 * guest SDK's driver and the daemon's backend both use it, each on its own
 * mapping of the same guest memory.
 */
#ifndef OPSUB_VRING_H
#define OPSUB_VRING_H

#include <stdint.h>

#include "opsub_abi.h"

struct opsub_vring {
	uint32_t n;
	struct opsub_vring_desc *desc;
	uint16_t *avail_flags, *avail_idx, *avail_ring;
	uint16_t *used_flags, *used_idx;
	struct opsub_vring_used_elem *used_ring;
};

static inline void opsub_vring_view(struct opsub_vring *v, uint8_t *base, uint32_t n)
{
	uint8_t *avail = base + OPSUB_VRING_AVAIL(n), *used = base + OPSUB_VRING_USED(n);
	*v = (struct opsub_vring){
		.n = n, .desc = (struct opsub_vring_desc *)base,
		.avail_flags = (uint16_t *)avail, .avail_idx = (uint16_t *)(avail + 2),
		.avail_ring = (uint16_t *)(avail + 4),
		.used_flags = (uint16_t *)used, .used_idx = (uint16_t *)(used + 2),
		.used_ring = (struct opsub_vring_used_elem *)(used + 4),
	};
}

/* Index loads and stores that publish or observe the ring entries before them. */
static inline uint16_t opsub_vring_load(const uint16_t *idx) { return __atomic_load_n(idx, __ATOMIC_ACQUIRE); }
static inline void opsub_vring_store(uint16_t *idx, uint16_t v) { __atomic_store_n(idx, v, __ATOMIC_RELEASE); }

#endif
