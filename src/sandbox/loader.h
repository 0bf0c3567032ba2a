/*
 * Program loader: checks an x86-64 ELF, copies its segments into guest
 * memory and builds the initial stack (argc, argv, envp, auxv) the way Linux
 * does, so musl's and glibc's start code run unchanged.
 *
 * Accepted: ELFCLASS64, little-endian, EM_X86_64, ET_EXEC or ET_DYN (PIE,
 * loaded at LOADER_PIE_BASE).  A dynamically linked program (PT_INTERP)
 * is loaded with its interpreter, as Linux does: the interpreter (an
 * ET_DYN itself, never dynamically linked) is read from the guest's own
 * file system, through the caller's open_interp, placed in the mmap area
 * and started, with AT_BASE its address.  Everything else is refused with
 * a one-line reason; the caller exits with status 2.
 */
#ifndef OPSUB_SANDBOX_LOADER_H
#define OPSUB_SANDBOX_LOADER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "sandbox/guest_mem.h"

#define LOADER_PIE_BASE 0x400000ull
#define LOADER_MAX_SEGMENTS 16
#define LOADER_INTERP_MAX 256       /* bytes of a PT_INTERP path, its NUL included */

struct load_segment {
	uint64_t vaddr, memsz;      /* guest addresses, load bias applied */
	uint64_t offset, filesz;    /* bytes of the file to copy */
	unsigned prot;              /* GP_R | GP_W | GP_X */
};

/* What elf_check found: everything needed to load, already validated. */
struct load_plan {
	uint64_t entry;
	uint64_t phdr;              /* guest address of the program headers, 0 if not loaded */
	uint16_t phnum;
	uint64_t end;               /* first byte after the highest segment */
	bool pie;                   /* ET_DYN: placed at LOADER_PIE_BASE, may move (loader_rebase) */
	uint64_t interp_off;        /* PT_INTERP: its path in the image, a string of */
	uint32_t interp_len;        /* interp_len bytes with its NUL (0: none) */
	unsigned nseg;
	struct load_segment seg[LOADER_MAX_SEGMENTS];
};

/* Validates an ELF image of `len` bytes for a guest memory of `mem_size`
 * bytes.  Pure (reads only img).  Returns 0, or -1 with a one-line reason. */
int elf_check(const uint8_t *img, size_t len, uint64_t mem_size, struct load_plan *plan,
              char *err, size_t errlen);

struct guest_start {
	uint64_t pc;    /* entry point */
	uint64_t rsp;   /* initial stack pointer (points at argc) */
};

/* Opens a dynamically linked program's interpreter, named by its guest
 * path, for reading: a host descriptor, or -errno. */
struct loader_interp {
	int (*open)(void *arg, const char *path);
	void *arg;
};

/* Loads `path` (and, for a dynamically linked program, its interpreter
 * through interp; NULL refuses such programs) into gm and prepares the
 * stack with argv and envp (NULL-ended host string arrays).  Returns 0, or
 * -1 with a one-line reason in err. */
int loader_load(struct guest_mem *gm, const char *path, char *const argv[], char *const envp[],
                const struct loader_interp *interp, struct guest_start *start, char *err, size_t errlen);

#endif
