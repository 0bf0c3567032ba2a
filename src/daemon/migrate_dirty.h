/*
 * Finding the pages a guest wrote (docs/migration.md, "Dirty pages are the
 * daemon's to find"): the guest process registers its guest memory with
 * userfaultfd in asynchronous write-protect mode at boot; the daemon scans
 * that memory through /proc/PID/pagemap with PAGEMAP_SCAN (pagemap_scan.h),
 * which reports the pages written since the last scan and protects them
 * again in the same step.  Writes by guest instructions, by the trusted
 * driver and by the kernel on the guest's behalf (a read(2) into guest
 * memory) are all seen; the NIC's DMA and the paravirt backend write
 * through the daemon's own mapping and have their own log (nic.h).
 *
 * Guest memory is at guest address = host address in the guest process
 * (sandbox/guest_mem.h: base 0), from GUEST_LOWEST to its size; page n of
 * a bitmap is the page at address n * 4096 (= offset in the memory file).
 * Used by one thread at a time.
 */
#ifndef OPSUB_DAEMON_MIGRATE_DIRTY_H
#define OPSUB_DAEMON_MIGRATE_DIRTY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct page_region;

struct mig_dirty {
	int pagemap_fd;               /* -1: closed */
	uint64_t start, end;          /* the guest memory's addresses in its process */
	struct page_region *vec;      /* the kernel's answer, MIG_DIRTY_VEC regions */
};

/* Opens the pagemap of process pid (pidfd: the same process, to tell that
 * pid was not reused) for a memory of mem_size bytes, and makes the first
 * scan: every page is protected, nothing reported.  0, or -1 with a
 * one-line reason (a kernel before 6.7, a guest process that did not
 * register its memory, a process that is gone); the guest is untouched. */
int mig_dirty_start(struct mig_dirty *dt, pid_t pid, int pidfd, uint64_t mem_size, char *err, size_t errlen);
/* ORs the pages written since the previous scan into bitmap (a bit per
 * page of the memory) and protects them again.  0, or -1 with a reason. */
int mig_dirty_harvest(struct mig_dirty *dt, uint64_t *bitmap, char *err, size_t errlen);
/* Closes the pagemap; the pages stay protected (each costs one minor
 * fault at its next write, nothing more).  Safe on a closed one. */
void mig_dirty_close(struct mig_dirty *dt);

#endif
