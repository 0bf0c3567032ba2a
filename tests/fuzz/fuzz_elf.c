/*
 * libFuzzer target for the ELF checker: elf_check() must never crash or
 * read outside the image, and every plan it accepts must keep the promises
 * loader_load relies on when it copies segments without further checks:
 *
 *   - 1 <= nseg <= LOADER_MAX_SEGMENTS;
 *   - every segment lies inside [GUEST_LOWEST, mem_size), whole pages
 *     included (the loader maps page_down(vaddr) .. page_up(vaddr+memsz));
 *   - filesz <= memsz, and offset + filesz <= len without wrapping;
 *   - end (the brk start) is inside guest memory and not below any segment;
 *   - an interpreter path (PT_INTERP) lies inside the image, is at most
 *     LOADER_INTERP_MAX bytes and is one string: its last byte NUL, no
 *     other (the loader copies it into a buffer of that size).
 *
 * Each input is checked against three guest memory sizes (the smallest, the
 * default and the largest).  The image is copied into a buffer of exactly
 * its length so ASan sees any read past it.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox/guest_mem.h"
#include "sandbox/loader.h"

static void die(const uint8_t *img, size_t len, uint64_t mem, const char *fmt, ...)
{
	(void)img;
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "\nFUZZ FAILURE: elf_check on a %zu-byte image for a %lu-byte guest: ", len, mem);
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	abort();
}

static void check_plan(const uint8_t *img, size_t len, uint64_t mem, const struct load_plan *p)
{
	if (p->nseg == 0 || p->nseg > LOADER_MAX_SEGMENTS)
		die(img, len, mem, "accepted a plan with %u segments", p->nseg);
	uint64_t top = 0;
	for (unsigned i = 0; i < p->nseg; i++) {
		const struct load_segment *s = &p->seg[i];
		if (s->filesz > s->memsz)
			die(img, len, mem, "accepted segment %u with filesz 0x%lx > memsz 0x%lx", i, s->filesz, s->memsz);
		if (s->offset > len || s->filesz > len - s->offset)
			die(img, len, mem, "accepted segment %u copying [0x%lx, +0x%lx) past the end of the file", i,
			    s->offset, s->filesz);
		if (s->memsz == 0)
			die(img, len, mem, "accepted an empty segment %u", i);
		if (page_down(s->vaddr) < GUEST_LOWEST || s->vaddr >= mem || s->memsz > mem - s->vaddr ||
		    page_up(s->vaddr + s->memsz) > mem)
			die(img, len, mem, "accepted segment %u at [0x%lx, +0x%lx), outside [0x%llx, 0x%lx)", i,
			    s->vaddr, s->memsz, GUEST_LOWEST, mem);
		if ((s->prot & ~(unsigned)(GP_R | GP_W | GP_X)) != 0)
			die(img, len, mem, "accepted segment %u with protection bits 0x%x", i, s->prot);
		if (s->vaddr + s->memsz > top)
			top = s->vaddr + s->memsz;
	}
	if (p->end != top || p->end > mem)
		die(img, len, mem, "accepted a plan ending at 0x%lx (segments end at 0x%lx)", p->end, top);
	if (p->phdr && (p->phdr < GUEST_LOWEST || p->phdr >= mem))
		die(img, len, mem, "accepted program headers at 0x%lx", p->phdr);
	if (p->interp_len &&
	    (p->interp_off > len || p->interp_len > len - p->interp_off || p->interp_len > LOADER_INTERP_MAX ||
	     img[p->interp_off + p->interp_len - 1] != 0 || strlen((const char *)img + p->interp_off) + 1 != p->interp_len))
		die(img, len, mem, "accepted an interpreter path of %u bytes at 0x%lx", p->interp_len, p->interp_off);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t sizes[] = {GUEST_MEM_MIN, GUEST_MEM_DEFAULT, GUEST_SPACE};
	uint8_t *img = malloc(size ? size : 1);
	if (!img)
		abort();
	memcpy(img, data, size);
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct load_plan plan;
		char err[256];
		memset(err, 0x5a, sizeof(err));
		int rc = elf_check(img, size, sizes[i], &plan, err, sizeof(err));
		if (rc == 0)
			check_plan(img, size, sizes[i], &plan);
		else if (rc != -1 || !memchr(err, 0, sizeof(err)) || err[0] == 0)
			die(img, size, sizes[i], "refused (rc %d) without a one-line reason", rc);
		if (memcmp(img, data, size) != 0)
			die(img, size, sizes[i], "wrote to the image");
	}
	free(img);
	return 0;
}
