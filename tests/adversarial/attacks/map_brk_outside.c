// Attack: move the program break above 4 GiB (and far above), then touch the
// memory there.
// Natively: brk moves past 4 GiB and the page above 4 GiB is usable
// (ESCAPED).
// Under opsub: brk refuses (returns the old break) -- the heap must stay
// inside guest memory.
#include "attack.h"

int main(void)
{
	uint64_t cur = (uint64_t)sc1(SYS_brk, 0);
	note("brk(0) = %#lx", cur);
	static const uint64_t wants[] = {FOUR_GIB + 0x2000, SECRET_ADDR + 0x100000, 0xffffffffffff0000ull};
	for (size_t i = 0; i < 3; i++) {
		uint64_t r = (uint64_t)sc1(SYS_brk, wants[i]);
		note("brk(%#lx) = %#lx", wants[i], r);
		if (r == wants[i] && r > FOUR_GIB) {
			volatile uint64_t *p = (volatile uint64_t *)(uintptr_t)(FOUR_GIB > cur ? FOUR_GIB : r - 8);
			*p = 0xb7c;
			escaped("the break moved to %#lx and %p is usable", r, (void *)p);
			sc1(SYS_brk, cur);
		}
	}
	return 0;
}
