/*
 * Guest memory: the sandbox one guest's code and data live in.
 *
 * The sandbox is the host address range [0, 4 GiB): guest virtual address v
 * is host address v (base B = 0, which is 4 GiB-aligned).  Translated code
 * reaches memory only with 32-bit address computations, whose results
 * cannot leave that range, and the range plus GUEST_GUARD bytes above it is
 * reserved at start-up so nothing of the host can ever live there.  Below
 * the kernel's mmap_min_addr nothing can be mapped at all.
 *
 * The memory itself is a memfd of the guest's size, mapped at file offset ==
 * guest address, so other processes (the daemon, the NIC model) can map the
 * same pages and a device address is simply window base + guest address.
 *
 * Every page has guest protection bits (what the guest asked for) and a
 * watch bit (the translator holds translations of code on it).  The host
 * protection follows: never executable, readable when the guest may read or
 * execute, writable when the guest may write and the page is not watched.
 * A write to a watched page therefore faults, and the monitor invalidates
 * the translations before letting the write through.
 */
#ifndef OPSUB_SANDBOX_GUEST_MEM_H
#define OPSUB_SANDBOX_GUEST_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GUEST_SPACE       (1ull << 32)
#define GUEST_GUARD       (1ull << 20)
#define GUEST_LOWEST      0x10000ull
#define GUEST_PAGE        4096ull
#define GUEST_MEM_DEFAULT (4ull << 30)   /* opsub run: the whole sandbox, as a native process can use it */
#define GUEST_MEM_MIN     (64ull << 20)   /* program + 8 MiB stack + 32 MiB headroom */
#define GUEST_STACK_SIZE  (8ull << 20)

/* Guest page protection bits (what the guest asked for). */
enum {
	GP_R = 1, GP_W = 2, GP_X = 4,
	GP_MAPPED = 8,
	GP_WATCHED = 16,  /* translated code exists for this page */
	GP_RETAINED = 32, /* unmapped, its old bytes kept for a map of it again (gm_unmap) */
};

struct guest_mem {
	int fd;                 /* memfd with the guest's memory */
	uint64_t size;          /* guest addresses are below this */
	uint8_t *page;          /* GP_* bits, one byte per guest page */
	uint64_t brk_start;     /* first byte of the brk heap */
	uint64_t brk;           /* current program break */
	uint64_t mmap_top;      /* mmap allocates downwards from here */
	uint64_t mmap_low;      /* lowest address handed out by mmap so far */
	uint64_t retained;      /* pages with GP_RETAINED */
	uint64_t reuse_below;   /* gm_find_free looks for unmapped space below this first (0: none) */
	/* gm_track_writes registered the memory: the daemon's dirty log sees
	 * writes through this process's mapping only, not through fd */
	bool writes_tracked;
	/* Host address of guest address 0 for instruction fetch: 0 in a real
	 * sandbox; the fuzzer translates from a buffer without a sandbox
	 * (then fd is -1 and protections are bookkeeping only). */
	uintptr_t code_view;
	/* Counts pages that became watched: a range checked unwatched at
	 * epoch E is still unwatched while the epoch is E. */
	uint64_t watch_epoch;
	/* Counts changes of page bits that may take a permission away (every
	 * map, unmap, protect, adopt and watch): a range found with some
	 * bits at epoch E still has them while the epoch is E. */
	uint64_t prot_epoch;
	/* Called before a watched page becomes writable. */
	void (*on_code_write)(uint64_t page_addr, void *arg);
	void *on_code_write_arg;
};

static inline void *guest_ptr(uint64_t addr) { return (void *)(uintptr_t)addr; }
static inline uint64_t page_down(uint64_t a) { return a & ~(GUEST_PAGE - 1); }
static inline uint64_t page_up(uint64_t a) { return (a + GUEST_PAGE - 1) & ~(GUEST_PAGE - 1); }

/* Reserves the sandbox range and maps a guest memory of `size` bytes (a
 * multiple of the page size, GUEST_MEM_MIN..GUEST_SPACE) into it: the memfd
 * `fd` of at least that size (the daemon's, shared with the NIC), or a new
 * one when fd is -1.  gm owns the descriptor afterwards.  Returns 0, or -1
 * with a one-line reason in err. */
int gm_init(struct guest_mem *gm, uint64_t size, int fd, char *err, size_t errlen);

/* Where mmap starts allocating (downwards) in a guest memory of `size`
 * bytes: below the stack and a guard gap. */
static inline uint64_t gm_mmap_top(uint64_t size) { return size - GUEST_STACK_SIZE - (1u << 20); }

/* Registers the guest memory with userfaultfd in asynchronous
 * write-protect mode (Linux 6.7+), so that the daemon can find the pages
 * written while a migration copies them (docs/migration.md).  Nothing is
 * protected until the daemon asks; the kernel resolves each fault itself.
 * Returns 0, or -errno when the kernel cannot (the guest then runs but
 * cannot migrate). */
int gm_track_writes(struct guest_mem *gm);

/* Gives every page the protection in prot[] (one byte per page, GP_R/W/X
 * and GP_MAPPED; checked by the caller) and sets the break and the mmap
 * low mark: a guest memory as a saved state describes it.  Returns 0 or
 * -errno. */
int gm_restore(struct guest_mem *gm, const uint8_t *prot, uint64_t brk_start, uint64_t brk, uint64_t mmap_low);

/* Creates the memfd for a guest memory of `size` bytes; -1 with errno. */
int gm_create_fd(uint64_t size);
void gm_destroy(struct guest_mem *gm);

