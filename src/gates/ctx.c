#include "gates/ctx.h"

#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#define IBL_BYTES ((size_t)IBL_ENTRIES * 8)

/* One memfd, mapped twice: the whole context (its IBL table then remapped
 * read-only in place) and the table alone, writable, elsewhere. */
struct rt_ctx *ctx_create(uint64_t **ibl_writable)
{
	int fd = memfd_create("opsub-runtime-context", MFD_CLOEXEC);
	if (fd < 0)
		return NULL;
	void *ctx = MAP_FAILED, *table = MAP_FAILED;
	if (ftruncate(fd, CTX_SIZE) == 0)
		ctx = mmap(NULL, CTX_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (ctx != MAP_FAILED &&
	    mmap((char *)ctx + CTX_IBL_CODE, IBL_BYTES, PROT_READ, MAP_SHARED | MAP_FIXED, fd, CTX_IBL_CODE) ==
	            MAP_FAILED) {
		munmap(ctx, CTX_SIZE);
		ctx = MAP_FAILED;
	}
	if (ctx != MAP_FAILED)
		table = mmap(NULL, IBL_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, CTX_IBL_CODE);
	int saved = errno;
	close(fd);
	if (table == MAP_FAILED) {
		if (ctx != MAP_FAILED)
			munmap(ctx, CTX_SIZE);
		errno = saved;
		return NULL;
	}
	*ibl_writable = table;
	return ctx;
}

void ctx_destroy(struct rt_ctx *ctx, uint64_t *ibl_writable)
{
	if (ibl_writable)
		munmap(ibl_writable, IBL_BYTES);
	if (ctx)
		munmap(ctx, CTX_SIZE);
}
