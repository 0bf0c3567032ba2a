/*
 * nic_mirror.c: port mirroring. The engine copies the frames of the queues
 * attached to a mirror into its ring; a reader thread takes them out. One
 * producer (the engine), one consumer (the reader), no lock: head and tail
 * are each written by one side. A full ring drops the frame (counted): the
 * engine never waits for the reader.
 */
#include "nic/nic_internal.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

struct nic_mirror {
	/* each index on a line of its own: the two sides write one each */
	uint64_t head __attribute__((aligned(64)));   /* engine: next slot to fill */
	uint64_t copied, dropped;                     /* engine */
	uint64_t tail __attribute__((aligned(64)));   /* reader: next slot to take */
	unsigned mask __attribute__((aligned(64)));
	size_t map_size;
	struct nic_mirror_frame *slot;
};

struct nic_mirror *nic_mirror_create(unsigned slots)
{
	if (slots < 2 || slots > 65536 || (slots & (slots - 1)))
		return NULL;
	struct nic_mirror *m = aligned_alloc(64, sizeof(*m));
	if (!m)
		return NULL;
	memset(m, 0, sizeof(*m));
	m->mask = slots - 1;
	/* untouched slots cost no memory until a burst fills them */
	m->map_size = (size_t)slots * sizeof(struct nic_mirror_frame);
	m->slot = mmap(NULL, m->map_size, PROT_READ | PROT_WRITE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m->slot == MAP_FAILED) {
		free(m);
		return NULL;
	}
	return m;
}

void nic_mirror_destroy(struct nic_mirror *m)
{
	if (!m)
		return;
	munmap(m->slot, m->map_size);
	free(m);
}

static uint64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void mirror_put(struct nic_mirror *m, unsigned q, unsigned dir,
                const struct wire_frame *frames, unsigned n)
{
	uint64_t head = m->head;
	uint64_t tail = __atomic_load_n(&m->tail, __ATOMIC_ACQUIRE);
	uint64_t now = realtime_ns();   /* one clock read per batch */
	unsigned put = 0;
	for (unsigned i = 0; i < n; i++) {
		if (head - tail > m->mask) {
			tail = __atomic_load_n(&m->tail, __ATOMIC_ACQUIRE);
			if (head - tail > m->mask)
				break;
		}
		struct nic_mirror_frame *f = &m->slot[head & m->mask];
		uint32_t len = frames[i].len <= NIC_MAX_FRAME ? frames[i].len
		                                              : NIC_MAX_FRAME;
		f->realtime_ns = now;
		f->queue = (uint16_t)q;
		f->dir = (uint8_t)dir;
		f->len = len;
		memcpy(f->data, frames[i].data, len);
		head++;
		put++;
	}
	__atomic_store_n(&m->head, head, __ATOMIC_RELEASE);
	stat_add(&m->copied, put);
	if (put < n)
		stat_add(&m->dropped, n - put);
}

void engine_set_mirror(struct nic *nic, unsigned q)
{
	struct engine_queue *eq = &nic->queues[q];
	if (!nic->call_mirror_only_if || eq->mirror == nic->call_mirror_only_if)
		eq->mirror = nic->call_mirror;
}

const struct nic_mirror_frame *nic_mirror_peek(struct nic_mirror *m)
{
	uint64_t head = __atomic_load_n(&m->head, __ATOMIC_ACQUIRE);
	return m->tail == head ? NULL : &m->slot[m->tail & m->mask];
}

void nic_mirror_next(struct nic_mirror *m)
{
	__atomic_store_n(&m->tail, m->tail + 1, __ATOMIC_RELEASE);
}

uint64_t nic_mirror_copied(const struct nic_mirror *m)
{
	return __atomic_load_n(&m->copied, __ATOMIC_RELAXED);
}

uint64_t nic_mirror_dropped(const struct nic_mirror *m)
{
	return __atomic_load_n(&m->dropped, __ATOMIC_RELAXED);
}