/* True when [addr, addr+len) lies inside guest memory (from GUEST_LOWEST)
 * without wrapping. */
static inline bool gm_range_inside(const struct guest_mem *gm, uint64_t addr, uint64_t len)
{
	return addr >= GUEST_LOWEST && addr <= gm->size && len <= gm->size - addr;
}

/* True when [addr, addr+len) (len > 0) is inside guest memory and every
 * page of it has (bits & mask) == want.  Inline: the driver checks every
 * packet buffer with it. */
static inline bool gm_pages_are(const struct guest_mem *gm, uint64_t addr, uint64_t len, uint8_t mask,
                                uint8_t want)
{
	if (len == 0 || !gm_range_inside(gm, addr, len))
		return false;
	for (uint64_t p = addr / GUEST_PAGE; p <= (addr + len - 1) / GUEST_PAGE; p++)
		if ((gm->page[p] & mask) != want)
			return false;
	return true;
}

/* True when every byte of [addr, addr+len) is mapped with all of `need`
 * (GP_R/GP_W/GP_X) and the range does not wrap or leave the guest. */
static inline bool gm_access_ok(const struct guest_mem *gm, uint64_t addr, uint64_t len, unsigned need)
{
	if (len == 0)
		return addr <= gm->size;
	return gm_pages_are(gm, addr, len, (uint8_t)(GP_MAPPED | need), (uint8_t)(GP_MAPPED | need));
}

/* The mapping calls behind mmap/munmap/mprotect.  Addresses and lengths are
 * page-aligned and inside the guest; they return 0 or -errno.  gm_map gives
 * zero-filled pages.  gm_unmap of a whole mapping of up to 256 KiB keeps
 * its pages in the memfd (GP_RETAINED), up to a 64th of guest memory in
 * all, and a writable gm_map of exactly such pages zeroes them in place:
 * allocators unmap and map the same sizes over and over, and a memset
 * costs less than the kernel freeing, allocating and faulting every page
 * in again. */
int gm_map(struct guest_mem *gm, uint64_t addr, uint64_t len, unsigned prot);
int gm_unmap(struct guest_mem *gm, uint64_t addr, uint64_t len);
int gm_protect(struct guest_mem *gm, uint64_t addr, uint64_t len, unsigned prot);

/* Marks pages the monitor has mapped itself (a device page) as guest
 * memory with protection prot, without touching their contents. */
void gm_adopt(struct guest_mem *gm, uint64_t addr, uint64_t len, unsigned prot);

/* Finds `len` bytes of unmapped guest space for mmap, top-down, space
 * unmapped since the last look first (where its pages may be retained);
 * 0 if none. */
uint64_t gm_find_free(struct guest_mem *gm, uint64_t len);

/* True when no page of [addr, addr+len) is mapped. */
bool gm_range_free(const struct guest_mem *gm, uint64_t addr, uint64_t len);

/* Translated-code watch of one page (see the file comment); false when the
 * host has no mapping slot left to write-protect it (the page then stays
 * writable and unwatched). */
bool gm_watch(struct guest_mem *gm, uint64_t addr);
static inline bool gm_watched(const struct guest_mem *gm, uint64_t addr)
{
	return addr < gm->size && (gm->page[addr / GUEST_PAGE] & GP_WATCHED);
}
/* True when [addr, addr+len) (len > 0) is inside guest memory, mapped
 * writable, and on no watched page: where a DMA may write without changing
 * translated code.  One pass over the page bits. */
static inline bool gm_dma_writable(const struct guest_mem *gm, uint64_t addr, uint64_t len)
{
	return gm_pages_are(gm, addr, len, GP_MAPPED | GP_W | GP_WATCHED, GP_MAPPED | GP_W);
}
/* True when a page of [addr, addr+len) is watched (len > 0, inside). */
static inline bool gm_range_watched(const struct guest_mem *gm, uint64_t addr, uint64_t len)
{
	for (uint64_t p = addr / GUEST_PAGE; len && p <= (addr + len - 1) / GUEST_PAGE; p++)
		if (gm->page[p] & GP_WATCHED)
			return true;
	return false;
}
/* Invalidates translations on the watched pages of [addr, addr+len) and
 * lets writes through: called before trusted code writes guest memory and
 * by the fault handler for a guest write.  False if a page could not be
 * made writable again (no mapping slot left). */
bool gm_prepare_write(struct guest_mem *gm, uint64_t addr, uint64_t len);
/* Drops every watch (after a code cache flush). */
void gm_unwatch_all(struct guest_mem *gm);

/* Writes len bytes from src into guest memory at addr through the memfd
 * (pwrite at the guest address): no page fault here and no page table
 * populated, where a copy through the guest mapping faults a page at a
 * time.  The caller has mapped [addr, addr+len) and prepared it for writing
 * (gm_prepare_write).  Returns the bytes written, which may be fewer (a
 * source that faults: e.g. a file mapping past the file's end), and 0 when
 * the memory has no memfd or its writes are tracked (gm_track_writes sees
 * only writes through the page table): the caller copies the rest itself. */
uint64_t gm_fill(const struct guest_mem *gm, uint64_t addr, const void *src, uint64_t len);

/* Copies between guest and trusted memory after gm_access_ok-style checks;
 * return 0 or -EFAULT. */
int gm_read(const struct guest_mem *gm, void *dst, uint64_t src, uint64_t len);
int gm_write(struct guest_mem *gm, uint64_t dst, const void *src, uint64_t len);

#endif
