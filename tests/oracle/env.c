/*
 * The environment a block runs in, as the oracle sets it up once, and the
 * hostile machine states it starts blocks from.
 *
 *   - the sandbox: [mmap_min_addr, 4 GiB + 1 MiB) reserved PROT_NONE, with
 *     three RW regions inside (low, around 2 GiB, just below 4 GiB: the
 *     last one touches the guard) whose first and last pages hold random
 *     bytes and sandbox pointers;
 *   - the addresses of the runner data, the runtime context and the code
 *     area (runner.c puts shared memory there);
 *   - host addresses to aim registers at: pages no block may touch, of
 *     every kind the process has (libc, heap, stack, the oracle's own
 *     text and data, the XSAVE page, the bytes around the context and the
 *     code area, the first byte past the guard, ...).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gates/ctx.h"
#include "gates/gate.h"
#include "sandbox/guest_mem.h"
#include "oracle.h"

#define FILLED_PAGES 16

struct env_info env;

struct region { uint64_t lo, hi; };
static const struct region regions[] = {
	{GUEST_LOWEST, GUEST_LOWEST + (2ull << 20)},
	{(2ull << 30) - (1ull << 20), (2ull << 30) + (1ull << 20)},
	{GUEST_SPACE - (2ull << 20), GUEST_SPACE},
};
#define NREGIONS (sizeof(regions) / sizeof(regions[0]))

/* ---- values ------------------------------------------------------------------ */

/* An address in a mapped region, mostly in its filled pages. */
static uint64_t regions_pointer(struct rng *r)
{
	const struct region *g = &regions[rng_below(r, NREGIONS)];
	unsigned k = (unsigned)rng_below(r, 10);
	if (k < 4)
		return g->lo + rng_below(r, FILLED_PAGES * GUEST_PAGE);
	if (k < 8)
		return g->hi - 1 - rng_below(r, FILLED_PAGES * GUEST_PAGE);
	return g->lo + rng_below(r, g->hi - g->lo);
}

uint64_t env_sandbox_pointer(struct rng *r)
{
	return rng_chance(r, 90) ? regions_pointer(r) : rng_below(r, GUEST_SPACE);   /* anywhere: mostly unmapped */
}

uint64_t env_hostile_value(struct rng *r)
{
	unsigned k = (unsigned)rng_below(r, 100);
	if (k < 25)
		return env_sandbox_pointer(r);
	if (k < 45)   /* a sandbox pointer whose upper half a 64-bit access would keep */
		return env_sandbox_pointer(r) | (1 + rng_below(r, 0x7fff)) << 32;
	if (k < 57 && env.nhost)
		return env.host[rng_below(r, env.nhost)] + rng_below(r, 8192) - 4096;
	if (k < 63)
		return rng_below(r, 1ull << 47);
	if (k < 70)
		return rng_next(r);
	if (k < 80)
		return rng_chance(r, 50) ? rng_below(r, 4096) : (uint64_t)-(int64_t)rng_below(r, 4097);
	if (k < 88)
		return rng_chance(r, 50) ? GUEST_SPACE - 1 - rng_below(r, 4096) : GUEST_SPACE + rng_below(r, 2 * GUEST_GUARD);
	if (k < 94) {
		uint64_t p = 1ull << rng_below(r, 64);
		unsigned v = (unsigned)rng_below(r, 3);
		return v == 0 ? p : v == 1 ? p - 1 : (uint64_t)-(int64_t)p;
	}
	/* a bit offset that would carry a sandbox pointer onto a host page */
	return env.nhost ? (env.host[rng_below(r, env.nhost)] - env_sandbox_pointer(r)) * 8 : rng_next(r);
}

/* A value that makes an address land in mapped sandbox memory more
 * often: a mapped address (its upper half garbage half of the time:
 * 32-bit addressing must drop it), or a small offset or index. */
static uint64_t friendly_value(struct rng *r)
{
	unsigned k = (unsigned)rng_below(r, 100);
	uint64_t p = regions_pointer(r);
	if (k < 35)
		return p;
	if (k < 60)
		return p | rng_next(r) << 32;
	if (k < 85)
		return rng_chance(r, 70) ? rng_below(r, 256) : (uint64_t)-(int64_t)rng_below(r, 257);
	return env_hostile_value(r);
}

