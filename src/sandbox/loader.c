#include "sandbox/loader.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gates/cpu_model.h"

/* Room kept free between the program and the stack, for brk and mmap. */
#define LOADER_HEADROOM (GUEST_STACK_SIZE + (32ull << 20))

int elf_check(const uint8_t *img, size_t len, uint64_t mem_size, struct load_plan *plan,
              char *err, size_t errlen)
{
	memset(plan, 0, sizeof(*plan));
	if (len < EI_NIDENT || memcmp(img, ELFMAG, SELFMAG) != 0) {
		snprintf(err, errlen, "not an ELF file");
		return -1;
	}
	if (img[EI_CLASS] != ELFCLASS64) {
		snprintf(err, errlen, "not a 64-bit ELF: opsub runs x86-64 programs only");
		return -1;
	}
	if (len < sizeof(Elf64_Ehdr)) {
		snprintf(err, errlen, "truncated ELF: the file ends inside the ELF header");
		return -1;
	}
	Elf64_Ehdr eh;
	memcpy(&eh, img, sizeof(eh));
	if (img[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64) {
		snprintf(err, errlen, "wrong architecture (ELF machine %u): opsub runs x86-64 programs only",
		         eh.e_machine);
		return -1;
	}
	if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) {
		snprintf(err, errlen, "not an executable (ELF type %u): give a linked program", eh.e_type);
		return -1;
	}
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 ||
	    eh.e_phoff > len || (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr) > len - eh.e_phoff) {
		snprintf(err, errlen, "truncated ELF: the program headers lie past the end of the file");
		return -1;
	}
	uint64_t lo = UINT64_MAX, hi = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		Elf64_Phdr ph;
		memcpy(&ph, img + eh.e_phoff + i * sizeof(ph), sizeof(ph));
		if (ph.p_type == PT_INTERP) {
			if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset || ph.p_filesz < 2 ||
			    ph.p_filesz > LOADER_INTERP_MAX || img[ph.p_offset + ph.p_filesz - 1] != 0 ||
			    memchr(img + ph.p_offset, 0, ph.p_filesz - 1)) {
				snprintf(err, errlen, "malformed ELF: its interpreter (PT_INTERP) is not a path of at most %d bytes",
				         LOADER_INTERP_MAX - 1);
				return -1;
			}
			plan->interp_off = ph.p_offset;
			plan->interp_len = (uint32_t)ph.p_filesz;
			continue;
		}
		if (ph.p_type != PT_LOAD || ph.p_memsz == 0)
			continue;
		if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset) {
			snprintf(err, errlen, "truncated ELF: segment %u extends past the end of the file", i);
			return -1;
		}
		if (ph.p_filesz > ph.p_memsz || ph.p_vaddr > GUEST_SPACE || ph.p_memsz > GUEST_SPACE) {
			snprintf(err, errlen, "malformed ELF: segment %u has impossible sizes", i);
			return -1;
		}
		if (plan->nseg == LOADER_MAX_SEGMENTS) {
			snprintf(err, errlen, "ELF has more than %d loadable segments", LOADER_MAX_SEGMENTS);
			return -1;
		}
		struct load_segment *s = &plan->seg[plan->nseg++];
		s->vaddr = ph.p_vaddr;
		s->memsz = ph.p_memsz;
		s->offset = ph.p_offset;
		s->filesz = ph.p_filesz;
		s->prot = ((ph.p_flags & PF_R) ? GP_R : 0) | ((ph.p_flags & PF_W) ? GP_W : 0) |
		          ((ph.p_flags & PF_X) ? GP_X : 0);
		if (ph.p_vaddr < lo)
			lo = ph.p_vaddr;
		if (ph.p_vaddr + ph.p_memsz > hi)
			hi = ph.p_vaddr + ph.p_memsz;
		if (eh.e_phoff >= ph.p_offset && eh.e_phoff - ph.p_offset < ph.p_filesz)
			plan->phdr = ph.p_vaddr + (eh.e_phoff - ph.p_offset);
	}
	if (plan->nseg == 0) {
		snprintf(err, errlen, "ELF has no loadable segment");
		return -1;
	}
	uint64_t bias = eh.e_type == ET_DYN ? LOADER_PIE_BASE - page_down(lo) : 0;
	uint64_t limit = mem_size > LOADER_HEADROOM ? mem_size - LOADER_HEADROOM : 0;
	if (page_down(lo) + bias < GUEST_LOWEST || hi + bias > limit) {
		snprintf(err, errlen, "segments at 0x%lx-0x%lx lie outside guest memory "
		         "[0x%llx, 0x%lx): the sandbox is 4 GiB at most (see --mem)",
		         lo + bias, hi + bias, GUEST_LOWEST, limit);
		return -1;
	}
	for (unsigned i = 0; i < plan->nseg; i++)
		plan->seg[i].vaddr += bias;
	plan->entry = eh.e_entry + bias;
	plan->phdr = plan->phdr ? plan->phdr + bias : 0;
	plan->phnum = eh.e_phnum;
	plan->end = hi + bias;
	plan->pie = eh.e_type == ET_DYN;
	return 0;
}

