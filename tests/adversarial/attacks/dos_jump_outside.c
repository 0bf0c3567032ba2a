// Attack (denial of service / host memory corruption): jump to addresses
// outside guest memory: an unaligned one in the inaccessible part of the
// 4 GiB space (0xfffff001), exactly 4 GiB, an unaligned host-range address
// (0x7fff00000001) and a non-canonical one.  The translator must refuse to
// translate there and report a guest fault.
// Natively: SIGSEGV (native: faults).
// Under opsub: a guest fault -- not an internal error, not a hang, and no
// bookkeeping (page table, watch bits) touched outside guest memory.
// native: faults
// variants: below4g_unaligned at4g host_unaligned noncanonical
#include "attack.h"

int main(int argc, char **argv)
{
	const char *v = variant(argc, argv);
	uint64_t t;
	if (!strcmp(v, "below4g_unaligned"))
		t = 0xfffff001ull;
	else if (!strcmp(v, "at4g"))
		t = FOUR_GIB;
	else if (!strcmp(v, "host_unaligned"))
		t = 0x7fff00000001ull;
	else
		t = 0x8000000000000001ull;
	note("jumping to %#lx", t);
	__asm__ volatile("jmp *%0" : : "r"(t));
	return 0;
}
