#include "sandbox/guest_mem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t mmap_min_addr(void)
{
	uint64_t v = GUEST_PAGE;
	FILE *f = fopen("/proc/sys/vm/mmap_min_addr", "r");
	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = GUEST_PAGE;
		fclose(f);
	}
	return page_up(v ? v : GUEST_PAGE);
}

int gm_create_fd(uint64_t size)
{
	int fd = memfd_create("opsub-guest", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, (off_t)size) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int gm_init(struct guest_mem *gm, uint64_t size, int fd, char *err, size_t errlen)
{
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (size < GUEST_MEM_MIN || size > GUEST_SPACE || size % GUEST_PAGE) {
		snprintf(err, errlen, "guest memory size %lu is out of range: give 64M to 4G", size);
		return -1;
	}
	uint64_t low = mmap_min_addr();
	if (low > GUEST_LOWEST) {
		snprintf(err, errlen, "vm.mmap_min_addr is %lu; opsub needs it at most %llu "
		         "(sysctl -w vm.mmap_min_addr=65536)", low, GUEST_LOWEST);
		return -1;
	}
	void *res = mmap((void *)low, GUEST_SPACE + GUEST_GUARD - low, PROT_NONE,
	                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (res != (void *)low) {
		snprintf(err, errlen, "cannot reserve the sandbox range [0, 4 GiB): something of the "
		         "host lives there (opsub must be a PIE binary without ASan)");
		if (res != MAP_FAILED)
			munmap(res, GUEST_SPACE + GUEST_GUARD - low);
		return -1;
	}
	gm->fd = fd >= 0 ? fd : gm_create_fd(size);
	if (gm->fd < 0) {
		snprintf(err, errlen, "cannot create guest memory of %lu bytes: %s", size, strerror(errno));
		goto fail;
	}
	if (mmap((void *)GUEST_LOWEST, size - GUEST_LOWEST, PROT_NONE, MAP_SHARED | MAP_FIXED,
	         gm->fd, GUEST_LOWEST) == MAP_FAILED) {
		snprintf(err, errlen, "cannot map guest memory: %s", strerror(errno));
		goto fail;
	}
	gm->page = calloc(size / GUEST_PAGE, 1);
	if (!gm->page) {
		snprintf(err, errlen, "out of memory for the guest page table");
		goto fail;
	}
	gm->size = size;
	gm->mmap_top = gm_mmap_top(size);
	gm->mmap_low = gm->mmap_top;
	return 0;
fail:
	if (gm->fd >= 0)
		close(gm->fd);
	munmap((void *)low, GUEST_SPACE + GUEST_GUARD - low);
	gm->fd = -1;
	return -1;
}

void gm_destroy(struct guest_mem *gm)
{
	if (gm->fd < 0)
		return;
	uint64_t low = mmap_min_addr();
	munmap((void *)low, GUEST_SPACE + GUEST_GUARD - low);
	close(gm->fd);
	free(gm->page);
	gm->fd = -1;
	gm->page = NULL;
}

static int host_prot(uint8_t p)
{
	if (!(p & GP_MAPPED))
		return PROT_NONE;
	int prot = (p & GP_R) ? PROT_READ : PROT_NONE;
	if ((p & GP_W) && !(p & GP_WATCHED))
		prot |= PROT_WRITE;
	return prot;
}

/* Brings the host protection of pages [first, first+n) in line with their
 * guest bits, one mprotect per run of equal protection.  False when the
 * kernel has no mapping slot left for the split (vm.max_map_count): a guest
 * can exhaust them with many small protection changes. */
static bool apply(struct guest_mem *gm, uint64_t first, uint64_t n)
{
	if (gm->fd < 0)
		return true;
	uint64_t i = first, end = first + n;
	while (i < end) {
		int prot = host_prot(gm->page[i]);
		uint64_t j = i + 1;
		while (j < end && host_prot(gm->page[j]) == prot)
			j++;
		uint64_t a = i * GUEST_PAGE;
		if (a >= GUEST_LOWEST && mprotect(guest_ptr(a), (j - i) * GUEST_PAGE, prot) != 0)
			return false;
		i = j;
	}
	return true;
}

/* Sets pages [first, first+n) to new bits (one value, or old | set & ~clear
 * when keep is true) and applies them; when the host refuses, the old bits
 * come back and the guest gets -ENOMEM, as from Linux itself. */
static int change(struct guest_mem *gm, uint64_t first, uint64_t n, uint8_t bits, uint8_t keep)
{
	uint8_t *old = malloc(n);
	if (!old)
		return -ENOMEM;
	memcpy(old, gm->page + first, n);
	gm->prot_epoch++;
	for (uint64_t p = first; p < first + n; p++)
		gm->page[p] = (gm->page[p] & keep) | bits;
	int rc = 0;
	if (!apply(gm, first, n)) {
		memcpy(gm->page + first, old, n);
		apply(gm, first, n);
		rc = -ENOMEM;
	}
	free(old);
	return rc;
}

static bool range_ok(const struct guest_mem *gm, uint64_t addr, uint64_t len)
{
	return gm_range_inside(gm, addr, len);
}

bool gm_range_free(const struct guest_mem *gm, uint64_t addr, uint64_t len)
{
	if (!range_ok(gm, addr, len))
		return false;
	for (uint64_t p = addr / GUEST_PAGE; p < (addr + len) / GUEST_PAGE; p++)
		if (gm->page[p] & GP_MAPPED)
			return false;
	return true;
}

/* Drops translations of watched pages in [first, first+n) (their code is
 * about to change) without touching host protections. */
static void drop_watches(struct guest_mem *gm, uint64_t first, uint64_t n)
{
	for (uint64_t p = first; p < first + n; p++) {
		if (gm->page[p] & GP_WATCHED) {
			if (gm->on_code_write)
				gm->on_code_write(p * GUEST_PAGE, gm->on_code_write_arg);
			gm->page[p] &= ~GP_WATCHED;
		}
	}
}

/* x86 pages that can be written or executed can also be read. */
static unsigned normal_prot(unsigned prot)
{
	prot &= GP_R | GP_W | GP_X;
	return (prot & (GP_W | GP_X)) ? prot | GP_R : prot;
}

/* Frees pages [first, first+n) in the memfd, kept ones included: punching
 * a hole frees them and makes them read back as zero. */
static void release_pages(struct guest_mem *gm, uint64_t first, uint64_t n)
{
	for (uint64_t p = first; p < first + n; p++)
		if (gm->page[p] & GP_RETAINED) {
			gm->page[p] &= (uint8_t)~GP_RETAINED;
			gm->retained--;
		}
	if (fallocate(gm->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)(first * GUEST_PAGE),
	              (off_t)(n * GUEST_PAGE)) != 0) {
		fprintf(stderr, "opsub: internal error: cannot free guest pages: %s\n", strerror(errno));
		abort();
	}
}

int gm_map(struct guest_mem *gm, uint64_t addr, uint64_t len, unsigned prot)
{
	if (!range_ok(gm, addr, len) || addr % GUEST_PAGE || len % GUEST_PAGE)
		return -EINVAL;
	uint64_t first = addr / GUEST_PAGE, n = len / GUEST_PAGE;
	drop_watches(gm, first, n);
	/* kept pages are zeroed once writable, before the guest has the address */
	bool reuse = (normal_prot(prot) & GP_W) && gm_pages_are(gm, addr, len, GP_MAPPED | GP_RETAINED, GP_RETAINED);
	if (!reuse)
		release_pages(gm, first, n);
	int rc = change(gm, first, n, (uint8_t)(GP_MAPPED | normal_prot(prot)), 0);
	if (rc == 0 && reuse) {
		gm->retained -= n;
		memset(guest_ptr(addr), 0, len);
	}
	return rc;
}

void gm_adopt(struct guest_mem *gm, uint64_t addr, uint64_t len, unsigned prot)
{
	gm->prot_epoch++;
	for (uint64_t p = addr / GUEST_PAGE; p < (addr + len) / GUEST_PAGE; p++)
		gm->page[p] = GP_MAPPED | normal_prot(prot);
}

/* The largest mapping whose pages gm_unmap keeps: a map of them again
 * zeroes them all, touched or not, so a big mapping the guest barely
 * touched would cost more than the kernel's faults (256 KiB: at most as
 * much, measured). */
#define RETAIN_MAPPING_PAGES 64u

int gm_unmap(struct guest_mem *gm, uint64_t addr, uint64_t len)
{
	if (!range_ok(gm, addr, len) || addr % GUEST_PAGE || len % GUEST_PAGE)
		return -EINVAL;
	uint64_t first = addr / GUEST_PAGE, n = len / GUEST_PAGE;
	drop_watches(gm, first, n);
	bool retain = gm->fd >= 0 && n <= RETAIN_MAPPING_PAGES && gm_pages_are(gm, addr, len, GP_MAPPED, GP_MAPPED) &&
	              gm->retained + n <= gm->size / GUEST_PAGE / 64;
	if (!retain)
		release_pages(gm, first, n);
	int rc = change(gm, first, n, retain ? GP_RETAINED : 0, 0);
	if (rc == 0 && retain)
		gm->retained += n;
	if (rc == 0 && addr + len > gm->reuse_below && addr >= gm->mmap_low && addr + len <= gm->mmap_top)
		gm->reuse_below = addr + len;
	return rc;
}

int gm_restore(struct guest_mem *gm, const uint8_t *prot, uint64_t brk_start, uint64_t brk, uint64_t mmap_low)
{
	uint64_t pages = gm->size / GUEST_PAGE;
	for (uint64_t first = 0, p = 1; p <= pages; p++) {
		if (p < pages && prot[p] == prot[first])
			continue;
		int rc = change(gm, first, p - first, prot[first], 0);
		if (rc)
			return rc;
		first = p;
	}
	gm->brk_start = brk_start;
	gm->brk = brk;
	gm->mmap_low = mmap_low;
	return 0;
}

/* The kernel ABI of asynchronous write-protection (Linux 6.7), which
 * Debian 12's headers predate: include/uapi/linux/userfaultfd.h. */
#define UFFD_FEATURE_WP_HUGETLBFS_SHMEM_ (1ull << 12)
#define UFFD_FEATURE_WP_UNPOPULATED_ (1ull << 13)
#define UFFD_FEATURE_WP_ASYNC_ (1ull << 15)

int gm_track_writes(struct guest_mem *gm)
{
	/* user-mode-only needs no privilege; the kernel's own writes into
	 * guest memory (a read(2) into it) are still tracked in async mode */
	int fd = (int)syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
	if (fd < 0)
		return -errno;
	struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_WP_ASYNC_ | UFFD_FEATURE_WP_UNPOPULATED_ |
	                                                      UFFD_FEATURE_WP_HUGETLBFS_SHMEM_};
	struct uffdio_register reg = {.range = {GUEST_LOWEST, gm->size - GUEST_LOWEST}, .mode = UFFDIO_REGISTER_MODE_WP};
	if (ioctl(fd, UFFDIO_API, &api) != 0 || ioctl(fd, UFFDIO_REGISTER, &reg) != 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	/* kept open for the process's life: closing it would drop the
	 * registration */
	gm->writes_tracked = true;
	return 0;
}

int gm_protect(struct guest_mem *gm, uint64_t addr, uint64_t len, unsigned prot)
{
	if (!range_ok(gm, addr, len) || addr % GUEST_PAGE || len % GUEST_PAGE)
		return -EINVAL;
	uint64_t first = addr / GUEST_PAGE, n = len / GUEST_PAGE;
	for (uint64_t p = first; p < first + n; p++)
		if (!(gm->page[p] & GP_MAPPED))
			return -ENOMEM;
	/* Code that stops being executable must stop running from the cache. */
	if (!(prot & GP_X))
		drop_watches(gm, first, n);
	return change(gm, first, n, (uint8_t)normal_prot(prot), GP_MAPPED | GP_WATCHED);
}

/* How far gm_find_free looks below reuse_below before it gives up on it. */
#define REUSE_LOOK (16ull << 20)

uint64_t gm_find_free(struct guest_mem *gm, uint64_t len)
{
	uint64_t floor = page_up(gm->brk) + (16u << 20);
	if (len == 0 || len > gm->mmap_top)
		return 0;
	/* Space unmapped since the last look, from its top down as Linux
	 * reuses the highest hole: the allocator that unmapped it maps the
	 * same sizes again, and its pages may be retained. */
	uint64_t bottom = gm->reuse_below > REUSE_LOOK ? gm->reuse_below - REUSE_LOOK : 0, run = 0;
	if (bottom < gm->mmap_low)
		bottom = gm->mmap_low;
	if (bottom < floor)
		bottom = floor;
	for (uint64_t p = gm->reuse_below / GUEST_PAGE; p > bottom / GUEST_PAGE; p--) {
		run = (gm->page[p - 1] & GP_MAPPED) ? 0 : run + GUEST_PAGE;
		if (run == len) {
			gm->reuse_below = (p - 1) * GUEST_PAGE;
			return gm->reuse_below;
		}
	}
	gm->reuse_below = 0;
	run = 0;
	/* Most requests fit just below the last allocation. */
	if (gm->mmap_low >= floor + len && gm_range_free(gm, gm->mmap_low - len, len)) {
		gm->mmap_low -= len;
		return gm->mmap_low;
	}
	for (uint64_t p = gm->mmap_top / GUEST_PAGE; p > floor / GUEST_PAGE; p--) {
		run = (gm->page[p - 1] & GP_MAPPED) ? 0 : run + GUEST_PAGE;
		if (run == len) {
			uint64_t a = (p - 1) * GUEST_PAGE;
			if (a < gm->mmap_low)
				gm->mmap_low = a;
			return a;
		}
	}
	return 0;
}

bool gm_watch(struct guest_mem *gm, uint64_t addr)
{
	uint64_t p = addr / GUEST_PAGE;
	if (addr >= gm->size || (gm->page[p] & GP_WATCHED))
		return true;
	gm->page[p] |= GP_WATCHED;
	gm->watch_epoch++;
	gm->prot_epoch++;
	if ((gm->page[p] & GP_W) && !apply(gm, p, 1)) {
		gm->page[p] &= ~GP_WATCHED;
		return false;
	}
	return true;
}

bool gm_prepare_write(struct guest_mem *gm, uint64_t addr, uint64_t len)
{
	bool ok = true;
	if (len == 0 || !range_ok(gm, addr, len))
		return true;
	uint64_t first = addr / GUEST_PAGE, last = (addr + len - 1) / GUEST_PAGE;
	for (uint64_t p = first; p <= last; p++) {
		if (gm->page[p] & GP_WATCHED) {
			drop_watches(gm, p, 1);
			ok &= apply(gm, p, 1);
		}
	}
	return ok;
}

void gm_unwatch_all(struct guest_mem *gm)
{
	uint64_t n = gm->size / GUEST_PAGE;
	for (uint64_t p = 0; p < n; p++) {
		if (gm->page[p] & GP_WATCHED) {
			gm->page[p] &= ~GP_WATCHED;
			apply(gm, p, 1);   /* merges mappings back: it cannot run short */
		}
	}
}

/* pwrite, not write or sendfile: it names its offset, and the memfd's file
 * position is shared with the daemon, whose migration sender walks it. */
uint64_t gm_fill(const struct guest_mem *gm, uint64_t addr, const void *src, uint64_t len)
{
	if (gm->fd < 0 || gm->writes_tracked)
		return 0;
	uint64_t done = 0;
	while (done < len) {
		ssize_t r = pwrite(gm->fd, (const uint8_t *)src + done, len - done, (off_t)(addr + done));
		if (r <= 0)
			break;
		done += (uint64_t)r;
	}
	return done;
}

int gm_read(const struct guest_mem *gm, void *dst, uint64_t src, uint64_t len)
{
	if (!gm_access_ok(gm, src, len, GP_R))
		return -EFAULT;
	memcpy(dst, guest_ptr(src), len);
	return 0;
}

int gm_write(struct guest_mem *gm, uint64_t dst, const void *src, uint64_t len)
{
	if (!gm_access_ok(gm, dst, len, GP_W) || !gm_prepare_write(gm, dst, len))
		return -EFAULT;
	memcpy(guest_ptr(dst), src, len);
	return 0;
}
