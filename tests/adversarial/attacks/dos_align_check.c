// Attack (denial of service): set the alignment-check flag AC with popf,
// then make unaligned accesses, a system call and an indirect call, so that
// opsub's own unaligned accesses would trap (#AC) if AC reached them.
// Natively: SIGBUS on the first unaligned access (native: faults).
// Under opsub: AC is virtual (the guest's pushf shows it; the CPU never runs
// with it); the program completes or faults as a guest.
// native: faults
#include "attack.h"

static uint8_t buf[64];

int main(void)
{
	__asm__ volatile("pushfq\n orq $0x40000, (%%rsp)\n popfq" ::: "memory", "cc");
	volatile uint64_t *u = (volatile uint64_t *)(buf + 3);
	*u = 0x1122334455667788ull;
	uint64_t x = *u;
	sc0(SYS_getpid);
	int (*volatile f)(const char *) = puts;
	f("note: still running after setting AC");
	note("unaligned read %#lx", x);
	return 0;
}
