#include "gates/ctx.h"
#include "gates/xsave_layout.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TABLE_BYTES ((size_t)CTX_SIZE - CTX_IBL_CODE)   /* the IBL and switch tables */
#define IBL_BYTES ((size_t)IBL_ENTRIES * 8)

static_assert(CTX_XSTATE_BV == CTX_XSAVE + XSAVE_HEADER, "gate.S reads XSTATE_BV there");

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
	    mmap((char *)ctx + CTX_IBL_CODE, TABLE_BYTES, PROT_READ, MAP_SHARED | MAP_FIXED, fd, CTX_IBL_CODE) ==
	            MAP_FAILED) {
		munmap(ctx, CTX_SIZE);
		ctx = MAP_FAILED;
	}
	if (ctx != MAP_FAILED)
		table = mmap(NULL, TABLE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, fd, CTX_IBL_CODE);
	if (table != MAP_FAILED)
		/* the IBL table's pages at once: every entry is written next
		 * (tr_cache_reset); a switch table's as it is filled */
		madvise(table, IBL_BYTES, MADV_POPULATE_WRITE);
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
		munmap(ibl_writable, TABLE_BYTES);
	if (ctx)
		munmap(ctx, CTX_SIZE);
}

uint8_t *ctx_xsave_image(struct rt_ctx *ctx)
{
	if (ctx->fpu_form == FPU_FORM_FX || ctx->fpu_form == FPU_FORM_FX_XMM) {
		/* FXSAVE wrote the legacy region (x87, MXCSR, xmm0-15) in place */
		uint8_t *x = ctx->xsave;
		uint64_t components = 3;
		if (ctx->fpu_form == FPU_FORM_FX) {
			for (int i = 0; i < 16; i++)
				memcpy(x + XSAVE_YMM_HI + 16 * i, ctx->ymm[i] + 16, 16);
			components |= 4;
		}
		memset(x + XSAVE_HEADER, 0, 64);
		memcpy(x + XSAVE_HEADER, &components, 8);
		ctx->fpu_form = FPU_FORM_XSAVE;
	}
	if (ctx->fpu_form != FPU_FORM_XSAVE) {
		/* x87 in its initial configuration: its XSTATE_BV bit stays clear,
		 * as does AVX's where the upper halves are initial too */
		uint8_t *x = ctx->xsave;
		static const uint16_t fcw_init = 0x37f;
		uint64_t components = ctx->fpu_form == FPU_FORM_LIGHT ? 6 : 2;
		memset(x, 0, XSAVE_YMM_HI + 256);
		memcpy(x + XSAVE_FCW, &fcw_init, 2);
		memcpy(x + XSAVE_MXCSR, &ctx->mxcsr, 4);
		for (int i = 0; i < 16; i++) {
			memcpy(x + XSAVE_XMM + 16 * i, ctx->ymm[i], 16);
			memcpy(x + XSAVE_YMM_HI + 16 * i, ctx->ymm[i] + 16, 16);
		}
		memcpy(x + XSAVE_HEADER, &components, 8);
		ctx->fpu_form = FPU_FORM_XSAVE;
	}
	return ctx->xsave;
}

int ctx_xsave_check(const uint8_t *x, uint32_t mxcsr_mask, char *why, size_t whylen)
{
	uint32_t mxcsr;
	uint64_t xstate_bv;
	memcpy(&mxcsr, x + XSAVE_MXCSR, 4);
	memcpy(&xstate_bv, x + XSAVE_HEADER, 8);
	if (mxcsr & ~mxcsr_mask) {
		if (why)
			snprintf(why, whylen, "MXCSR 0x%x sets bits this host reserves (mask 0x%x)", mxcsr, mxcsr_mask);
		return -1;
	}
	if (xstate_bv & ~(uint64_t)CTX_XSAVE_MASK) {
		if (why)
			snprintf(why, whylen, "the XSAVE header holds state 0x%lx outside x87, SSE and AVX", xstate_bv);
		return -1;
	}
	for (unsigned i = 8; i < 64; i++)
		if (x[XSAVE_HEADER + i]) {
			if (why)
				snprintf(why, whylen, "the XSAVE header is not in the standard format (byte %u is not 0)", i);
			return -1;
		}
	return 0;
}
