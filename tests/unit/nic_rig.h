/*
 * nic_rig.h: the set-up the NIC unit tests share, a header of static
 * functions (tests/tests.mk builds each tests/unit/test_*.c alone, so each
 * test gets its own copy; nothing here is a test program of its own).
 *
 * A rig is a NIC made from a nic_config, with anonymous "guest" memory
 * mapped as one DMA window and a DMA arena that hands out pieces of that
 * memory (with their device addresses). Use:
 *
 *	struct nic_config cfg;
 *	nic_config_defaults(&cfg);
 *	cfg.wire = "loop";                          (whatever the test needs)
 *	struct nic_rig r;
 *	nic_rig_open(&r, &cfg, WINDOW, MEM_SIZE);  (or _open_stopped, then
 *	...                                          filters, nic_rig_start)
 *	nic_rig_close(&r);
 *
 * A test that needs more (its rings, frames) keeps them in its own struct,
 * with a struct nic_rig in it. Failures end the test through cmocka
 * (fail_msg, assert_*), like the rest of the test.
 *
 * WAIT_FOR(cond) polls cond every 100 us for up to 5 s (generous: a busy
 * 2-core box) and is true if cond became true.
 */
#ifndef OPSUB_TESTS_UNIT_NIC_RIG_H
#define OPSUB_TESTS_UNIT_NIC_RIG_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nic/nic.h"
#include "nic_ring.h"

#define WAIT_FOR(cond) ({                                                  \
	bool ok_ = false;                                                  \
	for (int i_ = 0; i_ < 50000 && !(ok_ = (cond)); i_++)              \
		usleep(100);                                               \
	ok_; })

struct nic_rig {
	struct nic *nic;
	uint8_t *mem;                 /* mapped as the window given to open */
	uint64_t mem_size;
	struct nic_dma_arena arena;   /* allocates from mem */
};

/* Creates the NIC from cfg and maps mem_size bytes of fresh memory as
 * window `window`; the engine is not started yet (filters and the like
 * can be set first). */
static inline void nic_rig_open_stopped(struct nic_rig *r,
                                        const struct nic_config *cfg,
                                        unsigned window, uint64_t mem_size)
{
	char err[256];
	r->nic = nic_create(cfg, err, sizeof(err));
	if (!r->nic)
		fail_msg("nic_create: %s", err);
	r->mem_size = mem_size;
	r->mem = mmap(NULL, mem_size, PROT_READ | PROT_WRITE,
	              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(r->mem != MAP_FAILED);
	assert_int_equal(nic_window_map(r->nic, window, r->mem, mem_size, err,
	                                sizeof(err)), 0);
	r->arena = (struct nic_dma_arena){ .host = r->mem, .size = mem_size,
	                                   .dev = NIC_DEV_ADDR(window, 0) };
}

/* Starts the engine (on its own thread). */
static inline void nic_rig_start(struct nic_rig *r)
{
	char err[256];
	if (nic_start(r->nic, err, sizeof(err)) != 0)
		fail_msg("nic_start: %s", err);
}

/* nic_rig_open_stopped, then nic_rig_start. */
static inline void nic_rig_open(struct nic_rig *r,
                                const struct nic_config *cfg,
                                unsigned window, uint64_t mem_size)
{
	nic_rig_open_stopped(r, cfg, window, mem_size);
	nic_rig_start(r);
}

/* Destroys the NIC (stopping its engine), then unmaps the memory. */
static inline void nic_rig_close(struct nic_rig *r)
{
	nic_destroy(r->nic);
	munmap(r->mem, r->mem_size);
}

#endif
