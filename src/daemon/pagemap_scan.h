/*
 * The PAGEMAP_SCAN ioctl of /proc/PID/pagemap (Linux 6.7 and later), as the
 * kernel defines it in include/uapi/linux/fs.h.  The C library headers of
 * older distributions (Debian 12) lack it, so the ABI is spelled out here;
 * the values are the kernel's and never change (a uapi).
 *
 * migrate_dirty.c uses it on guest memory registered with userfaultfd in
 * asynchronous write-protect mode (docs/migration.md): a scan with
 * PM_SCAN_WP_MATCHING | PM_SCAN_CHECK_WPASYNC and category PAGE_IS_WRITTEN
 * returns the pages written since the previous scan and write-protects
 * them again, atomically.
 */
#ifndef OPSUB_DAEMON_PAGEMAP_SCAN_H
#define OPSUB_DAEMON_PAGEMAP_SCAN_H

#include <stdint.h>
#include <sys/ioctl.h>

/* One run of pages [start, end) with the same categories. */
struct page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

struct pm_scan_arg {
	uint64_t size;                /* sizeof(struct pm_scan_arg) */
	uint64_t flags;               /* PM_SCAN_* */
	uint64_t start, end;          /* the range to walk */
	uint64_t walk_end;            /* out: where the walk stopped (end once it is whole) */
	uint64_t vec;                 /* struct page_region[vec_len] for the result */
	uint64_t vec_len;
	uint64_t max_pages;           /* 0: no limit */
	uint64_t category_inverted;
	uint64_t category_mask;       /* pages must have all of these ... */
	uint64_t category_anyof_mask; /* ... and one of these, if any */
	uint64_t return_mask;         /* categories reported in the regions */
};

#define PAGEMAP_SCAN          _IOWR('f', 16, struct pm_scan_arg)
#define PM_SCAN_WP_MATCHING   (1u << 0)   /* write-protect the pages that match */
#define PM_SCAN_CHECK_WPASYNC (1u << 1)   /* fail unless the range is in async write-protect mode */
#define PAGE_IS_WRITTEN       (1u << 1)   /* written since it was last write-protected */

#endif