/* Moves a PIE's plan from LOADER_PIE_BASE to base. */
static void rebase(struct load_plan *plan, uint64_t base)
{
	uint64_t delta = base - LOADER_PIE_BASE;
	for (unsigned i = 0; i < plan->nseg; i++)
		plan->seg[i].vaddr += delta;
	plan->entry += delta;
	plan->phdr = plan->phdr ? plan->phdr + delta : 0;
	plan->end += delta;
}

/* The protection a loaded page gets: the union of those of the segments
 * on it (segments may share pages). */
static unsigned page_prot(const struct load_plan *plan, uint64_t p)
{
	unsigned prot = 0;
	for (unsigned j = 0; j < plan->nseg; j++) {
		const struct load_segment *t = &plan->seg[j];
		if (p + GUEST_PAGE > page_down(t->vaddr) && p < page_up(t->vaddr + t->memsz))
			prot |= t->prot;
	}
	return prot;
}

/* Maps the union of the segments writable, copies, then gives each page
 * page_prot.  Runs of pages go to gm_map and gm_protect in one call each.
 * The bytes go in through the memfd (gm_fill), which faults nothing in;
 * where that cannot be, the pages are populated before the copy: a
 * system call per page, or a fault per page, costs about 10 us on some
 * hosts. */
static int load_segments(struct guest_mem *gm, const uint8_t *img, const struct load_plan *plan)
{
	for (unsigned i = 0; i < plan->nseg; i++) {
		const struct load_segment *s = &plan->seg[i];
		uint64_t a = page_down(s->vaddr), b = page_up(s->vaddr + s->memsz);
		for (uint64_t p = a; p < b;) {
			uint64_t q = p;
			while (q < b && !gm_access_ok(gm, q, GUEST_PAGE, GP_R))
				q += GUEST_PAGE;
			if (q > p && gm_map(gm, p, q - p, GP_R | GP_W))
				return -1;
			p = q > p ? q : p + GUEST_PAGE;
		}
	}
	for (unsigned i = 0; i < plan->nseg; i++) {
		const struct load_segment *s = &plan->seg[i];
		uint64_t done = gm_fill(gm, s->vaddr, img + s->offset, s->filesz);
		if (done < s->filesz) {
			madvise(guest_ptr(s->vaddr + done), s->filesz - done, MADV_POPULATE_WRITE);   /* saves time only */
			memcpy(guest_ptr(s->vaddr + done), img + s->offset + done, s->filesz - done);
		}
	}
	for (unsigned i = 0; i < plan->nseg; i++) {
		const struct load_segment *s = &plan->seg[i];
		uint64_t b = page_up(s->vaddr + s->memsz);
		for (uint64_t p = page_down(s->vaddr); p < b;) {
			unsigned prot = page_prot(plan, p);
			uint64_t q = p + GUEST_PAGE;
			while (q < b && page_prot(plan, q) == prot)
				q += GUEST_PAGE;
			gm_protect(gm, p, q - p, prot);
			p = q;
		}
	}
	return 0;
}

/* Builds the initial stack at the top of guest memory; returns rsp. */
static uint64_t build_stack(struct guest_mem *gm, const struct load_plan *plan, uint64_t interp_base,
                            const char *execfn, char *const argv[], char *const envp[])
{
	uint64_t top = gm->size, sp = top;
	gm_map(gm, top - GUEST_STACK_SIZE, GUEST_STACK_SIZE, GP_R | GP_W);

#define PUSH_BYTES(p, n) (sp -= (n), memcpy(guest_ptr(sp), (p), (n)), sp)
	int argc = 0, envc = 0;
	while (argv[argc])
		argc++;
	while (envp[envc])
		envc++;
	uint64_t *argp = calloc((size_t)argc + 1, 8), *envpp = calloc((size_t)envc + 1, 8);
	uint64_t fn = PUSH_BYTES(execfn, strlen(execfn) + 1);
	for (int i = envc - 1; i >= 0; i--)
		envpp[i] = PUSH_BYTES(envp[i], strlen(envp[i]) + 1);
	for (int i = argc - 1; i >= 0; i--)
		argp[i] = PUSH_BYTES(argv[i], strlen(argv[i]) + 1);
	uint64_t platform = PUSH_BYTES("x86_64", 7);
	uint8_t rnd[16];
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		memset(rnd, 0x5a, sizeof(rnd));
	uint64_t random = PUSH_BYTES(rnd, sizeof(rnd));

	uint64_t auxv[][2] = {
		{AT_PHDR, plan->phdr}, {AT_PHENT, sizeof(Elf64_Phdr)}, {AT_PHNUM, plan->phnum},
		{AT_PAGESZ, GUEST_PAGE}, {AT_BASE, interp_base}, {AT_FLAGS, 0}, {AT_ENTRY, plan->entry},
		{AT_UID, getuid()}, {AT_EUID, getuid()}, {AT_GID, getgid()}, {AT_EGID, getgid()},
		{AT_SECURE, 0}, {AT_CLKTCK, 100}, {AT_HWCAP, cpuid_hwcap()}, {AT_HWCAP2, 0},
		{AT_RANDOM, random}, {AT_PLATFORM, platform}, {AT_EXECFN, fn}, {AT_NULL, 0},
	};
	size_t words = 1 + (size_t)argc + 1 + (size_t)envc + 1 + 2 * (sizeof(auxv) / sizeof(auxv[0]));
	sp = (sp - words * 8) & ~15ull;
	uint64_t *w = guest_ptr(sp);
	*w++ = (uint64_t)argc;
	for (int i = 0; i < argc; i++)
		*w++ = argp[i];
	*w++ = 0;
	for (int i = 0; i < envc; i++)
		*w++ = envpp[i];
	*w++ = 0;
	memcpy(w, auxv, sizeof(auxv));
#undef PUSH_BYTES
	free(argp);
	free(envpp);
	return sp;
}

