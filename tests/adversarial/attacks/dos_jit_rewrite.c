// Attack (denial of service): a JIT that rewrites and runs the same code
// page 100000 times (each time a different constant), so every run has to
// invalidate and retranslate.  Also checks each result (a stale translation
// would return an old constant).
// Natively: completes (DONE).
// Under opsub: must complete too, with the right results, in bounded time.
// native: completes
#include "attack.h"

int main(void)
{
	uint8_t *p = rwx(4096, 0);
	int stale = 0;
	for (uint32_t i = 0; i < 100000; i++) {
		p[0] = 0xb8;                      /* mov eax, imm32; ret */
		memcpy(p + 1, &i, 4);
		p[5] = 0xc3;
		uint32_t r = ((uint32_t (*)(void))p)();
		if (r != i && stale++ < 3)
			note("iteration %u returned %u (stale code)", i, r);
	}
	printf("DONE stale=%d\n", stale);
	return 0;
}
