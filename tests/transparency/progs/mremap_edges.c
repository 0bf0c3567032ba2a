// mremap at the edges of its arguments: lengths that round up past 2^64,
// zero, unaligned addresses, unknown flags, FIXED without MAYMOVE, and a
// shrink and a grow in place; after each refused call the mapping must
// still be there with its contents.
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static long mremap5(void *old, uint64_t olen, uint64_t nlen, uint64_t flags, uint64_t fixed)
{
	long r = syscall(SYS_mremap, old, olen, nlen, flags, fixed);
	return r == -1 ? -errno : 0;   /* addresses differ natively and under opsub: only errors are printed */
}

int main(void)
{
	char *p = mmap(NULL, 0x4000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	p[0] = 'a';
	p[0x3000] = 'z';
	static const struct { const char *what; uint64_t olen, nlen, flags; int off; } cases[] = {
		{"new length rounding past 2^64", 0x1000, UINT64_MAX - 10, 0, 0},
		{"new length 2^64 - 4096 + 1", 0x1000, UINT64_MAX - 4094, MREMAP_MAYMOVE, 0},
		{"new length 0", 0x1000, 0, 0, 0},
		{"unaligned address", 0x1000, 0x2000, 0, 1},
		{"unknown flag", 0x1000, 0x2000, 0x80, 0},
		{"FIXED without MAYMOVE", 0x1000, 0x2000, MREMAP_FIXED, 0},
	};
	for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		long r = mremap5(p + cases[i].off, cases[i].olen, cases[i].nlen, cases[i].flags, 0);
		printf("%-32s %ld, still mapped: %c %c\n", cases[i].what, r, p[0], p[0x3000]);
	}
	printf("shrink in place: %ld\n", mremap5(p, 0x4000, 0x2000, 0, 0));
	printf("first page kept: %c\n", p[0]);
	return 0;
}