static void vector_lanes(struct rng *r, bool friendly, uint8_t ymm[32])
{
	for (int lane = 0; lane < 4; lane++) {
		uint64_t v;
		unsigned k = (unsigned)rng_below(r, 10);
		if (friendly)
			v = k < 5 ? rng_below(r, 256) | rng_below(r, 256) << 32 : k < 8 ? friendly_value(r)
			    : (regions_pointer(r) & 0xffffffff) | regions_pointer(r) << 32;
		else if (k < 4)
			v = env_hostile_value(r);
		else if (k < 7)
			v = (env_sandbox_pointer(r) & 0xffffffff) | env_sandbox_pointer(r) << 32;
		else if (k < 8)
			v = (uint64_t)-(int64_t)rng_below(r, 1ull << 40);
		else
			v = rng_next(r);
		memcpy(&ymm[lane * 8], &v, 8);
	}
}

/* Half the machine states are hostile (registers aimed at host memory,
 * huge offsets, edge values), half friendly (registers that let accesses
 * succeed, so that later instructions run too). */
void env_random_machine(struct rng *r, const struct oracle_block *b, struct machine *m)
{
	bool friendly = rng_chance(r, 50);
	for (int i = 0; i < 16; i++)
		m->gpr[i] = friendly ? friendly_value(r) : env_hostile_value(r);
	/* rsp is a sandbox address whenever translated code runs (gates) */
	m->gpr[4] = rng_chance(r, friendly ? 90 : 65)
	            ? regions_pointer(r) & ~(uint64_t)(rng_chance(r, 80) ? 7 : 0)
	            : rng_below(r, GUEST_SPACE);
	if (b->guest_pc && rng_chance(r, 50))
		m->gpr[11] = b->guest_pc;                 /* the IBL entry's hit path */
	static const unsigned arith[] = {0, 2, 4, 6, 7, 11};
	m->rflags = 0x202;
	for (unsigned i = 0; i < sizeof(arith) / sizeof(arith[0]); i++)
		m->rflags |= rng_below(r, 2) << arith[i];
	if (rng_chance(r, 30))
		m->rflags |= 1u << 10;                     /* DF: a guest may std */
	m->mxcsr = 0x1f80 | (uint32_t)rng_below(r, 4) << 13 | (uint32_t)rng_below(r, 2) << 15 |
	           (uint32_t)rng_below(r, 2) << 6;
	for (int i = 0; i < 16; i++)
		vector_lanes(r, friendly, m->ymm[i]);
	for (size_t i = 0; i < sizeof(m->slot) / sizeof(m->slot[0]); i++)
		m->slot[i] = friendly ? friendly_value(r) : env_hostile_value(r);
	m->ibl_self = rng_chance(r, 3) ? (int)(m->gpr[11] & (IBL_ENTRIES - 1)) : -1;
}

/* ---- set-up -------------------------------------------------------------------- */

static void add_host(uint64_t a, const char *name)
{
	if (env.nhost < sizeof(env.host) / sizeof(env.host[0])) {
		env.host_name[env.nhost] = name;
		env.host[env.nhost++] = a;
	}
}

static uint64_t min_mmap_addr(void)
{
	uint64_t v = 65536;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 65536;
		fclose(f);
	}
	return v < GUEST_PAGE ? GUEST_PAGE : v;
}

/* The regions' content lives in a memfd, mapped privately: a run's writes
 * are copies, and MADV_DONTNEED drops them (the runner does, after each
 * run). */
