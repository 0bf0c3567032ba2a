/*
 * nic_steer.h: receive steering. The filter table of the global registers
 * is compiled (on every filter change) into a hash table keyed by (kind,
 * MAC, VLAN), and each lookup result is remembered in a small cache keyed
 * by the frame's (destination MAC, VLAN), so a frame usually costs one
 * compare. Engine thread (or control thread while the engine is stopped).
 */
#ifndef OPSUB_NIC_STEER_H
#define OPSUB_NIC_STEER_H

#include <stdbool.h>
#include <stdint.h>

#include "nic_regs.h"

/* A set of queue pairs.  Only the first qset_words(num_queues) words are
 * used: a NIC of 64 queues looks at one word per frame, not 64. */
struct qset {
	uint64_t bits[NIC_MAX_QUEUES / 64];
};

static inline unsigned qset_words(unsigned num_queues)
{
	return (num_queues + 63) / 64;
}

static inline bool qset_empty(const struct qset *s, unsigned words)
{
	uint64_t any = 0;
	for (unsigned i = 0; i < words; i++)
		any |= s->bits[i];
	return any == 0;
}

/* Every filter makes at most three keys: its MAC, BROADCAST, PROMISC. */
#define STEER_MAX_KEYS  (3 * NIC_MAX_FILTERS)
#define STEER_SLOTS     32768u  /* power of two, > 2 * STEER_MAX_KEYS */
#define STEER_CACHE     64u     /* power of two */

struct steer_table {
	struct steer_slot {
		uint64_t key;   /* 0: empty (no real key is 0, see nic_steer.c) */
		uint32_t set;   /* index into sets */
	} slots[STEER_SLOTS];
	struct qset sets[STEER_MAX_KEYS];
	unsigned num_sets;
	unsigned words;     /* qset_words of the NIC's queue count */
	struct steer_cached {
		uint64_t key;   /* frame key + 1; 0: empty */
		struct qset set;
	} cache[STEER_CACHE];
};

/* Rebuilds the table from the filter registers; filters for queues >=
 * num_queues are ignored. */
void steer_compile(struct steer_table *t, const struct nic_filter_regs *f,
                   unsigned num_queues);

/* The queues a frame goes to (empty: no match). frame has >= 14 bytes;
 * len is its length. The result is valid until the next call. */
const struct qset *steer_lookup(struct steer_table *t, const uint8_t *frame,
                                uint32_t len);

#endif
