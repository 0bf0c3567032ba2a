/* The guest's written pages, by PAGEMAP_SCAN (migrate_dirty.h). */
#include "daemon/migrate_dirty.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "daemon/pagemap_scan.h"
#include "sandbox/guest_mem.h"

#define FAIL(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)

/* Regions per ioctl: a scan of a fragmented dirty set goes on from where
 * the previous call stopped, so this only bounds the calls' count. */
#define MIG_DIRTY_VEC 4096u

/* One walk over the whole memory: every page written since the last walk
 * is protected again and, with bitmap, marked in it. */
static int scan(struct mig_dirty *dt, uint64_t *bitmap, char *err, size_t errlen)
{
	uint64_t at = dt->start;
	while (at < dt->end) {
		struct pm_scan_arg a = {.size = sizeof(a), .flags = PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC,
		                        .start = at, .end = dt->end, .vec = (uint64_t)(uintptr_t)dt->vec,
		                        .vec_len = MIG_DIRTY_VEC, .category_mask = PAGE_IS_WRITTEN,
		                        .return_mask = PAGE_IS_WRITTEN};
		long n = ioctl(dt->pagemap_fd, PAGEMAP_SCAN, &a);
		if (n < 0)
			FAIL("the guest's written pages cannot be tracked (PAGEMAP_SCAN: %s): %s", strerror(errno),
			     errno == ENOTTY || errno == EINVAL
			     ? "this needs Linux 6.7 or later and a guest process that registered its memory for it"
			     : errno == EPERM ? "the guest process did not register its memory for it (an older opsub?)"
			                      : "the guest process may have ended");
		if ((uint64_t)n > MIG_DIRTY_VEC || a.walk_end <= at || a.walk_end > dt->end)
			FAIL("PAGEMAP_SCAN answered nonsense (%ld regions, walk end %#llx): refusing to go on", n,
			     (unsigned long long)a.walk_end);
		for (long i = 0; bitmap && i < n; i++) {
			const struct page_region *r = &dt->vec[i];
			/* (a full vector may hold regions past walk_end: they were
			 * reported, so they are taken; a page reported twice
			 * is only sent once) */
			if (r->start < at || r->end > dt->end || r->start >= r->end)
				FAIL("PAGEMAP_SCAN reported a region outside the walk: refusing to go on");
			for (uint64_t p = r->start / GUEST_PAGE; p < (r->end + GUEST_PAGE - 1) / GUEST_PAGE; p++)
				bitmap[p / 64] |= 1ull << (p % 64);
		}
		at = a.walk_end;
	}
	return 0;
}

int mig_dirty_start(struct mig_dirty *dt, pid_t pid, int pidfd, uint64_t mem_size, char *err, size_t errlen)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/pagemap", (int)pid);
	dt->start = GUEST_LOWEST;
	dt->end = mem_size;
	dt->vec = calloc(MIG_DIRTY_VEC, sizeof(*dt->vec));
	dt->pagemap_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (dt->pagemap_fd < 0) {
		int e = errno;
		mig_dirty_close(dt);
		FAIL("cannot open the guest process's page map (%s: %s)", path, strerror(e));
	}
	/* pid named our process when the pidfd was taken; still alive now,
	 * so the page map opened is its own */
	if (syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0)) {
		mig_dirty_close(dt);
		FAIL("the guest process has ended");
	}
	if (!dt->vec) {
		mig_dirty_close(dt);
		FAIL("out of memory");
	}
	if (scan(dt, NULL, err, errlen)) {
		mig_dirty_close(dt);
		return -1;
	}
	return 0;
}

int mig_dirty_harvest(struct mig_dirty *dt, uint64_t *bitmap, char *err, size_t errlen)
{
	if (dt->pagemap_fd < 0)
		FAIL("internal error: the written pages are not tracked");
	return scan(dt, bitmap, err, errlen);
}

void mig_dirty_close(struct mig_dirty *dt)
{
	if (dt->pagemap_fd >= 0)
		close(dt->pagemap_fd);
	dt->pagemap_fd = -1;
	free(dt->vec);
	dt->vec = NULL;
}
