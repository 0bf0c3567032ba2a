// Attack (denial of service): recurse until the stack overflows (no limit,
// 256-byte frames), so the guest runs off the bottom of its stack.
// Natively: SIGSEGV on the guard page (native: faults).
// Under opsub: a guest fault when the stack leaves guest memory, not an
// internal error and not a write into anything of the host.
// native: faults
#include "attack.h"

__attribute__((noinline)) static uint64_t down(uint64_t n)
{
	volatile uint8_t frame[256];
	frame[n & 255] = (uint8_t)n;
	return down(n + 1) + frame[(n * 7) & 255];
}

int main(void)
{
	printf("%lu\n", down(0));
	return 0;
}