static int map_sandbox(char *err, size_t errlen)
{
	env.sandbox_lo = min_mmap_addr();
	void *p = mmap((void *)env.sandbox_lo, ORACLE_SANDBOX_END - env.sandbox_lo, PROT_NONE,
	               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (p != (void *)env.sandbox_lo) {
		snprintf(err, errlen, "cannot reserve the sandbox [0x%lx, 0x%llx): %s", env.sandbox_lo, ORACLE_SANDBOX_END,
		         strerror(errno));
		return -1;
	}
	int fd = memfd_create("oracle-sandbox", MFD_CLOEXEC);
	off_t size = 0;
	for (size_t i = 0; i < NREGIONS; i++)
		size += (off_t)(regions[i].hi - regions[i].lo);
	if (fd < 0 || ftruncate(fd, size)) {
		snprintf(err, errlen, "cannot create the sandbox content: %s", strerror(errno));
		return -1;
	}
	struct rng r;
	rng_seed(&r, 0x5eed, 0);                      /* the same memory in every run */
	static uint64_t page[FILLED_PAGES * GUEST_PAGE / 8];
	off_t at = 0;
	for (size_t i = 0; i < NREGIONS; i++) {
		const struct region *g = &regions[i];
		off_t ends[2] = {at, at + (off_t)(g->hi - g->lo - FILLED_PAGES * GUEST_PAGE)};
		for (int e = 0; e < 2; e++) {
			for (size_t j = 0; j < sizeof(page) / 8; j++)
				page[j] = j % 8 == 0 ? env_sandbox_pointer(&r) : rng_next(&r);
			if (pwrite(fd, page, sizeof(page), ends[e]) != (ssize_t)sizeof(page)) {
				snprintf(err, errlen, "cannot write the sandbox content: %s", strerror(errno));
				return -1;
			}
		}
		if (mmap((void *)g->lo, g->hi - g->lo, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, at) !=
		    (void *)g->lo) {
			snprintf(err, errlen, "cannot map a sandbox region: %s", strerror(errno));
			return -1;
		}
		at += (off_t)(g->hi - g->lo);
	}
	close(fd);
	return 0;
}

/* Addresses for what the runner shares with the oracle (runner.c maps the
 * shared memory there): the runner data, the runtime context, and the code
 * area within rel32 reach of the gates (like the code cache). */
static int reserve(uint64_t *at, size_t size, uint64_t near, char *err, size_t errlen)
{
	for (uint64_t step = 1; step < 64; step++) {
		void *hint = near ? (void *)(uintptr_t)(near - step * (64ull << 20)) : NULL;
		void *p = mmap(hint, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | (near ? MAP_FIXED_NOREPLACE : 0), -1, 0);
		if (p != MAP_FAILED && (!near || p == hint)) {
			*at = (uint64_t)(uintptr_t)p;
			return 0;
		}
		if (p != MAP_FAILED)
			munmap(p, size);
	}
	snprintf(err, errlen, "cannot reserve %zu bytes%s", size, near ? " near the gates" : "");
	return -1;
}

static void collect_host_addresses(void)
{
	static int data_word;
	int stack_word = 0;
	void *heap = malloc(64);
	add_host(env.ctx + CTX_XSAVE, "runtime context: XSAVE page");
	add_host(env.ctx - GUEST_PAGE, "just below the runtime context");
	add_host(env.ctx + CTX_SIZE, "just past the switch tables");
	add_host(env.code_rx + ORACLE_CODE_AREA, "just past the code area");
	add_host((uint64_t)(uintptr_t)&printf, "libc text");
	add_host((uint64_t)(uintptr_t)stdout, "libc data");
	add_host((uint64_t)(uintptr_t)&run_block, "oracle text");
	add_host((uint64_t)(uintptr_t)&data_word, "oracle data");
	add_host((uint64_t)(uintptr_t)heap, "heap");
	add_host((uint64_t)(uintptr_t)&stack_word, "stack");
	add_host(getauxval(AT_SYSINFO_EHDR), "vdso");
	add_host(ORACLE_SANDBOX_END, "first byte past the guard");
	add_host(0x7ffffffff000ull, "top of user space");
	add_host(0xffffffffff600000ull, "vsyscall page");
}


int env_init(char *err, size_t errlen)
{
	env.runner_lo = (uint64_t)(uintptr_t)oracle_runner_start;
	env.runner_hi = (uint64_t)(uintptr_t)oracle_runner_end;
	if (env.runner_lo % GUEST_PAGE || env.runner_hi % GUEST_PAGE) {
		snprintf(err, errlen, "the runner section is not page-aligned");
		return -1;
	}
	uint64_t gates = (uint64_t)(uintptr_t)gate_exit & ~0xfffffull;
	if (map_sandbox(err, errlen) || reserve(&env.data_lo, LD_SIZE, 0, err, errlen) ||
	    reserve(&env.ctx, CTX_SIZE, 0, err, errlen) ||
	    reserve(&env.code_rx, ORACLE_CODE_AREA, gates - (16ull << 20), err, errlen))
		return -1;
	env.data_hi = env.data_lo + LD_SIZE;
	env.code_size = ORACLE_CODE_AREA;
	collect_host_addresses();
	return 0;
}
