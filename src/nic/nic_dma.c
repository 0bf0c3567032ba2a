/*
 * nic_dma.c: the device address space. A window is a 4 GiB-aligned slot of
 * device addresses backed by host memory. The engine reads the table
 * without locks: a window's size is published last (release) and withdrawn
 * first, so the engine never sees a size without its host pointer.
 */
#include "nic/nic_internal.h"

#include <stdio.h>

static void engine_quiesce(struct nic *nic, unsigned unused)
{
	/* Nothing to do: being called at all means the engine is between
	 * iterations, holding no translated pointer. */
	(void)nic;
	(void)unused;
}

int nic_window_map(struct nic *nic, unsigned index, void *host_ptr,
                   uint64_t size, char *err, size_t errlen)
{
	if (index >= NIC_MAX_WINDOWS || !host_ptr || size == 0 ||
	    size > (1ull << NIC_WINDOW_SHIFT)) {
		snprintf(err, errlen, "bad DMA window %u (size %llu): index "
		         "must be < %u, size 1 byte..4 GiB, memory non-NULL",
		         index, (unsigned long long)size, NIC_MAX_WINDOWS);
		return -1;
	}
	pthread_mutex_lock(&nic->ctl_lock);
	struct dma_window *w = &nic->windows[index];
	int rc = -1;
	if (w->size) {
		snprintf(err, errlen, "DMA window %u is already mapped: unmap "
		         "it first", index);
	} else {
		w->host = host_ptr;
		__atomic_store_n(&w->size, size, __ATOMIC_RELEASE);
		rc = 0;
	}
	pthread_mutex_unlock(&nic->ctl_lock);
	return rc;
}

int nic_window_unmap(struct nic *nic, unsigned index, char *err,
                     size_t errlen)
{
	if (index >= NIC_MAX_WINDOWS) {
		snprintf(err, errlen, "bad DMA window %u: index must be < %u",
		         index, NIC_MAX_WINDOWS);
		return -1;
	}
	pthread_mutex_lock(&nic->ctl_lock);
	struct dma_window *w = &nic->windows[index];
	int rc = -1;
	if (!w->size) {
		snprintf(err, errlen, "DMA window %u is not mapped", index);
	} else {
		__atomic_store_n(&w->size, 0, __ATOMIC_RELEASE);
		nic_engine_call(nic, engine_quiesce, 0);
		w->host = NULL;
		dirty_log_end(nic, index);   /* nothing can write there now */
		rc = 0;
	}
	pthread_mutex_unlock(&nic->ctl_lock);
	return rc;
}