/* Maps the whole file behind fd (closed here) read-only: 0 with *img and
 * *len (munmap(*img, *len ? *len : 1) when done), or -1 with a reason
 * naming `name`.  The page cache's pages themselves, populated at once:
 * no copy (a compiler's executable is 33 MB).  elf_check reads each header
 * once into its own copy; the segments' bytes are the guest's anyway, and
 * a file cut short meanwhile ends this process with SIGBUS, as it ends a
 * native process that touches the lost pages. */
static int read_image(int fd, const char *name, uint8_t **img, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (off_t)GUEST_SPACE) {
		snprintf(err, errlen, "%s is not a regular file of at most 4 GiB", name);
		close(fd);
		return -1;
	}
	*len = (size_t)st.st_size;
	*img = *len ? mmap(NULL, *len, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)
	            : mmap(NULL, 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	close(fd);
	if (*img == MAP_FAILED) {
		snprintf(err, errlen, "cannot read %s: %s", name, strerror(errno));
		return -1;
	}
	return 0;
}

/* Checks the interpreter's image and maps it in the mmap area, as Linux
 * does: NULL, or what is wrong with it (elf_check's reason goes to why). */
static const char *map_interp(struct guest_mem *gm, const uint8_t *img, size_t len, uint64_t *base,
                              uint64_t *entry, char *why, size_t whylen)
{
	struct load_plan plan;
	if (elf_check(img, len, gm->size, &plan, why, whylen))
		return why;
	if (!plan.pie)   /* its own PT_INTERP, if any, is ignored, as Linux does */
		return "not position-independent (ET_DYN)";
	*base = gm_find_free(gm, page_up(plan.end) - LOADER_PIE_BASE);
	if (!*base)
		return "too large for guest memory (see --mem)";
	rebase(&plan, *base);
	if (load_segments(gm, img, &plan))
		return "not mappable";
	*entry = plan.entry;
	return NULL;
}

/* Loads the interpreter `path`: *base its address, *entry where it starts. */
static int load_interp(struct guest_mem *gm, const struct loader_interp *interp, const char *path,
                       uint64_t *base, uint64_t *entry, char *err, size_t errlen)
{
	int fd = interp ? interp->open(interp->arg, path) : -ENOSYS;
	if (fd < 0) {
		snprintf(err, errlen, "dynamically linked program, and its interpreter %s is %s: give the guest the "
		         "host's libraries (--host-libs) or build it static (gcc -static or musl-gcc -static)",
		         path, fd == -ENOSYS ? "not available here" : "not in the guest's file system");
		return -1;
	}
	uint8_t *img;
	size_t len;
	char why[256];
	if (read_image(fd, path, &img, &len, err, errlen))
		return -1;
	const char *wrong = map_interp(gm, img, len, base, entry, why, sizeof(why));
	munmap(img, len ? len : 1);
	if (wrong)
		snprintf(err, errlen, "its interpreter %s: %s", path, wrong);
	return wrong ? -1 : 0;
}

int loader_load(struct guest_mem *gm, const char *path, char *const argv[], char *const envp[],
                const struct loader_interp *interp, struct guest_start *start, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	uint8_t *img;
	size_t len;
	if (read_image(fd, path, &img, &len, err, errlen))
		return -1;
	struct load_plan plan;
	char interp_path[LOADER_INTERP_MAX] = "";
	int rc = elf_check(img, len, gm->size, &plan, err, errlen);
	if (rc == 0 && load_segments(gm, img, &plan) != 0) {
		snprintf(err, errlen, "cannot map the segments of %s", path);
		rc = -1;
	}
	if (rc == 0 && plan.interp_len) {   /* checked a path, but the file may have changed since */
		memcpy(interp_path, img + plan.interp_off, plan.interp_len);
		interp_path[plan.interp_len - 1] = 0;
	}
	munmap(img, len ? len : 1);
	if (rc)
		return -1;
	gm->brk_start = gm->brk = page_up(plan.end);
	uint64_t base = 0, pc = plan.entry;
	if (interp_path[0] && load_interp(gm, interp, interp_path, &base, &pc, err, errlen))
		return -1;
	start->pc = pc;
	start->rsp = build_stack(gm, &plan, base, path, argv, envp);
	return 0;
}
